/*
 * fuzz_csv: the CSV reader of the product import (untrusted bodies) and the writer of the
 * exports. Every record the reader accepts is written back and read again: the same fields
 * come back (a formula-looking one with the writer's leading '), and lines never go backwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* b is a, or a with the writer's ' prefix. */
static int same_field(const char *a, const char *b)
{
    return !strcmp(a, b) || (b[0] == '\'' && !strcmp(a, b + 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new();
    struct csv_reader r, back;
    struct app_err err;
    struct buf out;
    char **f, **g;
    size_t n, m, line, line2, last = 0, i;

    buf_init(&out);
    csv_reader_init(&r, (const char *)data, size);
    while (csv_read(&r, a, &f, &n, &line, &err) == 1) {
        if (line <= last || n == 0 || n > CSV_MAX_FIELDS)
            abort();
        last = line;
        /* Written after a first field of its own, as an export's rows follow its header: so a
         * byte order mark a field starts with is not the body's, and no line is empty. */
        buf_reset(&out);
        csv_field(&out, true, "r", 1, 0);
        for (i = 0; i < n; i++)
            csv_field(&out, false, f[i], strlen(f[i]), 0);
        csv_row_end(&out);
        if (out.failed)
            abort();
        csv_reader_init(&back, out.data, out.len);
        if (n == CSV_MAX_FIELDS)
            continue; /* one more than the reader takes */
        if (csv_read(&back, a, &g, &m, &line2, &err) != 1 || m != n + 1)
            abort();
        for (i = 0; i < n; i++)
            if (!same_field(f[i], g[i + 1]))
                abort();
    }
    buf_release(&out);
    arena_free(a);
    return 0;
}
