/* test_dec: exact decimals in and out: bounds, scales, signs, JSON numbers, the fixed format. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "core/dec.h"
#include "core/jsonx.h"
#include "unit.h"

static void test_dec_parse_valid(void)
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

static void test_dec_parse_rejects(void)
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

static void test_dec_negative_when_allowed(void)
{
    struct app_err err;
    int64_t v;

    CU_ASSERT_EQUAL(dec_parse("-2.5", 3, true, &v, "quantity", &err), 0);
    CU_ASSERT_EQUAL(v, -2500);
}

static void test_dec_from_json_keeps_exact_text(void)
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

static void test_dec_format(void)
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

static void test_dec_parse_error_messages_name_the_field(void)
{
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        {NULL, "'price' is required"},
        {"1.234", "'price' has more than 2 decimals"},
        {"-1", "'price' must not be negative"},
        {"1000000000000", "'price' is too large"},
        {"1e3", "'price' must be a decimal number such as \"12.50\""},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct app_err err;
        int64_t v = 42;

        err_clear(&err);
        CU_ASSERT_EQUAL(dec_parse(cases[i].in, 2, false, &v, "price", &err), -1);
        CU_ASSERT_STRING_EQUAL(err.msg, cases[i].msg);
        CU_ASSERT_STRING_EQUAL(err.slug, "invalid_decimal");
        CU_ASSERT_EQUAL(v, 42);
    }
}

static void test_dec_parse_bounds_and_scales(void)
{
    struct app_err err;
    int64_t v;

    /* DEC_MAX_UNITS is the largest integral part at every scale, with every decimal given */
    CU_ASSERT_EQUAL(dec_parse("999999999999", 0, false, &v, "n", &err), 0);
    CU_ASSERT_EQUAL(v, DEC_MAX_UNITS);
    CU_ASSERT_EQUAL(dec_parse("999999999999.999", 3, false, &v, "n", &err), 0);
    CU_ASSERT_EQUAL(v, DEC_MAX_UNITS * 1000 + 999);
    CU_ASSERT_EQUAL(dec_parse("-999999999999.999", 3, true, &v, "n", &err), 0);
    CU_ASSERT_EQUAL(v, -(DEC_MAX_UNITS * 1000 + 999));
    CU_ASSERT_EQUAL(dec_parse("000000000000001", 2, false, &v, "n", &err), -1);
    /* scale 0 takes no decimals at all */
    CU_ASSERT_EQUAL(dec_parse("7", 0, false, &v, "n", &err), 0);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(dec_parse("7.0", 0, false, &v, "n", &err), -1);
    /* trailing zeros count as decimals */
    CU_ASSERT_EQUAL(dec_parse("1.500", 2, false, &v, "n", &err), -1);
    CU_ASSERT_EQUAL(dec_parse("1.500", 3, false, &v, "n", &err), 0);
    CU_ASSERT_EQUAL(v, 1500);
    /* "-0" and "-0.00" are zero, not negative */
    CU_ASSERT_EQUAL(dec_parse("-0.00", 2, false, &v, "n", &err), 0);
    CU_ASSERT_EQUAL(v, 0);
}

static void test_dec_from_json_strings_and_exponents(void)
{
    struct arena *a = arena_new();
    struct app_err err;
    static const char txt[] = "{\"nul\": \"1\\u00002\", \"up\": 1E+2, \"neg\": -1.5e1, "
                              "\"big\": 1e41, \"tiny\": 5e-3, \"n\": null, \"arr\": [1]}";
    json_object *o = jsonx_parse(a, txt, sizeof(txt) - 1, &err), *v;
    int64_t out;

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    json_object_object_get_ex(o, "nul", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "nul", &err), -1);
    json_object_object_get_ex(o, "up", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "up", &err), 0);
    CU_ASSERT_EQUAL(out, 10000);
    json_object_object_get_ex(o, "neg", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 3, true, &out, "neg", &err), 0);
    CU_ASSERT_EQUAL(out, -15000);
    CU_ASSERT_EQUAL(dec_from_json(v, 3, false, &out, "neg", &err), -1);
    json_object_object_get_ex(o, "big", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "big", &err), -1);
    json_object_object_get_ex(o, "tiny", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 3, false, &out, "tiny", &err), 0);
    CU_ASSERT_EQUAL(out, 5);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "tiny", &err), -1);
    json_object_object_get_ex(o, "arr", &v);
    CU_ASSERT_EQUAL(dec_from_json(v, 2, false, &out, "arr", &err), -1);
    CU_ASSERT_STRING_EQUAL(err.msg, "'arr' must be a decimal number or string");
    CU_ASSERT_EQUAL(dec_from_json(NULL, 2, false, &out, "n", &err), -1);
    CU_ASSERT_STRING_EQUAL(err.field, "n");
    arena_free(a);
}

static void test_dec_from_db_trusts_numeric_text(void)
{
    CU_ASSERT_EQUAL(dec_from_db("12.50", DEC_MONEY_SCALE), 1250);
    CU_ASSERT_EQUAL(dec_from_db("-3.25", DEC_MONEY_SCALE), -325);
    CU_ASSERT_EQUAL(dec_from_db("0.001", DEC_QTY_SCALE), 1);
    CU_ASSERT_EQUAL(dec_from_db("abc", DEC_MONEY_SCALE), 0);
    CU_ASSERT_EQUAL(dec_from_db("1.234", DEC_MONEY_SCALE), 0);
    CU_ASSERT_EQUAL(dec_from_db(NULL, DEC_MONEY_SCALE), 0);
}

static void test_dec_format_scale_edges(void)
{
    char s[32];
    struct app_err err;
    int64_t v;

    dec_format(42, 0, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "42");
    dec_format(-42, -1, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "-42");
    dec_format(1, 19, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "0.000000000000000001");
    dec_format(INT64_MAX, 3, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "9223372036854775.807");
    /* what dec_format writes, dec_parse reads back */
    dec_format(-DEC_MAX_UNITS * 1000 - 999, DEC_QTY_SCALE, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "-999999999999.999");
    CU_ASSERT_EQUAL(dec_parse(s, DEC_QTY_SCALE, true, &v, "n", &err), 0);
    CU_ASSERT_EQUAL(v, -DEC_MAX_UNITS * 1000 - 999);
}

int test_dec_register(void)
{
    CU_pSuite s = CU_add_suite("dec", NULL, NULL);

    if (!s || !CU_add_test(s, "parse valid", test_dec_parse_valid) ||
        !CU_add_test(s, "parse rejects", test_dec_parse_rejects) ||
        !CU_add_test(s, "negative when allowed", test_dec_negative_when_allowed) ||
        !CU_add_test(s, "parse error messages name the field",
                     test_dec_parse_error_messages_name_the_field) ||
        !CU_add_test(s, "parse bounds and scales", test_dec_parse_bounds_and_scales) ||
        !CU_add_test(s, "from JSON keeps exact text", test_dec_from_json_keeps_exact_text) ||
        !CU_add_test(s, "from JSON strings and exponents",
                     test_dec_from_json_strings_and_exponents) ||
        !CU_add_test(s, "from DB trusts NUMERIC text", test_dec_from_db_trusts_numeric_text) ||
        !CU_add_test(s, "format", test_dec_format) ||
        !CU_add_test(s, "format scale edges", test_dec_format_scale_edges))
        return -1;
    return 0;
}
