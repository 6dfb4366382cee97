#!/usr/bin/env bash
# harness.sh - integration test of tests/harness/ring.sh on real MariaDB.
# Exit: 0 pass, 1 a check failed, 77 no server (skip), 99 no server in CI.
set -u

if [[ -z "${srcdir:-}" ]]; then
	srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
RING_SH="$srcdir/tests/harness/ring.sh"
# shellcheck source=tests/harness/ring.sh
. "$RING_SH"
ring_require_server

T=0 FAILED=0
ok() { T=$((T + 1)); echo "ok $T - $1"; }
not_ok() { T=$((T + 1)); FAILED=$((FAILED + 1)); echo "not ok $T - $1"; }
# check DESCRIPTION COMMAND...: one TAP line from COMMAND's status.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
bail() { echo "Bail out! $1"; exit 1; }
note() { echo "# $*"; }
# eq SQL_RESULT EXPECTED: compare, and say what differed.
eq() {
	[[ "$1" == "$2" ]] && return 0
	note "got '$1', want '$2'"
	return 1
}
now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((10#$t / 1000)); }
secs_since() { local d=$(($(now_ms) - $1)); printf '%d.%03d' $((d / 1000)) $((d % 1000)); }
# no_procs DIR: no process mentions DIR on its command line.
no_procs() {
	local p
	if command -v pgrep >/dev/null; then
		p=$(pgrep -f -- "$1/" || true)
	else
		p=$(_ring_sweep "$1")
	fi
	[[ -z "$p" ]] && return 0
	note "left behind: $(ps -o pid=,args= -p "${p//$'\n'/,}" 2>/dev/null)"
	return 1
}
gone() { [[ ! -e "$1" ]] || { note "$1 still exists"; return 1; }; }
# proc_gone PID: no such process, or only a zombie nobody reaped.
proc_gone() {
	local s
	[[ -r /proc/$1/stat ]] || return 0
	s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 0
	[[ "$s" == Z || -z "$s" ]]
}

T_ALL=$(now_ms)

# ------------------------------------------------------------ 2-master ring
t0=$(now_ms)
ring_start || bail "a two-master ring did not start"
ok "two-master ring starts (ring_start ${RING_START_SECONDS}s, wall $(secs_since "$t0")s)"
DIR2=$RING_DIR

check "ring.env is written and names the masters" \
	bash -c '. "$1" && [[ $RING_N == 2 && ${RING_NAMES[1]} == west && ${RING_NAMES[2]} == east && -n ${RING_PORTS[2]} ]]' _ "$RING_DIR/ring.env"

check "slave connections are named after their source" \
	eq "$(ring_slave_field 1 2 Connection_name)/$(ring_slave_field 2 1 Connection_name)" "east/west"

ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, origin VARCHAR(16) NOT NULL)" ||
	bail "cannot create a table on west"
ring_sql 1 "INSERT INTO app.t (origin) VALUES ('west1')"
t0=$(now_ms)
check "ring_sync after a write on west" ring_sync 30
note "ring_sync took $(secs_since "$t0")s"
check "a write on west reaches east" eq "$(ring_sql 2 "SELECT COUNT(*) FROM app.t WHERE origin='west1'")" 1

ring_sql 2 "INSERT INTO app.t (origin) VALUES ('east1')"
ring_sync 30
check "a write on east reaches west" eq "$(ring_sql 1 "SELECT COUNT(*) FROM app.t WHERE origin='east1'")" 1

t0=$(now_ms)
ring_sync 30
note "ring_sync when already in sync took $(secs_since "$t0")s"

for k in 1 2 3 4 5; do
	ring_sql 1 "INSERT INTO app.t (origin) VALUES ('w')" &
	ring_sql 2 "INSERT INTO app.t (origin) VALUES ('e')" &
	wait
done
ring_sync 30
ids_ok() {
	local i a b
	for i in 1 2; do
		a=$(ring_sql "$i" "SELECT COUNT(*), COUNT(DISTINCT id), SUM(origin LIKE 'w%' AND id % 2 = 1) + SUM(origin LIKE 'e%' AND id % 2 = 0) FROM app.t")
		eq "$a" $'12\t12\t12' || return 1
	done
	a=$(ring_sql 1 "SELECT GROUP_CONCAT(id, origin ORDER BY id) FROM app.t")
	b=$(ring_sql 2 "SELECT GROUP_CONCAT(id, origin ORDER BY id) FROM app.t")
	eq "$a" "$b"
}
check "auto_increment values from the two sides do not collide (west odd, east even)" ids_ok

# ------------------------------------------------------------- pause link
check "ring_pause_link west->east" ring_pause_link 1 2
check "east shows Slave_IO_Running=No for 'west' while paused" \
	eq "$(ring_slave_field 2 1 Slave_IO_Running)/$(ring_slave_field 2 1 Slave_SQL_Running)" "No/No"
ring_sql 1 "INSERT INTO app.t (origin) VALUES ('paused')"
sleep 0.5
check "a write on west does not reach east while the link is paused" \
	eq "$(ring_sql 2 "SELECT COUNT(*) FROM app.t WHERE origin='paused'")" 0
check "ring_sync returns non-zero while the link is paused" eval '! ring_sync 1 2>/dev/null'
ring_resume_link 1 2
check "after ring_resume_link the write arrives" ring_sync 30
check "east has the paused write" eq "$(ring_sql 2 "SELECT COUNT(*) FROM app.t WHERE origin='paused'")" 1
check "east shows Slave_IO_Running=Yes after resume" eq "$(ring_slave_field 2 1 Slave_IO_Running)" Yes

# --------------------------------------------------------- kill / restart
west_pid=$(cat "$RING_DIR/west.spawn")
ring_sql 1 "INSERT INTO app.t (origin) VALUES ('pre-kill')"
check "ring_kill west" ring_kill 1
check "west's mariadbd is gone after ring_kill" proc_gone "$west_pid"
ring_sql 2 "INSERT INTO app.t (origin) VALUES ('while-west-down')"
t0=$(now_ms)
check "ring_start_master west" ring_start_master 1
note "ring_start_master took $(secs_since "$t0")s"
check "replication continues after kill and restart" ring_sync 30
check "west got the write made while it was down" \
	eq "$(ring_sql 1 "SELECT COUNT(*) FROM app.t WHERE origin='while-west-down'")" 1
check "west's last write before SIGKILL survived and reached east" \
	eq "$(ring_sql 1 "SELECT COUNT(*) FROM app.t WHERE origin='pre-kill'")/$(ring_sql 2 "SELECT COUNT(*) FROM app.t WHERE origin='pre-kill'")" 1/1
ring_sql 1 "INSERT INTO app.t (origin) VALUES ('after-restart')"
ring_sync 30
check "a write on restarted west reaches east" \
	eq "$(ring_sql 2 "SELECT COUNT(*) FROM app.t WHERE origin='after-restart'")" 1

check "ring_stop_master east" ring_stop_master 2
ring_sql 1 "INSERT INTO app.t (origin) VALUES ('east-stopped')"
check "ring_start_master east after a clean stop" ring_start_master 2
check "east catches up after a clean restart" ring_sync 30
check "east got the write made while it was stopped" \
	eq "$(ring_sql_name east "SELECT COUNT(*) FROM app.t WHERE origin='east-stopped'")" 1

# --------------------------------------------------------- config, grants
CONF="$RING_DIR/ringwatchd.ini"
listen=$(ring_write_config "$CONF")
config_ok() {
	[[ "$listen" =~ ^127\.0\.0\.1:[0-9]+$ ]] || { note "listen '$listen'"; return 1; }
	grep -qx "listen = $listen" "$CONF" && grep -qx "server_id = 4242001" "$CONF" &&
		grep -qx "\[master.west\]" "$CONF" && grep -qx "\[master.east\]" "$CONF" &&
		grep -qx "port = ${RING_PORTS[2]}" "$CONF" &&
		grep -qx "password_file = $RING_DIR/east.password" "$CONF" &&
		grep -qx "state_dir = $RING_DIR/state" "$CONF" && [[ -d "$RING_DIR/state" ]]
}
check "ring_write_config writes the ring's INI and prints the listen address" config_ok
check "password files are mode 600" eq "$(stat -c %a "$RING_DIR/west.password" "$RING_DIR/east.password" | tr '\n' ' ')" "600 600 "
ringwatch_login() {
	local i out
	for i in 1 2; do
		out=$("$_RING_CLIENT" --no-defaults -h 127.0.0.1 -P "${RING_PORTS[i]}" -u ringwatch \
			-p"$(cat "$RING_DIR/${RING_NAMES[i]}.password")" -N -B \
			-e "SHOW BINARY LOGS; SHOW ALL SLAVES STATUS; SELECT COUNT(*) FROM app.t") || return 1
		[[ -n "$out" ]] || return 1
	done
}
check "the ringwatch user logs in over TCP and has its grants" ringwatch_login
check "setup wrote nothing to the binlog (no replicated CREATE USER)" \
	eq "$(ring_sql 1 "SELECT COUNT(*) FROM mysql.user WHERE user='ringwatch'")/$(ring_sql 1 'SHOW BINLOG EVENTS' | grep -ci 'create user')" "2/0"

ring_stop
check "ring_stop leaves no process" no_procs "$DIR2"
check "ring_stop removes the ring dir" gone "$DIR2"
check "ring_stop is idempotent" ring_stop

# ------------------------------------------------------------ 3-master ring
t0=$(now_ms)
if ring_start -n 3 --compress --row-image MINIMAL --row-metadata FULL; then
	ok "three-master ring starts (ring_start ${RING_START_SECONDS}s, wall $(secs_since "$t0")s)"
	check "ring topology: north<-east, east<-west, west<-north" \
		eq "$(ring_slave_field 3 2 Master_Port)/$(ring_slave_field 2 1 Master_Port)/$(ring_slave_field 1 3 Master_Port)" \
		"${RING_PORTS[2]}/${RING_PORTS[1]}/${RING_PORTS[3]}"
	check "options reach the servers" eq "$(ring_sql 3 'SELECT @@log_bin_compress, @@binlog_row_image, @@binlog_row_metadata, @@auto_increment_increment, @@auto_increment_offset, @@gtid_domain_id, @@server_id')" \
		$'1\tMINIMAL\tFULL\t3\t3\t3\t3'
	ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, origin VARCHAR(16))"
	ring_sql 1 "INSERT INTO app.t (origin) VALUES ('one')"
	check "a write on master 1 reaches master 3 (through 2)" ring_wait_for 3 "SELECT origin FROM app.t" one 30
	check "and comes back around to master 1 (ring_sync)" ring_sync 30
	ring_sql 3 "INSERT INTO app.t (origin) VALUES ('three')"
	ring_sync 30
	check "a write on master 3 reaches masters 1 and 2" \
		eq "$(ring_sql 1 "SELECT GROUP_CONCAT(origin ORDER BY id) FROM app.t")/$(ring_sql 2 "SELECT GROUP_CONCAT(origin ORDER BY id) FROM app.t")" \
		"one,three/one,three"
	DIR3=$RING_DIR
	ring_stop
	check "three-master ring torn down" eval "no_procs '$DIR3' && gone '$DIR3'"
else
	not_ok "three-master ring starts"
fi

# ------------------------------------------------------------ teardown
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ringwatch-harness-test.XXXXXX")
ring_on_exit "rm -rf '$WORK'"

# run_child NAME SCRIPT: start a bash that sources ring.sh, runs SCRIPT, and
# writes its ring dir and watchdog pid into $WORK/NAME.dir / NAME.wd.
run_child() {
	local name=$1 body=$2
	RING_SH=$RING_SH OUT="$WORK/$name" bash -c '
		. "$RING_SH"
		'"$body"'
	' >"$WORK/$name.log" 2>&1 &
	CHILD=$!
}
wait_file() {
	local k
	for ((k = 0; k < 600; k++)); do [[ -s "$1" ]] && return 0; sleep 0.05; done
	return 1
}
child_torn_down() {
	local dir wd
	dir=$(cat "$WORK/$1.dir") wd=$(cat "$WORK/$1.wd")
	[[ -n "$dir" ]] || return 1
	no_procs "$dir" && gone "$dir" && proc_gone "$wd"
}

run_child sigterm '
	ring_on_exit "touch \"$OUT.exitcmd\""
	ring_start
	cat "$RING_DIR/.watchdog.pid" >"$OUT.wd"
	echo "$RING_DIR" >"$OUT.dir"
	while :; do sleep 0.1; done'
if wait_file "$WORK/sigterm.dir"; then
	kill -TERM "$CHILD"
	wait "$CHILD"
	rc=$?
	check "a child killed by SIGTERM exits 143" eq "$rc" 143
	check "SIGTERM: ring torn down (no process, no dir, no watchdog)" child_torn_down sigterm
	check "SIGTERM: ring_on_exit commands ran" test -e "$WORK/sigterm.exitcmd"
else
	not_ok "child ring (SIGTERM case) started"
	sed 's/^/# /' "$WORK/sigterm.log"
	kill "$CHILD" 2>/dev/null
fi

run_child errexit '
	set -e
	ring_start
	cat "$RING_DIR/.watchdog.pid" >"$OUT.wd"
	echo "$RING_DIR" >"$OUT.dir"
	false
	echo "not reached" >"$OUT.reached"'
wait "$CHILD"
rc=$?
check "a child failing under set -e keeps its status" eq "$rc" 1
check "set -e failure: ring torn down" child_torn_down errexit
check "set -e failure: the script stopped at the failure" test ! -e "$WORK/errexit.reached"

run_child sigkill '
	ring_start
	cat "$RING_DIR/.watchdog.pid" >"$OUT.wd"
	echo "$RING_DIR" >"$OUT.dir"
	while :; do sleep 0.1; done'
if wait_file "$WORK/sigkill.dir"; then
	kill -KILL "$CHILD"
	wait "$CHILD" 2>/dev/null
	watchdog_done() {
		local k
		for ((k = 0; k < 100; k++)); do
			child_torn_down sigkill >/dev/null 2>&1 && return 0
			sleep 0.1
		done
		child_torn_down sigkill
	}
	check "SIGKILL of the owner: the watchdog tears the ring down" watchdog_done
else
	not_ok "child ring (SIGKILL case) started"
	sed 's/^/# /' "$WORK/sigkill.log"
fi

note "total $(secs_since "$T_ALL")s"
echo "1..$T"
((FAILED == 0)) || exit 1
exit 0
