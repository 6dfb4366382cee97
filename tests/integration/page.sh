#!/usr/bin/env bash
# The status page (GET /) in a real browser: headless Chromium, driven over
# the DevTools protocol by tests/integration/cdp.py, loads it on a ring with
# an open conflict, a stopped link, a critical audit finding, schema drift
# and a table ringwatch cannot see.  The rendered DOM shows the masters, the
# links with the stopped one broken and both lags, the gate closed with its
# checks, the conflict with both writes, the rows each master holds (the
# differing field marked), the repair SQL, the drift, the audit finding and
# the unknown table.  Without a reload, the page then follows the ring (the
# link started again reads ok within a refresh or two); it fits a 390 px
# phone screen; with auth_token_file set it loads without the token and asks
# for it when a conflict is marked resolved.  The screenshots are kept in the
# build folder: tests/integration/page.png and page-phone.png.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq python3
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    [ "${RW_REQUIRE_TOOLS:-0}" = 1 ] && { echo "Bail out! chromium not found"; exit 99; }
    echo "# chromium not found: skipped"; exit 77
fi

rwd_workdir page

ring_start -n 2 || exit 99
ring_sql 1 "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20), n INT);
    INSERT INTO app.t VALUES (1, 'init', 7); CREATE TABLE app.d (id INT PRIMARY KEY)"
ring_sync || exit 99
ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
sed -i 's/^server_id = .*/&\nprobe_interval = 1/' "$work/rw.conf"
t_ok "ringwatchd starts" rwd_start "$work/rw.conf" "$work/log"
status() { curl -s "$RWD_URL/v1/status" | jq -r "$1"; }

t_is "GET / is the page" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$RWD_URL/")" "200 text/html; charset=utf-8"
t_ok "nothing loaded from the network" sh -c "! curl -s '$RWD_URL/' | grep -Eq '(src|href)=\"(https?:)?//'"

# a table ringwatch may not see on west (its user reads app.* only there),
# made with sql_log_bin=0 on each master and written on west: its rows are
# not compared, and it stays unknown while the grant is missing
ring_sql 1 "SET sql_log_bin = 0; REVOKE SELECT ON *.* FROM 'ringwatch'@'127.0.0.1', 'ringwatch'@'localhost';
    GRANT SELECT ON app.* TO 'ringwatch'@'127.0.0.1', 'ringwatch'@'localhost'"
for pid in $(ring_sql 1 "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'ringwatch'"); do
    ring_sql 1 "KILL $pid" 2>/dev/null
done
ring_sql 1 "CREATE DATABASE priv; SET sql_log_bin = 0; CREATE TABLE priv.h (id INT PRIMARY KEY, b INT)"
ring_sql 2 "SET sql_log_bin = 0; CREATE TABLE priv.h (id INT PRIMARY KEY, b INT)"
connected() { [ "$(status '[.masters[] | .connected and .current] | all')" = true ]; }
t_ok "reconnected with less to read" wait_for 15 connected
for k in 1 2 3 4 5; do ring_sql 1 "INSERT INTO priv.h VALUES ($k, $k)"; sleep 0.2; done
unknown_h() { status '.unknown_tables[] | select(.schema == "priv" and .table == "h" and .master == "west") | .reason' | grep -q .; }
t_ok "priv.h unknown on west" wait_for 15 unknown_h || t_diag "unknown: $(status -c .unknown_tables)"

# an update-update that diverges the row, and a link stopped by hand
ring_pause_link 1 2; ring_pause_link 2 1
ring_sql 1 "UPDATE app.t SET v = 'west' WHERE id = 1"
ring_sql 2 "UPDATE app.t SET v = 'east' WHERE id = 1"
ring_resume_link 1 2; ring_resume_link 2 1
found() { [ "$(curl -s "$RWD_URL/v1/conflicts?state=open" | jq '.conflicts | length')" -ge 1 ]; }
t_ok "the conflict is found" wait_for 15 found
ring_sync
ring_sql 2 "STOP SLAVE '${RING_NAMES[1]}'"
stopped() { [ "$(status '.links[] | select(.source == "west" and .replica == "east") | .state')" = broken ]; }
t_ok "west→east broken" wait_for 10 stopped
id=$(curl -s "$RWD_URL/v1/conflicts?state=open" | jq -r '.conflicts[0].id')

# a critical audit finding: a replica on west that skips errors
ring_sql 1 "SET GLOBAL slave_exec_mode = 'IDEMPOTENT'"
idempotent() { status '.audit[] | select(.check == "slave_exec_mode" and .master == "west" and .ok == false) | .severity' | grep -qx critical; }
t_ok "slave_exec_mode=IDEMPOTENT on west: a critical finding" wait_for 20 idempotent ||
    t_diag "audit: $(status -c '[.audit[] | select(.ok == false)]')"
