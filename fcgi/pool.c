/*
 * pool: the master process. It forks STOCK_WORKERS workers and then only handles signals,
 * synchronously (sigtimedwait): SIGCHLD respawns a worker that died, SIGHUP replaces the workers
 * one at a time (the new one starts before the old one drains, so the listening socket always
 * has an acceptor), SIGTERM/SIGINT stop new connections (listen_stop), close the master's copy
 * of the listening socket, drain every worker and exit 0.
 */
#include "pool.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cache.h"
#include "core/l1.h"
#include "core/log.h"
#include "core/shared.h"
#include "worker.h"

#define DRAIN_TIMEOUT_MS 30000

struct slot {
    pid_t pid;
    pid_t retiring; /* the old worker of this slot during a rolling restart */
};

static struct slot *slots;
static const struct config *pool_cf;
static int listen_fd = -1;
static int64_t respawn_times[8];
/* The L1 agent (core/l1_agent.c), when the workers have an L1; 0 when none runs. */
static pid_t agent_pid;
static int64_t agent_started_ms;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t spawn(void)
{
    pid_t pid = fork();

    if (pid == 0) {
        struct sigaction sa;
        int rc;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        sigaction(SIGCHLD, &sa, NULL);
        rc = worker_main(pool_cf, listen_fd);
        _exit(rc);
    }
    if (pid < 0)
        log_error("cannot fork a worker: %s", strerror(errno));
    return pid;
}

static bool agent_wanted(void)
{
    return pool_cf->cache_enabled && pool_cf->l1_bytes > 0;
}

static void spawn_agent(void)
{
    pid_t pid;

    if (!agent_wanted())
        return;
    /* An agent that keeps dying (Redis refusing CLIENT TRACKING...) is started once a second. */
    if (agent_started_ms && now_ms() - agent_started_ms < 1000)
        return;
    agent_started_ms = now_ms();
    pid = fork();
    if (pid == 0) {
        struct sigaction sa;
        sigset_t none;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        sigaction(SIGCHLD, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (listen_fd >= 0)
            close(listen_fd);
        _exit(l1_agent_main(pool_cf));
    }
    if (pid < 0) {
        log_error("cannot fork the L1 agent: %s", strerror(errno));
        return;
    }
    agent_pid = pid;
}

static void describe_status(int status, char *out, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
}

/* Reaps dead children; respawns unexpected deaths unless draining. Returns live workers. */
static int reap(bool draining)
{
    int status, i, live = 0;
    pid_t pid;
    char why[64];

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == agent_pid) {
            agent_pid = 0;
            if (!draining) {
                describe_status(status, why, sizeof(why));
                log_warn("the L1 agent pid %ld %s; every L1 stops serving until a new one is up",
                         (long)pid, why);
                atomic_fetch_add(&shared_get()->l1.agent_restarts, 1);
                spawn_agent();
            }
            continue;
        }
        /*
         * A worker that did not exit cleanly may have died between a COMMIT and the cache
         * invalidation of that write: the invalidation committed with the write (the outbox,
         * core/cache_outbox.c), and the next poll of any host applies it. Nothing to flush.
         */
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            log_warn("worker pid %ld did not exit cleanly: what it committed is invalidated "
                     "from the outbox",
                     (long)pid);
        for (i = 0; i < pool_cf->workers; i++) {
            if (slots[i].retiring == pid) {
                slots[i].retiring = 0;
                break;
            }
            if (slots[i].pid != pid)
                continue;
            slots[i].pid = 0;
            if (draining)
                break;
            describe_status(status, why, sizeof(why));
            /* A worker that keeps dying at start must not turn the master into a fork loop. */
            memmove(respawn_times + 1, respawn_times, sizeof(respawn_times) - sizeof(int64_t));
            respawn_times[0] = now_ms();
            if (respawn_times[7] && respawn_times[0] - respawn_times[7] < 5000) {
                log_error("workers are dying too fast; pausing respawns for 1s");
                sleep(1);
            }
            slots[i].pid = spawn();
            atomic_fetch_add(&shared_get()->worker_restarts, 1);
            log_warn("worker pid %ld %s; respawned as pid %ld", (long)pid, why, (long)slots[i].pid);
            break;
        }
    }
    for (i = 0; i < pool_cf->workers; i++)
        live += (slots[i].pid > 0) + (slots[i].retiring > 0);
    return live;
}

