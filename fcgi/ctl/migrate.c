/*
 * stockctl migrate: applies the migrations embedded from sql/ that schema_migrations does not
 * list yet, each in its own transaction, one run at a time.
 */
#include "ctl/commands.h"

#include <stdio.h>

/* Generated from the sql/ files by deploy/embed-sql.sh: {name, sql} in order, then {NULL, NULL}. */
struct migration {
    const char *name;
    const char *sql;
};
extern const struct migration stock_migrations[];

/* Serializes concurrent `stockctl migrate` runs: the bytes of "stockmig". */
#define CTL_MIGRATE_LOCK "8319396884454926695"

int cmd_migrate(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_opt opts[] = {{NULL, NULL}};
    const struct migration *m;
    const char *pos[1];
    struct app_err err;
    int npos, rc, applied = 0;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if ((rc = ctl_start(c)))
        return rc;
    err_clear(&err);
    /* Session-level lock, released when we disconnect: a second run waits, then finds
     * everything applied. */
    if (!db_exec(&c->db, c->a, "SELECT pg_advisory_lock(" CTL_MIGRATE_LOCK ")", 0, NULL, &err))
        return ctl_fail_db("cannot take the migration lock", &err);
    if (!db_exec(&c->db, c->a,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 "name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                 0, NULL, &err))
        return ctl_fail_db("cannot create schema_migrations", &err);

    for (m = stock_migrations; m->name; m++) {
        const char *params[1] = {m->name};
        PGresult *res;

        res = db_exec(&c->db, c->a, "SELECT 1 FROM schema_migrations WHERE name = $1", 1, params,
                      &err);
        if (!res)
            return ctl_fail_db("cannot read schema_migrations", &err);
        if (PQntuples(res) > 0)
            continue;
        if (db_begin(&c->db, &err) || db_exec_script(&c->db, m->sql, &err) ||
            !db_exec(&c->db, c->a, "INSERT INTO schema_migrations (name) VALUES ($1)", 1, params,
                     &err) ||
            db_commit(&c->db, &err)) {
            char what[160];

            db_rollback(&c->db);
            snprintf(what, sizeof(what), "migration '%s' failed", m->name);
            return ctl_fail_db(what, &err);
        }
        printf("applied %s\n", m->name);
        applied++;
    }
    if (!applied)
        printf("up to date\n");
    if (!db_exec(&c->db, c->a, "SELECT pg_advisory_unlock(" CTL_MIGRATE_LOCK ")", 0, NULL, &err))
        return ctl_fail_db("cannot release the migration lock", &err);
    return CTL_OK;
}
