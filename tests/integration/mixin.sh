#!/usr/bin/env bash
# The monitoring mixin (contrib/mixin): the rules pass promtool; every alert
# fires and resolves in tests/mixin/alerts_test.yaml on series shaped like
# ringwatchd's, and a broken expression fails those tests; every alert has
# severity, summary, description and a runbook section; the dashboard
# selects by job and instance and names only metrics ringwatchd has.
# Then, live: two ringwatchd on a real ring, a real Prometheus scraping both
# with the rules and alerts loaded, a real Alertmanager behind it.  /metrics
# passes `promtool check metrics` healthy, with a link stopped, with
# conflicts open and with a master down; every rule evaluates without
# error; every dashboard query parses and the panels have data; the alerts
# fire on the real daemon (their `for` set to 0s), and the two ringwatchd's
# alerts reach Alertmanager as one.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
t_need promtool jq curl awk

mixin=$top_srcdir/contrib/mixin
alerts=$mixin/alerts.yaml
rules=$mixin/rules.yaml
dash=$mixin/dashboards/ringwatch.json
unit=$top_srcdir/tests/mixin/alerts_test.yaml
runbook=$top_srcdir/docs/runbook.md
metrics_c=$top_srcdir/daemon/metrics.c
base=https://github.com/ringwatch/ringwatch/blob/main/docs/runbook.md

# quietly FILE COMMAND...: the command's output into FILE, shown on a failure
quietly() {
    local f=$1
    shift
    "$@" >"$f" 2>&1 || { sed 's/^/#   /' "$f"; return 1; }
}

work=$(mktemp -d "${TMPDIR:-/tmp}/rw-mixin.XXXXXX") || exit 99
RWD_PID=
PIDS=
ring_on_exit 'for p in $PIDS $RWD_PID; do kill -9 "$p" 2>/dev/null; done; [ -n "${RW_KEEP_WORK:-}" ] || rm -rf "$work"'

# ------------------------------------------------------------------ the files ----
t_ok "promtool check rules: alerts.yaml" quietly "$work/check" promtool check rules "$alerts"
t_ok "promtool check rules: rules.yaml" quietly "$work/check" promtool check rules "$rules"
t_ok "promtool test rules: every alert fires and resolves, the recording rules compute" \
    quietly "$work/unit" promtool test rules "$unit"

# mutate FILE INDEX MODE: FILE with its INDEX-th rule's expr replaced; MODE
# never: it yields nothing; sticky: what it yields stays a day.
mutate() {
    awk -v want="$2" -v mode="$3" '
        function flush() {
            if (mode == "never") e = "vector(0) == 1"
            else e = "last_over_time((" expr ")[1d:1m])"
            print ind "expr: '\''" e "'\''"
            expr = ""; inblock = 0
        }
        inblock {
            match($0, /^ */)
            if ($0 != "" && RLENGTH > ind_len) { sub(/^ +/, ""); expr = expr " " $0; next }
            flush()
        }
        /^ *- (alert|record): / { n++ }
        n == want && /^ *expr:/ {
            match($0, /^ */); ind = substr($0, 1, RLENGTH); ind_len = RLENGTH
            line = $0; sub(/^ *expr: */, "", line)
            if (line == "|") { inblock = 1; next }
            expr = line; flush(); next
        }
        { print }
        END { if (inblock) flush() }' "$1"
}
# groups PATTERN: the unit tests with only the groups whose name matches
groups() {
    awk -v re="$1" '/^tests:/ { print; on = 0; t = 1; next }
        t && /^  - name: / { on = (substr($0, 11) ~ re) }
        !t || on' "$unit"
}
mkdir -p "$work/mut/contrib/mixin" "$work/mut/tests/mixin"
n_alerts=$(grep -c '^ *- alert: ' "$alerts")
n_records=$(grep -c '^ *- record: ' "$rules")
t_ok "alerts.yaml holds the alerts, rules.yaml the recording rules" test "$n_alerts" -ge 12 -a "$n_records" -ge 10
# each mutant against its own tests: the groups named after the alert, or
# those of the recording rules
broke=0 caught=0
for i in $(seq 1 "$n_alerts"); do
    name=$(grep '^ *- alert: ' "$alerts" | sed -n "${i}s/^ *- alert: *//p")
    groups "^$name(,|\$)" >"$work/mut/tests/mixin/alerts_test.yaml"
    grep -q '^  - name: ' "$work/mut/tests/mixin/alerts_test.yaml" || t_diag "$name: no test group named after it"
    cp "$rules" "$work/mut/contrib/mixin/rules.yaml"
    for mode in never sticky; do
        broke=$((broke + 1))
        mutate "$alerts" "$i" "$mode" >"$work/mut/contrib/mixin/alerts.yaml"
        if ! promtool check rules "$work/mut/contrib/mixin/alerts.yaml" >/dev/null 2>&1; then
            t_diag "the $mode mutant of $name does not load"
        elif promtool test rules "$work/mut/tests/mixin/alerts_test.yaml" >/dev/null 2>&1; then
            t_diag "$name: its tests pass with an expression that $([ $mode = never ] && echo never fires || echo never resolves)"
        else
            caught=$((caught + 1))
        fi
    done
