/*
 * http: one request as FastCGI hands it over (CGI environment + body stream), and the
 * response a handler builds. Parsing is independent of libfcgi (an envp array and a read
 * callback) so tests and fuzzers drive it directly. Everything lives in the request arena.
 */
#ifndef STOCK_CORE_HTTP_H
#define STOCK_CORE_HTTP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

#define HTTP_BODY_MAX (1024 * 1024)
/* The largest body a route may declare it takes (route body_max; POST /products/import). */
#define HTTP_BODY_ROUTE_MAX  (8 * 1024 * 1024)
#define HTTP_MAX_PARAMS      64
#define HTTP_MAX_PATH_PARAMS 8

struct http_param {
    const char *name;
    const char *value;
};

/* Reads up to n bytes of body; returns bytes read, 0 at end, -1 on error. */
typedef long (*http_read_fn)(void *ctx, char *buf, size_t n);

struct http_req {
    struct arena *arena;
    char **envp;
    const char *method;
    const char *path;          /* without the query string */
    const char *query;         /* raw, "" when absent */
    struct http_param *params; /* decoded query parameters */
    size_t nparams;
    struct http_param path_params[HTTP_MAX_PATH_PARAMS];
    size_t npath_params;
    const char *content_type; /* "" when absent */
    const char *body;         /* NUL-terminated, body_len bytes ("" until http_req_body) */
    size_t body_len;
    size_t content_length; /* CONTENT_LENGTH, checked against HTTP_BODY_MAX */
    bool body_read;        /* http_req_body has read the body */
    http_read_fn read;     /* where http_req_body reads it from */
    void *read_ctx;
    const char *request_id; /* nginx's $request_id or "" */
    const char *route;      /* name of the matched route, for logs and metrics */
    int64_t tenant_id;      /* from the authenticated session only; -1 before auth */
    int64_t user_id;
};

/*
 * Fills req from a CGI environment without reading the body: method, path, query parameters
 * (decoded with liburiparser), content type and CONTENT_LENGTH. A malformed query string, method
 * or Content-Length is ERR_BAD_REQUEST, a Content-Length over HTTP_BODY_ROUTE_MAX ERR_TOO_LARGE. rd
 * (with rctx) is kept for http_req_body and must outlive req; NULL reads no body (a
 * Content-Length above 0 is then ERR_BAD_REQUEST).
 */
int http_req_parse_head(struct http_req *req, struct arena *a, char **envp, http_read_fn rd,
                        void *rctx, struct app_err *err) __attribute__((warn_unused_result));

/*
 * Reads the body (CONTENT_LENGTH bytes) into req's arena, once; a later call only checks its
 * length. A Content-Length over max (0: HTTP_BODY_MAX; at most HTTP_BODY_ROUTE_MAX) is
 * ERR_TOO_LARGE before anything is read or allocated; a body shorter than it is ERR_BAD_REQUEST.
 */
int http_req_body(struct http_req *req, size_t max, struct app_err *err)
    __attribute__((warn_unused_result));

/* http_req_parse_head, then http_req_body up to HTTP_BODY_MAX: the whole request at once. */
int http_req_parse(struct http_req *req, struct arena *a, char **envp, http_read_fn rd, void *rctx,
                   struct app_err *err) __attribute__((warn_unused_result));

/* A CGI variable ("REQUEST_METHOD") or NULL. */
const char *http_env(const struct http_req *req, const char *name);
/* A request header by its HTTP name ("Authorization", "X-CSRF-Token") or NULL. */
const char *http_header(const struct http_req *req, const char *name);
/* The first query parameter of that name, or NULL. */
const char *http_query(const struct http_req *req, const char *name);
/* A path parameter set by the router, or NULL. */
const char *http_path_param(const struct http_req *req, const char *name);
/* The path parameter as a positive id; anything else is ERR_NOT_FOUND. */
int http_path_id(const struct http_req *req, const char *name, int64_t *out, struct app_err *err)
    __attribute__((warn_unused_result));
/*
 * Query parameter as an integer in [min, max]; absent gives def. Malformed is ERR_INVALID
 * naming the parameter.
 */
int http_query_i64(const struct http_req *req, const char *name, int64_t min, int64_t max,
                   int64_t def, int64_t *out, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * The body as a JSON object: ERR_MEDIA_TYPE unless Content-Type is application/json,
 * ERR_BAD_REQUEST for an empty body, invalid JSON or UTF-8, nesting deeper than
 * JSONX_MAX_DEPTH, or a top level that is not an object. The object belongs to the arena.
 */
json_object *http_req_json(struct http_req *req, struct app_err *err);

/* Writes n bytes of a streamed body to the client: 0, or -1 when the connection failed. */
typedef int (*http_write_fn)(void *wctx, const char *p, size_t n);
/*
 * Produces a streamed body chunk by chunk through write (see http_resp_stream): 0 when the
 * whole body was written, -1 when it could not be (the response is then cut short).
 */
typedef int (*http_stream_fn)(void *ctx, http_write_fn write, void *wctx);

struct http_resp {
    int status;
    struct buf headers; /* "Name: value\r\n" lines */
    struct buf body;
    const char *content_type;
    /* A streamed body (http_resp_stream): written after the head, instead of body. */
    http_stream_fn stream;
    void *stream_ctx;
};

void http_resp_init(struct http_resp *resp);
void http_resp_release(struct http_resp *resp);
/* Empties the response for reuse (keeps storage). */
void http_resp_reset(struct http_resp *resp);
/* Adds a header; names and values holding CR, LF or NUL are dropped. */
void http_resp_header(struct http_resp *resp, const char *name, const char *value);
/* Sets status and a JSON body (serialized compactly). */
void http_resp_json(struct http_resp *resp, int status, json_object *obj);
/* Sets status and an already serialized JSON body. */
void http_resp_raw(struct http_resp *resp, int status, const char *json, size_t len);
/* The error JSON of SPEC §5 with the status of err's code. */
void http_resp_error(struct http_resp *resp, const struct app_err *err);
/*
 * Makes the response a streamed one: status, content type (a constant string) and the producer
 * of its body, which the worker runs after sending the head (without Content-Length). ctx
 * belongs to the request (its arena). A producer that fails midway cannot change the status any
 * more: the worker then closes the connection without ending the response, so that the client
 * sees a truncated transfer (nginx: no last chunk), never a short body taken for a whole one.
 */
void http_resp_stream(struct http_resp *resp, int status, const char *content_type,
                      http_stream_fn fn, void *ctx);
/* Status line and headers in CGI form, ending with the blank line, appended to out (no
 * Content-Length for a streamed response). */
void http_resp_head(const struct http_resp *resp, struct buf *out);
/* "OK", "Not Found"... */
const char *http_status_text(int status);

#endif
