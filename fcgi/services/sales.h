/*
 * sales: drafts, confirmation and cancellation of one tenant's sales, and payments against
 * them. Confirmation takes the stock of every line or none, in one transaction that also
 * writes the movement ledger and the day's balance summary; concurrent confirmations never
 * drive stock below zero (rows are locked in id order, and the stock check is re-read under
 * the lock). Payments never exceed what a confirmed sale still owes, also under concurrency
 * (the sale row is locked), and a repeated Idempotency-Key answers the first result again.
 * After the commit, confirm/cancel invalidate the balance and products modules, a payment the
 * balance module. JSON bodies are rendered by PostgreSQL; results live in the arena.
 */
#ifndef STOCK_SERVICES_SALES_H
#define STOCK_SERVICES_SALES_H

#include <stdbool.h>
#include <stdint.h>

#include "services/catalog.h"

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

enum payment_method { PAY_ANY = 0, PAY_CASH, PAY_CARD, PAY_TRANSFER };

struct payment_in {
    int64_t sale_id;
    int64_t amount; /* cents, > 0 */
    enum payment_method method;
    const char *paid_at;   /* ISO 8601 or NULL = now */
    const char *reference; /* may be NULL */
};

struct sale_query {
    const char *status;    /* NULL = any */
    const char *from, *to; /* YYYY-MM-DD (creation day in the tenant's zone) or NULL */
    int64_t limit, offset;
};

struct payment_query {
    int64_t sale_id; /* -1 = any */
    const char *from, *to;
    enum payment_method method;
    int64_t limit, offset;
};

/* "cash", "card", "transfer" (and "all" for PAY_ANY); -1 when s is none of them. */
int sales_method_parse(const char *s, bool allow_all, enum payment_method *out);
const char *sales_method_name(enum payment_method m);

/* A new draft; unknown products are ERR_INVALID naming "items[i].product_id". */
int sales_create(struct catalog *c, const struct sale_in *in, struct catalog_out *out,
                 struct app_err *err) __attribute__((warn_unused_result));

int sales_get(struct catalog *c, int64_t id, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));
int sales_list(struct catalog *c, const struct sale_query *q, struct catalog_out *out,
               struct app_err *err) __attribute__((warn_unused_result));

/*
 * Confirms a draft, with an optional payment (pay may be NULL). ERR_CONFLICT "invalid_state"
 * unless a draft, "insufficient_stock" naming the product (field "items") when a line cannot be
 * served; a payment above the total is ERR_INVALID and nothing changes.
 */
int sales_confirm(struct catalog *c, int64_t id, const struct payment_in *pay,
                  struct catalog_out *out, struct app_err *err) __attribute__((warn_unused_result));

/* Cancels a draft, or a confirmed sale without payments (its stock comes back). */
int sales_cancel(struct catalog *c, int64_t id, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Registers a payment. idem_key (NULL = none) makes retries safe: the same key and body
 * answer the first result (*status and out) again without recording anything; the same key
 * with another body is ERR_INVALID "idempotency_mismatch".
 */
int payments_create(struct catalog *c, const struct payment_in *in, const char *idem_key,
                    int *status, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));
int payments_list(struct catalog *c, const struct payment_query *q, struct catalog_out *out,
                  struct app_err *err) __attribute__((warn_unused_result));

#endif
