/*
 * sales: drafts, confirmation and cancellation. Every state change runs in one transaction
 * that locks the sale row first and then the products in id order (so two confirmations can
 * never deadlock), writes the stock ledger and the day's balance summary (a payment given with
 * the confirmation through payments_insert), and invalidates the cache only after the commit.
 */
#include "services/sales.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/dec.h"
#include "services/returns.h"

/* s is the sale row; pt its payments (refunds are negative ones) and rt its returns (SALE_SUMS
 * provides both). Outstanding: total - returned - paid, negative when the shop owes. */
#define SALE_JSON                                                                                  \
    "json_build_object('id', s.id, 'customer', s.customer, 'status', s.status, "                   \
    "'total', s.total::text, 'paid_total', coalesce(pt.paid, 0)::numeric(14, 2)::text, "           \
    "'returned_total', coalesce(rt.returned, 0)::numeric(14, 2)::text, "                           \
    "'refunded_total', coalesce(pt.refunded, 0)::numeric(14, 2)::text, "                           \
    "'outstanding', CASE WHEN s.status = 'confirmed' THEN (s.total - coalesce(rt.returned, 0) - "  \
    "coalesce(pt.paid, 0))::numeric(14, 2)::text ELSE '0.00' END, "                                \
    "'confirmed_at', stock_ts(s.confirmed_at), 'cancelled_at', stock_ts(s.cancelled_at), "         \
    "'created_at', stock_ts(s.created_at), 'updated_at', stock_ts(s.updated_at)"

#define SALE_ITEMS                                                                                 \
    ", 'items', (SELECT coalesce(json_agg(json_build_object('product', json_build_object("         \
    "'id', p.id, 'sku', p.sku, 'name', p.name), 'quantity', l.quantity::text, "                    \
    "'unit_price', l.unit_price::text, 'line_total', l.line_total::text) ORDER BY l.id), "         \
    "'[]'::json) FROM sale_lines l JOIN products p ON p.tenant_id = l.tenant_id "                  \
    "AND p.id = l.product_id WHERE l.tenant_id = s.tenant_id AND l.sale_id = s.id), "              \
    "'returns', (SELECT coalesce(json_agg(" RETURN_JSON " ORDER BY r.id), '[]'::json) "            \
    "FROM sale_returns r WHERE r.tenant_id = s.tenant_id AND r.sale_id = s.id)"

#define SALE_SUMS                                                                                  \
    " LEFT JOIN LATERAL (SELECT sum(amount) AS paid, -sum(amount) FILTER (WHERE kind = 'refund') " \
    "AS refunded FROM payments x WHERE x.tenant_id = s.tenant_id AND x.sale_id = s.id) pt ON true" \
    " LEFT JOIN LATERAL (SELECT sum(returned_total) AS returned FROM sale_returns z "              \
    "WHERE z.tenant_id = s.tenant_id AND z.sale_id = s.id) rt ON true"

#define SALE_FROM " FROM sales s" SALE_SUMS

static const char *i64(struct arena *a, int64_t v)
{
    return arena_sprintf(a, "%" PRId64, v);
}

/* The sale's JSON (with items) as the tenant sees it now. */
static int sale_json(struct catalog *c, int64_t id, struct catalog_out *out, struct app_err *err)
{
    static const char sql[] =
        "SELECT " SALE_JSON SALE_ITEMS ")::text" SALE_FROM " WHERE s.tenant_id = $1 AND s.id = $2";
    const char *params[] = {i64(c->a, c->tenant), i64(c->a, id)};
    PGresult *res = db_exec(c->db, c->a, sql, 2, params, err);

    if (!res)
        return -1;
    if (PQntuples(res) != 1)
        return err_set(err, ERR_NOT_FOUND, "sale not found");
    catalog_out_set(c, out, res);
    out->cache = CACHE_BYPASS;
    out->cached = false;
    return 0;
}

int sales_get(struct catalog *c, int64_t id, struct catalog_out *out, struct app_err *err)
{
    return sale_json(c, id, out, err);
}

