/* test_arena: allocation, cleanups and reset. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "unit.h"

static int cleanup_order[4];
static int cleanup_count;

static void record(void *p)
{
    cleanup_order[cleanup_count++] = (int)(intptr_t)p;
}

static void test_arena_alloc_is_zeroed_and_aligned(void)
{
    struct arena *a = arena_new();
    char *p = arena_alloc(a, 3);
    long double *q = arena_alloc(a, sizeof(long double));

    CU_ASSERT_EQUAL(p[0] | p[1] | p[2], 0);
    CU_ASSERT_EQUAL((uintptr_t)q % _Alignof(long double), 0);
    arena_free(a);
}

static void test_arena_large_allocation_and_reset_releases(void)
{
    struct arena *a = arena_new();
    size_t base = arena_capacity(a);
    char *big = arena_alloc(a, 1 << 20);

    memset(big, 'x', 1 << 20);
    CU_ASSERT(arena_capacity(a) >= base + (1 << 20));
    arena_reset(a);
    CU_ASSERT_EQUAL(arena_capacity(a), base);
    arena_free(a);
}

static void test_arena_cleanups_run_latest_first_on_reset(void)
{
    struct arena *a = arena_new();

    cleanup_count = 0;
    arena_defer(a, record, (void *)(intptr_t)1);
    arena_defer(a, record, (void *)(intptr_t)2);
    arena_reset(a);
    CU_ASSERT_EQUAL(cleanup_count, 2);
    CU_ASSERT_EQUAL(cleanup_order[0], 2);
    CU_ASSERT_EQUAL(cleanup_order[1], 1);
    arena_reset(a);
    CU_ASSERT_EQUAL(cleanup_count, 2);
    arena_free(a);
}

static void test_arena_sprintf_and_strndup(void)
{
    struct arena *a = arena_new();

    CU_ASSERT_STRING_EQUAL(arena_sprintf(a, "%s:%d", "k", 42), "k:42");
    CU_ASSERT_STRING_EQUAL(arena_strndup(a, "abcdef", 3), "abc");
    arena_free(a);
}

int test_arena_register(void)
{
    CU_pSuite s = CU_add_suite("arena", NULL, NULL);

    if (!s ||
        !CU_add_test(s, "alloc is zeroed and aligned", test_arena_alloc_is_zeroed_and_aligned) ||
        !CU_add_test(s, "large allocation, reset releases",
                     test_arena_large_allocation_and_reset_releases) ||
        !CU_add_test(s, "cleanups run latest first on reset",
                     test_arena_cleanups_run_latest_first_on_reset) ||
        !CU_add_test(s, "sprintf and strndup", test_arena_sprintf_and_strndup))
        return -1;
    return 0;
}
