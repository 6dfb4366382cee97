#!/bin/sh
# The whole test suite, as CI runs it (Debian 12, root):
#   1. install what is missing, 2. build with warnings as errors and run
#   make check, then make check-system (a browser, Prometheus, the Debian
#   package) once, 3. make check under AddressSanitizer +
#   UndefinedBehaviorSanitizer, 4. the libFuzzer build (clang) with its
#   corpus replay, 5. make distcheck.
# Every test must run: a missing server or tool is a failure here, not a skip.
# Prints one closing line: "ringwatch: N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh test || exit 2

export RW_REQUIRE_SERVERS=1 RW_REQUIRE_TOOLS=1
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
skipped=0
status=0

# count BUILD_DIR: add the automake summary of BUILD_DIR/test-suite.log
count() {
    log="$1/test-suite.log"
    if [ ! -f "$log" ]; then
        failed=$((failed + 1))
        return
    fi
    p=$(sed -n 's/^# PASS: *//p' "$log" | head -n 1)
    f=$(sed -n 's/^# FAIL: *//p' "$log" | head -n 1)
    e=$(sed -n 's/^# ERROR: *//p' "$log" | head -n 1)
    x=$(sed -n 's/^# XPASS: *//p' "$log" | head -n 1)
    s=$(sed -n 's/^# SKIP: *//p' "$log" | head -n 1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0} + ${e:-0} + ${x:-0}))
    skipped=$((skipped + ${s:-0}))
}

# stage NAME DIR CONFIGURE-ARGS...: build and run make check in DIR.
stage() {
    name=$1
    dir=$2
    shift 2
    echo "== $name: build ($*)"
    if ! sh scripts/build.sh "$dir" "$@"; then
        echo "== $name: BUILD FAILED"
        failed=$((failed + 1))
        status=1
        return
    fi
    check "$name" "$dir" check
}

# check NAME DIR TARGET: make TARGET in DIR, its failures shown and counted.
check() {
    name=$1
    dir=$2
    echo "== $name: make $3"
    if ! make -C "$dir" -j"$jobs" "$3" >"$dir/check.out" 2>&1; then
        status=1
        grep -E '^(FAIL|ERROR|XPASS)' "$dir/check.out" | sed 's/^/   /'
        for t in $(sed -n 's/^\(FAIL\|ERROR\): \([^ ]*\).*/\2/p' "$dir/check.out" | sort -u); do
            echo "--- ${t%.sh}.log"
            # the failed assertions first: the tail may not reach them
            grep -E '^(not ok|Bail out)' "$dir/${t%.sh}.log" 2>/dev/null | head -n 20
            echo "--- its last lines"
            tail -n 40 "$dir/${t%.sh}.log" 2>/dev/null
        done
    fi
    grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' "$dir/check.out" | sed 's/^/   /'
    count "$dir"
}

stage "gcc, warnings as errors" _build/werror --enable-werror --with-systemd
# the tests of the system around it (a browser, Prometheus, the Debian
# package), once
[ -f _build/werror/Makefile ] && check "system" _build/werror check-system
stage "ASan+UBSan" _build/asan --enable-werror --enable-sanitizers --with-systemd
stage "clang, libFuzzer" _build/fuzz CC=clang --enable-werror --enable-fuzzers --enable-sanitizers

if [ "${RW_SKIP_DISTCHECK:-0}" != 1 ]; then
    echo "== make distcheck"
    if make -C _build/werror -j"$jobs" distcheck >_build/distcheck.out 2>&1; then
        echo "   distcheck passed"
        passed=$((passed + 1))
    else
        status=1
        failed=$((failed + 1))
        tail -n 40 _build/distcheck.out
    fi
fi

if [ "$skipped" -ne 0 ]; then
    echo "== $skipped tests were skipped: every test must run here"
    status=1
fi
[ "$failed" -eq 0 ] || status=1
echo "ringwatch: $passed passed, $failed failed, $skipped skipped"
exit $status
