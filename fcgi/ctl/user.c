/*
 * stockctl user create: a new user of a tenant, with the password read from standard input
 * (without echo on a terminal) and stored as an Argon2id hash.
 */
#include "ctl/commands.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#define CTL_PASSWORD_MIN 8
#define CTL_PASSWORD_MAX 128

/* A deliberately simple check: one '@' with text on both sides, no spaces, at most 254. */
static bool ctl_email_valid(const char *s)
{
    const char *at = strchr(s, '@');
    size_t n = strlen(s);

    if (n < 3 || n > 254 || !at || at == s || !at[1] || strchr(at + 1, '@'))
        return false;
    for (; *s; s++)
        if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
            return false;
    return true;
}

/*
 * Reads the password: the first line of standard input, without echo when it is a terminal.
 * Returns a malloc'd string the caller wipes and frees, or NULL after printing why.
 */
static char *ctl_read_password(void)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO), echo_off = false;
    char *line = NULL;
    size_t cap = 0, chars = 0, i;
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
    /* Count characters, not bytes, so a UTF-8 password is not penalized. */
    for (i = 0; i < (size_t)n; i++)
        if (((unsigned char)line[i] & 0xC0) != 0x80)
            chars++;
    if (strlen(line) != (size_t)n || chars < CTL_PASSWORD_MIN || chars > CTL_PASSWORD_MAX) {
        sodium_memzero(line, cap);
        free(line);
        ctl_fail("the password must be %d to %d characters on one line", CTL_PASSWORD_MIN,
                 CTL_PASSWORD_MAX);
        return NULL;
    }
    return line;
}

int cmd_user_create(struct ctl *c, int argc, char **argv)
{
    const char *slug = NULL, *email_in = NULL, *role = "staff", *pos[1];
    const struct ctl_opt opts[] = {
        {"tenant", &slug}, {"email", &email_in}, {"role", &role}, {NULL, NULL}};
    char email[256], hash[crypto_pwhash_STRBYTES], idbuf[24];
    const char *params[4];
    struct app_err err;
    PGresult *res;
    char *password;
    int64_t tenant;
    int npos, rc, hashed;
    size_t i;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if (!slug || !email_in)
        return ctl_usage("user create needs --tenant SLUG and --email EMAIL");
    if (!ctl_email_valid(email_in))
        return ctl_fail("invalid email '%s'", ctl_shown(email_in));
    if (strcmp(role, "admin") && strcmp(role, "staff"))
        return ctl_fail("invalid role '%s': expected admin or staff", ctl_shown(role));
    for (i = 0; email_in[i]; i++)
        email[i] = (char)tolower((unsigned char)email_in[i]);
    email[i] = '\0';
    if (sodium_init() < 0)
        return ctl_fail("cannot initialize libsodium");
    if ((rc = ctl_start(c)))
        return rc;
    if ((tenant = ctl_tenant_id(c, slug)) < 0)
        return CTL_FAIL;

    if (!(password = ctl_read_password()))
        return CTL_FAIL;
    hashed =
        crypto_pwhash_str_alg(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
    sodium_memzero(password, strlen(password));
    free(password);
    if (hashed != 0)
        return ctl_fail("cannot hash the password: out of memory");

    snprintf(idbuf, sizeof(idbuf), "%" PRId64, tenant);
    params[0] = idbuf;
    params[1] = email;
    params[2] = hash;
    params[3] = role;
    err_clear(&err);
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
