/*
 * ratelimit: fixed-window counters. The pool-wide ones live in the shared block, so a limit
 * holds across workers without any server; the Redis ones (under the tenant's cache key space)
 * hold across pools. The login limit counts in both: the shared table is what still holds when
 * Redis is down or evicts the counter.
 */
#ifndef STOCK_CORE_RATELIMIT_H
#define STOCK_CORE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/cache.h"

/* The count of the current window of key (0 if none). */
uint32_t ratelimit_peek(const void *key, size_t len, int window_s);

/* Adds one to key's current window and returns the new count. */
uint32_t ratelimit_hit(const void *key, size_t len, int window_s);

/* Seconds until key's current window ends (at least 1). */
int ratelimit_retry_after(const void *key, size_t len, int window_s);

/*
 * Fixed-window counters in Redis, at the cache key of (tenant, module, key) (cache_key), over
 * the cache's connection. ratelimit_redis_get returns the count (0 when absent) and
 * ratelimit_redis_incr adds one, starting a window of window_s seconds on the first hit, and
 * returns the new count. Both return -1 when Redis is unavailable or the cache is disabled:
 * the caller must then rely on the pool-wide counters above.
 */
long ratelimit_redis_get(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                         const char *key);
long ratelimit_redis_incr(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                          const char *key, int window_s);

#endif
