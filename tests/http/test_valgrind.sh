#!/usr/bin/env bash
# test_valgrind.sh: a worker of the release build, run under valgrind (memcheck), serves a few
# thousand mixed requests and then reports no leak and no invalid access.
#
# A second pool (build/release/stock-fcgi, STOCK_WORKERS=1, LOG_LEVEL=debug, short product and
# balance cache TTLs so that the miss path keeps running) is started under valgrind on its own
# port with the run's PostgreSQL and a Redis of its own (REDIS_SOCKET_TIMEOUT and
# REDIS_CONNECT_TIMEOUT 0.3 s), behind an nginx of its own. Through it: one sign-in
# (argon2id under valgrind takes a second or two), fixtures (units, categories, products, sales
# confirmed with and without a payment, payments with an Idempotency-Key, cancellations), then
# wrk drives a rotating mix of cached and uncached reads, writes that invalidate, 401/404/405/
# 409/415/422 and malformed JSON while a curl loop confirms, pays and cancels sales; every
# answer is checked against the status expected for its request. Then the same load (wrk mix
# and curl loop, a few hundred requests at least) runs twice more with Redis unavailable: once
# stopped (connections refused), once paused with SIGSTOP (connections accepted, no reply: every
# attempt ends in the 0.3 s socket timeout), each with sign-ins (good and bad password), a
# logout, and writes whose invalidation fails; every answer must still have its expected status
# (no 5xx, no cache hit), and once Redis is back /health/cache must say "ok" again (bounded wait:
# the pool backs off 1 s doubling to 30 s) with nothing stale served: the written category, the
# written product and the logged-out session read as written. The pool is then stopped
# with SIGTERM (the worker drains and exits; valgrind runs its leak check in the worker, in the
# pool's L1 agent, then in the master) and every valgrind log must show 0 errors and nothing
# definitely or indirectly lost. The log parser is checked on synthetic logs first, so the suite can fail.
#
# Environment from tests/run_all.sh: STOCK_TEST_DIR (files under STOCK_TEST_DIR/valgrind; the
# suite's Redis keeps its data and redis.pid in STOCK_TEST_DIR/valgrind/redis, where run_all.sh
# finds it), DATABASE_URL, REDIS_URL (checked, unused: the valgrind pool has its own Redis).
# Needs valgrind, wrk, jq, curl, nginx, redis-server, redis-cli.
# Optional: STOCK_TEST_VG_WRK_SECONDS (default 10), the length of one wrk round (rounds repeat
# until 4000 requests are answered, 8 at most); STOCK_TEST_VG_PHASE_SECONDS (default 2), the
# length of one wrk round while Redis is stopped or paused (rounds repeat until 300 requests are
# answered, 5 at most); STOCK_TEST_VG_PRELOAD=/path/lib.so, put in the
# valgrind pool's LD_PRELOAD: a way to check that the suite catches a leak or a bad access
# injected from outside our code (e.g. a wrapper of FCGX_Finish_r that leaks 16 bytes a call).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

: "${DATABASE_URL:?run through tests/run_all.sh}"
: "${REDIS_URL:?run through tests/run_all.sh}"
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/valgrind
BIN=$ROOT/build/release/stock-fcgi
STOCKCTL=$ROOT/build/release/stockctl
SUPP=$ROOT/tests/valgrind.supp
MIN_REQUESTS=3000
WRK_SECONDS=${STOCK_TEST_VG_WRK_SECONDS:-10}
PHASE_MIN=300
PHASE_SECONDS=${STOCK_TEST_VG_PHASE_SECONDS:-2}
RDIR=$DIR/redis
SUF=$$-$RANDOM
rm -rf "$DIR"
mkdir -p "$DIR/tmp"
T_START=$SECONDS

for tool in valgrind wrk jq curl nginx redis-server redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        t_not_ok "$tool is installed (deploy/deps.sh)"
        t_result test_valgrind
        exit 1
    fi
done

. "$ROOT/tests/lib/api.sh"

