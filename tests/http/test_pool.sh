#!/usr/bin/env bash
# test_pool.sh: the worker pool end to end: bad configuration, a killed worker is respawned,
# SIGHUP replaces every worker without a failed request, nginx's probe without workers, the
# spawn-fcgi way of starting, SIGTERM draining, and listening on [::1]:PORT and on a unix socket.
# Environment from tests/run_all.sh:
# STOCK_TEST_BASE_URL, STOCK_TEST_POOL_PID, STOCK_TEST_POOL_LOG, STOCK_TEST_DIR, DATABASE_URL,
# REDIS_URL. Pools started here log to STOCK_TEST_DIR/pool-test/stock-fcgi-*.log (run_all.sh
# scans them for sanitizer reports).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
POOL=${STOCK_TEST_POOL_PID:?run through tests/run_all.sh}
POOL_LOG=${STOCK_TEST_POOL_LOG:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/pool-test
ASAN_BIN=$ROOT/build/asan/stock-fcgi
RELEASE_BIN=$ROOT/build/release/stock-fcgi
mkdir -p "$DIR"

# Everything this suite starts is recorded here and stopped on exit.
STARTED_POOLS=()
STARTED_NGINX=()
LOOP_PID=""
cleanup()
{
    local p
    [[ -n "$LOOP_PID" ]] && stop_pid "$LOOP_PID" 5
    for p in "${STARTED_NGINX[@]}"; do
        nginx_stop "$p"
    done
    for p in "${STARTED_POOLS[@]}"; do
        pool_stop "$p" 20
    done
}
trap cleanup EXIT
trap 'exit 143' TERM INT

count_words()
{
    wc -w <<<"$1" | tr -d ' '
}

health_200()
{
    [[ "$(http_status "$1/health")" == 200 ]]
}

# own_nginx NAME FCGI_ADDR: starts a second nginx for FCGI_ADDR; sets NGX_URL.
own_nginx()
{
    local name=$1 fcgi=$2 port
    pick_port port || return 1
    nginx_render "$ROOT/nginx/stock.conf.in" "$DIR/$name/nginx.conf" "127.0.0.1:$port" "$fcgi" \
        "$ROOT/nginx/static" "$DIR/$name"
    STARTED_NGINX+=("$DIR/$name")
    nginx_start "$DIR/$name" "$DIR/$name/nginx.conf" "127.0.0.1:$port" || return 1
    NGX_URL=http://127.0.0.1:$port
}

# ---------------------------------------------------------------------------------------------
# 1. A malformed configuration value: non-zero exit and one line naming the variable.
bad_config()
{
    local var=$1 val=$2 port out rc
    pick_port port
    out=$(env STOCK_ENV_FILE=/dev/null STOCK_LISTEN=127.0.0.1:$port "$var=$val" \
        timeout 10 "$RELEASE_BIN" </dev/null 2>&1)
    rc=$?
    [[ $rc -ne 0 && $rc -ne 124 ]] || { echo "  exit status $rc" >&2; return 1; }
    [[ "$(wc -l <<<"$out")" -eq 1 ]] || { echo "  output: $out" >&2; return 1; }
    grep -q "$var" <<<"$out" || { echo "  output: $out" >&2; return 1; }
    BAD_OUT=$out
}
t_check "STOCK_WORKERS=abc stops start-up with one line naming it" bad_config STOCK_WORKERS abc
t_check "REDIS_SOCKET_TIMEOUT=soon stops start-up naming it" bad_config REDIS_SOCKET_TIMEOUT soon
t_check "CACHE_ENABLED=maybe stops start-up naming it" bad_config CACHE_ENABLED maybe
t_check "STOCK_LISTEN=nowhere stops start-up naming it" bad_config STOCK_LISTEN nowhere
# A host that is no numeric address (nor localhost) passes the configuration but cannot be bound.
bad_listen_out=$(env STOCK_ENV_FILE=/dev/null STOCK_LISTEN=bad.host:9 timeout 10 "$RELEASE_BIN" </dev/null 2>&1)
bad_listen_rc=$?
t_check "STOCK_LISTEN=bad.host:9 stops start-up with status 1 and one line (got $bad_listen_rc)" \
    eval '[[ $bad_listen_rc == 1 && "$bad_listen_out" == "stock-fcgi: cannot listen on bad.host:9: "* &&
        "$(wc -l <<<"$bad_listen_out")" == 1 ]]'
