/* config: SPEC §3 settings from environment, .env and defaults, strictly validated. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#define ENV_MAX_VARS 64

static int bad(char *errbuf, size_t n, const char *name, const char *value, const char *expect)
{
    char shown[80];
    size_t i, j = 0;

    /* Show the value, bounded and with control characters replaced, so the line stays one. */
    for (i = 0; value[i] && j < sizeof(shown) - 4; i++)
        shown[j++] = isprint((unsigned char)value[i]) ? value[i] : '?';
    if (value[i])
        shown[j++] = '.', shown[j++] = '.', shown[j++] = '.';
    shown[j] = '\0';
    snprintf(errbuf, n, "invalid %s '%s': expected %s", name, shown, expect);
    return -1;
}

static int parse_int(const char *s, long min, long max, int *out)
{
    char *end;
    long v;

    if (!*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
        *out = true;
    else if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no") ||
             !strcasecmp(s, "off"))
        *out = false;
    else
        return -1;
    return 0;
}

/* Seconds with up to three decimals ("3", "0.25") to milliseconds in [1, 600000]. */
static int parse_seconds_ms(const char *s, int *out)
{
    long ms = 0;
    int frac = 0;
    const char *p = s;

    if (!isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p)) {
        ms = ms * 10 + (*p++ - '0');
        if (ms > 600)
            return -1;
    }
    ms *= 1000;
    if (*p == '.') {
        long scale = 100;

        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            if (++frac > 3)
                return -1;
            ms += (*p++ - '0') * scale;
            scale /= 10;
        }
    }
    if (*p || ms < 1 || ms > 600000)
        return -1;
    *out = (int)ms;
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (n >= cap)
        return -1;
    memcpy(dst, s, n + 1);
    return 0;
}

/* Percent-decodes s[0..n) into dst (cap bytes). */
static int pct_decode(char *dst, size_t cap, const char *s, size_t n)
{
    size_t i, j = 0;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            unsigned v;

            if (i + 2 >= n)
                return -1;
            if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
                return -1;
            if (sscanf(s + i + 1, "%2x", &v) != 1 || v == 0)
                return -1;
            c = (char)v;
            i += 2;
        }
        if (j + 1 >= cap)
            return -1;
        dst[j++] = c;
    }
    dst[j] = '\0';
    return 0;
}

/* redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N] (redis+unix:// too). */
static int parse_redis_url(struct config *cf, const char *url)
{
    const char *p, *at, *hostp, *slash, *colon;
    int port = 6379, db = 0;

    cf->redis_host[0] = cf->redis_unix[0] = '\0';
    if (!strncmp(url, "unix://", 7) || !strncmp(url, "redis+unix://", 13)) {
        const char *path = strstr(url, "://") + 3;
        const char *q = strchr(path, '?');
        size_t len = q ? (size_t)(q - path) : strlen(path);

        if (len == 0 || path[0] != '/' || len >= sizeof(cf->redis_unix))
            return -1;
        memcpy(cf->redis_unix, path, len);
        cf->redis_unix[len] = '\0';
        if (q) {
            if (strncmp(q, "?db=", 4) || parse_int(q + 4, 0, 15, &db))
                return -1;
        }
        cf->redis_db = db;
        return 0;
    }
    if (strncmp(url, "redis://", 8))
        return -1;
    p = url + 8;
    slash = strchr(p, '/');
    at = strchr(p, '@');
    if (at && slash && at > slash)
        at = NULL;
    if (at) {
        const char *pw = memchr(p, ':', (size_t)(at - p));

        if (pw && !cf->redis_password[0] &&
            pct_decode(cf->redis_password, sizeof(cf->redis_password), pw + 1,
                       (size_t)(at - pw - 1)))
            return -1;
        /* The ACL user of redis://user:password@host (REDIS_USERNAME wins). */
        if (pw && pw > p && !cf->redis_username[0] &&
            pct_decode(cf->redis_username, sizeof(cf->redis_username), p, (size_t)(pw - p)))
            return -1;
        hostp = at + 1;
    } else {
        hostp = p;
    }
    {
        const char *end = slash ? slash : hostp + strlen(hostp);
        size_t hlen;

        if (*hostp == '[') { /* [::1]:6379 */
            const char *rb = memchr(hostp, ']', (size_t)(end - hostp));

            if (!rb)
                return -1;
            hlen = (size_t)(rb - hostp - 1);
            if (hlen == 0 || hlen >= sizeof(cf->redis_host))
                return -1;
            memcpy(cf->redis_host, hostp + 1, hlen);
            cf->redis_host[hlen] = '\0';
            colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
            if (!colon && rb + 1 != end)
                return -1;
        } else {
            colon = memchr(hostp, ':', (size_t)(end - hostp));
            hlen = (size_t)((colon ? colon : end) - hostp);
            if (hlen == 0 || hlen >= sizeof(cf->redis_host))
                return -1;
            memcpy(cf->redis_host, hostp, hlen);
            cf->redis_host[hlen] = '\0';
        }
        if (colon) {
            char portbuf[8];
            size_t plen = (size_t)(end - colon - 1);

            if (plen == 0 || plen >= sizeof(portbuf))
                return -1;
            memcpy(portbuf, colon + 1, plen);
            portbuf[plen] = '\0';
            if (parse_int(portbuf, 1, 65535, &port))
                return -1;
        }
    }
    if (slash && slash[1]) {
        if (parse_int(slash + 1, 0, 15, &db))
            return -1;
    }
    cf->redis_port = port;
    cf->redis_db = db;
    return 0;
}

