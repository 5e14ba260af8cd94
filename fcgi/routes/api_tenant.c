/*
 * api_tenant: GET /tenant (any session) and PATCH /tenant (admin: the route table's check), both
 * of the session's tenant only. A PATCH body holds any of name, locale and currency; any other
 * field, a value of another type and a bad value are 422 validation_error naming the field.
 */
#include <string.h>

#include "core/jsonx.h"
#include "routes/api.h"
#include "services/tenant.h"

/* A field name fit to be shown back as the error's field: short printable ASCII. */
static bool field_showable(const char *key)
{
    size_t i, n = strlen(key);

    if (n == 0 || n > 48)
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
            return false;
    return true;
}

/* A given field of body must be a string (null is not "keep": it is refused). */
static int string_field(json_object *body, const char *field, const char **out, struct app_err *err)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(body, field, &v))
        return 0;
    if (!v || !json_object_is_type(v, json_type_string))
        return err_set_full(err, ERR_INVALID, NULL, field, "'%s' must be a string", field);
    *out = json_object_get_string(v);
    if ((size_t)json_object_get_string_len(v) != strlen(*out))
        return err_set_full(err, ERR_INVALID, NULL, field, "'%s' must not contain NUL", field);
    return 0;
}

int api_tenant_get(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err)
{
    (void)req;
    if (tenant_get(&x->c, &x->out, err))
        return -1;
    http_resp_header(resp, "Cache-Control", "no-store");
    api_send(resp, 200, &x->out);
    return 0;
}

int api_tenant_in(struct http_req *req, struct tenant_change *ch, struct app_err *err)
{
    json_object *body = http_req_json(req, err);

    memset(ch, 0, sizeof(*ch));
    if (!body)
        return -1;
    {
        json_object_object_foreach(body, key, val)
        {
            (void)val;
            if (strcmp(key, "name") && strcmp(key, "locale") && strcmp(key, "currency")) {
                if (!field_showable(key))
                    return err_set_full(err, ERR_INVALID, NULL, NULL,
                                        "unknown field: a tenant has name, locale and currency");
                return err_set_full(err, ERR_INVALID, NULL, key,
                                    "'%s' is not a field of the tenant (name, locale, currency)",
                                    key);
            }
        }
    }
    if (string_field(body, "name", &ch->name, err) ||
        string_field(body, "locale", &ch->locale, err) ||
        string_field(body, "currency", &ch->currency, err))
        return -1;
    return tenant_change_check(ch, err);
}

int api_tenant_patch(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err)
{
    struct tenant_change ch;

    if (api_tenant_in(req, &ch, err) || tenant_update(&x->c, &ch, &x->out, err))
        return -1;
    http_resp_header(resp, "Cache-Control", "no-store");
    api_send(resp, 200, &x->out);
    return 0;
}
