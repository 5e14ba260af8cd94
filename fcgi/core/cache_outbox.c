/*
 * cache_outbox: invalidations that commit with their write, and the host's proof that it has
 * seen them (SPEC §9: no stale read after an acknowledged write, on any host).
 *
 * Protocol
 * - Write. The triggers of sql/008_cache_outbox.sql add a row (tenant, module) to cache_outbox
 *   in the write's own transaction. After COMMIT the writer reads its backend's rows, DELs
 *   their generation keys in Redis (core/cache.c) and deletes the rows it applied. If it cannot
 *   (Redis unreachable, refused, PostgreSQL lost after the COMMIT) it first withdraws its own
 *   host's trust: it raises the host's floor (shared memory) to now, which voids the trust of
 *   every poll of the host started by then, and lowers the host's listing in cache_hosts if a
 *   poll started by then wrote it. Then it does not answer until its rows are gone from the
 *   outbox (another host applied them), or no host is listed in cache_hosts as trusting, or
 *   CACHE_TRUST_MS + CACHE_ACK_MARGIN_MS have passed since it knew the COMMIT was done. A host
 *   alone thus answers at once; in a fleet the wait is for the other hosts.
 * - Poll. A host serves a cached read only while trust_until (pool shared memory) is ahead of
 *   its monotonic clock. One worker at a time (a claim in shared memory) polls: note T0; list
 *   the host in cache_hosts as trusting until the database's clock + CACHE_TRUST_MS; read the
 *   outbox (every tenant); DEL every (tenant, module) it holds; delete those rows; and, when
 *   all of that succeeded and the read was complete, set trust_until = T0 + CACHE_TRUST_MS.
 *   A poll that fails lowers the host's listing to the trust it still has. A serving host
 *   polls every CACHE_POLL_MS (when less than CACHE_TRUST_MS - CACHE_POLL_MS of trust is
 *   left), so its trust does not lapse while PostgreSQL and Redis answer.
 * - Idempotency-Key replay. Before a stored answer is repeated, the tenant's rows are applied
 *   as a writer applies its own (and waited out the same way when they cannot be).
 *
 * Invariants
 * I1 Every committed change of cached data has its (tenant, module) rows, committed with it.
 * I2 A row is deleted only after a DEL of its generation key that Redis acknowledged and that
 *    was sent after the row was read (so after its commit), or by stockctl purge once it is
 *    older than the longest cache TTL (no entry stored before it can still be alive).
 * I3 trust_until = T0 + CACHE_TRUST_MS only if a snapshot taken after T0 showed no row that
 *    was not applied. A value stored in Redis is tagged with the generation read before its
 *    load (core/cache.c), so a DEL makes every older value unservable.
 *    A poll's trust counts only if its T0 is after the host's floor.
 * I4 A host's listing in cache_hosts, committed before its snapshot, ends no earlier than its
 *    trust: it is written after T0 with the database's clock + CACHE_TRUST_MS, and only ever
 *    lowered to what the host's own clock says is left (a withdrawal lowers to now only the
 *    listing of a poll whose trust its floor has already voided).
 * Claim: a read that starts after a write W was acknowledged is not older than W. If W's own
 * DEL succeeded, Redis held the new generation before the ack. Otherwise the ack came after
 * one of: W's rows were gone (applied, I2); no host was listed as trusting; commit +
 * CACHE_TRUST_MS. Take a host still trusting at the read, from a poll at T0. If its snapshot
 * followed W's commit it saw W's rows and applied them (I3), or they were applied before (I2).
 * If it preceded the commit, its listing was committed before W's check (I4) and still ran
 * (trust outlasts the read), so W did not find "no host trusting"; and T0 < commit, so its
 * trust ended before commit + CACHE_TRUST_MS: it is not trusting at a read after the ack.
 * W's own host: W's floor follows its commit and precedes its ack, so a poll whose trust
 * counts at a read after the ack started after the commit, and saw W's rows.
 *
 * Bounds (measured by tests/integration/test_cache.c and tests/fleet/run.sh)
 * - A write whose DEL failed is answered at most CACHE_TRUST_MS + CACHE_ACK_MARGIN_MS after its
 *   COMMIT; about CACHE_POLL_MS when another host applies its rows; at once when no other
 *   host is listed as trusting (a host alone, or Redis down for the whole fleet after the
 *   first second).
 * - A host that cannot reach PostgreSQL, or Redis with rows owed, or that was paused (SIGSTOP),
 *   stops serving cached reads at most CACHE_TRUST_MS after its last good poll, and serves
 *   them again from its first good poll.
 * - A dead writer (worker or whole host killed after COMMIT) leaves rows that the next poll of
 *   any serving host applies: no flush of the whole cache is needed.
 * Failover (Sentinel, SPEC §11; core/redis.c finds the master)
 * - A poll's trust also needs a write its Redis accepted after T0: SET {prefix}:hosts:<host>
 *   PX CACHE_TRUST_MS, on the Redis whose run_id the poll's listing records
 *   (cache_hosts.redis_run_id, sql/011); a poll during which the connection moved to another
 *   Redis does not trust.
 * - F1 (lost DELs). A value is served only if its tag holds the run_id of the Redis it is read
 *   from (core/cache.c). A promoted replica has its own run_id, so every value written under the
 *   old master, replicated or not, is a miss on the new one: a DEL that the old master
 *   acknowledged and the asynchronous replication lost cannot make an old value current again.
 *   (A demoted master keeps its run_id, but Sentinel's reconfiguration kills its clients, and a
 *   connect needs ROLE master.) Tested by tests/sentinel/run.sh (the old token put back).
 * - F2 (two masters). An old master cut off from its replicas, together with some app hosts,
 *   may take writes until min-replicas-to-write makes it refuse them (NOREPLICAS), about
 *   min-replicas-max-lag + 2 s after the cut (deploy/redis/). Meanwhile invalidations applied on
 *   the new master do not reach it. So: outbox rows are deleted only while no host is listed as
 *   trusting a cache on another Redis (run_id; '' is not compared), in the statement of the
 *   DELETE itself; such a host's polls apply them on its Redis (I3 then holds for it too). A
 *   writer whose rows had to stay answers once they are gone, no such host is listed, or
 *   CACHE_TRUST_MS + CACHE_ACK_MARGIN_MS after its COMMIT, as in the deferred case.
 * - Bound: a host left with the old master serves cached reads at most CACHE_TRUST_MS after the
 *   old master refuses writes. No stale read follows from F2 if the old master refuses writes
 *   before a replica is promoted (Sentinel's down-after-milliseconds >= (min-replicas-max-lag +
 *   2) s, as deploy/redis/ ships it): until then no host trusts another Redis, so no row can be
 *   deleted unseen by it. With a shorter down-after, a host of the old master's side whose
 *   listing lapsed (a failed poll) and that polls again before the old master refuses writes
 *   could trust it without the rows deleted meanwhile: stale for at most that remaining time +
 *   CACHE_TRUST_MS. A partition that leaves a replica with the old master defeats
 *   min-replicas-to-write 1 (choose it above what a partition can leave there).
 * - The same holds after a plain Redis restart (a new run_id): hosts still listed with the old
 *   one keep the rows and make writers wait until their next poll lists the new one (within
 *   about CACHE_POLL_MS for a serving host; at most the window).
 * - A writer that applied its rows pays no extra round trip: the check is in the DELETE
 *   (pgbench, loopback, 3 hosts listed: 0.21 ms for the plain DELETE, 0.30 ms with the check
 *   folded in; a separate SELECT would cost 0.10 ms more plus one network round trip).
 * Clocks: the host's trust and the writer's window are durations on one host's CLOCK_MONOTONIC;
 * cache_hosts compares the database's clock with itself. No two machines' clocks are compared
 * (a step of the database server's wall clock could shorten a writer's wait by its size).
 * PgBouncer: any pooling mode. A writer finds its rows by its connection's application_name
 * (sql/010, core/db.c db_writer), which PgBouncer keeps across the server connections it lends;
 * pg_backend_pid() would name another server connection in the next transaction.
 */