/* host:port (IPv4 or name), [v6]:port, or an absolute unix socket path. */
static int check_listen(const char *s)
{
    const char *colon;
    int port;

    if (s[0] == '/')
        return strlen(s) < 108 ? 0 : -1;
    colon = strrchr(s, ':');
    if (!colon || colon == s)
        return -1;
    if (parse_int(colon + 1, 1, 65535, &port))
        return -1;
    return 0;
}

/*
 * The Sentinel block: REDIS_SENTINELS=host:port[,host:port...] (at most CONFIG_SENTINELS_MAX;
 * IPv6 as [::1]:26379), REDIS_SENTINEL_MASTER (required with it), REDIS_SENTINEL_PASSWORD.
 */
static int parse_sentinel(struct config_sentinel *s, const char *p, size_t len)
{
    const char *colon;
    size_t hlen;
    int port;
    char num[8];

    if (len && p[0] == '[') {
        const char *close = memchr(p, ']', len);

        if (!close || close + 1 >= p + len || close[1] != ':')
            return -1;
        hlen = (size_t)(close - p - 1);
        if (hlen == 0 || hlen >= sizeof(s->host) || memchr(p + 1, ':', hlen) == NULL)
            return -1;
        memcpy(s->host, p + 1, hlen);
        colon = close + 1;
    } else {
        colon = NULL;
        for (hlen = 0; hlen < len; hlen++)
            if (p[hlen] == ':') {
                colon = p + hlen;
                break;
            }
        if (!colon || hlen == 0 || hlen >= sizeof(s->host) ||
            memchr(colon + 1, ':', len - hlen - 1))
            return -1;
        memcpy(s->host, p, hlen);
    }
    s->host[hlen] = '\0';
    for (hlen = 0; s->host[hlen]; hlen++)
        if (!isalnum((unsigned char)s->host[hlen]) && !strchr(".-_:%", s->host[hlen]))
            return -1;
    len -= (size_t)(colon + 1 - p);
    if (len == 0 || len >= sizeof(num))
        return -1;
    memcpy(num, colon + 1, len);
    num[len] = '\0';
    if (parse_int(num, 1, 65535, &port))
        return -1;
    s->port = port;
    return 0;
}

