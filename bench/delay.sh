#!/usr/bin/env bash
# The conflict engine live: detection delay while both masters take about
# 1,000 single-row transactions per second on the same hot rows.
#
#     bench/delay.sh [-r RUNS] [-t SECONDS] [-q RATE] [-k ROWS]
#
# A 2-master ring (binlog_row_metadata=MINIMAL: ringwatchd reads the primary
# keys from information_schema), table app.hot (id INT PRIMARY KEY, v INT)
# with ROWS rows (default 200), ringwatchd started once with a fresh
# state_dir.  Then RUNS times (default 3), one after the other: two writers,
# one per master, each bench/delay_writer (built here with mariadb_config:
# one connection over the socket, autocommit, `UPDATE app.hot SET v = V WHERE
# id = K`, K random, V unique to the statement, statement i due at start +
# i / RATE) for SECONDS (default 30) at RATE (default 1,000) transactions per
# second.  The two masters update the same rows at full speed, so some writes
# cross in replication and conflict.  After the writers: the ring is synced,
# ringwatchd has read both masters up to @@gtid_binlog_pos, and the run's
# conflicts are read from GET /v1/conflicts?state=all&limit=10000 (the API's
# largest limit) and, all of them with their writes and detected_at, from the
# state_dir's SQLite ledger (the rows the API serves; the two counts are
# compared).  Printed, per run and over all runs: the number of conflicts
# (before-image records apart), p50, p99 and max of detection_delay_seconds
# (from the later write's first appearance in a stream to the engine's
# decision), and of the time from the later write's commit, as its writer
# saw the server's answer, to detected_at (the row images' V names the
# statement; both clocks are this machine's CLOCK_REALTIME).  Also the
# achieved rates, the writers' statement latency, the cpu time of
# ringwatchd, of both mariadbd, of the writers and of the whole machine
# (from /proc/stat: other work shares it), and the
# ringwatch_detection_delay_seconds histogram from /metrics.  Target: p99
# under 100 ms.  Run from the build folder (or set RW_BUILDDIR).  For hot
# spots, attach `perf record -g -p PID` to the ringwatchd a run starts.
set -u
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

runs=3 secs=30 rate=1000 hot=200
while getopts r:t:q:k: o; do
	case $o in
	r) runs=$OPTARG ;;
	t) secs=$OPTARG ;;
	q) rate=$OPTARG ;;
	k) hot=$OPTARG ;;
	*) echo "usage: $0 [-r RUNS] [-t SECONDS] [-q RATE] [-k ROWS]" >&2; exit 2 ;;
	esac
done

bench_init || exit 1
RWD=$BENCH_BUILD/daemon/ringwatchd
for t in curl jq sqlite3 python3 mariadb_config; do
	command -v "$t" >/dev/null || { bench_log "$t is needed"; exit 1; }
done
WRITER=$BENCH_WORK/delay_writer
# shellcheck disable=SC2046
cc -O2 $(mariadb_config --cflags) -o "$WRITER" "$BENCH_TOP/bench/delay_writer.c" $(mariadb_config --libs) ||
	{ bench_log "cannot build bench/delay_writer.c (libmariadb-dev?)"; exit 1; }

RWD_PID=
# shellcheck disable=SC2016
ring_on_exit 'if [ -n "$RWD_PID" ]; then kill -TERM "$RWD_PID" 2>/dev/null; fi'
ring_start -n 2 || exit 1
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.hot (id INT PRIMARY KEY, v INT NOT NULL)" || exit 1
ring_sql 1 "USE app; INSERT INTO app.hot (id, v) SELECT seq, 0 FROM seq_1_to_$hot" || exit 1
ring_sync || exit 1

ring_write_config "$BENCH_WORK/rw.conf" 127.0.0.1:0 "$BENCH_WORK/state" >/dev/null || exit 1
"$RWD" -c "$BENCH_WORK/rw.conf" 2>"$BENCH_WORK/rwd.log" &
RWD_PID=$!
# wait_for SECONDS COMMAND...: poll every 50 ms
wait_for() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@" 2>/dev/null; do
		(($(date +%s) < deadline)) || return 1
		sleep 0.05
	done
}
wait_for 10 grep -q 'listening on http://' "$BENCH_WORK/rwd.log" || { bench_log "ringwatchd did not start"; exit 1; }
URL=$(grep -o 'listening on http://[^ ]*' "$BENCH_WORK/rwd.log" | head -1 | sed 's/^listening on //; s|/$||')
connected() { [[ "$(curl -s "$URL/v1/status" | jq -r '[.masters[].connected] | all')" == true ]]; }
norm() { tr ',' '\n' | sort | paste -sd, -; }
caught_up() {
	local i
	for ((i = 1; i <= RING_N; i++)); do
		[[ "$(curl -s "$URL/v1/status" | jq -r ".masters[$((i - 1))].position.gtid" | norm)" == \
			"$(ring_sql "$i" "SELECT @@gtid_binlog_pos" | norm)" ]] || return 1
	done
}
wait_for 10 connected || { bench_log "ringwatchd did not connect"; exit 1; }
wait_for 10 grep -q "tables read from information_schema" "$BENCH_WORK/rwd.log" ||
	{ bench_log "ringwatchd did not read the tables"; exit 1; }
