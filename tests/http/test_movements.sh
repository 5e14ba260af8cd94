#!/usr/bin/env bash
# test_movements.sh: the stock ledger and the products' ETag end to end through nginx (SPEC §10):
# POST /stock/movements for every kind (shape, signed quantity, stock before and after, cost,
# note, reference, user), every refusal with its code and field (and nothing changed), the
# staff/admin rule, Idempotency-Key, GET /stock/movements with each filter and its paging, the
# movements of sales, cancellations, product creation and stock edits with their user, tenant
# isolation, cache freshness of the cached lists after each kind of write, ETag/If-Match (412 and
# nothing changed), and a bounded race of receipts, losses, counts, sale confirmations and
# returns after which the ledger of every product adds up (sum = stock, after = before + quantity, never below
# zero, each row's before = the previous row's after). Creates its own tenants. Environment from
# tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_DIR, DATABASE_URL. Needs jq and psql.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/movements-test
: "${DATABASE_URL:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
SUF=$$-$RANDOM
SUITE=http-movements
RACE_SECONDS=${STOCK_TEST_RACE_SECONDS:-10}
mkdir -p "$DIR/tmp"
TMP=$DIR/tmp
PAR=$TMP/par

if ! command -v jq >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
    t_not_ok "jq and psql are installed"
    t_result "$SUITE"
    exit 1
fi
trap 'rm -rf "$TMP"' EXIT
trap 'exit 143' TERM INT

. "$ROOT/tests/lib/api.sh"

