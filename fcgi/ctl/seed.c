/*
 * stockctl seed-demo: demo data for a tenant, set-based and all or nothing: the units and
 * categories it lacks, more products with opening stock, and optionally a sales history with
 * the shop's movements (receipts, damage, counts) and returns.
 */
#include "ctl/commands.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/cache.h"

#define SEED_PRODUCTS_DEFAULT 200
#define SEED_PRODUCTS_MAX     1000000
#define SEED_SALES_MAX        2000000
#define SEED_DAYS_DEFAULT     90
#define SEED_DAYS_MAX         3660

/* What to seed into which tenant (validated by cmd_seed_demo). */
struct seed_opts {
    const char *slug;
    int64_t tenant;
    long long products;
    long long sales;
    long long days;
};

/* What a seed added. */
struct seed_counts {
    long long units;
    long long categories;
    long long products;
    long long movements;
    long long sales;
    long long payments;
    long long returns;
};

/* The demo vocabulary. It goes to PostgreSQL as array parameters, never into the SQL text. */
struct seed_unit {
    const char *name;
    const char *abbreviation;
    bool whole; /* counted in whole pieces: its stock has no fraction */
};

static const struct seed_unit seed_units[] = {
    {"Unit", "u", true},   {"Kilogram", "kg", false},   {"Gram", "g", false},
    {"Litre", "l", false}, {"Millilitre", "ml", false}, {"Metre", "m", false},
    {"Box", "box", true},  {"Pack", "pack", true},
};

struct seed_category {
    const char *name;
    const char *description;
};

static const struct seed_category seed_categories[] = {
    {"Beverages", "Coffee, tea, juices and water"},
    {"Dairy", "Milk, cheese, yogurt and butter"},
    {"Bakery", "Bread and pastries, baked daily"},
    {"Fruit & Vegetables", "Fresh produce, sold by weight"},
    {"Meat & Fish", "From the butcher and the fishmonger"},
    {"Pantry", "Rice, pasta, oils, spices and sauces"},
    {"Snacks & Sweets", "Chips, chocolate, nuts and cookies"},
    {"Frozen Foods", "Ice cream, vegetables and ready meals"},
    {"Household", "Cleaning, paper goods and kitchen appliances"},
    {"Personal Care", "Soap, shampoo and cosmetics"},
    {"Hardware", "Tools, fasteners, cables and repair supplies"},
    {"Stationery", "Paper, pens and office supplies"},
};

/* A product kind: its category and unit (by name, as above) and a typical price per unit. */
struct seed_noun {
    const char *name;
    const char *category;
    const char *unit;
    const char *price;
};