if bad_config REDIS_URL 'redis://:Sup3rSecretPw@127.0.0.1:notaport/0'; then
    t_check "a bad REDIS_URL is reported without its password" \
        eval '! grep -q Sup3rSecretPw <<<"$BAD_OUT"'
else
    t_not_ok "a bad REDIS_URL stops start-up naming it"
fi

# ---------------------------------------------------------------------------------------------
# 2. kill -9 of a worker: the master respawns it; /health keeps answering.
workers=$(live_workers "$POOL")
t_check "the pool runs 2 workers" test "$(count_words "$workers")" -eq 2
victim=$(awk '{print $1}' <<<"$workers")
respawns_before=$(grep -c respawn "$POOL_LOG")
if [[ -n "$victim" ]]; then
    kill -9 "$victim"
    respawned()
    {
        local now
        now=$(live_workers "$POOL")
        [[ "$(count_words "$now")" -eq 2 && " $now " != *" $victim "* ]]
    }
    t_check "a worker killed with SIGKILL is replaced (within 10 s)" wait_for 10 respawned
    codes=""
    for _ in $(seq 1 20); do
        codes+="$(http_status "$BASE/health") "
    done
    t_check "/health answers 200 twenty times after the kill" \
        eval '[[ -z "$(tr " " "\n" <<<"$codes" | grep -v "^$" | grep -v "^200$")" ]]'
    t_check "the pool log has a respawn line" \
        wait_for 5 eval '(($(grep -c respawn "$POOL_LOG") > respawns_before))'
else
    t_not_ok "a worker killed with SIGKILL is replaced" "no worker found"
fi

# ---------------------------------------------------------------------------------------------
# 3. SIGHUP: every worker replaced one at a time while requests keep getting 200.
old=$(live_workers "$POOL")
codes_file=$DIR/sighup-codes
: >"$codes_file"
(
    end=$((SECONDS + 60))
    while ((SECONDS < end)); do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 "$BASE/health/db" >>"$codes_file"
    done
) &
LOOP_PID=$!
wait_for 10 test -s "$codes_file"
kill -HUP "$POOL"
min_live=99
replaced()
{
    local now n w
    now=$(live_workers "$POOL")
    n=$(count_words "$now")
    ((n < min_live)) && min_live=$n
    for w in $old; do
        [[ " $now " == *" $w "* ]] && return 1
    done
    ((n == 2))
}
t_check "SIGHUP replaces every worker (within 60 s)" wait_for 60 replaced
sleep 0.5
stop_pid "$LOOP_PID" 5
LOOP_PID=""
total=$(grep -c . "$codes_file")
bad=$(grep -vc '^200$' "$codes_file")
t_check "requests during SIGHUP all get 200 ($total sent, $bad not 200)" eval '((total > 0 && bad == 0))'
t_check "SIGHUP leaves at least one worker accepting at every moment (min seen $min_live)" \
    test "$min_live" -ge 1
((min_live >= 1)) || tail -n 20 "$POOL_LOG" | sed 's/^/# pool: /'
t_check "the master survives SIGHUP" pid_alive "$POOL"

# ---------------------------------------------------------------------------------------------
# 4. nginx answers its own probe with no worker behind it.
pick_port dead_port
if own_nginx nginx-dead "127.0.0.1:$dead_port"; then
    req GET "$NGX_URL/nginx-health"
    t_check "/nginx-health is 200 with no pool behind nginx" \
        eval '[[ "$R_STATUS" == 200 && "$R_BODY" == ok ]]'
    req GET "$NGX_URL/health"
    t_check "/health is 502 (JSON) with no pool behind nginx" \
        eval '[[ "$R_STATUS" == 502 ]] && json_has code unavailable'
    nginx_stop "$DIR/nginx-dead"
