/* jsonx: bounded parsing, minifying and typed field readers over json-c. */
#include "core/jsonx.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

    if (len > JSONX_MAX_LEN || len > (size_t)INT32_MAX)
        return err_set(err, ERR_TOO_LARGE, "JSON text too large"), NULL;
    if (memchr(s, '\0', len))
        return err_set(err, ERR_BAD_REQUEST, "malformed JSON: NUL byte"), NULL;
    tok = json_tokener_new_ex(JSONX_MAX_DEPTH);
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
