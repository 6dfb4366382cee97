#!/usr/bin/env bash
# The deploy gate says safe on a healthy ring (every check built), and the
# configuration audit turns it unsafe and back as a master is misconfigured:
# an auto_increment_offset equal to the other master's, IDEMPOTENT replica
# execution (critical), a partial row image (a warning: still safe).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir gate

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT)"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i 's/^server_id = .*/&\nprobe_interval = 1/' "$work/rw.conf"
printf '\n[gate]\nmax_trx_age = 3\n' >>"$work/rw.conf"
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"

gate_code() { curl -s -o "$work/gate" -w '%{http_code}' "$RWD_URL/v1/gate"; }
safe() { [ "$(gate_code)" = 200 ]; }
failing() { jq -r '[.checks[] | select(.ok == false) | "\(.name): \(.detail)"] | join("; ")' "$work/gate"; }
t_ok "a healthy ring: the gate says safe" wait_for 20 safe || t_diag "failing: $(failing)"
"$RINGWATCH" gate --url "$RWD_URL" >"$work/out"; rc=$?
t_is "ringwatch gate: exit 0" "$rc" 0
t_is "it says safe, and nothing fails" "$(cat "$work/out")" "safe"
t_ok "the audit check passed" sh -c "jq -e '.checks[] | select(.name == \"audit\" and .ok)' '$work/gate' >/dev/null"
status() { curl -s "$RWD_URL/v1/status" | jq -r "$1"; }
t_ok "/v1/status lists the audit, each check failing or passing" \
    sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq '[.audit[] | select(.check == \"auto_increment\" and .ok)] | length')\" = 2 ]"
