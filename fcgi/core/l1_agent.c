/*
 * l1_agent: the pool's listener of Redis' invalidations for the workers' L1s (the protocol and
 * its invariants are at the top of core/l1.c). One process per pool, started and restarted by
 * the master (pool.c); it is the only writer of the channel state in shared memory.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "core/l1.h"
#include "core/log.h"
#include "core/redis.h"

#define AGENT_BACKOFF_MIN_MS 50
#define AGENT_BACKOFF_MAX_MS 1000

static volatile sig_atomic_t agent_stop;

struct agent {
    const struct config *cf;
    struct shared_l1 *ch;
    struct redis track, sub;
    char prefix[48];    /* "{prefix}:" */
    char hb_key[96];    /* {prefix}:l1hb:<host> */
    char epoch_key[64]; /* {prefix}:epoch */
    char tenant_pre[64];
    uint64_t hb_count;
};

static void agent_on_term(int sig)
{
    (void)sig;
    agent_stop = 1;
}

static void agent_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* The channel is down: workers stop serving and empty their L1 when they see it. */
static void agent_down(struct agent *ag)
{
    uint64_t g = atomic_load(&ag->ch->chan_gen);

    atomic_store(&ag->ch->hb_sent_us, 0);
    if (!(g & 1))
        atomic_store(&ag->ch->chan_gen, g + 1);
}

static void agent_push(struct agent *ag, int kind, int64_t tenant, const char *module, size_t mlen)
{
    l1_channel_push(ag->ch, kind, tenant, module, mlen);
}

/* One key of an invalidation message. True when it is our heartbeat. */
static bool agent_key(struct agent *ag, const char *k, size_t n)
{
    static const char gen[] = ":__gen__";
    size_t pl = strlen(ag->tenant_pre), gl = sizeof(gen) - 1, i;
    int64_t tenant = 0;

    if (n == strlen(ag->hb_key) && !memcmp(k, ag->hb_key, n))
        return true;
    if (n == strlen(ag->epoch_key) && !memcmp(k, ag->epoch_key, n)) {
        agent_push(ag, L1_EV_FLUSH, 0, NULL, 0);
        return false;
    }
    if (n <= pl + gl || memcmp(k, ag->tenant_pre, pl) || memcmp(k + n - gl, gen, gl))
        return false;
    /* {prefix}:tenant:<digits>:<module>:__gen__ */
    for (i = pl; i < n && k[i] >= '0' && k[i] <= '9' && tenant < INT64_MAX / 10; i++)
        tenant = tenant * 10 + (k[i] - '0');
    if (i == pl || i >= n - gl || k[i] != ':' || n - gl - (i + 1) >= SHARED_L1_MODULE ||
        n - gl == i + 1) {
        /* Not one of ours as we would write it: empty everything rather than guess. */
        agent_push(ag, L1_EV_FLUSH, 0, NULL, 0);
        return false;
    }
    agent_push(ag, L1_EV_GEN, tenant, k + i + 1, n - gl - (i + 1));
    return false;
}

/* One message read on sub. -1 when it is not what a subscribed connection may receive. */
static int agent_message(struct agent *ag, const redisReply *r, bool *hb)
{
    const redisReply *p;
    size_t i;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return -1;
    if (strcmp(r->element[0]->str, "message"))
        return 0; /* (un)subscribe confirmations */
    p = r->element[2];
    if (p->type == REDIS_REPLY_NIL) {
        /* FLUSHALL / FLUSHDB: everything is invalid. */
        agent_push(ag, L1_EV_FLUSH, 0, NULL, 0);
        return 0;
    }
    if (p->type != REDIS_REPLY_ARRAY)
        return -1;
    for (i = 0; i < p->elements; i++)
        if (p->element[i]->type == REDIS_REPLY_STRING &&
            agent_key(ag, p->element[i]->str, p->element[i]->len))
            *hb = true;
    return 0;
}

