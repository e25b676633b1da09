#!/usr/bin/env bash
# test_deb_chroot.sh — zetl's .deb on a fresh Debian 12, from the installed files alone
# (`make deb-check`; not part of `make test`: it needs the network and about 5 minutes).
#
#   tests/package/test_deb_chroot.sh [DEB]     (default: the newest build/deb/zetl_*.deb)
#
# As root: debootstrap makes a minimal bookworm root in a temporary directory, where
#  1. `apt-get install ./zetl_*.deb` resolves the package's Depends (and installs its
#     Recommends, the demo's servers) from Debian's archive;
#  2. the postinst made the system user zetl and /etc/zetl (root:zetl, 0750);
#  3. `zetl --version` prints the package's version; `man zetl` and `man 5 zetl.yaml`
#     render; the bash completion file is in place;
#  4. `zetl demo --headless --seconds 30` starts its own MariaDB and PostgreSQL, replicates,
#     verifies every table and exits 0 — with no source tree in reach (the checkout is
#     outside the root), so the binary found its harness under /usr/share/zetl;
#  5. a newer package installs over it (apt-get), keeping /etc/zetl's config and the user;
#  6. `apt-get purge zetl` removes every file the package installed, and /var/lib/zetl.
# The root and its mounts are removed on exit, on failure too. ZETL_DEB_MIRROR picks the
# archive (default http://deb.debian.org/debian); tests/package/lib.sh makes the root.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
T=test_deb_chroot

. tests/package/lib.sh
pkg_enter_namespace "$0" "$@"
pkg_deb "${1:-}"
VERSION=$PKG_VERSION

W=$(mktemp -d /var/tmp/zetl-deb-check.XXXXXX)
R=$W/root
cleanup() {
    local m pid
    # Servers a failed demo left run inside the root: stop them by their root.
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [[ $(readlink "/proc/$pid/root" 2>/dev/null) == "$R" ]] && kill -9 "$pid" 2>/dev/null
    done
    for m in dev/shm dev/pts dev proc sys; do mountpoint -q "$R/$m" && umount -l "$R/$m"; done
    rm -rf "$W"
}
trap cleanup EXIT
in_root() { pkg_in_root "$R" "$@"; }

mkdir -p "$R"
pkg_root "$R" man-db
mount -t proc proc "$R/proc" && mount -t sysfs sys "$R/sys" && mount --bind /dev "$R/dev" &&
    mount --bind /dev/pts "$R/dev/pts" && mount -t tmpfs -o mode=1777 shm "$R/dev/shm" ||
    { t_fail $T "mount proc, sys, dev, dev/shm" "mounted" "failed"; t_done; }

# 1. Install, by apt, on a root with man-db as any standard system has.
pkg_install "$R"
t_eq $T "dpkg records zetl $VERSION installed" "install ok installed $VERSION" \
    "$(in_root dpkg-query -W -f='${Status} ${Version}' zetl 2>&1)"
for p in mariadb-server postgresql; do
    t_eq $T "its Recommends brought $p (the demo's servers)" "install ok installed" \
        "$(in_root dpkg-query -W -f='${Status}' $p 2>&1)"
done

# 2. The postinst.
t_match $T "the system user zetl exists, home /var/lib/zetl" '^zetl:x:[0-9]+:[0-9]+:.*:/var/lib/zetl:' \
    "$(in_root getent passwd zetl)"
t_eq $T "/etc/zetl is root:zetl 0750" "root zetl 750" "$(in_root stat -c '%U %G %a' /etc/zetl 2>&1)"

# 3. The command, its pages, the completion.
t_eq $T "zetl --version" "zetl ${VERSION%-*}" "$(in_root zetl --version 2>&1)"
page=$(in_root env MANPAGER=cat MANWIDTH=80 man zetl 2>&1)
t_match $T "man zetl renders the page" 'zetl demo' "$page"
page5=$(in_root env MANPAGER=cat MANWIDTH=80 man 5 zetl.yaml 2>&1)
t_match $T "man 5 zetl.yaml renders the page" 'state_dir' "$page5"
t_ok $T "bash completion installed" test -s "$R/usr/share/bash-completion/completions/zetl"
t_ok $T "no source tree in the root" test ! -e "$R$PWD"

# 4. The demo, from the installed files alone.
if in_root timeout 300 zetl demo --headless --seconds 30 >"$W/demo.log" 2>&1; then
    t_pass $T "zetl demo --headless --seconds 30 exits 0"
else
    t_fail $T "zetl demo --headless --seconds 30" "exit 0" "exit $?: $(tail -8 "$W/demo.log")"
fi
t_match $T "the demo verified every table" 'zetl demo: OK: every table synced and identical' "$(tail -20 "$W/demo.log")"

# 5. Upgrade: a newer build of the package over this one, an operator's config in /etc/zetl.
printf 'integrations: []\n' >"$R/etc/zetl/zetl.yaml"
uid=$(in_root id -u zetl)
next=$(config/dist/mkdeb.sh --version "${VERSION%-*}.1" --out "$W/next" --bin "${ZETL_BIN:-$PWD/zetl}" 2>"$W/next.log")
cp "$next" "$R/tmp/" 2>/dev/null
if in_root apt-get install -y -q "/tmp/$(basename "$next")" >"$W/upgrade.log" 2>&1; then
    t_pass $T "apt-get install of a newer package upgrades it"
else
    t_fail $T "upgrade to a newer package" "success" "$(tail -5 "$W/upgrade.log"; tail -3 "$W/next.log")"
fi
t_eq $T "dpkg records the newer version" "install ok installed ${VERSION%-*}.1-1" \
    "$(in_root dpkg-query -W -f='${Status} ${Version}' zetl 2>&1)"
t_eq $T "the upgrade kept the operator's config and the user" "integrations: [] $uid" \
    "$(cat "$R/etc/zetl/zetl.yaml" 2>&1) $(in_root id -u zetl 2>&1)"

# 6. Purge.
files=$(in_root dpkg-query -L zetl | while read -r f; do [[ -f $R$f ]] && echo "$f"; done)
in_root mkdir -p /var/lib/zetl
if in_root apt-get purge -y -q zetl >"$W/purge.log" 2>&1; then t_pass $T "apt-get purge zetl"
else t_fail $T "apt-get purge zetl" "success" "$(tail -5 "$W/purge.log")"; fi
left=$(for f in $files; do [[ -e $R$f ]] && echo "$f"; done)
t_eq $T "every file of the package is gone ($(wc -w <<<"$files") files)" "" "$left"
t_ok $T "purge removed /var/lib/zetl" test ! -e "$R/var/lib/zetl"
t_done
