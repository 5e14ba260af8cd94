/*
 * import: the product import of POST /products/import (SPEC §12), a CSV body with the columns
 * sku,name,category,uom,price,cost,stock,min_stock (a header row first, at most
 * IMPORT_MAX_ROWS rows). Every row is validated first, with the rules of POST /products, and
 * nothing is written unless every row is good; then one transaction creates the new SKUs and
 * updates the existing ones of the session's tenant (SKUs compared as the unique index does,
 * whatever their case; an existing SKU keeps its spelling), with their stock in the ledger: the
 * opening stock of a created product is an `opening` movement and a changed stock of an updated one
 * a `count` movement, by the session's user, as POST and PUT /products write them.
 */
#ifndef STOCK_SERVICES_IMPORT_H
#define STOCK_SERVICES_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "services/catalog.h"

#define IMPORT_MAX_ROWS 10000
/* The most row errors an answer lists (import_result.nerrors counts them all). */
#define IMPORT_MAX_ERRORS 1000

/* One bad cell (or line: field NULL) of the file; line is the physical line of the body. */
struct import_error {
    size_t line;
    const char *field;
    const char *message;
};

struct import_result {
    int64_t created, updated;
    struct import_error *errors; /* in the arena, by line then column; NULL when none */
    size_t nerrors;              /* every error found */
    size_t nlisted;              /* those in errors (at most IMPORT_MAX_ERRORS) */
};

/*
 * Imports the CSV body[0..len) into c's tenant. 0 with res->created/updated once committed (the
 * cache invalidated); 0 with res->nerrors > 0 when a row is bad (nothing written); -1 with err
 * for what is not about rows: ERR_INVALID "too_many_rows" above IMPORT_MAX_ROWS, "empty" without
 * a data row, and database failures (ERR_CONFLICT "conflict" field sku when a concurrent write
 * took a SKU meanwhile).
 */
int import_products(struct catalog *c, const char *body, size_t len, struct import_result *res,
                    struct app_err *err) __attribute__((warn_unused_result));

#endif
