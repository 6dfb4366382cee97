#!/usr/bin/env bash
# Schema changes judged for the ring: `ringwatch check-ddl` offline (the
# statements alone) and against a running ringwatchd (--url: the live
# shapes, what each master wrote lately), POST /v1/ddl/check, and an unsafe
# ALTER flagged as it appears in the binlog, once.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
t_need curl jq

rwd_workdir ddl

# --- offline: the statements alone ---------------------------------------------
check() { "$RINGWATCH" check-ddl "$@" >"$work/out" 2>&1; echo $?; }
t_is "an ADD COLUMN at the end: exit 0" "$(check 'ALTER TABLE app.t ADD COLUMN note TEXT')" 0
t_ok "said safe, with why" grep -q "^safe: ALTER TABLE app.t ADD COLUMN note TEXT" "$work/out"
t_is "ADD COLUMN ... AFTER: exit 1" "$(check 'ALTER TABLE app.t ADD COLUMN m INT AFTER id')" 1
t_ok "named unsafe with the error it causes" grep -q "1677" "$work/out"
t_is "a statement it cannot read: exit 2" "$(check 'ALTER TABLE app.t FROBNICATE')" 2
t_is "nothing to check: exit 2" "$(check </dev/null)" 2
t_is "the SQL on standard input" "$(echo 'ALTER TABLE app.t ADD COLUMN n INT FIRST' | "$RINGWATCH" check-ddl >/dev/null; echo $?)" 1
cat >"$work/deploy.sql" <<'EOF'
-- a deploy's migration
CREATE TABLE app.audit (id BIGINT PRIMARY KEY, at DATETIME);
ALTER TABLE app.users ADD COLUMN confirmed_at DATETIME;
CREATE INDEX ix_at ON app.audit (at);
DELIMITER //
CREATE PROCEDURE app.p() BEGIN SELECT 1; END //
DELIMITER ;
ALTER TABLE app.users ADD UNIQUE KEY uq_email (email);
EOF
t_is "a migration file with a caution: exit 0" "$(check -f "$work/deploy.sql")" 0
t_ok "five statements judged" grep -q "^5 statements, 0 unsafe" "$work/out"
t_ok "the UNIQUE key named as a caution" grep -q "^caution: ALTER TABLE app.users ADD UNIQUE KEY" "$work/out"
t_is "from standard input, as JSON" \
    "$(echo 'DROP TABLE app.t' | "$RINGWATCH" check-ddl --json -f - | jq -r '[.safe, .statements[0].verdict] | join(" ")')" \
    "false unsafe"

# --- against the live schema -------------------------------------------------------
ring_require_server
ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.orders (id INT PRIMARY KEY, qty INT,
    status VARCHAR(20) NOT NULL DEFAULT 'new'); CREATE TABLE app.archive (id INT PRIMARY KEY)"
ring_sync || exit 99
printf 'tok-2718\n' >"$work/token"
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i 's/^server_id = .*/&\nauth_token_file = token\nprobe_interval = 1/' "$work/rw.conf"
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
t_ok "connected" wait_for 10 connected
ring_sql 1 "INSERT INTO app.orders VALUES (1, 1, 'new'), (3, 1, 'new')"
ring_sql 2 "INSERT INTO app.orders VALUES (2, 1, 'new')"
ring_sync
written() { curl -s "$RWD_URL/v1/tables" | jq -e '.tables[] | select(.table == "orders") | .masters.west.writes_10m > 0 and .masters.east.writes_10m > 0' >/dev/null; }
t_ok "both masters wrote app.orders" wait_for 10 written