static int wait_signal(const sigset_t *set, int timeout_ms)
{
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    int sig = sigtimedwait(set, NULL, &ts);

    return sig < 0 ? 0 : sig;
}

/* Replaces each worker in turn: start the new one, then drain the old one. */
static void rolling_restart(const sigset_t *set, bool *term)
{
    int i;

    log_info("SIGHUP: restarting %d workers one at a time", pool_cf->workers);
    for (i = 0; i < pool_cf->workers && !*term; i++) {
        int64_t deadline = now_ms() + DRAIN_TIMEOUT_MS;
        pid_t old = slots[i].pid;
        pid_t fresh = spawn();

        /*
         * The old worker goes only once its successor exists: a fork that fails (no memory,
         * a process limit) keeps it serving, so a restart never leaves the slot empty.
         */
        if (fresh < 0) {
            log_error("SIGHUP: worker pid %ld kept: its replacement could not be started",
                      (long)old);
            continue;
        }
        slots[i].retiring = old;
        slots[i].pid = fresh;
        if (old > 0)
            kill(old, SIGTERM);
        while (slots[i].retiring && !*term) {
            int sig = wait_signal(set, 200);

            if (sig == SIGTERM || sig == SIGINT)
                *term = true;
            reap(false);
            if (slots[i].retiring && now_ms() > deadline) {
                log_warn("worker pid %ld did not drain in time; killing it", (long)old);
                kill(old, SIGKILL);
                deadline = now_ms() + DRAIN_TIMEOUT_MS;
            } else if (slots[i].retiring) {
                /* A worker that got SIGTERM just before accept() blocks there: nudge it. */
                kill(old, SIGTERM);
            }
        }
    }
    log_info("SIGHUP: restart done");
}

static int drain(const sigset_t *set)
{
    int64_t deadline = now_ms() + DRAIN_TIMEOUT_MS;
    int i;

    log_info("draining %d workers", pool_cf->workers);
    while (reap(true) > 0) {
        bool late = now_ms() > deadline;

        for (i = 0; i < pool_cf->workers; i++) {
            if (slots[i].pid > 0)
                kill(slots[i].pid, late ? SIGKILL : SIGTERM);
            if (slots[i].retiring > 0)
                kill(slots[i].retiring, late ? SIGKILL : SIGTERM);
        }
        if (late)
            log_warn("drain timeout: killing remaining workers");
        wait_signal(set, 100);
    }
    log_info("all workers stopped; exiting");
    return 0;
}

int pool_run(const struct config *cf, struct listener *l)
{
    sigset_t set;
    bool term = false;
    int i;

    pool_cf = cf;
    listen_fd = l->fd;
    shared_get()->master_pid = getpid();
    slots = calloc((size_t)cf->workers, sizeof(*slots));
    if (!slots)
        return 1;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_info("stock-fcgi starting: listen=%s workers=%d cache=%s", l->name, cf->workers,
             cf->cache_enabled ? "on" : "off");
    for (i = 0; i < cf->workers; i++)
        slots[i].pid = spawn();
    spawn_agent();

    while (!term) {
        int sig = wait_signal(&set, 1000);

        if (sig == SIGTERM || sig == SIGINT) {
            term = true;
        } else if (sig == SIGHUP) {
            rolling_restart(&set, &term);
        } else {
            reap(false);
            for (i = 0; i < cf->workers; i++)
                if (slots[i].pid <= 0)
                    slots[i].pid = spawn();
            if (!agent_pid)
                spawn_agent();
        }
    }
    /*
     * From now on nobody new should connect, and whatever is queued is served: a TCP listening
     * socket gets a socket filter that drops every new SYN (the connections already queued are
     * not affected; a client that tries now gets no answer, then "refused" on its retry, or
     * the next pool if one listens by then), a unix socket loses its path, and the master
     * closes its copy (listen_stop). The workers serve what is queued before they close theirs,
     * so no connection is reset after nginx has sent its request on it.
     */
    listen_stop(l);
    listen_fd = -1;
    drain(&set);
    if (agent_pid > 0) {
        int st;

        kill(agent_pid, SIGTERM);
        waitpid(agent_pid, &st, 0);
        agent_pid = 0;
    }
    free(slots);
    slots = NULL;
    return 0;
}
