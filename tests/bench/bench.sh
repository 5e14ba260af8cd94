#!/usr/bin/env bash
# bench.sh: `make bench`. Seeds a tenant (BENCH_SALES sales over two years, default 1,000,000),
# then runs wrk through one nginx for bounded runs (BENCH_SECONDS each, default 10 s, BENCH_CONNS
# connections, default 16) against: the balance series on a cache hit and on a miss
# (CACHE_ENABLED=false), the product list hit and miss, nginx serving the same bytes as a static
# file, and a minimal FastCGI program (libfcgi loop + one hiredis GET of the same bytes, as many
# processes as the pool). Prints one table, the ratio of the hit path to the minimal program,
# and the database time of the series on a miss (auto_explain) for 31 and 365 days. The ledger
# gets BENCH_MOVEMENTS movements (default 1,000,000) for the movements list: a page of all of
# them and of one product's, hit and miss, with their database time; and the sales list (never
# cached) and the payments list, with the database time of their page and total, and of the
# product list's. Then the database paths
# (series and product list, cache off) three ways, on the same miss address one after the
# other: straight to PostgreSQL with DB_STATEMENTS=prepared and =unnamed, and through PgBouncer
# in transaction pooling mode (tests/lib/pgbouncer.sh, as many server connections as workers)
# with DB_STATEMENTS=unnamed. BENCH_PGB=0 leaves those out.
# The per-worker L1 in front of Redis (issue 15): the series and product list hits come from a
# pool with the L1 on (CACHE_L1_BYTES unset: the default) and from one with CACHE_L1_BYTES=0,
# in the table and in BENCH_ROUNDS (5) alternating rounds of BENCH_ROUND_SECONDS (5 s) next to
# the minimal program: the median requests/s, p99 and hit/minimal of each. The worker memory
# runs twice: one worker on the plain mix (rss.lua), and a pool of as many workers with
# CACHE_L1_BYTES=1 MiB (BENCH_RSS_L1_BYTES) filled, then asked a mix that keeps inserting keys
# the L1 does not hold; each worker's RSS after 1,000 and 100,000 requests (BENCH_RSS_REQUESTS;
# also read at 10,000 and 50,000), the L1 agent's apart.
# At the end, one table of the database time of every list and series on a miss (goal < 5 ms).
# A bench prints figures; it never fails on them.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh
. tests/bench/lib.sh
. tests/lib/pgbouncer.sh

SALES=${BENCH_SALES:-1000000}
MOVES=${BENCH_MOVEMENTS:-1000000}
SECS=${BENCH_SECONDS:-10}
ROUND_SECS=${BENCH_ROUND_SECONDS:-5}
CONNS=${BENCH_CONNS:-16}
WORKERS=${STOCK_WORKERS:-$(nproc)}
ROUNDS=${BENCH_ROUNDS:-5}
RSS_N=${BENCH_RSS_REQUESTS:-100000}
RSS_L1_BYTES=${BENCH_RSS_L1_BYTES:-1048576}
# The L1-on pools run the default bound; only the L1-off and memory pools set one.
unset CACHE_L1_BYTES
RUN=$ROOT/build/bench-run
BIN=$ROOT/build/release
CTL=$BIN/stockctl
PIDS=()

command -v wrk >/dev/null || { echo "bench: wrk is not installed (make deps)" >&2; exit 1; }
rm -rf "$RUN"
mkdir -p "$RUN/static/static" "$RUN/logs"
pick_port pg_port && pick_port redis_port && pick_port hit_port && pick_port miss_port &&
    pick_port min_port && pick_port minkept_port && pick_port http_port && pick_port explain_port &&
    pick_port pgb_port && pick_port l1off_port || exit 1
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

stock_log "bench: PostgreSQL :$pg_port, Redis :$redis_port, nginx :$http_port, $WORKERS workers"
bench_servers -c shared_preload_libraries=auto_explain -c auto_explain.log_analyze=on || exit 1
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }

t0=$SECONDS
"$BIN/stockctl" seed-demo --tenant bench --products 1000 --sales "$SALES" --days 730 || exit 1
stock_log "bench: seeded $SALES sales in $((SECONDS - t0)) s"
# The ledger at MOVES rows: one INSERT of receipts and adjustments of +1 spread over the
# products and over the last ~two years (one a minute, ids in time order), each product's rows
# chained on its stock, and the stock raised by as much, so that sum(quantity) = stock holds.
t0=$SECONDS
psql -v moves="$MOVES" <<'SQL' >/dev/null || exit 1
WITH t AS (SELECT id FROM tenants WHERE slug = 'bench'),
ps AS (SELECT array_agg(p.id ORDER BY p.id) AS ids, array_agg(p.stock ORDER BY p.id) AS st
       FROM products p, t WHERE p.tenant_id = t.id)
INSERT INTO stock_movements (tenant_id, product_id, quantity, kind, stock_before, stock_after,
                             note, created_at)
SELECT t.id, ps.ids[1 + g % cardinality(ps.ids)], 1,
       CASE WHEN g % 4 = 0 THEN 'adjustment' ELSE 'receipt' END,
       ps.st[1 + g % cardinality(ps.ids)] + g / cardinality(ps.ids),
       ps.st[1 + g % cardinality(ps.ids)] + g / cardinality(ps.ids) + 1,
       'bench', now() - (:moves - g) * interval '1 minute'
FROM t, ps, generate_series(0, :moves - 1) g
ORDER BY g;
UPDATE products p SET stock = p.stock + m.n
FROM (SELECT product_id, count(*) AS n FROM stock_movements
      WHERE note = 'bench' GROUP BY product_id) m
WHERE p.id = m.product_id;
SQL
stock_log "bench: seeded $MOVES stock movements in $((SECONDS - t0)) s"
psql -c "VACUUM ANALYZE" >/dev/null
ONE_PRODUCT=$(psql -At -c "SELECT min(p.id) FROM products p JOIN tenants t ON t.id = p.tenant_id
                           WHERE t.slug = 'bench'")

pool_start "$BIN/stock-fcgi" "127.0.0.1:$hit_port" "$RUN/logs/pool-hit.log" "$RUN/pool-hit.pid" \
    STOCK_WORKERS="$WORKERS" || exit 1
PIDS+=("$(pid_from_file "$RUN/pool-hit.pid")")
pool_start "$BIN/stock-fcgi" "127.0.0.1:$miss_port" "$RUN/logs/pool-miss.log" "$RUN/pool-miss.pid" \
    STOCK_WORKERS="$WORKERS" CACHE_ENABLED=false || exit 1
PIDS+=("$(pid_from_file "$RUN/pool-miss.pid")")
pool_start "$BIN/stock-fcgi" "127.0.0.1:$l1off_port" "$RUN/logs/pool-l1off.log" \
    "$RUN/pool-l1off.pid" STOCK_WORKERS="$WORKERS" CACHE_L1_BYTES=0 || exit 1
PIDS+=("$(pid_from_file "$RUN/pool-l1off.pid")")

to=$(date +%F)
from31=$(date -d "$to -30 days" +%F)
from365=$(date -d "$to -364 days" +%F)
SERIES="/api/v1/balance/series?from=$from31&to=$to&granularity=daily&method=all"
PRODUCTS="/api/v1/products?limit=50"
MOVES_ALL="/api/v1/stock/movements?limit=50"
SALES_LIST="/api/v1/sales?limit=50"
PAYMENTS_LIST="/api/v1/payments?limit=50"
MOVES_ONE="/api/v1/stock/movements?product_id=$ONE_PRODUCT&limit=50"

bench_nginx "$http_port" "127.0.0.1:$hit_port" "127.0.0.1:$miss_port" "127.0.0.1:$min_port" \
    "127.0.0.1:$l1off_port" "127.0.0.1:$minkept_port" && bench_sign_in || exit 1

# The same bytes for the static file and the minimal program's Redis key.
curl -s -H "$AUTH" "$BASE$SERIES" >"$RUN/static/static/series.json"
redis-cli -p "$redis_port" -x set bench:series <"$RUN/static/static/series.json" >/dev/null
env STOCK_LISTEN="127.0.0.1:$min_port" STOCK_WORKERS="$WORKERS" BENCH_KEY=bench:series \
    BENCH_REDIS_PORT="$redis_port" setsid "$BIN/fcgi-minimal" </dev/null \
    >>"$RUN/logs/minimal.log" 2>&1 &
PIDS+=("$!")
env STOCK_LISTEN="127.0.0.1:$minkept_port" STOCK_WORKERS="$WORKERS" BENCH_KEY=bench:series \
    BENCH_REDIS_PORT="$redis_port" BENCH_KEPT=1 setsid "$BIN/fcgi-minimal" </dev/null \
    >>"$RUN/logs/minimal-kept.log" 2>&1 &
PIDS+=("$!")
wait_for 10 eval '[[ "$(http_status "$BASE/minimal")" == 200 &&
                   "$(http_status "$BASE/kept/minimal")" == 200 ]]' || {
    echo "bench: the minimal program does not answer" >&2
    exit 1
}

