#!/usr/bin/env bash
# test_stockctl.sh: the admin CLI against the run's PostgreSQL and Redis: migrate is idempotent,
# tenant create refuses a duplicate, and seed-demo (argument checks, the catalog it writes, a
# second run adding more, cache invalidation with Redis up and unreachable, 100,000 products
# within 15 s). Environment from tests/run_all.sh: DATABASE_URL, REDIS_URL, STOCK_ENV_FILE.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${DATABASE_URL:?run through tests/run_all.sh}"
: "${REDIS_URL:?run through tests/run_all.sh}"
CTL=$ROOT/build/release/stockctl
BIG_LIMIT_S=15

# Unique per run, so that a re-run against the same database never collides.
SUFFIX=$$-$RANDOM
T1=ctl-seed-$SUFFIX
T2=ctl-big-$SUFFIX
OUT=$(mktemp)
ERR=$(mktemp)

# The tenants of this suite go away with their data (ON DELETE CASCADE), whatever happened.
cleanup()
{
    psql -X -q "$DATABASE_URL" -v ON_ERROR_STOP=1 \
        -c "DELETE FROM cache_backlog WHERE tenant_id IN
                (SELECT id FROM tenants WHERE slug IN ('$T1', '$T2'))" \
        -c "DELETE FROM tenants WHERE slug IN ('$T1', '$T2')" >/dev/null 2>&1
    rm -f "$OUT" "$ERR"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# q SQL: one value (or rows, '|'-separated) from the database.
q()
{
    psql -X -At "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "$1"
}

# ctl ARGS...: runs stockctl, keeping stdout in $OUT and stderr in $ERR; sets RC.
ctl()
{
    "$CTL" "$@" >"$OUT" 2>"$ERR"
    RC=$?
}

# One error line only: exactly one line starting with "stockctl: " on stderr matching ERE, and
# nothing on stdout.
one_error_line()
{
    [[ ! -s "$OUT" ]] && [[ "$(grep -c '^stockctl: ' "$ERR")" == 1 ]] &&
        grep -qE "^stockctl: $1" "$ERR"
}

count_of()
{
    q "SELECT count(*) FROM $1 WHERE tenant_id = (SELECT id FROM tenants WHERE slug = '$2')"
}

# --- migrate ---
ctl migrate
t_check "migrate (already applied by the harness) exits 0" test "$RC" = 0
ctl migrate
t_check "migrate run again exits 0" test "$RC" = 0
t_check "migrate run again prints 'up to date'" test "$(cat "$OUT")" = "up to date"

# --- tenant create ---
ctl tenant create "$T1" "Seed Test Shop"
t_check "tenant create exits 0 and prints an id" eval '[[ $RC == 0 && "$(cat "$OUT")" =~ ^[0-9]+$ ]]'
T1_ID=$(cat "$OUT")
ctl tenant create "$T1" "Another Shop"
t_check "tenant create with a duplicate slug exits 1" test "$RC" = 1
t_check "the duplicate is reported in one line" one_error_line "tenant '$T1' already exists"

# --- seed-demo: arguments ---
bad_args()
{
    local name=$1 pattern=$2 want=$3
    shift 3
    ctl seed-demo --tenant "$T1" "$@"
    t_check "seed-demo $name exits $want" test "$RC" = "$want"
    t_check "seed-demo $name says why in one line" one_error_line "$pattern"
}
bad_args "--products -1" "invalid --products '-1'" 1 --products -1
bad_args "--products abc" "invalid --products 'abc'" 1 --products abc
bad_args "--products 1000001" "invalid --products '1000001'" 1 --products 1000001
bad_args "--products 12x" "invalid --products '12x'" 1 --products 12x
bad_args "--days 0" "invalid --days '0'" 1 --days 0
bad_args "--days 3661" "invalid --days '3661'" 1 --days 3661
bad_args "--sales -1" "invalid --sales '-1'" 1 --sales -1
bad_args "with an unknown option" "unknown option '--colour'" 2 --colour red
bad_args "with a stray argument" "unexpected argument 'now'" 2 now
bad_args "--products without a value" "option '--products' needs a value" 2 --products
bad_args "--sales 2000001" "invalid --sales '2000001'" 1 --sales 2000001
bad_args "--sales 5 --days 0 (arguments first)" "invalid --days '0'" 1 --sales 5 --days 0
ctl seed-demo --tenant "nosuch-$SUFFIX"
t_check "seed-demo for a missing tenant exits 1" test "$RC" = 1
t_check "the missing tenant is named in one line" one_error_line "tenant 'nosuch-$SUFFIX' not found"
t_check "nothing was seeded by the refused runs" \
    eval '[[ "$(count_of units "$T1")/$(count_of products "$T1")" == 0/0 ]]'

# --- seed-demo: the catalog ---
# Generation keys of the tenant's catalog modules: the seed must delete them (invalidation).
GEN_KEYS=()
for m in products categories uom; do
    GEN_KEYS+=("stock:tenant:$T1_ID:$m:__gen__")
done
redis_set_gens()
{
    local k
    for k in "${GEN_KEYS[@]}"; do
        redis-cli -u "$REDIS_URL" SET "$k" before-seed >/dev/null || return 1
    done
}
redis_gens_gone()
{
    local k
    for k in "${GEN_KEYS[@]}"; do
        [[ "$(redis-cli -u "$REDIS_URL" EXISTS "$k")" == 0 ]] || return 1
    done
}

t_check "generation keys set before the seed" redis_set_gens
ctl seed-demo --tenant "$T1" --products 1000
t_check "seed-demo --products 1000 exits 0" test "$RC" = 0
t_check "seed-demo prints one summary line" \
    grep -qxE "seeded tenant $T1: 8 units, 12 categories, 1000 products, 0 sales, 0 payments in [0-9]+\.[0-9] s" "$OUT"
t_check "seed-demo with Redis up prints no warning" test ! -s "$ERR"
t_check "the seed invalidated products, categories and uom" redis_gens_gone
t_check "8 units" test "$(count_of units "$T1")" = 8
t_check "12 categories" test "$(count_of categories "$T1")" = 12
t_check "1000 products" test "$(count_of products "$T1")" = 1000

P="FROM products WHERE tenant_id = $T1_ID"
t_check "SKUs are unique and numbered DEMO-000001 to DEMO-001000" test \
    "$(q "SELECT count(DISTINCT lower(sku)), min(sku), max(sku),
                 bool_and(sku ~ '^DEMO-[0-9]{6}\$') $P")" = "1000|DEMO-000001|DEMO-001000|t"
t_check "names look like products (brand, adjective, kind)" test \
    "$(q "SELECT count(*) $P AND name !~ '^[A-Z][a-z]+ [A-Z][a-z]+ [A-Z]'")" = 0
t_check "names vary" eval '(( $(q "SELECT count(DISTINCT name) $P") >= 900 ))'
t_check "prices within 0.50..500.00, costs about 60% of them" test \
    "$(q "SELECT bool_and(price BETWEEN 0.50 AND 500.00 AND cost > 0 AND cost < price
                          AND cost BETWEEN price * 0.45 AND price * 0.75) $P")" = t
t_check "stock within 0..500, min_stock within 5..20" test \
    "$(q "SELECT bool_and(stock BETWEEN 0 AND 500 AND min_stock BETWEEN 5 AND 20) $P")" = t
t_check "some products are out of stock (stock 0)" \
    eval '(( $(q "SELECT count(*) $P AND stock = 0") >= 50 ))'
t_check "some products are low (0 < stock <= min_stock)" \
    eval '(( $(q "SELECT count(*) $P AND stock > 0 AND stock <= min_stock") >= 100 ))'
t_check "most products are well in stock" \
    eval '(( $(q "SELECT count(*) $P AND stock > min_stock") >= 500 ))'
t_check "a few products have no category, most have one" test \
    "$(q "SELECT count(*) FILTER (WHERE category_id IS NULL) BETWEEN 10 AND 100,
                 count(DISTINCT category_id) $P")" = "t|12"
t_check "products use every unit" test "$(q "SELECT count(DISTINCT uom_id) $P")" = 8
in_stock=$(q "SELECT count(*) $P AND stock > 0")
t_check "one 'initial' movement per product in stock, with its quantity" test \
    "$(q "SELECT (SELECT count(*) FROM stock_movements m JOIN products p
                      ON p.tenant_id = m.tenant_id AND p.id = m.product_id
                  WHERE m.tenant_id = $T1_ID AND m.reason = 'initial' AND m.quantity = p.stock
                    AND m.sale_id IS NULL),
                 (SELECT count(*) FROM stock_movements WHERE tenant_id = $T1_ID)")" = \
    "$in_stock|$in_stock"

# --- seed-demo again: adds products, keeps units and categories ---
ctl seed-demo --tenant "$T1" --products 500
t_check "a second seed-demo exits 0" test "$RC" = 0
t_check "the second run adds no unit or category and 500 products" \
    grep -qE "^seeded tenant $T1: 0 units, 0 categories, 500 products, 0 sales, 0 payments in " "$OUT"
t_check "still 8 units and 12 categories" \
    eval '[[ "$(count_of units "$T1")/$(count_of categories "$T1")" == 8/12 ]]'
t_check "1500 products with unique SKUs up to DEMO-001500" test \
    "$(q "SELECT count(*), count(DISTINCT lower(sku)), max(sku) $P")" = "1500|1500|DEMO-001500"
t_check "movements still match the products in stock" test \
    "$(q "SELECT count(*) FROM stock_movements WHERE tenant_id = $T1_ID")" = \
    "$(q "SELECT count(*) $P AND stock > 0")"
ctl seed-demo --tenant "$T1" --products 0
t_check "seed-demo --products 0 exits 0 and adds nothing" eval \
    '[[ $RC == 0 && "$(count_of products "$T1")" == 1500 ]]'

# --- Redis unreachable: the seed succeeds and the invalidation is recorded ---
dead_port=""
pick_port dead_port
REDIS_URL=redis://127.0.0.1:$dead_port/0 ctl seed-demo --tenant "$T1" --products 10
t_check "seed-demo with Redis unreachable exits 0" test "$RC" = 0
t_check "... warns in one line" eval '[[ "$(grep -c "^stockctl: warning: cannot reach redis" "$ERR")" == 1 ]]'
t_check "... and still adds the products" test "$(count_of products "$T1")" = 1510
t_check "... recording the four invalidations in cache_backlog" test \
    "$(q "SELECT string_agg(module, ',' ORDER BY module) FROM cache_backlog
          WHERE tenant_id = $T1_ID")" = "balance,categories,products,uom"

# --- 100,000 products in a fresh tenant, timed ---
ctl tenant create "$T2" "Big Test Shop"
t_check "a second tenant is created" test "$RC" = 0
start_ns=$(date +%s%N)
ctl seed-demo --tenant "$T2" --products 100000
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
stock_log "seed-demo --products 100000 took ${elapsed_ms} ms ($(cat "$OUT"))"
echo "# seed-demo --products 100000: $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s"
t_check "seed-demo --products 100000 exits 0" test "$RC" = 0
t_check "seed-demo --products 100000 takes under ${BIG_LIMIT_S} s" \
    test "$elapsed_ms" -lt $((BIG_LIMIT_S * 1000))
t_check "100000 products with unique SKUs" test \
    "$(q "SELECT count(*), count(DISTINCT lower(sku)) FROM products
          WHERE tenant_id = (SELECT id FROM tenants WHERE slug = '$T2')")" = "100000|100000"
t_check "the first tenant is untouched by the second's seed" \
    test "$(count_of products "$T1")" = 1510

# --- seed-demo: the sales history ---
ctl seed-demo --tenant "$T1" --products 0 --sales 3000 --days 120
t_check "seed-demo --sales 3000 exits 0" test "$RC" = 0
t_check "it reports 3000 sales" grep -qE "^seeded tenant $T1: .* 3000 sales, [0-9]+ payments" "$OUT"
S="FROM sales s WHERE s.tenant_id = $T1_ID"
t_check "3000 sales: drafts, confirmed and cancelled" test \
    "$(q "SELECT count(*), count(*) FILTER (WHERE status = 'draft') > 0,
                 count(*) FILTER (WHERE status = 'confirmed') > 2500,
                 count(*) FILTER (WHERE status = 'cancelled') > 0 $S")" = "3000|t|t|t"
t_check "confirmations spread over the last 120 days" test \
    "$(q "SELECT min(confirmed_at) >= now() - interval '121 days',
                 max(confirmed_at) <= now(), count(DISTINCT balance_day) > 60 $S")" = "t|t|t"
t_check "every sale's total is the sum of its lines" test \
    "$(q "SELECT count(*) $S AND total <> (SELECT sum(line_total) FROM sale_lines l
          WHERE l.tenant_id = s.tenant_id AND l.sale_id = s.id)")" = 0
t_check "payments only on confirmed sales and never above the total" test \
    "$(q "SELECT count(*) FROM (SELECT s.status, s.total, sum(p.amount) AS paid
          FROM payments p JOIN sales s ON s.tenant_id = p.tenant_id AND s.id = p.sale_id
          WHERE p.tenant_id = $T1_ID GROUP BY s.id, s.status, s.total) x
          WHERE status <> 'confirmed' OR paid > total")" = 0
t_check "the balance summary matches a rebuild from the raw rows" test \
    "$(q "CREATE TEMP TABLE b AS SELECT day, sales_count, sales_cents, cash_cents, card_cents,
                 transfer_cents, cash_count, card_count, transfer_count
                 FROM balance_daily WHERE tenant_id = $T1_ID;
          SELECT stock_balance_rebuild($T1_ID);
          CREATE TEMP TABLE r AS SELECT day, sales_count, sales_cents, cash_cents, card_cents,
                 transfer_cents, cash_count, card_count, transfer_count
                 FROM balance_daily WHERE tenant_id = $T1_ID;
          SELECT (SELECT count(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM b) x) +
                 (SELECT count(*) FROM (SELECT * FROM b EXCEPT SELECT * FROM r) y)" |
          tail -n 1)" = 0
