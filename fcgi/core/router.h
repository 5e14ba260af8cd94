/*
 * router: matches a method and path against the route table. Patterns are literal segments
 * and "{name}" parameters ("/api/v1/products/{id}"); a parameter matches one non-empty segment.
 * Each route declares (flags) what its dispatcher checks before the handler runs.
 */
#ifndef STOCK_CORE_ROUTER_H
#define STOCK_CORE_ROUTER_H

#include <stddef.h>

#include "core/err.h"
#include "core/http.h"

/* What a handler works with (the session, its id...), defined by the routes layer. */
struct api_ctx;

typedef int (*route_handler)(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                             struct app_err *err);

/* The key (in req's arena) of the cached read a request will make, or NULL for none. */
typedef const char *(*route_key_fn)(struct http_req *req);

/* What the dispatcher does before the handler. Exactly one of ROUTE_PUBLIC, ROUTE_AUTH. */
enum route_flag {
    ROUTE_PUBLIC = 1 << 0, /* no session: health, metrics, login */
    ROUTE_AUTH = 1 << 1,   /* a session: Bearer token, or cookie plus X-CSRF-Token if unsafe */
    ROUTE_ADMIN = 1 << 2,  /* with ROUTE_AUTH: the session's role must be admin (else 403) */
    ROUTE_ID = 1 << 3,     /* the pattern's {id} is read as a positive id (else 404) */
};

struct route {
    const char *method;
    const char *pattern;
    route_handler handler;
    const char *name; /* for logs and metrics */
    unsigned flags;   /* enum route_flag */
    /*
     * A cached read fetched in the same Redis round trip as the session (ROUTE_AUTH only):
     * its cache module and how its key follows from the request. NULL: none.
     */
    const char *prefetch;
    route_key_fn prefetch_key;
    /* The largest body it takes, in bytes, refused (413) before it is read; 0: HTTP_BODY_MAX. */
    size_t body_max;
};

/*
 * The route for method and path, with its parameters stored in req->path_params. NULL with
 * ERR_NOT_FOUND when no pattern matches, ERR_METHOD when a pattern matches but not the method
 * (allow, if not NULL, receives the allowed methods, comma-separated, in the arena).
 */
const struct route *router_match(const struct route *routes, size_t n, struct http_req *req,
                                 const char **allow, struct app_err *err);

#endif