done
groups '^recording rules' >"$work/mut/tests/mixin/alerts_test.yaml"
cp "$alerts" "$work/mut/contrib/mixin/alerts.yaml"
for i in $(seq 1 "$n_records"); do
    broke=$((broke + 1))
    mutate "$rules" "$i" never >"$work/mut/contrib/mixin/rules.yaml"
    if promtool test rules "$work/mut/tests/mixin/alerts_test.yaml" >/dev/null 2>&1; then
        t_diag "recording rule $i: its tests pass with an expression that yields nothing"
    else
        caught=$((caught + 1))
    fi
done
t_is "a broken expression fails the tests (alerts never firing or never resolving, recording rules empty)" \
    "$caught of $broke" "$broke of $broke"
cp "$alerts" "$work/mut/contrib/mixin/alerts.yaml"
cp "$rules" "$work/mut/contrib/mixin/rules.yaml"
sed '0,/severity: critical/s//severity: warning/' "$unit" >"$work/mut/tests/mixin/alerts_test.yaml"
t_ok "a wrong expected alert fails the tests" not quietly /dev/null promtool test rules "$work/mut/tests/mixin/alerts_test.yaml"

# every alert: severity, summary, description, runbook_url to its section
blocks() { awk -v want="$2" '/^ *- alert: / { on = ($3 == want) } on' "$1"; }
bad=
for name in $(sed -n 's/^ *- alert: *//p' "$alerts"); do
    b=$(blocks "$alerts" "$name")
    anchor=$(echo "$name" | tr '[:upper:]' '[:lower:]')
    echo "$b" | grep -Eq '^ +severity: (critical|warning)$' || bad="$bad $name:severity"
    echo "$b" | grep -Eq "^ +summary: '.+'$" || bad="$bad $name:summary"
    echo "$b" | grep -Eq "^ +description: '.+'$" || bad="$bad $name:description"
    echo "$b" | grep -Fqx "          runbook_url: '$base#$anchor'" || bad="$bad $name:runbook_url"
    grep -Fqx "## $name" "$runbook" || bad="$bad $name:runbook-section"
done
t_is "every alert has severity, summary, description and its runbook section" "$bad" ""

# metric names: only ones ringwatchd exports (a histogram's by its family)
# (recorded names, level:metric:operation, are left out)
used_metrics() {
    sed -E 's/#.*//; s/[a-z_]+:ringwatch_[a-z_]+:[a-z0-9_]+//g' "$@" | grep -o 'ringwatch_[a-z_]*' |
        sed 's/_\(bucket\|sum\|count\)$//' | sort -u
}
missing=
for m in $(used_metrics "$alerts" "$rules"; jq -r '.. | .expr? // empty' "$dash" | used_metrics -;
    grep "series: 'ringwatch_" "$unit" | used_metrics -); do
    grep -q "\"$m\"" "$metrics_c" || missing="$missing $m"
