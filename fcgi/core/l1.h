/*
 * l1: each worker's in-process cache in front of Redis, kept coherent by Redis itself (client
 * tracking, see l1.c for the protocol and its bounds), and the agent process that listens to
 * Redis for the whole pool (l1_agent.c).
 */
#ifndef STOCK_CORE_L1_H
#define STOCK_CORE_L1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "core/config.h"
#include "core/shared.h"

/* A heartbeat sent this recently must have come back through the channel for the L1 to serve;
 * a write that invalidated waits as long after its DEL before it answers (cache.c). */
#define L1_LIVE_MS 10
/* The agent's heartbeat period, and how long it waits for one before it starts over. */
#define L1_HB_MS    2
#define L1_STALL_MS 100

struct l1_entry;

struct l1 {
    size_t bound; /* bytes; 0 = off */
    size_t bytes; /* entries and table, as counted against bound */
    size_t count;
    struct l1_entry **tab;
    size_t nbuckets;                /* a power of two */
    struct l1_entry *lru, *lru_end; /* most recently used first */
    uint64_t gen;                   /* the channel generation the entries belong to */
    uint64_t seq;                   /* the last invalidation of the ring applied */
    char run_id[48];                /* of the Redis the channel of gen listens to */
    unsigned char hkey[crypto_shorthash_KEYBYTES];
    uint64_t evictions;
};

/* What a fill must still find when it stores (nothing delivered since, same channel). */
struct l1_snap {
    uint64_t gen, seq;
    bool up; /* the channel was up: a fill may be stored */
};

void l1_init(struct l1 *l, size_t bound);
void l1_release(struct l1 *l);

/* Empties the L1. */
void l1_clear(struct l1 *l);

/*
 * Applies what the channel delivered since the last call (every worker calls it before each
 * lookup). True when the L1 may serve now (the caller also needs the host's trust). snap
 * receives what a fill started now must still find to be stored.
 */
bool l1_sync(struct l1 *l, struct l1_snap *snap);

/* The entry of key when it is present and not past its signed expiry (now, unix seconds). */
bool l1_get(struct l1 *l, const char *key, int64_t now, const char **data, size_t *len,
            bool *found);

/*
 * Stores a value read from (or just stored in) the Redis of run_id, unless the channel moved
 * since snap: another generation, any invalidation delivered, or another Redis.
 */
void l1_put(struct l1 *l, const struct l1_snap *snap, const char *run_id, int64_t tenant,
            const char *module, const char *key, bool found, const char *data, size_t len,
            int64_t exp);

/* The channel's writer (the agent, or a test): one invalidation into the ring. */
void l1_channel_push(struct shared_l1 *ch, int kind, int64_t tenant, const char *module,
                     size_t mlen);

/* The pool's L1 agent: runs until SIGTERM or the death of its parent. Returns an exit status. */
int l1_agent_main(const struct config *cf);

/* Monotonic microseconds. */
int64_t l1_now_us(void);

#endif
