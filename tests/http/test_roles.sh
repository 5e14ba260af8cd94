#!/usr/bin/env bash
# test_roles.sh: the roles of SPEC §10 on every route of the table, through nginx. One table
# (ROLE_TABLE) gives each route its rule: public, session (any signed-in user) or admin, with a
# real request (path, valid body) and the statuses an allowed caller gets. Each row runs with no
# session (401 unless public), a staff session (403 forbidden naming the admin role on an admin
# row, anything but 401/403/5xx otherwise) and an admin session (never 401/403/5xx, and one of
# the row's statuses). A route of the app's table (stock-fcgi --routes) without a row fails the
# suite, so whoever adds a route adds its rule here; the table's rules must agree with the
# route flags (a route flagged admin has only admin rows; a row may say admin for a route whose
# handler checks the role itself, as POST /stock/movements does for kinds other than receipt
# and POST /sales/{id}/cancel for a confirmed sale: staff may cancel a draft).
# Rows of routes this build does not have are skipped (reported). It creates its own tenant.
# Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_DIR. Needs jq and curl.
# ck evaluates single-quoted conditions (SC2016); rows read variables through ${!NAME} (SC2034).
# shellcheck disable=SC2016,SC2034
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
: "${STOCK_TEST_DIR:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
FCGI_BIN=$ROOT/build/asan/stock-fcgi
SUITE=test_roles
SUF=$$-$RANDOM

for tool in jq curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        t_not_ok "$tool is installed (deploy/deps.sh installs it)"
        t_result "$SUITE"
        exit 1
    fi
done
trap 'exit 143' TERM INT

. "$ROOT/tests/lib/api.sh"

setup_failed()
{
    t_result "$SUITE"
    exit 1
}

# ---------------------------------------------------------------------------------------------
section "tenant, an admin and a staff user"
SLUG=roles-$SUF
PW=roles-admin-$SUF-pw
STAFF_PW=roles-staff-$SUF-pw
ADMIN_EMAIL=admin@roles.test
STAFF_EMAIL=staff@roles.test
new_tenant "$SLUG" "Roles $SUF" "$ADMIN_EMAIL" "$PW" || setup_failed
session "$SLUG" "$ADMIN_EMAIL" "$PW" || setup_failed
ADMIN_T=$S_TOKEN
TOKEN=$ADMIN_T
mk /users "$(js '{email: $e, password: $p, role: "staff"}' e="\"$STAFF_EMAIL\"" p="\"$STAFF_PW\"")"
session "$SLUG" "$STAFF_EMAIL" "$STAFF_PW" || setup_failed
STAFF_T=$S_TOKEN
api_as "$STAFF_T" GET /me
expect "the staff user's GET /me" 200
ck "GET /me shows the role staff" 'jt ".user.role == \"staff\""'
api_as "$ADMIN_T" GET /me
ck "GET /me shows the role admin" '[[ $R_STATUS == 200 ]] && jt ".user.role == \"admin\""'

# Fixtures, made by the admin. Each row that destroys or changes its object has its own.
section "fixtures"
mk /uom '{"name":"Unit","abbreviation":"u"}'
U=$MK_ID
mk /uom '{"name":"Unit to edit","abbreviation":"ue"}'
U_EDIT=$MK_ID
mk /uom '{"name":"Unit to delete","abbreviation":"ud"}'
U_DEL=$MK_ID
mk /categories '{"name":"Category"}'
C=$MK_ID
mk /categories '{"name":"Category to delete"}'
C_DEL=$MK_ID
mk /products "{\"sku\":\"P\",\"name\":\"Product\",\"uom_id\":$U,\"price\":\"10.00\",\"stock\":\"1000\"}"
P=$MK_ID
mk /products "{\"sku\":\"P-EDIT\",\"name\":\"Product to edit\",\"uom_id\":$U,\"price\":\"1.00\"}"
P_EDIT=$MK_ID
mk /products "{\"sku\":\"P-DEL\",\"name\":\"Product to delete\",\"uom_id\":$U,\"price\":\"1.00\"}"
P_DEL=$MK_ID
mk /sales "{\"items\":[{\"product_id\":$P,\"quantity\":\"1\"}]}"
D_CONFIRM=$MK_ID
mk /sales "{\"items\":[{\"product_id\":$P,\"quantity\":\"1\"}]}"
D_CANCEL=$MK_ID
mk /sales "{\"items\":[{\"product_id\":$P,\"quantity\":\"5\"}]}"
S_CONF=$MK_ID
api POST "/sales/$S_CONF/confirm"
ck "confirm the fixture sale" '[[ $R_STATUS == 200 ]]'
mk /sales "{\"items\":[{\"product_id\":$P,\"quantity\":\"1\"}]}"
S_CANCEL=$MK_ID
api POST "/sales/$S_CANCEL/confirm"
ck "confirm the sale to cancel" '[[ $R_STATUS == 200 ]]'
mk /users "{\"email\":\"other@roles.test\",\"password\":\"roles-other-$SUF-pw\",\"role\":\"staff\"}"
U_OTHER=$MK_ID
TODAY=$(date -u +%F)