else
    t_not_ok "a second nginx starts"
fi

# ---------------------------------------------------------------------------------------------
# 5. spawn-fcgi: it binds the socket and execs the pool (-n: no fork, so the PID is kept).
pick_port sp_port
sp_pidfile=$DIR/spawn-fcgi.pid
sp_log=$DIR/stock-fcgi-spawn.log
env STOCK_WORKERS=2 STOCK_LISTEN=/nonexistent/stock-fcgi.sock setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' _ \
    "$sp_pidfile" spawn-fcgi -a 127.0.0.1 -p "$sp_port" -n -- "$ASAN_BIN" \
    </dev/null >>"$sp_log" 2>&1 &
wait_for 10 test -s "$sp_pidfile"
sp_pid=$(pid_from_file "$sp_pidfile")
STARTED_POOLS+=("$sp_pid")
if wait_for 30 pool_ready "$sp_pid" "127.0.0.1:$sp_port" && own_nginx nginx-spawn "127.0.0.1:$sp_port"; then
    t_check "spawn-fcgi pool answers /health 200 through nginx (within 30 s)" \
        wait_for 30 health_200 "$NGX_URL"
    t_check "spawn-fcgi pool answers /health 200 through cgi-fcgi" \
        eval 'fcgi_get "127.0.0.1:$sp_port" /health | grep -q "\"status\":\"ok\""'
    t_check "the pool serves the socket inherited from spawn-fcgi" \
        grep -q "inherited listening socket" "$sp_log"
    t_check "spawn-fcgi pool runs 2 workers" test "$(count_words "$(live_workers "$sp_pid")")" -eq 2
    nginx_stop "$DIR/nginx-spawn"
else
    t_not_ok "spawn-fcgi pool starts" "see $sp_log"
fi
pool_stop "$sp_pid" 20
t_check "spawn-fcgi pool stops on SIGTERM" pid_dead "$sp_pid"

# ---------------------------------------------------------------------------------------------
# 6. SIGTERM drains: in-flight requests complete, the master exits 0.
pick_port dr_port
dr_log=$DIR/stock-fcgi-drain.log
if pool_start "$ASAN_BIN" "127.0.0.1:$dr_port" "$dr_log" "$DIR/drain-fcgi.pid" STOCK_WORKERS=2 &&
    own_nginx nginx-drain "127.0.0.1:$dr_port"; then
    dr_pid=$(pid_from_file "$DIR/drain-fcgi.pid")
    STARTED_POOLS+=("$dr_pid")
    wait_for 30 health_200 "$NGX_URL"
    out=$DIR/drain-codes
    : >"$out"
    seq 1 200 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 \
        "$NGX_URL/health/db" >>"$out" &
    burst=$!
    wait_for 30 eval '(($(grep -c . "$out") >= 50))'
    kill -TERM "$dr_pid"
    t_check "SIGTERM: the master exits within 10 s" wait_for 10 pid_dead "$dr_pid"
    # pool_start leaves the pool our child (setsid does not fork here): collect its status.
    wait "$dr_pid" 2>/dev/null
    rc=$?
    t_check "SIGTERM: the master exits with status 0 (got $rc)" test "$rc" -eq 0
    wait_for 60 pid_dead "$burst"
    total=$(grep -c . "$out")
    ok200=$(grep -c '^200$' "$out")
    other=$(grep -vE '^(200|502)$' "$out" | sort | uniq -c | tr '\n' ' ')
    t_check "SIGTERM: $total requests, $ok200 got 200, the rest 502 from nginx (others: ${other:-none})" \
        eval '((total == 200)) && [[ -z "$other" ]]'
    # A request a worker had read and then dropped shows in nginx's log as "upstream prematurely
    # closed connection"; refused or reset connections are requests no worker had taken.
    t_check "SIGTERM: no in-flight request cut short (nginx log)" \
        eval '! grep -q "prematurely closed" "$DIR/nginx-drain/logs/nginx-error.log"'
    t_check "SIGTERM: the pool logs its drain" grep -q "draining" "$dr_log"
    nginx_stop "$DIR/nginx-drain"
