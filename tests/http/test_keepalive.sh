#!/usr/bin/env bash
# test_keepalive.sh: the reads on kept connections (nginx/stock.conf.in: stock_pool_kept,
# @api_read; fcgi/worker.c: struct kept) under load. A pool of two workers and an nginx of its
# own, rendered from nginx/stock.conf.in: wrk at concurrency 32 on a cached GET answers only 2xx
# and never stalls; nginx does keep connections; new connections (the non-kept /health) are not
# held up by the idle kept ones; a worker killed under load costs no GET a 502; SIGTERM still
# stops the pool promptly, and after a restart the GETs nginx sends on the dead kept connections
# are passed on (200); a GET with a body (read and dropped, or too big: the connection closes)
# leaves the next GETs on the kept connections right. Environment from tests/run_all.sh.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"
: "${STOCK_TEST_DIR:?run through tests/run_all.sh}"

DIR=$STOCK_TEST_DIR/keepalive
CTL=$ROOT/build/release/stockctl
BIN=$ROOT/build/asan/stock-fcgi
POOL=""
WRK_PID=""
mkdir -p "$DIR/run" "$DIR/logs"

cleanup()
{
    [[ -n "$WRK_PID" ]] && stop_pid "$WRK_PID" 5 TERM
    nginx_stop "$DIR/nginx"
    [[ -n "$POOL" ]] && pool_stop "$POOL" 20
}
trap cleanup EXIT
trap 'exit 143' TERM INT

if ! command -v wrk >/dev/null; then
    t_skip "reads on kept connections under load" "wrk is not installed (make deps)"
    t_result keepalive
    exit
fi

pick_port fcgi_port && pick_port http_port || exit 1
FCGI=127.0.0.1:$fcgi_port
start_pool()
{
    pool_start "$BIN" "$FCGI" "$DIR/logs/stock-fcgi.log" "$DIR/run/keepalive-fcgi.pid" \
        STOCK_WORKERS=2 LOG_LEVEL=warning || return 1
    POOL=$(pid_from_file "$DIR/run/keepalive-fcgi.pid")
}
start_pool || {
    t_not_ok "the pool starts" "see $DIR/logs/stock-fcgi.log"
    t_result keepalive
    exit 1
}
nginx_render "$ROOT/nginx/stock.conf.in" "$DIR/nginx/nginx.conf" "127.0.0.1:$http_port" "$FCGI" \
    "$ROOT/nginx/static" "$DIR/nginx" "$DIR/logs"
nginx_start "$DIR/nginx" "$DIR/nginx/nginx.conf" "127.0.0.1:$http_port" "$DIR/logs" || {
    t_not_ok "nginx starts" "see $DIR/logs/nginx-error.log"
    t_result keepalive
    exit 1
}
BASE=http://127.0.0.1:$http_port

SLUG=keepalive-$$
PW=keepalive-password-1
secret_note "$PW"
"$CTL" tenant create "$SLUG" "Keepalive Shop" >/dev/null &&
    echo "$PW" | "$CTL" user create --tenant "$SLUG" --email ka@example.com --role admin >/dev/null
TOKEN=$(curl -s -H 'Content-Type: application/json' \
    -d "{\"tenant\":\"$SLUG\",\"email\":\"ka@example.com\",\"password\":\"$PW\"}" \
    "$BASE/api/v1/auth/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
secret_note "$TOKEN"
t_check "signed in through nginx" test -n "$TOKEN"
AUTH="Authorization: Bearer $TOKEN"
HIT=$BASE/api/v1/products?limit=20
curl -s -o /dev/null -H "$AUTH" "$HIT"
t_check "the cached GET answers 200" test "$(http_status "$HIT" -H "$AUTH")" = 200

# load OUT SECONDS URL [CONNS]: wrk at concurrency CONNS (32), 5 s timeout; the output in OUT.
load()
{
    wrk -t2 -c"${4:-32}" -d"$2s" --timeout 5s --latency -H "$AUTH" "$3" >"$1" 2>&1
}
# wrk_ok OUT: requests answered, none non-2xx, no socket error (a timeout is a stall).
wrk_ok()
{
    local n
    n=$(awk '/requests in/ {print $1}' "$1")
    [[ "${n:-0}" -gt 0 ]] && ! grep -q 'Non-2xx' "$1" && ! grep -q 'Socket errors' "$1"
}
# max_ms OUT: wrk's highest latency, in ms.
max_ms()
{
    awk '$1 == "Latency" { v = $4
        if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) sub(/ms$/, "", v)
        else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
        printf "%d", v }' "$1"
}
# kept_conns: established connections to the pool's port (nginx's side of them).
kept_conns()
{
    ss -Htn state established "( dport = :$fcgi_port )" | wc -l
}
# nginx_ends: the local addresses of nginx's established connections to the pool, sorted.
nginx_ends()
{
    ss -Htn state established "( dport = :$fcgi_port )" | awk '{print $3}' | sort
}

