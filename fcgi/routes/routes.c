/* routes: the whole route table in one place. Every /api/v1 route but login authenticates. */
#include "routes/api.h"

#define V1 "/api/v1"
/* clang-format off: it would split the last entry's braces over three lines (and
 * tests/http/test_security.sh reads this table, one entry per line). */
// clang-format off
#define CRUD(path, res)                                                                            \
    {"GET", V1 path, api_##res##_list, #res "_list"},                                              \
    {"POST", V1 path, api_##res##_create, #res "_create"},                                         \
    {"GET", V1 path "/{id}", api_##res##_get, #res "_get"},                                        \
    {"PUT", V1 path "/{id}", api_##res##_replace, #res "_replace"},                                \
    {"PATCH", V1 path "/{id}", api_##res##_patch, #res "_patch"},                                  \
    {"DELETE", V1 path "/{id}", api_##res##_delete, #res "_delete"}
// clang-format on

const struct route api_routes[] = {
    {"GET", "/health", api_health, "health"},
    {"GET", "/health/cache", api_health_cache, "health_cache"},
    {"GET", "/health/db", api_health_db, "health_db"},
    {"GET", "/metrics", api_metrics, "metrics"},
    {"POST", V1 "/auth/login", api_auth_login, "auth_login"},
    {"POST", V1 "/auth/logout", api_auth_logout, "auth_logout"},
    {"GET", V1 "/me", api_me, "me"},
    CRUD("/uom", uom),
    CRUD("/categories", category),
    CRUD("/products", product),
    {"GET", V1 "/sales", api_sales_list, "sales_list"},
    {"POST", V1 "/sales", api_sales_create, "sales_create"},
    {"GET", V1 "/sales/{id}", api_sales_get, "sales_get"},
    {"POST", V1 "/sales/{id}/confirm", api_sales_confirm, "sales_confirm"},
    {"POST", V1 "/sales/{id}/cancel", api_sales_cancel, "sales_cancel"},
    {"GET", V1 "/payments", api_payments_list, "payments_list"},
    {"POST", V1 "/payments", api_payments_create, "payments_create"},
    {"GET", V1 "/balance/series", api_balance_series, "balance_series"},
};

const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

int api_dispatch(struct app *app, struct http_req *req, struct http_resp *resp,
                 const struct route **route, const char **allow, struct app_err *err)
{
    *route = router_match(api_routes, api_routes_count, req, allow, err);
    return *route ? (*route)->handler(app, req, resp, err) : -1;
}
