/*
 * redis: one blocking hiredis 0.14 connection per process and everything about talking to it.
 *
 * Design
 * - Connection: opened lazily, AUTH and SELECT when configured, socket timeout and TCP
 *   keep-alive; hiredis 0.14's redisReconnect loses AUTH and the timeout, so a lost connection
 *   is always freed and opened afresh. An idle connection is PINGed after
 *   REDIS_HEALTH_CHECK_INTERVAL. A command that timed out or hit a closed connection is retried
 *   once on a fresh connection when REDIS_RETRY_ON_TIMEOUT is set. Each connect reads the
 *   server's run_id (INFO server), which changes when Redis restarts or fails over.
 * - Back-off: a connection-level failure (refused, timeout, EOF, protocol error, NOAUTH,
 *   WRONGPASS, LOADING, MASTERDOWN, BUSY) closes the connection and makes every operation an
 *   instant failure until retry_at (1 s, doubling to 30 s, reset on success), so a hung Redis
 *   does not add its timeout to every request. A plain reply error (OOM on SET, WRONGTYPE) fails
 *   only that operation. Warnings are rate limited to one per worker per 5 s with a count of
 *   the suppressed ones; no log line ever holds the password or the URL.
 * - Shared state: the last state seen (shared redis_up, for /metrics). A connect that follows
 *   a failure sets r->reconnected, for users whose writes may have been lost meanwhile.
 * - Log lines carry the [CACHE] tag: operators know this connection as the cache's.
 * - Sentinel (REDIS_SENTINELS, SPEC §11). Every (re)connect asks the sentinels in turn, starting
 *   with the one that answered last, each with min(REDIS_CONNECT_TIMEOUT, 500 ms) for its
 *   connect and its reply (AUTH first with REDIS_SENTINEL_PASSWORD): `SENTINEL
 *   get-master-addr-by-name <name>`. The address it gives is connected to as REDIS_URL's would
 *   be (AUTH, SELECT), then `ROLE` must say "master": a sentinel that is behind, or an address
 *   that is a replica, is skipped for the next sentinel. When none gives a usable master the
 *   connect fails once, with the usual back-off and the last reason in last_error. While a
 *   connected server is tried its failures do not count as back-off steps (r->probing).
 *   A write answered READONLY or NOREPLICAS means the server is not, or no longer, a usable
 *   master (demoted, or an old master cut off from its replicas with min-replicas-to-write):
 *   the connection is dropped and the command is sent once more after asking the sentinels
 *   again; a server that refuses again within a second of its connect starts the back-off, so an
 *   isolated old master that the sentinels still name is not re-dialled for every request.
 *   MASTERDOWN is a connection-level failure as without Sentinel. Without REDIS_SENTINELS
 *   nothing of this applies: no ROLE, and READONLY is a plain reply error.
 *   The run_id is read on every connect, so it is the run_id of the master actually used.
 */
#include "core/redis.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/log.h"
#include "core/shared.h"

#define REDIS_WARN_INTERVAL_MS 5000
#define REDIS_SCAN_COUNT       "1000"
#define REDIS_SENTINEL_MS      500  /* the most a sentinel may take to connect or to answer */
#define REDIS_REFUSE_BACKOFF   1000 /* a master refusing writes this soon after its connect */

/* How a command failed at the connection level. */
enum redis_fail { FAIL_CONN = 0, FAIL_TIMEOUT, FAIL_CLOSED };