wait_for 30 caught_up || { bench_log "ringwatchd did not catch up"; exit 1; }

PY=$(command -v python3)
# collect.py DB LAST LOG...: the records with id > LAST from the ledger, one a
# line: "ID KIND DELAY_S COMMIT_TO_DECISION_S", the last being detected_at
# minus the later of the two writes' commits as the writers logged them (the
# row images' v names the statement; "-" when a write has no image).
cat >"$BENCH_WORK/collect.py" <<'EOF'
import json, sqlite3, sys
db, last, logs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
done = {}
for p in logs:
    with open(p) as f:
        for line in f:
            v, t = line.split()
            done[int(v)] = int(t) / 1e6
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
for cid, kind, delay, at, writes in con.execute(
        "SELECT id, kind, detection_delay, detected_at, writes_json FROM conflict"
        " WHERE id > ? ORDER BY id", (last,)):
    t = [done.get((w.get("after") or {}).get("v")) for w in json.loads(writes)]
    e2e = "%.6f" % (at - max(t)) if kind != "before-image" and None not in t else "-"
    print("%d\t%s\t%s\t%s" % (cid, kind, "-" if delay is None else "%.6f" % delay, e2e))
EOF

hz=$(getconf CLK_TCK)
pcpu() { awk -v hz="$hz" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"; }
scpu() { echo "$(pcpu "$(_ring_pid 1)") + $(pcpu "$(_ring_pid 2)")" | bc; }
# Context switches of all of ringwatchd's threads (each one a thread going to sleep or
# woken: the wake-ups between the replica threads and the loop).
pctx() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'; }
# Busy and total jiffies of the whole machine.
mcpu() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat; }
last=0
for ((r = 1; r <= runs; r++)); do
	c0=$(pcpu "$RWD_PID") s0=$(scpu) x0=$(pctx "$RWD_PID")
	read -r mb0 mt0 < <(mcpu)
	wp=()
	for i in 1 2; do
		"$WRITER" -S "${RING_SOCKS[i]}" -r "$rate" -t "$secs" -k "$hot" -s "$r$i" \
			-l "$BENCH_WORK/log$i.$r" >"$BENCH_WORK/w$i.$r" &
		wp+=($!)
	done
	for p in "${wp[@]}"; do
		wait "$p" || { bench_log "a writer failed"; exit 1; }
	done
	c1=$(pcpu "$RWD_PID") s1=$(scpu) x1=$(pctx "$RWD_PID")
	read -r mb1 mt1 < <(mcpu)
	ring_sync 300 || { bench_log "the ring did not sync"; exit 1; }
	wait_for 120 caught_up || { bench_log "ringwatchd did not catch up"; exit 1; }
	sleep 1
	curl -s "$URL/v1/conflicts?state=all&limit=10000" >"$BENCH_WORK/api.$r.json"
	n_api=$(jq "[.conflicts[] | select(.id > $last)] | length" "$BENCH_WORK/api.$r.json")
	"$PY" "$BENCH_WORK/collect.py" "$BENCH_WORK/state/ringwatch.db" "$last" \
		"$BENCH_WORK/log1.$r" "$BENCH_WORK/log2.$r" >"$BENCH_WORK/c.$r" || exit 1
	n_db=$(wc -l <"$BENCH_WORK/c.$r")
	if ((n_db == n_api)); then src="the API's and the ledger's agree"; else src="the API's largest page held $n_api"; fi
	last=$(tail -1 "$BENCH_WORK/c.$r" | cut -f1)
	last=${last:-0}
	busy=$(echo "($mb1 - $mb0) / ($mt1 - $mt0) * 2" | bc -l)
	printf 'run %d: %s | %s | ringwatchd cpu %.2f s, both mariadbd %.2f s, machine %.2f of 2 cpus busy | %d records (%s)\n' \
		"$r" "$(cat "$BENCH_WORK/w1.$r")" "$(cat "$BENCH_WORK/w2.$r")" "$(echo "$c1 - $c0" | bc)" \
		"$(echo "$s1 - $s0" | bc)" "$busy" "$n_db" "$src" | tee -a "$BENCH_WORK/runs"
	ntrx=$(cat "$BENCH_WORK/w1.$r" "$BENCH_WORK/w2.$r" | tr ' ' '\n' | awk -F= '$1 == "sent" { n += $2 } END { print n + 0 }')
	echo "$(echo "$c1 - $c0" | bc) $(echo "$s1 - $s0" | bc) $busy $((x1 - x0)) $ntrx" >>"$BENCH_WORK/cpu"
