#!/usr/bin/env bash
# A three-master ring (west -> east -> north -> west): ringwatchd follows all
# three binlogs, and each holds every master's transactions.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir streams3
status() { curl -s "$RWD_URL/v1/status" | jq -r "$1"; }
norm() { tr ',' '\n' | sort | paste -sd, -; }
caught_up() {
    [ "$(status ".masters[$(($1 - 1))].position.gtid" | norm)" = \
        "$(ring_sql "$1" "SELECT @@gtid_binlog_pos" | norm)" ]
}

ring_start -n 3 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
# north over its unix socket instead of TCP
sed -i "/^\[master.north\]/,\$ { s|^host = .*|socket = ${RING_SOCKS[3]}|; /^port = /d }" "$work/rw.conf"
t_ok "ringwatchd starts on a three-master ring" rwd_start "$work/rw.conf" "$work/log"
for round in 1 2 3; do
    for i in 1 2 3; do ring_sql "$i" "INSERT INTO app.t (v) VALUES ($i)"; done
done
ring_sync
for i in 1 2 3; do
    t_ok "${RING_NAMES[$i]}'s stream reaches its position" wait_for 10 caught_up "$i"
done
t_is "three masters, all connected" "$(status '[.masters[] | select(.connected)] | length')" 3
t_is "each binlog holds all three domains" \
    "$(status '[.masters[].position.gtid | split(",") | length] | join(" ")')" "3 3 3"
t_is "north is reached over its socket" "$(status '.masters[2].socket')" "${RING_SOCKS[3]}"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0

# ssl_mode = required against a server without TLS: a clear error, no plain text
sed -i "/^\[master.west\]/a ssl_mode = required" "$work/rw.conf"
t_ok "ringwatchd starts with west requiring TLS" rwd_start "$work/rw.conf" "$work/log2"
t_ok "west is not connected, and says why" \
    wait_for 10 sh -c "curl -s '$RWD_URL/v1/status' | jq -r '.masters[0].last_error.message' | grep -qi 'ssl\|tls'"
t_is "west stays disconnected" "$(status '.masters[0].connected')" false
t_is "the others are unaffected" "$(status '[.masters[1,2].connected] | all')" true
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
