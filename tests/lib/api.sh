# shellcheck shell=bash
# api.sh: request helpers of the end-to-end API suites (tests/http/test_api.sh,
# test_sales_api.sh). Source after tests/lib/common.sh; the suite sets BASE, API and TOKEN.
# call/api record every 5xx or unanswered request in FIVEXX for the suite's final check.

FIVEXX=""

# call METHOD URL [curl args]: req (tests/lib/common.sh), remembering every 5xx for the end.
call()
{
    req "$@"
    [[ "$R_STATUS" == 5* || "$R_STATUS" == 000 ]] && FIVEXX+="$1 ${2#"$BASE"} -> $R_STATUS; "
    # Every session token issued goes to the run's list of secrets that no log may hold
    # (tests/security/scan_logs.sh reads it at the end of the run).
    if [[ "$2" == */auth/login && "$R_STATUS" == 200 && -n "${STOCK_TEST_DIR:-}" ]]; then
        local t
        t=$(jq -r '.token // empty' <<<"$R_BODY" 2>/dev/null)
        [[ -n "$t" ]] && printf '%s\n%s\n' "$t" "${t#*.}" >>"$STOCK_TEST_DIR/secrets.list"
    fi
    return 0
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
