/*
 * cache: the tenant-scoped Redis cache of SPEC §4, over the connection of core/redis. Any Redis
 * failure is a miss; correctness after writes rests on generation tags; nothing read from Redis
 * is believed unless it carries our MAC (SPEC §11: Redis is shared and not trusted).
 *
 * Design
 * - Key: "{prefix}:tenant:{tenant}:{module}:{key}" (cache_key). The tenant id is always the
 *   caller's argument (the authenticated session), never parsed from a key.
 * - Stored value: {"tag":"<TAG>","exp":<EXP>,"data":<payload>,"mac":"<MAC>"} or, for a cached
 *   "not found", {"tag":"<TAG>","exp":<EXP>,"nf":true,"mac":"<MAC>"}. It is built by
 *   concatenation (TAG is [0-9A-Za-z.] only and the payload is JSON text from the loader) and
 *   parsed by prefix on read: no JSON parse on the hit path, the payload is the raw bytes
 *   between "data": and ,"mac".
 * - Signature: MAC = keyed BLAKE2b-256 (libsodium crypto_generichash) over the length of the
 *   Redis key, the key, and every byte of the value before ,"mac" (so the tag, the expiry and
 *   the payload), with the key derived from CACHE_SECRET (core/config; never in Redis, never
 *   logged). A value with the current tag is served only when its MAC verifies with the key or,
 *   during a rotation, the previous one (CACHE_SECRET_PREVIOUS); otherwise it is a miss, counted
 *   as rejected and logged (at most every 10 s per process). Therefore whoever can write to
 *   Redis cannot forge a value (a session, a price), move one to another key or tenant (the key
 *   is signed), or re-tag an old one to a new generation (the tag is signed).
 * - Bound on replay: Redis can still hand back a value we signed earlier under the same key
 *   (by restoring an old generation token it saw, or a value it kept). EXP (unix seconds, the
 *   writer's clock + the TTL) is signed and a value past it is never served, whatever TTL Redis
 *   keeps: a replayed value is one that was current at most the module's TTL ago (sessions
 *   also check their own expiry and need the token itself, which Redis never sees: the key is
 *   its hash). tests/integration/test_cache.c (signed: ...) measures the bound.
 * - TAG = "<run_id>.<epoch>.<gen>": run_id of the Redis server (INFO server, read once per
 *   connection by core/redis); epoch = value of "{prefix}:epoch"; gen = value of the per-module
 *   generation key "{prefix}:tenant:{t}:{module}:__gen__". Epoch and gen are random hex tokens
 *   (libsodium), created with SET NX GET when missing, without TTL (NX together with GET needs
 *   Redis 7).
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
 * - Every cached read needs the host's trust (core/cache_outbox.c, which holds the protocol
 *   of SPEC §9): each write's invalidations commit with it in the outbox; after its COMMIT the
 *   writer applies them (cache_write_done: DEL of the generation keys) or, when it cannot,
 *   waits until another host did or the trust window passed; a host serves hits only while a
 *   recent poll of the outbox (cache_poll, which applies what it finds) succeeded.
 * - CACHE_ENABLED=false: memoize runs the loader and answers BYPASS, no Redis traffic at all,
 *   and a writer deletes its outbox rows without applying them (the setting must be the same
 *   on every host of a fleet). Entries left in Redis by an earlier run with the
 *   cache enabled are therefore not invalidated by writes made while it is disabled: flush
 *   them (stockctl cache flush) before enabling the cache again.
 */
#include "core/cache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/cache_outbox.h"
#include "core/log.h"
#include "core/shared.h"

#define CACHE_TOKEN_BYTES 16
#define CACHE_TOKEN_MAX   64 /* longest epoch/gen token accepted from Redis */
#define CACHE_TAG_MAX     (48 + 2 * CACHE_TOKEN_MAX + 3)
#define CACHE_GEN_NAME    "__gen__"
#define CACHE_PATTERN_MAX 512

#define CACHE_MAC_BYTES 32

static const char VAL_HEAD[] = "{\"tag\":\"";
static const char VAL_EXP[] = "\",\"exp\":";
static const char VAL_DATA[] = "\"data\":";
static const char VAL_NF[] = "\"nf\":true";
static const char VAL_MAC[] = ",\"mac\":\"";

enum cache_value { VALUE_OK, VALUE_STALE, VALUE_FORGED };

/* The current tag, or why a value may not be stored. */
struct cache_lookup {
    char *key;
    bool can_store;
    char tag[CACHE_TAG_MAX];
    struct l1_snap snap; /* the L1 channel before the read (a fill must still find it) */
};

static struct shared_cache_counters *cache_counters(const char *module)
{
    return &shared_get()->cache[shared_module_of(module)];
}