else
    t_not_ok "a separate pool for the drain test starts" "see $dr_log"
fi

# ---------------------------------------------------------------------------------------------
# 7. STOCK_LISTEN beyond IPv4 (fd 0 is section 5): "[::1]:PORT" through nginx (cgi-fcgi speaks
# no IPv6), and a unix socket: mode 0660, its path removed when the pool stops.
pick_port v6_port
v6_log=$DIR/stock-fcgi-v6.log
v6_pidfile=$DIR/v6-fcgi.pid
env STOCK_WORKERS=1 STOCK_LISTEN="[::1]:$v6_port" setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' _ \
    "$v6_pidfile" "$ASAN_BIN" </dev/null >>"$v6_log" 2>&1 &
wait_for 10 test -s "$v6_pidfile"
v6_pid=$(pid_from_file "$v6_pidfile")
STARTED_POOLS+=("$v6_pid")
if wait_for 30 port_open ::1 "$v6_port" && own_nginx nginx-v6 "[::1]:$v6_port"; then
    t_check "STOCK_LISTEN=[::1]:PORT: /health is 200 through nginx (within 30 s)" \
        wait_for 30 health_200 "$NGX_URL"
    t_check "STOCK_LISTEN=[::1]:PORT: the pool listens on IPv6 loopback only" \
        eval '[[ -n "$(ss -Hltn "sport = :$v6_port" | grep -F "[::1]:$v6_port")" ]] && ! port_open 127.0.0.1 "$v6_port"'
    t_check "STOCK_LISTEN=[::1]:PORT: the pool logs its address" \
        grep -qF "listen=[::1]:$v6_port " "$v6_log"
    nginx_stop "$DIR/nginx-v6"
else
    t_not_ok "a pool on [::1]:PORT starts" "see $v6_log"
fi
kill -TERM "$v6_pid" 2>/dev/null
t_check "STOCK_LISTEN=[::1]:PORT: the master exits on SIGTERM (within 10 s)" \
    eval '[[ -n "$v6_pid" ]] && wait_for 10 pid_dead "$v6_pid"'
wait "$v6_pid" 2>/dev/null
rc=$?
t_check "STOCK_LISTEN=[::1]:PORT: exit status 0 (got $rc)" test "$rc" -eq 0

ux_sock=$DIR/ux.sock
ux_log=$DIR/stock-fcgi-unix.log
if pool_start "$ASAN_BIN" "$ux_sock" "$ux_log" "$DIR/unix-fcgi.pid" STOCK_WORKERS=1; then
    ux_pid=$(pid_from_file "$DIR/unix-fcgi.pid")
    STARTED_POOLS+=("$ux_pid")
    t_check "STOCK_LISTEN=/path: /health answers over the unix socket (cgi-fcgi)" \
        eval 'fcgi_get "$ux_sock" /health | grep -q "\"status\":\"ok\""'
    t_check "STOCK_LISTEN=/path: a socket of mode 0660" \
        eval '[[ -S "$ux_sock" && "$(stat -c %a "$ux_sock")" == 660 ]]'
    kill -TERM "$ux_pid"
    t_check "STOCK_LISTEN=/path: the master exits on SIGTERM (within 10 s)" wait_for 10 pid_dead "$ux_pid"
    wait "$ux_pid" 2>/dev/null
    rc=$?
    t_check "STOCK_LISTEN=/path: exit status 0 (got $rc)" test "$rc" -eq 0
    t_check "STOCK_LISTEN=/path: the socket's path is removed at stop" test ! -e "$ux_sock"
else
    t_not_ok "a pool on a unix socket starts" "see $ux_log"
fi

