/*
 * balance: the series, from balance_daily: PostgreSQL reads what was owed before `from` and the
 * (at most one per day) summary rows of the range; the periods, the zeros, the running
 * outstanding and the totals are computed here.
 */
#include "services/balance.h"

#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/dec.h"

int balance_granularity_parse(const char *s, enum balance_granularity *out)
{
    if (!s || !strcmp(s, "daily"))
        *out = GRAN_DAILY;
    else if (!strcmp(s, "weekly"))
        *out = GRAN_WEEKLY;
    else if (!strcmp(s, "monthly"))
        *out = GRAN_MONTHLY;
    else
        return -1;
    return 0;
}

static const char *gran_name(enum balance_granularity g)
{
    static const char *const n[] = {"daily", "weekly", "monthly"};

    return n[g <= GRAN_MONTHLY ? g : GRAN_DAILY];
}

const char *balance_cache_key(struct arena *a, const struct balance_query *q)
{
    return arena_sprintf(a, "series:%s:%s:%s:%s", gran_name(q->granularity), q->from ? q->from : "",
                         q->to ? q->to : "", payments_method_name(q->method));
}

/* The first day of the period holding day (weeks start on Monday). */
static long period_start(long day, enum balance_granularity g)
{
    switch (g) {
    case GRAN_WEEKLY:
        return date_week_start(day);
    case GRAN_MONTHLY:
        return date_month_start(day);
    case GRAN_DAILY:
        break;
    }
    return day;
}

static void add_money(struct buf *b, const char *name, int64_t cents)
{
    char tmp[32];

    dec_format(cents, DEC_MONEY_SCALE, tmp, sizeof(tmp));
    buf_addf(b, "\"%s\":\"%s\"", name, tmp);
}

/* The money fields of a point and of the totals, then the closing brace. */
static void add_sums(struct buf *b, int64_t sales, int64_t returns, int64_t paid,
                     int64_t outstanding)
{
    add_money(b, "sales_total", sales);
    buf_addch(b, ',');
    add_money(b, "returns_total", returns);
    buf_addch(b, ',');
    add_money(b, "payments_total", paid);
    buf_addch(b, ',');
    add_money(b, "outstanding", outstanding);
    buf_addch(b, '}');
}

struct series_load {
    struct catalog *c;
    const struct balance_query *q;
    long from, to;
};

/*
 * The loader of a series: one statement reads what was owed before `from` and the summary rows
 * of the asked days (at most one per day), and the periods, zeros, running outstanding and
 * totals are computed here. The JSON is written with buf_addf because every value in it is a
 * date or a number we format ourselves and every name comes from a fixed table: nothing from
 * the client or the database needs escaping.
 */
static int load_series(void *ctx, struct arena *a, struct buf *out, bool *found,
                       struct app_err *err)
{
    /* What was owed before `from`: the earlier months (balance_monthly, sql/005), then the
     * earlier days of from's month. */
    static const char sql[] =
        "SELECT NULL::int, 0::bigint, (coalesce((SELECT sum(owed_cents) FROM balance_monthly "
        "WHERE tenant_id = $1 AND month < date_trunc('month', $2::date::timestamp)::date), 0) + "
        "coalesce((SELECT sum(sales_cents - returns_cents - cash_cents - card_cents - transfer_cents) "
        "FROM balance_daily WHERE tenant_id = $1 "
        "AND day >= date_trunc('month', $2::date::timestamp)::date AND day < $2::date), 0))"
        "::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint "
        "UNION ALL (SELECT day - date '1970-01-01', sales_count, sales_cents, cash_cents, "
        "card_cents, transfer_cents, returns_cents FROM balance_daily "
        "WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day)";
    struct series_load *l = ctx;
    const struct balance_query *q = l->q;
    const char *params[3] = {arena_sprintf(a, "%" PRId64, l->c->tenant), q->from, q->to};
    PGresult *res = db_exec(l->c->db, a, sql, 3, params, err);
    int64_t outstanding = 0, tot_count = 0, tot_sales = 0, tot_returns = 0, tot_paid = 0;
    int row = 1, rows;
    long p;
    bool first = true;

