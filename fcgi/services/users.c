/*
 * users: a tenant's users, their roles, their passwords and the end of their sessions.
 * PostgreSQL renders the JSON; the users triggers (sql/009) note modules sessions and users in
 * the outbox with every write, applied by cache_write_done after the commit.
 */
#include "services/users.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jsonx.h"
#include "services/auth.h"

#define USER_JSON                                                                                  \
    "json_build_object('id', u.id, 'email', u.email, 'role', u.role, "                             \
    "'disabled', u.disabled_at IS NOT NULL, "                                                      \
    "'created_at', stock_ts(u.created_at), 'updated_at', stock_ts(u.updated_at))"

static const char *i64(struct arena *a, int64_t v)
{
    return arena_sprintf(a, "%" PRId64, v);
}

int users_email_normalize(const char *email, char *out, size_t n, struct app_err *err)
{
    size_t len = strlen(email), i;
    const char *at = strchr(email, '@');

    if (len < 3 || len > USERS_EMAIL_MAX || len >= n || !at || at == email || !at[1] ||
        strchr(at + 1, '@'))
        return err_set_full(err, ERR_INVALID, "invalid_email", "email",
                            "'email' must be an address like name@example.com (3 to %d "
                            "characters)",
                            USERS_EMAIL_MAX);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)email[i];

        /* Printable ASCII only: PostgreSQL's lower() and ours then agree (the CHECK). */
        if (ch <= ' ' || ch >= 0x7f)
            return err_set_full(err, ERR_INVALID, "invalid_email", "email",
                                "'email' must be printable ASCII without spaces");
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    out[len] = '\0';
    return 0;
}

int users_password_check(const char *password, const char *email, struct app_err *err)
{
    size_t len = strlen(password), chars = 0, i;

    if (!jsonx_utf8_valid(password, len))
        return err_set_full(err, ERR_INVALID, "invalid_password", "password",
                            "'password' must be UTF-8 text");
    for (i = 0; i < len; i++)
        if (((unsigned char)password[i] & 0xC0) != 0x80)
            chars++;
    if (chars < USERS_PASSWORD_MIN || chars > USERS_PASSWORD_MAX)
        return err_set_full(err, ERR_INVALID, "invalid_password", "password",
                            "'password' must be %d to %d characters", USERS_PASSWORD_MIN,
                            USERS_PASSWORD_MAX);
    if (email && !strcasecmp(password, email))
        return err_set_full(err, ERR_INVALID, "invalid_password", "password",
                            "'password' must not be the email address");
    return 0;
}

/* Sets out to the user JSON of a write's row 0 (not a cached read). */
static void user_out(struct catalog *c, struct catalog_out *out, const PGresult *res)
{
    catalog_out_set(c, out, res);
    out->cache = CACHE_BYPASS;
    out->cached = false;
}

int users_list(struct catalog *c, struct catalog_out *out, struct app_err *err)
{
    static const char sql[] =
        "SELECT json_build_object('items', coalesce(json_agg(" USER_JSON " ORDER BY u.id), "
        "'[]'::json), 'total', count(*))::text FROM users u WHERE u.tenant_id = $1";
    const char *params[1] = {i64(c->a, c->tenant)};

    return catalog_read_json(c, "users", "list", sql, 1, params, "users", out, err);
}

int users_create(struct catalog *c, const char *email, const char *password, const char *role,
                 struct catalog_out *out, struct app_err *err)
{
    static const char sql[] = "INSERT INTO users AS u (tenant_id, email, password_hash, role) "
                              "VALUES ($1, $2, $3, $4) RETURNING " USER_JSON "::text";
    char norm[USERS_EMAIL_MAX + 1], hash[AUTH_HASH_SIZE];
    const char *params[4];
    PGresult *res;

    if (strcmp(role, "admin") && strcmp(role, "staff"))
        return err_set_full(err, ERR_INVALID, "invalid_role", "role",
                            "'role' must be admin or staff");
    if (users_email_normalize(email, norm, sizeof(norm), err) ||
        users_password_check(password, norm, err) || auth_password_hash(password, hash, err))
        return -1;
    params[0] = i64(c->a, c->tenant);
    params[1] = norm;
    params[2] = hash;
    params[3] = role;
    res = db_exec(c->db, c->a, sql, 4, params, err);
    sodium_memzero(hash, sizeof(hash));
    if (!res) {
        if (err->code == ERR_CONFLICT && !strcmp(err->field, "email"))
            return err_set_full(err, ERR_CONFLICT, "conflict", "email",
                                "a user with this email already exists");
        return -1;
    }
    user_out(c, out, res);
    cache_write_done(c->cache, c->a);
    return 0;
}

/* Rolls back and passes the error on. */
static int fail(struct catalog *c)
{
    db_rollback(c->db);
    return -1;
}

int users_update(struct catalog *c, int64_t id, const struct user_change *ch,
                 struct catalog_out *out, struct app_err *err)
{
    /*
     * The tenant's active admins and the target, locked in id order in one statement. Two
     * concurrent changes thus run one after the other, and the second one's lock re-reads the
     * rows the first changed (READ COMMITTED): an admin demoted or disabled meanwhile no
     * longer matches, so the count below is the one the first change left.
     */
    static const char lock_sql[] =
        "SELECT id, role = 'admin' AND disabled_at IS NULL FROM users "
        "WHERE tenant_id = $1 AND ((role = 'admin' AND disabled_at IS NULL) OR id = $2) "
        "ORDER BY id FOR UPDATE";
    static const char update_sql[] =
        "UPDATE users u SET role = coalesce($3, u.role), disabled_at = CASE $4::int "
        "WHEN 1 THEN coalesce(u.disabled_at, now()) WHEN 0 THEN NULL ELSE u.disabled_at END "
        "WHERE u.tenant_id = $1 AND u.id = $2 RETURNING " USER_JSON "::text";
    static const char end_sql[] = "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2";
    const char *params[4] = {i64(c->a, c->tenant), i64(c->a, id), ch->role,
                             i64(c->a, ch->disabled)};
    PGresult *res, *row;
    int i, admins = 0;
    bool found = false, target_admin = false, demotes;

