/*
 * sales: drafts, confirmation, cancellation and payments. Every state change runs in one
 * transaction that locks the sale row first and then the products in id order (so two
 * confirmations can never deadlock), writes the stock ledger and the day's balance summary,
 * and invalidates the cache only after the commit.
 */
#include "services/sales.h"

#include <ctype.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonx.h"

/* s is the sale row; pt.paid its payments' sum (SALE_FROM provides both). */
#define SALE_JSON                                                                                  \
    "json_build_object('id', s.id, 'customer', s.customer, 'status', s.status, "                   \
    "'total', s.total::text, 'paid_total', coalesce(pt.paid, 0)::numeric(14, 2)::text, "           \
    "'outstanding', CASE WHEN s.status = 'confirmed' THEN (s.total - coalesce(pt.paid, 0))"        \
    "::numeric(14, 2)::text ELSE '0.00' END, "                                                     \
    "'confirmed_at', stock_ts(s.confirmed_at), 'cancelled_at', stock_ts(s.cancelled_at), "         \
    "'created_at', stock_ts(s.created_at), 'updated_at', stock_ts(s.updated_at)"

#define SALE_ITEMS                                                                                 \
    ", 'items', (SELECT coalesce(json_agg(json_build_object('product', json_build_object("         \
    "'id', p.id, 'sku', p.sku, 'name', p.name), 'quantity', l.quantity::text, "                    \
    "'unit_price', l.unit_price::text, 'line_total', l.line_total::text) ORDER BY l.id), "         \
    "'[]'::json) FROM sale_lines l JOIN products p ON p.tenant_id = l.tenant_id "                  \
    "AND p.id = l.product_id WHERE l.tenant_id = s.tenant_id AND l.sale_id = s.id)"

#define SALE_FROM                                                                                  \
    " FROM sales s LEFT JOIN LATERAL (SELECT sum(amount) AS paid FROM payments x "                 \
    "WHERE x.tenant_id = s.tenant_id AND x.sale_id = s.id) pt ON true"

#define PAYMENT_JSON                                                                               \
    "json_build_object('id', y.id, 'sale_id', y.sale_id, 'amount', y.amount::text, "               \
    "'method', y.method, 'paid_at', stock_ts(y.paid_at), 'reference', y.reference, "               \
    "'created_at', stock_ts(y.created_at))"

static const char *i64(struct arena *a, int64_t v)
{
    return arena_sprintf(a, "%" PRId64, v);
}

static const char *dec(struct arena *a, int64_t v, int scale)
{
    char tmp[32];

    dec_format(v, scale, tmp, sizeof(tmp));
    return arena_strdup(a, tmp);
}

/* Parses a scaled decimal column of PostgreSQL ("12.50") back into cents or thousandths. */
static int64_t col_dec(const PGresult *res, int row, int col, int scale)
{
    struct app_err err;
    int64_t v = 0;

    if (dec_parse(PQgetvalue(res, row, col), scale, true, &v, "column", &err))
        return 0;
    return v;
}

int sales_method_parse(const char *s, bool allow_all, enum payment_method *out)
{
    if (!s)
        return -1;
    if (!strcmp(s, "cash"))
        *out = PAY_CASH;
    else if (!strcmp(s, "card"))
        *out = PAY_CARD;
    else if (!strcmp(s, "transfer"))
        *out = PAY_TRANSFER;
    else if (allow_all && !strcmp(s, "all"))
        *out = PAY_ANY;
    else
        return -1;
    return 0;
}

