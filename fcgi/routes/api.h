/*
 * api: the worker's context and the handler prototypes. Handlers parse and validate input,
 * call services with the tenant id of the authenticated session, and fill the response; an
 * error is returned (err set, -1) and rendered by main through http_resp_error.
 */
#ifndef STOCK_ROUTES_API_H
#define STOCK_ROUTES_API_H

#include <stddef.h>

#include "core/cache.h"
#include "core/config.h"
#include "core/db.h"
#include "core/http.h"
#include "core/router.h"
#include "services/auth.h"
#include "services/catalog.h"
#include "services/payments.h"
#include "services/sales.h"

/* One per worker process: lives from start to exit. */
struct app {
    const struct config *cf;
    struct db db;
    struct cache cache;
};

/*
 * Authenticates the request (Bearer token, else the session cookie plus X-CSRF-Token on
 * unsafe methods) and sets req->tenant_id from the session. 401/403 otherwise.
 */
int api_require_session(struct app *app, struct http_req *req, struct auth_session *s,
                        struct app_err *err) __attribute__((warn_unused_result));

/*
 * As api_require_session, and also fills the catalog context c with a read of (module, key)
 * fetched in the same Redis round trip as the session, for the handler's cached read.
 */
int api_require_session_pre(struct app *app, struct http_req *req, struct auth_session *s,
                            struct catalog *c, const char *module, const char *key,
                            struct app_err *err) __attribute__((warn_unused_result));

/* A catalog context for the authenticated tenant of req. */
void api_catalog(struct app *app, struct http_req *req, const struct auth_session *s,
                 struct catalog *c);

/* What a handler of an authenticated resource works with. */
struct api_ctx {
    struct auth_session s;
    struct catalog c;
    struct catalog_out out;
    int64_t id; /* the {id} path parameter, when asked for */
};

/* Authenticates into x (api_require_session) and, when with_id, reads the {id} parameter. */
int api_begin(struct app *app, struct http_req *req, struct api_ctx *x, bool with_id,
              struct app_err *err) __attribute__((warn_unused_result));

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

/* Sends a JSON body with status and, for cached reads, its X-Cache header. */
void api_send(struct http_resp *resp, int status, const struct catalog_out *out);

/* The route table (routes.c). */
extern const struct route api_routes[];
extern const size_t api_routes_count;

/*
 * Routes a parsed request: matches it against api_routes and runs the route's handler. *route
 * receives the matched route (NULL when none) and *allow the allowed methods of a 405. 0, or -1
 * with err set (rendered by the caller).
 */
int api_dispatch(struct app *app, struct http_req *req, struct http_resp *resp,
                 const struct route **route, const char **allow, struct app_err *err)
    __attribute__((warn_unused_result));

/* Health (api_health.c). */
int api_health(struct app *app, struct http_req *req, struct http_resp *resp, struct app_err *err);
int api_health_cache(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);
int api_health_db(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct app_err *err);
int api_metrics(struct app *app, struct http_req *req, struct http_resp *resp, struct app_err *err);

/* Auth (api_auth.c). */
int api_auth_login(struct app *app, struct http_req *req, struct http_resp *resp,
                   struct app_err *err);
int api_auth_logout(struct app *app, struct http_req *req, struct http_resp *resp,
                    struct app_err *err);
int api_me(struct app *app, struct http_req *req, struct http_resp *resp, struct app_err *err);

/* Catalog (api_catalog.c). */
#define API_CATALOG_HANDLERS(res)                                                                  \
    int api_##res##_list(struct app *app, struct http_req *req, struct http_resp *resp,            \
                         struct app_err *err);                                                     \
    int api_##res##_get(struct app *app, struct http_req *req, struct http_resp *resp,             \
                        struct app_err *err);                                                      \
    int api_##res##_create(struct app *app, struct http_req *req, struct http_resp *resp,          \
                           struct app_err *err);                                                   \
    int api_##res##_replace(struct app *app, struct http_req *req, struct http_resp *resp,         \
                            struct app_err *err);                                                  \
    int api_##res##_patch(struct app *app, struct http_req *req, struct http_resp *resp,           \
                          struct app_err *err);                                                    \
    int api_##res##_delete(struct app *app, struct http_req *req, struct http_resp *resp,          \
                           struct app_err *err);
API_CATALOG_HANDLERS(uom)
API_CATALOG_HANDLERS(category)
API_CATALOG_HANDLERS(product)

/* Sales, payments, balance (api_sales.c). */
int api_sales_list(struct app *app, struct http_req *req, struct http_resp *resp,
                   struct app_err *err);
int api_sales_create(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);
int api_sales_get(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct app_err *err);
int api_sales_confirm(struct app *app, struct http_req *req, struct http_resp *resp,
                      struct app_err *err);
int api_sales_cancel(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);
int api_payments_create(struct app *app, struct http_req *req, struct http_resp *resp,
                        struct app_err *err);
int api_payments_list(struct app *app, struct http_req *req, struct http_resp *resp,
                      struct app_err *err);
int api_balance_series(struct app *app, struct http_req *req, struct http_resp *resp,
                       struct app_err *err);

#endif
