#!/usr/bin/env bash
# test_openapi.sh: the OpenAPI document (nginx/static/openapi.json, made by
# tests/openapi/document.mjs) stays true (SPEC §12):
# - the file is what tests/openapi/document.mjs writes, and a valid OpenAPI 3.1 document
#   (@seriousme/openapi-schema-validator, pinned in tests/openapi/package-lock.json);
# - every route of `stock-fcgi --routes` is an operation of the document with the same method,
#   path template, role and {id}, and the document has no operation the table lacks (the routes
#   other branches are adding, PENDING in tests/openapi/check.mjs, are reported as skipped until
#   they are in the table);
# - nginx serves it: GET /api/v1/openapi.json without a session is 200, application/json, with
#   caching headers, byte for byte the file;
# - the answers the end-to-end suites really get validate: tests/lib/api.sh's call() appends
#   every answer to $STOCK_API_RECORD, which tests/run_all.sh sets for the whole run, running
#   this suite after the other HTTP suites; of test_api, test_sales_api, test_users,
#   test_movements, test_returns, test_tenant, test_reports and test_csv, those that did not run before it
#   (a run of some suites only, or this one alone) run here, with the recorder on. Every answer must have a status
#   its operation lists, a media type and headers it documents, and a body that validates
#   against its schema (ajv, JSON Schema 2020-12), and a JSON request the handler accepted
#   (2xx) must validate against its requestBody schema; an operation of the route table with no
#   validated answer fails.
# Prints "RESULT openapi passed=N failed=M skipped=K".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/api.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
API=$BASE/api/v1
HERE=$ROOT/tests/openapi
DOC=$ROOT/nginx/static/openapi.json
DIR=$(mktemp -d "${STOCK_TEST_DIR:-/tmp}/openapi.XXXXXX")
trap 'rm -rf "$DIR"' EXIT

# The checks of check.mjs: its "ok"/"not ok"/"# SKIP" lines counted like ours.
count_lines()
{
    local line
    while IFS= read -r line; do
        case $line in
        "not ok - "*)
            T_FAILED=$((T_FAILED + 1))
            echo "$line"
            ;;
        "ok - "*" # SKIP "*)
            T_SKIPPED=$((T_SKIPPED + 1))
            echo "$line"
            ;;
        "ok - "*)
            T_PASSED=$((T_PASSED + 1))
            echo "$line"
            ;;
        *) echo "$line" ;;
        esac
    done
}

# The validators, installed from the lock file like tests/browser/run.sh does.
if ! command -v node >/dev/null; then
    t_not_ok "node is installed"
elif [[ ! -d "$HERE/node_modules/ajv" || ! -d "$HERE/node_modules/@seriousme/openapi-schema-validator" ]] &&
    ! (cd "$HERE" && npm ci --no-audit --no-fund --silent) >"$DIR/npm.out" 2>&1; then
    t_not_ok "npm ci in tests/openapi" "$(tail -n 3 "$DIR/npm.out" | tr '\n' ' ')"
fi
if [[ ! -d "$HERE/node_modules/ajv" ]]; then
    t_result openapi
    exit 1
fi

# 1. The file is the generator's output, and valid OpenAPI 3.1.
if node "$HERE/document.mjs" >"$DIR/generated.json" 2>"$DIR/gen.err" && cmp -s "$DIR/generated.json" "$DOC"; then
    t_ok "nginx/static/openapi.json is what tests/openapi/document.mjs writes"
else
    t_not_ok "nginx/static/openapi.json is what tests/openapi/document.mjs writes" \
        "run: node tests/openapi/document.mjs > nginx/static/openapi.json; $(head -c 300 "$DIR/gen.err")"
fi
count_lines < <(cd "$HERE" && node check.mjs document "$DOC" 2>&1)

# 2. The route table.
if "$ROOT/build/release/stock-fcgi" --routes >"$DIR/routes.txt" 2>"$DIR/routes.err"; then
    count_lines < <(cd "$HERE" && node check.mjs routes "$DOC" "$DIR/routes.txt" 2>&1)
