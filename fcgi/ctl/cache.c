/*
 * stockctl cache stats|flush: counts or deletes one tenant's cached keys per module, through
 * core/cache (and a plain hiredis connection for counting keys).
 */
#include "ctl/commands.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "core/cache.h"
#include "core/shared.h"

/* The modules to act on: the one named (validated), or every known module. */
static int ctl_modules(const char *module, const char **mods, int *n)
{
    int i;

    *n = 0;
    if (module) {
        enum shared_module m = shared_module_of(module);

        if (m == MOD_OTHER) {
            ctl_fail("unknown cache module '%s': expected one of balance, products, categories, "
                     "uom",
                     ctl_shown(module));
            return -1;
        }
        mods[(*n)++] = shared_module_name(m);
        return 0;
    }
    for (i = 0; i < MOD_OTHER; i++)
        mods[(*n)++] = shared_module_name((enum shared_module)i);
    return 0;
}

/* A plain hiredis connection from the configuration (AUTH and SELECT done), or NULL. */
static redisContext *ctl_redis_connect(const struct config *cf)
{
    struct timeval tv;
    redisContext *rc;
    redisReply *r;

    tv.tv_sec = cf->redis_connect_timeout_ms / 1000;
    tv.tv_usec = (cf->redis_connect_timeout_ms % 1000) * 1000;
    if (cf->redis_unix[0])
        rc = redisConnectUnixWithTimeout(cf->redis_unix, tv);
    else
        rc = redisConnectWithTimeout(cf->redis_host, cf->redis_port, tv);
    if (!rc || rc->err) {
        ctl_fail("cannot connect to redis: %s", rc ? rc->errstr : "out of memory");
        goto fail;
    }
    tv.tv_sec = cf->redis_socket_timeout_ms / 1000;
    tv.tv_usec = (cf->redis_socket_timeout_ms % 1000) * 1000;
    redisSetTimeout(rc, tv);
    if (cf->redis_password[0]) {
        r = redisCommand(rc, "AUTH %s", cf->redis_password);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            /* Never print the reply: keep the password's neighbourhood out of the output. */
            ctl_fail("redis refused the password");
            freeReplyObject(r);
            goto fail;
        }
        freeReplyObject(r);
    }
    if (cf->redis_db) {
        r = redisCommand(rc, "SELECT %d", cf->redis_db);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            ctl_fail("redis refused SELECT %d", cf->redis_db);
            freeReplyObject(r);
            goto fail;
        }
        freeReplyObject(r);
    }
    return rc;
fail:
    if (rc)
        redisFree(rc);
    return NULL;
}

/*
 * Counts the keys of one tenant's module with SCAN (never KEYS), not counting the module's
 * generation key, whose value goes to gen ("none" when absent). -1 on failure.
 */
static long ctl_redis_count(redisContext *rc, struct arena *a, const char *base, char *gen,
                            size_t gen_size)
{
    char cursor[32] = "0", *pattern, *p;
    const char *genkey = arena_sprintf(a, "%s__gen__", base);
    redisReply *r;
    long count = 0;
    size_t i;

    /* base is literal: escape the glob characters a key prefix could hold. */
    pattern = p = arena_alloc(a, 2 * strlen(base) + 2);
    for (i = 0; base[i]; i++) {
        if (strchr("*?[]\\", base[i]))
            *p++ = '\\';
        *p++ = base[i];
    }
    *p++ = '*';
    *p = '\0';
    do {
        r = redisCommand(rc, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (i = 0; i < r->element[1]->elements; i++) {
            const redisReply *k = r->element[1]->element[i];

            if (k->type == REDIS_REPLY_STRING && strcmp(k->str, genkey))
                count++;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0"));

    r = redisCommand(rc, "GET %s", genkey);
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL)) {
        freeReplyObject(r);
        return -1;
    }
    snprintf(gen, gen_size, "%s", r->type == REDIS_REPLY_STRING ? r->str : "none");
    freeReplyObject(r);
    return count;
}

static int cmd_cache(struct ctl *c, const char *action, int argc, char **argv)
{
    const char *slug = NULL, *module = NULL, *pos[1], *mods[MOD_COUNT];
    const struct ctl_opt opts[] = {{"tenant", &slug}, {"module", &module}, {NULL, NULL}};
    struct config ccf;
    struct cache cache;
    int64_t tenant;
    int npos, nmods, rc, i;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if (!slug)
        return ctl_usage("cache %s needs --tenant SLUG", action);
    if (ctl_modules(module, mods, &nmods))
        return CTL_FAIL;
    if ((rc = ctl_start(c)))
        return rc;
    if ((tenant = ctl_tenant_id(c, slug)) < 0)
        return CTL_FAIL;
    /*
     * An explicit admin action works whatever CACHE_ENABLED says: entries left by a run with
     * the cache enabled must be flushable before it is enabled again (see core/cache.c).
     */
    ccf = c->cf;
    ccf.cache_enabled = true;
    cache_init(&cache, &ccf, &c->db);

    if (!strcmp(action, "flush")) {
        for (i = 0; i < nmods; i++) {
            long n = cache_delete_pattern(&cache, c->a, tenant, mods[i], "*");

            if (n < 0) {
                rc = ctl_fail("cannot flush module '%s': %s", mods[i],
                              cache.last_error[0] ? cache.last_error : "redis unavailable");
                break;
            }
            /* The pattern delete spares the generation key: move it on as well, so that
             * nothing a worker was computing meanwhile can be stored as current. */
            if (cache_invalidate_module(&cache, c->a, tenant, mods[i]) != 0) {
                rc = ctl_fail("cannot invalidate module '%s': %s", mods[i],
                              cache.last_error[0] ? cache.last_error : "redis unavailable");
                break;
            }
            printf("%-12s %6ld keys deleted\n", mods[i], n);
        }
    } else {
        redisContext *redis = ctl_redis_connect(&c->cf);

        if (!redis) {
            rc = CTL_FAIL;
        } else {
            for (i = 0; i < nmods; i++) {
                const char *base = cache_key(&cache, c->a, tenant, mods[i], "");
                char gen[80];
                long n = ctl_redis_count(redis, c->a, base, gen, sizeof(gen));

                if (n < 0) {
                    rc = ctl_fail("cannot count the keys of module '%s': %s", mods[i],
                                  redis->err ? redis->errstr : "unexpected reply");
                    break;
                }
                printf("%-12s %6ld keys  generation %s\n", mods[i], n, gen);
            }
            redisFree(redis);
        }
    }
    cache_release(&cache);
    return rc;
}

int cmd_cache_stats(struct ctl *c, int argc, char **argv)
{
    return cmd_cache(c, "stats", argc, argv);
}

int cmd_cache_flush(struct ctl *c, int argc, char **argv)
{
    return cmd_cache(c, "flush", argc, argv);
}
