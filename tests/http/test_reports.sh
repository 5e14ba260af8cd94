#!/usr/bin/env bash
# test_reports.sh: GET /reports/sales end to end through nginx (SPEC §12): every group (product,
# category, day, week, month), the from/to bounds, limit/offset, validation (422 naming the
# parameter), tenant isolation, the cost at the time of sale (a cost changed after a sale does
# not change that sale's cost), returns and cancellations, drafts left out, totals = the sum of
# the rows, and every figure against an independent SQL over sales, sale_lines, sale_returns and
# sale_return_lines (days from confirmed_at / created_at in the tenant's time zone, not from the
# summary); the cache: MISS then HIT, and a MISS with the new figures after a confirmed sale, a
# return and a cancellation; a bounded race of confirmations, cancellations and returns (no
# deadlock, the summary and its roll-ups still equal a rebuild). Tenant A's time zone is Pacific/Kiritimati (UTC+14) so that its
# days are not UTC's. Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_DIR,
# DATABASE_URL. Needs jq.
# (jq programs and deferred ck conditions are single-quoted on purpose; ck reads the variables)
# shellcheck disable=SC2016,SC2034
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/reports-test
: "${DATABASE_URL:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
SUF=$$-$RANDOM
SUITE=reports
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

# q SQL: one value (or rows) from PostgreSQL.
q()
{
    psql -X -At "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "$1"
}

product()
{
    mk /products "$(jq -cn --arg s "$1" --arg p "$2" --arg c "$3" --argjson u "$UNIT" \
        --argjson k "$4" '{sku: $s, name: ("Product " + $s), uom_id: $u, price: $p, cost: $c,
                          stock: "1000", category_id: $k}')"
}

# sale LINES_JSON: a confirmed sale; sets MK_ID. DRAFT_ONLY=1 leaves it a draft.
sale()
{
    mk /sales "$(jq -cn --argjson i "$1" '{items: $i}')"
    local id=$MK_ID
    [[ "${DRAFT_ONLY:-0}" == 1 ]] && return 0
    api POST "/sales/$id/confirm"
    [[ "$R_STATUS" == 200 ]] || t_not_ok "confirm fixture sale $id" "got $R_STATUS: $(snip)"
    MK_ID=$id
}

# backdate SALE DAYS: the confirmed sale's confirmation moved DAYS days back (as if made then),
# through the triggers like any other write of sales.
backdate()
{
    q "UPDATE sales s SET confirmed_at = s.confirmed_at - make_interval(days => $2),
              created_at = s.created_at - make_interval(days => $2),
              balance_day = ((s.confirmed_at - make_interval(days => $2))
                             AT TIME ZONE t.timezone)::date
       FROM tenants t WHERE t.id = s.tenant_id AND s.id = $1" >/dev/null ||
        t_not_ok "backdate sale $1"
}

dplus()
{
    date -u -d "$1 $2 days" +%F
}

# report QUERY: GET /reports/sales?QUERY.
report()
{
    api GET "/reports/sales?$1"
}

