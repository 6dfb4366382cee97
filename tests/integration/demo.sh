#!/bin/sh
# The README's demo command works: it starts a ring and ringwatchd, says
# where to look, answers there, and leaves nothing behind when it ends.
set -u
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"
t_need bash curl
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    [ "${RW_REQUIRE_SERVERS:-0}" = 1 ] && { echo "Bail out! mariadbd missing"; exit 99; }
    echo "1..0 # SKIP mariadbd not installed"; exit 77
fi
out=$(mktemp "${TMPDIR:-/tmp}/rw-demo.XXXXXX")
trap 'rm -f "$out"' EXIT INT TERM

RW_BUILD_DIR="$top_builddir" RW_DEMO_SECONDS=2 bash "$top_srcdir/scripts/demo.sh" >"$out" 2>&1 &
pid=$!
t_ok "the demo says it is running" wait_for 60 grep -q "ringwatch demo is running" "$out"
url=$(sed -n 's|.*ringwatchd: *\(http://[^ ]*\)/healthz.*|\1|p' "$out")
dir=$(sed -n 's|.*its config: *\(/.*\)/ringwatchd.conf.*|\1|p' "$out")
t_is "the daemon answers where the demo says" "$(curl -s "$url/healthz")" ok
t_ok "the demo provoked a real divergence: west 7, east 9" \
    sh -c "grep -q 'west: apple = 7' '$out' && grep -q 'east: apple = 9' '$out'"
t_ok "and shows ringwatch's report of it" grep -q 'update-update shop.stock {"item":"apple"}  open, DIVERGED' "$out"
t_ok "with each master's row" sh -c "grep -q 'west *holds *{\"item\":\"apple\",\"qty\":7}' '$out'"
t_ok "and the gate saying no" grep -q '^conflicts: 1 open' "$out"
wait "$pid"; rc=$?
t_is "the demo ends cleanly" "$rc" 0
t_ok "its ring is gone" test ! -e "$dir"
t_ok "no server of it is left" sh -c "! pgrep -f '[m]ariadbd.*$dir' >/dev/null"
[ "$t_failed" -eq 0 ] || sed 's/^/#   /' "$out"
t_done
