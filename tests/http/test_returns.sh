#!/usr/bin/env bash
# test_returns.sh: returns and refunds of confirmed sales end to end through nginx (SPEC §10):
# partial and whole returns with and without a refund, the pricing of a product sold on lines
# of different prices (highest-priced line first, cumulative rounding), every bound (422 naming
# items[i].*, 409 overrefund / invalid_state / has_returns), Idempotency-Key replay and mismatch,
# the sale's returned/refunded/paid/outstanding, refunds in GET /payments (kind, filters, total
# = the rows), the balance series against the raw rows (sales, sale_returns, payments) with psql,
# the admin role, tenant isolation, and parallel returns (never more returned than sold nor
# refunded than paid, no deadlock with confirmations and payments, the ledger invariant after).
# Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_DIR, DATABASE_URL. Needs jq.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/returns-test
: "${DATABASE_URL:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
SUF=$$-$RANDOM
SUITE=http-returns
mkdir -p "$DIR/tmp"
TMP=$DIR/tmp

if ! command -v jq >/dev/null 2>&1; then
    t_not_ok "jq is installed (deploy/deps.sh installs it)"
    t_result "$SUITE"
    exit 1
fi
trap 'rm -rf "$TMP"' EXIT
trap 'exit 143' TERM INT

. "$ROOT/tests/lib/api.sh"

# q SQL: one value from PostgreSQL.
q()
{
    psql -X -At "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "$1"
}

# product SKU PRICE STOCK: a product of unit $UNIT (bearer $TOKEN); sets MK_ID.
product()
{
    mk /products "$(jq -cn --arg s "$1" --arg p "$2" --arg st "$3" --argjson u "$UNIT" \
        '{sku: $s, name: ("Product " + $s), uom_id: $u, price: $p, stock: $st}')"
}

# sale LINES_JSON [CONFIRM_BODY]: a confirmed sale of LINES_JSON (confirmed with CONFIRM_BODY
# when given); sets MK_ID. DRAFT_ONLY=1 leaves it a draft.
sale()
{
    mk /sales "$(jq -cn --argjson i "$1" '{items: $i}')"
    local id=$MK_ID
    [[ "${DRAFT_ONLY:-0}" == 1 ]] && return 0
    if (($# > 1)); then
        api POST "/sales/$id/confirm" "$2"
    else
        api POST "/sales/$id/confirm"
    fi
    [[ "$R_STATUS" == 200 ]] || t_not_ok "confirm fixture sale $id" "got $R_STATUS: $(snip)"
    MK_ID=$id
}

# ret SALE BODY [curl args]: POST /sales/SALE/returns.
ret()
{
    local s=$1 b=$2
    shift 2
    api POST "/sales/$s/returns" "$b" "$@"
}

stock_of()
{
    api GET "/products/$1"
    jf .stock
}

# sale_sums SALE: "returned refunded paid outstanding" of GET /sales/SALE.
sale_sums()
{
    api GET "/sales/$1"
    jf '"\(.returned_total) \(.refunded_total) \(.paid_total) \(.outstanding)"'
}

dplus()
{
    date -u -d "$1 $2 days" +%F
}

# Parallel clients (as test_sales_api.sh): pfire TAG METHOD PATH [BODY [curl args]].
# Parallel clients (pfire, pcodes, ... of tests/lib/api.sh) write under PAR.
PAR=$TMP/par

# ledger_ok TENANT: for every product of TENANT, its stock is the sum of its movements, and
# every movement's stock_after = stock_before + quantity. Prints the offending count (0 = ok).
ledger_bad()
{
    q "SELECT (SELECT count(*) FROM products p WHERE p.tenant_id = $1 AND p.stock <>
                (SELECT coalesce(sum(m.quantity), 0) FROM stock_movements m
                 WHERE m.tenant_id = p.tenant_id AND m.product_id = p.id))
            + (SELECT count(*) FROM stock_movements WHERE tenant_id = $1
               AND stock_after <> stock_before + quantity)"
}

RET_KEYS='["created_at","id","items","note","refund","returned_total"]'
TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}:[0-9]{2}$'