# ---------------------------------------------------------------------------------------------
# The table: ROUTE (as stock-fcgi --routes lists it) | RULE | request path | JSON body or - |
# the statuses an allowed caller gets (comma-separated) | options or -.
# RULE: public (no session needed), session (any role), admin (staff: 403 forbidden).
# Options: fresh (the staff and admin requests use a fresh session of their role: logout).
# @NAME@ is replaced by the value of variable NAME, @N@ by a number unique to the request.
ROLE_TABLE=$(cat <<'EOF'
GET /health | public | /health | - | 200 | -
GET /health/cache | public | /health/cache | - | 200 | -
GET /health/db | public | /health/db | - | 200 | -
GET /metrics | public | /metrics | - | 200 | -
POST /api/v1/auth/login | public | /api/v1/auth/login | {"tenant":"@SLUG@","email":"@STAFF_EMAIL@","password":"@STAFF_PW@"} | 200 | -
POST /api/v1/auth/logout | session | /api/v1/auth/logout | - | 204 | fresh
GET /api/v1/me | session | /api/v1/me | - | 200 | -
POST /api/v1/me/password | session | /api/v1/me/password | {"current_password":"not-the-password-@N@","password":"roles-new-@SUF@-pw"} | 422 | -
GET /api/v1/tenant | session | /api/v1/tenant | - | 200 | -
PATCH /api/v1/tenant | admin | /api/v1/tenant | {"locale":"en"} | 200 | -
GET /api/v1/users | admin | /api/v1/users | - | 200 | -
POST /api/v1/users | admin | /api/v1/users | {"email":"new@N@@roles.test","password":"roles-new-@SUF@-pw","role":"staff"} | 201 | -
PATCH /api/v1/users/{id} | admin | /api/v1/users/@U_OTHER@ | {"role":"staff"} | 200 | -
POST /api/v1/users/{id}/password | admin | /api/v1/users/@U_OTHER@/password | {"password":"roles-reset-@SUF@-pw"} | 204 | -
GET /api/v1/uom | session | /api/v1/uom | - | 200 | -
POST /api/v1/uom | admin | /api/v1/uom | {"name":"New unit @N@","abbreviation":"nu"} | 201 | -
GET /api/v1/uom/{id} | session | /api/v1/uom/@U@ | - | 200 | -
PUT /api/v1/uom/{id} | admin | /api/v1/uom/@U_EDIT@ | {"name":"Unit edited","abbreviation":"ue"} | 200 | -
PATCH /api/v1/uom/{id} | admin | /api/v1/uom/@U_EDIT@ | {"name":"Unit patched"} | 200 | -
DELETE /api/v1/uom/{id} | admin | /api/v1/uom/@U_DEL@ | - | 204 | -
GET /api/v1/categories | session | /api/v1/categories | - | 200 | -
POST /api/v1/categories | admin | /api/v1/categories | {"name":"New category @N@"} | 201 | -
GET /api/v1/categories/{id} | session | /api/v1/categories/@C@ | - | 200 | -
PUT /api/v1/categories/{id} | admin | /api/v1/categories/@C@ | {"name":"Category","description":"put"} | 200 | -
PATCH /api/v1/categories/{id} | admin | /api/v1/categories/@C@ | {"description":"patched"} | 200 | -
DELETE /api/v1/categories/{id} | admin | /api/v1/categories/@C_DEL@ | - | 204 | -
GET /api/v1/products | session | /api/v1/products?q=P | - | 200 | -
POST /api/v1/products | admin | /api/v1/products | {"sku":"NEW-@N@","name":"New product","uom_id":@U@,"price":"1.00"} | 201 | -
GET /api/v1/products/{id} | session | /api/v1/products/@P@ | - | 200 | -
PUT /api/v1/products/{id} | admin | /api/v1/products/@P_EDIT@ | {"sku":"P-EDIT","name":"Product put","uom_id":@U@,"price":"2.00"} | 200 | -
PATCH /api/v1/products/{id} | admin | /api/v1/products/@P_EDIT@ | {"name":"Product patched"} | 200 | -
DELETE /api/v1/products/{id} | admin | /api/v1/products/@P_DEL@ | - | 204 | -
GET /api/v1/sales | session | /api/v1/sales | - | 200 | -
POST /api/v1/sales | session | /api/v1/sales | {"customer":"c","items":[{"product_id":@P@,"quantity":"1"}]} | 201 | -
GET /api/v1/sales/{id} | session | /api/v1/sales/@S_CONF@ | - | 200 | -
POST /api/v1/sales/{id}/confirm | session | /api/v1/sales/@D_CONFIRM@/confirm | - | 200,409 | -
POST /api/v1/sales/{id}/cancel | session | /api/v1/sales/@D_CANCEL@/cancel | - | 200,409 | -
POST /api/v1/sales/{id}/cancel | admin | /api/v1/sales/@S_CANCEL@/cancel | - | 200 | -
POST /api/v1/sales/{id}/returns | admin | /api/v1/sales/@S_CONF@/returns | {"items":[{"product_id":@P@,"quantity":"1"}]} | 201 | -
GET /api/v1/payments | session | /api/v1/payments | - | 200 | -
POST /api/v1/payments | session | /api/v1/payments | {"sale_id":@S_CONF@,"amount":"1.00","method":"cash"} | 201 | -
GET /api/v1/balance/series | session | /api/v1/balance/series?from=@TODAY@&to=@TODAY@&granularity=daily | - | 200 | -
GET /api/v1/stock/movements | session | /api/v1/stock/movements?product_id=@P@ | - | 200 | -
GET /api/v1/reports/sales | session | /api/v1/reports/sales?from=@TODAY@&to=@TODAY@&group=product | - | 200 | -
POST /api/v1/stock/movements | session | /api/v1/stock/movements | {"product_id":@P@,"kind":"receipt","quantity":"2"} | 201 | -
POST /api/v1/stock/movements | admin | /api/v1/stock/movements | {"product_id":@P@,"kind":"loss","quantity":"1"} | 201 | -
POST /api/v1/stock/movements | admin | /api/v1/stock/movements | {"product_id":@P@,"kind":"adjustment","quantity":"-1"} | 201 | -
POST /api/v1/stock/movements | admin | /api/v1/stock/movements | {"product_id":@P@,"kind":"count","quantity":"900"} | 201 | -
EOF
)

