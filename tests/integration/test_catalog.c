/*
 * test_catalog: units, categories and products through the service layer against the real
 * PostgreSQL and Redis: every write and its errors, list freshness after each kind of write,
 * hits after misses that cost no query, negative caching, tenant isolation (rows and keys),
 * the same answers with the cache disabled and with Redis stopped, and the stock ledger.
 */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "core/jsonx.h"
#include "core/shared.h"
#include "itest.h"
#include "services/catalog.h"

static struct config cf;
static struct cache cache;
static struct arena *arena;
static int64_t ta, tb;

static int suite_init(void)
{
    cf = *itest_config();
    cf.redis_socket_timeout_ms = 500;
    cf.redis_connect_timeout_ms = 500;
    cache_init(&cache, &cf, itest_db());
    arena = arena_new();
    ta = itest_tenant("cat-a");
    tb = itest_tenant("cat-b");
    return 0;
}

static int suite_clean(void)
{
    cache_release(&cache);
    arena_free(arena);
    return 0;
}

static struct catalog cat(int64_t tenant)
{
    struct catalog c = {.db = itest_db(), .cache = &cache, .a = arena, .tenant = tenant};

    return c;
}

static uint64_t queries(void)
{
    return atomic_load(&shared_get()->db_queries);
}

static json_object *parse(const struct catalog_out *out)
{
    struct app_err err;
    json_object *o = jsonx_parse(arena, out->json, out->len, &err);

    CU_ASSERT_PTR_NOT_NULL(o);
    return o;
}