static const struct seed_noun seed_nouns[] = {
    {"Coffee Beans", "Beverages", "Kilogram", "18.00"},
    {"Green Tea", "Beverages", "Box", "4.50"},
    {"Orange Juice", "Beverages", "Litre", "2.80"},
    {"Sparkling Water", "Beverages", "Litre", "0.90"},
    {"Whole Milk", "Dairy", "Litre", "1.20"},
    {"Greek Yogurt", "Dairy", "Pack", "3.40"},
    {"Cheddar Cheese", "Dairy", "Kilogram", "14.00"},
    {"Butter", "Dairy", "Pack", "2.90"},
    {"Sourdough Bread", "Bakery", "Unit", "4.20"},
    {"Croissants", "Bakery", "Pack", "3.80"},
    {"Bagels", "Bakery", "Pack", "3.20"},
    {"Apples", "Fruit & Vegetables", "Kilogram", "2.60"},
    {"Bananas", "Fruit & Vegetables", "Kilogram", "1.70"},
    {"Tomatoes", "Fruit & Vegetables", "Kilogram", "3.10"},
    {"Potatoes", "Fruit & Vegetables", "Kilogram", "1.30"},
    {"Chicken Breast", "Meat & Fish", "Kilogram", "11.50"},
    {"Ground Beef", "Meat & Fish", "Kilogram", "13.00"},
    {"Salmon Fillet", "Meat & Fish", "Kilogram", "24.00"},
    {"Olive Oil", "Pantry", "Litre", "9.50"},
    {"Basmati Rice", "Pantry", "Kilogram", "3.60"},
    {"Spaghetti", "Pantry", "Pack", "1.90"},
    {"Saffron", "Pantry", "Gram", "6.50"},
    {"Vanilla Extract", "Pantry", "Millilitre", "0.60"},
    {"Potato Chips", "Snacks & Sweets", "Pack", "2.20"},
    {"Dark Chocolate", "Snacks & Sweets", "Unit", "2.50"},
    {"Mixed Nuts", "Snacks & Sweets", "Kilogram", "16.00"},
    {"Butter Cookies", "Snacks & Sweets", "Box", "3.90"},
    {"Ice Cream", "Frozen Foods", "Litre", "5.50"},
    {"Frozen Peas", "Frozen Foods", "Kilogram", "2.40"},
    {"Stone-Baked Pizza", "Frozen Foods", "Unit", "4.90"},
    {"Dish Soap", "Household", "Litre", "3.20"},
    {"Paper Towels", "Household", "Pack", "5.80"},
    {"Trash Bags", "Household", "Box", "4.60"},
    {"Laundry Detergent", "Household", "Litre", "7.90"},
    {"Espresso Machine", "Household", "Unit", "299.00"},
    {"Shampoo", "Personal Care", "Unit", "5.20"},
    {"Toothpaste", "Personal Care", "Unit", "2.90"},
    {"Eau de Toilette", "Personal Care", "Millilitre", "0.90"},
    {"Hand Cream", "Personal Care", "Unit", "6.40"},
    {"Copper Wire", "Hardware", "Metre", "1.80"},
    {"Garden Hose", "Hardware", "Metre", "2.10"},
    {"Wood Screws", "Hardware", "Box", "6.90"},
    {"Cordless Drill", "Hardware", "Unit", "89.00"},
    {"Extension Cord", "Hardware", "Unit", "14.50"},
    {"Workbench", "Hardware", "Unit", "249.00"},
    {"Notebook", "Stationery", "Unit", "2.40"},
    {"Ballpoint Pens", "Stationery", "Box", "5.90"},
    {"Printer Paper", "Stationery", "Pack", "6.80"},
    {"Fountain Pen", "Stationery", "Unit", "45.00"},
};

static const char *const seed_brands[] = {
    "Acme",   "Northfield", "Bluebell",   "Sunridge", "Oakwood",
    "Meadow", "Harbor",     "Silverline", "Redstone", "Greenleaf",
};

static const char *const seed_adjectives[] = {
    "Classic", "Premium", "Everyday",  "Original",  "Select",       "Eco",
    "Deluxe",  "Value",   "Signature", "Essential", "Professional", "Gold",
};

#define SEED_COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Appends s to the array literal b as one quoted element. */
static void seed_array_add(struct buf *b, const char *s)
{
    buf_addch(b, b->len ? ',' : '{');
    buf_addch(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_addch(b, '\\');
        buf_addch(b, *s);
    }
    buf_addch(b, '"');
}

/* Closes the array literal b and returns a copy in the arena (NULL when out of memory). */
static const char *seed_array_end(struct buf *b, struct arena *a)
{
    const char *s;

    if (!b->len)
        buf_addch(b, '{');
    buf_addch(b, '}');
    s = b->failed ? NULL : arena_strdup(a, b->data);
    buf_release(b);
    return s;
}

/*
 * Sets out to the array literal {"x","y"...} of (arr)[i] field for every entry of the static
 * table arr (field is ".name" for a table of structs, empty for a table of strings), in arena
 * a; NULL when out of memory.
 */
#define SEED_ARRAY(a, arr, field, out)                                                             \
    do {                                                                                           \
        struct buf b_;                                                                             \
        size_t i_;                                                                                 \
        buf_init(&b_);                                                                             \
        for (i_ = 0; i_ < SEED_COUNT(arr); i_++)                                                   \
            seed_array_add(&b_, (arr)[i_] field);                                                  \
        (out) = seed_array_end(&b_, (a));                                                          \
    } while (0)

