#!/bin/sh
# deb.sh - the Debian package, built, linted, installed and purged:
#   a. debian/ builds with "dpkg-buildpackage -us -uc -b" (one build, from a
#      copy of the source tree: git's tracked files as they are in the work
#      tree, or the whole tree outside git, e.g. under make distcheck);
#   b. lintian finds no error or warning on the .deb and .changes beyond the
#      tags debian/ringwatch.lintian-overrides explains (other tags are shown);
#   c. installed: the programs, both units, the sysusers file, the man pages,
#      the runbook and doc/alerts.md, the mixin when the source has
#      contrib/mixin/, the configuration as a conffile; the ringwatch user
#      exists; ringwatchd.service is disabled; the template has the single
#      unit's settings and hardening; systemd-analyze verify accepts both
#      (where it cannot run: a failure under RW_REQUIRE_TOOLS=1);
#   d. ringwatchd --check-config refuses the installed configuration until
#      the password files it names exist, then accepts it, also as the
#      ringwatch user the unit runs it as;
#   e. purged: no file of the package, no /etc/ringwatch, no state left.
#
# It changes this machine (installs and purges a package), so it needs root
# and a machine where ringwatch is not installed; it cleans up on any exit,
# and removes the ringwatch user if it made it.  Not root, or without
# dpkg-buildpackage: skipped (a failure under RW_REQUIRE_TOOLS=1).
#   top_srcdir=/path/to/src top_builddir=/path/to/build sh tests/integration/deb.sh
set -u
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
. "$top_srcdir/tests/integration/lib.sh"

# present: dpkg knows ringwatch as installed, or its conffiles are left
present() {
	dpkg-query -W -f='${Status}\n' ringwatch 2>/dev/null | grep -qv 'not-installed$'
}

# refuse REASON: skip, or fail under RW_REQUIRE_TOOLS=1 (CI must run it)
refuse() {
	if [ "${RW_REQUIRE_TOOLS:-0}" = 1 ]; then
		echo "Bail out! $1 (RW_REQUIRE_TOOLS=1)"
		exit 99
	fi
	echo "1..0 # SKIP $1"
	exit 77
}

[ "$(id -u)" = 0 ] || refuse "installs a package: needs root"
t_need dpkg-buildpackage dh lintian dpkg-query apt-get runuser
if present; then
	refuse "ringwatch is installed on this machine (dpkg --purge ringwatch first)"
fi
for d in /etc/ringwatch /var/lib/ringwatch; do
	[ ! -e "$d" ] || refuse "$d exists on this machine; this test would remove it"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/rw-deb.XXXXXX") || exit 99
user_before=$(getent passwd ringwatch)
group_before=$(getent group ringwatch)
cleanup() {
	if present; then
		rm -f /etc/ringwatch/*.password
		dpkg --purge ringwatch >"$work/cleanup.log" 2>&1 ||
			{ echo "# cleanup: dpkg --purge ringwatch failed:"; sed 's/^/#   /' "$work/cleanup.log"; }
	fi
	rm -rf /var/lib/ringwatch
	[ -n "$user_before" ] || ! getent passwd ringwatch >/dev/null || userdel ringwatch
	[ -n "$group_before" ] || ! getent group ringwatch >/dev/null || groupdel ringwatch
	[ -n "${RW_KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- a. build ---------------------------------------------------------------
version=$(sed -n 's/^AC_INIT(\[ringwatch\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
src=$work/ringwatch-$version
mkdir "$src" || exit 99
if [ -z "$(git -C "$top_srcdir" rev-parse --show-prefix 2>/dev/null || echo no)" ]; then
	# the tracked files, as the work tree has them (a deleted one left out)
	(cd "$top_srcdir" && git ls-files -z | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh |
		tar -cf - -T -) | tar -C "$src" -xf - || exit 99
	from="git ls-files"
else
	# no git (a dist tree): all of it but build folders inside it
	set -- --exclude=./_build --exclude=./_inst
	case $top_builddir in "$top_srcdir"/?*) set -- "$@" "--exclude=./${top_builddir#"$top_srcdir"/}" ;; esac
	tar -C "$top_srcdir" "$@" -cf - . | tar -C "$src" -xf - || exit 99
	chmod -R u+w "$src"
	from="the source tree"
fi
t_diag "building from $from of $top_srcdir in $src"
t_is "debian/changelog's version is configure.ac's" \
	"$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)" "$version"
arch=$(dpkg --print-architecture)
deb=$work/ringwatch_${version}_$arch.deb
changes=$work/ringwatch_${version}_$arch.changes
t0=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=2 nocheck} dpkg-buildpackage -us -uc -b) \
	>"$work/build.log" 2>&1
rc=$?
t_is "dpkg-buildpackage -us -uc -b exits 0" "$rc" 0 || tail -n 40 "$work/build.log" | sed 's/^/#   /'
t_diag "built in $(($(date +%s) - t0)) s"
if [ ! -f "$deb" ] || [ ! -f "$changes" ]; then
	t_ok "the build wrote $(basename "$deb") and $(basename "$changes")" false
	find "$work" -maxdepth 1 -type f | sed 's/^/#   /'
	t_done
fi
t_ok "dh_missing found nothing left out" not grep -q 'dh_missing: warning' "$work/build.log"

# ---- b. lintian ---------------------------------------------------------------
# (in $work: lintian leaves mldbm-elf-* files in TMPDIR)
TMPDIR=$work lintian --info --display-info --show-overrides --fail-on error,warning "$changes" \
	>"$work/lintian.out" 2>&1
rc=$?
t_ok "lintian: no error or warning that is not overridden (and explained)" \
	[ "$rc" -eq 0 ] || sed 's/^/#   /' "$work/lintian.out"
# the rest: overridden tags, and information tags (e.g. from the mixin's files)
sed -n 's/^\([IPO]\): /lintian \1: /p' "$work/lintian.out" | while read -r line; do t_diag "$line"; done

# ---- c. install -------------------------------------------------------------
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	-o DPkg::Lock::Timeout=300 "$deb" >"$work/install.log" 2>&1
rc=$?
t_is "apt-get install ./$(basename "$deb") exits 0" "$rc" 0 || sed 's/^/#   /' "$work/install.log"
t_is "ringwatch is installed" "$(dpkg-query -W -f='${Status}' ringwatch 2>&1)" "install ok installed" ||
	t_done
dpkg -L ringwatch >"$work/files"

# installed PATH SOURCE: dpkg lists PATH and it is a copy of SOURCE (in the tree)
installed() {
	grep -qxF "$1" "$work/files" && cmp -s "$1" "$src/$2"
}
t_ok "/usr/sbin/ringwatchd" test -x /usr/sbin/ringwatchd
t_ok "/usr/bin/ringwatch" test -x /usr/bin/ringwatch
t_ok "ringwatchd.service, as in systemd/" installed /lib/systemd/system/ringwatchd.service systemd/ringwatchd.service
t_ok "ringwatchd@.service, as in systemd/" installed /lib/systemd/system/ringwatchd@.service systemd/ringwatchd@.service
t_ok "the sysusers file, as in systemd/sysusers.d/" installed /usr/lib/sysusers.d/ringwatch.conf systemd/sysusers.d/ringwatch.conf
for page in man1/ringwatch.1 man5/ringwatchd.conf.5 man8/ringwatchd.8; do
	t_ok "man page $page" sh -c "zcat /usr/share/man/$page.gz | cmp -s - '$src/man/${page#*/}'"
