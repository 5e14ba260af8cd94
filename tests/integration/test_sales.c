/*
 * test_sales: sales, payments and the balance series through the service layer against the
 * real PostgreSQL and Redis: draft totals and references, all-or-none confirmation and its
 * ledger, cancellation, payments and Idempotency-Key, races between real parallel clients
 * (forked processes, each with its own connections), the balance series checked against an
 * independent computation over the raw rows, cache freshness after every write, and tenant
 * isolation.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/jsonx.h"
#include "itest.h"
#include "services/balance.h"
#include "services/catalog.h"
#include "services/payments.h"
#include "services/reports.h"
#include "services/returns.h"
#include "services/sales.h"

/* PARAMS("a", "b") expands to the count and the array of a db_exec-style parameter list. */
/* clang-format off */
#define NPARAMS(...) ((int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)))
#define PARAMS(...)  NPARAMS(__VA_ARGS__), (const char *const[]){__VA_ARGS__}
/* clang-format on */

#define MAX_CHILDREN 16

static struct config cf;
static struct cache cache;
static struct arena *arena;
static int64_t ta, tb;
static unsigned name_seq;

static int suite_init(void)
{
    cf = *itest_config();
    cf.redis_socket_timeout_ms = 500;
    cf.redis_connect_timeout_ms = 500;
    cache_init(&cache, &cf, itest_db());
    arena = arena_new();
    ta = itest_tenant("sales-a");
    tb = itest_tenant("sales-b");
    return 0;
}

static int suite_clean(void)
{
    cache_release(&cache);
    arena_free(arena);
    return 0;
}

static void test_setup(void)
{
    arena_reset(arena);
}

static void test_teardown(void)
{
}

static struct catalog cat(int64_t tenant)
{
    struct catalog c = {.db = itest_db(), .cache = &cache, .a = arena, .tenant = tenant};

    return c;
}

static const char *i64s(int64_t v)
{
    return arena_sprintf(arena, "%" PRId64, v);
}

/* A name unique in this run (SKUs, Idempotency-Keys). */
static const char *uniq(const char *prefix)
{
    return arena_sprintf(arena, "%s-%ld-%u", prefix, (long)getpid(), name_seq++);
}

/* Runs a statement on the test's own connection; NULL (and a message) on error. */
static PGresult *sql(const char *q, int n, const char *const *p)
{
    struct app_err err;
    PGresult *res = db_exec(itest_db(), arena, q, n, p, &err);

    if (!res)
        fprintf(stderr, "test_sales: query failed: %s (%s)\n", err.msg, err.detail);
    return res;
}

/* The first cell of a query: "(error)", "(none)" without a row, "(null)" for SQL NULL. */
static const char *sql_val(const char *q, int n, const char *const *p)
{
    PGresult *res = sql(q, n, p);

    if (!res)
        return "(error)";
    if (PQntuples(res) < 1)
        return "(none)";
    if (PQgetisnull(res, 0, 0))
        return "(null)";
    return arena_strdup(arena, PQgetvalue(res, 0, 0));
}

static int64_t sql_i64(const char *q, int n, const char *const *p)
{
    const char *v = sql_val(q, n, p);

    return (*v >= '0' && *v <= '9') || *v == '-' ? strtoll(v, NULL, 10) : -999999;
}

static json_object *parse(const struct catalog_out *out)
{
    struct app_err err;
    json_object *o = out->json ? jsonx_parse(arena, out->json, out->len, &err) : NULL;

    CU_ASSERT_PTR_NOT_NULL(o);
    return o;
}

