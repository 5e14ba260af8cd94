#!/usr/bin/env bash
# test_browser_import.sh: the product import page and the Export CSV link in headless Chromium
# (tests/browser/import.test.mjs) against the run's nginx and pool, with a tenant made for this
# run and its admin.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}"
fail()
{
    echo "not ok - browser_import: $1"
    echo "RESULT browser_import passed=0 failed=1"
    exit 1
}
slug=imp-$$-$RANDOM
password=import-test-password-1
secret_note "$password"
if ! "$ROOT/build/release/stockctl" tenant create "$slug" "Import Shop $slug" >/dev/null ||
    ! printf '%s\n' "$password" | "$ROOT/build/release/stockctl" user create --tenant "$slug" \
        --email "admin@$slug.test" --role admin >/dev/null; then
    fail "cannot create the tenant $slug"
fi
BASE_URL=$STOCK_TEST_BASE_URL STOCK_TENANT=$slug STOCK_EMAIL=admin@$slug.test STOCK_PASSWORD=$password \
    exec bash "$ROOT/tests/browser/run.sh" import.test.mjs