static int64_t redis_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double redis_now_fms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static struct timeval redis_tv(int ms)
{
    struct timeval tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

static void redis_set_up(int up)
{
    struct shared *sh = shared_get();

    if (atomic_load_explicit(&sh->redis_up, memory_order_relaxed) != up)
        atomic_store(&sh->redis_up, up);
}

/* "host:port" or "unix:path" for logs: never the URL, which may hold the password. */
static void redis_target(const struct redis *r, char *out, size_t n)
{
    const struct config *cf = r->cf;

    if (cf->redis_sentinel_count)
        snprintf(out, n, "%.200s:%d (sentinel master %.60s)", r->host[0] ? r->host : "?", r->port,
                 cf->redis_sentinel_master);
    else if (cf->redis_unix[0])
        snprintf(out, n, "unix:%s", cf->redis_unix);
    else
        snprintf(out, n, "%s:%d", cf->redis_host, cf->redis_port);
}

void redis_warn(struct redis *r, const char *fmt, ...)
{
    char msg[512];
    int64_t now = redis_now_ms();
    va_list ap;

    if (r->last_warn_ms && now - r->last_warn_ms < REDIS_WARN_INTERVAL_MS) {
        r->suppressed++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->suppressed)
        log_warn("%s (%u similar warnings suppressed)", msg, r->suppressed);
    else
        log_warn("%s", msg);
    r->last_warn_ms = now ? now : 1;
    r->suppressed = 0;
}

static void redis_close(struct redis *r)
{
    if (r->rc) {
        redisFree(r->rc);
        r->rc = NULL;
    }
}

/* Closes the connection and stops all Redis traffic until retry_at. */
static void redis_backoff(struct redis *r, const char *reason)
{
    char target[300];
    int max = r->backoff_max_ms > 0 ? r->backoff_max_ms : REDIS_BACKOFF_MAX_MS;
    int initial = r->backoff_initial_ms > 0 ? r->backoff_initial_ms : REDIS_BACKOFF_INITIAL_MS;

    redis_close(r);
    r->lost = true;
    snprintf(r->last_error, sizeof(r->last_error), "%s", reason);
    /* A server tried on a sentinel's word: the caller tries the next one, then backs off once. */
    if (r->probing)
        return;
    if (r->backoff_ms <= 0)
        r->backoff_ms = initial;
    else
        r->backoff_ms = r->backoff_ms > max / 2 ? max : r->backoff_ms * 2;
    if (r->backoff_ms > max)
        r->backoff_ms = max;
    r->retry_at_ms = redis_now_ms() + r->backoff_ms;
    redis_set_up(0);
    redis_target(r, target, sizeof(target));
    redis_warn(r, "[CACHE] redis unavailable: %s; backing off %dms redis=%s", reason, r->backoff_ms,
               target);
}

/* Describes the error of a dead context (client-safe) and classifies it. */
static enum redis_fail redis_ctx_fail(const redisContext *rc, int saved_errno, char *why, size_t n)
{
    switch (rc->err) {
    case REDIS_ERR_IO:
        if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT ||
            strstr(rc->errstr, "temporarily unavailable") || strstr(rc->errstr, "timed out")) {
            snprintf(why, n, "timeout");
            return FAIL_TIMEOUT;
        }
        if (saved_errno == ECONNRESET || saved_errno == EPIPE) {
            snprintf(why, n, "connection reset");
            return FAIL_CLOSED;
        }
        snprintf(why, n, "i/o error: %.80s", rc->errstr);
        return FAIL_CONN;
    case REDIS_ERR_EOF:
        snprintf(why, n, "connection closed by server");
        return FAIL_CLOSED;
    case REDIS_ERR_PROTOCOL:
        snprintf(why, n, "protocol error");
        return FAIL_CONN;
    case REDIS_ERR_OOM:
        snprintf(why, n, "out of memory in the client");
        return FAIL_CONN;
    default:
        snprintf(why, n, "%.80s", rc->errstr[0] ? rc->errstr : "unknown error");
        return FAIL_CONN;
    }
}

/* Enters the back-off for the error of the dead context (errno saved after the call). */
static void redis_ctx_backoff(struct redis *r, int saved_errno)
{
    char why[128];

    redis_ctx_fail(r->rc, saved_errno, why, sizeof(why));
    redis_backoff(r, why);
}

