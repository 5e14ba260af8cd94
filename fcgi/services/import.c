/*
 * import: POST /products/import. Three passes over the rows, none writing until all are good:
 * the cells in C (types, ranges and lengths of POST /products), then one query for what needs
 * the tenant's data (unknown category or unit names, a SKU twice in the file), then one
 * statement that writes every row (and its ledger rows) in the transaction of that query. The
 * rows go to PostgreSQL as one JSON parameter built with json-c ([line, sku, name, category,
 * uom, price, cost, stock, min_stock], text or null each), never in the SQL text.
 */
#include "services/import.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/dec.h"
#include "core/jsonx.h"

#define IMPORT_NCOLS 8

static const char *const import_cols[IMPORT_NCOLS] = {"sku",   "name", "category", "uom",
                                                      "price", "cost", "stock",    "min_stock"};

struct import_ctx {
    struct arena *a;
    struct import_result *res;
};

static void import_json_put(void *p)
{
    json_object_put(p);
}

static void add_error(struct import_ctx *x, size_t line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_error(struct import_ctx *x, size_t line, const char *field, const char *fmt, ...)
{
    struct import_result *r = x->res;
    char msg[200];
    va_list ap;

    r->nerrors++;
    if (r->nlisted == IMPORT_MAX_ERRORS)
        return;
    if (!r->errors)
        r->errors = arena_alloc(x->a, IMPORT_MAX_ERRORS * sizeof(*r->errors));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->errors[r->nlisted++] = (struct import_error){line, field, arena_strdup(x->a, msg)};
}

static int col_index(const char *field)
{
    int i;

    for (i = 0; field && i < IMPORT_NCOLS; i++)
        if (!strcmp(field, import_cols[i]))
            return i;
    return -1;
}

static int error_cmp(const void *pa, const void *pb)
{
    const struct import_error *a = pa, *b = pb;

    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return col_index(a->field) - col_index(b->field);
}

/* s without the spaces and tabs around it (in place: the reader's copy). */
static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *e = '\0';
    return s;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A text cell: NULL when empty (an error when required), else checked for UTF-8 and length. */
static const char *text_cell(struct import_ctx *x, size_t line, int col, char *raw, bool required,
                             size_t max_chars, bool *ok)
{
    const char *f = import_cols[col];
    char *s;

    if (!jsonx_utf8_valid(raw, strlen(raw))) {
        add_error(x, line, f, "'%s' is not UTF-8 text", f);
        *ok = false;
        return NULL;
    }
    s = trim(raw);
    if (!*s) {
        if (required) {
            add_error(x, line, f, "'%s' is required", f);
            *ok = false;
        }
        return NULL;
    }
    if (utf8_chars(s) > max_chars) {
        add_error(x, line, f, "'%s' must be at most %zu characters", f, max_chars);
        *ok = false;
        return NULL;
    }
    return s;
}

/* A decimal cell (non-negative, at most scale decimals): NULL when empty, else its canonical
 * text. */
static const char *dec_cell(struct import_ctx *x, size_t line, int col, char *raw, int scale,
                            bool required, bool *ok)
{
    const char *f = import_cols[col];
    struct app_err e;
    char *s = trim(raw), out[32];
    int64_t v;

    if (!*s) {
        if (required) {
            add_error(x, line, f, "'%s' is required", f);
            *ok = false;
        }
        return NULL;
    }
    err_clear(&e);
    if (dec_parse(s, scale, false, &v, f, &e)) {
        add_error(x, line, f, "%s", e.msg);
        *ok = false;
        return NULL;
    }
    dec_format(v, scale, out, sizeof(out));
    return arena_strdup(x->a, out);
}

static json_object *jstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* The header row: exactly the columns, in order (case and spaces around names aside). */
static int check_header(struct import_ctx *x, char **f, size_t n, size_t line)
{
    size_t i;

    if (n == IMPORT_NCOLS) {
        for (i = 0; i < n; i++)
            if (strcasecmp(trim(f[i]), import_cols[i]))
                break;
        if (i == n)
            return 0;
    }
    add_error(x, line, NULL,
              "the header row must be sku,name,category,uom,price,cost,stock,"
              "min_stock");
    return -1;
}

static const char *i64(struct arena *a, int64_t v)
{
    return arena_sprintf(a, "%" PRId64, v);
}

/* Unknown category or unit names and SKUs given twice, found by the database. */
static int check_references(struct catalog *c, struct import_ctx *x, const char *rows,
                            struct app_err *err)
{
    static const char sql[] =
        "WITH r AS (SELECT (e->>0)::int AS line, btrim(e->>1) AS sku, btrim(e->>3) AS category, "
        "btrim(e->>4) AS uom FROM jsonb_array_elements($2::jsonb) e) "
        "SELECT line, 'sku', first FROM (SELECT line, min(line) OVER (PARTITION BY lower(sku)) "
        "AS first FROM r WHERE sku IS NOT NULL) d WHERE line > first "
        "UNION ALL SELECT line, 'category', NULL FROM r WHERE category IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM categories k WHERE k.tenant_id = $1 "
        "AND lower(k.name) = lower(r.category)) "
        "UNION ALL SELECT line, 'uom', NULL FROM r WHERE uom IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM units u WHERE u.tenant_id = $1 "
        "AND lower(u.name) = lower(r.uom))";
    const char *params[] = {i64(c->a, c->tenant), rows};
    PGresult *res = db_exec(c->db, c->a, sql, 2, params, err);
    int i;

    if (!res)
        return -1;
    for (i = 0; i < PQntuples(res); i++) {
        size_t line = (size_t)strtoull(PQgetvalue(res, i, 0), NULL, 10);
        const char *what = PQgetvalue(res, i, 1);

        if (!strcmp(what, "sku"))
            add_error(x, line, "sku", "this sku is also on line %s", PQgetvalue(res, i, 2));
        else if (!strcmp(what, "category"))
            add_error(x, line, "category", "no category of that name (create it first)");
        else
            add_error(x, line, "uom", "no unit of that name (create it first)");
    }
    return 0;
}

/* Writes every row: new SKUs created, existing ones updated, each stock change in the ledger. */
static int write_rows(struct catalog *c, const char *rows, size_t nrows, struct import_result *r,
                      struct app_err *err)
{
    static const char sql[] =
        "WITH r AS (SELECT (e->>0)::int AS line, btrim(e->>1) AS sku, btrim(e->>2) AS name, "
        "k.id AS category_id, u.id AS uom_id, (e->>5)::numeric AS price, "
        "(e->>6)::numeric AS cost, (e->>7)::numeric AS stock, (e->>8)::numeric AS min_stock "
        "FROM jsonb_array_elements($2::jsonb) e "
        "LEFT JOIN categories k ON k.tenant_id = $1 AND lower(k.name) = lower(btrim(e->>3)) "
        "JOIN units u ON u.tenant_id = $1 AND lower(u.name) = lower(btrim(e->>4))), "
        "old AS (SELECT p.id, lower(p.sku) AS k, p.stock FROM products p WHERE p.tenant_id = $1 "
        "AND lower(p.sku) IN (SELECT lower(sku) FROM r) FOR UPDATE), "
        "ins AS (INSERT INTO products (tenant_id, sku, name, category_id, uom_id, price, cost, "
        "stock, min_stock) SELECT $1, r.sku, r.name, r.category_id, r.uom_id, r.price, "
        "coalesce(r.cost, 0), coalesce(r.stock, 0), coalesce(r.min_stock, 0) FROM r "
        "WHERE NOT EXISTS (SELECT 1 FROM old WHERE old.k = lower(r.sku)) ORDER BY r.line "
        "RETURNING *), "
        "mi AS (INSERT INTO stock_movements (tenant_id, product_id, quantity, kind, "
        "stock_before, stock_after, unit_cost, user_id) "
        "SELECT tenant_id, id, stock, 'opening', 0, stock, cost, $3 FROM ins WHERE stock > 0), "
        "upd AS (UPDATE products t SET name = r.name, category_id = r.category_id, "
        "uom_id = r.uom_id, price = r.price, cost = coalesce(r.cost, 0), "
        "stock = coalesce(r.stock, t.stock), min_stock = coalesce(r.min_stock, 0) "
        "FROM r JOIN old ON old.k = lower(r.sku) WHERE t.tenant_id = $1 AND t.id = old.id "
        "RETURNING t.*, old.stock AS old_stock), "
        "mu AS (INSERT INTO stock_movements (tenant_id, product_id, quantity, kind, "
        "stock_before, stock_after, user_id) "
        "SELECT tenant_id, id, stock - old_stock, 'count', old_stock, stock, $3 FROM upd "
        "WHERE stock <> old_stock) "
        "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd)";
    const char *params[] = {i64(c->a, c->tenant), rows, c->user > 0 ? i64(c->a, c->user) : NULL};
    PGresult *res = db_exec(c->db, c->a, sql, 3, params, err);

    if (!res)
        return -1;
    r->created = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    r->updated = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    /* A category or unit deleted since the check drops its rows from r: refuse, not half. */
    if ((size_t)(r->created + r->updated) != nrows)
        return err_set_full(err, ERR_CONFLICT, "conflict", NULL,
                            "a category or unit changed during the import; please retry");
    return 0;
}

int import_products(struct catalog *c, const char *body, size_t len, struct import_result *res,
                    struct app_err *err)
{
    struct import_ctx x = {c->a, res};
    struct csv_reader rd;
    json_object *rows = json_object_new_array();
    char **f;
    size_t n, line, nrows = 0, ncheck;
    const char *text;
    int rc;

    memset(res, 0, sizeof(*res));
    arena_defer(c->a, import_json_put, rows);
    csv_reader_init(&rd, body, len);
    rc = csv_read(&rd, c->a, &f, &n, &line, err);
    if (rc < 0) {
        add_error(&x, rd.bad_line, NULL, "%s", err->msg);
        err_clear(err);
        return 0;
    }
    if (rc == 0)
        return err_set_full(err, ERR_INVALID, "empty", NULL,
                            "the file is empty (a header row and at least one row are needed)");
    if (check_header(&x, f, n, line))
        return 0;
    while ((rc = csv_read(&rd, c->a, &f, &n, &line, err)) == 1) {
        const char *cell[IMPORT_NCOLS];
        json_object *row;
        bool ok = true;
        int i;

        if (++nrows > IMPORT_MAX_ROWS)
            return err_set_full(err, ERR_INVALID, "too_many_rows", NULL,
                                "at most %d rows may be imported at once", IMPORT_MAX_ROWS);
        if (n != IMPORT_NCOLS) {
            add_error(&x, line, NULL, "%zu fields where %d are expected", n, IMPORT_NCOLS);
            continue;
        }
        cell[0] = text_cell(&x, line, 0, f[0], true, 64, &ok);
        cell[1] = text_cell(&x, line, 1, f[1], true, 200, &ok);
        cell[2] = text_cell(&x, line, 2, f[2], false, 200, &ok);
        cell[3] = text_cell(&x, line, 3, f[3], true, 100, &ok);
        cell[4] = dec_cell(&x, line, 4, f[4], DEC_MONEY_SCALE, true, &ok);
        cell[5] = dec_cell(&x, line, 5, f[5], DEC_MONEY_SCALE, false, &ok);
        cell[6] = dec_cell(&x, line, 6, f[6], DEC_QTY_SCALE, false, &ok);
        cell[7] = dec_cell(&x, line, 7, f[7], DEC_QTY_SCALE, false, &ok);
        /* Every row whose texts are readable goes to the reference check, good or not. */
        row = json_object_new_array_ext(IMPORT_NCOLS + 1);
        json_object_array_add(row, json_object_new_int64((int64_t)line));
        for (i = 0; i < IMPORT_NCOLS; i++)
            json_object_array_add(row, jstr(cell[i]));
        json_object_array_add(rows, row);
    }
    if (rc < 0) {
        add_error(&x, rd.bad_line, NULL, "%s", err->msg);
        err_clear(err);
    }
    if (nrows == 0 && !res->nerrors)
        return err_set_full(err, ERR_INVALID, "empty", NULL,
                            "the file has a header row but no product rows");
    ncheck = json_object_array_length(rows);
    text = jsonx_text(rows, NULL);
    if (db_begin(c->db, err))
        return -1;
    if (ncheck > 0 && check_references(c, &x, text, err))
        goto fail;
    if (res->nerrors) {
        db_rollback(c->db);
        qsort(res->errors, res->nlisted, sizeof(*res->errors), error_cmp);
        return 0;
    }
    if (write_rows(c, text, ncheck, res, err) || db_commit(c->db, err))
        goto fail;
    cache_write_done(c->cache, c->a);
    return 0;
fail:
    db_rollback(c->db);
    return -1;
}