t_check "the summary counts the payments per day and method" test \
    "$(q "SELECT count(*) FROM (SELECT balance_day, method, count(*) AS n FROM payments
          WHERE tenant_id = $T1_ID GROUP BY 1, 2) p
          JOIN balance_daily b ON b.tenant_id = $T1_ID AND b.day = p.balance_day
          WHERE p.n <> CASE p.method WHEN 'cash' THEN b.cash_count WHEN 'card' THEN b.card_count
                ELSE b.transfer_count END")|$(q "SELECT (SELECT count(*) FROM payments
          WHERE tenant_id = $T1_ID) = (SELECT sum(cash_count + card_count + transfer_count)
          FROM balance_daily WHERE tenant_id = $T1_ID)")" = "0|t"
t_check "the summary counts the confirmed sales" test \
    "$(q "SELECT (SELECT sum(sales_count) FROM balance_daily WHERE tenant_id = $T1_ID) =
                 (SELECT count(*) $S AND status = 'confirmed')")" = t

# --- purge: expired sessions and day-old Idempotency-Key records, in every tenant ---
printf '%s\n' "purge-pass-$SUFFIX" | "$CTL" user create --tenant "$T1" --email "purge@$T1.test" \
    >"$OUT" 2>"$ERR"
P_USER=$(cat "$OUT")
q "INSERT INTO sessions (tenant_id, user_id, token_hash, csrf_token_hash, created_at, expires_at)
   VALUES ($T1_ID, $P_USER, decode(md5('old-$SUFFIX'), 'hex'), decode(md5('c1-$SUFFIX'), 'hex'),
           now() - interval '3 days', now() - interval '1 day'),
          ($T1_ID, $P_USER, decode(md5('live-$SUFFIX'), 'hex'), decode(md5('c2-$SUFFIX'), 'hex'),
           now(), now() + interval '1 day');
   INSERT INTO idempotency_keys (tenant_id, key, request_hash, created_at)
   VALUES ($T1_ID, 'old-$SUFFIX', '\\x00', now() - interval '2 days'),
          ($T1_ID, 'new-$SUFFIX', '\\x00', now() - interval '1 hour')" >/dev/null
ctl purge
t_check "purge exits 0 and says what it deleted" eval '((RC == 0)) &&
    grep -qE "^purged [1-9][0-9]* expired sessions and [1-9][0-9]* Idempotency-Key records" "$OUT"'
t_check "purge deleted the expired session and kept the live one" test \
    "$(q "SELECT string_agg(CASE WHEN expires_at > now() THEN 'live' ELSE 'expired' END, ',')
          FROM sessions WHERE tenant_id = $T1_ID AND user_id = $P_USER")" = live
t_check "purge deleted the day-old Idempotency-Key record and kept the recent one" test \
    "$(q "SELECT string_agg(key, ',') FROM idempotency_keys WHERE tenant_id = $T1_ID")" = "new-$SUFFIX"
ctl purge extra
t_check "purge takes no argument (usage error, exit 2)" test "$RC" = 2

t_result stockctl
