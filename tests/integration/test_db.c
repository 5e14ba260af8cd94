/* test_db: core/db against the real PostgreSQL of the run (schema of sql/ applied). */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/shared.h"
#include "itest.h"

static struct arena *ta;

static int db_suite_setup(void)
{
    ta = arena_new();
    return 0;
}

static int db_suite_teardown(void)
{
    db_request_end(itest_db());
    arena_free(ta);
    ta = NULL;
    return 0;
}

/* Runs a statement on db that must succeed (fails the test otherwise). */
static PGresult *must(struct db *db, const char *sql, int n, const char *const *params)
{
    struct app_err err;
    PGresult *res;

    err_clear(&err);
    res = db_exec(db, ta, sql, n, params, &err);
    if (!res)
        fprintf(stderr, "\n  statement failed: %s (%s)\n", err.msg, err.detail);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    return res;
}

static const char *tenant_str(const char *prefix)
{
    return arena_sprintf(ta, "%" PRId64, itest_tenant(prefix));
}

/* Creates a unit of measure in tenant and returns its id (text). */
static const char *make_unit(const char *tenant, const char *name)
{
    const char *p[2] = {tenant, name};

    return arena_strdup(ta, PQgetvalue(must(itest_db(),
                                            "INSERT INTO units (tenant_id, name, abbreviation) "
                                            "VALUES ($1, $2, 'u') RETURNING id",
                                            2, p),
                                       0, 0));
}

static const char *make_category(const char *tenant, const char *name)
{
    const char *p[2] = {tenant, name};

    return arena_strdup(ta, PQgetvalue(must(itest_db(),
                                            "INSERT INTO categories (tenant_id, name) "
                                            "VALUES ($1, $2) RETURNING id",
                                            2, p),
                                       0, 0));
}

/* A client-safe message never carries SQL, libpq text or constraint names. */
static void assert_msg_is_clean(const struct app_err *err)
{
    static const char *const words[] = {
        "INSERT",   "SELECT", "DELETE", "UPDATE",     "ERROR",    "duplicate key", "constraint",
        "violates", "_key",   "_fkey",  "categories", "products", "units",         NULL};
    int i;

    CU_ASSERT(err->msg[0] != '\0');
    for (i = 0; words[i]; i++)
        CU_ASSERT_PTR_NULL(strstr(err->msg, words[i]));
    /* ...while the log-only detail keeps the server's text. */
    CU_ASSERT(err->detail[0] != '\0');
}

static void test_db_exec_stores_sql_metacharacters_verbatim(void)
{
    const char *tenant = tenant_str("dbmeta");
    const char *nasty = "x'); DROP TABLE tenants; -- $1 \\ \"%s%n\" \xc3\xa9";
    const char *p[3] = {tenant, nasty, NULL};
    PGresult *res;
    const char *id;

    res = must(itest_db(),
               "INSERT INTO categories (tenant_id, name, description) VALUES ($1, $2, $3) "
               "RETURNING id",
               3, p);
    CU_ASSERT_EQUAL(PQntuples(res), 1);
    id = PQgetvalue(res, 0, 0);
    p[1] = id;
    res = must(itest_db(),
               "SELECT name, description FROM categories WHERE tenant_id = $1 AND id = $2", 2, p);
    CU_ASSERT_EQUAL_FATAL(PQntuples(res), 1);
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), nasty);
    CU_ASSERT_TRUE(PQgetisnull(res, 0, 1)); /* a NULL parameter is SQL NULL */
    /* and the tenants table is still there */
    must(itest_db(), "SELECT count(*) FROM tenants", 0, NULL);
}

static void test_db_unique_violation_is_conflict(void)
{
    const char *tenant = tenant_str("dbuniq");
    const char *p[2] = {tenant, "dup"};
    struct app_err err;

    make_category(tenant, "Dup");
    err_clear(&err);
    /* categories are unique per tenant whatever the case */
    CU_ASSERT_PTR_NULL(db_exec(
        itest_db(), ta, "INSERT INTO categories (tenant_id, name) VALUES ($1, $2)", 2, p, &err));
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "conflict");
    CU_ASSERT_STRING_EQUAL(err.field, "name");
    CU_ASSERT_EQUAL(err_http_status(err.code), 409);
    assert_msg_is_clean(&err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.detail, "23505"));
}

