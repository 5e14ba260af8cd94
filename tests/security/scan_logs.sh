#!/usr/bin/env bash
# scan_logs.sh DIR [SECRETS_FILE]: after a test run, checks that no secret reached a log.
#
# DIR is a run directory of tests/run_all.sh (build/test-run/run-PID) or any folder of logs.
# SECRETS_FILE (default DIR/secrets.list) holds one secret a line, appended by the suites as
# they use them: user passwords (right and wrong ones), session tokens and their 43-character
# random part, tokens made up for negative tests, database and Redis passwords. Lines shorter
# than 8 characters, blank lines and lines starting with # are ignored (too short to tell).
#
# Every log file under DIR (*.log and *.out: the pool logs of all suites, nginx access/error
# logs, postgresql.log, redis.log, migrate.out...) is one check: it holds none of the secrets
# and no argon2 hash ("$argon2"). The suites' own transcripts (suite-*.out, where a failing
# check may print a response) and anything under a PostgreSQL data directory are not logs and
# are skipped. A secret found is shown masked (its first 4 characters and its length).
#
# Prints TAP-like lines and "RESULT secrets passed=N failed=M"; exit status 1 on any failure.
# Meant to run at the very end of tests/run_all.sh, once every server has stopped (so that the
# shutdown lines are in the logs too).
set -u

DIR=${1:?usage: scan_logs.sh DIR [SECRETS_FILE]}
LIST=${2:-$DIR/secrets.list}
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

# mask SECRET: enough to recognise it in the suite that recorded it, not enough to use it.
mask()
{
    printf '%s...(%d chars)' "${1:0:4}" "${#1}"
}

if [[ ! -d "$DIR" ]]; then
    t_not_ok "$DIR is a directory"
    t_result secrets
    exit 1
fi

# The secrets, deduplicated, as fixed strings for grep -F.
PATTERNS=$(mktemp)
trap 'rm -f "$PATTERNS"' EXIT
if [[ -r "$LIST" ]]; then
    grep -v '^#' "$LIST" | tr -d '\r' | awk 'length($0) >= 8' | sort -u >"$PATTERNS"
fi
NSECRETS=$(wc -l <"$PATTERNS")
if ((NSECRETS == 0)); then
    echo "# no secrets recorded in $LIST: only argon2 hashes are looked for"
fi

HASH='$''argon2' # the prefix of every argon2 hash string (split: no expansion meant)
NFILES=0
while IFS= read -r -d '' f; do
    NFILES=$((NFILES + 1))
    rel=${f#"$DIR"/}
    found=""
    if ((NSECRETS > 0)); then
        # Which secrets occur, and on which lines (first 5).
        while IFS= read -r s; do
            lines=$(grep -anF -- "$s" "$f" | cut -d: -f1 | head -n 5 | tr '\n' ',')
            found+="secret $(mask "$s") on lines ${lines%,}; "
        done < <(grep -aoF -f "$PATTERNS" "$f" | sort -u)
    fi
    if grep -aqF "$HASH" "$f"; then
        lines=$(grep -anF "$HASH" "$f" | cut -d: -f1 | head -n 5 | tr '\n' ',')
        found+="an argon2 hash on lines ${lines%,}; "
    fi
    if [[ -z "$found" ]]; then
        t_ok "$rel holds none of the $NSECRETS secrets and no argon2 hash"
    else
        t_not_ok "$rel: ${found%; }"
    fi
done < <(find "$DIR" -type f \( -name '*.log' -o -name '*.out' \) ! -name 'suite-*.out' \
    ! -path '*/pg/*' ! -path '*/pgdata/*' -print0 | sort -z)

if ((NFILES > 0)); then
    t_ok "$NFILES log files scanned under $DIR"
else
    t_not_ok "log files found under $DIR (none: nothing was scanned)"
fi

t_result secrets
