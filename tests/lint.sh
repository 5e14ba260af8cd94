#!/usr/bin/env bash
# lint.sh: the `make check` of SHARED STYLE, as a suite of tests/run_all.sh: every C file is
# clang-format clean (.clang-format; `make format` fixes it), cppcheck finds no warning or
# portability problem, and the modules of fcgi/core include each other without a cycle. Also
# the harness's own honesty: common.sh counts a skip as skipped (never as passed) and no suite
# passes a check it skipped. Prints "RESULT lint passed=N failed=M".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh

mapfile -t FILES < <(ls fcgi/*.c fcgi/*.h fcgi/*/*.c fcgi/*/*.h tests/*/*.c tests/*/*.h 2>/dev/null)
if out=$(clang-format --dry-run --Werror "${FILES[@]}" 2>&1); then
    t_ok "clang-format: ${#FILES[@]} files formatted as .clang-format says"
else
    t_not_ok "clang-format: files differ from .clang-format (make format)" \
        "$(grep -c 'error:' <<<"$out") places, first: $(grep -m1 'error:' <<<"$out")"
fi
if out=$(cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
    --suppress=missingIncludeSystem -Ifcgi fcgi 2>&1); then
    t_ok "cppcheck: no warning or portability problem in fcgi/"
else
    t_not_ok "cppcheck" "$(head -n 3 <<<"$out" | tr '\n' ' ')"
fi

# The include graph of fcgi/core: a "module included-module" line per #include "core/x.h" (a
# module is a file name without .c/.h). tsort fails on a cycle and names the modules in it.
core_includes()
{
    local f
    for f in fcgi/core/*.[ch]; do
        sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*"core/\([A-Za-z0-9_]*\)\.h".*|'"$(basename "${f%.*}")"' \1|p' "$f"
    done
}
if out=$(core_includes | tsort 2>&1 >/dev/null); then
    t_ok "core includes: no cycle among the modules of fcgi/core"
else
    t_not_ok "core includes: a cycle in fcgi/core" \
        "$(grep -v 'contains a loop' <<<"$out" | sed 's/^tsort: //' | tr '\n' ' ')"
fi
# The counting of tests/lib/common.sh, in a shell of its own: one check of each kind.
line=$(bash -c '. tests/lib/common.sh; t_ok a; t_not_ok b; t_skip c "why"; t_result probe' 2>&1 |
    tail -n 1)
t_check "common.sh: t_ok, t_not_ok and t_skip count apart (got '$line')" \
    test "$line" = "RESULT probe passed=1 failed=1 skipped=1"
out=$(bash -c '. tests/lib/common.sh; t_skip c "why"' 2>&1)
t_check "common.sh: a skip is reported as TAP's \"# SKIP\" (got '$out')" \
    test "$out" = "ok - c # SKIP why"
# How tests/run_all.sh reads a suite's RESULT line and writes the last line of a run.
t_check "common.sh: result_counts reads passed, failed and skipped" \
    eval '[[ "$(result_counts "RESULT s passed=3 failed=1 skipped=2")" == "3 1 2" &&
             "$(result_counts "RESULT s passed=3 failed=1")" == "3 1 0" ]] &&
          ! result_counts "RESULT s passed=3" >/dev/null'
t_check "common.sh: the last line is 'N passed, N failed', plus ', N skipped' when N > 0" \
    eval '[[ "$(summary_line 3 1 2)" == "3 passed, 1 failed, 2 skipped" &&
             "$(summary_line 3 1 0)" == "3 passed, 1 failed" ]]'
# A skip written as a pass anywhere in the suites: "t_ok ... # SKIP", "t_ok ... (skipped)" and
# the like.
out=$(grep -rniE 't_ok[[:space:]].*(skip|unavailable|not checked)' tests --include='*.sh' |
    grep -v '^tests/lint.sh:')
t_check "no suite counts a skip as passed (t_ok ... # SKIP, (skipped)...)${out:+: $out}" test -z "$out"
t_result lint
