#!/usr/bin/env bash
# The HTTP endpoints under load while ringwatchd ingests at full rate, and
# the ingest with and without that load.
#
# Each run starts a fresh 2-master ring and ringwatchd, then runs the
# benchmark workload (bench/workload.sh: ROWS rows inserted, a third updated,
# a fifth deleted, 1,000 row changes a transaction) on master 1 as fast as
# the server takes it, so ringwatchd reads both binlogs while they grow.
# Ingest: the binlog bytes of both masters over the seconds from the
# workload's start until ringwatchd's streams and engine have read both to
# their ends (position.gtid = @@gtid_binlog_pos), and how long after the
# workload's end that came.  With load: bench/http_load, CONNS connections
# in a closed loop, one request a connection, on /metrics, /v1/status and
# the throttle check /check/bench/mysql/ring in turn, for as long as the
# workload and the catch-up take.  Runs alternate without and with load.
#
#     bench/http.sh [-r RUNS] [-n ROWS] [-c CONNS]
#
# Run from the build folder (or set RW_BUILDDIR).
set -u
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

conns=16
args=()
while [ $# -gt 0 ]; do
	case $1 in
	-c) conns=$2; shift 2 ;;
	*) args+=("$1"); shift ;;
	esac
done
bench_options 500000 -- "${args[@]}"
runs=${runs:-3}
[ "$runs" = 7 ] && runs=3 # three alternations by default: each run builds its own ring

bench_init || exit 1
[ -x "$BENCH_BUILD/bench/http_load" ] || { bench_log "no bench/http_load: make bench/http_load"; exit 1; }

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

# run LOADED: one run; prints "ingest SECONDS MB AFTER" and, loaded, the load's lines
run() {
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
		"$BENCH_BUILD/bench/http_load" -c "$conns" -d 3600 127.0.0.1 "$port" \
			/metrics /v1/status /check/bench/mysql/ring >"$BENCH_WORK/load.out" &
		lpid=$!
	fi
	t0=$(date +%s.%N)
	bench_workload 1 "$rows" >/dev/null || return 1
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
	echo "ingest $(echo "$t2 - $t0" | bc) $(echo "$bytes / 1048576" | bc -l) $(echo "$t2 - $t1" | bc)"
}

bench_log "$runs runs of $rows rows each, without and with $conns connections of load"
for r in $(seq 1 "$runs"); do
	for loaded in 0 1; do
		# not in a subshell: the ring's exit hooks belong to this shell
		run $loaded >"$BENCH_WORK/run.out" || { bench_log "run failed"; exit 1; }
		out=$(cat "$BENCH_WORK/run.out")
		echo "$out" | sed "s/^/$loaded /" >>"$BENCH_WORK/results"
		[ "$loaded" = 1 ] && sed "s/^/load /" "$BENCH_WORK/load.out" >>"$BENCH_WORK/loads"
		bench_log "run $r, load $loaded: $out"
	done
done

bench_machine
echo "workload: $rows rows on master 1 of a 2-master ring ($runs runs each way, alternating)"
for loaded in 0 1; do
	awk -v l=$loaded '$1 == l && $2 == "ingest" { print $3 }' "$BENCH_WORK/results" | bench_median >"$BENCH_WORK/s"
	awk -v l=$loaded '$1 == l && $2 == "ingest" { print $4 }' "$BENCH_WORK/results" | bench_median >"$BENCH_WORK/mb"
	awk -v l=$loaded '$1 == l && $2 == "ingest" { print $5 }' "$BENCH_WORK/results" | bench_median >"$BENCH_WORK/after"
	printf '%-28s both binlogs (%.0f MB) read in %.2f s from the workload start (%.1f MB/s), %.2f s after its end (medians)\n' \
		"$([ $loaded = 1 ] && echo "with $conns connections" || echo "without HTTP load")" \
		"$(cat "$BENCH_WORK/mb")" "$(cat "$BENCH_WORK/s")" \
		"$(echo "$(cat "$BENCH_WORK/mb") / $(cat "$BENCH_WORK/s")" | bc -l)" "$(cat "$BENCH_WORK/after")"
done
echo "the HTTP load meanwhile (medians over the runs):"
for p in /metrics /v1/status /check/bench/mysql/ring; do
	grep "path=$p " "$BENCH_WORK/loads" >"$BENCH_WORK/p" || continue
	m() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$BENCH_WORK/p" | bench_median; }
	printf '  %-26s %6.0f requests/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %s not 200\n' \
		"$p" "$(m rps)" "$(m p50_ms)" "$(m p99_ms)" "$(m max_ms)" "$(m not_200)"
done
