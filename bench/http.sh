#!/usr/bin/env bash
# The HTTP endpoints under load while ringwatchd ingests at full rate, and
# its ingest rate with and without that load.
#
#     bench/http.sh [-m backlog|live] [-r RUNS] [-n ROWS] [-w chunks|big] [-c CONNS]
#
# The load: bench/http_load, CONNS connections (default 16) in a closed
# loop, one request a connection, on /metrics, /v1/status and the throttle
# check /check/bench/mysql/ring in turn.  Runs alternate without and with it.
#
# -m backlog (the default): ringwatchd's ingest rate.  A 2-master ring gets
# the benchmark workload (bench/workload.sh: ROWS rows, default 1,000,000,
# inserted, a third updated, a fifth deleted, 1,000 row changes a
# transaction; -w big: three statements) on master 1, replicated to master 2,
# before ringwatchd runs (bench/common.sh bench_backlog, as bench/streams.sh).
# Then RUNS times each way (default 5; the order flips every run) ringwatchd
# starts with a fresh state_dir and bench/catchup.py times it from its start
# until /v1/status shows both masters' position.gtid at their
# @@gtid_binlog_pos; with load, the load runs from ringwatchd's first answer
# to that moment.  Ingest: both binlogs' bytes (MB = 10^6 bytes) and row
# changes (the workload's, in each binlog) over those seconds.  Under the
# load the poll that sees the catch-up waits its turn like the load's
# requests, so a loaded time is late by up to a request's latency.
#
# -m live: each run starts a fresh ring and ringwatchd, then runs the
# workload (ROWS default 500,000) on master 1 as fast as the server takes it,
# so ringwatchd reads both binlogs while they grow; RUNS (default 3) each
# way.  Reported: the seconds from the workload's start until ringwatchd has
# read both binlogs to their ends, and how long after the workload's end that
# came.  That time is mostly the writer's (the workload slows under the HTTP
# load), so it says how far ringwatchd trails the binlogs, not how fast it
# can read them: -m backlog measures that.  The load runs for the workload
# and the catch-up.
#
# Run from the build folder (or set RW_BUILDDIR).
set -u
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

conns=16
mode=backlog
args=()
while [ $# -gt 0 ]; do
	case $1 in
	-c | -m)
		[ $# -ge 2 ] || { echo "usage: $0 [-m backlog|live] [-c CONNS] [-r RUNS] [-n ROWS] [-w chunks|big]" >&2; exit 2; }
		if [ "$1" = -c ]; then conns=$2; else mode=$2; fi
		shift 2
		;;
	*) args+=("$1"); shift ;;
	esac
done
case $mode in
backlog) BENCH_DEFAULT_RUNS=5 bench_options 1000000 "[-m backlog|live] [-c CONNS]" -- "${args[@]}" ;;
live) BENCH_DEFAULT_RUNS=3 bench_options 500000 "[-m backlog|live] [-c CONNS]" -- "${args[@]}" ;;
*) echo "usage: $0 [-m backlog|live] [-c CONNS] [-r RUNS] [-n ROWS] [-w chunks|big]" >&2; exit 2 ;;
esac

bench_init || exit 1
[ -x "$BENCH_BUILD/bench/http_load" ] || { bench_log "no bench/http_load: make bench/http_load"; exit 1; }
PY=$(command -v python3) || { bench_log "python3 is needed (the status poller)"; exit 1; }
PATHS=(/metrics /v1/status /check/bench/mysql/ring)

caught_up() { # URL: both streams at their master's @@gtid_binlog_pos
	local want1 want2
	want1=$(ring_sql 1 "SELECT @@gtid_binlog_pos")
	want2=$(ring_sql 2 "SELECT @@gtid_binlog_pos")
	curl -s "$1/v1/status" | python3 -c '
import sys, json
want = [set(w.split(",")) for w in sys.argv[1:3]]
got = [set((m["position"]["gtid"] or "").split(",")) for m in json.load(sys.stdin)["masters"]]
sys.exit(0 if got == want else 1)' "$want1" "$want2"
}

