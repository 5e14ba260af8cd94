/* test_router: literal and parameter segments, 404 and 405 with Allow. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "core/router.h"
#include "unit.h"

static int h1(struct api_ctx *x, struct http_req *req, struct http_resp *resp, struct app_err *err)
{
    (void)x, (void)req, (void)resp, (void)err;
    return 1;
}

static int h2(struct api_ctx *x, struct http_req *req, struct http_resp *resp, struct app_err *err)
{
    (void)x, (void)req, (void)resp, (void)err;
    return 2;
}

static const struct route routes[] = {
    {"GET", "/api/v1/products", h1, "products_list", ROUTE_AUTH, NULL, NULL, 0},
    {"POST", "/api/v1/products", h2, "products_create", ROUTE_AUTH, NULL, NULL, 0},
    {"GET", "/api/v1/products/{id}", h1, "products_get", ROUTE_AUTH, NULL, NULL, 0},
    {"DELETE", "/api/v1/products/{id}", h2, "products_delete", ROUTE_AUTH, NULL, NULL, 0},
    {"POST", "/api/v1/sales/{id}/confirm", h2, "sales_confirm", ROUTE_AUTH, NULL, NULL, 0},
    {"GET", "/api/v1/t/{a}/x/{b}", h1, "two", ROUTE_AUTH, NULL, NULL, 0},
};

static const struct route *match(struct arena *a, struct http_req *req, const char *method,
                                 const char *path, const char **allow, struct app_err *err)
{
    memset(req, 0, sizeof(*req));
    req->arena = a;
    req->method = method;
    req->path = path;
    *allow = NULL;
    err_clear(err);
    return router_match(routes, sizeof(routes) / sizeof(routes[0]), req, allow, err);
}

static void test_router_matches_literal_and_params(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    const char *allow;
    const struct route *r;

    r = match(a, &req, "GET", "/api/v1/products", &allow, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->name, "products_list");
    r = match(a, &req, "POST", "/api/v1/products", &allow, &err);
    CU_ASSERT_STRING_EQUAL(r->name, "products_create");
    r = match(a, &req, "GET", "/api/v1/products/42", &allow, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->name, "products_get");
    CU_ASSERT_STRING_EQUAL(http_path_param(&req, "id"), "42");
    CU_ASSERT_STRING_EQUAL(req.route, "products_get");
    r = match(a, &req, "POST", "/api/v1/sales/7/confirm", &allow, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(http_path_param(&req, "id"), "7");
    r = match(a, &req, "GET", "/api/v1/t/one/x/two", &allow, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(http_path_param(&req, "a"), "one");
    CU_ASSERT_STRING_EQUAL(http_path_param(&req, "b"), "two");
    r = match(a, &req, "HEAD", "/api/v1/products", &allow, &err);
    CU_ASSERT_PTR_NOT_NULL(r);
    arena_free(a);
}

static void test_router_unknown_path_is_404(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    const char *allow;
    static const char *paths[] = {"/api/v1/product",
                                  "/api/v1/products/",
                                  "/api/v1/products/1/x",
                                  "/api/v1/products//",
                                  "/",
                                  "/api/v1/sales//confirm",
                                  "/api/v1/productsX"};
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        CU_ASSERT_PTR_NULL(match(a, &req, "GET", paths[i], &allow, &err));
        CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    }
    arena_free(a);
}

static void test_router_wrong_method_is_405_with_allow(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    const char *allow;

    CU_ASSERT_PTR_NULL(match(a, &req, "PATCH", "/api/v1/products/3", &allow, &err));
    CU_ASSERT_EQUAL(err.code, ERR_METHOD);
    CU_ASSERT_EQUAL(err_http_status(err.code), 405);
    CU_ASSERT_PTR_NOT_NULL_FATAL(allow);
    CU_ASSERT_STRING_EQUAL(allow, "GET, DELETE");
    arena_free(a);
}

static void test_router_path_id_rejects_non_ids(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    const char *allow;
    static const char *bad[] = {"/api/v1/products/abc", "/api/v1/products/-1", "/api/v1/products/0",
                                "/api/v1/products/1e3", "/api/v1/products/99999999999999999999"};
    size_t i;
    int64_t id;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(match(a, &req, "GET", bad[i], &allow, &err));
        CU_ASSERT_EQUAL(http_path_id(&req, "id", &id, &err), -1);
        CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    }
    CU_ASSERT_PTR_NOT_NULL(
        match(a, &req, "GET", "/api/v1/products/9223372036854775807", &allow, &err));
    CU_ASSERT_EQUAL(http_path_id(&req, "id", &id, &err), 0);
    CU_ASSERT_EQUAL(id, INT64_MAX);
    arena_free(a);
}

int test_router_register(void)
{
    CU_pSuite s = CU_add_suite("router", NULL, NULL);

    if (!s ||
        !CU_add_test(s, "matches literal and params", test_router_matches_literal_and_params) ||
        !CU_add_test(s, "unknown path is 404", test_router_unknown_path_is_404) ||
        !CU_add_test(s, "wrong method is 405 with Allow",
                     test_router_wrong_method_is_405_with_allow) ||
        !CU_add_test(s, "path id rejects non-ids", test_router_path_id_rejects_non_ids))
        return -1;
    return 0;
}
