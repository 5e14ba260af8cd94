/*
 * db: one lazily opened libpq connection per process, re-opened after loss; SQLSTATE mapping
 * to struct app_err and the database counters of /metrics. Behind PgBouncer in transaction
 * pooling mode (DB_STATEMENTS=unnamed, db_set_unnamed) nothing here relies on the server
 * connection of one transaction in the next: no named statement, no startup `options`, no
 * SET. The one setting that follows the client, application_name (db_writer), PgBouncer
 * carries over itself.
 */
#include "core/db.h"

#include <assert.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/log.h"
#include "core/shared.h"

/* Added to the connection string unless it sets its own connect_timeout. */
#define DB_CONNECT_TIMEOUT "5"
/*
 * Likewise: a statement whose bytes stay unacknowledged this long (ms) fails instead of
 * waiting for TCP to give up (about 15 minutes): a host cut off from PostgreSQL answers 503
 * within seconds (SPEC §9, degradation per host). Keepalives find a dead idle connection.
 */
#define DB_TCP_USER_TIMEOUT_MS "3000"
/* While the database stays down, repeat the connection warning at most this often. */
#define DB_WARN_INTERVAL_MS 5000

static int64_t db_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void db_pqclear(void *p)
{
    PQclear(p);
}

/* Copies libpq's multi-line text into one log-friendly line. */
static void db_oneline(char *dst, size_t n, const char *src)
{
    size_t i = 0;

    if (!n)
        return;
    for (; src && *src && i + 1 < n; src++) {
        char c = *src;

        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        if (c == ' ' && (i == 0 || dst[i - 1] == ' '))
            continue;
        dst[i++] = c;
    }
    while (i > 0 && dst[i - 1] == ' ')
        i--;
    dst[i] = '\0';
}

/* libpq prints NOTICEs to stderr by default ("relation exists, skipping"...): debug log them. */
static void db_notice(void *arg, const char *message)
{
    char line[256];

    (void)arg;
    db_oneline(line, sizeof(line), message);
    log_debug("db notice: %s", line);
}

void db_init(struct db *db, const char *conninfo)
{
    memset(db, 0, sizeof(*db));
    db->conninfo = strdup(conninfo ? conninfo : "");
    if (!db->conninfo) {
        fputs("fatal: out of memory\n", stderr);
        abort();
    }
    {
        unsigned char r[8];
        char hex[2 * sizeof(r) + 1];

        randombytes_buf(r, sizeof(r));
        sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
        snprintf(db->writer, sizeof(db->writer), "stock-%s", hex);
    }
}

const char *db_writer(const struct db *db)
{
    return db->writer;
}

void db_set_unnamed(struct db *db, bool unnamed)
{
    assert(!db->conn);
    db->unnamed = unnamed;
}

/* Forgets the statements prepared on a connection that is going away. */
static void db_forget_prepared(struct db *db)
{
    int i;

    for (i = 0; i < db->nprepared; i++)
        free(db->prepared[i]);
    db->nprepared = 0;
}

void db_release(struct db *db)
{
    db_forget_prepared(db);
    if (db->conn)
        PQfinish(db->conn);
    if (db->conninfo) {
        /* The connection string may hold a password. */
        memset(db->conninfo, 0, strlen(db->conninfo));
        free(db->conninfo);
    }
    memset(db, 0, sizeof(*db));
}

static bool db_conn_bad(const struct db *db)
{
    return !db->conn || PQstatus(db->conn) != CONNECTION_OK;
}

static int db_set_unavailable(struct app_err *err, const char *detail)
{
    err_set_full(err, ERR_UNAVAILABLE, "database_unavailable", NULL, "database unavailable");
    return err_detail(err, "%s", detail);
}

/* Records that the server went away under an open connection (logged once per outage). */
static void db_note_loss(struct db *db, const char *why)
{
    if (!db->lost)
        log_warn("database connection lost: %s", why);
    db->lost = true;
    db->warn_at_ms = db_now_ms();
    atomic_store(&shared_get()->db_up, 0);
}

/*
 * Before a statement goes out on an idle connection: the server may have closed it meanwhile
 * (a restart, an idle timeout), which shows as the socket being readable while we expect
 * nothing. Such a connection is dropped now, while reconnecting is still harmless, instead of
 * finding out after a write was sent and perhaps committed.
 */
