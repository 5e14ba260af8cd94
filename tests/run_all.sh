#!/usr/bin/env bash
# run_all.sh: what `make test` runs once build/release and build/asan are built. Starts a
# throwaway PostgreSQL (fsync off), Redis (dev settings), the ASan worker pool and nginx on free
# loopback ports under build/test-run/run-PID/, runs every suite, stops all of it by PID, and
# ends with one line "N passed, N failed" followed by ", N skipped" when some check could not
# run (exit status 1 on any failure).
#
# Each suite prints "RESULT <suite> passed=N failed=M", optionally followed by " skipped=K"
# (checks that could not run here: counted apart, never as passed). A suite that crashes, times
# out, exits non-zero with no failure counted, or prints no RESULT line counts one failure more.
# So does an ASan/UBSan/LSan report in a pool log, and a pool master that died during the run.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh

# One directory per run (build/test-run/run-PID), so that two runs at once (two terminals, two
# checkouts' worth of sessions) never stop each other's servers.
RUNS=$ROOT/build/test-run
RUN=$RUNS/run-$$
LOGS=$RUN/logs
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0
SUMMARY=()
CLEANED=0
POOL_PID=""

# Sanitizer settings of every ASan binary of the run (the suites inherit them).
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# No developer .env leaks into the tests: the environment below is the whole configuration.
export STOCK_ENV_FILE=/dev/null

fail_extra()
{
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
    SUMMARY+=("$(printf '%-22s %s' "$1" "FAILED: $2")")
    echo "not ok - $1: $2"
}

# Stops every process recorded under DIR (a previous run's leftovers, or this run's): the
# running suite, nginx, pools started by the suites (pidfiles named *fcgi*.pid), Redis,
# PostgreSQL.
stop_recorded()
{
    local dir=$1 f pid
    [[ -d "$dir" ]] || return 0
    # A running suite first (timeout passes TERM on to it), so that it stops using the servers.
    pid=$(pid_from_file "$dir/run/suite.pid") && stop_pid "$pid" 20 TERM
    while IFS= read -r f; do
        nginx_stop "$(dirname "$f")"
    done < <(find "$dir" -name nginx.pid 2>/dev/null)
    while IFS= read -r f; do
        pid=$(pid_from_file "$f") && pool_stop "$pid" 20
    done < <(find "$dir" -name '*fcgi*.pid' 2>/dev/null)
    while IFS= read -r f; do
        pid=$(pid_from_file "$f") || continue
        pid_alive "$pid" || continue
        redis_resume "$(dirname "$f")"
        stop_pid "$pid" 15 TERM
    done < <(find "$dir" -name redis.pid 2>/dev/null)
    # PgBouncers started by tests/http/test_pgbouncer.sh and the bench (tests/lib/pgbouncer.sh).
    while IFS= read -r f; do
        pid=$(pid_from_file "$f") && stop_pid "$pid" 10 TERM
    done < <(find "$dir" -name pgbouncer.pid 2>/dev/null)
    while IFS= read -r f; do
        pg_stop "$(dirname "$f")"
    done < <(find "$dir" -name postmaster.pid 2>/dev/null)
}

# The runs left by a harness that is gone (killed, or finished: its logs stay until the next
# run): stop whatever they still have running, then delete them.
reap_stale_runs()
{
    local d pid
    for d in "$RUNS"/run-*; do
        [[ -d "$d" && "$d" != "$RUN" ]] || continue
        pid=$(pid_from_file "$d/harness.pid") && pid_alive "$pid" && continue
        stop_recorded "$d"
        rm -rf "$d"
    done
}

# only NAME: the suite NAME is to run: STOCK_TEST_ONLY is empty (every suite) or a
# comma-separated list of suite names that contains NAME.
only()
{
    [[ -z "${STOCK_TEST_ONLY:-}" || ",$STOCK_TEST_ONLY," == *",$1,"* ]]
}

cleanup()
{
    ((CLEANED)) && return 0
    CLEANED=1
    [[ -d "$RUN" ]] || return 0
    # The main pool first, with a drain: its workers run LeakSanitizer as they exit.
    [[ -n "$POOL_PID" ]] && pool_stop "$POOL_PID" 30
    stop_recorded "$RUN"
}

trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM HUP

# run_suite NAME SECONDS CMD...: runs one suite with a deadline, shows and keeps its output,
# and adds its RESULT line to the totals.
run_suite()
{
    local name=$1 limit=$2 out rc line passed failed skipped arg spid tpid
    shift 2
    out=$LOGS/suite-$name.out
    echo
    echo "=== $name: $*"
    for arg in "$@"; do
        if [[ "$arg" == */* && ! -e "$arg" ]]; then
            fail_extra "$name" "$arg is missing (did the build fail?)"
            return
        fi
    done
    # In the background with its PID recorded, so that an interrupted run (or the next run,
    # after a killed one) stops the suite too; tail shows its output meanwhile.
    : >"$out"
    timeout -k 10 "$limit" "$@" </dev/null >"$out" 2>&1 &
    spid=$!
    echo "$spid" >"$RUN/run/suite.pid"
    tail -n +1 -s 0.2 -f --pid="$spid" "$out" &
    tpid=$!
    wait "$spid"
    rc=$?
    wait "$tpid" 2>/dev/null
    rm -f "$RUN/run/suite.pid"
    line=$(grep -aE '^RESULT [^ ]+ passed=[0-9]+ failed=[0-9]+' "$out" | tail -n 1)
    if ! read -r passed failed skipped < <(result_counts "$line"); then
        if ((rc == 124 || rc == 137)); then
            fail_extra "$name" "timed out after ${limit}s with no RESULT line"
        else
            fail_extra "$name" "exit status $rc with no RESULT line (crash?)"
        fi
        return
    fi
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
    TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
    SUMMARY+=("$(printf '%-22s passed=%s failed=%s' "$name" "$passed" "$failed")")
    ((skipped > 0)) && SUMMARY[-1]+=" skipped=$skipped"
    if ((rc != 0 && failed == 0)); then
        fail_extra "$name" "exit status $rc after reporting no failure (sanitizer at exit? timeout?)"
    fi
}

# Sanitizer reports in the logs of every pool of the run and in the suites' output (a forked
# child's report does not change its parent's exit status): one failure per file with any.
check_sanitizer_logs()
{
    local f
    while IFS= read -r f; do
        if grep -aqE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f"; then
            echo "--- sanitizer report in $f:"
            grep -aE -A 25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" | head -n 60
            fail_extra "sanitizer" "report in ${f#"$ROOT"/}"
        fi
    done < <(find "$RUN" \( -name 'stock-fcgi*.log' -o -name 'suite-*.out' \) 2>/dev/null | sort)
}

setup()
{
    local pg_port redis_port fcgi_port http_port
    reap_stale_runs
    rm -rf "$RUN"
    mkdir -p "$LOGS" "$RUN/run"
    chmod 755 "$RUNS" "$RUN"
    echo "$$" >"$RUN/harness.pid"

    pick_port pg_port && pick_port redis_port && pick_port fcgi_port && pick_port http_port ||
        return 1
    stock_log "test run in ${RUN#"$ROOT"/}: postgres :$pg_port redis :$redis_port" \
        "pool :$fcgi_port nginx :$http_port"

    pg_start "$RUN/pg" "$pg_port" "$LOGS/postgresql.log" \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off || return 1
    redis_start "$RUN/redis" "$redis_port" || return 1

    export DATABASE_URL REDIS_URL
    DATABASE_URL=$(pg_url "$pg_port")
    REDIS_URL=redis://127.0.0.1:$redis_port/0
    export STOCK_TEST_DIR=$RUN
    # One cache secret for every pool, host and stockctl of the run (SPEC §11), never logged.
    CACHE_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    export CACHE_SECRET
    secret_note "$CACHE_SECRET"
    export STOCK_TEST_REDIS_DIR=$RUN/redis
    export STOCK_TEST_REDIS_PORT=$redis_port
    export STOCK_TEST_REDISCTL="bash $ROOT/tests/lib/redisctl.sh"
    export STOCK_TEST_FCGI_ADDR=127.0.0.1:$fcgi_port
    export STOCK_TEST_BASE_URL=http://127.0.0.1:$http_port
    export STOCK_TEST_POOL_LOG=$LOGS/stock-fcgi.log

    build/release/stockctl migrate >"$LOGS/migrate.out" 2>&1 || {
        cat "$LOGS/migrate.out" >&2
        stock_log "stockctl migrate failed"
        return 1
    }

    pool_start build/asan/stock-fcgi "$STOCK_TEST_FCGI_ADDR" "$STOCK_TEST_POOL_LOG" \
        "$RUN/run/stock-fcgi.pid" STOCK_WORKERS=2 LOG_LEVEL="${LOG_LEVEL:-info}" || return 1
    POOL_PID=$(pid_from_file "$RUN/run/stock-fcgi.pid")
    export STOCK_TEST_POOL_PID=$POOL_PID

    nginx_render nginx/stock.conf.in "$RUN/nginx/nginx.conf" "127.0.0.1:$http_port" \
        "$STOCK_TEST_FCGI_ADDR" "$ROOT/nginx/static" "$RUN/nginx" "$LOGS"
    nginx_start "$RUN/nginx" "$RUN/nginx/nginx.conf" "127.0.0.1:$http_port" "$LOGS" || return 1
    wait_for 30 eval '[[ "$(http_status "$STOCK_TEST_BASE_URL/health")" == 200 ]]' || {
        stock_log "GET /health through nginx does not answer 200"
        tail -n 20 "$STOCK_TEST_POOL_LOG" >&2
        return 1
    }
}

main()
{
    local t
    for t in build/release/stock-fcgi build/release/stockctl build/asan/stock-fcgi; do
        [[ -x "$t" ]] || {
            echo "$t is missing: the build failed"
            echo "0 passed, 1 failed"
            exit 1
        }
    done
    if ! setup; then
        fail_extra "setup" "the test stack did not start (logs in ${LOGS#"$ROOT"/})"
    else
        only lint && run_suite lint 120 bash tests/lint.sh
        only unit-release && run_suite unit-release 120 build/release/run_unit
        only unit-asan && run_suite unit-asan 120 build/asan/run_unit
        only integration-asan && run_suite integration-asan 600 build/asan/run_integration
        # Every answer of tests/lib/api.sh's call() is recorded (api_record), and test_openapi
        # runs after the other HTTP suites to validate them against nginx/static/openapi.json.
        # Its own time: it runs those of the API suites it needs that did not run before it.
        export STOCK_API_RECORD=$RUN/api-answers.rec
        : >"$STOCK_API_RECORD"
        for t in tests/http/test_*.sh; do
            [[ -e "$t" && "$t" != */test_openapi.sh ]] || continue
            only "$(basename "$t" .sh)" && run_suite "$(basename "$t" .sh)" 240 bash "$t"
        done
        only test_openapi && run_suite test_openapi 900 bash tests/http/test_openapi.sh
        unset STOCK_API_RECORD
        only faults && run_suite faults 300 bash tests/faults/run.sh
        only fleet && run_suite fleet 480 bash tests/fleet/run.sh
        only sentinel && run_suite sentinel 240 bash tests/sentinel/run.sh
        only fuzz && run_suite fuzz 300 bash tests/fuzz/run.sh "${STOCK_FUZZ_SECONDS:-20}"
        pid_alive "$POOL_PID" || fail_extra "pool" "the pool master (pid $POOL_PID) died during the run"
    fi

    cleanup
    check_sanitizer_logs
    # No secret the suites recorded in $RUN/secrets.list (passwords, session tokens, database and
    # Redis passwords) and no argon2 hash in any log of the run, shutdown lines included.
    only secrets && run_suite secrets 60 bash tests/security/scan_logs.sh "$RUN"

    echo
    echo "=== summary"
    printf '%s\n' "${SUMMARY[@]}"
    summary_line "$TOTAL_PASSED" "$TOTAL_FAILED" "$TOTAL_SKIPPED"
    ((TOTAL_FAILED == 0))
}

main
