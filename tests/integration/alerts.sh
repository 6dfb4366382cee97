#!/usr/bin/env bash
# Alerts from ringwatchd to two real Alertmanagers (prometheus-alertmanager,
# started here on free ports, clustering off; alertmanager_url lists both)
# and to a webhook (a python3 http.server here that checks each signature):
# a conflict's alert at both and at the webhook within 2 s of the
# conflict's detected_at, its labels free of IDs; diverged rows; an unsafe
# ALTER; slave_exec_mode=IDEMPOTENT for a minute raises RingwatchAuditCritical
# (with its runbook_url), STRICT resolves it; a link that breaks, and its
# alert resolved at both when it runs again; the first Alertmanager down for 30 s loses no alert that still
# fires when it returns (its failures counted and logged once), while the
# second keeps receiving new alerts and counts no failure; a reload with
# another webhook secret; two ringwatchd on one ring send the same alert,
# which Alertmanager merges into one alert in one group; an Alertmanager
# that accepts connections and never answers slows neither /healthz nor
# /metrics, nor the other Alertmanager, nor the finding of conflicts.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ALERTMANAGER=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
ring_require_server
t_need curl jq python3
[ -x "$ALERTMANAGER" ] || t_need prometheus-alertmanager

rwd_workdir alerts
AM_PID= AM2_PID= HOOK_PID= HUNG_PID= RWD1_PID= RWD2_PID= RWD3_PID=
ring_on_exit 'kill -9 $AM_PID $AM2_PID $HOOK_PID $HUNG_PID $RWD1_PID $RWD2_PID $RWD3_PID 2>/dev/null'
secret=hook-secret-5c81e0
printf '%s\n' "$secret" >"$work/hook.secret"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- two Alertmanagers: one route grouping by every label, a receiver that sends nothing ----
AM_PORT=$(free_port)
AM=http://127.0.0.1:$AM_PORT
AM2_PORT=$(free_port)
AM2=http://127.0.0.1:$AM2_PORT
cat >"$work/am.yml" <<'EOF'
route:
  receiver: blackhole
  group_by: ['...']
  group_wait: 1s
receivers:
  - name: blackhole
EOF
am_start() {
    "$ALERTMANAGER" --config.file="$work/am.yml" --storage.path="$work/am-data" \
        --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
        --log.level=warn >>"$work/am.log" 2>&1 &
    AM_PID=$!
    wait_for 15 curl -sf -o /dev/null "$AM/-/ready"
}
am2_start() {
    "$ALERTMANAGER" --config.file="$work/am.yml" --storage.path="$work/am2-data" \
        --web.listen-address="127.0.0.1:$AM2_PORT" --cluster.listen-address= \
        --log.level=warn >>"$work/am2.log" 2>&1 &
    AM2_PID=$!
    wait_for 15 curl -sf -o /dev/null "$AM2/-/ready"
}
# am_alerts JQ: the JSON of JQ over the first Alertmanager's active alerts (am2_alerts: the second's)
am_alerts() { curl -s "$AM/api/v2/alerts?active=true" | jq -c "$1"; }
am_count() { [ "$(am_alerts "[.[] | select($1)] | length")" = "$2" ]; }
am2_alerts() { curl -s "$AM2/api/v2/alerts?active=true" | jq -c "$1"; }
am2_count() { [ "$(am2_alerts "[.[] | select($1)] | length")" = "$2" ]; }

# ---- the webhook: one JSON line per POST, with whether its signature is right -----
cat >"$work/hook.py" <<'EOF'
import hashlib, hmac, json, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

out = open(sys.argv[2], "a")

class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        secret = open(sys.argv[1], "rb").read().split(b"\n")[0]  # as it is now
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Ringwatch-Signature", "")
        record = {"at": time.time(), "path": self.path, "signed": hmac.compare_digest(want, got),
                  "type": self.headers.get("Content-Type")}
        try:
            record["body"] = json.loads(body)
        except ValueError:
            record["body"] = None
        out.write(json.dumps(record) + "\n")
        out.flush()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Hook)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[3] + ".tmp", sys.argv[3])
