#!/usr/bin/env bash
# test_csv.sh: CSV export and import end to end through nginx (SPEC §12). Every CSV list
# (products, sales, payments, movements) against its JSON (same rows, same values), with
# filters, limit/offset and Accept/format; headers (type, attachment, CRLF, header row);
# quoting and formula injection with hostile product names; tenant isolation. The import:
# staff 403, 415, a good file (created and updated counts, the ledger's opening and count
# movements, the products cache renewed), all or nothing (one bad line imports nothing; every
# error with its line and field, lines counted across quoted multi-line fields), unknown
# category and unit, a SKU twice, a bad header, 10,001 rows refused, a body over 4 MiB (413).
# A failure midway through a streamed export (its database session terminated) cuts the
# transfer short and the next requests work. The memory bound: a release pool of one worker
# exports STOCK_TEST_CSV_ROWS movements (default 200,000) and its VmHWM grows by less than
# STOCK_TEST_CSV_HWM_KB (default 8 MiB). Creates its own tenants. Environment from
# tests/run_all.sh. Needs jq, psql, python3 and cgi-fcgi.
# ck evaluates single-quoted conditions (SC2016) that read variables set before it (SC2034).
# shellcheck disable=SC2016,SC2034
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/csv-test
: "${DATABASE_URL:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
SUF=$$-$RANDOM
SUITE=csv
ROWS=${STOCK_TEST_CSV_ROWS:-200000}
HWM_KB=${STOCK_TEST_CSV_HWM_KB:-8192}
mkdir -p "$DIR/tmp"
TMP=$DIR/tmp
POOL=""

for tool in jq psql python3 cgi-fcgi; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        t_not_ok "$tool is installed"
        t_result "$SUITE"
        exit 1
    fi