static double seed_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Serializes seeders of one tenant (two runs at once would pick the same SKUs) for the rest of
 * the transaction. NO KEY UPDATE does not conflict with the KEY SHARE lock that foreign keys
 * take, so the tenant's API writes go on meanwhile.
 */
static int seed_lock_tenant(struct ctl *c, const struct seed_opts *so, struct app_err *err)
{
    char tenant[24];
    const char *params[1] = {tenant};
    PGresult *res;

    snprintf(tenant, sizeof(tenant), "%" PRId64, so->tenant);
    res = db_exec(&c->db, c->a, "SELECT 1 FROM tenants WHERE id = $1::bigint FOR NO KEY UPDATE", 1,
                  params, err);
    if (!res)
        return -1;
    if (PQntuples(res) != 1)
        return err_set(err, ERR_NOT_FOUND, "tenant '%s' was deleted meanwhile", so->slug);
    return 0;
}

/*
 * Runs insert_sql, an INSERT of (tenant, names, second column) from params, and sets *added to
 * the rows it inserted. params[1] or params[2] NULL means an array ran out of memory.
 */
static int seed_insert(struct ctl *c, const char *insert_sql, const char *const *params,
                       long long *added, struct app_err *err)
{
    PGresult *res;

    if (!params[1] || !params[2])
        return err_set(err, ERR_INTERNAL, "out of memory");
    res = db_exec(&c->db, c->a, insert_sql, 3, params, err);
    if (!res)
        return -1;
    *added = strtoll(PQcmdTuples(res), NULL, 10);
    return 0;
}

/* Units and categories the tenant lacks (matched by name, whatever the case). */
static int seed_units_categories(struct ctl *c, const struct seed_opts *so, struct seed_counts *sc,
                                 struct app_err *err)
{
    char tenant[24];
    const char *params[3] = {tenant};

    snprintf(tenant, sizeof(tenant), "%" PRId64, so->tenant);
    SEED_ARRAY(c->a, seed_units, .name, params[1]);
    SEED_ARRAY(c->a, seed_units, .abbreviation, params[2]);
    if (seed_insert(c,
                    "INSERT INTO units (tenant_id, name, abbreviation) "
                    "SELECT $1::bigint, v.name, v.abbreviation "
                    "FROM unnest($2::text[], $3::text[]) AS v (name, abbreviation) "
                    "ON CONFLICT (tenant_id, lower(name)) DO NOTHING",
                    params, &sc->units, err))
        return -1;
    SEED_ARRAY(c->a, seed_categories, .name, params[1]);
    SEED_ARRAY(c->a, seed_categories, .description, params[2]);
    return seed_insert(c,
                       "INSERT INTO categories (tenant_id, name, description) "
                       "SELECT $1::bigint, v.name, v.description "
                       "FROM unnest($2::text[], $3::text[]) AS v (name, description) "
                       "ON CONFLICT (tenant_id, lower(name)) DO NOTHING",
                       params, &sc->categories, err);
}

/*
 * The products, in one set-based statement with their 'opening' stock movements. SKUs continue
 * after the tenant's highest DEMO-<number>, so a second run adds more. Names combine a brand,
 * an adjective and a product kind, walked by modulo so that neighbours differ (with 10 brands
 * and 49 kinds, coprime, 2940 products pass before a name repeats). Per thousand
 * products: 100 are out of stock, 200 low (0 < stock <= min_stock), about 43 without category.
 * Pieces (units marked whole) get whole stock numbers.
 */
