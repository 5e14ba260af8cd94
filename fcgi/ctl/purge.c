/*
 * stockctl purge: what the request paths only sweep for the user or tenant at hand (an expired
 * session at its user's next sign-in, a day-old Idempotency-Key at its tenant's next payment),
 * for every tenant at once, so that dormant ones do not keep rows forever; and the sign-in limit
 * windows that have ended (a successful sign-in sweeps only its own tenant's); and the cache
 * outbox rows older than the longest cache TTL, which no host applied (a fleet whose cache is
 * disabled, say): every entry stored before such a row's write has expired by then
 * (invariant I2 of core/cache_outbox.c).
 */
#include "ctl/commands.h"

#include <stdio.h>
#include <stdlib.h>

#include "services/auth.h"

#define STOCK_STR_(x) #x
#define STOCK_STR(x)  STOCK_STR_(x)

int cmd_purge(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_opt opts[] = {{NULL, NULL}};
    const char *pos[1];
    struct app_err err;
    PGresult *res;
    long long sessions, keys, limits, outbox;
    int ttl;
    int npos, rc;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if ((rc = ctl_start(c)))
        return rc;
    err_clear(&err);
    res = db_exec(&c->db, c->a, "DELETE FROM sessions WHERE expires_at < now()", 0, NULL, &err);
    if (!res)
        return ctl_fail_db("cannot delete the expired sessions", &err);
    sessions = strtoll(PQcmdTuples(res), NULL, 10);
    res = db_exec(&c->db, c->a,
                  "DELETE FROM idempotency_keys WHERE created_at < now() - interval '1 day'", 0,
                  NULL, &err);
    if (!res)
        return ctl_fail_db("cannot delete the old Idempotency-Key records", &err);
    keys = strtoll(PQcmdTuples(res), NULL, 10);
    res =
        db_exec(&c->db, c->a,
                "DELETE FROM login_limits WHERE window_start <= now() - make_interval(secs => $1)",
                1, (const char *[]){STOCK_STR(AUTH_LOGIN_WINDOW)}, &err);
    if (!res)
        return ctl_fail_db("cannot delete the ended sign-in windows", &err);
    limits = strtoll(PQcmdTuples(res), NULL, 10);
    {
        const int ttls[] = {c->cf.ttl_default, c->cf.ttl_products, c->cf.ttl_categories,
                            c->cf.ttl_uom,     c->cf.ttl_balance,  c->cf.ttl_negative,
                            c->cf.ttl_reports};

        ttl = 0;
        for (size_t i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++)
            ttl = ttls[i] > ttl ? ttls[i] : ttl;
    }
    res = db_exec(&c->db, c->a,
                  "DELETE FROM cache_outbox WHERE created_at < now() - make_interval(secs => $1)",
                  1, (const char *[]){arena_sprintf(c->a, "%d", ttl + 60)}, &err);
    if (!res)
        return ctl_fail_db("cannot delete the outlived cache outbox rows", &err);
    outbox = strtoll(PQcmdTuples(res), NULL, 10);
    printf("purged %lld expired sessions and %lld Idempotency-Key records older than a day (and "
           "%lld ended sign-in limit windows, %lld cache outbox rows older than any cached "
           "entry)\n",
           sessions, keys, limits, outbox);
    return CTL_OK;
}
