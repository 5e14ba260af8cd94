/* test_redis: the pure parts of the Redis client (glob escaping, a fresh client's state). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "core/redis.h"
#include "unit.h"

static void test_redis_glob_escape_quotes_metacharacters(void)
{
    struct buf b;

    buf_init(&b);
    redis_glob_escape(&b, "stock:tenant:1:products:");
    CU_ASSERT_STRING_EQUAL(b.data, "stock:tenant:1:products:");
    buf_reset(&b);
    redis_glob_escape(&b, "a*b?c[d]e\\f");
    CU_ASSERT_STRING_EQUAL(b.data, "a\\*b\\?c\\[d\\]e\\\\f");
    CU_ASSERT_FALSE(b.failed);
    buf_release(&b);
}

static void test_redis_fresh_client_is_not_connected_nor_backing_off(void)
{
    struct config cf;
    struct redis r;

    memset(&cf, 0, sizeof(cf));
    redis_init(&r, &cf);
    CU_ASSERT_PTR_NULL(r.rc);
    CU_ASSERT_FALSE(redis_backing_off(&r));
    CU_ASSERT_FALSE(r.reconnected);
    CU_ASSERT_EQUAL(r.backoff_initial_ms, REDIS_BACKOFF_INITIAL_MS);
    CU_ASSERT_EQUAL(r.backoff_max_ms, REDIS_BACKOFF_MAX_MS);
    redis_release(&r);
}

int test_redis_register(void)
{
    CU_pSuite s = CU_add_suite("redis", NULL, NULL);

    if (!s ||
        !CU_add_test(s, "glob escape quotes metacharacters",
                     test_redis_glob_escape_quotes_metacharacters) ||
        !CU_add_test(s, "fresh client is not connected nor backing off",
                     test_redis_fresh_client_is_not_connected_nor_backing_off))
        return -1;
    return 0;
}
