#!/usr/bin/env bash
# test_install.sh — `make install`, `make uninstall`, the systemd units and `make deb`,
# without database servers (the installed demo runs in tests/integration/test_demo.sh,
# the package on a fresh Debian root in tests/package/test_deb_chroot.sh):
#  1. `make install PREFIX=/usr DESTDIR=D` puts every file where the README says, with
#     its mode; the units name PREFIX/bin/zetl; nothing else is written;
#  2. the installed binary, copied away from this tree, finds its demo script under
#     ../share/zetl (a missing one is named with the fix), and a state directory
#     from systemd's $STATE_DIRECTORY;
#  3. `make uninstall` with the same PREFIX and DESTDIR leaves no file behind;
#  4. `systemd-analyze verify` passes on both units installed under a real PREFIX
#     (ExecStart and the man pages of Documentation= must exist), with no warning, and
#     `systemd-analyze security` rates them at most 3.0 ("OK"); a unit with a bad
#     setting is caught;
#  5. `make deb` (config/dist/mkdeb.sh): the package holds the installed files (man
#     pages compressed), a copyright file, maintainer scripts that parse; Depends names
#     the package of every library the binary links (from its ELF NEEDED entries).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
T=test_install
ZETL=${ZETL_BIN:-$PWD/zetl}
W=$(mktemp -d /tmp/zetl-install-test.XXXXXX)
trap 'rm -rf "$W"' EXIT

# ---- 1. make install into a DESTDIR
D=$W/dest
if make -s install PREFIX=/usr DESTDIR="$D" INSTALL_BIN="$ZETL" >"$W/install.log" 2>&1; then
    t_pass $T "make install PREFIX=/usr DESTDIR=…"
else
    t_fail $T "make install" "exit 0" "$(tail -5 "$W/install.log")"
fi
expect="755 usr/bin/zetl
644 usr/lib/systemd/system/zetl.service
644 usr/lib/systemd/system/zetl@.service
644 usr/lib/sysusers.d/zetl.conf
644 usr/share/bash-completion/completions/zetl
644 usr/share/doc/zetl/examples/zetl.yaml
644 usr/share/man/man1/zetl.1
644 usr/share/man/man5/zetl.yaml.5
644 usr/share/zetl/harness.sh"
t_eq $T "exactly these files, with these modes" "$expect" \
    "$(cd "$D" && find . -type f -printf '%m %P\n' | sort -k2)"
t_ok $T "the installed binary is the one built" cmp -s "$ZETL" "$D/usr/bin/zetl"
t_eq $T "zetl.service runs /usr/bin/zetl on /etc/zetl/zetl.yaml" \
    "ExecStart=/usr/bin/zetl run -c /etc/zetl/zetl.yaml" "$(grep '^ExecStart=' "$D/usr/lib/systemd/system/zetl.service")"
t_eq $T "zetl@.service runs one config per instance" \
    "ExecStart=/usr/bin/zetl run -c /etc/zetl/%i.yaml" "$(grep '^ExecStart=' "$D/usr/lib/systemd/system/zetl@.service")"
t_eq $T "no @BINDIR@ left in the units" "0" "$(cat "$D"/usr/lib/systemd/system/* | grep -c '@BINDIR@')"
t_ok $T "the example config is the tree's" cmp -s config/example.yaml "$D/usr/share/doc/zetl/examples/zetl.yaml"

# ---- 2. the installed binary, away from the tree
A=$W/away
mkdir -p "$A" && cp -a "$D/usr" "$A/"
# It finds the harness and starts it; with only bash on its PATH the harness stops at
# once, at its check for the server programs (the servers themselves are
# tests/integration/test_demo.sh's business).
mkdir -p "$W/onlybash" && ln -s "$(command -v bash)" "$W/onlybash/bash"
out=$(cd / && timeout 60 env -u ZETL_HARNESS TMPDIR=$W PATH=$W/onlybash "$A/usr/bin/zetl" demo --headless \
      --seconds 1 2>&1 </dev/null)
