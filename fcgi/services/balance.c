/*
 * balance: the series, computed by PostgreSQL from balance_daily: the rows of the asked days
 * are grouped by period, zero-filled against generate_series, and outstanding is the sum of
 * everything before `from` plus a running sum over the periods.
 */
#include "services/balance.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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

/* Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

int balance_date_parse(const char *s, long *days)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long y;
    unsigned m, d, max;
    int i;

    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return -1;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return -1;
    max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    if (d > max)
        return -1;
    *days = days_from_civil(y, m, d);
    return 0;
}

const char *balance_cache_key(struct arena *a, const struct balance_query *q)
{
    return arena_sprintf(a, "series:%s:%s:%s:%s", gran_name(q->granularity), q->from ? q->from : "",
                         q->to ? q->to : "", sales_method_name(q->method));
}

int balance_series(struct catalog *c, const struct balance_query *q, struct catalog_out *out,
                   struct app_err *err)
{
    static const char sql[] =
        "WITH d AS (SELECT date_trunc($4, day)::date AS start, sum(sales_count) AS sc, "
        "sum(sales_total) AS st, "
        "sum(CASE $5 WHEN 'cash' THEN paid_cash WHEN 'card' THEN paid_card "
        "WHEN 'transfer' THEN paid_transfer ELSE paid_cash + paid_card + paid_transfer END) AS pm, "
        "sum(sales_total - paid_cash - paid_card - paid_transfer) AS net "
        "FROM balance_daily WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date "
        "GROUP BY 1), "
        "base AS (SELECT coalesce(sum(sales_total - paid_cash - paid_card - paid_transfer), 0) "
        "AS o FROM balance_daily WHERE tenant_id = $1 AND day < $2::date), "
        "p AS (SELECT g::date AS start FROM generate_series(date_trunc($4, $2::date), $3::date, "
        "('1 ' || CASE $4 WHEN 'day' THEN 'day' WHEN 'week' THEN 'week' ELSE 'month' END)"
        "::interval) g), "
        "r AS (SELECT p.start, coalesce(d.sc, 0) AS sc, coalesce(d.st, 0) AS st, "
        "coalesce(d.pm, 0) AS pm, (SELECT o FROM base) + sum(coalesce(d.net, 0)) "
        "OVER (ORDER BY p.start) AS outstanding FROM p LEFT JOIN d ON d.start = p.start) "
        "SELECT json_build_object('from', $2::date, 'to', $3::date, 'granularity', $6::text, "
        "'method', $7::text, 'points', coalesce(json_agg(json_build_object('period', r.start, "
        "'sales_count', r.sc, 'sales_total', r.st::numeric(18, 2)::text, "
        "'payments_total', r.pm::numeric(18, 2)::text, "
        "'outstanding', r.outstanding::numeric(18, 2)::text) ORDER BY r.start), '[]'::json), "
        "'totals', json_build_object('sales_count', coalesce(sum(r.sc), 0), "
        "'sales_total', coalesce(sum(r.st), 0)::numeric(18, 2)::text, "
        "'payments_total', coalesce(sum(r.pm), 0)::numeric(18, 2)::text, "
        "'outstanding', coalesce((array_agg(r.outstanding ORDER BY r.start DESC))[1], "
        "(SELECT o FROM base))::numeric(18, 2)::text))::text FROM r";
    static const char *const trunc[] = {"day", "week", "month"};
    long f, t;
    const char *params[7];

    if (balance_date_parse(q->from, &f))
        return err_set_full(err, ERR_INVALID, "invalid_date", "from",
                            "'from' must be a date YYYY-MM-DD");
    if (balance_date_parse(q->to, &t))
        return err_set_full(err, ERR_INVALID, "invalid_date", "to",
                            "'to' must be a date YYYY-MM-DD");
    if (f > t)
        return err_set_full(err, ERR_INVALID, "invalid_range", "from",
                            "'from' must not be after 'to'");
    if (q->granularity == GRAN_DAILY && t - f + 1 > BALANCE_MAX_DAILY_DAYS)
        return err_set_full(err, ERR_INVALID, "range_too_long", "to",
                            "a daily series spans at most %d days", BALANCE_MAX_DAILY_DAYS);
    if (t - f + 1 > BALANCE_MAX_DAYS)
        return err_set_full(err, ERR_INVALID, "range_too_long", "to",
                            "a series spans at most %d days", BALANCE_MAX_DAYS);
    params[0] = arena_sprintf(c->a, "%lld", (long long)c->tenant);
    params[1] = q->from;
    params[2] = q->to;
    params[3] = trunc[q->granularity];
    params[4] = sales_method_name(q->method);
    params[5] = gran_name(q->granularity);
    params[6] = sales_method_name(q->method);
    return catalog_read_json(c, "balance", balance_cache_key(c->a, q), sql, 7, params, "series",
                             out, err);
}
