#!/usr/bin/env bash
# test_cli.sh — the zetl command line: help, version, usage errors, `check`
# on good and bad configs, and that no secret reaches the output.
set -uo pipefail
ZETL=${ZETL_BIN:-./zetl}
T=test_cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

pass() { echo "PASS $T: $1"; }
fail() { echo "FAIL $T: $1 — expected $2, saw $3"; fails=$((fails + 1)); }

# expect_rc WHAT WANT_RC CMD...: runs CMD, captures stdout+stderr in $out.
expect_rc() {
    local what=$1 want=$2; shift 2
    out=$("$@" 2>&1); local rc=$?
    if [ "$rc" -eq "$want" ]; then pass "$what (exit $rc)"; else fail "$what" "exit $want" "exit $rc: ${out:0:300}"; fi
}
expect_out() {
    local what=$1 needle=$2
    if grep -qF -- "$needle" <<<"$out"; then pass "$what"; else fail "$what" "output containing '$needle'" "'${out:0:400}'"; fi
}

expect_rc "--help" 0 "$ZETL" --help
expect_out "--help lists every command" "verify"
# Each command's whole summary, not its first line cut mid-sentence.
expect_out "--help: the console summary is whole" "threads, or attaches to a \`zetl run\` that already holds them."
expect_out "--help: the run summary is whole" "checkpoints and exits 0."
expect_out "--help: the demo summary is whole" "when the demo exits."
for c in console run check status verify init demo; do
    expect_rc "$c --help" 0 "$ZETL" "$c" --help
    expect_out "$c --help shows its usage" "usage: zetl"
done
expect_rc "--version" 0 "$ZETL" --version
expect_out "--version prints the version" "zetl 0."
expect_rc "unknown command" 2 "$ZETL" frobnicate
expect_out "unknown command is named" "unknown command 'frobnicate'"
expect_rc "unknown flag" 2 "$ZETL" check --frob
expect_out "unknown flag is named" "unknown option '--frob'"
expect_rc "flag another command owns" 2 "$ZETL" check --json
expect_rc "missing option value" 2 "$ZETL" check -c
expect_rc "stray argument" 2 "$ZETL" status extra

# check: a valid config.
cat >"$work/good.yaml" <<YAML
state_dir: $work/state
integrations:
  - name: tickit
    source:
      kind: mysql
      host: 127.0.0.1
      port: 3306
      user: repl
      tls: disable
      password: \${ZETL_TEST_PW}
      databases: [tickit]
    target:
      kind: postgres
      dsn: "host=127.0.0.1 dbname=warehouse user=zetl password=hunter2-dsn"
    tables:
      include: ["tickit.%"]
YAML
# Nothing listens on the source port here: the config is valid, the
# preflight then fails to connect (tests/integration/test_check_*.sh cover
# real servers).
ZETL_TEST_PW=s3cret-env-pw expect_rc "check on a valid config with no server" 1 "$ZETL" check -c "$work/good.yaml"
expect_out "the config itself is valid" "good.yaml: ok (1 integration"
expect_out "check names the integration" "integration tickit"
expect_out "the unreachable source is named with its cause" "cannot connect to mysql://127.0.0.1:3306"
if grep -qE 's3cret-env-pw|hunter2-dsn' <<<"$out"; then
    fail "check output hides secrets" "no password in output" "$out"
else
    pass "check output hides secrets"
fi

# check: an invalid config reports FILE:LINE:COL and exits 1.
cat >"$work/bad.yaml" <<'YAML'
integrations:
  - name: tickit
    source:
      kind: mysql
      host: 127.0.0.1
      prot: 3306
      user: repl
      databases: [tickit]
    target:
      kind: postgres
      dsn: "host=127.0.0.1"
    tables:
      include: ["tickit.%"]
YAML
expect_rc "check on a config with a typo" 1 "$ZETL" check -c "$work/bad.yaml"
expect_out "error names file:line:col" "$work/bad.yaml:6:7:"
expect_out "error suggests the key" "port"

# check: a password variable that is unset is named, never guessed.
env -u ZETL_TEST_PW "$ZETL" check -c "$work/good.yaml" >"$work/o" 2>&1; rc=$?
out=$(cat "$work/o")
[ $rc -eq 1 ] && pass "unset \${VAR} fails check" || fail "unset \${VAR} fails check" "exit 1" "exit $rc"
expect_out "unset variable is named" "ZETL_TEST_PW"

# check: a missing file.
expect_rc "check on a missing file" 1 "$ZETL" check -c "$work/nope.yaml"
expect_out "missing file says how to create one" "zetl init"

exit $((fails > 0))