const char *sales_method_name(enum payment_method m)
{
    static const char *const names[] = {"all", "cash", "card", "transfer"};

    return names[m <= PAY_TRANSFER ? m : PAY_ANY];
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
     * (tenant_id, id) index backwards and stops after it; the total is one count.
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
        ") ORDER BY s.id DESC) FROM pg s LEFT JOIN LATERAL (SELECT sum(amount) AS paid "
        "FROM payments x WHERE x.tenant_id = s.tenant_id AND x.sale_id = s.id) pt ON true), "
        "'[]'::json), 'total', (SELECT count(*) FROM sales s, tz WHERE " SALES_FILTER "), "
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
 * Inside the sale's transaction (its row locked): records a payment and its day in the
 * balance summary. *payment_id receives the new id.
 */
static int payment_insert(struct catalog *c, const struct payment_in *p, const char *tz,
                          int64_t *payment_id, struct app_err *err)
{
    static const char sql[] =
        "WITH y AS (INSERT INTO payments (tenant_id, sale_id, amount, method, paid_at, reference, "
        "balance_day) VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()), $6, "
        "(coalesce($5::timestamptz, now()) AT TIME ZONE $7)::date) RETURNING id, balance_day), "
        "b AS (INSERT INTO balance_daily (tenant_id, day, cash_cents, card_cents, transfer_cents, "
        "cash_count, card_count, transfer_count) "
        "SELECT $1, y.balance_day, CASE WHEN $4 = 'cash' THEN $8::bigint ELSE 0 END, "
        "CASE WHEN $4 = 'card' THEN $8::bigint ELSE 0 END, "
        "CASE WHEN $4 = 'transfer' THEN $8::bigint ELSE 0 END, "
        "CASE WHEN $4 = 'cash' THEN 1 ELSE 0 END, CASE WHEN $4 = 'card' THEN 1 ELSE 0 END, "
        "CASE WHEN $4 = 'transfer' THEN 1 ELSE 0 END FROM y "
        "ON CONFLICT (tenant_id, day) DO UPDATE SET "
        "cash_cents = balance_daily.cash_cents + EXCLUDED.cash_cents, "
        "card_cents = balance_daily.card_cents + EXCLUDED.card_cents, "
        "transfer_cents = balance_daily.transfer_cents + EXCLUDED.transfer_cents, "
        "cash_count = balance_daily.cash_count + EXCLUDED.cash_count, "
        "card_count = balance_daily.card_count + EXCLUDED.card_count, "
        "transfer_count = balance_daily.transfer_count + EXCLUDED.transfer_count RETURNING 1) "
        "SELECT y.id, (SELECT count(*) FROM b) FROM y";
    const char *params[] = {i64(c->a, c->tenant),
                            i64(c->a, p->sale_id),
                            dec(c->a, p->amount, DEC_MONEY_SCALE),
                            sales_method_name(p->method),
                            p->paid_at,
                            p->reference,
                            tz,
                            i64(c->a, p->amount)};
    PGresult *res = db_exec(c->db, c->a, sql, 8, params, err);

    if (!res) {
        if (err->code == ERR_INVALID && !err->field[0] && p->paid_at)
            return err_set_full(err, ERR_INVALID, "invalid_timestamp", "paid_at",
                                "'paid_at' is not a valid timestamp");
        return -1;
    }
    *payment_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    return 0;
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
        "WHERE p.tenant_id = $1 AND p.id = l.product_id RETURNING p.id) "
        "INSERT INTO stock_movements (tenant_id, product_id, sale_id, quantity, reason) "
        "SELECT $1, product_id, $2, $3::int * qty, $4 FROM l";
    const char *params[4] = {tenant, sale, sign < 0 ? "-1" : "1",
                             sign < 0 ? "sale_confirm" : "sale_cancel"};
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
    return db_exec(c->db, c->a, take_sql, 4, params, err) ? 0 : -1;
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
    total = col_dec(res, 0, 1, DEC_MONEY_SCALE);
    tz = PQgetvalue(res, 0, 2);
    if (pay && pay->amount > total) {
        err_set_full(err, ERR_INVALID, "payment_above_total", "payment.amount",
                     "the payment is above the sale's total");
        return fail(c);
    }
    if (move_stock(c, tenant, sale, -1, err))
        return fail(c);
    params[2] = tz;
    if (!db_exec(c->db, c->a, confirm_sql, 3, params, err))
        return fail(c);
    if (pay) {
        struct payment_in p = *pay;

        p.sale_id = id;
        if (payment_insert(c, &p, tz, &payment_id, err))
            return fail(c);
    }
    if (db_commit(c->db, err))
        return -1;
    cache_invalidate_module(c->cache, c->a, c->tenant, "balance");
    cache_invalidate_module(c->cache, c->a, c->tenant, "products");
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
        "SELECT EXISTS (SELECT 1 FROM payments WHERE tenant_id = $1 AND sale_id = $2)";
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
    if (was_confirmed) {
        PGresult *paid = db_exec(c->db, c->a, paid_sql, 2, params, err);

        if (!paid)
            return fail(c);
        was_paid = !strcmp(PQgetvalue(paid, 0, 0), "t");
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
        cache_invalidate_module(c->cache, c->a, c->tenant, "balance");
        cache_invalidate_module(c->cache, c->a, c->tenant, "products");
    }
    return sale_json(c, id, out, err);
}

/* The request's identity for Idempotency-Key: every field, normalized, hashed. */
static void payment_hash(const struct payment_in *in, char out[65])
{
    crypto_generichash_state st;
    unsigned char h[32];
    char tmp[96];

    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    snprintf(tmp, sizeof(tmp), "%" PRId64 "\n%" PRId64 "\n%s\n", in->sale_id, in->amount,
             sales_method_name(in->method));
    crypto_generichash_update(&st, (const unsigned char *)tmp, strlen(tmp));
    /* length-prefixed, so "a" + "bc" and "ab" + "c" differ */
    snprintf(tmp, sizeof(tmp), "%zu:", in->paid_at ? strlen(in->paid_at) : (size_t)-1);
    crypto_generichash_update(&st, (const unsigned char *)tmp, strlen(tmp));
    if (in->paid_at)
        crypto_generichash_update(&st, (const unsigned char *)in->paid_at, strlen(in->paid_at));
    snprintf(tmp, sizeof(tmp), "\n%zu:", in->reference ? strlen(in->reference) : (size_t)-1);
    crypto_generichash_update(&st, (const unsigned char *)tmp, strlen(tmp));
    if (in->reference)
        crypto_generichash_update(&st, (const unsigned char *)in->reference, strlen(in->reference));
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_bin2hex(out, 65, h, sizeof(h));
}

int payments_create(struct catalog *c, const struct payment_in *in, const char *idem_key,
                    int *status, struct catalog_out *out, struct app_err *err)
{
    /* Keys are kept a day (retries come within minutes); claiming one sweeps the tenant's
     * older ones, so the table stays small. */
    static const char claim_sql[] =
        "WITH gone AS (DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key <> $2 "
        "AND created_at < now() - interval '1 day') "
        "INSERT INTO idempotency_keys (tenant_id, key, request_hash) "
        "VALUES ($1, $2, decode($3, 'hex')) ON CONFLICT DO NOTHING RETURNING 1";
    static const char replay_sql[] =
        "SELECT encode(request_hash, 'hex'), response_status, response_body "
        "FROM idempotency_keys WHERE tenant_id = $1 AND key = $2";
    /* Lock first, then read what is paid in a new statement (see sales_cancel). */
    static const char lock_sql[] = "SELECT s.status, s.total::text, t.timezone "
                                   "FROM sales s JOIN tenants t ON t.id = s.tenant_id "
                                   "WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE OF s";
    static const char paid_sql[] =
        "SELECT coalesce(sum(amount), 0)::text FROM payments WHERE tenant_id = $1 AND sale_id = $2";
    static const char json_sql[] =
        "SELECT " PAYMENT_JSON "::text FROM payments y WHERE y.tenant_id = $1 AND y.id = $2";
    static const char store_sql[] =
        "UPDATE idempotency_keys SET response_status = 201, response_body = $3 "
        "WHERE tenant_id = $1 AND key = $2";
    const char *tenant = i64(c->a, c->tenant);
    const char *params[3];
    char hash[65];
    PGresult *res;
    int64_t outstanding, payment_id;

    *status = 201;
    payment_hash(in, hash);
    if (db_begin(c->db, err))
        return -1;
    if (idem_key) {
        params[0] = tenant;
        params[1] = idem_key;
        params[2] = hash;
        /* A concurrent first request holds the key's row until it commits: we wait here. */
        res = db_exec(c->db, c->a, claim_sql, 3, params, err);
        if (!res)
            return fail(c);
        if (PQntuples(res) == 0) {
            res = db_exec(c->db, c->a, replay_sql, 2, params, err);
            if (!res)
                return fail(c);
            db_rollback(c->db);
            if (PQntuples(res) != 1 || PQgetisnull(res, 0, 1))
                return err_set_full(err, ERR_CONFLICT, "idempotency_in_progress", "Idempotency-Key",
                                    "a request with this key is in progress");
            if (strcmp(PQgetvalue(res, 0, 0), hash))
                return err_set_full(err, ERR_INVALID, "idempotency_mismatch", "Idempotency-Key",
                                    "this Idempotency-Key was used with a different request");
            *status = atoi(PQgetvalue(res, 0, 1));
            out->json = PQgetvalue(res, 0, 2);
            out->len = (size_t)PQgetlength(res, 0, 2);
            out->cached = false;
            return 0;
        }
    }
    params[0] = tenant;
    params[1] = i64(c->a, in->sale_id);
    res = db_exec(c->db, c->a, lock_sql, 2, params, err);
    if (!res)
        return fail(c);
    if (PQntuples(res) != 1) {
        err_set_full(err, ERR_INVALID, "invalid_reference", "sale_id", "'sale_id' does not exist");
        return fail(c);
    }
    if (strcmp(PQgetvalue(res, 0, 0), "confirmed")) {
        err_set_full(err, ERR_CONFLICT, "invalid_state", "sale_id",
                     "payments are only taken on confirmed sales; this sale is %s",
                     PQgetvalue(res, 0, 0));
        return fail(c);
    }
    {
        PGresult *paid = db_exec(c->db, c->a, paid_sql, 2, params, err);

        if (!paid)
            return fail(c);
        outstanding = col_dec(res, 0, 1, DEC_MONEY_SCALE) - col_dec(paid, 0, 0, DEC_MONEY_SCALE);
    }
    if (in->amount > outstanding) {
        char o[32];

        dec_format(outstanding, DEC_MONEY_SCALE, o, sizeof(o));
        err_set_full(err, ERR_CONFLICT, "overpayment", "amount",
                     "the payment is above the outstanding amount (%s)", o);
        return fail(c);
    }
    if (payment_insert(c, in, arena_strdup(c->a, PQgetvalue(res, 0, 2)), &payment_id, err))
        return fail(c);
    params[1] = i64(c->a, payment_id);
    res = db_exec(c->db, c->a, json_sql, 2, params, err);
    if (!res || PQntuples(res) != 1)
        return fail(c);
    catalog_out_set(c, out, res);
    out->cached = false;
    if (idem_key) {
        params[1] = idem_key;
        params[2] = out->json;
        if (!db_exec(c->db, c->a, store_sql, 3, params, err))
            return fail(c);
    }
    if (db_commit(c->db, err))
        return -1;
    cache_invalidate_module(c->cache, c->a, c->tenant, "balance");
    return 0;
}

int payments_list(struct catalog *c, const struct payment_query *q, struct catalog_out *out,
                  struct app_err *err)
{
    /*
     * As in sales_list: the filter twice rather than a materialized CTE. The total, unless one
     * sale's payments are asked for, is summed from balance_daily's per-day counts (sql/006):
     * at most one row per day, not every payment of the tenant's history.
     */
#define PAYMENTS_FILTER                                                                            \
    "tenant_id = $1 AND ($2::bigint IS NULL OR sale_id = $2) "                                     \
    "AND ($3::date IS NULL OR balance_day >= $3::date) "                                           \
    "AND ($4::date IS NULL OR balance_day <= $4::date) AND ($5::text IS NULL OR method = $5)"
    static const char sql[] =
        "WITH pg AS (SELECT * FROM payments WHERE " PAYMENTS_FILTER
        " ORDER BY paid_at DESC, id DESC LIMIT $6 OFFSET $7) "
        "SELECT json_build_object('items', coalesce((SELECT json_agg(" PAYMENT_JSON
        " ORDER BY y.paid_at DESC, y.id DESC) FROM pg y), '[]'::json), "
        "'total', CASE WHEN $2::bigint IS NULL THEN (SELECT coalesce(sum(CASE $5::text "
        "WHEN 'cash' THEN cash_count WHEN 'card' THEN card_count "
        "WHEN 'transfer' THEN transfer_count ELSE cash_count + card_count + transfer_count END), "
        "0)::bigint FROM balance_daily WHERE tenant_id = $1 "
        "AND ($3::date IS NULL OR day >= $3::date) AND ($4::date IS NULL OR day <= $4::date)) "
        "ELSE (SELECT count(*) FROM payments WHERE " PAYMENTS_FILTER ") END, "
        "'limit', $6::bigint, 'offset', $7::bigint)::text";
#undef PAYMENTS_FILTER
    const char *params[] = {i64(c->a, c->tenant),
                            q->sale_id > 0 ? i64(c->a, q->sale_id) : NULL,
                            q->from,
                            q->to,
                            q->method == PAY_ANY ? NULL : sales_method_name(q->method),
                            i64(c->a, q->limit),
                            i64(c->a, q->offset)};
    PGresult *res = db_exec(c->db, c->a, sql, 7, params, err);

    if (!res)
        return -1;
    catalog_out_set(c, out, res);
    out->cached = false;
    return 0;
}
