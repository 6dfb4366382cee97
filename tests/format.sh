#!/bin/sh
# Every C file of the project follows .clang-format.
set -u
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/integration/lib.sh"
t_need clang-format

cd "$top_srcdir" || exit 99
files=$(find include lib common daemon cli tests bench -name '*.[ch]' 2>/dev/null | sort)
t_ok "there are C files to check" test -n "$files"
for f in $files; do
    if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        t_ok "$f is formatted" true
    else
        t_ok "$f is formatted (run: clang-format -i $f)" false
    fi
done
t_done