static void db_drop_if_closed(struct db *db)
{
    struct pollfd p;

    if (db_conn_bad(db) || db->in_tx || PQtransactionStatus(db->conn) != PQTRANS_IDLE)
        return;
    p.fd = PQsocket(db->conn);
    p.events = POLLIN;
    p.revents = 0;
    if (p.fd < 0 || poll(&p, 1, 0) <= 0)
        return;
    /* Nothing is due on an idle connection (no LISTEN here): whatever came, start afresh. */
    db_note_loss(db, "the server closed the idle connection");
    db_forget_prepared(db);
    PQfinish(db->conn);
    db->conn = NULL;
}

/* A statement that cannot have changed anything, so that running it again is harmless. */
static bool db_read_only(const char *sql)
{
    return !strncmp(sql, "SELECT ", 7) || !strcmp(sql, "BEGIN");
}

/*
 * A connection string that libpq cannot parse makes libpq quote a piece of it in its error,
 * and that piece may be the password: check the syntax first and report it without the text.
 */
static bool db_conninfo_parses(const char *conninfo)
{
    PQconninfoOption *opts;
    char *errmsg = NULL;

    if (!strchr(conninfo, '=') && strncmp(conninfo, "postgresql://", 13) &&
        strncmp(conninfo, "postgres://", 11))
        return true; /* a bare database name */
    opts = PQconninfoParse(conninfo, &errmsg);
    if (errmsg)
        PQfreemem(errmsg);
    if (!opts)
        return false;
    PQconninfoFree(opts);
    return true;
}

/* The keywords and values of PQconnectdbParams, each list NULL-terminated. */
struct db_params {
    const char *keys[10];
    const char *vals[10];
    int n;
};

static void db_param(struct db_params *p, const char *key, const char *val)
{
    assert(p->n + 1 < (int)(sizeof(p->keys) / sizeof(p->keys[0])));
    p->keys[p->n] = key;
    p->vals[p->n] = val;
    p->n++;
    p->keys[p->n] = NULL;
    p->vals[p->n] = NULL;
}

/* Connects when needed; does not count errors (the public callers do). */
static int db_open(struct db *db, struct app_err *err)
{
    struct db_params p = {.n = 0};
    char msg[256];
    int64_t now;

    if (!db_conn_bad(db))
        return 0;
    /*
     * A transaction died with its connection. Reconnecting here would run the caller's next
     * statements outside any transaction: fail until it rolls back (or the request ends).
     */
    if (db->in_tx)
        return db_set_unavailable(err, "connection lost inside a transaction");
    db_forget_prepared(db);
    if (db->conn) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    if (!db_conninfo_parses(db->conninfo)) {
        snprintf(msg, sizeof(msg), "DATABASE_URL is not a valid connection string");
        goto fail;
    }
    db_param(&p, "connect_timeout", DB_CONNECT_TIMEOUT);
    db_param(&p, "tcp_user_timeout", DB_TCP_USER_TIMEOUT_MS);
    db_param(&p, "keepalives_idle", "10");
    db_param(&p, "keepalives_interval", "5");
    db_param(&p, "keepalives_count", "3");
    /*
     * Our statements are prepared once per connection (db_exec_prepared) and their plans do
     * not depend on the values: plan them once too, instead of for every execution. Unnamed
     * statements are planned each time anyway, and PgBouncer refuses the parameter.
     */
    if (!db->unnamed)
        db_param(&p, "options", "-c plan_cache_mode=force_generic_plan");
    /*
     * The defaults come before dbname: with expand_dbname the expanded connection string
     * overrides earlier keywords, so a connect_timeout (or the others) in DATABASE_URL wins.
     */
    db_param(&p, "dbname", db->conninfo);
    /* After dbname, so that it stays unique (db_writer). */
    db_param(&p, "application_name", db->writer);
    db->conn = PQconnectdbParams(p.keys, p.vals, 1);
    if (!db->conn) {
        snprintf(msg, sizeof(msg), "out of memory");
        goto fail;
    }
    if (PQstatus(db->conn) != CONNECTION_OK) {
        db_oneline(msg, sizeof(msg), PQerrorMessage(db->conn));
        PQfinish(db->conn);
        db->conn = NULL;
        goto fail;
    }
    PQsetNoticeProcessor(db->conn, db_notice, NULL);
    /*
     * Connected is not yet back: PgBouncer accepts a client while it cannot reach PostgreSQL
     * and fails its first statement ("server login has been failing"). The outage ends, and
     * db->lost with it, when a statement succeeds (db_run), so it is logged once either way.
     */
    return 0;

fail:
    now = db_now_ms();
    if (!db->lost || now - db->warn_at_ms >= DB_WARN_INTERVAL_MS) {
        log_warn("cannot connect to database: %s", msg);
        db->warn_at_ms = now;
    }
    db->lost = true;
    atomic_store(&shared_get()->db_up, 0);
    return db_set_unavailable(err, msg);
}

