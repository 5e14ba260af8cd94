/* http: CGI-environment request parsing, body and JSON reading, and response rendering. */
#include "core/http.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uriparser/Uri.h>

#include "core/jsonx.h"

#define HTTP_PATH_MAX  2048
#define HTTP_QUERY_MAX 8192

/* http_req_json hands the whole body to jsonx_parse, which must take any body we read. */
_Static_assert(HTTP_BODY_MAX <= JSONX_MAX_LEN, "HTTP_BODY_MAX above JSONX_MAX_LEN");

const char *http_env(const struct http_req *req, const char *name)
{
    size_t n = strlen(name);
    char **e;

    if (!req->envp)
        return NULL;
    for (e = req->envp; *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

const char *http_header(const struct http_req *req, const char *name)
{
    char var[128];
    size_t i, n = strlen(name);

    /* CGI: "X-CSRF-Token" arrives as HTTP_X_CSRF_TOKEN; Content-Type and -Length have no prefix. */
    if (!strcasecmp(name, "Content-Type"))
        return http_env(req, "CONTENT_TYPE");
    if (!strcasecmp(name, "Content-Length"))
        return http_env(req, "CONTENT_LENGTH");
    if (n + 6 >= sizeof(var))
        return NULL;
    memcpy(var, "HTTP_", 5);
    for (i = 0; i < n; i++)
        var[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
    var[5 + n] = '\0';
    return http_env(req, var);
}

const char *http_query(const struct http_req *req, const char *name)
{
    size_t i;

    for (i = 0; i < req->nparams; i++)
        if (!strcmp(req->params[i].name, name))
            return req->params[i].value;
    return NULL;
}

const char *http_path_param(const struct http_req *req, const char *name)
{
    size_t i;

    for (i = 0; i < req->npath_params; i++)
        if (!strcmp(req->path_params[i].name, name))
            return req->path_params[i].value;
    return NULL;
}

/* A strict decimal integer: optional '-', digits only, no overflow. */
static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s || (!isdigit((unsigned char)*s) && *s != '-'))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int http_path_id(const struct http_req *req, const char *name, int64_t *out, struct app_err *err)
{
    const char *s = http_path_param(req, name);
    int64_t v;

    if (!s || !isdigit((unsigned char)*s) || parse_i64(s, &v) || v <= 0)
        return err_set(err, ERR_NOT_FOUND, "not found");
    *out = v;
    return 0;
}

int http_query_i64(const struct http_req *req, const char *name, int64_t min, int64_t max,
                   int64_t def, int64_t *out, struct app_err *err)
{
    const char *s = http_query(req, name);
    int64_t v;

    if (!s) {
        *out = def;
        return 0;
    }
    if (parse_i64(s, &v) || v < min || v > max)
        return err_set_full(err, ERR_INVALID, "invalid_parameter", name,
                            "'%s' must be a whole number between %" PRId64 " and %" PRId64, name,
                            min, max);
    *out = v;
    return 0;
}

static int parse_query(struct http_req *req, struct app_err *err)
{
    UriQueryListA *list = NULL, *it;
    int count = 0;
    size_t i = 0, len = strlen(req->query);

    req->params = NULL;
    req->nparams = 0;
    if (!len)
        return 0;
    if (len > HTTP_QUERY_MAX)
        return err_set(err, ERR_BAD_REQUEST, "query string too long");
    /* A decoded NUL would silently cut a value short: refuse it. */
    if (strstr(req->query, "%00"))
        return err_set(err, ERR_BAD_REQUEST, "malformed query string");
    if (uriDissectQueryMallocExA(&list, &count, req->query, req->query + len, URI_TRUE,
                                 URI_BR_DONT_TOUCH) != URI_SUCCESS)
        return err_set(err, ERR_BAD_REQUEST, "malformed query string");
    if (count > HTTP_MAX_PARAMS) {
        uriFreeQueryListA(list);
        return err_set(err, ERR_BAD_REQUEST, "too many query parameters");
    }
    req->params = arena_alloc(req->arena, sizeof(*req->params) * (size_t)(count ? count : 1));
    for (it = list; it && i < (size_t)count; it = it->next) {
        if (!it->key)
            continue;
        req->params[i].name = arena_strdup(req->arena, it->key);
        req->params[i].value = arena_strdup(req->arena, it->value ? it->value : "");
        i++;
    }
    req->nparams = i;
    uriFreeQueryListA(list);
    return 0;
}

/* CONTENT_LENGTH, checked but not read: the route decides how much of it it takes. */
static int parse_content_length(struct http_req *req, struct app_err *err)
{
    const char *cl = http_env(req, "CONTENT_LENGTH");
    int64_t len = 0;

    if (cl && *cl) {
        if (parse_i64(cl, &len) || len < 0)
            return err_set(err, ERR_BAD_REQUEST, "malformed Content-Length");
    }
    /* The most any route takes (HTTP_BODY_ROUTE_MAX); the route's own limit comes next. */
    if (len > HTTP_BODY_ROUTE_MAX)
        return err_set(err, ERR_TOO_LARGE, "request body larger than %d bytes",
                       HTTP_BODY_ROUTE_MAX);
    req->content_length = (size_t)len;
    return 0;
}

int http_req_body(struct http_req *req, size_t max, struct app_err *err)
{
    size_t got = 0, len = req->content_length;
    char *body;

    if (max == 0)
        max = HTTP_BODY_MAX;
    if (max > HTTP_BODY_ROUTE_MAX)
        max = HTTP_BODY_ROUTE_MAX;
    if (len > max)
        return err_set(err, ERR_TOO_LARGE, "request body larger than %zu bytes", max);
    if (req->body_read || len == 0) {
        req->body_read = true;
        return 0;
    }
    body = arena_alloc(req->arena, len + 1);
    while (got < len) {
        long n = req->read ? req->read(req->read_ctx, body + got, len - got) : -1;

        if (n <= 0)
            return err_set(err, ERR_BAD_REQUEST, "request body shorter than Content-Length");
        got += (size_t)n;
    }
    body[got] = '\0';
    req->body = body;
    req->body_len = got;
    req->body_read = true;
    return 0;
}

int http_req_parse(struct http_req *req, struct arena *a, char **envp, http_read_fn rd, void *rctx,
                   struct app_err *err)
{
    if (http_req_parse_head(req, a, envp, rd, rctx, err))
        return -1;
    return http_req_body(req, HTTP_BODY_MAX, err);
}

int http_req_parse_head(struct http_req *req, struct arena *a, char **envp, http_read_fn rd,
                        void *rctx, struct app_err *err)
{
    const char *m, *uri, *q;
    size_t i, plen;

    memset(req, 0, sizeof(*req));
    req->arena = a;
    req->envp = envp;
    req->tenant_id = -1;
    req->user_id = -1;
    req->query = "";
    req->path = "/";
    req->method = "GET";
    req->route = "";
    req->content_type = "";
    req->body = "";
    req->request_id = "";
    req->read = rd;
    req->read_ctx = rctx;

    q = http_env(req, "REQUEST_ID");
    if (q)
        req->request_id = q;
    m = http_env(req, "REQUEST_METHOD");
    if (!m || !*m || strlen(m) > 16)
        return err_set(err, ERR_BAD_REQUEST, "malformed request method");
    for (i = 0; m[i]; i++)
        if (m[i] < 'A' || m[i] > 'Z')
            return err_set(err, ERR_BAD_REQUEST, "malformed request method");
    req->method = m;

    /* nginx's DOCUMENT_URI is the normalized, decoded path; REQUEST_URI is the raw fallback. */
    uri = http_env(req, "DOCUMENT_URI");
    if (uri && *uri) {
        plen = strlen(uri);
    } else {
        uri = http_env(req, "REQUEST_URI");
        if (!uri || !*uri)
            uri = http_env(req, "SCRIPT_NAME");
        if (!uri || !*uri)
            return err_set(err, ERR_BAD_REQUEST, "missing request path");
        q = strchr(uri, '?');
        plen = q ? (size_t)(q - uri) : strlen(uri);
    }
    if (uri[0] != '/' || plen > HTTP_PATH_MAX)
        return err_set(err, ERR_BAD_REQUEST, "malformed request path");
    req->path = arena_strndup(a, uri, plen);

    q = http_env(req, "QUERY_STRING");
    req->query = q ? q : "";
    if (parse_query(req, err))
        return -1;
    q = http_env(req, "CONTENT_TYPE");
    req->content_type = q ? q : "";
    return parse_content_length(req, err);
}

static bool is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    size_t n = sizeof(want) - 1;

    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, want, n))
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

