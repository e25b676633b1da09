#!/usr/bin/env bash
# test_e2e_mysql.sh — MySQL/MariaDB → PostgreSQL end to end, through the real
# binary: the initial copy, a randomized workload (inserts, updates, deletes,
# primary-key updates, keyless and composite-key tables, multi-table
# transactions), kill -9 at random moments during the copy and the stream,
# ADD COLUMN, the target down for 30 s, a source restart — and after each,
# `zetl verify` must report an exact match. password_command output is used
# and never appears in a log, the state log or the status.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_e2e_mysql
DB=e2e_my

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
workload_pid=
cleanup() {
    [ -n "$workload_pid" ] && kill "$workload_pid" 2>/dev/null
    rm -f "$E2E_DIR/go"
    e2e_cleanup
}
trap 'cleanup; harness_stop' EXIT

# One random transaction per line group; ids collide on purpose (no-op
# updates/deletes, duplicate inserts ignored).
gen_workload() {   # $1: transactions, $2: id base for new rows
    local n=$1 base=$2 i j k r id
    for ((i = 0; i < n; i++)); do
        echo "BEGIN;"
        k=$((RANDOM % 4 + 1))
        for ((j = 0; j < k; j++)); do
            r=$((RANDOM % 11)); id=$((RANDOM % 3000 + 1))
            case $r in
            0|1|2) echo "INSERT IGNORE INTO $DB.t_keyed (id, v, s, d, ts) VALUES ($((base + i * 10 + j)), $RANDOM, 's\\t$RANDOM''é', $RANDOM.$((RANDOM % 1000)), NOW(6));" ;;
            3|4) echo "UPDATE $DB.t_keyed SET v = v + 1, s = CONCAT(s, 'x') WHERE id = $id;" ;;
            5) echo "DELETE FROM $DB.t_keyed WHERE id = $id;" ;;
            6) echo "UPDATE IGNORE $DB.t_keyed SET id = id + 700000 WHERE id = $id;" ;;
            7) echo "INSERT INTO $DB.t_loose VALUES ($((RANDOM % 50)), 'y$((RANDOM % 5))');" ;;
            8) echo "DELETE FROM $DB.t_loose WHERE x = $((RANDOM % 50)) LIMIT 1;" ;;
            9) echo "INSERT INTO $DB.t_comp VALUES ($((RANDOM % 100)), 'b$((RANDOM % 100))', $RANDOM) ON DUPLICATE KEY UPDATE n = n + 1;" ;;
            10) echo "UPDATE $DB.t_keyed SET v = 0 WHERE id = $id; INSERT INTO $DB.t_loose VALUES ($id, 'multi'); DELETE FROM $DB.t_comp WHERE a = $((RANDOM % 100));" ;;
            esac
        done
        echo "COMMIT;"
    done
}

workload_start() {   # keeps committing until $E2E_DIR/go is removed
    touch "$E2E_DIR/go"
    ( base=1000000; while [ -f "$E2E_DIR/go" ]; do gen_workload 40 $base | zh_mysql; base=$((base + 1000)); done ) &
    workload_pid=$!
}
workload_stop() { rm -f "$E2E_DIR/go"; [ -n "$workload_pid" ] && wait "$workload_pid"; workload_pid=; }

zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB;
USE $DB;
CREATE TABLE $DB.t_keyed (id INT PRIMARY KEY, v INT, s VARCHAR(200) CHARACTER SET utf8mb4,
                          d DECIMAL(12,3), ts DATETIME(6), b VARBINARY(16));
INSERT INTO $DB.t_keyed SELECT seq, seq % 97, CONCAT('row ', seq), seq / 7, '2024-01-01 00:00:00', UNHEX('00FF')
  FROM seq_1_to_60000;
CREATE TABLE $DB.t_loose (x INT, y VARCHAR(10));
INSERT INTO $DB.t_loose SELECT seq % 50, 'y0' FROM seq_1_to_200;
CREATE TABLE $DB.t_comp (a INT, b VARCHAR(10), n BIGINT, PRIMARY KEY (a, b));
SQL

pw_file=$E2E_DIR/pw
printf '%s\n' "$ZH_MY_PASSWORD" >"$pw_file"
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: my
    source:
      kind: mysql
      host: 127.0.0.1
      port: $ZH_MY_PORT
      user: $ZH_MY_USER
      password_command: "cat $pw_file"
      databases: [$DB]
      server_id: 5151
    target:
      kind: postgres
      dsn: "$ZH_PGTGT_DSN"
    tables:
      include: ["$DB.%"]
    apply:
      batch_ms: 100
