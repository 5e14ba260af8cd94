/* test_tenant: the tenant's locale and currency rules (services/tenant), the ISO 4217 table. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "services/tenant.h"
#include "unit.h"

static void test_tenant_currency_table_is_sorted_capitals(void)
{
    const char *code, *prev = NULL;
    size_t i, k;

    for (i = 0; (code = tenant_currency_at(i)); i++) {
        CU_ASSERT_EQUAL(strlen(code), 3);
        for (k = 0; k < 3; k++)
            CU_ASSERT_TRUE(code[k] >= 'A' && code[k] <= 'Z');
        if (prev)
            CU_ASSERT_TRUE(strcmp(prev, code) < 0); /* sorted, no duplicate: bsearch finds all */
        CU_ASSERT_TRUE(tenant_currency_valid(code));
        prev = code;
    }
    /* list one holds about 180 codes; a table cut short or doubled would show here */
    CU_ASSERT_TRUE(i >= 170 && i <= 190);
    CU_ASSERT_PTR_NULL(tenant_currency_at(i + 1));
}

static void test_tenant_currency_valid_active_codes_only(void)
{
    static const char *const ok[] = {"USD", "EUR", "MXN", "ARS", "GBP", "JPY", "AED",
                                     "ZWG", "XCG", "VES", "VED", "SLE", "STN", "MRU",
                                     "UYW", "CHF", "XAU", "XXX", "ZMW", "BOV"};
    static const char *const bad[] = {"usd", "Eur", "ABC", "HRK", "VEF", "DEM",  "ZWL",
                                      "SLL", "ANG", "BGN", "CUC", "US",  "USDX", "",
                                      "U D", "EU1", "ÉUR", "MRO", "STD", "LTL"};
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        CU_ASSERT_TRUE(tenant_currency_valid(ok[i]));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(tenant_currency_valid(bad[i]));
    CU_ASSERT_FALSE(tenant_currency_valid(NULL));
}

static void test_tenant_locale_valid_en_es(void)
{
    CU_ASSERT_TRUE(tenant_locale_valid("en"));
    CU_ASSERT_TRUE(tenant_locale_valid("es"));
    CU_ASSERT_FALSE(tenant_locale_valid("EN"));
    CU_ASSERT_FALSE(tenant_locale_valid("fr"));
    CU_ASSERT_FALSE(tenant_locale_valid("es-MX"));
    CU_ASSERT_FALSE(tenant_locale_valid(""));
    CU_ASSERT_FALSE(tenant_locale_valid(NULL));
}

static void test_tenant_change_check_names_the_field(void)
{
    struct tenant_change ch = {NULL, NULL, NULL};
    struct app_err err;
    char long_name[TENANT_NAME_MAX * 2 + 8];
    size_t i;

    err_clear(&err);
    CU_ASSERT_EQUAL(tenant_change_check(&ch, &err), 0);
    ch.name = "Tienda Ñandú";
    ch.locale = "es";
    ch.currency = "ARS";
    CU_ASSERT_EQUAL(tenant_change_check(&ch, &err), 0);

    ch.locale = "fr";
    CU_ASSERT_EQUAL(tenant_change_check(&ch, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "locale");
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "validation_error");
    ch.locale = NULL;
    ch.currency = "HRK";
    CU_ASSERT_EQUAL(tenant_change_check(&ch, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.field, "currency");
    ch.currency = NULL;

    ch.name = " \t ";
    CU_ASSERT_EQUAL(tenant_change_check(&ch, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.field, "name");
    ch.name = "";
    CU_ASSERT_EQUAL(tenant_change_check(&ch, &err), -1);
    /* 200 characters (two bytes each) pass, 201 do not */
    for (i = 0; i < TENANT_NAME_MAX; i++)
        memcpy(long_name + 2 * i, "\xc3\xb1", 2);
    long_name[2 * TENANT_NAME_MAX] = '\0';
    ch.name = long_name;
    CU_ASSERT_EQUAL(tenant_change_check(&ch, &err), 0);
    memcpy(long_name + 2 * TENANT_NAME_MAX, "x", 2);
    CU_ASSERT_EQUAL(tenant_change_check(&ch, &err), -1);
    ch.name = "\xc3";
    CU_ASSERT_EQUAL(tenant_change_check(&ch, &err), -1);
}

int test_tenant_register(void)
{
    CU_pSuite s = CU_add_suite("tenant", NULL, NULL);

    if (!s ||
        !CU_add_test(s, "currency table sorted capitals",
                     test_tenant_currency_table_is_sorted_capitals) ||
        !CU_add_test(s, "currency: active ISO 4217 codes only",
                     test_tenant_currency_valid_active_codes_only) ||
        !CU_add_test(s, "locale en or es", test_tenant_locale_valid_en_es) ||
        !CU_add_test(s, "change check names the field", test_tenant_change_check_names_the_field))
        return -1;
    return 0;
}
