# shellcheck shell=bash
# api.sh: request helpers of the end-to-end API suites (tests/http/test_api.sh,
# test_sales_api.sh, test_security.sh, test_valgrind.sh): requests, checks of their answers,
# tenants, sessions and fixtures. Source after tests/lib/common.sh; the suite sets BASE, API
# and TOKEN (and STOCKCTL for new_tenant). call/api record every 5xx or unanswered request in
# FIVEXX for the suite's final check. A suite may redefine call after sourcing (test_security.sh
# keeps every response): every helper here goes through it.

FIVEXX=""

# call METHOD URL [curl args]: req (tests/lib/common.sh), remembering every 5xx for the end.
call()
{
    req "$@"
    [[ "$R_STATUS" == 5* || "$R_STATUS" == 000 ]] && FIVEXX+="$1 ${2#"$BASE"} -> $R_STATUS; "
    [[ -n "${STOCK_API_RECORD:-}" ]] && api_record "$@"
    # Every session token issued goes to the run's list of secrets that no log may hold
    # (tests/security/scan_logs.sh reads it at the end of the run).
    if [[ "$2" == */auth/login && "$R_STATUS" == 200 && -n "${STOCK_TEST_DIR:-}" ]]; then
        local t
        t=$(jq -r '.token // empty' <<<"$R_BODY" 2>/dev/null)
        [[ -n "$t" ]] && printf '%s\n%s\n' "$t" "${t#*.}" >>"$STOCK_TEST_DIR/secrets.list"
    fi
    return 0
}

# api_record METHOD URL [curl args]: appends the last answer, and the request's body and
# Content-Type when it had a body (--data-binary/--data/-d/--data-raw, not "@file"), to
# "$STOCK_API_RECORD" for tests/http/test_openapi.sh, which validates them against
# nginx/static/openapi.json. Opt-in: call runs it only when STOCK_API_RECORD is set. Shell
# builtins only (it runs on every request of the suites): a line
# "@@ SUITE METHOD STATUS HEADER_BYTES BODY_BYTES REQUEST_BYTES PATH?QUERY" (SUITE: the script's
# file name), then the answer's headers and body and the request (its Content-Type, a newline,
# its body) as they are, then a newline.
api_record()
{
    local LC_ALL=C u=${2#*://} m=$1 a prev="" rb="" rct="" r=""
    shift 2
    for a in "$@"; do
        case $prev in
        --data-binary | --data | -d) [[ "$a" == @* ]] || rb=$a ;;
        --data-raw) rb=$a ;;
        -H) [[ "${a,,}" == content-type:* ]] && rct=${a#*:} && rct=${rct# } ;;
        esac
        prev=$a
    done
    [[ -n "$rb" ]] && r=$rct$'\n'$rb
    printf '@@ %s %s %s %d %d %d /%s\n%s%s%s\n' "${0##*/}" "$m" "$R_STATUS" "${#R_HEADERS}" \
        "${#R_BODY}" "${#r}" "${u#*/}" "$R_HEADERS" "$R_BODY" "$r" >>"$STOCK_API_RECORD"
}

# fcgi_request ADDR METHOD PATH QUERY BODY [NAME=VALUE ...]: one request straight to a FastCGI
# server with cgi-fcgi (no nginx): BODY on standard input with its CONTENT_LENGTH, each
# NAME=VALUE as a CGI variable (HTTP_AUTHORIZATION=..., HTTPS=on, REMOTE_ADDR=...). Sets
# R_STATUS (000 when nothing came back), R_HEADERS and R_BODY like req.
fcgi_request()
{
    local addr=$1 method=$2 path=$3 query=$4 body=$5 tmp n
    shift 5
    tmp=$(mktemp -d)
    printf '%s' "$body" >"$tmp/in"
    n=$(wc -c <"$tmp/in")
    env -i PATH="$PATH" REQUEST_METHOD="$method" SCRIPT_NAME="$path" \
        REQUEST_URI="$path${query:+?$query}" DOCUMENT_URI="$path" QUERY_STRING="$query" \
        SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1 REQUEST_ID="fcgi${$}x$RANDOM" \
        CONTENT_LENGTH="$n" CONTENT_TYPE=application/json "$@" \
        timeout 15 cgi-fcgi -bind -connect "$addr" <"$tmp/in" >"$tmp/out" 2>/dev/null
    R_HEADERS=$(awk '{ sub(/\r$/, "") } /^$/ { exit } { print }' "$tmp/out")
    R_BODY=$(awk 'body { print } /^\r?$/ { body = 1 }' "$tmp/out")
    R_STATUS=$(awk '$1 == "Status:" { print $2; exit }' <<<"$R_HEADERS")
    if [[ -z "$R_STATUS" ]]; then
        R_STATUS=000
        [[ -s "$tmp/out" ]] && R_STATUS=200
    fi
    rm -rf "$tmp"
}

