#!/usr/bin/env bash
# verify.sh: checks a running stock stack end to end (SPEC §4, §5, §7): Redis (connection, its
# settings, set/get with TTL), the health locations, sign-in, the cache seen through HTTP (MISS
# then HIT, the tenant's keys in Redis and their TTLs), invalidation after a write, and /metrics.
# With several base URLs (the nginx of each app host, or one nginx per host), all of that goes
# through the first, and then the fleet (SPEC §9): a product's price changed through the first
# is read through every other right after the answer, each must show the new price (no stale
# read after an acknowledged write), and after a sign-out through the first the token is 401
# through every one.
# Prints "ok - ..." / "not ok - ..." lines, notes as "# ...", and last "N passed, N failed";
# exit status 0 only when nothing failed.
#
# Usage: deploy/verify.sh [BASE_URL]          (default http://127.0.0.1:8080, the nginx in front)
#        deploy/verify.sh BASE_URL BASE_URL...   (a fleet: writes through the first)
# Environment (all optional):
#   REDIS_URL        redis://[[user]:password@]host:port/db (default redis://127.0.0.1:6379/0)
#   REDIS_PASSWORD   the Redis password, when not in REDIS_URL; given to redis-cli through
#                    REDISCLI_AUTH, never on a command line. Against docker-compose.prod.yml
#                    use the administrator (the default user, REDIS_ADMIN_PASSWORD): the app's
#                    ACL user may not run CONFIG, TTL or EXISTS
#   VERIFY_PROFILE   dev or prod: require that profile's Redis settings (SPEC §7); by default
#                    either is accepted and the one found is printed
#   VERIFY_TENANT, VERIFY_EMAIL, VERIFY_PASSWORD
#                    who signs in (default the demo login of `make run`:
#                    demo / admin@demo.local / demo-admin-1)
#   CACHE_KEY_PREFIX, CACHE_UOM_TTL, CACHE_PRODUCTS_TTL, CACHE_CATEGORIES_TTL, CACHE_BALANCE_TTL
#                    as configured for the workers (defaults stock, 3600, 60, 300, 60)
# The checks leave nothing behind: the units and the product they create are deleted, the
# scratch key too, and the session is signed out. Needs curl, jq and redis-cli (deploy/deps.sh installs them).
set -u

