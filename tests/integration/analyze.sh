#!/usr/bin/env bash
# `ringwatch analyze` on the binlogs of a real two-master ring where both
# sides wrote the same rows while the links were paused: update-update
# (diverged), the same value on both sides (not diverged), insert-insert
# (both SQL threads stop with 1062), delete-delete (not diverged), and
# causal overwrites from both sides with the ring synced (no conflict).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need jq

work=$(mktemp -d "${TMPDIR:-/tmp}/rw-analyze.XXXXXX")
ring_on_exit 'rm -rf "$work"'

ring_start -n 2 --row-metadata FULL || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))"
ring_sql 1 "INSERT INTO app.t VALUES (1, 'init'), (2, 'init'), (3, 'init'), (5, 'init')"
ring_sync || exit 99
# causal overwrites: each side writes after seeing the other's write
ring_sql 1 "UPDATE app.t SET v = 'w1' WHERE id = 5"; ring_sync
ring_sql 2 "UPDATE app.t SET v = 'e1' WHERE id = 5"; ring_sync
ring_sql 1 "UPDATE app.t SET v = 'w2' WHERE id = 5"; ring_sync
# concurrent writes: both links paused
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 1"
ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = 1"
ring_sql 1 "UPDATE app.t SET v = 'same' WHERE id = 2"
ring_sql 2 "UPDATE app.t SET v = 'same' WHERE id = 2"
ring_sql 1 "DELETE FROM app.t WHERE id = 3"
ring_sql 2 "DELETE FROM app.t WHERE id = 3"
ring_sql 1 "INSERT INTO app.t VALUES (4, 'west')"
ring_sql 2 "INSERT INTO app.t VALUES (4, 'east')"
ring_resume_link 1 2; ring_resume_link 2 1
# the first concurrent write that cannot apply stops the SQL thread: the
# delete-delete (1032, row not found) comes before the insert-insert (1062)
stopped() { case "$(ring_slave_field 2 1 Last_SQL_Errno)" in 1032 | 1062) return 0 ;; esac; return 1; }
t_ok "east's SQL thread stops on the concurrent writes (1032 or 1062)" wait_for 10 stopped

files() { ls "$RING_DIR/$1"/binlog.[0-9]* | paste -sd, -; }
"$RINGWATCH" analyze --master "west=$(files west)" --master "east=$(files east)" >"$work/out" 2>"$work/err"
rc=$?
t_is "analyze exits 1: rows diverged" "$rc" 1
pick() { jq -c "[.conflicts[] | select(.kind == \"$1\" and .key.id == $2)]" "$work/out"; }
uu=$(pick update-update 1)
t_is "update-update on id 1, once" "$(echo "$uu" | jq length)" 1
t_is "diverged" "$(echo "$uu" | jq -r '.[0].diverged')" true
t_is "west holds east's value, east holds west's" "$(echo "$uu" | jq -r '.[0].final.west.v + "," + .[0].final.east.v')" "east,west"
t_is "its writes: one from each master" "$(echo "$uu" | jq -r '[.[0].writes[].master] | sort | join(",")')" "east,west"
t_ok "with their GTIDs" sh -c "echo '$uu' | jq -e '.[0].writes | all(.gtid | test(\"^[12]-[12]-[0-9]+$\"))' >/dev/null"
same=$(pick update-update 2)
t_is "the same value on both sides: a conflict, not diverged" "$(echo "$same" | jq -r '.[0].diverged')" false
dd=$(pick delete-delete 3)
t_is "delete-delete: a conflict, not diverged" "$(echo "$dd" | jq -r '.[0].diverged')" false
ii=$(pick insert-insert 4)
t_is "insert-insert on id 4" "$(echo "$ii" | jq length)" 1
t_is "each master keeps its own row" "$(echo "$ii" | jq -r '.[0].final.west.v + "," + .[0].final.east.v')" "west,east"
t_is "no conflict on the causal overwrites of id 5" \
    "$(jq '[.conflicts[] | select(.key.id == 5 and .kind != "before-image")] | length' "$work/out")" 0
t_is "every pair reported once" \
    "$(jq '[.conflicts[] | select(.kind != "before-image") | .uid] | length == (unique | length)' "$work/out")" true

# bad input
"$RINGWATCH" analyze --master "west=$(files west)" >/dev/null 2>&1; t_is "one master: exit 2" "$?" 2
"$RINGWATCH" analyze --master west --master east=x >/dev/null 2>&1; t_is "NAME without files: exit 2" "$?" 2
"$RINGWATCH" analyze --master "west=$work/missing" --master "east=$(files east)" >/dev/null 2>"$work/err"
t_is "a missing file: exit 2" "$?" 2
t_ok "naming it" grep -q "$work/missing" "$work/err"
first=$(files west | cut -d, -f1)
head -c 700 "$first" > "$work/cut.000001"
"$RINGWATCH" analyze --master "west=$work/cut.000001" --master "east=$(files east)" >/dev/null 2>"$work/err"
t_is "a truncated binlog: exit 2" "$?" 2
t_ok "naming the file and the offset" grep -q "cut.000001: offset [0-9]*:" "$work/err"
t_done
