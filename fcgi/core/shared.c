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
    void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1,
                   0);

    if (p == MAP_FAILED)
        return NULL;
    memset(p, 0, sizeof(struct shared));
    /* Start with the gate closed: the first cache use replays the durable backlog. */
    atomic_store(&((struct shared *)p)->cache_fail_seq, 1);
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

static const char *const module_names[MOD_COUNT] = {"balance", "products", "categories", "uom",
                                                    "other"};

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
