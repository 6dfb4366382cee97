#!/usr/bin/env bash
# The soak: ringwatchd on a 2-master ring under a steady conflicting load for
# SECONDS (default 600), with faults injected on a schedule; at the end the
# daemon's ledger is held against `ringwatch analyze` on the same binlogs.
#
#     bench/soak.sh [-t SECONDS] [-r RATE] [-k ROWS] [-s] [-o FILE]
#
# The load: table app.hot (id INT PRIMARY KEY, v INT, who, n) with ROWS rows
# (default 8) and table app.cold (AUTO_INCREMENT key, a 4,000-16,000 byte
# string); one writer per master (python3 feeding a mariadb client over the
# socket) sending RATE (default 30) transactions a second: 45% single-row
# UPDATEs of a random hot row, 25% INSERTs into cold, 20% UPDATEs of a cold
# row of its own master, 10% three-statement transactions (two hot rows and
# a cold insert).  Every value v is unique to its write.  The links stay up;
# every 10 s one link (alternating) is stopped for half a second ("blips"),
# so writes on the hot rows cross and conflict now and then.  The cold rows
# are wide so that the conflict engine's image rings (16 MiB per master,
# allocated at start and touched as they fill) wrap within about a minute of
# a process's start: until then RSS grows by design, after it a growth is a
# leak.
#
# The faults, spread over the run in this order (the order repeats, with the
# other link and the other master, when SECONDS leaves room for it):
#   link     STOP SLAVE of one link for 10 s, then START SLAVE
#   sigkill  ringwatchd SIGKILLed, down 5 s, started again
#   sigstop  ringwatchd SIGSTOPped for 5 s, then SIGCONT
#   master   a master SIGKILLed, down 10 s, started again (START ALL SLAVES)
#   hup      SIGHUP with a good changed configuration (probe_interval = 1),
#            then with a bad one (probe_interval = -1), then the original
#   slow     200 slow HTTP clients (four source addresses 127.0.0.2-5, 50
#            each: the daemon takes at most 64 connections per address) that
#            send a header line a second and never finish, for 20 s; the
#            first time also, as a diagnostic, 200 from 127.0.0.1 alone
#   purge    FLUSH BINARY LOGS on both masters, ringwatchd stopped (SIGTERM),
#            then on each master PURGE BINARY LOGS TO the older of the file
#            of the conflict engine's resume point and of the stream's
#            checkpoint (both read from the state_dir's SQLite): files it
#            has fully read, so no gap; ringwatchd started again
# Each fault is checked while it lasts: what /v1/status shows (or that it
# does not answer, for a killed or stopped daemon), and what the log says;
# and that everything is back to normal after it (connected, current, links
# running).  Before a purge, the files it removes are copied out of the
# master's datadir, so analyze sees the whole history.
#
# At the end of the load: the writers stop; both links are paused, rows 1-3
# get a different value on each master and the links run again (so some rows
# certainly differ); the ring is synced and ringwatchd has read both binlogs
# to @@gtid_binlog_pos.  Then:
#   - the ledger (STATE_DIR/ringwatch.db, table conflict) against `ringwatch
#     analyze --master west=FILES --master east=FILES` on the copies: the
#     pairs (uid: a hash of both transactions and the key) matched, missing
#     from the ledger, extra in it, and the before-image records the same
#     way; duplicates: two ledger rows for the same key and writes;
#   - GET /v1/conflicts?state=all against the ledger (same count);
#   - the keys of the open diverged conflicts against the hot rows that
#     differ between the masters;
#   - peak RSS flat: ringwatchd's VmRSS and VmHWM are sampled every 2 s
#     (per process, across restarts); the largest VmRSS of the last third of
#     the load must not exceed the largest of the first third by more than 20%.
# Then the gap: ringwatchd SIGKILLed while the writers go on, west's binlogs
# flushed, copied and purged up to its newest file, past the engine's resume
# point; started again, the gap must show in /v1/status (masters[].gap), in
# the gate, in /metrics and in the log, and POST /v1/gaps/ID/ack must clear
# it.  The load goes on for a while (SECONDS/10, at least 10 s), and the
# comparison is made again, scoped to what the daemon could see: a conflict
# with a write whose copy in west's binlog was purged unread (from the resume
# point on: the "gap set", listed with `ringwatch dump` on the copies) is
# left out on both sides, and so are the rows such writes touched from the
# diverged check.  The conflicts left out are counted apart, and one more
# check says whether the daemon reported conflicts with a write of the gap
# set that analyze, which saw everything, does not (doc/checkpoint.md,
# "Gaps", says it may).
#
# -s: the short schedule of tests/integration/soak.sh (SECONDS default 55,
# RATE 20; link 6 s, sigkill down 2 s, sigstop 5 s, hup, 50 slow clients for
# 6 s, purge; the gap without the load and the comparison after it).
# -o FILE: the checks, one a line, "ok|not ok NAME: DETAIL", and "fig NAME
# VALUE" lines (read by the test).  Exit 0 when every check passed, 1 when
# some failed or the run could not go on.  Needs python3, curl, jq, sqlite3,
# bc.  Run from the build folder (or set RW_BUILDDIR).  BENCH_KEEP=1 keeps
# the work folder (binlog copies, logs, JSON, the RSS samples).
set -u
# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"

secs='' rate='' hot=8 short=0 out=
while getopts t:r:k:so: o; do
	case $o in
	t) secs=$OPTARG ;;
	r) rate=$OPTARG ;;
	k) hot=$OPTARG ;;
	s) short=1 ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 [-t SECONDS] [-r RATE] [-k ROWS] [-s] [-o FILE]" >&2; exit 2 ;;
	esac
done
if ((short)); then
	: "${secs:=55}" "${rate:=20}"
else
	: "${secs:=600}" "${rate:=30}"
fi
for t in curl jq sqlite3 python3 bc; do
	command -v "$t" >/dev/null || { bench_log "$t is needed"; exit 1; }
done
[[ -z "$out" ]] || : >"$out" || exit 1

bench_init || exit 1
W=$BENCH_WORK
RWD=$BENCH_BUILD/daemon/ringwatchd
RW=$BENCH_BUILD/cli/ringwatch
PY=$(command -v python3)
CLIENT=$(command -v mariadb)
RWD_PID='' URL=
BG=()
# shellcheck disable=SC2016
ring_on_exit 'touch "$W/stop"; for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$RWD_PID" ]; then kill -CONT "$RWD_PID" 2>/dev/null; kill -KILL "$RWD_PID" 2>/dev/null; fi'

