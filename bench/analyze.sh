#!/usr/bin/env bash
# The conflict engine offline: `ringwatch analyze` on the binlogs of a ring
# where both masters wrote at the same time.
#
#     bench/analyze.sh [-r RUNS] [-n ROWS]
#
# A 2-master ring with binlog_row_metadata=FULL (the table maps carry the
# primary key, so analyze needs no server) and a 256 MB buffer pool.  At the
# same time:
#   - master 1 (west): bench/workload.sh with ROWS rows (default 700,000):
#     inserts, every third row updated, every fifth deleted, 1,000 row
#     changes per transaction;
#   - master 2 (east): as soon as it holds all ROWS rows, every fourth row
#     that is not a fifth (n % 4 = 0 AND n % 5 <> 0: master 1 deletes those)
#     updated (m, d change), about 1,000 rows per transaction, in primary-key
#     ranges of 5,000 rows walked from the highest id down.  Master 1 walks
#     its updates upwards, so the two meet somewhere: the rows both update
#     (n % 12 = 0) near the meeting point are written on both sides before
#     either side's copy arrives, and become update-update conflicts.
# After the ring is synced, FLUSH BINARY LOGS on both and their files are
# copied (each holds both masters' transactions: log_slave_updates), the ring
# is stopped.  Then RUNS times (default 7), alternating the order of the
# --master options (analyze interleaves the masters' events by timestamp, so
# the order of the options should not matter; the runs show whether it does):
#     ringwatch analyze --master west=FILES --master east=FILES > /dev/null
# under /usr/bin/time (wall, cpu, peak RSS).  The row changes are counted
# once by bench/decode_only (every rows event's rows, both masters' files);
# the rate is that total over the wall time (and over the cpu time).  For
# scale, the decoder alone (decode_only, best of 3 passes) on the same files.
# The "found" line counts analyze's conflicts by kind, the open diverged
# ones, and those with a write the engine knows only by its appearances (no
# gtid, no images: evicted from the engine's image ring, or dropped while
# blind), whose finals, and so "diverged", cannot be trusted.
# Run from the build folder (or set RW_BUILDDIR).
set -u
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

bench_options 700000 -- "$@"

bench_init || exit 1
RW=$BENCH_BUILD/cli/ringwatch
DECODE=$BENCH_BUILD/bench/decode_only
[[ -x "$DECODE" ]] || { bench_log "no $DECODE: run make first"; exit 1; }

