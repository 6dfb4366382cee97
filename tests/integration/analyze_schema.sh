#!/usr/bin/env bash
# `ringwatch analyze` on a real two-master ring with binlog_row_metadata=NO_LOG
# (MariaDB's default: table maps carry no column names and no primary key),
# where table shapes come only from the DDL in the binlogs and --schema files.
#
# The workload, rounds of paused-link updates on a few hot rows from both
# masters (random rows and counts, each transaction a unique value), is its
# own independent count: every west transaction of a round conflicts with
# every east transaction of the same round on each row both wrote, and with
# nothing else (the ring is synced and settled between rounds).  The GTIDs
# of every transaction are recorded as it commits, so the expected pairs are
# (kind, id, west GTID, east GTID), compared with analyze's one by one.
#
#   binlog 1: CREATE TABLE app.t (v, id, PRIMARY KEY (id)), round 1
#   binlog 2: round 2, ALTER TABLE t ADD COLUMN z INT FIRST, round 3
#   binlog 3: insert-insert pairs (both SQL threads stop with 1062)
#
# 1. all binlogs: exact, keys {"id": N}, real column names, exit 1 (the
#    insert-insert rows diverged); binlogs 1-2 only: exact, exit 0.
# 2. binlogs 2-3 without --schema: app.t named as not compared with the
#    exact count of row changes per master, the hint, the summary line,
#    exit 1, no conflict reported (nothing guessed).
# 3. binlogs 2-3 with --schema: mariadb-dump --no-data output, SHOW CREATE
#    TABLE output after a USE line, for every master or per master: exact.
# 4. across the ALTER: the same keys, images before it without z, after it
#    with z, every write's after image the values its transaction wrote.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
# the tools come with the server and jq is needed: missing, an error, not a skip
DUMP=$(command -v mariadb-dump || command -v mysqldump)
for tool in jq "$DUMP"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "Bail out! ${tool:-mariadb-dump} not found"; exit 99; }
done

ROWS=6   # hot rows
TRX=15   # transactions per master and round, each on 1 to 3 hot rows
INSERTS=5
SEED=${ANALYZE_SCHEMA_SEED:-$RANDOM}
t_diag "seed $SEED (ANALYZE_SCHEMA_SEED=$SEED to repeat)"
work=$(mktemp -d "${TMPDIR:-/tmp}/rw-analyze-schema.XXXXXX")
ring_on_exit '[ -n "${RW_KEEP_WORK:-}" ] || rm -rf "$work"'
trx="$work/trx" # one line per transaction: round master gtid ids v z
: >"$trx"

# gen ROUND MASTER WITH_Z: the SQL of one master's round (each statement
# followed by SELECT @@last_gtid) on stdout, its transactions in $work/gen
gen() {
    awk -v seed="$SEED" -v round="$1" -v m="${2:0:1}" -v rows="$ROWS" \
        -v n="$TRX" -v with_z="$3" -v meta="$work/gen" 'BEGIN {
        srand(seed * 10 + round * 2 + (m == "w"))
        for (k = 1; k <= n; k++) {
            want = 1 + int(rand() * 3); ids = ""; split("", used)
            while (want > 0) {
                id = 1 + int(rand() * rows)
                if (id in used) continue
                used[id] = 1; ids = ids (ids == "" ? "" : ",") id; want--
            }
            v = m round "-" k
            z = with_z ? (m == "w" ? 1 : -1) * (round * 1000 + k) : "null"
            printf "UPDATE app.t SET v = '\''%s'\''%s WHERE id IN (%s); SELECT @@last_gtid;\n",
                v, with_z ? ", z = " z : "", ids
            print ids, v, z > meta
        }
    }'
}
# run ROUND I WITH_Z: master I's round, its transactions appended to $trx
run() {
    local name=${RING_NAMES[$2]}
    gen "$1" "$name" "$3" >"$work/round.sql"
    ring_sql "$2" <"$work/round.sql" >"$work/gtids" || return 1
    paste -d ' ' "$work/gtids" "$work/gen" | awk -v r="$1" -v m="$name" '{ print r, m, $0 }' >>"$trx"
}
# round ROUND WITH_Z: both masters with the links paused, then synced, then
# one write of west on every hot row makes the masters equal again
round() {
    ring_pause_link 1 2; ring_pause_link 2 1
    run "$1" 1 "$2" && run "$1" 2 "$2" || return 1
    ring_resume_link 1 2; ring_resume_link 2 1
    ring_sync 30 || return 1
    ring_sql 1 "UPDATE app.t SET v = CONCAT('s$1-', id)" && ring_sync 30
}
rows_in() { awk -v r="$1" '$1 == r { n += split($4, a, ",") } END { print n + 0 }' "$trx"; }

