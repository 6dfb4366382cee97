#!/bin/sh
# The README's demo command works: it starts a ring, ringwatchd and a small
# load, tells its story (a safe deploy through the gate step by step, a
# conflict, an unsafe DDL) with what ringwatch said at each step, says where
# to look, answers there, and leaves nothing behind when it ends.
set -u
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"
t_need bash curl jq
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    [ "${RW_REQUIRE_SERVERS:-0}" = 1 ] && { echo "Bail out! mariadbd missing"; exit 99; }
    echo "1..0 # SKIP mariadbd not installed"; exit 77
fi
out=$(mktemp "${TMPDIR:-/tmp}/rw-demo.XXXXXX")
pid=
trap 'rm -f "$out" "$out".*; [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null' EXIT INT TERM

# at most 10 minutes, even if this test dies; it stops it once it has looked
RW_BUILD_DIR="$top_builddir" RW_DEMO_SECONDS=600 bash "$top_srcdir/scripts/demo.sh" >"$out" 2>&1 &
pid=$!
t_ok "the demo says it is running" wait_for 240 grep -q "ringwatch demo is running" "$out"
url=$(sed -n 's|.*ringwatchd: *\(http://[^ ]*\)/healthz.*|\1|p' "$out")
dir=$(sed -n 's|.*its config: *\(/.*\)/ringwatchd.conf.*|\1|p' "$out")
t_is "the daemon answers where the demo says" "$(curl -s "$url/healthz")" ok
t_ok "the status page it names answers" sh -c "curl -sf '$url/' | grep -qi '<html'"

# 1. the safe deploy
sed -n '/1. A SAFE DEPLOY/,/2. A CONFLICT/p' "$out" >"$out.deploy"
t_is "the gate said safe before each of the 6 steps" "$(grep -c '^    safe$' "$out.deploy")" 6
t_ok "and never stopped the deploy" sh -c "! grep -q 'does not say safe' '$out.deploy'"
t_ok "check-ddl judged the new table safe" grep -q '^    safe: CREATE TABLE app.order_events' "$out.deploy"
t_ok "the new column at the end not unsafe" grep -Eq '^    (safe|caution): ALTER TABLE app.orders ADD COLUMN total_cents' "$out.deploy"
t_ok "the contract's DROP COLUMN unsafe, for the reason the step signs off" \
    sh -c "grep -q '^    unsafe: ALTER TABLE app.orders DROP COLUMN coupon' '$out.deploy' &&
        grep -q 'drop it only after every master and every client stopped using it' '$out.deploy'"
t_ok "the backfill asked the throttle check" grep -q 'check/backfill/mysql/ring said 200 before each' "$out.deploy"
t_ok "no conflict (open or resolved) and no drift after it" grep -q '^demo: conflicts so far: 0 (open or resolved); schema drift: \[\]' "$out"

# 2. the conflict
t_ok "the demo provoked a real divergence: west 7, east 9" \
    sh -c "grep -q 'west: apple = 7' '$out' && grep -q 'east: apple = 9' '$out'"
t_ok "and shows ringwatch's report of it" grep -q 'update-update shop.stock {"item":"apple"}  open, DIVERGED' "$out"
t_ok "with each master's row" sh -c "grep -q 'west *holds *{\"item\":\"apple\",\"qty\":7}' '$out'"
t_ok "and the gate saying no" grep -q '^    conflicts: 1 open' "$out"
t_ok "and the repair" grep -q "^    -- on \(west\|east\) (it holds" "$out"

# 3. the unsafe DDL
t_ok "check-ddl refuses the ALTER ... AFTER" grep -q '^    unsafe: ALTER TABLE app.orders ADD COLUMN c VARCHAR(20) NULL AFTER id' "$out"
t_ok "ringwatch names the broken link and the ALTER behind it" \
    grep -q '^  east→west: broken, error 1677: app.orders was changed by ALTER TABLE app.orders ADD COLUMN c VARCHAR(20) NULL AFTER id .*on west' "$out"
