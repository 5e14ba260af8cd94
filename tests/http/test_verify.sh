#!/usr/bin/env bash
# test_verify.sh: deploy/verify.sh against the harness's stack (nginx, pool, Redis, PostgreSQL)
# with a tenant of its own: every check passes; and against a closed port: it fails, counting its
# failures, without crashing. Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, REDIS_URL,
# DATABASE_URL.
#
# Its fleet mode (several base URLs) against a second pool of this machine (the same PostgreSQL
# and Redis, its own workers, shared memory and outbox polls) behind a second nginx, and a third
# nginx in front of the harness's pool: every check passes; with the second pool given another
# CACHE_KEY_PREFIX (a host the others' invalidations never reach) the stale reads and the
# accepted token are failures. That exercises verify.sh's code path on one machine; the real
# multi-host proof (hosts in network namespaces, partitions, kills) is tests/fleet.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
: "${REDIS_URL:?run through tests/run_all.sh}"
: "${DATABASE_URL:?run through tests/run_all.sh}"
STOCKCTL=$ROOT/build/release/stockctl
VERIFY=$ROOT/deploy/verify.sh
SUF=$$-$RANDOM
SLUG=verify-$SUF
EMAIL=admin@verify.test
PW=verify-pass-$SUF
secret_note "$PW"
TMP=$(mktemp -d)
# The fleet's second pool and the two extra nginx: recorded under STOCK_TEST_DIR (run_all.sh also
# stops what a killed run left: *fcgi*.pid, nginx.pid) and stopped by PID on exit.
FLEET=${STOCK_TEST_DIR:?run through tests/run_all.sh}/verify-fleet
POOL2_PID=""
cleanup()
{
    nginx_stop "$FLEET/nginx2"
    nginx_stop "$FLEET/nginx3"
    [[ -n "$POOL2_PID" ]] && pool_stop "$POOL2_PID" 20
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

cache_ok_six_times()
{
    local i
    for i in 1 2 3 4 5 6; do
        req GET "$BASE/health/cache"
        [[ "$R_STATUS" == 200 ]] && json_has status ok || return 1
    done
}

# last_line FILE: the last line of FILE.
last_line()
{
    tail -n 1 "$1"
}

t_check "deploy/verify.sh exists" test -f "$VERIFY"
t_check "deploy/verify.sh is valid bash" bash -n "$VERIFY"

NT_ID=$("$STOCKCTL" tenant create "$SLUG" "Verify $SUF" 2>"$TMP/stockctl.err")
if [[ "$NT_ID" =~ ^[0-9]+$ ]] &&
    printf '%s\n' "$PW" | "$STOCKCTL" user create --tenant "$SLUG" --email "$EMAIL" \
        --role admin >/dev/null 2>>"$TMP/stockctl.err"; then
    t_ok "stockctl creates tenant $SLUG and its admin"
else
    t_not_ok "stockctl creates tenant $SLUG and its admin" "$(tr '\n' ' ' <"$TMP/stockctl.err")"
fi

# A suite before this one stops Redis: every worker must be past its back-off first.
t_check "the cache is ok on every worker (within 40 s)" wait_for 40 cache_ok_six_times

# --- against the harness's stack: all pass ---
export VERIFY_TENANT=$SLUG VERIFY_EMAIL=$EMAIL VERIFY_PASSWORD=$PW REDIS_URL
export VERIFY_PROFILE=dev
timeout -k 5 180 bash "$VERIFY" "$BASE" >"$TMP/good.out" 2>"$TMP/good.err"
rc=$?
sed 's/^/    | /' "$TMP/good.out"
[[ -s "$TMP/good.err" ]] && sed 's/^/    ! /' "$TMP/good.err"
t_check "verify.sh against the running stack exits 0 (got $rc)" test "$rc" = 0
last=$(last_line "$TMP/good.out")
if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] &&
    ((BASH_REMATCH[1] >= 15 && BASH_REMATCH[2] == 0)); then
    t_ok "its last line is '$last' (at least 15 passed, 0 failed)"
else
    t_not_ok "its last line is 'N passed, 0 failed' with N >= 15" "got '$last'"
fi
t_check "it prints no 'not ok' line" eval '! grep -q "^not ok - " "$TMP/good.out"'
n_ok=$(grep -c '^ok - ' "$TMP/good.out")
t_check "its count matches its ok lines ($n_ok)" eval '[[ "$last" == "$n_ok passed, 0 failed" ]]'
t_check "it prints nothing on stderr" test ! -s "$TMP/good.err"
t_check "with one base URL it runs no fleet check (no fleet note, no scratch product)" \
    eval '! grep -qE "^# fleet:|VERIFY-|right after" "$TMP/good.out"'
N_ONE=$n_ok
t_check "it does not print the password it signs in with" eval '! grep -qF -- "$PW" "$TMP/good.out"'
t_check "it checked the four cached modules' keys" eval \
    '[[ $(grep -cE "^ok - redis key [^ ]+:tenant:$NT_ID:(uom|products|categories|balance):" "$TMP/good.out") == 4 ]]'
