/*
 * fuzz_body: every request body validator of the API (routes/api.h: api_*_in) behind the real
 * request parser. The first byte picks the validator and whether the rest starts with an
 * Idempotency-Key header value (up to the first newline); the remaining bytes are the body.
 */
#include <stdint.h>
#include <string.h>

#include "routes/api.h"

#include "fuzz_src.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a;
    struct src s;
    char *env[7];
    int e = 0;
    unsigned sel;
    struct http_req req;
    struct app_err err;

    if (size < 1)
        return 0;
    sel = data[0];
    data++;
    size--;
    a = arena_new();
    env[e++] = (char *)"REQUEST_METHOD=POST";
    env[e++] = (char *)"DOCUMENT_URI=/api/v1/things";
    env[e++] = (char *)"CONTENT_TYPE=application/json";
    if (sel & 0x80) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t k = nl ? (size_t)(nl - data) : size;

        env[e++] = arena_sprintf(a, "HTTP_IDEMPOTENCY_KEY=%.*s", (int)k, (const char *)data);
        data += nl ? k + 1 : k;
        size -= nl ? k + 1 : k;
    }
    env[e++] = arena_sprintf(a, "CONTENT_LENGTH=%zu", size);
    env[e] = NULL;
    s = (struct src){data, size, 0};
    err_clear(&err);
    if (http_req_parse(&req, a, env, rd, &s, &err) == 0) {
        bool full = sel & 0x40;

        switch (sel % 6) {
        case 0: {
            struct uom_in in;
            (void)api_uom_in(&req, full, &in, &err);
            break;
        }
        case 1: {
            struct category_in in;
            (void)api_category_in(&req, full, &in, &err);
            break;
        }
        case 2: {
            struct product_in in;
            (void)api_product_in(&req, full, &in, &err);
            break;
        }
        case 3: {
            struct sale_in in;
            (void)api_sale_in(&req, &in, &err);
            break;
        }
        case 4: {
            struct payment_in pay, *p;
            (void)api_confirm_in(&req, &pay, &p, &err);
            break;
        }
        default: {
            struct payment_in in;
            const char *key;
            (void)api_payment_in(&req, &in, &key, &err);
            break;
        }
        }
    }
    arena_free(a);
    return 0;
}
