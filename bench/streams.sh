#!/usr/bin/env bash
# The streams' benchmark: how fast ringwatchd's replica streams read a backlog,
# against mariadb-binlog copying one master's binlogs over the same protocol.
#
#     bench/streams.sh [-r RUNS] [-n ROWS] [-w chunks|big]
#
# A 2-master ring (tests/harness/ring.sh); bench/workload.sh (ROWS rows,
# default 1,000,000; -w big: the same as three big statements) on master 1, replicated to master 2 (log_slave_updates),
# so both binlogs hold the same ~125 MB backlog.  Then RUNS times (default 7),
# alternating which goes first:
#   - ringwatchd with a fresh state_dir (it reads from each master's oldest
#     binlog): the time from its start until /v1/status (polled every 50 ms)
#     shows both masters' position.gtid equal to their @@gtid_binlog_pos, its
#     peak RSS (VmHWM) and CPU time;
#   - `mariadb-binlog --read-from-remote-server --raw ... --to-last-log`
#     copying master 1's binlogs into a folder (the wire rate here).
#   - as a diagnostic, ringwatchd with one stream (master 1; the other
#     master's section points at a closed port): the same work on the
#     server side as the copy.
# Each run also records the cpu time the masters' mariadbd processes spent
# (sending the binlogs).  Medians and the median of the per-run ratios are
# printed.  Run from the build folder (or set RW_BUILDDIR).
set -u
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

bench_options 1000000 -- "$@"

bench_init || exit 1
RWD=$BENCH_BUILD/daemon/ringwatchd
PY=$(command -v python3) || { bench_log "python3 is needed (the status poller)"; exit 1; }

bench_backlog "$rows" >"$BENCH_WORK/binlogs" || exit 1
first=$(awk '$1 == "'"${RING_NAMES[1]}"'" { print $2; exit }' "$BENCH_WORK/binlogs")
mapfile -t expect < <(bench_expect)

# Cpu seconds (user+sys) of every master's mariadbd so far.
servers_cpu() {
	local i t=0
	for ((i = 1; i <= RING_N; i++)); do
		t=$(awk -v t="$t" -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print t + ($12 + $13) / hz }' \
			"/proc/$(_ring_pid "$i")/stat")
	done
	echo "$t"
}

