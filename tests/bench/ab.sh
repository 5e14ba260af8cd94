#!/usr/bin/env bash
# ab.sh: two builds' cache-hit paths side by side, for "is this change slower?" (`make bench`'s
# table compares paths, not builds, and this machine's speed drifts between runs). Usage:
#   bash tests/bench/ab.sh OLD_BIN_DIR [NEW_BIN_DIR]   (default new: build/release)
# e.g. git worktree add /tmp/old <rev> && make -C /tmp/old bins && bash tests/bench/ab.sh
# /tmp/old/build/release. One PostgreSQL, one Redis and one nginx serve both pools (the new
# one at /api/, the old one at /miss/api/ of the bench's nginx config, both with the cache on);
# AB_ROUNDS rounds (default 7) of AB_SECONDS (default 5) per path and build, the order
# alternating each round. Prints each round and the median new/old ratio per path. Like the
# bench, it prints figures and never fails on them. The two builds must share the schema and the
# cache's key layout (migrations are run by the new build's stockctl).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh
. tests/bench/lib.sh

OLD=${1:?usage: ab.sh OLD_BIN_DIR [NEW_BIN_DIR]}
NEW=${2:-$ROOT/build/release}
ROUNDS=${AB_ROUNDS:-7}
SECS=${AB_SECONDS:-5}
CONNS=${BENCH_CONNS:-16}
WORKERS=${STOCK_WORKERS:-$(nproc)}
RUN=$ROOT/build/bench-ab
CTL=$NEW/stockctl
PIDS=()

for b in "$OLD/stock-fcgi" "$NEW/stock-fcgi" "$NEW/stockctl"; do
    [[ -x "$b" ]] || { echo "ab: $b is missing" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "ab: wrk is not installed (make deps)" >&2; exit 1; }
rm -rf "$RUN"
mkdir -p "$RUN/static" "$RUN/logs"
pick_port pg_port && pick_port redis_port && pick_port new_port && pick_port old_port &&
    pick_port http_port || exit 1
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_servers || exit 1
"$CTL" seed-demo --tenant bench --products 1000 --sales 20000 --days 730 >/dev/null ||
    exit 1

pool_start "$NEW/stock-fcgi" "127.0.0.1:$new_port" "$RUN/logs/pool-new.log" "$RUN/pool-new.pid" \
    STOCK_WORKERS="$WORKERS" || exit 1
PIDS+=("$(pid_from_file "$RUN/pool-new.pid")")
pool_start "$OLD/stock-fcgi" "127.0.0.1:$old_port" "$RUN/logs/pool-old.log" "$RUN/pool-old.pid" \
    STOCK_WORKERS="$WORKERS" || exit 1
PIDS+=("$(pid_from_file "$RUN/pool-old.pid")")
bench_nginx "$http_port" "127.0.0.1:$new_port" "127.0.0.1:$old_port" 127.0.0.1:1 &&
    bench_sign_in || exit 1
to=$(date +%F)
PATHS=("/api/v1/balance/series?from=$(date -d "$to -30 days" +%F)&to=$to&granularity=daily&method=all"
    "/api/v1/products?limit=50")
NAMES=("balance series, cache hit" "product list, cache hit")

# rps URL: requests/s of one bounded wrk run (after a one-second warm-up); 0 if any non-2xx.
rps()
{
    local out
    wrk -t2 -c"$CONNS" -d1s -H "$AUTH" "$1" >/dev/null 2>&1
    out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 5s -H "$AUTH" "$1" 2>&1)
    if grep -q Non-2xx <<<"$out"; then echo 0; else awk '/Requests\/sec/ {print $2}' <<<"$out"; fi
}

echo "ab: old $OLD, new $NEW; $WORKERS workers each, wrk -t2 -c$CONNS, $ROUNDS rounds of ${SECS}s"
for i in "${!PATHS[@]}"; do
    ratios=()
    for ((r = 1; r <= ROUNDS; r++)); do
        if ((r % 2)); then
            o=$(rps "$BASE/miss${PATHS[$i]}")
            n=$(rps "$BASE${PATHS[$i]}")
        else
            n=$(rps "$BASE${PATHS[$i]}")
            o=$(rps "$BASE/miss${PATHS[$i]}")
        fi
        ratio=$(awk -v n="$n" -v o="$o" 'BEGIN { if (o > 0) printf "%.3f", n / o; else print 0 }')
        ratios+=("$ratio")
        printf '  %-28s round %d: old %10s  new %10s  new/old %s\n' "${NAMES[$i]}" "$r" "$o" "$n" \
            "$ratio"
    done
    printf '%-30s new/old median %s (rounds: %s)\n' "${NAMES[$i]}" \
        "$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p")" "${ratios[*]}"
done
