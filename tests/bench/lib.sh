# lib.sh: what bench.sh and ab.sh share: their servers, the bench tenant, nginx and a sign-in.
# Sourced after tests/lib/common.sh, with RUN (the run's folder), PIDS (pools started) and
# CTL (the stockctl binary) set; pick_port has chosen pg_port and redis_port.

# The cleanup of a bench run (trap EXIT): nginx, every pool of PIDS, a PgBouncer (bench.sh),
# Redis, PostgreSQL.
bench_cleanup()
{
    nginx_stop "$RUN/nginx"
    for p in "${PIDS[@]}"; do pool_stop "$p" 20; done
    declare -F pgb_stop >/dev/null && pgb_stop "$RUN/pgbouncer"
    redis_stop "$RUN/redis" "$redis_port" >/dev/null 2>&1
    pg_stop "$RUN/pg"
}

# bench_servers [POSTGRES OPTIONS...]: PostgreSQL and Redis started, DATABASE_URL and REDIS_URL
# exported, the schema migrated and the tenant "bench" with its admin created. BENCH_EXTRA_SQL,
# when set, runs after the migrations (ab.sh: what an older build reads that a newer migration
# dropped, e.g. "CREATE TABLE cache_backlog (id bigserial, tenant_id bigint, module text)").
bench_servers()
{
    pg_start "$RUN/pg" "$pg_port" "$RUN/logs/postgresql.log" "$@" || return 1
    redis_start "$RUN/redis" "$redis_port" || return 1
    export DATABASE_URL REDIS_URL STOCK_ENV_FILE=/dev/null LOG_LEVEL=warning
    # One cache secret for every pool of the run: pools sharing Redis verify each other's entries
    # (without one, each pool signs with a random key of its own and rejects the others').
    CACHE_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    export CACHE_SECRET
    DATABASE_URL=$(pg_url "$pg_port")
    REDIS_URL=redis://127.0.0.1:$redis_port/0
    "$CTL" migrate >/dev/null || return 1
    if [[ -n "${BENCH_EXTRA_SQL:-}" ]]; then
        psql -X -q "$DATABASE_URL" -v ON_ERROR_STOP=1 -c "$BENCH_EXTRA_SQL" >/dev/null || return 1
    fi
    "$CTL" tenant create bench "Bench Shop" >/dev/null || return 1
    echo 'bench-password-1' | "$CTL" user create --tenant bench --email bench@example.com \
        --role admin >/dev/null
}

# bench_nginx HTTP_PORT API MISS MINIMAL [L1OFF [MINIMAL_KEPT]]: the bench's nginx on HTTP_PORT,
# routing /api/ (and /kept/api/, on kept connections) to the pool at API, /miss/api/ to MISS,
# /minimal to MINIMAL, /l1off/ to L1OFF and /kept/minimal to MINIMAL_KEPT (host:port each; one
# not given: an address where nothing listens); sets BASE.
bench_nginx()
{
    sed -e "s|@FCGI_MISS@|$3|g" -e "s|@FCGI_MINIMAL@|$4|g" -e "s|@FCGI_L1OFF@|${5:-127.0.0.1:1}|g" \
        -e "s|@FCGI_MINIMAL_KEPT@|${6:-127.0.0.1:1}|g" \
        tests/bench/nginx-bench.conf.in >"$RUN/nginx-bench.conf.in"
    nginx_render "$RUN/nginx-bench.conf.in" "$RUN/nginx/nginx.conf" "127.0.0.1:$1" "$2" \
        "$RUN/static" "$RUN/nginx" "$RUN/logs"
    nginx_start "$RUN/nginx" "$RUN/nginx/nginx.conf" "127.0.0.1:$1" "$RUN/logs" || return 1
    BASE=http://127.0.0.1:$1
}

# bench_sign_in: signs the bench admin in through BASE; sets TOKEN and AUTH (a header).
bench_sign_in()
{
    TOKEN=$(curl -s -H 'Content-Type: application/json' \
        -d '{"tenant":"bench","email":"bench@example.com","password":"bench-password-1"}' \
        "$BASE/api/v1/auth/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    [[ -n "$TOKEN" ]] || { echo "bench: cannot sign in" >&2; return 1; }
    AUTH="Authorization: Bearer $TOKEN"
}
