#!/usr/bin/env bash
# probe.sh - the SQL probes against a real MariaDB ring: both links healthy,
# a paused link, a real SQL error (1062) with its message, the variables, an
# old open transaction, and a killed master that fails the probe and recovers.
# Exit: 0 pass, 1 a check failed, 77 no server (skip), 99 no server in CI.
set -u
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"
# shellcheck source=tests/harness/ring.sh
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server

PROBE_RING="$top_builddir/tests/integration/probe_ring"
work=$(mktemp -d "${TMPDIR:-/tmp}/rw-probe.XXXXXX")
probe_pid=
# shellcheck disable=SC2016 # expanded when the trap runs
ring_on_exit '[ -z "$probe_pid" ] || kill -9 "$probe_pid" 2>/dev/null; rm -rf "$work"'

# has MASTER LINE: the master's latest probe letter holds the line exactly.
has() { grep -qxF -- "$2" "$work/out/$1.txt" 2>/dev/null; }
# val MASTER KEY: a value of the latest letter.
val() { sed -n "s/^$2=//p" "$work/out/$1.txt" 2>/dev/null | head -n 1; }
# all_of MASTER LINE...: every line at once (from one letter).
all_of() {
	local m=$1 l
	shift
	cp "$work/out/$m.txt" "$work/snap" 2>/dev/null || return 1
	for l in "$@"; do grep -qxF -- "$l" "$work/snap" || return 1; done
}
show() { t_diag "$1:"; sed 's/^/#   /' "$work/out/$1.txt" 2>/dev/null; }

ring_start -n 2 || { echo "Bail out! ring_start failed"; exit 1; }
# master 1 is west, master 2 east; east's link from west is named "west"
ring_write_config "$work/rw.conf" >/dev/null
mkdir -p "$work/out"
"$PROBE_RING" "$work/rw.conf" "$work/out" 0.2 2>"$work/probe.log" &
probe_pid=$!

# --- both links healthy ----------------------------------------------------
t_ok "west: links running, Seconds_Behind_Master 0" wait_for 20 all_of west \
	ok=1 mariadb=1 links=1 link.east.io=Yes link.east.sql=Yes link.east.sbm=0 \
	link.east.state=ok link.east.error_code=0 link.east.source=127.0.0.1:"${RING_PORTS[2]}"
t_ok "east: links running, Seconds_Behind_Master 0" wait_for 20 all_of east \
	ok=1 mariadb=1 links=1 link.west.io=Yes link.west.sql=Yes link.west.sbm=0 \
	link.west.state=ok link.west.error_code=0 link.west.source=127.0.0.1:"${RING_PORTS[1]}"
t_is "west's link names its source's server_id" "$(val west link.east.source_server_id)" 2
t_is "GTID mode seen" "$(val east link.west.using_gtid)" Slave_Pos
t_is "west auto_increment_offset" "$(val west var.auto_increment_offset)" 1
t_is "east auto_increment_offset" "$(val east var.auto_increment_offset)" 2
t_is "east auto_increment_increment" "$(val east var.auto_increment_increment)" 2
t_is "east server_id" "$(val east var.server_id)" 2
t_is "binlog_format" "$(val west var.binlog_format)" ROW
t_is "log_slave_updates" "$(val west var.log_slave_updates)" ON
t_is "gtid_domain_id" "$(val east var.gtid_domain_id)" 2
t_ok "version variable present" test -n "$(val west var.version)"
t_is "a MySQL-only variable is absent" "$(val west var.gtid_mode)" ""
t_is "trx age known (PROCESS granted)" "$(val west trx_known)" 1
t_is "no open transaction: age 0" "$(val west trx_age)" 0
t_is "one connection so far" "$(val west connects)" 1
# where west's binlog ends, as SHOW MASTER STATUS says on the idle ring
west_end=$(ring_sql 1 "SHOW MASTER STATUS" | awk '{print $1 ":" $2}')
t_ok "SHOW BINARY LOGS: west's binlog end" wait_for 10 has west "binlog_end=$west_end" ||
	t_diag "want $west_end, got $(val west binlog_end) ($(val west binlogs_error))"
