#!/usr/bin/env bash
#
# deps.sh — the one list of Debian packages that zetl's build, tests, demo and
# benchmarks need, behind `make deps` and `make check-deps`.
#
#   tests/lib/deps.sh install   install what is missing (as root), a no-op when all present
#   tests/lib/deps.sh check     list what is missing; exit 1 if anything is
#   tests/lib/deps.sh list      print the package list, one per line
#
# Not root: `install` prints the exact apt-get line to run with sudo and exits 1.
# Installing mariadb-server and postgresql normally starts their system services
# (ports 3306/5432); the test harness never uses those, and during our install a
# temporary policy-rc.d keeps them from being started at all.
set -euo pipefail

PACKAGES=(
    # build
    build-essential pkg-config
    libmariadb-dev libpq-dev libsqlite3-dev libyaml-dev libcurl4-openssl-dev
    libncurses-dev libzstd-dev zlib1g-dev libssl-dev
    # servers and clients for tests/lib/harness.sh, the demo and benchmarks
    mariadb-server mariadb-client postgresql postgresql-client
    # console tests, the SQLite log, fuzzing (clang + libFuzzer), memory checks
    tmux sqlite3 clang libclang-rt-14-dev valgrind
    # the harness and runner: pgrep/ps, ss, setsid/setpriv/runuser, timeout/mktemp/od
    procps iproute2 util-linux coreutils
    # tests read JSON (zetl status --json) with jq
    jq
    # packaging checks: man pages rendered (man, col, groff), the units verified
    # (systemd-analyze), the .deb built (dpkg-dev) and tried on fresh roots (debootstrap,
    # booted with systemd-nspawn)
    man-db groff-base bsdextrautils systemd dpkg-dev debootstrap systemd-container
    # benchmarks: the peers zetl is compared with, and the load generator
    pgloader pgcopydb sysbench
)

installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do installed "$p" || echo "$p"; done
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

lists_empty() {
    ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

# While installing, keep the packages' system services from starting (they would
# hold 3306/5432 and run as daemons nobody asked for). An existing policy-rc.d is
# left alone: it already decides.
POLICY=/usr/sbin/policy-rc.d
policy_installed=0
policy_on() {
    if [[ ! -e $POLICY ]]; then
        printf '#!/bin/sh\n# temporary, from zetl tests/lib/deps.sh\nexit 101\n' >"$POLICY"
        chmod 0755 "$POLICY"
        policy_installed=1
    fi
}
policy_off() {
    if ((policy_installed)); then rm -f "$POLICY"; policy_installed=0; fi
}

cmd_install() {
    local -a missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)); then
        echo "deps: all ${#PACKAGES[@]} packages present"
        return 0
    fi
    echo "deps: missing ${#missing[@]} of ${#PACKAGES[@]}: ${missing[*]}"
    if [[ $EUID -ne 0 ]]; then
        echo "deps: not root; run:"
        echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
        return 1
    fi
    trap policy_off EXIT
    policy_on
    local updated=0
    if lists_empty; then
        echo "deps: apt-get update (no package lists yet)"
        apt-get update
        updated=1
    fi
    if ! apt_install "${missing[@]}"; then
        if ((updated)); then
            echo "deps: apt-get install failed" >&2
            return 1
        fi
        echo "deps: install failed with the current package lists; apt-get update and retry"
        apt-get update
        apt_install "${missing[@]}"
    fi
    policy_off
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]})); then
        echo "deps: still missing after install: ${missing[*]}" >&2
        return 1
    fi
    echo "deps: all ${#PACKAGES[@]} packages present"
}

cmd_check() {
    local -a missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)); then
        echo "deps: all ${#PACKAGES[@]} packages present"
        return 0
    fi
    echo "deps: missing ${#missing[@]} of ${#PACKAGES[@]}:"
    printf '  %s\n' "${missing[@]}"
    echo "deps: run 'make deps' (as root) to install them"
    return 1
}

case ${1:-} in
install) cmd_install ;;
check)   cmd_check ;;
list)    printf '%s\n' "${PACKAGES[@]}" ;;
*)       echo "usage: $0 install|check|list" >&2; exit 2 ;;
esac
