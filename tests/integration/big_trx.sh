#!/usr/bin/env bash
# Transactions of hundreds of thousands of rows (a bulk load, a migration):
# ringwatchd's memory stays bounded. One over the row bound a transaction
# is followed by its appearances only and said so (log, metric, gate until
# it settles); one whose images are over the image bound is compared
# without them; conflicts are still found after both.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq

rwd_workdir big_trx
connected() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '[.masters[].connected] | all')" = true ]; }
metric() { curl -s "$RWD_URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
tracking() { curl -s "$RWD_URL/v1/gate" | jq -r ".checks[] | select(.name == \"tracking\") | .$1"; }
conflicts() { curl -s "$RWD_URL/v1/conflicts?state=all" | jq -r "$1"; }
uu_on() { [ "$(conflicts "[.conflicts[] | select(.kind == \"update-update\" and .key.id == $1)] | length")" = 1 ]; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$RWD_PID/status"; }

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v INT, s VARCHAR(64))"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
t_ok "connected" wait_for 10 connected

# 300,000 rows in one transaction, with west -> east stalled so that it stays unsettled
ring_pause_link 1 2
ring_sql 1 "INSERT INTO app.t SELECT seq, seq, CONCAT('row-', seq, '-', MD5(seq)) FROM app.seq_1_to_300000"
t_ok "a transaction of 300,000 row changes is counted as big" \
    wait_for 30 metric_is ringwatch_tracking_big_transactions_total 1
t_is "it is not settled: east has not shown it" "$(metric ringwatch_tracking_big_unsettled)" 1
t_is "the gate's tracking check fails meanwhile" "$(tracking ok)" false
t_ok "and says why" sh -c "curl -s '$RWD_URL/v1/gate' | jq -r '.checks[] | select(.name == \"tracking\") | .detail' | grep -q 'row changes not yet in every stream'"
t_ok "the log names where it ends and how many rows it has" \
    grep -q "master west: the transaction ending at binlog.[0-9]*:[0-9]* has 300000 row changes, over the bound" "$work/log"
t_ok "its row changes are counted as not compared" \
    sh -c "[ \"\$(curl -s '$RWD_URL/metrics' | awk '\$1 == \"ringwatch_tracking_dropped_writes_total\" { print \$2 }')\" -ge 300000 ]"
t_is "not blind: only that transaction is over" "$(metric ringwatch_tracking_blind)" 0
t_is "every one of its row changes counted as west's writes to app.t (/v1/tables)" \
    "$(curl -s "$RWD_URL/v1/tables" | jq '[.tables[] | select(.schema == "app" and .table == "t") | .masters.west.writes_10m][0]')" 300000
ring_resume_link 1 2
ring_sync 60
t_ok "east's copy settles it" wait_for 30 metric_is ringwatch_tracking_big_unsettled 0
t_ok "the gate's tracking check passes again" wait_for 10 sh -c "[ \"\$(curl -s '$RWD_URL/v1/gate' | jq -r '.checks[] | select(.name == \"tracking\") | .ok')\" = true ]"

# 150,000 updated rows: under the row bound, their images over the image bound
ring_sql 1 "UPDATE app.t SET v = v + 1 WHERE id <= 150000"
ring_sync 60
t_ok "a transaction of 150,000 updates is compared without its images" \
    wait_for 30 metric_is ringwatch_tracking_images_dropped_total 1
t_is "and is no big transaction" "$(metric ringwatch_tracking_big_transactions_total)" 1

# a conflict inside the rows the big transactions wrote is still found
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = -1 WHERE id = 7"
ring_sql 2 "UPDATE app.t SET v = -2 WHERE id = 7"
ring_resume_link 1 2; ring_resume_link 2 1
t_ok "an update-update on id 7 afterwards is found" wait_for 20 uu_on 7
t_is "and no before-image record is claimed" \
    "$(conflicts '[.conflicts[] | select(.kind == "before-image")] | length')" 0
# events of every size around the replica thread's batch bound (64 KiB)
ring_sql 1 "CREATE TABLE app.b (id INT PRIMARY KEY, b MEDIUMBLOB)"
for n in $(seq 65400 65600); do echo "INSERT INTO app.b VALUES ($n, REPEAT('x', $n));"; done | ring_sql 1
ring_sync 60
pos_is() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r ".masters[$(($1 - 1))].position.gtid")" = "$(ring_sql "$1" "SELECT @@gtid_binlog_pos")" ]; }
t_ok "rows events of 65,400 to 65,600 bytes: west's stream reads them all" wait_for 20 pos_is 1
t_ok "and east's" wait_for 20 pos_is 2
t_ok "no stream failed on them" sh -c "! grep -q 'out of memory' '$work/log'"
hwm=$(hwm_kib)
# AddressSanitizer keeps freed memory in quarantine (256 MiB) and adds its shadow
if [ -n "${RW_SANITIZED:-}" ]; then bound=768; else bound=128; fi
t_ok "peak RSS ${hwm} KiB, under $bound MiB" test "$hwm" -lt $((bound * 1024))
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
t_done