t_match $T "a copy away from the tree starts the harness under ../share/zetl" \
    "starting MariaDB.* \($A/usr/bin/../share/zetl/harness.sh\)" "$out"
t_match $T "... which ran: its own check for the servers answered" "mariadb-install-db not found" "$out"
rm -f "$A/usr/share/zetl/harness.sh"
out=$(cd / && env -u ZETL_HARNESS TMPDIR=$W "$A/usr/bin/zetl" demo --headless --seconds 1 2>&1 </dev/null)
t_match $T "a missing harness is named, with the fix" \
    "neither at $A/usr/bin/tests/lib/harness.sh .* nor at $A/usr/bin/../share/zetl/harness.sh .*reinstall zetl" "$out"
cat >"$W/sd.yaml" <<'EOF'
integrations:
  - name: sd
    source: {kind: postgres, host: 127.0.0.1, user: u, database: d}
    target: {kind: postgres, dsn: "host=127.0.0.1"}
    tables: {include: ["public.%"]}
EOF
mkdir -p "$W/state-a"
out=$(STATE_DIRECTORY=$W/state-a:$W/state-b XDG_STATE_HOME=$W/xdg "$ZETL" status -c "$W/sd.yaml" 2>&1)
t_match $T "with no state_dir, systemd's \$STATE_DIRECTORY (its first entry) is the state directory" \
    "no state log at $W/state-a/zetl.db" "$out"
out=$(env -u STATE_DIRECTORY XDG_STATE_HOME=$W/xdg "$ZETL" status -c "$W/sd.yaml" 2>&1)
t_match $T "without it, \$XDG_STATE_HOME/zetl as before" "no state log at $W/xdg/zetl/zetl.db" "$out"

# ---- 3. make uninstall
if make -s uninstall PREFIX=/usr DESTDIR="$D" >"$W/uninstall.log" 2>&1; then
    t_pass $T "make uninstall"
else
    t_fail $T "make uninstall" "exit 0" "$(tail -5 "$W/uninstall.log")"
fi
t_eq $T "no file left after uninstall" "" "$(find "$D" -type f)"

# ---- 4. systemd-analyze on the units, installed under a real prefix
P=$W/prefix
make -s install PREFIX="$P" INSTALL_BIN="$ZETL" >"$W/install2.log" 2>&1 ||
    t_fail $T "make install PREFIX=$P" "exit 0" "$(tail -5 "$W/install2.log")"
t_eq $T "PREFIX reaches ExecStart" "ExecStart=$P/bin/zetl run -c /etc/zetl/zetl.yaml" \
    "$(grep '^ExecStart=' "$P/lib/systemd/system/zetl.service")"
