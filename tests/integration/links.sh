#!/usr/bin/env bash
# A broken link with its root cause: an insert-insert that stops both SQL
# threads with 1062 names the conflict, a key inserted on a replica outside
# replication stops it with 1062 naming none; a row missing on a replica stops
# it with 1032, naming the delete-update conflict behind it, or none when the
# row was deleted outside replication; the deploy that breaks a ring (east's
# replication stopped, an ALTER ... AFTER on west, writes on east) stops
# east→west with 1677 within seconds and names the ALTER; a link stopped by
# hand says so.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir links

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.u (code VARCHAR(8) PRIMARY KEY, n INT);
    CREATE TABLE app.t (id INT PRIMARY KEY, v INT); INSERT INTO app.t VALUES (1, 0), (2, 0)"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i 's/^server_id = .*/&\nprobe_interval = 1/' "$work/rw.conf"
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
t_ok "connected" wait_for 10 connected
link() { curl -s "$RWD_URL/v1/status" | jq -r ".links[] | select(.source == \"$1\" and .replica == \"$2\") | $3"; }

# --- an insert-insert stops both SQL threads with 1062 -----------------------------
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "INSERT INTO app.u VALUES ('k7', 1)"
ring_sql 2 "INSERT INTO app.u VALUES ('k7', 2)"
ring_resume_link 1 2; ring_resume_link 2 1
cause_is() { [ "$(link "$1" "$2" '"\(.state) \(.last_error.code) \(.last_error.cause)"')" = "$3" ]; }
ii=
found_ii() { ii=$(curl -s "$RWD_URL/v1/conflicts" | jq -r '[.conflicts[] | select(.kind == "insert-insert")][0].id // empty'); [ -n "$ii" ]; }
t_ok "the insert-insert conflict is found" wait_for 15 found_ii
t_ok "east→west broken, 1062, the conflict named" \
    wait_for 15 cause_is east west "broken 1062 insert-insert conflict $ii on app.u" ||
    t_diag "east→west: $(link east west '.')"
t_ok "west→east too" wait_for 15 cause_is west east "broken 1062 insert-insert conflict $ii on app.u" ||
    t_diag "west→east: $(link west east '.')"
t_ok "the gate names the cause" sh -c "curl -s '$RWD_URL/v1/gate' | jq -e '.checks[] | select(.name == \"replication\") | .detail | test(\"cause: insert-insert conflict\")' >/dev/null"
for i in 1 2; do
    src=$((3 - i))
    ring_sql "$i" "STOP SLAVE '${RING_NAMES[$src]}'; SET @@default_master_connection = '${RING_NAMES[$src]}';
        SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '${RING_NAMES[$src]}'"
done
ok_again() { [ "$(link east west .state)" = ok ] && [ "$(link west east .state)" = ok ]; }
t_ok "both links run again" wait_for 15 ok_again
t_ok "the log said each stopped, with its error" \
    sh -c "grep -q 'link east→west: SQL thread No, IO thread Yes: error 1062: ' '$work/log' &&
        grep -q 'link west→east: SQL thread No, IO thread Yes: error 1062: ' '$work/log'"
t_ok "and that each runs again" wait_for 5 sh -c "grep -q 'link east→west: runs again' '$work/log' &&
    grep -q 'link west→east: runs again' '$work/log'"

# --- a key already on the replica: 1062 with no conflict behind it ------------------
# the table had the insert-insert conflict above (its writes skipped, so applied on
# both): a row inserted on west outside replication (sql_log_bin=0), then the same
# key on east: west stops on east's insert and no conflict explains it (the old
# one on app.u is not named), first while that conflict is open, then resolved
dup_key() { # $1: the key
    ring_sql 1 "SET sql_log_bin = 0; INSERT INTO app.u VALUES ('$1', 8)"
    ring_sql 2 "INSERT INTO app.u VALUES ('$1', 8)"
}
dup_unexplained() { [ "$(link east west '"\(.state) \(.last_error.code)"')" = "broken 1062" ] &&
    link east west .last_error.cause | grep -q "^the key already exists on west and no conflict explains it"; }
t_diag "insert-insert conflict $ii: $(curl -s "$RWD_URL/v1/conflicts/$ii" | jq -r .state)"
dup_key k8
t_ok "east→west broken, 1062, the key on west and no conflict named" wait_for 15 dup_unexplained ||
    t_diag "east→west: $(link east west '.')"
