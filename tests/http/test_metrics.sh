#!/usr/bin/env bash
# test_metrics.sh: GET /metrics through nginx moves as the requests say (SPEC §5 health and
# metrics): cache misses, hits and invalidations of the products module, requests and the
# latency histogram per route and status, no query on a cache HIT, Redis and PostgreSQL up, and
# no secret printed. The counters are pool-wide (both workers), so the deltas below are exact
# only while no other suite runs: tests/run_all.sh runs the suites one after another.
# Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, DATABASE_URL, REDIS_URL. Needs jq.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
: "${DATABASE_URL:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
SUF=$$-$RANDOM
SLUG=metrics-$SUF
EMAIL=admin@metrics.test
PW=metrics-pass-$SUF
secret_note "$PW"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 143' TERM INT

if ! command -v jq >/dev/null 2>&1; then
    t_not_ok "jq is installed (deploy/deps.sh installs it)"
    t_result http-metrics
    exit 1
fi

# ---------------------------------------------------------------------------------------------
# Helpers

# snap FILE: saves GET /metrics into FILE; a failed scrape leaves it empty.
snap()
{
    curl -s --max-time 10 -o "$1" "$BASE/metrics" || : >"$1"
}

# mv_of FILE SERIES: the value of SERIES (name with its labels, as printed) in FILE; 0 when the
# series is absent (per-route rows are printed only once non-zero).
mv_of()
{
    awk -v n="$2" '$1 == n { v = $2 } END { print (v == "" ? 0 : v) }' "$1"
}

# delta SERIES FROM TO: the change of SERIES between two snapshots.
delta()
{
    echo $(($(mv_of "$3" "$1") - $(mv_of "$2" "$1")))
}

# ck_delta NAME SERIES FROM TO WANT: SERIES moved by exactly WANT between FROM and TO.
ck_delta()
{
    local d
    d=$(delta "$2" "$3" "$4")
    if [[ "$d" == "$5" ]]; then
        t_ok "$1 ($2 +$d)"
    else
        t_not_ok "$1" "$2 moved by $d, expected $5"
    fi
}

# get PATH: GET $API/PATH with the bearer token.
get()
{
    req GET "$API$1" -H "Authorization: Bearer $TOKEN"
}

# post PATH JSON: POST $API/PATH with the bearer token and a JSON body.
post()
{
    req POST "$API$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data-binary "$2"
}

cache_ok()
{
    req GET "$BASE/health/cache"
    [[ "$R_STATUS" == 200 ]] && json_has status ok
}

cache_ok_six_times()
{
    local i
    for i in 1 2 3 4 5 6; do
        cache_ok || return 1
    done
}

# histogram_sane FILE ROUTE: the buckets of ROUTE's latency histogram are cumulative (each le
# at least the one before), +Inf equals _count, and there are 12 of them (1 ms .. 2.5 s, +Inf).
histogram_sane()
{
    awk -v r="$2" '
        BEGIN { pre = "stock_http_request_duration_seconds_bucket{route=\"" r "\",le=\"" }
        index($1, pre) == 1 {
            n++
            if ($2 + 0 < prev) bad = 1
            prev = $2 + 0
            if ($1 == pre "+Inf\"}") inf = $2 + 0
        }
        $1 == "stock_http_request_duration_seconds_count{route=\"" r "\"}" { cnt = $2 + 0; seen = 1 }
        END { exit !(n == 12 && !bad && seen && inf == cnt && cnt > 0) }' "$1"
}

