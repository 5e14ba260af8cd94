/* buf: growable NUL-terminated byte strings with a sticky failure bit. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char buf_empty[1];

void buf_init(struct buf *b)
{
    b->data = buf_empty;
    b->len = 0;
    b->cap = 0;
    b->limit = 0;
    b->failed = false;
}

void buf_release(struct buf *b)
{
    size_t limit = b->limit;

    if (b->cap)
        free(b->data);
    buf_init(b);
    b->limit = limit;
}

void buf_reset(struct buf *b)
{
    if (!b->data)
        buf_init(b);
    b->len = 0;
    if (b->cap)
        b->data[0] = '\0';
    b->failed = false;
}

void buf_grow(struct buf *b, size_t extra)
{
    size_t want, cap;
    char *p;

    if (!b->data)
        buf_init(b);
    if (b->failed)
        return;
    if (extra > (size_t)-1 - b->len - 1 || (b->limit && b->len + extra > b->limit)) {
        b->failed = true;
        return;
    }
    want = b->len + extra + 1;
    if (want <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < want)
        cap = cap > (size_t)-1 / 2 ? want : cap * 2;
    p = b->cap ? realloc(b->data, cap) : malloc(cap);
    if (!p) {
        b->failed = true;
        return;
    }
    if (!b->cap)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    buf_grow(b, n);
    if (b->failed || n == 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    buf_grow(b, (size_t)n);
    if (b->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p;

    if (b->cap) {
        p = b->data;
    } else {
        p = malloc(1);
        if (p)
            p[0] = '\0';
    }
    if (len)
        *len = b->len;
    buf_init(b);
    return p;
}