/* The value at a dotted path as a string, "null" for JSON null, "(missing)" when absent. */
static const char *jget(json_object *o, const char *path)
{
    char buf[128], *save = NULL, *part;
    json_object *v = o;

    if (!o)
        return "(missing)";
    snprintf(buf, sizeof(buf), "%s", path);
    for (part = strtok_r(buf, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
        if (!v)
            return "(missing)";
        if (!json_object_object_get_ex(v, part, &v))
            return "(missing)";
    }
    return v ? json_object_get_string(v) : "null";
}

static const char *field(const struct catalog_out *out, const char *path)
{
    return jget(parse(out), path);
}

static int64_t id_of(const struct catalog_out *out)
{
    const char *s = field(out, "id");

    return strtoll(s, NULL, 10) > 0 ? strtoll(s, NULL, 10) : -1;
}

/* "12.34" from cents, computed here (not by the code under test). */
static const char *cents(int64_t v)
{
    int64_t a = v < 0 ? -v : v;

    return arena_sprintf(arena, "%s%" PRId64 ".%02" PRId64, v < 0 ? "-" : "", a / 100, a % 100);
}

static int64_t make_product(struct catalog *c, const char *sku, int64_t price, int64_t stock)
{
    struct product_in in;
    struct catalog_out out;
    struct app_err err;
    const char *u = sql_val("SELECT coalesce(min(id)::text, '') FROM units WHERE tenant_id = $1",
                            PARAMS(i64s(c->tenant)));
    int64_t uom;

    if (!*u) {
        struct uom_in uin = {"Unit", "u"};

        CU_ASSERT_EQUAL_FATAL(catalog_uom_create(c, &uin, &out, &err), 0);
        uom = id_of(&out);
    } else {
        uom = strtoll(u, NULL, 10);
    }
    memset(&in, 0, sizeof(in));
    in.sku = sku;
    in.name = sku;
    in.uom_id = uom;
    in.has_price = true;
    in.price = price;
    in.has_cost = true;
    in.has_stock = true;
    in.stock = stock;
    in.has_min_stock = true;
    if (catalog_product_create(c, &in, &out, &err)) {
        fprintf(stderr, "make_product: %s %s (%s)\n", err_slug(&err), err.msg, err.detail);
        CU_FAIL_FATAL("product create failed");
    }
    return id_of(&out);
}

/* A draft with the given lines; its JSON in *out when out is not NULL. */
static int64_t make_sale(struct catalog *c, struct sale_line_in *lines, size_t n,
                         struct catalog_out *out)
{
    struct sale_in in = {"Customer", lines, n};
    struct catalog_out tmp;
    struct app_err err;

    if (!out)
        out = &tmp;
    if (sales_create(c, &in, out, &err)) {
        fprintf(stderr, "make_sale: %s %s (%s)\n", err_slug(&err), err.msg, err.detail);
        CU_FAIL_FATAL("sale create failed");
    }
    return id_of(out);
}

/* A draft of qty whole units of one product at its price. */
static int64_t draft1(struct catalog *c, int64_t pid, int64_t qty)
{
    struct sale_line_in line = {pid, qty * 1000, -1};

    return make_sale(c, &line, 1, NULL);
}

static void confirm_ok(struct catalog *c, int64_t id, const struct payment_in *pay)
{
    struct catalog_out out;
    struct app_err err;

    if (sales_confirm(c, id, pay, &out, &err)) {
        fprintf(stderr, "confirm_ok: sale %" PRId64 ": %s %s (%s)\n", id, err_slug(&err), err.msg,
                err.detail);
        CU_FAIL("sale confirm failed");
    }
}

static int cancel_ok(struct catalog *c, int64_t id, struct catalog_out *out)
{
    struct app_err err;

    if (sales_cancel(c, id, out, &err)) {
        fprintf(stderr, "cancel_ok: sale %" PRId64 ": %s %s (%s)\n", id, err_slug(&err), err.msg,
                err.detail);
        return -1;
    }
    return 0;
}

static int64_t pay_ok(struct catalog *c, int64_t sale, int64_t amount, enum payment_method m,
                      const char *paid_at)
{
    struct payment_in in = {sale, amount, m, paid_at, NULL};
    struct catalog_out out;
    struct app_err err;
    int status = 0;

    if (payments_create(c, &in, NULL, &status, &out, &err)) {
        fprintf(stderr, "pay_ok: sale %" PRId64 ": %s %s (%s)\n", sale, err_slug(&err), err.msg,
                err.detail);
        CU_FAIL("payment failed");
        return -1;
    }
    CU_ASSERT_EQUAL(status, 201);
    return id_of(&out);
}

static const char *stock_of(int64_t pid)
{
    return sql_val("SELECT stock::text FROM products WHERE id = $1", PARAMS(i64s(pid)));
}

static const char *status_of(int64_t sale)
{
    return sql_val("SELECT status FROM sales WHERE id = $1", PARAMS(i64s(sale)));
}

static int64_t payment_count(int64_t sale)
{
    return sql_i64("SELECT count(*) FROM payments WHERE sale_id = $1", PARAMS(i64s(sale)));
}

static const char *payment_sum(int64_t sale)
{
    return sql_val("SELECT coalesce(sum(amount), 0)::numeric(14, 2)::text FROM payments "
                   "WHERE sale_id = $1",
                   PARAMS(i64s(sale)));
}

/* The sale's ledger: "product:quantity:kind,..." in id order. */
static const char *movements_of(int64_t sale)
{
    return sql_val("SELECT coalesce(string_agg(product_id || ':' || quantity || ':' || kind, "
                   "',' ORDER BY id), '') FROM stock_movements WHERE sale_id = $1",
                   PARAMS(i64s(sale)));
}

/* Every balance_daily row of a tenant, as text (to check that nothing changed). */
static const char *balance_rows(int64_t tenant)
{
    return sql_val("SELECT coalesce(string_agg(day || ':' || sales_count || ':' || sales_cents || "
                   "':' || cash_cents || ':' || card_cents || ':' || transfer_cents, ',' ORDER BY "
                   "day), '') FROM balance_daily WHERE tenant_id = $1",
                   PARAMS(i64s(tenant)));
}

/* Today + delta days in the tenant's time zone, "YYYY-MM-DD". */
static const char *tenant_day(int64_t tenant, int delta)
{
    return sql_val("SELECT ((now() AT TIME ZONE timezone)::date + $2::int)::text FROM tenants "
                   "WHERE id = $1",
                   PARAMS(i64s(tenant), arena_sprintf(arena, "%d", delta)));
}

static void set_timezone(int64_t tenant, const char *tz)
{
    CU_ASSERT_PTR_NOT_NULL(
        sql("UPDATE tenants SET timezone = $2 WHERE id = $1", PARAMS(i64s(tenant), tz)));
}

/* The series of yesterday..tomorrow (robust to midnight) with its totals in *out. */
static int series_around_today(struct catalog *c, enum payment_method m, struct catalog_out *out)
{
    struct balance_query q = {tenant_day(c->tenant, -1), tenant_day(c->tenant, 1), GRAN_DAILY, m};
    struct app_err err;

    if (balance_series(c, &q, out, &err)) {
        fprintf(stderr, "balance_series: %s %s (%s)\n", err_slug(&err), err.msg, err.detail);
        return -1;
    }
    return 0;
}

/* ---- parallel clients ---------------------------------------------------------------------- */

/* What a child reports through the results pipe (one write, well under PIPE_BUF). */
struct child_res {
    int idx;
    int rc;
    int status;
    int code;
    char slug[48];
    int64_t id;
};

typedef int (*child_fn)(struct catalog *c, int idx, const void *ctx, int *status,
                        struct catalog_out *out, struct app_err *err);

/*
 * The body of a forked child: its own connections and arena, connected before the barrier so
 * that the race is between the service calls. Never returns and never runs CUnit or atexit
 * code (_exit): the parent's registry, connections and arena are not the child's to clean up.
 */
static void child_main(int idx, int64_t tenant, child_fn fn, const void *ctx, int ready, int gate,
                       int results)
{
    struct db db;
    struct cache ch;
    struct arena *a = arena_new();
    struct catalog c;
    struct catalog_out out;
    struct app_err err;
    struct child_res r;
    char b;
    ssize_t n;

    memset(&r, 0, sizeof(r));
    memset(&out, 0, sizeof(out));
    r.idx = idx;
    db_init(&db, cf.database_url);
    cache_init(&ch, &cf, &db);
    c = (struct catalog){.db = &db, .cache = &ch, .a = a, .tenant = tenant};
    if (db_connect(&db, &err))
        r.rc = -2;
    if (write(ready, "r", 1) != 1)
        _exit(3);
    close(ready);
    /* The barrier: blocks until the parent closes the gate's write end (EOF for everyone). */
    do {
        n = read(gate, &b, 1);
    } while (n < 0 && errno == EINTR);
    if (r.rc == 0) {
        err_clear(&err);
        r.rc = fn(&c, idx, ctx, &r.status, &out, &err);
        if (r.rc) {
            r.code = err.code;
            snprintf(r.slug, sizeof(r.slug), "%s", err_slug(&err));
        } else if (out.json) {
            struct app_err perr;
            json_object *o = jsonx_parse(a, out.json, out.len, &perr), *v;

            if (o && json_object_object_get_ex(o, "id", &v))
                r.id = json_object_get_int64(v);
        }
    }
    if (write(results, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(4);
    _exit(0);
}

static int read_full(int fd, void *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t k = read(fd, (char *)p + got, n - got);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

/*
 * Runs fn in n forked children at once (a pipe barrier releases them together) and collects
 * their results in res[0..n), ordered by child index. 0 when every child reported and exited
 * cleanly.
 */
static int run_parallel(int64_t tenant, int n, child_fn fn, const void *ctx, struct child_res *res)
{
    int ready[2], gate[2], results[2];
    pid_t pids[MAX_CHILDREN];
    int i, forked = 0, got = 0, bad = 0, status;
    char b;

    if (n > MAX_CHILDREN || pipe(ready) || pipe(gate) || pipe(results))
        return -1;
    memset(res, 0, sizeof(*res) * (size_t)n);
    fflush(stdout);
    fflush(stderr);
    for (i = 0; i < n; i++) {
        pid_t pid = fork();

        if (pid < 0)
            break;
        if (pid == 0) {
            close(ready[0]);
            close(gate[1]);
            close(results[0]);
            child_main(i, tenant, fn, ctx, ready[1], gate[0], results[1]);
        }
        pids[forked++] = pid;
    }
    close(ready[1]);
    close(gate[0]);
    close(results[1]);
    /* Every child connected (or gone: EOF once all ready ends are closed), then go. */
    for (i = 0; i < forked && read(ready[0], &b, 1) == 1; i++)
        ;
    close(ready[0]);
    close(gate[1]);
    for (;;) {
        struct child_res r;

        if (read_full(results[0], &r, sizeof(r)))
            break;
        if (r.idx >= 0 && r.idx < n) {
            res[r.idx] = r;
            got++;
        }
    }
    close(results[0]);
    for (i = 0; i < forked; i++) {
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            bad++;
    }
    if (forked != n || got != n || bad) {
        fprintf(stderr, "run_parallel: forked %d of %d, %d results, %d bad exits\n", forked, n, got,
                bad);
        return -1;
    }
    return 0;
}

struct race_ctx {
    int64_t ids[MAX_CHILDREN];
    struct payment_in pay;
    const char *key;
};

static int child_confirm(struct catalog *c, int idx, const void *ctx, int *status,
                         struct catalog_out *out, struct app_err *err)
{
    const struct race_ctx *x = ctx;

    *status = 200;
    return sales_confirm(c, x->ids[idx], NULL, out, err);
}

static int child_pay(struct catalog *c, int idx, const void *ctx, int *status,
                     struct catalog_out *out, struct app_err *err)
{
    const struct race_ctx *x = ctx;

    (void)idx;
    return payments_create(c, &x->pay, x->key, status, out, err);
}

/* Child 0 pays x->pay, child 1 cancels the same sale. */
static int child_pay_or_cancel(struct catalog *c, int idx, const void *ctx, int *status,
                               struct catalog_out *out, struct app_err *err)
{
    const struct race_ctx *x = ctx;

    if (idx == 0)
        return payments_create(c, &x->pay, NULL, status, out, err);
    *status = 200;
    return sales_cancel(c, x->pay.sale_id, out, err);
}

/* ---- 1. drafts ----------------------------------------------------------------------------- */

static void test_sales_draft_line_totals_and_references(void)
{
    struct catalog c = cat(ta), b = cat(tb);
    int64_t p1 = make_product(&c, "DRAFT-1", 1250, 100000);
    int64_t p2 = make_product(&c, "DRAFT-2", 333, 100000);
    int64_t pb = make_product(&b, "DRAFT-B", 100, 100000);
    /* default price 12.50 x 2; explicit 9.99 x 1.5 = 14.985 -> 14.99; default 3.33 x 0.333 */
    struct sale_line_in lines[3] = {{p1, 2000, -1}, {p2, 1500, 999}, {p2, 333, -1}};
    struct sale_line_in unknown[2] = {{p1, 1000, -1}, {999999999, 1000, -1}};
    struct sale_line_in foreign[3] = {{p1, 1000, -1}, {p2, 1000, -1}, {pb, 1000, -1}};
    struct sale_line_in theirs[1] = {{p1, 1000, -1}};
    struct catalog_out out, got;
    struct app_err err;
    json_object *o, *items;
    int64_t id, nsales;
    char *first;

    id = make_sale(&c, lines, 3, &out);
    CU_ASSERT(id > 0);
    o = parse(&out);
    CU_ASSERT_STRING_EQUAL(jget(o, "status"), "draft");
    CU_ASSERT_STRING_EQUAL(jget(o, "customer"), "Customer");
    CU_ASSERT_STRING_EQUAL(jget(o, "total"), "41.10");
    CU_ASSERT_STRING_EQUAL(jget(o, "paid_total"), "0.00");
    CU_ASSERT_STRING_EQUAL(jget(o, "outstanding"), "0.00");
    CU_ASSERT_STRING_EQUAL(jget(o, "confirmed_at"), "null");
    items = json_object_object_get(o, "items");
    CU_ASSERT_FATAL(items && json_object_array_length(items) == 3);
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 0), "product.id"), i64s(p1));
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 0), "product.sku"), "DRAFT-1");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 0), "quantity"), "2.000");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 0), "unit_price"), "12.50");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 0), "line_total"), "25.00");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 1), "product.id"), i64s(p2));
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 1), "quantity"), "1.500");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 1), "unit_price"), "9.99");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 1), "line_total"), "14.99");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 2), "quantity"), "0.333");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 2), "unit_price"), "3.33");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 2), "line_total"), "1.11");
    /* a draft takes no stock */
    CU_ASSERT_STRING_EQUAL(stock_of(p1), "100.000");
    CU_ASSERT_STRING_EQUAL(movements_of(id), "");
    first = arena_strndup(arena, out.json, out.len);
    CU_ASSERT_EQUAL(sales_get(&c, id, &got, &err), 0);
    CU_ASSERT_STRING_EQUAL(got.json, first);

    /* an unknown product, and another tenant's product, name the bad line; nothing is kept */
    nsales = sql_i64("SELECT count(*) FROM sales WHERE tenant_id = $1", PARAMS(i64s(ta)));
    CU_ASSERT_EQUAL(sales_create(&c, &(struct sale_in){NULL, unknown, 2}, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "items[1].product_id");
    CU_ASSERT_EQUAL(sales_create(&c, &(struct sale_in){NULL, foreign, 3}, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "items[2].product_id");
    CU_ASSERT_EQUAL(sql_i64("SELECT count(*) FROM sales WHERE tenant_id = $1", PARAMS(i64s(ta))),
                    nsales);
    CU_ASSERT_EQUAL(sales_create(&b, &(struct sale_in){NULL, theirs, 1}, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "items[0].product_id");
}

/* ---- 2. confirmation ----------------------------------------------------------------------- */

static void test_sales_confirm_takes_stock_and_writes_ledger(void)
{
    struct catalog c = cat(ta);
    int64_t p1 = make_product(&c, "CONF-1", 200, 10000);
    int64_t p2 = make_product(&c, "CONF-2", 300, 5000);
    /* two lines of p1: one movement per product with their sum */
    struct sale_line_in lines[3] = {{p1, 3000, -1}, {p2, 2000, -1}, {p1, 1000, -1}};
    struct catalog_out out;
    struct app_err err;
    int64_t id = make_sale(&c, lines, 3, NULL);
    json_object *o;

    CU_ASSERT_EQUAL_FATAL(sales_confirm(&c, id, NULL, &out, &err), 0);
    o = parse(&out);
    CU_ASSERT_STRING_EQUAL(jget(o, "status"), "confirmed");
    CU_ASSERT_STRING_NOT_EQUAL(jget(o, "confirmed_at"), "null");
    CU_ASSERT_STRING_EQUAL(jget(o, "total"), "14.00");
    CU_ASSERT_STRING_EQUAL(jget(o, "paid_total"), "0.00");
    CU_ASSERT_STRING_EQUAL(jget(o, "outstanding"), "14.00");
    CU_ASSERT_STRING_EQUAL(stock_of(p1), "6.000");
    CU_ASSERT_STRING_EQUAL(stock_of(p2), "3.000");
    CU_ASSERT_STRING_EQUAL(movements_of(id), arena_sprintf(arena,
                                                           "%" PRId64 ":-4.000:sale,"
                                                           "%" PRId64 ":-2.000:sale",
                                                           p1, p2));
    CU_ASSERT_STRING_EQUAL(sql_val("SELECT (confirmed_at IS NOT NULL)::text FROM sales "
                                   "WHERE id = $1",
                                   PARAMS(i64s(id))),
                           "true");

    /* a second confirmation is a state conflict and takes nothing */
    CU_ASSERT_EQUAL(sales_confirm(&c, id, NULL, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "invalid_state");
    CU_ASSERT_STRING_EQUAL(stock_of(p1), "6.000");
    CU_ASSERT_STRING_EQUAL(stock_of(p2), "3.000");
    CU_ASSERT_EQUAL(
        sql_i64("SELECT count(*) FROM stock_movements WHERE sale_id = $1", PARAMS(i64s(id))), 2);
    CU_ASSERT_EQUAL(sales_confirm(&c, 999999999, NULL, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
}

static void test_sales_confirm_with_payment(void)
{
    struct catalog c = cat(ta);
    int64_t p = make_product(&c, "CONFPAY-1", 750, 10000);
    int64_t s1 = draft1(&c, p, 2), s2 = draft1(&c, p, 1);
    struct payment_in part = {0, 1000, PAY_CARD, NULL, NULL};
    struct payment_in full = {0, 750, PAY_CASH, NULL, NULL};
    struct catalog_out out;
    struct app_err err;

    CU_ASSERT_EQUAL_FATAL(sales_confirm(&c, s1, &part, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "status"), "confirmed");
    CU_ASSERT_STRING_EQUAL(field(&out, "total"), "15.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "paid_total"), "10.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "outstanding"), "5.00");
    CU_ASSERT_EQUAL(payment_count(s1), 1);
    CU_ASSERT_STRING_EQUAL(
        sql_val("SELECT method || ':' || amount FROM payments WHERE sale_id = $1",
                PARAMS(i64s(s1))),
        "card:10.00");
    CU_ASSERT_STRING_EQUAL(stock_of(p), "8.000");
    /* exactly the total is allowed */
    CU_ASSERT_EQUAL_FATAL(sales_confirm(&c, s2, &full, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "paid_total"), "7.50");
    CU_ASSERT_STRING_EQUAL(field(&out, "outstanding"), "0.00");
}

static void test_sales_confirm_payment_above_total_changes_nothing(void)
{
    int64_t t = itest_tenant("sales-above");
    struct catalog c = cat(t);
    int64_t p = make_product(&c, "ABOVE-1", 750, 10000);
    int64_t s = draft1(&c, p, 2);
    int64_t other = draft1(&c, p, 1);
    struct payment_in above = {0, 1501, PAY_CASH, NULL, NULL};
    struct catalog_out out;
    struct app_err err;
    const char *bal;

    confirm_ok(&c, other, NULL); /* so that the tenant has a balance row to compare */
    bal = balance_rows(t);
    CU_ASSERT_STRING_NOT_EQUAL(bal, "");
    CU_ASSERT_EQUAL(sales_confirm(&c, s, &above, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "payment.amount");
    CU_ASSERT_STRING_EQUAL(status_of(s), "draft");
    CU_ASSERT_STRING_EQUAL(stock_of(p), "9.000");
    CU_ASSERT_EQUAL(payment_count(s), 0);
    CU_ASSERT_STRING_EQUAL(movements_of(s), "");
    CU_ASSERT_STRING_EQUAL(balance_rows(t), bal);
    CU_ASSERT_STRING_EQUAL(
        sql_val("SELECT (confirmed_at IS NULL)::text FROM sales WHERE id = $1", PARAMS(i64s(s))),
        "true");
    /* the draft is still confirmable */
    CU_ASSERT_EQUAL(sales_confirm(&c, s, NULL, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(stock_of(p), "7.000");
}

static void test_sales_confirm_is_all_or_none(void)
{
    int64_t t = itest_tenant("sales-allnone");
    struct catalog c = cat(t);
    int64_t low = make_product(&c, "SHORT-LOW", 100, 1000); /* lowest id, 1 unit */
    int64_t ok = make_product(&c, "PLENTY", 100, 10000);    /* 10 units */
    int64_t high = make_product(&c, "SHORT-HIGH", 100, 1000);
    struct sale_line_in l1[2] = {{ok, 2000, -1}, {high, 3000, -1}};
    struct sale_line_in l2[2] = {{ok, 2000, -1}, {low, 3000, -1}};
    int64_t s1 = make_sale(&c, l1, 2, NULL), s2 = make_sale(&c, l2, 2, NULL);
    struct product_in refill;
    struct catalog_out out;
    struct app_err err;
    const char *bal = balance_rows(t);

    CU_ASSERT_EQUAL(sales_confirm(&c, s1, NULL, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "insufficient_stock");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "SHORT-HIGH"));
    CU_ASSERT_EQUAL(sales_confirm(&c, s2, NULL, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "insufficient_stock");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "SHORT-LOW"));
    /* the line that could be served was not taken either */
    CU_ASSERT_STRING_EQUAL(stock_of(ok), "10.000");
    CU_ASSERT_STRING_EQUAL(stock_of(low), "1.000");
    CU_ASSERT_STRING_EQUAL(stock_of(high), "1.000");
    CU_ASSERT_STRING_EQUAL(movements_of(s1), "");
    CU_ASSERT_STRING_EQUAL(movements_of(s2), "");
    CU_ASSERT_STRING_EQUAL(status_of(s1), "draft");
    CU_ASSERT_STRING_EQUAL(status_of(s2), "draft");
    CU_ASSERT_STRING_EQUAL(balance_rows(t), bal);
    /* once there is stock, the same draft confirms */
    memset(&refill, 0, sizeof(refill));
    refill.has_stock = true;
    refill.stock = 3000;
    CU_ASSERT_EQUAL(catalog_product_update(&c, high, &refill, false, NULL, &out, &err), 0);
    CU_ASSERT_EQUAL(sales_confirm(&c, s1, NULL, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(stock_of(ok), "8.000");
    CU_ASSERT_STRING_EQUAL(stock_of(high), "0.000");
}

/* ---- 3. concurrent confirmations ----------------------------------------------------------- */

/* rounds x (n parallel confirmations of different drafts of 1 unit each, stock units). */
static void confirm_race(int rounds, int n, int stock)
{
    int64_t t = itest_tenant("sales-race");
    struct catalog c = cat(t);
    struct child_res res[MAX_CHILDREN];
    struct race_ctx x;
    int r, i;

    for (r = 0; r < rounds; r++) {
        int64_t p = make_product(&c, uniq("RACE"), 100, (int64_t)stock * 1000);
        int ok = 0, short_ = 0, other = 0;

        memset(&x, 0, sizeof(x));
        for (i = 0; i < n; i++)
            x.ids[i] = draft1(&c, p, 1);
        CU_ASSERT_EQUAL_FATAL(run_parallel(t, n, child_confirm, &x, res), 0);
        for (i = 0; i < n; i++) {
            if (res[i].rc == 0)
                ok++;
            else if (res[i].code == ERR_CONFLICT && !strcmp(res[i].slug, "insufficient_stock"))
                short_++;
            else {
                other++;
                fprintf(stderr, "confirm_race: child %d: rc %d code %d slug %s\n", i, res[i].rc,
                        res[i].code, res[i].slug);
            }
        }
        CU_ASSERT_EQUAL(ok, stock < n ? stock : n);
        CU_ASSERT_EQUAL(short_, stock < n ? n - stock : 0);
        CU_ASSERT_EQUAL(other, 0);
        CU_ASSERT_STRING_EQUAL(stock_of(p), "0.000");
        /* the ledger adds up to the stock, one sale row per winner */
        CU_ASSERT_STRING_EQUAL(
            sql_val("SELECT sum(quantity)::text FROM stock_movements WHERE product_id = $1",
                    PARAMS(i64s(p))),
            "0.000");
        CU_ASSERT_EQUAL(sql_i64("SELECT count(*) FROM stock_movements WHERE product_id = $1 "
                                "AND kind = 'sale' AND quantity = -1",
                                PARAMS(i64s(p))),
                        ok);
        CU_ASSERT_EQUAL(sql_i64("SELECT count(*) FROM sales s WHERE tenant_id = $1 AND "
                                "status = 'confirmed' AND EXISTS (SELECT 1 FROM sale_lines l "
                                "WHERE l.sale_id = s.id AND l.product_id = $2)",
                                PARAMS(i64s(t), i64s(p))),
                        ok);
    }
    CU_ASSERT_EQUAL(sql_i64("SELECT count(*) FROM products WHERE tenant_id = $1 AND stock < 0",
                            PARAMS(i64s(t))),
                    0);
}

static void test_sales_concurrent_confirmations_never_oversell(void)
{
    confirm_race(3, 8, 5);
}

static void test_sales_race_for_the_last_unit(void)
{
    confirm_race(5, 2, 1);
}

/* ---- 4. cancellation ----------------------------------------------------------------------- */

static void test_sales_cancel(void)
{
    int64_t t = itest_tenant("sales-cancel");
    struct catalog c = cat(t);
    int64_t p = make_product(&c, "CANCEL-1", 400, 10000);
    int64_t d = draft1(&c, p, 2), s = draft1(&c, p, 3), paid = draft1(&c, p, 1);
    struct catalog_out out;
    struct app_err err;
    const char *today = tenant_day(t, 0);
    json_object *o;

    /* a draft: cancelled, nothing moves; twice is a state conflict, and so is confirming it */
    CU_ASSERT_EQUAL_FATAL(cancel_ok(&c, d, &out), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "status"), "cancelled");
    CU_ASSERT_STRING_NOT_EQUAL(field(&out, "cancelled_at"), "null");
    CU_ASSERT_STRING_EQUAL(stock_of(p), "10.000");
    CU_ASSERT_STRING_EQUAL(movements_of(d), "");
    CU_ASSERT_EQUAL(sales_cancel(&c, d, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "invalid_state");
    CU_ASSERT_EQUAL(sales_confirm(&c, d, NULL, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "invalid_state");
    CU_ASSERT_STRING_EQUAL(stock_of(p), "10.000");
    CU_ASSERT_EQUAL(sales_cancel(&c, 999999999, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);

    /* a confirmed sale with a payment cannot be cancelled */
    confirm_ok(&c, paid, &(struct payment_in){0, 100, PAY_CASH, NULL, NULL});
    CU_ASSERT_EQUAL(sales_cancel(&c, paid, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "has_payments");
    CU_ASSERT_STRING_EQUAL(status_of(paid), "confirmed");
    CU_ASSERT_STRING_EQUAL(stock_of(p), "9.000");

    /* a confirmed sale without payments: stock back, ledger, and it leaves the balance */
    CU_ASSERT_EQUAL(series_around_today(&c, PAY_ANY, &out), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_count"), "1");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_total"), "4.00");
    confirm_ok(&c, s, NULL);
    CU_ASSERT_STRING_EQUAL(stock_of(p), "6.000");
    CU_ASSERT_EQUAL(series_around_today(&c, PAY_ANY, &out), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_count"), "2");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_total"), "16.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.outstanding"), "15.00");
    CU_ASSERT_EQUAL(cancel_ok(&c, s, &out), 0);
    o = parse(&out);
    CU_ASSERT_STRING_EQUAL(jget(o, "status"), "cancelled");
    CU_ASSERT_STRING_EQUAL(jget(o, "outstanding"), "0.00");
    CU_ASSERT_STRING_EQUAL(status_of(s), "cancelled");
    CU_ASSERT_STRING_EQUAL(stock_of(p), "9.000");
    CU_ASSERT_STRING_EQUAL(movements_of(s), arena_sprintf(arena,
                                                          "%" PRId64 ":-3.000:sale,"
                                                          "%" PRId64 ":3.000:cancel",
                                                          p, p));
    CU_ASSERT_EQUAL(series_around_today(&c, PAY_ANY, &out), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_count"), "1");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_total"), "4.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.outstanding"), "3.00");
    CU_ASSERT_STRING_EQUAL(sql_val("SELECT sales_count || ':' || sales_cents FROM balance_daily "
                                   "WHERE tenant_id = $1 AND day = $2::date",
                                   PARAMS(i64s(t), today)),
                           "1:400");
    /* cancelled twice */
    CU_ASSERT_EQUAL(sales_cancel(&c, s, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "invalid_state");
    CU_ASSERT_STRING_EQUAL(stock_of(p), "9.000");
}

/* A return of qty units of pid on sale, with a refund of refund cents by cash when > 0. */
static int return1(struct catalog *c, int64_t sale, int64_t pid, int64_t qty, int64_t refund,
                   struct catalog_out *out, struct app_err *err)
{
    struct return_line_in line = {pid, qty * 1000};
    struct return_in in = {&line, 1, refund > 0, refund, PAY_CASH, NULL};
    int status = 0;

    return returns_create(c, sale, &in, NULL, &status, out, err);
}

static void test_sales_returns(void)
{
    int64_t t = itest_tenant("sales-returns");
    struct catalog c = cat(t), cb = cat(tb);
    int64_t p = make_product(&c, "RET-1", 250, 10000);
    int64_t s = draft1(&c, p, 4), d = draft1(&c, p, 1);
    struct catalog_out out;
    struct app_err err;

    confirm_ok(&c, s, &(struct payment_in){0, 600, PAY_CARD, NULL, NULL});
    CU_ASSERT_STRING_EQUAL(stock_of(p), "6.000");
    /* a draft takes none; another tenant does not see the sale */
    CU_ASSERT_EQUAL(return1(&c, d, p, 1, 0, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "invalid_state");
    CU_ASSERT_EQUAL(return1(&cb, s, p, 1, 0, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    /* 1 back with a 2.00 refund: stock, ledger, sums, the refund as a negative payment */
    CU_ASSERT_EQUAL_FATAL(return1(&c, s, p, 1, 200, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "returned_total"), "2.50");
    CU_ASSERT_STRING_EQUAL(field(&out, "refund.amount"), "2.00");
    CU_ASSERT_STRING_EQUAL(stock_of(p), "7.000");
    CU_ASSERT_STRING_EQUAL(movements_of(s), arena_sprintf(arena,
                                                          "%" PRId64 ":-4.000:sale,"
                                                          "%" PRId64 ":1.000:return",
                                                          p, p));
    CU_ASSERT_STRING_EQUAL(sql_val("SELECT string_agg(kind || ':' || amount, ',' ORDER BY id) "
                                   "FROM payments WHERE sale_id = $1",
                                   PARAMS(i64s(s))),
                           "payment:6.00,refund:-2.00");
    CU_ASSERT_EQUAL(sales_get(&c, s, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "paid_total"), "4.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "refunded_total"), "2.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "returned_total"), "2.50");
    CU_ASSERT_STRING_EQUAL(field(&out, "outstanding"), "3.50");
    /* bounds: 4 more than the 3 left; a refund above the 4.00 paid net */
    CU_ASSERT_EQUAL(return1(&c, s, p, 4, 0, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.field, "items[0].quantity");
    CU_ASSERT_EQUAL(return1(&c, s, p, 1, 401, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "overrefund");
    CU_ASSERT_STRING_EQUAL(stock_of(p), "7.000");
    /* the series: the return and the refund on today */
    CU_ASSERT_EQUAL(series_around_today(&c, PAY_ANY, &out), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_total"), "10.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.returns_total"), "2.50");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.payments_total"), "4.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.outstanding"), "3.50");
    CU_ASSERT_EQUAL(series_around_today(&c, PAY_CASH, &out), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.payments_total"), "-2.00");
    /* a sale with returns is not cancelled */
    CU_ASSERT_EQUAL(sales_cancel(&c, s, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "has_returns");
}

/* ---- 5. payments --------------------------------------------------------------------------- */

static void test_sales_payments_only_on_confirmed_sales(void)
{
    struct catalog c = cat(ta);
    int64_t p = make_product(&c, "PAYSTATE-1", 1000, 10000);
    int64_t d = draft1(&c, p, 1), x = draft1(&c, p, 1);
    struct payment_in in = {d, 100, PAY_CASH, NULL, NULL};
    struct catalog_out out;
    struct app_err err;
    int status;

    CU_ASSERT_EQUAL(payments_create(&c, &in, NULL, &status, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "invalid_state");
    CU_ASSERT_EQUAL_FATAL(sales_cancel(&c, x, &out, &err), 0);
    in.sale_id = x;
    CU_ASSERT_EQUAL(payments_create(&c, &in, NULL, &status, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "invalid_state");
    in.sale_id = 999999999;
    CU_ASSERT_EQUAL(payments_create(&c, &in, NULL, &status, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "sale_id");
    CU_ASSERT_EQUAL(payment_count(d) + payment_count(x), 0);
}

static void test_sales_payments_never_beyond_outstanding(void)
{
    struct catalog c = cat(ta);
    int64_t p = make_product(&c, "OVERPAY-1", 10000, 10000);
    int64_t s = draft1(&c, p, 1);
    struct payment_in in = {s, 6000, PAY_CASH, NULL, "r-1"};
    struct catalog_out out;
    struct app_err err;
    int status = 0;

    confirm_ok(&c, s, NULL);
    CU_ASSERT_EQUAL_FATAL(payments_create(&c, &in, NULL, &status, &out, &err), 0);
    CU_ASSERT_EQUAL(status, 201);
    CU_ASSERT_STRING_EQUAL(field(&out, "amount"), "60.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "method"), "cash");
    CU_ASSERT_STRING_EQUAL(field(&out, "sale_id"), i64s(s));
    CU_ASSERT_STRING_EQUAL(field(&out, "reference"), "r-1");
    in.amount = 5000;
    CU_ASSERT_EQUAL(payments_create(&c, &in, NULL, &status, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "overpayment");
    in.amount = 4000;
    CU_ASSERT_EQUAL(payments_create(&c, &in, NULL, &status, &out, &err), 0);
    in.amount = 1;
    CU_ASSERT_EQUAL(payments_create(&c, &in, NULL, &status, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "overpayment");
    CU_ASSERT_EQUAL(payment_count(s), 2);
    CU_ASSERT_EQUAL(sales_get(&c, s, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "paid_total"), "100.00");
    CU_ASSERT_STRING_EQUAL(field(&out, "outstanding"), "0.00");
}

static void test_sales_concurrent_payments_never_overpay(void)
{
    int64_t t = itest_tenant("sales-payrace");
    struct catalog c = cat(t);
    int64_t p = make_product(&c, "PAYRACE-1", 10000, 100000);
    struct child_res res[MAX_CHILDREN];
    struct race_ctx x;
    int r, i;

    for (r = 0; r < 3; r++) {
        int64_t s = draft1(&c, p, 1);
        int ok = 0, over = 0, other = 0;

        confirm_ok(&c, s, NULL);
        memset(&x, 0, sizeof(x));
        x.pay = (struct payment_in){s, 3000, PAY_CASH, NULL, NULL};
        CU_ASSERT_EQUAL_FATAL(run_parallel(t, 6, child_pay, &x, res), 0);
        for (i = 0; i < 6; i++) {
            if (res[i].rc == 0)
                ok++;
            else if (res[i].code == ERR_CONFLICT && !strcmp(res[i].slug, "overpayment"))
                over++;
            else {
                other++;
                fprintf(stderr, "payment race: child %d: rc %d code %d slug %s\n", i, res[i].rc,
                        res[i].code, res[i].slug);
            }
        }
        CU_ASSERT_EQUAL(ok, 3);
        CU_ASSERT_EQUAL(over, 3);
        CU_ASSERT_EQUAL(other, 0);
        CU_ASSERT_EQUAL(payment_count(s), 3);
        CU_ASSERT_STRING_EQUAL(payment_sum(s), "90.00");
        if (strcmp(payment_sum(s), "90.00"))
            fprintf(stderr,
                    "payment race: round %d: %d payments of 30.00 on a sale of 100.00, "
                    "sum %s\n",
                    r, (int)payment_count(s), payment_sum(s));
    }
}

/*
 * A payment and a cancellation of the same confirmed sale at once: one of them wins, never
 * both (a cancelled sale with a payment, or a payment on a cancelled sale).
 */
static void test_sales_payment_racing_a_cancellation(void)
{
    int64_t t = itest_tenant("sales-paycancel");
    struct catalog c = cat(t);
    int64_t p = make_product(&c, "PAYCANCEL-1", 1000, 1000000);
    struct child_res res[MAX_CHILDREN];
    struct race_ctx x;
    int r, both = 0, neither = 0;

    for (r = 0; r < 10; r++) {
        int64_t s = draft1(&c, p, 1);
        bool paid, cancelled;

        confirm_ok(&c, s, NULL);
        memset(&x, 0, sizeof(x));
        x.pay = (struct payment_in){s, 400, PAY_CASH, NULL, NULL};
        CU_ASSERT_EQUAL_FATAL(run_parallel(t, 2, child_pay_or_cancel, &x, res), 0);
        paid = res[0].rc == 0;
        cancelled = res[1].rc == 0;
        if (paid && cancelled) {
            both++;
            fprintf(stderr,
                    "payment/cancel race: round %d: both succeeded; sale %s with %d "
                    "payment(s)\n",
                    r, status_of(s), (int)payment_count(s));
        }
        neither += !paid && !cancelled;
        if (!paid)
            CU_ASSERT_STRING_EQUAL(res[0].slug, "invalid_state");
        if (!cancelled)
            CU_ASSERT_STRING_EQUAL(res[1].slug, "has_payments");
        /* the rows agree with the answers */
        CU_ASSERT_EQUAL(payment_count(s), paid ? 1 : 0);
        CU_ASSERT_STRING_EQUAL(status_of(s), cancelled ? "cancelled" : "confirmed");
    }
    CU_ASSERT_EQUAL(both, 0);
    CU_ASSERT_EQUAL(neither, 0);
    CU_ASSERT_EQUAL(sql_i64("SELECT count(*) FROM sales s WHERE tenant_id = $1 AND status = "
                            "'cancelled' AND EXISTS (SELECT 1 FROM payments y WHERE y.sale_id = "
                            "s.id)",
                            PARAMS(i64s(t))),
                    0);
}

static void test_sales_payment_paid_at_and_time_zone(void)
{
    int64_t tu = itest_tenant("sales-paidat"), ts = itest_tenant("sales-saopaulo");
    struct catalog cu = cat(tu), cs = cat(ts);
    int64_t pu = make_product(&cu, "PAIDAT-1", 5000, 10000);
    int64_t ps = make_product(&cs, "PAIDAT-2", 5000, 10000);
    int64_t su = draft1(&cu, pu, 1), ss;
    struct payment_in in = {su, 2000, PAY_CASH, "2026-01-15T10:00:00+02:00", NULL};
    struct balance_query q = {"2026-01-14", "2026-01-16", GRAN_DAILY, PAY_ANY};
    struct payment_query pq = {-1, "2026-01-14", "2026-01-14", PAY_ANY, 50, 0};
    struct catalog_out out;
    struct app_err err;
    json_object *pts;
    int status;

    confirm_ok(&cu, su, NULL);
    CU_ASSERT_EQUAL_FATAL(payments_create(&cu, &in, NULL, &status, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "paid_at"), "2026-01-15T08:00:00.000000+00:00");
    CU_ASSERT_STRING_EQUAL(
        sql_val("SELECT balance_day::text FROM payments WHERE sale_id = $1", PARAMS(i64s(su))),
        "2026-01-15");
    CU_ASSERT_EQUAL_FATAL(balance_series(&cu, &q, &out, &err), 0);
    pts = json_object_object_get(parse(&out), "points");
    CU_ASSERT_FATAL(pts && json_object_array_length(pts) == 3);
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(pts, 0), "payments_total"), "0.00");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(pts, 1), "period"), "2026-01-15");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(pts, 1), "payments_total"), "20.00");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(pts, 2), "payments_total"), "0.00");

    /* 01:30 UTC is still the 14th in São Paulo (UTC-3) */
    set_timezone(ts, "America/Sao_Paulo");
    ss = draft1(&cs, ps, 1);
    confirm_ok(&cs, ss, NULL);
    in = (struct payment_in){ss, 1000, PAY_CARD, "2026-01-15T01:30:00Z", NULL};
    CU_ASSERT_EQUAL_FATAL(payments_create(&cs, &in, NULL, &status, &out, &err), 0);
    q.to = "2026-01-15";
    CU_ASSERT_EQUAL_FATAL(balance_series(&cs, &q, &out, &err), 0);
    pts = json_object_object_get(parse(&out), "points");
    CU_ASSERT_FATAL(pts && json_object_array_length(pts) == 2);
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(pts, 0), "period"), "2026-01-14");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(pts, 0), "payments_total"), "10.00");
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(pts, 1), "payments_total"), "0.00");
    q.method = PAY_CASH;
    CU_ASSERT_EQUAL_FATAL(balance_series(&cs, &q, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.payments_total"), "0.00");
    CU_ASSERT_EQUAL(payments_list(&cs, &pq, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "total"), "1");
    pq.from = pq.to = "2026-01-15";
    CU_ASSERT_EQUAL(payments_list(&cs, &pq, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "total"), "0");

    /* a paid_at that is no timestamp names the field and records nothing */
    in.paid_at = "yesterday-ish";
    CU_ASSERT_EQUAL(payments_create(&cs, &in, NULL, &status, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "paid_at");
    CU_ASSERT_EQUAL(payment_count(ss), 1);
}

/* ---- 6. Idempotency-Key -------------------------------------------------------------------- */

static void test_sales_idempotency_key(void)
{
    struct catalog a = cat(ta), b = cat(tb);
    int64_t pa = make_product(&a, "IDEM-A", 10000, 10000);
    int64_t pb = make_product(&b, "IDEM-B", 10000, 10000);
    int64_t sa = draft1(&a, pa, 1), sb = draft1(&b, pb, 1);
    const char *key = uniq("idem");
    struct payment_in in = {sa, 2500, PAY_CASH, NULL, "ref-1"};
    struct catalog_out out;
    struct app_err err;
    int status = 0;
    char *first;
    int64_t first_id;

    confirm_ok(&a, sa, NULL);
    confirm_ok(&b, sb, NULL);
    CU_ASSERT_EQUAL_FATAL(payments_create(&a, &in, key, &status, &out, &err), 0);
    CU_ASSERT_EQUAL(status, 201);
    first = arena_strndup(arena, out.json, out.len);
    first_id = id_of(&out);
    status = 0;
    CU_ASSERT_EQUAL_FATAL(payments_create(&a, &in, key, &status, &out, &err), 0);
    CU_ASSERT_EQUAL(status, 201);
    CU_ASSERT_EQUAL(out.len, strlen(first));
    CU_ASSERT_STRING_EQUAL(arena_strndup(arena, out.json, out.len), first);
    CU_ASSERT_EQUAL(payment_count(sa), 1);
    CU_ASSERT_STRING_EQUAL(payment_sum(sa), "25.00");

    /* the same key with another body */
    in.amount = 2600;
    CU_ASSERT_EQUAL(payments_create(&a, &in, key, &status, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "idempotency_mismatch");
    in.amount = 2500;
    in.reference = "ref-2";
    CU_ASSERT_EQUAL(payments_create(&a, &in, key, &status, &out, &err), -1);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "idempotency_mismatch");
    CU_ASSERT_EQUAL(payment_count(sa), 1);

    /* keys are per tenant: B's own payment under A's key */
    in = (struct payment_in){sb, 2500, PAY_CASH, NULL, "ref-1"};
    status = 0;
    CU_ASSERT_EQUAL_FATAL(payments_create(&b, &in, key, &status, &out, &err), 0);
    CU_ASSERT_EQUAL(status, 201);
    CU_ASSERT_STRING_EQUAL(field(&out, "sale_id"), i64s(sb));
    CU_ASSERT_NOT_EQUAL(id_of(&out), first_id);
    CU_ASSERT_EQUAL(payment_count(sb), 1);
    /* and A's replay is still A's first answer */
    in = (struct payment_in){sa, 2500, PAY_CASH, NULL, "ref-1"};
    CU_ASSERT_EQUAL(payments_create(&a, &in, key, &status, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(arena_strndup(arena, out.json, out.len), first);
    CU_ASSERT_EQUAL(payment_count(sa), 1);
}

static void test_sales_idempotency_key_concurrent_retries(void)
{
    int64_t t = itest_tenant("sales-idemrace");
    struct catalog c = cat(t);
    int64_t p = make_product(&c, "IDEMRACE-1", 10000, 100000);
    struct child_res res[MAX_CHILDREN];
    struct race_ctx x;
    int r, i;

    for (r = 0; r < 3; r++) {
        int64_t s = draft1(&c, p, 1);

        confirm_ok(&c, s, NULL);
        memset(&x, 0, sizeof(x));
        x.pay = (struct payment_in){s, 1000, PAY_CARD, NULL, "retry"};
        x.key = uniq("idem-race");
        CU_ASSERT_EQUAL_FATAL(run_parallel(t, 4, child_pay, &x, res), 0);
        for (i = 0; i < 4; i++) {
            CU_ASSERT_EQUAL(res[i].rc, 0);
            CU_ASSERT_EQUAL(res[i].status, 201);
            CU_ASSERT(res[i].id > 0);
            CU_ASSERT_EQUAL(res[i].id, res[0].id);
            if (res[i].rc)
                fprintf(stderr, "idempotency race: child %d: code %d slug %s\n", i, res[i].code,
                        res[i].slug);
        }
        CU_ASSERT_EQUAL(payment_count(s), 1);
        CU_ASSERT_STRING_EQUAL(payment_sum(s), "10.00");
    }
}

/* ---- 7. the balance series against the raw rows -------------------------------------------- */

/* Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithms). */
static long civil_days(long y, long m, long d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from(long z, long *y, long *m, long *d)
{
    long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static long day_of(const char *s)
{
    long y = 0, m = 0, d = 0;

    CU_ASSERT_EQUAL(sscanf(s, "%ld-%ld-%ld", &y, &m, &d), 3);
    return civil_days(y, m, d);
}

static const char *day_str(long z)
{
    long y, m, d;

    civil_from(z, &y, &m, &d);
    return arena_sprintf(arena, "%04ld-%02ld-%02ld", y, m, d);
}

static long period_start(long z, enum balance_granularity g)
{
    long y, m, d;

    if (g == GRAN_DAILY)
        return z;
    if (g == GRAN_WEEKLY) /* 1970-01-01 was a Thursday: Monday is 3 days before */
        return z - (((z + 3) % 7) + 7) % 7;
    civil_from(z, &y, &m, &d);
    return civil_days(y, m, 1);
}

static long period_next(long start, enum balance_granularity g)
{
    long y, m, d;

    if (g == GRAN_DAILY)
        return start + 1;
    if (g == GRAN_WEEKLY)
        return start + 7;
    civil_from(start, &y, &m, &d);
    return m == 12 ? civil_days(y + 1, 1, 1) : civil_days(y, m + 1, 1);
}

struct raw_row {
    long day; /* in the tenant's zone, days since 1970-01-01 */
    int64_t cents;
    char method[16];
};

static const char *const method_names[] = {"all", "cash", "card", "transfer"};
static const char *const gran_names[] = {"daily", "weekly", "monthly"};

/*
 * Reads the series and compares every point and the totals with the expectation computed
 * here from the raw rows (confirmed sales, payments). A period's data is what falls in it
 * within from..to; outstanding is everything up to the end of the period (or to). Returns the
 * number of mismatches (printed, at most a few).
 */
static int check_series(int64_t tenant, const char *from, const char *to,
                        enum balance_granularity g, enum payment_method m,
                        const struct raw_row *sales, int nsales, const struct raw_row *pays,
                        int npays)
{
    struct catalog c = cat(tenant);
    struct balance_query q = {from, to, g, m};
    struct catalog_out out;
    struct app_err err;
    json_object *o, *points, *pt;
    long f = day_of(from), t = day_of(to), ps;
    int64_t tc = 0, ts = 0, tp = 0, outst = 0;
    int k = 0, bad = 0, i, n;
    const char *tag =
        arena_sprintf(arena, "series %s..%s %s %s", from, to, gran_names[g], method_names[m]);

    if (balance_series(&c, &q, &out, &err)) {
        fprintf(stderr, "%s: %s %s (%s)\n", tag, err_slug(&err), err.msg, err.detail);
        return 1;
    }
    o = parse(&out);
    points = o ? json_object_object_get(o, "points") : NULL;
    n = points ? (int)json_object_array_length(points) : -1;
    if (strcmp(jget(o, "from"), from) || strcmp(jget(o, "to"), to) ||
        strcmp(jget(o, "granularity"), gran_names[g]) || strcmp(jget(o, "method"), method_names[m]))
        bad++, fprintf(stderr, "%s: header %.200s\n", tag, out.json);
    for (ps = period_start(f, g); ps <= t; ps = period_next(ps, g), k++) {
        long pe = period_next(ps, g) - 1, lo = ps > f ? ps : f, hi = pe < t ? pe : t;
        int64_t sc = 0, st = 0, pm = 0, upto = 0;
        const char *want, *have;

        for (i = 0; i < nsales; i++) {
            if (sales[i].day >= lo && sales[i].day <= hi)
                sc++, st += sales[i].cents;
            if (sales[i].day <= hi)
                upto += sales[i].cents;
        }
        for (i = 0; i < npays; i++) {
            if (pays[i].day >= lo && pays[i].day <= hi &&
                (m == PAY_ANY || !strcmp(pays[i].method, method_names[m])))
                pm += pays[i].cents;
            if (pays[i].day <= hi)
                upto -= pays[i].cents;
        }
        outst = upto;
        tc += sc;
        ts += st;
        tp += pm;
        if (k >= n)
            continue;
        pt = json_object_array_get_idx(points, (size_t)k);
        want = arena_sprintf(arena, "%s %" PRId64 " %s %s %s", day_str(ps), sc, cents(st),
                             cents(pm), cents(outst));
        have = arena_sprintf(arena, "%s %s %s %s %s", jget(pt, "period"), jget(pt, "sales_count"),
                             jget(pt, "sales_total"), jget(pt, "payments_total"),
                             jget(pt, "outstanding"));
        if (strcmp(want, have)) {
            if (bad < 4)
                fprintf(stderr, "%s: point %d: expected %s, got %s\n", tag, k, want, have);
            bad++;
        }
    }
    if (k != n) {
        fprintf(stderr, "%s: expected %d points, got %d\n", tag, k, n);
        bad++;
    }
    {
        const char *want =
            arena_sprintf(arena, "%" PRId64 " %s %s %s", tc, cents(ts), cents(tp), cents(outst));
        const char *have = arena_sprintf(
            arena, "%s %s %s %s", jget(o, "totals.sales_count"), jget(o, "totals.sales_total"),
            jget(o, "totals.payments_total"), jget(o, "totals.outstanding"));

        if (strcmp(want, have)) {
            fprintf(stderr, "%s: totals: expected %s, got %s\n", tag, want, have);
            bad++;
        }
    }
    return bad;
}

/* The labels of a series, "a,b,c". */
static const char *series_labels(int64_t tenant, const char *from, const char *to,
                                 enum balance_granularity g)
{
    struct catalog c = cat(tenant);
    struct balance_query q = {from, to, g, PAY_ANY};
    struct catalog_out out;
    struct app_err err;
    json_object *points;
    const char *s = "";
    size_t i;

    if (balance_series(&c, &q, &out, &err))
        return "(error)";
    points = json_object_object_get(parse(&out), "points");
    for (i = 0; points && i < json_object_array_length(points); i++)
        s = arena_sprintf(arena, "%s%s%s", s, i ? "," : "",
                          jget(json_object_array_get_idx(points, i), "period"));
    return s;
}

static int load_rows(const char *q, int64_t tenant, struct raw_row **rows)
{
    PGresult *res = sql(q, PARAMS(i64s(tenant)));
    int i, n = res ? PQntuples(res) : 0;

    *rows = arena_alloc(arena, sizeof(**rows) * (size_t)(n + 1));
    for (i = 0; i < n; i++) {
        (*rows)[i].day = strtol(PQgetvalue(res, i, 0), NULL, 10);
        (*rows)[i].cents = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        snprintf((*rows)[i].method, sizeof((*rows)[i].method), "%s", PQgetvalue(res, i, 2));
    }
    return n;
}

#define BAL_SALES 40

static void test_sales_balance_series_matches_raw_rows(void)
{
    static const struct {
        const char *from, *to;
        enum balance_granularity g;
    } ranges[] = {
        {"2025-03-03", "2025-05-25", GRAN_DAILY},   {"2025-02-15", "2025-06-15", GRAN_DAILY},
        {"2025-03-03", "2025-05-25", GRAN_WEEKLY},  {"2025-02-17", "2025-06-29", GRAN_WEEKLY},
        {"2025-03-01", "2025-05-31", GRAN_MONTHLY}, {"2025-01-01", "2025-07-31", GRAN_MONTHLY},
    };
    static const enum payment_method methods[] = {PAY_ANY, PAY_CASH, PAY_CARD, PAY_TRANSFER};
    int64_t t = itest_tenant("sales-balance");
    struct catalog c = cat(t);
    int64_t p, ids[BAL_SALES];
    struct raw_row *sales, *pays;
    struct catalog_out out;
    int i, j, nsales, npays, zero_days = 0, bad = 0;
    long z;

    set_timezone(t, "America/Sao_Paulo");
    p = make_product(&c, "BAL-1", 1000, 100000000);
    for (i = 0; i < BAL_SALES; i++) {
        int64_t qty = 1 + i % 5, price = 1000 + 37 * i;
        struct sale_line_in line = {p, qty * 1000, price};
        struct payment_in half = {0, qty * price / 2, i % 2 ? PAY_CASH : PAY_CARD, NULL, NULL};
        const char *hours = arena_sprintf(arena, "%d", i * 55 + 1);

        ids[i] = make_sale(&c, &line, 1, NULL);
        confirm_ok(&c, ids[i], i % 3 == 0 ? &half : NULL);
        /* into the past: every hour of the day occurs, so some land on the previous local day */
        CU_ASSERT_PTR_NOT_NULL(sql(
            "WITH v AS (SELECT timestamptz '2025-02-20 00:00:00+00' + make_interval(hours => $3::int) "
            "AS at) UPDATE sales SET confirmed_at = v.at, balance_day = (v.at AT TIME ZONE "
            "'America/Sao_Paulo')::date FROM v WHERE tenant_id = $1 AND id = $2",
            PARAMS(i64s(t), i64s(ids[i]), hours)));
        CU_ASSERT_PTR_NOT_NULL(
            sql("WITH v AS (SELECT s.confirmed_at + make_interval(days => $3::int, hours => 5) "
                "AS at FROM sales s WHERE s.tenant_id = $1 AND s.id = $2) "
                "UPDATE payments SET paid_at = v.at, balance_day = (v.at AT TIME ZONE "
                "'America/Sao_Paulo')::date FROM v WHERE tenant_id = $1 AND sale_id = $2",
                PARAMS(i64s(t), i64s(ids[i]), arena_sprintf(arena, "%d", i % 4))));
    }
    CU_ASSERT_PTR_NOT_NULL(sql("SELECT stock_balance_rebuild($1)", PARAMS(i64s(t))));
    /* payments through the service, at past instants it puts on the right day itself */
    for (i = 0; i < BAL_SALES; i++) {
        const char *at_sql = "SELECT to_char((confirmed_at + $2::interval) AT TIME ZONE 'UTC', "
                             "'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"') FROM sales WHERE id = $1";

        if (i % 4 == 1)
            pay_ok(&c, ids[i], 500, PAY_TRANSFER,
                   sql_val(at_sql, PARAMS(i64s(ids[i]), "3 days 2 hours")));
        if (i % 5 == 2)
            pay_ok(&c, ids[i], 100, PAY_CARD, sql_val(at_sql, PARAMS(i64s(ids[i]), "20 days")));
    }
    /* two sales without payments leave: one before the ranges' start, one inside */
    CU_ASSERT_EQUAL(cancel_ok(&c, ids[4], &out), 0);
    CU_ASSERT_EQUAL(cancel_ok(&c, ids[10], &out), 0);
    CU_ASSERT_STRING_EQUAL(status_of(ids[10]), "cancelled");

    /* the expectation's inputs: raw rows, days in the tenant's zone, not balance_daily */
    nsales = load_rows("SELECT (s.confirmed_at AT TIME ZONE t.timezone)::date - DATE '1970-01-01', "
                       "(s.total * 100)::bigint, '' FROM sales s JOIN tenants t ON t.id = "
                       "s.tenant_id WHERE s.tenant_id = $1 AND s.status = 'confirmed'",
                       t, &sales);
    npays = load_rows("SELECT (p.paid_at AT TIME ZONE t.timezone)::date - DATE '1970-01-01', "
                      "(p.amount * 100)::bigint, p.method FROM payments p JOIN tenants t ON "
                      "t.id = p.tenant_id WHERE p.tenant_id = $1",
                      t, &pays);
    CU_ASSERT_EQUAL(nsales, BAL_SALES - 2);
    CU_ASSERT_EQUAL(npays, 14 + 10 + 8);
    /* the data is what the test means: some sales on a different day in UTC, history before */
    CU_ASSERT(sql_i64("SELECT count(*) FROM sales WHERE tenant_id = $1 AND status = 'confirmed' "
                      "AND (confirmed_at AT TIME ZONE 'UTC')::date <> "
                      "(confirmed_at AT TIME ZONE 'America/Sao_Paulo')::date",
                      PARAMS(i64s(t))) > 0);
    for (z = day_of("2025-03-03"); z <= day_of("2025-05-25"); z++) {
        int busy = 0;

        for (i = 0; i < nsales; i++)
            busy |= sales[i].day == z;
        for (i = 0; i < npays; i++)
            busy |= pays[i].day == z;
        zero_days += !busy;
    }
    CU_ASSERT(zero_days > 10);
    for (i = 0, j = 0; i < nsales; i++)
        j += sales[i].day < day_of("2025-03-03");
    CU_ASSERT(j > 0);

    for (i = 0; i < (int)(sizeof(ranges) / sizeof(ranges[0])); i++)
        for (j = 0; j < (int)(sizeof(methods) / sizeof(methods[0])); j++)
            bad += check_series(t, ranges[i].from, ranges[i].to, ranges[i].g, methods[j], sales,
                                nsales, pays, npays);
    CU_ASSERT_EQUAL(bad, 0);

    /* periods are labelled by their first day, whatever day the range starts on */
    CU_ASSERT_STRING_EQUAL(series_labels(t, "2025-03-05", "2025-03-20", GRAN_WEEKLY),
                           "2025-03-03,2025-03-10,2025-03-17");
    CU_ASSERT_STRING_EQUAL(series_labels(t, "2025-03-15", "2025-05-02", GRAN_MONTHLY),
                           "2025-03-01,2025-04-01,2025-05-01");
    CU_ASSERT_STRING_EQUAL(series_labels(t, "2024-12-30", "2025-01-02", GRAN_DAILY),
                           "2024-12-30,2024-12-31,2025-01-01,2025-01-02");
}

static void expect_invalid(const char *from, const char *to, enum balance_granularity g,
                           const char *field1, const char *field2)
{
    struct catalog c = cat(ta);
    struct balance_query q = {from, to, g, PAY_ANY};
    struct catalog_out out;
    struct app_err err;

    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL(balance_series(&c, &q, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    if (strcmp(err.field, field1) && strcmp(err.field, field2)) {
        fprintf(stderr, "balance %s..%s: field '%s', expected '%s'\n", from ? from : "NULL",
                to ? to : "NULL", err.field, field1);
        CU_FAIL("wrong field");
    }
}

static void test_sales_balance_validation(void)
{
    static const char *const bad_dates[] = {"2026-02-30", "2026-1-5",    "",
                                            "2026-13-01", "2026-01-01x", "x026-01-01"};
    struct catalog c = cat(ta);
    struct balance_query q = {"2025-01-01", "2026-01-01", GRAN_DAILY, PAY_ANY};
    struct catalog_out out;
    struct app_err err;
    json_object *pts;
    size_t i;

    expect_invalid("2026-01-10", "2026-01-01", GRAN_DAILY, "from", "to");
    expect_invalid("2026-01-10", "2026-01-01", GRAN_MONTHLY, "from", "to");
    for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        expect_invalid(bad_dates[i], "2026-03-01", GRAN_DAILY, "from", "from");
        expect_invalid("2026-01-01", bad_dates[i], GRAN_DAILY, "to", "to");
    }
    /* 367 days at daily granularity is too long; 366 is fine (and so is 367 weekly) */
    expect_invalid("2025-01-01", "2026-01-02", GRAN_DAILY, "to", "from");
    CU_ASSERT_EQUAL_FATAL(balance_series(&c, &q, &out, &err), 0);
    pts = json_object_object_get(parse(&out), "points");
    CU_ASSERT_FATAL(pts != NULL);
    CU_ASSERT_EQUAL(json_object_array_length(pts), 366);
    CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(pts, 365), "period"), "2026-01-01");
    q.to = "2026-01-02";
    q.granularity = GRAN_WEEKLY;
    CU_ASSERT_EQUAL(balance_series(&c, &q, &out, &err), 0);
    /* a leap day is a date */
    q = (struct balance_query){"2024-02-29", "2024-02-29", GRAN_DAILY, PAY_ANY};
    CU_ASSERT_EQUAL(balance_series(&c, &q, &out, &err), 0);
}

/* ---- 8. cache freshness after every write -------------------------------------------------- */

static void test_sales_reads_are_fresh_after_every_write(void)
{
    int64_t t = itest_tenant("sales-fresh");
    struct catalog c = cat(t);
    int64_t p = make_product(&c, "FRESH-S", 1000, 10000);
    int64_t s1 = draft1(&c, p, 2), s2 = draft1(&c, p, 3);
    struct product_query pq = {"FRESH-S", -1, STOCK_ALL, 50, 0};
    struct catalog_out out;
    struct app_err err;
    json_object *items;

#define BAL_IS(count, total, paid, owed)                                                           \
    do {                                                                                           \
        CU_ASSERT_EQUAL(series_around_today(&c, PAY_ANY, &out), 0);                                \
        CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_count"), count);                          \
        CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_total"), total);                          \
        CU_ASSERT_STRING_EQUAL(field(&out, "totals.payments_total"), paid);                        \
        CU_ASSERT_STRING_EQUAL(field(&out, "totals.outstanding"), owed);                           \
    } while (0)
#define STOCK_IS(s)                                                                                \
    do {                                                                                           \
        CU_ASSERT_EQUAL(catalog_product_list(&c, &pq, &out, &err), 0);                             \
        items = json_object_object_get(parse(&out), "items");                                      \
        CU_ASSERT_FATAL(items &&json_object_array_length(items) == 1);                             \
        CU_ASSERT_STRING_EQUAL(jget(json_object_array_get_idx(items, 0), "stock"), s);             \
    } while (0)

    CU_ASSERT_EQUAL(series_around_today(&c, PAY_ANY, &out), 0);
    CU_ASSERT_EQUAL(out.cache, CACHE_MISS);
    BAL_IS("0", "0.00", "0.00", "0.00");
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);
    STOCK_IS("10.000");
    STOCK_IS("10.000");
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);

    confirm_ok(&c, s1, NULL);
    BAL_IS("1", "20.00", "0.00", "20.00");
    STOCK_IS("8.000");
    BAL_IS("1", "20.00", "0.00", "20.00");
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);

    pay_ok(&c, s1, 500, PAY_CASH, NULL);
    BAL_IS("1", "20.00", "5.00", "15.00");
    BAL_IS("1", "20.00", "5.00", "15.00");
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);

    confirm_ok(&c, s2, NULL);
    BAL_IS("2", "50.00", "5.00", "45.00");
    STOCK_IS("5.000");
    STOCK_IS("5.000");
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);
    BAL_IS("2", "50.00", "5.00", "45.00");
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);

    CU_ASSERT_EQUAL(cancel_ok(&c, s2, &out), 0);
    BAL_IS("1", "20.00", "5.00", "15.00");
    STOCK_IS("8.000");
#undef BAL_IS
#undef STOCK_IS
}