/* A PostgreSQL array literal of numbers we formatted ourselves (never client text). */
static const char *array_of(struct arena *a, const struct sale_in *in, int what)
{
    struct buf b = BUF_INIT;
    char *s;
    size_t i;

    buf_init(&b);
    buf_addch(&b, '{');
    for (i = 0; i < in->nlines; i++) {
        const struct sale_line_in *l = &in->lines[i];
        char tmp[32];

        if (i)
            buf_addch(&b, ',');
        if (what == 0)
            buf_addf(&b, "%" PRId64, l->product_id);
        else if (what == 1)
            dec_format(l->quantity, DEC_QTY_SCALE, tmp, sizeof(tmp)), buf_adds(&b, tmp);
        else if (l->unit_price < 0)
            buf_adds(&b, "NULL");
        else
            dec_format(l->unit_price, DEC_MONEY_SCALE, tmp, sizeof(tmp)), buf_adds(&b, tmp);
    }
    buf_addch(&b, '}');
    s = arena_strndup(a, b.data, b.len);
    buf_release(&b);
    return s;
}

int sales_create(struct catalog *c, const struct sale_in *in, struct catalog_out *out,
                 struct app_err *err)
{
    static const char check_sql[] =
        "SELECT i.ord FROM unnest($2::bigint[]) WITH ORDINALITY AS i(pid, ord) "
        "LEFT JOIN products p ON p.tenant_id = $1 AND p.id = i.pid "
        "WHERE p.id IS NULL ORDER BY i.ord LIMIT 1";
    static const char insert_sql[] =
        "WITH i AS (SELECT i.ord, p.id AS pid, i.qty, coalesce(i.price, p.price) AS price, "
        "round(i.qty * coalesce(i.price, p.price), 2) AS lt "
        "FROM unnest($3::bigint[], $4::numeric[], $5::numeric[]) WITH ORDINALITY "
        "AS i(pid, qty, price, ord) JOIN products p ON p.tenant_id = $1 AND p.id = i.pid), "
        "s AS (INSERT INTO sales (tenant_id, customer, total) "
        "SELECT $1, $2, coalesce(sum(lt), 0) FROM i RETURNING id), "
        "l AS (INSERT INTO sale_lines (tenant_id, sale_id, product_id, quantity, unit_price, "
        "line_total) SELECT $1, s.id, i.pid, i.qty, i.price, i.lt FROM s, i ORDER BY i.ord "
        "RETURNING 1) "
        "SELECT s.id, (SELECT count(*) FROM l) FROM s";
    const char *pids = array_of(c->a, in, 0);
    const char *params[5] = {i64(c->a, c->tenant), pids};
    PGresult *res;

    res = db_exec(c->db, c->a, check_sql, 2, params, err);
    if (!res)
        return -1;
    if (PQntuples(res) == 1) {
        long ord = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        char field[64];

        snprintf(field, sizeof(field), "items[%ld].product_id", ord - 1);
        return err_set_full(err, ERR_INVALID, "invalid_reference", field, "'%s' does not exist",
                            field);
    }
    params[1] = in->customer;
    params[2] = pids;
    params[3] = array_of(c->a, in, 1);
    params[4] = array_of(c->a, in, 2);
    res = db_exec(c->db, c->a, insert_sql, 5, params, err);
    if (!res) {
        if (err->code == ERR_CONFLICT && !strcmp(err->slug, "in_use"))
            return err_set_full(err, ERR_INVALID, "invalid_reference", "items",
                                "a product of the sale does not exist");
        /* A line total or the sale's total beyond NUMERIC(14,2). */
        if (err->code == ERR_INVALID && !err->field[0])
            return err_set_full(err, ERR_INVALID, "too_large", "items",
                                "the sale's amounts are too large");
        return -1;
    }
    if (PQntuples(res) != 1 || strtoull(PQgetvalue(res, 0, 1), NULL, 10) != in->nlines)
        return err_set_full(err, ERR_INVALID, "invalid_reference", "items",
                            "a product of the sale does not exist");
    return sale_json(c, strtoll(PQgetvalue(res, 0, 0), NULL, 10), out, err);
}

