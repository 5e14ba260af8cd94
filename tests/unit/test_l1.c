/*
 * test_l1: a worker's L1 (core/l1.c) against a channel written by the test itself, as the agent
 * writes it (shared memory: chan_gen, run_id, hb_sent, floor, ring): serving rules, the byte
 * bound and LRU order, invalidations, fills that raced one, a lost ring, a new channel.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/l1.h"
#include "unit.h"

#define RUN "0123456789abcdef0123456789abcdef01234567"

static struct shared_l1 *ch;
static int64_t far; /* a signed expiry well ahead */

/* A channel up (generation gen, even) whose last heartbeat came back just now. */
static void channel_up(uint64_t gen)
{
    ch = &shared_get()->l1;
    snprintf(ch->run_id, sizeof(ch->run_id), "%s", RUN);
    atomic_store(&ch->floor_us, 0);
    atomic_store(&ch->chan_gen, gen);
    atomic_store(&ch->hb_sent_us, l1_now_us());
    far = (int64_t)time(NULL) + 3600;
}

static void put(struct l1 *l, int64_t tenant, const char *module, const char *key, const char *v)
{
    struct l1_snap snap;

    l1_sync(l, &snap);
    l1_put(l, &snap, RUN, tenant, module, key, true, v, strlen(v), far);
}

static bool has(struct l1 *l, const char *key)
{
    struct l1_snap snap;
    const char *d;
    size_t n;
    bool found;

    return l1_sync(l, &snap) && l1_get(l, key, (int64_t)time(NULL), &d, &n, &found);
}

static void test_l1_serves_what_it_was_given(void)
{
    struct l1 l;
    struct l1_snap snap;
    const char *d = NULL;
    size_t n = 0;
    bool found = false;

    channel_up(2);
    l1_init(&l, 1 << 20);
    CU_ASSERT_TRUE(l1_sync(&l, &snap));
    l1_put(&l, &snap, RUN, 1, "products", "k:1", true, "{\"a\":1}", 7, far);
    l1_put(&l, &snap, RUN, 1, "sessions", "k:nf", false, NULL, 0, far);
    CU_ASSERT_TRUE(l1_get(&l, "k:1", (int64_t)time(NULL), &d, &n, &found));
    CU_ASSERT_TRUE(found);
    CU_ASSERT_EQUAL(n, 7);
    CU_ASSERT_NSTRING_EQUAL(d, "{\"a\":1}", 7);
    CU_ASSERT_TRUE(l1_get(&l, "k:nf", (int64_t)time(NULL), &d, &n, &found));
    CU_ASSERT_FALSE(found);
    CU_ASSERT_FALSE(l1_get(&l, "k:2", (int64_t)time(NULL), &d, &n, &found));
    /* Past its signed expiry: not served, and gone. */
    l1_put(&l, &snap, RUN, 1, "products", "k:old", true, "1", 1, (int64_t)time(NULL) - 1);
    CU_ASSERT_FALSE(l1_get(&l, "k:old", (int64_t)time(NULL), &d, &n, &found));
    /* From another Redis than the channel's: not stored. */
    l1_put(&l, &snap, "ffff", 1, "products", "k:3", true, "1", 1, far);
    CU_ASSERT_FALSE(l1_get(&l, "k:3", (int64_t)time(NULL), &d, &n, &found));
    l1_release(&l);
}

static void test_l1_serves_only_while_the_channel_proves_itself(void)
{
    struct l1 l;
    struct l1_snap snap;

    channel_up(4);
    l1_init(&l, 1 << 20);
    put(&l, 1, "products", "k:1", "1");
    CU_ASSERT_TRUE(has(&l, "k:1"));
    /* The last heartbeat back is older than L1_LIVE_MS: not served (but kept). */
    atomic_store(&ch->hb_sent_us, l1_now_us() - (int64_t)L1_LIVE_MS * 1000 - 1000);
    CU_ASSERT_FALSE(l1_sync(&l, &snap));
    CU_ASSERT_EQUAL(l.count, 1);
    atomic_store(&ch->hb_sent_us, l1_now_us());
    CU_ASSERT_TRUE(has(&l, "k:1"));
    /* A poll granted trust after the last heartbeat was sent: wait for the next one. */
    atomic_store(&ch->floor_us, l1_now_us() + 1);
    CU_ASSERT_FALSE(l1_sync(&l, &snap));
    atomic_store(&ch->hb_sent_us, l1_now_us() + 2);
    CU_ASSERT_TRUE(l1_sync(&l, &snap));
    /* The channel down (odd): not served, emptied, and no fill stored. */
    atomic_store(&ch->chan_gen, 5);
    CU_ASSERT_FALSE(l1_sync(&l, &snap));
    CU_ASSERT_EQUAL(l.count, 0);
    put(&l, 1, "products", "k:1", "1");
    CU_ASSERT_EQUAL(l.count, 0);
    /* A new channel: empty, then fills again. */
    channel_up(6);
    CU_ASSERT_FALSE(has(&l, "k:1"));
    put(&l, 1, "products", "k:1", "1");
    CU_ASSERT_TRUE(has(&l, "k:1"));
    channel_up(8);
    CU_ASSERT_FALSE(has(&l, "k:1"));
    l1_release(&l);
}