/* The client-safe reason of an error reply that means the server is unusable, else NULL. */
static const char *redis_reply_conn_error(const redisReply *reply)
{
    static const struct {
        const char *prefix;
        const char *why;
    } map[] = {
        {"NOAUTH", "authentication required"},
        {"WRONGPASS", "authentication failed"},
        {"ERR AUTH", "authentication failed"},
        {"ERR invalid password", "authentication failed"},
        {"ERR Client sent AUTH", "authentication failed"},
        {"LOADING", "server is loading its dataset"},
        {"MASTERDOWN", "master link down"},
        {"BUSY ", "server busy running a script"},
        {"ERR max number of clients", "server has too many clients"},
    };
    size_t i;

    if (reply->type != REDIS_REPLY_ERROR || !reply->str)
        return NULL;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strncmp(reply->str, map[i].prefix, strlen(map[i].prefix)))
            return map[i].why;
    return NULL;
}

const char *redis_reply_text(const redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR && reply->str)
        return reply->str;
    return "unexpected reply type";
}

/*
 * One command of the connection set-up on r->rc, without retry. Returns the reply (caller
 * frees), or NULL after entering back-off.
 */
static redisReply *redis_setup_cmd(struct redis *r, const char *what, int argc, const char **argv)
{
    redisReply *reply;
    const char *cw;
    char why[160];
    int e;

    errno = 0;
    reply = redisCommandArgv(r->rc, argc, argv, NULL);
    e = errno;
    if (!reply) {
        char d[128];

        redis_ctx_fail(r->rc, e, d, sizeof(d));
        snprintf(why, sizeof(why), "%s: %s", what, d);
        redis_backoff(r, why);
        return NULL;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        cw = redis_reply_conn_error(reply);
        if (!cw && !strcmp(argv[0], "AUTH"))
            cw = "authentication failed";
        snprintf(why, sizeof(why), "%s: %.100s", what, cw ? cw : reply->str);
        freeReplyObject(reply);
        redis_backoff(r, why);
        return NULL;
    }
    return reply;
}

