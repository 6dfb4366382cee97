#!/usr/bin/env bash
# Verification on a real ring (doc/verify.md).  A table of 200,000 rows
# with drift planted on 7 rows by sql_log_bin=0 on either master (updates,
# deletes, inserts), verified while both masters write through replication
# to other rows of the same chunks and of other chunks: all 7 found with both
# rows and nothing else; the written chunks come back unsure, then equal.  A
# replicated write to a drift row resolves its record (the engine follows
# it) without a before-image record; a drift planted and then written
# through replication is found once, by the before-image check.  The
# repair, run as printed, and a second verification leave nothing open.
# The throttle waits while a link lags; a restart mid-table resumes.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq promtool

rwd_workdir verify
conflicts() { curl -s "$RWD_URL/v1/conflicts?state=all&limit=1000" | jq -r "$1"; }
vstatus() { curl -s "$RWD_URL/v1/verify" | jq -r "$1"; }
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
safe() { curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/v1/gate?checks=lag,replication,streams" | grep -q 200; }
state_is() { [ "$(vstatus .state)" = "$1" ]; }
verify_wait() { "$RINGWATCH" verify --url "$RWD_URL" "$@" --wait >"$work/verify.out"; }

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40), n INT,
    d DATETIME(3), m DECIMAL(10,2), b VARBINARY(16)) DEFAULT CHARSET utf8mb4;
    INSERT INTO app.t SELECT seq, CONCAT('row ', seq), seq % 97,
        '2024-01-01 00:00:00.123' + INTERVAL seq SECOND, seq / 7, UNHEX(LPAD(HEX(seq), 8, '0'))
    FROM app.seq_1_to_200000;
    CREATE TABLE app.nokey (a INT, b INT, UNIQUE KEY (a)); INSERT INTO app.nokey VALUES (1, 1);
    CREATE TABLE app.uk (a INT NOT NULL, b VARCHAR(10), UNIQUE KEY (a)) DEFAULT CHARSET utf8mb4;
    INSERT INTO app.uk SELECT seq, 'x' FROM app.seq_1_to_1000"
ring_sync 60 || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
printf '\n[gate]\nmax_lag = 2\n' >>"$work/rw.conf"
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
t_ok "both streams connected" wait_for 10 connected
t_ok "the gate's lag, replication and streams checks pass" wait_for 20 safe

# --- drift on 7 rows, written with sql_log_bin=0: not in any binlog
ring_sql 1 "SET SESSION sql_log_bin = 0;
    UPDATE app.t SET v = 'drift west' WHERE id = 10;
    UPDATE app.t SET m = 0.01 WHERE id = 77777;
    DELETE FROM app.t WHERE id = 123456;
    INSERT INTO app.t VALUES (250001, 'only west', 1, NULL, NULL, NULL)"
ring_sql 2 "SET SESSION sql_log_bin = 0;
    UPDATE app.t SET b = NULL WHERE id = 15;
    DELETE FROM app.t WHERE id = 199999;
    INSERT INTO app.t VALUES (0, 'only east', 0, NULL, NULL, NULL)"
drift_keys='0,10,15,77777,123456,199999,250001'

# --- both masters write through replication while the table is verified:
# west the even ids, east the odd ones, of the first 5,000 rows (the chunk
# of rows 10 and 15) and of rows 150,000 to 155,000, never a drift row; a
# write on its way from one master to the other while the chunk's snapshots
# are taken makes the chunk unsure
writer() { # I PARITY: about 15 s of single-row updates
    local i=$1 p=$2
    awk -v p="$p" 'BEGIN { srand(p + 7); for (k = 0; k < 3000; k++) {
        id = (k % 3 == 0 ? 150000 : 0) + 2 * int(rand() * 2500) + p;
        if (id == 10 || id == 15) continue;
        printf "UPDATE app.t SET n = n + 1 WHERE id = %d; DO SLEEP(0.004);\n", id } }' |
        ring_sql "$i"
}
writer 1 0 & w1=$!
writer 2 1 & w2=$!
sleep 1
# And one write held on its way: west's SQL thread waits 1.5 s for a row lock
# on row 21 while east's update of it is in east's snapshot and not in west's
ring_sql 1 "BEGIN; SELECT n FROM app.t WHERE id = 21 FOR UPDATE; DO SLEEP(1.5); COMMIT" >/dev/null & lk=$!
sleep 0.3
ring_sql 2 "UPDATE app.t SET n = n + 1 WHERE id = 21"
"$RINGWATCH" verify --url "$RWD_URL" --table app.t --table app.nokey --chunk-rows 5000 >"$work/start.out"
t_is "ringwatch verify starts a job" "$(cat "$work/start.out")" "verification job 1 started"
t_is "a second one is refused while it runs (409, exit 1)" \
    "$("$RINGWATCH" verify --url "$RWD_URL" 2>/dev/null; echo $?)" 1
