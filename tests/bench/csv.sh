#!/usr/bin/env bash
# csv.sh: the CSV export figure of `make bench` (also `make bench-csv` alone). Makes
# BENCH_CSV_ROWS stock movements (default 1,000,000) for one product of the bench tenant with one
# INSERT, then exports them as CSV (GET /stock/movements?format=csv&product_id=...) straight
# from a release pool of one worker over FastCGI (cgi-fcgi, the body counted by wc), twice, and
# prints the time, the bytes (the body and its ~200-byte CGI head), and the worker's peak RSS
# (VmHWM of /proc/<worker>/status, reset after a warm-up), RSS and RssAnon before and after each,
# and the database's part of each export (the cursor's executor time, auto_explain). A streamed export holds one chunk of rows (services/export.c), so
# the peak should not move with the row count. Then once through the app's nginx to curl.
# BENCH_CSV_SALES=N adds N sales (stockctl
# seed-demo) and their export. A bench prints figures; it never fails on them.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh
. tests/bench/lib.sh
. tests/lib/api.sh

ROWS=${BENCH_CSV_ROWS:-1000000}
# BENCH_CSV_SALES=N: also seed N sales (stockctl seed-demo) and export GET /sales?format=csv.
SALES=${BENCH_CSV_SALES:-0}
RUN=$ROOT/build/bench-csv-run
BIN=$ROOT/build/release
CTL=$BIN/stockctl
PIDS=()

command -v cgi-fcgi >/dev/null || { echo "bench-csv: cgi-fcgi is not installed (make deps)" >&2; exit 1; }
rm -rf "$RUN"
mkdir -p "$RUN/logs"
pg_port="" redis_port="" fcgi_port=""
http_port=""
pick_port pg_port && pick_port redis_port && pick_port fcgi_port && pick_port http_port || exit 1
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
# auto_explain logs each export's cursor run (its executor time, from DECLARE to the last FETCH).
bench_servers -c shared_preload_libraries=auto_explain -c auto_explain.log_min_duration=200 || exit 1
psql() { command psql -X -q -At -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }

t0=$SECONDS
PRODUCT=$(psql -v rows="$ROWS" <<'SQL' | tail -n 1
WITH t AS (SELECT id FROM tenants WHERE slug = 'bench'),
u AS (INSERT INTO units (tenant_id, name, abbreviation) SELECT id, 'Unit', 'u' FROM t RETURNING *)
INSERT INTO products (tenant_id, sku, name, uom_id, price)
SELECT u.tenant_id, 'CSV-BENCH', 'CSV bench product', u.id, 1 FROM u;
INSERT INTO stock_movements (tenant_id, product_id, quantity, kind, stock_before, stock_after,
                             note, reference, created_at)
SELECT p.tenant_id, p.id, 1, 'receipt', g, g + 1, 'bench row ' || g, 'REF-' || g,
       now() - (:rows - g) * interval '1 second'
FROM products p, generate_series(0, :rows - 1) g WHERE p.sku = 'CSV-BENCH';
UPDATE products SET stock = :rows WHERE sku = 'CSV-BENCH';
VACUUM ANALYZE stock_movements;
SELECT id FROM products WHERE sku = 'CSV-BENCH';
SQL
)
[[ "$PRODUCT" =~ ^[0-9]+$ ]] || { echo "bench-csv: cannot make the rows" >&2; exit 1; }
stock_log "bench-csv: $ROWS movements made in $((SECONDS - t0)) s"

if ((SALES > 0)); then
    t0=$SECONDS
    "$CTL" seed-demo --tenant bench --products 100 --sales "$SALES" --days 365 >/dev/null || exit 1
    stock_log "bench-csv: $SALES sales seeded in $((SECONDS - t0)) s"
fi

pool_start "$BIN/stock-fcgi" "127.0.0.1:$fcgi_port" "$RUN/logs/pool.log" "$RUN/csv-fcgi.pid" \
    STOCK_WORKERS=1 || exit 1
PIDS+=("$(pid_from_file "$RUN/csv-fcgi.pid")")
WORKER=$(pool_workers "${PIDS[0]}" | head -n 1)
fcgi_request "127.0.0.1:$fcgi_port" POST /api/v1/auth/login "" \
    '{"tenant":"bench","email":"bench@example.com","password":"bench-password-1"}'
