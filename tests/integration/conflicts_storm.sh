#!/usr/bin/env bash
# A storm on one row: 17 updates on each master while the links are paused
# cross 289 times.  ringwatchd follows at most 256 open records on a row; the
# 33 oldest are marked superseded (said in the log and the metrics), not left
# open for good, and once a later write leaves both masters the same row no
# record on it stays open.  A restart hands the open ones back without
# reporting any twice.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir storm
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
# the records on row 1, by state and resolved_by
on_row() {
    curl -s "$RWD_URL/v1/conflicts?state=all&limit=1000" |
        jq -c '[.conflicts[] | select(.key.id == 1)] | group_by(.state + " " + (.resolved_by // ""))
            | map({(.[0].state + " " + (.[0].resolved_by // "")): length}) | add // {}'
}

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT NOT NULL);
    INSERT INTO app.t VALUES (1, 0)"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
t_ok "connected" wait_for 10 connected

ring_pause_link 1 2; ring_pause_link 2 1
for k in $(seq 17); do
    ring_sql 1 "UPDATE app.t SET v = $k WHERE id = 1"
    ring_sql 2 "UPDATE app.t SET v = $((100 + k)) WHERE id = 1"
done
ring_resume_link 1 2; ring_resume_link 2 1
ring_sync 30 || exit 99
all_found() { [ "$(curl -s "$RWD_URL/v1/conflicts?state=all&limit=1000" | jq '[.conflicts[] | select(.key.id == 1 and .kind == "update-update")] | length')" = 289 ]; }
t_ok "every crossing pair is found: 17 x 17" wait_for 30 all_found
settled() { [ "$(on_row)" = '{"open ":256,"resolved superseded":33}' ]; }
t_ok "256 stay open, the 33 oldest are superseded" wait_for 10 settled || t_diag "$(on_row)"
t_is "the rows differ, and the open ones say so" \
    "$(curl -s "$RWD_URL/v1/conflicts?limit=1000" | jq '[.conflicts[] | select(.key.id == 1 and .diverged)] | length')" 256
t_ok "the log says it" grep -q "no longer followed: more than 256 records are open on its row; marked superseded by " "$work/log"
t_ok "and the metrics" sh -c "curl -s '$RWD_URL/metrics' | grep -qx 'ringwatch_conflicts_superseded_total 33'"

# the restart: the 256 open ones are handed back, nothing is reported again
sleep 1.5 # a checkpoint
kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=
t_ok "ringwatchd starts again" rwd_start "$work/rw.conf" "$work/log2"
t_ok "connected" wait_for 10 connected
sleep 2
t_is "nothing new, nothing reopened" "$(on_row)" '{"open ":256,"resolved superseded":33}'

# a later write leaves both masters the same row
ring_sql 1 "UPDATE app.t SET v = 1000 WHERE id = 1"
ring_sync 30 || exit 99
none_open() { [ "$(on_row)" = '{"resolved engine":256,"resolved superseded":33}' ]; }
t_ok "a later write resolves every record left open on the row" wait_for 15 none_open || t_diag "$(on_row)"
t_is "no diverged row left" "$(curl -s "$RWD_URL/v1/status" | jq .conflicts.diverged_rows)" 0

# ringwatch analyze on the same binlogs says the same of every record
files() { ls "$RING_DIR/$1"/binlog.[0-9]* | paste -sd, -; }
"$RINGWATCH" analyze --master "west=$(files west)" --master "east=$(files east)" >"$work/analyze" 2>"$work/analyze.err"
states() { jq -c '[.conflicts[] | [.uid, .kind, .state, (.resolved_by // "")]] | sort'; }
t_is "analyze: the same records, each in the same state" \
    "$(states <"$work/analyze" | md5sum)" "$(curl -s "$RWD_URL/v1/conflicts?state=all&limit=1000" | states | md5sum)"
t_is "of them 33 superseded" "$(jq '[.conflicts[] | select(.resolved_by == "superseded")] | length' "$work/analyze")" 33
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