static void test_l1_invalidations(void)
{
    struct l1 l;

    channel_up(10);
    l1_init(&l, 1 << 20);
    put(&l, 1, "products", "p:1", "1");
    put(&l, 1, "products", "p:2", "1");
    put(&l, 1, "balance", "b:1", "1");
    put(&l, 2, "products", "q:1", "1");
    CU_ASSERT_EQUAL(l.count, 4);
    l1_channel_push(ch, L1_EV_GEN, 1, "products", 8);
    CU_ASSERT_FALSE(has(&l, "p:1"));
    CU_ASSERT_FALSE(has(&l, "p:2"));
    CU_ASSERT_TRUE(has(&l, "b:1"));
    CU_ASSERT_TRUE(has(&l, "q:1"));
    l1_channel_push(ch, L1_EV_FLUSH, 0, NULL, 0);
    CU_ASSERT_FALSE(has(&l, "b:1"));
    CU_ASSERT_FALSE(has(&l, "q:1"));
    CU_ASSERT_EQUAL(l.count, 0);
    l1_release(&l);
}

static void test_l1_fill_that_raced_an_invalidation_is_not_stored(void)
{
    struct l1 l;
    struct l1_snap snap;

    channel_up(12);
    l1_init(&l, 1 << 20);
    l1_sync(&l, &snap);
    /* Delivered between the sync before the Redis read and the store (any module). */
    l1_channel_push(ch, L1_EV_GEN, 9, "uom", 3);
    l1_put(&l, &snap, RUN, 1, "products", "p:1", true, "1", 1, far);
    CU_ASSERT_FALSE(has(&l, "p:1"));
    /* The next fill, after a sync that saw the event, is. */
    put(&l, 1, "products", "p:1", "1");
    CU_ASSERT_TRUE(has(&l, "p:1"));
    l1_release(&l);
}

static void test_l1_lost_ring_empties(void)
{
    struct l1 l;
    int i;

    channel_up(14);
    l1_init(&l, 1 << 20);
    put(&l, 1, "balance", "b:1", "1");
    /* More events than the ring holds since this worker last looked: it cannot know which. */
    for (i = 0; i < SHARED_L1_RING + 10; i++)
        l1_channel_push(ch, L1_EV_GEN, 7, "uom", 3);
    CU_ASSERT_FALSE(has(&l, "b:1"));
    put(&l, 1, "balance", "b:1", "1");
    CU_ASSERT_TRUE(has(&l, "b:1"));
    l1_release(&l);
}

static void test_l1_bound_and_lru(void)
{
    struct l1 l;
    char key[32], v[1001];
    int i, present = 0;

    channel_up(16);
    memset(v, 'x', 1000);
    v[1000] = '\0';
    l1_init(&l, 64 * 1024);
    for (i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "k:%d", i);
        put(&l, 1, "balance", key, v);
        CU_ASSERT(l.bytes <= l.bound);
        /* k:0 used after every put: the most recently used, never evicted. */
        if (i > 0)
            CU_ASSERT_TRUE(has(&l, "k:0"));
    }
    for (i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "k:%d", i);
        present += has(&l, key);
    }
    CU_ASSERT(l.evictions > 400);
    CU_ASSERT(present > 20 && present < 64);
    CU_ASSERT_TRUE(has(&l, "k:499"));
    CU_ASSERT_FALSE(has(&l, "k:1"));
    /* A value over a quarter of the bound is not kept. */
    {
        static char big[20000];

        memset(big, 'y', sizeof(big) - 1);
        put(&l, 1, "balance", "big", big);
        CU_ASSERT_FALSE(has(&l, "big"));
    }
    l1_release(&l);
    /* Off: nothing stored, never serving. */
    l1_init(&l, 0);
    put(&l, 1, "balance", "k:0", "1");
    CU_ASSERT_FALSE(has(&l, "k:0"));
    l1_release(&l);
}

int test_l1_register(void)
{
    CU_pSuite s = CU_add_suite("l1", NULL, NULL);

    if (!s || !CU_add_test(s, "serves what it was given", test_l1_serves_what_it_was_given) ||
        !CU_add_test(s, "serves only while the channel proves itself",
                     test_l1_serves_only_while_the_channel_proves_itself) ||
        !CU_add_test(s, "invalidations of a module and of everything", test_l1_invalidations) ||
        !CU_add_test(s, "a fill that raced an invalidation is not stored",
                     test_l1_fill_that_raced_an_invalidation_is_not_stored) ||
        !CU_add_test(s, "a lost ring empties", test_l1_lost_ring_empties) ||
        !CU_add_test(s, "byte bound and LRU order", test_l1_bound_and_lru))
        return -1;
    return 0;
}