# every_family_typed FILE: each sample's family has a # HELP and a # TYPE line, and every name
# starts with stock_.
every_family_typed()
{
    awk '
        /^# HELP / { help[$3] = 1; next }
        /^# TYPE / { type[$3] = $4; next }
        /^#/ || NF == 0 { next }
        {
            name = $1
            sub(/\{.*/, "", name)
            fam = name
            if (!(fam in type)) sub(/_(bucket|sum|count)$/, "", fam)
            if (!(fam in type) || !(fam in help) || fam !~ /^stock_[a-z0-9_]+$/) {
                print "untyped: " name > "/dev/stderr"
                bad = 1
            }
        }
        END { exit bad }' "$1"
}

# ---------------------------------------------------------------------------------------------
# A tenant of our own, signed in.

NT_ID=$("$STOCKCTL" tenant create "$SLUG" "Metrics $SUF" 2>"$TMP/stockctl.err")
if [[ ! "$NT_ID" =~ ^[0-9]+$ ]] ||
    ! printf '%s\n' "$PW" | "$STOCKCTL" user create --tenant "$SLUG" --email "$EMAIL" \
        --role admin >/dev/null 2>>"$TMP/stockctl.err"; then
    t_not_ok "stockctl creates tenant $SLUG and its admin" "$(tr '\n' ' ' <"$TMP/stockctl.err")"
    t_result http-metrics
    exit 1
fi
t_ok "stockctl creates tenant $SLUG and its admin"
req POST "$API/auth/login" -H 'Content-Type: application/json' --data-binary \
    "$(jq -cn --arg t "$SLUG" --arg e "$EMAIL" --arg p "$PW" '{tenant: $t, email: $e, password: $p}')"
TOKEN=$(jq -r '.token // empty' <<<"$R_BODY" 2>/dev/null)
if [[ "$R_STATUS" != 200 || -z "$TOKEN" ]]; then
    t_not_ok "sign in as $EMAIL" "got $R_STATUS"
    t_result http-metrics
    exit 1
fi
t_ok "sign in as $EMAIL"

# A suite before this one stops Redis: every worker must be past its back-off, or a list would
# be a BYPASS-like miss that stores nothing.
t_check "the cache is ok on every worker (within 40 s)" wait_for 40 cache_ok_six_times

# A unit for the product below (this write invalidates uom and products: done before the
# snapshots).
post /uom "$(jq -cn --arg n "Piece $SUF" '{name: $n, abbreviation: "pc"}')"
UOM_ID=$(jq -r '.id // empty' <<<"$R_BODY" 2>/dev/null)
t_check "POST /uom -> 201" test "$R_STATUS" = 201

# ---------------------------------------------------------------------------------------------
# Reads: MISS then HIT.

# Route names are those of the route table (fcgi/routes/routes.c: CRUD(..., product) names its
# routes product_list, product_create, product_get...).
LIST='stock_http_requests_total{route="product_list",status="200"}'
COUNT='stock_http_request_duration_seconds_count{route="product_list"}'
MISSES='stock_cache_misses_total{module="products"}'
HITS='stock_cache_hits_total{module="products"}'
QUERIES=stock_db_queries_total

snap "$TMP/m0"
t_check "GET /metrics answers (Prometheus text)" grep -q '^# TYPE stock_requests_total counter' "$TMP/m0"
get /products
t_check "first GET /products -> 200 MISS" eval '[[ "$R_STATUS" == 200 && "$(header X-Cache)" == MISS ]]'
snap "$TMP/m1"
ck_delta "a MISS counts one products miss" "$MISSES" "$TMP/m0" "$TMP/m1" 1
ck_delta "a MISS counts no products hit" "$HITS" "$TMP/m0" "$TMP/m1" 0
t_check "a MISS runs database queries" eval '(($(delta "$QUERIES" "$TMP/m0" "$TMP/m1") > 0))'

get /products
t_check "second GET /products -> 200 HIT" eval '[[ "$R_STATUS" == 200 && "$(header X-Cache)" == HIT ]]'
snap "$TMP/m2"
ck_delta "a HIT counts one products hit" "$HITS" "$TMP/m1" "$TMP/m2" 1
ck_delta "a HIT counts no products miss" "$MISSES" "$TMP/m1" "$TMP/m2" 0
# A cached read may carry the host's outbox poll (every 250 ms; at most three statements, and
# counted): a HIT runs no query of its own.
HQ=$(delta "$QUERIES" "$TMP/m1" "$TMP/m2")
HP=$(($(delta stock_cache_outbox_polls_total "$TMP/m1" "$TMP/m2") +
    $(delta stock_cache_outbox_poll_failures_total "$TMP/m1" "$TMP/m2")))
t_check "a HIT runs no database query but an outbox poll's, nor does /metrics ($QUERIES +$HQ, polls +$HP)" \
    eval '((HQ <= 3 * HP && HP <= 1))'

get /products
get '/products?limit=7'
snap "$TMP/m3"
ck_delta "every products list counts in requests_total{route=product_list,status=200}" \
    "$LIST" "$TMP/m0" "$TMP/m3" 4
ck_delta "every products list counts in its latency histogram" "$COUNT" "$TMP/m0" "$TMP/m3" 4
t_check "the product_list histogram is cumulative, 12 buckets, +Inf == _count" \
    histogram_sane "$TMP/m3" product_list
t_check "the metrics route has its own histogram" histogram_sane "$TMP/m3" metrics
t_check "the latency sum of product_list is positive seconds" eval \
    'awk "\$2 > 0 { ok = 1 } END { exit !ok }" <<<"$(grep -F "_sum{route=\"product_list\"}" "$TMP/m3")"'
# m2 -> m3: two lists, and the scrape of m2 itself (a request is counted after its answer).
ck_delta "stock_requests_total counts every request (2 lists + 1 scrape)" stock_requests_total \
    "$TMP/m2" "$TMP/m3" 3

# ---------------------------------------------------------------------------------------------
# A write invalidates products and categories.

post /products "$(jq -cn --arg s "MET-$SUF" --argjson u "${UOM_ID:-0}" \
    '{sku: $s, name: "Metered", uom_id: $u, price: "2.50"}')"
t_check "POST /products -> 201" test "$R_STATUS" = 201
snap "$TMP/m4"
ck_delta "a product write invalidates the products module once" \
    'stock_cache_invalidations_total{module="products"}' "$TMP/m3" "$TMP/m4" 1
ck_delta "a product write invalidates the categories module once" \
    'stock_cache_invalidations_total{module="categories"}' "$TMP/m3" "$TMP/m4" 1
ck_delta "a product write does not touch the uom module" \
    'stock_cache_invalidations_total{module="uom"}' "$TMP/m3" "$TMP/m4" 0
ck_delta "POST /products counts as product_create 201" \
    'stock_http_requests_total{route="product_create",status="201"}' "$TMP/m3" "$TMP/m4" 1
get /products
t_check "the list after the write is a MISS showing the product" eval \
    '[[ "$(header X-Cache)" == MISS ]] && jq -e --arg s "MET-$SUF" "any(.items[]; .sku == \$s)" <<<"$R_BODY" >/dev/null'

# ---------------------------------------------------------------------------------------------
# Errors are counted with their status.

snap "$TMP/m5"
req GET "$API/no-such-thing-$SUF"
t_check "an unknown path -> 404" test "$R_STATUS" = 404
get /products/999999999
t_check "an unknown product -> 404" test "$R_STATUS" = 404
req GET "$API/products"
t_check "a list without a session -> 401" test "$R_STATUS" = 401
req DELETE "$API/products" -H "Authorization: Bearer $TOKEN"
t_check "DELETE on a collection -> 405" test "$R_STATUS" = 405
snap "$TMP/m6"
ck_delta "an unmatched path counts under route none, status 404" \
    'stock_http_requests_total{route="none",status="404"}' "$TMP/m5" "$TMP/m6" 1
ck_delta "a missing product counts under product_get, status 404" \
    'stock_http_requests_total{route="product_get",status="404"}' "$TMP/m5" "$TMP/m6" 1
ck_delta "a list without a session counts under product_list, status 401" \
    'stock_http_requests_total{route="product_list",status="401"}' "$TMP/m5" "$TMP/m6" 1
ck_delta "a wrong method counts under route none, status 405" \
    'stock_http_requests_total{route="none",status="405"}' "$TMP/m5" "$TMP/m6" 1
ck_delta "stock_responses_total counts the four 4xx" 'stock_responses_total{class="4xx"}' \
    "$TMP/m5" "$TMP/m6" 4
ck_delta "the 404/401 do not count as product_list 200" "$LIST" "$TMP/m5" "$TMP/m6" 0

# ---------------------------------------------------------------------------------------------
# Gauges, format, secrets.

t_check "stock_redis_up 1" grep -qx 'stock_redis_up 1' "$TMP/m6"
t_check "stock_db_up 1" grep -qx 'stock_db_up 1' "$TMP/m6"
# A cached read polls the invalidation outbox when the host's trust is due: right after one,
# the host trusts its cache (for up to 1 s) and counts its complete polls.
req GET "$API/products" -H "Authorization: Bearer $TOKEN"
snap "$TMP/m7"
t_check "stock_cache_trusted 1 right after a cached read" grep -qx 'stock_cache_trusted 1' "$TMP/m7"
t_check "stock_cache_outbox_polls_total counts polls" \
    grep -qE '^stock_cache_outbox_polls_total [1-9][0-9]*$' "$TMP/m7"
for fam in stock_cache_hits_total stock_cache_misses_total stock_cache_errors_total \
    stock_cache_invalidations_total stock_db_queries_total stock_worker_restarts_total \
    stock_http_requests_total stock_http_request_duration_seconds stock_redis_up stock_db_up \
    stock_cache_trusted stock_cache_outbox_polls_total stock_cache_outbox_poll_failures_total \
    stock_cache_ack_waits_total; do
    t_check "$fam has HELP and TYPE" eval \
        'grep -q "^# HELP $fam " "$TMP/m6" && grep -q "^# TYPE $fam " "$TMP/m6"'
done
t_check "stock_http_request_duration_seconds is a histogram" \
    grep -qx '# TYPE stock_http_request_duration_seconds histogram' "$TMP/m6"
t_check "every sample belongs to a stock_ family with HELP and TYPE" every_family_typed "$TMP/m6"
t_check "per-route rows are printed only when non-zero" eval \
    '! grep -E "^stock_http_(requests_total|request_duration_seconds_count)\{.*\} 0$" "$TMP/m6"'
t_check "every sample value is a number" eval \
    '! grep -vE "^#|^[a-z_][a-z0-9_]*(\{[^}]*\})? [0-9]+(\.[0-9]+)?$" "$TMP/m6"'
req GET "$BASE/metrics"
t_check "GET /metrics is text/plain" eval '[[ "$R_STATUS" == 200 && "$(header Content-Type)" == text/plain* ]]'
# (route names such as me_password are labels, not secrets: the check reads around them)
t_check "/metrics does not say password (but in route names)" \
    eval '! sed -E "s/route=\"[a-z_]+\"//g" <<<"$R_BODY" | grep -qi password'
t_check "... and its route names that do are those of the route table" \
    eval '[[ -z "$(grep -oE "route=\"[a-z_]*password[a-z_]*\"" <<<"$R_BODY" | sort -u |
                  grep -vxE "route=\"(me_password|users_password)\"")" ]]'
t_check "/metrics does not hold DATABASE_URL" eval '! grep -qF -- "$DATABASE_URL" <<<"$R_BODY"'
t_check "/metrics holds no connection URL" eval '! grep -qE "(redis|postgres(ql)?)://" <<<"$R_BODY"'
if [[ -n "${REDIS_URL:-}" ]]; then
    t_check "/metrics does not hold REDIS_URL" eval '! grep -qF -- "$REDIS_URL" <<<"$R_BODY"'
fi

t_result http-metrics
