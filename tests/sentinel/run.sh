#!/usr/bin/env bash
# run.sh: the sentinel suite (SPEC §11): a real Sentinel topology on loopback and one pool of
# build/asan/stock-fcgi behind its own nginx, configured with REDIS_SENTINELS only (REDIS_URL's
# host and port point nowhere: only its password and db are used).
#
# Topology (all on 127.0.0.1, free ports from pick_port, every process started and stopped here
# by its PID): one master and two replicas (requirepass/masterauth, min-replicas-to-write 1,
# min-replicas-max-lag 2, as deploy/redis/ ships them), three `redis-server --sentinel`
# (requirepass, quorum 2, down-after-milliseconds 1000, failover-timeout 4000), and a fake
# sentinel (node) that names a replica as the master. The pool is given the fake sentinel
# first, then a port nobody listens on, then the three real ones.
#
# Checks: the pool finds the master (the fake sentinel's replica rejected by ROLE, the dead
# sentinel skipped); after `SENTINEL FAILOVER` it follows the new master, and a write acked
# before the failover is never answered stale after it, even when the DEL it made is lost by
# asynchronous replication (simulated: the old generation token is put back on the new master);
# cache_hosts records the new master's run_id. Then fault rows under load (tests/sentinel/
# load.mjs, the fleet's oracle): the master SIGKILLed, the master paused (SIGSTOP) past
# down-after-milliseconds and resumed (it comes back as a replica and the app does not stay on
# it). Each row: reads keep answering (DB fallback), stale after ack 0, lost 0, duplicated 0, and
# the app serves cache hits from the new master afterwards.
#
# Last, tests/sentinel/partition.sh (network namespaces; skipped without them): the old master
# isolated together with one app host, under load.
#
# Environment from tests/run_all.sh: STOCK_TEST_DIR, DATABASE_URL. Bounded: every wait has a
# deadline, node runs under timeout, and a watchdog ends the suite after SENTINEL_DEADLINE
# seconds (default 330).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh
. tests/lib/api.sh

SUITE=sentinel
T_PASSED=0 T_FAILED=0 T_SKIPPED=0
DIR=${STOCK_TEST_DIR:?run through tests/run_all.sh}/sentinel
: "${DATABASE_URL:?run through tests/run_all.sh}"
BIN=$ROOT/build/asan/stock-fcgi
STOCKCTL=$ROOT/build/release/stockctl
NAME=stk
PW=sentinel-redis-pw-$$
SPW=sentinel-pw-$$
PREFIX=sent$$
CSECRET=sentinel-cache-secret-$$-0123456789abcdef
secret_note "$PW" "$SPW" "$CSECRET" part-cache-secret-sp
secret_note part-redis-pw-sp part-sentinel-pw-sp
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
rm -rf "$DIR"
mkdir -p "$DIR/run"

STARTED_REDIS=() # pidfiles
POOL_PID=""
FAKE_PID=""
WATCHDOG=""
cleanup()
{
    local f pid
    [[ -n "$WATCHDOG" ]] && kill "$WATCHDOG" 2>/dev/null
    [[ -n "$POOL_PID" ]] && pool_stop "$POOL_PID" 20
    nginx_stop "$DIR/nginx"
    [[ -n "$FAKE_PID" ]] && stop_pid "$FAKE_PID" 5
    for f in "${STARTED_REDIS[@]}"; do
        pid=$(pid_from_file "$f") || continue
        kill -CONT "$pid" 2>/dev/null
        stop_pid "$pid" 5 KILL
    done
}
trap cleanup EXIT
trap 'exit 143' TERM INT
(
    sleep "${SENTINEL_DEADLINE:-330}"
    echo "not ok - the sentinel suite ran past ${SENTINEL_DEADLINE:-330}s: stopped"
    kill -TERM $$
) &
WATCHDOG=$!

if ! command -v node >/dev/null || ! command -v redis-server >/dev/null; then
    t_skip "sentinel suite" "node or redis-server missing"
    t_result "$SUITE"
    exit
fi

pick_port P_M && pick_port P_R1 && pick_port P_R2 && pick_port S1 && pick_port S2 &&
    pick_port S3 && pick_port P_FAKE && pick_port P_DEAD && pick_port P_FCGI && pick_port P_HTTP ||
    exit 1
