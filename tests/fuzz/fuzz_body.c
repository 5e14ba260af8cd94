/*
 * fuzz_body: every request body validator of the API (routes/api.h: api_*_in) behind the real
 * request parser. The first byte picks the validator and whether the rest starts with an
 * Idempotency-Key header value (up to the first newline); the remaining bytes are the body.
 */
#include <stdint.h>
#include <string.h>

#include "../lib/body_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a;
    struct src s;
    const char *key = NULL;
    size_t keylen = 0;
    unsigned sel;
    struct http_req req;
    struct app_err err;
    union body_in_out out;

    if (size < 1)
        return 0;
    sel = data[0];
    data++;
    size--;
    if (sel & 0x80) {
        const uint8_t *nl = memchr(data, '\n', size);

        key = (const char *)data;
        keylen = nl ? (size_t)(nl - data) : size;
        data += nl ? keylen + 1 : keylen;
        size -= nl ? keylen + 1 : keylen;
    }
    a = arena_new();
    if (body_in_request(&req, a, "application/json", key, keylen, data, size, &s, &err) == 0)
        (void)body_in_run((enum body_in_kind)(sel % BODY_KINDS), &req, sel & 0x40, &out, &err);
    arena_free(a);
    return 0;
}
