/*
 * export: a list read in chunks for a streamed export (the CSV of GET /products, /sales,
 * /payments, /stock/movements). Each service describes its export (struct export_def: the
 * columns and one SELECT of text columns, its filters those of its JSON list, tenant-scoped by
 * the session's tenant); export_open runs it as a cursor in a read-only transaction and
 * export_fetch hands out EXPORT_CHUNK rows at a time, each chunk freed before the next is read,
 * so an export of any size holds one chunk in memory. One export at a time per connection.
 */
#ifndef STOCK_SERVICES_EXPORT_H
#define STOCK_SERVICES_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/err.h"

/* Rows read per FETCH (the FETCH of export.c says the same number). */
#define EXPORT_CHUNK 2000

/* How every export_def's SQL starts: the cursor export_fetch reads. */
#define EXPORT_DECLARE "DECLARE stock_export NO SCROLL CURSOR FOR "

struct export_column {
    const char *name;
    bool numeric; /* numbers only (ids, money, quantities): see CSV_NUMERIC */
};

/* What a service exports; everything static or in the request's arena. */
struct export_def {
    const char *name; /* the file name's stem: "products" */
    const struct export_column *columns;
    size_t ncols;
    /* EXPORT_DECLARE and a SELECT of ncols text (or NULL) columns, in the list's order:
     * constant text (tests/security/sql_check.sh) */
    const char *sql;
    int nparams;
    const char *const *params;
};

/* An export in progress. */
struct export
{
    struct db *db;
    struct arena *chunk; /* holds the current chunk's result; reset before each FETCH */
    const struct export_def *def;
    PGresult *res; /* the current chunk (export_fetch) */
    bool open;     /* the transaction is open */
    int fetches;   /* FETCHes run */
    bool done;     /* the last FETCH found no more rows */
};

/*
 * Opens def on db: BEGIN, read only, DECLARE a cursor for def->sql, and fetches the first chunk
 * into e->res (so that a failure is still an ordinary error answer). The chunk arena is freed
 * with a (the request's). 0, or -1 with err (nothing left open).
 */
int export_open(struct export *e, struct db *db, struct arena *a, const struct export_def *def,
                struct app_err *err) __attribute__((warn_unused_result));

/* The next chunk into e->res (the previous one is freed): its row count, 0 at the end, -1 with
 * err. After the first call (export_open already fetched one), call it until 0 or -1. */
int export_fetch(struct export *e, struct app_err *err) __attribute__((warn_unused_result));

/* Ends the transaction: a COMMIT once every row was read, else a rollback (nothing was written
 * either way). Safe to call twice. */
void export_close(struct export *e);

#endif
