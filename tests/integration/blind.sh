#!/usr/bin/env bash
# The conflict engine's bound: with a link stalled, writes that have not
# reached every master pile up; past max_tracked_writes the engine says it
# is blind (log, metric, gate) instead of forgetting silently, and recovers
# once the link catches up.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir blind
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
blind_is() { curl -s "$RWD_URL/metrics" | grep -qx "ringwatch_tracking_blind $1"; }
tracking() { curl -s "$RWD_URL/v1/gate" | jq -r '.checks[] | select(.name == "tracking") | .ok'; }

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT)"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i 's/^\[ringwatchd\]/[ringwatchd]\nmax_tracked_writes = 50/' "$work/rw.conf"
t_ok "ringwatchd starts with max_tracked_writes = 50" rwd_start "$work/rw.conf" "$work/log"
t_ok "connected" wait_for 10 connected
t_ok "not blind" blind_is 0
t_is "the gate's tracking check passes" "$(tracking)" true

ring_pause_link 1 2
for i in $(seq 1 120); do echo "INSERT INTO app.t VALUES ($i, $i);"; done | ring_sql 1
t_ok "with west->east stalled and 120 writes waiting, the engine is blind" wait_for 10 blind_is 1
t_is "the gate's tracking check fails" "$(tracking)" false
t_ok "it says why" sh -c "curl -s '$RWD_URL/v1/gate' | jq -r '.checks[] | select(.name == \"tracking\") | .detail' | grep -q '^blind'"
t_ok "and logs it" grep -q "conflict engine BLIND" "$work/log"

ring_resume_link 1 2
ring_sync
t_ok "once the link caught up, it tracks every write again" wait_for 20 blind_is 0
t_is "the gate's tracking check passes again" "$(tracking)" true
t_ok "and says so" grep -q "conflict engine tracks every write again" "$work/log"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
