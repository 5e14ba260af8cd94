/*
 * auth: argon2id sign-in with a fleet-wide limit on failures, hashed session tokens, CSRF.
 *
 * The login limit (SPEC §9)
 * - Failed sign-ins are counted in PostgreSQL (login_limits, migration 007), which every host
 *   shares and which neither a Redis outage nor an eviction can empty, in two buckets per
 *   attempt: the account (tenant, lower-case email) and the client (tenant, address; IPv6 by
 *   its /64, see auth_client_bucket). The tenant is the resolved tenant id (0 for a slug that
 *   names none), so every spelling of a slug counts in the same buckets.
 * - An attempt claims one failure in both buckets BEFORE the password is verified, in one
 *   statement that locks both rows (FOR UPDATE): when either is at AUTH_LOGIN_LIMIT in its
 *   window, nothing is claimed and the answer is 429 with Retry-After. A successful sign-in
 *   gives its claim back. So at most AUTH_LOGIN_LIMIT passwords per bucket and window are ever
 *   verified and found wrong, however many requests arrive at once on however many hosts (no
 *   check-then-count race); a worker that dies while verifying leaves its claim counted.
 * - The pool-wide table of core/ratelimit stays in front as a pre-filter: a client it already
 *   knows to be over the limit is refused without a database round trip.
 */
#include "services/auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "services/tenant.h"

#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING

