#!/bin/sh
# Golden tests of `ringwatch dump` over the real binlog fixtures.
#
# One folder per case under tests/golden/binlog/<case>/:
#   input             fixture path relative to $RW_FIXTURES (a .gz is gunzipped first)
#   expected.summary  exit code, stderr (file path replaced by FILE), events by type
#   expected.jsonl    the whole dump (small files), or
#   expected.sha256   the dump's SHA-256 (large files)
# The expected files were checked against mariadb-binlog -v where it reads the
# file (tests/golden/oracle_compare.py) and against the fixtures README.
# RW_GOLDEN_REGEN=1 rewrites the expected files from the current output.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
dump="$builddir/daemon/ringwatch"
cases="$srcdir/tests/golden/binlog"

if [ -z "${RW_FIXTURES:-}" ] || [ ! -d "$RW_FIXTURES" ]; then
	echo "SKIP: RW_FIXTURES not set or missing"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

summary() { # exit code, stderr, event counts
	echo "exit $1"
	sed "s|$2|FILE|g" "$tmp/err"
	sed -n 's/^{"type": "\([A-Za-z_0-9]*\)".*/\1/p' "$tmp/out" | sort | uniq -c |
		awk '{ printf "%s %s\n", $2, $1 }'
	echo "total $(wc -l <"$tmp/out" | tr -d ' ')"
}

fail=0
n=0
for dir in "$cases"/*/; do
	name=$(basename "$dir")
	input="$RW_FIXTURES/$(cat "$dir/input")"
	n=$((n + 1))
	case $input in
	*.gz) gunzip -c "$input" >"$tmp/in" || { echo "FAIL $name: gunzip"; fail=1; continue; }
		file="$tmp/in" ;;
	*) file=$input ;;
	esac
	"$dump" dump "$file" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	summary "$rc" "$file" >"$tmp/summary"
	if [ "${RW_GOLDEN_REGEN:-}" = 1 ]; then
		cp "$tmp/summary" "$dir/expected.summary"
		rm -f "$dir/expected.jsonl" "$dir/expected.sha256"
		if [ "$(wc -c <"$tmp/out")" -le 32768 ]; then
			cp "$tmp/out" "$dir/expected.jsonl"
		else
			sha256sum <"$tmp/out" | cut -d' ' -f1 >"$dir/expected.sha256"
		fi
		continue
	fi
	if ! diff -u "$dir/expected.summary" "$tmp/summary"; then
		echo "FAIL $name: summary differs"
		fail=1
		continue
	fi
	if [ -f "$dir/expected.jsonl" ]; then
		if ! diff -u "$dir/expected.jsonl" "$tmp/out" >"$tmp/diff"; then
			head -40 "$tmp/diff"
			echo "FAIL $name: dump differs"
			fail=1
			continue
		fi
	elif [ "$(sha256sum <"$tmp/out" | cut -d' ' -f1)" != "$(cat "$dir/expected.sha256")" ]; then
		echo "FAIL $name: dump differs (sha256)"
		fail=1
		continue
	fi
	echo "ok $name"
done
echo "$n golden cases"
[ "$n" -gt 0 ] || exit 99
exit $fail
