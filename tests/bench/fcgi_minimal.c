/*
 * fcgi_minimal: the reference of `make bench` — the least this architecture can do per
 * request: a libfcgi accept loop answering every request with one hiredis GET of a key
 * (BENCH_KEY), forked into STOCK_WORKERS processes on STOCK_LISTEN (host:port) or fd 0.
 * BENCH_KEPT=1: the loop of fcgi/worker.c for connections nginx keeps (fastcgi_keep_conn): one
 * FCGX_Request per connection (up to KEPT_MAX), all of them and the listening socket watched by
 * one epoll, one request at a time from whichever is ready. The plain loop cannot serve kept
 * connections: it blocks reading an idle one while new connections wait.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEPT_MAX 64

static void answer(redisContext *rc, const char *key, FCGX_Request *req)
{
    redisReply *r = redisCommand(rc, "GET %s", key ? key : "bench");
    const char *body = r && r->type == REDIS_REPLY_STRING ? r->str : "null";
    size_t len = r && r->type == REDIS_REPLY_STRING ? r->len : 4;
    char head[128];
    /* libfcgi's own printf knows no %zu: format the header with the C library. */
    int hn = snprintf(head, sizeof(head),
                      "Status: 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      len);

    FCGX_PutStr(head, hn, req->out);
    FCGX_PutStr(body, (int)len, req->out);
    if (r)
        freeReplyObject(r);
    FCGX_Finish_r(req);
}

/* BENCH_KEPT=1 (see the top). */
static void kept_loop(redisContext *rc, const char *key, int fd)
{
    static FCGX_Request rq[KEPT_MAX];
    static uint32_t gen[KEPT_MAX];
    struct epoll_event evs[KEPT_MAX + 1];
    int ep = epoll_create1(EPOLL_CLOEXEC), i, n, e;

    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd,
                            &(struct epoll_event){.events = EPOLLIN | EPOLLEXCLUSIVE,
                                                  .data.u64 = KEPT_MAX}) < 0)
        _exit(1);
    for (i = 0; i < KEPT_MAX; i++)
        FCGX_InitRequest(&rq[i], fd, 0);
    for (;;) {
        n = epoll_wait(ep, evs, KEPT_MAX + 1, -1);
        /* A signal (the bench's SIGTERM: libfcgi's handler does not end the wait): stop. */
        if (n < 0 && errno == EINTR)
            _exit(0);
        for (e = 0; e < n; e++) {
            uint32_t s = (uint32_t)evs[e].data.u64, g = (uint32_t)(evs[e].data.u64 >> 32);
            struct epoll_event ev = {.events = EPOLLIN};

            if (s == KEPT_MAX) {
                for (s = 0; s < KEPT_MAX && rq[s].ipcFd >= 0; s++)
                    ;
                if (s == KEPT_MAX) {
                    s = 0; /* all open: close one (the bench never gets there) */
                    FCGX_Free(&rq[0], 1);
                }
            } else if (s > KEPT_MAX || gen[s] != g || rq[s].ipcFd < 0) {
                continue;
            }
            if (FCGX_Accept_r(&rq[s]) < 0)
                continue;
            answer(rc, key, &rq[s]);
            if (rq[s].ipcFd < 0)
                continue;
            ev.data.u64 = (uint64_t)++gen[s] << 32 | s;
            if (epoll_ctl(ep, EPOLL_CTL_MOD, rq[s].ipcFd, &ev) < 0 &&
                (errno != ENOENT || epoll_ctl(ep, EPOLL_CTL_ADD, rq[s].ipcFd, &ev) < 0))
                FCGX_Free(&rq[s], 1);
        }
    }
}

int main(void)
{
    const char *listen_spec = getenv("STOCK_LISTEN");
    const char *key = getenv("BENCH_KEY");
    const char *rhost = getenv("BENCH_REDIS_HOST");
    const char *rport = getenv("BENCH_REDIS_PORT");
    const char *w = getenv("STOCK_WORKERS");
    const char *kept = getenv("BENCH_KEPT");
    int workers = w ? atoi(w) : 2, fd = 0, i;

    if (FCGX_Init())
        return 1;
    if (listen_spec) {
        fd = FCGX_OpenSocket(listen_spec, 1024);
        if (fd < 0) {
            fprintf(stderr, "fcgi-minimal: cannot listen on %s\n", listen_spec);
            return 1;
        }
    }
    for (i = 0; i < (workers > 0 ? workers : 1); i++) {
        if (fork() == 0) {
            redisContext *rc =
                redisConnect(rhost ? rhost : "127.0.0.1", rport ? atoi(rport) : 6379);
            FCGX_Request req;

            if (!rc || rc->err)
                _exit(1);
            if (kept && !strcmp(kept, "1"))
                kept_loop(rc, key, fd);
            FCGX_InitRequest(&req, fd, 0);
            while (FCGX_Accept_r(&req) >= 0)
                answer(rc, key, &req);
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
