/*
 * ctl: what every stockctl command shares: the command table and its dispatcher, the setup a
 * command declares (configuration, database), error printing and option parsing.
 * Exit status of every command: CTL_OK done, CTL_FAIL failure or invalid value, CTL_USAGE usage.
 */
#ifndef STOCK_CTL_CTL_H
#define STOCK_CTL_CTL_H

#include <stdint.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/db.h"
#include "core/err.h"

#define CTL_OK    0
#define CTL_FAIL  1
#define CTL_USAGE 2

/* What a command needs before it runs, declared in its table entry. */
#define CTL_NEED_CONFIG 0x1                     /* c->cf loaded, c->a and c->db ready */
#define CTL_NEED_DB     (0x2 | CTL_NEED_CONFIG) /* and c->db connected */

struct ctl;

/*
 * One command: "migrate" (sub NULL), or one subcommand of a group such as "tenant create"
 * (name "tenant", sub "create"). run gets the arguments after the command words.
 */
struct ctl_cmd {
    const char *name;
    const char *sub;
    int (*run)(struct ctl *c, int argc, char **argv);
    unsigned need; /* CTL_NEED_* */
};

/* The state of one stockctl run; zero it before ctl_dispatch. */
struct ctl {
    struct config cf;
    struct db db;
    struct arena *a;
    const struct ctl_cmd *cmd; /* the command being run, set by ctl_dispatch */
};

/*
 * Runs the command of table cmds (ended by a NULL name) that argv names (argv[0] the command
 * word, argc >= 1), then releases what its setup acquired. An unknown command or a group without
 * a known subcommand is a usage error. Returns the command's exit status.
 */
int ctl_dispatch(struct ctl *c, const struct ctl_cmd *cmds, int argc, char **argv);

/*
 * The setup the running command declared (c->cmd->need), once its arguments are checked:
 * argument errors come before configuration and connection errors. Loads the configuration
 * (the environment, then $STOCK_ENV_FILE or .env) and connects to the database as declared.
 * Returns CTL_OK, or CTL_FAIL after printing why; ctl_dispatch releases either way.
 */
int ctl_start(struct ctl *c) __attribute__((warn_unused_result));

/* A bounded, printable copy of user input for an error message (a static buffer: one use per
 * message). */
const char *ctl_shown(const char *s);

/* Prints "stockctl: ..." to standard error and returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "stockctl: ..." and the --help hint to standard error, and returns CTL_USAGE. */
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A database failure: "what: " the client-safe message, then libpq's text (this is an admin
 * tool). Returns CTL_FAIL. */
int ctl_fail_db(const char *what, const struct app_err *err);

/* One option of a command: "--name VALUE" or "--name=VALUE" sets *value (a pointer into argv). */
struct ctl_opt {
    const char *name; /* without the leading "--" */
    const char **value;
};

/*
 * Parses argv into the options opts (ended by a NULL name) and at most maxpos positional
 * arguments, stored in pos (pointers into argv), their number in *npos. Returns 0, or
 * CTL_USAGE after printing why.
 */
int ctl_parse(int argc, char **argv, const struct ctl_opt *opts, const char **pos, int maxpos,
              int *npos) __attribute__((warn_unused_result));

/*
 * Parses s, the value of option --name: a decimal integer from min to max, digits only, into
 * *out. Returns 0, or CTL_FAIL after printing why.
 */
int ctl_parse_count(const char *name, const char *s, long long min, long long max, long long *out)
    __attribute__((warn_unused_result));

/* The id of the tenant with slug, or -1 after printing why (needs CTL_NEED_DB). */
int64_t ctl_tenant_id(struct ctl *c, const char *slug);

#endif
