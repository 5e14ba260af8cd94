#!/usr/bin/env bash
# test_pgbouncer.sh: the app behind PgBouncer 1.18 in transaction pooling mode (README
# "PgBouncer"). Starts its own pgbouncer (tests/lib/pgbouncer.sh) in front of the run's
# PostgreSQL, then: DB_STATEMENTS=prepared through it fails as documented (PgBouncer refuses the
# `options` startup parameter: no connection, 503); a pool with DB_STATEMENTS=unnamed behind it
# runs the core of the API (sign-in, units, categories, products CRUD, a sale confirmed with a
# payment, a payment, the balance, a movement, a return, users, sign-out) with the cache's
# MISS/HIT behaviour; PgBouncer's admin console (SHOW CLIENTS, SHOW POOLS, SHOW STATS) saw the
# traffic; a PgBouncer that goes away and comes back, or PostgreSQL unreachable behind it, is a
# lost connection (503, then 200); and the whole of test_api.sh passes against that pool.
# Environment from tests/run_all.sh: STOCK_TEST_DIR, DATABASE_URL, REDIS_URL. Needs jq, psql.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/pgbouncer.sh"
. "$ROOT/tests/lib/api.sh"

DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/pgbouncer-test
: "${DATABASE_URL:?run through tests/run_all.sh}"
: "${REDIS_URL:?run through tests/run_all.sh}"
ASAN_BIN=$ROOT/build/asan/stock-fcgi
SUF=$$-$RANDOM
PW=pgb-horse-$SUF
secret_note "$PW"
mkdir -p "$DIR/run"

