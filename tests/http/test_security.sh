#!/usr/bin/env bash
# test_security.sh: the security review as tests.
#  1. SQL: tests/security/sql_check.sh finds no SQL built from strings in fcgi/, and does find
#     every planted case in a bad sample (and none in a good one).
#  2. nginx security headers (dev config, and the prod config live over TLS) on an API 200, an
#     API 401, a 404, the static UI, nginx's own 413, 414 and 400.
#  3. The session cookie: HttpOnly and SameSite always, Secure only over TLS (the FastCGI param
#     HTTPS, straight to the pool with cgi-fcgi and through nginx/stock.prod.conf).
#  4. Bounds: body (1 MiB; 4 KiB for a login, and a 1 MiB login body costs a worker no memory),
#     headers, URL, JSON depth, query parameters, Authorization, through nginx and straight to
#     the pool; no worker dies.
#  5. The login rate limit holds across the pool's workers.
#  6. Tenant isolation on every route of the table (stock-fcgi --routes), one table (a route
#     without a row fails the suite): the other tenant's ids in paths, query parameters and
#     bodies, with headers that try to choose the tenant; tenant A's data unchanged afterwards.
#  7. Secrets: two private pools (LOG_LEVEL=debug, passwords in DATABASE_URL and REDIS_URL,
#     REDIS_PASSWORD; one with PostgreSQL and Redis unreachable); then no password, token,
#     argon2 hash, database or Redis password in any response, in /metrics, or in any log of
#     the run (tests/security/scan_logs.sh).
# Every secret this suite uses is appended to $STOCK_TEST_DIR/secrets.list, for
# tests/security/scan_logs.sh at the end of the run. Environment from tests/run_all.sh:
# STOCK_TEST_BASE_URL, STOCK_TEST_DIR, STOCK_TEST_POOL_PID, STOCK_TEST_POOL_LOG,
# STOCK_TEST_FCGI_ADDR, DATABASE_URL, REDIS_URL. Needs jq, curl, cgi-fcgi, openssl.
# ck and the checks evaluate single-quoted conditions (SC2016), and the isolation table reads
# variables through ${!NAME} (SC2034).
# shellcheck disable=SC2016,SC2034
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
POOL=${STOCK_TEST_POOL_PID:?run through tests/run_all.sh}
POOL_LOG=${STOCK_TEST_POOL_LOG:?run through tests/run_all.sh}
FCGI=${STOCK_TEST_FCGI_ADDR:?run through tests/run_all.sh}
RUNDIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}
: "${DATABASE_URL:?run through tests/run_all.sh}"
: "${REDIS_URL:?run through tests/run_all.sh}"
DIR=$RUNDIR/security-test
TMP=$DIR/tmp
RESP=$DIR/responses
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
ASAN_POOL=$ROOT/build/asan/stock-fcgi
SUITE=test_security
SUF=$$-$RANDOM
# A marker in tenant A's data that tenant B never sends: any response to B holding it leaks.
LEAK=Lk$RANDOM$RANDOM
rm -rf "$DIR"
mkdir -p "$TMP" "$RESP" "$DIR/logs" "$DIR/run"

for tool in jq curl cgi-fcgi awk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        t_not_ok "$tool is installed (deploy/deps.sh installs it)"
        t_result "$SUITE"
        exit 1
    fi
done