live() { RINGWATCH_TOKEN=tok-2718 "$RINGWATCH" check-ddl --url "$RWD_URL" "$1" >"$work/out" 2>&1; echo $?; }
t_is "live: ADD COLUMN at the end" "$(live 'ALTER TABLE app.orders ADD COLUMN note TEXT')" 0
t_is "live: MODIFY that keeps the type" "$(live "ALTER TABLE app.orders MODIFY status VARCHAR(20) NOT NULL DEFAULT 'open'")" 0
t_is "live: MODIFY that lengthens a VARCHAR" "$(live 'ALTER TABLE app.orders MODIFY status VARCHAR(40) NOT NULL')" 1
t_ok "says from what to what" grep -q "status changes from varchar(20) to varchar(40)" "$work/out"
t_is "live: DROP TABLE of a table both masters write" "$(live 'DROP TABLE app.orders')" 1
t_ok "says who wrote it" grep -q "on 2 masters" "$work/out"
t_is "live: DROP TABLE of a table nobody wrote lately: a caution" "$(live 'DROP TABLE app.archive')" 0
t_ok "says so" grep -q "nothing wrote app.archive lately" "$work/out"
t_is "live: a missing table" "$(live 'ALTER TABLE app.nope ADD COLUMN x INT')" 1
t_ok "named" grep -q "no table app.nope" "$work/out"

post() { curl -s -o "$work/body" -w '%{http_code}' -X POST "$@" "$RWD_URL/v1/ddl/check"; }
t_is "POST /v1/ddl/check without the token: 401" "$(post --data 'DROP TABLE app.orders')" 401
t_is "with it" "$(post -H 'Authorization: Bearer tok-2718' --data 'ALTER TABLE orders ADD COLUMN x INT FIRST')" 200
t_is "the answer's shape" "$(jq -r '[.safe, .statements[0].verdict, (.statements[0].reasons | length > 0), .statements[0].read] | map(tostring) | join(" ")' "$work/body")" \
    "false unsafe true true"
t_is "an empty body: 400" "$(post -H 'Authorization: Bearer tok-2718' --data '')" 400
t_is "?db= sets the default database" \
    "$(post -H 'Authorization: Bearer tok-2718' --data 'ALTER TABLE nope ADD COLUMN x INT' "$RWD_URL/v1/ddl/check?db=app" >/dev/null; jq -r '.statements[0].reasons[0]' "$work/body")" \
    "no table app.nope: the statement fails"

# --- the algorithm each change can run with, proven on the server ----------------------
# check-ddl names the cheapest ALGORITHM MariaDB runs the statement with: the
# server must accept it, and refuse the next cheaper one (what MariaDB
# cannot do). %T is the table: app.alg for the check, a copy to alter on west.
ring_sql 1 "CREATE TABLE app.alg (id INT PRIMARY KEY, qty INT, status VARCHAR(20) NOT NULL,
    note TEXT, KEY ix_qty (qty)); CREATE TABLE app.p (id INT PRIMARY KEY)"
ring_sync
algorithm() { RINGWATCH_TOKEN=tok-2718 "$RINGWATCH" check-ddl --json --url "$RWD_URL" "${1//%T/app.alg}" | jq -r '.statements[0].algorithm.mariadb // "none"'; }
knows_alg() { [ "$(algorithm 'ALTER TABLE %T DROP COLUMN qty')" = INPLACE ]; }
t_ok "the daemon knows app.alg" wait_for 10 knows_alg
runs() { ring_sql 1 "SET sql_log_bin=0; DROP TABLE IF EXISTS app.alg_try; CREATE TABLE app.alg_try LIKE app.alg;
    ${1//%T/app.alg_try}, $2" >/dev/null 2>&1; }
cheaper() { case $1 in
    INPLACE) echo 'ALGORITHM=INSTANT' ;; COPY) echo 'ALGORITHM=INPLACE' ;;
    'INPLACE, LOCK=SHARED') echo 'ALGORITHM=INPLACE, LOCK=NONE' ;; esac; }
while IFS='|' read -r sql want; do
    [ -n "$sql" ] || continue
    got=$(algorithm "$sql")
    t_is "MariaDB $want: $sql" "$got" "$want"
    case $got in none|unknown) continue ;; esac
    lock=; [ "$got" = INPLACE ] && lock=', LOCK=NONE'
    t_ok "  the server runs it ALGORITHM=$got$lock" runs "$sql" "ALGORITHM=$got$lock"
    c=$(cheaper "$got")
    [ -z "$c" ] || t_ok "  and refuses $c (MariaDB cannot do it cheaper)" not runs "$sql" "$c"
