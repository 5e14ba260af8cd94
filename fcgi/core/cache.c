/*
 * cache: the tenant-scoped Redis cache of SPEC §4 over one blocking hiredis 0.14 connection per
 * worker. Any Redis failure is a miss; correctness after writes rests on generation tags.
 *
 * Design
 * - Key: "{prefix}:tenant:{tenant}:{module}:{key}" (cache_key). The tenant id is always the
 *   caller's argument (the authenticated session), never parsed from a key.
 * - Stored value: {"tag":"<TAG>","data":<payload>} or, for a cached "not found",
 *   {"tag":"<TAG>","nf":true}. It is built by concatenation (TAG is [0-9A-Za-z.] only and the
 *   payload is JSON text from the loader) and parsed by prefix on read: no JSON parse on the hit
 *   path, the payload is the raw bytes between "data": and the final '}'.
 * - TAG = "<run_id>.<epoch>.<gen>": run_id of the Redis server (INFO server, read once per
 *   connection); epoch = value of "{prefix}:epoch"; gen = value of the per-module generation key
 *   "{prefix}:tenant:{t}:{module}:__gen__". Epoch and gen are random hex tokens (libsodium),
 *   created with SET NX GET when missing, without TTL (NX together with GET needs Redis 7).
 * - Read = one round trip: MGET epoch gen value. A HIT needs the value's tag to equal
 *   run_id.epoch.gen with both tokens present. On a miss the missing tokens are created, the
 *   loader runs, and the value is stored with the tag read BEFORE the load: a reader that loaded
 *   old data while a write committed and invalidated can only store a value whose tag is
 *   already dead, so it never becomes current again (SPEC: a read that started before a write
 *   must not put the old value back).
 * - cache_invalidate_module = DEL of the generation key: O(1) whatever Redis holds, and DEL is
 *   accepted even under OOM/noeviction. Old entries simply stop matching and expire by TTL.
 * - A restarted (or failed-over) Redis has a new run_id, so nothing persisted by the previous
 *   incarnation is served, even if an RDB/AOF rollback resurrected a deleted generation key.
 * - A worker that dies without finishing (SIGKILL, a crash) may have committed a write and not
 *   invalidated it yet: the master then calls cache_distrust_all (flush_all, then the gate
 *   closes), so the next replay puts a new epoch in Redis before anything cached is served.
 * - A failed invalidation (Redis down, timeout, auth error, READONLY...) is recorded durably:
 *   INSERT INTO cache_backlog through c->db (if that is impossible, shared cache_flush_all is
 *   incremented instead), then shared cache_fail_seq is incremented. The pool may serve hits only
 * while cache_fail_seq == cache_done_seq (a fresh process starts with 1/0, so its first use replays
 *   the backlog). A worker also replays after each reconnect that follows a failure
 *   (need_replay). Replay: S = fail_seq; DEL the generation key of every (tenant, module) of the
 *   backlog (pipelined); a new epoch token if flush_all was set; delete the replayed rows; raise
 *   done_seq to S. Rows are deleted per (tenant, module) up to the highest id seen, not by one
 *   global "id <= max": ids commit out of order, and a row of another module committed after
 *   the SELECT with a smaller id must survive. While the gate is closed and the replay cannot
 *   run (Redis or PostgreSQL unreachable, or the caller is inside a transaction), reads are
 *   misses and nothing is stored.
 * - Connection: opened lazily, AUTH and SELECT when configured, socket timeout and TCP
 *   keep-alive; hiredis 0.14's redisReconnect loses AUTH and the timeout, so a lost connection
 *   is always freed and opened afresh. An idle connection is PINGed after
 *   REDIS_HEALTH_CHECK_INTERVAL. A command that timed out or hit a closed connection is retried
 *   once on a fresh connection when REDIS_RETRY_ON_TIMEOUT is set.
 * - Back-off: a connection-level failure (refused, timeout, EOF, protocol error, NOAUTH,
 *   WRONGPASS, LOADING, MASTERDOWN, BUSY) closes the connection and makes every operation an
 *   instant miss until retry_at (1 s, doubling to 30 s, reset on success), so a hung Redis does
 *   not add its timeout to every request. A plain reply error (OOM on SET, WRONGTYPE) fails
 *   only that operation. Warnings are rate limited to one per worker per 5 s with a count of
 *   the suppressed ones; no log line ever holds the password or the URL.
 * - CACHE_ENABLED=false: memoize runs the loader and answers BYPASS, no Redis traffic at all,
 *   and cache_invalidate_module does nothing. Entries left in Redis by an earlier run with the
 *   cache enabled are therefore not invalidated by writes made while it is disabled: flush
 *   them (stockctl cache flush) before enabling the cache again.
 */
#include "core/cache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <sodium.h>

#include "core/log.h"
#include "core/shared.h"

#define CACHE_TOKEN_BYTES      16
#define CACHE_TOKEN_MAX        64 /* longest epoch/gen token accepted from Redis */
#define CACHE_TAG_MAX          (48 + 2 * CACHE_TOKEN_MAX + 3)
#define CACHE_WARN_INTERVAL_MS 5000
#define CACHE_GEN_NAME         "__gen__"
#define CACHE_PATTERN_MAX      512
#define CACHE_REPLAY_BATCH     500

static const char VAL_HEAD[] = "{\"tag\":\"";
static const char VAL_DATA[] = "\",\"data\":";
static const char VAL_NF[] = "\",\"nf\":true}";

/* How a command failed at the connection level. */
enum cache_fail { FAIL_CONN = 0, FAIL_TIMEOUT, FAIL_CLOSED };

/* The current tag, or why a value may not be stored. */
struct cache_lookup {
    char *key;
    bool can_store;
    char tag[CACHE_TAG_MAX];
};

