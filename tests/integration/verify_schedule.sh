#!/usr/bin/env bash
# Scheduled verification on a real ring (doc/verify.md, "Scheduled").
# Without a schedule nothing starts by itself; a reload that sets
# `[verify] schedule = 1m` is taken, and with nobody calling POST /v1/verify
# the first job starts at the next look at the schedule (none ever ran) and
# finds a row changed on one master with sql_log_bin=0; every later job
# starts when the last one ended a minute ago, checked every ten seconds:
# never before, at most one look late, and once, finding what changed
# since.  A reload with a schedule under the minimum is refused and the
# running schedule kept.  A restart in the middle of a period waits for the
# rest of it instead of starting at once, and leaves the drift records as
# they were: the transaction its streams read again is older than them.  A
# schedule under the minimum stops the start with exit 2, naming the file
# and the line.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq promtool

t_begin=$(date +%s)
rwd_workdir verify_schedule
vstatus() { curl -s "$RWD_URL/v1/status" | jq -r ".verify | $1"; }
conflicts() { curl -s "$RWD_URL/v1/conflicts?state=all&limit=1000" | jq -r "$1"; }
metric() { curl -s "$RWD_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
job_is() { [ "$(vstatus .job)" = "$1" ]; }
done_is() { [ "$(vstatus '"\(.job) \(.state)"')" = "$1 done" ]; }
running_seen() { [ "$(metric ringwatch_verify_running)" = 1 ]; }
# unix seconds of an ISO 8601 time of the API (milliseconds kept)
unix() { date -u -d "$1" +%s.%3N; }
# between LO HI X: LO <= X <= HI
between() { awk -v lo="$1" -v hi="$2" -v x="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'; }
# the seconds between two API times, to the millisecond
gap() { awk -v a="$(unix "$1")" -v b="$(unix "$2")" 'BEGIN { printf "%.3f", b - a }'; }

ring_start -n 2 || exit 99
# 60,000 rows: a job reads them in a few chunks, long enough to be seen running
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40), n INT)
    DEFAULT CHARSET utf8mb4;
    INSERT INTO app.t SELECT seq, CONCAT('row ', seq), seq % 13 FROM app.seq_1_to_60000"
ring_sync 60 || exit 99
ring_write_config "$work/base.conf" 127.0.0.1:0 "$work/state" >/dev/null
with_schedule() { # FILE VALUE: the ring's configuration with [verify] schedule = VALUE
    { cat "$work/base.conf"; printf '\n[gate]\nmax_lag = 2\n\n[verify]\nschedule = %s\n' "$2"; } >"$1"
}
line_of_schedule() { grep -n '^schedule = ' "$1" | cut -d: -f1; }

# --- a schedule under the minimum (a minute) stops the start: exit 2, the file and line named
with_schedule "$work/short.conf" 59s
"$RINGWATCHD" -c "$work/short.conf" >"$work/short.out" 2>&1; rc=$?
t_is "schedule = 59s: ringwatchd does not start (exit 2)" "$rc" 2
t_ok "and says where and why" grep -qF \
    "ringwatchd: $work/short.conf:$(line_of_schedule "$work/short.conf"): schedule: '59s' is not hourly, daily, weekly or a duration of at least a minute" \
    "$work/short.out" || sed 's/^/#   /' "$work/short.out"
t_ok "nothing was started: no state database" test ! -e "$work/state/ringwatch.db"

# --- drift planted before ringwatchd starts: row 1234 differs on east only
ring_sql 2 "SET SESSION sql_log_bin = 0; UPDATE app.t SET v = 'drift east' WHERE id = 1234"

# --- no schedule: nothing starts by itself; a reload that sets one is taken
with_schedule "$work/rw.conf" ""
t_ok "ringwatchd starts without a schedule" rwd_start "$work/rw.conf" "$work/log"
t_ok "both streams connected" wait_for 10 connected
sleep 12
t_is "12 s later (past the first look at the schedule): no job" \
    "$(vstatus '"\(.job) \(.state)"') $(grep -c 'verify: job' "$work/log")" "null idle 0"
