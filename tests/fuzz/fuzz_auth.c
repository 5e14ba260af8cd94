/* fuzz_auth: the Authorization and Cookie header parsers and the token's cache key. */
#include <stdint.h>
#include <string.h>

#include "services/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new();
    char *h = arena_alloc(a, size + 1);
    const char *token, *key;
    int64_t tenant;

    memcpy(h, data, size);
    h[size] = '\0';
    token = auth_bearer(h);
    if (token)
        (void)auth_session_key(a, token, &tenant, &key);
    token = auth_cookie(a, h, "stock_session");
    if (token)
        (void)auth_session_key(a, token, &tenant, &key);
    arena_free(a);
    return 0;
}