int db_connect(struct db *db, struct app_err *err)
{
    if (db_open(db, err)) {
        atomic_fetch_add(&shared_get()->db_errors, 1);
        return -1;
    }
    return 0;
}

/*
 * The offending field of a constraint violation, from our naming convention
 * "<table>_[tenant_id_]<column>_<key|fkey|check>" (see sql/001_schema.sql): products_sku_key
 * gives "sku". Anything that does not follow it gives "".
 */
static void db_field_of(const PGresult *res, char *out, size_t n)
{
    static const char *const suffixes[] = {"_fkey", "_key", "_check", NULL};
    const char *c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    const char *t = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
    size_t tl, len = 0, i;
    bool matched = false;

    out[0] = '\0';
    if (!c || !t)
        return;
    tl = strlen(t);
    if (strncmp(c, t, tl) || c[tl] != '_')
        return;
    c += tl + 1;
    if (!strncmp(c, "tenant_id_", 10))
        c += 10;
    len = strlen(c);
    for (i = 0; suffixes[i]; i++) {
        size_t sl = strlen(suffixes[i]);

        if (len > sl && !strcmp(c + len - sl, suffixes[i])) {
            len -= sl;
            matched = true;
            break;
        }
    }
    if (!matched || len >= n || (len == 2 && !strncmp(c, "id", 2)))
        return;
    for (i = 0; i < len; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
            return;
    memcpy(out, c, len);
    out[len] = '\0';
}

static bool db_state_is(const char *state, const char *code)
{
    return state && !strcmp(state, code);
}

static bool db_constraint_is(const PGresult *res, const char *name)
{
    const char *c = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;

    return c && !strcmp(c, name);
}

/* Connection exceptions, shutdowns and "too many connections": the server, not the query. */
static bool db_state_unavailable(const char *state)
{
    return state && (!strncmp(state, "08", 2) || !strcmp(state, "57P01") ||
                     !strcmp(state, "57P02") || !strcmp(state, "57P03") || !strcmp(state, "53300"));
}

static bool db_serialization_failure(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    return db_state_is(state, "40001") || db_state_is(state, "40P01");
}

/* The one place that turns a failed statement into a client-safe error. */
static void db_map_error(const struct db *db, const PGresult *res, struct app_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *text = res ? PQresultErrorMessage(res) : "";
    char field[64], line[200];

    if ((!text || !*text) && db->conn)
        text = PQerrorMessage(db->conn);
    db_oneline(line, sizeof(line), text);
    field[0] = '\0';

    if (db_conn_bad(db) || db_state_unavailable(state)) {
        err_set_full(err, ERR_UNAVAILABLE, "database_unavailable", NULL, "database unavailable");
    } else if (db_state_is(state, "23505")) {
        db_field_of(res, field, sizeof(field));
        if (field[0])
            err_set_full(err, ERR_CONFLICT, "conflict", field, "%s already exists", field);
        else
            err_set_full(err, ERR_CONFLICT, "conflict", NULL, "record already exists");
    } else if (db_state_is(state, "23503")) {
        const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

        /*
         * Same code both ways (the contract of db.h); only the wording and the field tell an
         * insert that points at a missing row from a delete of a row still referenced. The
         * English text is a best effort: a translated server gets the generic wording.
         */
        if (primary && !strncmp(primary, "insert or update on table", 25)) {
            db_field_of(res, field, sizeof(field));
            err_set_full(err, ERR_CONFLICT, "in_use", field[0] ? field : NULL,
                         "referenced record does not exist");
        } else {
            err_set_full(err, ERR_CONFLICT, "in_use", NULL, "record is in use");
        }
    } else if (db_state_is(state, "23514") && db_constraint_is(res, "products_stock_check") &&
               !PQresultErrorField(res, PG_DIAG_TABLE_NAME)) {
        /* Raised by stock_move() (sql/009), which names the constraint but no table. */
        err_set_full(err, ERR_CONFLICT, "insufficient_stock", "quantity", "not enough stock");
    } else if (db_state_is(state, "P0002")) {
        /* stock_move(): no such product of the tenant; the caller names what is missing. */
        err_set_full(err, ERR_NOT_FOUND, NULL, NULL, "not found");
    } else if (db_state_is(state, "23514")) {
        db_field_of(res, field, sizeof(field));
        if (field[0])
            err_set_full(err, ERR_INVALID, NULL, field, "invalid value for %s", field);
        else
            err_set_full(err, ERR_INVALID, NULL, NULL, "invalid value");
    } else if (db_state_is(state, "23502")) {
        const char *col = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);

        snprintf(field, sizeof(field), "%s", col ? col : "");
        if (field[0])
            err_set_full(err, ERR_INVALID, NULL, field, "%s is required", field);
        else
            err_set_full(err, ERR_INVALID, NULL, NULL, "a required value is missing");
    } else if (state && !strncmp(state, "22", 2)) {
        err_set_full(err, ERR_INVALID, NULL, NULL, "invalid value");
    } else if (db_serialization_failure(res)) {
        err_set_full(err, ERR_CONFLICT, "serialization_failure", NULL,
                     "concurrent update, please retry");
    } else if (db_state_is(state, "57014")) {
        err_set_full(err, ERR_UNAVAILABLE, "database_timeout", NULL, "database timed out");
    } else {
        err_set_full(err, ERR_INTERNAL, NULL, NULL, "database error");
    }
    err_detail(err, "sqlstate=%s %s", state ? state : "none", line);
}

