/*
 * api_catalog: /uom, /categories and /products. Handlers validate the input into the service's
 * structs (422 naming the field) and send what the service returns for the session's tenant.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/dec.h"
#include "core/jsonx.h"
#include "routes/api.h"
#include "services/export.h"
#include "services/import.h"

/* A text field that must not be blank once trimmed. */
static int text(json_object *body, const char *field, bool required, size_t max, const char **out,
                struct app_err *err)
{
    const char *p;

    if (jsonx_get_string(body, field, required, max, out, err))
        return -1;
    if (!*out)
        return 0;
    for (p = *out; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
        ;
    if (!*p)
        return err_set_full(err, ERR_INVALID, "blank", field, "'%s' must not be blank", field);
    return 0;
}

/* An optional non-negative decimal field; null is refused. */
static int decimal(json_object *body, const char *field, int scale, bool required, bool *has,
                   int64_t *out, struct app_err *err)
{
    json_object *v;

    *has = json_object_object_get_ex(body, field, &v);
    if (!*has) {
        if (required)
            return err_set_full(err, ERR_INVALID, "required", field, "'%s' is required", field);
        return 0;
    }
    if (!v)
        return err_set_full(err, ERR_INVALID, "required", field, "'%s' must not be null", field);
    return dec_from_json(v, scale, false, out, field, err);
}

/* A cached read that failed (a cached "not found") still says how the cache answered. */
static int read_failed(struct http_resp *resp, const struct api_ctx *x)
{
    if (x->out.cached)
        http_resp_header(resp, "X-Cache", cache_status_name(x->out.cache));
    return -1;
}

static int send_ok(struct http_resp *resp, int status, struct api_ctx *x)
{
    api_send(resp, status, &x->out);
    return 0;
}

static int no_content(struct http_resp *resp)
{
    resp->status = 204;
    return 0;
}

/* ---- units of measure ---- */

int api_uom_in(struct http_req *req, bool full, struct uom_in *in, struct app_err *err)
{
    json_object *body = http_req_json(req, err);

    memset(in, 0, sizeof(*in));
    if (!body || text(body, "name", full, 100, &in->name, err) ||
        text(body, "abbreviation", full, 20, &in->abbreviation, err))
        return -1;
    return 0;
}

int api_uom_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                 struct app_err *err)
{
    int64_t limit, offset;

    if (api_page(req, &limit, &offset, err) || catalog_uom_list(&x->c, limit, offset, &x->out, err))
        return -1;
    return send_ok(resp, 200, x);
}

int api_uom_get(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                struct app_err *err)
{
    (void)req;
    if (catalog_uom_get(&x->c, x->id, &x->out, err))
        return read_failed(resp, x);
    return send_ok(resp, 200, x);
}

int api_uom_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err)
{
    struct uom_in in;

    if (api_uom_in(req, true, &in, err) || catalog_uom_create(&x->c, &in, &x->out, err))
        return -1;
    return send_ok(resp, 201, x);
}

static int uom_update(struct api_ctx *x, struct http_req *req, struct http_resp *resp, bool replace,
                      struct app_err *err)
{
    struct uom_in in;

    if (api_uom_in(req, replace, &in, err) ||
        catalog_uom_update(&x->c, x->id, &in, replace, &x->out, err))
        return -1;
    return send_ok(resp, 200, x);
}

int api_uom_replace(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                    struct app_err *err)
{
    return uom_update(x, req, resp, true, err);
}

int api_uom_patch(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                  struct app_err *err)
{
    return uom_update(x, req, resp, false, err);
}

int api_uom_delete(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                   struct app_err *err)
{
    (void)req;
    if (catalog_uom_delete(&x->c, x->id, err))
        return -1;
    return no_content(resp);
}

/* ---- categories ---- */

int api_category_in(struct http_req *req, bool full, struct category_in *in, struct app_err *err)
{
    json_object *body = http_req_json(req, err), *v;

    memset(in, 0, sizeof(*in));
    if (!body || text(body, "name", full, 200, &in->name, err))
        return -1;
    in->has_description = json_object_object_get_ex(body, "description", &v);
    if (in->has_description && v &&
        jsonx_get_string(body, "description", false, 2000, &in->description, err))
        return -1;
    return 0;
}

int api_category_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                      struct app_err *err)
{
    int64_t limit, offset;

    if (api_page(req, &limit, &offset, err) ||
        catalog_category_list(&x->c, limit, offset, &x->out, err))
        return -1;
    return send_ok(resp, 200, x);
}

int api_category_get(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err)
{
    (void)req;
    if (catalog_category_get(&x->c, x->id, &x->out, err))
        return read_failed(resp, x);
    return send_ok(resp, 200, x);
}

int api_category_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                        struct app_err *err)
{
    struct category_in in;

    if (api_category_in(req, true, &in, err) || catalog_category_create(&x->c, &in, &x->out, err))
        return -1;
    return send_ok(resp, 201, x);
}

