#!/usr/bin/env bash
#
# funclen.sh — no C function over 120 lines unless a comment says why it must be one.
#
#   tests/funclen.sh [--max N] [--all] [PATH...]    (default: config runtime views tui)
#
# Scans every .c file under PATH (or PATH itself) for function definitions: a
# `{` at top-level brace depth whose declaration ends in `)` and has no `=`.
# Comments, string and character literals and preprocessor lines are skipped,
# so braces inside them do not count. A function's length runs from the first
# line of its declaration (the return type) to its closing brace, inclusive.
#
# A function longer than N lines (default 120) passes only when the line just
# above its declaration, or its leading comment block, carries the marker
#     /* one function: <why it must stay one> */
# Prints one line per long function, tab-separated:
#     FILE  LINE  NAME  LENGTH  marked|unmarked
# (with --all: every function, and `short` for those within the limit).
# Exit 0 when every long function is marked, 1 when one is not, 2 on a usage
# error or a file whose braces do not balance.
set -uo pipefail

max=120
all=0
paths=()
while (($#)); do
    case $1 in
    --max) max=${2:-}; shift 2 || { echo "funclen: --max needs a number" >&2; exit 2; } ;;
    --all) all=1; shift ;;
    -h|--help) sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "funclen: unknown option '$1'" >&2; exit 2 ;;
    *) paths+=("$1"); shift ;;
    esac
done
[[ $max =~ ^[0-9]+$ ]] || { echo "funclen: --max wants a number, saw '$max'" >&2; exit 2; }
if ((${#paths[@]} == 0)); then
    cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
    paths=(config runtime views tui)
fi

files=()
for p in "${paths[@]}"; do
    if [[ -d $p ]]; then
        mapfile -t -O "${#files[@]}" files < <(find "$p" -name '*.c' -type f | LC_ALL=C sort)
    elif [[ -f $p ]]; then
        files+=("$p")
    else
        echo "funclen: no such file or directory: $p" >&2
        exit 2
    fi
done
((${#files[@]})) || { echo "funclen: no .c files under ${paths[*]}" >&2; exit 2; }

LC_ALL=C ${AWK:-awk} -v max="$max" -v all="$all" '
function reset_decl() { decl = ""; decl_line = 0 }

# The name of the function declared by d: the identifier before the first
# top-level "(" that is not an attribute.
function fn_name(d,    rest, n, k, lvl) {
    rest = d
    while (match(rest, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
        n = substr(rest, RSTART, RLENGTH)
        sub(/[ \t]*\($/, "", n)
        if (n != "__attribute__")
            return n
        # Skip past the attribute, its parentheses balanced.
        rest = substr(rest, RSTART + RLENGTH)
        lvl = 1
        for (k = 1; k <= length(rest) && lvl > 0; k++) {
            if (substr(rest, k, 1) == "(") lvl++
            else if (substr(rest, k, 1) == ")") lvl--
        }
        rest = substr(rest, k)
    }
    return "?"
}

# Is s a comment line: a whole-line comment, or a line of a block comment?
function comment_line(s) {
    sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
    return s ~ /^\/\*/ || s ~ /^\*/ || s ~ /^\/\// || s ~ /\*\/$/
}

# The marker sits on the line just above line l, or in the comment block there.
function marked(l,    i) {
    for (i = l - 1; i >= 1; i--) {
        if (src[i] ~ /one function:/) return 1
        if (!comment_line(src[i])) return 0
    }
    return 0
}

function report(   len, status) {
    len = FNR - fn_line + 1
    if (len > max) {
        status = marked(fn_line) ? "marked" : "unmarked"
        if (status == "unmarked") bad = 1
    } else if (all) {
        status = "short"
    } else {
        return
    }
    printf "%s\t%d\t%s\t%d\t%s\n", FILENAME, fn_line, fn, len, status
}

function end_file() {
    if (fname != "" && (depth != 0 || incomment)) {
        printf "funclen: %s: braces or comments do not balance at end of file (depth %d)\n", fname, depth > "/dev/stderr"
        broken = 1
    }
}

FNR == 1 {
    end_file()
    fname = FILENAME; depth = 0; incomment = 0; inpp = 0; infn = 0
    reset_decl(); delete src
}

{
    src[FNR] = $0
    line = $0
    # Preprocessor lines (and their continuations) are not code for us.
    if (!incomment && (inpp || line ~ /^[ \t]*#/)) {
        inpp = (line ~ /\\$/)
        if (depth == 0) reset_decl()
        next
    }
    n = length(line)
    for (i = 1; i <= n; i++) {
        c = substr(line, i, 1)
        if (incomment) {
            if (c == "*" && substr(line, i + 1, 1) == "/") { incomment = 0; i++ }
            continue
        }
        if (c == "/" && substr(line, i + 1, 1) == "*") { incomment = 1; i++; continue }
        if (c == "/" && substr(line, i + 1, 1) == "/") break
        if (c == "\"" || c == "\047") {          # a string or character literal
            for (i++; i <= n; i++) {
                d = substr(line, i, 1)
                if (d == "\\") { i++; continue }
                if (d == c) break
            }
            if (depth == 0) decl = decl "x"
            continue
        }
        if (depth == 0) {
            if (c == "{") {
                t = decl
                gsub(/[ \t]+$/, "", t)
                if (t ~ /\)$/ && t !~ /=/) {
                    infn = 1; fn = fn_name(t); fn_line = decl_line
                }
                depth = 1
                continue
            }
            if (c == ";" || c == "}") { reset_decl(); continue }
            if (c != " " && c != "\t" && decl_line == 0) decl_line = FNR
            decl = decl c
            continue
        }
        if (c == "{") depth++
        else if (c == "}") {
            if (--depth == 0) {
                if (infn) report()
                infn = 0
                reset_decl()
            }
        }
    }
    if (depth == 0 && decl != "") decl = decl " "
}

END {
    end_file()
    exit broken ? 2 : bad ? 1 : 0
}
' "${files[@]}"
