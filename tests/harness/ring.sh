#!/usr/bin/env bash
# ring.sh - start a real MariaDB master-master ring for ringwatch's tests.
#
# Source it from a bash test (`. tests/harness/ring.sh`), or run it:
#     tests/harness/ring.sh up [-n 2|3] [options]    # stays up until Ctrl-C
#
# Indexing: every function takes a 1-based master index I (1..RING_N), and
# after ring_start the arrays RING_NAMES, RING_PORTS and RING_SOCKS are
# 1-based too (element 0 is unset): ${RING_PORTS[1]} is master 1's port.
# Master I replicates from master I-1 (master 1 from master RING_N) through a
# slave connection named after the source master.
#
# Functions (all log to stderr with a "ring:" prefix; RING_VERBOSE=1 for more):
#   ring_have_server            0 if mariadbd and mariadb-install-db exist
#   ring_require_server         else exit 99 if RW_REQUIRE_SERVERS=1, else 77
#   ring_start [-n N(2..#RING_NAMES, default 2)] [--row-image FULL|MINIMAL|NOBLOB]
#              [--row-metadata NO_LOG|MINIMAL|FULL] [--compress] [--tls] [--extra "opts"]
#                               --tls: a throwaway CA ($RING_TLS_CA) and a server
#                               certificate for 127.0.0.1/localhost on every master
#                               start the ring; sets RING_DIR RING_N RING_NAMES
#                               RING_PORTS RING_SOCKS RING_START_SECONDS and
#                               writes $RING_DIR/ring.env (sourceable)
#   ring_stop                   tear the ring down (idempotent; RING_KEEP=1
#                               keeps $RING_DIR)
#   ring_on_exit "CMD"          run CMD (eval) on exit/signal, before teardown;
#                               commands run last-registered first
#   ring_sql I ["SQL"]          SQL as root on master I (-N -B); stdin if no SQL
#   ring_sql_name NAME ["SQL"]  same, by master name
#   ring_index NAME             print the index of master NAME
#   ring_sync [TIMEOUT=30]      wait until all masters applied everything:
#                               equal @@gtid_current_pos everywhere and no
#                               relay backlog; 1 on timeout, 2 at once if a
#                               SQL thread stopped with an error (diagnostics
#                               on stderr either way)
#   ring_wait_for I "SQL" EXPECTED [TIMEOUT=30]
#                               poll until the SQL's output equals EXPECTED
#   ring_slave_field REPLICA_I SRC_I FIELD
#                               print column FIELD of SHOW ALL SLAVES STATUS on
#                               the replica, row of the connection from SRC_I
#   ring_pause_link SRC_I REPLICA_I / ring_resume_link SRC_I REPLICA_I
#   ring_kill I                 SIGKILL master I, wait until it is gone
#   ring_stop_master I          clean shutdown of master I
#   ring_start_master I         start master I again (same datadir, port and
#                               options), wait for connections, START ALL SLAVES
#   ring_write_config FILE [LISTEN_ADDR] [STATE_DIR]
#                               write a ringwatchd INI; prints the listen address
#
# The harness installs one trap on EXIT INT TERM HUP (at ring_start or
# ring_on_exit) that runs the ring_on_exit commands and then ring_stop; a
# caller's earlier EXIT trap is kept as the first registered command (its
# INT/TERM/HUP traps are replaced). After a signal the shell exits 128+signo.
# A watchdog process also removes the ring if the shell that started it dies
# without running its trap (SIGKILL). One ring per shell at a time.
#
# Another process can drive a running ring: source ring.sh, then ring.env.
#
# Environment: RING_NAMES (array or "a b c"; default west east north),
# RING_KEEP=1 (keep $RING_DIR on teardown), RING_VERBOSE=1,
# RING_CACHE (template path prefix), RING_START_TIMEOUT (s, default 60),
# RW_REQUIRE_SERVERS=1 (CI: no server is an error), RING_MARIADBD,
# RING_INSTALL_DB, RING_CLIENT (binaries; default from PATH).
#
# Per master NAME in $RING_DIR: NAME/ (datadir), NAME.sock, NAME.err (error
# log), NAME.password (ringwatch user's password, mode 600), NAME.pid.
# Accounts (created with sql_log_bin=0): root@localhost over the socket with
# no password (also root@127.0.0.1 over TCP); repl@127.0.0.1; ringwatch@127.0.0.1 and @localhost with
# REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE ADMIN,
# PROCESS, SELECT ON *.*.

# ---------------------------------------------------------------- state ----

if ! declare -p RING_NAMES >/dev/null 2>&1; then
	RING_NAMES=(west east north)
elif [[ "$(declare -p RING_NAMES 2>/dev/null)" != "declare -a"* ]]; then
	# A plain string "a b c" is accepted too.
	# shellcheck disable=SC2128
	read -r -a _ring_tmp_names <<<"${RING_NAMES}"
	unset RING_NAMES
	RING_NAMES=("${_ring_tmp_names[@]}")
	unset _ring_tmp_names
fi
: "${RING_DIR:=}"
: "${RING_N:=0}"
: "${RING_START_SECONDS:=}"
: "${RING_TLS_CA:=}"
declare -p RING_PORTS >/dev/null 2>&1 || RING_PORTS=()
declare -p RING_SOCKS >/dev/null 2>&1 || RING_SOCKS=()
declare -p RING_SERVER_OPTS >/dev/null 2>&1 || RING_SERVER_OPTS=()
declare -p _RING_EXIT_CMDS >/dev/null 2>&1 || _RING_EXIT_CMDS=()
: "${_RING_TRAPS_SET:=}"
: "${_RING_CLEANING:=}"