done
# doc NAME SOURCE: /usr/share/doc/ringwatch/NAME (compressed or not) is SOURCE
doc() {
	d=/usr/share/doc/ringwatch/$1
	if grep -qxF "$d.gz" "$work/files"; then
		zcat "$d.gz" | cmp -s - "$src/$2"
	else
		grep -qxF "$d" "$work/files" && cmp -s "$d" "$src/$2"
	fi
}
t_ok "the runbook the mixin's alerts link to, as docs/runbook.md" doc runbook.md docs/runbook.md
t_ok "ringwatchd's own alerts, as doc/alerts.md" doc alerts.md doc/alerts.md
t_ok "/etc/ringwatch/ringwatchd.conf is etc/ringwatchd.conf" installed /etc/ringwatch/ringwatchd.conf etc/ringwatchd.conf
t_ok "/etc/ringwatch/ringwatchd.conf is a conffile" \
	sh -c "dpkg-query -W -f='\${Conffiles}\n' ringwatch | grep -q '^ /etc/ringwatch/ringwatchd.conf [0-9a-f]*\$'"
if [ -d "$src/contrib/mixin" ]; then
	t_is "the mixin: contrib/mixin/ under /usr/share/ringwatch/mixin" \
		"$(cd /usr/share/ringwatch/mixin 2>/dev/null && find . -type f | sort)" \
		"$(cd "$src/contrib/mixin" && find . -type f | sort)"
else
	t_diag "no contrib/mixin/ in this tree: no mixin to install"
	t_ok "no /usr/share/ringwatch without a mixin" test ! -e /usr/share/ringwatch
fi
t_is "ringwatchd --version: the package's version, with systemd notification" \
	"$(/usr/sbin/ringwatchd --version)" "ringwatchd $version (systemd)"
t_is "the ringwatch user, from the sysusers file" \
	"$(getent passwd ringwatch | cut -d: -f6,7)" "/var/lib/ringwatch:/usr/sbin/nologin"
t_ok "the ringwatch group" sh -c 'getent group ringwatch >/dev/null'
t_is "ringwatchd.service is not enabled" "$(systemctl is-enabled ringwatchd.service 2>&1)" disabled
t_ok "and not running" not pgrep -f '^/usr/sbin/ringwatchd( |$)'

# the template: the single unit but for its description, file and state directory
sed -e '/^#/d; /^$/d; /^Description=/d' \
	-e 's|/etc/ringwatch/%i\.conf|/etc/ringwatch/ringwatchd.conf|; s|^StateDirectory=ringwatch/%i$|StateDirectory=ringwatch|' \
	/lib/systemd/system/ringwatchd@.service >"$work/template"