declare -A PORT_OF=([m]=$P_M [r1]=$P_R1 [r2]=$P_R2)

rcli() # PORT ARGS...: redis-cli on a data node
{
    local p=$1
    shift
    timeout 3 redis-cli -h 127.0.0.1 -p "$p" -a "$PW" --no-auth-warning "$@" 2>/dev/null
}
scli() # PORT ARGS...: redis-cli on a sentinel
{
    local p=$1
    shift
    timeout 3 redis-cli -h 127.0.0.1 -p "$p" -a "$SPW" --no-auth-warning "$@" 2>/dev/null
}

# node_start NAME [args]: a data node of the topology.
node_start()
{
    local n=$1 d=$DIR/$1
    shift
    mkdir -p "$d"
    rm -f "$d/redis.pid"
    redis-server --port "${PORT_OF[$n]}" --bind 127.0.0.1 --dir "$d" --pidfile "$d/redis.pid" \
        --daemonize yes --logfile "$d/redis.log" --save '' --appendonly no \
        --requirepass "$PW" --masterauth "$PW" \
        --min-replicas-to-write 1 --min-replicas-max-lag 2 "$@" || return 1
    STARTED_REDIS+=("$d/redis.pid")
    wait_for 10 eval '[[ "$(rcli "${PORT_OF[$n]}" ping)" == PONG ]]'
}

sentinel_start()
{
    local p=$2 d=$DIR/s$1
    mkdir -p "$d"
    cat >"$d/sentinel.conf" <<EOF
port $p
bind 127.0.0.1
daemonize yes
pidfile $d/sentinel.pid
logfile $d/sentinel.log
dir $d
requirepass $SPW
sentinel monitor $NAME 127.0.0.1 $P_M 2
sentinel auth-pass $NAME $PW
sentinel down-after-milliseconds $NAME 1000
sentinel failover-timeout $NAME 4000
sentinel parallel-syncs $NAME 1
EOF
    redis-server "$d/sentinel.conf" --sentinel || return 1
    STARTED_REDIS+=("$d/sentinel.pid")
    wait_for 10 eval '[[ "$(scli "$p" ping)" == PONG ]]'
}

# sentinel_field PORT FIELD: FIELD of SENTINEL MASTER (key and value lines alternate).
sentinel_field()
{
    scli "$1" sentinel master "$NAME" | awk -v f="$2" 'k == f { print; exit } { k = $0 }'
}

sentinel_settled()
{
    local p
    for p in $S1 $S2 $S3; do
        [[ "$(sentinel_field "$p" num-other-sentinels)" == 2 ]] || return 1
        [[ "$(sentinel_field "$p" num-slaves)" -ge "$1" ]] 2>/dev/null || return 1
    done
}

# master_port: the master's port as the first live sentinel says.
master_port()
{
    local p out
    for p in $S1 $S2 $S3; do
        out=$(scli "$p" sentinel get-master-addr-by-name "$NAME" | sed -n 2p)
        [[ "$out" =~ ^[0-9]+$ ]] && { echo "$out"; return 0; }
    done
    return 1
}

role_of()
{
    rcli "$1" role | head -1
}

good_replicas() # PORT: min_slaves_good_slaves of the node
{
    rcli "$1" info replication | tr -d '\r' | awk -F: '$1 == "min_slaves_good_slaves" { print $2 }'
}

master_ready() # PORT N: a master with at least N good replicas (so it takes writes)
{
    [[ "$(role_of "$1")" == master && "$(good_replicas "$1")" -ge "$2" ]] 2>/dev/null
}

node_of_port()
{
    local n
    for n in m r1 r2; do
        [[ "${PORT_OF[$n]}" == "$1" ]] && { echo "$n"; return 0; }
    done
    return 1
}

run_id_of()
{
    rcli "$1" info server | tr -d '\r' | awk -F: '$1 == "run_id" { print $2 }'
}

# ---------------------------------------------------------------------------------------------
section "0. The topology"
setup_failed()
{
    t_not_ok "$1"
    t_result "$SUITE"
    exit 1
}
node_start m || setup_failed "the master starts"
node_start r1 --replicaof 127.0.0.1 "$P_M" || setup_failed "replica 1 starts"
node_start r2 --replicaof 127.0.0.1 "$P_M" || setup_failed "replica 2 starts"
wait_for 20 master_ready "$P_M" 2 || setup_failed "the master has its two replicas"
sentinel_start 1 "$S1" && sentinel_start 2 "$S2" && sentinel_start 3 "$S3" ||
    setup_failed "the three sentinels start"