t_is "west→east still applies" "$(link west east .sql_running)" true
# repaired: west already holds east's row
skip_east_on_west() {
    ring_sql 1 "STOP SLAVE '${RING_NAMES[2]}'; SET @@default_master_connection = '${RING_NAMES[2]}';
        SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '${RING_NAMES[2]}'"
}
skip_east_on_west
t_ok "the ring runs again" ring_sync 20
curl -s -X POST "$RWD_URL/v1/conflicts/$ii/resolve" >/dev/null
t_is "the insert-insert conflict is resolved" "$(curl -s "$RWD_URL/v1/conflicts/$ii" | jq -r .state)" resolved
dup_key k9
t_ok "again with the conflict resolved: no conflict named" wait_for 15 dup_unexplained ||
    t_diag "east→west: $(link east west '.')"
skip_east_on_west
t_ok "the ring runs again" ring_sync 20

# --- a row missing on the replica: 1032 ----------------------------------------------
# (a) a delete on west, an update of the row on east: west stops on east's update,
# and the delete-update conflict explains it
ring_sql 1 "CREATE TABLE app.d (id INT PRIMARY KEY, v INT); INSERT INTO app.d VALUES (1, 0), (2, 0)"
ring_sync || exit 99
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "DELETE FROM app.d WHERE id = 1"
ring_sql 2 "UPDATE app.d SET v = 1 WHERE id = 1"
ring_resume_link 1 2; ring_resume_link 2 1
du=
found_du() { du=$(curl -s "$RWD_URL/v1/conflicts" | jq -r '[.conflicts[] | select(.kind == "delete-update" and .table == "d")][0].id // empty'); [ -n "$du" ]; }
t_ok "the delete-update conflict is found" wait_for 15 found_du
t_ok "east→west broken, 1032, the conflict named" \
    wait_for 15 cause_is east west "broken 1032 delete-update conflict $du on app.d" ||
    t_diag "east→west: $(link east west '.')"
ring_sql 1 "STOP SLAVE '${RING_NAMES[2]}'; SET @@default_master_connection = '${RING_NAMES[2]}';
    SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '${RING_NAMES[2]}'"
t_ok "the ring runs again" ring_sync 20
curl -s -X POST "$RWD_URL/v1/conflicts/$du/resolve" >/dev/null
t_is "the conflict is resolved" "$(curl -s "$RWD_URL/v1/conflicts/$du" | jq -r .state)" resolved
# (b) the same table, a row deleted on west outside replication (sql_log_bin=0),
# then updated on east: west stops with 1032 and no conflict explains it (the old,
# resolved one is not named)
ring_sql 1 "SET sql_log_bin = 0; DELETE FROM app.d WHERE id = 2"
ring_sql 2 "UPDATE app.d SET v = 2 WHERE id = 2"
missing() { [ "$(link east west '"\(.state) \(.last_error.code)"')" = "broken 1032" ] &&
    link east west .last_error.cause | grep -q "^the row is missing on west and no conflict explains it"; }
t_ok "east→west broken, 1032, the row missing on west and no conflict named" wait_for 15 missing ||
    t_diag "east→west: $(link east west '.')"
ring_sql 1 "STOP SLAVE '${RING_NAMES[2]}'; SET @@default_master_connection = '${RING_NAMES[2]}';
    SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '${RING_NAMES[2]}'"
t_ok "the ring runs again" ring_sync 20

# --- the deploy that breaks the ring ----------------------------------------------------
# east's replication of west stopped, an ALTER ... AFTER on west, writes on east
ring_sql 2 "STOP SLAVE '${RING_NAMES[1]}'"
ring_sql 1 "ALTER TABLE app.t ADD COLUMN c VARCHAR(20) AFTER id"
ring_sql 2 "UPDATE app.t SET v = 5 WHERE id = 1"
t0=$(date +%s)
broken_1677() { [ "$(link east west '"\(.state) \(.last_error.code)"')" = "broken 1677" ]; }
t_ok "east→west broken with 1677 within 5 s" wait_for 5 broken_1677 || t_diag "east→west: $(link east west '.')"
t_ok "the ALTER on west named as its cause" \
    sh -c "curl -s '$RWD_URL/v1/status' | jq -e '.links[] | select(.source == \"east\" and .replica == \"west\") | .last_error.cause | test(\"app.t was changed by ALTER TABLE app.t ADD COLUMN c VARCHAR\\\\(20\\\\) AFTER id .*on west\")' >/dev/null" ||
    t_diag "cause: $(link east west .last_error.cause)"
