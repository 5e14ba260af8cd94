#!/usr/bin/env bash
# test_users.sh: the users of SPEC §10 through nginx against the run's PostgreSQL and Redis:
# GET/POST /users, PATCH /users/{id}, POST /users/{id}/password, POST /me/password with their
# shapes and rules (emails lower-cased and checked, duplicates 409, passwords 10 to 256
# characters and not the email, 422 naming the field); staff refused (403); tenants isolated
# (404); a disabled user cannot sign in and their sessions end at once (also when only the
# column changed and a session row survived); a password set by an admin ends all of that
# user's sessions, one changed by its owner all but the caller's; a role change applies to live
# sessions at once; the cached list (module users) is never stale after a write; the last
# active admin can be neither demoted nor disabled (409 last_admin), also when two admins demote
# (or disable) each other at the same moment: both requests are made to wait on the tenant's
# admin rows (a lock held by psql, released once both wait), then exactly one succeeds.
# Environment from tests/run_all.sh: STOCK_TEST_BASE_URL, STOCK_TEST_DIR, DATABASE_URL.
# Needs jq, curl, psql.
# ck evaluates single-quoted conditions (SC2016).
# shellcheck disable=SC2016
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"

BASE=${STOCK_TEST_BASE_URL:?run through tests/run_all.sh}
RUNDIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}
: "${DATABASE_URL:?run through tests/run_all.sh}"
API=$BASE/api/v1
STOCKCTL=$ROOT/build/release/stockctl
SUITE=test_users
SUF=$$-$RANDOM
TMP=$RUNDIR/users-test
rm -rf "$TMP"
mkdir -p "$TMP"
LOCK_PID=""

for tool in jq curl psql; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        t_not_ok "$tool is installed (deploy/deps.sh installs it)"
        t_result "$SUITE"
        exit 1
    fi
done

