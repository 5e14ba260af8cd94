/*
 * itest: shared helpers of the integration suites (real PostgreSQL and Redis started by
 * tests/run_all.sh). The environment gives DATABASE_URL, REDIS_URL and STOCK_TEST_REDISCTL
 * (a command: "stop", "start", "restart", "pause MS", "unpause", "cli ARGS..." on the test Redis).
 */
#ifndef STOCK_TESTS_ITEST_H
#define STOCK_TESTS_ITEST_H

#include <stdint.h>

#include "core/arena.h"
#include "core/cache.h"
#include "core/config.h"
#include "core/db.h"

/* The configuration of the test run (environment, no .env), loaded once. Aborts if invalid. */
const struct config *itest_config(void);

/* A process-wide db handle on DATABASE_URL (connected lazily). */
struct db *itest_db(void);

/* Runs "$STOCK_TEST_REDISCTL args" and returns its exit status (0 = ok). */
int itest_redisctl(const char *args);

/* Creates a tenant with a unique slug made from prefix; returns its id (aborts on failure). */
int64_t itest_tenant(const char *prefix);

/* The slug of tenant id, in the arena (aborts if there is none). */
const char *itest_slug(struct arena *a, int64_t id);

/*
 * Adds a user of tenant with email, role and password (hashed with argon2id as stockctl does).
 * 0, or -1 when it cannot be made.
 */
int itest_user(int64_t tenant, const char *email, const char *password, const char *role);

/*
 * A connection of the test's own to the test Redis (REDIS_URL's address, password and db), for
 * checks behind the cache's back; the caller frees it. NULL or ->err set when it failed.
 */
struct redisContext;
struct redisContext *itest_redis_connect(void);

/* Milliseconds on the monotonic clock. */
int64_t itest_now_ms(void);

/*
 * In a forked child that plays another host of a fleet: a trust of its own and an id of its
 * own in cache_hosts (a fork copies the parent's private shared block, id included).
 */
void itest_become_other_host(void);

/* Suites: each registers its CUnit suite(s); returns 0 or -1. */
int test_cache_register(void);
int test_db_register(void);
int test_catalog_register(void);
int test_auth_register(void);
int test_sales_register(void);
int test_dispatch_register(void);
int test_tenant_register(void);

#endif