# live_run LOADED: one run; prints "ingest SECONDS BYTES AFTER" and, loaded,
# leaves the load's lines in $BENCH_WORK/load.out
live_run() {
	local loaded=$1 rwd url port t0 t1 t2 bytes lpid=
	ring_start -n 2 --extra "--innodb-buffer-pool-size=256M" >/dev/null || return 1
	rm -rf "$BENCH_WORK/state"
	ring_write_config "$BENCH_WORK/rw.conf" 127.0.0.1:0 "$BENCH_WORK/state" >/dev/null
	"$BENCH_BUILD/daemon/ringwatchd" -c "$BENCH_WORK/rw.conf" >"$BENCH_WORK/log" 2>&1 &
	rwd=$!
	for _ in $(seq 1 100); do
		url=$(sed -n 's|.*listening on \(http://[^ ]*\)/.*|\1|p' "$BENCH_WORK/log" | head -n 1)
		[ -n "$url" ] && caught_up "$url" && break
		sleep 0.1
	done
	port=${url##*:}
	if [ "$loaded" = 1 ]; then
		"$BENCH_BUILD/bench/http_load" -c "$conns" -d 3600 127.0.0.1 "$port" "${PATHS[@]}" >"$BENCH_WORK/load.out" &
		lpid=$!
	fi
	t0=$(date +%s.%N)
	bench_run_workload 1 "$rows" >/dev/null || return 1
	t1=$(date +%s.%N)
	until caught_up "$url"; do sleep 0.05; done
	t2=$(date +%s.%N)
	if [ -n "$lpid" ]; then
		kill -INT "$lpid" 2>/dev/null
		wait "$lpid" 2>/dev/null
	fi
	bytes=0
	for i in 1 2; do
		bytes=$((bytes + $(ring_sql "$i" "SHOW BINARY LOGS" | awk '{ s += $2 } END { print s }')))
	done
	kill "$rwd" 2>/dev/null
	wait "$rwd" 2>/dev/null
	ring_stop >/dev/null
	echo "ingest $(echo "$t2 - $t0" | bc) $bytes $(echo "$t2 - $t1" | bc)"
}

# backlog_run LOADED: one catch-up of the backlog; prints catchup.py's
# "SECONDS VMHWM_KIB CPU LOOP_CPU BYTES_TOTAL..." and, loaded, leaves the
# load's lines in $BENCH_WORK/load.out
backlog_run() {
	local loaded=$1 listen load=()
	listen="127.0.0.1:$(_ring_free_port "${RING_PORTS[@]}")" || return 1
	rm -rf "$BENCH_WORK/state"
	ring_write_config "$BENCH_WORK/rw.conf" "$listen" "$BENCH_WORK/state" >/dev/null || return 1
	[ "$loaded" = 1 ] && load=(-- "$BENCH_WORK/load.out" "$BENCH_BUILD/bench/http_load" -c "$conns" -d 3600
		127.0.0.1 "${listen##*:}" "${PATHS[@]}")
	"$PY" "$BENCH_TOP/bench/catchup.py" "$BENCH_BUILD/daemon/ringwatchd" "$BENCH_WORK/rw.conf" "$listen" \
		"$BENCH_WORK/log" "${expect[@]}" "${load[@]}"
}

if [ "$mode" = backlog ]; then
	bench_backlog "$rows" >"$BENCH_WORK/binlogs" || exit 1
	mapfile -t expect < <(bench_expect)
	bytes=$(awk '{ s += $3 } END { print s }' "$BENCH_WORK/binlogs")
	changes=$((RING_N * $(bench_changes "$rows")))
fi
bench_log "$mode: $runs runs of $rows rows each way, without and with $conns connections of load"
for r in $(seq 1 "$runs"); do
	order="0 1"
	[ "$mode" = backlog ] && [ $((r % 2)) = 0 ] && order="1 0"
	for loaded in $order; do
		rm -f "$BENCH_WORK/load.out"
		# not in a subshell: the ring's exit hooks belong to this shell
		"${mode}_run" "$loaded" >"$BENCH_WORK/run.out" || { bench_log "run failed"; exit 1; }
		out=$(cat "$BENCH_WORK/run.out")
		echo "$loaded $out" >>"$BENCH_WORK/results"
		[ "$loaded" = 1 ] && sed "s/^/load /" "$BENCH_WORK/load.out" >>"$BENCH_WORK/loads"
		if [ "$mode" = backlog ]; then
			bench_log "run $r, load $loaded: $out ($(echo "$bytes / 1000000 / ${out%% *}" | bc -l | xargs printf '%.1f') MB/s)"
		else
			bench_log "run $r, load $loaded: $out"
		fi
	done
done

# col N LOADED: the median of column N of the results of the runs without (0) or with (1) load
col() { awk -v l="$2" -v n="$1" '$1 == l { print $n }' "$BENCH_WORK/results" | bench_median; }
label() { if [ "$1" = 1 ]; then echo "with $conns connections"; else echo "without HTTP load"; fi; }

echo
echo "== ringwatchd's HTTP endpoints under load while it ingests ($mode) =="
if [ "$workload" = big ]; then
	echo "workload: $rows rows inserted, every third updated, every fifth deleted, three statements (one transaction each), on master 1 of a 2-master ring"
else
	echo "workload: $rows rows inserted, every third updated, every fifth deleted, 1,000 row changes per transaction, on master 1 of a 2-master ring"
fi
if [ "$mode" = backlog ]; then
	printf 'backlog: both binlogs %.1f MB, %d row changes (each binlog holds them all); %d catch-ups each way, alternating\n' \
		"$(echo "$bytes / 1000000" | bc -l)" "$changes" "$runs"
	for loaded in 0 1; do
		s=$(col 2 "$loaded")
		printf '%-24s caught up in %.2f s: %.1f MB/s, %.0f row changes/s (ringwatchd cpu %.2f s, loop thread %.2f s; medians)\n' \
			"$(label "$loaded")" "$s" "$(echo "$bytes / 1000000 / $s" | bc -l)" "$(echo "$changes / $s" | bc -l)" \
			"$(col 4 "$loaded")" "$(col 5 "$loaded")"
	done
else
	echo "$runs fresh rings each way, alternating"
	for loaded in 0 1; do
		printf '%-24s both binlogs (%.1f MB) written and read in %.2f s from the workload start, %.2f s after its end (medians)\n' \
			"$(label "$loaded")" "$(echo "$(col 4 "$loaded") / 1000000" | bc -l)" "$(col 3 "$loaded")" "$(col 5 "$loaded")"
	done
fi
echo "the HTTP load meanwhile (medians over the runs with load):"
for p in "${PATHS[@]}"; do
	grep "path=$p " "$BENCH_WORK/loads" >"$BENCH_WORK/p" || continue
	m() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$BENCH_WORK/p" | bench_median; }
	printf '  %-26s %6.0f requests/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %s not 200\n' \
		"$p" "$(m rps)" "$(m p50_ms)" "$(m p99_ms)" "$(m max_ms)" "$(m not_200)"
done
bench_machine
