#!/usr/bin/env bash
#
# layering.sh — check that zetl's files depend on each other one way only.
#
#   tests/layering.sh [--graph] [--src SRC_DIR] BUILD_DIR
#
# Reads the object files under BUILD_DIR/{config,runtime,views,tui} with nm,
# resolves every undefined symbol of each file to the file that defines it,
# and so builds the graph "file A uses file B" from the code itself (no list
# of edges is kept by hand). It fails, printing every offending edge with the
# symbols it uses, on
#
#   - a cycle: files that reach each other (a strongly connected component of
#     more than one file) — every edge inside the component is printed;
#   - an upward call: a file using a file of a higher layer (LAYERS below);
#   - a file that no layer names, so a new folder is placed before it is used.
#
# Files of one layer may use each other, without cycles. --graph prints every
# edge (file, layer, used file, layer, symbols) instead of checking. An object
# whose source file is gone from SRC_DIR (default: the repository) is stale
# and skipped.
# Exit 0 when the graph is clean, 1 when it is not, 2 on bad usage.
set -uo pipefail

# The layers, lowest first: a file may use files of its own layer or of a
# lower one. Each line is a layer; its words are path prefixes (relative to
# the build directory, without .o); the longest matching prefix wins, so
# runtime/runtime (the engine's door) sits above the runtime folders and
# tui/demo is inside tui.
#
#   runtime/base      shared helpers: clocks, wire cursors, buffers, JSON
#                     strings, backoff, link cuts, the preflight report; they
#                     use nothing else of zetl's, so config may use them
#   config            the YAML config, validated
#   pipe, log         the change model and queue; the state log, run log, locks
#   mysql, pg, target the source protocols and the warehouse drivers
#   integ/state       an integration's record (state, tables, log lines),
#                     which the sources write through too
#   source            what the engine asks of a source, whatever its kind
#   integ             one integration: copy, stream, apply, resync, commands,
#                     the supervisor on top
#   watch, check      the monitor (alerts, metrics); zetl check, setup, verify
#   runtime/runtime   the engine's door (runtime.h)
#   views, tui        the console's screens; commands, terminal, the demo
LAYERS='
runtime/base/
config/
runtime/pipe/ runtime/log/
runtime/mysql/ runtime/pg/ runtime/target/
runtime/integ/state
runtime/source/
runtime/integ/
runtime/watch/ runtime/check/
runtime/runtime
views/
tui/
'

graph=
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
while (($# > 1)); do
    case $1 in
    --graph) graph=1; shift ;;
    --src)   src=${2%/}; shift 2 ;;
    *)       break ;;
    esac