#include "core/cache_outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/shared.h"

int64_t cache_outbox_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cache_outbox_read(struct db *db, struct arena *a, enum cache_outbox_scope scope, int64_t tenant,
                      struct cache_outbox_batch *b, struct app_err *err)
{
    static const char own_sql[] = "SELECT id, tenant_id, module FROM cache_outbox "
                                  "WHERE writer = current_setting('application_name') "
                                  "ORDER BY id LIMIT 500";
    static const char tenant_sql[] = "SELECT id, tenant_id, module FROM cache_outbox "
                                     "WHERE tenant_id = $1 ORDER BY id LIMIT 500";
    static const char all_sql[] = "SELECT id, tenant_id, module FROM cache_outbox "
                                  "ORDER BY id LIMIT 500";
    const char *params[1];
    PGresult *res;
    struct buf ids;
    size_t i, j, rows;

    memset(b, 0, sizeof(*b));
    if (db_in_transaction(db)) {
        err_set(err, ERR_INTERNAL, "database error");
        return err_detail(err, "cache_outbox_read: inside a transaction");
    }
    params[0] = arena_sprintf(a, "%" PRId64, tenant);
    if (scope == OUTBOX_OWN)
        res = db_exec(db, a, own_sql, 0, NULL, err);
    else if (scope == OUTBOX_TENANT)
        res = db_exec(db, a, tenant_sql, 1, params, err);
    else
        res = db_exec(db, a, all_sql, 0, NULL, err);
    if (!res)
        return -1;
    rows = (size_t)PQntuples(res);
    b->complete = rows < CACHE_OUTBOX_BATCH;
    b->rows = arena_alloc(a, (rows ? rows : 1) * sizeof(*b->rows));
    buf_init(&ids);
    buf_addch(&ids, '{');
    for (i = 0; i < rows; i++) {
        int64_t t = strtoll(PQgetvalue(res, (int)i, 1), NULL, 10);
        const char *m = PQgetvalue(res, (int)i, 2);

        buf_addf(&ids, "%s%s", i ? "," : "", PQgetvalue(res, (int)i, 0));
        for (j = 0; j < b->n; j++)
            if (b->rows[j].tenant == t && !strcmp(b->rows[j].module, m))
                break;
        if (j == b->n) {
            b->rows[b->n].tenant = t;
            b->rows[b->n].module = arena_strdup(a, m);
            b->n++;
        }
    }
    buf_addch(&ids, '}');
    b->ids = arena_strndup(a, ids.data, ids.len);
    buf_release(&ids);
    return 0;
}