static int64_t cache_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double cache_now_fms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static struct timeval cache_tv(int ms)
{
    struct timeval tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

static struct shared_cache_counters *cache_counters(const char *module)
{
    return &shared_get()->cache[shared_module_of(module)];
}

static void cache_count(atomic_uint_fast64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

static void cache_set_up(int up)
{
    struct shared *sh = shared_get();

    if (atomic_load_explicit(&sh->redis_up, memory_order_relaxed) != up)
        atomic_store(&sh->redis_up, up);
}

/* "host:port" or "unix:path" for logs: never the URL, which may hold the password. */
static void cache_target(const struct config *cf, char *out, size_t n)
{
    if (cf->redis_unix[0])
        snprintf(out, n, "unix:%s", cf->redis_unix);
    else
        snprintf(out, n, "%s:%d", cf->redis_host, cf->redis_port);
}

static void cache_warn(struct cache *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A warning, at most one per CACHE_WARN_INTERVAL_MS; the others are counted. */
static void cache_warn(struct cache *c, const char *fmt, ...)
{
    char msg[512];
    int64_t now = cache_now_ms();
    va_list ap;

    if (c->last_warn_ms && now - c->last_warn_ms < CACHE_WARN_INTERVAL_MS) {
        c->suppressed++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->suppressed)
        log_warn("%s (%u similar warnings suppressed)", msg, c->suppressed);
    else
        log_warn("%s", msg);
    c->last_warn_ms = now ? now : 1;
    c->suppressed = 0;
}

static void cache_close(struct cache *c)
{
    if (c->rc) {
        redisFree(c->rc);
        c->rc = NULL;
    }
}

/* Closes the connection and stops all Redis traffic until retry_at. */
static void cache_backoff(struct cache *c, const char *reason)
{
    char target[300];
    int max = c->backoff_max_ms > 0 ? c->backoff_max_ms : CACHE_BACKOFF_MAX_MS;
    int initial = c->backoff_initial_ms > 0 ? c->backoff_initial_ms : CACHE_BACKOFF_INITIAL_MS;

    cache_close(c);
    c->lost = true;
    snprintf(c->last_error, sizeof(c->last_error), "%s", reason);
    if (c->backoff_ms <= 0)
        c->backoff_ms = initial;
    else
        c->backoff_ms = c->backoff_ms > max / 2 ? max : c->backoff_ms * 2;
    if (c->backoff_ms > max)
        c->backoff_ms = max;
    c->retry_at_ms = cache_now_ms() + c->backoff_ms;
    cache_set_up(0);
    cache_target(c->cf, target, sizeof(target));
    cache_warn(c, "[CACHE] redis unavailable: %s; backing off %dms redis=%s", reason, c->backoff_ms,
               target);
}

/* Describes the error of a dead context (client-safe) and classifies it. */
static enum cache_fail cache_ctx_fail(const redisContext *rc, int saved_errno, char *why, size_t n)
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

/* The client-safe reason of an error reply that means the server is unusable, else NULL. */
static const char *cache_reply_conn_error(const redisReply *r)
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

    if (r->type != REDIS_REPLY_ERROR || !r->str)
        return NULL;
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strncmp(r->str, map[i].prefix, strlen(map[i].prefix)))
            return map[i].why;
    return NULL;
}

/* The first words of an error reply, for logs (Redis never echoes arguments in them). */
static const char *cache_reply_text(const redisReply *r)
{
    if (r->type == REDIS_REPLY_ERROR && r->str)
        return r->str;
    return "unexpected reply type";
}

/*
 * One command of the connection set-up on c->rc, without retry. Returns the reply (caller
 * frees), or NULL after entering back-off.
 */
static redisReply *cache_setup_cmd(struct cache *c, const char *what, int argc, const char **argv)
{
    redisReply *r;
    const char *cw;
    char why[160];
    int e;

    errno = 0;
    r = redisCommandArgv(c->rc, argc, argv, NULL);
    e = errno;
    if (!r) {
        char d[128];

        cache_ctx_fail(c->rc, e, d, sizeof(d));
        snprintf(why, sizeof(why), "%s: %s", what, d);
        cache_backoff(c, why);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        cw = cache_reply_conn_error(r);
        if (!cw && !strcmp(argv[0], "AUTH"))
            cw = "authentication failed";
        snprintf(why, sizeof(why), "%s: %.100s", what, cw ? cw : r->str);
        freeReplyObject(r);
        cache_backoff(c, why);
        return NULL;
    }
    return r;
}

/* Copies the run_id field of an INFO server reply. 0 or -1. */
static int cache_parse_run_id(const char *info, char *out, size_t n)
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

/* Opens a fresh connection: connect, timeouts, AUTH, SELECT, run_id. 0, or -1 in back-off. */
static int cache_connect(struct cache *c)
{
    const struct config *cf = c->cf;
    redisContext *rc;
    redisReply *r;
    char target[300], why[160], dbs[16];
    const char *argv[2];
    bool was_backing_off = c->backoff_ms > 0;

    cache_target(cf, target, sizeof(target));
    if (cf->redis_unix[0])
        rc = redisConnectUnixWithTimeout(cf->redis_unix, cache_tv(cf->redis_connect_timeout_ms));
    else
        rc = redisConnectWithTimeout(cf->redis_host, cf->redis_port,
                                     cache_tv(cf->redis_connect_timeout_ms));
    if (!rc) {
        cache_backoff(c, "connect: out of memory");
        return -1;
    }
    if (rc->err) {
        /* hiredis' connect errors are strerror() texts ("Connection refused"): no secrets. */
        if (rc->err == REDIS_ERR_IO && strstr(rc->errstr, "timed out"))
            snprintf(why, sizeof(why), "connect timeout");
        else
            snprintf(why, sizeof(why), "connect: %.100s", rc->errstr);
        redisFree(rc);
        cache_backoff(c, why);
        return -1;
    }
    c->rc = rc;
    if (redisSetTimeout(rc, cache_tv(cf->redis_socket_timeout_ms)) != REDIS_OK) {
        cache_backoff(c, "cannot set the socket timeout");
        return -1;
    }
    if (!cf->redis_unix[0] && redisEnableKeepAlive(rc) != REDIS_OK)
        log_debug("[CACHE] cannot enable TCP keep-alive on the redis connection");
    if (cf->redis_password[0]) {
        argv[0] = "AUTH";
        argv[1] = cf->redis_password;
        r = cache_setup_cmd(c, "AUTH", 2, argv);
        if (!r)
            return -1;
        freeReplyObject(r);
    }
    if (cf->redis_db != 0) {
        snprintf(dbs, sizeof(dbs), "%d", cf->redis_db);
        argv[0] = "SELECT";
        argv[1] = dbs;
        r = cache_setup_cmd(c, "SELECT", 2, argv);
        if (!r)
            return -1;
        freeReplyObject(r);
    }
    argv[0] = "INFO";
    argv[1] = "server";
    r = cache_setup_cmd(c, "INFO", 2, argv);
    if (!r)
        return -1;
    if (r->type != REDIS_REPLY_STRING || cache_parse_run_id(r->str, c->run_id, sizeof(c->run_id))) {
        freeReplyObject(r);
        cache_backoff(c, "INFO server has no run_id");
        return -1;
    }
    freeReplyObject(r);

    c->last_used_ms = cache_now_ms();
    c->backoff_ms = 0;
    c->retry_at_ms = 0;
    /* Invalidations may have failed while we were away: replay before the next hit. */
    if (c->lost)
        c->need_replay = true;
    c->lost = false;
    cache_set_up(1);
    if (was_backing_off)
        log_info("[CACHE] redis back");
    log_info("[CACHE] connected to redis %s db %d", target, cf->redis_db);
    return 0;
}

/*
 * Makes c->rc usable: honours the back-off, opens the connection if needed, and PINGs a
 * connection idle for longer than the health-check interval. 0, or -1 (no Redis now).
 */
static int cache_ready(struct cache *c)
{
    int64_t now = cache_now_ms();

    if (c->rc) {
        redisReply *r;
        char why[128];
        const char *cw;
        int e;

        if (now - c->last_used_ms <= (int64_t)c->cf->redis_health_check_interval * 1000)
            return 0;
        errno = 0;
        r = redisCommand(c->rc, "PING");
        e = errno;
        if (r) {
            cw = cache_reply_conn_error(r);
            freeReplyObject(r);
            if (cw) {
                cache_backoff(c, cw);
                return -1;
            }
            c->last_used_ms = cache_now_ms();
            return 0;
        }
        /* A connection closed while idle (server restart, idle timeout) is simply reopened; a
         * PING that timed out means a hung server: back off. */
        if (cache_ctx_fail(c->rc, e, why, sizeof(why)) != FAIL_CLOSED) {
            cache_backoff(c, why);
            return -1;
        }
        log_debug("[CACHE] idle connection lost (%s); reconnecting", why);
        cache_close(c);
        c->lost = true;
    }
    if (now < c->retry_at_ms)
        return -1;
    return cache_connect(c);
}

/*
 * Runs one command (argv, lengths or NULL for C strings), retrying once on a fresh connection
 * after a timeout or a closed connection when REDIS_RETRY_ON_TIMEOUT is set. Returns the
 * reply (the caller frees it; it may be a non-fatal error reply) or NULL when Redis is
 * unusable (then the cache is in back-off).
 */
static redisReply *cache_cmd(struct cache *c, int argc, const char **argv, const size_t *lens)
{
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        redisReply *r;
        const char *cw;
        char why[128];
        enum cache_fail kind;
        int e;

        if (cache_ready(c))
            return NULL;
        errno = 0;
        r = redisCommandArgv(c->rc, argc, argv, lens);
        e = errno;
        if (r) {
            cw = cache_reply_conn_error(r);
            if (cw) {
                freeReplyObject(r);
                cache_backoff(c, cw);
                return NULL;
            }
            c->last_used_ms = cache_now_ms();
            cache_set_up(1);
            return r;
        }
        kind = cache_ctx_fail(c->rc, e, why, sizeof(why));
        if (attempt == 0 && c->cf->redis_retry_on_timeout &&
            (kind == FAIL_TIMEOUT || kind == FAIL_CLOSED)) {
            log_debug("[CACHE] %s during %s; retrying once on a fresh connection", why, argv[0]);
            cache_close(c);
            c->lost = true;
            continue;
        }
        cache_backoff(c, why);
        return NULL;
    }
    return NULL;
}

