/*
 * cache_outbox: the invalidations every write commits with it (table cache_outbox, filled by
 * the triggers of sql/008_cache_outbox.sql), and the host's trust in the cache: a host serves
 * a cached read only while it has seen, within CACHE_TRUST_MS, every invalidation committed
 * before. The protocol, its invariants and its bounds are at the top of cache_outbox.c; what an
 * invalidation does in Redis is the cache's business (core/cache.c).
 */
#ifndef STOCK_CORE_CACHE_OUTBOX_H
#define STOCK_CORE_CACHE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/err.h"

/* The bounds of the protocol (the same on every host: they are not configuration). */
#define CACHE_TRUST_MS      1000 /* a poll makes the cache trusted for this long */
#define CACHE_POLL_MS       250  /* a serving host polls the outbox this often */
#define CACHE_ACK_MARGIN_MS 50   /* added to CACHE_TRUST_MS by a writer that waits it out */
#define CACHE_OUTBOX_BATCH  500  /* rows read at a time (the LIMIT of cache_outbox.c's SQL) */

/* Monotonic milliseconds (the clock of every bound here). */
int64_t cache_outbox_now_ms(void);

/* Which rows a read takes: a writer's own (its backend's), a tenant's, or everyone's. */
enum cache_outbox_scope { OUTBOX_OWN, OUTBOX_TENANT, OUTBOX_ALL };

struct cache_outbox_row {
    int64_t tenant;
    const char *module;
};

/* Rows read, in the arena: ids (a PostgreSQL array literal) to delete once applied. */
struct cache_outbox_batch {
    size_t n;
    struct cache_outbox_row *rows; /* n distinct (tenant, module), in id order */
    const char *ids;               /* "{1,2,...}" of every row read */
    bool complete;                 /* fewer than CACHE_OUTBOX_BATCH rows: nothing else was owed */
};

/*
 * Reads at most CACHE_OUTBOX_BATCH rows of scope (tenant for OUTBOX_TENANT) through db.
 * 0, or -1 with err (db inside a transaction counts as a failure: our statements must neither
 * join nor abort it).
 */
int cache_outbox_read(struct db *db, struct arena *a, enum cache_outbox_scope scope, int64_t tenant,
                      struct cache_outbox_batch *b, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Deletes the rows of b, which the caller applied on the Redis whose run_id is run_id; with
 * run_id NULL (nothing applied: the cache is disabled) unconditionally. While a host is listed
 * as trusting a cache on another Redis (cache_hosts.redis_run_id, after a failover) the rows
 * are kept, for that host's polls to apply on its Redis, and *kept (may be NULL) is set.
 * 0, or -1 (they are applied again later).
 */
int cache_outbox_delete(struct db *db, struct arena *a, const struct cache_outbox_batch *b,
                        const char *run_id, bool *kept, struct app_err *err);

/*
 * Records in cache_hosts that this host may trust its cache for ms more milliseconds (by the
 * database's clock): CACHE_TRUST_MS before a poll reads the outbox, and what is left of the
 * current trust after a poll that failed; started: when the poll started (monotonic ms);
 * run_id: of the Redis the poll applies on (NULL or "": leave the recorded one).
 * 0, or -1 (a poll must then not trust).
 */
int cache_outbox_register(struct db *db, struct arena *a, int64_t ms, int64_t started,
                          const char *run_id, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * For a writer of this host whose own rows could not be applied: voids the trust of every poll
 * of this host started until now (a poll started later reads the writer's rows), and lowers
 * the host's listing in cache_hosts accordingly, so that a writer waits only for other hosts.
 * db may be NULL or unreachable: the host's own trust is voided all the same.
 */
void cache_outbox_withdraw(struct db *db, struct arena *a);

/* Milliseconds of trust this host has left at now (0 when expired). */
int64_t cache_outbox_trust_left(int64_t now);

/*
 * For a writer waiting for its rows b: true when they are gone from the outbox (another host
 * applied them) or no host is listed as trusting any more; false while it must wait (or when
 * the database cannot say). With b->n == 0 (the rows are not known) only the latter. run_id
 * set (a writer that applied b on that Redis but had to keep the rows, *kept above): only the
 * hosts trusting a cache on another Redis count.
 */
bool cache_outbox_settled(struct db *db, struct arena *a, const struct cache_outbox_batch *b,
                          const char *run_id);

/* The host's trust at now: OK, DUE (still trusted, but a poll is due) or EXPIRED. */
enum cache_trust { TRUST_OK, TRUST_DUE, TRUST_EXPIRED };
enum cache_trust cache_outbox_trust(int64_t now);

/*
 * One poll at a time per host: true when the caller may poll now (it then calls
 * cache_outbox_polled, whatever the outcome).
 */
bool cache_outbox_claim(int64_t now);
/* Ends a poll; complete: every row the poll's snapshot held was applied, so the host is
 * trusted until sent + CACHE_TRUST_MS (sent: the time just before the poll's SELECT). */
void cache_outbox_polled(bool complete, int64_t sent);

#endif