t_diag "reported after $(($(date +%s) - t0)) s"
# flagged as it appears in west's stream, before east's old-layout rows break east→west
unsafe_at=$(grep -n "an UNSAFE schema change .*ALTER TABLE app.t ADD COLUMN c VARCHAR(20) AFTER id" "$work/log" | head -1 | cut -d: -f1)
t_ok "the log flags the ALTER ... AFTER as unsafe" test -n "$unsafe_at"
stop_at=$(grep -n "link east→west: SQL thread No, IO thread Yes: error 1677: " "$work/log" | head -1 | cut -d: -f1)
t_ok "before the log says east→west stopped with 1677" test -n "$stop_at" -a "${unsafe_at:-99999999}" -lt "${stop_at:-0}" ||
    t_diag "unsafe at line ${unsafe_at:-none}, 1677 at line ${stop_at:-none}"
t_ok "the log says west→east was stopped without an error" \
    wait_for 5 grep -q "link west→east: IO thread No, SQL thread No, without an error (STOP SLAVE?)" "$work/log"
t_ok "west→east, stopped by hand, says so" \
    sh -c "curl -s '$RWD_URL/v1/status' | jq -e '.links[] | select(.source == \"west\" and .replica == \"east\") | .stopped | test(\"STOP SLAVE\")' >/dev/null" ||
    t_diag "west→east: $(link west east '.')"

ring_sql 2 "START SLAVE '${RING_NAMES[1]}'" 2>/dev/null

# --- lag a replica's own status hides: MASTER_DELAY on west→east -------------------
ring_sql 1 "ALTER TABLE app.t DROP COLUMN c" 2>/dev/null
ring_sql 1 "STOP SLAVE '${RING_NAMES[2]}'; SET @@default_master_connection = '${RING_NAMES[2]}';
    SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '${RING_NAMES[2]}'" 2>/dev/null
ring_sql 2 "STOP SLAVE '${RING_NAMES[1]}'; CHANGE MASTER '${RING_NAMES[1]}' TO MASTER_DELAY = 12;
    START SLAVE '${RING_NAMES[1]}'"
ring_sql 1 "INSERT INTO app.u VALUES ('d1', 1)"
lagging() { [ "$(link west east .state)" = lagging ]; }
t_ok "west→east delayed 12 s: lagging" wait_for 15 lagging || t_diag "west→east: $(link west east '.')"
t_ok "the gate's lag check names it" sh -c "curl -s '$RWD_URL/v1/gate' | jq -e '.checks[] | select(.name == \"lag\" and .ok == false) | .detail | test(\"west→east\")' >/dev/null"
ring_sql 2 "STOP SLAVE '${RING_NAMES[1]}'; CHANGE MASTER '${RING_NAMES[1]}' TO MASTER_DELAY = 0;
    START SLAVE '${RING_NAMES[1]}'"

# skip: set a stopped link going again past the event it stopped on
skip() {
    ring_sql "$1" "STOP SLAVE '${RING_NAMES[$2]}'; SET @@default_master_connection = '${RING_NAMES[$2]}';
        SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '${RING_NAMES[$2]}'"
}

# --- a table renamed away while the other master still writes it: 1146 --------------
ring_pause_link 1 2 # east does not get the RENAME yet
ring_sql 1 "RENAME TABLE app.u TO app.u_old"
ring_sql 2 "INSERT INTO app.u VALUES ('r1', 1)"
broken_1146() { [ "$(link east west '"\(.state) \(.last_error.code)"')" = "broken 1146" ]; }
t_ok "east's write to the renamed table stops east→west with 1146" wait_for 15 broken_1146 ||
    t_diag "east→west: $(link east west '.')"
t_ok "the RENAME named as its cause" \
    sh -c "curl -s '$RWD_URL/v1/status' | jq -e '.links[] | select(.source == \"east\" and .replica == \"west\") | .last_error.cause | test(\"app.u was changed by RENAME TABLE app.u TO app.u_old .*on west\")' >/dev/null" ||
    t_diag "cause: $(link east west .last_error.cause)"
skip 1 2
ring_resume_link 1 2
ring_sync 20 2>/dev/null

# --- an account statement that does not fit the other master: 1396 ------------------
ring_sql 2 "SET sql_log_bin = 0; CREATE USER 'dup'@'localhost'"
ring_sql 1 "CREATE USER 'dup'@'localhost'"
broken_1396() { [ "$(link west east '"\(.state) \(.last_error.code)"')" = "broken 1396" ]; }
t_ok "CREATE USER replicated onto an existing account stops west→east with 1396" wait_for 15 broken_1396 ||
    t_diag "west→east: $(link west east '.')"
t_ok "named as a replicated account statement" \
    sh -c "curl -s '$RWD_URL/v1/status' | jq -e '.links[] | select(.source == \"west\" and .replica == \"east\") | .last_error.cause | test(\"replicated account statement\")' >/dev/null"
skip 2 1

kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
