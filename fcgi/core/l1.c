/*
 * l1: each worker's in-process cache of verified cache values (sessions and cached reads), in
 * front of Redis (core/cache.c), kept coherent by Redis' own client tracking.
 *
 * Design
 * - Per worker, not per pool: no lock, no shared-memory allocator, a hit is a hash lookup and a
 *   memcpy. The bound (CACHE_L1_BYTES, LRU) is per worker, counted over the entries (struct,
 *   key, value) and the hash table. Keys are hashed with SipHash (libsodium crypto_shorthash)
 *   under a random key: a client choosing query strings cannot aim at one bucket.
 * - An entry holds what core/cache.c verified (MAC, tag = run_id.epoch.gen, signed expiry)
 *   and is served only before that signed expiry, as from Redis.
 * - The channel: one agent process per pool (l1_agent.c; the master restarts it) holds two
 *   connections to the Redis the workers use. "sub" is SUBSCRIBEd to __redis__:invalidate;
 *   "track" has CLIENT TRACKING on REDIRECT <sub> BCAST PREFIX "{prefix}:", so every change of
 *   a key under the prefix (a write, a DEL, an expiry, an eviction; a FLUSHALL as a null) is
 *   sent to sub, in the order Redis made them (one connection, and the keys changed in one
 *   event-loop cycle in one message). Every L1_HB_MS the agent SETs its heartbeat key
 *   {prefix}:l1hb:<host> on track and notes the send time; when the key comes back on sub,
 *   every change Redis made before that SET has been delivered, and hb_sent (shared memory)
 *   takes that send time. The agent pushes into the pool's ring (shared memory, one writer)
 *   the changes that matter: a generation key (tenant, module) or the epoch (everything), or a
 *   null (everything); other keys are ignored. A drop or an error of either connection, a
 *   heartbeat not back within L1_STALL_MS, or a Redis with another run_id ends the channel:
 *   chan_gen becomes odd (down), then even again once a new channel is set up, and every
 *   worker empties its L1 when it sees chan_gen change.
 * - A worker, before each lookup (l1_sync): applies the ring's new events (an event lost to an
 *   overflow of the ring empties the L1); serves only if chan_gen is even and the same as its
 *   entries', hb_sent is less than L1_LIVE_MS old, and hb_sent is not before floor (the end of
 *   the last outbox poll that granted the host's trust, core/cache.c); and the host's trust
 *   holds (core/cache_outbox.c), as for any cached read.
 * - A fill (a value read from Redis, or loaded and stored there) is stored only if the channel
 *   did not move between the sync before its Redis read and the store: same chan_gen, no new
 *   event at all, the Redis it was read from is the channel's. A fill that raced an
 *   invalidation is therefore never stored; one whose invalidation is still on its way is
 *   dropped when it arrives (below).
 *
 * Invariants
 * L1 A DEL that Redis made at time x is applied to a worker's L1 before that worker serves
 *    from it with an hb_sent after x (the heartbeat's SET followed the DEL; its message comes
 *    after, or with, the DEL's; the agent pushes a message's events before it publishes the
 *    heartbeat; a worker reads hb_sent before the ring).
 * L2 An entry was verified current by a Redis read made while the channel of its chan_gen was
 *    set up (tracking enabled before chan_gen was published), so every change after that read
 *    reaches the channel of that chan_gen; a new channel starts from an empty L1.
 * L3 A write that invalidated answers no earlier than L1_LIVE_MS after the moment it knew its
 *    invalidation applied in Redis (its own DEL acknowledged, its rows seen applied by another
 *    host, or an Idempotency-Key replay's check), core/cache.c (cache_l1_wait).
 * Claim (SPEC §9 with L1s): a read at t after the ack of write W, on any host H, served from
 * H's L1, needs hb_sent > t - L1_LIVE_MS >= x (L3) where x is the time Redis made W's DEL, so
 * by L1 the entry W made stale was dropped. When W's DEL was left to the outbox and W answered
 * on "no host trusting" or the window (cache_outbox.c), H's trust at t comes from a poll whose
 * snapshot followed W's COMMIT, which ended after W's DEL was made (it applied it, or saw it
 * applied), and hb_sent >= floor >= the end of that poll: L1 again.
 *
 * Bounds (measured by tests/integration/test_l1.c and tests/fleet)
 * - A write that invalidated answers L1_LIVE_MS (10 ms) after its DEL (whether or not any host
 *   runs an L1: the setting may differ between hosts).
 * - The L1 stops serving at most L1_LIVE_MS after its channel stops proving itself (agent
 *   killed or paused, connection killed, output buffer overflow, Redis paused), and is emptied
 *   when the agent sets up a channel again (at once when Redis closes a connection, within
 *   L1_STALL_MS when it goes silent).
 * - Redis itself lying (withholding an invalidation, replaying a heartbeat): an entry is never
 *   served past its signed expiry, the module's TTL (as for a replay from Redis, cache.c).
 */