    if (ch->role && strcmp(ch->role, "admin") && strcmp(ch->role, "staff"))
        return err_set_full(err, ERR_INVALID, "invalid_role", "role",
                            "'role' must be admin or staff");
    if (db_begin(c->db, err))
        return -1;
    res = db_exec(c->db, c->a, lock_sql, 2, params, err);
    if (!res)
        return fail(c);
    for (i = 0; i < PQntuples(res); i++) {
        bool active_admin = !strcmp(PQgetvalue(res, i, 1), "t");

        admins += active_admin;
        if (strtoll(PQgetvalue(res, i, 0), NULL, 10) == id) {
            found = true;
            target_admin = active_admin;
        }
    }
    if (!found) {
        err_set(err, ERR_NOT_FOUND, "user not found");
        return fail(c);
    }
    demotes = (ch->role && strcmp(ch->role, "admin")) || ch->disabled == 1;
    if (target_admin && demotes && admins <= 1) {
        err_set_full(err, ERR_CONFLICT, "last_admin", ch->disabled == 1 ? "disabled" : "role",
                     "this is the tenant's last active admin: it cannot be %s",
                     ch->disabled == 1 ? "disabled" : "demoted");
        return fail(c);
    }
    row = db_exec(c->db, c->a, update_sql, 4, params, err);
    if (!row || (ch->disabled == 1 && !db_exec(c->db, c->a, end_sql, 2, params, err)))
        return fail(c);
    user_out(c, out, row);
    if (db_commit(c->db, err))
        return -1;
    /* The sessions (a disabled user's, a role that changed) end everywhere before we answer. */
    cache_write_done(c->cache, c->a);
    return 0;
}

/* Stores hash as the password of user id and ends their sessions (but keep's), in one
 * statement; ERR_NOT_FOUND when the tenant has no such user. */
static int store_password(struct catalog *c, int64_t id, const char *hash, const char *keep,
                          struct app_err *err)
{
    static const char sql[] =
        "WITH u AS (UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2 "
        "RETURNING id), "
        "d AS (DELETE FROM sessions s USING u WHERE s.tenant_id = $1 AND s.user_id = u.id "
        "AND ($4::text IS NULL OR s.token_hash <> decode($4, 'hex'))) "
        "SELECT count(*) FROM u";
    const char *params[4] = {i64(c->a, c->tenant), i64(c->a, id), hash, keep};
    PGresult *res = db_exec(c->db, c->a, sql, 4, params, err);

    if (!res)
        return -1;
    if (strcmp(PQgetvalue(res, 0, 0), "1"))
        return err_set(err, ERR_NOT_FOUND, "user not found");
    /* The ended sessions are refused on every host once this returns. */
    cache_write_done(c->cache, c->a);
    return 0;
}

int users_set_password(struct catalog *c, int64_t id, const char *password,
                       const char *keep_token_hash, struct app_err *err)
{
    static const char sql[] = "SELECT email FROM users WHERE tenant_id = $1 AND id = $2";
    const char *params[2] = {i64(c->a, c->tenant), i64(c->a, id)};
    char hash[AUTH_HASH_SIZE];
    PGresult *res = db_exec(c->db, c->a, sql, 2, params, err);
    int rc;

    if (!res)
        return -1;
    if (PQntuples(res) != 1)
        return err_set(err, ERR_NOT_FOUND, "user not found");
    if (users_password_check(password, PQgetvalue(res, 0, 0), err) ||
        auth_password_hash(password, hash, err))
        return -1;
    rc = store_password(c, id, hash, keep_token_hash, err);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int users_change_own_password(struct catalog *c, int64_t id, const char *current,
                              const char *password, const char *token_hash, const char *client,
                              int *retry_after, struct app_err *err)
{
    static const char sql[] = "SELECT email, password_hash FROM users "
                              "WHERE tenant_id = $1 AND id = $2 AND disabled_at IS NULL";
    const char *params[2] = {i64(c->a, c->tenant), i64(c->a, id)};
    char hash[AUTH_HASH_SIZE];
    PGresult *res = db_exec(c->db, c->a, sql, 2, params, err);
    bool ok;
    int rc;

    if (!res)
        return -1;
    if (PQntuples(res) != 1)
        return err_set_full(err, ERR_UNAUTHORIZED, "unauthorized", NULL,
                            "sign in first: the session is missing, invalid or expired");
    /* Under the login limit: a stolen session cannot try passwords faster than a sign-in. */
    if (auth_password_attempt(c->db, c->a, c->tenant, PQgetvalue(res, 0, 0), client,
                              PQgetvalue(res, 0, 1), current, &ok, retry_after, err))
        return -1;
    if (!ok)
        return err_set_full(err, ERR_INVALID, "wrong_password", "current_password",
                            "'current_password' is not your current password");
    if (users_password_check(password, PQgetvalue(res, 0, 0), err) ||
        auth_password_hash(password, hash, err))
        return -1;
    rc = store_password(c, id, hash, token_hash, err);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}
