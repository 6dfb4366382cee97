#!/usr/bin/env bash
# What a gap hides is not taken for conflicts.  While ringwatchd is down,
# both masters write the same rows in turn (each write replicated before the
# next: nothing crosses), and west's binlogs of that time are purged.  At
# the restart east's stream shows those writes, west's cannot; west's binlog
# says which transactions the purged files held (GTID_LIST), and ringwatchd
# takes them as applied there.  West's later writes of the same rows are
# not reported as crossing east's, nothing stays unsettled, and the log and
# the metrics say how many were taken so.  Whether west applied an update of
# east's before it made one of its own on the same row only west's purged
# binlog could say: those pairs are counted as not decided, never guessed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir gap-conflicts
status() { curl -s "$RWD_URL/v1/status" | jq -r "$1"; }
norm() { tr ',' '\n' | sort | paste -sd, -; }
caught_up() {
    [ "$(status ".masters[$1].position.gtid" | norm)" = \
        "$(ring_sql $(($1 + 1)) "SELECT @@gtid_binlog_pos" | norm)" ]
}
all_caught_up() { caught_up 0 && caught_up 1; }
conflicts() { curl -s "$RWD_URL/v1/conflicts?state=all" | jq '.conflicts | length'; }
metric() { curl -s "$RWD_URL/metrics" | sed -n "s/^$1 //p"; }

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT NOT NULL)"
for i in 1 2 3; do ring_sql 1 "INSERT INTO app.t VALUES ($i, 0)"; done
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log1"
t_ok "it reads both masters to their end" wait_for 15 all_caught_up
sleep 1.5 # a checkpoint
kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=

# while it is down: the rows written on both masters in turn, then west's binlogs purged
ring_sql 1 "FLUSH BINARY LOGS"
for k in $(seq 1 6); do
    for i in 1 2 3; do
        ring_sql 1 "UPDATE app.t SET v = v + 1 WHERE id = $i"
        ring_sync 20 || exit 99
        ring_sql 2 "UPDATE app.t SET v = v + 10 WHERE id = $i"
        ring_sync 20 || exit 99
    done
done
ring_sql 1 "FLUSH BINARY LOGS"
purged() {
    ring_sql 1 "PURGE BINARY LOGS BEFORE NOW() + INTERVAL 1 DAY" 2>/dev/null
    [ "$(ring_sql 1 "SHOW BINARY LOGS" | wc -l)" = 1 ]
}
t_ok "west's binlogs but the active one are purged" wait_for 20 purged

t_ok "ringwatchd starts after the purge" rwd_start "$work/rw.conf" "$work/log2"
t_ok "the gap is reported" wait_for 15 sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '.masters[0].gap.id')\" != null ]"
t_ok "both masters read to their end" wait_for 20 all_caught_up
t_ok "the log says what west's binlog said of the purged files" \
    wait_for 5 grep -q "master west: after the gap, its binlog says which transactions the purged files held: [1-9][0-9]* that ringwatch waited for are taken as applied there" "$work/log2"
n=$(metric ringwatch_gap_transactions_total)
t_ok "the metrics count them ($n): east's 18 updates and west's 18, less what settled before" \
    test "${n:-0}" -ge 18

# after the gap: west writes the rows again, east too, in turn
for i in 1 2 3; do
    ring_sql 1 "UPDATE app.t SET v = v + 100 WHERE id = $i"
    ring_sync 20 || exit 99
    ring_sql 2 "UPDATE app.t SET v = v + 1000 WHERE id = $i"
    ring_sync 20 || exit 99
done
t_ok "read to the end again" wait_for 15 all_caught_up
sleep 2
t_is "no conflict reported: nothing crossed" "$(conflicts)" 0
t_is "nothing the engine tracks waits any more" "$(metric ringwatch_tracked_keys)" 0
# west wrote first in each of the 6 rounds, so east's stream shows every west write of a row
# before east's later ones (decided: east had it); east's write of round j before west's
# of round k > j is in west's purged binlog alone: 6 * 5 / 2 pairs a row
t_is "the pairs only west's purged binlog could order are not decided, and counted" \
    "$(metric ringwatch_gap_pairs_undecided_total)" $((3 * 6 * 5 / 2))
t_ok "the log says so" grep -q "$((3 * 6 * 5 / 2)) pairs of writes among them are not decided" "$work/log2"
t_is "the rows are the same on both masters" \
    "$(ring_sql 1 "SELECT GROUP_CONCAT(v ORDER BY id) FROM app.t")" \
    "$(ring_sql 2 "SELECT GROUP_CONCAT(v ORDER BY id) FROM app.t")"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