BASE=${1:-${VERIFY_BASE_URL:-http://127.0.0.1:8080}}
BASE=${BASE%/}
API=$BASE/api/v1
OTHERS=()
for u in "${@:2}"; do
    OTHERS+=("${u%/}")
done
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
PROFILE=${VERIFY_PROFILE:-}
TENANT=${VERIFY_TENANT:-demo}
EMAIL=${VERIFY_EMAIL:-admin@demo.local}
PASSWORD=${VERIFY_PASSWORD:-demo-admin-1}
PREFIX=${CACHE_KEY_PREFIX:-stock}
TTL_UOM=${CACHE_UOM_TTL:-3600}
TTL_PRODUCTS=${CACHE_PRODUCTS_TTL:-60}
TTL_CATEGORIES=${CACHE_CATEGORIES_TTL:-300}
TTL_BALANCE=${CACHE_BALANCE_TTL:-60}
RUN_ID=$$-$RANDOM

PASSED=0
FAILED=0
TMP=$(mktemp -d)
TOKEN=""
CLEANUP_UNIT=""
CLEANUP_PRODUCT=""
CLEANUP_FLEET_UNIT=""
SCRATCH=""

ok()
{
    PASSED=$((PASSED + 1))
    echo "ok - $1"
}

not_ok()
{
    FAILED=$((FAILED + 1))
    echo "not ok - $1${2:+ ($2)}"
}

note()
{
    echo "# $*"
}

# check NAME CMD...: ok when CMD succeeds.
check()
{
    local name=$1
    shift
    if "$@"; then
        ok "$name"
    else
        not_ok "$name"
    fi
}

finish()
{
    echo "$PASSED passed, $FAILED failed"
    ((FAILED == 0))
    exit
}

# ---------------------------------------------------------------------------------------------
# HTTP: every call is bounded (5 s to connect, 15 s in all).

# http METHOD URL [curl args]: sets H_STATUS (000 when nothing answered), H_BODY and H_HEADERS
# (header lines, lower-case names, CRs removed).
http()
{
    local method=$1 url=$2
    shift 2
    H_STATUS=$(curl -s -X "$method" -D "$TMP/h" -o "$TMP/b" -w '%{http_code}' \
        --connect-timeout 5 --max-time 15 "$@" "$url" 2>/dev/null) || true
    [[ "$H_STATUS" =~ ^[0-9]{3}$ ]] || H_STATUS=000
    H_BODY=$(cat "$TMP/b" 2>/dev/null)
    H_HEADERS=$(tr -d '\r' <"$TMP/h" 2>/dev/null | awk -F': ' '{ $1 = tolower($1) } 1' OFS=': ')
    rm -f "$TMP/h" "$TMP/b"
}

# hdr NAME: a response header of the last call (NAME in lower case), empty when absent.
hdr()
{
    awk -v n="$1" -F': ' '$1 == n { sub(/^[^:]*: /, ""); print; exit }' <<<"$H_HEADERS"
}

# jget FILTER: jq -r FILTER over the last body; empty when it is not JSON.
jget()
{
    jq -r "$1 // empty" <<<"$H_BODY" 2>/dev/null
}

# api METHOD PATH [JSON]: METHOD $API/PATH with the session's bearer token (and a JSON body).
api()
{
    if (($# > 2)); then
        http "$1" "$API$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
            --data-binary "$3"
    else
        http "$1" "$API$2" -H "Authorization: Bearer $TOKEN"
    fi
}

# api_at BASE METHOD PATH [JSON]: api through another base URL (another host's nginx).
api_at()
{
    local api=$API
    API=$1/api/v1
    api "${@:2}"
    API=$api
}

# ---------------------------------------------------------------------------------------------
# Redis: the password travels in REDISCLI_AUTH; redis-cli gets the URL without it.

REDIS_HOSTPART=""
REDIS_USER=""
redis_parse()
{
    local rest userinfo pass=""
    if [[ ! "$REDIS_URL" =~ ^redis:// ]]; then
        return 1
    fi
    rest=${REDIS_URL#redis://}
    if [[ "$rest" == *@* ]]; then
        userinfo=${rest%@*}
        rest=${rest##*@}
        if [[ "$userinfo" == *:* ]]; then
            REDIS_USER=${userinfo%%:*}
            pass=${userinfo#*:}
        else
            pass=$userinfo
        fi
        # Percent-decoding of the password (a URL's reserved characters).
        pass=$(printf '%b' "${pass//%/\\x}")
    fi
    REDIS_HOSTPART=$rest
    if [[ -n "${REDIS_PASSWORD:-}" ]]; then
        export REDISCLI_AUTH=$REDIS_PASSWORD
    elif [[ -n "$pass" ]]; then
        export REDISCLI_AUTH=$pass
    fi
    [[ -n "$REDIS_HOSTPART" ]]
}

# rcli ARGS...: one redis-cli command (10 s at most); its reply on stdout.
rcli()
{
    local u=()
    [[ -n "$REDIS_USER" && "$REDIS_USER" != default ]] && u=(--user "$REDIS_USER")
    timeout 10 redis-cli "${u[@]}" -u "redis://$REDIS_HOSTPART" "$@" 2>/dev/null
}

# rconfig NAME: the value of CONFIG GET NAME (empty when refused).
rconfig()
{
    rcli CONFIG GET "$1" | sed -n 2p
}

# rscan PATTERN: the keys matching PATTERN (SCAN, never KEYS; 30 s at most).
rscan()
{
    local u=()
    [[ -n "$REDIS_USER" && "$REDIS_USER" != default ]] && u=(--user "$REDIS_USER")
    timeout 30 redis-cli "${u[@]}" -u "redis://$REDIS_HOSTPART" --scan --pattern "$1" 2>/dev/null
}

# ttl_within KEY MAX: KEY exists and its TTL is in (0, MAX] seconds; sets TTL_SEEN.
TTL_SEEN=""
ttl_within()
{
    TTL_SEEN=$(rcli TTL "$1")
    [[ "$TTL_SEEN" =~ ^[0-9]+$ ]] && ((TTL_SEEN > 0 && TTL_SEEN <= $2))
}

cleanup()
{
    if [[ -n "$CLEANUP_PRODUCT" && -n "$TOKEN" ]]; then
        api DELETE "/products/$CLEANUP_PRODUCT"
    fi
    if [[ -n "$CLEANUP_FLEET_UNIT" && -n "$TOKEN" ]]; then
        api DELETE "/uom/$CLEANUP_FLEET_UNIT"
    fi
    if [[ -n "$CLEANUP_UNIT" && -n "$TOKEN" ]]; then
        api DELETE "/uom/$CLEANUP_UNIT"
    fi
    [[ -n "$SCRATCH" ]] && rcli DEL "$SCRATCH" >/dev/null
    [[ -n "$TOKEN" ]] && api POST /auth/logout
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl jq redis-cli timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        not_ok "$tool is installed (deploy/deps.sh installs it)"
    fi
done
((FAILED == 0)) || finish

note "stack at $BASE"

# ---------------------------------------------------------------------------------------------
# 1. Redis: connection and settings

redis_ok=0
if ! redis_parse; then
    not_ok "REDIS_URL is redis://[[user]:password@]host:port/db"
else
    note "redis at ${REDIS_HOSTPART}${REDISCLI_AUTH:+ (with a password)}"
    pong=$(rcli PING)
    if [[ "$pong" == PONG ]]; then
        ok "redis answers PING"
        redis_ok=1
    else
        not_ok "redis answers PING" "got '${pong:-no answer}'"
    fi
fi

if ((redis_ok)); then
    maxmem=$(rconfig maxmemory)
    case "$maxmem" in
    268435456) found=dev ;;
    536870912) found=prod ;;
    *) found="" ;;
    esac
    if [[ -n "$PROFILE" && "$PROFILE" != dev && "$PROFILE" != prod ]]; then
        not_ok "VERIFY_PROFILE is dev or prod" "got '$PROFILE'"
    elif [[ -z "$found" ]]; then
        not_ok "redis maxmemory is 256mb (dev) or 512mb (prod)" "got '${maxmem:-CONFIG GET refused}'"
    elif [[ -n "$PROFILE" && "$found" != "$PROFILE" ]]; then
        not_ok "redis maxmemory is that of the $PROFILE profile" "got $maxmem, the $found value"
    else
        ok "redis maxmemory $maxmem (the $found profile)"
    fi
    PROFILE=${PROFILE:-$found}

    policy=$(rconfig maxmemory-policy)
    check "redis maxmemory-policy allkeys-lru (got '$policy')" test "$policy" = allkeys-lru

    save=$(rconfig save)
    check "redis persistence: RDB snapshots configured (save '$save')" test -n "$save"
    aof=$(rconfig appendonly)
    if [[ "$PROFILE" == prod ]]; then
        check "redis appendonly yes (prod)" test "$aof" = yes
    else
        note "appendonly is '${aof:-unknown}' (required only in the prod profile)"
    fi

    # A scratch key outside every tenant's space, with a TTL, deleted at once.
    SCRATCH=$PREFIX:verify:$RUN_ID
    set_reply=$(rcli SET "$SCRATCH" "value-$RUN_ID" EX 30)
    got=$(rcli GET "$SCRATCH")
    check "redis SET with EX then GET returns the value" \
        eval '[[ "$set_reply" == OK && "$got" == "value-$RUN_ID" ]]'
    if ttl_within "$SCRATCH" 30; then
        ok "the scratch key has its TTL (0 < $TTL_SEEN <= 30)"
    else
        not_ok "the scratch key has its TTL (0 < TTL <= 30)" "TTL '$TTL_SEEN'"
    fi
    del=$(rcli DEL "$SCRATCH")
    check "redis DEL removes the scratch key" \
        eval '[[ "$del" == 1 && "$(rcli EXISTS "$SCRATCH")" == 0 ]]'
    SCRATCH=""
fi

# ---------------------------------------------------------------------------------------------
# 2. Health locations

http GET "$BASE/nginx-health"
check "GET /nginx-health -> 200 (nginx itself, got $H_STATUS)" test "$H_STATUS" = 200
http GET "$BASE/health"
check "GET /health -> 200 {\"status\":\"ok\"} (got $H_STATUS)" \
    eval '[[ "$H_STATUS" == 200 && "$(jget .status)" == ok ]]'
http GET "$BASE/health/cache"
check "GET /health/cache -> 200 status ok (got $H_STATUS $(jget .status))" \
    eval '[[ "$H_STATUS" == 200 && "$(jget .status)" == ok ]]'
check "GET /health/cache shows no password or URL" \
    eval '! grep -qiE "password|redis://" <<<"$H_BODY"'
http GET "$BASE/health/db"
check "GET /health/db -> 200 (got $H_STATUS)" test "$H_STATUS" = 200

# ---------------------------------------------------------------------------------------------
# 3. Sign-in

http POST "$API/auth/login" -H 'Content-Type: application/json' --data-binary \
    "$(jq -cn --arg t "$TENANT" --arg e "$EMAIL" --arg p "$PASSWORD" \
        '{tenant: $t, email: $e, password: $p}')"
TOKEN=$(jget .token)
TENANT_ID=$(jget .tenant.id)
if [[ "$H_STATUS" == 200 && -n "$TOKEN" && "$TENANT_ID" =~ ^[0-9]+$ ]]; then
    ok "sign in to tenant '$TENANT' as $EMAIL (tenant id $TENANT_ID)"
else
    TOKEN=""
    not_ok "sign in to tenant '$TENANT' as $EMAIL" "got $H_STATUS $(jget .error.code)"
fi

# ---------------------------------------------------------------------------------------------
# 4. The cache through HTTP: MISS then HIT, and the key in Redis with its TTL

T=$PREFIX:tenant:${TENANT_ID:-0}

# cached NAME PATH KEY MAX: GET PATH twice -> MISS then HIT; the key KEY (under the tenant's
# prefix) then exists in Redis with a TTL in (0, MAX].
cached()
{
    local name=$1 path=$2 key=$T:$3 max=$4 first
    api GET "$path"
    first="$H_STATUS $(hdr x-cache)"
    api GET "$path"
    if [[ "$first" == "200 MISS" && "$H_STATUS $(hdr x-cache)" == "200 HIT" ]]; then
        ok "GET $path twice -> MISS then HIT ($name)"
    else
        not_ok "GET $path twice -> MISS then HIT ($name)" "got $first, then $H_STATUS $(hdr x-cache)"
    fi
    if ((!redis_ok)); then
        not_ok "redis key $key exists with 0 < TTL <= $max" "redis unreachable"
    elif ttl_within "$key" "$max"; then
        ok "redis key $key exists with 0 < TTL <= $max (TTL $TTL_SEEN)"
    else
        not_ok "redis key $key exists with 0 < TTL <= $max" "TTL '$TTL_SEEN'"
    fi
}

if [[ -z "$TOKEN" ]]; then
    not_ok "cache, tenant keys and invalidation checks" "skipped: no session"
else
    # Page offsets and dates no one asks for, so that the first read of each is a MISS even on
    # a stack whose cache is warm (an empty page is cached like any other). Offsets stop at 10^9.
    off=$((1000000 + (RANDOM << 15 | RANDOM) % 900000000))
    cached uom "/uom?limit=10&offset=$off" "uom:list:10:$off" "$TTL_UOM"
    cached products "/products?limit=10&offset=$off" \
        "products:list:q=:cat=0:stock=all:10:$off" "$TTL_PRODUCTS"
    cached categories "/categories?limit=10&offset=$off" "categories:list:10:$off" \
        "$TTL_CATEGORIES"
    from=$(date -u -d "2000-01-01 + $((RANDOM % 9000)) days" +%F)
    to=$(date -u -d "$from + 6 days" +%F)
    cached balance "/balance/series?from=$from&to=$to&granularity=daily&method=all" \
        "balance:series:daily:$from:$to:all" "$TTL_BALANCE"

    # ---- 5. Every key of the tenant carries its tenant id ----
    if ((redis_ok)); then
        rscan "$T:*" >"$TMP/tenant-keys"
        n=$(grep -c . "$TMP/tenant-keys")
        check "SCAN $T:* finds the tenant's keys ($n)" test "$n" -gt 0
        check "every key found for the tenant starts with $T:" \
            eval '! grep -v "^$T:" "$TMP/tenant-keys" | grep -q .'
        # Every key of ours is a tenant's (…:tenant:<id>:<module>:…) but the shared epoch token,
        # the hosts' trust marks (…:hosts:<32 hex>, renewed by each outbox poll) and the L1
        # agents' heartbeats (…:l1hb:<32 hex>).
        rscan "$PREFIX:*" >"$TMP/all-keys"
        stray=$(grep -vE "^$PREFIX:(tenant:[0-9]+:[a-z_]+:.+|epoch|hosts:[0-9a-f]{32}|l1hb:[0-9a-f]{32})$" "$TMP/all-keys" |
            head -n 3 | tr '\n' ' ')
        check "no key under $PREFIX: outside a tenant's space (but $PREFIX:epoch, $PREFIX:hosts:* and $PREFIX:l1hb:*)${stray:+: $stray}" \
            test -z "$stray"
    else
        not_ok "tenant keys in redis" "redis unreachable"
    fi

    # ---- 6. Invalidation after a write ----
    api GET "/uom?limit=200"
    api GET "/uom?limit=200"
    check "GET /uom?limit=200 is cached before the write (got $H_STATUS $(hdr x-cache))" \
        eval '[[ "$H_STATUS" == 200 && "$(hdr x-cache)" == HIT ]]'
    unit="verify-$RUN_ID"
    api POST /uom "$(jq -cn --arg n "$unit" '{name: $n, abbreviation: "vfy"}')"
    CLEANUP_UNIT=$(jget .id)
    if [[ "$H_STATUS" == 201 && "$CLEANUP_UNIT" =~ ^[0-9]+$ ]]; then
        ok "POST /uom creates unit '$unit' -> 201"
    else
        not_ok "POST /uom creates unit '$unit' -> 201" "got $H_STATUS $(jget .error.code)"
        CLEANUP_UNIT=""
    fi
    api GET "/uom?limit=200"
    has=$(jq -r --arg n "$unit" 'any(.items[]; .name == $n)' <<<"$H_BODY" 2>/dev/null)
    check "the next GET /uom is a MISS that shows the new unit (got $(hdr x-cache), shown: ${has:-no})" \
        eval '[[ "$H_STATUS" == 200 && "$(hdr x-cache)" == MISS && "$has" == true ]]'
    if [[ -n "$CLEANUP_UNIT" ]]; then
        api DELETE "/uom/$CLEANUP_UNIT"
        check "DELETE /uom/$CLEANUP_UNIT -> 204 (cleanup, got $H_STATUS)" test "$H_STATUS" = 204
        [[ "$H_STATUS" == 204 ]] && CLEANUP_UNIT=""
        api GET "/uom?limit=200"
        has=$(jq -r --arg n "$unit" 'any(.items[]; .name == $n)' <<<"$H_BODY" 2>/dev/null)
        check "after the delete GET /uom is a MISS without the unit (got $(hdr x-cache))" \
            eval '[[ "$H_STATUS" == 200 && "$(hdr x-cache)" == MISS && "$has" == false ]]'
    fi
fi

# ---------------------------------------------------------------------------------------------
# 7. Metrics (nginx lets only loopback in)

http GET "$BASE/metrics"
check "GET /metrics -> 200 with stock_requests_total (from this host, got $H_STATUS)" \
    eval '[[ "$H_STATUS" == 200 ]] && grep -q "^stock_requests_total " <<<"$H_BODY"'
# (a route's name may hold the word, as me_password does: its label is read around)
check "/metrics shows no password or URL" \
    eval '! sed -E "s/route=\"[a-z_]+\"//g" <<<"$H_BODY" | grep -qiE "password|redis://|postgres(ql)?://"'

# ---------------------------------------------------------------------------------------------
# 8. The fleet (several base URLs, SPEC §9): what is written through the first is what every
#    other serves right after the answer, and a sign-out through the first holds everywhere.

# fleet_product_shows BASE PRICE: GET the scratch product through BASE is 200 with PRICE.
fleet_product_shows()
{
    api_at "$1" GET "/products/$CLEANUP_PRODUCT"
    [[ "$H_STATUS" == 200 && "$(jget .price)" == "$2" ]]
}

# fleet_list_shows BASE PRICE: the product list through BASE, searched by the scratch SKU, shows
# that one product with PRICE.
fleet_list_shows()
{
    api_at "$1" GET "/products?q=$sku&limit=10"
    [[ "$H_STATUS" == 200 && "$(jq -r '[.items[].price] | join(",")' <<<"$H_BODY" 2>/dev/null)" == "$2" ]]
}

if ((${#OTHERS[@]} > 0)); then
    note "fleet: writes through $BASE, reads through ${OTHERS[*]}"
    if [[ -z "$TOKEN" ]]; then
        not_ok "fleet checks" "skipped: no session"
    fi
fi
if ((${#OTHERS[@]} > 0)) && [[ -n "$TOKEN" ]]; then
    for u in "${OTHERS[@]}"; do
        http GET "$u/health"
        check "$u: GET /health -> 200 (got $H_STATUS)" \
            eval '[[ "$H_STATUS" == 200 && "$(jget .status)" == ok ]]'
        api_at "$u" GET /me
        check "$u: the session signed in through $BASE is valid here (GET /me -> 200, got $H_STATUS)" \
            test "$H_STATUS" = 200
    done

    api POST /uom "$(jq -cn --arg n "verify-fleet-$RUN_ID" '{name: $n, abbreviation: "vfl"}')"
    CLEANUP_FLEET_UNIT=$(jget .id)
    [[ "$H_STATUS" == 201 && "$CLEANUP_FLEET_UNIT" =~ ^[0-9]+$ ]] || CLEANUP_FLEET_UNIT=""
    sku="VERIFY-$RUN_ID"
    if [[ -n "$CLEANUP_FLEET_UNIT" ]]; then
        api POST /products "$(jq -cn --arg s "$sku" --argjson u "$CLEANUP_FLEET_UNIT" \
            '{sku: $s, name: "verify fleet", uom_id: $u, price: "1.00"}')"
        CLEANUP_PRODUCT=$(jget .id)
        [[ "$H_STATUS" == 201 && "$CLEANUP_PRODUCT" =~ ^[0-9]+$ ]] || CLEANUP_PRODUCT=""
    fi
    if [[ -n "$CLEANUP_PRODUCT" ]]; then
        ok "POST /products creates product $sku at price 1.00 through $BASE -> 201"
    else
        not_ok "POST /products creates product $sku at price 1.00 through $BASE -> 201" \
            "got $H_STATUS $(jget .error.code)"
    fi
fi
if [[ -n "$CLEANUP_PRODUCT" ]]; then
    # Every other host holds the old price in the cache first, or the reads below would prove
    # nothing: a stale entry is what they must not serve.
    for u in "${OTHERS[@]}"; do
        api_at "$u" GET "/products/$CLEANUP_PRODUCT"
        fleet_product_shows "$u" 1.00
        x1=$(hdr x-cache)
        fleet_list_shows "$u" 1.00
        fleet_list_shows "$u" 1.00
        x2=$(hdr x-cache)
        check "$u: the product and its list show price 1.00 from the cache before the write (got $x1, $x2)" \
            eval '[[ "$x1" == HIT && "$x2" == HIT ]]'
    done

    api PATCH "/products/$CLEANUP_PRODUCT" '{"price":"2.50"}'
    patched="$H_STATUS $(jget .price)"
    # Right after the answer, no pause: an acknowledged write is what every host serves.
    seen=()
    for u in "${OTHERS[@]}"; do
        fleet_product_shows "$u" 2.50
        seen+=("$H_STATUS $(jget .price) $(hdr x-cache)")
        fleet_list_shows "$u" 2.50
        seen+=("$H_STATUS $(jq -r '[.items[].price] | join(",")' <<<"$H_BODY" 2>/dev/null) $(hdr x-cache)")
    done
    check "PATCH /products/$CLEANUP_PRODUCT price 2.50 through $BASE -> 200 (got $patched)" \
        test "$patched" = "200 2.50"
    i=0
    for u in "${OTHERS[@]}"; do
        check "$u: right after that answer GET /products/$CLEANUP_PRODUCT shows price 2.50 (got ${seen[i]})" \
            eval '[[ "${seen[i]}" == "200 2.50 "* ]]'
        check "$u: right after that answer the product list shows price 2.50 (got ${seen[i + 1]})" \
            eval '[[ "${seen[i + 1]}" == "200 2.50 "* ]]'
        i=$((i + 2))
    done

    api DELETE "/products/$CLEANUP_PRODUCT"
    deleted=$H_STATUS
    seen=()
    for u in "${OTHERS[@]}"; do
        api_at "$u" GET "/products/$CLEANUP_PRODUCT"
        seen+=("$H_STATUS")
    done
    check "DELETE /products/$CLEANUP_PRODUCT through $BASE -> 204 (got $deleted)" test "$deleted" = 204
    [[ "$deleted" == 204 ]] && CLEANUP_PRODUCT=""
    i=0
    for u in "${OTHERS[@]}"; do
        check "$u: right after that answer the product is 404 (got ${seen[i]})" test "${seen[i]}" = 404
        i=$((i + 1))
    done
fi
if [[ -n "$CLEANUP_FLEET_UNIT" && -n "$TOKEN" ]]; then
    api DELETE "/uom/$CLEANUP_FLEET_UNIT"
    check "DELETE /uom/$CLEANUP_FLEET_UNIT -> 204 (cleanup, got $H_STATUS)" test "$H_STATUS" = 204
    [[ "$H_STATUS" == 204 ]] && CLEANUP_FLEET_UNIT=""
fi

if [[ -n "$TOKEN" ]]; then
    api POST /auth/logout
    check "sign out -> 204 (got $H_STATUS)" test "$H_STATUS" = 204
    if ((${#OTHERS[@]} > 0)); then
        # The token of the signed-out session, through every base URL right after the answer.
        seen=()
        for u in "$BASE" "${OTHERS[@]}"; do
            api_at "$u" GET /me
            seen+=("$H_STATUS")
        done
        i=0
        for u in "$BASE" "${OTHERS[@]}"; do
            check "$u: right after the sign-out through $BASE its token is refused (GET /me -> 401, got ${seen[i]})" \
                test "${seen[i]}" = 401
            i=$((i + 1))
        done
    fi
    TOKEN=""
fi

finish
