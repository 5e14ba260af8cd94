/*
 * movements: the stock ledger. A posted movement is one call of stock_move() (sql/009) inside
 * a transaction that claims its Idempotency-Key first; the list is one statement per filter
 * shape, so that each shape's prepared plan walks its own index (sql/009) instead of a generic
 * plan of "$2 IS NULL OR ..." scanning the tenant's whole ledger.
 */
#include "services/movements.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/dec.h"
#include "services/export.h"
#include "services/idem.h"

/* m is the ledger row, p its product, us its user (MOVE_JOIN). */
#define MOVE_JSON                                                                                  \
    "json_build_object('id', m.id, 'product', json_build_object('id', p.id, 'sku', p.sku, "        \
    "'name', p.name), 'kind', m.kind, 'quantity', m.quantity::text, "                              \
    "'stock_before', m.stock_before::text, 'stock_after', m.stock_after::text, "                   \
    "'unit_cost', m.unit_cost::text, 'note', m.note, 'reference', m.reference, "                   \
    "'user', CASE WHEN us.id IS NULL THEN NULL ELSE json_build_object('id', us.id, 'email', "      \
    "us.email) END, 'created_at', stock_ts(m.created_at))"

#define MOVE_JOIN                                                                                  \
    " JOIN products p ON p.tenant_id = m.tenant_id AND p.id = m.product_id"                        \
    " LEFT JOIN users us ON us.tenant_id = m.tenant_id AND us.id = m.user_id"

/*
 * The list for one filter shape F: LIST_PAGE F LIST_TOTAL F LIST_END, with $1 tenant, $2
 * product, $3 kind, $4 from, $5 to, $6 limit, $7 offset. The unused CTE t only gives every
 * parameter its type (a statement must know the type of each, used or not). The page walks an
 * index backwards and stops after it; the total is a count over the same index when days are
 * asked for, else a sum of the per-product counts (LIST_COUNTED).
 */
#define LIST_PAGE                                                                                  \
    "WITH t AS (SELECT $2::bigint, $3::text, $4::date, $5::date), "                                \
    "pg AS (SELECT * FROM stock_movements m WHERE m.tenant_id = $1"
#define LIST_TOTAL                                                                                 \
    " ORDER BY m.id DESC LIMIT $6 OFFSET $7) "                                                     \
    "SELECT json_build_object('items', coalesce((SELECT json_agg(" MOVE_JSON                       \
    " ORDER BY m.id DESC) FROM pg m" MOVE_JOIN "), '[]'::json), "                                  \
    "'total', (SELECT count(*) FROM stock_movements m WHERE m.tenant_id = $1"
/* The total without dates: a sum over stock_movement_counts (sql/009), one row per product
 * and kind, instead of a count over the ledger. */
#define LIST_COUNTED                                                                               \
    " ORDER BY m.id DESC LIMIT $6 OFFSET $7) "                                                     \
    "SELECT json_build_object('items', coalesce((SELECT json_agg(" MOVE_JSON                       \
    " ORDER BY m.id DESC) FROM pg m" MOVE_JOIN "), '[]'::json), "                                  \
    "'total', (SELECT coalesce(sum(c.n), 0)::bigint FROM stock_movement_counts c "                 \
    "WHERE c.tenant_id = $1"
#define FC_P     " AND c.product_id = $2::bigint"
#define FC_K     " AND c.kind = $3::text"
#define LIST_END "), 'limit', $6::bigint, 'offset', $7::bigint)::text"
#define F_P      " AND m.product_id = $2::bigint"
#define F_K      " AND m.kind = $3::text"
/* Days of the tenant's zone, as the sales and payments lists count them. */
#define F_D                                                                                        \
    " AND m.created_at >= coalesce($4::date::timestamp AT TIME ZONE "                              \
    "(SELECT timezone FROM tenants WHERE id = $1), '-infinity') "                                  \
    "AND m.created_at < coalesce(($5::date + 1)::timestamp AT TIME ZONE "                          \
    "(SELECT timezone FROM tenants WHERE id = $1), 'infinity')"

/* Indexed by shape: 1 product, 2 kind, 4 dates. */
static const struct {
    const char *sql;
} list_shapes[8] = {
    {LIST_PAGE LIST_COUNTED LIST_END},
    {LIST_PAGE F_P LIST_COUNTED FC_P LIST_END},
    {LIST_PAGE F_K LIST_COUNTED FC_K LIST_END},
    {LIST_PAGE F_P F_K LIST_COUNTED FC_P FC_K LIST_END},
    {LIST_PAGE F_D LIST_TOTAL F_D LIST_END},
    {LIST_PAGE F_P F_D LIST_TOTAL F_P F_D LIST_END},
    {LIST_PAGE F_K F_D LIST_TOTAL F_K F_D LIST_END},
    {LIST_PAGE F_P F_K F_D LIST_TOTAL F_P F_K F_D LIST_END},
};

