#!/usr/bin/env bash
# stack.sh: the local stack of `make run` / `make stop`, everything on loopback, state in var/.
#
#   up    starts what is not running yet: PostgreSQL (var/pg), Redis with the dev settings
#         (var/redis), the worker pool (build/release/stock-fcgi) and nginx; applies the
#         migrations, creates the demo tenant and its admin once, prints the URL and the login.
#         The processes keep running detached.
#   down  stops nginx, the pool, Redis and PostgreSQL by their recorded PIDs (idempotent).
#
# State: STOCK_VAR_DIR (var/). Ports: STOCK_PG_PORT (5432), STOCK_REDIS_PORT (6379), STOCK_FCGI_PORT (9000),
# STOCK_HTTP_PORT (8080); STOCK_WORKERS (2), LOG_LEVEL (info). var/stack.env keeps the settings
# of the running stack (source it to use build/release/stockctl against it).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh

VAR=${STOCK_VAR_DIR:-$ROOT/var}
LOGS=$VAR/log
ENVF=$VAR/stack.env
POOL_PIDFILE=$VAR/run/stock-fcgi.pid
NGINX_PREFIX=$VAR/nginx

DEMO_TENANT=demo
DEMO_NAME="Demo Shop"
DEMO_EMAIL=admin@demo.local
DEMO_PASSWORD=demo-admin-1
DEMO_STAFF_EMAIL=staff@demo.local
DEMO_STAFF_PASSWORD=demo-staff-1

# The value of KEY in var/stack.env (the ports of the stack that runs), if any.
saved()
{
    [[ -f "$ENVF" ]] && sed -n "s/^$1=//p" "$ENVF" | tail -n 1
}

# An explicit environment value wins, then the running stack's, then the default.
PG_PORT=${STOCK_PG_PORT:-$(saved STOCK_PG_PORT)}
PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${STOCK_REDIS_PORT:-$(saved STOCK_REDIS_PORT)}
REDIS_PORT=${REDIS_PORT:-6379}
FCGI_PORT=${STOCK_FCGI_PORT:-$(saved STOCK_FCGI_PORT)}
FCGI_PORT=${FCGI_PORT:-9000}
HTTP_PORT=${STOCK_HTTP_PORT:-$(saved STOCK_HTTP_PORT)}
HTTP_PORT=${HTTP_PORT:-8080}

