#!/usr/bin/env bash
# test_stockctl.sh: the admin CLI against the run's PostgreSQL and Redis: migrate is idempotent,
# tenant create refuses a duplicate and stores --locale/--currency (bad ones refused, nothing
# created), and seed-demo (argument checks, the catalog it writes, a
# second run adding more, cache invalidation with Redis up and unreachable, 100,000 products
# within 15 s), purge, and cache stats/flush (checked against what Redis holds, before and after
# cached reads through the API, with bad arguments and with Redis unreachable). Environment from
# tests/run_all.sh: DATABASE_URL, REDIS_URL, STOCK_ENV_FILE, STOCK_TEST_BASE_URL,
# STOCK_TEST_REDIS_PORT. Needs jq and redis-cli.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${DATABASE_URL:?run through tests/run_all.sh}"
: "${REDIS_URL:?run through tests/run_all.sh}"
BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
REDIS_PORT=${STOCK_TEST_REDIS_PORT:?run through tests/run_all.sh}
API=$BASE/api/v1
CTL=$ROOT/build/release/stockctl
BIG_LIMIT_S=15

# Unique per run, so that a re-run against the same database never collides.
SUFFIX=$$-$RANDOM
T1=ctl-seed-$SUFFIX
T2=ctl-big-$SUFFIX
T3=ctl-locale-$SUFFIX # the tenants of the --locale/--currency checks
T4=ctl-refused-$SUFFIX
C1=ctl-cache-a-$SUFFIX # the tenants of the cache stats/flush checks
C2=ctl-cache-b-$SUFFIX
OUT=$(mktemp)
ERR=$(mktemp)
# Redis key patterns (in database 0, or "N|PATTERN" for database N) that the suite wrote and
# removes at the end.
REDIS_LITTER=()

