/* test_config: SPEC §3 variables, defaults, precedence and one-line errors. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "unit.h"

/* A NULL-terminated list of "NAME=value" strings acts as the environment. */
static const char *table_lookup(void *ctx, const char *name)
{
    const char **kv = ctx;
    size_t n = strlen(name);

    for (; kv && *kv; kv++)
        if (!strncmp(*kv, name, n) && (*kv)[n] == '=')
            return *kv + n + 1;
    return NULL;
}

static int load(struct config *cf, const char **kv, char *errbuf, size_t n)
{
    errbuf[0] = '\0';
    return config_load(cf, table_lookup, kv, errbuf, n);
}

static void test_config_defaults(void)
{
    struct config cf;
    char e[256];
    const char *kv[] = {"STOCK_WORKERS=2", NULL};

    CU_ASSERT_EQUAL_FATAL(load(&cf, kv, e, sizeof(e)), 0);
    CU_ASSERT_STRING_EQUAL(cf.redis_host, "127.0.0.1");
    CU_ASSERT_EQUAL(cf.redis_port, 6379);
    CU_ASSERT_EQUAL(cf.redis_db, 0);
    CU_ASSERT_TRUE(cf.cache_enabled);
    CU_ASSERT_EQUAL(cf.ttl_default, 60);
    CU_ASSERT_EQUAL(cf.ttl_products, 60);
    CU_ASSERT_EQUAL(cf.ttl_categories, 300);
    CU_ASSERT_EQUAL(cf.ttl_uom, 3600);
    CU_ASSERT_EQUAL(cf.ttl_balance, 60);
    CU_ASSERT_EQUAL(cf.ttl_negative, 15);
    CU_ASSERT_STRING_EQUAL(cf.key_prefix, "stock");
    CU_ASSERT_EQUAL(cf.redis_connect_timeout_ms, 3000);
    CU_ASSERT_EQUAL(cf.redis_socket_timeout_ms, 3000);
    CU_ASSERT_EQUAL(cf.redis_max_connections, 50);
    CU_ASSERT_EQUAL(cf.redis_health_check_interval, 30);
    CU_ASSERT_TRUE(cf.redis_retry_on_timeout);
    CU_ASSERT_STRING_EQUAL(cf.listen, "127.0.0.1:9000");
    CU_ASSERT_EQUAL(cf.log_level, LOG_INFO);
    CU_ASSERT_FALSE(cf.db_unnamed);
    CU_ASSERT_EQUAL(config_module_ttl(&cf, "uom"), 3600);
    CU_ASSERT_EQUAL(config_module_ttl(&cf, "sessions"), 60);
}

static void test_config_every_variable_is_read(void)
{
    struct config cf;
    char e[256];
    const char *kv[] = {"DATABASE_URL=postgresql://u@db:5433/x",
                        "REDIS_URL=redis://:s3cret@cache.local:6380/2",
                        "CACHE_ENABLED=false",
                        "CACHE_DEFAULT_TTL=61",
                        "CACHE_PRODUCTS_TTL=62",
                        "CACHE_CATEGORIES_TTL=63",
                        "CACHE_UOM_TTL=64",
                        "CACHE_BALANCE_TTL=65",
                        "CACHE_NEGATIVE_TTL=5",
                        "CACHE_KEY_PREFIX=shop-1",
                        "REDIS_CONNECT_TIMEOUT=0.25",
                        "REDIS_SOCKET_TIMEOUT=2",
                        "REDIS_MAX_CONNECTIONS=8",
                        "REDIS_HEALTH_CHECK_INTERVAL=0",
                        "REDIS_RETRY_ON_TIMEOUT=no",
                        "STOCK_LISTEN=/run/stock.sock",
                        "STOCK_WORKERS=8",
                        "LOG_LEVEL=warning",
                        "DB_STATEMENTS=unnamed",
                        NULL};

    CU_ASSERT_EQUAL_FATAL(load(&cf, kv, e, sizeof(e)), 0);
    CU_ASSERT_STRING_EQUAL(cf.database_url, "postgresql://u@db:5433/x");
    CU_ASSERT_STRING_EQUAL(cf.redis_host, "cache.local");
    CU_ASSERT_EQUAL(cf.redis_port, 6380);
    CU_ASSERT_EQUAL(cf.redis_db, 2);
    CU_ASSERT_STRING_EQUAL(cf.redis_password, "s3cret");
    CU_ASSERT_FALSE(cf.cache_enabled);
    CU_ASSERT_EQUAL(cf.ttl_default, 61);
    CU_ASSERT_EQUAL(cf.ttl_products, 62);
    CU_ASSERT_EQUAL(cf.ttl_categories, 63);
    CU_ASSERT_EQUAL(cf.ttl_uom, 64);
    CU_ASSERT_EQUAL(cf.ttl_balance, 65);
    CU_ASSERT_EQUAL(cf.ttl_negative, 5);
    CU_ASSERT_STRING_EQUAL(cf.key_prefix, "shop-1");
    CU_ASSERT_EQUAL(cf.redis_connect_timeout_ms, 250);
    CU_ASSERT_EQUAL(cf.redis_socket_timeout_ms, 2000);
    CU_ASSERT_EQUAL(cf.redis_max_connections, 8);
    CU_ASSERT_EQUAL(cf.redis_health_check_interval, 0);
    CU_ASSERT_FALSE(cf.redis_retry_on_timeout);
    CU_ASSERT_STRING_EQUAL(cf.listen, "/run/stock.sock");
    CU_ASSERT_EQUAL(cf.workers, 8);
    CU_ASSERT_EQUAL(cf.log_level, LOG_WARN);
    CU_ASSERT_TRUE(cf.db_unnamed);
}

