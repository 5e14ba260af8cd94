/*
 * returns: returns and refunds of confirmed sales (see returns.h). One transaction: the
 * Idempotency-Key claim, the sale row's lock, then (in new statements, so they see everything
 * committed while we waited for it) what was sold, returned and paid, the products' locks in
 * id order, the refund, the return with its lines and its day's balance, the stock movements.
 */
#include "services/returns.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/dec.h"
#include "services/idem.h"

static const char *i64(struct arena *a, int64_t v)
{
    return arena_sprintf(a, "%" PRId64, v);
}

/* A PostgreSQL array literal of the lines' product ids (what 0) or quantities (what 1): numbers
 * we formatted ourselves, never client text. */
static const char *array_of(struct arena *a, const struct return_in *in, int what)
{
    struct buf b = BUF_INIT;
    char *s;
    size_t i;

    buf_init(&b);
    buf_addch(&b, '{');
    for (i = 0; i < in->nlines; i++) {
        char tmp[32];

        if (i)
            buf_addch(&b, ',');
        if (what == 0)
            buf_addf(&b, "%" PRId64, in->lines[i].product_id);
        else
            dec_format(in->lines[i].quantity, DEC_QTY_SCALE, tmp, sizeof(tmp)), buf_adds(&b, tmp);
    }
    buf_addch(&b, '}');
    s = arena_strndup(a, b.data, b.len);
    buf_release(&b);
    return s;
}

/* The request's identity for Idempotency-Key: the sale and every field, in a fixed order. */
static void return_hash(int64_t sale_id, const struct return_in *in, struct idem_hash *h)
{
    size_t i;

    idem_hash_init(h, "returns");
    idem_hash_i64(h, sale_id);
    idem_hash_i64(h, (int64_t)in->nlines);
    for (i = 0; i < in->nlines; i++) {
        idem_hash_i64(h, in->lines[i].product_id);
        idem_hash_i64(h, in->lines[i].quantity);
    }
    idem_hash_str(h, in->has_refund ? payments_method_name(in->refund_method) : NULL);
    idem_hash_i64(h, in->has_refund ? in->refund_amount : 0);
    idem_hash_str(h, in->note);
    idem_hash_final(h);
}

/*
 * Under the sale's lock: every line names a product of the sale, once, and asks at most what
 * was sold minus what was already returned of it. ERR_INVALID naming the first line that does
 * not.
 */
static int check_lines(struct catalog *c, const char *const *params, const struct return_in *in,
                       struct app_err *err)
{
    static const char sql[] =
        "SELECT i.ord, sold.q IS NOT NULL, (coalesce(sold.q, 0) - coalesce(done.q, 0))::text, "
        "count(*) OVER (PARTITION BY i.pid ORDER BY i.ord) "
        "FROM unnest($3::bigint[]) WITH ORDINALITY AS i(pid, ord) "
        "LEFT JOIN (SELECT product_id, sum(quantity) AS q FROM sale_lines "
        "WHERE tenant_id = $1 AND sale_id = $2 GROUP BY product_id) sold "
        "ON sold.product_id = i.pid "
        "LEFT JOIN (SELECT product_id, sum(quantity) AS q FROM sale_return_lines "
        "WHERE tenant_id = $1 AND sale_id = $2 GROUP BY product_id) done "
        "ON done.product_id = i.pid ORDER BY i.ord";
    PGresult *res = db_exec(c->db, c->a, sql, 3, params, err);
    int i;

    if (!res)
        return -1;
    if ((size_t)PQntuples(res) != in->nlines)
        return err_set(err, ERR_INTERNAL, "internal error");
    for (i = 0; i < PQntuples(res); i++) {
        char field[64];
        int64_t left = dec_from_db(PQgetvalue(res, i, 2), DEC_QTY_SCALE);

        snprintf(field, sizeof(field), "items[%d].product_id", i);
        if (strcmp(PQgetvalue(res, i, 1), "t"))
            return err_set_full(err, ERR_INVALID, "invalid_reference", field,
                                "'%s' is not a product of this sale", field);
        if (strcmp(PQgetvalue(res, i, 3), "1"))
            return err_set_full(err, ERR_INVALID, "duplicate", field,
                                "'%s' names a product given before in 'items'", field);
        snprintf(field, sizeof(field), "items[%d].quantity", i);
        if (in->lines[i].quantity > left) {
            char tmp[32];

            dec_format(left, DEC_QTY_SCALE, tmp, sizeof(tmp));
            return err_set_full(err, ERR_INVALID, "exceeds_returnable", field,
                                "'%s' is above what can still be returned (%s)", field, tmp);
        }
    }
    return 0;
}

