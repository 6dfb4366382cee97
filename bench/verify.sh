#!/usr/bin/env bash
# bench/verify.sh - verification's throughput and the load it puts on the
# masters (doc/verify.md), against pt-table-checksum where it runs.
#
#	bench/verify.sh [-r RUNS] [-n ROWS]
#
# A 2-master ring (tests/harness/ring.sh, 256 MB buffer pool), table app.hot
# (id INT PRIMARY KEY, v INT, s VARCHAR(64), d DATETIME(3), m DECIMAL(12,2))
# of ROWS rows (default 1,000,000), ringwatchd watching it.  RUNS times
# (default 3) each:
#   idle:  `ringwatch verify --table app.hot --wait` with both masters idle;
#   load:  the same while bench/delay_writer runs on each master at 500
#          single-row UPDATE transactions a second on random rows (west the
#          even ids, east... any: the writers' rows are random over the table);
#   pt:    pt-table-checksum on master 1 (--recursion-method=none
#          --no-check-binlog-format, chunk time 0.5 s), idle and under the
#          same load, when it is installed.  Once more, for the record, with
#          master 2 named in a DSN table (--recursion-method=dsn=...) so that
#          it would compare master 2's checksums: it waits for that replica
#          (its SHOW SLAVE STATUS shows nothing on a MariaDB replica whose
#          connections are named, as a ring's are); 30 s, then its words.
# For each: wall seconds, rows per second, the masters' cpu seconds while it
# ran (utime + stime of both mariadbd from /proc; under load the writers'
# own share, measured for the same time without verification, subtracted),
# Threads_running on both masters sampled every 100 ms (mean and max), and
# for ringwatch the chunks equal/unsure.  Medians over the runs.
set -u
. "$(dirname "$0")/common.sh"

runs=3 rows=1000000
while getopts r:n: o; do
	case $o in
	r) runs=$OPTARG ;;
	n) rows=$OPTARG ;;
	*) echo "usage: bench/verify.sh [-r RUNS] [-n ROWS]" >&2; exit 2 ;;
	esac
done
bench_init || exit 1
for t in curl jq mariadb_config; do
	command -v "$t" >/dev/null || { bench_log "$t is needed"; exit 1; }
done
WRITER=$BENCH_WORK/delay_writer
cc -O2 $(mariadb_config --cflags) -o "$WRITER" "$BENCH_TOP/bench/delay_writer.c" $(mariadb_config --libs) ||
	{ bench_log "cannot build bench/delay_writer.c (libmariadb-dev?)"; exit 1; }

ring_start -n 2 --extra "--innodb-buffer-pool-size=256M" || exit 1
bench_log "loading $rows rows"
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.hot (id INT PRIMARY KEY, v INT NOT NULL,
    s VARCHAR(64), d DATETIME(3), m DECIMAL(12,2));
    INSERT INTO app.hot SELECT seq, 0, CONCAT('row ', seq, ' ', MD5(seq)),
        '2024-01-01' + INTERVAL seq SECOND, seq / 7 FROM app.seq_1_to_$rows" || exit 1
ring_sync 300 || exit 1
ring_write_config "$BENCH_WORK/rw.conf" 127.0.0.1:0 "$BENCH_WORK/state" >/dev/null
"$BENCH_BUILD/daemon/ringwatchd" -c "$BENCH_WORK/rw.conf" 2>"$BENCH_WORK/rwd.log" &
rwd=$!
ring_on_exit "kill $rwd 2>/dev/null"
for _ in $(seq 100); do grep -q 'listening on' "$BENCH_WORK/rwd.log" && break; sleep 0.1; done
url=$(grep -o 'listening on http://[^ ]*' "$BENCH_WORK/rwd.log" | head -n 1 | sed 's/^listening on //; s|/$||')
for _ in $(seq 200); do
	[ "$(curl -s "$url/v1/gate?checks=lag,replication,streams" | jq -r .safe)" = true ] && break
	sleep 0.1
done

master_pids() { for i in 1 2; do cat "$RING_DIR/${RING_NAMES[$i]}.spawn"; done; }
cpu_of() { # PID...: utime + stime in seconds
	local t=0 p
	for p in "$@"; do
		t=$(awk -v t="$t" '{ print t + ($14 + $15) / 100 }' "/proc/$p/stat")
	done
	echo "$t"
}
sampler() { # FILE: Threads_running of both masters every 100 ms until killed
	while :; do
		for i in 1 2; do ring_sql "$i" "SHOW GLOBAL STATUS LIKE 'Threads_running'" | cut -f2; done
		sleep 0.1
	done >"$1"
}
# the mean and max of the samples, the sampler's own SHOW not counted
stats() { awk '{ v = $1 - 1; s += v; if (v > m) m = v } END { printf "%.1f %d\n", NR ? s / NR : 0, m }' "$1"; }
now() { date +%s.%N; }

# run KIND CMD...: one timed run; prints "wall cpu tr_mean tr_max"
run() {
	local kind=$1 t0 t1 c0 c1 s
	shift
	sampler "$BENCH_WORK/tr.$kind" & s=$!
	c0=$(cpu_of $(master_pids)); t0=$(now)
	"$@" >"$BENCH_WORK/out.$kind" 2>&1
	t1=$(now); c1=$(cpu_of $(master_pids))
	kill "$s"; wait "$s" 2>/dev/null
	echo "$(echo "$t1 - $t0" | bc -l) $(echo "$c1 - $c0" | bc -l) $(stats "$BENCH_WORK/tr.$kind")"
}

