/*
 * test_auth: sign-in, sessions, logout and the login rate limit against the real PostgreSQL
 * and Redis: one answer for every wrong combination in about the same time, the limit that
 * still holds with Redis stopped, dead tokens after logout, forged tenant prefixes, expiry.
 */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
    if (sodium_init() < 0)
        return -1;
    auth_prepare();
    cf = *itest_config();
    cf.redis_socket_timeout_ms = 500;
    cf.redis_connect_timeout_ms = 500;
    cache_init(&cache, &cf, itest_db());
    arena = arena_new();
    tenant = itest_tenant("auth");
    snprintf(slug, sizeof(slug), "%s", itest_slug(arena, tenant));
    return itest_user(tenant, "owner@example.com", PASSWORD, "admin");
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
    return auth_login(itest_db(), arena, s, email, pw, client, r, &retry, err);
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

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

    return (a > b) - (a < b);
}

/*
 * The three kinds of failure, interleaved over ROUNDS rounds, compared by their medians: one
 * slow moment of a loaded machine (a checkpoint, another process) does not decide the verdict.
 * Unknown users and the unknown tenant get fresh emails, so their limiter buckets stay empty.
 */
static void test_auth_one_answer_in_about_the_same_time(void)
{
    enum { ROUNDS = 5 };
    struct auth_login_result r;
    struct app_err err;
    int64_t t[3][ROUNDS], med[3];
    uint32_t run = randombytes_random();
    size_t i, k;

    for (k = 0; k < ROUNDS; k++) {
        const char *cases[3][3] = {
            {slug, "owner@example.com", "wrong password"},
            {slug, arena_sprintf(arena, "nobody-%u-%zu@example.com", run, k), PASSWORD},
            {"no-such-tenant-xyz", arena_sprintf(arena, "x-%u-%zu@example.com", run, k), PASSWORD},
        };

        for (i = 0; i < 3; i++) {
            int64_t t0 = itest_now_ms();

            CU_ASSERT_EQUAL(login(cases[i][0], cases[i][1], cases[i][2], new_client(), &r, &err),
                            -1);
            t[i][k] = itest_now_ms() - t0;
            CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
            CU_ASSERT_STRING_EQUAL(err_slug(&err), "invalid_credentials");
            CU_ASSERT_STRING_EQUAL(err.msg, "invalid tenant, email or password");
        }
    }
    for (i = 0; i < 3; i++) {
        qsort(t[i], ROUNDS, sizeof(t[i][0]), cmp_i64);
        med[i] = t[i][ROUNDS / 2];
    }
    printf("\n    sign-in failure times (median of %d): wrong password %" PRId64
           " ms, unknown user %" PRId64 " ms, unknown tenant %" PRId64 " ms\n",
           ROUNDS, med[0], med[1], med[2]);
    /* all three pay one argon2id verification: no median is less than half of another */
    CU_ASSERT(med[1] * 2 >= med[0] && med[0] * 2 >= med[1]);
    CU_ASSERT(med[2] * 2 >= med[0] && med[0] * 2 >= med[2]);
}

/*
 * A tenant of its own with the owner user: the limiter's buckets of one test never meet
 * another's. Its slug goes to out.
 */
static int64_t limit_tenant(char out[64])
{
    int64_t t = itest_tenant("authlim");

    CU_ASSERT_FATAL(itest_user(t, "owner@example.com", PASSWORD, "admin") == 0);
    snprintf(out, 64, "%s", itest_slug(arena, t));
    return t;
}

/* The failures counted in PostgreSQL for tenant t's buckets of kind. */
static long limit_failures(int64_t t, const char *kind)
{
    struct app_err err;
    const char *params[2] = {arena_sprintf(arena, "%" PRId64, t), kind};
    PGresult *res = db_exec(itest_db(), arena,
                            "SELECT coalesce(sum(failures), 0) FROM login_limits "
                            "WHERE tenant_id = $1 AND kind = $2",
                            2, params, &err);

    CU_ASSERT_FATAL(res != NULL);
    return strtol(PQgetvalue(res, 0, 0), NULL, 10);
}

