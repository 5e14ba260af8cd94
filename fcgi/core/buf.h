/*
 * buf: a growable byte string. After buf_init, data is never NULL and always NUL-terminated.
 * Appends return void; an allocation failure or passing the optional limit sets the sticky
 * `failed` bit (further appends are ignored) and the caller checks it once at the end.
 */
#ifndef STOCK_CORE_BUF_H
#define STOCK_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;   /* 0 while data points at the shared empty string */
    size_t limit; /* 0 = unlimited; otherwise len may never exceed it */
    bool failed;
};

/* Kept on one line: clang-format 14 spreads a braced macro over four. */
// clang-format off
#define BUF_INIT {0}
// clang-format on

void buf_init(struct buf *b);
/* Frees the storage; the buf is ready for reuse as after buf_init. */
void buf_release(struct buf *b);
/* Empties the buf keeping its storage and clears `failed`. */
void buf_reset(struct buf *b);
/* Makes room for extra more bytes; sets failed on allocation failure or the limit. */
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the malloc'd string (caller frees) and re-initialises b. */
char *buf_detach(struct buf *b, size_t *len);

#endif
