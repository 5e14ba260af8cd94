/* test_buf: struct buf invariants. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "unit.h"

static void test_buf_init_is_empty_string(void)
{
    struct buf b;

    buf_init(&b);
    CU_ASSERT_PTR_NOT_NULL(b.data);
    CU_ASSERT_STRING_EQUAL(b.data, "");
    CU_ASSERT_EQUAL(b.len, 0);
    buf_release(&b);
}

static void test_buf_addf_grows_past_capacity(void)
{
    struct buf b;
    int i;

    buf_init(&b);
    for (i = 0; i < 1000; i++)
        buf_addf(&b, "%04d,", i);
    CU_ASSERT_FALSE(b.failed);
    CU_ASSERT_EQUAL(b.len, 5000);
    CU_ASSERT_EQUAL(strlen(b.data), 5000);
    CU_ASSERT_EQUAL(memcmp(b.data + 4995, "0999,", 5), 0);
    buf_release(&b);
}

static void test_buf_limit_sets_sticky_failed(void)
{
    struct buf b;

    buf_init(&b);
    b.limit = 10;
    buf_adds(&b, "12345");
    buf_adds(&b, "678901");
    CU_ASSERT_TRUE(b.failed);
    buf_adds(&b, "x");
    CU_ASSERT_EQUAL(b.len, 5);
    CU_ASSERT_STRING_EQUAL(b.data, "12345");
    buf_reset(&b);
    CU_ASSERT_FALSE(b.failed);
    CU_ASSERT_EQUAL(b.len, 0);
    buf_release(&b);
}

static void test_buf_binary_and_detach(void)
{
    struct buf b;
    size_t len;
    char *p;

    buf_init(&b);
    buf_add(&b, "a\0b", 3);
    CU_ASSERT_EQUAL(b.len, 3);
    p = buf_detach(&b, &len);
    CU_ASSERT_EQUAL(len, 3);
    CU_ASSERT_EQUAL(memcmp(p, "a\0b", 3), 0);
    CU_ASSERT_STRING_EQUAL(b.data, "");
    free(p);
}

int test_buf_register(void)
{
    CU_pSuite s = CU_add_suite("buf", NULL, NULL);

    if (!s || !CU_add_test(s, "init is empty string", test_buf_init_is_empty_string) ||
        !CU_add_test(s, "addf grows past capacity", test_buf_addf_grows_past_capacity) ||
        !CU_add_test(s, "limit sets sticky failed", test_buf_limit_sets_sticky_failed) ||
        !CU_add_test(s, "binary data and detach", test_buf_binary_and_detach))
        return -1;
    return 0;
}
