/*
 * payments: payments on confirmed sales. A new payment runs in one transaction that claims its
 * Idempotency-Key first (a concurrent retry waits on that row), then locks the sale row and
 * reads what is paid in a new statement, so two payments can never together exceed the total.
 */
#include "services/payments.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dec.h"
#include "services/export.h"
#include "services/idem.h"

#define PAYMENT_JSON                                                                                           \
    "json_build_object('id', y.id, 'sale_id', y.sale_id, 'kind', y.kind, "                                     \
    "'amount', y.amount::text, 'method', y.method, 'paid_at', stock_ts(y.paid_at), 'reference', y.reference, " \
    "'created_at', stock_ts(y.created_at))"

int payments_method_parse(const char *s, bool allow_all, enum payment_method *out)
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

const char *payments_method_name(enum payment_method m)
{
    static const char *const names[] = {"all", "cash", "card", "transfer"};

    return names[m <= PAY_TRANSFER ? m : PAY_ANY];
}

int payments_insert(struct catalog *c, const struct payment_in *p, const char *tz,
                    int64_t *payment_id, struct app_err *err)
{
    static const char sql[] =
        "WITH y AS (INSERT INTO payments (tenant_id, sale_id, kind, amount, method, paid_at, "
        "reference, balance_day) VALUES ($1, $2, CASE WHEN $3::numeric < 0 THEN 'refund' "
        "ELSE 'payment' END, $3, $4, coalesce($5::timestamptz, now()), $6, "
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
    char amount[32];
    const char *params[] = {arena_sprintf(c->a, "%" PRId64, c->tenant),
                            arena_sprintf(c->a, "%" PRId64, p->sale_id),
                            amount,
                            payments_method_name(p->method),
                            p->paid_at,
                            p->reference,
                            tz,
                            arena_sprintf(c->a, "%" PRId64, p->amount)};
    PGresult *res;

    dec_format(p->amount, DEC_MONEY_SCALE, amount, sizeof(amount));
    res = db_exec(c->db, c->a, sql, 8, params, err);
    if (!res) {
        if (err->code == ERR_INVALID && !err->field[0] && p->paid_at)
            return err_set_full(err, ERR_INVALID, "invalid_timestamp", "paid_at",
                                "'paid_at' is not a valid timestamp");
        return -1;
    }
    *payment_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    return 0;
}

/* The request's identity for Idempotency-Key: every field, normalized, hashed. */
static void payment_hash(const struct payment_in *in, struct idem_hash *h)
{
    idem_hash_init(h, "payments");
    idem_hash_i64(h, in->sale_id);
    idem_hash_i64(h, in->amount);
    idem_hash_str(h, payments_method_name(in->method));
    idem_hash_str(h, in->paid_at);
    idem_hash_str(h, in->reference);
    idem_hash_final(h);
}

int payments_create(struct catalog *c, const struct payment_in *in, const char *idem_key,
                    int *status, struct catalog_out *out, struct app_err *err)
{
    /* Lock first, then read what is paid in a new statement (see sales_cancel). */
    static const char lock_sql[] = "SELECT s.status, s.total::text, t.timezone "
                                   "FROM sales s JOIN tenants t ON t.id = s.tenant_id "
                                   "WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE OF s";
    /* What it owes: total - returned - paid (refunds are negative payments). */
    static const char paid_sql[] =
        "SELECT coalesce(sum(amount), 0)::text, (SELECT coalesce(sum(returned_total), 0) "
        "FROM sale_returns WHERE tenant_id = $1 AND sale_id = $2)::text "
        "FROM payments WHERE tenant_id = $1 AND sale_id = $2";
    static const char json_sql[] =
        "SELECT " PAYMENT_JSON "::text FROM payments y WHERE y.tenant_id = $1 AND y.id = $2";
    const char *tenant = arena_sprintf(c->a, "%" PRId64, c->tenant);
    const char *params[3];
    struct idem_hash hash;
    PGresult *res;
    int64_t outstanding, payment_id;
    int claim;

    *status = 201;
    payment_hash(in, &hash);
    if (db_begin(c->db, err))
        return -1;
    claim = idem_claim(c, idem_key, &hash, status, out, err);
    if (claim)
        return claim < 0 ? -1 : 0;
    params[0] = tenant;
    params[1] = arena_sprintf(c->a, "%" PRId64, in->sale_id);
    res = db_exec(c->db, c->a, lock_sql, 2, params, err);
    if (!res)
        goto fail;
    if (PQntuples(res) != 1) {
        err_set_full(err, ERR_INVALID, "invalid_reference", "sale_id", "'sale_id' does not exist");
        goto fail;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "confirmed")) {
        err_set_full(err, ERR_CONFLICT, "invalid_state", "sale_id",
                     "payments are only taken on confirmed sales; this sale is %s",
                     PQgetvalue(res, 0, 0));
        goto fail;
    }
    {
        PGresult *paid = db_exec(c->db, c->a, paid_sql, 2, params, err);

        if (!paid)
            goto fail;
        outstanding = dec_from_db(PQgetvalue(res, 0, 1), DEC_MONEY_SCALE) -
                      dec_from_db(PQgetvalue(paid, 0, 1), DEC_MONEY_SCALE) -
                      dec_from_db(PQgetvalue(paid, 0, 0), DEC_MONEY_SCALE);
    }
    if (in->amount > outstanding) {
        char o[32];

        dec_format(outstanding, DEC_MONEY_SCALE, o, sizeof(o));
        err_set_full(err, ERR_CONFLICT, "overpayment", "amount",
                     "the payment is above the outstanding amount (%s)", o);
        goto fail;
    }
    if (payments_insert(c, in, arena_strdup(c->a, PQgetvalue(res, 0, 2)), &payment_id, err))
        goto fail;
    params[1] = arena_sprintf(c->a, "%" PRId64, payment_id);
    res = db_exec(c->db, c->a, json_sql, 2, params, err);
    if (!res || PQntuples(res) != 1)
        goto fail;
    catalog_out_set(c, out, res);
    out->cached = false;
    return idem_commit(c, idem_key, 201, out, err);