done <<'ALGEOF'
ALTER TABLE %T ADD COLUMN c INT|INSTANT
ALTER TABLE %T ADD COLUMN c INT AFTER id|INSTANT
ALTER TABLE %T ADD COLUMN c INT, ADD INDEX ix_c (c)|INPLACE
ALTER TABLE %T ADD COLUMN n INT AUTO_INCREMENT UNIQUE|INPLACE, LOCK=SHARED
ALTER TABLE %T DROP COLUMN note|INSTANT
ALTER TABLE %T DROP COLUMN qty|INPLACE
ALTER TABLE %T RENAME COLUMN note TO remark|INSTANT
ALTER TABLE %T CHANGE note remark TEXT|INSTANT
ALTER TABLE %T MODIFY status VARCHAR(20) NOT NULL AFTER id|INSTANT
ALTER TABLE %T MODIFY status VARCHAR(40) NOT NULL|INSTANT
ALTER TABLE %T MODIFY status VARCHAR(400) NOT NULL|INSTANT
ALTER TABLE %T MODIFY status VARCHAR(10) NOT NULL|COPY
ALTER TABLE %T MODIFY qty BIGINT|COPY
ALTER TABLE %T MODIFY qty INT NOT NULL|INPLACE
ALTER TABLE %T MODIFY status VARCHAR(20) NULL|INPLACE
ALTER TABLE %T ALTER COLUMN qty SET DEFAULT 1|INSTANT
ALTER TABLE %T ADD INDEX ix_s (status)|INPLACE
ALTER TABLE %T ADD UNIQUE KEY uq_s (status)|INPLACE
ALTER TABLE %T ADD FULLTEXT INDEX ft (note)|INPLACE, LOCK=SHARED
ALTER TABLE %T DROP INDEX ix_qty|INPLACE
ALTER TABLE %T RENAME INDEX ix_qty TO ix_q|INSTANT
ALTER TABLE %T DROP PRIMARY KEY|COPY
ALTER TABLE %T DROP PRIMARY KEY, ADD PRIMARY KEY (id, status)|INPLACE
ALTER TABLE %T CONVERT TO CHARACTER SET utf8mb4|COPY
ALTER TABLE %T FORCE|INPLACE
ALTER TABLE %T ROW_FORMAT=DYNAMIC|INPLACE
ALTER TABLE %T COMMENT = 'orders'|INSTANT
ALTER TABLE %T AUTO_INCREMENT = 100|INSTANT
ALTER TABLE %T ADD CONSTRAINT fk FOREIGN KEY (qty) REFERENCES app.p (id)|COPY
ALTER TABLE %T ADD SYSTEM VERSIONING|COPY
ALTER TABLE %T ENGINE=InnoDB|unknown
ALTER TABLE %T ADD COLUMN g INT AS (qty * 2) STORED|unknown
CREATE TABLE app.alg3 (id INT PRIMARY KEY)|none
ALGEOF
t_ok "check-ddl prints it" sh -c "RINGWATCH_TOKEN=tok-2718 '$RINGWATCH' check-ddl --url '$RWD_URL' 'ALTER TABLE app.alg DROP COLUMN qty' | grep -q '^  algorithm: MariaDB INPLACE, MySQL INPLACE$'"

# --- ADD INDEX on a large table: a caution that names the online ways ---------------
# information_schema's estimate of its size, from the routine snapshots
for m in 1 2; do
    ring_sql $m "SET sql_log_bin=0; CREATE TABLE app.big (id INT PRIMARY KEY, v INT);
        INSERT INTO app.big SELECT seq, seq FROM app.seq_1_to_1100000; ANALYZE TABLE app.big" >/dev/null
done
ring_sql 1 "CREATE TABLE app.small (id INT PRIMARY KEY, v INT); INSERT INTO app.small VALUES (1, 1)"
ring_sync
# both masters' snapshots must show app.big (one alone is drift: unsafe)
large_seen() { [ "$(live 'ALTER TABLE app.big ADD INDEX ix_v (v)')" = 0 ] &&
    grep -q "app.big is large (about 1[01][0-9]*[0-9] rows" "$work/out"; }
