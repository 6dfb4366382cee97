#!/usr/bin/env bash
# The parser's benchmark: `ringwatch dump` against `mariadb-binlog -v
# --base64-output=decode-rows` on the same binlog files, and the decoder alone
# (bench/decode_only: reader and row decoder, no output) on one core.
#
#     bench/dump.sh [-r RUNS] [-n ROWS] [FILE...]
#
# Without FILEs it makes them: a 2-master ring, bench/workload.sh (ROWS rows,
# default 1,000,000) on master 1, then master 1's binlog files are copied
# after FLUSH BINARY LOGS and the ring is stopped before any timing.  Then
# RUNS times (default 7), alternating which goes first, both tools read the
# files to /dev/null (ringwatch dump with its default threads, and again
# with --threads 1); the medians and the median of the per-run ratios are
# printed.  Run from the build folder (or set RW_BUILDDIR).
set -u
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

bench_options 1000000 "[FILE...]" -- "$@"

bench_init || exit 1
RW=$BENCH_BUILD/cli/ringwatch
DECODE=$BENCH_BUILD/bench/decode_only
[[ -x "$DECODE" ]] || { bench_log "no $DECODE: run make first"; exit 1; }

files=("${BENCH_ARGS[@]}")
if ((${#files[@]} == 0)); then
	bench_backlog "$rows" >/dev/null || exit 1
	ring_sql 1 "FLUSH BINARY LOGS" || exit 1
	mkdir -p "$BENCH_WORK/binlogs"
	dd=$(ring_sql 1 "SELECT @@datadir")
	for f in $(ring_sql 1 "SHOW BINARY LOGS" | awk '{ print $1 }'); do
		cp "$dd/$f" "$BENCH_WORK/binlogs/"
		files+=("$BENCH_WORK/binlogs/$f")
	done
	ring_stop
fi
bytes=$(cat "${files[@]}" | wc -c)

# Sanity, untimed: both tools read every file without error.
events=$(set -o pipefail; "$RW" dump "${files[@]}" | wc -l) ||
	{ bench_log "ringwatch dump failed"; exit 1; }
mariadb-binlog -v --base64-output=decode-rows "${files[@]}" >/dev/null ||
	{ bench_log "mariadb-binlog failed"; exit 1; }

# timed LABEL CMD...: wall and user+sys seconds into $BENCH_WORK/LABEL.times
timed() {
	local label=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$BENCH_WORK/t" "$@" >/dev/null || exit 1
	read -r e u s m <"$BENCH_WORK/t"
	echo "$e $(echo "$u + $s" | bc) $m" >>"$BENCH_WORK/$label.times"
	echo "$e"
}

bench_log "timing $runs runs over ${#files[@]} files, $bytes bytes"
for ((r = 1; r <= runs; r++)); do
	if ((r % 2)); then
		a=$(timed rw "$RW" dump "${files[@]}") || exit 1
		b=$(timed mb mariadb-binlog -v --base64-output=decode-rows "${files[@]}") || exit 1
		c=$(timed rw1 "$RW" dump --threads 1 "${files[@]}") || exit 1
	else
		c=$(timed rw1 "$RW" dump --threads 1 "${files[@]}") || exit 1
		b=$(timed mb mariadb-binlog -v --base64-output=decode-rows "${files[@]}") || exit 1
		a=$(timed rw "$RW" dump "${files[@]}") || exit 1
	fi
	echo "$b / $a" | bc -l >>"$BENCH_WORK/ratio"
	echo "$b / $c" | bc -l >>"$BENCH_WORK/ratio1"
	printf 'run %d: ringwatch dump %.2f s, mariadb-binlog %.2f s, ratio %.2f (dump --threads 1: %.2f s, ratio %.2f)\n' \
		"$r" "$a" "$b" "$(tail -1 "$BENCH_WORK/ratio")" "$c" "$(tail -1 "$BENCH_WORK/ratio1")"
done

# The decoder alone: one thread, best of 3 passes over the files held in memory.
for ((r = 1; r <= runs; r++)); do
	"$DECODE" -p 3 "${files[@]}" | sed -n 's/^best: //p' >>"$BENCH_WORK/decode"
done

rw_wall=$(awk '{ print $1 }' "$BENCH_WORK/rw.times" | bench_median)
mb_wall=$(awk '{ print $1 }' "$BENCH_WORK/mb.times" | bench_median)
rw_cpu=$(awk '{ print $2 }' "$BENCH_WORK/rw.times" | bench_median)
mb_cpu=$(awk '{ print $2 }' "$BENCH_WORK/mb.times" | bench_median)
rw_rss=$(awk '{ print $3 }' "$BENCH_WORK/rw.times" | sort -n | tail -1)
rw1_wall=$(awk '{ print $1 }' "$BENCH_WORK/rw1.times" | bench_median)
rw1_cpu=$(awk '{ print $2 }' "$BENCH_WORK/rw1.times" | bench_median)
rw1_rss=$(awk '{ print $3 }' "$BENCH_WORK/rw1.times" | sort -n | tail -1)
ratio=$(bench_median <"$BENCH_WORK/ratio")
ratio1=$(bench_median <"$BENCH_WORK/ratio1")
changes=$(sed -n 's/.*row_changes=\([0-9]*\) .*/\1/p' "$BENCH_WORK/decode" | head -1)
rate=$(sed -n 's/.*row_changes_per_s=\([0-9]*\) .*/\1/p' "$BENCH_WORK/decode" | bench_median)
dsec=$(sed -n 's/.* seconds=\([0-9.]*\) cpu.*/\1/p' "$BENCH_WORK/decode" | bench_median)
dcpu=$(sed -n 's/.*cpu_seconds=\([0-9.]*\) .*/\1/p' "$BENCH_WORK/decode" | bench_median)
cpu_ratio=$(echo "$mb_cpu / $rw_cpu" | bc -l)
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t) ? "PASS" : "MISS" }'; }

echo
echo "== ringwatch dump benchmark =="
echo "input: ${#files[@]} binlog files, $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB", b / 1048576 }')), $events events, $changes row changes (workload: $rows rows)"
printf 'ringwatch dump > /dev/null:                           median %.2f s wall, %.2f s cpu, max RSS %d KiB\n' "$rw_wall" "$rw_cpu" "$rw_rss"
printf 'mariadb-binlog -v --base64-output=decode-rows > /dev/null: median %.2f s wall, %.2f s cpu\n' "$mb_wall" "$mb_cpu"
printf 'ratio mariadb-binlog / ringwatch dump: median %.2f over %d alternating runs (target >= 5): %s\n' \
	"$ratio" "$runs" "$(verdict "$ratio" 5)"
printf 'ratio of the median cpu times (user+sys): %.2f\n' "$cpu_ratio"
printf 'ringwatch dump --threads 1 > /dev/null (one thread):  median %.2f s wall, %.2f s cpu, max RSS %d KiB\n' "$rw1_wall" "$rw1_cpu" "$rw1_rss"
printf 'ratio mariadb-binlog / ringwatch dump --threads 1: median %.2f\n' "$ratio1"
printf 'decoder alone (bench/decode_only, one cpu): median %.0f row changes/s (%.3f s wall, %.3f s cpu for the files; target >= 10000000): %s\n' \
	"$rate" "$dsec" "$dcpu" "$(verdict "$rate" 10000000)"
printf '  by cpu time: %.0f row changes/s\n' "$(echo "$changes / $dcpu" | bc -l)"
bench_machine
