#!/usr/bin/env bash
# run.sh [SCRIPT]: a browser test of the web UI against an ALREADY RUNNING stack: SCRIPT is one
# of tests/browser/*.test.mjs (default ui.test.mjs, the whole UI; the others are one page's or
# one concern's, each run by its own tests/http/test_browser_*.sh).
#   BASE_URL        (default http://127.0.0.1:8080)
#   STOCK_TENANT / STOCK_EMAIL / STOCK_PASSWORD   login (default: the demo tenant of `make run`)
#   CHROMIUM        (default /usr/bin/chromium)
# Screenshots go to test-output/browser/ at the repository root. Prints "ok - " / "not ok - "
# lines and "RESULT browser passed=N failed=M"; exits 1 on any failure.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export BASE_URL=${BASE_URL:-http://127.0.0.1:8080}
export STOCK_TENANT=${STOCK_TENANT:-demo}
export STOCK_EMAIL=${STOCK_EMAIL:-admin@demo.local}
export STOCK_PASSWORD=${STOCK_PASSWORD:-demo-admin-1}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export SHOT_DIR=${SHOT_DIR:-$ROOT/test-output/browser}

fail() { echo "not ok - browser: $1"; echo "RESULT browser passed=0 failed=1"; exit 1; }
command -v node >/dev/null || fail "node is not installed"
[[ -x "$CHROMIUM" ]] || fail "$CHROMIUM is missing (apt-get install -y chromium)"
if [[ ! -d "$HERE/node_modules/playwright-core" || ! -d "$HERE/node_modules/axe-core" ]]; then
    if [[ -f "$HERE/package-lock.json" ]]; then
        (cd "$HERE" && npm ci --no-audit --no-fund --silent) >&2 || fail "npm ci failed"
    else
        (cd "$HERE" && npm install --no-audit --no-fund --silent) >&2 || fail "npm install failed"
    fi
fi
mkdir -p "$SHOT_DIR"
script=${1:-ui.test.mjs}
[[ "$script" == *.test.mjs && -f "$HERE/$script" ]] || fail "no test script $script"
cd "$HERE" && exec timeout 300 node "$script"