static int category_update(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                           bool replace, struct app_err *err)
{
    struct category_in in;

    if (api_category_in(req, replace, &in, err) ||
        catalog_category_update(&x->c, x->id, &in, replace, &x->out, err))
        return -1;
    return send_ok(resp, 200, x);
}

int api_category_replace(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                         struct app_err *err)
{
    return category_update(x, req, resp, true, err);
}

int api_category_patch(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err)
{
    return category_update(x, req, resp, false, err);
}

int api_category_delete(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                        struct app_err *err)
{
    (void)req;
    if (catalog_category_delete(&x->c, x->id, err))
        return -1;
    return no_content(resp);
}

/* ---- products ---- */

int api_product_in(struct http_req *req, bool full, struct product_in *in, struct app_err *err)
{
    json_object *body = http_req_json(req, err), *v;

    memset(in, 0, sizeof(*in));
    in->category_id = -1;
    in->uom_id = -1;
    if (!body || text(body, "sku", full, 64, &in->sku, err) ||
        text(body, "name", full, 200, &in->name, err))
        return -1;
    in->has_category = json_object_object_get_ex(body, "category_id", &v);
    if (in->has_category && jsonx_get_id(body, "category_id", false, true, &in->category_id, err))
        return -1;
    if (jsonx_get_id(body, "uom_id", full, false, &in->uom_id, err) ||
        decimal(body, "price", DEC_MONEY_SCALE, full, &in->has_price, &in->price, err) ||
        decimal(body, "cost", DEC_MONEY_SCALE, false, &in->has_cost, &in->cost, err) ||
        decimal(body, "stock", DEC_QTY_SCALE, false, &in->has_stock, &in->stock, err) ||
        decimal(body, "min_stock", DEC_QTY_SCALE, false, &in->has_min_stock, &in->min_stock, err))
        return -1;
    return 0;
}

/* The product list query of the request; 422 naming the parameter. */
static int product_query(const struct http_req *req, struct product_query *q, struct app_err *verr)
{
    const char *stock = http_query(req, "stock");
    const char *cat = http_query(req, "category_id");

    memset(q, 0, sizeof(*q));
    q->category_id = -1;
    if (api_list_page(req, &q->limit, &q->offset, verr))
        return -1;
    q->q = http_query(req, "q");
    if (q->q && strlen(q->q) > 200)
        return err_set_full(verr, ERR_INVALID, "too_long", "q", "'q' must be at most 200 bytes");
    if (q->q && !jsonx_utf8_valid(q->q, strlen(q->q)))
        return err_set_full(verr, ERR_INVALID, "invalid_string", "q", "'q' must be UTF-8 text");
    if (cat && *cat &&
        http_query_i64(req, "category_id", 1, INT64_MAX - 1, -1, &q->category_id, verr))
        return -1;
    if (!stock || !*stock || !strcmp(stock, "all"))
        q->stock = STOCK_ALL;
    else if (!strcmp(stock, "in"))
        q->stock = STOCK_IN;
    else if (!strcmp(stock, "low"))
        q->stock = STOCK_LOW;
    else if (!strcmp(stock, "out"))
        q->stock = STOCK_OUT;
    else
        return err_set_full(verr, ERR_INVALID, "invalid_parameter", "stock",
                            "'stock' must be all, in, low or out");
    return 0;
}

const char *api_product_list_key(struct http_req *req)
{
    struct product_query q;
    struct app_err verr;

    err_clear(&verr);
    if (api_csv_requested(req))
        return NULL; /* an export reads the database, never the cache */
    return product_query(req, &q, &verr) ? NULL : catalog_product_list_key(req->arena, &q);
}

int api_product_list(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                     struct app_err *err)
{
    struct product_query q;
    struct export_def def;

    if (product_query(req, &q, err))
        return -1;
    http_resp_header(resp, "Vary", "Accept"); /* JSON or CSV (api_csv.c) */
    if (api_csv_requested(req)) {
        catalog_product_export(&x->c, &q, &def);
        return api_csv_send(x, req, resp, &def, err);
    }
    if (catalog_product_list(&x->c, &q, &x->out, err))
        return -1;
    return send_ok(resp, 200, x);
}

/* Sends a product with its ETag (catalog_product_etag). */
static int send_product(struct http_resp *resp, int status, struct api_ctx *x, struct arena *a)
{
    const char *etag = catalog_product_etag(a, x->out.json, x->out.len);

    if (etag)
        http_resp_header(resp, "ETag", etag);
    return send_ok(resp, status, x);
}

/*
 * The versions If-Match accepts (catalog_product_update), NULL when there is no precondition
 * (no header, or "*"). Only strong ETags of this product ("<id>-<20 digits>") can match: any
 * other entry (weak, another product's, malformed) matches nothing, and a header where
 * nothing can match gives "{}", so the write is refused with 412.
 */
