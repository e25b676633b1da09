#!/usr/bin/env bash
#
# test_man.sh — the manual pages config/dist/zetl.1 and config/dist/zetl.yaml.5
# against the binary and the config parser, so that neither page can drift
# from what zetl does:
#
#   options   every command of `zetl --help` (and --list-integrations, which has
#             a --help of its own) has a subsection `.SS "zetl CMD"` under
#             COMMANDS in zetl.1, whose .TP tags are exactly the option lines of
#             `zetl CMD --help` ("-c, --config FILE", both forms and the value),
#             both ways: a new option must be documented, a removed one cannot
#             linger; every `usage:` line is in SYNOPSIS and every SYNOPSIS line
#             is one (or top-level options); the top-level options (-h/--help,
#             -V/--version and those `zetl --help` names) are in "Top-level
#             options", and each option listed there is one the binary takes;
#             the rendered page shows every option line.
#   keys      each key table of config/walk.c (top_keys, ig_keys, ...) is one
#             `.SS` under KEYS in zetl.yaml.5 whose .TP tags ("key: ...") are
#             exactly that table's keys, both ways; every key config/example.yaml
#             uses is documented in its section; every example config of
#             zetl.yaml.5 (the .EX blocks under EXAMPLES) is one zetl loads.
#   render    both pages format with `man --warnings=w -l` and
#             `groff -man -ww -z -t` without a single warning (groff's `all`
#             set leaves out undefined macros, strings and registers: `w` is
#             every warning).
#   version   the .TH version of both pages is `zetl --version`.
#   selfcheck each kind of check is run on copies of the pages (and of walk.c,
#             example.yaml) with one thing broken, and must report it: proof
#             that a check can fail.
#
# The pages are read from their roff source, escapes undone (\- is -, \fB..\fR
# fonts dropped, \e is \, \& and \% are nothing), so a comparison is exact: no
# line breaks or hyphenation in the way; the rendered zetl.1 is checked too.
# Needs man (man-db), col (bsdextrautils) and groff (groff-base); a missing one
# is a FAIL naming its package.
#
# Environment: ZETL_BIN (default ./zetl); ZETL_MAN1, ZETL_MAN5 check other copies
# of the pages. Part of the unit suite (tests/run.sh).
set -uo pipefail
ROOT=${ZETL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$ROOT" || exit 1
# shellcheck source=SCRIPTDIR/../lib/assert.sh
. tests/lib/assert.sh
ZETL_BIN=${ZETL_BIN:-./zetl}
MAN1=${ZETL_MAN1:-config/dist/zetl.1}              # other pages: to see what the checks report
MAN5=${ZETL_MAN5:-config/dist/zetl.yaml.5}
WALK=config/walk.c
EXAMPLE=config/example.yaml

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zetl-man.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

# ---------------------------------------------------------------- tools
HAVE_MAN=1 HAVE_COL=1 HAVE_GROFF=1
need() {   # need TOOL PACKAGE VAR
    if command -v "$1" >/dev/null 2>&1; then
        t_pass man_deps "$1 is installed (Debian package $2)"
    else
        t_fail man_deps "$1 is installed" "Debian package $2 installed" "no $1 on PATH"
        printf -v "$3" 0
    fi
}
need man man-db HAVE_MAN
need col bsdextrautils HAVE_COL
need groff groff-base HAVE_GROFF

if [[ ! -x $ZETL_BIN ]]; then
    t_fail man_bin "the zetl binary is built" "an executable $ZETL_BIN" "none (run make)"
    t_done
fi
for f in "$MAN1" "$MAN5" "$WALK" "$EXAMPLE"; do
    [[ -s $f ]] || { t_fail man_files "$f exists" "a non-empty file" "missing or empty"; t_done; }
done

# ---------------------------------------------------------------- roff source → records
# roff_index FILE: one record per line, tab-separated, escapes undone:
#   TH   arg1 arg2 ...              the .TH line
#   SH   name                       a section
#   SS   section name               a subsection
#   TAG  section subsection text    the tag line of a .TP
#   TXT  section subsection text    any other text line (font macros rendered)
#   EX   section subsection n text  a line of the n-th .EX block
ROFF_AWK=$(cat <<'AWK'
function glyph(n) {
    if (n == "aq") return "'"; if (n == "dq") return "\""; if (n == "bu") return "*"
    if (n == "em") return "--"; if (n == "en") return "-"; if (n == "hy" || n == "mi") return "-"
    if (n == "lq" || n == "rq") return "\""; if (n == "rs") return "\\"; if (n == "ga") return "`"
    return "?" n
}
function unroff(s,   out, i, c, n, j) {
    out = ""; n = length(s); i = 1
    while (i <= n) {
        c = substr(s, i, 1)
        if (c != "\\") { out = out c; i++; continue }
        c = substr(s, i + 1, 1)
        if (c == "\"") break                              # \" comment
        if (c == "f") {                                   # \fB \f(BI \f[BI]
            c = substr(s, i + 2, 1)
            if (c == "(") i += 5
            else if (c == "[") { j = index(substr(s, i + 3), "]"); i += 3 + j }
            else i += 3
            continue
        }
        if (c == "(") { out = out glyph(substr(s, i + 2, 2)); i += 4; continue }
        if (c == "[") {
            j = index(substr(s, i + 2), "]"); out = out glyph(substr(s, i + 2, j - 1)); i += 2 + j
            continue
        }
        if (c == "-") out = out "-"
        else if (c == "e" || c == "\\") out = out "\\"
        else if (c == " " || c == "~") out = out " "
        else if (c == "&" || c == "|" || c == "^" || c == ")" || c == "c" || c == "%") out = out ""
        else out = out c
        i += 2
    }
    return out
}
# Macro arguments as roff splits them: spaces separate, "..." groups, "" is a quote.
function args(s, a,   n, i, c, cur, inq, st) {
    n = 0; cur = ""; inq = 0; st = 0
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (inq) {
            if (c == "\"") {
                if (substr(s, i + 1, 1) == "\"") { cur = cur "\""; i++ } else inq = 0
            } else cur = cur c
        } else if (c == " " || c == "\t") {
            if (st) { a[++n] = cur; cur = ""; st = 0 }
        } else if (c == "\"" && !st) { inq = 1; st = 1 }
        else if (c == "\\") { cur = cur c substr(s, i + 1, 1); i++; st = 1 }
        else { cur = cur c; st = 1 }
    }
    if (st) a[++n] = cur
    return n
}
function joined(s, sep,   a, n, i, out) {
    n = args(s, a); out = ""
    for (i = 1; i <= n; i++) out = out (i > 1 ? sep : "") unroff(a[i])
    return out
}
BEGIN { OFS = "\t"; sh = ""; ss = ""; tag = 0; ex = 0; nex = 0 }
/^[.'][ \t]*\\"/ { next }
/^\.EX/ { ex = 1; nex++; next }
/^\.EE/ { ex = 0; next }
ex { print "EX", sh, ss, nex, unroff($0); next }
/^[.']/ {
    name = $0; sub(/^[.'][ \t]*/, "", name); rest = name
    sub(/[ \t].*$/, "", name); sub(/^[^ \t]*[ \t]*/, "", rest)
    if (name == "TH") { n = args(rest, a); line = "TH"; for (i = 1; i <= n; i++) line = line OFS unroff(a[i])
                        print line; next }
    if (name == "SH") { sh = joined(rest, " "); ss = ""; tag = 0; print "SH", sh; next }
    if (name == "SS") { ss = joined(rest, " "); tag = 0; print "SS", sh, ss; next }
    if (name == "TP") { tag = 1; next }
    if (name == "B" || name == "I" || name == "SM" || name == "SB") text = joined(rest, " ")
    else if (name ~ /^(BR|IR|RB|RI|BI|IB)$/) text = joined(rest, "")
    else next
} !/^[.']/ { text = unroff($0) }
{ if (tag) { print "TAG", sh, ss, text; tag = 0 } else print "TXT", sh, ss, text }
AWK
)
roff_index() { awk "$ROFF_AWK" "$1"; }
# tags_of SECTION SUBSECTION: the .TP tags there, from a roff_index on stdin.
tags_of() { awk -F'\t' -v h="$1" -v s="$2" '$1 == "TAG" && $2 == h && $3 == s { print $4 }'; }

# ---------------------------------------------------------------- what the binary says
# in_list X LIST...: is X one of LIST?
in_list() { local x=$1; shift; local y; for y in "$@"; do [[ $x == "$y" ]] && return 0; done; return 1; }
# The commands of `zetl --help`, one per line.
help_commands() {
    "$ZETL_BIN" --help | awk '/^commands:/ { f = 1; next } f && /^$/ { exit } f && /^  [a-z]/ { print $1 }'
}
# The top-level options `zetl --help` names as "zetl --OPTION".
help_top() { "$ZETL_BIN" --help | grep -oE 'zetl --?[A-Za-z][A-Za-z0-9-]*' | awk '{ print $2 }' | sort -u; }
# help_specs CMD: the option lines of `zetl CMD --help`, as "-c, --config FILE".
help_specs() {
    "$ZETL_BIN" "$1" --help | awk '/^options:/ { f = 1; next } f' | grep -E '^ {1,6}-' |
        sed -E 's/^ +//; s/  .*$//'
}
help_usage() { "$ZETL_BIN" "$1" --help | sed -n '1s/^usage: //p'; }
# top_accepted OPT: does the binary take OPT as its first argument? An option it
# does not know goes to the console's parser, which exits 2 before doing
# anything; -c names a file that does not exist, so nothing is ever opened.
declare -A ACCEPTED=()
top_accepted() {
    local rc=0
    if [[ -z ${ACCEPTED[$1]:-} ]]; then
        timeout 10 "$ZETL_BIN" "$1" -c "$TMP/none/zetl.yaml" </dev/null >/dev/null 2>&1 || rc=$?
        ACCEPTED[$1]=$((rc != 2 && rc != 124 ? 1 : 0))
    fi
    [[ ${ACCEPTED[$1]} == 1 ]]
}

# Commands with a "zetl CMD" entry: those of `zetl --help`, and the top-level
# options with a usage of their own (`zetl --list-integrations --help`).
mapfile -t COMMANDS < <(help_commands)
mapfile -t TOP_HELP < <(help_top)
for o in "${TOP_HELP[@]}"; do
    [[ $("$ZETL_BIN" "$o" --help 2>/dev/null | head -n 1) == "usage: zetl $o"* ]] && COMMANDS+=("$o")
done
if ((${#COMMANDS[@]} < 7)); then
    t_fail man_options "zetl --help lists the commands" "console, run, check, ... (7 or more)" \
        "${COMMANDS[*]:-nothing}"
fi
declare -A SPECS=() USAGE=()
for c in "${COMMANDS[@]}"; do
    SPECS[$c]=$(help_specs "$c")
    USAGE[$c]=$(help_usage "$c")
    [[ -n ${SPECS[$c]} && -n ${USAGE[$c]} ]] ||
        t_fail man_options "zetl $c --help prints a usage and options" "usage: and options: lines" \
            "$("$ZETL_BIN" "$c" --help 2>&1 | head -n 3)"
done
# Top-level options the page must document: the ones `zetl --help` names, and
# -h/--help, -V/--version when the binary takes them.
TOP_REQUIRED=("${TOP_HELP[@]}")
for o in -h --help -V --version; do
    ! in_list "$o" "${TOP_REQUIRED[@]}" && top_accepted "$o" && TOP_REQUIRED+=("$o")
done
for o in "${TOP_HELP[@]}"; do top_accepted "$o"; done     # known to every check below

# ---------------------------------------------------------------- checks
# Each check prints records: "ok<TAB>what" or "bad<TAB>what<TAB>expected<TAB>saw".
ok() { printf 'ok\t%s\n' "$1"; }
bad() {   # one line per record: newlines and tabs in a field become " | " and a space
    local a=("${@//$'\n'/ | }")
    a=("${a[@]//$'\t'/ }")
    printf 'bad\t%s\t%s\t%s\n' "${a[0]}" "${a[1]}" "${a[2]}"
}
# report NAME: turn a check's records into PASS/FAIL lines.
report() {
    local name=$1 kind what exp saw
    while IFS=$'\t' read -r kind what exp saw; do
        if [[ $kind == ok ]]; then t_pass "$name" "$what"; else t_fail "$name" "$what" "$exp" "$saw"; fi
    done
}

# check_options MAN1: (a) and (b) for zetl.1.
check_options() {
    local idx c spec tag line o missing extra n
    idx=$(roff_index "$1")
    # Every command has its entry; every entry is a command.
    for c in "${COMMANDS[@]}"; do
        if grep -qxF "SS	COMMANDS	zetl $c" <<<"$idx"; then ok "zetl $c has its entry (.SS \"zetl $c\")"
        else bad "zetl $c has an entry under COMMANDS" ".SS \"zetl $c\"" "none"; fi
    done
    while IFS=$'\t' read -r _ _ c; do
        [[ $c == "Top-level options" ]] && continue
        in_list "${c#zetl }" "${COMMANDS[@]}" ||
            bad "every entry under COMMANDS is a command of zetl --help" "one of: ${COMMANDS[*]}" "$c"
    done < <(grep '^SS	COMMANDS	' <<<"$idx")
    # Each entry's tags are exactly the option lines of its --help, both ways.
    for c in "${COMMANDS[@]}"; do
        local -a tags=() specs=()
        mapfile -t tags < <(tags_of COMMANDS "zetl $c" <<<"$idx")
        mapfile -t specs <<<"${SPECS[$c]}"
        missing=0 extra=0
        for spec in "${specs[@]}"; do
            [[ -n $spec ]] || continue
            if ! in_list "$spec" "${tags[@]}"; then
                bad "zetl $c --help prints option \"$spec\"; zetl.1 lists it under zetl $c" \
                    "a .TP tag \"$spec\"" "tags: ${tags[*]/%/;}"
                missing=1
            fi
        done
        for tag in "${tags[@]}"; do
            if ! in_list "$tag" "${specs[@]}"; then
                bad "zetl.1 lists option \"$tag\" under zetl $c; zetl $c --help prints it" \
                    "one of: ${specs[*]/%/;}" "\"$tag\""
                extra=1
            fi
        done
        n=${#specs[@]}
        ((missing)) || ok "zetl $c: each of the $n options of its --help is listed (${specs[*]/%/;})"
        ((extra)) || ok "zetl $c: each option zetl.1 lists is one its --help prints"
    done
    # SYNOPSIS: each usage line is there; each line there is a usage or top-level options.
    local syn
    syn=$(awk -F'\t' '$1 == "TXT" && $2 == "SYNOPSIS" { print $4 }' <<<"$idx")
    missing=0
    for c in "${COMMANDS[@]}"; do
        if ! grep -qxF -- "${USAGE[$c]}" <<<"$syn"; then
            bad "the usage of zetl $c is in SYNOPSIS" "${USAGE[$c]}" "$syn"
            missing=1
        fi
    done
    ((missing)) || ok "SYNOPSIS has the usage line of each of the ${#COMMANDS[@]} commands"
    extra=0
    while IFS= read -r line; do
        [[ -n $line ]] || continue
        for c in "${COMMANDS[@]}"; do [[ $line == "${USAGE[$c]}" ]] && continue 2; done
        for o in $(grep -oE '(^| )--?[A-Za-z][A-Za-z0-9-]*' <<<"$line"); do
            if ! in_list "$o" "${TOP_REQUIRED[@]}" && ! top_accepted "$o"; then
                bad "SYNOPSIS line \"$line\" is a usage or top-level options" \
                    "a usage of zetl CMD --help, or options zetl takes first" "$o, which zetl does not take"
                extra=1
            fi
        done
    done <<<"$syn"
    ((extra)) || ok "every SYNOPSIS line is a usage line or top-level options zetl takes"
    # Top-level options: both ways, against zetl --help and the binary itself.
    local top
    top=$(tags_of COMMANDS "Top-level options" <<<"$idx" | tr ',' '\n' | sed -E 's/^ +//; s/ .*$//')
    missing=0
    for o in "${TOP_REQUIRED[@]}"; do
        grep -qxF -- "$o" <<<"$top" ||
            { bad "top-level option $o is listed in \"Top-level options\"" "a tag naming $o" "$top"
              missing=1; }
    done
    ((missing)) || ok "\"Top-level options\" lists ${TOP_REQUIRED[*]}"
    extra=0
    while IFS= read -r o; do
        [[ -n $o ]] || continue
        if ! top_accepted "$o"; then
            bad "top-level option $o listed in zetl.1 is one zetl takes" "zetl $o: not a usage error" \
                "exit 2 (unknown option)"
            extra=1
        fi
    done <<<"$top"
    ((extra)) || ok "each top-level option zetl.1 lists is one zetl takes ($(tr '\n' ' ' <<<"$top"))"
}

# check_rendered MAN1: what a reader sees (man, plain text) shows each option line.
check_rendered() {
    local text c spec missing=0 n=0
    text=$(LC_ALL=C MANWIDTH=200 man -l -P cat "$1" 2>/dev/null | col -b)
    [[ -n $text ]] || { bad "man -l renders $1" "text" "nothing"; return; }
    for c in "${COMMANDS[@]}"; do
        while IFS= read -r spec; do
            [[ -n $spec ]] || continue
            n=$((n + 1))
            grep -qF -- "$spec" <<<"$text" ||
                { bad "the rendered zetl.1 shows \"$spec\" (zetl $c)" "the text \"$spec\"" \
                      "not in man's output"; missing=1; }
        done <<<"${SPECS[$c]}"
    done
    ((missing)) || ok "the rendered zetl.1 (man -l | col -b) shows all $n option lines as --help prints them"
}

# walk_keys WALK TABLE: the keys of one key table of walk.c.
walk_keys() {
    awk -v t="$2" 'index($0, "static const char *const " t "[]") { f = 1 }
        f { s = s $0 } f && /};/ { exit }
        END { n = split(s, p, "\""); for (i = 2; i <= n; i += 2) print p[i] }' "$1"
}
declare -A SECTION=([top_keys]="Top level" [ig_keys]="integrations[] entry" [src_keys]=source
    [tgt_keys]=target [tbl_keys]=tables [rn_keys]="tables.rename[] entry"
    [fl_keys]="tables.filters[] entry" [app_keys]=apply [alr_keys]=alerts [ha_keys]=ha)

# example_keys YAML: "section<TAB>key<TAB>line" for every key, by its place in the file.
EXAMPLE_AWK=$(cat <<'AWK'
function section(p) {
    if (p == "") return "Top level"
    if (p == "integrations") return "integrations[] entry"
    if (p == "alerts" || p == "integrations.alerts") return "alerts"
    if (p == "integrations.source") return "source"
    if (p == "integrations.target") return "target"
    if (p == "integrations.target.headers") return "-"         # header names: free
    if (p == "integrations.tables") return "tables"
    if (p == "integrations.tables.rename") return "tables.rename[] entry"
    if (p == "integrations.tables.filters") return "tables.filters[] entry"
    if (p == "integrations.apply") return "apply"
    return "? (under " p ")"
}
BEGIN { OFS = "\t"; n = 0 }
/^[ \t]*(#|$)/ { next }
{
    line = $0; sub(/[ \t]+#.*$/, "", line)
    ind = match(line, /[^ ]/) - 1; rest = substr(line, ind + 1)
    if (substr(rest, 1, 2) == "- ") { ind += 2; rest = substr(rest, 3) }
    while (n > 0 && ind_[n] >= ind) n--
    path = ""; for (i = 1; i <= n; i++) path = path (i > 1 ? "." : "") key_[i]
    if (!match(rest, /^[A-Za-z_][A-Za-z0-9_-]*:/)) next
    key = substr(rest, 1, RLENGTH - 1); val = substr(rest, RLENGTH + 1)
    print section(path), key, NR
    n++; ind_[n] = ind; key_[n] = key
    sub_path = path (path == "" ? "" : ".") key
    gsub(/"[^"]*"/, "\"\"", val); gsub(/'[^']*'/, "''", val)
    while (match(val, /[{,][ ]*[A-Za-z_][A-Za-z0-9_]*:/)) {
        k = substr(val, RSTART + 1, RLENGTH - 2); gsub(/ /, "", k)
        print section(sub_path), k, NR
        val = substr(val, RSTART + RLENGTH)
    }
}
AWK
)
example_keys() { awk "$EXAMPLE_AWK" "$1"; }

# check_keys MAN5 WALK EXAMPLE: (c).
check_keys() {
    local idx t sec key tag missing extra
    idx=$(roff_index "$1")
    # Every key table of walk.c is one this test maps to a section.
    for t in $(grep -oE 'static const char \*const [a-z_]+_keys\[\]' "$2" | awk '{ print $5 }' |
               tr -d '[]'); do
        [[ -n ${SECTION[$t]:-} ]] ||
            bad "walk.c's key table $t has a section in zetl.yaml.5 (this test's SECTION map)" \
                "a SECTION entry for $t" "none"
    done
    # Every subsection under KEYS is a key table's.
    while IFS=$'\t' read -r _ _ sec; do
        local known=0
        for t in "${!SECTION[@]}"; do [[ ${SECTION[$t]} == "$sec" ]] && known=1; done
        ((known)) || bad "every .SS under KEYS is one of walk.c's sections" "one of: ${SECTION[*]}" "$sec"
    done < <(grep '^SS	KEYS	' <<<"$idx")
    for t in top_keys ig_keys src_keys tgt_keys tbl_keys rn_keys fl_keys app_keys alr_keys ha_keys; do
        sec=${SECTION[$t]}
        local -a wk=() mk=()
        mapfile -t wk < <(walk_keys "$2" "$t")
        if ((${#wk[@]} == 0)); then
            bad "walk.c has the key table $t" "static const char *const ${t}[]" "none"
            continue
        fi
        mk=()
        while IFS= read -r tag; do
            if [[ $tag =~ ^([a-z_]+): ]]; then mk+=("${BASH_REMATCH[1]}")
            else bad "each tag under $sec is \"key: ...\"" "key: type; default" "\"$tag\""; fi
        done < <(tags_of KEYS "$sec" <<<"$idx")
        missing=0 extra=0
        for key in "${wk[@]}"; do
            in_list "$key" "${mk[@]}" ||
                { bad "$t key \"$key\" is documented under \"$sec\" in zetl.yaml.5" "a tag \"$key: ...\"" \
                      "keys there: ${mk[*]}"; missing=1; }
        done
        for key in "${mk[@]}"; do
            in_list "$key" "${wk[@]}" ||
                { bad "zetl.yaml.5 documents \"$key\" under \"$sec\"; walk.c's $t has it" "one of: ${wk[*]}" \
                      "\"$key\""; extra=1; }
        done
        ((missing)) || ok "\"$sec\": the ${#wk[@]} keys of walk.c's $t are documented (${wk[*]})"
        ((extra)) || ok "\"$sec\": every key zetl.yaml.5 documents there is in walk.c's $t"
    done
    # Every key example.yaml uses, in its section.
    local line n=0
    local -A doc=()
    while IFS=$'\t' read -r sec key; do doc[$sec/$key]=1; done < <(awk -F'\t' '$1 == "TAG" && $2 == "KEYS" &&
        match($4, /^[a-z_]+:/) { print $3 "\t" substr($4, 1, RLENGTH - 1) }' <<<"$idx")
    missing=0
    while IFS=$'\t' read -r sec key line; do
        [[ $sec == - ]] && continue
        n=$((n + 1))
        [[ -n ${doc[$sec/$key]:-} ]] ||
            { bad "example.yaml line $line: key \"$key\" is documented under \"$sec\"" "a tag \"$key: ...\"" \
                  "none"; missing=1; }
    done < <(example_keys "$3")
    ((missing)) || ok "each of the $n keys used in example.yaml is documented in its section"
}

# check_examples MAN5: every .EX block under EXAMPLES is a config zetl loads.
# `zetl status` loads and validates the whole config and connects to nothing; the
# ${VAR}s an example names are set to placeholders (an https URL for *_URL).
check_examples() {
    local idx n i k=0 f v rc out
    idx=$(roff_index "$1")
    n=$(awk -F'\t' '$1 == "EX" && $2 == "EXAMPLES" { print $4 }' <<<"$idx" | sort -u | wc -l)
    ((n >= 4)) || bad "zetl.yaml.5 has at least 4 example configs" "4 or more" "$n"
    mkdir -p "$TMP/ex" "$TMP/state"
    for i in $(awk -F'\t' '$1 == "EX" && $2 == "EXAMPLES" { print $4 }' <<<"$idx" | sort -nu); do
        k=$((k + 1))
        f=$TMP/ex/example$k.yaml
        awk -F'\t' -v i="$i" '$1 == "EX" && $2 == "EXAMPLES" && $4 == i { print $5 }' <<<"$idx" |
            sed -E "s|^state_dir:.*|state_dir: $TMP/state|" >"$f"
        local -a envs=(-u STATE_DIRECTORY "XDG_STATE_HOME=$TMP/state" "HOME=$TMP")
        # shellcheck disable=SC2016  # the characters $ { } themselves
        for v in $(grep -oE '\$\{[A-Za-z_][A-Za-z0-9_]*\}' "$f" | tr -d '${}' | sort -u); do
            if [[ $v == *_URL ]]; then envs+=("$v=https://hooks.example.com/services/T0/B0/X")
            else envs+=("$v=zetl-test-placeholder-0123456789abcdef"); fi
        done
        rc=0
        out=$(env "${envs[@]}" "$ZETL_BIN" status -c "$f" 2>&1) || rc=$?
        if ((rc == 0)); then
            ok "example $k of zetl.yaml.5 ($(grep -m1 -oE 'name: [^ ]+' "$f")) is a config zetl loads"
        else
            bad "example $k of zetl.yaml.5 is a config zetl loads" "zetl status -c FILE: exit 0" \
                "exit $rc: $out"
        fi
    done
}

# check_render FILE: (d), no warning from man or groff. man-db passes --warnings
# to troff as -wWARNING: `w` is every warning, a superset of `all`.
check_render() {
    local name=${2:-$1} err
    if ((HAVE_MAN)); then
        err=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings=w -l "$1" 2>&1 >/dev/null)
        if [[ -z $err ]]; then ok "$name: man --warnings=w -l formats it without a warning"
        else bad "$name: man --warnings=w -l formats it without a warning" "nothing on stderr" "$err"; fi
    fi
    if ((HAVE_GROFF)); then
        err=$(groff -man -ww -z -t "$1" 2>&1)
        if [[ -z $err ]]; then ok "$name: groff -man -ww -z -t formats it without a warning"
        else bad "$name: groff -man -ww -z -t formats it without a warning" "nothing on stderr" "$err"; fi
    fi
}

# check_version FILE: (e), the .TH version is the binary's.
check_version() {
    local th want
    want=$("$ZETL_BIN" --version)
    th=$(roff_index "$1" | awk -F'\t' '$1 == "TH" { print $5; exit }')
    if [[ $th == "$want" ]]; then ok "$(basename "$1"): the .TH version \"$th\" is zetl --version's"
    else bad "$(basename "$1"): the .TH version is zetl --version's" "\"$want\"" "\"$th\""; fi
}

# ---------------------------------------------------------------- the pages
check_options "$MAN1" | report man_options
if ((HAVE_MAN && HAVE_COL)); then check_rendered "$MAN1" | report man_options; fi
check_keys "$MAN5" "$WALK" "$EXAMPLE" | report man_keys
check_examples "$MAN5" | report man_keys
for f in "$MAN1" "$MAN5"; do
    check_render "$f" "$(basename "$f")" | report man_render
    check_version "$f" | report man_version
done

# ---------------------------------------------------------------- self-checks
# Each check on a copy with one thing broken must report exactly that thing.
# edit NAME SRC DST SED...: DST is SRC through sed; a FAIL when sed changed nothing.
edit() {
    local name=$1 src=$2 dst=$3; shift 3
    sed "$@" "$src" >"$dst"
    if cmp -s "$src" "$dst"; then
        t_fail man_selfcheck "$name: the copy could be broken" "sed to change $(basename "$src")" "no change"
        return 1
    fi
}
# expect NAME PATTERN: the records on stdin have a "bad" one matching PATTERN (grep -E).
expect() {
    local recs
    recs=$(cat)
    if grep -E "^bad	.*$2" <<<"$recs" >/dev/null; then
        t_pass man_selfcheck "$1"
    else
        t_fail man_selfcheck "$1" "a failure matching /$2/" "$(grep '^bad' <<<"$recs" || echo 'no failure')"
    fi
}

# An option removed from the page (run's --metrics-file): the forward direction.
edit "options removed" "$MAN1" "$TMP/no-metrics.1" \
    '/^\.TP$/{N;/\\-\\-metrics\\-file\\fR \\fIPATH/d;}' &&
    check_options "$TMP/no-metrics.1" |
    expect "a page without run's --metrics-file fails: the option of --help must be listed" \
        'prints option "--metrics-file PATH"; zetl.1 lists it under zetl run'
# An option the binary does not have, added to status: the reverse direction.
edit "option added" "$MAN1" "$TMP/extra.1" \
    '/^\.SS "zetl status"/a .TP\n\\fB\\-\\-frobnicate\\fR\nNot an option.' &&
    check_options "$TMP/extra.1" |
    expect "a page listing status --frobnicate fails: a listed option must be in --help" \
        'lists option "--frobnicate" under zetl status'
# A top-level option the binary does not take.
edit "top-level option added" "$MAN1" "$TMP/top.1" \
    '/^\.SS "Top-level options"/a .TP\n\\fB\\-\\-bogus\\-top\\fR\nNot an option.' &&
    check_options "$TMP/top.1" |
    expect "a page listing a top-level --bogus-top fails: zetl does not take it" \
        'top-level option --bogus-top listed in zetl.1 is one zetl takes'
# A command entry renamed: the command lacks its entry.
edit "command renamed" "$MAN1" "$TMP/renamed.1" 's/^\.SS "zetl verify"/.SS "zetl verifier"/' &&
    check_options "$TMP/renamed.1" | expect "a page without a \"zetl verify\" entry fails" \
        'zetl verify has an entry under COMMANDS'
# A usage line changed in SYNOPSIS.
edit "synopsis changed" "$MAN1" "$TMP/syn.1" 's/^\\fBzetl check\\fR .*/\\fBzetl check\\fR/' &&
    check_options "$TMP/syn.1" | expect "a SYNOPSIS without check's usage line fails" \
        'the usage of zetl check is in SYNOPSIS'
# A key removed from the page: walk.c's key is not documented.
edit "key removed" "$MAN5" "$TMP/no-key.5" '/^\.TP$/{N;/^\.TP\n\\fBcopy_chunk_mb:/d;}' &&
    check_keys "$TMP/no-key.5" "$WALK" "$EXAMPLE" |
    expect "a page without apply.copy_chunk_mb fails: walk.c's key must be documented" \
        'app_keys key "copy_chunk_mb" is documented under "apply"'
# A key the parser does not have, added to source: the reverse direction.
edit "key added" "$MAN5" "$TMP/extra-key.5" \
    '/^\.SS "source"/a .TP\n\\fBreplica_lag:\\fR \\fIinteger\\fR\nNot a key.' &&
    check_keys "$TMP/extra-key.5" "$WALK" "$EXAMPLE" |
    expect "a page documenting source.replica_lag fails: a documented key must be in walk.c" \
        'documents "replica_lag" under "source"; walk.c.s src_keys has it'
# A key added to the parser (walk.c) and not to the page.
edit "parser key added" "$WALK" "$TMP/walk.c" 's/"copy_chunk_mb" };/"copy_chunk_mb", "prefetch" };/' &&
    check_keys "$MAN5" "$TMP/walk.c" "$EXAMPLE" |
    expect "a new apply key in walk.c, not in the page, fails" \
        'app_keys key "prefetch" is documented under "apply"'
# A key used in example.yaml that the page does not document.
edit "example key added" "$EXAMPLE" "$TMP/example.yaml" 's/^    apply:.*/&\n      prefetch: 1/' &&
    check_keys "$MAN5" "$WALK" "$TMP/example.yaml" |
    expect "an undocumented key in example.yaml (apply.prefetch) fails" \
        'key "prefetch" is documented under "apply"'
# An example config zetl refuses.
edit "example broken" "$MAN5" "$TMP/bad-example.5" 's/^      server_id: 4242$/      server_idd: 4242/' &&
    check_examples "$TMP/bad-example.5" | expect "an example with a misspelt key (server_idd) fails to load" \
        'example 1 of zetl.yaml.5 is a config zetl loads'
# A macro groff does not know: both man and groff must say so.
if edit "bad macro" "$MAN1" "$TMP/macro.1" 's/^\.SH SEE ALSO$/.XY\n&/'; then
    check_render "$TMP/macro.1" >"$TMP/macro.out"
    ((HAVE_MAN)) && expect "man --warnings=w reports an undefined macro .XY" \
        "man --warnings=w -l formats it .*macro 'XY' not defined" <"$TMP/macro.out"
    ((HAVE_GROFF)) && expect "groff -ww reports an undefined macro .XY" \
        "groff -man -ww -z -t formats it .*macro 'XY' not defined" <"$TMP/macro.out"
fi
# Another version in .TH.
edit "version changed" "$MAN5" "$TMP/version.5" 's/^\(\.TH .*\)"zetl [^"]*"/\1"zetl 0.0.0-old"/' &&
    check_version "$TMP/version.5" | expect "a .TH naming zetl 0.0.0-old fails" 'the .TH version is'

t_done