VG_PID=""
NGX_DIR=$DIR/nginx
NGX_STARTED=0
WRITER_PID=""
REDIS_PORT=""
cleanup()
{
    [[ -n "$WRITER_PID" ]] && stop_pid "$WRITER_PID" 5
    ((NGX_STARTED)) && nginx_stop "$NGX_DIR"
    # A leak check under valgrind takes a few seconds: give the drain time.
    [[ -n "$VG_PID" ]] && pool_stop "$VG_PID" 120
    # The suite's Redis (redis_stop ends a pause first).
    if [[ -n "$REDIS_PORT" ]]; then
        pause_timer_stop
        redis_stop "$RDIR" "$REDIS_PORT"
    fi
    rm -rf "$DIR/tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---------------------------------------------------------------------------------------------
# The valgrind log parser.

# vg_log_clean FILE: FILE is a complete memcheck log (it has its ERROR SUMMARY and its leak
# summary) with 0 errors and 0 bytes definitely and 0 bytes indirectly lost. Otherwise prints
# why on stderr and fails.
vg_log_clean()
{
    local f=$1 errs def ind
    if [[ ! -s "$f" ]]; then
        echo "  $f: missing or empty" >&2
        return 1
    fi
    errs=$(sed -nE 's/^==[0-9]+== ERROR SUMMARY: ([0-9,]+) errors? .*/\1/p' "$f" | tail -n 1 | tr -d ,)
    if [[ -z "$errs" ]]; then
        echo "  $f: no ERROR SUMMARY (the process was killed before valgrind's exit checks?)" >&2
        return 1
    fi
    if grep -q 'All heap blocks were freed -- no leaks are possible' "$f"; then
        def=0
        ind=0
    else
        def=$(sed -nE 's/^==[0-9]+== +definitely lost: ([0-9,]+) bytes.*/\1/p' "$f" | tail -n 1 | tr -d ,)
        ind=$(sed -nE 's/^==[0-9]+== +indirectly lost: ([0-9,]+) bytes.*/\1/p' "$f" | tail -n 1 | tr -d ,)
        if [[ -z "$def" || -z "$ind" ]]; then
            echo "  $f: no LEAK SUMMARY (leak check not run?)" >&2
            return 1
        fi
    fi
    if ((errs != 0 || def != 0 || ind != 0)); then
        echo "  $f: $errs errors, $def bytes definitely lost, $ind bytes indirectly lost" >&2
        return 1
    fi
    # Belt and braces: no report of an invalid access may hide behind a miscounted summary.
    if grep -qE '^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap)' "$f"; then
        echo "  $f: reports an invalid access" >&2
        return 1
    fi
    return 0
}

# vg_figure FILE WHAT: the byte count of a leak summary line (0 when absent), for the report.
vg_figure()
{
    local v
    v=$(sed -nE "s/^==[0-9]+== +$2: ([0-9,]+) bytes in ([0-9,]+) blocks.*/\\1 bytes in \\2 blocks/p" "$1" | tail -n 1)
    printf '%s\n' "${v:-0 bytes}"
}

# The parser must reject what it is there to catch: synthetic logs shaped as memcheck writes them.
synthetic()
{
    local f=$DIR/tmp/synthetic-$1.log
    cat >"$f"
    printf '%s\n' "$f"
}
good=$(synthetic good <<'EOF'
==100== Memcheck, a memory error detector
==100== Command: build/release/stock-fcgi
==100== Parent PID: 99
==100== HEAP SUMMARY:
==100==     in use at exit: 112,626 bytes in 733 blocks
==100== LEAK SUMMARY:
==100==    definitely lost: 0 bytes in 0 blocks
==100==    indirectly lost: 0 bytes in 0 blocks
==100==      possibly lost: 0 bytes in 0 blocks
==100==    still reachable: 112,626 bytes in 733 blocks
==100== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)
EOF
)
freed=$(synthetic freed <<'EOF'
==101== HEAP SUMMARY:
==101==     in use at exit: 0 bytes in 0 blocks
==101== All heap blocks were freed -- no leaks are possible
==101== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)
EOF
)
leak=$(synthetic leak <<'EOF'
==102== 1,600 bytes in 100 blocks are definitely lost in loss record 5 of 9
==102==    at 0x48407B4: malloc (vg_replace_malloc.c:381)
==102==    by 0x10F2A1: handle (main.c:170)
==102== LEAK SUMMARY:
==102==    definitely lost: 1,600 bytes in 100 blocks
==102==    indirectly lost: 0 bytes in 0 blocks
==102==      possibly lost: 0 bytes in 0 blocks
==102==    still reachable: 768 bytes in 1 blocks
==102== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)
EOF
)
indirect=$(synthetic indirect <<'EOF'
==103== LEAK SUMMARY:
==103==    definitely lost: 0 bytes in 0 blocks
==103==    indirectly lost: 48 bytes in 2 blocks
==103==      possibly lost: 0 bytes in 0 blocks
==103==    still reachable: 768 bytes in 1 blocks
==103== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)
EOF
)
invalid=$(synthetic invalid <<'EOF'
==104== Invalid read of size 1
==104==    at 0x10F2A1: json_out (json.c:12)
==104==  Address 0x4a8f0c5 is 0 bytes after a block of size 5 alloc'd
==104== LEAK SUMMARY:
==104==    definitely lost: 0 bytes in 0 blocks
==104==    indirectly lost: 0 bytes in 0 blocks
==104==      possibly lost: 0 bytes in 0 blocks
==104==    still reachable: 768 bytes in 1 blocks
==104== ERROR SUMMARY: 1 errors from 1 contexts (suppressed: 0 from 0)
EOF
)
truncated=$(synthetic truncated <<'EOF'
==105== Memcheck, a memory error detector
==105== Command: build/release/stock-fcgi
EOF
)
accepts()
{
    vg_log_clean "$1" 2>/dev/null
}
rejects()
{
    ! vg_log_clean "$1" 2>/dev/null
}
t_check "parser: a clean memcheck log passes" accepts "$good"
t_check "parser: 'All heap blocks were freed' passes" accepts "$freed"
t_check "parser: definitely lost bytes fail" rejects "$leak"
t_check "parser: indirectly lost bytes fail" rejects "$indirect"
t_check "parser: an invalid read fails" rejects "$invalid"
t_check "parser: a log without summaries (killed process) fails" rejects "$truncated"
t_check "parser: a missing log fails" rejects "$DIR/tmp/none.log"

# ---------------------------------------------------------------------------------------------
# The pool under valgrind and its nginx.

fcgi_port=""
http_port=""
redis_port=""
if ! pick_port fcgi_port || ! pick_port http_port || ! pick_port redis_port; then
    t_not_ok "free ports"
    t_result test_valgrind
    exit 1
fi

# The valgrind pool's Redis, which the suite stops and pauses (redisctl.sh acts on it through
# STOCK_TEST_REDIS_DIR and STOCK_TEST_REDIS_PORT).
REDIS_PORT=$redis_port
if ! t_check "the suite's own Redis starts (port $redis_port)" redis_start "$RDIR" "$redis_port"; then
    t_result test_valgrind
    exit 1
fi
rctl()
{
    STOCK_TEST_REDIS_DIR=$RDIR STOCK_TEST_REDIS_PORT=$REDIS_PORT bash "$ROOT/tests/lib/redisctl.sh" "$@"
}
# The sleep of redisctl.sh's pause timer (RDIR/pause.pid), which redis_resume leaves running when
# it ends the timer: stopped by its PID (the timer then resumes Redis at once and exits).
pause_timer_stop()
{
    local timer k
    timer=$(pid_from_file "$RDIR/pause.pid") || return 0
    for k in $(pid_children "$timer"); do
        kill "$k" 2>/dev/null
    done
    return 0
}
VG_ADDR=127.0.0.1:$fcgi_port
VG_LOG=$DIR/stock-fcgi-valgrind.log
VG_PIDFILE=$DIR/valgrind-fcgi.pid
VG_ARGS=(--leak-check=full "--show-leak-kinds=definite,indirect"
    "--errors-for-leak-kinds=definite,indirect" --error-exitcode=99 --track-fds=no
    --num-callers=30 "--log-file=$DIR/vg.%p.log")
[[ -f "$SUPP" ]] && VG_ARGS+=("--suppressions=$SUPP")
VG_ENV=(STOCK_LISTEN="$VG_ADDR" STOCK_WORKERS=1 LOG_LEVEL=debug
    CACHE_PRODUCTS_TTL=2 CACHE_BALANCE_TTL=1 REDIS_URL="redis://127.0.0.1:$redis_port/0"
    REDIS_SOCKET_TIMEOUT=0.3 REDIS_CONNECT_TIMEOUT=0.3)
[[ -n "${STOCK_TEST_VG_PRELOAD:-}" ]] && VG_ENV+=(LD_PRELOAD="$STOCK_TEST_VG_PRELOAD")

# As pool_start (tests/lib/common.sh), with valgrind in front and a longer wait. setsid execs
# (no fork), so $! is the master's PID, our child: `wait` collects valgrind's exit status.
env "${VG_ENV[@]}" setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' _ \
    "$VG_PIDFILE" valgrind "${VG_ARGS[@]}" "$BIN" </dev/null >>"$VG_LOG" 2>&1 &
VG_PID=$!
t_check "the pool under valgrind writes its pidfile" wait_for 10 test -s "$VG_PIDFILE"
t_check "the pidfile holds the master's PID" test "$(pid_from_file "$VG_PIDFILE")" == "$VG_PID"
if ! t_check "the pool under valgrind answers /health (within 120 s)" \
    wait_for 120 pool_ready "$VG_PID" "$VG_ADDR"; then
    tail -n 40 "$VG_LOG"
    for f in "$DIR"/vg.*.log; do [[ -e "$f" ]] && head -n 80 "$f"; done
    t_result test_valgrind
    exit 1
