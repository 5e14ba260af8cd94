/*
 * api: the worker's context, the dispatcher and the handler prototypes. The dispatcher
 * authenticates as the route's flags say (routes.c); handlers then parse and validate input,
 * call services with the tenant id of the authenticated session (x->c), and fill the response;
 * an error is returned (err set, -1) and rendered by main through http_resp_error.
 */
#ifndef STOCK_ROUTES_API_H
#define STOCK_ROUTES_API_H

#include <stddef.h>
#include <stdio.h>

#include "core/cache.h"
#include "core/config.h"
#include "core/db.h"
#include "core/http.h"
#include "core/router.h"
#include "services/auth.h"
#include "services/catalog.h"
#include "services/movements.h"
#include "services/payments.h"
#include "services/returns.h"
#include "services/sales.h"
#include "services/tenant.h"

/* One per worker process: lives from start to exit. */
struct app {
    const struct config *cf;
    struct db db;
    struct cache cache;
};

/* What a handler works with, filled by the dispatcher according to the route's flags. */
struct api_ctx {
    struct app *app;
    struct auth_session s; /* ROUTE_AUTH: the session (zeroed on a public route) */
    struct catalog c;      /* ROUTE_AUTH: the session's tenant, and the route's prefetched read */
    struct catalog_out out;
    int64_t id; /* ROUTE_ID: the {id} path parameter */
};

/*
 * Authenticates req for an authenticated route into x: the session of its Bearer token, else
 * of its session cookie plus X-CSRF-Token on unsafe methods (401, 403 csrf_failed), sets
 * req->tenant_id and x->c for that tenant. When the route has a prefetch and the request a
 * key for it, the read comes in the same Redis round trip as the session, into x->c.
 */
int api_authenticate(struct app *app, const struct route *route, struct http_req *req,
                     struct api_ctx *x, struct app_err *err) __attribute__((warn_unused_result));

/* An optional YYYY-MM-DD query parameter (*out NULL when absent or empty); 422 naming it. */
int api_date_param(const struct http_req *req, const char *name, const char **out,
                   struct app_err *err) __attribute__((warn_unused_result));

/* The Idempotency-Key header (*key NULL when absent): 1 to 255 visible ASCII characters, else
 * 422 invalid_idempotency_key. */
int api_idem_key(struct http_req *req, const char **key, struct app_err *err)
    __attribute__((warn_unused_result));

