/* jsonx: exact decimals, ISO timestamps and typed field readers over json-c. */
#include "core/jsonx.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"

int dec_parse(const char *s, int scale, bool allow_negative, int64_t *out, const char *field,
              struct app_err *err)
{
    const char *p = s;
    bool neg = false;
    int64_t units = 0, frac = 0;
    int ndig = 0, nfrac = 0, i;

    if (!s)
        return err_set_full(err, ERR_INVALID, "invalid_decimal", field, "'%s' is required", field);
    if (*p == '-') {
        neg = true;
        p++;
    }
    while (isdigit((unsigned char)*p)) {
        if (++ndig > 12)
            return err_set_full(err, ERR_INVALID, "invalid_decimal", field, "'%s' is too large",
                                field);
        units = units * 10 + (*p++ - '0');
    }
    if (ndig == 0)
        goto malformed;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            goto malformed;
        while (isdigit((unsigned char)*p)) {
            if (++nfrac > scale)
                return err_set_full(err, ERR_INVALID, "invalid_decimal", field,
                                    "'%s' has more than %d decimals", field, scale);
            frac = frac * 10 + (*p++ - '0');
        }
    }
    if (*p)
        goto malformed;
    if (units > DEC_MAX_UNITS)
        return err_set_full(err, ERR_INVALID, "invalid_decimal", field, "'%s' is too large", field);
    for (i = nfrac; i < scale; i++)
        frac *= 10;
    for (i = 0; i < scale; i++)
        units *= 10;
    units += frac;
    if (neg && units != 0 && !allow_negative)
        return err_set_full(err, ERR_INVALID, "invalid_decimal", field, "'%s' must not be negative",
                            field);
    *out = neg ? -units : units;
    return 0;
malformed:
    return err_set_full(err, ERR_INVALID, "invalid_decimal", field,
                        "'%s' must be a decimal number such as \"12.50\"", field);
}

/*
 * Rewrites a JSON number with an exponent ("1e3", "2.5E-1") as a plain decimal ("1000",
 * "0.25") into out, exactly (digit shifting, no floating point). -1 when it is not such a
 * number or the plain form would not fit (the value is then absurd anyway).
 */
static int dec_unexponent(const char *s, char *out, size_t n)
{
    char digits[64];
    size_t nd = 0, i;
    long point, exp10 = 0;
    bool neg = false, eneg = false;
    const char *p = s;
    size_t o = 0;

    if (*p == '-')
        neg = true, p++;
    for (; isdigit((unsigned char)*p); p++)
        if (nd < sizeof(digits))
            digits[nd++] = *p;
        else
            return -1;
    point = (long)nd;
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++)
            if (nd < sizeof(digits))
                digits[nd++] = *p;
            else
                return -1;
    }
    if (nd == 0 || (*p != 'e' && *p != 'E'))
        return -1;
    p++;
    if (*p == '+' || *p == '-')
        eneg = *p++ == '-';
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        exp10 = exp10 * 10 + (*p - '0');
        if (exp10 > 40)
            return -1;
    }
    if (*p)
        return -1;
    point += eneg ? -exp10 : exp10;
    if (neg)
        out[o++] = '-';
    if (point <= 0) {
        if (o + 2 + (size_t)(-point) + nd >= n)
            return -1;
        out[o++] = '0';
        out[o++] = '.';
        for (i = 0; i < (size_t)(-point); i++)
            out[o++] = '0';
        for (i = 0; i < nd; i++)
            out[o++] = digits[i];
    } else {
        if (o + (size_t)point + nd + 2 >= n)
            return -1;
        for (i = 0; i < (size_t)point; i++)
            out[o++] = i < nd ? digits[i] : '0';
        if ((size_t)point < nd) {
            out[o++] = '.';
            for (i = (size_t)point; i < nd; i++)
                out[o++] = digits[i];
        }
    }
    out[o] = '\0';
    return 0;
}

int dec_from_json(json_object *o, int scale, bool allow_negative, int64_t *out, const char *field,
                  struct app_err *err)
{
    char plain[128];