#include "core/l1.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define L1_BUCKETS_MIN 256
/* What an entry costs besides its key and value (malloc's own header included). */
#define L1_ENTRY_OVERHEAD (sizeof(struct l1_entry) + 16)

struct l1_entry {
    struct l1_entry *hnext;
    struct l1_entry *prev, *next; /* LRU */
    uint64_t h;
    int64_t tenant;
    int64_t exp;
    size_t klen, dlen, cost;
    bool found;
    char module[SHARED_L1_MODULE];
    char kd[]; /* key, NUL, value, NUL */
};

int64_t l1_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void l1_channel_push(struct shared_l1 *ch, int kind, int64_t tenant, const char *module,
                     size_t mlen)
{
    uint64_t s = atomic_load_explicit(&ch->head, memory_order_relaxed) + 1;
    struct shared_l1_event *ev = &ch->ring[s % SHARED_L1_RING];

    atomic_store_explicit(&ev->seq, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    ev->kind = kind;
    ev->tenant = tenant;
    memset(ev->module, 0, sizeof(ev->module));
    if (module && mlen < sizeof(ev->module))
        memcpy(ev->module, module, mlen);
    atomic_store_explicit(&ev->seq, s, memory_order_release);
    atomic_store_explicit(&ch->head, s, memory_order_release);
}

static uint64_t l1_hash(const struct l1 *l, const char *key, size_t n)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h = 0;
    int i;

    crypto_shorthash(out, (const unsigned char *)key, n, l->hkey);
    for (i = 0; i < 8; i++)
        h |= (uint64_t)out[i] << (8 * i);
    return h;
}

void l1_init(struct l1 *l, size_t bound)
{
    memset(l, 0, sizeof(*l));
    if (sodium_init() < 0)
        bound = 0; /* no hash key: off */
    l->bound = bound;
    randombytes_buf(l->hkey, sizeof(l->hkey));
}

static void l1_unlink_lru(struct l1 *l, struct l1_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->lru = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->lru_end = e->prev;
    e->prev = e->next = NULL;
}

static void l1_push_lru(struct l1 *l, struct l1_entry *e)
{
    e->prev = NULL;
    e->next = l->lru;
    if (l->lru)
        l->lru->prev = e;
    l->lru = e;
    if (!l->lru_end)
        l->lru_end = e;
}

static void l1_remove(struct l1 *l, struct l1_entry *e)
{
    struct l1_entry **pp = &l->tab[e->h & (l->nbuckets - 1)];

    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    l1_unlink_lru(l, e);
    l->bytes -= e->cost;
    l->count--;
    free(e);
}

void l1_clear(struct l1 *l)
{
    struct l1_entry *e = l->lru, *next;

    for (; e; e = next) {
        next = e->next;
        free(e);
    }
    l->lru = l->lru_end = NULL;
    if (l->tab)
        memset(l->tab, 0, l->nbuckets * sizeof(*l->tab));
    l->bytes = l->nbuckets * sizeof(*l->tab);
    l->count = 0;
}

