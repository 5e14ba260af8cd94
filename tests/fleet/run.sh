#!/usr/bin/env bash
# run.sh: the fleet suite (`make test-fleet`; `make test` runs it too as suite "fleet"): three
# app hosts in Linux network namespaces sharing one PostgreSQL and one Redis (SPEC §9), under a
# paced load, broken one part at a time, with an oracle that flags every read that started after
# a write was acknowledged and returned older data.
#
# Topology (P = stk<pid of this script>, so that parallel runs never collide)
# - Namespace P-core: PostgreSQL (:5432), Redis with a password (:6379), one nginx and the load
#   generator (node tests/fleet/load.mjs). nginx listens on 127.0.0.1:8080 (upstream of the
#   three hosts, round robin; a GET whose host fails before answering is passed to the next) and
#   on :8081, :8082, :8083 (host 1, 2, 3 alone), adds X-Upstream ($upstream_addr) to every
#   answer and takes the client address from X-Forwarded-For (real_ip, from 127.0.0.1 only).
# - Namespaces P-h1, P-h2, P-h3: one pool of build/asan/stock-fcgi each (STOCK_WORKERS=2,
#   STOCK_LISTEN=10.201.N.2:9000), started with setsid: each pool is a process group of its own
#   (X-Stock-Fault: crash-host-after-commit kills that group; SIGSTOP/SIGCONT pause it).
# - One veth pair per host: core side 10.201.N.1 (PostgreSQL), 10.201.N.3 (Redis) and 10.201.N.4
#   (the source of nginx's connections to the host), host side 10.201.N.2. Host N reaches
#   PostgreSQL at 10.201.N.1 and Redis at 10.201.N.3 only, so that a route `blackhole
#   10.201.N.3/32` in P-hN cuts that host from Redis alone (10.201.N.1: from PostgreSQL alone;
#   nginx still reaches it), and deleting the route heals it.
#
# Rows (load.mjs ROWS, one fault at a time, each a few seconds under load): baseline; h1 loses
# Redis only (writes sent to h1 alone, reads through the upstream); h2 loses PostgreSQL only; a
# worker killed right after a COMMIT (of a confirm, then of a payment retried with its key); the
# whole of h1 killed right after the COMMIT of a payment, retried with its Idempotency-Key on h2,
# h1 restarted; h3 paused 3 s; Redis restarted;
# PostgreSQL restarted; logout on h1 then the token on h2 and h3 (also while h1 cannot reach
# Redis); a password spray and a brute force of sign-ins spread over the three hosts while Redis
# is down. Then the rows of the per-worker L1 in front of Redis (on, CACHE_L1_BYTES default, on
# every host; each pool's master keeps one L1 agent, a child named stock-l1, whose connections
# stock-l1-track-* and stock-l1-sub-* carry the invalidations): h1's agent SIGKILLed (the master
# restarts it; then again with the master held 800 ms, the agent dead meanwhile); h2's
# subscriber, then its tracking connection, killed from Redis (CLIENT KILL ID, found by name and
# by the host's address); h3's agent paused (SIGSTOP) with the pubsub output buffer limit made
# small (128 kB) and ~1 KB keys SET under the prefix (BCAST reports each) until Redis drops
# it, then continued; FLUSHALL; the quiet tenant's products generation key evicted (maxmemory
# 1 MB above used_memory, allkeys-random, 8 KB filler keys outside the prefix), then a write.
# Each L1 row fails unless the L1 served on the host(s) concerned before the fault. load.mjs
# calls this script back with `--action NAME [ARG]` to break and mend things, and prints the
# checks and the table (its header describes the load and the oracle).
#
# Bounds: setup waits are bounded (common.sh wait_for), node runs under `timeout`, and a
# watchdog ends the whole run after FLEET_DEADLINE seconds (default 300; node's own bound is
# FLEET_NODE_SECONDS, default 240; a run takes about 105 s, the L1 rows ~30 s of it). Environment: FLEET_RATE (requests/s, default 200), FLEET_ROWS (e.g. "1,4": only those
# rows; 1 is the baseline), FLEET_SECONDS_SCALE (multiplies the observation times),
# FLEET_POOL_BIN (another stock-fcgi build with the fault hooks, e.g. an older commit's),
# FLEET_L1_BYTES (the hosts' CACHE_L1_BYTES; unset: the default).
#
# Cleanup: a trap on EXIT (and INT, TERM) stops every process started here by its PID (pools by
# the process group each was made leader of), then any process still inside one of the
# namespaces (`ip netns pids`), then deletes the namespaces (their veth pairs go with them). A
# run killed with SIGKILL is reaped by the next run (build/fleet-ns/<pid> lists its namespaces).
# Without `ip netns` (not root, no CAP_NET_ADMIN) every row is reported skipped, never passed.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh

