/*
 * test_signed: SPEC §11 against the real test Redis: whoever can write to Redis can at most
 * empty the cache. Each test plays the attacker with a connection of its own (it reads the tag's
 * parts as an attacker can: INFO, the epoch and generation keys) and checks that what it plants
 * is a miss (and counted as rejected when it carries the current tag), never a hit; then the
 * rotation of CACHE_SECRET and the bound on replaying a value we signed ourselves.
 */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <sodium.h>

#include "core/shared.h"
#include "itest.h"

static redisContext *atk;

/* The attacker's connection to the test Redis. */
static redisContext *atk_conn(void)
{
    if (atk && !atk->err)
        return atk;
    if (atk)
        redisFree(atk);
    atk = itest_redis_connect();
    return atk;
}

/* GET key into the arena (NULL when absent). */
static char *atk_get(struct arena *a, const char *key, size_t *len)
{
    redisReply *r = redisCommand(atk_conn(), "GET %s", key);
    char *v = NULL;

    if (r && r->type == REDIS_REPLY_STRING) {
        v = arena_strndup(a, r->str, r->len);
        *len = r->len;
    }
    freeReplyObject(r);
    return v;
}

static void atk_set(const char *key, const char *v, size_t len)
{
    redisReply *r = redisCommand(atk_conn(), "SET %s %b", key, v, len);

    CU_ASSERT(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
}

/* The tag an attacker computes: run_id from INFO, then the epoch and generation values. */
static char *atk_tag(struct cache *c, struct arena *a, int64_t t, const char *module)
{
    redisReply *r = redisCommand(atk_conn(), "INFO server");
    char run_id[64] = "", *p, *epoch, *gen;
    size_t n;

    if (r && r->type == REDIS_REPLY_STRING && (p = strstr(r->str, "run_id:")))
        sscanf(p + 7, "%40[0-9a-f]", run_id);
    freeReplyObject(r);
    epoch = atk_get(a, arena_sprintf(a, "%s:epoch", c->cf->key_prefix), &n);
    gen = atk_get(a, cache_key(c, a, t, module, "__gen__"), &n);
    if (!run_id[0] || !epoch || !gen)
        return NULL;
    return arena_sprintf(a, "%s.%s.%s", run_id, epoch, gen);
}

static uint64_t rejected(const char *module)
{
    return atomic_load(&shared_get()->cache[shared_module_of(module)].rejected);
}

struct fixed {
    const char *json;
    int calls;
};

static int fixed_load(void *ctx, struct arena *a, struct buf *out, bool *found, struct app_err *err)
{
    struct fixed *f = ctx;

    (void)a;
    (void)err;
    f->calls++;
    buf_adds(out, f->json);
    *found = true;
    return 0;
}

static enum cache_status memo(struct cache *c, struct arena *a, int64_t t, const char *module,
                              const char *key, struct fixed *f, struct cache_result *res)
{
    struct app_err err;

    if (cache_memoize(c, a, t, module, key, 0, fixed_load, f, res, &err)) {
        CU_FAIL("cache_memoize failed");
        return CACHE_MISS;
    }
    return res->status;
}

static bool res_is(const struct cache_result *res, const char *json)
{
    return res->status == CACHE_HIT && res->found && res->len == strlen(json) &&
           !memcmp(res->json, json, res->len);
}

static void cf_with_key(struct config *cf, unsigned char byte)
{
    *cf = *itest_config();
    cf->cache_enabled = true;
    memset(cf->cache_mac_key, byte, sizeof(cf->cache_mac_key));
    cf->cache_mac_prev = false;
}

/* Plants v at key and checks that reading it is a miss counted as rejected (when counted). */
static void planted_is_rejected(struct cache *c, struct arena *a, int64_t t, const char *key,
                                const char *v, size_t len, const char *what)
{
    struct cache_result res;
    uint64_t r0 = rejected("products");

    atk_set(cache_key(c, a, t, "products", key), v, len);
    cache_get(c, a, t, "products", key, &res);
    printf("\n    %-46s -> %s, rejected +%" PRIu64, what, cache_status_name(res.status),
           rejected("products") - r0);
    CU_ASSERT_EQUAL(res.status, CACHE_MISS);
    CU_ASSERT_EQUAL(rejected("products") - r0, 1);
}

static void test_signed_forgeries_are_misses(void)
{
    struct config cf;
    struct cache c;
    struct arena *a = arena_new();
    struct cache_result res;
    int64_t t = itest_tenant("sig-a"), tb = itest_tenant("sig-b");
    struct fixed real = {.json = "{\"price\":\"10.00\"}"},
                 other = {.json = "{\"price\":\"99.00\"}"};
    char *tag, *v, *vb, *forged;
    size_t n, nb;

    cf_with_key(&cf, 0x11);
    cache_init(&c, &cf, itest_db());
    CU_ASSERT_EQUAL(memo(&c, a, t, "products", "p:1", &real, &res), CACHE_MISS);
    CU_ASSERT_EQUAL(memo(&c, a, t, "products", "p:1", &real, &res), CACHE_HIT);
    tag = atk_tag(&c, a, t, "products");
    v = atk_get(a, cache_key(&c, a, t, "products", "p:1"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_PTR_NOT_NULL(strstr(v, tag));
    /* 1. A value made up with the current tag: no MAC, a MAC of zeros, one of another key. */
    forged = arena_sprintf(a, "{\"tag\":\"%s\",\"data\":{\"price\":\"0.01\"}}", tag);
    planted_is_rejected(&c, a, t, "p:1", forged, strlen(forged), "current tag, no MAC");
    forged = arena_sprintf(a,
                           "{\"tag\":\"%s\",\"exp\":4102444800,\"data\":{\"price\":\"0.01\"},"
                           "\"mac\":\"%064d\"}",
                           tag, 0);
    planted_is_rejected(&c, a, t, "p:1", forged, strlen(forged), "current tag, MAC of zeros");
    {
        struct config cf2;
        struct cache c2;
        struct fixed f = {.json = "{\"price\":\"0.01\"}"};
        char *v2;

        /* Made by our own code with a secret that is not ours. */
        cf_with_key(&cf2, 0x22);
        cache_init(&c2, &cf2, itest_db());
        CU_ASSERT_EQUAL(cache_set(&c2, a, t, "products", "p:evil", f.json, strlen(f.json), 0), 0);
        v2 = atk_get(a, cache_key(&c, a, t, "products", "p:evil"), &n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
        planted_is_rejected(&c, a, t, "p:1", v2, n, "another secret's value");
        cache_release(&c2);
    }
    /* 2. A genuine value of another tenant (same module and key), its generation copied too. */
    CU_ASSERT_EQUAL(memo(&c, a, tb, "products", "p:1", &other, &res), CACHE_MISS);
    vb = atk_get(a, cache_key(&c, a, tb, "products", "p:1"), &nb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(vb);
    {
        char *gb = atk_get(a, cache_key(&c, a, tb, "products", "__gen__"), &n);

        CU_ASSERT_PTR_NOT_NULL_FATAL(gb);
        atk_set(cache_key(&c, a, t, "products", "__gen__"), gb, n);
        planted_is_rejected(&c, a, t, "p:1", vb, nb, "another tenant's value and generation");
    }
    /* 3. A genuine value of an older generation, re-tagged with the current one. */
    {
        char *old = v, *cur, *at, *retag;
        size_t oldtag = strlen(tag);

        CU_ASSERT_EQUAL(cache_invalidate_module(&c, a, t, "products"), 0);
        CU_ASSERT_EQUAL(memo(&c, a, t, "products", "p:2", &real, &res), CACHE_MISS);
        cur = atk_tag(&c, a, t, "products");
        CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
        CU_ASSERT_STRING_NOT_EQUAL(cur, tag);
        at = strstr(old, tag);
        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        retag = arena_sprintf(a, "%.*s%s%s", (int)(at - old), old, cur, at + oldtag);
        planted_is_rejected(&c, a, t, "p:1", retag, strlen(retag), "older value re-tagged");
    }
    /* 4. A genuine current value, truncated (an interrupted write, a prefix of it). */
    v = atk_get(a, cache_key(&c, a, t, "products", "p:2"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    planted_is_rejected(&c, a, t, "p:2", v, n - 3, "current value less its last 3 bytes");
    planted_is_rejected(&c, a, t, "p:2", v, n / 2, "current value, first half");
    /* 5. A genuine value of another key of the same tenant and generation. */
    CU_ASSERT_EQUAL(memo(&c, a, t, "products", "p:3", &other, &res), CACHE_MISS);
    vb = atk_get(a, cache_key(&c, a, t, "products", "p:3"), &nb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(vb);
    planted_is_rejected(&c, a, t, "p:2", vb, nb, "another key's value");
    /* The loader answers in every case, and the next read is a hit of the real value. */
    real.calls = 0;
    CU_ASSERT_EQUAL(memo(&c, a, t, "products", "p:2", &real, &res), CACHE_MISS);
    CU_ASSERT_EQUAL(real.calls, 1);
    CU_ASSERT_EQUAL(memo(&c, a, t, "products", "p:2", &real, &res), CACHE_HIT);
    CU_ASSERT(res_is(&res, real.json));
    printf("\n");
    cache_release(&c);
    arena_free(a);
}

static void test_signed_rotation_accepts_the_previous_secret_for_reads(void)
{
    struct config oldcf, newcf, lone;
    struct cache oldc, newc, lonec;
    struct arena *a = arena_new();
    struct cache_result res;
    int64_t t = itest_tenant("sig-rot");
    struct fixed f = {.json = "[1]"}, g = {.json = "[2]"};
    uint64_t r0;

    cf_with_key(&oldcf, 0x33);
    cf_with_key(&newcf, 0x44);
    memcpy(newcf.cache_mac_key_prev, oldcf.cache_mac_key, sizeof(newcf.cache_mac_key_prev));
    newcf.cache_mac_prev = true;
    cf_with_key(&lone, 0x55);
    cache_init(&oldc, &oldcf, itest_db());
    cache_init(&newc, &newcf, itest_db());
    cache_init(&lonec, &lone, itest_db());
    /* A host still on the old secret wrote it; a host rolled out to the new one reads it. */
    CU_ASSERT_EQUAL(memo(&oldc, a, t, "products", "r", &f, &res), CACHE_MISS);
    CU_ASSERT_EQUAL(memo(&newc, a, t, "products", "r", &f, &res), CACHE_HIT);
    CU_ASSERT(res_is(&res, "[1]"));
    CU_ASSERT_EQUAL(f.calls, 1);
    /* What the new host writes is signed with the new secret only... */
    CU_ASSERT_EQUAL(memo(&newc, a, t, "products", "s", &g, &res), CACHE_MISS);
    CU_ASSERT_EQUAL(memo(&newc, a, t, "products", "s", &g, &res), CACHE_HIT);
    /* ...which a host that knows neither refuses (as the old one does until it is rolled). */
    r0 = rejected("products");
    cache_get(&lonec, a, t, "products", "s", &res);
    CU_ASSERT_EQUAL(res.status, CACHE_MISS);
    cache_get(&oldc, a, t, "products", "s", &res);
    CU_ASSERT_EQUAL(res.status, CACHE_MISS);
    CU_ASSERT_EQUAL(rejected("products") - r0, 2);
    cache_release(&oldc);
    cache_release(&newc);
    cache_release(&lonec);
    arena_free(a);
}

/*
 * The bound on replay: a value we signed ourselves, kept by Redis past its TTL (PERSIST) with its
 * old generation token put back, is served until its signed expiry and never after.
 */
static void test_signed_replay_is_bounded_by_the_signed_expiry(void)
{
    struct config cf;
    struct cache c;
    struct arena *a = arena_new();
    struct cache_result res;
    int64_t t = itest_tenant("sig-replay");
    const char *key;
    char *gen;
    size_t n;
    int64_t start = itest_now_ms(), served_ms = -1, deadline;
    uint64_t r0 = rejected("products");

    cf_with_key(&cf, 0x66);
    cache_init(&c, &cf, itest_db());
    key = cache_key(&c, a, t, "products", "old");
    CU_ASSERT_EQUAL(cache_set(&c, a, t, "products", "old", "[\"old\"]", 7, 2), 0);
    gen = atk_get(a, cache_key(&c, a, t, "products", "__gen__"), &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gen);
    CU_ASSERT_EQUAL(cache_invalidate_module(&c, a, t, "products"), 0);
    cache_get(&c, a, t, "products", "old", &res);
    CU_ASSERT_EQUAL(res.status, CACHE_MISS);
    /* The attacker keeps the value and restores the generation it saw. */
    freeReplyObject(redisCommand(atk_conn(), "PERSIST %s", key));
    atk_set(cache_key(&c, a, t, "products", "__gen__"), gen, n);
    deadline = start + 6000;
    for (;;) {
        struct timespec ts = {0, 50 * 1000000L};

        cache_get(&c, a, t, "products", "old", &res);
        if (res.status != CACHE_HIT || itest_now_ms() > deadline)
            break;
        served_ms = itest_now_ms() - start;
        nanosleep(&ts, NULL);
    }
    printf("\n    replayed value (TTL 2 s) served until %" PRId64 " ms after it was stored, then "
           "%s; Redis still holds it: %s\n",
           served_ms, cache_status_name(res.status), atk_get(a, key, &n) ? "yes" : "no");
    CU_ASSERT_EQUAL(res.status, CACHE_MISS);
    CU_ASSERT(served_ms < 3000);
    /* Stale by its own expiry, not forged: not counted as rejected. */
    CU_ASSERT_EQUAL(rejected("products") - r0, 0);
    cache_release(&c);
    arena_free(a);
}

static int suite_clean(void)
{
    if (atk)
        redisFree(atk);
    atk = NULL;
    return 0;
}

int test_signed_register(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"forgeries are misses", test_signed_forgeries_are_misses},
        {"rotation accepts the previous secret for reads",
         test_signed_rotation_accepts_the_previous_secret_for_reads},
        {"replay is bounded by the signed expiry",
         test_signed_replay_is_bounded_by_the_signed_expiry},
    };
    CU_pSuite s = CU_add_suite("signed", NULL, suite_clean);
    size_t i;

    if (!s)
        return -1;
    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        if (!CU_add_test(s, tests[i].name, tests[i].fn))
            return -1;
    return 0;
}
