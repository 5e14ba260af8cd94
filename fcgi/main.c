/*
 * stock-fcgi: the pool master and its libfcgi workers.
 *
 * The master binds STOCK_LISTEN (or serves the listening socket it inherits on fd 0, as under
 * spawn-fcgi), maps the shared counters, forks STOCK_WORKERS workers and then only handles
 * signals, synchronously (sigtimedwait): SIGCHLD respawns a worker that died, SIGHUP replaces
 * the workers one at a time (the new one starts before the old one drains, so the listening
 * socket always has an acceptor), SIGTERM/SIGINT stop new connections (stop_new_connections),
 * close the master's copy of the listening socket, drain every worker and exit 0.
 *
 * A worker accepts one request at a time. SIGTERM is blocked except while the worker waits for
 * a connection (epoll_pwait), so an accepted request always completes; after a SIGTERM the worker
 * also serves the connections already queued on the socket, then exits. Each worker owns one
 * PostgreSQL and one Redis connection (struct app), opened lazily, and one arena that holds all
 * request memory and is reset after each response.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <linux/filter.h>
#include <fcgiapp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "core/arena.h"
#include "core/cache.h"
#include "core/config.h"
#include "core/log.h"
#include "core/shared.h"
#include "routes/api.h"
#include "services/auth.h"

#define DRAIN_TIMEOUT_MS 30000
#define RESP_KEEP_BYTES  (256 * 1024)
#define ACCEPT_STREAK    16
/* How long a stopping worker keeps serving connections already queued on the socket. */
#define QUEUE_DRAIN_MS 2000

static struct config cf;

/* ---- listening socket ---- */