/*
 * Executes sql with params, prepared: the name of a statement is its index in db->prepared,
 * found by its text (callers pass constant SQL, so the list stays small). When preparing
 * fails (a syntax error, say) the statement runs unprepared so the caller gets the server's
 * error as usual; when the cache is full, new statements run unprepared too.
 */
static PGresult *db_exec_prepared(struct db *db, const char *sql, int nparams,
                                  const char *const *params)
{
    char name[16];
    int i;

    for (i = 0; i < db->nprepared; i++)
        if (!strcmp(db->prepared[i], sql))
            break;
    if (i == db->nprepared) {
        PGresult *prep;
        bool ok;

        if (i == DB_STMT_CACHE)
            return PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
        snprintf(name, sizeof(name), "s%d", i);
        prep = PQprepare(db->conn, name, sql, nparams, NULL);
        ok = prep && PQresultStatus(prep) == PGRES_COMMAND_OK;
        PQclear(prep);
        if (!ok || !(db->prepared[i] = strdup(sql)))
            return PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
        db->nprepared++;
    }
    snprintf(name, sizeof(name), "s%d", i);
    return PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
}

/*
 * Runs one statement (script: a parameterless statement list via PQexec) and returns the
 * result, which the caller clears, or NULL with err. Outside a transaction a statement that
 * failed on a serialization failure or deadlock, or a read-only one (db_read_only) that failed
 * because the connection was lost, is run once more (on a fresh connection). Every attempt
 * counts as a query.
 */
static PGresult *db_run(struct db *db, const char *sql, int nparams, const char *const *params,
                        bool script, struct app_err *err)
{
    struct shared *sh = shared_get();
    PGresult *res = NULL;
    int attempt;

    for (attempt = 0;; attempt++) {
        ExecStatusType st;
        bool in_tx, retry = false;

        db_drop_if_closed(db);
        if (db_open(db, err))
            goto fail;
        in_tx = db->in_tx || PQtransactionStatus(db->conn) != PQTRANS_IDLE;
        atomic_fetch_add(&sh->db_queries, 1);
        if (script)
            res = PQexec(db->conn, sql);
        else if (nparams > 0 && !db->unnamed)
            res = db_exec_prepared(db, sql, nparams, params);
        else
            res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
        st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            if (db->lost)
                log_info("database connection re-established");
            db->lost = false;
            atomic_store(&sh->db_up, 1);
            return res;
        }
        if (db_conn_bad(db)) {
            char why[200];

            db_oneline(why, sizeof(why), PQerrorMessage(db->conn));
            db_note_loss(db, why);
            /*
             * A lost transaction cannot be replayed here: its earlier statements are gone. A
             * write sent outside one, or a COMMIT, may have been applied before the connection
             * died: it is not run again (that could apply it twice), and the request is marked
             * so that the cache is renewed (its invalidation may be missing).
             */
            retry = !in_tx && !script && db_read_only(sql);
            if (!db_read_only(sql) && (!in_tx || !strcmp(sql, "COMMIT")))
                db->outcome_unknown = true;
        } else {
            retry = !in_tx && !script && db_serialization_failure(res);
        }
        if (retry && attempt == 0) {
            PQclear(res);
            res = NULL;
            continue;
        }
        db_map_error(db, res, err);
        PQclear(res);
        goto fail;
    }
