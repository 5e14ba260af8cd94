#!/usr/bin/env bash
# partition.sh: the sentinel suite's partition row (tests/sentinel/run.sh runs it): the old
# master isolated together with one app host, under load, with the fleet's oracle
# (tests/sentinel/load.mjs). Prints TAP lines, "# row | ..." (one line of the table) and the
# counts "P F S" in $PART_DIR/counts.
#
# Topology (P = sp<pid>; network namespaces, root needed; without them the row is skipped):
# - P-core: PostgreSQL, nginx (127.0.0.1, round robin over both hosts) and the load; it routes
#   between the links (ip_forward in its own namespace only).
# - P-m: the master (10.212.1.2:6379). P-r: two replicas (10.212.2.2:6380, :6381) and three
#   sentinels (10.212.2.2:26379-26381; quorum 2, down-after-milliseconds PART_DOWN_AFTER:
#   4000 by default, with min-replicas-max-lag PART_MAX_LAG, 2 by default: as deploy/redis/
#   requires, down-after >= (max-lag + 2) s, so that the old master refuses writes before a
#   replica is promoted; with 1000 and 6 a replica is promoted first, and the two sides trust
#   different masters for a few seconds: then what holds is that outbox rows stay while a host
#   trusts another Redis and writers wait for it, cache_hosts.redis_run_id). P-h1, P-h2: one
#   pool each
#   (10.212.3.2:9000, 10.212.4.2:9000), REDIS_SENTINELS only.
# - The cut: blackhole routes so that {master, h1} and {replicas, sentinels, h2} cannot reach
#   each other; PostgreSQL and nginx stay reachable from both. The sentinels promote a replica;
#   the old master refuses writes (min-replicas-to-write 1) about 2-4 s after the cut, so h1
#   cannot renew its trust (NOREPLICAS) and serves from PostgreSQL; writes on either side wait
#   for the hosts trusting the other master (cache_hosts.redis_run_id). Then the cut heals: the
#   old master becomes a replica and h1 follows the new master.
# Bounded: every wait has a deadline; the caller's watchdog covers the rest. Cleanup: every
# process by its PID, then whatever is left in the namespaces, then the namespaces.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh

P=${PART_PREFIX:-sp$$}
PART_DIR=${PART_DIR:?set by tests/sentinel/run.sh}
BIN=$ROOT/build/asan/stock-fcgi
PW=part-redis-pw-$P
SPW=part-sentinel-pw-$P
CSECRET=part-cache-secret-$P-0123456789abcdef
NAME=stk
DOWN_AFTER=${PART_DOWN_AFTER:-4000}
MAX_LAG=${PART_MAX_LAG:-2}
ROW="old master isolated with h1 (down-after $DOWN_AFTER ms, max-lag $MAX_LAG s)"
PG_PORT=5432
T_PASSED=0 T_FAILED=0 T_SKIPPED=0
NSS=(core m r h1 h2)
declare -A LINK=([m]=1 [r]=2 [h1]=3 [h2]=4)

ns() { printf '%s-%s\n' "$P" "$1"; }
in_ns() # NS CMD...
{
    local n=$1
    shift
    ip netns exec "$(ns "$n")" "$@"
}
addr() { printf '10.212.%s.2\n' "${LINK[$1]}"; }

counts()
{
    echo "$T_PASSED $T_FAILED $T_SKIPPED" >"$PART_DIR/counts"
}