# ---------------------------------------------------------------------------------------------
# A worker that dies between the COMMIT of a write and that write's cache invalidation (the ASan
# build's fault hook, "X-Stock-Fault: crash-after-commit", SIGKILLs it right there) must not
# leave the old value in the cache: the write's invalidation committed with it (the outbox), and
# the next poll of the outbox applies it, within the bound of core/cache_outbox.c (an
# unacknowledged write may be unseen for at most a poll period; an acknowledged one never).
crash_api()
{
    local m=$1 p=$2
    shift 2
    req "$m" "$BASE/api/v1$p" -H "Authorization: Bearer $CR_TOKEN" "$@"
}
crash_product_hit()
{
    crash_api GET "/products/$CR_PRODUCT"
    [[ "$R_STATUS" == 200 && "$(header X-Cache)" == HIT ]]
}
CR_SLUG=pool-crash-$$-$RANDOM
CR_PW=crash-pass-$$-$RANDOM
secret_note "$CR_PW"
CR_TOKEN=""
if "$ROOT/build/release/stockctl" tenant create "$CR_SLUG" "Crash test" >/dev/null 2>&1 &&
    printf '%s\n' "$CR_PW" | "$ROOT/build/release/stockctl" user create --tenant "$CR_SLUG" \
        --email "a@$CR_SLUG.test" --role admin >/dev/null 2>&1; then
    req POST "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
        --data-binary "{\"tenant\":\"$CR_SLUG\",\"email\":\"a@$CR_SLUG.test\",\"password\":\"$CR_PW\"}"
    CR_TOKEN=$(jq -r '.token // empty' <<<"$R_BODY" 2>/dev/null)