# Under load, the connections nginx has open half a second apart: mostly the same ones when it
# keeps them (a connection per request lives about a millisecond). At concurrency 16, within
# what nginx keeps (keepalive 16 per nginx process); past it nginx closes some after their request.
load "$DIR/wrk1.out" 5 "$HIT" 16 &
WRK_PID=$!
wait_for 5 eval '(($(kept_conns) > 0))'
nginx_ends >"$DIR/ends1"
sleep 0.5
nginx_ends >"$DIR/ends2"
wait "$WRK_PID"
WRK_PID=""
t_check "wrk -c16 5 s on a cached GET: only 2xx, no socket error ($(grep -E 'requests in|Non-2xx|Socket' "$DIR/wrk1.out" | tr -s ' ' | tr '\n' ';'))" \
    wrk_ok "$DIR/wrk1.out"
t_check "no request stalled: the slowest took $(max_ms "$DIR/wrk1.out") ms (< 2000)" \
    eval '(($(max_ms "$DIR/wrk1.out") < 2000))'
n1=$(wc -l <"$DIR/ends1")
same=$(comm -12 "$DIR/ends1" "$DIR/ends2" | wc -l)
t_check "nginx keeps its connections: $same of the $n1 open under load still open 0.5 s later (> half)" \
    eval '((n1 > 0 && same * 2 > n1))'

# New connections (the non-kept /health, stock_pool) while nginx holds its idle kept ones.
# The same look at its connections: stock_pool (and so every write) keeps none.
wrk -t2 -c16 -d2s --timeout 3s "$BASE/health" >"$DIR/wrk-health.out" 2>&1 &
WRK_PID=$!
wait_for 5 eval '(($(kept_conns) > 0))'
nginx_ends >"$DIR/ends3"
sleep 0.5
nginx_ends >"$DIR/ends4"
wait "$WRK_PID"
WRK_PID=""
t_check "new connections are served while kept ones idle: /health at -c16, only 2xx, slowest $(max_ms "$DIR/wrk-health.out") ms (< 2000)" \
    eval 'wrk_ok "$DIR/wrk-health.out" && (($(max_ms "$DIR/wrk-health.out") < 2000))'
n3=$(wc -l <"$DIR/ends3")
same=$(comm -12 "$DIR/ends3" "$DIR/ends4" | wc -l)
t_check "stock_pool (writes, /health) keeps no connection: $same of the $n3 open under load still open 0.5 s later (nginx's idle kept ones at most)" \
    eval '((n3 > 0 && same * 2 <= n3))'

# A GET with a body, on a kept connection: read and dropped (10 KiB), or the connection closed
# after the answer (200 KiB, over KEPT_DRAIN_BYTES); the GETs after it are answered right.
for size in 10240 204800; do
    st=$(head -c "$size" /dev/zero | tr '\0' 'a' | curl -s -o /dev/null -w '%{http_code}' \
        -X GET -H "$AUTH" -H 'Content-Type: application/json' --data-binary @- "$HIT")
    bad=0
    for i in $(seq 1 40); do
        [[ "$(http_status "$HIT" -H "$AUTH")" == 200 ]] || bad=$((bad + 1))
    done
    t_check "a GET with a $size-byte body is answered (not 502/504: $st), then 40 GETs: $bad not 200" \
        eval '[[ "$st" =~ ^[1-4] ]] && ((bad == 0))'
done

# A worker killed under load: its kept connections close while nginx may be reusing them.
load "$DIR/wrk2.out" 6 "$HIT" &
WRK_PID=$!
sleep 2
victim=$(pool_workers "$POOL" | head -n 1)
[[ -n "$victim" ]] && kill -KILL "$victim"
wait "$WRK_PID"
WRK_PID=""
t_check "a worker killed under load ($victim): every GET still 2xx ($(grep -E 'requests in|Non-2xx|Socket' "$DIR/wrk2.out" | tr -s ' ' | tr '\n' ';'))" \
    wrk_ok "$DIR/wrk2.out"
t_check "the pool has two workers again" wait_for 20 eval '[[ "$(live_workers "$POOL" | wc -w)" == 2 ]]'

# SIGTERM with kept connections open: the pool stops promptly.
load "$DIR/wrk3.out" 2 "$HIT"
n=$(kept_conns)
t0=$(date +%s%N)
pool_stop "$POOL" 20
ms=$((($(date +%s%N) - t0) / 1000000))
t_check "SIGTERM stops the pool in $ms ms with $n kept connections open (< 5000)" \
    eval 'pid_dead "$POOL" && ((ms < 5000))'
POOL=""
if start_pool; then
    bad=0
    for i in $(seq 1 40); do
        [[ "$(http_status "$HIT" -H "$AUTH")" == 200 ]] || bad=$((bad + 1))
    done
    t_check "after the pool's restart, 40 GETs through the same nginx: $bad not 200" eval '((bad == 0))'
    load "$DIR/wrk4.out" 3 "$HIT"
    t_check "and under load again: only 2xx ($(grep -E 'requests in|Non-2xx|Socket' "$DIR/wrk4.out" | tr -s ' ' | tr '\n' ';'))" \
        wrk_ok "$DIR/wrk4.out"
else
    t_not_ok "the pool starts again" "see $DIR/logs/stock-fcgi.log"
fi
t_check "nginx logged no upstream timeout" eval '! grep -q "upstream timed out" "$DIR/logs/nginx-error.log"'
t_result keepalive