fi
stock_log "valgrind pool ready after $((SECONDS - T_START)) s"
WORKER=$(pool_workers "$VG_PID" | head -n 1)
# The pool's L1 agent (fcgi/core/l1_agent.c) runs under valgrind too, and its log is checked.
wait_for 30 eval '[[ -n "$(pool_agent "$VG_PID")" ]]'
AGENTS=" $(pool_agent "$VG_PID") "

nginx_render "$ROOT/nginx/stock.conf.in" "$NGX_DIR/nginx.conf" "127.0.0.1:$http_port" \
    "$VG_ADDR" "$ROOT/nginx/static" "$NGX_DIR"
NGX_STARTED=1
if ! t_check "an nginx in front of the valgrind pool starts" \
    nginx_start "$NGX_DIR" "$NGX_DIR/nginx.conf" "127.0.0.1:$http_port"; then
    t_result test_valgrind
    exit 1
fi
BASE=http://127.0.0.1:$http_port
API=$BASE/api/v1

# ---------------------------------------------------------------------------------------------
# Tenant, sign-in, fixtures (all through the valgrind worker).

# Requests sent with curl: counted, with every unexpected status remembered.
CURL_N=0
UNEXPECTED=""
# ex LABEL STATUS: the last response (api/call) had STATUS.
ex()
{
    CURL_N=$((CURL_N + 1))
    [[ "$R_STATUS" == "$2" ]] || UNEXPECTED+="$1 -> $R_STATUS (expected $2: $(snip)); "
}

SLUG=vg-$SUF
EMAIL=admin@$SLUG.local
PASS=vg-pass-$SUF
if ! new_tenant "$SLUG" "Valgrind $SUF" "$EMAIL" "$PASS"; then
    t_result test_valgrind
    exit 1
fi

session "$SLUG" "$EMAIL" "$PASS"
ex "login" 200
TOKEN=$S_TOKEN
CSRF=$S_CSRF
if ! t_check "sign-in through the valgrind worker" test -n "$TOKEN"; then
    echo "  $R_STATUS $(snip)"
    t_result test_valgrind
    exit 1
fi
login "$SLUG" "$EMAIL" wrong-password
ex "login with a wrong password" 401

mk /uom '{"name":"kilogram","abbreviation":"kg"}'
U_KG=$MK_ID
mk /uom '{"name":"piece","abbreviation":"pc"}'
U_PC=$MK_ID
mk /uom '{"name":"spare","abbreviation":"sp"}'
U_SP=$MK_ID
mk /categories '{"name":"Tools","description":"hand tools"}'
C_TOOLS=$MK_ID
mk /categories '{"name":"Parts","description":null}'
C_PARTS=$MK_ID
mk /categories '{"name":"Spare"}'
C_SPARE=$MK_ID
mk /products "{\"sku\":\"W-1\",\"name\":\"Widget one\",\"category_id\":$C_TOOLS,\"uom_id\":$U_PC,\"price\":\"12.50\",\"cost\":\"7.10\",\"stock\":\"100000\",\"min_stock\":\"5\"}"
P1=$MK_ID
mk /products "{\"sku\":\"W-2\",\"name\":\"Widget two\",\"category_id\":$C_TOOLS,\"uom_id\":$U_PC,\"price\":\"3.99\",\"stock\":\"4\",\"min_stock\":\"10\"}"
P2=$MK_ID
mk /products "{\"sku\":\"B-1\",\"name\":\"Bolt M8\",\"category_id\":$C_PARTS,\"uom_id\":$U_KG,\"price\":\"0.25\",\"cost\":\"0.10\",\"stock\":\"100000.500\"}"
P3=$MK_ID
mk /products "{\"sku\":\"N-1\",\"name\":\"Nut M8 \\u00e9\",\"category_id\":null,\"uom_id\":$U_KG,\"price\":\"0.05\",\"stock\":\"0\"}"
P4=$MK_ID
mk /products "{\"sku\":\"G-1\",\"name\":\"Gear\",\"category_id\":$C_PARTS,\"uom_id\":$U_PC,\"price\":120,\"stock\":2}"
P5=$MK_ID
api PATCH "/products/$P5" '{"min_stock":"3","name":"Gear 20T"}'
ex "PATCH product" 200
api PUT "/categories/$C_SPARE" '{"name":"Spares","description":"renamed"}'
ex "PUT category" 200
api PUT "/uom/$U_SP" '{"name":"spares","abbreviation":"sps"}'
ex "PUT uom" 200
api DELETE "/uom/$U_SP"
ex "DELETE uom" 204
api DELETE "/uom/$U_KG"
ex "DELETE a uom in use" 409
api DELETE "/categories/$C_SPARE"
ex "DELETE category" 204

# Sales: a confirmed one paid at confirmation, one paid by POST /payments with an
# Idempotency-Key (then its retry and a mismatching reuse), a cancelled draft, a confirmed one
# cancelled (stock back), one refused for lack of stock.
mk /sales "{\"customer\":\"ACME\",\"items\":[{\"product_id\":$P1,\"quantity\":\"2\"},{\"product_id\":$P3,\"quantity\":\"1.500\",\"unit_price\":\"0.30\"}]}"
S_PAID=$MK_ID
api POST "/sales/$S_PAID/confirm" '{"payment":{"amount":"25.45","method":"cash"}}'
ex "confirm with a payment" 200
mk /sales "{\"customer\":\"Beta\",\"items\":[{\"product_id\":$P1,\"quantity\":3}]}"
S_OPEN=$MK_ID
api POST "/sales/$S_OPEN/confirm"
ex "confirm" 200
PAY_BODY="{\"sale_id\":$S_OPEN,\"amount\":\"10.00\",\"method\":\"card\",\"reference\":\"r-1\"}"
api POST /payments "$PAY_BODY" -H "Idempotency-Key: vg-key-1-$SUF"
ex "payment with an Idempotency-Key" 201
api POST /payments "$PAY_BODY" -H "Idempotency-Key: vg-key-1-$SUF"
ex "the same payment again (retry)" 201
api POST /payments "{\"sale_id\":$S_OPEN,\"amount\":\"11.00\",\"method\":\"card\"}" \
    -H "Idempotency-Key: vg-key-1-$SUF"