now() { date +%s.%N; }
elapsed() { echo "$(now) - $T0" | bc | xargs printf '%.0f'; }
say() { printf '[%4ss] %s\n' "$(elapsed)" "$*" >&2; }
# check NAME OK DETAIL: one check; OK is 1 or 0
FAILED=0
check() {
	local word=ok
	[[ "$2" == 1 ]] || { word="not ok"; FAILED=$((FAILED + 1)); }
	[[ -z "$out" ]] || echo "$word $1: $3" >>"$out"
	echo "$word $1: $3" >>"$W/checks"
	say "$word $1: $3"
}
fig() {
	[[ -z "$out" ]] || echo "fig $1 $2" >>"$out"
	echo "$1 $2" >>"$W/figs"
}
# poll SECONDS COMMAND...: every 0.2 s until the command succeeds
poll() {
	local deadline
	deadline=$(echo "$(now) + $1" | bc)
	shift
	until "$@" 2>/dev/null; do
		(($(echo "$(now) < $deadline" | bc))) || return 1
		sleep 0.2
	done
}
st() { curl -s -m 3 "$URL/v1/status"; }
st_has() { st | jq -e "$1" >/dev/null; }
norm() { tr ',' '\n' | sort | paste -sd, -; }
connected() { [[ "$(st | jq -r '[.masters[].connected] | all')" == true ]]; }
caught_up() {
	local i s
	s=$(st) || return 1
	for ((i = 1; i <= RING_N; i++)); do
		[[ "$(jq -r ".masters[$((i - 1))].position.gtid" <<<"$s" | norm)" == \
			"$(ring_sql "$i" "SELECT @@gtid_binlog_pos" | norm)" ]] || return 1
	done
}
healthy() { st_has '([.masters[] | .connected and .current] | all) and ([.links[] | .state == "ok"] | all)'; }
logsize() { stat -c %s "$W/rwd.log"; }
# logsince OFFSET: the log from byte OFFSET on
logsince() { tail -c +"$(($1 + 1))" "$W/rwd.log"; }
loghas() { logsince "$1" | grep -q -e "$2"; }
logline() { logsince "$1" | grep -m1 -e "$2" | cut -c1-200; }

# ------------------------------------------------------------ helpers ----

cat >"$W/writer.py" <<'EOF'
# writer.py CLIENT NAME INDEX NMASTERS SOCKET RATE HOT STOPFILE SEED LOG
import os, random, subprocess, sys, time
client, name, idx, nmasters, sock, rate, hot, stop, seed, log = sys.argv[1:11]
idx, nmasters, rate, hot = int(idx), int(nmasters), float(rate), int(hot)
rnd = random.Random(int(seed))
logf = open(log, "a")
proc, spawns, sent, seq, cold = None, 0, 0, 0, 0

def spawn():
    global proc, spawns
    spawns += 1
    proc = subprocess.Popen([client, "--no-defaults", "--protocol=socket", "-S", sock, "-uroot",
                             "-N", "-B", "app"], stdin=subprocess.PIPE, stdout=logf, stderr=logf)

def val():
    global seq
    seq += 1
    return idx * 100000000 + seq

def hot_update():
    return "UPDATE hot SET v = %d, who = '%s', n = n + 1 WHERE id = %d;" % (val(), name, rnd.randint(1, hot))

def stmt():
    global cold
    r = rnd.random()
    if r < 0.45:
        return hot_update()
    if r < 0.70:
        cold += 1
        return "INSERT INTO cold (origin, n, s) VALUES ('%s', %d, REPEAT('%s', %d));" % (
            name, val(), name[0], rnd.randint(4000, 16000))
    if r < 0.90:  # a cold row of this master (auto_increment_offset = INDEX)
        return "UPDATE cold SET n = %d WHERE id = %d;" % (val(), rnd.randint(0, cold) * nmasters + idx)
    return "BEGIN; %s INSERT INTO cold (origin, n, s) VALUES ('%s', %d, REPEAT('m', %d)); %s COMMIT;" % (
        hot_update(), name, val(), rnd.randint(4000, 16000), hot_update())

# statement i is due at t0 + i / rate; a writer more than 1 s behind (its
# master down) starts its schedule again instead of sending a burst
t0, i = time.monotonic(), 0
while not os.path.exists(stop):
    now = time.monotonic()
    due = t0 + i / rate
    if due > now:
        time.sleep(due - now)
    elif now - due > 1.0:
        t0, i = now, 0
    if proc is None or proc.poll() is not None:  # the client ends at an error
        if proc is not None:
            time.sleep(0.2)
        spawn()
    try:
        proc.stdin.write((stmt() + "\n").encode())
        proc.stdin.flush()
        sent += 1
    except OSError:
        proc.wait()
    i += 1
if proc is not None and proc.poll() is None:
    try:
        proc.stdin.close()
    except OSError:
        pass
    proc.wait()
print("%s %d %d" % (name, sent, spawns))
EOF

