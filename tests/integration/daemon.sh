#!/bin/sh
# ringwatchd as a process: options, /healthz, errors for bad requests,
# SIGHUP reloads (a broken file keeps the running configuration), SIGTERM
# and SIGINT stop cleanly, secrets never reach the log or the process title.
set -u
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"
t_need curl jq

work=$(mktemp -d "${TMPDIR:-/tmp}/rw-daemon.XXXXXX")
RWD_PID=
cleanup() {
    [ -z "$RWD_PID" ] || kill -9 "$RWD_PID" 2>/dev/null
    [ -z "${notify_pid:-}" ] || kill "$notify_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

printf 'pw-in-file-7731\n' > "$work/west.password"
write_conf() {
    cat > "$work/rw.conf" <<CONF
[ringwatchd]
listen = 127.0.0.1:0
state_dir = state
log_level = ${1:-info}

[master.west]
host = 127.0.0.1
port = 1
user = ringwatch
password_file = west.password

[master.east]
host = 127.0.0.1
port = 2
user = ringwatch
password = pw-inline-5521
CONF
}
write_conf

# --- options -------------------------------------------------------------
out=$("$RINGWATCHD" --version); rc=$?
t_is "--version exits 0" "$rc" 0
t_ok "--version prints the version" sh -c "echo '$out' | grep -Eq '^ringwatchd [0-9]+\.[0-9]+\.[0-9]+'"
"$RINGWATCHD" --bogus >/dev/null 2>&1; t_is "unknown option exits 2" "$?" 2
"$RINGWATCHD" -c "$work/missing.conf" 2>"$work/err"; rc=$?
t_is "missing config exits 2" "$rc" 2
t_ok "missing config is named" grep -q "missing.conf:0: config: cannot open" "$work/err"
"$RINGWATCHD" --check-config -c "$work/rw.conf" >"$work/out" 2>&1; rc=$?
t_is "--check-config on a good file exits 0" "$rc" 0
t_ok "--check-config prints no secret" sh -c "! grep -q 'pw-' '$work/out'"
# a FIFO where a secret file belongs is refused at once, not waited on
mkfifo "$work/fifo"
sed 's|^password_file = .*|password_file = fifo|' "$work/rw.conf" >"$work/fifo.conf"
timeout 10 "$RINGWATCHD" --check-config -c "$work/fifo.conf" >"$work/out" 2>&1; rc=$?
t_is "--check-config with a FIFO as password_file exits 2 at once" "$rc" 2
t_ok "naming the file and why" grep -q "password_file: cannot read .*fifo: not a regular file" "$work/out"

# --- serving -------------------------------------------------------------
# with systemd support, the daemon talks to $NOTIFY_SOCKET (Type=notify)
notify_pid=
if "$RINGWATCHD" --version | grep -q '(systemd)'; then
    "$top_builddir/tests/integration/notify_listen" "$work/notify.sock" "$work/notify.log" &
    notify_pid=$!
    wait_for 5 test -S "$work/notify.sock"
    NOTIFY_SOCKET="$work/notify.sock"
    export NOTIFY_SOCKET
fi
t_ok "daemon starts" rwd_start "$work/rw.conf" "$work/log"
t_ok "state_dir created" test -d "$work/state"
t_is "GET /healthz" "$(curl -s "$RWD_URL/healthz")" "ok"
t_is "/healthz status" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/healthz")" 200
t_is "HEAD /healthz" "$(curl -s -I -o /dev/null -w '%{http_code}' "$RWD_URL/healthz")" 200
t_is "unknown path 404" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/nope")" 404
t_is "404 body is JSON" "$(curl -s "$RWD_URL/nope")" '{"error":"no such endpoint"}'
t_is "wrong method 405" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$RWD_URL/healthz")" 405
head -c 1100000 /dev/zero | tr '\0' 'a' > "$work/big"
t_is "oversized body 413" \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$work/big" "$RWD_URL/healthz")" 413
long=$(head -c 100000 /dev/zero | tr '\0' 'x')
code=$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/$long")
t_ok "very long URL is refused, not served ($code)" sh -c "[ '$code' -ge 400 ] && [ '$code' -lt 500 ]"
# raw garbage and a half-sent request must not hurt the daemon
host=${RWD_URL#http://}
if command -v timeout >/dev/null 2>&1; then
    printf '\001\002GARBAGE\r\n\r\n' | timeout 5 curl -s "telnet://$host" >/dev/null 2>&1
    printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' | timeout 2 curl -s "telnet://$host" >/dev/null 2>&1
fi
t_is "still serving after hostile input" "$(curl -s "$RWD_URL/healthz")" "ok"
only_me() { [ "$(curl -s "$RWD_URL/v1/status" | jq .http.connections)" = 1 ]; }
t_ok "the client gone mid-head was let go at once, not held to its deadline" wait_for 1 only_me
# slow clients, in the background while the reloads go on: one sends nothing
# (closed after 5 s), one half a request head (408 after 10 s)
slow_pids=
if command -v timeout >/dev/null 2>&1; then
    sleep 8 | timeout 9 curl -s "telnet://$host" >/dev/null 2>&1 &
    slow_pids="$slow_pids $!"
    (printf 'GET /healthz HTTP/1.1\r\n'; sleep 13) | timeout 14 curl -s "telnet://$host" >"$work/slow.out" 2>&1 &
    slow_pids="$slow_pids $!"
fi
t_is "no reload yet in /v1/status" "$(curl -s "$RWD_URL/v1/status" | jq -c .reloads)" '{"ok_total":0,"failed_total":0,"last":null}'

# --- reload ----------------------------------------------------------------
echo "[master.broken" >> "$work/rw.conf"
kill -HUP "$RWD_PID"
t_ok "a broken reload is logged with file and line" \
    wait_for 5 grep -q "reload failed: $work/rw.conf:17: syntax" "$work/log"
t_ok "and the running configuration is kept" grep -q "keeping the running configuration" "$work/log"
t_is "still serving after a broken reload" "$(curl -s "$RWD_URL/healthz")" "ok"
t_is "/v1/status says the reload failed, and why" \
    "$(curl -s "$RWD_URL/v1/status" | jq -c '[.reloads.ok_total, .reloads.failed_total, .reloads.last.ok, (.reloads.last.error | test("rw.conf:17: syntax"))]')" \
    '[0,1,false,true]'
t_ok "and the metrics" sh -c "curl -s '$RWD_URL/metrics' | grep -qx 'ringwatch_config_last_reload_successful 0'"
write_conf debug
kill -HUP "$RWD_PID"
t_ok "a good reload is applied" wait_for 5 grep -q "reload: done, 2 masters" "$work/log"
t_is "still serving after a good reload" "$(curl -s "$RWD_URL/healthz")" "ok"
t_is "/v1/status says it worked" \
    "$(curl -s "$RWD_URL/v1/status" | jq -c '[.reloads.ok_total, .reloads.failed_total, .reloads.last.ok, .reloads.last.error]')" \
    '[1,1,true,null]'
t_ok "and the metrics" sh -c "curl -s '$RWD_URL/metrics' | grep -qx 'ringwatch_config_last_reload_successful 1' &&
    curl -s '$RWD_URL/metrics' | grep -qx 'ringwatch_config_reloads_total{result=\"failed\"} 1'"
curl -s "$RWD_URL/healthz" >/dev/null
t_ok "the reloaded log_level is in force" wait_for 5 grep -q "debug: http: GET /healthz" "$work/log"

# --- the slow clients, seen ---------------------------------------------------
if [ -n "$slow_pids" ]; then
    wait $slow_pids
    slow() { curl -s "$RWD_URL/v1/status" | jq -c '[.http.idle_closed_total, .http.head_timeouts_total]'; }
    t_is "/v1/status counts the silent connection and the half head" "$(slow)" '[1,1]'
    t_ok "the half head was answered 408" grep -q "HTTP/1.1 408" "$work/slow.out"
    t_ok "the log says so" \
        grep -q "http: slow clients: 1 connection(s) closed after 5 s without a byte and 0 answered 408" "$work/log"
    t_ok "the metrics too" sh -c "curl -s '$RWD_URL/metrics' | grep -qx 'ringwatch_http_connections_closed_total{reason=\"head_timeout\"} 1'"
fi
t_ok "/v1/status counts the connections" \
    sh -c "curl -s '$RWD_URL/v1/status' | jq -e '.http.connections >= 1 and .http.accepted_total > 10 and .http.limit > 0' >/dev/null"

# --- stopped for a while (SIGSTOP), then on again ----------------------------
t_is "no stall yet" "$(curl -s "$RWD_URL/v1/status" | jq -c .stalls)" '{"total":0,"last":null}'
kill -STOP "$RWD_PID"
sleep 6
kill -CONT "$RWD_PID"
t_ok "the log says it did not run" \
    wait_for 5 grep -q "ringwatchd did not run for [6-9]\.[0-9] s (stopped with SIGSTOP, or given no CPU)" "$work/log"
t_is "and /v1/status" "$(curl -s "$RWD_URL/v1/status" | jq -c '[.stalls.total, .stalls.last.seconds >= 6]')" '[1,true]'
t_ok "and the metrics" sh -c "curl -s '$RWD_URL/metrics' | grep -qx 'ringwatch_loop_stalls_total 1'"

# --- secrets -------------------------------------------------------------
t_ok "no password in the log" sh -c "! grep -q 'pw-in' '$work/log'"
t_ok "no password in the process title" sh -c "! tr '\0' ' ' < /proc/$RWD_PID/cmdline | grep -q 'pw-'"

# --- stop ------------------------------------------------------------------
kill -TERM "$RWD_PID"
wait "$RWD_PID"; rc=$?
t_is "SIGTERM exits 0" "$rc" 0
t_ok "stop is logged" grep -q "received SIGTERM, stopping" "$work/log"
RWD_PID=
if [ -n "$notify_pid" ]; then
    t_is "systemd told: READY, RELOADING, READY, RELOADING, READY, STOPPING" \
        "$(sed 's/ .*//' "$work/notify.log" | tr '\n' ' ')" \
        "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 STOPPING=1 "
    t_ok "RELOADING carries MONOTONIC_USEC" grep -q 'RELOADING=1 MONOTONIC_USEC=[0-9]' "$work/notify.log"
    kill "$notify_pid"
    unset NOTIFY_SOCKET
fi
write_conf
t_ok "daemon starts again" rwd_start "$work/rw.conf" "$work/log2"
sed -i 's|^password_file = .*|password_file = fifo|' "$work/rw.conf"
kill -HUP "$RWD_PID"
t_ok "a reload naming a FIFO fails, saying why" \
    wait_for 5 grep -q "reload failed: .*password_file: cannot read .*fifo: not a regular file" "$work/log2"
t_is "and the daemon still answers" "$(curl -s -m 2 "$RWD_URL/healthz")" "ok"
write_conf
kill -INT "$RWD_PID"
wait "$RWD_PID"; rc=$?
t_is "SIGINT exits 0" "$rc" 0
RWD_PID=

# --- the CLI skeleton --------------------------------------------------------
"$RINGWATCH" --version >/dev/null; t_is "ringwatch --version exits 0" "$?" 0
"$RINGWATCH" frobnicate 2>/dev/null; t_is "unknown subcommand exits 2" "$?" 2
"$RINGWATCH" 2>/dev/null; t_is "no subcommand exits 2" "$?" 2

t_done