# run_rwd RUN LABEL MASTER_INDEX...: ringwatchd on those masters; appends
# "SECONDS VMHWM_KIB CPU SERVERS_CPU LOOP_CPU BYTES_TOTAL..." to $BENCH_WORK/LABEL.times
run_rwd() {
	local r=$1 label=$2 listen out c0 c1 i want=() f=()
	shift 2
	listen="127.0.0.1:$(_ring_free_port "${RING_PORTS[@]}")"
	rm -rf "$BENCH_WORK/state.$r"
	ring_write_config "$BENCH_WORK/$label.$r.conf" "$listen" "$BENCH_WORK/state.$r" >/dev/null || return 1
	if (($# < RING_N)); then
		# A ring needs two [master] sections: the others point at a closed
		# port, so their streams only retry connecting (with backoff).
		awk -v keep=" $(for i in "$@"; do printf '%s ' "${RING_NAMES[i]}"; done)" \
			-v port="$(_ring_free_port "${RING_PORTS[@]}")" '
			/^\[master\./ { n = substr($0, 9, length($0) - 9); off = index(keep, " " n " ") == 0 }
			off && /^port = / { $0 = "port = " port }
			{ print }' "$BENCH_WORK/$label.$r.conf" >"$BENCH_WORK/conf.tmp" &&
			mv "$BENCH_WORK/conf.tmp" "$BENCH_WORK/$label.$r.conf"
	fi
	for i in "$@"; do want+=("${expect[i - 1]}"); done
	c0=$(servers_cpu)
	out=$("$PY" "$BENCH_TOP/bench/catchup.py" "$RWD" "$BENCH_WORK/$label.$r.conf" "$listen" \
		"$BENCH_WORK/$label.$r.log" "${want[@]}") || return 1
	c1=$(servers_cpu)
	read -r -a f <<<"$out"
	set -- "${f[@]}"
	out="$1 $2 $3 $(echo "$c1 - $c0" | bc) ${*:4}"  # LOOP_CPU is the poller's 4th
	echo "$out" >>"$BENCH_WORK/$label.times"
	rm -rf "$BENCH_WORK/state.$r"
	echo "$out"
}

# run_copy RUN: appends "SECONDS BYTES SERVERS_CPU" to $BENCH_WORK/copy.times
run_copy() {
	local r=$1 dir t0 t1 c0 c1 bytes
	dir=$BENCH_WORK/copy.$r
	rm -rf "$dir" && mkdir -p "$dir"
	c0=$(servers_cpu)
	t0=$(date +%s.%N)
	mariadb-binlog --read-from-remote-server --raw --host=127.0.0.1 --port="${RING_PORTS[1]}" \
		--user=ringwatch --password="$(cat "$RING_DIR/${RING_NAMES[1]}.password")" \
		--result-file="$dir/" "$first" --to-last-log || return 1
	t1=$(date +%s.%N)
	c1=$(servers_cpu)
	bytes=$(cat "$dir"/* | wc -c)
	rm -rf "$dir"
	echo "$(echo "$t1 - $t0" | bc) $bytes $(echo "$c1 - $c0" | bc)" | tee -a "$BENCH_WORK/copy.times"
}

bench_log "timing $runs runs"
for ((r = 1; r <= runs; r++)); do
	if ((r % 2)); then
		a=$(run_rwd "$r" rwd $(seq 1 "$RING_N")) || exit 1
		b=$(run_copy "$r") || exit 1
		o=$(run_rwd "$r" one 1) || exit 1
	else
		o=$(run_rwd "$r" one 1) || exit 1
		b=$(run_copy "$r") || exit 1
		a=$(run_rwd "$r" rwd $(seq 1 "$RING_N")) || exit 1
	fi
	read -r -a f <<<"$a"
	set -- "${f[@]}"
	ratio=$(echo "$1 / ${b%% *}" | bc -l)
	echo "$ratio" >>"$BENCH_WORK/ratio"
	printf 'run %d: ringwatchd both streams %.2f s (cpu %.2f s, VmHWM %d KiB, servers cpu %.2f s), mariadb-binlog copy %.2f s (servers cpu %.2f s), ratio %.2f; one stream %.2f s\n' \
		"$r" "$1" "$3" "$2" "$4" "${b%% *}" "${b##* }" "$ratio" "${o%% *}"
done

rw_s=$(awk '{ print $1 }' "$BENCH_WORK/rwd.times" | bench_median)
rw_hwm=$(awk '{ print $2 }' "$BENCH_WORK/rwd.times" | bench_median)
rw_hwm_max=$(awk '{ print $2 }' "$BENCH_WORK/rwd.times" | sort -n | tail -1)
rw_cpu=$(awk '{ print $3 }' "$BENCH_WORK/rwd.times" | bench_median)
rw_srv=$(awk '{ print $4 }' "$BENCH_WORK/rwd.times" | bench_median)
rw_loop=$(awk '{ print $5 }' "$BENCH_WORK/rwd.times" | bench_median)
changes=$((RING_N * $(bench_changes "$rows"))) # every master's binlog holds them all
rw_bytes=$(head -1 "$BENCH_WORK/rwd.times" | cut -d' ' -f6-)
one_s=$(awk '{ print $1 }' "$BENCH_WORK/one.times" | bench_median)
one_cpu=$(awk '{ print $3 }' "$BENCH_WORK/one.times" | bench_median)
one_srv=$(awk '{ print $4 }' "$BENCH_WORK/one.times" | bench_median)
cp_s=$(awk '{ print $1 }' "$BENCH_WORK/copy.times" | bench_median)
cp_srv=$(awk '{ print $3 }' "$BENCH_WORK/copy.times" | bench_median)
cp_bytes=$(head -1 "$BENCH_WORK/copy.times" | cut -d' ' -f2)
ratio=$(bench_median <"$BENCH_WORK/ratio")
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

echo
echo "== ringwatchd streams benchmark =="
while read -r m f s; do
	echo "backlog: $m $f $s bytes ($(mib "$s"))"
done <"$BENCH_WORK/binlogs"
if [[ $workload == big ]]; then
	echo "workload: $rows rows inserted, every third updated, every fifth deleted, three statements (one transaction each)"
else
	echo "workload: $rows rows inserted, every third updated, every fifth deleted, 1,000 row changes per transaction"
fi
printf 'ringwatchd, both streams from the oldest binlog to @@gtid_binlog_pos: median %.2f s (ringwatchd cpu %.2f s, mariadbd cpu %.2f s), bytes_total %s\n' \
	"$rw_s" "$rw_cpu" "$rw_srv" "$rw_bytes"
printf 'ringwatchd peak RSS (VmHWM): median %s, max %s\n' "$(mib $((rw_hwm * 1024)))" "$(mib $((rw_hwm_max * 1024)))"
printf 'the event loop thread: median %.2f s of cpu, %.2f microseconds per row change (%d row changes in both streams)\n' \
	"$rw_loop" "$(echo "$rw_loop / $changes * 1000000" | bc -l)" "$changes"
printf 'mariadb-binlog --read-from-remote-server --raw, one master (%s bytes): median %.2f s (mariadbd cpu %.2f s)\n' \
	"$cp_bytes" "$cp_s" "$cp_srv"
printf 'ratio ringwatchd / copy: median %.2f over %d alternating runs (target <= 2): %s\n' "$ratio" "$runs" \
	"$(awk -v v="$ratio" 'BEGIN { print (v <= 2) ? "PASS" : "MISS" }')"
printf 'diagnostic, ringwatchd on master 1 only (one stream): median %.2f s (ringwatchd cpu %.2f s, mariadbd cpu %.2f s)\n' \
	"$one_s" "$one_cpu" "$one_srv"
bench_machine
