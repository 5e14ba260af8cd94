#!/usr/bin/env bash
# lint.sh: the `make check` of SHARED STYLE, as a suite of tests/run_all.sh: every C file is
# clang-format clean (.clang-format; `make format` fixes it), cppcheck finds no warning or
# portability problem, and the modules of fcgi/core include each other without a cycle.
# Prints "RESULT lint passed=N failed=M".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
. tests/lib/common.sh

mapfile -t FILES < <(ls fcgi/*.c fcgi/*.h fcgi/*/*.c fcgi/*/*.h tests/*/*.c 2>/dev/null)
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
t_result lint
