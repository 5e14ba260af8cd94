/*
 * ctl: the stockctl dispatcher and what its commands share (setup and teardown, error
 * printing, option parsing, the tenant lookup).
 */
#include "ctl/ctl.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

const char *ctl_shown(const char *s)
{
    static char shown[84];
    size_t i, j = 0;

    for (i = 0; s[i] && j < sizeof(shown) - 4; i++)
        shown[j++] = isprint((unsigned char)s[i]) ? s[i] : '?';
    if (s[i]) {
        memcpy(shown + j, "...", 3);
        j += 3;
    }
    shown[j] = '\0';
    return shown;
}

/* "stockctl: " and the message, to standard error, without a newline. */
static void ctl_vsay(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void ctl_vsay(const char *fmt, va_list ap)
{
    fputs("stockctl: ", stderr);
    vfprintf(stderr, fmt, ap);
}

int ctl_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ctl_vsay(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_FAIL;
}

int ctl_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ctl_vsay(fmt, ap);
    va_end(ap);
    fputs("\nTry 'stockctl --help'.\n", stderr);
    return CTL_USAGE;
}

int ctl_fail_db(const char *what, const struct app_err *err)
{
    if (err->detail[0])
        return ctl_fail("%s: %s (%s)", what, err->msg, err->detail);
    return ctl_fail("%s: %s", what, err->msg);
}

int ctl_parse(int argc, char **argv, const struct ctl_opt *opts, const char **pos, int maxpos,
              int *npos)
{
    int i, j;

    *npos = 0;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq;
        size_t len;

        if (strncmp(arg, "--", 2) || !arg[2]) {
            if (*npos >= maxpos)
                return ctl_usage("unexpected argument '%s'", ctl_shown(arg));
            pos[(*npos)++] = arg;
            continue;
        }
        arg += 2;
        eq = strchr(arg, '=');
        len = eq ? (size_t)(eq - arg) : strlen(arg);
        for (j = 0; opts[j].name; j++)
            if (strlen(opts[j].name) == len && !strncmp(opts[j].name, arg, len))
                break;
        if (!opts[j].name)
            return ctl_usage("unknown option '--%s'", ctl_shown(arg));
        if (eq) {
            *opts[j].value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return ctl_usage("option '--%s' needs a value", opts[j].name);
            *opts[j].value = argv[++i];
        }
    }
    return 0;
}

int ctl_parse_count(const char *name, const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v = -1;

    errno = 0;
    if (isdigit((unsigned char)s[0])) {
        v = strtoll(s, &end, 10);
        if (errno || *end)
            v = -1;
    }
    if (v < min || v > max)
        return ctl_fail("invalid --%s '%s': expected a whole number from %lld to %lld", name,
                        ctl_shown(s), min, max);
    *out = v;
    return 0;
}

int ctl_start(struct ctl *c)
{
    const char *env_file = getenv("STOCK_ENV_FILE");
    char errbuf[512];
    struct app_err err;

    assert(c->cmd && !c->a);
    if (!(c->cmd->need & CTL_NEED_CONFIG))
        return CTL_OK;
    if (!env_file || !*env_file)
        env_file = ".env";
    if (config_load_env(&c->cf, env_file, errbuf, sizeof(errbuf)))
        return ctl_fail("%s", errbuf);
    /* The CLI reports failures itself: the workers' warnings would only repeat them. */
    log_set_level(c->cf.log_level == LOG_DEBUG ? LOG_DEBUG : LOG_ERROR);
    db_init(&c->db, c->cf.database_url);
    db_set_unnamed(&c->db, c->cf.db_unnamed);
    c->a = arena_new();
    if ((c->cmd->need & CTL_NEED_DB) != CTL_NEED_DB)
        return CTL_OK;
    err_clear(&err);
    if (db_connect(&c->db, &err))
        return ctl_fail_db("cannot connect to the database", &err);
    return CTL_OK;
}

/* Releases what ctl_start acquired, whether it succeeded or not. */
static void ctl_finish(struct ctl *c)
{
    if (c->a) {
        arena_free(c->a);
        db_release(&c->db);
        c->a = NULL;
    }
}

int ctl_dispatch(struct ctl *c, const struct ctl_cmd *cmds, int argc, char **argv)
{
    const char *name = argv[0], *sub = argc > 1 ? argv[1] : "";
    const struct ctl_cmd *cmd;
    bool group = false;
    int rc;

    for (cmd = cmds; cmd->name; cmd++) {
        if (strcmp(cmd->name, name))
            continue;
        if (cmd->sub) {
            group = true;
            if (strcmp(cmd->sub, sub))
                continue;
        }
        c->cmd = cmd;
        rc = cmd->sub ? cmd->run(c, argc - 2, argv + 2) : cmd->run(c, argc - 1, argv + 1);
        ctl_finish(c);
        return rc;
    }
    if (!group)
        return ctl_usage("unknown command '%s'", ctl_shown(name));
    if (!*sub)
        return ctl_usage("'%s' needs a subcommand", name);
    return ctl_usage("unknown command '%s %s'", name, ctl_shown(sub));
}

int64_t ctl_tenant_id(struct ctl *c, const char *slug)
{
    const char *params[1] = {slug};
    struct app_err err;
    PGresult *res;

    err_clear(&err);
    res = db_exec(&c->db, c->a, "SELECT id FROM tenants WHERE slug = $1", 1, params, &err);
    if (!res) {
        ctl_fail_db("cannot look the tenant up", &err);
        return -1;
    }
    if (PQntuples(res) != 1) {
        ctl_fail("tenant '%s' not found", ctl_shown(slug));
        return -1;
    }
    return strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}
