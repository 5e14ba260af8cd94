/* test_http: request parsing from a CGI environment, body limits, JSON body, responses. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "unit.h"

struct body_src {
    const char *data;
    size_t len, pos;
    size_t reads;
};

static long src_read(void *ctx, char *buf, size_t n)
{
    struct body_src *s = ctx;
    size_t k = s->len - s->pos < n ? s->len - s->pos : n;

    if (k > 7)
        k = 7; /* short reads: the parser must loop */
    memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    s->reads++;
    return (long)k;
}

static int parse(struct http_req *req, struct arena *a, const char **env, const char *body,
                 struct app_err *err)
{
    static struct body_src src;

    src.data = body ? body : "";
    src.len = body ? strlen(body) : 0;
    src.pos = 0;
    src.reads = 0;
    err_clear(err);
    return http_req_parse(req, a, (char **)env, src_read, &src, err);
}

static void test_http_parses_method_path_query_headers(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    const char *env[] = {"REQUEST_METHOD=GET",
                         "DOCUMENT_URI=/api/v1/products",
                         "REQUEST_URI=/api/v1/products?q=caf%C3%A9+latte&limit=20&x",
                         "QUERY_STRING=q=caf%C3%A9+latte&limit=20&x&q=second",
                         "HTTP_AUTHORIZATION=Bearer abc",
                         "HTTP_X_CSRF_TOKEN=tok",
                         "REQUEST_ID=0123abcd",
                         NULL};
    int64_t limit;

    CU_ASSERT_EQUAL_FATAL(parse(&req, a, env, NULL, &err), 0);
    CU_ASSERT_STRING_EQUAL(req.method, "GET");
    CU_ASSERT_STRING_EQUAL(req.path, "/api/v1/products");
    CU_ASSERT_STRING_EQUAL(http_query(&req, "q"), "caf\xc3\xa9 latte");
    CU_ASSERT_STRING_EQUAL(http_query(&req, "x"), "");
    CU_ASSERT_PTR_NULL(http_query(&req, "nope"));
    CU_ASSERT_STRING_EQUAL(http_header(&req, "Authorization"), "Bearer abc");
    CU_ASSERT_STRING_EQUAL(http_header(&req, "X-CSRF-Token"), "tok");
    CU_ASSERT_STRING_EQUAL(req.request_id, "0123abcd");
    CU_ASSERT_EQUAL(http_query_i64(&req, "limit", 1, 200, 50, &limit, &err), 0);
    CU_ASSERT_EQUAL(limit, 20);
    CU_ASSERT_EQUAL(http_query_i64(&req, "absent", 1, 200, 50, &limit, &err), 0);
    CU_ASSERT_EQUAL(limit, 50);
    arena_free(a);
}