/*
 * The export for one filter shape F: EXPORT_PAGE F EXPORT_END, the parameters of the list
 * ($6 limit NULL: every row). One flat statement, so that the cursor walks the same index
 * backwards as the page does. Each row's product and user are looked up through LATERAL
 * subqueries that the planner cannot flatten (OFFSET 0): always one index lookup per row. As
 * plain joins, a row estimate gone stale (a ledger just bulk-loaded) lets the planner pick a
 * nested loop that scans the inner table once per row: one test run's export of 200,000 rows
 * stalled past 120 s, most likely that way (never reproduced since).
 */
#define EXPORT_PAGE                                                                                \
    EXPORT_DECLARE                                                                                 \
    "WITH t AS (SELECT $2::bigint, $3::text, $4::date, $5::date) "                                 \
    "SELECT m.id::text, stock_ts(m.created_at), m.product_id::text, p.sku, p.name, m.kind, "       \
    "m.quantity::text, m.stock_before::text, m.stock_after::text, m.unit_cost::text, m.note, "     \
    "m.reference, m.user_id::text, us.email FROM stock_movements m "                               \
    "CROSS JOIN LATERAL (SELECT p.sku, p.name FROM products p WHERE p.tenant_id = m.tenant_id "    \
    "AND p.id = m.product_id OFFSET 0) p "                                                         \
    "LEFT JOIN LATERAL (SELECT us.email FROM users us WHERE us.tenant_id = m.tenant_id "           \
    "AND us.id = m.user_id OFFSET 0) us ON true WHERE m.tenant_id = $1"
#define EXPORT_END " ORDER BY m.id DESC LIMIT $6 OFFSET $7"

static const char *const export_shapes[8] = {
    EXPORT_PAGE EXPORT_END,         EXPORT_PAGE F_P EXPORT_END,
    EXPORT_PAGE F_K EXPORT_END,     EXPORT_PAGE F_P F_K EXPORT_END,
    EXPORT_PAGE F_D EXPORT_END,     EXPORT_PAGE F_P F_D EXPORT_END,
    EXPORT_PAGE F_K F_D EXPORT_END, EXPORT_PAGE F_P F_K F_D EXPORT_END,
};

static const char *i64(struct arena *a, int64_t v)
{
    return arena_sprintf(a, "%" PRId64, v);
}

bool movements_kind_valid(const char *kind, bool postable)
{
    static const char *const kinds[] = {"receipt", "loss",   "damage", "adjustment", "count",
                                        "sale",    "cancel", "return", "opening"};
    size_t i, n = postable ? 5 : sizeof(kinds) / sizeof(kinds[0]);

    for (i = 0; kind && i < n; i++)
        if (!strcmp(kind, kinds[i]))
            return true;
    return false;
}

const char *movements_list_key(struct arena *a, const struct movement_query *q)
{
    /* Every parameter is validated before (an id, a kind, YYYY-MM-DD dates): no glob chars. */
    return arena_sprintf(a, "list:p=%" PRId64 ":k=%s:f=%s:t=%s:%" PRId64 ":%" PRId64,
                         q->product_id > 0 ? q->product_id : 0, q->kind ? q->kind : "",
                         q->from ? q->from : "", q->to ? q->to : "", q->limit, q->offset);
}

int movements_list(struct catalog *c, const struct movement_query *q, struct catalog_out *out,
                   struct app_err *err)
{
    struct arena *a = c->a;
    int shape = (q->product_id > 0 ? 1 : 0) | (q->kind ? 2 : 0) | (q->from || q->to ? 4 : 0);
    const char *params[] = {i64(a, c->tenant),
                            q->product_id > 0 ? i64(a, q->product_id) : NULL,
                            q->kind,
                            q->from,
                            q->to,
                            i64(a, q->limit),
                            i64(a, q->offset)};

    return catalog_read_json(c, "movements", movements_list_key(a, q), list_shapes[shape].sql, 7,
                             params, "movement", out, err);
}