wait_for 30 sentinel_settled 2 || setup_failed "the sentinels know each other and both replicas"
# The fake sentinel: answers any AUTH with +OK and anything else with replica 1's address.
node -e '
const net = require("net");
const [port, rport] = process.argv.slice(1);
net.createServer((c) => c.on("data", (d) => {
    c.write(/AUTH/i.test(d.toString()) ? "+OK\r\n"
        : `*2\r\n$9\r\n127.0.0.1\r\n$${rport.length}\r\n${rport}\r\n`);
}).on("error", () => {})).listen(Number(port), "127.0.0.1");
' "$P_FAKE" "$P_R1" </dev/null >"$DIR/fake.log" 2>&1 &
FAKE_PID=$!
wait_for 10 port_open 127.0.0.1 "$P_FAKE" || setup_failed "the fake sentinel listens"
t_ok "a master, two replicas and three sentinels (quorum 2) on loopback"

POOL_LOG=$DIR/stock-fcgi-sentinel.log
pool_start "$BIN" "127.0.0.1:$P_FCGI" "$POOL_LOG" "$DIR/run/stock-fcgi-sentinel.pid" \
    STOCK_ENV_FILE=/dev/null STOCK_WORKERS=2 LOG_LEVEL=info DATABASE_URL="$DATABASE_URL" \
    REDIS_URL="redis://:$PW@127.0.0.1:1/0" CACHE_KEY_PREFIX="$PREFIX" CACHE_SECRET="$CSECRET" \
    REDIS_SENTINELS="127.0.0.1:$P_FAKE,127.0.0.1:$P_DEAD,127.0.0.1:$S1,127.0.0.1:$S2,127.0.0.1:$S3" \
    REDIS_SENTINEL_MASTER="$NAME" REDIS_SENTINEL_PASSWORD="$SPW" \
    REDIS_CONNECT_TIMEOUT=0.5 REDIS_SOCKET_TIMEOUT=0.5 REDIS_RETRY_ON_TIMEOUT=true ||
    setup_failed "the pool starts"
POOL_PID=$(pid_from_file "$DIR/run/stock-fcgi-sentinel.pid")
nginx_render nginx/stock.conf.in "$DIR/nginx/nginx.conf" "127.0.0.1:$P_HTTP" "127.0.0.1:$P_FCGI" \
    "$ROOT/nginx/static" "$DIR/nginx" "$DIR/nginx/logs"
nginx_start "$DIR/nginx" "$DIR/nginx/nginx.conf" "127.0.0.1:$P_HTTP" "$DIR/nginx/logs" ||
    setup_failed "nginx starts"
BASE=http://127.0.0.1:$P_HTTP
API=$BASE/api/v1

SUF=$$-$RANDOM
APW=correct-horse-$SUF
secret_note "$APW"
new_tenant "sent-$SUF" "Sentinel $SUF" admin@s.test "$APW" || setup_failed "a tenant"
TENANT=$NT_ID
session "sent-$SUF" admin@s.test "$APW" || setup_failed "a session"
TOKEN=$S_TOKEN
mk /uom '{"name":"Piece","abbreviation":"pc"}'
UNIT=$MK_ID
mk /products "{\"sku\":\"S1\",\"name\":\"One v0\",\"uom_id\":$UNIT,\"price\":\"2.00\",\"stock\":\"5\"}"
P1=$MK_ID
mk /products "{\"sku\":\"S2\",\"name\":\"Two v0\",\"uom_id\":$UNIT,\"price\":\"2.00\",\"stock\":\"5\"}"
P2=$MK_ID

# connected_to PORT: after a few parallel reads (so that both workers serve one), every live
# worker that ever connected last connected to 127.0.0.1:PORT, and at least one did.
connected_to()
{
    local w line n=0 pids=()
    for _ in 1 2 3 4 5 6; do
        curl -s -o /dev/null --max-time 5 -H "Authorization: Bearer $TOKEN" "$API/products/$P1" &
        pids+=($!)
    done
    wait "${pids[@]}"
    for w in $(live_workers "$POOL_PID"); do
        line=$(grep "pid=$w .*connected to redis" "$POOL_LOG" | tail -1)
        [[ -z "$line" ]] && continue
        [[ "$line" == *"connected to redis 127.0.0.1:$1 (sentinel master $NAME)"* ]] || return 1
        n=$((n + 1))
    done
    ((n > 0))
}

