# shellcheck shell=bash
# pgbouncer.sh: a throwaway PgBouncer (Debian's /usr/sbin/pgbouncer, 1.18) in front of the test
# PostgreSQL of tests/lib/common.sh (pg_start: trust auth on loopback), for
# tests/http/test_pgbouncer.sh and tests/bench/bench.sh. Source after common.sh; nothing runs
# on load. It runs as user postgres when we are root (PgBouncer refuses root), is found and
# stopped by the PID in DIR/pgbouncer.pid, and every wait has a deadline.

PGB_BIN=${PGB_BIN:-/usr/sbin/pgbouncer}
# Seconds a client waits for a server connection before PgBouncer fails its query (PostgreSQL
# unreachable, say); PgBouncer's default is 120.
PGB_QUERY_WAIT=${PGB_QUERY_WAIT:-5}
# More lines for the [databases] section ("name = host=... port=... dbname=..."), one per line.
PGB_EXTRA_DBS=${PGB_EXTRA_DBS:-}

# pgb_write_ini DIR PORT PG_PORT [MODE [POOL_SIZE [EXTRA_LINE ...]]]: writes DIR/pgbouncer.ini
# (database "stock" -> 127.0.0.1:PG_PORT/stock as postgres, pool_mode MODE, default
# transaction, POOL_SIZE server connections, default 4) and DIR/userlist.txt (auth_type trust:
# the user name must still be listed). Each EXTRA_LINE goes to the [pgbouncer] section.
pgb_write_ini()
{
    local dir=$1 port=$2 pg_port=$3 mode=${4:-transaction} size=${5:-4} l
    shift 5 2>/dev/null || shift $#
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    printf '"postgres" ""\n' >"$dir/userlist.txt"
    {
        echo "[databases]"
        echo "stock = host=127.0.0.1 port=$pg_port dbname=stock user=postgres"
        [[ -n "$PGB_EXTRA_DBS" ]] && printf '%s\n' "$PGB_EXTRA_DBS"
        echo "[pgbouncer]"
        echo "listen_addr = 127.0.0.1"
        echo "listen_port = $port"
        echo "unix_socket_dir ="
        echo "auth_type = trust"
        echo "auth_file = $dir/userlist.txt"
        echo "admin_users = postgres"
        echo "stats_users = postgres"
        echo "pool_mode = $mode"
        echo "default_pool_size = $size"
        echo "max_client_conn = 200"
        echo "logfile = $dir/pgbouncer.log"
        echo "pidfile = $dir/pgbouncer.pid"
        echo "query_wait_timeout = $PGB_QUERY_WAIT"
        for l in "$@"; do
            echo "$l"
        done
    } >"$dir/pgbouncer.ini"
    [[ "$(id -u)" -eq 0 ]] && chown -R postgres:postgres "$dir"
    return 0
}

# pgb_psql PORT DB SQL: one psql command through PgBouncer (DB "pgbouncer" is its admin
# console), unaligned, bounded to 10 s.
pgb_psql()
{
    timeout 10 psql -X -q -h 127.0.0.1 -p "$1" -U postgres -d "$2" -tA -F ' ' -c "$3" 2>&1
}

pgb_ready()
{
    [[ "$(pgb_psql "$1" stock 'SELECT 1')" == 1 ]]
}

# pgb_start DIR PORT: starts PgBouncer with DIR/pgbouncer.ini (pgb_write_ini) as a daemon and
# waits (20 s) until a query through it on PORT answers.
pgb_start()
{
    local dir=$1 port=$2
    [[ -x "$PGB_BIN" ]] || {
        stock_log "$PGB_BIN is missing (make deps installs pgbouncer)"
        return 1
    }
    if port_open 127.0.0.1 "$port"; then
        stock_log "port $port is taken by another program"
        return 1
    fi
    rm -f "$dir/pgbouncer.pid"
    as_postgres "$PGB_BIN" -q -d "$dir/pgbouncer.ini" </dev/null >>"$dir/pgbouncer.out" 2>&1 || {
        stock_log "pgbouncer did not start, see $dir/pgbouncer.log"
        tail -n 20 "$dir/pgbouncer.out" "$dir/pgbouncer.log" >&2 2>/dev/null
        return 1
    }
    wait_for 20 pgb_ready "$port" || {
        stock_log "pgbouncer does not answer on port $port, see $dir/pgbouncer.log"
        tail -n 20 "$dir/pgbouncer.log" >&2
        return 1
    }
}

# pgb_stop DIR: immediate shutdown (SIGTERM) of the PgBouncer of DIR, by its PID; idempotent.
pgb_stop()
{
    local pid
    pid=$(pid_from_file "$1/pgbouncer.pid") || return 0
    stop_pid "$pid" 10 TERM
}
