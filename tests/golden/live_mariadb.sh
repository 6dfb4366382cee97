#!/usr/bin/env bash
# Live decoding test on a real ring from the harness (binlog_row_metadata=FULL,
# log_bin_compress=ON): tests/golden/live/types.sql (every column type, edge
# values, FULL/MINIMAL/NOBLOB row images, XA) runs on west; the binlog that
# `ringwatch dump` decodes is compared with mariadb-binlog -v and with the
# server's own SELECT; then the same with binlog_row_metadata=MINIMAL and no
# compression.  Skips (77) when mariadbd or python3 is missing, unless
# RW_REQUIRE_SERVERS=1 (CI), where that is a failure (99).
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
live="$srcdir/tests/golden/live"
. "$srcdir/tests/harness/ring.sh"
ring_require_server
for p in mariadb-binlog python3; do
	command -v $p >/dev/null 2>&1 && continue
	[ "${RW_REQUIRE_SERVERS:-0}" = 1 ] && { echo "Bail out! no $p"; exit 99; }
	echo "SKIP: no $p"
	exit 77
done
tmp=$(mktemp -d) || exit 99
ring_on_exit 'rm -rf "$tmp"'

ring_start -n 2 --row-metadata FULL --compress --extra "--log-bin-compress-min-len=10" || exit 99
# sql [OPTION...] ["SQL"]: on west, utf8mb4; statements from stdin without SQL
sql() {
	local opts=()
	while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do opts+=("$1"); shift; done
	if [ $# -gt 0 ]; then opts+=(-e "$1"); fi
	mariadb --no-defaults --default-character-set=utf8mb4 -S "${RING_SOCKS[1]}" -uroot "${opts[@]}"
}
bin() { ls "$RING_DIR"/west/binlog.[0-9]* | tail -n 1; }
first=$(bin)
sql <"$live/types.sql" || exit 99
sql -B <"$live/select.sql" >"$tmp/select.tsv" || exit 99

# The same again with binlog_row_metadata=MINIMAL (no names, signedness or
# charsets in the binlog) and without compression, in a binlog of its own.
sql "DROP DATABASE t; SET GLOBAL binlog_row_metadata = MINIMAL;
	SET GLOBAL log_bin_compress = OFF; FLUSH BINARY LOGS" || exit 99
second=$(bin)
sql <"$live/types.sql" || exit 99
sql -B <"$live/select.sql" >"$tmp/select3.tsv" || exit 99
cp "$first" "$tmp/first.bin"
cp "$second" "$tmp/second.bin"

fail=0
check() { # binlog, select output, what must be in the dump
	echo "# $1 ($3)"
	"$builddir/cli/ringwatch" dump "$tmp/$1" >"$tmp/dump.jsonl" || { fail=1; return; }
	mariadb-binlog -v --base64-output=decode-rows "$tmp/$1" >"$tmp/oracle.txt" 2>/dev/null
	grep -q "\"type\": \"$3\"" "$tmp/dump.jsonl" || { echo "FAIL: no $3 event"; fail=1; }
	python3 "$srcdir/tests/golden/oracle_compare.py" "$tmp/dump.jsonl" "$tmp/oracle.txt" ||
		fail=1
	python3 "$srcdir/tests/golden/live_compare.py" "$tmp/dump.jsonl" "$tmp/$2" t alltypes ||
		fail=1
}
check first.bin select.tsv WRITE_ROWS_COMPRESSED_V1
check first.bin select.tsv QUERY_COMPRESSED
check second.bin select3.tsv WRITE_ROWS_V1

# Read in pieces by worker threads (every transaction a piece, each with the
# table maps and format description in force where it starts), whole and
# damaged in the middle: the lines, the error and the exit code of one reader.
pieces() { # file: compare one reader with pieces
	local f=$1 rc1 rc2 opts
	"$builddir/cli/ringwatch" dump --threads 1 "$f" >"$tmp/one.jsonl" 2>"$tmp/one.err"
	rc1=$?
	for opts in "--threads 3 --segment-size 1" "--threads 2 --segment-size 2000"; do
		# shellcheck disable=SC2086
		"$builddir/cli/ringwatch" dump $opts "$f" >"$tmp/pieces.jsonl" 2>"$tmp/pieces.err"
		rc2=$?
		if [ "$rc1" != "$rc2" ] || ! cmp -s "$tmp/one.jsonl" "$tmp/pieces.jsonl" ||
			! cmp -s "$tmp/one.err" "$tmp/pieces.err"; then
			echo "FAIL: $f with $opts: exit $rc2 (one reader: $rc1)"
			diff "$tmp/one.err" "$tmp/pieces.err"
			cmp "$tmp/one.jsonl" "$tmp/pieces.jsonl"
			fail=1
			return
		fi
	done
	echo "ok: $(basename "$f") in pieces: $(wc -l <"$tmp/one.jsonl") events, exit $rc1 $(cat "$tmp/one.err")"
}
for b in first.bin second.bin; do
	gtids=$(grep -c '"type": "MARIADB_GTID"' <("$builddir/cli/ringwatch" dump "$tmp/$b"))
	[ "$gtids" -ge 10 ] || { echo "FAIL: $b has $gtids transactions, too few for pieces"; fail=1; }
	pieces "$tmp/$b"
	size=$(wc -c <"$tmp/$b")
	head -c $((size / 2)) "$tmp/$b" >"$tmp/cut.bin"
	pieces "$tmp/cut.bin"
	grep -q "truncated at offset" "$tmp/one.err" || { echo "FAIL: cut $b is not truncated"; fail=1; }
	cp "$tmp/$b" "$tmp/flip.bin"
	printf '\377' | dd of="$tmp/flip.bin" bs=1 seek=$((size * 2 / 3)) conv=notrunc 2>/dev/null
	pieces "$tmp/flip.bin"
	[ -s "$tmp/one.err" ] || { echo "FAIL: a flipped byte in $b is not found"; fail=1; }
done
exit $fail