# The tenants of this suite go away with their data (ON DELETE CASCADE), whatever happened, and
# so do the Redis keys it planted.
cleanup()
{
    local p
    psql -X -q "$DATABASE_URL" -v ON_ERROR_STOP=1 \
        -c "CREATE TEMP TABLE gone AS
                SELECT id FROM tenants WHERE slug IN ('$T1', '$T2', '$T3', '$T4', '$C1', '$C2')" \
        -c "DELETE FROM tenants WHERE id IN (SELECT id FROM gone)" \
        -c "DELETE FROM cache_outbox WHERE tenant_id IN (SELECT id FROM gone)" >/dev/null 2>&1
    for p in "${REDIS_LITTER[@]}"; do
        if [[ "$p" == *"|"* ]]; then
            r_del_matching "${p#*|}" "${p%%|*}"
        else
            r_del_matching "$p" 0
        fi
    done
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

# rcli ARGS...: redis-cli on the run's Redis (add -n N for database N), bounded to 20 s.
rcli()
{
    timeout 20 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

# r_keys PATTERN [DB]: the distinct keys matching the glob PATTERN in database DB (default 0),
# sorted, listed by redis-cli's own SCAN: what Redis holds, seen without stockctl.
r_keys()
{
    rcli -n "${2:-0}" --scan --pattern "$1" | sort -u
}

# r_del_matching PATTERN DB: unlinks the keys matching PATTERN in database DB.
r_del_matching()
{
    r_keys "$1" "$2" | xargs -r -d '\n' -n 500 \
        timeout 20 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -n "$2" UNLINK >/dev/null
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

# --- tenant create --locale --currency (SPEC §12) ---
t_check "a tenant made without --locale/--currency is en and USD" \
    test "$(q "SELECT locale || ' ' || currency FROM tenants WHERE slug = '$T1'")" = "en USD"
ctl tenant create "$T3" "Tienda Ñandú" --locale es --currency MXN
t_check "tenant create --locale es --currency MXN exits 0 and prints an id" \
    eval '[[ $RC == 0 && "$(cat "$OUT")" =~ ^[0-9]+$ ]]'
t_check "... and PostgreSQL holds es and MXN, with the name as given" \
    test "$(q "SELECT name || '|' || locale || '|' || currency FROM tenants WHERE slug = '$T3'")" = \
    "Tienda Ñandú|es|MXN"
# refused WANT_RC PATTERN ARGS...: tenant create T4 ARGS... exits WANT_RC, says PATTERN in one
# line, and creates nothing.
refused()
{
    local want=$1 pattern=$2
    shift 2
    ctl tenant create "$T4" "Refused Shop" "$@"
    t_check "tenant create $* exits $want" test "$RC" = "$want"
    t_check "tenant create $* says why in one line" one_error_line "$pattern"
    t_check "tenant create $* creates nothing" \
        test "$(q "SELECT count(*) FROM tenants WHERE slug = '$T4'")" = 0
}
refused 1 "invalid locale 'fr': expected en or es" --locale fr
refused 1 "invalid locale 'ES': expected en or es" --locale ES
refused 1 "invalid locale '': expected en or es" --locale ""
refused 1 "invalid currency 'usd': expected an active ISO 4217 code" --currency usd
refused 1 "invalid currency 'HRK': expected an active ISO 4217 code" --currency HRK
refused 1 "invalid currency 'ABC': expected an active ISO 4217 code" --currency ABC
refused 1 "invalid currency 'EURO': expected an active ISO 4217 code" --currency EURO
refused 1 "invalid currency '': expected an active ISO 4217 code" --currency ""
refused 1 "invalid currency 'XYZ'" --locale es --currency XYZ
refused 2 "option '--currency' needs a value" --currency
refused 2 "option '--locale' needs a value" --locale
ctl help
t_check "stockctl help lists tenant create --locale en|es --currency CODE" \
    grep -qF "tenant create SLUG NAME [--timezone TZ] [--locale en|es] [--currency CODE]" "$OUT"

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
    grep -qxE "seeded tenant $T1: 8 units, 12 categories, 1000 products, 0 sales, 0 payments, [0-9]+ movements, 0 returns in [0-9]+\.[0-9] s" "$OUT"
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
t_check "one 'opening' movement per product in stock, with its quantity" test \
    "$(q "SELECT (SELECT count(*) FROM stock_movements m JOIN products p
                      ON p.tenant_id = m.tenant_id AND p.id = m.product_id
                  WHERE m.tenant_id = $T1_ID AND m.kind = 'opening' AND m.quantity = p.stock
                    AND m.sale_id IS NULL),
                 (SELECT count(*) FROM stock_movements WHERE tenant_id = $T1_ID)")" = \
    "$in_stock|$in_stock"

# --- seed-demo again: adds products, keeps units and categories ---
ctl seed-demo --tenant "$T1" --products 500
t_check "a second seed-demo exits 0" test "$RC" = 0
t_check "the second run adds no unit or category and 500 products" \
    grep -qE "^seeded tenant $T1: 0 units, 0 categories, 500 products, 0 sales, 0 payments, [0-9]+ movements, 0 returns in " "$OUT"
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

# --- Redis unreachable: the seed succeeds and its invalidations stay in the outbox ---
dead_port=""
pick_port dead_port
REDIS_URL=redis://127.0.0.1:$dead_port/0 ctl seed-demo --tenant "$T1" --products 10
t_check "seed-demo with Redis unreachable exits 0" test "$RC" = 0
t_check "... warns in one line" eval '[[ "$(grep -c "^stockctl: warning: cannot reach redis" "$ERR")" == 1 ]]'
t_check "... and still adds the products" test "$(count_of products "$T1")" = 1510
# New products (and their stock movements) invalidate the products, the categories (their
# counts) and the movements lists, as the triggers of sql/008 and sql/009 say; the rows wait
# for a host to apply them.
t_check "... leaving the products', categories' and movements' invalidations in cache_outbox" test \
    "$(q "SELECT string_agg(DISTINCT module, ',' ORDER BY module) FROM cache_outbox
          WHERE tenant_id = $T1_ID")" = "categories,movements,products"

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
# A staff user first: the seeded receipts are theirs.
printf '%s\n' "staff-pass-$SUFFIX" | "$CTL" user create --tenant "$T1" --email "staff@$T1.test" \
    --role staff >"$OUT" 2>"$ERR"
STAFF_ID=$(cat "$OUT")
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
                 transfer_cents, cash_count, card_count, transfer_count, returns_cents
                 FROM balance_daily WHERE tenant_id = $T1_ID;
          SELECT stock_balance_rebuild($T1_ID);
          CREATE TEMP TABLE r AS SELECT day, sales_count, sales_cents, cash_cents, card_cents,
                 transfer_cents, cash_count, card_count, transfer_count, returns_cents
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
# The shop's day-to-day that comes with a history (SPEC §10): receipts, damage and counts by a
# user, and returns of recent sales, refunded when they were paid.
t_check "it reports 8 returns and the movements it wrote" \
    grep -qE "^seeded tenant $T1: .* payments, [0-9]+ movements, 8 returns in " "$OUT"
t_check "receipts (by a user, with cost and reference), damage and counts in the ledger" test \
    "$(q "SELECT count(*) FILTER (WHERE kind = 'receipt' AND user_id = ${STAFF_ID:-0}
                                   AND unit_cost IS NOT NULL AND reference LIKE 'PO-%'),
                 count(*) FILTER (WHERE kind = 'damage' AND quantity = -1),
                 count(*) FILTER (WHERE kind = 'count')
          FROM stock_movements WHERE tenant_id = $T1_ID")" = "30|7|6"
t_check "8 returns of confirmed sales, each with one line and its 'return' movement" test \
    "$(q "SELECT count(*), bool_and(s.status = 'confirmed'),
                 bool_and(r.returned_total = (SELECT sum(line_total) FROM sale_return_lines l
                                              WHERE l.tenant_id = r.tenant_id
                                                AND l.return_id = r.id)),
                 bool_and(EXISTS (SELECT 1 FROM stock_movements m WHERE m.tenant_id = r.tenant_id
                                  AND m.return_id = r.id AND m.kind = 'return'))
          FROM sale_returns r JOIN sales s ON s.tenant_id = r.tenant_id AND s.id = r.sale_id
          WHERE r.tenant_id = $T1_ID")" = "8|t|t|t"
t_check "a refund is a negative payment of kind 'refund' for the return's total, never above what was paid" test \
    "$(q "SELECT count(*) > 0, count(*) FILTER (WHERE y.kind <> 'refund' OR y.amount <> -r.returned_total)
          FROM sale_returns r JOIN payments y ON y.tenant_id = r.tenant_id AND y.id = r.refund_id
          WHERE r.tenant_id = $T1_ID")|$(q "SELECT count(*) FROM (SELECT sale_id FROM payments
          WHERE tenant_id = $T1_ID GROUP BY sale_id HAVING sum(amount) < 0) x")" = "t|0|0"
t_check "the ledger adds up: for every product, the sum of its movements is its stock" test \
    "$(q "SELECT count(*) FROM products p WHERE p.tenant_id = $T1_ID
          AND p.stock <> (SELECT coalesce(sum(quantity), 0) FROM stock_movements m
                          WHERE m.tenant_id = p.tenant_id AND m.product_id = p.id)")|$(q "SELECT count(*)
          FROM stock_movements WHERE tenant_id = $T1_ID
           AND (stock_after <> stock_before + quantity OR stock_after < 0)")" = "0|0"
t_check "the balance summary counts the returns (rebuilt from the raw rows)" test \
    "$(q "SELECT (SELECT coalesce(sum(returns_cents), 0) FROM balance_daily
                  WHERE tenant_id = $T1_ID) =
                 (SELECT (sum(returned_total) * 100)::bigint FROM sale_returns
                  WHERE tenant_id = $T1_ID)")" = t

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

# --- cache stats and flush ---
# What they print is computed here from Redis itself (redis-cli, not stockctl): per module, in
# the order of ctl_cache_modules (fcgi/ctl/cache.c), "%-12s %6ld keys  generation %s" (the keys
# "{prefix}:tenant:{id}:{module}:*" but the generation key "...:__gen__", whose value follows, or
# "none") and "%-12s %6ld keys deleted" (the keys a flush unlinked).
. "$ROOT/tests/lib/api.sh"
MODULES=(balance products categories uom movements users reports)
KP=stock # CACHE_KEY_PREFIX: the harness keeps the default
# Where r_count, r_gen and the want_* helpers look: the database and the key prefix.
R_DB=0
R_PFX=$KP

# r_count TENANT MODULE: the module's keys in Redis, its generation key aside.
r_count()
{
    r_keys "$R_PFX:tenant:$1:$2:*" "$R_DB" | grep -cvxF "$R_PFX:tenant:$1:$2:__gen__"
}

# r_gen TENANT MODULE: the value of the module's generation key, "none" when there is none.
r_gen()
{
    local k=$R_PFX:tenant:$1:$2:__gen__
    if [[ "$(rcli -n "$R_DB" EXISTS "$k")" == 1 ]]; then
        rcli -n "$R_DB" GET "$k"
    else
        echo none
    fi
}

# want_stats TENANT MODULE...: what cache stats must print for these modules, from Redis.
want_stats()
{
    local t=$1 m
    shift
    for m in "$@"; do
        printf '%-12s %6d keys  generation %s\n' "$m" "$(r_count "$t" "$m")" "$(r_gen "$t" "$m")"
    done
}

# want_flush TENANT MODULE...: what cache flush must print for these modules, from Redis (call
# it before the flush: the counts are of the keys it is to delete).
want_flush()
{
    local t=$1 m
    shift
    for m in "$@"; do
        printf '%-12s %6d keys deleted\n' "$m" "$(r_count "$t" "$m")"
    done
}

# r_snap PATTERN...: every key of database 0 matching one of the patterns, sorted, with the
# value of each generation key and of the epoch: a flush must leave all of that as it was.
r_snap()
{
    local p k
    for p in "$@"; do
        r_keys "$p"
    done | sort -u | while IFS= read -r k; do
        if [[ "$k" == *:__gen__ || "$k" == "$KP:epoch" ]]; then
            printf '%s=%s\n' "$k" "$(rcli GET "$k")"
        else
            printf '%s\n' "$k"
        fi
    done
}

# same_text FILE TEXT: FILE holds exactly TEXT and a newline (nothing at all when TEXT is
# empty); a difference is shown as a diff (# lines).
same_text()
{
    local f=$1 want=$2
    if [[ -z "$want" ]]; then
        [[ ! -s "$f" ]] && return 0
    else
        cmp -s "$f" <(printf '%s\n' "$want") && return 0
    fi
    diff <(printf '%s' "${want:+$want$'\n'}") "$f" | sed 's/^/#   /'
    return 1
}

# said RC STDOUT STDERR: the last ctl run exited RC and printed exactly STDOUT and STDERR (each
# without its last newline; empty: nothing).
said()
{
    local ok=0
    [[ "$RC" == "$1" ]] || {
        echo "#   exit status $RC, not $1"
        ok=1
    }
    same_text "$OUT" "$2" || ok=1
    same_text "$ERR" "$3" || ok=1
    return $ok
}

# xcache PATH: GET PATH as $TOKEN; prints the status and X-Cache ("200 MISS").
xcache()
{
    api GET "$1"
    echo "$R_STATUS $(header X-Cache)"
}

# cache_tenant SLUG: a tenant with an admin and a little catalog (new_tenant of tests/lib/api.sh,
# then seed-demo), signed in (session); sets CT_ID and CT_TOKEN.
cache_tenant()
{
    local pw=ctl-cache-pass-$SUFFIX
    secret_note "$pw"
    STOCKCTL=$CTL new_tenant "$1" "Cache Test Shop" "admin@$1.test" "$pw" || return 1
    CT_ID=$NT_ID
    if ! "$CTL" seed-demo --tenant "$1" --products 5 >/dev/null 2>"$ERR"; then
        t_not_ok "seed-demo fills tenant $1" "$(tr '\n' ' ' <"$ERR")"
        return 1
    fi
    session "$1" "admin@$1.test" "$pw" || {
        t_not_ok "the admin of $1 signs in" "got $R_STATUS $(snip)"
        return 1
    }
    CT_TOKEN=$S_TOKEN
}

cache_tenant "$C1" && A_ID=$CT_ID && A_TOKEN=$CT_TOKEN
cache_tenant "$C2" && B_ID=$CT_ID && B_TOKEN=$CT_TOKEN
: "${A_ID:=0}" "${B_ID:=0}" "${A_TOKEN:=}" "${B_TOKEN:=}"
REDIS_LITTER+=("$KP:tenant:$A_ID:*" "$KP:tenant:$B_ID:*" "$KP:tenant:${A_ID}0:*"
    "1|$KP:tenant:$A_ID:*" "ctlpfx$$:tenant:$A_ID:*")

# Keys planted next to the entries of the API reads: 1500 more in A's products (more than one
# SCAN COUNT 1000 answers), one whose name holds glob characters, and neighbours that belong to
# no module of A (another tenant whose id starts with A's, a module whose name starts with
# "products", the bare module name): these are neither counted nor deleted.
seq 1 1500 | sed "s/^/$KP:tenant:$A_ID:products:planted:/; s/\$/\nx/" |
    xargs -d '\n' -n 1000 timeout 20 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" MSET >/dev/null
NEIGHBOURS=("$KP:tenant:${A_ID}0:products:planted" "$KP:tenant:$A_ID:productsx:planted"
    "$KP:tenant:$A_ID:products")
for k in "$KP:tenant:$A_ID:products:planted:we*ird[1]?" "${NEIGHBOURS[@]}"; do
    rcli SET "$k" x >/dev/null
done

DAYS="from=2026-01-01&to=2026-01-31&granularity=daily"
TOKEN=$A_TOKEN
A_UOM=$(q "SELECT min(id) FROM units WHERE tenant_id = $A_ID")
A_CAT=$(q "SELECT min(id) FROM categories WHERE tenant_id = $A_ID")
for path in /uom "/uom/$A_UOM" /categories "/categories/$A_CAT" /products "/products?limit=3" \
    $(q "SELECT '/products/' || id FROM products WHERE tenant_id = $A_ID ORDER BY id LIMIT 2") \
    "/balance/series?$DAYS" /stock/movements /users "/reports/sales?from=2026-01-01&to=2026-01-31"; do
    warm "$path"
done
# A failed sign-in leaves nothing in Redis (the limit is counted in PostgreSQL); a key of a
# module that stockctl does not list stands in A's key space as a neighbour to spare.
login "$C1" "nobody@$C1.test" wrong-pass
t_check "a failed sign-in (401) leaves no rate-limit key in Redis" eval \
    '[[ "$R_STATUS" == 401 ]] && (($(r_keys "$KP:tenant:$A_ID:ratelimit:*" | grep -c .) == 0))'
rcli SET "$KP:tenant:$A_ID:ratelimit:login:neighbour" 1 >/dev/null
TOKEN=$B_TOKEN
warm /uom
warm "/products/$(q "SELECT min(id) FROM products WHERE tenant_id = $B_ID")"

# entries_of TENANT MODULE: the module's keys but the planted ones and the generation key.
entries_of()
{
    r_keys "$KP:tenant:$1:$2:*" | grep -v -e ':planted' -e ':__gen__$' | grep -c .
}
# all_warmed: each of A's data modules holds entries of the API and a generation.
all_warmed()
{
    local m
    for m in "${MODULES[@]}"; do
        (($(entries_of "$A_ID" "$m") > 0)) && [[ "$(r_gen "$A_ID" "$m")" != none ]] || return 1
    done
}
t_check "the API reads left entries and a generation in each of A's data modules" all_warmed
t_check "... and B's products and uom; A holds sessions keys too" eval \
    '(($(entries_of "$B_ID" products) > 0 && $(entries_of "$B_ID" uom) > 0 &&
       $(r_keys "$KP:tenant:$A_ID:sessions:*" | grep -c .) > 0))'

# --- cache stats ---
ALL_A=("$KP:tenant:$A_ID:*" "$KP:tenant:$B_ID:*" "$KP:tenant:${A_ID}0:*" "$KP:epoch")
before=$(r_snap "${ALL_A[@]}")
want=$(want_stats "$A_ID" products)
ctl cache stats --tenant "$C1" --module products
t_check "cache stats --module products prints the count and generation Redis holds" \
    said 0 "$want" ""
t_check "... which counts the 1501 planted keys and the API's entries, not the neighbours" \
    eval '(($(r_count "$A_ID" products) == 1501 + $(entries_of "$A_ID" products)))'
want=$(want_stats "$A_ID" "${MODULES[@]}")
ctl cache stats --tenant "$C1"
t_check "cache stats (all modules) prints every data module with Redis' counts and generations" \
    said 0 "$want" ""
ctl cache stats --tenant="$C1" --module=uom
t_check "cache stats --tenant=SLUG --module=uom is the same as with separate values" \
    said 0 "$(want_stats "$A_ID" uom)" ""
want=$(want_stats "$B_ID" "${MODULES[@]}")
ctl cache stats --tenant "$C2"
t_check "cache stats of tenant B: its own counts (balance: 0 keys, generation none)" \
    eval 'said 0 "$want" "" && [[ "$want" == "balance           0 keys  generation none"* ]]'
t_check "cache stats changed nothing in Redis" test "$(r_snap "${ALL_A[@]}")" = "$before"

# --- cache flush --module products ---
A_PRODUCTS_GEN=$(r_gen "$A_ID" products)
want=$(want_flush "$A_ID" products)
before=$(r_snap "${ALL_A[@]}" | grep -vF "$KP:tenant:$A_ID:products:")
ctl cache flush --tenant "$C1" --module products
t_check "cache flush --module products prints how many keys it deleted" said 0 "$want" ""
t_check "... no key of A's products is left in Redis, nor its generation" \
    test -z "$(r_keys "$KP:tenant:$A_ID:products:*")"
t_check "... every other key is as it was (A's other modules, sessions, ratelimit, B, the epoch)" \
    test "$(r_snap "${ALL_A[@]}")" = "$before"
ctl cache stats --tenant "$C1" --module products
t_check "cache stats after the flush: 0 keys, generation none" \
    said 0 "$(printf '%-12s %6d keys  generation %s' products 0 none)" ""
TOKEN=$A_TOKEN
t_check "a product read after the flush is a MISS" test "$(xcache /products)" = "200 MISS"
t_check "... then a HIT (within 10 s)" wait_for 10 is_hit /products
new_gen()
{
    local g
    g=$(r_gen "$A_ID" products)
    [[ "$g" != none && "$g" != "$A_PRODUCTS_GEN" ]]
}
t_check "... under a new generation" new_gen

# --- cache flush (all modules) ---
want=$(want_flush "$A_ID" "${MODULES[@]}")
before=$(r_snap "${ALL_A[@]}" | grep -vE "^$KP:tenant:$A_ID:(balance|products|categories|uom|movements|users|reports):")
ctl cache flush --tenant "$C1"
t_check "cache flush (all modules) prints every data module with the keys it deleted" \
    said 0 "$want" ""
t_check "... no key of A's data modules is left in Redis, nor their generations" eval \
    '[[ -z "$(for m in "${MODULES[@]}"; do r_keys "$KP:tenant:$A_ID:$m:*"; done)" ]]'
t_check "... A's sessions and ratelimit keys, tenant B, the neighbours and the epoch are untouched" \
    test "$(r_snap "${ALL_A[@]}")" = "$before"
ctl cache stats --tenant "$C1"
t_check "cache stats after flushing all: 0 keys and no generation in each module" said 0 \
    "$(for m in "${MODULES[@]}"; do printf '%-12s %6d keys  generation none\n' "$m" 0; done)" ""
t_check "a unit read after the flush is a MISS" test "$(xcache /uom)" = "200 MISS"
t_check "... then a HIT (within 10 s)" wait_for 10 is_hit /uom
t_check "a balance read after the flush is a MISS" test "$(xcache "/balance/series?$DAYS")" = "200 MISS"
t_check "... then a HIT (within 10 s)" wait_for 10 is_hit "/balance/series?$DAYS"
ctl cache flush --tenant "$C1" --module categories
t_check "flushing an empty module prints 0 keys deleted" \
    said 0 "$(printf '%-12s %6d keys deleted' categories 0)" ""

# --- the configuration: CACHE_ENABLED=false, the Redis database, CACHE_KEY_PREFIX ---
want=$(want_flush "$A_ID" balance)
CACHE_ENABLED=false ctl cache flush --tenant "$C1" --module balance
t_check "with CACHE_ENABLED=false, cache flush still deletes the keys" eval \
    'said 0 "$want" "" && [[ "$want" != "balance           0 keys deleted" &&
        -z "$(r_keys "$KP:tenant:$A_ID:balance:*")" ]]'