# api METHOD PATH [JSON [curl args]]: METHOD $API/PATH with "Authorization: Bearer $TOKEN" and,
# when given, JSON as an application/json body.
api()
{
    local m=$1 p=$2 body
    shift 2
    if (($# > 0)); then
        body=$1
        shift
        call "$m" "$API$p" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
            --data-binary "$body" "$@"
    else
        call "$m" "$API$p" -H "Authorization: Bearer $TOKEN"
    fi
}

# api_as TOKEN METHOD PATH [JSON [curl args]]: api with another session.
api_as()
{
    local TOKEN=$1
    shift
    api "$@"
}

# api_file METHOD PATH FILE [curl args]: the body is FILE's bytes, as they are.
api_file()
{
    local m=$1 p=$2 f=$3
    shift 3
    call "$m" "$API$p" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        --data-binary "@$f" "$@"
}

# jf FILTER [jq args]: jq -r FILTER over the last body (empty on a parse error).
jf()
{
    local f=$1
    shift
    jq -r "$@" "$f" <<<"$R_BODY" 2>/dev/null
}

# jt FILTER [jq args]: the last body is JSON and FILTER is true for it.
jt()
{
    local f=$1
    shift
    jq -e "$@" "$f" <<<"$R_BODY" >/dev/null 2>&1
}

# js FILTER [NAME=JSON ...]: compact JSON built by jq with $NAME bound to each JSON value.
js()
{
    local f=$1 kv a=()
    shift
    for kv in "$@"; do
        a+=(--argjson "${kv%%=*}" "${kv#*=}")
    done
    jq -cn "${a[@]}" "$f"
}

# snip: the last body on one line, cut to 220 bytes (for failure messages).
snip()
{
    tr -d '\n' <<<"$R_BODY" | head -c 220
}

# ck NAME CONDITION: ok when `eval CONDITION` succeeds; a failure shows the last response.
ck()
{
    local name=$1
    shift
    if eval "$*"; then
        t_ok "$name"
    else
        t_not_ok "$name" "last response $R_STATUS $(snip)"
    fi
}

# expect_4xx NAME: the last status is a 4xx (hostile input: anything but a crash or a 5xx).
expect_4xx()
{
    if [[ "$R_STATUS" == 4?? ]]; then
        t_ok "$1 -> 4xx ($R_STATUS)"
    else
        t_not_ok "$1 -> 4xx" "got $R_STATUS: $(snip)"
    fi
}

# expect_no5xx NAME: the last status is a 2xx or a 4xx.
expect_no5xx()
{
    if [[ "$R_STATUS" == [24]?? ]]; then
        t_ok "$1 -> 2xx or 4xx ($R_STATUS)"
    else
        t_not_ok "$1 -> 2xx or 4xx" "got $R_STATUS: $(snip)"
    fi
}

# expect NAME STATUS [CODE [FIELD]]: the last response has STATUS; an error (4xx/5xx) also has
# the shape {"error": {"code", "message", "field"}}, with CODE and FIELD when given. (For an
# answer that is not the API's, nginx's own 414 or a health probe's 503, check the status alone
# with ck.)
expect()
{
    local name=$1 st=$2 code=${3:-} field=${4:-} why="" label
    label="$name -> $st${code:+ $code}${field:+ (field $field)}"
    if [[ "$R_STATUS" != "$st" ]]; then
        why="got $R_STATUS"
    elif ((st >= 400)); then
        if ! jt '.error | (.code | type == "string") and (.message | type == "string")
                 and has("field")'; then
            why="not an error object"
        elif [[ -n "$code" && "$(jf .error.code)" != "$code" ]]; then
            why="code $(jf .error.code)"
        elif [[ -n "$field" && "$(jf .error.field)" != "$field" ]]; then
            why="field $(jf .error.field)"
        fi
    fi
    if [[ -z "$why" ]]; then
        t_ok "$label"
    else
        t_not_ok "$label" "$why: $(snip)"
    fi
}

# mk PATH JSON [curl args]: creates a fixture through the API (bearer $TOKEN) and sets MK_ID;
# anything but a 201 with a numeric id counts as one failure and sets MK_ID to 0.
MK_ID=""
mk()
{
    api POST "$1" "$2" "${@:3}"
    MK_ID=$(jf .id)
    if [[ "$R_STATUS" != 201 || ! "$MK_ID" =~ ^[0-9]+$ ]]; then
        t_not_ok "create fixture POST $1 $2" "got $R_STATUS: $(snip)"
        MK_ID=0
    fi
}

# new_tenant SLUG NAME EMAIL PASSWORD [stockctl tenant create args]: a tenant and its admin,
# created with $STOCKCTL; sets NT_ID. A failure counts as one (stockctl's messages shown) and
# returns 1.
NT_ID=""
new_tenant()
{
    local slug=$1 name=$2 email=$3 pw=$4 errf
    shift 4
    errf=$(mktemp)
    NT_ID=$("$STOCKCTL" tenant create "$slug" "$name" "$@" 2>"$errf")
    if [[ ! "$NT_ID" =~ ^[0-9]+$ ]] ||
        ! printf '%s\n' "$pw" | "$STOCKCTL" user create --tenant "$slug" --email "$email" \
            --role admin >/dev/null 2>>"$errf"; then
        t_not_ok "stockctl creates tenant $slug and its admin" "$(tr '\n' ' ' <"$errf")"
        rm -f "$errf"
        return 1
    fi
    rm -f "$errf"
}

# login_body SLUG EMAIL PASSWORD: the JSON of a sign-in.
login_body()
{
    jq -cn --arg t "$1" --arg e "$2" --arg p "$3" '{tenant: $t, email: $e, password: $p}'
}

# login SLUG EMAIL PASSWORD [curl args]: POST /auth/login.
login()
{
    local body
    body=$(login_body "$1" "$2" "$3")
    shift 3
    call POST "$API/auth/login" -H 'Content-Type: application/json' --data-binary "$body" "$@"
}

# session SLUG EMAIL PASSWORD: signs in; sets S_TOKEN and S_CSRF (read by the suites). Returns 1
# (both empty) when the sign-in is not a 200 with a token.
S_TOKEN=""
# shellcheck disable=SC2034
S_CSRF=""
session()
{
    S_TOKEN=""
    S_CSRF=""
    login "$1" "$2" "$3"
    [[ "$R_STATUS" == 200 ]] || return 1
    S_TOKEN=$(jf '.token // empty')
    S_CSRF=$(jf '.csrf_token // empty')
    [[ -n "$S_TOKEN" ]]
}

# warm PATH: GETs PATH until one is a HIT (10 s at most: a worker may be in its Redis back-off),
# so that the checks after a write read over a cached entry; not getting there counts as a
# failure.
is_hit()
{
    api GET "$1"
    [[ "$R_STATUS" == 200 && "$(header X-Cache)" == HIT ]]
}
warm()
{
    api GET "$1"
    wait_for 10 is_hit "$1" ||
        t_not_ok "GET $1 becomes a cache HIT" "got $R_STATUS $(header X-Cache): $(snip)"
}

# section TITLE: a comment line with the time since the start, to see where the time goes.
section()
{
    echo "# $1 (at ${SECONDS}s)"
}

# Parallel clients (the suite sets PAR, a directory): pfire TAG METHOD PATH [BODY [curl args]]
# runs one request (bearer $TOKEN) writing TAG.code and TAG.body under $PAR; start them with &
# and `wait`. par_reset empties $PAR.
pfire()
{
    local tag=$1 m=$2 p=$3 a=()
    shift 3
    if (($# > 0)); then
        a=(-H 'Content-Type: application/json' --data-binary "$1")
        shift
    fi
    curl -s -X "$m" -o "$PAR/$tag.body" -w '%{http_code}' --max-time 30 \
        -H "Authorization: Bearer $TOKEN" "${a[@]}" "$@" "$API$p" >"$PAR/$tag.code" 2>/dev/null
}
# pall PREFIX: the statuses of PREFIX*, one a line (curl writes them without a newline).
pall()
{
    local f
    for f in "$PAR/$1"*.code; do
        [[ -e "$f" ]] && { cat "$f"; echo; }
    done
}
# pcount PREFIX CODE: how many of PREFIX* answered CODE.
pcount()
{
    pall "$1" | grep -c "^$2\$"
}
# pcodes PREFIX: a summary of the statuses of PREFIX*, e.g. "200x5 409x5".
pcodes()
{
    pall "$1" | sort | uniq -c | awk '{ printf "%sx%s ", $2, $1 }'
}
# perrcodes PREFIX STATUS: the error codes of the PREFIX* that answered STATUS, sorted, unique.
perrcodes()
{
    local f
    for f in "$PAR/$1"*.code; do
        [[ "$(cat "$f")" == "$2" ]] || continue
        jq -r '.error.code' "${f%.code}.body" 2>/dev/null
    done | sort -u | tr '\n' ' '
}
par_reset()
{
    rm -rf "$PAR"
    mkdir -p "$PAR"
}
