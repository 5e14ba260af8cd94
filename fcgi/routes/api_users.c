/*
 * api_users: /users (admin routes: the role check is the route table's) and POST /me/password.
 * Handlers read the body (422 naming the field) and call services/users for the session's
 * tenant; a password is never logged or echoed.
 */
#include <string.h>

#include "core/jsonx.h"
#include "routes/api.h"
#include "services/users.h"

/* A new password of a body: a string, any length here, so that the service's rule (and its
 * message) decides. */
static int password_field(json_object *body, const char *field, const char **out,
                          struct app_err *err)
{
    return jsonx_get_string(body, field, true, JSONX_MAX_LEN, out, err);
}

int api_users_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err)
{
    (void)req;
    if (users_list(&x->c, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}

int api_users_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err)
{
    json_object *body = http_req_json(req, err);
    const char *email, *password, *role;

    if (!body || jsonx_get_string(body, "email", true, USERS_EMAIL_MAX, &email, err) ||
        password_field(body, "password", &password, err) ||
        jsonx_get_string(body, "role", false, 16, &role, err))
        return -1;
    if (users_create(&x->c, email, password, role ? role : "staff", &x->out, err))
        return -1;
    api_send(resp, 201, &x->out);
    return 0;
}

int api_users_patch(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                    struct app_err *err)
{
    json_object *body = http_req_json(req, err), *v;
    struct user_change ch = {NULL, -1};

    if (!body || jsonx_get_string(body, "role", false, 16, &ch.role, err))
        return -1;
    if (json_object_object_get_ex(body, "disabled", &v)) {
        if (!v || !json_object_is_type(v, json_type_boolean))
            return err_set_full(err, ERR_INVALID, "invalid_type", "disabled",
                                "'disabled' must be true or false");
        ch.disabled = json_object_get_boolean(v) ? 1 : 0;
    }
    if (users_update(&x->c, x->id, &ch, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}

int api_users_password(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err)
{
    json_object *body = http_req_json(req, err);
    const char *password;

    if (!body || password_field(body, "password", &password, err))
        return -1;
    /* An admin's reset ends every session of that user (the admin's own too, for oneself). */
    if (users_set_password(&x->c, x->id, password, NULL, err))
        return -1;
    resp->status = 204;
    return 0;
}

int api_me_password(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                    struct app_err *err)
{
    json_object *body = http_req_json(req, err);
    const char *current, *password, *client = http_env(req, "REMOTE_ADDR");
    int retry_after = 0;

    if (!body ||
        jsonx_get_string(body, "current_password", true, USERS_PASSWORD_MAX, &current, err) ||
        password_field(body, "password", &password, err))
        return -1;
    if (users_change_own_password(&x->c, x->s.user_id, current, password, x->s.token_hash,
                                  client ? client : "-", &retry_after, err)) {
        if (retry_after > 0)
            http_resp_header(resp, "Retry-After", arena_sprintf(req->arena, "%d", retry_after));
        return -1;
    }
    resp->status = 204;
    return 0;
}