/* Reads the replies of n pipelined commands; -1 (in back-off) if the connection failed. */
static int cache_pipeline_read(struct cache *c, int n, long *sum, int *errors)
{
    int i, e;
    char why[128];

    for (i = 0; i < n; i++) {
        void *p = NULL;
        redisReply *r;

        errno = 0;
        if (redisGetReply(c->rc, &p) != REDIS_OK || !p) {
            e = errno;
            cache_ctx_fail(c->rc, e, why, sizeof(why));
            cache_backoff(c, why);
            return -1;
        }
        r = p;
        if (r->type == REDIS_REPLY_INTEGER && sum)
            *sum += (long)r->integer;
        else if (r->type == REDIS_REPLY_ERROR)
            (*errors)++;
        freeReplyObject(r);
    }
    c->last_used_ms = cache_now_ms();
    return 0;
}

static bool cache_token_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > CACHE_TOKEN_MAX)
        return false;
    for (i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    return true;
}

static void cache_token_new(char out[2 * CACHE_TOKEN_BYTES + 1])
{
    unsigned char raw[CACHE_TOKEN_BYTES];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(out, 2 * CACHE_TOKEN_BYTES + 1, raw, sizeof(raw));
}

static char *cache_epoch_key(const struct cache *c, struct arena *a)
{
    return arena_sprintf(a, "%s:epoch", c->cf->key_prefix);
}

static char *cache_gen_key(const struct cache *c, struct arena *a, int64_t tenant,
                           const char *module)
{
    return cache_key(c, a, tenant, module, CACHE_GEN_NAME);
}

/*
 * Copies the token stored at key into out, creating a random one when missing (SET NX GET).
 * A malformed value is replaced, which only invalidates. 0, or -1 when Redis refused.
 */
static int cache_token_ensure(struct cache *c, const char *key, const char *module, char *out)
{
    char tok[2 * CACHE_TOKEN_BYTES + 1];
    const char *argv[5];
    redisReply *r;

    cache_token_new(tok);
    argv[0] = "SET";
    argv[1] = key;
    argv[2] = tok;
    argv[3] = "NX";
    argv[4] = "GET";
    r = cache_cmd(c, 5, argv, NULL);
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_NIL) {
        memcpy(out, tok, sizeof(tok));
        freeReplyObject(r);
        return 0;
    }
    if (r->type == REDIS_REPLY_STRING && cache_token_ok(r->str, r->len)) {
        memcpy(out, r->str, r->len);
        out[r->len] = '\0';
        freeReplyObject(r);
        return 0;
    }
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9)) {
        cache_count(&cache_counters(module)->errors);
        cache_warn(c, "[CACHE] cannot create '%s': %.100s", key, r->str);
        freeReplyObject(r);
        return -1;
    }
    /* Garbage or another type at our key: overwrite it (a new token only invalidates). */
    freeReplyObject(r);
    r = cache_cmd(c, 3, argv, NULL);
    if (!r)
        return -1;
    if (r->type != REDIS_REPLY_STATUS) {
        cache_count(&cache_counters(module)->errors);
        cache_warn(c, "[CACHE] cannot reset '%s': %.100s", key, cache_reply_text(r));
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    memcpy(out, tok, sizeof(tok));
    return 0;
}

