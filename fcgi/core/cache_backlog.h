/*
 * cache_backlog: the invalidations the cache owes Redis. A failed invalidation is recorded
 * durably (PostgreSQL table cache_backlog) and closes a pool-wide gate (shared fail_seq and
 * done_seq); while the gate is closed no worker serves a cached read. A replay applies what is
 * owed and opens the gate again. What an invalidation does in Redis is the cache's business
 * (core/cache.c): this module knows which ones are owed and when the cache may be trusted.
 */
#ifndef STOCK_CORE_CACHE_BACKLOG_H
#define STOCK_CORE_CACHE_BACKLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/err.h"

/* True when no invalidation has failed that a replay has not applied since (the gate is open). */
bool cache_backlog_clear(void);

/*
 * Records that the invalidation of (tenant, module) failed, for reason (client-safe, for the
 * log): INSERT INTO cache_backlog through db, or, when that is impossible (db NULL, inside a
 * transaction, or the INSERT failed), flags the whole cache for invalidation. Then closes the
 * gate.
 */
void cache_backlog_record(struct db *db, int64_t tenant, const char *module, const char *reason);

/*
 * For the pool master: a worker died without finishing (killed, crashed), perhaps between the
 * COMMIT of a write and that write's invalidation. Until a replay has renewed the epoch (which
 * invalidates every cached entry), no worker of the pool serves a cached read.
 */
void cache_backlog_distrust_all(void);

/* One entry of a replay: the module of a tenant whose cached entries must be made stale. */
struct cache_backlog_entry {
    int64_t tenant;
    const char *module;
    const char *max_id; /* the highest backlog row read for it (the rows up to it are deleted) */
};

/* A replay in progress, from cache_backlog_begin to cache_backlog_finish. */
struct cache_backlog_replay {
    uint_fast64_t target; /* fail_seq when the replay began: the gate opens up to it */
    int flush;            /* nonzero: the whole cache must be invalidated (a new epoch) */
    size_t n;
    struct cache_backlog_entry *entries; /* n entries, in the arena */
};

/*
 * Begins a replay: reads fail_seq, then the flush flag, then the backlog (one entry per
 * tenant and module) through db (NULL: no backlog, only the flag). Everything lives in a.
 * 0; 1 when it must not run now (db is inside a transaction: our statements must neither join
 * nor abort it); -1 when the backlog cannot be read (err says why).
 */
int cache_backlog_begin(struct db *db, struct arena *a, struct cache_backlog_replay *rp,
                        struct app_err *err) __attribute__((warn_unused_result));

/* After the caller renewed the epoch for rp->flush: clears the flag unless a failure came since. */
void cache_backlog_flushed(const struct cache_backlog_replay *rp);

/*
 * Ends a replay whose entries the caller applied: deletes the rows it read and opens the gate
 * up to rp->target. Returns -1 (err says why) when rows could not be deleted; they are then
 * harmlessly applied again by a later replay, and the gate is opened all the same.
 */
int cache_backlog_finish(struct db *db, struct arena *a, const struct cache_backlog_replay *rp,
                         struct app_err *err);

#endif