fail:
    /* every failure once the transaction is open: err says why */
    db_rollback(c->db);
    return -1;
}

/* The payments list's filter ($1 tenant, $2 sale, $3 from, $4 to, $5 method). */
#define PAYMENTS_FILTER                                                                            \
    "tenant_id = $1 AND ($2::bigint IS NULL OR sale_id = $2) "                                     \
    "AND ($3::date IS NULL OR balance_day >= $3::date) "                                           \
    "AND ($4::date IS NULL OR balance_day <= $4::date) AND ($5::text IS NULL OR method = $5)"

int payments_list(struct catalog *c, const struct payment_query *q, struct catalog_out *out,
                  struct app_err *err)
{
    /*
     * As in sales_list: the filter twice rather than a materialized CTE. The total, unless one
     * sale's payments are asked for, is summed from balance_daily's per-day counts (sql/006):
     * at most one row per day, not every payment of the tenant's history.
     */
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
    const char *params[] = {arena_sprintf(c->a, "%" PRId64, c->tenant),
                            q->sale_id > 0 ? arena_sprintf(c->a, "%" PRId64, q->sale_id) : NULL,
                            q->from,
                            q->to,
                            q->method == PAY_ANY ? NULL : payments_method_name(q->method),
                            arena_sprintf(c->a, "%" PRId64, q->limit),
                            arena_sprintf(c->a, "%" PRId64, q->offset)};
    PGresult *res = db_exec(c->db, c->a, sql, 7, params, err);

    if (!res)
        return -1;
    catalog_out_set(c, out, res);
    out->cached = false;
    return 0;
}

void payments_export(struct catalog *c, const struct payment_query *q, struct export_def *def)
{
    static const struct export_column cols[] = {
        {"id", true},      {"sale_id", true},  {"kind", false},      {"amount", true},
        {"method", false}, {"paid_at", false}, {"reference", false}, {"created_at", false}};
    static const char sql[] = EXPORT_DECLARE
        "SELECT id::text, sale_id::text, kind, amount::text, method, stock_ts(paid_at), "
        "reference, stock_ts(created_at) FROM payments WHERE " PAYMENTS_FILTER
        " ORDER BY paid_at DESC, id DESC LIMIT $6 OFFSET $7";
    const char **params = arena_alloc(c->a, 7 * sizeof(*params));

    params[0] = arena_sprintf(c->a, "%" PRId64, c->tenant);
    params[1] = q->sale_id > 0 ? arena_sprintf(c->a, "%" PRId64, q->sale_id) : NULL;
    params[2] = q->from;
    params[3] = q->to;
    params[4] = q->method == PAY_ANY ? NULL : payments_method_name(q->method);
    params[5] = q->limit > 0 ? arena_sprintf(c->a, "%" PRId64, q->limit) : NULL;
    params[6] = arena_sprintf(c->a, "%" PRId64, q->offset);
    *def = (struct export_def){"payments", cols, sizeof(cols) / sizeof(cols[0]), sql, 7, params};
}
