/*
 * cache_backlog: the durable record of invalidations that did not reach Redis, and the gate
 * that keeps the pool off the cache until they are applied.
 *
 * Design
 * - A failed invalidation (Redis down, timeout, auth error, READONLY...) is recorded durably:
 *   INSERT INTO cache_backlog through the caller's db (if that is impossible, shared
 *   cache_flush_all is incremented instead), then shared cache_fail_seq is incremented. The pool
 *   may serve hits only while cache_fail_seq == cache_done_seq (a fresh process starts with 1/0,
 *   so its first use replays the backlog). A worker also replays after each reconnect that
 *   follows a failure (struct redis' reconnected).
 * - Replay: S = fail_seq; DEL the generation key of every (tenant, module) of the backlog
 *   (pipelined, by the cache); a new epoch token if flush_all was set; delete the replayed rows;
 *   raise done_seq to S. Rows are deleted per (tenant, module) up to the highest id seen, not by
 *   one global "id <= max": ids commit out of order, and a row of another module committed after
 *   the SELECT with a smaller id must survive. While the gate is closed and the replay cannot
 *   run (Redis or PostgreSQL unreachable, or the caller is inside a transaction), reads are
 *   misses and nothing is stored.
 * - cache_flush_all counts unrecorded failures. It is cleared (by CAS, after the new epoch is
 *   set) only if no failure came meanwhile; until then every concurrent replayer renews the
 *   epoch itself before it opens the gate, so none can open it ahead of the renewal.
 * - A worker that dies without finishing (SIGKILL, a crash) may have committed a write and not
 *   invalidated it yet: the master then calls cache_backlog_distrust_all (flush_all, then the
 *   gate closes), so the next replay puts a new epoch in Redis before anything cached is served.
 */
#include "core/cache_backlog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/shared.h"

bool cache_backlog_clear(void)
{
    struct shared *sh = shared_get();

    return atomic_load(&sh->cache_fail_seq) == atomic_load(&sh->cache_done_seq);
}

void cache_backlog_record(struct db *db, int64_t tenant, const char *module, const char *reason)
{
    struct shared *sh = shared_get();
    bool recorded = false;

    if (db && !db->in_tx) {
        struct arena *a = arena_new();
        struct app_err err;
        char ts[24];
        const char *params[2];

        snprintf(ts, sizeof(ts), "%" PRId64, tenant);
        params[0] = ts;
        params[1] = module;
        recorded = db_exec(db, a, "INSERT INTO cache_backlog (tenant_id, module) VALUES ($1, $2)",
                           2, params, &err) != NULL;
        if (!recorded)
            log_warn("[CACHE] cannot record the deferred invalidation tenant=%" PRId64
                     " module=%s: %s; the whole cache will be invalidated",
                     tenant, module, err.msg);
        arena_free(a);
    } else if (db) {
        log_warn("[CACHE] invalidation inside a transaction for tenant=%" PRId64
                 " module=%s; the whole cache will be invalidated",
                 tenant, module);
    }
    /* The record must be visible before the gate closes: the replay reads fail_seq first. */
    if (!recorded)
        atomic_fetch_add(&sh->cache_flush_all, 1);
    atomic_fetch_add(&sh->cache_fail_seq, 1);
    /* Not rate limited: one line per write, like a successful INVALIDATE. */
    log_info("[CACHE] INVALIDATE deferred: tenant=%" PRId64 " module=%s (%s; %s)", tenant, module,
             reason,
             recorded ? "recorded in cache_backlog" : "whole cache flagged for invalidation");
}

void cache_backlog_distrust_all(void)
{
    struct shared *sh = shared_get();

    /* As for an invalidation that could not be recorded: flush_all first, then close the gate. */
    atomic_fetch_add(&sh->cache_flush_all, 1);
    atomic_fetch_add(&sh->cache_fail_seq, 1);
}

int cache_backlog_begin(struct db *db, struct arena *a, struct cache_backlog_replay *rp,
                        struct app_err *err)
{
    struct shared *sh = shared_get();
    PGresult *rows;
    size_t i;

    rp->n = 0;
    rp->entries = NULL;
    if (db && db->in_tx)
        return 1;
    rp->target = atomic_load(&sh->cache_fail_seq);
    rp->flush = atomic_load(&sh->cache_flush_all);
    if (!db)
        return 0;
    rows = db_exec(db, a,
                   "SELECT tenant_id, module, max(id) FROM cache_backlog "
                   "GROUP BY tenant_id, module ORDER BY 3",
                   0, NULL, err);
    if (!rows)
        return -1;
    rp->n = (size_t)PQntuples(rows);
    rp->entries = arena_alloc(a, (rp->n ? rp->n : 1) * sizeof(*rp->entries));
    for (i = 0; i < rp->n; i++) {
        rp->entries[i].tenant = strtoll(PQgetvalue(rows, (int)i, 0), NULL, 10);
        rp->entries[i].module = PQgetvalue(rows, (int)i, 1);
        rp->entries[i].max_id = PQgetvalue(rows, (int)i, 2);
    }
    return 0;
}

void cache_backlog_flushed(const struct cache_backlog_replay *rp)
{
    int flush = rp->flush;

    atomic_compare_exchange_strong(&shared_get()->cache_flush_all, &flush, 0);
}

int cache_backlog_finish(struct db *db, struct arena *a, const struct cache_backlog_replay *rp,
                         struct app_err *err)
{
    struct shared *sh = shared_get();
    uint_fast64_t done;
    size_t i;
    int rc = 0;

    /* Only the rows applied: per (tenant, module) up to the highest id we saw. */
    for (i = 0; i < rp->n; i++) {
        const char *params[3];

        params[0] = arena_sprintf(a, "%" PRId64, rp->entries[i].tenant);
        params[1] = rp->entries[i].module;
        params[2] = rp->entries[i].max_id;
        if (!db_exec(db, a,
                     "DELETE FROM cache_backlog WHERE tenant_id = $1 AND module = $2 AND id <= $3",
                     3, params, err)) {
            rc = -1;
            break;
        }
    }
    done = atomic_load(&sh->cache_done_seq);
    while (done < rp->target &&
           !atomic_compare_exchange_weak(&sh->cache_done_seq, &done, rp->target))
        ;
    return rc;
}