REDIS_PW=fleet-redis-pw-1
# The hosts' CACHE_KEY_PREFIX (the default, named so that the L1 rows know their keys).
KEY_PREFIX=stock
PG_PORT=5432
REDIS_PORT=6379
FCGI_PORT=9000
HTTP_PORT=8080 # :8080 the three hosts; 8081..8083 host 1..3 alone
HOSTS=(1 2 3)
ROW_NAMES=(
    "baseline"
    "h1 loses Redis only"
    "h2 loses PostgreSQL only"
    "a worker killed right after a COMMIT"
    "the whole of h1 killed right after a COMMIT"
    "h3 paused 3 s"
    "Redis restarted"
    "PostgreSQL restarted"
    "logout on h1, the token on h2 and h3"
    "logout on h1 while h1 cannot reach Redis"
    "sign-in spray and brute force over the fleet, Redis down"
    "the L1 agent of h1 killed"
    "the L1 subscriber connection of h2 killed in Redis"
    "the L1 tracking connection of h2 killed in Redis"
    "the L1 agent of h3 paused until Redis drops it (output buffer)"
    "Redis FLUSHALL"
    "a generation key evicted"
)

FLEET_BIN=${FLEET_BIN:-${FLEET_POOL_BIN:-$ROOT/build/asan/stock-fcgi}}
FLEET_PREFIX=${FLEET_PREFIX:-stk$$}
# The hosts sign their cached values with one secret (CACHE_SECRET: at least 32 bytes).
FLEET_CACHE_SECRET=fleet-cache-secret-$FLEET_PREFIX-0123456789abcdef
NS_CORE=$FLEET_PREFIX-core
FLEET_DIR=${FLEET_DIR:-${STOCK_TEST_DIR:-$ROOT/build/fleet-run}/fleet}
NS_RECORDS=$ROOT/build/fleet-ns
export STOCK_ENV_FILE=/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

ns_host()
{
    printf '%s-h%s\n' "$FLEET_PREFIX" "$1"
}

pg_addr()
{
    printf '10.201.%s.1\n' "$1"
}

redis_addr()
{
    printf '10.201.%s.3\n' "$1"
}

# The core's address on link N that nginx connects to host N from.
nginx_addr()
{
    printf '10.201.%s.4\n' "$1"
}

host_addr()
{
    printf '10.201.%s.2\n' "$1"
}

host_pidfile()
{
    printf '%s/run/stock-fcgi-h%s.pid\n' "$FLEET_DIR" "$1"
}

