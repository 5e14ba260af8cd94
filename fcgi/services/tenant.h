/*
 * tenant: the tenant's own settings (SPEC §12): its name, the language of its web UI (locale
 * "en" or "es") and the currency its money is shown in (an active ISO 4217 alphabetic code).
 * The rules live here so that the API (GET/PATCH /tenant) and stockctl (tenant create) share
 * them, the table of ISO 4217 codes included. A change is an UPDATE of the tenant's row, whose
 * trigger (sql/008) commits the invalidation of the tenant's sessions (which carry name,
 * locale and currency) with it; applied after the commit, so no host serves the old values
 * once the change is answered. Every function takes the tenant id of the context (the
 * session's, in the API); results live in the arena.
 */
#ifndef STOCK_SERVICES_TENANT_H
#define STOCK_SERVICES_TENANT_H

#include <stdbool.h>
#include <stddef.h>

#include "services/catalog.h"

#define TENANT_NAME_MAX  200  /* characters (the tenants table's CHECK) */
#define TENANT_LOCALE    "en" /* the default locale: the UI as it was before locales */
#define TENANT_CURRENCY  "USD"
#define TENANT_LOCALE_SZ 3 /* "en" or "es" with its NUL */
#define TENANT_CODE_SZ   4 /* an ISO 4217 code with its NUL */

/* True when locale is one the web UI speaks: "en" or "es" (exactly, lower case). */
bool tenant_locale_valid(const char *locale);

/*
 * True when code is an active ISO 4217 alphabetic code (list one of the standard, its funds and
 * special codes included), exactly three capital letters: "EUR" yes, "eur", "HRK" (withdrawn)
 * and "ABC" no. The one table of codes of the program.
 */
bool tenant_currency_valid(const char *code);

/* The table of tenant_currency_valid, sorted: its i-th code, or NULL when i is past its end. */
const char *tenant_currency_at(size_t i);

/* Fields of a change (PATCH /tenant). NULL: not given (kept). */
struct tenant_change {
    const char *name;     /* 1 to TENANT_NAME_MAX characters of UTF-8, not blank */
    const char *locale;   /* tenant_locale_valid */
    const char *currency; /* tenant_currency_valid */
};

/*
 * Checks every given field of ch: 0, or ERR_INVALID (validation_error) naming the first bad
 * field ("name", "locale" or "currency") with a message that does not echo the value.
 */
int tenant_change_check(const struct tenant_change *ch, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * The context's tenant as JSON {"id", "slug", "name", "timezone", "locale", "currency"} into out
 * (read from PostgreSQL, not cached). ERR_NOT_FOUND when the tenant is gone.
 */
int tenant_get(struct catalog *c, struct catalog_out *out, struct app_err *err)
    __attribute__((warn_unused_result));

/*
 * Applies ch (tenant_change_check first) to the context's tenant and answers its new JSON (as
 * tenant_get) once every host's cached sessions of the tenant are invalidated (cache_write_done).
 * A change with no field given changes nothing and answers the tenant as it is.
 */
int tenant_update(struct catalog *c, const struct tenant_change *ch, struct catalog_out *out,
                  struct app_err *err) __attribute__((warn_unused_result));

#endif
