#!/usr/bin/env bash
# run.sh: the fault suite (`make test-faults`; `make test` runs it too). It starts a stack of its
# own on free loopback ports (PostgreSQL, a Redis that requires a password, the ASan pool with two
# workers, nginx) under $STOCK_TEST_DIR/faults (or build/faults-run), creates four tenants, and
# runs tests/faults/load.mjs: a paced load of mixed reads and writes from the four tenants while
# it breaks one part at a time (Redis killed, paused, restarted with another password, out of
# memory; PostgreSQL restarted; a worker killed; nginx reloaded; the pool stopped with SIGTERM).
# load.mjs calls this script back with `--action NAME` to break and mend things, prints the table
# and ends with "RESULT faults passed=N failed=M".
#
# Environment: FAULT_RATE (requests/s, default 300), FAULT_SECONDS_SCALE (multiplies every hold
# and observation time, default 1), FAULT_PHASES (e.g. "1,3": only those phases of load.mjs's
# PLAN; 1 is the baseline), FAULT_POOL_BIN (another stock-fcgi build, e.g. an older commit's,
# to see what the suite finds in it), FAULT_DEBUG (log the /health/cache probes).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh

# The Redis password of the stack, and the one a fault restarts Redis with.
REDIS_PW=fault-redis-pw-1
REDIS_PW_OTHER=fault-redis-pw-2

# ---------------------------------------------------------------------------------------------
# Actions (load.mjs runs `run.sh --action NAME` with the FAULT_* variables of the stack)

fredis_cli()
{
    timeout 5 redis-cli -h 127.0.0.1 -p "$FAULT_REDIS_PORT" -a "$1" --no-auth-warning "${@:2}"
}

# fredis_start PASSWORD: starts the stack's Redis with PASSWORD and waits until it answers PING.
fredis_start()
{
    local pw=$1 d=$FAULT_DIR/redis
    mkdir -p "$d"
    rm -f "$d/redis.pid"
    redis-server --port "$FAULT_REDIS_PORT" --bind 127.0.0.1 --dir "$d" --pidfile "$d/redis.pid" \
        --daemonize yes --logfile "$d/redis.log" "${STOCK_REDIS_DEV_ARGS[@]}" \
        --requirepass "$pw" || return 1
    wait_for 20 eval '[[ "$(fredis_cli "$pw" ping 2>/dev/null)" == PONG ]]' &&
        wait_for 5 test -s "$d/redis.pid"
}

# fredis_stop SIGNAL: stops the stack's Redis by PID with SIGNAL and waits until it is gone.
fredis_stop()
{
    local pid
    pid=$(pid_from_file "$FAULT_DIR/redis/redis.pid") || return 0
    kill "-$1" "$pid" 2>/dev/null
    wait_for 15 pid_dead "$pid" && wait_for 5 port_closed 127.0.0.1 "$FAULT_REDIS_PORT"
}

fpool_start()
{
    pool_start "${FAULT_POOL_BIN:-build/asan/stock-fcgi}" "$FAULT_FCGI_ADDR" "$FAULT_DIR/logs/stock-fcgi.log" \
        "$FAULT_DIR/run/stock-fcgi.pid" STOCK_WORKERS=2 LOG_LEVEL=info \
        DATABASE_URL="$DATABASE_URL" REDIS_URL="redis://:$REDIS_PW@127.0.0.1:$FAULT_REDIS_PORT/0" \
        REDIS_SOCKET_TIMEOUT=0.5 REDIS_CONNECT_TIMEOUT=0.5 REDIS_RETRY_ON_TIMEOUT=true
}

action()
{
    local pid w
    case "$1" in
    redis-kill) fredis_stop KILL ;;
    redis-start) fredis_start "$REDIS_PW" ;;
    # CLIENT PAUSE ALL holds every command, PINGs included, for 2.5 s: past the 0.5 s timeout.
    redis-pause) [[ "$(fredis_cli "$REDIS_PW" client pause 2500 all)" == OK ]] ;;
    redis-password)
        fredis_stop TERM && fredis_start "$REDIS_PW_OTHER"
        ;;
    redis-password-back)
        fredis_stop TERM && fredis_start "$REDIS_PW"
        ;;
    # No memory for anything new: every write Redis would have to grow for answers OOM.
    # The last SET proves the fault: Redis must refuse it.
    redis-oom)
        [[ "$(fredis_cli "$REDIS_PW" config set maxmemory-policy noeviction)" == OK &&
            "$(fredis_cli "$REDIS_PW" config set maxmemory 1)" == OK &&
            "$(fredis_cli "$REDIS_PW" set fault:probe 1)" == OOM* ]]
        ;;
    redis-oom-end)
        [[ "$(fredis_cli "$REDIS_PW" config set maxmemory 256mb)" == OK &&
            "$(fredis_cli "$REDIS_PW" config set maxmemory-policy allkeys-lru)" == OK ]]
        ;;
    pg-stop) pg_stop "$FAULT_DIR/pg" ;;
    pg-start) pg_start "$FAULT_DIR/pg" "$FAULT_PG_PORT" "$FAULT_DIR/logs/postgresql.log" ;;
    worker-kill)
        pid=$(pid_from_file "$FAULT_DIR/run/stock-fcgi.pid") || return 1
        w=$(pool_workers "$pid" | head -n 1)
        [[ -n "$w" ]] && kill -KILL "$w" && echo "killed worker $w"
        ;;
    # The master respawns the killed worker: wait until two answer again.
    worker-respawned)
        pid=$(pid_from_file "$FAULT_DIR/run/stock-fcgi.pid") || return 1
        wait_for 20 eval '[[ $(pool_workers "$pid" | wc -l) -ge 2 ]]'
        ;;
    nginx-reload)
        pid=$(nginx_pid "$FAULT_DIR/nginx") && kill -HUP "$pid"
        ;;
    # SIGTERM to the pool master: it drains and exits; returns when it is gone.
    pool-stop)
        pid=$(pid_from_file "$FAULT_DIR/run/stock-fcgi.pid") || return 1
        kill -TERM "$pid" && wait_for 40 pid_dead "$pid"
        ;;
    pool-start) fpool_start ;;
    *)
        echo "run.sh: unknown action $1" >&2
        return 2
        ;;
    esac
}

