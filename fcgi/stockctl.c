/*
 * stockctl: the admin CLI of SPEC §6 (migrations, tenants, users, cache). It reads the same
 * configuration as the workers and talks to PostgreSQL through core/db and to Redis through
 * core/cache (whose connection is core/redis).
 * Exit status: 0 done, 1 failure or invalid value, 2 usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/cache.h"
#include "core/config.h"
#include "core/db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/redis.h"
#include "core/shared.h"

/* Generated from the sql/ files by deploy/embed-sql.sh: {name, sql} in order, then {NULL, NULL}. */
struct migration {
    const char *name;
    const char *sql;
};
extern const struct migration stock_migrations[];

#define CTL_OK    0
#define CTL_FAIL  1
#define CTL_USAGE 2

/* Serializes concurrent `stockctl migrate` runs: the bytes of "stockmig". */
#define CTL_MIGRATE_LOCK "8319396884454926695"

#define CTL_PASSWORD_MIN 8
#define CTL_PASSWORD_MAX 128

static const char ctl_usage_text[] =
    "usage: stockctl COMMAND [ARGS]\n"
    "\n"
    "  migrate                                  apply the pending migrations (idempotent)\n"
    "  tenant create SLUG NAME [--timezone TZ]  create a tenant and print its id\n"
    "  user create --tenant SLUG --email EMAIL [--role admin|staff]\n"
    "                                           create a user (default role staff) and print\n"
    "                                           its id; the password is the first line of\n"
    "                                           standard input (8 to 128 characters)\n"
    "  seed-demo [--tenant SLUG] [--products N] [--sales N] [--days N]\n"
    "                                           add demo data to a tenant (default demo):\n"
    "                                           the units and categories it lacks, then N\n"
    "                                           more products (default 200, at most 1000000)\n"
    "                                           with opening stock; prints what it added.\n"
    "                                           --sales N (default 0) more confirmed sales,\n"
    "                                           half of them paid, over the last --days N\n"
    "                                           (default 90)\n"
    "  purge                                    delete expired sessions and Idempotency-Key\n"
    "                                           records older than a day, in every tenant;\n"
    "                                           prints how many (run it daily: see\n"
    "                                           deploy/systemd/stock-purge.timer)\n"
    "  cache stats --tenant SLUG [--module M]   count the tenant's cached keys per module\n"
    "  cache flush --tenant SLUG [--module M]   delete the tenant's cached keys\n"
    "\n"
    "Configuration as for the workers: the environment, then the file $STOCK_ENV_FILE\n"
    "(default .env), then defaults.\n"
    "Exit status: 0 done, 1 failure or invalid value, 2 usage error.\n";

struct ctl {
    struct config cf;
    struct db db;
    struct arena *a;
};

/* A bounded, printable copy of user input for an error message (one use per message). */
static const char *ctl_shown(const char *s)
{
    static char shown[84];
    size_t i, j = 0;

    for (i = 0; s[i] && j < sizeof(shown) - 4; i++)
        shown[j++] = isprint((unsigned char)s[i]) ? s[i] : '?';
    if (s[i]) {
        memcpy(shown + j, "...", 3);
        j += 3;
    }
    shown[j] = '\0';
    return shown;
}

/* Prints "stockctl: ..." and returns CTL_FAIL. */
static int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ctl_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("stockctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_FAIL;
}

/* Prints "stockctl: ..." and a hint, and returns CTL_USAGE. */
static int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ctl_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("stockctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'stockctl --help'.\n", stderr);
    return CTL_USAGE;
}

/* A database failure: the client-safe message, then libpq's text (this is an admin tool). */
static int ctl_fail_db(const char *what, const struct app_err *err)
{
    if (err->detail[0])
        return ctl_fail("%s: %s (%s)", what, err->msg, err->detail);
    return ctl_fail("%s: %s", what, err->msg);
}

struct ctl_opt {
    const char *name; /* without the leading "--" */
    const char **value;
};

/*
 * Parses argv into "--name VALUE" / "--name=VALUE" options and at most maxpos positional
 * arguments. Returns 0, or CTL_USAGE after printing why.
 */
