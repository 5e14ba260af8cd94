#!/usr/bin/env bash
# test_stack.sh: the local stack of `make run` / `make stop` (deploy/stack.sh) on free ports and
# a throwaway state folder: it comes up with the demo login working and /health/cache ok; with
# its Redis stopped /health/cache says degraded with 200; `up` again brings back only what is
# not running (Redis), and `down` stops everything by PID.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${STOCK_TEST_DIR:?run through tests/run_all.sh}"
export STOCK_VAR_DIR=$STOCK_TEST_DIR/stack-var
pick_port STOCK_PG_PORT && pick_port STOCK_REDIS_PORT && pick_port STOCK_FCGI_PORT &&
    pick_port STOCK_HTTP_PORT || exit 1
export STOCK_PG_PORT STOCK_REDIS_PORT STOCK_FCGI_PORT STOCK_HTTP_PORT
BASE=http://127.0.0.1:$STOCK_HTTP_PORT
OUT=$STOCK_TEST_DIR/stack-up.out
# The stack under test has its own configuration: none of the harness's leaks into it.
unset DATABASE_URL REDIS_URL STOCK_LISTEN

cleanup()
{
    bash "$ROOT/deploy/stack.sh" down >/dev/null 2>&1
}
trap cleanup EXIT

cache_status()
{
    curl -s --max-time 10 "$BASE/health/cache" | jq -r .status 2>/dev/null
}

bash "$ROOT/deploy/stack.sh" up >"$OUT" 2>&1
t_check "stack up exits 0" test $? = 0
t_check "it prints the URL" grep -q "stock is running: $BASE/" "$OUT"
t_check "it prints the demo login" \
    grep -q "login: tenant 'demo', email 'admin@demo.local', password 'demo-admin-1'" "$OUT"
t_check "/health/cache is 200 ok" eval '[[ "$(http_status "$BASE/health/cache")" == 200 && "$(cache_status)" == ok ]]'
t_check "the demo login works" eval '[[ "$(curl -s -o /dev/null -w "%{http_code}" \
    -H "Content-Type: application/json" \
    -d "{\"tenant\":\"demo\",\"email\":\"admin@demo.local\",\"password\":\"demo-admin-1\"}" \
    "$BASE/api/v1/auth/login")" == 200 ]]'
t_check "Redis runs with the dev settings" eval '[[ "$(redis-cli -p "$STOCK_REDIS_PORT" config get maxmemory-policy | tail -n 1)" == allkeys-lru &&
    "$(redis-cli -p "$STOCK_REDIS_PORT" config get maxmemory | tail -n 1)" == 268435456 &&
    "$(redis-cli -p "$STOCK_REDIS_PORT" config get save | tail -n 1)" == "60 1" ]]'

pool_pid=$(pid_from_file "$STOCK_VAR_DIR/run/stock-fcgi.pid")
redis_stop "$STOCK_VAR_DIR/redis" "$STOCK_REDIS_PORT"
t_check "Redis is stopped" port_closed 127.0.0.1 "$STOCK_REDIS_PORT"
t_check "/health/cache is 200 degraded with Redis stopped" \
    eval '[[ "$(http_status "$BASE/health/cache")" == 200 && "$(cache_status)" == degraded ]]'

bash "$ROOT/deploy/stack.sh" up >"$OUT" 2>&1
t_check "stack up again exits 0" test $? = 0
t_check "it starts Redis again" grep -q "^Redis *started" "$OUT"
t_check "and leaves the rest running" eval 'grep -q "^PostgreSQL *already running" "$OUT" &&
    grep -q "^pool *already running" "$OUT" && grep -q "^nginx *already running" "$OUT"'
t_check "the same pool serves (pid $pool_pid)" \
    test "$(pid_from_file "$STOCK_VAR_DIR/run/stock-fcgi.pid")" = "$pool_pid"
# The pool's back-off after the outage is at most 30 s before it tries Redis again.
t_check "/health/cache is ok again without a restart (within 40 s)" \
    wait_for 40 eval '[[ "$(cache_status)" == ok ]]'

bash "$ROOT/deploy/stack.sh" down >"$OUT" 2>&1
t_check "stack down exits 0" test $? = 0
t_check "nginx, the pool, Redis and PostgreSQL are stopped" eval '
    port_closed 127.0.0.1 "$STOCK_HTTP_PORT" && port_closed 127.0.0.1 "$STOCK_FCGI_PORT" &&
    port_closed 127.0.0.1 "$STOCK_REDIS_PORT" && port_closed 127.0.0.1 "$STOCK_PG_PORT"'
t_check "the pool master is gone" eval '! pid_alive "$pool_pid"'
bash "$ROOT/deploy/stack.sh" down >"$OUT" 2>&1
t_check "stack down twice is fine" test $? = 0

t_result stack
