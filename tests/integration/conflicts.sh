#!/usr/bin/env bash
# ringwatchd finds conflicts live on a real ring: update-update (silent
# divergence) and insert-insert (both SQL threads stop) while the links were
# paused, reports them in /v1/conflicts, the metrics, the gate and
# `ringwatch conflicts`; `ringwatch repair`'s SQL, run as it says, makes
# the masters' rows equal, with --prefer NAME keeping the write made on NAME
# (update-update both ways, insert-insert, delete-update); a restart re-reads
# without reporting any twice.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq promtool

rwd_workdir conflicts-live
conflicts() { curl -s "$RWD_URL/v1/conflicts?state=all" | jq -r "$1"; }
n_conflicts() { [ "$(conflicts "[.conflicts[] | select(.kind != \"before-image\")] | length")" = "$1" ]; }
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }

ring_start -n 2 || exit 99  # binlog_row_metadata=MINIMAL: keys come from information_schema
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))"
ring_sql 1 "INSERT INTO app.t VALUES (1, 'init')"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
t_ok "both streams connected" wait_for 10 connected
t_ok "the tables were read from information_schema" wait_for 10 grep -q "tables read from information_schema" "$work/log"
t_is "no conflict yet" "$(conflicts '.conflicts | length')" 0

ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 1"
ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = 1"
ring_sql 1 "INSERT INTO app.t VALUES (2, 'west')"
ring_sql 2 "INSERT INTO app.t VALUES (2, 'east')"
ring_resume_link 1 2; ring_resume_link 2 1
t_ok "two conflicts found" wait_for 15 n_conflicts 2 ||
    conflicts '.conflicts[] | [.id, .kind, (.key | tostring), .state] | join(" ")' | sed 's/^/#   /' 
uu=$(conflicts '[.conflicts[] | select(.kind == "update-update")][0]')
t_is "update-update on id 1" "$(echo "$uu" | jq -c .key)" '{"id":1}'
# the finals become known as each master's copy of the other's write arrives
finals() { [ "$(conflicts '[.conflicts[] | select(.kind == "update-update")][0] | [.diverged, .final.west.v, .final.east.v] | join(",")')" = "true,east,west" ]; }
t_ok "diverged: each master holds the other's value" wait_for 10 finals
t_ok "with a detection delay" sh -c "echo '$uu' | jq -e '.detection_delay_seconds >= 0' >/dev/null"
ii=$(conflicts '[.conflicts[] | select(.kind == "insert-insert")][0]')
t_is "insert-insert on id 2" "$(echo "$ii" | jq -c .key)" '{"id":2}'
t_ok "every transaction's origin was known (none skipped)" sh -c "! grep -q 'is not compared' '$work/log'"
t_ok "the conflict is logged" grep -q "conflict [0-9]*: update-update on app.t {\"id\":1} between" "$work/log"
t_ok "counted in the metrics" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_conflicts_total{schema=\"app\",table=\"t\",kind=\"update-update\"} 1'"
t_ok "the detection delay histogram" sh -c "curl -s '$RWD_URL/metrics' | grep -q '^ringwatch_detection_delay_seconds_count [1-9]'"
t_ok "metrics pass promtool" sh -c "curl -s '$RWD_URL/metrics' | promtool check metrics"
t_ok "the gate names the open conflicts" sh -c "'$RINGWATCH' gate --url '$RWD_URL' | grep -q '^conflicts: [0-9]* open (max_open_conflicts 0)'"
"$RINGWATCH" conflicts --url "$RWD_URL" >/dev/null; t_is "ringwatch conflicts: exit 1" "$?" 1

# repair: the SQL of `ringwatch repair`, each master's part run on it
# repair_on FILE MASTER: the statements of that master's part
repair_on() { awk -v m="$2" 'index($0, "-- on " m " (") == 1 { on = 1; next } on && /^$/ { on = 0 } on && !/^--/' "$1"; }
skip_failed() { # I SOURCE: skip the event master I's SQL thread stopped on
    case "$(ring_slave_field "$1" "$(ring_index "$2")" Last_SQL_Errno)" in 1062 | 1032)
        ring_sql "$1" "STOP SLAVE '$2'; SET @@default_master_connection = '$2';
            SET GLOBAL sql_slave_skip_counter = 1; START SLAVE '$2'" ;;
    esac
}
id=$(echo "$uu" | jq -r .id)
"$RINGWATCH" repair --url "$RWD_URL" "$id" >"$work/repair1.sql"; rc=$?
t_is "ringwatch repair exits 0" "$rc" 0
t_ok "it says on which master to run what" grep -q '^-- on \(west\|east\) (it holds' "$work/repair1.sql"
t_ok "not replicated: sql_log_bin = 0" grep -q '^SET SESSION sql_log_bin = 0;' "$work/repair1.sql"
for i in 1 2; do
    sql=$(repair_on "$work/repair1.sql" "${RING_NAMES[$i]}")
    [ -z "$sql" ] || ring_sql "$i" "$sql"
