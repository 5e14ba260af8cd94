/*
 * reports: the sales report from the summaries of sql/016. PostgreSQL sums per product or
 * category the range's whole months (report_monthly) and its edge days (report_daily), or reads
 * the per-day totals (report_days); the periods, their zeros, the page and the totals are made
 * here, and the rows go to a callback so that any writer (JSON, CSV) shares them.
 */
#include "services/reports.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/dec.h"
#include "core/jsonx.h"

static const char *const group_names[] = {"product", "category", "day", "week", "month"};

int reports_group_parse(const char *s, enum report_group *out)
{
    size_t i;

    if (!s) {
        *out = REPORT_PRODUCT;
        return 0;
    }
    for (i = 0; i < sizeof(group_names) / sizeof(group_names[0]); i++) {
        if (!strcmp(s, group_names[i])) {
            *out = (enum report_group)i;
            return 0;
        }
    }
    return -1;
}

const char *reports_group_name(enum report_group g)
{
    return group_names[g <= REPORT_MONTH ? g : REPORT_PRODUCT];
}

const char *reports_sales_key(struct arena *a, const struct report_query *q)
{
    return arena_sprintf(a, "sales:%s:%s:%s:%" PRId64 ":%" PRId64, reports_group_name(q->group),
                         q->from ? q->from : "", q->to ? q->to : "", q->limit, q->offset);
}

static int validate(const struct report_query *q, long *from, long *to, struct app_err *err)
{
    if (date_parse(q->from, from))
        return err_set_full(err, ERR_INVALID, "invalid_date", "from",
                            "'from' must be a date YYYY-MM-DD");
    if (date_parse(q->to, to))
        return err_set_full(err, ERR_INVALID, "invalid_date", "to",
                            "'to' must be a date YYYY-MM-DD");
    if (*from > *to)
        return err_set_full(err, ERR_INVALID, "invalid_range", "from",
                            "'from' must not be after 'to'");
    if (q->group == REPORT_DAY && *to - *from + 1 > REPORTS_MAX_DAILY_DAYS)
        return err_set_full(err, ERR_INVALID, "range_too_long", "to",
                            "a report by day spans at most %d days", REPORTS_MAX_DAILY_DAYS);
    if (*to - *from + 1 > REPORTS_MAX_DAYS)
        return err_set_full(err, ERR_INVALID, "range_too_long", "to",
                            "a report spans at most %d days", REPORTS_MAX_DAYS);
    if (q->limit < 0 || q->limit > REPORTS_LIMIT_MAX)
        return err_set_full(err, ERR_INVALID, "out_of_range", "limit",
                            "'limit' must be between 1 and %d", REPORTS_LIMIT_MAX);
    if (q->offset < 0)
        return err_set_full(err, ERR_INVALID, "out_of_range", "offset",
                            "'offset' must not be negative");
    return 0;
}

static void sums_add(struct report_sums *t, const struct report_sums *s)
{
    t->qty_milli += s->qty_milli;
    t->sales += s->sales;
    t->returns += s->returns;
    t->cost += s->cost;
    t->estimated += s->estimated;
}

/* The five sums of a result row, from column col on (bigint text). */
static void sums_of(const PGresult *res, int row, int col, struct report_sums *s)
{
    s->qty_milli = strtoll(PQgetvalue(res, row, col), NULL, 10);
    s->sales = strtoll(PQgetvalue(res, row, col + 1), NULL, 10);
    s->returns = strtoll(PQgetvalue(res, row, col + 2), NULL, 10);
    s->cost = strtoll(PQgetvalue(res, row, col + 3), NULL, 10);
    s->estimated = strtoll(PQgetvalue(res, row, col + 4), NULL, 10);
}

/* In the page [offset, offset + limit) of q (limit 0: everything from offset)? */
static bool in_page(const struct report_query *q, int64_t i)
{
    return i >= q->offset && (q->limit == 0 || i - q->offset < q->limit);
}

#define SUMS                                                                                       \
    "sum(qty_milli)::bigint AS q, sum(sales_cents)::bigint AS s, "                                 \
    "sum(returns_cents)::bigint AS r, sum(cost_cents)::bigint AS c, sum(estimated)::bigint AS e"
#define COLS "product_id, qty_milli, sales_cents, returns_cents, cost_cents, estimated"
/*
 * The per-product sums of [$2, $3]: the whole months of the range from report_monthly, the days
 * before the first whole month and after the last one from report_daily (sql/016). b: fs, the
 * first day of the first whole month, and fe, the day after the last whole month (both $3 + 1
 * when the range holds no whole month, so that report_daily alone covers it).
 */
