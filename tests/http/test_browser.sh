#!/usr/bin/env bash
# test_browser.sh: the web UI in headless Chromium (tests/browser/run.sh, playwright-core)
# against the run's nginx and pool, signed in as a tenant and admin made for this run.
# Screenshots of every page go to test-output/browser/.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}"
slug=ui-$$-$RANDOM
password=ui-test-password-1
secret_note "$password"
if ! "$ROOT/build/release/stockctl" tenant create "$slug" "UI Test Shop" >/dev/null ||
    ! printf '%s\n' "$password" | "$ROOT/build/release/stockctl" user create --tenant "$slug" \
        --email "admin@$slug.test" --role admin >/dev/null; then
    echo "not ok - browser: cannot create the tenant of the run"
    echo "RESULT browser passed=0 failed=1"
    exit 1
fi
# A staff user for the staff's day when the server has no /users yet (the owner adds one through
# the users page otherwise).
staff_password=ui-staff-password-1
secret_note "$staff_password"
if ! printf '%s\n' "$staff_password" | "$ROOT/build/release/stockctl" user create --tenant "$slug" \
        --email "staff0@$slug.test" --role staff >/dev/null; then
    echo "not ok - browser: cannot create the staff user of the run"
    echo "RESULT browser passed=0 failed=1"
    exit 1
fi
BASE_URL=$STOCK_TEST_BASE_URL STOCK_TENANT=$slug STOCK_EMAIL=admin@$slug.test \
    STOCK_PASSWORD=$password STOCK_STAFF_EMAIL=staff0@$slug.test STOCK_STAFF_PASSWORD=$staff_password \
    exec bash "$ROOT/tests/browser/run.sh"