static void cache_tag(const struct cache *c, const char *epoch, const char *gen, char *out)
{
    snprintf(out, CACHE_TAG_MAX, "%s.%s.%s", c->run_id, epoch, gen);
}

/*
 * Parses a stored value against the expected tag. On a match sets *found and, when found, the
 * payload span. False on any mismatch or malformed value.
 */
static bool cache_value_parse(const char *v, size_t n, const char *tag, bool *found,
                              const char **data, size_t *dlen)
{
    size_t hl = sizeof(VAL_HEAD) - 1, tl = strlen(tag), dl = sizeof(VAL_DATA) - 1;
    size_t nl = sizeof(VAL_NF) - 1;
    const char *rest;
    size_t rn;

    if (n < hl + tl || memcmp(v, VAL_HEAD, hl) || memcmp(v + hl, tag, tl))
        return false;
    rest = v + hl + tl;
    rn = n - hl - tl;
    if (rn == nl && !memcmp(rest, VAL_NF, nl)) {
        *found = false;
        *data = NULL;
        *dlen = 0;
        return true;
    }
    if (rn > dl + 1 && !memcmp(rest, VAL_DATA, dl) && rest[rn - 1] == '}') {
        *found = true;
        *data = rest + dl;
        *dlen = rn - dl - 1;
        return true;
    }
    return false;
}

static int cache_replay(struct cache *c);

/* The invalidation gate: true when cached values may be read (replaying the backlog if due). */
static bool cache_gate(struct cache *c)
{
    struct shared *sh = shared_get();

    if (!c->need_replay && atomic_load(&sh->cache_fail_seq) == atomic_load(&sh->cache_done_seq))
        return true;
    return cache_replay(c) == 0;
}

/*
 * Applies the durable backlog of failed invalidations (see the top of the file). Needs a ready
 * connection. 0 when applied (the gate is open again up to the fail_seq read at the start).
 */
static int cache_replay(struct cache *c)
{
    struct shared *sh = shared_get();
    uint_fast64_t target, done;
    struct arena *a;
    struct app_err err;
    PGresult *res = NULL;
    int flush, rows = 0, i, j, errors = 0;
    char tok[2 * CACHE_TOKEN_BYTES + 1];

    if (!c->rc)
        return -1;
    /* Our statements must neither join nor abort the caller's transaction. */
    if (c->db && c->db->in_tx)
        return -1;
    target = atomic_load(&sh->cache_fail_seq);
    /*
     * cache_flush_all counts unrecorded failures. It is cleared (by CAS, after the new epoch is
     * set) only if no failure came meanwhile; until then every concurrent replayer renews the
     * epoch itself before it opens the gate, so none can open it ahead of the renewal.
     */
    flush = atomic_load(&sh->cache_flush_all);
    a = arena_new();
    if (c->db) {
        res = db_exec(c->db, a,
                      "SELECT tenant_id, module, max(id) FROM cache_backlog "
                      "GROUP BY tenant_id, module ORDER BY 3",
                      0, NULL, &err);
        if (!res) {
            cache_warn(c, "[CACHE] cannot read the invalidation backlog: %s; not using the cache",
                       err.msg);
            goto fail;
        }
        rows = PQntuples(res);
        for (i = 0; i < rows; i += CACHE_REPLAY_BATCH) {
            int n = rows - i < CACHE_REPLAY_BATCH ? rows - i : CACHE_REPLAY_BATCH;

            if (!c->rc)
                goto fail;
            for (j = 0; j < n; j++) {
                int64_t t = strtoll(PQgetvalue(res, i + j, 0), NULL, 10);
                char *gk = cache_gen_key(c, a, t, PQgetvalue(res, i + j, 1));

                if (redisAppendCommand(c->rc, "DEL %s", gk) != REDIS_OK) {
                    cache_backoff(c, "cannot queue a command");
                    goto fail;
                }
            }
            if (cache_pipeline_read(c, n, NULL, &errors))
                goto fail;
            if (errors) {
                cache_warn(c, "[CACHE] redis refused %d deferred invalidations", errors);
                goto fail;
            }
        }
    }
    if (flush) {
        const char *argv[3];
        redisReply *r;

        cache_token_new(tok);
        argv[0] = "SET";
        argv[1] = cache_epoch_key(c, a);
        argv[2] = tok;
        r = cache_cmd(c, 3, argv, NULL);
        if (!r)
            goto fail;
        if (r->type != REDIS_REPLY_STATUS) {
            cache_warn(c, "[CACHE] cannot renew the epoch: %.100s", cache_reply_text(r));
            freeReplyObject(r);
            goto fail;
        }
        freeReplyObject(r);
        log_info("[CACHE] new epoch: every cached entry is stale (an invalidation could not be "
                 "recorded)");
        atomic_compare_exchange_strong(&sh->cache_flush_all, &flush, 0);
    }
    /* Only the rows applied above: per (tenant, module) up to the highest id we saw. A failure
     * here leaves rows that are harmlessly applied again later. */
    for (i = 0; i < rows; i++) {
        const char *params[3];

        params[0] = PQgetvalue(res, i, 0);
        params[1] = PQgetvalue(res, i, 1);
        params[2] = PQgetvalue(res, i, 2);
        if (!db_exec(c->db, a,
                     "DELETE FROM cache_backlog WHERE tenant_id = $1 AND module = $2 AND id <= $3",
                     3, params, &err)) {
            cache_warn(c, "[CACHE] cannot clear the invalidation backlog: %s", err.msg);
            break;
        }
    }
    done = atomic_load(&sh->cache_done_seq);
    while (done < target && !atomic_compare_exchange_weak(&sh->cache_done_seq, &done, target))
        ;
    c->need_replay = false;
    if (rows || flush)
        log_info("[CACHE] replayed %d deferred invalidations%s", rows,
                 flush ? " and renewed the epoch" : "");
    arena_free(a);
    return 0;

fail:
    arena_free(a);
    return -1;
}

