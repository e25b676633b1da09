#!/usr/bin/env bash
#
# run.sh — zetl's test runner, behind `make test`.
#
#   tests/run.sh [unit] [integration] [console] [fuzz] [FILE...]    (default: all suites)
#
#   unit         every executable $ZETL_BUILD/tests/test_*, and tests/unit/test_*.sh
#                (the layering check of the objects, tests/layering.sh)
#   integration  every tests/integration/*.sh (real servers)
#   console      every tests/console/*.sh (tmux)
#   fuzz         tests/fuzz/run.sh --short, when it exists
#   FILE         one test program; its suite is taken from its directory
#
# Before the integration and console suites the real servers are started once
# (tests/lib/harness.sh) and their ZH_* variables exported, so every test script
# reuses them; they are stopped at the end, on failure and on Ctrl-C.
#
# Each program prints `PASS <name>: <what>` / `FAIL <name>: <what> — expected X,
# saw Y` lines; they are passed through and counted. One more failure is counted
# for a program that exits non-zero without a FAIL line, prints no PASS line,
# dies of a signal, or runs past its timeout. Every program's output goes to a log
# under the run directory; a failing program's last 30 lines are shown.
# The last line of output is always `N passed, M failed`; exit 1 when M > 0.
#
# Integration programs run in ZETL_TEST_LANES lanes at once (default 2): each
# lane is a child runner with servers of its own, taking the next program from
# a shared queue (ZETL_TEST_QUEUE, a file of paths popped under flock), so a
# long program never holds the others up. Their output is shown lane by lane as
# each ends, and counted here. Console programs (tmux) run one at a time.
#
# Environment: ZETL_BIN (default ./zetl), ZETL_BUILD (default ./build),
# ZETL_TEST_TIMEOUT per-program seconds (default 300), ZETL_TEST_TAIL lines shown
# for a failure (default 30), ZETL_TEST_LANES (default 2; 1 runs in line). Exported to tests: ZETL_BIN, ZETL_BUILD, ZETL_ROOT,
# ZETL_TEST_RUNDIR (this run's log directory), ZH_* (harness servers).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

abs() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
ZETL_BIN=$(abs "${ZETL_BIN:-./zetl}")
ZETL_BUILD=$(abs "${ZETL_BUILD:-./build}")
ZETL_BIN=${ZETL_BIN%/.}; ZETL_BIN=${ZETL_BIN/\/.\//\/}
ZETL_BUILD=${ZETL_BUILD%/.}; ZETL_BUILD=${ZETL_BUILD/\/.\//\/}
export ZETL_BIN ZETL_BUILD ZETL_ROOT=$ROOT
TIMEOUT=${ZETL_TEST_TIMEOUT:-300}
TAIL=${ZETL_TEST_TAIL:-30}
export TERM=${TERM:-xterm-256color}
ulimit -c 0 2>/dev/null || true

# ---------------------------------------------------------------- arguments
ALL_SUITES=(unit integration console fuzz)
declare -A want=() extra_files=()
for a in "$@"; do
    case $a in
    unit|integration|console|fuzz) want[$a]=1 ;;
    *)
        if [[ -f $a ]]; then
            f=$(abs "$a")
            case $f in
            "$ROOT"/tests/integration/*) s=integration ;;
            "$ROOT"/tests/console/*)     s=console ;;
            "$ROOT"/tests/fuzz/*)        s=fuzz ;;
            *)                           s=unit ;;
            esac
            want[$s]=1
            extra_files[$s]+="$f"$'\n'
        else
            echo "run.sh: unknown suite or file '$a' (suites: ${ALL_SUITES[*]})" >&2
            echo "0 passed, 1 failed"
            exit 2
        fi ;;
    esac
done
if ((${#want[@]} == 0)); then for s in "${ALL_SUITES[@]}"; do want[$s]=1; done; fi

# ---------------------------------------------------------------- the run directory
RUNDIR=$ZETL_BUILD/test-runs/$(date -u +%Y%m%d-%H%M%S)-$$
mkdir -p "$RUNDIR" || { echo "run.sh: cannot create $RUNDIR" >&2; echo "0 passed, 1 failed"; exit 1; }
export ZETL_TEST_RUNDIR=$RUNDIR
# Keep the ten newest runs.
# shellcheck disable=SC2012  # our own timestamped names
ls -1dt "$ZETL_BUILD"/test-runs/*/ 2>/dev/null | tail -n +11 | while read -r old; do rm -rf "$old"; done

