/*
 * balance: the sales/payments series of SPEC §5 for one tenant, read from the per-day summary
 * (balance_daily) so a miss costs one short index range scan however long the tenant's
 * history, and cached (module balance, key series:{granularity}:{from}:{to}:{method}).
 */
#ifndef STOCK_SERVICES_BALANCE_H
#define STOCK_SERVICES_BALANCE_H

#include "services/catalog.h"
#include "services/payments.h"

enum balance_granularity { GRAN_DAILY = 0, GRAN_WEEKLY, GRAN_MONTHLY };

#define BALANCE_MAX_DAILY_DAYS 366
#define BALANCE_MAX_DAYS       3660

struct balance_query {
    const char *from, *to; /* validated YYYY-MM-DD */
    enum balance_granularity granularity;
    enum payment_method method;
};

/* "daily", "weekly", "monthly"; -1 otherwise. */
int balance_granularity_parse(const char *s, enum balance_granularity *out);

/* The cache key of a series (module balance), in the arena; q need not be validated. */
const char *balance_cache_key(struct arena *a, const struct balance_query *q);

/*
 * Validates q (ERR_INVALID naming from, to or granularity: from after to, a daily span over
 * 366 days, any span over 3660 days) and returns the series JSON.
 */
int balance_series(struct catalog *c, const struct balance_query *q, struct catalog_out *out,
                   struct app_err *err) __attribute__((warn_unused_result));

#endif
