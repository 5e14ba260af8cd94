# shellcheck shell=bash
# common.sh: bash helpers shared by the local stack (deploy/stack.sh) and the test harness
# (tests/run_all.sh, tests/http/*.sh, tests/lib/redisctl.sh): free ports, PostgreSQL, Redis,
# nginx and the FastCGI pool. Source it; nothing runs on load.
#
# Rules every helper keeps: each wait has a deadline, processes are found and stopped by the PID
# we recorded (never by name), and liveness is a connection attempt, not just `kill -0` (PID 1 of
# a container reaps slowly, so a dead daemon can linger as a zombie).

# Dev settings of Redis, SPEC §7, exactly.
STOCK_REDIS_DEV_ARGS=(--maxmemory 256mb --maxmemory-policy allkeys-lru --save 60 1 --loglevel warning)

stock_log()
{
    printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# Runs "$@" every 0.1 s until it succeeds or SECONDS_MAX pass. Returns 0 or 1.
wait_for()
{
    local max=$1 end
    shift
    end=$((SECONDS + max))
    while :; do
        "$@" && return 0
        ((SECONDS >= end)) && return 1
        sleep 0.1
    done
}

# proc_stat PID: sets PROC_STATE and PROC_PPID from /proc/PID/stat, read by the shell itself
# (no ps, no fork: a reading cannot fail because the machine is busy). Status 1 when PID is
# gone. The name field may hold spaces and ')', so the fields are taken after its last ')'.
proc_stat()
{
    local line rest
    PROC_STATE="" PROC_PPID=""
    [[ "$1" =~ ^[0-9]+$ ]] || return 1
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    rest=${line##*) }
    read -r PROC_STATE PROC_PPID _ <<<"$rest"
    [[ -n "$PROC_STATE" && "$PROC_PPID" =~ ^[0-9]+$ ]]
}

# A process is alive when it exists and is not a zombie.
pid_alive()
{
    proc_stat "$1" || return 1
    [[ "$PROC_STATE" != Z && "$PROC_STATE" != X ]]
}

pid_dead()
{
    ! pid_alive "$1"
}

# Prints the PID stored on the first line of FILE (nothing, status 1, when absent or malformed).
pid_from_file()
{
    local pid=""
    [[ -r "$1" ]] || return 1
    read -r pid <"$1" || true
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    printf '%s\n' "$pid"
}

# Sends SIG (default TERM) to PID and waits up to MAX seconds (default 15) for it to go; then
# KILLs it. Returns 0 once it is gone.
stop_pid()
{
    local pid=$1 max=${2:-15} sig=${3:-TERM}
    pid_alive "$pid" || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    wait_for "$max" pid_dead "$pid" && return 0
    stock_log "pid $pid did not stop after SIG$sig in ${max}s: sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_for 5 pid_dead "$pid"
}

# Children of PID (one per line), but a pool's L1 agent (named stock-l1, fcgi/core/l1_agent.c):
# the children of a pool master are its workers. pool_agent PID: that agent.
pid_children()
{
    _children_of "$1" workers
}
pool_agent()
{
    _children_of "$1" agent
}
# _children_of PID workers|agent. The kernel's list of PID's children (/proc/PID/task/*/children)
# is read in one go, so that it is one moment's: a walk of /proc takes long enough on a loaded
# machine for every worker of a rolling restart to be replaced meanwhile, the old ones gone when
# the walk reaches them and the new ones not in it (it saw none at all). The walk is kept for a
# kernel without that file.
_children_of()
{
    local d pid comm kids
    [[ "$1" =~ ^[0-9]+$ ]] || return 0
    if kids=$(cat /proc/"$1"/task/*/children 2>/dev/null) && [[ -r /proc/$1/task/$1/children ]]; then
        for pid in $kids; do
            { read -r comm <"/proc/$pid/comm"; } 2>/dev/null || continue
            if [[ "$comm" == stock-l1 ]]; then
                [[ "$2" == agent ]] && printf '%s\n' "$pid"
            elif [[ "$2" == workers ]]; then
                printf '%s\n' "$pid"
            fi
        done
        return 0
    fi
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        proc_stat "$pid" && [[ "$PROC_PPID" == "$1" ]] || continue
        { read -r comm <"$d/comm"; } 2>/dev/null || continue
        if [[ "$comm" == stock-l1 ]]; then
            [[ "$2" == agent ]] && printf '%s\n' "$pid"
        elif [[ "$2" == workers ]]; then
            printf '%s\n' "$pid"
        fi
    done
    return 0
}

# Succeeds when something accepts a TCP connection on HOST PORT (bounded to 2 s).
port_open()
{
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

port_closed()
{
    ! port_open "$1" "$2"
}

# Connection attempt on a FastCGI address: host:port or an absolute unix socket path.
addr_open()
{
    local addr=$1
    # A unix socket is only checked to exist: writing to it would hand a worker garbage.
    if [[ "$addr" == /* ]]; then
        [[ -S "$addr" ]]
        return
    fi
    port_open "${addr%:*}" "${addr##*:}"
}

_STOCK_PICKED_PORTS=" "

# pick_port VAR: stores in VAR a random loopback port nobody listens on, distinct from the ports
# picked before by this shell. The range is 20000-32767: inside the asked 20000-60000 and below
# Linux's ephemeral range (32768-60999), so an outgoing connection cannot take it meanwhile.
pick_port()
{
    local __var=$1 __p __i
    for __i in $(seq 1 200); do
        __p=$((20000 + RANDOM % 12768))
        [[ "$_STOCK_PICKED_PORTS" == *" $__p "* ]] && continue
        port_open 127.0.0.1 "$__p" && continue
        _STOCK_PICKED_PORTS+="$__p "
        printf -v "$__var" '%s' "$__p"
        return 0
    done
    stock_log "pick_port: no free port found"
    return 1
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# The bin directory of the newest installed PostgreSQL server.
pg_bindir()
{
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n "$d" && -x "$d/pg_ctl" ]] || {
        stock_log "PostgreSQL server binaries not found under /usr/lib/postgresql"
        return 1
    }
    printf '%s\n' "$d"
}

# Runs "$@" as user postgres when we are root (PostgreSQL refuses to run as root), else as is.
as_postgres()
{
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_url()
{
    printf 'postgresql://postgres@127.0.0.1:%s/stock\n' "$1"
}

# pg_running DIR PORT: the cluster in DIR runs (its postmaster PID is alive) and takes connections.
pg_running()
{
    local pid
    pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null) || return 1
    pid_alive "$pid" && port_open 127.0.0.1 "$2"
}

# pg_start DIR PORT LOG [-c name=value ...]: creates the cluster in DIR if needed (owned by
# postgres, trust auth on loopback), starts it on 127.0.0.1:PORT with its socket in DIR, and
# creates database "stock". Extra arguments go to the server (tests pass -c fsync=off).
# Does nothing but ensure the database when the cluster already runs.
pg_start()
{
    local dir=$1 port=$2 log=$3 bin opts
    shift 3
    bin=$(pg_bindir) || return 1
    mkdir -p "$dir" "$(dirname "$log")"
    dir=$(cd "$dir" && pwd)
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres:postgres "$dir"
        touch "$log"
        chown postgres:postgres "$log"
    fi
    chmod 700 "$dir"
    if [[ ! -f "$dir/PG_VERSION" ]]; then
        as_postgres "$bin/initdb" -D "$dir" -U postgres --auth-local=trust --auth-host=trust \
            -E UTF8 --locale=C.UTF-8 >>"$log" 2>&1 || {
            stock_log "initdb failed, see $log"
            tail -n 20 "$log" >&2
            return 1
        }
    fi
    if ! pg_running "$dir" "$port"; then
        if port_open 127.0.0.1 "$port"; then
            stock_log "port $port is taken by another program (set another port)"
            return 1
        fi
        opts="-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir $*"
        as_postgres "$bin/pg_ctl" -D "$dir" -l "$log" -w -t 60 -o "$opts" start >/dev/null || {
            stock_log "PostgreSQL did not start, see $log"
            tail -n 20 "$log" >&2
            return 1
        }
        wait_for 30 port_open 127.0.0.1 "$port" || {
            stock_log "PostgreSQL does not accept connections on port $port"
            return 1
        }
    fi
    if [[ -z "$(psql -X -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'stock'")" ]]; then
        psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE stock" \
            >/dev/null || {
            stock_log "cannot create database 'stock'"
            return 1
        }
    fi
}

# pg_stop DIR: fast shutdown of the cluster in DIR (idempotent).
pg_stop()
{
    local dir=$1 bin pid
    [[ -f "$dir/postmaster.pid" ]] || return 0
    pid=$(head -n 1 "$dir/postmaster.pid" 2>/dev/null)
    pid_alive "$pid" || return 0
    bin=$(pg_bindir) || return 1
    if ! as_postgres "$bin/pg_ctl" -D "$dir" -m fast -w -t 30 stop >/dev/null 2>&1; then
        stock_log "pg_ctl stop failed: stopping PostgreSQL by PID $pid"
        stop_pid "$pid" 15 INT
    fi
    wait_for 10 pid_dead "$pid"
}

# ---------------------------------------------------------------------------------------------
# Redis

# redis_start DIR PORT [extra redis-server args]: starts Redis on 127.0.0.1:PORT with the dev
# settings, data (dump.rdb), pidfile and log in DIR, and waits for PING. The extra arguments are
# kept in DIR/redis.args so that redisctl.sh starts it again the same way.
redis_start()
{
    local dir=$1 port=$2 args=()
    shift 2
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ $# -gt 0 ]]; then
        printf '%s\n' "$@" >"$dir/redis.args"
    elif [[ -f "$dir/redis.args" ]]; then
        mapfile -t args <"$dir/redis.args"
        set -- "${args[@]}"
    fi
    if redis_running "$dir" "$port"; then
        return 0
    fi
    if port_open 127.0.0.1 "$port"; then
        stock_log "port $port is taken by another program (set another port)"
        return 1
    fi
    rm -f "$dir/redis.pid"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --pidfile "$dir/redis.pid" \
        --daemonize yes --logfile "$dir/redis.log" "${STOCK_REDIS_DEV_ARGS[@]}" "$@" || {
        stock_log "redis-server failed to start, see $dir/redis.log"
        return 1
    }
    wait_for 30 redis_ping "$port" || {
        stock_log "Redis does not answer PING on port $port, see $dir/redis.log"
        tail -n 20 "$dir/redis.log" >&2
        return 1
    }
    wait_for 5 test -s "$dir/redis.pid"
}

redis_ping()
{
    [[ "$(timeout 2 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]
}

# redis_running DIR PORT: the Redis of DIR runs (pidfile PID alive) and takes connections.
redis_running()
{
    local pid
    pid=$(pid_from_file "$1/redis.pid") || return 1
    pid_alive "$pid" && port_open 127.0.0.1 "$2"
}

# redis_stop DIR PORT: SHUTDOWN SAVE (the data persists in DIR/dump.rdb), then waits until the
# port is closed and the process gone. Falls back to SHUTDOWN NOSAVE, then TERM/KILL by PID.
redis_stop()
{
    local dir=$1 port=$2 pid=""
    pid=$(pid_from_file "$dir/redis.pid") || pid=""
    redis_resume "$dir"
    if port_open 127.0.0.1 "$port"; then
        timeout 10 redis-cli -h 127.0.0.1 -p "$port" shutdown save >/dev/null 2>&1 || true
        # Redis refuses to exit when its final save fails (full disk, deleted dir).
        if ! wait_for 10 port_closed 127.0.0.1 "$port"; then
            stock_log "Redis on port $port did not stop (save failed?): SHUTDOWN NOSAVE"
            timeout 10 redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
        fi
        if ! wait_for 5 port_closed 127.0.0.1 "$port"; then
            stock_log "Redis on port $port ignored SHUTDOWN: stopping it by PID"
            [[ -n "$pid" ]] && stop_pid "$pid" 5 TERM
        fi
    fi
    [[ -n "$pid" ]] && { wait_for 10 pid_dead "$pid" || stop_pid "$pid" 5 KILL; }
    wait_for 10 port_closed 127.0.0.1 "$port"
}

# Ends a pause made by redisctl.sh (SIGSTOP): cancels its timer and sends SIGCONT.
redis_resume()
{
    local dir=$1 pid timer
    if timer=$(pid_from_file "$dir/pause.pid"); then
        pid_alive "$timer" && kill "$timer" 2>/dev/null
        rm -f "$dir/pause.pid"
    fi
    pid=$(pid_from_file "$dir/redis.pid") && kill -CONT "$pid" 2>/dev/null
    return 0
}

# ---------------------------------------------------------------------------------------------
# nginx

# nginx_render TEMPLATE OUT LISTEN FCGI STATIC PREFIX [LOGS]: writes the config OUT from
# TEMPLATE. FCGI is host:port or an absolute unix socket path; LOGS defaults to PREFIX/logs.
nginx_render()
{
    local tpl=$1 out=$2 listen=$3 fcgi=$4 static=$5 prefix=$6 logs=${7:-$6/logs}
    [[ "$fcgi" == /* ]] && fcgi="unix:$fcgi"
    mkdir -p "$(dirname "$out")"
    sed -e "s|@LISTEN@|$listen|g" -e "s|@FCGI@|$fcgi|g" -e "s|@STATIC@|$static|g" \
        -e "s|@PREFIX@|$prefix|g" -e "s|@LOGS@|$logs|g" "$tpl" >"$out.tmp" && mv "$out.tmp" "$out"
}

nginx_pid()
{
    pid_from_file "$1/nginx.pid"
}

# nginx_running PREFIX LISTEN: the master of PREFIX runs and LISTEN (host:port) accepts.
nginx_running()
{
    local pid
    pid=$(nginx_pid "$1") || return 1
    pid_alive "$pid" && port_open "${2%:*}" "${2##*:}"
}

nginx_healthy()
{
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$1/nginx-health")" == 200 ]]
}

# nginx_start PREFIX CONF LISTEN [LOGS]: validates CONF and starts nginx with its runtime files
# under PREFIX (pid, tmp/) and its logs in LOGS (default PREFIX/logs); waits until /nginx-health
# answers 200.
nginx_start()
{
    local prefix=$1 conf=$2 listen=$3 logs=${4:-$1/logs}
    mkdir -p "$prefix/tmp" "$logs"
    if nginx_running "$prefix" "$listen"; then
        return 0
    fi
    if port_open "${listen%:*}" "${listen##*:}"; then
        stock_log "$listen is taken by another program (set another port)"
        return 1
    fi
    nginx -q -t -p "$prefix" -c "$conf" -e "$logs/nginx-error.log" || {
        stock_log "nginx rejects $conf"
        return 1
    }
    rm -f "$prefix/nginx.pid"
    # Its stdio goes to a file: a daemon holding our stdout would keep a caller's pipe open.
    nginx -p "$prefix" -c "$conf" -e "$logs/nginx-error.log" </dev/null \
        >>"$logs/nginx-start.out" 2>&1 || {
        stock_log "nginx did not start, see $logs/nginx-error.log"
        cat "$logs/nginx-start.out" >&2
        return 1
    }
    wait_for 20 nginx_healthy "$listen" || {
        stock_log "nginx does not answer on $listen, see $logs/nginx-error.log"
        tail -n 20 "$logs/nginx-error.log" >&2
        return 1
    }
}

# nginx_stop PREFIX: graceful quit of the master recorded in PREFIX/nginx.pid, then TERM/KILL.
nginx_stop()
{
    local prefix=$1 pid kids k
    pid=$(nginx_pid "$prefix") || return 0
    pid_alive "$pid" || return 0
    kids=$(pid_children "$pid")
    stop_pid "$pid" 10 QUIT
    for k in $kids; do
        stop_pid "$k" 5 TERM
    done
    return 0
}

# ---------------------------------------------------------------------------------------------
# The FastCGI pool (stock-fcgi)

# pool_start BIN LISTEN LOG PIDFILE [NAME=VALUE ...]: starts the pool in the background, in its
# own session (it outlives the calling shell), with STOCK_LISTEN=LISTEN and the given variables,
# stderr and stdout appended to LOG. The process writes its own PID to PIDFILE before exec, so
# the PID is the pool master's. Waits until a worker answers /health on LISTEN (30 s).
pool_start()
{
    local bin=$1 listen=$2 log=$3 pidfile=$4 pid
    shift 4
    mkdir -p "$(dirname "$log")" "$(dirname "$pidfile")"
    rm -f "$pidfile"
    # setsid only execs (no fork) here: a non-interactive shell's job is no group leader, so the
    # pool stays our child and `wait` can collect its exit status.
    env STOCK_LISTEN="$listen" "$@" setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' _ \
        "$pidfile" "$bin" </dev/null >>"$log" 2>&1 &
    wait_for 10 test -s "$pidfile" || {
        stock_log "the pool did not start"
        return 1
    }
    pid=$(pid_from_file "$pidfile") || return 1
    if ! wait_for 30 pool_ready "$pid" "$listen"; then
        stock_log "the pool does not listen on $listen, see $log:"
        tail -n 20 "$log" >&2
        return 1
    fi
}

# pool_ready PID ADDR: the pool runs and a worker answers GET /health (straight, with cgi-fcgi).
pool_ready()
{
    pid_alive "$1" && addr_open "$2" && fcgi_get "$2" /health 2>/dev/null | grep -q '"status"'
}

# pool_stop PID [MAX]: SIGTERM (the pool drains and exits), up to MAX seconds (default 20), then
# KILL; workers left behind by a killed master are stopped by PID as well.
pool_stop()
{
    local pid=$1 max=${2:-20} kids k
    pid_alive "$pid" || return 0
    kids=$(pid_children "$pid")
    stop_pid "$pid" "$max" TERM
    for k in $kids; do
        stop_pid "$k" 5 TERM
    done
    return 0
}

pool_workers()
{
    pid_children "$1"
}

# live_workers PID: the live (non-zombie) workers of pool PID, sorted, on one line.
live_workers()
{
    local k out=""
    for k in $(pool_workers "$1"); do
        pid_alive "$k" && out+="$k "
    done
    tr ' ' '\n' <<<"$out" | grep -v '^$' | sort -n | tr '\n' ' '
}

# http_status URL [curl args]: prints the HTTP status of a GET (000 on connection failure).
http_status()
{
    local url=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url" || true
}

# fcgi_get ADDR PATH [QUERY]: one GET straight to a FastCGI server with cgi-fcgi (no nginx);
# prints the raw CGI response (headers, blank line, body).
fcgi_get()
{
    local addr=$1 path=$2 query=${3:-}
    env -i PATH="$PATH" REQUEST_METHOD=GET SCRIPT_NAME="$path" REQUEST_URI="$path${query:+?$query}" \
        DOCUMENT_URI="$path" QUERY_STRING="$query" SERVER_PROTOCOL=HTTP/1.1 \
        REMOTE_ADDR=127.0.0.1 REQUEST_ID="fcgi-get-$$" CONTENT_LENGTH=0 \
        timeout 10 cgi-fcgi -bind -connect "$addr"
}

# ---------------------------------------------------------------------------------------------
# TAP-like helpers of the end-to-end suites (tests/http/*.sh)

T_PASSED=0
T_FAILED=0
T_SKIPPED=0

# t_ok NAME: one passed check. Call it only after the condition it names held (t_check does
# both); a check that could not run is t_skip, never t_ok.
t_ok()
{
    T_PASSED=$((T_PASSED + 1))
    echo "ok - $1"
}

t_not_ok()
{
    T_FAILED=$((T_FAILED + 1))
    echo "not ok - $1${2:+ ($2)}"
}

# t_skip NAME WHY: a check that could not run here (a tool is missing, the log level hides what
# it reads). Reported as "ok - NAME # SKIP WHY" (TAP's directive) and counted in T_SKIPPED,
# never in T_PASSED.
t_skip()
{
    T_SKIPPED=$((T_SKIPPED + 1))
    echo "ok - $1 # SKIP ${2:-}"
}

# t_check NAME CMD...: ok when CMD succeeds.
t_check()
{
    local name=$1
    shift
    if "$@"; then
        t_ok "$name"
    else
        t_not_ok "$name"
    fi
}

# secret_note VALUE...: adds each VALUE (a password, a token) to the run's list of secrets that no
# log may hold (tests/security/scan_logs.sh checks it at the end of tests/run_all.sh).
secret_note()
{
    [[ -n "${STOCK_TEST_DIR:-}" ]] || return 0
    printf '%s\n' "$@" >>"$STOCK_TEST_DIR/secrets.list"
}

# t_result SUITE: prints the RESULT line ("RESULT SUITE passed=N failed=M skipped=K"); exit
# status 1 when something failed.
t_result()
{
    echo "RESULT $1 passed=$T_PASSED failed=$T_FAILED skipped=$T_SKIPPED"
    ((T_FAILED == 0))
}

# result_counts LINE: the counts of a suite's line "RESULT <suite> passed=N failed=M", maybe
# followed by " skipped=K", as "N M K" (K is 0 when absent); status 1 when LINE is no such line.
result_counts()
{
    [[ "$1" =~ ^RESULT\ [^\ ]+\ passed=([0-9]+)\ failed=([0-9]+)(\ skipped=([0-9]+))? ]] || return 1
    printf '%s %s %s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[4]:-0}"
}

# summary_line PASSED FAILED SKIPPED: the last line of a run, "N passed, N failed", with
# ", N skipped" added when SKIPPED > 0.
summary_line()
{
    if (($3 > 0)); then
        echo "$1 passed, $2 failed, $3 skipped"
    else
        echo "$1 passed, $2 failed"
    fi
}

# req METHOD URL [curl args]: sets R_STATUS (000 on connection failure), R_BODY and R_HEADERS
# (header lines, CRs removed). Bounded to 15 s.
req()
{
    local method=$1 url=$2 tmp
    shift 2
    tmp=$(mktemp -d)
    R_STATUS=$(curl -s -X "$method" -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' --max-time 15 \
        "$@" "$url" 2>/dev/null) || true
    [[ -n "$R_STATUS" ]] || R_STATUS=000
    R_BODY=$(cat "$tmp/b" 2>/dev/null)
    R_HEADERS=$(tr -d '\r' <"$tmp/h" 2>/dev/null)
    rm -rf "$tmp"
}

# header NAME: the value of header NAME in R_HEADERS (case-insensitive), empty if absent.
header()
{
    awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" -F': ' \
        'tolower($1) == n { sub(/^[^:]*: /, ""); print; exit }' <<<"$R_HEADERS"
}

# json_has KEY VALUE: R_BODY holds "KEY": "VALUE" (string value, whitespace-tolerant).
json_has()
{
    grep -qE "\"$1\"[[:space:]]*:[[:space:]]*\"$2\"" <<<"$R_BODY"
}