static void test_db_delete_in_use_is_conflict_in_use(void)
{
    const char *tenant = tenant_str("dbinuse");
    const char *unit = make_unit(tenant, "Kilogram");
    const char *p[3] = {tenant, unit, NULL};
    struct app_err err;

    must(itest_db(),
         "INSERT INTO products (tenant_id, sku, name, uom_id) VALUES ($1, 'SKU-1', 'Flour', $2)", 2,
         p);
    err_clear(&err);
    CU_ASSERT_PTR_NULL(
        db_exec(itest_db(), ta, "DELETE FROM units WHERE tenant_id = $1 AND id = $2", 2, p, &err));
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "in_use");
    assert_msg_is_clean(&err);
    /* the unit is still there */
    CU_ASSERT_EQUAL(
        PQntuples(must(itest_db(), "SELECT 1 FROM units WHERE tenant_id = $1 AND id = $2", 2, p)),
        1);
}

static void test_db_cross_tenant_reference_is_rejected(void)
{
    const char *a = tenant_str("dbxa"), *b = tenant_str("dbxb");
    const char *unit_a = make_unit(a, "Piece");
    const char *cat_a = make_category(a, "Mine");
    const char *cat_b = make_category(b, "Theirs");
    const char *p[3] = {a, unit_a, cat_b};
    struct app_err err;

    err_clear(&err);
    CU_ASSERT_PTR_NULL(db_exec(itest_db(), ta,
                               "INSERT INTO products (tenant_id, sku, name, uom_id, category_id) "
                               "VALUES ($1, 'X-1', 'Stolen', $2, $3)",
                               3, p, &err));
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "in_use");
    CU_ASSERT_STRING_EQUAL(err.field, "category_id");
    assert_msg_is_clean(&err);
    CU_ASSERT_EQUAL(
        PQntuples(must(itest_db(), "SELECT 1 FROM products WHERE tenant_id = $1", 1, p)), 0);

    /* The same row with tenant A's own category goes in: the tenant was the only problem. */
    p[2] = cat_a;
    must(itest_db(),
         "INSERT INTO products (tenant_id, sku, name, uom_id, category_id) "
         "VALUES ($1, 'X-1', 'Mine', $2, $3)",
         3, p);

    /* Nor can a row of B point at A's unit of measure. */
    p[0] = b;
    p[2] = cat_b;
    err_clear(&err);
    CU_ASSERT_PTR_NULL(db_exec(itest_db(), ta,
                               "INSERT INTO products (tenant_id, sku, name, uom_id, category_id) "
                               "VALUES ($1, 'X-2', 'Stolen', $2, $3)",
                               3, p, &err));
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err.field, "uom_id");
}

static void test_db_check_and_data_errors_are_invalid(void)
{
    const char *tenant = tenant_str("dbcheck");
    const char *unit = make_unit(tenant, "Litre");
    const char *p[2] = {tenant, unit};
    struct app_err err;

    must(
        itest_db(),
        "INSERT INTO products (tenant_id, sku, name, uom_id, stock) VALUES ($1, 'L-1', 'Milk', $2, 1)",
        2, p);
    err_clear(&err);
    CU_ASSERT_PTR_NULL(db_exec(
        itest_db(), ta, "UPDATE products SET stock = stock - 2 WHERE tenant_id = $1", 1, p, &err));
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "stock");
    assert_msg_is_clean(&err);

    p[0] = "not a number";
    err_clear(&err);
    CU_ASSERT_PTR_NULL(db_exec(itest_db(), ta, "SELECT $1::numeric", 1, p, &err));
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_EQUAL(err_http_status(err.code), 422);
    CU_ASSERT_PTR_NULL(strstr(err.msg, "not a number"));
}

static void test_db_reconnects_after_own_backend_killed(void)
{
    struct db d;
    struct app_err err;
    PGresult *res;
    int pid;

    db_init(&d, itest_config()->database_url);
    must(&d, "SELECT 1", 0, NULL);
    pid = db_backend_pid(&d);
    CU_ASSERT(pid > 0);
    err_clear(&err);
    /* The statement kills its own connection: it fails (even its retry) as unavailable. */
    CU_ASSERT_PTR_NULL(
        db_exec(&d, ta, "SELECT pg_terminate_backend(pg_backend_pid())", 0, NULL, &err));
    CU_ASSERT_EQUAL(err.code, ERR_UNAVAILABLE);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "database_unavailable");
    CU_ASSERT_EQUAL(err_http_status(err.code), 503);
    CU_ASSERT_PTR_NULL(strstr(err.msg, "terminat"));
    /* The next statement gets a fresh connection. */
    res = must(&d, "SELECT pg_backend_pid()", 0, NULL);
    CU_ASSERT_NOT_EQUAL(atoi(PQgetvalue(res, 0, 0)), pid);
    CU_ASSERT_EQUAL(atomic_load(&shared_get()->db_up), 1);
    db_release(&d);
}