/* Under the sale's lock: a refund of amount is at most what was paid minus what was refunded. */
static int check_refund(struct catalog *c, const char *const *params, int64_t amount,
                        struct app_err *err)
{
    static const char sql[] = "SELECT coalesce(sum(amount), 0)::text FROM payments "
                              "WHERE tenant_id = $1 AND sale_id = $2";
    PGresult *res = db_exec(c->db, c->a, sql, 2, params, err);
    int64_t paid;

    if (!res)
        return -1;
    paid = dec_from_db(PQgetvalue(res, 0, 0), DEC_MONEY_SCALE);
    if (amount > paid) {
        char tmp[32];

        dec_format(paid, DEC_MONEY_SCALE, tmp, sizeof(tmp));
        return err_set_full(err, ERR_CONFLICT, "overrefund", "refund.amount",
                            "the refund is above what was paid and not yet refunded (%s)", tmp);
    }
    return 0;
}

int returns_create(struct catalog *c, int64_t sale_id, const struct return_in *in,
                   const char *idem_key, int *status, struct catalog_out *out, struct app_err *err)
{
    static const char lock_sql[] = "SELECT s.status, t.timezone "
                                   "FROM sales s JOIN tenants t ON t.id = s.tenant_id "
                                   "WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE OF s";
    /* The order of sales_confirm's move_stock: products by id, after the sale. */
    static const char lock_products_sql[] = "SELECT id FROM products WHERE tenant_id = $1 "
                                            "AND id = ANY ($2::bigint[]) ORDER BY id FOR UPDATE";
    /*
     * The lines: each asked quantity takes, on the cumulative returned quantity of its product
     * ([done, done + qty)), the sale's lines of that product from the highest price down (then
     * by id); a piece of a sale line is valued round(hi * price) - round(lo * price) on that
     * line's cumulative quantities (see returns.h), and its cost (the sale line's unit_cost,
     * kept since the confirmation: sql/016) the same way.
     */
    static const char insert_sql[] =
        "WITH req AS (SELECT pid, qty, ord FROM unnest($3::bigint[], $4::numeric[]) "
        "WITH ORDINALITY AS i(pid, qty, ord)), "
        "sl AS (SELECT id, product_id, quantity, unit_price, unit_cost, cost_estimated, sum(quantity) OVER (PARTITION BY "
        "product_id ORDER BY unit_price DESC, id) - quantity AS start FROM sale_lines "
        "WHERE tenant_id = $1 AND sale_id = $2), "
        "done AS (SELECT product_id, sum(quantity) AS q FROM sale_return_lines "
        "WHERE tenant_id = $1 AND sale_id = $2 GROUP BY product_id), "
        "iv AS (SELECT req.ord, req.pid, coalesce(done.q, 0) AS a, coalesce(done.q, 0) + req.qty "
        "AS b FROM req LEFT JOIN done ON done.product_id = req.pid), "
        "pc AS (SELECT iv.ord, sl.id AS line_id, sl.product_id, sl.unit_price, "
        "coalesce(sl.unit_cost, 0) AS unit_cost, sl.cost_estimated, "
        "greatest(iv.a, sl.start) - sl.start AS lo, least(iv.b, sl.start + sl.quantity) - sl.start "
        "AS hi FROM iv JOIN sl ON sl.product_id = iv.pid "
        "WHERE greatest(iv.a, sl.start) < least(iv.b, sl.start + sl.quantity)), "
        "pieces AS (SELECT ord, line_id, product_id, unit_price, hi - lo AS qty, "
        "round(hi * unit_price, 2) - round(lo * unit_price, 2) AS lt, unit_cost, cost_estimated, "
        "round(hi * unit_cost, 2) - round(lo * unit_cost, 2) AS lc FROM pc), "
        "r AS (INSERT INTO sale_returns (tenant_id, sale_id, returned_total, refund_id, note, "
        "user_id, balance_day) SELECT $1, $2, coalesce(sum(lt), 0), $5, $6, $7, "
        "(now() AT TIME ZONE $8)::date FROM pieces RETURNING id, returned_total, balance_day), "
        "l AS (INSERT INTO sale_return_lines (tenant_id, return_id, sale_id, product_id, "
        "quantity, unit_price, line_total, unit_cost, cost_total, cost_estimated) "
        "SELECT $1, r.id, $2, p.product_id, p.qty, p.unit_price, p.lt, p.unit_cost, p.lc, "
        "p.cost_estimated FROM r, pieces p ORDER BY p.ord, p.unit_price DESC, p.line_id "
        "RETURNING 1), "
        "b AS (INSERT INTO balance_daily (tenant_id, day, returns_cents) "
        "SELECT $1, balance_day, (returned_total * 100)::bigint FROM r "
        "ON CONFLICT (tenant_id, day) DO UPDATE SET "
        "returns_cents = balance_daily.returns_cents + EXCLUDED.returns_cents RETURNING 1) "
        "SELECT r.id, (SELECT count(*) FROM l), (SELECT count(*) FROM b) FROM r";
    /* Each product once (check_lines): a function in FROM runs once per row. */
    static const char move_sql[] =
        "SELECT count(m.id) FROM unnest($3::bigint[], $4::numeric[]) AS i(pid, qty), "
        "LATERAL stock_move($1, i.pid, 'return', i.qty, $2, $5, NULL, NULL, NULL, $6) AS m";
    static const char json_sql[] =
        "SELECT " RETURN_JSON "::text FROM sale_returns r WHERE r.tenant_id = $1 AND r.id = $2";
    const char *tenant = i64(c->a, c->tenant), *sale = i64(c->a, sale_id);
    const char *user = c->user > 0 ? i64(c->a, c->user) : NULL;
    const char *params[8] = {tenant, sale, array_of(c->a, in, 0), array_of(c->a, in, 1)};
    struct idem_hash hash;
    PGresult *res;
    const char *tz, *return_id;
    int64_t refund_id = 0;
    int claim;

    *status = 201;
    return_hash(sale_id, in, &hash);
    if (db_begin(c->db, err))
        return -1;
    claim = idem_claim(c, idem_key, &hash, status, out, err);
    if (claim)
        return claim < 0 ? -1 : 0;
    res = db_exec(c->db, c->a, lock_sql, 2, params, err);
    if (!res)
        goto fail;
    if (PQntuples(res) != 1) {
        err_set(err, ERR_NOT_FOUND, "sale not found");
        goto fail;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "confirmed")) {
        err_set_full(err, ERR_CONFLICT, "invalid_state", "status",
                     "only a confirmed sale takes returns; this sale is %s", PQgetvalue(res, 0, 0));
        goto fail;
    }
    tz = arena_strdup(c->a, PQgetvalue(res, 0, 1));
    if (check_lines(c, params, in, err))
        goto fail;
    if (in->has_refund && check_refund(c, params, in->refund_amount, err))
        goto fail;
    {
        const char *lparams[2] = {tenant, params[2]};

        if (!db_exec(c->db, c->a, lock_products_sql, 2, lparams, err))
            goto fail;
    }
    if (in->has_refund) {
        struct payment_in p;

        memset(&p, 0, sizeof(p));
        p.sale_id = sale_id;
        p.amount = -in->refund_amount;
        p.method = in->refund_method;
        if (payments_insert(c, &p, tz, &refund_id, err))
            goto fail;
    }
    params[4] = in->has_refund ? i64(c->a, refund_id) : NULL;
    params[5] = in->note;
    params[6] = user;
    params[7] = tz;
    res = db_exec(c->db, c->a, insert_sql, 8, params, err);
    if (!res)
        goto fail;
    if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 2), "1")) {
        err_set(err, ERR_INTERNAL, "internal error");
        goto fail;
    }
    return_id = arena_strdup(c->a, PQgetvalue(res, 0, 0));
    params[4] = user;
    params[5] = return_id;
    res = db_exec(c->db, c->a, move_sql, 6, params, err);
    if (!res)
        goto fail;
    if (strtoull(PQgetvalue(res, 0, 0), NULL, 10) != in->nlines) {
        err_set(err, ERR_INTERNAL, "internal error");
        goto fail;
    }
    params[1] = return_id;
    res = db_exec(c->db, c->a, json_sql, 2, params, err);
    if (!res || PQntuples(res) != 1) {
        if (res)
            err_set(err, ERR_INTERNAL, "internal error");
        goto fail;
    }
    catalog_out_set(c, out, res);
    out->cache = CACHE_BYPASS;
    out->cached = false;
    return idem_commit(c, idem_key, 201, out, err);
fail:
    /* every failure once the transaction is open: err says why */
    db_rollback(c->db);
    return -1;
}
