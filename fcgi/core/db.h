/*
 * db: the worker's one PostgreSQL connection (libpq), opened lazily and re-opened after loss.
 * Only parameterized statements ($1, $2...) go through here. This module alone maps SQLSTATE
 * to error codes: 23505 unique -> ERR_CONFLICT (slug "conflict", field from the constraint
 * name), 23503 foreign key -> ERR_CONFLICT ("in_use"), 23514 products_stock_check raised by
 * stock_move() -> ERR_CONFLICT ("insufficient_stock"), P0002 -> ERR_NOT_FOUND, 23514 check / 23502
 * not null / 22xxx data exception -> ERR_INVALID, 40001/40P01 -> ERR_CONFLICT
 * ("serialization_failure"), connection loss -> ERR_UNAVAILABLE ("database_unavailable"), anything
 * else -> ERR_INTERNAL. err->msg never holds SQL or libpq text; libpq's text goes to err->detail
 * only.
 */
#ifndef STOCK_CORE_DB_H
#define STOCK_CORE_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

#define DB_STMT_CACHE 96

struct db {
    PGconn *conn;
    char *conninfo; /* owned copy */
    /* Statements prepared on conn (server-side, "s<i>"): their SQL text, owned copies. */
    char *prepared[DB_STMT_CACHE];
    int nprepared;
    bool unnamed; /* DB_STATEMENTS=unnamed: see db_set_unnamed */
    /* application_name of the connection, "stock-" and 16 random hex digits, fixed by db_init:
     * a client's own name on whichever server connection PgBouncer gives it (db_writer) */
    char writer[24];
    bool in_tx;
    bool lost;          /* the last connection attempt or statement found the server gone */
    int64_t warn_at_ms; /* monotonic time of the last connection warning (rate limit) */
    /* This request lost the connection during a write or a COMMIT: it may have been applied. */
    bool outcome_unknown;
#ifdef STOCK_FAULT_INJECTION
    /* test builds: right after the next COMMIT, 1 SIGKILLs this process, 2 its whole host */
    int crash_after_commit;
    /* test builds: an export's FETCHes after its first fail (services/export.c) */
    bool fault_export_cut;
#endif
};

/* Prepares db for conninfo (copied); connects on first use. */
void db_init(struct db *db, const char *conninfo);
/*
 * DB_STATEMENTS=unnamed when true (call before the first statement; the default is prepared):
 * every statement goes out as the unnamed statement (PQexecParams: parsed, planned and run each
 * time) and the connection sends no `options` startup parameter. That is what works through
 * PgBouncer in transaction pooling mode, where consecutive transactions of one connection may
 * run on different server connections: a statement prepared in one may be missing, or be
 * another statement of the same name, in the next, and PgBouncer 1.18 refuses `options`.
 */
void db_set_unnamed(struct db *db, bool unnamed);
/*
 * The connection's application_name, unique to this struct db (random, kept across reconnects).
 * PgBouncer sets a client's application_name on every server connection it lends the client,
 * so SQL can tell which client wrote a row, `current_setting('application_name')`, where
 * pg_backend_pid() only names the server connection of one transaction. Overrides an
 * application_name in DATABASE_URL.
 */
const char *db_writer(const struct db *db);
/* Closes the connection and frees the copy. */
void db_release(struct db *db);

/* Connects if not connected or the connection is bad. 0, or -1 with ERR_UNAVAILABLE. */
int db_connect(struct db *db, struct app_err *err) __attribute__((warn_unused_result));

/*
 * Runs one parameterized statement (params are text, NULL = SQL NULL). A statement with
 * parameters is prepared on the connection the first time its text is seen (up to
 * DB_STMT_CACHE statements per connection) and executed from then on without being parsed
 * again; a new connection starts with none. With db_set_unnamed, nothing is prepared. The result
 * belongs to arena a (cleared at its reset). Outside a transaction a statement that fails because
 * the connection was lost is retried once on a fresh connection. Returns NULL on error.
 */
PGresult *db_exec(struct db *db, struct arena *a, const char *sql, int nparams,
                  const char *const *params, struct app_err *err)
    __attribute__((warn_unused_result));

/* Runs a parameterless statement list (migrations); not retried. 0 or -1. */
int db_exec_script(struct db *db, const char *sql, struct app_err *err)
    __attribute__((warn_unused_result));

/* Transactions. db_rollback is safe to call whatever the state and never fails the caller. */
int db_begin(struct db *db, struct app_err *err) __attribute__((warn_unused_result));
int db_commit(struct db *db, struct app_err *err) __attribute__((warn_unused_result));
void db_rollback(struct db *db);

/* Called by main after each request: rolls back a transaction a handler left open. */
void db_request_end(struct db *db);

/* SELECT 1 with its round-trip time in milliseconds. 0 or -1. */
int db_ping(struct db *db, double *latency_ms, struct app_err *err)
    __attribute__((warn_unused_result));

/* True while a transaction is open on the connection (begun by db_begin or by a statement). */
bool db_in_transaction(const struct db *db);

/* The server process id of the current connection, 0 when not connected (for tests and logs). */
int db_backend_pid(const struct db *db);

#endif