else
    t_not_ok "stock-fcgi --routes prints the route table" "$(head -c 300 "$DIR/routes.err")"
fi

# 3. Served by nginx, public, as the file.
served=$(curl -s -o "$DIR/served.json" -D "$DIR/served.h" -w '%{http_code}' --max-time 15 "$API/openapi.json")
R_HEADERS=$(tr -d '\r' <"$DIR/served.h")
served_ct=$(header Content-Type)
t_check "GET /api/v1/openapi.json without a session is 200 (got $served)" test "$served" = 200
t_check "... Content-Type application/json (got '$served_ct')" \
    eval '[[ "$served_ct" == application/json* ]]'
t_check "... Cache-Control max-age and an ETag (got '$(header Cache-Control)', '$(header ETag)')" \
    eval '[[ "$(header Cache-Control)" == *max-age=* && -n "$(header ETag)" ]]'
t_check "... byte for byte nginx/static/openapi.json" cmp -s "$DIR/served.json" "$DOC"
etag=$(header ETag)
req GET "$API/openapi.json" -H "If-None-Match: $etag"
ck "... a GET with its ETag in If-None-Match is 304" '[[ "$R_STATUS" == 304 ]]'

# 4. Answers: those of the suites run before this one (tests/run_all.sh), those of the API suites
# that did not run before, run here, and a few of routes no API suite calls.
if [[ -z "${STOCK_API_RECORD:-}" ]]; then
    export STOCK_API_RECORD=$DIR/answers.rec
    : >"$STOCK_API_RECORD"
fi
# answers: how many answers the record holds (each starts with a line "@@ SUITE ...").
answers()
{
    grep -ac '^@@ ' "$STOCK_API_RECORD"
}
echo "# $(answers) answers recorded by the suites run before this one"
call GET "$API/openapi.json"
call GET "$BASE/health"
call GET "$BASE/health/cache"
call GET "$BASE/health/db"
call GET "$BASE/metrics"
for s in test_api test_sales_api test_users test_movements test_returns test_tenant test_reports test_csv; do
    if grep -aq "^@@ $s.sh " "$STOCK_API_RECORD"; then
        echo "# $s ran before: its answers are in the record"
        continue
    fi
    start=$SECONDS
    before=$(answers)
    bash "$ROOT/tests/http/$s.sh" </dev/null >"$DIR/$s.txt" 2>&1
    line=$(grep -aE '^RESULT [^ ]+ passed=[0-9]+ failed=[0-9]+' "$DIR/$s.txt" | tail -n 1)
    got=$(($(answers) - before))
    if [[ -n "$line" && "$got" -gt 0 ]]; then
        t_ok "$s ran here with the recorder: $got answers in $((SECONDS - start)) s (${line#RESULT })"
    else
        t_not_ok "$s ran here with the recorder" \
            "$got answers, last lines: $(tail -n 3 "$DIR/$s.txt" | tr '\n' ' ')"
    fi
done
count_lines < <(cd "$HERE" && node check.mjs answers "$DOC" "$DIR/routes.txt" "$STOCK_API_RECORD" 2>&1)
# The check can fail: the same answers against a document whose products lack min_stock.
jq '.components.schemas.Product.properties |= del(.min_stock) |
    .components.schemas.Product.required -= ["min_stock"]' "$DOC" >"$DIR/mutant.json"
if out=$(cd "$HERE" && node check.mjs answers "$DIR/mutant.json" "$DIR/routes.txt" "$STOCK_API_RECORD" 2>&1); then
    t_not_ok "a document without Product.min_stock fails the answers check" "it passed"
else
    t_check "a document without Product.min_stock fails the answers check, naming the field" \
        grep -q "not ok - GET /api/v1/products/{id}: .*additional properties 'min_stock'" <<<"$out"
fi

t_result openapi