static const char seed_products_sql[] =
    "WITH base AS ("
    " SELECT coalesce(max(substring(sku FROM 6)::bigint), 0) AS n0 FROM products"
    " WHERE tenant_id = $1::bigint AND lower(sku) ~ '^demo-[0-9]{1,18}$'),"
    " kind AS ("
    " SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::numeric[])"
    " WITH ORDINALITY AS v (noun, category, unit, price, k)),"
    " src AS ("
    " SELECT g.n, k.category, k.unit, k.unit = ANY ($9::text[]) AS whole,"
    " ($7::text[])[1 + g.n % cardinality($7::text[])] || ' ' ||"
    " ($8::text[])[1 + (g.n / cardinality($3::text[])) % cardinality($8::text[])] || ' ' ||"
    " k.noun AS name,"
    " 5 + g.n % 16 AS min_stock,"
    " round(least(500, greatest(0.5, k.price * (0.6 + random())::numeric)), 2) AS price,"
    " (0.5 + 0.2 * random())::numeric AS cost_ratio,"
    " random() AS r"
    " FROM base CROSS JOIN generate_series(base.n0 + 1, base.n0 + $2::bigint) AS g (n)"
    " JOIN kind k ON k.k = 1 + g.n % cardinality($3::text[])),"
    " p AS ("
    " INSERT INTO products (tenant_id, sku, name, category_id, uom_id, price, cost, stock,"
    " min_stock)"
    " SELECT $1::bigint,"
    " 'DEMO-' || CASE WHEN s.n < 1000000 THEN lpad(s.n::text, 6, '0') ELSE s.n::text END,"
    " s.name, c.id, u.id, s.price, round(s.price * s.cost_ratio, 2),"
    " CASE WHEN s.n % 10 = 0 THEN 0::numeric"
    " WHEN s.n % 10 IN (1, 2) AND s.whole THEN greatest(1, ceil(s.min_stock * s.r))::numeric"
    " WHEN s.n % 10 IN (1, 2) THEN greatest(0.001, round((s.min_stock * s.r)::numeric, 3))"
    " WHEN s.whole THEN s.min_stock + greatest(1, ceil((500 - s.min_stock) * s.r))::numeric"
    " ELSE s.min_stock + greatest(0.001, round(((500 - s.min_stock) * s.r)::numeric, 3))"
    " END,"
    " s.min_stock"
    " FROM src s"
    " JOIN units u ON u.tenant_id = $1::bigint AND lower(u.name) = lower(s.unit)"
    " LEFT JOIN categories c ON c.tenant_id = $1::bigint AND lower(c.name) = lower(s.category)"
    " AND s.n % 23 <> 0"
    " ORDER BY s.n"
    " RETURNING id, stock),"
    " m AS ("
    " INSERT INTO stock_movements (tenant_id, product_id, quantity, kind, stock_before,"
    " stock_after) SELECT $1::bigint, id, stock, 'opening', 0, stock FROM p WHERE stock > 0"
    " RETURNING 1)"
    " SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM m)";

static int seed_products(struct ctl *c, const struct seed_opts *so, struct seed_counts *sc,
                         struct app_err *err)
{
    char tenant[24], count[24];
    const char *params[9] = {tenant, count};
    struct buf whole;
    PGresult *res;
    size_t i;
    int j;

    snprintf(tenant, sizeof(tenant), "%" PRId64, so->tenant);
    snprintf(count, sizeof(count), "%lld", so->products);
    SEED_ARRAY(c->a, seed_nouns, .name, params[2]);
    SEED_ARRAY(c->a, seed_nouns, .category, params[3]);
    SEED_ARRAY(c->a, seed_nouns, .unit, params[4]);
    SEED_ARRAY(c->a, seed_nouns, .price, params[5]);
    SEED_ARRAY(c->a, seed_brands, , params[6]);
    SEED_ARRAY(c->a, seed_adjectives, , params[7]);
    buf_init(&whole);
    for (i = 0; i < SEED_COUNT(seed_units); i++)
        if (seed_units[i].whole)
            seed_array_add(&whole, seed_units[i].name);
    params[8] = seed_array_end(&whole, c->a);
    for (j = 2; j < 9; j++)
        if (!params[j])
            return err_set(err, ERR_INTERNAL, "out of memory");

    /* Room for sorting a million rows by SKU in memory; LOCAL ends with the transaction. */
    if (!db_exec(&c->db, c->a, "SET LOCAL work_mem = '64MB'", 0, NULL, err))
        return -1;
    res = db_exec(&c->db, c->a, seed_products_sql, 9, params, err);
    if (!res)
        return -1;
    sc->products = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    sc->movements = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    return 0;
}