done
cleanup()
{
    [[ -n "$POOL" ]] && pool_stop "$POOL" 20
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

. "$ROOT/tests/lib/api.sh"

sql() { psql -X -At -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$1"; }
setup_failed()
{
    t_result "$SUITE"
    exit 1
}

# csv_get PATH [curl args]: GET $API/PATH (bearer $TOKEN) into $TMP/out.csv; sets R_STATUS and
# R_HEADERS; R_BODY is left alone.
csv_get()
{
    local p=$1
    shift
    R_STATUS=$(curl -s -D "$TMP/h" -o "$TMP/out.csv" -w '%{http_code}' --max-time 60 \
        -H "Authorization: Bearer $TOKEN" "$@" "$API$p") || R_STATUS=000
    R_HEADERS=$(tr -d '\r' <"$TMP/h")
}

# csv_json FILE: the CSV file as a JSON array of objects (Python's csv module reads it).
csv_json()
{
    python3 -c 'import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    print(json.dumps(list(csv.DictReader(f))))' "$1"
}

# same_rows NAME JSON_FILTER CSV_FILTER: the last JSON list ($TMP/list.json) and $TMP/out.csv
# give the same value of JSON_FILTER / CSV_FILTER (jq, over .items and the CSV rows).
same_rows()
{
    local a b
    a=$(jq -c "[.items[] | $2]" "$TMP/list.json")
    b=$(csv_json "$TMP/out.csv" | jq -c "[.[] | $3]")
    if [[ -n "$a" && "$a" == "$b" && "$a" != "[]" ]]; then
        t_ok "$1 ($(jq length <<<"$a") rows)"
    else
        t_not_ok "$1" "json ${a:0:200} csv ${b:0:200}"
    fi
}

# json_list PATH: GET $API/PATH as JSON into $TMP/list.json.
json_list()
{
    api GET "$1"
    printf '%s' "$R_BODY" >"$TMP/list.json"
}

# import FILE [TOKEN [content type]]: POST FILE to /products/import.
import()
{
    call POST "$API/products/import" -H "Authorization: Bearer ${2:-$TOKEN}" \
        -H "Content-Type: ${3:-text/csv}" --data-binary "@$1"
}

# ---------------------------------------------------------------------------------------------
section "tenants, users, fixtures"
SLUG_A=csv-a-$SUF
SLUG_B=csv-b-$SUF
PW=csv-admin-$SUF-pw
new_tenant "$SLUG_A" "CSV A" admin@a.test "$PW" || setup_failed
TENANT_A=$NT_ID
new_tenant "$SLUG_B" "CSV B" admin@b.test "$PW" || setup_failed
printf '%s\n' "$PW" | "$STOCKCTL" user create --tenant "$SLUG_A" --email staff@a.test \
    --role staff >/dev/null 2>&1 || setup_failed
session "$SLUG_B" admin@b.test "$PW" || setup_failed
TOKEN_B=$S_TOKEN
session "$SLUG_A" staff@a.test "$PW" || setup_failed
STAFF=$S_TOKEN
session "$SLUG_A" admin@a.test "$PW" || setup_failed
TOKEN=$S_TOKEN
TOKEN_A=$S_TOKEN
mk /uom '{"name":"Unit","abbreviation":"u"}'
U=$MK_ID
mk /uom '{"name":"Kilogram","abbreviation":"kg"}'
mk /categories '{"name":"Tools"}'
CAT=$MK_ID
# Hostile names: formulas, a negative-looking text, quotes, commas, newlines, UTF-8.
NASTY=('=1+2' '+SUM(A1)' '-2+3 off' '@cmd' 'comma, "quoted"' $'two\nlines' $'cr\r\nlf'
    'Café ñandú 日本' $'\tTabbed' '=HYPERLINK("http://evil","x")')
i=0
for name in "${NASTY[@]}"; do
    i=$((i + 1))
    mk /products "$(jq -cn --arg n "$name" --arg s "N-$i" --argjson u "$U" --argjson c "$CAT" \
        '{sku: $s, name: $n, uom_id: $u, category_id: $c, price: "1.50", cost: "0.75", stock: "5"}')"
done
mk /products "$(jq -cn --argjson u "$U" '{sku: "OUT-1", name: "Out of stock", uom_id: $u, price: "2.00"}')"
P_OUT=$MK_ID
mk /products "$(jq -cn --argjson u "$U" '{sku: "SELL-1", name: "Sold thing", uom_id: $u, price: "10.00", stock: "100"}')"
P_SELL=$MK_ID
for n in 1 2 3; do
    mk /sales "$(jq -cn --arg c "Customer, \"$n\"" --argjson p "$P_SELL" \
        '{customer: $c, items: [{product_id: $p, quantity: "2"}]}')"
    S=$MK_ID
    if ((n < 3)); then
        api POST "/sales/$S/confirm" '{"payment":{"amount":"5.00","method":"cash"}}'
        expect "sale $n confirmed with a payment" 200
    fi
done
api POST /stock/movements "{\"product_id\":$P_SELL,\"kind\":\"adjustment\",\"quantity\":\"-1.5\",\"note\":\"=cmd|' /C calc'!A0\"}" \
    -H "Idempotency-Key: csv-$SUF"
expect "an adjustment with a hostile note" 201
TOKEN=$TOKEN_B
mk /uom '{"name":"Unit","abbreviation":"u"}'
mk /products "$(jq -cn --argjson u "$MK_ID" '{sku: "B-ONLY", name: "Tenant B product", uom_id: $u, price: "3.00"}')"
B_PRODUCT=$MK_ID
TOKEN=$TOKEN_A

# ---------------------------------------------------------------------------------------------
section "exports: headers and shape"
csv_get "/products?format=csv"
ck "GET /products?format=csv -> 200" '[[ $R_STATUS == 200 ]]'
ck "Content-Type text/csv; charset=utf-8" '[[ "$(header Content-Type)" == "text/csv; charset=utf-8" ]]'
ck "Content-Disposition is an attachment named products-<day>.csv" \
    '[[ "$(header Content-Disposition)" =~ ^attachment\;\ filename=\"products-[0-9]{4}-[0-9]{2}-[0-9]{2}\.csv\"$ ]]'
ck "the first line is the header row, ended by CRLF" \
    '[[ "$(head -c 83 "$TMP/out.csv")" == $'"'"'id,sku,name,category,uom,price,cost,stock,min_stock,created_at,updated_at\r\n'"'"'* ]]'
ck "every line ends with CRLF (no bare LF outside quoted fields)" \
    'python3 -c "import csv,sys; d=open(sys.argv[1],\"rb\").read(); sys.exit(0 if d.endswith(b\"\r\n\") and d.count(b\"\r\n\") >= 12 else 1)" "$TMP/out.csv"'
ck "no X-Cache on an export (never from the cache)" '[[ -z "$(header X-Cache)" ]]'
ck "Vary: Accept (the list answers JSON or CSV)" '[[ "$(header Vary)" == Accept ]]'
csv_get "/products" -H 'Accept: text/csv'
ck "Accept: text/csv gives CSV" '[[ $R_STATUS == 200 && "$(header Content-Type)" == text/csv* ]]'
csv_get "/products" -H 'Accept: text/csv;q=0, application/json'
ck "Accept: text/csv;q=0 gives JSON" '[[ "$(header Content-Type)" == application/json* ]]'
csv_get "/products?format=json" -H 'Accept: text/csv'
ck "format=json wins over Accept" '[[ "$(header Content-Type)" == application/json* ]]'
api GET "/products?format=xml"
expect "format=xml" 422 invalid_parameter format
hst=$(curl -s -I -o "$TMP/head.txt" -w '%{http_code}' --max-time 15 -H "Authorization: Bearer $TOKEN" \
    "$API/products?format=csv")
ck "HEAD of an export: 200 text/csv, no body" \
    '[[ $hst == 200 ]] && grep -qi "^content-type: text/csv" "$TMP/head.txt"'

section "exports: quoting and formula injection"
csv_get "/products?format=csv&limit=1000"
raw=$(cat "$TMP/out.csv")
ck "=1+2 is written \"'=1+2\"" '[[ "$raw" == *",\"'"'"'=1+2\","* ]]'
ck "+SUM(A1) is written with the quote prefix" '[[ "$raw" == *",\"'"'"'+SUM(A1)\","* ]]'
ck "-2+3 off is written with the quote prefix" '[[ "$raw" == *",\"'"'"'-2+3 off\","* ]]'
ck "@cmd is written with the quote prefix" '[[ "$raw" == *",\"'"'"'@cmd\","* ]]'
ck "a leading tab is written with the quote prefix" '[[ "$raw" == *",\"'"'"'"$'"'"'\t'"'"'"Tabbed\","* ]]'
ck "quotes are doubled, commas quoted" '[[ "$raw" == *",\"comma, \"\"quoted\"\"\","* ]]'
ck "=HYPERLINK(...) is neutralised" '[[ "$raw" == *"\"'"'"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""* ]]'
ck "UTF-8 passes through unchanged" '[[ "$raw" == *",Café ñandú 日本,"* ]]'
# Python's csv module reads every name back: the same as the JSON, less the ' of risky cells.
json_list "/products?limit=200"
same_rows "products: CSV rows = JSON items (ids, names, prices, stock, category, unit)" \
    '[.id, .sku, .name, .price, .cost, .stock, .min_stock, (.category.name // ""), .uom.name, .created_at, .updated_at]' \
    '[(.id|tonumber), .sku, (if (.name|test("^'"'"'[-=+@\t\r]")) then .name[1:] else .name end), .price, .cost, .stock, .min_stock, .category, .uom, .created_at, .updated_at]'