cleanup()
{
    local f pid n
    for f in "$PART_DIR"/run/*.pid "$PART_DIR"/*/redis.pid "$PART_DIR"/*/sentinel.pid; do
        pid=$(pid_from_file "$f") || continue
        kill -CONT "$pid" 2>/dev/null
        stop_pid "$pid" 5 KILL
    done
    nginx_stop "$PART_DIR/nginx"
    in_ns core true 2>/dev/null && [[ -d "$PART_DIR/pg" ]] &&
        in_ns core bash -c ". tests/lib/common.sh; pg_stop '$PART_DIR/pg'" >/dev/null 2>&1
    for n in "${NSS[@]}"; do
        for pid in $(ip netns pids "$(ns "$n")" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
    done
    for n in "${NSS[@]}"; do
        ip netns del "$(ns "$n")" 2>/dev/null
    done
    counts
}

fail_setup()
{
    t_not_ok "the partition topology: $1"
    exit 1
}

if ! command -v ip >/dev/null || ! ip netns add "$(ns core)" 2>/dev/null; then
    t_skip "old master isolated together with one app host" "ip netns is not usable here"
    counts
    exit 0
fi
trap cleanup EXIT
trap 'exit 143' TERM INT
rm -rf "$PART_DIR/pg" "$PART_DIR/run" "$PART_DIR/nginx"
mkdir -p "$PART_DIR/run" "$PART_DIR/nginx/tmp"
chmod 755 "$PART_DIR"

ip -n "$(ns core)" link set lo up
in_ns core sysctl -q -w net.ipv4.ip_forward=1 >/dev/null || fail_setup "ip_forward in the core"
for n in m r h1 h2; do
    l=${LINK[$n]}
    ip netns add "$(ns "$n")" &&
        ip -n "$(ns "$n")" link set lo up &&
        ip -n "$(ns core)" link add "v$n" type veth peer name vcore netns "$(ns "$n")" &&
        ip -n "$(ns core)" addr add "10.212.$l.1/24" dev "v$n" &&
        ip -n "$(ns core)" link set "v$n" up &&
        ip -n "$(ns "$n")" addr add "10.212.$l.2/24" dev vcore &&
        ip -n "$(ns "$n")" link set vcore up &&
        ip -n "$(ns "$n")" route add default via "10.212.$l.1" || fail_setup "the link of $n"
done

# PostgreSQL in the core, on every link.
in_ns core bash -c '. tests/lib/common.sh; pg_start "$1" "$2" "$1.log" \
    -c "listen_addresses=127.0.0.1,10.212.3.1,10.212.4.1" -c fsync=off -c synchronous_commit=off' \
    _ "$PART_DIR/pg" "$PG_PORT" >"$PART_DIR/pg-start.out" 2>&1 || fail_setup "PostgreSQL"
echo 'host all all 10.212.0.0/16 trust' >>"$PART_DIR/pg/pg_hba.conf"
in_ns core psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'SELECT pg_reload_conf()' \
    >/dev/null || fail_setup "pg_hba"
DB_CORE=postgresql://postgres@127.0.0.1:$PG_PORT/stock
in_ns core env DATABASE_URL="$DB_CORE" build/release/stockctl migrate >"$PART_DIR/migrate.out" 2>&1 ||
    fail_setup "stockctl migrate"

rcli() # NS HOST PORT ARGS...
{
    local n=$1 h=$2 p=$3
    shift 3
    in_ns "$n" timeout 3 redis-cli -h "$h" -p "$p" -a "$PW" --no-auth-warning "$@" 2>/dev/null
}
node_start() # NS DIRNAME PORT [args]
{
    local n=$1 d=$PART_DIR/$2 p=$3
    shift 3
    mkdir -p "$d"
    in_ns "$n" redis-server --port "$p" --bind "$(addr "$n")" --dir "$d" --pidfile "$d/redis.pid" \
        --daemonize yes --logfile "$d/redis.log" --save '' --appendonly no \
        --requirepass "$PW" --masterauth "$PW" \
        --min-replicas-to-write 1 --min-replicas-max-lag "$MAX_LAG" "$@" || return 1
    wait_for 10 eval '[[ "$(rcli "$n" "$(addr "$n")" "$p" ping)" == PONG ]]'
}
MA=$(addr m) RA=$(addr r)
node_start m m 6379 || fail_setup "the master"
node_start r r1 6380 --replicaof "$MA" 6379 || fail_setup "replica 1"
node_start r r2 6381 --replicaof "$MA" 6379 || fail_setup "replica 2"
good() { rcli m "$MA" 6379 info replication | tr -d '\r' | grep -q '^min_slaves_good_slaves:2'; }
wait_for 20 good || fail_setup "the master has both replicas"
for i in 1 2 3; do
    d=$PART_DIR/s$i
    mkdir -p "$d"
    cat >"$d/sentinel.conf" <<EOF
port $((26378 + i))
bind $RA
daemonize yes
pidfile $d/sentinel.pid
logfile $d/sentinel.log
dir $d
requirepass $SPW
sentinel monitor $NAME $MA 6379 2
sentinel auth-pass $NAME $PW
sentinel down-after-milliseconds $NAME $DOWN_AFTER
sentinel failover-timeout $NAME 6000
sentinel parallel-syncs $NAME 1
EOF
    in_ns r redis-server "$d/sentinel.conf" --sentinel || fail_setup "sentinel $i"
done
sfield() # PORT FIELD
{
    in_ns r timeout 3 redis-cli -h "$RA" -p "$1" -a "$SPW" --no-auth-warning sentinel master "$NAME" \
        2>/dev/null | awk -v f="$2" 'k == f { print; exit } { k = $0 }'
}
settled()
{
    local p
    for p in 26379 26380 26381; do
        [[ "$(sfield "$p" num-other-sentinels)" == 2 && "$(sfield "$p" num-slaves)" == 2 ]] || return 1
    done
}
wait_for 40 settled || fail_setup "the sentinels know each other and both replicas"
master_of() # the master's address as sentinel 2 says
{
    in_ns r timeout 3 redis-cli -h "$RA" -p 26380 -a "$SPW" --no-auth-warning \
        sentinel get-master-addr-by-name "$NAME" 2>/dev/null | tr '\n' ':' | sed 's/:$//'
}

for n in h1 h2; do
    in_ns "$n" env STOCK_ENV_FILE=/dev/null STOCK_LISTEN="$(addr "$n"):9000" STOCK_WORKERS=2 \
        LOG_LEVEL=info DATABASE_URL="postgresql://postgres@10.212.${LINK[$n]}.1:$PG_PORT/stock" \
        REDIS_URL="redis://:$PW@unused:6379/0" CACHE_KEY_PREFIX="$P" CACHE_SECRET="$CSECRET" \
        REDIS_SENTINELS="$RA:26379,$RA:26380,$RA:26381" REDIS_SENTINEL_MASTER="$NAME" \
        REDIS_SENTINEL_PASSWORD="$SPW" REDIS_CONNECT_TIMEOUT=0.5 REDIS_SOCKET_TIMEOUT=0.5 \
        setsid bash -c 'echo "$$" >"$1"; shift; exec "$@"' _ "$PART_DIR/run/stock-fcgi-$n.pid" \
        "$BIN" </dev/null >>"$PART_DIR/stock-fcgi-$n.log" 2>&1 &
done
for n in h1 h2; do
    wait_for 10 test -s "$PART_DIR/run/stock-fcgi-$n.pid" || fail_setup "the pool of $n"
    pid=$(pid_from_file "$PART_DIR/run/stock-fcgi-$n.pid")
    wait_for 30 in_ns core bash -c '. tests/lib/common.sh; pool_ready "$1" "$2"' _ "$pid" \
        "$(addr "$n"):9000" || fail_setup "the pool of $n answers"
done

HTTP=8080
cat >"$PART_DIR/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $PART_DIR/nginx/nginx.pid;
error_log $PART_DIR/nginx/error.log warn;
events { worker_connections 1024; }
http {
    client_body_temp_path $PART_DIR/nginx/tmp/client_body;
    proxy_temp_path $PART_DIR/nginx/tmp/proxy;
    fastcgi_temp_path $PART_DIR/nginx/tmp/fastcgi;
    uwsgi_temp_path $PART_DIR/nginx/tmp/uwsgi;
    scgi_temp_path $PART_DIR/nginx/tmp/scgi;
    access_log off;
    upstream both {
        server $(addr h1):9000 max_fails=0;
        server $(addr h2):9000 max_fails=0;
    }
    server {
        listen 127.0.0.1:$HTTP;
        include /etc/nginx/fastcgi_params;
        fastcgi_read_timeout 30s;
        location = /nginx-health { return 200 "ok\n"; }
        location / { fastcgi_pass both; }
    }
}
EOF
in_ns core bash -c '. tests/lib/common.sh; nginx_start "$1" "$1/nginx.conf" "127.0.0.1:$2" "$1"' _ \
    "$PART_DIR/nginx" "$HTTP" >"$PART_DIR/nginx-start.out" 2>&1 || fail_setup "nginx"

# A tenant, a session and two products (through nginx in the core).
CURL=(in_ns core curl -s --max-time 15)
PWU=part-user-pw-$P
in_ns core env DATABASE_URL="$DB_CORE" build/release/stockctl tenant create "part-$P" "Part" \
    >"$PART_DIR/tenant.out" 2>&1 || fail_setup "a tenant"
printf '%s\n' "$PWU" | in_ns core env DATABASE_URL="$DB_CORE" build/release/stockctl user create \
    --tenant "part-$P" --email a@p.test --role admin >/dev/null 2>&1 || fail_setup "a user"
TOKEN=$("${CURL[@]}" -H 'Content-Type: application/json' -X POST \
    --data-binary "{\"tenant\":\"part-$P\",\"email\":\"a@p.test\",\"password\":\"$PWU\"}" \
    "http://127.0.0.1:$HTTP/api/v1/auth/login" | jq -r '.token // empty')
[[ -n "$TOKEN" ]] || fail_setup "a session"
api() # METHOD PATH [JSON]
{
    "${CURL[@]}" -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        ${3:+--data-binary "$3"} "http://127.0.0.1:$HTTP/api/v1$2"
}
UNIT=$(api POST /uom '{"name":"Piece","abbreviation":"pc"}' | jq -r .id)
IDS=""
for s in A B; do
    id=$(api POST /products "{\"sku\":\"$s\",\"name\":\"$s v0\",\"uom_id\":$UNIT,\"price\":\"1.00\",\"stock\":\"5\"}" | jq -r .id)
    [[ "$id" =~ ^[0-9]+$ ]] || fail_setup "a product"
    IDS+="${IDS:+,}$id"
done
t_ok "partition topology: master | replicas + 3 sentinels | h1 | h2 in namespaces, master $(master_of)"

# The cut and the heal (routes on both sides of each pair).
partition()
{
    local op=$1 a b
    for a in m h1; do
        for b in r h2; do
            ip -n "$(ns "$a")" route "$op" blackhole "10.212.${LINK[$b]}.0/24" &&
                ip -n "$(ns "$b")" route "$op" blackhole "10.212.${LINK[$a]}.0/24" || return 1
        done
    done
}

OLD=$(master_of)
in_ns core env BASE="http://127.0.0.1:$HTTP" TOKEN="$TOKEN" PRODUCTS="$IDS" PREFIX="$P-cut" \
    LOAD_SECONDS=22 RATE=60 timeout 70 node tests/sentinel/load.mjs >"$PART_DIR/load.out" 2>&1 &
LOAD=$!
sleep 2 # the load's own start: a moment of the row, not a synchronisation
partition add || t_not_ok "the cut"
promoted() { local m; m=$(master_of) && [[ -n "$m" && "$m" != "$OLD" ]]; }
if wait_for 30 promoted; then
    t_ok "cut: the sentinels promote $(master_of) while the old master $OLD is isolated with h1"
else
    t_not_ok "cut: the sentinels promote a replica"
fi
refuses()
{
    [[ "$(rcli m "$MA" 6379 set "$P:probe" 1)" == NOREPLICAS* ]]
}
if wait_for 15 refuses; then
    t_ok "the isolated old master refuses writes (NOREPLICAS)"
else
    t_not_ok "the isolated old master refuses writes (NOREPLICAS)"
fi
# Some time with the cut in place, under load, then the heal.
sleep 5 # the row's duration with the cut, not a synchronisation
partition del || t_not_ok "the heal"
demoted() { [[ "$(rcli m "$MA" 6379 role | head -1)" == slave ]]; }
if wait_for 30 demoted; then
    t_ok "healed: the old master is a replica of the new one"
else
    t_not_ok "healed: the old master becomes a replica"
fi
wait "$LOAD"
res=$(tail -1 "$PART_DIR/load.out")
if ! jq -e . >/dev/null 2>&1 <<<"$res"; then
    t_not_ok "the partition row's load ran" "$(tail -3 "$PART_DIR/load.out")"
    echo "# row | $ROW | - | - | - | - | - | - | - | -"
    exit 1
fi
psqlc() { in_ns core psql -X -At "$DB_CORE" -c "$1"; }
lost=0
for id in ${IDS//,/ }; do
    want_v=$(jq ".last[\"$id\"][0]" <<<"$res") want_r=$(jq ".last[\"$id\"][1]" <<<"$res")
    base=$(jq ".last[\"$id\"][2]" <<<"$res")
    got_v=$(psqlc "SELECT substring(name from 'v([0-9]+)\$') FROM products WHERE id = $id")
    got_r=$(psqlc "SELECT count(DISTINCT reference) FROM stock_movements WHERE product_id = $id AND reference LIKE '$P-cut-%'")
    ((${got_v:-0} < want_v)) && lost=$((lost + 1))
    ((got_r < want_r)) && lost=$((lost + 1))
    got_r=$(psqlc "SELECT stock::int FROM products WHERE id = $id")
    ((got_r < base + want_r)) && lost=$((lost + 1))
done
dups=$(psqlc "SELECT count(*) FROM (SELECT reference FROM stock_movements WHERE reference LIKE '$P-cut-%' GROUP BY reference HAVING count(*) > 1) d")
reads=$(jq .reads <<<"$res") failed=$(jq .failed <<<"$res") stale=$(jq .stale <<<"$res")
echo "# row | $ROW | $reads | $failed | $stale | $lost | $dups | $(jq .acked <<<"$res") | $(jq .hits <<<"$res") | $(jq .maxMs <<<"$res" | cut -d. -f1)"
if ((stale == 0 && lost == 0 && dups == 0 && reads > 0)); then
    t_ok "$ROW: $reads reads ($failed failed), stale after ack 0, lost 0, duplicated 0"
else
    t_not_ok "$ROW: stale after ack 0, lost 0, duplicated 0" \
        "reads $reads failed $failed stale $stale lost $lost dup $dups; $(jq -c .staleSeen <<<"$res")"
fi
echo "# $ROW: writers that waited for hosts trusting another redis: $(cat "$PART_DIR"/stock-fcgi-h*.log | grep -c 'waiting for hosts trusting another redis'); old master refused writes $(grep -m1 -o '^[0-9T:.-]*' <(grep 'NOREPLICAS' "$PART_DIR/stock-fcgi-h1.log") || echo never)"
new=$(master_of)
h1_on()
{
    local line
    line=$(grep "connected to redis" "$PART_DIR/stock-fcgi-h1.log" | tail -1)
    [[ "$line" == *"connected to redis ${new%:*}:${new##*:} "* ]]
}
for _ in 1 2 3 4 5 6; do api GET "/products/${IDS%%,*}" >/dev/null; done
if wait_for 20 h1_on; then
    t_ok "after the heal h1 is on the new master $new"
else
    t_not_ok "after the heal h1 follows the new master" "$(grep redis "$PART_DIR/stock-fcgi-h1.log" | tail -2)"
fi
if grep -q 'ERROR: AddressSanitizer\|runtime error' "$PART_DIR"/stock-fcgi-h*.log; then
    t_not_ok "no sanitizer report in the hosts' logs"
else
    t_ok "no sanitizer report in the hosts' logs"
fi