static int ctl_parse(int argc, char **argv, const struct ctl_opt *opts, const char **pos,
                     int maxpos, int *npos)
{
    int i, j;

    *npos = 0;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq;
        size_t len;

        if (strncmp(arg, "--", 2) || !arg[2]) {
            if (*npos >= maxpos)
                return ctl_usage("unexpected argument '%s'", ctl_shown(arg));
            pos[(*npos)++] = arg;
            continue;
        }
        arg += 2;
        eq = strchr(arg, '=');
        len = eq ? (size_t)(eq - arg) : strlen(arg);
        for (j = 0; opts[j].name; j++)
            if (strlen(opts[j].name) == len && !strncmp(opts[j].name, arg, len))
                break;
        if (!opts[j].name)
            return ctl_usage("unknown option '--%s'", ctl_shown(arg));
        if (eq) {
            *opts[j].value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return ctl_usage("option '--%s' needs a value", opts[j].name);
            *opts[j].value = argv[++i];
        }
    }
    return 0;
}

/* Loads the configuration (environment, then $STOCK_ENV_FILE or .env) and prepares db. */
static int ctl_setup(struct ctl *c)
{
    const char *env_file = getenv("STOCK_ENV_FILE");
    char errbuf[512];

    if (!env_file || !*env_file)
        env_file = ".env";
    if (config_load_env(&c->cf, env_file, errbuf, sizeof(errbuf)))
        return ctl_fail("%s", errbuf);
    /* The CLI reports failures itself: the workers' warnings would only repeat them. */
    log_set_level(c->cf.log_level == LOG_DEBUG ? LOG_DEBUG : LOG_ERROR);
    db_init(&c->db, c->cf.database_url);
    c->a = arena_new();
    return 0;
}

static void ctl_teardown(struct ctl *c)
{
    if (c->a) {
        arena_free(c->a);
        db_release(&c->db);
    }
}

/* Checks the database connection, with a clear message when it is down. */
static int ctl_connect(struct ctl *c)
{
    struct app_err err;

    err_clear(&err);
    if (db_connect(&c->db, &err))
        return ctl_fail_db("cannot connect to the database", &err);
    return 0;
}

/* The id of tenant slug, or -1 after printing why. */
static int64_t ctl_tenant_id(struct ctl *c, const char *slug)
{
    const char *params[1] = {slug};
    struct app_err err;
    PGresult *res;

    err_clear(&err);
    res = db_exec(&c->db, c->a, "SELECT id FROM tenants WHERE slug = $1", 1, params, &err);
    if (!res) {
        ctl_fail_db("cannot look the tenant up", &err);
        return -1;
    }
    if (PQntuples(res) != 1) {
        ctl_fail("tenant '%s' not found", ctl_shown(slug));
        return -1;
    }
    return strtoll(PQgetvalue(res, 0, 0), NULL, 10);
}

/* ---- migrate ---- */