section "exports: filters, limit and offset"
json_list "/products?stock=out"
csv_get "/products?stock=out&format=csv"
same_rows "products stock=out" '.id' '.id|tonumber'
json_list "/products?q=sold"
csv_get "/products?q=sold&format=csv"
same_rows "products q=sold" '.id' '.id|tonumber'
csv_get "/products?format=csv&limit=2&offset=1"
json_list "/products?limit=2&offset=1"
same_rows "products limit=2 offset=1 (a limit given applies)" '.id' '.id|tonumber'
csv_get "/products?format=csv&limit=0"
ck "limit=0 on an export -> 422" '[[ $R_STATUS == 422 ]]'

section "exports: sales, payments, movements"
json_list "/sales?limit=200"
csv_get "/sales?format=csv"
same_rows "sales: CSV = JSON" \
    '[.id, .customer, .status, .total, .paid_total, .returned_total, .refunded_total, .outstanding, (.confirmed_at // ""), .created_at]' \
    '[(.id|tonumber), .customer, .status, .total, .paid_total, .returned_total, .refunded_total, .outstanding, .confirmed_at, .created_at]'
json_list "/sales?status=draft"
csv_get "/sales?status=draft&format=csv"
same_rows "sales status=draft" '.id' '.id|tonumber'
json_list "/payments?limit=200"
csv_get "/payments?format=csv"
same_rows "payments: CSV = JSON" '[.id, .sale_id, .kind, .amount, .method, .paid_at]' \
    '[(.id|tonumber), (.sale_id|tonumber), .kind, .amount, .method, .paid_at]'
