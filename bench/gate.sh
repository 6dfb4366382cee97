#!/usr/bin/env bash
# The throttle check under the load online schema change tools put on it:
# CLIENTS clients (default 10), each asking HEAD /check/bench/mysql/ring ten
# times a second, as gh-ost's --throttle-http does, for SECONDS (default 20),
# while both masters of a 2-master ring take a write a second.  Printed: the
# requests, how many did not answer 200, the latency (median, 99th
# percentile, max) and ringwatchd's CPU over the window; then the same load
# on GET /healthz, which builds no status snapshot, beside it.
#
#     bench/gate.sh [-c CLIENTS] [-s SECONDS]
#
# Run from the build folder (or set RW_BUILDDIR).
set -u
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

clients=10 seconds=20
while getopts c:s: o; do
	case $o in
	c) clients=$OPTARG ;;
	s) seconds=$OPTARG ;;
	*)
		echo "usage: bench/gate.sh [-c CLIENTS] [-s SECONDS]" >&2
		exit 2
		;;
	esac
done

bench_init || exit 1
ring_start -n 2 || exit 1
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, n INT);
    INSERT INTO app.t VALUES (1, 0), (2, 0)"
ring_sync || exit 1
ring_write_config "$BENCH_WORK/rw.conf" 127.0.0.1:0 "$BENCH_WORK/state" >/dev/null
"$BENCH_BUILD/daemon/ringwatchd" -c "$BENCH_WORK/rw.conf" >"$BENCH_WORK/log" 2>&1 &
rwd=$!
ring_on_exit "kill $rwd 2>/dev/null"
for _ in $(seq 1 100); do
	url=$(sed -n 's|.*listening on \(http://[^ ]*\)/.*|\1|p' "$BENCH_WORK/log" | head -n 1)
	[ -n "$url" ] && [ "$(curl -s "$url/v1/status" | python3 -c 'import sys, json; print(all(m["connected"] for m in json.load(sys.stdin)["masters"]))' 2>/dev/null)" = True ] && break
	sleep 0.1
done
[ -n "$url" ] || { bench_log "ringwatchd did not start"; exit 1; }

cpu() { awk '{ print $14 + $15 }' "/proc/$rwd/stat"; }
writer() {
	local k=0
	while :; do
		k=$((k + 1))
		ring_sql 1 "UPDATE app.t SET n = $k WHERE id = 1" >/dev/null 2>&1
		ring_sql 2 "UPDATE app.t SET n = $k WHERE id = 2" >/dev/null 2>&1
		sleep 1
	done
}

# load PATH METHOD: CLIENTS pollers at 10 Hz for SECONDS; one line of figures
load() {
	local path=$1 method=$2 c0 c1 t0 t1 pids= ticks
	ticks=$(getconf CLK_TCK)
	writer &
	local wpid=$!
	c0=$(cpu)
	t0=$(date +%s.%N)
	for c in $(seq 1 "$clients"); do
		(
			end=$(($(date +%s) + seconds))
			while [ "$(date +%s)" -lt "$end" ]; do
				curl -s -o /dev/null -X "$method" -w '%{http_code} %{time_total}\n' \
					$([ "$method" = HEAD ] && echo -I) "$url$path"
				sleep 0.1
			done
		) >"$BENCH_WORK/poll.$c" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	t1=$(date +%s.%N)
	c1=$(cpu)
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	cat "$BENCH_WORK"/poll.* | awk '{ print $2 * 1000 }' | sort -n >"$BENCH_WORK/times"
	n=$(wc -l <"$BENCH_WORK/times")
	bad=$(cat "$BENCH_WORK"/poll.* | awk '$1 != 200' | wc -l)
	pick() { sed -n "$(($1 > 0 ? $1 : 1))p" "$BENCH_WORK/times"; }
	printf '%-26s %6d requests (%.1f/s), %d not 200, latency median %.2f ms, p99 %.2f ms, max %.2f ms; ringwatchd cpu %.1f%%\n' \
		"$path" "$n" "$(echo "$n / ($t1 - $t0)" | bc -l)" "$bad" "$(pick $((n / 2 + 1)))" \
		"$(pick $((n * 99 / 100)))" "$(pick "$n")" \
		"$(echo "100 * ($c1 - $c0) / $ticks / ($t1 - $t0)" | bc -l)"
	rm -f "$BENCH_WORK"/poll.* "$BENCH_WORK/times"
}

bench_machine
echo "ring: 2 MariaDB masters, a write a second on each; $clients clients at 10 Hz for $seconds s"
load /check/bench/mysql/ring HEAD
load /healthz GET
