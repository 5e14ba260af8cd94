/* test_cache_key: the key format of SPEC §4, built without touching Redis. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "core/cache.h"
#include "unit.h"

static const char *no_env(void *ctx, const char *name)
{
    (void)ctx;
    if (!strcmp(name, "STOCK_WORKERS"))
        return "1";
    if (!strcmp(name, "CACHE_KEY_PREFIX"))
        return ctx ? "shop" : NULL;
    return NULL;
}

static void test_cache_key_format(void)
{
    struct config cf;
    struct cache c;
    struct arena *a = arena_new();
    char e[128];

    CU_ASSERT_EQUAL_FATAL(config_load(&cf, no_env, NULL, e, sizeof(e)), 0);
    cache_init(&c, &cf, NULL);
    CU_ASSERT_STRING_EQUAL(cache_key(&c, a, 1, "balance", "series:daily:2026-01-01:2026-01-31:all"),
                           "stock:tenant:1:balance:series:daily:2026-01-01:2026-01-31:all");
    CU_ASSERT_STRING_EQUAL(cache_key(&c, a, 42, "products", "list:q=:limit=50"),
                           "stock:tenant:42:products:list:q=:limit=50");
    cache_release(&c);
    CU_ASSERT_EQUAL_FATAL(config_load(&cf, no_env, &cf, e, sizeof(e)), 0);
    cache_init(&c, &cf, NULL);
    CU_ASSERT_STRING_EQUAL(cache_key(&c, a, 7, "uom", "all"), "shop:tenant:7:uom:all");
    CU_ASSERT_STRING_NOT_EQUAL(cache_key(&c, a, 7, "uom", "all"),
                               cache_key(&c, a, 70, "uom", "all"));
    cache_release(&c);
    arena_free(a);
}

int test_cache_key_register(void)
{
    CU_pSuite s = CU_add_suite("cache_key", NULL, NULL);

    if (!s ||
        !CU_add_test(s, "key format carries prefix, tenant and module", test_cache_key_format))
        return -1;
    return 0;
}