/* ---- 9. tenant isolation ------------------------------------------------------------------- */

static void test_sales_other_tenant_sees_nothing(void)
{
    int64_t t1 = itest_tenant("sales-iso-a"), t2 = itest_tenant("sales-iso-b");
    struct catalog a = cat(t1), b = cat(t2);
    int64_t p = make_product(&a, "ISO-1", 1000, 10000);
    int64_t sc = draft1(&a, p, 2), sd = draft1(&a, p, 1);
    struct payment_in in = {sc, 500, PAY_CASH, NULL, NULL};
    struct sale_query sq = {NULL, NULL, NULL, 50, 0};
    struct payment_query pq = {-1, NULL, NULL, PAY_ANY, 50, 0};
    struct catalog_out out;
    struct app_err err;
    json_object *pts;
    size_t i;
    int status;

    confirm_ok(&a, sc, NULL);
    pay_ok(&a, sc, 300, PAY_CARD, NULL);

    CU_ASSERT_EQUAL(sales_get(&b, sc, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(sales_confirm(&b, sd, NULL, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(sales_cancel(&b, sd, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(sales_cancel(&b, sc, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(payments_create(&b, &in, NULL, &status, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "sale_id");
    /* A's rows are untouched */
    CU_ASSERT_STRING_EQUAL(status_of(sd), "draft");
    CU_ASSERT_STRING_EQUAL(status_of(sc), "confirmed");
    CU_ASSERT_EQUAL(payment_count(sc), 1);
    CU_ASSERT_STRING_EQUAL(stock_of(p), "8.000");

    CU_ASSERT_EQUAL(sales_list(&b, &sq, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "total"), "0");
    CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(parse(&out), "items")), 0);
    CU_ASSERT_EQUAL(payments_list(&b, &pq, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "total"), "0");
    pq.sale_id = sc;
    CU_ASSERT_EQUAL(payments_list(&b, &pq, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "total"), "0");
    /* while A sees its own */
    CU_ASSERT_EQUAL(sales_list(&a, &sq, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "total"), "2");
    sq.status = "confirmed";
    CU_ASSERT_EQUAL(sales_list(&a, &sq, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "total"), "1");
    CU_ASSERT_EQUAL(payments_list(&a, &pq, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "total"), "1");

    CU_ASSERT_EQUAL(series_around_today(&a, PAY_ANY, &out), 0);
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_count"), "1");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.payments_total"), "3.00");
    CU_ASSERT_EQUAL(series_around_today(&b, PAY_ANY, &out), 0);
    pts = json_object_object_get(parse(&out), "points");
    CU_ASSERT_FATAL(pts && json_object_array_length(pts) == 3);
    for (i = 0; i < 3; i++) {
        json_object *pt = json_object_array_get_idx(pts, i);

        CU_ASSERT_STRING_EQUAL(jget(pt, "sales_count"), "0");
        CU_ASSERT_STRING_EQUAL(jget(pt, "sales_total"), "0.00");
        CU_ASSERT_STRING_EQUAL(jget(pt, "payments_total"), "0.00");
        CU_ASSERT_STRING_EQUAL(jget(pt, "outstanding"), "0.00");
    }
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.sales_count"), "0");
    CU_ASSERT_STRING_EQUAL(field(&out, "totals.outstanding"), "0.00");
}

/* ---- the sales report's rows (services/reports.h), as a CSV writer would walk them ---- */

#define REPORT_WALK_MAX 1024
struct report_walk {
    int n, stop_at;
    struct report_row rows[REPORT_WALK_MAX];
};

static int walk_row(void *ctx, const struct report_row *row, struct app_err *err)
{
    struct report_walk *w = ctx;

    if (w->n < REPORT_WALK_MAX)
        w->rows[w->n] = *row;
    w->n++;
    if (w->stop_at && w->n == w->stop_at)
        return err_set(err, ERR_INTERNAL, "stopped");
    return 0;
}

static void test_sales_report_rows(void)
{
    struct catalog c = cat(ta), b = cat(tb);
    struct report_query q;
    static struct report_walk w, all;
    struct report_sums tot;
    struct app_err err;
    int64_t count, p1, p2, s1;
    int found;
    const char *today;
    char sku1[32], sku2[32];
    struct sale_line_in lines[2];

    snprintf(sku1, sizeof(sku1), "REP1-%u", ++name_seq);
    snprintf(sku2, sizeof(sku2), "REP2-%u", ++name_seq);
    p1 = make_product(&c, sku1, 1000, 100000);
    p2 = make_product(&c, sku2, 250, 100000);
    sql("UPDATE products SET cost = CASE WHEN id = $2 THEN 4.00 ELSE 1.10 END "
        "WHERE tenant_id = $1 AND id IN ($2, $3)",
        PARAMS(i64s(ta), i64s(p1), i64s(p2)));
    lines[0] = (struct sale_line_in){p1, 3000, -1};
    lines[1] = (struct sale_line_in){p2, 1500, -1};
    s1 = make_sale(&c, lines, 2, NULL);
    confirm_ok(&c, s1, NULL);
    CU_ASSERT_STRING_EQUAL(sql_val("SELECT string_agg(unit_cost::text, ',' ORDER BY id) FROM "
                                   "sale_lines WHERE tenant_id = $1 AND sale_id = $2",
                                   PARAMS(i64s(ta), i64s(s1))),
                           "4.00,1.10");
    today = sql_val("SELECT (now() AT TIME ZONE timezone)::date::text FROM tenants WHERE id = $1",
                    PARAMS(i64s(ta)));

    /* every row (limit 0): the two products of this sale among the tenant's, totals over all */
    memset(&q, 0, sizeof(q));
    q.from = today;
    q.to = today;
    q.group = REPORT_PRODUCT;
    memset(&w, 0, sizeof(w));
    CU_ASSERT_EQUAL_FATAL(reports_sales_rows(&c, &q, walk_row, &w, &count, &tot, &err), 0);
    CU_ASSERT_EQUAL(w.n, count);
    CU_ASSERT_TRUE_FATAL(count >= 2 && count <= REPORT_WALK_MAX);
    found = 0;
    for (int i = 0; i < w.n; i++) {
        if (w.rows[i].id == p1) {
            found++;
            CU_ASSERT_EQUAL(w.rows[i].sums.qty_milli, 3000);
            CU_ASSERT_EQUAL(w.rows[i].sums.sales, 3000);
            CU_ASSERT_EQUAL(w.rows[i].sums.cost, 1200);
            CU_ASSERT_STRING_EQUAL(w.rows[i].sku, sku1);
        }
        if (w.rows[i].id == p2) {
            found++;
            CU_ASSERT_EQUAL(w.rows[i].sums.sales, 375);
            CU_ASSERT_EQUAL(w.rows[i].sums.cost, 165);
        }
    }
    CU_ASSERT_EQUAL(found, 2);
    CU_ASSERT_EQUAL(tot.sales, sql_i64("SELECT (sum(l.line_total) * 100)::bigint FROM sales s "
                                       "JOIN sale_lines l ON l.sale_id = s.id WHERE s.tenant_id = "
                                       "$1 AND s.status = 'confirmed' AND s.balance_day = $2",
                                       PARAMS(i64s(ta), today)));

    /* a page: limit 1 offset 1 gives the second row, the same count and totals */
    all = w;
    {
        struct report_sums t2;
        int64_t n2;

        q.limit = 1;
        q.offset = 1;
        memset(&w, 0, sizeof(w));
        CU_ASSERT_EQUAL(reports_sales_rows(&c, &q, walk_row, &w, &n2, &t2, &err), 0);
        CU_ASSERT_EQUAL(w.n, 1);
        CU_ASSERT_EQUAL(n2, count);
        CU_ASSERT_EQUAL(t2.sales, tot.sales);
        CU_ASSERT_EQUAL(w.rows[0].id, all.rows[1].id);
    }

    /* the callback's failure stops the walk and is the answer */
    q.limit = 0;
    q.offset = 0;
    memset(&w, 0, sizeof(w));
    w.stop_at = 1;
    CU_ASSERT_EQUAL(reports_sales_rows(&c, &q, walk_row, &w, &count, &tot, &err), -1);
    CU_ASSERT_EQUAL(w.n, 1);

    /* by day over 10 days: 10 rows, zeros included, today's last */
    q.group = REPORT_DAY;
    q.from = sql_val("SELECT ($1::date - 9)::text", PARAMS(today));
    memset(&w, 0, sizeof(w));
    CU_ASSERT_EQUAL(reports_sales_rows(&c, &q, walk_row, &w, &count, &tot, &err), 0);
    CU_ASSERT_EQUAL(count, 10);
    CU_ASSERT_EQUAL(w.n, 10);
    CU_ASSERT_TRUE(w.rows[9].sums.sales >= 3375);

    /* the other tenant sees none of it */
    q.group = REPORT_PRODUCT;
    q.from = today;
    memset(&w, 0, sizeof(w));
    CU_ASSERT_EQUAL(reports_sales_rows(&b, &q, walk_row, &w, &count, &tot, &err), 0);
    for (int i = 0; i < w.n && i < REPORT_WALK_MAX; i++)
        CU_ASSERT_TRUE(w.rows[i].id != p1 && w.rows[i].id != p2);

    /* validation names the parameter */
    q.from = "2026-02-30";
    CU_ASSERT_EQUAL(reports_sales_rows(&c, &q, walk_row, &w, &count, &tot, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.field, "from");
}

int test_sales_register(void)
{
    CU_pSuite s = CU_add_suite_with_setup_and_teardown("sales", suite_init, suite_clean, test_setup,
                                                       test_teardown);

    if (!s ||
        !CU_add_test(s, "draft: line totals, default and explicit prices, bad references",
                     test_sales_draft_line_totals_and_references) ||
        !CU_add_test(s, "confirm takes the stock and writes the ledger",
                     test_sales_confirm_takes_stock_and_writes_ledger) ||
        !CU_add_test(s, "confirm with a payment", test_sales_confirm_with_payment) ||
        !CU_add_test(s, "confirm with a payment above the total changes nothing",
                     test_sales_confirm_payment_above_total_changes_nothing) ||
        !CU_add_test(s, "confirm takes all the stock or none", test_sales_confirm_is_all_or_none) ||
        !CU_add_test(s, "concurrent confirmations never oversell",
                     test_sales_concurrent_confirmations_never_oversell) ||
        !CU_add_test(s, "race for the last unit", test_sales_race_for_the_last_unit) ||
        !CU_add_test(s, "cancel: draft, confirmed, with payments, twice", test_sales_cancel) ||
        !CU_add_test(s, "returns: stock, ledger, refund, sums, bounds, series, cancel",
                     test_sales_returns) ||
        !CU_add_test(s, "payments only on confirmed sales",
                     test_sales_payments_only_on_confirmed_sales) ||
        !CU_add_test(s, "payments never beyond the outstanding amount",
                     test_sales_payments_never_beyond_outstanding) ||
        !CU_add_test(s, "concurrent payments never overpay",
                     test_sales_concurrent_payments_never_overpay) ||
        !CU_add_test(s, "a payment racing a cancellation: never both",
                     test_sales_payment_racing_a_cancellation) ||
        !CU_add_test(s, "paid_at is stored and counted on the tenant's day",
                     test_sales_payment_paid_at_and_time_zone) ||
        !CU_add_test(s, "Idempotency-Key: replay, mismatch, per tenant",
                     test_sales_idempotency_key) ||
        !CU_add_test(s, "Idempotency-Key: concurrent retries record one payment",
                     test_sales_idempotency_key_concurrent_retries) ||
        !CU_add_test(s, "balance series matches an independent computation",
                     test_sales_balance_series_matches_raw_rows) ||
        !CU_add_test(s, "balance validation", test_sales_balance_validation) ||
        !CU_add_test(s, "reads are fresh after every write",
                     test_sales_reads_are_fresh_after_every_write) ||
        !CU_add_test(s, "other tenant sees nothing", test_sales_other_tenant_sees_nothing) ||
        !CU_add_test(s, "report rows: every row, a page, a stop, by day, other tenant",
                     test_sales_report_rows))
        return -1;
    return 0;
}
