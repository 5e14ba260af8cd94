/*
 * movements: the stock ledger of one tenant (SPEC §10). A movement posted by a user (receipt,
 * loss, damage, adjustment, count) goes through stock_move() (sql/009), which locks the
 * product row, so it is atomic with concurrent sales and never takes stock below zero. The
 * list shows every movement, those written by sales, cancellations, returns and opening stock
 * included, and is cached (module movements, invalidated by sql/009's triggers on every
 * ledger write). Every function takes the tenant of the session; results live in the arena.
 */
#ifndef STOCK_SERVICES_MOVEMENTS_H
#define STOCK_SERVICES_MOVEMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "services/catalog.h"

struct movement_in {
    int64_t product_id;
    const char *kind;  /* receipt, loss, damage, adjustment or count (movements_kind_postable) */
    int64_t quantity;  /* thousandths: > 0 (receipt, loss, damage), != 0 (adjustment), >= 0
                          (count: the counted stock) */
    int64_t unit_cost; /* cents, -1 = none */
    const char *note, *reference; /* NULL = none */
};

struct movement_query {
    int64_t product_id;    /* -1 = any */
    const char *kind;      /* NULL = any */
    const char *from, *to; /* YYYY-MM-DD (the day in the tenant's zone) or NULL */
    int64_t limit, offset;
};

/* True for a kind of the ledger (sql/009's check); postable: one a user may POST. */
bool movements_kind_valid(const char *kind, bool postable);

/* The cache key of a list query (module movements), in the arena. */
const char *movements_list_key(struct arena *a, const struct movement_query *q);

/*
 * Records a movement by the session's user (c->user). ERR_INVALID "invalid_reference"
 * (product_id) for a product the tenant does not have, ERR_CONFLICT "insufficient_stock"
 * naming the product when the stock would go below zero. idem_key (NULL = none): the same key
 * and body answer the first result again (*status and out) without recording anything; another
 * body is ERR_INVALID "idempotency_mismatch". *status is 201 for a new movement; out holds its
 * JSON. Invalidates after the commit.
 */
int movements_create(struct catalog *c, const struct movement_in *in, const char *idem_key,
                     int *status, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * The export of the movements list q (services/export.h): its filters and order (newest
 * first), every row when q->limit is -1.
 */
struct export_def;
void movements_export(struct catalog *c, const struct movement_query *q, struct export_def *def);

/* {"items": [...], "total": N, "limit": L, "offset": O}, newest (highest id) first; cached. */
int movements_list(struct catalog *c, const struct movement_query *q, struct catalog_out *out,
                   struct app_err *err) __attribute__((warn_unused_result));

#endif
