/*
 * test_routes: the declarations of the route table (routes.c): every route public or
 * authenticated, {id} declared where the pattern has it, prefetches on authenticated reads, the
 * --routes listing, and the prefetch keys derived from the request.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes/api.h"
#include "unit.h"

static void test_routes_each_public_or_authenticated(void)
{
    size_t i;

    CU_ASSERT_TRUE(api_routes_count >= 30);
    for (i = 0; i < api_routes_count; i++) {
        const struct route *r = &api_routes[i];
        unsigned who = r->flags & (ROUTE_PUBLIC | ROUTE_AUTH);

        if (who != ROUTE_PUBLIC && who != ROUTE_AUTH)
            CU_FAIL_FATAL("a route is neither public nor authenticated, or both");
        if ((r->flags & ROUTE_ADMIN) && !(r->flags & ROUTE_AUTH))
            CU_FAIL("an admin-only route must authenticate");
        /* SPEC §10: /users is admin only, all of it. */
        if (!strncmp(r->pattern, "/api/v1/users", 13))
            CU_ASSERT_TRUE(r->flags & ROUTE_ADMIN);
        CU_ASSERT_EQUAL(!!(r->flags & ROUTE_ID), strstr(r->pattern, "{id}") != NULL);
        CU_ASSERT_EQUAL(r->prefetch == NULL, r->prefetch_key == NULL);
        if (r->prefetch) {
            CU_ASSERT_TRUE(r->flags & ROUTE_AUTH);
            CU_ASSERT_STRING_EQUAL(r->method, "GET");
        }
    }
}

/* The public routes are exactly these: anything else needs a session. */
static void test_routes_public_ones_are_health_metrics_login(void)
{
    static const char *const want[] = {"GET /health", "GET /health/cache", "GET /health/db",
                                       "GET /metrics", "POST /api/v1/auth/login"};
    size_t i, k, n = 0;

    for (i = 0; i < api_routes_count; i++) {
        char got[128];
        bool known = false;

        if (!(api_routes[i].flags & ROUTE_PUBLIC))
            continue;
        n++;
        snprintf(got, sizeof(got), "%s %s", api_routes[i].method, api_routes[i].pattern);
        for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
            known = known || !strcmp(got, want[k]);
        CU_ASSERT_TRUE(known);
    }
    CU_ASSERT_EQUAL(n, sizeof(want) / sizeof(want[0]));
}

/* SPEC §9: the login route takes at most 4 KiB; SPEC §12: the product import 4 MiB (a CSV of
 * 10,000 rows); every other route the global 1 MiB. */
static void test_routes_login_body_is_4k(void)
{
    size_t i;

    for (i = 0; i < api_routes_count; i++) {
        const struct route *r = &api_routes[i];

        size_t want = !strcmp(r->pattern, "/api/v1/auth/login")        ? 4096
                      : !strcmp(r->pattern, "/api/v1/products/import") ? 4 * 1024 * 1024
                                                                       : 0;

        CU_ASSERT_EQUAL(r->body_max, want);
    }
}

static void test_routes_names_and_patterns_unique(void)
{
    size_t i, j;

    for (i = 0; i < api_routes_count; i++) {
        for (j = i + 1; j < api_routes_count; j++) {
            CU_ASSERT_STRING_NOT_EQUAL(api_routes[i].name, api_routes[j].name);
            CU_ASSERT_FALSE(!strcmp(api_routes[i].method, api_routes[j].method) &&
                            !strcmp(api_routes[i].pattern, api_routes[j].pattern));
        }
    }
}

static void test_routes_print_one_line_per_route(void)
{
    char *text = NULL;
    size_t len = 0, lines = 0;
    FILE *f = open_memstream(&text, &len);
    const char *p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(api_routes_print(f), 0);
    fclose(f);
    for (p = text; *p; p++)
        lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, api_routes_count);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "GET /health public\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "POST /api/v1/auth/logout auth\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "DELETE /api/v1/uom/{id} auth,admin,id\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "GET /api/v1/uom/{id} auth,id\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "GET /api/v1/products auth,prefetch=products\n"));
    free(text);
}

/* The key a route's prefetch derives from GET path?query (NULL: no prefetch). */
static const char *key_of(struct arena *a, route_key_fn key, const char *path, const char *query)
{
    struct http_req req;
    struct app_err err;
    const char *env[] = {"REQUEST_METHOD=GET", arena_sprintf(a, "DOCUMENT_URI=%s", path),
                         arena_sprintf(a, "QUERY_STRING=%s", query), NULL};

    err_clear(&err);
    if (http_req_parse(&req, a, (char **)env, NULL, NULL, &err)) {
        CU_FAIL("the request parses");
        return NULL;
    }
    return key(&req);
}

static void test_routes_prefetch_keys_follow_the_query(void)
{
    struct arena *a = arena_new();
    const char *k1 = key_of(a, api_product_list_key, "/api/v1/products", "q=tea&stock=low");
    const char *k2 = key_of(a, api_product_list_key, "/api/v1/products", "q=tea&stock=in");

    CU_ASSERT_PTR_NOT_NULL(k1);
    CU_ASSERT_PTR_NOT_NULL(k2);
    if (k1 && k2)
        CU_ASSERT_STRING_NOT_EQUAL(k1, k2);
    CU_ASSERT_PTR_NULL(key_of(a, api_product_list_key, "/api/v1/products", "stock=some"));
    CU_ASSERT_PTR_NULL(key_of(a, api_product_list_key, "/api/v1/products", "limit=0"));
    CU_ASSERT_PTR_NOT_NULL(key_of(a, api_balance_series_key, "/api/v1/balance/series",
                                  "from=2026-01-01&to=2026-01-31&granularity=daily"));
    CU_ASSERT_PTR_NULL(key_of(a, api_balance_series_key, "/api/v1/balance/series",
                              "to=2026-01-31&granularity=daily"));
    CU_ASSERT_PTR_NULL(key_of(a, api_balance_series_key, "/api/v1/balance/series",
                              "from=2026-01-01&to=2026-01-31&granularity=hourly"));
    /* Only canonical 10-character dates are cached. */
    CU_ASSERT_PTR_NULL(key_of(a, api_balance_series_key, "/api/v1/balance/series",
                              "from=2026-1-1&to=2026-01-31&granularity=daily"));
    arena_free(a);
}

int test_routes_register(void)
{
    CU_pSuite s = CU_add_suite("routes", NULL, NULL);

    if (!s ||
        !CU_add_test(s, "each route public or authenticated",
                     test_routes_each_public_or_authenticated) ||
        !CU_add_test(s, "public ones are health, metrics, login",
                     test_routes_public_ones_are_health_metrics_login) ||
        !CU_add_test(s, "login body at most 4 KiB", test_routes_login_body_is_4k) ||
        !CU_add_test(s, "names and patterns unique", test_routes_names_and_patterns_unique) ||
        !CU_add_test(s, "print: one line per route", test_routes_print_one_line_per_route) ||
        !CU_add_test(s, "prefetch keys follow the query",
                     test_routes_prefetch_keys_follow_the_query))
        return -1;
    return 0;
}