static int is_listening_socket(int fd)
{
    int v = 0;
    socklen_t len = sizeof(v);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    strcpy(sa.sun_path, path);
    /* Replace a stale socket from an earlier run, never any other kind of file. */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0660) || listen(fd, 1024)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int listen_tcp(const char *spec)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    size_t hlen = (size_t)(colon - spec);
    int port = atoi(colon + 1), fd, one = 1;
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;

    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        memset(&s6, 0, sizeof(s6));
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &s6.sin6_addr) != 1)
            return -1;
        fd = socket(AF_INET6, SOCK_STREAM, 0);
        if (fd < 0)
            return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&s6, sizeof(s6)) || listen(fd, 1024)) {
            close(fd);
            return -1;
        }
        return fd;
    }
    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    s4.sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &s4.sin_addr) != 1)
        return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&s4, sizeof(s4)) || listen(fd, 1024)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- worker ---- */

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
 * - "crash-once-<token>": the first worker to see <token> SIGKILLs itself before handling the
 *   request, as a worker dying mid-request would; a second attempt (nginx's retry) is served.
 */
static void fault_inject(struct app *app, struct http_req *req)
{
    const char *f = http_header(req, "X-Stock-Fault");

    if (!f)
        return;
    if (!strcmp(f, "crash-after-commit"))
        app->db.crash_after_commit = true;
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
    rc = http_req_parse(&req, a, fr->envp, fcgx_read, fr->in, &err);
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
    /* A write whose COMMIT was lost may have been applied without its cache invalidation. */
    if (app->db.outcome_unknown) {
        cache_distrust_all();
        log_warn("a write's outcome is unknown (the database connection was lost): the cache "
                 "is renewed (new epoch) before it is read again");
    }
    db_request_end(&app->db);
    arena_reset(a);
    log_set_request(NULL, -1);
    if (resp->body.cap > RESP_KEEP_BYTES)
        buf_release(&resp->body);
}

static int worker_main(int listen_fd)
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
    if (getppid() == 1)
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
    app.cf = &cf;
    db_init(&app.db, cf.database_url);
    cache_init(&app.cache, &cf, &app.db);
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

/* ---- master ---- */

struct slot {
    pid_t pid;
    pid_t retiring; /* the old worker of this slot during a rolling restart */
};

static struct slot *slots;
static int listen_fd = -1;
static int64_t respawn_times[8];

static pid_t spawn(void)
{
    pid_t pid = fork();

    if (pid == 0) {
        struct sigaction sa;
        int rc;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        sigaction(SIGCHLD, &sa, NULL);
        rc = worker_main(listen_fd);
        _exit(rc);
    }
    if (pid < 0)
        log_error("cannot fork a worker: %s", strerror(errno));
    return pid;
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
        /*
         * A worker that did not exit cleanly may have died between a COMMIT and the cache
         * invalidation of that write: distrust the whole cache before anything else (the
         * respawn below may even pause), so that no stale entry is served.
         */
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            cache_distrust_all();
            log_warn("worker pid %ld did not exit cleanly: the cache is renewed (new epoch) "
                     "before it is read again",
                     (long)pid);
        }
        for (i = 0; i < cf.workers; i++) {
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
    for (i = 0; i < cf.workers; i++)
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

    log_info("SIGHUP: restarting %d workers one at a time", cf.workers);
    for (i = 0; i < cf.workers && !*term; i++) {
        int64_t deadline = now_ms() + DRAIN_TIMEOUT_MS;
        pid_t old = slots[i].pid;

        slots[i].retiring = old;
        slots[i].pid = spawn();
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

/* A classic BPF program of one instruction, "return 0": every packet to the socket is dropped. */
static void stop_new_connections(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
    struct sock_fprog prog = {.len = 1, .filter = &drop_all};

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
        log_warn("cannot stop new connections before draining: %s", strerror(errno));
}

static int drain(const sigset_t *set)
{
    int64_t deadline = now_ms() + DRAIN_TIMEOUT_MS;
    int i;

    log_info("draining %d workers", cf.workers);
    while (reap(true) > 0) {
        bool late = now_ms() > deadline;

        for (i = 0; i < cf.workers; i++) {
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

int main(int argc, char **argv)
{
    char errbuf[512];
    const char *env_file = getenv("STOCK_ENV_FILE");
    sigset_t set;
    bool term = false;
    int i;

    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: stock-fcgi [--routes]\nConfiguration comes from the environment, then .env "
               "($STOCK_ENV_FILE), then defaults; see README.md.\n");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--routes"))
        return api_routes_print(stdout) ? 1 : 0;
    if (config_load_env(&cf, env_file ? env_file : ".env", errbuf, sizeof(errbuf))) {
        fprintf(stderr, "stock-fcgi: %s\n", errbuf);
        return 2;
    }
    log_set_level(cf.log_level);
    if (FCGX_Init()) {
        fprintf(stderr, "stock-fcgi: cannot initialise libfcgi\n");
        return 1;
    }
    if (is_listening_socket(0)) {
        listen_fd = 0;
        log_info("serving the inherited listening socket on fd 0 (spawn-fcgi)");
    } else {
        listen_fd = cf.listen[0] == '/' ? listen_unix(cf.listen) : listen_tcp(cf.listen);
        if (listen_fd < 0) {
            fprintf(stderr, "stock-fcgi: cannot listen on %s: %s\n", cf.listen, strerror(errno));
            return 1;
        }
    }
    /* Workers wait in epoll_pwait() and must never block in accept() (see worker_main). */
    if (fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK) < 0) {
        fprintf(stderr, "stock-fcgi: cannot make the listening socket non-blocking: %s\n",
                strerror(errno));
        return 1;
    }
    if (shared_create_for_pool()) {
        fprintf(stderr, "stock-fcgi: cannot map shared memory: %s\n", strerror(errno));
        return 1;
    }
    slots = calloc((size_t)cf.workers, sizeof(*slots));
    if (!slots)
        return 1;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_info("stock-fcgi starting: listen=%s workers=%d cache=%s",
             listen_fd == 0 ? "fd:0" : cf.listen, cf.workers, cf.cache_enabled ? "on" : "off");
    for (i = 0; i < cf.workers; i++)
        slots[i].pid = spawn();

    while (!term) {
        int sig = wait_signal(&set, 1000);

        if (sig == SIGTERM || sig == SIGINT) {
            term = true;
        } else if (sig == SIGHUP) {
            rolling_restart(&set, &term);
        } else {
            reap(false);
            for (i = 0; i < cf.workers; i++)
                if (slots[i].pid <= 0)
                    slots[i].pid = spawn();
        }
    }
    /*
     * From now on nobody new should connect, and whatever is queued is served: a TCP listening
     * socket gets a socket filter that drops every new SYN (the connections already queued are
     * not affected; a client that tries now gets no answer, then "refused" on its retry, or
     * the next pool if one listens by then), a unix socket loses its path, and the master
     * closes its copy. The workers serve what is queued before they close theirs, so no
     * connection is reset after nginx has sent its request on it.
     */
    stop_new_connections(listen_fd);
    if (cf.listen[0] == '/' && listen_fd != 0)
        unlink(cf.listen);
    close(listen_fd);
    drain(&set);
    free(slots);
    return 0;
}
