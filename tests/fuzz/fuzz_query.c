/* fuzz_query: the request parser on an arbitrary query string, path and Content-Length. */
#include <stdint.h>
#include <string.h>

#include "core/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new();
    char *q = arena_alloc(a, size + 16), *path;
    char *env[6];
    struct http_req req;
    struct app_err err;
    int64_t v;
    size_t cut;

    /* First part is the path, the rest the query string (both NUL-free by construction). */
    memcpy(q, data, size);
    q[size] = '\0';
    cut = strlen(q) / 3;
    path = arena_sprintf(a, "DOCUMENT_URI=/%.*s", (int)cut, q);
    env[0] = (char *)"REQUEST_METHOD=GET";
    env[1] = path;
    env[2] = arena_sprintf(a, "QUERY_STRING=%s", q + cut);
    env[3] = arena_sprintf(a, "CONTENT_LENGTH=%.*s", (int)(cut < 24 ? cut : 24), q);
    env[4] = (char *)"HTTP_AUTHORIZATION=Bearer x";
    env[5] = NULL;
    if (http_req_parse(&req, a, env, NULL, NULL, &err) == 0) {
        (void)http_query(&req, "q");
        (void)http_query_i64(&req, "limit", 1, 200, 50, &v, &err);
        (void)http_header(&req, "Authorization");
    }
    arena_free(a);
    return 0;
}
