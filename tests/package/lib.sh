# shellcheck shell=bash
#
# lib.sh — what the package tests share (tests/package/test_*.sh, `make deb-check`):
# a fresh Debian 12 root made by debootstrap, in a mount namespace of the test's own,
# with the package installed in it by apt-get. Source after tests/lib/assert.sh, with
# T set; every function reports its failure as a FAIL line and ends the test.
#
#   pkg_enter_namespace "$0" "$@"   re-exec the test in a private mount namespace (first line)
#   pkg_deb [DEB]                   DEB, else the newest build/deb/zetl_*.deb, into PKG_DEB
#   pkg_root DIR [PACKAGE,...]      debootstrap bookworm (minbase, plus the packages) into DIR
#   pkg_install DIR [APT-OPTION...] apt-get install the package inside DIR (services kept
#                                   from starting there by a policy-rc.d)
#
# ZETL_DEB_MIRROR picks the archive (default http://deb.debian.org/debian).

pkg_enter_namespace() {
    ((EUID == 0)) || { t_fail "$T" "run as root" "root (debootstrap and chroot need it)" "uid $EUID"; t_done; }
    local c
    for c in debootstrap chroot unshare; do
        command -v "$c" >/dev/null || { t_fail "$T" "$c is installed" "$c (run: make deps)" "missing"; t_done; }
    done
    # The root's mounts can never reach (or stay behind on) the machine's own: they
    # live in this namespace and vanish with it.
    if [[ -z ${ZETL_PKG_NS:-} ]]; then
        ZETL_PKG_NS=1 exec unshare --mount --propagation private bash "$@"
        t_fail "$T" "a mount namespace (unshare --mount)" "one" "unshare failed"; t_done
    fi
}

pkg_deb() {
    PKG_DEB=${1:-$(ls -t build/deb/zetl_*.deb 2>/dev/null | head -n1)}
    [[ -f $PKG_DEB ]] || { t_fail "$T" "a package to test" "build/deb/zetl_*.deb (run: make deb)" "none"; t_done; }
    PKG_VERSION=$(dpkg-deb -f "$PKG_DEB" Version)
}

pkg_root() {
    local r=$1 include=${2:+--include=$2} mirror=${ZETL_DEB_MIRROR:-http://deb.debian.org/debian}
    echo "debootstrap bookworm into $r ($mirror${2:+, with $2})"
    if ! debootstrap --variant=minbase $include bookworm "$r" "$mirror" >"$r.debootstrap.log" 2>&1; then
        t_fail "$T" "debootstrap a bookworm root" "success" "$(tail -5 "$r.debootstrap.log")"
        t_done
    fi
    t_pass "$T" "a fresh Debian 12 root made by debootstrap${2:+ (with $2)}"
    cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null
    printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d" && chmod 0755 "$r/usr/sbin/policy-rc.d"
}

# pkg_in_root DIR CMD...: CMD inside DIR with a clean environment.
pkg_in_root() {
    local r=$1; shift
    chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
}

pkg_install() {
    local r=$1; shift
    cp "$PKG_DEB" "$r/tmp/" || { t_fail "$T" "copy the package into the root" "copied" "failed"; t_done; }
    if ! pkg_in_root "$r" apt-get update -q >"$r.apt.log" 2>&1; then
        t_fail "$T" "apt-get update in the root" "success" "$(tail -5 "$r.apt.log")"; t_done
    fi
    if pkg_in_root "$r" apt-get install -y -q "$@" "/tmp/$(basename "$PKG_DEB")" >>"$r.apt.log" 2>&1; then
        t_pass "$T" "apt-get install ./$(basename "$PKG_DEB") $* resolves its Depends and installs"
    else
        t_fail "$T" "apt-get install the package" "success" "$(tail -8 "$r.apt.log")"; t_done
    fi
}