/*
 * Tag of the current (epoch, gen) given their MGET replies, creating what is missing.
 * 0, or -1 when it cannot be known (then nothing may be stored).
 */
static int cache_tag_resolve(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                             const redisReply *re, const redisReply *rg, char *tag)
{
    char epoch[CACHE_TOKEN_MAX + 1], gen[CACHE_TOKEN_MAX + 1];

    if (re->type == REDIS_REPLY_STRING && cache_token_ok(re->str, re->len)) {
        memcpy(epoch, re->str, re->len);
        epoch[re->len] = '\0';
    } else if (cache_token_ensure(c, cache_epoch_key(c, a), module, epoch)) {
        return -1;
    }
    if (rg->type == REDIS_REPLY_STRING && cache_token_ok(rg->str, rg->len)) {
        memcpy(gen, rg->str, rg->len);
        gen[rg->len] = '\0';
    } else if (cache_token_ensure(c, cache_gen_key(c, a, tenant, module), module, gen)) {
        return -1;
    }
    cache_tag(c, epoch, gen, tag);
    return 0;
}

/*
 * The read of memoize and get: one MGET of epoch, generation and value. Sets res to HIT (value
 * copied into the arena) when the value's tag is current. Otherwise res stays MISS and, when
 * want_tag, lk->tag receives the current tag (lk->can_store) for storing a value loaded now.
 */
static void cache_lookup(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                         const char *key, bool want_tag, struct cache_lookup *lk,
                         struct cache_result *res)
{
    const char *argv[4];
    redisReply *r, **e;
    bool found;
    const char *data;
    size_t dlen;

    memset(res, 0, sizeof(*res));
    res->status = CACHE_MISS;
    lk->key = cache_key(c, a, tenant, module, key);
    lk->can_store = false;
    lk->tag[0] = '\0';
    /* That key would alias the module's generation key: never cached. */
    if (!strcmp(key, CACHE_GEN_NAME))
        return;
    if (cache_ready(c) || !cache_gate(c))
        return;
    argv[0] = "MGET";
    argv[1] = cache_epoch_key(c, a);
    argv[2] = cache_gen_key(c, a, tenant, module);
    argv[3] = lk->key;
    r = cache_cmd(c, 4, argv, NULL);
    if (!r) {
        cache_count(&cache_counters(module)->errors);
        return;
    }
    /* A reconnect after a failure happened inside cache_cmd: nothing read may be trusted
     * before the backlog is replayed, so this one read is a plain miss. */
    if (c->need_replay) {
        freeReplyObject(r);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        cache_count(&cache_counters(module)->errors);
        cache_warn(c, "[CACHE] unexpected MGET reply for '%s': %.100s", lk->key,
                   cache_reply_text(r));
        freeReplyObject(r);
        return;
    }
    e = r->element;
    if (e[0]->type == REDIS_REPLY_STRING && cache_token_ok(e[0]->str, e[0]->len) &&
        e[1]->type == REDIS_REPLY_STRING && cache_token_ok(e[1]->str, e[1]->len) &&
        e[2]->type == REDIS_REPLY_STRING) {
        char epoch[CACHE_TOKEN_MAX + 1], gen[CACHE_TOKEN_MAX + 1];

        memcpy(epoch, e[0]->str, e[0]->len);
        epoch[e[0]->len] = '\0';
        memcpy(gen, e[1]->str, e[1]->len);
        gen[e[1]->len] = '\0';
        cache_tag(c, epoch, gen, lk->tag);
        if (cache_value_parse(e[2]->str, e[2]->len, lk->tag, &found, &data, &dlen)) {
            res->status = CACHE_HIT;
            res->found = found;
            if (found) {
                res->json = arena_strndup(a, data, dlen);
                res->len = dlen;
            }
            freeReplyObject(r);
            return;
        }
    }
    if (want_tag && !cache_tag_resolve(c, a, tenant, module, e[0], e[1], lk->tag))
        lk->can_store = true;
    freeReplyObject(r);
}

/* Stores a value (or a "not found") under key with the tag of the lookup. 0 or -1. */
static int cache_store(struct cache *c, const char *module, const char *key, const char *tag,
                       bool found, const char *json, size_t len, int ttl)
{
    struct buf v;
    char ttls[16];
    const char *argv[5];
    size_t lens[5];
    redisReply *r;
    int rc = -1;

    buf_init(&v);
    buf_add(&v, VAL_HEAD, sizeof(VAL_HEAD) - 1);
    buf_adds(&v, tag);
    if (found) {
        buf_add(&v, VAL_DATA, sizeof(VAL_DATA) - 1);
        buf_add(&v, json, len);
        buf_addch(&v, '}');
    } else {
        buf_add(&v, VAL_NF, sizeof(VAL_NF) - 1);
    }
    if (v.failed) {
        buf_release(&v);
        return -1;
    }
    snprintf(ttls, sizeof(ttls), "%d", ttl);
    argv[0] = "SET";
    argv[1] = key;
    argv[2] = v.data;
    argv[3] = "EX";
    argv[4] = ttls;
    lens[0] = 3;
    lens[1] = strlen(key);
    lens[2] = v.len;
    lens[3] = 2;
    lens[4] = strlen(ttls);
    r = cache_cmd(c, 5, argv, lens);
    buf_release(&v);
    if (!r) {
        cache_count(&cache_counters(module)->errors);
        return -1;
    }
    if (r->type == REDIS_REPLY_STATUS) {
        cache_count(&cache_counters(module)->sets);
        log_debug("[CACHE] SET: %s (TTL=%ds)", key, ttl);
        rc = 0;
    } else {
        /* OOM under noeviction, READONLY replica...: this value only. */
        cache_count(&cache_counters(module)->errors);
        cache_warn(c, "[CACHE] cannot store '%s': %.100s", key, cache_reply_text(r));
    }
    freeReplyObject(r);
    return rc;
}

