/*
 * stockctl cache stats|flush: counts or deletes one tenant's cached keys per module, through
 * core/cache (whose connection is core/redis).
 */
#include "ctl/commands.h"

#include <stdio.h>
#include <string.h>

#include "core/cache.h"
#include "core/redis.h"
#include "core/shared.h"

/*
 * The data modules stockctl acts on: what the API caches for reads (the sessions module is not
 * one: a flush of every module leaves sign-ins alone).
 */
static const char *const ctl_cache_modules[] = {"balance",   "products", "categories", "uom",
                                                "movements", "users",    "reports"};
#define CTL_CACHE_MODULES (sizeof(ctl_cache_modules) / sizeof(ctl_cache_modules[0]))

/* The modules to act on: the one named (validated), or every known module. */
static int ctl_modules(const char *module, const char **mods, int *n)
{
    size_t i;

    *n = 0;
    for (i = 0; i < CTL_CACHE_MODULES; i++)
        if (!module || !strcmp(module, ctl_cache_modules[i]))
            mods[(*n)++] = ctl_cache_modules[i];
    if (module && *n == 0) {
        ctl_fail("unknown cache module '%s': expected one of balance, products, categories, "
                 "uom, movements, users, reports",
                 ctl_shown(module));
        return -1;
    }
    return 0;
}

/*
 * The connection failure of stats, in the words stockctl has always used: the password and
 * SELECT refusals named as such, a failed connect in hiredis' own words.
 */
static int ctl_redis_fail(const struct redis *r, const struct config *cf)
{
    switch (r->connect_step) {
    case REDIS_STEP_AUTH:
        return ctl_fail("redis refused the password");
    case REDIS_STEP_SELECT:
        return ctl_fail("redis refused SELECT %d", cf->redis_db);
    case REDIS_STEP_CONNECT:
        if (r->connect_error[0])
            return ctl_fail("cannot connect to redis: %s", r->connect_error);
        break;
    case REDIS_STEP_NONE:
        break;
    }
    return ctl_fail("cannot connect to redis: %s", r->last_error);
}

static int cmd_cache(struct ctl *c, const char *action, int argc, char **argv)
{
    const char *slug = NULL, *module = NULL, *pos[1], *mods[CTL_CACHE_MODULES];
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
                              cache.redis.last_error[0] ? cache.redis.last_error
                                                        : "redis unavailable");
                break;
            }
            /* The pattern delete spares the generation key: move it on as well, so that
             * nothing a worker was computing meanwhile can be stored as current. */
            if (cache_invalidate_module(&cache, c->a, tenant, mods[i]) != 0) {
                rc = ctl_fail("cannot invalidate module '%s': %s", mods[i],
                              cache.redis.last_error[0] ? cache.redis.last_error
                                                        : "redis unavailable");
                break;
            }
            printf("%-12s %6ld keys deleted\n", mods[i], n);
        }
    } else if (redis_ready(&cache.redis)) {
        rc = ctl_redis_fail(&cache.redis, &c->cf);
    } else {
        for (i = 0; i < nmods; i++) {
            struct cache_module_stats st;

            if (cache_module_stats(&cache, c->a, tenant, mods[i], &st)) {
                rc = ctl_fail("cannot count the keys of module '%s': %s", mods[i],
                              cache.redis.last_error[0] ? cache.redis.last_error
                                                        : "unexpected reply");
                break;
            }
            /* The generation is Redis' text: shown, never written raw to a terminal. */
            printf("%-12s %6ld keys  generation %s\n", mods[i], st.keys,
                   st.generation ? ctl_shown(st.generation) : "none");
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