# ---------------------------------------------------------------------------------------------
section "setup"
PW=correct-horse-$SUF
secret_note "$PW"
SLUG_A=ret-a-$SUF
SLUG_B=ret-b-$SUF
setup_failed()
{
    t_result "$SUITE"
    exit 1
}
new_tenant "$SLUG_A" "Returns A $SUF" admin@a.test "$PW" || setup_failed
A_ID=$NT_ID
new_tenant "$SLUG_B" "Returns B $SUF" admin@b.test "$PW" || setup_failed
B_ID=$NT_ID
printf '%s\n' "$PW" | "$STOCKCTL" user create --tenant "$SLUG_A" --email staff@a.test \
    --role staff >/dev/null 2>&1 || t_not_ok "stockctl creates a staff user of A"
session "$SLUG_A" admin@a.test "$PW" || setup_failed
TOKEN_A=$S_TOKEN
session "$SLUG_B" admin@b.test "$PW" || setup_failed
TOKEN_B=$S_TOKEN
session "$SLUG_A" staff@a.test "$PW" && TOKEN_STAFF=$S_TOKEN || TOKEN_STAFF=""
ADMIN_A=$(q "SELECT id FROM users WHERE tenant_id = $A_ID AND email = 'admin@a.test'")
t_ok "tenants A and B with their admins (and A's staff) signed in"

TOKEN=$TOKEN_A
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
product "RA" "10.00" "100"
PA=$MK_ID
product "RB" "3.33" "100"
PB=$MK_ID
product "RC" "5.00" "10"
PC=$MK_ID
DAY0=$(date -u +%F)
BAL="/balance/series?from=$(dplus "$DAY0" -2)&to=$(dplus "$DAY0" 2)&granularity=daily"

# =============================================================================================
section "1. Partial returns, pricing, refunds"
# PA on two lines at different prices (3 at 10.00, 2 at 12.00), PB 2.5 at 3.33 (8.325 -> 8.33).
sale "[{\"product_id\":$PA,\"quantity\":3},{\"product_id\":$PB,\"quantity\":\"2.5\"},{\"product_id\":$PA,\"quantity\":2,\"unit_price\":\"12.00\"}]" \
    '{"payment":{"amount":"20.00","method":"cash"}}'
S1=$MK_ID
api GET "/sales/$S1"
ck "S1: total 62.33, paid 20.00, returned 0.00, refunded 0.00, outstanding 42.33, returns []" \
    'jt ".total == \"62.33\" and .paid_total == \"20.00\" and .returned_total == \"0.00\"
         and .refunded_total == \"0.00\" and .outstanding == \"42.33\" and .returns == []"'
warm "$BAL"
ck "the confirmation took 5 of PA (95.000)" '[[ "$(stock_of "$PA")" == 95.000 ]]'

ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":3}]}"
expect "POST /sales/{id}/returns (3 of PA, no refund)" 201
R1=$(jf .id)
R1_BODY=$R_BODY
ck "a return is exactly {id, items, returned_total, refund, note, created_at}" \
    'jt "keys == $RET_KEYS" && [[ "$(jf .created_at)" =~ $TS_RE ]]'
ck "3 of PA take the 12.00 line first: 2 x 12.00 = 24.00, then 1 x 10.00; total 34.00, refund null" \
    'jt ".items == [{\"product\":{\"id\":$PA,\"sku\":\"RA\",\"name\":\"Product RA\"},\"quantity\":\"2.000\",
         \"unit_price\":\"12.00\",\"line_total\":\"24.00\"},{\"product\":{\"id\":$PA,\"sku\":\"RA\",
         \"name\":\"Product RA\"},\"quantity\":\"1.000\",\"unit_price\":\"10.00\",\"line_total\":\"10.00\"}]
         and .returned_total == \"34.00\" and .refund == null and .note == null"'
ck "PA's stock came back: 95 + 3 = 98.000" '[[ "$(stock_of "$PA")" == 98.000 ]]'
api GET "/sales/$S1"
ck "S1 after R1: returned 34.00, paid 20.00, outstanding 62.33 - 34.00 - 20.00 = 8.33" \
    'jt ".returned_total == \"34.00\" and .refunded_total == \"0.00\" and .paid_total == \"20.00\"
         and .outstanding == \"8.33\" and .status == \"confirmed\""'
ck "GET /sales/{id} lists the return as POST answered it" \
    'jt ".returns == [\$r]" --argjson r "$R1_BODY"'
