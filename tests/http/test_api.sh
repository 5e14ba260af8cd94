#!/usr/bin/env bash
# test_api.sh: the /api/v1 contract end to end through nginx (SPEC §4-5): sign-in, sessions,
# CSRF and the rate limit; every route of units, categories and products with its errors; the
# list filters; tenant isolation (HTTP and Redis keys); the cache seen through HTTP (MISS/HIT,
# no stale read after any write, a hit costs no query); Redis stopped and back; hostile input;
# and a second pool with CACHE_ENABLED=false. It creates its own tenants (unique slugs), so it
# can share a database with other suites. Environment from tests/run_all.sh:
# STOCK_TEST_BASE_URL, STOCK_TEST_REDISCTL, STOCK_TEST_DIR, STOCK_TEST_POOL_PID,
# STOCK_TEST_POOL_LOG, DATABASE_URL, REDIS_URL. Needs jq.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
REDISCTL=${STOCK_TEST_REDISCTL:?run through tests/run_all.sh}
POOL=${STOCK_TEST_POOL_PID:?run through tests/run_all.sh}
POOL_LOG=${STOCK_TEST_POOL_LOG:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/api-test
: "${DATABASE_URL:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
PREFIX=stock # CACHE_KEY_PREFIX (the harness keeps the default)
SUF=$$-$RANDOM
AM=Amark$SUF # markers of tenant A's and B's data, unique to this run
BM=Bmark$SUF
mkdir -p "$DIR"

if ! command -v jq >/dev/null 2>&1; then
    t_not_ok "jq is installed (deploy/deps.sh installs it)"
    t_result http-api
    exit 1
fi

# Whatever happens: Redis running again, and what this suite started stopped.
NOCACHE_POOL=""
NOCACHE_NGINX=""
cleanup()
{
    $REDISCTL unpause >/dev/null 2>&1
    $REDISCTL start >/dev/null 2>&1
    [[ -n "$NOCACHE_NGINX" ]] && nginx_stop "$NOCACHE_NGINX"
    [[ -n "$NOCACHE_POOL" ]] && pool_stop "$NOCACHE_POOL" 20
    rm -rf "$DIR/tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
mkdir -p "$DIR/tmp"

# ---------------------------------------------------------------------------------------------
# Helpers

. "$ROOT/tests/lib/api.sh"

# pbody FIELD RAW [FIELD RAW ...]: a product body (sku NEW-1, name New, uom_id $U_KG, price
# "1.00") with each FIELD written as the JSON text RAW, as it is (jq would rewrite 1e5 or huge
# numbers), or left out when RAW is "-".
pbody()
{
    local -A f=([sku]='"NEW-1"' [name]='"New"' [uom_id]=$U_KG [price]='"1.00"')
    local out="" k
    while (($# >= 2)); do
        f[$1]=$2
        shift 2
    done
    for k in sku name category_id uom_id price cost stock min_stock; do
        [[ -n "${f[$k]+set}" && "${f[$k]}" != "-" ]] || continue
        out+="${out:+,}\"$k\":${f[$k]}"
    done
    printf '{%s}' "$out"
}

# metric NAME: a value of GET /metrics (NAME with its labels, as printed).
metric()
{
    curl -s --max-time 10 "$BASE/metrics" | awk -v n="$1" '$1 == n { print $2; exit }'
}

# urlenc TEXT: TEXT percent-encoded for a query string.
urlenc()
{
    jq -rn --arg v "$1" '$v | @uri'
}

# names_of: the sorted names of the items of the last list, one line, separated by "|".
names_of()
{
    jf '[.items[].name] | sort | join("|")'
}

WORKERS_AT_START=$(live_workers "$POOL")

# ---------------------------------------------------------------------------------------------
# Tenants: A (the main one), B (isolation), F (filters), L1 and L2 (rate limit).
PW=correct-horse-$SUF
secret_note "$PW"
SLUG_A=api-a-$SUF
SLUG_B=api-b-$SUF
SLUG_F=api-f-$SUF
SLUG_L1=api-l1-$SUF
SLUG_L2=api-l2-$SUF
SLUG_L3=api-l3-$SUF
SLUG_L4=api-l4-$SUF
setup_failed()
{
    t_result http-api
    exit 1
}
new_tenant "$SLUG_A" "Tenant A $SUF" "admin@a.test" "$PW" || setup_failed
A_ID=$NT_ID
new_tenant "$SLUG_B" "Tenant B $SUF" "admin@b.test" "$PW" || setup_failed
B_ID=$NT_ID
new_tenant "$SLUG_F" "Tenant F $SUF" "admin@f.test" "$PW" || setup_failed
new_tenant "$SLUG_L1" "Tenant L1 $SUF" "admin@l1.test" "$PW" || setup_failed
new_tenant "$SLUG_L2" "Tenant L2 $SUF" "admin@l2.test" "$PW" || setup_failed
new_tenant "$SLUG_L3" "Tenant L3 $SUF" "admin@l3.test" "$PW" || setup_failed
new_tenant "$SLUG_L4" "Tenant L4 $SUF" "admin@l4.test" "$PW" || setup_failed

# =============================================================================================
# 1. Sign-in, sessions, sign-out
# =============================================================================================
section "1. Sign-in, sessions, sign-out"
login "$SLUG_A" admin@a.test "$PW"
expect "POST /auth/login with the right password" 200
TOKEN=$(jf .token)
CSRF=$(jf .csrf_token)
LOGIN_COOKIE=$(header Set-Cookie)
ck "login body: token, expires_at, csrf_token, user {id, email, role}, tenant {id, slug, name}" \
    'jt "(.token | type == \"string\") and (.csrf_token | type == \"string\" and length > 0)
         and (.user.id | type == \"number\") and .user.email == \"admin@a.test\"
         and .user.role == \"admin\" and .tenant.id == $A_ID and .tenant.slug == \"$SLUG_A\"
         and .tenant.name == \"Tenant A $SUF\""'
ck "the token is \"s<tenant id>.<43 characters>\"" '[[ "$TOKEN" =~ ^s${A_ID}\.[A-Za-z0-9_-]{43}$ ]]'
ck "expires_at is ISO 8601 with an offset, in the future" \
    '[[ "$(jf .expires_at)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}:[0-9]{2}$ ]] &&
     (( $(date -d "$(jf .expires_at)" +%s) > $(date +%s) ))'
ck "Set-Cookie stock_session=<the token>" '[[ "$LOGIN_COOKIE" == "stock_session=$TOKEN;"* ]]'
ck "the session cookie is HttpOnly" '[[ "$LOGIN_COOKIE" =~ \;\ *HttpOnly(\;|$) ]]'
ck "the session cookie is SameSite=Lax" '[[ "$LOGIN_COOKIE" =~ \;\ *SameSite=Lax(\;|$) ]]'
ck "the session cookie is not Secure over plain http" '[[ ! "$LOGIN_COOKIE" =~ Secure ]]'
ck "the login answer is Cache-Control: no-store" '[[ "$(header Cache-Control)" == no-store ]]'

api GET /me
expect "GET /me with the bearer token" 200
ck "/me: user, tenant and the session's csrf_token" \
    'jt ".user.email == \"admin@a.test\" and .user.role == \"admin\" and .tenant.id == $A_ID
         and .tenant.slug == \"$SLUG_A\" and .csrf_token == \"$CSRF\""'
call GET "$API/me" -H "Cookie: stock_session=$TOKEN"
expect "GET /me with the session cookie" 200
ck "/me by cookie is the same user and tenant" \
    'jt ".user.email == \"admin@a.test\" and .tenant.id == $A_ID and .csrf_token == \"$CSRF\""'
call GET "$API/me"
expect "GET /me without credentials" 401 unauthorized
call GET "$API/me" -H "Authorization: Bearer s${A_ID}.$(printf 'x%.0s' {1..43})"
expect "GET /me with a made-up token" 401 unauthorized
call GET "$API/me" -H "Authorization: Basic YTpi"
expect "GET /me with Basic auth" 401
call GET "$API/me" -H "Cookie: stock_session=garbage"
expect "GET /me with a garbage cookie" 401
call GET "$API/me" -H "Authorization: Bearer nonsense" -H "Cookie: stock_session=$TOKEN"
expect "a bad Authorization header is not rescued by a valid cookie" 401

# Logout kills the token (bearer), and only that one.
session "$SLUG_A" admin@a.test "$PW"
T2=$S_TOKEN
api_as "$T2" GET /me
expect "a second session of the same user works" 200
api_as "$T2" POST /auth/logout
expect "POST /auth/logout (bearer)" 204
ck "logout clears the cookie (Max-Age=0)" '[[ "$(header Set-Cookie)" == "stock_session=;"*Max-Age=0* ]]'
api_as "$T2" GET /me
expect "the token is dead after logout: GET /me" 401 unauthorized
api_as "$T2" GET /uom
expect "the token is dead after logout: GET /uom" 401
api_as "$T2" POST /auth/logout
expect "logout again with the dead token" 401
api GET /me
expect "the other session of the user still works after that logout" 200

# Logout by cookie is a cookie-authenticated POST: CSRF applies.
session "$SLUG_A" admin@a.test "$PW"
T3=$S_TOKEN
T3_CSRF=$S_CSRF
ck "each session has its own CSRF token" '[[ -n "$T3_CSRF" && "$T3_CSRF" != "$CSRF" ]]'
call POST "$API/auth/logout" -H "Cookie: stock_session=$T3"
expect "POST /auth/logout by cookie without X-CSRF-Token" 403 csrf_failed
call GET "$API/me" -H "Cookie: stock_session=$T3"
expect "the session survives the refused logout" 200
call POST "$API/auth/logout" -H "Cookie: stock_session=$T3" -H "X-CSRF-Token: $T3_CSRF"
expect "POST /auth/logout by cookie with X-CSRF-Token" 204
call GET "$API/me" -H "Cookie: stock_session=$T3"
expect "the cookie is dead after logout" 401

# Every wrong combination: the same 401 body.
login "$SLUG_A" admin@a.test "wrong-password"
expect "login with a wrong password" 401 invalid_credentials
BODY_WRONG_PW=$R_BODY
login "$SLUG_A" nobody@a.test "$PW"
expect "login with an unknown email" 401 invalid_credentials
BODY_NO_USER=$R_BODY
login "no-such-tenant-$SUF" admin@a.test "$PW"
expect "login with an unknown tenant" 401 invalid_credentials
BODY_NO_TENANT=$R_BODY
login "$SLUG_B" admin@a.test "$PW"
expect "login with another tenant's slug" 401 invalid_credentials
BODY_OTHER_TENANT=$R_BODY
ck "wrong password, unknown email, unknown or other tenant: one identical 401 body" \
    '[[ "$BODY_WRONG_PW" == "$BODY_NO_USER" && "$BODY_WRONG_PW" == "$BODY_NO_TENANT" &&
        "$BODY_WRONG_PW" == "$BODY_OTHER_TENANT" ]]'
ck "a failed login sets no cookie" '[[ -z "$(header Set-Cookie)" ]]'

# Malformed logins.
call POST "$API/auth/login" -H 'Content-Type: application/json' \
    --data-binary "{\"tenant\":\"$SLUG_A\",\"email\":\"admin@a.test\"}"
expect "login without password" 422 "" password
call POST "$API/auth/login" -H 'Content-Type: application/json' \
    --data-binary "{\"tenant\":\"$SLUG_A\",\"email\":\"admin@a.test\",\"password\":12345678}"
expect "login with a numeric password" 422 "" password
call POST "$API/auth/login" -H 'Content-Type: application/json' \
    --data-binary '{"email":"admin@a.test","password":"x"}'
expect "login without tenant" 422 "" tenant
call POST "$API/auth/login" -H 'Content-Type: application/json' \
    --data-binary "{\"tenant\":\"$SLUG_A\",\"email\":null,\"password\":\"x\"}"
expect "login with a null email" 422 "" email
call POST "$API/auth/login" --data-binary "tenant=$SLUG_A&email=admin@a.test&password=$PW"
expect "login as a form post (not application/json)" 415
call POST "$API/auth/login" -H 'Content-Type: text/plain' \
    --data-binary "{\"tenant\":\"$SLUG_A\",\"email\":\"admin@a.test\",\"password\":\"$PW\"}"
expect "login with Content-Type text/plain" 415
call POST "$API/auth/login" -H 'Content-Type: application/json' --data-binary '{"tenant":'
expect "login with malformed JSON" 400
call GET "$API/auth/login"
expect "GET /auth/login" 405
ck "405 names the allowed method (Allow: POST)" '[[ "$(header Allow)" == POST ]]'

# Rate limit: 10 failures of this client on a tenant, then 429 with Retry-After, even for the
# right password; other tenants are not affected.
codes=""
for i in $(seq 1 10); do
    login "$SLUG_L1" admin@l1.test "wrong-$i"
    codes+="$R_STATUS "
done
ck "10 failed logins on one tenant are all 401 ($codes)" \
    '[[ "$codes" == "$(printf "401 %.0s" {1..10})" ]]'
login "$SLUG_L1" admin@l1.test "wrong-11"
expect "the 11th attempt" 429 rate_limited
RA=$(header Retry-After)
ck "429 carries Retry-After in seconds, 1..900 (got '$RA')" '[[ "$RA" =~ ^[0-9]+$ ]] && ((RA >= 1 && RA <= 900))'
login "$SLUG_L1" admin@l1.test "$PW"
expect "the right password while limited" 429 rate_limited
login "$SLUG_A" admin@a.test "$PW"
expect "another tenant still signs in meanwhile" 200

# The limit holds across workers: 5 pairs of concurrent failures (one pair keeps both workers
# busy at once), each on its own connection; then 429.
: >"$DIR/tmp/l2"
for i in 1 2 3 4 5; do
    for j in 1 2; do
        curl -s -o /dev/null -D "$DIR/tmp/l2-h-$i-$j" -w '%{http_code}\n' --max-time 15 \
            -X POST "$API/auth/login" -H 'Content-Type: application/json' \
            --data-binary "{\"tenant\":\"$SLUG_L2\",\"email\":\"admin@l2.test\",\"password\":\"bad-$i-$j\"}" \
            >>"$DIR/tmp/l2" &
    done
    wait
done
l2_codes=$(sort "$DIR/tmp/l2" | uniq -c | tr -s ' ' | tr '\n' ',')
ck "10 concurrent failed logins, each on its own connection, are all 401 ($l2_codes)" \
    '(($(grep -c "^401$" "$DIR/tmp/l2") == 10))'
l2_pids=$(for f in "$DIR"/tmp/l2-h-*; do
    id=$(tr -d '\r' <"$f" | awk -F': ' 'tolower($1) == "x-request-id" { print $2 }')
    [[ -n "$id" ]] && grep -a "req=$id " "$POOL_LOG" | grep -ao 'pid=[0-9]*' | head -n 1
done | sort -u | tr '\n' ' ')
if grep -q "sign-in failed" "$POOL_LOG"; then
    ck "those failures were served by both workers ($l2_pids)" '(($(wc -w <<<"$l2_pids") == 2))'
else
    t_skip "those failures were served by both workers" "the pool logs above info level"
fi
login "$SLUG_L2" admin@l2.test "$PW"
expect "after 10 failures spread over the workers, the right password" 429 rate_limited
ck "that 429 carries Retry-After" '[[ "$(header Retry-After)" =~ ^[0-9]+$ ]]'

# The account is limited whatever the address (a brute force from many addresses): sign-ins
# straight to a worker over FastCGI, each with its own REMOTE_ADDR, as nginx would pass them.
fcgi_login()
{
    fcgi_request "$STOCK_TEST_FCGI_ADDR" POST /api/v1/auth/login "" "$(login_body "$2" "$3" "$4")" \
        REMOTE_ADDR="$1"
    echo "$R_STATUS"
}
codes=""
for i in $(seq 1 10); do
    codes+="$(fcgi_login "203.0.113.$i" "$SLUG_L3" admin@l3.test "wrong-$i") "
done
ck "10 failures of one account from 10 addresses are all 401 ($codes)" \
    '[[ "$codes" == "$(printf "401 %.0s" {1..10})" ]]'
c=$(fcgi_login 203.0.113.77 "$SLUG_L3" admin@l3.test "$PW")
ck "then the right password from an 11th address is 429 (got $c)" '[[ "$c" == 429 ]]'
c=$(fcgi_login 2001:db8:7:8::1 "$SLUG_L4" nobody@l4.test bad)
c+=" $(fcgi_login 2001:db8:7:8::1 "$SLUG_L4" admin@l4.test "$PW")"
ck "an IPv6 client signs in through the worker (got $c)" '[[ "$c" == "401 200" ]]'

# No overshoot at once: 16 failures sent together (both workers busy) are counted before the
# passwords are checked, so exactly 10 are checked (401) and 6 refused (429).
: >"$DIR/tmp/l4"
for i in $(seq 1 16); do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -X POST "$API/auth/login" \
        -H 'Content-Type: application/json' \
        --data-binary "{\"tenant\":\"$SLUG_L4\",\"email\":\"admin@l4.test\",\"password\":\"bad-$i\"}" \
        >>"$DIR/tmp/l4" &
done
wait
l4_codes=$(sort "$DIR/tmp/l4" | uniq -c | tr -s ' ' | tr '\n' ',')
ck "16 failed logins at once: 10 checked (401), 6 refused (429) ($l4_codes)" \
    '(($(grep -c "^401$" "$DIR/tmp/l4") == 10 && $(grep -c "^429$" "$DIR/tmp/l4") == 6))'

# =============================================================================================
# 2. CSRF
# =============================================================================================
section "2. CSRF"
CK=(-H "Cookie: stock_session=$TOKEN")
call POST "$API/uom" "${CK[@]}" -H 'Content-Type: application/json' \
    --data-binary '{"name":"Csrf Unit","abbreviation":"cu"}'
expect "cookie-authenticated POST /uom without X-CSRF-Token" 403 csrf_failed
call POST "$API/uom" "${CK[@]}" -H 'X-CSRF-Token: wrong-token' -H 'Content-Type: application/json' \
    --data-binary '{"name":"Csrf Unit","abbreviation":"cu"}'
expect "cookie-authenticated POST /uom with a wrong X-CSRF-Token" 403 csrf_failed
session "$SLUG_A" admin@a.test "$PW"
T4_CSRF=$S_CSRF
call POST "$API/uom" "${CK[@]}" -H "X-CSRF-Token: $T4_CSRF" -H 'Content-Type: application/json' \
    --data-binary '{"name":"Csrf Unit","abbreviation":"cu"}'
expect "cookie POST with the CSRF token of another session" 403 csrf_failed
api GET /uom
ck "the refused POSTs created nothing" 'jt "[.items[] | select(.name == \"Csrf Unit\")] | length == 0"'
call POST "$API/uom" "${CK[@]}" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
    --data-binary '{"name":"Csrf Unit","abbreviation":"cu"}'
expect "cookie-authenticated POST /uom with the right X-CSRF-Token" 201
CSRF_UNIT=$(jf .id)
call GET "$API/uom/$CSRF_UNIT" "${CK[@]}"
expect "cookie-authenticated GET needs no CSRF token" 200
call PATCH "$API/uom/$CSRF_UNIT" "${CK[@]}" -H 'Content-Type: application/json' \
    --data-binary '{"abbreviation":"cx"}'
expect "cookie-authenticated PATCH without X-CSRF-Token" 403 csrf_failed
call PUT "$API/uom/$CSRF_UNIT" "${CK[@]}" -H 'Content-Type: application/json' \
    --data-binary '{"name":"Csrf Unit","abbreviation":"cx"}'
expect "cookie-authenticated PUT without X-CSRF-Token" 403 csrf_failed
call DELETE "$API/uom/$CSRF_UNIT" "${CK[@]}"
expect "cookie-authenticated DELETE without X-CSRF-Token" 403 csrf_failed
call PATCH "$API/uom/$CSRF_UNIT" "${CK[@]}" -H "X-CSRF-Token: $CSRF" \
    -H 'Content-Type: application/json' --data-binary '{"abbreviation":"cx"}'
expect "cookie-authenticated PATCH with X-CSRF-Token" 200
call DELETE "$API/uom/$CSRF_UNIT" "${CK[@]}" -H "X-CSRF-Token: $CSRF"
expect "cookie-authenticated DELETE with X-CSRF-Token" 204
api POST /uom '{"name":"Bearer Unit","abbreviation":"bu"}'
expect "bearer POST /uom needs no CSRF token" 201
BEARER_UNIT=$(jf .id)
api DELETE "/uom/$BEARER_UNIT"
expect "bearer DELETE needs no CSRF token" 204

# =============================================================================================
# 3. Units, categories, products: every route and its errors (tenant A)
# =============================================================================================
section "3. Units, categories, products"
TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}:[0-9]{2}$'

# --- units ---
api POST /uom '{"name":"  Kilogram ","abbreviation":"kg"}'
expect "POST /uom" 201
U_KG=$(jf .id)
U_KG_CREATED=$R_BODY
ck "unit: exactly id, name, abbreviation, created_at, updated_at" \
    'jt "keys == [\"abbreviation\",\"created_at\",\"id\",\"name\",\"updated_at\"]"'
ck "unit name is trimmed, values as sent" 'jt ".name == \"Kilogram\" and .abbreviation == \"kg\" and (.id | type == \"number\")"'
ck "unit timestamps are ISO 8601 with offset" \
    '[[ "$(jf .created_at)" =~ $TS_RE && "$(jf .updated_at)" =~ $TS_RE ]]'
ck "POST /uom answers application/json" '[[ "$(header Content-Type)" == application/json* ]]'
api GET "/uom/$U_KG"
expect "GET /uom/{id}" 200
ck "GET /uom/{id} is the created object" '[[ "$R_BODY" == "$U_KG_CREATED" ]]'
ck "GET /uom/{id} carries X-Cache" '[[ "$(header X-Cache)" =~ ^(HIT|MISS|BYPASS)$ ]]'
api GET /uom
expect "GET /uom" 200
ck "unit list: {items, total, limit 50, offset 0} with the unit" \
    'jt "(keys | sort) == [\"items\",\"limit\",\"offset\",\"total\"] and .limit == 50 and .offset == 0
         and .total == (.items | length) and ([.items[].id] | index($U_KG) != null)"'
ck "unit list items have the item shape" \
    'jt ".items[] | select(.id == $U_KG) | keys == [\"abbreviation\",\"created_at\",\"id\",\"name\",\"updated_at\"]"'
ck "GET /uom carries X-Cache" '[[ "$(header X-Cache)" =~ ^(HIT|MISS|BYPASS)$ ]]'

api POST /uom '{"name":"KILOGRAM","abbreviation":"KG"}'
expect "POST /uom with a duplicate name (other case)" 409 "" name
# Body validation, case by case: tests/unit/test_api_in.c. Here a few, end to end.
api POST /uom '{"name":"   ","abbreviation":"x"}'
expect "POST /uom with a blank name" 422 "" name
api POST /uom '{"name":"Litre"}'
expect "POST /uom without abbreviation" 422 "" abbreviation
api POST /uom "$(js '{name: ("é" * 100), abbreviation: ("ü" * 20)}')"
expect "POST /uom with 100 and 20 two-byte characters (limits count characters)" 201
U_LONG=$(jf .id)
api POST /uom '{"name":"Litre","abbreviation":"l"}'
expect "POST /uom (second unit)" 201
U_L=$(jf .id)

# PATCH changes the given fields only; PUT needs them all.
before_upd=$(jq -r .updated_at <<<"$U_KG_CREATED")
api PATCH "/uom/$U_KG" '{"abbreviation":"KGM"}'
expect "PATCH /uom/{id} abbreviation only" 200
ck "PATCH kept the name, changed the abbreviation" 'jt ".id == $U_KG and .name == \"Kilogram\" and .abbreviation == \"KGM\""'
ck "PATCH moved updated_at, kept created_at" \
    '[[ "$(jf .updated_at)" != "$before_upd" && "$(jf .created_at)" == "$(jq -r .created_at <<<"$U_KG_CREATED")" ]]'
api PATCH "/uom/$U_KG" '{}'
expect "PATCH /uom/{id} with no field" 200
ck "an empty PATCH changes nothing" 'jt ".name == \"Kilogram\" and .abbreviation == \"KGM\""'
api PATCH "/uom/$U_KG" '{"name":"litre"}'
expect "PATCH /uom/{id} to another unit's name" 409 "" name
api PUT "/uom/$U_KG" '{"name":"Kilogramme"}'
expect "PUT /uom/{id} without abbreviation" 422 "" abbreviation
api PUT "/uom/$U_KG" '{"name":"Kilogramme","abbreviation":"kgm"}'
expect "PUT /uom/{id}" 200
ck "PUT replaced both fields" 'jt ".id == $U_KG and .name == \"Kilogramme\" and .abbreviation == \"kgm\""'
api GET "/uom/$U_KG"
ck "GET after PUT shows the replacement" 'jt ".name == \"Kilogramme\" and .abbreviation == \"kgm\""'

# Unknown and malformed ids, wrong methods, no session.
for p in 999999999 0 -1 abc 1.5 1e3 99999999999999999999 "$U_KG%20"; do
    api GET "/uom/$p"
    expect "GET /uom/$p" 404 not_found
done
api PUT /uom/999999999 '{"name":"Nope","abbreviation":"n"}'
expect "PUT /uom/{unknown}" 404
api PATCH /uom/999999999 '{"name":"Nope"}'
expect "PATCH /uom/{unknown}" 404
api DELETE /uom/999999999
expect "DELETE /uom/{unknown}" 404
api DELETE /uom/abc
expect "DELETE /uom/abc" 404
api DELETE /uom
expect "DELETE /uom" 405 method_not_allowed
ck "405 on /uom lists GET, POST in Allow" '[[ "$(header Allow)" == "GET, POST" ]]'
api POST "/uom/$U_KG" '{"name":"x","abbreviation":"x"}'
expect "POST /uom/{id}" 405
ck "405 on /uom/{id} lists GET, PUT, PATCH, DELETE in Allow" \
    '[[ "$(header Allow)" == "GET, PUT, PATCH, DELETE" ]]'
call GET "$API/uom"
expect "GET /uom without a session" 401 unauthorized
call POST "$API/uom" -H 'Content-Type: application/json' --data-binary '{"name":"x","abbreviation":"x"}'
expect "POST /uom without a session" 401
call DELETE "$API/uom/$U_KG"
expect "DELETE /uom/{id} without a session" 401

api DELETE "/uom/$U_LONG"
expect "DELETE /uom/{id}" 204
ck "204 has no body" '[[ -z "$R_BODY" ]]'
api GET "/uom/$U_LONG"
expect "GET of the deleted unit" 404
api DELETE "/uom/$U_LONG"
expect "DELETE of the deleted unit again" 404

# --- categories ---
api POST /categories '{"name":"Tools","description":"Hand tools"}'
expect "POST /categories" 201
C_TOOLS=$(jf .id)
C_TOOLS_CREATED=$R_BODY
ck "category: id, name, description, product_count 0, timestamps" \
    'jt "keys == [\"created_at\",\"description\",\"id\",\"name\",\"product_count\",\"updated_at\"]
         and .name == \"Tools\" and .description == \"Hand tools\" and .product_count == 0"'
api POST /categories '{"name":"Paint"}'
expect "POST /categories without description" 201
C_PAINT=$(jf .id)
ck "a category without description reads description null" 'jt ".description == null"'
api GET "/categories/$C_TOOLS"
expect "GET /categories/{id}" 200
ck "GET /categories/{id} is the created object" '[[ "$R_BODY" == "$C_TOOLS_CREATED" ]]'
api GET /categories
expect "GET /categories" 200
ck "category list: items (both), total 2, limit 50, offset 0" \
    'jt ".total == 2 and .limit == 50 and .offset == 0 and ([.items[].id] | sort) == ([$C_TOOLS, $C_PAINT] | sort)"'
api GET "/categories?limit=1&offset=1"
expect "GET /categories?limit=1&offset=1" 200
ck "category page: one item, total 2, limit 1, offset 1" \
    'jt ".total == 2 and .limit == 1 and .offset == 1 and (.items | length) == 1"'
api POST /categories '{"name":"TOOLS"}'
expect "POST /categories with a duplicate name" 409 "" name
api POST /categories "$(js '{name: "Long desc", description: ("d" * 2001)}')"
expect "POST /categories with a 2001-character description" 422 "" description
api PATCH "/categories/$C_TOOLS" '{"name":"Hand Tools"}'
expect "PATCH /categories/{id} name only" 200
ck "PATCH kept the description" 'jt ".name == \"Hand Tools\" and .description == \"Hand tools\""'
api PATCH "/categories/$C_TOOLS" '{"description":"All tools"}'
expect "PATCH /categories/{id} description only" 200
ck "PATCH kept the name" 'jt ".name == \"Hand Tools\" and .description == \"All tools\""'
api PUT "/categories/$C_TOOLS" '{"name":"Tools"}'
expect "PUT /categories/{id} without description" 200
ck "PUT without description clears it (replace)" 'jt ".name == \"Tools\" and .description == null"'
api PUT "/categories/$C_TOOLS" '{"description":"x"}'
expect "PUT /categories/{id} without name" 422 "" name
api PATCH "/categories/$C_TOOLS" '{"name":"paint"}'
expect "PATCH /categories/{id} to another category's name" 409 "" name
api PATCH "/categories/$C_TOOLS" '{"description":"Hand tools"}'
api GET /categories/abc
expect "GET /categories/abc" 404
api GET /categories/999999999
expect "GET /categories/{unknown}" 404
api PUT /categories/999999999 '{"name":"Nope"}'
expect "PUT /categories/{unknown}" 404
api PATCH /categories/999999999 '{"name":"Nope"}'
expect "PATCH /categories/{unknown}" 404
api DELETE /categories/999999999
expect "DELETE /categories/{unknown}" 404
api PATCH /categories
expect "PATCH /categories" 405
ck "405 on /categories lists GET, POST" '[[ "$(header Allow)" == "GET, POST" ]]'
api POST /categories '{"name":"Temp"}'
C_TEMP=$(jf .id)
api DELETE "/categories/$C_TEMP"
expect "DELETE /categories/{id}" 204
api GET "/categories/$C_TEMP"
expect "GET of the deleted category" 404

# --- products ---
api POST /products "$(js '{sku: "HAM-1", name: "Hammer", category_id: $c, uom_id: $u,
    price: 12.5, cost: "3.25", stock: 10, min_stock: "2.5"}' c="$C_TOOLS" u="$U_KG")"
expect "POST /products" 201
P_HAM=$(jf .id)
P_HAM_CREATED=$R_BODY
ck "product: id, sku, name, category, uom, price, cost, stock, min_stock, timestamps" \
    'jt "keys == [\"category\",\"cost\",\"created_at\",\"id\",\"min_stock\",\"name\",\"price\",\"sku\",\"stock\",\"uom\",\"updated_at\"]"'
ck "product references are embedded: category {id, name}, uom {id, name, abbreviation}" \
    'jt ".category == {id: $C_TOOLS, name: \"Tools\"} and .uom == {id: $U_KG, name: \"Kilogramme\", abbreviation: \"kgm\"}"'
ck "money as strings with 2 decimals, quantities with 3" \
    'jt ".price == \"12.50\" and .cost == \"3.25\" and .stock == \"10.000\" and .min_stock == \"2.500\""'
ck "product timestamps are ISO 8601 with offset" '[[ "$(jf .created_at)" =~ $TS_RE && "$(jf .updated_at)" =~ $TS_RE ]]'
api GET "/products/$P_HAM"
expect "GET /products/{id}" 200
ck "GET /products/{id} is the created object" '[[ "$R_BODY" == "$P_HAM_CREATED" ]]'
api POST /products "$(js '{sku: "SAW-1", name: "Saw", category_id: null, uom_id: $u, price: "7"}' u="$U_L")"
expect "POST /products with category_id null and only the required fields" 201
P_SAW=$(jf .id)
ck "defaults: category null, cost 0.00, stock 0.000, min_stock 0.000; price 7.00" \
    'jt ".category == null and .cost == \"0.00\" and .stock == \"0.000\" and .min_stock == \"0.000\" and .price == \"7.00\""'
api GET /products
expect "GET /products" 200
ck "product list: both, total 2, limit 50, offset 0" \
    'jt ".total == 2 and .limit == 50 and .offset == 0 and ([.items[].id] | sort) == ([$P_HAM, $P_SAW] | sort)"'
ck "a list item is the same object as GET /products/{id}" \
    '[[ "$(jf ".items[] | select(.id == $P_HAM)" -c -S)" == "$(jq -c -S . <<<"$P_HAM_CREATED")" ]]'
api GET "/categories/$C_TOOLS"
ck "category product_count counts its products (1)" 'jt ".product_count == 1"'

api POST /products "$(pbody sku '"ham-1"' name '"Other hammer"')"
expect "POST /products with a duplicate SKU (other case)" 409 "" sku
# Body validation, case by case: tests/unit/test_api_in.c. Here a few, end to end.
for bad in '"12.345"' -1 '"NaN"'; do
    api POST /products "$(pbody price "$bad")"
    expect "POST /products with price $bad" 422 "" price
done
api POST /products "$(pbody price -)"
expect "POST /products without price" 422 "" price
# A JSON number with an exponent is a number like any other, read exactly.
api POST /products "$(pbody sku '"EXP-1"' price 1.25e1)"
expect "POST /products with price 1.25e1" 201
ck "price 1.25e1 reads back as 12.50" 'jt ".price == \"12.50\""'
api DELETE "/products/$(jf .id)"
expect "DELETE the exponent product" 204
api POST /products "$(pbody stock '"1.2345"')"
expect "POST /products with stock of 4 decimals" 422 "" stock
api POST /products "$(pbody stock 1.234 min_stock '"0.001"' price 0 cost '"0"')"
expect "POST /products with 3-decimal quantities, price 0" 201
ck "3-decimal quantities are kept exactly, zero money is 0.00" \
    'jt ".stock == \"1.234\" and .min_stock == \"0.001\" and .price == \"0.00\" and .cost == \"0.00\""'
api DELETE "/products/$(jf .id)"
# An id the validator accepts, of no unit or category of the tenant: refused by the service.
for bad in '"1"' 999999999; do
    api POST /products "$(pbody uom_id "$bad")"
    expect "POST /products with uom_id $bad" 422 "" uom_id
done
api POST /products "$(pbody category_id 999999999)"
expect "POST /products with category_id 999999999" 422 "" category_id
api POST /products "$(pbody sku "\"$(printf 's%.0s' {1..65})\"")"
expect "POST /products with a 65-character SKU" 422 "" sku

