/*
 * ratelimit: fixed windows, pool-wide in a small open-addressed table under a robust mutex, and
 * across pools in Redis (INCR, then EXPIRE NX on the first hit of a window).
 */
#include "core/ratelimit.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <time.h>

#include "core/redis.h"

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

long ratelimit_redis_get(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                         const char *key)
{
    const char *argv[2];
    redisReply *r;
    long n = -1;

    if (!c->cf->cache_enabled)
        return -1;
    argv[0] = "GET";
    argv[1] = cache_key(c, a, tenant, module, key);
    r = redis_cmd(&c->redis, 2, argv, NULL);
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_NIL)
        n = 0;
    else if (r->type == REDIS_REPLY_STRING)
        n = strtol(r->str, NULL, 10);
    freeReplyObject(r);
    return n;
}

long ratelimit_redis_incr(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                          const char *key, int window_s)
{
    const char *argv[4];
    char ttl[16];
    redisReply *r;
    long n = -1;

    if (!c->cf->cache_enabled)
        return -1;
    argv[0] = "INCR";
    argv[1] = cache_key(c, a, tenant, module, key);
    r = redis_cmd(&c->redis, 2, argv, NULL);
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER)
        n = (long)r->integer;
    freeReplyObject(r);
    if (n < 0)
        return -1;
    /* NX: only the first hit of a window sets its end, later hits do not extend it. */
    snprintf(ttl, sizeof(ttl), "%d", window_s > 0 ? window_s : 1);
    argv[0] = "EXPIRE";
    argv[2] = ttl;
    argv[3] = "NX";
    r = redis_cmd(&c->redis, 4, argv, NULL);
    if (r)
        freeReplyObject(r);
    return n;
}
