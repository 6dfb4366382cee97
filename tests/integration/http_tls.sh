#!/bin/sh
# Who may read rows: ringwatchd over HTTPS (tls_cert_file, tls_key_file)
# with protect_rows, asked with curl: the conflicts need the token, the
# metrics, the health check, the status and the gate do not; plain HTTP and
# an unknown certificate authority get nothing.  Then the start-up warnings:
# rows readable from the network, rows nobody can read, a token in clear text.
set -u
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"
t_need curl openssl

work=$(mktemp -d "${TMPDIR:-/tmp}/rw-http-tls.XXXXXX")
RWD_PID=
cleanup() {
    [ -z "$RWD_PID" ] || kill -9 "$RWD_PID" 2>/dev/null
    [ -n "${RW_KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# a throwaway CA and a certificate for 127.0.0.1
(
    cd "$work" &&
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout ca-key.pem -out ca.pem -days 2 -subj "/CN=ringwatch test CA" &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout key.pem -out server.csr -subj "/CN=127.0.0.1" &&
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -out cert.pem -days 2 -extfile san.ext
) >"$work/openssl.log" 2>&1 || { sed 's/^/# /' "$work/openssl.log"; exit 99; }
printf 'tok-4411-rows\n' >"$work/token"

# write_conf LISTEN EXTRA-LINES: masters that are not there (port 1, 2) are
# enough: the ledger answers the conflicts
write_conf() {
    cat >"$work/rw.conf" <<CONF
[ringwatchd]
listen = $1
state_dir = state
$2

[master.west]
host = 127.0.0.1
port = 1
user = ringwatch
password = pw-west-9

[master.east]
host = 127.0.0.1
port = 2
user = ringwatch
password = pw-east-9
CONF
}

# start LOG: ringwatchd in the background; its URL in $url
start() {
    "$RINGWATCHD" -c "$work/rw.conf" 2>"$work/$1" &
    RWD_PID=$!
    if ! wait_for 10 grep -q 'listening on http' "$work/$1"; then
        sed 's/^/#   /' "$work/$1"
        return 1
    fi
    url=$(grep -o 'listening on https*://[^ ]*' "$work/$1" | head -n 1 | sed 's/^listening on //; s|/$||')
}

stop() {
    kill "$RWD_PID" 2>/dev/null
    wait "$RWD_PID" 2>/dev/null
    RWD_PID=
}

# code [CURL-OPTIONS...] PATH: the status curl got (000: no answer)
code() {
    path=$1
    shift
    curl -s -m 5 -o "$work/body" -w '%{http_code}' "$@" "$url$path"
}

write_conf 127.0.0.1:0 "tls_cert_file = cert.pem
tls_key_file = key.pem
auth_token_file = token
protect_rows = true"
t_ok "ringwatchd starts with TLS" start log
case $url in https://127.0.0.1:*) t_ok "and says https://" true ;; *) t_ok "and says https:// ($url)" false ;; esac
ca="--cacert $work/ca.pem"
# shellcheck disable=SC2086
{
    t_is "GET /healthz over TLS" "$(code /healthz $ca)" 200
    t_is "/metrics needs no token" "$(code /metrics $ca)" 200
    t_is "/v1/status needs none" "$(code /v1/status $ca)" 200
    t_ok "/v1/gate needs none" sh -c "case $(code /v1/gate $ca) in 200|503) true ;; *) false ;; esac"
    t_is "/v1/conflicts without the token: 401" "$(code /v1/conflicts $ca)" 401
    t_ok "as JSON" grep -q '^{"error":' "$work/body"
    t_is "/v1/conflicts/1 without the token: 401" "$(code /v1/conflicts/1 $ca)" 401
    t_is "its repair SQL without the token: 401" "$(code /v1/conflicts/1/repair $ca)" 401
    t_is "the status page itself: 200" "$(code / $ca)" 200
    t_is "with another token: 401" "$(code /v1/conflicts $ca -H 'Authorization: Bearer tok-nope')" 401
    t_is "with the token: 200" "$(code /v1/conflicts $ca -H 'Authorization: Bearer tok-4411-rows')" 200
    t_is "and the list" "$(cat "$work/body")" '{"conflicts":[]}'
    t_is "an unknown conflict with the token: 404" \
        "$(code /v1/conflicts/7 $ca -H 'Authorization: bearer tok-4411-rows')" 404
}
t_is "a client that does not know the CA gets nothing" "$(code /healthz)" 000
RINGWATCH_CACERT="$work/ca.pem" RINGWATCH_TOKEN=tok-4411-rows "$RINGWATCH" conflicts --url "$url" \
    >"$work/cli" 2>&1
t_is "ringwatch conflicts over TLS with RINGWATCH_CACERT and RINGWATCH_TOKEN" "$?" 0
RINGWATCH_CACERT="$work/ca.pem" "$RINGWATCH" conflicts --url "$url" >"$work/cli" 2>&1
rc=$?
t_is "without the token: exit 2" "$rc" 2
t_ok "saying why" grep -q 'Authorization: Bearer' "$work/cli"
plain=$(echo "$url" | sed 's|^https://|http://|')
t_ok "plain HTTP on the TLS port gets no 200" \
    sh -c "[ \"\$(curl -s -m 5 -o /dev/null -w '%{http_code}' '$plain/healthz')\" != 200 ]"
t_is "still serving afterwards" "$(code /healthz "--cacert" "$work/ca.pem")" 200
t_ok "no warning: rows protected, the token over TLS, on loopback" sh -c "! grep -q 'http: .*\(readable\|nobody\|clear text\)' '$work/log'"
t_ok "the log holds no token" sh -c "! grep -q 'tok-' '$work/log'"
stop

# rows readable from the network: warned at start
write_conf 0.0.0.0:0 "protect_rows = false"
t_ok "on 0.0.0.0 with protect_rows = false" start log2
t_ok "a warning: rows readable from the network" grep -q 'conflict rows .* are readable by anyone who reaches 0.0.0.0:0' "$work/log2"
t_is "and they are" "$(code /v1/conflicts)" 200
stop

# protected by default off loopback, with no token to read them: 403
write_conf 0.0.0.0:0 ""
t_ok "on 0.0.0.0 without a token" start log3
t_ok "a warning: nobody can read the rows" grep -q 'protect_rows is on (listen is not loopback) and no auth_token_file is set' "$work/log3"
t_is "the conflicts: 403" "$(code /v1/conflicts)" 403
t_is "the metrics stay open" "$(code /metrics)" 200
stop

# the token over plain HTTP off loopback
write_conf 0.0.0.0:0 "auth_token_file = token"
t_ok "on 0.0.0.0 with a token, no TLS" start log4
t_ok "a warning: the token crosses the network in clear text" grep -q 'token crosses the network in clear text' "$work/log4"
t_is "the conflicts need the token (protected by default)" "$(code /v1/conflicts)" 401
stop

# Basic credentials of basic_auth_file (bcrypt, as htpasswd -B writes them)
hash=$(python3 -c 'import crypt; print(crypt.crypt("pw-ops-77", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10)))' 2>/dev/null)
case $hash in '$2'?'$'*) ;; *) echo "Bail out! python3 cannot make a bcrypt hash"; exit 99 ;; esac
printf '# who may read rows
ops:%s