# The independent figures: every sold line of a confirmed sale on its confirmation day, every
# returned line on its return's day (both in the tenant's time zone), from the base tables.
# expected TENANT FROM TO GROUP: one line per row, "key|quantity|sales|returns|cost|margin",
# sorted by key, in the API's formats (periods with activity only; the API's zero rows are
# dropped before comparing).
expected()
{
    local t=$1 f=$2 to=$3 g=$4 key
    case $g in
    product) key="x.product_id::text" ;;
    category) key="coalesce(p.category_id::text, 'null')" ;;
    day) key="x.day::text" ;;
    week) key="date_trunc('week', x.day)::date::text" ;;
    month) key="date_trunc('month', x.day)::date::text" ;;
    esac
    q "WITH x AS (
         SELECT l.product_id, (s.confirmed_at AT TIME ZONE z.timezone)::date AS day,
                l.quantity AS q, l.line_total AS s, 0::numeric AS r,
                round(l.quantity * l.unit_cost, 2) AS c
         FROM sales s JOIN tenants z ON z.id = s.tenant_id
         JOIN sale_lines l ON l.tenant_id = s.tenant_id AND l.sale_id = s.id
         WHERE s.tenant_id = $t AND s.status = 'confirmed'
         UNION ALL
         SELECT rl.product_id, (r.created_at AT TIME ZONE z.timezone)::date, -rl.quantity, 0,
                rl.line_total, -rl.cost_total
         FROM sale_returns r JOIN tenants z ON z.id = r.tenant_id
         JOIN sale_return_lines rl ON rl.tenant_id = r.tenant_id AND rl.return_id = r.id
         WHERE r.tenant_id = $t)
       SELECT k || '|' || sum(y.q)::numeric(15, 3) || '|' || sum(y.s)::numeric(14, 2) || '|'
              || sum(y.r)::numeric(14, 2) || '|' || sum(y.c)::numeric(14, 2) || '|'
              || (sum(y.s) - sum(y.r) - sum(y.c))::numeric(14, 2)
       FROM (SELECT $key AS k, x.* FROM x JOIN products p ON p.tenant_id = $t
             AND p.id = x.product_id WHERE x.day BETWEEN '$f' AND '$to') y
       GROUP BY k" | sort
}

# got GROUP: the last report's items as expected() prints them (zero rows dropped).
got()
{
    jf '.items[]
        | select(.quantity != "0.000" or .sales_total != "0.00" or .returns_total != "0.00"
                 or .cost_total != "0.00")
        | (if $g == "product" then (.key.product.id | tostring)
           elif $g == "category" then (if .key.category == null then "null"
                                       else (.key.category.id | tostring) end)
           else .key.period end)
          + "|" + .quantity + "|" + .sales_total + "|" + .returns_total + "|" + .cost_total
          + "|" + .margin' --arg g "$1" | sort
}

# cents FIELD: the sum over the last report's items of FIELD, in cents (or thousandths).
sum_of()
{
    jf '[.items[] | .[$f] | gsub("\\."; "") | tonumber] | add // 0' --arg f "$1"
}
tot_of()
{
    jf '.totals[$f] | gsub("\\."; "") | tonumber' --arg f "$1"
}

# check_group TENANT FROM TO GROUP: the whole report (limit 1000) against expected(), totals =
# the sum of the rows, and margin = sales - returns - cost on every row.
check_group()
{
    local t=$1 f=$2 to=$3 g=$4 exp act fld bad=""
    report "from=$f&to=$to&group=$g&limit=1000"
    [[ "$R_STATUS" == 200 ]] || { t_not_ok "report $g $f..$to" "got $R_STATUS: $(snip)"; return; }
    exp=$(expected "$t" "$f" "$to" "$g")
    act=$(got "$g")
    if [[ "$exp" == "$act" ]]; then
        t_ok "report by $g $f..$to = the independent SQL ($(wc -l <<<"$act") rows)"
    else
        t_not_ok "report by $g $f..$to = the independent SQL" \
            "expected [$(tr '\n' ' ' <<<"$exp")] got [$(tr '\n' ' ' <<<"$act")]"
    fi
    for fld in quantity sales_total returns_total cost_total margin; do
        [[ "$(sum_of "$fld")" == "$(tot_of "$fld")" ]] || bad+="$fld "
    done
    ck "report by $g $f..$to: totals are the sum of the rows (${bad:-all fields})" '[[ -z "$bad" ]]'
    ck "report by $g: margin = sales - returns - cost on every row and the totals" \
        "jt '[.items[], .totals] | all(((.sales_total | tonumber) - (.returns_total | tonumber)
              - (.cost_total | tonumber) - (.margin | tonumber)) | fabs < 0.001)'"
    ck "report by $g: total = the number of rows" "jt '.total == (.items | length)'"
}

# ---------------------------------------------------------------------------------------------
section "setup"
PW=correct-horse-$SUF
secret_note "$PW"
SLUG_A=rep-a-$SUF
SLUG_B=rep-b-$SUF
setup_failed()
{
    t_result "$SUITE"
    exit 1
}
new_tenant "$SLUG_A" "Reports A $SUF" admin@a.test "$PW" --timezone Pacific/Kiritimati ||
    setup_failed
