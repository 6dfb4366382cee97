#!/usr/bin/env bash
# The status page (GET /) in a real browser: headless Chromium loads it on a
# ring with an open conflict and a stopped link, and the rendered DOM shows
# the masters, the links with the stopped one broken, the gate closed with
# its checks, the conflict with both writes, the rows each master holds
# (the differing field marked) and the repair SQL.  The screenshot is kept
# as tests/integration/page.png.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    [ "${RW_REQUIRE_TOOLS:-0}" = 1 ] && { echo "Bail out! chromium not found"; exit 99; }
    echo "# chromium not found: skipped"; exit 77
fi

rwd_workdir page

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20), n INT);
    INSERT INTO app.t VALUES (1, 'init', 7)"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i 's/^server_id = .*/&\nprobe_interval = 1/' "$work/rw.conf"
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"

t_is "GET / is the page" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$RWD_URL/")" "200 text/html; charset=utf-8"
t_ok "nothing loaded from the network" sh -c "! curl -s '$RWD_URL/' | grep -Eq '(src|href)=\"(https?:)?//'"

# an update-update that diverges the row, and a link stopped by hand
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 1"
ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = 1"
ring_resume_link 1 2; ring_resume_link 2 1
found() { [ "$(curl -s "$RWD_URL/v1/conflicts?state=open" | jq '.conflicts | length')" -ge 1 ]; }
t_ok "the conflict is found" wait_for 15 found
ring_sync
ring_sql 2 "STOP SLAVE '${RING_NAMES[1]}'"
stopped() { [ "$(curl -s "$RWD_URL/v1/status" | jq -r '.links[] | select(.source == "west" and .replica == "east") | .state')" = broken ]; }
t_ok "west→east broken" wait_for 10 stopped
id=$(curl -s "$RWD_URL/v1/conflicts?state=open" | jq -r '.conflicts[0].id')

browse() { # FLAGS...: Chromium on the page, the DOM after its scripts ran
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-dev-shm-usage --user-data-dir="$work/chromium" --virtual-time-budget=8000 \
        --window-size=1200,1800 "$@" "$RWD_URL/" 2>>"$work/chromium.log"
}
browse --dump-dom >"$work/dom.html"
dom() { grep -c -- "$1" "$work/dom.html"; }
t_ok "the page loaded /v1/status" grep -q 'data-loaded="1"' "$work/dom.html" || t_diag "$(tail -5 "$work/chromium.log")"
t_ok "the gate closed" grep -q 'id="gate-badge" class="badge bad">gate: closed' "$work/dom.html"
t_ok "its replication check failing" grep -q '<li data-check="replication"><span class="badge bad">' "$work/dom.html"
t_ok "both masters in the ring" sh -c "grep -q 'data-master=\"west\"' '$work/dom.html' && grep -q 'data-master=\"east\"' '$work/dom.html'"
t_ok "west→east drawn broken" grep -q 'data-link="west→east" data-state="broken"' "$work/dom.html"
t_ok "east→west drawn ok" grep -q 'data-link="east→west" data-state="ok"' "$work/dom.html"
t_ok "the links table says broken" grep -q '<tr data-link="west→east"><td>west → east</td><td><span class="badge broken">broken' "$work/dom.html"
t_ok "the conflict is listed" grep -q "data-id=\"$id\"" "$work/dom.html"
t_ok "with both writes" sh -c "grep -q 'data-write=\"west\"' '$work/dom.html' && grep -q 'data-write=\"east\"' '$work/dom.html'"
t_ok "the rows each master holds" sh -c "grep -q 'data-final=\"west\"' '$work/dom.html' && grep -q 'data-final=\"east\"' '$work/dom.html'"
t_ok "the differing field marked, the equal one not" \
    sh -c "grep -q '<dt>v</dt><dd class=\"diff\">\"east\"</dd>' '$work/dom.html' && grep -q '<dt>n</dt><dd>7</dd>' '$work/dom.html'"
t_ok "the repair SQL" grep -q 'REPLACE INTO `app`.`t`' "$work/dom.html"
browse --screenshot="$work/page.png" >/dev/null
t_ok "a screenshot" test -s "$work/page.png"
cp "$work/page.png" "$top_builddir/tests/integration/page.png" 2>/dev/null

# on a phone
timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-dev-shm-usage --user-data-dir="$work/chromium" --virtual-time-budget=8000 \
    --window-size=390,844 --screenshot="$work/phone.png" "$RWD_URL/" >/dev/null 2>>"$work/chromium.log"
t_ok "a phone-sized screenshot" test -s "$work/phone.png"

ring_sql 2 "START SLAVE '${RING_NAMES[1]}'"
kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
ring_stop
t_done
