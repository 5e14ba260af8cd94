/*
 * test_auth: sign-in, sessions, logout and the login rate limit against the real PostgreSQL
 * and Redis: one answer for every wrong combination in about the same time, the limit that
 * still holds with Redis stopped, dead tokens after logout, forged tenant prefixes, expiry.
 */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <hiredis/hiredis.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"
#include "services/auth.h"

static struct config cf;
static struct cache cache;
static struct arena *arena;
static int64_t tenant;
static char slug[64];
static unsigned client_seq;

#define PASSWORD "correct horse battery"

static int suite_init(void)
{
    char hash[crypto_pwhash_STRBYTES];
    struct app_err err;
    const char *params[2];
    PGresult *res;

    if (sodium_init() < 0)
        return -1;
    auth_prepare();
    cf = *itest_config();
    cf.redis_socket_timeout_ms = 500;
    cf.redis_connect_timeout_ms = 500;
    cache_init(&cache, &cf, itest_db());
    arena = arena_new();
    tenant = itest_tenant("auth");
    params[0] = arena_sprintf(arena, "%" PRId64, tenant);
    res = db_exec(itest_db(), arena, "SELECT slug FROM tenants WHERE id = $1", 1, params, &err);
    if (!res || PQntuples(res) != 1)
        return -1;
    snprintf(slug, sizeof(slug), "%s", PQgetvalue(res, 0, 0));
    if (crypto_pwhash_str_alg(hash, PASSWORD, strlen(PASSWORD), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
        return -1;
    params[1] = hash;
    if (!db_exec(itest_db(), arena,
                 "INSERT INTO users (tenant_id, email, password_hash, role) "
                 "VALUES ($1, 'owner@example.com', $2, 'admin')",
                 2, params, &err))
        return -1;
    return 0;
}

static int suite_clean(void)
{
    cache_release(&cache);
    arena_free(arena);
    return 0;
}

/* A client address no other test used, so limiter windows never overlap between tests. */
static const char *new_client(void)
{
    return arena_sprintf(arena, "198.51.100.%u", ++client_seq);
}

static int login(const char *s, const char *email, const char *pw, const char *client,
                 struct auth_login_result *r, struct app_err *err)
{
    int retry = 0;

    err_clear(err);
    return auth_login(itest_db(), &cache, arena, s, email, pw, client, r, &retry, err);
}

static void test_auth_login_and_session(void)
{
    struct auth_login_result r;
    struct auth_session s;
    struct app_err err;

    CU_ASSERT_EQUAL_FATAL(login(slug, "Owner@Example.com", PASSWORD, new_client(), &r, &err), 0);
    CU_ASSERT_EQUAL(r.s.tenant_id, tenant);
    CU_ASSERT_STRING_EQUAL(r.s.role, "admin");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.expires_at, "+00:00"));
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cache, arena, r.token, NULL, &s, &err), 0);
    CU_ASSERT_EQUAL(s.tenant_id, tenant);
    CU_ASSERT_STRING_EQUAL(s.email, "owner@example.com");
    CU_ASSERT_TRUE(auth_csrf_ok(&s, r.csrf));
    CU_ASSERT_FALSE(auth_csrf_ok(&s, "nope"));
    CU_ASSERT_FALSE(auth_csrf_ok(&s, NULL));
}

static void test_auth_one_answer_in_about_the_same_time(void)
{
    struct auth_login_result r;
    struct app_err err;
    static const char *cases[][3] = {
        {NULL, "owner@example.com", "wrong password"},
        {NULL, "nobody@example.com", PASSWORD},
        {"no-such-tenant-xyz", "owner@example.com", PASSWORD},
    };
    int64_t t[3];
    size_t i;

    for (i = 0; i < 3; i++) {
        int64_t t0 = itest_now_ms();

        CU_ASSERT_EQUAL(login(cases[i][0] ? cases[i][0] : slug, cases[i][1], cases[i][2],
                              new_client(), &r, &err),
                        -1);
        t[i] = itest_now_ms() - t0;
        CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
        CU_ASSERT_STRING_EQUAL(err_slug(&err), "invalid_credentials");
        CU_ASSERT_STRING_EQUAL(err.msg, "invalid tenant, email or password");
    }
    printf("\n    sign-in failure times: wrong password %" PRId64 " ms, unknown user %" PRId64
           " ms, unknown tenant %" PRId64 " ms\n",
           t[0], t[1], t[2]);
    /* all three pay one argon2id verification: none is less than half of another */
    CU_ASSERT(t[1] * 2 >= t[0] && t[0] * 2 >= t[1]);
    CU_ASSERT(t[2] * 2 >= t[0] && t[0] * 2 >= t[2]);
}