static void cache_count(atomic_uint_fast64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
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

/* Copies the token of reply r into out when r is a well-formed token; else false. */
static bool cache_token_copy(const redisReply *r, char out[CACHE_TOKEN_MAX + 1])
{
    if (r->type != REDIS_REPLY_STRING || !cache_token_ok(r->str, r->len))
        return false;
    memcpy(out, r->str, r->len);
    out[r->len] = '\0';
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
    r = redis_cmd(&c->redis, 5, argv, NULL);
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_NIL) {
        memcpy(out, tok, sizeof(tok));
        freeReplyObject(r);
        return 0;
    }
    if (cache_token_copy(r, out)) {
        freeReplyObject(r);
        return 0;
    }
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9)) {
        cache_count(&cache_counters(module)->errors);
        redis_warn(&c->redis, "[CACHE] cannot create '%s': %.100s", key, r->str);
        freeReplyObject(r);
        return -1;
    }
    /* Garbage or another type at our key: overwrite it (a new token only invalidates). */
    freeReplyObject(r);
    r = redis_cmd(&c->redis, 3, argv, NULL);
    if (!r)
        return -1;
    if (r->type != REDIS_REPLY_STATUS) {
        cache_count(&cache_counters(module)->errors);
        redis_warn(&c->redis, "[CACHE] cannot reset '%s': %.100s", key, redis_reply_text(r));
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    memcpy(out, tok, sizeof(tok));
    return 0;
}

static void cache_tag(const struct cache *c, const char *epoch, const char *gen, char *out)
{
    snprintf(out, CACHE_TAG_MAX, "%s.%s.%s", c->redis.run_id, epoch, gen);
}

/* The MAC of a value: keyed BLAKE2b over the key's length, the key and the signed part. */
static void cache_mac(const unsigned char mkey[32], const char *key, const char *v, size_t n,
                      unsigned char mac[CACHE_MAC_BYTES])
{
    crypto_generichash_state st;
    unsigned char klen[8];
    uint64_t kl = strlen(key);
    int i;

    for (i = 0; i < 8; i++)
        klen[i] = (unsigned char)(kl >> (8 * i));
    crypto_generichash_init(&st, mkey, 32, CACHE_MAC_BYTES);
    crypto_generichash_update(&st, klen, sizeof(klen));
    crypto_generichash_update(&st, (const unsigned char *)key, kl);
    crypto_generichash_update(&st, (const unsigned char *)v, n);
    crypto_generichash_final(&st, mac, CACHE_MAC_BYTES);
}

/* True when the signed part v[0..n) of key carries mac made with the key or the previous one. */
static bool cache_mac_ok(const struct config *cf, const char *key, const char *v, size_t n,
                         const char *hex)
{
    unsigned char got[CACHE_MAC_BYTES], want[CACHE_MAC_BYTES];
    size_t bin = 0;

    if (sodium_hex2bin(got, sizeof(got), hex, 2 * CACHE_MAC_BYTES, NULL, &bin, NULL) ||
        bin != sizeof(got))
        return false;
    cache_mac(cf->cache_mac_key, key, v, n, want);
    if (!crypto_verify_32(got, want))
        return true;
    if (!cf->cache_mac_prev)
        return false;
    cache_mac(cf->cache_mac_key_prev, key, v, n, want);
    return !crypto_verify_32(got, want);
}

/* A value refused by its MAC: counted, and logged at most every 10 s by each process. */
static void cache_reject(const char *module, const char *key)
{
    static int64_t last_warn;
    int64_t now = cache_outbox_now_ms();

    cache_count(&cache_counters(module)->rejected);
    if (last_warn && now - last_warn < 10000)
        return;
    last_warn = now;
    log_warn("[CACHE] REJECTED: '%s' holds a value whose signature does not verify (written by "
             "something without CACHE_SECRET, or altered in Redis); treated as a miss",
             key);
}

/*
 * Parses the value v[0..n) stored at key against the expected tag. VALUE_OK sets *found and,
 * when found, the payload span. VALUE_STALE: another tag, or past its signed expiry (not
 * current, nothing wrong). VALUE_FORGED: the current tag but a missing, malformed or wrong MAC.
 */