A_ID=$NT_ID
new_tenant "$SLUG_B" "Reports B $SUF" admin@b.test "$PW" || setup_failed
B_ID=$NT_ID
printf '%s\n' "$PW" | "$STOCKCTL" user create --tenant "$SLUG_A" --email staff@a.test \
    --role staff >/dev/null 2>&1 || t_not_ok "stockctl creates a staff user of A"
session "$SLUG_A" admin@a.test "$PW" || setup_failed
TOKEN_A=$S_TOKEN
session "$SLUG_B" admin@b.test "$PW" || setup_failed
TOKEN_B=$S_TOKEN
session "$SLUG_A" staff@a.test "$PW" && TOKEN_STAFF=$S_TOKEN || TOKEN_STAFF=""
TODAY=$(q "SELECT (now() AT TIME ZONE 'Pacific/Kiritimati')::date")
t_ok "tenants A (UTC+14, today $TODAY) and B with their admins (and A's staff) signed in"

TOKEN=$TOKEN_A
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
mk /categories '{"name":"Drinks"}'
CAT1=$MK_ID
mk /categories '{"name":"Food"}'
CAT2=$MK_ID
product "R1" "10.00" "4.00" "$CAT1"
P1=$MK_ID
product "R2" "3.33" "1.11" "$CAT2"
P2=$MK_ID
product "R3" "2.50" "0.75" null
P3=$MK_ID

# ---------------------------------------------------------------------------------------------
section "an empty report"
report "from=$TODAY&to=$TODAY&group=product"
expect "a report with no sales" 200
ck "no sales: no rows, zero totals" \
    "jt '.items == [] and .total == 0 and .totals.sales_total == \"0.00\"
         and .totals.quantity == \"0.000\" and .totals.margin == \"0.00\"
         and .totals.cost_estimated == false and .group == \"product\"
         and .from == \"$TODAY\" and .to == \"$TODAY\" and .limit == 50 and .offset == 0'"
report "from=$TODAY&to=$TODAY"
ck "group defaults to product" "jt '.group == \"product\"'"

# ---------------------------------------------------------------------------------------------
section "sales, cost at the time of sale, returns, cancellations, drafts"
sale "[{\"product_id\":$P1,\"quantity\":\"3\"},{\"product_id\":$P2,\"quantity\":\"2\"}]"
S1=$MK_ID
ck "the confirmed lines keep the products' cost (4.00, 1.11), not estimated" \
    "[[ \"\$(q \"SELECT string_agg(unit_cost::text || ':' || cost_estimated, ',' ORDER BY id)
               FROM sale_lines WHERE sale_id = $S1\")\" == '4.00:false,1.11:false' ]]"
DRAFT_ONLY=1 sale "[{\"product_id\":$P1,\"quantity\":\"5\"}]"
D1=$MK_ID
ck "a draft's lines have no cost yet" \
    "[[ \"\$(q \"SELECT count(*) FROM sale_lines WHERE sale_id = $D1 AND unit_cost IS NULL\")\" == 1 ]]"
# the product's cost changes after S1 was sold
api PATCH "/products/$P1" '{"cost":"9.00"}'
expect "the cost of R1 becomes 9.00" 200
report "from=$TODAY&to=$TODAY&group=product"
ck "R1 in the report: 3 sold at cost 4.00 each, whatever its cost now" \
    "jt '.items[] | select(.key.product.id == $P1) | .quantity == \"3.000\"
         and .sales_total == \"30.00\" and .cost_total == \"12.00\" and .margin == \"18.00\"
         and .returns_total == \"0.00\" and .key.product.sku == \"R1\"
         and .key.product.name == \"Product R1\" and .cost_estimated == false'"
