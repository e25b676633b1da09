#!/usr/bin/env bash
# test_status.sh — `zetl status` reads the SQLite log: the JSON contract,
# the human table, a missing log, and reading while another process writes.
set -uo pipefail
ZETL=${ZETL_BIN:-./zetl}
STRESS=${ZETL_BUILD:-build}/tools/statelog_stress
T=test_status
work=$(mktemp -d)
writer=
trap '[ -n "$writer" ] && kill "$writer" 2>/dev/null; rm -rf "$work"' EXIT
fails=0
pass() { echo "PASS $T: $1"; }
fail() { echo "FAIL $T: $1 — expected $2, saw $3"; fails=$((fails + 1)); }

cat >"$work/zetl.yaml" <<YAML
state_dir: $work/state
integrations:
  - name: shop
    source: {kind: postgres, host: 127.0.0.1, user: repl, database: shop}
    target: {kind: postgres, dsn: "host=127.0.0.1 dbname=warehouse password=dsn-secret"}
    tables: {include: ["public.%"]}
YAML

# No log yet: empty JSON, a sentence for people, and no file created.
out=$("$ZETL" status -c "$work/zetl.yaml" --json 2>&1); rc=$?
[ $rc -eq 0 ] && [ "$out" = '{"integrations": []}' ] && pass "no log: empty integrations" \
    || fail "no log: empty integrations" '{"integrations": []} exit 0' "$out exit $rc"
[ ! -e "$work/state/zetl.db" ] && pass "status never creates the log" \
    || fail "status never creates the log" "no $work/state/zetl.db" "the file exists"
out=$("$ZETL" status -c "$work/zetl.yaml" 2>&1)
grep -q "no state log" <<<"$out" && pass "no log: says so" || fail "no log: says so" "'no state log'" "$out"

# Fill the log: 50 committed iterations on integration "shop".
mkdir -p "$work/state"
"$STRESS" write "$work/state/zetl.db" 50 shop >/dev/null || fail "stress writer" "exit 0" "exit $?"

out=$("$ZETL" status -c "$work/zetl.yaml" --json 2>&1); rc=$?
[ $rc -eq 0 ] && pass "status --json exits 0" || fail "status --json exits 0" "exit 0" "exit $rc: $out"
if jq -e . >/dev/null 2>&1 <<<"$out"; then pass "status --json is JSON"; else fail "status --json is JSON" "valid JSON" "$out"; fi
name=$(jq -r '.integrations[0].name' <<<"$out")
[ "$name" = shop ] && pass "integration listed" || fail "integration listed" shop "$name"
ins=$(jq -r '.integrations[0].tables[] | select(.name=="t") | .inserts' <<<"$out")
[ "$ins" = 50 ] && pass "table counts read back" || fail "table counts read back" 50 "$ins"
keys=$(jq -r '.integrations[0] | keys_unsorted | join(",")' <<<"$out")
want="name,state,reason,source,target,position,lag_ms,bytes_behind,lag_resolution_ms,stalled,stalled_since,tables,wait,retry,running,last_state,runner,runner_pid,runner_started_at,stopped_at,last_seen_at,source_position,source_position_at,bytes_between,files_between,binlog_expire_seconds,checkpoint_commit_at,binlog_purge_not_before,ha"
[ "$keys" = "$want" ] && pass "integration fields follow the contract, then wait, retry, the liveness, the source position and ha fields" || fail "integration fields follow the contract, then wait, retry, the liveness, the source position and ha fields" "$want" "$keys"
ha=$(jq -c '.integrations[0].ha' <<<"$out")
[ "$ha" = null ] && pass "ha is null without ha: in the config" || fail "ha is null without ha" null "$ha"
# Nobody holds shop's lock (only the stress writer wrote it): stopped, with the
# state the log holds kept as last_state.
st=$(jq -r '.integrations[0] | "\(.state) \(.running) \(.last_state)"' <<<"$out")
[[ $st == "stopped false "* && $st != *" null" ]] && pass "an integration nobody runs is stopped, last_state kept" \
    || fail "an integration nobody runs is stopped, last_state kept" "stopped false <state>" "$st"
tkeys=$(jq -r '.integrations[0].tables[0] | keys_unsorted | join(",")' <<<"$out")
want="name,target,state,reason,rows_copied,inserts,updates,deletes,last_applied_at,lag_ms,copy,shape"
[ "$tkeys" = "$want" ] && pass "table fields follow the contract, then copy, then shape" || fail "table fields follow the contract, then copy, then shape" "$want" "$tkeys"

out=$("$ZETL" status -c "$work/zetl.yaml" 2>&1)
grep -qE '^shop ' <<<"$out" && grep -qE '^  t +' <<<"$out" && pass "human form lists integration and table" \
    || fail "human form lists integration and table" "lines for shop and t" "$out"
grep -q dsn-secret <<<"$out" && fail "no secret in status" "no dsn password" "$out" || pass "no secret in status"

out=$("$ZETL" status -c "$work/zetl.yaml" -i nosuch 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q 'no integration named "nosuch"' <<<"$out" && pass "unknown -i is refused" \
    || fail "unknown -i is refused" "exit 1 naming nosuch" "exit $rc: $out"

# Read while another process writes: every read succeeds and counts never go back.
"$STRESS" write "$work/state/zetl.db" 3000 shop >/dev/null &
writer=$!
prev=0 bad=0 reads=0
while kill -0 "$writer" 2>/dev/null && [ $reads -lt 200 ]; do
    out=$("$ZETL" status -c "$work/zetl.yaml" --json 2>&1) || { bad=1; break; }
    n=$(jq -r '.integrations[0].tables[] | select(.name=="t") | .inserts' <<<"$out" 2>/dev/null) || { bad=1; break; }
    [ "$n" -ge "$prev" ] || { bad=1; break; }
    prev=$n reads=$((reads + 1))
done
wait "$writer"; wrc=$?; writer=
[ $bad -eq 0 ] && [ $reads -gt 0 ] && pass "status reads while a writer writes ($reads reads, last inserts=$prev)" \
    || fail "status reads while a writer writes" "every read ok and monotonic" "failure after $reads reads: ${out:0:300}"
[ $wrc -eq 0 ] && pass "writer unaffected by readers" || fail "writer unaffected by readers" "exit 0" "exit $wrc"

exit $((fails > 0))