sql() { psql -X -At -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$1"; }

# product SKU STOCK: a product of unit $UNIT (bearer $TOKEN); sets MK_ID.
product()
{
    mk /products "$(jq -cn --arg s "$1" --arg st "$2" --argjson u "$UNIT" \
        '{sku: $s, name: ("Product " + $s), uom_id: $u, price: "2.00", cost: "1.00", stock: $st}')"
}
# move PRODUCT KIND QTY [EXTRA_JSON_FIELDS [curl args]]: POST /stock/movements.
move()
{
    local p=$1 k=$2 q=$3 extra=${4:-}
    shift 3
    (($# > 0)) && shift
    api POST /stock/movements "{\"product_id\":$p,\"kind\":\"$k\",\"quantity\":\"$q\"$extra}" "$@"
}
# del PATH [curl args]: DELETE $API/PATH, bearer $TOKEN, no body.
del() { call DELETE "$API$1" -H "Authorization: Bearer $TOKEN" "${@:2}"; }
stock_of() { sql "SELECT stock FROM products WHERE id = $1"; }
nmoves() { sql "SELECT count(*) FROM stock_movements WHERE product_id = $1"; }
# unchanged NAME PRODUCT STOCK COUNT: the product still has STOCK and COUNT movements.
unchanged()
{
    local s n
    s=$(stock_of "$2")
    n=$(nmoves "$2")
    if [[ "$s" == "$3" && "$n" == "$4" ]]; then
        t_ok "$1: nothing changed (stock $s, $n movements)"
    else
        t_not_ok "$1: nothing changed" "stock $s (want $3), $n movements (want $4)"
    fi
}
# draft_confirm PRODUCT QTY: a sale of QTY of PRODUCT, confirmed; sets SALE.
draft_confirm()
{
    mk /sales "{\"items\":[{\"product_id\":$1,\"quantity\":\"$2\"}]}"
    SALE=$MK_ID
    api POST "/sales/$SALE/confirm"
    [[ "$R_STATUS" == 200 ]] || t_not_ok "confirm fixture sale $SALE" "got $R_STATUS: $(snip)"
}

TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}:[0-9]{2}$'
MOVE_KEYS='["created_at","id","kind","note","product","quantity","reference","stock_after","stock_before","unit_cost","user"]'
ETAG_RE='^"[0-9]+-[0-9]{20}"$'

# ---------------------------------------------------------------------------------------------
section "0. Tenants A and B, A's staff"
PW=correct-horse-$SUF
secret_note "$PW"
SLUG_A=moves-a-$SUF
SLUG_B=moves-b-$SUF
setup_failed()
{
    t_result "$SUITE"
    exit 1
}
new_tenant "$SLUG_A" "Moves A $SUF" admin@a.test "$PW" || setup_failed
A_ID=$NT_ID
new_tenant "$SLUG_B" "Moves B $SUF" admin@b.test "$PW" || setup_failed
printf '%s\n' "$PW" | "$STOCKCTL" user create --tenant "$SLUG_A" --email staff@a.test \
    --role staff >/dev/null 2>&1 || setup_failed
session "$SLUG_A" admin@a.test "$PW" || setup_failed
TOKEN_A=$S_TOKEN
session "$SLUG_A" staff@a.test "$PW" || setup_failed
TOKEN_S=$S_TOKEN
session "$SLUG_B" admin@b.test "$PW" || setup_failed
TOKEN_B=$S_TOKEN
ADMIN_A=$(sql "SELECT id FROM users WHERE tenant_id = $A_ID AND email = 'admin@a.test'")
STAFF_A=$(sql "SELECT id FROM users WHERE tenant_id = $A_ID AND email = 'staff@a.test'")
t_ok "tenants A and B, A's admin ($ADMIN_A) and staff ($STAFF_A) signed in"

TOKEN=$TOKEN_A
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
product "MV-1" "10"
P1=$MK_ID

# ---------------------------------------------------------------------------------------------
section "1. Every kind"
api GET "/stock/movements?product_id=$P1"
ck "a product created with stock 10 has its opening movement, by its creator" \
    'jt ".total == 1 and .items[0].kind == \"opening\" and .items[0].quantity == \"10.000\"
        and .items[0].stock_before == \"0.000\" and .items[0].stock_after == \"10.000\"
        and .items[0].user.id == $ADMIN_A and .items[0].user.email == \"admin@a.test\""'

move "$P1" receipt 5 ',"unit_cost":"1.25","note":"delivery 7","reference":"PO-7"'
expect "receipt of 5" 201
ck "the movement has exactly the keys of SPEC §10" "jt '(keys) == $MOVE_KEYS'"
ck "receipt: product {id, sku, name}, quantity +5.000, stock 10 -> 15" \
    'jt ".product == {id: $P1, sku: \"MV-1\", name: \"Product MV-1\"} and .kind == \"receipt\"
        and .quantity == \"5.000\" and .stock_before == \"10.000\" and .stock_after == \"15.000\""'
ck "receipt: unit_cost \"1.25\", note, reference, user {id, email}, created_at ISO 8601" \
    'jt ".unit_cost == \"1.25\" and .note == \"delivery 7\" and .reference == \"PO-7\"
        and .user == {id: $ADMIN_A, email: \"admin@a.test\"} and (.id | type == \"number\")" &&
     [[ "$(jf .created_at)" =~ $TS_RE ]]'
ck "the product's stock is 15.000" '[[ "$(stock_of "$P1")" == 15.000 ]]'
move "$P1" loss 2
expect "loss of 2" 201
ck "loss: quantity -2.000, 15 -> 13, unit_cost null, note and reference null" \
    'jt ".quantity == \"-2.000\" and .stock_before == \"15.000\" and .stock_after == \"13.000\"
        and .unit_cost == null and .note == null and .reference == null"'
move "$P1" damage 0.5
expect "damage of 0.5" 201
ck "damage: quantity -0.500, 13 -> 12.5" \
    'jt ".kind == \"damage\" and .quantity == \"-0.500\" and .stock_after == \"12.500\""'
move "$P1" adjustment -1.25
expect "adjustment of -1.25" 201
ck "adjustment -1.25: 12.5 -> 11.25" 'jt ".quantity == \"-1.250\" and .stock_after == \"11.250\""'
move "$P1" adjustment 0.75
ck "adjustment +0.75: 11.25 -> 12" 'jt ".quantity == \"0.750\" and .stock_after == \"12.000\""'
move "$P1" count 7
expect "count of 7" 201
ck "count 7 on 12: the difference -5.000 is recorded, 12 -> 7" \
    'jt ".kind == \"count\" and .quantity == \"-5.000\" and .stock_before == \"12.000\"
        and .stock_after == \"7.000\""'
move "$P1" count 7
ck "count 7 on 7: recorded with quantity 0.000" \
    'jt ".quantity == \"0.000\" and .stock_before == \"7.000\" and .stock_after == \"7.000\""'
api POST /stock/movements "{\"product_id\":$P1,\"kind\":\"receipt\",\"quantity\":3}"
ck "quantity as a JSON number: receipt 3, 7 -> 10" 'jt ".quantity == \"3.000\" and .stock_after == \"10.000\""'
move "$P1" loss 10
ck "a loss of the whole stock leaves 0.000" 'jt ".stock_after == \"0.000\""'
move "$P1" count 4
ck "count 4 on 0: +4.000" 'jt ".quantity == \"4.000\" and .stock_after == \"4.000\""'

# ---------------------------------------------------------------------------------------------
section "2. Refusals change nothing"
N1=$(nmoves "$P1")
move "$P1" loss 4.001
expect "a loss above the stock" 409 insufficient_stock
ck "the 409 names the product" 'jf .error.message | grep -q "MV-1"'
move "$P1" adjustment -5
expect "an adjustment below zero" 409 insufficient_stock
move "$P1" damage 100
expect "damage above the stock" 409 insufficient_stock
unchanged "after three 409s" "$P1" 4.000 "$N1"
for k in sale cancel return opening bogus RECEIPT; do
    move "$P1" "$k" 1
    expect "kind $k cannot be posted" 422 "" kind
done
api POST /stock/movements "{\"product_id\":$P1,\"quantity\":1}"
expect "kind missing" 422 required kind
api POST /stock/movements "{\"product_id\":$P1,\"kind\":7,\"quantity\":1}"
expect "kind not a string" 422 "" kind
for k in receipt loss damage; do
    move "$P1" "$k" 0
    expect "$k of 0" 422 "" quantity
    move "$P1" "$k" -1
    expect "$k of -1" 422 "" quantity
done
move "$P1" adjustment 0
expect "adjustment of 0" 422 "" quantity
move "$P1" count -1
expect "count of -1" 422 "" quantity
move "$P1" receipt 1.0001
expect "a quantity with 4 decimals" 422 "" quantity
move "$P1" receipt abc
expect "a quantity that is not a number" 422 "" quantity
api POST /stock/movements "{\"product_id\":$P1,\"kind\":\"receipt\"}"
expect "quantity missing" 422 required quantity
move "$P1" receipt 1 ',"unit_cost":"1.001"'
expect "unit_cost with 3 decimals" 422 "" unit_cost
move "$P1" receipt 1 ',"unit_cost":"-1"'
expect "a negative unit_cost" 422 "" unit_cost
move "$P1" receipt 1 ",\"note\":\"$(printf 'n%.0s' {1..501})\""
expect "a note of 501 characters" 422 too_long note
move "$P1" receipt 1 ",\"reference\":\"$(printf 'r%.0s' {1..201})\""
expect "a reference of 201 characters" 422 too_long reference
move 999999999 receipt 1
expect "a product that does not exist" 422 invalid_reference product_id
api POST /stock/movements '{"kind":"receipt","quantity":1}'
expect "product_id missing" 422 "" product_id
api POST /stock/movements "{\"product_id\":$P1,\"kind\":\"receipt\",\"quantity\":1"
expect "malformed JSON" 400
unchanged "after every refusal" "$P1" 4.000 "$N1"
move "$P1" receipt 1 ",\"note\":\"$(printf 'é%.0s' {1..500})\",\"reference\":\"$(printf 'r%.0s' {1..200})\""
expect "a note of 500 characters (2 bytes each) and a reference of 200" 201

# ---------------------------------------------------------------------------------------------
section "3. Roles: staff records receipts only"
TOKEN=$TOKEN_S
move "$P1" receipt 2
expect "staff: receipt" 201
ck "staff's receipt carries staff's user" 'jt ".user == {id: $STAFF_A, email: \"staff@a.test\"}"'
N1=$(nmoves "$P1")
S1=$(stock_of "$P1")
for k in loss damage adjustment count; do
    move "$P1" "$k" 1
    expect "staff: $k" 403 forbidden
done
unchanged "after staff's refused kinds" "$P1" "$S1" "$N1"
api GET "/stock/movements?product_id=$P1&limit=1"
expect "staff reads the list" 200
TOKEN=$TOKEN_A

# ---------------------------------------------------------------------------------------------
section "4. Idempotency-Key"
product "MV-IDEM" "1"
PI=$MK_ID
KEY="mv-key-$SUF"
move "$PI" receipt 4 ',"note":"once"' -H "Idempotency-Key: $KEY"
expect "first POST with a key" 201
FIRST=$R_BODY
move "$PI" receipt 4 ',"note":"once"' -H "Idempotency-Key: $KEY"
expect "the same key and body again" 201
ck "the replay is the first answer, byte for byte" '[[ "$R_BODY" == "$FIRST" ]]'
ck "one receipt recorded, stock 5" \
    '[[ "$(sql "SELECT count(*) FROM stock_movements WHERE product_id = $PI AND kind = '"'receipt'"'")" == 1 && "$(stock_of "$PI")" == 5.000 ]]'
move "$PI" receipt 5 ',"note":"once"' -H "Idempotency-Key: $KEY"
expect "the same key with another quantity" 422 idempotency_mismatch Idempotency-Key
move "$PI" receipt 4 ',"note":"twice"' -H "Idempotency-Key: $KEY"
expect "the same key with another note" 422 idempotency_mismatch
move "$PI" receipt 4 '' -H "Idempotency-Key: bad key"
expect "a key with a space" 422 invalid_idempotency_key Idempotency-Key
api POST /payments '{"sale_id":1,"amount":"1.00","method":"cash"}' -H "Idempotency-Key: $KEY"
expect "the key on another route" 422 idempotency_mismatch
ck "still one receipt, stock 5" '[[ "$(nmoves "$PI")" == 2 && "$(stock_of "$PI")" == 5.000 ]]'
# Parallel: one key, one body, 6 clients: one movement.
rm -rf "$PAR" && mkdir -p "$PAR"
for i in 1 2 3 4 5 6; do
    curl -s -o "$PAR/i$i.body" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -H "Idempotency-Key: par-$KEY" \
        --data-binary "{\"product_id\":$PI,\"kind\":\"receipt\",\"quantity\":\"1\"}" \
        "$API/stock/movements" >"$PAR/i$i.code" &
done
wait
codes=$(cat "$PAR"/i*.code | tr -d '\n' | fold -w3 | sort | uniq -c | awk '{printf "%sx%s ", $2, $1}')
ck "6 parallel POSTs with one key: 201 or 409 in progress, never 5xx ($codes)" \
    '! grep -qE "(^| )(5..|000)x" <<<"$codes"'
ck "and one movement, stock 6" '[[ "$(nmoves "$PI")" == 3 && "$(stock_of "$PI")" == 6.000 ]]'

# ---------------------------------------------------------------------------------------------
section "5. Every writer appears, with its user"
product "MV-SALE" "5"
PS=$MK_ID
draft_confirm "$PS" 2
api GET "/stock/movements?product_id=$PS&kind=sale"
ck "a confirmed sale: a 'sale' movement of -2.000 by the admin" \
    'jt ".total == 1 and .items[0].quantity == \"-2.000\" and .items[0].stock_after == \"3.000\"
        and .items[0].user.id == $ADMIN_A"'
TOKEN=$TOKEN_S
mk /sales "{\"items\":[{\"product_id\":$PS,\"quantity\":\"1\"}]}"
STAFF_SALE=$MK_ID
api POST "/sales/$STAFF_SALE/confirm"
TOKEN=$TOKEN_A
api GET "/stock/movements?product_id=$PS&kind=sale"
ck "a sale confirmed by staff: its movement has staff's user" \
    'jt ".total == 2 and .items[0].user.id == $STAFF_A and .items[0].stock_after == \"2.000\""'
api POST "/sales/$SALE/cancel"
api GET "/stock/movements?product_id=$PS&kind=cancel"
ck "a cancelled sale: a 'cancel' movement of +2.000 by the admin" \
    'jt ".total == 1 and .items[0].quantity == \"2.000\" and .items[0].stock_after == \"4.000\"
        and .items[0].user.id == $ADMIN_A"'
api PATCH "/products/$PS" '{"stock":"9"}'
api GET "/stock/movements?product_id=$PS&kind=count"
ck "PATCH stock 9 on 4: a 'count' movement of +5.000 by the admin" \
    'jt ".total == 1 and .items[0].quantity == \"5.000\" and .items[0].stock_before == \"4.000\"
        and .items[0].stock_after == \"9.000\" and .items[0].user.id == $ADMIN_A"'
api PUT "/products/$PS" "{\"sku\":\"MV-SALE\",\"name\":\"Product MV-SALE\",\"uom_id\":$UNIT,\"price\":\"2.00\",\"stock\":\"8.5\"}"
api GET "/stock/movements?product_id=$PS&kind=count"
ck "PUT stock 8.5: a second count movement of -0.500" 'jt ".total == 2 and .items[0].quantity == \"-0.500\""'
api PATCH "/products/$PS" '{"name":"Renamed"}'
api GET "/stock/movements?product_id=$PS"
ck "a PATCH without stock writes no movement; the list shows the product's current name" \
    'jt ".total == 6 and .items[0].kind == \"count\" and .items[0].product.name == \"Renamed\""'
ck "the list is newest first by id" 'jt "[.items[].id] == ([.items[].id] | sort | reverse)"'

# ---------------------------------------------------------------------------------------------
section "6. The list: filters and pages"
api GET "/stock/movements?limit=200"
ALL=$(jf .total)
ck "A's whole list: total = A's rows in the database ($ALL)" \
    '[[ "$ALL" == "$(sql "SELECT count(*) FROM stock_movements WHERE tenant_id = $A_ID")" ]]'
ck "the page object: items, total, limit 200, offset 0" \
    'jt "(keys) == [\"items\",\"limit\",\"offset\",\"total\"] and .limit == 200 and .offset == 0"'
api GET "/stock/movements?product_id=$P1&limit=3&offset=2"
ck "limit 3 offset 2: three items, limit and offset echoed" \
    'jt "(.items | length) == 3 and .limit == 3 and .offset == 2"'
P3=$(jf '.items[0].id')
api GET "/stock/movements?product_id=$P1&limit=1&offset=2"
ck "offset 2 limit 1 is the first of that page" 'jt ".items[0].id == $P3"'
api GET "/stock/movements?kind=receipt&limit=200"
ck "kind=receipt: only receipts, total = the database's" \
    'jt "all(.items[]; .kind == \"receipt\") and .total == $(sql "SELECT count(*) FROM stock_movements WHERE tenant_id = $A_ID AND kind = '"'receipt'"'")"'
api GET "/stock/movements?kind=loss&product_id=$P1"
ck "kind=loss&product_id: only that product's losses (2)" \
    'jt ".total == 2 and all(.items[]; .kind == \"loss\" and .product.id == $P1)"'
TODAY=$(date -u +%F)
YDAY=$(date -u -d "$TODAY -1 day" +%F)
TMRW=$(date -u -d "$TODAY +1 day" +%F)
OLD=$(date -u -d "$TODAY -3 days" +%F)
api GET "/stock/movements?from=$YDAY&to=$TMRW&limit=1"
ck "from yesterday to tomorrow: every movement ($ALL)" 'jt ".total == $ALL"'
api GET "/stock/movements?to=$OLD"
ck "to three days ago: none" 'jt ".total == 0 and .items == []"'
api GET "/stock/movements?from=$TMRW&product_id=$P1"
ck "from tomorrow, one product: none" 'jt ".total == 0"'
for q in "kind=bogus" "kind=Receipt" "from=2026-13-01" "to=yesterday" "product_id=abc" \
    "product_id=0" "limit=0" "limit=201" "offset=-1"; do
    api GET "/stock/movements?$q"
    expect "GET /stock/movements?$q" 422 "" "${q%%=*}"
done
api GET "/stock/movements?product_id=999999999"
ck "an unknown product: an empty list" 'jt ".total == 0 and .items == []"'

# ---------------------------------------------------------------------------------------------
section "7. Tenant isolation"
TOKEN=$TOKEN_B
move "$P1" receipt 1
expect "B posts a movement on A's product" 422 invalid_reference product_id
api GET "/stock/movements?product_id=$P1"
ck "B lists A's product: nothing" 'jt ".total == 0 and .items == []"'
api GET "/stock/movements?limit=200"
ck "B's whole list: nothing of A's" 'jt ".total == 0"'
mk /uom '{"name":"Box","abbreviation":"bx"}'
UNIT_A=$UNIT
UNIT=$MK_ID
product "MV-B" "3"
PB=$MK_ID
UNIT=$UNIT_A
api GET "/stock/movements?limit=200"
ck "B's list: only B's opening" 'jt ".total == 1 and .items[0].product.id == $PB"'
TOKEN=$TOKEN_A
api GET "/stock/movements?product_id=$PB"
ck "A lists B's product: nothing" 'jt ".total == 0"'
api GET "/stock/movements?limit=200"
ck "A's list holds no row of B" 'jt "all(.items[]; .product.id != $PB) and .total == $ALL"'
move "$PB" loss 1
expect "A posts a loss on B's product" 422 invalid_reference product_id
ck "B's product untouched" '[[ "$(stock_of "$PB")" == 3.000 ]]'

# ---------------------------------------------------------------------------------------------
section "8. Cached lists are never stale"
product "MV-CACHE" "20"
PC=$MK_ID
LP="/stock/movements?product_id=$PC"
# fresh NAME TOTAL: after a write over the product's cached list (a HIT), the next read shows
# it (TOTAL rows, the newest first), then the list is made a HIT again.
fresh()
{
    local name=$1 want=$2
    api GET "$LP"
    ck "$name: the next read shows it ($(header X-Cache), total $(jf .total), first $(jf '.items[0].kind'))" \
        "jt '.total == $want and .items[0].id == $(sql "SELECT max(id) FROM stock_movements WHERE product_id = $PC")'"
    warm "$LP"
}
warm "$LP"
move "$PC" receipt 1
fresh "a receipt" 2
move "$PC" loss 1
fresh "a loss" 3
move "$PC" count 15
fresh "a count movement" 4
draft_confirm "$PC" 2
fresh "a sale confirmed" 5
api POST "/sales/$SALE/cancel"
fresh "a sale cancelled" 6
api PATCH "/products/$PC" '{"stock":"11"}'
fresh "a PATCH of stock" 7
draft_confirm "$PC" 2
fresh "another sale confirmed" 8
api POST "/sales/$SALE/returns" "{\"items\":[{\"product_id\":$PC,\"quantity\":\"1\"}]}"
expect "a return of that sale" 201
fresh "a return" 9
TOKEN=$TOKEN_S
move "$PC" receipt 1
TOKEN=$TOKEN_A
fresh "staff's receipt" 10
warm "/stock/movements?limit=5"
move "$PC" adjustment 1
api GET "/stock/movements?limit=5"
ck "the unfiltered list too: a HIT, then a write, then its row first" \
    "jt '.items[0].kind == \"adjustment\" and .items[0].product.id == $PC'"
warm "/stock/movements?kind=adjustment&limit=5"
move "$PC" adjustment -1
api GET "/stock/movements?kind=adjustment&limit=5"
ck "the kind list too" "jt '.items[0].quantity == \"-1.000\" and .items[0].product.id == $PC'"

# ---------------------------------------------------------------------------------------------
section "9. ETag and If-Match"
product "MV-ETAG" "5"
PE=$MK_ID
ETAG_POST=$(header ETag)
ck "POST /products answers an ETag ($ETAG_POST)" '[[ "$ETAG_POST" =~ $ETAG_RE && "$ETAG_POST" == "\"$PE-"* ]]'
api GET "/products/$PE"
E1=$(header ETag)
ck "GET answers the same ETag" '[[ "$E1" == "$ETAG_POST" ]]'
warm "/products/$PE"
ck "a cached GET (HIT) answers the same ETag" '[[ "$(header ETag)" == "$E1" ]]'
V1=$(sql "SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS') FROM products WHERE id = $PE")
ck "the ETag is the row's id and updated_at" '[[ "$E1" == "\"$PE-$V1\"" ]]'
api PATCH "/products/$PE" '{"price":"3.00"}' -H "If-Match: $E1"
expect "PATCH with the current ETag" 200
E2=$(header ETag)
ck "the PATCH answers a new ETag" '[[ "$E2" =~ $ETAG_RE && "$E2" != "$E1" ]]'
api GET "/products/$PE"
ck "the next GET has the PATCH's ETag" '[[ "$(header ETag)" == "$E2" ]]'
BEFORE=$(sql "SELECT row_to_json(p)::text FROM products p WHERE id = $PE")
api PATCH "/products/$PE" '{"price":"9.00"}' -H "If-Match: $E1"
expect "PATCH with a stale ETag" 412 precondition_failed
api PUT "/products/$PE" "{\"sku\":\"MV-ETAG\",\"name\":\"X\",\"uom_id\":$UNIT,\"price\":\"9.00\"}" -H "If-Match: $E1"
expect "PUT with a stale ETag" 412 precondition_failed
del "/products/$PE" -H "If-Match: $E1"
expect "DELETE with a stale ETag" 412 precondition_failed
api PATCH "/products/$PE" '{"price":"9.00"}' -H "If-Match: W/$E2"
expect "a weak ETag never matches (strong comparison)" 412 precondition_failed
api PATCH "/products/$PE" '{"price":"9.00"}' -H "If-Match: $ETAG_POST, \"garbage\""
expect "a list of stale or malformed ETags" 412 precondition_failed
api PATCH "/products/$PE" '{"price":"9.00"}' -H "If-Match: \"$P1-${E2#*-}"
expect "another product's id with this version" 412 precondition_failed
ck "after five 412s the row is unchanged" \
    '[[ "$(sql "SELECT row_to_json(p)::text FROM products p WHERE id = $PE")" == "$BEFORE" ]]'
api PATCH "/products/$PE" '{"price":"4.00"}' -H "If-Match: \"x\", $E2"
expect "a list holding the current ETag" 200
E3=$(header ETag)
move "$PE" receipt 1
api PATCH "/products/$PE" '{"price":"5.00"}' -H "If-Match: $E3"
expect "a movement since the form was loaded: 412" 412 precondition_failed
draft_confirm "$PE" 1
api GET "/products/$PE"
E4=$(header ETag)
ck "a sale changes the ETag too" '[[ "$E4" != "$E3" ]]'
api GET "/products/$PE"
ck "and the cached read follows (same ETag as the database)" \
    '[[ "$(header ETag)" == "\"$PE-$(sql "SELECT to_char(updated_at AT TIME ZONE '"'UTC'"', '"'YYYYMMDDHH24MISSUS'"') FROM products WHERE id = $PE")\"" ]]'
api PATCH "/products/$PE" '{"price":"5.00"}' -H 'If-Match: *'
expect "If-Match: * is no precondition" 200
api PATCH "/products/$PE" '{"price":"6.00"}'
expect "no If-Match is no precondition" 200
del "/products/999999999" -H "If-Match: $E4"
expect "DELETE of a product that does not exist, with If-Match" 404
product "MV-DEL" "0"
PD=$MK_ID
ED=$(header ETag)
del "/products/$PD" -H "If-Match: $ED"
expect "DELETE with the current ETag" 204
api GET "/products/$PD"
expect "and it is gone" 404

# ---------------------------------------------------------------------------------------------
section "10. A race: receipts, losses, counts, sales and returns on little stock (${RACE_SECONDS}s)"
SLUG_C=moves-c-$SUF
new_tenant "$SLUG_C" "Moves C $SUF" admin@c.test "$PW" || setup_failed
C_ID=$NT_ID
session "$SLUG_C" admin@c.test "$PW" || setup_failed
TOKEN=$S_TOKEN
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
RP=()
for s in R1 R2 R3; do
    product "RACE-$s" "3"
    RP+=("$MK_ID")
done
rm -rf "$PAR" && mkdir -p "$PAR"
# a sale of 1 or 2 units of a product: the draft, then its confirmation
rsale()
{
    local tag=$1 pid=$2 q=$3 id
    id=$(curl -s --max-time 30 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data-binary "{\"items\":[{\"product_id\":$pid,\"quantity\":\"$q\"}]}" "$API/sales" |
        jq -r '.id // empty')
    [[ -n "$id" ]] || { echo 000 >"$PAR/$tag.code"; return; }
    pfire "$tag" POST "/sales/$id/confirm" ""
    [[ "$(cat "$PAR/$tag.code")" == 200 ]] && echo "$id $pid" >"$PAR/$tag.sale"
}
# a return of 1 unit of a sale confirmed in an earlier round (201, or 422 once it is all back)
rreturn()
{
    local tag=$1 id pid
    read -r id pid <"$2" || return
    pfire "$tag" POST "/sales/$id/returns" "{\"items\":[{\"product_id\":$pid,\"quantity\":\"1\"}]}"
}
# Readers race the writers: they fill the cache of one product's list (and of the whole list)
# while its rows change; once the writes are over, no read may show an old list.
(
    while [[ ! -e "$PAR/stop" ]]; do
        curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $TOKEN" \
            "$API/stock/movements?product_id=${RP[0]}&limit=5"
        curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $TOKEN" \
            "$API/stock/movements?limit=5"
    done
) &
READERS=$!
end=$((SECONDS + RACE_SECONDS))
round=0
SOLD=()
while ((SECONDS < end && round < 400)); do
    for j in 1 2 3 4 5 6 7 8; do
        pid=${RP[RANDOM % 3]}
        case $((RANDOM % 8)) in
        0 | 1) pfire "r$round-$j" POST /stock/movements "{\"product_id\":$pid,\"kind\":\"receipt\",\"quantity\":\"1\"}" & ;;
        2 | 3) pfire "l$round-$j" POST /stock/movements "{\"product_id\":$pid,\"kind\":\"loss\",\"quantity\":\"$((RANDOM % 2 + 1))\"}" & ;;
        4) pfire "a$round-$j" POST /stock/movements "{\"product_id\":$pid,\"kind\":\"adjustment\",\"quantity\":\"-0.5\"}" & ;;
        5) pfire "c$round-$j" POST /stock/movements "{\"product_id\":$pid,\"kind\":\"count\",\"quantity\":\"$((RANDOM % 3))\"}" & ;;
        6) if ((${#SOLD[@]})); then
            rreturn "t$round-$j" "${SOLD[RANDOM % ${#SOLD[@]}]}" &
        else
            rsale "s$round-$j" "$pid" "$((RANDOM % 2 + 1))" &
        fi ;;
        *) rsale "s$round-$j" "$pid" "$((RANDOM % 2 + 1))" & ;;
        esac
    done
    # this round's writers, not the readers
    wait $(jobs -p | grep -vx "$READERS")
    SOLD=("$PAR"/*.sale)
    [[ -e "${SOLD[0]}" ]] || SOLD=()
    round=$((round + 1))
done
touch "$PAR/stop"
wait "$READERS"
for i in 1 2; do
    api GET "/stock/movements?product_id=${RP[0]}&limit=5"
    ck "after the race, read $i of the raced product's list ($(header X-Cache)) is the ledger's" \
        "jt '.total == $(sql "SELECT count(*) FROM stock_movements WHERE product_id = ${RP[0]}") and
             .items[0].id == $(sql "SELECT max(id) FROM stock_movements WHERE product_id = ${RP[0]}") and
             .items[0].stock_after == \"$(sql "SELECT stock::text FROM products WHERE id = ${RP[0]}")\"'"
    api GET "/stock/movements?limit=5"
    ck "after the race, read $i of the whole list ($(header X-Cache)) is the ledger's" \
        "jt '.total == $(sql "SELECT count(*) FROM stock_movements WHERE tenant_id = $C_ID") and
             .items[0].id == $(sql "SELECT max(id) FROM stock_movements WHERE tenant_id = $C_ID")'"
done
codes=$(cat "$PAR"/[^t]*.code | fold -w3 | sort | uniq -c | awk '{printf "%sx%s ", $2, $1}')
bad=$(cat "$PAR"/[^t]*.code | fold -w3 | grep -cvE '^(200|201|409)$')
ck "$round rounds of 8 parallel writes: only 201, 200 and 409, some of each ($codes)" \
    '((bad == 0)) && [[ "$codes" == *201x* && "$codes" == *409x* && "$codes" == *200x* ]]'
rcodes=$(cat "$PAR"/t*.code 2>/dev/null | fold -w3 | sort | uniq -c | awk '{printf "%sx%s ", $2, $1}')
rbad=$(cat "$PAR"/t*.code 2>/dev/null | fold -w3 | grep -cvE '^(201|422)$')
ck "returns raced them too: only 201 and 422 (nothing left to return), some returned ($rcodes)" \
    '((rbad == 0)) && [[ "$rcodes" == *201x* ]]'
n409=0
for f in "$PAR"/*.code; do
    [[ "$(cat "$f")" == 409 ]] || continue
    c=$(jq -r .error.code "${f%.code}.body" 2>/dev/null)
    [[ "$c" == insufficient_stock ]] || n409=$((n409 + 1))
done
ck "every 409 of the race is insufficient_stock" '((n409 == 0))'
ck "C's ledger: every product's stock = the sum of its movements" \
    '[[ "$(sql "SELECT count(*) FROM products p WHERE p.tenant_id = $C_ID AND p.stock <>
        (SELECT coalesce(sum(quantity), 0) FROM stock_movements m WHERE m.tenant_id = p.tenant_id AND m.product_id = p.id)")" == 0 ]]'
ck "C's ledger: every row's stock_after = stock_before + quantity, never below zero" \
    '[[ "$(sql "SELECT count(*) FROM stock_movements WHERE tenant_id = $C_ID AND
        (stock_after <> stock_before + quantity OR stock_after < 0 OR stock_before < 0)")" == 0 ]]'
ck "C's ledger: per product, each row's stock_before = the previous row's stock_after (by id)" \
    '[[ "$(sql "SELECT count(*) FROM (SELECT stock_before, lag(stock_after) OVER (PARTITION BY product_id ORDER BY id) AS prev
        FROM stock_movements WHERE tenant_id = $C_ID) x WHERE prev IS NOT NULL AND prev <> stock_before")" == 0 ]]'
ck "C's ledger: the last row of each product is its stock" \
    '[[ "$(sql "SELECT count(*) FROM products p WHERE p.tenant_id = $C_ID AND p.stock <> (SELECT stock_after FROM stock_movements m
        WHERE m.tenant_id = p.tenant_id AND m.product_id = p.id ORDER BY id DESC LIMIT 1)")" == 0 ]]'
ck "no return of C took back more than its sale sold" \
    '[[ "$(sql "SELECT count(*) FROM (SELECT r.sale_id, r.product_id, sum(r.quantity) AS back
        FROM sale_return_lines r WHERE r.tenant_id = $C_ID GROUP BY 1, 2) x WHERE back >
        (SELECT sum(quantity) FROM sale_lines l WHERE l.tenant_id = $C_ID AND l.sale_id = x.sale_id
           AND l.product_id = x.product_id)")" == 0 ]]'
ck "no product of C below zero" '[[ "$(sql "SELECT count(*) FROM products WHERE tenant_id = $C_ID AND stock < 0")" == 0 ]]'
NSALE=$(sql "SELECT count(*) FROM stock_movements WHERE tenant_id = $C_ID AND kind = 'sale'")
ck "every confirmed sale of C has its sale movement ($NSALE)" \
    '[[ "$NSALE" == "$(sql "SELECT count(*) FROM sales WHERE tenant_id = $C_ID AND status = '"'confirmed'"'")" ]]'
api GET "/stock/movements?limit=1"
ck "C's list total = its ledger rows" \
    'jt ".total == $(sql "SELECT count(*) FROM stock_movements WHERE tenant_id = $C_ID")"'
ck "C's per-product counts (the lists' totals, sql/009) = its ledger rows by product and kind" \
    '[[ "$(sql "SELECT count(*) FROM (SELECT product_id, kind, count(*) AS n FROM stock_movements
        WHERE tenant_id = $C_ID GROUP BY 1, 2) l FULL JOIN (SELECT product_id, kind, n
        FROM stock_movement_counts WHERE tenant_id = $C_ID) c USING (product_id, kind)
        WHERE l.n IS DISTINCT FROM c.n")" == 0 ]]'
NRCPT=$(sql "SELECT count(*) FROM stock_movements WHERE tenant_id = $C_ID AND kind = 'receipt'")
api GET "/stock/movements?kind=receipt&limit=1"
ck "C's receipts list total = its receipt rows ($NRCPT)" 'jt ".total == $NRCPT"'

section "the ledger is append-only (sql/012)"
M1=$(sql "SELECT min(id) FROM stock_movements WHERE tenant_id = $C_ID")
BEFORE=$(sql "SELECT count(*), sum(quantity) FROM stock_movements WHERE tenant_id = $C_ID")
for stmt in "UPDATE stock_movements SET quantity = quantity + 1 WHERE id = $M1" \
    "DELETE FROM stock_movements WHERE id = $M1" "TRUNCATE stock_movements CASCADE"; do
    out=$(sql "$stmt" 2>&1)
    ck "refused, even to the table's owner: ${stmt%% WHERE*}" \
        '[[ "$out" == *"stock_movements is append-only"* ]]'
done
ck "C's ledger is as it was ($BEFORE)" \
    '[[ "$(sql "SELECT count(*), sum(quantity) FROM stock_movements WHERE tenant_id = $C_ID")" == "$BEFORE" ]]'
# A product without sales goes with its history (the cascade is let through).
product "LEDGER-GONE-$SUF" 4
GONE=$MK_ID
ck "a new product has its opening movement" \
    '[[ "$(sql "SELECT count(*) FROM stock_movements WHERE tenant_id = $C_ID AND product_id = $GONE")" -ge 1 ]]'
api DELETE "/products/$GONE"
ck "DELETE /products/$GONE (its movements go with it: $R_STATUS)" \
    '[[ "$R_STATUS" == 204 && "$(sql "SELECT count(*) FROM stock_movements WHERE tenant_id = $C_ID AND product_id = $GONE")" == 0 ]]'

section "end"
ck "no request of this suite got a 5xx or no answer (${FIVEXX:-none})" '[[ -z "$FIVEXX" ]]'
t_result "$SUITE"