void movements_export(struct catalog *c, const struct movement_query *q, struct export_def *def)
{
    static const struct export_column cols[] = {
        {"id", true},          {"created_at", false}, {"product_id", true}, {"sku", false},
        {"product", false},    {"kind", false},       {"quantity", true},   {"stock_before", true},
        {"stock_after", true}, {"unit_cost", true},   {"note", false},      {"reference", false},
        {"user_id", true},     {"user_email", false}};
    struct arena *a = c->a;
    int shape = (q->product_id > 0 ? 1 : 0) | (q->kind ? 2 : 0) | (q->from || q->to ? 4 : 0);
    const char **params = arena_alloc(a, 7 * sizeof(*params));

    params[0] = i64(a, c->tenant);
    params[1] = q->product_id > 0 ? i64(a, q->product_id) : NULL;
    params[2] = q->kind;
    params[3] = q->from;
    params[4] = q->to;
    params[5] = q->limit > 0 ? i64(a, q->limit) : NULL;
    params[6] = i64(a, q->offset);
    *def = (struct export_def){"movements",          cols, sizeof(cols) / sizeof(cols[0]),
                               export_shapes[shape], 7,    params};
}

/* The request's identity for Idempotency-Key: every field, normalized, hashed. */
static void movement_hash(const struct movement_in *in, struct idem_hash *h)
{
    idem_hash_init(h, "stock_movements");
    idem_hash_i64(h, in->product_id);
    idem_hash_str(h, in->kind);
    idem_hash_i64(h, in->quantity);
    idem_hash_i64(h, in->unit_cost);
    idem_hash_str(h, in->note);
    idem_hash_str(h, in->reference);
    idem_hash_final(h);
}

/* After a rollback: insufficient_stock naming the product (its SKU read again). */
static int insufficient(struct catalog *c, const struct movement_in *in, struct app_err *err)
{
    static const char sql[] = "SELECT sku FROM products WHERE tenant_id = $1 AND id = $2";
    const char *params[] = {i64(c->a, c->tenant), i64(c->a, in->product_id)};
    struct app_err e2;
    PGresult *res;

    err_clear(&e2);
    res = db_exec(c->db, c->a, sql, 2, params, &e2);
    return err_set_full(err, ERR_CONFLICT, "insufficient_stock", "quantity",
                        "not enough stock of product %" PRId64 " ('%.60s')", in->product_id,
                        res && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
}

int movements_create(struct catalog *c, const struct movement_in *in, const char *idem_key,
                     int *status, struct catalog_out *out, struct app_err *err)
{
    static const char sql[] =
        "SELECT " MOVE_JSON "::text FROM stock_move($1::bigint, $2::bigint, $3::text, "
        "$4::numeric, NULL::bigint, $5::bigint, $6::numeric, $7::text, $8::text, NULL::bigint) m" MOVE_JOIN;
    struct arena *a = c->a;
    bool removes = !strcmp(in->kind, "loss") || !strcmp(in->kind, "damage");
    char qty[32], cost[32];
    const char *params[8];
    struct idem_hash hash;
    PGresult *res;
    int claim;

    *status = 201;
    movement_hash(in, &hash);
    dec_format(removes ? -in->quantity : in->quantity, DEC_QTY_SCALE, qty, sizeof(qty));
    dec_format(in->unit_cost, DEC_MONEY_SCALE, cost, sizeof(cost));
    params[0] = i64(a, c->tenant);
    params[1] = i64(a, in->product_id);
    params[2] = in->kind;
    params[3] = qty;
    params[4] = c->user > 0 ? i64(a, c->user) : NULL;
    params[5] = in->unit_cost >= 0 ? cost : NULL;
    params[6] = in->note;
    params[7] = in->reference;
    if (db_begin(c->db, err))
        return -1;
    claim = idem_claim(c, idem_key, &hash, status, out, err);
    if (claim)
        return claim < 0 ? -1 : 0;
    res = db_exec(c->db, a, sql, 8, params, err);
    if (!res || PQntuples(res) != 1) {
        db_rollback(c->db);
        if (!res && err->code == ERR_NOT_FOUND)
            return err_set_full(err, ERR_INVALID, "invalid_reference", "product_id",
                                "'product_id' does not exist");
        if (!res && !strcmp(err->slug, "insufficient_stock"))
            return insufficient(c, in, err);
        return res ? err_set(err, ERR_INTERNAL, "the movement was not recorded") : -1;
    }
    catalog_out_set(c, out, res);
    out->cache = CACHE_BYPASS;
    out->cached = false;
    return idem_commit(c, idem_key, 201, out, err);
}