with_schedule "$work/rw.conf" 1m
reloaded=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
kill -HUP "$RWD_PID"
t_ok "a reload sets schedule = 1m" wait_for 10 grep -q 'reload: done' "$work/log"

# --- job 1: by itself at the next look at the schedule (none ever ran), within 10 s
t_ok "the metrics show a job running, with nobody asking for one" wait_for 40 running_seen
t_is "/v1/status: job 1, running (or paused by the gate)" "$(vstatus '"\(.job) \(.state)"' | sed 's/paused/running/')" "1 running"
t_ok "the log says job 1 started over every table" grep -q 'info: verify: job 1 started (every table' "$work/log"
start1=$(vstatus .started_at)
t_diag "job 1 started $(gap "$reloaded" "$start1") s after the reload"
t_ok "at the next look at the schedule: within 10 s of the reload, give or take" \
    between 0 20 "$(gap "$reloaded" "$start1")"
t_ok "job 1 ends" wait_for 60 done_is 1
t_ok "the log says it is done" grep -q 'info: verify: job 1 done' "$work/log"
end1=$(vstatus .ended_at)
t_diag "job 1: $(gap "$start1" "$end1") s"
t_is "job 1 read every row and found one that differs" "$(vstatus '"\(.rows) \(.different_rows) \(.not_verified_chunks)"')" "60000 1 0"
t_is "the metrics count its rows, the different chunk and the drift; none runs now" \
    "$(metric ringwatch_verify_rows_total) $(metric 'ringwatch_verify_chunks_total{result="different"}') $(metric ringwatch_verify_drift_rows_total) $(metric ringwatch_verify_running)" "60000 1 1 0"
t_is "a drift record on row 1234: no write, diverged, open" \
    "$(conflicts '[.conflicts[] | select(.kind == "drift") | "\(.schema).\(.table) \(.key | tostring) \(.writes) \(.diverged) \(.state)"] | join(";")')" \
    'app.t {"id":1234} [] true open'
t_is "with each master's final row" \
    "$(conflicts '.conflicts[] | select(.kind == "drift") | [.final.west.v, .final.east.v] | join(",")')" "row 1234,drift east"
t_is "and nothing else" "$(conflicts '[.conflicts[] | select(.kind != "drift")] | length')" 0
t_ok "logged as drift" grep -q 'conflict [0-9]*: drift on app.t {"id":1234}' "$work/log"

# --- a second drift, on west, for job 2 to find
ring_sql 1 "SET SESSION sql_log_bin = 0; UPDATE app.t SET n = -1 WHERE id = 45678"

# --- a reload with a schedule under the minimum is refused; the running one stays
with_schedule "$work/rw.conf" 30s
kill -HUP "$RWD_PID"
t_ok "a reload with schedule = 30s fails, naming the file and line" wait_for 10 grep -qF \
    "reload failed: $work/rw.conf:$(line_of_schedule "$work/rw.conf"): schedule: '30s'" "$work/log"
t_is "ringwatch_config_last_reload_successful 0" "$(metric ringwatch_config_last_reload_successful)" 0
with_schedule "$work/rw.conf" 1m

# --- job 2: a minute after job 1 ended, not before, and once
before_next() { # SECONDS: sleep until SECONDS after the end of job 1
    awk -v e="$(unix "$end1")" -v s="$1" -v now="$(date +%s.%N)" 'BEGIN { d = e + s - now; print (d > 0 ? d : 0) }'
}
sleep "$(before_next 55)"
t_is "55 s after job 1 ended, no other job yet" "$(vstatus '"\(.job) \(.state)"')" "1 done"
t_ok "job 2 starts by itself" wait_for 60 job_is 2
start2=$(vstatus .started_at)
t_diag "job 2 started $(gap "$end1" "$start2") s after job 1 ended"
t_ok "a minute after job 1 ended, at most one look (10 s) late, give or take" \
    between 59.99 85 "$(gap "$end1" "$start2")"
