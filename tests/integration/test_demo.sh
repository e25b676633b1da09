#!/usr/bin/env bash
# test_demo.sh — `zetl demo` end to end, as a first-time user runs it:
#  1. `zetl demo --headless --seconds 30`, as installed by `make install` into a
#     fresh DESTDIR, run with this source tree out of its reach (hidden under an
#     empty tmpfs in a mount namespace of its own when we may; ZETL_HARNESS
#     unset), so it finds its harness under ../share/zetl: it starts servers of
#     its own (not the test run's, which keep running), loads the samples, runs
#     the workload (with its 50,000-row burst and ADD COLUMN), exits 0 with a
#     summary saying every table synced, inserts, updates and deletes applied
#     and verify matched — and leaves no directory and no server process behind.
#  2. SIGTERM while it replicates: the config was 0600 without a password,
#     the demo exits 143, and the directory and its servers are gone.
#  3. SIGTERM while its servers are still starting: the same clean-up.
set -uo pipefail
cd "$(dirname "$0")/../.."
# The demo finds the harness beside its binary; a binary run from elsewhere
# (ZETL_BIN=/some/copy) is told where this tree's harness is.
export ZETL_HARNESS=${ZETL_HARNESS:-$PWD/tests/lib/harness.sh}
. tests/lib/harness.sh
. tests/lib/assert.sh
T=test_demo
ZETL=${ZETL_BIN:-$PWD/zetl}

# The test run's servers (reused under tests/run.sh): the demo must not touch them.
harness_start || { t_fail $T "harness" "servers up" "start failed"; t_done; }
WORK=$(mktemp -d /tmp/zetl-demo-test.XXXXXX)
mkdir -p "$WORK/tmp"
chmod 755 "$WORK" "$WORK/tmp"           # as root the servers run as mysql/postgres
demo_pid=
cleanup() {
    if [[ -n $demo_pid ]]; then kill -TERM "$demo_pid" 2>/dev/null; stop_demo; fi
    # A demo that failed to clean up: stop its servers by their pid files.
    local d
    for d in "$WORK"/tmp/zetl-demo.*/zh.*; do [[ -d $d ]] && _zh_teardown_dir "$d"; done
    rm -rf "$WORK"
}
trap 'cleanup; harness_stop' EXIT

# The demo's own directory, from its first line.
demo_dir_of() { sed -n 's/^zetl demo: working in \([^ ]*\) .*/\1/p' "$1" | head -n1; }

# Checks that nothing of the demo in directory $2 is left (test name suffix $1).
check_gone() {
    local what=$1 dir=$2 procs
    if [[ -z $dir ]]; then t_fail $T "$what: demo directory named in the output" "a path" "none"; return; fi
    if [[ -e $dir ]]; then t_fail $T "$what: demo directory removed" "no $dir" "$(ls -la "$dir" 2>&1)"
    else t_pass $T "$what: demo directory removed"; fi
    procs=$(pgrep -af -- "$dir" || true)
    t_eq $T "$what: no server process of the demo left" "" "$procs"
    t_eq $T "$what: nothing left in TMPDIR" "" "$(ls -A "$WORK/tmp")"
}

# wait_out FILE REGEX SECS: until FILE matches, or the demo ($demo_pid) exits, or SECS pass.
wait_out() {
    local end=$((SECONDS + $3))
    while ((SECONDS < end)); do
        grep -qE -- "$2" "$1" && return 0
        kill -0 "$demo_pid" 2>/dev/null || break
        sleep 0.2
    done
    grep -qE -- "$2" "$1"
}

# stop_demo: after SIGTERM, wait (up to 120 s) for the demo; rc is its exit status.
stop_demo() {
    local end=$((SECONDS + 120))
    while kill -0 "$demo_pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
    if kill -0 "$demo_pid" 2>/dev/null; then
        rc="still running 120 s after SIGTERM"
        kill -9 "$demo_pid" 2>/dev/null
        wait "$demo_pid" 2>/dev/null
    else
        rc=0; wait "$demo_pid" || rc=$?
    fi
    demo_pid=
}

run_servers_alive() {
    mariadb-admin --no-defaults -S "$ZH_MY_SOCKET" -uroot --connect-timeout=5 ping >/dev/null 2>&1 &&
    "$ZH_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$ZH_PGSRC_PORT" -t 5 &&
    "$ZH_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$ZH_PGTGT_PORT" -t 5
}

# ---- 1. the headless demo, start to finish, from the installed files alone
out=$WORK/demo1.out
rc=0
INST=$WORK/inst
mkdir -p "$INST" && chmod 755 "$INST"
make -s install PREFIX=/usr DESTDIR="$INST" INSTALL_BIN="$ZETL" >"$WORK/install.log" 2>&1 ||
    t_fail $T "make install into a DESTDIR" "exit 0" "$(tail -5 "$WORK/install.log")"
# Hide this tree: an empty tmpfs over it, in a mount namespace of the demo's own.
hide=()
if unshare --mount --propagation private true 2>/dev/null; then
    hide=(unshare --mount --propagation private sh -c 'mount -t tmpfs -o size=1m,mode=0755 none "$0" && exec "$@"' "$PWD")
    t_eq $T "the source tree is out of the installed demo's reach" "" \
        "$("${hide[@]}" sh -c 'ls -A "$0"' "$PWD" 2>&1)"
fi
(cd / && TMPDIR=$WORK/tmp exec env -u ZETL_HARNESS timeout --kill-after=10 200 \
    "${hide[@]}" "$INST/usr/bin/zetl" demo --headless --seconds 30) >"$out" 2>&1 || rc=$?