# group_members PGID: the PIDs of the live processes of process group PGID, one per line.
group_members()
{
    local d line rest pid state pgrp
    [[ "$1" =~ ^[0-9]+$ ]] || return 0
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        { read -r line <"$d/stat"; } 2>/dev/null || continue
        rest=${line##*) }
        # After the name: state, ppid, pgrp, ...
        read -r state _ pgrp _ <<<"$rest"
        [[ "$pgrp" == "$1" && "$state" != Z && "$state" != X ]] && printf '%s\n' "$pid"
    done
    return 0
}

group_gone()
{
    [[ -z "$(group_members "$1")" ]]
}

# ---------------------------------------------------------------------------------------------
# The parts (run inside P-core)

fredis_cli()
{
    timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -a "$REDIS_PW" --no-auth-warning "$@"
}

fredis_start()
{
    local d=$FLEET_DIR/redis n binds=(127.0.0.1)
    for n in "${HOSTS[@]}"; do
        binds+=("$(redis_addr "$n")")
    done
    mkdir -p "$d"
    rm -f "$d/redis.pid"
    redis-server --port "$REDIS_PORT" --bind "${binds[@]}" --dir "$d" --pidfile "$d/redis.pid" \
        --daemonize yes --logfile "$d/redis.log" "${STOCK_REDIS_DEV_ARGS[@]}" \
        --requirepass "$REDIS_PW" || return 1
    wait_for 20 eval '[[ "$(fredis_cli ping 2>/dev/null)" == PONG ]]' &&
        wait_for 5 test -s "$d/redis.pid"
}

# fredis_stop SIGNAL: stops Redis by PID (TERM saves its data first: a restart brings the old
# entries back, as a real restart does).
fredis_stop()
{
    local pid
    pid=$(pid_from_file "$FLEET_DIR/redis/redis.pid") || return 0
    pid_alive "$pid" || return 0
    kill "-$1" "$pid" 2>/dev/null
    wait_for 15 pid_dead "$pid" || stop_pid "$pid" 5 KILL
}

fpg_start()
{
    local n addrs=127.0.0.1
    for n in "${HOSTS[@]}"; do
        addrs+=",$(pg_addr "$n")"
    done
    pg_start "$FLEET_DIR/pg" "$PG_PORT" "$FLEET_DIR/logs/postgresql.log" \
        -c "listen_addresses=$addrs" -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off || return 1
    # The hosts connect from 10.201.N.2: trusted like loopback (a throwaway cluster).
    if ! grep -q '^host all all 10.201.0.0/16 trust' "$FLEET_DIR/pg/pg_hba.conf"; then
        echo 'host all all 10.201.0.0/16 trust' >>"$FLEET_DIR/pg/pg_hba.conf"
        psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'SELECT pg_reload_conf()' \
            >/dev/null || return 1
    fi
}

# host_start N: the pool of host N in its namespace, its own session and process group
# (setsid, which only execs here: a background job of a non-interactive shell is no group
# leader), with the addresses of its own link. Waits until a worker answers /health.
host_start()
{
    local n=$1 pidf pid pg
    pidf=$(host_pidfile "$n")
    rm -f "$pidf"
    env STOCK_LISTEN="$(host_addr "$n"):$FCGI_PORT" STOCK_WORKERS=2 LOG_LEVEL=info \
        DATABASE_URL="postgresql://postgres@$(pg_addr "$n"):$PG_PORT/stock" \
        REDIS_URL="redis://:$REDIS_PW@$(redis_addr "$n"):$REDIS_PORT/0" \
        REDIS_SOCKET_TIMEOUT=0.5 REDIS_CONNECT_TIMEOUT=0.5 REDIS_RETRY_ON_TIMEOUT=true \
        CACHE_SECRET="$FLEET_CACHE_SECRET" CACHE_KEY_PREFIX="$KEY_PREFIX" \
        ${FLEET_L1_BYTES:+CACHE_L1_BYTES="$FLEET_L1_BYTES"} \
        ip netns exec "$(ns_host "$n")" setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' _ \
        "$pidf" "$FLEET_BIN" </dev/null >>"$FLEET_DIR/logs/stock-fcgi-h$n.log" 2>&1 &
    # Not a job of this shell: a host killed on purpose is no "Killed" line here.
    disown
    wait_for 10 test -s "$pidf" || {
        stock_log "host $n: the pool did not start"
        return 1
    }
    pid=$(pid_from_file "$pidf") || return 1
    proc_stat "$pid" || return 1
    pg=$(awk '{ sub(/.*\) /, ""); print $3 }' "/proc/$pid/stat" 2>/dev/null)
    if [[ "$pg" != "$pid" ]]; then
        stock_log "host $n: the pool (pid $pid) is not the leader of its process group ($pg)"
        return 1
    fi
    wait_for 30 pool_ready "$pid" "$(host_addr "$n"):$FCGI_PORT" || {
        stock_log "host $n: no worker answers /health, see logs/stock-fcgi-h$n.log:"
        tail -n 20 "$FLEET_DIR/logs/stock-fcgi-h$n.log" >&2
        return 1
    }
}

# host_stop N: SIGCONT (a paused pool cannot drain), SIGTERM to the master (it drains), then
# SIGKILL to whatever is left of its process group.
host_stop()
{
    local pid
    pid=$(pid_from_file "$(host_pidfile "$1")") || return 0
    kill -CONT -- "-$pid" 2>/dev/null
    pool_stop "$pid" 20
    if ! wait_for 5 group_gone "$pid"; then
        kill -KILL -- "-$pid" 2>/dev/null
        wait_for 5 group_gone "$pid"
    fi
    return 0
}

nginx_conf()
{
    local n u
    cat <<EOF
worker_processes 2;
pid $FLEET_DIR/nginx/nginx.pid;
error_log $FLEET_DIR/logs/nginx-error.log warn;
events {
    worker_connections 4096;
}
http {
    default_type application/octet-stream;
    server_tokens off;
    client_body_temp_path $FLEET_DIR/nginx/tmp/client_body;
    proxy_temp_path $FLEET_DIR/nginx/tmp/proxy;
    fastcgi_temp_path $FLEET_DIR/nginx/tmp/fastcgi;
    uwsgi_temp_path $FLEET_DIR/nginx/tmp/uwsgi;
    scgi_temp_path $FLEET_DIR/nginx/tmp/scgi;
    log_format fleet '\$remote_addr [\$time_local] "\$request" \$status rt=\$request_time '
                     'up=\$upstream_addr us=\$upstream_status urt=\$upstream_response_time id=\$request_id';
    access_log $FLEET_DIR/logs/nginx-access.log fleet;
    client_max_body_size 1m;
    # The load generator (127.0.0.1) names the client address of the sign-in rows.
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    # As nginx/stock.conf.in: no upstream keepalive; max_fails=0 (a failure never takes a host
    # out); a GET whose host fails before answering goes to the next one, never a write.
EOF
    echo "    upstream fleet_all {"
    for n in "${HOSTS[@]}"; do
        echo "        server $(host_addr "$n"):$FCGI_PORT max_fails=0;"
    done
    echo "    }"
    for n in "${HOSTS[@]}"; do
        printf '    upstream fleet_h%s {\n        server %s:%s max_fails=0;\n    }\n' \
            "$n" "$(host_addr "$n")" "$FCGI_PORT"
    done
    for n in all "${HOSTS[@]}"; do
        u=fleet_h$n
        [[ "$n" == all ]] && u=fleet_all
        cat <<EOF
    server {
        listen 127.0.0.1:$((HTTP_PORT + ${n/all/0}));
        add_header X-Request-Id \$request_id always;
        add_header X-Upstream \$upstream_addr always;
        include /etc/nginx/fastcgi_params;
        fastcgi_param REQUEST_ID \$request_id;
        fastcgi_connect_timeout 3s;
        fastcgi_next_upstream error;
        fastcgi_next_upstream_tries 2;
        fastcgi_send_timeout 30s;
        fastcgi_read_timeout 30s;
        location = /nginx-health {
            default_type text/plain;
            return 200 "ok\n";
        }
        location /api/ {
            fastcgi_pass $u;
        }
        location /health {
            fastcgi_pass $u;
        }
        location = /metrics {
            fastcgi_pass $u;
        }
    }
EOF
    done
    echo "}"
}

# ---------------------------------------------------------------------------------------------
# The L1 rows' tools: the agent of a host (the child of its pool master named stock-l1), its
# Redis connections (by name and by the host's address), the output buffer and eviction faults.

# l1_agent N: the PID of host N's L1 agent (a live child of its master whose comm is
# stock-l1), read from /proc by the shell; status 1 when there is none.
l1_agent()
{
    local master d line comm rest state ppid
    master=$(pid_from_file "$(host_pidfile "$1")") || return 1
    for d in /proc/[0-9]*; do
        { read -r line <"$d/stat"; } 2>/dev/null || continue
        comm=${line#*(}
        comm=${comm%)*}
        rest=${line##*) }
        read -r state ppid _ <<<"$rest"
        if [[ "$ppid" == "$master" && "$comm" == stock-l1 && "$state" != Z && "$state" != X ]]; then
            printf '%s\n' "${d#/proc/}"
            return 0
        fi
    done
    return 1
}

# l1_client N KIND: the CLIENT LIST id of host N's connection stock-l1-KIND-* (KIND: track or
# sub), told apart from the other hosts' by its address (10.201.N.2).
l1_client()
{
    fredis_cli CLIENT LIST 2>/dev/null | tr -d '\r' | awk -v want="stock-l1-$2-" -v addr="$(host_addr "$1")" '
        { id = ""; name = ""; a = ""
          for (i = 1; i <= NF; i++) {
              if ($i ~ /^id=/) id = substr($i, 4)
              else if ($i ~ /^name=/) name = substr($i, 6)
              else if ($i ~ /^addr=/) a = substr($i, 6)
          }
          sub(/:[0-9]+$/, "", a)
          if (index(name, want) == 1 && a == addr) { print id; found = 1; exit } }
        END { exit found ? 0 : 1 }'
}

# l1_client_new N KIND OLD: host N has a connection KIND other than client OLD.
l1_client_new()
{
    local id
    id=$(l1_client "$1" "$2") && [[ "$id" != "$3" ]]
}

l1_agent_new()
{
    local pid
    pid=$(l1_agent "$1") && [[ "$pid" != "$2" ]]
}

# l1_kill_client N KIND: CLIENT KILL of that connection; prints its id (the row waits for the
# new one with l1-back).
l1_kill_client()
{
    local id
    id=$(l1_client "$1" "$2") || {
        echo "no stock-l1-$2 connection of host $1 in CLIENT LIST"
        return 1
    }
    [[ "$(fredis_cli CLIENT KILL ID "$id")" == 1 ]] || return 1
    echo "$id" >"$FLEET_DIR/run/l1-$1-$2.killed"
    echo "killed client $id"
}

# l1_back N KIND: waits (10 s at most) until host N has a connection KIND again, other than the
# one killed (or dropped) before.
l1_back()
{
    local old="" id
    [[ -r "$FLEET_DIR/run/l1-$1-$2.killed" ]] && read -r old <"$FLEET_DIR/run/l1-$1-$2.killed"
    wait_for 10 l1_client_new "$1" "$2" "$old" || {
        echo "host $1 has no new stock-l1-$2 connection (old $old)"
        return 1
    }
    id=$(l1_client "$1" "$2")
    echo "client $id (was $old)"
}

FILL_KEYS=2000 # keys per chunk of the output buffer flood
FILL_CHUNKS=15

# obuf_flood N: SETs of long keys under the prefix (BCAST reports each one to every agent) in
# chunks, one command per round trip, until Redis has dropped host N's subscriber connection
# (whose agent is paused); at most FILL_CHUNKS chunks.
obuf_flood()
{
    local id c pad f=$FLEET_DIR/run/fill.cmds
    id=$(l1_client "$1" sub) || {
        echo "no stock-l1-sub connection of host $1"
        return 1
    }
    echo "$id" >"$FLEET_DIR/run/l1-$1-sub.killed"
    pad=$(printf '%0900d' 0)
    for ((c = 0; c < FILL_CHUNKS; c++)); do
        echo "$((c + 1))" >"$FLEET_DIR/run/fill.chunks"
        awk -v p="$KEY_PREFIX:fleetfill:$c:" -v pad="$pad" -v n="$FILL_KEYS" \
            'BEGIN { for (i = 0; i < n; i++) printf "SET %s%d:%s 1\n", p, i, pad }' >"$f"
        fredis_cli <"$f" >/dev/null || return 1
        if [[ "$(l1_client "$1" sub)" != "$id" ]]; then
            echo "Redis dropped client $id after $(((c + 1) * FILL_KEYS)) invalidated keys of ~1 KB"
            return 0
        fi
    done
    echo "client $id still connected after $((FILL_CHUNKS * FILL_KEYS)) keys"
    return 1
}

# fill_del: the flood's keys deleted (UNLINK, 100 a command).
fill_del()
{
    local chunks=0 c pad
    [[ -r "$FLEET_DIR/run/fill.chunks" ]] && read -r chunks <"$FLEET_DIR/run/fill.chunks"
    pad=$(printf '%0900d' 0)
    for ((c = 0; c < chunks; c++)); do
        awk -v p="$KEY_PREFIX:fleetfill:$c:" -v pad="$pad" -v n="$FILL_KEYS" 'BEGIN {
            for (i = 0; i < n; i++) { if (i % 100 == 0) printf "%sUNLINK", (i ? "\n" : ""); printf " %s%d:%s", p, i, pad }
            print "" }' | fredis_cli >/dev/null || return 1
    done
    rm -f "$FLEET_DIR/run/fill.chunks"
}

# obuf_small / obuf_restore: the pubsub class's output buffer limit made small, and put back.
obuf_small()
{
    local f=$FLEET_DIR/run/obuf.saved
    [[ -s "$f" ]] || fredis_cli CONFIG GET client-output-buffer-limit | tr -d '\r' | sed -n 2p >"$f"
    [[ -s "$f" ]] || return 1
    [[ "$(fredis_cli CONFIG SET client-output-buffer-limit 'pubsub 128kb 128kb 0')" == OK ]]
}

obuf_restore()
{
    local f=$FLEET_DIR/run/obuf.saved v
    [[ -s "$f" ]] || return 0
    read -r v <"$f"
    [[ "$(fredis_cli CONFIG SET client-output-buffer-limit "$v")" == OK ]] && rm -f "$f"
}

EVICT_FILL=100   # filler keys (8 KB, outside the prefix) a chunk
EVICT_CHUNKS=100 # at most

# gen_evict KEY: maxmemory just above used_memory, allkeys-random, then filler keys outside the
# prefix until the generation key KEY is evicted (its token no longer the one read before:
# gone, or re-created by a reader since). Prints what it saw.
gen_evict()
{
    local key=$1 f=$FLEET_DIR/run/mem.saved tok now used c ev0 ev1 val
    tok=$(fredis_cli GET "$key" | tr -d '\r')
    [[ -n "$tok" ]] || {
        echo "$key is missing before the fault"
        return 1
    }
    if [[ ! -s "$f" ]]; then
        {
            fredis_cli CONFIG GET maxmemory | tr -d '\r' | sed -n 2p
            fredis_cli CONFIG GET maxmemory-policy | tr -d '\r' | sed -n 2p
        } >"$f"
    fi
    ev0=$(fredis_cli INFO stats | tr -d '\r' | awk -F: '$1 == "evicted_keys" { print $2 }')
    used=$(fredis_cli INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }')
    [[ "$used" =~ ^[0-9]+$ ]] || return 1
    fredis_cli CONFIG SET maxmemory-policy allkeys-random >/dev/null &&
        fredis_cli CONFIG SET maxmemory "$((used + 1048576))" >/dev/null || return 1
    val=$(printf '%08192d' 0)
    for ((c = 0; c < EVICT_CHUNKS; c++)); do
        echo "$((c + 1))" >"$FLEET_DIR/run/evict.chunks"
        awk -v p="fleetfill:$c:" -v v="$val" -v n="$EVICT_FILL" \
            'BEGIN { for (i = 0; i < n; i++) printf "SET %s%d %s\n", p, i, v }' |
            fredis_cli >/dev/null || return 1
        now=$(fredis_cli GET "$key" | tr -d '\r')
        if [[ "$now" != "$tok" ]]; then
            ev1=$(fredis_cli INFO stats | tr -d '\r' | awk -F: '$1 == "evicted_keys" { print $2 }')
            echo "evicted after $(((c + 1) * EVICT_FILL)) filler keys ($((ev1 - ev0)) keys evicted; the key is $([[ -n "$now" ]] && echo re-created || echo absent) now)"
            return 0
        fi
    done
    echo "$key still there after $((EVICT_CHUNKS * EVICT_FILL)) filler keys"
    return 1
}

# mem_restore: maxmemory and its policy put back, then the filler deleted.
mem_restore()
{
    local f=$FLEET_DIR/run/mem.saved mm pol chunks=0 c
    if [[ -s "$f" ]]; then
        { read -r mm && read -r pol; } <"$f" || return 1
        fredis_cli CONFIG SET maxmemory "$mm" >/dev/null &&
            fredis_cli CONFIG SET maxmemory-policy "$pol" >/dev/null || return 1
        rm -f "$f"
    fi
    [[ -r "$FLEET_DIR/run/evict.chunks" ]] && read -r chunks <"$FLEET_DIR/run/evict.chunks"
    for ((c = 0; c < chunks; c++)); do
        awk -v p="fleetfill:$c:" -v n="$EVICT_FILL" \
            'BEGIN { printf "UNLINK"; for (i = 0; i < n; i++) printf " %s%d", p, i; print "" }' |
            fredis_cli >/dev/null || return 1
    done
    rm -f "$FLEET_DIR/run/evict.chunks"
}

# l1_signal N SIG: SIG (KILL, STOP, CONT) to host N's agent by its PID; a STOP records the PID
# (the cleanup continues it), a KILL the PID that l1_new waits to see replaced.
l1_signal()
{
    local pid new f=$FLEET_DIR/run/l1-stopped.pid
    if [[ "$2" == CONT ]]; then
        pid=$(pid_from_file "$f") || return 1
        kill -CONT "$pid" && rm -f "$f"
        return
    fi
    pid=$(l1_agent "$1") || {
        echo "host $1 has no stock-l1 agent"
        return 1
    }
    [[ "$2" == STOP ]] && echo "$pid" >"$f"
    [[ "$2" == KILL ]] && echo "$pid" >"$FLEET_DIR/run/l1-$1.killed"
    kill "-$2" "$pid" || return 1
    echo "agent $pid: SIG$2"
}

# l1_new N: waits (10 s at most) until host N's master has started an agent other than the one
# killed.
l1_new()
{
    local old="" new
    [[ -r "$FLEET_DIR/run/l1-$1.killed" ]] && read -r old <"$FLEET_DIR/run/l1-$1.killed"
    wait_for 10 l1_agent_new "$1" "$old" || {
        echo "no new agent after $old"
        return 1
    }
    new=$(l1_agent "$1")
    echo "new agent $new (was $old)"
}

# master_signal N SIG: STOP or CONT to host N's pool master alone (not its group).
master_signal()
{
    local pid
    pid=$(pid_from_file "$(host_pidfile "$1")") || return 1
    kill "-$2" "$pid"
}

# ---------------------------------------------------------------------------------------------
# Actions (load.mjs runs `run.sh --action NAME` inside P-core with the FLEET_* variables)

route()
{
    ip netns exec "$(ns_host "$2")" ip route "$1" blackhole "$3/32"
}

# action NAME [ARG]
action()
{
    local pid
    case "$1" in
    h1-redis-cut) route add 1 "$(redis_addr 1)" ;;
    h1-redis-heal) route del 1 "$(redis_addr 1)" ;;
    h2-pg-cut) route add 2 "$(pg_addr 2)" ;;
    h2-pg-heal) route del 2 "$(pg_addr 2)" ;;
    # The crash hook SIGKILLed the group of host 1: wait until every process of it is gone.
    h1-dead)
        pid=$(pid_from_file "$(host_pidfile 1)") || return 1
        wait_for 10 group_gone "$pid"
        ;;
    h1-start) host_start 1 ;;
    h3-stop)
        pid=$(pid_from_file "$(host_pidfile 3)") || return 1
        kill -STOP -- "-$pid"
        ;;
    h3-cont)
        pid=$(pid_from_file "$(host_pidfile 3)") || return 1
        kill -CONT -- "-$pid"
        ;;
    redis-stop) fredis_stop TERM ;;
    redis-start) fredis_start ;;
    pg-stop) pg_stop "$FLEET_DIR/pg" ;;
    pg-start) fpg_start ;;
    h1-l1-kill) l1_signal 1 KILL ;;
    h1-l1-new) l1_new 1 ;;
    h1-master-stop) master_signal 1 STOP ;;
    h1-master-cont) master_signal 1 CONT ;;
    h3-l1-stop) l1_signal 3 STOP ;;
    h3-l1-cont) l1_signal 3 CONT ;;
    h2-l1-kill-sub) l1_kill_client 2 sub ;;
    h2-l1-kill-track) l1_kill_client 2 track ;;
    h2-l1-sub-back) l1_back 2 sub ;;
    h2-l1-track-back) l1_back 2 track ;;
    h3-l1-sub-back) l1_back 3 sub ;;
    obuf-small) obuf_small ;;
    obuf-restore) obuf_restore ;;
    h3-obuf-flood) obuf_flood 3 ;;
    fill-del) fill_del ;;
    redis-flushall) [[ "$(fredis_cli FLUSHALL)" == OK ]] ;;
    gen-evict) gen_evict "$2" ;;
    mem-restore) mem_restore ;;
    *)
        echo "run.sh: unknown action $1" >&2
        return 2
        ;;
    esac
}