/* Copies the run_id field of an INFO server reply. 0 or -1. */
static int redis_parse_run_id(const char *info, char *out, size_t n)
{
    const char *p = strstr(info, "run_id:");
    size_t len = 0;

    if (!p)
        return -1;
    p += strlen("run_id:");
    while (len < n - 1 && ((p[len] >= '0' && p[len] <= '9') || (p[len] >= 'a' && p[len] <= 'z') ||
                           (p[len] >= 'A' && p[len] <= 'Z')))
        len++;
    if (len == 0 || len >= n - 1)
        return -1;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

/* True when reply says the server is not (or no longer) a master that takes writes. */
static bool redis_not_master(const struct redis *r, const redisReply *reply)
{
    return r->cf->redis_sentinel_count && reply->type == REDIS_REPLY_ERROR && reply->str &&
           (!strncmp(reply->str, "READONLY", 8) || !strncmp(reply->str, "NOREPLICAS", 10));
}

/* Drops a connection to a server that refused a write as not a master (see the top). */
static void redis_drop_not_master(struct redis *r, const redisReply *reply)
{
    char why[128];

    snprintf(why, sizeof(why), "not a usable master: %.16s", reply->str);
    if (redis_now_ms() - r->connected_ms < REDIS_REFUSE_BACKOFF) {
        redis_backoff(r, why);
        return;
    }
    log_info("[CACHE] redis refused a write (%s); asking the sentinels again", why);
    redis_close(r);
    r->lost = true;
    snprintf(r->last_error, sizeof(r->last_error), "%s", why);
}

/*
 * Opens a fresh connection to host:port (REDIS_URL's, or a sentinel's master): connect,
 * timeouts, AUTH, SELECT, ROLE under Sentinel, run_id. 0, or -1 in back-off.
 */
static int redis_connect_at(struct redis *r, const char *host, int port)
{
    const struct config *cf = r->cf;
    redisContext *rc;
    redisReply *reply;
    char target[300], why[160], dbs[16];
    const char *argv[2];
    bool was_backing_off = r->backoff_ms > 0;

    r->connect_step = REDIS_STEP_CONNECT;
    r->connect_error[0] = '\0';
    snprintf(r->host, sizeof(r->host), "%s", host);
    r->port = port;
    redis_target(r, target, sizeof(target));
    if (cf->redis_unix[0] && !cf->redis_sentinel_count)
        rc = redisConnectUnixWithTimeout(cf->redis_unix, redis_tv(cf->redis_connect_timeout_ms));
    else
        rc = redisConnectWithTimeout(host, port, redis_tv(cf->redis_connect_timeout_ms));
    if (!rc) {
        redis_backoff(r, "connect: out of memory");
        return -1;
    }
    if (rc->err) {
        /* hiredis' connect errors are strerror() texts ("Connection refused"): no secrets. */
        if (rc->err == REDIS_ERR_IO && strstr(rc->errstr, "timed out"))
            snprintf(why, sizeof(why), "connect timeout");
        else
            snprintf(why, sizeof(why), "connect: %.100s", rc->errstr);
        snprintf(r->connect_error, sizeof(r->connect_error), "%.100s", rc->errstr);
        redisFree(rc);
        redis_backoff(r, why);
        return -1;
    }
    r->rc = rc;
    if (redisSetTimeout(rc, redis_tv(cf->redis_socket_timeout_ms)) != REDIS_OK) {
        redis_backoff(r, "cannot set the socket timeout");
        return -1;
    }
    if ((!cf->redis_unix[0] || cf->redis_sentinel_count) && redisEnableKeepAlive(rc) != REDIS_OK)
        log_debug("[CACHE] cannot enable TCP keep-alive on the redis connection");
    if (cf->redis_password[0]) {
        /* AUTH [username] password: the ACL user when one is set (SPEC §11). */
        const char *auth[3];
        int na = 0;

        auth[na++] = "AUTH";
        if (cf->redis_username[0])
            auth[na++] = cf->redis_username;
        auth[na++] = cf->redis_password;
        r->connect_step = REDIS_STEP_AUTH;
        reply = redis_setup_cmd(r, "AUTH", na, auth);
        if (!reply)
            return -1;
        freeReplyObject(reply);
    }
    if (cf->redis_db != 0) {
        snprintf(dbs, sizeof(dbs), "%d", cf->redis_db);
        argv[0] = "SELECT";
        argv[1] = dbs;
        r->connect_step = REDIS_STEP_SELECT;
        reply = redis_setup_cmd(r, "SELECT", 2, argv);
        if (!reply)
            return -1;
        freeReplyObject(reply);
    }
    r->connect_step = REDIS_STEP_NONE;
    if (cf->redis_sentinel_count) {
        bool master;

        argv[0] = "ROLE";
        reply = redis_setup_cmd(r, "ROLE", 1, argv);
        if (!reply)
            return -1;
        master = reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
                 reply->element[0]->type == REDIS_REPLY_STRING &&
                 !strcmp(reply->element[0]->str, "master");
        freeReplyObject(reply);
        if (!master) {
            redis_backoff(r, "ROLE: not a master");
            return -1;
        }
    }
    argv[0] = "INFO";
    argv[1] = "server";
    reply = redis_setup_cmd(r, "INFO", 2, argv);
    if (!reply)
        return -1;
    if (reply->type != REDIS_REPLY_STRING ||
        redis_parse_run_id(reply->str, r->run_id, sizeof(r->run_id))) {
        freeReplyObject(reply);
        redis_backoff(r, "INFO server has no run_id");
        return -1;
    }
    freeReplyObject(reply);

    r->last_used_ms = redis_now_ms();
    r->connected_ms = r->last_used_ms;
    r->backoff_ms = 0;
    r->retry_at_ms = 0;
    /* Writes may have failed while we were away: tell the user before its next command. */
    if (r->lost)
        r->reconnected = true;
    r->lost = false;
    redis_set_up(1);
    if (was_backing_off)
        log_info("[CACHE] redis back");
    log_info("[CACHE] connected to redis %s db %d", target, cf->redis_db);
    return 0;
}

/*
 * Asks sentinel i for the master's address. 0 with host and *port, or -1 with why (client-safe:
 * never the password).
 */
static int redis_sentinel_ask(struct redis *r, int i, char *host, size_t hn, int *port, char *why,
                              size_t wn)
{
    const struct config *cf = r->cf;
    const struct config_sentinel *s = &cf->redis_sentinels[i];
    int ms = cf->redis_connect_timeout_ms < REDIS_SENTINEL_MS ? cf->redis_connect_timeout_ms
                                                              : REDIS_SENTINEL_MS;
    const char *argv[3];
    redisContext *sc;
    redisReply *reply = NULL;
    char d[128];
    int rc = -1, e;
    long p;

    sc = redisConnectWithTimeout(s->host, s->port, redis_tv(ms));
    if (!sc) {
        snprintf(why, wn, "sentinel %.46s:%d: out of memory", s->host, s->port);
        return -1;
    }
    if (sc->err) {
        snprintf(why, wn, "sentinel %.46s:%d: %.60s", s->host, s->port, sc->errstr);
        goto out;
    }
    if (redisSetTimeout(sc, redis_tv(ms)) != REDIS_OK) {
        snprintf(why, wn, "sentinel %.46s:%d: cannot set the timeout", s->host, s->port);
        goto out;
    }
    if (cf->redis_sentinel_password[0]) {
        argv[0] = "AUTH";
        argv[1] = cf->redis_sentinel_password;
        errno = 0;
        reply = redisCommandArgv(sc, 2, argv, NULL);
        e = errno;
        if (!reply || reply->type == REDIS_REPLY_ERROR) {
            if (!reply)
                redis_ctx_fail(sc, e, d, sizeof(d));
            snprintf(why, wn, "sentinel %.46s:%d: AUTH: %.40s", s->host, s->port,
                     reply ? "authentication failed" : d);
            goto out;
        }
        freeReplyObject(reply);
    }
    argv[0] = "SENTINEL";
    argv[1] = "get-master-addr-by-name";
    argv[2] = cf->redis_sentinel_master;
    errno = 0;
    reply = redisCommandArgv(sc, 3, argv, NULL);
    e = errno;
    if (!reply) {
        redis_ctx_fail(sc, e, d, sizeof(d));
        snprintf(why, wn, "sentinel %.46s:%d: %.40s", s->host, s->port, d);
        goto out;
    }
    if (reply->type == REDIS_REPLY_NIL) {
        snprintf(why, wn, "sentinel %.46s:%d: no master named %.30s", s->host, s->port,
                 cf->redis_sentinel_master);
        goto out;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_STRING || reply->element[0]->len == 0 ||
        reply->element[0]->len >= hn || reply->element[1]->len > 5) {
        snprintf(why, wn, "sentinel %.46s:%d: unexpected reply: %.40s", s->host, s->port,
                 redis_reply_text(reply));
        goto out;
    }
    {
        char *end;

        errno = 0;
        p = strtol(reply->element[1]->str, &end, 10);
        if (errno || *end || p < 1 || p > 65535) {
            snprintf(why, wn, "sentinel %.46s:%d: bad master port", s->host, s->port);
            goto out;
        }
    }
    memcpy(host, reply->element[0]->str, reply->element[0]->len);
    host[reply->element[0]->len] = '\0';
    *port = (int)p;
    rc = 0;
out:
    if (reply)
        freeReplyObject(reply);
    redisFree(sc);
    return rc;
}

/* Under Sentinel: the first master a sentinel names that passes redis_connect_at. */
static int redis_connect_sentinel(struct redis *r)
{
    const struct config *cf = r->cf;
    int n = cf->redis_sentinel_count, k;
    char why[128] = "no sentinel";

    for (k = 0; k < n; k++) {
        int i = (r->sentinel_next + k) % n, port, rc;
        char host[256];

        if (redis_sentinel_ask(r, i, host, sizeof(host), &port, why, sizeof(why))) {
            log_debug("[CACHE] %s", why);
            continue;
        }
        r->probing = true;
        rc = redis_connect_at(r, host, port);
        r->probing = false;
        if (!rc) {
            r->sentinel_next = i;
            return 0;
        }
        snprintf(why, sizeof(why), "master %.46s:%d: %.60s", host, port, r->last_error);
        log_debug("[CACHE] sentinel %d named %s", i, why);
    }
    redis_backoff(r, why);
    return -1;
}

/* Opens a fresh connection (REDIS_URL's server, or the master the sentinels name). */
static int redis_connect(struct redis *r)
{
    if (r->cf->redis_sentinel_count)
        return redis_connect_sentinel(r);
    return redis_connect_at(r, r->cf->redis_host, r->cf->redis_port);
}

void redis_init(struct redis *r, const struct config *cf)
{
    memset(r, 0, sizeof(*r));
    r->cf = cf;
    r->backoff_initial_ms = REDIS_BACKOFF_INITIAL_MS;
    r->backoff_max_ms = REDIS_BACKOFF_MAX_MS;
}

void redis_release(struct redis *r)
{
    redis_close(r);
}

int redis_ready(struct redis *r)
{
    int64_t now = redis_now_ms();

    if (r->rc) {
        redisReply *reply;
        char why[128];
        const char *cw;
        int e;

        if (now - r->last_used_ms <= (int64_t)r->cf->redis_health_check_interval * 1000)
            return 0;
        errno = 0;
        reply = redisCommand(r->rc, "PING");
        e = errno;
        if (reply) {
            cw = redis_reply_conn_error(reply);
            freeReplyObject(reply);
            if (cw) {
                redis_backoff(r, cw);
                return -1;
            }
            r->last_used_ms = redis_now_ms();
            return 0;
        }
        /* A connection closed while idle (server restart, idle timeout) is simply reopened; a
         * PING that timed out means a hung server: back off. */
        if (redis_ctx_fail(r->rc, e, why, sizeof(why)) != FAIL_CLOSED) {
            redis_backoff(r, why);
            return -1;
        }
        log_debug("[CACHE] idle connection lost (%s); reconnecting", why);
        redis_close(r);
        r->lost = true;
    }
    if (now < r->retry_at_ms)
        return -1;
    return redis_connect(r);
}

bool redis_backing_off(const struct redis *r)
{
    return !r->rc && redis_now_ms() < r->retry_at_ms;
}

redisReply *redis_cmd(struct redis *r, int argc, const char **argv, const size_t *lens)
{
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        redisReply *reply;
        const char *cw;
        char why[128];
        enum redis_fail kind;
        int e;

        if (redis_ready(r))
            return NULL;
        errno = 0;
        reply = redisCommandArgv(r->rc, argc, argv, lens);
        e = errno;
        if (reply) {
            cw = redis_reply_conn_error(reply);
            if (cw) {
                freeReplyObject(reply);
                redis_backoff(r, cw);
                return NULL;
            }
            if (redis_not_master(r, reply)) {
                /* The write did not happen: once more on the master the sentinels name now. */
                redis_drop_not_master(r, reply);
                if (attempt == 0 && !redis_backing_off(r)) {
                    freeReplyObject(reply);
                    continue;
                }
                return reply;
            }
            r->last_used_ms = redis_now_ms();
            redis_set_up(1);
            return reply;
        }
        kind = redis_ctx_fail(r->rc, e, why, sizeof(why));
        if (attempt == 0 && r->cf->redis_retry_on_timeout &&
            (kind == FAIL_TIMEOUT || kind == FAIL_CLOSED)) {
            log_debug("[CACHE] %s during %s; retrying once on a fresh connection", why, argv[0]);
            redis_close(r);
            r->lost = true;
            continue;
        }
        redis_backoff(r, why);
        return NULL;
    }
    return NULL;
}