static enum cache_value cache_value_parse(const struct config *cf, const char *key, const char *v,
                                          size_t n, const char *tag, bool *found, const char **data,
                                          size_t *dlen, int64_t *expp)
{
    size_t hl = sizeof(VAL_HEAD) - 1, tl = strlen(tag), el = sizeof(VAL_EXP) - 1;
    size_t ml = sizeof(VAL_MAC) - 1, sn;
    const char *p, *end, *mac;
    int64_t exp = 0;

    if (n <= hl + tl || memcmp(v, VAL_HEAD, hl) || memcmp(v + hl, tag, tl) || v[hl + tl] != '"')
        return VALUE_STALE;
    /* From here the tag is current: anything not signed by us is a forgery (or damage). */
    if (n < hl + tl + el + ml + 2 * CACHE_MAC_BYTES + 2)
        return VALUE_FORGED;
    sn = n - (ml + 2 * CACHE_MAC_BYTES + 2);
    mac = v + sn + ml;
    if (memcmp(v + sn, VAL_MAC, ml) || mac[2 * CACHE_MAC_BYTES] != '"' ||
        mac[2 * CACHE_MAC_BYTES + 1] != '}' || !cache_mac_ok(cf, key, v, sn, mac))
        return VALUE_FORGED;
    /* Signed by us: the rest is our own format. */
    p = v + hl + tl;
    end = v + sn;
    if ((size_t)(end - p) < el || memcmp(p, VAL_EXP, el))
        return VALUE_FORGED;
    for (p += el; p < end && *p >= '0' && *p <= '9' && exp < INT64_MAX / 10; p++)
        exp = exp * 10 + (*p - '0');
    if (p == end || *p != ',')
        return VALUE_FORGED;
    p++;
    /* Redis' TTL is not signed: a value kept past its signed expiry is not served. */
    if (exp <= (int64_t)time(NULL))
        return VALUE_STALE;
    *expp = exp;
    if ((size_t)(end - p) == sizeof(VAL_NF) - 1 && !memcmp(p, VAL_NF, sizeof(VAL_NF) - 1)) {
        *found = false;
        *data = NULL;
        *dlen = 0;
        return VALUE_OK;
    }
    if ((size_t)(end - p) > sizeof(VAL_DATA) - 1 && !memcmp(p, VAL_DATA, sizeof(VAL_DATA) - 1)) {
        *found = true;
        *data = p + sizeof(VAL_DATA) - 1;
        *dlen = (size_t)(end - *data);
        return VALUE_OK;
    }
    return VALUE_FORGED;
}

/*
 * cache_value_parse for a reply of a read, counting a forgery; true on VALUE_OK. A value taken
 * is also offered to the L1 (stored there unless the channel moved since snap).
 */
static bool cache_value_take(struct cache *c, const char *module, int64_t tenant, const char *key,
                             const redisReply *v, const char *tag, struct arena *a,
                             const struct l1_snap *snap, struct cache_result *res)
{
    const char *data;
    size_t dlen;
    bool found;
    int64_t exp = 0;

    switch (cache_value_parse(c->cf, key, v->str, v->len, tag, &found, &data, &dlen, &exp)) {
    case VALUE_OK:
        res->status = CACHE_HIT;
        res->found = found;
        if (found) {
            res->json = arena_strndup(a, data, dlen);
            res->len = dlen;
        }
        l1_put(&c->l1, snap, c->redis.run_id, tenant, module, key, found, data, dlen, exp);
        return true;
    case VALUE_FORGED:
        cache_reject(module, key);
        return false;
    case VALUE_STALE:
    default:
        return false;
    }
}

/*
 * DELs the generation key of every (tenant, module) of b, pipelined. 0 when Redis acknowledged
 * every one (so the rows of b may be deleted), -1 otherwise (c->redis.last_error says why).
 */
static int cache_apply(struct cache *c, struct arena *a, const struct cache_outbox_batch *b)
{
    size_t i;
    int errors = 0;

    if (!b->n)
        return 0;
    if (redis_ready(&c->redis))
        return -1;
    for (i = 0; i < b->n; i++) {
        const char *argv[2] = {"DEL", cache_gen_key(c, a, b->rows[i].tenant, b->rows[i].module)};

        cache_count(&cache_counters(b->rows[i].module)->invalidations);
        if (redis_append(&c->redis, 2, argv, NULL))
            return -1;
    }
    if (redis_pipeline_read(&c->redis, (int)b->n, NULL, &errors))
        return -1;
    if (errors) {
        /* READONLY replica and the like: the DELs did not happen. */
        snprintf(c->redis.last_error, sizeof(c->redis.last_error), "redis refused %d invalidations",
                 errors);
        return -1;
    }
    for (i = 0; i < b->n; i++)
        log_info("[CACHE] INVALIDATE: tenant=%" PRId64 " module=%s (1 keys)", b->rows[i].tenant,
                 b->rows[i].module);
    return 0;
}

/*
 * The poll of core/cache_outbox: applies what the outbox holds (every tenant) and, when all of
 * it was applied, renews the host's trust. Runs in whichever worker claims it.
 */
/*
 * The write a poll's trust needs: SET {prefix}:hosts:<host id> <sent> PX CACHE_TRUST_MS on the
 * Redis whose run_id the poll listed. 0, or -1 (the poll must not trust).
 */