t_check "it left no unit of its own behind" eval \
    '[[ -z "$(psql -X -qtA "$DATABASE_URL" -c "SELECT 1 FROM units WHERE tenant_id = $NT_ID AND name LIKE '"'verify-%'"'" 2>&1)" ]]'
t_check "it left no scratch key behind" eval \
    '[[ -z "$(timeout 10 redis-cli -u "$REDIS_URL" --scan --pattern "stock:verify:*" 2>/dev/null)" ]]'

# --- fleet mode: the second pool behind nginx2, the harness's pool behind nginx3 as well ---
# fleet_pool PREFIX: (re)starts the second pool on POOL2_ADDR with CACHE_KEY_PREFIX=PREFIX.
fleet_pool()
{
    [[ -n "$POOL2_PID" ]] && pool_stop "$POOL2_PID" 20
    POOL2_PID=""
    pool_start "$ROOT/build/asan/stock-fcgi" "$POOL2_ADDR" "$STOCK_TEST_DIR/logs/stock-fcgi-verify2.log" \
        "$FLEET/verify2-fcgi.pid" STOCK_WORKERS=1 LOG_LEVEL=info CACHE_KEY_PREFIX="$1" || return 1
    POOL2_PID=$(pid_from_file "$FLEET/verify2-fcgi.pid")
}
# cache_ok_at BASE: /health/cache through BASE is ok (its pool is past any Redis back-off).
cache_ok_at()
{
    req GET "$1/health/cache"
    [[ "$R_STATUS" == 200 ]] && json_has status ok
}
# fleet_run OUT URL...: verify.sh with these base URLs; its status in FLEET_RC.
fleet_run()
{
    local out=$1
    shift
    timeout -k 5 180 bash "$VERIFY" "$@" >"$out" 2>"$out.err"
    FLEET_RC=$?
}
FLEET_UP=0
if pick_port p2 && pick_port h2 && pick_port h3; then
    POOL2_ADDR=127.0.0.1:$p2
    BASE2=http://127.0.0.1:$h2
    BASE3=http://127.0.0.1:$h3
    nginx_render "$ROOT/nginx/stock.conf.in" "$FLEET/nginx2/nginx.conf" "127.0.0.1:$h2" "$POOL2_ADDR" \
        "$ROOT/nginx/static" "$FLEET/nginx2"
    nginx_render "$ROOT/nginx/stock.conf.in" "$FLEET/nginx3/nginx.conf" "127.0.0.1:$h3" \
        "${STOCK_TEST_FCGI_ADDR:?run through tests/run_all.sh}" "$ROOT/nginx/static" "$FLEET/nginx3"
    fleet_pool stock && nginx_start "$FLEET/nginx2" "$FLEET/nginx2/nginx.conf" "127.0.0.1:$h2" &&
        nginx_start "$FLEET/nginx3" "$FLEET/nginx3/nginx.conf" "127.0.0.1:$h3" && FLEET_UP=1
fi
if ((FLEET_UP)); then
    t_ok "a second pool (same PostgreSQL and Redis) behind nginx :$h2, the harness's pool behind nginx :$h3 too"
    t_check "the second pool's cache is ok (within 40 s)" wait_for 40 cache_ok_at "$BASE2"
    fleet_run "$TMP/fleet.out" "$BASE" "$BASE2" "$BASE3"
    sed 's/^/    | /' "$TMP/fleet.out"
    [[ -s "$TMP/fleet.out.err" ]] && sed 's/^/    ! /' "$TMP/fleet.out.err"
    t_check "verify.sh $BASE $BASE2 $BASE3 exits 0 (got $FLEET_RC)" test "$FLEET_RC" = 0
    last=$(last_line "$TMP/fleet.out")
    n_ok=$(grep -c '^ok - ' "$TMP/fleet.out")
    # Per other URL: /health, the session, the cached reads, the price twice, the 404, the 401;
    # once: create, PATCH, DELETE, the unit's cleanup, the 401 through the first.
    t_check "its last line counts the fleet's checks: $N_ONE + 5 + 7 x 2 ('$last')" \
        eval '[[ "$last" == "$n_ok passed, 0 failed" ]] && ((n_ok == N_ONE + 5 + 7 * 2))'
    t_check "it prints nothing on stderr (fleet)" test ! -s "$TMP/fleet.out.err"
    for u in "$BASE2" "$BASE3"; do
        t_check "through $u right after the PATCH: the new price, item and list" eval \
            '[[ $(grep -cE "^ok - $u: right after that answer (GET /products/[0-9]+|the product list) shows price 2.50" "$TMP/fleet.out") == 2 ]]'
        t_check "through $u right after the sign-out: the token is refused" \
            grep -qE "^ok - $u: right after the sign-out .* its token is refused" "$TMP/fleet.out"
    done
    t_check "the fleet run left no product or unit of its own behind" eval \
        '[[ -z "$(psql -X -qtA "$DATABASE_URL" -c "SELECT 1 FROM products WHERE tenant_id = $NT_ID AND sku LIKE '"'VERIFY-%'"' UNION ALL SELECT 1 FROM units WHERE tenant_id = $NT_ID AND name LIKE '"'verify-%'"'" 2>&1)" ]]'

    # A host with another CACHE_KEY_PREFIX: the first host's invalidations (its DELs under
    # "stock:") never reach its cache, so it serves the old price and the signed-out session.
    if fleet_pool verifyalt && wait_for 40 cache_ok_at "$BASE2"; then
        fleet_run "$TMP/stale.out" "$BASE" "$BASE2"
        sed 's/^/    | /' "$TMP/stale.out"
        t_check "verify.sh against a host with another CACHE_KEY_PREFIX exits 1 (got $FLEET_RC)" \
            test "$FLEET_RC" = 1
        t_check "... its stale reads are failures (item and list, after the PATCH)" eval \
            '[[ $(grep -cE "^not ok - $BASE2: right after that answer (GET /products/[0-9]+|the product list) shows price 2.50 \(got 200 1.00 HIT" "$TMP/stale.out") == 2 ]]'
        t_check "... the token it still accepts after the sign-out is a failure" \
            grep -qE "^not ok - $BASE2: right after the sign-out .* its token is refused \(GET /me -> 401, got 200\)" "$TMP/stale.out"
        t_check "... and the last line counts them ('$(last_line "$TMP/stale.out")')" \
            eval '[[ "$(last_line "$TMP/stale.out")" =~ ^[0-9]+\ passed,\ ([0-9]+)\ failed$ ]] &&
                  ((BASH_REMATCH[1] == $(grep -c "^not ok - " "$TMP/stale.out") && BASH_REMATCH[1] >= 3))'
        timeout 30 redis-cli -u "$REDIS_URL" --scan --pattern 'verifyalt:*' 2>/dev/null |
            xargs -r timeout 30 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1
    else
        t_not_ok "the second pool restarts with CACHE_KEY_PREFIX=verifyalt" \
            "see $STOCK_TEST_DIR/logs/stock-fcgi-verify2.log"
    fi