json_list "/payments?method=card"
csv_get "/payments?format=csv&method=card"
ck "payments method=card: no rows in either" \
    '[[ "$(jq ".items | length" "$TMP/list.json")" == 0 && "$(wc -l <"$TMP/out.csv")" == 1 ]]'
json_list "/stock/movements?limit=200"
csv_get "/stock/movements?format=csv"
same_rows "movements: CSV = JSON" \
    '[.id, .product.id, .product.sku, .kind, .quantity, .stock_before, .stock_after, (.unit_cost // ""), (.user.email // "")]' \
    '[(.id|tonumber), (.product_id|tonumber), .sku, .kind, .quantity, .stock_before, .stock_after, .unit_cost, .user_email]'
raw=$(cat "$TMP/out.csv")
ck "a negative quantity stays a number (numeric columns are exempt)" '[[ "$raw" == *",adjustment,-1.500,"* ]]'
ck "a hostile note is neutralised" '[[ "$raw" == *"\"'"'"'=cmd|'"'"' /C calc'"'"'!A0\""* ]]'
json_list "/stock/movements?kind=opening&product_id=$P_SELL"
csv_get "/stock/movements?format=csv&kind=opening&product_id=$P_SELL"
same_rows "movements kind=opening product_id" '.id' '.id|tonumber'

section "exports: tenant isolation"
TOKEN=$TOKEN_B
csv_get "/products?format=csv"
ids=$(csv_json "$TMP/out.csv" | jq -c '[.[].id|tonumber]')
ck "tenant B's export holds its own product only" '[[ "$ids" == "[$B_PRODUCT]" ]]'
csv_get "/stock/movements?format=csv"
ck "tenant B's movements export has no row of A" '[[ "$(wc -l <"$TMP/out.csv")" == 1 ]]'
csv_get "/sales?format=csv"
ck "tenant B's sales export is the header alone" '[[ "$(cat "$TMP/out.csv")" == $'"'"'id,customer,status,total,paid_total,returned_total,refunded_total,outstanding,confirmed_at,cancelled_at,created_at,updated_at\r'"'"' ]]'
TOKEN=$TOKEN_A
R_BODY=""
call GET "$API/products?format=csv"
expect "an export without a session" 401 unauthorized

# ---------------------------------------------------------------------------------------------
section "import: roles, media type"
printf 'sku,name,category,uom,price,cost,stock,min_stock\r\nIMP-1,Imported,Tools,Unit,3.00,1.00,7,2\r\n' >"$TMP/good1.csv"
import "$TMP/good1.csv" "$STAFF"
expect "import as staff" 403 forbidden
import "$TMP/good1.csv" "$TOKEN" application/json
expect "import as application/json" 415
import "$TMP/good1.csv" "$TOKEN" 'text/csv; charset=latin1'
expect "import in latin1" 415

section "import: a good file"
warm "/products?limit=200"
nprod=$(sql "SELECT count(*) FROM products WHERE tenant_id = $TENANT_A")
{
    printf '\xEF\xBB\xBFsku,name,category,uom,price,cost,stock,min_stock\r\n'
    printf 'IMP-1,Imported one,Tools,Unit,3.00,1.00,7,2\r\n'
    printf 'IMP-2,"Imported, two\nlines",,kilogram,4.5,,,\r\n'
    printf 'sell-1,Sold thing renamed,TOOLS,Unit,12.00,6.00,90,5\r\n'
    printf 'OUT-1,Out of stock,,Unit,2.00,0,,\r\n'
    printf 'B-ONLY,Not tenant B'"'"'s,,Unit,1.00,,,\r\n'
} >"$TMP/good.csv"
import "$TMP/good.csv"
expect "import of 3 new and 2 existing SKUs" 201
ck "it answers created 3, updated 2" 'jt ".created == 3 and .updated == 2"'
ck "the tenant has 3 products more" \
    '[[ "$(sql "SELECT count(*) FROM products WHERE tenant_id = $TENANT_A")" == $((nprod + 3)) ]]'
ck "tenant B's SKU B-ONLY is a new product of A; B's own is unchanged" \
    '[[ "$(sql "SELECT count(*) FROM products WHERE tenant_id = $TENANT_A AND sku = '"'"'B-ONLY'"'"'")" == 1 && "$(sql "SELECT name FROM products WHERE id = $B_PRODUCT")" == "Tenant B product" ]]'
