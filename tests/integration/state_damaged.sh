#!/usr/bin/env bash
# A damaged conflict ledger is an error, never an empty answer.  Three
# conflicts are recorded; with ringwatchd stopped, 200 bytes of the conflict
# table's page in ringwatch.db are flipped: ringwatchd refuses to start (exit
# 2), naming the file and what to do.  Moved aside, ringwatchd makes a new
# state and finds the three conflicts again in the masters' binlogs.  Damaged
# under a running ringwatchd, reads answer 500 with the reason, and a new
# conflict that cannot be written is kept, retried, and said in /healthz, the
# gate and the metrics.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq sqlite3 python3

rwd_workdir state-damaged
db=$work/state/ringwatch.db
conflicts() { curl -s "$RWD_URL/v1/conflicts?state=all" | jq -r "$1"; }
n_uu() { [ "$(conflicts '[.conflicts[] | select(.kind == "update-update")] | length')" = "$1" ]; }
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
code() { curl -s -o "$work/body" -w '%{http_code}' "$RWD_URL$1"; }
stop_rwd() { kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=; }
# ends_within SECONDS PID: the process ends by then, its exit status in rc (else it is killed)
ends_within() {
    if wait_for "$1" sh -c "! kill -0 $2"; then wait "$2"; rc=$?; return 0; fi
    kill -9 "$2"; wait "$2" 2>/dev/null; rc=killed
    return 1
}
# flip N bytes of the conflict table's root page, from its start
flip_conflict_page() {
    local page size
    page=$(sqlite3 "$db" "SELECT rootpage FROM sqlite_master WHERE name = 'conflict'")
    size=$(sqlite3 "$db" "PRAGMA page_size")
    python3 - "$db" $(((page - 1) * size)) "$1" <<'EOF'
import sys
path, off, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, 'r+b') as f:
    f.seek(off)
    b = bytearray(f.read(n))
    f.seek(off)
    f.write(bytes(x ^ 0xff for x in b))
EOF
}
# update-update conflicts on rows FROM..TO: both masters write while the links are paused
cross_updates() {
    ring_pause_link 1 2; ring_pause_link 2 1
    for i in $(seq "$1" "$2"); do
        ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = $i"
        ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = $i"
    done
    ring_resume_link 1 2; ring_resume_link 2 1
}

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO app.t VALUES (1, 'init'), (2, 'init'), (3, 'init'), (4, 'init')"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log1"
t_ok "connected" wait_for 15 connected
cross_updates 1 3
t_ok "three conflicts recorded" wait_for 15 n_uu 3
t_is "three open" "$(curl -s "$RWD_URL/v1/status" | jq -r .conflicts.open)" 3
stop_rwd
t_is "a clean stop" "$rc" 0

# --- damaged while ringwatchd is down: it does not start -----------------------------
t_ok "200 bytes of the conflict table's page flipped" flip_conflict_page 200
"$RINGWATCHD" -c "$work/rw.conf" 2>"$work/log2" &
t_ok "ringwatchd stops at once" ends_within 15 $!
t_is "exit 2, as for a bad configuration" "$rc" 2
t_ok "the log names the file as damaged" grep -qF "state: $db is damaged (SQLite's integrity check: " "$work/log2"
t_ok "and says what to do" grep -q "move it aside with its -wal and -shm files and start ringwatchd again" "$work/log2"
t_ok "it never listened" sh -c "! grep -q 'listening on' '$work/log2'"

# --- moved aside: a new state, the conflicts found again in the binlogs -----------------
mkdir "$work/aside" && mv "$db"* "$work/aside/"
t_ok "ringwatchd starts with the damaged file moved aside" rwd_start "$work/rw.conf" "$work/log3"
t_ok "it says it makes a new state from the binlogs" \
    grep -qF "state: $db is new: each master's binlogs are read from the oldest it still has" "$work/log3"
t_ok "the three conflicts are found again" wait_for 30 n_uu 3
t_is "/v1/conflicts/1 has its writes" "$(curl -s "$RWD_URL/v1/conflicts/1" | jq -r '.writes | length')" 2
t_is "ringwatch.db is 0600" "$(stat -c %a "$db")" 600

# --- damaged under a running ringwatchd ------------------------------------------------
# everything into the file, the page flipped, and another connection's write so
# that ringwatchd reads its pages from the file again
sqlite3 -cmd ".timeout 5000" "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
flip_conflict_page 200
sqlite3 -cmd ".timeout 5000" "$db" "CREATE TABLE poke (x); DROP TABLE poke" 2>/dev/null
t_is "GET /v1/conflicts?state=all: 500, not []" "$(code '/v1/conflicts?state=all')" 500
t_ok "with the reason, naming the file" \
    sh -c "jq -r .error '$work/body' | grep -qF 'the conflict ledger cannot be read: $db: database disk image is malformed'"
t_is "GET /v1/conflicts/1: 500, not 404" "$(code /v1/conflicts/1)" 500
cross_updates 4 4
t_ok "a new conflict that cannot be written is logged" \
    wait_for 15 grep -q "state: writing a conflict to $db failed (.*malformed.*); kept in memory and tried again each second" "$work/log3"
t_is "/healthz says so: 503" "$(code /healthz)" 503
t_ok "with the reason" sh -c "jq -r .error '$work/body' | grep -q '^state: [0-9]* writes failed, kept in memory and tried again each second: '"
gate_state() { curl -s "$RWD_URL/v1/gate?checks=state" | jq -r '.checks[0] | "\(.ok) \(.detail)"'; }
t_ok "the gate's state check fails" sh -c "'$RINGWATCH' gate --url '$RWD_URL' | grep -q '^state: [0-9]* writes failed'"
t_ok "as in /v1/gate" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$RWD_URL/v1/gate?checks=state')\" = 503 ]"
metric() { curl -s "$RWD_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
t_ok "ringwatch_state_writes_kept > 0" test "$(metric ringwatch_state_writes_kept)" -gt 0
errors=$(metric ringwatch_state_write_errors_total)
t_ok "ringwatch_state_write_errors_total > 0 ($errors)" test "$errors" -gt 0
t_ok "and it grows as the write is tried again" \
    wait_for 5 sh -c "[ \"\$(curl -s '$RWD_URL/metrics' | awk '\$1 == \"ringwatch_state_write_errors_total\" { print \$2 }')\" -gt $errors ]"
t_is "/v1/status says so" "$(curl -s "$RWD_URL/v1/status" | jq -r '.state.writes_kept > 0')" true
stop_rwd
t_is "a clean stop" "$rc" 0
t_ok "the writes that could not be written are named as lost" \
    grep -q "state: [0-9]* writes to $db are lost (.*); no checkpoint was saved past them" "$work/log3"
"$RINGWATCHD" -c "$work/rw.conf" 2>"$work/log4" &
ends_within 15 $!
t_is "and the next start refuses the damaged file" "$rc" 2
t_done