/*
 * The catalog part of the demo data, inside the caller's transaction: units and categories
 * when missing, then so->products more products with their opening stock. 0 or -1 with err.
 */
static int seed_catalog(struct ctl *c, const struct seed_opts *so, struct seed_counts *sc,
                        struct app_err *err)
{
    if (seed_units_categories(c, so, sc, err))
        return -1;
    if (so->products > 0 && seed_products(c, so, sc, err))
        return -1;
    return 0;
}

/*
 * The sales history, set-based, inside the caller's transaction: so->sales sales created over
 * the last so->days days, each with 1 to 3 lines of the tenant's products at their price.
 * Per 20 sales: 1 draft, 1 confirmed then cancelled, 18 confirmed; of the confirmed, 5 in 7 are
 * paid in full, 1 in 7 half, 1 in 7 not at all, by cash, card or transfer, within three days
 * of the confirmation. Sale ids are drawn from the sequence first so that lines and payments
 * can refer to them in the same pass. History does not move today's stock (it predates the
 * seeded stock count), so it writes no ledger rows. The balance summary is rebuilt from the
 * raw rows at the end.
 */
static const struct seed_stmt {
    int nparams; /* the statement uses $1..$n of (tenant, count, days, customers) */
    const char *sql;
} seed_sales_sql[] = {
    {3, "CREATE TEMP TABLE seed_s ON COMMIT DROP AS"
        " SELECT nextval(pg_get_serial_sequence('sales', 'id')) AS id, g.n,"
        " CASE WHEN g.n % 20 = 0 THEN 'draft' WHEN g.n % 20 = 1 THEN 'cancelled'"
        " ELSE 'confirmed' END AS status,"
        " now() - random() * $3::int * interval '1 day' AS at"
        " FROM generate_series(1, $2::bigint) AS g (n) WHERE $1::bigint > 0"},

    {1,
     "CREATE TEMP TABLE seed_l ON COMMIT DROP AS"
     " WITH prod AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(price ORDER BY id) AS"
     " prices FROM products WHERE tenant_id = $1::bigint)"
     " SELECT s.id AS sale_id, prod.ids[i.idx] AS product_id, (1 + (s.n + k) % 4)::numeric AS qty,"
     " prod.prices[i.idx] AS price,"
     " round((1 + (s.n + k) % 4) * prod.prices[i.idx], 2) AS lt"
     " FROM seed_s s CROSS JOIN prod CROSS JOIN generate_series(1, 1 + (s.n % 3)::int) AS k"
     " CROSS JOIN LATERAL (SELECT 1 + ((s.n * 7 + k * 13) % cardinality(prod.ids))::int AS idx) i"},

    {4, "INSERT INTO sales (id, tenant_id, customer, status, total, confirmed_at, cancelled_at,"
        " balance_day, created_at, updated_at)"
        " SELECT s.id, $1::bigint,"
        " CASE WHEN s.n % 5 = 0 THEN NULL ELSE ($4::text[])[1 + s.n % cardinality($4::text[])] END,"
        " s.status, t.total,"
        " CASE WHEN s.status = 'draft' THEN NULL ELSE s.at END,"
        " CASE WHEN s.status = 'cancelled' THEN s.at + interval '1 hour' END,"
        " CASE WHEN s.status = 'draft' THEN NULL"
        " ELSE (s.at AT TIME ZONE (SELECT timezone FROM tenants WHERE id = $1::bigint))::date END,"
        " s.at - interval '10 minutes', s.at"
        " FROM seed_s s JOIN (SELECT sale_id, sum(lt) AS total FROM seed_l GROUP BY sale_id) t"
        " ON t.sale_id = s.id WHERE $2::bigint > 0 AND $3::int > 0"},

    /* the cost of a confirmed (or cancelled) line is the product's at seeding (sql/016) */
    {1, "INSERT INTO sale_lines (tenant_id, sale_id, product_id, quantity, unit_price, line_total,"
        " unit_cost) SELECT $1::bigint, l.sale_id, l.product_id, l.qty, l.price, l.lt,"
        " CASE WHEN s.status <> 'draft' THEN p.cost END FROM seed_l l"
        " JOIN seed_s s ON s.id = l.sale_id"
        " JOIN products p ON p.tenant_id = $1::bigint AND p.id = l.product_id"},

    {1,
     "INSERT INTO payments (tenant_id, sale_id, amount, method, paid_at, balance_day, created_at)"
     " SELECT $1::bigint, s.id, p.amount, (ARRAY['cash', 'card', 'transfer'])[1 + s.n % 3],"
     " p.at, (p.at AT TIME ZONE (SELECT timezone FROM tenants WHERE id = $1::bigint))::date, p.at"
     " FROM seed_s s JOIN sales x ON x.tenant_id = $1::bigint AND x.id = s.id"
     " CROSS JOIN LATERAL (SELECT CASE WHEN s.n % 7 < 5 THEN x.total"
     " ELSE round(x.total / 2, 2) END AS amount,"
     " least(now(), s.at + (s.n % 72) * interval '1 hour') AS at) p"
     " WHERE s.status = 'confirmed' AND s.n % 7 <> 6 AND p.amount > 0"},

    {1, "SELECT stock_balance_rebuild($1::bigint)"},
};