ck "IMP-1 has its fields, category and unit resolved by name" \
    '[[ "$(sql "SELECT p.name || p.price || p.cost || p.stock || p.min_stock || c.name || u.name FROM products p JOIN categories c ON c.id = p.category_id JOIN units u ON u.id = p.uom_id WHERE p.tenant_id = $TENANT_A AND p.sku = '"'"'IMP-1'"'"'")" == "Imported one3.001.007.0002.000ToolsUnit" ]]'
ck "IMP-2 kept its quoted multi-line name, no category, kg, zero stock" \
    '[[ "$(sql "SELECT p.name || p.price || p.stock || coalesce(p.category_id::text, '"'"'none'"'"') || u.abbreviation FROM products p JOIN units u ON u.id = p.uom_id WHERE p.tenant_id = $TENANT_A AND p.sku = '"'"'IMP-2'"'"'")" == $'"'"'Imported, two\nlines4.500.000nonekg'"'"' ]]'
ck "IMP-1's opening stock is an opening movement by the admin" \
    '[[ "$(sql "SELECT m.kind || m.quantity || m.stock_after || (m.user_id IS NOT NULL) FROM stock_movements m JOIN products p ON p.id = m.product_id WHERE p.sku = '"'"'IMP-1'"'"' AND p.tenant_id = $TENANT_A")" == "opening7.0007.000true" ]]'
ck "SELL-1 (matched whatever the case) was updated; its stock change is a count movement" \
    '[[ "$(sql "SELECT p.name || p.price || p.stock FROM products p WHERE p.id = $P_SELL")" == "Sold thing renamed12.0090.000" && "$(sql "SELECT kind || quantity || stock_before || stock_after FROM stock_movements WHERE product_id = $P_SELL ORDER BY id DESC LIMIT 1")" == "count-4.50094.50090.000" ]]'
ck "OUT-1 with an empty stock keeps its stock and gets no movement" \
    '[[ "$(sql "SELECT count(*) FROM stock_movements WHERE product_id = $P_OUT")" == 0 ]]'
ck "the ledger adds up for every product of the tenant" \
    '[[ "$(sql "SELECT count(*) FROM products p WHERE p.tenant_id = $TENANT_A AND p.stock <> (SELECT coalesce(sum(quantity), 0) FROM stock_movements m WHERE m.product_id = p.id)")" == 0 ]]'
api GET "/products?limit=200"
ck "the products cache was invalidated: the list shows the new price at once" \
    '[[ $R_STATUS == 200 ]] && jt "[.items[] | select(.sku == \"SELL-1\") | .price] == [\"12.00\"]" && jt "[.items[] | select(.sku == \"IMP-2\")] | length == 1"'
import "$TMP/good.csv"
ck "the same file again updates all 5, creates none" '[[ $R_STATUS == 201 ]] && jt ".created == 0 and .updated == 5"'

section "import: all or nothing, with every error's line and field"
snapshot=$(sql "SELECT md5(string_agg(p::text, '' ORDER BY id)) FROM products p WHERE tenant_id = $TENANT_A")
{
    printf 'sku,name,category,uom,price,cost,stock,min_stock\n'
    printf 'OK-1,"A name\non three\nlines",Tools,Unit,1.00,,,\n'
    printf 'BAD-1,Bad price,,Unit,abc,,,\n'
    printf 'OK-2,Fine,,Unit,1.00,,,\n'
    printf 'BAD-2,,Nowhere,Litre,1.005,-1,1.0001,\n'
    printf 'ok-1,Duplicate of line 2,,Unit,1.00,,,\n'
    printf 'BAD-3,too few fields\n'
} >"$TMP/bad.csv"
import "$TMP/bad.csv"
expect "a file with bad lines" 422 validation_error
errs=$(jf '[.error.errors[] | "\(.line):\(.field // "-")"] | join(" ")')
ck "every bad cell is listed by line and field (lines after a 3-line field count from 5)" \
    '[[ "$errs" == "5:price 7:name 7:category 7:uom 7:price 7:cost 7:stock 8:sku 9:-" ]]'
ck "error_count matches, messages are text" 'jt ".error.error_count == 9 and ([.error.errors[].message | type == \"string\" and length > 0] | all)"'
ck "nothing was imported or changed" \
    '[[ "$(sql "SELECT md5(string_agg(p::text, '"'"''"'"' ORDER BY id)) FROM products p WHERE tenant_id = $TENANT_A")" == "$snapshot" && "$(sql "SELECT count(*) FROM products WHERE tenant_id = $TENANT_A AND sku = '"'"'OK-2'"'"'")" == 0 ]]'