static int cmd_migrate(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_opt opts[] = {{NULL, NULL}};
    const struct migration *m;
    const char *pos[1];
    struct app_err err;
    int npos, rc, applied = 0;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if ((rc = ctl_setup(c)) || (rc = ctl_connect(c)))
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

/* ---- tenant create ---- */

static bool ctl_slug_valid(const char *s)
{
    size_t i, n = strlen(s);

    if (n < 1 || n > 63)
        return false;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool ctl_blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static int cmd_tenant_create(struct ctl *c, int argc, char **argv)
{
    const char *tz = "UTC", *pos[2];
    const struct ctl_opt opts[] = {{"timezone", &tz}, {NULL, NULL}};
    const char *params[3];
    struct app_err err;
    PGresult *res;
    int npos, rc;

    if ((rc = ctl_parse(argc, argv, opts, pos, 2, &npos)))
        return rc;
    if (npos != 2)
        return ctl_usage("tenant create needs SLUG and NAME");
    if (!ctl_slug_valid(pos[0]))
        return ctl_fail("invalid slug '%s': expected 1 to 63 characters among a-z, 0-9 and '-'",
                        ctl_shown(pos[0]));
    if (ctl_blank(pos[1]) || strlen(pos[1]) > 200)
        return ctl_fail("invalid name '%s': expected 1 to 200 characters", ctl_shown(pos[1]));
    if (!*tz || strlen(tz) > 64)
        return ctl_fail("unknown time zone '%s'", ctl_shown(tz));
    if ((rc = ctl_setup(c)) || (rc = ctl_connect(c)))
        return rc;

    err_clear(&err);
    params[0] = tz;
    res = db_exec(&c->db, c->a, "SELECT 1 FROM pg_timezone_names WHERE name = $1", 1, params, &err);
    if (!res)
        return ctl_fail_db("cannot check the time zone", &err);
    if (PQntuples(res) != 1)
        return ctl_fail("unknown time zone '%s'", ctl_shown(tz));

    params[0] = pos[0];
    params[1] = pos[1];
    params[2] = tz;
    res = db_exec(&c->db, c->a,
                  "INSERT INTO tenants (slug, name, timezone) VALUES ($1, $2, $3) RETURNING id", 3,
                  params, &err);
    if (!res && err.code == ERR_CONFLICT)
        return ctl_fail("tenant '%s' already exists", pos[0]);
    if (!res)
        return ctl_fail_db("cannot create the tenant", &err);
    printf("%s\n", PQgetvalue(res, 0, 0));
    return CTL_OK;
}

/* ---- user create ---- */

/* A deliberately simple check: one '@' with text on both sides, no spaces, at most 254. */
static bool ctl_email_valid(const char *s)
{
    const char *at = strchr(s, '@');
    size_t n = strlen(s);

    if (n < 3 || n > 254 || !at || at == s || !at[1] || strchr(at + 1, '@'))
        return false;
    for (; *s; s++)
        if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
            return false;
    return true;
}

/*
 * Reads the password: the first line of standard input, without echo when it is a terminal.
 * Returns a malloc'd string the caller wipes and frees, or NULL after printing why.
 */
static char *ctl_read_password(void)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO), echo_off = false;
    char *line = NULL;
    size_t cap = 0, chars = 0, i;
    ssize_t n;

    if (tty) {
        fputs("password: ", stderr);
        fflush(stderr);
        if (!tcgetattr(STDIN_FILENO, &old)) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            echo_off = !tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
    }
    n = getline(&line, &cap, stdin);
    if (echo_off) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n <= 0) {
        free(line);
        ctl_fail("no password on standard input");
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    /* Count characters, not bytes, so a UTF-8 password is not penalized. */
    for (i = 0; i < (size_t)n; i++)
        if (((unsigned char)line[i] & 0xC0) != 0x80)
            chars++;
    if (strlen(line) != (size_t)n || chars < CTL_PASSWORD_MIN || chars > CTL_PASSWORD_MAX) {
        sodium_memzero(line, cap);
        free(line);
        ctl_fail("the password must be %d to %d characters on one line", CTL_PASSWORD_MIN,
                 CTL_PASSWORD_MAX);
        return NULL;
    }
    return line;
}

