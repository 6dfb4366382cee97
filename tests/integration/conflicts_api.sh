#!/bin/sh
# The conflict endpoints and `ringwatch conflicts` over a real ledger:
# conflicts recorded in the daemon's SQLite database are listed newest first,
# shown one by one, resolved once (with the token when one is set), counted
# in /v1/status and the metrics; bad requests get 400, 401 or 404.
set -u
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"
t_need curl jq sqlite3 promtool

work=$(mktemp -d "${TMPDIR:-/tmp}/rw-conflicts.XXXXXX")
RWD_PID=
trap '[ -z "$RWD_PID" ] || kill -9 "$RWD_PID" 2>/dev/null; rm -rf "$work"' EXIT INT TERM
printf 'tok-3141\n' > "$work/token"
cat > "$work/rw.conf" <<CONF
[ringwatchd]
listen = 127.0.0.1:0
state_dir = state
auth_token_file = token
[master.west]
host = 127.0.0.1
port = 1
user = u
password = pw-x-1
[master.east]
host = 127.0.0.1
port = 2
user = u
password = pw-x-2
CONF

# the first start creates the database; the conflicts go in as the engine writes them
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=
add() { # uid kind id detected_at
    sqlite3 "$work/state/ringwatch.db" "INSERT INTO conflict (uid, kind, schema_name, table_name,
        key_json, diverged, detected_at, detection_delay, writes_json, final_json) VALUES ('$1', '$2',
        'app', 't', '{\"id\":$3}', 1, $4, 0.004,
        '[{\"master\":\"west\",\"gtid\":\"1-1-5\",\"op\":\"update\",\"committed_at\":\"2026-11-28T05:53:52Z\",\"before\":{\"id\":$3,\"v\":\"init\"},\"after\":{\"id\":$3,\"v\":\"west\"}},{\"master\":\"east\",\"gtid\":\"2-2-1\",\"op\":\"update\",\"committed_at\":\"2026-11-28T05:53:52Z\",\"before\":{\"id\":$3,\"v\":\"init\"},\"after\":{\"id\":$3,\"v\":\"east\"}}]',
        '{\"west\":{\"id\":$3,\"v\":\"east\"},\"east\":{\"id\":$3,\"v\":\"west\"}}')"
}
add u1 update-update 1 1795850032.12
add u2 insert-insert 2 1795850033.5
t_ok "ringwatchd starts on the ledger" rwd_start "$work/rw.conf" "$work/log2"

list=$(curl -s "$RWD_URL/v1/conflicts")
t_is "two open conflicts" "$(echo "$list" | jq '.conflicts | length')" 2
t_is "newest first" "$(echo "$list" | jq -r '[.conflicts[].id] | join(",")')" "2,1"
one=$(curl -s "$RWD_URL/v1/conflicts/1")
t_is "one conflict: kind" "$(echo "$one" | jq -r .kind)" update-update
t_is "its key" "$(echo "$one" | jq -c .key)" '{"id":1}'
t_is "its writes, by master" "$(echo "$one" | jq -r '[.writes[].master] | join(",")')" "west,east"
t_is "what each master holds" "$(echo "$one" | jq -r '.final.west.v + "," + .final.east.v')" "east,west"
t_is "diverged" "$(echo "$one" | jq -r .diverged)" true
t_is "detected_at in UTC" "$(echo "$one" | jq -r .detected_at)" "2026-11-28T07:13:52.120Z"
t_is "an unknown id is 404" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/v1/conflicts/99")" 404
t_is "a bad state is 400" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/v1/conflicts?state=x")" 400
t_is "a bad limit is 400" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/v1/conflicts?limit=0")" 400
t_is "limit=1" "$(curl -s "$RWD_URL/v1/conflicts?limit=1" | jq '.conflicts | length')" 1
t_is "status counts them" "$(curl -s "$RWD_URL/v1/status" | jq -c '.conflicts | {open, total}')" '{"open":2,"total":2}'
t_ok "metrics per table and kind" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_conflicts_total{schema=\"app\",table=\"t\",kind=\"insert-insert\"} 1'"
t_ok "open gauge" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_conflicts_open 2'"
t_ok "metrics pass promtool" sh -c "curl -s '$RWD_URL/metrics' | promtool check metrics"

out=$("$RINGWATCH" conflicts --url "$RWD_URL"); rc=$?
t_is "ringwatch conflicts: exit 1 while conflicts are open" "$rc" 1
t_ok "it shows the kind and the divergence" sh -c "echo '$out' | grep -q '^#1 update-update app.t {\"id\":1}  open, DIVERGED'"
t_ok "and what each master holds" sh -c "echo '$out' | grep -q 'west *holds *{\"id\":1,\"v\":\"east\"}'"

t_is "resolving without the token is 401" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RWD_URL/v1/conflicts/1/resolve")" 401
t_is "with a wrong token is 401" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' -X POST "$RWD_URL/v1/conflicts/1/resolve")" 401
t_is "with the token: resolved" \
    "$(curl -s -H 'Authorization: Bearer tok-3141' -X POST "$RWD_URL/v1/conflicts/1/resolve" | jq -r .state)" resolved
t_is "resolving again changes nothing" \
    "$(curl -s -H 'Authorization: Bearer tok-3141' -X POST "$RWD_URL/v1/conflicts/1/resolve" | jq -r .resolved_by)" api
t_is "resolving an unknown one is 404" \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer tok-3141' -X POST "$RWD_URL/v1/conflicts/77/resolve")" 404
t_is "one open left" "$(curl -s "$RWD_URL/v1/conflicts" | jq '.conflicts | length')" 1
t_is "both with state=all" "$(curl -s "$RWD_URL/v1/conflicts?state=all" | jq '.conflicts | length')" 2
RINGWATCH_TOKEN=tok-3141 "$RINGWATCH" conflicts --url "$RWD_URL" 2 >/dev/null; t_is "one conflict by id: exit 0" "$?" 0
"$RINGWATCH" conflicts --url "$RWD_URL" 99 2>/dev/null; t_is "an unknown id: exit 2" "$?" 2
t_ok "the token is never logged" sh -c "! grep -q 'tok-3141' '$work'/log*"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