t_ok "and the link stopped by hand" grep -q '^  west→east: broken.*STOP SLAVE' "$out"

# 4. where to look: every address and command the demo prints answers, as
# it should for a ring broken on purpose with one conflict open
sed -n '/^ringwatch demo is running/,/^Press Ctrl-C/p' "$out" >"$out.info"
api=$(sed -n '/^  the API:/,/^  the CLI:/{/^  the CLI:/!p}' "$out.info" | grep -o 'http://[^ ]*')
t_is "the demo prints six API addresses" "$(echo "$api" | grep -c .)" 6 || sed 's/^/#   /' "$out.info"
for u in $api; do
    case ${u#"$url"} in
    /v1/status | /v1/conflicts | /v1/tables) want=200 ;;
    /v1/gate) want=503 ;;                 # not safe: a link is broken
    /check/app/mysql/ring) want=429 ;;    # the throttle check: the replication check fails
    /metrics) want=200 ;;
    *) want="an address the test knows" ;;
    esac
    code=$(curl -s -o "$out.body" -w '%{http_code}' "$u")
    t_is "GET $u answers $want" "$code" "$want"
    case ${u#"$url"} in
    /metrics) t_ok "  with the metrics" grep -q '^ringwatch_conflicts_open 1$' "$out.body" ;;
    *) t_ok "  with JSON" sh -c "jq -e . '$out.body' >/dev/null" ;;
    esac
done
t_is "the conflicts it lists: the provoked one, no other ever (state=all)" \
    "$(curl -s "$url/v1/conflicts?state=all&limit=1000" | jq -c '[.conflicts[] | "\(.table) \(.kind) \(.state)"]')" \
    '["stock update-update open"]'
sed -n '/^  the CLI:/,/^  its log:/p' "$out.info" | sed -n 's/^ *\(the CLI: *\)\{0,1\}\(\/[^ ]*\/cli\/ringwatch .*\)$/\2/p' >"$out.cli"
t_is "the demo prints three ringwatch commands" "$(grep -c . "$out.cli")" 3 || sed 's/^/#   /' "$out.info"
while read -r cmd; do
    case $cmd in
    *" status "*) want=0 look='^east -> west  *broken .* 1677: ' ;;
    *" conflicts "*) want=1 look='update-update shop.stock' ;; # exit 1: a conflict is open
    *" gate "*) want=1 look='^replication: ' ;;                # exit 1: not safe
    *) want="a command the test knows" look=. ;;
    esac
    sh -c "$cmd" >"$out.body" 2>&1; rc=$?
    t_is "\`$cmd\` exits $want" "$rc" "$want"
    t_ok "  saying: $look" grep -q "$look" "$out.body" || sed 's/^/#   /' "$out.body"
done <"$out.cli"
sock=$(sed -n 's/.*(mariadb -S \([^ ]*\) -uroot).*/\1/p' "$out.info")
t_is "the mariadb command it prints reaches west" \
    "$(mariadb --no-defaults -S "$sock" -uroot -N -e "SELECT qty FROM shop.stock WHERE item = 'apple'" 2>&1)" 7

# Ctrl-C is SIGINT, which a background job of a script ignores: SIGTERM takes the same path
t_ok "the page answers to the end of the story" sh -c "curl -sf '$url/' | grep -qi '<html'"
kill -TERM "$pid"
wait "$pid"; rc=$?
t_is "the demo stops on a signal, as on Ctrl-C (128 + SIGTERM)" "$rc" 143
t_ok "its ring is gone" test ! -e "$dir"
t_ok "no server of it is left" sh -c "! pgrep -f '[m]ariadbd.*$dir' >/dev/null"
t_ok "no load of it is left" sh -c "! pgrep -f '[d]eploy_load.*$dir' >/dev/null"
[ "$t_failed" -eq 0 ] || sed 's/^/#   /' "$out"
t_done