int redis_append(struct redis *r, int argc, const char **argv, const size_t *lens)
{
    if (!r->rc)
        return -1;
    if (redisAppendCommandArgv(r->rc, argc, argv, lens) != REDIS_OK) {
        redis_backoff(r, "cannot queue a command");
        return -1;
    }
    return 0;
}

/* Reads one reply of a queued command; NULL (in back-off) if the connection failed. */
static redisReply *redis_read(struct redis *r)
{
    void *p = NULL;

    errno = 0;
    if (redisGetReply(r->rc, &p) != REDIS_OK || !p) {
        redis_ctx_backoff(r, errno);
        return NULL;
    }
    return p;
}

int redis_pipeline_read(struct redis *r, int n, long *sum, int *errors)
{
    redisReply *refused = NULL;
    int i;

    for (i = 0; i < n; i++) {
        redisReply *reply = redis_read(r);

        if (!reply) {
            if (refused)
                freeReplyObject(refused);
            return -1;
        }
        if (reply->type == REDIS_REPLY_INTEGER && sum)
            *sum += (long)reply->integer;
        else if (reply->type == REDIS_REPLY_ERROR)
            (*errors)++;
        if (!refused && redis_not_master(r, reply))
            refused = reply;
        else
            freeReplyObject(reply);
    }
    r->last_used_ms = redis_now_ms();
    /* Every reply is read: the connection to a server that is no master can go. */
    if (refused) {
        redis_drop_not_master(r, refused);
        freeReplyObject(refused);
    }
    return 0;
}

