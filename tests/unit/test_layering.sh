#!/usr/bin/env bash
#
# test_layering.sh — tests/layering.sh on zetl's own objects, and on tiny
# objects made here to show that it fails where it must: a cycle between two
# files, a call from a low layer to a high one, a folder no layer names, and
# that it passes an acyclic, downward set. Part of the unit suite (run.sh).
#
# Environment: ZETL_BUILD (default ./build), CC (default cc).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lib/assert.sh
source "$ROOT/tests/lib/assert.sh"
CHECK=$ROOT/tests/layering.sh
BUILD=${ZETL_BUILD:-$ROOT/build}
CC=${CC:-cc}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zetl-layering.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

# obj CASE PATH BODY: PATH.c with BODY, compiled to PATH.o under $TMP/CASE.
obj() {
    local dir=$TMP/$1
    mkdir -p "$dir/$(dirname "$2")"
    printf '%s\n' "$3" >"$dir/$2.c"
    "$CC" -std=c11 -c -o "$dir/$2.o" "$dir/$2.c"
}

# run CASE: the checker on $TMP/CASE; sets OUT and RC.
run() {
    RC=0
    OUT=$("$CHECK" --src "$TMP/$1" "$TMP/$1" 2>&1) || RC=$?
}

# A cycle inside one layer: config/a.c and config/b.c use each other.
obj cycle config/a 'int b_fn(int); int a_fn(int x) { return x ? b_fn(x - 1) : 0; }'
obj cycle config/b 'int a_fn(int); int b_fn(int x) { return x ? a_fn(x - 1) : 1; }'
obj cycle config/c 'int a_fn(int); int c_fn(void) { return a_fn(3); }'
run cycle
t_eq layering_cycle "a cycle fails the check" 1 "$RC"
t_match layering_cycle "the cycle names its two files" "cycle: 2 files use each other: config/a.c config/b.c" "$OUT"
t_match layering_cycle "each edge of the cycle is printed with its symbol (a -> b)" "config/a.c -> config/b.c: b_fn" "$OUT"
t_match layering_cycle "each edge of the cycle is printed with its symbol (b -> a)" "config/b.c -> config/a.c: a_fn" "$OUT"
t_eq layering_cycle "a file that only uses the cycle is not in it" "" "$(grep 'config/c.c ->' <<<"$OUT")"

# A call upward: config (a low layer) uses the console (tui).
obj upward config/low 'int tui_high(void); int low_fn(void) { return tui_high(); }'
obj upward tui/high 'int tui_high(void) { return 1; }'
obj upward tui/top 'int low_fn(void); int top_fn(void) { return low_fn(); }'
run upward
t_eq layering_upward "a call upward fails the check" 1 "$RC"
t_match layering_upward "the upward edge is printed with its layers and symbol" \
    "upward: config/low.c \(layer 2 \(config/\)\) -> tui/high.c \(layer [0-9]+ \(tui/\)\): tui_high" "$OUT"
t_eq layering_upward "the downward call (tui -> config) is not reported" "" "$(grep 'tui/top.c' <<<"$OUT")"

# A folder no layer names.
obj unplaced runtime/newfolder/x 'int x_fn(void) { return 0; }'
run unplaced
t_eq layering_unplaced "a file outside every layer fails the check" 1 "$RC"
t_match layering_unplaced "the unplaced file is named" "unplaced: runtime/newfolder/x.c" "$OUT"

# Acyclic and downward only: passes; a stale object (its .c gone) is ignored.
obj clean runtime/base/x 'int x_fn(void) { return 2; }'
obj clean config/y 'int x_fn(void); int y_fn(void) { return x_fn(); }'
obj clean tui/z 'int x_fn(void); int y_fn(void); int z_fn(void) { return x_fn() + y_fn(); }'
obj clean config/stale 'int z_fn(void); int stale_fn(void) { return z_fn(); }'
rm -f "$TMP/clean/config/stale.c"
run clean
t_eq layering_clean "an acyclic, downward set passes (output: $OUT)" 0 "$RC"
t_match layering_clean "the summary counts the files and edges" "3 files, 3 edges" "$OUT"

# zetl itself.
if [[ -d $BUILD/runtime ]]; then
    RC=0
    OUT=$("$CHECK" "$BUILD" 2>&1) || RC=$?
    if ((RC == 0)); then
        t_pass layering_zetl "zetl's objects: no cycle, no upward call ($OUT)"
    else
        printf '%s\n' "$OUT"
        t_fail layering_zetl "zetl's objects: no cycle, no upward call" "exit 0" \
            "exit $RC: $(grep -c '^cycle' <<<"$OUT") cycle(s), $(grep -c '^upward' <<<"$OUT") upward call(s), $(grep -c '^unplaced' <<<"$OUT") unplaced (listed above)"
    fi
else
    t_fail layering_zetl "zetl's objects are built" "$BUILD/runtime" "no such directory (run make)"
fi
t_done