static int cache_poll_mark(struct cache *c, struct arena *a, int64_t sent, const char *run_id)
{
    const char *argv[5] = {
        "SET", arena_sprintf(a, "%s:hosts:%s", c->cf->key_prefix, shared_get()->cache_host),
        arena_sprintf(a, "%" PRId64, sent), "PX", arena_sprintf(a, "%d", CACHE_TRUST_MS)};
    redisReply *r = redis_cmd(&c->redis, 5, argv, NULL);
    int rc = -1;

    if (!r) {
        redis_warn(&c->redis,
                   "[CACHE] cannot renew this host's trust (%s); reads go to the database",
                   c->redis.last_error);
        return -1;
    }
    if (r->type != REDIS_REPLY_STATUS)
        redis_warn(&c->redis,
                   "[CACHE] redis refused the trust renewal: %.100s; reads go to the "
                   "database",
                   redis_reply_text(r));
    else if (strcmp(c->redis.run_id, run_id))
        log_info("[CACHE] redis changed during the outbox poll; trusting from the next one");
    else
        rc = 0;
    freeReplyObject(r);
    return rc;
}

static void cache_poll(struct cache *c, int64_t now)
{
    struct arena *a;
    struct cache_outbox_batch b;
    struct app_err err;
    bool complete = false;
    char run_id[sizeof(c->redis.run_id)] = "";
    int64_t sent;
    int rounds;

    if (!c->db || db_in_transaction(c->db) || !cache_outbox_claim(now))
        return;
    a = arena_new();
    sent = cache_outbox_now_ms();
    /* The Redis the trust will be based on is known before the listing says it (see below). */
    if (c->cf->cache_enabled && redis_ready(&c->redis)) {
        redis_warn(&c->redis, "[CACHE] no redis for the outbox poll (%s); reads go to the database",
                   c->redis.last_error);
        /* Once the trust is gone there is nothing to lower (a listing ends no earlier than the
         * trust it announced, and a longer one only makes writers wait): no database write for
         * every request while Redis is away. */
        if (cache_outbox_trust_left(cache_outbox_now_ms()) > 0)
            goto lower;
        goto out;
    }
    snprintf(run_id, sizeof(run_id), "%s", c->cf->cache_enabled ? c->redis.run_id : "");
    /* Listed as trusting before the read: a writer that misses our read waits for us. */
    if (cache_outbox_register(c->db, a, CACHE_TRUST_MS, sent, run_id, &err)) {
        redis_warn(&c->redis,
                   "[CACHE] cannot register in cache_hosts: %s; reads go to the "
                   "database",
                   err.msg);
        goto out;
    }
    /* A backlog bigger than one batch is worked off a few batches per poll. */
    for (rounds = 0; rounds < 4; rounds++) {
        if (cache_outbox_read(c->db, a, OUTBOX_ALL, 0, &b, &err)) {
            redis_warn(&c->redis,
                       "[CACHE] cannot read the invalidation outbox: %s; reads go to "
                       "the database",
                       err.msg);
            break;
        }
        if (cache_apply(c, a, &b)) {
            redis_warn(&c->redis,
                       "[CACHE] cannot apply %zu owed invalidations (%s); reads go "
                       "to the database",
                       b.n, c->redis.last_error);
            break;
        }
        if (cache_outbox_delete(c->db, a, &b, run_id[0] ? run_id : NULL, NULL, &err))
            log_warn("[CACHE] cannot delete applied outbox rows: %s", err.msg);
        if (b.complete) {
            complete = true;
            break;
        }
    }
    /* Trust needs a master that takes writes now: an old master cut off from its replicas
     * refuses this SET (min-replicas-to-write), so a host left with it stops trusting within
     * CACHE_TRUST_MS. And the trust is that of the Redis the listing names. */
    if (complete && c->cf->cache_enabled && cache_poll_mark(c, a, sent, run_id))
        complete = false;
    /* The L1s serve again only on a heartbeat sent after this poll's DELs (core/l1.c). */
    if (complete)
        atomic_store(&shared_get()->l1.floor_us, l1_now_us());
lower:
    /* Not trusting any longer than before: writers need not wait for us beyond that. */
    if (!complete && cache_outbox_register(c->db, a, cache_outbox_trust_left(cache_outbox_now_ms()),
                                           sent, NULL, &err))
        log_debug("[CACHE] cannot lower this host's trust in cache_hosts: %s", err.msg);
out:
    cache_outbox_polled(complete, sent);
    arena_free(a);
}

/* True when this host may serve cached values now (polling the outbox when it is due). */
static bool cache_trusted(struct cache *c)
{
    int64_t now = cache_outbox_now_ms();
    enum cache_trust t = cache_outbox_trust(now);

    if (t == TRUST_OK)
        return true;
    cache_poll(c, now);
    return cache_outbox_trust(cache_outbox_now_ms()) != TRUST_EXPIRED;
}

/*
 * The L1s' part of a write's wait (L3 of core/l1.c): from since (a moment known to follow the
 * DELs the write needs, in Redis), L1_LIVE_MS, so that every L1 serving after the answer has
 * heard of them.
 */
