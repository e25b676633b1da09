#!/usr/bin/env bash
# test_big_txn.sh — one 1,000,000-row transaction, from MariaDB and from
# PostgreSQL, replicates exactly with a 16 MB memory budget, and zetl's peak
# RSS stays under budget + 64 MB (the queue spills the transaction to a spool
# file; the applier loads it into one target transaction in budget-sized
# pieces and commits at the source COMMIT).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_big_txn
S=e2e_big
ROWS=${ZETL_BIG_TXN_ROWS:-1000000}
BUDGET_MB=16

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'e2e_cleanup; harness_stop' EXIT

setup_mysql() {
    zh_mysql -e "DROP DATABASE IF EXISTS $S; CREATE DATABASE $S;
                 CREATE TABLE $S.big (id INT PRIMARY KEY, a BIGINT, s VARCHAR(64), d DECIMAL(14,4))"
    source_yaml="{kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER, password: \"$ZH_MY_PASSWORD\", databases: [$S], server_id: 6161}"
}
big_mysql() {
    zh_mysql -e "USE $S; INSERT INTO big SELECT seq, seq * 7, CONCAT('value number ', seq), seq / 3 FROM seq_1_to_$ROWS"
}
setup_pg() {
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_big; DROP SCHEMA IF EXISTS $S CASCADE; CREATE SCHEMA $S;
                    CREATE TABLE $S.big (id int PRIMARY KEY, a bigint, s varchar(64), d numeric(14,4))" >/dev/null 2>&1
    source_yaml="{kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER, password: \"$ZH_PG_PASSWORD\", database: zetl, schemas: [$S]}"
}
big_pg() {
    zh_psql_src -c "INSERT INTO $S.big SELECT g, g * 7, 'value number ' || g, g / 3.0 FROM generate_series(1, $ROWS) g" >/dev/null
}

for kind in mysql pg; do
    e2e_run_stop
    rm -rf "$E2E_DIR/state"
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $S CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'big'" >/dev/null 2>&1
    "setup_$kind"
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: big
    source: $source_yaml
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$S.%"]}
    apply: {memory_mb: $BUDGET_MB, batch_ms: 200}
YAML
    e2e_run_start
    active() { [ "$(e2e_status_field '.integrations[0].state')" = active ]; }
    t_wait $T "$kind: integration active before the big transaction" 60 active
    "big_$kind"
    done_rows() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $S.big" 2>/dev/null)" = "$ROWS" ]; }
    t_wait $T "$kind: all $ROWS rows of one transaction arrive" 300 done_rows
    peak=$(e2e_rss_peak_kb)
    limit=$(((BUDGET_MB + 64) * 1024))
    if [[ $ZETL == *asan* ]]; then
        # AddressSanitizer's shadow memory and quarantine make RSS meaningless.
        echo "SKIP $T: $kind: peak RSS under budget + 64 MB (sanitized build: RSS is not the program's)"
    elif [ "$peak" -gt 0 ] && [ "$peak" -lt "$limit" ]; then
        t_pass $T "$kind: peak RSS $((peak / 1024)) MB stays under the ${BUDGET_MB} MB budget + 64 MB"
    else
        t_fail $T "$kind: peak RSS under budget + 64 MB" "< $((limit / 1024)) MB" "$((peak / 1024)) MB"
    fi
    if e2e_wait_match 120; then t_pass $T "$kind: zetl verify: exact match after the big transaction"
    else t_fail $T "$kind: zetl verify after the big transaction" "match" "$E2E_VERIFY"; fi
    t_eq $T "$kind: no spool file left behind" "" "$(find "$E2E_DIR/state" -name '*.spool')"
    e2e_run_stop; t_eq $T "$kind: clean stop" 0 "$?"
    if [ $kind = pg ]; then
        zh_psql_src -c "SELECT pg_drop_replication_slot('zetl_big'); DROP PUBLICATION zetl_big" >/dev/null 2>&1
    fi
done
t_done
