/*
 * ratelimit: pool-wide fixed-window counters in the shared block, so a limit holds across the
 * workers of a pool without any server. The login limit uses them as a cheap pre-filter in
 * front of its fleet-wide count in PostgreSQL (services/auth).
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
