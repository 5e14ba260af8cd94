/*
 * worker: one process of the pool. It accepts one request at a time. SIGTERM is blocked except
 * while the worker waits for a connection (epoll_pwait), so an accepted request always
 * completes; after a SIGTERM the worker also serves the connections already queued on the
 * socket, then exits. Each worker owns one PostgreSQL and one Redis connection (struct app),
 * opened lazily, and one arena that holds all request memory and is reset after each response.
 */
#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/cache.h"
#include "core/log.h"
#include "core/shared.h"
#include "routes/api.h"
#include "services/auth.h"

#define RESP_KEEP_BYTES (256 * 1024)
#define ACCEPT_STREAK   16
/* How long a stopping worker keeps serving connections already queued on the socket. */
#define QUEUE_DRAIN_MS 2000

static volatile sig_atomic_t worker_stop;

static void worker_on_term(int sig)
{
    (void)sig;
    worker_stop = 1;
}

static long fcgx_read(void *ctx, char *buf, size_t n)
{
    int chunk = n > 65536 ? 65536 : (int)n;

    return FCGX_GetStr(buf, chunk, (FCGX_Stream *)ctx);
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#ifdef STOCK_FAULT_INJECTION
/*
 * Test builds only (make VARIANT=asan; tests/http/test_pool.sh), by the header X-Stock-Fault:
 * - "crash-after-commit": the worker SIGKILLs itself right after its next COMMIT (db.c);
 * - "crash-host-after-commit": the same, but the whole pool dies with it (kill(0, SIGKILL)),
 *   as a host losing power would, when the pool is a process group of its own (setsid);
 * - "crash-once-<token>": the first worker to see <token> SIGKILLs itself before handling the
 *   request, as a worker dying mid-request would; a second attempt (nginx's retry) is served.
 */
static void fault_inject(struct app *app, struct http_req *req)
{
    const char *f = http_header(req, "X-Stock-Fault");

    if (!f)
        return;
    if (!strcmp(f, "crash-after-commit"))
        app->db.crash_after_commit = 1;
    if (!strcmp(f, "crash-host-after-commit"))
        app->db.crash_after_commit = 2;
    if (!strncmp(f, "crash-once-", 11)) {
        uint64_t h = 1469598103934665603ULL, old;
        const char *p;

        for (p = f + 11; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        old = atomic_load(&shared_get()->fault_once);
        if (old != h && atomic_compare_exchange_strong(&shared_get()->fault_once, &old, h))
            raise(SIGKILL);
    }
}
#endif

static void handle(struct app *app, FCGX_Request *fr, struct arena *a, struct http_resp *resp,
                   struct buf *head)
{
    struct http_req req;
    struct app_err err;
    const struct route *route = NULL;
    const char *allow = NULL;
    int64_t t0 = now_us(), us;
    int rc;

    err_clear(&err);
    http_resp_reset(resp);
    buf_reset(head);
    /* The body is read by api_route_run, as the matched route allows (its body_max). */
    rc = http_req_parse_head(&req, a, fr->envp, fcgx_read, fr->in, &err);
    log_set_request(req.request_id, -1);
#ifdef STOCK_FAULT_INJECTION
    if (rc == 0)
        fault_inject(app, &req);
#endif
    if (rc == 0)
        rc = api_dispatch(app, &req, resp, &route, &allow, &err);
    if (rc) {
        int status = err_http_status(err.code);

        if (status >= 500)
            log_error("request failed: %s %s -> %d %s (%s)", req.method, req.path, status,
                      err_slug(&err), err.detail[0] ? err.detail : err.msg);
        http_resp_error(resp, &err);
        if (allow)
            http_resp_header(resp, "Allow", allow);
    }
    if (resp->body.failed) {
        err_set(&err, ERR_INTERNAL, "internal error");
        http_resp_reset(resp);
        http_resp_error(resp, &err);
    }
    http_resp_head(resp, head);
    FCGX_PutStr(head->data, (int)head->len, fr->out);
    if (strcmp(req.method, "HEAD") && resp->status != 204 && resp->status != 304)
        FCGX_PutStr(resp->body.data, (int)resp->body.len, fr->out);
    us = now_us() - t0;
    /* Slot 0 is "none" (nothing matched); route i of the table is slot i + 1 (shared.h). */
    shared_request_record(route ? (size_t)(route - api_routes) + 1 : 0, resp->status, us);
    log_debug("request %s %s route=%s status=%d us=%lld", req.method, req.path,
              req.route[0] ? req.route : "-", resp->status, (long long)us);
}

static int64_t now_ms(void)
{
    return now_us() / 1000;
}

/* Handles the request libfcgi has just accepted, answers it and resets the per-request state. */
static void serve(struct app *app, FCGX_Request *fr, struct arena *a, struct http_resp *resp,
                  struct buf *head)
{
    handle(app, fr, a, resp, head);
    FCGX_Finish_r(fr);
    /* A write whose COMMIT was lost may have committed: its invalidations did too (the
     * outbox), and the next poll of any host applies them. */
    if (app->db.outcome_unknown)
        log_warn("a write's outcome is unknown (the database connection was lost): if it "
                 "committed, its invalidations are applied from the outbox");
    db_request_end(&app->db);
    arena_reset(a);
    log_set_request(NULL, -1);
    if (resp->body.cap > RESP_KEEP_BYTES)
        buf_release(&resp->body);
}

int worker_main(const struct config *cf, int listen_fd)
{
    struct app app;
    FCGX_Request fr;
    struct arena *a = arena_new();
    struct http_resp resp;
    struct buf head;
    struct sigaction sa;
    sigset_t term, waitmask;
    int64_t drain_deadline;
    int ep, streak = 0, drained = 0;

    /* Die with the master even if it is killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = worker_on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    /*
     * SIGTERM stays blocked except inside epoll_pwait(), which unblocks it atomically while the
     * worker waits for a connection. So a SIGTERM can only interrupt the wait, never the
     * reading of a request libfcgi has accepted, nor its handling or the response: every
     * accepted request completes, and the worker exits before the next wait.
     */
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigprocmask(SIG_SETMASK, &term, NULL);
    sigemptyset(&waitmask);
    if (shared_get()->master_pid && getppid() != shared_get()->master_pid)
        return 0;
    /*
     * EPOLLEXCLUSIVE: a new connection wakes one waiting worker, not all of them (with plain
     * select/poll every worker would wake for every connection and all but one find nothing).
     */
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd,
                            &(struct epoll_event){.events = EPOLLIN | EPOLLEXCLUSIVE,
                                                  .data.fd = listen_fd}) < 0) {
        log_error("cannot watch the listening socket: %s", strerror(errno));
        return 1;
    }

    memset(&app, 0, sizeof(app));
    app.cf = cf;
    db_init(&app.db, cf->database_url);
    db_set_unnamed(&app.db, cf->db_unnamed);
    cache_init(&app.cache, cf, &app.db);
    auth_prepare();
    http_resp_init(&resp);
    buf_init(&head);
    if (FCGX_InitRequest(&fr, listen_fd, 0)) {
        log_error("cannot initialise the FastCGI request");
        return 1;
    }
    log_info("worker started");
    while (!worker_stop) {
        /*
         * Right after a request, another connection is often already waiting: try to accept it
         * at once, and wait only when there is none. At most ACCEPT_STREAK requests in a row skip
         * the wait, because only the wait lets a pending SIGTERM in.
         */
        if (streak == 0 || streak >= ACCEPT_STREAK) {
            struct epoll_event ready;
            int n = epoll_pwait(ep, &ready, 1, -1, &waitmask);

            streak = 0;
            if (worker_stop)
                break;
            if (n < 0) {
                if (errno != EINTR)
                    log_warn("waiting for connections failed: %s", strerror(errno));
                continue;
            }
        }
        /*
         * The listening socket is non-blocking: when there is no connection (another worker
         * took it), accept() fails with EAGAIN and libfcgi returns an error; wait again.
         */
        if (FCGX_Accept_r(&fr) < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_warn("accept failed: %s", strerror(errno));
            streak = 0;
            continue;
        }
        streak++;
        serve(&app, &fr, a, &resp, &head);
    }
    /*
     * Stopping. nginx may already have handed connections to the kernel's queue of the listening
     * socket: they would be reset, requests and all, when its last copy closes. So serve what is
     * queued first (the master has closed its copy; the other workers drain too), for at most
     * QUEUE_DRAIN_MS in case connections keep coming faster than this worker serves them.
     */
    drain_deadline = now_ms() + QUEUE_DRAIN_MS;
    while (now_ms() < drain_deadline && FCGX_Accept_r(&fr) >= 0) {
        serve(&app, &fr, a, &resp, &head);
        drained++;
    }
    close(listen_fd);
    log_info("worker stopping (%d queued requests served while stopping)", drained);
    close(ep);
    FCGX_Free(&fr, 0);
    cache_release(&app.cache);
    db_release(&app.db);
    http_resp_release(&resp);
    buf_release(&head);
    arena_free(a);
    return 0;
}