' "$hash" >"$work/users"
write_conf 127.0.0.1:0 "tls_cert_file = cert.pem
tls_key_file = key.pem
auth_token_file = token
basic_auth_file = users
protect_rows = true"
t_ok "ringwatchd starts with basic_auth_file" start log5
# shellcheck disable=SC2086
{
    t_is "the conflicts with the user's password: 200" "$(code /v1/conflicts $ca -u ops:pw-ops-77)" 200
    t_is "again (remembered, no second bcrypt)" "$(code /v1/conflicts/1 $ca -u ops:pw-ops-77)" 404
    t_is "a wrong password: 401" "$(code /v1/conflicts $ca -u ops:nope)" 401
    t_is "no such user: 401" "$(code /v1/conflicts $ca -u nobody:pw-ops-77)" 401
    t_is "nothing at all: 401" "$(code /v1/conflicts $ca)" 401
    t_ok "which asks for Basic credentials" sh -c "curl -s -m 5 -D - -o /dev/null --cacert '$work/ca.pem' '$url/v1/conflicts' | grep -qi '^WWW-Authenticate: Basic realm=\"ringwatch\"'"
    t_is "the token still reads them" "$(code /v1/conflicts $ca -H 'Authorization: Bearer tok-4411-rows')" 200
    t_is "but a password is no token for an action" \
        "$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert "$work/ca.pem" -u ops:pw-ops-77 -X POST "$url/v1/conflicts/1/resolve")" 401
}
# a guesser gets 429 once the second's bcrypt budget is spent, and the
# daemon keeps answering everyone else
for k in $(seq 1 40); do
    curl -s -m 10 -o /dev/null -w '%{http_code}\n' --cacert "$work/ca.pem" -u "ops:guess-$k" \
        "$url/v1/conflicts" >"$work/guess.$k" &
done
for k in $(seq 1 40); do
    # the curls, not ringwatchd: wait for their answers by file
    wait_for 20 test -s "$work/guess.$k"
done
guesses=$(cat "$work"/guess.* | tr '\n' ' ')
t_ok "forty wrong passwords at once: some are told to come back (429)" sh -c "echo '$guesses' | grep -q 429"
t_ok "the others refused (401), none let in" sh -c "! echo '$guesses' | grep -q 200"
t_is "the health check meanwhile" "$(code /healthz --cacert "$work/ca.pem")" 200
sleep 2
t_is "the right password after a pause" "$(code /v1/conflicts --cacert "$work/ca.pem" -u ops:pw-ops-77)" 200
t_ok "no password or hash in the log" sh -c "! grep -q 'pw-ops\|\\\$2' '$work/log5'"
stop

printf 'ops:plaintext\n' >"$work/users"
"$RINGWATCHD" --check-config -c "$work/rw.conf" >"$work/out" 2>&1
t_is "a line that is no bcrypt hash: exit 2" "$?" 2
t_ok "naming the file's line, not the hash" sh -c "grep -q 'users:1: not a user:bcrypt-hash line' '$work/out' && ! grep -q plaintext '$work/out'"
t_done
