/*
 * date: day numbers of the proleptic Gregorian calendar (Howard Hinnant's civil algorithms)
 * and the text forms of dates and timestamps, checked by shape first, then by calendar.
 */
#include "core/date.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* True when s starts with shape: 'd' stands for a digit, any other character for itself. */
static bool shape_ok(const char *s, const char *shape)
{
    /* A NUL in s never matches, so a short s stops the walk. */
    for (; *shape; s++, shape++)
        if (*shape == 'd' ? !isdigit((unsigned char)*s) : *s != *shape)
            return false;
    return true;
}

/* The value of the two digits at s. */
static unsigned two_digits(const char *s)
{
    return (unsigned)((s[0] - '0') * 10 + (s[1] - '0'));
}

/* Days from 1970-01-01 of a proleptic Gregorian date (days_from_civil). */
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

/* The civil date of a day number (civil_from_days). */
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

/*
 * The date "YYYY-MM-DD" at the start of s (what follows is not looked at): a real day of the
 * years 1900-9999. Its year goes to *year, its day number to *days. -1 otherwise.
 */
static int ymd_parse(const char *s, long *year, long *days)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long y;
    unsigned m, d, max;

    if (!shape_ok(s, "dddd-dd-dd"))
        return -1;
    y = (long)two_digits(s) * 100 + two_digits(s + 2);
    m = two_digits(s + 5);
    d = two_digits(s + 8);
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return -1;
    max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    if (d > max)
        return -1;
    *year = y;
    *days = days_from_civil(y, m, d);
    return 0;
}

int date_parse(const char *s, long *days)
{
    long year;

    if (!s || strlen(s) != 10)
        return -1;
    return ymd_parse(s, &year, days);
}

void date_format(long day, char *out, size_t n)
{
    long y;
    unsigned m, d;

    civil_from_days(day, &y, &m, &d);
    snprintf(out, n, "%04ld-%02u-%02u", y, m, d);
}

long date_week_start(long day)
{
    /* 1970-01-01 was a Thursday: day 0 is 3 days after a Monday. */
    return day - ((day % 7 + 7 + 3) % 7);
}

long date_month_start(long day)
{
    long y;
    unsigned m, d;

    civil_from_days(day, &y, &m, &d);
    return days_from_civil(y, m, 1);
}

long date_next_month(long day)
{
    long y;
    unsigned m, d;

    civil_from_days(day, &y, &m, &d);
    return m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
}

bool date_timestamp_valid(const char *s, int min_year, int max_year)
{
    size_t i, n;
    long year, days;

    if (!s)
        return false;
    n = strlen(s);
    if (n < 20 || n > 35 || !shape_ok(s, "dddd-dd-ddTdd:dd:dd") || ymd_parse(s, &year, &days) ||
        year < min_year || year > max_year || two_digits(s + 11) > 23 || two_digits(s + 14) > 59 ||
        two_digits(s + 17) > 59)
        return false;
    s += 19;
    if (*s == '.') {
        for (i = 1; i <= 6 && isdigit((unsigned char)s[i]); i++)
            ;
        if (i == 1 || isdigit((unsigned char)s[i]))
            return false;
        s += i;
    }
    if (!strcmp(s, "Z"))
        return true;
    return (s[0] == '+' || s[0] == '-') && shape_ok(s + 1, "dd:dd") && s[6] == '\0' &&
           two_digits(s + 1) <= 15 && two_digits(s + 4) <= 59;
}
