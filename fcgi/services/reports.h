/*
 * reports: the sales report of SPEC §12 for one tenant, read from the per-day, per-product
 * summary report_daily (sql/016) so that a miss reads at most days x products rows however
 * many sales the tenant has, and cached (module reports, key
 * sales:{group}:{from}:{to}:{limit}:{offset}).
 */
#ifndef STOCK_SERVICES_REPORTS_H
#define STOCK_SERVICES_REPORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "services/catalog.h"

enum report_group { REPORT_PRODUCT = 0, REPORT_CATEGORY, REPORT_DAY, REPORT_WEEK, REPORT_MONTH };

#define REPORTS_MAX_DAILY_DAYS 366
#define REPORTS_MAX_DAYS       3660
#define REPORTS_LIMIT_MAX      1000
#define REPORTS_LIMIT_DEFAULT  50

struct report_query {
    const char *from, *to; /* YYYY-MM-DD, validated by reports_sales_rows / reports_sales */
    enum report_group group;
    int64_t limit;  /* 1..REPORTS_LIMIT_MAX; 0: every row (reports_sales_rows only) */
    int64_t offset; /* >= 0 */
};

/*
 * The figures of a row or of the totals, in exact units: quantity in thousandths, money in
 * cents. margin = sales - returns - cost (cost is the cost of what was kept: sold minus
 * returned). estimated: how many lines with an estimated cost (sql/016) went in.
 */
struct report_sums {
    int64_t qty_milli, sales, returns, cost, estimated;
};

/* One row. Its key: product (id, sku, name), category (id, name; has_id false for the
 * products without one: name NULL), or a period's first day (day, days since 1970-01-01). */
struct report_row {
    int64_t id;
    bool has_id;
    const char *sku, *name; /* the arena's; NULL where the group has none */
    long day;
    struct report_sums sums;
};

/* Called for each row of the page, in order; a non-zero return stops the walk and is returned. */
typedef int (*report_row_fn)(void *ctx, const struct report_row *row, struct app_err *err);

/* "product", "category", "day", "week", "month" (NULL: product); -1 otherwise. */
int reports_group_parse(const char *s, enum report_group *out);
const char *reports_group_name(enum report_group g);

/* The cache key of a report (module reports), in the arena; q need not be validated. */
const char *reports_sales_key(struct arena *a, const struct report_query *q);

/*
 * The rows of q for c's tenant, from the database (not cached): validates q (ERR_INVALID
 * naming from or to: a bad date, from after to, a span over REPORTS_MAX_DAYS, or over
 * REPORTS_MAX_DAILY_DAYS for group day), then calls fn for each row of the page
 * [offset, offset + limit) (every row when limit is 0), in the report's order: products and
 * categories by sales_total descending then id (the products without a category last), periods
 * in time order with a zero row for every period of the range without sales. *count receives
 * the number of rows of the whole report and *totals their sums. A confirmed sale counts on its
 * confirmation day, a return on its own day (the tenant's time zone). For a writer of any
 * format (the JSON below; a CSV one).
 */
int reports_sales_rows(struct catalog *c, const struct report_query *q, report_row_fn fn, void *ctx,
                       int64_t *count, struct report_sums *totals, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * The report as JSON, cached (module reports): {"from", "to", "group", "items": [{"key": {...},
 * "quantity", "sales_total", "returns_total", "cost_total", "margin", "cost_estimated"}],
 * "total", "limit", "offset", "totals": {the same figures over every row}}. Validation as
 * reports_sales_rows (limit must be 1..REPORTS_LIMIT_MAX here).
 */
int reports_sales(struct catalog *c, const struct report_query *q, struct catalog_out *out,
                  struct app_err *err) __attribute__((warn_unused_result));

#endif
