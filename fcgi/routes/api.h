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

/* One per worker process: lives from start to exit. */
struct app {
    const struct config *cf;
    struct db db;
    struct cache cache;
};

/* The route table (routes.c). */
extern const struct route api_routes[];
extern const size_t api_routes_count;

/* Health (api_health.c). */
int api_health(struct app *app, struct http_req *req, struct http_resp *resp, struct app_err *err);
int api_health_cache(struct app *app, struct http_req *req, struct http_resp *resp,
                     struct app_err *err);
int api_health_db(struct app *app, struct http_req *req, struct http_resp *resp,
                  struct app_err *err);
int api_metrics(struct app *app, struct http_req *req, struct http_resp *resp,
                struct app_err *err);

#endif