static int load_sentinels(struct config *cf, config_lookup_fn lookup, void *ctx, char *errbuf,
                          size_t n)
{
    const char *v = lookup(ctx, "REDIS_SENTINELS"), *m = lookup(ctx, "REDIS_SENTINEL_MASTER");
    const char *pw = lookup(ctx, "REDIS_SENTINEL_PASSWORD"), *p;
    size_t k;

    if (!v || !*v) {
        if (m && *m) {
            snprintf(errbuf, n, "invalid REDIS_SENTINEL_MASTER: set without REDIS_SENTINELS");
            return -1;
        }
        return 0;
    }
    for (p = v;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (cf->redis_sentinel_count == CONFIG_SENTINELS_MAX)
            return bad(errbuf, n, "REDIS_SENTINELS", v, "at most 8 sentinels");
        if (parse_sentinel(&cf->redis_sentinels[cf->redis_sentinel_count], p, len))
            return bad(errbuf, n, "REDIS_SENTINELS", v,
                       "host:port[,host:port...] (IPv6 as [::1]:26379, ports 1-65535)");
        cf->redis_sentinel_count++;
        if (!end)
            break;
        p = end + 1;
    }
    if (!m || !*m) {
        snprintf(errbuf, n, "invalid REDIS_SENTINELS: REDIS_SENTINEL_MASTER is required with it");
        return -1;
    }
    for (k = 0; m[k]; k++)
        if (!isalnum((unsigned char)m[k]) && !strchr("._-", m[k]))
            break;
    if (m[k] || copy_str(cf->redis_sentinel_master, sizeof(cf->redis_sentinel_master), m))
        return bad(errbuf, n, "REDIS_SENTINEL_MASTER", m, "1 to 127 characters of [A-Za-z0-9._-]");
    if (pw && *pw &&
        copy_str(cf->redis_sentinel_password, sizeof(cf->redis_sentinel_password), pw)) {
        /* Never echo a password. */
        snprintf(errbuf, n, "invalid REDIS_SENTINEL_PASSWORD: longer than %zu bytes",
                 sizeof(cf->redis_sentinel_password) - 1);
        return -1;
    }
    /* core/redis takes the master's address from the sentinels: of REDIS_URL only its db and
     * password apply. */
    return 0;
}

#define SECRET_MIN 32
#define SECRET_MAX 4096

/* The secret named var, or read from the file named var_FILE; NULL and *len 0 when neither. */
static int secret_read(config_lookup_fn lookup, void *ctx, const char *var, char *out, size_t *len,
                       char *errbuf, size_t n)
{
    char fvar[64];
    const char *v, *path;
    FILE *f;
    size_t got;

    snprintf(fvar, sizeof(fvar), "%s_FILE", var);
    v = lookup(ctx, var);
    path = lookup(ctx, fvar);
    *len = 0;
    if (v && *v && path && *path) {
        snprintf(errbuf, n, "invalid %s: set %s or %s, not both", var, var, fvar);
        return -1;
    }
    if (v && *v) {
        got = strlen(v);
        if (got >= SECRET_MAX) {
            snprintf(errbuf, n, "invalid %s: longer than %d bytes", var, SECRET_MAX - 1);
            return -1;
        }
        memcpy(out, v, got);
    } else if (path && *path) {
        f = fopen(path, "re");
        if (!f) {
            /* The path is not a secret; its content is. */
            snprintf(errbuf, n, "invalid %s '%.200s': cannot be read", fvar, path);
            return -1;
        }
        got = fread(out, 1, SECRET_MAX, f);
        fclose(f);
        if (got >= SECRET_MAX) {
            snprintf(errbuf, n, "invalid %s '%.200s': longer than %d bytes", fvar, path,
                     SECRET_MAX - 1);
            return -1;
        }
        while (got && (out[got - 1] == '\n' || out[got - 1] == '\r'))
            got--;
    } else {
        return 0;
    }
    if (got < SECRET_MIN) {
        /* Never echo a secret, not even a short one. */
        snprintf(errbuf, n, "invalid %s: shorter than %d bytes (e.g. openssl rand -hex 32)", var,
                 SECRET_MIN);
        return -1;
    }
    *len = got;
    return 0;
}

/* A MAC key from a secret: keyed BLAKE2b, the key being this use's fixed label. */
static void secret_key(unsigned char key[32], const char *secret, size_t len)
{
    static const char label[] = "stock cache value MAC, v1";

    crypto_generichash(key, 32, (const unsigned char *)secret, len, (const unsigned char *)label,
                       sizeof(label) - 1);
}