t_eq $T "headless demo exits 0" "0" "$rc"
[[ $rc == 0 ]] || { echo "--- demo output"; tail -n 60 "$out"; echo "---"; }
dir=$(demo_dir_of "$out")
t_match $T "demo directory is under TMPDIR" "^$WORK/tmp/zetl-demo\.[A-Za-z0-9]+$" "$dir"
ports=$(sed -n 's/^zetl demo: servers up in .*MariaDB 127.0.0.1:\([0-9]*\), PostgreSQL source :\([0-9]*\), warehouse :\([0-9]*\)$/\1 \2 \3/p' "$out")
t_match $T "its own three servers started" "^[0-9]+ [0-9]+ [0-9]+$" "$ports"
read -r my src tgt <<<"$ports"
t_ok $T "not the test run's servers (other ports)" \
    test "${my:-x}" != "$ZH_MY_PORT" -a "${src:-x}" != "$ZH_PGSRC_PORT" -a "${tgt:-x}" != "$ZH_PGTGT_PORT"
t_match $T "200,000 sales loaded" "tickit\.sales +200000 rows" "$(grep 'tickit.sales' "$out")"
t_match $T "shop loaded" "shop\.order_items +6000 rows" "$(grep 'shop.order_items' "$out")"
t_match $T "status lines while it runs" "^  \[ +[0-9]+ s\] .*tickit: [a-z_]+, [0-9]+/7 synced" "$(grep -m1 '\[ *[0-9]* s\]' "$out")"
t_eq $T "every table synced (7 tickit + 4 shop)" "  tables synced     11/11" "$(grep '^  tables synced' "$out")"
applied=$(sed -n 's/^  changes applied   inserts \([0-9]*\), updates \([0-9]*\), deletes \([0-9]*\)$/\1 \2 \3/p' "$out")
read -r ins upd del <<<"$applied"
t_ok $T "inserts applied, more than the 50,000-row burst (saw ${ins:-none})" test "${ins:-0}" -gt 50000
t_ok $T "updates applied (saw ${upd:-none})" test "${upd:-0}" -gt 0
t_ok $T "deletes applied (saw ${del:-none})" test "${del:-0}" -gt 0
made=$(grep '^  workload made' "$out")
t_match $T "the workload made one burst of 50000 rows" "1 burst of 50000 rows" "$made"
t_match $T "the workload ran ADD COLUMN" "ADD COLUMN tickit\.sales\.channel at [0-9]+ s" "$made"
t_match $T "the workload had no errors" "workload errors 0$" "$made"
t_match $T "lag p50/p99 from the lag samples" "^  lag +p50 [0-9]+ ms, p99 [0-9]+ ms \([0-9]+ samples" "$(grep '^  lag ' "$out")"
t_eq $T "verify matched every table" "  verify            11/11 tables match" "$(grep '^  verify ' "$out")"
t_match $T "tickit.sales matches after the burst and ADD COLUMN" "^ +match +tickit\.sales +2[0-9]{5} rows$" \
    "$(grep -E '^ +[A-Za-z]+ +tickit\.sales ' "$out")"
t_eq $T "the result line says OK" "zetl demo: OK: every table synced and identical in the warehouse" \
    "$(grep '^zetl demo: OK' "$out")"
t_eq $T "no password in the output (harness passwords are zetl-my-/zetl-pg-…)" "0" \
    "$(grep -c 'zetl-my-\|zetl-pg-' "$out")"
check_gone "headless" "$dir"
t_ok $T "the test run's servers still answer" run_servers_alive

# ---- 2. SIGTERM while it replicates
out=$WORK/demo2.out
TMPDIR=$WORK/tmp "$ZETL" demo --headless --seconds 600 >"$out" 2>&1 &
demo_pid=$!
if wait_out "$out" '\[ +[0-9]+ s\]' 150; then t_pass $T "second demo reaches replication"
else t_fail $T "second demo reaches replication" "a status line within 150 s" "$(tail -n 20 "$out")"; fi
dir=$(demo_dir_of "$out")
cfg=$dir/zetl.yaml
t_eq $T "the config is mode 0600" "600" "$(stat -c %a "$cfg" 2>&1)"
t_eq $T "the config holds no password" "0" "$(grep -c 'zetl-my-\|zetl-pg-\|password:' "$cfg" 2>&1)"
t_match $T "the config reads passwords through password_command" "password_command" "$(grep -m1 password_command "$cfg")"
t_ok $T "zetl status works on the demo's config from another terminal" "$ZETL" status -c "$cfg"
t_ne $T "the demo's servers are running before SIGTERM" "" "$(pgrep -f -- "$dir/" || true)"
kill -TERM "$demo_pid"
stop_demo
t_eq $T "SIGTERM: the demo exits 143" "143" "$rc"
t_match $T "SIGTERM: it says it stopped and removed everything" "servers stopped, .* removed" "$(tail -n 3 "$out")"
check_gone "SIGTERM while replicating" "$dir"

# ---- 3. SIGTERM while its servers are still starting
out=$WORK/demo3.out
TMPDIR=$WORK/tmp "$ZETL" demo --headless --seconds 600 >"$out" 2>&1 &
demo_pid=$!
starting() { compgen -G "$WORK/tmp/zetl-demo.*/zh.*/my" >/dev/null; }
t_wait $T "third demo starts its servers" 60 starting
dir=$(demo_dir_of "$out")
kill -TERM "$demo_pid"
stop_demo
t_eq $T "SIGTERM during start-up: the demo exits 143" "143" "$rc"
t_eq $T "SIGTERM landed before the servers were up" "" "$(grep 'servers up' "$out")"
check_gone "SIGTERM during start-up" "$dir"
t_ok $T "the test run's servers still answer at the end" run_servers_alive

t_done