sale "[{\"product_id\":$P1,\"quantity\":\"1\"}]"
S2=$MK_ID
sale "[{\"product_id\":$P3,\"quantity\":\"1.5\"}]"
# a confirmed sale then cancelled (no payments), and one confirmed then returned in part
sale "[{\"product_id\":$P2,\"quantity\":\"4\"}]"
S_CANCEL=$MK_ID
api POST "/sales/$S_CANCEL/cancel"
expect "cancel a confirmed sale" 200
api POST "/sales/$S1/returns" "{\"items\":[{\"product_id\":$P1,\"quantity\":\"1\"}]}"
expect "return 1 of R1 from the first sale" 201
report "from=$TODAY&to=$TODAY&group=product"
ck "R1: 3 + 1 sold, 1 returned: quantity 3, sales 40.00, returns 10.00, cost 4*3 + 9 - 4 = 17.00, margin 13.00" \
    "jt '.items[] | select(.key.product.id == $P1) | .quantity == \"3.000\"
         and .sales_total == \"40.00\" and .returns_total == \"10.00\"
         and .cost_total == \"17.00\" and .margin == \"13.00\"'"
ck "R2: the cancelled sale is not counted (2 sold: 6.66, cost 2.22)" \
    "jt '.items[] | select(.key.product.id == $P2) | .quantity == \"2.000\"
         and .sales_total == \"6.66\" and .cost_total == \"2.22\" and .margin == \"4.44\"'"
ck "R3: 1.5 at 2.50 (3.75), cost round(1.5 * 0.75) = 1.13" \
    "jt '.items[] | select(.key.product.id == $P3) | .quantity == \"1.500\"
         and .sales_total == \"3.75\" and .cost_total == \"1.13\" and .margin == \"2.62\"'"
ck "the draft is not counted (3 products, R1 first by sales_total)" \
    "jt '.total == 3 and .items[0].key.product.id == $P1 and .totals.sales_total == \"50.41\"'"
# a return of the rest of the line gives back exactly the cost that line had
api POST "/sales/$S1/returns" "{\"items\":[{\"product_id\":$P1,\"quantity\":\"2\"},{\"product_id\":$P2,\"quantity\":\"2\"}]}"
expect "return the rest of the first sale" 201
ck "the first sale returned whole gives back its whole cost (12.00 + 2.22)" \
    "[[ \"\$(q \"SELECT sum(cost_total) FROM sale_return_lines WHERE sale_id = $S1\")\" == 14.22 ]]"
report "from=$TODAY&to=$TODAY&group=product"
ck "R1 after the whole first sale came back: 1 kept at cost 9.00" \
    "jt '.items[] | select(.key.product.id == $P1) | .quantity == \"1.000\"
         and .sales_total == \"40.00\" and .returns_total == \"30.00\"
         and .cost_total == \"9.00\" and .margin == \"1.00\"'"

# ---------------------------------------------------------------------------------------------
section "history over several days, weeks and months"
# sales confirmed today, then moved back (the triggers move their rows in the summary)
for d in 1 2 6 9 15 33 40 70 200 400; do
    sale "[{\"product_id\":$P1,\"quantity\":\"$((d % 3 + 1))\"},{\"product_id\":$P3,\"quantity\":\"0.25\"}]"
    backdate "$MK_ID" "$d"
done
sale "[{\"product_id\":$P2,\"quantity\":\"1\"}]"
backdate "$MK_ID" 3
F90=$(dplus "$TODAY" -90)
F365=$(dplus "$TODAY" -365)
for g in product category day week month; do
    check_group "$A_ID" "$F90" "$TODAY" "$g"
