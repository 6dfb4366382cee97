# Shared helpers for ringwatch's shell tests: TAP-style output and the
# automake exit protocol (0 pass, 1 fail, 77 skip, 99 hard error).
# Source it; then call t_ok/t_is and finish with t_done.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
RINGWATCHD="$top_builddir/daemon/ringwatchd"
RINGWATCH="$top_builddir/cli/ringwatch"
t_n=0
t_failed=0

# t_ok DESCRIPTION COMMAND...: passes when the command succeeds.  Both
# return 1 on a failure, so that `t_ok ... || t_diag ...` says more.
t_ok() {
    desc=$1
    shift
    t_n=$((t_n + 1))
    if "$@"; then
        echo "ok $t_n - $desc"
    else
        t_failed=$((t_failed + 1))
        echo "not ok $t_n - $desc"
        return 1
    fi
}

# not COMMAND...: succeeds when the command fails.
not() {
    ! "$@"
}

# t_is DESCRIPTION GOT WANT
t_is() {
    t_n=$((t_n + 1))
    if [ "$2" = "$3" ]; then
        echo "ok $t_n - $1"
    else
        t_failed=$((t_failed + 1))
        echo "not ok $t_n - $1"
        echo "#   got:  $2"
        echo "#   want: $3"
        return 1
    fi
}

t_diag() {
    echo "# $*"
}

# t_need TOOL...: a missing tool skips the test, unless RW_REQUIRE_TOOLS=1 (CI).
t_need() {
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            if [ "${RW_REQUIRE_TOOLS:-0}" = 1 ]; then
                echo "Bail out! $tool is required (RW_REQUIRE_TOOLS=1)"
                exit 99
            fi
            echo "1..0 # SKIP $tool not installed"
            exit 77
        fi
    done
}

t_done() {
    echo "1..$t_n"
    [ "$t_n" -gt 0 ] && [ "$t_failed" -eq 0 ] && exit 0
    exit 1
}

# wait_for SECONDS COMMAND...: poll every 50 ms until the command succeeds.
wait_for() {
    deadline=$(( $(date +%s) + $1 ))
    shift
    while ! "$@" 2>/dev/null; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# rwd_workdir NAME: $work, a fresh folder for the test's files (kept when
# RW_KEEP_WORK is set), and, on exit, the ringwatchd rwd_start started
# killed; for tests that use tests/harness/ring.sh (its ring_on_exit).
rwd_workdir() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/rw-$1.XXXXXX") || exit 99
    RWD_PID=
    ring_on_exit 'if [ -n "$RWD_PID" ]; then kill -9 "$RWD_PID" 2>/dev/null; fi; [ -n "${RW_KEEP_WORK:-}" ] || rm -rf "$work"'
}

# rwd_start CONFIG LOG: start ringwatchd in the background; sets RWD_PID and
# RWD_URL (from the "listening on" log line, so port 0 works).
rwd_start() {
    "$RINGWATCHD" -c "$1" 2>"$2" &
    RWD_PID=$!
    if ! wait_for 10 grep -q 'listening on http://' "$2"; then
        echo "# ringwatchd did not start:"; sed 's/^/#   /' "$2"
        return 1
    fi
    RWD_URL=$(grep -o 'listening on http://[^ ]*' "$2" | head -n 1 | sed 's/^listening on //; s|/$||')
}