printf 'sku,name,uom,category,price,cost,stock,min_stock\nX,Y,Unit,,1,,,\n' >"$TMP/hdr.csv"
import "$TMP/hdr.csv"
ck "a wrong header -> 422 naming line 1" '[[ $R_STATUS == 422 ]] && jt ".error.errors[0].line == 1"'
printf 'sku,name,category,uom,price,cost,stock,min_stock\nX,"open quote,,Unit,1,,,\n' >"$TMP/quote.csv"
import "$TMP/quote.csv"
ck "an unterminated quote -> 422 naming its line" '[[ $R_STATUS == 422 ]] && jt ".error.errors[0].line == 2"'
printf 'sku,name,category,uom,price,cost,stock,min_stock\n' >"$TMP/empty.csv"
import "$TMP/empty.csv"
expect "a header alone" 422 empty
python3 -c 'import sys
print("sku,name,category,uom,price,cost,stock,min_stock")
for i in range(int(sys.argv[1])): print("MANY-%d,Many %d,,Unit,1.00,,," % (i, i))' 10001 >"$TMP/many.csv"
import "$TMP/many.csv"
expect "10,001 rows" 422 too_many_rows
ck "none of them imported" '[[ "$(sql "SELECT count(*) FROM products WHERE tenant_id = $TENANT_A AND sku LIKE '"'"'MANY-%'"'"'")" == 0 ]]'
head -n 10001 "$TMP/many.csv" >"$TMP/max.csv"
import "$TMP/max.csv"
ck "10,000 rows import (created 10000)" '[[ $R_STATUS == 201 ]] && jt ".created == 10000"'
head -c $((4 * 1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$TMP/huge.csv"
import "$TMP/huge.csv"
expect "a body over 4 MiB" 413
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$TMP/big.csv"
import "$TMP/big.csv"
ck "a 2 MiB body passes nginx (1 MiB elsewhere) and is read: 422, not 413" '[[ $R_STATUS == 422 ]]'

# ---------------------------------------------------------------------------------------------
section "streaming: $ROWS movements, a failure midway, the memory bound"
P_BULK=$(sql "INSERT INTO products (tenant_id, sku, name, uom_id, price) VALUES ($TENANT_A, 'BULK', 'Bulk', $U, 1) RETURNING id" | head -n 1)
sql "INSERT INTO stock_movements (tenant_id, product_id, quantity, kind, stock_before, stock_after, note)
     SELECT $TENANT_A, $P_BULK, 1, 'receipt', g, g + 1, 'bulk ' || g FROM generate_series(0, $ROWS - 1) g;
     UPDATE products SET stock = $ROWS WHERE id = $P_BULK" >/dev/null
ck "$ROWS movements made with SQL" \
    '[[ "$(sql "SELECT count(*) FROM stock_movements WHERE product_id = $P_BULK")" == "$ROWS" ]]'

# A failure midway through nginx: the test build's fault hook fails the export's FETCHes after
# its first chunk (as a lost database would): the client's transfer is cut short, not ended.
cst=$(curl -s -o "$TMP/cut-nginx.csv" -w '%{http_code}' --max-time 60 -H "X-Stock-Fault: export-cut" \
    -H "Authorization: Bearer $TOKEN" "$API/stock/movements?format=csv&product_id=$P_BULK")
crc=$?
ck "through nginx the cut export is a 200 whose transfer fails (curl exit $crc: 18 is a partial file), $(wc -l <"$TMP/cut-nginx.csv") lines" \
    '[[ $cst == 200 ]] && ((crc == 18)) && (($(wc -l <"$TMP/cut-nginx.csv") < ROWS))'
ok=0
for i in 1 2 3 4 5 6; do
    api GET "/products?limit=5"
    [[ $R_STATUS == 200 ]] && ok=$((ok + 1))
    csv_get "/stock/movements?format=csv&limit=10"
    [[ $R_STATUS == 200 && "$(wc -l <"$TMP/out.csv")" == 11 ]] && ok=$((ok + 1))
done
ck "the next 12 requests through nginx (JSON and CSV) all work" '((ok == 12))'

# A release pool of one worker, straight over FastCGI: the cut below and the memory bound are
# that worker's.
csv_port=""
pick_port csv_port || setup_failed
pool_start "$ROOT/build/release/stock-fcgi" "127.0.0.1:$csv_port" "$DIR/pool.log" \
    "$DIR/run/csv-fcgi.pid" STOCK_WORKERS=1 LOG_LEVEL=warning || setup_failed
POOL=$(pid_from_file "$DIR/run/csv-fcgi.pid")
# fcgi_export QUERY: GET /stock/movements?QUERY straight to that pool; the raw CGI answer on
# standard output.
fcgi_export()
{
    env -i PATH="$PATH" REQUEST_METHOD=GET SCRIPT_NAME=/api/v1/stock/movements \
        REQUEST_URI="/api/v1/stock/movements?$1" DOCUMENT_URI=/api/v1/stock/movements \
        QUERY_STRING="$1" SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1 CONTENT_LENGTH=0 \
        HTTP_AUTHORIZATION="Bearer $TOKEN" timeout 120 cgi-fcgi -bind -connect "127.0.0.1:$csv_port"
}
body_of() { awk 'body { print } /^\r?$/ { body = 1 }'; }
hwm() # the largest VmHWM (kB) among the pool's processes
{
    local k m=0 v
    for k in $(pool_workers "$POOL"); do
        v=$(awk '/^VmHWM/ { print $2 }' "/proc/$k/status" 2>/dev/null)
        [[ -n "$v" ]] && ((v > m)) && m=$v
    done
    echo "$m"
}
# The memory bound first, on a fresh worker: its peak after a small export, then after all.
fcgi_export "format=csv&limit=100&product_id=$P_BULK" | body_of >"$TMP/warm.csv"
# A forked worker starts with its master's peak (the kernel copies the high-water mark on
# fork): reset it to the current RSS (clear_refs 5, Linux 4.0+) so that VmHWM is the worker's.
for k in $(pool_workers "$POOL"); do
    echo 5 >"/proc/$k/clear_refs" 2>/dev/null || t_skip "reset the VmHWM of worker $k" "clear_refs refused"
done
before=$(hwm)
t0=$(date +%s%N)
fcgi_export "format=csv&product_id=$P_BULK" | body_of >"$TMP/all.csv"
t1=$(date +%s%N)
after=$(hwm)
lines=$(wc -l <"$TMP/all.csv")
bytes=$(wc -c <"$TMP/all.csv")
echo "# export of $ROWS movements: $bytes bytes in $(((t1 - t0) / 1000000)) ms; worker VmHWM ${before} kB -> ${after} kB"
ck "the export holds every row ($lines lines = $ROWS + header)" '((lines == ROWS + 1))'
ck "the worker's VmHWM grew by less than $HWM_KB kB ($before -> $after kB)" \
    '((before > 0 && after - before < HWM_KB))'
workers_before=$(live_workers "$POOL")

# A failure midway: the reader stalls (the worker blocks writing, its cursor open), the
# export's database session is terminated, then the reader drains what came.
fcgi_export "format=csv&product_id=$P_BULK" | { sleep 3; cat; } >"$TMP/cut.out" &
cpid=$!
fetching() { [[ -n "$(sql "SELECT pid FROM pg_stat_activity WHERE query LIKE 'FETCH % FROM stock_export' LIMIT 1")" ]]; }
wait_for 20 fetching
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'FETCH % FROM stock_export'" >/dev/null
wait "$cpid"
cut_lines=$(body_of <"$TMP/cut.out" | wc -l)
ck "the cut export is short ($cut_lines of $((ROWS + 1)) lines), its head a 200 text/csv" \
    '((cut_lines > 1 && cut_lines < ROWS + 1)) && grep -q "^Content-Type: text/csv" "$TMP/cut.out"'
ck "the worker says it cut the answer short" 'grep -q "streamed response was cut short" "$DIR/pool.log"'
ok=0
for i in 1 2 3 4 5; do
    fcgi_export "format=csv&limit=10" | body_of >"$TMP/after.csv"
    [[ "$(wc -l <"$TMP/after.csv")" == 11 ]] && ok=$((ok + 1))
    fcgi_export "limit=3" | grep -q '"items"' && ok=$((ok + 1))
done
ck "the same worker serves the next 10 requests (CSV and JSON)" '((ok == 10))'
ck "no worker died (the same workers: $workers_before)" '[[ "$(live_workers "$POOL")" == "$workers_before" ]]'
ck "no request of the suite got a 5xx${FIVEXX:+ ($FIVEXX)}" '[[ -z "$FIVEXX" ]]'

t_result "$SUITE"