for k in a b c; do
    rcli -n 1 SET "$KP:tenant:$A_ID:uom:db1-$k" x >/dev/null
    rcli SET "ctlpfx$$:tenant:$A_ID:categories:other-prefix-$k" x >/dev/null
done
rcli -n 1 SET "$KP:tenant:$A_ID:uom:__gen__" db1-gen >/dev/null
UOM0=$(r_snap "$KP:tenant:$A_ID:uom:*")
ctl cache stats --tenant "$C1" --module uom
t_check "cache stats counts database 0 only when REDIS_URL says /0" \
    said 0 "$(want_stats "$A_ID" uom)" ""
want=$(R_DB=1 want_stats "$A_ID" uom)
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/1 ctl cache stats --tenant "$C1" --module uom
t_check "with REDIS_URL .../1, cache stats counts database 1 (3 keys, generation db1-gen)" eval \
    'said 0 "$want" "" && [[ "$want" == "uom               3 keys  generation db1-gen" ]]'
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/1 ctl cache flush --tenant "$C1" --module uom
t_check "with REDIS_URL .../1, cache flush deletes there, generation included" eval \
    'said 0 "$(printf "%-12s %6d keys deleted" uom 3)" "" &&
        [[ -z "$(r_keys "$KP:tenant:$A_ID:*" 1)" ]]'
