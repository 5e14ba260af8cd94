/* api_util: the authentication the dispatcher runs for a route, and how cached bodies are sent. */
#include <ctype.h>
#include <string.h>

#include "core/date.h"
#include "core/log.h"
#include "routes/api.h"

/* The request's token (Bearer header, else the session cookie), or NULL. */
static const char *request_token(struct http_req *req, bool *via_cookie)
{
    const char *authz = http_header(req, "Authorization");

    *via_cookie = false;
    /* A bad Authorization header is an error even if a cookie is also present. */
    if (authz)
        return auth_bearer(authz);
    *via_cookie = true;
    return auth_cookie(req->arena, http_header(req, "Cookie"), "stock_session");
}

static int session_of(struct app *app, struct http_req *req, const char *token, bool via_cookie,
                      const struct cache_result *pre, struct auth_session *s, struct app_err *err)
{
    if (auth_session_get(&app->db, &app->cache, req->arena, token, pre, s, err))
        return -1;
    if (via_cookie && strcmp(req->method, "GET") && strcmp(req->method, "HEAD") &&
        !auth_csrf_ok(s, http_header(req, "X-CSRF-Token")))
        return err_set_full(err, ERR_FORBIDDEN, "csrf_failed", NULL,
                            "missing or wrong X-CSRF-Token header");
    req->tenant_id = s->tenant_id;
    req->user_id = s->user_id;
    log_set_request(req->request_id, s->tenant_id);
    return 0;
}

/* A catalog context for the authenticated tenant of req. */
static void catalog_of(struct app *app, struct http_req *req, const struct auth_session *s,
                       struct catalog *c)
{
    c->db = &app->db;
    c->cache = &app->cache;
    c->a = req->arena;
    c->tenant = s->tenant_id;
    c->user = s->user_id;
    c->staff = strcmp(s->role, "admin") != 0;
    c->pre = NULL;
    c->pre_module = NULL;
    c->pre_key = NULL;
}

int api_authenticate(struct app *app, const struct route *route, struct http_req *req,
                     struct api_ctx *x, struct app_err *err)
{
    bool via_cookie;
    const char *token = request_token(req, &via_cookie);
    const char *modules[2] = {"sessions", route->prefetch}, *keys[2] = {NULL, NULL};
    struct cache_result *pre = NULL;
    int64_t tenant = -1;

    /*
     * One round trip for the session and the data: the token's tenant prefix names the key
     * space; the data is used only once the session proves that tenant (auth_session_get
     * refuses a session whose row has another tenant), so a forged prefix reads nothing.
     */
    if (route->prefetch && (keys[1] = route->prefetch_key(req)) &&
        auth_session_key(req->arena, token, &tenant, &keys[0]) == 0) {
        pre = arena_alloc(req->arena, 2 * sizeof(*pre));
        cache_get_many(&app->cache, req->arena, tenant, 2, modules, keys, pre);
    }
    if (session_of(app, req, token, via_cookie, pre, &x->s, err))
        return -1;
    catalog_of(app, req, &x->s, &x->c);
    if (pre && x->s.tenant_id == tenant && pre[1].status == CACHE_HIT) {
        x->c.pre = &pre[1];
        x->c.pre_module = route->prefetch;
        x->c.pre_key = keys[1];
    }
    return 0;
}

void api_send(struct http_resp *resp, int status, const struct catalog_out *out)
{
    http_resp_raw(resp, status, out->json, out->len);
    if (out->cached)
        http_resp_header(resp, "X-Cache", cache_status_name(out->cache));
    if (out->cached && out->cache == CACHE_HIT)
        http_resp_header(resp, "X-Cache-Layer", out->l1 ? "L1" : "redis");
}

int api_page(const struct http_req *req, int64_t *limit, int64_t *offset, struct app_err *err)
{
    if (http_query_i64(req, "limit", 1, 200, 50, limit, err) ||
        http_query_i64(req, "offset", 0, 1000000000, 0, offset, err))
        return -1;
    return 0;
}

int api_date_param(const struct http_req *req, const char *name, const char **out,
                   struct app_err *err)
{
    long days;

    *out = http_query(req, name);
    if (*out && !**out)
        *out = NULL;
    if (*out && date_parse(*out, &days))
        return err_set_full(err, ERR_INVALID, "invalid_date", name,
                            "'%s' must be a date YYYY-MM-DD", name);
    return 0;
}

int api_idem_key(struct http_req *req, const char **key, struct app_err *err)
{
    size_t i, n;

    *key = http_header(req, "Idempotency-Key");
    if (!*key)
        return 0;
    n = strlen(*key);
    for (i = 0; i < n && isgraph((unsigned char)(*key)[i]); i++)
        ;
    if (n == 0 || n > 255 || i < n)
        return err_set_full(err, ERR_INVALID, "invalid_idempotency_key", "Idempotency-Key",
                            "'Idempotency-Key' must be 1 to 255 visible ASCII characters");
    return 0;
}
