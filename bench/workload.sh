#!/usr/bin/env bash
# The benchmark workload of the parser and the streams, on master I of a running ring.
#
# From bash, after `. tests/harness/ring.sh` and ring_start:
#     . bench/workload.sh
#     bench_workload I [ROWS=1000000]
# or against a ring started elsewhere (tests/harness/ring.sh up):
#     bench/workload.sh RING_DIR/ring.env I [ROWS]
#
# Table bench.t (id INT AUTO_INCREMENT PRIMARY KEY, n INT, s VARCHAR(64),
# d DATETIME(3), m DECIMAL(12,2)):
#   - ROWS rows inserted from MariaDB's SEQUENCE engine, 1,000 rows per
#     transaction (n = the row's rank 1..ROWS, s about 44 characters);
#   - every third row (n % 3 = 0) updated (s, d, m change), 1,000 updated
#     rows per transaction;
#   - every fifth row (n % 5 = 0) deleted, 1,000 deleted rows per transaction.
# The ring sets auto_increment_increment to the number of masters, so ids are
# not dense; n is. Each UPDATE/DELETE walks a primary-key range whose bounds
# come from one scan (the id of every 3,000th / 5,000th row), so no statement
# scans the table and the deletes do not shift later chunks.
# With ROWS=1000000 the origin's binlog grows by about 125 MB (about 1,000,000
# inserted, 333,333 updated and 200,000 deleted row images); log_slave_updates
# puts the same on every other master.
#
# bench_workload_big I [ROWS]: the same table and row changes as three big
# statements, one transaction each: an INSERT ... SELECT of ROWS rows, an
# UPDATE of every third row, a DELETE of every fifth (a backlog as a
# bulk load or a migration leaves it).

# bench_workload I [ROWS]: 0 on success; prints "inserted N updated N deleted N".
bench_workload() {
	local i=$1 rows=${2:-1000000} chunk=1000 start end k
	local -a b
	ring_sql "$i" "CREATE DATABASE IF NOT EXISTS bench;
        DROP TABLE IF EXISTS bench.t;
        CREATE TABLE bench.t (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL,
            s VARCHAR(64) NOT NULL, d DATETIME(3) NOT NULL, m DECIMAL(12,2) NOT NULL)
            ENGINE=InnoDB" || return 1
	# Inserts: one autocommit statement (one transaction) per 1,000 rows.
	{
		for ((start = 1; start <= rows; start += chunk)); do
			end=$((start + chunk - 1))
			((end > rows)) && end=$rows
			printf "INSERT INTO bench.t (n, s, d, m) SELECT seq, CONCAT('row-', seq, '-', MD5(seq)),
    TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq * 1001000 MICROSECOND,
    (seq * 7919 %% 100000000) / 100 FROM bench.seq_%d_to_%d;\n" "$start" "$end"
		done
	} | ring_sql "$i" || return 1

	# Updates: every third row, 1,000 of them per transaction: primary-key
	# ranges of 3,000 rows, bounded by the ids of rows n = 1, 3001, 6001...
	mapfile -t b < <(ring_sql "$i" "SELECT id FROM bench.t WHERE n % 3000 = 1 ORDER BY id") || return 1
	{
		for ((k = 0; k < ${#b[@]}; k++)); do
			printf "UPDATE bench.t SET s = CONCAT(s, '+'), d = d + INTERVAL 1 DAY, m = m + 1.25
    WHERE id >= %d%s AND n %% 3 = 0;\n" "${b[k]}" "${b[k + 1]:+ AND id < ${b[k + 1]}}"
		done
	} | ring_sql "$i" || return 1

	# Deletes: every fifth row, 1,000 per transaction (ranges of 5,000 rows).
	mapfile -t b < <(ring_sql "$i" "SELECT id FROM bench.t WHERE n % 5000 = 1 ORDER BY id") || return 1
	{
		for ((k = 0; k < ${#b[@]}; k++)); do
			printf "DELETE FROM bench.t WHERE id >= %d%s AND n %% 5 = 0;\n" \
				"${b[k]}" "${b[k + 1]:+ AND id < ${b[k + 1]}}"
		done
	} | ring_sql "$i" || return 1
	echo "inserted $rows updated $((rows / 3)) deleted $((rows / 5))"
}

bench_workload_big() {
	local i=$1 rows=${2:-1000000}
	ring_sql "$i" "CREATE DATABASE IF NOT EXISTS bench;
        DROP TABLE IF EXISTS bench.t;
        CREATE TABLE bench.t (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL,
            s VARCHAR(64) NOT NULL, d DATETIME(3) NOT NULL, m DECIMAL(12,2) NOT NULL)
            ENGINE=InnoDB" || return 1
	ring_sql "$i" "INSERT INTO bench.t (n, s, d, m) SELECT seq, CONCAT('row-', seq, '-', MD5(seq)),
    TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq * 1001000 MICROSECOND,
    (seq * 7919 % 100000000) / 100 FROM bench.seq_1_to_$rows;
        UPDATE bench.t SET s = CONCAT(s, '+'), d = d + INTERVAL 1 DAY, m = m + 1.25 WHERE n % 3 = 0;
        DELETE FROM bench.t WHERE n % 5 = 0" || return 1
	echo "inserted $rows updated $((rows / 3)) deleted $((rows / 5))"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	set -eu
	if (($# < 2)); then
		echo "usage: $0 RING_DIR/ring.env I [ROWS]" >&2
		exit 2
	fi
	here=$(cd "$(dirname "$0")" && pwd)
	# shellcheck source=/dev/null
	. "$here/../tests/harness/ring.sh"
	# shellcheck source=/dev/null
	. "$1"
	bench_workload "$2" "${3:-1000000}"
fi