done
check_group "$A_ID" "$F365" "$TODAY" month
check_group "$A_ID" "$(dplus "$TODAY" -3000)" "$TODAY" category
check_group "$A_ID" "$(dplus "$TODAY" -9)" "$(dplus "$TODAY" -2)" day
# ranges on month boundaries (whole months come from report_monthly, the edges from
# report_daily): both ends aligned, one end aligned, within one month, one whole month
first_of()
{
    date -u -d "$1" +%Y-%m-01
}
last_of()
{
    date -u -d "$(first_of "$1") +1 month -1 day" +%F
}
M70=$(first_of "$(dplus "$TODAY" -70)")
E33=$(last_of "$(dplus "$TODAY" -33)")
M400=$(first_of "$(dplus "$TODAY" -400)")
for g in product category; do
    check_group "$A_ID" "$M70" "$E33" "$g"
    check_group "$A_ID" "$M70" "$TODAY" "$g"
    check_group "$A_ID" "$(dplus "$TODAY" -75)" "$E33" "$g"
    check_group "$A_ID" "$M400" "$(last_of "$M400")" "$g"
    check_group "$A_ID" "$(dplus "$M400" 3)" "$(dplus "$M400" 20)" "$g"
    check_group "$A_ID" "$M400" "$TODAY" "$g"
