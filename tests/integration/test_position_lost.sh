#!/usr/bin/env bash
# test_position_lost.sh — the checkpoint's binlog file purged from MariaDB:
#  (a) nothing after the checkpoint was lost: zetl resumes by GTID and stays exact;
#  (b) changes after the checkpoint were purged too: the integration fails
#      with a message that says so, and every table is marked resync_required
#      — never a silent gap;
#  (c) the way out: a resync (R in the console) of that integration
#      re-snapshots the whole of it from a fresh position, once, with writes
#      going on during the copy and after it: exact afterwards (zetl verify),
#      active and staying so, one re-snapshot, and a restart streams on from
#      the new checkpoint without copying again;
#  (d) the resnapshot command on a healthy, streaming integration: the same,
#      once; (e) deleted, `zetl run` says why it does nothing and exits 3.
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
             INSERT INTO $DB.t VALUES (1, 1), (2, 2);
             CREATE TABLE $DB.big (id INT PRIMARY KEY, v INT);
             INSERT INTO $DB.big SELECT seq, seq FROM $DB.seq_1_to_50000"
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

# (c) R: a resync of a table while the position is lost re-snapshots the
# whole integration. A writer runs through the copy and after it.
CMD=${ZETL_BUILD:-build}/tools/zetl_command
SDB=$E2E_DIR/state/zetl.db
copies() { grep -c "initial copy of" "$E2E_DIR/run.log"; }
resnaps() { grep -c "re-snapshot asked by" "$E2E_DIR/run.log"; }
writer() {  # $1: first id; 150 transactions, about 10 s
    local i
    for i in $(seq "$1" $(($1 + 149))); do
        zh_mysql -e "INSERT INTO $DB.t VALUES ($i, $i); UPDATE $DB.big SET v = v + 1 WHERE id = $((i % 50000 + 1));
                     DELETE FROM $DB.t WHERE id = $((i - 3))" 2>/dev/null
        sleep 0.05
    done
}
writer 1000 & WPID=$!
out=$("$CMD" "$SDB" lost resync "$DB.t" 2>&1)
t_match $T "R on a lost position answers that it re-snapshots the whole integration" \
    "no longer has the checkpoint position.*re-snapshotting all 2 tables of lost" "$out"
wait $WPID
zh_mysql -e "INSERT INTO $DB.t VALUES (5000, 5000); UPDATE $DB.big SET v = -1 WHERE id = 7; DELETE FROM $DB.big WHERE id = 8"
if e2e_wait_match 90; then t_pass $T "re-snapshot with writes during and after it: exact match (zetl verify)"
else t_fail $T "exact match after the re-snapshot" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "the last changes arrived (5000 in, 8 gone, 7 at -1)" "1|0|-1" \
    "$(zh_psql_tgt -c "SELECT (SELECT count(*) FROM $DB.t WHERE id = 5000) || '|' || (SELECT count(*) FROM $DB.big WHERE id = 8) || '|' || (SELECT v FROM $DB.big WHERE id = 7)")"
t_eq $T "the integration is active" "active" "$(e2e_status_field '.integrations[0].state')"
sleep 8                       # a loop would fail it again within its backoff
t_eq $T "and stays active (no loop back to failed)" "active" "$(e2e_status_field '.integrations[0].state')"
t_eq $T "every table synced" "synced" "$(e2e_status_field '[.integrations[0].tables[].state] | unique | join(",")')"
t_eq $T "one re-snapshot, not repeated ones" "1" "$(resnaps)"
t_eq $T "two copies in all: the first and the re-snapshot" "2" "$(copies)"
t_eq $T "the checkpoint is in the current binlog file" "$(zh_mysql -e "SHOW MASTER STATUS" | cut -f1)" "$(checkpoint_file)"

# A restart streams on from the re-snapshot's checkpoint: no copy again.
e2e_run_stop
zh_mysql -e "INSERT INTO $DB.t VALUES (5001, 1); UPDATE $DB.big SET v = -2 WHERE id = 9"
e2e_run_start
if e2e_wait_match 60; then t_pass $T "after a restart it streams on: exact match"
else t_fail $T "exact match after the restart" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "no copy at the restart" "2" "$(copies)"

# (d) The resnapshot command while streaming: once, then streams on.
writer 6000 & WPID=$!
out=$("$CMD" "$SDB" lost resnapshot 2>&1)
t_match $T "the resnapshot command is taken" "^re-snapshotting all 2 tables of lost from a fresh position" "$out"
wait $WPID
if e2e_wait_match 90; then t_pass $T "resnapshot while streaming, writes during it: exact match"
else t_fail $T "exact match after resnapshot" "zetl verify: match" "$E2E_VERIFY"; fi
sleep 3
t_eq $T "resnapshot: active" "active" "$(e2e_status_field '.integrations[0].state')"
t_eq $T "resnapshot: one more copy, once" "3|2" "$(copies)|$(resnaps)"

# (e) Deleted: a later `zetl run` does nothing, says why in one line, exits 3.
t_ok $T "delete taken" "$CMD" "$SDB" lost delete
deleted() { [ "$(e2e_status_field '.integrations[0].state')" = deleted ]; }
t_wait $T "the integration is deleted" 20 deleted
for _ in $(seq 1 100); do kill -0 "$E2E_PID" 2>/dev/null || break; sleep 0.2; done
kill -0 "$E2E_PID" 2>/dev/null && t_fail $T "zetl run ends after the delete" "exited within 20 s" "still running"
rc=0; e2e_run_stop || rc=$?
t_eq $T "zetl run ends when its only integration is deleted: exit 3" "3" "$rc"
: >"$E2E_DIR/run.log"
rc=0; timeout 20 "$ZETL" run -c "$E2E_DIR/zetl.yaml" 2>"$E2E_DIR/run.log" || rc=$?
t_eq $T "zetl run of a deleted integration: exit 3" "3" "$rc"
t_eq $T "one line" "1" "$(grep -c . "$E2E_DIR/run.log")"
t_match $T "it names the integration and what to do" \
    "integration lost was deleted.*remove it from the config.*add it under a new name" "$(cat "$E2E_DIR/run.log")"
zh_mysql -e "INSERT INTO $DB.t VALUES (7000, 1)"
sleep 1
t_eq $T "nothing streamed after the delete" "0" "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.t WHERE id = 7000")"
t_done
