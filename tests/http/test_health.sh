#!/usr/bin/env bash
# test_health.sh: health, metrics, errors and headers end to end through nginx, and the cache
# health while Redis is stopped, hung and back. Environment from tests/run_all.sh:
# STOCK_TEST_BASE_URL, STOCK_TEST_REDISCTL.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
REDISCTL=${STOCK_TEST_REDISCTL:?run through tests/run_all.sh}

# Whatever happens, Redis is left running for the suites after this one.
trap '$REDISCTL unpause >/dev/null 2>&1; $REDISCTL start >/dev/null 2>&1' EXIT
trap 'exit 143' TERM INT

cache_status_is()
{
    req GET "$BASE/health/cache"
    [[ "$R_STATUS" == 200 ]] && json_has status "$1"
}

cache_ok_six_times()
{
    local i
    for i in 1 2 3 4 5 6; do
        cache_status_is ok || return 1
    done
}

# --- health ---
req GET "$BASE/health"
t_check "GET /health is 200" test "$R_STATUS" = 200
t_check "GET /health says status ok" json_has status ok
t_check "GET /health is JSON" eval '[[ "$(header Content-Type)" == application/json* ]]'
t_check "a response carries X-Request-Id" test -n "$(header X-Request-Id)"
first_id=$(header X-Request-Id)
req GET "$BASE/health"
t_check "each request gets its own X-Request-Id" \
    eval '[[ -n "$(header X-Request-Id)" && "$(header X-Request-Id)" != "$first_id" ]]'

req GET "$BASE/health/db"
t_check "GET /health/db is 200" test "$R_STATUS" = 200

req GET "$BASE/health/cache"
t_check "GET /health/cache is 200" test "$R_STATUS" = 200
t_check "GET /health/cache says status ok" json_has status ok
t_check "GET /health/cache shows no Redis URL" eval '! grep -q "redis://" <<<"$R_BODY"'

req GET "$BASE/nginx-health"
t_check "GET /nginx-health is 200 ok" eval '[[ "$R_STATUS" == 200 && "$R_BODY" == ok ]]'

# --- metrics ---
req GET "$BASE/metrics"
t_check "GET /metrics from loopback is 200" test "$R_STATUS" = 200
t_check "GET /metrics is Prometheus text" eval 'grep -q "^# TYPE " <<<"$R_BODY"'

# --- errors ---
req GET "$BASE/api/v1/nope"
t_check "unknown API path is 404" test "$R_STATUS" = 404
t_check "404 is a JSON error with code, message, field" eval \
    'grep -qE "\"error\"[[:space:]]*:[[:space:]]*\{" <<<"$R_BODY" &&
     grep -q "\"code\"" <<<"$R_BODY" && grep -q "\"message\"" <<<"$R_BODY" &&
     grep -q "\"field\"" <<<"$R_BODY"'
t_check "404 carries X-Request-Id" test -n "$(header X-Request-Id)"

big=$(mktemp)
head -c $((1024 * 1024 + 100)) /dev/zero | tr '\0' 'a' >"$big"
req POST "$BASE/api/v1/products" -H 'Content-Type: application/json' --data-binary "@$big"
rm -f "$big"
t_check "a body over 1 MiB is 413" test "$R_STATUS" = 413
t_check "413 is a JSON error" json_has code payload_too_large

# --- static UI and security headers ---
req GET "$BASE/"
t_check "GET / serves the UI" eval '[[ "$R_STATUS" == 200 && "$(header Content-Type)" == text/html* ]]'
t_check "X-Content-Type-Options nosniff" test "$(header X-Content-Type-Options)" = nosniff
t_check "X-Frame-Options DENY" test "$(header X-Frame-Options)" = DENY
t_check "Content-Security-Policy default-src 'self'" \
    eval '[[ "$(header Content-Security-Policy)" == *"default-src '"'self'"'"* ]]'
req GET "$BASE/products/42"
t_check "a UI route falls back to index.html" eval '[[ "$R_STATUS" == 200 && "$R_BODY" == *"<html"* ]]'

# --- cache health while Redis is down, hung, back ---
if $REDISCTL stop; then
    t_ok "redisctl stop"
    t_check "/health/cache is 200 degraded with Redis stopped (within 15 s)" \
        wait_for 15 cache_status_is degraded
    req GET "$BASE/health"
    t_check "/health stays 200 with Redis stopped" test "$R_STATUS" = 200
    req GET "$BASE/api/v1/nope"
    t_check "the API still answers with Redis stopped" test "$R_STATUS" = 404
else
    t_not_ok "redisctl stop"
fi
if $REDISCTL start; then
    t_ok "redisctl start"
    # Every worker, not just one: six answers in a row (workers in back-off say degraded).
    t_check "/health/cache is back to ok after Redis returns (within 40 s)" \
        wait_for 40 cache_ok_six_times
else
    t_not_ok "redisctl start"
fi

# A hung Redis (SIGSTOP: connections accepted, no reply) costs at most the socket timeout (and
# its one retry) before the cache says degraded; a worker in back-off says so at once.
if $REDISCTL pause 10000; then
    t_ok "redisctl pause"
    start=$SECONDS
    t_check "/health/cache says degraded while Redis hangs (within 9 s)" \
        wait_for 9 cache_status_is degraded
    stock_log "first degraded answer after $((SECONDS - start)) s"
    req GET "$BASE/health"
    t_check "/health answers 200 while Redis hangs" test "$R_STATUS" = 200
    $REDISCTL unpause
    t_check "/health/cache is ok again after the pause (within 40 s)" \
        wait_for 40 cache_status_is ok
else
    t_not_ok "redisctl pause"
fi

t_result http-health