done
report "from=$F90&to=$TODAY&group=category&limit=1000"
ck "categories: Drinks, Food and the products without one (null, last)" \
    "jt '([.items[].key.category | if . == null then null else .id end] | sort_by(. // 1e18))
         == ([$CAT1, $CAT2] | sort) + [null] and (.items[-1].key.category == null)
         and (.items[] | select(.key.category.id == $CAT1) | .key.category.name == \"Drinks\")'"
report "from=$F90&to=$TODAY&group=day&limit=1000"
ck "by day: one row per day of the range, zeros included (91 rows, in order)" \
    "jt '.total == 91 and (.items | length) == 91 and .items[0].key.period == \"$F90\"
         and .items[-1].key.period == \"$TODAY\"
         and ([.items[].key.period] == ([.items[].key.period] | sort))'"
ck "by day: the sale confirmed on a day in UTC+14 is on that day ($(dplus "$TODAY" -3))" \
    "jt '.items[] | select(.key.period == \"$(dplus "$TODAY" -3)\") | .sales_total == \"3.33\"'"
report "from=$F90&to=$TODAY&group=week&limit=1000"
ck "by week: every period is a Monday, the first one holds $F90" \
    "[[ -z \"\$(jf '.items[].key.period' | while read -r d; do [[ \$(date -u -d \"\$d\" +%u) == 1 ]] || echo \"\$d\"; done)\" ]] &&
     jt '.items[0].key.period <= \"$F90\"'"
report "from=$F90&to=$TODAY&group=month&limit=1000"
ck "by month: every period is the 1st" "jt 'all(.items[].key.period; endswith(\"-01\"))'"

section "bounds"
report "from=$(dplus "$TODAY" -2)&to=$(dplus "$TODAY" -2)&group=product"
ck "a day with the moved sale of 2 days ago only: R1 3 units and R3 0.25" \
    "jt '.total == 2 and (.items[] | select(.key.product.id == $P1) | .quantity == \"3.000\")'"
report "from=$(dplus "$TODAY" 1)&to=$(dplus "$TODAY" 30)&group=product"
ck "a range after every sale: no rows" "jt '.total == 0 and .items == []'"
report "from=$(dplus "$TODAY" -1)&to=$(dplus "$TODAY" -1)&group=day"
ck "from = to, by day: one row" "jt '.total == 1 and .items[0].key.period == \"$(dplus "$TODAY" -1)\"'"

# ---------------------------------------------------------------------------------------------
section "limit and offset"
report "from=$F90&to=$TODAY&group=day&limit=1000"
ALL=$(jf '.items' -c)
report "from=$F90&to=$TODAY&group=day&limit=7&offset=30"
ck "limit 7 offset 30: the rows 30..36 of the whole report, total 91, the same totals" \
    'jt ".items == \$all[30:37] and .total == 91 and .limit == 7 and .offset == 30" --argjson all "$ALL"'
ALLT=$(jf '.totals' -c)
report "from=$F90&to=$TODAY&group=day&limit=1&offset=90"
ck "the last page" 'jt ".items == \$all[90:91]" --argjson all "$ALL"'
report "from=$F90&to=$TODAY&group=day&offset=500"
ck "an offset past the end: no rows, the same total and totals" \
    'jt ".items == [] and .total == 91 and .totals == \$t" --argjson t "$ALLT"'
report "from=$F90&to=$TODAY&group=product&limit=2&offset=1"
ck "products, limit 2 offset 1: 2 rows, total 3" "jt '(.items | length) == 2 and .total == 3'"
report "from=$F90&to=$TODAY&group=day"
ck "default limit 50" "jt '(.items | length) == 50 and .limit == 50'"

# ---------------------------------------------------------------------------------------------
section "validation"
report "to=$TODAY"
expect "no from" 422 required from
report "from=$TODAY"
expect "no to" 422 required to
report "from=2026-02-30&to=$TODAY"
expect "from is not a date" 422 invalid_date from
report "from=$TODAY&to=yesterday"
expect "to is not a date" 422 invalid_date to
report "from=$TODAY&to=$(dplus "$TODAY" -1)"
expect "from after to" 422 invalid_range from
report "from=$TODAY&to=$TODAY&group=customer"
expect "an unknown group" 422 invalid_parameter group
report "from=$TODAY&to=$TODAY&group=PRODUCT"
expect "groups are lower case" 422 invalid_parameter group
report "from=$TODAY&to=$TODAY&limit=0"
expect "limit 0" 422 invalid_parameter limit
report "from=$TODAY&to=$TODAY&limit=1001"
expect "limit 1001" 422 invalid_parameter limit
report "from=$TODAY&to=$TODAY&limit=ten"
expect "limit not a number" 422 invalid_parameter limit
report "from=$TODAY&to=$TODAY&offset=-1"
expect "a negative offset" 422 invalid_parameter offset
report "from=$(dplus "$TODAY" -366)&to=$TODAY&group=day"
expect "by day over 367 days" 422 range_too_long to
report "from=$(dplus "$TODAY" -365)&to=$TODAY&group=day&limit=1000"
expect "by day over 366 days" 200
report "from=$(dplus "$TODAY" -3660)&to=$TODAY&group=month"
expect "over 3661 days" 422 range_too_long to

# ---------------------------------------------------------------------------------------------
section "roles and tenants"
if [[ -n "$TOKEN_STAFF" ]]; then
    api_as "$TOKEN_STAFF" GET "/reports/sales?from=$F90&to=$TODAY&group=product"
    expect "staff reads the report" 200
else
    t_not_ok "staff reads the report" "no staff session"
fi
call GET "$API/reports/sales?from=$F90&to=$TODAY"
expect "no session" 401
TOKEN=$TOKEN_B
report "from=$F90&to=$TODAY&group=product"
ck "B sees none of A's sales (same query as A's cached one)" \
    "jt '.total == 0 and .totals.sales_total == \"0.00\"' && [[ \"\$(header X-Cache)\" == MISS ]]"
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
product "BX" "1.00" "0.50" null
PB=$MK_ID
sale "[{\"product_id\":$PB,\"quantity\":\"2\"}]"
TODAY_B=$(q "SELECT (now() AT TIME ZONE 'UTC')::date")
check_group "$B_ID" "$(dplus "$TODAY_B" -1)" "$TODAY_B" product
TOKEN=$TOKEN_A
report "from=$F90&to=$TODAY&group=product&limit=1000"
ck "A does not see B's product" "jt '[.items[].key.product.id] | index($PB) == null'"

# ---------------------------------------------------------------------------------------------
section "cache"
Q="from=$F90&to=$TODAY&group=week&limit=100"
report "$Q"
warm "/reports/sales?$Q"
ck "a second read is a HIT" "[[ \"\$(header X-Cache)\" == HIT ]]"
BEFORE=$(jf .totals.sales_total)
sale "[{\"product_id\":$P2,\"quantity\":\"3\"}]"
S_NEW=$MK_ID
report "$Q"
ck "after a confirmed sale: a MISS with its 9.99 in the totals" \
    "[[ \"\$(header X-Cache)\" == MISS ]] &&
     jt '((.totals.sales_total | tonumber) - (\$b | tonumber) - 9.99) | fabs < 0.001' --arg b '$BEFORE'"
warm "/reports/sales?$Q"
api POST "/sales/$S_NEW/returns" "{\"items\":[{\"product_id\":$P2,\"quantity\":\"1\"}]}"
expect "return one of the new sale" 201
report "$Q"
ck "after a return: a MISS with 3.33 more returns" \
    "[[ \"\$(header X-Cache)\" == MISS ]] && jt '.totals.returns_total != \"0.00\"'"
check_group "$A_ID" "$F90" "$TODAY" week
sale "[{\"product_id\":$P3,\"quantity\":\"2\"}]"
S_C2=$MK_ID
warm "/reports/sales?$Q"
api POST "/sales/$S_C2/cancel"
expect "cancel it" 200
report "$Q"
ck "after a cancellation: a MISS" "[[ \"\$(header X-Cache)\" == MISS ]]"
check_group "$A_ID" "$F90" "$TODAY" product
warm "/reports/sales?$Q"
api PATCH "/products/$P1" '{"name":"Product R1 renamed"}'
report "from=$F90&to=$TODAY&group=product&limit=1000"
ck "a renamed product shows its new name" \
    "jt '.items[] | select(.key.product.id == $P1) | .key.product.name == \"Product R1 renamed\"'"

# ---------------------------------------------------------------------------------------------
section "a bounded race: confirmations, cancellations and returns at once"
# Parallel clients (pfire, pcodes, ... of tests/lib/api.sh) write under PAR.
PAR=$TMP/par
par_reset
TOKEN=$TOKEN_A
RACE=()
for i in $(seq 1 16); do
    if ((i % 2)); then
        items="[{\"product_id\":$P1,\"quantity\":\"1\"},{\"product_id\":$P2,\"quantity\":\"2\"},{\"product_id\":$P3,\"quantity\":\"0.5\"}]"
    else
        items="[{\"product_id\":$P3,\"quantity\":\"1\"},{\"product_id\":$P2,\"quantity\":\"1\"},{\"product_id\":$P1,\"quantity\":\"2\"}]"
    fi
    DRAFT_ONLY=1 sale "$items"
    RACE+=("$MK_ID")
done
for id in "${RACE[@]}"; do
    pfire "c$id" POST "/sales/$id/confirm" &
done
wait
ck "16 parallel confirmations: all 200 ($(pcodes c))" '[[ "$(pcount c 200)" == 16 ]]'
par_reset
EXTRA=()
PS=("$P2" "$P3")
for i in $(seq 1 8); do
    DRAFT_ONLY=1 sale "[{\"product_id\":${PS[i % 2]},\"quantity\":\"1\"},{\"product_id\":$P1,\"quantity\":\"1\"}]"
    EXTRA+=("$MK_ID")
done
for k in "${!RACE[@]}"; do
    id=${RACE[$k]}
    if ((k % 2)); then
        pfire "x$id" POST "/sales/$id/cancel" &
    else
        pfire "r$id" POST "/sales/$id/returns" "{\"items\":[{\"product_id\":$P2,\"quantity\":\"1\"},{\"product_id\":$P1,\"quantity\":\"1\"}]}" &
    fi
    # and, meanwhile, other drafts confirmed
    ((k < ${#EXTRA[@]})) && pfire "n$id" POST "/sales/${EXTRA[$k]}/confirm" &
done
wait
ck "8 cancellations, 8 returns and 8 confirmations at once: all answered ($(pcodes x) $(pcodes r) $(pcodes n))" \
    '[[ "$(pcount x 200)" == 8 && "$(pcount r 201)" == 8 && "$(pcount n 200)" == 8 ]]'
check_group "$A_ID" "$F90" "$TODAY" product
check_group "$A_ID" "$F90" "$TODAY" day

# ---------------------------------------------------------------------------------------------
section "the summary against a rebuild, older lines"
# rebuild_diff TENANT: how many non-zero summary rows of TENANT differ from a rebuild from the
# raw rows (stock_report_rebuild, rolled back).
rebuild_diff()
{
    local cols="day, product_id, qty_milli, sales_cents, returns_cents, cost_cents, estimated"
    local nz="(qty_milli, sales_cents, returns_cents, cost_cents, estimated) <> (0, 0, 0, 0, 0)"
    psql -X -q -At -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL | tail -n 1
CREATE TEMP TABLE k AS SELECT $cols FROM report_daily WHERE tenant_id = $1 AND $nz;
BEGIN;
SELECT stock_report_rebuild($1);
SELECT count(*) FROM ((SELECT $cols FROM report_daily WHERE tenant_id = $1 AND $nz
                       EXCEPT SELECT * FROM k)
                      UNION ALL (SELECT * FROM k EXCEPT SELECT $cols FROM report_daily
                                 WHERE tenant_id = $1 AND $nz)) d;
ROLLBACK;
SQL
}
ck "report_daily of A equals stock_report_rebuild's (the triggers kept it exactly)" \
    '[[ "$(rebuild_diff "$A_ID")" == 0 ]]'
ck "report_monthly and report_days of A are report_daily's sums per month and per day" \
    "[[ \"\$(q \"SELECT count(*) FROM (
        (SELECT date_trunc('month', day)::date, product_id, sum(qty_milli), sum(sales_cents),
                sum(returns_cents), sum(cost_cents), sum(estimated)
         FROM report_daily WHERE tenant_id = $A_ID GROUP BY 1, 2
         EXCEPT SELECT month, product_id, qty_milli, sales_cents, returns_cents, cost_cents,
                estimated FROM report_monthly WHERE tenant_id = $A_ID)
        UNION ALL
        (SELECT month, product_id, qty_milli, sales_cents, returns_cents, cost_cents, estimated
         FROM report_monthly WHERE tenant_id = $A_ID
         EXCEPT SELECT date_trunc('month', day)::date, product_id, sum(qty_milli),
                sum(sales_cents), sum(returns_cents), sum(cost_cents), sum(estimated)
         FROM report_daily WHERE tenant_id = $A_ID GROUP BY 1, 2)
        UNION ALL
        (SELECT day, NULL::bigint, sum(qty_milli), sum(sales_cents), sum(returns_cents),
                sum(cost_cents), sum(estimated) FROM report_daily WHERE tenant_id = $A_ID
         GROUP BY 1
         EXCEPT SELECT day, NULL::bigint, qty_milli, sales_cents, returns_cents, cost_cents,
                estimated FROM report_days WHERE tenant_id = $A_ID)
        UNION ALL
        (SELECT day, NULL::bigint, qty_milli, sales_cents, returns_cents, cost_cents, estimated
         FROM report_days WHERE tenant_id = $A_ID
         EXCEPT SELECT day, NULL::bigint, sum(qty_milli), sum(sales_cents), sum(returns_cents),
                sum(cost_cents), sum(estimated) FROM report_daily WHERE tenant_id = $A_ID
         GROUP BY 1)) d\")\" == 0 ]]"
ck "report_daily of A is not empty" \
    "[[ \"\$(q \"SELECT count(*) > 5 FROM report_daily WHERE tenant_id = $A_ID\")\" == t ]]"
# A line from before sql/016 (its cost estimated at the migration): flagged in its rows.
q "UPDATE sale_lines SET cost_estimated = true WHERE sale_id = $S2" >/dev/null
report "from=$TODAY&to=$TODAY&group=product"
ck "a line with an estimated cost flags its row and the totals, not the others" \
    "jt '(.items[] | select(.key.product.id == $P1) | .cost_estimated == true)
         and (.items[] | select(.key.product.id == $P3) | .cost_estimated == false)
         and .totals.cost_estimated == true'"
ck "a confirmed line without a cost is refused by the summary's trigger" \
    "! q \"UPDATE sale_lines SET unit_cost = NULL WHERE sale_id = $S2\" >/dev/null 2>&1"

ck "no 5xx in the whole suite" "[[ -z \"\$FIVEXX\" ]]"
t_result "$SUITE"