fail:
    atomic_fetch_add(&sh->db_errors, 1);
    return NULL;
}

PGresult *db_exec(struct db *db, struct arena *a, const char *sql, int nparams,
                  const char *const *params, struct app_err *err)
{
    PGresult *res;

    assert(a && sql && nparams >= 0);
    res = db_run(db, sql, nparams, params, false, err);
    if (res)
        arena_defer(a, db_pqclear, res);
    return res;
}

int db_exec_script(struct db *db, const char *sql, struct app_err *err)
{
    PGresult *res = db_run(db, sql, 0, NULL, true, err);

    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

int db_begin(struct db *db, struct app_err *err)
{
    PGresult *res;

    if (db_in_transaction(db)) {
        atomic_fetch_add(&shared_get()->db_errors, 1);
        err_set(err, ERR_INTERNAL, "database error");
        return err_detail(err, "db_begin: a transaction is already open");
    }
    res = db_run(db, "BEGIN", 0, NULL, false, err);
    if (!res)
        return -1;
    PQclear(res);
    db->in_tx = true;
    return 0;
}

int db_commit(struct db *db, struct app_err *err)
{
    PGresult *res;
    bool rolled_back;

    if (!db->in_tx) {
        atomic_fetch_add(&shared_get()->db_errors, 1);
        err_set(err, ERR_INTERNAL, "database error");
        return err_detail(err, "db_commit: no transaction is open");
    }
    res = db_run(db, "COMMIT", 0, NULL, false, err);
    db->in_tx = false;
    if (!res)
        return -1;
    /* COMMIT of a transaction in which a statement failed "succeeds" as a ROLLBACK. */
    rolled_back = !strcmp(PQcmdStatus(res), "ROLLBACK");
    PQclear(res);
    if (rolled_back) {
        atomic_fetch_add(&shared_get()->db_errors, 1);
        err_set(err, ERR_INTERNAL, "database error");
        return err_detail(err, "db_commit: the transaction had failed and was rolled back");
    }
#ifdef STOCK_FAULT_INJECTION
    /* Test builds only (make VARIANT=asan): die where a crash hurts most, after the COMMIT and
     * before the write's cache invalidation (see core/cache_outbox.c). */
    if (db->crash_after_commit == 2 && getpgrp() == getppid())
        kill(0, SIGKILL); /* the pool is its own process group (setsid): the whole host dies */
    if (db->crash_after_commit)
        raise(SIGKILL);
#endif
    return 0;
}

void db_rollback(struct db *db)
{
    PGresult *res;

    db->in_tx = false;
    if (db_conn_bad(db) || PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return;
    atomic_fetch_add(&shared_get()->db_queries, 1);
    res = PQexec(db->conn, "ROLLBACK");
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        char why[200];

        atomic_fetch_add(&shared_get()->db_errors, 1);
        db_oneline(why, sizeof(why), PQerrorMessage(db->conn));
        if (db_conn_bad(db))
            db_note_loss(db, why);
        else
            log_warn("cannot roll back: %s", why);
    }
    PQclear(res);
}

void db_request_end(struct db *db)
{
    if (!db_conn_bad(db) && PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
        log_warn("rolling back a transaction the request left open");
        db_rollback(db);
    }
    db->in_tx = false;
    db->outcome_unknown = false;
#ifdef STOCK_FAULT_INJECTION
    db->crash_after_commit = 0;
    db->fault_export_cut = false;
#endif
}

int db_ping(struct db *db, double *latency_ms, struct app_err *err)
{
    struct timespec t0, t1;
    PGresult *res;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    res = db_run(db, "SELECT 1", 0, NULL, false, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!res)
        return -1;
    PQclear(res);
    if (latency_ms)
        *latency_ms =
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    return 0;
}

bool db_in_transaction(const struct db *db)
{
    if (db->in_tx)
        return true;
    if (db_conn_bad(db))
        return false;
    return PQtransactionStatus(db->conn) != PQTRANS_IDLE;
}

int db_backend_pid(const struct db *db)
{
    return db_conn_bad(db) ? 0 : PQbackendPID(db->conn);
}