int sales_list(struct catalog *c, const struct sale_query *q, struct catalog_out *out,
               struct app_err *err)
{
    /*
     * No CTE shared by the page and the total: it would be materialized, every sale of the
     * tenant copied before the page is cut (160 ms at 200,000 sales). The page walks the
     * (tenant_id, id) index backwards and stops after it; the total adds up the per-day,
     * per-status counts of sale_counts (sql/013, the same days: created_at in the tenant's
     * zone), at most one row per day of the range and status, whatever the history holds.
     */
#define SALES_FILTER                                                                               \
    "s.tenant_id = $1 AND ($2::text IS NULL OR s.status = $2) "                                    \
    "AND ($3::date IS NULL OR s.created_at >= ($3::date::timestamp AT TIME ZONE tz.timezone)) "    \
    "AND ($4::date IS NULL OR s.created_at < (($4::date + 1)::timestamp AT TIME ZONE tz.timezone))"
    static const char sql[] =
        "WITH tz AS (SELECT timezone FROM tenants WHERE id = $1), "
        "pg AS (SELECT s.* FROM sales s, tz WHERE " SALES_FILTER
        " ORDER BY s.id DESC LIMIT $5 OFFSET $6) "
        "SELECT json_build_object('items', coalesce((SELECT json_agg(" SALE_JSON
        ") ORDER BY s.id DESC) FROM pg s" SALE_SUMS "), "
        "'[]'::json), 'total', (SELECT coalesce(sum(n), 0)::bigint FROM sale_counts "
        "WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) "
        "AND ($3::date IS NULL OR day >= $3::date) AND ($4::date IS NULL OR day <= $4::date)), "
        "'limit', $5::bigint, 'offset', $6::bigint)::text";
#undef SALES_FILTER
    const char *params[] = {i64(c->a, c->tenant), q->status,           q->from, q->to,
                            i64(c->a, q->limit),  i64(c->a, q->offset)};
    PGresult *res = db_exec(c->db, c->a, sql, 6, params, err);

    if (!res)
        return -1;
    catalog_out_set(c, out, res);
    out->cached = false;
    return 0;
}

/* Rolls back and passes the error on. */
static int fail(struct catalog *c)
{
    db_rollback(c->db);
    return -1;
}

/*
 * Opens the transaction of a state change and runs lock_sql, which locks the sale row
 * (params: tenant, sale). Returns its row; on failure, or ERR_NOT_FOUND when the tenant has no
 * such sale, the transaction is rolled back and NULL returned.
 */
static PGresult *begin_locked(struct catalog *c, const char *lock_sql, const char *const *params,
                              struct app_err *err)
{
    PGresult *res;

    if (db_begin(c->db, err))
        return NULL;
    res = db_exec(c->db, c->a, lock_sql, 2, params, err);
    if (res && PQntuples(res) != 1) {
        err_set(err, ERR_NOT_FOUND, "sale not found");
        res = NULL;
    }
    if (!res)
        db_rollback(c->db);
    return res;
}

/*
 * Moves the stock of every line of the sale: sign -1 takes it (confirm), +1 returns it
 * (cancel). Products are locked in id order; when taking, a product without enough stock
 * fails the whole operation with ERR_CONFLICT "insufficient_stock" naming it.
 */
