#!/usr/bin/env bash
# ringwatchd's own server_id taken by a server of the ring: the stream to
# the master whose @@server_id it is, and the stream to a master that server
# replicates from (a dump with a replica's server_id ends that replica's
# connection), stop at once with the clash named, without retrying in a
# loop, and connect again when a reload gives another server_id.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir server_id

ring_start -n 2 || exit 99
east_id=$(ring_sql 2 "SELECT @@server_id")
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i "s/^server_id = .*/server_id = $east_id/" "$work/rw.conf"
t_ok "ringwatchd starts with east's server_id ($east_id)" rwd_start "$work/rw.conf" "$work/log"
master() { curl -s "$RWD_URL/v1/status" | jq -r ".masters[] | select(.name == \"$1\") | $2"; }
stopped() { [ "$(master "$1" .state)" = stopped ]; }
t_ok "east's stream stops" wait_for 10 stopped east || t_diag "east: $(master east .)"
t_ok "naming the clash" sh -c "curl -s '$RWD_URL/v1/status' | jq -e '.masters[] | select(.name == \"east\") | .last_error.message | test(\"server_id $east_id is this master.s own @@server_id\")' >/dev/null"
t_ok "west's stream stops too: east replicates from west with that server_id" wait_for 10 stopped west ||
    t_diag "west: $(master west .)"
t_ok "naming east's replication" sh -c "curl -s '$RWD_URL/v1/status' | jq -e '.masters[] | select(.name == \"west\") | .last_error.message | test(\"server_id $east_id is that of (a|another) replica of this master\")' >/dev/null"
before=$(grep -c "server_id $east_id" "$work/log")
sleep 4
t_is "no retry loop: nothing more in the log after 4 s" "$(grep -c "server_id $east_id" "$work/log")" "$before"
t_is "nor reconnections" "$(master west .reconnects_total) $(master east .reconnects_total)" "0 0"
io_runs() { [ "$(ring_slave_field 2 1 Slave_IO_Running)" = Yes ]; }
t_ok "east's replication from west runs: ringwatchd left it alone" wait_for 10 io_runs
t_is "the gate is closed" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/v1/gate")" 503

sed -i "s/^server_id = .*/server_id = 4242001/" "$work/rw.conf"
kill -HUP "$RWD_PID"
streaming() { [ "$(master west .state) $(master east .state)" = "streaming streaming" ]; }
t_ok "a reload with another server_id connects both" wait_for 10 streaming || t_diag "$(curl -s "$RWD_URL/v1/status" | jq -c '.masters')"
t_is "and the clash is no longer the last error" "$(master west .last_error) $(master east .last_error)" "null null"

kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
ring_stop
t_done