# What this suite starts, stopped by PID whatever happens.
STARTED_POOLS=()
STARTED_NGINX=()
AUTH_REDIS_DIR=""
AUTH_REDIS_PORT=""
AUTH_REDIS_PW=""
cleanup()
{
    local p
    for p in "${STARTED_NGINX[@]}"; do
        nginx_stop "$p"
    done
    for p in "${STARTED_POOLS[@]}"; do
        pool_stop "$p" 20
    done
    [[ -n "$AUTH_REDIS_DIR" ]] && REDISCLI_AUTH=$AUTH_REDIS_PW redis_stop "$AUTH_REDIS_DIR" "$AUTH_REDIS_PORT"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---------------------------------------------------------------------------------------------
# Helpers (the style of tests/http/test_api.sh)

. "$ROOT/tests/lib/api.sh"

# Secrets: ALWAYS (passwords, made-up tokens, database and Redis passwords: in no response and
# no log, ever) and TOKENS (issued session tokens and their random part: in no log, and in no
# response but the login that issued them). Both go to the run's list for scan_logs.sh.
S_ALWAYS=$DIR/secrets-always.list
S_TOKENS=$DIR/secrets-tokens.list
RUN_SECRETS=$RUNDIR/secrets.list
: >"$S_ALWAYS"
: >"$S_TOKENS"

# secret VALUE...: records secrets that must never be shown.
secret()
{
    local s
    for s in "$@"; do
        [[ -n "$s" ]] || continue
        printf '%s\n' "$s" >>"$S_ALWAYS"
        printf '%s\n' "$s" >>"$RUN_SECRETS"
    done
}

# secret_token TOKEN: records an issued session token and its 43-character random part.
secret_token()
{
    [[ -n "$1" && "$1" != null ]] || return 0
    printf '%s\n%s\n' "$1" "${1#*.}" >>"$S_TOKENS"
    printf '%s\n%s\n' "$1" "${1#*.}" >>"$RUN_SECRETS"
}

# keep_response KIND: stores the last response (status, headers, body) under $RESP for the
# secret scan of section 7. KIND login: a login that issued a token (it may show that token).
NRESP=0
keep_response()
{
    NRESP=$((NRESP + 1))
    printf '%s\n%s\n\n%s\n' "$R_STATUS" "$R_HEADERS" "$R_BODY" >"$RESP/$1-$NRESP.txt"
}

# call METHOD URL [curl args]: api.sh's call (5xx remembered in FIVEXX), plus: every response
# is kept and every token a login issues is recorded as a secret.
call()
{
    req "$@"
    [[ "$R_STATUS" == 5* || "$R_STATUS" == 000 ]] && FIVEXX+="$1 ${2#"$BASE"} -> $R_STATUS; "
    if [[ "$2" == */auth/login && "$R_STATUS" == 200 ]]; then
        secret_token "$(jf .token)"
        keep_response login
    else
        keep_response api
    fi
    return 0
}

# fcgi_call ADDR METHOD PATH QUERY BODY [NAME=VALUE ...]: fcgi_request (tests/lib/api.sh), and
# the response kept (its token noted as a secret) like every other of this suite.
fcgi_call()
{
    local path=$3
    fcgi_request "$@"
    if [[ "$path" == */auth/login && "$R_STATUS" == 200 ]]; then
        secret_token "$(jf .token)"
        keep_response login
    else
        keep_response api
    fi
}

# expect_in NAME STATUSES: the last status is one of STATUSES ("400 431 494").
expect_in()
{
    if [[ " $2 " == *" $R_STATUS "* ]]; then
        t_ok "$1 -> $R_STATUS"
    else
        t_not_ok "$1 -> one of $2" "got $R_STATUS: $(snip)"
    fi
}

# repeat N TEXT: TEXT N times.
repeat()
{
    local out
    if ((${#2} == 1)); then
        head -c "$1" /dev/zero | tr "\\0" "$2"
        return
    fi
    printf -v out "%*s" "$1" ""
    printf "%s" "${out// /$2}"
}

# headers_missing [hsts]: the security headers nginx must add that the last response lacks
# (or has wrong), one line; empty when all are there.
headers_missing()
{
    local miss="" v
    [[ "$(header X-Content-Type-Options)" == nosniff ]] || miss+="X-Content-Type-Options "
    [[ "$(header X-Frame-Options)" =~ ^(DENY|SAMEORIGIN)$ ]] || miss+="X-Frame-Options "
    [[ "$(header Referrer-Policy)" =~ ^(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)$ ]] ||
        miss+="Referrer-Policy "
    v=$(header Content-Security-Policy)
    [[ "$v" == *"default-src 'self'"* && "$v" == *"frame-ancestors 'none'"* &&
        "$v" != *unsafe-inline* && "$v" != *unsafe-eval* ]] || miss+="Content-Security-Policy "
    [[ "$(header X-Request-Id)" =~ ^[0-9a-f]{32}$ ]] || miss+="X-Request-Id "
    [[ "$(header Server)" != *[0-9]* ]] || miss+="Server(version shown) "
    if [[ "${1:-}" == hsts ]]; then
        [[ "$(header Strict-Transport-Security)" =~ max-age=[1-9][0-9]{6,} ]] ||
            miss+="Strict-Transport-Security "
    fi
    printf '%s' "$miss"
}

# sec_headers LABEL [hsts]: the last response carries nginx's security headers (and HSTS).
sec_headers()
{
    local miss
    miss=$(headers_missing "${2:-}")
    if [[ -z "$miss" ]]; then
        t_ok "$1 ($R_STATUS): security headers present"
    else
        t_not_ok "$1 ($R_STATUS): security headers present" "missing or wrong: $miss"
    fi
}

WORKERS_AT_START=$(live_workers "$POOL")

# =============================================================================================
# 1. SQL: every statement is constant text; values go as parameters
# =============================================================================================
section "1. SQL built from strings"

CHECK=$ROOT/tests/security/sql_check.sh
out=$(bash "$CHECK" "$ROOT/fcgi" 2>&1)
rc=$?
if ((rc == 0)) && [[ -z "$out" ]]; then
    t_ok "sql_check.sh: no SQL built from strings in fcgi/ (every SQL argument is constant text)"
else
    t_not_ok "sql_check.sh: no SQL built from strings in fcgi/" "exit $rc"
    head -n 40 <<<"$out" | while IFS= read -r l; do echo "    $l"; done
fi
# The checker must have seen the statements, not passed for want of finding any.
mapfile -t CSRC < <(find "$ROOT/fcgi" -type f \( -name '*.c' -o -name '*.h' \) | sort)
dbg=$(awk -v debug=1 -f "$ROOT/tests/security/sql_check.awk" "${CSRC[@]}" 2>/dev/null)
nchk=$(awk '/^debug: .* sink calls checked$/ { print $2 }' <<<"$dbg")
sinks=$(awk '/^debug: sink / { print $3 }' <<<"$dbg" | sort | tr '\n' ' ')
ck "sql_check.sh inspected the SQL calls of fcgi/ ($nchk calls; sinks: $sinks)" \
    '[[ "$nchk" =~ ^[0-9]+$ ]] && ((nchk >= 60)) && [[ " $sinks " == *" db_exec "* &&
       " $sinks " == *" PQexec "* && " $sinks " == *" write_json "* ]]'

# Planted samples: every line marked BAD must be reported, and nothing else; the good sample
# (the patterns fcgi/ uses) must pass.
mkdir -p "$TMP/sql-bad" "$TMP/sql-good"
cat >"$TMP/sql-bad/bad.c" <<'EOF'
#include <inttypes.h>
#include <libpq-fe.h>
#define RUN_RAW(s) db_exec(db, a, s, 0, NULL, err) /* BAD */
static const char sql[] = "SELECT id FROM t WHERE tenant_id = $1";
struct sql_load {
    struct db *db;
    const char *sql;
};

void b1(PGconn *conn, struct arena *a, const char *id)
{
    char *q = arena_sprintf(a, "SELECT * FROM t WHERE id = %s", id); /* BAD */
    PQexec(conn, q); /* BAD */
}

void b2(struct db *db, struct arena *a, const char *name, struct app_err *err)
{
    char sql[256]; /* shadows the constant above */

    snprintf(sql, sizeof(sql), "DELETE FROM t " /* BAD */
             "WHERE name = '%s'", name);
    db_exec(db, a, sql, 0, NULL, err); /* BAD */
}

void b3(struct db *db, struct arena *a, struct buf *b, const char *tab, struct app_err *err)
{
    buf_adds(b, "UPDATE "); /* BAD */
    buf_adds(b, tab);
    db_exec(db, a, b->data, 0, NULL, err); /* BAD */
}

static PGresult *run(PGconn *conn, const char *q)
{
    return PQexecParams(conn, q, 0, NULL, NULL, NULL, NULL, 0); /* BAD */
}

static PGresult *run_sql(struct db *db, struct arena *a, const char *sql, struct app_err *err)
{
    return db_exec(db, a, sql, 0, NULL, err);
}

void b5(struct db *db, struct arena *a, const char *input, struct app_err *err)
{
    run_sql(db, a, input, err); /* BAD */
    run_sql(db, a, /* BAD */
            arena_sprintf(a, "%s", input), err);
}

void b6(struct db *db, const char *input)
{
    struct sql_load l = {db, input}; /* BAD */
    struct sql_load m;

    m.sql = input; /* BAD */
    (void)l;
}

static PGresult *run2(struct db *db, struct arena *a, const char *sql, const char *t,
                      struct app_err *err)
{
    sql = arena_sprintf(a, "%s", t);
    return db_exec(db, a, sql, 0, NULL, err); /* BAD */
}

void b7(PGconn *conn, int ok, const char *input, int64_t id, struct arena *a, char *buf)
{
    const char *q2 = "SELECT 1";

    PQexecParams(conn, ok ? "SELECT 1" : input, 0, NULL, NULL, NULL, NULL, 0); /* BAD */
    (void)arena_sprintf(a, "SELECT * FROM t WHERE id = %" PRId64, id); /* BAD */
    strcat(buf, " WHERE id = "); /* BAD */
    PQprepare(conn, "s1", input, 0, NULL); /* BAD */
    q2 = input;
    PQexec(conn, q2); /* BAD */
    PQsendQuery(conn, buf); /* BAD */
}
EOF
cat >"$TMP/sql-good/good.c" <<'EOF'
#include <inttypes.h>
#include <libpq-fe.h>
#define COLS "id, name"
#define LOCK_KEY "42"
static const char list_sql[] = "SELECT " COLS " FROM t WHERE tenant_id = $1";
struct sql_load {
    struct db *db;
    const char *sql;
};
static const struct stmt {
    int n;
    const char *sql;
} tab[] = {
    {1, "SELECT 1"},
    {2, "SELECT " COLS " FROM t"},
};

static PGresult *wrap(struct db *db, struct arena *a, const char *sql, struct app_err *err)
{
    struct sql_load l = {db, sql};

    (void)l;
    return db_exec(db, a, sql, 0, NULL, err);
}

void g1(struct db *db, struct arena *a, PGconn *conn, const char *const *params, int i,
        int64_t id, char *buf, const char *x, struct app_err *err)
{
    static const char sql[] = "UPDATE t SET x = $2 WHERE id = $1";
    const char *pick;
    struct sql_load l;

    pick = "SELECT 2";
    db_exec(db, a, sql, 2, params, err);
    db_exec(db, a, list_sql, 1, params, err);
    db_exec(db, a, "SELECT pg_advisory_lock(" LOCK_KEY ")", 0, NULL, err);
    db_exec(db, a, (tab[i].sql), tab[i].n, params, err);
    wrap(db, a, "DELETE FROM t WHERE id = $1", err);
    PQexec(conn, pick);
    l.sql = list_sql;
    db_exec(db, a, l.sql, 0, NULL, err);
    snprintf(buf, 64, "list:%" PRId64, id);
    log_msg(1, "cannot update %s", x);
}
EOF
bad_out=$(bash "$CHECK" "$TMP/sql-bad" 2>&1)
bad_rc=$?
want=$(grep -n 'BAD' "$TMP/sql-bad/bad.c" | cut -d: -f1 | sort -n | tr '\n' ' ')
got=$(sed -n 's/^[^:]*bad\.c:\([0-9]*\):.*/\1/p' <<<"$bad_out" | sort -nu | tr '\n' ' ')
ck "sql_check.sh fails (exit 1) on the planted bad sample" '((bad_rc == 1))'
ck "sql_check.sh reports every planted case, and only those (lines $want; got $got)" \
    '[[ -n "$want" && "$want" == "$got" ]]'
ck "sql_check.sh reports each rule on the sample (sql-arg, field, format)" \
    'grep -q ": sql-arg: " <<<"$bad_out" && grep -q ": field: " <<<"$bad_out" &&
     grep -q ": format: " <<<"$bad_out"'
good_out=$(bash "$CHECK" "$TMP/sql-good" 2>&1)
good_rc=$?
ck "sql_check.sh passes the good sample (literals, constants, macros, tables, wrappers)" \
    '((good_rc == 0)) && [[ -z "$good_out" ]]'
[[ -z "$good_out" ]] || while IFS= read -r l; do echo "    $l"; done <<<"$good_out"

# =============================================================================================
# Tenants: A (the victim), B (the attacker), L (rate limit). Recognisable passwords.
# =============================================================================================
section "tenants"
PW_A="PwA-horse-$SUF-battery"
PW_B="PwB-staple-$SUF-correct"
PW_L="PwL-orange-$SUF-violet"
WRONG_PW="WrongPw-$SUF-typo"
secret "$PW_A" "$PW_B" "$PW_L" "$WRONG_PW"
SLUG_A=sec-a-$SUF
SLUG_B=sec-b-$SUF
SLUG_L=sec-l-$SUF
EMAIL_A=admin@sec-a.test
EMAIL_B=admin@sec-b.test
EMAIL_L=admin@sec-l.test
setup_failed()
{
    t_result "$SUITE"
    exit 1
}
new_tenant "$SLUG_A" "Security A $SUF" "$EMAIL_A" "$PW_A" || setup_failed
A_ID=$NT_ID
new_tenant "$SLUG_B" "Security B $SUF" "$EMAIL_B" "$PW_B" || setup_failed
B_ID=$NT_ID
new_tenant "$SLUG_L" "Security L $SUF" "$EMAIL_L" "$PW_L" || setup_failed

session "$SLUG_A" "$EMAIL_A" "$PW_A"
TA=$S_TOKEN
LOGIN_COOKIE=$(header Set-Cookie)
session "$SLUG_B" "$EMAIL_B" "$PW_B"
TB=$S_TOKEN
CSRF_B=$S_CSRF
ck "tenants A and B sign in" '[[ "$TA" =~ ^s${A_ID}\. && "$TB" =~ ^s${B_ID}\. && -n "$CSRF_B" ]]'
[[ -n "$TA" && -n "$TB" ]] || setup_failed

# =============================================================================================
# 2. Security headers from nginx (dev config)
# =============================================================================================
section "2. security headers"
api_as "$TA" GET /me
sec_headers "GET /api/v1/me (API 200)"
call GET "$API/me"
sec_headers "GET /api/v1/me without a session (API 401)"
call GET "$API/no-such-route"
sec_headers "GET /api/v1/no-such-route (404)"
call GET "$BASE/"
sec_headers "GET / (static UI)"
call GET "$BASE/index.html"
sec_headers "GET /index.html (static)"
# The UI is ES modules under nginx/static/js: a browser refuses a module served with any type
# but JavaScript. Every one of them, with the security headers.
ui_modules()
{
    local base=$1 hsts=${2:-} f rel miss n=0 bad=""
    while IFS= read -r f; do
        rel=${f#"$ROOT/nginx/static"}
        call GET "$base$rel" -k
        n=$((n + 1))
        miss=$(headers_missing "$hsts")
        [[ "$R_STATUS" == 200 && "$(header Content-Type)" == application/javascript* && -z "$miss" ]] ||
            bad+="$rel: $R_STATUS $(header Content-Type) $miss; "
    done < <(find "$ROOT/nginx/static/js" -type f -name '*.js' | sort)
    if ((n > 0)) && [[ -z "$bad" ]]; then
        t_ok "$3: the UI's $n ES modules are JavaScript with the security headers"
    else
        t_not_ok "$3: the UI's $n ES modules are JavaScript with the security headers" "$bad"
    fi
}
ui_modules "$BASE" "" "dev nginx"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$TMP/big.json"
TOKEN=$TA api_file POST /products "$TMP/big.json"
sec_headers "POST of 1 MiB + 1 byte (nginx's own 413)"
call GET "$API/products?q=$(repeat 9000 a)"
sec_headers "a 9000-byte URL (nginx's own 414)"
call GET "$API/me" -H "Cookie: big=$(repeat 65536 a)"
sec_headers "a 64 KiB cookie (nginx's own 400)"
call GET "$BASE/health"
sec_headers "GET /health"
# The check can fail: straight to the pool (no nginx) the headers are missing.
fcgi_call "$FCGI" GET /health "" ""
miss=$(headers_missing hsts)
ck "the header check sees their absence straight from the pool (missing: $miss)" \
    '[[ "$miss" == *X-Content-Type-Options* && "$miss" == *Content-Security-Policy* &&
       "$miss" == *X-Request-Id* && "$miss" == *Strict-Transport-Security* ]]'

# =============================================================================================
# 3. The session cookie
# =============================================================================================
section "3. cookies"
ck "login over http: Set-Cookie stock_session=<token>" '[[ "$LOGIN_COOKIE" == "stock_session=$TA;"* ]]'
ck "login over http: the cookie is HttpOnly" '[[ "$LOGIN_COOKIE" =~ \;\ *HttpOnly(\;|$) ]]'
ck "login over http: the cookie is SameSite=Lax or Strict" '[[ "$LOGIN_COOKIE" =~ \;\ *SameSite=(Lax|Strict)(\;|$) ]]'
ck "login over http: the cookie is not Secure (it would never come back over http)" \
    '[[ ! "$LOGIN_COOKIE" =~ Secure ]]'
ck "login over http: the cookie has Path=/ and a Max-Age" '[[ "$LOGIN_COOKIE" == *"Path=/"* && "$LOGIN_COOKIE" =~ Max-Age=[1-9] ]]'

# Straight to the pool: the FastCGI param HTTPS=on (what nginx sets for a TLS request).
LB=$(login_body "$SLUG_A" "$EMAIL_A" "$PW_A")
fcgi_call "$FCGI" POST /api/v1/auth/login "" "$LB" HTTPS=on
c=$(header Set-Cookie)
T_HTTPS=$(jf .token)
ck "login with HTTPS=on (cgi-fcgi): 200 and the cookie is Secure, HttpOnly, SameSite" \
    '[[ "$R_STATUS" == 200 && "$c" =~ \;\ *Secure(\;|$) && "$c" =~ HttpOnly && "$c" =~ SameSite=(Lax|Strict) ]]'
fcgi_call "$FCGI" POST /api/v1/auth/logout "" "" HTTPS=on HTTP_AUTHORIZATION="Bearer $T_HTTPS"
c=$(header Set-Cookie)
ck "logout with HTTPS=on: the clearing cookie is Secure too" '[[ "$R_STATUS" == 204 && "$c" == *Max-Age=0* && "$c" =~ Secure ]]'
fcgi_call "$FCGI" POST /api/v1/auth/login "" "$LB"
c=$(header Set-Cookie)
ck "login without HTTPS (cgi-fcgi): the cookie is not Secure" '[[ "$R_STATUS" == 200 && ! "$c" =~ Secure ]]'
fcgi_call "$FCGI" POST /api/v1/auth/login "" "$LB" HTTPS=off
c=$(header Set-Cookie)
ck "login with HTTPS=off: not Secure" '[[ "$R_STATUS" == 200 && ! "$c" =~ Secure ]]'

# The prod config passes HTTPS: it includes fastcgi_params (which has "fastcgi_param HTTPS
# $https") or sets it itself, in the server that listens with ssl.
P=$ROOT/nginx/stock.prod.conf
ssl_server=$(awk '/^server[[:space:]]*\{/ { buf = ""; on = 1 } on { buf = buf $0 "\n" }
                  on && /^\}/ { if (buf ~ /listen[^;]*ssl/) printf "%s", buf; on = 0 }' "$P")
ck "nginx/stock.prod.conf: the ssl server passes the HTTPS param to the pool" \
    '( grep -qE "^[[:space:]]*include[[:space:]]+(/etc/nginx/)?fastcgi_params;" <<<"$ssl_server" &&
       grep -qE "^[[:space:]]*fastcgi_param[[:space:]]+HTTPS[[:space:]]+\\\$https" /etc/nginx/fastcgi_params ) ||
     grep -qE "^[[:space:]]*fastcgi_param[[:space:]]+HTTPS[[:space:]]" <<<"$ssl_server"'
