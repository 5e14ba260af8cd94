/*
 * csv: the CSV writer of the exports and the reader of the product import (RFC 4180). The
 * writer never builds more than what the caller appends: an export writes a chunk of rows to
 * its buf, sends it and resets it (routes/api_csv.c), so memory stays flat whatever the size.
 */
#include "core/csv.h"

#include <string.h>

bool csv_is_number(const char *s, size_t n)
{
    size_t i = 0, digits = 0;

    if (i < n && s[i] == '-')
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (!digits)
        return false;
    if (i < n && s[i] == '.') {
        size_t frac = 0;

        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            frac++;
        if (!frac)
            return false;
    }
    return i == n;
}

/*
 * A cell a spreadsheet may take for a formula: its first character is one of = + - @, a tab or
 * a CR (OWASP), or the full-width forms of the first four (U+FF1D, U+FF0B, U+FF0D, U+FF20),
 * which some spreadsheets fold to ASCII.
 */
static bool csv_risky(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    if (!n)
        return false;
    if (strchr("=+-@\t\r", s[0]))
        return true;
    return n >= 3 && u[0] == 0xEF &&
           ((u[1] == 0xBC && (u[2] == 0x9D || u[2] == 0x8B || u[2] == 0x8D || u[2] == 0xA0)));
}

void csv_field(struct buf *b, bool first, const char *s, size_t n, unsigned flags)
{
    bool risky, quote;
    size_t i, start;

    if (!first)
        buf_addch(b, ',');
    if (!s || !n)
        return;
    risky = csv_risky(s, n) && !((flags & CSV_NUMERIC) && csv_is_number(s, n));
    quote =
        risky || memchr(s, '"', n) || memchr(s, ',', n) || memchr(s, '\r', n) || memchr(s, '\n', n);
    if (!quote) {
        buf_add(b, s, n);
        return;
    }
    buf_addch(b, '"');
    if (risky)
        buf_addch(b, '\'');
    for (start = 0, i = 0; i < n; i++) {
        if (s[i] == '"') {
            buf_add(b, s + start, i + 1 - start); /* the quote, then its double */
            buf_addch(b, '"');
            start = i + 1;
        }
    }
    buf_add(b, s + start, n - start);
    buf_addch(b, '"');
}

void csv_row_end(struct buf *b)
{
    buf_add(b, "\r\n", 2);
}

void csv_reader_init(struct csv_reader *r, const char *data, size_t len)
{
    r->p = data;
    r->end = data + len;
    r->line = 1;
    r->bad_line = 0;
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
        r->p += 3;
}

static int csv_bad(struct csv_reader *r, size_t line, const char *what, struct app_err *err)
{
    r->p = r->end; /* nothing more is read after a malformed record */
    r->bad_line = line;
    return err_set_full(err, ERR_INVALID, "malformed_csv", NULL, "malformed CSV: %s", what);
}

int csv_read(struct csv_reader *r, struct arena *a, char ***fields, size_t *n, size_t *line,
             struct app_err *err)
{
    char *f[CSV_MAX_FIELDS];
    size_t nf = 0;

    /* Empty lines between records are skipped (they still count as lines). */
    while (r->p < r->end &&
           (*r->p == '\n' || (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n'))) {
        r->p += *r->p == '\r' ? 2 : 1;
        r->line++;
    }
    if (r->p >= r->end)
        return 0;
    *line = r->line;
    for (;;) {
        const char *s = r->p;
        char *out;
        size_t len = 0;

        if (nf == CSV_MAX_FIELDS)
            return csv_bad(r, *line, "too many fields", err);
        if (s < r->end && *s == '"') {
            /* Quoted: "" is a quote; CR and LF are data (and count as lines). Its length is
             * found first, so that the copy is the field's size, not the rest of the body's. */
            const char *q = s + 1, *close = NULL;
            size_t want = 0, lines = 0;

            for (; q < r->end; q++) {
                if (*q == '"') {
                    if (q + 1 < r->end && q[1] == '"') {
                        q++;
                        want++;
                        continue;
                    }
                    close = q;
                    break;
                }
                if (*q == '\0')
                    return csv_bad(r, r->line + lines, "a NUL byte", err);
                lines += *q == '\n';
                want++;
            }
            if (!close)
                return csv_bad(r, *line, "a quoted field is not closed", err);
            out = arena_alloc(a, want + 1);
            for (q = s + 1; q < close; q++) {
                out[len++] = *q;
                if (*q == '"')
                    q++; /* the second quote of "" */
            }
            r->line += lines;
            q = close + 1;
            if (q < r->end && *q != ',' && *q != '\n' &&
                !(*q == '\r' && q + 1 < r->end && q[1] == '\n') && !(*q == '\r' && q + 1 == r->end))
                return csv_bad(r, r->line, "text after a closing quote", err);
            r->p = q;
        } else {
            const char *q = s;

            while (q < r->end && *q != ',' && *q != '\n' && *q != '\r') {
                if (*q == '"')
                    return csv_bad(r, r->line, "a quote inside an unquoted field", err);
                if (*q == '\0')
                    return csv_bad(r, r->line, "a NUL byte", err);
                q++;
            }
            if (q < r->end && *q == '\r' && !(q + 1 == r->end || q[1] == '\n'))
                return csv_bad(r, r->line, "a CR that does not end a line", err);
            len = (size_t)(q - s);
            out = arena_strndup(a, s, len);
            r->p = q;
        }
        out[len] = '\0';
        f[nf++] = out;
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        /* End of the record: CRLF, LF, a final CR, or the end of the body. */
        if (r->p < r->end && *r->p == '\r')
            r->p++;
        if (r->p < r->end && *r->p == '\n')
            r->p++;
        r->line++;
        break;
    }
    *fields = arena_alloc(a, nf * sizeof(**fields));
    memcpy(*fields, f, nf * sizeof(*f));
    *n = nf;
    return 1;
}
