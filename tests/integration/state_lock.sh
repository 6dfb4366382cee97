#!/usr/bin/env bash
# One ringwatchd per state_dir: a second one started on the same state_dir
# exits 2 at once, naming the first by its pid, and the first goes on
# recording each conflict once.  The state_dir ringwatchd creates is 0700 and
# its files 0600.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir state-lock
state=$work/new/state
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
# ends_within SECONDS PID: the process ends by then, its exit status in rc (else it is killed)
ends_within() {
    if wait_for "$1" sh -c "! kill -0 $2"; then wait "$2"; rc=$?; return 0; fi
    kill -9 "$2"; wait "$2" 2>/dev/null; rc=killed
    return 1
}
n_uu() { [ "$(curl -s "$RWD_URL/v1/conflicts?state=all" | jq '[.conflicts[] | select(.kind == "update-update")] | length')" = "$1" ]; }

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO app.t VALUES (1, 'init')"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/unused" >/dev/null
sed -i "s|^state_dir = .*|state_dir = $state|" "$work/rw.conf"

umask 022 # what a umask lets through is not what the state files get
t_ok "ringwatchd starts, making its state_dir" rwd_start "$work/rw.conf" "$work/log1"
first=$RWD_PID
t_ok "connected" wait_for 15 connected
t_is "the state_dir it made is 0700" "$(stat -c %a "$state")" 700
for f in ringwatch.db ringwatch.db-wal ringwatch.db-shm ringwatchd.lock; do
    t_is "$f is 0600" "$(stat -c %a "$state/$f" 2>&1)" 600
done
t_is "the lock file holds its pid" "$(cat "$state/ringwatchd.lock")" "$first"

# a second ringwatchd on the same state_dir (another port: listen is port 0)
"$RINGWATCHD" -c "$work/rw.conf" 2>"$work/log2" &
t_ok "a second ringwatchd on the same state_dir stops at once" ends_within 15 $!
t_is "exit 2" "$rc" 2
t_ok "naming the process that holds the state_dir" \
    grep -qF "state: state_dir $state is in use by process $first (it holds $state/ringwatchd.lock)" "$work/log2"
t_ok "it never listened" sh -c "! grep -q 'listening on' '$work/log2'"

# the first goes on, alone
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 1"
ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = 1"
ring_resume_link 1 2; ring_resume_link 2 1
t_ok "the first records the conflict" wait_for 15 n_uu 1
sleep 2
t_is "once" "$(curl -s "$RWD_URL/v1/conflicts?state=all" | jq '[.conflicts[] | select(.kind == "update-update")] | length')" 1
t_ok "no UNIQUE constraint failed in its log" sh -c "! grep -q 'UNIQUE constraint failed' '$work/log1'"
t_ok "nor an error of the state" sh -c "! grep -q 'error: state:' '$work/log1'"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_ok "then the state_dir is free again" rwd_start "$work/rw.conf" "$work/log3"
t_ok "connected" wait_for 15 connected
t_is "and the lock file holds the new pid" "$(cat "$state/ringwatchd.lock")" "$RWD_PID"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=
t_done
