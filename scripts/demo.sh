#!/usr/bin/env bash
# The ringwatch demo: a throwaway two-master MariaDB ring (west <-> east),
# ringwatchd watching it, and where to look.  Runs until Ctrl-C, then removes
# everything it started.  RW_DEMO_SECONDS=N stops it after N seconds;
# RW_BUILD_DIR=DIR uses the binaries already built there.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ -n "${RW_BUILD_DIR:-}" ]; then
    build=$RW_BUILD_DIR
else
    sh scripts/deps.sh demo
    build=$top/_build/demo
    echo "demo: building ringwatch in $build" >&2
    sh scripts/build.sh "$build"
fi

RING_NAMES=(west east)
# shellcheck source=../tests/harness/ring.sh
. "$top/tests/harness/ring.sh"
ring_require_server
ring_start -n 2
listen=$(ring_write_config "$RING_DIR/ringwatchd.conf")
"$build/daemon/ringwatchd" -c "$RING_DIR/ringwatchd.conf" 2>"$RING_DIR/ringwatchd.log" &
rwd_pid=$!
ring_on_exit "kill $rwd_pid 2>/dev/null; wait $rwd_pid 2>/dev/null"
for _ in $(seq 100); do
    curl -sf "http://$listen/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
if ! curl -sf "http://$listen/healthz" >/dev/null; then
    echo "demo: ringwatchd did not come up; its log:" >&2
    cat "$RING_DIR/ringwatchd.log" >&2
    exit 1
fi

cat <<INFO

ringwatch demo is running.
  masters:     west  127.0.0.1:${RING_PORTS[1]}    east  127.0.0.1:${RING_PORTS[2]}
               (mariadb -S ${RING_SOCKS[1]} -uroot)
  ringwatchd:  http://$listen/healthz
  its log:     $RING_DIR/ringwatchd.log
  its config:  $RING_DIR/ringwatchd.conf

Press Ctrl-C to stop; everything started here is removed.
INFO

if [ -n "${RW_DEMO_SECONDS:-}" ]; then
    sleep "$RW_DEMO_SECONDS"
else
    while kill -0 "$rwd_pid" 2>/dev/null; do sleep 1; done
    echo "demo: ringwatchd exited; its log:" >&2
    tail -n 20 "$RING_DIR/ringwatchd.log" >&2
    exit 1
fi
