/*
 * auth: sign-in, sessions and CSRF. A session token is "s<tenant>.<43 base64url chars of 32
 * random bytes>"; only its BLAKE2b hash is stored (sessions.token_hash), and the CSRF token is
 * derived from the token with a keyed hash, so it can be given again (GET /me) without being
 * stored. Session lookups are cached (module sessions, keyed by the token hash) and
 * invalidated on logout; the tenant of a request is the session row's, never the request's.
 */
#ifndef STOCK_SERVICES_AUTH_H
#define STOCK_SERVICES_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/cache.h"
#include "core/db.h"
#include "core/err.h"

#define AUTH_TOKEN_MAX       96
#define AUTH_SESSION_SECONDS (8 * 3600)
#define AUTH_LOGIN_LIMIT     10  /* failed sign-ins per account, and per client and tenant */
#define AUTH_LOGIN_WINDOW    900 /* seconds */

struct auth_session {
    int64_t tenant_id;
    int64_t user_id;
    char role[8];
    char email[256];
    char tenant_slug[64];
    char tenant_name[256];
    char tenant_locale[8];   /* "en" or "es" (tenants.locale) */
    char tenant_currency[8]; /* an ISO 4217 code (tenants.currency) */
    int64_t expires_at;      /* unix seconds */
    char token_hash[65];     /* hex */
    char csrf[48];           /* the CSRF token that goes with this session */
};

struct auth_login_result {
    const char *token;
    const char *csrf;
    const char *expires_at; /* ISO 8601 */
    int max_age;            /* seconds, for the cookie */
    struct auth_session s;
};

/*
 * The client part of a login-limit bucket, into out (n bytes, INET6_ADDRSTRLEN + 8 is enough):
 * an IPv4 address as it is, an IPv6 one cut to its /64 ("2001:db8:1:2::/64"), an IPv4-mapped
 * IPv6 one as IPv4, anything else (not an address) as given; "-" for NULL or empty.
 */
void auth_client_bucket(const char *addr, char *out, size_t n);

/* The longest password anyone can have (characters, SPEC §10), so the longest a sign-in reads. */
#define AUTH_PASSWORD_MAX 256
/* The size of an argon2id hash string with its NUL (crypto_pwhash_STRBYTES). */
#define AUTH_HASH_SIZE 128

/*
 * The argon2id hash of password (libsodium, interactive limits: the cost every sign-in
 * verifies against) into out. 0, or -1 with ERR_INTERNAL when it cannot be computed (out of
 * memory). The only place passwords are hashed (the API's users, stockctl).
 */
int auth_password_hash(const char *password, char out[AUTH_HASH_SIZE], struct app_err *err)
    __attribute__((warn_unused_result));

/* True when password matches hash (argon2id, the cost of one sign-in). */
bool auth_password_verify(const char *hash, const char *password);

/* Prepares what sign-in needs (the dummy hash); call once per process before serving. */
void auth_prepare(void);

/*
 * One password attempt of an account (tenant, email) from client under the login limit: claims
 * a failure in its buckets, verifies password against hash (NULL: no such active user; the
 * dummy hash is verified instead, at the same cost) and gives the claim back when it matched.
 * 0 with *ok saying whether it matched; ERR_RATE_LIMITED with *retry_after when a bucket is
 * full (nothing verified); -1 with err when the database failed. Sign-in and a change of one's
 * own password both go through it, so neither is a way around the other's limit.
 */
int auth_password_attempt(struct db *db, struct arena *a, int64_t tenant, const char *email,
                          const char *client, const char *hash, const char *password, bool *ok,
                          int *retry_after, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Signs in. ERR_UNAUTHORIZED "invalid_credentials" for any wrong combination, a disabled user
 * included (taking about the same time whether or not the tenant and an active user exist),
 * ERR_RATE_LIMITED with *retry_after once AUTH_LOGIN_LIMIT attempts within the window have failed
 * for that account, or for that client (its address, by auth_client_bucket) on that tenant, counted
 * on every host (SPEC §9; the protocol is at the top of auth.c). client is the peer's address as
 * nginx saw it.
 */
int auth_login(struct db *db, struct arena *a, const char *tenant_slug, const char *email,
               const char *password, const char *client, struct auth_login_result *out,
               int *retry_after, struct app_err *err) __attribute__((warn_unused_result));

/*
 * The cache coordinates of a token's session: the tenant its prefix names and the key under
 * module "sessions" (in the arena). -1 when the token is malformed. The prefix is a hint for
 * the cache only: auth_session_get checks it against the session row.
 */
int auth_session_key(struct arena *a, const char *token, int64_t *tenant, const char **key);

/*
 * Resolves a token to its live session (unexpired, of a user not disabled); ERR_UNAUTHORIZED
 * otherwise. pre, when not NULL, is a
 * prefetched read of the session's cache key (cache_get_many).
 */
int auth_session_get(struct db *db, struct cache *cache, struct arena *a, const char *token,
                     const struct cache_result *pre, struct auth_session *s, struct app_err *err)
    __attribute__((warn_unused_result));

/* Ends the session: the token is dead for every worker from the next request on. */
int auth_logout(struct db *db, struct cache *cache, struct arena *a, const struct auth_session *s,
                struct app_err *err) __attribute__((warn_unused_result));

/* Constant-time check of a presented CSRF token against the session's. */
bool auth_csrf_ok(const struct auth_session *s, const char *presented);

/* The token of a "Bearer x" header value, or NULL. */
const char *auth_bearer(const char *authorization);

/* The value of cookie name in a Cookie header, copied to the arena, or NULL. */
const char *auth_cookie(struct arena *a, const char *cookie_header, const char *name);

#endif