# PATCH changes the given fields only.
api PATCH "/products/$P_HAM" '{"price":"15"}'
expect "PATCH /products/{id} price only" 200
ck "PATCH changed price only (all other fields as created)" \
    '[[ "$(jf "del(.price, .updated_at)" -c -S)" == "$(jq -c -S "del(.price, .updated_at)" <<<"$P_HAM_CREATED")" ]] &&
     jt ".price == \"15.00\""'
api PATCH "/products/$P_HAM" "$(js '{uom_id: $u, stock: "4.5"}' u="$U_L")"
expect "PATCH /products/{id} uom and stock" 200
ck "PATCH set uom and stock, kept category and cost" \
    'jt ".uom.id == $U_L and .stock == \"4.500\" and .category.id == $C_TOOLS and .cost == \"3.25\" and .sku == \"HAM-1\""'
api PATCH "/products/$P_HAM" '{"category_id":null}'
expect "PATCH /products/{id} category_id null" 200
ck "PATCH category_id null removes the category only" \
    'jt ".category == null and .price == \"15.00\" and .uom.id == $U_L and .min_stock == \"2.500\""'
api PATCH "/products/$P_HAM" '{"sku":"saw-1"}'
expect "PATCH /products/{id} to another product's SKU" 409 "" sku
api PATCH "/products/$P_HAM" '{"price":null}'
expect "PATCH /products/{id} with price null" 422 "" price
api PATCH "/products/$P_HAM" '{"uom_id":999999999}'
expect "PATCH /products/{id} with an unknown uom_id" 422 "" uom_id
api PATCH "/products/$P_HAM" "$(js '{category_id: $c}' c="$C_TOOLS")"
expect "PATCH /products/{id} category back" 200

