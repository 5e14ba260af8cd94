#!/usr/bin/env bash
# keepalive.sh: the focused measurement of tests/bench/KEEPALIVE.md (a minute or two, not
# `make bench`'s eight). A small tenant (BENCH_SALES sales, default 2,000), one pool of
# STOCK_WORKERS workers (default nproc), the minimal program twice (plain, and BENCH_KEPT=1),
# the bench's nginx; then KA_ROUNDS (default 3) alternating rounds of wrk -t2 -cBENCH_CONNS
# (default 16) for BENCH_SECONDS (default 5) each on: the cached balance series with a new
# connection per request (/api/) and on kept connections (/kept/api/), the minimal program
# likewise. Machine speed drifts between rounds: compare rows of the same round.
# A bench prints figures; it never fails on them.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh
. tests/bench/lib.sh

SECS=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNS:-16}
ROUNDS=${KA_ROUNDS:-3}
WORKERS=${STOCK_WORKERS:-$(nproc)}
RUN=$ROOT/build/bench-keepalive
BIN=$ROOT/build/release
CTL=$BIN/stockctl
PIDS=()

command -v wrk >/dev/null || { echo "keepalive.sh: wrk is not installed (make deps)" >&2; exit 1; }
rm -rf "$RUN"
mkdir -p "$RUN/static" "$RUN/logs"
pick_port pg_port && pick_port redis_port && pick_port hit_port && pick_port min_port &&
    pick_port minkept_port && pick_port http_port || exit 1
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_servers || exit 1
"$CTL" seed-demo --tenant bench --products 100 --sales "${BENCH_SALES:-2000}" --days 60 \
    >/dev/null || exit 1
pool_start "$BIN/stock-fcgi" "127.0.0.1:$hit_port" "$RUN/logs/pool.log" "$RUN/pool.pid" \
    STOCK_WORKERS="$WORKERS" || exit 1
PIDS+=("$(pid_from_file "$RUN/pool.pid")")
bench_nginx "$http_port" "127.0.0.1:$hit_port" 127.0.0.1:1 "127.0.0.1:$min_port" \
    "127.0.0.1:$minkept_port" && bench_sign_in || exit 1
to=$(date +%F)
SERIES="/api/v1/balance/series?from=$(date -d "$to -30 days" +%F)&to=$to&granularity=daily&method=all"
curl -s -H "$AUTH" "$BASE$SERIES" | redis-cli -p "$redis_port" -x set bench:series >/dev/null
for kept in 0 1; do
    port=$min_port
    ((kept)) && port=$minkept_port
    env STOCK_LISTEN="127.0.0.1:$port" STOCK_WORKERS="$WORKERS" BENCH_KEY=bench:series \
        BENCH_REDIS_PORT="$redis_port" BENCH_KEPT=$kept setsid "$BIN/fcgi-minimal" </dev/null \
        >>"$RUN/logs/minimal-$kept.log" 2>&1 &
    PIDS+=("$!")
done
wait_for 10 eval '[[ "$(http_status "$BASE/minimal")" == 200 &&
                   "$(http_status "$BASE/kept/minimal")" == 200 ]]' || {
    echo "keepalive.sh: the minimal programs do not answer" >&2
    exit 1
}

# row LABEL URL [wrk args]: one wrk run; prints requests/s, p50, p99 and any non-2xx or errors.
row()
{
    local label=$1 url=$2 out
    shift 2
    out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 5s --latency "$@" "$url" 2>&1)
    printf '%-32s %10s %9s %9s %s\n' "$label" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | tr '\n' ' ')"
}
for u in "$BASE$SERIES" "$BASE/kept$SERIES"; do
    wrk -t2 -c"$CONNS" -d1s -H "$AUTH" "$u" >/dev/null 2>&1
done
echo "keepalive: $WORKERS workers, wrk -t2 -c$CONNS -d${SECS}s, $(nproc) cores, nginx keepalive 16"
printf '%-32s %10s %9s %9s\n' "round / path" "requests/s" "p50" "p99"
for r in $(seq 1 "$ROUNDS"); do
    row "$r: series hit, new connection" "$BASE$SERIES" -H "$AUTH"
    row "$r: series hit, kept" "$BASE/kept$SERIES" -H "$AUTH"
    row "$r: minimal, new connection" "$BASE/minimal"
    row "$r: minimal, kept" "$BASE/kept/minimal"
done
grep -c 'upstream' "$RUN/logs/nginx-error.log" | sed 's/^/nginx upstream errors logged (each passed on or answered): /'
