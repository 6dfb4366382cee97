#!/usr/bin/env bash
# probe_schema.sh - the probes' PROBE_SCHEMA letter against a real MariaDB
# ring: tables of many shapes come out as CREATE TABLE statements that the
# DDL parser reads back with the right columns, key and unique keys, that
# the server itself runs into the same information_schema rows, between two
# binlog positions P1 <= P2 (with @@gtid_binlog_pos); and without the
# privilege for the positions, the tables still come, with the reason.
# Exit: 0 pass, 1 a check failed, 77 no server (skip), 99 no server in CI.
set -u
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"
# shellcheck source=tests/harness/ring.sh
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server

PROBE_RING="$top_builddir/tests/integration/probe_ring"
work=$(mktemp -d "${TMPDIR:-/tmp}/rw-probe-schema.XXXXXX")
probe_pid=
# shellcheck disable=SC2016 # expanded when the trap runs
ring_on_exit '[ -z "$probe_pid" ] || kill -9 "$probe_pid" 2>/dev/null; rm -rf "$work"'

# info MASTER KEY: a field of the master's latest PROBE_SCHEMA letter.
info() { sed -n "s/^$2=//p" "$work/out/$1.schema.info" 2>/dev/null | head -n 1; }
# shape MASTER SCHEMA.TABLE: how the parser read the table back (see probe_ring.c).
shape() {
	awk -v k="$2: " 'index($0, k) == 1 { print substr($0, length(k) + 1) }' \
		"$work/out/$1.shapes" 2>/dev/null
}
# seq_past MASTER N: a letter later than the Nth has come.
seq_past() { [ "$(info "$1" seq)" -gt "$2" ] 2>/dev/null; }
# refresh: ask every probe for the tables again, wait for the next letters.
refresh() {
	local w e
	w=$(info west seq) e=$(info east seq)
	kill -USR1 "$probe_pid"
	wait_for 20 seq_past west "${w:-0}" && wait_for 20 seq_past east "${e:-0}"
}
# pos_le FILE:OFFSET FILE:OFFSET: the first binlog position is not after the second.
pos_le() {
	local af=${1%:*} ao=${1##*:} bf=${2%:*} bo=${2##*:}
	[[ $af < $bf ]] || { [ "$af" = "$bf" ] && [ "$ao" -le "$bo" ]; }
}
binlog_pos() { ring_sql "$1" "SHOW MASTER STATUS" | awk '{ print $1 ":" $2 }'; }
# rows I SCHEMA: the server's information_schema description of a schema's
# tables (not the view, the sequence or the functional key's table).
rows() {
	local w="TABLE_SCHEMA = '$2' AND TABLE_NAME NOT IN ('v', 'sq', 'fx')"
	ring_sql "$1" "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
		WHERE $w ORDER BY 1;
	SELECT TABLE_NAME, ORDINAL_POSITION, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE,
		COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, GENERATION_EXPRESSION
		FROM information_schema.COLUMNS WHERE $w ORDER BY 1, 2;
	SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART,
		INDEX_TYPE FROM information_schema.STATISTICS WHERE $w ORDER BY 1, 2, 4"
}
# kill_probes I: end the probes' connections to master I (they reconnect).
kill_probes() {
	local id
	for id in $(ring_sql "$1" "SELECT ID FROM information_schema.PROCESSLIST
			WHERE USER = 'ringwatch'"); do
		ring_sql "$1" "KILL $id" 2>/dev/null
	done
}
connects() { sed -n 's/^connects=//p' "$work/out/$1.txt" 2>/dev/null; }
# reconnected MASTER N: the probe has made more than N connections.
reconnected() { [ "$(connects "$1")" -gt "$2" ] 2>/dev/null; }
show() {
	t_diag "$1:"
	sed 's/^/#   /' "$work/out/$1.schema.info" "$work/out/$1.shapes" 2>/dev/null
}

ring_start -n 2 || { echo "Bail out! ring_start failed"; exit 1; }
ring_write_config "$work/rw.conf" >/dev/null
mkdir -p "$work/out"
"$PROBE_RING" "$work/rw.conf" "$work/out" 0.2 2>"$work/probe.log" &
probe_pid=$!

# --- the first letter --------------------------------------------------------
t_ok "west: the tables read at the start" wait_for 20 seq_past west 0
t_ok "east: the tables read at the start" wait_for 20 seq_past east 0
t_is "the letter worked" "$(info west ok)" 1
t_is "the flavour" "$(info west mariadb)" 1
IFS=.- read -r ma mi pa _ <<<"$(ring_sql 1 "SELECT @@version")"
t_is "the version as a number" "$(info west version)" "$((10#$ma * 10000 + 10#$mi * 100 + 10#$pa))"
t_is "positions read" "$(info west has_positions)" 1

# --- tables of many shapes ---------------------------------------------------
ring_sql 1 "CREATE DATABASE shapes;
CREATE TABLE shapes.comp (a INT, b VARCHAR(10), c TEXT, PRIMARY KEY (b, a), KEY kc (c(20)));
CREATE TABLE shapes.nn (a INT NOT NULL, b INT NOT NULL, c INT,
	UNIQUE KEY ub (b, a), UNIQUE KEY uc (c));
CREATE TABLE shapes.nullu (a INT, b INT, UNIQUE KEY ua (a));
CREATE TABLE shapes.gen (a INT PRIMARY KEY, b INT AS (a + 1) VIRTUAL,
	c VARCHAR(20) AS (CONCAT('x''', a)) PERSISTENT, KEY kb (b));
CREATE TABLE shapes.es (id INT PRIMARY KEY AUTO_INCREMENT,
	e ENUM('a','b''c','d\\\\') NOT NULL DEFAULT 'b''c', s SET('x','y') DEFAULT 'x,y',
	q VARCHAR(10) DEFAULT 'it''s \\\\ ok', nq VARCHAR(5) DEFAULT 'NULL',
	ts TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
	d DATETIME DEFAULT NOW(), x INT DEFAULT (1 + 2), h INT INVISIBLE DEFAULT 5,
	bn BINARY(4) DEFAULT 'ab', bt BIT(3) DEFAULT b'101', ft TEXT, FULLTEXT KEY f (ft));
CREATE TABLE shapes.ver (x INT PRIMARY KEY, y INT, UNIQUE KEY uy (y)) WITH SYSTEM VERSIONING;
CREATE TABLE shapes.ver2 (x INT, rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,
	re TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE, PERIOD FOR SYSTEM_TIME (rs, re),
	PRIMARY KEY (x)) WITH SYSTEM VERSIONING;
CREATE TABLE shapes.geo (id INT PRIMARY KEY, g GEOMETRY NOT NULL, SPATIAL KEY sg (g));
CREATE TABLE shapes.ord (a INT, b INT NOT NULL, c INT NOT NULL, d TEXT, KEY k1 (a),
	UNIQUE KEY zz (b), UNIQUE KEY aa_null (a), UNIQUE KEY pre (d(10)), UNIQUE KEY mm (c));
CREATE TABLE shapes.\`we\`\`ird\` (\`a b\` INT UNSIGNED, \`c\`\`d\` VARCHAR(3) COMPRESSED);
CREATE TABLE shapes.lu (a INT PRIMARY KEY, b BLOB, UNIQUE KEY ub (b));
CREATE VIEW shapes.v AS SELECT a, b FROM shapes.comp;
CREATE SEQUENCE shapes.sq"
# MariaDB has no functional key parts (yet): should one come, its index is
# left out (information_schema gives no expression) and the table stays known.
if ring_sql 1 "CREATE TABLE shapes.fx (a INT, KEY k ((a + 1)))" 2>/dev/null; then
	fx=1
else
	fx=0
	t_diag "this server refuses functional key parts"
fi
ring_sync 30 || t_diag "ring_sync failed"
before_w=$(binlog_pos 1)
before_e=$(binlog_pos 2)
t_ok "asked again, the tables come again" refresh
t_is "ok" "$(info west ok)" 1
t_is "every statement read back" "$(info west parsed):$(info west unreadable)" 1:0

t_is "composite primary key" "$(shape west shapes.comp)" "a!,b!,c | key b,a | unique "
t_is "NOT NULL unique, no primary key: the key" "$(shape west shapes.nn)" \
	"a!,b!,c | key b,a | unique c"
t_is "a nullable unique key alone is no key" "$(shape west shapes.nullu)" \
	"a,b | key  | unique a"
t_is "generated columns" "$(shape west shapes.gen)" "a!,b*,c* | key a | unique "
t_is "enum, set, defaults, an invisible column" "$(shape west shapes.es)" \
	"id!,e!,s,q,nq,ts!,d,x,h~,bn,bt,ft | key id | unique "
t_is "system versioned: hidden row_start, row_end in the keys" "$(shape west shapes.ver)" \
	"x!,y,row_start!~,row_end!~ | key x,row_end | unique y,row_end | versioned"
t_is "system versioned with declared period columns" "$(shape west shapes.ver2)" \
	"x!,rs!~,re!~ | key x,re | unique  | versioned"
t_is "a spatial key" "$(shape west shapes.geo)" "id!,g! | key id | unique "
t_is "the first NOT NULL unique key by definition, a prefix key no unique key" \
	"$(shape west shapes.ord)" "a,b!,c!,d | key b | unique c;a"
t_is "names with backquotes and spaces" "$(shape west 'shapes.we`ird')" "a b,c\`d | key  | unique "
t_is "a long unique key (HASH): its hidden hash column, as the table map has it" \
	"$(shape west shapes.lu)" "a!,b,DB_ROW_HASH_1~ | key a | unique b"
t_is "no view" "$(shape west shapes.v)" ""
t_is "a sequence: the sequence's columns" "$(shape west shapes.sq)" \
	"next_not_cached_value!,minimum_value!,maximum_value!,start_value!,increment!,cache_size!,cycle_option!,cycle_count! | key  | unique "
[ "$fx" = 0 ] || t_is "a functional key left out" "$(shape west shapes.fx)" "a | key  | unique "
t_ok "east read the same shapes" cmp -s "$work/out/west.shapes" "$work/out/east.shapes"

sql=$work/out/west.schema
# shellcheck disable=SC2016
t_ok "written as a sequence" grep -qxF 'CREATE SEQUENCE `shapes`.`sq`;' "$sql"
t_ok "quotes and backslashes in defaults" grep -qF "DEFAULT 'it''s \\\\ ok'," "$sql"
# shellcheck disable=SC2016 # backquotes are SQL's, not the shell's
t_ok "a default expression" grep -qF '`x` int(11) DEFAULT (1 + 2),' "$sql"
t_ok "ON UPDATE" grep -qF "NOT NULL DEFAULT current_timestamp(3) ON UPDATE current_timestamp(3)," "$sql"
t_ok "WITH SYSTEM VERSIONING" grep -qxF ") WITH SYSTEM VERSIONING;" "$sql"
# shellcheck disable=SC2016
t_ok "a prefix key" grep -qF 'KEY `kc` (`c`(20))' "$sql"

# the server runs the statements into the same information_schema rows
# shellcheck disable=SC2016
awk '/^CREATE /{ keep = index($0, "CREATE TABLE `shapes`.") == 1 } keep' "$sql" |
	sed 's/^CREATE TABLE `shapes`\./CREATE TABLE `shapes_copy`./' >"$work/copy.sql"
# shellcheck disable=SC2016
[ "$fx" = 0 ] || sed -i '/^CREATE TABLE `shapes_copy`\.`fx`/,/;$/d' "$work/copy.sql"
{ echo "SET SESSION sql_log_bin=0; CREATE DATABASE shapes_copy;"; cat "$work/copy.sql"; } |
	ring_sql 2 2>"$work/copy.err"
t_ok "the server runs the statements" test ! -s "$work/copy.err"
rows 2 shapes >"$work/rows.orig"
rows 2 shapes_copy >"$work/rows.copy"
t_ok "into the same tables, columns and keys" diff "$work/rows.orig" "$work/rows.copy"
t_is "(of every table)" "$(grep -c '^CREATE TABLE' "$work/copy.sql")" 11

# --- the positions -----------------------------------------------------------
for m in west east; do
	t_is "$m: positions read" "$(info $m has_positions)" 1
	t_ok "$m: P1 <= P2 ($(info $m p1), $(info $m p2))" test "$(info $m positions_ordered)" = 1
done
t_ok "west: P1 is at or after the DDL ($before_w)" pos_le "$before_w" "$(info west p1)"
t_ok "east: P1 is at or after the replicated DDL ($before_e)" pos_le "$before_e" "$(info east p1)"
t_ok "P2 is not after the binlog's end now" pos_le "$(info west p2)" "$(binlog_pos 1)"
t_is "gtid_pos is @@gtid_binlog_pos" "$(info west gtid_pos)" \
	"$(ring_sql 1 "SELECT @@GLOBAL.gtid_binlog_pos")"

# --- no privilege for the positions -----------------------------------------
ring_sql 1 "SET SESSION sql_log_bin=0;
	REVOKE BINLOG MONITOR ON *.* FROM 'ringwatch'@'127.0.0.1', 'ringwatch'@'localhost'"
n=$(connects west)
kill_probes 1
t_ok "the probe reconnects" wait_for 20 reconnected west "$n"
t_ok "asked again without BINLOG MONITOR" refresh
t_is "the tables still come" "$(info west ok):$(shape west shapes.comp)" \
	"1:a!,b!,c | key b,a | unique "
t_is "without positions" "$(info west has_positions)" 0
perr=$(info west positions_error)
case $perr in *"BINLOG MONITOR"*) named=1 ;; *) named=0 ;; esac
t_is "the reason names the privilege ($perr)" "$named" 1
t_is "and no GTID position" "$(info west gtid_pos)" ""
ring_sql 1 "SET SESSION sql_log_bin=0;
	GRANT BINLOG MONITOR ON *.* TO 'ringwatch'@'127.0.0.1', 'ringwatch'@'localhost'"
n=$(connects west)
kill_probes 1
wait_for 20 reconnected west "$n" || t_diag "no reconnection"
t_ok "granted again" refresh
t_is "the positions are back" "$(info west has_positions):$(info west positions_ordered)" 1:1

# --- stopping ----------------------------------------------------------------
kill -TERM "$probe_pid"
wait "$probe_pid"
rc=$?
probe_pid=
t_is "the probes stop cleanly on SIGTERM" "$rc" 0
[ "$t_failed" -eq 0 ] || { show west; show east; sed 's/^/#   /' "$work/probe.log"; }
t_done
