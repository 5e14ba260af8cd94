/*
 * listen: the pool's listening socket. STOCK_LISTEN parsed and opened (TCP over IPv4 or IPv6,
 * or a unix socket), or the listening socket inherited on fd 0 (spawn-fcgi); stopped at shutdown.
 */
#ifndef STOCK_FCGI_LISTEN_H
#define STOCK_FCGI_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

/* The size of sockaddr_un.sun_path on Linux (listen.c asserts it): a path is shorter. */
#define LISTEN_PATH_MAX 108

/* An address STOCK_LISTEN names, as listen_parse reads it. */
struct listen_addr {
    int family;    /* AF_INET, AF_INET6 or AF_UNIX */
    char host[64]; /* TCP: the numeric address ("localhost" is 127.0.0.1), without brackets */
    int port;      /* TCP: 1..65535 */
    char path[LISTEN_PATH_MAX]; /* AF_UNIX: the socket's path */
};

/* The pool's listening socket. */
struct listener {
    int fd;
    bool inherited;                  /* fd 0, bound by whoever started the pool (spawn-fcgi) */
    char name[256];                  /* "fd:0" or the STOCK_LISTEN value, for the log */
    char unix_path[LISTEN_PATH_MAX]; /* the unix socket ours to unlink, or empty */
};

/*
 * Reads spec, a STOCK_LISTEN value that config_load has accepted, into la. The accepted forms:
 * an absolute unix socket path ("/run/stock.sock", shorter than sun_path); "a.b.c.d:port" with a
 * dotted-quad IPv4 address or "localhost"; "[v6]:port" with a numeric IPv6 address (no zone).
 * Port: a whole number 1..65535. Returns 0, or -1 with the reason in errbuf (one line, without
 * the value) for any other form, among them host names, "127.1", "::1:9000" and "[]:9000".
 */
int listen_parse(const char *spec, struct listen_addr *la, char *errbuf, size_t n)
    __attribute__((warn_unused_result));

/*
 * Fills l with the socket the pool serves: the listening socket on fd 0 when there is one
 * (STOCK_LISTEN is then ignored), else a new socket bound to spec (listen_parse) with a backlog
 * of 1024; a stale unix socket at the path is replaced (never another kind of file) and the new
 * one is mode 0660. The socket is made non-blocking either way: workers wait in epoll_pwait()
 * and must never block in accept(). Returns 0, or -1 with one line in errbuf such as
 * "cannot listen on 127.0.0.1:9000: Address already in use".
 */
int listen_open(struct listener *l, const char *spec, char *errbuf, size_t n)
    __attribute__((warn_unused_result));

/*
 * Stops new connections to l and closes this process's copy of it: a TCP socket gets a socket
 * filter that drops every new SYN (connections already queued stay), a unix socket opened by
 * listen_open loses its path. Connections already queued are left for the workers' copies.
 */
void listen_stop(struct listener *l);

#endif
