/*
 * stockctl migrate [--app-role ROLE]: applies the migrations embedded from sql/ that
 * schema_migrations does not list yet, each in its own transaction, one run at a time.
 *
 * --app-role ROLE (least privilege, SPEC §11): afterwards, in one transaction, gives the
 * application's login role (an existing role: deploy/postgres-roles.sh) what the workers need
 * and nothing more: USAGE on the schema public; SELECT, INSERT, UPDATE, DELETE on every table
 * but schema_migrations (none of it); USAGE, SELECT on the sequences; EXECUTE on the functions
 * (their triggers run as the caller: stock_move() and the outbox and balance triggers only touch
 * the app's tables). TRUNCATE, REFERENCES, TRIGGER and CREATE on the schema are revoked from it.
 * ALTER DEFAULT PRIVILEGES gives the same on what the migrating role (the owner) creates later;
 * every run repeats the grants as well. ROLE must exist, be neither a superuser nor the role
 * migrating, and own nothing here.
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

/* The role of --app-role qualifies: it exists, is no superuser, is not the role migrating, and
 * owns neither the database nor anything in the schema public. */
static const char ctl_app_role_sql[] =
    "SELECT 1 FROM pg_roles r WHERE r.rolname = $1 AND NOT r.rolsuper AND r.rolname <> current_user "
    "AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relowner = r.oid) "
    "AND NOT EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = current_database() "
    "AND d.datdba = r.oid)";

/* The grants, run by the server for the role in the setting stock.app_role (a parameter of
 * set_config), quoted there by format(%I). */
static const char ctl_grants_sql[] =
    "DO $$ DECLARE r text := current_setting('stock.app_role'); s text; BEGIN "
    "FOREACH s IN ARRAY ARRAY["
    "'GRANT USAGE ON SCHEMA public TO %I', "
    "'REVOKE CREATE ON SCHEMA public FROM %I', "
    "'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', "
    "'REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM %I', "
    "'REVOKE ALL ON schema_migrations FROM %I', "
    "'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', "
    "'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO %I', "
    "'ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', "
    "'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %I', "
    "'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO %I'] "
    "LOOP EXECUTE format(s, r); END LOOP; END $$";

/* The grants of --app-role ROLE, in one transaction. CTL_OK, or CTL_FAIL after saying why. */
static int ctl_grant_app(struct ctl *c, const char *role)
{
    const char *params[1] = {role};
    struct app_err err;
    PGresult *res;

    err_clear(&err);
    res = db_exec(&c->db, c->a, ctl_app_role_sql, 1, params, &err);
    if (!res)
        return ctl_fail_db("cannot check the role of --app-role", &err);
    if (PQntuples(res) != 1)
        return ctl_fail("--app-role '%s': no such role, or a superuser, the role migrating, or "
                        "an owner of the database or of a table",
                        ctl_shown(role));
    if (db_begin(&c->db, &err) ||
        !db_exec(&c->db, c->a, "SELECT set_config('stock.app_role', $1, true)", 1, params, &err) ||
        db_exec_script(&c->db, ctl_grants_sql, &err) || db_commit(&c->db, &err)) {
        db_rollback(&c->db);
        return ctl_fail_db("cannot grant the app role its privileges", &err);
    }
    printf("granted the app's privileges to %s\n", ctl_shown(role));
    return CTL_OK;
}

int cmd_migrate(struct ctl *c, int argc, char **argv)
{
    const char *app_role = NULL;
    const struct ctl_opt opts[] = {{"app-role", &app_role}, {NULL, NULL}};
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
    if (app_role && (rc = ctl_grant_app(c, app_role)))
        return rc;
    if (!db_exec(&c->db, c->a, "SELECT pg_advisory_unlock(" CTL_MIGRATE_LOCK ")", 0, NULL, &err))
        return ctl_fail_db("cannot release the migration lock", &err);
    return CTL_OK;
}