static void test_http_query_integer_validation_names_parameter(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    const char *env[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/x",
                         "QUERY_STRING=limit=201&offset=-1&n=12abc&big=99999999999999999999", NULL};
    int64_t v;

    CU_ASSERT_EQUAL_FATAL(parse(&req, a, env, NULL, &err), 0);
    CU_ASSERT_EQUAL(http_query_i64(&req, "limit", 1, 200, 50, &v, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "limit");
    CU_ASSERT_EQUAL(http_query_i64(&req, "offset", 0, 1000, 0, &v, &err), -1);
    CU_ASSERT_EQUAL(http_query_i64(&req, "n", 0, 1000, 0, &v, &err), -1);
    CU_ASSERT_EQUAL(http_query_i64(&req, "big", 0, INT64_MAX, 0, &v, &err), -1);
    arena_free(a);
}

static void test_http_rejects_malformed_requests(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    const char *no_method[] = {"DOCUMENT_URI=/x", NULL};
    const char *bad_method[] = {"REQUEST_METHOD=G\x01T", "DOCUMENT_URI=/x", NULL};
    const char *bad_path[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=x", NULL};
    const char *nul_query[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/x", "QUERY_STRING=a=%00b",
                               NULL};
    const char *bad_len[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x", "CONTENT_LENGTH=12x", NULL};
    const char *short_body[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x", "CONTENT_LENGTH=100",
                                NULL};

    CU_ASSERT_EQUAL(parse(&req, a, no_method, NULL, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_BAD_REQUEST);
    CU_ASSERT_EQUAL(parse(&req, a, bad_method, NULL, &err), -1);
    CU_ASSERT_EQUAL(parse(&req, a, bad_path, NULL, &err), -1);
    CU_ASSERT_EQUAL(parse(&req, a, nul_query, NULL, &err), -1);
    CU_ASSERT_EQUAL(parse(&req, a, bad_len, "{}", &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_BAD_REQUEST);
    CU_ASSERT_EQUAL(parse(&req, a, short_body, "{}", &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_BAD_REQUEST);
    arena_free(a);
}

static void test_http_body_limit_is_413_before_reading(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    const char *env[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x", "CONTENT_LENGTH=1048577",
                         "CONTENT_TYPE=application/json", NULL};
    const char *ok_env[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x", "CONTENT_LENGTH=1048576",
                            "CONTENT_TYPE=application/json", NULL};
    char *big = malloc(1048577);

    memset(big, ' ', 1048576);
    big[0] = '{';
    big[1048575] = '}';
    big[1048576] = '\0';
    CU_ASSERT_EQUAL(parse(&req, a, env, "{}", &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(err_http_status(err.code), 413);
    CU_ASSERT_EQUAL(parse(&req, a, ok_env, big, &err), 0);
    CU_ASSERT_EQUAL(req.body_len, 1048576);
    CU_ASSERT_PTR_NOT_NULL(http_req_json(&req, &err));
    free(big);
    arena_free(a);
}

/* A route's own limit (http_req_body's max) refuses a body before a byte of it is read. */
static void test_http_body_route_limit_is_413_before_reading(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    struct body_src src = {"{\"a\":\"12345\"}", 13, 0, 0};
    const char *env[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x", "CONTENT_LENGTH=13",
                         "CONTENT_TYPE=application/json", NULL};

    err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(http_req_parse_head(&req, a, (char **)env, src_read, &src, &err), 0);
    CU_ASSERT_EQUAL(req.body_len, 0);
    CU_ASSERT_EQUAL(http_req_body(&req, 12, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_TOO_LARGE);
    CU_ASSERT_STRING_EQUAL(err.msg, "request body larger than 12 bytes");
    CU_ASSERT_EQUAL(src.reads, 0);
    CU_ASSERT_EQUAL(http_req_body(&req, 13, &err), 0);
    CU_ASSERT_EQUAL(req.body_len, 13);
    CU_ASSERT_STRING_EQUAL(req.body, "{\"a\":\"12345\"}");
    /* Read once: a second call checks the length only. */
    CU_ASSERT_EQUAL(http_req_body(&req, 0, &err), 0);
    CU_ASSERT_EQUAL(http_req_body(&req, 12, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_TOO_LARGE);
    arena_free(a);
}

static void test_http_json_body_checks(void)
{
    static const struct {
        const char *ctype, *body;
        enum err_code code;
    } cases[] = {
        {"application/json", "{\"a\": 1}", ERR_NONE},
        {"application/json; charset=utf-8", "{\"a\": \"\xc3\xa9\"}", ERR_NONE},
        {"text/plain", "{\"a\": 1}", ERR_MEDIA_TYPE},
        {"", "{\"a\": 1}", ERR_MEDIA_TYPE},
        {"application/jsonp", "{}", ERR_MEDIA_TYPE},
        {"application/json", "[1,2]", ERR_BAD_REQUEST},
        {"application/json", "{\"a\": 1", ERR_BAD_REQUEST},
        {"application/json", "{\"a\": 1} x", ERR_BAD_REQUEST},
        {"application/json", "{\"a\": \"\xff\xfe\"}", ERR_BAD_REQUEST},
        {"application/json", "{\"a\": \"\xc3\"}", ERR_BAD_REQUEST},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena *a = arena_new();
        struct http_req req;
        struct app_err err;
        char ct[128], cl[64];
        const char *env[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x", ct, cl, NULL};
        json_object *o;

        snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", cases[i].ctype);
        snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", strlen(cases[i].body));
        CU_ASSERT_EQUAL_FATAL(parse(&req, a, env, cases[i].body, &err), 0);
        o = http_req_json(&req, &err);
        if (cases[i].code == ERR_NONE) {
            CU_ASSERT_PTR_NOT_NULL(o);
        } else {
            CU_ASSERT_PTR_NULL(o);
            CU_ASSERT_EQUAL(err.code, cases[i].code);
        }
        arena_free(a);
    }
}

static void test_http_json_depth_is_bounded(void)
{
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    char body[20000], cl[64];
    const char *env[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x", "CONTENT_TYPE=application/json",
                         cl, NULL};
    int i, n = 0;

    body[n++] = '{';
    body[n++] = '"';
    body[n++] = 'a';
    body[n++] = '"';
    body[n++] = ':';
    for (i = 0; i < 5000; i++)
        body[n++] = '[';
    for (i = 0; i < 5000; i++)
        body[n++] = ']';
    body[n++] = '}';
    body[n] = '\0';
    snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%d", n);
    CU_ASSERT_EQUAL_FATAL(parse(&req, a, env, body, &err), 0);
    CU_ASSERT_PTR_NULL(http_req_json(&req, &err));
    CU_ASSERT_EQUAL(err.code, ERR_BAD_REQUEST);
    arena_free(a);
}

static void test_http_error_response_format(void)
{
    struct http_resp resp;
    struct app_err err;
    struct buf head;
    json_object *o, *e, *v;

    http_resp_init(&resp);
    buf_init(&head);
    err_set_full(&err, ERR_INVALID, NULL, "price", "'price' has \"quotes\"");
    http_resp_error(&resp, &err);
    CU_ASSERT_EQUAL(resp.status, 422);
    o = json_tokener_parse(resp.body.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_TRUE(json_object_object_get_ex(o, "error", &e));
    CU_ASSERT_TRUE(json_object_object_get_ex(e, "code", &v));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "validation_error");
    CU_ASSERT_TRUE(json_object_object_get_ex(e, "message", &v));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "'price' has \"quotes\"");
    CU_ASSERT_TRUE(json_object_object_get_ex(e, "field", &v));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "price");
    json_object_put(o);

    err_set(&err, ERR_NOT_FOUND, "gone");
    http_resp_error(&resp, &err);
    o = json_tokener_parse(resp.body.data);
    json_object_object_get_ex(o, "error", &e);
    CU_ASSERT_TRUE(json_object_object_get_ex(e, "field", &v));
    CU_ASSERT_PTR_NULL(v); /* present and null */
    json_object_put(o);

    http_resp_header(&resp, "X-Cache", "HIT");
    http_resp_header(&resp, "X-Evil", "a\r\nSet-Cookie: x=1");
    http_resp_head(&resp, &head);
    CU_ASSERT_EQUAL(strncmp(head.data, "Status: 404 Not Found\r\n", 23), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(head.data, "X-Cache: HIT\r\n"));
    CU_ASSERT_PTR_NULL(strstr(head.data, "Set-Cookie"));
    CU_ASSERT_PTR_NOT_NULL(strstr(head.data, "Content-Length: "));
    CU_ASSERT_EQUAL(strcmp(head.data + head.len - 4, "\r\n\r\n"), 0);
    buf_release(&head);
    http_resp_release(&resp);
}

int test_http_register(void)
{
    CU_pSuite s = CU_add_suite("http", NULL, NULL);

    if (!s ||
        !CU_add_test(s, "parses method, path, query, headers",
                     test_http_parses_method_path_query_headers) ||
        !CU_add_test(s, "query integer validation names parameter",
                     test_http_query_integer_validation_names_parameter) ||
        !CU_add_test(s, "rejects malformed requests", test_http_rejects_malformed_requests) ||
        !CU_add_test(s, "body over 1 MiB is 413 before reading",
                     test_http_body_limit_is_413_before_reading) ||
        !CU_add_test(s, "a route's body limit is 413 before reading",
                     test_http_body_route_limit_is_413_before_reading) ||
        !CU_add_test(s, "JSON body checks (type, syntax, UTF-8)", test_http_json_body_checks) ||
        !CU_add_test(s, "JSON depth is bounded", test_http_json_depth_is_bounded) ||
        !CU_add_test(s, "error response format and header safety", test_http_error_response_format))
        return -1;
    return 0;
}
