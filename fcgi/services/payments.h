/*
 * payments: payments against one tenant's confirmed sales. A payment never exceeds what the
 * sale still owes, also under concurrency (the sale row is locked), is counted on its day of
 * the tenant's zone in the balance summary, and a repeated Idempotency-Key answers the first
 * result again. After the commit a payment invalidates the balance module. JSON bodies are
 * rendered by PostgreSQL; results live in the arena.
 */
#ifndef STOCK_SERVICES_PAYMENTS_H
#define STOCK_SERVICES_PAYMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "services/catalog.h"

enum payment_method { PAY_ANY = 0, PAY_CASH, PAY_CARD, PAY_TRANSFER };

struct payment_in {
    int64_t sale_id;
    int64_t amount; /* cents, > 0 (< 0: a refund, for payments_insert only) */
    enum payment_method method;
    const char *paid_at;   /* ISO 8601 or NULL = now */
    const char *reference; /* may be NULL */
};

struct payment_query {
    int64_t sale_id;       /* -1 = any */
    const char *from, *to; /* YYYY-MM-DD (the payment's day in the tenant's zone) or NULL */
    enum payment_method method;
    int64_t limit, offset;
};

/* "cash", "card", "transfer" (and "all" for PAY_ANY); -1 when s is none of them. */
int payments_method_parse(const char *s, bool allow_all, enum payment_method *out);
/* The name of m ("all" for PAY_ANY or anything out of range); a static string. */
const char *payments_method_name(enum payment_method m);

/*
 * Registers a payment on a confirmed sale: ERR_INVALID "invalid_reference" for a sale the
 * tenant does not have, ERR_CONFLICT "invalid_state" unless confirmed, "overpayment" above what
 * it still owes. idem_key (NULL = none) makes retries safe: the same key and body answer the
 * first result (*status and out) again without recording anything; the same key with another
 * body is ERR_INVALID "idempotency_mismatch", one still running ERR_CONFLICT
 * "idempotency_in_progress". *status is 201 for a new payment.
 */
int payments_create(struct catalog *c, const struct payment_in *in, const char *idem_key,
                    int *status, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

/* {"items": [...], "total": N, "limit": L, "offset": O}, newest paid_at first; refunds too
 * ("kind": "refund", negative amount; payments have "kind": "payment"). */
int payments_list(struct catalog *c, const struct payment_query *q, struct catalog_out *out,
                  struct app_err *err) __attribute__((warn_unused_result));

/*
 * The export of the payments list q (services/export.h): its filters and order, refunds
 * included, every row when q->limit is -1.
 */
struct export_def;
void payments_export(struct catalog *c, const struct payment_query *q, struct export_def *def);

/*
 * Inside the caller's transaction, which holds the lock on the sale's row: records payment p
 * (its sale_id, amount and method are trusted; no check of what the sale owes) and adds it to
 * its day in tz (the tenant's zone) of the balance summary (amount and count of its method). A
 * negative amount is a refund (kind 'refund', services/returns): it lowers that day's amount
 * of its method and counts as one row, as GET /payments lists it. *payment_id receives the new id.
 * Neither commits nor rolls back; a paid_at PostgreSQL refuses is ERR_INVALID naming it.
 */
int payments_insert(struct catalog *c, const struct payment_in *p, const char *tz,
                    int64_t *payment_id, struct app_err *err) __attribute__((warn_unused_result));

#endif
