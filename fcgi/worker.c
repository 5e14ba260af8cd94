/*
 * worker: one process of the pool. It serves one request at a time, from a new connection or
 * from one of the connections nginx keeps open to it (fastcgi_keep_conn; struct kept). SIGTERM
 * is blocked except while the worker waits (epoll_pwait), so an accepted request always
 * completes; after a SIGTERM the worker also serves the connections already queued on the
 * socket, then exits. Each worker owns one PostgreSQL and one Redis connection (struct app),
 * opened lazily, and one arena that holds all request memory and is reset after each response.
 */
#include "worker.h"

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdint.h>
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
/*
 * At most this many connections open per worker. nginx keeps up to `keepalive` idle ones per
 * nginx process (16 x 2, nginx/stock.conf.in) and has one more for each request in flight: a
 * worker that has all of its slots open closes its least recently used one for a new connection,
 * and nginx may be sending a GET on it just then (it passes it on to another connection).
 */
#define KEPT_MAX 64
/* The most of a request body left unread that a kept connection reads and drops (see serve). */
#define KEPT_DRAIN_BYTES (64 * 1024)
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
 *   request, as a worker dying mid-request would; a second attempt (nginx's retry) is served;
 * - "export-cut": a CSV export fails after its first chunk, as a lost database would midway
 *   (tests/http/test_csv.sh).
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
    if (!strcmp(f, "export-cut"))
        app->db.fault_export_cut = true;
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

/* A streamed body's writes (http_write_fn): through libfcgi's buffer, flushed as it fills. */
static int fcgx_write(void *wctx, const char *p, size_t n)
{
    while (n > 0) {
        int chunk = n > (1 << 20) ? (1 << 20) : (int)n;

        if (FCGX_PutStr(p, chunk, (FCGX_Stream *)wctx) != chunk)
            return -1;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

/* Answers one request. Returns true when a streamed body failed midway (see serve). */
static bool handle(struct app *app, FCGX_Request *fr, struct arena *a, struct http_resp *resp,
                   struct buf *head)
{
    bool cut = false, body;
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
    body = strcmp(req.method, "HEAD") && resp->status != 204 && resp->status != 304;
    if (resp->stream) {
        /* An export: its rows are read and sent chunk by chunk (routes/api_csv.c). */
        if (body && resp->stream(resp->stream_ctx, fcgx_write, fr->out)) {
            log_warn("a streamed response was cut short: %s %s", req.method, req.path);
            cut = true;
        }
    } else if (body) {
        FCGX_PutStr(resp->body.data, (int)resp->body.len, fr->out);
    }
    us = now_us() - t0;
    /* Slot 0 is "none" (nothing matched); route i of the table is slot i + 1 (shared.h). */
    shared_request_record(route ? (size_t)(route - api_routes) + 1 : 0, resp->status, us);
    log_debug("request %s %s route=%s status=%d us=%lld", req.method, req.path,
              req.route[0] ? req.route : "-", resp->status, (long long)us);
    return cut;
}

static int64_t now_ms(void)
{
    return now_us() / 1000;
}

/*
 * On a connection nginx keeps, the next request follows this one's body: what the route did not
 * read of it (nginx sends it all) is read and dropped here, up to KEPT_DRAIN_BYTES. Returns 0 when
 * more is left: then the connection must close after this response.
 */
static int kept_body_drained(FCGX_Request *fr)
{
    char buf[4096];
    size_t total = 0;
    int n;

    while (!FCGX_HasSeenEOF(fr->in) && total <= KEPT_DRAIN_BYTES) {
        n = FCGX_GetStr(buf, (int)sizeof(buf), fr->in);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    return FCGX_HasSeenEOF(fr->in) && !FCGX_GetError(fr->in);
}

/* Handles the request libfcgi has just accepted, answers it and resets the per-request state. */
static void serve(struct app *app, FCGX_Request *fr, struct arena *a, struct http_resp *resp,
                  struct buf *head)
{
    if (handle(app, fr, a, resp, head)) {
        /*
         * A streamed body failed after its head went out: the connection is closed without
         * the FastCGI end of the request, so that nginx cuts the client's transfer short
         * instead of ending it as if it were whole. Its slot is free again (ipcFd -1).
         */
        FCGX_Free(fr, 1);
    } else {
        /*
         * keepConnection: libfcgi's flag (FCGX_Finish_r keeps the connection open when it is set).
         * Cleared, the connection closes right after the answer, before nginx could send another
         * request on it: so when the body is not all read, and when the worker is stopping.
         */
        if (fr->keepConnection && (worker_stop || !kept_body_drained(fr)))
            fr->keepConnection = 0;
        FCGX_Finish_r(fr);
    }
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

/*
 * The worker's connections. nginx keeps a connection open after a request when the location
 * says fastcgi_keep_conn on; libfcgi then leaves it open after FCGX_Finish_r and reads the next
 * request from it at the next FCGX_Accept_r instead of accepting. A worker serving one such
 * connection at a time would block reading it while nginx keeps it idle and new connections
 * wait: so each connection has its own FCGX_Request, the worker waits for all of them and for
 * the listening socket at once (epoll), and serves one request at a time from whichever is
 * ready. gen tells an event of a closed slot from one of the connection now in it.
 */
struct kept {
    FCGX_Request fr;
    uint64_t used;
    uint32_t gen;
};

/* A slot for a new connection: a free one, or else the least recently used one, closed. */
static int kept_slot(struct kept *kept)
{
    int i, lru = 0;

    for (i = 0; i < KEPT_MAX; i++) {
        if (kept[i].fr.ipcFd < 0)
            return i;
        if (kept[i].used < kept[lru].used)
            lru = i;
    }
    FCGX_Free(&kept[lru].fr, 1);
    return lru;
}

/*
 * The slot an event is for: the listening socket's (data KEPT_MAX) gets a slot for the new
 * connection; -1 for an event of a connection closed since (its slot's gen moved on).
 */
static int kept_event_slot(struct kept *kept, uint64_t data)
{
    uint32_t s = (uint32_t)data, gen = (uint32_t)(data >> 32);

    if (s == KEPT_MAX)
        return kept_slot(kept);
    if (s > KEPT_MAX || kept[s].gen != gen || kept[s].fr.ipcFd < 0)
        return -1;
    return (int)s;
}

/* After a request: watches its connection for the next one when nginx keeps it. */
static void kept_watch(int ep, struct kept *kept, uint32_t s, uint64_t used)
{
    struct epoll_event ev = {.events = EPOLLIN};

    kept[s].used = used;
    if (kept[s].fr.ipcFd < 0)
        return;
    kept[s].gen++;
    ev.data.u64 = (uint64_t)kept[s].gen << 32 | s;
    /* A connection watched already (its previous request) is modified, not added. */
    if (epoll_ctl(ep, EPOLL_CTL_MOD, kept[s].fr.ipcFd, &ev) < 0 &&
        (errno != ENOENT || epoll_ctl(ep, EPOLL_CTL_ADD, kept[s].fr.ipcFd, &ev) < 0)) {
        log_warn("cannot watch a kept connection: %s", strerror(errno));
        FCGX_Free(&kept[s].fr, 1);
    }
}

int worker_main(const struct config *cf, int listen_fd)
{
    struct app app;
    static struct kept kept[KEPT_MAX];
    struct epoll_event ready[KEPT_MAX + 1];
    struct arena *a = arena_new();
    struct http_resp resp;
    struct buf head;
    struct sigaction sa;
    sigset_t term, waitmask;
    int64_t drain_deadline;
    uint64_t used = 0;
    int ep, i, drained = 0;

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
                                                  .data.u64 = KEPT_MAX}) < 0) {
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
    for (i = 0; i < KEPT_MAX; i++)
        FCGX_InitRequest(&kept[i].fr, listen_fd, 0);
    log_info("worker started");
    while (!worker_stop) {
        int n = epoll_pwait(ep, ready, KEPT_MAX + 1, -1, &waitmask);

        if (worker_stop)
            break;
        if (n < 0) {
            if (errno != EINTR)
                log_warn("waiting for connections failed: %s", strerror(errno));
            continue;
        }
        for (i = 0; i < n; i++) {
            int s = kept_event_slot(kept, ready[i].data.u64);

            if (s < 0)
                continue; /* the connection of this event was closed since */
            /*
             * A kept connection with data: libfcgi reads the next request from it (when nginx
             * closed it, libfcgi closes it too and tries accept(): the listening socket is
             * non-blocking, so that fails with EAGAIN when there is no connection). The
             * listening socket: accept(), or EAGAIN when another worker took the connection.
             */
            if (FCGX_Accept_r(&kept[s].fr) < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                    log_warn("accept failed: %s", strerror(errno));
                continue;
            }
            serve(&app, &kept[s].fr, a, &resp, &head);
            kept_watch(ep, kept, (uint32_t)s, ++used);
        }
    }
    /*
     * Stopping. nginx may already have handed connections to the kernel's queue of the listening
     * socket: they would be reset, requests and all, when its last copy closes. And a kept
     * connection this worker closed could be carrying a GET nginx has just sent (nginx would pass
     * it on, but logs it as dropped). So, for at most QUEUE_DRAIN_MS: serve what is queued (the
     * master has closed its copy; the other workers drain too) and the next request of each kept
     * connection, every connection closed after its answer (serve), until none is left: an idle
     * one nginx closes itself (nginx/stock.conf.in: keepalive_timeout 250ms). What is left at the
     * deadline is closed.
     */
    drain_deadline = now_ms() + QUEUE_DRAIN_MS;
    while (now_ms() < drain_deadline) {
        int open = 0, s = kept_slot(kept), n;

        if (FCGX_Accept_r(&kept[s].fr) >= 0) {
            serve(&app, &kept[s].fr, a, &resp, &head);
            kept_watch(ep, kept, (uint32_t)s, ++used);
            drained++;
            continue;
        }
        for (i = 0; i < KEPT_MAX; i++)
            open += kept[i].fr.ipcFd >= 0;
        if (!open)
            break;
        n = epoll_wait(ep, ready, KEPT_MAX + 1, 20);
        for (i = 0; i < n; i++) {
            s = (uint32_t)ready[i].data.u64 == KEPT_MAX ? -1
                                                        : kept_event_slot(kept, ready[i].data.u64);
            if (s < 0 || FCGX_Accept_r(&kept[s].fr) < 0)
                continue;
            serve(&app, &kept[s].fr, a, &resp, &head);
            kept_watch(ep, kept, (uint32_t)s, ++used);
            drained++;
        }
    }
    for (i = 0; i < KEPT_MAX; i++)
        if (kept[i].fr.ipcFd >= 0)
            FCGX_Free(&kept[i].fr, 1);
    close(listen_fd);
    log_info("worker stopping (%d queued requests served while stopping)", drained);
    close(ep);
    for (i = 0; i < KEPT_MAX; i++)
        FCGX_Free(&kept[i].fr, 0);
    cache_release(&app.cache);
    db_release(&app.db);
    http_resp_release(&resp);
    buf_release(&head);
    arena_free(a);
    return 0;
}