writers_start() {
	"$WRITER" -S "${RING_SOCKS[1]}" -r 500 -t 3600 -k "$rows" -s 1 >"$BENCH_WORK/w1.out" 2>&1 & w1=$!
	"$WRITER" -S "${RING_SOCKS[2]}" -r 500 -t 3600 -k "$rows" -s 2 >"$BENCH_WORK/w2.out" 2>&1 & w2=$!
	sleep 3
}
writers_stop() { kill "$w1" "$w2" 2>/dev/null; wait "$w1" "$w2" 2>/dev/null; }
# the masters' cpu rate of the writers alone, for 5 s
writers_rate() { local c0 c1; c0=$(cpu_of $(master_pids)); sleep 5; c1=$(cpu_of $(master_pids)); echo "($c1 - $c0) / 5" | bc -l; }

verify_cmd() { "$BENCH_BUILD/cli/ringwatch" verify --url "$url" --table app.hot --wait; }
pt_cmd() {
	pt-table-checksum --no-check-binlog-format --recursion-method=none --chunk-time 0.5 \
		--databases app --tables hot --no-version-check \
		"h=127.0.0.1,P=${RING_PORTS[1]},u=root"
}

# Threads_running with nothing but replication and ringwatchd's streams, 3 s
sampler "$BENCH_WORK/tr.rest" & s=$!
sleep 3
kill "$s"; wait "$s" 2>/dev/null
read -r rest_mean rest_max < <(stats "$BENCH_WORK/tr.rest")

declare -A res
record() { # NAME LINE: append
	res[$1]="${res[$1]:-}$2"$'\n'
}
for r in $(seq "$runs"); do
	bench_log "run $r of $runs: idle"
	record idle "$(run idle verify_cmd)"
	record idle_chunks "$(curl -s "$url/v1/verify" | jq -r '"\(.chunks.equal) \(.chunks.unsure)"')"
	if command -v pt-table-checksum >/dev/null; then
		record pt_idle "$(run pt_idle pt_cmd)"
	fi
	bench_log "run $r of $runs: under 2 x 500 tps"
	writers_start
	base=$(writers_rate)
	record base "$base"
	record load "$(run load verify_cmd)"
	record load_chunks "$(curl -s "$url/v1/verify" | jq -r '"\(.chunks.equal) \(.chunks.unsure)"')"
	if command -v pt-table-checksum >/dev/null; then
		record pt_load "$(run pt_load pt_cmd)"
	fi
	writers_stop
	ring_sync 120 >/dev/null
done

col() { printf '%s' "${res[$1]}" | awk -v c="$2" 'NF { print $c }' | bench_median; }
median_base=$(printf '%s' "${res[base]}" | bench_median)
line() { # NAME LABEL: wall, rows/s, cpu (extra under load), Threads_running
	local w c extra
	w=$(col "$1" 1)
	c=$(col "$1" 2)
	extra=$c
	case $1 in *load) extra=$(echo "$c - $median_base * $w" | bc -l) ;; esac
	printf '%-34s %8.1f s %10.0f rows/s   masters cpu %6.1f s (%4.0f%% of a core)   Threads_running mean %s max %s\n' \
		"$2" "$w" "$(echo "$rows / $w" | bc -l)" "$extra" "$(echo "100 * $extra / $w" | bc -l)" \
		"$(col "$1" 3)" "$(col "$1" 4)"
}
echo
echo "verify.sh: $rows rows, $runs runs, medians"
line idle "ringwatch verify, idle"
echo "  chunks equal/unsure: $(printf '%s' "${res[idle_chunks]}" | tail -n 2 | head -n 1)"
line load "ringwatch verify, 2 x 500 tps"
echo "  chunks equal/unsure: $(printf '%s' "${res[load_chunks]}" | tail -n 2 | head -n 1)"
echo "  the writers alone: masters cpu $(printf '%.2f' "$median_base") cores (subtracted above)"
echo "Threads_running at rest (both masters, the sampler not counted): mean $rest_mean max $rest_max"
if command -v pt-table-checksum >/dev/null; then
	line pt_idle "pt-table-checksum, idle"
	line pt_load "pt-table-checksum, 2 x 500 tps"
	echo "  pt-table-checksum's last output:"
	sed 's/^/    /' "$BENCH_WORK/out.pt_load" | tail -n 4
	echo "  with master 2 in a DSN table, so that it compares master 2's checksums (30 s):"
	ring_sql 1 "SET sql_log_bin = 0; CREATE DATABASE IF NOT EXISTS percona_dsn;
	    CREATE TABLE IF NOT EXISTS percona_dsn.dsns (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT,
	        dsn VARCHAR(255) NOT NULL);
	    INSERT INTO percona_dsn.dsns (dsn) VALUES ('h=127.0.0.1,P=${RING_PORTS[2]},u=root')"
	timeout 30 pt-table-checksum --no-check-binlog-format --recursion-method=dsn=D=percona_dsn,t=dsns \
		--chunk-time 0.5 --databases app --tables hot --no-version-check \
		"h=127.0.0.1,P=${RING_PORTS[1]},u=root" 2>&1 | sort | uniq -c | sort -rn | head -n 3 | sed 's/^/    /'
	echo "  without --no-check-binlog-format it says:"
	pt-table-checksum --recursion-method=none --databases app --tables hot --no-version-check \
		"h=127.0.0.1,P=${RING_PORTS[1]},u=root" 2>&1 | head -n 3 | sed 's/^/    /'
else
	echo "pt-table-checksum: not installed (apt-get install percona-toolkit)"
fi
bench_machine