t_check "... and leaves database 0 alone" test "$(r_snap "$KP:tenant:$A_ID:uom:*")" = "$UOM0"
want=$(R_PFX=ctlpfx$$ want_stats "$A_ID" categories)
CACHE_KEY_PREFIX=ctlpfx$$ ctl cache stats --tenant "$C1" --module categories
t_check "with CACHE_KEY_PREFIX, cache stats counts the keys under that prefix" eval \
    'said 0 "$want" "" && [[ "$want" == "categories        3 keys  generation none" ]]'
CACHE_KEY_PREFIX=ctlpfx$$ ctl cache flush --tenant "$C1" --module categories
t_check "with CACHE_KEY_PREFIX, cache flush deletes them" eval \
    'said 0 "$(printf "%-12s %6d keys deleted" categories 3)" "" &&
        [[ -z "$(r_keys "ctlpfx$$:*")" ]]'

# --- cache stats/flush: bad arguments ---
HINT="Try 'stockctl --help'."
before=$(r_snap "${ALL_A[@]}")
# cache_fails NAME RC STDERR [VAR=VALUE ...] -- ARGS...: stockctl cache ARGS, run with the
# variables set, exits RC, prints nothing on stdout and exactly STDERR.
cache_fails()
{
    local name=$1 rc=$2 msg=$3 envs=()
    shift 3
    while [[ "$1" != -- ]]; do
        envs+=("$1")
        shift
    done
    shift
    env "${envs[@]}" "$CTL" cache "$@" >"$OUT" 2>"$ERR"
    RC=$?
    t_check "cache $name: exit $rc and '${msg%%$'\n'*}'" said "$rc" "" "$msg"
}
MOD_LIST="expected one of balance, products, categories, uom, movements, users, reports"
NOSUCH="stockctl: tenant 'nosuch-$SUFFIX' not found"
cache_fails "stats with an unknown module" 1 "stockctl: unknown cache module 'nosuch': $MOD_LIST" \
    -- stats --tenant "$C1" --module nosuch