if command -v systemd-analyze >/dev/null; then
    U=$P/lib/systemd/system
    for u in zetl.service zetl@.service zetl@tickit.service; do
        f=$U/$u; [[ $u == zetl@tickit.service ]] && { cp "$U/zetl@.service" "$W/zetl@tickit.service"; f=$W/$u; }
        out=$(cd "$W" && MANPATH=$P/share/man systemd-analyze verify "$f" 2>&1); rc=$?
        t_eq $T "systemd-analyze verify $u: exit 0, no warning" "0 " "$rc $out"
        sec=$(systemd-analyze security --offline=yes "$f" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        t_ok $T "systemd-analyze security rates $u at most 3.0 (saw ${sec:-nothing})" \
            awk -v s="${sec:-99}" 'BEGIN { exit !(s + 0 <= 3.0) }'
    done
    sed 's/^KillSignal=SIGTERM/KillSignal=SIGBOGUS/' "$U/zetl.service" >"$W/zetl-bad.service"
    out=$(cd "$W" && MANPATH=$P/share/man systemd-analyze verify "$W/zetl-bad.service" 2>&1)
    t_match $T "the check catches a bad setting" "SIGBOGUS" "$out"
    mv "$P/bin/zetl" "$P/bin/zetl.moved"
    out=$(cd "$W" && MANPATH=$P/share/man systemd-analyze verify "$U/zetl.service" 2>&1); rc=$?
    t_match $T "the check catches a missing ExecStart binary" "1 .*$P/bin/zetl" "$rc $out"
else
    t_fail $T "systemd-analyze is installed" "systemd-analyze (package systemd; run: make deps)" "missing"
fi

# ---- 5. make deb
if command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null; then
    deb=$(config/dist/mkdeb.sh --version 0.0.0-test --out "$W/deb" --bin "$ZETL" 2>"$W/deb.log")
    if [[ -f $deb ]]; then t_pass $T "mkdeb.sh builds a package ($(basename "$deb"))"
    else t_fail $T "mkdeb.sh builds a package" "a .deb" "$(tail -5 "$W/deb.log")"; fi
    contents=$(dpkg-deb -c "$deb" 2>&1 | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort)
    want="usr/bin/zetl
usr/lib/systemd/system/zetl.service
usr/lib/systemd/system/zetl@.service
usr/lib/sysusers.d/zetl.conf
usr/share/bash-completion/completions/zetl
usr/share/doc/zetl/changelog.Debian.gz
usr/share/doc/zetl/copyright
usr/share/doc/zetl/examples/zetl.yaml
usr/share/man/man1/zetl.1.gz
usr/share/man/man5/zetl.yaml.5.gz
usr/share/zetl/harness.sh"
    t_eq $T "the package holds the installed files, man pages compressed" "$want" "$contents"
    t_eq $T "files owned by root" "" "$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')"
    t_eq $T "its version" "0.0.0-test-1" "$(dpkg-deb -f "$deb" Version)"
    dep=$(dpkg-deb -f "$deb" Depends)
    # The package of every library in the binary's NEEDED entries, as this system resolves
    # it (one dpkg -S for them all: each call reads dpkg's whole file database).
    # dpkg knows a library by the path its package shipped: the one ldconfig names, or
    # (merged /usr) the file it resolves to; both are asked.
    missing= paths=()
    for lib in $(objdump -p "$ZETL" | awk '$1 == "NEEDED" { print $2 }'); do
        path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
        paths+=("$path" "$(readlink -f "$path")")
    done
    owners=$(dpkg -S "${paths[@]}" 2>/dev/null)
    for ((i = 0; i < ${#paths[@]}; i += 2)); do
        pkg=$(awk -v a="${paths[i]}" -v b="${paths[i + 1]}" '$NF == a || $NF == b { sub(/:.*/, "", $1); print $1; exit }' <<<"$owners")
        [[ -n $pkg ]] || { missing+=" ${paths[i]}(no package)"; continue; }
        [[ $dep =~ (^|, )$pkg( |,|$) ]] || missing+=" ${paths[i]}($pkg)"
    done
    t_eq $T "Depends names the package of every linked library" "" "$missing"
    t_match $T "Depends has versions from the build (shlibs)" 'libc6 \(>= [0-9.]+\)' "$dep"
    t_match $T "Recommends the demo's servers" 'mariadb-server.*postgresql' "$(dpkg-deb -f "$deb" Recommends)"
    mkdir -p "$W/ctl" && dpkg-deb -e "$deb" "$W/ctl"
    for s in postinst prerm postrm; do
        t_ok $T "$s is executable and parses (sh -n)" sh -c 'test -x "$1" && sh -n "$1"' sh "$W/ctl/$s"
    done
    t_match $T "postinst makes the user zetl from the sysusers.d entry" 'systemd-sysusers /usr/lib/sysusers.d/zetl.conf' \
        "$(cat "$W/ctl/postinst")"
else
    t_fail $T "dpkg-deb and dpkg-shlibdeps are installed" "dpkg-dev (run: make deps)" "missing"
fi
t_done
