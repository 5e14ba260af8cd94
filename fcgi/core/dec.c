/* dec: exact decimals as scaled int64, parsed and formatted by hand (no floating point). */
#include "core/dec.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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

int64_t dec_from_db(const char *s, int scale)
{
    struct app_err err;
    int64_t v = 0;

    if (dec_parse(s, scale, true, &v, "column", &err))
        return 0;
    return v;
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
