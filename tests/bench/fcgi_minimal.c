/*
 * fcgi_minimal: the reference of `make bench` — the least this architecture can do per
 * request: a libfcgi accept loop answering every request with one hiredis GET of a key
 * (BENCH_KEY), forked into STOCK_WORKERS processes on STOCK_LISTEN (host:port) or fd 0.
 */
#include <fcgiapp.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    const char *listen_spec = getenv("STOCK_LISTEN");
    const char *key = getenv("BENCH_KEY");
    const char *rhost = getenv("BENCH_REDIS_HOST");
    const char *rport = getenv("BENCH_REDIS_PORT");
    const char *w = getenv("STOCK_WORKERS");
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
            FCGX_InitRequest(&req, fd, 0);
            while (FCGX_Accept_r(&req) >= 0) {
                redisReply *r = redisCommand(rc, "GET %s", key ? key : "bench");
                const char *body = r && r->type == REDIS_REPLY_STRING ? r->str : "null";
                size_t len = r && r->type == REDIS_REPLY_STRING ? r->len : 4;

                char head[128];
                /* libfcgi's own printf knows no %zu: format the header with the C library. */
                int hn = snprintf(head, sizeof(head),
                                  "Status: 200 OK\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %zu\r\n\r\n",
                                  len);

                FCGX_PutStr(head, hn, req.out);
                FCGX_PutStr(body, (int)len, req.out);
                if (r)
                    freeReplyObject(r);
                FCGX_Finish_r(&req);
            }
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