t_ok "the job runs" sh -c "curl -s '$RWD_URL/v1/status' | jq -e '.verify.job == 1' >/dev/null"
wait "$w1" "$w2" "$lk"
t_ok "it ends" wait_for 120 sh -c "! '$RINGWATCH' verify --url '$RWD_URL' --status | grep -q '^state: \(running\|paused\)'"
ring_sync 30
"$RINGWATCH" verify --url "$RWD_URL" --status >"$work/status1.out"; rc=$?
sed 's/^/#   /' "$work/status1.out"
t_is "ringwatch verify --status: exit 1, rows differ" "$rc" 1
t_is "the table without a primary key or a UNIQUE key of NOT NULL columns is named as skipped" \
    "$(vstatus '.skipped[] | "\(.table): \(.reason)"')" "app.nokey: no primary key and no UNIQUE key of NOT NULL columns"
t_ok "chunks read while a write to them was on its way came back unsure" sh -c "[ $(vstatus .chunks.unsure) -gt 0 ]"
t_is "and were read again until decided: none left unverified" "$(vstatus .not_verified_chunks)" 0
t_is "200,000 rows read" "$(vstatus .rows)" 200000
t_is "7 rows differ" "$(vstatus .different_rows)" 7
t_is "the 7 drift records, on exactly the planted rows" \
    "$(conflicts '[.conflicts[] | select(.kind == "drift") | .key.id] | sort | map(tostring) | join(",")')" "$drift_keys"
t_is "nothing else: no other record" "$(conflicts '[.conflicts[] | select(.kind != "drift")] | length')" 0
t_is "each with both rows (null where a master has none), diverged, no write" \
    "$(conflicts '[.conflicts[] | select(.kind == "drift") | select((.final | keys) == ["east","west"] and .diverged and .writes == [] and .state == "open")] | length')" 7
t_is "row 10: west's drift and east's row" \
    "$(conflicts '.conflicts[] | select(.key.id == 10) | [.final.west.v, .final.east.v] | join(",")')" "drift west,row 10"
t_is "row 123456: deleted on west only" \
    "$(conflicts '.conflicts[] | select(.key.id == 123456) | [(.final.west == null), .final.east.v] | map(tostring) | join(",")')" "true,row 123456"
t_is "row 0: inserted on east only" \
    "$(conflicts '.conflicts[] | select(.key.id == 0) | [.final.west, .final.east.v] | map(tostring) | join(",")')" "null,only east"
t_is "row 15: binary column as base64, NULL as null" \
    "$(conflicts '.conflicts[] | select(.key.id == 15) | [.final.west.b.base64, (.final.east.b == null)] | map(tostring) | join(",")')" "AAAADw==,true"