ex "the key with another body" 422
api POST /payments "{\"sale_id\":$S_OPEN,\"amount\":\"1000.00\",\"method\":\"transfer\"}"
ex "overpayment" 409
api POST "/sales/$S_OPEN/cancel"
ex "cancel a sale with payments" 409
mk /sales "{\"customer\":\"Gamma\",\"items\":[{\"product_id\":$P2,\"quantity\":1}]}"
S_DRAFT_CANCEL=$MK_ID
api POST "/sales/$S_DRAFT_CANCEL/cancel"
ex "cancel a draft" 200
mk /sales "{\"customer\":\"Delta\",\"items\":[{\"product_id\":$P5,\"quantity\":1}]}"
S_CONF_CANCEL=$MK_ID
api POST "/sales/$S_CONF_CANCEL/confirm"
ex "confirm (to cancel)" 200
api POST "/sales/$S_CONF_CANCEL/cancel"
ex "cancel a confirmed sale without payments" 200
mk /sales "{\"customer\":\"Epsilon\",\"items\":[{\"product_id\":$P2,\"quantity\":50}]}"
S_SHORT=$MK_ID
api POST "/sales/$S_SHORT/confirm"
ex "confirm without enough stock" 409
api POST /sales "{\"customer\":\"X\",\"items\":[{\"product_id\":$P1,\"quantity\":\"-1\"}]}"
ex "a sale with a negative quantity" 422
mk /sales "{\"customer\":\"Draft\",\"items\":[{\"product_id\":$P1,\"quantity\":1}]}"
S_DRAFT=$MK_ID

# Cookie authentication: a read, a write without X-CSRF-Token (403), one with it.
call GET "$API/me" -H "Cookie: stock_session=$TOKEN"
ex "GET /me by cookie" 200
call POST "$API/categories" -H "Cookie: stock_session=$TOKEN" -H 'Content-Type: application/json' \
    --data-binary '{"name":"NoCsrf"}'
ex "cookie write without CSRF" 403
call POST "$API/categories" -H "Cookie: stock_session=$TOKEN" -H "X-CSRF-Token: $CSRF" \
    -H 'Content-Type: application/json' --data-binary '{"name":"WithCsrf"}'
ex "cookie write with CSRF" 201

t_check "fixtures created through the valgrind worker (all ids)" \
    eval '((U_KG && U_PC && C_TOOLS && C_PARTS && P1 && P2 && P3 && P4 && P5 && S_PAID && S_OPEN && S_DRAFT))'
stock_log "fixtures done after $((SECONDS - T_START)) s"

# ---------------------------------------------------------------------------------------------
# The mixed load: wrk (one connection per thread, so that answers come back in request order
# and each is checked against its request's expected status) and, meanwhile, a curl loop of
# sales and payments.

TODAY=$(date -u +%F)
dplus()
{
    date -u -d "$1 $2 days" +%F
}
Y1=$(dplus "$TODAY" -365)
M1=$(dplus "$TODAY" -30)
W1=$(dplus "$TODAY" -7)
TM=$(dplus "$TODAY" 1)

