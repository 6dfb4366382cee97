#!/usr/bin/env bash
# Lag a replica's own status hides: east's IO thread reads west through a TCP
# proxy that is frozen (SIGSTOP: its connections stay open, nothing is
# forwarded). East still says Slave_IO_Running Yes, Slave_SQL_Running Yes and
# Seconds_Behind_Master 0, while ringwatchd, reading both binlogs directly,
# sees west's transactions not reaching east's binlog: west→east lagging with
# that cause, and the gate's lag check failing; back to ok and safe when the
# proxy runs again, the rows arrive and a new write shows the link current.
# The throttle check (freno's protocol, gh-ost's HEAD) says 429 meanwhile,
# with the lag as its Value, under a ring_name other than the default; freno's
# read check says 200 with a threshold above the lag and 429 below it.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq python3

rwd_workdir stall

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT)"
ring_sync || exit 99

# --- the proxy: one process, a thread per direction of each connection -------------
cat >"$work/proxy.py" <<'PYEOF'
# proxy.py TARGET_PORT PORT_FILE: forward 127.0.0.1:<free port> to
# 127.0.0.1:TARGET_PORT; the port is written to PORT_FILE once listening.
# Exits when the shell that started it is gone.
import os, socket, sys, threading

target, port_file = int(sys.argv[1]), sys.argv[2]
parent = os.getppid()
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
ls.settimeout(1)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(port_file + ".tmp", port_file)

def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
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
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
PYEOF
python3 "$work/proxy.py" "${RING_PORTS[1]}" "$work/proxy.port" &
proxy_pid=$!
disown "$proxy_pid" # killed by pid on exit; no job notice
ring_on_exit 'if [ -n "$proxy_pid" ]; then kill -KILL "$proxy_pid" 2>/dev/null; fi'
wait_for 10 test -s "$work/proxy.port" || { echo "Bail out! the proxy did not start"; exit 99; }
proxy_port=$(cat "$work/proxy.port")

# east reads west through the proxy (same connection, GTID as the harness set it)
ring_sql 2 "STOP SLAVE '${RING_NAMES[1]}';
    CHANGE MASTER '${RING_NAMES[1]}' TO MASTER_PORT = $proxy_port, MASTER_USE_GTID = slave_pos;
    START SLAVE '${RING_NAMES[1]}'"
t_is "east's connection to west goes to the proxy" "$(ring_slave_field 2 1 Master_Port)" "$proxy_port"
ring_sql 1 "INSERT INTO app.t VALUES (1, 1)"
t_ok "a write on west reaches east through the proxy" \
    ring_wait_for 2 "SELECT v FROM app.t WHERE id = 1" 1 15

ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i 's/^server_id = .*/&\nprobe_interval = 1\nring_name = orders-ring/' "$work/rw.conf"
printf '\n[gate]\nmax_lag = 2\n' >>"$work/rw.conf"
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
t_ok "connected" wait_for 10 connected
link() { curl -s "$RWD_URL/v1/status" | jq -r ".links[] | select(.source == \"$1\" and .replica == \"$2\") | $3"; }
gate_code() { curl -s -o "$work/gate" -w '%{http_code}' "$RWD_URL/v1/gate"; }
safe() { [ "$(gate_code)" = 200 ]; }
gate_has() { jq -e "$1" "$work/gate" >/dev/null; }
failing() { jq -r '[.checks[] | select(.ok == false) | "\(.name): \(.detail)"] | join("; ")' "$work/gate"; }

# a sample of the link through the proxy, well under max_lag, before the freeze;
# once both streams are current, so that the write shows in west's stream
# before east's (a stream still catching up could show it after east's, and
# the lag would then have no sample)
current() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].current] | all')" = true ]; }
t_ok "both streams current" wait_for 30 current
link_ok() { [ "$(link west east '"\(.state) \(.lag_seconds != null and .lag_seconds < 2)"')" = "ok true" ]; }
# a write each try: a sample needs west's stream to show it before east's, and the
# loop may take east's letter first when both wait (a slow build, a busy loop)
sampled() { ring_sql 1 "REPLACE INTO app.t VALUES (2, $RANDOM)" && sleep 0.5 && link_ok; }
t_ok "west→east through the proxy: ok, measured under max_lag" wait_for 15 sampled ||
    t_diag "west→east: $(link west east '.')"
t_ok "the gate says safe" wait_for 20 safe || t_diag "failing: $(failing)"
# the throttle check of online schema change tools (freno's protocol: GET or
# HEAD /check/APP/mysql/STORE; gh-ost's --throttle-http sends HEAD), the
# store being ring_name, here not the default
throttle() { curl -s -o "$work/throttle" -w '%{http_code}' "$@"; }
t_is "GET /check/gh-ost/mysql/orders-ring: 200" "$(throttle "$RWD_URL/check/gh-ost/mysql/orders-ring")" 200
t_is "HEAD: 200" "$(throttle -I "$RWD_URL/check/gh-ost/mysql/orders-ring")" 200
t_is "the default name is another ring here: 404" "$(throttle "$RWD_URL/check/gh-ost/mysql/ring")" 404

# --- the network stalls: the proxy frozen, west keeps writing ------------------------
kill -STOP "$proxy_pid"
t0=$(date +%s)
for k in 1 2 3 4; do
    ring_sql 1 "INSERT INTO app.t VALUES ($((10 + k)), $k)"
    sleep 1