# subst TEXT: TEXT with @N@ replaced by a fresh number and every @NAME@ by the value of NAME.
N=0
subst()
{
    local s=$1 name
    N=$((N + 1))
    s=${s//@N@/$N}
    while [[ "$s" =~ @([A-Z_]+)@ ]]; do
        name=${BASH_REMATCH[1]}
        s=${s//@$name@/${!name}}
    done
    printf '%s' "$s"
}

trim()
{
    local s=$1
    s=${s#"${s%%[![:space:]]*}"}
    s=${s%"${s##*[![:space:]]}"}
    printf '%s' "$s"
}

# ---------------------------------------------------------------------------------------------
section "the table covers the route table"
FLAGS=$("$FCGI_BIN" --routes)
rc=$?
ROUTES=$(awk '{ print $1, $2 }' <<<"$FLAGS")
ck "stock-fcgi --routes lists the route table ($(wc -l <<<"$ROUTES") routes)" \
    '((rc == 0)) && (($(wc -l <<<"$ROUTES") >= 30))'

# role_missing ROUTES: the routes (one "METHOD PATH" a line) without a row in ROLE_TABLE.
role_missing()
{
    local route
    declare -A rows=()
    while IFS='|' read -r route _; do
        route=$(trim "$route")
        [[ -n "$route" ]] && rows[$route]=1
    done <<<"$ROLE_TABLE"
    while IFS= read -r route; do
        [[ -z "$route" || -n "${rows[$route]:-}" ]] || printf '%s; ' "$route"
    done <<<"$1"
}

missing=$(role_missing "$ROUTES")
ck "every route of stock-fcgi --routes has a rule in the role table" '[[ -z "$missing" ]]'
[[ -z "$missing" ]] || echo "    routes without a rule (add a row to ROLE_TABLE): $missing"
missing=$(role_missing "$(printf '%s\n' "$ROUTES" "GET /api/v1/suppliers" "DELETE /api/v1/suppliers/{id}")")
ck "a route added without a rule is caught ($missing)" \
    '[[ "$missing" == "GET /api/v1/suppliers; DELETE /api/v1/suppliers/{id}; " ]]'

# flag_of ROUTE: the flags stock-fcgi --routes gives ROUTE (empty when it has no such route).
flag_of()
{
    awk -v r="$1" '$1 " " $2 == r { print $3 }' <<<"$FLAGS"
}

# The rules agree with the flags: public exactly on public routes, and a route flagged admin
# has only admin rows.
bad=""
while IFS='|' read -r route rule _; do
    route=$(trim "$route")
    rule=$(trim "$rule")
    [[ -n "$route" ]] || continue
    f=$(flag_of "$route")
    [[ -n "$f" ]] || continue
    case $rule in
    public) [[ ",$f," == *,public,* ]] || bad+="$route is not public; " ;;
    session | admin)
        [[ ",$f," == *,auth,* ]] || bad+="$route does not authenticate; "
        [[ $rule == session && ",$f," == *,admin,* ]] && bad+="$route is flagged admin; "
        ;;
    *) bad+="$route: unknown rule '$rule'; " ;;
    esac
