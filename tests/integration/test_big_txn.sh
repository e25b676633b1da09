#!/usr/bin/env bash
# test_big_txn.sh — one 1,000,000-row transaction replicates exactly with a
# 16 MB memory budget, and zetl's peak RSS stays under budget + 64 MB
# (the queue spills the transaction to a spool file; the applier loads it
# into one target transaction in budget-sized pieces).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_big_txn
DB=e2e_big
ROWS=${ZETL_BIG_TXN_ROWS:-1000000}
BUDGET_MB=16

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'e2e_cleanup; harness_stop' EXIT

zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB;
USE $DB;
CREATE TABLE big (id INT PRIMARY KEY, a BIGINT, s VARCHAR(64), d DECIMAL(14,4));
SQL
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'big'" >/dev/null 2>&1
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: big
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "$ZH_MY_PASSWORD", databases: [$DB], server_id: 6161}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$DB.%"]}
    apply: {memory_mb: $BUDGET_MB, batch_ms: 200}
YAML
e2e_run_start
active() { [ "$(e2e_status_field '.integrations[0].state')" = active ]; }
t_wait $T "integration active before the big transaction" 60 active

zh_mysql -e "USE $DB; INSERT INTO big SELECT seq, seq * 7, CONCAT('value number ', seq), seq / 3 FROM seq_1_to_$ROWS"
peak=0
done_rows() {
    local kb
    kb=$(e2e_rss_peak_kb); [ "${kb:-0}" -gt "$peak" ] && peak=$kb
    [ "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.big" 2>/dev/null)" = "$ROWS" ]
}
t_wait $T "all $ROWS rows of one transaction arrive" 300 done_rows
peak=$(e2e_rss_peak_kb)
limit=$(((BUDGET_MB + 64) * 1024))
if [[ $ZETL == *asan* ]]; then
    # AddressSanitizer's shadow memory and quarantine make RSS meaningless.
    echo "SKIP $T: peak RSS under budget + 64 MB (sanitized build: RSS is not the program's)"
elif [ "$peak" -gt 0 ] && [ "$peak" -lt "$limit" ]; then
    t_pass $T "peak RSS $((peak / 1024)) MB stays under the ${BUDGET_MB} MB budget + 64 MB"
else
    t_fail $T "peak RSS under budget + 64 MB" "< $((limit / 1024)) MB" "$((peak / 1024)) MB"
fi
if e2e_wait_match 120; then t_pass $T "zetl verify: exact match after the big transaction"
else t_fail $T "zetl verify after the big transaction" "match" "$E2E_VERIFY"; fi
t_eq $T "no spool file left behind" "" "$(find "$E2E_DIR/state" -name '*.spool')"
e2e_run_stop; t_eq $T "clean stop" 0 "$?"
t_done