else
    t_not_ok "a second pool behind a second nginx, and a third nginx" \
        "see $STOCK_TEST_DIR/logs/stock-fcgi-verify2.log and $FLEET/nginx*/logs"
fi
nginx_stop "$FLEET/nginx2"
nginx_stop "$FLEET/nginx3"
[[ -n "$POOL2_PID" ]] && pool_stop "$POOL2_PID" 20
POOL2_PID=""

# --- a fleet URL that does not answer: failures, counted ---
pick_port dead || dead=1
fleet_run "$TMP/fleetbad.out" "$BASE" "http://127.0.0.1:$dead"
t_check "verify.sh with a second base URL that does not answer exits 1 (got $FLEET_RC)" \
    test "$FLEET_RC" = 1
t_check "... names it in its failures and prints nothing on stderr" eval \
    'grep -q "^not ok - http://127.0.0.1:$dead: GET /health -> 200" "$TMP/fleetbad.out" &&
     grep -q "^not ok - http://127.0.0.1:$dead: right after that answer GET /products/" "$TMP/fleetbad.out" &&
     [[ ! -s "$TMP/fleetbad.out.err" ]]'

# --- the wrong profile is a failure ---
VERIFY_PROFILE=prod timeout -k 5 180 bash "$VERIFY" "$BASE" >"$TMP/prod.out" 2>&1
rc=$?
t_check "VERIFY_PROFILE=prod against dev Redis settings exits non-zero (got $rc)" test "$rc" != 0
t_check "... and names the maxmemory and appendonly checks" eval \
    'grep -q "^not ok - redis maxmemory" "$TMP/prod.out" && grep -q "^not ok - redis appendonly yes" "$TMP/prod.out"'

# --- against a closed port: failures, counted, no crash ---
pick_port closed || closed=1
timeout -k 5 180 bash "$VERIFY" "http://127.0.0.1:$closed" >"$TMP/bad.out" 2>"$TMP/bad.err"
rc=$?
sed 's/^/    | /' "$TMP/bad.out"
t_check "verify.sh against a closed port exits 1 (got $rc)" test "$rc" = 1
last=$(last_line "$TMP/bad.out")
if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] && ((BASH_REMATCH[2] > 0)); then
    t_ok "its last line counts the failures ('$last')"
else
    t_not_ok "its last line counts the failures" "got '$last'"
fi
t_check "the Redis checks still pass there" grep -q '^ok - redis answers PING' "$TMP/bad.out"
t_check "the health checks fail there" grep -q '^not ok - GET /health ' "$TMP/bad.out"
t_check "it prints nothing on stderr there" test ! -s "$TMP/bad.err"

# --- a wrong Redis URL: failures, counted ---
REDIS_URL=redis://127.0.0.1:$closed/0 timeout -k 5 180 bash "$VERIFY" "$BASE" >"$TMP/noredis.out" 2>&1
rc=$?
t_check "verify.sh with Redis unreachable exits 1 (got $rc)" test "$rc" = 1
t_check "... and says redis does not answer PING" grep -q '^not ok - redis answers PING' "$TMP/noredis.out"

t_result verify
