#!/usr/bin/env bash
# A restart in the middle: ringwatchd sees west's write, is killed with
# SIGKILL, east writes the same row while it is down; started again, it
# resumes from the conflict engine's checkpoint (the oldest unsettled
# transaction), still finds the pair, and a further restart reports nothing
# twice.  Then the same with west's server down when ringwatchd starts, and a
# kill right after a write resolved a record.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir restart
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
norm() { tr ',' '\n' | sort | paste -sd, -; }
west_seen() {
    [ "$(curl -s "$RWD_URL/v1/status" | jq -r '.masters[0].position.gtid' | norm)" = \
        "$(ring_sql 1 "SELECT @@gtid_binlog_pos" | norm)" ]
}
uu() { curl -s "$RWD_URL/v1/conflicts?state=all" | jq '[.conflicts[] | select(.kind == "update-update")] | length'; }
found() { [ "$(uu)" = 1 ]; }

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO app.t VALUES (1, 'init')"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
t_ok "connected" wait_for 10 connected

ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 1"
t_ok "ringwatchd saw west's write" wait_for 10 west_seen
sleep 1.5 # a checkpoint or two
kill -9 "$RWD_PID"; wait "$RWD_PID" 2>/dev/null; RWD_PID=
ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = 1"
ring_resume_link 1 2; ring_resume_link 2 1
ring_sync

t_ok "ringwatchd starts again" rwd_start "$work/rw.conf" "$work/log2"
# the line is logged once the replica thread connected: after the HTTP port is up
resumed_at_mark() { grep -q "master west: connecting -> streaming.*the conflict engine's mark" "$work/log2"; }
t_ok "west resumed at the engine's mark" wait_for 15 resumed_at_mark ||
    t_diag "$(grep "master west" "$work/log2" | head -5)"
t_ok "the pair across the restart is found" wait_for 15 found
t_is "diverged" "$(curl -s "$RWD_URL/v1/conflicts?state=all" | jq -r '.conflicts[] | select(.kind == "update-update") | .diverged')" true
kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=
t_ok "and again" rwd_start "$work/rw.conf" "$work/log3"
t_ok "connected" wait_for 10 connected
sleep 2
t_is "nothing reported twice" "$(uu)" 1
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0

# A record a write resolves, and a kill right after it, before the engine's
# next checkpoint: started again, ringwatchd reads that write again; it must
# resolve the record again, not take the difference it ends for a new
# before-image finding.
ring_sql 1 "INSERT INTO app.t VALUES (3, 'init')"
ring_sync 20 || exit 99
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log6"
t_ok "connected" wait_for 10 connected
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 3"
ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = 3"
ring_resume_link 1 2; ring_resume_link 2 1
ring_sync 20
on3() { curl -s "$RWD_URL/v1/conflicts?state=all" | jq -c "[.conflicts[] | select(.key.id == 3) | [.kind, .state, .diverged]]"; }
diverged3() { [ "$(on3)" = '[["update-update","open",true]]' ]; }
t_ok "the rows of id 3 diverged" wait_for 15 diverged3
sleep 1.5 # the engine's checkpoint has the open record
before=$(curl -s "$RWD_URL/v1/conflicts?state=all" | jq '.conflicts | length')
ring_sql 1 "UPDATE app.t SET v = 'same' WHERE id = 3"
resolved3() { [ "$(on3)" = '[["update-update","resolved",false]]' ]; }
t_ok "a later write resolves it" wait_for 10 resolved3
kill -9 "$RWD_PID"; wait "$RWD_PID" 2>/dev/null; RWD_PID=
ring_sync 20
t_ok "ringwatchd starts again" rwd_start "$work/rw.conf" "$work/log7"
t_ok "connected" wait_for 10 connected
t_ok "west read to its end" wait_for 15 west_seen
sleep 2
t_is "no new record after the restart" "$(curl -s "$RWD_URL/v1/conflicts?state=all" | jq '.conflicts | length')" "$before"
t_is "the resolved one stays resolved, alone on its row" "$(on3)" '[["update-update","resolved",false]]'
t_is "nothing open on it" "$(curl -s "$RWD_URL/v1/conflicts" | jq '[.conflicts[] | select(.key.id == 3)] | length')" 0
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0

# The same with west down when ringwatchd starts again: its first connection
# fails, and the retries still replay from the engine's mark (not from the
# stream's own checkpoint, which is past west's write)
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log4"
t_ok "connected" wait_for 10 connected
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "INSERT INTO app.t VALUES (2, 'init'); UPDATE app.t SET v = 'west' WHERE id = 2"
t_ok "ringwatchd saw west's write" wait_for 10 west_seen
sleep 2.5 # the stream's own checkpoint (saved with the next heartbeat) past it
kill -9 "$RWD_PID"; wait "$RWD_PID" 2>/dev/null; RWD_PID=
ring_sql 2 "INSERT INTO app.t VALUES (2, 'east')"
ring_resume_link 1 2; ring_resume_link 2 1
ring_sync 20 2>/dev/null # the two inserts stop both links (1062): skipped below
for i in 1 2; do
    src=$((3 - i))
    ring_sql "$i" "STOP SLAVE '${RING_NAMES[$src]}'; SET @@default_master_connection = '${RING_NAMES[$src]}';
        SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '${RING_NAMES[$src]}'" 2>/dev/null
done
ring_stop_master 1
t_ok "ringwatchd starts with west down" rwd_start "$work/rw.conf" "$work/log5"
west_failed() { grep -q "master west: .*-> backoff" "$work/log5"; }
t_ok "west's first connection fails" wait_for 15 west_failed
ring_start_master 1 >/dev/null
t_ok "connected once west is back" wait_for 30 connected
ii() { curl -s "$RWD_URL/v1/conflicts?state=all" | jq '[.conflicts[] | select(.kind == "insert-insert")] | length'; }
ii_found() { [ "$(ii)" = 1 ]; }
t_ok "the pair across the restart is found" wait_for 15 ii_found
t_ok "west replays by file until it passes its own checkpoint" grep -q "master west: replays from .*(by file until it passes its own checkpoint)" "$work/log5"
first_west=$(grep -m1 "master west: connecting -> streaming" "$work/log5")
case $first_west in *"(the conflict engine's mark)"*) ok=1 ;; *) ok=0; t_diag "$first_west" ;; esac
t_is "the connection after the failed one replays from the engine's mark" "$ok" 1
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0

t_done