ring_start -n 2 --row-metadata NO_LOG || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (v VARCHAR(20) NOT NULL, id INT NOT NULL, PRIMARY KEY (id))" || exit 99
ring_sql 1 "USE app; INSERT INTO t (id, v) SELECT seq, 'init' FROM seq_1_to_$ROWS" || exit 99
ring_sync || exit 99
round 1 0 || exit 99
ring_sql 1 "FLUSH BINARY LOGS" && ring_sql 2 "FLUSH BINARY LOGS" || exit 99
# the shapes as of the start of binlog 2
"$DUMP" --no-defaults -S "${RING_SOCKS[1]}" -uroot --no-data app >"$work/dump.sql" || exit 99
{
    echo "USE app;"
    _ring_client 1 -N -B -r -e "SHOW CREATE TABLE app.t" | sed '1s/^[^\t]*\t//'
    echo ";"
} >"$work/show.sql"
t_ok "the dump holds the table" grep -q 'CREATE TABLE `t`' "$work/dump.sql"
t_ok "the dump names its database in its header" grep -q '^-- Host: .*Database: app' "$work/dump.sql"
t_ok "SHOW CREATE TABLE gives the table unqualified" grep -q '^CREATE TABLE `t` (' "$work/show.sql"
round 2 0 || exit 99
ring_sql 1 "USE app; ALTER TABLE t ADD COLUMN z INT FIRST" || exit 99
ring_sync || exit 99
round 3 1 || exit 99
ring_sql 1 "FLUSH BINARY LOGS" && ring_sql 2 "FLUSH BINARY LOGS" || exit 99
# round 4: the same new ids on both masters, each insert its own transaction
ring_pause_link 1 2; ring_pause_link 2 1
for i in 1 2; do
    name=${RING_NAMES[i]}
    for k in $(seq 1 $INSERTS); do
        echo "INSERT INTO app.t (id, v, z) VALUES ($((100 + k)), '${name:0:1}4-$k', $k); SELECT @@last_gtid;"
    done | ring_sql "$i" | awk -v m="$name" '{ print 4, m, $1, 100 + NR, substr(m, 1, 1) "4-" NR, NR }' >>"$trx"
done
ring_sql 1 "INSERT INTO app.t (id, v) VALUES (201, 'west only')"
ring_sql 2 "INSERT INTO app.t (id, v) VALUES (202, 'east only')"
ring_resume_link 1 2; ring_resume_link 2 1
stopped() { [ "$(ring_slave_field "$1" "$2" Last_SQL_Errno)" = 1062 ]; }
t_ok "west's SQL thread stops on the first insert-insert (1062)" wait_for 10 stopped 1 2
t_ok "so does east's" wait_for 10 stopped 2 1
t_is "every transaction got its GTID" "$(grep -cE '^[1-4] (west|east) [12]-[12]-[0-9]+ ' "$trx")" $((6 * TRX + 2 * INSERTS))

files=()
for i in 1 2; do
    mapfile -t f < <(ls "$RING_DIR/${RING_NAMES[i]}"/binlog.[0-9]*)
    t_is "${RING_NAMES[i]} wrote three binlogs" "${#f[@]}" 3
    files[i]=$(printf '%s\n' "${f[@]}" | paste -sd, -)
done
# binlogs FROM..TO (1-based) of master I, comma-separated
some() { echo "${files[$1]}" | cut -d, -f"$2-$3"; }
analyze() { # OUT FROM TO [--schema ...]: analyze binlogs FROM..TO of both masters
    local out=$1 from=$2 to=$3
    shift 3
    "$RINGWATCH" analyze --master "west=$(some 1 "$from" "$to")" \
        --master "east=$(some 2 "$from" "$to")" "$@" >"$work/$out.json" 2>"$work/$out.err"
    echo $?
}

