/* test_date: calendar days (leap years, months, bounds), week and month arithmetic, timestamps. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "core/date.h"
#include "unit.h"

/* The day number of s, which must parse. */
static long day_of(const char *s)
{
    long d = 0;

    CU_ASSERT_EQUAL(date_parse(s, &d), 0);
    return d;
}

static void test_date_parse_known_days(void)
{
    CU_ASSERT_EQUAL(day_of("1970-01-01"), 0);
    CU_ASSERT_EQUAL(day_of("1970-01-02"), 1);
    CU_ASSERT_EQUAL(day_of("1969-12-31"), -1);
    CU_ASSERT_EQUAL(day_of("2000-01-01"), 10957);
    CU_ASSERT_EQUAL(day_of("2000-02-29"), 11016);
    CU_ASSERT_EQUAL(day_of("1900-01-01"), -25567);
    CU_ASSERT_EQUAL(day_of("9999-12-31"), 2932896);
}

static void test_date_parse_leap_years(void)
{
    long d = 42;

    CU_ASSERT_EQUAL(date_parse("2024-02-29", &d), 0); /* divisible by 4 */
    CU_ASSERT_EQUAL(date_parse("2000-02-29", &d), 0); /* by 400 */
    CU_ASSERT_EQUAL(date_parse("2023-02-29", &d), -1);
    CU_ASSERT_EQUAL(date_parse("1900-02-29", &d), -1); /* by 100, not by 400 */
    CU_ASSERT_EQUAL(date_parse("2100-02-29", &d), -1);
    CU_ASSERT_EQUAL(date_parse("2024-02-30", &d), -1);
    CU_ASSERT_EQUAL(day_of("2024-03-01") - day_of("2024-02-28"), 2);
    CU_ASSERT_EQUAL(day_of("2023-03-01") - day_of("2023-02-28"), 1);
    CU_ASSERT_EQUAL(day_of("2001-01-01") - day_of("2000-01-01"), 366);
    CU_ASSERT_EQUAL(day_of("1901-01-01") - day_of("1900-01-01"), 365);
}

static void test_date_parse_refuses_bad_months_days_and_shapes(void)
{
    static const char *bad[] = {
        "2026-00-10", "2026-13-01",  "2026-99-01",  "2026-04-31",
        "2026-06-31", "2026-01-00",  "2026-01-32",  "2026-1-05",
        "26-01-05",   "2026/01/05",  "2026-01-5",   "20260105",
        "",           " 2026-01-05", "2026-01-05 ", "2026-01-05T00:00:00Z",
        "+026-01-05", "2026-0a-05",  "x",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long d = 42;

        CU_ASSERT_EQUAL(date_parse(bad[i], &d), -1);
        CU_ASSERT_EQUAL(d, 42); /* untouched */
    }
    CU_ASSERT_EQUAL(date_parse(NULL, NULL), -1);
}

static void test_date_parse_year_bounds(void)
{
    long d;

    CU_ASSERT_EQUAL(date_parse("1899-12-31", &d), -1);
    CU_ASSERT_EQUAL(date_parse("0000-01-01", &d), -1);
    CU_ASSERT_EQUAL(date_parse("1900-01-01", &d), 0);
    CU_ASSERT_EQUAL(date_parse("9999-12-31", &d), 0);
    CU_ASSERT_EQUAL(date_parse("10000-01-01", &d), -1);
}

