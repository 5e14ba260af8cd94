#!/usr/bin/env bash
# test_tenant.sh: the tenant's name, locale and currency (SPEC §12) through nginx against the
# run's PostgreSQL and Redis: GET /tenant (any session) and its shape; the tenant of GET /me and
# of the login answer with locale and currency; PATCH /tenant (admin; 403 for staff) with every
# field's validation (422 validation_error naming the field, unknown fields too; nothing changed
# by a refused body); a change persists in PostgreSQL and touches the caller's tenant only; and
# the cached sessions are never stale: after a PATCH answered, the other sessions of the tenant
# show the new values on their very next /me, through every worker of the pool (L1 and Redis)
# and through a second pool sharing PostgreSQL and Redis (another host), also over rounds of
# changes and for a change made in psql (within one outbox poll).
# Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_DIR, DATABASE_URL.
# Needs jq, curl, psql, cgi-fcgi.
# ck evaluates single-quoted conditions (SC2016) that read variables set for them (SC2034);
# pick_port sets its variable by name (SC2154).
# shellcheck disable=SC2016,SC2034,SC2154
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
RUNDIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}
: "${DATABASE_URL:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
ASAN_BIN=$ROOT/build/asan/stock-fcgi
SUITE=test_tenant
SUF=$$-$RANDOM
DIR=$RUNDIR/tenant-test
rm -rf "$DIR"
mkdir -p "$DIR/run"
H2_PID=""

for tool in jq curl psql cgi-fcgi; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        t_not_ok "$tool is installed (deploy/deps.sh installs it)"
        t_result "$SUITE"
        exit 1
    fi
done

