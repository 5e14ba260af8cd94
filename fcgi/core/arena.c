/* arena: block allocator with deferred cleanups, reset once per request. */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 65536
#define ARENA_ALIGN 16

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t used;
    /* payload follows, aligned */
};

struct arena_cleanup {
    struct arena_cleanup *next;
    void (*fn)(void *);
    void *p;
};

struct arena {
    struct arena_block *head; /* current block first; the last in the chain is the kept one */
    struct arena_cleanup *cleanups;
    size_t capacity;
};

static size_t block_header(void)
{
    return (sizeof(struct arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static struct arena_block *block_new(size_t payload)
{
    struct arena_block *b = malloc(block_header() + payload);

    if (!b) {
        fputs("fatal: out of memory\n", stderr);
        abort();
    }
    b->next = NULL;
    b->size = payload;
    b->used = 0;
    return b;
}

struct arena *arena_new(void)
{
    struct arena *a = calloc(1, sizeof(*a));

    if (!a) {
        fputs("fatal: out of memory\n", stderr);
        abort();
    }
    a->head = block_new(ARENA_BLOCK);
    a->capacity = ARENA_BLOCK;
    return a;
}

static void run_cleanups(struct arena *a)
{
    while (a->cleanups) {
        struct arena_cleanup *c = a->cleanups;

        a->cleanups = c->next;
        c->fn(c->p);
    }
}

void arena_reset(struct arena *a)
{
    struct arena_block *b;

    if (!a)
        return;
    run_cleanups(a);
    /* Free every block but the oldest, which is the standard-size one allocated first. */
    b = a->head;
    while (b->next) {
        struct arena_block *next = b->next;

        free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
    a->capacity = b->size;
}

void arena_free(struct arena *a)
{
    struct arena_block *b;

    if (!a)
        return;
    run_cleanups(a);
    b = a->head;
    while (b) {
        struct arena_block *next = b->next;

        free(b);
        b = next;
    }
    free(a);
}

void *arena_alloc(struct arena *a, size_t size)
{
    struct arena_block *b = a->head;
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    char *p;

    if (need < size) {
        fputs("fatal: arena allocation overflow\n", stderr);
        abort();
    }
    if (b->size - b->used < need) {
        size_t payload = need > ARENA_BLOCK ? need : ARENA_BLOCK;

        b = block_new(payload);
        b->next = a->head;
        a->head = b;
        a->capacity += payload;
    }
    p = (char *)b + block_header() + b->used;
    b->used += need;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_sprintf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return arena_strdup(a, "");
    p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
    struct arena_cleanup *c = arena_alloc(a, sizeof(*c));

    c->fn = fn;
    c->p = p;
    c->next = a->cleanups;
    a->cleanups = c;
}

size_t arena_capacity(const struct arena *a)
{
    return a->capacity;
}