# The key cached values are signed with (SPEC §11): made once, kept across restarts (so the
# cache survives them), readable by this user only.
CACHE_SECRET=${CACHE_SECRET:-$(saved CACHE_SECRET)}
CACHE_SECRET=${CACHE_SECRET:-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')}

DATABASE_URL=$(pg_url "$PG_PORT")
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
FCGI_ADDR=127.0.0.1:$FCGI_PORT
HTTP_ADDR=127.0.0.1:$HTTP_PORT
BASE_URL=http://$HTTP_ADDR/

die()
{
    stock_log "stack: $*"
    exit 1
}

write_env()
{
    mkdir -p "$VAR"
    (umask 077 && : >"$ENVF.tmp")
    cat >"$ENVF.tmp" <<EOF
# Written by deploy/stack.sh up: the settings of the running local stack.
DATABASE_URL=$DATABASE_URL
REDIS_URL=$REDIS_URL
CACHE_SECRET=$CACHE_SECRET
STOCK_LISTEN=$FCGI_ADDR
STOCK_WORKERS=${STOCK_WORKERS:-2}
LOG_LEVEL=${LOG_LEVEL:-info}
STOCK_PG_PORT=$PG_PORT
STOCK_REDIS_PORT=$REDIS_PORT
STOCK_FCGI_PORT=$FCGI_PORT
STOCK_HTTP_PORT=$HTTP_PORT
STOCK_BASE_URL=$BASE_URL
EOF
    mv "$ENVF.tmp" "$ENVF"
}

pool_running()
{
    local pid
    pid=$(pid_from_file "$POOL_PIDFILE") || return 1
    pid_alive "$pid" && port_open 127.0.0.1 "$FCGI_PORT"
}

psql_stock()
{
    psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d stock -v ON_ERROR_STOP=1 -tA "$@"
}

up()
{
    local bin=build/release/stock-fcgi ctl=build/release/stockctl pid code

    [[ -x "$bin" && -x "$ctl" ]] || die "$bin or $ctl is missing: run 'make bins' first"
    command -v nginx >/dev/null || die "nginx is not installed: run 'make deps'"
    mkdir -p "$VAR/run" "$LOGS"
    write_env
    export DATABASE_URL REDIS_URL

    if pg_running "$VAR/pg" "$PG_PORT"; then
        echo "PostgreSQL   already running on 127.0.0.1:$PG_PORT"
    else
        pg_start "$VAR/pg" "$PG_PORT" "$LOGS/postgresql.log" ||
            die "PostgreSQL did not start (STOCK_PG_PORT picks another port)"
        echo "PostgreSQL   started on 127.0.0.1:$PG_PORT (data var/pg)"
    fi

    if redis_running "$VAR/redis" "$REDIS_PORT"; then
        echo "Redis        already running on 127.0.0.1:$REDIS_PORT"
    else
        redis_start "$VAR/redis" "$REDIS_PORT" ||
            die "Redis did not start (STOCK_REDIS_PORT picks another port)"
        echo "Redis        started on 127.0.0.1:$REDIS_PORT (data var/redis)"
    fi

    "$ctl" migrate || die "stockctl migrate failed"

    if [[ -z "$(psql_stock -c "SELECT 1 FROM tenants WHERE slug = '$DEMO_TENANT'")" ]]; then
        "$ctl" tenant create "$DEMO_TENANT" "$DEMO_NAME" >/dev/null ||
            die "cannot create the demo tenant"
        printf '%s\n' "$DEMO_PASSWORD" |
            "$ctl" user create --tenant "$DEMO_TENANT" --email "$DEMO_EMAIL" --role admin \
                >/dev/null || die "cannot create the demo admin"
        printf '%s\n' "$DEMO_STAFF_PASSWORD" |
            "$ctl" user create --tenant "$DEMO_TENANT" --email "$DEMO_STAFF_EMAIL" --role staff \
                >/dev/null || die "cannot create the demo staff user"
        if "$ctl" seed-demo --tenant "$DEMO_TENANT" --sales 2000 --days 90 >"$LOGS/seed-demo.log" 2>&1; then
            echo "demo         tenant '$DEMO_TENANT' created with demo data"
        else
            echo "demo         tenant '$DEMO_TENANT' created (no demo data: see var/log/seed-demo.log)"
        fi
    fi

    if pool_running; then
        echo "pool         already running on $FCGI_ADDR (pid $(pid_from_file "$POOL_PIDFILE"))"
        [[ "$bin" -nt "$POOL_PIDFILE" ]] &&
            echo "             note: $bin is newer than the running pool; 'make stop && make run' restarts it"
    else
        port_open 127.0.0.1 "$FCGI_PORT" &&
            die "$FCGI_ADDR is taken by another program (STOCK_FCGI_PORT picks another port)"
        pool_start "$bin" "$FCGI_ADDR" "$LOGS/stock-fcgi.log" "$POOL_PIDFILE" \
            DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" \
            STOCK_WORKERS="${STOCK_WORKERS:-2}" LOG_LEVEL="${LOG_LEVEL:-info}" ||
            die "the pool did not start, see var/log/stock-fcgi.log"
        echo "pool         started on $FCGI_ADDR (pid $(pid_from_file "$POOL_PIDFILE"), log var/log/stock-fcgi.log)"
    fi

    if nginx_running "$NGINX_PREFIX" "$HTTP_ADDR"; then
        echo "nginx        already running on $HTTP_ADDR"
    else
        nginx_render nginx/stock.conf.in "$NGINX_PREFIX/nginx.conf" "$HTTP_ADDR" "$FCGI_ADDR" \
            "$ROOT/nginx/static" "$NGINX_PREFIX" "$LOGS"
        nginx_start "$NGINX_PREFIX" "$NGINX_PREFIX/nginx.conf" "$HTTP_ADDR" "$LOGS" ||
            die "nginx did not start (STOCK_HTTP_PORT picks another port)"
        echo "nginx        started on $HTTP_ADDR (logs var/log/nginx-*.log)"
    fi

    code=000
    wait_for 20 eval '[[ "$(http_status "${BASE_URL}health")" == 200 ]]' && code=200
    [[ "$code" == 200 ]] || die "GET ${BASE_URL}health does not answer 200, see var/log/"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        --data "{\"tenant\":\"$DEMO_TENANT\",\"email\":\"$DEMO_EMAIL\",\"password\":\"$DEMO_PASSWORD\"}" \
        "${BASE_URL}api/v1/auth/login" || true)
    pid=$(pid_from_file "$POOL_PIDFILE")

    echo
    echo "stock is running: $BASE_URL"
    echo "  login: tenant '$DEMO_TENANT', email '$DEMO_EMAIL', password '$DEMO_PASSWORD'"
    echo "         (staff: email '$DEMO_STAFF_EMAIL', password '$DEMO_STAFF_PASSWORD')"
    [[ "$code" == 200 ]] || echo "  (warning: the demo login answered HTTP $code just now)"
    echo "  logs:  var/log/    settings: var/stack.env    pool pid: $pid"
    echo "  stop:  make stop"
}

down()
{
    local pid
    if pid=$(nginx_pid "$NGINX_PREFIX") && pid_alive "$pid"; then
        nginx_stop "$NGINX_PREFIX"
        echo "nginx        stopped"
    fi
    if pid=$(pid_from_file "$POOL_PIDFILE") && pid_alive "$pid"; then
        pool_stop "$pid" 30
        echo "pool         stopped"
    fi
    rm -f "$POOL_PIDFILE"
    if pid=$(pid_from_file "$VAR/redis/redis.pid") && pid_alive "$pid"; then
        redis_stop "$VAR/redis" "$REDIS_PORT"
        echo "Redis        stopped (data kept in var/redis)"
    fi
    if [[ -f "$VAR/pg/postmaster.pid" ]]; then
        pid=$(head -n 1 "$VAR/pg/postmaster.pid")
        if pid_alive "$pid"; then
            pg_stop "$VAR/pg"
            echo "PostgreSQL   stopped (data kept in var/pg)"
        fi
    fi
    return 0
}

case "${1:-}" in
up) up ;;
down) down ;;
*)
    echo "usage: deploy/stack.sh up|down" >&2
    exit 2
    ;;
esac