/* CACHE_SECRET(_FILE) and CACHE_SECRET_PREVIOUS(_FILE), see struct config. */
static int config_secrets(struct config *cf, config_lookup_fn lookup, void *ctx, char *errbuf,
                          size_t n)
{
    char *s = malloc(SECRET_MAX);
    size_t len;
    int rc = -1;

    if (!s || sodium_init() < 0) {
        snprintf(errbuf, n, "cannot initialise libsodium");
        goto out;
    }
    if (secret_read(lookup, ctx, "CACHE_SECRET", s, &len, errbuf, n))
        goto out;
    if (len) {
        secret_key(cf->cache_mac_key, s, len);
    } else if (cf->production) {
        snprintf(errbuf, n,
                 "CACHE_SECRET or CACHE_SECRET_FILE must be set with STOCK_ENV=production "
                 "(cached values are signed with it; e.g. openssl rand -hex 32)");
        goto out;
    } else {
        randombytes_buf(cf->cache_mac_key, sizeof(cf->cache_mac_key));
        cf->cache_mac_ephemeral = true;
    }
    if (secret_read(lookup, ctx, "CACHE_SECRET_PREVIOUS", s, &len, errbuf, n))
        goto out;
    if (len) {
        secret_key(cf->cache_mac_key_prev, s, len);
        cf->cache_mac_prev = true;
    }
    rc = 0;
out:
    if (s) {
        sodium_memzero(s, SECRET_MAX);
        free(s);
    }
    return rc;
}

static long ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : (n > 64 ? 64 : n);
}