# the expected pairs of rounds FIRST..LAST: "kind id west-gtid east-gtid"
expected() {
    awk -v first="$1" -v last="$2" '
        $1 < first || $1 > last { next }
        $2 == "west" { w[$1, ++nw[$1]] = $3; wi[$1, nw[$1]] = $4 }
        $2 == "east" { e[$1, ++ne[$1]] = $3; ei[$1, ne[$1]] = $4 }
        END {
            for (r = first; r <= last; r++)
                for (a = 1; a <= nw[r]; a++)
                    for (b = 1; b <= ne[r]; b++) {
                        n = split(wi[r, a], x, ","); split("", mine)
                        for (i = 1; i <= n; i++) mine[x[i]] = 1
                        n = split(ei[r, b], x, ",")
                        for (i = 1; i <= n; i++)
                            if (x[i] in mine)
                                print (r == 4 ? "insert-insert" : "update-update"), x[i], w[r, a], e[r, b]
                    }
        }' "$trx" | sort
}
pairs() {
    jq -r '.conflicts[] | select(.kind != "before-image") |
        "\(.kind) \(.key.id) \(.writes[] | select(.master == "west") | .gtid) \(.writes[] | select(.master == "east") | .gtid)"' \
        "$work/$1.json" | sort
}
# every reported write as "gtid|id|v|z|before's columns|after's columns"
writes() {
    jq -r '.conflicts[] | select(.kind != "before-image") | .writes[] |
        "\(.gtid)|\(.after.id)|\(.after.v)|\(.after.z)|\(.before // {} | keys | join(","))|\(.after // {} | keys | join(","))"' \
        "$work/$1.json" | sort -u
}
# the same, as the writes of the pairs of rounds FIRST..LAST must be: the
# values their transactions wrote, z from round 3 (after the ALTER) on
expected_writes() {
    expected "$1" "$2" | awk '{ print $3 "|" $2; print $4 "|" $2 }' | sort -u >"$work/want.ids"
    awk 'NR == FNR { want[$0] = 1; next }
        { n = split($4, x, ",")
          before = $1 == 4 ? "" : $1 == 3 ? "id,v,z" : "id,v"
          after = $1 >= 3 ? "id,v,z" : "id,v"
          for (i = 1; i <= n; i++)
              if (($3 "|" x[i]) in want) print $3 "|" x[i] "|" $5 "|" $6 "|" before "|" after }' \
        "$work/want.ids" "$trx" | sort -u
}
# differ WANT GOT: the first lines that differ, as diagnostics
differ() {
    [ "$1" = "$2" ] && return
    t_diag "< expected, > analyze:"
    diff <(echo "$1") <(echo "$2") | grep '^[<>]' | head -n 10 | sed 's/^/#   /'
}
# exact OUT FIRST LAST DESC: analyze's pairs and writes are the expected ones
exact() {
    local want got
    want=$(expected "$2" "$3")
    got=$(pairs "$1")
    t_ok "$4: the workload has conflicts" test -n "$want"
    t_is "$4: as many pairs as the workload made" "$(echo "$got" | grep -c .)" "$(echo "$want" | grep -c .)"
    t_is "$4: exactly the pairs the workload made (kind, id, GTIDs)" "$(echo "$got" | md5sum)" "$(echo "$want" | md5sum)"
    differ "$want" "$got"
    t_is "$4: each pair once" "$(jq '[.conflicts[] | select(.kind != "before-image") | .uid] |
        length == (unique | length)' "$work/$1.json")" true
    t_is "$4: every key is {\"id\": N}" "$(jq '[.conflicts[] | .key | select(keys != ["id"] or
        (.id | type) != "number")] | length' "$work/$1.json")" 0
    t_is "$4: every image has the table's column names, before and after the ALTER" \
        "$(jq -c '[.conflicts[] | (.writes[] | .before, .after), .final[] | select(. != null) |
        keys | join(",")] | unique' "$work/$1.json")" '["id,v","id,v,z"]'
    t_is "$4: no before-image divergence (the rounds explain every before image)" \
        "$(jq '[.conflicts[] | select(.kind == "before-image")] | length' "$work/$1.json")" 0
    want=$(expected_writes "$2" "$3")
    got=$(writes "$1")
    t_is "$4: every write's images: what its transaction wrote, z only after the ALTER" \
        "$(echo "$got" | md5sum)" "$(echo "$want" | md5sum)"
    differ "$want" "$got"
}
quiet() { t_is "$2: nothing on stderr" "$(cat "$work/$1.err")" ""; }