#define PER_PRODUCT                                                                                \
    "WITH b0 AS (SELECT CASE WHEN $2::date = date_trunc('month', $2::date)::date THEN $2::date "   \
    "ELSE (date_trunc('month', $2::date) + interval '1 month')::date END AS fs, "                  \
    "date_trunc('month', $3::date + 1)::date AS fe), "                                             \
    "b AS (SELECT CASE WHEN fs < fe THEN fs ELSE $3::date + 1 END AS fs, "                         \
    "CASE WHEN fs < fe THEN fe ELSE $3::date + 1 END AS fe FROM b0), "                             \
    "r AS (SELECT product_id, " SUMS " FROM ("                                                     \
    "SELECT " COLS " FROM report_monthly WHERE tenant_id = $1 "                                    \
    "AND month >= (SELECT fs FROM b) AND month < (SELECT fe FROM b) "                              \
    "UNION ALL SELECT " COLS " FROM report_daily WHERE tenant_id = $1 AND day >= $2::date "        \
    "AND day < (SELECT fs FROM b) "                                                                \
    "UNION ALL SELECT " COLS " FROM report_daily WHERE tenant_id = $1 "                            \
    "AND day >= (SELECT fe FROM b) AND day <= $3::date) x GROUP BY product_id) "

/* Products or categories: the SQL sorts, the page and the totals are counted here. */
static int keyed_rows(struct catalog *c, const struct report_query *q, const char *const *params,
                      report_row_fn fn, void *ctx, int64_t *count, struct report_sums *totals,
                      struct app_err *err)
{
    static const char product_sql[] =
        PER_PRODUCT "SELECT p.id, p.sku, p.name, r.q, r.s, r.r, r.c, r.e FROM r "
                    "JOIN products p ON p.tenant_id = $1 AND p.id = r.product_id "
                    "ORDER BY r.s DESC, p.id";
    static const char category_sql[] =
        PER_PRODUCT "SELECT k.id, NULL, k.name, sum(r.q)::bigint AS q, sum(r.s)::bigint AS s, "
                    "sum(r.r)::bigint, sum(r.c)::bigint, sum(r.e)::bigint FROM r "
                    "JOIN products p ON p.tenant_id = $1 AND p.id = r.product_id "
                    "LEFT JOIN categories k ON k.tenant_id = $1 AND k.id = p.category_id "
                    "GROUP BY k.id, k.name ORDER BY s DESC, k.id NULLS LAST";
    PGresult *res;
    int i, n;

    if (q->group == REPORT_PRODUCT)
        res = db_exec(c->db, c->a, product_sql, 3, params, err);
    else
        res = db_exec(c->db, c->a, category_sql, 3, params, err);
    if (!res)
        return -1;
    n = PQntuples(res);
    for (i = 0; i < n; i++) {
        struct report_row row;

        memset(&row, 0, sizeof(row));
        row.has_id = !PQgetisnull(res, i, 0);
        row.id = row.has_id ? strtoll(PQgetvalue(res, i, 0), NULL, 10) : 0;
        row.sku = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
        row.name = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
        sums_of(res, i, 3, &row.sums);
        sums_add(totals, &row.sums);
        if (in_page(q, i)) {
            int rc = fn(ctx, &row, err);

            if (rc)
                return rc;
        }
    }
    *count = n;
    return 0;
}

/* The first day of the period holding day (weeks start on Monday). */
static long period_start(long day, enum report_group g)
{
    if (g == REPORT_WEEK)
        return date_week_start(day);
    if (g == REPORT_MONTH)
        return date_month_start(day);
    return day;
}

/* Days, weeks or months: one row per period of the range, zeros included (as the balance). */
static int period_rows(struct catalog *c, const struct report_query *q, const char *const *params,
                       long from, long to, report_row_fn fn, void *ctx, int64_t *count,
                       struct report_sums *totals, struct app_err *err)
{
    static const char sql[] =
        "SELECT day - date '1970-01-01', qty_milli, sales_cents, returns_cents, cost_cents, "
        "estimated FROM report_days WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date "
        "ORDER BY day";
    PGresult *res = db_exec(c->db, c->a, sql, 3, params, err);
    int row = 0, rows;
    int64_t i = 0;
    long p;

    if (!res)
        return -1;
    rows = PQntuples(res);
    for (p = period_start(from, q->group); p <= to; i++) {
        struct report_row r;
        long next = q->group == REPORT_MONTH  ? date_next_month(p)
                    : q->group == REPORT_WEEK ? p + 7
                                              : p + 1;

        memset(&r, 0, sizeof(r));
        r.day = p;
        /* the summary days of this period (they come in day order) */
        while (row < rows && strtol(PQgetvalue(res, row, 0), NULL, 10) < next) {
            struct report_sums s;

            sums_of(res, row, 1, &s);
            sums_add(&r.sums, &s);
            row++;
        }
        sums_add(totals, &r.sums);
        if (in_page(q, i)) {
            int rc = fn(ctx, &r, err);

            if (rc)
                return rc;
        }
        p = next;
    }
    *count = i;
    return 0;
}

