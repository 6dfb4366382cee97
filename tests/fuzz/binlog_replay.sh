#!/bin/sh
# Replay the binlog fuzz targets' corpora without libFuzzer: the reader
# target over every fixture file plus tests/fuzz/corpus/binlog_reader, the
# rows target over seeds cut from the fixtures plus tests/fuzz/corpus/binlog_rows,
# the fork target (pieces against the whole) over every fixture file plus
# tests/fuzz/corpus/binlog_fork.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
if [ -z "${RW_FIXTURES:-}" ] || [ ! -d "$RW_FIXTURES" ]; then
	echo "SKIP: RW_FIXTURES not set or missing"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

"$builddir/tests/fuzz/seed_binlog_rows" "$tmp" "$RW_FIXTURES"/*/* || exit 99
"$builddir/tests/fuzz/replay_binlog_rows" "$tmp" "$srcdir/tests/fuzz/corpus/binlog_rows" || exit 1
"$builddir/tests/fuzz/replay_binlog_reader" "$RW_FIXTURES"/*/ \
	"$srcdir/tests/fuzz/corpus/binlog_reader" || exit 1
"$builddir/tests/fuzz/replay_binlog_fork" "$RW_FIXTURES"/*/ \
	"$srcdir/tests/fuzz/corpus/binlog_fork" || exit 1
exit 0