    switch (json_object_get_type(o)) {
    case json_type_string:
        if ((size_t)json_object_get_string_len(o) != strlen(json_object_get_string(o)))
            break;
        /* fall through */
    case json_type_int:
    case json_type_double:
        /* json-c keeps the original text of a parsed number: no binary float round trip. A
         * JSON number may have an exponent; it is rewritten exactly first. */
        if (json_object_is_type(o, json_type_double) && strpbrk(json_object_get_string(o), "eE") &&
            dec_unexponent(json_object_get_string(o), plain, sizeof(plain)) == 0)
            return dec_parse(plain, scale, allow_negative, out, field, err);
        return dec_parse(json_object_get_string(o), scale, allow_negative, out, field, err);
    default:
        break;
    }
    return err_set_full(err, ERR_INVALID, "invalid_decimal", field,
                        "'%s' must be a decimal number or string", field);
}

void dec_format(int64_t v, int scale, char *out, size_t n)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t pow10 = 1;
    int i;

    if (scale < 0)
        scale = 0;
    if (scale > 18)
        scale = 18;

    for (i = 0; i < scale; i++)
        pow10 *= 10;
    if (scale > 0) {
        char frac[24];
        int k;
        uint64_t f = u % pow10;

        /* Exactly scale digits, zero-padded, written by hand to keep the format fixed. */
        for (k = scale - 1; k >= 0; k--) {
            frac[k] = (char)('0' + f % 10);
            f /= 10;
        }
        /* scale is at most 18 here (clamped above), which cppcheck does not follow. */
        // cppcheck-suppress arrayIndexOutOfBoundsCond
        frac[scale] = '\0';
        snprintf(out, n, "%s%llu.%s", v < 0 ? "-" : "", (unsigned long long)(u / pow10), frac);
    } else
        snprintf(out, n, "%s%llu", v < 0 ? "-" : "", (unsigned long long)u);
}

json_object *jsonx_decimal(int64_t v, int scale)
{
    char tmp[32];

    dec_format(v, scale, tmp, sizeof(tmp));
    return json_object_new_string(tmp);
}

static bool digits(const char *s, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

char *jsonx_pg_timestamp(struct arena *a, const char *s)
{
    char out[48];
    size_t n = 0, i;
    const char *p = s;

    /* YYYY-MM-DD HH:MM:SS */
    if (!s || strlen(s) < 22 || !digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) || p[7] != '-' ||
        !digits(p + 8, 2) || (p[10] != ' ' && p[10] != 'T') || !digits(p + 11, 2) || p[13] != ':' ||
        !digits(p + 14, 2) || p[16] != ':' || !digits(p + 17, 2))
        return NULL;
    memcpy(out, p, 19);
    out[10] = 'T';
    n = 19;
    p += 19;
    if (*p == '.') {
        out[n++] = *p++;
        for (i = 0; i < 6 && isdigit((unsigned char)*p); i++)
            out[n++] = *p++;
        if (i == 0)
            return NULL;
    }
    if ((*p != '+' && *p != '-') || !digits(p + 1, 2))
        return NULL;
    out[n++] = p[0];
    out[n++] = p[1];
    out[n++] = p[2];
    out[n++] = ':';
    p += 3;
    if (*p == ':' && digits(p + 1, 2)) {
        out[n++] = p[1];
        out[n++] = p[2];
        p += 3;
        /* An offset with seconds (historic zones) cannot be written in ISO 8601 extended form
         * with minutes only; keep the seconds. */
        if (*p == ':' && digits(p + 1, 2)) {
            memcpy(out + n, p, 3);
            n += 3;
            p += 3;
        }
    } else {
        out[n++] = '0';
        out[n++] = '0';
    }
    if (*p)
        return NULL;
    return arena_strndup(a, out, n);
}

size_t jsonx_minify(const char *in, size_t n, char *out)
{
    size_t i, j = 0;
    bool in_str = false, esc = false;

    for (i = 0; i < n; i++) {
        char ch = in[i];

        if (in_str) {
            if (esc)
                esc = false;
            else if (ch == '\\')
                esc = true;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
            continue;
        }
        out[j++] = ch;
    }
    out[j] = '\0';
    return j;
}