static void test_config_redis_password_overrides_url(void)
{
    struct config cf;
    char e[256];
    const char *kv[] = {"REDIS_URL=redis://:fromurl@h:1/0", "REDIS_PASSWORD=fromenv",
                        "STOCK_WORKERS=1", NULL};
    const char *kv2[] = {"REDIS_URL=redis://[::1]:6390", "STOCK_WORKERS=1", NULL};
    const char *kv3[] = {"REDIS_URL=unix:///tmp/r.sock?db=3", "STOCK_WORKERS=1", NULL};

    CU_ASSERT_EQUAL_FATAL(load(&cf, kv, e, sizeof(e)), 0);
    CU_ASSERT_STRING_EQUAL(cf.redis_password, "fromenv");
    CU_ASSERT_EQUAL_FATAL(load(&cf, kv2, e, sizeof(e)), 0);
    CU_ASSERT_STRING_EQUAL(cf.redis_host, "::1");
    CU_ASSERT_EQUAL(cf.redis_port, 6390);
    CU_ASSERT_EQUAL_FATAL(load(&cf, kv3, e, sizeof(e)), 0);
    CU_ASSERT_STRING_EQUAL(cf.redis_unix, "/tmp/r.sock");
    CU_ASSERT_EQUAL(cf.redis_db, 3);
}

