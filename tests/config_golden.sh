#!/bin/sh
# Golden tests of configuration checking: one folder per case holding
# ringwatchd.conf (and any files it names) and "expected": the exit code on
# the first line, then what `ringwatchd --check-config` prints (stderr for
# errors, stdout for success).  @DIR@ stands for the case folder.
# Every password-like value in a case must never appear in the output.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
bin="$top_builddir/daemon/ringwatchd"
cases="$top_srcdir/tests/config"
work=$(mktemp -d "${TMPDIR:-/tmp}/rw-config.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

n=0
failed=0
for dir in "$cases"/*/; do
    name=$(basename "$dir")
    n=$((n + 1))
    # copy, so that path resolution and empty folders work from a read-only tree
    cp -R "$dir" "$work/$name"
    abs=$(cd "$work/$name" && pwd -P)
    want_rc=$(head -n 1 "$dir/expected")
    want=$(tail -n +2 "$dir/expected" | sed "s|@DIR@|$abs|g")
    got=$(cd "$work/$name" && "$bin" --check-config -c ringwatchd.conf 2>&1)
    rc=$?
    leak=$(grep -hoE '(pw|tok)-[a-z0-9-]+' "$work/$name"/* 2>/dev/null | while read -r secret; do
        case "$got" in *"$secret"*) echo "$secret" ;; esac
    done)
    if [ "$rc" = "$want_rc" ] && [ "$got" = "$want" ] && [ -z "$leak" ]; then
        echo "ok $n - $name"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name"
        echo "#   exit $rc (want $want_rc)"
        echo "#   got:  $got"
        echo "#   want: $want"
        [ -z "$leak" ] || echo "#   secret printed: $leak"
    fi
done
echo "1..$n"
[ "$n" -gt 0 ] && [ "$failed" -eq 0 ]
