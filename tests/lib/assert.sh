# shellcheck shell=bash
#
# assert.sh — zetl's test line protocol for shell tests (see tests/unit/test.h):
#   PASS <test>: <what>
#   FAIL <test>: <what> — expected <x>, saw <y>
# tests/run.sh counts these lines. A script ends with `t_done`, which exits 1
# when any check failed (and complains when none passed).
#
#   t_pass NAME WHAT
#   t_fail NAME WHAT EXPECTED SAW
#   t_eq   NAME WHAT EXPECTED SAW          string equality
#   t_ne   NAME WHAT UNEXPECTED SAW        string inequality
#   t_match NAME WHAT REGEX SAW            bash =~ match
#   t_ok   NAME WHAT CMD [ARGS...]         CMD exits 0 (its output is shown on failure)
#   t_fails NAME WHAT CMD [ARGS...]        CMD exits non-zero
#   t_wait NAME WHAT SECONDS CMD [ARGS...] poll CMD (every 0.1 s) until it exits 0
#   t_done                                 exits the script: 1 if any check failed
# Values are flattened to one line and cut at 300 characters.

T_PASSED=0
T_FAILED=0

_t_flat() {
    local s=${1//$'\n'/\\n}
    ((${#s} > 300)) && s="${s:0:300}…"
    printf '%s' "$s"
}

t_pass() { T_PASSED=$((T_PASSED + 1)); printf 'PASS %s: %s\n' "$1" "$2"; }

t_fail() {
    T_FAILED=$((T_FAILED + 1))
    printf 'FAIL %s: %s — expected %s, saw %s\n' "$1" "$2" "$(_t_flat "$3")" "$(_t_flat "$4")"
}

t_eq() { if [[ $4 == "$3" ]]; then t_pass "$1" "$2"; else t_fail "$1" "$2" "\"$3\"" "\"$4\""; fi; }
t_ne() { if [[ $4 != "$3" ]]; then t_pass "$1" "$2"; else t_fail "$1" "$2" "not \"$3\"" "\"$4\""; fi; }
t_match() { if [[ $4 =~ $3 ]]; then t_pass "$1" "$2"; else t_fail "$1" "$2" "match /$3/" "\"$4\""; fi; }

t_ok() {
    local name=$1 what=$2 out rc=0; shift 2
    out=$("$@" 2>&1) || rc=$?
    if ((rc == 0)); then t_pass "$name" "$what"; else t_fail "$name" "$what" "exit 0" "exit $rc: $out"; fi
}

t_fails() {
    local name=$1 what=$2 out rc=0; shift 2
    out=$("$@" 2>&1) || rc=$?
    if ((rc != 0)); then t_pass "$name" "$what"; else t_fail "$name" "$what" "a non-zero exit" "exit 0: $out"; fi
}

t_wait() {
    local name=$1 what=$2 secs=$3 out='' rc=1 end; shift 3
    end=$((SECONDS + secs))
    while :; do
        rc=0; out=$("$@" 2>&1) || rc=$?
        ((rc == 0 || SECONDS >= end)) && break
        sleep 0.1
    done
    if ((rc == 0)); then t_pass "$name" "$what"; else t_fail "$name" "$what" "success within ${secs}s" "exit $rc: $out"; fi
}

t_done() {
    if ((T_PASSED + T_FAILED == 0)); then
        echo "t_done: no checks ran" >&2
        exit 1
    fi
    exit $((T_FAILED > 0 ? 1 : 0))
}
