/*
 * cache: the tenant-scoped Redis cache service of SPEC §4. Every operation takes the tenant id
 * of the authenticated session; keys are "{prefix}:tenant:{tenant}:{module}:{key}". Values are
 * JSON text. A Redis failure of any kind is a miss and never fails a request. The design
 * (generation tags, the stored value) is explained at the top of cache.c; the connection and
 * its back-off live in core/redis, the invalidation outbox and the trust in core/cache_outbox.
 */
#ifndef STOCK_CORE_CACHE_H
#define STOCK_CORE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/db.h"
#include "core/err.h"
#include "core/l1.h"
#include "core/redis.h"

enum cache_status { CACHE_MISS = 0, CACHE_HIT, CACHE_BYPASS };

enum cache_state { CACHE_STATE_OK = 0, CACHE_STATE_DEGRADED, CACHE_STATE_DISABLED };

struct cache {
    const struct config *cf;
    struct db *db;           /* for the invalidation outbox; NULL: no cached read is trusted */
    struct redis redis;      /* the connection, its back-off and last_error */
    struct l1 l1;            /* this process' in-process cache (core/l1.c) */
    char health_reason[192]; /* storage of the reason cache_health returns */
};

/* Result of a read. json points into the arena; NULL for a cached "not found". */
struct cache_result {
    enum cache_status status;
    bool l1; /* a HIT served by this worker's L1, without Redis */
    bool found;
    const char *json;
    size_t len;
};

/*
 * A loader computes the value on a miss: append JSON to out and set *found, or leave *found
 * false for "not found" (cached for CACHE_NEGATIVE_TTL). Returning -1 (with err) is not cached.
 */
typedef int (*cache_loader_fn)(void *ctx, struct arena *a, struct buf *out, bool *found,
                               struct app_err *err);

/* Prepares c; no connection is made until first use. db may be NULL; cf must outlive c. */
void cache_init(struct cache *c, const struct config *cf, struct db *db);
/* Closes the connection. */
void cache_release(struct cache *c);

/* Builds "{prefix}:tenant:{tenant}:{module}:{key}" in the arena. */
char *cache_key(const struct cache *c, struct arena *a, int64_t tenant, const char *module,
                const char *key);

/*
 * Cache-aside: returns the cached value of (tenant, module, key) if it is current, else runs
 * load, stores its result with ttl seconds (ttl <= 0: the module's TTL from the config) unless
 * a write invalidated the module meanwhile, and returns it. status says HIT, MISS or BYPASS
 * (cache disabled). Fails only when the loader fails.
 */
int cache_memoize(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                  const char *key, int ttl, cache_loader_fn load, void *ctx,
                  struct cache_result *res, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Reads n (at most CACHE_MANY_MAX) keys of one tenant in one round trip: one MGET of the
 * epoch and of each key's module generation and value. res[i] is a HIT when current, else a
 * MISS (nothing is loaded or stored). A HIT can be handed to cache_memoize_pre so that, for
 * example, the session and the data of a cached read cost one Redis round trip together.
 */
#define CACHE_MANY_MAX 4
void cache_get_many(struct cache *c, struct arena *a, int64_t tenant, size_t n,
                    const char *const *modules, const char *const *keys, struct cache_result *res);

/*
 * As cache_memoize, but a HIT in pre (from cache_get_many for the same tenant, module and key
 * in this request) is answered without asking Redis again. pre may be NULL.
 */
int cache_memoize_pre(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                      const char *key, int ttl, cache_loader_fn load, void *ctx,
                      const struct cache_result *pre, struct cache_result *res, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Plain operations (also used by stockctl and tests). cache_get fills res (MISS when absent,
 * stale or on any failure). cache_set stores json with ttl (<= 0: module TTL) and returns 0
 * or -1 when Redis could not take it. cache_delete removes one key; cache_delete_pattern
 * removes the tenant's keys of module matching the glob pattern (SCAN + pipelined UNLINK) and
 * returns how many, or -1.
 */
void cache_get(struct cache *c, struct arena *a, int64_t tenant, const char *module,
               const char *key, struct cache_result *res);
int cache_set(struct cache *c, struct arena *a, int64_t tenant, const char *module, const char *key,
              const char *json, size_t len, int ttl);
int cache_delete(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                 const char *key);
long cache_delete_pattern(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                          const char *pattern);

/*
 * Makes every cached entry of (tenant, module) stale, in O(1) whatever else Redis holds: an
 * operator's tool (stockctl cache invalidate). Writes need not call it: their invalidations
 * commit with them (the outbox, core/cache_outbox) and cache_write_done applies them. 0, or -1
 * when Redis could not take it.
 */
int cache_invalidate_module(struct cache *c, struct arena *a, int64_t tenant, const char *module);

/*
 * Call after the COMMIT of every write (and after an autocommitted write statement): applies
 * the invalidations the write committed in the outbox. When Redis cannot take them it returns
 * only once every host has them applied or distrusts its cache (at most CACHE_TRUST_MS +
 * CACHE_ACK_MARGIN_MS later), so the caller may then acknowledge the write. 0 when applied
 * here, 1 when waited out.
 */
int cache_write_done(struct cache *c, struct arena *a);

/* As cache_write_done for every invalidation the outbox holds for tenant: before an
 * Idempotency-Key replay answers, and after a seed. */
int cache_settle_tenant(struct cache *c, struct arena *a, int64_t tenant);

/*
 * For stockctl: what Redis holds for (tenant, module), counted with SCAN (never KEYS) whatever
 * CACHE_ENABLED says. keys does not count the module's generation key, and is an upper bound:
 * SCAN may return a key twice while Redis resizes its table (after a big delete, for example;
 * cache_delete_pattern's count is exact, UNLINK's replies). generation is its value
 * (in the arena), NULL when the module has none (nothing cached for it is current). 0, or -1
 * when Redis failed (c->redis.last_error says why when the connection did).
 */
struct cache_module_stats {
    long keys;
    const char *generation;
};
int cache_module_stats(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                       struct cache_module_stats *st) __attribute__((warn_unused_result));

/* True when the cache is enabled and Redis answered a PING (subject to the back-off). */
bool cache_is_available(struct cache *c);

/* For /health/cache: state and PING latency (ms, -1 when not measured); never secrets. */
enum cache_state cache_health(struct cache *c, double *latency_ms, const char **reason);

/* X-Cache header value of a status. */
const char *cache_status_name(enum cache_status s);

#endif