int reports_sales_rows(struct catalog *c, const struct report_query *q, report_row_fn fn, void *ctx,
                       int64_t *count, struct report_sums *totals, struct app_err *err)
{
    const char *params[3];
    long from, to;

    *count = 0;
    memset(totals, 0, sizeof(*totals));
    if (validate(q, &from, &to, err))
        return -1;
    params[0] = arena_sprintf(c->a, "%" PRId64, c->tenant);
    params[1] = q->from;
    params[2] = q->to;
    if (q->group == REPORT_PRODUCT || q->group == REPORT_CATEGORY)
        return keyed_rows(c, q, params, fn, ctx, count, totals, err);
    return period_rows(c, q, params, from, to, fn, ctx, count, totals, err);
}

/* ---- JSON ---- */

static json_object *money(int64_t cents)
{
    char tmp[32];

    dec_format(cents, DEC_MONEY_SCALE, tmp, sizeof(tmp));
    return json_object_new_string(tmp);
}

/* The figures of a row or of the totals into o. */
static void sums_json(json_object *o, const struct report_sums *s)
{
    char tmp[32];

    dec_format(s->qty_milli, DEC_QTY_SCALE, tmp, sizeof(tmp));
    json_object_object_add(o, "quantity", json_object_new_string(tmp));
    json_object_object_add(o, "sales_total", money(s->sales));
    json_object_object_add(o, "returns_total", money(s->returns));
    json_object_object_add(o, "cost_total", money(s->cost));
    json_object_object_add(o, "margin", money(s->sales - s->returns - s->cost));
    json_object_object_add(o, "cost_estimated", json_object_new_boolean(s->estimated != 0));
}

struct json_walk {
    enum report_group group;
    json_object *items;
};

static int row_json(void *ctx, const struct report_row *row, struct app_err *err)
{
    struct json_walk *w = ctx;
    json_object *o = json_object_new_object(), *key = json_object_new_object(), *k = NULL;
    char day[DATE_SIZE];

    (void)err;
    switch (w->group) {
    case REPORT_PRODUCT:
        k = json_object_new_object();
        json_object_object_add(k, "id", json_object_new_int64(row->id));
        json_object_object_add(k, "sku", json_object_new_string(row->sku ? row->sku : ""));
        json_object_object_add(k, "name", json_object_new_string(row->name ? row->name : ""));
        json_object_object_add(key, "product", k);
        break;
    case REPORT_CATEGORY:
        if (row->has_id) {
            k = json_object_new_object();
            json_object_object_add(k, "id", json_object_new_int64(row->id));
            json_object_object_add(k, "name", json_object_new_string(row->name ? row->name : ""));
        }
        json_object_object_add(key, "category", k);
        break;
    case REPORT_DAY:
    case REPORT_WEEK:
    case REPORT_MONTH:
        date_format(row->day, day, sizeof(day));
        json_object_object_add(key, "period", json_object_new_string(day));
        break;
    }
    json_object_object_add(o, "key", key);
    sums_json(o, &row->sums);
    json_object_array_add(w->items, o);
    return 0;
}

struct report_load {
    struct catalog *c;
    const struct report_query *q;
};

static int load_report(void *ctx, struct arena *a, struct buf *out, bool *found,
                       struct app_err *err)
{
    struct report_load *l = ctx;
    json_object *root = jsonx_own(a, json_object_new_object()), *totals;
    struct json_walk w = {l->q->group, json_object_new_array()};
    struct report_sums sums;
    int64_t count;
    const char *text;
    size_t len;

    json_object_object_add(root, "from", json_object_new_string(l->q->from));
    json_object_object_add(root, "to", json_object_new_string(l->q->to));
    json_object_object_add(root, "group", json_object_new_string(reports_group_name(l->q->group)));
    json_object_object_add(root, "items", w.items);
    if (reports_sales_rows(l->c, l->q, row_json, &w, &count, &sums, err))
        return -1;
    json_object_object_add(root, "total", json_object_new_int64(count));
    json_object_object_add(root, "limit", json_object_new_int64(l->q->limit));
    json_object_object_add(root, "offset", json_object_new_int64(l->q->offset));
    totals = json_object_new_object();
    sums_json(totals, &sums);
    json_object_object_add(root, "totals", totals);
    text = jsonx_text(root, &len);
    buf_add(out, text, len);
    *found = true;
    return 0;
}

int reports_sales(struct catalog *c, const struct report_query *q, struct catalog_out *out,
                  struct app_err *err)
{
    struct report_load l = {c, q};
    long from, to;

    if (validate(q, &from, &to, err))
        return -1;
    if (q->limit < 1)
        return err_set_full(err, ERR_INVALID, "out_of_range", "limit",
                            "'limit' must be between 1 and %d", REPORTS_LIMIT_MAX);
    return catalog_read(c, "reports", reports_sales_key(c->a, q), load_report, &l, "report", out,
                        err);
}