/*
 * The statements below ask for the hosts listed as trusting a cache on another Redis than $2
 * (its run_id; '' is not compared), written out in each: SQL is literal text only
 * (tests/security/sql_check.sh).
 */
int cache_outbox_delete(struct db *db, struct arena *a, const struct cache_outbox_batch *b,
                        const char *run_id, bool *kept, struct app_err *err)
{
    /* One statement: the check costs no round trip (the DELETE of a CTE runs in any case). */
    static const char keep_sql[] =
        "WITH f AS (SELECT EXISTS (SELECT 1 FROM cache_hosts WHERE trusted_until > "
        "clock_timestamp() AND redis_run_id <> '' AND redis_run_id <> $2) AS other), "
        "d AS (DELETE FROM cache_outbox WHERE id = ANY($1::bigint[]) "
        "AND NOT (SELECT other FROM f) RETURNING 1) SELECT other FROM f";
    const char *params[2] = {b->ids, run_id};
    PGresult *res;

    if (kept)
        *kept = false;
    if (!b->n)
        return 0;
    if (!run_id)
        return db_exec(db, a, "DELETE FROM cache_outbox WHERE id = ANY($1::bigint[])", 1, params,
                       err)
                   ? 0
                   : -1;
    res = db_exec(db, a, keep_sql, 2, params, err);
    if (!res)
        return -1;
    if (kept)
        *kept = PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 0), "t");
    return 0;
}

int cache_outbox_register(struct db *db, struct arena *a, int64_t ms, int64_t started,
                          const char *run_id, struct app_err *err)
{
    static char name[96];
    const char *params[5] = {shared_get()->cache_host, name, arena_sprintf(a, "%" PRId64, ms),
                             arena_sprintf(a, "%" PRId64, started), run_id ? run_id : ""};

    if (!name[0]) {
        char host[64] = "";

        gethostname(host, sizeof(host) - 1);
        snprintf(name, sizeof(name), "%s pid %ld", host, (long)getppid());
    }
    return db_exec(
               db, a,
               "INSERT INTO cache_hosts (host, name, trusted_until, poll_started, redis_run_id) "
               "VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3::int / 1000.0), "
               "$4::bigint, $5) "
               "ON CONFLICT (host) DO UPDATE SET name = EXCLUDED.name, "
               "trusted_until = EXCLUDED.trusted_until, poll_started = EXCLUDED.poll_started, "
               "redis_run_id = CASE WHEN EXCLUDED.redis_run_id = '' "
               "THEN cache_hosts.redis_run_id ELSE EXCLUDED.redis_run_id END",
               5, params, err)
               ? 0
               : -1;
}