    if (!res)
        return -1;
    rows = PQntuples(res);
    if (rows < 1)
        return err_set(err, ERR_INTERNAL, "internal error");
    outstanding = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    buf_addf(out,
             "{\"from\":\"%s\",\"to\":\"%s\",\"granularity\":\"%s\",\"method\":\"%s\","
             "\"points\":[",
             q->from, q->to, gran_name(q->granularity), payments_method_name(q->method));
    for (p = period_start(l->from, q->granularity); p <= l->to;) {
        long next;
        char period[DATE_SIZE];
        int64_t count = 0, sales = 0, returns = 0, paid = 0;

        if (q->granularity == GRAN_MONTHLY)
            next = date_next_month(p);
        else
            next = p + (q->granularity == GRAN_WEEKLY ? 7 : 1);
        /* the summary rows of this period (they come in day order) */
        while (row < rows && strtol(PQgetvalue(res, row, 0), NULL, 10) < next) {
            int64_t st = strtoll(PQgetvalue(res, row, 2), NULL, 10);
            int64_t cash = strtoll(PQgetvalue(res, row, 3), NULL, 10);
            int64_t card = strtoll(PQgetvalue(res, row, 4), NULL, 10);
            int64_t transfer = strtoll(PQgetvalue(res, row, 5), NULL, 10);
            int64_t rt = strtoll(PQgetvalue(res, row, 6), NULL, 10);
            int64_t pm;

            pm = q->method == PAY_CASH       ? cash
                 : q->method == PAY_CARD     ? card
                 : q->method == PAY_TRANSFER ? transfer
                                             : cash + card + transfer;
            count += strtoll(PQgetvalue(res, row, 1), NULL, 10);
            sales += st;
            returns += rt;
            paid += pm;
            /* outstanding counts every payment (refunds are negative ones), whatever the method
             * filter, and every return */
            outstanding += st - rt - cash - card - transfer;
            row++;
        }
        date_format(p, period, sizeof(period));
        buf_addf(out, "%s{\"period\":\"%s\",\"sales_count\":%" PRId64 ",", first ? "" : ",", period,
                 count);
        add_sums(out, sales, returns, paid, outstanding);
        tot_count += count;
        tot_sales += sales;
        tot_returns += returns;
        tot_paid += paid;
        first = false;
        p = next;
    }
    buf_addf(out, "],\"totals\":{\"sales_count\":%" PRId64 ",", tot_count);
    add_sums(out, tot_sales, tot_returns, tot_paid, outstanding);
    buf_addch(out, '}');
    *found = true;
    return 0;
}

int balance_series(struct catalog *c, const struct balance_query *q, struct catalog_out *out,
                   struct app_err *err)
{
    struct series_load l = {c, q, 0, 0};

    if (date_parse(q->from, &l.from))
        return err_set_full(err, ERR_INVALID, "invalid_date", "from",
                            "'from' must be a date YYYY-MM-DD");
    if (date_parse(q->to, &l.to))
        return err_set_full(err, ERR_INVALID, "invalid_date", "to",
                            "'to' must be a date YYYY-MM-DD");
    if (l.from > l.to)
        return err_set_full(err, ERR_INVALID, "invalid_range", "from",
                            "'from' must not be after 'to'");
    if (q->granularity == GRAN_DAILY && l.to - l.from + 1 > BALANCE_MAX_DAILY_DAYS)
        return err_set_full(err, ERR_INVALID, "range_too_long", "to",
                            "a daily series spans at most %d days", BALANCE_MAX_DAILY_DAYS);
    if (l.to - l.from + 1 > BALANCE_MAX_DAYS)
        return err_set_full(err, ERR_INVALID, "range_too_long", "to",
                            "a series spans at most %d days", BALANCE_MAX_DAYS);
    return catalog_read(c, "balance", balance_cache_key(c->a, q), load_series, &l, "series", out,
                        err);
}