cache_fails "flush with module 'other' (not a cache module)" 1 \
    "stockctl: unknown cache module 'other': $MOD_LIST" -- flush --tenant "$C1" --module other
cache_fails "stats for a missing tenant" 1 "$NOSUCH" -- stats --tenant "nosuch-$SUFFIX"
cache_fails "flush for a missing tenant" 1 "$NOSUCH" -- flush --tenant "nosuch-$SUFFIX" \
    --module products
cache_fails "stats without --tenant" 2 "stockctl: cache stats needs --tenant SLUG"$'\n'"$HINT" \
    -- stats
cache_fails "flush without --tenant (before the module check)" 2 \
    "stockctl: cache flush needs --tenant SLUG"$'\n'"$HINT" -- flush --module nosuch
cache_fails "stats --tenant without a value" 2 \
    "stockctl: option '--tenant' needs a value"$'\n'"$HINT" -- stats --tenant
cache_fails "flush --module without a value" 2 \
    "stockctl: option '--module' needs a value"$'\n'"$HINT" -- flush --tenant "$C1" --module
cache_fails "stats with an unknown option" 2 "stockctl: unknown option '--colour'"$'\n'"$HINT" \
    -- stats --tenant "$C1" --colour red
cache_fails "flush with a stray argument" 2 \
    "stockctl: unexpected argument 'products'"$'\n'"$HINT" -- flush --tenant "$C1" products
