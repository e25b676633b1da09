#!/usr/bin/env bash
# test_config_limits.sh — the real binary refuses a 70-level nested config and
# a 10 MB config within a second, with one FILE:LINE:COL line naming the limit
# (the loader used to spin for minutes on deep flow nesting, seconds on size).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
ZETL=${ZETL_BIN:-$PWD/zetl}
T=test_config_limits
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 70 levels in block style, 100000 in flow style, 10 MB of integrations.
python3 - "$work" <<'PY'
import sys
d = sys.argv[1]
with open(d + '/nest.yaml', 'w') as f:
    f.write('integrations:\n')
    for i in range(69):
        f.write('  ' * (i + 1) + 'k%d:\n' % i)
    f.write('  ' * 70 + 'x\n')
with open(d + '/flow.yaml', 'w') as f:
    f.write('integrations: ' + '[' * 100000 + ']' * 100000 + '\n')
with open(d + '/big.yaml', 'w') as f:
    f.write('integrations:\n')
    line = '  - {name: a, source: {kind: mysql, host: h}}\n'
    f.write(line * (10 * 1024 * 1024 // len(line) + 1))
PY
bigline=$(head -c 1048576 "$work/big.yaml" | wc -l); bigline=$((bigline + 1))

check() {   # WHAT FILE EXPECTED-FIRST-LINE
    local start end out rc ms
    start=$(date +%s%N)
    out=$(timeout 30 "$ZETL" check -c "$2" 2>&1); rc=$?
    end=$(date +%s%N); ms=$(((end - start) / 1000000))
    t_eq $T "$1: exit 1" "1" "$rc"
    t_eq $T "$1: the first line names FILE:LINE:COL and the limit" "$3" "$(head -1 <<<"$out")"
    t_eq $T "$1: and nothing else is reported" "zetl check: $2 has 1 problem" "$(sed -n 2p <<<"$out")"
    if [ $ms -lt 1000 ]; then t_pass $T "$1: refused within a second (${ms} ms)"
    else t_fail $T "$1: refused within a second" "< 1000 ms" "${ms} ms"; fi
}
check "70 nested mappings" "$work/nest.yaml" \
    "$work/nest.yaml:65:129: mappings and lists nested deeper than 64 levels; a zetl config needs 6 at most: is this the right file?"
check "100000 nested flow lists" "$work/flow.yaml" \
    "$work/flow.yaml:1:78: mappings and lists nested deeper than 64 levels; a zetl config needs 6 at most: is this the right file?"
check "a 10 MB config" "$work/big.yaml" \
    "$work/big.yaml:$bigline:1: the config is larger than 1 MiB (zetl stops reading here); a real config is a few KiB: is this the right file?"
t_done
