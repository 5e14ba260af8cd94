#!/usr/bin/env bash
# test_untrusted.sh: SPEC §11 end to end, as an attacker who can write to the cache's Redis
# (redis-cli on the test Redis) against the pool behind nginx:
#  1. the attack of issue 14: a session entry minted in Redis for a token of the attacker's
#     choosing (tag read from INFO run_id, the epoch and the sessions generation), in the old
#     unsigned format and with a made-up MAC: GET /me with that token is 401, and counted in
#     stock_cache_rejected_total;
#  2. a cached price rewritten in place (the tag kept): the answer is the database's price, and
#     the product list too;
#  3. another tenant's cached product list copied under this tenant's key with its generation:
#     this tenant sees its own products only;
#  4. a value from an older generation re-tagged with the current one: a miss;
#  5. a truncated value: a miss;
#  6. the login limit lives in PostgreSQL: FLUSHALL does not lift a 429.
# Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_DIR, STOCK_TEST_REDIS_PORT,
# DATABASE_URL. Needs jq, redis-cli, python3 (BLAKE2b of the token, as an attacker computes it).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/untrusted-test
RPORT=${STOCK_TEST_REDIS_PORT:?run through tests/run_all.sh}
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
SUF=$$-$RANDOM
SUITE=http-untrusted
PREFIX=${CACHE_KEY_PREFIX:-stock}
mkdir -p "$DIR/tmp"
TMP=$DIR/tmp
trap 'rm -rf "$TMP"' EXIT
trap 'exit 143' TERM INT

for tool in jq redis-cli python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        t_not_ok "$tool is installed (deploy/deps.sh installs it)"
        t_result "$SUITE"
        exit 1
    fi
done

. "$ROOT/tests/lib/api.sh"
. "$ROOT/tests/lib/l1.sh"

rcli()
{
    redis-cli -p "$RPORT" --no-raw "$@"
}
# rget KEY: the raw value (no trailing newline added by redis-cli --raw is kept).
rget()
{
    redis-cli -p "$RPORT" --raw GET "$1"
}
# rset KEY VALUE: SET, checked; then the pool's L1s are emptied (tests/lib/l1.sh), so that the
# next read asks Redis (a value that only changed in Redis is not an invalidation: an L1 keeps
# serving what it verified, which is the database's answer; these checks are about Redis).
rset()
{
    [[ "$(redis-cli -p "$RPORT" SET "$1" "$2")" == OK ]] && l1_reset -p "$RPORT"
}
run_id()
{
    redis-cli -p "$RPORT" INFO server | tr -d '\r' | awk -F: '$1 == "run_id" { print $2 }'
}
# tag TENANT MODULE: the current tag as an attacker computes it.
tag_of()
{
    local e g
    e=$(rget "$PREFIX:epoch")
    g=$(rget "$PREFIX:tenant:$1:$2:__gen__")
    [[ -n "$e" && -n "$g" ]] && echo "$(run_id).$e.$g"
}
# rejected MODULE: stock_cache_rejected_total of MODULE in /metrics (through nginx: loopback).
rejected()
{
    curl -s "$BASE/metrics" | awk -v m="$1" \
        '$1 == "stock_cache_rejected_total{module=\"" m "\"}" { print $2 }'
}
# key_with TENANT MODULE NEEDLE [GLOB]: the first cached key of TENANT's MODULE (matching GLOB)
# whose value holds NEEDLE.
key_with()
{
    local k
    while IFS= read -r k; do
        [[ "$k" == *__gen__ ]] && continue
        rget "$k" | grep -qF -- "$3" && {
            echo "$k"
            return 0
        }
    done < <(redis-cli -p "$RPORT" --scan --pattern "$PREFIX:tenant:$1:$2:${4:-*}")
    return 1
}