done
t_is "the files use only metrics daemon/metrics.c exports" "$missing" ""

# the dashboard
t_ok "the dashboard is JSON" quietly "$work/check" jq -e '.title and .uid' "$dash"
t_is "variables datasource, job, instance" "$(jq -c '[.templating.list[] | .name]' "$dash")" '["datasource","job","instance"]'
t_is "the datasource variable picks Prometheus" "$(jq -r '.templating.list[0] | "\(.type) \(.query)"' "$dash")" "datasource prometheus"
t_is "every panel and target uses \${datasource}" \
    "$(jq '[.panels[] | select(.type != "row") | .datasource.uid, .targets[].datasource.uid] | map(select(. != "${datasource}")) | length' "$dash")" 0
t_is "panel ids unique" "$(jq '[.panels[].id] | (length - (unique | length))' "$dash")" 0
jq -r '.panels[] | select(.type != "row") | .targets[].expr' "$dash" >"$work/exprs"
t_ok "the dashboard has queries" [ "$(wc -l <"$work/exprs")" -ge 20 ]
t_is "every selector filters on job and instance" \
    "$(sed 's/ringwatch_[a-z_]*{job="\$job", instance="\$instance"}//g' "$work/exprs" | grep -c ringwatch_)" 0
shown=
for want in ringwatch_master_connected ringwatch_link_ok ringwatch_link_lag_seconds \
    ringwatch_link_seconds_behind_master ringwatch_conflicts_total ringwatch_conflicts_open \
    ringwatch_detection_delay_seconds_bucket ringwatch_master_bytes_total ringwatch_master_events_total \
    ringwatch_gate_check_ok; do
    grep -q "$want{" "$work/exprs" || shown="$shown $want"
done
t_is "panels: masters, links, both lags, conflicts, the delay histogram, ingest, gate checks (none missing)" "$shown" ""

# the example configurations
for f in prometheus.yml prometheus-global.yml; do
    t_ok "promtool check config: examples/$f" quietly "$work/check" promtool check config "$mixin/examples/$f"
done
if command -v amtool >/dev/null 2>&1; then
    t_ok "amtool check-config: examples/alertmanager.yml" \
        quietly "$work/check" amtool check-config "$mixin/examples/alertmanager.yml"
fi

# ----------------------------------------------------------------- live ----
if ! ring_have_server; then
    [ "${RW_REQUIRE_SERVERS:-0}" = 1 ] && { echo "Bail out! no mariadbd (RW_REQUIRE_SERVERS=1)"; exit 99; }
    t_diag "SKIP the live part: mariadbd not installed"
    t_done
fi
t_need prometheus prometheus-alertmanager

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO app.t VALUES (1, 'init')"
ring_sync || exit 99