# PUT replaces: what is left out goes back to its default.
api PUT "/products/$P_HAM" "$(js '{sku: "HAM-2", name: "Claw hammer", uom_id: $u, price: "20.00"}' u="$U_KG")"
expect "PUT /products/{id} with the required fields only" 200
ck "PUT replaced sku, name, uom, price and reset category (null), cost, min_stock" \
    'jt ".id == $P_HAM and .sku == \"HAM-2\" and .name == \"Claw hammer\" and .uom.id == $U_KG and .price == \"20.00\"
         and .category == null and .cost == \"0.00\" and .min_stock == \"0.000\""'
api PUT "/products/$P_HAM" "$(js '{sku: "HAM-2", name: "Claw hammer", uom_id: $u}' u="$U_KG")"
expect "PUT /products/{id} without price" 422 "" price
api PUT "/products/$P_HAM" "$(js '{sku: "HAM-2", name: "Claw hammer", uom_id: $u, price: "20.00",
    category_id: $c, cost: "9.99", stock: 3, min_stock: 5}' u="$U_KG" c="$C_TOOLS")"
expect "PUT /products/{id} with every field" 200
ck "PUT set every field" \
    'jt ".category.id == $C_TOOLS and .cost == \"9.99\" and .stock == \"3.000\" and .min_stock == \"5.000\""'