/* Kills the backend of victim from another connection and waits until it is gone. */
static void kill_backend(struct db *victim)
{
    const char *p[1];
    PGresult *res;

    p[0] = arena_sprintf(ta, "%d", db_backend_pid(victim));
    res = must(itest_db(), "SELECT pg_terminate_backend($1::int, 5000)", 1, p);
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "t");
}

static void test_db_retries_once_after_connection_loss(void)
{
    struct shared *sh = shared_get();
    uint64_t errors, queries;
    struct db d;
    PGresult *res;
    int pid;

    db_init(&d, itest_config()->database_url);
    must(&d, "SELECT 1", 0, NULL);
    pid = db_backend_pid(&d);
    kill_backend(&d);

    /* The server closed d's idle connection: that is seen before anything is sent, and the
     * statement goes out once, on a new connection. */
    errors = atomic_load(&sh->db_errors);
    queries = atomic_load(&sh->db_queries);
    res = must(&d, "SELECT pg_backend_pid()", 0, NULL);
    CU_ASSERT_NOT_EQUAL(atoi(PQgetvalue(res, 0, 0)), pid);
    CU_ASSERT_EQUAL(atomic_load(&sh->db_errors), errors);
    CU_ASSERT_EQUAL(atomic_load(&sh->db_queries), queries + 1);
    CU_ASSERT_FALSE(d.outcome_unknown);
    db_release(&d);
}

/* Forks a process that kills the backend of victim after delay_ms, from its own connection. */
static pid_t kill_backend_later(struct db *victim, int delay_ms)
{
    int pid = db_backend_pid(victim);
    pid_t child = fork();

    if (child == 0) {
        struct arena *a = arena_new();
        struct app_err err;
        struct db k;
        const char *p[1] = {arena_sprintf(a, "%d", pid)};

        usleep((useconds_t)delay_ms * 1000);
        db_init(&k, itest_config()->database_url);
        _exit(db_exec(&k, a, "SELECT pg_terminate_backend($1::int, 5000)", 1, p, &err) ? 0 : 1);
    }
    return child;
}

static void test_db_read_retried_when_lost_midway(void)
{
    struct shared *sh = shared_get();
    uint64_t queries;
    struct db d;
    pid_t child;
    int status;

    db_init(&d, itest_config()->database_url);
    must(&d, "SELECT 1", 0, NULL);
    child = kill_backend_later(&d, 150);
    queries = atomic_load(&sh->db_queries);
    /* Killed during the sleep: a read is run again on a new connection. */
    must(&d, "SELECT pg_sleep(0.6)", 0, NULL);
    CU_ASSERT_EQUAL(atomic_load(&sh->db_queries), queries + 2);
    CU_ASSERT_FALSE(d.outcome_unknown);
    CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    db_release(&d);
}

static void test_db_write_not_retried_when_lost_midway(void)
{
    const char *tenant = tenant_str("dbwriteloss");
    const char *p[1] = {tenant};
    struct shared *sh = shared_get();
    struct app_err err;
    uint64_t queries;
    struct db d;
    pid_t child;
    int status;

    db_init(&d, itest_config()->database_url);
    must(&d, "SELECT 1", 0, NULL);
    child = kill_backend_later(&d, 150);
    queries = atomic_load(&sh->db_queries);
    err_clear(&err);
    /* A write lost midway may have been applied: it is not sent again, and the request knows. */
    CU_ASSERT_PTR_NULL(db_exec(&d, ta,
                               "INSERT INTO categories (tenant_id, name) "
                               "SELECT $1, 'Slow write' FROM pg_sleep(0.6)",
                               1, p, &err));
    CU_ASSERT_EQUAL(err.code, ERR_UNAVAILABLE);
    CU_ASSERT_EQUAL(atomic_load(&sh->db_queries), queries + 1);
    CU_ASSERT_TRUE(d.outcome_unknown);
    CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
    /* The request ends: the flag goes with it. */
    db_request_end(&d);
    CU_ASSERT_FALSE(d.outcome_unknown);
    CU_ASSERT_EQUAL(PQntuples(must(&d,
                                   "SELECT 1 FROM categories WHERE tenant_id = $1 AND "
                                   "name = 'Slow write'",
                                   1, p)),
                    0);
    db_release(&d);
}

