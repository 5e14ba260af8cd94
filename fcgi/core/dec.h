/*
 * dec: exact decimals of the API (money with 2 decimals, quantities with 3) held as scaled
 * int64: parsed from text or JSON without floating point, formatted back with a fixed number
 * of decimals.
 */
#ifndef STOCK_CORE_DEC_H
#define STOCK_CORE_DEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define DEC_MONEY_SCALE 2
#define DEC_QTY_SCALE   3
/* The largest decimal accepted anywhere: 999,999,999,999.999 (fits NUMERIC(15,3) and int64). */
#define DEC_MAX_UNITS 999999999999LL

/*
 * Parses a plain decimal "12", "12.5", "-0.25" (no exponent, no spaces, no "+") with at most
 * scale decimals into v * 10^scale. Integral part at most DEC_MAX_UNITS. Negative values only
 * when allow_negative. -1 with ERR_INVALID naming field on anything else.
 */
int dec_parse(const char *s, int scale, bool allow_negative, int64_t *out, const char *field,
              struct app_err *err) __attribute__((warn_unused_result));

/*
 * As dec_parse, from a JSON string or number: the number's original text is used, and one
 * with an exponent ("1e3") is rewritten exactly first. Any other JSON type is ERR_INVALID.
 */
int dec_from_json(json_object *o, int scale, bool allow_negative, int64_t *out, const char *field,
                  struct app_err *err) __attribute__((warn_unused_result));

/*
 * The scaled value of a decimal PostgreSQL rendered (a NUMERIC column such as "12.50",
 * negative allowed). The text is trusted: anything dec_parse refuses gives 0.
 */
int64_t dec_from_db(const char *s, int scale);

/* Formats a scaled value with exactly scale decimals (clamped to 0..18) into out (32 bytes). */
void dec_format(int64_t v, int scale, char *out, size_t n);

#endif
