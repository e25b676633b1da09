#!/usr/bin/env bash
# test_completion.sh — config/dist/zetl.bash-completion, sourced in a plain
# `bash --norc --noprofile` (no bash-completion package helpers): for a command
# line it sets COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT, calls _zetl and
# compares the sorted COMPREPLY with what is expected:
#   a. the commands (as `zetl --help` lists them) and the top-level options;
#   b. for every command, and --list-integrations, exactly the options its
#      `--help` prints (parsed here, so an option added to zetl and not to the
#      completion fails);
#   c. integration names from `zetl --list-integrations` for -c FILE, --config FILE,
#      --config=FILE, ~/FILE, $ZETL_CONFIG, ./zetl.yaml, $XDG_CONFIG_HOME: a name
#      with a space, an unset ${VAR} in the file, a prefix; the zetl typed is the
#      one run;
#   d. file names after -c (yaml and directories) and --metrics-file;
#   e. nothing on the command line is ever run ($(...) and `...` in paths,
#      names, the command word), and a config path with a space works.
# The zetl the completion runs is $ZETL_BIN (default ./zetl), through a symlink
# named zetl first in PATH, or its path as the command word.
#
#   ZETL_BIN=$PWD/zetl tests/run.sh tests/unit/test_completion.sh
set -uo pipefail
ROOT=${ZETL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$ROOT" || exit 1
. tests/lib/assert.sh
T=test_completion
SCRIPT=$ROOT/config/dist/zetl.bash-completion
BIN=${ZETL_BIN:-./zetl}
[[ $BIN == /* ]] || BIN=$ROOT/$BIN

if [[ ! -x $BIN ]]; then
    t_fail $T "the zetl binary" "an executable $BIN (make)" "none"
    t_done
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/completion.XXXXXX") || { t_fail $T "temporary directory" "mktemp ok" "failed"; t_done; }
trap 'rm -rf "$TMP"' EXIT

# The environment of every completion: no config found by zetl's default
# lookup unless a check puts one there.
mkdir -p "$TMP/bin" "$TMP/work" "$TMP/home" "$TMP/xdg"
ln -s "$BIN" "$TMP/bin/zetl"
export HOME=$TMP/home XDG_CONFIG_HOME=$TMP/xdg
unset ZETL_CONFIG UNSET_VAR_XYZ
BASEPATH=$PATH

# comp [-d DIR] [-p PATH] WORD...: the sorted COMPREPLY (one a line) of _zetl
# for the command line WORD... (the last word is the one at the cursor, at its
# end; a word "=" is glued to its neighbours, as bash splits --config=FILE),
# run in DIR (default $TMP/work) with PATH (default $TMP/bin first). Anything
# the completion prints itself (stderr included) comes first.
comp() {
    local dir=$TMP/work path=$TMP/bin:$BASEPATH
    while :; do
        case $1 in
        -d) dir=$2; shift 2 ;;
        -p) path=$2; shift 2 ;;
        *) break ;;
        esac
    done
    (cd "$dir" && PATH=$path bash --norc --noprofile -c '
        set -u
        exec 2>&1
        source "$1" || exit 9
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        line="" prev=""
        for w in "$@"; do
            if [[ -z $line ]]; then line=$w
            elif [[ $w == = || $prev == = ]]; then line+=$w
            else line+=" $w"; fi
            prev=$w
        done
        COMP_LINE=$line
        COMP_POINT=${#line}
        _zetl "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" || echo "_zetl returned $?"
        ((${#COMPREPLY[@]})) && printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort
        exit 0' comp "$SCRIPT" "$@")
}

# sorted WORD...: the words sorted, one a line.
sorted() { (($#)) && printf '%s\n' "$@" | LC_ALL=C sort; }

# help_options CMD...: the options `$BIN CMD... --help` prints, one a line
# (the "-c, --config FILE" lines of its options: section).
help_options() {
    local line in=0 tok
    while IFS= read -r line; do
        [[ $line == options:* ]] && { in=1; continue; }
        ((in)) || continue
        [[ $line =~ ^\ {1,8}(-.*)$ ]] || continue
        for tok in ${BASH_REMATCH[1]}; do
            tok=${tok%,}
            [[ $tok == -* ]] || break
            echo "$tok"
        done
    done < <("$BIN" "$@" --help 2>&1)
}

# help_commands: the commands `$BIN --help` lists.
help_commands() {
    local line in=0
    while IFS= read -r line; do
        [[ $line == commands:* ]] && { in=1; continue; }
        ((in)) || continue
        [[ -z $line ]] && break
        [[ $line =~ ^\ \ ([a-z][a-z0-9_-]*)\  ]] && echo "${BASH_REMATCH[1]}"
    done < <("$BIN" --help 2>&1)
}

# --- the script itself
t_ok $T "bash -n accepts the script" bash -n "$SCRIPT"
if command -v shellcheck >/dev/null 2>&1; then
    t_ok $T "shellcheck accepts the script" shellcheck "$SCRIPT"
fi
t_eq $T "sourcing registers _zetl for zetl" "complete -F _zetl zetl" \
    "$(bash --norc --noprofile -c 'source "$1" && complete -p zetl' _ "$SCRIPT" 2>&1)"

# --- a. the commands, and the top-level options
mapfile -t COMMANDS < <(help_commands)
t_ne $T "zetl --help lists commands" "" "${COMMANDS[*]}"
t_eq $T "zetl <TAB> gives the commands of zetl --help" "$(sorted "${COMMANDS[@]}")" "$(comp zetl '')"
t_eq $T "zetl r<TAB> gives run" "run" "$(comp zetl r)"
t_eq $T "zetl st<TAB> gives status" "status" "$(comp zetl st)"
TOPLEVEL=(--help -h --version -V --list-integrations)
for o in "${TOPLEVEL[@]}"; do
    case $o in
    --list-integrations) args=("$o" --help) ;;
    *) args=("$o") ;;
    esac
    if out=$("$BIN" "${args[@]}" 2>&1) && [[ -n $out ]]; then
        t_pass $T "zetl ${args[*]} works (offered at the top level)"
    else
        t_fail $T "zetl ${args[*]} works (offered at the top level)" "exit 0 and output" "$out"
    fi
done
t_eq $T "zetl -<TAB> gives the top-level options" "$(sorted "${TOPLEVEL[@]}")" "$(comp zetl -)"
t_eq $T "zetl --v<TAB> gives --version" "--version" "$(comp zetl --v)"
t_eq $T "zetl --version <TAB> gives nothing" "" "$(comp zetl --version '')"
t_eq $T "zetl nosuchcommand -<TAB> gives nothing" "" "$(comp zetl nosuchcommand -)"

# --- b. each command's options, as its --help prints them
for c in "${COMMANDS[@]}" --list-integrations; do
    mapfile -t want < <(help_options "$c")
    if ((${#want[@]} < 2)); then
        t_fail $T "zetl $c --help lists options" "at least -h --help" "${want[*]:-nothing}"
        continue
    fi
    t_eq $T "zetl $c -<TAB> gives the options of zetl $c --help" "$(sorted "${want[@]}")" "$(comp zetl "$c" -)"
    longs=()
    for o in "${want[@]}"; do [[ $o == --* ]] && longs+=("$o"); done
    t_eq $T "zetl $c --<TAB> gives its long options" "$(sorted "${longs[@]}")" "$(comp zetl "$c" --)"
done
# console is also the command of `zetl -c FILE ...`
mapfile -t want < <(help_options console)
rest=()
for o in "${want[@]}"; do [[ $o == -c || $o == --config ]] || rest+=("$o"); done
t_eq $T "zetl -c FILE -<TAB> gives the console's other options" "$(sorted "${rest[@]}")" "$(comp zetl -c x.yaml -)"
# an option given is not offered again (both of its forms)
mapfile -t want < <(help_options run)
rest=()
for o in "${want[@]}"; do [[ $o == -c || $o == --config || $o == -i || $o == --integration ]] || rest+=("$o"); done
t_eq $T "zetl run -c F --integration N -<TAB> leaves out -c/--config and -i/--integration" \
    "$(sorted "${rest[@]}")" "$(comp zetl run -c x.yaml --integration n -)"
t_eq $T "zetl run <TAB> offers the options too" "$(sorted "${want[@]}")" "$(comp zetl run '')"
t_eq $T "nothing after -t (a table name)" "" "$(comp zetl verify -t '')"
t_eq $T "nothing after --seconds" "" "$(comp zetl demo --seconds '')"
t_eq $T "nothing after --table=" "" "$(comp zetl verify --table = '')"

# --- c. integration names
mkdir -p "$TMP/conf" "$TMP/my dir"
cat >"$TMP/conf/z.yaml" <<'EOF'
integrations:
  - name: shop
    source:
      kind: mysql
      user: repl
      password: ${UNSET_VAR_XYZ}
      databases: [shop]
    target: {kind: postgres, dsn: "host=127.0.0.1 dbname=w"}
    tables: {include: ["shop.%"]}
  - name: "my tickit"
    source: {kind: postgres, user: repl, database: tickit}
    target: {kind: postgres, dsn: "host=127.0.0.1 dbname=w"}
    tables: {include: ["public.%"]}
  - name: other-one
    source: {kind: postgres, user: repl, database: other}
    target: {kind: postgres, dsn: "host=127.0.0.1 dbname=w"}
    tables: {include: ["public.%"]}
EOF
CFG=$TMP/conf/z.yaml
cp "$CFG" "$TMP/my dir/z.yaml"
SP=$TMP/my\ dir/z.yaml
# The names as they go on the command line (the space escaped).
ALL=$(sorted 'my\ tickit' other-one shop)
t_eq $T "zetl --list-integrations -c FILE prints the three names (unset \${VAR} and all)" \
    "$(printf '%s\n' shop 'my tickit' other-one)" "$("$BIN" --list-integrations -c "$CFG" 2>&1)"

t_eq $T "zetl run -c FILE -i <TAB> gives the three names" "$ALL" "$(comp zetl run -c "$CFG" -i '')"
t_eq $T "zetl run -c FILE -i sh<TAB> gives shop" "shop" "$(comp zetl run -c "$CFG" -i sh)"
t_eq $T "zetl run -c FILE -i my<TAB> gives the name with a space, escaped" 'my\ tickit' "$(comp zetl run -c "$CFG" -i my)"
t_eq $T "zetl run -c FILE -i my\\ t<TAB> (escaped prefix)" 'my\ tickit' "$(comp zetl run -c "$CFG" -i 'my\ t')"
t_eq $T "zetl run -c FILE -i 'my<TAB> (in quotes: readline keeps the quote)" 'my tickit' "$(comp zetl run -c "$CFG" -i "'my")"
t_eq $T "zetl run -c FILE -i x<TAB> gives nothing" "" "$(comp zetl run -c "$CFG" -i x)"
t_eq $T "zetl run --config FILE --integration <TAB>" "$ALL" "$(comp zetl run --config "$CFG" --integration '')"
t_eq $T "zetl run --config=FILE -i <TAB> (bash splits at =)" "$ALL" "$(comp zetl run --config = "$CFG" -i '')"
t_eq $T "zetl run --config=FILE -i <TAB> (one word)" "$ALL" "$(comp zetl run "--config=$CFG" -i '')"
t_eq $T "zetl run -cFILE -i <TAB>" "$ALL" "$(comp zetl run "-c$CFG" -i '')"
t_eq $T "zetl run -c FILE --integration=o<TAB> gives other-one" "other-one" "$(comp zetl run -c "$CFG" --integration = o)"
t_eq $T "zetl run -c FILE -io<TAB> gives -iother-one" "-iother-one" "$(comp zetl run -c "$CFG" -io)"
t_eq $T "zetl status -c FILE -i <TAB>" "$ALL" "$(comp zetl status -c "$CFG" -i '')"
t_eq $T "zetl verify -c FILE -i <TAB>" "$ALL" "$(comp zetl verify -c "$CFG" -i '')"
t_eq $T "zetl check -c FILE -i <TAB> gives nothing (check takes no -i)" "" "$(comp zetl check -c "$CFG" -i '')"
t_eq $T "the last -c wins" "$ALL" "$(comp zetl run -c /nonexistent.yaml -c "$CFG" -i '')"
t_eq $T "a config that does not load gives nothing, quietly" "" "$(comp zetl run -c "$TMP/nonexistent.yaml" -i '')"
t_eq $T "no -c, ZETL_CONFIG=FILE: the names" "$ALL" "$(ZETL_CONFIG=$CFG comp zetl run -i '')"
t_eq $T "no -c and no config anywhere: nothing" "" "$(comp zetl run -i '')"
mkdir -p "$TMP/cwd" "$TMP/xdg2/zetl"
cp "$CFG" "$TMP/cwd/zetl.yaml"
cp "$CFG" "$TMP/xdg2/zetl/zetl.yaml"
t_eq $T "no -c, ./zetl.yaml: the names" "$ALL" "$(comp -d "$TMP/cwd" zetl run -i '')"
t_eq $T "no -c, \$XDG_CONFIG_HOME/zetl/zetl.yaml: the names" "$ALL" "$(XDG_CONFIG_HOME=$TMP/xdg2 comp zetl run -i '')"
cp "$CFG" "$TMP/home/z.yaml"
# shellcheck disable=SC2088  # the word as typed: the completion expands it
t_eq $T "-c ~/FILE: the tilde is expanded" "$ALL" "$(comp zetl run -c '~/z.yaml' -i '')"
# shellcheck disable=SC2088
t_eq $T "--config=~/FILE: the tilde is expanded" "$ALL" "$(comp zetl run --config = '~/z.yaml' -i '')"
t_eq $T "the zetl typed, as a path: \$ZETL_BIN itself" "$ALL" "$(comp -p /usr/bin:/bin "$BIN" run -c "$CFG" -i '')"
t_eq $T "no zetl in PATH, none typed: nothing, quietly" "" "$(comp -p /usr/bin:/bin zetl run -c "$CFG" -i '')"
# A stub zetl typed as a path is the one run; it records its arguments.
mkdir -p "$TMP/alt"
cat >"$TMP/alt/zetl" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$@" >"$TMP/alt/args"
echo from-stub
echo "stub noise" >&2
EOF
chmod +x "$TMP/alt/zetl"
t_eq $T "a zetl typed as a path is the one run (its stderr discarded)" "from-stub" "$(comp "$TMP/alt/zetl" run -c "$SP" -i '')"
stubargs=$(cat "$TMP/alt/args" 2>/dev/null)
t_match $T "it got --list-integrations and the config path (with its space) as one argument" \
    "^--list-integrations"$'\n'"(-c|--config)?"$'\n'"?(--config=)?$TMP/my dir/z.yaml\$" "$stubargs"
t_eq $T "a typed path that is not executable: zetl from PATH" "$ALL" "$(comp "$TMP/conf/z.yaml" run -c "$CFG" -i '')"

# --- d. file names
mkdir -p "$TMP/files/sub" "$TMP/txtonly"
touch "$TMP/files/a.yaml" "$TMP/files/b.txt" "$TMP/files/sub/c.yml" "$TMP/txtonly/notes.txt"
t_eq $T "zetl check -c <TAB> gives a.yaml and the directory" "$(sorted a.yaml sub)" "$(comp -d "$TMP/files" zetl check -c '')"
t_eq $T "zetl check --config <TAB> likewise" "$(sorted a.yaml sub)" "$(comp -d "$TMP/files" zetl check --config '')"
t_eq $T "zetl check --config=<TAB> likewise (bash splits at =)" "$(sorted a.yaml sub)" "$(comp -d "$TMP/files" zetl check --config = '')"
t_eq $T "zetl check -c s<TAB> gives the directory" "sub" "$(comp -d "$TMP/files" zetl check -c s)"
t_eq $T "zetl check -c sub/<TAB> gives sub/c.yml" "sub/c.yml" "$(comp -d "$TMP/files" zetl check -c sub/)"
t_eq $T "zetl check -c <TAB> with no yaml and no directory: every file" "notes.txt" "$(comp -d "$TMP/txtonly" zetl check -c '')"
t_eq $T "zetl -c <TAB> (the console) gives a.yaml and the directory" "$(sorted a.yaml sub)" "$(comp -d "$TMP/files" zetl -c '')"
t_eq $T "zetl run --metrics-file <TAB> gives every file" "$(sorted a.yaml b.txt sub)" "$(comp -d "$TMP/files" zetl run --metrics-file '')"
t_eq $T "zetl check -c '\$TMP/my d<TAB> (a quoted path with a space)" "$TMP/my dir" "$(comp zetl check -c "'$TMP/my d")"
t_eq $T "zetl check -c \$TMP/my\\ d<TAB> (an escaped space)" "$TMP/my dir" "$(comp zetl check -c "${TMP// /\\ }/my\\ d")"
t_eq $T "zetl demo --seconds 5 --headless -c <TAB> gives nothing (demo takes no -c)" "" "$(comp -d "$TMP/files" zetl demo -c '')"

# --- e. nothing on the command line is run; a config path with a space works
MARK=$TMP/pwned
t_eq $T "-c 'PATH WITH SPACE' -i <TAB>" "$ALL" "$(comp zetl run -c "'$SP'" -i '')"
t_eq $T "-c \"PATH WITH SPACE\" -i <TAB>" "$ALL" "$(comp zetl run -c "\"$SP\"" -i '')"
t_eq $T "-c PATH\\ WITH\\ SPACE -i <TAB>" "$ALL" "$(comp zetl run -c "${SP// /\\ }" -i '')"
t_eq $T "--config='PATH WITH SPACE' -i <TAB>" "$ALL" "$(comp zetl run --config = "'$SP'" -i '')"
# (a file name has no "/": that command would touch ./pwned, in $TMP/work)
cp "$CFG" "$TMP/my dir/\$(touch pwned).yaml"
t_eq $T "-c 'DIR/\$(touch pwned).yaml' -i <TAB>: that file, literally" "$ALL" \
    "$(comp zetl run -c "'$TMP/my dir/\$(touch pwned).yaml'" -i '')"
t_eq $T "zetl check -c 'DIR/\$( <TAB>: that file, literally" "$TMP/my dir/\$(touch pwned).yaml" \
    "$(comp zetl check -c "'$TMP/my dir/\$(")"
for words in \
    "zetl|run|-c|\$(touch $MARK)|-i|" \
    "zetl|run|-c|\`touch $MARK\`|-i|" \
    "zetl|run|-c|\"\$(touch $MARK)\"|-i|" \
    "zetl|run|--config|=|\$(touch $MARK)|-i|" \
    "zetl|run|-c|~\$(touch $MARK)/z.yaml|-i|" \
    "zetl|run|-c|$CFG|-i|\$(touch $MARK)" \
    "zetl|run|-c|$CFG|-i|\"\$(touch $MARK)" \
    "zetl|check|-c|\$(touch $MARK)" \
    "zetl|check|-c|\$(touch $MARK)/" \
    "zetl|check|-c|\`touch $MARK\`" \
    "zetl|run|--metrics-file|\$(touch $MARK)" \
    "zetl|\$(touch $MARK)" \
    "\$(touch $MARK)/zetl|run|-c|$CFG|-i|" \
    "zetl|run|\$(touch $MARK)|-"; do
    IFS='|' read -r -a w <<<"$words"
    [[ $words == *'|' ]] && w+=('')
    out=$(comp "${w[@]}")
    if [[ -e $MARK ]]; then
        t_fail $T "completing ${words//|/ } runs nothing" "no $MARK" "it was created"
        rm -f "$MARK"
    else
        t_pass $T "completing ${words//|/ } runs nothing"
    fi
done
t_eq $T "\$(touch M)/zetl typed: zetl from PATH, the names" "$ALL" "$(comp "\$(touch $MARK)/zetl" run -c "$CFG" -i '')"
t_eq $T "no marker file at the end" "absent" \
    "$([[ -e $MARK || -e $TMP/work/pwned || -e "$TMP/my dir/pwned" ]] && echo present || echo absent)"

# zetl --list-integrations itself: what the completion stands on.
printf 'integrations:\n  - name: ok\n    source: {password: "${UNSET_VAR_XYZ}"\n' >"$TMP/broken.yaml"
out=$("$BIN" --list-integrations -c "$TMP/broken.yaml" 2>&1); rc=$?
t_match $T "--list-integrations on broken YAML: exit 1, FILE:LINE:COL and why" \
    "^1 $TMP/broken.yaml:[0-9]+:[0-9]+: YAML syntax error" "$rc $out"
out=$("$BIN" --list-integrations -c "$TMP/nonexistent.yaml" 2>&1); rc=$?
t_match $T "--list-integrations on a missing file: exit 1, the file and the fix" \
    "^1 $TMP/nonexistent.yaml: cannot open the config: No such file or directory \(write one with" "$rc $out"
out=$("$BIN" --list-integrations -c "$TMP/broken.yaml" --json 2>&1); rc=$?
t_match $T "--list-integrations with an option it does not take: usage error, exit 2" "^2 " "$rc $out"

t_done