static int seed_sales(struct ctl *c, const struct seed_opts *so, struct seed_counts *sc,
                      struct app_err *err)
{
    static const char *const customers[] = {
        "Ana Souza",    "Bruno Lima",     "Carla Mendes", "Diego Rocha",  "Elena Costa",
        "Felipe Alves", "Gabriela Dias",  "Hugo Pereira", "Isabel Nunes", "Joao Martins",
        "Karina Lopes", "Lucas Ferreira", "Marta Gomes",  "Nina Ribeiro", "Otavio Reis"};
    char tenant[24], count[24], days[24];
    const char *params[4] = {tenant, count, days};
    struct buf arr;
    PGresult *res;
    size_t i;

    snprintf(tenant, sizeof(tenant), "%" PRId64, so->tenant);
    snprintf(count, sizeof(count), "%lld", so->sales);
    snprintf(days, sizeof(days), "%lld", so->days);
    buf_init(&arr);
    for (i = 0; i < SEED_COUNT(customers); i++)
        seed_array_add(&arr, customers[i]);
    params[3] = seed_array_end(&arr, c->a);
    if (!params[3])
        return err_set(err, ERR_INTERNAL, "out of memory");
    res = db_exec(&c->db, c->a, "SELECT count(*) FROM products WHERE tenant_id = $1::bigint", 1,
                  params, err);
    if (!res)
        return -1;
    if (!strcmp(PQgetvalue(res, 0, 0), "0"))
        return err_set(err, ERR_INVALID, "the tenant has no products to sell: seed products too");
    if (!db_exec(&c->db, c->a, "SET LOCAL work_mem = '256MB'", 0, NULL, err))
        return -1;
    for (i = 0; i < SEED_COUNT(seed_sales_sql); i++) {
        res = db_exec(&c->db, c->a, seed_sales_sql[i].sql, seed_sales_sql[i].nparams, params, err);
        if (!res)
            return -1;
        if (i == 2)
            sc->sales = strtoll(PQcmdTuples(res), NULL, 10);
        if (i == 4)
            sc->payments = strtoll(PQcmdTuples(res), NULL, 10);
    }
    return 0;
}

/*
 * With a sales history, the shop's day-to-day too: receipts of a delivery (by the tenant's
 * first staff user when there is one, else its first admin), some damage and shelf counts,
 * and returns of a few recent sales, refunded when they were paid. Everything goes through
 * stock_move() (sql/009), so the ledger adds up to the stock; the balance summary is rebuilt
 * once more at the end.
 */
