#!/usr/bin/env bash
# ringwatchd reads every master's binlog as a replica against a real ring:
# events flow from every master, heartbeats keep an idle stream current, a
# master killed and restarted is followed again without losing anything,
# ringwatchd killed with SIGKILL resumes from its checkpoint, binlogs purged
# while it was down are reported as a gap, and an event over 16 MiB arrives.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq sqlite3 promtool mariadb-binlog

rwd_workdir streams

# status JQ: a jq expression over GET /v1/status
status() { curl -s "$RWD_URL/v1/status" | jq -r "$1"; }
# sorted GTID position, so that "2-2-1,1-1-5" equals "1-1-5,2-2-1"
norm() { tr ',' '\n' | sort | paste -sd, -; }
master_pos() { ring_sql "$1" "SELECT @@gtid_binlog_pos" | norm; }
seen_pos() { status ".masters[] | select(.name == \"$1\") | .position.gtid" | norm; }
# caught_up I: ringwatch's position for master I equals the master's own
caught_up() { [ "$(seen_pos "${RING_NAMES[$1]}")" = "$(master_pos "$1")" ]; }

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v LONGBLOB)"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts on the ring" rwd_start "$work/rw.conf" "$work/log"

# --- events from every master ---------------------------------------------------
for i in 1 2 3 4 5; do
    ring_sql 1 "INSERT INTO app.t VALUES ($i, 'w')"
    ring_sql 2 "INSERT INTO app.t VALUES ($((i + 100)), 'e')"
done
ring_sync
t_ok "west's stream reaches west's position" wait_for 10 caught_up 1
t_ok "east's stream reaches east's position" wait_for 10 caught_up 2
t_is "both connected" "$(status '[.masters[].connected] | all')" true
t_is "server ids known" "$(status '[.masters[].server_id] | join(",")')" "1,2"
n=$(status '.masters[0].transactions_total')
t_ok "transactions counted on west ($n >= 12)" test "$n" -ge 12
sleep 3
age=$(status '.masters[0].last_event_age_seconds')
t_ok "heartbeats keep an idle stream current (age $age s)" \
    awk -v a="$age" 'BEGIN { exit !(a < 2.5) }'
t_ok "metrics pass promtool" sh -c "curl -s '$RWD_URL/metrics' | promtool check metrics"
out=$("$RINGWATCH" status --url "$RWD_URL"); rc=$?
t_is "ringwatch status exits 0" "$rc" 0
t_ok "it lists both masters, streaming" sh -c "echo '$out' | grep -q '^west *streaming' && echo '$out' | grep -q '^east *streaming'"
t_ok "with the position ringwatch reached" sh -c "echo '$out' | grep -q \"$(seen_pos west | cut -d, -f1)\""
t_is "ringwatch status --json is the API's JSON" \
    "$("$RINGWATCH" status --url "$RWD_URL" --json | jq -r '.masters[1].name')" east
"$RINGWATCH" status --url http://127.0.0.1:1 2>/dev/null; t_is "no daemon: exit 2" "$?" 2

# --- links, as the SQL probes see them ------------------------------------------------
link() { status ".links[] | select(.source == \"$1\" and .replica == \"$2\") | $3"; }
link_is() { [ "$(link "$1" "$2" "$3")" = "$4" ]; }
t_ok "both links are ok" wait_for 10 sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '[.links[].state] | join(\" \")')\" = 'ok ok' ]"
lag=$(link west east .lag_seconds)
t_ok "ringwatch measured the lag west->east from the streams ($lag s)" \
    awk -v a="$lag" 'BEGIN { exit !(a != "null" && a >= 0 && a < 2) }'
