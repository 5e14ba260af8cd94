/* api_util: what every authenticated handler starts with, and how cached bodies are sent. */
#include <string.h>

#include "core/log.h"
#include "routes/api.h"

int api_require_session(struct app *app, struct http_req *req, struct auth_session *s,
                        struct app_err *err)
{
    const char *authz = http_header(req, "Authorization");
    const char *token;
    bool via_cookie = false;

    if (authz) {
        /* A bad Authorization header is an error even if a cookie is also present. */
        token = auth_bearer(authz);
    } else {
        token = auth_cookie(req->arena, http_header(req, "Cookie"), "stock_session");
        via_cookie = true;
    }
    if (auth_session_get(&app->db, &app->cache, req->arena, token, s, err))
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

void api_catalog(struct app *app, struct http_req *req, const struct auth_session *s,
                 struct catalog *c)
{
    c->db = &app->db;
    c->cache = &app->cache;
    c->a = req->arena;
    c->tenant = s->tenant_id;
}

void api_send(struct http_resp *resp, int status, const struct catalog_out *out)
{
    http_resp_raw(resp, status, out->json, out->len);
    if (out->cached)
        http_resp_header(resp, "X-Cache", cache_status_name(out->cache));
}
