/*
 * test_tenant: the tenant's settings service against the real PostgreSQL and Redis: GET's
 * shape and the defaults of a tenant made before locales, a change of name, locale and
 * currency that the tenant's cached sessions show at once, refused changes that write nothing,
 * an empty change that writes nothing, and another tenant that sees nothing of it.
 */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/jsonx.h"
#include "itest.h"
#include "services/auth.h"
#include "services/tenant.h"

static struct config cf;
static struct cache cache;
static struct arena *arena;
static int64_t ta, tb;

#define PASSWORD "tenant suite password"

static int suite_init(void)
{
    if (sodium_init() < 0)
        return -1;
    auth_prepare();
    cf = *itest_config();
    cache_init(&cache, &cf, itest_db());
    arena = arena_new();
    ta = itest_tenant("tenant-a");
    tb = itest_tenant("tenant-b");
    return itest_user(ta, "owner@tenant-a.test", PASSWORD, "admin");
}

static int suite_clean(void)
{
    cache_release(&cache);
    arena_free(arena);
    return 0;
}

static struct catalog cat(int64_t tenant)
{
    struct catalog c = {.db = itest_db(), .cache = &cache, .a = arena, .tenant = tenant};

    return c;
}

/* The string field of out's JSON, in the arena ("" when absent). */
static const char *field(const struct catalog_out *out, const char *name)
{
    struct app_err err;
    json_object *o = jsonx_parse(arena, out->json, out->len, &err), *v;

    if (!o || !json_object_object_get_ex(o, name, &v))
        return "";
    return arena_strdup(arena, json_object_get_string(v));
}

/* tenants.updated_at of id, as text (in the arena). */
static const char *updated_at(int64_t id)
{
    const char *p[1] = {arena_sprintf(arena, "%" PRId64, id)};
    struct app_err err;
    PGresult *res = db_exec(itest_db(), arena, "SELECT updated_at::text FROM tenants WHERE id = $1",
                            1, p, &err);

    return res && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
}

static void test_tenant_get_shape_and_defaults(void)
{
    struct catalog c = cat(ta);
    struct catalog_out out;
    struct app_err err;

    err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(tenant_get(&c, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "id"), arena_sprintf(arena, "%" PRId64, ta));
    CU_ASSERT_STRING_EQUAL(field(&out, "slug"), itest_slug(arena, ta));
    CU_ASSERT_STRING_EQUAL(field(&out, "timezone"), "UTC");
    CU_ASSERT_STRING_EQUAL(field(&out, "locale"), "en");
    CU_ASSERT_STRING_EQUAL(field(&out, "currency"), "USD");
    CU_ASSERT_FALSE(out.cached);
}

static void test_tenant_update_reaches_cached_sessions(void)
{
    struct catalog c = cat(ta), other = cat(tb);
    struct tenant_change ch = {"Tienda Ñandú", "es", "EUR"};
    struct auth_login_result r;
    struct auth_session s;
    struct catalog_out out;
    struct app_err err;
    int retry = 0;
    const char *b_before;

    CU_ASSERT_EQUAL_FATAL(tenant_get(&other, &out, &err), 0);
    b_before = arena_strndup(arena, out.json, out.len);
    err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(auth_login(itest_db(), arena, itest_slug(arena, ta),
                                     "owner@tenant-a.test", PASSWORD, "203.0.113.7", &r, &retry,
                                     &err),
                          0);
    CU_ASSERT_STRING_EQUAL(r.s.tenant_locale, "en");
    CU_ASSERT_STRING_EQUAL(r.s.tenant_currency, "USD");
    /* twice: the second read is the cached session */
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cache, arena, r.token, NULL, &s, &err), 0);
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cache, arena, r.token, NULL, &s, &err), 0);
    CU_ASSERT_STRING_EQUAL(s.tenant_currency, "USD");

    CU_ASSERT_EQUAL_FATAL(tenant_update(&c, &ch, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "name"), "Tienda Ñandú");
    CU_ASSERT_STRING_EQUAL(field(&out, "locale"), "es");
    CU_ASSERT_STRING_EQUAL(field(&out, "currency"), "EUR");
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cache, arena, r.token, NULL, &s, &err), 0);
    CU_ASSERT_STRING_EQUAL(s.tenant_name, "Tienda Ñandú");
    CU_ASSERT_STRING_EQUAL(s.tenant_locale, "es");
    CU_ASSERT_STRING_EQUAL(s.tenant_currency, "EUR");

    /* the other tenant sees nothing of it */
    CU_ASSERT_EQUAL(tenant_get(&other, &out, &err), 0);
    CU_ASSERT_NSTRING_EQUAL(out.json, b_before, out.len);
    CU_ASSERT_EQUAL(strlen(b_before), out.len);

    /* a partial change keeps the other fields */
    ch = (struct tenant_change){NULL, NULL, "MXN"};
    CU_ASSERT_EQUAL(tenant_update(&c, &ch, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "name"), "Tienda Ñandú");
    CU_ASSERT_STRING_EQUAL(field(&out, "locale"), "es");
    CU_ASSERT_STRING_EQUAL(field(&out, "currency"), "MXN");
    CU_ASSERT_EQUAL(auth_session_get(itest_db(), &cache, arena, r.token, NULL, &s, &err), 0);
    CU_ASSERT_STRING_EQUAL(s.tenant_currency, "MXN");
    CU_ASSERT_EQUAL(auth_logout(itest_db(), &cache, arena, &s, &err), 0);
}

static void test_tenant_refused_and_empty_changes_write_nothing(void)
{
    struct catalog c = cat(ta);
    struct tenant_change bad[] = {
        {"Fine", "es", "HRK"}, {"Fine", "fr", "EUR"}, {" ", NULL, NULL}, {NULL, NULL, "eur"}};
    static const char *const fields[] = {"currency", "locale", "name", "currency"};
    struct tenant_change none = {NULL, NULL, NULL};
    struct catalog_out out;
    struct app_err err;
    const char *before = updated_at(ta);
    size_t i;

    CU_ASSERT_STRING_NOT_EQUAL(before, "");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&err);
        CU_ASSERT_EQUAL(tenant_update(&c, &bad[i], &out, &err), -1);
        CU_ASSERT_EQUAL(err.code, ERR_INVALID);
        CU_ASSERT_STRING_EQUAL(err.field, fields[i]);
    }
    CU_ASSERT_STRING_EQUAL(updated_at(ta), before);
    CU_ASSERT_EQUAL(tenant_update(&c, &none, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(updated_at(ta), before);
    CU_ASSERT_STRING_EQUAL(field(&out, "currency"), "MXN");
}

int test_tenant_register(void)
{
    CU_pSuite s = CU_add_suite("tenant", suite_init, suite_clean);

    if (!s || !CU_add_test(s, "get: shape and defaults", test_tenant_get_shape_and_defaults) ||
        !CU_add_test(s, "update reaches cached sessions; other tenant sees nothing",
                     test_tenant_update_reaches_cached_sessions) ||
        !CU_add_test(s, "refused and empty changes write nothing",
                     test_tenant_refused_and_empty_changes_write_nothing))
        return -1;
    return 0;
}
