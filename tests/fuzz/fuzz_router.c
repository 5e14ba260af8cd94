/* fuzz_router: the route table against arbitrary methods and paths. */
#include <stdint.h>
#include <string.h>

#include "core/router.h"
#include "routes/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
    struct arena *a = arena_new();
    struct http_req req;
    struct app_err err;
    const char *allow = NULL;
    char *path;
    int64_t id;

    if (size == 0) {
        arena_free(a);
        return 0;
    }
    memset(&req, 0, sizeof(req));
    req.arena = a;
    req.method = methods[data[0] % 6];
    path = arena_alloc(a, size + 1);
    path[0] = '/';
    memcpy(path + 1, data + 1, size - 1);
    path[size] = '\0';
    req.path = path;
    if (router_match(api_routes, api_routes_count, &req, &allow, &err))
        (void)http_path_id(&req, "id", &id, &err);
    arena_free(a);
    return 0;
}
