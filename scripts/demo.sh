#!/usr/bin/env bash
# The ringwatch demo, on a throwaway two-master MariaDB ring (west <-> east)
# with ringwatchd watching it and a small application load writing on both
# masters (tests/integration/deploy_load, 20 transactions a second each):
#   1. a safe schema deploy, step by step as docs/deploying.md teaches it
#      (expand, new code, backfill, contract), each statement judged by
#      `ringwatch check-ddl` and each step started only when `ringwatch gate`
#      says safe;
#   2. a conflict: both masters change the same row at once, each ends with
#      the other's value, replication says nothing, ringwatch does;
#   3. an unsafe deploy (east's replication stopped, ALTER ... AFTER on west,
#      east still writing): check-ddl refuses it, run anyway, ringwatch
#      names the broken link and the ALTER behind it;
# printing what ringwatch said at each step, then where to look (the status
# page, the API, the CLI).  Runs until Ctrl-C, then removes everything it
# started (on SIGTERM too).  RW_DEMO_SECONDS=N stops it N seconds after the story;
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
sed -i 's/^server_id = .*/&\nprobe_interval = 1/' "$RING_DIR/ringwatchd.conf"
"$build/daemon/ringwatchd" -c "$RING_DIR/ringwatchd.conf" 2>"$RING_DIR/ringwatchd.log" &
rwd_pid=$!
load_pids=
ring_on_exit "kill $rwd_pid 2>/dev/null; wait $rwd_pid 2>/dev/null"
ring_on_exit 'for p in $load_pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done'
for _ in $(seq 100); do
    curl -sf "http://$listen/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
if ! curl -sf "http://$listen/healthz" >/dev/null; then
    echo "demo: ringwatchd did not come up; its log:" >&2
    cat "$RING_DIR/ringwatchd.log" >&2
    exit 1
fi

url=http://$listen
rw() { "$build/cli/ringwatch" "$@" --url "$url"; }
say() { printf '%s\n' "$*" >&2; }
# shown CMD...: run a ringwatch command, its output indented; its status kept
shown() {
    local rc=0
    say "  \$ ringwatch $*"
    rw "$@" >"$RING_DIR/out" 2>&1 || rc=$?
    sed 's/^/    /' "$RING_DIR/out" >&2
    return $rc
}
for _ in $(seq 100); do
    [ "$(curl -s "$url/v1/status" | grep -o '"connected":true' | wc -l)" -ge 2 ] && break
    sleep 0.1
done

# ------------------------------------------------------------------ the shop ----
say "demo: ringwatchd's status page, live while the story runs: $url/"
say "demo: a shop's tables, replicated west <-> east"
ring_sql 1 "CREATE DATABASE app; USE app;
    CREATE TABLE app.orders (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        origin TINYINT UNSIGNED NOT NULL, ver INT UNSIGNED NOT NULL, qty INT NOT NULL,
        price_cents INT NOT NULL, coupon VARCHAR(16) NULL DEFAULT NULL);
    CREATE TABLE app.kv (id INT PRIMARY KEY, ver INT UNSIGNED NOT NULL DEFAULT 0, v INT NOT NULL DEFAULT 0);
    INSERT INTO app.kv (id) SELECT seq FROM seq_1_to_256;
    CREATE DATABASE shop;
    CREATE TABLE shop.stock (item VARCHAR(20) PRIMARY KEY, qty INT NOT NULL);
    INSERT INTO shop.stock VALUES ('apple', 10), ('pear', 5)"
ring_sync
say "demo: the application writes orders on both masters, 20 transactions a second each"
say "      (each master inserts, updates and deletes its own orders: nothing conflicts)"
for i in 1 2; do
    echo "v1 orders kv" >"$RING_DIR/load.$i.ctl"
    "$build/tests/integration/deploy_load" -S "${RING_SOCKS[i]}" -i "$i" -r 20 \
        -c "$RING_DIR/load.$i.ctl" -o "$RING_DIR/load.$i.status" -l "$RING_DIR/load.$i.log" \
        2>>"$RING_DIR/load.err" &
    load_pids="$load_pids $!"