if [[ "${1:-}" == --action ]]; then
    action "$2" "${3:-}"
    exit
fi

# ---------------------------------------------------------------------------------------------
# Inside P-core: the stack, the tenants, the load.

NODE_PID=""

# stack_stop: the hosts' pools, nginx, Redis and PostgreSQL stopped by their PIDs (each step
# does nothing when its part is not running).
stack_stop()
{
    local n pid
    # An L1 agent left paused by its row (the hosts' stop continues their groups too).
    if pid=$(pid_from_file "$FLEET_DIR/run/l1-stopped.pid") &&
        [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == stock-l1 ]]; then
        kill -CONT "$pid" 2>/dev/null
    fi
    for n in "${HOSTS[@]}"; do
        host_stop "$n"
    done
    nginx_stop "$FLEET_DIR/nginx"
    fredis_stop TERM
    pg_stop "$FLEET_DIR/pg"
}

inside_stop()
{
    [[ -n "$NODE_PID" ]] && stop_pid "$NODE_PID" 10 TERM
    stack_stop
}

inside_fail()
{
    echo "not ok - the fleet stack starts: $1"
    echo "0 1 0" >"$FLEET_DIR/counts"
    exit 1
}

inside_main()
{
    local n slug id i stockctl=build/release/stockctl rc
    trap inside_stop EXIT
    trap 'exit 143' TERM INT
    [[ -x "$stockctl" ]] || stockctl=build/asan/stockctl
    ip link set lo up || inside_fail "lo up in $NS_CORE"
    export DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/stock
    unset REDIS_URL
    fpg_start || inside_fail "PostgreSQL"
    fredis_start || inside_fail "Redis"
    "$stockctl" migrate >"$FLEET_DIR/logs/migrate.out" 2>&1 || inside_fail "stockctl migrate"
    for n in "${HOSTS[@]}"; do
        host_start "$n" || inside_fail "the pool of host $n"
    done
    mkdir -p "$FLEET_DIR/nginx/tmp"
    nginx_conf >"$FLEET_DIR/nginx/nginx.conf"
    nginx_start "$FLEET_DIR/nginx" "$FLEET_DIR/nginx/nginx.conf" "127.0.0.1:$HTTP_PORT" \
        "$FLEET_DIR/logs" || inside_fail "nginx"

    # Tenants: four under load (the fourth is "quiet": only the rows' own writes touch it, so
    # that nothing else invalidates what they leave stale), one for the sign-in rows.
    export FLEET_PASSWORD=fleet-user-pw-$$
    secret_note "$FLEET_PASSWORD" "$REDIS_PW" "$FLEET_CACHE_SECRET"
    export FLEET_TENANTS=""
    for i in 1 2 3 4 login; do
        slug=flt-$FLEET_PREFIX-$i
        id=$("$stockctl" tenant create "$slug" "Fleet tenant $i" 2>>"$FLEET_DIR/logs/stockctl.err")
        [[ "$id" =~ ^[0-9]+$ ]] || inside_fail "stockctl tenant create $slug"
        printf '%s\n' "$FLEET_PASSWORD" | "$stockctl" user create --tenant "$slug" \
            --email "admin@$slug.test" --role admin >/dev/null 2>>"$FLEET_DIR/logs/stockctl.err" ||
            inside_fail "stockctl user create for $slug"
        FLEET_TENANTS+="${FLEET_TENANTS:+,}$slug"
    done

    export FLEET_DIR FLEET_PREFIX FLEET_SELF=$ROOT/tests/fleet/run.sh
    export FLEET_BASE_PORT=$HTTP_PORT FLEET_FCGI_PORT=$FCGI_PORT FLEET_KEY_PREFIX=$KEY_PREFIX
    timeout -k 5 "${FLEET_NODE_SECONDS:-240}" node tests/fleet/load.mjs &
    NODE_PID=$!
    wait "$NODE_PID"
    rc=$?
    NODE_PID=""
    ((rc == 124 || rc == 137)) && echo "not ok - the load ended within ${FLEET_NODE_SECONDS:-240} s"
    [[ -s "$FLEET_DIR/counts" ]] || echo "0 1 0" >"$FLEET_DIR/counts"
    return 0
}

