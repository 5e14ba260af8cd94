/*
 * balance: the series, from balance_daily: PostgreSQL reads what was owed before `from` and the
 * (at most one per day) summary rows of the range; the periods, the zeros, the running
 * outstanding and the totals are computed here.
 */
#include "services/balance.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/jsonx.h"

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

/* The civil date of a day number (days since 1970-01-01). */
static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
    long era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long)yoe + era * 400 + (*m <= 2);
}

/* The first day of the period holding day (weeks start on Monday; 1970-01-01 was a Thursday). */
static long period_start(long day, enum balance_granularity g)
{
    long y;
    unsigned m, d;

    switch (g) {
    case GRAN_WEEKLY:
        return day - ((day % 7 + 7 + 3) % 7);
    case GRAN_MONTHLY:
        civil_from_days(day, &y, &m, &d);
        return days_from_civil(y, m, 1);
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
        "coalesce((SELECT sum(sales_cents - cash_cents - card_cents - transfer_cents) "
        "FROM balance_daily WHERE tenant_id = $1 "
        "AND day >= date_trunc('month', $2::date::timestamp)::date AND day < $2::date), 0))"
        "::bigint, 0::bigint, 0::bigint, 0::bigint "
        "UNION ALL (SELECT day - date '1970-01-01', sales_count, sales_cents, cash_cents, "
        "card_cents, transfer_cents FROM balance_daily "
        "WHERE tenant_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day)";
    struct series_load *l = ctx;
    const struct balance_query *q = l->q;
    const char *params[3] = {arena_sprintf(a, "%" PRId64, l->c->tenant), q->from, q->to};
    PGresult *res = db_exec(l->c->db, a, sql, 3, params, err);
    int64_t outstanding = 0, tot_count = 0, tot_sales = 0, tot_paid = 0;
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
             q->from, q->to, gran_name(q->granularity), sales_method_name(q->method));
    for (p = period_start(l->from, q->granularity); p <= l->to;) {
        long next, y;
        unsigned m, d;
        int64_t count = 0, sales = 0, paid = 0;

        civil_from_days(p, &y, &m, &d);
        if (q->granularity == GRAN_MONTHLY)
            next = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
        else
            next = p + (q->granularity == GRAN_WEEKLY ? 7 : 1);
        /* the summary rows of this period (they come in day order) */
        while (row < rows && strtol(PQgetvalue(res, row, 0), NULL, 10) < next) {
            int64_t st = strtoll(PQgetvalue(res, row, 2), NULL, 10);
            int64_t cash = strtoll(PQgetvalue(res, row, 3), NULL, 10);
            int64_t card = strtoll(PQgetvalue(res, row, 4), NULL, 10);
            int64_t transfer = strtoll(PQgetvalue(res, row, 5), NULL, 10);
            int64_t pm;

            pm = q->method == PAY_CASH       ? cash
                 : q->method == PAY_CARD     ? card
                 : q->method == PAY_TRANSFER ? transfer
                                             : cash + card + transfer;
            count += strtoll(PQgetvalue(res, row, 1), NULL, 10);
            sales += st;
            paid += pm;
            /* outstanding counts every payment, whatever the method filter */
            outstanding += st - cash - card - transfer;
            row++;
        }
        buf_addf(out, "%s{\"period\":\"%04ld-%02u-%02u\",\"sales_count\":%" PRId64 ",",
                 first ? "" : ",", y, m, d, count);
        add_money(out, "sales_total", sales);
        buf_addch(out, ',');
        add_money(out, "payments_total", paid);
        buf_addch(out, ',');
        add_money(out, "outstanding", outstanding);
        buf_addch(out, '}');
        tot_count += count;
        tot_sales += sales;
        tot_paid += paid;
        first = false;
        p = next;
    }
    buf_addf(out, "],\"totals\":{\"sales_count\":%" PRId64 ",", tot_count);
    add_money(out, "sales_total", tot_sales);
    buf_addch(out, ',');
    add_money(out, "payments_total", tot_paid);
    buf_addch(out, ',');
    add_money(out, "outstanding", outstanding);
    buf_adds(out, "}}");
    *found = true;
    return 0;
}

int balance_series(struct catalog *c, const struct balance_query *q, struct catalog_out *out,
                   struct app_err *err)
{
    struct series_load l = {c, q, 0, 0};

    if (balance_date_parse(q->from, &l.from))
        return err_set_full(err, ERR_INVALID, "invalid_date", "from",
                            "'from' must be a date YYYY-MM-DD");
    if (balance_date_parse(q->to, &l.to))
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
