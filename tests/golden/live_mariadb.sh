#!/bin/sh
# Live decoding test: a throwaway MariaDB server (binlog_row_metadata=FULL,
# log_bin_compress=ON) runs tests/golden/live/types.sql (every column type,
# edge values, FULL/MINIMAL/NOBLOB row images, XA), then the binlog that
# `ringwatch dump` decodes is compared with mariadb-binlog -v and with the
# server's own SELECT; then the same with binlog_row_metadata=MINIMAL and no
# compression.  Skips (77) when mariadbd or python3 is missing.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
live="$srcdir/tests/golden/live"
for p in mariadbd mariadb-install-db mariadb mariadb-binlog python3; do
	command -v $p >/dev/null 2>&1 || [ -x /usr/sbin/$p ] || { echo "SKIP: no $p"; exit 77; }
done
mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
tmp=$(mktemp -d) || exit 99
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir "$tmp/tmp" || exit 99 # the server's temporary files stay ours
mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$tmp/data" --tmpdir="$tmp/tmp" \
	--auth-root-authentication-method=normal --skip-test-db >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 99; }
"$mariadbd" --no-defaults --user="$(id -un)" --datadir="$tmp/data" --socket="$tmp/sock" \
	--skip-networking --tmpdir="$tmp/tmp" --log-bin="$tmp/bin" --binlog-format=ROW --server-id=7 \
	--binlog-row-metadata=FULL --log-bin-compress=ON --log-bin-compress-min-len=10 \
	--innodb-buffer-pool-size=64M --log-error="$tmp/err.log" &
pid=$!
sql() { mariadb --no-defaults --default-character-set=utf8mb4 -S "$tmp/sock" -uroot "$@"; }
i=0
until sql -e 'SELECT 1' >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$tmp/err.log"; exit 99; }
	sleep 0.2
done
sql <"$live/types.sql" || exit 99
sql -B <"$live/select.sql" >"$tmp/select.tsv" || exit 99

# The same again with binlog_row_metadata=MINIMAL (no names, signedness or
# charsets in the binlog) and without compression: bin.000003.
sql -e 'DROP DATABASE t; SET GLOBAL binlog_row_metadata=MINIMAL;
	SET GLOBAL log_bin_compress=OFF; FLUSH BINARY LOGS' || exit 99
sql <"$live/types.sql" || exit 99
sql -B <"$live/select.sql" >"$tmp/select3.tsv" || exit 99

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
check bin.000001 select.tsv WRITE_ROWS_COMPRESSED_V1
check bin.000001 select.tsv QUERY_COMPRESSED
check bin.000003 select3.tsv WRITE_ROWS_V1
exit $fail
