/*
 * catalog: units of measure, categories and products of one tenant. Reads go through the
 * cache (modules uom, categories, products) and return the JSON body of the response, rendered
 * by PostgreSQL in one statement; writes run one statement, then invalidate the modules SPEC §4
 * lists for them after the commit. Every function takes the tenant id of the authenticated
 * session and never touches another tenant's rows. Results live in the arena.
 */
#ifndef STOCK_SERVICES_CATALOG_H
#define STOCK_SERVICES_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/cache.h"
#include "core/db.h"
#include "core/err.h"

struct catalog {
    struct db *db;
    struct cache *cache;
    struct arena *a;
    int64_t tenant;
    int64_t user; /* the session's user, written to the ledger (0: none, as in stockctl) */
    bool staff;   /* the session's role is staff: a service refuses what only an admin may do */
    /* A read prefetched by the route (cache_get_many): used by the next read of that key. */
    const struct cache_result *pre;
    const char *pre_module, *pre_key;
};

/* A JSON body and how the cache answered. */
struct catalog_out {
    const char *json;
    size_t len;
    enum cache_status cache;
    bool cached; /* a cached read: the response carries X-Cache */
    bool l1;     /* a HIT served by the worker's L1 (X-Cache-Layer: L1, else redis) */
};

/* Fields of a write. A NULL string or has_x false means "not given" (PATCH keeps the value). */
struct uom_in {
    const char *name, *abbreviation;
};

struct category_in {
    const char *name;
    const char *description;
    bool has_description; /* description may be given as null */
};

struct product_in {
    const char *sku, *name;
    bool has_category;
    int64_t category_id; /* -1 = null */
    int64_t uom_id;      /* -1 = not given */
    bool has_price, has_cost, has_stock, has_min_stock;
    int64_t price, cost;      /* cents */
    int64_t stock, min_stock; /* thousandths */
};

enum product_stock_filter { STOCK_ALL = 0, STOCK_IN, STOCK_LOW, STOCK_OUT };

struct product_query {
    const char *q;       /* NULL or "" = no search */
    int64_t category_id; /* -1 = any */
    enum product_stock_filter stock;
    int64_t limit, offset;
};

/* Sets out to the minified JSON of res's first column of row 0 (copied to the arena). */
void catalog_out_set(struct catalog *c, struct catalog_out *out, const PGresult *res);

/*
 * A cached read of the tenant's module: load computes the JSON body on a miss (through
 * cache_memoize with the module's TTL, or a prefetched HIT in c->pre). A loader's "not found"
 * is ERR_NOT_FOUND "<what> not found" (cached negatively).
 */
int catalog_read(struct catalog *c, const char *module, const char *key, cache_loader_fn load,
                 void *ctx, const char *what, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * A cached read of the tenant's module: runs sql (its single text column is the JSON body) on
 * a miss, through cache_memoize with the module's TTL. No row is ERR_NOT_FOUND "<what> not
 * found" (cached negatively). For services built on the catalog's conventions.
 */
int catalog_read_json(struct catalog *c, const char *module, const char *key, const char *sql,
                      int nparams, const char *const *params, const char *what,
                      struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

/* The cache key of a product list query (module products), in the arena. */
const char *catalog_product_list_key(struct arena *a, const struct product_query *q);

/* Lists: {"items": [...], "total": N, "limit": L, "offset": O}. */
int catalog_uom_list(struct catalog *c, int64_t limit, int64_t offset, struct catalog_out *out,
                     struct app_err *err) __attribute__((warn_unused_result));
int catalog_category_list(struct catalog *c, int64_t limit, int64_t offset, struct catalog_out *out,
                          struct app_err *err) __attribute__((warn_unused_result));
int catalog_product_list(struct catalog *c, const struct product_query *q, struct catalog_out *out,
                         struct app_err *err) __attribute__((warn_unused_result));

/*
 * The export of the product list q (services/export.h): its filters and order, every row when
 * q->limit is -1. Columns id, sku, name, category, uom (names), price, cost, stock, min_stock,
 * created_at, updated_at.
 */
struct export_def;
void catalog_product_export(struct catalog *c, const struct product_query *q,
                            struct export_def *def);

/* Single reads: ERR_NOT_FOUND for an id the tenant does not have (negatively cached). */
int catalog_uom_get(struct catalog *c, int64_t id, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));
int catalog_category_get(struct catalog *c, int64_t id, struct catalog_out *out,
                         struct app_err *err) __attribute__((warn_unused_result));
int catalog_product_get(struct catalog *c, int64_t id, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Writes. create requires every required field; update with replace=true (PUT) does too and
 * resets omitted optional fields, replace=false (PATCH) changes only what is given. Duplicates
 * are ERR_CONFLICT naming the field, unknown references ERR_INVALID naming the field, deleting
 * what is in use ERR_CONFLICT "in_use". out receives the object (not for delete).
 */
int catalog_uom_create(struct catalog *c, const struct uom_in *in, struct catalog_out *out,
                       struct app_err *err) __attribute__((warn_unused_result));
int catalog_uom_update(struct catalog *c, int64_t id, const struct uom_in *in, bool replace,
                       struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));
int catalog_uom_delete(struct catalog *c, int64_t id, struct app_err *err)
    __attribute__((warn_unused_result));

int catalog_category_create(struct catalog *c, const struct category_in *in,
                            struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));
int catalog_category_update(struct catalog *c, int64_t id, const struct category_in *in,
                            bool replace, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));
int catalog_category_delete(struct catalog *c, int64_t id, struct app_err *err)
    __attribute__((warn_unused_result));

int catalog_product_create(struct catalog *c, const struct product_in *in, struct catalog_out *out,
                           struct app_err *err) __attribute__((warn_unused_result));
/*
 * versions (If-Match): NULL = no precondition, else a PostgreSQL text[] literal of the
 * product's versions the client accepts (CATALOG_VERSION_LEN digits each, "{}" for none): the
 * write happens only if the row, locked, still has one of them, else ERR_PRECONDITION and
 * nothing changes.
 */
int catalog_product_update(struct catalog *c, int64_t id, const struct product_in *in, bool replace,
                           const char *versions, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));
int catalog_product_delete(struct catalog *c, int64_t id, const char *versions, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * A product's version is its updated_at in UTC as 20 digits, YYYYMMDDhhmmssffffff (the touch
 * trigger moves it on every write, stock changes by sales and movements included); its ETag is
 * "<id>-<version>", quoted. catalog_product_etag reads both from a product's JSON (as the
 * product reads and writes return it, cached or not, so a HIT has the database's ETag): the
 * ETag in the arena, NULL when json is not a product.
 */
#define CATALOG_VERSION_LEN 20
const char *catalog_product_etag(struct arena *a, const char *json, size_t len);

#endif