api GET "/products/$P_HAM"
ck "GET after PUT shows it" 'jt ".sku == \"HAM-2\" and .cost == \"9.99\" and .category.name == \"Tools\""'

api GET /products/999999999
expect "GET /products/{unknown}" 404
api GET /products/abc
expect "GET /products/abc" 404
api PUT /products/999999999 "$(js '{sku: "Z", name: "Z", uom_id: $u, price: 1}' u="$U_KG")"
expect "PUT /products/{unknown}" 404
api PATCH /products/999999999 '{"name":"Z"}'
expect "PATCH /products/{unknown}" 404
api DELETE /products/999999999
expect "DELETE /products/{unknown}" 404
api PUT /products '{}'
expect "PUT /products" 405
ck "405 on /products lists GET, POST" '[[ "$(header Allow)" == "GET, POST" ]]'
call GET "$API/products"
expect "GET /products without a session" 401

# In use: a unit or category referenced by a product cannot be deleted.
api DELETE "/uom/$U_KG"
expect "DELETE of a unit in use" 409 in_use
api DELETE "/categories/$C_TOOLS"
expect "DELETE of a category in use" 409 in_use
api GET "/uom/$U_KG"
expect "the unit in use is still there" 200
api DELETE "/products/$P_SAW"
expect "DELETE /products/{id}" 204
api GET "/products/$P_SAW"
expect "GET of the deleted product" 404
api DELETE "/uom/$U_L"
expect "DELETE of a unit no longer in use" 204

# --- list filters (tenant F holds exactly these products) ---
TOKEN_A=$TOKEN
session "$SLUG_F" admin@f.test "$PW"
TOKEN=$S_TOKEN
mk /uom '{"name":"Piece","abbreviation":"pc"}'
FU=$MK_ID
mk /categories '{"name":"Widgets"}'
FC1=$MK_ID
mk /categories '{"name":"Gadgets"}'
FC2=$MK_ID
mk /products "$(js '{sku: "W-PCT", name: "Widget 50% off", category_id: $c, uom_id: $u, price: 1, stock: 10, min_stock: 2}' c="$FC1" u="$FU")"
mk /products "$(js '{sku: "W-50", name: "Widget 50 off", category_id: $c, uom_id: $u, price: 1, stock: 1, min_stock: 5}' c="$FC1" u="$FU")"
mk /products "$(js '{sku: "G-AB", name: "Gadget a_b", category_id: $c, uom_id: $u, price: 1, stock: 0}' c="$FC2" u="$FU")"
mk /products "$(js '{sku: "G-AXB", name: "Gadget axb", uom_id: $u, price: 1, stock: "0.001"}' u="$FU")"
mk /products "$(js '{sku: "X%_Y\\z", name: "Bolt", uom_id: $u, price: 1, stock: 3}' u="$FU")"
mk /products "$(js '{sku: "SQL-1", name: "O'"'"'Brien; DROP TABLE products; --", uom_id: $u, price: 1, stock: 5, min_stock: 5}' u="$FU")"
ALL6="Bolt|Gadget a_b|Gadget axb|O'Brien; DROP TABLE products; --|Widget 50 off|Widget 50% off"