static void test_db_no_retry_inside_a_transaction(void)
{
    const char *tenant = tenant_str("dbtxloss");
    const char *p[2] = {tenant, "Lost"};
    struct app_err err;
    struct db d;

    db_init(&d, itest_config()->database_url);
    err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(db_begin(&d, &err), 0);
    must(&d, "INSERT INTO categories (tenant_id, name) VALUES ($1, $2)", 2, p);
    kill_backend(&d);

    CU_ASSERT_PTR_NULL(db_exec(
        &d, ta, "INSERT INTO categories (tenant_id, name) VALUES ($1, 'After')", 1, p, &err));
    CU_ASSERT_EQUAL(err.code, ERR_UNAVAILABLE);
    /* Still inside the (dead) transaction: nothing may run in autocommit behind its back. */
    err_clear(&err);
    CU_ASSERT_PTR_NULL(db_exec(
        &d, ta, "INSERT INTO categories (tenant_id, name) VALUES ($1, 'After')", 1, p, &err));
    CU_ASSERT_EQUAL(err.code, ERR_UNAVAILABLE);
    CU_ASSERT_NOT_EQUAL(db_commit(&d, &err), 0);
    db_rollback(&d);

    /* After the rollback the handle works again, and nothing of the transaction was kept. */
    CU_ASSERT_EQUAL(PQntuples(must(&d, "SELECT 1 FROM categories WHERE tenant_id = $1", 1, p)), 0);
    db_release(&d);
}

static void test_db_request_end_rolls_back_open_transaction(void)
{
    const char *tenant = tenant_str("dbreqend");
    const char *p[2] = {tenant, "Uncommitted"};
    struct db *db = itest_db();
    struct app_err err;

    err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(db_begin(db, &err), 0);
    must(db, "INSERT INTO categories (tenant_id, name) VALUES ($1, $2)", 2, p);
    CU_ASSERT_TRUE(db_in_transaction(db));
    db_request_end(db);
    CU_ASSERT_FALSE(db_in_transaction(db));
    CU_ASSERT_EQUAL(PQtransactionStatus(db->conn), PQTRANS_IDLE);
    CU_ASSERT_EQUAL(PQntuples(must(db, "SELECT 1 FROM categories WHERE tenant_id = $1", 1, p)), 0);

    /* Also a transaction opened behind db's back, and one in the failed state. */
    must(db, "BEGIN", 0, NULL);
    must(db, "INSERT INTO categories (tenant_id, name) VALUES ($1, $2)", 2, p);
    CU_ASSERT_PTR_NULL(db_exec(db, ta, "SELECT 1/0", 0, NULL, &err));
    CU_ASSERT_EQUAL(PQtransactionStatus(db->conn), PQTRANS_INERROR);
    db_request_end(db);
    CU_ASSERT_EQUAL(PQtransactionStatus(db->conn), PQTRANS_IDLE);
    CU_ASSERT_EQUAL(PQntuples(must(db, "SELECT 1 FROM categories WHERE tenant_id = $1", 1, p)), 0);
}

static void test_db_commit_of_failed_transaction_fails(void)
{
    const char *tenant = tenant_str("dbfailtx");
    const char *p[2] = {tenant, "Kept?"};
    struct db *db = itest_db();
    struct app_err err;

    err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(db_begin(db, &err), 0);
    must(db, "INSERT INTO categories (tenant_id, name) VALUES ($1, $2)", 2, p);
    CU_ASSERT_PTR_NULL(db_exec(db, ta, "SELECT 1/0", 0, NULL, &err));
    CU_ASSERT_EQUAL(err.code, ERR_INVALID); /* 22012 division by zero */
    CU_ASSERT_NOT_EQUAL(db_commit(db, &err), 0);
    CU_ASSERT_FALSE(db_in_transaction(db));
    CU_ASSERT_EQUAL(PQntuples(must(db, "SELECT 1 FROM categories WHERE tenant_id = $1", 1, p)), 0);

    /* and a good one commits */
    CU_ASSERT_EQUAL_FATAL(db_begin(db, &err), 0);
    must(db, "INSERT INTO categories (tenant_id, name) VALUES ($1, $2)", 2, p);
    CU_ASSERT_EQUAL(db_commit(db, &err), 0);
    CU_ASSERT_EQUAL(PQntuples(must(db, "SELECT 1 FROM categories WHERE tenant_id = $1", 1, p)), 1);
}

