/*
 * ratelimit: fixed-window counters shared by every worker of the pool (in the shared block),
 * so a limit holds across workers without any server. The login limit also counts in Redis
 * (across pools); this table is what still holds when Redis is down or evicts the counter.
 */
#ifndef STOCK_CORE_RATELIMIT_H
#define STOCK_CORE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

/* The count of the current window of key (0 if none). */
uint32_t ratelimit_peek(const void *key, size_t len, int window_s);

/* Adds one to key's current window and returns the new count. */
uint32_t ratelimit_hit(const void *key, size_t len, int window_s);

/* Seconds until key's current window ends (at least 1). */
int ratelimit_retry_after(const void *key, size_t len, int window_s);

#endif
