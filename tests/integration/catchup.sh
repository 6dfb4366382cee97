#!/usr/bin/env bash
# A stream that receives events is not necessarily current: west's binlog holds
# a backlog of about 100 MB (101 transactions of 5,000 rows with a 200-byte
# column) before ringwatchd starts, and ringwatchd reads west through a TCP
# proxy that forwards 12 MB a second (a slow network; on the loopback
# ringwatchd reads 100 MB in under a second, too fast to watch).  From its
# first seconds /v1/status says west is catching up (not current, how many
# bytes and transactions behind, an estimate in seconds), the gate's streams
# check fails naming west and how far, and the metrics say so too; once west
# is read to the end, west is current, catching_up null and the gate's
# streams check passes.  East, read directly, catches up at once, its rows
# decoded by its replica thread.  Two rows updated on both masters at once
# halfway through the backlog are reported as two conflicts, keys named.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq python3 promtool

rwd_workdir catchup

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, pad VARCHAR(255))"
inserts() {
    for k in $(seq "$1" "$2"); do
        echo "INSERT INTO app.t SELECT seq, REPEAT('x', 200) FROM app.seq_$((k * 5000 + 1))_to_$(((k + 1) * 5000));"
    done | ring_sql 1
}
inserts 0 50 || exit 99
ring_sync 60 || exit 99
# halfway through the backlog, two rows updated on both masters at once: the
# conflicts are read while the loop is behind, from the replica threads' batches
ring_pause_link 1 2 && ring_pause_link 2 1 || exit 99
ring_sql 1 "UPDATE app.t SET pad = 'west' WHERE id IN (7, 250007)" || exit 99
ring_sql 2 "UPDATE app.t SET pad = 'east' WHERE id IN (7, 250007)" || exit 99
ring_resume_link 1 2 && ring_resume_link 2 1 || exit 99
inserts 51 100 || exit 99
ring_sync 60 || exit 99
west_bytes=$(ring_sql 1 "SHOW BINARY LOGS" | awk '{n += $2} END {print n}')
t_ok "west's binlog holds about 100 MB" test "$west_bytes" -gt 100000000 || t_diag "$west_bytes bytes"

# --- the proxy: a thread per direction of each connection, the master's side
# forwarded at RATE bytes a second ----------------------------------------------
cat >"$work/proxy.py" <<'PYEOF'
# proxy.py TARGET_PORT PORT_FILE RATE: forward 127.0.0.1:<free port> to
# 127.0.0.1:TARGET_PORT, what the target sends at RATE bytes a second; the
# port is written to PORT_FILE once listening.  Exits when its parent is gone.
import os, socket, sys, threading, time

target, port_file, rate = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
parent = os.getppid()
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
ls.settimeout(1)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(port_file + ".tmp", port_file)

def pipe(a, b, limit):
    start, sent = time.monotonic(), 0
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
            sent += len(data)
            ahead = sent / limit - (time.monotonic() - start) if limit else 0
            if ahead > 0:
                time.sleep(ahead)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

while os.getppid() == parent:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        continue
    c.settimeout(None)
    try:
        u = socket.create_connection(("127.0.0.1", target))
    except OSError:
        c.close()
        continue
    threading.Thread(target=pipe, args=(c, u, 0), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c, rate), daemon=True).start()
PYEOF
proxy_pid=
ring_on_exit 'if [ -n "$proxy_pid" ]; then kill -KILL "$proxy_pid" 2>/dev/null; fi'
python3 "$work/proxy.py" "${RING_PORTS[1]}" "$work/proxy.port" 12000000 &
proxy_pid=$!
disown "$proxy_pid" # killed by pid on exit; no job notice
wait_for 10 test -s "$work/proxy.port" || { echo "Bail out! the proxy did not start"; exit 99; }

# ringwatchd reads west (its binlog and its SQL probe) through the proxy
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i "s/^server_id = .*/&\nprobe_interval = 1/; s/^port = ${RING_PORTS[1]}\$/port = $(cat "$work/proxy.port")/" \
    "$work/rw.conf"
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
started=$(date +%s.%N)
elapsed() { awk -v s="$started" -v n="$(date +%s.%N)" 'BEGIN {printf "%.1f", n - s}'; }

status() { curl -s "$RWD_URL/v1/status" >"$work/status" && jq -r "$1" "$work/status"; }
west() { status ".masters[] | select(.name == \"west\") | $1"; }
gate_code() { curl -s -o "$work/gate" -w '%{http_code}' "$RWD_URL/v1/gate"; }
streams_check() { jq -r '.checks[] | select(.name == "streams") | "\(.ok) \(.detail)"' "$work/gate"; }

# --- catching up ------------------------------------------------------------------
catching_up() { [ "$(west '"\(.connected) \(.current) \(.catching_up.bytes > 0)"')" = "true false true" ]; }
t_ok "within seconds of the start: west connected, not current, catching up" wait_for 3 catching_up ||
    t_diag "west: $(west .)"