# A location that sets any fastcgi_param of its own drops the inherited ones (HTTPS included).
ck "nginx/stock.prod.conf: no location sets fastcgi_param of its own (it would drop HTTPS)" \
    '! awk "/^[[:space:]]*location[[:space:]]/ { on = 1 } on && /^[[:space:]]*fastcgi_param[[:space:]]/ { bad = 1 }
            on && /^[[:space:]]*}/ { on = 0 } END { exit !bad }" <<<"$ssl_server"'

# The prod config live over TLS in front of the test pool: a real login gets a Secure cookie.
NP=$DIR/nginx-prod
if command -v openssl >/dev/null 2>&1 && pick_port PH_PORT && pick_port PS_PORT; then
    mkdir -p "$NP/tmp" "$NP/logs" "$NP/tls"
    openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 2 \
        -subj /CN=localhost -keyout "$NP/tls/key.pem" -out "$NP/tls/cert.pem" \
        >"$NP/logs/openssl.out" 2>&1
    sed -e "s|@FCGI@|$FCGI|g" -e "s|@STATIC@|$ROOT/nginx/static|g" -e "s|@SERVER_NAME@|localhost|g" \
        -e "s|@SSL_CERT@|$NP/tls/cert.pem|g" -e "s|@SSL_KEY@|$NP/tls/key.pem|g" \
        -e "s|listen 80 default_server;|listen 127.0.0.1:$PH_PORT default_server;|" \
        -e "s|listen 443 ssl default_server;|listen 127.0.0.1:$PS_PORT ssl default_server;|" \
        "$P" >"$NP/stock.conf"
    cat >"$NP/nginx.conf" <<EOF