_RING_MARIADBD=${RING_MARIADBD:-$(command -v mariadbd 2>/dev/null ||
	{ [[ -x /usr/sbin/mariadbd ]] && echo /usr/sbin/mariadbd; } ||
	{ [[ -x /usr/libexec/mariadbd ]] && echo /usr/libexec/mariadbd; })}
_RING_INSTALL_DB=${RING_INSTALL_DB:-$(command -v mariadb-install-db 2>/dev/null)}
_RING_CLIENT=${RING_CLIENT:-$(command -v mariadb 2>/dev/null)}

# Options shared by the template and every server: the template must be
# created with the same InnoDB layout the servers then open.
_RING_INNODB_OPTS=(
	--innodb-buffer-pool-size=32M
	--innodb-log-file-size=16M
	--innodb-use-native-aio=0
	--innodb-temp-data-file-path=ibtmp1:1M:autoextend
)

# ---------------------------------------------------------- utilities ----

_ring_log() { printf 'ring: %s\n' "$*" >&2; }
_ring_debug() { [[ "${RING_VERBOSE:-0}" == 1 ]] && printf 'ring: %s\n' "$*" >&2; return 0; }

# With RING_VERBOSE=1, log a ring_start phase and the ms since its start.
_ring_phase() {
	[[ "${RING_VERBOSE:-0}" == 1 ]] || return 0
	_ring_now
	_ring_debug "$(printf '%6d ms  %s' $((_RING_NOW - _RING_T0)) "$1")"
}