# One request a line: METHOD EXPECTED AUTH(b bearer, n none, x bad token, c cookie) PATH [BODY]
# (BODY is the rest of the line, sent as application/json; "@text" sends it as text/plain).
MIX=$DIR/tmp/mix.txt
cat >"$MIX" <<EOF
GET 200 b /api/v1/products
GET 200 b /api/v1/products?q=widget
GET 200 b /api/v1/products?q=W-2
GET 200 b /api/v1/products?q=%C3%A9
GET 200 b /api/v1/products?q=nothing-matches-this
GET 200 b /api/v1/products?category_id=$C_TOOLS
GET 200 b /api/v1/products?category_id=$C_PARTS&stock=in
GET 200 b /api/v1/products?stock=low
GET 200 b /api/v1/products?stock=out
GET 200 b /api/v1/products?limit=2&offset=1
GET 200 b /api/v1/products?limit=200&offset=1000
GET 200 b /api/v1/products/$P1
GET 200 b /api/v1/products/$P2
GET 200 b /api/v1/products/$P3
GET 200 b /api/v1/products/$P4
GET 200 b /api/v1/products/$P5
GET 404 b /api/v1/products/999999999
GET 404 b /api/v1/products/abc
GET 422 b /api/v1/products?limit=500
GET 422 b /api/v1/products?limit=99999999999999999999999
GET 422 b /api/v1/products?stock=weird
GET 200 b /api/v1/categories
GET 200 b /api/v1/categories/$C_TOOLS
GET 404 b /api/v1/categories/999999999
GET 200 b /api/v1/uom
GET 200 b /api/v1/uom/$U_KG
GET 200 b /api/v1/me
GET 200 c /api/v1/me
GET 200 b /api/v1/sales
GET 200 b /api/v1/sales?status=confirmed
GET 200 b /api/v1/sales?status=draft&from=$W1&to=$TM
GET 422 b /api/v1/sales?status=bogus
GET 200 b /api/v1/sales/$S_PAID
GET 200 b /api/v1/sales/$S_OPEN
GET 404 b /api/v1/sales/999999999
GET 200 b /api/v1/payments
GET 200 b /api/v1/payments?sale_id=$S_OPEN
GET 200 b /api/v1/payments?method=cash&from=$M1&to=$TM
GET 422 b /api/v1/payments?method=bogus
GET 200 b /api/v1/products?format=csv
GET 200 b /api/v1/sales?format=csv&status=confirmed
GET 200 b /api/v1/payments?format=csv
GET 200 b /api/v1/stock/movements?format=csv&limit=50
GET 422 b /api/v1/products?format=xml
POST 415 b /api/v1/products/import {}
GET 200 b /api/v1/balance/series?from=$W1&to=$TODAY&granularity=daily
GET 200 b /api/v1/balance/series?from=$M1&to=$TODAY&granularity=daily&method=cash
GET 200 b /api/v1/balance/series?from=$Y1&to=$TODAY&granularity=weekly
GET 200 b /api/v1/balance/series?from=$Y1&to=$TODAY&granularity=monthly&method=card
GET 200 b /api/v1/balance/series?from=$M1&to=$TM&granularity=weekly&method=transfer
GET 422 b /api/v1/balance/series?from=$TODAY&to=$M1
GET 422 b /api/v1/balance/series?from=2020-01-01&to=2024-01-01&granularity=daily
GET 422 b /api/v1/balance/series?from=2026-02-30&to=2026-03-01
GET 401 n /api/v1/products
GET 401 x /api/v1/sales
GET 401 n /api/v1/me
GET 404 b /api/v1/nothing/here
GET 404 n /api/v1/
PUT 405 b /api/v1/sales {"customer":"x"}
DELETE 405 b /api/v1/payments
POST 405 b /api/v1/balance/series {}
PATCH 200 b /api/v1/products/$P1 {"price":"12.75"}
GET 200 b /api/v1/products?q=widget
PATCH 200 b /api/v1/products/$P1 {"price":"12.50","cost":"7.20"}
POST 201 b /api/v1/sales {"customer":"wrk","items":[{"product_id":$P3,"quantity":"0.250"}]}
POST 400 b /api/v1/uom {"name":
POST 400 b /api/v1/products [1,2]
POST 400 b /api/v1/sales {"customer":"x","items":[{"product_id":1,}]}
POST 415 b /api/v1/uom @text
POST 422 b /api/v1/uom {"name":""}
POST 422 b /api/v1/products {"sku":"Z","name":"Z","uom_id":$U_PC,"price":"1.001"}
POST 422 b /api/v1/products {"sku":"Z","name":"Z","uom_id":$U_PC,"price":"-1"}
POST 409 b /api/v1/uom {"name":"kilogram","abbreviation":"kg"}
POST 409 b /api/v1/products {"sku":"W-1","name":"dup","uom_id":$U_PC,"price":"1"}
POST 409 b /api/v1/sales/$S_PAID/confirm
POST 409 b /api/v1/sales/$S_OPEN/cancel
POST 201 b /api/v1/payments {"sale_id":$S_OPEN,"amount":"10.00","method":"card","reference":"r-1"} key:vg-key-1-$SUF
POST 422 b /api/v1/payments {"sale_id":$S_OPEN,"amount":"12.00","method":"card"} key:vg-key-1-$SUF
POST 409 b /api/v1/payments {"sale_id":$S_PAID,"amount":"1.00","method":"cash"}
POST 409 b /api/v1/payments {"sale_id":$S_DRAFT,"amount":"1.00","method":"cash"}
POST 403 c /api/v1/categories {"name":"nocsrf"}
GET 200 n /health
GET 200 n /health/cache
GET 200 n /health/db
GET 200 n /metrics
EOF

# The Lua script reads the mix (one entry a line) and keeps its counters per thread.
LUA=$DIR/tmp/mix.lua
cat >"$LUA" <<'EOF'
local mixfile, token = os.getenv("VG_MIX"), os.getenv("VG_TOKEN")
local threads = {}
local n_threads = 0

function setup(thread)
    n_threads = n_threads + 1
    thread:set("tid", n_threads)
    table.insert(threads, thread)
end

local reqs = {}
local pos = 0
local queue, qh, qt = {}, 1, 0
counts, hits, misses, unexpected, examples = {}, 0, 0, 0, {}

function init(args)
    for line in io.lines(mixfile) do
        local m, e, a, p, rest = line:match("^(%S+) (%d+) (%a) (%S+) ?(.*)$")
        if m then
            local h = {}
            if a == "b" then h["Authorization"] = "Bearer " .. token
            elseif a == "x" then h["Authorization"] = "Bearer s1.not-a-valid-token"
            elseif a == "c" then h["Cookie"] = "stock_session=" .. token end
            local body = nil
            local key = rest:match(" key:(%S+)$")
            if key then
                rest = rest:gsub(" key:%S+$", "")
                h["Idempotency-Key"] = key
            end
            if rest == "@text" then
                h["Content-Type"] = "text/plain"
                body = "plain text"
            elseif rest ~= "" or m == "POST" or m == "PUT" or m == "PATCH" then
                h["Content-Type"] = "application/json"
                body = rest
            end
            table.insert(reqs, { m = m, p = p, e = tonumber(e), raw = wrk.format(m, p, h, body) })
        end
    end
    -- The threads start at different places of the mix.
    pos = ((tid or 1) - 1) * 17
    -- wrk calls request() once on the first thread before the run, to check the request
    -- (script_verify_request): that one is never sent, so it must not enter the queue.
    verifying = (tid == 1)
end

function request()
    if verifying then
        verifying = false
        return reqs[1].raw
    end
    pos = pos % #reqs + 1
    qt = qt + 1
    queue[qt] = pos
    return reqs[pos].raw
end

function response(status, headers, body)
    local i = queue[qh]
    queue[qh] = nil
    qh = qh + 1
    local k = tostring(status)
    counts[k] = (counts[k] or 0) + 1
    local xc = headers["X-Cache"] or headers["x-cache"]
    if xc == "HIT" then hits = hits + 1 elseif xc == "MISS" then misses = misses + 1 end
    if i and status ~= reqs[i].e then
        unexpected = unexpected + 1
        if #examples < 10 then
            table.insert(examples, reqs[i].m .. " " .. reqs[i].p .. " -> " .. status ..
                " (expected " .. reqs[i].e .. ") " .. (body or ""):sub(1, 160))
        end
    end
end

function done(summary, latency, requests)
    local total, h, mi, un = {}, 0, 0, 0
    for _, t in ipairs(threads) do
        for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
        h = h + t:get("hits")
        mi = mi + t:get("misses")
        un = un + t:get("unexpected")
        for _, ex in ipairs(t:get("examples")) do io.write("UNEXPECTED ", ex, "\n") end
    end
    for k, v in pairs(total) do io.write("STATUS ", k, " ", v, "\n") end
    local e = summary.errors
    io.write(string.format("ANSWERED %d\nHITS %d\nMISSES %d\nMISMATCHES %d\n", summary.requests, h, mi, un))
    io.write(string.format("SOCKERR %d\n", e.connect + e.read + e.write + e.timeout))
    io.write(string.format("P99MS %.1f\n", latency:percentile(99) / 1000))
end
EOF

# The curl loop: each round a sale confirmed and paid (with its retried Idempotency-Key), a
# cancellation refused, a confirmed sale cancelled. Appends "LABEL EXPECTED GOT" lines to OUT
# until $DIR/tmp/writer.stop exists; TAG makes its Idempotency-Keys differ from another run's.
WRITES=$DIR/tmp/writes.txt
writer()
{
    local out=$1 tag=$2 i=0 id st
    wcall()
    {
        local label=$1 want=$2 m=$3 p=$4
        shift 4
        st=$(curl -s -o "$DIR/tmp/w.body" -w '%{http_code}' -X "$m" --max-time 30 \
            -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@" "$API$p")
        echo "$label $want ${st:-000}" >>"$out"
    }
    while [[ ! -e "$DIR/tmp/writer.stop" ]]; do
        i=$((i + 1))
        wcall sale 201 POST /sales --data-binary \
            "{\"customer\":\"loop $i\",\"items\":[{\"product_id\":$P1,\"quantity\":1},{\"product_id\":$P3,\"quantity\":\"0.5\"}]}"
        id=$(jq -r '.id // empty' "$DIR/tmp/w.body" 2>/dev/null)
        [[ "$id" =~ ^[0-9]+$ ]] || continue
        wcall confirm 200 POST "/sales/$id/confirm"
        wcall pay 201 POST /payments -H "Idempotency-Key: loop-$tag-$i-$SUF" --data-binary \
            "{\"sale_id\":$id,\"amount\":\"5.00\",\"method\":\"transfer\"}"
        wcall pay-retry 201 POST /payments -H "Idempotency-Key: loop-$tag-$i-$SUF" --data-binary \
            "{\"sale_id\":$id,\"amount\":\"5.00\",\"method\":\"transfer\"}"
        wcall cancel-paid 409 POST "/sales/$id/cancel"
        wcall sale2 201 POST /sales --data-binary \
            "{\"customer\":\"loop $i b\",\"items\":[{\"product_id\":$P1,\"quantity\":2}]}"
        id=$(jq -r '.id // empty' "$DIR/tmp/w.body" 2>/dev/null)
        [[ "$id" =~ ^[0-9]+$ ]] || continue
        wcall confirm2 200 POST "/sales/$id/confirm" --data-binary '{"payment":{"amount":"1.00","method":"card"}}'
        wcall get-sale 200 GET "/sales/$id"
    done
}
: >"$WRITES"
rm -f "$DIR/tmp/writer.stop"
writer "$WRITES" main &
WRITER_PID=$!

# wrk in rounds of WRK_SECONDS until TARGET requests are answered (valgrind's speed varies from
# machine to machine), at most MAX_ROUNDS rounds.
TARGET=$((MIN_REQUESTS * 4 / 3))
MAX_ROUNDS=8
ROUNDS=0
ANSWERED=0
wrk_fail=""
while ((ANSWERED < TARGET && ROUNDS < MAX_ROUNDS)); do
    ROUNDS=$((ROUNDS + 1))
    out=$DIR/wrk-$ROUNDS.out
    VG_MIX=$MIX VG_TOKEN=$TOKEN timeout $((WRK_SECONDS + 60)) wrk -t2 -c2 -d"${WRK_SECONDS}s" \
        --timeout 30s -s "$LUA" "$BASE" >"$out" 2>&1
    rc=$?
    ((rc == 0)) || wrk_fail+="round $ROUNDS: exit status $rc; "
    n=$(awk '$1 == "ANSWERED" { print $2; exit }' "$out")
    ANSWERED=$((ANSWERED + ${n:-0}))
    stock_log "wrk round $ROUNDS (${WRK_SECONDS}s): ${n:-0} answered, $ANSWERED in all"
    [[ -n "$n" ]] || { cat "$out"; break; }
done
touch "$DIR/tmp/writer.stop"
wait_for 40 pid_dead "$WRITER_PID" || stop_pid "$WRITER_PID" 5
wait "$WRITER_PID" 2>/dev/null
WRITER_PID=""
cat "$DIR"/wrk-1.out

# wsum KEY: KEY summed over the rounds' outputs.
wsum()
{
    cat "$DIR"/wrk-*.out | awk -v k="$1" '$1 == k { n += $2 } END { print n + 0 }'
}
HITS=$(wsum HITS)
MISSES=$(wsum MISSES)
echo "  all rounds: $(cat "$DIR"/wrk-*.out | awk '$1 == "STATUS" { n[$2] += $3 }
    END { for (s in n) printf "%s x%d  ", s, n[s] }')"
t_check "wrk ran ${wrk_fail:-($ROUNDS rounds of ${WRK_SECONDS}s)}" test -z "$wrk_fail"
t_check "wrk: $ANSWERED requests answered by the valgrind worker (>= $MIN_REQUESTS)" \
    test "$ANSWERED" -ge "$MIN_REQUESTS"
t_check "wrk: no socket error or timeout ($(wsum SOCKERR))" test "$(wsum SOCKERR)" -eq 0
if ! t_check "wrk: every answer has its request's expected status ($(wsum MISMATCHES) do not)" \
    test "$(wsum MISMATCHES)" -eq 0; then
    grep -h '^UNEXPECTED' "$DIR"/wrk-*.out | head -n 10
fi
fivexx=$(cat "$DIR"/wrk-*.out | awk '$1 == "STATUS" && $2 ~ /^5/ { n += $3 } END { print n + 0 }')
t_check "wrk: no 5xx ($fivexx)" test "$fivexx" -eq 0
t_check "wrk: cache hits ($HITS) and misses ($MISSES) both served" \
    eval '((HITS > 0 && MISSES > 0))'

W_N=$(grep -c . "$WRITES")
W_BAD=$(awk '$2 != $3' "$WRITES" | sort | uniq -c | head -n 10 | tr '\n' ';')
t_check "curl loop: $W_N sales/payments writes meanwhile, all with the expected status ${W_BAD:+($W_BAD)}" \
    eval '((W_N >= 10)) && [[ -z "$W_BAD" ]]'

# ---------------------------------------------------------------------------------------------
# Redis unavailable: the same load with the suite's Redis stopped (connections refused), then
# paused (SIGSTOP: the kernel accepts connections, no reply comes, so every attempt of the
# worker ends in its 0.3 s socket timeout). Every answer must keep its expected status, no read
# may be a cache hit, and once Redis is back the pool must say "ok" again and serve nothing
# stale: the session logged out, the category and the product written while Redis was away.

# metrics_sum PATTERN: the sum of the pool's stock_http_requests_total series whose labels
# match PATTERN (an awk regular expression).
metrics_sum()
{
    curl -s --max-time 30 "$BASE/metrics" |
        awk -v p="$1" '$1 ~ /^stock_http_requests_total\{/ && $1 ~ p { n += $2 } END { printf "%d", n }'
}
cache_is()
{
    [[ "$(curl -s --max-time 10 "$BASE/health/cache" | jq -r '.status // empty' 2>/dev/null)" == "$1" ]]
}
# read_hit PATH: GET PATH answers 200 from the cache.
read_hit()
{
    api GET "$1"
    [[ "$R_STATUS" == 200 && "$(header X-Cache)" == HIT ]]
}
# redis_is stopped|paused|running: the state of the suite's Redis.
redis_is()
{
    local pid
    case $1 in
    stopped)
        port_closed 127.0.0.1 "$REDIS_PORT" && ! { pid=$(pid_from_file "$RDIR/redis.pid") && pid_alive "$pid"; }
        ;;
    paused)
        pid=$(pid_from_file "$RDIR/redis.pid") && [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" == T* ]]
        ;;
    running)
        redis_ping "$REDIS_PORT"
        ;;
    esac
}
# psum MODE KEY: KEY summed over the wrk rounds of phase MODE.
psum()
{
    cat "$DIR"/phase-"$1"-*.out 2>/dev/null | awk -v k="$2" '$1 == k { n += $2 } END { print n + 0 }'
}

