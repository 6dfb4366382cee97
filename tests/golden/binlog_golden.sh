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
dump="$builddir/cli/ringwatch"
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

# same_dump FILE RC OPTION...: dump FILE with the options; the lines, the
# error and the exit code must be those in $tmp/out, $tmp/err and RC.
same_dump() {
	sd_file=$1 sd_want=$2
	shift 2
	"$dump" dump "$@" "$sd_file" >"$tmp/out2" 2>"$tmp/err2"
	sd_got=$?
	[ "$sd_got" = "$sd_want" ] && cmp -s "$tmp/out" "$tmp/out2" && cmp -s "$tmp/err" "$tmp/err2" &&
		return 0
	echo "exit $sd_got, want $sd_want"
	diff "$tmp/err" "$tmp/err2" | head -5
	cmp "$tmp/out" "$tmp/out2"
	return 1
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
	# The same dump read in pieces by worker threads (every transaction a
	# piece), and read from a pipe: the same lines, error and exit code.
	if ! same_dump "$file" "$rc" --threads 3 --segment-size 1; then
		echo "FAIL $name: --threads 3 --segment-size 1 differs"
		fail=1
		continue
	fi
	# shellcheck disable=SC2002
	cat "$file" | "$dump" dump /dev/stdin >"$tmp/out3" 2>"$tmp/err3"
	rc3=$?
	sed -i "s|/dev/stdin|$file|g" "$tmp/err3"
	if [ "$rc3" != "$rc" ] || ! cmp -s "$tmp/out" "$tmp/out3" || ! cmp -s "$tmp/err" "$tmp/err3"; then
		echo "FAIL $name: read from a pipe differs"
		fail=1
		continue
	fi
	echo "ok $name"
done

# Damage in the middle of files with many transactions: read in pieces, the
# lines before the damage, the error and the exit code are those of one reader.
for rel in mysql-binlog-connector-java/mysql-bin.sakila.gz \
	mariadb-poc/domain_id_0_mariadb-repl-bin.000004; do
	case $rel in
	*.gz) gunzip -c "$RW_FIXTURES/$rel" >"$tmp/big" ;;
	*) cp "$RW_FIXTURES/$rel" "$tmp/big" ;;
	esac
	size=$(wc -c <"$tmp/big")
	for cut in 3 2; do
		n=$((n + 1))
		at=$((size / cut))
		head -c "$at" "$tmp/big" >"$tmp/cut"
		cp "$tmp/big" "$tmp/flip"
		printf '\377' | dd of="$tmp/flip" bs=1 seek="$at" conv=notrunc 2>/dev/null
		for f in cut flip; do
			"$dump" dump --threads 1 "$tmp/$f" >"$tmp/out" 2>"$tmp/err"
			rc=$?
			# a cut file is always damage; a flipped byte where the file has
			# checksums (the MariaDB one has, the old MySQL one has not)
			if [ ! -s "$tmp/out" ] || { { [ "$f" = cut ] || [ "$rel" != "${rel#mariadb}" ]; } &&
				{ [ "$rc" != 1 ] || [ ! -s "$tmp/err" ]; }; }; then
				echo "FAIL $rel $f at $at: exit $rc, want 1 with events and an error"
				fail=1
			elif ! same_dump "$tmp/$f" "$rc" --threads 3 --segment-size 1 ||
				! same_dump "$tmp/$f" "$rc" --threads 2 --segment-size 4096; then
				echo "FAIL $rel $f at $at: read in pieces differs"
				fail=1
			else
				echo "ok $rel $f at $at: $(wc -l <"$tmp/out") events, exit $rc $(cat "$tmp/err")"
			fi
		done
	done
done
# A pipe, then a mapped file: every line of each, in the order of the files.
a="$RW_FIXTURES/mysql-binlog-connector-java/mysql-bin.checksum-crc32"
b="$RW_FIXTURES/mariadb-poc/domain_id_0_mariadb-repl-bin.000004"
n=$((n + 1))
"$dump" dump "$a" "$b" >"$tmp/out" 2>"$tmp/err"
rc=$?
# shellcheck disable=SC2002
cat "$a" | "$dump" dump --segment-size 4096 /dev/stdin "$b" >"$tmp/out2" 2>"$tmp/err2"
rc2=$?
if [ "$rc" != 0 ] || [ "$rc2" != 0 ] || ! cmp -s "$tmp/out" "$tmp/out2" || [ ! -s "$tmp/out" ]; then
	echo "FAIL a pipe and a file: not the lines of both files in order"
	fail=1
else
	echo "ok a pipe and a file: $(wc -l <"$tmp/out2") lines in order"
fi

# Nothing to show is no success: an empty file, or only the magic number,
# from a file or a pipe: exit 1 with the reason.
: >"$tmp/empty"
printf '\376bin' >"$tmp/magic"
for f in empty magic; do
	for how in file pipe; do
		n=$((n + 1))
		if [ $how = file ]; then
			"$dump" dump "$tmp/$f" >"$tmp/out" 2>"$tmp/err"
		else
			# shellcheck disable=SC2002
			cat "$tmp/$f" | "$dump" dump /dev/stdin >"$tmp/out" 2>"$tmp/err"
		fi
		rc=$?
		if [ "$rc" != 1 ] || [ -s "$tmp/out" ] || ! grep -Eq "(empty: no binlog|no event in it)" "$tmp/err"; then
			echo "FAIL dump of the $f file ($how): exit $rc, want 1 saying so: $(cat "$tmp/err")"
			fail=1
		else
			echo "ok dump of the $f file ($how): $(cat "$tmp/err")"
		fi
	done
done

# What cannot be read or written: exit 2 with the reason.
n=$((n + 1))
"$dump" dump "$tmp" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" != 2 ] || ! grep -q "read error" "$tmp/err"; then
	echo "FAIL dump of a folder: exit $rc, want 2 with a read error: $(cat "$tmp/err")"
	fail=1
else
	echo "ok dump of a folder: $(cat "$tmp/err")"
fi
if [ -w /dev/full ]; then
	for how in file pipe; do
		n=$((n + 1))
		if [ $how = file ]; then
			"$dump" dump "$b" >/dev/full 2>"$tmp/err"
		else
			# shellcheck disable=SC2002
			cat "$b" | "$dump" dump /dev/stdin >/dev/full 2>"$tmp/err"
		fi
		rc=$?
		if [ "$rc" != 2 ] || ! grep -q "write error" "$tmp/err"; then
			echo "FAIL dump of a $how to a full disk: exit $rc, want 2 with a write error"
			fail=1
		else
			echo "ok dump of a $how to a full disk: $(cat "$tmp/err")"
		fi
	done
fi

# Bad options: a usage error (exit 2) with a reason, and nothing printed.
for bad in "--threads 0" "--threads 65" "--threads x" "--threads" "--segment-size 0" \
	"--segment-size -5" "--bogus"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	"$dump" dump $bad "$file" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" != 2 ] || [ -s "$tmp/out" ] || [ ! -s "$tmp/err" ]; then
		echo "FAIL dump $bad: exit $rc, want 2 with a reason"
		fail=1
	else
		echo "ok dump $bad: $(head -1 "$tmp/err")"
	fi
done
echo "$n golden cases"
[ "$n" -gt 0 ] || exit 99
exit $fail