if [[ "${1:-}" == --action ]]; then
    action "$2"
    exit
fi

# ---------------------------------------------------------------------------------------------
# The stack

FAULT_DIR=${STOCK_TEST_DIR:-$ROOT/build/faults-run}/faults
OWN_RUN=0
[[ -z "${STOCK_TEST_DIR:-}" ]] && OWN_RUN=1
export STOCK_ENV_FILE=/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

stop_stack()
{
    local pid
    pid=$(pid_from_file "$FAULT_DIR/run/stock-fcgi.pid") && pool_stop "$pid" 30
    nginx_stop "$FAULT_DIR/nginx"
    fredis_stop TERM
    pg_stop "$FAULT_DIR/pg"
}

fail_setup()
{
    echo "not ok - the fault stack starts: $1"
    echo "RESULT faults passed=0 failed=1"
    exit 1
}

for t in build/asan/stock-fcgi build/release/stockctl; do
    [[ -x "$t" ]] || fail_setup "$t is missing (make tests VARIANT=asan; make bins)"
done
command -v node >/dev/null || fail_setup "node is missing (deploy/deps.sh installs it)"

# A previous standalone run's leftovers.
((OWN_RUN)) && [[ -d "$FAULT_DIR" ]] && stop_stack
rm -rf "$FAULT_DIR"
mkdir -p "$FAULT_DIR/logs" "$FAULT_DIR/run"
chmod 755 "$(dirname "$FAULT_DIR")" "$FAULT_DIR"
trap stop_stack EXIT
trap 'exit 143' TERM INT

pick_port FAULT_PG_PORT && pick_port FAULT_REDIS_PORT && pick_port fcgi_port &&
    pick_port http_port || fail_setup "no free ports"
export FAULT_DIR FAULT_PG_PORT FAULT_REDIS_PORT
export FAULT_FCGI_ADDR=127.0.0.1:$fcgi_port
export FAULT_BASE=http://127.0.0.1:$http_port
export DATABASE_URL
DATABASE_URL=$(pg_url "$FAULT_PG_PORT")
unset REDIS_URL

pg_start "$FAULT_DIR/pg" "$FAULT_PG_PORT" "$FAULT_DIR/logs/postgresql.log" || fail_setup "PostgreSQL"
fredis_start "$REDIS_PW" || fail_setup "Redis"
build/release/stockctl migrate >"$FAULT_DIR/logs/migrate.out" 2>&1 || fail_setup "stockctl migrate"
fpool_start || fail_setup "the pool"
nginx_render nginx/stock.conf.in "$FAULT_DIR/nginx/nginx.conf" "127.0.0.1:$http_port" \
    "$FAULT_FCGI_ADDR" "$ROOT/nginx/static" "$FAULT_DIR/nginx" "$FAULT_DIR/logs"
nginx_start "$FAULT_DIR/nginx" "$FAULT_DIR/nginx/nginx.conf" "127.0.0.1:$http_port" \
    "$FAULT_DIR/logs" || fail_setup "nginx"

# Four tenants, each with an admin whose password is FAULT_PASSWORD.
export FAULT_RUN_ID=$$
export FAULT_PASSWORD=fault-user-pw-$$
secret_note "$FAULT_PASSWORD" "$REDIS_PW" "$REDIS_PW_OTHER"
export FAULT_TENANTS=""
for i in 1 2 3 4; do
    slug=flt-$$-$i
    id=$(build/release/stockctl tenant create "$slug" "Fault tenant $i" 2>>"$FAULT_DIR/logs/stockctl.err")
    [[ "$id" =~ ^[0-9]+$ ]] || fail_setup "stockctl tenant create $slug"
    printf '%s\n' "$FAULT_PASSWORD" | build/release/stockctl user create --tenant "$slug" \
        --email "admin@$slug.test" --role admin >/dev/null 2>>"$FAULT_DIR/logs/stockctl.err" ||
        fail_setup "stockctl user create for $slug"
    FAULT_TENANTS+="${FAULT_TENANTS:+,}$slug"
done

export FAULT_SELF=$ROOT/tests/faults/run.sh
node tests/faults/load.mjs
rc=$?
echo "# logs: ${FAULT_DIR#"$ROOT"/}/logs"
exit $rc