# phase_load MODE: wrk rounds of PHASE_SECONDS (5 at most) until PHASE_MIN requests are answered,
# the curl loop of writes running meanwhile (its lines in $DIR/tmp/writes-MODE.txt). Sets
# P_ROUNDS, P_ANSWERED and P_FAIL.
phase_load()
{
    local mode=$1 out rc n
    P_ROUNDS=0
    P_ANSWERED=0
    P_FAIL=""
    rm -f "$DIR/tmp/writer.stop"
    : >"$DIR/tmp/writes-$mode.txt"
    writer "$DIR/tmp/writes-$mode.txt" "$mode" &
    WRITER_PID=$!
    while ((P_ANSWERED < PHASE_MIN && P_ROUNDS < 5)); do
        P_ROUNDS=$((P_ROUNDS + 1))
        out=$DIR/phase-$mode-$P_ROUNDS.out
        VG_MIX=$MIX VG_TOKEN=$TOKEN timeout $((PHASE_SECONDS + 60)) wrk -t2 -c2 -d"${PHASE_SECONDS}s" \
            --timeout 30s -s "$LUA" "$BASE" >"$out" 2>&1
        rc=$?
        ((rc == 0)) || P_FAIL+="round $P_ROUNDS: exit status $rc; "
        n=$(awk '$1 == "ANSWERED" { print $2; exit }' "$out")
        P_ANSWERED=$((P_ANSWERED + ${n:-0}))
        [[ -n "$n" ]] || { cat "$out"; break; }
    done
    touch "$DIR/tmp/writer.stop"
    wait_for 40 pid_dead "$WRITER_PID" || stop_pid "$WRITER_PID" 5
    wait "$WRITER_PID" 2>/dev/null
    WRITER_PID=""
}

