#!/usr/bin/env bash
# test_funclen.sh — tests/funclen.sh on synthetic C files (a long unmarked
# function fails; marked or short ones pass; braces in strings, comments and
# initializers do not count), then on zetl's own config/ runtime/ views/ tui/:
# one FAIL line per function over 120 lines without a `/* one function: why */`
# comment above it.
#
# The unit suite (tests/run.sh) runs it with the C tests.
set -uo pipefail
ROOT=${ZETL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$ROOT" || exit 1
. tests/lib/assert.sh
T=test_funclen
FL=$ROOT/tests/funclen.sh

TMP=$(mktemp -d "${TMPDIR:-/tmp}/funclen.XXXXXX") || { t_fail $T "temporary directory" "mktemp ok" "failed"; t_done; }
trap 'rm -rf "$TMP"' EXIT

# body N: N lines of statements.
body() { local i; for ((i = 0; i < $1; i++)); do echo "    x += $i;"; done; }

# fn NAME TOTAL: a function of TOTAL lines, return type on its own line.
fn() {
    printf 'static int\n%s(int x)\n{\n' "$1"
    body $(($2 - 5))
    printf '    return x;\n}\n'
}

# run FILE: funclen's output and exit status as "rc=N|output".
run() { local out rc=0; out=$("$FL" "$@" 2>&1) || rc=$?; printf 'rc=%d|%s' "$rc" "$out"; }

# --- a long function without a marker fails, naming it, its line and length
{ echo '#include <stdio.h>'; echo; fn long_one 130; } >"$TMP/long.c"
t_eq $T "a 130-line unmarked function fails" \
    "rc=1|$TMP/long.c	3	long_one	130	unmarked" "$(run "$TMP/long.c")"

# --- the same function with the marker just above passes
{ echo '/* one function: one switch over the wire types */'; fn long_one 130; } >"$TMP/marked.c"
t_eq $T "the marker on the line just above passes" \
    "rc=0|$TMP/marked.c	2	long_one	130	marked" "$(run "$TMP/marked.c")"

# --- the marker inside the function's leading comment block passes
{
    echo '/*'
    echo ' * long_one: does one thing.'
    echo ' * one function: the states share locals'
    echo ' * and more text.'
    echo ' */'
    fn long_one 130
} >"$TMP/block.c"
t_eq $T "the marker inside the leading comment block passes" \
    "rc=0|$TMP/block.c	6	long_one	130	marked" "$(run "$TMP/block.c")"

# --- a marker separated by a blank line belongs to nothing
{ echo '/* one function: stale */'; echo; fn long_one 130; } >"$TMP/stale.c"
t_match $T "a marker above a blank line does not count" '^rc=1\|.*unmarked$' "$(run "$TMP/stale.c")"

# --- a marker above the previous function does not cover the next one
{ echo '/* one function: first */'; fn first 130; fn second 130; } >"$TMP/two.c"
t_eq $T "the marker covers only its own function" \
    "rc=1|$TMP/two.c	2	first	130	marked
$TMP/two.c	132	second	130	unmarked" "$(run "$TMP/two.c")"

# --- short functions pass; the limit is inclusive
{ fn short_one 20; fn at_limit 120; } >"$TMP/short.c"
t_eq $T "functions of 20 and 120 lines pass" "rc=0|" "$(run "$TMP/short.c")"
fn over_limit 121 >"$TMP/over.c"
t_eq $T "a function of 121 lines fails" \
    "rc=1|$TMP/over.c	1	over_limit	121	unmarked" "$(run "$TMP/over.c")"
t_eq $T "--max sets the limit" "rc=0|" "$(run --max 121 "$TMP/over.c")"

# --- braces in strings, character literals, comments and preprocessor lines do
# not count; an initializer is not a function; attributes do not hide the name
{
    echo '#define OPEN {'
    echo 'static const char *s = "{{{";'
    echo 'static const int tab[] = {'
    body 150 | sed 's/x += \(.*\);/\1,/'
    echo '};'
    echo 'struct point { int x, y; };'
    echo '__attribute__((format(printf, 1, 2)))'
    echo 'static int tricky(const char *fmt, ...)'
    echo '{'
    echo '    const char *a = "}\"}";   /* } */'
    echo "    char b = '}', c = '\\'', d = '{';"
    echo '    // }}}'
    echo '    /* {'
    echo '       { */'
    echo '    return a[0] + b + c + d + *fmt;'
    echo '}'
    fn after 125
} >"$TMP/tricky.c"
t_eq $T "braces in literals, comments, macros and initializers do not count" \
    "rc=1|$TMP/tricky.c	166	after	125	unmarked" "$(run "$TMP/tricky.c")"
t_match $T "--all lists the short function with its attribute-free name" \
    "$TMP/tricky.c	156	tricky	10	short" "$(run --all "$TMP/tricky.c")"

# --- unbalanced braces are an error, not a pass
printf 'int f(void)\n{\n    if (1) {\n        return 0;\n}\n' >"$TMP/broken.c"
t_match $T "a file whose braces do not balance is an error" '^rc=2\|.*do not balance' "$(run "$TMP/broken.c")"

# --- zetl itself
out=$("$FL" 2>&1); rc=$?
if ((rc == 0)); then
    t_pass $T "no function in config/ runtime/ views/ tui/ is over 120 lines without a marker"
elif ((rc == 1)); then
    while IFS=$'\t' read -r file line name len status; do
        [[ $status == unmarked ]] || continue
        t_fail $T "$name ($file:$line) is at most 120 lines or has a /* one function: why */ comment" \
            "at most 120 lines or a marker" "$len lines, no marker"
    done <<<"$out"
else
    t_fail $T "tests/funclen.sh scans config/ runtime/ views/ tui/" "exit 0 or 1" "exit $rc: $out"
fi

t_done
