/*
 * shared: the one block of memory shared by the pool master and all its workers (mmap'd
 * MAP_SHARED before fork). It holds the counters /metrics sums and the host's trust in the
 * cache (see cache_outbox.c). Processes outside a pool (stockctl, tests) get a private block, which
 * keeps the same semantics for a single process.
 */
#ifndef STOCK_CORE_SHARED_H
#define STOCK_CORE_SHARED_H

#include <pthread.h>
#include <sys/types.h>
#include <stdatomic.h>
#include <stdint.h>

enum shared_module {
    MOD_BALANCE = 0,
    MOD_PRODUCTS,
    MOD_CATEGORIES,
    MOD_UOM,
    MOD_REPORTS,
    MOD_OTHER,
    MOD_COUNT
};

struct shared_cache_counters {
    atomic_uint_fast64_t hits, misses, errors, invalidations, sets, bypass;
    /* Values whose tag was current but whose MAC did not verify (SPEC §11). */
    atomic_uint_fast64_t rejected;
    /* Hits served by a worker's L1 (core/l1.c), also counted in hits. */
    atomic_uint_fast64_t l1_hits;
};

/*
 * The L1 channel (core/l1.c): written by the pool's L1 agent only, read by every worker.
 * chan_gen is odd while the channel is down (being set up); every change empties the L1s.
 * ring holds the invalidations the channel delivered, head the sequence of the last one.
 */
#define SHARED_L1_RING   8192
#define SHARED_L1_MODULE 32
enum shared_l1_kind { L1_EV_GEN = 1, L1_EV_FLUSH };
struct shared_l1_event {
    _Atomic uint64_t seq;
    int kind;
    int64_t tenant;
    char module[SHARED_L1_MODULE];
};
struct shared_l1 {
    _Atomic uint64_t chan_gen;
    char run_id[48];            /* of the Redis the channel listens to (while chan_gen is even) */
    _Atomic int64_t hb_sent_us; /* send time of the last heartbeat that came back, monotonic */
    _Atomic int64_t floor_us;   /* the end of the last poll that granted trust (cache.c) */
    _Atomic uint64_t head;
    _Atomic pid_t agent_pid;
    atomic_uint_fast64_t resets;         /* channel set up again (every L1 emptied) */
    atomic_uint_fast64_t agent_restarts; /* agents the master had to start again */
    atomic_uint_fast64_t evictions;      /* entries the workers' LRU dropped for the bound */
    struct shared_l1_event ring[SHARED_L1_RING];
};

/*
 * Per-route request counters. Slot 0 is "none" (no route matched: 404, 405, or a request that
 * could not be parsed); route i of the route table (routes.c) is slot i + 1. Slots past
 * SHARED_ROUTES - 1 fall back to slot 0.
 */
#define SHARED_ROUTES 128

/* The statuses counted one by one; any other status is SHARED_STATUS_OTHER. */
enum shared_status {
    SHARED_STATUS_200 = 0,
    SHARED_STATUS_201,
    SHARED_STATUS_204,
    SHARED_STATUS_304,
    SHARED_STATUS_400,
    SHARED_STATUS_401,
    SHARED_STATUS_403,
    SHARED_STATUS_404,
    SHARED_STATUS_405,
    SHARED_STATUS_409,
    SHARED_STATUS_413,
    SHARED_STATUS_415,
    SHARED_STATUS_422,
    SHARED_STATUS_429,
    SHARED_STATUS_500,
    SHARED_STATUS_503,
    SHARED_STATUS_OTHER,
    SHARED_STATUS_COUNT
};

/* Latency histogram bounds (le, seconds): 1 ms .. 2.5 s, then +Inf. */
#define SHARED_LATENCY_BOUNDS 11

/*
 * One route's counters. Latency buckets are stored non-cumulative (each request adds to exactly
 * one, the last being "above every bound"), so that a reader summing them gets a consistent
 * cumulative histogram whose +Inf equals its count.
 */
struct shared_route_counters {
    atomic_uint_fast64_t by_status[SHARED_STATUS_COUNT];
    atomic_uint_fast64_t latency[SHARED_LATENCY_BOUNDS + 1];
    atomic_uint_fast64_t latency_sum_us;
};

#define SHARED_RL_SLOTS 4096

/* One fixed-window counter of the pool-wide rate limiter (see ratelimit.h). */
struct shared_rl_slot {
    uint64_t key;
    int64_t window_start; /* seconds, CLOCK_REALTIME */
    uint32_t count;
};

struct shared {
    /* the host's trust in the cache (core/cache_outbox.c): monotonic ms */
    _Atomic int64_t cache_trust_until_ms;     /* cached reads are served only before this */
    _Atomic int64_t cache_poll_until_ms;      /* a worker is polling the outbox until this */
    _Atomic int64_t cache_trust_floor_ms;     /* trust from a poll started by then is void */
    atomic_uint_fast64_t cache_polls;         /* complete polls */
    atomic_uint_fast64_t cache_poll_failures; /* polls that could not read or apply the outbox */
    atomic_uint_fast64_t cache_ack_waits;     /* writes answered only once the fleet applied */
    char cache_host[33]; /* this host's random id in cache_hosts (hex), fixed at creation */
    /* The pool master, set before the first fork (0 outside a pool): a child whose parent is
     * another process was orphaned before its PR_SET_PDEATHSIG took effect (a master may be
     * PID 1, in a container). */
    pid_t master_pid;

    struct shared_cache_counters cache[MOD_COUNT];
    struct shared_l1 l1;
    atomic_uint_fast64_t requests_total;
    atomic_uint_fast64_t responses_by_class[6]; /* index status/100: 1xx..5xx */
    struct shared_route_counters routes[SHARED_ROUTES];
    atomic_uint_fast64_t db_queries;
    atomic_uint_fast64_t db_errors;
    atomic_uint_fast64_t worker_restarts;
    atomic_int redis_up; /* last state seen by any worker: 1 up, 0 down */
    atomic_int db_up;

    /* the pool-wide rate limiter: a process-shared robust mutex over a small hash table */
    pthread_mutex_t rl_lock;
    unsigned char rl_key[16]; /* keyed hash of the limiter, the same in every worker */
    struct shared_rl_slot rl[SHARED_RL_SLOTS];
#ifdef STOCK_FAULT_INJECTION
    atomic_uint_fast64_t fault_once; /* test builds: the last "crash-once-<token>" obeyed */
#endif
};

/* The process's shared block: created on first use (private), or by shared_create_for_pool. */
struct shared *shared_get(void);

/* Creates the block as MAP_SHARED so forked workers share it. Call before fork. -1 on error. */
int shared_create_for_pool(void) __attribute__((warn_unused_result));

/* The module index of a cache module name ("products" -> MOD_PRODUCTS, unknown -> MOD_OTHER). */
enum shared_module shared_module_of(const char *module);
const char *shared_module_name(enum shared_module m);

/*
 * Counts one response: requests_total, its status class, and the route slot's status counter,
 * latency bucket and latency sum (us: microseconds from the start of the request to its
 * response). Lock-free (relaxed atomics): safe from any worker at any time.
 */
void shared_request_record(size_t route_slot, int status, int64_t us);

/* The HTTP status an enum shared_status stands for; 0 for SHARED_STATUS_OTHER. */
int shared_status_code(enum shared_status s);

/* The le label of latency bound i ("0.001" .. "2.5"), "+Inf" for i == SHARED_LATENCY_BOUNDS. */
const char *shared_latency_le(int i);

#endif