# east_workload ROWS: master 2's updates (see above), once it holds all rows.
# Prints the number of rows it updated.
east_workload() {
	local rows=$1 k c=0
	local -a b
	for ((k = 0; k < 1200; k++)); do
		c=$(ring_sql 2 "SELECT COUNT(*) FROM bench.t" 2>/dev/null) && ((c >= rows)) && break
		sleep 0.1
	done
	((c >= rows)) || { bench_log "east: the inserts did not arrive"; return 1; }
	mapfile -t b < <(ring_sql 2 "SELECT id FROM bench.t WHERE n % 5000 = 1 ORDER BY id") || return 1
	{
		for ((k = ${#b[@]} - 1; k >= 0; k--)); do
			printf "UPDATE bench.t SET m = m + 0.5, d = d + INTERVAL 1 SECOND
    WHERE id >= %d%s AND n %% 4 = 0 AND n %% 5 <> 0;\n" "${b[k]}" "${b[k + 1]:+ AND id < ${b[k + 1]}}"
		done
	} | ring_sql 2 || return 1
	ring_sql 2 "SELECT COUNT(*) FROM bench.t WHERE n % 4 = 0 AND n % 5 <> 0"
}

ring_start -n 2 --row-metadata FULL --extra "--innodb-buffer-pool-size=256M" || exit 1
t0=$(date +%s.%N)
bench_workload 1 "$rows" >"$BENCH_WORK/west.out" &
wpid=$!
east_workload "$rows" >"$BENCH_WORK/east.out" &
epid=$!
wait "$wpid" || { bench_log "west's workload failed"; exit 1; }
wait "$epid" || { bench_log "east's workload failed"; exit 1; }
ring_sync 600 || exit 1
bench_log "both workloads done and replicated in $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s"
same=$(ring_sql 1 "SELECT COUNT(*), SUM(CRC32(CONCAT_WS(',', id, n, s, d, m))) FROM bench.t")
[[ "$same" == "$(ring_sql 2 "SELECT COUNT(*), SUM(CRC32(CONCAT_WS(',', id, n, s, d, m))) FROM bench.t")" ]] &&
	agree="the masters hold the same rows" || agree="the masters' rows DIFFER"
# each master's rows, to tell which differ (compared with what analyze says)
for i in 1 2; do
	ring_sql "$i" "SELECT id, CRC32(CONCAT_WS(',', id, n, s, d, m)) FROM bench.t" \
		>"$BENCH_WORK/rows.$i" || exit 1
done

declare -A files
west=${RING_NAMES[1]} east=${RING_NAMES[2]}
for i in 1 2; do
	m=${RING_NAMES[i]}
	ring_sql "$i" "FLUSH BINARY LOGS" || exit 1
	mkdir -p "$BENCH_WORK/$m"
	dd=$(ring_sql "$i" "SELECT @@datadir")
	# every file but the new empty one FLUSH started
	for f in $(ring_sql "$i" "SHOW BINARY LOGS" | awk '{ print $1 }' | sed '$d'); do
		cp "$dd/$f" "$BENCH_WORK/$m/"
		files[$m]+="${files[$m]:+,}$BENCH_WORK/$m/$f"
	done
done
ring_stop
IFS=, read -r -a wf <<<"${files[$west]}"
IFS=, read -r -a ef <<<"${files[$east]}"
wbytes=$(cat "${wf[@]}" | wc -c)
ebytes=$(cat "${ef[@]}" | wc -c)

# Row changes and events of each master's files; the decoder alone on all.
wrows=$("$DECODE" -p 1 "${wf[@]}" | sed -n 's/^best: .*row_changes=\([0-9]*\).*/\1/p')
erows=$("$DECODE" -p 1 "${ef[@]}" | sed -n 's/^best: .*row_changes=\([0-9]*\).*/\1/p')
total=$((wrows + erows))
for ((r = 1; r <= runs; r++)); do
	"$DECODE" -p 3 "${wf[@]}" "${ef[@]}" | sed -n 's/^pass [0-9]*: .*(cpu \([0-9.]*\) s)$/\1/p' |
		sort -g | head -1 >>"$BENCH_WORK/decode.cpu"
done

# Sanity, untimed: the conflicts analyze finds, by kind; analyze exits 1
# when diverged rows remain, 2 on errors.
"$RW" analyze --master "$west=${files[$west]}" --master "$east=${files[$east]}" \
	>"$BENCH_WORK/analyze.json" 2>"$BENCH_WORK/analyze.err"
rc=$?
((rc <= 1)) || { bench_log "ringwatch analyze failed: $(cat "$BENCH_WORK/analyze.err")"; exit 1; }
kinds=$(python3 -c '
import collections, json, sys
c = json.load(open(sys.argv[1]))["conflicts"]
k = collections.Counter(x["kind"] for x in c)
d = sum(1 for x in c if x.get("diverged") and x.get("state") == "open")
s = sum(1 for x in c if any(w.get("gtid") is None for w in x["writes"]))
print(len(c), "conflicts (" + ", ".join("%s %d" % kv for kv in sorted(k.items())) + "),", d,
      "open diverged;", s, "with a write known only by its appearances (no gtid, no images)")
rows = [dict(l.split()[:2] for l in open(f) if len(l.split()) == 2) for f in sys.argv[2:4]]
differ = {int(i) for i in set(rows[0]) | set(rows[1]) if rows[0].get(i) != rows[1].get(i)}
def key_id(k):
    # {"id": N}, or the canonical key bytes in hex when analyze no longer had
    # the key as JSON: "I" (0x49) and the id as 8 bytes, its sign bit flipped
    if "id" in k:
        return k["id"]
    h = k.get("#", "")
    return int(h[2:], 16) ^ (1 << 63) if len(h) == 18 and h[:2] == "49" else h
said = {key_id(x["key"]) for x in c
        if x["kind"] != "before-image" and x.get("state") == "open" and x.get("diverged")}
print("rows that differ between the masters: %d; analyze\x27s open diverged rows: %d; %s" %
      (len(differ), len(said), "the same rows" if differ == said else "NOT THE SAME ROWS"))
' "$BENCH_WORK/analyze.json" "$BENCH_WORK/rows.1" "$BENCH_WORK/rows.2")

# timed LABEL CMD...: "WALL CPU MAXRSS_KIB" appended to $BENCH_WORK/LABEL.times
timed() {
	local label=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$BENCH_WORK/t" "$@" >/dev/null 2>>"$BENCH_WORK/$label.err"
	(($? <= 1)) || exit 1
	# (GNU time puts "Command exited with non-zero status 1" first: analyze
	# exits 1 when diverged rows remain)
	read -r e u s m < <(tail -1 "$BENCH_WORK/t")
	echo "$e $(echo "$u + $s" | bc) $m" | tee -a "$BENCH_WORK/$label.times"
}

bench_log "timing $runs runs: $wbytes + $ebytes bytes, $total row changes"
for ((r = 1; r <= runs; r++)); do
	if ((r % 2)); then
		a=$(timed we "$RW" analyze --master "$west=${files[$west]}" --master "$east=${files[$east]}") || exit 1
		o="$west first"
	else
		a=$(timed ew "$RW" analyze --master "$east=${files[$east]}" --master "$west=${files[$west]}") || exit 1
		o="$east first"
	fi
	echo "$a" >>"$BENCH_WORK/all.times"
	read -r e c m <<<"$a"
	printf 'run %d (%s): %.2f s wall, %.2f s cpu, peak RSS %d KiB: %.0f row changes/s\n' \
		"$r" "$o" "$e" "$c" "$m" "$(echo "$total / $e" | bc -l)"
done

med() { awk -v c="$1" '{ print $c }' "$2" | bench_median; }
e=$(med 1 "$BENCH_WORK/all.times")
c=$(med 2 "$BENCH_WORK/all.times")
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
dc=$(bench_median <"$BENCH_WORK/decode.cpu")

echo
echo "== ringwatch analyze benchmark =="
printf 'binlogs: %s %d files %d bytes (%.1f MiB), %d row changes; %s %d files %d bytes (%.1f MiB), %d row changes\n' \
	"$west" "${#wf[@]}" "$wbytes" "$(echo "$wbytes / 1048576" | bc -l)" "$wrows" \
	"$east" "${#ef[@]}" "$ebytes" "$(echo "$ebytes / 1048576" | bc -l)" "$erows"
echo "workload: $west $(cat "$BENCH_WORK/west.out"); $east updated $(cat "$BENCH_WORK/east.out") rows at the same time; $agree"
echo "found: $(head -1 <<<"$kinds") (exit $rc)"
tail -1 <<<"$kinds"
[[ -s "$BENCH_WORK/analyze.err" ]] && echo "analyze said: $(cat "$BENCH_WORK/analyze.err")"
[[ -s "$BENCH_WORK/analyze.err" ]] && echo "stderr: $(head -3 "$BENCH_WORK/analyze.err")"
printf 'ringwatch analyze, %d row changes: median %.2f s wall, %.2f s cpu: %.2f million row changes/s by wall, %.2f by cpu\n' \
	"$total" "$e" "$c" "$(echo "$total / $e / 1000000" | bc -l)" "$(echo "$total / $c / 1000000" | bc -l)"
printf '  %s first: median %.2f s wall, %.2f s cpu, peak RSS median %s (max %s)\n' \
	"$west" "$(med 1 "$BENCH_WORK/we.times")" "$(med 2 "$BENCH_WORK/we.times")" \
	"$(mib "$(med 3 "$BENCH_WORK/we.times")")" "$(mib "$(awk '{ print $3 }' "$BENCH_WORK/we.times" | sort -n | tail -1)")"
if [[ -s "$BENCH_WORK/ew.times" ]]; then
	printf '  %s first: median %.2f s wall, %.2f s cpu, peak RSS median %s (max %s)\n' \
		"$east" "$(med 1 "$BENCH_WORK/ew.times")" "$(med 2 "$BENCH_WORK/ew.times")" \
		"$(mib "$(med 3 "$BENCH_WORK/ew.times")")" "$(mib "$(awk '{ print $3 }' "$BENCH_WORK/ew.times" | sort -n | tail -1)")"
fi
printf 'for scale, the decoder alone (bench/decode_only) on the same files: median %.2f s cpu, %.1f million row changes/s\n' \
	"$dc" "$(echo "$total / $dc / 1000000" | bc -l)"
echo "runs: $runs, the order of the --master options alternating"
bench_machine
