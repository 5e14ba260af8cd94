/*
 * returns: returns of a tenant's confirmed sales, each with an optional refund (SPEC §10). A
 * return brings the stock of its lines back (`return` movements of the ledger), counts its
 * total on its day of the tenant's zone (balance_daily.returns_cents) and records its refund
 * as a payments row of kind 'refund' with a negative amount. It runs in one transaction that
 * locks the sale row first and then the products in id order, the order of sales_confirm, so
 * returns racing confirmations and movements never deadlock; what was sold, returned and
 * paid is read after that lock, so parallel returns never return more than was sold nor refund
 * more than was paid. After the commit the balance and products modules are invalidated.
 * JSON bodies are rendered by PostgreSQL; results live in the arena.
 *
 * Prices: a returned quantity is valued at the sale's price for that product. When a product
 * is on several lines of the sale at different prices, returns take the highest-priced line
 * first (then the lower id), in the order of all the sale's returns of that product; a return
 * line is written per sale line it takes from, so a return may answer more items than it was
 * given. The total of a line is rounded on the sale line's cumulative returned quantity
 * (round(after * price) - round(before * price)), so returning all of a sale's lines, in any
 * number of returns, comes to exactly the sale's line totals.
 */
#ifndef STOCK_SERVICES_RETURNS_H
#define STOCK_SERVICES_RETURNS_H

#include <stdbool.h>
#include <stdint.h>

#include "services/catalog.h"
#include "services/payments.h"

#define RETURNS_MAX_LINES 500

/*
 * The JSON of return r (a sale_returns row aliased r): {"id", "items": [{"product": {"id",
 * "sku", "name"}, "quantity", "unit_price", "line_total"}], "returned_total", "refund": {"id",
 * "amount", "method"} or null, "note", "created_at"}. The refund's amount is positive (what
 * was given back; its payments row holds it negative). GET /sales/{id} lists them too.
 */
#define RETURN_JSON                                                                                \
    "json_build_object('id', r.id, 'items', (SELECT coalesce(json_agg(json_build_object("          \
    "'product', json_build_object('id', rp.id, 'sku', rp.sku, 'name', rp.name), "                  \
    "'quantity', rl.quantity::text, 'unit_price', rl.unit_price::text, "                           \
    "'line_total', rl.line_total::text) ORDER BY rl.id), '[]'::json) FROM sale_return_lines rl "   \
    "JOIN products rp ON rp.tenant_id = rl.tenant_id AND rp.id = rl.product_id "                   \
    "WHERE rl.tenant_id = r.tenant_id AND rl.return_id = r.id), "                                  \
    "'returned_total', r.returned_total::text, 'refund', (SELECT json_build_object('id', ry.id, "  \
    "'amount', (-ry.amount)::numeric(14, 2)::text, 'method', ry.method) FROM payments ry "         \
    "WHERE ry.tenant_id = r.tenant_id AND ry.id = r.refund_id), 'note', r.note, "                  \
    "'created_at', stock_ts(r.created_at))"

struct return_line_in {
    int64_t product_id;
    int64_t quantity; /* thousandths, > 0 */
};

struct return_in {
    struct return_line_in *lines; /* 1..RETURNS_MAX_LINES, each product at most once */
    size_t nlines;
    bool has_refund;
    int64_t refund_amount; /* cents, > 0 (has_refund) */
    enum payment_method refund_method;
    const char *note; /* may be NULL */
};

/*
 * Records a return of sale sale_id with its optional refund. ERR_NOT_FOUND for a sale the
 * tenant does not have; ERR_CONFLICT "invalid_state" unless confirmed; ERR_INVALID
 * "invalid_reference" naming items[i].product_id for a product not on the sale (or not the
 * tenant's), "duplicate" for a product given twice, "exceeds_returnable" naming
 * items[i].quantity above what was sold minus what was already returned; ERR_CONFLICT
 * "overrefund" (field refund.amount) for a refund above what was paid minus what was
 * refunded. idem_key (NULL = none) works as for payments_create (idem.h), route "returns".
 * *status is 201 for a new return; out is its JSON (RETURN_JSON).
 */
int returns_create(struct catalog *c, int64_t sale_id, const struct return_in *in,
                   const char *idem_key, int *status, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

#endif
