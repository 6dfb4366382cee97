#!/usr/bin/env bash
# A restart in the middle: ringwatchd sees west's write, is killed with
# SIGKILL, east writes the same row while it is down; started again, it
# resumes from the conflict engine's checkpoint (the oldest unsettled
# transaction), still finds the pair, and a further restart reports nothing
# twice.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

work=$(mktemp -d "${TMPDIR:-/tmp}/rw-restart.XXXXXX")
RWD_PID=
ring_on_exit 'if [ -n "$RWD_PID" ]; then kill -9 "$RWD_PID" 2>/dev/null; fi; [ -n "${RW_KEEP_WORK:-}" ] || rm -rf "$work"'
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
t_ok "west resumed at the engine's mark" grep -q "master west: connecting -> streaming.*the conflict engine's mark" "$work/log2"
t_ok "the pair across the restart is found" wait_for 15 found
t_is "diverged" "$(curl -s "$RWD_URL/v1/conflicts?state=all" | jq -r '.conflicts[] | select(.kind == "update-update") | .diverged')" true
kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=
t_ok "and again" rwd_start "$work/rw.conf" "$work/log3"
t_ok "connected" wait_for 10 connected
sleep 2
t_is "nothing reported twice" "$(uu)" 1
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
