#!/usr/bin/env bash
# Table shapes by binlog position, on a real ring, with each binlog_row_metadata
# (NO_LOG, MariaDB's default; MINIMAL; FULL): tables created and altered while
# ringwatchd runs get the right keys and column names at once; a table whose
# shape is not known is named and its rows are not compared, never guessed; a
# backlog across an ADD COLUMN FIRST is read after a restart with each row's
# own shape.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq mariadb-binlog

rwd_workdir schema
conflicts() { curl -s "$RWD_URL/v1/conflicts?state=all" | jq -r "$1"; }
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
# the newest non-before-image conflict on TABLE: "kind key before-west-image"
newest() {
    conflicts "[.conflicts[] | select(.table == \"$1\" and .kind != \"before-image\")][0] |
        if . == null then \"none\" else
        \"\(.kind) \(.key | tostring) \(.writes | map(select(.master == \"west\"))[0] | (.after // .before) | tostring)\" end"
}
n_on() { conflicts "[.conflicts[] | select(.table == \"$1\" and .kind != \"before-image\")] | length"; }
# both SQL_WEST SQL_EAST: the two writes with the links paused, then synced
both() {
    ring_pause_link 1 2; ring_pause_link 2 1
    ring_sql 1 "$1"
    ring_sql 2 "$2"
    ring_resume_link 1 2; ring_resume_link 2 1
    # applied everywhere before the next DDL (a DDL overtaking a row event
    # in flight breaks the ring: that is what the gate is for); an
    # insert-insert stops both links, unstick() then skips the events
    ring_sync 20 2>/dev/null || true
}
# unstick: skip the events each link stopped on (1062/1032 after a conflict)
stopped() { [ "$(ring_slave_field "$1" "$2" Last_SQL_Errno)" != 0 ]; }
unstick() {
    for i in 1 2; do
        src=$((3 - i))
        wait_for 10 stopped "$i" "$src"
        case "$(ring_slave_field "$i" "$src" Last_SQL_Errno)" in 1062 | 1032)
            ring_sql "$i" "STOP SLAVE '${RING_NAMES[$src]}'; SET @@default_master_connection = '${RING_NAMES[$src]}';
                SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '${RING_NAMES[$src]}'" ;;
        esac
    done
}
# expect_newest DESC TABLE WANT: wait until the newest conflict on TABLE is WANT
expect_newest() {
    is_newest() { [ "$(newest "$2")" = "$3" ]; }
    if wait_for 15 is_newest x "$2" "$3"; then
        t_is "$1" "$3" "$3"
    else
        t_is "$1" "$(newest "$2")" "$3"
    fi
}