done
curl -s "$URL/metrics" | grep '^ringwatch_detection_delay_seconds' >"$BENCH_WORK/histogram"
curl -s "$URL/v1/conflicts?state=all&limit=100000" -o /dev/null -w '%{http_code}\n' >"$BENCH_WORK/limit100000"
grep -c 'is not compared' "$BENCH_WORK/rwd.log" >"$BENCH_WORK/skipped"
kill -TERM "$RWD_PID"
wait "$RWD_PID"
RWD_PID=

stats() { # COLUMN FILES...: "N p50 p99 max" of the pair conflicts' COLUMN (seconds), in ms
	local c=$1
	shift
	cat "$@" | awk -F '\t' -v c="$c" '$2 != "before-image" && $c != "-" { print $c * 1000 }' | sort -g | awk '
		{ v[NR] = $1 } END { if (NR == 0) { print 0, "-", "-", "-"; exit }
		printf "%d %.3f %.3f %.3f\n", NR, v[int((NR - 1) * 0.50) + 1], v[int((NR - 1) * 0.99) + 1], v[NR] }'
}
field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p"; }
ws() { cat "$BENCH_WORK"/w[12].[0-9]*; }

echo
echo "== ringwatchd detection delay benchmark =="
echo "ring: 2 masters, binlog_row_metadata MINIMAL; table app.hot (id INT PRIMARY KEY, v INT), $hot rows"
echo "load: on each master one writer, single-row UPDATE autocommit transactions on random hot rows, $rate/s for $secs s; $runs runs, one after the other"
printf 'achieved: west median %.0f tx/s, east median %.0f tx/s (all writers %.0f to %.0f); furthest behind schedule %s ms\n' \
	"$(cat "$BENCH_WORK"/w1.* | field rate | bench_median)" "$(cat "$BENCH_WORK"/w2.* | field rate | bench_median)" \
	"$(ws | field rate | sort -g | head -1)" "$(ws | field rate | sort -g | tail -1)" \
	"$(ws | field late_ms_max | sort -g | tail -1)"
printf 'statement latency (writers): p50 %s ms, p99 %s ms (medians over writers and runs)\n' \
	"$(ws | field lat_p50_ms | bench_median)" "$(ws | field lat_p99_ms | bench_median)"
printf 'cpu per %s s run (medians): ringwatchd %.2f s, both mariadbd %.2f s, writers %.2f s, machine %.2f of 2 cpus busy\n' "$secs" \
	"$(awk '{ print $1 }' "$BENCH_WORK/cpu" | bench_median)" "$(awk '{ print $2 }' "$BENCH_WORK/cpu" | bench_median)" \
	"$(ws | field cpu_s | bench_median)" "$(awk '{ print $3 }' "$BENCH_WORK/cpu" | bench_median)"
printf 'ringwatchd per transaction written (medians over runs): %.1f microseconds of cpu, %.2f context switches of its threads\n' \
	"$(awk '$5 > 0 { print $1 / $5 * 1e6 }' "$BENCH_WORK/cpu" | bench_median)" \
	"$(awk '$5 > 0 { print $4 / $5 }' "$BENCH_WORK/cpu" | bench_median)"
for ((r = 1; r <= runs; r++)); do
	read -r n p50 p99 mx < <(stats 3 "$BENCH_WORK/c.$r")
	read -r _ e50 e99 emx < <(stats 4 "$BENCH_WORK/c.$r")
	nb=$(awk -F '\t' '$2 == "before-image"' "$BENCH_WORK/c.$r" | wc -l)
	kinds=$(awk -F '\t' '$2 != "before-image" { print $2 }' "$BENCH_WORK/c.$r" | sort | uniq -c |
		awk '{ printf "%s%s %d", (NR > 1 ? ", " : ""), $2, $1 }')
	echo "run $r: $n conflicts ($kinds), $nb before-image records; detection delay p50 $p50 ms, p99 $p99 ms, max $mx ms; commit to decision p50 $e50 ms, p99 $e99 ms, max $emx ms"
	echo "$p99" >>"$BENCH_WORK/p99"
done
read -r n p50 p99 mx < <(stats 3 "$BENCH_WORK"/c.[0-9]*)
read -r _ e50 e99 emx < <(stats 4 "$BENCH_WORK"/c.[0-9]*)
printf 'all runs, %d conflicts: detection_delay_seconds p50 %s ms, p99 %s ms, max %s ms (target p99 < 100 ms: %s)\n' \
	"$n" "$p50" "$p99" "$mx" "$(awk -v v="$p99" 'BEGIN { print (v < 100) ? "MET" : "MISSED" }')"
printf '  the later write'"'"'s commit (writer saw OK) to the decision: p50 %s ms, p99 %s ms, max %s ms\n' "$e50" "$e99" "$emx"
echo "transactions ringwatchd could not compare (unknown origin, log lines): $(cat "$BENCH_WORK/skipped")"
echo "GET /v1/conflicts?state=all&limit=100000: HTTP $(cat "$BENCH_WORK/limit100000") (the API takes limit 1..10000)"
echo "ringwatch_detection_delay_seconds from /metrics, all runs:"
sed 's/^/    /' "$BENCH_WORK/histogram"
bench_machine