# schema drift: an ALTER made on east with sql_log_bin=0
ring_sql 2 "SET sql_log_bin = 0; ALTER TABLE app.d ADD COLUMN note INT"
drift() { status '.schema_drift[] | "\(.schema).\(.table): \(.detail)"' | grep -q '^app.d: column note only on east'; }
t_ok "drift from an ALTER under sql_log_bin=0" wait_for 20 drift || t_diag "drift: $(status -c .schema_drift)"

# the browser: one page, kept loaded from here on
coproc CDP { exec python3 "$top_srcdir/tests/integration/cdp.py" "$CHROMIUM" "$work/chromium" "$work/chromium.log"; }
# its pipes on fds of their own: bash keeps a coprocess' fds from pipelines
exec 7>&"${CDP[1]}" 8<&"${CDP[0]}"
cdp_pid=$CDP_PID
ring_on_exit '[ -z "$cdp_pid" ] || kill "$cdp_pid" 2>/dev/null'
cdp() { # COMMAND...: one command to the browser; its answer on stdout
    local answer
    echo "$*" >&7 && IFS= read -r -t 90 answer <&8 || answer="error: the browser does not answer"
    printf '%s\n' "$answer"
}
# cdp_wait SECONDS EXPR: until EXPR is true in the page
cdp_wait() {
    local answer
    answer=$(cdp wait "$@")
    [ "$answer" = ok ] || { t_diag "$2: $answer"; return 1; }
}
dom() { cdp eval "$1"; } # the JSON value of EXPR in the page

cdp size 1200 1800 0 >/dev/null
t_is "the page opens" "$(cdp open "$RWD_URL/")" ok
t_ok "the page loaded /v1/status" cdp_wait 15 'document.body.dataset.loaded === "1"' ||
    t_diag "$(tail -5 "$work/chromium.log")"
# a mark the page keeps until it is loaded again
t_is "marked" "$(dom 'window.rwMark = 1')" 1
t_ok "the conflict card loaded" cdp_wait 10 "!!document.querySelector('details[data-id=\"$id\"] pre.sql')"
t_ok "the audit finding, the drift and the unknown table shown" cdp_wait 10 \
    '!!document.querySelector("#audit-list [data-audit]") && !!document.querySelector("#drift-list li") && !!document.querySelector("#unknown-list li")'