static void hex_hash(const char *token, char out[65])
{
    unsigned char h[32];

    crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

/* The CSRF token of a session: a keyed hash of its token hash (never stored in clear). */
static void csrf_of(const char *token_hash_hex, char out[48])
{
    unsigned char key[32], c[24];

    if (sodium_hex2bin(key, sizeof(key), token_hash_hex, 64, NULL, NULL, NULL) != 0)
        memset(key, 0, sizeof(key));
    crypto_generichash(c, sizeof(c), (const unsigned char *)"stock-csrf-v1", 13, key, sizeof(key));
    sodium_bin2base64(out, 48, c, sizeof(c), B64URL);
}

_Static_assert(AUTH_HASH_SIZE == crypto_pwhash_STRBYTES, "AUTH_HASH_SIZE is the argon2 string");

int auth_password_hash(const char *password, char out[AUTH_HASH_SIZE], struct app_err *err)
{
    if (crypto_pwhash_str_alg(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        out[0] = '\0';
        err_set(err, ERR_INTERNAL, "internal error");
        return err_detail(err, "cannot hash a password: out of memory");
    }
    return 0;
}

bool auth_password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* A hash as the same cost argon2id verification would have, for users that do not exist. */
static const char *dummy_hash(void)
{
    static char h[crypto_pwhash_STRBYTES];

    if (!h[0]) {
        char pw[33];
        unsigned char r[16];
        struct app_err err;

        randombytes_buf(r, sizeof(r));
        sodium_bin2hex(pw, sizeof(pw), r, sizeof(r));
        if (auth_password_hash(pw, h, &err))
            h[0] = '\0';
    }
    return h;
}

void auth_prepare(void)
{
    if (sodium_init() < 0)
        log_error("libsodium cannot initialise");
    (void)dummy_hash();
}

static int invalid_credentials(struct app_err *err)
{
    return err_set_full(err, ERR_UNAUTHORIZED, "invalid_credentials", NULL,
                        "invalid tenant, email or password");
}

void auth_client_bucket(const char *addr, char *out, size_t n)
{
    unsigned char a6[16];
    struct in_addr a4;

    if (addr && inet_pton(AF_INET6, addr, a6) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        if (!memcmp(a6, mapped, sizeof(mapped))) {
            memcpy(&a4, a6 + 12, 4);
            if (inet_ntop(AF_INET, &a4, out, (socklen_t)n))
                return;
        } else {
            char s[INET6_ADDRSTRLEN];

            memset(a6 + 8, 0, 8);
            if (inet_ntop(AF_INET6, a6, s, sizeof(s))) {
                snprintf(out, n, "%s/64", s);
                return;
            }
        }
    }
    if (addr && inet_pton(AF_INET, addr, &a4) == 1 && inet_ntop(AF_INET, &a4, out, (socklen_t)n))
        return;
    snprintf(out, n, "%s", addr && *addr ? addr : "-");
}

/* The subject of a bucket, as the hex of a 16-byte BLAKE2b of its kind and text. */
static char *bucket_subject(struct arena *a, const char *kind, const char *text, bool lower)
{
    crypto_generichash_state st;
    unsigned char h[16];
    char *hex = arena_alloc(a, 33);
    size_t i;

    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
    for (i = 0; text[i]; i++) {
        unsigned char ch = (unsigned char)text[i];

        if (lower)
            ch = (unsigned char)tolower(ch);
        crypto_generichash_update(&st, &ch, 1);
    }
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_bin2hex(hex, 33, h, sizeof(h));
    return hex;
}

/* The parameters of the limiter's statements, in this order. */
enum { LIM_TENANT, LIM_ACCOUNT, LIM_CLIENT, LIM_WINDOW, LIM_LIMIT, LIM_PARAMS };

/*
 * Claims one failure in the account and the client bucket of an attempt (see the top of the
 * file). 0 when claimed; ERR_RATE_LIMITED with *retry_after when either bucket is full; -1 with
 * err when the database failed. p: tenant, account subject, client subject, window seconds,
 * limit (LIM_PARAMS).
 */
static int limit_claim(struct db *db, struct arena *a, const char *const p[LIM_PARAMS],
                       int *retry_after, struct app_err *err)
{
    static const char ensure_sql[] =
        "INSERT INTO login_limits (tenant_id, kind, subject) "
        "VALUES ($1, 'account', decode($2, 'hex')), ($1, 'client', decode($3, 'hex')) "
        "ON CONFLICT DO NOTHING";
    /* One statement: both rows locked in one order, the window renewed when it has ended, and
     * both counted only when neither is full. */
    static const char claim_sql[] =
        "WITH cur AS (SELECT kind, subject, failures, window_start, "
        "window_start <= now() - make_interval(secs => $4) AS ended FROM login_limits "
        "WHERE tenant_id = $1 AND ((kind = 'account' AND subject = decode($2, 'hex')) "
        "OR (kind = 'client' AND subject = decode($3, 'hex'))) ORDER BY kind FOR UPDATE), "
        "ok AS (SELECT count(*) = 2 AND bool_and(ended OR failures < $5) AS ok, "
        "count(*) AS n FROM cur), "
        "claim AS (UPDATE login_limits l SET "
        "failures = CASE WHEN c.ended THEN 1 ELSE c.failures + 1 END, "
        "window_start = CASE WHEN c.ended THEN now() ELSE c.window_start END "
        "FROM cur c, ok WHERE ok.ok AND l.tenant_id = $1 AND l.kind = c.kind "
        "AND l.subject = c.subject RETURNING 1) "
        "SELECT ok.ok, ok.n, coalesce((SELECT ceil(extract(epoch FROM max(window_start) + "
        "make_interval(secs => $4) - now()))::int FROM cur WHERE NOT ended AND failures >= $5), "
        "0) FROM ok";
    int attempt;

    /* A row swept (stockctl purge) between the two statements is made again: try twice. */
    for (attempt = 0; attempt < 2; attempt++) {
        PGresult *res;

        if (!db_exec(db, a, ensure_sql, 3, p, err))
            return -1;
        res = db_exec(db, a, claim_sql, LIM_PARAMS, p, err);
        if (!res)
            return -1;
        if (strtol(PQgetvalue(res, 0, 1), NULL, 10) != 2)
            continue;
        if (!strcmp(PQgetvalue(res, 0, 0), "t"))
            return 0;
        *retry_after = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);
        if (*retry_after < 1)
            *retry_after = 1;
        return err_set_full(err, ERR_RATE_LIMITED, "rate_limited", NULL,
                            "too many failed sign-ins; try again later");
    }
    return err_set(err, ERR_UNAVAILABLE, "cannot count the sign-in attempt; try again");
}

int auth_password_attempt(struct db *db, struct arena *a, int64_t tenant, const char *email,
                          const char *client, const char *hash, const char *password, bool *ok,
                          int *retry_after, struct app_err *err)
{
    const char *lim[LIM_PARAMS];
    char bucket[INET6_ADDRSTRLEN + 8], *rlkey;

    *ok = false;
    *retry_after = 0;
    /* Refuse before spending argon2id time once a client or an account has failed too often:
     * the pool's own table first (no round trip), then the fleet's count (a claim). */
    auth_client_bucket(client, bucket, sizeof(bucket));
    lim[LIM_TENANT] = arena_sprintf(a, "%" PRId64, tenant);
    lim[LIM_ACCOUNT] = bucket_subject(a, "account", email, true);
    lim[LIM_CLIENT] = bucket_subject(a, "client", bucket, false);
    lim[LIM_WINDOW] = arena_sprintf(a, "%d", AUTH_LOGIN_WINDOW);
    lim[LIM_LIMIT] = arena_sprintf(a, "%d", AUTH_LOGIN_LIMIT);
    rlkey = arena_sprintf(a, "%s.%s", lim[LIM_TENANT], lim[LIM_CLIENT]);
    if (ratelimit_peek(rlkey, strlen(rlkey), AUTH_LOGIN_WINDOW) >= AUTH_LOGIN_LIMIT) {
        *retry_after = ratelimit_retry_after(rlkey, strlen(rlkey), AUTH_LOGIN_WINDOW);
        return err_set_full(err, ERR_RATE_LIMITED, "rate_limited", NULL,
                            "too many failed sign-ins; try again later");
    }
    if (limit_claim(db, a, lim, retry_after, err))
        return -1;

    /* Same work whether or not the tenant or an active user exists: verify against a dummy
     * hash (a disabled user is found by nobody, so costs the same as an unknown one). */
    if (!(auth_password_verify(hash ? hash : dummy_hash(), password) && hash != NULL)) {
        ratelimit_hit(rlkey, strlen(rlkey), AUTH_LOGIN_WINDOW);
        return 0;
    }
    /* Not a failure: the claim is given back (and the tenant's ended windows swept). */
    if (!db_exec(db, a,
                 "WITH gone AS (DELETE FROM login_limits WHERE tenant_id = $1 "
                 "AND window_start <= now() - make_interval(secs => $4)) "
                 "UPDATE login_limits SET failures = failures - 1 WHERE tenant_id = $1 "
                 "AND failures > 0 AND ((kind = 'account' AND subject = decode($2, 'hex')) "
                 "OR (kind = 'client' AND subject = decode($3, 'hex')))",
                 LIM_WINDOW + 1, lim, err))
        return -1;
    *ok = true;
    return 0;
}

int auth_login(struct db *db, struct arena *a, const char *tenant_slug, const char *email,
               const char *password, const char *client, struct auth_login_result *out,
               int *retry_after, struct app_err *err)
{
    static const char find_sql[] =
        "SELECT t.id, t.slug, t.name, u.id, u.email, u.role, u.password_hash, t.locale, "
        "t.currency "
        "FROM tenants t LEFT JOIN users u ON u.tenant_id = t.id AND lower(u.email) = lower($2) "
        "AND u.disabled_at IS NULL WHERE t.slug = lower($1)";
    /* Signing in also sweeps the user's expired sessions, so the table does not grow forever. */
    static const char session_sql[] =
        "WITH gone AS (DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 "
        "AND expires_at < now()) "
        "INSERT INTO sessions (tenant_id, user_id, token_hash, csrf_token_hash, expires_at) "
        "VALUES ($1, $2, decode($3, 'hex'), decode($4, 'hex'), now() + make_interval(secs => $5)) "
        "RETURNING stock_ts(expires_at), extract(epoch FROM expires_at)::bigint";
    const char *params[5];
    PGresult *res;
    int64_t tenant = 0;
    const char *hash = NULL;
    bool ok;

    *retry_after = 0;
    params[0] = tenant_slug;
    params[1] = email;
    res = db_exec(db, a, find_sql, 2, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        tenant = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        if (!PQgetisnull(res, 0, 3))
            hash = PQgetvalue(res, 0, 6);
    }
    if (auth_password_attempt(db, a, tenant, email, client, hash, password, &ok, retry_after, err))
        return -1;
    if (!ok) {
        log_info("sign-in failed tenant_slug_known=%s", tenant ? "yes" : "no");
        return invalid_credentials(err);
    }

    memset(out, 0, sizeof(*out));
    {
        unsigned char rnd[32], ch[32];
        char b64[sodium_base64_ENCODED_LEN(32, B64URL)];
        char csrf_hash[65];

        randombytes_buf(rnd, sizeof(rnd));
        sodium_bin2base64(b64, sizeof(b64), rnd, sizeof(rnd), B64URL);
        out->token = arena_sprintf(a, "s%" PRId64 ".%s", tenant, b64);
        hex_hash(out->token, out->s.token_hash);
        csrf_of(out->s.token_hash, out->s.csrf);
        crypto_generichash(ch, sizeof(ch), (const unsigned char *)out->s.csrf, strlen(out->s.csrf),
                           NULL, 0);
        sodium_bin2hex(csrf_hash, sizeof(csrf_hash), ch, sizeof(ch));
        out->csrf = out->s.csrf;
        params[0] = PQgetvalue(res, 0, 0);
        params[1] = PQgetvalue(res, 0, 3);
        params[2] = out->s.token_hash;
        params[3] = arena_strdup(a, csrf_hash);
        params[4] = arena_sprintf(a, "%d", AUTH_SESSION_SECONDS);
    }
    out->s.tenant_id = tenant;
    out->s.user_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    snprintf(out->s.role, sizeof(out->s.role), "%s", PQgetvalue(res, 0, 5));
    snprintf(out->s.email, sizeof(out->s.email), "%s", PQgetvalue(res, 0, 4));
    snprintf(out->s.tenant_slug, sizeof(out->s.tenant_slug), "%s", PQgetvalue(res, 0, 1));
    snprintf(out->s.tenant_name, sizeof(out->s.tenant_name), "%s", PQgetvalue(res, 0, 2));
    snprintf(out->s.tenant_locale, sizeof(out->s.tenant_locale), "%s", PQgetvalue(res, 0, 7));
    snprintf(out->s.tenant_currency, sizeof(out->s.tenant_currency), "%s", PQgetvalue(res, 0, 8));
    res = db_exec(db, a, session_sql, 5, params, err);
    if (!res)
        return -1;
    out->expires_at = PQgetvalue(res, 0, 0);
    out->s.expires_at = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    out->max_age = AUTH_SESSION_SECONDS;
    log_info("sign-in ok tenant=%" PRId64 " user=%" PRId64, tenant, out->s.user_id);
    return 0;
}

struct session_load {
    struct db *db;
    const char *params[2];
};

static int load_session(void *ctx, struct arena *a, struct buf *out, bool *found,
                        struct app_err *err)
{
    static const char sql[] =
        "SELECT json_build_object('tenant_id', s.tenant_id, 'user_id', s.user_id, "
        "'role', u.role, 'email', u.email, 'slug', t.slug, 'name', t.name, "
        "'locale', t.locale, 'currency', t.currency, "
        "'expires', extract(epoch FROM s.expires_at)::bigint)::text "
        "FROM sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id "
        "JOIN tenants t ON t.id = s.tenant_id "
        "WHERE s.tenant_id = $1 AND s.token_hash = decode($2, 'hex') AND s.expires_at > now() "
        "AND u.disabled_at IS NULL";
    struct session_load *l = ctx;
    PGresult *res = db_exec(l->db, a, sql, 2, l->params, err);

    if (!res)
        return -1;
    *found = PQntuples(res) == 1;
    if (*found)
        buf_add(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    return 0;
}

static int unauthorized(struct app_err *err)
{
    return err_set_full(err, ERR_UNAUTHORIZED, "unauthorized", NULL,
                        "sign in first: the session is missing, invalid or expired");
}

static void copy_field(json_object *o, const char *name, char *dst, size_t n)
{
    json_object *v;

    snprintf(dst, n, "%s",
             json_object_object_get_ex(o, name, &v) && v ? json_object_get_string(v) : "");
}

int auth_session_key(struct arena *a, const char *token, int64_t *tenant, const char **key)
{
    const char *p;
    char *end, hash[65];
    long long t;

    /* "s<tenant>.<43 chars>": the tenant part only picks the cache key; the row decides. */
    if (!token || token[0] != 's' || strlen(token) > AUTH_TOKEN_MAX)
        return -1;
    errno = 0;
    t = strtoll(token + 1, &end, 10);
    if (errno || end == token + 1 || *end != '.' || t <= 0 || strlen(end + 1) != 43)
        return -1;
    for (p = end + 1; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return -1;
    hex_hash(token, hash);
    *tenant = t;
    *key = arena_sprintf(a, "token:%s", hash);
    return 0;
}

int auth_session_get(struct db *db, struct cache *cache, struct arena *a, const char *token,
                     const struct cache_result *pre, struct auth_session *s, struct app_err *err)
{
    struct session_load l;
    struct cache_result res;
    int64_t tenant;
    const char *key;
    json_object *o, *v;

    memset(s, 0, sizeof(*s));
    if (auth_session_key(a, token, &tenant, &key))
        return unauthorized(err);
    snprintf(s->token_hash, sizeof(s->token_hash), "%s", key + 6);
    l.db = db;
    l.params[0] = arena_sprintf(a, "%" PRId64, tenant);
    l.params[1] = s->token_hash;
    if (cache_memoize_pre(cache, a, tenant, "sessions", key, 0, load_session, &l, pre, &res, err))
        return -1;
    if (!res.found)
        return unauthorized(err);
    o = jsonx_parse(a, res.json, res.len, err);
    if (!o)
        return err_set(err, ERR_INTERNAL, "internal error");
    s->tenant_id = json_object_object_get_ex(o, "tenant_id", &v) ? json_object_get_int64(v) : 0;
    s->user_id = json_object_object_get_ex(o, "user_id", &v) ? json_object_get_int64(v) : 0;
    s->expires_at = json_object_object_get_ex(o, "expires", &v) ? json_object_get_int64(v) : 0;
    copy_field(o, "role", s->role, sizeof(s->role));
    copy_field(o, "email", s->email, sizeof(s->email));
    copy_field(o, "slug", s->tenant_slug, sizeof(s->tenant_slug));
    copy_field(o, "name", s->tenant_name, sizeof(s->tenant_name));
    copy_field(o, "locale", s->tenant_locale, sizeof(s->tenant_locale));
    copy_field(o, "currency", s->tenant_currency, sizeof(s->tenant_currency));
    /* An entry cached before sql/015 has neither: the migration's defaults are the values. */
    if (!s->tenant_locale[0])
        snprintf(s->tenant_locale, sizeof(s->tenant_locale), "%s", TENANT_LOCALE);
    if (!s->tenant_currency[0])
        snprintf(s->tenant_currency, sizeof(s->tenant_currency), "%s", TENANT_CURRENCY);
    /* A cached entry may outlive the session by up to its TTL: check the expiry here too. */
    if (s->tenant_id != tenant || s->expires_at <= (int64_t)time(NULL))
        return unauthorized(err);
    csrf_of(s->token_hash, s->csrf);
    return 0;
}

int auth_logout(struct db *db, struct cache *cache, struct arena *a, const struct auth_session *s,
                struct app_err *err)
{
    const char *params[2] = {arena_sprintf(a, "%" PRId64, s->tenant_id), s->token_hash};

    if (!db_exec(db, a,
                 "DELETE FROM sessions WHERE tenant_id = $1 AND token_hash = decode($2, 'hex')", 2,
                 params, err))
        return -1;
    /* Revocation everywhere (SPEC §9): answered once no host can serve the cached session. */
    cache_write_done(cache, a);
    return 0;
}

bool auth_csrf_ok(const struct auth_session *s, const char *presented)
{
    size_t n = strlen(s->csrf);

    if (!presented || strlen(presented) != n || n == 0)
        return false;
    return sodium_memcmp(s->csrf, presented, n) == 0;
}

const char *auth_bearer(const char *h)
{
    if (!h || strncasecmp(h, "Bearer ", 7))
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

const char *auth_cookie(struct arena *a, const char *header, const char *name)
{
    size_t n = strlen(name);
    const char *p = header;

    if (!header || strlen(header) > 8192)
        return NULL;
    while (*p) {
        const char *end;

        while (*p == ' ' || *p == ';')
            p++;
        end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > n && !strncmp(p, name, n) && p[n] == '=') {
            size_t len = (size_t)(end - p) - n - 1;

            while (len && p[n + 1 + len - 1] == ' ')
                len--;
            return len ? arena_strndup(a, p + n + 1, len) : NULL;
        }
        p = end;
    }
    return NULL;
}