# ---------------------------------------------------------------- bookkeeping
PASSED=0
FAILED=0
INTERRUPTED=
CHILD=
declare -A s_progs=() s_pass=() s_fail=() s_ms=()
SUITE_ORDER=()

now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#${t:0:-3})); }
secs() { printf '%d.%01d' $(($1 / 1000)) $((($1 % 1000) / 100)); }

# shellcheck disable=SC2317  # called from traps
on_signal() {
    INTERRUPTED=$1
    [[ -n $CHILD ]] && kill -TERM "$CHILD" 2>/dev/null
    local p
    for p in "${LANE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# synth_fail NAME WHAT EXPECTED SAW: a failure the runner itself observed.
synth_fail() {
    printf 'FAIL %s: %s — expected %s, saw %s\n' "$1" "$2" "$3" "$4"
    FAILED=$((FAILED + 1))
    s_fail[$SUITE]=$((${s_fail[$SUITE]:-0} + 1))
}

# run_prog NAME CMD...: run one test program under a timeout, pass its PASS/FAIL
# lines through and count them.
run_prog() {
    local name=$1; shift
    local log=$RUNDIR/$SUITE/${name//\//_}.log t0 ms rc np nf extra=
    mkdir -p "$RUNDIR/$SUITE"
    t0=$(now_ms)
    timeout --kill-after=5 "$TIMEOUT" "$@" </dev/null >"$log" 2>&1 &
    CHILD=$!
    while :; do
        wait "$CHILD" 2>/dev/null; rc=$?            # (no "Segmentation fault" job notice)
        kill -0 "$CHILD" 2>/dev/null || break       # reaped: rc is its status
    done
    CHILD=
    ms=$(($(now_ms) - t0))
    np=$(grep -c '^PASS ' "$log")
    nf=$(grep -c '^FAIL ' "$log")
    grep -aE '^(PASS|FAIL) ' "$log"
    PASSED=$((PASSED + np)); FAILED=$((FAILED + nf))
    s_progs[$SUITE]=$((${s_progs[$SUITE]:-0} + 1))
    s_pass[$SUITE]=$((${s_pass[$SUITE]:-0} + np))
    s_fail[$SUITE]=$((${s_fail[$SUITE]:-0} + nf))
    if [[ -n $INTERRUPTED ]]; then
        synth_fail "$name" "ran to completion" "no interruption" "SIG$INTERRUPTED to the runner"
        extra=1
    elif ((rc == 124 || (rc == 137 && ms >= TIMEOUT * 1000))); then
        synth_fail "$name" "finished within the per-program timeout" "under ${TIMEOUT}s" "still running at ${TIMEOUT}s (stopped after $(secs "$ms")s)"
        extra=1
    elif ((rc > 128 && rc < 160)); then
        local sig; sig=$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))
        synth_fail "$name" "ran without crashing" "a normal exit" "killed by SIG$sig (exit $rc)"
        extra=1
    elif ((rc != 0 && nf == 0)); then
        synth_fail "$name" "exits 0 when no check failed" "exit 0 or a FAIL line" "exit $rc without a FAIL line"
        extra=1
    elif ((np == 0)); then
        synth_fail "$name" "prints at least one PASS line" "a PASS line" "none (exit $rc)"
        extra=1
    fi
    if ((nf > 0 || ${extra:-0})); then
        echo "--- $name: last $TAIL lines of $log"
        tail -n "$TAIL" "$log" | sed 's/^/  | /'
        echo "---"
    fi
    printf -- '-- %s: %d passed, %d failed, %ss\n' "$name" "$np" $((nf + ${extra:-0})) "$(secs "$ms")"
}

# ---------------------------------------------------------------- lanes
LANES=${ZETL_TEST_LANES:-2}
[[ $LANES =~ ^[1-9][0-9]*$ ]] || LANES=1
QUEUE=${ZETL_TEST_QUEUE:-}

# queue_pop: the next program of the shared queue on stdout; 1 when it is empty.
queue_pop() {
    local line
    {
        flock 9
        line=$(head -n 1 "$QUEUE")
        [[ -n $line ]] && sed -i 1d "$QUEUE"
    } 9>>"$QUEUE.lock"
    [[ -n $line ]] || return 1
    echo "$line"
}

