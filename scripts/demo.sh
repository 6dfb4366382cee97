#!/usr/bin/env bash
# The ringwatch demo: a throwaway two-master MariaDB ring (west <-> east),
# ringwatchd watching it, a workload that makes both sides change the same
# row at once (a real update-update conflict: each master ends up with the
# other's value, and replication says nothing), and where to look.  Runs until Ctrl-C, then removes
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
ring_start -n 2 --row-metadata FULL
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

rw() { "$build/cli/ringwatch" "$@" --url "http://$listen"; }
for _ in $(seq 100); do
    [ "$(curl -s "http://$listen/v1/status" | grep -o '"connected":true' | wc -l)" -ge 2 ] && break
    sleep 0.1
done

echo "demo: a shop's stock table, replicated west <-> east" >&2
ring_sql 1 "CREATE DATABASE shop;
    CREATE TABLE shop.stock (item VARCHAR(20) PRIMARY KEY, qty INT NOT NULL);
    INSERT INTO shop.stock VALUES ('apple', 10), ('pear', 5)"
ring_sync
echo "demo: west sells one apple while east sells three, at the same moment" >&2
echo "      (the links are paused for a second to make the race certain)" >&2
ring_pause_link 1 2
ring_pause_link 2 1
ring_sql 1 "UPDATE shop.stock SET qty = qty - 1 WHERE item = 'apple'"
ring_sql 2 "UPDATE shop.stock SET qty = qty - 3 WHERE item = 'apple'"
ring_resume_link 1 2
ring_resume_link 2 1
ring_sync || true
for _ in $(seq 100); do
    rw conflicts >/dev/null 2>&1 || break # exit 1: open conflicts listed
    sleep 0.1
done
echo >&2
echo "demo: what the masters hold now (replication reports no error):" >&2
echo "  west: apple = $(ring_sql 1 "SELECT qty FROM shop.stock WHERE item = 'apple'")" >&2
echo "  east: apple = $(ring_sql 2 "SELECT qty FROM shop.stock WHERE item = 'apple'")" >&2
echo >&2
echo "demo: what ringwatch says (ringwatch conflicts):" >&2
rw conflicts >&2 || true
echo >&2
echo "demo: and the deploy gate (ringwatch gate):" >&2
rw gate >&2 || true

cat <<INFO

ringwatch demo is running.
  masters:     west  127.0.0.1:${RING_PORTS[1]}    east  127.0.0.1:${RING_PORTS[2]}
               (mariadb -S ${RING_SOCKS[1]} -uroot)
  ringwatchd:  http://$listen/healthz
               http://$listen/v1/status     http://$listen/v1/conflicts
               http://$listen/metrics       http://$listen/v1/gate
  the CLI:     $build/cli/ringwatch status --url http://$listen
               $build/cli/ringwatch conflicts --url http://$listen
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