# 1. the CREATE TABLE in the binlogs
t_is "all binlogs: exit 1 (the insert-insert rows diverged)" "$(analyze all 1 3)" 1
quiet all "all binlogs"
exact all 1 4 "all binlogs"
t_is "all binlogs: the insert-insert rows are open and diverged" "$(jq -c '[.conflicts[] |
    select(.kind == "insert-insert") | [.state, .diverged, .final.west.v, .final.east.v]] | unique' \
    "$work/all.json")" "$(for k in $(seq 1 $INSERTS); do echo "[\"open\",true,\"w4-$k\",\"e4-$k\"]"; done | jq -sc 'sort')"
t_is "binlogs 1-2: exit 0 (every conflict settled by a later write)" "$(analyze settled 1 2)" 0
quiet settled "binlogs 1-2"
exact settled 1 3 "binlogs 1-2"
t_is "binlogs 1-2: every conflict resolved" \
    "$(jq -c '[.conflicts[] | .state] | unique' "$work/settled.json")" '["resolved"]'

# 2. binlogs 2-3, the CREATE TABLE not among them, no --schema
t_is "binlogs 2-3 without --schema: exit 1" "$(analyze blind 2 3)" 1
t_is "binlogs 2-3 without --schema: no conflict reported" "$(jq '.conflicts | length' "$work/blind.json")" 0
total=0
for m in west east; do
    # round 2, its settling write (one per hot row), round 3 and its settling
    # write, each master's own inserts (the other's stopped its SQL thread)
    n=$(( $(rows_in 2) + ROWS + $(rows_in 3) + ROWS + INSERTS + 1 ))
    total=$((total + n))
    t_ok "binlogs 2-3 without --schema: $m: $n row changes of app.t not compared, with the hint" \
        grep -q "^ringwatch analyze: $m: $n row changes of app.t not compared: .*; give its shape with --schema FILE .*or write binlogs with binlog_row_metadata=FULL$" "$work/blind.err"
done
t_ok "binlogs 2-3 without --schema: the summary line ($total row changes)" \
    grep -q "^ringwatch analyze: $total row changes were not compared; the report is incomplete$" "$work/blind.err"
t_is "binlogs 2-3 without --schema: three lines on stderr" "$(wc -l <"$work/blind.err")" 3
[ "$(wc -l <"$work/blind.err")" = 3 ] || sed 's/^/#   /' "$work/blind.err"

# 3. binlogs 2-3 with the shapes as of their start
t_is "--schema mariadb-dump --no-data: exit 1 (the insert-insert rows diverged)" \
    "$(analyze dump 2 3 --schema "$work/dump.sql")" 1
quiet dump "--schema dump"
exact dump 2 4 "--schema dump"
t_is "--schema SHOW CREATE TABLE after USE, binlog 2 only: exit 0" \
    "$(analyze show 2 2 --schema "$work/show.sql")" 0
quiet show "--schema SHOW CREATE TABLE"
exact show 2 3 "--schema SHOW CREATE TABLE"
t_is "--schema west=FILE --schema east=FILE: exit 1" \
    "$(analyze each 2 3 --schema "west=$work/show.sql" --schema "east=$work/show.sql")" 1
quiet each "--schema per master"
exact each 2 4 "--schema per master"
t_is "--schema for west only: exit 1" "$(analyze half 2 3 --schema "west=$work/show.sql")" 1
t_is "--schema for west only: app.t named as not compared once" \
    "$(grep -c 'row changes of app.t not compared' "$work/half.err")" 1
t_ok "--schema for west only: for east" \
    grep -q '^ringwatch analyze: east: [0-9]* row changes of app.t not compared' "$work/half.err"
t_done