static int cmd_user_create(struct ctl *c, int argc, char **argv)
{
    const char *slug = NULL, *email_in = NULL, *role = "staff", *pos[1];
    const struct ctl_opt opts[] = {
        {"tenant", &slug}, {"email", &email_in}, {"role", &role}, {NULL, NULL}};
    char email[256], hash[crypto_pwhash_STRBYTES], idbuf[24];
    const char *params[4];
    struct app_err err;
    PGresult *res;
    char *password;
    int64_t tenant;
    int npos, rc, hashed;
    size_t i;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if (!slug || !email_in)
        return ctl_usage("user create needs --tenant SLUG and --email EMAIL");
    if (!ctl_email_valid(email_in))
        return ctl_fail("invalid email '%s'", ctl_shown(email_in));
    if (strcmp(role, "admin") && strcmp(role, "staff"))
        return ctl_fail("invalid role '%s': expected admin or staff", ctl_shown(role));
    for (i = 0; email_in[i]; i++)
        email[i] = (char)tolower((unsigned char)email_in[i]);
    email[i] = '\0';
    if (sodium_init() < 0)
        return ctl_fail("cannot initialize libsodium");
    if ((rc = ctl_setup(c)) || (rc = ctl_connect(c)))
        return rc;
    if ((tenant = ctl_tenant_id(c, slug)) < 0)
        return CTL_FAIL;

    if (!(password = ctl_read_password()))
        return CTL_FAIL;
    hashed =
        crypto_pwhash_str_alg(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
    sodium_memzero(password, strlen(password));
    free(password);
    if (hashed != 0)
        return ctl_fail("cannot hash the password: out of memory");

    snprintf(idbuf, sizeof(idbuf), "%" PRId64, tenant);
    params[0] = idbuf;
    params[1] = email;
    params[2] = hash;
    params[3] = role;
    err_clear(&err);
    res = db_exec(&c->db, c->a,
                  "INSERT INTO users (tenant_id, email, password_hash, role) "
                  "VALUES ($1, $2, $3, $4) RETURNING id",
                  4, params, &err);
    sodium_memzero(hash, sizeof(hash));
    if (!res && err.code == ERR_CONFLICT)
        return ctl_fail("user '%s' already exists in tenant '%s'", ctl_shown(email), slug);
    if (!res)
        return ctl_fail_db("cannot create the user", &err);
    printf("%s\n", PQgetvalue(res, 0, 0));
    return CTL_OK;
}

/* ---- cache stats / flush ---- */

/* The modules to act on: the one named (validated), or every known module. */
static int ctl_modules(const char *module, const char **mods, int *n)
{
    int i;

    *n = 0;
    if (module) {
        enum shared_module m = shared_module_of(module);

        if (m == MOD_OTHER) {
            ctl_fail("unknown cache module '%s': expected one of balance, products, categories, "
                     "uom",
                     ctl_shown(module));
            return -1;
        }
        mods[(*n)++] = shared_module_name(m);
        return 0;
    }
    for (i = 0; i < MOD_OTHER; i++)
        mods[(*n)++] = shared_module_name((enum shared_module)i);
    return 0;
}

static int cmd_cache(struct ctl *c, const char *action, int argc, char **argv)
{
    const char *slug = NULL, *module = NULL, *pos[1], *mods[MOD_COUNT];
    const struct ctl_opt opts[] = {{"tenant", &slug}, {"module", &module}, {NULL, NULL}};
    struct config ccf;
    struct cache cache;
    int64_t tenant;
    int npos, nmods, rc, i;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if (!slug)
        return ctl_usage("cache %s needs --tenant SLUG", action);
    if (ctl_modules(module, mods, &nmods))
        return CTL_FAIL;
    if ((rc = ctl_setup(c)) || (rc = ctl_connect(c)))
        return rc;
    if ((tenant = ctl_tenant_id(c, slug)) < 0)
        return CTL_FAIL;
    /*
     * An explicit admin action works whatever CACHE_ENABLED says: entries left by a run with
     * the cache enabled must be flushable before it is enabled again (see core/cache.c).
     */
    ccf = c->cf;
    ccf.cache_enabled = true;
    cache_init(&cache, &ccf, &c->db);

    if (!strcmp(action, "flush")) {
        for (i = 0; i < nmods; i++) {
            long n = cache_delete_pattern(&cache, c->a, tenant, mods[i], "*");

            if (n < 0) {
                rc = ctl_fail("cannot flush module '%s': %s", mods[i],
                              cache.redis.last_error[0] ? cache.redis.last_error
                                                        : "redis unavailable");
                break;
            }
            /* The pattern delete spares the generation key: move it on as well, so that
             * nothing a worker was computing meanwhile can be stored as current. */
            if (cache_invalidate_module(&cache, c->a, tenant, mods[i]) != 0) {
                rc = ctl_fail("cannot invalidate module '%s': %s", mods[i],
                              cache.redis.last_error[0] ? cache.redis.last_error
                                                        : "redis unavailable");
                break;
            }
            printf("%-12s %6ld keys deleted\n", mods[i], n);
        }
    } else if (redis_ready(&cache.redis)) {
        rc = ctl_fail("cannot connect to redis: %s", cache.redis.last_error);
    } else {
        for (i = 0; i < nmods; i++) {
            struct cache_module_stats st;
            char gen[80];

            if (cache_module_stats(&cache, c->a, tenant, mods[i], &st)) {
                rc = ctl_fail("cannot count the keys of module '%s': %s", mods[i],
                              cache.redis.last_error[0] ? cache.redis.last_error
                                                        : "unexpected reply");
                break;
            }
            snprintf(gen, sizeof(gen), "%s", st.generation ? st.generation : "none");
            printf("%-12s %6ld keys  generation %s\n", mods[i], st.keys, gen);
        }
    }
    cache_release(&cache);
    return rc;
}

/* ---- seed-demo ---- */

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
 * Parses the value of option --name: a decimal integer from min to max, digits only. Returns 0,
 * or CTL_FAIL after printing why.
 */
static int ctl_parse_count(const char *name, const char *s, long long min, long long max,
                           long long *out)
{
    char *end;
    long long v = -1;

    errno = 0;
    if (isdigit((unsigned char)s[0])) {
        v = strtoll(s, &end, 10);
        if (errno || *end)
            v = -1;
    }
    if (v < min || v > max)
        return ctl_fail("invalid --%s '%s': expected a whole number from %lld to %lld", name,
                        ctl_shown(s), min, max);
    *out = v;
    return 0;
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

/* Units and categories the tenant lacks (matched by name, whatever the case). */
static int seed_units_categories(struct ctl *c, const struct seed_opts *so, struct seed_counts *sc,
                                 struct app_err *err)
{
    char tenant[24];
    const char *params[3] = {tenant};
    PGresult *res;

    snprintf(tenant, sizeof(tenant), "%" PRId64, so->tenant);
    SEED_ARRAY(c->a, seed_units, .name, params[1]);
    SEED_ARRAY(c->a, seed_units, .abbreviation, params[2]);
    if (!params[1] || !params[2])
        return err_set(err, ERR_INTERNAL, "out of memory");
    res = db_exec(&c->db, c->a,
                  "INSERT INTO units (tenant_id, name, abbreviation) "
                  "SELECT $1::bigint, v.name, v.abbreviation "
                  "FROM unnest($2::text[], $3::text[]) AS v (name, abbreviation) "
                  "ON CONFLICT (tenant_id, lower(name)) DO NOTHING",
                  3, params, err);
    if (!res)
        return -1;
    sc->units = strtoll(PQcmdTuples(res), NULL, 10);

    SEED_ARRAY(c->a, seed_categories, .name, params[1]);
    SEED_ARRAY(c->a, seed_categories, .description, params[2]);
    if (!params[1] || !params[2])
        return err_set(err, ERR_INTERNAL, "out of memory");
    res = db_exec(&c->db, c->a,
                  "INSERT INTO categories (tenant_id, name, description) "
                  "SELECT $1::bigint, v.name, v.description "
                  "FROM unnest($2::text[], $3::text[]) AS v (name, description) "
                  "ON CONFLICT (tenant_id, lower(name)) DO NOTHING",
                  3, params, err);
    if (!res)
        return -1;
    sc->categories = strtoll(PQcmdTuples(res), NULL, 10);
    return 0;
}

/*
 * The products, in one set-based statement with their 'initial' stock movements. SKUs continue
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
    " INSERT INTO stock_movements (tenant_id, product_id, quantity, reason)"
    " SELECT $1::bigint, id, stock, 'initial' FROM p WHERE stock > 0 RETURNING 1)"
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

    {1, "INSERT INTO sale_lines (tenant_id, sale_id, product_id, quantity, unit_price, line_total)"
        " SELECT $1::bigint, sale_id, product_id, qty, price, lt FROM seed_l"},

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
 * Makes the tenant's cached catalog lists stale, after the commit. A Redis that cannot be
 * reached does not fail the seed: the cache service records the invalidation durably
 * (cache_backlog) and the workers apply it before they read the cache again.
 */
static void seed_invalidate(struct ctl *c, const struct seed_opts *so)
{
    static const char *const mods[] = {"products", "categories", "uom", "balance"};
    struct cache cache;
    size_t i;
    int deferred = 0;

    cache_init(&cache, &c->cf, &c->db);
    for (i = 0; i < SEED_COUNT(mods); i++)
        if (cache_invalidate_module(&cache, c->a, so->tenant, mods[i]) != 0)
            deferred++;
    if (deferred)
        fprintf(stderr,
                "stockctl: warning: cannot reach redis (%s): the cache invalidation of tenant "
                "'%s' is recorded for the workers to apply\n",
                cache.redis.last_error[0] ? cache.redis.last_error : "unavailable", so->slug);
    cache_release(&cache);
}

static int cmd_seed_demo(struct ctl *c, int argc, char **argv)
{
    const char *products = NULL, *sales = NULL, *days = NULL, *pos[1];
    struct seed_opts so = {"demo", 0, SEED_PRODUCTS_DEFAULT, 0, SEED_DAYS_DEFAULT};
    const struct ctl_opt opts[] = {{"tenant", &so.slug},
                                   {"products", &products},
                                   {"sales", &sales},
                                   {"days", &days},
                                   {NULL, NULL}};
    struct seed_counts sc = {0, 0, 0, 0, 0, 0};
    struct app_err err;
    double started;
    int npos, rc;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if ((products && ctl_parse_count("products", products, 0, SEED_PRODUCTS_MAX, &so.products)) ||
        (sales && ctl_parse_count("sales", sales, 0, SEED_SALES_MAX, &so.sales)) ||
        (days && ctl_parse_count("days", days, 1, SEED_DAYS_MAX, &so.days)))
        return CTL_FAIL;
    if ((rc = ctl_setup(c)) || (rc = ctl_connect(c)))
        return rc;
    if ((so.tenant = ctl_tenant_id(c, so.slug)) < 0)
        return CTL_FAIL;

    started = seed_now();
    err_clear(&err);
    /* All or nothing: a failure leaves the tenant as it was. */
    if (db_begin(&c->db, &err) || seed_lock_tenant(c, &so, &err) ||
        seed_catalog(c, &so, &sc, &err) || (so.sales > 0 && seed_sales(c, &so, &sc, &err)) ||
        db_commit(&c->db, &err)) {
        char what[160];

        db_rollback(&c->db);
        snprintf(what, sizeof(what), "cannot seed tenant '%s'", so.slug);
        return ctl_fail_db(what, &err);
    }
    seed_invalidate(c, &so);
    printf("seeded tenant %s: %lld units, %lld categories, %lld products, %lld sales, %lld "
           "payments in %.1f s\n",
           so.slug, sc.units, sc.categories, sc.products, sc.sales, sc.payments,
           seed_now() - started);
    return CTL_OK;
}

/*
 * purge: what the request paths only sweep for the user or tenant at hand (an expired session
 * at its user's next sign-in, a day-old Idempotency-Key at its tenant's next payment), for every
 * tenant at once, so that dormant ones do not keep rows forever.
 */
static int cmd_purge(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_opt opts[] = {{NULL, NULL}};
    const char *pos[1];
    struct app_err err;
    PGresult *res;
    long long sessions, keys;
    int npos, rc;

    if ((rc = ctl_parse(argc, argv, opts, pos, 0, &npos)))
        return rc;
    if ((rc = ctl_setup(c)) || (rc = ctl_connect(c)))
        return rc;
    err_clear(&err);
    res = db_exec(&c->db, c->a, "DELETE FROM sessions WHERE expires_at < now()", 0, NULL, &err);
    if (!res)
        return ctl_fail_db("cannot delete the expired sessions", &err);
    sessions = strtoll(PQcmdTuples(res), NULL, 10);
    res = db_exec(&c->db, c->a,
                  "DELETE FROM idempotency_keys WHERE created_at < now() - interval '1 day'", 0,
                  NULL, &err);
    if (!res)
        return ctl_fail_db("cannot delete the old Idempotency-Key records", &err);
    keys = strtoll(PQcmdTuples(res), NULL, 10);
    printf("purged %lld expired sessions and %lld Idempotency-Key records older than a day\n",
           sessions, keys);
    return CTL_OK;
}

static int ctl_run(struct ctl *c, int argc, char **argv)
{
    const char *cmd;

    if (argc < 2) {
        fputs(ctl_usage_text, stderr);
        return CTL_USAGE;
    }
    cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(ctl_usage_text, stdout);
        return CTL_OK;
    }
    if (!strcmp(cmd, "migrate"))
        return cmd_migrate(c, argc - 2, argv + 2);
    if (!strcmp(cmd, "seed-demo"))
        return cmd_seed_demo(c, argc - 2, argv + 2);
    if (!strcmp(cmd, "purge"))
        return cmd_purge(c, argc - 2, argv + 2);
    if (!strcmp(cmd, "tenant") || !strcmp(cmd, "user") || !strcmp(cmd, "cache")) {
        const char *sub = argc > 2 ? argv[2] : "";

        if (!strcmp(cmd, "tenant") && !strcmp(sub, "create"))
            return cmd_tenant_create(c, argc - 3, argv + 3);
        if (!strcmp(cmd, "user") && !strcmp(sub, "create"))
            return cmd_user_create(c, argc - 3, argv + 3);
        if (!strcmp(cmd, "cache") && (!strcmp(sub, "stats") || !strcmp(sub, "flush")))
            return cmd_cache(c, sub, argc - 3, argv + 3);
        if (!*sub)
            return ctl_usage("'%s' needs a subcommand", cmd);
        return ctl_usage("unknown command '%s %s'", cmd, ctl_shown(sub));
    }
    return ctl_usage("unknown command '%s'", ctl_shown(cmd));
}

int main(int argc, char **argv)
{
    struct ctl c;
    int rc;

    memset(&c, 0, sizeof(c));
    /* A Redis or PostgreSQL connection closed under a write must be an error, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    /* A help request anywhere on the line wins over everything else. */
    for (rc = 1; rc < argc; rc++) {
        if (!strcmp(argv[rc], "--help") || !strcmp(argv[rc], "-h")) {
            fputs(ctl_usage_text, stdout);
            return CTL_OK;
        }
    }
    rc = ctl_run(&c, argc, argv);
    ctl_teardown(&c);
    if (fflush(stdout) != 0 && rc == CTL_OK)
        rc = ctl_fail("cannot write to standard output");
    return rc;
}
