/*
 * stockctl user create|list|disable|enable|password: a tenant's users. Passwords are read from
 * standard input (without echo on a terminal), never from the command line. The rules and the
 * writes are services/users' (the API's): emails and passwords checked alike, the last active
 * admin kept, sessions ended and their cached entries invalidated on every host.
 */
#include "ctl/commands.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "core/cache.h"
#include "services/auth.h"
#include "services/users.h"

/*
 * Reads the password: the first line of standard input, without echo when it is a terminal.
 * Returns a malloc'd string the caller wipes and frees (ctl_password_free), or NULL after
 * printing why. The rules are checked by the caller (users_password_check).
 */
static char *ctl_read_password(void)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO), echo_off = false;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (tty) {
        fputs("password: ", stderr);
        fflush(stderr);
        if (!tcgetattr(STDIN_FILENO, &old)) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            echo_off = !tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
    }
    n = getline(&line, &cap, stdin);
    if (echo_off) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n <= 0) {
        free(line);
        ctl_fail("no password on standard input");
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (strlen(line) != (size_t)n) {
        sodium_memzero(line, cap);
        free(line);
        ctl_fail("the password must be one line of text");
        return NULL;
    }
    return line;
}

static void ctl_password_free(char *password)
{
    sodium_memzero(password, strlen(password));
    free(password);
}

/* Reads and checks a new password for email; NULL after printing why. */
static char *ctl_new_password(const char *email)
{
    char *password = ctl_read_password();
    struct app_err err;

    err_clear(&err);
    if (password && users_password_check(password, email, &err)) {
        ctl_password_free(password);
        ctl_fail("invalid password: %s", err.msg);
        return NULL;
    }
    return password;
}

/* A service's failure: its client-safe message, with libpq's text when the database failed. */
static int ctl_service_fail(const char *what, const struct app_err *err)
{
    if (err->code == ERR_INTERNAL || err->code == ERR_UNAVAILABLE)
        return ctl_fail_db(what, err);
    return ctl_fail("%s: %s", what, err->msg);
}

int cmd_user_create(struct ctl *c, int argc, char **argv)
{
    const char *slug = NULL, *email_in = NULL, *role = "staff", *pos[1];
    const struct ctl_opt opts[] = {
        {"tenant", &slug}, {"email", &email_in}, {"role", &role}, {NULL, NULL}};
    char email[USERS_EMAIL_MAX + 1], hash[AUTH_HASH_SIZE], idbuf[24];
    const char *params[4];
    struct app_err err;
    PGresult *res;
    char *password;
    int64_t tenant;
    int npos, rc, hashed;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if (!slug || !email_in)
        return ctl_usage("user create needs --tenant SLUG and --email EMAIL");
    err_clear(&err);
    if (users_email_normalize(email_in, email, sizeof(email), &err))
        return ctl_fail("invalid email '%s'", ctl_shown(email_in));
    if (strcmp(role, "admin") && strcmp(role, "staff"))
        return ctl_fail("invalid role '%s': expected admin or staff", ctl_shown(role));
    if (sodium_init() < 0)
        return ctl_fail("cannot initialize libsodium");
    if ((rc = ctl_start(c)))
        return rc;
    if ((tenant = ctl_tenant_id(c, slug)) < 0)
        return CTL_FAIL;

    if (!(password = ctl_new_password(email)))
        return CTL_FAIL;
    hashed = auth_password_hash(password, hash, &err);
    ctl_password_free(password);
    if (hashed != 0)
        return ctl_fail("cannot hash the password: out of memory");

    snprintf(idbuf, sizeof(idbuf), "%" PRId64, tenant);
    params[0] = idbuf;
    params[1] = email;
    params[2] = hash;
    params[3] = role;
    res = db_exec(&c->db, c->a,
                  "INSERT INTO users (tenant_id, email, password_hash, role) "
                  "VALUES ($1, $2, $3, $4) RETURNING id",
                  4, params, &err);
    sodium_memzero(hash, sizeof(hash));
    if (!res && err.code == ERR_CONFLICT)
        return ctl_fail("user '%s' already exists in tenant '%s'", ctl_shown(email), slug);
    if (!res)
        return ctl_fail_db("cannot create the user", &err);
    printf("%s\n", PQgetvalue(res, 0, 0));
    return CTL_OK;
}

