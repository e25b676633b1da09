#!/usr/bin/env bash
# test_position_lost.sh — the checkpoint's binlog file purged from MariaDB:
#  (a) nothing after the checkpoint was lost: zetl resumes by GTID and stays exact;
#  (b) changes after the checkpoint were purged too: the integration fails
#      with a message that says so, and every table is marked resync_required
#      — never a silent gap.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_position_lost
DB=e2e_lost

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'e2e_cleanup; harness_stop' EXIT
zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; CREATE TABLE $DB.t (id INT PRIMARY KEY, v INT);
             INSERT INTO $DB.t VALUES (1, 1), (2, 2)"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'lost'" >/dev/null 2>&1
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: lost
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "$ZH_MY_PASSWORD", databases: [$DB], server_id: 7171}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$DB.%"]}
    apply: {batch_ms: 100}
YAML
# MariaDB keeps a file a dump thread still reads: a stopped replica's
# server-side thread can linger a moment, so retry until only one file is left.
purge_all_but_current() {
    zh_mysql -e "FLUSH BINARY LOGS; FLUSH BINARY LOGS"
    local cur i
    cur=$(zh_mysql -e "SHOW MASTER STATUS" | cut -f1)
    for i in $(seq 1 50); do
        zh_mysql -e "PURGE BINARY LOGS TO '$cur'" 2>/dev/null
        [ "$(zh_mysql -e "SHOW BINARY LOGS" | wc -l)" -eq 1 ] && return 0
        sleep 0.2
    done
    return 1
}
checkpoint_file() { zh_psql_tgt -c "SELECT split_part(position, ':', 1) FROM zetl.checkpoints WHERE integration = 'lost'"; }

# (a) caught up, stopped, the file purged: resume by GTID.
e2e_run_start
e2e_wait_match 60 || t_fail $T "initial match" "match" "$E2E_VERIFY"
sleep 6                       # an idle checkpoint at the end of the binlog
e2e_run_stop
old=$(checkpoint_file)
purge_all_but_current
t_eq $T "the checkpoint's binlog file is gone" "" "$(zh_mysql -e "SHOW BINARY LOGS" | cut -f1 | grep -x "$old")"
e2e_run_start
zh_mysql -e "INSERT INTO $DB.t VALUES (3, 3); UPDATE $DB.t SET v = 20 WHERE id = 2"
if e2e_wait_match 60; then t_pass $T "resumed by GTID after the file was purged: exact match"
else t_fail $T "resume by GTID" "zetl verify: match" "$E2E_VERIFY"; fi
t_match $T "the log says it resumed by GTID" "resuming by GTID" "$(cat "$E2E_DIR/run.log")"

# (b) changes after the checkpoint purged as well: failed + resync_required.
e2e_run_stop
zh_mysql -e "INSERT INTO $DB.t VALUES (4, 4)"
purge_all_but_current
e2e_run_start
failed() { [ "$(e2e_status_field '.integrations[0].state')" = failed ]; }
t_wait $T "the integration fails" 30 failed
t_match $T "the reason says the changes are gone and to resync" "gone.*resync" "$(e2e_status_field '.integrations[0].reason')"
t_eq $T "every table is resync_required" "resync_required" "$(e2e_status_field '[.integrations[0].tables[].state] | unique | join(",")')"
e2e_run_stop
t_done