static int if_match(struct http_req *req, int64_t id, const char **versions, struct app_err *err)
{
    const char *h = http_header(req, "If-Match"), *p;
    char prefix[32];
    struct buf b = BUF_INIT;
    size_t pl, n = 0;

    *versions = NULL;
    if (!h)
        return 0;
    for (p = h; *p == ' ' || *p == '\t'; p++)
        ;
    if (p[0] == '*' && strspn(p + 1, " \t") == strlen(p + 1))
        return 0;
    pl = (size_t)snprintf(prefix, sizeof(prefix), "\"%lld-", (long long)id);
    buf_init(&b);
    buf_addch(&b, '{');
    while (*p) {
        size_t len = strcspn(p, ","), t = len;

        while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t == pl + CATALOG_VERSION_LEN + 1 && !strncmp(p, prefix, pl) && p[t - 1] == '"' &&
            strspn(p + pl, "0123456789") == CATALOG_VERSION_LEN && n < 16) {
            if (n++)
                buf_addch(&b, ',');
            buf_add(&b, p + pl, CATALOG_VERSION_LEN);
        }
        p += len;
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
    }
    buf_addch(&b, '}');
    if (!b.failed)
        *versions = arena_strndup(req->arena, b.data, b.len);
    buf_release(&b);
    return *versions ? 0 : err_set(err, ERR_INTERNAL, "out of memory");
}

int api_product_get(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                    struct app_err *err)
{
    if (catalog_product_get(&x->c, x->id, &x->out, err))
        return read_failed(resp, x);
    return send_product(resp, 200, x, req->arena);
}

int api_product_create(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err)
{
    struct product_in in;

    if (api_product_in(req, true, &in, err) || catalog_product_create(&x->c, &in, &x->out, err))
        return -1;
    return send_product(resp, 201, x, req->arena);
}

static int product_update(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                          bool replace, struct app_err *err)
{
    struct product_in in;
    const char *versions;

    if (api_product_in(req, replace, &in, err) || if_match(req, x->id, &versions, err) ||
        catalog_product_update(&x->c, x->id, &in, replace, versions, &x->out, err))
        return -1;
    return send_product(resp, 200, x, req->arena);
}

int api_product_replace(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                        struct app_err *err)
{
    return product_update(x, req, resp, true, err);
}

int api_product_patch(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                      struct app_err *err)
{
    return product_update(x, req, resp, false, err);
}

int api_product_delete(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err)
{
    const char *versions;

    if (if_match(req, x->id, &versions, err) || catalog_product_delete(&x->c, x->id, versions, err))
        return -1;
    return no_content(resp);
}

/* Content-Type text/csv, its charset (if given) UTF-8. */
static bool csv_media_type(const char *ct)
{
    const char *p;

    if (strncasecmp(ct, "text/csv", 8) || (ct[8] && ct[8] != ';' && ct[8] != ' '))
        return false;
    for (p = ct + 8; (p = strchr(p, ';'));) {
        p++;
        while (*p == ' ')
            p++;
        if (!strncasecmp(p, "charset=", 8)) {
            p += 8;
            if (*p == '"')
                p++;
            if (strncasecmp(p, "utf-8", 5) && strncasecmp(p, "utf8", 4))
                return false;
        }
    }
    return true;
}

int api_product_import(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                       struct app_err *err)
{
    struct import_result r;
    json_object *root, *e, *list;
    size_t i;

    memset(&r, 0, sizeof(r));
    if (!csv_media_type(req->content_type))
        return err_set(err, ERR_MEDIA_TYPE, "the body must be text/csv in UTF-8");
    if (import_products(&x->c, req->body, req->body_len, &r, err))
        return -1;
    root = json_object_new_object();
    if (r.nerrors) {
        /* The error of SPEC §5 with every bad line's field in "errors" (SPEC §12). */
        e = json_object_new_object();
        list = json_object_new_array();
        json_object_object_add(e, "code", json_object_new_string("validation_error"));
        json_object_object_add(
            e, "message",
            json_object_new_string(arena_sprintf(req->arena, "%zu error%s: nothing was imported",
                                                 r.nerrors, r.nerrors == 1 ? "" : "s")));
        json_object_object_add(e, "field", NULL);
        json_object_object_add(e, "error_count", json_object_new_int64((int64_t)r.nerrors));
        for (i = 0; i < r.nlisted; i++) {
            json_object *o = json_object_new_object();

            json_object_object_add(o, "line", json_object_new_int64((int64_t)r.errors[i].line));
            json_object_object_add(
                o, "field", r.errors[i].field ? json_object_new_string(r.errors[i].field) : NULL);
            json_object_object_add(o, "message", json_object_new_string(r.errors[i].message));
            json_object_array_add(list, o);
        }
        json_object_object_add(e, "errors", list);
        json_object_object_add(root, "error", e);
        http_resp_json(resp, 422, root);
    } else {
        json_object_object_add(root, "created", json_object_new_int64(r.created));
        json_object_object_add(root, "updated", json_object_new_int64(r.updated));
        http_resp_json(resp, 201, root);
    }
    json_object_put(root);
    return 0;
}
