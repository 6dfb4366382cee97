#!/usr/bin/env bash
# Shared by the bench/ scripts (sourced, not run).
#   bench_init            BENCH_TOP (source tree), BENCH_BUILD (build tree with
#                         daemon/ringwatchd: $RW_BUILDDIR, else the current
#                         folder when it holds one, else BENCH_TOP), BENCH_WORK
#                         (a fresh temp folder, removed on exit unless
#                         BENCH_KEEP=1)
#   bench_backlog ROWS    start a 2-master ring (tests/harness/ring.sh) and run
#                         bench/workload.sh on master 1, wait until master 2
#                         has applied it; prints the binlog files and sizes
#   bench_run_workload I ROWS
#                         the workload (-w: bench_workload or
#                         bench_workload_big) on master I
#   bench_changes ROWS    the row changes the workload of ROWS rows writes
#                         (each master's binlog holds them all)
#   bench_expect          NAME=@@gtid_binlog_pos of every master, one a line
#                         (what bench/catchup.py waits for)
#   bench_options ROWS [FILE...] -- ARGS...
#                         -r RUNS (runs, default $BENCH_DEFAULT_RUNS or 7), -n ROWS (rows, default
#                         ROWS) and -w WORKLOAD (workload: "chunks", the
#                         default, 1,000 row changes per transaction, or
#                         "big", three statements) from ARGS; the operands
#                         left in BENCH_ARGS;
#                         a usage line naming [FILE...] when given, exit 2 on
#                         a bad option
#   bench_median          median of the numbers on stdin (one a line)
#   bench_machine         the machine facts block

BENCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bench_log() { printf 'bench: %s\n' "$*" >&2; }

bench_init() {
	local b=${RW_BUILDDIR:-}
	if [[ -z "$b" ]]; then
		if [[ -x ./daemon/ringwatchd ]]; then b=$PWD; else b=$BENCH_TOP; fi
	fi
	BENCH_BUILD=$(cd "$b" && pwd) || return 1
	if [[ ! -x "$BENCH_BUILD/daemon/ringwatchd" || ! -x "$BENCH_BUILD/cli/ringwatch" ]]; then
		bench_log "no daemon/ringwatchd in $BENCH_BUILD: build first (make), run from the build folder or set RW_BUILDDIR"
		return 1
	fi
	BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/rw-bench.XXXXXX") || return 1
	# shellcheck source=/dev/null
	. "$BENCH_TOP/tests/harness/ring.sh"
	# shellcheck source=/dev/null
	. "$BENCH_TOP/bench/workload.sh"
	ring_require_server
	if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
		bench_log "work folder $BENCH_WORK is kept"
	else
		ring_on_exit "rm -rf '$BENCH_WORK'"
	fi
}

bench_backlog() {
	local rows=$1 t0 t1 i
	# A larger buffer pool than the harness default keeps the 1M-row table in
	# memory, so the workload takes seconds, not minutes.
	ring_start -n 2 --extra "--innodb-buffer-pool-size=256M" || return 1
	t0=$(date +%s.%N)
	bench_run_workload 1 "$rows" >/dev/null || return 1
	ring_sync 600 || return 1
	t1=$(date +%s.%N)
	bench_log "workload of $rows rows done and replicated in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"
	for ((i = 1; i <= RING_N; i++)); do
		ring_sql "$i" "SHOW BINARY LOGS" | awk -v m="${RING_NAMES[i]}" '{ print m, $1, $2 }'
	done
}

bench_run_workload() {
	if [[ "${workload:-chunks}" == big ]]; then
		bench_workload_big "$1" "$2"
	else
		bench_workload "$1" "$2"
	fi
}

# ROWS inserted, every third updated, every fifth deleted (bench/workload.sh)
bench_changes() { echo $(($1 + $1 / 3 + $1 / 5)); }

bench_expect() {
	local i g
	for ((i = 1; i <= RING_N; i++)); do
		g=$(ring_sql "$i" "SELECT @@gtid_binlog_pos") || return 1
		echo "${RING_NAMES[i]}=$g"
	done
}

# shellcheck disable=SC2034 # runs, rows and BENCH_ARGS are the caller's
bench_options() {
	local usage="usage: $0 [-r RUNS] [-n ROWS] [-w chunks|big]" o OPTIND=1
	rows=$1
	shift
	if [[ "$1" != -- ]]; then
		usage+=" $1"
		shift
	fi
	shift # --
	runs=${BENCH_DEFAULT_RUNS:-7}
	workload=chunks
	while getopts r:n:w: o; do
		case $o in
		r) runs=$OPTARG ;;
		n) rows=$OPTARG ;;
		w)
			case $OPTARG in
			chunks | big) workload=$OPTARG ;;
			*) echo "$usage" >&2; exit 2 ;;
			esac
			;;
		*) echo "$usage" >&2; exit 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	BENCH_ARGS=("$@")
}

bench_median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1;
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

bench_machine() {
	local cflags commit
	cflags=$(sed -n 's/^CFLAGS = //p' "$BENCH_BUILD/Makefile" 2>/dev/null)
	commit=$(git -C "$BENCH_TOP" describe --always --dirty 2>/dev/null || echo unknown)
	echo "machine:"
	echo "  cpus (nproc):   $(nproc)"
	echo "  cpu:            $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "  ram:            $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "  kernel:         $(uname -sr)"
	echo "  load average:   $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews wall times)"
	echo "  mariadb:        $("${RING_MARIADBD:-mariadbd}" --version 2>/dev/null | sed 's/^.*Ver //')"
	echo "  mariadb-binlog: $(mariadb-binlog --version 2>/dev/null | sed 's/^.*Ver //')"
	echo "  ringwatch:      git $commit, CFLAGS ${cflags:-?}"
}
