/* api_sales: /sales, /payments and /balance/series. */
#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "core/dec.h"
#include "core/jsonx.h"
#include "routes/api.h"
#include "services/export.h"
#include "services/balance.h"
#include "services/payments.h"
#include "services/returns.h"
#include "services/sales.h"

/* A required money or quantity field, strictly positive. */
static int positive(json_object *o, const char *field, const char *label, int scale, int64_t *out,
                    struct app_err *err)
{
    json_object *v;

    if (!json_object_object_get_ex(o, field, &v) || !v)
        return err_set_full(err, ERR_INVALID, "required", label, "'%s' is required", label);
    if (dec_from_json(v, scale, false, out, label, err))
        return -1;
    if (*out <= 0)
        return err_set_full(err, ERR_INVALID, "not_positive", label,
                            "'%s' must be greater than zero", label);
    return 0;
}

static int method_field(json_object *o, const char *label, enum payment_method *m,
                        struct app_err *err)
{
    json_object *v;

    /* The length check refuses "cash\u0000...": C strings would stop at the NUL. */
    if (!json_object_object_get_ex(o, "method", &v) || !v ||
        !json_object_is_type(v, json_type_string) ||
        (size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v)) ||
        payments_method_parse(json_object_get_string(v), false, m))
        return err_set_full(err, ERR_INVALID, "invalid_method", label,
                            "'%s' must be cash, card or transfer", label);
    return 0;
}

/* ---- sales ---- */

