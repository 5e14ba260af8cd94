/* router: segment-wise matching of the route table with {param} segments and 405 detection. */
#include "core/router.h"

#include <string.h>

#include "core/buf.h"

/*
 * Matches path against pattern, both starting with '/'. On success stores the parameters in
 * req (values are arena copies) and returns true.
 */
static bool match_one(const char *pattern, const char *path, struct http_req *req, bool store)
{
    const char *p = pattern, *s = path;
    size_t np = 0;

    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        if (*p == '{') {
            const char *pend = strchr(p, '}');
            size_t seglen = strcspn(s, "/");

            if (!pend || seglen == 0)
                return false;
            if (store) {
                if (np == HTTP_MAX_PATH_PARAMS)
                    return false;
                req->path_params[np].name =
                    arena_strndup(req->arena, p + 1, (size_t)(pend - p - 1));
                req->path_params[np].value = arena_strndup(req->arena, s, seglen);
            }
            np++;
            p = pend + 1;
            s += seglen;
        } else {
            size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");

            if (plen != slen || strncmp(p, s, plen))
                return false;
            p += plen;
            s += slen;
        }
    }
    if (*p || *s)
        return false;
    if (store)
        req->npath_params = np;
    return true;
}

const struct route *router_match(const struct route *routes, size_t n, struct http_req *req,
                                 const char **allow, struct app_err *err)
{
    size_t i;
    bool path_matched = false;
    struct buf methods = BUF_INIT;

    buf_init(&methods);
    for (i = 0; i < n; i++) {
        if (!match_one(routes[i].pattern, req->path, req, false))
            continue;
        if (!strcmp(routes[i].method, req->method) ||
            (!strcmp(req->method, "HEAD") && !strcmp(routes[i].method, "GET"))) {
            buf_release(&methods);
            match_one(routes[i].pattern, req->path, req, true);
            req->route = routes[i].name;
            return &routes[i];
        }
        if (!strstr(methods.data, routes[i].method)) {
            if (methods.len)
                buf_add(&methods, ", ", 2);
            buf_adds(&methods, routes[i].method);
        }
        path_matched = true;
    }
    if (path_matched) {
        if (allow)
            *allow = arena_strdup(req->arena, methods.data);
        buf_release(&methods);
        return err_set(err, ERR_METHOD, "method %s not allowed here", req->method), NULL;
    }
    buf_release(&methods);
    return err_set(err, ERR_NOT_FOUND, "no such resource"), NULL;
}
