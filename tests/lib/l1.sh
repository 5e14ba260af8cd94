# l1.sh: helpers for the pools' L1 caches (fcgi/core/l1.c), for tests that talk to Redis.
# Needs common.sh (wait_for) and redis-cli.

# l1_sub_ids REDIS-CLI-ARGS...: the client ids of every L1 agent's invalidation connection.
l1_sub_ids()
{
    redis-cli "$@" CLIENT LIST 2>/dev/null |
        awk '/ name=stock-l1-sub-/ { for (i = 1; i <= NF; i++) if ($i ~ /^id=/) print substr($i, 4) }' |
        sort
}

# l1_reset REDIS-CLI-ARGS...: empties every L1 of the pools on that Redis, the way a dropped
# channel does: kills each agent's invalidation connection (a channel set up again starts from
# empty L1s) and waits until every agent is connected again with a new one. 0, or 1 when the
# agents did not come back within 5 s.
l1_reset()
{
    local old n id
    old=$(l1_sub_ids "$@")
    n=$(grep -c . <<<"$old")
    for id in $old; do
        redis-cli "$@" CLIENT KILL ID "$id" >/dev/null
    done
    wait_for 5 _l1_back "$old" "$n" "$@"
}

_l1_back()
{
    local old=$1 n=$2 now
    shift 2
    now=$(l1_sub_ids "$@")
    [[ $(grep -c . <<<"$now") -ge $n ]] && [[ -z "$(comm -12 <(echo "$old") <(echo "$now") | grep .)" ]]
}