#define SEED_USERS                                                                                 \
    " u AS (SELECT (SELECT id FROM users WHERE tenant_id = $1::bigint AND role = 'admin'"          \
    " AND disabled_at IS NULL ORDER BY id LIMIT 1) AS admin,"                                      \
    " coalesce((SELECT id FROM users WHERE tenant_id = $1::bigint AND role = 'staff'"              \
    " AND disabled_at IS NULL ORDER BY id LIMIT 1), (SELECT id FROM users"                         \
    " WHERE tenant_id = $1::bigint AND role = 'admin' ORDER BY id LIMIT 1)) AS staff)"
#define SEED_SHOP_PRODUCTS                                                                         \
    " p AS (SELECT id, cost, stock, row_number() OVER (ORDER BY id) AS n FROM products"            \
    " WHERE tenant_id = $1::bigint ORDER BY id LIMIT 30)"
static const struct {
    const char *sql;
} seed_shop_sql[] = {
    {"WITH" SEED_USERS "," SEED_SHOP_PRODUCTS
     " SELECT count(stock_move($1::bigint, p.id, 'receipt', 12, NULL, u.staff, p.cost,"
     " 'demo delivery', 'PO-' || lpad(p.n::text, 4, '0'), NULL)) FROM p, u"},

    {"WITH" SEED_USERS "," SEED_SHOP_PRODUCTS
     " SELECT count(stock_move($1::bigint, p.id, 'damage', -1, NULL, u.admin, NULL,"
     " 'broken in the back room', NULL, NULL)) FROM p, u WHERE p.n % 4 = 0"},

    {"WITH" SEED_USERS "," SEED_SHOP_PRODUCTS
     " SELECT count(stock_move($1::bigint, p.id, 'count', greatest(p.stock - 1, 0), NULL,"
     " u.admin, NULL, 'shelf count', NULL, NULL)) FROM p, u WHERE p.n % 5 = 0"},

    {"CREATE TEMP TABLE seed_r ON COMMIT DROP AS"
     " SELECT nextval(pg_get_serial_sequence('sale_returns', 'id')) AS id, s.id AS sale_id,"
     " l.product_id, l.unit_price, l.unit_cost,"
     " (SELECT coalesce(sum(amount), 0) FROM payments y WHERE y.tenant_id = $1::bigint"
     " AND y.sale_id = s.id) AS paid,"
     " (SELECT method FROM payments y WHERE y.tenant_id = $1::bigint AND y.sale_id = s.id"
     " ORDER BY y.id LIMIT 1) AS method,"
     " (now() AT TIME ZONE (SELECT timezone FROM tenants WHERE id = $1::bigint))::date AS day"
     " FROM sales s CROSS JOIN LATERAL (SELECT product_id, unit_price, unit_cost FROM sale_lines l"
     " WHERE l.tenant_id = $1::bigint AND l.sale_id = s.id ORDER BY l.id LIMIT 1) l"
     " WHERE s.tenant_id = $1::bigint AND s.status = 'confirmed'"
     " ORDER BY s.confirmed_at DESC, s.id DESC LIMIT 8"},

    {"WITH" SEED_USERS ","
     " y AS (INSERT INTO payments (tenant_id, sale_id, amount, method, kind, paid_at,"
     " balance_day, reference) SELECT $1::bigint, sale_id, -unit_price, method, 'refund', now(),"
     " day, 'demo return' FROM seed_r WHERE unit_price > 0 AND paid >= unit_price"
     " RETURNING id, sale_id)"
     " INSERT INTO sale_returns (id, tenant_id, sale_id, returned_total, refund_id, note, user_id,"
     " balance_day) SELECT r.id, $1::bigint, r.sale_id, r.unit_price, y.id, 'demo return',"
     " u.admin, r.day FROM seed_r r CROSS JOIN u LEFT JOIN y ON y.sale_id = r.sale_id"},

    {"INSERT INTO sale_return_lines (tenant_id, return_id, sale_id, product_id, quantity,"
     " unit_price, line_total, unit_cost, cost_total) SELECT $1::bigint, id, sale_id, product_id,"
     " 1, unit_price, unit_price, unit_cost, unit_cost FROM seed_r"},

    {"WITH" SEED_USERS
     " SELECT count(stock_move($1::bigint, r.product_id, 'return', 1, r.sale_id, u.admin, NULL,"
     " 'demo return', NULL, r.id)) FROM seed_r r, u"},

    {"SELECT stock_balance_rebuild($1::bigint)"},
};
#undef SEED_USERS
#undef SEED_SHOP_PRODUCTS

