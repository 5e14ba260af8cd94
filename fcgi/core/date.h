/*
 * date: calendar days and timestamps of the API. A day is a day number (days since 1970-01-01,
 * proleptic Gregorian calendar); this module parses and formats "YYYY-MM-DD", does the week and
 * month arithmetic of the balance series and checks ISO 8601 timestamps. Pure functions, no
 * time zone and no clock.
 */
#ifndef STOCK_CORE_DATE_H
#define STOCK_CORE_DATE_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes date_format needs: "YYYY-MM-DD" and the NUL. */
#define DATE_SIZE 11

/*
 * Checks a date "YYYY-MM-DD" (exactly ten characters, a real calendar day, years 1900-9999)
 * and returns its day number in *days. -1 otherwise, *days untouched.
 */
int date_parse(const char *s, long *days) __attribute__((warn_unused_result));

/* Formats a day number as "YYYY-MM-DD" into out (n bytes, at least DATE_SIZE). */
void date_format(long day, char *out, size_t n);

/* The Monday on or before day. */
long date_week_start(long day);
/* The first day of day's month. */
long date_month_start(long day);
/* The first day of the month after day's. */
long date_next_month(long day);

/*
 * True when s is an ISO 8601 timestamp with seconds and an offset,
 * YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm|-hh:mm) with 1 to 6 fraction digits: a real day of the years
 * min_year to max_year (within 1900-9999), hh up to 23, mm and ss up to 59, an offset of at
 * most 15 hours (its minutes up to 59). False for NULL.
 */
bool date_timestamp_valid(const char *s, int min_year, int max_year);

#endif