int cmd_user_list(struct ctl *c, int argc, char **argv)
{
    const char *slug = NULL, *pos[1];
    const struct ctl_opt opts[] = {{"tenant", &slug}, {NULL, NULL}};
    const char *params[1];
    struct app_err err;
    PGresult *res;
    int64_t tenant;
    int npos, rc, i;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if (!slug)
        return ctl_usage("user list needs --tenant SLUG");
    if ((rc = ctl_start(c)))
        return rc;
    if ((tenant = ctl_tenant_id(c, slug)) < 0)
        return CTL_FAIL;
    params[0] = arena_sprintf(c->a, "%" PRId64, tenant);
    err_clear(&err);
    res = db_exec(&c->db, c->a,
                  "SELECT id, email, role, CASE WHEN disabled_at IS NULL THEN 'active' "
                  "ELSE 'disabled' END FROM users WHERE tenant_id = $1 ORDER BY id",
                  1, params, &err);
    if (!res)
        return ctl_fail_db("cannot list the users", &err);
    for (i = 0; i < PQntuples(res); i++)
        printf("%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
    return CTL_OK;
}

/*
 * The common part of disable, enable and password: --tenant SLUG --email EMAIL parsed, the
 * setup done, the user looked up. Fills the service context (with its cache, to release) and
 * *id; CTL_OK, or the exit status after printing why.
 */
static int ctl_user_target(struct ctl *c, const char *cmd, int argc, char **argv,
                           struct catalog *cat, struct cache *cache, char *email, size_t n,
                           int64_t *id)
{
    const char *slug = NULL, *email_in = NULL, *pos[1];
    const struct ctl_opt opts[] = {{"tenant", &slug}, {"email", &email_in}, {NULL, NULL}};
    const char *params[2];
    struct app_err err;
    PGresult *res;
    int64_t tenant;
    int npos, rc;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if (!slug || !email_in)
        return ctl_usage("user %s needs --tenant SLUG and --email EMAIL", cmd);
    err_clear(&err);
    if (users_email_normalize(email_in, email, n, &err))
        return ctl_fail("invalid email '%s'", ctl_shown(email_in));
    if (sodium_init() < 0)
        return ctl_fail("cannot initialize libsodium");
    if ((rc = ctl_start(c)))
        return rc;
    if ((tenant = ctl_tenant_id(c, slug)) < 0)
        return CTL_FAIL;
    params[0] = arena_sprintf(c->a, "%" PRId64, tenant);
    params[1] = email;
    res = db_exec(&c->db, c->a, "SELECT id FROM users WHERE tenant_id = $1 AND email = $2", 2,
                  params, &err);
    if (!res)
        return ctl_fail_db("cannot look the user up", &err);
    if (PQntuples(res) != 1)
        return ctl_fail("user '%s' not found in tenant '%s'", email, ctl_shown(slug));
    *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    cache_init(cache, &c->cf, &c->db);
    memset(cat, 0, sizeof(*cat));
    cat->db = &c->db;
    cat->cache = cache;
    cat->a = c->a;
    cat->tenant = tenant;
    return CTL_OK;
}

/* disable (disabled 1) or enable (0). */
static int ctl_user_set_disabled(struct ctl *c, int disabled, int argc, char **argv)
{
    const char *cmd = disabled ? "disable" : "enable";
    struct user_change ch = {NULL, disabled};
    char email[USERS_EMAIL_MAX + 1];
    struct catalog_out out;
    struct app_err err;
    struct catalog cat;
    struct cache cache;
    int64_t id;
    int rc;

    if ((rc = ctl_user_target(c, cmd, argc, argv, &cat, &cache, email, sizeof(email), &id)))
        return rc;
    err_clear(&err);
    rc = users_update(&cat, id, &ch, &out, &err)
             ? ctl_service_fail(disabled ? "cannot disable the user" : "cannot enable the user",
                                &err)
             : CTL_OK;
    cache_release(&cache);
    if (rc == CTL_OK)
        printf("%s %s\n", disabled ? "disabled" : "enabled", email);
    return rc;
}

int cmd_user_disable(struct ctl *c, int argc, char **argv)
{
    return ctl_user_set_disabled(c, 1, argc, argv);
}

int cmd_user_enable(struct ctl *c, int argc, char **argv)
{
    return ctl_user_set_disabled(c, 0, argc, argv);
}

int cmd_user_password(struct ctl *c, int argc, char **argv)
{
    char email[USERS_EMAIL_MAX + 1], *password;
    struct app_err err;
    struct catalog cat;
    struct cache cache;
    int64_t id;
    int rc;

    if ((rc = ctl_user_target(c, "password", argc, argv, &cat, &cache, email, sizeof(email), &id)))
        return rc;
    if (!(password = ctl_new_password(email))) {
        cache_release(&cache);
        return CTL_FAIL;
    }
    err_clear(&err);
    rc = users_set_password(&cat, id, password, NULL, &err)
             ? ctl_service_fail("cannot set the password", &err)
             : CTL_OK;
    ctl_password_free(password);
    cache_release(&cache);
    if (rc == CTL_OK)
        printf("password set for %s; their sessions ended\n", email);
    return rc;
}
