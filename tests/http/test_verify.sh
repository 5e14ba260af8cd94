#!/usr/bin/env bash
# test_verify.sh: deploy/verify.sh against the harness's stack (nginx, pool, Redis, PostgreSQL)
# with a tenant of its own: every check passes; and against a closed port: it fails, counting its
# failures, without crashing. Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, REDIS_URL,
# DATABASE_URL.
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
trap 'rm -rf "$TMP"' EXIT
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
t_check "it does not print the password it signs in with" eval '! grep -qF -- "$PW" "$TMP/good.out"'
t_check "it checked the four cached modules' keys" eval \
    '[[ $(grep -cE "^ok - redis key [^ ]+:tenant:$NT_ID:(uom|products|categories|balance):" "$TMP/good.out") == 4 ]]'
t_check "it left no unit of its own behind" eval \
    '[[ -z "$(psql -X -qtA "$DATABASE_URL" -c "SELECT 1 FROM units WHERE tenant_id = $NT_ID AND name LIKE '"'verify-%'"'" 2>&1)" ]]'
t_check "it left no scratch key behind" eval \
    '[[ -z "$(timeout 10 redis-cli -u "$REDIS_URL" --scan --pattern "stock:verify:*" 2>/dev/null)" ]]'

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