static void test_date_format_round_trips(void)
{
    long first = day_of("1900-01-01"), last = day_of("9999-12-31"), d, back;
    char s[DATE_SIZE];
    int bad = 0;

    date_format(0, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "1970-01-01");
    date_format(day_of("2024-02-29"), s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "2024-02-29");
    date_format(last, s, sizeof(s));
    CU_ASSERT_STRING_EQUAL(s, "9999-12-31");
    /* every 7th day of the whole accepted range parses back to itself */
    for (d = first; d <= last; d += 7) {
        date_format(d, s, sizeof(s));
        if (date_parse(s, &back) || back != d)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_date_week_and_month_arithmetic(void)
{
    /* 1970-01-01 was a Thursday; 2026-01-05 a Monday */
    CU_ASSERT_EQUAL(date_week_start(0), day_of("1969-12-29"));
    CU_ASSERT_EQUAL(date_week_start(day_of("1969-12-28")), day_of("1969-12-22"));
    CU_ASSERT_EQUAL(date_week_start(day_of("2026-01-05")), day_of("2026-01-05"));
    CU_ASSERT_EQUAL(date_week_start(day_of("2026-01-11")), day_of("2026-01-05"));
    CU_ASSERT_EQUAL(date_week_start(day_of("2026-01-12")), day_of("2026-01-12"));
    CU_ASSERT_EQUAL(date_month_start(day_of("2024-02-29")), day_of("2024-02-01"));
    CU_ASSERT_EQUAL(date_month_start(day_of("1900-01-01")), day_of("1900-01-01"));
    CU_ASSERT_EQUAL(date_month_start(day_of("1969-12-31")), day_of("1969-12-01"));
    CU_ASSERT_EQUAL(date_next_month(day_of("2024-01-31")), day_of("2024-02-01"));
    CU_ASSERT_EQUAL(date_next_month(day_of("2024-02-01")), day_of("2024-03-01"));
    CU_ASSERT_EQUAL(date_next_month(day_of("2024-12-15")), day_of("2025-01-01"));
    CU_ASSERT_EQUAL(date_next_month(day_of("1969-12-31")), 0);
}

static void test_date_timestamp_valid(void)
{
    static const char *ok[] = {
        "2026-01-05T10:00:00Z",      "2026-01-05T10:00:00.5-03:00", "2026-01-05T10:00:00.123456Z",
        "2026-01-05T23:59:59+15:00", "1970-01-01T00:00:00Z",        "2999-12-31T23:59:59-01:30",
        "2024-02-29T12:00:00+00:00", "2026-01-05T10:00:00+05:59",
    };
    static const char *bad[] = {
        "1969-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
        "2026-02-30T10:00:00Z",
        "2023-02-29T10:00:00Z",
        "2026-13-01T10:00:00Z",
        "2026-01-05T24:00:00Z",
        "2026-01-05T10:60:00Z",
        "2026-01-05T10:00:60Z",
        "2026-01-05T10:00:00.1234567Z",
        "2026-01-05T10:00:00.Z",
        "2026-01-05T10:00:00+16:00",
        "2026-01-05T10:00:00+01:60",
        "2026-01-05T10:00:00-01:99",
        "2026-01-05T10:00:00+01:00:00",
        "2026-01-05T10:00:00+0100",
        "2026-01-05T10:00:00z",
        "2026-01-05 10:00:00Z",
        "2026-01-05T10:00:00",
        "2026-01-05T10:00Z",
        "2026-01-05",
        "2026-01-05T10:00:00ZZ",
        "yesterday",
        "",
    };
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        CU_ASSERT_TRUE(date_timestamp_valid(ok[i], 1970, 2999));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(date_timestamp_valid(bad[i], 1970, 2999));
    CU_ASSERT_FALSE(date_timestamp_valid(NULL, 1970, 2999));
    /* the years are the caller's */
    CU_ASSERT_TRUE(date_timestamp_valid("1969-12-31T23:59:59Z", 1900, 9999));
    CU_ASSERT_FALSE(date_timestamp_valid("2026-01-05T10:00:00Z", 1970, 2025));
}

int test_date_register(void)
{
    CU_pSuite s = CU_add_suite("date", NULL, NULL);

    if (!s || !CU_add_test(s, "parse known days", test_date_parse_known_days) ||
        !CU_add_test(s, "parse leap years", test_date_parse_leap_years) ||
        !CU_add_test(s, "parse refuses bad months, days and shapes",
                     test_date_parse_refuses_bad_months_days_and_shapes) ||
        !CU_add_test(s, "parse year bounds", test_date_parse_year_bounds) ||
        !CU_add_test(s, "format round trips", test_date_format_round_trips) ||
        !CU_add_test(s, "week and month arithmetic", test_date_week_and_month_arithmetic) ||
        !CU_add_test(s, "ISO 8601 timestamp check", test_date_timestamp_valid))
        return -1;
    return 0;
}
