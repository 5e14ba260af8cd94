/*
 * redis: the client of the Redis server (hiredis 0.14, one blocking connection per process),
 * shared by the cache and stockctl. It owns the connection and all
 * talk about it: lazy connect, health check, retry, back-off, error classification and the
 * rate-limited warnings. It knows nothing of what the keys mean.
 */
#ifndef STOCK_CORE_REDIS_H
#define STOCK_CORE_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "core/buf.h"
#include "core/config.h"

/* The step of opening a connection that failed last (struct redis' connect_step). */
enum redis_step { REDIS_STEP_NONE = 0, REDIS_STEP_CONNECT, REDIS_STEP_AUTH, REDIS_STEP_SELECT };

struct redis {
    const struct config *cf;
    redisContext *rc;     /* NULL when not connected */
    char run_id[48];      /* of the Redis server we are connected to */
    int64_t last_used_ms; /* monotonic; for the idle health-check PING */
    int64_t retry_at_ms;  /* back-off: no Redis attempt before this (monotonic) */
    int backoff_ms;       /* current back-off step, 0 when healthy */
    int64_t last_warn_ms; /* warning rate limit */
    unsigned suppressed;  /* warnings not logged since last_warn_ms */
    char last_error[128]; /* client-safe description of the last failure */
    /* The last failed connect's step (NONE when it got past SELECT) and, for the connect step,
     * hiredis' own text ("Connection refused"). Reset by each connect attempt. */
    enum redis_step connect_step;
    char connect_error[104];
    /* Back-off bounds, set from REDIS_BACKOFF_* defaults by redis_init; tests may lower them. */
    int backoff_initial_ms;
    int backoff_max_ms;
    bool lost; /* a connection failed since the last successful connect */
    /*
     * Set by a connect that follows a lost connection: what the user derived from the server
     * may be stale (writes it sent may have been lost). Never cleared here: the user clears it
     * once it has caught up (the cache, after replaying its invalidation backlog).
     */
    bool reconnected;
    /* Under Sentinel (SPEC §11): the server connected to or last tried, the sentinel to ask
     * first, and a flag set while a server a sentinel named is tried (no back-off step). */
    char host[256];
    int port;
    int sentinel_next;
    bool probing;
    int64_t connected_ms; /* monotonic; when the current connection was opened */
};

#define REDIS_BACKOFF_INITIAL_MS 1000
#define REDIS_BACKOFF_MAX_MS     30000

/* Prepares r; no connection is made until first use. cf must outlive r. */
void redis_init(struct redis *r, const struct config *cf);
/* Closes the connection. */
void redis_release(struct redis *r);

/*
 * Makes r->rc usable: honours the back-off, opens the connection if needed (connect and socket
 * timeouts, TCP keep-alive, AUTH, SELECT, run_id from INFO server) and PINGs a connection idle
 * for longer than REDIS_HEALTH_CHECK_INTERVAL. 0, or -1 when there is no Redis now (then
 * r->last_error says why).
 */
int redis_ready(struct redis *r) __attribute__((warn_unused_result));

/* True while a failure keeps every operation away from Redis (no connection, retry_at ahead). */
bool redis_backing_off(const struct redis *r);

/*
 * Runs one command (argv, lengths or NULL for C strings), retrying once on a fresh connection
 * after a timeout or a closed connection when REDIS_RETRY_ON_TIMEOUT is set. Returns the reply,
 * which the caller frees with freeReplyObject (it may be an error reply such as OOM or
 * WRONGTYPE, which fails only that command), or NULL when Redis is unusable: a connection-level
 * failure (refused, timeout, EOF, NOAUTH, LOADING, BUSY...) closed the connection and started
 * the back-off.
 */
redisReply *redis_cmd(struct redis *r, int argc, const char **argv, const size_t *lens)
    __attribute__((warn_unused_result));

/*
 * Queues one command on the ready connection without reading its reply (pipelining; read the
 * replies with redis_pipeline_read). 0, or -1: no connection, or it failed (then in back-off).
 */
int redis_append(struct redis *r, int argc, const char **argv, const size_t *lens)
    __attribute__((warn_unused_result));

/*
 * Reads the replies of n queued commands: integer replies are added to *sum (sum may be NULL)
 * and error replies counted in *errors. 0, or -1 (in back-off) if the connection failed.
 */
int redis_pipeline_read(struct redis *r, int n, long *sum, int *errors)
    __attribute__((warn_unused_result));

/*
 * Called by redis_scan with each batch of keys (an array reply of strings, freed after the
 * call). It may queue commands with redis_append and returns how many it queued, or -1 to stop.
 */
typedef int (*redis_scan_fn)(void *ctx, struct redis *r, const redisReply *keys);

/*
 * SCAN MATCH match (never KEYS), calling fn with every batch. The commands fn queues travel in
 * the round trip of the next SCAN; their replies are read as redis_pipeline_read does (into
 * *sum and *errors). 0 when the iteration completed, -1 when fn stopped it or Redis failed.
 */
int redis_scan(struct redis *r, const char *match, redis_scan_fn fn, void *ctx, long *sum,
               int *errors) __attribute__((warn_unused_result));

/* Appends s to b with the glob metacharacters of Redis' MATCH (*?[]\) escaped. */
void redis_glob_escape(struct buf *b, const char *s);

/* The text of an error reply, for logs (Redis never echoes arguments in them). */
const char *redis_reply_text(const redisReply *reply);

/*
 * PINGs the server (connecting if needed). 0 when it answered PONG; -1 otherwise (last_error
 * says why). latency_ms (may be NULL) receives the round trip, -1 when none was made.
 */
int redis_ping(struct redis *r, double *latency_ms) __attribute__((warn_unused_result));

/* A warning, at most one per 5 s per process; the others are counted and reported with it. */
void redis_warn(struct redis *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