static redisReply *agent_cmd(struct redis *r, int argc, const char **argv)
{
    redisReply *reply = redisCommandArgv(r->rc, argc, argv, NULL);

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        log_warn("[L1] redis refused %s: %.100s", argv[0], reply->str);
        freeReplyObject(reply);
        return NULL;
    }
    if (!reply)
        log_warn("[L1] %s failed: %.100s", argv[0], r->rc->errstr);
    return reply;
}

/* Opens sub (subscribed) and track (tracking, redirected to sub). 0 or -1. */
static int agent_setup(struct agent *ag)
{
    char name[64], id[32];
    const char *argv[10];
    redisReply *r;

    if (redis_ready(&ag->sub) || redis_ready(&ag->track))
        return -1;
    if (strcmp(ag->sub.run_id, ag->track.run_id)) {
        log_info("[L1] the two connections reached two redis servers; again");
        return -1;
    }
    snprintf(name, sizeof(name), "stock-l1-sub-%.8s", shared_get()->cache_host);
    argv[0] = "CLIENT";
    argv[1] = "SETNAME";
    argv[2] = name;
    if (!(r = agent_cmd(&ag->sub, 3, argv)))
        return -1;
    freeReplyObject(r);
    argv[1] = "ID";
    if (!(r = agent_cmd(&ag->sub, 2, argv)))
        return -1;
    if (r->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        return -1;
    }
    snprintf(id, sizeof(id), "%lld", r->integer);
    freeReplyObject(r);
    argv[0] = "SUBSCRIBE";
    argv[1] = "__redis__:invalidate";
    if (!(r = agent_cmd(&ag->sub, 2, argv)))
        return -1;
    freeReplyObject(r);
    snprintf(name, sizeof(name), "stock-l1-track-%.8s", shared_get()->cache_host);
    argv[0] = "CLIENT";
    argv[1] = "SETNAME";
    argv[2] = name;
    if (!(r = agent_cmd(&ag->track, 3, argv)))
        return -1;
    freeReplyObject(r);
    argv[1] = "TRACKING";
    argv[2] = "on";
    argv[3] = "REDIRECT";
    argv[4] = id;
    argv[5] = "BCAST";
    argv[6] = "PREFIX";
    argv[7] = ag->prefix;
    if (!(r = agent_cmd(&ag->track, 8, argv)))
        return -1;
    freeReplyObject(r);
    return 0;
}

/* Publishes the channel as up: a new generation, with the run_id of its Redis. */
static void agent_up(struct agent *ag)
{
    struct shared_l1 *ch = ag->ch;
    uint64_t g = atomic_load(&ch->chan_gen);

    if (!(g & 1))
        atomic_store(&ch->chan_gen, ++g);
    memcpy(ch->run_id, ag->sub.run_id, sizeof(ch->run_id));
    atomic_fetch_add(&ch->resets, 1);
    atomic_store_explicit(&ch->chan_gen, g + 1, memory_order_release);
    log_info("[L1] invalidation channel up (redis %s)", ag->sub.run_id);
}

