/* test_jsonx: exact decimals in and out, ISO timestamps, field readers. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "core/jsonx.h"
#include "unit.h"

static void test_jsonx_decimal_parse_valid(void)
{
    static const struct {
        const char *in;
        int scale;
        int64_t want;
    } ok[] = {
        {"12.50", 2, 1250}, {"12.5", 2, 1250}, {"12", 2, 1200},
        {"0.01", 2, 1},     {"0", 2, 0},       {"007.10", 2, 710},
        {"1.234", 3, 1234}, {"0.001", 3, 1},   {"999999999999.99", 2, 99999999999999},
        {"-0", 2, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct app_err err;
        int64_t v = -42;

        CU_ASSERT_EQUAL(dec_parse(ok[i].in, ok[i].scale, false, &v, "price", &err), 0);
        CU_ASSERT_EQUAL(v, ok[i].want);
    }
}

static void test_jsonx_decimal_parse_rejects(void)
{
    static const char *bad[] = {
        "",    "abc", "1.",  ".5",  "1.234",    "-1",   "+1",  "1e3",           "1E-2",
        " 1",  "1 ",  "NaN", "inf", "Infinity", "0x10", "1,5", "1000000000000", "12.3.4",
        "--1", "1.2a"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct app_err err;
        int64_t v;

        err_clear(&err);
        CU_ASSERT_EQUAL(dec_parse(bad[i], 2, false, &v, "price", &err), -1);
        CU_ASSERT_EQUAL(err.code, ERR_INVALID);
        CU_ASSERT_STRING_EQUAL(err.field, "price");
    }
}

static void test_jsonx_decimal_negative_when_allowed(void)
{
    struct app_err err;
    int64_t v;

    CU_ASSERT_EQUAL(dec_parse("-2.5", 3, true, &v, "quantity", &err), 0);
    CU_ASSERT_EQUAL(v, -2500);
}

static void test_jsonx_decimal_from_json_keeps_exact_text(void)
{
    struct arena *a = arena_new();
    struct app_err err;
    static const char txt[] = "{\"a\": 0.1, \"b\": \"19.99\", \"c\": 3, \"d\": 1e2, "
                              "\"e\": true, \"f\": 123456789012345678901234567890, "
                              "\"g\": 2.675, \"h\": 2.5E-1, \"i\": 1e400, \"j\": 1e-3}";
    json_object *o = jsonx_parse(a, txt, sizeof(txt) - 1, &err);
    json_object *v;
    int64_t out;

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    json_object_object_get_ex(o, "a", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "a", &err), 0);
    CU_ASSERT_EQUAL(out, 10);
    json_object_object_get_ex(o, "b", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "b", &err), 0);
    CU_ASSERT_EQUAL(out, 1999);
    json_object_object_get_ex(o, "c", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "c", &err), 0);
    CU_ASSERT_EQUAL(out, 300);
    json_object_object_get_ex(o, "g", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 3, false, &out, "g", &err), 0);
    CU_ASSERT_EQUAL(out, 2675); /* a double round trip would give 2674 or 2675.000000001 */
    /* a JSON number with an exponent is exact too; an absurd one is refused */
    json_object_object_get_ex(o, "d", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "d", &err), 0);
    CU_ASSERT_EQUAL(out, 10000);
    json_object_object_get_ex(o, "h", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 3, false, &out, "h", &err), 0);
    CU_ASSERT_EQUAL(out, 250);
    json_object_object_get_ex(o, "i", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "i", &err), -1);
    json_object_object_get_ex(o, "j", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "j", &err), -1);
    json_object_object_get_ex(o, "e", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "e", &err), -1);
    CU_ASSERT_STRING_EQUAL(err.field, "e");
    json_object_object_get_ex(o, "f", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "f", &err), -1);
    arena_free(a);
}

static void test_jsonx_decimal_format(void)
{
    char s[32];

    dec_format(1250, 2, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "12.50");
    dec_format(5, 2, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "0.05");
    dec_format(0, 2, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "0.00");
    dec_format(-1, 3, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "-0.001");
    dec_format(INT64_MIN, 2, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "-92233720368547758.08");
    dec_format(99999999999999, 2, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "999999999999.99");
}

static void test_jsonx_pg_timestamp_to_iso(void)
{
    struct arena *a = arena_new();

    CU_ASSERT_STRING_EQUAL(jsonx_pg_timestamp(a, "2026-01-05 10:00:00+00"),
                           "2026-01-05T10:00:00+00:00");
    CU_ASSERT_STRING_EQUAL(jsonx_pg_timestamp(a, "2026-01-05 10:00:00.123456-03"),
                           "2026-01-05T10:00:00.123456-03:00");
    CU_ASSERT_STRING_EQUAL(jsonx_pg_timestamp(a, "2026-07-01 23:59:59.5+05:30"),
                           "2026-07-01T23:59:59.5+05:30");
    CU_ASSERT_PTR_NULL(jsonx_pg_timestamp(a, "infinity"));
    CU_ASSERT_PTR_NULL(jsonx_pg_timestamp(a, "2026-01-05 10:00:00"));
    CU_ASSERT_PTR_NULL(jsonx_pg_timestamp(a, "2026-01-05 10:00:00+00 junk"));
    CU_ASSERT_PTR_NULL(jsonx_pg_timestamp(a, NULL));
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

    if (!s || !CU_add_test(s, "decimal parse valid", test_jsonx_decimal_parse_valid) ||
        !CU_add_test(s, "decimal parse rejects", test_jsonx_decimal_parse_rejects) ||
        !CU_add_test(s, "decimal negative when allowed",
                     test_jsonx_decimal_negative_when_allowed) ||
        !CU_add_test(s, "decimal from JSON keeps exact text",
                     test_jsonx_decimal_from_json_keeps_exact_text) ||
        !CU_add_test(s, "decimal format", test_jsonx_decimal_format) ||
        !CU_add_test(s, "PostgreSQL timestamp to ISO 8601", test_jsonx_pg_timestamp_to_iso) ||
        !CU_add_test(s, "field readers", test_jsonx_field_readers))
        return -1;
    return 0;
}