t_is "its binlogs known" "$(val west binlogs_known)" 1
t_ok "the tables were read once (PROBE_SCHEMA letter)" wait_for 10 test -f "$work/out/west.schema"

# --- a paused link ---------------------------------------------------------
ring_pause_link 1 2
t_ok "paused west->east: both threads not running" wait_for 20 all_of east \
	ok=1 link.west.io=No link.west.sql=No link.west.state=broken link.west.sbm=NULL
t_ok "the other link is untouched" all_of west link.east.io=Yes link.east.sql=Yes
ring_resume_link 1 2
t_ok "resumed: running again" wait_for 20 all_of east link.west.io=Yes link.west.sql=Yes \
	link.west.state=ok

# --- a real SQL error --------------------------------------------------------
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))"
ring_sync 30 || t_diag "ring_sync failed"
ring_sql 2 "SET sql_log_bin=0; INSERT INTO app.t VALUES (1, 'east only')"
ring_sql 1 "INSERT INTO app.t VALUES (1, 'west')"
t_ok "east's SQL thread stopped with 1062" wait_for 20 all_of east \
	link.west.sql=No link.west.io=Yes link.west.error_code=1062 link.west.state=broken
msg=$(val east link.west.error)
t_ok "the message is the server's ($msg)" \
	test "$msg" = "$(ring_slave_field 2 1 Last_SQL_Error)"
case $msg in *"Duplicate entry '1'"*) dup=1 ;; *) dup=0 ;; esac
t_is "the message names the duplicate" "$dup" 1
t_ok "the probe itself is fine" has east ok=1
# repair: drop the local row, let the replicated insert apply
ring_sql 2 "SET sql_log_bin=0; DELETE FROM app.t WHERE id = 1; START SLAVE 'west'"
t_ok "repaired: the link is ok again" wait_for 20 all_of east link.west.sql=Yes \
	link.west.error_code=0 link.west.state=ok

# --- the oldest open transaction --------------------------------------------
ring_sql 1 "START TRANSACTION WITH CONSISTENT SNAPSHOT; SELECT SLEEP(4); COMMIT" >/dev/null &
trx_pid=$!
t_ok "an open transaction's age is seen" wait_for 10 sh -c \
	"a=\$(sed -n 's/^trx_age=//p' '$work/out/west.txt'); [ \"\${a:-0}\" -ge 2 ]"
wait "$trx_pid"
t_ok "and goes back to 0 after COMMIT" wait_for 10 has west trx_age=0

# --- a killed master -------------------------------------------------------
ring_kill 1
t_ok "killed west: the probe fails" wait_for 20 has west ok=0
err=$(val west error)
t_ok "with a reason ($err)" test -n "$err"
t_ok "and a client error code" test "$(val west err_code)" -ge 2000
t_ok "east sees its link from west not running" wait_for 20 all_of east ok=1 \
	link.west.state=broken
t_is "no variables from a failed probe" "$(grep -c '^var\.' "$work/out/west.txt")" 0
ring_start_master 1
t_ok "restarted west: the probe recovers" wait_for 30 all_of west ok=1 link.east.io=Yes \
	link.east.sql=Yes
t_is "on a new connection" "$(val west connects)" 2
t_ok "east's link from west recovers" wait_for 30 all_of east link.west.state=ok
t_ok "no secret in any letter" sh -c "! grep -rqF -- \"\$(cat '$RING_DIR/west.password')\" '$work/out'"

# --- stopping --------------------------------------------------------------
kill -TERM "$probe_pid"
wait "$probe_pid"
rc=$?
probe_pid=
t_is "the probes stop cleanly on SIGTERM" "$rc" 0
n=$(wc -l <"$work/out/rounds.log")
t_ok "rounds kept coming ($n letters)" test "$n" -gt 20
[ "$t_failed" -eq 0 ] || { show west; show east; sed 's/^/#   /' "$work/probe.log"; }
t_done