t_ok "job 2 ends" wait_for 60 done_is 2
end2=$(vstatus .ended_at)
t_is "job 2 read every row; one new row differs" "$(vstatus '"\(.rows) \(.different_rows)"')" "60000 1"
t_is "the drift records: row 1234 once (still open), and row 45678" \
    "$(conflicts '[.conflicts[] | select(.kind == "drift") | "\(.key.id) \(.state)"] | sort | join(",")')" "1234 open,45678 open"
t_is "row 45678: west's n and east's" \
    "$(conflicts '.conflicts[] | select(.key.id == 45678) | [.final.west.n, .final.east.n] | map(tostring) | join(",")')" "-1,$((45678 % 13))"
t_is "the metrics: twice the rows, two drift rows" \
    "$(metric ringwatch_verify_rows_total) $(metric ringwatch_verify_drift_rows_total)" "120000 2"
t_is "the log: two jobs started, one each" \
    "$(grep -c 'info: verify: job [0-9]* started' "$work/log") $(grep -c 'info: verify: job 2 started' "$work/log")" "2 1"

# --- a restart in the middle of the next period: job 3 still waits for the minute
ring_sql 2 "SET SESSION sql_log_bin = 0; UPDATE app.t SET v = 'row 1234' WHERE id = 1234"
sleep 5
kill "$RWD_PID"; wait "$RWD_PID" 2>/dev/null
t_ok "ringwatchd starts again" rwd_start "$work/rw.conf" "$work/log2"
restarted=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
t_ok "both streams connected" wait_for 10 connected
replayed() { [ "$(grep -c 'replayed up to its checkpoint' "$work/log2")" = 2 ]; }
t_ok "both streams read their last transactions again, up to their checkpoints" wait_for 30 replayed
sleep 15
t_is "15 s after the restart (and 20 s after job 2 ended): no job" \
    "$(vstatus '"\(.job) \(.state)"') $(grep -c 'verify: job' "$work/log2")" "null idle 0"
# the streams read the ring's last transaction again (the 60,000 rows'
# insert): it is in the rows verification read, and leaves the records be
t_is "the drift records as they were: diverged, with the rows read" \
    "$(conflicts '[.conflicts[] | select(.kind == "drift") | "\(.key.id) \(.diverged) \(.final.west.v)/\(.final.west.n) \(.final.east.v)/\(.final.east.n)"] | sort | join(",")')" \
    "1234 true row 1234/$((1234 % 13)) drift east/$((1234 % 13)),45678 true row 45678/-1 row 45678/$((45678 % 13))"
t_ok "job 3 starts by itself" wait_for 80 job_is 3
start3=$(vstatus .started_at)
t_diag "job 3 started $(gap "$end2" "$start3") s after job 2 ended, $(gap "$restarted" "$start3") s after the restart"
t_ok "a minute after job 2 ended, at most one look late, give or take" \
    between 59.99 85 "$(gap "$end2" "$start3")"
t_ok "job 3 ends" wait_for 60 done_is 3
t_is "job 3 read every row; no new row differs" "$(vstatus '"\(.rows) \(.different_rows)"')" "60000 0"
t_is "row 1234, set back on east, is resolved by verification; row 45678 stays open" \
    "$(conflicts '[.conflicts[] | select(.kind == "drift") | "\(.key.id) \(.state) \(.resolved_by)"] | sort | join(",")')" \
    "1234 resolved verify,45678 open null"
t_is "the log since the restart: job 3 started and done, no other" \
    "$(grep -o 'verify: job [0-9]* [a-z]*' "$work/log2" | tr '\n' ,)" "verify: job 3 started,verify: job 3 done,"
t_ok "metrics pass promtool" sh -c "curl -s '$RWD_URL/metrics' | promtool check metrics"
t_diag "the test took $(($(date +%s) - t_begin)) s"
t_done