sed -e '/^#/d; /^$/d; /^Description=/d' /lib/systemd/system/ringwatchd.service >"$work/single"
t_ok "ringwatchd@.service has ringwatchd.service's settings and hardening" \
	diff "$work/single" "$work/template" || diff "$work/single" "$work/template" | sed 's/^/#   /'
t_ok "ringwatchd@.service: /etc/ringwatch/%i.conf and StateDirectory=ringwatch/%i" \
	sh -c "grep -qx 'ExecStart=/usr/sbin/ringwatchd -c /etc/ringwatch/%i.conf' /lib/systemd/system/ringwatchd@.service &&
		grep -qx 'StateDirectory=ringwatch/%i' /lib/systemd/system/ringwatchd@.service"
# systemd-analyze verify, when it works on this machine (it needs no running
# systemd): a unit that cannot fail tells; under RW_REQUIRE_TOOLS=1 it must
printf '[Service]\nType=oneshot\nExecStart=%s\n' "$(command -v true)" >"$work/rw-deb-probe.service"
if command -v systemd-analyze >/dev/null 2>&1 &&
	systemd-analyze verify --man=no "$work/rw-deb-probe.service" >"$work/probe" 2>&1 && [ ! -s "$work/probe" ]; then
	systemd-analyze verify --man=no /lib/systemd/system/ringwatchd.service >"$work/verify" 2>&1
	rc1=$?
	systemd-analyze verify --man=no ringwatchd@billing.service >>"$work/verify" 2>&1
	rc2=$?
	t_ok "systemd-analyze verify: both units, installed" \
		sh -c "[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && ! grep -q ringwatchd '$work/verify'" ||
		{ t_diag "exit $rc1, $rc2"; sed 's/^/#   /' "$work/verify"; }
elif [ "${RW_REQUIRE_TOOLS:-0}" = 1 ]; then
	t_ok "systemd-analyze verify works here (RW_REQUIRE_TOOLS=1)" false
	t_diag "$(head -n 1 "$work/probe" 2>/dev/null || echo 'systemd-analyze not installed')"
else
	t_diag "systemd-analyze verify does not work here: $(head -n 1 "$work/probe" 2>/dev/null || echo 'not installed')"
fi

# ---- d. the installed configuration ---------------------------------------------
conf=/etc/ringwatch/ringwatchd.conf
secrets=$(sed -n 's/^password_file[[:space:]]*=[[:space:]]*\([^[:space:]]\)/\1/p' "$conf")
t_ok "the configuration names password files" test -n "$secrets"
out=$(/usr/sbin/ringwatchd --check-config -c "$conf" 2>&1)
rc=$?
first=$(printf '%s\n' "$secrets" | head -n 1)
t_ok "as shipped, --check-config fails (exit 2) naming $first" \
	sh -c '[ "$1" -eq 2 ] && printf "%s\n" "$2" | grep -qF "cannot read $3"' sh "$rc" "$out" "$first" ||
	t_diag "exit $rc: $out"
# as ringwatchd.service's comment says to: root:ringwatch, 0640
for s in $secrets; do
	echo "not-the-password" | install -o root -g ringwatch -m 0640 /dev/stdin "$s"
done
out=$(/usr/sbin/ringwatchd --check-config -c "$conf" 2>&1)
rc=$?
t_is "with its password files, ringwatchd --check-config -c $conf exits 0" "$rc" 0 || t_diag "$out"
t_is "and says" "$out" "$conf: configuration OK, 2 masters"
out=$(runuser -u ringwatch -- /usr/sbin/ringwatchd -c "$conf" --check-config 2>&1)
rc=$?
t_is "the unit's ExecStartPre, as the ringwatch user, exits 0" "$rc" 0 || t_diag "$out"

# ---- e. purge -----------------------------------------------------------------
# what an administrator and systemd's StateDirectory= add; purge takes the state
# shellcheck disable=SC2086 # one path a line, no spaces
rm -f $secrets
install -d -o ringwatch -g ringwatch -m 0750 /var/lib/ringwatch /var/lib/ringwatch/billing
echo x | install -o ringwatch -g ringwatch -m 0640 /dev/stdin /var/lib/ringwatch/billing/state.db
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=300 ringwatch \
	>"$work/purge.log" 2>&1
rc=$?
t_is "apt-get purge ringwatch exits 0" "$rc" 0 || sed 's/^/#   /' "$work/purge.log"
t_ok "ringwatch is gone, conffiles too" not present
# every file of the package, and its own folders (shared ones like /usr/bin stay)
left=
while read -r f; do
	if [ -d "$f" ]; then
		case $f in *ringwatch*) ;; *) continue ;; esac
	fi
	{ [ -e "$f" ] || [ -L "$f" ]; } && left="$left $f"
done <"$work/files"
t_is "nothing dpkg -L listed is left" "$left" ""
t_ok "no /etc/ringwatch" test ! -e /etc/ringwatch
t_ok "no /var/lib/ringwatch: purge removed the state" test ! -e /var/lib/ringwatch
t_done
