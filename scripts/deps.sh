#!/bin/sh
# Install what building and testing ringwatch needs (Debian 12, as root).
# Only missing packages are installed; "apt-get update" runs once, and only
# when something is missing.  Usage: scripts/deps.sh [build|test|demo]
set -eu

build_pkgs="build-essential autoconf automake autoconf-archive pkgconf
    libmariadb-dev libevent-dev libmicrohttpd-dev libgnutls28-dev libcrypt-dev libjansson-dev libsqlite3-dev
    zlib1g-dev libdeflate-dev libzstd-dev libinih-dev libxxhash-dev libsystemd-dev libcurl4-openssl-dev
    nettle-dev"
server_pkgs="mariadb-server mariadb-client curl jq"
# mariadb-test: MariaDB's regression suite (its mariadb-test-data), the
# statements tests/ddl/differential.sh runs against the DDL parser;
# percona-toolkit: pt-online-schema-change, run on a ring by
# tests/integration/deploy.sh
test_pkgs="clang clang-format libclang-rt-14-dev groff mandoc man-db systemd python3
    prometheus prometheus-alertmanager jq sqlite3 mariadb-test chromium debhelper lintian
    percona-toolkit"

case "${1:-test}" in
    build) want="$build_pkgs" ;;
    demo) want="$build_pkgs $server_pkgs" ;;
    test) want="$build_pkgs $server_pkgs $test_pkgs" ;;
    *) echo "usage: $0 [build|test|demo]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages:$missing (run as root, or install them)" >&2
    exit 2
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# Debian's packaged services must not hold ports or run: tests start their own.
for svc in mariadb prometheus prometheus-alertmanager; do
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl stop "$svc" >/dev/null 2>&1 || true
    fi
done