declare -A SERVED
# redis_phase stopped|paused
redis_phase()
{
    local mode=$1 prod cost desc tok tok2 l0 m0 t0 t1 five wf wn wbad log
    if [[ "$mode" == stopped ]]; then
        prod=$P2
        cost=1.11
    else
        prod=$P4
        cost=2.22
    fi
    desc="parts while redis $mode"

    # Before: a session and a category in the cache (TTL 60 s and 300 s: still there after).
    login "$SLUG" "$EMAIL" "$PASS"
    ex "$mode: login before" 200
    tok=$(jf .token)
    api_as "$tok" GET /me
    ex "$mode: GET /me before" 200
    t_check "$mode: before, a category read is a cache HIT" wait_for 10 read_hit "/categories/$C_PARTS"

    l0=$(wc -l <"$VG_LOG")
    t0=$SECONDS
    if [[ "$mode" == stopped ]]; then
        rctl stop
    else
        # A safety timer resumes it after 60 s; the phase ends the pause itself well before.
        rctl pause 60000
    fi
    t_check "$mode: the suite's Redis is $mode" redis_is "$mode"
    m0=$(metrics_sum .)
    # The first request that touches Redis meets the dead (or hung) connection and enters back-off.
    t_check "$mode: /health/cache says degraded" wait_for 10 cache_is degraded

    # Writes whose invalidation fails, read back at once; a logout; sign-ins.
    api PUT "/categories/$C_PARTS" "{\"name\":\"Parts\",\"description\":\"$desc\"}"
    ex "$mode: PUT category" 200
    api GET "/categories/$C_PARTS"
    ex "$mode: GET the category" 200
    t_check "$mode: the category reads as written (X-Cache $(header X-Cache))" \
        eval '[[ "$(jf .description)" == "$desc" && "$(header X-Cache)" != HIT ]]'
    api PATCH "/products/$prod" "{\"cost\":\"$cost\"}"
    ex "$mode: PATCH product" 200
    api GET "/products/$prod"
    ex "$mode: GET the product" 200
    t_check "$mode: the product reads as written" eval '[[ "$(jf .cost)" == "$cost" ]]'
    api_as "$tok" POST /auth/logout
    ex "$mode: logout" 204
    api_as "$tok" GET /me
    ex "$mode: GET /me after logout" 401
    login "$SLUG" "$EMAIL" wrong-password
    ex "$mode: login with a wrong password" 401
    login "$SLUG" "$EMAIL" "$PASS"
    ex "$mode: login" 200
    tok2=$(jf .token)
    api_as "$tok2" GET /me
    ex "$mode: GET /me with the new session" 200

    phase_load "$mode"
    SERVED[$mode]=$(($(metrics_sum .) - m0))
    t_check "$mode: Redis was still $mode at the end of the phase" redis_is "$mode"
    echo "  while $mode: $(cat "$DIR"/phase-"$mode"-*.out | awk '$1 == "STATUS" { n[$2] += $3 }
        END { for (s in n) printf "%s x%d  ", s, n[s] }')"
    t_check "$mode: wrk ran ${P_FAIL:-($P_ROUNDS rounds of ${PHASE_SECONDS}s)}" test -z "$P_FAIL"
    t_check "$mode: wrk: $P_ANSWERED requests answered (>= $PHASE_MIN)" test "$P_ANSWERED" -ge "$PHASE_MIN"
    t_check "$mode: wrk: no socket error or timeout ($(psum "$mode" SOCKERR))" \
        test "$(psum "$mode" SOCKERR)" -eq 0
    if ! t_check "$mode: wrk: every answer has its request's expected status ($(psum "$mode" MISMATCHES) do not)" \
        test "$(psum "$mode" MISMATCHES)" -eq 0; then
        grep -h '^UNEXPECTED' "$DIR"/phase-"$mode"-*.out | head -n 10
    fi
    five=$(cat "$DIR"/phase-"$mode"-*.out | awk '$1 == "STATUS" && $2 ~ /^5/ { n += $3 } END { print n + 0 }')
    t_check "$mode: wrk: no 5xx ($five)" test "$five" -eq 0
    t_check "$mode: wrk: no cache hit ($(psum "$mode" HITS)), cached reads served as misses ($(psum "$mode" MISSES))" \
        eval '(($(psum "$mode" HITS) == 0 && $(psum "$mode" MISSES) > 0))'
    wf=$DIR/tmp/writes-$mode.txt
    wn=$(grep -c . "$wf")
    wbad=$(awk '$2 != $3' "$wf" | sort | uniq -c | head -n 10 | tr '\n' ';')
    t_check "$mode: curl loop: $wn writes, all with the expected status ${wbad:+($wbad)}" \
        eval '((wn >= 10)) && [[ -z "$wbad" ]]'

    # Back: within the back-off's bound (1 s doubling to 30 s).
    if [[ "$mode" == stopped ]]; then
        rctl start
    else
        pause_timer_stop
        rctl unpause
    fi
    t_check "$mode: the suite's Redis runs again" redis_is running
    t1=$SECONDS
    if t_check "$mode: Redis back, /health/cache says ok again (within 35 s)" wait_for 35 cache_is ok; then
        stock_log "redis $mode for $((t1 - t0)) s; the pool said ok $((SECONDS - t1)) s after it came back"
    else
        curl -s --max-time 10 "$BASE/health/cache"
        echo
    fi
    log=$(tail -n +"$((l0 + 1))" "$VG_LOG")
    if [[ "$mode" == stopped ]]; then
        t_check "$mode: the worker logged the refused connection" \
            grep -q 'redis unavailable: connect: Connection refused' <<<"$log"
    else
        t_check "$mode: the worker logged the socket timeout" \
            grep -qE 'redis unavailable: [^;]*timeout' <<<"$log"
    fi
    t_check "$mode: the worker logged 'redis back'" grep -q '\[CACHE\] redis back' <<<"$log"

    # Nothing stale: what was written or ended while Redis was away reads as such.
    api GET "/categories/$C_PARTS"
    ex "$mode: GET the category after" 200
    t_check "$mode: after, the category reads as written while Redis was $mode" \
        eval '[[ "$(jf .description)" == "$desc" ]]'
    api GET "/products/$prod"
    ex "$mode: GET the product after" 200
    t_check "$mode: after, the product reads as written" eval '[[ "$(jf .cost)" == "$cost" ]]'
    api_as "$tok" GET /me
    ex "$mode: GET /me with the session logged out while Redis was $mode" 401
    api_as "$tok2" GET /me
    ex "$mode: GET /me with the session opened while Redis was $mode" 200
    t_check "$mode: after, reads are cache hits again" wait_for 10 read_hit "/categories/$C_PARTS"
}

