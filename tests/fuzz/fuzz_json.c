/* fuzz_json: the JSON body decoder and the field readers on arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "core/dec.h"
#include "core/http.h"
#include "core/jsonx.h"

#include "fuzz_src.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new();
    struct src s = {data, size, 0};
    char *env[5];
    struct http_req req;
    struct app_err err;
    json_object *o;
    const char *str;
    int64_t v;

    env[0] = (char *)"REQUEST_METHOD=POST";
    env[1] = (char *)"DOCUMENT_URI=/api/v1/products";
    env[2] = (char *)"CONTENT_TYPE=application/json";
    env[3] = arena_sprintf(a, "CONTENT_LENGTH=%zu", size);
    env[4] = NULL;
    if (http_req_parse(&req, a, env, rd, &s, &err) == 0 && (o = http_req_json(&req, &err))) {
        json_object *f;

        (void)jsonx_get_string(o, "name", false, 200, &str, &err);
        (void)jsonx_get_id(o, "uom_id", false, true, &v, &err);
        if (json_object_object_get_ex(o, "price", &f) && f)
            (void)dec_from_json(f, DEC_MONEY_SCALE, false, &v, "price", &err);
        if (json_object_object_get_ex(o, "stock", &f) && f)
            (void)dec_from_json(f, DEC_QTY_SCALE, true, &v, "stock", &err);
    }
    arena_free(a);
    return 0;
}