/* The list parameters limit (1..200, default 50) and offset (>= 0); 422 naming them. */
int api_page(const struct http_req *req, int64_t *limit, int64_t *offset, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Request bodies read into the services' structs, without touching a session or the database
 * (so a fuzzer can drive them): 0, or -1 with err set (400 malformed JSON, 415, 422 naming the
 * field). full: every required field must be there (POST and PUT), not only those given (PATCH).
 * The strings point into the request's arena.
 */
int api_uom_in(struct http_req *req, bool full, struct uom_in *in, struct app_err *err)
    __attribute__((warn_unused_result));
int api_category_in(struct http_req *req, bool full, struct category_in *in, struct app_err *err)
    __attribute__((warn_unused_result));
int api_product_in(struct http_req *req, bool full, struct product_in *in, struct app_err *err)
    __attribute__((warn_unused_result));
int api_sale_in(struct http_req *req, struct sale_in *in, struct app_err *err)
    __attribute__((warn_unused_result));
int api_confirm_in(struct http_req *req, struct payment_in *pay, struct payment_in **out,
                   struct app_err *err) __attribute__((warn_unused_result));
int api_payment_in(struct http_req *req, struct payment_in *in, const char **key,
                   struct app_err *err) __attribute__((warn_unused_result));
int api_return_in(struct http_req *req, struct return_in *in, const char **key, struct app_err *err)
    __attribute__((warn_unused_result));
int api_movement_in(struct http_req *req, struct movement_in *in, const char **key,
                    struct app_err *err) __attribute__((warn_unused_result));
/* PATCH /tenant: any of name, locale, currency (strings), checked by tenant_change_check; any
 * other field is 422 validation_error naming it. */
int api_tenant_in(struct http_req *req, struct tenant_change *ch, struct app_err *err)
    __attribute__((warn_unused_result));

/* Sends a JSON body with status and, for cached reads, its X-Cache header. */
void api_send(struct http_resp *resp, int status, const struct catalog_out *out);

/* The route table (routes.c). */
extern const struct route api_routes[];
extern const size_t api_routes_count;

/*
 * Routes a parsed request: matches it against api_routes and runs the route (api_route_run).
 * *route receives the matched route (NULL when none) and *allow the allowed methods of a 405.
 * 0, or -1 with err set (rendered by the caller).
 */
int api_dispatch(struct app *app, struct http_req *req, struct http_resp *resp,
                 const struct route **route, const char **allow, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Runs a matched route as its flags say: reads the body up to the route's body_max
 * (http_req_body: 413 above it, before reading), authenticates (api_authenticate) unless
 * ROUTE_PUBLIC, refuses a session that is not admin on ROUTE_ADMIN (403 forbidden), reads {id} on
 * ROUTE_ID (404 when not a positive id), then calls the handler. 0, or -1 with err set.
 */
int api_route_run(struct app *app, const struct route *route, struct http_req *req,
                  struct http_resp *resp, struct app_err *err) __attribute__((warn_unused_result));

/*
 * Writes the route table to out, one line per route: "METHOD PATTERN FLAGS", FLAGS being the
 * comma-separated names public, auth, admin, id (in that order) and, for a prefetching route,
 * prefetch=MODULE. 0, or -1 when out fails. (stock-fcgi --routes; tests/http/test_security.sh
 * reads it.)
 */
int api_routes_print(FILE *out) __attribute__((warn_unused_result));

/* Health (api_health.c). */
int api_health(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
               struct app_err *err);
int api_health_cache(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);
int api_health_db(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                  struct app_err *err);
int api_metrics(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                struct app_err *err);

/*
 * Auth (api_auth.c). A login body is at most API_LOGIN_BODY_MAX bytes (SPEC §9: 4 KiB, 413
 * above it before it is read; nginx's client_max_body_size 4k on the login location): json-c
 * spends ~800 bytes per "{}", so a 1 MiB body could cost a worker hundreds of MB.
 */
#define API_LOGIN_BODY_MAX 4096
int api_auth_login(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err);
int api_auth_logout(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                    struct app_err *err);
int api_me(struct api_ctx *x, struct http_req *req, struct http_resp *resp, struct app_err *err);

/*
 * Users (api_users.c, SPEC §10): GET/POST /users, PATCH /users/{id}, POST /users/{id}/password
 * (admin routes), POST /me/password (any session, for itself: 204; a wrong current_password is
 * 422 naming it, not 401, so that a client does not take it for the end of its session).
 */
int api_users_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err);
int api_users_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);
int api_users_patch(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                    struct app_err *err);
int api_users_password(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err);
int api_me_password(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                    struct app_err *err);

/* The session's tenant (api_tenant.c, SPEC §12): GET /tenant (any session), PATCH /tenant
 * (admin) with any of name, locale, currency; 422 validation_error naming a bad or unknown
 * field. */
int api_tenant_get(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err);
int api_tenant_patch(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);

/* Catalog (api_catalog.c). */
#define API_CATALOG_HANDLERS(res)                                                                  \
    int api_##res##_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,          \
                         struct app_err *err);                                                     \
    int api_##res##_get(struct api_ctx *x, struct http_req *req, struct http_resp *resp,           \
                        struct app_err *err);                                                      \
    int api_##res##_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,        \
                           struct app_err *err);                                                   \
    int api_##res##_replace(struct api_ctx *x, struct http_req *req, struct http_resp *resp,       \
                            struct app_err *err);                                                  \
    int api_##res##_patch(struct api_ctx *x, struct http_req *req, struct http_resp *resp,         \
                          struct app_err *err);                                                    \
    int api_##res##_delete(struct api_ctx *x, struct http_req *req, struct http_resp *resp,        \
                           struct app_err *err);
API_CATALOG_HANDLERS(uom)
API_CATALOG_HANDLERS(category)
API_CATALOG_HANDLERS(product)
/* The key of GET /products' cached read (route_key_fn): NULL when the query is invalid. */
const char *api_product_list_key(struct http_req *req);

/* Sales, payments, balance (api_sales.c). */
int api_sales_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err);
int api_sales_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);
int api_sales_get(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                  struct app_err *err);
int api_sales_confirm(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                      struct app_err *err);
int api_sales_cancel(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);
int api_sales_return(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);
int api_payments_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                        struct app_err *err);
int api_payments_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                      struct app_err *err);
/* The key of GET /balance/series' cached read (route_key_fn): NULL when not cacheable. */
const char *api_balance_series_key(struct http_req *req);
int api_balance_series(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err);

/* Stock movements (api_stock.c); the list's key for its prefetch (NULL when invalid). */
int api_movements_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                         struct app_err *err);
int api_movements_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err);
const char *api_movements_list_key(struct http_req *req);

/* The sales report (api_reports.c); its key for the prefetch (NULL when invalid). */
int api_reports_sales(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                      struct app_err *err);
const char *api_reports_sales_key(struct http_req *req);

#endif