stock_log "load done after $((SECONDS - T_START)) s"
redis_phase stopped
stock_log "redis stopped phase done after $((SECONDS - T_START)) s"
redis_phase paused
stock_log "redis paused phase done after $((SECONDS - T_START)) s"

# ---------------------------------------------------------------------------------------------
# After the load: logout, then the dead token; a worker that keeps answering.
login "$SLUG" "$EMAIL" "$PASS"
ex "second login" 200
TOKEN2=$(jf .token)
api_as "$TOKEN2" POST /auth/logout
ex "logout" 204
api_as "$TOKEN2" GET /me
ex "GET /me after logout" 401
api GET "/sales/$S_OPEN"
ex "GET the sale after the load" 200
t_check "the sale's payments were recorded once (paid_total 10.00)" \
    eval '[[ "$(jf .paid_total)" == 10.00 ]]'
t_check "curl requests: $CURL_N, all with the expected status ${UNEXPECTED:+($UNEXPECTED)}" \
    test -z "$UNEXPECTED"
t_check "no 5xx on a curl request ${FIVEXX:+($FIVEXX)}" test -z "$FIVEXX"

# What the worker itself counted (GET /metrics sums the pool's shared counters).
METRICS_N=$(curl -s --max-time 30 "$BASE/metrics" |
    awk '$1 ~ /^stock_http_requests_total\{/ { n += $2 } END { printf "%d", n }')
t_check "/metrics: the pool counted $METRICS_N requests (>= $MIN_REQUESTS)" \
    test "${METRICS_N:-0}" -ge "$MIN_REQUESTS"
# Every answer of the run, health polls included, whatever Redis was doing.
METRICS_5XX=$(metrics_sum 'status="5')
t_check "/metrics: the pool answered no 5xx ($METRICS_5XX)" test "${METRICS_5XX:-1}" -eq 0
SERVED[up]=$((METRICS_N - SERVED[stopped] - SERVED[paused]))
stock_log "the valgrind worker served about ${SERVED[up]} requests with Redis up," \
    "${SERVED[stopped]} with Redis stopped, ${SERVED[paused]} with Redis paused"
# LOG_LEVEL=debug: one "request ..." line per request, with the worker's PID.
LOG_N=$(grep -c "pid=$WORKER .* request " "$VG_LOG")
t_check "the worker's log has its requests ($LOG_N lines of pid $WORKER)" \
    test "$LOG_N" -ge "$MIN_REQUESTS"
t_check "the worker was never respawned" eval '! grep -q respawn "$VG_LOG"'
t_check "the worker under valgrind is the one that started" \
    test "$(pool_workers "$VG_PID" | head -n 1)" == "$WORKER"
a=$(pool_agent "$VG_PID")
[[ -n "$a" && "$AGENTS" != *" $a "* ]] && AGENTS+="$a "
t_check "the pool's L1 agent ran under valgrind (pid${AGENTS% })" test -n "${AGENTS// /}"

# ---------------------------------------------------------------------------------------------
# Stop (SIGTERM: the worker drains and exits, valgrind checks it, then the master), then read
# the logs.

nginx_stop "$NGX_DIR"
NGX_STARTED=0
t_stop=$SECONDS
kill -TERM "$VG_PID"
t_check "the valgrind pool exits on SIGTERM (within 120 s)" wait_for 120 pid_dead "$VG_PID"
wait "$VG_PID" 2>/dev/null
vg_rc=$?
stock_log "the valgrind pool stopped in $((SECONDS - t_stop)) s (status $vg_rc)"
pool_stop "$VG_PID" 5 # in case it did not
VG_MASTER=$VG_PID
VG_PID=""
t_check "the master exits with status 0 (valgrind's error exit code is 99; got $vg_rc)" \
    test "$vg_rc" -eq 0
t_check "the pool logged its drain and the worker's stop" \
    eval 'grep -q "draining" "$VG_LOG" && grep -q "pid=$WORKER .*worker stopping" "$VG_LOG"'

MASTER_LOG=$DIR/vg.$VG_MASTER.log
WORKER_LOG=$DIR/vg.$WORKER.log
t_check "valgrind wrote a log for the master" test -s "$MASTER_LOG"
t_check "valgrind wrote a log for the worker (its parent is the master)" \
    grep -q "Parent PID: $VG_MASTER\$" "$WORKER_LOG"
for a in $AGENTS; do
    t_check "valgrind wrote a log for the L1 agent $a" test -s "$DIR/vg.$a.log"
done
others=$(find "$DIR" -maxdepth 1 -name 'vg.*.log' ! -name "vg.$VG_MASTER.log" ! -name "vg.$WORKER.log" |
    while read -r f; do [[ "$AGENTS" == *" $(basename "$f" .log | cut -d. -f2) "* ]] || echo "$f"; done)
t_check "no other process under valgrind (a respawned worker) ${others:+($others)}" test -z "$others"

for f in "$DIR"/vg.*.log; do
    [[ -e "$f" ]] || continue
    who=worker
    [[ "$f" == "$MASTER_LOG" ]] && who=master
    [[ "$AGENTS" == *" $(basename "$f" .log | cut -d. -f2) "* ]] && who="L1 agent"
    if vg_log_clean "$f"; then
        t_ok "valgrind ($who, $(basename "$f")): 0 errors, nothing definitely or indirectly lost"
    else
        t_not_ok "valgrind ($who, $(basename "$f")): 0 errors, nothing definitely or indirectly lost"
        echo "--- first 80 lines of $f:"
        head -n 80 "$f"
        echo "--- its summaries:"
        grep -E 'lost:|reachable:|ERROR SUMMARY' "$f"
    fi
    echo "  $who: $(sed -nE 's/^==[0-9]+== (ERROR SUMMARY: [0-9,]+ errors).*/\1/p' "$f" | tail -n 1);" \
        "definitely lost $(vg_figure "$f" 'definitely lost'); indirectly lost $(vg_figure "$f" 'indirectly lost');" \
        "possibly lost $(vg_figure "$f" 'possibly lost'); still reachable $(vg_figure "$f" 'still reachable')"
done

stock_log "test_valgrind took $((SECONDS - T_START)) s; $ANSWERED wrk + $CURL_N curl + $W_N loop requests"
t_result test_valgrind
