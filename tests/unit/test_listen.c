/* test_listen: the STOCK_LISTEN forms the pool accepts and refuses, and its unix/TCP sockets. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "listen.h"
#include "unit.h"

/* config_load with only STOCK_LISTEN (and one worker) set. */
static const char *listen_lookup(void *ctx, const char *name)
{
    if (!strcmp(name, "STOCK_LISTEN"))
        return ctx;
    return !strcmp(name, "STOCK_WORKERS") ? "1" : NULL;
}

static int config_accepts(const char *spec)
{
    struct config cf;
    char e[256];

    return config_load(&cf, listen_lookup, (void *)spec, e, sizeof(e)) == 0;
}

static void test_listen_accepted_forms(void)
{
    static const struct {
        const char *spec;
        int family;
        const char *host;
        int port;
    } ok[] = {
        {"127.0.0.1:9000", AF_INET, "127.0.0.1", 9000},
        {"0.0.0.0:1", AF_INET, "0.0.0.0", 1},
        {"localhost:65535", AF_INET, "127.0.0.1", 65535},
        {"10.1.2.3:+8080", AF_INET, "10.1.2.3", 8080},
        {"[::1]:9000", AF_INET6, "::1", 9000},
        {"[::]:80", AF_INET6, "::", 80},
        {"[::ffff:127.0.0.1]:9000", AF_INET6, "::ffff:127.0.0.1", 9000},
        {"[2001:db8::1]:09000", AF_INET6, "2001:db8::1", 9000},
    };
    struct listen_addr la;
    char e[160];
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        e[0] = '\0';
        CU_ASSERT_EQUAL(listen_parse(ok[i].spec, &la, e, sizeof(e)), 0);
        CU_ASSERT_EQUAL(la.family, ok[i].family);
        CU_ASSERT_STRING_EQUAL(la.host, ok[i].host);
        CU_ASSERT_EQUAL(la.port, ok[i].port);
        CU_ASSERT_TRUE(config_accepts(ok[i].spec));
    }
    CU_ASSERT_EQUAL(listen_parse("/run/stock/stock-fcgi.sock", &la, e, sizeof(e)), 0);
    CU_ASSERT_EQUAL(la.family, AF_UNIX);
    CU_ASSERT_STRING_EQUAL(la.path, "/run/stock/stock-fcgi.sock");
    CU_ASSERT_TRUE(config_accepts("/run/stock/stock-fcgi.sock"));
}

