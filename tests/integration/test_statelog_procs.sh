#!/usr/bin/env bash
# test_statelog_procs.sh — the SQLite log shared by several processes:
#  1. two writers on one integration and a reader, at once, on a new file:
#     all exit 0, no SQLITE_BUSY surfaces, counts are exactly the sum;
#  2. a writer killed with -9 at a random moment, several times: the file
#     reopens with integrity ok, every count agrees, and nothing the writer
#     reported as committed is lost.
# Prints PASS/FAIL lines; exits non-zero on any failure.
set -u

BUILD=${ZETL_BUILD:-build}
TOOL=$BUILD/tools/statelog_stress
NAME=test_statelog_procs
failures=0

pass() { echo "PASS $NAME: $1"; }
fail() { echo "FAIL $NAME: $1 — expected $2, saw $3"; failures=$((failures + 1)); }

if [[ ! -x $TOOL ]]; then
    fail "helper built" "$TOOL executable" "missing (make $TOOL)"
    exit 1
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/zetl-statelog-procs.XXXXXX")
trap 'rm -rf "$DIR"' EXIT

# ---- 1. two writers and a reader at once --------------------------------------
N=${STATELOG_PROCS_N:-1500}
DB=$DIR/state/zetl.db
"$TOOL" write "$DB" "$N" shared >"$DIR/w1.out" 2>"$DIR/w1.err" & p1=$!
"$TOOL" write "$DB" "$N" shared >"$DIR/w2.out" 2>"$DIR/w2.err" & p2=$!
"$TOOL" write "$DB" "$N" solo   >"$DIR/w3.out" 2>"$DIR/w3.err" & p3=$!
"$TOOL" read  "$DB" 300         >"$DIR/r.out"  2>"$DIR/r.err"  & p4=$!
for who in "w1:$p1" "w2:$p2" "w3:$p3" "reader:$p4"; do
    if wait "${who#*:}"; then
        pass "concurrent ${who%%:*} exits 0"
    else
        fail "concurrent ${who%%:*} exits 0" "status 0" "status $? ($(head -c 300 "$DIR/${who%%:*}.err" 2>/dev/null || true)$(head -c 300 "$DIR/r.err"))"
    fi
done
if grep -qiE 'busy|locked' "$DIR"/*.err; then
    fail "no SQLITE_BUSY surfaces" "no busy/locked errors" "$(grep -hiE 'busy|locked' "$DIR"/*.err | head -3)"
else
    pass "no SQLITE_BUSY surfaces"
fi
out=$("$TOOL" check "$DB" 2>&1); rc=$?
if [[ $rc -eq 0 ]]; then pass "check after concurrent writes: integrity ok, counts agree"
else fail "check after concurrent writes" "exit 0" "exit $rc: $out"; fi
want_shared="shared activity=$((2 * N)) lag=$((2 * N)) transitions=$((2 * N)) inserts=$((2 * N))"
want_solo="solo activity=$N lag=$N transitions=$N inserts=$N"
if grep -qxF "$want_shared" <<<"$out"; then pass "two writers on one integration: counts are the exact sum"
else fail "two writers on one integration: counts" "$want_shared" "$(grep '^shared' <<<"$out")"; fi
if grep -qxF "$want_solo" <<<"$out"; then pass "third writer: exact counts"
else fail "third writer: exact counts" "$want_solo" "$(grep '^solo' <<<"$out")"; fi

# ---- 2. kill -9 mid-run -----------------------------------------------------------
KDB=$DIR/kill/zetl.db
ROUNDS=${STATELOG_PROCS_ROUNDS:-6}
for round in $(seq 1 "$ROUNDS"); do
    name=k$round
    "$TOOL" write "$KDB" 100000000 "$name" >"$DIR/$name.seq" 2>"$DIR/$name.err" & pid=$!
    # a random moment between 50 and 600 ms (round 1 may hit the migration)
    sleep "0.$(printf '%03d' $((RANDOM % 550 + 50)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    last=$(tail -n 1 "$DIR/$name.seq" 2>/dev/null)
    last=${last:-0}
    out=$("$TOOL" check "$KDB" 2>&1); rc=$?
    if [[ $rc -ne 0 ]]; then
        fail "kill -9 round $round: reopen, integrity ok, counts agree" "exit 0" "exit $rc: $out"
        continue
    fi
    line=$(grep "^$name " <<<"$out")
    got=$(sed -n 's/.* activity=\([0-9]*\) .*/\1/p' <<<"$line")
    got=${got:-0}
    # The kill may land after a commit and before its line: at most one more.
    if [[ $got -ge $last && $got -le $((last + 1)) ]]; then
        pass "kill -9 round $round: integrity ok, $got committed rows consistent (last reported $last)"
    else
        fail "kill -9 round $round: committed rows kept" "$last or $((last + 1))" "$got ($line)"
    fi
done

exit $((failures > 0))
