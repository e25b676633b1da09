# shellcheck shell=bash
#
# shaped.sh — what the tests of shaped tables (test_transforms, test_soft_delete,
# test_row_filters, test_history) share: a kill -9 in the middle of a chunked
# initial copy, and waiting for tables to reach a state.
#
#   kill_mid_initial_copy TABLE INTEGRATION... -- SCHEMA...
#       starts `zetl run` (e2e_run_start), paces the copy of SCHEMA.TABLE in
#       each target schema from its first row (e2e_pace_target: 50 ms on one
#       row in 50), and once zetl.copy_progress shows two chunks of TABLE
#       committed for those integrations kills zetl with SIGKILL, drops the
#       pacing and starts it again. 0 when the kill landed in the copy, 1 when the copy never got
#       there (within 30 s).
#   wait_table_states JQ-SELECT STATES SECONDS
#       polls `zetl status --json` until the states of the tables
#       `.integrations[] | JQ-SELECT` picks, joined with ",", are STATES;
#       $SHAPED_STATUS holds the last status. 0 when so, 1 on timeout.
#
# Needs tests/lib/harness.sh, assert.sh and e2e.sh sourced first.

kill_mid_initial_copy() {
    local table=$1 integs=() schemas=() a ok=1
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do integs+=("'$1'"); shift; done
    shift
    schemas=("$@")
    # Paced from its first row, whatever the machine's load: the trigger is
    # on the table the moment zetl creates it.
    e2e_pace_target 50 0.05 "${schemas[@]/%/.$table}"
    e2e_run_start
    for _ in $(seq 1 300); do
        a=$(zh_psql_tgt -c "SELECT coalesce(sum(chunks), 0) FROM zetl.copy_progress WHERE integration IN
                            ($(IFS=,; echo "${integs[*]}")) AND source_table LIKE '%.$table'" 2>/dev/null)
        if [ "${a:-0}" -ge 2 ]; then ok=0; break; fi
        sleep 0.1
    done
    e2e_run_kill9
    e2e_unpace_target
    e2e_run_start
    return $ok
}

wait_table_states() {
    local end=$((SECONDS + $3))
    while ((SECONDS < end)); do
        SHAPED_STATUS=$("$ZETL" status --json -c "$E2E_DIR/zetl.yaml" 2>/dev/null)
        [ "$(jq -r "[.integrations[] | $1 | .state] | join(\",\")" <<<"$SHAPED_STATUS")" = "$2" ] && return 0
        sleep 0.2
    done
    return 1
}
