#!/usr/bin/env bash
# test_browser_i18n.sh: the web UI's languages and currency (SPEC §12) in headless Chromium
# (tests/browser/i18n.test.mjs) against the run's nginx and pool: the catalogs checked first (same
# keys in en.js and es.js, every key the code uses in both), then every page in Spanish for a
# tenant made es/EUR and in English for one made en/USD (stockctl tenant create --locale
# --currency), the sign-in page in the browser's language and its switch, the settings page of
# an admin (a change takes effect at once) and of a staff member (read-only, PATCH refused).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}"
fail()
{
    echo "not ok - browser_i18n: $1"
    echo "RESULT browser_i18n passed=0 failed=1"
    exit 1
}
slug_es=i18n-es-$$-$RANDOM
slug_en=i18n-en-$$-$RANDOM
password=i18n-test-password-1
staff_password=i18n-staff-password-1
secret_note "$password" "$staff_password"
ctl=$ROOT/build/release/stockctl
"$ctl" tenant create "$slug_es" "Tienda $slug_es" --locale es --currency EUR >/dev/null ||
    fail "cannot create the tenant $slug_es (es/EUR)"
"$ctl" tenant create "$slug_en" "Shop $slug_en" --locale en --currency USD >/dev/null ||
    fail "cannot create the tenant $slug_en (en/USD)"
for s in "$slug_es" "$slug_en"; do
    printf '%s\n' "$password" | "$ctl" user create --tenant "$s" --email "admin@$s.test" --role admin >/dev/null ||
        fail "cannot create the admin of $s"
done
printf '%s\n' "$staff_password" | "$ctl" user create --tenant "$slug_es" --email "staff@$slug_es.test" --role staff >/dev/null ||
    fail "cannot create the staff user of $slug_es"
BASE_URL=$STOCK_TEST_BASE_URL \
    STOCK_TENANT_ES=$slug_es STOCK_EMAIL_ES=admin@$slug_es.test STOCK_STAFF_ES=staff@$slug_es.test \
    STOCK_TENANT_EN=$slug_en STOCK_EMAIL_EN=admin@$slug_en.test \
    STOCK_PASSWORD=$password STOCK_STAFF_PASSWORD=$staff_password \
    exec bash "$ROOT/tests/browser/run.sh" i18n.test.mjs
