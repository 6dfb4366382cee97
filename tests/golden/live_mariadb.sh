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
	"$builddir/daemon/ringwatch" dump "$tmp/$1" >"$tmp/dump.jsonl" || { fail=1; return; }
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
exit $fail
