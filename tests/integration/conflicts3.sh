#!/usr/bin/env bash
# More shapes of conflicts, found live: a three-master ring (the pair is
# judged on its two origins' binlogs), a composite primary key, a table
# without a primary key (keyed by the row), update-delete, and two inserts
# that collide on a UNIQUE key with different primary keys; a link stopped
# on a write its source only passes on names the conflict behind it.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir conflicts3
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[] | select(.connected)] | length')" = 3 ]; }
# one KIND TABLE: the conflicts of that kind on that table, as compact JSON lines
one() { curl -s "$RWD_URL/v1/conflicts?state=all" | jq -c ".conflicts[] | select(.kind == \"$1\" and .table == \"$2\")"; }
has() { [ -n "$(one "$1" "$2")" ]; }
pause_all() { ring_pause_link 1 2; ring_pause_link 2 3; ring_pause_link 3 1; }
resume_all() { ring_resume_link 1 2; ring_resume_link 2 3; ring_resume_link 3 1; }

ring_start -n 3 || exit 99
ring_sql 1 "CREATE DATABASE app;
    CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
    CREATE TABLE app.pair (a INT, b VARCHAR(8), v INT, PRIMARY KEY (a, b));
    CREATE TABLE app.nopk (x INT, y VARCHAR(8));
    CREATE TABLE app.users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(64) UNIQUE);
    INSERT INTO app.t VALUES (1, 'init'), (2, 'init'), (3, 'init');
    INSERT INTO app.pair VALUES (1, 'x', 0), (1, 'y', 0);
    INSERT INTO app.nopk VALUES (1, 'same'), (2, 'other')"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts on three masters" rwd_start "$work/rw.conf" "$work/log"
t_ok "all three connected" wait_for 10 connected

# north deletes id 3 while west updates it: west's update reaches north
# through east (west -> east -> north), so east -> north stops with 1032
# on a write of west, not of its source
link() { curl -s "$RWD_URL/v1/status" | jq -r ".links[] | select(.source == \"$1\" and .replica == \"$2\") | $3"; }
cause_is() { [ "$(link "$1" "$2" '"\(.state) \(.last_error.code) \(.last_error.cause)"')" = "$3" ]; }
du3_found() { du3=$(one delete-update t | jq -r 'select(.key.id == 3) | .id'); [ -n "$du3" ]; }
du3=
pause_all
ring_sql 3 "DELETE FROM app.t WHERE id = 3"
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 3"
resume_all
t_ok "north's delete and west's update of id 3: a conflict" wait_for 15 du3_found
t_ok "east→north stops on west's update, passed on by east: the cause names conflict $du3" \
    wait_for 20 cause_is east north "broken 1032 delete-update conflict $du3 on app.t" ||
    t_diag "$(link east north '"\(.state) \(.last_error.code) \(.last_error.cause)"')"
# repaired: north skips the update of the row it deleted (its delete reaches the others)
ring_sql 3 "STOP SLAVE '${RING_NAMES[2]}'; SET @@default_master_connection = '${RING_NAMES[2]}';
    SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '${RING_NAMES[2]}'"
t_ok "the ring runs again" ring_sync 30

pause_all
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 1"          # west vs north
ring_sql 3 "UPDATE app.t SET v = 'north' WHERE id = 1"
ring_sql 1 "UPDATE app.pair SET v = 1 WHERE a = 1 AND b = 'y'" # composite key
ring_sql 2 "UPDATE app.pair SET v = 2 WHERE a = 1 AND b = 'y'"
ring_sql 2 "UPDATE app.nopk SET y = 'east' WHERE x = 1"         # no primary key
ring_sql 3 "UPDATE app.nopk SET y = 'north' WHERE x = 1"
ring_sql 1 "UPDATE app.t SET v = 'upd' WHERE id = 2"            # update-delete
ring_sql 2 "DELETE FROM app.t WHERE id = 2"
ring_sql 1 "INSERT INTO app.users (email) VALUES ('ann@example.org')" # a UNIQUE key
ring_sql 3 "INSERT INTO app.users (email) VALUES ('ann@example.org')"
resume_all

t_ok "west vs north on a three-master ring" wait_for 15 has update-update t
c=$(one update-update t | jq -c 'select(.key.id == 1)')
t_is "its writes come from west and north" "$(echo "$c" | jq -r '[.writes[].master] | sort | join(",")')" "north,west"
t_ok "a composite primary key" wait_for 15 has update-update pair
t_is "keyed by both columns" "$(one update-update pair | jq -c .key)" '{"a":1,"b":"y"}'
t_ok "a table without a primary key, keyed by the row" wait_for 15 has update-update nopk
t_ok "its key is the row's hash" sh -c "curl -s '$RWD_URL/v1/conflicts?state=all' | jq -e '.conflicts[] | select(.table == \"nopk\") | .key | has(\"#\")' >/dev/null"
du2() { [ -n "$(one delete-update t | jq -r 'select(.key.id == 2) | .id')" ]; }
t_ok "update-delete" wait_for 15 du2
t_ok "insert-insert on a UNIQUE key (the primary keys differ)" wait_for 15 has insert-insert users
t_is "keyed by the UNIQUE column" "$(one insert-insert users | jq -c .key)" '{"email":"ann@example.org"}'
t_is "flagged as a UNIQUE-key conflict" "$(one insert-insert users | jq -r .unique_key)" true
t_is "its writes have different primary keys" "$(one insert-insert users | jq -r '[.writes[].after.id] | unique | length')" 2
t_ok "nothing skipped for an unknown origin" sh -c "! grep -q 'is not compared' '$work/log'"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
