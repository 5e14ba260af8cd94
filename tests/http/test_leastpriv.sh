#!/usr/bin/env bash
# test_leastpriv.sh: least privilege in production (SPEC §11, last point), statically on
# docker-compose.prod.yml, deploy/ and nginx/stock.prod.conf, then live:
# - Static: the networks (nginx on frontend only, PostgreSQL and Redis on backend only, which is
#   internal, the app on both); no password on any command line (command, entrypoint,
#   healthcheck); the ACL file deploy/redis-start.sh renders (default user off, the app's user on
#   {prefix}:* with exactly the commands the sources send, the password as its SHA-256 only);
#   the TLS protocols and cipher list of nginx/stock.prod.conf; /metrics and /health/* allowed
#   to STOCK_OPS_ALLOW only, as nginx-render writes it; the PostgreSQL roles of the compose file.
# - Redis: a real redis-server started by deploy/redis-start.sh with the compose file's own
#   arguments: the app's user runs the app's commands on stock:* keys and gets NOPERM on other
#   keys and on FLUSHALL, CONFIG, KEYS, DEBUG, EVAL (which the administrator may run: the refusal
#   is the ACL's); the default user cannot log in; no password in its command line or
#   environment.
# - PostgreSQL (the harness's cluster): a database owned by a non-superuser owner role, the app
#   role of deploy/postgres-roles.sh, the migrations run as the owner by docker-entrypoint.sh
#   (STOCK_MIGRATE_DATABASE_URL, `stockctl migrate --app-role`), which then starts the ASan pool
#   as the app role and without the owner's URL in its environment. Through nginx (prod config)
#   the app works: sale, confirmation, payment, movement, return, and a cached read MISS then HIT
#   through the Redis ACL user; stockctl cache stats/flush with redis://user:password@. The app
#   role is refused CREATE TABLE, DROP TABLE, TRUNCATE, ALTER TABLE, schema_migrations; a table
#   the owner creates later (a future migration) is readable and writable by it at once.
# - nginx (prod config, self-signed certificate): TLSv1.1 refused (while this OpenSSL speaks it to
#   a server that allows it), TLSv1.3 accepted, a TLS 1.2 CBC suite refused, an AEAD one
#   accepted; /metrics and /health/db answer 127.0.0.1 (listed) and are 403 from 127.0.0.2 (not
#   listed), /health and /nginx-health answer both.
# Environment from tests/run_all.sh: DATABASE_URL (a superuser), STOCK_TEST_DIR.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"
cd "$ROOT" || exit 1

: "${DATABASE_URL:?run through tests/run_all.sh}"
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/leastpriv-test
rm -rf "$DIR"
mkdir -p "$DIR"
SUITE=http-leastpriv
PY=/usr/bin/python3
SUF=$$_$RANDOM
APP_PW=lp-app-pw-$SUF-a1
ADMIN_PW=lp-admin-pw-$SUF-b2
DB_APP_PW=lp-db-pw-$SUF-c3
CACHE_SECRET_T=lp-cache-secret-$SUF-0123456789abcdef0123456789
secret_note "$APP_PW" "$ADMIN_PW" "$DB_APP_PW" "$CACHE_SECRET_T"

REDIS_DIR=$DIR/redis
PG_DB=lp_$SUF
PG_OWNER=lp_owner_$SUF
PG_APP=lp_app_$SUF
POOL_PID=""
NGX=$DIR/nginx
SSERVER_PID=""
PG_MADE=0