fi
if [[ -n "$CR_TOKEN" ]]; then
    J=(-H 'Content-Type: application/json' --data-binary)
    crash_api POST /uom "${J[@]}" '{"name":"Piece","abbreviation":"pc"}'
    CR_UOM=$(jq -r '.id // empty' <<<"$R_BODY" 2>/dev/null)
    crash_api POST /products "${J[@]}" "{\"sku\":\"CR-1\",\"name\":\"Crash\",\"uom_id\":${CR_UOM:-0},\"price\":\"2.00\",\"stock\":\"10\"}"
    CR_PRODUCT=$(jq -r '.id // empty' <<<"$R_BODY" 2>/dev/null)
    crash_api POST /sales "${J[@]}" "{\"items\":[{\"product_id\":${CR_PRODUCT:-0},\"quantity\":1}]}"
    CR_SALE=$(jq -r '.id // empty' <<<"$R_BODY" 2>/dev/null)
    t_check "crash after commit: fixtures (unit, product with stock 10, draft sale)" \
        test -n "$CR_UOM" -a -n "$CR_PRODUCT" -a -n "$CR_SALE"
    t_check "crash after commit: the product is cached first (X-Cache HIT)" \
        wait_for 10 crash_product_hit
    CR_WORKERS=$(live_workers "$POOL")
    crash_api POST "/sales/$CR_SALE/confirm" -H 'X-Stock-Fault: crash-after-commit'
    CR_CUT_MS=$(date +%s%3N)
    CR_STATUS=$R_STATUS
    # Read the product at once and on, while the master respawns the worker: the confirm's
    # outbox rows are applied by the next poll of a serving worker. Each read is judged by when
    # it started (ms after the 502); no read that starts more than the trust window (1000 ms,
    # core/cache_outbox.c) after the cut may still show the cached 10.
    CR_LAST_10=none CR_FIRST_9=never CR_NINES=0 CR_READS=0
    while ((CR_NINES < 5 && $(date +%s%3N) - CR_CUT_MS < 5000)); do
        CR_AT=$(($(date +%s%3N) - CR_CUT_MS))
        crash_api GET "/products/$CR_PRODUCT"
        CR_READS=$((CR_READS + 1))
        if [[ "$R_STATUS" == 200 && "$(jq -r .stock <<<"$R_BODY")" == 9* ]]; then
            [[ "$CR_FIRST_9" == never ]] && CR_FIRST_9=$CR_AT
            CR_NINES=$((CR_NINES + 1))
        elif [[ "$R_STATUS" == 200 ]]; then
            CR_LAST_10=$CR_AT
            CR_NINES=0
        fi
    done
    t_check "crash after commit: the confirm's worker dies before answering (502, got $CR_STATUS)" \
        test "$CR_STATUS" = 502
    t_check "crash after commit: the product shows the new stock 9 (first read showing it started $CR_FIRST_9 ms after the cut, $CR_READS reads)" \
        test "$CR_FIRST_9" != never
    t_check "crash after commit: no read started later than 1000 ms after the cut shows the cached 10 (last one at $CR_LAST_10 ms)" \
        eval '[[ "$CR_LAST_10" == none ]] || ((CR_LAST_10 <= 1000))'
    t_check "crash after commit: then every read shows 9 (5 in a row)" test "$CR_NINES" = 5
    t_check "crash after commit: the master respawns it" \
        wait_for 20 eval '[[ "$(live_workers "$POOL" | wc -w)" == "$(wc -w <<<"$CR_WORKERS")" &&
                           "$(live_workers "$POOL")" != "$CR_WORKERS" ]]'
    crash_api GET "/sales/$CR_SALE"
    t_check "crash after commit: the confirm was committed (status $(jq -r .status <<<"$R_BODY" 2>/dev/null))" \
        eval '[[ "$R_STATUS" == 200 && "$(jq -r .status <<<"$R_BODY")" == confirmed ]]'
    t_check "crash after commit: the pool log names the outbox, not a flush" \
        grep -q "did not exit cleanly: what it committed is invalidated from the outbox" "$POOL_LOG"
    t_check "crash after commit: the cache serves again afterwards" wait_for 15 crash_product_hit

    # A worker that dies mid-request ("crash-once-<token>": the first worker to see the token
    # SIGKILLs itself before handling it): nginx passes a GET on to another worker, never a POST.
    died_before=$(grep -c "did not exit cleanly" "$POOL_LOG")
    crash_api GET "/products/$CR_PRODUCT" -H "X-Stock-Fault: crash-once-get-$$-$RANDOM"
    t_check "worker dies mid-GET: nginx retries on another worker and the client gets 200 (got $R_STATUS)" \
        eval '[[ "$R_STATUS" == 200 && "$(jq -r .id <<<"$R_BODY")" == "$CR_PRODUCT" ]]'
    t_check "worker dies mid-GET: a worker did die for it" \
        wait_for 10 eval '(($(grep -c "did not exit cleanly" "$POOL_LOG") == died_before + 1))'
    CR_CAT="Crash once $$-$RANDOM"
    crash_api POST /categories "${J[@]}" "{\"name\":\"$CR_CAT\"}" \
        -H "X-Stock-Fault: crash-once-post-$$-$RANDOM"
    t_check "worker dies mid-POST: the client gets 502, nginx does not send the write again (got $R_STATUS)" \
        test "$R_STATUS" = 502
    crash_api GET "/categories?limit=200"
    t_check "worker dies mid-POST: the category was not created (nor twice)" \
        eval '[[ "$R_STATUS" == 200 ]] && ! jq -e --arg n "$CR_CAT" "any(.items[]; .name == \$n)" <<<"$R_BODY" >/dev/null'
    t_check "worker dies mid-POST: the pool is whole again" \
        wait_for 20 eval '[[ "$(live_workers "$POOL" | wc -w)" == "$(wc -w <<<"$CR_WORKERS")" ]]'
else
    t_not_ok "crash after commit: a tenant and a session for the test"
fi
t_check "the release build has no fault injection hook (no X-Stock-Fault in build/release/stock-fcgi)" \
    eval '! grep -aq "X-Stock-Fault" "$RELEASE_BIN" && grep -aq "X-Stock-Fault" "$ASAN_BIN"'

# ---------------------------------------------------------------------------------------------
t_check "the main pool is alive after all of this" pid_alive "$POOL"
t_check "/health through the main nginx is still 200" health_200 "$BASE"

t_result http-pool
