#!/usr/bin/env bash
# test_l1.sh: the workers' L1 caches (fcgi/core/l1.c, issue 15) end to end, through nginx, with
# the pool's agent and Redis really broken:
#  1. a cached read is served by the L1 (X-Cache-Layer: L1) without any MGET reaching Redis;
#  2. a write, then a read right after its answer (on every worker): the new data, never the
#     L1's old entry; a logout: the token is refused at once;
#  3. FLUSHALL empties the L1s (next hit not from an L1);
#  4. the agent SIGKILLed: the master starts another one, the L1s come back empty, then serve;
#  5. the agent paused (SIGSTOP): the L1s stop serving, writes are still seen by the next read,
#     and after SIGCONT the L1s serve again;
#  6. the agent's connections killed from Redis (CLIENT KILL): a new channel, L1s emptied.
# Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_DIR, STOCK_TEST_REDIS_PORT,
# STOCK_TEST_POOL_PID. Needs jq, redis-cli.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/l1-test
RPORT=${STOCK_TEST_REDIS_PORT:?run through tests/run_all.sh}
POOL=${STOCK_TEST_POOL_PID:?run through tests/run_all.sh}
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
SUF=$$-$RANDOM
SUITE=http-l1
mkdir -p "$DIR"
STOPPED=""
cleanup()
{
    [[ -n "$STOPPED" ]] && kill -CONT "$STOPPED" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 143' TERM INT

for tool in jq redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        t_not_ok "$tool is installed (deploy/deps.sh installs it)"
        t_result "$SUITE"
        exit 1
    fi
done

. "$ROOT/tests/lib/api.sh"
. "$ROOT/tests/lib/l1.sh"

# agent_pid: the pool's L1 agent (a child of the master named stock-l1).
agent_pid()
{
    pool_agent "$POOL"
}
metric()
{
    curl -s "$BASE/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
mgets()
{
    redis-cli -p "$RPORT" INFO commandstats | tr -d '\r' |
        awk -F'[=,:]' '$1 == "cmdstat_mget" { print $3 }'
}
layer()
{
    header X-Cache-Layer
}
# l1_read PATH: GETs PATH until a worker answers it from its L1 (every worker fills its own).
l1_read()
{
    L1_PATH=$1
    wait_for 10 _l1_hit
}
_l1_hit()
{
    api GET "$L1_PATH"
    [[ "$R_STATUS" == 200 && "$(layer)" == L1 ]]
}
agent_replaced()
{
    local a
    a=$(agent_pid)
    [[ -n "$a" && "$a" != "$AGENT" ]]
}
# above METRIC VALUE: METRIC in /metrics is above VALUE.
above()
{
    local v
    v=$(metric "$1")
    (( ${v:-0} > $2 ))
}
l1_dead()
{
    [[ "$(metric stock_cache_l1_live)" == 0 ]]
}

section "setup"
PW=l1-pw-$SUF
secret_note "$PW"
new_tenant "l1-$SUF" "L1 shop" admin@l1.test "$PW" || {
    t_result "$SUITE"
    exit 1
}
session "l1-$SUF" admin@l1.test "$PW" && TOKEN=$S_TOKEN || TOKEN=""
secret_note "$TOKEN"
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
mk /products "$(jq -cn --argjson u "$UNIT" '{sku:"L1-1", name:"Cached one", uom_id:$u, price:"10.00", stock:"5"}')"
P=$MK_ID
AGENT=$(agent_pid)
ck "the pool runs an L1 agent (pid ${AGENT:-none})" '[[ -n "$AGENT" ]]'
ck "its invalidation connection is in Redis' CLIENT LIST" '[[ -n "$(l1_sub_ids -p "$RPORT")" ]]'

# ---------------------------------------------------------------------------------------------
section "1. a hit without Redis"
ck "GET /products/$P is served by an L1" 'l1_read "/products/$P"'
ck "stock_cache_l1_live is 1" '[[ "$(metric stock_cache_l1_live)" == 1 ]]'
M0=$(mgets)
L0=$(metric 'stock_cache_l1_hits_total{module="products"}')
n=0
for i in $(seq 1 40); do
    api GET "/products/$P"
    [[ "$(layer)" == L1 ]] && n=$((n + 1))
done
M1=$(mgets)
L1H=$(metric 'stock_cache_l1_hits_total{module="products"}')
ck "40 reads: $n from an L1, counted ($L0 -> $L1H)" '(( n >= 30 && ${L1H:-0} - ${L0:-0} >= n ))'
# A read the L1 did not serve (its channel not live a moment on a loaded machine) sends at most
# three: the session's, the value's, and a fill's cache_set (core/cache.c).
ck "the L1 hits sent no MGET to Redis ($M0 -> $M1 for $((40 - n)) other reads)" \
    '(( ${M1:-0} - ${M0:-0} <= 3 * (40 - n) ))'

# ---------------------------------------------------------------------------------------------
section "2. writes are seen by the next read"
stale=0
for price in 11.00 12.00 13.00 14.00 15.00; do
    l1_read "/products/$P" >/dev/null
    api PATCH "/products/$P" "{\"price\":\"$price\"}"
    [[ "$R_STATUS" == 200 ]] || stale=$((stale + 100))
    for i in 1 2 3 4 5 6; do
        api GET "/products/$P"
        [[ "$(jf .price)" == "$price" ]] || stale=$((stale + 1))
    done
done
ck "5 writes, 6 reads right after each answer: none older than the write ($stale)" '(( stale == 0 ))'
TOKEN2=""
session "l1-$SUF" admin@l1.test "$PW" && TOKEN2=$S_TOKEN
secret_note "$TOKEN2"
SAVED=$TOKEN
TOKEN=$TOKEN2
ck "a second session's cached read is served by an L1 (its session too: one lookup)" \
    'l1_read "/products/$P"'
api POST /auth/logout
expect "logout" 204
bad=0
for i in 1 2 3 4 5 6 7 8; do
    api GET "/products/$P"
    [[ "$R_STATUS" == 401 ]] || bad=$((bad + 1))
done
ck "after the logout's answer, 8 cached reads with its token: all 401 ($bad not)" '(( bad == 0 ))'
TOKEN=$SAVED

# ---------------------------------------------------------------------------------------------
section "3. FLUSHALL"
l1_read "/products/$P" >/dev/null
redis-cli -p "$RPORT" FLUSHALL >/dev/null
api GET "/products/$P"
ck "the read after FLUSHALL is not from an L1 (X-Cache $(header X-Cache) $(layer))" \
    '[[ "$R_STATUS" == 200 && "$(layer)" != L1 && "$(jf .price)" == 15.00 ]]'
ck "and the L1s fill again" 'l1_read "/products/$P"'

# ---------------------------------------------------------------------------------------------
section "4. the agent killed"
R0=$(metric stock_cache_l1_agent_restarts_total)
S0=$(metric stock_cache_l1_resets_total)
AGENT=$(agent_pid)
[[ -n "$AGENT" ]] && kill -KILL "$AGENT"
ck "the master starts another agent" 'wait_for 10 agent_replaced'
ck "counted in stock_cache_l1_agent_restarts_total and a new channel is up" \
    'wait_for 10 above stock_cache_l1_agent_restarts_total "${R0:-0}" &&
     wait_for 10 above stock_cache_l1_resets_total "${S0:-0}"'
api PATCH "/products/$P" '{"price":"16.00"}'
api GET "/products/$P"
ck "the first read after the new channel: the new price, not from an L1 ($(jf .price) $(layer))" \
    '[[ "$(jf .price)" == 16.00 && "$(layer)" != L1 ]]'
ck "the L1s serve again" 'l1_read "/products/$P"'

# ---------------------------------------------------------------------------------------------
section "5. the agent paused"
AGENT=$(agent_pid)
l1_read "/products/$P" >/dev/null
kill -STOP "$AGENT" && STOPPED=$AGENT
ck "the L1s stop serving (stock_cache_l1_live 0)" 'wait_for 5 l1_dead'
n=0
for i in $(seq 1 20); do
    api GET "/products/$P"
    [[ "$(layer)" == L1 ]] && n=$((n + 1))
done
ck "20 reads while the agent is stopped: none from an L1 ($n)" '(( n == 0 ))'
api PATCH "/products/$P" '{"price":"17.00"}'
expect "a write while the agent is stopped" 200
api GET "/products/$P"
ck "the next read has it ($(jf .price))" '[[ "$(jf .price)" == 17.00 ]]'
kill -CONT "$AGENT" && STOPPED=""
ck "after SIGCONT the L1s serve again, the new price" \
    'l1_read "/products/$P" && [[ "$(jf .price)" == 17.00 ]]'

# ---------------------------------------------------------------------------------------------
section "6. the agent's connections killed from Redis"
S0=$(metric stock_cache_l1_resets_total)
for name in stock-l1-track stock-l1-sub; do
    l1_read "/products/$P" >/dev/null
    ids=$(redis-cli -p "$RPORT" CLIENT LIST |
        awk -v n="name=$name-" '$0 ~ n { for (i = 1; i <= NF; i++) if ($i ~ /^id=/) print substr($i, 4) }')
    for id in $ids; do redis-cli -p "$RPORT" CLIENT KILL ID "$id" >/dev/null; done
    api PATCH "/products/$P" '{"price":"18.00"}'
    api GET "/products/$P"
    ck "CLIENT KILL of $name: a write then a read: the new price ($(jf .price))" \
        '[[ "$(jf .price)" == 18.00 ]]'
    api PATCH "/products/$P" '{"price":"17.00"}'
done
ck "each kill set a new channel up" 'wait_for 10 above stock_cache_l1_resets_total $((${S0:-0} + 1))'
ck "and the L1s serve again" 'l1_read "/products/$P"'

t_result "$SUITE"
