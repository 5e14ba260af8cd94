#!/usr/bin/env bash
# sql_check.sh [DIR|FILE ...]: flags SQL built from strings in the C sources (default: fcgi/,
# every .c and .h below it). Prints "FILE:LINE: RULE: message" per finding and exits 1 when
# there is any, 0 when there is none, 2 when a path does not exist. The rules and their
# limits are described at the top of sql_check.awk (bash, find and awk only: no compiler).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

(($# > 0)) || set -- "$ROOT/fcgi"
files=()
for p in "$@"; do
    if [[ -d "$p" ]]; then
        while IFS= read -r f; do
            files+=("$f")
        done < <(find "$p" -type f \( -name '*.c' -o -name '*.h' \) | sort)
    elif [[ -f "$p" ]]; then
        files+=("$p")
    else
        echo "sql_check.sh: $p does not exist" >&2
        exit 2
    fi
done
((${#files[@]} > 0)) || {
    echo "sql_check.sh: no C source under $*" >&2
    exit 2
}
awk -f "$HERE/sql_check.awk" "${files[@]}"