static void test_listen_refused_forms(void)
{
    /* config_load refuses these already (exit status 2 at start-up)... */
    static const char *syntax[] = {
        "nocolon",         ":9000",         "127.0.0.1:",    "127.0.0.1:0",
        "127.0.0.1:65536", "127.0.0.1:90x", "127.0.0.1: 90", "127.0.0.1:-1",
    };
    /* ...and these pass config_load but no socket can be opened for them (exit status 1). */
    static const char *host[] = {
        "bad.host:9000",     "127.1:9000",      "0x7f.0.0.1:9000", "::1:9000",
        "[::1:9000",         "[]:9000",         "[zzz]:9000",      "[127.0.0.1]:9000",
        "[fe80::1%lo]:9000", "127.0.0.1 :9000", "LOCALHOST:9000",
    };
    char longpath[LISTEN_PATH_MAX + 1];
    struct listen_addr la;
    char e[160];
    size_t i;

    for (i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++) {
        e[0] = '\0';
        CU_ASSERT_EQUAL(listen_parse(syntax[i], &la, e, sizeof(e)), -1);
        CU_ASSERT_NOT_EQUAL(e[0], '\0');
        CU_ASSERT_FALSE(config_accepts(syntax[i]));
    }
    for (i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
        e[0] = '\0';
        CU_ASSERT_EQUAL(listen_parse(host[i], &la, e, sizeof(e)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(e, "not a"));
        CU_ASSERT_TRUE(config_accepts(host[i]));
    }
    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    CU_ASSERT_EQUAL(listen_parse(longpath, &la, e, sizeof(e)), -1);
    CU_ASSERT_FALSE(config_accepts(longpath));
    longpath[sizeof(longpath) - 2] = '\0';
    CU_ASSERT_EQUAL(listen_parse(longpath, &la, e, sizeof(e)), 0);
}

/* A loopback port that nobody listened on a moment ago. */
static int free_port(int family)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = socket(family, SOCK_STREAM, 0), port = -1;

    memset(&ss, 0, sizeof(ss));
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET6)
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
    else
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&ss, sizeof(ss)) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                        : ((struct sockaddr_in *)&ss)->sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void test_listen_tcp_v4_and_v6(void)
{
    static const struct {
        const char *host;
        int family;
    } tcp[] = {{"127.0.0.1", AF_INET}, {"[::1]", AF_INET6}};
    struct listener l, busy;
    struct sockaddr_storage ss;
    socklen_t len;
    char spec[64], e[256];
    size_t i;

    for (i = 0; i < sizeof(tcp) / sizeof(tcp[0]); i++) {
        int port = free_port(tcp[i].family);

        CU_ASSERT_FATAL(port > 0);
        snprintf(spec, sizeof(spec), "%s:%d", tcp[i].host, port);
        CU_ASSERT_EQUAL_FATAL(listen_open(&l, spec, e, sizeof(e)), 0);
        CU_ASSERT_FALSE(l.inherited);
        CU_ASSERT_STRING_EQUAL(l.name, spec);
        CU_ASSERT_STRING_EQUAL(l.unix_path, "");
        CU_ASSERT_TRUE(fcntl(l.fd, F_GETFL) & O_NONBLOCK);
        len = sizeof(ss);
        CU_ASSERT_EQUAL(getsockname(l.fd, (struct sockaddr *)&ss, &len), 0);
        CU_ASSERT_EQUAL(ss.ss_family, tcp[i].family);
        /* A second pool on the same address is refused with the system's reason. */
        CU_ASSERT_EQUAL(listen_open(&busy, spec, e, sizeof(e)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(e, "cannot listen on "));
        CU_ASSERT_PTR_NOT_NULL(strstr(e, spec));
        listen_stop(&l);
        CU_ASSERT_EQUAL(l.fd, -1);
    }
    CU_ASSERT_EQUAL(listen_open(&l, "bad.host:9000", e, sizeof(e)), -1);
    CU_ASSERT_STRING_EQUAL(e, "cannot listen on bad.host:9000: not an IPv4 address (a.b.c.d or "
                              "localhost)");
}

static void test_listen_unix_socket(void)
{
    char dir[] = "/tmp/stock-unit-listen-XXXXXX", path[128], e[256];
    struct listener l;
    struct stat st;
    FILE *f;

    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/fcgi.sock", dir);
    CU_ASSERT_EQUAL_FATAL(listen_open(&l, path, e, sizeof(e)), 0);
    CU_ASSERT_STRING_EQUAL(l.unix_path, path);
    CU_ASSERT_TRUE(fcntl(l.fd, F_GETFL) & O_NONBLOCK);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_TRUE(S_ISSOCK(st.st_mode));
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0660);
    close(l.fd);
    /* The socket an earlier run left behind is replaced; listen_stop removes the path. */
    CU_ASSERT_EQUAL_FATAL(listen_open(&l, path, e, sizeof(e)), 0);
    listen_stop(&l);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    /* Any other kind of file at the path is left alone, and the pool does not start. */
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    CU_ASSERT_EQUAL(listen_open(&l, path, e, sizeof(e)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "Address already in use"));
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_TRUE(S_ISREG(st.st_mode));
    unlink(path);
    snprintf(path, sizeof(path), "%s/missing/fcgi.sock", dir);
    CU_ASSERT_EQUAL(listen_open(&l, path, e, sizeof(e)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "No such file or directory"));
    rmdir(dir);
}

int test_listen_register(void)
{
    CU_pSuite s = CU_add_suite("listen", NULL, NULL);

    if (!s || !CU_add_test(s, "accepted STOCK_LISTEN forms", test_listen_accepted_forms) ||
        !CU_add_test(s, "refused STOCK_LISTEN forms", test_listen_refused_forms) ||
        !CU_add_test(s, "TCP over IPv4 and IPv6", test_listen_tcp_v4_and_v6) ||
        !CU_add_test(s, "unix socket: stale replaced, path removed at stop",
                     test_listen_unix_socket))
        return -1;
    return 0;
}
