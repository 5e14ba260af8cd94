/*
 * export: a cursor over a list, in a read-only transaction of its own. Through PgBouncer in
 * transaction pooling mode the cursor stays on one server connection (it lives only inside the
 * transaction); every FETCH is a statement of its own, so statement_timeout bounds each chunk,
 * not the whole export. When the connection dies midway, the next FETCH fails, db.c marks the
 * connection lost and the next request reconnects.
 */
#include "services/export.h"

#include <stdio.h>
#include <string.h>

static void export_arena_free(void *p)
{
    arena_free(p);
}

int export_open(struct export *e, struct db *db, struct arena *a, const struct export_def *def,
                struct app_err *err)
{
    PGresult *res;

    memset(e, 0, sizeof(*e));
    e->db = db;
    e->def = def;
    e->chunk = arena_new();
    arena_defer(a, export_arena_free, e->chunk);
    if (db_begin(db, err))
        return -1;
    e->open = true;
    if (!db_exec(db, a, "SET TRANSACTION READ ONLY", 0, NULL, err))
        goto fail;
    res = db_exec(db, a, def->sql, def->nparams, def->params, err);
    if (!res)
        goto fail;
    if (export_fetch(e, err) < 0)
        goto fail;
    return 0;
fail:
    export_close(e);
    return -1;
}

int export_fetch(struct export *e, struct app_err *err)
{
    e->res = NULL;
    arena_reset(e->chunk);
#ifdef STOCK_FAULT_INJECTION
    if (e->db->fault_export_cut && e->fetches > 0)
        return err_set(err, ERR_UNAVAILABLE, "export cut (fault injection)");
#endif
    e->fetches++;
    e->res =
        db_exec(e->db, e->chunk, "FETCH 2000 FROM stock_export", 0, NULL, err); /* EXPORT_CHUNK */
    if (!e->res)
        return -1;
    if (PQnfields(e->res) != (int)e->def->ncols) {
        int got = PQnfields(e->res);

        e->res = NULL;
        err_set(err, ERR_INTERNAL, "internal error");
        return err_detail(err, "export %s: %d columns, %zu expected", e->def->name, got,
                          e->def->ncols);
    }
    e->done = PQntuples(e->res) == 0;
    return PQntuples(e->res);
}

void export_close(struct export *e)
{
    struct app_err err;

    /* Read all: COMMIT (the cursor's executor ends as usual: auto_explain sees it); else roll
     * back (a failed or abandoned export). Nothing was written either way. */
    err_clear(&err);
    if (e->open && (!e->done || db_commit(e->db, &err)))
        db_rollback(e->db);
    e->open = false;
}
