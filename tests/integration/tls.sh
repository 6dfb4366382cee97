#!/usr/bin/env bash
# TLS to the masters, per ssl_mode, against a ring whose servers have a
# certificate from a throwaway CA: preferred uses TLS when offered,
# verify_identity checks chain and name, a wrong CA is refused with a clear
# reason, disabled stays plain.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/harness/ring.sh"
ring_require_server
t_need curl jq openssl

rwd_workdir tls
status() { curl -s "$RWD_URL/v1/status" | jq -r "$1"; }
# conf WEST_TLS_LINES EAST_TLS_LINES: a configuration with extra lines per master
conf() {
    ring_write_config "$work/rw.conf" 127.0.0.1:0 "$work/state" >/dev/null
    sed -i "/^\[master.west\]/a $1" "$work/rw.conf"
    sed -i "/^\[master.east\]/a $2" "$work/rw.conf"
}
run() {
    t_ok "ringwatchd starts ($1)" rwd_start "$work/rw.conf" "$work/log.$1"
}
stop() {
    kill -TERM "$RWD_PID"; wait "$RWD_PID"; RWD_PID=
}

ring_start -n 2 --tls || exit 99
t_is "the servers offer TLS" "$(ring_sql 1 "SELECT @@have_ssl")" YES

conf "ssl_mode = preferred" "ssl_mode = verify_identity\nssl_ca = $RING_TLS_CA"
run preferred
t_ok "west (preferred) is connected" wait_for 10 sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '.masters[0].connected')\" = true ]"
t_ok "over TLS ($(status '.masters[0].tls'))" sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '.masters[0].tls')\" != null ]"
t_ok "east (verify_identity with the CA) is connected over TLS" \
    wait_for 10 sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '.masters[1].tls')\" != null ]"
t_ok "the probes connect the same way" \
    wait_for 10 sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '[.masters[].probe_ok] | all')\" = true ]"
stop

# a CA that did not sign the servers' certificates
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$work/other-key.pem" -out "$work/other-ca.pem" -days 1 -subj "/CN=other" >/dev/null 2>&1
conf "ssl_mode = disabled" "ssl_mode = verify_ca\nssl_ca = $work/other-ca.pem"
run wrong-ca
t_ok "east with the wrong CA is refused, saying why" \
    wait_for 10 sh -c "curl -s '$RWD_URL/v1/status' | jq -r '.masters[1].last_error.message' | grep -qi 'certificate\|verif\|tls\|ssl'"
t_is "and is not connected" "$(status '.masters[1].connected')" false
t_ok "west (disabled) is connected" wait_for 10 sh -c "[ \"\$(curl -s '$RWD_URL/v1/status' | jq -r '.masters[0].connected')\" = true ]"
t_is "without TLS" "$(status '.masters[0].tls')" null
stop
t_done
