#!/usr/bin/env bash
# test_browser_reports.sh: the sales report page (#/reports) in headless Chromium
# (tests/browser/reports.test.mjs) against the run's nginx and pool, with two tenants made for
# this run (A's admin; B for tenant isolation).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}"
fail()
{
    echo "not ok - browser_reports: $1"
    echo "RESULT browser_reports passed=0 failed=1"
    exit 1
}
slug=brep-$$-$RANDOM
slug_b=brep-b-$$-$RANDOM
password=reports-test-password-1
secret_note "$password"
for s in "$slug" "$slug_b"; do
    if ! "$ROOT/build/release/stockctl" tenant create "$s" "Report Shop $s" >/dev/null ||
        ! printf '%s\n' "$password" | "$ROOT/build/release/stockctl" user create --tenant "$s" \
            --email "admin@$s.test" --role admin >/dev/null; then
        fail "cannot create the tenant $s"
    fi
done
BASE_URL=$STOCK_TEST_BASE_URL STOCK_TENANT=$slug STOCK_EMAIL=admin@$slug.test STOCK_PASSWORD=$password \
    STOCK_TENANT_B=$slug_b STOCK_EMAIL_B=admin@$slug_b.test STOCK_PASSWORD_B=$password \
    exec bash "$ROOT/tests/browser/run.sh" reports.test.mjs