YAML
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'my'" >/dev/null 2>&1

# 1. kill -9 during the initial copy, then during streaming under load.
e2e_run_start
sleep 0.4
e2e_run_kill9
# Whenever the kill lands, a checkpoint exists only with the copy accounted
# for: no checkpoint (killed before the copy began), or every table either
# fully copied or still marked for its copy (the chunked initial copy's
# resync marks, committed with the checkpoint).
cp=$(zh_psql_tgt -c "SELECT position FROM zetl.checkpoints WHERE integration = 'my'" 2>/dev/null)
if [ -z "$cp" ]; then
    t_pass $T "killed before the copy began: no checkpoint"
else
    t_eq $T "killed after the checkpoint: each table copied or marked" "60000|200" \
        "$(zh_psql_tgt -c "SELECT (SELECT CASE WHEN EXISTS (SELECT 1 FROM zetl.resyncs WHERE integration = 'my'
                                   AND source_table = '$DB.t_keyed') THEN 60000 ELSE count(*) END FROM $DB.t_keyed)
                         || '|' || (SELECT CASE WHEN EXISTS (SELECT 1 FROM zetl.resyncs WHERE integration = 'my'
                                   AND source_table = '$DB.t_loose') THEN 200 ELSE count(*) END FROM $DB.t_loose)")"
fi
workload_start
kills=1
for i in $(seq 1 10); do
    e2e_run_start
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.3 + (r % 250) / 100 }')"
    e2e_run_kill9
    kills=$((kills + 1))
done
workload_stop
e2e_run_start
if e2e_wait_match 90; then t_pass $T "exact match after $kills kill -9 (copy and stream, under load)"
else t_fail $T "exact match after $kills kill -9" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "integration active" "active" "$(e2e_status_field '.integrations[0].state')"

# 2. ADD COLUMN and a multi-table transaction.
zh_mysql -e "ALTER TABLE $DB.t_keyed ADD COLUMN extra INT DEFAULT 7;
             BEGIN; INSERT INTO $DB.t_keyed (id, v, extra) VALUES (9000001, 1, 42);
             UPDATE $DB.t_comp SET n = -1; INSERT INTO $DB.t_loose VALUES (-1, 'ddl'); COMMIT;"
if e2e_wait_match 60; then t_pass $T "ADD COLUMN applied and rows match"
else t_fail $T "ADD COLUMN applied" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "new column holds the streamed value" "42" \
    "$(zh_psql_tgt -c "SELECT extra FROM $DB.t_keyed WHERE id = 9000001")"

# 3. The target down for 30 s while the source keeps changing.
zh_stop_pg tgt
gen_workload 100 2000000 | zh_mysql
sleep 30
t_eq $T "target outage shows failed" "failed" "$(e2e_status_field '.integrations[0].state')"
t_match $T "the reason names the target" "target" "$(e2e_status_field '.integrations[0].reason')"
zh_start_pg tgt
if e2e_wait_match 120; then t_pass $T "exact match after the target came back"
else t_fail $T "exact match after the target came back" "zetl verify: match" "$E2E_VERIFY"; fi

# 4. The source restarted.
zh_restart_mariadb
gen_workload 100 3000000 | zh_mysql
if e2e_wait_match 90; then t_pass $T "exact match after a source restart"
else t_fail $T "exact match after a source restart" "zetl verify: match" "$E2E_VERIFY"; fi

# 5. A clean stop, and no secret anywhere.
e2e_run_stop; rc=$?
t_eq $T "SIGTERM: zetl run exits 0" 0 "$rc"
status=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" --json 2>&1)
if grep -rqF -- "$ZH_MY_PASSWORD" "$E2E_DIR/run.log" "$E2E_DIR/state" || grep -qF -- "$ZH_MY_PASSWORD" <<<"$status"; then
    t_fail $T "password_command output never logged" "no password in run log, state dir, status" "found"
else
    t_pass $T "password_command output never logged (run log, state log, status)"
fi
t_match $T "the run log records state transitions" "snapshotting -> active" "$(cat "$E2E_DIR/run.log")"
t_done
