#!/usr/bin/env bash
# test_browser_a11y.sh: axe-core (WCAG 2.1 A/AA) over every page of the web UI in headless
# Chromium, signed in, in English and in Spanish (tests/browser/a11y.test.mjs), against the run's
# nginx and pool, with a tenant made for this run.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}"
fail()
{
    echo "not ok - browser_a11y: $1"
    echo "RESULT browser_a11y passed=0 failed=1"
    exit 1
}
slug=a11y-$$-$RANDOM
password=a11y-test-password-1
secret_note "$password"
if ! "$ROOT/build/release/stockctl" tenant create "$slug" "Accessible Shop $slug" >/dev/null ||
    ! printf '%s\n' "$password" | "$ROOT/build/release/stockctl" user create --tenant "$slug" \
        --email "admin@$slug.test" --role admin >/dev/null; then
    fail "cannot create the tenant $slug"
fi
BASE_URL=$STOCK_TEST_BASE_URL STOCK_TENANT=$slug STOCK_EMAIL=admin@$slug.test STOCK_PASSWORD=$password \
    exec bash "$ROOT/tests/browser/run.sh" a11y.test.mjs