/* Runs the loader into res (payload copied into the arena). 0 or -1. */
static int cache_load(struct arena *a, cache_loader_fn load, void *ctx, struct cache_result *res,
                      struct app_err *err)
{
    struct buf out;
    bool found = false;

    buf_init(&out);
    if (load(ctx, a, &out, &found, err)) {
        buf_release(&out);
        return -1;
    }
    if (out.failed) {
        buf_release(&out);
        return err_set(err, ERR_INTERNAL, "out of memory");
    }
    res->found = found;
    res->json = found ? arena_strndup(a, out.data, out.len) : NULL;
    res->len = found ? out.len : 0;
    buf_release(&out);
    return 0;
}

void cache_init(struct cache *c, const struct config *cf, struct db *db)
{
    memset(c, 0, sizeof(*c));
    c->cf = cf;
    c->db = db;
    c->backoff_initial_ms = CACHE_BACKOFF_INITIAL_MS;
    c->backoff_max_ms = CACHE_BACKOFF_MAX_MS;
    /* Idempotent; randombytes_buf works even if it failed, so this is only reported. */
    if (sodium_init() < 0)
        log_error("[CACHE] cannot initialise libsodium");
}

void cache_release(struct cache *c)
{
    cache_close(c);
}

char *cache_key(const struct cache *c, struct arena *a, int64_t tenant, const char *module,
                const char *key)
{
    return arena_sprintf(a, "%s:tenant:%" PRId64 ":%s:%s", c->cf->key_prefix, tenant, module, key);
}

int cache_memoize(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                  const char *key, int ttl, cache_loader_fn load, void *ctx,
                  struct cache_result *res, struct app_err *err)
{
    struct shared_cache_counters *k = cache_counters(module);
    struct cache_lookup lk;

    if (!c->cf->cache_enabled) {
        memset(res, 0, sizeof(*res));
        cache_count(&k->bypass);
        if (cache_load(a, load, ctx, res, err))
            return -1;
        res->status = CACHE_BYPASS;
        return 0;
    }
    cache_lookup(c, a, tenant, module, key, true, &lk, res);
    if (res->status == CACHE_HIT) {
        cache_count(&k->hits);
        log_debug("[CACHE] HIT: %s", lk.key);
        return 0;
    }
    cache_count(&k->misses);
    log_debug("[CACHE] MISS: %s", lk.key);
    if (cache_load(a, load, ctx, res, err))
        return -1;
    res->status = CACHE_MISS;
    /* An empty payload is not JSON: serve it, but do not store it. */
    if (lk.can_store && (!res->found || res->len > 0)) {
        int t =
            res->found ? (ttl > 0 ? ttl : config_module_ttl(c->cf, module)) : c->cf->ttl_negative;

        (void)cache_store(c, module, lk.key, lk.tag, res->found, res->json, res->len, t);
    }
    return 0;
}

void cache_get_many(struct cache *c, struct arena *a, int64_t tenant, size_t n,
                    const char *const *modules, const char *const *keys, struct cache_result *res)
{
    const char *argv[2 + 2 * CACHE_MANY_MAX];
    redisReply *r, **e;
    size_t i;

    for (i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof(res[i]));
        res[i].status = CACHE_MISS;
    }
    if (!c->cf->cache_enabled || n == 0 || n > CACHE_MANY_MAX)
        return;
    for (i = 0; i < n; i++)
        if (!strcmp(keys[i], CACHE_GEN_NAME))
            return;
    if (cache_ready(c) || !cache_gate(c))
        return;
    argv[0] = "MGET";
    argv[1] = cache_epoch_key(c, a);
    for (i = 0; i < n; i++) {
        argv[2 + 2 * i] = cache_gen_key(c, a, tenant, modules[i]);
        argv[3 + 2 * i] = cache_key(c, a, tenant, modules[i], keys[i]);
    }
    r = cache_cmd(c, (int)(2 + 2 * n), argv, NULL);
    if (!r)
        return;
    if (c->need_replay || r->type != REDIS_REPLY_ARRAY || r->elements != 1 + 2 * n) {
        freeReplyObject(r);
        return;
    }
    e = r->element;
    if (e[0]->type == REDIS_REPLY_STRING && cache_token_ok(e[0]->str, e[0]->len)) {
        char epoch[CACHE_TOKEN_MAX + 1], gen[CACHE_TOKEN_MAX + 1], tag[CACHE_TAG_MAX];

        memcpy(epoch, e[0]->str, e[0]->len);
        epoch[e[0]->len] = '\0';
        for (i = 0; i < n; i++) {
            const redisReply *g = e[1 + 2 * i], *v = e[2 + 2 * i];
            const char *data;
            size_t dlen;
            bool found;

            if (g->type != REDIS_REPLY_STRING || !cache_token_ok(g->str, g->len) ||
                v->type != REDIS_REPLY_STRING)
                continue;
            memcpy(gen, g->str, g->len);
            gen[g->len] = '\0';
            cache_tag(c, epoch, gen, tag);
            if (cache_value_parse(v->str, v->len, tag, &found, &data, &dlen)) {
                res[i].status = CACHE_HIT;
                res[i].found = found;
                if (found) {
                    res[i].json = arena_strndup(a, data, dlen);
                    res[i].len = dlen;
                }
            }
        }
    }
    freeReplyObject(r);
}

int cache_memoize_pre(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                      const char *key, int ttl, cache_loader_fn load, void *ctx,
                      const struct cache_result *pre, struct cache_result *res, struct app_err *err)
{
    if (pre && pre->status == CACHE_HIT && c->cf->cache_enabled) {
        *res = *pre;
        cache_count(&cache_counters(module)->hits);
        log_debug("[CACHE] HIT: tenant %" PRId64 " %s:%s (prefetched)", tenant, module, key);
        return 0;
    }
    return cache_memoize(c, a, tenant, module, key, ttl, load, ctx, res, err);
}

void cache_get(struct cache *c, struct arena *a, int64_t tenant, const char *module,
               const char *key, struct cache_result *res)
{
    struct shared_cache_counters *k = cache_counters(module);
    struct cache_lookup lk;

    if (!c->cf->cache_enabled) {
        memset(res, 0, sizeof(*res));
        res->status = CACHE_BYPASS;
        cache_count(&k->bypass);
        return;
    }
    cache_lookup(c, a, tenant, module, key, false, &lk, res);
    if (res->status == CACHE_HIT) {
        cache_count(&k->hits);
        log_debug("[CACHE] HIT: %s", lk.key);
    } else {
        cache_count(&k->misses);
        log_debug("[CACHE] MISS: %s", lk.key);
    }
}