if [[ "${1:-}" == --inside ]]; then
    inside_main
    exit
fi

# ---------------------------------------------------------------------------------------------
# Outside (the caller's namespace): the namespaces, the links, the inside run, the cleanup.

INNER_PID=""
WATCHDOG_PID=""
CLEANED=0
DONE=0
INTERRUPTED=""
MY_NS=()

# The EXIT trap of an unfinished run (a failed setup, a signal): clean up, then the RESULT line.
on_exit()
{
    ((DONE)) && return 0
    outer_cleanup
    [[ -n "$INTERRUPTED" ]] && t_not_ok "the fleet run finished" "interrupted by SIG$INTERRUPTED"
    t_result fleet
}

# reap_ns NAME...: stops what still runs in each namespace NAME and deletes it.
reap_ns()
{
    local ns p
    for ns in "$@"; do
        ip netns list 2>/dev/null | grep -q "^$ns\( \|$\)" || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            stop_pid "$p" 5 TERM
        done
        ip netns del "$ns" 2>/dev/null || stock_log "cannot delete namespace $ns"
    done
}

# The namespaces of earlier runs that were killed before they could clean up.
reap_stale()
{
    local f pid names
    for f in "$NS_RECORDS"/*; do
        [[ -f "$f" ]] || continue
        pid=${f##*/}
        # This run's record, and those of runs still going, are not stale.
        [[ "$pid" == "$$" ]] && continue
        [[ "$pid" =~ ^[0-9]+$ ]] && pid_alive "$pid" && continue
        stock_log "reaping the namespaces of run $pid"
        mapfile -t names <"$f"
        reap_ns "${names[@]}"
        rm -f "$f"
    done
}

