/* api_stock: /stock/movements, the stock ledger (SPEC §10). */
#include <string.h>

#include "core/dec.h"
#include "core/jsonx.h"
#include "routes/api.h"
#include "services/export.h"
#include "services/movements.h"

/* The body of POST /stock/movements and its Idempotency-Key header (*key: NULL when absent). */
int api_movement_in(struct http_req *req, struct movement_in *in, const char **key,
                    struct app_err *err)
{
    json_object *body = http_req_json(req, err), *v;
    bool adjustment, count;

    if (!body || api_idem_key(req, key, err))
        return -1;
    memset(in, 0, sizeof(*in));
    in->unit_cost = -1;
    if (jsonx_get_id(body, "product_id", true, false, &in->product_id, err) ||
        jsonx_get_string(body, "kind", true, 20, &in->kind, err))
        return -1;
    if (!movements_kind_valid(in->kind, true))
        return err_set_full(err, ERR_INVALID, "invalid_kind", "kind",
                            "'kind' must be receipt, loss, damage, adjustment or count");
    adjustment = !strcmp(in->kind, "adjustment");
    count = !strcmp(in->kind, "count");
    if (!json_object_object_get_ex(body, "quantity", &v) || !v)
        return err_set_full(err, ERR_INVALID, "required", "quantity", "'quantity' is required");
    if (dec_from_json(v, DEC_QTY_SCALE, adjustment, &in->quantity, "quantity", err))
        return -1;
    if (adjustment && in->quantity == 0)
        return err_set_full(err, ERR_INVALID, "zero", "quantity",
                            "'quantity' of an adjustment must not be zero");
    if (!adjustment && !count && in->quantity <= 0)
        return err_set_full(err, ERR_INVALID, "not_positive", "quantity",
                            "'quantity' must be greater than zero");
    if (json_object_object_get_ex(body, "unit_cost", &v) && v &&
        dec_from_json(v, DEC_MONEY_SCALE, false, &in->unit_cost, "unit_cost", err))
        return -1;
    if (jsonx_get_string(body, "note", false, 500, &in->note, err) ||
        jsonx_get_string(body, "reference", false, 200, &in->reference, err))
        return -1;
    return 0;
}

int api_movements_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                         struct app_err *err)
{
    struct movement_in in;
    const char *key;
    int status = 201;

    if (api_movement_in(req, &in, &key, err))
        return -1;
    /* SPEC §10: staff record receipts; every other kind is the admin's. */
    if (strcmp(in.kind, "receipt") && x->c.staff)
        return err_set(err, ERR_FORBIDDEN, "only an admin may record a %s movement", in.kind);
    if (movements_create(&x->c, &in, key, &status, &x->out, err))
        return -1;
    api_send(resp, status, &x->out);
    return 0;
}

/* The list query of the request; 422 naming the parameter. */
static int movement_query(const struct http_req *req, struct movement_query *q, struct app_err *err)
{
    const char *pid = http_query(req, "product_id");

    memset(q, 0, sizeof(*q));
    q->product_id = -1;
    if (api_list_page(req, &q->limit, &q->offset, err) ||
        api_date_param(req, "from", &q->from, err) || api_date_param(req, "to", &q->to, err))
        return -1;
    if (pid && *pid && http_query_i64(req, "product_id", 1, INT64_MAX - 1, -1, &q->product_id, err))
        return -1;
    q->kind = http_query(req, "kind");
    if (q->kind && !*q->kind)
        q->kind = NULL;
    if (q->kind && !movements_kind_valid(q->kind, false))
        return err_set_full(err, ERR_INVALID, "invalid_parameter", "kind",
                            "'kind' must be receipt, loss, damage, adjustment, count, sale, "
                            "cancel, return or opening");
    return 0;
}

const char *api_movements_list_key(struct http_req *req)
{
    struct movement_query q;
    struct app_err verr;

    err_clear(&verr);
    if (api_csv_requested(req))
        return NULL; /* an export reads the database, never the cache */
    return movement_query(req, &q, &verr) ? NULL : movements_list_key(req->arena, &q);
}

int api_movements_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err)
{
    struct movement_query q;
    struct export_def def;

    if (movement_query(req, &q, err))
        return -1;
    http_resp_header(resp, "Vary", "Accept"); /* JSON or CSV (api_csv.c) */
    if (api_csv_requested(req)) {
        movements_export(&x->c, &q, &def);
        return api_csv_send(x, req, resp, &def, err);
    }
    if (movements_list(&x->c, &q, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}