static void test_auth_limit_per_client(void)
{
    struct auth_login_result r;
    struct app_err err;
    char s[64];
    int i, retry = 0;

    limit_tenant(s);
    /* a spray: one client, a different account each time */
    for (i = 0; i < AUTH_LOGIN_LIMIT; i++)
        CU_ASSERT_EQUAL(login(s, arena_sprintf(arena, "user%d@example.com", i), "bad",
                              "198.51.100.200", &r, &err),
                        -1);
    err_clear(&err);
    CU_ASSERT_EQUAL(auth_login(itest_db(), arena, s, "owner@example.com", PASSWORD,
                               "198.51.100.200", &r, &retry, &err),
                    -1);
    CU_ASSERT_EQUAL(err.code, ERR_RATE_LIMITED);
    CU_ASSERT(retry > 0 && retry <= AUTH_LOGIN_WINDOW);
    /* the same slug spelled otherwise is the same tenant, so the same bucket */
    for (i = 0; s[i]; i++)
        s[i] = (char)toupper((unsigned char)s[i]);
    CU_ASSERT_EQUAL(login(s, "owner@example.com", PASSWORD, "198.51.100.200", &r, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_RATE_LIMITED);
    /* another client and the account itself are not limited */
    CU_ASSERT_EQUAL(login(s, "owner@example.com", PASSWORD, "198.51.100.201", &r, &err), 0);
}

static void test_auth_limit_per_account(void)
{
    struct auth_login_result r;
    struct app_err err;
    char s[64];
    int64_t t = limit_tenant(s);
    int i;

    /* a brute force from many addresses: each client fails once */
    for (i = 0; i < AUTH_LOGIN_LIMIT; i++)
        CU_ASSERT_EQUAL(login(s, i % 2 ? "OWNER@example.com" : "owner@example.com", "bad",
                              arena_sprintf(arena, "203.0.113.%d", i + 1), &r, &err),
                        -1);
    CU_ASSERT_EQUAL(limit_failures(t, "account"), AUTH_LOGIN_LIMIT);
    CU_ASSERT_EQUAL(login(s, "owner@example.com", PASSWORD, "203.0.113.99", &r, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_RATE_LIMITED);
    /* another account of the tenant still signs in from that address */
    CU_ASSERT_EQUAL(login(s, "someone@example.com", "bad", "203.0.113.99", &r, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
}

static void test_auth_limit_ipv6_by_64(void)
{
    struct auth_login_result r;
    struct app_err err;
    char s[64];
    int i;

    limit_tenant(s);
    for (i = 0; i < AUTH_LOGIN_LIMIT; i++)
        CU_ASSERT_EQUAL(login(s, arena_sprintf(arena, "u%d@example.com", i), "bad",
                              arena_sprintf(arena, "2001:db8:5:6:%x::%x", i, i + 1), &r, &err),
                        -1);
    CU_ASSERT_EQUAL(login(s, "owner@example.com", PASSWORD, "2001:db8:5:6:ffff::1", &r, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_RATE_LIMITED);
    CU_ASSERT_EQUAL(login(s, "owner@example.com", PASSWORD, "2001:db8:5:7::1", &r, &err), 0);
}

/* Failures counted by other pools (other hosts) exist only in PostgreSQL; Redis is stopped. */
static void test_auth_limit_across_pools_without_redis(void)
{
    struct auth_login_result r;
    struct app_err err;
    const char *params[2];
    char s[64];
    int64_t t = limit_tenant(s);

    CU_ASSERT_EQUAL_FATAL(itest_redisctl("stop"), 0);
    CU_ASSERT_EQUAL(login(s, "owner@example.com", "bad", "192.0.2.7", &r, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_UNAUTHORIZED);
    /* this pool's own table has one failure; the fleet has nine more from elsewhere */
    params[0] = arena_sprintf(arena, "%" PRId64, t);
    params[1] = arena_sprintf(arena, "%d", AUTH_LOGIN_LIMIT);
    CU_ASSERT_PTR_NOT_NULL(db_exec(itest_db(), arena,
                                   "UPDATE login_limits SET failures = $2::int "
                                   "WHERE tenant_id = $1 AND kind = 'client'",
                                   2, params, &err));
    CU_ASSERT_EQUAL(login(s, "owner@example.com", PASSWORD, "192.0.2.7", &r, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_RATE_LIMITED);
    CU_ASSERT_EQUAL(itest_redisctl("start"), 0);
    cache.redis.retry_at_ms = 0;
}

/*
 * Two attempts at once with one failure left: one is verified (401), the other refused (429),
 * never both verified. Each runs in a process of its own with its own connection, released
 * together through a pipe.
 */
static void test_auth_limit_no_overshoot(void)
{
    struct auth_login_result r;
    struct app_err err;
    char s[64];
    int64_t t = limit_tenant(s);
    int i, go[2], unauthorized = 0, limited = 0;
    pid_t kids[2];

    for (i = 0; i < AUTH_LOGIN_LIMIT - 1; i++)
        CU_ASSERT_EQUAL(login(s, "owner@example.com", "bad",
                              arena_sprintf(arena, "198.18.0.%d", i + 1), &r, &err),
                        -1);
    CU_ASSERT_FATAL(pipe(go) == 0);
    fflush(NULL);
    for (i = 0; i < 2; i++) {
        kids[i] = fork();
        CU_ASSERT_FATAL(kids[i] >= 0);
        if (kids[i] == 0) {
            struct db d;
            struct arena *a = arena_new();
            char b;
            int retry = 0, rc;

            close(go[1]);
            db_init(&d, itest_config()->database_url);
            if (db_connect(&d, &err) || read(go[0], &b, 1) != 0)
                _exit(3);
            err_clear(&err);
            rc = auth_login(&d, a, s, "owner@example.com", "bad", i ? "198.18.1.1" : "198.18.1.2",
                            &r, &retry, &err);
            _exit(rc == 0                        ? 4
                  : err.code == ERR_UNAUTHORIZED ? 1
                  : err.code == ERR_RATE_LIMITED ? 2
                                                 : 5);
        }
    }
    close(go[0]);
    close(go[1]); /* both children read EOF at once: go */
    for (i = 0; i < 2; i++) {
        int st = 0;

        CU_ASSERT_EQUAL(waitpid(kids[i], &st, 0), kids[i]);
        unauthorized += WIFEXITED(st) && WEXITSTATUS(st) == 1;
        limited += WIFEXITED(st) && WEXITSTATUS(st) == 2;
    }
    printf("\n    two attempts with one failure left: %d verified and wrong, %d refused\n",
           unauthorized, limited);
    CU_ASSERT_EQUAL(unauthorized, 1);
    CU_ASSERT_EQUAL(limited, 1);
    CU_ASSERT_EQUAL(limit_failures(t, "account"), AUTH_LOGIN_LIMIT);
}

/* A successful sign-in gives its claim back: it is not a failure. */
static void test_auth_limit_success_is_not_counted(void)
{
    struct auth_login_result r;
    struct app_err err;
    char s[64];
    int64_t t = limit_tenant(s);
    int i;

    for (i = 0; i < 2 * AUTH_LOGIN_LIMIT; i++)
        CU_ASSERT_EQUAL(login(s, "owner@example.com", PASSWORD, "198.51.100.250", &r, &err), 0);
    CU_ASSERT_EQUAL(limit_failures(t, "account"), 0);
    CU_ASSERT_EQUAL(limit_failures(t, "client"), 0);
}

static void test_auth_client_bucket(void)
{
    static const char *cases[][2] = {
        {"198.51.100.7", "198.51.100.7"},
        {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
        {"2001:DB8:1:2::ffff", "2001:db8:1:2::/64"},
        {"::ffff:192.0.2.1", "192.0.2.1"},
        {"::1", "::/64"},
        {"not-an-address", "not-an-address"},
        {"", "-"},
    };
    char out[INET6_ADDRSTRLEN + 8];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        auth_client_bucket(cases[i][0], out, sizeof(out));
        CU_ASSERT_STRING_EQUAL(out, cases[i][1]);
    }
    auth_client_bucket(NULL, out, sizeof(out));
    CU_ASSERT_STRING_EQUAL(out, "-");
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

/*
 * SPEC §9 revocation: a logout whose own Redis DEL fails (this worker's Redis refuses it) is
 * answered only once no host can serve the cached session. The other host is a child process
 * (its own shared block, so its own trust, as a pool on another machine) with the session
 * cached: it must refuse the token as soon as the logout has returned.
 */
static void test_auth_logout_with_a_cut_redis_is_revoked_before_the_answer(void)
{
    struct auth_login_result r;
    struct auth_session s;
    struct app_err err;
    struct config bad = cf;
    struct cache cut;
    char *token, b = 0;
    int ready[2], go[2], st = 0;
    pid_t host2;

    snprintf(bad.redis_password, sizeof(bad.redis_password), "%s", "Itest-Not-The-Pa55word");
    CU_ASSERT_EQUAL_FATAL(login(slug, "owner@example.com", PASSWORD, new_client(), &r, &err), 0);
    token = arena_strdup(arena, r.token);
    CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(go) == 0);
    fflush(stdout);
    fflush(stderr);
    host2 = fork();
    if (host2 == 0) {
        struct db d;
        struct cache other;
        struct auth_session s2;
        int rc;

        close(ready[0]);
        close(go[1]);
        itest_become_other_host();
        db_init(&d, itest_config()->database_url);
        cache_init(&other, &cf, &d);
        if (db_connect(&d, &err) || auth_session_get(&d, &other, arena, token, NULL, &s2, &err) ||
            auth_session_get(&d, &other, arena, token, NULL, &s2, &err))
            _exit(3);
        if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
            _exit(3);
        rc = auth_session_get(&d, &other, arena, token, NULL, &s2, &err);
        _exit(rc == -1 && err.code == ERR_UNAUTHORIZED ? 0 : 1);
    }
    CU_ASSERT_FATAL(host2 > 0);
    close(ready[1]);
    close(go[0]);
    CU_ASSERT_EQUAL(read(ready[0], &b, 1), 1); /* host 2 has the session cached */
    cache_init(&cut, &bad, itest_db());
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cut, arena, token, NULL, &s, &err), 0);
    CU_ASSERT_EQUAL(auth_logout(itest_db(), &cut, arena, &s, &err), 0);
    /* The logout's own DEL did not happen ... */
    CU_ASSERT_STRING_NOT_EQUAL(cut.redis.last_error, "");
    /* ... yet host 2 refuses the token right after the answer. */
    CU_ASSERT_EQUAL(write(go[1], "g", 1), 1);
    CU_ASSERT_EQUAL(waitpid(host2, &st, 0), host2);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(ready[0]);
    close(go[1]);
    cache_release(&cut);
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
        !CU_add_test(s, "limit per client (a spray)", test_auth_limit_per_client) ||
        !CU_add_test(s, "limit per account (a brute force)", test_auth_limit_per_account) ||
        !CU_add_test(s, "limit per IPv6 /64", test_auth_limit_ipv6_by_64) ||
        !CU_add_test(s, "limit across pools without Redis",
                     test_auth_limit_across_pools_without_redis) ||
        !CU_add_test(s, "limit: no overshoot at once", test_auth_limit_no_overshoot) ||
        !CU_add_test(s, "limit: a success is not a failure",
                     test_auth_limit_success_is_not_counted) ||
        !CU_add_test(s, "client buckets", test_auth_client_bucket) ||
        !CU_add_test(s, "logout kills the token everywhere",
                     test_auth_logout_kills_token_everywhere) ||
        !CU_add_test(s, "logout with a cut redis is revoked before the answer",
                     test_auth_logout_with_a_cut_redis_is_revoked_before_the_answer) ||
        !CU_add_test(s, "forged and expired tokens", test_auth_forged_and_expired_tokens) ||
        !CU_add_test(s, "header parsers", test_auth_header_parsers))
        return -1;
    return 0;
}
