#!/usr/bin/env bash
# Row changes decoded ahead of the feed (row_batch.h) against the feed's own,
# on a real server's binlogs: tests/unit/test_row_batch reads them with and
# without batches, under small bounds, and compares.  What fixtures lack:
# updates that move primary keys (two changes a row, one when skipped past
# the bound), UNIQUE keys, a table created and altered between its rows,
# MariaDB's compressed rows events, both masters' binlogs of one ring.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server

TEST=$top_builddir/tests/unit/test_row_batch
[ -x "$TEST" ] || { echo "Bail out! $TEST not built (make check builds it)"; exit 99; }

ring_start -n 2 --compress --row-metadata=NO_LOG || exit 99
ring_sql 1 "CREATE DATABASE app;
CREATE TABLE app.k (id INT PRIMARY KEY, v INT, u INT, s VARCHAR(300), UNIQUE KEY (u));
INSERT INTO app.k SELECT seq, seq, seq * 10, REPEAT('x', seq * 20) FROM app.seq_1_to_12;
UPDATE app.k SET id = id + 100 WHERE id <= 7;
UPDATE app.k SET v = v + 1, u = u + 1000;
ALTER TABLE app.k ADD COLUMN z INT FIRST;
BEGIN; UPDATE app.k SET id = id + 1000 WHERE id > 100; UPDATE app.k SET z = id; COMMIT;
DELETE FROM app.k WHERE id % 3 = 0;
CREATE TABLE app.nokey (a INT, b VARCHAR(20));
INSERT INTO app.nokey VALUES (1, 'one'), (2, 'two'), (2, 'two');
UPDATE app.nokey SET b = 'deux' WHERE a = 2;"
ring_sql 2 "INSERT INTO app.k (id, v, u) SELECT seq + 5000, seq, seq + 50000 FROM app.seq_1_to_9;
UPDATE app.k SET id = id + 10 WHERE id > 5000"
ring_sync || exit 99

mapfile -t files < <(ls "$RING_DIR/${RING_NAMES[1]}"/binlog.[0-9]* "$RING_DIR/${RING_NAMES[2]}"/binlog.[0-9]*)
t_ok "both masters' binlogs (${#files[@]} files)" test "${#files[@]}" -ge 2
"$TEST" "${files[@]}" >"$RING_DIR/tap" 2>&1
rc=$?
sed 's/^/# /' "$RING_DIR/tap"
t_is "the unit test passes on them" "$rc" 0
t_ok "and it compared updates that moved keys" grep -q "^ok .* updates moved a key" "$RING_DIR/tap"
t_done