# longest_first PROG...: the programs, one a line, longest first by
# tests/integration/durations.txt (60 s when not listed), so the lanes end
# together rather than one finishing a long program alone.
longest_first() {
    local p
    for p in "$@"; do
        printf '%s %s\n' "$(awk -v n="$(basename "$p")" '$1 == n { print $2; f = 1; exit } END { if (!f) print 60 }' \
            "$ROOT/tests/integration/durations.txt" 2>/dev/null || echo 60)" "$p"
    done | sort -k1,1 -rn -s | cut -d' ' -f2-
}

# run_lanes PROG...: the integration programs over $LANES child runners.
LANE_PIDS=()
run_lanes() {
    local q=$RUNDIR/integration.queue i out rc np nf progs
    longest_first "$@" >"$q"
    echo "== integration: $# program(s) in $LANES lanes, each with its own servers"
    for ((i = 1; i <= LANES; i++)); do
        ZETL_TEST_QUEUE=$q ZETL_TEST_LANES=1 bash "$ROOT/tests/run.sh" integration \
            >"$RUNDIR/lane$i.out" 2>&1 </dev/null &
        LANE_PIDS+=($!)
    done
    for ((i = 1; i <= LANES; i++)); do
        wait "${LANE_PIDS[i - 1]}"; rc=$?
        out=$RUNDIR/lane$i.out
        echo "== lane $i (exit $rc)"
        grep -v '^== \(zetl tests\|timing\|integration:\)\|^   \|^[0-9]* passed, [0-9]* failed$' "$out"
        np=$(tail -n 1 "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
        nf=$(tail -n 1 "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
        if [[ -z $np ]]; then
            synth_fail "lane$i" "the lane's runner ends with its count" "N passed, M failed" "exit $rc, no count"
            continue
        fi
        progs=$(grep -c '^-- integration/' "$out")
        PASSED=$((PASSED + np)); FAILED=$((FAILED + nf))
        s_progs[$SUITE]=$((${s_progs[$SUITE]:-0} + progs))
        s_pass[$SUITE]=$((${s_pass[$SUITE]:-0} + np))
        s_fail[$SUITE]=$((${s_fail[$SUITE]:-0} + nf))
    done
    LANE_PIDS=()
}

# ---------------------------------------------------------------- servers
HARNESS_STATE=        # "", up, failed
harness_up() {
    [[ -n $HARNESS_STATE ]] && { [[ $HARNESS_STATE == up ]]; return; }
    local t0 log=$RUNDIR/harness.log
    t0=$(now_ms)
    # shellcheck source=SCRIPTDIR/lib/harness.sh
    source "$ROOT/tests/lib/harness.sh"
    if harness_start 2>"$log"; then
        HARNESS_STATE=up
        # harness_start took INT/TERM/HUP; the runner answers them itself and
        # calls harness_stop at the end (the harness keeps its EXIT trap).
        trap 'on_signal INT' INT
        trap 'on_signal TERM' TERM
        trap 'on_signal HUP' HUP
        printf -- '-- servers: MariaDB :%s, PostgreSQL source :%s, target :%s, up in %ss (%s)\n' \
            "$ZH_MY_PORT" "$ZH_PGSRC_PORT" "$ZH_PGTGT_PORT" "$(secs $(($(now_ms) - t0)))" "$ZH_DIR"
        s_ms[servers]=$(($(now_ms) - t0))
        return 0
    fi
    HARNESS_STATE=failed
    synth_fail harness "start MariaDB and two PostgreSQL clusters" "servers ready" "start-up failure"
    echo "--- harness: last $TAIL lines of $log"
    tail -n "$TAIL" "$log" | sed 's/^/  | /'
    echo "---"
    return 1
}

# After each server test: bring back a server a test left stopped.
harness_heal() {
    [[ $HARNESS_STATE == up ]] || return 0
    if ! mariadb-admin --no-defaults -S "$ZH_MY_SOCKET" -uroot --connect-timeout=2 ping >/dev/null 2>&1; then
        echo "-- note: MariaDB was down after $1; restarting it"
        zh_start_mariadb >>"$RUNDIR/harness.log" 2>&1 || echo "-- note: MariaDB did not restart"
    fi
    local w port
    for w in src tgt; do
        port=ZH_PG${w^^}_PORT
        if ! "$ZH_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "${!port}" -t 2; then
            echo "-- note: PostgreSQL $w was down after $1; restarting it"
            zh_start_pg "$w" >>"$RUNDIR/harness.log" 2>&1 || echo "-- note: PostgreSQL $w did not restart"
        fi
    done
}

# ---------------------------------------------------------------- suites
suite_programs() {
    local f
    if [[ -n ${extra_files[$1]:-} ]]; then
        printf '%s' "${extra_files[$1]}"
        return
    fi
    case $1 in
    unit)
        for f in "$ZETL_BUILD"/tests/test_*; do
            [[ -f $f && -x $f && $f != *.d && $f != *.o ]] && echo "$f"
        done
        for f in "$ROOT"/tests/unit/test_*.sh; do [[ -f $f ]] && echo "$f"; done ;;
    integration|console)
        for f in "$ROOT/tests/$1"/*.sh; do [[ -f $f ]] && echo "$f"; done ;;
    fuzz)
        [[ -f $ROOT/tests/fuzz/run.sh ]] && echo "$ROOT/tests/fuzz/run.sh" ;;
    esac
    return 0
}

echo "== zetl tests: $(date -u +%Y-%m-%dT%H:%M:%SZ), logs in $RUNDIR"
for SUITE in "${ALL_SUITES[@]}"; do
    [[ -n ${want[$SUITE]:-} && -z $INTERRUPTED ]] || continue
    if [[ -n $QUEUE ]]; then            # a lane: programs come from the shared queue
        [[ $SUITE == integration ]] || continue
        SUITE_ORDER+=("$SUITE")
        t_suite=$(now_ms)
        while [[ -z $INTERRUPTED ]] && p=$(queue_pop); do
            harness_up || break
            run_prog "$SUITE/$(basename "$p")" bash "$p"
            [[ -n $INTERRUPTED ]] || harness_heal "$(basename "$p")"
        done
        s_ms[$SUITE]=$(($(now_ms) - t_suite))
        continue
    fi
    mapfile -t progs < <(suite_programs "$SUITE")
    if ((${#progs[@]} == 0)); then
        case $SUITE in
        unit) echo "== unit: no test binaries in $ZETL_BUILD/tests (build them with make)" ;;
        fuzz) echo "== fuzz: tests/fuzz/run.sh not present; skipped" ;;
        *)    echo "== $SUITE: no tests/$SUITE/*.sh; skipped" ;;
        esac
        continue
    fi
    SUITE_ORDER+=("$SUITE")
    t_suite=$(now_ms)
    if [[ $SUITE == integration ]] && ((LANES > 1 && ${#progs[@]} > 1)); then
        run_lanes "${progs[@]}"
        s_ms[$SUITE]=$(($(now_ms) - t_suite))
        continue
    fi
    echo "== $SUITE: ${#progs[@]} program(s)"
    if [[ $SUITE == integration || $SUITE == console ]]; then
        harness_up || { s_ms[$SUITE]=$(($(now_ms) - t_suite)); continue; }
    fi
    for p in "${progs[@]}"; do
        [[ -z $INTERRUPTED ]] || break
        case $SUITE in
        unit)   case $p in
                *.sh) run_prog "$(basename "$p")" bash "$p" ;;
                *)    run_prog "$(basename "$p")" "$p" ;;
                esac ;;
        fuzz)   run_prog "fuzz/run.sh" bash "$p" --short ;;
        *)      run_prog "$SUITE/$(basename "$p")" bash "$p"
                [[ -n $INTERRUPTED ]] || harness_heal "$(basename "$p")" ;;
        esac
    done
    s_ms[$SUITE]=$(($(now_ms) - t_suite))
done

if [[ $HARNESS_STATE == up ]]; then
    t0=$(now_ms)
    harness_stop
    s_ms[stop]=$(($(now_ms) - t0))
fi

# ---------------------------------------------------------------- summary
echo "== timing"
printf '   %-12s %8s %7s %7s %9s\n' suite programs passed failed seconds
for s in "${SUITE_ORDER[@]}"; do
    printf '   %-12s %8d %7d %7d %9s\n' "$s" "${s_progs[$s]:-0}" "${s_pass[$s]:-0}" "${s_fail[$s]:-0}" "$(secs "${s_ms[$s]:-0}")"
done
[[ -n ${s_ms[servers]:-} ]] && printf '   %-12s %34s\n' "servers" "start $(secs "${s_ms[servers]}")s, stop $(secs "${s_ms[stop]:-0}")s"
[[ -n $INTERRUPTED ]] && echo "   interrupted by SIG$INTERRUPTED"
echo "$PASSED passed, $FAILED failed"
if [[ -n $INTERRUPTED ]]; then
    case $INTERRUPTED in INT) exit 130 ;; TERM) exit 143 ;; *) exit 129 ;; esac
fi
((FAILED == 0)) || exit 1
exit 0
