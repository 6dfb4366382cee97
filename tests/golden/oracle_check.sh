#!/bin/sh
# Row values of `ringwatch dump` against mariadb-binlog -v over every fixture
# (the oracle of issue 3).  Skips when mariadb-binlog or python3 is missing.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
command -v mariadb-binlog >/dev/null 2>&1 || { echo "SKIP: no mariadb-binlog"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
if [ -z "${RW_FIXTURES:-}" ] || [ ! -d "$RW_FIXTURES" ]; then
	echo "SKIP: RW_FIXTURES not set or missing"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

fail=0
for dir in "$srcdir"/tests/golden/binlog/*/; do
	name=$(basename "$dir")
	file="$RW_FIXTURES/$(cat "$dir/input")"
	case $file in
	*.gz) gunzip -c "$file" >"$tmp/in" && file="$tmp/in" ;;
	esac
	"$builddir/cli/ringwatch" dump "$file" >"$tmp/ours" 2>/dev/null
	mariadb-binlog -v --base64-output=decode-rows "$file" >"$tmp/theirs" 2>/dev/null
	if python3 "$srcdir/tests/golden/oracle_compare.py" "$tmp/ours" "$tmp/theirs" >"$tmp/cmp"; then
		echo "ok $name $(tail -n 1 "$tmp/cmp")"
	else
		cat "$tmp/cmp"
		echo "FAIL $name"
		fail=1
	fi
done
exit $fail
