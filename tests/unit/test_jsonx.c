/* test_jsonx: bounded parsing and the typed field readers. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "core/jsonx.h"
#include "unit.h"

static void test_jsonx_parse_limits(void)
{
    struct arena *a = arena_new();
    struct app_err err;
    char deep[2 * JSONX_MAX_DEPTH + 3];
    char *big = arena_alloc(a, JSONX_MAX_LEN + 2);
    size_t i;

    /* one level deeper than JSONX_MAX_DEPTH */
    for (i = 0; i <= JSONX_MAX_DEPTH; i++) {
        deep[i] = '[';
        deep[2 * JSONX_MAX_DEPTH + 1 - i] = ']';
    }
    deep[2 * JSONX_MAX_DEPTH + 2] = '\0';
    err_clear(&err);
    CU_ASSERT_PTR_NULL(jsonx_parse(a, deep, strlen(deep), &err));
    CU_ASSERT_EQUAL(err.code, ERR_BAD_REQUEST);
    CU_ASSERT_STRING_EQUAL(err.msg, "malformed JSON: nested too deeply");
    /* a JSON string of exactly JSONX_MAX_LEN bytes is taken, one byte more is not */
    memset(big, 'a', JSONX_MAX_LEN + 1);
    big[0] = '"';
    big[JSONX_MAX_LEN - 1] = '"';
    CU_ASSERT_PTR_NOT_NULL(jsonx_parse(a, big, JSONX_MAX_LEN, &err));
    big[JSONX_MAX_LEN - 1] = ' ';
    err_clear(&err);
    CU_ASSERT_PTR_NULL(jsonx_parse(a, big, JSONX_MAX_LEN + 1, &err));
    CU_ASSERT_EQUAL(err.code, ERR_TOO_LARGE);
    arena_free(a);
}

static void test_jsonx_field_readers(void)
{
    struct arena *a = arena_new();
    struct app_err err;
    const char *txt = "{\"name\": \"caf\xc3\xa9\", \"n\": 5, \"neg\": -1, \"nul\": null, "
                      "\"s\": \"5\", \"huge\": 18446744073709551616, \"z\": \"a\\u0000b\"}";
    json_object *o = jsonx_parse(a, txt, strlen(txt), &err);
    const char *s;
    int64_t id;

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_EQUAL(jsonx_get_string(o, "name", true, 4, &s, &err), 0);
    CU_ASSERT_STRING_EQUAL(s, "caf\xc3\xa9");
    CU_ASSERT_EQUAL(jsonx_get_string(o, "name", true, 3, &s, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.field, "name");
    CU_ASSERT_EQUAL(jsonx_get_string(o, "missing", true, 3, &s, &err), -1);
    CU_ASSERT_EQUAL(jsonx_get_string(o, "missing", false, 3, &s, &err), 0);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(jsonx_get_string(o, "n", true, 3, &s, &err), -1);
    CU_ASSERT_EQUAL(jsonx_get_string(o, "z", true, 10, &s, &err), -1);
    CU_ASSERT_EQUAL(jsonx_get_id(o, "n", true, false, &id, &err), 0);
    CU_ASSERT_EQUAL(id, 5);
    CU_ASSERT_EQUAL(jsonx_get_id(o, "neg", true, false, &id, &err), -1);
    CU_ASSERT_EQUAL(jsonx_get_id(o, "s", true, false, &id, &err), -1);
    CU_ASSERT_EQUAL(jsonx_get_id(o, "huge", true, false, &id, &err), -1);
    CU_ASSERT_EQUAL(jsonx_get_id(o, "nul", true, true, &id, &err), 0);
    CU_ASSERT_EQUAL(id, -1);
    CU_ASSERT_EQUAL(jsonx_get_id(o, "nul", true, false, &id, &err), -1);
    arena_free(a);
}

int test_jsonx_register(void)
{
    CU_pSuite s = CU_add_suite("jsonx", NULL, NULL);

    if (!s || !CU_add_test(s, "parse limits", test_jsonx_parse_limits) ||
        !CU_add_test(s, "field readers", test_jsonx_field_readers))
        return -1;
    return 0;
}