cleanup()
{
    [[ -n "$SSERVER_PID" ]] && stop_pid "$SSERVER_PID" 5 TERM
    nginx_stop "$NGX" 2>/dev/null
    [[ -n "$POOL_PID" ]] && pool_stop "$POOL_PID" 20
    local pid
    if pid=$(pid_from_file "$REDIS_DIR/redis.pid"); then
        stop_pid "$pid" 10 TERM
    fi
    if ((PG_MADE)); then
        psql -X -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1
        psql -X -q "$DATABASE_URL" -c "DROP ROLE IF EXISTS $PG_APP" -c "DROP ROLE IF EXISTS $PG_OWNER" \
            >/dev/null 2>&1
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

for tool in jq docker-compose redis-server redis-cli nginx openssl psql curl; do
    command -v "$tool" >/dev/null 2>&1 || {
        t_not_ok "$tool is installed (deploy/deps.sh installs it)"
        t_result "$SUITE"
        exit 1
    }
done

# =============================================================================================
# Static: docker-compose.prod.yml

PJ=$DIR/prod.json
if env -i PATH="$PATH" HOME="$DIR" LANG=C.UTF-8 REDIS_PASSWORD="$APP_PW" POSTGRES_PASSWORD="$ADMIN_PW" \
    STOCK_DB_APP_PASSWORD="$DB_APP_PW" CACHE_SECRET="$CACHE_SECRET_T" timeout 60 docker-compose -f docker-compose.prod.yml config \
    >"$PJ.yml" 2>"$PJ.err" &&
    "$PY" -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)' <"$PJ.yml" >"$PJ"; then
    t_ok "docker-compose.prod.yml: resolved config parsed"
    jqc()
    {
        jq -e "$1" "$PJ" >/dev/null 2>&1
    }
    t_check "networks: nginx on frontend (and monitoring, with Prometheus and Grafana only) only" \
        jqc '(.services.nginx.networks | keys == ["frontend", "monitoring"]) and
             ([.services | to_entries[] | select(.value.networks // {} | has("monitoring")) | .key] | sort == ["grafana", "nginx", "prometheus"])'
    t_check "networks: the app on frontend and backend" jqc '.services.app.networks | keys == ["backend", "frontend"]'
    t_check "networks: postgres, redis and the one-shot migrate on backend only (nginx cannot reach them)" \
        jqc '[.services.postgres, .services.redis, .services.migrate | .networks | keys == ["backend"]] | all'
    t_check "networks: backend is internal (no route out), frontend is a bridge" \
        jqc '(.networks.backend.internal == true) and (.networks.frontend.driver == "bridge")'
    t_check "no port published but nginx's 80 and 443 (and the monitoring UIs' on 127.0.0.1 only)" \
        jqc '([.services | to_entries[] | select(.key != "nginx" and .key != "prometheus" and .key != "grafana") | .value.ports // [] | length == 0] | all)
             and ([.services.prometheus, .services.grafana | .ports[]? | if type == "object" then .host_ip == "127.0.0.1" else startswith("127.0.0.1:") end] | all)'
    # No password (the three given above, nor a ${..PASSWORD} of the file) on a command line:
    # command, entrypoint and healthcheck of every service, resolved or as written.
    leaks=$(jq -r --arg a "$APP_PW" --arg b "$ADMIN_PW" --arg c "$DB_APP_PW" --arg d "$CACHE_SECRET_T" '
        .services | to_entries[] | .key as $s | .value | [.command, .entrypoint, .healthcheck.test]
        | map(select(. != null) | if type == "string" then . else join(" ") end)[]
        | select(contains($a) or contains($b) or contains($c) or contains($d)
                 or test("requirepass|--pass|-a "))
        | $s' "$PJ" | sort -u | tr '\n' ' ')
    t_check "no password on any command, entrypoint or healthcheck line (leaks: ${leaks:-none})" test -z "$leaks"
    t_check "docker-compose.prod.yml: no command: or test: line names a password variable but through \$\$ at run time" \
        eval '! grep -E "^[[:space:]]*(command|entrypoint|test):" docker-compose.prod.yml | grep -q "\${[A-Z_]*PASSWORD"'
    t_check "redis: app user, its password, the key prefix reach redis-start.sh; REDIS_ADMIN_PASSWORD empty by default" \
        jqc ".services.redis.environment | .REDIS_USERNAME == \"stock-app\" and .REDIS_PASSWORD == \"$APP_PW\"
             and .CACHE_KEY_PREFIX == \"stock\" and (.REDIS_ADMIN_PASSWORD // \"\") == \"\""
    t_check "redis: deploy/redis-start.sh mounted read-only, the ACL file on a tmpfs" \
        jqc '([.services.redis.volumes[] | tostring | test("deploy/redis-start.sh.*:/usr/local/bin/stock-redis-start.sh")] | any)
             and (.services.redis.tmpfs | tostring | test("/run/stock-redis"))'
    t_check "postgres: deploy/postgres-roles.sh in docker-entrypoint-initdb.d, with the app role and its password" \
        jqc "(.services.postgres.volumes | tostring | test(\"deploy/postgres-roles.sh.*/docker-entrypoint-initdb.d/\"))
             and .services.postgres.environment.STOCK_DB_APP_USER == \"stock_app\"
             and .services.postgres.environment.STOCK_DB_APP_PASSWORD == \"$DB_APP_PW\""
    t_check "app: DATABASE_URL is the app role, STOCK_MIGRATE false, the owner's password nowhere in its environment" \
        jqc ".services.app.environment | (.DATABASE_URL | startswith(\"postgresql://stock_app:$DB_APP_PW@\"))
             and .STOCK_MIGRATE == \"false\" and ([.[] | tostring | contains(\"$ADMIN_PW\")] | any | not)"
    t_check "migrate: a one-shot (restart on-failure) running stockctl migrate --app-role stock_app as the owner" \
        jqc ".services.migrate | (.command == [\"stockctl\", \"migrate\", \"--app-role\", \"stock_app\"])
             and (.environment.DATABASE_URL | startswith(\"postgresql://stock:$ADMIN_PW@postgres:5432/\"))
             and .restart == \"on-failure\" and .read_only == true and (.ports // [] | length == 0)"
    t_check "nginx: STOCK_OPS_ALLOW defaults to loopback and the monitoring profile's Prometheus only" \
        jqc '.services.nginx.environment.STOCK_OPS_ALLOW == "127.0.0.1 ::1 " + .services.prometheus.networks.monitoring.ipv4_address'
    REDIS_ARGS=()
    mapfile -t REDIS_ARGS < <(jq -r '.services.redis.command | if type == "string" then
        [splits(" +")] else . end | .[]' "$PJ")
else
    t_not_ok "docker-compose.prod.yml: resolved config parsed" "$(head -c 300 "$PJ.err")"
    REDIS_ARGS=()
fi
t_check "deploy/docker-entrypoint.sh drops STOCK_MIGRATE_DATABASE_URL before it execs the pool" \
    eval 'grep -B3 "exec stock-fcgi" deploy/docker-entrypoint.sh | grep -q "unset STOCK_MIGRATE_DATABASE_URL"'

# =============================================================================================
# Static: the ACL file

sha256()
{
    printf '%s' "$1" | sha256sum | cut -d' ' -f1
}
ACL=$DIR/users.acl
env -i PATH="$PATH" REDIS_PASSWORD="$APP_PW" sh deploy/redis-start.sh render "$ACL" 2>"$DIR/acl.err"
rc=$?
t_check "redis-start.sh render: exit 0, one line per user (default, stock-app)" \
    eval '((rc == 0)) && [[ "$(awk "{print \$1, \$2}" "$ACL" | tr "\n" "|")" == "user default|user stock-app|" ]]'
t_check "ACL: the default user is off with no password and no right" \
    grep -qx 'user default off resetpass resetkeys resetchannels -@all' "$ACL"
uline=$(grep '^user stock-app ' "$ACL")
t_check "ACL: stock-app is on, its password only as #sha256 (the plaintext nowhere in the file)" \
    eval '[[ " $uline " == *" on "* && " $uline " == *" #$(sha256 "$APP_PW") "* ]] && ! grep -qF "$APP_PW" "$ACL"'
t_check "ACL: stock-app may touch the keys stock:* only and the channel __redis__:invalidate only" \
    eval '[[ "$(tr " " "\n" <<<"$uline" | grep -E "^(~|%|&|allkeys|allchannels|resetchannels)" | tr "\n" " ")" == "resetchannels &__redis__:invalidate ~stock:* " ]]'
ACL_CMDS=$(tr ' ' '\n' <<<"$uline" | grep -E '^[+-]' | tr '\n' ' ')
t_check "ACL: -@all then exactly AUTH HELLO PING INFO|server SELECT ROLE MGET GET SET DEL UNLINK SCAN CLIENT|ID|SETNAME|TRACKING SUBSCRIBE (got: $ACL_CMDS)" \
    test "$ACL_CMDS" = "-@all +auth +hello +ping +info|server +select +role +mget +get +set +del +unlink +scan +client|id +client|setname +client|tracking +subscribe "
# Every command the sources send is allowed (a new one must be added to redis-start.sh).
# (SENTINEL goes to the sentinels, never to this server.)
SRC_CMDS=$(grep -ohE 'argv\[0\] = "[A-Z]+"|argv\[[0-9]\] = \{"[A-Z]+"|\[na?\+\+\] = "[A-Z]+"|\)\{"[A-Z]+"\}|redis_setup_cmd\(r, "[A-Z]+|redisCommand\([^,]+, "[A-Z]+' \
    fcgi/core/redis.c fcgi/core/cache.c fcgi/core/cache_outbox.c fcgi/core/l1_agent.c fcgi/ctl/cache.c fcgi/routes/api_health.c |
    grep -oE '"[A-Z]+' | tr -d '"' | grep -vx SENTINEL | sort -u | tr '\n' ' ')
missing=""
for c in $SRC_CMDS; do
    [[ " $ACL_CMDS" =~ \ \+${c,,}(\ |\|) ]] || missing+="$c "
done
t_check "ACL: every command in the sources is allowed (sources: $SRC_CMDS; missing: ${missing:-none})" \
    eval '[[ -z "$missing" && "$SRC_CMDS" == *GET* && "$SRC_CMDS" == *SCAN* ]]'
t_check "ACL file mode 0640" test "$(stat -c %a "$ACL")" = 640
env -i PATH="$PATH" REDIS_PASSWORD="$APP_PW" CACHE_KEY_PREFIX=shop-1 REDIS_USERNAME=svc.app \
    sh deploy/redis-start.sh render "$DIR/other.acl" 2>/dev/null
t_check "ACL: CACHE_KEY_PREFIX and REDIS_USERNAME are followed (~shop-1:*, user svc.app)" \
    eval 'grep -q "^user svc.app on .* ~shop-1:\* " "$DIR/other.acl"'
env -i PATH="$PATH" REDIS_PASSWORD="$APP_PW" REDIS_ADMIN_PASSWORD="$ADMIN_PW" \
    sh deploy/redis-start.sh render "$DIR/admin.acl" 2>/dev/null
t_check "ACL: with REDIS_ADMIN_PASSWORD the default user is the administrator (#sha256, all rights)" \
    grep -qx "user default on #$(sha256 "$ADMIN_PW") ~\* &\* +@all" "$DIR/admin.acl"
printf '%s\n' "$APP_PW" >"$DIR/pw.file"
env -i PATH="$PATH" REDIS_PASSWORD_FILE="$DIR/pw.file" sh deploy/redis-start.sh render "$DIR/file.acl" 2>/dev/null
t_check "ACL: REDIS_PASSWORD_FILE (a secret file, final newline dropped) gives the same hash" \
    grep -q " #$(sha256 "$APP_PW") " "$DIR/file.acl"
bad=0
for envs in "REDIS_PASSWORD=" "REDIS_PASSWORD=x REDIS_USERNAME=a:b" "REDIS_PASSWORD=x REDIS_USERNAME=default" \
    "REDIS_PASSWORD=x CACHE_KEY_PREFIX=a*" "REDIS_PASSWORD=x REDIS_ADMIN_PASSWORD=x"; do
    # shellcheck disable=SC2086
    env -i PATH="$PATH" $envs sh deploy/redis-start.sh render "$DIR/bad.acl" 2>"$DIR/bad.err"
    rc=$?
    if ((rc != 1)) || [[ -e "$DIR/bad.acl" || $(wc -l <"$DIR/bad.err") -ne 1 ]]; then
        bad=$((bad + 1))
        echo "    render with $envs: exit $rc, $(head -c 200 "$DIR/bad.err")"
    fi
    rm -f "$DIR/bad.acl"
done
t_check "ACL: no password, a bad user name, user 'default', a glob in the prefix, admin = app password: exit 1, one line, no file" \
    test "$bad" -eq 0

# =============================================================================================
# Static: nginx/stock.prod.conf

P=nginx/stock.prod.conf
t_check "nginx: ssl_protocols TLSv1.2 TLSv1.3 only" \
    eval '[[ "$(grep -E "^[[:space:]]*ssl_protocols" "$P" | tr -s " " | sed "s/^ //")" == "ssl_protocols TLSv1.2 TLSv1.3;" ]]'
ciphers=$(sed -nE 's/^[[:space:]]*ssl_ciphers[[:space:]]+([^;]+);.*/\1/p' "$P")
nonaead=$(tr ':' '\n' <<<"$ciphers" | grep -vE '^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$' | tr '\n' ' ')
t_check "nginx: an explicit ssl_ciphers list of ECDHE AEAD suites only (others: ${nonaead:-none})" \
    eval '[[ -n "$ciphers" && -z "$nonaead" ]]'
t_check "nginx: ssl_prefer_server_ciphers off (Mozilla intermediate)" grep -qE '^[[:space:]]*ssl_prefer_server_ciphers off;' "$P"
block()
{
    awk -v re="$1" '$0 ~ re && /location/ { on = 1 } on { print } on && /^[[:space:]]*}/ { exit }' "$2"
}
ER=$DIR/render
mkdir -p "$ER"
env -u STOCK_OPS_ALLOW STOCK_FCGI_ADDR=127.0.0.1:9 sh deploy/docker-entrypoint.sh nginx-render "$P" "$ER/default.conf" 2>"$ER/default.err"
rc=$?
ok=1
for loc in '= /metrics' '\^~ /health/'; do
    [[ "$(block "location $loc " "$ER/default.conf" | grep -E '^[[:space:]]*(allow|deny)' | sed -e 's/ *#.*//' | tr -s ' ' | sed 's/^ //' | tr '\n' '|')" == \
        "allow 127.0.0.1;|allow ::1;|deny all;|" ]] || ok=0
done
t_check "nginx-render, STOCK_OPS_ALLOW unset: /metrics and /health/ allow 127.0.0.1 and ::1, deny all" \
    eval '((rc == 0 && ok == 1))'
ok=1
for loc in '= /metrics' '\^~ /health/'; do
    [[ "$(block "location $loc " "$P" | grep -E '^[[:space:]]*(allow|deny)' | tr -s ' ' | sed 's/^ //' | tr '\n' '|')" == \
        "allow 127.0.0.1; # STOCK_OPS_ALLOW|allow ::1; # STOCK_OPS_ALLOW|deny all;|" ]] || ok=0
done
t_check "nginx/stock.prod.conf as committed (a sed-only install): /metrics and /health/ loopback only, tagged for nginx-render" \
    test "$ok" -eq 1
STOCK_OPS_ALLOW="127.0.0.1, 10.0.0.0/8 fd00::/8" STOCK_FCGI_ADDR=127.0.0.1:9 \
    sh deploy/docker-entrypoint.sh nginx-render "$P" "$ER/list.conf" 2>/dev/null
t_check "nginx-render: STOCK_OPS_ALLOW (commas, spaces) becomes one allow line each, then deny all" \
    eval '[[ "$(block "location = /metrics " "$ER/list.conf" | grep -E "^[[:space:]]*(allow|deny)" | sed -e "s/ *#.*//" | tr -s " " | sed "s/^ //" | tr "\n" "|")" == \
        "allow 127.0.0.1;|allow 10.0.0.0/8;|allow fd00::/8;|deny all;|" ]]'
bad=0
for v in all "1.2.3.4; allow all" "10.0.0.0/33" "host.example"; do
    STOCK_OPS_ALLOW=$v STOCK_FCGI_ADDR=127.0.0.1:9 sh deploy/docker-entrypoint.sh nginx-render "$P" "$ER/bad.conf" 2>"$ER/bad.err"
    rc=$?
    if ((rc != 1)) || [[ -e "$ER/bad.conf" ]] || ! grep -q STOCK_OPS_ALLOW "$ER/bad.err"; then
        bad=$((bad + 1))
        echo "    STOCK_OPS_ALLOW='$v': exit $rc"
    fi
    rm -f "$ER/bad.conf"
done
t_check "nginx-render: a bad STOCK_OPS_ALLOW ('all', an injected directive, /33, a name) is exit 1 naming it, no file" \
    test "$bad" -eq 0
t_check "nginx: /nginx-health and /health have no allow/deny (public; the healthcheck)" \
    eval '! block "location = /nginx-health" "$ER/default.conf" | grep -qE "allow|deny" &&
          ! block "location = /health " "$ER/default.conf" | grep -qE "allow|deny"'

# =============================================================================================
# Live: Redis with the ACL file, started as the compose file starts it

section()
{
    echo "# $1 (at ${SECONDS}s)"
}
section "Redis ACL"
pick_port R_PORT && pick_port FCGI_PORT && pick_port H_PORT && pick_port S_PORT && pick_port TLS11_PORT || exit 1
mkdir -p "$REDIS_DIR"
REDIS_OK=0
if ((${#REDIS_ARGS[@]} > 3)) && [[ "${REDIS_ARGS[2]}" == redis-server ]]; then
    # The compose file's own words after `sh SCRIPT`, with the ACL file here and this test's
    # port, folder and daemon settings added.
    args=()
    for a in "${REDIS_ARGS[@]:2}"; do
        [[ "$a" == /run/stock-redis/users.acl ]] && a=$REDIS_DIR/users.acl
        args+=("$a")
    done
    env -i PATH="$PATH" REDIS_PASSWORD="$APP_PW" REDIS_ADMIN_PASSWORD="$ADMIN_PW" \
        sh deploy/redis-start.sh "${args[@]}" --port "$R_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
        --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
        --enable-debug-command yes >"$REDIS_DIR/start.out" 2>&1
    r_app()
    {
        REDISCLI_AUTH=$APP_PW timeout 5 redis-cli -h 127.0.0.1 -p "$R_PORT" --user stock-app "$@" 2>&1
    }
    r_admin()
    {
        REDISCLI_AUTH=$ADMIN_PW timeout 5 redis-cli -h 127.0.0.1 -p "$R_PORT" "$@" 2>&1
    }
    if wait_for 15 eval '[[ "$(r_app ping)" == PONG ]]'; then
        REDIS_OK=1
        t_ok "redis-server started by redis-start.sh with the compose arguments: the app's user PINGs"
    else
        t_not_ok "redis-server started by redis-start.sh with the compose arguments" \
            "$(tail -n 3 "$REDIS_DIR/start.out" "$REDIS_DIR/redis.log" 2>/dev/null | tr '\n' ' ')"
    fi
fi
if ((REDIS_OK)); then
    RPID=$(pid_from_file "$REDIS_DIR/redis.pid")
    t_check "redis: the compose settings hold (appendonly yes, maxmemory 512mb, allkeys-lru, save 900 1 ...)" \
        eval '[[ "$(r_admin config get appendonly | tail -n1) $(r_admin config get maxmemory | tail -n1) $(r_admin config get maxmemory-policy | tail -n1) $(r_admin config get save | tail -n1)" == "yes 536870912 allkeys-lru 900 1 300 10 60 10000" ]]'
    t_check "redis: no password in its command line or its environment (/proc)" \
        eval '! tr "\0" "\n" <"/proc/$RPID/cmdline" | grep -qF -e "$APP_PW" -e "$ADMIN_PW" &&
              ! tr "\0" "\n" <"/proc/$RPID/environ" | grep -qF -e "$APP_PW" -e "$ADMIN_PW" &&
              ! grep -qF -e "$APP_PW" -e "$ADMIN_PW" "$REDIS_DIR/users.acl"'
    out=""
    out+="$(r_app set stock:lp:a 1)|$(r_app get stock:lp:a)|$(r_app set stock:lp:b 2 NX GET)|"
    out+="$(r_app mget stock:lp:a stock:lp:b | tr '\n' ,)|$(r_app del stock:lp:a)|$(r_app unlink stock:lp:b)|"
    out+="$(r_app scan 0 match 'stock:*' count 100 | head -n1)|$(r_app info server | grep -c '^run_id:')|"
    out+="$(r_app select 0)|$(r_app role | head -n1)|$(r_app hello 2 | head -n1)"
    t_check "app user: SET GET SET-NX-GET MGET DEL UNLINK SCAN INFO-server SELECT ROLE HELLO on stock:* (got $out)" \
        test "$out" = "OK|1||1,2,|1|1|0|1|OK|master|server"
    r_admin set other:k secret >/dev/null
    n=0 refused=""
    set -f
    for c in "get other:k" "set other:k x" "del other:k" "mget stock:x other:k" "flushall" "flushdb" \
        "config get maxmemory" "config set maxmemory 1mb" "keys *" "debug sleep 0" "eval return\ 1 0" \
        "info" "info keyspace" "acl list" "shutdown nosave" "subscribe x" "client list" "monitor"; do
        # shellcheck disable=SC2086
        o=$(eval "r_app $c" </dev/null | head -n1)
        n=$((n + 1))
        [[ "$o" == NOPERM* ]] || refused+="[$c: $o] "
    done
    set +f
    t_check "app user: NOPERM on other keys and on FLUSHALL CONFIG KEYS DEBUG EVAL INFO(all) ACL SHUTDOWN ... ($n commands; not refused: ${refused:-none})" \
        test -z "$refused"
    t_check "redis still up, other:k untouched after the refused commands" \
        eval '[[ "$(r_admin get other:k)" == secret ]]'
    o="$(r_admin config get maxmemory | tail -n1)|$(r_admin debug sleep 0)|$(r_admin keys 'other:*')"
    t_check "control: the administrator may run CONFIG, DEBUG, KEYS (the refusals above are the ACL's)" \
        test "$o" = "536870912|OK|other:k"
    t_check "a wrong password for the app's user is refused" \
        eval '[[ "$(REDISCLI_AUTH=nope timeout 5 redis-cli -h 127.0.0.1 -p "$R_PORT" --user stock-app ping 2>&1)" == *WRONGPASS* ]]'
    # Without REDIS_ADMIN_PASSWORD (the compose default) nobody logs in as the default user.
    env -i PATH="$PATH" REDIS_PASSWORD="$APP_PW" sh deploy/redis-start.sh render "$REDIS_DIR/users.acl" &&
        r_admin acl load >/dev/null
    o="$(timeout 5 redis-cli -h 127.0.0.1 -p "$R_PORT" ping 2>&1 | head -n1)|$(r_admin ping 2>&1 | head -n1)"
    o+="|$(REDISCLI_AUTH=$ADMIN_PW timeout 5 redis-cli -h 127.0.0.1 -p "$R_PORT" --user default ping 2>&1 | head -n1)"
    t_check "default user off: no AUTH, AUTH password, AUTH default password all refused (got $o)" \
        eval '[[ "$o" == NOAUTH*"|"*WRONGPASS*"|"*WRONGPASS* ]]'
    t_check "the app's user still works after the reload" eval '[[ "$(r_app ping)" == PONG ]]'
else
    t_skip "live Redis ACL checks" "redis-server did not start with the rendered ACL"
fi

# =============================================================================================
# Live: PostgreSQL roles, the pool as the app role behind the prod nginx

section "PostgreSQL roles and the pool"
PGPORT_H=$(sed -nE 's|.*@127\.0\.0\.1:([0-9]+)/.*|\1|p' <<<"$DATABASE_URL")
su_sql()
{
    psql -X -q -At -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"
}
OWNER_URL=postgresql://$PG_OWNER@127.0.0.1:$PGPORT_H/$PG_DB
APP_URL=postgresql://$PG_APP:$DB_APP_PW@127.0.0.1:$PGPORT_H/$PG_DB
PG_OK=0
if [[ -n "$PGPORT_H" ]] && [[ "$(su_sql -c 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user')" == t ]] &&
    su_sql -c "CREATE ROLE $PG_OWNER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" &&
    PG_MADE=1 && su_sql -c "CREATE DATABASE $PG_DB OWNER $PG_OWNER"; then
    if env PGHOST=127.0.0.1 PGPORT="$PGPORT_H" POSTGRES_USER=postgres POSTGRES_DB="$PG_DB" \
        STOCK_DB_APP_USER="$PG_APP" STOCK_DB_APP_PASSWORD="$DB_APP_PW" sh deploy/postgres-roles.sh \
        >"$DIR/roles.out" 2>&1; then
        PG_OK=1
        t_ok "deploy/postgres-roles.sh creates the app role in a database owned by a non-superuser owner"
    else
        t_not_ok "deploy/postgres-roles.sh" "$(tr '\n' ' ' <"$DIR/roles.out" | head -c 300)"
    fi
    env PGHOST=127.0.0.1 PGPORT="$PGPORT_H" POSTGRES_USER=postgres POSTGRES_DB="$PG_DB" \
        STOCK_DB_APP_USER="$PG_APP" STOCK_DB_APP_PASSWORD="$DB_APP_PW" sh deploy/postgres-roles.sh \
        >/dev/null 2>&1
    t_check "deploy/postgres-roles.sh is idempotent (a second run succeeds)" test $? -eq 0
    t_check "the app role: login, no superuser/createdb/createrole/replication/bypassrls" \
        eval '[[ "$(su_sql -c "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = '"'$PG_APP'"'")" == "t|f|f|f|f|f" ]]'
else
    t_not_ok "a database and an owner role for the test in the harness's PostgreSQL" "needs a superuser DATABASE_URL"
fi

POOL_LOG=$DIR/stock-fcgi-leastpriv.log
FCGI_ADDR=127.0.0.1:$FCGI_PORT
POOL_OK=0
if ((PG_OK && REDIS_OK)); then
    # docker-entrypoint.sh as in the app container: migrate as the owner, grant the app role,
    # drop the owner's URL, exec the (ASan) pool as the app role with the Redis ACL user.
    env PATH="$ROOT/build/asan:$PATH" DATABASE_URL="$APP_URL" STOCK_MIGRATE_DATABASE_URL="$OWNER_URL" \
        STOCK_DB_APP_ROLE="$PG_APP" REDIS_URL="redis://127.0.0.1:$R_PORT/0" REDIS_USERNAME=stock-app \
        REDIS_PASSWORD="$APP_PW" STOCK_ENV=production CACHE_SECRET="$CACHE_SECRET_T" \
        STOCK_LISTEN="$FCGI_ADDR" STOCK_WORKERS=2 LOG_LEVEL=info \
        STOCK_MIGRATE_TRIES=1 setsid sh deploy/docker-entrypoint.sh stock-fcgi </dev/null >>"$POOL_LOG" 2>&1 &
    POOL_PID=$!
    echo "$POOL_PID" >"$DIR/stock-fcgi-leastpriv.pid"
    if wait_for 60 pool_ready "$POOL_PID" "$FCGI_ADDR"; then
        POOL_OK=1
        t_ok "docker-entrypoint.sh: migrates as the owner, then execs the pool as the app role"
    else
        t_not_ok "docker-entrypoint.sh starts the pool as the app role" "$(tail -n 5 "$POOL_LOG" | tr '\n' ' ' | head -c 400)"
    fi
    t_check "stockctl migrate --app-role: applied as the owner, then granted the app role" \
        eval 'grep -q "^applied 001_schema" "$POOL_LOG" && grep -q "^granted the app.s privileges to $PG_APP" "$POOL_LOG"'
    t_check "the tables belong to the owner, none to the app role" \
        eval '[[ "$(psql -X -At "$OWNER_URL" -c "SELECT count(*) FILTER (WHERE tableowner = '"'$PG_OWNER'"') > 5, count(*) FILTER (WHERE tableowner <> '"'$PG_OWNER'"') FROM pg_tables WHERE schemaname = '"'public'"'")" == "t|0" ]]'
    if ((POOL_OK)); then
        t_check "the pool's environment has no STOCK_MIGRATE_DATABASE_URL, its DATABASE_URL is the app role" \
            eval '! tr "\0" "\n" <"/proc/$POOL_PID/environ" | grep -q "^STOCK_MIGRATE_DATABASE_URL=" &&
                  tr "\0" "\n" <"/proc/$POOL_PID/environ" | grep -q "^DATABASE_URL=postgresql://$PG_APP:"'
    fi
fi

# The prod nginx in front of it: nginx-render with STOCK_OPS_ALLOW=127.0.0.1 (listed), a
# self-signed certificate, this test's ports.
NGX_OK=0
mkdir -p "$NGX/tmp" "$NGX/logs" "$NGX/tls" "$NGX/static"
openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 2 -subj /CN=localhost \
    -keyout "$NGX/tls/privkey.pem" -out "$NGX/tls/fullchain.pem" >"$NGX/logs/openssl.out" 2>&1
if env STOCK_FCGI_ADDR="$FCGI_ADDR" STOCK_OPS_ALLOW=127.0.0.1 STOCK_STATIC_DIR="$ROOT/nginx/static" \
    STOCK_SERVER_NAME=localhost STOCK_TLS_CERT="$NGX/tls/fullchain.pem" STOCK_TLS_KEY="$NGX/tls/privkey.pem" \
    sh deploy/docker-entrypoint.sh nginx-render nginx/stock.prod.conf "$NGX/stock.conf" 2>"$NGX/render.err"; then
    sed -i -e "s|listen 80 default_server;|listen 127.0.0.1:$H_PORT default_server;|" \
        -e "s|listen 443 ssl default_server;|listen 127.0.0.1:$S_PORT ssl default_server;|" "$NGX/stock.conf"
    cat >"$NGX/nginx.conf" <<EOF
pid $NGX/nginx.pid;
error_log $NGX/logs/nginx-error.log;
worker_processes 1;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $NGX/logs/nginx-access.log;
    client_body_temp_path $NGX/tmp/client_body; proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi; uwsgi_temp_path $NGX/tmp/uwsgi; scgi_temp_path $NGX/tmp/scgi;
    include $NGX/stock.conf;
}
EOF
    if nginx_start "$NGX" "$NGX/nginx.conf" "127.0.0.1:$H_PORT" "$NGX/logs"; then
        NGX_OK=1
        t_ok "nginx with the rendered prod config starts"
    else
        t_not_ok "nginx with the rendered prod config starts" "$(tail -n 3 "$NGX/logs/nginx-error.log" 2>/dev/null | tr '\n' ' ')"
    fi
else
    t_not_ok "nginx-render of the prod config" "$(head -c 300 "$NGX/render.err")"
fi

S=https://127.0.0.1:$S_PORT
if ((POOL_OK && NGX_OK)); then
    . "$ROOT/tests/lib/api.sh"
    BASE=$S
    API=$S/api/v1
    # Every request of api.sh goes through req: -k for the self-signed certificate.
    call()
    {
        local m=$1 u=$2
        shift 2
        req "$m" "$u" -k "$@"
        [[ "$R_STATUS" == 5* || "$R_STATUS" == 000 ]] && FIVEXX+="$m ${u#"$BASE"} -> $R_STATUS; "
        return 0
    }
    STOCKCTL=$ROOT/build/release/stockctl
    SLUG=lp-$SUF
    SLUG=${SLUG//_/-}
    PW=lp-user-pw-$SUF
    secret_note "$PW"
    # stockctl as an operator would run it in the app container: with the app role.
    if DATABASE_URL=$APP_URL REDIS_URL="redis://stock-app:$APP_PW@127.0.0.1:$R_PORT/0" \
        new_tenant "$SLUG" "Least" "admin@lp.test" "$PW" && session "$SLUG" admin@lp.test "$PW"; then
        TOKEN=$S_TOKEN
        t_ok "stockctl tenant create / user create as the app role; sign-in through nginx"
        mk /uom '{"name":"Piece","abbreviation":"pc"}'
        UNIT=$MK_ID
        mk /products "$(jq -cn --argjson u "$UNIT" '{sku: "LP-1", name: "Least", uom_id: $u, price: "10.00", stock: "20"}')"
        PROD=$MK_ID
        ck "a product is created (its opening movement through stock_move)" '[[ "$PROD" != 0 ]]'
        mk /sales "{\"items\":[{\"product_id\":$PROD,\"quantity\":3}]}"
        SALE=$MK_ID
        api POST "/sales/$SALE/confirm" '{"payment":{"amount":"10.00","method":"cash"}}'
        ck "a sale is confirmed with a payment (stock_move, the balance and outbox triggers)" '[[ "$R_STATUS" == 200 ]]'
        api POST /payments "{\"sale_id\":$SALE,\"amount\":\"5.00\",\"method\":\"card\"}"
        ck "a payment is recorded (201)" '[[ "$R_STATUS" == 201 ]]'
        api POST /stock/movements "{\"product_id\":$PROD,\"kind\":\"receipt\",\"quantity\":4}"
        ck "a stock movement (receipt of 4) is recorded (201)" '[[ "$R_STATUS" == 201 ]]'
        api POST "/sales/$SALE/returns" "{\"items\":[{\"product_id\":$PROD,\"quantity\":1}],\"refund\":{\"amount\":\"2.00\",\"method\":\"cash\"}}"
        ck "a return with a refund is recorded (201)" '[[ "$R_STATUS" == 201 ]]'
        api GET "/products/$PROD"
        ck "the product's stock is 20 - 3 + 4 + 1 = 22" 'jt ".stock == \"22.000\""'
        c1=$(header X-Cache)
        api GET "/products/$PROD"
        c2=$(header X-Cache)
        if [[ "$c2" != HIT ]]; then
            wait_for 10 is_hit "/products/$PROD" && c2=HIT
        fi
        t_check "a cached read through the Redis ACL user: MISS, then HIT (got $c1 then $c2)" \
            eval '[[ "$c1" == MISS && "$c2" == HIT ]]'
        t_check "the cached keys are under stock:* in Redis (the administrator's view)" \
            eval 'REDISCLI_AUTH=$APP_PW timeout 5 redis-cli -h 127.0.0.1 -p "$R_PORT" --user stock-app scan 0 match "stock:tenant:*" count 1000 | grep -q "^stock:tenant:"'
        out=$(DATABASE_URL=$APP_URL REDIS_URL="redis://stock-app:$APP_PW@127.0.0.1:$R_PORT/0" \
            "$STOCKCTL" cache stats --tenant "$SLUG" 2>&1)
        rc=$?
        out2=$(DATABASE_URL=$APP_URL REDIS_URL="redis://stock-app:$APP_PW@127.0.0.1:$R_PORT/0" \
            "$STOCKCTL" cache flush --tenant "$SLUG" 2>&1)
        rc2=$?
        t_check "stockctl cache stats and flush as redis://stock-app:password@ (SCAN, UNLINK under the ACL)" \
            eval '((rc == 0 && rc2 == 0))'
        ((rc == 0 && rc2 == 0)) || echo "    stats: $out | flush: $out2" | head -c 400
        t_check "no 5xx through nginx (${FIVEXX:-none})" test -z "$FIVEXX"
        t_check "the pool logged no NOPERM or permission denied" \
            eval '! grep -qiE "NOPERM|permission denied|must be owner" "$POOL_LOG"'
        t_check "the pool's log holds neither password" \
            eval '! grep -qF -e "$APP_PW" -e "$DB_APP_PW" -e "$CACHE_SECRET_T" "$POOL_LOG"'
    else
        t_not_ok "a tenant and a session as the app role" "$(snip)"
    fi

    # /metrics and /health/* from a listed and an unlisted address.
    st()
    {
        curl -s -k -o /dev/null -w '%{http_code}' --max-time 10 "$@" 2>/dev/null
    }
    if [[ "$(st --interface 127.0.0.2 "$S/nginx-health")" == 200 ]]; then
        o="$(st "$S/metrics")|$(st "$S/health/db")|$(st --interface 127.0.0.2 "$S/metrics")|$(st --interface 127.0.0.2 "$S/health/db")|$(st --interface 127.0.0.2 "$S/health/cache")"
        t_check "/metrics, /health/db: 200 from 127.0.0.1 (listed), 403 from 127.0.0.2 (not listed), /health/cache 403 too (got $o)" \
            test "$o" = "200|200|403|403|403"
        o="$(st --interface 127.0.0.2 "$S/health")|$(st --interface 127.0.0.2 "http://127.0.0.1:$H_PORT/nginx-health")"
        t_check "/health and :80 /nginx-health stay public (200 from 127.0.0.2; got $o)" test "$o" = "200|200"
    else
        t_skip "/metrics and /health/* from an unlisted address" "curl cannot bind 127.0.0.2 here"
    fi
elif ((NGX_OK)); then
    t_not_ok "the app behind the prod nginx as the app role (the pool did not start)"
fi

# The app role's refusals and a future migration's table, in psql.
if ((PG_OK)); then
    app_try()
    {
        psql -X -q -At -v ON_ERROR_STOP=1 "$APP_URL" -c "$1" 2>&1
    }
    refused=""
    for stmt in "CREATE TABLE lp_evil (id int)" "DROP TABLE products" "TRUNCATE products" \
        "TRUNCATE cache_outbox" "ALTER TABLE products ADD COLUMN evil int" "ALTER TABLE products OWNER TO $PG_APP" \
        "CREATE INDEX lp_evil_idx ON products (name)" "CREATE FUNCTION lp_evil() RETURNS int LANGUAGE sql AS 'SELECT 1'" \
        "CREATE SCHEMA lp_evil" "DELETE FROM schema_migrations" "SELECT count(*) FROM schema_migrations" \
        "CREATE TRIGGER lp_evil AFTER INSERT ON products FOR EACH ROW EXECUTE FUNCTION stock_touch_updated_at()" \
        "GRANT SELECT ON products TO PUBLIC"; do
        o=$(app_try "$stmt")
        case "$o" in
        *"permission denied"* | *"must be owner"* | *"WARNING:  no privileges were granted"*) ;;
        *) refused+="[$stmt: $(head -c 100 <<<"$o")] " ;;
        esac
    done
    t_check "the app role is refused CREATE TABLE, DROP, TRUNCATE, ALTER, CREATE INDEX/FUNCTION/SCHEMA/TRIGGER, schema_migrations, GRANT (not refused: ${refused:-none})" \
        test -z "$refused"
    t_check "control: the owner may CREATE and DROP a table (the refusals are the role's)" \
        eval 'psql -X -q -v ON_ERROR_STOP=1 "$OWNER_URL" -c "CREATE TABLE lp_probe (id int); DROP TABLE lp_probe" >/dev/null 2>&1'
    t_check "the app role reads and writes the app's tables (SELECT, INSERT+DELETE in a rolled-back transaction)" \
        eval '[[ "$(psql -X -q -At -v ON_ERROR_STOP=1 "$APP_URL" -c "BEGIN" -c "SELECT count(*) >= 0 FROM products" \
              -c "INSERT INTO units (tenant_id, name, abbreviation) SELECT id, '"'lp'"', '"'lp'"' FROM tenants LIMIT 1" \
              -c "ROLLBACK" 2>&1)" == t ]]'
    # A future migration: the owner creates a table; the app role may use it at once (default
    # privileges), still without TRUNCATE.
    psql -X -q -v ON_ERROR_STOP=1 "$OWNER_URL" -c "CREATE TABLE lp_future (id bigserial PRIMARY KEY, v text)" >/dev/null 2>&1
    o="$(app_try "INSERT INTO lp_future (v) VALUES ('x') RETURNING id")|$(app_try "SELECT v FROM lp_future")|$(app_try "TRUNCATE lp_future" | grep -c 'permission denied')"
    t_check "a table the owner adds later: INSERT (its sequence too) and SELECT by the app role, TRUNCATE refused (got $o)" \
        test "$o" = "1|x|1"
    t_check "the app role cannot CREATE in the schema public, and owns no table" \
        eval '[[ "$(psql -X -q -At "${DATABASE_URL%/*}/$PG_DB" -c "SELECT has_schema_privilege('"'$PG_APP'"', '"'public'"', '"'CREATE'"'), count(*) FROM pg_tables WHERE tableowner = '"'$PG_APP'"'" 2>&1)" == "f|0" ]]'
    bad_role=$(DATABASE_URL=$OWNER_URL timeout 30 "$ROOT/build/release/stockctl" migrate --app-role "$PG_OWNER" 2>&1)
    rc=$?
    t_check "stockctl migrate --app-role refuses the migrating role itself (exit 1, got $rc)" \
        eval '((rc == 1)) && grep -q "app-role" <<<"$bad_role"'
fi

# =============================================================================================
# Live: TLS

section "TLS"
if ((NGX_OK)); then
    # tls PORT [s_client args]: "PROTOCOL CIPHER" of the handshake, "none" when it failed
    # (-brief prints both once the handshake is done, nothing of them when it fails).
    tls()
    {
        timeout 10 openssl s_client -brief -connect "127.0.0.1:$1" -servername localhost "${@:2}" </dev/null 2>&1 |
            awk -F': *' '/^Protocol version:/ { p = $2 } /^Ciphersuite:/ { c = $2 }
                 END { if (p == "" || c == "") print "none"; else print p, c }'
    }
    # Control: this OpenSSL can speak TLS 1.1 to a server that allows it (else the refusal
    # below would prove nothing about nginx's config).
    openssl s_server -accept "127.0.0.1:$TLS11_PORT" -cert "$NGX/tls/fullchain.pem" -key "$NGX/tls/privkey.pem" \
        -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' -quiet </dev/null >"$NGX/logs/s_server.out" 2>&1 &
    SSERVER_PID=$!
    wait_for 10 port_open 127.0.0.1 "$TLS11_PORT"
    ctl=$(tls "$TLS11_PORT" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0')
    o=$(tls "$S_PORT" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0')
    if [[ "$ctl" == TLSv1.1* ]]; then
        t_check "nginx refuses TLSv1.1 (got: $o), which this OpenSSL speaks to openssl s_server ($ctl)" \
            test "$o" = none
    else
        t_skip "nginx refuses TLSv1.1 (got: $o)" "this OpenSSL does not speak TLS 1.1 even to s_server ($ctl): the check could not fail"
    fi
    stop_pid "$SSERVER_PID" 5 TERM
    SSERVER_PID=""
    o=$(tls "$S_PORT" -tls1_3)
    t_check "nginx accepts TLSv1.3 (got: $o)" eval '[[ "$o" == "TLSv1.3 TLS_"* ]]'
    o=$(tls "$S_PORT" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)
    t_check "TLS 1.2 with an ECDHE AEAD suite is accepted (got: $o)" test "$o" = "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256"
    o=$(tls "$S_PORT" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA)
    t_check "TLS 1.2 with a CBC suite (ECDHE-ECDSA-AES128-SHA) is refused (got: $o)" test "$o" = none
else
    t_skip "TLS protocol and cipher checks" "nginx did not start"
fi

echo "# done at ${SECONDS}s"
t_result "$SUITE"