int redis_scan(struct redis *r, const char *match, redis_scan_fn fn, void *ctx, long *sum,
               int *errors)
{
    const char *argv[6];
    redisReply *reply;

    argv[0] = "SCAN";
    argv[1] = "0";
    argv[2] = "MATCH";
    argv[3] = match;
    argv[4] = "COUNT";
    argv[5] = REDIS_SCAN_COUNT;
    reply = redis_cmd(r, 6, argv, NULL);
    for (;;) {
        const redisReply *cur;
        bool more;
        int queued;

        if (!reply)
            return -1;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_STRING ||
            reply->element[1]->type != REDIS_REPLY_ARRAY) {
            redis_warn(r, "[CACHE] unexpected SCAN reply: %.100s", redis_reply_text(reply));
            freeReplyObject(reply);
            return -1;
        }
        cur = reply->element[0];
        queued = fn(ctx, r, reply->element[1]);
        if (queued < 0) {
            freeReplyObject(reply);
            return -1;
        }
        more = strcmp(cur->str, "0") != 0;
        /* Ask for the next batch in the round trip of what fn queued. */
        if (more) {
            argv[1] = cur->str;
            if (redis_append(r, 6, argv, NULL)) {
                freeReplyObject(reply);
                return -1;
            }
        }
        /* The commands are formatted into hiredis' buffer: the reply can go. */
        freeReplyObject(reply);
        if (queued && redis_pipeline_read(r, queued, sum, errors))
            return -1;
        if (!more)
            return 0;
        reply = redis_read(r);
    }
}

void redis_glob_escape(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '*' || *s == '?' || *s == '[' || *s == ']' || *s == '\\')
            buf_addch(b, '\\');
        buf_addch(b, *s);
    }
}

int redis_ping(struct redis *r, double *latency_ms)
{
    redisReply *reply;
    double t0;
    int rc;

    if (latency_ms)
        *latency_ms = -1;
    if (redis_ready(r))
        return -1;
    t0 = redis_now_fms();
    reply = redis_cmd(r, 1, (const char *[]){"PING"}, NULL);
    if (!reply)
        return -1;
    if (latency_ms)
        *latency_ms = redis_now_fms() - t0;
    rc = reply->type == REDIS_REPLY_STATUS ? 0 : -1;
    if (rc)
        snprintf(r->last_error, sizeof(r->last_error), "PING: %.100s", redis_reply_text(reply));
    freeReplyObject(reply);
    return rc;
}