# two ringwatchd on the ring, as for redundancy: own server_id, state, port
ring_write_config "$work/a.conf" 127.0.0.1:0 "$work/state-a" >/dev/null
sed -i 's/^server_id = .*/&\nprobe_interval = 1/' "$work/a.conf"
sed 's/^server_id = .*/server_id = 4242002/; s|^state_dir = .*|state_dir = '"$work"'/state-b|' "$work/a.conf" >"$work/b.conf"
mkdir -p "$work/state-b"
t_ok "ringwatchd a starts" rwd_start "$work/a.conf" "$work/a.log" || exit 1
A_PID=$RWD_PID A_URL=$RWD_URL
PIDS="$A_PID"
t_ok "ringwatchd b starts" rwd_start "$work/b.conf" "$work/b.log" || exit 1
B_PID=$RWD_PID B_URL=$RWD_URL
A=${A_URL#http://} B=${B_URL#http://}
streaming() { [ "$(curl -s "$1/v1/status" | jq -r '[.masters[] | .connected and .current] + [.links[] | .stale == false] | all')" = true ]; }
both_streaming() { streaming "$A_URL" && streaming "$B_URL"; }
t_ok "both stream from both masters, both probe them" wait_for 15 both_streaming

# check_metrics STATE: promtool check metrics on both ringwatchd's answers,
# and no NaN in them (a value not known is left out)
check_metrics() {
    local u n=0
    for u in "$A_URL" "$B_URL"; do
        n=$((n + 1))
        curl -sf "$u/metrics" >"$work/metrics-$1-$n" || return 1
        ! grep -n NaN "$work/metrics-$1-$n" | sed 's/^/#   NaN: /' | grep . || return 1
        promtool check metrics <"$work/metrics-$1-$n" >"$work/lint-$1-$n" 2>&1 || { sed 's/^/#   /' "$work/lint-$1-$n"; return 1; }
        [ ! -s "$work/lint-$1-$n" ] || { sed 's/^/#   /' "$work/lint-$1-$n"; return 1; }
    done
}

# Alertmanager, and Prometheus scraping both with the rules and the alerts
# (every `for` 0s), alerts relabelled as README.md's "More than one
# ringwatchd" says
am_port=$(_ring_free_port "${RING_PORTS[@]}") || exit 99
prom_port=$(_ring_free_port "${RING_PORTS[@]}" "$am_port") || exit 99
AM=http://127.0.0.1:$am_port PROM=http://127.0.0.1:$prom_port
cat >"$work/am.yml" <<EOF
route:
  receiver: none
  group_by: [alertname, ring]
receivers:
  - name: none
EOF
prometheus-alertmanager --config.file="$work/am.yml" --storage.path="$work/am" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= --log.level=warn 2>"$work/am.log" &
AM_PID=$!
PIDS="$PIDS $AM_PID"
sed 's/^\( *\)for: .*/\1for: 0s/' "$alerts" >"$work/alerts-now.yaml"
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $work/alerts-now.yaml
  - $rules
alerting:
  alert_relabel_configs:
    - action: labeldrop
      regex: instance
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am_port']
scrape_configs:
  - job_name: ringwatch
    static_configs:
      - targets: ['$A', '$B']
        labels:
          ring: test
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn 2>"$work/prom.log" &
PROM_PID=$!
PIDS="$PIDS $PROM_PID"
t_ok "Alertmanager ready" wait_for 30 curl -sf "$AM/-/ready" -o /dev/null || sed 's/^/#   /' "$work/am.log"
t_ok "Prometheus ready" wait_for 30 curl -sf "$PROM/-/ready" -o /dev/null || sed 's/^/#   /' "$work/prom.log"

q() { curl -s -G --data-urlencode "query=$1" "$PROM/api/v1/query"; }
n_series() { q "$1" | jq '.data.result | length'; }
has() { [ "$(n_series "$1")" -ge "${2:-1}" ]; }
firing() { has "ALERTS{alertname=\"$1\",alertstate=\"firing\"${2:+,$2}}" "${3:-1}"; }
quiet() { [ "$(n_series "ALERTS{alertname=\"$1\"${2:+,$2}}")" = 0 ]; }
am_alerts() { curl -s -G --data-urlencode "filter=alertname=\"$1\"" "$AM/api/v2/alerts?active=true&silenced=false&inhibited=false"; }

# --- healthy ---------------------------------------------------------------------
t_ok "healthy: /metrics passes promtool check metrics, no NaN" check_metrics healthy
t_ok "both ringwatchd scraped" wait_for 30 has 'up{job="ringwatch",ring="test"} == 1' 2
sleep 3 # rates need two samples
rules_ok() { [ "$(curl -s "$PROM/api/v1/rules" | jq '[.data.groups[].rules[] | select(.health != "ok")] | length')" = 0 ]; }
t_ok "every rule evaluates on real series without error" wait_for 20 rules_ok ||
    curl -s "$PROM/api/v1/rules" | jq -r '.data.groups[].rules[] | select(.health != "ok") | "#   \(.name): \(.health) \(.lastError)"'
t_is "as many rules loaded as the files hold" \
    "$(curl -s "$PROM/api/v1/rules" | jq '[.data.groups[].rules[]] | length')" "$((n_alerts + n_records))"
t_ok "recording rules have data: the ring's largest lag" has 'instance:ringwatch_link_lag_seconds:max{ring="test"}' 2
t_ok "recording rules have data: ingest per master" has 'master:ringwatch_master_bytes:rate5m' 4
none_firing() { [ "$(n_series 'ALERTS{alertstate="firing"}')" = 0 ]; }
t_ok "no alert fires on a healthy ring" wait_for 10 none_firing ||
    q 'ALERTS{alertstate="firing"}' | jq -r '.data.result[].metric | "#   \(tostring)"'

# the dashboard's variables and queries, $job and $instance set to ringwatchd a
t_ok "variable job: label_values(ringwatch_build_info, job)" sh -c \
    "curl -s -G --data-urlencode 'match[]=ringwatch_build_info' '$PROM/api/v1/label/job/values' | jq -e '.data | index(\"ringwatch\")' >/dev/null"
t_ok "variable instance: label_values(ringwatch_build_info{job=\"\$job\"}, instance)" sh -c \
    "curl -s -G --data-urlencode 'match[]=ringwatch_build_info{job=\"ringwatch\"}' '$PROM/api/v1/label/instance/values' | jq -e '.data | index(\"$A\")' >/dev/null"
sed "s/\\\$job/ringwatch/g; s/\\\$instance/$A/g; s/\\\$__rate_interval/1m/g" "$work/exprs" >"$work/exprs-a"
# dash_queries STATE: every query answered; list those without data in $work/empty-STATE
dash_queries() {
    local expr r bad=0
    : >"$work/empty-$1"
    while IFS= read -r expr; do
        r=$(q "$expr")
        if [ "$(echo "$r" | jq -r .status)" != success ]; then
            echo "#   $expr: $(echo "$r" | jq -r .error)"
            bad=1
        elif [ "$(echo "$r" | jq '.data.result | length')" = 0 ]; then
            echo "$expr" >>"$work/empty-$1"
        fi
    done <"$work/exprs-a"
    return $bad
}
t_ok "healthy: every dashboard query parses and runs" dash_queries healthy
t_is "healthy: the overview, masters, links and ingest have data" \
    "$(grep -E 'gate_safe|link_ok|master_connected|conflicts_open|link_seconds_behind_master|master_bytes_total|gate_check_ok' "$work/empty-healthy")" ""

# --- a link stopped: STOP SLAVE on east (west→east) --------------------------------
ring_sql 2 "STOP SLAVE '${RING_NAMES[1]}'"
t_ok "STOP SLAVE: RingwatchLinkBroken fires, from both ringwatchd" \
    wait_for 20 firing RingwatchLinkBroken 'source="west",replica="east",severity="critical",ring="test"' 2
t_ok "link stopped: /metrics passes promtool check metrics, no NaN" check_metrics stopped
am_count() { [ "$(am_alerts "$1" | jq length)" = "$2" ]; }
t_ok "Alertmanager holds it once: the two ringwatchd's alerts merged" wait_for 20 am_count RingwatchLinkBroken 1 ||
    am_alerts RingwatchLinkBroken | jq -c '.[].labels' | sed 's/^/#   /'
t_is "with the link's labels, without instance" \
    "$(am_alerts RingwatchLinkBroken | jq -c '.[0].labels | {alertname, job, ring, severity, source, replica, instance}')" \
    '{"alertname":"RingwatchLinkBroken","job":"ringwatch","ring":"test","severity":"critical","source":"west","replica":"east","instance":null}'
url=$(curl -s "$PROM/api/v1/alerts" | jq -r '[.data.alerts[] | select(.labels.alertname == "RingwatchLinkBroken")][0].annotations.description' |
    grep -o 'http://[^ ]*/v1/status' | head -n 1)
t_ok "the description's /v1/status names the cause: STOP SLAVE" sh -c \
    "curl -s '$url' | jq -e '.links[] | select(.source == \"west\" and .replica == \"east\") | .cause | test(\"STOP SLAVE\")' >/dev/null" ||
    t_diag "url: $url"
ring_sql 2 "START SLAVE '${RING_NAMES[1]}'"
t_ok "START SLAVE: it resolves" wait_for 20 quiet RingwatchLinkBroken
t_ok "and Alertmanager has it resolved" wait_for 20 am_count RingwatchLinkBroken 0

# --- conflicts open: an update-update while the links were paused ---------------------
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 1"
ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = 1"
ring_resume_link 1 2; ring_resume_link 2 1
t_ok "a conflict: RingwatchConflictDetected fires with its table and kind" \
    wait_for 20 firing RingwatchConflictDetected 'schema="app",table="t",kind="update-update"' 2
t_ok "RingwatchRowsDiverged fires" wait_for 20 firing RingwatchRowsDiverged 'severity="critical"' 2
t_ok "conflicts open: /metrics passes promtool check metrics, no NaN" check_metrics conflicts
sleep 3
t_ok "conflicts open: every dashboard query parses and runs" dash_queries conflicts
t_is "and every panel has data" "$(cat "$work/empty-conflicts")" ""
t_ok "the detection delay quantile is a number" has \
    "histogram_quantile(0.99, rate(ringwatch_detection_delay_seconds_bucket{job=\"ringwatch\",instance=\"$A\"}[1m])) >= 0"
gate_names_conflicts() {
    firing RingwatchGateClosed '' 2 &&
        curl -s "$PROM/api/v1/alerts" | jq -e '[.data.alerts[] | select(.labels.alertname == "RingwatchGateClosed")][0]
            | .annotations.description | test("failing checks: conflicts\\.")' >/dev/null
}
t_ok "the gate is closed: RingwatchGateClosed fires naming the conflicts check" wait_for 10 gate_names_conflicts

# --- a critical audit finding: IDEMPOTENT on west -----------------------------------
ring_sql 1 "SET GLOBAL slave_exec_mode = 'IDEMPOTENT'"
t_ok "IDEMPOTENT on west: RingwatchAuditCritical fires for that check and master" \
    wait_for 20 firing RingwatchAuditCritical 'check="slave_exec_mode",master="west"' 2
ring_sql 1 "SET GLOBAL slave_exec_mode = 'STRICT'"
t_ok "STRICT again: it resolves" wait_for 20 quiet RingwatchAuditCritical

# --- a master down ------------------------------------------------------------------
ring_stop_master 2
t_ok "east stopped: RingwatchMasterDisconnected fires for east" \
    wait_for 30 firing RingwatchMasterDisconnected 'master="east",severity="critical"' 2
t_ok "and the link from east is broken" wait_for 20 firing RingwatchLinkBroken 'source="east",replica="west"' 2
t_ok "master down: /metrics passes promtool check metrics, no NaN" check_metrics down
t_ok "master down: every dashboard query parses and runs" dash_queries down

# --- a ringwatchd down ----------------------------------------------------------------
kill -TERM "$B_PID"; wait "$B_PID"; RWD_PID=
t_ok "ringwatchd b stopped: RingwatchDown fires naming it" \
    wait_for 20 firing RingwatchDown "ringwatchd=\"$B\",severity=\"critical\""
am_down_names_b() { am_alerts RingwatchDown | jq -e --arg b "$B" '.[0].labels.ringwatchd == $b' >/dev/null; }
t_ok "Alertmanager keeps which one in the ringwatchd label" wait_for 20 am_down_names_b

kill -TERM "$PROM_PID" "$AM_PID"; wait "$PROM_PID" "$AM_PID"
kill -TERM "$A_PID"; wait "$A_PID"; rc=$?
t_is "ringwatchd a stops cleanly" "$rc" 0
t_done
