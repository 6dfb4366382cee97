#!/usr/bin/env bash
# A race: thousands of updates from both masters at full speed on a few
# dozen hot rows.  Once the ring is synced, the rows whose value differs
# between the masters must be exactly the keys of ringwatchd's open diverged
# conflicts, and `ringwatch analyze` on the same binlogs must report exactly
# the same pairs as the daemon.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

ROWS=${RACE_ROWS:-40}
UPDATES=${RACE_UPDATES:-2000}
rwd_workdir race
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
norm() { tr ',' '\n' | sort | paste -sd, -; }
caught_up() {
    local i
    for i in 1 2; do
        [ "$(curl -s "$RWD_URL/v1/status" | jq -r ".masters[$((i - 1))].position.gtid" | norm)" = \
            "$(ring_sql "$i" "SELECT @@gtid_binlog_pos" | norm)" ] || return 1
    done
}

# MariaDB's default row metadata (NO_LOG: no names, no key in the binlog), and
# the table created while ringwatchd runs: its key comes from the CREATE TABLE
ring_start -n 2 --row-metadata "${RACE_META:-NO_LOG}" || exit 99
ring_sql 1 "CREATE DATABASE app"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
t_ok "connected" wait_for 10 connected
ring_sql 1 "CREATE TABLE app.hot (id INT PRIMARY KEY, v INT NOT NULL)"
ring_sql 1 "USE app; INSERT INTO app.hot (id, v) SELECT seq, 0 FROM seq_1_to_$ROWS"
ring_sync || exit 99

# two writers at full speed, one per master, each its own random rows and values
for i in 1 2; do
    awk -v n="$UPDATES" -v rows="$ROWS" -v seed="$i$RANDOM" 'BEGIN {
        srand(seed)
        for (k = 0; k < n; k++)
            printf "UPDATE app.hot SET v = %d WHERE id = %d;\n", int(rand() * 1000000), 1 + int(rand() * rows)
    }' > "$work/w$i.sql"
done
start=$(date +%s.%N)
ring_sql 1 < "$work/w1.sql" & w1=$!
ring_sql 2 < "$work/w2.sql" & w2=$!
wait "$w1"; r1=$?
wait "$w2"; r2=$?
t_ok "both writers finished ($UPDATES updates each, $(echo "$(date +%s.%N) - $start" | bc) s)" test "$r1" = 0 -a "$r2" = 0
t_ok "the ring synced (updates never stop a SQL thread)" ring_sync 60
# and a few certain divergences on top: the last writes to rows 1-3 cross
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.hot SET v = -1 WHERE id IN (1, 2, 3)"
ring_sql 2 "UPDATE app.hot SET v = -2 WHERE id IN (1, 2, 3)"
ring_resume_link 1 2; ring_resume_link 2 1
ring_sync 60
# when it has not, the rows it shows are those of the moment it has reached: say how far
t_ok "ringwatchd read everything" wait_for 30 caught_up ||
    for i in 1 2; do
        t_diag "master $i: ringwatchd at $(curl -s "$RWD_URL/v1/status" | jq -r ".masters[$((i - 1))].position.gtid"), the master at $(ring_sql "$i" "SELECT @@gtid_binlog_pos")"
    done
sleep 1

differ=$(join -t "$(printf '\t')" <(ring_sql 1 "SELECT id, v FROM app.hot ORDER BY id" | sort) \
              <(ring_sql 2 "SELECT id, v FROM app.hot ORDER BY id" | sort) |
         awk -F '\t' '$2 != $3 { print $1 }' | sort -n | paste -sd, -)
# the engine settles what the streams read: give it until the answer holds
open_diverged_now() { curl -s "$RWD_URL/v1/conflicts?state=all&limit=10000" > "$work/daemon.json"
    [ "$(jq -r '[.conflicts[] | select(.kind != "before-image" and .state == "open" and .diverged) | .key.id] | unique | sort | map(tostring) | join(",")' "$work/daemon.json")" = "$differ" ]; }
wait_for 10 open_diverged_now
found=$(jq '[.conflicts[] | select(.kind != "before-image")] | length' "$work/daemon.json")
t_ok "conflicts were found ($found)" test "$found" -gt 0
open_diverged=$(jq -r '[.conflicts[] | select(.kind != "before-image" and .state == "open" and .diverged) | .key.id] | unique | sort | map(tostring) | join(",")' "$work/daemon.json")
t_is "open diverged conflicts = rows that differ between the masters" "$open_diverged" "$differ"
[ "$open_diverged" = "$differ" ] ||
    for k in $(comm -3 <(echo "$open_diverged" | tr ',' '\n' | sort) <(echo "$differ" | tr ',' '\n' | sort)); do
        t_diag "row $k: west $(ring_sql 1 "SELECT v FROM app.hot WHERE id = $k"), east $(ring_sql 2 "SELECT v FROM app.hot WHERE id = $k")"
        jq -c ".conflicts[] | select(.key.id == $k and .state == \"open\") | [.id, .kind, .diverged, .final, [.writes[] | [.master, .gtid, .after.v]]]" "$work/daemon.json" | tail -n 3 | sed 's/^/#   /'
    done
t_ok "rows 1-3 at least differ ($differ)" sh -c "echo ',$differ,' | grep -q ',1,2,3,'"

files() { ls "$RING_DIR/$1"/binlog.[0-9]* | paste -sd, -; }
"$RINGWATCH" analyze --master "west=$(files west)" --master "east=$(files east)" >"$work/analyze.json" 2>"$work/analyze.err"
t_ok "analyze ran (exit 0 or 1)" test $? -le 1
pairs() { jq -r '[.conflicts[] | select(.kind != "before-image") | .uid] | sort | join(",")' "$1"; }
t_is "ringwatch analyze reports the same pairs as the daemon" "$(pairs "$work/analyze.json")" "$(pairs "$work/daemon.json")"
t_is "and the same open diverged rows" \
    "$(jq -r '[.conflicts[] | select(.kind != "before-image" and .state == "open" and .diverged) | .key.id] | unique | sort | map(tostring) | join(",")' "$work/analyze.json")" "$differ"
t_ok "no transaction skipped for an unknown origin" sh -c "! grep -q 'is not compared' '$work/log'"
t_ok "no row left uncompared (every shape known)" sh -c "! grep -q 'not compared' '$work/log' && [ \"\$(curl -s '$RWD_URL/v1/status' | jq '.unknown_tables | length')\" = 0 ]"
t_ok "every key is the primary key, none a row hash" sh -c "[ \"\$(jq '[.conflicts[] | select(.key | has(\"id\") | not)] | length' '$work/daemon.json')\" = 0 ]"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
