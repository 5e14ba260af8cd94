/*
 * api_csv: the CSV answers of the lists (SPEC §12). A list handler that offers CSV reads its
 * page with api_list_page and, when api_csv_requested, hands its service's export_def to
 * api_csv_send instead of building JSON; that is all a new list needs (see api_product_list).
 * The rows are streamed: export_open reads the first chunk before the answer starts (so that
 * a database failure is still a JSON error with its status), then the worker sends the head
 * and runs csv_stream, which writes each chunk of rows and reads the next, never more than a
 * chunk and API_CSV_FLUSH bytes in memory.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/csv.h"
#include "core/log.h"
#include "routes/api.h"
#include "services/export.h"

/* A streamed body is handed to libfcgi every time this much is buffered. */
#define API_CSV_FLUSH (64 * 1024)

/* True when an Accept header names text/csv with a q above 0. */
static bool accepts_csv(const char *accept)
{
    const char *p = accept;

    while (p && *p) {
        size_t len = strcspn(p, ","), t;
        const char *e = p + len, *semi;

        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        semi = memchr(p, ';', (size_t)(e - p));
        t = (size_t)((semi ? semi : e) - p);
        while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t == 8 && !strncasecmp(p, "text/csv", 8)) {
            const char *q = semi;
            bool zero = false;

            /* ;q=0, q=0.0, q=0.00, q=0.000: not acceptable */
            while (q && q < e) {
                const char *v;

                q++;
                while (q < e && *q == ' ')
                    q++;
                if (e - q >= 3 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
                    for (v = q + 2, zero = true; v < e && *v != ';' && *v != ' '; v++)
                        if (*v != '0' && *v != '.')
                            zero = false;
                }
                q = memchr(q, ';', (size_t)(e - q));
            }
            if (!zero)
                return true;
        }
        p = *e ? e + 1 : e;
    }
    return false;
}

bool api_csv_requested(const struct http_req *req)
{
    const char *f = http_query(req, "format");

    if (f && *f)
        return !strcmp(f, "csv");
    return accepts_csv(http_header(req, "Accept"));
}

int api_list_page(const struct http_req *req, int64_t *limit, int64_t *offset, struct app_err *err)
{
    const char *f = http_query(req, "format");

    if (f && *f && strcmp(f, "csv") && strcmp(f, "json"))
        return err_set_full(err, ERR_INVALID, "invalid_parameter", "format",
                            "'format' must be json or csv");
    if (!api_csv_requested(req))
        return api_page(req, limit, offset, err);
    /* An export is every row unless a limit is given (then at most that many). */
    if (http_query_i64(req, "limit", 1, INT64_MAX - 1, -1, limit, err) ||
        http_query_i64(req, "offset", 0, INT64_MAX - 1, 0, offset, err))
        return -1;
    return 0;
}

struct csv_stream {
    struct export_def def; /* a copy: the handler's own is on its stack */
    struct export e;
    struct buf out;
    bool head_only;
};

static void csv_buf_release(void *p)
{
    buf_release(p);
}

/* Writes out and empties it; -1 when it could not be built or sent. */
static int csv_flush(struct buf *out, http_write_fn write, void *wctx)
{
    int rc = out->failed || write(wctx, out->data, out->len) ? -1 : 0;

    buf_reset(out);
    return rc;
}

/* The body (http_stream_fn): the header row, then every chunk of the export. */
static int csv_stream(void *ctx, http_write_fn write, void *wctx)
{
    struct csv_stream *st = ctx;
    const struct export_def *d = st->e.def;
    struct app_err err;
    size_t c;
    int rows, i, rc = -1;

    err_clear(&err);
    for (c = 0; c < d->ncols; c++)
        csv_field(&st->out, c == 0, d->columns[c].name, strlen(d->columns[c].name), 0);
    csv_row_end(&st->out);
    for (rows = PQntuples(st->e.res); rows > 0; rows = export_fetch(&st->e, &err)) {
        for (i = 0; i < rows; i++) {
            for (c = 0; c < d->ncols; c++) {
                int col = (int)c;
                bool null = PQgetisnull(st->e.res, i, col);

                csv_field(&st->out, c == 0, null ? NULL : PQgetvalue(st->e.res, i, col),
                          null ? 0 : (size_t)PQgetlength(st->e.res, i, col),
                          d->columns[c].numeric ? CSV_NUMERIC : 0);
            }
            csv_row_end(&st->out);
            if (st->out.len >= API_CSV_FLUSH && csv_flush(&st->out, write, wctx))
                goto out;
        }
    }
    if (rows < 0) {
        log_warn("export %s failed midway: %s (%s)", d->name, err.msg,
                 err.detail[0] ? err.detail : "-");
        goto out;
    }
    rc = csv_flush(&st->out, write, wctx);
out:
    export_close(&st->e);
    return rc;
}

/* A HEAD: the head alone (the worker sends no body, so nothing is opened). */
static int csv_none(void *ctx, http_write_fn write, void *wctx)
{
    (void)ctx;
    (void)write;
    (void)wctx;
    return 0;
}

/* The head of every CSV answer: an attachment named <name>-<UTC day>.csv, not to be stored. */
static void csv_head(struct http_req *req, struct http_resp *resp, const char *name)
{
    char day[16];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    http_resp_header(resp, "Content-Disposition",
                     arena_sprintf(req->arena, "attachment; filename=\"%s-%s.csv\"", name, day));
    http_resp_header(resp, "Cache-Control", "no-store");
}

int api_csv_send(struct api_ctx *x, struct http_req *req, struct http_resp *resp,
                 const struct export_def *def, struct app_err *err)
{
    struct csv_stream *st = arena_alloc(req->arena, sizeof(*st));

    st->def = *def;
    buf_init(&st->out);
    arena_defer(req->arena, csv_buf_release, &st->out);
    if (strcmp(req->method, "HEAD") && export_open(&st->e, x->c.db, req->arena, &st->def, err))
        return -1;
    csv_head(req, resp, def->name);
    http_resp_stream(resp, 200, "text/csv; charset=utf-8",
                     strcmp(req->method, "HEAD") ? csv_stream : csv_none, st);
    return 0;
}

/* The body of api_csv_whole: the CSV built before the head. */
static int csv_whole(void *ctx, http_write_fn write, void *wctx)
{
    const struct buf *b = ctx;

    return write(wctx, b->data, b->len) ? -1 : 0;
}

struct buf *api_csv_buf(struct http_req *req)
{
    struct buf *b = arena_alloc(req->arena, sizeof(*b));

    buf_init(b);
    arena_defer(req->arena, csv_buf_release, b);
    return b;
}

void api_csv_whole(struct http_req *req, struct http_resp *resp, const char *name,
                   const struct buf *body)
{
    csv_head(req, resp, name);
    http_resp_stream(resp, 200, "text/csv; charset=utf-8",
                     strcmp(req->method, "HEAD") ? csv_whole : csv_none, (void *)body);
}
