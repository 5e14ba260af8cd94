/*
 * stock-fcgi: start-up of the pool. Reads the configuration, initialises libfcgi, opens the
 * listening socket (listen.c) and maps the shared counters, then hands over to the pool master
 * (pool.c), which forks the workers (worker.c).
 */
#include <errno.h>
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/shared.h"
#include "listen.h"
#include "pool.h"
#include "routes/api.h"

static struct config cf;

int main(int argc, char **argv)
{
    char errbuf[512];
    const char *env_file = getenv("STOCK_ENV_FILE");
    struct listener l;

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
    if (cf.cache_mac_ephemeral && cf.cache_enabled)
        log_warn("[CACHE] CACHE_SECRET is not set: cached values are signed with a random key of "
                 "this pool only (no other host or stockctl shares its cache); set CACHE_SECRET "
                 "or CACHE_SECRET_FILE, the same on every host");
    if (FCGX_Init()) {
        fprintf(stderr, "stock-fcgi: cannot initialise libfcgi\n");
        return 1;
    }
    if (listen_open(&l, cf.listen, errbuf, sizeof(errbuf))) {
        fprintf(stderr, "stock-fcgi: %s\n", errbuf);
        return 1;
    }
    if (shared_create_for_pool()) {
        fprintf(stderr, "stock-fcgi: cannot map shared memory: %s\n", strerror(errno));
        return 1;
    }
    return pool_run(&cf, &l);
}