# plist QUERY EXPECTED: GET /products?QUERY answers 200 with exactly the names EXPECTED.
plist()
{
    api GET "/products?$1"
    if [[ "$R_STATUS" == 200 && "$(names_of)" == "$2" ]] && jt ".total == (.items | length)"; then
        t_ok "GET /products?$1 -> ${2:-nothing}"
    else
        t_not_ok "GET /products?$1 -> ${2:-nothing}" "got $R_STATUS: $(names_of) / $(snip)"
    fi
}
plist "" "$ALL6"
plist "stock=all" "$ALL6"
plist "q=$(urlenc '50%')" "Widget 50% off"
plist "q=50" "Widget 50 off|Widget 50% off"
plist "q=$(urlenc '%')" "Bolt|Widget 50% off"
plist "q=a_b" "Gadget a_b"
plist "q=_" "Bolt|Gadget a_b"
plist "q=$(urlenc 'x%_')" "Bolt"
plist "q=$(urlenc '\')" "Bolt"
plist "q=WIDGET" "Widget 50 off|Widget 50% off"
plist "q=g-ax" "Gadget axb"
plist "q=$(urlenc "' OR '1'='1")" ""
plist "q=$(urlenc "; DROP TABLE products; --")" "O'Brien; DROP TABLE products; --"
plist "q=$(urlenc "o'brien")" "O'Brien; DROP TABLE products; --"
plist "q=nothing-matches" ""
plist "q=" "$ALL6"
plist "stock=in" "Bolt|Gadget axb|O'Brien; DROP TABLE products; --|Widget 50 off|Widget 50% off"
plist "stock=low" "O'Brien; DROP TABLE products; --|Widget 50 off"
plist "stock=out" "Gadget a_b"
plist "category_id=$FC1" "Widget 50 off|Widget 50% off"
plist "category_id=$FC2" "Gadget a_b"
plist "category_id=$FC1&stock=low" "Widget 50 off"
plist "q=widget&stock=in&category_id=$FC1" "Widget 50 off|Widget 50% off"
plist "q=gadget&stock=out" "Gadget a_b"
plist "category_id=$C_TOOLS" ""
api GET /products
FULL_ORDER=$(jf '[.items[].id]' -c)
api GET "/products?limit=2&offset=1"
expect "GET /products?limit=2&offset=1" 200
ck "page limit=2 offset=1: the 2nd and 3rd items of the full list, total 6" \
    'jt ".total == 6 and .limit == 2 and .offset == 1 and [.items[].id] == (\$full[1:3])" --argjson full "$FULL_ORDER"'
api GET "/products?limit=1&offset=5"
ck "page limit=1 offset=5: the last item" \
    'jt ".total == 6 and [.items[].id] == (\$full[5:6])" --argjson full "$FULL_ORDER"'
api GET "/products?offset=6"
ck "offset past the end: no items, total 6" 'jt ".items == [] and .total == 6 and .offset == 6 and .limit == 50"'
api GET "/products?limit=200"
expect "GET /products?limit=200" 200
api GET "/products?limit=1"
expect "GET /products?limit=1" 200
for l in 0 201 abc -1 1.5 "" 123456789012345678901234567890 "1%20"; do
    api GET "/products?limit=$l"
    expect "GET /products?limit=$l" 422 "" limit
done
for o in -1 x 1.5; do
    api GET "/products?offset=$o"
    expect "GET /products?offset=$o" 422 "" offset
done
for s in bogus IN "low,out"; do
    api GET "/products?stock=$s"
    expect "GET /products?stock=$s" 422 "" stock
done
for c in abc 0 -2; do
    api GET "/products?category_id=$c"
    expect "GET /products?category_id=$c" 422 "" category_id
done
api GET "/uom?limit=0"
expect "GET /uom?limit=0" 422 "" limit
api GET "/categories?limit=201"
expect "GET /categories?limit=201" 422 "" limit
api GET "/uom?offset=-1"
expect "GET /uom?offset=-1" 422 "" offset
api GET "/products?q=$(printf 'q%.0s' {1..201})"
expect "GET /products with a 201-byte q" 422 "" q
TOKEN_F=$TOKEN
TOKEN=$TOKEN_A

# =============================================================================================
# 4. Tenant isolation
# =============================================================================================
section "4. Tenant isolation"
api POST /uom '{"name":"'"$AM"' unit","abbreviation":"am"}'
A_U=$(jf .id)
api POST /categories '{"name":"'"$AM"' category","description":"'"$AM"'"}'
A_C=$(jf .id)
api POST /products "$(js '{sku: "AMARK-1", name: "'"$AM"' product", category_id: $c, uom_id: $u, price: "5.00", stock: 7}' c="$A_C" u="$A_U")"
A_P=$(jf .id)
ck "tenant A fixtures created" '[[ "$A_U" =~ ^[0-9]+$ && "$A_C" =~ ^[0-9]+$ && "$A_P" =~ ^[0-9]+$ ]]'
declare -A A_SNAP
for r in "uom/$A_U" "categories/$A_C" "products/$A_P"; do
    api GET "/$r"
    A_SNAP[$r]=$R_BODY
done

session "$SLUG_B" admin@b.test "$PW"
TOKEN_B=$S_TOKEN
ck "tenant B signs in" '[[ -n "$TOKEN_B" ]]'
TOKEN=$TOKEN_B
mk /uom '{"name":"'"$BM"' unit","abbreviation":"bm"}'
B_U=$MK_ID
mk /categories '{"name":"'"$BM"' category"}'
B_C=$MK_ID
mk /products "$(js '{sku: "BMARK-1", name: "'"$BM"' product", category_id: $c, uom_id: $u, price: 1}' c="$B_C" u="$B_U")"
B_P=$MK_ID