int config_load(struct config *cf, config_lookup_fn lookup, void *ctx, char *errbuf, size_t n)
{
    const char *v;
    static const struct {
        const char *name;
        int def;
    } ttls[] = {
        {"CACHE_DEFAULT_TTL", 60},  {"CACHE_PRODUCTS_TTL", 60}, {"CACHE_CATEGORIES_TTL", 300},
        {"CACHE_UOM_TTL", 3600},    {"CACHE_BALANCE_TTL", 60},  {"CACHE_NEGATIVE_TTL", 15},
        {"CACHE_REPORTS_TTL", 300},
    };
    int *ttl_dst[] = {&cf->ttl_default, &cf->ttl_products, &cf->ttl_categories, &cf->ttl_uom,
                      &cf->ttl_balance, &cf->ttl_negative, &cf->ttl_reports};
    size_t i;

    memset(cf, 0, sizeof(*cf));

    v = lookup(ctx, "DATABASE_URL");
    if (!v)
        v = "postgresql://stock@127.0.0.1:5432/stock";
    if (!*v || copy_str(cf->database_url, sizeof(cf->database_url), v)) {
        snprintf(errbuf, n,
                 "invalid DATABASE_URL: expected a libpq connection string of 1 to %zu bytes",
                 sizeof(cf->database_url) - 1);
        return -1;
    }

    v = lookup(ctx, "REDIS_PASSWORD");
    if (v && *v && copy_str(cf->redis_password, sizeof(cf->redis_password), v)) {
        snprintf(errbuf, n, "invalid REDIS_PASSWORD: longer than %zu bytes",
                 sizeof(cf->redis_password) - 1);
        return -1;
    }
    /* REDIS_USERNAME: the Redis ACL user (SPEC §11); printable, no space (AUTH user pw). */
    v = lookup(ctx, "REDIS_USERNAME");
    if (v && *v) {
        size_t k;

        if (copy_str(cf->redis_username, sizeof(cf->redis_username), v))
            return bad(errbuf, n, "REDIS_USERNAME", v, "1 to 127 printable characters, no space");
        for (k = 0; v[k]; k++)
            if (!isgraph((unsigned char)v[k]))
                return bad(errbuf, n, "REDIS_USERNAME", v,
                           "1 to 127 printable characters, no space");
    }
    v = lookup(ctx, "REDIS_URL");
    if (!v)
        v = "redis://127.0.0.1:6379/0";
    if (copy_str(cf->redis_url, sizeof(cf->redis_url), v) || parse_redis_url(cf, v)) {
        /* Never echo the URL: it may carry the password. */
        snprintf(errbuf, n,
                 "invalid REDIS_URL: expected redis://[[user]:password@]host:port/db "
                 "(db 0-15) or unix:///path");
        return -1;
    }

    if (load_sentinels(cf, lookup, ctx, errbuf, n))
        return -1;

    v = lookup(ctx, "CACHE_ENABLED");
    cf->cache_enabled = true;
    if (v && parse_bool(v, &cf->cache_enabled))
        return bad(errbuf, n, "CACHE_ENABLED", v, "true or false");

    for (i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++) {
        int *dst = ttl_dst[i];

        v = lookup(ctx, ttls[i].name);
        *dst = ttls[i].def;
        if (v && parse_int(v, 1, 31536000, dst))
            return bad(errbuf, n, ttls[i].name, v, "whole seconds between 1 and 31536000");
    }

    /* CACHE_L1_BYTES: each worker's L1 bound (core/l1.c), 0 (off) to 1 GiB. */
    v = lookup(ctx, "CACHE_L1_BYTES");
    cf->l1_bytes = 8L << 20;
    if (v) {
        char *end = (char *)v;

        errno = 0;
        cf->l1_bytes = isdigit((unsigned char)*v) ? strtol(v, &end, 10) : -1;
        if (cf->l1_bytes < 0 || errno || *end || cf->l1_bytes > (1L << 30))
            return bad(errbuf, n, "CACHE_L1_BYTES", v, "bytes between 0 (off) and 1073741824");
    }

    v = lookup(ctx, "CACHE_KEY_PREFIX");
    if (!v)
        v = "stock";
    {
        size_t len = strlen(v), k;

        if (len == 0 || len >= sizeof(cf->key_prefix))
            return bad(errbuf, n, "CACHE_KEY_PREFIX", v, "1 to 32 characters of [A-Za-z0-9_.-]");
        for (k = 0; k < len; k++)
            if (!isalnum((unsigned char)v[k]) && v[k] != '_' && v[k] != '-' && v[k] != '.')
                return bad(errbuf, n, "CACHE_KEY_PREFIX", v,
                           "1 to 32 characters of [A-Za-z0-9_.-]");
        memcpy(cf->key_prefix, v, len + 1);
    }

    v = lookup(ctx, "REDIS_CONNECT_TIMEOUT");
    cf->redis_connect_timeout_ms = 3000;
    if (v && parse_seconds_ms(v, &cf->redis_connect_timeout_ms))
        return bad(errbuf, n, "REDIS_CONNECT_TIMEOUT", v, "seconds between 0.001 and 600");
    v = lookup(ctx, "REDIS_SOCKET_TIMEOUT");
    cf->redis_socket_timeout_ms = 3000;
    if (v && parse_seconds_ms(v, &cf->redis_socket_timeout_ms))
        return bad(errbuf, n, "REDIS_SOCKET_TIMEOUT", v, "seconds between 0.001 and 600");

    v = lookup(ctx, "REDIS_MAX_CONNECTIONS");
    cf->redis_max_connections = 50;
    if (v && parse_int(v, 1, 10000, &cf->redis_max_connections))
        return bad(errbuf, n, "REDIS_MAX_CONNECTIONS", v, "a whole number between 1 and 10000");

    v = lookup(ctx, "REDIS_HEALTH_CHECK_INTERVAL");
    cf->redis_health_check_interval = 30;
    if (v && parse_int(v, 0, 86400, &cf->redis_health_check_interval))
        return bad(errbuf, n, "REDIS_HEALTH_CHECK_INTERVAL", v,
                   "whole seconds between 0 and 86400");

    v = lookup(ctx, "REDIS_RETRY_ON_TIMEOUT");
    cf->redis_retry_on_timeout = true;
    if (v && parse_bool(v, &cf->redis_retry_on_timeout))
        return bad(errbuf, n, "REDIS_RETRY_ON_TIMEOUT", v, "true or false");

    v = lookup(ctx, "STOCK_LISTEN");
    if (!v)
        v = "127.0.0.1:9000";
    if (copy_str(cf->listen, sizeof(cf->listen), v) || check_listen(v))
        return bad(errbuf, n, "STOCK_LISTEN", v,
                   "host:port, [v6]:port or an absolute unix socket path");

    v = lookup(ctx, "STOCK_WORKERS");
    cf->workers = (int)ncpus();
    if (v && parse_int(v, 1, 256, &cf->workers))
        return bad(errbuf, n, "STOCK_WORKERS", v, "a whole number between 1 and 256");
    if (cf->workers > cf->redis_max_connections) {
        snprintf(errbuf, n,
                 "invalid STOCK_WORKERS '%d': above REDIS_MAX_CONNECTIONS %d (one Redis connection "
                 "per worker)",
                 cf->workers, cf->redis_max_connections);
        return -1;
    }

    v = lookup(ctx, "LOG_LEVEL");
    cf->log_level = LOG_INFO;
    if (v && log_level_parse(v, &cf->log_level))
        return bad(errbuf, n, "LOG_LEVEL", v, "debug, info, warning or error");

    v = lookup(ctx, "DB_STATEMENTS");
    cf->db_unnamed = false;
    if (v && !strcmp(v, "unnamed"))
        cf->db_unnamed = true;
    else if (v && strcmp(v, "prepared"))
        return bad(errbuf, n, "DB_STATEMENTS", v, "prepared or unnamed");

    v = lookup(ctx, "STOCK_ENV");
    if (v && strcmp(v, "production") && strcmp(v, "development"))
        return bad(errbuf, n, "STOCK_ENV", v, "production or development");
    cf->production = v && !strcmp(v, "production");
    return config_secrets(cf, lookup, ctx, errbuf, n);
}