for meta in ${RW_SCHEMA_META:-NO_LOG MINIMAL FULL}; do
    t_diag "binlog_row_metadata=$meta"
    ring_start -n 2 --row-metadata "$meta" || exit 99
    ring_sql 1 "CREATE DATABASE app"
    ring_sync || exit 99
    ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state-$meta" >/dev/null
    # information_schema every 5 probe rounds: 5 s; a DDL not everywhere in 3 s is drift
    sed -i 's/^server_id = .*/&\nprobe_interval = 1/' "$work/rw.conf"
    printf '\n[gate]\nddl_replication_timeout = 3\n' >>"$work/rw.conf"
    t_ok "$meta: ringwatchd starts" rwd_start "$work/rw.conf" "$work/log-$meta"
    t_ok "$meta: both streams connected" wait_for 10 connected
    t_ok "$meta: information_schema read" wait_for 10 grep -q "tables read from information_schema" "$work/log-$meta"

    # created while ringwatchd runs, written at once: update-update
    ring_sql 1 "CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO app.t VALUES (1, 'init')"
    ring_sync
    both "UPDATE app.t SET v = 'west' WHERE id = 1" "UPDATE app.t SET v = 'east' WHERE id = 1"
    expect_newest "$meta: CREATE TABLE then update-update: key and names" t \
        'update-update {"id":1} {"id":1,"v":"west"}'

    # insert-insert on a table created a moment before
    ring_sql 2 "CREATE TABLE app.u (code VARCHAR(8) NOT NULL, n INT, UNIQUE KEY (code))"
    ring_sync
    both "INSERT INTO app.u VALUES ('k7', 1)" "INSERT INTO app.u VALUES ('k7', 2)"
    expect_newest "$meta: insert-insert keyed by the NOT NULL unique key" u \
        'insert-insert {"code":"k7"} {"code":"k7","n":1}'
    unstick; ring_sync 20

    # ADD COLUMN FIRST, then writes at once
    ring_sql 1 "ALTER TABLE app.t ADD COLUMN z INT NOT NULL DEFAULT 5 FIRST"
    ring_sync
    both "UPDATE app.t SET v = 'w2' WHERE id = 1" "UPDATE app.t SET v = 'e2' WHERE id = 1"
    expect_newest "$meta: ADD COLUMN FIRST: still keyed by id" t \
        'update-update {"id":1} {"z":5,"id":1,"v":"w2"}'

    # AFTER, CHANGE (a rename), DROP in one statement
    ring_sql 2 "ALTER TABLE app.t ADD COLUMN w INT AFTER id, CHANGE COLUMN v vv VARCHAR(30), DROP COLUMN z"
    ring_sql 2 "ALTER TABLE app.t ADD COLUMN e INT"
    ring_sync
    both "UPDATE app.t SET vv = 'w3' WHERE id = 1" "UPDATE app.t SET vv = 'e3' WHERE id = 1"
    expect_newest "$meta: AFTER, CHANGE, DROP and ADD at the end" t \
        'update-update {"id":1} {"id":1,"w":null,"vv":"w3","e":null}'

    # another primary key
    ring_sql 1 "CREATE TABLE app.p (a INT NOT NULL, b INT NOT NULL, v INT, PRIMARY KEY (a)); INSERT INTO app.p VALUES (1, 10, 0)"
    ring_sql 1 "ALTER TABLE app.p DROP PRIMARY KEY, ADD PRIMARY KEY (b, a)"
    ring_sync
    both "UPDATE app.p SET v = 1 WHERE a = 1" "UPDATE app.p SET v = 2 WHERE a = 1"
    expect_newest "$meta: DROP/ADD PRIMARY KEY: the new key" p \
        'update-update {"b":10,"a":1} {"a":1,"b":10,"v":1}'

    # RENAME and a new table under the old name with another key; LIKE; an executable comment
    ring_sql 1 "RENAME TABLE app.t TO app.t_old; CREATE TABLE app.t (code VARCHAR(10) PRIMARY KEY, q INT);
        INSERT INTO app.t VALUES ('c', 0); CREATE TABLE app.l LIKE app.p; INSERT INTO app.l VALUES (2, 20, 0)"
    ring_sql 1 "/*!50100 ALTER TABLE app.l ADD COLUMN x INT FIRST */"
    ring_sync
    both "UPDATE app.t SET q = 1 WHERE code = 'c'" "UPDATE app.t SET q = 2 WHERE code = 'c'"
    expect_newest "$meta: a new table under a renamed one's name" t \
        'update-update {"code":"c"} {"code":"c","q":1}'
    both "UPDATE app.l SET v = 1 WHERE a = 2" "UPDATE app.l SET v = 2 WHERE a = 2"
    expect_newest "$meta: CREATE TABLE LIKE, then an executable comment's ALTER" l \
        'update-update {"b":20,"a":2} {"x":null,"a":2,"b":20,"v":1}'
    both "UPDATE app.t_old SET vv = 'w4' WHERE id = 1" "UPDATE app.t_old SET vv = 'e4' WHERE id = 1"
    expect_newest "$meta: the renamed table keeps its shape" t_old \
        'update-update {"id":1} {"id":1,"w":null,"vv":"w4","e":null}'

    # a shape the history gives up on, written at once: the stream waits
    # while information_schema is read, and the rows are keyed by its shape
    ring_sql 1 "CREATE TABLE app.v (id INT PRIMARY KEY, n INT); INSERT INTO app.v VALUES (1, 0)"
    ring_sql 1 "ALTER TABLE app.v ADD SYSTEM VERSIONING; UPDATE app.v SET n = 1 WHERE id = 1"
    ring_sync
    held_v() { grep -q "the rows of app.v fit no shape ringwatch knows: its events wait" "$work/log-$meta" &&
        grep -q "master west: its events go on after" "$work/log-$meta"; }
    reads() { [ "$(grep -c 'tables read from information_schema' "$work/log-$meta")" -ge 2 ]; }
    if [ "$meta" = FULL ]; then
        # the table maps name the columns and the key: nothing is unknown
        t_ok "$meta: the table map's own metadata keys its rows" sh -c "! curl -s '$RWD_URL/v1/status' | jq -e '.unknown_tables[] | select(.table == \"v\")' >/dev/null"
        t_ok "$meta: the history reads information_schema again" wait_for 20 reads
    else
        t_ok "$meta: rows of a table the history gave up on: the stream waits for information_schema" wait_for 15 held_v
        t_ok "$meta: and they are compared" sh -c "! grep -q 'rows of app.v are not compared' '$work/log-$meta'"
        # MariaDB's long UNIQUE keys add a hidden hash column to the table map:
        # on a BLOB the parser knows it; on a VARCHAR too long for a key (made
        # a hash by the server) only information_schema says so, read while
        # the stream waits
        ring_sql 1 "CREATE TABLE app.lu (id INT PRIMARY KEY, b BLOB, n INT, UNIQUE KEY ub (b)); INSERT INTO app.lu VALUES (1, 'x', 0)"
        ring_sql 1 "CREATE TABLE app.h (id INT PRIMARY KEY, b VARCHAR(2000) CHARACTER SET utf8mb4, n INT, UNIQUE KEY ub (b)); INSERT INTO app.h VALUES (1, 'x', 0)"
        ring_sync
        both "UPDATE app.lu SET n = 1 WHERE id = 1" "UPDATE app.lu SET n = 2 WHERE id = 1"
        both "UPDATE app.h SET n = 1 WHERE id = 1" "UPDATE app.h SET n = 2 WHERE id = 1"
        keyed_with() { [ "$(conflicts "[.conflicts[] | select(.table == \"$1\")][0] | [.kind, (.key | tostring), (.writes[] | select(.master == \"west\") | .after | keys_unsorted | join(\",\"))] | join(\" \")")" = "$2" ]; }
        t_ok "$meta: a long UNIQUE on a BLOB: its hidden hash column known, rows keyed" wait_for 15 keyed_with lu 'update-update {"id":1} id,b,n,DB_ROW_HASH_1'
        t_ok "$meta: a long UNIQUE on a long VARCHAR: known from information_schema, rows keyed" wait_for 15 keyed_with h 'update-update {"id":1} id,b,n,DB_ROW_HASH_1'

        # a table information_schema does not show ringwatch (its user may
        # read app.* only): its shape stays unknown, its rows are named as not
        # compared while they are written, never guessed
        ring_sql 1 "SET sql_log_bin = 0; REVOKE SELECT ON *.* FROM 'ringwatch'@'127.0.0.1', 'ringwatch'@'localhost';
            GRANT SELECT ON app.* TO 'ringwatch'@'127.0.0.1', 'ringwatch'@'localhost'"
        for id in $(ring_sql 1 "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'ringwatch'"); do
            ring_sql 1 "KILL $id" 2>/dev/null
        done
        ring_sql 1 "CREATE DATABASE priv; SET sql_log_bin = 0; CREATE TABLE priv.h (id INT PRIMARY KEY, b INT)"
        ring_sql 2 "SET sql_log_bin = 0; CREATE TABLE priv.h (id INT PRIMARY KEY, b INT)"
        t_ok "$meta: reconnected with less to read" wait_for 15 connected
        ( for k in $(seq 1 80); do ring_sql 1 "INSERT INTO priv.h VALUES ($k, $k)"; sleep 0.1; done ) &
        writer=$!
        unknown_h() { curl -s "$RWD_URL/v1/status" | jq -e '.unknown_tables[] | select(.schema == "priv" and .table == "h" and .master == "west") | .reason | test("no CREATE TABLE or snapshot")' >/dev/null; }
        status_names() { "$RINGWATCH" status --url "$RWD_URL" | grep -q '^  priv.h on west: [0-9]* row changes: '; }
        gate_names() { curl -s "$RWD_URL/v1/gate" | jq -e '.checks[] | select(.name == "tracking" and .ok == false) | .detail | test("priv.h on west not compared")' >/dev/null; }
        t_ok "$meta: a table ringwatch may not see: named in /v1/status with the reason" wait_for 10 unknown_h
        t_ok "$meta: ringwatch status names it" wait_for 10 status_names
        t_ok "$meta: and the gate's tracking check says so" wait_for 10 gate_names
        t_ok "$meta: the stream waited for it once only" sh -c "[ \"\$(grep -c 'master west: the rows of priv.h fit no shape' '$work/log-$meta')\" = 1 ]"
        wait "$writer"
        ring_sql 1 "SET sql_log_bin = 0; GRANT SELECT ON *.* TO 'ringwatch'@'127.0.0.1', 'ringwatch'@'localhost'"
        t_ok "$meta: nothing guessed: no conflict on priv.h" sh -c "[ \"\$(curl -s '$RWD_URL/v1/conflicts?state=all' | jq '[.conflicts[] | select(.schema == \"priv\")] | length')\" = 0 ]"
    fi
    t_ok "$meta: nothing guessed: no conflict on app.v" sh -c "[ \"\$(curl -s '$RWD_URL/v1/conflicts?state=all' | jq '[.conflicts[] | select(.table == \"v\")] | length')\" = 0 ]"

    # a table made with sql_log_bin=0 on each master (no CREATE in any
    # binlog), written at once; then an ALTER made the same way: each time
    # the streams wait while information_schema is read
    for i in 1 2; do
        ring_sql "$i" "SET sql_log_bin = 0; CREATE TABLE app.s0 (k INT NOT NULL DEFAULT 0, id INT PRIMARY KEY, v INT); INSERT INTO app.s0 VALUES (0, 1, 0)"
    done
    both "UPDATE app.s0 SET v = 1 WHERE id = 1" "UPDATE app.s0 SET v = 2 WHERE id = 1"
    expect_newest "$meta: a table no binlog created, written at once: keyed" s0 \
        'update-update {"id":1} {"k":0,"id":1,"v":1}'
    for i in 1 2; do
        ring_sql "$i" "SET sql_log_bin = 0; ALTER TABLE app.s0 ADD COLUMN f INT NOT NULL DEFAULT 7 FIRST"
    done
    both "UPDATE app.s0 SET v = 3 WHERE id = 1" "UPDATE app.s0 SET v = 4 WHERE id = 1"
    expect_newest "$meta: an ALTER no binlog has, written at once: keyed by the new shape" s0 \
        'update-update {"id":1} {"f":7,"k":0,"id":1,"v":3}'
    t_ok "$meta: no row of app.s0 left uncompared" sh -c "! grep -q 'app.s0 are not compared' '$work/log-$meta'"
    if [ "$meta" != FULL ]; then
        t_ok "$meta: both streams waited for app.s0" sh -c "grep -q 'master east: the rows of app.s0 fit no shape' '$work/log-$meta' && grep -q 'master west: the rows of app.s0 fit no shape' '$work/log-$meta'"
    fi

    # a statement the server runs but the parser cannot read (a qualified
    # column name): named in the log, the table unknown until information_schema
    # is read, its rows keyed by that, nothing guessed
    ring_sql 1 "CREATE TABLE app.q (q.id INT PRIMARY KEY, q.v INT); INSERT INTO app.q VALUES (1, 0)"
    ring_sync
    t_ok "$meta: the statement it cannot read is named" grep -q "a DDL statement ringwatch cannot read .*CREATE TABLE app.q" "$work/log-$meta"
    both "UPDATE app.q SET v = 1 WHERE id = 1" "UPDATE app.q SET v = 2 WHERE id = 1"
    expect_newest "$meta: its rows keyed from information_schema, nothing guessed" q \
        'update-update {"id":1} {"id":1,"v":1}'

    # a sequence: its row is the server's state, neither compared nor unknown
    ring_sql 1 "CREATE SEQUENCE app.seq CACHE 2"
    ring_sync
    for i in 1 2 1 2; do
        ring_sql "$i" "SELECT NEXTVAL(app.seq); SELECT NEXTVAL(app.seq); SELECT NEXTVAL(app.seq)" >/dev/null
    done
    ring_sync
    seq_maps() { for f in "$RING_DIR"/west/binlog.[0-9]*; do mariadb-binlog "$f" 2>/dev/null; done | grep -c 'Table_map: `app`.`seq`'; }
    t_ok "$meta: a sequence's row changes are in the binlog" sh -c "[ $(seq_maps) -ge 2 ]"
    t_ok "$meta: a sequence is no unknown table" sh -c "! curl -s '$RWD_URL/v1/status' | jq -e '.unknown_tables[] | select(.table == \"seq\")' >/dev/null"
    t_ok "$meta: nor does a stream wait for it" sh -c "! grep -q 'rows of app.seq' '$work/log-$meta'"
    t_is "$meta: nor is its row compared" "$(n_on seq)" 0

    # load on both masters while a column is added at the end (each master its own rows)
    ring_sql 1 "USE app; CREATE TABLE app.load (id INT PRIMARY KEY, n INT NOT NULL);
        INSERT INTO app.load SELECT seq, 0 FROM seq_1_to_20"
    ring_sync
    for i in 1 2; do
        awk -v m="$i" 'BEGIN { for (k = 0; k < 1500; k++) printf "UPDATE app.load SET n = n + 1 WHERE id = %d;\n", 2 * (k % 10) + m }' >"$work/load$i.sql"
        ring_sql "$i" <"$work/load$i.sql" &
        eval "load_pid$i=\$!"
    done
    sleep 0.3
    ring_sql 1 "ALTER TABLE app.load ADD COLUMN extra INT"
    wait "$load_pid1" "$load_pid2"
    t_ok "$meta: the ring synced after DDL under load" ring_sync 60
    both "UPDATE app.load SET n = -1 WHERE id = 3" "UPDATE app.load SET n = -2 WHERE id = 3"
    expect_newest "$meta: under load: still keyed, with the new column" load \
        'update-update {"id":3} {"id":3,"n":-1,"extra":null}'
    t_ok "$meta: under load: no row of app.load left uncompared" sh -c "! grep -q 'app.load are not compared' '$work/log-$meta'"
    t_is "$meta: under load: no conflict but the one made" "$(n_on load)" 1

    # GET /v1/tables: where each master's key comes from, who writes what
    tables() { curl -s "$RWD_URL/v1/tables" | jq -r "$1"; }
    want_source=ddl; [ "$meta" = FULL ] && want_source=binlog
    t_is "$meta: /v1/tables: app.t's key source on each master" \
        "$(tables '.tables[] | select(.schema == "app" and .table == "t") | [.masters.west.key_source, .masters.east.key_source] | join(",")')" \
        "$want_source,$want_source"
    t_ok "$meta: /v1/tables: both masters wrote app.t lately" sh -c "curl -s '$RWD_URL/v1/tables' | jq -e '.tables[] | select(.table == \"t\") | .masters.west.writes_10m > 0 and .masters.east.writes_10m > 0' >/dev/null"
    t_ok "$meta: /v1/tables: open conflicts per table" sh -c "curl -s '$RWD_URL/v1/tables' | jq -e '.tables[] | select(.table == \"t\") | .open_conflicts >= 2' >/dev/null"
    t_ok "$meta: /v1/tables: a fingerprint per master, equal" sh -c "curl -s '$RWD_URL/v1/tables' | jq -e '.tables[] | select(.table == \"p\") | .masters.west.fingerprint == .masters.east.fingerprint and (.masters.west.fingerprint | length) == 16' >/dev/null"

    if [ "$meta" = NO_LOG ]; then
        drift() { curl -s "$RWD_URL/v1/status" | jq -r '[.schema_drift[] | "\(.schema).\(.table): \(.detail)"] | join("; ")'; }
        no_drift() { [ -z "$(drift)" ]; }
        t_ok "$meta: no schema drift so far" wait_for 10 no_drift || t_diag "drift: $(drift)"
        t_ok "$meta: the gate's schema check passes" sh -c "curl -s '$RWD_URL/v1/gate' | jq -e '.checks[] | select(.name == \"schema\" and .ok == true)' >/dev/null"
        # an ALTER made with sql_log_bin=0 on east: only information_schema shows it
        ring_sql 2 "SET sql_log_bin = 0; ALTER TABLE app.p ADD COLUMN note INT"
        note_drift() { drift | grep -q 'app.p: column note only on east'; }
        t_ok "$meta: drift from an ALTER under sql_log_bin=0" wait_for 20 note_drift || t_diag "drift: $(drift)"
        t_ok "$meta: the gate's schema check names it" sh -c "curl -s '$RWD_URL/v1/gate' | jq -e '.checks[] | select(.name == \"schema\" and .ok == false) | .detail | test(\"column note only on east\")' >/dev/null"
        t_ok "$meta: ringwatch_schema_drift_tables" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_schema_drift_tables [1-9]'"
        t_ok "$meta: ringwatch status shows it" sh -c "'$RINGWATCH' status --url '$RWD_URL' | grep -q '^  app.p: column note only on east'"
        ring_sql 1 "SET sql_log_bin = 0; ALTER TABLE app.p ADD COLUMN note INT"
        t_ok "$meta: the same ALTER on west: the drift is gone" wait_for 20 no_drift || t_diag "drift: $(drift)"
        # a DDL that does not replicate: east's link from west is stopped
        ring_pause_link 1 2
        ring_sql 1 "ALTER TABLE app.p ADD COLUMN late INT"
        # /v1/status shows it with its GTID, its master and its age
        late() { drift | grep -Eq 'DDL not replicated to east: ALTER TABLE app.p ADD COLUMN late INT \([0-9-]+ from west, [0-9]+ s ago\)'; }
        t_ok "$meta: a DDL not replicated in time is drift" wait_for 15 late || t_diag "drift: $(drift)"
        ring_resume_link 1 2
        ring_sync
        t_ok "$meta: once replicated, no drift" wait_for 15 no_drift || t_diag "drift: $(drift)"
    fi

    # a backlog across ADD COLUMN FIRST, read after a restart
    ring_sql 1 "CREATE TABLE app.b (id INT PRIMARY KEY, v INT); INSERT INTO app.b VALUES (1, 0), (2, 0)"
    ring_sync
    sleep 1.5 # a checkpoint after the CREATE
    kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=
    both "UPDATE app.b SET v = 1 WHERE id = 1" "UPDATE app.b SET v = 2 WHERE id = 1"
    ring_sql 1 "ALTER TABLE app.b ADD COLUMN z INT NOT NULL DEFAULT 9 FIRST"
    ring_sync
    both "UPDATE app.b SET v = 1 WHERE id = 2" "UPDATE app.b SET v = 2 WHERE id = 2"
    t_ok "$meta: ringwatchd starts again" rwd_start "$work/rw.conf" "$work/log2-$meta"
    t_ok "$meta: connected" wait_for 10 connected
    two_b() { [ "$(n_on b)" = 2 ]; }
    t_ok "$meta: both conflicts of the backlog found" wait_for 15 two_b
    t_is "$meta: before the ALTER: the old shape" \
        "$(conflicts '[.conflicts[] | select(.table == "b" and .key.id == 1)][0] | [(.key | tostring), (.writes[] | select(.master == "west") | .after | tostring)] | join(" ")')" \
        '{"id":1} {"id":1,"v":1}'
    t_is "$meta: after the ALTER: the new shape" \
        "$(conflicts '[.conflicts[] | select(.table == "b" and .key.id == 2)][0] | [(.key | tostring), (.writes[] | select(.master == "west") | .after | tostring)] | join(" ")')" \
        '{"id":2} {"z":9,"id":2,"v":1}'
    t_ok "$meta: no key anywhere is a row hash" sh -c "[ \"\$(curl -s '$RWD_URL/v1/conflicts?state=all' | jq '[.conflicts[] | select(.key | has(\"#\"))] | length')\" = 0 ]"
    t_ok "$meta: no column is unnamed" sh -c "! curl -s '$RWD_URL/v1/conflicts?state=all' | grep -q '\"@[0-9]'"
    kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
    t_is "$meta: a clean stop" "$rc" 0
    ring_stop
done
t_done
