/* stockctl tenant create: a new tenant, its slug, name, time zone, locale and currency checked
 * first (the locale and the currency by services/tenant, as the API checks them). */
#include "ctl/commands.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "services/tenant.h"

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

int cmd_tenant_create(struct ctl *c, int argc, char **argv)
{
    const char *tz = "UTC", *locale = TENANT_LOCALE, *currency = TENANT_CURRENCY, *pos[2];
    const struct ctl_opt opts[] = {
        {"timezone", &tz}, {"locale", &locale}, {"currency", &currency}, {NULL, NULL}};
    const char *params[5];
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
    if (!tenant_locale_valid(locale))
        return ctl_fail("invalid locale '%s': expected en or es", ctl_shown(locale));
    if (!tenant_currency_valid(currency))
        return ctl_fail("invalid currency '%s': expected an active ISO 4217 code in capitals, "
                        "such as USD, EUR or MXN",
                        ctl_shown(currency));
    if ((rc = ctl_start(c)))
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
    params[3] = locale;
    params[4] = currency;
    res = db_exec(&c->db, c->a,
                  "INSERT INTO tenants (slug, name, timezone, locale, currency) "
                  "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                  5, params, &err);
    if (!res && err.code == ERR_CONFLICT)
        return ctl_fail("tenant '%s' already exists", pos[0]);
    if (!res)
        return ctl_fail_db("cannot create the tenant", &err);
    printf("%s\n", PQgetvalue(res, 0, 0));
    return CTL_OK;
}