/* Sends one heartbeat on track. 0 or -1. */
static int agent_heartbeat(struct agent *ag)
{
    char n[24];
    const char *argv[5] = {"SET", ag->hb_key, n, "PX", "60000"};
    redisReply *r;

    snprintf(n, sizeof(n), "%" PRIu64, ++ag->hb_count);
    r = agent_cmd(&ag->track, 5, argv);
    if (!r)
        return -1;
    if (r->type != REDIS_REPLY_STATUS) {
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

/* Serves one channel until it fails or the agent is told to stop. */
static void agent_listen(struct agent *ag)
{
    int64_t sent = 0, next_hb = 0;
    bool outstanding = false;

    while (!agent_stop) {
        int64_t now = l1_now_us(), wait_us;
        struct pollfd pfd = {ag->sub.rc->fd, POLLIN, 0};
        struct timespec ts;
        bool hb = false;
        void *reply;

        if (shared_get()->master_pid && getppid() != shared_get()->master_pid)
            return;
        if (!outstanding && now >= next_hb) {
            sent = l1_now_us();
            if (agent_heartbeat(ag))
                return;
            outstanding = true;
            now = l1_now_us();
        }
        if (outstanding && now - sent > (int64_t)L1_STALL_MS * 1000) {
            log_warn("[L1] no heartbeat back from redis in %d ms: setting the channel up again",
                     L1_STALL_MS);
            return;
        }
        wait_us = outstanding ? sent + (int64_t)L1_STALL_MS * 1000 - now : next_hb - now;
        if (wait_us < 0)
            wait_us = 0;
        ts.tv_sec = wait_us / 1000000;
        ts.tv_nsec = (long)(wait_us % 1000000) * 1000;
        if (ppoll(&pfd, 1, &ts, NULL) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (redisBufferRead(ag->sub.rc) != REDIS_OK) {
            log_warn("[L1] invalidation connection lost: %.100s", ag->sub.rc->errstr);
            return;
        }
        for (;;) {
            reply = NULL;
            if (redisGetReplyFromReader(ag->sub.rc, &reply) != REDIS_OK) {
                log_warn("[L1] unreadable invalidation message");
                return;
            }
            if (!reply)
                break;
            if (agent_message(ag, reply, &hb)) {
                freeReplyObject(reply);
                log_warn("[L1] unexpected message on the invalidation connection");
                return;
            }
            freeReplyObject(reply);
        }
        /* After the message's events: the heartbeat vouches for them (l1.c, L1). */
        if (hb && outstanding) {
            atomic_store_explicit(&ag->ch->hb_sent_us, sent, memory_order_release);
            outstanding = false;
            next_hb = l1_now_us() + (int64_t)L1_HB_MS * 1000;
        }
    }
}

int l1_agent_main(const struct config *cf)
{
    struct agent ag;
    struct sigaction sa;
    int backoff = AGENT_BACKOFF_MIN_MS;

    prctl(PR_SET_NAME, "stock-l1", 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = agent_on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    memset(&ag, 0, sizeof(ag));
    ag.cf = cf;
    ag.ch = &shared_get()->l1;
    snprintf(ag.prefix, sizeof(ag.prefix), "%s:", cf->key_prefix);
    snprintf(ag.hb_key, sizeof(ag.hb_key), "%s:l1hb:%s", cf->key_prefix, shared_get()->cache_host);
    snprintf(ag.epoch_key, sizeof(ag.epoch_key), "%s:epoch", cf->key_prefix);
    snprintf(ag.tenant_pre, sizeof(ag.tenant_pre), "%s:tenant:", cf->key_prefix);
    redis_init(&ag.track, cf);
    redis_init(&ag.sub, cf);
    ag.track.backoff_initial_ms = ag.sub.backoff_initial_ms = AGENT_BACKOFF_MIN_MS;
    ag.track.backoff_max_ms = ag.sub.backoff_max_ms = AGENT_BACKOFF_MAX_MS;
    atomic_store(&ag.ch->agent_pid, getpid());
    agent_down(&ag);
    while (!agent_stop && (!shared_get()->master_pid || getppid() == shared_get()->master_pid)) {
        if (agent_setup(&ag)) {
            redis_release(&ag.sub);
            redis_release(&ag.track);
            agent_sleep_ms(backoff);
            backoff = backoff * 2 > AGENT_BACKOFF_MAX_MS ? AGENT_BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = AGENT_BACKOFF_MIN_MS;
        agent_up(&ag);
        agent_listen(&ag);
        agent_down(&ag);
        log_info("[L1] invalidation channel down: every L1 of this host is emptied");
        redis_release(&ag.sub);
        redis_release(&ag.track);
    }
    agent_down(&ag);
    redis_release(&ag.sub);
    redis_release(&ag.track);
    return 0;
}
