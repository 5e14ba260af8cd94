/* ratelimit: pool-wide fixed windows in a small open-addressed table under a robust mutex. */
#include "core/ratelimit.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <stdbool.h>
#include <time.h>

#include "core/shared.h"

#define RL_PROBE 8

static uint64_t rl_hash(const void *key, size_t len)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;

    /* A keyed hash (key made with the shared block, so the same in every worker): clients
     * cannot aim their keys at one slot to evict someone else's counter. */
    crypto_shorthash(out, key, len, shared_get()->rl_key);
    memcpy(&h, out, sizeof(h));
    return h ? h : 1;
}

static void rl_lock(struct shared *sh)
{
    if (pthread_mutex_lock(&sh->rl_lock) == EOWNERDEAD)
        pthread_mutex_consistent(&sh->rl_lock);
}

/* The slot of h (existing or claimed), under the lock. */
static struct shared_rl_slot *rl_slot(struct shared *sh, uint64_t h, int64_t window, bool claim)
{
    size_t i, base = (size_t)(h % SHARED_RL_SLOTS);
    struct shared_rl_slot *oldest = NULL;

    for (i = 0; i < RL_PROBE; i++) {
        struct shared_rl_slot *s = &sh->rl[(base + i) % SHARED_RL_SLOTS];

        if (s->key == h)
            return s;
        if (!oldest || s->window_start < oldest->window_start)
            oldest = s;
    }
    if (!claim)
        return NULL;
    oldest->key = h;
    oldest->window_start = window;
    oldest->count = 0;
    return oldest;
}

static int64_t rl_window(int window_s)
{
    time_t now = time(NULL);

    return (int64_t)now - (int64_t)now % (window_s > 0 ? window_s : 1);
}

uint32_t ratelimit_peek(const void *key, size_t len, int window_s)
{
    struct shared *sh = shared_get();
    uint64_t h = rl_hash(key, len);
    int64_t w = rl_window(window_s);
    struct shared_rl_slot *s;
    uint32_t n = 0;

    rl_lock(sh);
    s = rl_slot(sh, h, w, false);
    if (s && s->window_start == w)
        n = s->count;
    pthread_mutex_unlock(&sh->rl_lock);
    return n;
}

uint32_t ratelimit_hit(const void *key, size_t len, int window_s)
{
    struct shared *sh = shared_get();
    uint64_t h = rl_hash(key, len);
    int64_t w = rl_window(window_s);
    struct shared_rl_slot *s;
    uint32_t n;

    rl_lock(sh);
    s = rl_slot(sh, h, w, true);
    if (s->window_start != w) {
        s->window_start = w;
        s->count = 0;
    }
    n = ++s->count;
    pthread_mutex_unlock(&sh->rl_lock);
    return n;
}

int ratelimit_retry_after(const void *key, size_t len, int window_s)
{
    int64_t now = (int64_t)time(NULL);
    int64_t end = rl_window(window_s) + window_s;

    (void)key;
    (void)len;
    return end - now > 0 ? (int)(end - now) : 1;
}