static const char *str(json_object *o, const char *path)
{
    char buf[128], *save = NULL, *part;
    json_object *v = o;

    snprintf(buf, sizeof(buf), "%s", path);
    for (part = strtok_r(buf, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
        if (!json_object_object_get_ex(v, part, &v))
            return NULL;
    return v ? json_object_get_string(v) : "null";
}

static int64_t id_of(const struct catalog_out *out)
{
    const char *s = str(parse(out), "id");

    return s ? strtoll(s, NULL, 10) : -1;
}

static int64_t total_of(const struct catalog_out *out)
{
    const char *s = str(parse(out), "total");

    return s ? strtoll(s, NULL, 10) : -1;
}

/* Field f of the list item whose sku is sku, or "(missing)". */
static const char *item_field(const struct catalog_out *out, const char *sku, const char *f)
{
    json_object *items = json_object_object_get(parse(out), "items");
    size_t i;

    for (i = 0; items && i < json_object_array_length(items); i++) {
        json_object *it = json_object_array_get_idx(items, i);
        const char *s = str(it, "sku");

        if (s && !strcmp(s, sku))
            return str(it, f) ? str(it, f) : "(missing)";
    }
    return "(missing)";
}

/* Whether the JSON text of a list holds s (names are unique per test). */
static bool has(const struct catalog_out *out, const char *s)
{
    return out->json && strstr(out->json, s) != NULL;
}

static int64_t make_uom(struct catalog *c, const char *name, const char *abbr)
{
    struct uom_in in = {name, abbr};
    struct catalog_out out;
    struct app_err err;

    CU_ASSERT_EQUAL_FATAL(catalog_uom_create(c, &in, &out, &err), 0);
    return id_of(&out);
}

static int64_t make_category(struct catalog *c, const char *name)
{
    struct category_in in = {name, NULL, false};
    struct catalog_out out;
    struct app_err err;

    CU_ASSERT_EQUAL_FATAL(catalog_category_create(c, &in, &out, &err), 0);
    return id_of(&out);
}

static int64_t make_product(struct catalog *c, const char *sku, const char *name, int64_t cat_id,
                            int64_t uom_id, int64_t price, int64_t stock, int64_t min_stock)
{
    struct product_in in;
    struct catalog_out out;
    struct app_err err;

    memset(&in, 0, sizeof(in));
    in.sku = sku;
    in.name = name;
    in.has_category = cat_id > 0;
    in.category_id = cat_id;
    in.uom_id = uom_id;
    in.has_price = true;
    in.price = price;
    in.has_stock = true;
    in.stock = stock;
    in.has_min_stock = true;
    in.min_stock = min_stock;
    if (catalog_product_create(c, &in, &out, &err)) {
        fprintf(stderr, "make_product: %s %s (%s)\n", err_slug(&err), err.msg, err.detail);
        CU_FAIL_FATAL("product create failed");
    }
    return id_of(&out);
}

static void test_catalog_uom_crud_and_errors(void)
{
    struct catalog c = cat(ta);
    struct uom_in dup = {"KILOGRAM-crud", "kg"}, patch = {NULL, "kgs"}, blank = {"Litre-crud", "l"};
    struct catalog_out out;
    struct app_err err;
    int64_t id = make_uom(&c, "Kilogram-crud", "kg");

    CU_ASSERT(id > 0);
    CU_ASSERT_EQUAL(catalog_uom_get(&c, id, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "abbreviation"), "kg");
    CU_ASSERT_PTR_NOT_NULL(strstr(str(parse(&out), "created_at"), "+00:00"));
    /* names are unique per tenant whatever their case */
    CU_ASSERT_EQUAL(catalog_uom_create(&c, &dup, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err.field, "name");
    CU_ASSERT_EQUAL(catalog_uom_update(&c, id, &patch, false, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "name"), "Kilogram-crud");
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "abbreviation"), "kgs");
    CU_ASSERT_EQUAL(catalog_uom_update(&c, 999999999, &blank, true, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(catalog_uom_delete(&c, id, &err), 0);
    CU_ASSERT_EQUAL(catalog_uom_get(&c, id, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(catalog_uom_delete(&c, id, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
}

static void test_catalog_lists_are_fresh_after_every_write(void)
{
    struct catalog c = cat(ta);
    struct catalog_out out;
    struct app_err err;
    struct product_query q = {NULL, -1, STOCK_ALL, 200, 0};
    struct uom_in uren = {"Box-fresh-renamed", "bxr"};
    struct category_in cren = {"Tools-fresh-renamed", "d", true};
    struct product_in pin;
    int64_t u = make_uom(&c, "Box-fresh", "bx");
    int64_t k = make_category(&c, "Tools-fresh");
    int64_t p;

    /* warm the three lists, then each kind of write must show in the next read */
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(catalog_category_list(&c, 200, 0, &out, &err), 0);
    CU_ASSERT_EQUAL(catalog_uom_list(&c, 200, 0, &out, &err), 0);
    CU_ASSERT_EQUAL(catalog_uom_list(&c, 200, 0, &out, &err), 0);
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);

    p = make_product(&c, "FRESH-1", "Hammer-fresh", k, u, 1250, 5000, 1000);
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(out.cache, CACHE_MISS);
    CU_ASSERT_TRUE(has(&out, "Hammer-fresh"));
    CU_ASSERT_STRING_EQUAL(item_field(&out, "FRESH-1", "price"), "12.50");
    CU_ASSERT_STRING_EQUAL(item_field(&out, "FRESH-1", "stock"), "5.000");
    /* product_count of the category moves with the product */
    CU_ASSERT_EQUAL(catalog_category_get(&c, k, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "product_count"), "1");

    CU_ASSERT_EQUAL(catalog_category_update(&c, k, &cren, false, &out, &err), 0);
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_TRUE(has(&out, "Tools-fresh-renamed"));
    CU_ASSERT_EQUAL(catalog_category_list(&c, 200, 0, &out, &err), 0);
    CU_ASSERT_TRUE(has(&out, "Tools-fresh-renamed"));

    CU_ASSERT_EQUAL(catalog_uom_update(&c, u, &uren, true, &out, &err), 0);
    CU_ASSERT_EQUAL(catalog_product_get(&c, p, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "uom.abbreviation"), "bxr");
    CU_ASSERT_EQUAL(catalog_uom_list(&c, 200, 0, &out, &err), 0);
    CU_ASSERT_TRUE(has(&out, "Box-fresh-renamed"));

    memset(&pin, 0, sizeof(pin));
    pin.has_price = true;
    pin.price = 999;
    CU_ASSERT_EQUAL(catalog_product_update(&c, p, &pin, false, NULL, &out, &err), 0);
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(item_field(&out, "FRESH-1", "price"), "9.99");
    CU_ASSERT_EQUAL(catalog_product_get(&c, p, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "price"), "9.99");

    CU_ASSERT_EQUAL(catalog_product_delete(&c, p, NULL, &err), 0);
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_FALSE(has(&out, "Hammer-fresh"));
    CU_ASSERT_EQUAL(catalog_category_get(&c, k, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "product_count"), "0");
    CU_ASSERT_EQUAL(catalog_category_delete(&c, k, &err), 0);
    CU_ASSERT_EQUAL(catalog_category_list(&c, 200, 0, &out, &err), 0);
    CU_ASSERT_FALSE(has(&out, "Tools-fresh-renamed"));
    CU_ASSERT_EQUAL(catalog_uom_delete(&c, u, &err), 0);
    CU_ASSERT_EQUAL(catalog_uom_list(&c, 200, 0, &out, &err), 0);
    CU_ASSERT_FALSE(has(&out, "Box-fresh-renamed"));
}

static void test_catalog_hit_costs_no_query(void)
{
    struct catalog c = cat(ta);
    struct catalog_out out;
    struct app_err err;
    struct product_query q = {"hit", -1, STOCK_ALL, 50, 0};
    uint64_t before;

    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    before = queries();
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);
    CU_ASSERT_EQUAL(queries() - before, 0);
    /* an unknown id is cached as "not found": the second miss costs nothing either */
    CU_ASSERT_EQUAL(catalog_product_get(&c, 987654321, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    before = queries();
    CU_ASSERT_EQUAL(catalog_product_get(&c, 987654321, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);
    CU_ASSERT_EQUAL(queries() - before, 0);
}

static void test_catalog_product_filters_and_validation(void)
{
    struct catalog c = cat(ta);
    struct catalog_out out;
    struct app_err err;
    int64_t u = make_uom(&c, "Unit-filter", "u");
    int64_t k1 = make_category(&c, "Cat-filter-1"), k2 = make_category(&c, "Cat-filter-2");
    int64_t other_cat = make_category(
        &(struct catalog){.db = itest_db(), .cache = &cache, .a = arena, .tenant = tb},
        "Other-tenant-cat");
    struct product_query q = {"filt", -1, STOCK_ALL, 200, 0};
    struct product_in bad;

    make_product(&c, "FILT-IN", "Filt in stock", k1, u, 100, 50000, 1000);
    make_product(&c, "FILT-LOW", "Filt low stock", k1, u, 100, 500, 1000);
    make_product(&c, "FILT-OUT", "Filt out of stock", k2, u, 100, 0, 1000);
    make_product(&c, "FILT-100%", "Filt percent_under", k2, u, 100, 1000, 0);

    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(total_of(&out), 4);
    q.stock = STOCK_LOW;
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(total_of(&out), 1);
    CU_ASSERT_TRUE(has(&out, "FILT-LOW"));
    q.stock = STOCK_OUT;
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(total_of(&out), 1);
    CU_ASSERT_TRUE(has(&out, "FILT-OUT"));
    q.stock = STOCK_IN;
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(total_of(&out), 3);
    q.stock = STOCK_ALL;
    q.category_id = k2;
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(total_of(&out), 2);
    /* LIKE metacharacters in the search are literal */
    q.category_id = -1;
    q.q = "100%";
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(total_of(&out), 1);
    q.q = "t_under";
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(total_of(&out), 1);
    q.q = "filt";
    q.limit = 2;
    q.offset = 3;
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(total_of(&out), 4);
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "limit"), "2");
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "offset"), "3");
    CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(parse(&out), "items")), 1);

    /* duplicate SKU (any case), unknown or other tenant's references, uom in use */
    memset(&bad, 0, sizeof(bad));
    bad.sku = "filt-in";
    bad.name = "dup";
    bad.uom_id = u;
    bad.has_price = true;
    CU_ASSERT_EQUAL(catalog_product_create(&c, &bad, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err.field, "sku");
    bad.sku = "FILT-NEW";
    bad.has_category = true;
    bad.category_id = other_cat;
    CU_ASSERT_EQUAL(catalog_product_create(&c, &bad, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "category_id");
    bad.has_category = false;
    bad.uom_id = 999999999;
    CU_ASSERT_EQUAL(catalog_product_create(&c, &bad, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_INVALID);
    CU_ASSERT_STRING_EQUAL(err.field, "uom_id");
    CU_ASSERT_EQUAL(catalog_uom_delete(&c, u, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_CONFLICT);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "in_use");
    CU_ASSERT_EQUAL(catalog_category_delete(&c, k1, &err), -1);
    CU_ASSERT_STRING_EQUAL(err_slug(&err), "in_use");
}

static void test_catalog_other_tenant_sees_nothing(void)
{
    struct catalog a = cat(ta), b = cat(tb);
    struct catalog_out out;
    struct app_err err;
    struct product_query q = {NULL, -1, STOCK_ALL, 200, 0};
    struct uom_in uin = {"Hijack", "hj"};
    struct category_in cin = {"Hijack", NULL, false};
    struct product_in pin;
    int64_t u = make_uom(&a, "Secret-unit", "su");
    int64_t k = make_category(&a, "Secret-cat");
    int64_t p = make_product(&a, "SECRET-1", "Secret product", k, u, 100, 1000, 0);
    redisContext *rc;
    redisReply *r;
    size_t i;
    char match[64];

    memset(&pin, 0, sizeof(pin));
    pin.name = "Hijack";
    CU_ASSERT_EQUAL(catalog_uom_get(&b, u, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(catalog_category_get(&b, k, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(catalog_product_get(&b, p, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(catalog_uom_update(&b, u, &uin, true, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(catalog_category_update(&b, k, &cin, true, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(catalog_product_update(&b, p, &pin, false, NULL, &out, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(catalog_product_delete(&b, p, NULL, &err), -1);
    CU_ASSERT_EQUAL(err.code, ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(catalog_category_delete(&b, k, &err), -1);
    CU_ASSERT_EQUAL(catalog_uom_delete(&b, u, &err), -1);
    CU_ASSERT_EQUAL(catalog_product_list(&b, &q, &out, &err), 0);
    CU_ASSERT_FALSE(has(&out, "Secret"));
    CU_ASSERT_EQUAL(catalog_category_list(&b, 200, 0, &out, &err), 0);
    CU_ASSERT_FALSE(has(&out, "Secret"));
    CU_ASSERT_EQUAL(catalog_uom_list(&b, 200, 0, &out, &err), 0);
    CU_ASSERT_FALSE(has(&out, "Secret"));
    /* A's rows are untouched */
    CU_ASSERT_EQUAL(catalog_product_get(&a, p, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(str(parse(&out), "name"), "Secret product");

    /* every key B's reads created carries B's tenant id */
    rc = redisConnect(cf.redis_host, cf.redis_port);
    CU_ASSERT_FATAL(rc && !rc->err);
    snprintf(match, sizeof(match), "%s:tenant:%" PRId64 ":*", cf.key_prefix, tb);
    r = redisCommand(rc, "KEYS %s", match);
    CU_ASSERT_FATAL(r && r->type == REDIS_REPLY_ARRAY);
    CU_ASSERT(r->elements >= 3);
    freeReplyObject(r);
    snprintf(match, sizeof(match), "%s:tenant:%" PRId64 ":*", cf.key_prefix, ta);
    r = redisCommand(rc, "KEYS %s", match);
    CU_ASSERT_FATAL(r && r->type == REDIS_REPLY_ARRAY);
    for (i = 0; i < r->elements; i++) {
        redisReply *v = redisCommand(rc, "GET %s", r->element[i]->str);

        /* nothing of B's ever lands under A's prefix */
        if (v && v->type == REDIS_REPLY_STRING)
            CU_ASSERT_PTR_NULL(strstr(v->str, "Hijack"));
        freeReplyObject(v);
    }
    freeReplyObject(r);
    redisFree(rc);
}

static void test_catalog_same_answers_without_cache(void)
{
    struct catalog c = cat(ta);
    struct config off = cf;
    struct cache nocache;
    struct catalog d;
    struct catalog_out on_out, off_out;
    struct app_err err;
    struct product_query q = {NULL, -1, STOCK_ALL, 200, 0};
    char *first;

    make_product(&c, "BYPASS-1", "Bypass", -1, make_uom(&c, "Unit-bypass", "ub"), 100, 0, 0);
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &on_out, &err), 0);
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &on_out, &err), 0);
    CU_ASSERT_EQUAL(on_out.cache, CACHE_HIT);
    first = arena_strndup(arena, on_out.json, on_out.len);
    off.cache_enabled = false;
    cache_init(&nocache, &off, itest_db());
    d = (struct catalog){.db = itest_db(), .cache = &nocache, .a = arena, .tenant = ta};
    CU_ASSERT_EQUAL(catalog_product_list(&d, &q, &off_out, &err), 0);
    CU_ASSERT_EQUAL(off_out.cache, CACHE_BYPASS);
    CU_ASSERT_STRING_EQUAL(off_out.json, first);
    cache_release(&nocache);
}

static void test_catalog_redis_down_serves_from_postgres(void)
{
    struct catalog c = cat(ta);
    struct catalog_out out;
    struct app_err err;
    struct product_query q = {"down", -1, STOCK_ALL, 200, 0};
    int64_t u = make_uom(&c, "Unit-down", "ud");
    int64_t p = make_product(&c, "DOWN-1", "Down before", -1, u, 100, 0, 0);
    struct product_in pin;
    char *first;

    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);
    first = arena_strndup(arena, out.json, out.len);
    CU_ASSERT_EQUAL_FATAL(itest_redisctl("stop"), 0);
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(out.cache, CACHE_MISS);
    CU_ASSERT_STRING_EQUAL(out.json, first);
    /* a write while Redis is down ... */
    memset(&pin, 0, sizeof(pin));
    pin.name = "Down after";
    CU_ASSERT_EQUAL(catalog_product_update(&c, p, &pin, false, NULL, &out, &err), 0);
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_TRUE(has(&out, "Down after"));
    CU_ASSERT_EQUAL_FATAL(itest_redisctl("start"), 0);
    /* ... is visible at once when Redis comes back with its saved (stale) entry */
    cache.redis.retry_at_ms = 0;
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_TRUE(has(&out, "Down after"));
    CU_ASSERT_FALSE(has(&out, "Down before"));
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_TRUE(has(&out, "Down after"));
}

static void test_catalog_stock_changes_are_in_the_ledger(void)
{
    struct catalog c = cat(ta);
    struct catalog_out out;
    struct app_err err;
    struct product_in pin;
    int64_t p =
        make_product(&c, "LEDGER-1", "Ledger", -1, make_uom(&c, "Unit-ledger", "ul"), 100, 5000, 0);
    const char *params[2] = {arena_sprintf(arena, "%" PRId64, ta),
                             arena_sprintf(arena, "%" PRId64, p)};
    PGresult *res;

    memset(&pin, 0, sizeof(pin));
    pin.has_stock = true;
    pin.stock = 3000;
    CU_ASSERT_EQUAL(catalog_product_update(&c, p, &pin, false, NULL, &out, &err), 0);
    res = db_exec(itest_db(), arena,
                  "SELECT kind, quantity::text, stock_before::text, stock_after::text "
                  "FROM stock_movements WHERE tenant_id = $1 AND product_id = $2 ORDER BY id",
                  2, params, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    CU_ASSERT_EQUAL_FATAL(PQntuples(res), 2);
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "opening");
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 1), "5.000");
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 2), "0.000");
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 3), "5.000");
    /* a stock set by an update is a count: the difference, from what it was to what was set */
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 1, 0), "count");
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 1, 2), "5.000");
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 1, 3), "3.000");
    CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 1, 1), "-2.000");
}

/* cache_get_many + a prefetched read: one round trip, still tag-checked and tenant-scoped. */
static void test_catalog_prefetched_reads(void)
{
    struct catalog c = cat(ta);
    struct catalog_out out;
    struct app_err err;
    struct product_query q = {"prefetch", -1, STOCK_ALL, 50, 0};
    const char *modules[2] = {"products", "uom"};
    const char *keys[2];
    struct cache_result pre[2];
    uint64_t before;

    make_product(&c, "PRE-1", "Prefetch one", -1, make_uom(&c, "Unit-prefetch", "up"), 100, 0, 0);
    keys[0] = catalog_product_list_key(arena, &q);
    keys[1] = "list:200:0";
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(catalog_uom_list(&c, 200, 0, &out, &err), 0);
    cache_get_many(&cache, arena, ta, 2, modules, keys, pre);
    CU_ASSERT_EQUAL(pre[0].status, CACHE_HIT);
    CU_ASSERT_EQUAL(pre[1].status, CACHE_HIT);
    /* the prefetched HIT answers without Redis or PostgreSQL */
    c.pre = &pre[0];
    c.pre_module = "products";
    c.pre_key = keys[0];
    before = queries();
    CU_ASSERT_EQUAL(catalog_product_list(&c, &q, &out, &err), 0);
    CU_ASSERT_EQUAL(out.cache, CACHE_HIT);
    CU_ASSERT_EQUAL(queries() - before, 0);
    CU_ASSERT_TRUE(has(&out, "Prefetch one"));
    c.pre = NULL;
    /* after an invalidation of one module only that one misses */
    cache_invalidate_module(&cache, arena, ta, "products");
    cache_get_many(&cache, arena, ta, 2, modules, keys, pre);
    CU_ASSERT_EQUAL(pre[0].status, CACHE_MISS);
    CU_ASSERT_EQUAL(pre[1].status, CACHE_HIT);
    /* the same keys under another tenant read nothing */
    cache_get_many(&cache, arena, tb, 2, modules, keys, pre);
    CU_ASSERT_EQUAL(pre[0].status, CACHE_MISS);
    CU_ASSERT_EQUAL(pre[1].status, CACHE_MISS);
}

int test_catalog_register(void)
{
    CU_pSuite s = CU_add_suite("catalog", suite_init, suite_clean);

    if (!s || !CU_add_test(s, "uom CRUD and errors", test_catalog_uom_crud_and_errors) ||
        !CU_add_test(s, "lists are fresh after every kind of write",
                     test_catalog_lists_are_fresh_after_every_write) ||
        !CU_add_test(s, "a hit costs no database query", test_catalog_hit_costs_no_query) ||
        !CU_add_test(s, "product filters and validation",
                     test_catalog_product_filters_and_validation) ||
        !CU_add_test(s, "other tenant sees nothing", test_catalog_other_tenant_sees_nothing) ||
        !CU_add_test(s, "same answers with the cache disabled",
                     test_catalog_same_answers_without_cache) ||
        !CU_add_test(s, "Redis down: served from PostgreSQL, writes visible after",
                     test_catalog_redis_down_serves_from_postgres) ||
        !CU_add_test(s, "stock changes are in the ledger",
                     test_catalog_stock_changes_are_in_the_ledger) ||
        !CU_add_test(s, "prefetched reads are current and tenant-scoped",
                     test_catalog_prefetched_reads))
        return -1;
    return 0;
}