t_ok "ringwatch_audit_ok" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_audit_ok{check=\"binlog_format\",master=\"east\",severity=\"critical\"} 1'"

# an auto_increment_offset that collides with west's
west_off=$(ring_sql 1 "SELECT @@GLOBAL.auto_increment_offset")
east_off=$(ring_sql 2 "SELECT @@GLOBAL.auto_increment_offset")
ring_sql 2 "SET GLOBAL auto_increment_offset = $west_off"
unsafe_for() { [ "$(gate_code)" = 503 ] && jq -e --arg p "$1" '.checks[] | select(.name == "audit" and .ok == false) | .detail | contains($p)' "$work/gate" >/dev/null; }
t_ok "an offset equal to west's: unsafe, named" wait_for 15 unsafe_for "east auto_increment: auto_increment_offset $west_off equals west's" ||
    t_diag "failing: $(failing)"
t_ok "the metric says which" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_audit_ok{check=\"auto_increment\",master=\"east\",severity=\"critical\"} 0'"
ring_sql 2 "SET GLOBAL auto_increment_offset = $east_off"
t_ok "set back: safe again" wait_for 15 safe || t_diag "failing: $(failing)"

# a replica that skips duplicate-key and missing-row errors
ring_sql 1 "SET GLOBAL slave_exec_mode = 'IDEMPOTENT'"
t_ok "IDEMPOTENT on west: unsafe" wait_for 15 unsafe_for "west slave_exec_mode: slave_exec_mode is IDEMPOTENT" ||
    t_diag "failing: $(failing)"
# the checks an online schema change tool cares about still pass meanwhile
"$RINGWATCH" gate --url "$RWD_URL" >/dev/null 2>&1; rc=$?
t_is "ringwatch gate: exit 1" "$rc" 1
"$RINGWATCH" gate --url "$RWD_URL" --checks lag,replication >"$work/only" 2>&1; rc=$?
t_is "ringwatch gate --checks lag,replication: exit 0, the audit not asked" "$rc" 0 || t_diag "$(cat "$work/only")"
t_is "GET /v1/gate?checks=lag,replication: 200" \
    "$(curl -s -o "$work/only.json" -w '%{http_code}' "$RWD_URL/v1/gate?checks=lag,replication")" 200
t_is "safe, with those two checks only" "$(jq -r '"\(.safe) \([.checks[].name] | sort | join(","))"' "$work/only.json")" "true lag,replication"
ring_sql 1 "SET GLOBAL slave_exec_mode = 'STRICT'"
t_ok "set back: safe" wait_for 15 safe

# a grant ringwatch's own user lacks, named with the statement to run
t_ok "the grants check passes on both masters" \
    sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq '[.audit[] | select(.check == \"grants\" and .ok)] | length')\" = 2 ]"
ring_sql 2 "SET sql_log_bin = 0; REVOKE PROCESS ON *.* FROM 'ringwatch'@'127.0.0.1'"
t_ok "PROCESS revoked on east: unsafe, with the GRANT to run" \
    wait_for 15 unsafe_for "east grants: ringwatch's user lacks PROCESS: GRANT PROCESS ON *.* TO \`ringwatch\`@\`127.0.0.1\`" ||
    t_diag "failing: $(failing)"
ring_sql 2 "SET sql_log_bin = 0; GRANT PROCESS ON *.* TO 'ringwatch'@'127.0.0.1'"
t_ok "granted again: safe" wait_for 15 safe || t_diag "failing: $(failing)"

# a warning does not block a deploy
ring_sql 2 "SET GLOBAL binlog_row_image = 'MINIMAL'"
warned() { [ "$(status '.audit[] | select(.check == "binlog_row_image" and .master == "east") | "\(.ok) \(.severity)"')" = "false warning" ]; }
t_ok "binlog_row_image MINIMAL: a warning in /v1/status" wait_for 15 warned
t_ok "the gate stays safe" safe
t_ok "and counts the warnings" sh -c "jq -e '.checks[] | select(.name == \"audit\") | .detail | test(\"no critical finding \\\\([1-9][0-9]* warnings?\\\\)\")' '$work/gate' >/dev/null"
ring_sql 2 "SET GLOBAL binlog_row_image = 'FULL'"

# a transaction left open longer than max_trx_age (it would block DDL)
( ring_sql 2 "BEGIN; UPDATE app.t SET v = 1 WHERE id = 1; SELECT SLEEP(8); COMMIT" >/dev/null ) &
holder=$!
check_fails() { [ "$(gate_code)" = 503 ] && jq -e --arg n "$1" --arg p "$2" '.checks[] | select(.name == $n and .ok == false) | .detail | contains($p)' "$work/gate" >/dev/null; }
t_ok "a transaction open on east over max_trx_age: unsafe" wait_for 10 check_fails transactions "east: a transaction open for" ||
    t_diag "failing: $(failing)"
wait "$holder"
t_ok "committed: safe" wait_for 15 safe || t_diag "failing: $(failing)"

# only some checks
t_is "?checks=lag,replication: those two" \
    "$(curl -s "$RWD_URL/v1/gate?checks=lag,replication" | jq -r '[.checks[].name] | sort | join(",")')" "lag,replication"
t_is "an unknown check: 400" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/v1/gate?checks=lag,nope")" 400
"$RINGWATCH" gate --url "$RWD_URL" --checks nope 2>"$work/err"; rc=$?
t_is "ringwatch gate --checks nope: exit 2" "$rc" 2
t_ok "naming it" grep -q "no gate check nope" "$work/err"

# the throttle check online schema change tools poll: gh-ost's
# --throttle-http sends HEAD and throttles on anything but 200; freno
# clients GET /check/APP/mysql/STORE and read the JSON
throttle() { curl -s -o "$work/throttle" -w '%{http_code}' "$@"; }
t_is "HEAD /check/gh-ost/mysql/ring: 200" "$(throttle -I "$RWD_URL/check/gh-ost/mysql/ring")" 200
t_is "GET, as freno's clients do: 200" "$(throttle "$RWD_URL/check/myapp/mysql/ring")" 200
t_is "freno's body" "$(jq -r '[.StatusCode, (.Value | type), .Threshold, .Message] | map(tostring) | join(" ")' "$work/throttle")" \
    "200 number 5 "
t_is "another ring: 404" "$(throttle "$RWD_URL/check/myapp/mysql/other")" 404
ring_sql 1 "STOP SLAVE '${RING_NAMES[2]}'"
throttled() { [ "$(throttle "$RWD_URL/check/gh-ost/mysql/ring")" = 429 ]; }
t_ok "east→west stopped: 429" wait_for 15 throttled
t_is "saying why" "$(jq -r '[.StatusCode, (.Message | test("replication: east→west"))] | map(tostring) | join(" ")' "$work/throttle")" \
    "429 true"
t_is "HEAD too" "$(throttle -I "$RWD_URL/check/gh-ost/mysql/ring")" 429
ring_sql 1 "START SLAVE '${RING_NAMES[2]}'"
unthrottled() { [ "$(throttle "$RWD_URL/check/gh-ost/mysql/ring")" = 200 ]; }
t_ok "started again: 200" wait_for 15 unthrottled
# ten requests a second from each of three clients, for three seconds
pollers=
for c in 1 2 3; do
    ( for k in $(seq 1 30); do curl -s -o /dev/null -w '%{http_code}\n' -I "$RWD_URL/check/gh-ost/mysql/ring"; sleep 0.1; done ) >"$work/poll$c" &
    pollers="$pollers $!"
done
# shellcheck disable=SC2086 # one pid each
wait $pollers
t_is "polled 90 times: every answer 200" "$(cat "$work"/poll[123] | grep -c '^200$')" 90

kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