static void test_auth_rate_limit_holds_without_redis(void)
{
    struct auth_login_result r;
    struct app_err err;
    const char *client = new_client(), *other = new_client();
    int i, retry = 0;

    for (i = 0; i < AUTH_LOGIN_LIMIT; i++)
        CU_ASSERT_EQUAL(login(slug, "owner@example.com", "bad", client, &r, &err), -1);
    /* now even the right password is refused for this client and tenant */
    err_clear(&err);
    CU_ASSERT_EQUAL(auth_login(itest_db(), &cache, arena, slug, "owner@example.com", PASSWORD,
                               client, &r, &retry, &err),
                    -1);
    CU_ASSERT_EQUAL(err.code, ERR_RATE_LIMITED);
    CU_ASSERT(retry > 0 && retry <= AUTH_LOGIN_WINDOW);
    CU_ASSERT_EQUAL(login(slug, "owner@example.com", PASSWORD, other, &r, &err), 0);

    /* Redis stopped: the pool-wide table still counts */
    client = new_client();
    CU_ASSERT_EQUAL_FATAL(itest_redisctl("stop"), 0);
    for (i = 0; i < AUTH_LOGIN_LIMIT; i++)
        CU_ASSERT_EQUAL(login(slug, "owner@example.com", "bad", client, &r, &err), -1);
    CU_ASSERT_EQUAL(login(slug, "owner@example.com", PASSWORD, client, &r, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_RATE_LIMITED);
    CU_ASSERT_EQUAL_FATAL(itest_redisctl("start"), 0);
    cache.redis.retry_at_ms = 0;
}

static void test_auth_redis_counter_limits_across_pools(void)
{
    struct auth_login_result r;
    struct app_err err;
    const char *client = new_client();
    redisContext *rc;
    redisReply *keys;
    char match[96];
    size_t i;

    /* One failure here; the other pools' failures exist only in Redis: put them there. */
    CU_ASSERT_EQUAL(login(slug, "owner@example.com", "bad", client, &r, &err), -1);
    rc = redisConnect(cf.redis_host, cf.redis_port);
    CU_ASSERT_FATAL(rc && !rc->err);
    snprintf(match, sizeof(match), "%s:tenant:%" PRId64 ":ratelimit:login:*", cf.key_prefix,
             tenant);
    keys = redisCommand(rc, "KEYS %s", match);
    CU_ASSERT_FATAL(keys && keys->type == REDIS_REPLY_ARRAY && keys->elements >= 1);
    for (i = 0; i < keys->elements; i++)
        freeReplyObject(
            redisCommand(rc, "SET %s %d KEEPTTL", keys->element[i]->str, AUTH_LOGIN_LIMIT));
    freeReplyObject(keys);
    redisFree(rc);
    CU_ASSERT_EQUAL(login(slug, "owner@example.com", PASSWORD, client, &r, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_RATE_LIMITED);
}

static void test_auth_logout_kills_token_everywhere(void)
{
    struct auth_login_result r;
    struct auth_session s;
    struct app_err err;
    struct cache other;
    char *token;

    CU_ASSERT_EQUAL_FATAL(login(slug, "owner@example.com", PASSWORD, new_client(), &r, &err), 0);
    token = arena_strdup(arena, r.token);
    cache_init(&other, &cf, itest_db()); /* another worker that has the session cached */
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &other, arena, token, NULL, &s, &err), 0);
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &other, arena, token, NULL, &s, &err), 0);
    CU_ASSERT_EQUAL(auth_logout(itest_db(), &cache, arena, &s, &err), 0);
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &other, arena, token, NULL, &s, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cache, arena, token, NULL, &s, &err), -1);
    cache_release(&other);
}

