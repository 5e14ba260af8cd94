/*
 * sales: drafts, confirmation and cancellation of one tenant's sales (payments against them
 * are services/payments). Confirmation takes the stock of every line or none, in one
 * transaction that also writes the movement ledger and the day's balance summary, and the
 * payment given with it; concurrent confirmations never drive stock below zero (rows are
 * locked in id order, and the stock check is re-read under the lock). After the commit,
 * confirm/cancel invalidate the balance and products modules. JSON bodies are rendered by
 * PostgreSQL; results live in the arena.
 */
#ifndef STOCK_SERVICES_SALES_H
#define STOCK_SERVICES_SALES_H

#include <stdbool.h>
#include <stdint.h>

#include "services/catalog.h"
#include "services/payments.h"

#define SALES_MAX_LINES 500

struct sale_line_in {
    int64_t product_id;
    int64_t quantity;   /* thousandths, > 0 */
    int64_t unit_price; /* cents; -1 = the product's price */
};

struct sale_in {
    const char *customer; /* may be NULL */
    struct sale_line_in *lines;
    size_t nlines;
};

struct sale_query {
    const char *status;    /* NULL = any */
    const char *from, *to; /* YYYY-MM-DD (creation day in the tenant's zone) or NULL */
    int64_t limit, offset;
};

/* A new draft; unknown products are ERR_INVALID naming "items[i].product_id". */
int sales_create(struct catalog *c, const struct sale_in *in, struct catalog_out *out,
                 struct app_err *err) __attribute__((warn_unused_result));

/* A sale with "items", "returns" (services/returns.h), "paid_total" (payments minus refunds),
 * "returned_total", "refunded_total" and "outstanding" (total - returned - paid, may be < 0). */
int sales_get(struct catalog *c, int64_t id, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));
int sales_list(struct catalog *c, const struct sale_query *q, struct catalog_out *out,
               struct app_err *err) __attribute__((warn_unused_result));

/*
 * The export of the sales list q (services/export.h): its filters and order (newest first),
 * every row when q->limit is -1; the columns of the list's sales (no lines).
 */
struct export_def;
void sales_export(struct catalog *c, const struct sale_query *q, struct export_def *def);

/*
 * Confirms a draft, with an optional payment (pay may be NULL). ERR_CONFLICT "invalid_state"
 * unless a draft, "insufficient_stock" naming the product (field "items") when a line cannot be
 * served; a payment above the total is ERR_INVALID and nothing changes.
 */
int sales_confirm(struct catalog *c, int64_t id, const struct payment_in *pay,
                  struct catalog_out *out, struct app_err *err) __attribute__((warn_unused_result));

/* Cancels a draft, or a confirmed sale without payments (its stock comes back). ERR_CONFLICT
 * "has_returns" for a sale with returns (checked first), "has_payments" for one with payments. */
int sales_cancel(struct catalog *c, int64_t id, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

#endif
