/*
 * listen: the pool's listening socket. One open path for every address family, as pgbouncer's
 * add_listen(): TCP addresses (IPv4 and IPv6) come from getaddrinfo(), a unix socket from its
 * path, and listen_bind() opens either with one `goto failed`.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"

#define LISTEN_BACKLOG 1024

_Static_assert(sizeof(((struct sockaddr_un *)NULL)->sun_path) == LISTEN_PATH_MAX,
               "LISTEN_PATH_MAX is the size of sun_path");

/* Formats the reason of a failure into errbuf; returns -1. */
static int listen_fail(char *errbuf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int listen_fail(char *errbuf, size_t n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errbuf, n, fmt, ap);
    va_end(ap);
    return -1;
}

int listen_parse(const char *spec, struct listen_addr *la, char *errbuf, size_t n)
{
    const char *colon = strrchr(spec, ':');
    unsigned char bin[sizeof(struct in6_addr)];
    size_t hlen;
    char *end;
    long port;

    memset(la, 0, sizeof(*la));
    if (spec[0] == '/') {
        if (strlen(spec) >= sizeof(la->path))
            return listen_fail(errbuf, n, "a unix socket path is shorter than %zu bytes",
                               sizeof(la->path));
        la->family = AF_UNIX;
        memcpy(la->path, spec, strlen(spec) + 1);
        return 0;
    }
    if (!colon || colon == spec)
        return listen_fail(errbuf, n, "expected host:port, [v6]:port or a unix socket path");
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (!colon[1] || isspace((unsigned char)colon[1]) || *end || errno || port < 1 || port > 65535)
        return listen_fail(errbuf, n, "the port is not a whole number between 1 and 65535");
    la->port = (int)port;
    hlen = (size_t)(colon - spec);
    /* "[v6]": the address between the brackets, numeric. */
    if (spec[0] == '[' && hlen > 2 && spec[hlen - 1] == ']') {
        if (hlen - 2 >= sizeof(la->host))
            return listen_fail(errbuf, n, "not a numeric IPv6 address");
        memcpy(la->host, spec + 1, hlen - 2);
        la->family = AF_INET6;
        if (inet_pton(AF_INET6, la->host, bin) != 1)
            return listen_fail(errbuf, n, "not a numeric IPv6 address");
        return 0;
    }
    /* Else a dotted quad (inet_pton is strict: no "127.1", no hex) or localhost, nothing else. */
    if (hlen >= sizeof(la->host))
        return listen_fail(errbuf, n, "not an IPv4 address (a.b.c.d or localhost)");
    memcpy(la->host, spec, hlen);
    if (!strcmp(la->host, "localhost"))
        strcpy(la->host, "127.0.0.1");
    la->family = AF_INET;
    if (inet_pton(AF_INET, la->host, bin) != 1)
        return listen_fail(errbuf, n, "not an IPv4 address (a.b.c.d or localhost)");
    return 0;
}

/*
 * Opens a stream socket of sa's family, binds it to sa and listens. unix_path names the socket
 * file to make mode 0660 (NULL for TCP). Returns the socket, or -1 with errno set.
 */
static int listen_bind(const struct sockaddr *sa, socklen_t salen, const char *unix_path)
{
    int fd, one = 1, saved;

    fd = socket(sa->sa_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (!unix_path)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, sa, salen) < 0)
        goto failed;
    if (unix_path && chmod(unix_path, 0660) < 0)
        goto failed;
    if (listen(fd, LISTEN_BACKLOG) < 0)
        goto failed;
    return fd;
failed:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* A TCP socket for la (AF_INET or AF_INET6); -1 with the reason in why. */
static int listen_tcp(const struct listen_addr *la, char *why, size_t n)
{
    struct addrinfo hints, *res = NULL, *ai;
    char port[8];
    int fd = -1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = la->family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", la->port);
    rc = getaddrinfo(la->host, port, &hints, &res);
    if (rc)
        return listen_fail(why, n, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    for (ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = listen_bind(ai->ai_addr, ai->ai_addrlen, NULL);
    if (fd < 0)
        listen_fail(why, n, "%s", strerror(errno));
    freeaddrinfo(res);
    return fd;
}

/* A unix socket at la->path; -1 with the reason in why. */
static int listen_unix(const struct listen_addr *la, char *why, size_t n)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, la->path, sizeof(sa.sun_path));
    /* Replace a stale socket from an earlier run, never any other kind of file. */
    if (lstat(la->path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(la->path);
    fd = listen_bind((const struct sockaddr *)&sa, sizeof(sa), la->path);
    if (fd < 0)
        listen_fail(why, n, "%s", strerror(errno));
    return fd;
}

static bool listen_is_socket(int fd)
{
    int v = 0;
    socklen_t len = sizeof(v);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

int listen_open(struct listener *l, const char *spec, char *errbuf, size_t n)
{
    struct listen_addr la;
    char why[160];

    memset(l, 0, sizeof(*l));
    l->fd = -1;
    if (listen_is_socket(0)) {
        l->fd = 0;
        l->inherited = true;
        snprintf(l->name, sizeof(l->name), "fd:0");
        log_info("serving the inherited listening socket on fd 0 (spawn-fcgi)");
    } else {
        snprintf(l->name, sizeof(l->name), "%s", spec);
        if (listen_parse(spec, &la, why, sizeof(why)))
            return listen_fail(errbuf, n, "cannot listen on %s: %s", spec, why);
        if (la.family == AF_UNIX)
            l->fd = listen_unix(&la, why, sizeof(why));
        else
            l->fd = listen_tcp(&la, why, sizeof(why));
        if (l->fd < 0)
            return listen_fail(errbuf, n, "cannot listen on %s: %s", spec, why);
        if (la.family == AF_UNIX)
            memcpy(l->unix_path, la.path, sizeof(l->unix_path));
    }
    /* Workers wait in epoll_pwait() and must never block in accept() (worker.c). */
    if (fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK) < 0)
        return listen_fail(errbuf, n, "cannot make the listening socket non-blocking: %s",
                           strerror(errno));
    return 0;
}

/* A classic BPF program of one instruction, "return 0": every packet to the socket is dropped. */
static void listen_drop_new(int fd)
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

void listen_stop(struct listener *l)
{
    listen_drop_new(l->fd);
    if (l->unix_path[0])
        unlink(l->unix_path);
    close(l->fd);
    l->fd = -1;
}
