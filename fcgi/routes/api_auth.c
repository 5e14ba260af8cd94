/* api_auth: POST /auth/login, POST /auth/logout, GET /me (the tenant of both answers: id, slug,
 * name, locale, currency; from the session, invalidated by every change of the tenant). */
#include <stdio.h>
#include <string.h>

#include "core/jsonx.h"
#include "routes/api.h"

#define SESSION_COOKIE "stock_session"

static json_object *user_json(const struct auth_session *s)
{
    json_object *u = json_object_new_object();

    json_object_object_add(u, "id", json_object_new_int64(s->user_id));
    json_object_object_add(u, "email", json_object_new_string(s->email));
    json_object_object_add(u, "role", json_object_new_string(s->role));
    return u;
}

static json_object *tenant_json(const struct auth_session *s)
{
    json_object *t = json_object_new_object();

    json_object_object_add(t, "id", json_object_new_int64(s->tenant_id));
    json_object_object_add(t, "slug", json_object_new_string(s->tenant_slug));
    json_object_object_add(t, "name", json_object_new_string(s->tenant_name));
    json_object_object_add(t, "locale", json_object_new_string(s->tenant_locale));
    json_object_object_add(t, "currency", json_object_new_string(s->tenant_currency));
    return t;
}

/* Secure when nginx says the request came over TLS. */
static const char *cookie_secure(const struct http_req *req)
{
    const char *https = http_env(req, "HTTPS");

    return https && (!strcmp(https, "on") || !strcmp(https, "1")) ? "; Secure" : "";
}

/* The body is at most API_LOGIN_BODY_MAX bytes: api_route_run refused a larger one unread. */
int api_auth_login(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err)
{
    struct app *app = x->app;
    json_object *body = http_req_json(req, err), *o;
    const char *tenant, *email, *password, *client;
    struct auth_login_result r;
    int retry_after = 0;

    if (!body)
        return -1;
    if (jsonx_get_string(body, "tenant", true, 63, &tenant, err) ||
        jsonx_get_string(body, "email", true, 254, &email, err) ||
        jsonx_get_string(body, "password", true, AUTH_PASSWORD_MAX, &password, err))
        return -1;
    client = http_env(req, "REMOTE_ADDR");
    if (auth_login(&app->db, req->arena, tenant, email, password, client ? client : "-", &r,
                   &retry_after, err)) {
        if (retry_after > 0)
            http_resp_header(resp, "Retry-After", arena_sprintf(req->arena, "%d", retry_after));
        return -1;
    }
    o = jsonx_own(req->arena, json_object_new_object());
    json_object_object_add(o, "token", json_object_new_string(r.token));
    json_object_object_add(o, "expires_at", json_object_new_string(r.expires_at));
    json_object_object_add(o, "csrf_token", json_object_new_string(r.csrf));
    json_object_object_add(o, "user", user_json(&r.s));
    json_object_object_add(o, "tenant", tenant_json(&r.s));
    http_resp_header(resp, "Set-Cookie",
                     arena_sprintf(req->arena,
                                   SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; "
                                                  "SameSite=Lax%s",
                                   r.token, r.max_age, cookie_secure(req)));
    http_resp_header(resp, "Cache-Control", "no-store");
    http_resp_json(resp, 200, o);
    return 0;
}

int api_auth_logout(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                    struct app_err *err)
{
    if (auth_logout(&x->app->db, &x->app->cache, req->arena, &x->s, err))
        return -1;
    http_resp_header(resp, "Set-Cookie",
                     arena_sprintf(req->arena,
                                   SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
                                   cookie_secure(req)));
    resp->status = 204;
    return 0;
}

int api_me(struct api_ctx *x, struct http_req *req, struct http_resp *resp, struct app_err *err)
{
    const struct auth_session *s = &x->s;
    json_object *o;

    (void)err;
    o = jsonx_own(req->arena, json_object_new_object());
    json_object_object_add(o, "user", user_json(s));
    json_object_object_add(o, "tenant", tenant_json(s));
    /* The page keeps the CSRF token in memory only; after a reload it asks again here. */
    json_object_object_add(o, "csrf_token", json_object_new_string(s->csrf));
    json_object_object_add(o, "expires_at_unix", json_object_new_int64(s->expires_at));
    http_resp_header(resp, "Cache-Control", "no-store");
    http_resp_json(resp, 200, o);
    return 0;
}
