/* shared: the mmap'd block of counters and gates shared by a pool's processes. */
#include "core/shared.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/mman.h>

static struct shared *shared_block;

static struct shared *shared_map(int flags)
{
    void *p =
        mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        return NULL;
    memset(p, 0, sizeof(struct shared));
    /* cache_trust_until_ms starts at 0: the first cached read polls the outbox. */
    atomic_store(&((struct shared *)p)->redis_up, 1);
    atomic_store(&((struct shared *)p)->db_up, 1);
    {
        pthread_mutexattr_t attr;

        pthread_mutexattr_init(&attr);
        pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        /* A worker killed while holding the lock must not wedge the others. */
        pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
        pthread_mutex_init(&((struct shared *)p)->rl_lock, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    if (sodium_init() < 0) {
        fputs("fatal: libsodium cannot initialise\n", stderr);
        abort();
    }
    randombytes_buf(((struct shared *)p)->rl_key, sizeof(((struct shared *)p)->rl_key));
    {
        unsigned char id[16];

        randombytes_buf(id, sizeof(id));
        sodium_bin2hex(((struct shared *)p)->cache_host, sizeof(((struct shared *)p)->cache_host),
                       id, sizeof(id));
    }
    return p;
}

struct shared *shared_get(void)
{
    if (!shared_block) {
        shared_block = shared_map(MAP_PRIVATE);
        if (!shared_block) {
            fputs("fatal: cannot map shared memory\n", stderr);
            abort();
        }
    }
    return shared_block;
}

int shared_create_for_pool(void)
{
    struct shared *s = shared_map(MAP_SHARED);

    if (!s)
        return -1;
    if (shared_block)
        munmap(shared_block, sizeof(struct shared));
    shared_block = s;
    return 0;
}

static const char *const module_names[MOD_COUNT] = {"balance", "products", "categories",
                                                    "uom",     "reports",  "other"};

enum shared_module shared_module_of(const char *module)
{
    int i;

    for (i = 0; i < MOD_OTHER; i++)
        if (!strcmp(module, module_names[i]))
            return (enum shared_module)i;
    return MOD_OTHER;
}

const char *shared_module_name(enum shared_module m)
{
    return module_names[m < MOD_COUNT ? m : MOD_OTHER];
}

static const int status_codes[SHARED_STATUS_COUNT] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                                      409, 413, 415, 422, 429, 500, 503, 0};

static const struct {
    int64_t us;
    const char *le;
} latency_bounds[SHARED_LATENCY_BOUNDS + 1] = {
    {1000, "0.001"},  {2500, "0.0025"}, {5000, "0.005"},  {10000, "0.01"},
    {25000, "0.025"}, {50000, "0.05"},  {100000, "0.1"},  {250000, "0.25"},
    {500000, "0.5"},  {1000000, "1"},   {2500000, "2.5"}, {INT64_MAX, "+Inf"},
};

static enum shared_status status_of(int status)
{
    int i;

    for (i = 0; i < SHARED_STATUS_OTHER; i++)
        if (status_codes[i] == status)
            return (enum shared_status)i;
    return SHARED_STATUS_OTHER;
}

void shared_request_record(size_t route_slot, int status, int64_t us)
{
    struct shared *sh = shared_get();
    struct shared_route_counters *rc;
    int b = 0;

    if (route_slot >= SHARED_ROUTES)
        route_slot = 0;
    if (us < 0)
        us = 0;
    rc = &sh->routes[route_slot];
    /* A bucket holds latencies <= its bound, as Prometheus's le says. */
    while (b < SHARED_LATENCY_BOUNDS && us > latency_bounds[b].us)
        b++;
    atomic_fetch_add_explicit(&sh->requests_total, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&sh->responses_by_class[status / 100 % 6], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rc->by_status[status_of(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rc->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rc->latency_sum_us, (uint_fast64_t)us, memory_order_relaxed);
}

int shared_status_code(enum shared_status s)
{
    return s < SHARED_STATUS_COUNT ? status_codes[s] : 0;
}

const char *shared_latency_le(int i)
{
    return latency_bounds[i >= 0 && i <= SHARED_LATENCY_BOUNDS ? i : SHARED_LATENCY_BOUNDS].le;
}