outer_cleanup()
{
    local pid left f alive=""
    ((CLEANED)) && return 0
    CLEANED=1
    [[ -n "$WATCHDOG_PID" ]] && stop_pid "$WATCHDOG_PID" 5 TERM
    # The inside run stops its own stack on TERM; what it could not stop is stopped here.
    [[ -n "$INNER_PID" ]] && stop_pid "$INNER_PID" 60 TERM
    stack_stop
    if ((${#MY_NS[@]})); then
        reap_ns "${MY_NS[@]}"
        rm -f "$NS_RECORDS/$$"
        left=$(ip netns list 2>/dev/null | grep -c "^$FLEET_PREFIX-")
        if ((left == 0)); then
            t_ok "cleanup: every namespace of the run is deleted (${#MY_NS[@]})"
        else
            t_not_ok "cleanup: every namespace of the run is deleted" "$left left"
        fi
    fi
    # What is left of the run's processes: those of its pidfiles, alive.
    for f in "$FLEET_DIR"/run/*.pid "$FLEET_DIR"/redis/redis.pid "$FLEET_DIR"/nginx/nginx.pid \
        "$FLEET_DIR"/pg/postmaster.pid; do
        [[ -f "$f" ]] || continue
        pid=$(pid_from_file "$f") && pid_alive "$pid" && alive+="${f#"$FLEET_DIR"/}:$pid "
    done
    if [[ -z "$alive" ]]; then
        t_ok "cleanup: no process of the run is left"
    else
        t_not_ok "cleanup: no process of the run is left" "$alive"
    fi
}

# skip_all WHY: no row can run here.
skip_all()
{
    local r
    for r in "${ROW_NAMES[@]}"; do
        t_skip "row '$r'" "$1"
    done
    t_result fleet
    exit 0
}

setup_fail()
{
    t_not_ok "the fleet topology is set up: $1"
    # Before the namespaces (and the EXIT trap) exist, the RESULT line is written here.
    ((${#MY_NS[@]})) || t_result fleet
    exit 1
}

outer_main()
{
    local n ns rc p f s
    [[ -x "$FLEET_BIN" ]] || setup_fail "$FLEET_BIN is missing (make tests VARIANT=asan)"
    [[ -x build/release/stockctl || -x build/asan/stockctl ]] || setup_fail "stockctl is missing"
    command -v node >/dev/null || setup_fail "node is missing (deploy/deps.sh installs it)"
    command -v ip >/dev/null || skip_all "no ip command (iproute2)"
    if ! ip netns add "$NS_CORE" 2>/dev/null; then
        skip_all "ip netns is not usable here (root with CAP_NET_ADMIN needed)"
    fi
    MY_NS=("$NS_CORE")
    trap on_exit EXIT
    trap 'INTERRUPTED=INT; exit 130' INT
    trap 'INTERRUPTED=TERM; exit 143' TERM
    mkdir -p "$NS_RECORDS" && echo "$NS_CORE" >"$NS_RECORDS/$$" ||
        setup_fail "cannot record the namespaces in $NS_RECORDS"
    reap_stale

    rm -rf "$FLEET_DIR"
    mkdir -p "$FLEET_DIR/logs" "$FLEET_DIR/run"
    chmod 755 "$(dirname "$FLEET_DIR")" "$FLEET_DIR"
    # The watchdog: the whole run is bounded whatever hangs.
    # Its sleep is its own child: the TERM that ends the watchdog ends the sleep too.
    (
        trap 'kill "$sp" 2>/dev/null; exit 0' TERM
        sleep "${FLEET_DEADLINE:-300}" &
        sp=$!
        wait "$sp" || exit 0
        echo "$(date +%H:%M:%S) fleet: the run passed its deadline of ${FLEET_DEADLINE:-300} s" >&2
        kill -TERM "$$"
    ) </dev/null >/dev/null &
    WATCHDOG_PID=$!

    ip -n "$NS_CORE" link set lo up || setup_fail "lo up in $NS_CORE"
    for n in "${HOSTS[@]}"; do
        ns=$(ns_host "$n")
        ip netns add "$ns" || setup_fail "ip netns add $ns"
        MY_NS+=("$ns")
        echo "$ns" >>"$NS_RECORDS/$$"
        ip -n "$ns" link set lo up &&
            ip -n "$NS_CORE" link add "vh$n" type veth peer name vcore netns "$ns" &&
            ip -n "$NS_CORE" addr add "$(nginx_addr "$n")/24" dev "vh$n" &&
            ip -n "$NS_CORE" addr add "$(pg_addr "$n")/24" dev "vh$n" &&
            ip -n "$NS_CORE" addr add "$(redis_addr "$n")/24" dev "vh$n" &&
            ip -n "$NS_CORE" link set "vh$n" up &&
            ip -n "$ns" addr add "$(host_addr "$n")/24" dev vcore &&
            ip -n "$ns" link set vcore up || setup_fail "the link of host $n"
        # nginx reaches the host from its own address: cutting the host from PostgreSQL or Redis
        # must not cut it from nginx.
        ip -n "$NS_CORE" route replace "10.201.$n.0/24" dev "vh$n" src "$(nginx_addr "$n")" &&
            ip -n "$NS_CORE" route get "$(host_addr "$n")" | grep -q "src $(nginx_addr "$n") " ||
            setup_fail "the route of host $n from $(nginx_addr "$n")"
    done
    stock_log "fleet: namespaces ${MY_NS[*]}; run in ${FLEET_DIR#"$ROOT"/}"

    rm -f "$FLEET_DIR/counts"
    FLEET_PREFIX=$FLEET_PREFIX FLEET_DIR=$FLEET_DIR FLEET_BIN=$FLEET_BIN \
        ip netns exec "$NS_CORE" bash "$ROOT/tests/fleet/run.sh" --inside </dev/null &
    INNER_PID=$!
    wait "$INNER_PID"
    rc=$?
    INNER_PID=""
    if read -r p f s <"$FLEET_DIR/counts" 2>/dev/null && [[ "$p $f $s" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]]; then
        T_PASSED=$((T_PASSED + p)) T_FAILED=$((T_FAILED + f)) T_SKIPPED=$((T_SKIPPED + s))
    else
        t_not_ok "the fleet run reported its checks" "exit status $rc"
    fi
    outer_cleanup
    echo "# logs: ${FLEET_DIR#"$ROOT"/}/logs"
    DONE=1
    t_result fleet
}

outer_main