/* Each malformed value: config_load fails and the one-line message names the variable. */
static void test_config_malformed_values_name_the_variable(void)
{
    static const char *bad[][2] = {
        {"CACHE_ENABLED", "maybe"},
        {"CACHE_DEFAULT_TTL", "abc"},
        {"CACHE_PRODUCTS_TTL", "-1"},
        {"CACHE_CATEGORIES_TTL", "0"},
        {"CACHE_UOM_TTL", "99999999999"},
        {"CACHE_BALANCE_TTL", "60s"},
        {"CACHE_NEGATIVE_TTL", ""},
        {"CACHE_KEY_PREFIX", "a:b"},
        {"REDIS_CONNECT_TIMEOUT", "3.0001"},
        {"REDIS_SOCKET_TIMEOUT", "-3"},
        {"REDIS_MAX_CONNECTIONS", "0"},
        {"REDIS_HEALTH_CHECK_INTERVAL", "x"},
        {"REDIS_RETRY_ON_TIMEOUT", "2"},
        {"STOCK_LISTEN", "nowhere"},
        {"STOCK_WORKERS", "abc"},
        {"STOCK_WORKERS", "1000"},
        {"LOG_LEVEL", "verbose"},
        {"REDIS_URL", "http://x"},
        {"REDIS_URL", "redis://h:99999/0"},
        {"REDIS_URL", "redis://h:1/16"},
        {"DATABASE_URL", ""},
        {"DB_STATEMENTS", "named"},
        {"DB_STATEMENTS", "Unnamed"},
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct config cf;
        char e[256], var[160];
        const char *kv[] = {var, "STOCK_WORKERS=1", NULL};

        snprintf(var, sizeof(var), "%s=%s", bad[i][0], bad[i][1]);
        if (!strcmp(bad[i][0], "STOCK_WORKERS"))
            kv[1] = NULL;
        CU_ASSERT_EQUAL(load(&cf, kv, e, sizeof(e)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(e, bad[i][0]));
        CU_ASSERT_PTR_NULL(strchr(e, '\n'));
    }
}

static void test_config_redis_url_error_hides_password(void)
{
    struct config cf;
    char e[256];
    const char *kv[] = {"REDIS_URL=redis://:topsecret@h:notaport/0", "STOCK_WORKERS=1", NULL};

    CU_ASSERT_EQUAL(load(&cf, kv, e, sizeof(e)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "REDIS_URL"));
    CU_ASSERT_PTR_NULL(strstr(e, "topsecret"));
}

static void test_config_workers_above_max_connections(void)
{
    struct config cf;
    char e[256];
    const char *kv[] = {"STOCK_WORKERS=10", "REDIS_MAX_CONNECTIONS=4", NULL};

    CU_ASSERT_EQUAL(load(&cf, kv, e, sizeof(e)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "STOCK_WORKERS"));
}

/* REDIS_SENTINELS: up to 8, IPv6 in brackets, the master's name required, errors on one line. */
static void test_config_sentinels(void)
{
    struct config cf;
    char e[256];
    const char *ok[] = {"REDIS_URL=redis://:pw@h:1/4",
                        "REDIS_SENTINELS=s1:26379,[::1]:26380",
                        "REDIS_SENTINEL_MASTER=stock-1",
                        "REDIS_SENTINEL_PASSWORD=sentpw",
                        "STOCK_WORKERS=1",
                        NULL};
    static const char *bad[][2] = {
        {"REDIS_SENTINELS", "s1"},
        {"REDIS_SENTINELS", "s1:0"},
        {"REDIS_SENTINELS", "s1:26379,"},
        {"REDIS_SENTINELS", "::1:26379"},
        {"REDIS_SENTINELS", "[::1]26379"},
        {"REDIS_SENTINELS", "a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1"},
        {"REDIS_SENTINEL_MASTER", "a b"},
    };
    size_t i;

    CU_ASSERT_EQUAL_FATAL(load(&cf, ok, e, sizeof(e)), 0);
    CU_ASSERT_EQUAL(cf.redis_sentinel_count, 2);
    CU_ASSERT_STRING_EQUAL(cf.redis_sentinels[0].host, "s1");
    CU_ASSERT_EQUAL(cf.redis_sentinels[0].port, 26379);
    CU_ASSERT_STRING_EQUAL(cf.redis_sentinels[1].host, "::1");
    CU_ASSERT_EQUAL(cf.redis_sentinels[1].port, 26380);
    CU_ASSERT_STRING_EQUAL(cf.redis_sentinel_master, "stock-1");
    CU_ASSERT_STRING_EQUAL(cf.redis_sentinel_password, "sentpw");
    CU_ASSERT_STRING_EQUAL(cf.redis_password, "pw");
    CU_ASSERT_EQUAL(cf.redis_db, 4);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char var[160];
        const char *kv[] = {var, "REDIS_SENTINEL_MASTER=m", "STOCK_WORKERS=1", NULL};

        snprintf(var, sizeof(var), "%s=%s", bad[i][0], bad[i][1]);
        if (!strcmp(bad[i][0], "REDIS_SENTINEL_MASTER"))
            kv[1] = "REDIS_SENTINELS=s:1";
        CU_ASSERT_EQUAL(load(&cf, kv, e, sizeof(e)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(e, bad[i][0]));
        CU_ASSERT_PTR_NULL(strchr(e, '\n'));
    }
    {
        const char *nomaster[] = {"REDIS_SENTINELS=s:1", "STOCK_WORKERS=1", NULL};
        const char *nosent[] = {"REDIS_SENTINEL_MASTER=m", "STOCK_WORKERS=1", NULL};

        CU_ASSERT_EQUAL(load(&cf, nomaster, e, sizeof(e)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(e, "REDIS_SENTINEL_MASTER"));
        CU_ASSERT_EQUAL(load(&cf, nosent, e, sizeof(e)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(e, "REDIS_SENTINELS"));
    }
}

static void test_config_env_file_below_environment(void)
{
    char path[] = "/tmp/stock-unit-env-XXXXXX";
    int fd = mkstemp(path);
    FILE *f;
    struct config cf;
    char e[256];

    CU_ASSERT_FATAL(fd >= 0);
    f = fdopen(fd, "w");
    fputs("# comment\nexport CACHE_UOM_TTL=77\nCACHE_BALANCE_TTL = \"88\"\nLOG_LEVEL='debug'\n"
          "STOCK_WORKERS=1\n",
          f);
    fclose(f);
    setenv("CACHE_BALANCE_TTL", "99", 1);
    CU_ASSERT_EQUAL(config_load_env(&cf, path, e, sizeof(e)), 0);
    CU_ASSERT_EQUAL(cf.ttl_uom, 77);
    CU_ASSERT_EQUAL(cf.ttl_balance, 99); /* the environment wins over .env */
    CU_ASSERT_EQUAL(cf.log_level, LOG_DEBUG);
    unsetenv("CACHE_BALANCE_TTL");
    f = fopen(path, "w");
    fputs("this line has no equals sign\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(config_load_env(&cf, path, e, sizeof(e)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "line 1"));
    unlink(path);
}

/* CACHE_SECRET: required in production, from the variable or a file, never echoed. */
static void test_config_cache_secret(void)
{
    static const char secret[] = "0123456789abcdef0123456789abcdef-one";
    char path[] = "/tmp/stock-unit-secret-XXXXXX";
    int fd = mkstemp(path);
    struct config a, b, c;
    char e[256], v1[96], f1[96];
    const char *dev[] = {"STOCK_WORKERS=1", NULL};
    const char *prod[] = {"STOCK_WORKERS=1", "STOCK_ENV=production", NULL};
    const char *env[] = {"STOCK_WORKERS=1", "STOCK_ENV=production", v1, NULL};
    const char *file[] = {"STOCK_WORKERS=1", "STOCK_ENV=production", f1, NULL};
    const char *both[] = {"STOCK_WORKERS=1", v1, f1, NULL};
    const char *shortv[] = {"STOCK_WORKERS=1", "CACHE_SECRET=tooshort-secret", NULL};
    const char *rot[] = {"STOCK_WORKERS=1", v1,
                         "CACHE_SECRET_PREVIOUS=an-older-secret-of-32-bytes-or-more", NULL};
    const char *badenv[] = {"STOCK_WORKERS=1", "STOCK_ENV=prod", NULL};

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, secret, strlen(secret)), (ssize_t)strlen(secret));
    CU_ASSERT_EQUAL(write(fd, "\n", 1), 1);
    close(fd);
    snprintf(v1, sizeof(v1), "CACHE_SECRET=%s", secret);
    snprintf(f1, sizeof(f1), "CACHE_SECRET_FILE=%s", path);
    /* Development without one: a random key, said so. */
    CU_ASSERT_EQUAL(load(&a, dev, e, sizeof(e)), 0);
    CU_ASSERT_TRUE(a.cache_mac_ephemeral);
    CU_ASSERT_FALSE(a.production);
    /* Production refuses to start without one. */
    CU_ASSERT_EQUAL(load(&a, prod, e, sizeof(e)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "CACHE_SECRET"));
    /* The variable and the file (trailing newline dropped) give the same key. */
    CU_ASSERT_EQUAL_FATAL(load(&b, env, e, sizeof(e)), 0);
    CU_ASSERT_EQUAL_FATAL(load(&c, file, e, sizeof(e)), 0);
    CU_ASSERT_TRUE(b.production);
    CU_ASSERT_FALSE(b.cache_mac_ephemeral);
    CU_ASSERT_EQUAL(memcmp(b.cache_mac_key, c.cache_mac_key, sizeof(b.cache_mac_key)), 0);
    /* The key is derived, not the secret's bytes. */
    CU_ASSERT_NOT_EQUAL(memcmp(b.cache_mac_key, secret, sizeof(b.cache_mac_key)), 0);
    CU_ASSERT_EQUAL(load(&a, both, e, sizeof(e)), -1);
    CU_ASSERT_EQUAL(load(&a, shortv, e, sizeof(e)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "CACHE_SECRET"));
    CU_ASSERT_PTR_NULL(strstr(e, "tooshort"));
    CU_ASSERT_EQUAL(load(&a, badenv, e, sizeof(e)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "STOCK_ENV"));
    CU_ASSERT_EQUAL_FATAL(load(&a, rot, e, sizeof(e)), 0);
    CU_ASSERT_TRUE(a.cache_mac_prev);
    CU_ASSERT_EQUAL(memcmp(a.cache_mac_key, b.cache_mac_key, sizeof(a.cache_mac_key)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a.cache_mac_key_prev, b.cache_mac_key, sizeof(a.cache_mac_key)), 0);
    unlink(path);
    CU_ASSERT_EQUAL(load(&a, file, e, sizeof(e)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "CACHE_SECRET_FILE"));
}

int test_config_register(void)
{
    CU_pSuite s = CU_add_suite("config", NULL, NULL);

    if (!s || !CU_add_test(s, "defaults", test_config_defaults) ||
        !CU_add_test(s, "every variable is read", test_config_every_variable_is_read) ||
        !CU_add_test(s, "REDIS_PASSWORD overrides URL; v6 and unix URLs",
                     test_config_redis_password_overrides_url) ||
        !CU_add_test(s, "malformed values name the variable",
                     test_config_malformed_values_name_the_variable) ||
        !CU_add_test(s, "REDIS_URL error hides password",
                     test_config_redis_url_error_hides_password) ||
        !CU_add_test(s, "REDIS_SENTINELS", test_config_sentinels) ||
        !CU_add_test(s, "workers above max connections",
                     test_config_workers_above_max_connections) ||
        !CU_add_test(s, ".env file below environment", test_config_env_file_below_environment) ||
        !CU_add_test(s, "CACHE_SECRET", test_config_cache_secret))
        return -1;
    return 0;
}