section "setup"
PW=untrusted-pw-$SUF
secret_note "$PW"
new_tenant "ut-a-$SUF" "Untrusted A" admin@a.test "$PW" || {
    t_result "$SUITE"
    exit 1
}
A_ID=$NT_ID
new_tenant "ut-b-$SUF" "Untrusted B" admin@b.test "$PW" || {
    t_result "$SUITE"
    exit 1
}
B_ID=$NT_ID
session "ut-a-$SUF" admin@a.test "$PW" && TOKEN_A=$S_TOKEN || TOKEN_A=""
session "ut-b-$SUF" admin@b.test "$PW" && TOKEN_B=$S_TOKEN || TOKEN_B=""
secret_note "$TOKEN_A" "$TOKEN_B"
TOKEN=$TOKEN_A
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
mk /products "$(jq -cn --argjson u "$UNIT" '{sku:"UT-1", name:"Untrusted one", uom_id:$u, price:"10.00", stock:"5"}')"
P_A=$MK_ID
TOKEN=$TOKEN_B
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT_B=$MK_ID
mk /products "$(jq -cn --argjson u "$UNIT_B" '{sku:"UT-B-SECRET", name:"Only B has this", uom_id:$u, price:"77.00", stock:"1"}')" 2>/dev/null
TOKEN=$TOKEN_A

# ---------------------------------------------------------------------------------------------
section "1. a session minted in Redis"
api GET /me
expect "GET /me with the real token" 200
wait_for 10 eval 'api GET /me; [[ "$(header X-Cache)" == HIT || -z "$(header X-Cache)" ]]' >/dev/null
FAKE="s$A_ID.$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 43)"
secret_note "$FAKE"
FHASH=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(sys.argv[1].encode(), digest_size=32).hexdigest())' "$FAKE")
SKEY="$PREFIX:tenant:$A_ID:sessions:token:$FHASH"
STAG=$(tag_of "$A_ID" sessions)
ck "the attacker reads the sessions tag (run_id.epoch.gen) from Redis" '[[ "$STAG" =~ ^[0-9a-f]{40}\.[0-9a-f]+\.[0-9a-f]+$ ]]'
DATA=$(jq -cn --argjson t "$A_ID" '{tenant_id:$t, user_id:1, role:"admin", email:"evil@x", slug:"x", name:"x", expires:4102444800}')
R0=$(rejected other)
rset "$SKEY" "{\"tag\":\"$STAG\",\"data\":$DATA}" || t_not_ok "SET the minted session"
TOKEN=$FAKE api GET /me
expect "GET /me with a token minted in Redis (unsigned value)" 401
rset "$SKEY" "{\"tag\":\"$STAG\",\"exp\":4102444800,\"data\":$DATA,\"mac\":\"$(printf '%064d' 0)\"}" ||
    t_not_ok "SET the minted session with a MAC"
TOKEN=$FAKE api GET /me
expect "GET /me with a token minted in Redis (made-up MAC)" 401
TOKEN=$FAKE api GET /products
expect "GET /products with the minted token" 401
R1=$(rejected other)
ck "stock_cache_rejected_total{module=\"other\"} counted both ($R0 -> $R1)" '(( ${R1:-0} - ${R0:-0} >= 2 ))'
# The real session's entry, copied under the minted token's key: the key is signed.
RKEY=$(key_with "$A_ID" sessions '"role"' || true)
if [[ -n "$RKEY" ]]; then
    rset "$SKEY" "$(rget "$RKEY")"
    TOKEN=$FAKE api GET /me
    expect "GET /me with the real session's value copied under the minted token's key" 401
else
    t_not_ok "the real session is cached in Redis"
fi

# ---------------------------------------------------------------------------------------------
section "2. a cached price rewritten"
TOKEN=$TOKEN_A
warm "/products/$P_A"
PKEY=$PREFIX:tenant:$A_ID:products:item:$P_A
ck "the product's cached entry holds its price" '[[ "$(rget "$PKEY")" == *'"'"'"10.00"'"'"'* ]]'
R0=$(rejected products)
if [[ -n "$PKEY" ]]; then
    V=$(rget "$PKEY")
    rset "$PKEY" "${V//\"10.00\"/\"0.01\"}"
    ck "the planted value differs from the signed one" '[[ "$(rget "$PKEY")" != "$V" && "$(rget "$PKEY")" == *0.01* ]]'