cache_fails "without a subcommand" 2 "stockctl: 'cache' needs a subcommand"$'\n'"$HINT" --
cache_fails "clear (unknown subcommand)" 2 "stockctl: unknown command 'cache clear'"$'\n'"$HINT" \
    -- clear --tenant "$C1"
dead_db=""
pick_port dead_db
cache_fails "stats, unknown module and database unreachable (arguments first)" 1 \
    "stockctl: unknown cache module 'nosuch': $MOD_LIST" \
    "DATABASE_URL=postgresql://stock@127.0.0.1:$dead_db/stock" -- stats --tenant "$C1" \
    --module nosuch
t_check "the refused commands changed nothing in Redis" test "$(r_snap "${ALL_A[@]}")" = "$before"

# --- cache stats/flush: Redis unreachable or refusing ---
dead_redis=""
pick_port dead_redis
DEAD=REDIS_URL=redis://127.0.0.1:$dead_redis/0
REFUSED="stockctl: cannot connect to redis: Connection refused"
cache_fails "stats, Redis unreachable" 1 "$REFUSED" "$DEAD" -- stats --tenant "$C1"
cache_fails "stats --module uom, Redis unreachable" 1 "$REFUSED" "$DEAD" -- stats --tenant "$C1" \
    --module uom
cache_fails "flush, Redis unreachable (stops at the first module)" 1 \
    "stockctl: cannot flush module 'balance': connect: Connection refused" "$DEAD" \
    -- flush --tenant "$C1"