/* The .env file's variables, read once into a small table. */
struct env_file {
    char *names[ENV_MAX_VARS];
    char *values[ENV_MAX_VARS];
    int count;
};

static const char *env_lookup(void *ctx, const char *name)
{
    struct env_file *ef = ctx;
    const char *v = getenv(name);
    int i;

    if (v)
        return v;
    for (i = ef->count - 1; i >= 0; i--)
        if (!strcmp(ef->names[i], name))
            return ef->values[i];
    return NULL;
}

static int env_file_read(struct env_file *ef, const char *path, char *errbuf, size_t n)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    int lineno = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *eq, *val, *end;
        size_t len;

        lineno++;
        len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            snprintf(errbuf, n, "invalid %s line %d: longer than %zu bytes", path, lineno,
                     sizeof(line) - 2);
            fclose(f);
            return -1;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        if (!strncmp(p, "export ", 7))
            p += 7;
        eq = strchr(p, '=');
        if (!eq || eq == p) {
            snprintf(errbuf, n, "invalid %s line %d: expected KEY=VALUE", path, lineno);
            fclose(f);
            return -1;
        }
        *eq = '\0';
        for (end = eq; end > p && isspace((unsigned char)end[-1]);)
            *--end = '\0';
        val = eq + 1;
        while (isspace((unsigned char)*val))
            val++;
        len = strlen(val);
        while (len && isspace((unsigned char)val[len - 1]))
            val[--len] = '\0';
        if (len >= 2 && (val[0] == '"' || val[0] == '\'') && val[len - 1] == val[0]) {
            val[len - 1] = '\0';
            val++;
        }
        if (ef->count == ENV_MAX_VARS) {
            snprintf(errbuf, n, "invalid %s: more than %d variables", path, ENV_MAX_VARS);
            fclose(f);
            return -1;
        }
        ef->names[ef->count] = strdup(p);
        ef->values[ef->count] = strdup(val);
        if (!ef->names[ef->count] || !ef->values[ef->count]) {
            snprintf(errbuf, n, "cannot read %s: out of memory", path);
            fclose(f);
            return -1;
        }
        ef->count++;
    }
    fclose(f);
    return 0;
}

int config_load_env(struct config *cf, const char *env_file, char *errbuf, size_t n)
{
    struct env_file ef = {0};
    int rc = -1, i;

    if (env_file && env_file_read(&ef, env_file, errbuf, n))
        goto out;
    rc = config_load(cf, env_lookup, &ef, errbuf, n);
out:
    for (i = 0; i < ef.count; i++) {
        /* The file may hold secrets: wipe before freeing. */
        memset(ef.values[i], 0, strlen(ef.values[i]));
        free(ef.names[i]);
        free(ef.values[i]);
    }
    return rc;
}

int config_module_ttl(const struct config *cf, const char *module)
{
    if (!strcmp(module, "products"))
        return cf->ttl_products;
    if (!strcmp(module, "categories"))
        return cf->ttl_categories;
    if (!strcmp(module, "uom"))
        return cf->ttl_uom;
    if (!strcmp(module, "balance"))
        return cf->ttl_balance;
    if (!strcmp(module, "reports"))
        return cf->ttl_reports;
    return cf->ttl_default;
}