done
load() { # MODE [I...]: what the writers write
    local mode=$1 i
    shift
    [ $# -gt 0 ] || set -- 1 2
    for i in "$@"; do echo "$mode" >"$RING_DIR/load.$i.ctl"; done
    for i in "$@"; do
        for _ in $(seq 100); do
            grep -q "^mode=$mode committed" "$RING_DIR/load.$i.status" 2>/dev/null && break
            sleep 0.1
        done
    done
}
# gate STEP: wait (at most 30 s) for the gate, then show it
gate() {
    sleep 2 # the load runs on between the steps
    say
    say "demo: step $1"
    for _ in $(seq 60); do rw gate >/dev/null 2>&1 && break; sleep 0.5; done
    shown gate || { say "demo: the gate does not say safe; stopping the deploy"; return 1; }
}
wait_column() { # TABLE COLUMN 1|0: until both masters have (1) or lack (0) it
    for _ in $(seq 100); do
        [ "$(ring_sql 1 "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'app'
                AND TABLE_NAME = '$1' AND COLUMN_NAME = '$2'"),$(ring_sql 2 "SELECT COUNT(*)
                FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = '$1'
                AND COLUMN_NAME = '$2'")" = "$3,$3" ] && return 0
        sleep 0.1
    done
}
sleep 3

# ------------------------------------------------------------ 1. a safe deploy ----
say
say "demo: 1. A SAFE DEPLOY, step by step (docs/deploying.md), the load running all along"
EVENTS="CREATE TABLE app.order_events (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, order_id BIGINT UNSIGNED NOT NULL, origin TINYINT UNSIGNED NOT NULL, ver INT UNSIGNED NOT NULL, total_cents BIGINT NOT NULL)"
ADD="ALTER TABLE app.orders ADD COLUMN total_cents BIGINT NOT NULL DEFAULT 0"
DROP="ALTER TABLE app.orders DROP COLUMN coupon"
deploy() {
    gate "1a, expand: a new table" || return 1
    shown check-ddl "$EVENTS" || return 1
    ring_sql 1 "$EVENTS"
    gate "1b, expand: a new column, at the end, with a DEFAULT" || return 1
    shown check-ddl "$ADD" || return 1
    ring_sql 1 "$ADD"
    wait_column orders total_cents 1
    gate "1c, deploy v2 of the code: it writes total_cents and app.order_events, no longer coupon" || return 1
    load "v2 orders kv"
    gate "1d, backfill total_cents in batches, each master its own orders, after the throttle check" || return 1
    local i n=0
    for i in 1 2; do
        while :; do
            curl -s -o /dev/null -w '%{http_code}' "$url/check/backfill/mysql/ring" | grep -qx 200 || { sleep 0.5; continue; }
            [ "$(ring_sql "$i" "UPDATE app.orders SET total_cents = qty * price_cents
                WHERE origin = $i AND total_cents = 0 LIMIT 200; SELECT ROW_COUNT()")" = 0 ] && break
            n=$((n + 1))
        done
    done
    say "  $n batches; GET $url/check/backfill/mysql/ring said 200 before each"
    gate "1e, contract: drop coupon, which no running code uses now" || return 1
    shown check-ddl "$DROP" || true
    say "  unsafe for one reason, which this step signs off: v2 runs everywhere, and while"
    say "  the DROP travels the ring only west writes app.orders (east writes the other tables)"
    load "v2 events kv" 2
    ring_sql 1 "SELECT MASTER_GTID_WAIT('$(ring_sql 2 "SELECT @@gtid_binlog_pos" | tr ',' '\n' | grep '^2-')', 30)" >/dev/null
    ring_sql 1 "$DROP"
    wait_column orders coupon 0
    ring_sql 2 "SELECT MASTER_GTID_WAIT('$(ring_sql 1 "SELECT @@gtid_binlog_pos" | tr ',' '\n' | grep '^1-')', 30)" >/dev/null
    load "v2 orders kv" 2
    gate "1f, done: the deploy is over" || return 1
}
deploy || true
say "demo: conflicts so far: $(curl -s "$url/v1/conflicts?state=all" | jq '.conflicts | length') (open or resolved); schema drift: $(curl -s "$url/v1/status" | jq -c .schema_drift)"

# ------------------------------------------------------------- 2. a conflict ----
say
say "demo: 2. A CONFLICT: west sells one apple while east sells three, at the same moment"
say "      (the links are paused for a second to make the race certain)"
ring_pause_link 1 2
ring_pause_link 2 1
ring_sql 1 "UPDATE shop.stock SET qty = qty - 1 WHERE item = 'apple'"
ring_sql 2 "UPDATE shop.stock SET qty = qty - 3 WHERE item = 'apple'"
ring_resume_link 1 2
ring_resume_link 2 1
for _ in $(seq 100); do
    curl -s "$url/v1/conflicts" | jq -e '.conflicts[] | select(.table == "stock" and .diverged)' >/dev/null 2>&1 && break
    sleep 0.1
done
say "demo: what the masters hold now (replication reports no error):"
say "  west: apple = $(ring_sql 1 "SELECT qty FROM shop.stock WHERE item = 'apple'")"
say "  east: apple = $(ring_sql 2 "SELECT qty FROM shop.stock WHERE item = 'apple'")"
say "demo: what ringwatch says:"
shown conflicts || true
say "demo: and the deploy gate:"
shown gate || true
id=$(curl -s "$url/v1/conflicts" | jq -r '[.conflicts[] | select(.table == "stock")][0].id')
say "demo: the SQL that makes both masters hold the same row (not run here; docs/deploying.md):"
shown repair "$id" || true

# ---------------------------------------------------------- 3. an unsafe DDL ----
say
say "demo: 3. AN UNSAFE DEPLOY: stop east's replication, ALTER ... AFTER on west, east still writing"
SEED="ALTER TABLE app.orders ADD COLUMN c VARCHAR(20) NULL AFTER id"
shown check-ddl "$SEED" || say "  (exit 1: refused)"
say "demo: run anyway"
ring_sql 2 "STOP SLAVE 'west'"
ring_sql 1 "$SEED"
for _ in $(seq 100); do
    curl -s "$url/v1/status" | jq -e '.links[] | select(.source == "east" and .replica == "west" and .last_error.code == 1677)' >/dev/null 2>&1 && break
    sleep 0.1
done
say "demo: what ringwatch says about the links:"
curl -s "$url/v1/status" | jq -r '.links[] | "  \(.source)→\(.replica): \(.state)"
    + (if .last_error then ", error \(.last_error.code): \(.last_error.cause // .last_error.message)" else "" end)
    + (if .stopped then ", \(.stopped)" else "" end)' >&2
say "demo: and the gate:"
shown gate || true
load pause
say "demo: the load is paused; the ring stays as it is for you to look at"
say "      (docs/deploying.md says how to bring it back)"

cat <<INFO

ringwatch demo is running.
  masters:     west  127.0.0.1:${RING_PORTS[1]}    east  127.0.0.1:${RING_PORTS[2]}
               (mariadb -S ${RING_SOCKS[1]} -uroot)
  ringwatchd:  http://$listen/healthz
  the page:    http://$listen/                 (the ring, the gate, each conflict with its repair)
  the API:     http://$listen/v1/status     http://$listen/v1/conflicts
               http://$listen/v1/gate       http://$listen/v1/tables
               http://$listen/metrics       http://$listen/check/app/mysql/ring
  the CLI:     $build/cli/ringwatch status --url http://$listen
               $build/cli/ringwatch conflicts --url http://$listen
               $build/cli/ringwatch gate --url http://$listen
  its log:     $RING_DIR/ringwatchd.log
  its config:  $RING_DIR/ringwatchd.conf

Press Ctrl-C to stop; everything started here is removed.
INFO

if [ -n "${RW_DEMO_SECONDS:-}" ]; then
    # in the background: a signal's trap runs at once, not after the sleep
    sleep "$RW_DEMO_SECONDS" &
    ring_on_exit "kill $! 2>/dev/null"
    wait $!
else
    while kill -0 "$rwd_pid" 2>/dev/null; do sleep 1; done
    echo "demo: ringwatchd exited; its log:" >&2
    tail -n 20 "$RING_DIR/ringwatchd.log" >&2
    exit 1
fi