cleanup()
{
    exec 7>&- 2>/dev/null
    [[ -n "$LOCK_PID" ]] && stop_pid "$LOCK_PID" 5 TERM
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

. "$ROOT/tests/lib/api.sh"

setup_failed()
{
    t_result "$SUITE"
    exit 1
}

# q SQL: one value (or rows, '|'-separated) from the database.
q()
{
    psql -X -At "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "$1"
}

# alive TOKEN: GET /me with TOKEN answers 200.
alive()
{
    api_as "$1" GET /me
    [[ "$R_STATUS" == 200 ]]
}

# login_as EMAIL PASSWORD: a session of tenant A; sets S_TOKEN (empty on failure).
login_as()
{
    session "$SLUG_A" "$1" "$2" || S_TOKEN=""
}

# user_body EMAIL PASSWORD [ROLE]: the JSON of POST /users.
user_body()
{
    if (($# > 2)); then
        jq -cn --arg e "$1" --arg p "$2" --arg r "$3" '{email: $e, password: $p, role: $r}'
    else
        jq -cn --arg e "$1" --arg p "$2" '{email: $e, password: $p}'
    fi
}

# pw_body PASSWORD: {"password": PASSWORD}; me_body CURRENT NEW: the JSON of POST /me/password.
pw_body()
{
    jq -cn --arg p "$1" '{password: $p}'
}
me_body()
{
    jq -cn --arg c "$1" --arg p "$2" '{current_password: $c, password: $p}'
}

# ---------------------------------------------------------------------------------------------
section "tenants"
SLUG_A=users-a-$SUF
SLUG_B=users-b-$SUF
PW_A=users-admin-a-$SUF
PW_B=users-admin-b-$SUF
ADMIN_A=admin@users-a.test
ADMIN_B=admin@users-b.test
new_tenant "$SLUG_A" "Users A" "$ADMIN_A" "$PW_A" || setup_failed
A_ID=$NT_ID
new_tenant "$SLUG_B" "Users B" "$ADMIN_B" "$PW_B" || setup_failed
login_as "$ADMIN_A" "$PW_A"
TA=$S_TOKEN
session "$SLUG_B" "$ADMIN_B" "$PW_B"
TB=$S_TOKEN
[[ -n "$TA" && -n "$TB" ]] || setup_failed
TOKEN=$TA
api GET /me
A1=$(jf .user.id)
ck "GET /me shows the admin's role" '[[ $R_STATUS == 200 ]] && jt ".user.role == \"admin\""'

# ---------------------------------------------------------------------------------------------
section "create and list"
PW_S=staff-one-$SUF-pw
api POST /users "$(user_body "Staff.One@Users-A.TEST" "$PW_S" staff)"
expect "POST /users" 201
S1=$(jf .id)
ck "the user's shape is id, email, role, disabled, created_at, updated_at" \
    'jt "keys == [\"created_at\",\"disabled\",\"email\",\"id\",\"role\",\"updated_at\"]"'
ck "the email is lower-cased, the role staff, not disabled, timestamps with offset" \
    'jt ".email == \"staff.one@users-a.test\" and .role == \"staff\" and .disabled == false
        and (.created_at | test(\"[+-][0-9]{2}:[0-9]{2}$\"))"'
ck "the answer holds no password or hash" '! grep -qiE "password|argon" <<<"$R_BODY"'
login_as "staff.one@users-a.test" "$PW_S"
ck "the new user signs in" '[[ -n "$S_TOKEN" ]]'
T_S1=$S_TOKEN
api_as "$T_S1" GET /me
ck "GET /me shows the staff role" '[[ $R_STATUS == 200 ]] && jt ".user.role == \"staff\" and .user.id == $S1"'

api POST /users "$(jq -cn --arg p "no-role-$SUF-pw" '{email: "norole@users-a.test", password: $p}')"
ck "POST /users without role: 201 staff" '[[ $R_STATUS == 201 ]] && jt ".role == \"staff\""'
api GET /users
ck "GET /users lists the tenant's 3 users by id, with their shape" \
    '[[ $R_STATUS == 200 ]] && jt ".total == 3 and (.items | length) == 3 and .items[0].id == $A1
        and ([.items[].id] == ([.items[].id] | sort)) and all(.items[]; has(\"disabled\"))"'
warm /users
api POST /users "$(user_body "second@users-a.test" "second-$SUF-pw" admin)"
expect "POST /users an admin" 201
A2=$(jf .id)
api GET /users
ck "after a create the list (cached) shows it at once" \
    '[[ $R_STATUS == 200 ]] && jt "any(.items[]; .id == $A2 and .role == \"admin\") and .total == 4"'
PW_A2=second-$SUF-pw

section "validation"
api POST /users "$(user_body "STAFF.one@users-a.test" "another-$SUF-pw")"
expect "a duplicate email, whatever its case" 409 conflict email
for e in "no-at-sign" "@users-a.test" "a@" "two@at@x.test" "sp ace@x.test" "tab	x@y.test" \
    "ümlaut@x.test" "ab"; do
    api POST /users "$(user_body "$e" "valid-pass-$SUF")"
    expect "email '$e'" 422 "" email
done
api POST /users "$(user_body "$(printf 'a%.0s' {1..250})@x.test" "valid-pass-$SUF")"
expect "an email of 257 characters" 422 "" email
api POST /users "$(jq -cn '{password: "valid-pass-1234"}')"
expect "no email" 422 "" email
api POST /users "$(jq -cn '{email: "nopw@users-a.test"}')"
expect "no password" 422 "" password
api POST /users "$(user_body "short@users-a.test" "123456789")"
expect "a password of 9 characters" 422 "" password
api POST /users "$(user_body "ten@users-a.test" "1234567890")"
expect "a password of 10 characters" 201
api POST /users "$(user_body "long@users-a.test" "$(printf 'p%.0s' {1..257})")"
expect "a password of 257 characters" 422 "" password
LONG_PW=$(printf 'q%.0s' {1..256})
api POST /users "$(user_body "long@users-a.test" "$LONG_PW")"
expect "a password of 256 characters" 201
login_as "long@users-a.test" "$LONG_PW"
ck "a user with a 256-character password signs in" '[[ -n "$S_TOKEN" ]]'
api POST /users "$(user_body "utf@users-a.test" "ééééééééé")"
expect "9 two-byte characters" 422 "" password
api POST /users "$(user_body "utf@users-a.test" "éééééééééé")"
expect "10 two-byte characters (20 bytes)" 201
api POST /users "$(user_body "Same.As.Email@Users-A.test" "SAME.AS.EMAIL@users-a.TEST")"
expect "a password that is the email (other case)" 422 "" password
api POST /users "$(user_body "role@users-a.test" "valid-pass-$SUF" boss)"
expect "role 'boss'" 422 "" role
api POST /users "$(jq -cn '{email: "x@users-a.test", password: 1234567890}')"
expect "a password that is not a string" 422 "" password
api PATCH "/users/$S1" '{"role":"Admin"}'
expect "PATCH role 'Admin'" 422 "" role
api PATCH "/users/$S1" '{"disabled":"yes"}'
expect "PATCH disabled 'yes'" 422 "" disabled
api PATCH "/users/$S1" '{"disabled":null}'
expect "PATCH disabled null" 422 "" disabled
api PATCH /users/999999999 '{"role":"staff"}'
expect "PATCH an unknown id" 404
api PATCH /users/abc '{"role":"staff"}'
expect "PATCH a non-numeric id" 404
api POST /users/999999999/password "$(pw_body "valid-pass-$SUF")"
expect "set the password of an unknown id" 404
api POST "/users/$S1/password" "$(pw_body "short")"
expect "set a short password" 422 "" password
api POST "/users/$S1/password" "$(pw_body "STAFF.ONE@users-a.test")"
expect "set the email as password" 422 "" password
ck "the refused resets ended no session" 'alive "$T_S1"'
api POST "/users/$S1/password" 'not json'
expect "a body that is not JSON" 400

# ---------------------------------------------------------------------------------------------
section "staff and other tenants"
for r in "GET /users" "POST /users" "PATCH /users/$S1" "POST /users/$S1/password" \
    "PATCH /users/$A1"; do
    m=${r%% *}
    p=${r#* }
    if [[ $m == GET ]]; then
        api_as "$T_S1" GET "$p"
    elif [[ $p == */password ]]; then
        api_as "$T_S1" "$m" "$p" "$(pw_body "staff-hijack-$SUF")"
    elif [[ $m == PATCH ]]; then
        api_as "$T_S1" "$m" "$p" '{"role":"admin"}'
    else
        api_as "$T_S1" "$m" "$p" "$(user_body "evil@users-a.test" "staff-hijack-$SUF" admin)"
    fi
    expect "staff $r" 403 forbidden
done
api_as "$T_S1" GET /me
ck "staff stays staff" 'jt ".user.role == \"staff\""'
api GET /users
ck "nothing the staff user tried changed the users" \
    'jt "(.items | map(select(.email == \"evil@users-a.test\")) | length) == 0 and
         any(.items[]; .id == $A1 and .role == \"admin\" and .disabled == false)"'

api_as "$TB" GET /users
ck "tenant B's list holds only its own user" \
    '[[ $R_STATUS == 200 ]] && jt ".total == 1 and .items[0].email == \"$ADMIN_B\""'
api_as "$TB" PATCH "/users/$S1" '{"disabled":true}'
expect "tenant B disables A's user" 404
api_as "$TB" PATCH "/users/$A1" '{"role":"staff"}'
expect "tenant B demotes A's admin" 404
api_as "$TB" POST "/users/$S1/password" "$(pw_body "b-hijack-$SUF-pw")"
expect "tenant B sets A's user's password" 404
api_as "$TB" POST /users "$(user_body "staff.one@users-a.test" "b-own-$SUF-pw")"
expect "tenant B may have a user with A's user's email" 201
ck "A's user is untouched and still signed in" 'alive "$T_S1"'
login_as "staff.one@users-a.test" "$PW_S"
ck "A's user still signs in with their password" '[[ -n "$S_TOKEN" ]]'

# ---------------------------------------------------------------------------------------------
section "disable ends the sessions at once"
login_as "staff.one@users-a.test" "$PW_S"
T_S1B=$S_TOKEN
# Both sessions read (so cached) right before.
alive "$T_S1" && alive "$T_S1B" && alive "$T_S1"
ck "the staff user has two live sessions" 'alive "$T_S1" && alive "$T_S1B"'
warm /users
api PATCH "/users/$S1" '{"disabled":true}'
expect "PATCH disabled true" 200
ck "the answer says disabled" 'jt ".disabled == true and .id == $S1"'
api_as "$T_S1" GET /me
expect "the disabled user's first session right after" 401 unauthorized
api_as "$T_S1B" GET /me
expect "their second session" 401 unauthorized
ck "their session rows are gone" '[[ "$(q "SELECT count(*) FROM sessions WHERE tenant_id = $A_ID AND user_id = $S1")" == 0 ]]'
login "$SLUG_A" "staff.one@users-a.test" "$PW_S"
expect "the disabled user signs in with the right password" 401 invalid_credentials
DISABLED_BODY=$(jf -c .error)
login "$SLUG_A" "staff.one@users-a.test" "wrong-$SUF-pw"
ck "the same answer as a wrong password" '[[ "$DISABLED_BODY" == "$(jf -c .error)" ]]'
api GET /users
ck "the cached list shows the user disabled at once" \
    'jt "any(.items[]; .id == $S1 and .disabled == true)"'
api PATCH "/users/$S1" '{"disabled":false}'
ck "PATCH disabled false: 200 enabled" '[[ $R_STATUS == 200 ]] && jt ".disabled == false"'
ck "the old sessions stay ended" '! alive "$T_S1" && ! alive "$T_S1B"'
login_as "staff.one@users-a.test" "$PW_S"
ck "the enabled user signs in again" '[[ -n "$S_TOKEN" ]]'
T_S1=$S_TOKEN

# A session row that survives a disable (here the column is set by hand) is refused too.
login_as "staff.one@users-a.test" "$PW_S"
T_S1C=$S_TOKEN
alive "$T_S1C"
q "UPDATE users SET disabled_at = now() WHERE tenant_id = $A_ID AND id = $S1" >/dev/null
ck "a disabled user's surviving session row is refused (within the outbox poll)" \
    'wait_for 10 eval "! alive \"\$T_S1C\""'
ck "that session row is still there" \
    '(($(q "SELECT count(*) FROM sessions WHERE tenant_id = $A_ID AND user_id = $S1") >= 2))'
q "UPDATE users SET disabled_at = NULL WHERE tenant_id = $A_ID AND id = $S1" >/dev/null
ck "enabled again, the row's session answers again" 'wait_for 10 alive "$T_S1C"'

# ---------------------------------------------------------------------------------------------
section "a role change applies to live sessions at once"
alive "$T_S1"
api PATCH "/users/$S1" '{"role":"admin"}'
ck "promote the staff user: 200 admin" '[[ $R_STATUS == 200 ]] && jt ".role == \"admin\""'
api_as "$T_S1" GET /users
expect "their live session may list the users at once" 200
api_as "$T_S1" GET /me
ck "GET /me shows admin" 'jt ".user.role == \"admin\""'
api PATCH "/users/$S1" '{"role":"staff"}'
expect "demote them again" 200
api_as "$T_S1" GET /users
expect "their live session is refused at once" 403 forbidden

# ---------------------------------------------------------------------------------------------
section "an admin sets a password: every session of that user ends"
login_as "staff.one@users-a.test" "$PW_S"
T_S1B=$S_TOKEN
alive "$T_S1" && alive "$T_S1B"
NEW_S=staff-reset-$SUF-pw
api POST "/users/$S1/password" "$(pw_body "$NEW_S")"
expect "POST /users/{id}/password" 204
ck "no body" '[[ -z "$R_BODY" ]]'
api_as "$T_S1" GET /me
expect "the user's first session right after" 401 unauthorized
api_as "$T_S1B" GET /me
expect "their second session" 401 unauthorized
ck "the admin's own session lives on" 'alive "$TA"'
login "$SLUG_A" "staff.one@users-a.test" "$PW_S"
expect "the old password" 401 invalid_credentials
login_as "staff.one@users-a.test" "$NEW_S"
ck "the new password signs in" '[[ -n "$S_TOKEN" ]]'
PW_S=$NEW_S
T_S1=$S_TOKEN

# ---------------------------------------------------------------------------------------------
section "POST /me/password: the other sessions end, the caller's lives"
login_as "staff.one@users-a.test" "$PW_S"
T_OTHER=$S_TOKEN
alive "$T_S1" && alive "$T_OTHER"
api_as "$T_S1" POST /me/password "$(me_body "wrong-$SUF-pw" "me-new-$SUF-pw")"
expect "a wrong current password" 422 wrong_password current_password
ck "nothing ended" 'alive "$T_S1" && alive "$T_OTHER"'
api_as "$T_S1" POST /me/password "$(jq -cn --arg p "me-new-$SUF-pw" '{password: $p}')"
expect "no current password" 422 "" current_password
api_as "$T_S1" POST /me/password "$(me_body "$PW_S" "short")"
expect "a short new password" 422 "" password
api_as "$T_S1" POST /me/password "$(me_body "$PW_S" "Staff.One@users-a.test")"
expect "the email as new password" 422 "" password
call POST "$API/me/password" -H 'Content-Type: application/json' \
    --data-binary "$(me_body "$PW_S" "me-new-$SUF-pw")"
expect "without a session" 401 unauthorized
ME_PW=me-new-$SUF-pw
api_as "$T_S1" POST /me/password "$(me_body "$PW_S" "$ME_PW")"
expect "POST /me/password" 204
ck "the caller's session lives on" 'alive "$T_S1"'
api_as "$T_OTHER" GET /me
expect "their other session right after" 401 unauthorized
login "$SLUG_A" "staff.one@users-a.test" "$PW_S"
expect "the old password" 401 invalid_credentials
login_as "staff.one@users-a.test" "$ME_PW"
ck "the new password signs in" '[[ -n "$S_TOKEN" ]]'
PW_S=$ME_PW
# The same through the session cookie: the CSRF header is needed.
session "$SLUG_A" "$ADMIN_A" "$PW_A"
call POST "$API/me/password" -H "Cookie: stock_session=$S_TOKEN" -H 'Content-Type: application/json' \
    --data-binary "$(me_body "$PW_A" "admin-new-$SUF-pw")"
expect "with the cookie and no X-CSRF-Token" 403 csrf_failed
call POST "$API/me/password" -H "Cookie: stock_session=$S_TOKEN" -H "X-CSRF-Token: $S_CSRF" \
    -H 'Content-Type: application/json' --data-binary "$(me_body "$PW_A" "admin-new-$SUF-pw")"
expect "an admin changes their own password with the cookie and its CSRF token" 204
ck "the admin's other session (the suite's) ended" '! alive "$TA"'
PW_A=admin-new-$SUF-pw
login_as "$ADMIN_A" "$PW_A"
TA=$S_TOKEN
TOKEN=$TA
ck "the admin signs in with the new password" '[[ -n "$TA" ]]'

# ---------------------------------------------------------------------------------------------
section "the last active admin"
# A2 (second@) is an admin too: disable A2, then A1 is the last active one.
api PATCH "/users/$A2" '{"disabled":true}'
expect "disable the second admin" 200
api PATCH "/users/$A1" '{"role":"staff"}'
expect "the last active admin demotes themselves" 409 last_admin
ck "the message says why" 'jt ".error.message | test(\"last active admin\")"'
api PATCH "/users/$A1" '{"disabled":true}'
expect "the last active admin disables themselves" 409 last_admin
api PATCH "/users/$A1" '{"disabled":true,"role":"staff"}'
expect "both at once" 409 last_admin
api PATCH "/users/$A1" '{"role":"admin","disabled":false}'
expect "a change that keeps them an active admin" 200
api PATCH "/users/$A2" '{"role":"staff"}'
expect "a disabled admin may be demoted (not counted)" 200
api PATCH "/users/$A2" '{"role":"admin","disabled":false}'
expect "promote and enable the second admin" 200
api PATCH "/users/$A2" '{"role":"staff"}'
expect "with two active admins one may be demoted" 200
api PATCH "/users/$A2" '{"role":"admin"}'
expect "and promoted again" 200
ck "two active admins" \
    '[[ "$(q "SELECT count(*) FROM users WHERE tenant_id = $A_ID AND role = '"'admin'"' AND disabled_at IS NULL")" == 2 ]]'

# hold_admin_rows: a psql session (PID in LOCK_PID, fed through fd 7) holds tenant A's admin
# rows FOR UPDATE until release_admin_rows.
hold_admin_rows()
{
    rm -f "$TMP/lock.in"
    mkfifo "$TMP/lock.in"
    PGAPPNAME=users-lock psql -X -q "$DATABASE_URL" <"$TMP/lock.in" >"$TMP/lock.out" 2>&1 &
    LOCK_PID=$!
    exec 7>"$TMP/lock.in"
    echo "BEGIN; SELECT id FROM users WHERE tenant_id = $A_ID AND role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE;" >&7
    wait_for 10 eval '[[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"'users-lock'"' AND state = '"'idle in transaction'"'")" == 1 ]]'
}
release_admin_rows()
{
    echo "COMMIT;" >&7
    exec 7>&-
    wait "$LOCK_PID"
    LOCK_PID=""
}
# waiting_on_lock: how many statements wait for a row lock on users (our two PATCHes).
waiting_on_lock()
{
    q "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
       AND query LIKE '%FROM users WHERE tenant_id = \$1 AND ((role = %FOR UPDATE'
       AND application_name <> 'users-lock'"
}

# race NAME BODY: A1 changes A2 with BODY while A2 changes A1 with BODY, both made to wait on
# the admin rows, then let go together. Exactly one may succeed; the other is 409 last_admin.
race()
{
    local name=$1 body=$2 t1 t2 codes
    login_as "$ADMIN_A" "$PW_A"
    t1=$S_TOKEN
    login_as "second@users-a.test" "$PW_A2"
    t2=$S_TOKEN
    if [[ -z "$t1" || -z "$t2" ]] || ! hold_admin_rows; then
        t_not_ok "$name: the two admins sign in and psql holds their rows"
        [[ -n "$LOCK_PID" ]] && release_admin_rows
        return
    fi
    rm -f "$TMP"/race-*
    curl -s -o "$TMP/race-1.body" -w '%{http_code}\n' --max-time 30 -X PATCH "$API/users/$A2" \
        -H "Authorization: Bearer $t1" -H 'Content-Type: application/json' \
        --data-binary "$body" >"$TMP/race-1.code" &
    local p1=$!
    curl -s -o "$TMP/race-2.body" -w '%{http_code}\n' --max-time 30 -X PATCH "$API/users/$A1" \
        -H "Authorization: Bearer $t2" -H 'Content-Type: application/json' \
        --data-binary "$body" >"$TMP/race-2.code" &
    local p2=$!
    ck "$name: both PATCHes wait on the admin rows" 'wait_for 10 eval "[[ \$(waiting_on_lock) == 2 ]]"'
    release_admin_rows
    wait "$p1" "$p2"
    codes=$(cat "$TMP/race-1.code" "$TMP/race-2.code" | sort | tr '\n' ' ')
    ck "$name: exactly one succeeds, the other is 409 ($codes)" '[[ "$codes" == "200 409 " ]]'
    ck "$name: the 409 is last_admin" \
        'cat "$TMP"/race-*.body | jq -se "map(select(.error)) | length == 1 and .[0].error.code == \"last_admin\"" >/dev/null'
    ck "$name: one active admin is left" \
        '[[ "$(q "SELECT count(*) FROM users WHERE tenant_id = $A_ID AND role = '"'admin'"' AND disabled_at IS NULL")" == 1 ]]'
}

race "two admins demote each other at once" '{"role":"staff"}'
# Restore: whoever is still admin promotes the other.
restore()
{
    local who pw other email
    who=$(q "SELECT id FROM users WHERE tenant_id = $A_ID AND role = 'admin' AND disabled_at IS NULL")
    if [[ "$who" == "$A1" ]]; then pw=$PW_A other=$A2 email=$ADMIN_A; else pw=$PW_A2 other=$A1 email=second@users-a.test; fi
    login_as "$email" "$pw"
    api_as "$S_TOKEN" PATCH "/users/$other" '{"role":"admin","disabled":false}'
    expect "the remaining admin restores the other" 200
}
restore
race "two admins disable each other at once" '{"disabled":true}'
restore
# And without the lock: plain parallel requests. One must fail (409, or 403 when its session was
# read after the other's change), never both succeed.
login_as "$ADMIN_A" "$PW_A"
t1=$S_TOKEN
login_as "second@users-a.test" "$PW_A2"
t2=$S_TOKEN
for i in 1 2 3; do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -X PATCH "$API/users/$A2" \
        -H "Authorization: Bearer $t1" -H 'Content-Type: application/json' \
        --data-binary '{"role":"staff"}' >"$TMP/free-1.code" &
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -X PATCH "$API/users/$A1" \
        -H "Authorization: Bearer $t2" -H 'Content-Type: application/json' \
        --data-binary '{"role":"staff"}' >"$TMP/free-2.code" &
    wait
    codes=$(cat "$TMP/free-1.code" "$TMP/free-2.code" | sort | tr '\n' ' ')
    ck "free race $i: exactly one demotion succeeds ($codes)" \
        '[[ "$codes" == "200 403 " || "$codes" == "200 409 " ]] &&
         [[ "$(q "SELECT count(*) FROM users WHERE tenant_id = $A_ID AND role = '"'admin'"' AND disabled_at IS NULL")" == 1 ]]'
    restore
done

# ---------------------------------------------------------------------------------------------
section "POST /me/password is under the login limit"
# A tenant of its own: its buckets (the account, and this client on this tenant) start empty.
SLUG_L=users-l-$SUF
new_tenant "$SLUG_L" "Users L" "admin@users-l.test" "$PW_A" || setup_failed
L_ID=$NT_ID
session "$SLUG_L" "admin@users-l.test" "$PW_A"
T_L=$S_TOKEN
codes=""
for i in $(seq 1 10); do
    api_as "$T_L" POST /me/password "$(me_body "guess-$i-$SUF" "guessed-new-$SUF-pw")"
    codes+="$R_STATUS "
done
ck "10 wrong current passwords: 422 each ($codes)" '[[ "$codes" == "$(printf "422 %.0s" $(seq 1 10))" ]]'
api_as "$T_L" POST /me/password "$(me_body "guess-11-$SUF" "guessed-new-$SUF-pw")"
expect "the 11th attempt" 429 rate_limited
ck "... with Retry-After" '[[ "$(header Retry-After)" =~ ^[1-9][0-9]*$ ]]'
api_as "$T_L" POST /me/password "$(me_body "$PW_A" "guessed-new-$SUF-pw")"
expect "even the right current password, within the window" 429 rate_limited
login "$SLUG_L" "admin@users-l.test" "$PW_A"
expect "a sign-in of that account shares the limit" 429 rate_limited
ck "the fleet's count holds the failures, and the session lives on" \
    '[[ "$(q "SELECT count(*) FROM login_limits WHERE tenant_id = $L_ID AND failures >= 10")" -ge 1 ]] && alive "$T_L"'
q "DELETE FROM login_limits WHERE tenant_id = $L_ID" >/dev/null

t_result "$SUITE"