done
if (($# != 1)) || [[ ! -d $1 ]]; then
    echo "usage: tests/layering.sh [--graph] [--src SRC_DIR] BUILD_DIR" >&2
    exit 2
fi
build=${1%/}

objs=()
for d in config runtime views tui; do
    [[ -d $build/$d ]] || continue
    while IFS= read -r f; do
        rel=${f#"$build"/}
        [[ -f $src/${rel%.o}.c ]] && objs+=("$f")
    done < <(find "$build/$d" -name '*.o' | sort)
done
if ((${#objs[@]} == 0)); then
    echo "layering: no object files under $build/{config,runtime,views,tui}" >&2
    exit 2
fi

# nm -o: "PATH:[ADDR] TYPE NAME" per symbol; upper-case types are global,
# U undefined. Local symbols (lower case) cannot be used across files.
if ! nmout=$(nm -o "${objs[@]}" 2>&1); then
    echo "layering: nm failed: $nmout" >&2
    exit 2
fi

printf '%s\n' "$nmout" | awk -v build="$build/" -v layers="$LAYERS" -v graph="$graph" '
function file_of(path) {
    sub(/:$/, "", path)
    if (index(path, build) == 1) path = substr(path, length(build) + 1)
    sub(/\.o$/, ".c", path)
    return path
}
function layer_of(f,    i, best, bestlen) {
    best = -1; bestlen = 0
    for (i = 1; i <= nprefix; i++)
        if (index(f, prefix[i]) == 1 && length(prefix[i]) > bestlen) {
            best = prefix_layer[i]; bestlen = length(prefix[i])
        }
    return best
}
function layer_name(l) { return "layer " l " (" layer_words[l] ")" }
BEGIN {
    nl = split(layers, lines, "\n"); nlayer = 0; nprefix = 0
    for (i = 1; i <= nl; i++) {
        nw = split(lines[i], w, " ")
        if (nw == 0) continue
        nlayer++
        layer_words[nlayer] = lines[i]
        for (j = 1; j <= nw; j++) { prefix[++nprefix] = w[j]; prefix_layer[nprefix] = nlayer }
    }
}
{
    # "path:ADDR T name" or "path: U name" (nm -o pads U lines with spaces)
    colon = index($0, ".o:")
    if (colon == 0) next
    f = file_of(substr($0, 1, colon + 2))
    rest = substr($0, colon + 3)
    n = split(rest, p, " ")
    if (n < 2) next
    type = p[n - 1]; sym = p[n]
    if (!(f in seen)) { seen[f] = 1; files[++nfiles] = f }
    if (type == "U") { nund++; und_file[nund] = f; und_sym[nund] = sym }
    else if (type ~ /^[A-Z]$/ && !(sym in def)) def[sym] = f
}
END {
    bad = 0
    for (i = 1; i <= nfiles; i++) {
        f = files[i]; lay[f] = layer_of(f)
        if (lay[f] < 0) { printf "unplaced: %s is in no layer of tests/layering.sh\n", f; bad = 1 }
    }
    # Edges with the symbols behind them.
    for (i = 1; i <= nund; i++) {
        a = und_file[i]; s = und_sym[i]
        if (!(s in def)) continue
        b = def[s]
        if (a == b) continue
        k = a SUBSEP b
        if (!(k in esyms)) { esyms[k] = s; nout[a]++; out[a, nout[a]] = b }
        else if (index(" " esyms[k] " ", " " s " ") == 0) esyms[k] = esyms[k] " " s
    }
    if (graph) {
        for (k in esyms) {
            split(k, ab, SUBSEP)
            printf "%s\t%d\t%s\t%d\t%s\n", ab[1], lay[ab[1]], ab[2], lay[ab[2]], esyms[k]
        }
        exit 0
    }
    # Reachability from every file (breadth first), then the components:
    # a and b are in one component when each reaches the other.
    for (i = 1; i <= nfiles; i++) {
        src = files[i]; delete q; qh = 1; qt = 0
        q[++qt] = src; reach[src, src] = 1
        while (qh <= qt) {
            a = q[qh++]
            for (j = 1; j <= nout[a]; j++) {
                b = out[a, j]
                if (!((src, b) in reach)) { reach[src, b] = 1; q[++qt] = b }
            }
        }
    }
    ncomp = 0
    for (i = 1; i <= nfiles; i++) {
        a = files[i]
        if (a in comp) continue
        members = a; size = 1; comp[a] = a
        for (j = i + 1; j <= nfiles; j++) {
            b = files[j]
            if (!(b in comp) && ((a, b) in reach) && ((b, a) in reach)) {
                comp[b] = a; members = members " " b; size++
            }
        }
        if (size > 1) { ncomp++; cmembers[ncomp] = members; csize[ncomp] = size; chead[ncomp] = a }
    }
    for (c = 1; c <= ncomp; c++) {
        bad = 1
        printf "cycle: %d files use each other: %s\n", csize[c], cmembers[c]
        n = split(cmembers[c], m, " ")
        for (i = 1; i <= n; i++)
            for (j = 1; j <= nout[m[i]]; j++) {
                b = out[m[i], j]
                if (comp[b] == chead[c]) printf "  %s -> %s: %s\n", m[i], b, esyms[m[i], b]
            }
    }
    for (i = 1; i <= nfiles; i++) {
        a = files[i]
        for (j = 1; j <= nout[a]; j++) {
            b = out[a, j]
            if (lay[a] >= 0 && lay[b] > lay[a]) {
                bad = 1
                printf "upward: %s (%s) -> %s (%s): %s\n", a, layer_name(lay[a]), b, layer_name(lay[b]), esyms[a, b]
            }
        }
    }
    nedges = 0
    for (k in esyms) nedges++
    if (!bad) printf "layering: %d files, %d edges, %d layers: no cycle, no upward call\n", nfiles, nedges, nlayer
    exit bad
}'