done
t_is "after the repair both masters hold the same row" \
    "$(ring_sql 1 "SELECT v FROM app.t WHERE id = 1")" "$(ring_sql 2 "SELECT v FROM app.t WHERE id = 1")"
ii_id=$(echo "$ii" | jq -r .id)
"$RINGWATCH" repair --url "$RWD_URL" --prefer east "$ii_id" >"$work/repair2.sql"
sql=$(repair_on "$work/repair2.sql" west)
t_ok "insert-insert, east preferred: west's part rewrites its row" sh -c "echo \"\$1\" | grep -q \"^REPLACE INTO .app.\\..t. (.id., .v.) VALUES (2, 'east');\"" _ "$sql"
ring_sql 1 "$sql"
skip_failed 1 east
skip_failed 2 west
t_ok "the ring runs again" ring_sync 20
t_is "and both hold east's row" "$(ring_sql 1 "SELECT v FROM app.t WHERE id = 2"),$(ring_sql 2 "SELECT v FROM app.t WHERE id = 2")" "east,east"
"$RINGWATCH" repair --url "$RWD_URL" 999 2>/dev/null; t_is "repair of an unknown conflict: exit 2" "$?" 2
t_is "GET /v1/conflicts/999/repair: 404" "$(curl -s -o /dev/null -w '%{http_code}' "$RWD_URL/v1/conflicts/999/repair")" 404
t_is "a master that made neither write and holds no known row: 400 saying so" \
    "$(curl -s "$RWD_URL/v1/conflicts/$ii_id/repair?prefer=north" | jq -r '.error')" \
    "master 'north' made neither write of this conflict and its row is not known"

# --prefer NAME keeps the write made on NAME.  After crossing updates each
# master holds the other's write (it applied that one last), so the row
# NAME holds is not the one to keep.  The printed SQL is run as it says, per
# master, and both masters end with NAME's value, in each direction.
conflict_on() { conflicts "[.conflicts[] | select(.key.id == $1 and .kind == \"$2\")][0] | $3"; }
kept() { sed -n "/^-- keep /{n;s/^--   //p;q}" "$1" | jq -r .v; }
run_repair() { # FILE: each master's part of the repair, run on it
    local i sql
    for i in 1 2; do
        sql=$(repair_on "$1" "${RING_NAMES[$i]}")
        [ -z "$sql" ] || ring_sql "$i" "$sql"
    done
}
holds() { echo "$(ring_sql 1 "SELECT v FROM app.t WHERE id = $1"),$(ring_sql 2 "SELECT v FROM app.t WHERE id = $1")"; }
uu_finals() { [ "$(conflict_on "$1" update-update '[.final.west.v, .final.east.v] | join(",")')" = "east,west" ]; }
prefer_uu() { # ROW NAME: an update-update on ROW, repaired with --prefer NAME
    local row=$1 name=$2 cid
    ring_sql 1 "INSERT INTO app.t VALUES ($row, 'init')"
    ring_sync
    ring_pause_link 1 2; ring_pause_link 2 1
    ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = $row"
    ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = $row"
    ring_resume_link 1 2; ring_resume_link 2 1
    t_ok "update-update on id $row, each master holding the other's value" wait_for 15 uu_finals "$row" || return
    cid=$(conflict_on "$row" update-update .id)
    "$RINGWATCH" repair --url "$RWD_URL" --prefer "$name" "$cid" >"$work/prefer-$name.sql"
    t_ok "--prefer $name: the label names $name's write" grep -q "^-- keep $name's write" "$work/prefer-$name.sql"
    t_is "GET /v1/conflicts/$cid/repair?prefer=$name: the same SQL" \
        "$(curl -s "$RWD_URL/v1/conflicts/$cid/repair?prefer=$name")" "$(cat "$work/prefer-$name.sql")"
    t_is "--prefer $name: the row to keep is $name's write" "$(kept "$work/prefer-$name.sql")" "$name"
    run_repair "$work/prefer-$name.sql"
    t_ok "--prefer $name: the ring runs" ring_sync 20
    t_is "--prefer $name: both masters hold $name's write" "$(holds "$row")" "$name,$name" ||
        sed 's/^/#   /' "$work/prefer-$name.sql"
}
prefer_uu 3 west
prefer_uu 4 east

