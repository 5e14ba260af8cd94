/*
 * log: leveled, one event per line to stderr, key=value style. The request-scoped prefix
 * (request id from nginx's $request_id, tenant id from the session) is set by main for the
 * duration of a request. Never pass secrets, tokens or bodies.
 */
#ifndef STOCK_CORE_LOG_H
#define STOCK_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parses "debug", "info", "warning" (or "warn"), "error". Returns -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/* Sets the request context; id NULL or tenant < 0 clears that part. id is copied (bounded). */
void log_set_request(const char *id, int64_t tenant);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