cleanup()
{
    [[ -n "$H2_PID" ]] && pool_stop "$H2_PID" 30
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

. "$ROOT/tests/lib/api.sh"

setup_failed()
{
    t_result "$SUITE"
    exit 1
}

# q SQL: one value (or rows, '|'-separated) from the database.
q()
{
    psql -X -At "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "$1"
}

# row ID: the tenant row as PostgreSQL holds it: name|locale|currency.
row()
{
    q "SELECT name || '|' || locale || '|' || currency FROM tenants WHERE id = $1"
}

# me_is TOKEN NAME LOCALE CURRENCY: GET /me (through nginx) answers that tenant.
me_is()
{
    api_as "$1" GET /me
    [[ "$R_STATUS" == 200 ]] &&
        jt '.tenant.name == $n and .tenant.locale == $l and .tenant.currency == $c' \
            --arg n "$2" --arg l "$3" --arg c "$4"
}

# h2_me_is TOKEN NAME LOCALE CURRENCY: the same, asked of the second pool (host 2) straight.
h2_me_is()
{
    fcgi_request "$H2_ADDR" GET /api/v1/me "" "" "HTTP_AUTHORIZATION=Bearer $1"
    [[ "$R_STATUS" == 200 ]] &&
        jt '.tenant.name == $n and .tenant.locale == $l and .tenant.currency == $c' \
            --arg n "$2" --arg l "$3" --arg c "$4"
}

# h2_l1_session_hits: host 2's count of sessions served by a worker's L1 (its /metrics, asked
# straight: sessions count under module "other").
h2_l1_session_hits()
{
    fcgi_request "$H2_ADDR" GET /metrics "" ""
    awk '$1 == "stock_cache_l1_hits_total{module=\"other\"}" { print $2 }' <<<"$R_BODY"
}

# many_me N TOKEN NAME LOCALE CURRENCY: N GETs of /me, 4 at a time over separate connections
# (so over both workers); echoes how many did not show that tenant.
many_me()
{
    local n=$1 tok=$2 i out pids=()
    out=$DIR/many.$RANDOM
    mkdir -p "$out"
    # wait by PID: a bare wait would also wait for the second pool, a child of this shell
    for i in $(seq 1 "$n"); do
        curl -s --max-time 15 -H "Authorization: Bearer $tok" "$API/me" >"$out/$i" &
        pids+=($!)
        if ((${#pids[@]} == 4)); then
            wait "${pids[@]}"
            pids=()
        fi
    done
    ((${#pids[@]} == 0)) || wait "${pids[@]}"
    local bad=0
    for i in $(seq 1 "$n"); do
        jq -e '.tenant.name == $n and .tenant.locale == $l and .tenant.currency == $c' \
            --arg n "$3" --arg l "$4" --arg c "$5" "$out/$i" >/dev/null 2>&1 || bad=$((bad + 1))
    done
    rm -rf "$out"
    echo "$bad"
}

# note_secret S...: a password the logs must never hold (tests/security/scan_logs.sh).
note_secret()
{
    printf '%s\n' "$@" >>"$RUNDIR/secrets.list"
}

# ---------------------------------------------------------------------------------------------
section "tenants and sessions"
SLUG_A=tenant-a-$SUF
SLUG_B=tenant-b-$SUF
PW_A=tenant-admin-a-$SUF
PW_B=tenant-admin-b-$SUF
PW_S=tenant-staff-a-$SUF
note_secret "$PW_A" "$PW_B" "$PW_S"
ADMIN_A=admin@tenant-a.test
ADMIN_B=admin@tenant-b.test
new_tenant "$SLUG_A" "Shop A" "$ADMIN_A" "$PW_A" || setup_failed
A_ID=$NT_ID
new_tenant "$SLUG_B" "Tienda B" "$ADMIN_B" "$PW_B" --locale es --currency EUR || setup_failed
B_ID=$NT_ID
session "$SLUG_A" "$ADMIN_A" "$PW_A" || setup_failed
TA=$S_TOKEN
session "$SLUG_A" "$ADMIN_A" "$PW_A" || setup_failed
TA2=$S_TOKEN
session "$SLUG_B" "$ADMIN_B" "$PW_B" || setup_failed
TB=$S_TOKEN
TOKEN=$TA
mk /users "$(jq -cn --arg p "$PW_S" '{email: "staff@tenant-a.test", password: $p, role: "staff"}')"
session "$SLUG_A" staff@tenant-a.test "$PW_S" || setup_failed
TS=$S_TOKEN

# ---------------------------------------------------------------------------------------------
section "GET /tenant, GET /me and the login answer"
api GET /tenant
expect "GET /tenant as the admin" 200
ck "its keys are id, slug, name, timezone, locale, currency" \
    'jt "keys == [\"currency\",\"id\",\"locale\",\"name\",\"slug\",\"timezone\"]"'
ck "a tenant made without --locale/--currency: en and USD, its id, slug, name and zone" \
    'jt ".id == $A_ID and .slug == \"$SLUG_A\" and .name == \"Shop A\" and .timezone == \"UTC\"
         and .locale == \"en\" and .currency == \"USD\""'
ck "GET /tenant says Cache-Control: no-store" '[[ "$(header Cache-Control)" == no-store ]]'
api_as "$TS" GET /tenant
ck "GET /tenant as staff: 200, the same tenant" '[[ $R_STATUS == 200 ]] && jt ".id == $A_ID"'
api_as "$TB" GET /tenant
ck "tenant B (--locale es --currency EUR): its own row, es and EUR" \
    '[[ $R_STATUS == 200 ]] && jt ".id == $B_ID and .name == \"Tienda B\" and .locale == \"es\" and .currency == \"EUR\""'
call GET "$API/tenant?tenant_id=$A_ID&id=$A_ID&slug=$SLUG_A" -H "Authorization: Bearer $TB" \
    -H "X-Tenant-Id: $A_ID" -H "X-Tenant-Slug: $SLUG_A"
ck "tenant B asking for A by query or header still gets B" '[[ $R_STATUS == 200 ]] && jt ".id == $B_ID"'
call GET "$API/tenant"
expect "GET /tenant without a session" 401 unauthorized
api GET /me
ck "GET /me: the tenant is id, slug, name, locale, currency" \
    '[[ $R_STATUS == 200 ]] && jt ".tenant | keys == [\"currency\",\"id\",\"locale\",\"name\",\"slug\"]"'
ck "GET /me: en and USD" 'jt ".tenant.locale == \"en\" and .tenant.currency == \"USD\""'
login "$SLUG_B" "$ADMIN_B" "$PW_B"
ck "the login answer's tenant has locale es and currency EUR" \
    '[[ $R_STATUS == 200 ]] && jt ".tenant | keys == [\"currency\",\"id\",\"locale\",\"name\",\"slug\"]" &&
     jt ".tenant.locale == \"es\" and .tenant.currency == \"EUR\" and .tenant.id == $B_ID"'
call POST "$API/auth/logout" -H "Authorization: Bearer $(jf .token)"

# ---------------------------------------------------------------------------------------------
section "PATCH /tenant: validation"
BEFORE=$(row "$A_ID")
BEFORE_UPD=$(q "SELECT updated_at FROM tenants WHERE id = $A_ID")
# bad BODY FIELD WHAT: the PATCH is 422 validation_error naming FIELD.
bad()
{
    api PATCH /tenant "$1"
    expect "PATCH /tenant $3" 422 validation_error "$2"
}
bad '{"locale":"fr"}' locale "locale fr"
bad '{"locale":"EN"}' locale "locale EN (lower case only)"
bad '{"locale":"es-MX"}' locale "locale es-MX"
bad '{"locale":""}' locale "locale empty"
bad '{"locale":null}' locale "locale null"
bad '{"locale":1}' locale "locale a number"
bad '{"locale":["es"]}' locale "locale an array"
bad '{"currency":"usd"}' currency "currency in lower case"
bad '{"currency":"ABC"}' currency "currency ABC (no such code)"
bad '{"currency":"HRK"}' currency "currency HRK (withdrawn 2023)"
bad '{"currency":"VEF"}' currency "currency VEF (withdrawn)"
bad '{"currency":"USDX"}' currency "currency of 4 letters"
bad '{"currency":"US"}' currency "currency of 2 letters"
bad '{"currency":""}' currency "currency empty"
bad '{"currency":null}' currency "currency null"
bad '{"currency":840}' currency "currency a number (the numeric code)"
bad '{"currency":"US\u0000D"}' currency "currency with a NUL"
bad '{"name":""}' name "name empty"
bad '{"name":"   \t "}' name "name blank"
bad "$(jq -cn '{name: ("ñ" * 201)}')" name "name of 201 characters"
bad '{"name":null}' name "name null"
bad '{"name":7}' name "name a number"
bad '{"timezone":"Europe/Madrid"}' timezone "timezone (not changeable here)"
bad '{"slug":"other"}' slug "slug"
bad "{\"id\":$B_ID}" id "id"
bad "{\"tenant_id\":$B_ID,\"name\":\"Hijack\"}" tenant_id "tenant_id"
bad '{"name":"Fine name","colour":"red"}' colour "a known field with an unknown one"
bad '{"name":"Fine name","locale":"es","currency":"XYZ"}' currency "good name and locale, bad currency"
bad '{"name":"Fine name","locale":"de","currency":"EUR"}' locale "good name and currency, bad locale"
api PATCH /tenant "{\"$(printf 'k%.0s' $(seq 1 80))\":1}"
expect "PATCH /tenant with a long unknown field" 422 validation_error
ck "... the error's message names the fields a tenant has" 'jf .error.message | grep -q "name, locale and currency"'
api PATCH /tenant ''
expect "PATCH /tenant with an empty body (as every PATCH)" 400
api PATCH /tenant '[]'
expect "PATCH /tenant with a JSON array" 400
api PATCH /tenant '{"locale":'
expect "PATCH /tenant with malformed JSON" 400
call PATCH "$API/tenant" -H "Authorization: Bearer $TA" -H 'Content-Type: text/plain' \
    --data-binary '{"locale":"es"}'
expect "PATCH /tenant as text/plain" 415
ck "no refused PATCH changed the row (name, locale, currency, updated_at)" \
    '[[ "$(row "$A_ID")" == "$BEFORE" && "$(q "SELECT updated_at FROM tenants WHERE id = $A_ID")" == "$BEFORE_UPD" ]]'
api PATCH /tenant '{}'
ck "PATCH /tenant {} (as every PATCH): 200, the tenant unchanged" \
    '[[ $R_STATUS == 200 ]] && jt ".id == $A_ID and .name == \"Shop A\" and .locale == \"en\" and .currency == \"USD\""'
ck "... and nothing written (updated_at as before)" \
    '[[ "$(q "SELECT updated_at FROM tenants WHERE id = $A_ID")" == "$BEFORE_UPD" ]]'

# ---------------------------------------------------------------------------------------------
section "PATCH /tenant: roles"
api_as "$TS" PATCH /tenant '{"locale":"es"}'
expect "PATCH /tenant as staff" 403 forbidden
api_as "$TS" PATCH /tenant '{"name":"Staff was here","bogus":1}'
expect "PATCH /tenant as staff with a bad body: still 403 (the role first)" 403 forbidden
call PATCH "$API/tenant" -H 'Content-Type: application/json' --data-binary '{"locale":"es"}'
expect "PATCH /tenant without a session" 401 unauthorized
ck "the row is unchanged" '[[ "$(row "$A_ID")" == "$BEFORE" ]]'
call PATCH "$API/tenant" -H "Cookie: stock_session=$TA" -H 'Content-Type: application/json' \
    --data-binary '{"locale":"es"}'
expect "PATCH /tenant with the cookie and no X-CSRF-Token" 403 csrf_failed
ck "the row is still unchanged" '[[ "$(row "$A_ID")" == "$BEFORE" ]]'

# ---------------------------------------------------------------------------------------------
section "PATCH /tenant: a change"
B_BEFORE=$(row "$B_ID")
NAME1='Tienda "Ñandú" & Co'
# Every session of A asks /me before the change, through both workers, so that each worker's
# L1 and Redis hold the old session entries the change must replace.
ck "before: 16 /me of the staff session, all Shop A/en/USD" \
    '[[ "$(many_me 16 "$TS" "Shop A" en USD)" == 0 ]]'
ck "before: 16 /me of the admin's second session, all Shop A/en/USD" \
    '[[ "$(many_me 16 "$TA2" "Shop A" en USD)" == 0 ]]'
api PATCH /tenant "$(jq -cn --arg n "$NAME1" '{name: $n, locale: "es", currency: "MXN"}')"
expect "PATCH /tenant name, locale and currency" 200
ck "the answer is the new tenant, all six keys" \
    'jt "keys == [\"currency\",\"id\",\"locale\",\"name\",\"slug\",\"timezone\"]" &&
     jt ".id == $A_ID and .slug == \"$SLUG_A\" and .name == \$n and .locale == \"es\" and .currency == \"MXN\" and .timezone == \"UTC\"" --arg n "$NAME1"'
ck "the staff session's very next /me shows it" 'me_is "$TS" "$NAME1" es MXN'
ck "the admin's other session's very next /me shows it" 'me_is "$TA2" "$NAME1" es MXN'
ck "PostgreSQL holds it" '[[ "$(row "$A_ID")" == "$NAME1|es|MXN" ]]'
MOVED=$(q "SELECT updated_at > '$BEFORE_UPD'::timestamptz FROM tenants WHERE id = $A_ID")
ck "updated_at moved" '[[ "$MOVED" == t ]]'
ck "after: 40 /me of the staff session over both workers, none stale" \
    '[[ "$(many_me 40 "$TS" "$NAME1" es MXN)" == 0 ]]'
ck "after: 40 /me of the admin's second session, none stale" \
    '[[ "$(many_me 40 "$TA2" "$NAME1" es MXN)" == 0 ]]'
api_as "$TS" GET /tenant
ck "GET /tenant (staff) shows it" '[[ $R_STATUS == 200 ]] && jt ".name == \$n and .locale == \"es\" and .currency == \"MXN\"" --arg n "$NAME1"'
login "$SLUG_A" "$ADMIN_A" "$PW_A"
ck "a new login's answer shows it" '[[ $R_STATUS == 200 ]] && jt ".tenant.locale == \"es\" and .tenant.currency == \"MXN\" and .tenant.name == \$n" --arg n "$NAME1"'
call POST "$API/auth/logout" -H "Authorization: Bearer $(jf .token)"
ck "tenant B's row is untouched" '[[ "$(row "$B_ID")" == "$B_BEFORE" ]]'
ck "tenant B's /me is untouched" 'me_is "$TB" "Tienda B" es EUR'
api_as "$TB" GET /tenant
ck "tenant B's GET /tenant is untouched" 'jt ".id == $B_ID and .name == \"Tienda B\" and .currency == \"EUR\""'

api PATCH /tenant '{"currency":"ARS"}'
ck "PATCH /tenant currency only: 200, name and locale kept" \
    '[[ $R_STATUS == 200 ]] && jt ".name == \$n and .locale == \"es\" and .currency == \"ARS\"" --arg n "$NAME1"'
ck "... the staff session sees it at once" 'me_is "$TS" "$NAME1" es ARS'
api PATCH /tenant '{"locale":"en"}'
ck "PATCH /tenant locale only: 200, currency kept" \
    '[[ $R_STATUS == 200 ]] && jt ".locale == \"en\" and .currency == \"ARS\""'
ck "... the staff session sees it at once" 'me_is "$TS" "$NAME1" en ARS'
api PATCH /tenant '{"name":"  Shop A again  "}'
ck "PATCH /tenant name only: kept as given" '[[ $R_STATUS == 200 ]] && jt ".name == \"  Shop A again  \""'
ck "... the admin's other session sees it at once" 'me_is "$TA2" "  Shop A again  " en ARS'
api PATCH /tenant '{"currency":"XCG"}'
ck "a recent ISO 4217 code (XCG, 2025) is taken" '[[ $R_STATUS == 200 ]] && jt ".currency == \"XCG\""'

# ---------------------------------------------------------------------------------------------
section "another host: a second pool on the same PostgreSQL and Redis"
if pick_port h2_port && pool_start "$ASAN_BIN" "127.0.0.1:$h2_port" "$DIR/stock-fcgi-h2.log" \
    "$DIR/run/h2.pid" STOCK_WORKERS=2 LOG_LEVEL=info; then
    H2_PID=$(pid_from_file "$DIR/run/h2.pid")
    H2_ADDR=127.0.0.1:$h2_port
    t_ok "a second pool (host 2) starts"
    CUR_NAME="  Shop A again  "
    CUR_LOC=en
    CUR_CUR=XCG
    stale=0
    for i in $(seq 1 8); do
        h2_me_is "$TS" "$CUR_NAME" "$CUR_LOC" "$CUR_CUR" || stale=$((stale + 1))
    done
    ck "host 2 shows the tenant before the rounds (8 /me, $stale stale)" '((stale == 0))'
    L1_BEFORE=$(h2_l1_session_hits)
    # Rounds of changes: each PATCH (through nginx, the first host) answered, the other
    # sessions' very next /me on both hosts shows it.
    rounds_bad=""
    for r in 1 2 3 4 5 6; do
        case $r in
        1) CUR_LOC=es CUR_CUR=EUR ;;
        2) CUR_LOC=en CUR_CUR=GBP ;;
        3) CUR_LOC=es CUR_CUR=ARS CUR_NAME="Ronda $r" ;;
        4) CUR_LOC=en CUR_CUR=JPY ;;
        5) CUR_LOC=es CUR_CUR=MXN CUR_NAME="Ronda $r" ;;
        6) CUR_LOC=en CUR_CUR=USD CUR_NAME="Shop A" ;;
        esac
        # the old entries on host 2 as well, twice each: the second read is an L1 hit
        for _ in 1 2; do
            h2_me_is "$TS" x x x
            h2_me_is "$TA2" x x x
        done
        api PATCH /tenant "$(jq -cn --arg n "$CUR_NAME" --arg l "$CUR_LOC" --arg c "$CUR_CUR" \
            '{name: $n, locale: $l, currency: $c}')"
        [[ "$R_STATUS" == 200 ]] || rounds_bad+="r$r:patch=$R_STATUS "
        h2_me_is "$TS" "$CUR_NAME" "$CUR_LOC" "$CUR_CUR" || rounds_bad+="r$r:h2-staff "
        me_is "$TA2" "$CUR_NAME" "$CUR_LOC" "$CUR_CUR" || rounds_bad+="r$r:h1-admin2 "
        h2_me_is "$TA2" "$CUR_NAME" "$CUR_LOC" "$CUR_CUR" || rounds_bad+="r$r:h2-admin2 "
        me_is "$TS" "$CUR_NAME" "$CUR_LOC" "$CUR_CUR" || rounds_bad+="r$r:h1-staff "
        n=$(many_me 12 "$TS" "$CUR_NAME" "$CUR_LOC" "$CUR_CUR")
        ((n == 0)) || rounds_bad+="r$r:many=$n "
    done
    ck "6 rounds of PATCH: every next /me on both hosts and 12 more per round show the new values${rounds_bad:+ ($rounds_bad)}" \
        '[[ -z "$rounds_bad" ]]'
    L1_AFTER=$(h2_l1_session_hits)
    ck "host 2 served sessions from its L1 meanwhile (L1 hits of module other: $L1_BEFORE -> $L1_AFTER)" \
        '[[ "$L1_BEFORE" =~ ^[0-9]+$ && "$L1_AFTER" =~ ^[0-9]+$ ]] && ((L1_AFTER > L1_BEFORE))'
    # A change made outside the app (psql): its trigger's outbox row is applied by a poll of
    # either host, within one trust window (1 s); then every host shows it.
    h2_me_is "$TS" x x x
    me_is "$TS" x x x
    q "UPDATE tenants SET locale = 'es', currency = 'CLP' WHERE id = $A_ID" >/dev/null
    ck "a change in psql shows on host 1 within 2 s" 'wait_for 2 me_is "$TS" "Shop A" es CLP'
    ck "... and on host 2" 'wait_for 2 h2_me_is "$TS" "Shop A" es CLP'
    h2_me_is "$TB" "Tienda B" es EUR
    ck "host 2: tenant B unchanged all along" 'h2_me_is "$TB" "Tienda B" es EUR'
    pool_stop "$H2_PID" 30
    ck "host 2 stops" 'pid_dead "$H2_PID"'
    H2_PID=""
    ck "host 2 logged no sanitizer error" '! grep -qE "ERROR: (Address|Leak|Undefined)Sanitizer|runtime error" "$DIR/stock-fcgi-h2.log"'
else
    t_not_ok "a second pool (host 2) starts" "see $DIR/stock-fcgi-h2.log"
fi

ck "tenant B's row is untouched at the end" '[[ "$(row "$B_ID")" == "$B_BEFORE" ]]'
ck "no request of this suite got a 5xx${FIVEXX:+ ($FIVEXX)}" '[[ -z "$FIVEXX" ]]'

t_result "$SUITE"