# delete-update: west deletes the row, east updates it.  West's SQL thread
# stops on east's update (no row), east applies west's delete: both hold no
# row, which is west's write, not east's.
ring_sql 1 "INSERT INTO app.t VALUES (6, 'init')"
ring_sync
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "DELETE FROM app.t WHERE id = 6"
ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = 6"
ring_resume_link 1 2; ring_resume_link 2 1
du_found() { [ "$(conflict_on 6 delete-update '[.final.west, .final.east] | tostring')" = "[null,null]" ]; }
t_ok "delete-update on id 6, both masters without the row" wait_for 15 du_found
du_id=$(conflict_on 6 delete-update .id)
"$RINGWATCH" repair --url "$RWD_URL" --prefer west "$du_id" >"$work/du-west.sql"
t_ok "delete-update, west preferred: its delete, which every master has" \
    grep -q "^-- keep west's write (--prefer west): no row" "$work/du-west.sql"
t_ok "nothing to run" grep -q "^-- every master already holds that row" "$work/du-west.sql"
"$RINGWATCH" repair --url "$RWD_URL" --prefer east "$du_id" >"$work/du-east.sql"
t_is "delete-update, east preferred: east's update is the row to keep" "$(kept "$work/du-east.sql")" east
west_stopped() { [ "$(ring_slave_field 1 2 Last_SQL_Errno)" = 1032 ]; }
t_ok "west's SQL thread stopped on east's update" wait_for 15 west_stopped
run_repair "$work/du-east.sql"
skip_failed 1 east
t_ok "delete-update: the ring runs again" ring_sync 20
t_is "and both hold east's update" "$(holds 6)" "east,east"

# drift from behind replication's back: east's row changed with sql_log_bin=0,
# then west updates it; east's copy logs a before image other than west's
ring_sql 1 "INSERT INTO app.t VALUES (5, 'init')"
ring_sync
ring_sql 2 "SET sql_log_bin = 0; UPDATE app.t SET v = 'drifted' WHERE id = 5"
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 5"
ring_sync
bi() { [ -n "$(conflicts '.conflicts[] | select(.kind == "before-image" and .key.id == 5) | .id')" ]; }
t_ok "the silent drift shows as a before-image finding" wait_for 10 bi
t_is "east's copy logged the drifted row as its before image" \
    "$(conflicts '[.conflicts[] | select(.kind == "before-image" and .key.id == 5)][0].writes | map(select(.master == "east"))[0].before.v')" drifted
"$RINGWATCH" repair --url "$RWD_URL" --prefer north "$id" 2>/dev/null; t_is "preferring an unknown master: exit 2" "$?" 2
t_is "resolved by a person" "$(curl -s -X POST "$RWD_URL/v1/conflicts/$id/resolve" | jq -r .state)" resolved
total=$(conflicts '.conflicts | length')
kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=
rm -f "$work/state/ringwatch.db-wal.keep"
sqlite3 "$work/state/ringwatch.db" "DELETE FROM checkpoint" 2>/dev/null || true
t_ok "ringwatchd starts again and re-reads every binlog" rwd_start "$work/rw.conf" "$work/log2"
t_ok "connected" wait_for 10 connected
sleep 2
t_is "nothing reported twice" "$(conflicts '.conflicts | length')" "$total"
t_is "the resolved one stays resolved" "$(curl -s "$RWD_URL/v1/conflicts/$id" | jq -r .state)" resolved
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