# slow.py PORT N SECONDS SOURCES: N connections to 127.0.0.1:PORT from the
# SOURCES (comma-separated addresses, in turn), each sending a request line
# and then a header line a second, never the end of the headers; prints
# "ACCEPTED OPEN_AT_END CLOSED_BY_SERVER FAILED"
cat >"$W/slow.py" <<'EOF'
import socket, sys, time
port, n, secs, srcs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].split(",")
socks, failed = [], 0
for k in range(n):
    s = socket.socket()
    try:
        s.bind((srcs[k % len(srcs)], 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        socks.append(s)
    except OSError:
        failed += 1
accepted, closed, t0 = len(socks), 0, time.time()
while time.time() - t0 < secs:
    time.sleep(1)
    for s in list(socks):
        try:
            s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            socks.remove(s)
            closed += 1
open_at_end = len(socks)
for s in socks:
    s.close()
print(accepted, open_at_end, closed, failed)
EOF

# rss sampler: "SECONDS_SINCE_T0 PID VMRSS_KIB VMHWM_KIB" every 2 s
rss_sampler() {
	local pid
	while [[ ! -e "$W/stop.rss" ]]; do
		pid=$(cat "$W/rwd.pid" 2>/dev/null)
		if [[ -n "$pid" && -r /proc/$pid/status ]]; then
			awk -v t="$(elapsed)" -v p="$pid" '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 }
				END { if (r != "") print t, p, r, h }' "/proc/$pid/status" >>"$W/rss"
		fi
		sleep 2
	done
}

rwd_up() {
	local off
	off=$(logsize)
	"$RWD" -c "$W/rw.conf" 2>>"$W/rwd.log" &
	RWD_PID=$!
	echo "$RWD_PID" >"$W/rwd.pid"
	poll 15 loghas "$off" 'listening on http://' || { bench_log "ringwatchd did not start"; tail -n 20 "$W/rwd.log" >&2; return 1; }
	URL=$(logsince "$off" | grep -o 'listening on http://[^ ]*' | head -n 1 | sed 's/^listening on //; s|/$||')
}

rwd_fds() { find "/proc/$RWD_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

writers_start() {
	local i
	rm -f "$W/stop"
	WP=()
	for ((i = 1; i <= RING_N; i++)); do
		"$PY" "$W/writer.py" "$CLIENT" "${RING_NAMES[i]}" "$i" "$RING_N" "${RING_SOCKS[i]}" \
			"$rate" "$hot" "$W/stop" "$i$RANDOM" "$W/writer$i.log" >>"$W/writers" &
		WP+=($!)
		BG+=($!)
	done
}
writers_stop() {
	local p
	touch "$W/stop"
	for p in "${WP[@]}"; do wait "$p"; done
}

# blip: one link stopped for half a second (alternating)
BLIPS=0
blip() {
	local src=$((BLIPS % 2 + 1))
	local rep=$((3 - src))
	ring_pause_link "$src" "$rep" && sleep 0.5
	ring_resume_link "$src" "$rep"
	BLIPS=$((BLIPS + 1))
}

# copy_binlogs I [BEFORE]: copy master I's binlog files (those before file
# BEFORE only, when given) into $W/binlogs/NAME/
copy_binlogs() {
	local i=$1 before=${2:-} n=${RING_NAMES[$1]} f
	mkdir -p "$W/binlogs/$n"
	while read -r f _; do
		[[ -n "$before" && ! "$f" < "$before" ]] && continue
		cp "$RING_DIR/$n/$f" "$W/binlogs/$n/$f" || return 1
	done < <(ring_sql "$i" "SHOW BINARY LOGS")
}

# resume_point NAME: "FILE OFFSET" of the conflict engine's resume point R
# (low_water when something is unsettled, else last; file sequence number in
# the top 24 bits) and, third, the stream's checkpoint file
resume_point() {
	sqlite3 -readonly "$W/state/ringwatch.db" \
		"SELECT e.file, CASE WHEN e.unsettled THEN e.low_water ELSE e.last END, c.file
		 FROM engine_mark e LEFT JOIN checkpoint c ON c.master = e.master WHERE e.master = '$1'" |
		awk -F'|' '{ seq = int($2 / 1099511627776); off = $2 - seq * 1099511627776
			f = $1; sub(/\.[0-9]+$/, "", f); printf "%s.%06d %d %s\n", f, seq, off, $3 }'
}

# fault_done NAME STATUS LOG: what /v1/status and the log showed while it lasted
fault_done() {
	FAULTS+=("$1")
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$W/faults.tsv"
}

# purge_to I FILE: PURGE BINARY LOGS TO FILE on master I until FILE is its
# oldest (the server keeps a file while a dump thread reads it, or while its
# transactions are not yet durable in InnoDB: right after FLUSH BINARY LOGS,
# with innodb_flush_log_at_trx_commit=2, up to a second or so); sets PURGE_TRIES
purge_to() {
	local deadline
	deadline=$(echo "$(now) + 30" | bc)
	PURGE_TRIES=0
	while :; do
		PURGE_TRIES=$((PURGE_TRIES + 1))
		ring_sql "$1" "PURGE BINARY LOGS TO '$2'" || return 1
		[[ "$(ring_sql "$1" "SHOW BINARY LOGS" | head -n 1 | cut -f1)" == "$2" ]] && return 0
		(($(echo "$(now) < $deadline" | bc))) || return 1
		sleep 0.5
	done
}

# ------------------------------------------------------------- faults ----

f_link() { # SRC REPLICA SECONDS
	local s=${RING_NAMES[$1]} r=${RING_NAMES[$2]} off t0 ev='' sel
	off=$(logsize)
	say "fault: link $s -> $r stopped for $3 s"
	t0=$(now)
	ring_pause_link "$1" "$2"
	sel=".links[] | select(.source == \"$s\" and .replica == \"$r\")"
	if poll "$3" st_has "$sel | .state != \"ok\" and ((.stopped // \"\") | test(\"STOP SLAVE\"))"; then
		ev=$(st | jq -c "$sel | {state, stopped}")
	fi
	sleep "$(echo "$3 - ($(now) - $t0)" | bc | awk '{ print ($1 > 0) ? $1 : 0 }')"
	ring_resume_link "$1" "$2"
	check "fault link $s->$r: /v1/status shows it stopped" "$([[ -n "$ev" ]] && echo 1 || echo 0)" "${ev:-not shown within $3 s}"
	local ll
	ll=$(logsince "$off" | grep -i -e 'link' -e 'STOP SLAVE' -e "$s -> $r" -e "$s→$r" | grep -v -e 'conflict' | head -n 1 | cut -c1-160)
	check "fault link $s->$r: the log says it stopped" \
		"$(poll 5 loghas "$off" "link $s→$r: IO thread No, SQL thread No, without an error" && echo 1 || echo 0)" "${ll:-nothing logged}"
	check "fault link $s->$r: running again after START SLAVE" "$(poll 20 healthy && echo 1 || echo 0)" "links ok, streams current"
	check "fault link $s->$r: the log says it runs again" "$(poll 5 loghas "$off" "link $s→$r: runs again" && echo 1 || echo 0)" \
		"$(logline "$off" "link $s→$r: runs again" | sed 's/^[^ ]* //')"
	fault_done "link $s->$r stopped ${3}s" "links[$s->$r] $ev" "${ll:-nothing logged}"
}

f_sigkill() { # DOWN_SECONDS
	local off down=0 rc
	say "fault: ringwatchd SIGKILLed, down $1 s"
	kill -KILL "$RWD_PID"
	wait "$RWD_PID" 2>/dev/null
	curl -s -m 2 -o /dev/null "$URL/v1/status"
	rc=$?
	((rc == 7)) && down=1
	check "fault sigkill: /v1/status refused while it is down" "$down" "curl exit $rc"
	sleep "$1"
	off=$(logsize)
	rwd_up || return 1
	local ok=1
	for ((i = 1; i <= RING_N; i++)); do
		poll 15 loghas "$off" "master ${RING_NAMES[i]}: replays from .*the conflict engine's mark" || ok=0
	done
	check "fault sigkill: restarted, each stream replays from the engine's mark (log)" "$ok" \
		"$(logline "$off" "replays from" | sed 's/^[^ ]* //')"
	check "fault sigkill: connected and current again" "$(poll 30 healthy && echo 1 || echo 0)" "after the restart"
	fault_done "SIGKILL, down ${1}s" "refused while down (curl exit $rc)" \
		"at the restart: $(logline "$off" "replays from" | sed 's/^.*ringwatchd info: //' | cut -c1-90)"
}

f_sigstop() { # SECONDS
	local rc t1 off stalls
	off=$(logsize)
	stalls=$(st | jq .stalls.total)
	say "fault: ringwatchd SIGSTOPped for $1 s"
	kill -STOP "$RWD_PID"
	sleep 0.5
	curl -s -m 1 -o /dev/null "$URL/v1/status"
	rc=$?
	check "fault sigstop: /v1/status does not answer while it is stopped" "$([[ $rc == 28 ]] && echo 1 || echo 0)" "curl exit $rc (28: timeout)"
	sleep "$(echo "$1 - 1.5" | bc)"
	kill -CONT "$RWD_PID"
	t1=$(now)
	poll 10 connected
	local ans
	ans=$(echo "$(now) - $t1" | bc | xargs printf '%.2f')
	check "fault sigstop: answers again after SIGCONT, connected and current" "$(poll 30 healthy && echo 1 || echo 0)" "first answer after ${ans} s"
	check "fault sigstop: the log says how long it did not run" "$(poll 5 loghas "$off" "ringwatchd did not run for" && echo 1 || echo 0)" \
		"$(logline "$off" "ringwatchd did not run for" | sed 's/^[^ ]* //' | cut -c1-100)"
	check "fault sigstop: /v1/status counts it" "$(st_has ".stalls.total == $((stalls + 1))" && echo 1 || echo 0)" \
		"stalls $(st | jq -c .stalls)"
	fault_done "SIGSTOP ${1}s" "no answer while stopped (curl exit $rc), answers ${ans} s after SIGCONT; stalls $(st | jq -c .stalls)" \
		"$(logline "$off" "ringwatchd did not run for" | sed 's/^.*ringwatchd warning: //' | cut -c1-90)"
}

f_master() { # I DOWN_SECONDS
	local i=$1 n=${RING_NAMES[$1]} off ev='' t0
	off=$(logsize)
	say "fault: master $n SIGKILLed, down $2 s"
	t0=$(now)
	ring_kill "$i"
	if poll "$2" st_has ".masters[$((i - 1))] | .connected == false and .state == \"backoff\" and .last_error != null"; then
		ev=$(st | jq -c ".masters[$((i - 1))] | {connected, state, last_error: .last_error.message, probe_ok}")
	fi
	sleep "$(echo "$2 - ($(now) - $t0)" | bc | awk '{ print ($1 > 0) ? $1 : 0 }')"
	check "fault master $n: /v1/status shows it down" "$([[ -n "$ev" ]] && echo 1 || echo 0)" "${ev:-not shown}"
	check "fault master $n: the log says so" "$(loghas "$off" "master $n: streaming -> backoff" && echo 1 || echo 0)" \
		"$(logline "$off" "master $n: streaming -> backoff" | sed 's/^[^ ]* //')"
	ring_start_master "$i" || { bench_log "master $n did not start again"; return 1; }
	local back
	back=$(now)
	check "fault master $n: back, connected, current, links running" "$(poll 60 healthy && echo 1 || echo 0)" \
		"$(echo "$(now) - $back" | bc | xargs printf '%.1f') s after its restart"
	fault_done "master $n SIGKILLed, down ${2}s" "masters[$n] $ev" \
		"$(logline "$off" "master $n: streaming -> backoff" | sed 's/^.*ringwatchd warning: //' | cut -c1-90)"
}

f_hup() {
	local off
	say "fault: SIGHUP with a good, a bad and the original configuration"
	sed 's/^\[ringwatchd\]$/&\nprobe_interval = 1/' "$W/rw.conf.orig" >"$W/rw.conf.new" && mv "$W/rw.conf.new" "$W/rw.conf"
	off=$(logsize)
	kill -HUP "$RWD_PID"
	check "fault hup good: reloaded (log)" "$(poll 10 loghas "$off" 'reload: done' && echo 1 || echo 0)" \
		"$(logline "$off" 'reload: done' | sed 's/^[^ ]* //')"
	check "fault hup good: /v1/status says it worked" "$(st_has '.reloads.last.ok == true' && echo 1 || echo 0)" "reloads $(st | jq -c .reloads)"
	sed 's/^\[ringwatchd\]$/&\nprobe_interval = -1/' "$W/rw.conf.orig" >"$W/rw.conf.new" && mv "$W/rw.conf.new" "$W/rw.conf"
	off=$(logsize)
	kill -HUP "$RWD_PID"
	check "fault hup bad: refused, the running configuration kept (log)" \
		"$(poll 10 loghas "$off" 'reload failed: .*probe_interval.*keeping the running configuration' && echo 1 || echo 0)" \
		"$(logline "$off" 'reload failed' | sed 's/^[^ ]* //')"
	check "fault hup bad: still answering, connected and current" "$(poll 10 healthy && echo 1 || echo 0)" "/v1/status"
	check "fault hup bad: /v1/status says it failed, and why" \
		"$(st_has '.reloads.last.ok == false and (.reloads.last.error | test("probe_interval"))' && echo 1 || echo 0)" "reloads $(st | jq -c .reloads)"
	cp "$W/rw.conf.orig" "$W/rw.conf"
	off=$(logsize)
	kill -HUP "$RWD_PID"
	check "fault hup: the original configuration back (log)" "$(poll 10 loghas "$off" 'reload: done' && echo 1 || echo 0)" "reload: done"
	fault_done "SIGHUP good, bad, good" "reloads $(st | jq -c .reloads); answers throughout" \
		"reload: done; reload failed: rw.conf:3: probe_interval: '-1' is not a positive number of seconds; keeping the running configuration"
}

f_slow() { # N SECONDS DIAG
	local n=$1 s=$2 port=${URL##*:} fd0 sp ok=0 bad=0 worst=0 t code off
	fd0=$(rwd_fds)
	off=$(logsize)
	say "fault: $n slow HTTP clients for $s s"
	"$PY" "$W/slow.py" "$port" "$n" "$s" 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 >"$W/slow.out" &
	sp=$!
	sleep 1
	local fdmax held
	fdmax=$(rwd_fds)
	held=$(st | jq '.http.connections')
	check "fault slow: /v1/status counts the connections held" "$([[ ${held:-0} -ge $n ]] && echo 1 || echo 0)" \
		"http $(st | jq -c '.http | {connections, accepted_total, idle_closed_total, head_timeouts_total}')"
	while kill -0 "$sp" 2>/dev/null; do
		read -r code t < <(curl -s -m 3 -o /dev/null -w '%{http_code} %{time_total}\n' "$URL/v1/status")
		if [[ "$code" == 200 ]]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
		worst=$(echo "$t $worst" | awk '{ print ($1 > $2) ? $1 : $2 }')
		sleep 0.5
	done
	wait "$sp"
	read -r acc open closed failed <"$W/slow.out"
	check "fault slow: all $n connections held open" "$([[ $acc == "$n" && $open == "$n" ]] && echo 1 || echo 0)" \
		"accepted $acc, open at the end $open, closed by the daemon $closed, failed $failed; daemon fds $fd0 -> $fdmax"
	check "fault slow: /v1/status answered meanwhile" "$([[ $bad == 0 && $ok -gt 0 ]] && echo 1 || echo 0)" \
		"$ok answered, $bad not, slowest $(printf '%.3f' "$worst") s"
	local t_rel
	t_rel=$(now)
	check "fault slow: connections released after" "$(poll 25 sh -c "[ \$(find /proc/$RWD_PID/fd -mindepth 1 -maxdepth 1 | wc -l) -le $((fd0 + 2)) ]" && echo 1 || echo 0)" \
		"daemon fds $(rwd_fds) (before $fd0), $(echo "$(now) - $t_rel" | bc | xargs printf '%.1f') s after the clients closed them"
	fig "slow_status_max_s" "$worst"
	local sl
	sl=$(logsince "$off" | grep -i 'http' | head -n 1 | cut -c1-120)
	if [[ "${3:-0}" == 1 ]]; then
		# diagnostic: all from one address, the one /v1/status is asked from
		"$PY" "$W/slow.py" "$port" 200 4 127.0.0.1 >"$W/slow1.out" &
		sp=$!
		sleep 1.5
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$URL/v1/status")
		wait "$sp"
		read -r acc open closed failed <"$W/slow1.out"
		SLOW_DIAG="200 slow clients from 127.0.0.1 alone: $acc accepted, $closed of them closed by the daemon (at most 64 per address), a /v1/status from 127.0.0.1 meanwhile: HTTP $code"
		say "diagnostic: $SLOW_DIAG"
		poll 20 healthy
	fi
	fault_done "$n slow HTTP clients ${s}s" "answers throughout: $ok of $ok+$bad, slowest $(printf '%.3f' "$worst") s" "${sl:-nothing logged}"
}

f_purge() {
	local i n f off rc before after cpf
	say "fault: PURGE BINARY LOGS while ringwatchd is down (files it has read)"
	for ((i = 1; i <= RING_N; i++)); do ring_sql "$i" "FLUSH BINARY LOGS"; done
	sleep 3 # the engine's marks and the checkpoints move into the new files
	kill -TERM "$RWD_PID"
	wait "$RWD_PID"
	rc=$?
	check "fault purge: ringwatchd stopped cleanly (SIGTERM)" "$([[ $rc == 0 ]] && echo 1 || echo 0)" "exit $rc"
	local detail=
	for ((i = 1; i <= RING_N; i++)); do
		n=${RING_NAMES[i]}
		read -r f off cpf < <(resume_point "$n")
		[[ -n "$cpf" && "$cpf" < "$f" ]] && f=$cpf
		before=$(ring_sql "$i" "SHOW BINARY LOGS" | wc -l)
		copy_binlogs "$i" "$f"
		purge_to "$i" "$f" || { bench_log "$n: PURGE BINARY LOGS TO '$f' left $(ring_sql "$i" "SHOW BINARY LOGS" | head -n 1)"; return 1; }
		after=$(ring_sql "$i" "SHOW BINARY LOGS" | wc -l)
		PURGED=$((PURGED + before - after))
		detail+="$n: $((before - after)) files before $f ($PURGE_TRIES tries); "
	done
	off=$(logsize)
	rwd_up || return 1
	poll 30 healthy
	check "fault purge: no gap (status)" "$(st_has '[.masters[].gap == null] | all' && echo 1 || echo 0)" "${detail% }"
	local ok=1
	loghas "$off" 'GAP' && ok=0
	for ((i = 1; i <= RING_N; i++)); do
		loghas "$off" "master ${RING_NAMES[i]}: replays from .*the conflict engine's mark" || ok=0
	done
	check "fault purge: no gap (log), each stream replays from its mark" "$ok" \
		"$(logsince "$off" | grep "replays from" | sed 's/^[^ ]* //; s/ringwatchd info: //' | paste -sd';' | cut -c1-220)"
	fault_done "PURGE BINARY LOGS while down, no gap" "gap null; ${detail%; }" \
		"$(logsince "$off" | grep "replays from" | sed 's/^.*ringwatchd info: master //; s/, the conflict.*//' | paste -sd';' | cut -c1-90)"
}

# ------------------------------------------------------------- compare ----

# compare LABEL [GAPGTIDS]: the ledger against analyze on the binlog copies
compare() {
	local label=$1 scope=${2:-} i n files=() ledger
	say "compare ($label): writers stopped, crossing writes on rows 1-3, sync"
	writers_stop
	ring_pause_link 1 2
	ring_pause_link 2 1
	ring_sql 1 "UPDATE app.hot SET v = -1, who = 'west', n = n + 1 WHERE id IN (1, 2, 3)"
	ring_sql 2 "UPDATE app.hot SET v = -2, who = 'east', n = n + 1 WHERE id IN (1, 2, 3)"
	ring_resume_link 1 2
	ring_resume_link 2 1
	ring_sync 300 || { bench_log "the ring did not sync"; return 1; }
	poll 120 caught_up || { bench_log "ringwatchd did not catch up"; return 1; }
	sleep 2
	for ((i = 1; i <= RING_N; i++)); do
		copy_binlogs "$i"
		n=${RING_NAMES[i]}
		files+=(--master "$n=$(printf '%s\n' "$W/binlogs/$n"/* | sort | paste -sd, -)")
	done
	"$RW" analyze "${files[@]}" >"$W/analyze.$label.json" 2>"$W/analyze.$label.err"
	ANALYZE_RC=$?
	curl -s "$URL/v1/conflicts?state=all&limit=10000" >"$W/api.$label.json"
	ledger=$W/ledger.$label.json
	"$PY" - "$W/state/ringwatch.db" >"$ledger" <<-'EOF'
		import json, sqlite3, sys
		con = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
		rows = [{"uid": u, "kind": k, "key": json.loads(kj), "state": s, "diverged": bool(d),
		         "writes": json.loads(w)}
		        for u, k, kj, s, d, w in con.execute(
		            "SELECT uid, kind, key_json, state, diverged, writes_json FROM conflict")]
		print(json.dumps({"conflicts": rows}))
	EOF
	for ((i = 1; i <= RING_N; i++)); do
		ring_sql "$i" "SELECT id, v, who, n FROM app.hot ORDER BY id" | sort >"$W/hot.$i"
	done
	# rows that differ; with a scope, the rows a write of the gap touched are left out
	local differ
	differ=$(join -t "$(printf '\t')" "$W/hot.1" "$W/hot.2" | awk -F '\t' '$2 != $5 || $3 != $6 || $4 != $7 { print $1 }' | sort -n)
	"$PY" - "$ledger" "$W/analyze.$label.json" "$W/api.$label.json" "${scope:-/dev/null}" "$differ" >"$W/compare.$label" <<-'EOF'
		import json, sys
		led, ana, api = (json.load(open(p))["conflicts"] for p in sys.argv[1:4])
		gap = set(open(sys.argv[4]).read().split())
		differ = set(int(x) for x in sys.argv[5].split())
		def gtids(c):
		    return [w.get("gtid") for w in c["writes"]]
		def inscope(c):
		    return not (gap & set(g for g in gtids(c) if g))
		out = {}
		for kind, pick in (("pairs", lambda c: c["kind"] != "before-image"),
		                   ("bi", lambda c: c["kind"] == "before-image")):
		    L = {c["uid"] for c in led if pick(c) and inscope(c)}
		    A = {c["uid"] for c in ana if pick(c) and inscope(c)}
		    out[kind] = (len(L), len(A), len(L & A), len(A - L), len(L - A))
		    out[kind + "_missing"] = sorted(A - L)[:5]
		    out[kind + "_extra"] = sorted(L - A)[:5]
		    out[kind + "_gap_analyze"] = sum(1 for c in ana if pick(c) and not inscope(c))
		    out[kind + "_gap_ledger"] = sum(1 for c in led if pick(c) and not inscope(c))
		# matched pairs: the same state (open/resolved) and diverged flag?
		lmap = {c["uid"]: c for c in led}
		mism = {}
		for c in ana:
		    d = lmap.get(c["uid"])
		    if d is None or c["kind"] == "before-image" or not inscope(c):
		        continue
		    a_, l_ = (c["state"], c["diverged"]), (d["state"], d["diverged"])
		    if a_ != l_:
		        k = "analyze %s%s, ledger %s%s" % (a_[0], " diverged" if a_[1] else "", l_[0], " diverged" if l_[1] else "")
		        mism[k] = mism.get(k, 0) + 1
		out["state_mismatch"] = sum(mism.values())
		out["state_mismatch_kinds"] = "; ".join("%d %s" % (v, k) for k, v in sorted(mism.items(), key=lambda x: -x[1]))
		opens = {}
		for c in ana:
		    if c["state"] == "open" and c["kind"] != "before-image":
		        k = json.dumps(c["key"], sort_keys=True)
		        opens[k] = opens.get(k, 0) + 1
		out["analyze_open_max_per_key"] = max(opens.values()) if opens else 0
		seen, dup = {}, 0
		for c in led:
		    k = (json.dumps(c["key"], sort_keys=True), tuple(sorted(str(g) for g in gtids(c))), c["kind"])
		    dup += k in seen
		    seen[k] = 1
		out["dup"] = dup
		out["kinds"] = {}
		for c in led:
		    out["kinds"][c["kind"]] = out["kinds"].get(c["kind"], 0) + 1
		# the rows a write of the gap touched, on the hot table
		gaprows = {c["key"].get("id") for c in led + ana if not inscope(c)}
		def open_div(cs):
		    return {c["key"].get("id") for c in cs if c["kind"] != "before-image" and c["state"] == "open"
		            and c["diverged"] and inscope(c) and c["key"].get("id") not in gaprows}
		d = differ - gaprows
		out["diverged"] = sorted(open_div(led))
		out["diverged_all"] = sorted({c["key"].get("id") for c in led if c["kind"] != "before-image"
		                              and c["state"] == "open" and c["diverged"]})
		out["differ_all"] = sorted(differ)
		out["open_gap"] = sum(1 for c in led if not inscope(c) and c["state"] == "open")
		out["diverged_analyze"] = sorted(open_div(ana))
		out["differ"] = sorted(d)
		out["gaprows"] = sorted(x for x in gaprows if x is not None)
		out["api"] = len(api)
		out["ledger"] = len(led)
		out["nogtid"] = sum(1 for c in led + ana for g in gtids(c) if not g)
		json.dump(out, sys.stdout)
	EOF
}

report_compare() { # LABEL
	local c=$W/compare.$1
	j() { jq -r "$1" "$c"; }
	read -r lp ap mp mi ex < <(j '.pairs | map(tostring) | join(" ")')
	read -r lb ab mb mib exb < <(j '.bi | map(tostring) | join(" ")')
	check "$1: no conflict lost (pairs in analyze, not in the ledger)" "$([[ $mi == 0 ]] && echo 1 || echo 0)" \
		"analyze $ap, ledger $lp, matched $mp, missing $mi $(j '.pairs_missing | join(",")')"
	check "$1: no conflict extra (pairs in the ledger, not in analyze)" "$([[ $ex == 0 ]] && echo 1 || echo 0)" \
		"extra $ex $(j '.pairs_extra | join(",")')"
	check "$1: no before-image record lost" "$([[ $mib == 0 ]] && echo 1 || echo 0)" \
		"analyze $ab, ledger $lb, matched $mb, missing $mib $(j '.bi_missing | join(",")')"
	check "$1: no before-image record extra" "$([[ $exb == 0 ]] && echo 1 || echo 0)" \
		"extra $exb $(j '.bi_extra | join(",")')"
	check "$1: matched pairs in the same state (open, resolved) and diverged" "$([[ $(j .state_mismatch) == 0 ]] && echo 1 || echo 0)" \
		"$(j .state_mismatch) differ$( [[ $(j .state_mismatch) == 0 ]] || echo ": $(j .state_mismatch_kinds); analyze's most open records on one key: $(j .analyze_open_max_per_key)")"
	fig "$1_state_mismatch" "$(j .state_mismatch)"
	check "$1: no conflict recorded twice" "$([[ $(j .dup) == 0 ]] && echo 1 || echo 0)" "$(j .dup) duplicates of key+writes"
	# the API's largest page is 10,000 records
	check "$1: GET /v1/conflicts?state=all holds the ledger" \
		"$([[ $(j .api) == $(j "[.ledger, 10000] | min") ]] && echo 1 || echo 0)" \
		"API $(j .api) (limit=10000), ledger $(j .ledger)"
	check "$1: open diverged rows = rows that differ between the masters" \
		"$([[ "$(j '.diverged | join(",")')" == "$(j '.differ | join(",")')" ]] && echo 1 || echo 0)" \
		"ledger [$(j '.diverged | join(",")')], analyze [$(j '.diverged_analyze | join(",")')], differ [$(j '.differ | join(",")')]$( [[ $(j '.gaprows | length') == 0 ]] || echo "; rows the gap touched, left out: [$(j '.gaprows | join(",")')]")"
	check "$1: analyze ran (exit 0 or 1)" "$([[ $ANALYZE_RC -le 1 ]] && echo 1 || echo 0)" \
		"exit $ANALYZE_RC$( [[ -s $W/analyze.$1.err ]] && echo ": $(head -c 200 "$W/analyze.$1.err" | tr '\n' ' ')")"
	fig "$1_ledger" "$(j .ledger)"
	fig "$1_pairs" "$lp"
	fig "$1_analyze_pairs" "$ap"
	fig "$1_matched" "$mp"
	fig "$1_missing" "$mi"
	fig "$1_extra" "$ex"
	fig "$1_before_image" "$lb/$ab"
	fig "$1_dup" "$(j .dup)"
	fig "$1_gap_analyze" "$(j .pairs_gap_analyze)"
	if [[ -n "${2:-}" ]]; then
		check "$1: no conflict with a write the daemon never saw (doc/checkpoint.md, Gaps: not yet exact)" \
			"$([[ $(j .pairs_gap_ledger) == "$(j .pairs_gap_analyze)" ]] && echo 1 || echo 0)" \
			"ledger $(j .pairs_gap_ledger) ($(j .open_gap) open), analyze $(j .pairs_gap_analyze); open diverged rows, unscoped: ledger [$(j '.diverged_all | join(",")')], differ [$(j '.differ_all | join(",")')]"
	fi
	fig "$1_gap_ledger" "$(j .pairs_gap_ledger)"
}

# --------------------------------------------------------------- the run ----

ring_start -n 2 || exit 1
ring_sql 1 "CREATE DATABASE app;
	CREATE TABLE app.hot (id INT PRIMARY KEY, v INT NOT NULL, who VARCHAR(8) NOT NULL DEFAULT '', n INT NOT NULL DEFAULT 0);
	CREATE TABLE app.cold (id INT AUTO_INCREMENT PRIMARY KEY, origin VARCHAR(8), n INT, s VARCHAR(16000));
	USE app; INSERT INTO app.hot (id, v) SELECT seq, 0 FROM seq_1_to_$hot" || exit 1
ring_sync || exit 1
ring_write_config "$W/rw.conf" 127.0.0.1:0 "$W/state" >/dev/null || exit 1
cp "$W/rw.conf" "$W/rw.conf.orig"
: >"$W/rwd.log"
T0=$(now)
rwd_up || exit 1
poll 20 healthy || { bench_log "ringwatchd did not connect"; exit 1; }

FAULTS=() PURGED=0 SLOW_DIAG=
if ((short)); then
	sched=("5 link 1 2 6" "13 sigkill 2" "20 sigstop 5" "28 hup" "32 slow 50 6 0" "43 purge")
else
	# the faults of a cycle, spread evenly over the load; the second cycle
	# with the other link and the other master
	cyc1=("link 1 2 10" "sigkill 5" "sigstop 5" "master 2 10" "hup" "slow 200 20 1" "purge")
	cyc2=("link 2 1 10" "sigkill 5" "sigstop 5" "master 1 10" "hup" "slow 200 20 0" "purge")
	all=("${cyc1[@]}")
	((secs >= 400)) && all+=("${cyc2[@]}")
	sched=()
	for ((k = 0; k < ${#all[@]}; k++)); do
		sched+=("$(((secs - 30) * k / ${#all[@]} + 20)) ${all[k]}")
	done
fi

rss_sampler &
BG+=($!)
writers_start
LOAD0=$(elapsed)
say "load: $rate tx/s per master, $hot hot rows, ${secs} s; ${#sched[@]} faults"
next_blip=$((LOAD0 + 5))
k=0
while (($(elapsed) < LOAD0 + secs)); do
	t=$(elapsed)
	if ((k < ${#sched[@]})) && ((t >= LOAD0 + ${sched[k]%% *})); then
		read -r _ f args <<<"${sched[k]}"
		# shellcheck disable=SC2086
		"f_$f" $args || exit 1
		k=$((k + 1))
		next_blip=$(($(elapsed) + 5))
		continue
	fi
	if ((t >= next_blip)); then
		blip
		next_blip=$((t + 10))
	fi
	sleep 0.2
done
LOAD1=$(elapsed)
compare main || exit 1
report_compare main
touch "$W/stop.rss"

# RSS: the first and the last third of the load
read -r rss1 rss3 hwm_max < <(awk -v a="$LOAD0" -v b="$LOAD1" '
	{ third = ($1 - a) * 3 / (b - a) }
	$1 >= a && third < 1 && $3 > f { f = $3 }
	$1 <= b && third >= 2 && $3 > l { l = $3 }
	$4 > h { h = $4 }
	END { print f + 0, l + 0, h + 0 }' "$W/rss")
check "peak RSS flat: last third's max VmRSS within 20% of the first third's" \
	"$(awk -v f="$rss1" -v l="$rss3" 'BEGIN { print (f > 0 && l <= f * 1.2) ? 1 : 0 }')" \
	"first third $((rss1 / 1024)) MiB, last third $((rss3 / 1024)) MiB, largest VmHWM of any process $((hwm_max / 1024)) MiB"
fig rss_first_kib "$rss1"
fig rss_last_kib "$rss3"
fig hwm_max_kib "$hwm_max"
txw=$(ring_sql 1 "SELECT @@gtid_binlog_pos")

# ---------------------------------------------------------------- the gap ----
say "fault: a gap: ringwatchd killed, west's binlogs purged past its resume point"
writers_start
sleep 3
kill -KILL "$RWD_PID"
wait "$RWD_PID" 2>/dev/null
sleep 2
read -r gfile goff _ < <(resume_point "${RING_NAMES[1]}")
ring_sql 1 "FLUSH BINARY LOGS"
copy_binlogs 1
newest=$(ring_sql 1 "SHOW BINARY LOGS" | tail -n 1 | cut -f1)
purge_to 1 "$newest" || { bench_log "west: PURGE BINARY LOGS TO '$newest' left $(ring_sql 1 "SHOW BINARY LOGS" | head -n 1)"; exit 1; }
# the transactions in west's binlog from the resume point to the newest file:
# purged, never read by ringwatchd
: >"$W/gap.gtids"
for f in "$W/binlogs/${RING_NAMES[1]}"/*; do
	b=$(basename "$f")
	[[ "$b" < "$gfile" || ! "$b" < "$newest" ]] && continue
	"$RW" dump "$f" | jq -r --arg first "$([[ $b == "$gfile" ]] && echo 1)" --argjson off "$goff" \
		'select(.type == "MARIADB_GTID" and ($first == "" or .position >= $off)) | .gtid' >>"$W/gap.gtids"
done
off=$(logsize)
rwd_up || exit 1
gev=
if poll 20 st_has '.masters[0].gap != null'; then
	gev=$(st | jq -c '.masters[0].gap')
fi
check "fault gap: /v1/status shows the gap" "$([[ -n "$gev" ]] && echo 1 || echo 0)" \
	"${gev:-not shown} ($(wc -l <"$W/gap.gtids") transactions of west's binlog purged unread, from $gfile:$goff; $PURGE_TRIES tries to purge)"
check "fault gap: the log says so" "$(loghas "$off" 'GAP: ' && echo 1 || echo 0)" "$(logline "$off" 'GAP: ' | sed 's/^[^ ]* //' | cut -c1-160)"
check "fault gap: the gate fails its streams check" \
	"$(curl -s "$URL/v1/gate" | jq -e '.checks[] | select(.name == "streams") | (.ok == false and (.detail | test("gap")))' >/dev/null && echo 1 || echo 0)" \
	"$(curl -s "$URL/v1/gate" | jq -r '.checks[] | select(.name == "streams") | .detail')"
check "fault gap: ringwatch_master_gap 1" "$(curl -s "$URL/metrics" | grep -q "^ringwatch_master_gap{master=\"${RING_NAMES[1]}\"} 1" && echo 1 || echo 0)" \
	"$(curl -s "$URL/metrics" | grep '^ringwatch_master_gap' | paste -sd' ')"
gid=none
[[ -z "$gev" ]] || gid=$(jq -r '.id' <<<"$gev")
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/v1/gaps/$gid/ack")
check "fault gap: acknowledged, gone from /v1/status and the log says so" \
	"$([[ $code == 200 ]] && poll 5 st_has '.masters[0].gap == null' && loghas "$off" "gap $gid acknowledged" && echo 1 || echo 0)" \
	"POST /v1/gaps/$gid/ack: HTTP $code"
fault_done "PURGE BINARY LOGS past the resume point (gap)" "masters[west].gap ${gev:-null}; gate streams check failed; ringwatch_master_gap 1; after POST /v1/gaps/$gid/ack: null" \
	"$(logline "$off" 'GAP: ' | sed 's/^.*ringwatchd error: //' | cut -c1-90)"
if ((short)); then
	writers_stop
else
	tail_s=$((secs / 10 > 10 ? secs / 10 : 10))
	say "load for $tail_s s after the gap"
	end=$(($(elapsed) + tail_s))
	while (($(elapsed) < end)); do
		sleep 5
		blip
	done
	compare gap "$W/gap.gtids" || exit 1
	report_compare gap scoped
fi
kill -TERM "$RWD_PID"
wait "$RWD_PID"
rc=$?
RWD_PID=
check "a clean stop at the end" "$([[ $rc == 0 ]] && echo 1 || echo 0)" "exit $rc"

# ------------------------------------------------------------- the block ----
fig faults "${#FAULTS[@]}"
fig blips "$BLIPS"
unc=$(grep -c -e 'is not compared' -e 'not compared' "$W/rwd.log")
check "no transaction or row left uncompared (log)" "$([[ $unc == 0 ]] && echo 1 || echo 0)" "$unc lines"
cm() { jq -r "$1" "$W/compare.main"; }
echo
echo "== ringwatchd soak =="
echo "ring: 2 masters (MariaDB, binlog_row_metadata MINIMAL); app.hot $hot rows, app.cold"
echo "load: $((LOAD1 - LOAD0)) s, $rate tx/s per master (one writer each: hot-row updates, cold inserts and updates,"
echo "  multi-statement transactions); transactions by origin at the end of the load: $txw;"
echo "  $BLIPS blips (one link stopped for 0.5 s every 10 s between faults)"
echo "  writers (name, statements sent, client connections): $(paste -sd';' "$W/writers")"
echo "faults injected: ${#FAULTS[@]}; what /v1/status and the log showed while each lasted:"
while IFS=$'\t' read -r name stv lg; do
	echo "  - $name"
	echo "      /v1/status: $stv"
	echo "      log:        $lg"
done <"$W/faults.tsv"
echo "  binlog files purged while ringwatchd was down (no gap): $PURGED; gap: $(wc -l <"$W/gap.gtids") transactions of west purged unread"
[[ -z "$SLOW_DIAG" ]] || echo "  diagnostic: $SLOW_DIAG"
echo "conflicts (end of the load, every fault but the gap behind):"
echo "  ledger $(cm .ledger) records ($(cm '.kinds | to_entries | map("\(.key) \(.value)") | join(", ")')), GET /v1/conflicts $(cm .api)"
read -r lp ap mp mi ex < <(cm '.pairs | map(tostring) | join(" ")')
echo "  pairs: ledger $lp, ringwatch analyze $ap: matched $mp, missing $mi, extra $ex; duplicates $(cm .dup)"
echo "  before-image records: ledger/analyze $(cm '.bi[0]')/$(cm '.bi[1]'), matched $(cm '.bi[2]')"
echo "  open diverged rows [$(cm '.diverged | join(",")')] = rows that differ [$(cm '.differ | join(",")')]"
echo "  matched pairs whose state or diverged flag differ: $(cm .state_mismatch)$( [[ $(cm .state_mismatch) == 0 ]] || echo " ($(cm .state_mismatch_kinds))")"
if [[ -e "$W/compare.gap" ]]; then
	cg() { jq -r "$1" "$W/compare.gap"; }
	read -r lp ap mp mi ex < <(cg '.pairs | map(tostring) | join(" ")')
	echo "after the gap and $tail_s s more load, scoped (conflicts with a write purged unread left out):"
	echo "  pairs: ledger $lp, analyze $ap: matched $mp, missing $mi, extra $ex; duplicates $(cg .dup)"
	echo "  left out: conflicts with a write of the gap: analyze $(cg .pairs_gap_analyze), ledger $(cg .pairs_gap_ledger) ($(cg .open_gap) open)"
	echo "  unscoped, open diverged rows: ledger [$(cg '.diverged_all | join(",")')], differ [$(cg '.differ_all | join(",")')]"
	echo "  open diverged rows [$(cg '.diverged | join(",")')] = rows that differ [$(cg '.differ | join(",")')], rows the gap touched left out [$(cg '.gaprows | join(",")')]"
fi
echo "peak RSS: VmRSS max first third $((rss1 / 1024)) MiB, last third $((rss3 / 1024)) MiB; VmHWM max $((hwm_max / 1024)) MiB ($(awk '{ print $2 }' "$W/rss" | sort -u | wc -l) processes)"
echo "checks: $(grep -c '^ok' "$W/checks") passed, $FAILED failed"
grep '^not ok' "$W/checks" | sed 's/^/  /'
bench_machine
((FAILED == 0))