json_object *http_req_json(struct http_req *req, struct app_err *err)
{
    json_object *o;

    if (!is_json_type(req->content_type))
        return err_set(err, ERR_MEDIA_TYPE, "Content-Type must be application/json"), NULL;
    if (req->body_len == 0)
        return err_set(err, ERR_BAD_REQUEST, "request body is empty"), NULL;
    o = jsonx_parse(req->arena, req->body, req->body_len, err);
    if (!o)
        return NULL;
    if (!json_object_is_type(o, json_type_object))
        return err_set(err, ERR_BAD_REQUEST, "request body must be a JSON object"), NULL;
    return o;
}

void http_resp_init(struct http_resp *resp)
{
    resp->status = 200;
    buf_init(&resp->headers);
    buf_init(&resp->body);
    resp->content_type = "application/json";
    resp->stream = NULL;
    resp->stream_ctx = NULL;
}

void http_resp_release(struct http_resp *resp)
{
    buf_release(&resp->headers);
    buf_release(&resp->body);
}

void http_resp_reset(struct http_resp *resp)
{
    resp->status = 200;
    buf_reset(&resp->headers);
    buf_reset(&resp->body);
    resp->content_type = "application/json";
    resp->stream = NULL;
    resp->stream_ctx = NULL;
}

void http_resp_stream(struct http_resp *resp, int status, const char *content_type,
                      http_stream_fn fn, void *ctx)
{
    resp->status = status;
    resp->content_type = content_type;
    buf_reset(&resp->body);
    resp->stream = fn;
    resp->stream_ctx = ctx;
}