void l1_release(struct l1 *l)
{
    l1_clear(l);
    free(l->tab);
    l->tab = NULL;
    l->nbuckets = 0;
    l->bytes = 0;
}

/* Drops every entry of (tenant, module): its generation changed. */
static void l1_drop(struct l1 *l, int64_t tenant, const char *module)
{
    struct l1_entry *e = l->lru, *next;

    for (; e; e = next) {
        next = e->next;
        if (e->tenant == tenant && !strcmp(e->module, module))
            l1_remove(l, e);
    }
}

static void l1_apply(struct l1 *l, const struct shared_l1_event *ev)
{
    if (ev->kind == L1_EV_GEN)
        l1_drop(l, ev->tenant, ev->module);
    else
        l1_clear(l);
}

/* Applies the ring's events after l->seq. */
static void l1_drain_ring(struct l1 *l, struct shared_l1 *ch)
{
    uint64_t head = atomic_load_explicit(&ch->head, memory_order_acquire), s;

    if (head - l->seq > SHARED_L1_RING - 2) {
        l1_clear(l);
        l->seq = head;
        return;
    }
    for (s = l->seq + 1; s <= head; s++) {
        const struct shared_l1_event *slot = &ch->ring[s % SHARED_L1_RING];
        struct shared_l1_event ev;

        if (atomic_load_explicit(&slot->seq, memory_order_acquire) != s)
            goto lost;
        ev.kind = slot->kind;
        ev.tenant = slot->tenant;
        memcpy(ev.module, slot->module, sizeof(ev.module));
        ev.module[sizeof(ev.module) - 1] = '\0';
        /* The writer rewrites slot s only once head reached s + RING - 1. */
        if (atomic_load_explicit(&ch->head, memory_order_acquire) > s + SHARED_L1_RING - 2)
            goto lost;
        l1_apply(l, &ev);
    }
    l->seq = head;
    return;
lost:
    l1_clear(l);
    l->seq = atomic_load_explicit(&ch->head, memory_order_acquire);
}

bool l1_sync(struct l1 *l, struct l1_snap *snap)
{
    struct shared_l1 *ch = &shared_get()->l1;
    int64_t hb, floor, now;
    uint64_t gen, gen2;

    snap->up = false;
    if (!l->bound)
        return false;
    /* hb_sent first: the events it vouches for are in the ring by the time it was published. */
    hb = atomic_load_explicit(&ch->hb_sent_us, memory_order_acquire);
    floor = atomic_load_explicit(&ch->floor_us, memory_order_acquire);
    gen = atomic_load_explicit(&ch->chan_gen, memory_order_acquire);
    if (gen != l->gen) {
        /* A new channel (or none): what the old one vouched for is gone. */
        l1_clear(l);
        l->gen = gen;
        l->run_id[0] = '\0';
        if (gen == 0 || (gen & 1))
            return false;
        memcpy(l->run_id, ch->run_id, sizeof(l->run_id));
        l->run_id[sizeof(l->run_id) - 1] = '\0';
        l->seq = atomic_load_explicit(&ch->head, memory_order_acquire);
        gen2 = atomic_load_explicit(&ch->chan_gen, memory_order_acquire);
        if (gen2 != gen) {
            l->gen = UINT64_MAX; /* never a channel's: read again next time */
            return false;
        }
    }
    if (gen == 0 || (gen & 1))
        return false;
    l1_drain_ring(l, ch);
    snap->gen = gen;
    snap->seq = l->seq;
    snap->up = true;
    now = l1_now_us();
    return hb > 0 && hb >= floor && now - hb < (int64_t)L1_LIVE_MS * 1000;
}

static struct l1_entry *l1_find(struct l1 *l, const char *key, size_t n, uint64_t h)
{
    struct l1_entry *e;