t_is "the DOM dumped" "$(cdp dom "$work/dom.html")" ok
t_ok "the gate closed" grep -q 'id="gate-badge" class="badge bad">gate: closed' "$work/dom.html"
t_ok "its replication check failing" grep -q '<li data-check="replication"><span class="badge bad">' "$work/dom.html"
t_ok "both masters in the ring" sh -c "grep -q 'data-master=\"west\"' '$work/dom.html' && grep -q 'data-master=\"east\"' '$work/dom.html'"
t_ok "west→east drawn broken" grep -q 'data-link="west→east" data-state="broken"' "$work/dom.html"
t_ok "east→west drawn ok" grep -q 'data-link="east→west" data-state="ok"' "$work/dom.html"
t_ok "the links table says broken" grep -q '<tr data-link="west→east"><td>west → east</td><td><span class="badge broken">broken' "$work/dom.html"
# both lags of the running link: ringwatch's own and the replica's
# Seconds_Behind_Master, each a number of seconds (null is drawn as –)
lags=$(dom '[...document.querySelectorAll("#links tr[data-link=\"east→west\"] td")].slice(3, 5).map((td) => td.textContent).join(" | ")')
two_lags() { [[ $lags =~ ^\"[0-9.]+\ s\ \|\ [0-9.]+\ s\"$ ]]; }
t_ok "east→west: both lags shown as seconds ($lags)" two_lags
t_is "west→east: stopped, its Seconds_Behind_Master unknown (–)" \
    "$(dom 'document.querySelectorAll("#links tr[data-link=\"west→east\"] td")[4].textContent')" '"–"'
t_ok "the conflict is listed" grep -q "data-id=\"$id\"" "$work/dom.html"
t_ok "with both writes" sh -c "grep -q 'data-write=\"west\"' '$work/dom.html' && grep -q 'data-write=\"east\"' '$work/dom.html'"
t_ok "the rows each master holds" sh -c "grep -q 'data-final=\"west\"' '$work/dom.html' && grep -q 'data-final=\"east\"' '$work/dom.html'"
t_ok "the differing field marked, the equal one not" \
    sh -c "grep -q '<dt>v</dt><dd class=\"diff\">\"east\"</dd>' '$work/dom.html' && grep -q '<dt>n</dt><dd>7</dd>' '$work/dom.html'"
t_ok "the repair SQL" grep -q 'REPLACE INTO `app`.`t`' "$work/dom.html"
t_ok "the audit finding: critical, slave_exec_mode on west" \
    grep -q '<li data-audit="slave_exec_mode"><span class="badge critical">critical</span> <strong>slave_exec_mode (west)</strong>' "$work/dom.html"
t_ok "the drift: app.d's column only on east" grep -q '<li>app.d: column note only on east' "$work/dom.html"
t_ok "the unknown table: priv.h on west, with the reason" grep -Eq '<li>west: priv.h — [^<]+</li>' "$work/dom.html"
t_is "a screenshot" "$(cdp shot "$work/page.png")" ok
t_ok "a PNG" sh -c "head -c 8 '$work/page.png' | od -An -c | grep -q 'P   N   G'"
mkdir -p "$top_builddir/tests/integration" && cp "$work/page.png" "$top_builddir/tests/integration/page.png"

# the refresh: the link started again, the page (not reloaded) follows
dom 'performance.setResourceTimingBufferSize(100000); performance.clearResourceTimings()' >/dev/null
t0=$(date +%s.%N)
ring_sql 2 "START SLAVE '${RING_NAMES[1]}'"
runs() { [ "$(status '.links[] | select(.source == "west" and .replica == "east") | .state')" = ok ]; }
t_ok "west→east runs again (/v1/status)" wait_for 15 runs
t_ok "the page shows it within 5 s, not reloaded" cdp_wait 5 \
    'document.querySelector("#links tr[data-link=\"west→east\"] .badge").textContent === "ok" && document.querySelector("line[data-link=\"west→east\"]").dataset.state === "ok" && window.rwMark === 1'
sleep 6
# /v1/status fetched every 2 s since START SLAVE (at least 6 s ago): about
# one fetch in 2 s (a refresh still waiting for its answers skips a tick)
span=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')
fetches=$(dom 'performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/v1/status")).length')
every_2s() { awk -v n="$fetches" -v s="$span" 'BEGIN { exit !(n >= s / 2 - 2 && n <= s / 2 + 1) }'; }
t_ok "/v1/status fetched every 2 s: $fetches times in $span s" every_2s
t_is "still the same page" "$(dom 'window.rwMark === 1 && performance.getEntriesByType("navigation").length === 1')" true

# on a phone: 390 CSS pixels wide, nothing wider than the screen
cdp size 390 844 1 >/dev/null
t_ok "a refresh at 390 px" cdp_wait 10 'window.innerWidth === 390 && (window.rwSeen = window.rwSeen || $("updated").textContent) !== $("updated").textContent'
width=$(dom 'Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)')
t_ok "the page is no wider than the phone ($width px)" test "$width" -le 390
t_is "a phone screenshot" "$(cdp shot "$work/phone.png")" ok
t_ok "a PNG" sh -c "head -c 8 '$work/phone.png' | od -An -c | grep -q 'P   N   G'"
cp "$work/phone.png" "$top_builddir/tests/integration/page-phone.png"
cdp size 1200 1800 0 >/dev/null

kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0

# with auth_token_file (and rows not protected, as on loopback): the page
# loads without the token, and marking the conflict resolved asks for it
printf 'sEcReT-page-token\n' >"$work/token"
chmod 600 "$work/token"
sed -i "s|^server_id = .*|&\nauth_token_file = $work/token|" "$work/rw.conf"
t_ok "ringwatchd starts with a token" rwd_start "$work/rw.conf" "$work/log2"
t_is "the page opens" "$(cdp open "$RWD_URL/")" ok
t_ok "it loads without the token" cdp_wait 15 'document.body.dataset.loaded === "1" && sessionStorage.getItem("ringwatch-token") === null'
t_ok "the conflict and its rows shown" cdp_wait 10 "!!document.querySelector('details[data-id=\"$id\"] [data-final=\"east\"]')"
resolve="document.querySelector('details[data-id=\"$id\"] button').click()"
cdp prompt - >/dev/null
dom "$resolve" >/dev/null
t_is "Mark resolved asks for the token" "$(cdp dialogs | jq -r '.[0] | "\(.type): \(.message)"')" \
    "prompt: ringwatchd's token (auth_token_file) to resolve #$id"
sleep 1
t_is "dismissed: nothing sent, still open" \
    "$(curl -s "$RWD_URL/v1/conflicts/$id" | jq -r .state)" open
cdp prompt sEcReT-page-token >/dev/null
dom "$resolve" >/dev/null
resolved() { [ "$(curl -s "$RWD_URL/v1/conflicts/$id" | jq -r .state)" = resolved ]; }
t_ok "given the token: resolved" wait_for 10 resolved
t_is "two prompts in all" "$(cdp dialogs | jq 'map(select(.type == "prompt")) | length')" 2
t_ok "the page shows no open conflict" cdp_wait 10 "!document.querySelector('details[data-id=\"$id\"]')"
echo quit >&7
wait "$cdp_pid" 2>/dev/null
cdp_pid=
exec 7>&- 8<&-

kill -TERM "$RWD_PID"; wait "$RWD_PID"; rc=$?; RWD_PID=
t_is "a clean stop" "$rc" 0
ring_sql 1 "SET GLOBAL slave_exec_mode = 'STRICT'"
ring_stop
t_done