server.serve_forever()
EOF
: >"$work/hook.jsonl"
python3 "$work/hook.py" "$work/hook.secret" "$work/hook.jsonl" "$work/hook.port" &
HOOK_PID=$!
wait_for 10 test -s "$work/hook.port" || { echo "Bail out! the webhook did not start"; exit 99; }
HOOK_PORT=$(cat "$work/hook.port")
# hook_count JQ N: N webhook POSTs match JQ (over each line)
hook_count() { [ "$(jq -s "[.[] | select($1)] | length" "$work/hook.jsonl")" = "$2" ]; }

t_ok "Alertmanager starts" am_start || { sed 's/^/#   /' "$work/am.log"; exit 99; }
t_ok "a second Alertmanager starts" am2_start || { sed 's/^/#   /' "$work/am2.log"; exit 99; }

# ---- the ring and ringwatchd --------------------------------------------------------
ring_start -n 2 || exit 99
W=${RING_NAMES[1]} E=${RING_NAMES[2]}
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO app.t VALUES (1, 'init')"
ring_sync || exit 99
write_config() { # FILE STATE_DIR SERVER_ID ALERTMANAGER_URL [WEBHOOK]
    ring_write_config "$1" 127.0.0.1:0 "$2" >/dev/null
    sed -i "s/^server_id = .*/server_id = $3\nprobe_interval = 1/" "$1"
    printf '\n[alerts]\nalertmanager_url = %s\n' "$4" >>"$1"
    [ -z "${5:-}" ] || printf 'webhook_url = %s\nwebhook_secret_file = %s\n' "$5" "$work/hook.secret" >>"$1"
}
write_config "$work/rw1.conf" "$work/state1" 4242001 "$AM, $AM2" "http://127.0.0.1:$HOOK_PORT/hook?t=1"
t_ok "ringwatchd starts" rwd_start "$work/rw1.conf" "$work/log1"
RWD1_PID=$RWD_PID RWD1_URL=$RWD_URL
connected() { [ "$(curl -s "$1/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
t_ok "both streams connected" wait_for 10 connected "$RWD1_URL"
t_ok "its tables known" wait_for 10 grep -q "tables read from information_schema" "$work/log1"
sleep 2
t_is "a healthy ring: no alert" "$(am_alerts '[.[] | select(.labels.job == "ringwatch")] | length')" 0
t_is "at neither Alertmanager" "$(am2_alerts '[.[] | select(.labels.job == "ringwatch")] | length')" 0

# epoch TIME: an ISO 8601 time (quoted as JSON or not) as seconds since the epoch
epoch() { date -d "$(echo "$1" | tr -d '"')" +%s.%N; }
# within_2s WHAT FROM TO: a test that TO comes after FROM (seconds; the clocks are one, the
# ledger's to the millisecond) and at most 2 s after it
within_2s() {
    t_ok "$1 within 2 s of the conflict's detection ($(awk "BEGIN { printf \"%.3f\", $3 - $2 }") s)" \
        awk "BEGIN { exit !($2 > 0 && $3 - $2 >= -0.001 && $3 - $2 <= 2) }"
}

# ---- a conflict: its alert within 2 s, at both Alertmanagers and the webhook ------------
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = '$W' WHERE id = 1"
ring_sql 2 "UPDATE app.t SET v = '$E' WHERE id = 1"
ring_resume_link 1 2; ring_resume_link 2 1
id=
found() { id=$(curl -s "$RWD1_URL/v1/conflicts" | jq -r '.conflicts[0].id // empty'); [ -n "$id" ]; }
t_ok "the update-update conflict is found" wait_for 15 found
detected=$(curl -s "$RWD1_URL/v1/conflicts/$id" | jq -r .detected_at)
t_diag "conflict $id detected at $detected"
conflict_alert='.labels.alertname == "RingwatchConflictDetected"'
t_ok "RingwatchConflictDetected in Alertmanager" wait_for 5 am_count "$conflict_alert" 1
t_ok "and in the second" wait_for 5 am2_count "$conflict_alert" 1
# updatedAt: when the Alertmanager received the alert (a later resend would only make it later)
within_2s "received by the first" "$(epoch "$detected")" "$(epoch "$(am_alerts "[.[] | select($conflict_alert)][0].updatedAt")")"
within_2s "received by the second" "$(epoch "$detected")" "$(epoch "$(am2_alerts "[.[] | select($conflict_alert)][0].updatedAt")")"
alert=$(am_alerts "[.[] | select($conflict_alert)][0]")
t_is "the same alert at both" "$(am2_alerts "[.[] | select($conflict_alert)][0] | [.labels, .annotations, .generatorURL]")" \
    "$(echo "$alert" | jq -c '[.labels, .annotations, .generatorURL]')"
t_is "labels: names only" "$(echo "$alert" | jq -c '.labels | to_entries | map("\(.key)=\(.value)") | sort')" \
    '["alertname=RingwatchConflictDetected","instance=127.0.0.1:0","job=ringwatch","kind=update-update","schema=app","severity=warning","table=t"]'
t_is "generatorURL: the conflict" "$(echo "$alert" | jq -r .generatorURL)" "$RWD1_URL/v1/conflicts/$id"
t_is "which answers with it" "$(curl -s "$(echo "$alert" | jq -r .generatorURL)" | jq -r .id)" "$id"
t_ok "its ID in the description" sh -c "echo '$alert' | jq -e '.annotations.description | test(\"conflict $id\")' >/dev/null"
t_ok "RingwatchRowsDiverged for app.t" \
    wait_for 10 am_count '.labels.alertname == "RingwatchRowsDiverged" and .labels.table == "t" and .labels.severity == "critical"' 1
t_ok "the webhook got the conflict" wait_for 5 hook_count ".body.labels.alertname == \"RingwatchConflictDetected\" and .body.change == \"started\"" 1
hook=$(jq -sc "[.[] | select(.body.labels.alertname == \"RingwatchConflictDetected\")][0]" "$work/hook.jsonl")
within_2s "received by the webhook" "$(epoch "$detected")" "$(echo "$hook" | jq -r .at)"
t_is "signed right" "$(echo "$hook" | jq -r .signed)" true
t_is "to its URL, as JSON" "$(echo "$hook" | jq -r '"\(.path) \(.type)"')" "/hook?t=1 application/json"
t_is "the change's fields" "$(echo "$hook" | jq -c '.body | [.version, .status, (.fingerprint | length), .annotations.summary, (.startsAt | test("Z$")), (.endsAt | test("Z$")), .generatorURL]')" \
    "[\"1\",\"firing\",16,\"Conflicting writes on app.t (update-update)\",true,true,\"$RWD1_URL/v1/conflicts/$id\"]"
t_ok "every webhook POST signed right" hook_count '.signed != true' 0

# ---- an unsafe schema change ------------------------------------------------------------
ring_sql 1 "ALTER TABLE app.t ADD COLUMN z INT AFTER id"
ddl_alert=".labels.alertname == \"RingwatchDDLUnsafe\" and .labels.master == \"$W\" and .labels.schema == \"app\" and .labels.table == \"t\""
t_ok "RingwatchDDLUnsafe for app.t on $W" wait_for 10 am_count "$ddl_alert" 1
t_ok "the statement in its description" \
    sh -c "curl -s '$AM/api/v2/alerts' | jq -e '.[] | select($ddl_alert) | .annotations.description | test(\"ADD COLUMN z INT AFTER id\")' >/dev/null"

# ---- a critical audit finding: IDEMPOTENT on west (its alert waits a minute; checked below) --
ring_sql 1 "SET GLOBAL slave_exec_mode = 'IDEMPOTENT'"
audit_set=$(date +%s)
audit_alert=".labels.alertname == \"RingwatchAuditCritical\" and .labels.check == \"slave_exec_mode\" and .labels.master == \"$W\""

# ---- a link breaks, and runs again ------------------------------------------------------
link_alert=".labels.alertname == \"RingwatchLinkBroken\" and .labels.source == \"$W\" and .labels.replica == \"$E\""
# the webhook's changes of that alert so far: a probe may have seen a link paused for a conflict
link_hook="$(echo "$link_alert" | sed 's/\.labels/.body.labels/g')"
hook_n() { jq -s "[.[] | select($1)] | length" "$work/hook.jsonl"; }
balanced() { [ "$(hook_n "$link_hook and .body.change == \"started\"")" = "$(hook_n "$link_hook and .body.status == \"resolved\"")" ]; }
t_ok "the link runs: as many ends as starts of its alert at the webhook" wait_for 10 balanced
started0=$(hook_n "$link_hook and .body.change == \"started\"")
resolved0=$(hook_n "$link_hook and .body.status == \"resolved\"")
t_diag "$started0 starts and $resolved0 ends of it at the webhook before"
ring_sql 2 "STOP SLAVE '$W'"
t_ok "$W→$E stopped: RingwatchLinkBroken" wait_for 10 am_count "$link_alert" 1
t_ok "in the second Alertmanager too" wait_for 5 am2_count "$link_alert" 1
t_ok "critical, the cause in its description" \
    sh -c "curl -s '$AM/api/v2/alerts' | jq -e '.[] | select($link_alert) | .labels.severity == \"critical\" and (.annotations.description | test(\"STOP SLAVE\"))' >/dev/null"
ring_sql 2 "START SLAVE '$W'"
t_ok "it runs again: resolved in Alertmanager" wait_for 10 am_count "$link_alert" 0
t_ok "and in the second" wait_for 5 am2_count "$link_alert" 0
t_ok "and at the webhook" wait_for 5 hook_count "$link_hook and .body.status == \"resolved\"" $((resolved0 + 1))

# ---- the first Alertmanager down for 30 s; the second keeps receiving -----------------------
# metric URL NAME PORT: the value of NAME{receiver="alertmanager:127.0.0.1:PORT"} at URL/metrics
metric() { curl -s "$1/metrics" | sed -n "s/^$2{receiver=\"alertmanager:127.0.0.1:$3\"} //p"; }
failed() { metric "$RWD1_URL" ringwatch_alerts_failed_total "$AM_PORT"; }
failed_over() { [ "$(metric "$1" ringwatch_alerts_failed_total "$2")" -gt "$3" ]; }
sent2_before=$(metric "$RWD1_URL" ringwatch_alerts_sent_total "$AM2_PORT")
kill "$AM_PID"; wait "$AM_PID" 2>/dev/null
down=$(date +%s)
ring_sql 2 "STOP SLAVE '$W'"
t_ok "the webhook hears of the link breaking meanwhile" \
    wait_for 10 hook_count "$link_hook and .body.change == \"started\"" $((started0 + 2))
t_ok "and the second Alertmanager" wait_for 10 am2_count "$link_alert" 1
t_ok "failures counted" wait_for 10 failed_over "$RWD1_URL" "$AM_PORT" 0
t_is "none for the second Alertmanager" "$(metric "$RWD1_URL" ringwatch_alerts_failed_total "$AM2_PORT")" 0
t_ok "which was sent more" sh -c "[ $(metric "$RWD1_URL" ringwatch_alerts_sent_total "$AM2_PORT") -gt $sent2_before ]"
t_ok "and still holds the conflict's alert" am2_count "$conflict_alert" 1
sleep $((30 - ($(date +%s) - down)))
t_ok "Alertmanager back after 30 s (empty: it keeps no alerts)" am_start
t_ok "the broken link's alert arrives again" wait_for 25 am_count "$link_alert" 1
t_ok "and the diverged rows' alert, sent again at once" \
    wait_for 3 am_count '.labels.alertname == "RingwatchRowsDiverged"' 1
t_ok "and the conflict's, still firing" wait_for 3 am_count "$conflict_alert" 1
t_diag "all back $(($(date +%s) - down - 30)) s after Alertmanager"

t_ok "IDEMPOTENT on $W for a minute: RingwatchAuditCritical" wait_for 40 am_count "$audit_alert" 1
t_ok "not before the minute" test $(($(date +%s) - audit_set)) -ge 60
t_ok "critical, the finding in its description, its runbook section" \
    sh -c "curl -s '$AM/api/v2/alerts' | jq -e '.[] | select($audit_alert) | .labels.severity == \"critical\" and (.annotations.description | test(\"IDEMPOTENT\")) and .annotations.runbook_url == \"https://github.com/ringwatch/ringwatch/blob/main/docs/runbook.md#ringwatchauditcritical\"' >/dev/null"
t_ok "the section is in docs/runbook.md" grep -qx "## RingwatchAuditCritical" "$top_srcdir/docs/runbook.md"
t_ok "at the second Alertmanager too" wait_for 5 am2_count "$audit_alert" 1
ring_sql 1 "SET GLOBAL slave_exec_mode = 'STRICT'"
t_ok "STRICT again: resolved" wait_for 15 am_count "$audit_alert" 0
t_ok "and at the webhook" wait_for 5 hook_count ".body.labels.alertname == \"RingwatchAuditCritical\" and .body.status == \"resolved\"" 1

t_is "the outage logged once" "$(grep -c "alerts: alertmanager:127.0.0.1:$AM_PORT: cannot deliver" "$work/log1")" 1
t_ok "its end too" grep -q "alerts: alertmanager:127.0.0.1:$AM_PORT: delivering again, after [0-9]* failed attempts" "$work/log1"
t_is "no outage of the second logged" "$(grep -c "alerts: alertmanager:127.0.0.1:$AM2_PORT: cannot deliver" "$work/log1")" 0
t_diag "$(failed) failed POSTs"
if command -v promtool >/dev/null 2>&1; then
    t_ok "metrics pass promtool" sh -c "curl -s '$RWD1_URL/metrics' | promtool check metrics"
fi

# ---- a reload with another secret -------------------------------------------------------
secret2=hook-secret-90d4b7
printf '%s\n' "$secret2" >"$work/hook.secret"
kill -HUP "$RWD1_PID"
t_ok "a reload with another secret starts the alerts over" wait_for 10 grep -q "reload: \[alerts\] changed; the alerts start over" "$work/log1"
t_ok "the webhook hears again of what fires, signed with the new secret" \
    wait_for 10 hook_count '.body.labels.alertname == "RingwatchRowsDiverged" and .body.change == "started" and .signed' 2
t_ok "the secrets in no log, status or metric" \
    sh -c "! grep -q -e '$secret' -e '$secret2' '$work/log1' && ! curl -s '$RWD1_URL/v1/status' '$RWD1_URL/metrics' | grep -q -e '$secret' -e '$secret2'"

# ---- two ringwatchd on one ring: one alert, one group -------------------------------------
write_config "$work/rw2.conf" "$work/state2" 4242002 "$AM"
t_ok "a second ringwatchd starts" rwd_start "$work/rw2.conf" "$work/log2"
RWD2_PID=$RWD_PID RWD2_URL=$RWD_URL
t_ok "connected" wait_for 10 connected "$RWD2_URL"
sent2() { curl -s "$RWD2_URL/metrics" | sed -n "s/^ringwatch_alerts_sent_total{receiver=\"alertmanager:127.0.0.1:$AM_PORT\"} //p"; }
t_ok "it sends the broken link's alert too" wait_for 10 sh -c "[ \"\$(curl -s '$RWD2_URL/metrics' | sed -n 's/^ringwatch_alerts_sent_total{receiver=\"alertmanager:127.0.0.1:$AM_PORT\"} //p')\" -gt 0 ]"
sleep 2
groups=$(curl -s "$AM/api/v2/alerts/groups" | jq -c "[.[] | select(.alerts | any($link_alert))]")
t_is "one group holds it" "$(echo "$groups" | jq length)" 1
t_is "with one alert: the two merged" "$(echo "$groups" | jq '[.[].alerts[] | select(.labels.alertname == "RingwatchLinkBroken")] | length')" 1
ring_sql 2 "START SLAVE '$W'"
t_ok "resolved by both" wait_for 10 am_count "$link_alert" 0
kill "$RWD2_PID"; wait "$RWD2_PID" 2>/dev/null; RWD2_PID=

# ---- an Alertmanager that accepts and never answers ------------------------------------------
cat >"$work/hung.py" <<'EOF'
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:  # accept, read nothing, answer nothing
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[2], "a") as f:
        f.write("1\n")
EOF
: >"$work/hung.accepted"
python3 "$work/hung.py" "$work/hung.port" "$work/hung.accepted" &
HUNG_PID=$!
wait_for 10 test -s "$work/hung.port" || { echo "Bail out! the hung receiver did not start"; exit 99; }
HUNG_PORT=$(cat "$work/hung.port")
write_config "$work/rw3.conf" "$work/state3" 4242003 "http://127.0.0.1:$HUNG_PORT, $AM2"
t_ok "a ringwatchd with a hung Alertmanager first, the second after it" rwd_start "$work/rw3.conf" "$work/log3"
RWD3_PID=$RWD_PID RWD3_URL=$RWD_URL
t_ok "connected" wait_for 10 connected "$RWD3_URL"
t_ok "its tables known" wait_for 10 grep -q "tables read from information_schema" "$work/log3"
n_conflicts() { curl -s "$RWD3_URL/v1/conflicts" | jq '.conflicts | length'; }
more_conflicts() { [ "$(n_conflicts)" -gt "$1" ]; }
conflict() { # ID: an update-update conflict on a new row of app.t (another on a row
    # with an open conflict would join that one)
    ring_sql 1 "INSERT INTO app.t (id, v) VALUES ($1, 'new')"
    ring_sync || return 1
    ring_pause_link 1 2; ring_pause_link 2 1
    ring_sql 1 "UPDATE app.t SET v = '$W' WHERE id = $1"
    ring_sql 2 "UPDATE app.t SET v = '$E' WHERE id = $1"
    ring_resume_link 1 2; ring_resume_link 2 1
}
before=$(n_conflicts)
conflict 3
t_ok "a conflict is found" wait_for 15 more_conflicts "$before"
t_ok "its alert POSTed to the hung one, which holds the connection" wait_for 5 test -s "$work/hung.accepted"
t_ok "the other Alertmanager gets it meanwhile" wait_for 4 sh -c "[ \"\$(curl -s '$RWD3_URL/metrics' | sed -n 's/^ringwatch_alerts_sent_total{receiver=\"alertmanager:127.0.0.1:$AM2_PORT\"} //p')\" -gt 0 ]"
# answer_s PATH: how long ringwatchd takes to answer PATH, in seconds
answer_s() { curl -s -o /dev/null -w '%{time_total}' "$RWD3_URL$1"; }
slow=
for i in 1 2 3 4 5; do
    for path in /healthz /metrics; do
        t=$(answer_s "$path")
        t_diag "$path answered in $t s"
        awk "BEGIN { exit !($t < 0.2) }" || slow="$slow $path:$t"
    done
    sleep 0.3
done
t_is "while a POST hangs, /healthz and /metrics answer within 200 ms, 5 times each" "$slow" ""
before=$(n_conflicts)
conflict 4
t_ok "another conflict is found while it hangs" wait_for 15 more_conflicts "$before"
t_ok "the hung POSTs time out and are counted" wait_for 15 failed_over "$RWD3_URL" "$HUNG_PORT" 0
t_is "none counted for the other" "$(metric "$RWD3_URL" ringwatch_alerts_failed_total "$AM2_PORT")" 0
t_ok "logged as a timeout" grep -q "alerts: alertmanager:127.0.0.1:$HUNG_PORT: cannot deliver (.*timed out" "$work/log3"

t_done