# The database time of the series on a miss, for 31 and 365 days: a one-worker pool with the
# cache off connects as role "explain", for which auto_explain logs every plan with its actual
# times; each series is asked twice (the first prepares the statement) and the last plan counts.
psql -c "CREATE ROLE explain LOGIN SUPERUSER" \
    -c "ALTER ROLE explain SET auto_explain.log_min_duration = 0" >/dev/null
pool_start "$BIN/stock-fcgi" "127.0.0.1:$explain_port" "$RUN/logs/pool-explain.log" \
    "$RUN/pool-explain.pid" STOCK_WORKERS=1 CACHE_ENABLED=false \
    DATABASE_URL="postgresql://explain@127.0.0.1:$pg_port/stock" || exit 1
PIDS+=("$(pid_from_file "$RUN/pool-explain.pid")")
# explain PATH QUERY LABEL PATTERN: GET PATH?QUERY twice on that pool; prints the time and the
# plan of the last statement logged whose text holds PATTERN.
explain()
{
    local path=$1 query=$2 label=$3 pat=$4 ms i
    for i in 1 2; do
        env -i PATH="$PATH" REQUEST_METHOD=GET DOCUMENT_URI="$path" QUERY_STRING="$query" \
            HTTP_AUTHORIZATION="Bearer $TOKEN" REMOTE_ADDR=127.0.0.1 CONTENT_LENGTH=0 \
            timeout 10 cgi-fcgi -bind -connect "127.0.0.1:$explain_port" >/dev/null
    done
    ms=$(awk -v pat="$pat" '/duration: [0-9.]+ ms +plan:/ { match($0, /duration: [0-9.]+/);
                d = substr($0, RSTART + 10, RLENGTH - 10); next }
              /Query Text:/ && index($0, pat) && d != "" { last = d }
              { d = (/Query Text:/ ? "" : d) }
              END { print last }' "$RUN/logs/postgresql.log")
    printf '  %-34s %s ms at the database (EXPLAIN ANALYZE via auto_explain)\n' "$label" "${ms:-?}"
    DB_TIMES+=("${DB_LIST:-}, $label|${ms:-?}")
    # and the plan itself, as auto_explain logged it (the last matching statement's block)
    awk -v pat="$pat" '/^[0-9]{4}-[0-9]{2}-[0-9]{2} / { if (inblk && ismatch) last = blk; inblk = 0 }
         /duration: [0-9.]+ ms +plan:/ { inblk = 1; ismatch = 0; blk = ""; next }
         inblk { blk = blk "      " $0 "\n"; if (/Query Text:/ && index($0, pat)) ismatch = 1 }
         END { if (inblk && ismatch) last = blk; printf "%s", last }' \
        "$RUN/logs/postgresql.log" | grep -av 'Query Text' | head -n "${EXPLAIN_LINES:-30}"
}
# DB_TIMES: "list, label|ms" of every explain, for the table at the end (DB_LIST names the list).
DB_TIMES=()
series_explain()
{
    explain /api/v1/balance/series "from=$1&to=$to&granularity=daily&method=all" "$2" balance_daily
}