POOLS=()
NGINX=""
cleanup()
{
    local p
    [[ -n "$NGINX" ]] && nginx_stop "$NGINX"
    for p in "${POOLS[@]}"; do
        pool_stop "$p" 20
    done
    pgb_stop "$DIR/bouncer"
    pgb_stop "$DIR/bouncer2"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

fatal()
{
    t_not_ok "$1" "${2:-}"
    t_result http-pgbouncer
    exit 1
}

# The run's PostgreSQL: postgresql://postgres@127.0.0.1:PORT/stock (tests/lib/common.sh pg_url).
PG_PORT=$(sed -nE 's|^postgresql://[^@/]*@127\.0\.0\.1:([0-9]+)/stock$|\1|p' <<<"$DATABASE_URL")
[[ -n "$PG_PORT" ]] || fatal "DATABASE_URL is the run's PostgreSQL on 127.0.0.1" "$DATABASE_URL"
command -v jq >/dev/null 2>&1 || fatal "jq is installed (deploy/deps.sh installs it)"
[[ -x "$PGB_BIN" ]] || fatal "$PGB_BIN is installed (make deps installs pgbouncer)"

# ---------------------------------------------------------------------------------------------
section "1. PgBouncer in transaction pooling mode"
pick_port PGB_PORT || fatal "a free port for pgbouncer"
# Two server connections, both kept open and used in turn (round robin, not PgBouncer's default
# "last used first"): consecutive transactions of one client run on different server
# connections, as they do under load, every time.
PGB_OPTS=("min_pool_size = 2" "server_round_robin = 1" "server_login_retry = 1")
# Database stockdown: PostgreSQL through a second PgBouncer on DOWN_PORT (section 9).
pick_port DOWN_PORT || fatal "a free port"
PGB_EXTRA_DBS="stockdown = host=127.0.0.1 port=$DOWN_PORT dbname=stock user=postgres"
pgb_write_ini "$DIR/bouncer" "$PGB_PORT" "$PG_PORT" transaction 2 "${PGB_OPTS[@]}"
pgb_start "$DIR/bouncer" "$PGB_PORT" || fatal "pgbouncer starts on 127.0.0.1:$PGB_PORT"
t_ok "pgbouncer $("$PGB_BIN" --version | awk 'NR == 1 { print $2 }') answers on :$PGB_PORT"
ck "its pool of database stock is in transaction mode" \
    '[[ "$(pgb_psql "$PGB_PORT" pgbouncer "SHOW POOLS" | awk "\$1 == \"stock\" { print \$NF }")" == transaction ]]'
PGB_URL=postgresql://postgres@127.0.0.1:$PGB_PORT/stock

# stockctl through PgBouncer too (tenant and user creation are single transactions).
cat >"$DIR/stockctl" <<EOF
#!/bin/sh
exec env DATABASE_URL='$PGB_URL' DB_STATEMENTS=unnamed '$ROOT/build/release/stockctl' "\$@"
EOF
chmod +x "$DIR/stockctl"
STOCKCTL=$DIR/stockctl

# ---------------------------------------------------------------------------------------------
section "2. DB_STATEMENTS: a bad value, and prepared through transaction pooling"
out=$(env STOCK_ENV_FILE=/dev/null STOCK_LISTEN=127.0.0.1:9 DB_STATEMENTS=named \
    timeout 10 "$ROOT/build/release/stock-fcgi" </dev/null 2>&1)
ck "DB_STATEMENTS=named stops start-up with one line naming it ($out)" \
    '[[ "$(wc -l <<<"$out")" == 1 && "$out" == *"invalid DB_STATEMENTS '"'"'named'"'"'"* ]]'

# prepared (the default) sends `options=-c plan_cache_mode=...`: PgBouncer 1.18 refuses the
# connection, so nothing reaches the database (and named statements never get a chance to
# break, see README "PgBouncer").
pick_port P_FCGI || fatal "a free port"
if pool_start "$ASAN_BIN" "127.0.0.1:$P_FCGI" "$DIR/stock-fcgi-prepared.log" \
    "$DIR/run/prepared-fcgi.pid" STOCK_WORKERS=1 LOG_LEVEL=info DATABASE_URL="$PGB_URL" \
    DB_STATEMENTS=prepared; then
    P_POOL=$(pid_from_file "$DIR/run/prepared-fcgi.pid")
    POOLS+=("$P_POOL")
    R_STATUS=$(fcgi_get "127.0.0.1:$P_FCGI" /health/db | awk '$1 == "Status:" { print $2; exit }')
    ck "DB_STATEMENTS=prepared through pgbouncer: /health/db is 503 (got $R_STATUS)" \
        '[[ "$R_STATUS" == 503 ]]'
    ck "... because pgbouncer refuses the options startup parameter (pool log)" \
        'grep -q "cannot connect to database:.*unsupported startup parameter: options" "$DIR/stock-fcgi-prepared.log"'
    pool_stop "$P_POOL" 20
    ck "the prepared pool stops" 'pid_dead "$P_POOL"'
else
    t_not_ok "a pool with DB_STATEMENTS=prepared starts" "see $DIR/stock-fcgi-prepared.log"
fi

# ---------------------------------------------------------------------------------------------
section "3. A pool with DB_STATEMENTS=unnamed behind pgbouncer, and its nginx"
pick_port U_FCGI && pick_port U_HTTP || fatal "free ports"
pool_start "$ASAN_BIN" "127.0.0.1:$U_FCGI" "$DIR/stock-fcgi-pgbouncer.log" \
    "$DIR/run/pgbouncer-fcgi.pid" STOCK_WORKERS=2 LOG_LEVEL=info DATABASE_URL="$PGB_URL" \
    DB_STATEMENTS=unnamed || fatal "a pool with DB_STATEMENTS=unnamed starts"
POOL=$(pid_from_file "$DIR/run/pgbouncer-fcgi.pid")
POOLS+=("$POOL")
NGINX=$DIR/nginx
nginx_render "$ROOT/nginx/stock.conf.in" "$NGINX/nginx.conf" "127.0.0.1:$U_HTTP" \
    "127.0.0.1:$U_FCGI" "$ROOT/nginx/static" "$NGINX"
nginx_start "$NGINX" "$NGINX/nginx.conf" "127.0.0.1:$U_HTTP" || fatal "its nginx starts"
BASE=http://127.0.0.1:$U_HTTP
API=$BASE/api/v1
WORKERS_AT_START=$(live_workers "$POOL")
req GET "$BASE/health/db"
ck "GET /health/db through pgbouncer is 200" '[[ "$R_STATUS" == 200 ]]'
# The counters before the API traffic (SHOW STATS: database, total_xact_count, ...).
stat_of()
{
    pgb_psql "$PGB_PORT" pgbouncer "SHOW STATS" | awk -v c="$1" '$1 == "stock" { print $c }'
}
XACT0=$(stat_of 2)
QUERY0=$(stat_of 3)

# ---------------------------------------------------------------------------------------------
section "4. Sign-in, units, categories, products"
SLUG=pgb-$SUF
new_tenant "$SLUG" "PgBouncer $SUF" admin@pgb.test "$PW" || fatal "stockctl through pgbouncer"
t_ok "stockctl (DB_STATEMENTS=unnamed) creates a tenant and its admin through pgbouncer"
login "$SLUG" admin@pgb.test "wrong-$PW"
expect "POST /auth/login with a wrong password" 401 invalid_credentials
session "$SLUG" admin@pgb.test "$PW" || fatal "POST /auth/login through pgbouncer" "$R_STATUS"
t_ok "POST /auth/login -> 200 with a token"
TOKEN=$S_TOKEN
api GET /me
ck "GET /me is the admin" '[[ $R_STATUS == 200 ]] && jt ".user.role == \"admin\""'

mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
api GET /uom
ck "GET /uom: MISS after the create" '[[ $R_STATUS == 200 && "$(header X-Cache)" == MISS ]]'
api GET /uom
ck "GET /uom again: HIT" '[[ $R_STATUS == 200 && "$(header X-Cache)" == HIT ]]'

mk /categories '{"name":"Tools","description":"hand tools"}'
CAT=$MK_ID
warm /categories
mk /categories '{"name":"Paint"}'
api GET /categories
ck "GET /categories after a create: MISS, with both" \
    '[[ $R_STATUS == 200 && "$(header X-Cache)" == MISS ]] && jt ".total == 2"'
api GET /categories
ck "GET /categories again: HIT" '[[ "$(header X-Cache)" == HIT ]]'

mk /products "{\"sku\":\"PGB-1\",\"name\":\"Hammer\",\"category_id\":$CAT,\"uom_id\":$UNIT,\"price\":\"12.50\",\"cost\":\"7.00\",\"stock\":\"10\"}"
P1=$MK_ID
mk /products "{\"sku\":\"PGB-2\",\"name\":\"Saw\",\"uom_id\":$UNIT,\"price\":\"20.00\",\"stock\":\"3\"}"
P2=$MK_ID
api POST /products "{\"sku\":\"PGB-1\",\"name\":\"Dup\",\"uom_id\":$UNIT,\"price\":\"1.00\"}"
expect "a duplicate SKU through pgbouncer" 409 conflict sku
warm /products
ck "GET /products (warm) lists both" 'jt ".total == 2"'
warm "/products/$P1"
api PATCH "/products/$P1" '{"price":"13.75"}'
ck "PATCH /products/{id} -> 200 with the new price" '[[ $R_STATUS == 200 ]] && jt ".price == \"13.75\""'
api GET "/products/$P1"
ck "GET /products/{id} after the PATCH: MISS, new price" \
    '[[ $R_STATUS == 200 && "$(header X-Cache)" == MISS ]] && jt ".price == \"13.75\""'
api GET "/products/$P1"
ck "GET /products/{id} again: HIT" '[[ "$(header X-Cache)" == HIT ]] && jt ".price == \"13.75\""'
api GET /products
ck "GET /products after the PATCH: MISS, new price" \
    '[[ "$(header X-Cache)" == MISS ]] && jt "[.items[] | select(.id == $P1) | .price] == [\"13.75\"]"'
api PUT "/products/$P2" "{\"sku\":\"PGB-2\",\"name\":\"Big saw\",\"uom_id\":$UNIT,\"price\":\"21.00\"}"
ck "PUT /products/{id} -> 200" '[[ $R_STATUS == 200 ]] && jt ".name == \"Big saw\""'
mk /products "{\"sku\":\"PGB-3\",\"name\":\"Gone\",\"uom_id\":$UNIT,\"price\":\"1.00\"}"
P3=$MK_ID
warm "/products/$P3"
api DELETE "/products/$P3"
ck "DELETE /products/{id} -> 204" '[[ $R_STATUS == 204 ]]'
api GET "/products/$P3"
expect "GET of the deleted product (not the cached copy)" 404
# SPEC §12 through transaction pooling: an export's cursor lives inside its one transaction
# (DECLARE and every FETCH on one server connection), and an import writes in one.
R_STATUS=$(curl -s -o "$DIR/pgb.csv" -w '%{http_code}' --max-time 30 \
    -H "Authorization: Bearer $TOKEN" "$API/products?format=csv") || R_STATUS=000
ck "GET /products?format=csv through pgbouncer -> 200, the header and 2 rows" \
    '[[ $R_STATUS == 200 && "$(wc -l <"$DIR/pgb.csv")" == 3 ]]'
printf 'sku,name,category,uom,price,cost,stock,min_stock\nPGB-9,Imported,Tools,Piece,1.00,,4,\n' \
    >"$DIR/pgb-import.csv"
call POST "$API/products/import" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/csv' \
    --data-binary "@$DIR/pgb-import.csv"
ck "POST /products/import through pgbouncer -> 201, created 1" \
    '[[ $R_STATUS == 201 ]] && jt ".created == 1"'

# ---------------------------------------------------------------------------------------------
section "5. A sale confirmed with a payment, a payment, the balance"
DAY=$(date -u +%F)
BAL="/balance/series?from=$DAY&to=$DAY&granularity=daily"
api GET "$BAL"
ck "GET /balance/series: MISS, all zeros" \
    '[[ $R_STATUS == 200 && "$(header X-Cache)" == MISS ]] && jt ".totals.sales_total == \"0.00\""'
api GET "$BAL"
ck "GET /balance/series again: HIT" '[[ "$(header X-Cache)" == HIT ]]'
api POST /sales "{\"customer\":\"Ann\",\"items\":[{\"product_id\":$P1,\"quantity\":\"2\"},{\"product_id\":$P2,\"quantity\":\"1\"}]}"
SALE=$(jf .id)
ck "POST /sales -> 201 draft, total 48.50" \
    '[[ $R_STATUS == 201 ]] && jt ".status == \"draft\" and .total == \"48.50\""'
api POST "/sales/$SALE/confirm" '{"payment":{"amount":"20.00","method":"cash"}}'
ck "POST /sales/{id}/confirm with a payment -> 200 confirmed" \
    '[[ $R_STATUS == 200 ]] && jt ".status == \"confirmed\""'
api GET "/products/$P1"
ck "the confirmed sale took the stock (MISS, 8)" \
    '[[ "$(header X-Cache)" == MISS ]] && jt ".stock | tonumber == 8"'
api POST /payments "{\"sale_id\":$SALE,\"amount\":\"10.00\",\"method\":\"card\"}" \
    -H "Idempotency-Key: pgb-pay-$SUF"
PAY=$(jf .id)
ck "POST /payments -> 201" '[[ $R_STATUS == 201 && -n "$PAY" ]]'
api POST /payments "{\"sale_id\":$SALE,\"amount\":\"10.00\",\"method\":\"card\"}" \
    -H "Idempotency-Key: pgb-pay-$SUF"
ck "the same Idempotency-Key again: 201, the same payment" \
    '[[ $R_STATUS == 201 ]] && jt ".id == $PAY"'
api GET "/sales/$SALE"
ck "GET /sales/{id}: paid 30.00, outstanding 18.50" \
    'jt ".paid_total == \"30.00\" and .outstanding == \"18.50\""'
api GET "$BAL"
ck "GET /balance/series after the sale: MISS, sales 48.50, payments 30.00" \
    '[[ "$(header X-Cache)" == MISS ]] && jt ".totals.sales_total == \"48.50\" and .totals.payments_total == \"30.00\""'
api GET "$BAL"
ck "GET /balance/series again: HIT" '[[ "$(header X-Cache)" == HIT ]]'

# ---------------------------------------------------------------------------------------------
section "6. A movement, a return, users, sign-out"
warm "/products/$P2"
api POST /stock/movements "{\"product_id\":$P2,\"kind\":\"receipt\",\"quantity\":\"5\"}" \
    -H "Idempotency-Key: pgb-mov-$SUF"
ck "POST /stock/movements receipt -> 201, stock 2 -> 7" \
    '[[ $R_STATUS == 201 ]] && jt "(.stock_before | tonumber) == 2 and (.stock_after | tonumber) == 7"'
api GET "/products/$P2"
ck "GET /products/{id} after the movement: MISS, stock 7" \
    '[[ "$(header X-Cache)" == MISS ]] && jt ".stock | tonumber == 7"'
api GET "/stock/movements?product_id=$P2"
ck "GET /stock/movements lists the sale and the receipt" \
    '[[ $R_STATUS == 200 ]] && jt "[.items[].kind] | index(\"receipt\") != null and index(\"sale\") != null"'
api POST "/sales/$SALE/returns" "{\"items\":[{\"product_id\":$P1,\"quantity\":\"1\"}],\"refund\":{\"amount\":\"5.00\",\"method\":\"cash\"}}" \
    -H "Idempotency-Key: pgb-ret-$SUF"
ck "POST /sales/{id}/returns -> 201, returned 13.75" \
    '[[ $R_STATUS == 201 ]] && jt ".returned_total == \"13.75\""'
api GET "/products/$P1"
ck "the return gave the stock back (MISS, 9)" \
    '[[ "$(header X-Cache)" == MISS ]] && jt ".stock | tonumber == 9"'
api GET "$BAL"
ck "GET /balance/series after the return: MISS, returns 13.75, payments 25.00" \
    '[[ "$(header X-Cache)" == MISS ]] && jt ".totals.returns_total == \"13.75\" and .totals.payments_total == \"25.00\""'

api POST /users "$(jq -cn --arg p "staff-$PW" '{email: "staff@pgb.test", password: $p, role: "staff"}')"
ck "POST /users -> 201 staff" '[[ $R_STATUS == 201 ]] && jt ".role == \"staff\""'
api GET /users
ck "GET /users lists the admin and the staff user" \
    '[[ $R_STATUS == 200 ]] && jt "[.items[].email] | sort == [\"admin@pgb.test\", \"staff@pgb.test\"]"'
api POST /auth/logout
ck "POST /auth/logout -> 204" '[[ $R_STATUS == 204 ]]'
api GET /me
expect "the signed-out token is dead" 401

# ---------------------------------------------------------------------------------------------
section "7. DB_STATEMENTS=prepared once PgBouncer ignores options: named statements break"
# With `ignore_startup_parameters = options` the prepared pool connects, but a statement is
# prepared in one transaction (on one server connection) and executed in the next (on the other):
# "prepared statement \"s0\" does not exist", a 500. (Had the other server connection held an "s0"
# of another client, that one would have run instead: README "PgBouncer".)
pgb_write_ini "$DIR/bouncer" "$PGB_PORT" "$PG_PORT" transaction 2 "${PGB_OPTS[@]}" \
    "ignore_startup_parameters = options"
pgb_psql "$PGB_PORT" pgbouncer "RELOAD" >/dev/null
pick_port P2_FCGI || fatal "a free port"
if pool_start "$ASAN_BIN" "127.0.0.1:$P2_FCGI" "$DIR/stock-fcgi-prepared2.log" \
    "$DIR/run/prepared2-fcgi.pid" STOCK_WORKERS=1 LOG_LEVEL=info DATABASE_URL="$PGB_URL" \
    DB_STATEMENTS=prepared; then
    P_POOL=$(pid_from_file "$DIR/run/prepared2-fcgi.pid")
    POOLS+=("$P_POOL")
    R_STATUS=$(fcgi_get "127.0.0.1:$P2_FCGI" /health/db | awk '$1 == "Status:" { print $2; exit }')
    ck "options ignored: the prepared pool connects (/health/db 200, got $R_STATUS)" \
        '[[ "$R_STATUS" == 200 ]]'
    fcgi_request "127.0.0.1:$P2_FCGI" POST /api/v1/auth/login "" \
        "$(login_body "$SLUG" admin@pgb.test "$PW")"
    ck "... but a sign-in through it fails: 500 (got $R_STATUS)" '[[ "$R_STATUS" == 500 ]]'
    ck "... on a named statement prepared on the other server connection (sqlstate 26000)" \
        'grep -q "sqlstate=26000 .*prepared statement \"s[0-9]*\" does not exist" "$DIR/stock-fcgi-prepared2.log"'
    pool_stop "$P_POOL" 20
else
    t_not_ok "a pool with DB_STATEMENTS=prepared starts" "see $DIR/stock-fcgi-prepared2.log"
fi

# ---------------------------------------------------------------------------------------------
section "8. PgBouncer saw the traffic"
# The workers connect on their first statement; which of the two served the requests is up to
# the kernel, so at least one of them is a client (stockctl has gone).
CLIENTS=$(pgb_psql "$PGB_PORT" pgbouncer "SHOW CLIENTS" | awk '$2 == "postgres" && $3 == "stock"' | wc -l)
ck "SHOW CLIENTS: the pool's workers are clients of database stock ($CLIENTS)" '((CLIENTS >= 1))'
XACT1=$(stat_of 2)
QUERY1=$(stat_of 3)
ck "SHOW STATS: transactions through pgbouncer went up by more than 50 ($XACT0 -> $XACT1)" \
    '[[ "$XACT0" =~ ^[0-9]+$ && "$XACT1" =~ ^[0-9]+$ ]] && ((XACT1 - XACT0 > 50))'
ck "SHOW STATS: queries went up by more than 100 ($QUERY0 -> $QUERY1)" \
    '[[ "$QUERY0" =~ ^[0-9]+$ && "$QUERY1" =~ ^[0-9]+$ ]] && ((QUERY1 - QUERY0 > 100))'
SV=$(pgb_psql "$PGB_PORT" pgbouncer "SHOW SERVERS" | awk '$3 == "stock"' | wc -l)
ck "SHOW SERVERS: at most 2 server connections served it all ($SV)" '((SV >= 1 && SV <= 2))'

# ---------------------------------------------------------------------------------------------
section "9. Connections PgBouncer closes are lost connections"
session "$SLUG" admin@pgb.test "$PW" || t_not_ok "sign in again" "$R_STATUS"
TOKEN=$S_TOKEN
# KILL drops every client and server connection of the database at once (the workers' idle
# connections too); RESUME lets new ones in. The next request reconnects and answers.
pgb_psql "$PGB_PORT" pgbouncer "KILL stock" >/dev/null
pgb_psql "$PGB_PORT" pgbouncer "RESUME stock" >/dev/null
api GET "/products?q=after-kill-$SUF"
ck "after KILL + RESUME on the admin console, a read that needs the database is 200" \
    '[[ $R_STATUS == 200 && "$(header X-Cache)" == MISS ]]'
pgb_stop "$DIR/bouncer"
ck "pgbouncer stops" 'port_closed 127.0.0.1 "$PGB_PORT"'
req GET "$API/products?q=outage-$SUF" -H "Authorization: Bearer $TOKEN"
ck "with pgbouncer gone, a read that needs the database is 503 database_unavailable ($R_STATUS)" \
    '[[ $R_STATUS == 503 ]] && jt ".error.code == \"database_unavailable\""'
req GET "$BASE/health/db"
ck "with pgbouncer gone, /health/db is 503" '[[ $R_STATUS == 503 ]]'
ck "the pool log says the connection was lost" \
    'grep -qE "database connection lost|cannot connect to database" "$DIR/stock-fcgi-pgbouncer.log"'
pgb_start "$DIR/bouncer" "$PGB_PORT" || t_not_ok "pgbouncer starts again on :$PGB_PORT"
back()
{
    req GET "$API/products?q=back-$SUF-$RANDOM" -H "Authorization: Bearer $TOKEN"
    [[ $R_STATUS == 200 ]]
}
ck "pgbouncer back: the API answers 200 again within 10 s" 'wait_for 10 back'

# PostgreSQL unreachable behind a running PgBouncer: database "stockdown" of the ini is
# PostgreSQL through a second PgBouncer (session pooling, on DOWN_PORT), which stops. PgBouncer
# then lets the pool's new connections in at once (it knows the server's parameters) and fails
# their first statement with a FATAL ("query_wait_timeout" after PGB_QUERY_WAIT seconds, then
# "server login has been failing" at once) and closes them. A 503 each time, one outage in the log,
# and back once PostgreSQL is (server_login_retry = 1 s here; 15 s by default).
pgb_write_ini "$DIR/bouncer2" "$DOWN_PORT" "$PG_PORT" session 2
pick_port D_FCGI || fatal "a free port"
if pgb_start "$DIR/bouncer2" "$DOWN_PORT" &&
    pool_start "$ASAN_BIN" "127.0.0.1:$D_FCGI" "$DIR/stock-fcgi-down.log" "$DIR/run/down-fcgi.pid" \
        STOCK_WORKERS=1 LOG_LEVEL=info DB_STATEMENTS=unnamed \
        DATABASE_URL="postgresql://postgres@127.0.0.1:$PGB_PORT/stockdown"; then
    D_POOL=$(pid_from_file "$DIR/run/down-fcgi.pid")
    POOLS+=("$D_POOL")
    R_STATUS=$(fcgi_get "127.0.0.1:$D_FCGI" /health/db | awk '$1 == "Status:" { print $2; exit }')
    ck "a pool on database stockdown (PostgreSQL behind two pgbouncers): /health/db 200 (got $R_STATUS)" \
        '[[ "$R_STATUS" == 200 ]]'
    pgb_stop "$DIR/bouncer2"
    t1=$SECONDS
    for i in 1 2 3; do
        R_STATUS=$(fcgi_get "127.0.0.1:$D_FCGI" /health/db | awk '$1 == "Status:" { print $2; exit }')
        ck "PostgreSQL unreachable behind a running pgbouncer: /health/db $i is 503 (got $R_STATUS)" \
            '[[ "$R_STATUS" == 503 ]]'
    done
    ck "... within seconds ($((SECONDS - t1)) s for the three)" '((SECONDS - t1 <= 3 * 5 + 2))'
    ck "... as pgbouncer says: a FATAL query_wait_timeout or server login failing (pool log)" \
        'grep -qE "database connection lost: FATAL: +(query_wait_timeout|server login has been failing)" "$DIR/stock-fcgi-down.log"'
    ck "... one outage in the log, not a lost and re-established pair per request ($(grep -c "database connection lost" "$DIR/stock-fcgi-down.log"))" \
        '[[ "$(grep -c "database connection lost" "$DIR/stock-fcgi-down.log")" == 1 ]] &&
         ! grep -q "re-established" "$DIR/stock-fcgi-down.log"'
    pgb_start "$DIR/bouncer2" "$DOWN_PORT" || t_not_ok "the second pgbouncer starts again"
    down_back()
    {
        [[ "$(fcgi_get "127.0.0.1:$D_FCGI" /health/db | awk '$1 == "Status:" { print $2; exit }')" == 200 ]]
    }
    ck "PostgreSQL reachable again: /health/db 200 within 10 s, logged once as re-established" \
        'wait_for 10 down_back && [[ "$(grep -c "re-established" "$DIR/stock-fcgi-down.log")" == 1 ]]'
    pool_stop "$D_POOL" 20
else
    t_not_ok "a second pgbouncer and a pool on database stockdown start" "see $DIR"
fi
ck "no worker died ($WORKERS_AT_START -> $(live_workers "$POOL"))" \
    '[[ "$(live_workers "$POOL")" == "$WORKERS_AT_START" ]]'
ck "no request before the outage got a 5xx or no answer (${FIVEXX:-none})" '[[ -z "$FIVEXX" ]]'

# ---------------------------------------------------------------------------------------------
section "10. The whole of tests/http/test_api.sh against the pool behind pgbouncer"
# Pointed at this pool, its nginx and pgbouncer (its stockctl and its CACHE_ENABLED=false pool
# too, through DATABASE_URL and DB_STATEMENTS); about 35 s. STOCK_PGB_API=0 leaves it out.
if [[ "${STOCK_PGB_API:-1}" != 0 ]]; then
    API_OUT=$DIR/test_api.out
    env STOCK_TEST_BASE_URL="$BASE" STOCK_TEST_POOL_PID="$POOL" \
        STOCK_TEST_POOL_LOG="$DIR/stock-fcgi-pgbouncer.log" DATABASE_URL="$PGB_URL" \
        DB_STATEMENTS=unnamed timeout -k 5 150 bash "$ROOT/tests/http/test_api.sh" \
        </dev/null >"$API_OUT" 2>&1
    line=$(grep -aE '^RESULT http-api passed=' "$API_OUT" | tail -n 1)
    if read -r a_pass a_fail a_skip < <(result_counts "$line") && ((a_fail == 0 && a_pass > 0)); then
        t_ok "test_api.sh through pgbouncer: its $a_pass checks passed"
        ((a_skip > 0)) && t_skip "test_api.sh through pgbouncer: $a_skip of its checks" "see $API_OUT"
    else
        t_not_ok "test_api.sh through pgbouncer" \
            "${line:-no RESULT line}; $(grep -a '^not ok' "$API_OUT" | head -n 5 | tr '\n' ' ')"
    fi
else
    echo "# STOCK_PGB_API=0: test_api.sh through pgbouncer not run"
fi
ck "the pool behind pgbouncer is alive at the end" 'pid_alive "$POOL"'
section "end"
t_result http-pgbouncer