static void cache_l1_wait(const struct cache *c, int64_t since)
{
    int64_t left;

    if (!c->cf->cache_enabled)
        return;
    while ((left = since + (int64_t)L1_LIVE_MS * 1000 - l1_now_us()) > 0) {
        struct timespec ts = {left / 1000000, (long)(left % 1000000) * 1000};

        nanosleep(&ts, NULL);
    }
}

/*
 * A writer's wait before its answer: every 50 ms until cache_outbox_settled (b, run_id) says no
 * host can serve what b invalidates, or the window from anchor has passed. Returns 1.
 */
static int cache_ack_wait(struct cache *c, struct arena *a, const struct cache_outbox_batch *b,
                          int64_t anchor, const char *run_id)
{
    int64_t deadline = anchor + CACHE_TRUST_MS + CACHE_ACK_MARGIN_MS;

    atomic_fetch_add(&shared_get()->cache_ack_waits, 1);
    while (!cache_outbox_settled(c->db, a, b, run_id) && cache_outbox_now_ms() < deadline) {
        struct timespec ts = {0, 50 * 1000000L};

        nanosleep(&ts, NULL);
    }
    cache_l1_wait(c, l1_now_us());
    return 1;
}

/*
 * The writer's side: applies the rows of scope (a writer's own after its COMMIT, or a tenant's
 * before an Idempotency-Key replay) and deletes them. When that fails it waits until the rows
 * are gone (another host applied them), no host is listed as trusting its cache (cache_hosts),
 * or the trust window has passed, so that no host can serve what they invalidate once the
 * caller answers. 0 applied here, 1 waited out.
 */
static int cache_settle(struct cache *c, struct arena *a, enum cache_outbox_scope scope,
                        int64_t tenant)
{
    struct cache_outbox_batch b;
    struct app_err err;
    /* The window counts from a moment known to follow the COMMIT of every row concerned: the
     * call for a writer's own rows (it comes after its COMMIT), else the end of the read. */
    int64_t anchor = cache_outbox_now_ms();
    int rounds;
    bool kept = false, applied = false;

    if (!c->db)
        return 0;
    for (rounds = 0; rounds < 4; rounds++) {
        if (cache_outbox_read(c->db, a, scope, tenant, &b, &err)) {
            b.n = 0;
            goto wait;
        }
        if (scope != OUTBOX_OWN)
            anchor = cache_outbox_now_ms();
        /* Disabled: nothing is cached by this fleet (every host must agree, see the top). */
        if (c->cf->cache_enabled && cache_apply(c, a, &b))
            goto wait;
        if (cache_outbox_delete(c->db, a, &b, c->cf->cache_enabled ? c->redis.run_id : NULL, &kept,
                                &err))
            log_warn("[CACHE] cannot delete applied outbox rows: %s", err.msg);
        applied = applied || b.n > 0;
        if (kept)
            goto foreign;
        if (b.complete) {
            /* A replay always waits: rows applied by another host before its read count too. */
            if (applied || scope != OUTBOX_OWN)
                cache_l1_wait(c, l1_now_us());
            return 0;
        }
    }
    /* More rows than a few batches: what is left is for the hosts' polls. The rows still owed
     * are not known here, so only "no host trusting" or the window ends the wait. */
    b.n = 0;
    goto wait;

foreign:
    /* Applied here, but a host is listed as trusting a cache on another Redis (a failover in
     * progress): the rows stay for its polls (the bound at the top of cache_outbox.c). */
    log_info("[CACHE] INVALIDATE applied on redis %s; waiting for hosts trusting another redis",
             c->redis.run_id);
    return cache_ack_wait(c, a, &b, anchor, c->redis.run_id);

wait:
    /* This host stops trusting at once (its next poll must apply the rows): the wait is for
     * the other hosts only, and a host alone answers without one. */
    cache_outbox_withdraw(c->db, a);
    log_info("[CACHE] INVALIDATE deferred: tenant=%" PRId64 " (%s); answering once every host "
             "applied it or distrusts the cache",
             scope == OUTBOX_TENANT ? tenant : (b.n ? b.rows[0].tenant : 0),
             c->cf->cache_enabled && c->redis.last_error[0] ? c->redis.last_error
                                                            : "outbox not readable");
    return cache_ack_wait(c, a, &b, anchor, NULL);
}

int cache_write_done(struct cache *c, struct arena *a)
{
    return cache_settle(c, a, OUTBOX_OWN, 0);
}

int cache_settle_tenant(struct cache *c, struct arena *a, int64_t tenant)
{
    return cache_settle(c, a, OUTBOX_TENANT, tenant);
}

/*
 * Tag of the current (epoch, gen) given their MGET replies, creating what is missing.
 * 0, or -1 when it cannot be known (then nothing may be stored).
 */
static int cache_tag_resolve(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                             const redisReply *re, const redisReply *rg, char *tag)
{
    char epoch[CACHE_TOKEN_MAX + 1], gen[CACHE_TOKEN_MAX + 1];

    if (!cache_token_copy(re, epoch) && cache_token_ensure(c, cache_epoch_key(c, a), module, epoch))
        return -1;
    if (!cache_token_copy(rg, gen) &&
        cache_token_ensure(c, cache_gen_key(c, a, tenant, module), module, gen))
        return -1;
    cache_tag(c, epoch, gen, tag);
    return 0;
}

