/*
 * config: every setting of SPEC §3, read from the environment, then a .env file, then defaults.
 * A malformed value is an error naming the variable and the value (the value is masked for
 * secrets). The struct is filled once at start-up and then only read.
 */
#ifndef STOCK_CORE_CONFIG_H
#define STOCK_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/log.h"

#define CONFIG_SENTINELS_MAX 8

struct config {
    char database_url[1024];
    char redis_url[512];  /* as given, for reference only: never log it (it may hold a password) */
    char redis_host[256]; /* empty when redis_unix is set */
    int redis_port;
    char redis_unix[256]; /* unix socket path (redis+unix:// or unix://) */
    int redis_db;
    char redis_password[256]; /* REDIS_PASSWORD, else the URL's; never logged or shown */
    /* Least privilege (SPEC §11): the Redis ACL user, REDIS_USERNAME, else the URL's user
     * (redis://user:password@host); empty = `AUTH password` (the default user). */
    char redis_username[128];
    bool cache_enabled;
    int ttl_default, ttl_products, ttl_categories, ttl_uom, ttl_balance, ttl_negative;
    int ttl_reports;
    char key_prefix[33];
    int redis_connect_timeout_ms;
    int redis_socket_timeout_ms;
    int redis_max_connections;
    int redis_health_check_interval; /* seconds; 0 = PING before every use after any idle */
    bool redis_retry_on_timeout;
    char listen[256];
    int workers;
    enum log_level log_level;
    /* Sentinel (SPEC §11): when redis_sentinel_count > 0 the master's address is asked of these
     * sentinels on every (re)connect and replaces REDIS_URL's host and port (its db and
     * password still apply). */
    int redis_sentinel_count;
    struct config_sentinel {
        char host[256]; /* a name, an IPv4 address, or an IPv6 one without the brackets */
        int port;
    } redis_sentinels[CONFIG_SENTINELS_MAX];
    char redis_sentinel_master[128];
    char redis_sentinel_password[256]; /* REDIS_SENTINEL_PASSWORD; never logged or shown */
    /* STOCK_ENV=production: settings a production pool cannot run without are required. */
    bool production;
    /*
     * The MAC keys of cached values (SPEC §11), derived from CACHE_SECRET (or the file
     * CACHE_SECRET_FILE) and, during a rotation, CACHE_SECRET_PREVIOUS(_FILE), accepted for reads
     * only. The secrets themselves are not kept; the keys are never logged, shown or sent.
     * Without a secret outside production the key is random (cache_mac_ephemeral): this process
     * and the workers it forks share it, no other host or stockctl does.
     */
    unsigned char cache_mac_key[32];
    unsigned char cache_mac_key_prev[32];
    bool cache_mac_prev;
    bool cache_mac_ephemeral;
    /* DB_STATEMENTS: prepared (false, the default) or unnamed (true; PgBouncer transaction
     * pooling, see db_set_unnamed in core/db.h) */
    bool db_unnamed;
    /* CACHE_L1_BYTES: the byte bound of each worker's in-process cache (core/l1.c); 0 = off. */
    long l1_bytes;
};

/* Looks a variable up; returns NULL when unset. */
typedef const char *(*config_lookup_fn)(void *ctx, const char *name);

/*
 * Fills cf from lookup, then defaults. Returns 0, or -1 with one line in errbuf such as
 * "invalid CACHE_PRODUCTS_TTL 'abc': expected whole seconds between 1 and 31536000".
 */
int config_load(struct config *cf, config_lookup_fn lookup, void *ctx, char *errbuf, size_t n)
    __attribute__((warn_unused_result));

/*
 * Fills cf from the process environment, then the file env_file (KEY=VALUE lines, '#'
 * comments, optional quotes and `export`; a missing file is fine), then defaults.
 */
int config_load_env(struct config *cf, const char *env_file, char *errbuf, size_t n)
    __attribute__((warn_unused_result));

/* The TTL in seconds of a cache module (products, categories, uom, balance, else default). */
int config_module_ttl(const struct config *cf, const char *module);

#endif