ck "the return's ledger rows: kind return, sale and return set, +3 in all, by the admin" \
    '[[ "$(q "SELECT count(*), sum(quantity), bool_and(sale_id = $S1 AND user_id = $ADMIN_A AND quantity > 0)
              FROM stock_movements WHERE tenant_id = $A_ID AND kind = '"'"'return'"'"' AND return_id = $R1")" == "1|3.000|t" ]]'

ret "$S1" "{\"items\":[{\"product_id\":$PB,\"quantity\":\"1.5\"}],\"refund\":{\"amount\":\"5.00\",\"method\":\"card\"},\"note\":\"damaged box\"}"
expect "a return of 1.5 PB with a 5.00 card refund" 201
R2=$(jf .id)
R2_REFUND=$(jf .refund.id)
ck "1.5 x 3.33 = 4.995 -> 5.00; refund {id, amount 5.00, method card}; the note" \
    'jt ".items == [{\"product\":{\"id\":$PB,\"sku\":\"RB\",\"name\":\"Product RB\"},\"quantity\":\"1.500\",
         \"unit_price\":\"3.33\",\"line_total\":\"5.00\"}] and .returned_total == \"5.00\"
         and (.refund | keys == [\"amount\",\"id\",\"method\"] and .amount == \"5.00\" and .method == \"card\"
              and (.id | type == \"number\")) and .note == \"damaged box\""'
ck "S1 after R2: returned 39.00, refunded 5.00, paid 15.00, outstanding 8.33" \
    '[[ "$(sale_sums "$S1")" == "39.00 5.00 15.00 8.33" ]]'
api GET "/payments?sale_id=$S1"
ck "GET /payments?sale_id: the payment (kind payment) and the refund (kind refund, -5.00, card)" \
    'jt ".total == 2 and ([.items[] | {kind, amount, method}] | sort_by(.kind)) ==
         [{\"kind\":\"payment\",\"amount\":\"20.00\",\"method\":\"cash\"},
          {\"kind\":\"refund\",\"amount\":\"-5.00\",\"method\":\"card\"}]
         and ([.items[] | select(.kind == \"refund\") | .id] == [$R2_REFUND])"'
api GET "/payments?sale_id=$S1&method=card"
ck "method=card on that sale: only the refund" 'jt ".total == 1 and .items[0].kind == \"refund\""'
api GET "$BAL"
ck "the cached series right after the returns: today's returns_total 39.00 and payments 20.00 - 5.00" \
    'jt ".points[] | select(.period == \"$DAY0\") | .returns_total == \"39.00\" and .payments_total == \"15.00\"
         and .sales_total == \"62.33\" and .outstanding == \"8.33\""'
api GET "$BAL&method=card"
ck "method=card: the refund lowers card payments on its day (-5.00)" \
    'jt ".points[] | select(.period == \"$DAY0\") | .payments_total == \"-5.00\" and .outstanding == \"8.33\""'

# =============================================================================================
section "2. Bounds: nothing changes"
snap()
{
    echo "$(stock_of "$PA") $(stock_of "$PB") $(stock_of "$PC") $(sale_sums "$S1") $(q "SELECT count(*) FROM sale_returns WHERE tenant_id = $A_ID") $(q "SELECT count(*) FROM payments WHERE tenant_id = $A_ID")"
}
SNAP=$(snap)
ret "$S1" "{\"items\":[{\"product_id\":$PB,\"quantity\":\"1.001\"}]}"
expect "PB: 1.001 when 1.000 is left" 422 exceeds_returnable "items[0].quantity"
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":1},{\"product_id\":$PA,\"quantity\":1}]}"
expect "PA twice in one return" 422 duplicate "items[1].product_id"
ret "$S1" "{\"items\":[{\"product_id\":$PB,\"quantity\":1},{\"product_id\":$PA,\"quantity\":\"2.001\"}]}"
expect "the second line above what is left of PA (2.000)" 422 exceeds_returnable "items[1].quantity"
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":1},{\"product_id\":$PC,\"quantity\":1}]}"
expect "a product not on the sale" 422 invalid_reference "items[1].product_id"
ret "$S1" '{"items":[{"product_id":999999999,"quantity":1}]}'
expect "a product that does not exist" 422 invalid_reference "items[0].product_id"
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":1}],\"refund\":{\"amount\":\"15.01\",\"method\":\"cash\"}}"
expect "a refund above paid minus refunded (15.00)" 409 overrefund "refund.amount"
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":0}]}"
expect "quantity 0" 422 not_positive "items[0].quantity"
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":\"-1\"}]}"
expect "a negative quantity" 422 "" "items[0].quantity"
ret "$S1" '{"items":[]}'
expect "no items" 422 invalid_length items
ret "$S1" '{}'
expect "items missing" 422 required items
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":1}],\"refund\":{\"amount\":\"1.00\",\"method\":\"bitcoin\"}}"
expect "a refund by an unknown method" 422 invalid_method refund.method
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":1}],\"refund\":{\"amount\":0,\"method\":\"cash\"}}"
expect "a refund of 0" 422 not_positive refund.amount
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":1}],\"refund\":\"5.00\"}"
expect "a refund that is not an object" 422 invalid_type refund
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":1}],\"note\":\"$(head -c 501 /dev/zero | tr '\0' n)\"}"
expect "a note of 501 characters" 422 "" note
ret "$S1" "not json"
expect "a malformed body" 400
call POST "$API/sales/$S1/returns" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' \
    --data-binary "{\"items\":[{\"product_id\":$PA,\"quantity\":1}]}"
expect "a body as text/plain" 415
ret 999999999 "{\"items\":[{\"product_id\":$PA,\"quantity\":1}]}"
expect "a sale that does not exist" 404 not_found
DRAFT_ONLY=1 sale "[{\"product_id\":$PA,\"quantity\":1}]"
SD=$MK_ID
ret "$SD" "{\"items\":[{\"product_id\":$PA,\"quantity\":1}]}"
expect "a return on a draft" 409 invalid_state
sale "[{\"product_id\":$PA,\"quantity\":1}]"
SX=$MK_ID
api POST "/sales/$SX/cancel"
ret "$SX" "{\"items\":[{\"product_id\":$PA,\"quantity\":1}]}"
expect "a return on a cancelled sale" 409 invalid_state
if [[ -n "$TOKEN_STAFF" ]]; then
    api_as "$TOKEN_STAFF" POST "/sales/$S1/returns" "{\"items\":[{\"product_id\":$PA,\"quantity\":1}]}"
    expect "staff may not record a return" 403 forbidden
else
    t_not_ok "A's staff user signs in"
fi
api_as "$TOKEN_B" POST "/sales/$S1/returns" "{\"items\":[{\"product_id\":$PA,\"quantity\":1}]}"
expect "tenant B: a return on A's sale" 404 not_found
ck "none of it changed stock, the sale, the returns or the payments" '[[ "$(snap)" == "$SNAP" ]]'

# =============================================================================================
section "3. The whole sale back; payments, cancel"
ret "$S1" "{\"items\":[{\"product_id\":$PA,\"quantity\":2},{\"product_id\":$PB,\"quantity\":1}],\"refund\":{\"amount\":\"15.00\",\"method\":\"transfer\"}}"
expect "the rest back (2 PA, 1 PB) with a 15.00 transfer refund" 201
ck "2 PA at 10.00 = 20.00; PB 2.5 x 3.33 rounded on the line = 8.33 - 5.00 = 3.33; total 23.33" \
    'jt "([.items[] | [.product.id, .quantity, .unit_price, .line_total]] ==
          [[$PA, \"2.000\", \"10.00\", \"20.00\"], [$PB, \"1.000\", \"3.33\", \"3.33\"]])
         and .returned_total == \"23.33\" and .refund.amount == \"15.00\""'
ck "S1 wholly returned: returned 62.33 = total, refunded 20.00, paid 0.00, outstanding 0.00" \
    '[[ "$(sale_sums "$S1")" == "62.33 20.00 0.00 0.00" ]]'
ck "the stock of PA and PB is back to 100" '[[ "$(stock_of "$PA") $(stock_of "$PB")" == "100.000 100.000" ]]'
ret "$S1" "{\"items\":[{\"product_id\":$PB,\"quantity\":\"0.001\"}]}"
expect "nothing more to return" 422 exceeds_returnable "items[0].quantity"
api POST "/sales/$S1/cancel"
expect "cancel of a sale with returns (and payments)" 409 has_returns
api GET /sales?status=confirmed
ck "GET /sales shows S1 with the same sums as GET /sales/{id}" \
    'jt ".items[] | select(.id == $S1) | .returned_total == \"62.33\" and .refunded_total == \"20.00\"
         and .paid_total == \"0.00\" and .outstanding == \"0.00\" and (has(\"returns\") | not)"'

sale "[{\"product_id\":$PC,\"quantity\":2}]"
S3=$MK_ID
ret "$S3" "{\"items\":[{\"product_id\":$PC,\"quantity\":1}]}"
expect "a return on an unpaid sale" 201
api POST "/sales/$S3/cancel"
expect "cancel of an unpaid sale with a return" 409 has_returns
api GET "/sales/$S3"
ck "S3 stays confirmed: outstanding 10.00 - 5.00 = 5.00" 'jt ".status == \"confirmed\" and .outstanding == \"5.00\""'
api POST /payments "{\"sale_id\":$S3,\"amount\":\"5.01\",\"method\":\"cash\"}"
expect "a payment above total - returned - paid" 409 overpayment amount
api POST /payments "{\"sale_id\":$S3,\"amount\":\"5.00\",\"method\":\"cash\"}"
expect "a payment of exactly what is left after the return" 201
ck "POST /payments answers kind payment" 'jt ".kind == \"payment\""'
ck "S3: paid 5.00, outstanding 0.00" '[[ "$(sale_sums "$S3")" == "5.00 0.00 5.00 0.00" ]]'

sale "[{\"product_id\":$PC,\"quantity\":1}]" '{"payment":{"amount":"5.00","method":"card"}}'
S4=$MK_ID
ret "$S4" "{\"items\":[{\"product_id\":$PC,\"quantity\":1}]}"
expect "a paid sale returned without a refund" 201
ck "S4: outstanding 5.00 - 5.00 - 5.00 = -5.00 (the shop owes)" '[[ "$(sale_sums "$S4")" == "5.00 0.00 5.00 -5.00" ]]'
api POST /payments "{\"sale_id\":$S4,\"amount\":\"0.01\",\"method\":\"cash\"}"
expect "no payment on a sale that owes nothing" 409 overpayment

# =============================================================================================
section "4. Idempotency-Key"
sale "[{\"product_id\":$PB,\"quantity\":4}]" '{"payment":{"amount":"10.00","method":"cash"}}'
S5=$MK_ID
K=ret-key-$SUF
BODY5="{\"items\":[{\"product_id\":$PB,\"quantity\":1}],\"refund\":{\"amount\":\"3.33\",\"method\":\"cash\"}}"
ret "$S5" "$BODY5" -H "Idempotency-Key: $K"
expect "a return with an Idempotency-Key" 201
FIRST=$R_BODY
ret "$S5" "$BODY5" -H "Idempotency-Key: $K"
expect "the same return and key again" 201
ck "the replay is the first answer, byte for byte" '[[ "$R_BODY" == "$FIRST" ]]'
ck "one return and one refund recorded, 1 PB back once" \
    '[[ "$(q "SELECT (SELECT count(*) FROM sale_returns WHERE tenant_id = $A_ID AND sale_id = $S5),
                    (SELECT count(*) FROM payments WHERE tenant_id = $A_ID AND sale_id = $S5 AND kind = '"'"'refund'"'"'),
                    (SELECT sum(quantity) FROM stock_movements WHERE tenant_id = $A_ID AND sale_id = $S5 AND kind = '"'"'return'"'"')")" == "1|1|1.000" ]]'
ret "$S5" "{\"items\":[{\"product_id\":$PB,\"quantity\":2}],\"refund\":{\"amount\":\"3.33\",\"method\":\"cash\"}}" -H "Idempotency-Key: $K"
expect "the same key with another quantity" 422 idempotency_mismatch Idempotency-Key
ret "$S5" "{\"items\":[{\"product_id\":$PB,\"quantity\":1}]}" -H "Idempotency-Key: $K"
expect "the same key without the refund" 422 idempotency_mismatch
ret "$S3" "{\"items\":[{\"product_id\":$PC,\"quantity\":1}]}" -H "Idempotency-Key: $K"
expect "the same key on another sale" 422 idempotency_mismatch
api POST /payments "{\"sale_id\":$S5,\"amount\":\"1.00\",\"method\":\"cash\"}" -H "Idempotency-Key: pay-$K"
expect "a payment with its own key" 201
ret "$S5" "$BODY5" -H "Idempotency-Key: pay-$K"
expect "a payment's key on a return" 422 idempotency_mismatch
ret "$S5" "$BODY5" -H "Idempotency-Key: $(head -c 300 /dev/zero | tr '\0' k)"
expect "a 300-character key" 422 invalid_idempotency_key
ck "S5: returned 3.33, refunded 3.33, paid 10.00 - 3.33 + 1.00 = 7.67, outstanding 13.32 - 3.33 - 7.67 = 2.32" \
    '[[ "$(sale_sums "$S5")" == "3.33 3.33 7.67 2.32" ]]'

# =============================================================================================
section "5. Tenant isolation"
api_as "$TOKEN_B" GET "/sales/$S1"
expect "B: GET A's sale with returns" 404
api_as "$TOKEN_B" GET /payments
ck "B lists no payment or refund" 'jt ".total == 0 and .items == []"'
api_as "$TOKEN_B" GET "$BAL"
ck "B's series is zeros, returns included" \
    'jt "all(.points[]; .returns_total == \"0.00\" and .payments_total == \"0.00\") and .totals.returns_total == \"0.00\""'
api_as "$TOKEN_B" POST "/sales/$S5/returns" "$BODY5" -H "Idempotency-Key: $K"
expect "B with A's key on A's sale: 404 (keys are per tenant, the sale is not B's)" 404

# =============================================================================================
section "6. Concurrency"
TOKEN=$TOKEN_A
product "CC1" "1.00" "10"
PQ=$MK_ID
sale "[{\"product_id\":$PQ,\"quantity\":10}]" '{"payment":{"amount":"10.00","method":"cash"}}'
SC1=$MK_ID
par_reset
T0=$SECONDS
for i in $(seq 1 20); do
    pfire "q-$i" POST "/sales/$SC1/returns" \
        "{\"items\":[{\"product_id\":$PQ,\"quantity\":1}],\"refund\":{\"amount\":\"1.00\",\"method\":\"cash\"}}" &
done
wait
ck "20 parallel returns of 1 of the 10 sold: 10 x 201, 10 x 422 ($(pcodes q-))" \
    '(($(pcount q- 201) == 10 && $(pcount q- 422) == 10))'
ck "the 422s are exceeds_returnable ($(perrcodes q- 422))" '[[ "$(perrcodes q- 422)" == "exceeds_returnable " ]]'
ck "SC1: returned 10.00, refunded 10.00, paid 0.00, outstanding 0.00; stock back to 10" \
    '[[ "$(sale_sums "$SC1") $(stock_of "$PQ")" == "10.00 10.00 0.00 0.00 10.000" ]]'

sale "[{\"product_id\":$PQ,\"quantity\":10}]" '{"payment":{"amount":"4.00","method":"card"}}'
SC2=$MK_ID
par_reset
for i in $(seq 1 12); do
    pfire "r-$i" POST "/sales/$SC2/returns" \
        "{\"items\":[{\"product_id\":$PQ,\"quantity\":1}],\"refund\":{\"amount\":\"1.00\",\"method\":\"card\"}}" &
done
wait
ck "12 parallel returns refunding 1.00 each of 4.00 paid: 4 x 201, 8 x 409 ($(pcodes r-))" \
    '(($(pcount r- 201) == 4 && $(pcount r- 409) == 8))'
ck "the 409s are overrefund ($(perrcodes r- 409))" '[[ "$(perrcodes r- 409)" == "overrefund " ]]'
ck "SC2: never refunded more than paid: returned 4.00, refunded 4.00, paid 0.00" \
    '[[ "$(sale_sums "$SC2")" == "4.00 4.00 0.00 6.00" ]]'

# Returns of two products (given in reverse id order) racing confirmations of drafts with the
# same products and payments on the sale: the lock order (sale, then products by id) is the
# same everywhere, so nothing deadlocks (a deadlock would be a 500).
product "CX" "2.00" "100"
PX=$MK_ID
product "CY" "3.00" "100"
PY=$MK_ID
sale "[{\"product_id\":$PY,\"quantity\":5},{\"product_id\":$PX,\"quantity\":5}]"
SC3=$MK_ID
DRAFTS=()
for i in $(seq 1 8); do
    DRAFT_ONLY=1 sale "[{\"product_id\":$PY,\"quantity\":1},{\"product_id\":$PX,\"quantity\":1}]"
    DRAFTS+=("$MK_ID")
done
par_reset
for i in $(seq 1 8); do
    pfire "m-ret-$i" POST "/sales/$SC3/returns" \
        "{\"items\":[{\"product_id\":$PY,\"quantity\":1},{\"product_id\":$PX,\"quantity\":1}]}" &
    pfire "m-conf-$i" POST "/sales/${DRAFTS[$((i - 1))]}/confirm" &
    pfire "m-pay-$i" POST /payments "{\"sale_id\":$SC3,\"amount\":\"1.00\",\"method\":\"transfer\"}" &
done
wait
ck "returns racing confirmations and payments: 5 x 201 and 3 x 422 returns ($(pcodes m-ret-))" \
    '(($(pcount m-ret- 201) == 5 && $(pcount m-ret- 422) == 3))'
ck "every confirmation succeeded ($(pcodes m-conf-))" '(($(pcount m-conf- 200) == 8))'
ck "no payment failed but by overpayment ($(pcodes m-pay-))" \
    '[[ -z "$(pall m-pay- | grep -v "^201$\|^409$")" ]]'
ck "SC3: returned 25.00 = total, outstanding = -paid" \
    'api GET "/sales/$SC3"; jt ".returned_total == \"25.00\" and (.outstanding | tonumber) == -(.paid_total | tonumber)"'
ck "the stock of CX and CY: 100 - 5 + 5 - 8 = 92" '[[ "$(stock_of "$PX") $(stock_of "$PY")" == "92.000 92.000" ]]'
ck "the concurrency part took at most 20 s ($((SECONDS - T0)) s)" '((SECONDS - T0 <= 20))'
ck "the ledger adds up for every product of A (stock = sum of movements, after = before + quantity)" \
    '[[ "$(ledger_bad "$A_ID")" == 0 ]]'
ck "no sale of A has more returned than sold of any product" \
    '[[ "$(q "SELECT count(*) FROM (SELECT sale_id, product_id, sum(quantity) AS q FROM sale_return_lines
              WHERE tenant_id = $A_ID GROUP BY 1, 2) r JOIN (SELECT sale_id, product_id, sum(quantity) AS q
              FROM sale_lines WHERE tenant_id = $A_ID GROUP BY 1, 2) s USING (sale_id, product_id)
              WHERE r.q > s.q")" == 0 ]]'
ck "no sale of A has more refunded than paid (its payments sum to >= 0)" \
    '[[ "$(q "SELECT count(*) FROM (SELECT sale_id FROM payments WHERE tenant_id = $A_ID
              GROUP BY 1 HAVING sum(amount) < 0) x")" == 0 ]]'

# =============================================================================================
section "7. Balance and payments against the raw rows"
# The series per day, recomputed from sales, sale_returns and payments (refunds are negative
# payments; the method filter applies to them by their method), for each method.
raw_points()
{
    local from=$1 to=$2 m=$3
    q "SELECT string_agg(format('%s %s %s %s %s %s', d::date, sc, st, rt, pt, o), ' ' ORDER BY d)
       FROM (SELECT d, sc, st, rt, pt, (sum(st - rt - pa) OVER (ORDER BY d) + owed0)::numeric(14, 2) AS o
       FROM (SELECT d,
           (SELECT count(*) FROM sales WHERE tenant_id = $A_ID AND status = 'confirmed' AND balance_day = d) AS sc,
           (SELECT coalesce(sum(total), 0) FROM sales WHERE tenant_id = $A_ID AND status = 'confirmed' AND balance_day = d)::numeric(14, 2) AS st,
           (SELECT coalesce(sum(returned_total), 0) FROM sale_returns WHERE tenant_id = $A_ID AND balance_day = d)::numeric(14, 2) AS rt,
           (SELECT coalesce(sum(amount), 0) FROM payments WHERE tenant_id = $A_ID AND balance_day = d
                AND ('$m' = 'all' OR method = '$m'))::numeric(14, 2) AS pt,
           (SELECT coalesce(sum(amount), 0) FROM payments WHERE tenant_id = $A_ID AND balance_day = d) AS pa,
           (SELECT coalesce(sum(total), 0) FROM sales WHERE tenant_id = $A_ID AND status = 'confirmed' AND balance_day < '$from')
           - (SELECT coalesce(sum(returned_total), 0) FROM sale_returns WHERE tenant_id = $A_ID AND balance_day < '$from')
           - (SELECT coalesce(sum(amount), 0) FROM payments WHERE tenant_id = $A_ID AND balance_day < '$from') AS owed0
           FROM generate_series('$from'::date, '$to'::date, '1 day') AS d) x) y"
}
FROM=$(dplus "$DAY0" -2)
TO=$(dplus "$DAY0" 2)
for m in all cash card transfer; do
    api GET "/balance/series?from=$FROM&to=$TO&granularity=daily&method=$m"
    have=$(jf '[.points[] | "\(.period) \(.sales_count) \(.sales_total) \(.returns_total) \(.payments_total) \(.outstanding)"] | join(" ")')
    want=$(raw_points "$FROM" "$TO" "$m")
    ck "series method=$m: every point = the raw rows ($want)" '[[ -n "$want" && "$have" == "$want" ]]'
    ck "series method=$m: totals = the sums of its points" \
        'jt "(.totals.returns_total | tonumber) == ([.points[].returns_total | tonumber] | add)
             and (.totals.payments_total | tonumber) == ([.points[].payments_total | tonumber] | add)
             and .totals.outstanding == .points[-1].outstanding"'
done
api GET "/balance/series?from=$FROM&to=$TO&granularity=monthly"
ck "monthly: outstanding at the end = sum of the sales' outstanding" \
    '[[ "$(jf ".points[-1].outstanding")" == "$(q "SELECT (sum(total) - coalesce((SELECT sum(returned_total) FROM sale_returns WHERE tenant_id = $A_ID), 0)
        - coalesce((SELECT sum(amount) FROM payments WHERE tenant_id = $A_ID), 0))::numeric(14, 2)
        FROM sales WHERE tenant_id = $A_ID AND status = '"'"'confirmed'"'"'")" ]]'