done <<<"$ROLE_TABLE"
ck "the table's rules agree with the route flags${bad:+ ($bad)}" '[[ -z "$bad" ]]'

# ---------------------------------------------------------------------------------------------
# send WHO ROUTE PATH BODY: the row's request as WHO (none, staff, admin) with token TOK.
send()
{
    local m=${2%% *} path=$3 body=$4 tok=$5 args=()
    [[ -n "$tok" ]] && args+=(-H "Authorization: Bearer $tok")
    [[ "$body" != - ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    call "$m" "$BASE$path" "${args[@]}"
}

# in_list STATUS LIST: STATUS is one of the comma-separated LIST.
in_list()
{
    [[ ",$2," == *",$1,"* ]]
}

section "every row as no session, staff and admin"
NROWS=0
while IFS='|' read -r route rule path body okst opts; do
    route=$(trim "$route")
    [[ -n "$route" ]] || continue
    rule=$(trim "$rule")
    okst=$(trim "$okst")
    opts=$(trim "$opts")
    NROWS=$((NROWS + 1))
    label="#$NROWS $route [$rule]"
    if [[ -z "$(flag_of "$route")" ]]; then
        t_skip "$label" "this build has no such route"
        continue
    fi
    # No session.
    send none "$route" "$(subst "$(trim "$path")")" "$(subst "$(trim "$body")")" ""
    if [[ $rule == public ]]; then
        ck "$label without a session -> one of $okst" 'in_list "$R_STATUS" "$okst"'
    else
        expect "$label without a session" 401 unauthorized
    fi
    for who in staff admin; do
        tok=$ADMIN_T
        [[ $who == staff ]] && tok=$STAFF_T
        if [[ "$opts" == fresh ]]; then
            if [[ $who == staff ]]; then
                session "$SLUG" "$STAFF_EMAIL" "$STAFF_PW"
            else
                session "$SLUG" "$ADMIN_EMAIL" "$PW"
            fi
            tok=$S_TOKEN
        fi
        send "$who" "$route" "$(subst "$(trim "$path")")" "$(subst "$(trim "$body")")" "$tok"
        if [[ $who == staff && $rule == admin ]]; then
            if [[ $R_STATUS == 403 && "$(jf .error.code)" == forbidden && "$(jf .error.message)" == *admin* ]] &&
                jt '.error | has("field")'; then
                t_ok "$label as staff -> 403 forbidden (needs the admin role)"
            else
                t_not_ok "$label as staff -> 403 forbidden naming the admin role" \
                    "got $R_STATUS: $(snip)"
            fi
        elif [[ $R_STATUS == 401 || $R_STATUS == 403 || $R_STATUS == 5* || $R_STATUS == 000 ]]; then
            t_not_ok "$label as $who is allowed" "got $R_STATUS: $(snip)"
        else
            ck "$label as $who is allowed -> one of $okst" 'in_list "$R_STATUS" "$okst"'
        fi
    done
done <<<"$ROLE_TABLE"
echo "# $NROWS role rows"

# The sessions used above are still alive (nothing in the table ended them).
api_as "$STAFF_T" GET /me
ck "the staff session is still alive and staff" '[[ $R_STATUS == 200 ]] && jt ".user.role == \"staff\""'
api_as "$ADMIN_T" GET /me
ck "the admin session is still alive" '[[ $R_STATUS == 200 ]]'
ck "no request of the suite got a 5xx${FIVEXX:+ ($FIVEXX)}" '[[ -z "$FIVEXX" ]]'

t_result "$SUITE"