# (transactions once the stream has read a first transaction of west's domain)
how_far() { [ "$(west '.catching_up | "\(.bytes > 1048576) \(.transactions > 10)"')" = "true true" ]; }
t_ok "how far: over 1 MiB and 10 transactions behind" wait_for 3 how_far || t_diag "west: $(west .)"
t_is "its state says so" "$(jq -r '.masters[] | select(.name == "west") | .state' "$work/status")" catching_up
end_known() {
    jq -e '.masters[] | select(.name == "west") | .master_position |
        .offset > 0 and .file != null and (.gtid | test("^1-1-"))' "$work/status" >/dev/null
}
t_ok "where west's binlog ends, as the probe read it" end_known ||
    t_diag "west: $(jq -c '.masters[] | select(.name == "west")' "$work/status")"
t_is "the gate: 503" "$(gate_code)" 503
streams_fail() {
    [ "$(gate_code)" = 503 ] &&
        streams_check | grep -Eq '^false (.*; )?west: catching up, [0-9.]+ MB / [0-9]+ transactions behind'
}
t_ok "its streams check fails, naming west and how far" streams_fail || t_diag "streams: $(streams_check)"
estimated() { [ "$(west '.catching_up.seconds | type')" = number ]; }
t_ok "an estimate in seconds once the read rate is measured" wait_for 5 estimated ||
    t_diag "west: $(west .)"
gate_says() {
    "$RINGWATCH" gate --url "$RWD_URL" >"$work/gate.txt"
    grep -Eq 'west: catching up, [0-9.]+ MB / [0-9]+ transactions behind, (~[0-9]+|<1) s' "$work/gate.txt"
}
t_ok "ringwatch gate says it, with the estimate" gate_says || t_diag "$(cat "$work/gate.txt")"
t_diag "$(grep 'west: catching up' "$work/gate.txt")"
curl -s "$RWD_URL/metrics" >"$work/metrics"
t_ok "ringwatch_stream_catching_up 1" grep -q '^ringwatch_stream_catching_up{master="west"} 1$' "$work/metrics"
t_ok "ringwatch_stream_behind_bytes over 1 MiB" \
    awk '$1 == "ringwatch_stream_behind_bytes{master=\"west\"}" && $2 > 1048576 {found = 1} END {exit !found}' "$work/metrics"
t_ok "ringwatch_master_current 0" grep -q '^ringwatch_master_current{master="west"} 0$' "$work/metrics"
t_ok "the metrics pass promtool" promtool check metrics <"$work/metrics"
t_diag "catching up seen $(elapsed) s after the start"

# --- caught up ------------------------------------------------------------------------
caught_up() { [ "$(west '"\(.current) \(.catching_up) \(.state)"')" = "true null streaming" ]; }
t_ok "west read to the end: current, catching_up null" wait_for 60 caught_up || t_diag "west: $(west .)"
t_diag "caught up $(elapsed) s after the start"
t_is "at the end of its binlog" "$(jq -r '.masters[] | select(.name == "west") | .position.offset == .master_position.offset' "$work/status")" true
streams_ok() { gate_code >/dev/null; [ "$(streams_check)" = "true 2 streams connected and current" ]; }
t_ok "the gate's streams check passes" wait_for 5 streams_ok || t_diag "streams: $(streams_check)"
curl -s "$RWD_URL/metrics" >"$work/metrics"
t_ok "ringwatch_stream_behind_bytes 0" grep -q '^ringwatch_stream_behind_bytes{master="west"} 0$' "$work/metrics"
t_ok "ringwatch_stream_catching_up 0" grep -q '^ringwatch_stream_catching_up{master="west"} 0$' "$work/metrics"
t_is "east, read directly: current" "$(status '.masters[] | select(.name == "east") | "\(.current) \(.catching_up)"')" "true null"
# east's backlog, read at full speed, keeps the loop behind: its replica
# thread decodes the rows events (8 KiB each, about 13,000), all but those
# in flight when the shapes changed (west's, read through the slow proxy,
# only while a letter still waits for the loop)
batches=$(sed -n 's/^ringwatch_stream_row_batches_total{master="east"} //p' "$work/metrics")
t_ok "east's rows events decoded by its replica thread, not the loop (${batches:-none})" \
    test "${batches:-0}" -gt 10000

crossed() {
    [ "$(curl -s "$RWD_URL/v1/conflicts?state=all" |
        jq -c '[.conflicts[] | select(.kind == "update-update") | .key] | sort_by(.id)')" = '[{"id":7},{"id":250007}]' ]
}
t_ok "the two crossing updates in the backlog: two conflicts, their keys named" wait_for 5 crossed ||
    t_diag "$(curl -s "$RWD_URL/v1/conflicts?state=all" | jq -c '[.conflicts[] | {kind, key}]')"

# a write on a caught-up ring: current all along
ring_sql 1 "INSERT INTO app.t VALUES (0, 'one more')"
sleep 1.5
t_is "a new write: west still current" "$(west '"\(.current) \(.catching_up)"')" "true null"

kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