    if (!l->tab)
        return NULL;
    for (e = l->tab[h & (l->nbuckets - 1)]; e; e = e->hnext)
        if (e->h == h && e->klen == n && !memcmp(e->kd, key, n))
            return e;
    return NULL;
}

bool l1_get(struct l1 *l, const char *key, int64_t now, const char **data, size_t *len, bool *found)
{
    size_t n = strlen(key);
    struct l1_entry *e;

    if (!l->count)
        return false;
    e = l1_find(l, key, n, l1_hash(l, key, n));
    if (!e)
        return false;
    if (e->exp <= now) {
        l1_remove(l, e);
        return false;
    }
    if (e != l->lru) {
        l1_unlink_lru(l, e);
        l1_push_lru(l, e);
    }
    *found = e->found;
    *data = e->found ? e->kd + e->klen + 1 : NULL;
    *len = e->found ? e->dlen : 0;
    return true;
}

/* Doubles the table when it holds more entries than buckets (and the bound allows it). */
static void l1_grow(struct l1 *l)
{
    size_t nb = l->nbuckets ? l->nbuckets * 2 : L1_BUCKETS_MIN, i;
    struct l1_entry **tab;
    struct l1_entry *e;

    if (l->tab && (l->count < l->nbuckets || (nb - l->nbuckets) * sizeof(*tab) > l->bound / 8))
        return;
    tab = calloc(nb, sizeof(*tab));
    if (!tab)
        return;
    for (e = l->lru; e; e = e->next) {
        i = e->h & (nb - 1);
        e->hnext = tab[i];
        tab[i] = e;
    }
    l->bytes += (nb - l->nbuckets) * sizeof(*tab);
    free(l->tab);
    l->tab = tab;
    l->nbuckets = nb;
}

void l1_put(struct l1 *l, const struct l1_snap *snap, const char *run_id, int64_t tenant,
            const char *module, const char *key, bool found, const char *data, size_t len,
            int64_t exp)
{
    struct shared_l1 *ch = &shared_get()->l1;
    size_t klen = strlen(key), mlen = strlen(module), cost;
    struct l1_entry *e, *old;
    uint64_t h;

    if (!l->bound || !snap->up || mlen >= SHARED_L1_MODULE || snap->gen != l->gen ||
        strcmp(run_id, l->run_id))
        return;
    if (!found)
        len = 0;
    cost = L1_ENTRY_OVERHEAD + klen + len + 2;
    /* One value may not take more than a quarter of the bound. */
    if (cost > l->bound / 4)
        return;
    /* Anything delivered since the sync (or another channel): this fill may be stale. */
    if (atomic_load_explicit(&ch->chan_gen, memory_order_acquire) != snap->gen ||
        atomic_load_explicit(&ch->head, memory_order_acquire) != snap->seq || l->seq != snap->seq)
        return;
    l1_grow(l);
    if (!l->tab)
        return;
    h = l1_hash(l, key, klen);
    old = l1_find(l, key, klen, h);
    if (old)
        l1_remove(l, old);
    while (l->lru_end && l->bytes + cost > l->bound) {
        l1_remove(l, l->lru_end);
        l->evictions++;
        atomic_fetch_add_explicit(&ch->evictions, 1, memory_order_relaxed);
    }
    if (l->bytes + cost > l->bound)
        return;
    e = malloc(sizeof(*e) + klen + len + 2);
    if (!e)
        return;
    memset(e, 0, sizeof(*e));
    e->h = h;
    e->tenant = tenant;
    e->exp = exp;
    e->klen = klen;
    e->dlen = len;
    e->cost = cost;
    e->found = found;
    memcpy(e->module, module, mlen + 1);
    memcpy(e->kd, key, klen + 1);
    if (len)
        memcpy(e->kd + klen + 1, data, len);
    e->kd[klen + 1 + len] = '\0';
    e->hnext = l->tab[h & (l->nbuckets - 1)];
    l->tab[h & (l->nbuckets - 1)] = e;
    l1_push_lru(l, e);
    l->bytes += cost;
    l->count++;
}