# Sets _RING_NOW to the wall clock in milliseconds (no fork).
_ring_now() {
	local t=${EPOCHREALTIME//[!0-9]/}
	_RING_NOW=$((10#$t / 1000))
}

_ring_random_hex() {
	od -An -N"${1:-12}" -tx1 /dev/urandom | tr -d ' \n'
}

ring_have_server() {
	[[ -n "$_RING_MARIADBD" && -x "$_RING_MARIADBD" &&
		-n "$_RING_INSTALL_DB" && -x "$_RING_INSTALL_DB" &&
		-n "$_RING_CLIENT" && -x "$_RING_CLIENT" ]]
}

ring_require_server() {
	ring_have_server && return 0
	if [[ "${RW_REQUIRE_SERVERS:-0}" == 1 ]]; then
		_ring_log "mariadbd/mariadb-install-db/mariadb not found and RW_REQUIRE_SERVERS=1"
		exit 99
	fi
	_ring_log "skip: mariadbd/mariadb-install-db/mariadb not found"
	exit 77
}

# _ring_idx I: validate a 1-based master index.
_ring_idx() {
	if [[ -z "$RING_DIR" || "$RING_N" -lt 1 ]]; then
		_ring_log "no ring is running (call ring_start or source ring.env)"
		return 2
	fi
	if [[ ! "${1:-}" =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > RING_N)); then
		_ring_log "bad master index '${1:-}' (1..$RING_N)"
		return 2
	fi
}

ring_index() {
	local i
	for ((i = 1; i <= RING_N; i++)); do
		[[ "${RING_NAMES[i]}" == "$1" ]] && { echo "$i"; return 0; }
	done
	_ring_log "no master named '$1'"
	return 2
}

# Source of master I in the ring (I-1, wrapping).
_ring_src() { echo $(( $1 == 1 ? RING_N : $1 - 1 )); }

_ring_client() {
	local i=$1
	shift
	"$_RING_CLIENT" --no-defaults --protocol=socket -S "${RING_SOCKS[i]}" -uroot "$@"
}

ring_sql() {
	_ring_idx "${1:-}" || return 2
	local i=$1
	shift
	if (($#)); then
		_ring_client "$i" -N -B -e "$1"
	else
		_ring_client "$i" -N -B
	fi
}

ring_sql_name() {
	local i
	i=$(ring_index "${1:-}") || return 2
	shift
	ring_sql "$i" "$@"
}

# ---------------------------------------------------------- processes ----

_ring_pid() { cat "$RING_DIR/${RING_NAMES[$1]}.spawn" 2>/dev/null || true; }

# _ring_alive PID DATADIR: the process exists, is not a zombie and is the
# mariadbd of DATADIR (guards against pid reuse). An exiting process has an
# empty cmdline before it becomes a zombie: it still counts as alive (it may
# still hold its port and files); so does a child of this shell.
_ring_alive() {
	local pid=$1 dd=$2 stat a
	[[ -n "$pid" && -r /proc/$pid/stat ]] || return 1
	read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
	stat=${stat##*) }
	[[ "${stat:0:1}" != Z && "${stat:0:1}" != X ]] || return 1
	# Our own child that has not exec'd mariadbd yet.
	local -a f
	read -r -a f <<<"$stat"
	[[ "${f[1]}" == "$BASHPID" ]] && return 0
	local -a args=()
	mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || return 1
	((${#args[@]} == 0)) && return 0
	for a in "${args[@]}"; do
		[[ "$a" == "--datadir=$dd" ]] && return 0
	done
	return 1
}

# _ring_pid_running PID: exists and is not a zombie (identity not checked:
# for a pid we just forked, which may not have exec'd mariadbd yet).
_ring_pid_running() {
	local stat
	[[ -n "$1" ]] && read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[[ "${stat:0:1}" != Z && "${stat:0:1}" != X ]]
}

# _ring_sweep DIR: pids of every process with --datadir=DIR/... on its
# command line (catches a server whose pid we never recorded).
_ring_sweep() {
	local f
	for f in $(grep -lsF -e "--datadir=$1/" /proc/[0-9]*/cmdline 2>/dev/null); do
		f=${f#/proc/}
		echo "${f%/cmdline}"
	done
}

_ring_master_alive() { _ring_alive "$(_ring_pid "$1")" "$RING_DIR/${RING_NAMES[$1]}"; }

# _ring_wait_gone I TIMEOUT_MS: 0 once master I's process is gone.
_ring_wait_gone() {
	local deadline
	_ring_now
	deadline=$((_RING_NOW + $2))
	while _ring_master_alive "$1"; do
		_ring_now
		((_RING_NOW < deadline)) || return 1
		sleep 0.05
	done
}

# Fills _RING_ARGS with the mariadbd command line of master I.
_ring_server_args() {
	local i=$1 n=${RING_NAMES[$1]}
	_RING_ARGS=(
		"$_RING_MARIADBD" --no-defaults
		"--datadir=$RING_DIR/$n"
		"--socket=${RING_SOCKS[i]}"
		"--pid-file=$RING_DIR/$n.pid"
		"--log-error=$RING_DIR/$n.err"
		"--port=${RING_PORTS[i]}"
		--bind-address=127.0.0.1
		"--report-host=127.0.0.1" "--report-port=${RING_PORTS[i]}"
		--skip-name-resolve
		"${_RING_INNODB_OPTS[@]}"
		--innodb-flush-log-at-trx-commit=2
		--innodb-doublewrite=0
		--sync-binlog=0
		--max-connections=100
		"--server-id=$i" "--gtid-domain-id=$i"
		"--auto-increment-increment=$RING_N" "--auto-increment-offset=$i"
		--log-bin=binlog --relay-log=relay-bin
		--log-slave-updates=ON --binlog-format=ROW
		--slave-exec-mode=STRICT
		"${RING_SERVER_OPTS[@]}"
	)
	((EUID == 0)) && _RING_ARGS+=(--user=root)
	return 0
}

# Starts master I's mariadbd in the background, without waiting.
_ring_spawn() {
	local i=$1 n=${RING_NAMES[$1]} pid
	_ring_server_args "$i"
	_RING_ERR_OFF[i]=$(stat -c %s "$RING_DIR/$n.err" 2>/dev/null || echo 0)
	_ring_debug "start $n: ${_RING_ARGS[*]}"
	"${_RING_ARGS[@]}" </dev/null >>"$RING_DIR/$n.err" 2>&1 &
	pid=$!
	disown "$pid" 2>/dev/null || true
	echo "$pid" >"$RING_DIR/$n.spawn"
}

# _ring_wait_ready I TIMEOUT_MS: 0 ready, 2 the port was taken, 1 other error.
_ring_wait_ready() {
	local i=$1 n=${RING_NAMES[$1]} deadline
	_ring_now
	deadline=$((_RING_NOW + $2))
	local pid
	pid=$(_ring_pid "$i")
	while :; do
		if ! _ring_pid_running "$pid"; then
			if tail -c +"$((${_RING_ERR_OFF[i]:-0} + 1))" "$RING_DIR/$n.err" 2>/dev/null |
				grep -q -e 'Bind on TCP/IP port' -e 'Address already in use'; then
				return 2
			fi
			return 1
		fi
		if [[ -S "${RING_SOCKS[i]}" ]] &&
			_ring_client "$i" -N -B -e 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		_ring_now
		((_RING_NOW < deadline)) || return 1
		sleep 0.05
	done
}

_ring_show_errlog() {
	local n=${RING_NAMES[$1]}
	_ring_log "---- $RING_DIR/$n.err (last lines) ----"
	tail -n 25 "$RING_DIR/$n.err" 2>/dev/null | sed 's/^/ring:   /' >&2
}

# Ports in use on this machine (any state), from /proc/net/tcp{,6}; awk,
# because bash reads /proc files one byte per read(2).
_ring_used_ports() {
	awk 'function hex(s,  n, k) { n = 0; s = toupper(s)
			for (k = 1; k <= length(s); k++) n = n * 16 + index("0123456789ABCDEF", substr(s, k, 1)) - 1
			return n }
		FNR > 1 { split($2, a, ":"); print hex(a[2]) }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# _ring_free_port [EXCLUDED...]: a currently free port in 10000..32767 (below
# Linux's ephemeral range, so outgoing connections do not take it).
_ring_free_port() {
	local used p tries
	used=" $(_ring_used_ports | tr '\n' ' ') $* "
	for ((tries = 0; tries < 200; tries++)); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % 22768))
		[[ "$used" == *" $p "* ]] || { echo "$p"; return 0; }
	done
	_ring_log "no free port found"
	return 1
}

# ----------------------------------------------------------- template ----

# Prints the path of a datadir template made by mariadb-install-db once per
# server version and shared by all runs (flock against parallel runs).
_ring_template() {
	local ver tpl extra
	ver=$("$_RING_MARIADBD" --version 2>/dev/null | awk '{ print $3 }')
	ver=${ver//[!A-Za-z0-9._+-]/_}
	tpl="${RING_CACHE:-${TMPDIR:-/tmp}/ringwatch-mariadb-template}-${ver:-unknown}"
	if [[ -f "$tpl/.ringwatch-template" ]]; then
		echo "$tpl"
		return 0
	fi
	mkdir -p "$(dirname "$tpl")" || return 1
	(
		flock -w 300 9 || { _ring_log "timeout waiting for $tpl.lock"; exit 1; }
		[[ -f "$tpl/.ringwatch-template" ]] && exit 0
		_ring_log "creating datadir template $tpl (once per server version)"
		rm -rf "$tpl.tmp" "$tpl"
		mkdir -p "$tpl.tmp" || exit 1
		extra="$tpl.tmp.sql"
		# Keep only the root accounts that work with skip-name-resolve.
		cat >"$extra" <<-'EOF'
			DELETE FROM mysql.global_priv WHERE Host NOT IN ('localhost','127.0.0.1','::1');
			DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost','127.0.0.1','::1');
		EOF
		local -a user=()
		((EUID == 0)) && user=(--user=root)
		if ! "$_RING_INSTALL_DB" --no-defaults --datadir="$tpl.tmp" \
			--auth-root-authentication-method=normal --skip-test-db \
			--skip-name-resolve "${user[@]}" --extra-file="$extra" \
			"${_RING_INNODB_OPTS[@]}" >"$tpl.tmp.log" 2>&1; then
			_ring_log "mariadb-install-db failed:"
			sed 's/^/ring:   /' "$tpl.tmp.log" >&2
			rm -rf "$tpl.tmp" "$extra"
			exit 1
		fi
		rm -f "$extra" "$tpl.tmp.log"
		touch "$tpl.tmp/.ringwatch-template" && mv "$tpl.tmp" "$tpl"
	) 9>"$tpl.lock" || return 1
	echo "$tpl"
}

# ------------------------------------------------------ traps/cleanup ----

ring_on_exit() {
	_ring_install_traps
	_RING_EXIT_CMDS+=("$1")
}

_ring_install_traps() {
	[[ "$_RING_TRAPS_SET" == "$BASHPID" ]] && return 0
	# Keep a caller's EXIT trap: it runs first-registered, i.e. last.
	local old
	old=$(trap -p EXIT)
	if [[ -n "$old" && "$old" != *_ring_on_exit_trap* ]]; then
		old=${old#trap -- }
		old=${old% EXIT}
		eval "old=$old"
		_RING_EXIT_CMDS=("$old" "${_RING_EXIT_CMDS[@]}")
	fi
	trap '_ring_on_exit_trap' EXIT
	trap '_ring_on_signal_trap INT 2' INT
	trap '_ring_on_signal_trap TERM 15' TERM
	trap '_ring_on_signal_trap HUP 1' HUP
	_RING_TRAPS_SET=$BASHPID
}

_ring_cleanup() {
	[[ -n "$_RING_CLEANING" ]] && return 0
	_RING_CLEANING=1
	local k
	for ((k = ${#_RING_EXIT_CMDS[@]} - 1; k >= 0; k--)); do
		eval "${_RING_EXIT_CMDS[k]}" || true
	done
	_RING_EXIT_CMDS=()
	ring_stop || true
	_RING_CLEANING=
}

_ring_on_exit_trap() {
	local rc=$?
	set +e
	trap '' INT TERM HUP
	_ring_cleanup
	exit "$rc"
}

_ring_on_signal_trap() {
	set +e
	trap '' INT TERM HUP
	_ring_cleanup
	trap - EXIT INT TERM HUP
	kill -s "$1" "$BASHPID" 2>/dev/null
	exit $((128 + $2))
}

# Kills the ring if the shell that started it dies without its trap.
_ring_start_watchdog() {
	local owner=$BASHPID dir=$RING_DIR keep=${RING_KEEP:-0}
	mkfifo "$dir/.watchdog.fifo" || return 1
	(
		trap - EXIT TERM HUP
		trap '' INT
		exec 3<>"$dir/.watchdog.fifo"
		while [[ -d "$dir" ]] && kill -0 "$owner" 2>/dev/null &&
			[[ "$(cut -d' ' -f3 "/proc/$owner/stat" 2>/dev/null)" != Z ]]; do
			read -r -t 1 -u 3 _ || true
		done
		[[ -d "$dir" ]] || exit 0
		for f in "$dir"/*.spawn; do
			[[ -f "$f" ]] && kill -KILL "$(cat "$f")" 2>/dev/null
		done
		for f in $(_ring_sweep "$dir"); do kill -KILL "$f" 2>/dev/null; done
		sleep 0.5
		[[ "$keep" == 1 ]] || rm -rf "$dir"
	) </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/.watchdog.pid"
	disown $! 2>/dev/null || true
}

# ------------------------------------------------------------- start ----

_ring_write_env() {
	local i f="$RING_DIR/ring.env" q
	{
		echo "# ring.env - written by tests/harness/ring.sh; source it from bash."
		printf 'RING_DIR=%q\nRING_N=%q\n' "$RING_DIR" "$RING_N"
		for a in RING_NAMES RING_PORTS RING_SOCKS; do
			local -n arr=$a
			printf '%s=(' "$a"
			for ((i = 1; i <= RING_N; i++)); do printf ' [%d]=%q' "$i" "${arr[i]}"; done
			echo ' )'
			unset -n arr
		done
		printf 'RING_TLS_CA=%q\n' "${RING_TLS_CA:-}"
		printf 'RING_SERVER_OPTS=('
		for q in "${RING_SERVER_OPTS[@]}"; do printf ' %q' "$q"; done
		echo ' )'
		for ((i = 1; i <= RING_N; i++)); do
			printf 'RING_NAME_%d=%q\nRING_PORT_%d=%q\nRING_SOCK_%d=%q\nRING_PASSWORD_FILE_%d=%q\n' \
				"$i" "${RING_NAMES[i]}" "$i" "${RING_PORTS[i]}" "$i" "${RING_SOCKS[i]}" \
				"$i" "$RING_DIR/${RING_NAMES[i]}.password"
		done
	} >"$f.tmp" && mv "$f.tmp" "$f"
}

# A CA and a server certificate (127.0.0.1, ::1, localhost) in $RING_DIR/tls.
_ring_make_tls() {
	local d=$RING_DIR/tls
	command -v openssl >/dev/null || { _ring_log "--tls needs openssl"; return 1; }
	mkdir -p "$d" || return 1
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/ca-key.pem" -out "$d/ca.pem" -days 2 -subj "/CN=ringwatch test CA" &&
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-keyout "$d/server-key.pem" -out "$d/server.csr" -subj "/CN=127.0.0.1" &&
			printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n' >"$d/san.ext" &&
			openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
				-CAcreateserial -out "$d/server-cert.pem" -days 2 -extfile "$d/san.ext"
	} >/dev/null 2>&1 || { _ring_log "making the test certificates failed"; return 1; }
	RING_TLS_CA=$d/ca.pem
}

_ring_parse_start_args() {
	_RING_OPT_N=2 _RING_OPT_IMAGE=FULL _RING_OPT_META=MINIMAL _RING_OPT_COMPRESS=OFF
	_RING_OPT_EXTRA=() _RING_OPT_TLS=
	while (($#)); do
		case $1 in
		-n) _RING_OPT_N=${2:-}; shift ;;
		-n*) _RING_OPT_N=${1#-n} ;;
		--row-image) _RING_OPT_IMAGE=${2:-}; shift ;;
		--row-image=*) _RING_OPT_IMAGE=${1#*=} ;;
		--row-metadata) _RING_OPT_META=${2:-}; shift ;;
		--row-metadata=*) _RING_OPT_META=${1#*=} ;;
		--compress) _RING_OPT_COMPRESS=ON ;;
		--tls) _RING_OPT_TLS=1 ;;
		--extra) read -r -a _RING_OPT_EXTRA <<<"${2:-}"; shift ;;
		--extra=*) read -r -a _RING_OPT_EXTRA <<<"${1#*=}" ;;
		*) _ring_log "ring_start: unknown option '$1'"; return 2 ;;
		esac
		shift
	done
	case $_RING_OPT_IMAGE in FULL | MINIMAL | NOBLOB) ;; *)
		_ring_log "ring_start: bad --row-image '$_RING_OPT_IMAGE'"; return 2 ;;
	esac
	case $_RING_OPT_META in MINIMAL | FULL | NO_LOG) ;; *)
		_ring_log "ring_start: bad --row-metadata '$_RING_OPT_META'"; return 2 ;;
	esac
	local -a names=("${RING_NAMES[@]}")
	if [[ ! "$_RING_OPT_N" =~ ^[0-9]+$ ]] || ((_RING_OPT_N < 2 || _RING_OPT_N > ${#names[@]})); then
		_ring_log "ring_start: -n must be 2..${#names[@]} (number of RING_NAMES)"
		return 2
	fi
}

# Starts every master, retrying on a new port when one was taken meanwhile.
_ring_start_servers() {
	local i rc tries=0 pending
	for ((i = 1; i <= RING_N; i++)); do _ring_spawn "$i"; done
	pending=$(seq 1 "$RING_N")
	while [[ -n "$pending" ]]; do
		local again=
		for i in $pending; do
			_ring_wait_ready "$i" "${RING_START_TIMEOUT:-60}000" && continue
			rc=$?
			if ((rc == 2 && tries < 10)); then
				tries=$((tries + 1))
				RING_PORTS[i]=$(_ring_free_port "${RING_PORTS[@]}") || return 1
				_ring_debug "${RING_NAMES[i]}: port taken, retrying on ${RING_PORTS[i]}"
				_ring_spawn "$i"
				again+=" $i"
				continue
			fi
			_ring_log "master ${RING_NAMES[i]} failed to start"
			_ring_show_errlog "$i"
			return 1
		done
		pending=$again
	done
}

# Users (never binlogged) and the slave connection of master I.
_ring_setup_sql() {
	local i=$1 s pw
	s=$(_ring_src "$i")
	pw=$(_ring_random_hex 12)
	(umask 077 && printf '%s\n' "$pw" >"$RING_DIR/${RING_NAMES[i]}.password")
	cat <<-EOF
		SET SESSION sql_log_bin=0;
		CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '$_RING_REPL_PW';
		GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
		CREATE USER 'ringwatch'@'127.0.0.1' IDENTIFIED BY '$pw';
		CREATE USER 'ringwatch'@'localhost' IDENTIFIED BY '$pw';
		GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE ADMIN,
		  PROCESS, SELECT ON *.* TO 'ringwatch'@'127.0.0.1', 'ringwatch'@'localhost';
		CHANGE MASTER '${RING_NAMES[s]}' TO MASTER_HOST='127.0.0.1',
		  MASTER_PORT=${RING_PORTS[s]}, MASTER_USER='repl',
		  MASTER_PASSWORD='$_RING_REPL_PW', MASTER_USE_GTID=slave_pos,
		  MASTER_CONNECT_RETRY=1;
	EOF
}

ring_start() {
	local t0 i
	_ring_now
	t0=$_RING_NOW
	_RING_T0=$t0
	if [[ -n "$RING_DIR" && -d "$RING_DIR" ]]; then
		_ring_log "ring_start: a ring is already running in $RING_DIR"
		return 2
	fi
	_ring_parse_start_args "$@" || return 2
	ring_have_server || { _ring_log "ring_start: MariaDB server binaries not found"; return 2; }
	local tpl
	tpl=$(_ring_template) || return 1
	_ring_phase "template ready"

	local -a names=("${RING_NAMES[@]}")
	for i in "${names[@]}"; do
		[[ "$i" =~ ^[A-Za-z][A-Za-z0-9_]*$ ]] || { _ring_log "bad master name '$i'"; return 2; }
	done
	RING_N=$_RING_OPT_N
	RING_NAMES=() RING_PORTS=() RING_SOCKS=() _RING_ERR_OFF=()
	for ((i = 1; i <= ${#names[@]}; i++)); do RING_NAMES[i]=${names[i - 1]}; done
	RING_SERVER_OPTS=("--binlog-row-image=$_RING_OPT_IMAGE"
		"--binlog-row-metadata=$_RING_OPT_META"
		"--log-bin-compress=$_RING_OPT_COMPRESS" "${_RING_OPT_EXTRA[@]}")

	_ring_install_traps
	RING_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ringwatch-ring.XXXXXX") || return 1
	if ((${#RING_DIR} > 80)); then # unix socket paths are limited to 107 bytes
		rmdir "$RING_DIR"
		RING_DIR=$(mktemp -d /tmp/ringwatch-ring.XXXXXX) || return 1
	fi
	RING_TLS_CA=
	if [[ -n "$_RING_OPT_TLS" ]]; then
		_ring_make_tls || return 1
		RING_SERVER_OPTS+=("--ssl-ca=$RING_TLS_CA" "--ssl-cert=$RING_DIR/tls/server-cert.pem"
			"--ssl-key=$RING_DIR/tls/server-key.pem")
	fi
	_ring_debug "ring dir $RING_DIR"
	_ring_start_watchdog || { ring_stop; return 1; }
	_RING_REPL_PW=$(_ring_random_hex 12)

	local -a cps=()
	for ((i = 1; i <= RING_N; i++)); do
		RING_SOCKS[i]="$RING_DIR/${RING_NAMES[i]}.sock"
		RING_PORTS[i]=$(_ring_free_port "${RING_PORTS[@]}") || { ring_stop; return 1; }
		# Mostly zeros (redo log, ibdata1): sparse copies, in parallel.
		cp -a --sparse=always "$tpl" "$RING_DIR/${RING_NAMES[i]}" &
		cps+=($!)
	done
	for i in "${cps[@]}"; do
		wait "$i" || { _ring_log "copying $tpl failed"; ring_stop; return 1; }
	done
	rm -f "$RING_DIR"/*/.ringwatch-template
	_ring_write_env
	_ring_phase "datadirs copied"
	_ring_start_servers || { ring_stop; return 1; }
	_ring_phase "servers accept connections"
	for ((i = 1; i <= RING_N; i++)); do
		_ring_setup_sql "$i" | _ring_client "$i" -N -B || {
			_ring_log "setup of ${RING_NAMES[i]} failed"; ring_stop; return 1; }
	done
	_ring_write_env
	for ((i = 1; i <= RING_N; i++)); do
		ring_sql "$i" "START ALL SLAVES" || { ring_stop; return 1; }
	done
	_ring_phase "users and slave connections set up"
	_ring_wait_links_running "${RING_START_TIMEOUT:-60}000" || { ring_stop; return 1; }
	_ring_phase "slave threads running"
	_ring_now
	RING_START_SECONDS=$(printf '%d.%03d' $(((_RING_NOW - t0) / 1000)) $(((_RING_NOW - t0) % 1000)))
	_ring_debug "ring of $RING_N up in ${RING_START_SECONDS}s: $RING_DIR/ring.env"
}

# ------------------------------------------------------------- status ----

# _ring_status I: one line per slave connection of master I, fields split by
# '|' (empty shown as '-'), and first a line "G|<normalised gtid_current_pos>":
#   C|name|io|sql|master_log_file|read_pos|relay_master_log_file|exec_pos|
#     io_errno|sql_errno|io_error|sql_error
_ring_status() {
	_ring_client "$1" -B -e 'SELECT @@gtid_current_pos AS g; SHOW ALL SLAVES STATUS' 2>/dev/null |
		awk -F'\t' '
		function v(name,  x) { x = $(h[name]); gsub(/\|/, "/", x); return x == "" ? "-" : x }
		NR == 2 { n = split($0, g, ","); s = ""
			for (a = 1; a <= n; a++) for (b = a + 1; b <= n; b++) if (g[b] < g[a]) { t = g[a]; g[a] = g[b]; g[b] = t }
			for (a = 1; a <= n; a++) s = s (a > 1 ? "," : "") g[a]
			print "G|" s; next }
		$1 == "Connection_name" { for (k = 1; k <= NF; k++) h[$k] = k; hdr = 1; next }
		hdr { print "C|" v("Connection_name") "|" v("Slave_IO_Running") "|" v("Slave_SQL_Running") "|" \
			v("Master_Log_File") "|" v("Read_Master_Log_Pos") "|" v("Relay_Master_Log_File") "|" \
			v("Exec_Master_Log_Pos") "|" v("Last_IO_Errno") "|" v("Last_SQL_Errno") "|" \
			v("Last_IO_Error") "|" v("Last_SQL_Error") }'
	return "${PIPESTATUS[0]}"
}

_ring_wait_links_running() {
	local deadline i ok
	_ring_now
	deadline=$((_RING_NOW + $1))
	while :; do
		ok=1
		for ((i = 1; i <= RING_N; i++)); do
			local conns=0
			while IFS='|' read -r kind name io sql _; do
				[[ $kind == C ]] || continue
				conns=$((conns + 1))
				[[ $io == Yes && $sql == Yes ]] || ok=
			done < <(_ring_status "$i")
			((conns > 0)) || ok=
		done
		[[ -n $ok ]] && return 0
		_ring_now
		if ((_RING_NOW >= deadline)); then
			_ring_log "replication did not start"
			_ring_diagnose
			return 1
		fi
		sleep 0.05
	done
}

_ring_diagnose() {
	local i kind name io sql mlf rpos rmlf epos ioe sqle ioerr sqlerr
	for ((i = 1; i <= RING_N; i++)); do
		if ! _ring_master_alive "$i"; then
			_ring_log "${RING_NAMES[i]}: mariadbd is not running"
			continue
		fi
		while IFS='|' read -r kind name io sql mlf rpos rmlf epos ioe sqle ioerr sqlerr; do
			if [[ $kind == G ]]; then
				_ring_log "${RING_NAMES[i]}: gtid_current_pos=$name"
			else
				_ring_log "${RING_NAMES[i]} <- '$name': io=$io sql=$sql read=$mlf:$rpos exec=$rmlf:$epos"
				[[ $ioe == 0 ]] || _ring_log "    Last_IO_Errno=$ioe $ioerr"
				[[ $sqle == 0 ]] || _ring_log "    Last_SQL_Errno=$sqle $sqlerr"
			fi
		done < <(_ring_status "$i")
	done
}

# ring_sync [TIMEOUT=30]: 0 when every master has the same gtid_current_pos
# and every slave connection with a running SQL thread has applied all it
# read; 1 on timeout; 2 at once if a SQL thread stopped with an error (it can
# never converge by itself). Diagnostics go to stderr.
ring_sync() {
	local timeout=${1:-30} deadline i ref ok kind name io sql mlf rpos rmlf epos ioe sqle rest
	_ring_idx 1 || return 2
	_ring_now
	deadline=$((_RING_NOW + timeout * 1000))
	while :; do
		ok=1 ref=
		for ((i = 1; i <= RING_N && ok; i++)); do
			local got=
			while IFS='|' read -r kind name io sql mlf rpos rmlf epos ioe sqle rest; do
				if [[ $kind == G ]]; then
					got=1
					[[ $i == 1 ]] && ref=$name
					[[ $name == "$ref" ]] || ok=
				elif [[ $sql == Yes ]]; then
					[[ $mlf == "$rmlf" && $rpos == "$epos" ]] || ok=
				elif [[ $sqle != 0 ]]; then
					_ring_log "ring_sync: ${RING_NAMES[i]} <- '$name' stopped with SQL error $sqle"
					_ring_diagnose
					return 2
				fi
			done < <(_ring_status "$i")
			[[ -n $got ]] || ok=
		done
		[[ -n $ok ]] && return 0
		_ring_now
		if ((_RING_NOW >= deadline)); then
			_ring_log "ring_sync: not in sync after ${timeout}s"
			_ring_diagnose
			return 1
		fi
		sleep 0.05
	done
}

ring_wait_for() {
	_ring_idx "${1:-}" || return 2
	local i=$1 sql=$2 want=$3 timeout=${4:-30} deadline got
	_ring_now
	deadline=$((_RING_NOW + timeout * 1000))
	while :; do
		got=$(ring_sql "$i" "$sql" 2>/dev/null) && [[ "$got" == "$want" ]] && return 0
		_ring_now
		if ((_RING_NOW >= deadline)); then
			_ring_log "ring_wait_for: ${RING_NAMES[i]}: '$sql' gave '$got', want '$want'"
			return 1
		fi
		sleep 0.05
	done
}

# ring_slave_field REPLICA_I SRC_I FIELD: print FIELD (a column of SHOW ALL
# SLAVES STATUS, e.g. Slave_IO_Running) of the connection from SRC_I on
# REPLICA_I; non-zero if there is no such connection or column.
ring_slave_field() {
	_ring_idx "${1:-}" && _ring_idx "${2:-}" || return 2
	local out
	out=$(_ring_client "$1" -B -e "SHOW ALL SLAVES STATUS") || return 1
	awk -F'\t' -v f="${3:-}" -v conn="${RING_NAMES[$2]}" '
		NR == 1 { for (k = 1; k <= NF; k++) { if ($k == f) c = k; if ($k == "Connection_name") n = k }; next }
		c && n && $n == conn { print $c; found = 1 } END { exit !found }' <<<"$out"
}

# ------------------------------------------------------------- links ----

_ring_check_link() {
	_ring_idx "${1:-}" && _ring_idx "${2:-}" || return 2
	if [[ "$(_ring_src "$2")" != "$1" ]]; then
		_ring_log "no link ${RING_NAMES[$1]} -> ${RING_NAMES[$2]} in this ring"
		return 2
	fi
}

ring_pause_link() {
	_ring_check_link "$@" || return 2
	ring_sql "$2" "STOP SLAVE '${RING_NAMES[$1]}'"
}

ring_resume_link() {
	_ring_check_link "$@" || return 2
	ring_sql "$2" "START SLAVE '${RING_NAMES[$1]}'"
}

# ----------------------------------------------------- single masters ----

ring_kill() {
	_ring_idx "${1:-}" || return 2
	local pid
	pid=$(_ring_pid "$1")
	_ring_master_alive "$1" && kill -KILL "$pid" 2>/dev/null
	_ring_wait_gone "$1" 10000 || { _ring_log "ring_kill: ${RING_NAMES[$1]} still alive"; return 1; }
}

ring_stop_master() {
	_ring_idx "${1:-}" || return 2
	local pid
	pid=$(_ring_pid "$1")
	_ring_master_alive "$1" || return 0
	kill -TERM "$pid" 2>/dev/null
	_ring_wait_gone "$1" 60000 && return 0
	_ring_log "ring_stop_master: ${RING_NAMES[$1]} did not stop in 60s, killing it"
	ring_kill "$1"
}

# Same datadir, port and options; the slave connection restarts by itself
# (it is stored in the datadir), and START ALL SLAVES is run anyway, so a link
# paused with ring_pause_link into this master runs again after a restart.
ring_start_master() {
	_ring_idx "${1:-}" || return 2
	local i=$1 tries rc
	if _ring_master_alive "$i"; then
		_ring_log "ring_start_master: ${RING_NAMES[i]} is already running"
		return 0
	fi
	declare -p _RING_ERR_OFF >/dev/null 2>&1 || _RING_ERR_OFF=()
	for ((tries = 0; tries < 20; tries++)); do
		_ring_spawn "$i"
		_ring_wait_ready "$i" "${RING_START_TIMEOUT:-60}000" && break
		rc=$?
		if ((rc != 2)); then
			_ring_log "ring_start_master: ${RING_NAMES[i]} failed to start"
			_ring_show_errlog "$i"
			return 1
		fi
		sleep 0.25 # our port must come back: nothing else may take it for long
	done
	if ((tries == 20)); then
		_ring_log "ring_start_master: port ${RING_PORTS[i]} stays taken"
		return 1
	fi
	ring_sql "$i" "START ALL SLAVES" >/dev/null
}

# ------------------------------------------------------------ teardown ----

ring_stop() {
	local i pid dir=$RING_DIR deadline
	if [[ -z "$dir" || ! -d "$dir" ]]; then
		RING_DIR='' RING_N=0
		return 0
	fi
	for ((i = 1; i <= RING_N; i++)); do
		pid=$(_ring_pid "$i")
		_ring_master_alive "$i" && kill -TERM "$pid" 2>/dev/null
	done
	_ring_now
	deadline=$((_RING_NOW + 5000))
	for ((i = 1; i <= RING_N; i++)); do
		local left=$((deadline - _RING_NOW))
		((left > 0)) || left=1
		if ! _ring_wait_gone "$i" "$left"; then
			_ring_debug "${RING_NAMES[i]} ignored SIGTERM, killing it"
			kill -KILL "$(_ring_pid "$i")" 2>/dev/null
			_ring_wait_gone "$i" 10000 || _ring_log "ring_stop: ${RING_NAMES[i]} will not die"
		fi
		_ring_now
	done
	for pid in $(_ring_sweep "$dir"); do
		_ring_debug "killing unrecorded process $pid of $dir"
		kill -KILL "$pid" 2>/dev/null
	done
	pid=$(cat "$dir/.watchdog.pid" 2>/dev/null || true)
	[[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null
	if [[ "${RING_KEEP:-0}" == 1 ]]; then
		_ring_log "RING_KEEP=1: keeping $dir"
	else
		rm -rf "$dir"
	fi
	RING_DIR='' RING_N=0
	return 0
}

# ------------------------------------------------------------- config ----

ring_write_config() {
	local file=${1:-} listen=${2:-} state=${3:-} i
	_ring_idx 1 || return 2
	[[ -n "$file" ]] || { _ring_log "ring_write_config FILE [LISTEN_ADDR] [STATE_DIR]"; return 2; }
	[[ -n "$listen" ]] || listen="127.0.0.1:$(_ring_free_port "${RING_PORTS[@]}")" || return 1
	[[ -n "$state" ]] || state="$RING_DIR/state"
	mkdir -p "$state" || return 1
	{
		echo "; written by tests/harness/ring.sh for the ring in $RING_DIR"
		echo "[ringwatchd]"
		echo "listen = $listen"
		echo "state_dir = $state"
		echo "server_id = 4242001"
		for ((i = 1; i <= RING_N; i++)); do
			echo
			echo "[master.${RING_NAMES[i]}]"
			echo "host = 127.0.0.1"
			echo "port = ${RING_PORTS[i]}"
			echo "user = ringwatch"
			echo "password_file = $RING_DIR/${RING_NAMES[i]}.password"
		done
	} >"$file" || return 1
	echo "$listen"
}

# ---------------------------------------------------------------- CLI ----

_ring_cli() {
	set -u
	case ${1:-help} in
	up)
		shift
		ring_require_server
		ring_start "$@" || exit 1
		local i
		echo "ring of $RING_N masters up in ${RING_START_SECONDS}s"
		echo "env:  . $RING_DIR/ring.env"
		for ((i = 1; i <= RING_N; i++)); do
			printf '%-6s port %s  mariadb --no-defaults -S %s -uroot  (ringwatch password in %s)\n' \
				"${RING_NAMES[i]}" "${RING_PORTS[i]}" "${RING_SOCKS[i]}" \
				"$RING_DIR/${RING_NAMES[i]}.password"
		done
		echo "Ctrl-C to stop."
		exec 3<>"$RING_DIR/.watchdog.fifo"
		while :; do read -r -u 3 _ || true; done
		;;
	help | -h | --help)
		sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
		;;
	*)
		echo "usage: $0 up [-n N] [--row-image I] [--row-metadata M] [--compress] [--extra OPTS] | help" >&2
		exit 2
		;;
	esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	_ring_cli "$@"
fi
