#!/usr/bin/env bash
# bench/memory.sh - ringwatchd's memory in a long run: what grows, and where
# it stops.
#
#	bench/memory.sh [-t SECONDS] [-r RATE]
#
# A 2-master ring (tests/harness/ring.sh), ringwatchd watching it, and
# tests/integration/deploy_load on each master writing RATE (default 200)
# transactions a second of the demo's application (orders inserted, updated
# and deleted, a row of app.kv updated), nothing crossing, for SECONDS
# (default 900).  Every 10 s: ringwatchd's VmRSS, the transactions it read
# from master 1, and what its fixed-size structures hold so far (the
# conflict engine's image rings and tracking, from /metrics).  They fill at
# the rate of the load and then stay as they are: the image rings (16 MiB a
# master), the key cache (2^18 slots of 64 bytes, touched at random), the
# lag matcher's ring (262,144 transactions of 24 bytes).  Prints the samples
# every minute and the figures: RSS at the start, when the image rings are
# full, and its growth over the last third of the run (target: flat, within
# 2%).
set -u
. "$(dirname "$0")/common.sh"

secs=900 rate=200
while getopts t:r: o; do
	case $o in
	t) secs=$OPTARG ;;
	r) rate=$OPTARG ;;
	*) echo "usage: bench/memory.sh [-t SECONDS] [-r RATE]" >&2; exit 2 ;;
	esac
done
bench_init || exit 1
LOAD=$BENCH_BUILD/tests/integration/deploy_load
[ -x "$LOAD" ] || { bench_log "no $LOAD: build with make first"; exit 1; }
for t in curl awk; do
	command -v "$t" >/dev/null || { bench_log "$t is needed"; exit 1; }
done

RING_NAMES=(west east)
ring_start -n 2 || exit 1
ring_sql 1 "CREATE DATABASE app; USE app;
    CREATE TABLE app.orders (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        origin TINYINT UNSIGNED NOT NULL, ver INT UNSIGNED NOT NULL, qty INT NOT NULL,
        price_cents INT NOT NULL, coupon VARCHAR(16) NULL DEFAULT NULL);
    CREATE TABLE app.kv (id INT PRIMARY KEY, ver INT UNSIGNED NOT NULL DEFAULT 0, v INT NOT NULL DEFAULT 0);
    INSERT INTO app.kv (id) SELECT seq FROM seq_1_to_256"
ring_sync || exit 1
listen=$(ring_write_config "$BENCH_WORK/rw.conf" 127.0.0.1:0 "$BENCH_WORK/state")
"$BENCH_BUILD/daemon/ringwatchd" -c "$BENCH_WORK/rw.conf" 2>"$BENCH_WORK/rwd.log" &
rwd=$!
ring_on_exit "kill $rwd 2>/dev/null; wait $rwd 2>/dev/null"
for _ in $(seq 100); do
	url=$(grep -o 'listening on http://[^ ]*' "$BENCH_WORK/rwd.log" | head -n 1 | sed 's/^listening on //; s|/$||')
	[ -n "$url" ] && curl -sf "$url/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
[ -n "$url" ] || { bench_log "ringwatchd did not come up"; exit 1; }
for i in 1 2; do
	echo "v1 orders kv" >"$BENCH_WORK/load.$i.ctl"
	"$LOAD" -S "${RING_SOCKS[i]}" -i "$i" -r "$rate" -c "$BENCH_WORK/load.$i.ctl" \
		-o "$BENCH_WORK/load.$i.status" -l /dev/null 2>>"$BENCH_WORK/load.err" &
	ring_on_exit "kill $! 2>/dev/null"
done

metric() { printf '%s\n' "$m" | sed -n "s/^$1 //p"; }
t0=$(date +%s)
: >"$BENCH_WORK/samples"
while [ $(($(date +%s) - t0)) -lt "$secs" ]; do
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$rwd/status" 2>/dev/null) || break
	m=$(curl -s "$url/metrics")
	printf '%d %s %s %s %s\n' $(($(date +%s) - t0)) "$rss" \
		"$(metric 'ringwatch_master_transactions_total{master="west"}')" \
		"$(metric 'ringwatch_engine_memory_bytes{part="image_rings"}')" \
		"$(metric 'ringwatch_engine_memory_bytes{part="tracking"}')" >>"$BENCH_WORK/samples"
	sleep 10
done
cap=$(metric ringwatch_engine_image_rings_capacity_bytes)

echo
echo "memory.sh: ${secs} s at $rate transactions a second a master"
echo "  seconds  VmRSS KiB  transactions of west  image rings bytes  tracking bytes"
awk 'NR % 6 == 1 { printf "  %7d  %9d  %20d  %17d  %14d\n", $1, $2, $3, $4, $5 }' "$BENCH_WORK/samples"
awk -v cap="$cap" -v n="$(wc -l <"$BENCH_WORK/samples")" '
	NR == 1 { start = $2 }
	$4 >= cap && full == "" { full = $2; full_t = $1; full_trx = $3 }
	NR == int(n * 2 / 3) + 1 { third = $2; third_t = $1 }
	{ last = $2; last_t = $1; trx = $3; rings = $4 }
	END {
		if (full == "")
			printf "  RSS at the start %.1f MiB; the image rings not full yet (%.1f of %.0f MiB)\n",
				start / 1024, rings / 1048576, cap / 1048576
		else
			printf "  RSS at the start %.1f MiB; the image rings full (%.0f MiB) at %d s, %d transactions of west: %.1f MiB\n",
				start / 1024, cap / 1048576, full_t, full_trx, full / 1024
		printf "  the last third (%d s to %d s, to %d transactions of west): %.1f -> %.1f MiB (%+.1f%%)\n",
			third_t, last_t, trx, third / 1024, last / 1024, 100 * (last - third) / third
	}' "$BENCH_WORK/samples"
bench_machine
