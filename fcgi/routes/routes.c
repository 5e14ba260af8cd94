/*
 * routes: the whole route table in one place, and the dispatcher that runs a route as its flags
 * say. Every /api/v1 route but login authenticates. Roles (SPEC §10): a route flagged ADMIN
 * answers 403 forbidden to a staff session before its handler runs: every write of units,
 * categories and products, cancelling a sale, returns, and everything under /users. Staff may
 * read everything else, create and confirm sales, register payments, change their own
 * password, and record receipt movements (POST /stock/movements is a staff route; its handler
 * refuses the other kinds to staff). tests/http/test_roles.sh holds the expected rule of every
 * route and fails on a route it does not list.
 */
#include <string.h>

#include "routes/api.h"

#define V1 "/api/v1"
/* An authenticated route for admins only (403 forbidden for staff). */
#define ADMIN (ROUTE_AUTH | ROUTE_ADMIN)

/*
 * R: a route whose handler is api_<handler> and whose name (logs, metrics) is "<handler>".
 * RP: the same with a prefetch: the handler's cached read in module, keyed by
 * api_<handler>_key, comes in the session's Redis round trip.
 * RB: R with a body limit below HTTP_BODY_MAX (bytes).
 */
#define R(method, pattern, handler, flags)                                                         \
    {                                                                                              \
        method, pattern, api_##handler, #handler, flags, NULL, NULL, 0                             \
    }
#define RP(method, pattern, handler, flags, module)                                                \
    {                                                                                              \
        method, pattern, api_##handler, #handler, flags, module, api_##handler##_key, 0            \
    }
#define RB(method, pattern, handler, flags, body_max)                                              \
    {                                                                                              \
        method, pattern, api_##handler, #handler, flags, NULL, NULL, body_max                      \
    }

const struct route api_routes[] = {
    R("GET", "/health", health, ROUTE_PUBLIC),
    R("GET", "/health/cache", health_cache, ROUTE_PUBLIC),
    R("GET", "/health/db", health_db, ROUTE_PUBLIC),
    R("GET", "/metrics", metrics, ROUTE_PUBLIC),
    RB("POST", V1 "/auth/login", auth_login, ROUTE_PUBLIC, API_LOGIN_BODY_MAX),
    R("POST", V1 "/auth/logout", auth_logout, ROUTE_AUTH),
    R("GET", V1 "/me", me, ROUTE_AUTH),
    R("POST", V1 "/me/password", me_password, ROUTE_AUTH),
    R("GET", V1 "/tenant", tenant_get, ROUTE_AUTH),
    R("PATCH", V1 "/tenant", tenant_patch, ADMIN),
    R("GET", V1 "/users", users_list, ADMIN),
    R("POST", V1 "/users", users_create, ADMIN),
    R("PATCH", V1 "/users/{id}", users_patch, ADMIN | ROUTE_ID),
    R("POST", V1 "/users/{id}/password", users_password, ADMIN | ROUTE_ID),
    R("GET", V1 "/uom", uom_list, ROUTE_AUTH),
    R("POST", V1 "/uom", uom_create, ADMIN),
    R("GET", V1 "/uom/{id}", uom_get, ROUTE_AUTH | ROUTE_ID),
    R("PUT", V1 "/uom/{id}", uom_replace, ADMIN | ROUTE_ID),
    R("PATCH", V1 "/uom/{id}", uom_patch, ADMIN | ROUTE_ID),
    R("DELETE", V1 "/uom/{id}", uom_delete, ADMIN | ROUTE_ID),
    R("GET", V1 "/categories", category_list, ROUTE_AUTH),
    R("POST", V1 "/categories", category_create, ADMIN),
    R("GET", V1 "/categories/{id}", category_get, ROUTE_AUTH | ROUTE_ID),
    R("PUT", V1 "/categories/{id}", category_replace, ADMIN | ROUTE_ID),
    R("PATCH", V1 "/categories/{id}", category_patch, ADMIN | ROUTE_ID),
    R("DELETE", V1 "/categories/{id}", category_delete, ADMIN | ROUTE_ID),
    RP("GET", V1 "/products", product_list, ROUTE_AUTH, "products"),
    R("POST", V1 "/products", product_create, ADMIN),
    R("GET", V1 "/products/{id}", product_get, ROUTE_AUTH | ROUTE_ID),
    R("PUT", V1 "/products/{id}", product_replace, ADMIN | ROUTE_ID),
    R("PATCH", V1 "/products/{id}", product_patch, ADMIN | ROUTE_ID),
    R("DELETE", V1 "/products/{id}", product_delete, ADMIN | ROUTE_ID),
    R("GET", V1 "/sales", sales_list, ROUTE_AUTH),
    R("POST", V1 "/sales", sales_create, ROUTE_AUTH),
    R("GET", V1 "/sales/{id}", sales_get, ROUTE_AUTH | ROUTE_ID),
    R("POST", V1 "/sales/{id}/confirm", sales_confirm, ROUTE_AUTH | ROUTE_ID),
    R("POST", V1 "/sales/{id}/cancel", sales_cancel, ROUTE_AUTH | ROUTE_ID),
    R("POST", V1 "/sales/{id}/returns", sales_return, ADMIN | ROUTE_ID),
    R("GET", V1 "/payments", payments_list, ROUTE_AUTH),
    R("POST", V1 "/payments", payments_create, ROUTE_AUTH),
    RP("GET", V1 "/balance/series", balance_series, ROUTE_AUTH, "balance"),
    /* Any session; api_movements_create lets staff record receipts only (403 otherwise). */
    RP("GET", V1 "/stock/movements", movements_list, ROUTE_AUTH, "movements"),
    R("POST", V1 "/stock/movements", movements_create, ROUTE_AUTH),
    RP("GET", V1 "/reports/sales", reports_sales, ROUTE_AUTH, "reports"),
};