bool jsonx_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t len, k;
        uint32_t cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static void put_json(void *p)
{
    json_object_put(p);
}

json_object *jsonx_own(struct arena *a, json_object *o)
{
    if (o)
        arena_defer(a, put_json, o);
    return o;
}

json_object *jsonx_parse(struct arena *a, const char *s, size_t len, struct app_err *err)
{
    struct json_tokener *tok;
    json_object *o;
    enum json_tokener_error jerr;
    size_t end;

    if (len > HTTP_BODY_MAX || len > (size_t)INT32_MAX)
        return err_set(err, ERR_TOO_LARGE, "JSON text too large"), NULL;
    if (memchr(s, '\0', len))
        return err_set(err, ERR_BAD_REQUEST, "malformed JSON: NUL byte"), NULL;
    tok = json_tokener_new_ex(HTTP_JSON_MAX_DEPTH);
    if (!tok)
        return err_set(err, ERR_INTERNAL, "out of memory"), NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, s, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o || jerr != json_tokener_success) {
        json_object_put(o);
        if (jerr == json_tokener_error_depth)
            return err_set(err, ERR_BAD_REQUEST, "malformed JSON: nested too deeply"), NULL;
        if (jerr == json_tokener_continue)
            return err_set(err, ERR_BAD_REQUEST, "malformed JSON: unexpected end"), NULL;
        return err_set(err, ERR_BAD_REQUEST, "malformed JSON: %s", json_tokener_error_desc(jerr)),
               NULL;
    }
    for (; end < len; end++) {
        if (!isspace((unsigned char)s[end])) {
            json_object_put(o);
            return err_set(err, ERR_BAD_REQUEST, "malformed JSON: trailing characters"), NULL;
        }
    }
    return jsonx_own(a, o);
}

const char *jsonx_text(json_object *o, size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);

    if (len)
        *len = n;
    return s;
}

/* Code points in a valid UTF-8 string of n bytes. */
static size_t utf8_len(const char *s, size_t n)
{
    size_t i, cps = 0;

    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            cps++;
    return cps;
}

int jsonx_get_string(json_object *obj, const char *field, bool required, size_t max_len,
                     const char **out, struct app_err *err)
{
    json_object *v;
    const char *s;
    size_t n;

    *out = NULL;
    if (!json_object_object_get_ex(obj, field, &v) || !v) {
        if (required)
            return err_set_full(err, ERR_INVALID, "required", field, "'%s' is required", field);
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return err_set_full(err, ERR_INVALID, "invalid_type", field, "'%s' must be a string",
                            field);
    s = json_object_get_string(v);
    n = (size_t)json_object_get_string_len(v);
    if (n != strlen(s))
        return err_set_full(err, ERR_INVALID, "invalid_string", field,
                            "'%s' must not contain NUL characters", field);
    if (utf8_len(s, n) > max_len)
        return err_set_full(err, ERR_INVALID, "too_long", field,
                            "'%s' must be at most %zu characters", field, max_len);
    *out = s;
    return 0;
}

int jsonx_get_id(json_object *obj, const char *field, bool required, bool nullable, int64_t *out,
                 struct app_err *err)
{
    json_object *v;
    const char *s;
    char *end;
    long long id;

    *out = -1;
    if (!json_object_object_get_ex(obj, field, &v)) {
        if (required)
            return err_set_full(err, ERR_INVALID, "required", field, "'%s' is required", field);
        return 0;
    }
    if (!v) {
        if (nullable)
            return 0;
        return err_set_full(err, ERR_INVALID, "required", field, "'%s' must not be null", field);
    }
    if (!json_object_is_type(v, json_type_int))
        return err_set_full(err, ERR_INVALID, "invalid_type", field,
                            "'%s' must be a positive whole number", field);
    /* json-c clamps out-of-range integers: re-read its text and refuse what does not fit. */
    s = json_object_get_string(v);
    errno = 0;
    id = strtoll(s, &end, 10);
    if (errno || *end || id <= 0 || id == INT64_MAX)
        return err_set_full(err, ERR_INVALID, "invalid_type", field,
                            "'%s' must be a positive whole number", field);
    *out = id;
    return 0;
}