static void test_auth_forged_and_expired_tokens(void)
{
    struct auth_login_result r;
    struct auth_session s;
    struct app_err err;
    const char *dot;
    const char *params[2];
    static const char *junk[] = {"",
                                 "s",
                                 "s1.",
                                 "x1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                 "s1.AAAA",
                                 "s-1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                 "s1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'"};
    size_t i;

    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cache, arena, junk[i], NULL, &s, &err), -1);
        CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
    }
    CU_ASSERT_EQUAL_FATAL(login(slug, "owner@example.com", PASSWORD, new_client(), &r, &err), 0);
    /* the same secret under another tenant's prefix is nobody's session */
    dot = strchr(r.token, '.');
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cache, arena,
                                     arena_sprintf(arena, "s%" PRId64 "%s", tenant + 1, dot), NULL,
                                     &s, &err),
                    -1);
    /* expired in the database before first use */
    params[0] = arena_sprintf(arena, "%" PRId64, tenant);
    params[1] = r.s.token_hash;
    CU_ASSERT_PTR_NOT_NULL(db_exec(itest_db(), arena,
                                   "UPDATE sessions SET created_at = now() - interval '2 days', "
                                   "expires_at = now() - interval '1 day' WHERE tenant_id = $1 "
                                   "AND token_hash = decode($2, 'hex')",
                                   2, params, &err));
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cache, arena, r.token, NULL, &s, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
    /* the next sign-in of that user sweeps the expired session away */
    CU_ASSERT_EQUAL_FATAL(login(slug, "owner@example.com", PASSWORD, new_client(), &r, &err), 0);
    {
        PGresult *res = db_exec(itest_db(), arena,
                                "SELECT count(*) FROM sessions WHERE tenant_id = $1 "
                                "AND expires_at < now()",
                                1, params, &err);

        CU_ASSERT_PTR_NOT_NULL_FATAL(res);
        CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "0");
    }
}

static void test_auth_header_parsers(void)
{
    CU_ASSERT_STRING_EQUAL(auth_bearer("Bearer abc"), "abc");
    CU_ASSERT_STRING_EQUAL(auth_bearer("bearer   abc"), "abc");
    CU_ASSERT_PTR_NULL(auth_bearer("Basic abc"));
    CU_ASSERT_PTR_NULL(auth_bearer("Bearer "));
    CU_ASSERT_PTR_NULL(auth_bearer(NULL));
    CU_ASSERT_STRING_EQUAL(auth_cookie(arena, "a=1; stock_session=tok; b=2", "stock_session"),
                           "tok");
    CU_ASSERT_STRING_EQUAL(auth_cookie(arena, "stock_session=tok", "stock_session"), "tok");
    CU_ASSERT_PTR_NULL(auth_cookie(arena, "xstock_session=tok", "stock_session"));
    CU_ASSERT_PTR_NULL(auth_cookie(arena, "stock_session=", "stock_session"));
    CU_ASSERT_PTR_NULL(auth_cookie(arena, NULL, "stock_session"));
}

int test_auth_register(void)
{
    CU_pSuite s = CU_add_suite("auth", suite_init, suite_clean);

    if (!s || !CU_add_test(s, "login and session", test_auth_login_and_session) ||
        !CU_add_test(s, "one answer in about the same time",
                     test_auth_one_answer_in_about_the_same_time) ||
        !CU_add_test(s, "rate limit holds without Redis",
                     test_auth_rate_limit_holds_without_redis) ||
        !CU_add_test(s, "Redis counter limits across pools",
                     test_auth_redis_counter_limits_across_pools) ||
        !CU_add_test(s, "logout kills the token everywhere",
                     test_auth_logout_kills_token_everywhere) ||
        !CU_add_test(s, "forged and expired tokens", test_auth_forged_and_expired_tokens) ||
        !CU_add_test(s, "header parsers", test_auth_header_parsers))
        return -1;
    return 0;
}
