/*
 * jsonx: the JSON conventions of the API on top of json-c: bounded strict parsing owned by the
 * arena, compact text, and typed field readers that fail with ERR_INVALID naming the field.
 */
#ifndef STOCK_CORE_JSONX_H
#define STOCK_CORE_JSONX_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

/* The longest text jsonx_parse takes (a request body at most, HTTP_BODY_MAX) and its deepest
 * nesting. */
#define JSONX_MAX_LEN   (1024 * 1024)
#define JSONX_MAX_DEPTH 32

/*
 * Parses text into JSON (strict UTF-8, nesting up to JSONX_MAX_DEPTH). Owned by the arena. NULL
 * with ERR_TOO_LARGE beyond JSONX_MAX_LEN bytes, ERR_BAD_REQUEST for anything not JSON.
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