fi
api GET "/products/$P_A"
ck "GET /products/$P_A answers the database's price 10.00 ($(jf .price), X-Cache $(header X-Cache))" \
    '[[ "$R_STATUS" == 200 && "$(jf .price)" == 10.00 && "$(header X-Cache)" == MISS ]]'
warm /products
LKEY=$(key_with "$A_ID" products '"UT-1"' 'list:*' || true)
ck "the product list is cached" '[[ -n "$LKEY" ]]'
if [[ -n "$LKEY" ]]; then
    V=$(rget "$LKEY")
    rset "$LKEY" "${V//\"10.00\"/\"0.01\"}"
fi
api GET /products
ck "GET /products answers 10.00 after the list's entry was rewritten" \
    '[[ "$R_STATUS" == 200 ]] && jt "[.items[] | select(.sku == \"UT-1\") | .price] == [\"10.00\"]"'
R1=$(rejected products)
ck "stock_cache_rejected_total{module=\"products\"} counted the rewrites ($R0 -> $R1)" '(( ${R1:-0} - ${R0:-0} >= 2 ))'

# ---------------------------------------------------------------------------------------------
section "3. another tenant's entry copied"
TOKEN=$TOKEN_B
warm /products
BKEY=$(key_with "$B_ID" products UT-B-SECRET 'list:*' || true)
TOKEN=$TOKEN_A
warm /products
AKEY=$(key_with "$A_ID" products '"UT-1"' 'list:*' || true)
if [[ -n "$BKEY" && -n "$AKEY" ]]; then
    rset "$AKEY" "$(rget "$BKEY")"
    rset "$PREFIX:tenant:$A_ID:products:__gen__" "$(rget "$PREFIX:tenant:$B_ID:products:__gen__")"
    api GET /products
    ck "A's product list after B's entry and generation were copied under A's key: A's own" \
        '[[ "$R_STATUS" == 200 ]] && ! grep -q UT-B-SECRET <<<"$R_BODY" && grep -q UT-1 <<<"$R_BODY"'
else
    t_not_ok "both tenants' product lists are cached" "A: ${AKEY:-none} B: ${BKEY:-none}"
fi

# ---------------------------------------------------------------------------------------------
section "4. an older generation re-tagged"
warm "/products/$P_A"
OLD=$(rget "$PKEY")
OLDTAG=$(tag_of "$A_ID" products)
api PATCH "/products/$P_A" '{"price":"12.00"}'
expect "PATCH the price to 12.00" 200
warm "/products/$P_A"
NEWTAG=$(tag_of "$A_ID" products)
ck "the write made a new generation" '[[ -n "$NEWTAG" && "$NEWTAG" != "$OLDTAG" ]]'
rset "$PKEY" "${OLD//$OLDTAG/$NEWTAG}"
api GET "/products/$P_A"
ck "the old value (10.00) re-tagged with the current generation is not served ($(jf .price))" \
    '[[ "$R_STATUS" == 200 && "$(jf .price)" == 12.00 && "$(header X-Cache)" == MISS ]]'

# ---------------------------------------------------------------------------------------------
section "5. a truncated value"
warm "/products/$P_A"
V=$(rget "$PKEY")
rset "$PKEY" "${V:0:$((${#V} - 5))}"
api GET "/products/$P_A"
ck "a truncated entry is a miss and the answer whole" \
    '[[ "$R_STATUS" == 200 && "$(jf .price)" == 12.00 && "$(header X-Cache)" == MISS ]]'

# ---------------------------------------------------------------------------------------------
section "6. the login limit is not in Redis"
for i in $(seq 1 12); do
    login "ut-b-$SUF" admin@b.test "wrong-$i"
    [[ "$R_STATUS" == 429 ]] && break
done
ck "wrong passwords end in 429" '[[ "$R_STATUS" == 429 ]]'
rcli FLUSHALL >/dev/null
login "ut-b-$SUF" admin@b.test "$PW"
ck "after FLUSHALL the limit still holds: 429 even for the right password" '[[ "$R_STATUS" == 429 ]]'
psql -X -q "$DATABASE_URL" -c "DELETE FROM login_limits WHERE tenant_id = $B_ID" >/dev/null 2>&1

t_result "$SUITE"