static int move_stock(struct catalog *c, const char *tenant, const char *sale, int sign,
                      struct app_err *err)
{
    static const char lock_sql[] =
        "SELECT p.id, p.sku, p.stock >= l.qty FROM products p JOIN (SELECT product_id, "
        "sum(quantity) AS qty FROM sale_lines WHERE tenant_id = $1 AND sale_id = $2 "
        "GROUP BY product_id) l ON l.product_id = p.id WHERE p.tenant_id = $1 "
        "ORDER BY p.id FOR UPDATE OF p";
    static const char take_sql[] =
        "WITH l AS (SELECT product_id, sum(quantity) AS qty FROM sale_lines WHERE tenant_id = $1 "
        "AND sale_id = $2 GROUP BY product_id), "
        "u AS (UPDATE products p SET stock = p.stock + $3::int * l.qty FROM l "
        "WHERE p.tenant_id = $1 AND p.id = l.product_id RETURNING p.id, p.stock, l.qty) "
        "INSERT INTO stock_movements (tenant_id, product_id, sale_id, quantity, kind, "
        "stock_before, stock_after, user_id) "
        "SELECT $1, id, $2, $3::int * qty, $4, stock - $3::int * qty, stock, $5 FROM u";
    const char *params[5] = {tenant, sale, sign < 0 ? "-1" : "1", sign < 0 ? "sale" : "cancel",
                             c->user > 0 ? i64(c->a, c->user) : NULL};
    PGresult *res = db_exec(c->db, c->a, lock_sql, 2, params, err);
    int i;

    if (!res)
        return -1;
    if (sign < 0) {
        for (i = 0; i < PQntuples(res); i++) {
            if (strcmp(PQgetvalue(res, i, 2), "t"))
                return err_set_full(err, ERR_CONFLICT, "insufficient_stock", "items",
                                    "not enough stock of product %s ('%.60s')",
                                    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        }
    }
    return db_exec(c->db, c->a, take_sql, 5, params, err) ? 0 : -1;
}

int sales_confirm(struct catalog *c, int64_t id, const struct payment_in *pay,
                  struct catalog_out *out, struct app_err *err)
{
    static const char lock_sql[] =
        "SELECT s.status, s.total::text, t.timezone FROM sales s JOIN tenants t "
        "ON t.id = s.tenant_id WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE OF s";
    static const char confirm_sql[] =
        "WITH s AS (UPDATE sales SET status = 'confirmed', confirmed_at = now(), "
        "balance_day = (now() AT TIME ZONE $3)::date WHERE tenant_id = $1 AND id = $2 "
        "RETURNING balance_day, total) "
        "INSERT INTO balance_daily (tenant_id, day, sales_count, sales_cents) "
        "SELECT $1, balance_day, 1, (total * 100)::bigint FROM s "
        "ON CONFLICT (tenant_id, day) DO UPDATE SET "
        "sales_count = balance_daily.sales_count + 1, "
        "sales_cents = balance_daily.sales_cents + EXCLUDED.sales_cents";
    static const char cost_sql[] =
        "UPDATE sale_lines l SET unit_cost = p.cost, cost_estimated = false FROM products p "
        "WHERE l.tenant_id = $1 AND l.sale_id = $2 AND p.tenant_id = $1 AND p.id = l.product_id";
    const char *tenant = i64(c->a, c->tenant), *sale = i64(c->a, id);
    const char *params[3] = {tenant, sale};
    PGresult *res;
    int64_t total, payment_id;
    const char *tz;

