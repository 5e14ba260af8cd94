#!/usr/bin/env bash
# test_browser_receipt.sh: the receipt page and its print stylesheet in headless Chromium
# (tests/browser/receipt.test.mjs, printed to PDF and read with pdftotext) against the run's
# nginx and pool, with two tenants made for this run (A's admin; B for tenant isolation).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}"
fail()
{
    echo "not ok - browser_receipt: $1"
    echo "RESULT browser_receipt passed=0 failed=1"
    exit 1
}
command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null ||
    fail "pdftotext/pdfinfo are missing (deploy/deps.sh installs poppler-utils)"
slug=rcpt-$$-$RANDOM
slug_b=rcpt-b-$$-$RANDOM
shop="Receipt Shop $slug"
password=receipt-test-password-1
secret_note "$password"
for s in "$slug" "$slug_b"; do
    name=$shop
    [[ "$s" == "$slug_b" ]] && name="Other Shop $slug_b"
    if ! "$ROOT/build/release/stockctl" tenant create "$s" "$name" >/dev/null ||
        ! printf '%s\n' "$password" | "$ROOT/build/release/stockctl" user create --tenant "$s" \
            --email "admin@$s.test" --role admin >/dev/null; then
        fail "cannot create the tenant $s"
    fi
done
BASE_URL=$STOCK_TEST_BASE_URL STOCK_TENANT=$slug STOCK_EMAIL=admin@$slug.test STOCK_PASSWORD=$password \
    STOCK_TENANT_B=$slug_b STOCK_EMAIL_B=admin@$slug_b.test STOCK_PASSWORD_B=$password STOCK_SHOP=$shop \
    exec bash "$ROOT/tests/browser/run.sh" receipt.test.mjs
