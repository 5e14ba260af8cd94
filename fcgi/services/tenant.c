/*
 * tenant: the tenant's name, locale and currency; the table of ISO 4217 codes. PostgreSQL
 * renders the JSON; the tenants trigger (sql/008) notes the modules sessions and balance in the
 * outbox with every UPDATE, applied by cache_write_done after the commit.
 */
#include "services/tenant.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonx.h"

/*
 * ISO 4217 list one (currencies, funds and special codes; SIX, the maintenance agency), as
 * amended up to 2026: the codes of Debian 12's iso-codes 4.15 without those withdrawn since
 * (HRK: Croatia took the euro, 2023; CUC: Cuba, 2021; SLL: the old leone, SLE since 2022; ZWL:
 * ZWG since 2024; ANG: XCG since 2025; BGN: Bulgaria took the euro, 2026), with ZWG, XCG and
 * XAD (the Arab Accounting Dinar). Sorted, for bsearch; tests/unit/test_tenant.c checks it.
 */
static const char tenant_codes[][TENANT_CODE_SZ] = {
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD",
    "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DJF",
    "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP",
    "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR",
    "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP",
    "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR",
    "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB",
    "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN",
    "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH",
    "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAD",
    "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF",
    "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWG",
};

#define TENANT_NCODES (sizeof(tenant_codes) / sizeof(tenant_codes[0]))

#define TENANT_JSON                                                                                \
    "json_build_object('id', t.id, 'slug', t.slug, 'name', t.name, 'timezone', t.timezone, "       \
    "'locale', t.locale, 'currency', t.currency)::text"

static const char *i64(struct arena *a, int64_t v)
{
    return arena_sprintf(a, "%" PRId64, v);
}

bool tenant_locale_valid(const char *locale)
{
    return locale && (!strcmp(locale, "en") || !strcmp(locale, "es"));
}

static int code_cmp(const void *key, const void *elem)
{
    return strcmp(key, elem);
}

bool tenant_currency_valid(const char *code)
{
    if (!code || strlen(code) != 3)
        return false;
    return bsearch(code, tenant_codes, TENANT_NCODES, sizeof(tenant_codes[0]), code_cmp) != NULL;
}

const char *tenant_currency_at(size_t i)
{
    return i < TENANT_NCODES ? tenant_codes[i] : NULL;
}

/* 1 to TENANT_NAME_MAX characters of valid UTF-8, not only blanks. */
static bool name_valid(const char *name)
{
    size_t n = strlen(name), i, chars = 0;
    bool text = false;

    if (!jsonx_utf8_valid(name, n))
        return false;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];

        chars += (ch & 0xC0) != 0x80;
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\v' && ch != '\f')
            text = true;
    }
    return text && chars <= TENANT_NAME_MAX;
}

int tenant_change_check(const struct tenant_change *ch, struct app_err *err)
{
    if (ch->name && !name_valid(ch->name))
        return err_set_full(err, ERR_INVALID, NULL, "name",
                            "'name' must be 1 to %d characters, not only blanks", TENANT_NAME_MAX);
    if (ch->locale && !tenant_locale_valid(ch->locale))
        return err_set_full(err, ERR_INVALID, NULL, "locale", "'locale' must be en or es");
    if (ch->currency && !tenant_currency_valid(ch->currency))
        return err_set_full(err, ERR_INVALID, NULL, "currency",
                            "'currency' must be an active ISO 4217 code in capitals, such as "
                            "USD, EUR or MXN");
    return 0;
}

/* The tenant's JSON of a one-row result into out. */
static int tenant_out(struct catalog *c, PGresult *res, struct catalog_out *out,
                      struct app_err *err)
{
    if (PQntuples(res) != 1)
        return err_set(err, ERR_NOT_FOUND, "tenant not found");
    catalog_out_set(c, out, res);
    out->cache = CACHE_BYPASS;
    out->cached = false;
    out->l1 = false;
    return 0;
}

int tenant_get(struct catalog *c, struct catalog_out *out, struct app_err *err)
{
    static const char sql[] = "SELECT " TENANT_JSON " FROM tenants t WHERE t.id = $1";
    const char *params[1] = {i64(c->a, c->tenant)};
    PGresult *res = db_exec(c->db, c->a, sql, 1, params, err);

    if (!res)
        return -1;
    return tenant_out(c, res, out, err);
}

int tenant_update(struct catalog *c, const struct tenant_change *ch, struct catalog_out *out,
                  struct app_err *err)
{
    static const char sql[] =
        "UPDATE tenants t SET name = coalesce($2, t.name), locale = coalesce($3, t.locale), "
        "currency = coalesce($4, t.currency), updated_at = now() WHERE t.id = $1 "
        "RETURNING " TENANT_JSON;
    const char *params[4] = {i64(c->a, c->tenant), ch->name, ch->locale, ch->currency};
    PGresult *res;
    int rc;

    if (tenant_change_check(ch, err))
        return -1;
    /* Nothing given, nothing written: no invalidation of every session of the tenant. */
    if (!ch->name && !ch->locale && !ch->currency)
        return tenant_get(c, out, err);
    res = db_exec(c->db, c->a, sql, 4, params, err);
    if (!res)
        return -1;
    rc = tenant_out(c, res, out, err);
    /*
     * After the commit (the statement commits on its own, with its outbox rows): the cached
     * sessions of the tenant, in Redis and in every worker's L1, are stale before we answer.
     */
    cache_write_done(c->cache, c->a);
    return rc;
}