int api_sales_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err)
{
    struct sale_query q;
    struct export_def def;

    memset(&q, 0, sizeof(q));
    if (api_list_page(req, &q.limit, &q.offset, err) || api_date_param(req, "from", &q.from, err) ||
        api_date_param(req, "to", &q.to, err))
        return -1;
    q.status = http_query(req, "status");
    if (q.status && !*q.status)
        q.status = NULL;
    if (q.status && strcmp(q.status, "draft") && strcmp(q.status, "confirmed") &&
        strcmp(q.status, "cancelled"))
        return err_set_full(err, ERR_INVALID, "invalid_parameter", "status",
                            "'status' must be draft, confirmed or cancelled");
    http_resp_header(resp, "Vary", "Accept"); /* JSON or CSV (api_csv.c) */
    if (api_csv_requested(req)) {
        sales_export(&x->c, &q, &def);
        return api_csv_send(x, req, resp, &def, err);
    }
    if (sales_list(&x->c, &q, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}

/* The "items" list of a body, 1 to max lines; 422 naming items. */
static int items_of(json_object *body, int max, json_object **items, size_t *n, struct app_err *err)
{
    if (!json_object_object_get_ex(body, "items", items) || !*items ||
        !json_object_is_type(*items, json_type_array))
        return err_set_full(err, ERR_INVALID, "required", "items",
                            "'items' must be a list of lines");
    *n = json_object_array_length(*items);
    if (*n == 0 || *n > (size_t)max)
        return err_set_full(err, ERR_INVALID, "invalid_length", "items",
                            "'items' must hold 1 to %d lines", max);
    return 0;
}

/* Line i of items: an object with a product_id and a positive quantity; 422 naming the field
 * as items[i].field. */
static int line_of(json_object *items, size_t i, json_object **line, int64_t *product_id,
                   int64_t *quantity, struct app_err *err)
{
    char label[48];

    *line = json_object_array_get_idx(items, i);
    if (!*line || !json_object_is_type(*line, json_type_object)) {
        snprintf(label, sizeof(label), "items[%zu]", i);
        return err_set_full(err, ERR_INVALID, "invalid_type", label, "'%s' must be an object",
                            label);
    }
    snprintf(label, sizeof(label), "items[%zu].product_id", i);
    if (jsonx_get_id(*line, "product_id", true, false, product_id, err)) {
        snprintf(err->field, sizeof(err->field), "%s", label);
        return -1;
    }
    snprintf(label, sizeof(label), "items[%zu].quantity", i);
    return positive(*line, "quantity", label, DEC_QTY_SCALE, quantity, err);
}

/* The body of POST /sales: {"customer"?, "items": [{"product_id", "quantity", "unit_price"?}]}. */
int api_sale_in(struct http_req *req, struct sale_in *in, struct app_err *err)
{
    json_object *body = http_req_json(req, err), *items;
    size_t i, n;

    if (!body)
        return -1;
    memset(in, 0, sizeof(*in));
    if (jsonx_get_string(body, "customer", false, 200, &in->customer, err))
        return -1;
    if (items_of(body, SALES_MAX_LINES, &items, &n, err))
        return -1;
    in->nlines = n;
    in->lines = arena_alloc(req->arena, n * sizeof(*in->lines));
    for (i = 0; i < n; i++) {
        json_object *line, *v;
        struct sale_line_in *l = &in->lines[i];
        char label[48];

        if (line_of(items, i, &line, &l->product_id, &l->quantity, err))
            return -1;
        l->unit_price = -1;
        if (json_object_object_get_ex(line, "unit_price", &v) && v) {
            snprintf(label, sizeof(label), "items[%zu].unit_price", i);
            if (dec_from_json(v, DEC_MONEY_SCALE, false, &l->unit_price, label, err))
                return -1;
        }
    }
    return 0;
}

int api_sales_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err)
{
    struct sale_in in;

    if (api_sale_in(req, &in, err))
        return -1;
    if (sales_create(&x->c, &in, &x->out, err))
        return -1;
    api_send(resp, 201, &x->out);
    return 0;
}

int api_sales_get(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                  struct app_err *err)
{
    (void)req;
    if (sales_get(&x->c, x->id, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}

/* The optional body of POST /sales/{id}/confirm: none, or {"payment": {"amount", "method"}}.
 * *out is pay when a payment was given, NULL otherwise. */
int api_confirm_in(struct http_req *req, struct payment_in *pay, struct payment_in **out,
                   struct app_err *err)
{
    json_object *body, *po;

    *out = NULL;
    if (req->body_len == 0)
        return 0;
    if (!(body = http_req_json(req, err)))
        return -1;
    if (json_object_object_get_ex(body, "payment", &po) && po) {
        if (!json_object_is_type(po, json_type_object))
            return err_set_full(err, ERR_INVALID, "invalid_type", "payment",
                                "'payment' must be an object");
        memset(pay, 0, sizeof(*pay));
        if (positive(po, "amount", "payment.amount", DEC_MONEY_SCALE, &pay->amount, err) ||
            method_field(po, "payment.method", &pay->method, err))
            return -1;
        *out = pay;
    }
    return 0;
}

int api_sales_confirm(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                      struct app_err *err)
{
    struct payment_in pay, *p;

    if (api_confirm_in(req, &pay, &p, err))
        return -1;
    if (sales_confirm(&x->c, x->id, p, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}

int api_sales_cancel(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err)
{
    (void)req;
    if (sales_cancel(&x->c, x->id, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}

/* ---- payments ---- */

/* The body of POST /payments and its Idempotency-Key header (*key: NULL when absent). */
int api_payment_in(struct http_req *req, struct payment_in *in, const char **key,
                   struct app_err *err)
{
    json_object *body = http_req_json(req, err);

    if (!body || api_idem_key(req, key, err))
        return -1;
    memset(in, 0, sizeof(*in));
    if (jsonx_get_id(body, "sale_id", true, false, &in->sale_id, err) ||
        positive(body, "amount", "amount", DEC_MONEY_SCALE, &in->amount, err) ||
        method_field(body, "method", &in->method, err) ||
        jsonx_get_string(body, "paid_at", false, 40, &in->paid_at, err) ||
        jsonx_get_string(body, "reference", false, 200, &in->reference, err))
        return -1;
    /* Years 1970-2999: a payment outside them is a typo, and its day could not be asked for. */
    if (in->paid_at && !date_timestamp_valid(in->paid_at, 1970, 2999))
        return err_set_full(err, ERR_INVALID, "invalid_timestamp", "paid_at",
                            "'paid_at' must be an ISO 8601 timestamp with an offset, such as "
                            "2026-01-05T10:00:00Z, in the years 1970 to 2999");
    return 0;
}

int api_payments_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                        struct app_err *err)
{
    struct payment_in in;
    const char *key;
    int status = 201;

    if (api_payment_in(req, &in, &key, err))
        return -1;
    if (payments_create(&x->c, &in, key, &status, &x->out, err))
        return -1;
    api_send(resp, status, &x->out);
    return 0;
}

int api_payments_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                      struct app_err *err)
{
    struct payment_query q;
    struct export_def def;
    const char *m = http_query(req, "method"), *sid = http_query(req, "sale_id");

    memset(&q, 0, sizeof(q));
    q.sale_id = -1;
    if (api_list_page(req, &q.limit, &q.offset, err) || api_date_param(req, "from", &q.from, err) ||
        api_date_param(req, "to", &q.to, err))
        return -1;
    if (sid && *sid && http_query_i64(req, "sale_id", 1, INT64_MAX - 1, -1, &q.sale_id, err))
        return -1;
    if (m && *m && payments_method_parse(m, true, &q.method))
        return err_set_full(err, ERR_INVALID, "invalid_parameter", "method",
                            "'method' must be all, cash, card or transfer");
    http_resp_header(resp, "Vary", "Accept"); /* JSON or CSV (api_csv.c) */
    if (api_csv_requested(req)) {
        payments_export(&x->c, &q, &def);
        return api_csv_send(x, req, resp, &def, err);
    }
    if (payments_list(&x->c, &q, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}

/* ---- returns ---- */

/*
 * The body of POST /sales/{id}/returns: {"items": [{"product_id", "quantity"}], "refund"?:
 * {"amount", "method"} (or null), "note"?}, and its Idempotency-Key header (*key: NULL when
 * absent).
 */
int api_return_in(struct http_req *req, struct return_in *in, const char **key, struct app_err *err)
{
    json_object *body = http_req_json(req, err), *items, *ro;
    size_t i, n;

    if (!body || api_idem_key(req, key, err))
        return -1;
    memset(in, 0, sizeof(*in));
    if (items_of(body, RETURNS_MAX_LINES, &items, &n, err))
        return -1;
    in->nlines = n;
    in->lines = arena_alloc(req->arena, n * sizeof(*in->lines));
    for (i = 0; i < n; i++) {
        json_object *line;

        if (line_of(items, i, &line, &in->lines[i].product_id, &in->lines[i].quantity, err))
            return -1;
    }
    if (json_object_object_get_ex(body, "refund", &ro) && ro) {
        if (!json_object_is_type(ro, json_type_object))
            return err_set_full(err, ERR_INVALID, "invalid_type", "refund",
                                "'refund' must be an object");
        in->has_refund = true;
        if (positive(ro, "amount", "refund.amount", DEC_MONEY_SCALE, &in->refund_amount, err) ||
            method_field(ro, "refund.method", &in->refund_method, err))
            return -1;
    }
    return jsonx_get_string(body, "note", false, 500, &in->note, err);
}

int api_sales_return(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err)
{
    struct return_in in;
    const char *key;
    int status = 201;

    if (api_return_in(req, &in, &key, err) ||
        returns_create(&x->c, x->id, &in, key, &status, &x->out, err))
        return -1;
    api_send(resp, status, &x->out);
    return 0;
}

/* ---- balance ---- */

/* The query of GET /balance/series; 422 naming the parameter. */
static int balance_query_of(const struct http_req *req, struct balance_query *q,
                            struct app_err *err)
{
    const char *m = http_query(req, "method");

    memset(q, 0, sizeof(*q));
    q->from = http_query(req, "from");
    q->to = http_query(req, "to");
    if (!q->from || !*q->from)
        return err_set_full(err, ERR_INVALID, "required", "from", "'from' is required");
    if (!q->to || !*q->to)
        return err_set_full(err, ERR_INVALID, "required", "to", "'to' is required");
    if (balance_granularity_parse(http_query(req, "granularity"), &q->granularity))
        return err_set_full(err, ERR_INVALID, "invalid_parameter", "granularity",
                            "'granularity' must be daily, weekly or monthly");
    if (m && *m && payments_method_parse(m, true, &q->method))
        return err_set_full(err, ERR_INVALID, "invalid_parameter", "method",
                            "'method' must be all, cash, card or transfer");
    return 0;
}

const char *api_balance_series_key(struct http_req *req)
{
    struct balance_query q;
    struct app_err verr;

    err_clear(&verr);
    if (balance_query_of(req, &q, &verr) || strlen(q.from) != 10 || strlen(q.to) != 10)
        return NULL;
    return balance_cache_key(req->arena, &q);
}

int api_balance_series(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err)
{
    struct balance_query q;

    if (balance_query_of(req, &q, err) || balance_series(&x->c, &q, &x->out, err))
        return -1;
    api_send(resp, 200, &x->out);
    return 0;
}