static bool header_safe(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return false;
    return true;
}

void http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
    if (!header_safe(name) || !header_safe(value) || strchr(name, ':'))
        return;
    buf_adds(&resp->headers, name);
    buf_add(&resp->headers, ": ", 2);
    buf_adds(&resp->headers, value);
    buf_add(&resp->headers, "\r\n", 2);
}

void http_resp_raw(struct http_resp *resp, int status, const char *json, size_t len)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->stream = NULL;
    resp->stream_ctx = NULL;
    buf_reset(&resp->body);
    buf_add(&resp->body, json, len);
}

void http_resp_json(struct http_resp *resp, int status, json_object *obj)
{
    size_t len;
    const char *s = jsonx_text(obj, &len);

    http_resp_raw(resp, status, s, len);
}

void http_resp_error(struct http_resp *resp, const struct app_err *err)
{
    json_object *root = json_object_new_object(), *e = json_object_new_object();

    json_object_object_add(e, "code", json_object_new_string(err_slug(err)));
    json_object_object_add(e, "message",
                           json_object_new_string(err->msg[0] ? err->msg : "internal error"));
    json_object_object_add(e, "field", err->field[0] ? json_object_new_string(err->field) : NULL);
    json_object_object_add(root, "error", e);
    http_resp_json(resp, err_http_status(err->code), root);
    json_object_put(root);
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Unknown";
    }
}

void http_resp_head(const struct http_resp *resp, struct buf *out)
{
    buf_addf(out, "Status: %d %s\r\n", resp->status, http_status_text(resp->status));
    if (resp->status != 204 && resp->status != 304) {
        buf_addf(out, "Content-Type: %s\r\n", resp->content_type);
        if (!resp->stream)
            buf_addf(out, "Content-Length: %zu\r\n", resp->body.len);
    }
    buf_add(out, resp->headers.data, resp->headers.len);
    buf_add(out, "\r\n", 2);
}