# wrk_row LABEL URL [header]: one bounded wrk run; prints the row and sets ROW_RPS.
to_ms()
{
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
        else printf "?" }'
}
wrk_row()
{
    local label=$1 url=$2 out rps p50 p99 non2xx
    shift 2
    wrk -t2 -c"$CONNS" -d1s "$@" "$url" >/dev/null 2>&1 # warm-up
    out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 5s --latency "$@" "$url" 2>&1)
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    printf '%-36s %12s %10s %10s %s\n' "$label" "${rps:-?}" "$p50" "$p99" \
        "${non2xx:+($non2xx non-2xx!)}"
    ROW_RPS=${rps:-0}
    ROW_P99=${p99:-?}
}

echo
echo "stock bench: $SALES sales, $WORKERS workers, wrk -t2 -c$CONNS -d${SECS}s, $(nproc) cores"
printf '%-36s %12s %10s %10s\n' "path" "requests/s" "p50 ms" "p99 ms"
wrk_row "balance series, cache hit (L1 on)" "$BASE$SERIES" -H "$AUTH"
wrk_row "balance series, cache hit, L1 off" "$BASE/l1off$SERIES" -H "$AUTH"
wrk_row "balance series, miss (cache off)" "$BASE/miss$SERIES" -H "$AUTH"
wrk_row "product list, cache hit (L1 on)" "$BASE$PRODUCTS" -H "$AUTH"
wrk_row "product list, cache hit, L1 off" "$BASE/l1off$PRODUCTS" -H "$AUTH"
wrk_row "product list, miss (cache off)" "$BASE/miss$PRODUCTS" -H "$AUTH"
wrk_row "movements page ($MOVES), cache hit" "$BASE$MOVES_ALL" -H "$AUTH"
wrk_row "movements page, miss (cache off)" "$BASE/miss$MOVES_ALL" -H "$AUTH"
wrk_row "one product's movements, cache hit" "$BASE$MOVES_ONE" -H "$AUTH"
wrk_row "one product's movements, miss" "$BASE/miss$MOVES_ONE" -H "$AUTH"
# The sales and payments lists: a hit and a miss row if the API answers them with X-Cache, else
# the one row (the same pool; nothing to hit).
cache_header()
{
    curl -s -o /dev/null -D - -H "$AUTH" "$1" | tr -d '\r' |
        awk -F': ' -v h="$2" 'tolower($1) == tolower(h) { v = $2 } END { print v }'
}
for list in "sales list ($SALES)|$SALES_LIST" "payments list|$PAYMENTS_LIST"; do
    IFS='|' read -r llabel lpath <<<"$list"
    cache_header "$BASE$lpath" X-Cache >/dev/null
    if [[ -n "$(cache_header "$BASE$lpath" X-Cache)" ]]; then
        wrk_row "$llabel, cache hit" "$BASE$lpath" -H "$AUTH"
        wrk_row "$llabel, miss (cache off)" "$BASE/miss$lpath" -H "$AUTH"
    else
        wrk_row "$llabel, not cached" "$BASE$lpath" -H "$AUTH"
    fi
done
wrk_row "nginx static file, same bytes" "$BASE/static/series.json"
wrk_row "minimal FastCGI + hiredis GET" "$BASE/minimal"

# Which layer answered: a few asks of each hit address (every worker has its own L1).
layer_of()
{
    local layer
    for _ in 1 2 3 4 5 6; do layer=$(cache_header "$1" X-Cache-Layer); done
    printf '%s' "${layer:-none}"
}
l1_seen="L1 on: series $(layer_of "$BASE$SERIES"), product list $(layer_of "$BASE$PRODUCTS");"
l1_seen+=" L1 off: series $(layer_of "$BASE/l1off$SERIES"),"
l1_seen+=" product list $(layer_of "$BASE/l1off$PRODUCTS")"
echo "X-Cache-Layer of the hits: $l1_seen"
[[ "$l1_seen" == *"L1 on: series L1, product list L1;"* ]] ||
    echo "  (the L1-on pool did not answer from an L1: this build has none, or it is off)"

