/* itest: helpers shared by the integration suites. */
#include "itest.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "core/shared.h"

static struct config itest_cf;
static int itest_cf_loaded;
static struct db itest_dbh;
static int itest_db_ready;

static const char *env_get(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

const struct config *itest_config(void)
{
    char errbuf[256];

    if (!itest_cf_loaded) {
        if (config_load(&itest_cf, env_get, NULL, errbuf, sizeof(errbuf))) {
            fprintf(stderr, "itest: %s\n", errbuf);
            abort();
        }
        itest_cf_loaded = 1;
    }
    return &itest_cf;
}

struct db *itest_db(void)
{
    if (!itest_db_ready) {
        db_init(&itest_dbh, itest_config()->database_url);
        itest_db_ready = 1;
    }
    return &itest_dbh;
}

int itest_redisctl(const char *args)
{
    const char *ctl = getenv("STOCK_TEST_REDISCTL");
    char cmd[1024];
    int rc;

    if (!ctl) {
        fprintf(stderr, "itest: STOCK_TEST_REDISCTL is not set\n");
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "%s %s", ctl, args);
    rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc))
        return -1;
    return WEXITSTATUS(rc);
}

int64_t itest_tenant(const char *prefix)
{
    static unsigned seq;
    struct arena *a = arena_new();
    struct app_err err;
    char slug[64];
    const char *params[2];
    PGresult *res;
    int64_t id;

    snprintf(slug, sizeof(slug), "%s-%ld-%u-%ld", prefix, (long)getpid(), seq++, (long)time(NULL));
    params[0] = slug;
    params[1] = slug;
    res = db_exec(itest_db(), a,
                  "INSERT INTO tenants (slug, name, timezone) VALUES ($1, $2, 'UTC') RETURNING id",
                  2, params, &err);
    if (!res) {
        fprintf(stderr, "itest: cannot create tenant '%s': %s (%s)\n", slug, err.msg, err.detail);
        abort();
    }
    id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    arena_free(a);
    return id;
}

const char *itest_slug(struct arena *a, int64_t id)
{
    struct app_err err;
    const char *params[1] = {arena_sprintf(a, "%" PRId64, id)};
    PGresult *res =
        db_exec(itest_db(), a, "SELECT slug FROM tenants WHERE id = $1", 1, params, &err);

    if (!res || PQntuples(res) != 1) {
        fprintf(stderr, "itest: no tenant %" PRId64 "\n", id);
        abort();
    }
    return PQgetvalue(res, 0, 0);
}

int itest_user(int64_t tenant, const char *email, const char *password, const char *role)
{
    char hash[crypto_pwhash_STRBYTES];
    struct arena *a;
    struct app_err err;
    const char *params[4];
    int rc;

    if (crypto_pwhash_str_alg(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
        return -1;
    a = arena_new();
    params[0] = arena_sprintf(a, "%" PRId64, tenant);
    params[1] = email;
    params[2] = hash;
    params[3] = role;
    rc = db_exec(itest_db(), a,
                 "INSERT INTO users (tenant_id, email, password_hash, role) "
                 "VALUES ($1, $2, $3, $4)",
                 4, params, &err)
             ? 0
             : -1;
    arena_free(a);
    return rc;
}

int64_t itest_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void itest_become_other_host(void)
{
    struct shared *sh = shared_get();
    unsigned char id[16];

    atomic_store(&sh->cache_trust_until_ms, 0);
    atomic_store(&sh->cache_trust_floor_ms, 0);
    atomic_store(&sh->cache_poll_until_ms, 0);
    randombytes_buf(id, sizeof(id));
    sodium_bin2hex(sh->cache_host, sizeof(sh->cache_host), id, sizeof(id));
}

redisContext *itest_redis_connect(void)
{
    const struct config *cf = itest_config();
    struct timeval tv = {10, 0};
    redisContext *r;
    redisReply *rep;

    r = cf->redis_unix[0] ? redisConnectUnixWithTimeout(cf->redis_unix, tv)
                          : redisConnectWithTimeout(cf->redis_host, cf->redis_port, tv);
    if (!r || r->err) {
        fprintf(stderr, "itest: cannot connect to the test redis\n");
        return r;
    }
    redisSetTimeout(r, tv);
    if (cf->redis_password[0]) {
        rep = redisCommand(r, "AUTH %s", cf->redis_password);
        freeReplyObject(rep);
    }
    if (cf->redis_db) {
        rep = redisCommand(r, "SELECT %d", cf->redis_db);
        freeReplyObject(rep);
    }
    return r;
}