declare -A BODY_PUT=(
    [uom]='{"name":"'"$BM"' stolen","abbreviation":"bs"}'
    [categories]='{"name":"'"$BM"' stolen","description":"stolen"}'
    [products]="$(js '{sku: "BMARK-X", name: "'"$BM"' stolen", uom_id: $u, price: 1}' u="$B_U")"
)
declare -A BODY_PATCH=(
    [uom]='{"name":"'"$BM"' stolen"}'
    [categories]='{"name":"'"$BM"' stolen"}'
    [products]='{"name":"'"$BM"' stolen","price":"0.01"}'
)
for r in "uom/$A_U" "categories/$A_C" "products/$A_P"; do
    res=${r%/*}
    api GET "/$r"
    expect "tenant B: GET /$r of tenant A" 404 not_found
    api PUT "/$r" "${BODY_PUT[$res]}"
    expect "tenant B: PUT /$r of tenant A" 404 not_found
    api PATCH "/$r" "${BODY_PATCH[$res]}"
    expect "tenant B: PATCH /$r of tenant A" 404 not_found
done
# Deletes last, product first (so that an in_use could not hide a missing tenant check).
for r in "products/$A_P" "categories/$A_C" "uom/$A_U"; do
    api DELETE "/$r"
    expect "tenant B: DELETE /$r of tenant A" 404 not_found
done
api GET /uom
ck "tenant B's unit list: only its own unit" 'jt ".total == 1 and [.items[].id] == [$B_U]"'
api GET /categories
ck "tenant B's category list: only its own category" 'jt ".total == 1 and [.items[].id] == [$B_C]"'
api GET /products
ck "tenant B's product list: only its own product" 'jt ".total == 1 and [.items[].id] == [$B_P]"'
api GET "/products?q=amark"
ck "tenant B searching tenant A's names finds nothing" 'jt ".total == 0 and .items == []"'
api GET "/products?category_id=$A_C"
ck "tenant B filtering on tenant A's category finds nothing" 'jt ".total == 0 and .items == []"'
api POST /products "$(js '{sku: "BMARK-2", name: "'"$BM"' 2", category_id: $c, uom_id: $u, price: 1}' c="$A_C" u="$B_U")"
expect "tenant B: product with tenant A's category" 422 "" category_id
api POST /products "$(js '{sku: "BMARK-3", name: "'"$BM"' 3", uom_id: $u, price: 1}' u="$A_U")"
expect "tenant B: product with tenant A's unit" 422 "" uom_id
api PATCH "/products/$B_P" "$(js '{category_id: $c}' c="$A_C")"
expect "tenant B: PATCH own product to tenant A's category" 422 "" category_id
api PUT "/products/$B_P" "$(js '{sku: "BMARK-1", name: "'"$BM"' product", uom_id: $u, price: 1}' u="$A_U")"
expect "tenant B: PUT own product with tenant A's unit" 422 "" uom_id
api GET /me
ck "tenant B's /me is tenant B" 'jt ".tenant.id == $B_ID and .tenant.slug == \"$SLUG_B\""'

TOKEN=$TOKEN_A
for r in "uom/$A_U" "categories/$A_C" "products/$A_P"; do
    api GET "/$r"
    ck "tenant A's /$r is unchanged after tenant B's attempts" '[[ "$R_STATUS" == 200 && "$R_BODY" == "${A_SNAP[$r]}" ]]'
done
api GET /products
ck "tenant A's lists show none of tenant B's rows" '[[ "$R_STATUS" == 200 ]] && jt "[.items[].id] | index($A_P) != null" && ! grep -q "$BM" <<<"$R_BODY"'

# The tenant in the token prefix cannot be swapped.
SWAPPED="s${A_ID}.${TOKEN_B#*.}"
api_as "$SWAPPED" GET /me
expect "tenant B's token with tenant A's id in its prefix" 401 unauthorized
api_as "$SWAPPED" GET /uom
expect "the swapped token on GET /uom" 401
api_as "s999999999.${TOKEN_B#*.}" GET /me
expect "tenant B's token with an unknown tenant id in its prefix" 401
call GET "$API/products" -H "Cookie: stock_session=$SWAPPED"
expect "the swapped token as a cookie" 401

# Redis: tenant B's keys carry its id; none of A's keys holds B's data, and the other way.
redis_keys()
{
    $REDISCTL cli --scan --pattern "$PREFIX:tenant:$1:*" 2>/dev/null | sort
}
# redis_keys_with PATTERN TEXT: the string keys matching PATTERN whose value contains TEXT
# (a Lua script: one round trip, whatever Redis holds; KEYS is fine in a test).
redis_keys_with()
{
    $REDISCTL cli --raw EVAL "local r = {}
        for _, k in ipairs(redis.call('KEYS', ARGV[1])) do
            if redis.call('TYPE', k).ok == 'string' and
                string.find(redis.call('GET', k), ARGV[2], 1, true) then r[#r + 1] = k end
        end
        return r" 0 "$1" "$2" 2>&1
}
has_modules()
{
    local m
    for m in "$@"; do
        grep -q "^$PREFIX:tenant:$B_ID:$m:" <<<"$B_KEYS" || return 1
    done
}
TOKEN=$TOKEN_B
warm /uom
warm /categories
warm /products
warm "/products/$B_P"
TOKEN=$TOKEN_A
warm /products
warm "/products/$A_P"
B_KEYS=$(redis_keys "$B_ID")
ck "tenant B has cached keys of uom, categories, products under $PREFIX:tenant:$B_ID: ($(grep -c . <<<"$B_KEYS") keys)" \
    'has_modules uom categories products'
ck "every key of tenant B has a module and a key after its id" \
    '! grep -vE "^$PREFIX:tenant:$B_ID:[a-z_]+:.+" <<<"$B_KEYS"'
ck "tenant B's cached values hold its data" \
    'redis_keys_with "$PREFIX:tenant:$B_ID:*" "$BM product" | grep -q "^$PREFIX:tenant:$B_ID:products:"'
ck "tenant A's cached values hold its data" \
    'redis_keys_with "$PREFIX:tenant:$A_ID:*" "$AM product" | grep -q "^$PREFIX:tenant:$A_ID:products:"'
ck "no key of tenant B holds tenant A's data" \
    '[[ -z "$(redis_keys_with "$PREFIX:tenant:$B_ID:*" $AM)" ]]'
ck "no key of tenant A holds tenant B's data" \
    '[[ -z "$(redis_keys_with "$PREFIX:tenant:$A_ID:*" $BM)" ]]'
BMARK_KEYS=$(redis_keys_with "$PREFIX:*" $BM)
ck "every Redis key holding tenant B's data is under $PREFIX:tenant:$B_ID: ($(grep -c . <<<"$BMARK_KEYS") keys)" \
    '[[ -n "$BMARK_KEYS" ]] && ! grep -v "^$PREFIX:tenant:$B_ID:" <<<"$BMARK_KEYS" | grep -q .'

# =============================================================================================
# 5. The cache through HTTP (tenant A)
# =============================================================================================
section "5. The cache through HTTP (tenant A)"
TOKEN=$TOKEN_A
api POST /uom '{"name":"Cache unit","abbreviation":"cu"}'
CU=$(jf .id)
api GET /uom
ck "after a write, the unit list is a MISS" '[[ "$R_STATUS" == 200 && "$(header X-Cache)" == MISS ]]'
ck "the MISS shows the new unit" 'jt "[.items[].id] | index($CU) != null"'
MISS_BODY=$R_BODY
api GET /uom
ck "the next unit list read is a HIT" '[[ "$R_STATUS" == 200 && "$(header X-Cache)" == HIT ]]'
ck "the HIT answers the same JSON as the MISS" '[[ "$R_BODY" == "$MISS_BODY" ]]'
api GET "/uom/$CU"
ck "a unit read: MISS first" '[[ "$(header X-Cache)" == MISS ]]'
api GET "/uom/$CU"
ck "a unit read: then HIT" '[[ "$R_STATUS" == 200 && "$(header X-Cache)" == HIT ]] && jt ".id == $CU"'
api GET "/categories?limit=7"
api GET "/categories?limit=7"
ck "the category list is cached (HIT)" '[[ "$(header X-Cache)" == HIT ]] && jt ".limit == 7"'
api GET "/products?q=amark&limit=9"
ck "a product list with new filters: MISS" '[[ "$(header X-Cache)" == MISS ]]'
api GET "/products?q=amark&limit=9"
ck "the same filters again: HIT" '[[ "$(header X-Cache)" == HIT ]] && jt ".total == 1 and .limit == 9"'
api GET "/products?q=AMARK&limit=9&stock=out"
ck "other filters are another entry (not the previous HIT's answer)" 'jt ".total == 0"'

# A hit costs no database query (/metrics does none itself). A cached read may also carry the
# host's poll of the invalidation outbox (every 250 ms, core/cache_outbox.c): at most three
# statements (list the host, read the outbox, delete what it applied), counted by its metrics.
polls()
{
    echo $(($(metric stock_cache_outbox_polls_total) + $(metric stock_cache_outbox_poll_failures_total)))
}
# no_query_but_polls Q0 Q1 P0 P1: the queries between Q0 and Q1 are those of the polls only.
no_query_but_polls()
{
    [[ -n "$1" && -n "$2" ]] && (($2 - $1 <= 3 * ($4 - $3) && $4 - $3 <= 1))
}
warm /products
q0=$(metric stock_db_queries_total)
p0=$(polls)
h0=$(metric 'stock_cache_hits_total{module="products"}')
api GET /products
q1=$(metric stock_db_queries_total)
p1=$(polls)
h1=$(metric 'stock_cache_hits_total{module="products"}')
ck "the product list is a HIT" '[[ "$R_STATUS" == 200 && "$(header X-Cache)" == HIT ]]'
ck "that HIT ran no database query but an outbox poll's (queries $q0 -> $q1, polls $p0 -> $p1)" 'no_query_but_polls "$q0" "$q1" "$p0" "$p1"'
ck "that HIT counted in stock_cache_hits_total{module=\"products\"} ($h0 -> $h1)" \
    '[[ -n "$h0" && -n "$h1" ]] && ((h1 == h0 + 1))'
api GET /uom
uom_cache=$(header X-Cache)
q2=$(metric stock_db_queries_total)
p2=$(polls)
ck "/metrics itself runs no query, nor does a unit list HIT but its poll's (queries $q1 -> $q2, polls $p1 -> $p2)" \
    '[[ "$uom_cache" == HIT ]] && no_query_but_polls "$q1" "$q2" "$p1" "$p2"'
api POST /uom '{"name":"Query counter unit","abbreviation":"qc"}'
q3=$(metric stock_db_queries_total)
ck "a write does run queries ($q2 -> $q3), so the counter works" '[[ -n "$q3" ]] && ((q3 > q2))'

# Not found is cached too.
api GET /products/987654321
expect "GET /products/{unknown} (first)" 404 not_found
q4=$(metric stock_db_queries_total)
p4=$(polls)
api GET /products/987654321
expect "GET /products/{unknown} (second)" 404 not_found
q5=$(metric stock_db_queries_total)
p5=$(polls)
ck "the second 404 for an unknown id carries X-Cache: HIT (got '$(header X-Cache)')" '[[ "$(header X-Cache)" == HIT ]]'
ck "the second 404 ran no database query but an outbox poll's (queries $q4 -> $q5, polls $p4 -> $p5)" 'no_query_but_polls "$q4" "$q5" "$p4" "$p5"'

# No stale read after any write. Every read below was cached just before the write.
api POST /categories '{"name":"Cache cat"}'
CC=$(jf .id)
api POST /categories '{"name":"Cache cat 2"}'
CC2=$(jf .id)
api POST /uom '{"name":"Cache unit 2","abbreviation":"c2"}'
CU2=$(jf .id)

warm /uom
api POST /uom '{"name":"Cache unit 3","abbreviation":"c3"}'
CU3=$(jf .id)
api GET /uom
ck "unit create -> the unit list shows it" 'jt "[.items[].id] | index($CU3) != null"'

warm /categories
warm "/categories/$CC"
api POST /products "$(js '{sku: "CACHE-1", name: "Cache product", category_id: $c, uom_id: $u, price: "2.00", stock: 3}' c="$CC" u="$CU")"
CP=$(jf .id)
api GET "/categories/$CC"
ck "product create -> its category's product_count (item) is 1" 'jt ".product_count == 1"'
api GET /categories
ck "product create -> product_count in the category list is 1" 'jt ".items[] | select(.id == $CC) | .product_count == 1"'

warm /products
warm "/products/$CP"
warm "/uom/$CU"
api PATCH "/uom/$CU" '{"name":"Cache unit renamed","abbreviation":"cur"}'
api GET /products
ck "unit rename -> the product list shows the new unit name" \
    'jt ".items[] | select(.id == $CP) | .uom == {id: $CU, name: \"Cache unit renamed\", abbreviation: \"cur\"}"'
api GET "/products/$CP"
ck "unit rename -> the product shows the new unit name" 'jt ".uom.name == \"Cache unit renamed\""'
api GET "/uom/$CU"
ck "unit rename -> the unit shows it" 'jt ".name == \"Cache unit renamed\""'
api GET /uom
ck "unit rename -> the unit list shows it" 'jt ".items[] | select(.id == $CU) | .name == \"Cache unit renamed\""'

warm /products
warm "/products/$CP"
warm "/categories/$CC"
api PUT "/categories/$CC" '{"name":"Cache cat renamed","description":"new"}'
api GET /products
ck "category rename -> the product list shows the new category name" \
    'jt ".items[] | select(.id == $CP) | .category == {id: $CC, name: \"Cache cat renamed\"}"'
api GET "/products/$CP"
ck "category rename -> the product shows it" 'jt ".category.name == \"Cache cat renamed\""'
api GET "/categories/$CC"
ck "category rename -> the category shows it" 'jt ".name == \"Cache cat renamed\" and .description == \"new\""'
warm "/products?category_id=$CC"

warm /products
warm "/products/$CP"
warm "/categories/$CC2"
warm "/products?category_id=$CC2"
api PATCH "/products/$CP" "$(js '{price: "9.99", category_id: $c}' c="$CC2")"
api GET "/products/$CP"
ck "product update -> the product shows it" 'jt ".price == \"9.99\" and .category.id == $CC2"'
api GET /products
ck "product update -> the product list shows it" 'jt ".items[] | select(.id == $CP) | .price == \"9.99\""'
api GET "/categories/$CC"
ck "product moved -> the old category's product_count is 0" 'jt ".product_count == 0"'
api GET "/categories/$CC2"
ck "product moved -> the new category's product_count is 1" 'jt ".product_count == 1"'
api GET "/products?category_id=$CC"
ck "product moved -> the old category filter no longer lists it" 'jt ".total == 0"'
api GET "/products?category_id=$CC2"
ck "product moved -> the new category filter lists it" 'jt "[.items[].id] == [$CP]"'

warm /uom
warm "/uom/$CU3"
api DELETE "/uom/$CU3"
api GET /uom
ck "unit delete -> the unit list no longer shows it" 'jt "[.items[].id] | index($CU3) == null"'
api GET "/uom/$CU3"
expect "unit delete -> GET of it" 404

warm /categories
warm "/categories/$CC"
api DELETE "/categories/$CC"
api GET /categories
ck "category delete -> the category list no longer shows it" 'jt "[.items[].id] | index($CC) == null"'
api GET "/categories/$CC"
expect "category delete -> GET of it" 404

warm /products
warm "/products/$CP"
warm "/categories/$CC2"
api DELETE "/products/$CP"
api GET /products
ck "product delete -> the product list no longer shows it" 'jt "[.items[].id] | index($CP) == null"'
api GET "/products/$CP"
expect "product delete -> GET of it" 404
api GET "/categories/$CC2"
ck "product delete -> its category's product_count is 0" 'jt ".product_count == 0"'

# An empty search result, cached: after a create the same search finds the new product.
warm "/products?q=fresh-$SUF"
api POST /products "$(js '{sku: "FRESH-1", name: ("fresh-" + $s), uom_id: $u, price: 1}' u="$CU" s="\"$SUF\"")"
FRESH=$(jf .id)
api GET "/products?q=fresh-$SUF"
ck "product create -> a cached empty search now finds it" 'jt "[.items[].id] == [$FRESH]"'

# =============================================================================================
# 6. Redis stopped, then back
# =============================================================================================
section "6. Redis stopped, then back"
api POST /categories '{"name":"Outage cat"}'
OC=$(jf .id)
api POST /products "$(js '{sku: "OUT-1", name: "Outage before", category_id: $c, uom_id: $u, price: 1}' c="$OC" u="$CU")"
OP=$(jf .id)
warm /products
LIST_BEFORE=$R_BODY
ck "before the outage the product list is a HIT" '[[ "$(header X-Cache)" == HIT ]]'
warm "/products/$OP"
warm "/categories/$OC"
warm /categories
if $REDISCTL stop >/dev/null 2>&1; then
    t_ok "redisctl stop"
    api GET /products
    expect "with Redis stopped, GET /products" 200
    ck "with Redis stopped, the product list is the same JSON" '[[ "$R_BODY" == "$LIST_BEFORE" ]]'
    ck "with Redis stopped, the product list says X-Cache: MISS (got '$(header X-Cache)')" '[[ "$(header X-Cache)" == MISS ]]'
    api GET /me
    expect "with Redis stopped, sessions still work (GET /me)" 200
    api POST /products "$(js '{sku: "OUT-2", name: "Outage during", category_id: $c, uom_id: $u, price: 2}' c="$OC" u="$CU")"
    expect "with Redis stopped, POST /products" 201
    OP2=$(jf .id)
    api PATCH "/categories/$OC" '{"name":"Outage cat renamed"}'
    expect "with Redis stopped, PATCH /categories/{id}" 200
    api PATCH "/products/$OP" '{"price":"3.33"}'
    expect "with Redis stopped, PATCH /products/{id}" 200
    api GET /products
    ck "with Redis stopped, the list shows the writes" \
        'jt "([.items[].id] | index($OP2) != null) and (.items[] | select(.id == $OP) | .price == \"3.33\" and .category.name == \"Outage cat renamed\")"'
    session "$SLUG_A" admin@a.test "$PW"
    ck "with Redis stopped, sign-in works" '[[ -n "$S_TOKEN" ]]'
    api_as "$S_TOKEN" POST /auth/logout
    expect "with Redis stopped, logout" 204
    api_as "$S_TOKEN" GET /me
    expect "with Redis stopped, the logged-out token is dead" 401
else
    t_not_ok "redisctl stop"
fi
if $REDISCTL start >/dev/null 2>&1; then
    t_ok "redisctl start"
    api GET /products
    ck "Redis back: the product list shows at once the product created during the outage" \
        '[[ "$R_STATUS" == 200 ]] && jt "[.items[].id] | index(${OP2:-0}) != null"'
    ck "Redis back: the list shows the price and category changed during the outage" \
        'jt ".items[] | select(.id == $OP) | .price == \"3.33\" and .category.name == \"Outage cat renamed\""'
    api GET "/products/$OP"
    ck "Redis back: the product (cached before the outage) shows the changes" \
        'jt ".price == \"3.33\" and .category.name == \"Outage cat renamed\""'
    api GET "/categories/$OC"
    ck "Redis back: the category (cached before the outage) shows the rename and count 2" \
        'jt ".name == \"Outage cat renamed\" and .product_count == 2"'
    api GET /categories
    ck "Redis back: the category list shows the rename" \
        'jt ".items[] | select(.id == $OC) | .name == \"Outage cat renamed\""'
    hit_again()
    {
        api GET /products
        [[ "$(header X-Cache)" == HIT ]]
    }
    ck "Redis back: the product list is served from the cache again (HIT within 35 s)" 'wait_for 35 hit_again'
    ck "and that HIT is current" 'jt "[.items[].id] | index(${OP2:-0}) != null"'
else
    t_not_ok "redisctl start"
fi

section "6b. Redis hung during a write"
# Redis hung (SIGSTOP: same server, same run id, its entries kept) during a write: the
# invalidation cannot reach it, yet once it answers again no worker serves the old entry.
warm "/products/$OP"
ck "before the hang the product is a HIT with price 3.33" \
    '[[ "$(header X-Cache)" == HIT ]] && jt ".price == \"3.33\""'
warm /products
if $REDISCTL pause 20000 >/dev/null 2>&1; then
    t_ok "redisctl pause"
    t0=$(date +%s%N)
    api PATCH "/products/$OP" '{"price":"4.44"}'
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect "with Redis hung, PATCH /products/{id} (took $ms ms)" 200
    ck "with Redis hung, the write took under 10 s ($ms ms)" '((ms < 10000))'
    $REDISCTL unpause >/dev/null 2>&1
    api GET "/products/$OP"
    ck "Redis answering again: the product shows the write made while it hung" 'jt ".price == \"4.44\""'
    STALE=""
    current_hit()
    {
        api GET "/products/$OP"
        jt '.price == "4.44"' || STALE+="$(header X-Cache):$(jf .price) "
        [[ "$(header X-Cache)" == HIT ]]
    }
    ck "after the hang the product is served from the cache again (HIT within 35 s)" 'wait_for 35 current_hit'
    ck "no read after the hang served the old price (stale: ${STALE:-none})" '[[ -z "$STALE" ]]'
    api GET /products
    ck "after the hang the product list shows the new price" \
        'jt ".items[] | select(.id == $OP) | .price == \"4.44\""'
else
    t_not_ok "redisctl pause"
fi

# =============================================================================================
# 7. Hostile input: a 4xx (or a verbatim round trip), never a 5xx; the pool stays up
# =============================================================================================
section "7. Hostile input"
TOKEN=$TOKEN_A
TMP=$DIR/tmp

# roundtrip NAME PATH JSON JQFIELD VALUE: POST answers 201 and both it and a GET give back VALUE.
roundtrip()
{
    local name=$1 path=$2 body=$3 fld=$4 want=$5 id
    api POST "$path" "$body"
    id=$(jf .id)
    if [[ "$R_STATUS" == 201 && "$(jf "$fld")" == "$want" ]]; then
        api GET "$path/$id"
        if [[ "$R_STATUS" == 200 && "$(jf "$fld")" == "$want" ]]; then
            t_ok "$name is stored and returned verbatim"
            return
        fi
    fi
    t_not_ok "$name is stored and returned verbatim" "got $R_STATUS: $(snip)"
}
SQLI="x'); DROP TABLE units; --"
roundtrip "a unit name with SQL metacharacters" /uom \
    "$(jq -cn --arg n "$SQLI" '{name: $n, abbreviation: "'"'"';--"}')" .name "$SQLI"
SQLI2="Robert'); DROP TABLE categories;-- \\ % _ \" \$1"
roundtrip "a category name with SQL metacharacters, backslash, quote, \$1" /categories \
    "$(jq -cn --arg n "$SQLI2" '{name: $n, description: "1; SELECT pg_sleep(10)"}')" .name "$SQLI2"
EMOJI="📦 Caja 🚀"
roundtrip "an emoji unit name" /uom "$(jq -cn --arg n "$EMOJI" '{name: $n, abbreviation: "📦"}')" .name "$EMOJI"
RTL="مواد بناء "$'\xe2\x80\xae'"gnp.exe"
roundtrip "an RTL category name with U+202E" /categories "$(jq -cn --arg n "$RTL" '{name: $n}')" .name "$RTL"
CTRL=$'line1\nline2\ttab\r<script>alert(1)</script>'
roundtrip "a name with newline, tab, CR and HTML" /categories "$(jq -cn --arg n "$CTRL" '{name: $n}')" .name "$CTRL"
api GET /uom
expect "the unit list still answers after those" 200
ck "the unit list holds the SQL name verbatim" 'jt "[.items[].name] | index(\$n) != null" --arg n "$SQLI"'
api POST /products "$(jq -cn --arg n "🔧 Llave $SUF" --argjson u "$CU" '{sku: "EMO-1", name: $n, uom_id: $u, price: 1}')"
expect "a product with an emoji name" 201
api GET "/products?q=$(urlenc "🔧 llave")"
ck "q with an emoji finds it" 'jt ".total == 1 and .items[0].sku == \"EMO-1\""'
for q in "' OR 1=1 --" "'; DROP TABLE products; --" '\' '%%' '__' '"' ')' "' UNION SELECT password_hash FROM users --"; do
    api GET "/products?q=$(urlenc "$q")"
    ck "q=$q answers 200 and matches it literally (no product has it)" '[[ "$R_STATUS" == 200 ]] && jt ".total == 0"'
done

printf '{"name":"bad \xff\xfe utf8","abbreviation":"x"}' >"$TMP/bad-utf8.json"
api_file POST /uom "$TMP/bad-utf8.json"
ck "invalid UTF-8 bytes in a JSON body -> 400 or 422 (got $R_STATUS)" '[[ "$R_STATUS" == 400 || "$R_STATUS" == 422 ]] && jt ".error.code"'
printf '{"name":"overlong \xc0\xaf","abbreviation":"x"}' >"$TMP/overlong.json"
api_file POST /uom "$TMP/overlong.json"
ck "an overlong UTF-8 sequence -> 400 or 422 (got $R_STATUS)" '[[ "$R_STATUS" == 400 || "$R_STATUS" == 422 ]]'
printf '{"name":"surrogate \xed\xa0\x80","abbreviation":"x"}' >"$TMP/surrogate.json"
api_file POST /uom "$TMP/surrogate.json"
ck "an encoded surrogate -> 400 or 422 (got $R_STATUS)" '[[ "$R_STATUS" == 400 || "$R_STATUS" == 422 ]]'
api POST /uom '{"name":"lone \ud800 surrogate","abbreviation":"x"}'
ck "a lone \\ud800 escape -> 4xx, or stored as valid UTF-8 (got $R_STATUS)" \
    '[[ "$R_STATUS" == 4?? ]] || { [[ "$R_STATUS" == 201 ]] && jf .name | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; }'
api GET "/products?q=%FF"
expect "q=%FF (invalid UTF-8)" 422 "" q
api GET "/products?q=%C0%AF"
expect "q=%C0%AF (overlong UTF-8)" 422 "" q
api GET "/products?q=a%00b"
expect_4xx "q=a%00b (NUL)"
api GET "/products?q=%"
expect_no5xx "q=% (broken percent-encoding)"
api GET "/products?q=%ZZ"
expect_no5xx "q=%ZZ"
api GET "/products?q=a&q=b&q=%FF"
expect_no5xx "q given three times"
api GET "/products?$(printf 'p%d=1&' {1..100})"
expect_no5xx "100 query parameters"
api GET "/uom/%FF"
expect_4xx "GET /uom/%FF"

head -c 10000 /dev/zero | tr '\0' '[' >"$TMP/deep.json"
api_file POST /uom "$TMP/deep.json"
expect "10000 nested '['" 400
{ printf '{"name":"x","abbreviation":"y","z":'; for _ in $(seq 1 40); do printf '{"a":'; done; printf '1'; for _ in $(seq 1 40); do printf '}'; done; printf '}'; } >"$TMP/deep3.json"
api_file POST /uom "$TMP/deep3.json"
expect "40 nested objects" 400
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a' | sed 's/^/{"name":"/; s/$/","abbreviation":"x"}/' >"$TMP/big.json"
api_file POST /uom "$TMP/big.json"
expect "a 2 MB body" 413 payload_too_large
api_file POST /auth/login "$TMP/big.json"
expect "a 2 MB login body" 413
# Hostile bodies, case by case: tests/unit/test_api_in.c. Here a few, end to end.
api POST /products "$(pbody sku '"HUGE-4"' price "\"$(printf '9%.0s' {1..400})\"")"
expect "a 400-digit price string" 422 "" price
api GET "/products?offset=123456789012345678901234567890"
expect "offset=123456789012345678901234567890" 422 "" offset
api GET /uom/123456789012345678901234567890
expect "GET /uom/123456789012345678901234567890" 404
api POST /uom "$(js '{name: ("x" * 10000), abbreviation: "x"}')"
expect "a 10000-character unit name" 422 "" name
api GET "/products?q=$(head -c 10000 /dev/zero | tr '\0' 'q')"
expect_4xx "a 10000-character q"
call GET "$API/uom/$(head -c 10000 /dev/zero | tr '\0' '1')" -H "Authorization: Bearer $TOKEN"
expect_4xx "a 10000-digit id in the path"
call GET "$API/me" -H "Authorization: Bearer s$A_ID.$(head -c 10000 /dev/zero | tr '\0' 'a')"
expect_4xx "a 10000-character bearer token"
call GET "$API/me" -H "Authorization: Bearer s$A_ID.$(head -c 5000 /dev/zero | tr '\0' 'a')"
expect "a 5000-character bearer token" 401
call GET "$API/me" -H "Cookie: stock_session=$(head -c 7000 /dev/zero | tr '\0' 'a')"
expect_4xx "a 7000-character cookie"
api POST /uom '{"name":"nul\u0000byte","abbreviation":"x"}'
expect "a \\u0000 escape in a name" 422 "" name
printf '{"name":"raw\0nul","abbreviation":"x"}' >"$TMP/nul.json"
api_file POST /uom "$TMP/nul.json"
expect "a raw NUL byte in the body" 400
for top in '[]' '"text"'; do
    api POST /uom "$top"
    expect "a top-level $top instead of an object" 400
done
api POST /uom '{"name":"x","abbreviation":"y"} {"name":"z"}'
expect "two JSON objects in one body" 400
api POST /uom '{"name":"x","abbreviation":"y"'
expect "a truncated object" 400
call POST "$API/uom" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' \
    --data-binary '{"name":"ct","abbreviation":"ct"}'
expect "Content-Type text/plain" 415
call POST "$API/uom" -H "Authorization: Bearer $TOKEN" -H 'Content-Type:' \
    --data-binary '{"name":"ct","abbreviation":"ct"}'
expect "no Content-Type" 415
call POST "$API/uom" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json; charset=utf-8' \
    --data-binary "{\"name\":\"Charset unit $SUF\",\"abbreviation\":\"cs\"}"
expect "Content-Type application/json; charset=utf-8 is accepted" 201
api POST /uom ''
expect "an empty body" 400
call PROPFIND "$API/uom" -H "Authorization: Bearer $TOKEN"
expect_4xx "method PROPFIND"
call GET "$API/uom" -H "Authorization: Bearer $TOKEN" -H 'X-Forwarded-For: 10.0.0.1' \
    -H "Host: evil.example"
expect "foreign Host and X-Forwarded-For headers change nothing" 200

req GET "$BASE/health"
ck "after the hostile input, /health is 200" '[[ "$R_STATUS" == 200 ]]'
ck "the pool master is alive" 'pid_alive "$POOL"'
ck "no worker died during this suite (workers $WORKERS_AT_START -> $(live_workers "$POOL"))" \
    '[[ "$(live_workers "$POOL")" == "$WORKERS_AT_START" ]]'
api GET "/uom/$CU"
expect "the API still answers after the hostile input" 200

# =============================================================================================
# 8. A second pool with CACHE_ENABLED=false answers the same JSON, X-Cache: BYPASS
# =============================================================================================
section "8. A second pool with CACHE_ENABLED=false"
if pick_port nc_fcgi && pick_port nc_http &&
    pool_start "$ROOT/build/asan/stock-fcgi" "127.0.0.1:$nc_fcgi" "$DIR/stock-fcgi-nocache.log" \
        "$DIR/run/nocache-fcgi.pid" STOCK_WORKERS=1 CACHE_ENABLED=false LOG_LEVEL=info; then
    NOCACHE_POOL=$(pid_from_file "$DIR/run/nocache-fcgi.pid")
    NOCACHE_NGINX=$DIR/nginx-nocache
    nginx_render "$ROOT/nginx/stock.conf.in" "$NOCACHE_NGINX/nginx.conf" "127.0.0.1:$nc_http" \
        "127.0.0.1:$nc_fcgi" "$ROOT/nginx/static" "$NOCACHE_NGINX"
    if nginx_start "$NOCACHE_NGINX" "$NOCACHE_NGINX/nginx.conf" "127.0.0.1:$nc_http"; then
        t_ok "a second pool with CACHE_ENABLED=false and its nginx start"
        NC_API=http://127.0.0.1:$nc_http/api/v1
        for p in /products /uom /categories "/products/$OP" "/products?q=outage&stock=all"; do
            warm "$p"
            main_body=$R_BODY
            main_cache=$(header X-Cache)
            call GET "$NC_API$p" -H "Authorization: Bearer $TOKEN"
            ck "CACHE_ENABLED=false: GET $p is the same JSON as the cached pool's ($main_cache)" \
                '[[ "$R_STATUS" == 200 && "$R_BODY" == "$main_body" && "$main_cache" == HIT ]]'
            ck "CACHE_ENABLED=false: GET $p says X-Cache: BYPASS" '[[ "$(header X-Cache)" == BYPASS ]]'
        done
        call GET "http://127.0.0.1:$nc_http/health/cache"
        ck "CACHE_ENABLED=false: /health/cache says disabled" 'jt ".status == \"disabled\""'
    else
        t_not_ok "the nginx of the CACHE_ENABLED=false pool starts"
    fi
    nginx_stop "$NOCACHE_NGINX"
    NOCACHE_NGINX=""
    pool_stop "$NOCACHE_POOL" 30
    ck "the CACHE_ENABLED=false pool stops" 'pid_dead "$NOCACHE_POOL"'
    NOCACHE_POOL=""
else
    t_not_ok "a second pool with CACHE_ENABLED=false starts" "see $DIR/stock-fcgi-nocache.log"
fi

# =============================================================================================
section "end"
ck "no request of this suite got a 5xx or no answer (${FIVEXX:-none})" '[[ -z "$FIVEXX" ]]'
ck "the main pool is alive at the end" 'pid_alive "$POOL"'
t_result http-api
