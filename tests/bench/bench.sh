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
RUN=$ROOT/build/bench-run
BIN=$ROOT/build/release
CTL=$BIN/stockctl
PIDS=()

command -v wrk >/dev/null || { echo "bench: wrk is not installed (make deps)" >&2; exit 1; }
rm -rf "$RUN"
mkdir -p "$RUN/static/static" "$RUN/logs"
pick_port pg_port && pick_port redis_port && pick_port hit_port && pick_port miss_port &&
    pick_port min_port && pick_port minkept_port && pick_port http_port && pick_port explain_port && pick_port pgb_port ||
    exit 1
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
    "127.0.0.1:$minkept_port" &&
    bench_sign_in || exit 1

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
    # and the plan itself, as auto_explain logged it (the last matching statement's block)
    awk -v pat="$pat" '/^[0-9]{4}-[0-9]{2}-[0-9]{2} / { if (inblk && ismatch) last = blk; inblk = 0 }
         /duration: [0-9.]+ ms +plan:/ { inblk = 1; ismatch = 0; blk = ""; next }
         inblk { blk = blk "      " $0 "\n"; if (/Query Text:/ && index($0, pat)) ismatch = 1 }
         END { if (inblk && ismatch) last = blk; printf "%s", last }' \
        "$RUN/logs/postgresql.log" | grep -av 'Query Text' | head -n "${EXPLAIN_LINES:-30}"
}
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
}

echo
echo "stock bench: $SALES sales, $WORKERS workers, wrk -t2 -c$CONNS -d${SECS}s, $(nproc) cores"
printf '%-36s %12s %10s %10s\n' "path" "requests/s" "p50 ms" "p99 ms"
wrk_row "balance series, cache hit" "$BASE$SERIES" -H "$AUTH"
hit=$ROW_RPS
wrk_row "balance series, miss (cache off)" "$BASE/miss$SERIES" -H "$AUTH"
wrk_row "product list, cache hit" "$BASE$PRODUCTS" -H "$AUTH"
wrk_row "product list, miss (cache off)" "$BASE/miss$PRODUCTS" -H "$AUTH"
wrk_row "movements page ($MOVES), cache hit" "$BASE$MOVES_ALL" -H "$AUTH"
wrk_row "movements page, miss (cache off)" "$BASE/miss$MOVES_ALL" -H "$AUTH"
wrk_row "one product's movements, cache hit" "$BASE$MOVES_ONE" -H "$AUTH"
wrk_row "one product's movements, miss" "$BASE/miss$MOVES_ONE" -H "$AUTH"
wrk_row "sales list ($SALES; never cached)" "$BASE$SALES_LIST" -H "$AUTH"
wrk_row "payments list (never cached)" "$BASE$PAYMENTS_LIST" -H "$AUTH"
wrk_row "nginx static file, same bytes" "$BASE/static/series.json"
wrk_row "minimal FastCGI + hiredis GET" "$BASE/minimal"
minimal=$ROW_RPS
awk -v h="$hit" -v m="$minimal" 'BEGIN { if (m > 0) printf "hit / minimal FastCGI: %.2f\n", h / m }'
# Upstream keep-alive (nginx/stock.conf.in's reads; tests/bench/KEEPALIVE.md): the same hit and
# the same minimal program on connections nginx keeps, alternating with the rows above.
wrk_row "series hit, kept connections" "$BASE/kept$SERIES" -H "$AUTH"
kept_hit=$ROW_RPS
wrk_row "minimal, kept connections" "$BASE/kept/minimal"
kept_min=$ROW_RPS
awk -v h="$hit" -v k="$kept_hit" -v m="$minimal" -v km="$kept_min" 'BEGIN {
    if (h > 0 && m > 0) printf "kept / new connection each: hit %.2f, minimal %.2f\n", k / h, km / m
    if (km > 0) printf "hit / minimal, both on kept connections: %.2f\n", k / km }'
# This machine's speed drifts from one run to the next: measure the ratio again in alternating
# rounds (hit, minimal, hit, minimal...) and report the median of the rounds.
ratios=()
for round in 1 2 3 4 5; do
    SECS=$ROUND_SECS wrk_row "  round $round: series hit" "$BASE$SERIES" -H "$AUTH" >/dev/null
    h=$ROW_RPS
    SECS=$ROUND_SECS wrk_row "  round $round: minimal" "$BASE/minimal" >/dev/null
    ratios+=("$(awk -v h="$h" -v m="$ROW_RPS" 'BEGIN { if (m > 0) printf "%.2f", h / m; else print 0 }')")
done
printf 'hit / minimal FastCGI in 5 alternating rounds: %s (median %s)\n' "${ratios[*]}" \
    "$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n 3p)"
# Worker memory: RSS of a single worker after 1,000 and after 100,000 mixed requests.
rss_of()
{
    local kid
    kid=$(pid_children "$1" | head -n 1)
    awk '/VmRSS/ {print $2}' "/proc/$kid/status" 2>/dev/null
}
served()
{
    curl -s "$BASE/metrics" | awk '$1 == "stock_requests_total" {print $2}'
}
# rss_run N: mixed requests (wrk bursts of one second) until the pool has served N.
rss_run()
{
    local n
    while n=$(served) && ((${n:-0} < $1)); do
        STOP_AFTER=$(($1 - ${n:-0})) BENCH_TOKEN=$TOKEN BENCH_SERIES=$SERIES \
            wrk -t1 -c2 -d1s -s tests/bench/rss.lua "$BASE" >/dev/null 2>&1
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
rss_run 1000
r1=$(rss_of "$rss_pid")
n1=$(served)
rss_run 100000
r2=$(rss_of "$rss_pid")
n2=$(served)
echo "worker RSS (1 worker, mixed requests): after $n1 requests: ${r1:-?} kB;" \
    "after $n2: ${r2:-?} kB"

echo
echo "balance series on a miss, with $SALES sales:"
series_explain "$from31" "31 days, daily"
series_explain "$from365" "365 days, daily"
echo
echo "stock movements list on a miss, with $MOVES movements:"
EXPLAIN_LINES=40 explain /api/v1/stock/movements "limit=50" "a page of all, and the total" \
    stock_movements
EXPLAIN_LINES=40 explain /api/v1/stock/movements "product_id=$ONE_PRODUCT&limit=50" \
    "a page of one product, and its total" stock_movements
echo
echo "sales list (GET /sales, never cached), with $SALES sales:"
EXPLAIN_LINES=0 explain /api/v1/sales "limit=50" "a page of all, and the total" sale_counts
EXPLAIN_LINES=0 explain /api/v1/sales "status=confirmed&from=$from365&limit=50" \
    "confirmed of a year, and the total" sale_counts
echo "payments list (GET /payments, never cached):"
EXPLAIN_LINES=0 explain /api/v1/payments "limit=50" "a page of all, and the total" balance_daily
echo "product list on a miss ($(psql -At -c "SELECT count(*) FROM products") products):"
EXPLAIN_LINES=0 explain /api/v1/products "limit=50" "a page, and the total" products
