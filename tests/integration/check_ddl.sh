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
sed -i 's/^server_id = .*/&\nauth_token_file = token/' "$work/rw.conf"
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

# --- an unsafe ALTER as it appears in the binlog: flagged once --------------------------
ring_sql 1 "ALTER TABLE app.orders ADD COLUMN z INT AFTER id"
ring_sync
flagged() { grep -q "an UNSAFE schema change .*ALTER TABLE app.orders ADD COLUMN z INT AFTER id: ADD COLUMN z AFTER" "$work/log"; }
t_ok "the unsafe ALTER is flagged as it appears" wait_for 10 flagged
sleep 1
t_is "once, though both streams show it" "$(grep -c 'an UNSAFE schema change' "$work/log")" 1
t_is "ringwatch_ddl_unsafe_total" "$(curl -s "$RWD_URL/metrics" | sed -n 's/^ringwatch_ddl_unsafe_total //p')" 1
t_ok "the token is never logged" sh -c "! grep -q 'tok-2718' '$work'/log*"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
ring_stop
t_done