# ---------------------------------------------------------------------------------------------
section "1. The master, through the sentinels"
warm "/products/$P1"
if wait_for 10 connected_to "$P_M" && is_hit "/products/$P1"; then
    t_ok "the pool finds the master: the fake sentinel's replica refused by ROLE, the dead sentinel passed over, a HIT from it"
else
    t_not_ok "the pool finds the master through the sentinels" "$(grep 'redis' "$POOL_LOG" | tail -3)"
fi
if grep -q "connected to redis 127.0.0.1:$P_R1" "$POOL_LOG"; then
    t_not_ok "no worker stays on the replica the fake sentinel names"
else
    t_ok "no worker stays on the replica the fake sentinel names"
fi
if grep -qF -- "$SPW" "$POOL_LOG" || grep -qF -- "$PW" "$POOL_LOG"; then
    t_not_ok "the pool log holds neither password"
else
    t_ok "the pool log holds neither password"
fi

# ---------------------------------------------------------------------------------------------
section "2. SENTINEL FAILOVER; a DEL lost by the replication is not a stale read"
OLD=$P_M
OLD_RUN=$(run_id_of "$OLD")
GEN_KEY="$PREFIX:tenant:$TENANT:products:__gen__"
GEN_OLD=$(rcli "$OLD" get "$GEN_KEY")
mapfile -t VALUE_KEYS < <(rcli "$OLD" --scan --pattern "$PREFIX:tenant:$TENANT:products:*" | grep -v __gen__)
declare -A SAVED=()
for k in "${VALUE_KEYS[@]}"; do
    SAVED[$k]=$(rcli "$OLD" get "$k")