ck "balance_daily = a rebuild from the raw rows (stock_balance_rebuild, in a rolled back transaction)" \
    '[[ "$(psql -X -q -At "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "BEGIN" \
        -c "CREATE TEMP TABLE b0 AS SELECT * FROM balance_daily WHERE tenant_id = $A_ID" \
        -c "SELECT stock_balance_rebuild($A_ID)" \
        -c "SELECT count(*) FROM ((SELECT * FROM b0 EXCEPT SELECT * FROM balance_daily WHERE tenant_id = $A_ID)
            UNION ALL (SELECT * FROM balance_daily WHERE tenant_id = $A_ID EXCEPT SELECT * FROM b0)) x" \
        -c "ROLLBACK" | tail -n 1)" == 0 ]]'
for f in "" "method=card" "method=transfer" "method=cash&from=$DAY0&to=$DAY0" "from=$FROM"; do
    api GET "/payments?limit=200${f:+&$f}"
    want=$(q "SELECT count(*) FROM payments WHERE tenant_id = $A_ID
        $(sed -e 's/&/ /g' <<<"$f" | tr ' ' '\n' | sed -n \
            -e "s/^from=\(.*\)/AND balance_day >= '\1'/p" -e "s/^to=\(.*\)/AND balance_day <= '\1'/p" \
            -e "s/^method=\(.*\)/AND method = '\1'/p" | tr '\n' ' ')")
    ck "GET /payments?${f:-(no filter)}: total $(jf .total) = the rows with refunds ($want) = items listed" \
        '[[ "$R_STATUS" == 200 && -n "$want" && "$(jf .total)" == "$want" && "$(jf ".items | length")" == "$want" ]]'
done
api GET "/payments?limit=200"
ck "every listed row is a payment with amount > 0 or a refund with amount < 0" \
    'jt "all(.items[]; (.kind == \"payment\" and (.amount | tonumber) > 0) or (.kind == \"refund\" and (.amount | tonumber) < 0))
         and any(.items[]; .kind == \"refund\")"'

ck "no request of this suite got a 5xx or no answer (${FIVEXX:-none})" '[[ -z "$FIVEXX" ]]'
t_result "$SUITE"
