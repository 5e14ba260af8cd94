#!/usr/bin/env bash
# redisctl.sh: lets the integration tests break and mend the test Redis of tests/run_all.sh.
# Environment: STOCK_TEST_REDIS_DIR (its data dir: dump.rdb, redis.pid, redis.args) and
# STOCK_TEST_REDIS_PORT. Exit status 0 on success.
#
#   stop        SHUTDOWN SAVE, returns once the port is closed and the process gone
#   start       starts it again with the same arguments and dir (the RDB is reloaded); waits PING
#   restart     stop, then start
#   pause MS    Redis stops answering for MS milliseconds (connections are still accepted, every
#               command hangs); returns at once
#   unpause     ends a pause now
#   cli ARGS... redis-cli -p PORT ARGS...
#
# Why pause is SIGSTOP and not CLIENT PAUSE: Redis 7.0.15 postpones every command during
# `CLIENT PAUSE ms ALL`, CLIENT UNPAUSE included (measured: it answers only when the pause ends),
# so such a pause cannot be ended early. A stopped process looks the same to clients (the kernel
# completes the TCP handshake, no reply comes) and SIGCONT ends it at once. A detached timer
# sends SIGCONT after MS; its PID is kept in DIR/pause.pid so unpause/stop can cancel it.
set -u

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dir=${STOCK_TEST_REDIS_DIR:-}
port=${STOCK_TEST_REDIS_PORT:-}
if [[ -z "$dir" || -z "$port" ]]; then
    echo "redisctl: STOCK_TEST_REDIS_DIR and STOCK_TEST_REDIS_PORT must be set" >&2
    exit 2
fi

cmd=${1:-}
[[ $# -gt 0 ]] && shift

case "$cmd" in
stop)
    redis_stop "$dir" "$port"
    ;;
start)
    redis_start "$dir" "$port"
    ;;
restart)
    redis_stop "$dir" "$port" && redis_start "$dir" "$port"
    ;;
pause)
    ms=${1:-}
    if ! [[ "$ms" =~ ^[0-9]+$ ]] || ((ms < 1)); then
        echo "redisctl: pause needs a duration in milliseconds" >&2
        exit 2
    fi
    pid=$(pid_from_file "$dir/redis.pid") && pid_alive "$pid" || {
        echo "redisctl: Redis is not running" >&2
        exit 1
    }
    redis_resume "$dir"
    kill -STOP "$pid" || exit 1
    secs=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
    # Detached from our stdio so that a caller reading our output does not wait for the timer.
    setsid bash -c 'sleep "$1"; kill -CONT "$2" 2>/dev/null' _ "$secs" "$pid" \
        </dev/null >/dev/null 2>&1 &
    echo "$!" >"$dir/pause.pid"
    ;;
unpause)
    redis_resume "$dir"
    ;;
cli)
    timeout 30 redis-cli -h 127.0.0.1 -p "$port" "$@"
    ;;
*)
    echo "usage: redisctl.sh stop|start|restart|pause MS|unpause|cli ARGS..." >&2
    exit 2
    ;;
esac