ring_pause_link 1 2
t_ok "a paused link west->east shows its IO thread stopped" wait_for 10 link_is west east .io_running false
ring_sql 1 "INSERT INTO app.t VALUES (800, 'waits for the link')"
sleep 2
lag=$(link west east .lag_seconds)
t_ok "behind a paused link the lag grows ($lag s)" awk -v a="$lag" 'BEGIN { exit !(a >= 1.5) }'
t_ok "the lag metric shows it" sh -c "curl -s '$RWD_URL/metrics' | grep -q 'ringwatch_link_lag_seconds{source=\"west\",replica=\"east\"} [1-9]'"
t_is "and its SQL thread" "$(link west east .sql_running)" false
t_is "and the state broken" "$(link west east .state)" broken
gate_out=$("$RINGWATCH" gate --url "$RWD_URL"); rc=$?
t_is "ringwatch gate says no (exit 1)" "$rc" 1
t_ok "naming the stopped link" sh -c "echo '$gate_out' | grep -q '^replication: west→east: SQL thread stopped'"
t_is "GET /v1/gate answers 503" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/v1/gate")" 503
t_is "a bad max_lag is 400" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/v1/gate?max_lag=abc")" 400
t_ok "the gate metric" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_gate_check_ok{check=\"replication\"} 0'"
t_ok "ringwatch status shows it" sh -c "'$RINGWATCH' status --url '$RWD_URL' | grep -q '^west -> east *broken *no *no'"
t_ok "the metrics too" sh -c "curl -s '$RWD_URL/metrics' | grep -q 'ringwatch_link_io_running{source=\"west\",replica=\"east\"} 0'"
ring_resume_link 1 2
t_ok "resumed, the link is ok again" wait_for 10 link_is west east .state ok
t_ok "and the waiting transaction arrived (nothing pending)" wait_for 10 caught_up 2
# a real SQL error: east gets a row behind replication's back, then west writes the same key
ring_sql 2 "SET sql_log_bin = 0; INSERT INTO app.t VALUES (900, 'only on east')"
ring_sql 1 "INSERT INTO app.t VALUES (900, 'west')"
t_ok "the duplicate key stops east's SQL thread: code 1062" wait_for 10 link_is west east .last_error.code 1062
t_ok "with the server's message" sh -c "curl -s '$RWD_URL/v1/status' | jq -r '.links[] | select(.replica == \"east\") | .last_error.message' | grep -q 'Duplicate entry'"
t_ok "the error code metric" sh -c "curl -s '$RWD_URL/metrics' | grep -q 'ringwatch_link_last_error_code{source=\"west\",replica=\"east\"} 1062'"
# repair: drop east's stray row and let the SQL thread retry
ring_sql 2 "SET sql_log_bin = 0; DELETE FROM app.t WHERE id = 900; START SLAVE 'west'"
t_ok "repaired, the link is ok again" wait_for 15 link_is west east .state ok
ring_sync

# --- a master killed and started again ------------------------------------------
before=$(status '.masters[0].reconnects_total')
ring_kill 1
t_ok "the killed master shows disconnected" \
    wait_for 10 sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '.masters[0].connected')\" = false ]"
ring_sql 2 "INSERT INTO app.t VALUES (200, 'east while west is down')"
ring_start_master 1
for i in 6 7 8; do ring_sql 1 "INSERT INTO app.t VALUES ($i, 'w after')"; done
ring_sync
t_ok "west is followed again" wait_for 15 caught_up 1
after=$(status '.masters[0].reconnects_total')
t_ok "the reconnect counter rose ($before -> $after)" test "$after" -gt "$before"
t_ok "the outage is logged once, with the master's name" grep -q "master west: streaming -> backoff" "$work/log"

# --- ringwatchd killed with SIGKILL, then started again ------------------------------
kill -9 "$RWD_PID"; wait "$RWD_PID" 2>/dev/null; RWD_PID=
for i in 300 301 302; do ring_sql 2 "INSERT INTO app.t VALUES ($i, 'while ringwatchd is down')"; done
ring_sync
t_ok "ringwatchd starts again" rwd_start "$work/rw.conf" "$work/log2"
# it resumes where the conflict engine's checkpoint (saved at most once a
# second) says: the oldest transaction not yet seen by every master, or the
# last one it had read
from=$(wait_for 10 grep -q "master east: connecting -> streaming" "$work/log2";
    sed -n "s/.*master east: connecting -> streaming.* from \([^ ]*\):\([0-9]*\) (the conflict engine's mark).*/\1 \2/p" "$work/log2" | head -n 1)
