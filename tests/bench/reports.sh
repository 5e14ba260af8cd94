#!/usr/bin/env bash
# reports.sh: the sales report bench (`make bench-reports`; `make bench` runs it after bench.sh).
# Loads BENCH_REPORT_SALES confirmed sales (default 1,000,000) of one tenant over the last 365
# days, 1 to 3 lines each of BENCH_REPORT_PRODUCTS products (default 200, in 10 categories),
# straight with SQL (generate_series): sales are inserted confirmed, then their lines, so the
# summary report_daily is filled by the same statement-level trigger that keeps it for every
# write (sql/016; sale_lines after INSERT), and the balance summary is rebuilt. Then, through
# nginx and a release pool (cache on, the L1 at its default), for each group over the year:
# the cold latency (a MISS: every request a key not cached yet, by its offset, so the report is
# computed from report_daily each time) and the warm one (a HIT of the same key), median and
# max of BENCH_REPORT_N requests each (default 15 cold, 100 warm), plus the database time of
# the summary's query (EXPLAIN ANALYZE) and how many summary rows the year holds. Prints the
# figures; never fails on them.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh
. tests/bench/lib.sh

SALES=${BENCH_REPORT_SALES:-1000000}
PRODUCTS=${BENCH_REPORT_PRODUCTS:-200}
NCOLD=${BENCH_REPORT_N:-15}
NWARM=${BENCH_REPORT_WARM:-100}
WORKERS=${STOCK_WORKERS:-$(nproc)}
RUN=$ROOT/build/bench-reports
BIN=$ROOT/build/release
CTL=$BIN/stockctl
PIDS=()

rm -rf "$RUN"
mkdir -p "$RUN/static/static" "$RUN/logs"
pick_port pg_port && pick_port redis_port && pick_port api_port && pick_port http_port || exit 1
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

stock_log "bench-reports: PostgreSQL :$pg_port, Redis :$redis_port, nginx :$http_port"
bench_servers || exit 1
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }

t0=$SECONDS
psql -v sales="$SALES" -v products="$PRODUCTS" <<'SQL' >/dev/null || exit 1
SET work_mem = '256MB';
CREATE TEMP TABLE bt AS SELECT id, timezone FROM tenants WHERE slug = 'bench';
INSERT INTO units (tenant_id, name, abbreviation) SELECT id, 'Piece', 'pc' FROM bt;
INSERT INTO categories (tenant_id, name)
    SELECT bt.id, 'Category ' || g FROM bt, generate_series(1, 10) g;
INSERT INTO products (tenant_id, sku, name, category_id, uom_id, price, cost)
    SELECT bt.id, 'SKU-' || lpad(g::text, 5, '0'), 'Product ' || g,
           (SELECT id FROM categories c WHERE c.tenant_id = bt.id ORDER BY id
            OFFSET g % 10 LIMIT 1),
           (SELECT id FROM units u WHERE u.tenant_id = bt.id),
           (1 + g % 50)::numeric + 0.99, round(((1 + g % 50)::numeric + 0.99) * 0.6, 2)
    FROM bt, generate_series(1, :products) g;
CREATE TEMP TABLE bp AS
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(price ORDER BY id) AS prices,
           array_agg(cost ORDER BY id) AS costs
    FROM products WHERE tenant_id = (SELECT id FROM bt);
-- the sales, spread evenly over the last 365 days, ids from the sequence
CREATE TEMP TABLE bs AS
    SELECT nextval(pg_get_serial_sequence('sales', 'id')) AS id, g AS n,
           now() - (g::float8 / :sales * 365) * interval '1 day' AS at
    FROM generate_series(1, :sales) g;
CREATE TEMP TABLE bl AS
    SELECT s.id AS sale_id, bp.ids[i.idx] AS product_id, (1 + (s.n + k) % 4)::numeric AS qty,
           bp.prices[i.idx] AS price, bp.costs[i.idx] AS cost,
           round((1 + (s.n + k) % 4) * bp.prices[i.idx], 2) AS lt
    FROM bs s CROSS JOIN bp CROSS JOIN generate_series(1, 1 + (s.n % 3)::int) AS k
    CROSS JOIN LATERAL (SELECT 1 + ((s.n * 7 + k * 13) % cardinality(bp.ids))::int AS idx) i;
INSERT INTO sales (id, tenant_id, status, total, confirmed_at, balance_day, created_at,
                   updated_at)
    SELECT s.id, bt.id, 'confirmed', t.total, s.at, (s.at AT TIME ZONE bt.timezone)::date,
           s.at, s.at
    FROM bs s CROSS JOIN bt
    JOIN (SELECT sale_id, sum(lt) AS total FROM bl GROUP BY sale_id) t ON t.sale_id = s.id;
-- through sql/016's trigger on sale_lines: the lines of confirmed sales go into report_daily
INSERT INTO sale_lines (tenant_id, sale_id, product_id, quantity, unit_price, line_total,
                        unit_cost)
    SELECT bt.id, sale_id, product_id, qty, price, lt, cost FROM bl CROSS JOIN bt;