pid $NP/nginx.pid;
error_log $NP/logs/nginx-error.log;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $NP/logs/nginx-access.log;
    client_body_temp_path $NP/tmp/client_body;
    proxy_temp_path $NP/tmp/proxy;
    fastcgi_temp_path $NP/tmp/fastcgi;
    uwsgi_temp_path $NP/tmp/uwsgi;
    scgi_temp_path $NP/tmp/scgi;
    include $NP/stock.conf;
}
EOF
    if grep -q "127.0.0.1:$PS_PORT ssl" "$NP/stock.conf" &&
        nginx_start "$NP" "$NP/nginx.conf" "127.0.0.1:$PH_PORT" "$NP/logs"; then
        STARTED_NGINX+=("$NP")
        S=https://127.0.0.1:$PS_PORT
        call POST "$S/api/v1/auth/login" -k -H 'Content-Type: application/json' --data-binary "$LB"
        c=$(header Set-Cookie)
        ck "prod nginx over TLS: login 200, the cookie is Secure, HttpOnly, SameSite" \
            '[[ "$R_STATUS" == 200 && "$c" =~ \;\ *Secure(\;|$) && "$c" =~ HttpOnly && "$c" =~ SameSite=(Lax|Strict) ]]'
        sec_headers "prod nginx over TLS: POST /api/v1/auth/login (API 200)" hsts
        call GET "$S/api/v1/me" -k
        sec_headers "prod nginx over TLS: GET /api/v1/me without a session (API 401)" hsts
        call GET "$S/api/v1/no-such-route" -k
        sec_headers "prod nginx over TLS: a 404" hsts
        call GET "$S/" -k
        sec_headers "prod nginx over TLS: GET / (static UI)" hsts
        ui_modules "$S" hsts "prod nginx over TLS"
        call POST "$S/api/v1/products" -k -H 'Content-Type: application/json' --data-binary "@$TMP/big.json"
        ck "prod nginx over TLS: a body over 1 MiB is 413" '[[ "$R_STATUS" == 413 ]]'
        sec_headers "prod nginx over TLS: nginx's own 413" hsts
        printf '%s%*s' "$LB" $((5120 - ${#LB})) "" >"$TMP/login-5k.json"
        call POST "$S/api/v1/auth/login" -k -H 'Content-Type: application/json' \
            --data-binary "@$TMP/login-5k.json"
        ck "prod nginx over TLS: a 5 KiB login body is nginx's own 413 (request body over 4 KiB)" \
            '[[ "$R_STATUS" == 413 && "$(jf .error.code)" == payload_too_large &&
               "$(jf .error.message)" == *"over 4 KiB"* ]]'
        sec_headers "prod nginx over TLS: nginx's own 413 of a login" hsts
        call POST "http://127.0.0.1:$PH_PORT/api/v1/auth/login" -H 'Content-Type: application/json' \
            --data-binary "$LB"
        ck "prod nginx: a login over plain http is redirected to https, no cookie set" \
            '[[ "$R_STATUS" == 301 && -z "$(header Set-Cookie)" ]]'
        nginx_stop "$NP"
    else
        t_not_ok "prod nginx (nginx/stock.prod.conf) starts over TLS in front of the pool" \
            "see $NP/logs/nginx-error.log"
    fi
else
    t_skip "prod nginx over TLS" "openssl is missing (the grep checks above still apply)"
fi

# =============================================================================================
# 4. Bounds
# =============================================================================================
section "4. bounds"
TOKEN=$TA api_file POST /products "$TMP/big.json"
ck "a body of 1 MiB + 1 byte -> 413 payload_too_large (nginx, before any worker)" \
    '[[ "$R_STATUS" == 413 ]] && [[ "$(jf .error.code)" == payload_too_large ]]'
head -c $((1024 * 1024 - 64)) /dev/zero | tr '\0' ' ' >"$TMP/almost.json"
printf '{"name":"x"}' >>"$TMP/almost.json"
TOKEN=$TA api_file POST /uom "$TMP/almost.json"
expect_in "a body just under 1 MiB reaches the worker and is judged on its content" "422"
fcgi_call "$FCGI" POST /api/v1/uom "" "$(cat "$TMP/big.json")" HTTP_AUTHORIZATION="Bearer $TA"
expect "straight to the pool: a body of 1 MiB + 1 byte" 413
# SPEC §9: a login body is at most 4 KiB. Tenant A's own login padded with spaces (valid JSON)
# to 4,096 bytes signs in; one byte more is 413, from nginx itself (its message names 4 KiB)
# and, straight to the pool, from the app (which names 4096 bytes).
printf '%s%*s' "$LB" $((4096 - ${#LB})) "" >"$TMP/login-4096.json"
printf '%s%*s' "$LB" $((4097 - ${#LB})) "" >"$TMP/login-4097.json"
ck "the padded login bodies are 4,096 and 4,097 bytes" \
    '[[ "$(wc -c <"$TMP/login-4096.json") $(wc -c <"$TMP/login-4097.json")" == "4096 4097" ]]'
call POST "$API/auth/login" -H 'Content-Type: application/json' --data-binary "@$TMP/login-4097.json"
ck "a login body of 4,097 bytes -> 413 payload_too_large from nginx (request body over 4 KiB)" \
    '[[ "$R_STATUS" == 413 && "$(jf .error.code)" == payload_too_large &&
       "$(jf .error.message)" == *"over 4 KiB"* ]]'
sec_headers "a login body of 4,097 bytes (nginx's own 413)"
call POST "$API/auth/login" -H 'Content-Type: application/json' --data-binary "@$TMP/login-4096.json"
expect "a login body of 4,096 bytes through nginx signs in" 200
sec_headers "a login through nginx's login location (API 200)"
fcgi_call "$FCGI" POST /api/v1/auth/login "" "$(cat "$TMP/login-4097.json")"
ck "straight to the pool: a login body of 4,097 bytes -> 413 payload_too_large (the app's own)" \
    '[[ "$R_STATUS" == 413 && "$(jf .error.code)" == payload_too_large &&
       "$(jf .error.message)" == *"4096 bytes"* ]]'
fcgi_call "$FCGI" POST /api/v1/auth/login "" "$(cat "$TMP/login-4096.json")"
expect "straight to the pool: a login body of 4,096 bytes signs in" 200
# The reason for the limit: json-c spends ~800 bytes per {}, so a 1 MiB [{},{},...] (under the
# 1 MiB of other routes) parsed would cost a worker hundreds of MB. Refused unread, it costs
# nothing: the workers' peak RSS (VmHWM, which no free() lowers) and RSS stay within 64 MB (ASan's
# allocator moves by some MB on its own; parsed, such bodies cost hundreds).
# workers_kb FIELD: the sum of FIELD (VmHWM, VmRSS; kB) over the pool's workers.
workers_kb()
{
    local k sum=0 v
    for k in $(pool_workers "$POOL"); do
        v=$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$k/status" 2>/dev/null)
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}
{
    printf '['
    head -c $(((1024 * 1024 - 4) / 3)) /dev/zero | sed 's/\x0/{},/g'
    printf '{}]'
} >"$TMP/login-objs.json"
hwm0=$(workers_kb VmHWM)
rss0=$(workers_kb VmRSS)
objs=$(cat "$TMP/login-objs.json")
codes=""
for i in 1 2 3 4; do
    fcgi_call "$FCGI" POST /api/v1/auth/login "" "$objs"
    codes+="$R_STATUS "
done
unset objs
hwm1=$(workers_kb VmHWM)
rss1=$(workers_kb VmRSS)
ck "straight to the pool: a 1 MiB [{},{},...] login body ($(wc -c <"$TMP/login-objs.json") bytes), 4 times -> 413 ($codes)" \
    '[[ "$codes" == "413 413 413 413 " ]]'
ck "the workers' memory did not grow with it (peak $hwm0 -> $hwm1 kB, RSS $rss0 -> $rss1 kB)" \
    '((hwm0 > 0 && hwm1 - hwm0 <= 65536 && rss1 - rss0 <= 65536))'
call GET "$API/me" -H "Cookie: big=$(repeat 65536 a)"
expect_in "a 64 KiB Cookie header" "400 431 494"
call GET "$API/me" -H "X-Filler: $(repeat 20000 b)"
expect_in "a 20 KiB custom header" "400 431 494"
call GET "$API/products?q=$(repeat 9000 a)"
expect_in "a URL over 8 KiB (nginx's own page)" 414
q=""
for i in $(seq 1 10000); do
    q+="p$i=1&"
done
api_as "$TA" GET "/products?$q"
expect_in "10,000 query parameters through nginx (a 90 KB URL)" "414"
fcgi_call "$FCGI" GET /api/v1/products "$q" "" HTTP_AUTHORIZATION="Bearer $TA"
expect_in "straight to the pool: 10,000 query parameters" "400 422"
q=""
for i in $(seq 1 500); do
    q+="p$i=1&"
done
api_as "$TA" GET "/products?$q"
expect_in "500 query parameters (under 8 KiB) through nginx" "400 422"
deep_arr="$(repeat 1000 '[')$(repeat 1000 ']')"
deep_obj="$(repeat 1000 '{"a":')1$(repeat 1000 '}')"
api_as "$TA" POST /uom "$deep_arr"
expect_in "a JSON array nested 1000 deep" "400 422"
api_as "$TA" POST /products "$deep_obj"
expect_in "a JSON object nested 1000 deep" "400 422"
# A login body is at most 4 KiB (the 6 KB above would be 413 there): 600 deep is 3,601 bytes.
deep_login="$(repeat 600 '{"a":')1$(repeat 600 '}')"
call POST "$API/auth/login" -H 'Content-Type: application/json' --data-binary "$deep_login"
expect_in "a login body nested 600 deep (under 4 KiB, before any session)" "400 422"
BADTOK_LONG="s$A_ID.$(repeat 10240 Q)"
call GET "$API/me" -H "Authorization: Bearer $BADTOK_LONG"
expect_in "a 10 KiB Authorization header through nginx (over its 8 KiB header buffer)" "400 431 494"
call GET "$API/me" -H "Authorization: Bearer s$A_ID.$(repeat 6000 Q)"
expect "a 6 KiB Authorization header through nginx" 401 unauthorized
fcgi_call "$FCGI" GET /api/v1/me "" "" "HTTP_AUTHORIZATION=Bearer $BADTOK_LONG"
expect "straight to the pool: a 10 KiB Authorization header" 401 unauthorized
fcgi_call "$FCGI" GET /api/v1/me "" "" "HTTP_COOKIE=stock_session=$(repeat 65536 c)"
expect "straight to the pool: a 64 KiB session cookie" 401 unauthorized
fcgi_call "$FCGI" GET "/api/v1/$(repeat 100000 x)" "" ""
expect_in "straight to the pool: a 100 KB path" "400 404 414"
fcgi_call "$FCGI" POST /api/v1/uom "" '{"name":"x"}' CONTENT_LENGTH=100 HTTP_AUTHORIZATION="Bearer $TA"
expect_in "straight to the pool: a body shorter than its Content-Length" "400"
fcgi_call "$FCGI" POST /api/v1/uom "" '{"name":"x"}' CONTENT_LENGTH=-5 HTTP_AUTHORIZATION="Bearer $TA"
expect_in "straight to the pool: a negative Content-Length" "400"
ck "after all of that: GET /health is 200" '[[ "$(http_status "$BASE/health")" == 200 ]]'
ck "after all of that: the pool master (pid $POOL) is alive" 'pid_alive "$POOL"'
ck "after all of that: the same workers serve (none died: $WORKERS_AT_START)" \
    '[[ -n "$WORKERS_AT_START" && "$(live_workers "$POOL")" == "$WORKERS_AT_START" ]]'

# =============================================================================================
# 5. The login rate limit holds across workers
# =============================================================================================
section "5. rate limit across workers"
# (tests/http/test_api.sh proves it in full; this is the compact check.) 5 pairs of concurrent
# failures, each on its own connection (curl processes), so both workers serve some.
for i in 1 2 3 4 5; do
    for j in 1 2; do
        curl -s -o "$RESP/rl-body-$i-$j.txt" -D "$TMP/rl-h-$i-$j" -w '%{http_code}\n' --max-time 15 \
            -X POST "$API/auth/login" -H 'Content-Type: application/json' \
            --data-binary "$(login_body "$SLUG_L" "$EMAIL_L" "$WRONG_PW")" >>"$TMP/rl-codes" &
    done
    wait
done
ck "10 concurrent failed logins of one client on one tenant are all 401 ($(sort "$TMP/rl-codes" | uniq -c | tr -s ' ' | tr '\n' ','))" \
    '(($(grep -c "^401$" "$TMP/rl-codes") == 10))'
rl_pids=$(for f in "$TMP"/rl-h-*; do
    id=$(tr -d '\r' <"$f" | awk -F': ' 'tolower($1) == "x-request-id" { print $2 }')
    [[ -n "$id" ]] && grep -a "req=$id " "$POOL_LOG" | grep -ao ' pid=[0-9]*' | head -n 1
done | sort -u | tr -d ' ' | tr '\n' ' ')
if grep -aq "sign-in failed" "$POOL_LOG"; then
    ck "those failures were served by both workers ($rl_pids)" '(($(wc -w <<<"$rl_pids") >= 2))'
else
    t_skip "those failures were served by both workers" "the pool logs above info level"
fi
login "$SLUG_L" "$EMAIL_L" "$WRONG_PW-11"
expect "the 11th failure" 429 rate_limited
ck "the 429 carries Retry-After in seconds (1..900)" \
    '[[ "$(header Retry-After)" =~ ^[0-9]+$ ]] && (($(header Retry-After) >= 1 && $(header Retry-After) <= 900))'
login "$SLUG_L" "$EMAIL_L" "$PW_L"
expect "then the right password" 429 rate_limited
ck "the 429 sets no cookie" '[[ -z "$(header Set-Cookie)" ]]'
login "$SLUG_L" "$EMAIL_L" "$PW_L" -H "X-Forwarded-For: 10.1.2.3" -H "X-Real-IP: 10.1.2.3" \
    -H "Forwarded: for=10.1.2.3"
expect "the right password with forged client-address headers" 429 rate_limited
session "$SLUG_B" "$EMAIL_B" "$PW_B"
ck "another tenant still signs in meanwhile" '[[ -n "$S_TOKEN" ]]'

# =============================================================================================
# 6. Tenant isolation on every route
# =============================================================================================
section "6. tenant isolation"
TOKEN=$TA
mk /uom "{\"name\":\"Unit-A$SUF\",\"abbreviation\":\"$LEAK\"}"
A_UOM=$MK_ID
mk /categories "{\"name\":\"Cat-A$SUF\",\"description\":\"desc $LEAK\"}"
A_CAT=$MK_ID
mk /products "{\"sku\":\"SKU-A$SUF\",\"name\":\"Prod $LEAK\",\"category_id\":$A_CAT,\"uom_id\":$A_UOM,\"price\":\"10.00\",\"stock\":\"100\"}"
A_PROD=$MK_ID
mk /sales "{\"customer\":\"Cust $LEAK\",\"items\":[{\"product_id\":$A_PROD,\"quantity\":\"1\"}]}"
A_DRAFT=$MK_ID
mk /sales "{\"customer\":\"Cust2 $LEAK\",\"items\":[{\"product_id\":$A_PROD,\"quantity\":\"2\"}]}"
A_CONF=$MK_ID
api POST "/sales/$A_CONF/confirm"
ck "tenant A confirms a sale" '[[ "$R_STATUS" == 200 ]] && jt ".status == \"confirmed\""'
A_IDEM="idem-a-$SUF"
A_PAY_BODY="{\"sale_id\":$A_CONF,\"amount\":\"2.00\",\"method\":\"cash\",\"reference\":\"Ref $LEAK\"}"
mk /payments "$A_PAY_BODY" -H "Idempotency-Key: $A_IDEM"
A_RIDEM="ridem-a-$SUF"
A_RET_BODY="{\"items\":[{\"product_id\":$A_PROD,\"quantity\":\"1\"}],\"refund\":{\"amount\":\"1.00\",\"method\":\"cash\"},\"note\":\"Note $LEAK\"}"
mk "/sales/$A_CONF/returns" "$A_RET_BODY" -H "Idempotency-Key: $A_RIDEM"
TODAY=$(date -u +%F)
api GET "/balance/series?from=$TODAY&to=$TODAY&granularity=daily"
ck "tenant A's balance series counts its sale" '[[ "$R_STATUS" == 200 ]] && jt ".totals.sales_count >= 1"'
api GET /me
A_ADMIN=$(jf .user.id)
A_USER_PW="PwAu-$SUF-staff"
secret "$A_USER_PW"
mk /users "{\"email\":\"staff@sec-a.test\",\"password\":\"$A_USER_PW\",\"role\":\"staff\"}"
A_USER=$MK_ID

TOKEN=$TB
mk /uom '{"name":"Unit-B","abbreviation":"ub"}'
B_UOM=$MK_ID
mk /categories '{"name":"Cat-B"}'
B_CAT=$MK_ID
mk /products "{\"sku\":\"SKU-B\",\"name\":\"Prod B\",\"category_id\":$B_CAT,\"uom_id\":$B_UOM,\"price\":\"1.00\",\"stock\":\"5\"}"
B_PROD=$MK_ID

# a_snapshot: tenant A's view of its rows (bodies only), to compare before and after.
A_VIEWS=("/uom/$A_UOM" "/categories/$A_CAT" "/products/$A_PROD" "/sales/$A_DRAFT"
    "/sales/$A_CONF" "/payments?sale_id=$A_CONF" /uom /categories /products /sales /payments
    "/stock/movements?product_id=$A_PROD"
    "/balance/series?from=$TODAY&to=$TODAY&granularity=daily" /me /users /tenant)
a_snapshot()
{
    local v
    for v in "${A_VIEWS[@]}"; do
        api_as "$TA" GET "$v"
        printf '%s %s %s\n' "$v" "$R_STATUS" "$R_BODY"
    done
}
SNAP_BEFORE=$(a_snapshot)
ck "tenant A's views all answer 200 and show its marker" \
    '[[ $(grep -c " 200 " <<<"$SNAP_BEFORE") == ${#A_VIEWS[@]} ]] && grep -q "$LEAK" <<<"$SNAP_BEFORE"'

# The route table as the server declares it (stock-fcgi --routes: "METHOD PATH FLAGS" per
# line, FLAGS comma-separated: public or auth, then admin, id, prefetch=MODULE). ROUTES holds
# "METHOD PATH" per line, PUBLIC_ROUTES those of them flagged public.
TABLE=$("$ASAN_POOL" --routes)
rc=$?
ROUTES=$(awk '{ print $1, $2 }' <<<"$TABLE")
PUBLIC_ROUTES=$(awk '$3 ~ /(^|,)public(,|$)/ { print $1, $2 }' <<<"$TABLE")
ck "stock-fcgi --routes lists the route table ($(wc -l <<<"$ROUTES") routes), exit 0" \
    '((rc == 0)) && (($(wc -l <<<"$ROUTES") >= 30)) &&
     ! grep -vqE "^(GET|POST|PUT|PATCH|DELETE) /[^ ]* [a-z=,]+$" <<<"$TABLE"'
# flag_errors TABLE: the routes of TABLE (--routes lines) not flagged exactly one of public
# and auth, or flagged id without {id} in the path (or the other way round).
flag_errors()
{
    awk '{ n = ($3 ~ /(^|,)public(,|$)/) + ($3 ~ /(^|,)auth(,|$)/) }
        n != 1 || ($2 ~ /[{]id[}]/) != ($3 ~ /(^|,)id(,|$)/) { printf "%s %s; ", $1, $2 }' <<<"$1"
}
bad=$(flag_errors "$TABLE")
ck "every route is either public or authenticated, and flagged id where it has {id}${bad:+ (not: $bad)}" \
    '[[ -z "$bad" ]]'
bad=$(flag_errors "$(printf '%s\n' "$TABLE" "GET /api/v1/x id" "GET /api/v1/y public,auth" \
    "GET /api/v1/z/{id} auth")")
ck "the flag check fails on planted routes without auth, with both, without id ($bad)" \
    '[[ "$bad" == "GET /api/v1/x; GET /api/v1/y; GET /api/v1/z/{id}; " ]]'
ck "the public routes are health, metrics and login only" \
    '[[ "$(sort <<<"$PUBLIC_ROUTES" | tr "\n" ";")" == "GET /health;GET /health/cache;GET /health/db;GET /metrics;POST /api/v1/auth/login;" ]]'

# The table: ROUTE (as stock-fcgi --routes lists it) | request path | JSON body or - | extra
# header or - ("fresh": the row uses a fresh session of B, for logout) | expected status(es) |
# jq condition on the body or -. @NAME@ is replaced by the value of variable NAME; @V@ by a suffix
# unique to the variant (so that a create does not collide with the previous variant's).
# Every row runs in each variant:
#   p  B's bearer token
#   h  B's bearer token plus headers that try to pick tenant A: X-Tenant-Id, X-Tenant,
#      X-Tenant-Slug, X-User-Id, X-Forwarded-For, X-Real-IP, Forwarded, X-Forwarded-Host,
#      X-Original-URL, X-Rewrite-URL and a Cookie carrying A's session token
#   c  B's session cookie with its X-CSRF-Token, plus X-Tenant-Id and X-Tenant-Slug of A
#   f  (authenticated routes) a forged token: A's tenant id as prefix, B's random part -> 401
# Expected everywhere: the status of the row, never a 5xx, and nothing of A (its marker) in
# the answer.
ISO_TABLE=$(cat <<'EOF'
GET /health | /health | - | - | 200 | .status == "ok"
GET /health/cache | /health/cache | - | - | 200 | .status != null
GET /health/db | /health/db | - | - | 200 | -
GET /metrics | /metrics | - | - | 200 | -
POST /api/v1/auth/login | /api/v1/auth/login | {"tenant":"@SLUG_A@","email":"@EMAIL_B@","password":"@PW_B@"} | - | 401 | .error.code == "invalid_credentials"
POST /api/v1/auth/login | /api/v1/auth/login | {"tenant":"@SLUG_B@","email":"@EMAIL_B@","password":"@PW_B@"} | - | 200 | .tenant.id == @B_ID@ and .user.email == "@EMAIL_B@"
POST /api/v1/auth/logout | /api/v1/auth/logout | - | fresh | 204 | -
GET /api/v1/me | /api/v1/me | - | - | 200 | .tenant.id == @B_ID@ and .tenant.slug == "@SLUG_B@"
GET /api/v1/me | /api/v1/me?tenant_id=@A_ID@&tenant=@SLUG_A@ | - | - | 200 | .tenant.id == @B_ID@
POST /api/v1/me/password | /api/v1/me/password | {"current_password":"@PW_A@","password":"Hijack-@SUF@-pw","user_id":@A_ADMIN@,"tenant_id":@A_ID@} | - | 422 | -
GET /api/v1/tenant | /api/v1/tenant?tenant_id=@A_ID@&slug=@SLUG_A@ | - | - | 200 | .id == @B_ID@ and .slug == "@SLUG_B@"
PATCH /api/v1/tenant | /api/v1/tenant | {"locale":"en","tenant_id":@A_ID@} | - | 422 | -
PATCH /api/v1/tenant | /api/v1/tenant | {"locale":"en"} | - | 200 | .id == @B_ID@ and .slug == "@SLUG_B@"
GET /api/v1/users | /api/v1/users?tenant_id=@A_ID@ | - | - | 200 | all(.items[]; .id != @A_USER@ and .id != @A_ADMIN@)
POST /api/v1/users | /api/v1/users | {"email":"staff@V@@sec-a.test","password":"PwB-new-@SUF@-x","role":"staff","tenant_id":@A_ID@} | - | 201 | .id != @A_USER@ and .role == "staff"
PATCH /api/v1/users/{id} | /api/v1/users/@A_USER@ | {"disabled":true} | - | 404 | -
PATCH /api/v1/users/{id} | /api/v1/users/@A_ADMIN@ | {"role":"staff","tenant_id":@A_ID@} | - | 404 | -
POST /api/v1/users/{id}/password | /api/v1/users/@A_USER@/password | {"password":"Hijack-@SUF@-pw"} | - | 404 | -
GET /api/v1/uom | /api/v1/uom | - | - | 200 | all(.items[]; .id != @A_UOM@)
GET /api/v1/uom | /api/v1/uom?tenant_id=@A_ID@&tenant=@SLUG_A@&id=@A_UOM@ | - | - | 200 | all(.items[]; .id != @A_UOM@)
POST /api/v1/uom | /api/v1/uom | {"name":"Unit-A@SUF@@V@","abbreviation":"bu","tenant_id":@A_ID@} | - | 201 | .id != @A_UOM@
GET /api/v1/uom/{id} | /api/v1/uom/@A_UOM@ | - | - | 404 | -
PUT /api/v1/uom/{id} | /api/v1/uom/@A_UOM@ | {"name":"hijack","abbreviation":"hj"} | - | 404 | -
PATCH /api/v1/uom/{id} | /api/v1/uom/@A_UOM@ | {"name":"hijack"} | - | 404 | -
PATCH /api/v1/uom/{id} | /api/v1/uom/@B_UOM@ | {"name":"Unit-B","tenant_id":@A_ID@,"id":@A_UOM@} | - | 200 | .id == @B_UOM@
DELETE /api/v1/uom/{id} | /api/v1/uom/@A_UOM@ | - | - | 404 | -
GET /api/v1/categories | /api/v1/categories?tenant_id=@A_ID@ | - | - | 200 | all(.items[]; .id != @A_CAT@)
POST /api/v1/categories | /api/v1/categories | {"name":"Cat-A@SUF@@V@"} | - | 201 | .id != @A_CAT@ and .product_count == 0
GET /api/v1/categories/{id} | /api/v1/categories/@A_CAT@ | - | - | 404 | -
PUT /api/v1/categories/{id} | /api/v1/categories/@A_CAT@ | {"name":"hijack","description":"x"} | - | 404 | -
PATCH /api/v1/categories/{id} | /api/v1/categories/@A_CAT@ | {"description":"hijack"} | - | 404 | -
DELETE /api/v1/categories/{id} | /api/v1/categories/@A_CAT@ | - | - | 404 | -
GET /api/v1/products | /api/v1/products?category_id=@A_CAT@ | - | - | 200 | .total == 0
GET /api/v1/products | /api/v1/products?q=SKU-A@SUF@&stock=all | - | - | 200 | .total == 0
POST /api/v1/products | /api/v1/products | {"sku":"SKU-X@V@","name":"n","uom_id":@A_UOM@,"price":"1.00"} | - | 422 | .error.field == "uom_id"
POST /api/v1/products | /api/v1/products | {"sku":"SKU-Y@V@","name":"n","uom_id":@B_UOM@,"category_id":@A_CAT@,"price":"1.00"} | - | 422 | .error.field == "category_id"
POST /api/v1/products | /api/v1/products | {"sku":"SKU-A@SUF@@V@","name":"n","uom_id":@B_UOM@,"price":"1.00"} | - | 201 | .id != @A_PROD@ and .category == null
GET /api/v1/products/{id} | /api/v1/products/@A_PROD@ | - | - | 404 | -
PUT /api/v1/products/{id} | /api/v1/products/@A_PROD@ | {"sku":"hj","name":"hj","uom_id":@B_UOM@,"price":"0.01"} | - | 404 | -
PUT /api/v1/products/{id} | /api/v1/products/@B_PROD@ | {"sku":"SKU-B","name":"Prod B","uom_id":@A_UOM@,"price":"1.00"} | - | 422 | .error.field == "uom_id"
PATCH /api/v1/products/{id} | /api/v1/products/@A_PROD@ | {"stock":"0"} | - | 404 | -
PATCH /api/v1/products/{id} | /api/v1/products/@B_PROD@ | {"category_id":@A_CAT@} | - | 422 | .error.field == "category_id"
DELETE /api/v1/products/{id} | /api/v1/products/@A_PROD@ | - | - | 404 | -
GET /api/v1/sales | /api/v1/sales | - | - | 200 | .total == 0
GET /api/v1/sales | /api/v1/sales?status=confirmed&tenant_id=@A_ID@ | - | - | 200 | .total == 0
POST /api/v1/sales | /api/v1/sales | {"customer":"x","items":[{"product_id":@A_PROD@,"quantity":"1"}]} | - | 422 | .error.field == "items[0].product_id"
POST /api/v1/sales | /api/v1/sales | {"customer":"x","items":[{"product_id":@B_PROD@,"quantity":"1"},{"product_id":@A_PROD@,"quantity":"1"}]} | - | 422 | .error.field == "items[1].product_id"
GET /api/v1/sales/{id} | /api/v1/sales/@A_DRAFT@ | - | - | 404 | -
GET /api/v1/sales/{id} | /api/v1/sales/@A_CONF@ | - | - | 404 | -
POST /api/v1/sales/{id}/confirm | /api/v1/sales/@A_DRAFT@/confirm | - | - | 404 | -
POST /api/v1/sales/{id}/confirm | /api/v1/sales/@A_DRAFT@/confirm | {"payment":{"amount":"1.00","method":"cash"}} | - | 404 | -
POST /api/v1/sales/{id}/cancel | /api/v1/sales/@A_DRAFT@/cancel | - | - | 404 | -
POST /api/v1/sales/{id}/cancel | /api/v1/sales/@A_CONF@/cancel | - | - | 404 | -
POST /api/v1/sales/{id}/returns | /api/v1/sales/@A_CONF@/returns | {"items":[{"product_id":@A_PROD@,"quantity":"1"}]} | - | 404 | -
POST /api/v1/sales/{id}/returns | /api/v1/sales/@A_CONF@/returns | @A_RET_BODY@ | Idempotency-Key: @A_RIDEM@ | 404 | -
GET /api/v1/payments | /api/v1/payments?sale_id=@A_CONF@ | - | - | 200 | .total == 0
GET /api/v1/payments | /api/v1/payments?tenant_id=@A_ID@&method=cash | - | - | 200 | .total == 0
POST /api/v1/payments | /api/v1/payments | {"sale_id":@A_CONF@,"amount":"1.00","method":"cash"} | - | 422 | .error.field == "sale_id"
POST /api/v1/payments | /api/v1/payments | @A_PAY_BODY@ | Idempotency-Key: @A_IDEM@ | 422 | .error.field == "sale_id"
GET /api/v1/balance/series | /api/v1/balance/series?from=@TODAY@&to=@TODAY@&granularity=daily | - | - | 200 | .totals.sales_count == 0 and .totals.payments_total == "0.00"
GET /api/v1/balance/series | /api/v1/balance/series?from=@TODAY@&to=@TODAY@&granularity=monthly&method=cash&tenant_id=@A_ID@ | - | - | 200 | .totals.sales_count == 0
GET /api/v1/reports/sales | /api/v1/reports/sales?from=@TODAY@&to=@TODAY@&group=product&tenant_id=@A_ID@ | - | - | 200 | all(.items[]; .key.product.id != @A_PROD@)
GET /api/v1/reports/sales | /api/v1/reports/sales?from=@TODAY@&to=@TODAY@&group=category | - | - | 200 | all(.items[]; .key.category == null or .key.category.id != @A_CAT@)
GET /api/v1/stock/movements | /api/v1/stock/movements?product_id=@A_PROD@ | - | - | 200 | .total == 0
GET /api/v1/stock/movements | /api/v1/stock/movements?tenant_id=@A_ID@&kind=sale | - | - | 200 | all(.items[]; .product.id != @A_PROD@)
POST /api/v1/stock/movements | /api/v1/stock/movements | {"product_id":@A_PROD@,"kind":"receipt","quantity":"1"} | - | 422 | .error.field == "product_id"
POST /api/v1/stock/movements | /api/v1/stock/movements | {"product_id":@A_PROD@,"kind":"receipt","quantity":"1","tenant_id":@A_ID@} | Idempotency-Key: @A_IDEM@ | 422 | .error.field == "product_id"
EOF
)

# subst TEXT V: TEXT with every @NAME@ replaced by the value of NAME, and @V@ by V.
subst()
{
    local s=$1 v=$2 name
    s=${s//@V@/$v}
    while [[ "$s" =~ @([A-Z_]+)@ ]]; do
        name=${BASH_REMATCH[1]}
        s=${s//@$name@/${!name}}
    done
    printf '%s' "$s"
}

# trim TEXT: without surrounding blanks.
trim()
{
    local s=$1
    s=${s#"${s%%[![:space:]]*}"}
    s=${s%"${s##*[![:space:]]}"}
    printf '%s' "$s"
}

# route_matches ROUTE PATH: the request PATH (query left out) is one the route pattern serves.
route_matches()
{
    local pat=${1#* } p=${2%%\?*}
    pat=${pat//\{id\}/[1-9][0-9]*}
    [[ "$p" =~ ^$pat$ ]]
}

# iso_missing ROUTES: the routes (one "METHOD PATH" a line) without a row in ISO_TABLE.
iso_missing()
{
    local route
    declare -A rows=()
    while IFS='|' read -r route _; do
        route=$(trim "$route")
        [[ -n "$route" ]] && rows[$route]=1
    done <<<"$ISO_TABLE"
    while IFS= read -r route; do
        [[ -z "$route" || -n "${rows[$route]:-}" ]] || printf '%s; ' "$route"
    done <<<"$1"
}

# Coverage: every route of the table has a row, every row names a route of the table, and each
# row's request path is one its route serves.
while IFS='|' read -r route path _; do
    route=$(trim "$route")
    [[ -n "$route" ]] || continue
    if ! grep -qxF "$route" <<<"$ROUTES"; then
        t_not_ok "isolation table row '$route' names a route of stock-fcgi --routes"
    elif ! route_matches "$route" "$(subst "$(trim "$path")" "")"; then
        t_not_ok "isolation table row '$route': its path $(trim "$path") is served by that route"
    fi
done <<<"$ISO_TABLE"
missing=$(iso_missing "$ROUTES")
ck "the isolation table covers every route of stock-fcgi --routes ($(wc -l <<<"$ROUTES") routes)" \
    '[[ -z "$missing" ]]'
[[ -z "$missing" ]] || echo "    routes without an isolation row: $missing"
# The coverage check can fail: routes added to the table (one, and a resource of six) have no
# row.
PLUS=$(printf '%s\n' "$ROUTES" "GET /api/v1/export"; for m in GET POST; do
    echo "$m /api/v1/suppliers"
done; for m in GET PUT PATCH DELETE; do echo "$m /api/v1/suppliers/{id}"; done)
missing=$(iso_missing "$PLUS")
ck "a route added to the table without an isolation row is caught ($missing)" \
    '[[ "$missing" == *"GET /api/v1/export;"* && "$missing" == *"DELETE /api/v1/suppliers/{id};"* &&
       $(grep -o ";" <<<"$missing" | wc -l) == 7 ]]'

HOSTILE=(-H "X-Tenant-Id: $A_ID" -H "X-Tenant: $SLUG_A" -H "X-Tenant-Slug: $SLUG_A"
    -H "X-User-Id: 1" -H "X-Forwarded-For: 10.66.0.1" -H "X-Real-IP: 10.66.0.1"
    -H "Forwarded: for=10.66.0.1;host=$SLUG_A.example" -H "X-Forwarded-Host: $SLUG_A.example"
    -H "X-Original-URL: /api/v1/uom/$A_UOM" -H "X-Rewrite-URL: /api/v1/uom/$A_UOM"
    -H "Cookie: stock_session=$TA")
FORGED="s$A_ID.${TB#*.}"
secret "$FORGED"

# iso_run ROW ROUTE PATH BODY EXTRA EXPECT COND VARIANT: row ROW in one variant, one check.
iso_run()
{
    local row=$1
    shift
    local route=$1 path=$2 body=$3 extra=$4 expect=$5 cond=$6 v=$7 m=${1%% *} tok=$TB
    local csrf=$CSRF_B args=() why="" public=0
    grep -qxF "$route" <<<"$PUBLIC_ROUTES" && public=1
    if [[ "$extra" == fresh ]]; then
        session "$SLUG_B" "$EMAIL_B" "$PW_B"
        tok=$S_TOKEN
        csrf=$S_CSRF
        extra=-
    fi
    case $v in
    p) args=(-H "Authorization: Bearer $tok") ;;
    h) args=(-H "Authorization: Bearer $tok" "${HOSTILE[@]}") ;;
    c) args=(-H "Cookie: stock_session=$tok" -H "X-CSRF-Token: $csrf" -H "X-Tenant-Id: $A_ID"
        -H "X-Tenant-Slug: $SLUG_A") ;;
    f)
        args=(-H "Authorization: Bearer s$A_ID.${tok#*.}" -H "X-Tenant-Id: $A_ID")
        expect=401
        cond=-
        ;;
    esac
    [[ "$extra" != - ]] && args+=(-H "$extra")
    [[ "$body" != - ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    call "$m" "$BASE$path" "${args[@]}"
    if [[ "|$expect|" != *"|$R_STATUS|"* ]]; then
        why="got $R_STATUS, want $expect"
    elif grep -qF "$LEAK" <<<"$R_BODY$R_HEADERS"; then
        why="the answer holds tenant A's data"
    elif [[ "$R_STATUS" == 2* && "$cond" != - ]] && ! jt "$cond"; then
        why="the body fails: $cond"
    elif [[ "$R_STATUS" != 2* && $public == 0 ]] && ! jt '.error.code | type == "string"'; then
        why="not an error object"
    fi
    if [[ -z "$why" ]]; then
        t_ok "isolation #$row [$v] $m $path -> $R_STATUS"
    else
        t_not_ok "isolation #$row [$v] $m $path" "$why: $(snip)"
    fi
}

NROWS=0
while IFS='|' read -r route path body extra expect cond; do
    route=$(trim "$route")
    [[ -n "$route" ]] || continue
    NROWS=$((NROWS + 1))
    variants="p h c f"
    grep -qxF "$route" <<<"$PUBLIC_ROUTES" && variants="p h"
    for v in $variants; do
        iso_run "$NROWS" "$route" "$(subst "$(trim "$path")" "-$v")" "$(subst "$(trim "$body")" "-$v")" \
            "$(subst "$(trim "$extra")" "-$v")" "$(trim "$expect")" \
            "$(subst "$(trim "$cond")" "-$v")" "$v"
    done
done <<<"$ISO_TABLE"
echo "# $NROWS isolation rows"

SNAP_AFTER=$(a_snapshot)
ck "tenant A's rows, lists, balance and session are unchanged after all of B's attempts" \
    '[[ "$SNAP_AFTER" == "$SNAP_BEFORE" ]]'
if [[ "$SNAP_AFTER" != "$SNAP_BEFORE" ]]; then
    diff <(printf '%s\n' "$SNAP_BEFORE") <(printf '%s\n' "$SNAP_AFTER") | head -n 10 | sed 's/^/    /'
fi
api_as "$TB" GET /me
ck "tenant B's own session survived the logouts of its other sessions" '[[ "$R_STATUS" == 200 ]]'
api_as "$TB" GET /uom
ck "tenant B's unit list holds its own rows only (the ones it created here)" \
    '[[ "$R_STATUS" == 200 ]] && jt "all(.items[]; .id != $A_UOM) and .total >= 2"'
api_as "$FORGED" GET /me
expect "B's random part under A's tenant prefix" 401 unauthorized

# =============================================================================================
# 7. Secrets: in no response, not in /metrics, not in any log
# =============================================================================================
section "7. secrets"
BADTOK="s$A_ID.$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | head -c 43)"
secret "$BADTOK"
call POST "$API/auth/login" -H 'Content-Type: application/json' \
    --data-binary "$(login_body "$SLUG_A" "$EMAIL_A" "$WRONG_PW")"
expect "a wrong password" 401 invalid_credentials
call POST "$API/auth/login" -H 'Content-Type: application/json' \
    --data-binary "$(login_body "no-such-$SUF" "$EMAIL_A" "$PW_A")"
expect "the right password on an unknown tenant" 401 invalid_credentials
call POST "$API/auth/login" -H 'Content-Type: application/json' \
    --data-binary "{\"tenant\":\"$SLUG_A\",\"email\":\"$EMAIL_A\",\"password\":\"$PW_A\",\"password\":\"$WRONG_PW\"}"
expect_in "a login with the password twice" "200 400 401 422"
call POST "$API/auth/login" -H 'Content-Type: text/plain' \
    --data-binary "$(login_body "$SLUG_A" "$EMAIL_A" "$PW_A")"
expect "a login that is not application/json" 415
call POST "$API/auth/login" -H 'Content-Type: application/json' \
    --data-binary "{\"tenant\":\"$SLUG_A\",\"email\":\"$EMAIL_A\",\"password\":\"$PW_A"
expect "a truncated login body holding the password" 400
call POST "$API/auth/login" -H 'Content-Type: application/json' \
    --data-binary "{\"tenant\":\"$SLUG_A\",\"email\":\"$EMAIL_A\",\"password\":\"$PW_A$(repeat 200 x)\"}"
expect_in "a password over the length limit" "401 422"
api_as "$BADTOK" GET /me
expect "a made-up token" 401 unauthorized
call GET "$API/me" -H "Cookie: stock_session=$BADTOK"
expect "a made-up token as cookie" 401 unauthorized
call GET "$API/me" -H "Authorization: Bearer $TA$TA"
expect "a real token doubled" 401 unauthorized
call POST "$API/uom" -H "Cookie: stock_session=$TA" -H 'Content-Type: application/json' \
    --data-binary '{"name":"n","abbreviation":"a"}'
expect "a cookie-authenticated write without X-CSRF-Token" 403 csrf_failed
api_as "$TA" GET "/uom/999999999"
expect "an unknown id" 404
api_as "$TA" POST /uom '{"name":""}'
expect "a blank name" 422
call DELETE "$API/auth/login"
expect "a wrong method" 405
for p in /health /health/cache /health/db /metrics; do
    call GET "$BASE$p"
    ck "GET $p is 200" '[[ "$R_STATUS" == 200 ]]'
done
METRICS=$R_BODY
ck "GET /metrics holds no tenant data (A's marker)" '! grep -qF "$LEAK" <<<"$METRICS"'
ck "GET /metrics holds no password, token or hash" \
    '! grep -qF -f "$S_ALWAYS" <<<"$METRICS" && ! grep -qF -f "$S_TOKENS" <<<"$METRICS" &&
     ! grep -qF "\$argon2" <<<"$METRICS"'
ck "GET /metrics labels are route names and statuses only" \
    '! grep -E "^[a-z_]+\{" <<<"$METRICS" | grep -vqE "^[a-z_]+\{([a-z_]+=\"[A-Za-z0-9_.+-]*\",?)+\} "'

# Two private pools that log everything (LOG_LEVEL=debug). Pool S: PostgreSQL with a password
# in DATABASE_URL (trust auth accepts it), a Redis that requires a password given both in
# REDIS_URL and in REDIS_PASSWORD (which wins). Pool D: the same with both servers unreachable.
DB_PW="DbPw-$SUF-$RANDOM"
DB_PW2="DbPw2-$SUF-$RANDOM"
REDIS_PW="RedisPw-$SUF-$RANDOM"
REDIS_URL_PW="RedisUrlPw-$SUF-$RANDOM"
REDIS_PW2="RedisPw2-$SUF-$RANDOM"
secret "$DB_PW" "$DB_PW2" "$REDIS_PW" "$REDIS_URL_PW" "$REDIS_PW2"
# with_db_password URL PASSWORD: URL with PASSWORD as its password (one it has is kept and
# recorded as a secret).
with_db_password()
{
    if [[ "$1" =~ ^(postgres(ql)?://)([^:@/]+):([^@/]+)@(.*)$ ]]; then
        secret "${BASH_REMATCH[4]}"
        printf '%s' "$1"
    elif [[ "$1" =~ ^(postgres(ql)?://)([^:@/]+)@(.*)$ ]]; then
        printf '%s%s:%s@%s' "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]}" "$2" "${BASH_REMATCH[4]}"
    else
        printf '%s password=%s' "$1" "$2"
    fi
}
[[ "$REDIS_URL" =~ ^redis://:([^@]+)@ ]] && secret "${BASH_REMATCH[1]}"

SP_LOG=$DIR/logs/stock-fcgi-secrets.log
DP_LOG=$DIR/logs/stock-fcgi-secrets-down.log
if pick_port SP_PORT && pick_port DP_PORT && pick_port AUTH_REDIS_PORT && pick_port CLOSED1 &&
    pick_port CLOSED2; then
    AUTH_REDIS_DIR=$DIR/redis-auth
    AUTH_REDIS_PW=$REDIS_PW
    if REDISCLI_AUTH=$REDIS_PW redis_start "$AUTH_REDIS_DIR" "$AUTH_REDIS_PORT" --requirepass "$REDIS_PW"; then
        t_ok "a Redis that requires a password runs on :$AUTH_REDIS_PORT"
    else
        t_not_ok "a Redis that requires a password starts"
    fi
    if pool_start "$ASAN_POOL" "127.0.0.1:$SP_PORT" "$SP_LOG" "$DIR/run/stock-fcgi-secrets.pid" \
        STOCK_WORKERS=1 LOG_LEVEL=debug DATABASE_URL="$(with_db_password "$DATABASE_URL" "$DB_PW")" \
        REDIS_URL="redis://:$REDIS_URL_PW@127.0.0.1:$AUTH_REDIS_PORT/0" REDIS_PASSWORD="$REDIS_PW"; then
        SP_PID=$(pid_from_file "$DIR/run/stock-fcgi-secrets.pid")
        STARTED_POOLS+=("$SP_PID")
        SPA=127.0.0.1:$SP_PORT
        fcgi_call "$SPA" GET /health/cache "" ""
        ck "pool S: /health/cache is ok (REDIS_PASSWORD authenticates; it wins over the URL's)" \
            '[[ "$R_STATUS" == 200 ]] && jt ".status == \"ok\""'
        ck "pool S: /health/cache shows no password and no Redis URL" \
            '! grep -qF -e "$REDIS_PW" -e "$REDIS_URL_PW" -e "redis://" <<<"$R_BODY$R_HEADERS"'
        fcgi_call "$SPA" GET /health/db "" ""
        ck "pool S: /health/db is 200 and shows no password and no database URL" \
            '[[ "$R_STATUS" == 200 ]] && ! grep -qF -e "$DB_PW" -e "postgres://" -e "postgresql://" <<<"$R_BODY"'
        fcgi_call "$SPA" POST /api/v1/auth/login "" "$(login_body "$SLUG_A" "$EMAIL_A" "$PW_A")"
        T_SP=$(jf .token)
        ck "pool S: sign-in 200" '[[ "$R_STATUS" == 200 && -n "$T_SP" ]]'
        fcgi_call "$SPA" POST /api/v1/auth/login "" "$(login_body "$SLUG_A" "$EMAIL_A" "$WRONG_PW")"
        expect "pool S: a wrong password" 401
        for v in 1 2; do
            fcgi_call "$SPA" GET /api/v1/uom "" "" HTTP_AUTHORIZATION="Bearer $T_SP"
            ck "pool S: GET /uom ($v) is 200 through the cache (X-Cache $(header X-Cache))" \
                '[[ "$R_STATUS" == 200 && "$(header X-Cache)" =~ ^(MISS|HIT)$ ]]'
        done
        fcgi_call "$SPA" GET /api/v1/me "" "" HTTP_COOKIE="stock_session=$T_SP"
        expect "pool S: GET /me by cookie" 200
        fcgi_call "$SPA" GET /api/v1/me "" "" HTTP_AUTHORIZATION="Bearer $BADTOK"
        expect "pool S: a made-up token" 401
        fcgi_call "$SPA" POST /api/v1/uom "" '{}' HTTP_AUTHORIZATION="Bearer $T_SP"
        expect "pool S: an invalid body" 422
        fcgi_call "$SPA" GET /metrics "" ""
        ck "pool S: /metrics holds no secret" \
            '[[ "$R_STATUS" == 200 ]] && ! grep -qF -f "$S_ALWAYS" <<<"$R_BODY" && ! grep -qF -f "$S_TOKENS" <<<"$R_BODY"'
        fcgi_call "$SPA" POST /api/v1/auth/logout "" "" HTTP_AUTHORIZATION="Bearer $T_SP"
        expect "pool S: logout" 204
        pool_stop "$SP_PID" 20
        ck "pool S logged at debug level (the requests and the cache are in its log)" \
            'grep -aq "level=debug" "$SP_LOG" && grep -aq "route=" "$SP_LOG"'
    else
        t_not_ok "pool S (debug, passwords in the URLs) starts" "see $SP_LOG"
    fi
    if pool_start "$ASAN_POOL" "127.0.0.1:$DP_PORT" "$DP_LOG" "$DIR/run/stock-fcgi-secrets-down.pid" \
        STOCK_WORKERS=1 LOG_LEVEL=debug REDIS_CONNECT_TIMEOUT=1 \
        DATABASE_URL="postgresql://postgres:$DB_PW2@127.0.0.1:$CLOSED1/stock?connect_timeout=2" \
        REDIS_URL="redis://:$REDIS_PW2@127.0.0.1:$CLOSED2/0"; then
        DP_PID=$(pid_from_file "$DIR/run/stock-fcgi-secrets-down.pid")
        STARTED_POOLS+=("$DP_PID")
        DPA=127.0.0.1:$DP_PORT
        fcgi_call "$DPA" GET /health/db "" ""
        expect_in "pool D: /health/db with PostgreSQL unreachable" 503
        fcgi_call "$DPA" GET /health/cache "" ""
        ck "pool D: /health/cache is degraded and shows no password or URL" \
            '[[ "$R_STATUS" == 200 ]] && jt ".status == \"degraded\"" &&
             ! grep -qF -e "$REDIS_PW2" -e "redis://" <<<"$R_BODY"'
        fcgi_call "$DPA" POST /api/v1/auth/login "" "$(login_body "$SLUG_A" "$EMAIL_A" "$PW_A")"
        ck "pool D: a sign-in is 503 and shows no password" \
            '[[ "$R_STATUS" == 503 ]] && ! grep -qF -e "$PW_A" -e "$DB_PW2" <<<"$R_BODY"'
        fcgi_call "$DPA" GET /metrics "" ""
        expect "pool D: /metrics" 200
        pool_stop "$DP_PID" 20
        ck "pool D logged the connection failures (the error paths ran)" \
            'grep -aqi "cannot connect to database" "$DP_LOG"'
    else
        t_not_ok "pool D (servers unreachable, passwords in the URLs) starts" "see $DP_LOG"
    fi
    REDISCLI_AUTH=$REDIS_PW redis_stop "$AUTH_REDIS_DIR" "$AUTH_REDIS_PORT"
    AUTH_REDIS_DIR=""
fi

# Every response this suite got (headers and bodies, through nginx and straight to the
# pools, /metrics and /health included): no password, no database or Redis password, no
# made-up token shown back, no argon2 hash; session tokens only in the login that issued them.
sort -u -o "$S_ALWAYS" "$S_ALWAYS"
sort -u -o "$S_TOKENS" "$S_TOKENS"
# resp_leaks DIR: the files of DIR (at most 5 named) that hold a secret, a session token (but
# login-* files, the sign-ins that issued one) or an argon2 hash.
resp_leaks()
{
    {
        grep -rlF -f "$S_ALWAYS" "$1"
        find "$1" -type f ! -name 'login-*' -print0 | xargs -0 -r grep -lF -f "$S_TOKENS"
        grep -rlF "\$argon2" "$1"
    } | sort -u | head -n 5 | sed "s|^$1/||" | tr '\n' ' '
}
nresp=$(find "$RESP" -type f | wc -l)
leaks=$(resp_leaks "$RESP")
ck "none of the $nresp responses holds a password, a database/Redis password, a made-up token, a token not its own or an argon2 hash ($leaks)" \
    '((nresp > 100)) && (($(wc -l <"$S_TOKENS") >= 10)) && [[ -z "$leaks" ]]'
ck "no response holds SQL or a stack trace" \
    '! grep -lqE "(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM) |sqlstate|ERROR: |AddressSanitizer" -r "$RESP"'
# The response scan can fail: planted responses with a password, a token, a hash.
mkdir -p "$TMP/resp"
printf '200\n\n{"echo":"%s"}\n' "$PW_B" >"$TMP/resp/api-1.txt"
printf '200\n\n{"token":"%s"}\n' "$TA" >"$TMP/resp/api-2.txt"
printf '200\n\n{"token":"%s"}\n' "$TA" >"$TMP/resp/login-3.txt"
printf '200\n\n{"h":"$argon2id$v=19$m=1"}\n' >"$TMP/resp/api-4.txt"
leaks=$(resp_leaks "$TMP/resp")
ck "the response scan finds planted leaks (got: $leaks)" '[[ "$leaks" == "api-1.txt api-2.txt api-4.txt " ]]'

# The logs of the whole run so far: the main pool, nginx (dev and prod), PostgreSQL, Redis,
# the private pools; no secret of this suite, no argon2 hash (tests/security/scan_logs.sh).
cat "$S_ALWAYS" "$S_TOKENS" >"$DIR/secrets.list"
scan=$(bash "$ROOT/tests/security/scan_logs.sh" "$RUNDIR" "$DIR/secrets.list" 2>&1)
while IFS= read -r line; do
    case $line in
    "ok - "*) t_ok "logs: ${line#ok - }" ;;
    "not ok - "*) t_not_ok "logs: ${line#not ok - }" ;;
    esac
done <<<"$scan"
ck "the log scan covered the pool log, nginx's and PostgreSQL's" \
    'grep -q "ok - logs/stock-fcgi.log " <<<"$scan" && grep -q "ok - logs/nginx-access.log " <<<"$scan" &&
     grep -q "ok - logs/postgresql.log " <<<"$scan"'
# The scan must be able to fail: a planted log line with a secret is found.
mkdir -p "$TMP/scan"
printf 'level=info token=%s\n' "$TA" >"$TMP/scan/planted.log"
printf 'level=info hash=$argon2id$v=19$m=65536,t=2,p=1$abc$def\n' >"$TMP/scan/hash.log"
bash "$ROOT/tests/security/scan_logs.sh" "$TMP/scan" "$DIR/secrets.list" >"$TMP/scan.out" 2>&1
rc=$?
ck "scan_logs.sh fails on a planted token and a planted argon2 hash" \
    '((rc == 1)) && grep -q "^RESULT secrets passed=1 failed=2 skipped=0$" "$TMP/scan.out" &&
     ! grep -qF "$TA" "$TMP/scan.out"'

ck "no request of this suite through nginx was answered 5xx or went unanswered${FIVEXX:+ ($FIVEXX)}" \
    '[[ -z "$FIVEXX" ]]'
ck "the main pool master is alive and its workers are the ones of the start" \
    'pid_alive "$POOL" && [[ "$(live_workers "$POOL")" == "$WORKERS_AT_START" ]]'

t_result "$SUITE"