static int seed_shop(struct ctl *c, const struct seed_opts *so, struct seed_counts *sc,
                     struct app_err *err)
{
    char tenant[24];
    const char *params[1] = {tenant};
    PGresult *res;
    size_t i;

    snprintf(tenant, sizeof(tenant), "%" PRId64, so->tenant);
    for (i = 0; i < SEED_COUNT(seed_shop_sql); i++) {
        res = db_exec(&c->db, c->a, seed_shop_sql[i].sql, 1, params, err);
        if (!res)
            return -1;
        if (i < 3)
            sc->movements += strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        if (i == 6)
            sc->returns = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    }
    return 0;
}

/*
 * Makes the tenant's cached entries stale, after the commit: the seed's invalidations
 * committed with it in the outbox (sql/008), and are applied here. A Redis that cannot be
 * reached does not fail the seed: the rows stay in the outbox for the hosts to apply, and no
 * host serves a cached read before it has (core/cache_outbox.c).
 */
static void seed_invalidate(struct ctl *c, const struct seed_opts *so)
{
    struct cache cache;

    cache_init(&cache, &c->cf, &c->db);
    if (cache_settle_tenant(&cache, c->a, so->tenant) != 0)
        fprintf(stderr,
                "stockctl: warning: cannot reach redis (%s): the cache invalidation of tenant "
                "'%s' is in the outbox for the hosts to apply\n",
                cache.redis.last_error[0] ? cache.redis.last_error : "unavailable", so->slug);
    cache_release(&cache);
}

int cmd_seed_demo(struct ctl *c, int argc, char **argv)
{
    const char *products = NULL, *sales = NULL, *days = NULL, *pos[1];
    struct seed_opts so = {"demo", 0, SEED_PRODUCTS_DEFAULT, 0, SEED_DAYS_DEFAULT};
    const struct ctl_opt opts[] = {{"tenant", &so.slug},
                                   {"products", &products},
                                   {"sales", &sales},
                                   {"days", &days},
                                   {NULL, NULL}};
    struct seed_counts sc = {0, 0, 0, 0, 0, 0, 0};
    struct app_err err;
    double started;
    int npos, rc;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if ((products && ctl_parse_count("products", products, 0, SEED_PRODUCTS_MAX, &so.products)) ||
        (sales && ctl_parse_count("sales", sales, 0, SEED_SALES_MAX, &so.sales)) ||
        (days && ctl_parse_count("days", days, 1, SEED_DAYS_MAX, &so.days)))
        return CTL_FAIL;
    if ((rc = ctl_start(c)))
        return rc;
    if ((so.tenant = ctl_tenant_id(c, so.slug)) < 0)
        return CTL_FAIL;

    started = seed_now();
    err_clear(&err);
    /* All or nothing: a failure leaves the tenant as it was. */
    if (db_begin(&c->db, &err) || seed_lock_tenant(c, &so, &err) ||
        seed_catalog(c, &so, &sc, &err) || (so.sales > 0 && seed_sales(c, &so, &sc, &err)) ||
        (so.sales > 0 && seed_shop(c, &so, &sc, &err)) || db_commit(&c->db, &err)) {
        char what[160];

        db_rollback(&c->db);
        snprintf(what, sizeof(what), "cannot seed tenant '%s'", so.slug);
        return ctl_fail_db(what, &err);
    }
    seed_invalidate(c, &so);
    printf("seeded tenant %s: %lld units, %lld categories, %lld products, %lld sales, %lld "
           "payments, %lld movements, %lld returns in %.1f s\n",
           so.slug, sc.units, sc.categories, sc.products, sc.sales, sc.payments, sc.movements,
           sc.returns, seed_now() - started);
    return CTL_OK;
}
