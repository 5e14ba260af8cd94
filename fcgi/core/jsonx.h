/*
 * jsonx: the JSON conventions of the API on top of json-c: exact decimals (money with 2
 * decimals, quantities with 3) held as scaled int64, ISO 8601 timestamps, and typed field
 * readers that fail with ERR_INVALID naming the field.
 */
#ifndef STOCK_CORE_JSONX_H
#define STOCK_CORE_JSONX_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
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

/* As dec_parse, from a JSON string or number (the number's original text is used). */
int dec_from_json(json_object *o, int scale, bool allow_negative, int64_t *out, const char *field,
                  struct app_err *err) __attribute__((warn_unused_result));

/* Formats a scaled value with exactly scale decimals into out (at least 32 bytes). */
void dec_format(int64_t v, int scale, char *out, size_t n);

/* A json-c string holding the formatted decimal. */
json_object *jsonx_decimal(int64_t v, int scale);

/*
 * Converts PostgreSQL's timestamptz text ("2026-01-05 10:00:00.5+01" or "...+05:30") into
 * ISO 8601 with offset ("2026-01-05T10:00:00.5+01:00"). Returns NULL if s is not of that form.
 */
char *jsonx_pg_timestamp(struct arena *a, const char *s);

/* Parses text into JSON (bounded depth; strict UTF-8). Owned by the arena. NULL + ERR_BAD_REQUEST.
 */
json_object *jsonx_parse(struct arena *a, const char *s, size_t len, struct app_err *err);

/*
 * Copies JSON text without the whitespace outside strings (PostgreSQL's json renders
 * "{"a" : 1}"); the input must be valid JSON. Returns the copy's length; out holds n + 1 bytes.
 */
size_t jsonx_minify(const char *in, size_t n, char *out);

/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or NUL). */
bool jsonx_utf8_valid(const char *s, size_t n);

/* Registers json_object_put of o on the arena and returns o. */
json_object *jsonx_own(struct arena *a, json_object *o);

/* Serializes compactly; the string belongs to o. */
const char *jsonx_text(json_object *o, size_t *len);

/*
 * Field readers. A required field that is missing, or any field of the wrong type, is
 * ERR_INVALID naming it. *present tells whether an optional field was given (null counts as
 * given with a NULL/-1 value where allowed).
 */
int jsonx_get_string(json_object *obj, const char *field, bool required, size_t max_len,
                     const char **out, struct app_err *err) __attribute__((warn_unused_result));
int jsonx_get_id(json_object *obj, const char *field, bool required, bool nullable, int64_t *out,
                 struct app_err *err) __attribute__((warn_unused_result));

#endif