t_ok "it resumed from its checkpoint ($from)" test -n "$from"
t_ok "east caught up after the restart" wait_for 10 caught_up 2
# how many of east's transactions lie from there to the end, by mariadb-binlog
file=${from% *}; off=${from#* }
expect=$(for f in "$RING_DIR"/east/binlog.[0-9]*; do
    case "$(basename "$f")" in
    "$file") mariadb-binlog --start-position="$off" "$f" ;;
    *) [[ "$(basename "$f")" > "$file" ]] && mariadb-binlog "$f" ;;
    esac
done 2>/dev/null | grep -cE 'GTID [0-9]+-[0-9]+-[0-9]+')
t_is "exactly the transactions from the checkpoint on are read again" \
    "$(status '.masters[1].transactions_total')" "$expect"
t_ok "at least the 3 written while it was down ($expect)" test "$expect" -ge 3

# --- an event over 16 MiB ---------------------------------------------------------
ring_sql 1 "SET GLOBAL max_allowed_packet = 64 * 1024 * 1024"
ring_sql 1 "SET SESSION max_allowed_packet = 64 * 1024 * 1024; INSERT INTO app.t VALUES (500, REPEAT('x', 20 * 1024 * 1024))" 2>/dev/null ||
    ring_sql 1 "INSERT INTO app.t VALUES (500, REPEAT('x', 20 * 1024 * 1024))"
t_ok "a 20 MiB row event arrives whole" wait_for 20 caught_up 1
t_is "and the stream stays up" "$(status '.masters[0].state')" streaming

# --- binlogs purged while ringwatchd is down: a gap, reported --------------------
kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=
for i in 1 2 3; do
    ring_sql 2 "INSERT INTO app.t VALUES ($((600 + i)), 'lost to ringwatch'); FLUSH BINARY LOGS"
done
ring_sync
# all but the active binlog; a file west's dump thread still holds is kept
# by the server, so try until only one is left
purged() {
    ring_sql 2 "PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 DAY" 2>/dev/null
    [ "$(ring_sql 2 "SHOW BINARY LOGS" | wc -l)" = 1 ]
}
t_ok "east's old binlogs are purged" wait_for 20 purged
t_ok "ringwatchd starts after the purge" rwd_start "$work/rw.conf" "$work/log3"
t_ok "the gap is logged" wait_for 10 grep -q "master east: GAP: cannot resume from" "$work/log3"
t_ok "the gap shows in /v1/status" \
    wait_for 10 sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '.masters[1].gap.id')\" != null ]"
t_ok "and in the metrics" sh -c "curl -s '$RWD_URL/metrics' | grep -q 'ringwatch_master_gap{master=\"east\"} 1'"
t_ok "and in the gate" sh -c "'$RINGWATCH' gate --url '$RWD_URL' | grep -q '^streams: .*east: gap [0-9]* not acknowledged'"
t_ok "reading went on from the oldest binlog" wait_for 10 caught_up 2
gap=$(status '.masters[1].gap.id')
t_is "acknowledging an unknown gap is 404" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RWD_URL/v1/gaps/99999/ack")" 404
t_is "acknowledging the gap" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RWD_URL/v1/gaps/$gap/ack")" 200
t_is "the gap is gone from /v1/status" "$(status '.masters[1].gap')" null
# (west is current once the probe has read its binlog's end since the restart)
streams_ok() { [ "$(curl -s "$RWD_URL/v1/gate" | jq -r '.checks[] | select(.name == "streams") | .ok')" = true ]; }
t_ok "and the streams check passes" wait_for 10 streams_ok ||
    t_diag "$(curl -s "$RWD_URL/v1/gate" | jq -c '.checks[] | select(.name == "streams")')"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_ok "the password appears in no log" sh -c "! grep -qF \"\$(cat '$RING_DIR/west.password')\" '$work'/log*"
t_done