int cache_set(struct cache *c, struct arena *a, int64_t tenant, const char *module, const char *key,
              const char *json, size_t len, int ttl)
{
    const char *argv[3];
    char tag[CACHE_TAG_MAX];
    char *k;
    redisReply *r;
    int rc;

    if (!c->cf->cache_enabled || !strcmp(key, CACHE_GEN_NAME) || len == 0)
        return -1;
    if (cache_ready(c) || !cache_gate(c))
        return -1;
    k = cache_key(c, a, tenant, module, key);
    argv[0] = "MGET";
    argv[1] = cache_epoch_key(c, a);
    argv[2] = cache_gen_key(c, a, tenant, module);
    r = cache_cmd(c, 3, argv, NULL);
    if (!r) {
        cache_count(&cache_counters(module)->errors);
        return -1;
    }
    if (c->need_replay || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        freeReplyObject(r);
        return -1;
    }
    rc = cache_tag_resolve(c, a, tenant, module, r->element[0], r->element[1], tag);
    freeReplyObject(r);
    if (rc)
        return -1;
    return cache_store(c, module, k, tag, true, json, len,
                       ttl > 0 ? ttl : config_module_ttl(c->cf, module));
}

int cache_delete(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                 const char *key)
{
    const char *argv[2];
    redisReply *r;
    int rc;

    if (!c->cf->cache_enabled)
        return 0;
    argv[0] = "DEL";
    argv[1] = cache_key(c, a, tenant, module, key);
    r = cache_cmd(c, 2, argv, NULL);
    if (!r) {
        cache_count(&cache_counters(module)->errors);
        return -1;
    }
    rc = r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (rc)
        cache_warn(c, "[CACHE] cannot delete '%s': %.100s", argv[1], cache_reply_text(r));
    freeReplyObject(r);
    return rc;
}

long cache_counter_get(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                       const char *key)
{
    const char *argv[2];
    redisReply *r;
    long n = -1;

    if (!c->cf->cache_enabled)
        return -1;
    argv[0] = "GET";
    argv[1] = cache_key(c, a, tenant, module, key);
    r = cache_cmd(c, 2, argv, NULL);
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_NIL)
        n = 0;
    else if (r->type == REDIS_REPLY_STRING)
        n = strtol(r->str, NULL, 10);
    freeReplyObject(r);
    return n;
}

long cache_counter_incr(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                        const char *key, int window_s)
{
    const char *argv[4];
    char ttl[16];
    redisReply *r;
    long n = -1;

    if (!c->cf->cache_enabled)
        return -1;
    argv[0] = "INCR";
    argv[1] = cache_key(c, a, tenant, module, key);
    r = cache_cmd(c, 2, argv, NULL);
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER)
        n = (long)r->integer;
    freeReplyObject(r);
    if (n < 0)
        return -1;
    /* NX: only the first hit of a window sets its end, later hits do not extend it. */
    snprintf(ttl, sizeof(ttl), "%d", window_s > 0 ? window_s : 1);
    argv[0] = "EXPIRE";
    argv[2] = ttl;
    argv[3] = "NX";
    r = cache_cmd(c, 4, argv, NULL);
    if (r)
        freeReplyObject(r);
    return n;
}

/* Appends s with the glob metacharacters of Redis' MATCH escaped. */
static void cache_glob_escape(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '*' || *s == '?' || *s == '[' || *s == ']' || *s == '\\')
            buf_addch(b, '\\');
        buf_addch(b, *s);
    }
}

long cache_delete_pattern(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                          const char *pattern)
{
    char *base, *gk;
    size_t blen;
    struct buf match;
    const char *argv[6];
    const char **keys = NULL;
    size_t cap = 0;
    redisReply *r;
    long total = 0;
    int errors = 0;

    if (!c->cf->cache_enabled)
        return 0;
    if (strlen(pattern) > CACHE_PATTERN_MAX)
        return -1;
    /* The tenant and module part is literal (escaped); only the caller's part is a glob, and
     * every key is checked against the literal prefix again before it is unlinked. */
    base = cache_key(c, a, tenant, module, "");
    blen = strlen(base);
    gk = cache_gen_key(c, a, tenant, module);
    buf_init(&match);
    cache_glob_escape(&match, base);
    buf_adds(&match, pattern);
    if (match.failed) {
        buf_release(&match);
        return -1;
    }
    argv[0] = "SCAN";
    argv[1] = "0";
    argv[2] = "MATCH";
    argv[3] = match.data;
    argv[4] = "COUNT";
    argv[5] = "1000";
    r = cache_cmd(c, 6, argv, NULL);
    for (;;) {
        redisReply *cur, *list;
        size_t i, n = 0;
        bool more;
        int queued = 0;

        if (!r)
            goto fail;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
            cache_warn(c, "[CACHE] unexpected SCAN reply: %.100s", cache_reply_text(r));
            freeReplyObject(r);
            goto fail;
        }
        cur = r->element[0];
        list = r->element[1];
        if (list->elements + 1 > cap) {
            const char **nk = realloc(keys, (list->elements + 1) * sizeof(*keys));

            if (!nk) {
                freeReplyObject(r);
                goto fail;
            }
            keys = nk;
            cap = list->elements + 1;
        }
        keys[n++] = "UNLINK";
        for (i = 0; i < list->elements; i++) {
            redisReply *k = list->element[i];

            if (k->type == REDIS_REPLY_STRING && k->len > blen && !memcmp(k->str, base, blen) &&
                strcmp(k->str, gk))
                keys[n++] = k->str;
        }
        more = strcmp(cur->str, "0") != 0;
        /* UNLINK this batch and ask for the next one in the same round trip. */
        if (n > 1) {
            if (redisAppendCommandArgv(c->rc, (int)n, keys, NULL) != REDIS_OK)
                goto fail_reply;
            queued++;
        }
        if (more) {
            argv[1] = cur->str;
            if (redisAppendCommandArgv(c->rc, 6, argv, NULL) != REDIS_OK)
                goto fail_reply;
        }
        /* The commands are formatted into hiredis' buffer: the reply can go. */
        freeReplyObject(r);
        r = NULL;
        if (queued && cache_pipeline_read(c, queued, &total, &errors))
            goto fail;
        if (!more)
            break;
        {
            void *p = NULL;
            int e;
            char why[128];

            errno = 0;
            if (redisGetReply(c->rc, &p) != REDIS_OK || !p) {
                e = errno;
                cache_ctx_fail(c->rc, e, why, sizeof(why));
                cache_backoff(c, why);
                goto fail;
            }
            r = p;
        }
    }
    free(keys);
    buf_release(&match);
    if (errors)
        cache_warn(c, "[CACHE] %d UNLINK batches failed for tenant=%" PRId64 " module=%s", errors,
                   tenant, module);
    log_info("[CACHE] DELETE_PATTERN: tenant=%" PRId64 " module=%s (%ld keys)", tenant, module,
             total);
    return total;

