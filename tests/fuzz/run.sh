#!/usr/bin/env bash
# run.sh SECONDS: runs every libFuzzer target of build/fuzz for SECONDS each on a copy of its
# committed seed corpus (tests/fuzz/corpus/<target>), prints one RESULT line per target
# ("ok -" when it ran clean for the whole time), then one line "RESULT fuzz passed=N failed=M"
# (N targets clean, M that found a problem), and exits non-zero if any target crashed.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
secs=${1:-20}
work=${STOCK_TEST_DIR:-$ROOT/build}/fuzz-run
rm -rf "$work"
mkdir -p "$work"
rc=0
passed=0
failed=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    bin=build/fuzz/$name
    if [[ ! -x "$bin" ]]; then
        echo "not ok - $name: $bin is missing (make fuzzers VARIANT=fuzz)"
        failed=$((failed + 1))
        rc=1
        continue
    fi
    mkdir -p "$work/$name"
    cp -r "tests/fuzz/corpus/$name/." "$work/$name/" 2>/dev/null
    if "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
        -print_final_stats=1 -artifact_prefix="$work/$name-" "$work/$name" >"$work/$name.log" 2>&1; then
        echo "ok - $name ran ${secs}s clean ($(grep -ao 'stat::number_of_executed_units: [0-9]*' "$work/$name.log" | awk '{print $2}') runs)"
        passed=$((passed + 1))
    else
        echo "not ok - $name found a problem: see $work/$name.log and $work/$name-*"
        tail -n 30 "$work/$name.log"
        failed=$((failed + 1))
        rc=1
    fi
done
echo "RESULT fuzz passed=$passed failed=$failed"
exit $rc
