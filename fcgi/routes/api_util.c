/* api_util: what every authenticated handler starts with, and how cached bodies are sent. */
#include <string.h>

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

int api_require_session(struct app *app, struct http_req *req, struct auth_session *s,
                        struct app_err *err)
{
    bool via_cookie;
    const char *token = request_token(req, &via_cookie);

    return session_of(app, req, token, via_cookie, NULL, s, err);
}

int api_require_session_pre(struct app *app, struct http_req *req, struct auth_session *s,
                            struct catalog *c, const char *module, const char *key,
                            struct app_err *err)
{
    bool via_cookie;
    const char *token = request_token(req, &via_cookie);
    const char *modules[2] = {"sessions", module}, *keys[2] = {NULL, key};
    struct cache_result *pre = arena_alloc(req->arena, 2 * sizeof(*pre));
    int64_t tenant = -1;

    /*
     * One round trip for the session and the data: the token's tenant prefix names the key
     * space; the data is used only once the session proves that tenant (auth_session_get
     * refuses a session whose row has another tenant), so a forged prefix reads nothing.
     */
    if (key && auth_session_key(req->arena, token, &tenant, &keys[0]) == 0)
        cache_get_many(&app->cache, req->arena, tenant, 2, modules, keys, pre);
    else
        memset(pre, 0, 2 * sizeof(*pre));
    if (session_of(app, req, token, via_cookie, &pre[0], s, err))
        return -1;
    api_catalog(app, req, s, c);
    if (s->tenant_id == tenant && pre[1].status == CACHE_HIT) {
        c->pre = &pre[1];
        c->pre_module = module;
        c->pre_key = key;
    }
    return 0;
}

void api_catalog(struct app *app, struct http_req *req, const struct auth_session *s,
                 struct catalog *c)
{
    c->db = &app->db;
    c->cache = &app->cache;
    c->a = req->arena;
    c->tenant = s->tenant_id;
    c->pre = NULL;
    c->pre_module = NULL;
    c->pre_key = NULL;
}

void api_send(struct http_resp *resp, int status, const struct catalog_out *out)
{
    http_resp_raw(resp, status, out->json, out->len);
    if (out->cached)
        http_resp_header(resp, "X-Cache", cache_status_name(out->cache));
}

int api_begin(struct app *app, struct http_req *req, struct api_ctx *x, bool with_id,
              struct app_err *err)
{
    memset(x, 0, sizeof(*x));
    if (api_require_session(app, req, &x->s, err))
        return -1;
    if (with_id && http_path_id(req, "id", &x->id, err))
        return -1;
    api_catalog(app, req, &x->s, &x->c);
    return 0;
}

int api_page(const struct http_req *req, int64_t *limit, int64_t *offset, struct app_err *err)
{
    if (http_query_i64(req, "limit", 1, 200, 50, limit, err) ||
        http_query_i64(req, "offset", 0, 1000000000, 0, offset, err))
        return -1;
    return 0;
}