t_ok "ADD INDEX on a table of 1.1 million rows: a caution saying how large" wait_for 20 large_seen || t_diag "$(cat "$work/out")"
t_ok "it names the online ways" grep -q "ALGORITHM=INPLACE, LOCK=NONE.*gh-ost" "$work/out"
t_is "exit 0: a caution is no unsafe" "$(live 'ALTER TABLE app.big ADD INDEX ix_v (v)')" 0
t_is "on a small table: safe" "$(live 'CREATE INDEX ix_v ON app.small (v)'; grep -c 'is large' "$work/out")" "0
0"
t_is "an INSTANT change of the large table: no caution" "$(live 'ALTER TABLE app.big ADD COLUMN w INT'; grep -c 'is large' "$work/out")" "0
0"

# --- an unsafe ALTER as it appears in the binlog: flagged once --------------------------
ring_sql 1 "ALTER TABLE app.orders ADD COLUMN z INT AFTER id"
ring_sync
flagged() { grep -q "an UNSAFE schema change .*ALTER TABLE app.orders ADD COLUMN z INT AFTER id: ADD COLUMN z AFTER" "$work/log"; }
t_ok "the unsafe ALTER is flagged as it appears" wait_for 10 flagged
sleep 1
t_is "once, though both streams show it" "$(grep -c 'an UNSAFE schema change' "$work/log")" 1
t_is "ringwatch_ddl_unsafe_total, by the master that ran it" \
    "$(curl -s "$RWD_URL/metrics" | grep '^ringwatch_ddl_unsafe_total{' | tr '\n' ' ')" \
    'ringwatch_ddl_unsafe_total{master="west"} 1 ringwatch_ddl_unsafe_total{master="east"} 0 ' 
# judged against the shapes as they were: a MODIFY that widens qty's type is unsafe
# live as it is to check-ddl --url, though the history has the new shape once applied
ring_sql 1 "ALTER TABLE app.orders MODIFY qty BIGINT"
ring_sync
modify_flagged() { grep -q "an UNSAFE schema change .*ALTER TABLE app.orders MODIFY qty BIGINT: .*from int to bigint" "$work/log"; }
t_ok "a streamed MODIFY that changes the type is flagged" wait_for 10 modify_flagged ||
    t_diag "$(grep 'MODIFY qty' "$work/log")"
sleep 1
t_is "ringwatch_ddl_unsafe_total counts it, once" \
    "$(curl -s "$RWD_URL/metrics" | grep '^ringwatch_ddl_unsafe_total{' | tr '\n' ' ')" \
    'ringwatch_ddl_unsafe_total{master="west"} 2 ringwatch_ddl_unsafe_total{master="east"} 0 '
# a copy-and-swap tool starting on a table both masters write: gh-ost's ghost table
ring_sql 1 "INSERT INTO app.orders (id, qty, status) VALUES (100, 1, 'new')"
ring_sql 2 "INSERT INTO app.orders (id, qty, status) VALUES (101, 1, 'new')"
ring_sync
t_ok "both masters wrote app.orders again" wait_for 10 written
t_is "check-ddl --url: gh-ost's ghost table of app.orders is unsafe" \
    "$(live 'CREATE TABLE app._orders_gho LIKE app.orders')" 1
t_ok "saying the tool needs one master writing it" \
    grep -q "looks like gh-ost copying app.orders, which 2 masters wrote lately: a copy-and-swap tool needs one master writing the table" "$work/out" ||
    t_diag "$(cat "$work/out")"
t_is "of a table one master writes (app.big): safe" "$(live 'CREATE TABLE app._big_new LIKE app.big')" 0
ring_sql 1 "CREATE TABLE app._orders_gho LIKE app.orders"
ring_sync
gho_flagged() { grep -q "an UNSAFE schema change .*CREATE TABLE app._orders_gho LIKE app.orders: .*looks like gh-ost copying app.orders" "$work/log"; }
t_ok "run on west, it is flagged as it appears in the binlog" wait_for 10 gho_flagged
sleep 1
t_is "and counted" "$(curl -s "$RWD_URL/metrics" | grep '^ringwatch_ddl_unsafe_total{master="west"}')" \
    'ringwatch_ddl_unsafe_total{master="west"} 3'
t_ok "the token is never logged" sh -c "! grep -q 'tok-2718' '$work'/log*"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
ring_stop
t_done