void cache_outbox_withdraw(struct db *db, struct arena *a)
{
    struct shared *sh = shared_get();
    int64_t now = cache_outbox_now_ms(), floor = atomic_load(&sh->cache_trust_floor_ms);
    const char *params[2];
    struct app_err err;

    /* The floor only rises: every poll started by now stops counting, on every worker. */
    while (floor < now && !atomic_compare_exchange_weak(&sh->cache_trust_floor_ms, &floor, now))
        ;
    if (!db || db_in_transaction(db))
        return;
    /* A listing written by a poll started after the floor is left alone: that poll's snapshot
     * follows the caller's COMMIT (it must apply the caller's rows to be trusted), while
     * another writer may be waiting for it. */
    params[0] = sh->cache_host;
    params[1] = arena_sprintf(a, "%" PRId64, now);
    if (!db_exec(db, a,
                 "UPDATE cache_hosts SET trusted_until = least(trusted_until, clock_timestamp()) "
                 "WHERE host = $1 AND poll_started <= $2::bigint",
                 2, params, &err))
        log_debug("[CACHE] cannot withdraw this host's listing in cache_hosts: %s", err.msg);
}

bool cache_outbox_settled(struct db *db, struct arena *a, const struct cache_outbox_batch *b,
                          const char *run_id)
{
    static const char hosts_sql[] =
        "SELECT NOT EXISTS (SELECT 1 FROM cache_hosts WHERE trusted_until > clock_timestamp() "
        "AND ($1::text IS NULL OR (redis_run_id <> '' AND redis_run_id <> $1)))";
    static const char rows_sql[] =
        "SELECT NOT EXISTS (SELECT 1 FROM cache_outbox WHERE id = ANY($1::bigint[])) "
        "OR NOT EXISTS (SELECT 1 FROM cache_hosts WHERE trusted_until > clock_timestamp() "
        "AND ($2::text IS NULL OR (redis_run_id <> '' AND redis_run_id <> $2)))";
    const char *params[2] = {b->ids, run_id};
    struct app_err err;
    PGresult *res;

    if (db_in_transaction(db))
        return false;
    if (!b->n)
        res = db_exec(db, a, hosts_sql, 1, params + 1, &err);
    else
        res = db_exec(db, a, rows_sql, 2, params, &err);
    return res && PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 0), "t");
}

/* The host's trust at now in ms, 0 when it has expired or was withdrawn. */
int64_t cache_outbox_trust_left(int64_t now)
{
    struct shared *sh = shared_get();
    int64_t until = atomic_load(&sh->cache_trust_until_ms);

    /* until comes from a poll started at until - CACHE_TRUST_MS: void if that is not after
     * the floor a writer of this host set (cache_outbox_withdraw). */
    if (until - CACHE_TRUST_MS <= atomic_load(&sh->cache_trust_floor_ms))
        return 0;
    return until > now ? until - now : 0;
}

enum cache_trust cache_outbox_trust(int64_t now)
{
    int64_t left = cache_outbox_trust_left(now);

    if (!left)
        return TRUST_EXPIRED;
    return left > CACHE_TRUST_MS - CACHE_POLL_MS ? TRUST_OK : TRUST_DUE;
}

bool cache_outbox_claim(int64_t now)
{
    struct shared *sh = shared_get();
    int64_t held = atomic_load(&sh->cache_poll_until_ms);

    /* A claim lapses by itself, so that a poller that died does not stop every later poll. */
    if (held > now)
        return false;
    return atomic_compare_exchange_strong(&sh->cache_poll_until_ms, &held,
                                          now + 4 * CACHE_TRUST_MS);
}

void cache_outbox_polled(bool complete, int64_t sent)
{
    struct shared *sh = shared_get();

    if (complete) {
        int64_t until = atomic_load(&sh->cache_trust_until_ms), want = sent + CACHE_TRUST_MS;

        /* Trust only grows: a slow poll that started earlier must not shorten a later one. */
        while (until < want &&
               !atomic_compare_exchange_weak(&sh->cache_trust_until_ms, &until, want))
            ;
    }
    atomic_fetch_add(complete ? &sh->cache_polls : &sh->cache_poll_failures, 1);
    atomic_store(&sh->cache_poll_until_ms, 0);
}