    res = begin_locked(c, lock_sql, params, err);
    if (!res)
        return -1;
    if (strcmp(PQgetvalue(res, 0, 0), "draft")) {
        err_set_full(err, ERR_CONFLICT, "invalid_state", "status",
                     "only a draft can be confirmed; this sale is %s", PQgetvalue(res, 0, 0));
        return fail(c);
    }
    total = dec_from_db(PQgetvalue(res, 0, 1), DEC_MONEY_SCALE);
    tz = PQgetvalue(res, 0, 2);
    if (pay && pay->amount > total) {
        err_set_full(err, ERR_INVALID, "payment_above_total", "payment.amount",
                     "the payment is above the sale's total");
        return fail(c);
    }
    if (move_stock(c, tenant, sale, -1, err))
        return fail(c);
    /*
     * The time of sale is the confirmation (sql/016): the lines keep the products' cost as it
     * is now, read under the product locks move_stock took, before the status changes (the
     * report's trigger on sales reads the lines' costs when the sale enters 'confirmed').
     */
    if (!db_exec(c->db, c->a, cost_sql, 2, params, err))
        return fail(c);
    params[2] = tz;
    if (!db_exec(c->db, c->a, confirm_sql, 3, params, err))
        return fail(c);
    if (pay) {
        struct payment_in p = *pay;

        p.sale_id = id;
        if (payments_insert(c, &p, tz, &payment_id, err))
            return fail(c);
    }
    if (db_commit(c->db, err))
        return -1;
    cache_write_done(c->cache, c->a);
    return sale_json(c, id, out, err);
}

int sales_cancel(struct catalog *c, int64_t id, struct catalog_out *out, struct app_err *err)
{
    /*
     * Two statements on purpose: under READ COMMITTED a statement that waited for the row lock
     * still sees the other tables as of its start, so a payment committed while we waited would
     * be missed if the check were in the locking statement.
     */
    static const char lock_sql[] =
        "SELECT s.status, s.total::text, s.balance_day, false FROM sales s "
        "WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE";
    static const char paid_sql[] =
        "SELECT EXISTS (SELECT 1 FROM payments WHERE tenant_id = $1 AND sale_id = $2), "
        "EXISTS (SELECT 1 FROM sale_returns WHERE tenant_id = $1 AND sale_id = $2)";
    static const char unbalance_sql[] =
        "UPDATE balance_daily SET sales_count = sales_count - 1, "
        "sales_cents = sales_cents - ($2::numeric * 100)::bigint WHERE tenant_id = $1 AND day = $3";
    static const char cancel_sql[] = "UPDATE sales SET status = 'cancelled', cancelled_at = now() "
                                     "WHERE tenant_id = $1 AND id = $2";
    const char *tenant = i64(c->a, c->tenant), *sale = i64(c->a, id);
    const char *params[4] = {tenant, sale};
    PGresult *res;
    bool was_confirmed, was_paid = false;

    res = begin_locked(c, lock_sql, params, err);
    if (!res)
        return -1;
    if (!strcmp(PQgetvalue(res, 0, 0), "cancelled")) {
        err_set_full(err, ERR_CONFLICT, "invalid_state", "status", "the sale is already cancelled");
        return fail(c);
    }
    was_confirmed = !strcmp(PQgetvalue(res, 0, 0), "confirmed");
    /* SPEC §10: staff may cancel a draft, not a confirmed sale (its stock and balance move). */
    if (was_confirmed && c->staff) {
        err_set_full(err, ERR_FORBIDDEN, "forbidden", NULL,
                     "cancelling a confirmed sale needs the admin role (signed in as staff)");
        return fail(c);
    }
    if (was_confirmed) {
        PGresult *paid = db_exec(c->db, c->a, paid_sql, 2, params, err);

        if (!paid)
            return fail(c);
        was_paid = !strcmp(PQgetvalue(paid, 0, 0), "t");
        if (!strcmp(PQgetvalue(paid, 0, 1), "t")) {
            err_set_full(err, ERR_CONFLICT, "has_returns", "status",
                         "a sale with returns cannot be cancelled");
            return fail(c);
        }
    }
    if (was_confirmed && was_paid) {
        err_set_full(err, ERR_CONFLICT, "has_payments", "status",
                     "a sale with payments cannot be cancelled");
        return fail(c);
    }
    if (was_confirmed) {
        const char *uparams[3] = {tenant, arena_strdup(c->a, PQgetvalue(res, 0, 1)),
                                  arena_strdup(c->a, PQgetvalue(res, 0, 2))};

        if (move_stock(c, tenant, sale, +1, err) ||
            !db_exec(c->db, c->a, unbalance_sql, 3, uparams, err))
            return fail(c);
    }
    if (!db_exec(c->db, c->a, cancel_sql, 2, params, err))
        return fail(c);
    if (db_commit(c->db, err))
        return -1;
    if (was_confirmed) {
        cache_write_done(c->cache, c->a);
    }
    return sale_json(c, id, out, err);
}
