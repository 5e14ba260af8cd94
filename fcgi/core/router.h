/*
 * router: matches a method and path against the route table. Patterns are literal segments
 * and "{name}" parameters ("/api/v1/products/{id}"); a parameter matches one non-empty segment.
 */
#ifndef STOCK_CORE_ROUTER_H
#define STOCK_CORE_ROUTER_H

#include <stddef.h>

#include "core/err.h"
#include "core/http.h"

struct app; /* the worker's context, defined by the routes layer */

typedef int (*route_handler)(struct app *app, struct http_req *req, struct http_resp *resp,
                             struct app_err *err);

struct route {
    const char *method;
    const char *pattern;
    route_handler handler;
    const char *name; /* for logs and metrics */
};

/*
 * The route for method and path, with its parameters stored in req->path_params. NULL with
 * ERR_NOT_FOUND when no pattern matches, ERR_METHOD when a pattern matches but not the method
 * (allow, if not NULL, receives the allowed methods, comma-separated, in the arena).
 */
const struct route *router_match(const struct route *routes, size_t n, struct http_req *req,
                                 const char **allow, struct app_err *err);

#endif