cache_fails "flush --module products, Redis unreachable" 1 \
    "stockctl: cannot flush module 'products': connect: Connection refused" "$DEAD" \
    -- flush --tenant "$C1" --module products
cache_fails "stats, missing tenant and Redis unreachable (the tenant first)" 1 "$NOSUCH" \
    "$DEAD" -- stats --tenant "nosuch-$SUFFIX"
t_check "a failed flush leaves nothing in cache_outbox" \
    test "$(q "SELECT count(*) FROM cache_outbox WHERE tenant_id = $A_ID")" = 0
# The run's Redis has no password: it refuses any AUTH (and no output may show the password).
BADPW=ctl-not-the-password-$SUFFIX
secret_note "$BADPW"
BAD_AUTH=REDIS_URL=redis://:$BADPW@127.0.0.1:$REDIS_PORT/0
cache_fails "stats, Redis refuses the password" 1 "stockctl: redis refused the password" \
    "$BAD_AUTH" -- stats --tenant "$C1"
cache_fails "flush, Redis refuses the password" 1 \
    "stockctl: cannot flush module 'balance': AUTH: authentication failed" "$BAD_AUTH" \
    -- flush --tenant "$C1"
t_check "the failed commands changed nothing in Redis" test "$(r_snap "${ALL_A[@]}")" = "$before"
t_check "no request of the cache checks got a 5xx" test -z "$FIVEXX"

# --- user create|list|disable|enable|password (the rules are the API's: services/users) ---
# Passwords come on standard input only; a disable or a new password ends the user's sessions
# at once (their tokens answer 401 right after the command).
U_ADMIN=admin@$T1.test
U_ADMIN_PW=ctl-admin-pass-$SUFFIX
U_STAFF=purge@$T1.test
U_STAFF_PW=purge-pass-$SUFFIX
secret_note "$U_ADMIN_PW"
# user_ctl STDIN ARGS...: ctl with STDIN as standard input.
user_ctl()
{
    local in=$1
    shift
    printf '%s' "$in" | "$CTL" "$@" >"$OUT" 2>"$ERR"
    RC=$?
}
user_ctl "123456789"$'\n' user create --tenant "$T1" --email "$U_ADMIN" --role admin
t_check "user create with a 9-character password exits 1, in one line" \
    eval '((RC == 1)) && one_error_line "invalid password: .password. must be 10 to 256 characters"'
user_ctl "$(printf 'x%.0s' {1..257})"$'\n' user create --tenant "$T1" --email "$U_ADMIN" --role admin
t_check "user create with a 257-character password exits 1" eval '((RC == 1)) && one_error_line "invalid password"'
user_ctl "ADMIN@$T1.TEST"$'\n' user create --tenant "$T1" --email "$U_ADMIN" --role admin
t_check "user create with the email as password exits 1" \
    eval '((RC == 1)) && one_error_line "invalid password: .password. must not be the email address"'
