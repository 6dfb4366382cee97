#!/usr/bin/env bash
# An acknowledged gap stays acknowledged: east's binlogs are purged while
# ringwatchd is down and east writes nothing afterwards; ringwatchd reports
# the gap, someone acknowledges it, and after a clean restart (twice) east's
# stream resumes where the acknowledgement moved it, with no gap again.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir state-gap

status() { curl -s "$RWD_URL/v1/status" | jq -r "$1"; }
norm() { tr ',' '\n' | sort | paste -sd, -; }
caught_up() {
    [ "$(status ".masters[$1].position.gtid" | norm)" = \
        "$(ring_sql $(($1 + 1)) "SELECT @@gtid_binlog_pos" | norm)" ]
}
connected() { [ "$(status '[.masters[].connected] | all')" = true ]; }
stop_rwd() { kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=; }
gaps() { grep -c "master east: GAP" "$1"; }

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT)"
for i in 1 2 3; do ring_sql 2 "INSERT INTO app.t VALUES ($i, $i)"; done
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log1"
t_ok "it reads east to its end" wait_for 15 caught_up 1
sleep 1.5 # a checkpoint of the engine and of the stream
stop_rwd
t_is "a clean stop" "$rc" 0

# east's binlogs go; no transaction follows on either master
for i in 4 5; do ring_sql 2 "INSERT INTO app.t VALUES ($i, $i); FLUSH BINARY LOGS"; done
ring_sync
purged() {
    ring_sql 2 "PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 DAY" 2>/dev/null
    [ "$(ring_sql 2 "SHOW BINARY LOGS" | wc -l)" = 1 ]
}
t_ok "east's binlogs but the active one are purged" wait_for 20 purged

t_ok "ringwatchd starts after the purge" rwd_start "$work/rw.conf" "$work/log2"
t_ok "the gap is reported" wait_for 15 sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '.masters[1].gap.id')\" != null ]"
t_ok "reading went on from the oldest binlog" wait_for 15 caught_up 1
gap=$(status '.masters[1].gap.id')
t_is "the gap is acknowledged" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RWD_URL/v1/gaps/$gap/ack")" 200
t_is "it is gone from /v1/status" "$(status '.masters[1].gap')" null
sleep 1.5
stop_rwd
t_is "a clean stop" "$rc" 0

for run in 3 4; do
    t_ok "ringwatchd starts again ($run)" rwd_start "$work/rw.conf" "$work/log$run"
    t_ok "connected" wait_for 15 connected
    t_ok "east is read to its end" wait_for 15 caught_up 1
    sleep 2
    t_is "no gap in /v1/status" "$(status '.masters[1].gap')" null
    t_is "no gap in the log" "$(gaps "$work/log$run")" 0
    t_is "the streams check passes" \
        "$(curl -s "$RWD_URL/v1/gate?checks=streams" | jq -r '.checks[0].ok')" true
    stop_rwd
    t_is "a clean stop" "$rc" 0
done

# a transaction on east after all: read once, as always
ring_sql 2 "INSERT INTO app.t VALUES (6, 6)"
ring_sync
t_ok "ringwatchd starts once more" rwd_start "$work/rw.conf" "$work/log5"
t_ok "east's new transaction is read" wait_for 15 caught_up 1
t_is "no gap" "$(status '.masters[1].gap')" null
t_is "and none in the log" "$(gaps "$work/log5")" 0
stop_rwd
t_done
