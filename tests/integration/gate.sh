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

work=$(mktemp -d "${TMPDIR:-/tmp}/rw-gate.XXXXXX")
RWD_PID=
ring_on_exit 'if [ -n "$RWD_PID" ]; then kill -9 "$RWD_PID" 2>/dev/null; fi; [ -n "${RW_KEEP_WORK:-}" ] || rm -rf "$work"'

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT)"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i 's/^server_id = .*/&\nprobe_interval = 1/' "$work/rw.conf"
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
t_ok "ringwatch_audit_ok" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_audit_ok{check=\"binlog_format\",master=\"east\"} 1'"

# an auto_increment_offset that collides with west's
west_off=$(ring_sql 1 "SELECT @@GLOBAL.auto_increment_offset")
east_off=$(ring_sql 2 "SELECT @@GLOBAL.auto_increment_offset")
ring_sql 2 "SET GLOBAL auto_increment_offset = $west_off"
unsafe_for() { [ "$(gate_code)" = 503 ] && jq -e --arg p "$1" '.checks[] | select(.name == "audit" and .ok == false) | .detail | contains($p)' "$work/gate" >/dev/null; }
t_ok "an offset equal to west's: unsafe, named" wait_for 15 unsafe_for "east auto_increment: auto_increment_offset $west_off equals west's" ||
    t_diag "failing: $(failing)"
t_ok "the metric says which" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_audit_ok{check=\"auto_increment\",master=\"east\"} 0'"
ring_sql 2 "SET GLOBAL auto_increment_offset = $east_off"
t_ok "set back: safe again" wait_for 15 safe || t_diag "failing: $(failing)"

# a replica that skips duplicate-key and missing-row errors
ring_sql 1 "SET GLOBAL slave_exec_mode = 'IDEMPOTENT'"
t_ok "IDEMPOTENT on west: unsafe" wait_for 15 unsafe_for "west slave_exec_mode: slave_exec_mode is IDEMPOTENT" ||
    t_diag "failing: $(failing)"
ring_sql 1 "SET GLOBAL slave_exec_mode = 'STRICT'"
t_ok "set back: safe" wait_for 15 safe

# a warning does not block a deploy
ring_sql 2 "SET GLOBAL binlog_row_image = 'MINIMAL'"
warned() { [ "$(status '.audit[] | select(.check == "binlog_row_image" and .master == "east") | "\(.ok) \(.severity)"')" = "false warning" ]; }
t_ok "binlog_row_image MINIMAL: a warning in /v1/status" wait_for 15 warned
t_ok "the gate stays safe" safe
t_ok "and counts the warnings" sh -c "jq -e '.checks[] | select(.name == \"audit\") | .detail | test(\"no critical finding \\\\([1-9][0-9]* warnings?\\\\)\")' '$work/gate' >/dev/null"
ring_sql 2 "SET GLOBAL binlog_row_image = 'FULL'"

kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