fail_reply:
    freeReplyObject(r);
    cache_backoff(c, "cannot queue a command");
fail:
    free(keys);
    buf_release(&match);
    cache_count(&cache_counters(module)->errors);
    return -1;
}

/* Records a failed invalidation durably and closes the gate (see the top of the file). */
static void cache_defer(struct cache *c, int64_t tenant, const char *module)
{
    struct shared *sh = shared_get();
    bool recorded = false;

    if (c->db && !c->db->in_tx) {
        struct arena *a = arena_new();
        struct app_err err;
        char ts[24];
        const char *params[2];

        snprintf(ts, sizeof(ts), "%" PRId64, tenant);
        params[0] = ts;
        params[1] = module;
        recorded =
            db_exec(c->db, a, "INSERT INTO cache_backlog (tenant_id, module) VALUES ($1, $2)", 2,
                    params, &err) != NULL;
        if (!recorded)
            log_warn("[CACHE] cannot record the deferred invalidation tenant=%" PRId64
                     " module=%s: %s; the whole cache will be invalidated",
                     tenant, module, err.msg);
        arena_free(a);
    } else if (c->db) {
        log_warn("[CACHE] invalidation inside a transaction for tenant=%" PRId64
                 " module=%s; the whole cache will be invalidated",
                 tenant, module);
    }
    /* The record must be visible before the gate closes: the replay reads fail_seq first. */
    if (!recorded)
        atomic_fetch_add(&sh->cache_flush_all, 1);
    atomic_fetch_add(&sh->cache_fail_seq, 1);
    cache_count(&cache_counters(module)->errors);
    /* Not rate limited: one line per write, like a successful INVALIDATE. */
    log_info("[CACHE] INVALIDATE deferred: tenant=%" PRId64 " module=%s (%s; %s)", tenant, module,
             c->last_error[0] ? c->last_error : "redis refused",
             recorded ? "recorded in cache_backlog" : "whole cache flagged for invalidation");
}

void cache_distrust_all(void)
{
    struct shared *sh = shared_get();

    /* As for an invalidation that could not be recorded: flush_all first, then close the gate. */
    atomic_fetch_add(&sh->cache_flush_all, 1);
    atomic_fetch_add(&sh->cache_fail_seq, 1);
}

int cache_invalidate_module(struct cache *c, struct arena *a, int64_t tenant, const char *module)
{
    const char *argv[2];
    redisReply *r;

    /* Disabled: nothing is cached by us and nothing is sent (see the top of the file). */
    if (!c->cf->cache_enabled)
        return 0;
    cache_count(&cache_counters(module)->invalidations);
    argv[0] = "DEL";
    argv[1] = cache_gen_key(c, a, tenant, module);
    r = cache_cmd(c, 2, argv, NULL);
    if (r && r->type == REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        log_info("[CACHE] INVALIDATE: tenant=%" PRId64 " module=%s (1 keys)", tenant, module);
        return 0;
    }
    if (r) {
        /* READONLY replica and the like: the DEL did not happen. */
        snprintf(c->last_error, sizeof(c->last_error), "%.100s", cache_reply_text(r));
        freeReplyObject(r);
    }
    cache_defer(c, tenant, module);
    return 1;
}

bool cache_is_available(struct cache *c)
{
    redisReply *r;
    bool ok;

    if (!c->cf->cache_enabled)
        return false;
    r = cache_cmd(c, 1, (const char *[]){"PING"}, NULL);
    if (!r)
        return false;
    ok = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return ok;
}

enum cache_state cache_health(struct cache *c, double *latency_ms, const char **reason)
{
    redisReply *r = NULL;
    double t0;

    *latency_ms = -1;
    if (!c->cf->cache_enabled) {
        *reason = "cache disabled (CACHE_ENABLED=false)";
        return CACHE_STATE_DISABLED;
    }
    if (!c->rc && cache_now_ms() < c->retry_at_ms) {
        snprintf(c->health_reason, sizeof(c->health_reason), "backing off after: %s",
                 c->last_error);
        *reason = c->health_reason;
        return CACHE_STATE_DEGRADED;
    }
    if (cache_ready(c) == 0) {
        t0 = cache_now_fms();
        r = cache_cmd(c, 1, (const char *[]){"PING"}, NULL);
        if (r)
            *latency_ms = cache_now_fms() - t0;
    }
    if (!r || r->type != REDIS_REPLY_STATUS) {
        if (r)
            snprintf(c->last_error, sizeof(c->last_error), "PING: %.100s", cache_reply_text(r));
        freeReplyObject(r);
        snprintf(c->health_reason, sizeof(c->health_reason), "redis unavailable: %s",
                 c->last_error);
        *reason = c->health_reason;
        return CACHE_STATE_DEGRADED;
    }
    freeReplyObject(r);
    if (!cache_gate(c)) {
        *reason = "deferred invalidations are waiting to be applied; reads go to the database";
        return CACHE_STATE_DEGRADED;
    }
    *reason = "ok";
    return CACHE_STATE_OK;
}

const char *cache_status_name(enum cache_status s)
{
    switch (s) {
    case CACHE_HIT:
        return "HIT";
    case CACHE_BYPASS:
        return "BYPASS";
    case CACHE_MISS:
    default:
        return "MISS";
    }
}
