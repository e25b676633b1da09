#!/usr/bin/env bash
#
# mkdeb.sh — build zetl's Debian package with Debian's own tools, behind `make deb`.
#
#   config/dist/mkdeb.sh --version V --out DIR [--bin FILE]
#
# Stages `make install PREFIX=/usr DESTDIR=STAGE` (the binary FILE, default ./zetl),
# compresses the man pages as Debian policy asks, adds the copyright file and the
# maintainer scripts, asks dpkg-shlibdeps which packages provide the libraries the
# binary links (so Depends is what the binary really needs, at the versions it was
# built against), writes DEBIAN/control and builds DIR/zetl_V-1_ARCH.deb with
# dpkg-deb --root-owner-group. Prints the package's path on stdout.
#
# The package does not start anything: zetl needs a config first. Its postinst makes
# the system user zetl (systemd-sysusers, else adduser) and /etc/zetl (root:zetl,
# 0750); prerm stops the units on removal; purge removes /var/lib/zetl.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
version= out= bin=$top/zetl
while (($#)); do
    case $1 in
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "mkdeb.sh: unknown argument '$1' (use --version V --out DIR [--bin FILE])" >&2; exit 2 ;;
    esac
done
[[ -n $version && -n $out ]] || { echo "mkdeb.sh: --version and --out are required" >&2; exit 2; }
for t in dpkg-deb dpkg-shlibdeps dpkg-architecture gzip; do
    command -v "$t" >/dev/null || { echo "mkdeb.sh: $t not found (run: make deps; it is in dpkg-dev)" >&2; exit 1; }
done

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
pkgver=$version-1
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.stage.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

make -s -C "$top" install PREFIX=/usr DESTDIR="$root" INSTALL_BIN="$bin" >&2
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/zetl" 2>/dev/null || true
gzip -9n "$root/usr/share/man/man1/zetl.1" "$root/usr/share/man/man5/zetl.yaml.5"

doc=$root/usr/share/doc/zetl
cat >"$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: zetl

Files: *
Copyright: the zetl authors
License: none-declared
 The project has not declared a license yet. Until it does, this package is
 for evaluation and internal use by those who received it from the authors.
EOF
printf 'zetl (%s) unstable; urgency=medium\n\n  * Built from the source tree (make deb).\n\n -- zetl maintainers <maintainers@users.noreply.h-seed-dc34bd81.example>  %s\n' \
    "$pkgver" "$(date -R -u)" | gzip -9n >"$doc/changelog.Debian.gz"
chmod 0644 "$doc/copyright" "$doc/changelog.Debian.gz"

# Depends from the libraries the binary links. dpkg-shlibdeps reads debian/control
# (for the package's name) from its working directory: a two-stanza stub does.
mkdir -p "$work/src/debian"
printf 'Source: zetl\n\nPackage: zetl\nArchitecture: any\n' >"$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/zetl" 2>"$work/shlibdeps.err") ||
    { cat "$work/shlibdeps.err" >&2; exit 1; }
depends=${shlibs#shlibs:Depends=}
[[ -n $depends && $depends != "$shlibs" ]] || { echo "mkdeb.sh: dpkg-shlibdeps gave no Depends: $shlibs" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<EOF
Package: zetl
Version: $pkgver
Architecture: $arch
Maintainer: zetl maintainers <maintainers@users.noreply.h-seed-dc34bd81.example>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Recommends: mariadb-server, mariadb-client, postgresql, postgresql-client, procps, iproute2, util-linux
Suggests: bash-completion
Section: database
Priority: optional
Description: zero-ETL replication from MySQL/MariaDB or PostgreSQL into a warehouse
 zetl snapshots the selected tables of a MySQL/MariaDB (binlog, row format) or
 PostgreSQL (logical replication, pgoutput) source into a PostgreSQL-protocol
 warehouse (PostgreSQL, or Amazon Redshift through its dialect), then streams
 every committed change in commit order. It resumes from the target's
 checkpoint after any crash, with no change lost or applied twice.
 .
 An ncurses console shows per-table sync state, change activity and lag;
 zetl run is the headless runtime for systemd (zetl.service, zetl@.service).
 zetl demo runs it against local MariaDB and PostgreSQL servers, which the
 recommended packages provide.
EOF

cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if ! getent passwd zetl >/dev/null; then
        if command -v systemd-sysusers >/dev/null 2>&1; then
            systemd-sysusers /usr/lib/sysusers.d/zetl.conf
        else
            adduser --system --group --home /var/lib/zetl --no-create-home \
                --gecos "zetl replication" zetl >/dev/null
        fi
    fi
    if [ ! -d /etc/zetl ]; then
        install -d -m 0750 -o root -g zetl /etc/zetl
    fi
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
    fi
fi
exit 0
EOF
cat >"$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
# Removal: stop the runs (SIGTERM: each checkpoints first; the next run resumes).
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop zetl.service 'zetl@*.service' >/dev/null 2>&1 || true
fi
exit 0
EOF
cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
fi
# Purge: zetl's local state goes (the SQLite log, locks, spools). The target's
# checkpoint and the config in /etc/zetl are the operator's and stay.
if [ "$1" = purge ]; then
    rm -rf /var/lib/zetl
fi
exit 0
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

deb=$out/zetl_${pkgver}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
echo "$deb"
