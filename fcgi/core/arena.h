/*
 * arena: per-request memory. Everything a request allocates comes from one arena that main
 * resets after the response is sent, running the cleanups registered with arena_defer
 * (PQclear, json_object_put, freeReplyObject...) in reverse order. Rule: if a function takes a
 * struct arena *, nobody frees what it returns. Never keep arena pointers past arena_reset.
 * Allocation failure aborts the process (the pool master respawns the worker).
 */
#ifndef STOCK_CORE_ARENA_H
#define STOCK_CORE_ARENA_H

#include <stddef.h>

struct arena;

/* A new empty arena; free it with arena_free. Never NULL. */
struct arena *arena_new(void);

/* Runs the cleanups and frees every block, then the arena itself. NULL is a no-op. */
void arena_free(struct arena *a);

/* Runs the cleanups and releases memory, keeping the first block for reuse. */
void arena_reset(struct arena *a);

/* size bytes aligned for any type, zero-filled. */
void *arena_alloc(struct arena *a, size_t size);

/* Copies of s (n bytes, NUL added). */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* A formatted string. */
char *arena_sprintf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers fn(p) to run at the next reset or free (latest registered runs first). */
void arena_defer(struct arena *a, void (*fn)(void *), void *p);

/* Bytes currently held by the arena's blocks (for tests and metrics). */
size_t arena_capacity(const struct arena *a);

#endif
