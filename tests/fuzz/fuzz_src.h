/* fuzz_src: a byte buffer as a request body for http_req_parse's reader (fuzzers, unit tests). */
#ifndef STOCK_FUZZ_SRC_H
#define STOCK_FUZZ_SRC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct src {
    const uint8_t *p;
    size_t n, pos;
};

static inline long rd(void *ctx, char *buf, size_t n)
{
    struct src *s = ctx;
    size_t k = s->n - s->pos < n ? s->n - s->pos : n;

    memcpy(buf, s->p + s->pos, k);
    s->pos += k;
    return (long)k;
}

#endif