static void test_db_query_counter_counts_each_statement(void)
{
    struct shared *sh = shared_get();
    struct db *db = itest_db();
    struct app_err err;
    uint64_t q0, e0;

    must(db, "SELECT 1", 0, NULL); /* connected */
    q0 = atomic_load(&sh->db_queries);
    e0 = atomic_load(&sh->db_errors);
    must(db, "SELECT 1", 0, NULL);
    CU_ASSERT_EQUAL(atomic_load(&sh->db_queries), q0 + 1);
    must(db, "SELECT 2", 0, NULL);
    must(db, "SELECT 3", 0, NULL);
    CU_ASSERT_EQUAL(atomic_load(&sh->db_queries), q0 + 3);
    CU_ASSERT_EQUAL(atomic_load(&sh->db_errors), e0);

    /* A failing statement is one query and one error. */
    err_clear(&err);
    CU_ASSERT_PTR_NULL(db_exec(db, ta, "SELECT 1/0", 0, NULL, &err));
    CU_ASSERT_EQUAL(atomic_load(&sh->db_queries), q0 + 4);
    CU_ASSERT_EQUAL(atomic_load(&sh->db_errors), e0 + 1);

    /* BEGIN and COMMIT are statements too. */
    CU_ASSERT_EQUAL_FATAL(db_begin(db, &err), 0);
    must(db, "SELECT 1", 0, NULL);
    CU_ASSERT_EQUAL_FATAL(db_commit(db, &err), 0);
    CU_ASSERT_EQUAL(atomic_load(&sh->db_queries), q0 + 7);
}

static void test_db_ping_measures_latency(void)
{
    struct app_err err;
    double ms = -1;

    err_clear(&err);
    CU_ASSERT_EQUAL(db_ping(itest_db(), &ms, &err), 0);
    CU_ASSERT(ms >= 0 && ms < 5000);
}

static void test_db_unreachable_server_is_unavailable_without_secrets(void)
{
    static const char *const infos[] = {
        "postgresql://stock:s3cretpw@127.0.0.1:1/stock",
        "host=127.0.0.1 port=1 password=s3cretpw dbname",
    };
    size_t i;

    for (i = 0; i < sizeof(infos) / sizeof(infos[0]); i++) {
        struct app_err err;
        double ms;
        struct db d;

        db_init(&d, infos[i]);
        err_clear(&err);
        CU_ASSERT_PTR_NULL(db_exec(&d, ta, "SELECT 1", 0, NULL, &err));
        CU_ASSERT_EQUAL(err.code, ERR_UNAVAILABLE);
        CU_ASSERT_STRING_EQUAL(err_slug(&err), "database_unavailable");
        CU_ASSERT_PTR_NULL(strstr(err.msg, "s3cretpw"));
        CU_ASSERT_PTR_NULL(strstr(err.detail, "s3cretpw"));
        CU_ASSERT_NOT_EQUAL(db_ping(&d, &ms, &err), 0);
        CU_ASSERT_EQUAL(atomic_load(&shared_get()->db_up), 0);
        db_release(&d);
    }
    /* the real database is still fine (and db_up comes back with it) */
    must(itest_db(), "SELECT 1", 0, NULL);
    CU_ASSERT_EQUAL(atomic_load(&shared_get()->db_up), 1);
}

int test_db_register(void)
{
    CU_pSuite s = CU_add_suite("db", db_suite_setup, db_suite_teardown);

    if (!s)
        return -1;
    if (!CU_add_test(s, "exec stores SQL metacharacters verbatim",
                     test_db_exec_stores_sql_metacharacters_verbatim) ||
        !CU_add_test(s, "unique violation is conflict", test_db_unique_violation_is_conflict) ||
        !CU_add_test(s, "delete in use is conflict in_use",
                     test_db_delete_in_use_is_conflict_in_use) ||
        !CU_add_test(s, "cross-tenant reference is rejected",
                     test_db_cross_tenant_reference_is_rejected) ||
        !CU_add_test(s, "check and data errors are invalid",
                     test_db_check_and_data_errors_are_invalid) ||
        !CU_add_test(s, "reconnects after own backend killed",
                     test_db_reconnects_after_own_backend_killed) ||
        !CU_add_test(s, "retries once after connection loss",
                     test_db_retries_once_after_connection_loss) ||
        !CU_add_test(s, "a read lost midway is run again", test_db_read_retried_when_lost_midway) ||
        !CU_add_test(s, "a write lost midway is not run again",
                     test_db_write_not_retried_when_lost_midway) ||
        !CU_add_test(s, "no retry inside a transaction", test_db_no_retry_inside_a_transaction) ||
        !CU_add_test(s, "request end rolls back open transaction",
                     test_db_request_end_rolls_back_open_transaction) ||
        !CU_add_test(s, "commit of failed transaction fails",
                     test_db_commit_of_failed_transaction_fails) ||
        !CU_add_test(s, "query counter counts each statement",
                     test_db_query_counter_counts_each_statement) ||
        !CU_add_test(s, "ping measures latency", test_db_ping_measures_latency) ||
        !CU_add_test(s, "unreachable server is unavailable without secrets",
                     test_db_unreachable_server_is_unavailable_without_secrets))
        return -1;
    return 0;
}