t_ok "logged as drift" grep -q 'conflict [0-9]*: drift on app.t {"id":77777}' "$work/log"
t_ok "the metrics count the rows and chunks" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_verify_drift_rows_total 7' &&
    curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_verify_chunks_total{result=\"unsure\"} [1-9]'"
t_ok "metrics pass promtool" sh -c "curl -s '$RWD_URL/metrics' | promtool check metrics"
t_is "GET /v1/verify is /v1/status's verify" "$(curl -s "$RWD_URL/v1/verify" | jq -c .)" \
    "$(curl -s "$RWD_URL/v1/status" | jq -c .verify)"

# --- a replicated write to a drift row: the engine follows the record, the
# write leaves both masters the same row and resolves it; the copy's other
# before image is not reported again
ring_sql 2 "UPDATE app.t SET v = 'fixed by a write' WHERE id = 77777"
resolved_by() { [ "$(conflicts ".conflicts[] | select(.key.id == $1 and .kind == \"drift\") | .resolved_by")" = "$2" ]; }
t_ok "a replicated write resolves the drift record on row 77777" wait_for 15 resolved_by 77777 engine
t_is "and no before-image record on it" \
    "$(conflicts '[.conflicts[] | select(.key.id == 77777 and .kind == "before-image")] | length')" 0

# --- drift planted and then written through replication: the before-image
# check finds it, the verification does not report it again
ring_sql 1 "SET SESSION sql_log_bin = 0; UPDATE app.t SET v = 'quiet drift' WHERE id = 42"
ring_sql 2 "UPDATE app.t SET n = 4242 WHERE id = 42"
bi() { [ "$(conflicts '[.conflicts[] | select(.key.id == 42 and .kind == "before-image")] | length')" = 1 ]; }
t_ok "the before-image check finds row 42" wait_for 15 bi

# --- repair: each drift record's SQL run as printed (west's row kept)
repair_on() { awk -v m="$2" 'index($0, "-- on " m " (") == 1 { on = 1; next } on && /^$/ { on = 0 } on && !/^--/' "$1"; }
"$RINGWATCH" repair --url "$RWD_URL" 1 >/dev/null 2>"$work/repair.err"
t_ok "repair of a drift record without --prefer says to choose" grep -q -- '--prefer NAME' "$work/repair.err"
for id in $(conflicts '.conflicts[] | select(.kind == "drift" and .state == "open") | .id'); do
    "$RINGWATCH" repair --url "$RWD_URL" --prefer west "$id" >"$work/repair-$id.sql" || t_diag "repair $id failed"
    for i in 1 2; do
        sql=$(repair_on "$work/repair-$id.sql" "${RING_NAMES[$i]}")
        [ -z "$sql" ] || ring_sql "$i" "$sql"
    done
done
t_is "the rows are equal again" "$(ring_sql 1 'CHECKSUM TABLE app.t EXTENDED' | cut -f2)" \
    "$(ring_sql 2 'CHECKSUM TABLE app.t EXTENDED' | cut -f2)"
verify_wait --table app.t; rc=$?
sed 's/^/#   /' "$work/verify.out"
t_is "a second verification finds nothing (exit 0)" "$rc" 0
t_is "no row differs" "$(vstatus .different_rows)" 0
t_is "the drift records are resolved, by verification" \
    "$(conflicts '[.conflicts[] | select(.kind == "drift" and .state == "open")] | length'),$(conflicts '[.conflicts[] | select(.kind == "drift" and .resolved_by == "verify")] | length')" "0,6"
t_is "no new record" "$(conflicts '[.conflicts[] | select(.kind == "drift")] | length')" 7

# --- a table without a primary key is read by a UNIQUE key of NOT NULL columns
ring_sql 2 "SET SESSION sql_log_bin = 0; UPDATE app.uk SET b = 'y' WHERE a = 500"
verify_wait --table app.uk; rc=$?
t_is "app.uk, by its UNIQUE key: exit 1, one row differs" "$rc,$(vstatus .different_rows)" "1,1"
t_is "its drift record is keyed by the unique key" \
    "$(conflicts '.conflicts[] | select(.table == "uk") | [(.key | tostring), .final.west.b, .final.east.b] | join(" ")')" '{"a":500} x y'

# --- the throttle: a link stopped while west writes, east→west... west→east lags
ring_pause_link 1 2
(for k in $(seq 1 400); do echo "UPDATE app.t SET n = n + 1 WHERE id = 20002; DO SLEEP(0.02);"; done | ring_sql 1) & w1=$!
t_ok "the gate's lag check fails" wait_for 20 sh -c "curl -s '$RWD_URL/v1/gate?checks=lag' | jq -e '.safe == false' >/dev/null"
"$RINGWATCH" verify --url "$RWD_URL" --table app.t >/dev/null
t_ok "verification waits" wait_for 10 state_is paused
t_ok "saying why" sh -c "curl -s '$RWD_URL/v1/verify' | jq -r .paused | grep -q 'lag: west→east'"
t_ok "ringwatch_verify_paused 1" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_verify_paused 1'"
rows_paused=$(vstatus .rows)
sleep 2
t_is "no chunk read while it waits" "$(vstatus .rows)" "$rows_paused"
kill "$w1" 2>/dev/null; wait "$w1" 2>/dev/null
ring_resume_link 1 2
ring_sync 30
t_ok "once the link caught up it goes on and ends" wait_for 60 state_is done
t_is "every row read" "$(vstatus .rows)" 200000

# --- a restart mid-table: the job goes on from its last chunk
"$RINGWATCH" verify --url "$RWD_URL" --table app.t --chunk-rows 500 >/dev/null
mid() { [ "$(vstatus .rows)" -ge 20000 ]; }
t_ok "the job is under way" wait_for 30 mid
kill -9 "$RWD_PID"; wait "$RWD_PID" 2>/dev/null
before=$(sqlite3 "$work/state/ringwatch.db" "SELECT rows FROM verify_table WHERE job = 5" 2>/dev/null || echo "?")
t_diag "rows read before the kill: $before"
t_ok "ringwatchd starts again" rwd_start "$work/rw.conf" "$work/log2"
t_ok "the job resumes" wait_for 10 grep -q "verify: job 5 resumed where it was" "$work/log2"
t_ok "and ends" wait_for 90 state_is done
t_is "every row read once: 200,000 over both runs" "$(vstatus .rows)" 200000
t_ok "the second run read only what was left" sh -c "[ \$(curl -s '$RWD_URL/metrics' | awk '/^ringwatch_verify_rows_total/ { print \$2 }') -lt 200000 ]"
t_is "nothing differs" "$(vstatus .different_rows)" 0
t_done
