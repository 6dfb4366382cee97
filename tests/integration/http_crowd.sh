#!/usr/bin/env bash
# The HTTP server under a crowd: 300 slow-loris connections (a third send
# nothing, a third a request head one byte a second, a third a body one byte
# a second) and 1,000 clients GETting /metrics and /v1/status over and over,
# while a scraper GETs /metrics every second and a deploy tool polls /v1/gate
# ten times a second.  Every scrape and gate answer must come within a
# second (two when built with sanitizers), the crowd must be answered
# rather than cut off, and the slow connections must be closed.
# RW_CROWD_SECONDS sets how long the load lasts (default 20; at least 12, as
# the slow connections' deadlines are 10 s).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl

CROWD="$top_builddir/tests/integration/http_crowd"
SECONDS_UNDER_LOAD=${RW_CROWD_SECONDS:-20}
rwd_workdir http-crowd

ring_start -n 2 || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
port=${RWD_URL##*:}

# a second; two under ASan and UBSan, which make every request some times slower
if [ -n "${RW_SANITIZED:-}" ]; then limit=2; else limit=1; fi
"$CROWD" -d "$SECONDS_UNDER_LOAD" -l "$limit" 127.0.0.1 "$port" >"$work/crowd" 2>"$work/crowd.err"
rc=$?
sed 's/^/# /' "$work/crowd"
head -n 20 "$work/crowd.err" | sed 's/^/#   /'
field() { sed -n "s/^$1 .*\\b$2=\\([0-9.]*\\).*/\\1/p" "$work/crowd"; }

t_is "every scrape and gate answer within $limit s" "$rc" 0
t_ok "the scraper asked every second" test "$(field scrape sent)" -ge $((SECONDS_UNDER_LOAD - 1))
t_is "and every scrape was answered 200" "$(field scrape answered)" "$(field scrape sent)"
t_is "none late" "$(field scrape late)" 0
t_ok "the gate was polled ten times a second" test "$(field gate sent)" -ge $((SECONDS_UNDER_LOAD * 9))
t_is "and answered every time" "$(field gate answered)" "$(field gate sent)"
t_is "none late" "$(field gate late)" 0
t_ok "the crowd was served" test "$(field crowd answered)" -ge 1000
t_is "no crowd connection cut off" "$(field crowd cut)" 0
t_is "none refused" "$(field crowd refused)" 0
t_ok "connections that send nothing were closed" test "$(field slow idle_closed)" -ge 100
t_ok "so were those that send their head a byte a second" test "$(field slow trickle_closed)" -ge 100
t_ok "and those that send their body a byte a second" test "$(field slow body_closed)" -ge 100
t_is "still serving afterwards" "$(curl -s -m 5 "$RWD_URL/healthz")" ok
t_ok "ringwatchd still runs" kill -0 "$RWD_PID"
t_done