TOKEN=$(jq -r '.token // empty' <<<"$R_BODY")
[[ -n "$TOKEN" ]] || { echo "bench-csv: cannot sign in" >&2; exit 1; }

mem() { awk '/^VmHWM|^VmRSS|^RssAnon/ { printf "%s %s kB  ", $1, $2 }' "/proc/$WORKER/status"; }
# export_bytes QUERY [PATH]: the bytes of GET PATH?QUERY (default /api/v1/stock/movements),
# straight to the worker.
export_bytes()
{
    local p=${2:-/api/v1/stock/movements}
    env -i PATH="$PATH" REQUEST_METHOD=GET SCRIPT_NAME="$p" \
        REQUEST_URI="$p?$1" DOCUMENT_URI="$p" \
        QUERY_STRING="$1" SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1 CONTENT_LENGTH=0 \
        HTTP_AUTHORIZATION="Bearer $TOKEN" timeout 600 cgi-fcgi -bind -connect "127.0.0.1:$fcgi_port" |
        wc -c
}
export_bytes "format=csv&limit=100&product_id=$PRODUCT" >/dev/null
# A forked worker starts with its master's peak (the kernel copies the high-water mark on fork):
# reset it to the current RSS (clear_refs 5, Linux 4.0+) so that VmHWM is this worker's own.
echo 5 >"/proc/$WORKER/clear_refs" 2>/dev/null || echo "(cannot reset VmHWM: it may be the master's)"
echo
echo "=== CSV export of $ROWS stock movements (one worker, release build, straight over FastCGI)"
echo "worker $WORKER before:      $(mem)"
for run in 1 2; do
    t0=$(date +%s%N)
    bytes=$(export_bytes "format=csv&product_id=$PRODUCT")
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    printf 'export %d: %d bytes in %d ms (%s MB/s, %s rows/s)\n' "$run" "$bytes" "$ms" \
        "$(awk -v b="$bytes" -v ms="$ms" 'BEGIN { printf "%.1f", b / 1048576 / (ms / 1000) }')" \
        "$(awk -v r="$ROWS" -v ms="$ms" 'BEGIN { printf "%.0f", r / (ms / 1000) }')"
    echo "worker $WORKER after export $run: $(mem)"
done
# The same export through the app's nginx (nginx/stock.conf.in: it buffers the stream, to a
# temporary file past its buffers) to curl, the client's view.
nginx_render nginx/stock.conf.in "$RUN/nginx/nginx.conf" "127.0.0.1:$http_port" \
    "127.0.0.1:$fcgi_port" "$ROOT/nginx/static" "$RUN/nginx" "$RUN/logs"
if nginx_start "$RUN/nginx" "$RUN/nginx/nginx.conf" "127.0.0.1:$http_port" "$RUN/logs"; then
    out=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}' --max-time 600 \
        -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$http_port/api/v1/stock/movements?format=csv&product_id=$PRODUCT")
    read -r code size secs <<<"$out"
    printf 'through nginx: HTTP %s, %s bytes in %s s\n' "$code" "$size" "$secs"
    echo "worker $WORKER after it: $(mem)"
else
    echo "(nginx did not start: no figure through nginx)"
fi
if ((SALES > 0)); then
    t0=$(date +%s%N)
    bytes=$(export_bytes "format=csv" /api/v1/sales)
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    printf 'sales export (%d sales): %d bytes in %d ms (%s rows/s)\n' "$SALES" "$bytes" "$ms" \
        "$(awk -v r="$SALES" -v ms="$ms" 'BEGIN { printf "%.0f", r / (ms / 1000) }')"
    echo "worker $WORKER after the sales export: $(mem)"
fi
# The database's part: the cursor's executor time of each full export, from auto_explain.
grep -a -A2 'duration:' "$RUN/logs/postgresql.log" | grep -a -B1 'stock_export' |
    awk '/duration:/ { for (i = 1; i <= NF; i++) if ($i == "duration:") print "database time of an export (cursor, auto_explain): " $(i + 1) " ms" }'