# The hit path with the L1 on and off next to the minimal program. This machine's speed drifts
# from one run to the next: BENCH_ROUNDS alternating rounds, each round one run of every path
# (the order turned by one each round, so that no path always comes first), and per path the
# median of its rounds' requests/s, p99 and ratio to that round's minimal program.
# Then the same on connections nginx keeps (nginx/stock.conf.in's reads; tests/bench/KEEPALIVE.md):
# the L1-on hits and the minimal program in its kept-connection mode. The minimal program on a
# new connection each stays last: every ratio is to it.
R_LABELS=("balance series hit, L1 on" "balance series hit, L1 off" "product list hit, L1 on"
    "product list hit, L1 off" "series hit, L1 on, kept conns" "product list, L1 on, kept"
    "minimal, kept connections" "minimal FastCGI + hiredis GET")
R_URLS=("$BASE$SERIES" "$BASE/l1off$SERIES" "$BASE$PRODUCTS" "$BASE/l1off$PRODUCTS"
    "$BASE/kept$SERIES" "$BASE/kept$PRODUCTS" "$BASE/kept/minimal" "$BASE/minimal")
declare -A R_RPS R_P99
stock_log "bench: $ROUNDS rounds of ${#R_URLS[@]} runs of $ROUND_SECS s"
for ((round = 0; round < ROUNDS; round++)); do
    for ((k = 0; k < ${#R_URLS[@]}; k++)); do
        p=$(((k + round) % ${#R_URLS[@]}))
        if [[ "${R_URLS[p]}" == */minimal ]]; then
            SECS=$ROUND_SECS wrk_row "${R_LABELS[p]}" "${R_URLS[p]}" >/dev/null
        else
            SECS=$ROUND_SECS wrk_row "${R_LABELS[p]}" "${R_URLS[p]}" -H "$AUTH" >/dev/null
        fi
        R_RPS[$p,$round]=$ROW_RPS
        R_P99[$p,$round]=$ROW_P99
    done
done
# median: the middle of its arguments in numeric order (the lower middle for an even count).
median()
{
    printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"
}
last=$((${#R_URLS[@]} - 1))
echo
echo "the hit path, L1 on (CACHE_L1_BYTES default) and off (=0), next to the minimal program:"
echo "median of $ROUNDS alternating rounds of ${ROUND_SECS} s (wrk -t2 -c$CONNS --latency)"
printf '%-36s %12s %10s %10s   %s\n' "path" "requests/s" "p99 ms" "/ minimal" "per round"
for ((p = 0; p < ${#R_URLS[@]}; p++)); do
    rps=() p99s=() ratios=()
    for ((round = 0; round < ROUNDS; round++)); do
        rps+=("${R_RPS[$p,$round]}")
        p99s+=("${R_P99[$p,$round]}")
        ratios+=("$(awk -v h="${R_RPS[$p,$round]}" -v m="${R_RPS[$last,$round]}" \
            'BEGIN { if (m > 0) printf "%.2f", h / m; else print 0 }')")
    done
    R_MED[p]=$(median "${ratios[@]}")
    printf '%-36s %12s %10s %10s   %s\n' "${R_LABELS[p]}" "$(median "${rps[@]}")" \
        "$(median "${p99s[@]}")" "${R_MED[p]}" "${ratios[*]}"
done
printf 'hit / minimal FastCGI, median: series L1 on %s, L1 off %s; product list L1 on %s, L1 off %s\n' \
    "${R_MED[0]}" "${R_MED[1]}" "${R_MED[2]}" "${R_MED[3]}"
printf 'on kept connections (reads, nginx/stock.conf.in), / minimal on a new connection each: series %s, product list %s; the minimal program kept %s\n' \
    "${R_MED[4]}" "${R_MED[5]}" "${R_MED[6]}"
awk -v s="${R_MED[4]}" -v p="${R_MED[5]}" -v m="${R_MED[6]}" 'BEGIN {
    if (m > 0) printf "both on kept connections, hit / minimal kept: series %.2f, product list %.2f\n", s / m, p / m }'
l1_metrics()
{
    curl -s "$1" | awk '/^stock_cache_l1_/ { printf "%s%s %s", sep, $1, $2; sep = ", " }
        END { if (!sep) printf "none"; print "" }'
}
echo "L1 metrics, L1-on pool: $(l1_metrics "$BASE/metrics")"
echo "L1 metrics, L1-off pool: $(l1_metrics "$BASE/l1off/metrics")"
# Worker memory: RSS of a single worker after 1,000 and after 100,000 mixed requests.
# The workers of a pool are pid_children, its L1 agent pool_agent (tests/lib/common.sh).
vmrss()
{
    awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null
}
rss_of()
{
    vmrss "$(pid_children "$1" | head -n 1)"
}
served()
{
    curl -s "$BASE/metrics" | awk '$1 == "stock_requests_total" {print $2}'
}
# rss_all POOL: "pid:kB" of each of the pool's workers, one per line.
rss_all()
{
    local kid
    for kid in $(pid_children "$1"); do
        printf '%s:%s\n' "$kid" "$(vmrss "$kid")"
    done
}
# rss_run N [VAR=VALUE...]: mixed requests (wrk bursts of one second; rss.lua with the given
# environment) until the pool has served N, for at most BENCH_RSS_MAX_SECONDS (600) per call.
rss_run()
{
    local target=$1 n end=$((SECONDS + ${BENCH_RSS_MAX_SECONDS:-600}))
    shift
    while n=$(served) && [[ -n "$n" ]] && ((n < target)); do
        ((SECONDS < end)) || { echo "bench: rss_run stopped at $n of $target requests" >&2; return 1; }
        env STOP_AFTER=$((target - n)) BENCH_START="$n" BENCH_TOKEN="$TOKEN" BENCH_SERIES="$SERIES" \
            "$@" wrk -t1 -c2 -d1s -s tests/bench/rss.lua "$BASE" >/dev/null 2>&1
    done
}

# The database paths behind PgBouncer: the miss pool makes way, on its address, for each variant
# in turn (the first one is the miss pool of the table above, measured again next to the others).
if [[ "${BENCH_PGB:-1}" != 0 ]]; then
    echo
    echo "database paths (cache off), $WORKERS workers: direct, or through PgBouncer" \
        "$("$PGB_BIN" --version 2>/dev/null | awk 'NR == 1 { print $2 }') in transaction" \
        "pooling with $WORKERS server connections"
    printf '%-36s %12s %10s %10s\n' "path" "requests/s" "p50 ms" "p99 ms"
    pgb_write_ini "$RUN/pgbouncer" "$pgb_port" "$pg_port" transaction "$WORKERS" &&
        pgb_start "$RUN/pgbouncer" "$pgb_port" || exit 1
    pgb_url=postgresql://postgres@127.0.0.1:$pgb_port/stock
    miss_pid=${PIDS[1]}
    for variant in "direct, prepared|$DATABASE_URL|prepared" "direct, unnamed|$DATABASE_URL|unnamed" \
        "pgbouncer, unnamed|$pgb_url|unnamed"; do
        IFS='|' read -r vlabel vurl vmode <<<"$variant"
        pool_stop "$miss_pid" 20
        pool_start "$BIN/stock-fcgi" "127.0.0.1:$miss_port" "$RUN/logs/pool-db-${vlabel%%,*}-$vmode.log" \
            "$RUN/pool-db-${vlabel%%,*}-$vmode.pid" STOCK_WORKERS="$WORKERS" CACHE_ENABLED=false \
            DATABASE_URL="$vurl" DB_STATEMENTS="$vmode" || exit 1
        miss_pid=$(pid_from_file "$RUN/pool-db-${vlabel%%,*}-$vmode.pid")
        PIDS+=("$miss_pid")
        wrk_row "series miss, $vlabel" "$BASE/miss$SERIES" -H "$AUTH"
        wrk_row "product list miss, $vlabel" "$BASE/miss$PRODUCTS" -H "$AUTH"
    done
    pgb_psql "$pgb_port" pgbouncer "SHOW STATS" | awk '$1 == "stock" {
        printf "pgbouncer SHOW STATS: %s transactions, %s queries, %s us waited for a server\n",
            $2, $3, $8 }'
fi

echo
# The hit pool makes way for a one-worker pool on the same address.
pool_stop "${PIDS[0]}" 20
pool_start "$BIN/stock-fcgi" "127.0.0.1:$hit_port" "$RUN/logs/pool-rss.log" "$RUN/pool-rss.pid" \
    STOCK_WORKERS=1 || exit 1
rss_pid=$(pid_from_file "$RUN/pool-rss.pid")
PIDS+=("$rss_pid")
stock_log "bench: the one-worker memory run: $RSS_N requests"
rss_run 1000
r1=$(rss_of "$rss_pid")
n1=$(served)
rss_run "$RSS_N"
r2=$(rss_of "$rss_pid")
n2=$(served)
echo "worker RSS (1 worker, mixed requests): after $n1 requests: ${r1:-?} kB;" \
    "after $n2: ${r2:-?} kB"

# The L1 full: the distinct keys of rss.lua's l1 mix put in Redis first (through the L1-off
# pool, the one still running), then the one-worker pool makes way for a pool of WORKERS workers with a small L1, which the l1 mix fills before
# its first 1,000 requests and then keeps evicting from: every other request a key from a set
# far larger than the bound, or a new one.
pool_stop "$rss_pid" 20
last_product=$(psql -At -c "SELECT max(p.id) FROM products p JOIN tenants t ON t.id = p.tenant_id
                            WHERE t.slug = 'bench'")
RSS_ENV=(BENCH_SERIES_DAYS=366 BENCH_PRODUCT_MIN="$ONE_PRODUCT" BENCH_PRODUCT_MAX="$last_product")
n_distinct=$((1000 + 366 + last_product - ONE_PRODUCT + 1)) # as rss.lua's distinct_set
# (wrk runs for its whole -d even after the script stops its thread: bursts of one second.)
stock_log "bench: the L1 memory run: $n_distinct distinct keys into Redis"
filled=0 fill_bytes=0 end=$((SECONDS + 300))
while ((filled < n_distinct && SECONDS < end)); do
    read -r r b < <(env "${RSS_ENV[@]}" BENCH_MIX=distinct BENCH_START="$filled" \
        STOP_AFTER=$((n_distinct - filled)) BENCH_TOKEN="$TOKEN" BENCH_PREFIX=/l1off \
        wrk -t1 -c4 -d1s -s tests/bench/rss.lua "$BASE" 2>/dev/null |
        awk '$1 == "filled:" {print $2, $3}')
    filled=$((filled + ${r:-0})) fill_bytes=$((fill_bytes + ${b:-0}))
done
fill=$(awk -v r="$filled" -v b="$fill_bytes" 'BEGIN { printf "%d responses, %.1f MiB", r, b / 1048576 }')
pool_start "$BIN/stock-fcgi" "127.0.0.1:$hit_port" "$RUN/logs/pool-rss-l1.log" \
    "$RUN/pool-rss-l1.pid" STOCK_WORKERS="$WORKERS" CACHE_L1_BYTES="$RSS_L1_BYTES" || exit 1
rss_pid=$(pid_from_file "$RUN/pool-rss-l1.pid")
PIDS+=("$rss_pid")
stock_log "bench: the L1 memory run: $RSS_N requests"
# Readings at 1,000, 10,000, 50,000 and RSS_N requests: the middle ones tell a level reached
# after the first from a steady growth.
marks=(1000)
for m in 10000 50000 "$RSS_N"; do ((m > ${marks[-1]})) && marks+=("$m"); done
declare -A W_RSS
rss_seen=() # "PID" in the order first seen
for m in "${marks[@]}"; do
    rss_run "$m" "${RSS_ENV[@]}" BENCH_MIX=l1
    n=$(served)
    M_SERVED[$m]=$n
    for w in $(rss_all "$rss_pid"); do
        [[ -n "${W_RSS[${w%%:*},first]:-}" ]] || { rss_seen+=("${w%%:*}"); W_RSS[${w%%:*},first]=$m; }
        W_RSS[${w%%:*},$m]=${w#*:}
    done
    A_RSS[$m]=$(vmrss "$(pool_agent "$rss_pid")")
done
first=${marks[0]} final=${marks[-1]}
echo "worker RSS with the L1 full ($WORKERS workers, CACHE_L1_BYTES=$RSS_L1_BYTES; ${n_distinct:-?}" \
    "distinct keys put in Redis first: ${fill:-?}; every other request of the mix is one of" \
    "them or a new key): after ${M_SERVED[$first]} and ${M_SERVED[$final]} requests (goal: flat" \
    "within 1024 kB)"
for pid in "${rss_seen[@]}"; do
    a=${W_RSS[$pid,$first]:-} b=${W_RSS[$pid,$final]:-} mid=""
    for m in "${marks[@]}"; do
        ((m != first && m != final)) && mid+=" ${m}: ${W_RSS[$pid,$m]:-gone}"
    done
    if [[ "${W_RSS[$pid,first]}" != "$first" ]]; then
        printf '  worker %-8s started after the first reading (a worker was respawned): %s kB\n' \
            "$pid" "${b:-gone}"
    else
        printf '  worker %-8s %8s kB -> %8s kB  %s  (kB at%s)\n' "$pid" "${a:-?}" "${b:-gone}" \
            "$([[ -n "$a" && -n "$b" ]] && echo "difference $((b - a)) kB")" "${mid:- none between}"
    fi
done
a1=${A_RSS[$first]:-} a2=${A_RSS[$final]:-}
echo "  the pool's L1 agent: ${a1:-none} kB -> ${a2:-none} kB"
echo "  L1 metrics: $(l1_metrics "$BASE/metrics")"

stock_log "bench: the database times"
echo
echo "balance series on a miss, with $SALES sales:"
DB_LIST="balance series"
series_explain "$from31" "31 days, daily"
series_explain "$from365" "365 days, daily"
echo
echo "stock movements list on a miss, with $MOVES movements:"
DB_LIST="movements list"
EXPLAIN_LINES=40 explain /api/v1/stock/movements "limit=50" "a page of all, and the total" \
    stock_movements
EXPLAIN_LINES=40 explain /api/v1/stock/movements "product_id=$ONE_PRODUCT&limit=50" \
    "a page of one product, and its total" stock_movements
echo
echo "sales list (GET /sales, never cached), with $SALES sales:"
DB_LIST="sales list"
EXPLAIN_LINES=0 explain /api/v1/sales "limit=50" "a page of all, and the total" sale_counts
EXPLAIN_LINES=0 explain /api/v1/sales "status=confirmed&from=$from365&limit=50" \
    "confirmed of a year, and the total" sale_counts
echo "payments list (GET /payments, never cached):"
DB_LIST="payments list"
EXPLAIN_LINES=0 explain /api/v1/payments "limit=50" "a page of all, and the total" balance_daily
echo "product list on a miss ($(psql -At -c "SELECT count(*) FROM products") products):"
DB_LIST="product list"
EXPLAIN_LINES=0 explain /api/v1/products "limit=50" "a page, and the total" products

echo
echo "database time on a miss, every list and series ($SALES sales, $MOVES movements; goal < 5 ms):"
for row in "${DB_TIMES[@]}"; do
    awk -v l="${row%|*}" -v ms="${row##*|}" 'BEGIN {
        printf "  %-56s %8s ms  %s\n", l, ms,
            ms == "?" ? "(not found in the log)" : (ms + 0 < 5 ? "" : "over the goal") }'
done