const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);

int api_dispatch(struct app *app, struct http_req *req, struct http_resp *resp,
                 const struct route **route, const char **allow, struct app_err *err)
{
    *route = router_match(api_routes, api_routes_count, req, allow, err);
    return *route ? api_route_run(app, *route, req, resp, err) : -1;
}

int api_route_run(struct app *app, const struct route *route, struct http_req *req,
                  struct http_resp *resp, struct app_err *err)
{
    struct api_ctx x;

    memset(&x, 0, sizeof(x));
    x.app = app;
    /* The body first, as the route allows it: a body over its limit is never read or parsed. */
    if (http_req_body(req, route->body_max, err))
        return -1;
    /* Anything not declared public authenticates: a route missing both flags fails closed. */
    if (!(route->flags & ROUTE_PUBLIC) && api_authenticate(app, route, req, &x, err))
        return -1;
    if ((route->flags & ROUTE_ADMIN) && strcmp(x.s.role, "admin"))
        return err_set_full(err, ERR_FORBIDDEN, "forbidden", NULL,
                            "this action needs the admin role (signed in as %s)", x.s.role);
    if ((route->flags & ROUTE_ID) && http_path_id(req, "id", &x.id, err))
        return -1;
    return route->handler(&x, req, resp, err);
}

int api_routes_print(FILE *out)
{
    static const struct {
        unsigned flag;
        const char *name;
    } names[] = {
        {ROUTE_PUBLIC, "public"}, {ROUTE_AUTH, "auth"}, {ROUTE_ADMIN, "admin"}, {ROUTE_ID, "id"}};
    size_t i, k;

    for (i = 0; i < api_routes_count; i++) {
        const struct route *r = &api_routes[i];
        const char *sep = " ";

        fprintf(out, "%s %s", r->method, r->pattern);
        for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
            if (r->flags & names[k].flag) {
                fprintf(out, "%s%s", sep, names[k].name);
                sep = ",";
            }
        }
        if (r->prefetch)
            fprintf(out, "%sprefetch=%s", sep, r->prefetch);
        fputc('\n', out);
    }
    return fflush(out) || ferror(out) ? -1 : 0;
}