user_ctl "" user create --tenant "$T1" --email "$U_ADMIN" --role admin
t_check "user create without a password exits 1" eval '((RC == 1)) && one_error_line "no password on standard input"'
t_check "none of them created the user" test "$(q "SELECT count(*) FROM users WHERE email = '$U_ADMIN'")" = 0
user_ctl "$U_ADMIN_PW"$'\n' user create --tenant "$T1" --email "Admin@$T1.TEST" --role admin
t_check "user create of an admin exits 0 and prints the id" eval '((RC == 0)) && [[ "$(cat "$OUT")" =~ ^[0-9]+$ ]]'
U_ADMIN_ID=$(cat "$OUT")
t_check "the email is stored lower-cased" test "$(q "SELECT email FROM users WHERE id = $U_ADMIN_ID")" = "$U_ADMIN"

ctl user list --tenant "$T1"
WANT_LIST=$(printf '%s\t%s\tstaff\tactive\n%s\t%s\tstaff\tactive\n%s\t%s\tadmin\tactive' \
    "$STAFF_ID" "staff@$T1.test" "$P_USER" "$U_STAFF" "$U_ADMIN_ID" "$U_ADMIN")
t_check "user list exits 0 with one tab-separated line per user, by id" \
    eval '((RC == 0)) && [[ "$(cat "$OUT")" == "$WANT_LIST" ]]'
ctl user list
t_check "user list without --tenant is a usage error" eval '((RC == 2))'
ctl user list --tenant "nosuch-$SUFFIX"
t_check "user list of a missing tenant exits 1" eval '((RC == 1)) && one_error_line "tenant .nosuch-$SUFFIX. not found"'

ctl user disable --tenant "$T1" --email "$U_ADMIN"
t_check "user disable of the last active admin exits 1, saying why" \
    eval '((RC == 1)) && one_error_line "cannot disable the user: this is the tenant.s last active admin"'
t_check "the admin stays active" test "$(q "SELECT disabled_at IS NULL FROM users WHERE id = $U_ADMIN_ID")" = t
ctl user disable --tenant "$T1" --email "nobody@$T1.test"
t_check "user disable of an unknown email exits 1" eval '((RC == 1)) && one_error_line "user .nobody@$T1.test. not found"'
ctl user disable --tenant "$T1"
t_check "user disable without --email is a usage error" eval '((RC == 2))'
ctl user password --tenant "$T1" --email "$U_STAFF" --password "never-on-argv-1"
t_check "user password takes no --password option (usage error)" eval '((RC == 2))'

session "$T1" "$U_STAFF" "$U_STAFF_PW"
T_STAFF=$S_TOKEN
api_as "$T_STAFF" GET /me
api_as "$T_STAFF" GET /me
t_check "the staff user signs in (a cached session)" test "$R_STATUS" = 200
ctl user disable --tenant "$T1" --email "$U_STAFF"
t_check "user disable exits 0" eval '((RC == 0)) && [[ "$(cat "$OUT")" == "disabled $U_STAFF" ]]'
api_as "$T_STAFF" GET /me
t_check "the disabled user's session answers 401 right after" test "$R_STATUS" = 401
login "$T1" "$U_STAFF" "$U_STAFF_PW"
t_check "the disabled user cannot sign in" test "$R_STATUS" = 401
ctl user list --tenant "$T1"
t_check "user list shows them disabled" grep -qP "^$P_USER\t$U_STAFF\tstaff\tdisabled$" "$OUT"
ctl user enable --tenant "$T1" --email "$U_STAFF"
t_check "user enable exits 0" eval '((RC == 0)) && [[ "$(cat "$OUT")" == "enabled $U_STAFF" ]]'
session "$T1" "$U_STAFF" "$U_STAFF_PW"
T_STAFF=$S_TOKEN
t_check "the enabled user signs in" test -n "$T_STAFF"

user_ctl "short"$'\n' user password --tenant "$T1" --email "$U_STAFF"
t_check "user password with a short password exits 1" eval '((RC == 1)) && one_error_line "invalid password"'
api_as "$T_STAFF" GET /me
t_check "the refused password ended no session" test "$R_STATUS" = 200
NEW_STAFF_PW=ctl-new-pass-$SUFFIX
user_ctl "$NEW_STAFF_PW"$'\n' user password --tenant "$T1" --email "$U_STAFF"
t_check "user password exits 0" eval '((RC == 0)) && grep -q "^password set for $U_STAFF" "$OUT"'
api_as "$T_STAFF" GET /me
t_check "the user's session answers 401 right after" test "$R_STATUS" = 401
login "$T1" "$U_STAFF" "$U_STAFF_PW"
t_check "the old password no longer signs in" test "$R_STATUS" = 401
login "$T1" "$U_STAFF" "$NEW_STAFF_PW"
t_check "the new password signs in" test "$R_STATUS" = 200
t_check "no output of the user commands shows a password" \
    eval '! grep -qF -e "$NEW_STAFF_PW" -e "$U_ADMIN_PW" "$OUT" "$ERR"'

t_result stockctl