/* A hit of this worker's L1 for key into res (copied into the arena). */
static bool cache_l1_take(struct cache *c, struct arena *a, const char *key,
                          struct cache_result *res)
{
    const char *data;
    size_t len;
    bool found;

    if (!l1_get(&c->l1, key, (int64_t)time(NULL), &data, &len, &found))
        return false;
    res->status = CACHE_HIT;
    res->l1 = true;
    res->found = found;
    if (found) {
        res->json = arena_strndup(a, data, len);
        res->len = len;
    }
    return true;
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
    char epoch[CACHE_TOKEN_MAX + 1], gen[CACHE_TOKEN_MAX + 1];

    memset(res, 0, sizeof(*res));
    res->status = CACHE_MISS;
    lk->key = cache_key(c, a, tenant, module, key);
    lk->can_store = false;
    lk->tag[0] = '\0';
    /* That key would alias the module's generation key: never cached. */
    if (!strcmp(key, CACHE_GEN_NAME))
        return;
    if (!cache_trusted(c))
        return;
    if (l1_sync(&c->l1, &lk->snap) && cache_l1_take(c, a, lk->key, res))
        return;
    if (redis_ready(&c->redis))
        return;
    argv[0] = "MGET";
    argv[1] = cache_epoch_key(c, a);
    argv[2] = cache_gen_key(c, a, tenant, module);
    argv[3] = lk->key;
    r = redis_cmd(&c->redis, 4, argv, NULL);
    if (!r) {
        cache_count(&cache_counters(module)->errors);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        cache_count(&cache_counters(module)->errors);
        redis_warn(&c->redis, "[CACHE] unexpected MGET reply for '%s': %.100s", lk->key,
                   redis_reply_text(r));
        freeReplyObject(r);
        return;
    }
    e = r->element;
    if (cache_token_copy(e[0], epoch) && cache_token_copy(e[1], gen) &&
        e[2]->type == REDIS_REPLY_STRING) {
        cache_tag(c, epoch, gen, lk->tag);
        if (cache_value_take(c, module, tenant, lk->key, e[2], lk->tag, a, &lk->snap, res)) {
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
                       bool found, const char *json, size_t len, int ttl, int64_t *expp)
{
    struct buf v;
    char ttls[16];
    const char *argv[5];
    size_t lens[5];
    redisReply *r;
    int rc = -1;

    unsigned char mac[CACHE_MAC_BYTES];
    char hex[2 * CACHE_MAC_BYTES + 1];

    buf_init(&v);
    buf_add(&v, VAL_HEAD, sizeof(VAL_HEAD) - 1);
    buf_adds(&v, tag);
    buf_add(&v, VAL_EXP, sizeof(VAL_EXP) - 1);
    *expp = (int64_t)time(NULL) + ttl;
    buf_addf(&v, "%" PRId64 ",", *expp);
    if (found) {
        buf_add(&v, VAL_DATA, sizeof(VAL_DATA) - 1);
        buf_add(&v, json, len);
    } else {
        buf_add(&v, VAL_NF, sizeof(VAL_NF) - 1);
    }
    if (!v.failed) {
        cache_mac(c->cf->cache_mac_key, key, v.data, v.len, mac);
        sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
        buf_add(&v, VAL_MAC, sizeof(VAL_MAC) - 1);
        buf_add(&v, hex, 2 * CACHE_MAC_BYTES);
        buf_adds(&v, "\"}");
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
    r = redis_cmd(&c->redis, 5, argv, lens);
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
        redis_warn(&c->redis, "[CACHE] cannot store '%s': %.100s", key, redis_reply_text(r));
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
    redis_init(&c->redis, cf);
    /* Idempotent; randombytes_buf works even if it failed, so this is only reported. */
    if (sodium_init() < 0)
        log_error("[CACHE] cannot initialise libsodium");
    l1_init(&c->l1, cf->cache_enabled ? (size_t)cf->l1_bytes : 0);
}

void cache_release(struct cache *c)
{
    l1_release(&c->l1);
    redis_release(&c->redis);
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
        if (res->l1)
            cache_count(&k->l1_hits);
        log_debug("[CACHE] HIT: %s%s", lk.key, res->l1 ? " (L1)" : "");
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

        int64_t exp;

        if (!cache_store(c, module, lk.key, lk.tag, res->found, res->json, res->len, t, &exp))
            l1_put(&c->l1, &lk.snap, c->redis.run_id, tenant, module, lk.key, res->found, res->json,
                   res->len, exp);
    }
    return 0;
}

void cache_get_many(struct cache *c, struct arena *a, int64_t tenant, size_t n,
                    const char *const *modules, const char *const *keys, struct cache_result *res)
{
    const char *argv[2 + 2 * CACHE_MANY_MAX];
    redisReply *r, **e;
    char epoch[CACHE_TOKEN_MAX + 1], gen[CACHE_TOKEN_MAX + 1];
    struct l1_snap snap;
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
    if (!cache_trusted(c))
        return;
    for (i = 0; i < n; i++)
        argv[3 + 2 * i] = cache_key(c, a, tenant, modules[i], keys[i]);
    if (l1_sync(&c->l1, &snap)) {
        size_t hits = 0;

        for (i = 0; i < n; i++)
            hits += cache_l1_take(c, a, argv[3 + 2 * i], &res[i]);
        if (hits == n)
            return;
    }
    if (redis_ready(&c->redis))
        return;
    argv[0] = "MGET";
    argv[1] = cache_epoch_key(c, a);
    for (i = 0; i < n; i++)
        argv[2 + 2 * i] = cache_gen_key(c, a, tenant, modules[i]);
    r = redis_cmd(&c->redis, (int)(2 + 2 * n), argv, NULL);
    if (!r)
        return;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 + 2 * n) {
        freeReplyObject(r);
        return;
    }
    e = r->element;
    if (cache_token_copy(e[0], epoch)) {
        char tag[CACHE_TAG_MAX];

        for (i = 0; i < n; i++) {
            const redisReply *g = e[1 + 2 * i], *v = e[2 + 2 * i];

            if (res[i].status == CACHE_HIT || !cache_token_copy(g, gen) ||
                v->type != REDIS_REPLY_STRING)
                continue;
            cache_tag(c, epoch, gen, tag);
            (void)cache_value_take(c, modules[i], tenant, argv[3 + 2 * i], v, tag, a, &snap,
                                   &res[i]);
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
        if (res->l1)
            cache_count(&cache_counters(module)->l1_hits);
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
        if (res->l1)
            cache_count(&k->l1_hits);
        log_debug("[CACHE] HIT: %s%s", lk.key, res->l1 ? " (L1)" : "");
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
    int64_t exp;
    int rc;

    if (!c->cf->cache_enabled || !strcmp(key, CACHE_GEN_NAME) || len == 0)
        return -1;
    if (!cache_trusted(c) || redis_ready(&c->redis))
        return -1;
    k = cache_key(c, a, tenant, module, key);
    argv[0] = "MGET";
    argv[1] = cache_epoch_key(c, a);
    argv[2] = cache_gen_key(c, a, tenant, module);
    r = redis_cmd(&c->redis, 3, argv, NULL);
    if (!r) {
        cache_count(&cache_counters(module)->errors);
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        freeReplyObject(r);
        return -1;
    }
    rc = cache_tag_resolve(c, a, tenant, module, r->element[0], r->element[1], tag);
    freeReplyObject(r);
    if (rc)
        return -1;
    return cache_store(c, module, k, tag, true, json, len,
                       ttl > 0 ? ttl : config_module_ttl(c->cf, module), &exp);
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
    r = redis_cmd(&c->redis, 2, argv, NULL);
    if (!r) {
        cache_count(&cache_counters(module)->errors);
        return -1;
    }
    rc = r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (rc)
        redis_warn(&c->redis, "[CACHE] cannot delete '%s': %.100s", argv[1], redis_reply_text(r));
    freeReplyObject(r);
    return rc;
}

/* The keys of one module of one tenant, for a SCAN over its key space. */
struct cache_scan {
    const char *base; /* the literal prefix every key must have */
    size_t blen;
    const char *gen_key; /* never counted or deleted */
    const char **keys;   /* UNLINK argv, grown as batches need */
    size_t cap;
    long count;
};

/* The glob of the keys of (tenant, module) matching pattern, with the literal part escaped. */
static int cache_scan_init(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                           const char *pattern, struct cache_scan *s, struct buf *match)
{
    memset(s, 0, sizeof(*s));
    /* The tenant and module part is literal (escaped); only the caller's part is a glob, and
     * every key is checked against the literal prefix again before it is used. */
    s->base = cache_key(c, a, tenant, module, "");
    s->blen = strlen(s->base);
    s->gen_key = cache_gen_key(c, a, tenant, module);
    buf_init(match);
    redis_glob_escape(match, s->base);
    buf_adds(match, pattern);
    if (match->failed) {
        buf_release(match);
        return -1;
    }
    return 0;
}

static bool cache_scan_owns(const struct cache_scan *s, const redisReply *k)
{
    return k->type == REDIS_REPLY_STRING && k->len > s->blen && !memcmp(k->str, s->base, s->blen) &&
           strcmp(k->str, s->gen_key);
}

/* redis_scan callback of cache_delete_pattern: UNLINK the batch's keys of the module. */
static int cache_scan_unlink(void *ctx, struct redis *r, const redisReply *list)
{
    struct cache_scan *s = ctx;
    size_t i, n = 0;

    if (list->elements + 1 > s->cap) {
        const char **nk = realloc(s->keys, (list->elements + 1) * sizeof(*s->keys));

        if (!nk)
            return -1;
        s->keys = nk;
        s->cap = list->elements + 1;
    }
    s->keys[n++] = "UNLINK";
    for (i = 0; i < list->elements; i++)
        if (cache_scan_owns(s, list->element[i]))
            s->keys[n++] = list->element[i]->str;
    if (n == 1)
        return 0;
    return redis_append(r, (int)n, s->keys, NULL) ? -1 : 1;
}

/* redis_scan callback of cache_module_stats: counts the batch's keys of the module. */
static int cache_scan_count(void *ctx, struct redis *r, const redisReply *list)
{
    struct cache_scan *s = ctx;
    size_t i;

    (void)r;
    /* The keys cache_delete_pattern would delete: stats and flush agree on what is there. */
    for (i = 0; i < list->elements; i++)
        if (cache_scan_owns(s, list->element[i]))
            s->count++;
    return 0;
}

long cache_delete_pattern(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                          const char *pattern)
{
    struct cache_scan s;
    struct buf match;
    long total = 0;
    int errors = 0, rc;

    if (!c->cf->cache_enabled)
        return 0;
    if (strlen(pattern) > CACHE_PATTERN_MAX)
        return -1;
    if (cache_scan_init(c, a, tenant, module, pattern, &s, &match))
        return -1;
    /* Each batch is UNLINKed in the round trip that asks for the next one. */
    rc = redis_scan(&c->redis, match.data, cache_scan_unlink, &s, &total, &errors);
    free(s.keys);
    buf_release(&match);
    if (rc) {
        cache_count(&cache_counters(module)->errors);
        return -1;
    }
    if (errors)
        redis_warn(&c->redis, "[CACHE] %d UNLINK batches failed for tenant=%" PRId64 " module=%s",
                   errors, tenant, module);
    log_info("[CACHE] DELETE_PATTERN: tenant=%" PRId64 " module=%s (%ld keys)", tenant, module,
             total);
    return total;
}

int cache_module_stats(struct cache *c, struct arena *a, int64_t tenant, const char *module,
                       struct cache_module_stats *st)
{
    struct cache_scan s;
    struct buf match;
    const char *argv[2];
    redisReply *r;
    int errors = 0, rc;

    st->keys = 0;
    st->generation = NULL;
    if (cache_scan_init(c, a, tenant, module, "*", &s, &match))
        return -1;
    rc = redis_scan(&c->redis, match.data, cache_scan_count, &s, NULL, &errors);
    buf_release(&match);
    if (rc)
        return -1;
    argv[0] = "GET";
    argv[1] = s.gen_key;
    r = redis_cmd(&c->redis, 2, argv, NULL);
    if (!r)
        return -1;
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL) {
        freeReplyObject(r);
        return -1;
    }
    if (r->type == REDIS_REPLY_STRING)
        st->generation = arena_strndup(a, r->str, r->len);
    freeReplyObject(r);
    st->keys = s.count;
    return 0;
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
    r = redis_cmd(&c->redis, 2, argv, NULL);
    if (r && r->type == REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        log_info("[CACHE] INVALIDATE: tenant=%" PRId64 " module=%s (1 keys)", tenant, module);
        cache_l1_wait(c, l1_now_us());
        return 0;
    }
    if (r) {
        /* READONLY replica and the like: the DEL did not happen. */
        snprintf(c->redis.last_error, sizeof(c->redis.last_error), "%.100s", redis_reply_text(r));
        freeReplyObject(r);
    }
    cache_count(&cache_counters(module)->errors);
    return -1;
}

bool cache_is_available(struct cache *c)
{
    if (!c->cf->cache_enabled)
        return false;
    return redis_ping(&c->redis, NULL) == 0;
}

enum cache_state cache_health(struct cache *c, double *latency_ms, const char **reason)
{
    *latency_ms = -1;
    if (!c->cf->cache_enabled) {
        *reason = "cache disabled (CACHE_ENABLED=false)";
        return CACHE_STATE_DISABLED;
    }
    if (redis_backing_off(&c->redis)) {
        snprintf(c->health_reason, sizeof(c->health_reason), "backing off after: %s",
                 c->redis.last_error);
        *reason = c->health_reason;
        return CACHE_STATE_DEGRADED;
    }
    if (redis_ping(&c->redis, latency_ms)) {
        snprintf(c->health_reason, sizeof(c->health_reason), "redis unavailable: %s",
                 c->redis.last_error);
        *reason = c->health_reason;
        return CACHE_STATE_DEGRADED;
    }
    if (!cache_trusted(c)) {
        *reason = "the invalidation outbox could not be checked and applied within the trust "
                  "window; reads go to the database";
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