done
lagging() { [ "$(link west east .state)" = lagging ]; }
t_ok "west→east lagging" wait_for 15 lagging || t_diag "west→east: $(link west east '.')"
t_diag "west→east $(($(date +%s) - t0)) s after the freeze: $(link west east '"\(.state), lag \(.lag_seconds), \(.cause)"')"
t_ok "its cause: west's transactions not in east's binlog" \
    sh -c "curl -s '$RWD_URL/v1/status' | jq -e '.links[] | select(.source == \"west\" and .replica == \"east\") | (.cause // \"\") | test(\"^transactions of west not in east.s binlog for [0-9.]+ s\$\")' >/dev/null" ||
    t_diag "west→east: $(link west east '.')"
# the premise: east's own status shows nothing wrong, and the rows are not there
t_is "east: Slave_IO_Running Yes" "$(ring_slave_field 2 1 Slave_IO_Running)" Yes
t_is "east: Slave_SQL_Running Yes" "$(ring_slave_field 2 1 Slave_SQL_Running)" Yes
t_is "east: Seconds_Behind_Master 0" "$(ring_slave_field 2 1 Seconds_Behind_Master)" 0
t_is "east has none of the rows written since the freeze" \
    "$(ring_sql 2 "SELECT COUNT(*) FROM app.t WHERE id > 10")" 0
t_is "the gate: 503" "$(gate_code)" 503
t_ok "its lag check names west→east" \
    gate_has '.checks[] | select(.name == "lag" and .ok == false) | .detail | test("west→east: [0-9.]+ s behind")' ||
    t_diag "failing: $(failing)"
t_ok "its replication check passes: the threads look fine" \
    gate_has '.checks[] | select(.name == "replication") | .ok'
lag=$(link west east .lag_seconds)
t_is "throttled: GET gives 429" "$(throttle "$RWD_URL/check/gh-ost/mysql/orders-ring")" 429
t_ok "StatusCode 429, Value at least the lag ($lag s), Threshold max_lag, Message naming the lag" \
    jq -e --argjson lag "$lag" '.StatusCode == 429 and .Value >= $lag and .Value > 2 and .Threshold == 2 and
        (.Message | test("^lag: .*west→east: [0-9.]+ s behind"))' "$work/throttle" ||
    t_diag "$(cat "$work/throttle")"
t_is "HEAD, as gh-ost sends it: 429" "$(throttle -I "$RWD_URL/check/gh-ost/mysql/orders-ring")" 429
# freno's read check: /check-read/APP/mysql/STORE/THRESHOLD, THRESHOLD in place of
# max_lag; the lag keeps growing while frozen, so "above" is 300 s above it
above=$(jq -n --argjson lag "$lag" '$lag + 300 | floor')
below=$(jq -n --argjson lag "$lag" '$lag / 2')
t_is "GET /check-read/.../$above, above the lag ($lag s): 200" \
    "$(throttle "$RWD_URL/check-read/myapp/mysql/orders-ring/$above")" 200
t_ok "StatusCode 200, Value at least the lag, Threshold $above, no Message" \
    jq -e --argjson lag "$lag" --argjson t "$above" \
    '.StatusCode == 200 and .Value >= $lag and .Threshold == $t and .Message == ""' "$work/throttle" ||
    t_diag "$(cat "$work/throttle")"
t_is "HEAD too: 200" "$(throttle -I "$RWD_URL/check-read/myapp/mysql/orders-ring/$above")" 200
t_is "GET /check-read/.../$below, below the lag: 429" \
    "$(throttle "$RWD_URL/check-read/myapp/mysql/orders-ring/$below")" 429
t_ok "StatusCode 429, Threshold $below, a Message naming the lag" \
    jq -e --argjson t "$below" '.StatusCode == 429 and .Threshold == $t and
        (.Message | test("^lag: .*west→east: [0-9.]+ s behind"))' "$work/throttle" ||
    t_diag "$(cat "$work/throttle")"
t_is "HEAD too: 429" "$(throttle -I "$RWD_URL/check-read/myapp/mysql/orders-ring/$below")" 429
t_is "the default name: 404" "$(throttle "$RWD_URL/check-read/myapp/mysql/ring/$above")" 404
t_is "a threshold that is no number: 400" "$(throttle "$RWD_URL/check-read/myapp/mysql/orders-ring/soon")" 400
t_diag "after $(($(date +%s) - t0)) s of freeze"

# --- the network forwards again ----------------------------------------------------------
kill -CONT "$proxy_pid"
t_ok "the rows reach east" ring_wait_for 2 "SELECT COUNT(*) FROM app.t WHERE id > 10" 4 20
t_diag "west→east once they arrived: $(link west east '"\(.state), lag \(.lag_seconds)"')"
# nothing on the way: caught up, however late the last frozen row arrived
t_ok "west→east ok again, with no new write" wait_for 15 link_ok || t_diag "west→east: $(link west east '.')"
t_is "its lag: 0" "$(link west east .lag_seconds)" 0
t_is "no cause left" "$(link west east '.cause')" null
t_ok "the gate says safe again" wait_for 15 safe || t_diag "failing: $(failing)"
t_is "the throttle check: 200 again" "$(throttle "$RWD_URL/check/gh-ost/mysql/orders-ring")" 200
t_ok "Value under the threshold, no Message" \
    jq -e '.StatusCode == 200 and .Value < 2 and .Threshold == 2 and .Message == ""' "$work/throttle" ||
    t_diag "$(cat "$work/throttle")"
t_is "HEAD: 200" "$(throttle -I "$RWD_URL/check/gh-ost/mysql/orders-ring")" 200
t_is "the read check with 1 s: 200" "$(throttle "$RWD_URL/check-read/myapp/mysql/orders-ring/1")" 200

kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