SELECT stock_balance_rebuild(id) FROM bt;
DELETE FROM cache_outbox;
ANALYZE;
SQL
stock_log "bench-reports: loaded $SALES confirmed sales in $((SECONDS - t0)) s"
psql -At -c "SELECT 'bench-reports: ' || (SELECT count(*) FROM sale_lines) || ' sale lines, '
             || (SELECT count(*) FROM report_daily) || ' report_daily rows ('
             || (SELECT count(DISTINCT day) FROM report_daily) || ' days x '
             || (SELECT count(DISTINCT product_id) FROM report_daily) || ' products), '
             || (SELECT count(*) FROM report_monthly) || ' report_monthly rows, '
             || (SELECT count(*) FROM report_days) || ' report_days rows'"

pool_start "$BIN/stock-fcgi" "127.0.0.1:$api_port" "$RUN/logs/pool.log" "$RUN/pool.pid" \
    STOCK_WORKERS="$WORKERS" || exit 1
PIDS+=("$(cat "$RUN/pool.pid")")
bench_nginx "$http_port" "127.0.0.1:$api_port" 127.0.0.1:1 127.0.0.1:1 && bench_sign_in || exit 1

TO=$(psql -At -c "SELECT (now() AT TIME ZONE timezone)::date FROM tenants WHERE slug = 'bench'")
TID=$(psql -At -c "SELECT id FROM tenants WHERE slug = 'bench'")
FROM=$(date -u -d "$TO -364 days" +%F)

# one URL: prints "seconds X-Cache"
one()
{
    curl -s -o /dev/null -H "$AUTH" -w '%{time_total} %header{x-cache}\n' "$BASE/api/v1/reports/sales?$1"
}
# stats: median and max in ms of the seconds on stdin
stats()
{
    sort -n | awk '{ v[NR] = $1 * 1000 } END { printf "%7.1f %7.1f", v[int((NR + 1) / 2)], v[NR] }'
}

printf '\nsales report over %s..%s (%s confirmed sales, %s products), ms through nginx:\n' \
    "$FROM" "$TO" "$SALES" "$PRODUCTS"
printf '%-9s %6s | %-17s | %-17s | %s\n' group rows "cold p50     max" "warm p50     max" \
    "db time (EXPLAIN ANALYZE of the summary read)"
for g in product category day week month; do
    limit=50
    q="from=$FROM&to=$TO&group=$g&limit=$limit"
    rows=$(curl -s -H "$AUTH" "$BASE/api/v1/reports/sales?$q&offset=100000" |
        sed -n 's/.*"total":\([0-9]*\).*/\1/p')
    : >"$RUN/cold" && : >"$RUN/warm"
    bad=0
    for ((i = 0; i < NCOLD; i++)); do
        read -r t c < <(one "$q&offset=$i")
        [[ "$c" == MISS ]] || bad=$((bad + 1))
        echo "$t" >>"$RUN/cold"
    done
    for ((i = 0; i < NWARM; i++)); do
        read -r t c < <(one "$q&offset=0")
        [[ "$c" == HIT ]] || bad=$((bad + 1))
        echo "$t" >>"$RUN/warm"
    done
    # the summary reads of services/reports.c (by product and category: the whole months from
    # report_monthly and the edge days from report_daily; by period: report_days)
    case $g in
    product | category)
        sql="WITH b0 AS (SELECT CASE WHEN '$FROM'::date = date_trunc('month', '$FROM'::date)::date
             THEN '$FROM'::date ELSE (date_trunc('month', '$FROM'::date) + interval '1 month')::date
             END AS fs, date_trunc('month', '$TO'::date + 1)::date AS fe),
             b AS (SELECT CASE WHEN fs < fe THEN fs ELSE '$TO'::date + 1 END AS fs,
                          CASE WHEN fs < fe THEN fe ELSE '$TO'::date + 1 END AS fe FROM b0)
             SELECT product_id, sum(qty_milli), sum(sales_cents), sum(returns_cents),
                    sum(cost_cents), sum(estimated) FROM (
               SELECT * FROM (SELECT product_id, qty_milli, sales_cents, returns_cents, cost_cents,
                 estimated FROM report_monthly WHERE tenant_id = $TID
                 AND month >= (SELECT fs FROM b) AND month < (SELECT fe FROM b)) m
               UNION ALL SELECT product_id, qty_milli, sales_cents, returns_cents, cost_cents,
                 estimated FROM report_daily WHERE tenant_id = $TID AND day >= '$FROM'
                 AND day < (SELECT fs FROM b)
               UNION ALL SELECT product_id, qty_milli, sales_cents, returns_cents, cost_cents,
                 estimated FROM report_daily WHERE tenant_id = $TID
                 AND day >= (SELECT fe FROM b) AND day <= '$TO') x GROUP BY product_id"
        ;;
    *)
        sql="SELECT day, qty_milli, sales_cents, returns_cents, cost_cents, estimated
             FROM report_days WHERE tenant_id = $TID AND day BETWEEN '$FROM' AND '$TO'
             ORDER BY day"
        ;;
    esac
    db=$(psql -At -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) $sql" |
        sed -n 's/^Execution Time: \(.*\) ms$/\1/p')
    printf '%-9s %6s | %s | %s | %s ms%s\n' "$g" "$rows" "$(stats <"$RUN/cold")" \
        "$(stats <"$RUN/warm")" "$db" "$( ((bad)) && echo " ($bad answers not MISS/HIT as meant)")"
done
echo "(cold: $NCOLD requests, each a key not cached yet; warm: $NWARM requests of one cached key)"
