#!/usr/bin/env bash
# test_sales_api.sh: sales, payments and the balance series end to end through nginx (SPEC §4-5):
# every route with its body shapes and money/quantity strings; a full flow (product -> draft ->
# confirm with payment -> stock seen at once in the cached product reads -> payment -> balance
# series -> refused cancel); every error code with its field; real parallel clients (stock never
# below zero, no overpayment, one payment per Idempotency-Key); tenant isolation; the balance
# series' validation, periods and cache freshness; hostile input. It creates its own tenants
# (unique slugs), so it can share a database with other suites. Environment from
# tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_DIR, STOCK_TEST_POOL_PID, DATABASE_URL.
# Needs jq.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
POOL=${STOCK_TEST_POOL_PID:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/sales-api-test
: "${DATABASE_URL:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
SUF=$$-$RANDOM
SUITE=http-sales-api
mkdir -p "$DIR/tmp"
TMP=$DIR/tmp

if ! command -v jq >/dev/null 2>&1; then
    t_not_ok "jq is installed (deploy/deps.sh installs it)"
    t_result "$SUITE"
    exit 1
fi

cleanup()
{
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---------------------------------------------------------------------------------------------
# Helpers (the style of tests/http/test_api.sh)

. "$ROOT/tests/lib/api.sh"

# product SKU PRICE STOCK: a product of unit $UNIT (bearer $TOKEN); sets MK_ID.
product()
{
    mk /products "$(jq -cn --arg s "$1" --arg p "$2" --arg st "$3" --argjson u "$UNIT" \
        '{sku: $s, name: ("Product " + $s), uom_id: $u, price: $p, stock: $st}')"
}

# draft LINES_JSON [CUSTOMER]: a draft sale (bearer $TOKEN); sets MK_ID.
draft()
{
    if (($# > 1)); then
        mk /sales "$(jq -cn --argjson i "$1" --arg c "$2" '{customer: $c, items: $i}')"
    else
        mk /sales "$(jq -cn --argjson i "$1" '{items: $i}')"
    fi
}

# confirmed_sale PRODUCT QTY: a confirmed sale of QTY units of PRODUCT; sets MK_ID.
confirmed_sale()
{
    draft "[{\"product_id\":$1,\"quantity\":\"$2\"}]"
    local id=$MK_ID
    api POST "/sales/$id/confirm"
    [[ "$R_STATUS" == 200 ]] || t_not_ok "confirm fixture sale $id" "got $R_STATUS: $(snip)"
    MK_ID=$id
}

# stock_of PRODUCT: the product's stock as GET /products/{id} shows it.
stock_of()
{
    api GET "/products/$1"
    jf .stock
}

# dplus DATE N: DATE plus N days (N may be negative), YYYY-MM-DD.
dplus()
{
    date -u -d "$1 $2 days" +%F
}

# point DAY FILTER: FILTER over the point of period DAY of the last series (jq -e).
point()
{
    jt ".points[] | select(.period == \"$1\") | $2"
}

# series_sane: the last series' totals agree with its points (sums; outstanding of the last).
series_sane()
{
    jt '(.points | length) > 0
        and .totals.sales_count == ([.points[].sales_count] | add)
        and (.totals.sales_total | tonumber) == ([.points[].sales_total | tonumber] | add)
        and (.totals.returns_total | tonumber) == ([.points[].returns_total | tonumber] | add)
        and (.totals.payments_total | tonumber) == ([.points[].payments_total | tonumber] | add)
        and .totals.outstanding == .points[-1].outstanding'
}

# Parallel clients (pfire, pcodes, ... of tests/lib/api.sh) write under PAR.
PAR=$TMP/par

TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}:[0-9]{2}$'
SALE_KEYS='["cancelled_at","confirmed_at","created_at","customer","id","items","outstanding","paid_total","refunded_total","returned_total","returns","status","total","updated_at"]'
PAY_KEYS='["amount","created_at","id","kind","method","paid_at","reference","sale_id"]'
POINT_KEYS='["outstanding","payments_total","period","returns_total","sales_count","sales_total"]'
WORKERS_AT_START=$(live_workers "$POOL")

# ---------------------------------------------------------------------------------------------
# Tenants: A (the main one), B (isolation), Z (a time zone west of UTC).
PW=correct-horse-$SUF
secret_note "$PW"
SLUG_A=sales-a-$SUF
SLUG_B=sales-b-$SUF
SLUG_Z=sales-z-$SUF
setup_failed()
{
    t_result "$SUITE"
    exit 1
}
new_tenant "$SLUG_A" "Sales A $SUF" admin@a.test "$PW" || setup_failed
new_tenant "$SLUG_B" "Sales B $SUF" admin@b.test "$PW" || setup_failed
new_tenant "$SLUG_Z" "Sales Z $SUF" admin@z.test "$PW" --timezone America/Bogota || setup_failed
session "$SLUG_A" admin@a.test "$PW" || setup_failed
TOKEN_A=$S_TOKEN
CSRF_A=$S_CSRF
session "$SLUG_B" admin@b.test "$PW" || setup_failed
TOKEN_B=$S_TOKEN
session "$SLUG_Z" admin@z.test "$PW" || setup_failed
TOKEN_Z=$S_TOKEN
t_ok "tenants A, B and Z (America/Bogota) with their admins signed in"

TOKEN=$TOKEN_A
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
UNIT_A=$UNIT

# Today in UTC (the zone of tenants A and B); the series ranges span a few days around it so that
# a run across midnight still finds the day a sale was confirmed on.
DAY0=$(date -u +%F)
RANGE_FROM=$(dplus "$DAY0" -3)
RANGE_TO=$(dplus "$DAY0" 3)
BAL="/balance/series?from=$RANGE_FROM&to=$RANGE_TO&granularity=daily"

# =============================================================================================
# 1. The full flow: product, draft, confirm with payment, stock, payment, balance, cancel
# =============================================================================================
section "1. Full flow"
product "FLOW-1" "12.50" "10"
P1=$MK_ID
mk /products "{\"sku\":\"FLOW-2\",\"name\":\"Flow Two\",\"uom_id\":$UNIT,\"price\":9.99,\"stock\":4}"
P2=$MK_ID

# Balance of a fresh tenant: all zeros; the first read is a MISS, the next a HIT.
api GET "$BAL"
expect "GET /balance/series (fresh tenant)" 200
ck "the first read of a series is X-Cache: MISS (got $(header X-Cache))" '[[ "$(header X-Cache)" == MISS ]]'
ck "series shape: from, to, granularity, method, points, totals" \
    'jt "(keys | sort) == [\"from\",\"granularity\",\"method\",\"points\",\"to\",\"totals\"]
         and .from == \"$RANGE_FROM\" and .to == \"$RANGE_TO\" and .granularity == \"daily\"
         and .method == \"all\""'
ck "7 days -> 7 daily points, each {period, sales_count, sales_total, payments_total, outstanding}" \
    'jt "(.points | length) == 7 and all(.points[]; (keys | sort) == $POINT_KEYS)"'
ck "the daily periods are the 7 consecutive days from 'from'" \
    '[[ "$(jf "[.points[].period] | join(\" \")")" == "$(for i in 0 1 2 3 4 5 6; do dplus "$RANGE_FROM" $i; done | tr "\n" " " | sed "s/ $//")" ]]'
ck "a fresh tenant's series is all zeros, money as strings with 2 decimals" \
    'jt "all(.points[]; .sales_count == 0 and .sales_total == \"0.00\" and .payments_total == \"0.00\"
         and .outstanding == \"0.00\") and .totals == {\"sales_count\":0,\"sales_total\":\"0.00\",
         \"returns_total\":\"0.00\",\"payments_total\":\"0.00\",\"outstanding\":\"0.00\"}"'
api GET "$BAL"
ck "the second read of the series is X-Cache: HIT (got $(header X-Cache))" '[[ "$(header X-Cache)" == HIT ]]'

# Draft: a line at the product's price, a line with its own unit_price and a fractional quantity.
api POST /sales "{\"customer\":\"Ana Pérez\",\"items\":[{\"product_id\":$P1,\"quantity\":3},{\"product_id\":$P2,\"quantity\":\"1.5\",\"unit_price\":\"2.25\"}]}"
expect "POST /sales (two lines)" 201
S1=$(jf .id)
S1_CREATED=$R_BODY
ck "sale: exactly id, customer, status, total, paid_total, outstanding, confirmed_at, cancelled_at, created_at, updated_at, items" \
    'jt "keys == $SALE_KEYS"'
ck "the draft: status draft, customer as sent, total 37.50 + 3.38 = \"40.88\", paid_total \"0.00\"" \
    'jt "(.id | type == \"number\") and .status == \"draft\" and .customer == \"Ana Pérez\"
         and .total == \"40.88\" and .paid_total == \"0.00\" and (.outstanding | test(\"^[0-9]+[.][0-9]{2}$\"))
         and .confirmed_at == null and .cancelled_at == null"'
ck "sale timestamps are ISO 8601 with offset" \
    '[[ "$(jf .created_at)" =~ $TS_RE && "$(jf .updated_at)" =~ $TS_RE ]]'
ck "line 1: product {id, sku, name}, quantity \"3.000\", unit_price from the product \"12.50\", line_total \"37.50\"" \
    'jt ".items[0] == {\"product\":{\"id\":$P1,\"sku\":\"FLOW-1\",\"name\":\"Product FLOW-1\"},
         \"quantity\":\"3.000\",\"unit_price\":\"12.50\",\"line_total\":\"37.50\"}"'
ck "line 2: quantity \"1.500\", the given unit_price \"2.25\", line_total rounded \"3.38\"" \
    'jt ".items[1] == {\"product\":{\"id\":$P2,\"sku\":\"FLOW-2\",\"name\":\"Flow Two\"},
         \"quantity\":\"1.500\",\"unit_price\":\"2.25\",\"line_total\":\"3.38\"} and (.items | length) == 2"'
ck "POST /sales answers application/json" '[[ "$(header Content-Type)" == application/json* ]]'
api GET "/sales/$S1"
expect "GET /sales/{id}" 200
ck "GET /sales/{id} is the created object" '[[ "$R_BODY" == "$S1_CREATED" ]]'
ck "a draft takes no stock (FLOW-1 still 10.000)" '[[ "$(stock_of "$P1")" == 10.000 ]]'

api GET /sales
expect "GET /sales" 200
ck "sale list: {items, total, limit 50, offset 0} with the draft" \
    'jt "(keys | sort) == [\"items\",\"limit\",\"offset\",\"total\"] and .limit == 50 and .offset == 0
         and .total == 1 and .items[0].id == $S1"'
ck "list items are sales without their lines" \
    'jt ".items[0] | (keys == ($SALE_KEYS - [\"items\", \"returns\"])) and .total == \"40.88\" and .status == \"draft\""'

# The cached product reads, warmed before the confirmation.
warm /products
ck "before the confirmation the cached product list shows FLOW-1 at 10.000" \
    'jt ".items[] | select(.id == $P1) | .stock == \"10.000\""'
warm "/products/$P1"
warm "$BAL"

api POST "/sales/$S1/confirm" '{"payment":{"amount":"10.00","method":"cash"}}'
expect "POST /sales/{id}/confirm with a payment" 200
S1_CONFIRMED_AT=$(jf .confirmed_at)
DAY=${S1_CONFIRMED_AT:0:10}
ck "confirmed: status, confirmed_at ISO 8601, total 40.88, paid_total 10.00, outstanding 30.88" \
    'jt "keys == $SALE_KEYS and .status == \"confirmed\" and .total == \"40.88\" and .paid_total == \"10.00\"
         and .outstanding == \"30.88\" and .cancelled_at == null" && [[ "$S1_CONFIRMED_AT" =~ $TS_RE ]]'
ck "the confirmation day is inside the series range ($DAY)" \
    '[[ "$DAY" > "$(dplus "$RANGE_FROM" -1)" && "$DAY" < "$(dplus "$RANGE_TO" 1)" ]]'
api GET "/products/$P1"
ck "GET /products/{id} right after the confirmation: stock 7.000 (X-Cache $(header X-Cache))" \
    '[[ "$R_STATUS" == 200 ]] && jt ".stock == \"7.000\""'
ck "and the other line's product: 4 - 1.5 = 2.500" '[[ "$(stock_of "$P2")" == 2.500 ]]'
api GET /products
ck "the product list (cached just before) right after the confirmation: FLOW-1 at 7.000" \
    '[[ "$R_STATUS" == 200 ]] && jt ".items[] | select(.id == $P1) | .stock == \"7.000\""'
ck "the product list shows FLOW-2 at 2.500" 'jt ".items[] | select(.id == $P2) | .stock == \"2.500\""'
api GET "/payments?sale_id=$S1"
expect "GET /payments?sale_id=" 200
ck "the confirmation recorded its payment: 10.00 cash, reference null" \
    'jt ".total == 1 and (.items[0] | keys == $PAY_KEYS and .sale_id == $S1 and .amount == \"10.00\"
         and .method == \"cash\" and .reference == null)"'
api GET "$BAL"
ck "the series right after the confirmation (cached before): the day has 1 sale, 40.88, paid 10.00, outstanding 30.88" \
    'point "$DAY" ".sales_count == 1 and .sales_total == \"40.88\" and .payments_total == \"10.00\"
                   and .outstanding == \"30.88\""'
warm "$BAL"

api POST /payments "{\"sale_id\":$S1,\"amount\":\"20.00\",\"method\":\"card\",\"reference\":\"REF-1\"}"
expect "POST /payments" 201
PAY1=$(jf .id)
ck "payment: exactly id, sale_id, amount, method, paid_at, reference, created_at" 'jt "keys == $PAY_KEYS"'
ck "payment values: sale_id, amount \"20.00\", card, reference, ISO timestamps" \
    'jt ".sale_id == $S1 and .amount == \"20.00\" and .method == \"card\" and .reference == \"REF-1\"
         and (.id | type == \"number\")" && [[ "$(jf .paid_at)" =~ $TS_RE && "$(jf .created_at)" =~ $TS_RE ]]'
api GET "/sales/$S1"
ck "the sale after the payment: paid_total 30.00, outstanding 10.88" \
    'jt ".paid_total == \"30.00\" and .outstanding == \"10.88\" and .status == \"confirmed\""'
api GET "$BAL"
expect "GET /balance/series after the payment" 200
ck "the series right after the payment: the day has 1 sale, 40.88, paid 30.00, outstanding 10.88" \
    'point "$DAY" ".sales_count == 1 and .sales_total == \"40.88\" and .payments_total == \"30.00\"
                   and .outstanding == \"10.88\""'
ck "totals: 1 sale, 40.88, 30.00 paid, 10.88 outstanding" \
    'jt ".totals == {\"sales_count\":1,\"sales_total\":\"40.88\",\"returns_total\":\"0.00\",\"payments_total\":\"30.00\",\"outstanding\":\"10.88\"}"'
ck "the totals agree with the points" series_sane
ck "outstanding is 0.00 on the days before and 10.88 on the days after the sale's day" \
    'jt "all(.points[] | select(.period < \"$DAY\"); .outstanding == \"0.00\" and .sales_count == 0)
         and all(.points[] | select(.period > \"$DAY\"); .outstanding == \"10.88\" and .sales_count == 0)"'
for m in cash:10.00 card:20.00 transfer:0.00; do
    api GET "$BAL&method=${m%%:*}"
    ck "method=${m%%:*}: the day's payments_total ${m#*:}, sales and outstanding unfiltered" \
        '[[ "$R_STATUS" == 200 ]] && jt ".method == \"${m%%:*}\"" &&
         point "$DAY" ".payments_total == \"${m#*:}\" and .sales_total == \"40.88\" and .outstanding == \"10.88\""'
done
api GET "/balance/series?from=$DAY&to=$DAY&granularity=weekly"
ck "weekly: the week of the sale has it (period a Monday)" \
    '[[ "$R_STATUS" == 200 ]] && jt "(.points | length) == 1 and .points[0].sales_count == 1
        and .points[0].sales_total == \"40.88\" and .points[0].payments_total == \"30.00\"" &&
     [[ "$(date -u -d "$(jf ".points[0].period")" +%u)" == 1 ]]'
api GET "/balance/series?from=$DAY&to=$DAY&granularity=monthly"
ck "monthly: the month of the sale has it (period the 1st)" \
    '[[ "$R_STATUS" == 200 ]] && jt ".points == [{\"period\":\"${DAY:0:8}01\",\"sales_count\":1,
        \"sales_total\":\"40.88\",\"returns_total\":\"0.00\",\"payments_total\":\"30.00\",\"outstanding\":\"10.88\"}]"'

api POST "/sales/$S1/cancel"
expect "POST /sales/{id}/cancel of a sale with payments" 409 has_payments
api GET "/sales/$S1"
ck "the refused cancel changed nothing: still confirmed, paid 30.00" \
    'jt ".status == \"confirmed\" and .paid_total == \"30.00\" and .cancelled_at == null"'
ck "and the stock stays 7.000" '[[ "$(stock_of "$P1")" == 7.000 ]]'

# Payment filters.
api GET "/payments?sale_id=$S1"
ck "GET /payments?sale_id=: both payments, newest first, list shape" \
    'jt "(keys | sort) == [\"items\",\"limit\",\"offset\",\"total\"] and .total == 2
         and [.items[].amount] == [\"20.00\",\"10.00\"]"'
api GET "/payments?method=card"
ck "GET /payments?method=card: the card payment only" 'jt ".total == 1 and .items[0].id == $PAY1"'
api GET "/payments?method=cash"
ck "GET /payments?method=cash: the cash payment only" 'jt ".total == 1 and .items[0].method == \"cash\""'
api GET "/payments?method=transfer"
ck "GET /payments?method=transfer: none" 'jt ".total == 0 and .items == []"'
api GET "/payments?method=all"
ck "GET /payments?method=all: both" 'jt ".total == 2"'
api GET "/payments?from=$DAY&to=$DAY"
ck "GET /payments?from=to=the day: both" 'jt ".total == 2"'
api GET "/payments?from=$(dplus "$DAY" 1)"
ck "GET /payments?from=the next day: none" 'jt ".total == 0"'
api GET "/payments?to=$(dplus "$DAY" -1)"
ck "GET /payments?to=the day before: none" 'jt ".total == 0"'
api GET "/payments?limit=1&offset=1"
ck "GET /payments?limit=1&offset=1: one item, total 2" 'jt ".total == 2 and .limit == 1 and .offset == 1 and (.items | length) == 1"'

# Pay the rest, exactly: outstanding 0.00; one cent more is an overpayment.
api POST /payments "{\"sale_id\":$S1,\"amount\":10.88,\"method\":\"transfer\"}"
expect "POST /payments of the exact outstanding (a JSON number)" 201
api GET "/sales/$S1"
ck "fully paid: paid_total 40.88, outstanding 0.00" 'jt ".paid_total == \"40.88\" and .outstanding == \"0.00\""'
api POST /payments "{\"sale_id\":$S1,\"amount\":\"0.01\",\"method\":\"cash\"}"
expect "POST /payments of one cent on a fully paid sale" 409 overpayment amount

# Cancel: a draft; then a confirmed sale without payments (stock comes back, series fresh).
draft "[{\"product_id\":$P1,\"quantity\":2}]"
S2=$MK_ID
api POST "/sales/$S2/cancel"
expect "POST /sales/{id}/cancel of a draft" 200
ck "cancelled draft: status cancelled, cancelled_at set, confirmed_at null, outstanding 0.00" \
    'jt "keys == $SALE_KEYS and .status == \"cancelled\" and .confirmed_at == null and .outstanding == \"0.00\"" &&
     [[ "$(jf .cancelled_at)" =~ $TS_RE ]]'
ck "cancelling a draft leaves the stock alone (7.000)" '[[ "$(stock_of "$P1")" == 7.000 ]]'

confirmed_sale "$P1" 2
S3=$MK_ID
ck "a confirmation without a body takes the stock (5.000)" '[[ "$(stock_of "$P1")" == 5.000 ]]'
api GET "$BAL"
ck "the series right after that confirmation: 2 sales, 65.88 on the day, outstanding 25.00" \
    'point "$DAY" ".sales_count == 2 and .sales_total == \"65.88\" and .outstanding == \"25.00\""'
warm "$BAL"
warm /products
warm "/products/$P1"
api POST "/sales/$S3/cancel"
expect "POST /sales/{id}/cancel of a confirmed sale without payments" 200
ck "cancelled: status cancelled, cancelled_at set, outstanding 0.00" \
    'jt ".status == \"cancelled\" and .outstanding == \"0.00\" and .cancelled_at != null"'
api GET "/products/$P1"
ck "GET /products/{id} right after the cancel: the stock came back (7.000)" 'jt ".stock == \"7.000\""'
api GET /products
ck "the cached product list right after the cancel: 7.000" 'jt ".items[] | select(.id == $P1) | .stock == \"7.000\""'
api GET "$BAL"
ck "the series right after the cancel: the sale left it (1 sale, 40.88, outstanding 0.00)" \
    'point "$DAY" ".sales_count == 1 and .sales_total == \"40.88\" and .payments_total == \"40.88\" and .outstanding == \"0.00\"" && series_sane'

api POST "/sales/$S3/cancel"
expect "cancel of a cancelled sale" 409 invalid_state
api POST "/sales/$S3/confirm"
expect "confirm of a cancelled sale" 409 invalid_state
api POST "/sales/$S1/confirm"
expect "confirm of a confirmed sale" 409 invalid_state
api POST /payments "{\"sale_id\":$S3,\"amount\":\"1.00\",\"method\":\"cash\"}"
expect "POST /payments on a cancelled sale" 409 invalid_state sale_id
draft "[{\"product_id\":$P1,\"quantity\":1}]"
S_DRAFT=$MK_ID
api POST /payments "{\"sale_id\":$S_DRAFT,\"amount\":\"1.00\",\"method\":\"cash\"}"
expect "POST /payments on a draft" 409 invalid_state sale_id
api GET "/payments?sale_id=$S_DRAFT"
ck "the refused payments recorded nothing" 'jt ".total == 0"'

# Confirm bodies: {} and {"payment": null} are "no payment"; a payment of exactly the total.
api POST "/sales/$S_DRAFT/confirm" '{}'
expect "confirm with the body {}" 200
ck "no payment recorded, outstanding 12.50" 'jt ".paid_total == \"0.00\" and .outstanding == \"12.50\""'
draft "[{\"product_id\":$P1,\"quantity\":1,\"unit_price\":0}]"
S_FREE=$MK_ID
api POST "/sales/$S_FREE/confirm" '{"payment":null}'
expect "confirm a free sale (unit_price 0) with {\"payment\": null}" 200
ck "the free sale: total 0.00, outstanding 0.00" 'jt ".total == \"0.00\" and .outstanding == \"0.00\""'
draft "[{\"product_id\":$P2,\"quantity\":\"0.5\"}]"
S_EXACT=$MK_ID
api POST "/sales/$S_EXACT/confirm" '{"payment":{"amount":5,"method":"transfer"}}'
expect "confirm with a payment of exactly the total (9.99 x 0.5 = 5.00, a JSON number)" 200
ck "paid in full at confirmation: total 5.00, paid_total 5.00, outstanding 0.00" \
    'jt ".total == \"5.00\" and .paid_total == \"5.00\" and .outstanding == \"0.00\""'

# Sale list filters (A has S1 confirmed, S2 and S3 cancelled, S_DRAFT, S_FREE, S_EXACT confirmed).
api GET "/sales?status=confirmed"
ck "GET /sales?status=confirmed: the 4 confirmed sales only" \
    'jt ".total == 4 and all(.items[]; .status == \"confirmed\") and ([.items[].id] | index($S1) != null)"'
api GET "/sales?status=cancelled"
ck "GET /sales?status=cancelled: S2 and S3" \
    'jt "([.items[].id] | sort) == ([$S2, $S3] | sort) and .total == 2"'
api GET "/sales?status=draft"
ck "GET /sales?status=draft: none" 'jt ".total == 0 and .items == []"'
api GET /sales
ck "GET /sales: all 6, newest first" 'jt ".total == 6 and ([.items[].id] == ([.items[].id] | sort | reverse))"'
api GET "/sales?limit=2&offset=1"
ck "GET /sales?limit=2&offset=1: 2 items, total 6" 'jt ".total == 6 and .limit == 2 and .offset == 1 and (.items | length) == 2"'
CREATED_DAY=$(date -u -d "$(jq -r .created_at <<<"$S1_CREATED")" +%F)
api GET "/sales?from=$CREATED_DAY&to=$(date -u +%F)"
ck "GET /sales?from=to=the creation days: all 6" 'jt ".total == 6"'
api GET "/sales?from=$(dplus "$(date -u +%F)" 1)"
ck "GET /sales?from=tomorrow: none" 'jt ".total == 0"'
api GET "/sales?to=$(dplus "$CREATED_DAY" -1)"
ck "GET /sales?to=the day before: none" 'jt ".total == 0"'
api GET "/sales?status=confirmed&from=$CREATED_DAY&limit=1"
ck "filters combine: status=confirmed&from=&limit=1 -> 1 item of 4" 'jt ".total == 4 and (.items | length) == 1"'

# Cookie sessions need X-CSRF-Token on the sale routes too; no session is a 401.
call POST "$API/sales" -H "Cookie: stock_session=$TOKEN_A" -H 'Content-Type: application/json' \
    --data-binary "{\"items\":[{\"product_id\":$P1,\"quantity\":1}]}"
expect "cookie-authenticated POST /sales without X-CSRF-Token" 403 csrf_failed
call POST "$API/sales" -H "Cookie: stock_session=$TOKEN_A" -H "X-CSRF-Token: $CSRF_A" \
    -H 'Content-Type: application/json' --data-binary "{\"items\":[{\"product_id\":$P1,\"quantity\":1}]}"
expect "cookie-authenticated POST /sales with X-CSRF-Token" 201
S_COOKIE=$(jf .id)
call POST "$API/sales/$S_COOKIE/confirm" -H "Cookie: stock_session=$TOKEN_A"
expect "cookie-authenticated confirm without X-CSRF-Token" 403 csrf_failed
call POST "$API/payments" -H "Cookie: stock_session=$TOKEN_A" -H 'Content-Type: application/json' \
    --data-binary "{\"sale_id\":$S1,\"amount\":\"1.00\",\"method\":\"cash\"}"
expect "cookie-authenticated POST /payments without X-CSRF-Token" 403 csrf_failed
call POST "$API/sales/$S_COOKIE/cancel" -H "Cookie: stock_session=$TOKEN_A" -H "X-CSRF-Token: $CSRF_A"
expect "cookie-authenticated cancel with X-CSRF-Token" 200
call GET "$API/sales/$S_COOKIE" -H "Cookie: stock_session=$TOKEN_A"
expect "cookie-authenticated GET /sales/{id}" 200
for p in /sales "/sales/$S1" /payments "$BAL"; do
    call GET "$API$p"
    expect "GET $p without a session" 401 unauthorized
done
call POST "$API/sales/$S1/cancel"
expect "POST /sales/{id}/cancel without a session" 401
call POST "$API/payments" -H 'Content-Type: application/json' \
    --data-binary "{\"sale_id\":$S1,\"amount\":\"1.00\",\"method\":\"cash\"}"
expect "POST /payments without a session" 401
api DELETE "/sales/$S1"
expect "DELETE /sales/{id}" 405
api GET "/sales/$S1/confirm"
expect "GET /sales/{id}/confirm" 405
api POST /balance/series '{}'
expect "POST /balance/series" 405

# =============================================================================================
# 2. Every error code with its field
# =============================================================================================
section "2. Errors"
product "ERR-1" "3.00" "2"
PE=$MK_ID
api_as "$TOKEN_B" POST /uom '{"name":"B unit","abbreviation":"bu"}'
B_UNIT=$(jf .id)
api_as "$TOKEN_B" POST /products "{\"sku\":\"B-1\",\"name\":\"B product\",\"uom_id\":$B_UNIT,\"price\":\"1.00\",\"stock\":\"50\"}"
PB=$(jf .id)
[[ "$PB" =~ ^[0-9]+$ ]] || { t_not_ok "tenant B's product" "got $R_STATUS: $(snip)"; PB=0; }

L="{\"product_id\":$PE,\"quantity\":1}"
# Body validation, case by case: tests/unit/test_api_in.c. Here a few, end to end.
api POST /sales '{}'
expect "POST /sales without items" 422 "" items
api POST /sales "{\"items\":[$L,null]}"
expect "POST /sales with a null second line" 422 "" "items[1]"
api POST /sales "$(js '{items: [range(501) | $l]}' l="$L")"
expect "POST /sales with 501 lines" 422 "" items
api POST /sales "$(js '{items: [range(500) | $l]}' l="{\"product_id\":$PE,\"quantity\":\"0.001\",\"unit_price\":\"0.10\"}")"
expect "POST /sales with 500 lines (the limit)" 201
ck "the 500-line draft has 500 lines and total 0.00 (each line rounds 0.0001 to 0.00)" \
    'jt "(.items | length) == 500 and .total == \"0.00\""'
api POST /sales "{\"items\":[$L,{\"product_id\":999999999,\"quantity\":1}]}"
expect "an unknown product_id in the second line" 422 "" "items[1].product_id"
api POST /sales "{\"items\":[$L,$L,{\"product_id\":$PB,\"quantity\":1}]}"
expect "another tenant's product_id in the third line" 422 "" "items[2].product_id"
api POST /sales '{"items":[{"product_id":0,"quantity":1}]}'
expect "product_id 0" 422 "" "items[0].product_id"
for q in 0 '"1.2345"'; do
    api POST /sales "{\"items\":[$L,{\"product_id\":$PE,\"quantity\":$q}]}"
    expect "quantity $q" 422 "" "items[1].quantity"
done
api POST /sales "{\"items\":[{\"product_id\":$PE,\"quantity\":1,\"unit_price\":\"-1.00\"}]}"
expect "unit_price \"-1.00\"" 422 "" "items[0].unit_price"
api POST /sales "$(js '{customer: ("c" * 201), items: [$l]}' l="$L")"
expect "a 201-character customer" 422 "" customer
api POST /sales "$(js '{customer: ("ñ" * 200), items: [$l]}' l="$L")"
expect "a 200-character customer (two-byte characters: the limit counts characters)" 201
api POST /sales "{\"customer\":null,\"items\":[$L]}"
expect "customer null" 201
ck "customer null reads back null" 'jt ".customer == null"'

api GET /sales/999999999
expect "GET /sales/{unknown}" 404 not_found
api GET /sales/abc
expect "GET /sales/abc" 404
api POST /sales/999999999/confirm
expect "POST /sales/{unknown}/confirm" 404
api POST /sales/999999999/cancel
expect "POST /sales/{unknown}/cancel" 404

# insufficient_stock: all or nothing.
product "ERR-OK" "1.00" "100"
POK=$MK_ID
draft "[{\"product_id\":$POK,\"quantity\":5},{\"product_id\":$PE,\"quantity\":3}]"
S_SHORT=$MK_ID
warm "$BAL"
BAL_BEFORE=$R_BODY
api POST "/sales/$S_SHORT/confirm" '{"payment":{"amount":"1.00","method":"cash"}}'
expect "confirm with a line above the stock (3 of 2)" 409 insufficient_stock items
ck "insufficient_stock names the product (ERR-1 or its id)" \
    '[[ "$(jf .error.message)" == *ERR-1* || "$(jf .error.message)" == *"$PE"* ]]'
ck "nothing changed: the other line's stock stays 100.000" '[[ "$(stock_of "$POK")" == 100.000 ]]'
ck "nothing changed: ERR-1 stays 2.000" '[[ "$(stock_of "$PE")" == 2.000 ]]'
api GET "/sales/$S_SHORT"
ck "nothing changed: the sale is still a draft" 'jt ".status == \"draft\" and .confirmed_at == null and .paid_total == \"0.00\""'
api GET "/payments?sale_id=$S_SHORT"
ck "nothing changed: no payment recorded" 'jt ".total == 0"'
api GET "$BAL"
ck "nothing changed: the series is the same" '[[ "$R_BODY" == "$BAL_BEFORE" ]]'
draft "[{\"product_id\":$PE,\"quantity\":1},{\"product_id\":$PE,\"quantity\":\"1.5\"}]"
S_TWICE=$MK_ID
api POST "/sales/$S_TWICE/confirm"
expect "confirm with the same product on two lines summing above the stock (2.5 of 2)" 409 insufficient_stock items
ck "ERR-1 still 2.000" '[[ "$(stock_of "$PE")" == 2.000 ]]'

# Confirm payments: above the total, bad amount or method; nothing changes.
draft "[{\"product_id\":$POK,\"quantity\":4}]"
S_P=$MK_ID
api POST "/sales/$S_P/confirm" '{"payment":{"amount":"4.01","method":"cash"}}'
expect "confirm with a payment above the total" 422 "" payment.amount
api GET "/sales/$S_P"
ck "nothing changed: still a draft, no payment" 'jt ".status == \"draft\" and .paid_total == \"0.00\""'
ck "nothing changed: stock 100.000" '[[ "$(stock_of "$POK")" == 100.000 ]]'
api POST "/sales/$S_P/confirm" '{"payment":{"amount":"1.00","method":"bitcoin"}}'
expect "confirm with payment method bitcoin" 422 "" payment.method
api POST "/sales/$S_P/confirm" '{"payment":{"amount":"0.00","method":"cash"}}'
expect "confirm with payment amount \"0.00\"" 422 "" payment.amount
api POST "/sales/$S_P/confirm" '{"payment":"cash"}'
expect "confirm with payment a string" 422 "" payment
api GET "/sales/$S_P"
ck "after the refused confirmations the sale is still a draft with no payment" \
    'jt ".status == \"draft\" and .paid_total == \"0.00\""'
api POST "/sales/$S_P/confirm" '{"payment":{"amount":"4.00","method":"card"}}'
expect "and then a valid confirmation" 200

# POST /payments errors.
confirmed_sale "$POK" 10
S_PAY=$MK_ID
PB_OK="\"sale_id\":$S_PAY"
api POST /payments "{$PB_OK,\"amount\":\"10.01\",\"method\":\"cash\"}"
expect "a payment above the outstanding" 409 overpayment amount
api POST /payments '{"amount":"1.00","method":"cash"}'
expect "a payment without sale_id" 422 "" sale_id
api POST /payments '{"sale_id":999999999,"amount":"1.00","method":"cash"}'
expect "a payment of an unknown sale" 422 "" sale_id
# Body validation, case by case: tests/unit/test_api_in.c. Here a few, end to end.
api POST /payments "{$PB_OK,\"amount\":\"1.00\",\"method\":\"cheque\"}"
expect "method cheque" 422 "" method
api POST /payments "{$PB_OK,\"amount\":\"-0.01\",\"method\":\"cash\"}"
expect "payment amount \"-0.01\"" 422 "" amount
api POST /payments "{$PB_OK,\"amount\":\"1.00\",\"method\":\"cash\",\"paid_at\":\"2026-02-30T10:00:00Z\"}"
expect "paid_at \"2026-02-30T10:00:00Z\"" 422 "" paid_at
api POST /payments "$(js '{sale_id: $s, amount: "1.00", method: "cash", reference: ("r" * 201)}' s="$S_PAY")"
expect "a 201-character reference" 422 "" reference
api GET "/payments?sale_id=$S_PAY"
ck "none of the refused payments was recorded" 'jt ".total == 0"'
api POST /payments "{$PB_OK,\"amount\":\"1.00\",\"method\":\"cash\",\"paid_at\":\"2026-01-05T10:00:00.5-03:00\"}"
expect "paid_at with fraction and offset" 201
ck "paid_at reads back as the same instant with an offset" \
    '[[ "$(jf .paid_at)" =~ $TS_RE ]] && (($(date -d "$(jf .paid_at)" +%s) == $(date -d 2026-01-05T13:00:00Z +%s)))'
api GET "/payments?from=2026-01-05&to=2026-01-05&sale_id=$S_PAY"
ck "GET /payments?from=to=2026-01-05 finds it by its paid_at day" 'jt ".total == 1"'

api GET "/payments?method=bitcoin"
expect "GET /payments?method=bitcoin" 422 "" method
api GET "/payments?from=2026-13-01"
expect "GET /payments?from=2026-13-01" 422 "" from
api GET "/payments?to=yesterday"
expect "GET /payments?to=yesterday" 422 "" to
api GET "/payments?sale_id=abc"
expect "GET /payments?sale_id=abc" 422 "" sale_id
api GET "/payments?limit=0"
expect "GET /payments?limit=0" 422 "" limit
api GET "/sales?status=paid"
expect "GET /sales?status=paid" 422 "" status
api GET "/sales?from=2026-02-30"
expect "GET /sales?from=2026-02-30" 422 "" from
api GET "/sales?to=20260101"
expect "GET /sales?to=20260101" 422 "" to
api GET "/sales?limit=201"
expect "GET /sales?limit=201" 422 "" limit
api GET "/sales?offset=-1"
expect "GET /sales?offset=-1" 422 "" offset

# Idempotency-Key.
KEY=pay-$SUF
IDEM_BODY="{$PB_OK,\"amount\":\"2.00\",\"method\":\"card\",\"reference\":\"idem\"}"
api POST /payments "$IDEM_BODY" -H "Idempotency-Key: $KEY"
expect "POST /payments with an Idempotency-Key" 201
IDEM_FIRST=$R_BODY
IDEM_ID=$(jf .id)
api POST /payments "$IDEM_BODY" -H "Idempotency-Key: $KEY"
expect "the same key and body again" 201
ck "the replay is the first answer, byte for byte" '[[ "$R_BODY" == "$IDEM_FIRST" ]]'
api POST /payments "{\"reference\":\"idem\",\"method\":\"card\",\"amount\":2,$PB_OK}" -H "Idempotency-Key: $KEY"
expect "the same key, the same request written another way (order, 2 vs \"2.00\")" 201
ck "is the same payment" 'jt ".id == $IDEM_ID"'
api GET "/payments?sale_id=$S_PAY"
ck "one payment recorded for the key (2 in all with the paid_at one)" \
    'jt ".total == 2 and ([.items[] | select(.reference == \"idem\")] | length) == 1"'
api POST /payments "{$PB_OK,\"amount\":\"3.00\",\"method\":\"card\",\"reference\":\"idem\"}" -H "Idempotency-Key: $KEY"
expect "the same key with another amount" 422 idempotency_mismatch Idempotency-Key
api POST /payments "{$PB_OK,\"amount\":\"2.00\",\"method\":\"card\",\"reference\":\"other\"}" -H "Idempotency-Key: $KEY"
expect "the same key with another reference" 422 idempotency_mismatch Idempotency-Key
api POST /payments "{$PB_OK,\"amount\":\"2.00\",\"method\":\"card\"}" -H "Idempotency-Key: $KEY"
expect "the same key without the reference" 422 idempotency_mismatch Idempotency-Key
api GET "/payments?sale_id=$S_PAY"
ck "the mismatches recorded nothing" 'jt ".total == 2"'
api POST /payments "$IDEM_BODY" -H "Idempotency-Key: $(head -c 256 /dev/zero | tr '\0' k)"
expect "a 256-character Idempotency-Key" 422 "" Idempotency-Key
api POST /payments "$IDEM_BODY" -H "Idempotency-Key: $(head -c 255 /dev/zero | tr '\0' k)"
expect "a 255-character Idempotency-Key (the limit)" 201
api POST /payments "$IDEM_BODY" -H "Idempotency-Key: clé"
expect "a non-ASCII Idempotency-Key" 422 "" Idempotency-Key
# A refused request does not burn its key: after an overpayment, the same key works once valid.
KEY2=over-$SUF
api POST /payments "{$PB_OK,\"amount\":\"999.00\",\"method\":\"cash\"}" -H "Idempotency-Key: $KEY2"
expect "an overpayment with a fresh key" 409 overpayment amount
api POST /payments "{$PB_OK,\"amount\":\"999.00\",\"method\":\"cash\"}" -H "Idempotency-Key: $KEY2"
expect "the same overpayment with that key again" 409 overpayment amount

# =============================================================================================
# 3. Concurrency: real parallel clients through nginx
# =============================================================================================
section "3. Concurrency"
par_reset
product "RACE-5" "1.00" "5"
PR5=$MK_ID
RACE_IDS=()
for i in $(seq 1 10); do
    draft "[{\"product_id\":$PR5,\"quantity\":1}]"
    RACE_IDS+=("$MK_ID")
done
for i in "${!RACE_IDS[@]}"; do
    pfire "c5-$i" POST "/sales/${RACE_IDS[$i]}/confirm" &
done
wait
ck "10 parallel confirmations of 1 unit on stock 5: 5 x 200 and 5 x 409 ($(pcodes c5-))" \
    '(($(pcount c5- 200) == 5 && $(pcount c5- 409) == 5))'
ck "the 409s are insufficient_stock ($(perrcodes c5- 409))" '[[ "$(perrcodes c5- 409)" == "insufficient_stock " ]]'
ck "final stock 0.000, never below zero" '[[ "$(stock_of "$PR5")" == 0.000 ]]'
n_conf=0
for id in "${RACE_IDS[@]}"; do
    api GET "/sales/$id"
    [[ "$(jf .status)" == confirmed ]] && n_conf=$((n_conf + 1))
done
ck "exactly 5 of those sales are confirmed ($n_conf)" '((n_conf == 5))'

product "RACE-1" "1.00" "1"
PR1=$MK_ID
draft "[{\"product_id\":$PR1,\"quantity\":1}]"
R1A=$MK_ID
draft "[{\"product_id\":$PR1,\"quantity\":1}]"
R1B=$MK_ID
pfire c1-a POST "/sales/$R1A/confirm" &
pfire c1-b POST "/sales/$R1B/confirm" &
wait
ck "stock 1 and 2 parallel confirmations: one 200, one 409 ($(pcodes c1-))" \
    '(($(pcount c1- 200) == 1 && $(pcount c1- 409) == 1))'
ck "the 409 is insufficient_stock" '[[ "$(perrcodes c1- 409)" == "insufficient_stock " ]]'
ck "stock 1 -> 0.000" '[[ "$(stock_of "$PR1")" == 0.000 ]]'

# The same draft confirmed by 4 clients at once: one 200, three invalid_state, one stock move.
product "RACE-SAME" "1.00" "10"
PRS=$MK_ID
draft "[{\"product_id\":$PRS,\"quantity\":2}]"
RS=$MK_ID
for i in 1 2 3 4; do
    pfire "cs-$i" POST "/sales/$RS/confirm" &
done
wait
ck "one draft confirmed by 4 parallel clients: 1 x 200, 3 x 409 ($(pcodes cs-))" \
    '(($(pcount cs- 200) == 1 && $(pcount cs- 409) == 3))'
ck "the 409s are invalid_state" '[[ "$(perrcodes cs- 409)" == "invalid_state " ]]'
ck "the stock moved once (10 - 2 = 8.000)" '[[ "$(stock_of "$PRS")" == 8.000 ]]'

# Overpayment race: a 100.00 sale, 6 parallel payments of 30.00.
product "RACE-PAY" "100.00" "1"
PRP=$MK_ID
confirmed_sale "$PRP" 1
SP=$MK_ID
for i in 1 2 3 4 5 6; do
    pfire "p-$i" POST /payments "{\"sale_id\":$SP,\"amount\":\"30.00\",\"method\":\"cash\"}" &
done
wait
ck "6 parallel payments of 30.00 on 100.00: 3 x 201 and 3 x 409 ($(pcodes p-))" \
    '(($(pcount p- 201) == 3 && $(pcount p- 409) == 3))'
ck "the 409s are overpayment" '[[ "$(perrcodes p- 409)" == "overpayment " ]]'
api GET "/sales/$SP"
ck "paid_total 90.00, outstanding 10.00" 'jt ".paid_total == \"90.00\" and .outstanding == \"10.00\""'
api GET "/payments?sale_id=$SP"
ck "3 payments recorded" 'jt ".total == 3"'

# The same Idempotency-Key and body from 5 clients at once.
confirmed_sale "$POK" 50
SI=$MK_ID
PKEY=par-$SUF
for i in 1 2 3 4 5; do
    pfire "i-$i" POST /payments "{\"sale_id\":$SI,\"amount\":\"10.00\",\"method\":\"transfer\"}" \
        -H "Idempotency-Key: $PKEY" &
done
wait
ck "5 parallel POST /payments with one Idempotency-Key and body: all 201 ($(pcodes i-))" \
    '(($(pcount i- 201) == 5))'
PIDS=$(for f in "$PAR"/i-*.body; do jq -r .id "$f" 2>/dev/null; done | sort -u | tr '\n' ' ')
ck "all 5 answers carry the same payment id ($PIDS)" '[[ "$PIDS" =~ ^[0-9]+\ $ ]]'
api GET "/payments?sale_id=$SI"
ck "one row in GET /payments?sale_id= ($(jf .total))" 'jt ".total == 1 and .items[0].amount == \"10.00\""'
api GET "/sales/$SI"
ck "the sale's paid_total is 10.00" 'jt ".paid_total == \"10.00\""'

# A payment and a cancel racing on a confirmed, unpaid sale: exactly one of them wins.
product "RACE-PC" "10.00" "10"
PPC=$MK_ID
PC_BAD=""
for i in 1 2 3 4; do
    confirmed_sale "$PPC" 1
    id=$MK_ID
    pfire "pc-$i-pay" POST /payments "{\"sale_id\":$id,\"amount\":\"10.00\",\"method\":\"cash\"}" &
    pfire "pc-$i-cancel" POST "/sales/$id/cancel" &
    wait
    pay=$(cat "$PAR/pc-$i-pay.code")
    can=$(cat "$PAR/pc-$i-cancel.code")
    api GET "/sales/$id"
    st=$(jf .status)
    paid=$(jf .paid_total)
    if [[ "$pay" == 201 && "$can" == 409 && "$st" == confirmed && "$paid" == 10.00 ]] ||
        [[ "$pay" == 409 && "$can" == 200 && "$st" == cancelled && "$paid" == 0.00 ]]; then
        :
    else
        PC_BAD+="round $i: pay $pay, cancel $can, status $st, paid $paid; "
    fi
done
ck "payment and cancel in parallel, 4 rounds: one wins each time (${PC_BAD:-all consistent})" '[[ -z "$PC_BAD" ]]'
n_kept=$(pall pc- | grep -c '^201$')
ck "RACE-PC stock is 10 - the $n_kept paid sales" '[[ "$(stock_of "$PPC")" == "$((10 - n_kept)).000" ]]'

# A confirm and a cancel racing on a draft: whatever the order, it ends cancelled, stock intact.
product "RACE-CC" "1.00" "3"
PCC=$MK_ID
CC_BAD=""
for i in 1 2 3 4; do
    draft "[{\"product_id\":$PCC,\"quantity\":2}]"
    id=$MK_ID
    pfire "cc-$i-confirm" POST "/sales/$id/confirm" &
    pfire "cc-$i-cancel" POST "/sales/$id/cancel" &
    wait
    con=$(cat "$PAR/cc-$i-confirm.code")
    can=$(cat "$PAR/cc-$i-cancel.code")
    api GET "/sales/$id"
    st=$(jf .status)
    [[ "$can" == 200 && ("$con" == 200 || "$con" == 409) && "$st" == cancelled ]] ||
        CC_BAD+="round $i: confirm $con, cancel $can, status $st; "
done
ck "confirm and cancel of a draft in parallel, 4 rounds: cancel 200, confirm 200 or 409, cancelled (${CC_BAD:-all consistent})" \
    '[[ -z "$CC_BAD" ]]'
ck "RACE-CC's stock is intact (3.000)" '[[ "$(stock_of "$PCC")" == 3.000 ]]'

ck "no parallel request got a 5xx or no answer ($(pall "" | grep -vE '^[24]' | tr '\n' ' '))" \
    '! pall "" | grep -qvE "^[24][0-9][0-9]$"'

# =============================================================================================
# 4. Tenant isolation
# =============================================================================================
section "4. Tenant isolation"
TOKEN=$TOKEN_A
draft "[{\"product_id\":$POK,\"quantity\":1}]"
A_DRAFT=$MK_ID
api_as "$TOKEN_B" GET "/sales/$S1"
expect "B: GET A's sale" 404 not_found
api_as "$TOKEN_B" GET "/sales/$A_DRAFT"
expect "B: GET A's draft" 404
api_as "$TOKEN_B" POST "/sales/$A_DRAFT/confirm"
expect "B: confirm A's draft" 404
api_as "$TOKEN_B" POST "/sales/$A_DRAFT/confirm" '{"payment":{"amount":"1.00","method":"cash"}}'
expect "B: confirm A's draft with a payment" 404
api_as "$TOKEN_B" POST "/sales/$A_DRAFT/cancel"
expect "B: cancel A's draft" 404
api_as "$TOKEN_B" POST "/sales/$S_PAY/cancel"
expect "B: cancel A's confirmed sale" 404
api GET "/sales/$A_DRAFT"
ck "A's draft is untouched by B's attempts" 'jt ".status == \"draft\""'
api_as "$TOKEN_B" POST /payments "{\"sale_id\":$S_PAY,\"amount\":\"1.00\",\"method\":\"cash\"}"
expect "B: pay A's sale" 422 "" sale_id
api_as "$TOKEN_B" GET /sales
ck "B's sale list is empty" '[[ "$R_STATUS" == 200 ]] && jt ".total == 0 and .items == []"'
api_as "$TOKEN_B" GET /payments
ck "B's payment list is empty" '[[ "$R_STATUS" == 200 ]] && jt ".total == 0 and .items == []"'
api_as "$TOKEN_B" GET "/payments?sale_id=$S1"
ck "B filtering payments by A's sale id sees none" 'jt ".total == 0"'
warm "$BAL"
ck "A's series (cached) is not all zeros" 'jt ".totals.sales_count > 0"'
api_as "$TOKEN_B" GET "$BAL"
ck "B's series over the same range (A's is cached) is all zeros" \
    '[[ "$R_STATUS" == 200 ]] && jt "(.points | length) == 7 and all(.points[]; .sales_count == 0
        and .sales_total == \"0.00\" and .payments_total == \"0.00\" and .outstanding == \"0.00\")
        and .totals.sales_count == 0"'
api_as "$TOKEN_B" GET "/balance/series?from=$DAY&to=$DAY&granularity=monthly"
ck "B's monthly series is zeros too" 'jt ".points[0].sales_count == 0 and .totals.sales_total == \"0.00\""'

# B reuses A's Idempotency-Key for its own sale: its own payment.
TOKEN=$TOKEN_B
confirmed_sale "$PB" 5
B_SALE=$MK_ID
api_as "$TOKEN_B" POST /payments "{\"sale_id\":$B_SALE,\"amount\":\"2.00\",\"method\":\"card\",\"reference\":\"idem\"}" \
    -H "Idempotency-Key: $KEY"
expect "B reuses A's Idempotency-Key for its own sale" 201
B_PAY=$(jf .id)
ck "it is B's own payment (B's sale, a new id)" 'jt ".sale_id == $B_SALE and .id != $IDEM_ID"'
api_as "$TOKEN_B" POST /payments "{\"sale_id\":$B_SALE,\"amount\":\"2.00\",\"method\":\"card\",\"reference\":\"idem\"}" \
    -H "Idempotency-Key: $KEY"
ck "B's replay is B's payment" '[[ "$R_STATUS" == 201 ]] && jt ".id == $B_PAY"'
api_as "$TOKEN_B" GET /payments
ck "B's payment list: its one payment" 'jt ".total == 1 and .items[0].id == $B_PAY"'
TOKEN=$TOKEN_A
api POST /payments "$IDEM_BODY" -H "Idempotency-Key: $KEY"
ck "A's replay of the key is still A's payment" '[[ "$R_STATUS" == 201 ]] && jt ".id == $IDEM_ID"'
api GET /payments
ck "A's payment list has none of B's payments" 'jt "[.items[].id] | index($B_PAY) == null"'
api GET "/sales?limit=200"
ck "A's sale list has none of B's sales" 'jt "[.items[].id] | index($B_SALE) == null"'
api_as "$TOKEN_B" GET /sales
ck "B's sale list: its one sale" 'jt ".total == 1 and .items[0].id == $B_SALE"'

# Tenant Z (America/Bogota, UTC-5): days are the tenant's days.
TOKEN=$TOKEN_Z
mk /uom '{"name":"Unit Z","abbreviation":"uz"}'
UNIT=$MK_ID
product "Z-1" "50.00" "10"
PZ=$MK_ID
confirmed_sale "$PZ" 1
SZ=$MK_ID
api POST /payments "{\"sale_id\":$SZ,\"amount\":\"7.00\",\"method\":\"cash\",\"paid_at\":\"2026-01-05T23:30:00-05:00\"}"
expect "Z: a payment at 23:30 Bogota time (04:30 UTC the next day)" 201
api GET "/payments?from=2026-01-05&to=2026-01-05"
ck "Z: GET /payments?from=to=2026-01-05 (the tenant's day) finds it" 'jt ".total == 1"'
api GET "/payments?from=2026-01-06&to=2026-01-06"
ck "Z: GET /payments?from=to=2026-01-06 (its UTC day) does not" 'jt ".total == 0"'
api GET "/balance/series?from=2026-01-05&to=2026-01-06"
ck "Z: the series counts it on 2026-01-05, the tenant's day" \
    '[[ "$R_STATUS" == 200 ]] && point 2026-01-05 ".payments_total == \"7.00\"" &&
     point 2026-01-06 ".payments_total == \"0.00\""'
Z_TODAY=$(TZ=America/Bogota date +%F)
api GET "/sales?from=$Z_TODAY&to=$Z_TODAY"
ck "Z: GET /sales?from=to=today in Bogota ($Z_TODAY) finds the sale created now" 'jt ".total == 1 and .items[0].id == $SZ"'
api GET "/sales?from=$(dplus "$Z_TODAY" 1)"
ck "Z: GET /sales?from=tomorrow in Bogota finds nothing (UTC is $(date -u +%F))" 'jt ".total == 0"'
api POST /payments "{\"sale_id\":$SZ,\"amount\":\"3.00\",\"method\":\"card\"}"
expect "Z: a payment without paid_at (now)" 201
api GET "/payments?from=$Z_TODAY&to=$Z_TODAY"
ck "Z: it is on today's date in Bogota ($Z_TODAY)" 'jt ".total == 1 and .items[0].amount == \"3.00\""'
api GET "/balance/series?from=$(dplus "$Z_TODAY" -1)&to=$(dplus "$Z_TODAY" 1)"
ck "Z: the series counts the confirmation and that payment on today's date in Bogota" \
    'point "$Z_TODAY" ".sales_count == 1 and .sales_total == \"50.00\" and .payments_total == \"3.00\"" &&
     point "$(dplus "$Z_TODAY" 1)" ".sales_count == 0 and .payments_total == \"0.00\""'
TOKEN=$TOKEN_A
UNIT=$UNIT_A

# =============================================================================================
# 5. Balance validation and periods
# =============================================================================================
section "5. Balance validation"
api GET "/balance/series?from=2025-01-01&to=2026-01-01&granularity=daily"
expect "a daily span of 366 days" 200
ck "366 daily points" 'jt "(.points | length) == 366 and .points[0].period == \"2025-01-01\" and .points[-1].period == \"2026-01-01\""'
api GET "/balance/series?from=2025-01-01&to=2026-01-02&granularity=daily"
expect "a daily span of 367 days" 422 "" to
api GET "/balance/series?from=2025-01-01&to=2026-01-02"
expect "a 367-day span with the default granularity (daily)" 422 "" to
api GET "/balance/series?from=2025-01-01&to=2026-01-02&granularity=weekly"
expect "a weekly span of 367 days" 200
api GET "/balance/series?from=2026-01-10&to=2026-01-09"
expect "from after to" 422 "" from
for d in 2026-02-30 2025-02-29 2026-13-01 2026-00-10 2026-1-5 26-01-05 2026/01/05 "2026-01-05T00:00:00Z" x; do
    api GET "/balance/series?from=$(jq -rn --arg v "$d" '$v | @uri')&to=2026-12-31"
    expect "from=$d" 422 "" from
done
api GET "/balance/series?from=2026-01-01&to=2026-02-30"
expect "to=2026-02-30" 422 "" to
api GET "/balance/series?from=2024-02-29&to=2024-03-01"
expect "from=2024-02-29 (a leap day)" 200
ck "2 points: 2024-02-29, 2024-03-01" 'jt "[.points[].period] == [\"2024-02-29\",\"2024-03-01\"]"'
api GET "/balance/series?to=2026-01-01"
expect "no from" 422 "" from
api GET "/balance/series?from=2026-01-01"
expect "no to" 422 "" to
api GET "/balance/series?from=&to=2026-01-01"
expect "an empty from" 422 "" from
api GET "/balance/series?from=2026-01-01&to=2026-01-31&granularity=hourly"
expect "granularity=hourly" 422 "" granularity
api GET "/balance/series?from=2026-01-01&to=2026-01-31&granularity=Daily"
expect "granularity=Daily" 422 "" granularity
api GET "/balance/series?from=2026-01-01&to=2026-01-31&method=bitcoin"
expect "method=bitcoin" 422 "" method
api GET "/balance/series?from=2026-01-01&to=2026-01-31&method=all"
expect "method=all" 200

api GET "/balance/series?from=2026-01-01&to=2026-01-01"
ck "from == to: 1 daily point" '[[ "$R_STATUS" == 200 ]] && jt "[.points[].period] == [\"2026-01-01\"]"'
api GET "/balance/series?from=2026-02-01&to=2026-03-01&granularity=daily"
ck "2026-02-01..2026-03-01 daily: 29 consecutive points" \
    'jt "(.points | length) == 29 and .points[27].period == \"2026-02-28\" and .points[28].period == \"2026-03-01\""'
api GET "/balance/series?from=2026-03-25&to=2026-04-02&granularity=daily"
ck "daily across the March DST change of Europe and the US: 9 distinct consecutive days" \
    '[[ "$(jf "[.points[].period] | join(\" \")")" == "$(for i in $(seq 0 8); do dplus 2026-03-25 $i; done | tr "\n" " " | sed "s/ $//")" ]]'
api GET "/balance/series?from=2026-01-01&to=2026-01-31&granularity=weekly"
expect "weekly over January 2026" 200
ck "weekly: 5 periods labelled by Monday (2025-12-29 .. 2026-01-26)" \
    'jt "[.points[].period] == [\"2025-12-29\",\"2026-01-05\",\"2026-01-12\",\"2026-01-19\",\"2026-01-26\"]"'
W_DAYS=$(for p in $(jf '.points[].period'); do date -u -d "$p" +%u; done | sort -u | tr '\n' ' ')
ck "every weekly period is a Monday (weekdays: $W_DAYS)" '[[ "$W_DAYS" == "1 " ]]'
api GET "/balance/series?from=2026-01-05&to=2026-01-11&granularity=weekly"
ck "weekly over one Monday-to-Sunday week: 1 point" 'jt "[.points[].period] == [\"2026-01-05\"]"'
api GET "/balance/series?from=2025-03-01&to=2026-02-28&granularity=weekly"
W_DAYS=$(for p in $(jf '.points[].period'); do date -u -d "$p" +%u; done | sort -u | tr '\n' ' ')
ck "a year weekly: 53 Mondays 7 days apart ($(jf '.points | length') points, weekdays $W_DAYS)" \
    'jt "(.points | length) == 53 and .points[0].period == \"2025-02-24\" and .points[-1].period == \"2026-02-23\"" &&
     [[ "$W_DAYS" == "1 " ]]'
api GET "/balance/series?from=2026-01-15&to=2026-04-10&granularity=monthly"
expect "monthly from the 15th" 200
ck "monthly: 4 periods labelled by the 1st" \
    'jt "[.points[].period] == [\"2026-01-01\",\"2026-02-01\",\"2026-03-01\",\"2026-04-01\"]"'
api GET "/balance/series?from=2025-01-31&to=2025-12-31&granularity=monthly"
ck "monthly over 2025 from the 31st: 12 firsts of month" \
    'jt "(.points | length) == 12 and all(.points[]; .period | endswith(\"-01\")) and .points[1].period == \"2025-02-01\""'
api GET "/balance/series?from=2016-01-01&to=2026-01-01&granularity=monthly"
expect_no5xx "monthly over 10 years"
api GET "/balance/series?from=1000-01-01&to=2026-01-01&granularity=monthly"
expect_4xx "from=1000-01-01"
api GET "/balance/series?from=9999-12-01&to=9999-12-31"
expect_no5xx "from=9999-12-01&to=9999-12-31"

# =============================================================================================
# 6. Hostile input: a 4xx, never a 5xx; the pool stays up
# =============================================================================================
section "6. Hostile input"
TOKEN=$TOKEN_A
hostile_line()
{
    api POST /sales "{\"items\":[{\"product_id\":$1,\"quantity\":$2${3:+,\"unit_price\":$3}}]}"
}
hostile_line "$POK" 1e3
expect_no5xx "quantity 1e3 (a JSON number)"
# Hostile bodies, case by case: tests/unit/test_api_in.c. Here a few, end to end.
for q in 1e400 NaN '"１"' '"1\u0000"'; do
    hostile_line "$POK" "$q"
    if [[ "$R_STATUS" == 422 ]]; then
        expect "quantity $q" 422 "" "items[0].quantity"
    else
        ck "quantity $q -> 400 or 422 (got $R_STATUS)" '[[ "$R_STATUS" == 400 ]]'
    fi
done
for u in 1e400 '"99999999999999"'; do
    hostile_line "$POK" 1 "$u"
    ck "unit_price $u -> 400 or 422 (got $R_STATUS)" '[[ "$R_STATUS" == 400 || "$R_STATUS" == 422 ]]'
done
hostile_line "$POK" '"999999999999.999"' '"999999999999.99"'
expect "the largest quantity times the largest price (the line total overflows)" 422
ck "that 422 names the line (error.field $(jf .error.field))" '[[ "$(jf .error.field)" == items* ]]'
hostile_line "$POK" '"999999999999"'
ck "a quantity of 999999999999 at 1.00 (line total 999999999999.00) -> 201 or 422 (got $R_STATUS)" \
    '[[ "$R_STATUS" == 201 || "$R_STATUS" == 422 ]]'
api POST /sales "$(js '{items: [range(3) | {product_id: $p, quantity: "999999999999", unit_price: "1.00"}]}' p="$POK")"
expect "three lines whose sum overflows the total" 422
ck "that 422 names the items (error.field $(jf .error.field))" '[[ "$(jf .error.field)" == items* ]]'
for p in 99999999999999999999 9223372036854775807; do
    hostile_line "$p" 1
    ck "product_id $p -> 400 or 422 (got $R_STATUS)" '[[ "$R_STATUS" == 400 || "$R_STATUS" == 422 ]]'
done
for a in 1e400 '"NaN"' NaN '"Infinity"' 99999999999999999999 '"999999999999.99"'; do
    api POST /payments "{\"sale_id\":$S_PAY,\"amount\":$a,\"method\":\"cash\"}"
    ck "payment amount $a -> 4xx, never 201 (got $R_STATUS)" '[[ "$R_STATUS" == 4?? ]]'
done
api POST /payments '{"sale_id":9223372036854775807,"amount":"1.00","method":"cash"}'
expect "sale_id 9223372036854775807" 422 "" sale_id
# paid_at at the edges of the accepted years: refused, or read back as a valid timestamp (tenant B,
# so that A's sums stay within the years the series can be asked for).
for t in 9999-12-31T23:59:59-15:00 1900-01-01T00:00:00+15:00; do
    api_as "$TOKEN_B" POST /payments "{\"sale_id\":$B_SALE,\"amount\":\"0.01\",\"method\":\"cash\",\"paid_at\":\"$t\"}"
    ck "paid_at $t -> 422 (paid_at), or 201 read back as ISO 8601 with a 4-digit year (got $R_STATUS $(jf ".paid_at // .error.field"))" \
        '[[ "$R_STATUS" == 422 && "$(jf .error.field)" == paid_at ]] || [[ "$R_STATUS" == 201 && "$(jf .paid_at)" =~ $TS_RE ]]'
done
api GET "/payments?sale_id=99999999999999999999"
expect_4xx "GET /payments?sale_id=99999999999999999999"
api GET "/sales/99999999999999999999"
expect "GET /sales/99999999999999999999" 404
api POST "/sales/9223372036854775807/confirm"
expect "POST /sales/9223372036854775807/confirm" 404
api GET "/sales?limit=99999999999999999999"
expect "GET /sales?limit=99999999999999999999" 422 "" limit

draft "[{\"product_id\":$POK,\"quantity\":1}]"
S_H=$MK_ID
{ printf '{"payment":{"amount":'; for _ in $(seq 1 40); do printf '{"a":'; done; printf '1'; for _ in $(seq 1 40); do printf '}'; done; printf ',"method":"cash"}}'; } >"$TMP/deep.json"
api_file POST "/sales/$S_H/confirm" "$TMP/deep.json"
expect_4xx "a payment amount nested 40 objects deep"
{ printf '{"payment":'; head -c 10000 /dev/zero | tr '\0' '['; } >"$TMP/deep2.json"
api_file POST "/sales/$S_H/confirm" "$TMP/deep2.json"
expect "a payment of 10000 nested '['" 400
{ printf '{"items":['; for _ in $(seq 1 20); do printf '{"items":['; done; printf '1'; for _ in $(seq 1 20); do printf ']}'; done; printf ']}'; } >"$TMP/deep3.json"
api_file POST /sales "$TMP/deep3.json"
expect_4xx "lines nested 20 deep"
for b in '[]' '{"payment":{"amount":"1.00","method":"cash"}'; do
    api POST "/sales/$S_H/confirm" "$b"
    expect_4xx "a confirm body $b"
done
api GET "/sales/$S_H"
ck "after the hostile confirm bodies the sale is still a draft with nothing paid" \
    'jt ".status == \"draft\" and .paid_total == \"0.00\""'

printf '{"customer":"bad \xff\xfe utf8","items":[{"product_id":%s,"quantity":1}]}' "$POK" >"$TMP/bad-utf8.json"
api_file POST /sales "$TMP/bad-utf8.json"
ck "invalid UTF-8 in customer -> 400 or 422 (got $R_STATUS)" '[[ "$R_STATUS" == 400 || "$R_STATUS" == 422 ]] && jt ".error.code"'
printf '{"customer":"overlong \xc0\xaf","items":[{"product_id":%s,"quantity":1}]}' "$POK" >"$TMP/overlong.json"
api_file POST /sales "$TMP/overlong.json"
ck "an overlong UTF-8 sequence in customer -> 400 or 422 (got $R_STATUS)" '[[ "$R_STATUS" == 400 || "$R_STATUS" == 422 ]]'
api POST /sales "{\"customer\":\"nul\\u0000byte\",\"items\":[{\"product_id\":$POK,\"quantity\":1}]}"
expect "a \\u0000 in customer" 422 "" customer
draft "[{\"product_id\":$POK,\"quantity\":1}]"
api POST "/sales/$MK_ID/confirm" '{"payment":{"amount":"1.00","method":"cash\u0000bitcoin"}}'
expect "payment.method \"cash\\u0000bitcoin\"" 422 "" payment.method
SQLI="x'); DROP TABLE sales; -- \\ % _ \" \$1 📦 "$'\xe2\x80\xae'"<script>"
api POST /sales "$(jq -cn --arg c "$SQLI" --argjson p "$POK" '{customer: $c, items: [{product_id: $p, quantity: 1}]}')"
expect "a customer with SQL metacharacters, emoji, U+202E and HTML" 201
SQ=$(jf .id)
api GET "/sales/$SQ"
ck "it is stored and returned verbatim" 'jt ".customer == \$c" --arg c "$SQLI"'
api POST /payments "$(jq -cn --arg r "$SQLI" --argjson s "$S_PAY" '{sale_id: $s, amount: "0.50", method: "cash", reference: $r}')"
ck "a reference with SQL metacharacters round-trips (got $R_STATUS)" '[[ "$R_STATUS" == 201 ]] && jt ".reference == \$r" --arg r "$SQLI"'

api POST /sales "$(js '{items: [range(20000) | 1]}')"
expect "20000 non-object lines" 422 "" items
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a' |
    sed "s/^/{\"sale_id\":$S_PAY,\"amount\":\"1.00\",\"method\":\"cash\",\"reference\":\"/; s/\$/\"}/" >"$TMP/big.json"
api_file POST /payments "$TMP/big.json"
expect "a 2 MB payment body" 413
for q in "from=%FF&to=2026-01-01" "from=2026-01-01%00&to=2026-01-02" "from=2026-01-01'%20OR%201=1--&to=2026-01-02" \
    "from=2026-01-01&to=2026-01-02&granularity=%00" "from=2026-01-01&to=2026-01-02&method=%FF" \
    "from=2026-01-01&from=2026-02-01&to=2026-03-01" "from=-001-01-01&to=2026-01-01" \
    "from=$(head -c 5000 /dev/zero | tr '\0' 9)&to=2026-01-01"; do
    api GET "/balance/series?$q"
    expect_no5xx "GET /balance/series?${q:0:60}"
done
for q in "status=%FF" "status=draft%00" "from=%" "sale_id=-1" "method=ALL" "limit=1e3" "offset=99999999999999999999"; do
    api GET "/sales?$q"
    expect_no5xx "GET /sales?$q"
    api GET "/payments?$q"
    expect_no5xx "GET /payments?$q"
done
call POST "$API/payments" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -H "Idempotency-Key: $(head -c 5000 /dev/zero | tr '\0' k)" \
    --data-binary "{\"sale_id\":$S_PAY,\"amount\":\"1.00\",\"method\":\"cash\"}"
expect_4xx "a 5000-character Idempotency-Key"
call POST "$API/sales" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' \
    --data-binary "{\"items\":[{\"product_id\":$POK,\"quantity\":1}]}"
expect "POST /sales as text/plain" 415
call POST "$API/sales/$S_H/confirm" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' \
    --data-binary '{"payment":{"amount":"1.00","method":"cash"}}'
expect_4xx "a confirm body as text/plain"
api GET "/sales/$S_H"
ck "the sale is still a draft after all of it" 'jt ".status == \"draft\" and .paid_total == \"0.00\""'

draft "[{\"product_id\":$POK,\"quantity\":1}]"
api POST "/sales/$MK_ID/confirm" '{"payment":{"amount":"1.00","method":"bitcoin","method":"cash","amount":"9.00"}}'
expect_no5xx "a payment with duplicate keys"

req GET "$BASE/health"
ck "after the hostile input, /health is 200" '[[ "$R_STATUS" == 200 ]]'
ck "the pool master (STOCK_TEST_POOL_PID) is alive" 'pid_alive "$POOL"'
ck "no worker died during this suite (workers $WORKERS_AT_START -> $(live_workers "$POOL"))" \
    '[[ "$(live_workers "$POOL")" == "$WORKERS_AT_START" ]]'
api GET "/sales/$S1"
expect "the API still answers after the hostile input" 200

# =============================================================================================
section "series over months of history"
# Tenant H gets 120 days of seeded sales and payments; what a series says was owed on its first
# and last day must equal the raw rows (confirmed sales minus payments counted up to that day),
# for ranges that start in earlier months (balance_monthly) and on a month's first day.
SLUG_H=sales-h-$SUF
new_tenant "$SLUG_H" "Sales H $SUF" admin@h.test "$PW" --timezone America/Sao_Paulo || setup_failed
H_ID=$NT_ID
"$STOCKCTL" seed-demo --tenant "$SLUG_H" --products 5 --sales 600 --days 120 >/dev/null 2>&1 ||
    t_not_ok "stockctl seed-demo --sales 600 --days 120 for tenant H"
session "$SLUG_H" admin@h.test "$PW" || setup_failed
TOKEN=$S_TOKEN
# owed_on DAY: the raw rows' answer, in cents: confirmed sales minus returns minus payments
# (refunds are negative payments), each counted on its day.
owed_on()
{
    psql -X -At "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "SELECT
        (SELECT coalesce(sum(total), 0) FROM sales WHERE tenant_id = $H_ID AND status = 'confirmed'
            AND balance_day <= '$1') * 100 -
        (SELECT coalesce(sum(returned_total), 0) FROM sale_returns WHERE tenant_id = $H_ID
            AND balance_day <= '$1') * 100 -
        (SELECT coalesce(sum(amount), 0) FROM payments WHERE tenant_id = $H_ID
            AND balance_day <= '$1') * 100" | sed 's/\..*//'
}
TODAY_H=$(TZ=America/Sao_Paulo date +%F)
MONTH1=$(TZ=America/Sao_Paulo date -d "$TODAY_H -40 days" +%Y-%m-01)
for from in "$(dplus "$TODAY_H" -100)" "$(dplus "$TODAY_H" -61)" "$MONTH1" "$(dplus "$MONTH1" 1)"; do
    to=$(dplus "$from" 20)
    api GET "/balance/series?from=$from&to=$to&granularity=daily"
    first=$(jf '.points[0].outstanding | tonumber * 100 | round')
    last=$(jf '.points[-1].outstanding | tonumber * 100 | round')
    ck "H's series $from..$to: owed on its first day = the raw rows ($first)" \
        '[[ -n "$first" && "$first" == "$(owed_on "$from")" ]]'
    ck "H's series $from..$to: owed on its last day = the raw rows ($last)" \
        '[[ -n "$last" && "$last" == "$(owed_on "$to")" ]]'
done
# GET /payments counts its total from balance_daily's per-day counts: it must equal the rows.
for f in "" "from=$(dplus "$TODAY_H" -90)&to=$(dplus "$TODAY_H" -30)" "method=card" \
    "from=$(dplus "$TODAY_H" -60)&method=transfer" "to=$(dplus "$TODAY_H" -45)&method=cash"; do
    api GET "/payments?limit=1${f:+&$f}"
    want=$(psql -X -At "$DATABASE_URL" -c "SELECT count(*) FROM payments WHERE tenant_id = $H_ID
        $(sed -e 's/&/ /g' <<<"$f" | tr ' ' '\n' | sed -n \
            -e "s/^from=\(.*\)/AND balance_day >= '\1'/p" -e "s/^to=\(.*\)/AND balance_day <= '\1'/p" \
            -e "s/^method=\(.*\)/AND method = '\1'/p" | tr '\n' ' ')")
    ck "GET /payments?${f:-(no filter)}: total $(jf .total) = the payment rows ($want)" \
        '[[ "$R_STATUS" == 200 && -n "$want" && "$(jf .total)" == "$want" ]]'
done
ck "H has history before those ranges (owed 100 days ago is not zero)" \
    '[[ "$(owed_on "$(dplus "$TODAY_H" -100)")" != 0 ]]'
ck "balance_monthly = balance_daily summed per month, for H" \
    '[[ "$(psql -X -At "$DATABASE_URL" -c "SELECT count(*) FROM
        (SELECT date_trunc('"'"'month'"'"', day::timestamp)::date AS m,
                sum(sales_cents - returns_cents - cash_cents - card_cents - transfer_cents) AS o
         FROM balance_daily WHERE tenant_id = $H_ID GROUP BY 1) d
        FULL JOIN (SELECT month, owed_cents FROM balance_monthly WHERE tenant_id = $H_ID) b
        ON b.month = d.m WHERE coalesce(b.owed_cents, 0) <> coalesce(d.o, 0)")" == 0 ]]'

# GET /sales counts its total from sale_counts (sql/013): for every filter it must equal the rows,
# in H (seeded over 120 days, a zone west of UTC) and in A, Z (drafts, confirmations and
# cancellations of the sections above), by the creation day in the tenant's zone.
sale_rows()
{
    psql -X -At "$DATABASE_URL" -c "SELECT count(*) FROM sales s JOIN tenants t ON t.id = s.tenant_id
        WHERE s.tenant_id = $1 $(sed -e 's/&/ /g' <<<"$2" | tr ' ' '\n' | sed -n \
            -e "s/^from=\(.*\)/AND (s.created_at AT TIME ZONE t.timezone)::date >= '\1'/p" \
            -e "s/^to=\(.*\)/AND (s.created_at AT TIME ZONE t.timezone)::date <= '\1'/p" \
            -e "s/^status=\(.*\)/AND s.status = '\1'/p" | tr '\n' ' ')"
}
for tn in H A Z; do
    tid=$(psql -X -At "$DATABASE_URL" -c "SELECT id FROM tenants WHERE slug = lower('$(eval echo "\$SLUG_$tn")')")
    session "$(eval echo "\$SLUG_$tn")" "admin@$(tr 'A-Z' 'a-z' <<<"$tn").test" "$PW" && TOKEN=$S_TOKEN
    for f in "" "status=confirmed" "status=draft" "status=cancelled" \
        "from=$(dplus "$TODAY_H" -90)&to=$(dplus "$TODAY_H" -30)" "from=$TODAY_H" "to=$(dplus "$TODAY_H" -1)" \
        "from=$(dplus "$TODAY_H" -60)&status=confirmed" "from=$(dplus "$TODAY_H" -1)&to=$(dplus "$TODAY_H" 1)&status=draft"; do
        api GET "/sales?limit=1${f:+&$f}"
        want=$(sale_rows "$tid" "$f")
        ck "$tn: GET /sales?${f:-(no filter)}: total $(jf .total) = the sale rows ($want)" \
            '[[ "$R_STATUS" == 200 && -n "$want" && "$(jf .total)" == "$want" ]]'
    done
done
ck "sale_counts = the sales counted per tenant, creation day and status (every tenant)" \
    '[[ "$(psql -X -At "$DATABASE_URL" -c "SELECT count(*) FROM
        (SELECT s.tenant_id, (s.created_at AT TIME ZONE t.timezone)::date AS day, s.status, count(*) AS n
         FROM sales s JOIN tenants t ON t.id = s.tenant_id GROUP BY 1, 2, 3) r
        FULL JOIN (SELECT tenant_id, day, status, n FROM sale_counts WHERE n <> 0) c
        USING (tenant_id, day, status) WHERE r.n IS DISTINCT FROM c.n")" == 0 ]]'

# =============================================================================================
section "end"
# The series is kept incrementally (balance_daily): over all of A's days it must agree with the
# sales and payments as listed.
TOKEN=$TOKEN_A
ALL_FROM=$(printf '%s\n' 2026-01-01 "$RANGE_FROM" | sort | head -n 1)
api GET "/sales?status=confirmed&limit=200"
A_CONF=$(jf .total)
A_SALES=$(jf '[.items[].total | tonumber] | add * 100 | round')
A_OUT=$(jf '[.items[].outstanding | tonumber] | add * 100 | round')
A_RET=$(jf '[.items[].returned_total | tonumber] | add * 100 | round')
api GET "/payments?limit=200"
A_PAID=$(jf '[.items[].amount | tonumber] | add * 100 | round')
A_NPAY=$(jf .total)
api GET "/balance/series?from=$ALL_FROM&to=$RANGE_TO&granularity=monthly"
ck "A's series over all its days: sales_count = its $A_CONF confirmed sales" 'jt ".totals.sales_count == $A_CONF"'
ck "A's series: sales_total = the sum of their totals (cents $A_SALES)" \
    'jt "(.totals.sales_total | tonumber * 100 | round) == $A_SALES"'
ck "A's series: returns_total = the sum of the sales' returned_total (cents $A_RET)" \
    'jt "(.totals.returns_total | tonumber * 100 | round) == $A_RET"'
ck "A's series: payments_total = the sum of its $A_NPAY payments (cents $A_PAID)" \
    'jt "(.totals.payments_total | tonumber * 100 | round) == $A_PAID"'
ck "A's series: outstanding = the sum of the sales' outstanding (cents $A_OUT)" \
    'jt "(.totals.outstanding | tonumber * 100 | round) == $A_OUT"'
ck "A's series: its totals agree with its points" series_sane
ck "no request of this suite got a 5xx or no answer (${FIVEXX:-none})" '[[ -z "$FIVEXX" ]]'
t_result "$SUITE"