done
if [[ -n "$GEN_OLD" && ${#VALUE_KEYS[@]} -gt 0 ]]; then
    t_ok "the cached product and its generation token are in the master (${#VALUE_KEYS[@]} entries)"
else
    t_not_ok "the cached product and its generation token are in the master" "gen '$GEN_OLD'"
fi
api PATCH "/products/$P1" '{"name":"One before the failover"}'
PATCHED=$R_STATUS
scli "$S1" sentinel failover "$NAME" >/dev/null
new_master()
{
    local p
    p=$(master_port) || return 1
    [[ "$p" != "$OLD" ]] && master_ready "$p" 1 && [[ "$(role_of "$OLD")" == slave ]] && NEW=$p
}
NEW=""
if wait_for 30 new_master; then
    # As if the replication had lost the DEL: the old generation token and the old entries
    # (tagged with the old master's run_id) on the new master.
    rcli "$NEW" set "$GEN_KEY" "$GEN_OLD" >/dev/null
    for k in "${!SAVED[@]}"; do
        rcli "$NEW" set "$k" "${SAVED[$k]}" >/dev/null
    done
    t_ok "SENTINEL FAILOVER: 127.0.0.1:$NEW is the master, the old one a replica"
else
    t_not_ok "SENTINEL FAILOVER makes a replica the master"
fi
stale=0 n=0 end=$((SECONDS + 3))
while ((SECONDS < end)); do
    api GET "/products/$P1"
    n=$((n + 1))
    [[ "$R_STATUS" == 200 && "$(jf .name)" == "One before the failover" ]] || stale=$((stale + 1))
done
if [[ "$PATCHED" == 200 && $stale == 0 ]]; then
    t_ok "the write acked before the failover is what every read after it answers ($n reads), its DEL lost or not"
else
    t_not_ok "the write acked before the failover is never answered stale after it" \
        "PATCH $PATCHED; $stale of $n reads wrong"
fi
if [[ -n "$NEW" ]] && wait_for 15 connected_to "$NEW" && wait_for 10 is_hit "/products/$P1"; then
    t_ok "the app follows the new master: every worker on 127.0.0.1:$NEW, HITs again"
else
    t_not_ok "the app follows the new master" "$(grep 'redis' "$POOL_LOG" | tail -3)"
fi
NEW_RUN=$(run_id_of "$NEW")
# This pool's listing (its name ends with the pool master's pid; the workers are its children).
hosts_run=$(psql -X -At "$DATABASE_URL" -c "SELECT redis_run_id FROM cache_hosts WHERE name LIKE '% pid $POOL_PID'" 2>/dev/null | tr '\n' ' ')
if [[ -n "$NEW_RUN" && "$NEW_RUN" != "$OLD_RUN" && "$hosts_run" == *"$NEW_RUN"* && "$hosts_run" != *"$OLD_RUN"* ]]; then
    t_ok "cache_hosts lists this host's trust as based on the new master's run_id"
else
    t_not_ok "cache_hosts records the new master's run_id" "listed: '$hosts_run', new $NEW_RUN old $OLD_RUN"
fi

# ---------------------------------------------------------------------------------------------
# fault_row NAME ACTION SECONDS: load.mjs for SECONDS, ACTION (a function) run 2 s in; then the
# checks of the row and one line of the table.
TABLE=()
fault_row()
{
    local name=$1 act=$2 secs=$3 out lpid res reads failed stale hits acked dups lost id
    local want_v want_r base got_v got_r
    out=$DIR/load-$act.out
    BASE=$BASE TOKEN=$TOKEN PRODUCTS="$P1,$P2" PREFIX="$PREFIX-$act" LOAD_SECONDS=$secs RATE=60 \
        timeout $((secs + 40)) node tests/sentinel/load.mjs >"$out" 2>&1 &
    lpid=$!
    sleep 2 # the load's own start: a row of the table, not a synchronisation
    "$act"
    wait "$lpid"
    res=$(tail -1 "$out")
    if ! jq -e . >/dev/null 2>&1 <<<"$res"; then
        t_not_ok "$name: the load ran" "$(tail -3 "$out")"
        TABLE+=("$name | - | - | - | - | - | -")
        return
    fi
    reads=$(jq .reads <<<"$res") failed=$(jq .failed <<<"$res") stale=$(jq .stale <<<"$res")
    hits=$(jq .hits <<<"$res") acked=$(jq .acked <<<"$res")
    lost=0
    for id in $P1 $P2; do
        want_v=$(jq ".last[\"$id\"][0]" <<<"$res") want_r=$(jq ".last[\"$id\"][1]" <<<"$res")
        base=$(jq ".last[\"$id\"][2]" <<<"$res")
        got_v=$(psql -X -At "$DATABASE_URL" -c "SELECT substring(name from 'v([0-9]+)\$') FROM products WHERE id = $id")
        got_r=$(psql -X -At "$DATABASE_URL" -c "SELECT count(DISTINCT reference) FROM stock_movements WHERE product_id = $id AND reference LIKE '$PREFIX-$act-%'")
        ((${got_v:-0} < want_v)) && lost=$((lost + 1))
        ((got_r < want_r)) && lost=$((lost + 1))
        got_r=$(psql -X -At "$DATABASE_URL" -c "SELECT stock::int FROM products WHERE id = $id")
        ((got_r < base + want_r)) && lost=$((lost + 1))
    done
    dups=$(psql -X -At "$DATABASE_URL" -c "SELECT count(*) FROM (SELECT reference FROM stock_movements WHERE reference LIKE '$PREFIX-$act-%' GROUP BY reference HAVING count(*) > 1) d")
    TABLE+=("$name | $reads | $failed | $stale | $lost | $dups | $acked | $hits | $(jq .maxMs <<<"$res" | cut -d. -f1)")
    if ((stale == 0 && lost == 0 && dups == 0 && failed == 0 && reads > 0)); then
        t_ok "$name: $reads reads all answered, $acked writes acked; stale after ack 0, lost 0, duplicated 0"
    else
        t_not_ok "$name: stale after ack 0, lost 0, duplicated 0, every read answered" \
            "reads $reads failed $failed stale $stale lost $lost dup $dups; $(jq -c .staleSeen <<<"$res")"
    fi
}

# The master of now, SIGKILLed; the row waits for the new one, then restarts the old node,
# which the sentinels turn into a replica.
kill_master()
{
    local pid n
    OLD=$(master_port) && n=$(node_of_port "$OLD") || { t_not_ok "a master to kill"; return; }
    pid=$(pid_from_file "$DIR/$n/redis.pid")
    kill -KILL "$pid"
    wait_for 10 pid_dead "$pid"
    if wait_for 30 new_master_any; then
        t_ok "master $OLD SIGKILLed: the sentinels made 127.0.0.1:$NEW the master"
    else
        t_not_ok "master SIGKILLed: the sentinels promote a replica"
    fi
}
new_master_any()
{
    local p
    p=$(master_port) || return 1
    [[ "$p" != "$OLD" ]] && master_ready "$p" 1 && NEW=$p
}

pause_master()
{
    local pid n
    OLD=$(master_port) && n=$(node_of_port "$OLD") || { t_not_ok "a master to pause"; return; }
    pid=$(pid_from_file "$DIR/$n/redis.pid")
    kill -STOP "$pid"
    if wait_for 30 new_master_any; then
        t_ok "master $OLD paused: the sentinels made 127.0.0.1:$NEW the master"
    else
        t_not_ok "master paused: the sentinels promote a replica"
    fi
    kill -CONT "$pid"
    if wait_for 20 eval '[[ "$(role_of "$OLD")" == slave ]]'; then
        t_ok "the old master, resumed, is a replica"
    else
        t_not_ok "the old master, resumed, is turned into a replica"
    fi
}

section "3. Fault rows under load"
fault_row "master killed (SIGKILL) under load" kill_master 12
if wait_for 15 connected_to "$NEW" && wait_for 10 is_hit "/products/$P1"; then
    t_ok "after the kill the app serves HITs from the new master 127.0.0.1:$NEW"
else
    t_not_ok "after the kill the app follows the new master" "$(grep 'redis' "$POOL_LOG" | tail -3)"
fi
# The killed node back, as a replica (so that the next row has a replica to spare).
KILLED=$(node_of_port "$OLD")
node_start "$KILLED" && wait_for 30 eval '[[ "$(role_of "$OLD")" == slave ]]' &&
    wait_for 30 master_ready "$NEW" 2 && wait_for 30 sentinel_settled 2 ||
    t_not_ok "the killed master comes back as a replica"

fault_row "master paused (SIGSTOP) past down-after-milliseconds, resumed" pause_master 12
if wait_for 15 connected_to "$NEW" && wait_for 10 is_hit "/products/$P1"; then
    t_ok "after the pause the app is on the new master 127.0.0.1:$NEW (not on the resumed one)"
else
    t_not_ok "after the pause the app does not stay on the old master" "$(grep 'redis' "$POOL_LOG" | tail -3)"
fi

section "4. The old master isolated together with one app host (tests/sentinel/partition.sh)"
# down-after 4000 ms, max-lag 2 s: the old master refuses writes before a replica is promoted
# (the rule deploy/redis/ ships); 1000 ms and 6 s: a replica is promoted first, and both sides
# trust different masters for a few seconds.
for row in 4000:2 1000:6; do
    down=${row%:*}
    mkdir -p "$DIR/partition-$down"
    PART_DIR=$DIR/partition-$down PART_DOWN_AFTER=$down PART_MAX_LAG=${row#*:} timeout 120 bash tests/sentinel/partition.sh \
        >"$DIR/partition-$down.out" 2>&1
    grep -E '^(ok|not ok|# )' "$DIR/partition-$down.out" | grep -v '^# row |'
    if read -r p f k <"$DIR/partition-$down/counts" 2>/dev/null &&
        [[ "$p $f $k" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]]; then
        T_PASSED=$((T_PASSED + p)) T_FAILED=$((T_FAILED + f)) T_SKIPPED=$((T_SKIPPED + k))
    else
        t_not_ok "the partition row (down-after $down) reported its checks" \
            "$(tail -3 "$DIR/partition-$down.out")"
    fi
    while read -r line; do
        TABLE+=("${line#\# row | }")
    done < <(grep '^# row |' "$DIR/partition-$down.out")
done

echo "# row | reads | failed | stale after ack | lost | duplicated | writes acked | hits | max ms"
for line in "${TABLE[@]}"; do
    echo "# $line"
done
if ! grep -q 'ERROR: AddressSanitizer\|runtime error' "$POOL_LOG"; then
    t_ok "no sanitizer report in the pool's log"
else
    t_not_ok "no sanitizer report in the pool's log"
fi
t_result "$SUITE"
