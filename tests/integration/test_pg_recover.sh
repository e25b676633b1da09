#!/usr/bin/env bash
# test_pg_recover.sh — recovery on a PostgreSQL source, zetl connecting as a
# least-privilege replication user (not a superuser, not the tables' owner;
# the publication made by the owner, as `zetl init` suggests):
#  (a) the slot dropped while zetl was stopped: the integration fails with
#      every table resync_required; a resync (R) re-snapshots the whole
#      integration from a fresh slot, once, with writes during and after the
#      copy: exact afterwards, active and staying so;
#  (b) delete when DROP PUBLICATION is refused (another role owns it): the
#      integration ends deleted, the reason names the publication and gives
#      the statement to run (quoted identifier), the slot is dropped, nothing
#      streams afterwards, and `zetl run` of it says why and exits 3;
#  (c) under a new name it replicates afresh; a delete cut short (state
#      deleting at start) is finished, never streamed from.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_pg_recover
S=pgrec
APP=zr_app
REPL=zr_repl
CMD=${ZETL_BUILD:-build}/tools/zetl_command

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
drop_source() {
    zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'zetl_pgrec'" >/dev/null 2>&1
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_pgrec; DROP SCHEMA IF EXISTS $S CASCADE" >/dev/null 2>&1
    zh_psql_src -c "DROP OWNED BY $APP, $REPL; DROP ROLE IF EXISTS $APP; DROP ROLE IF EXISTS $REPL" >/dev/null 2>&1
}
trap 'e2e_cleanup; drop_source; harness_stop' EXIT
drop_source
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $S CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'pgrec'" >/dev/null 2>&1
zh_psql_src >/dev/null <<SQL
CREATE ROLE $APP LOGIN;
CREATE ROLE $REPL LOGIN REPLICATION PASSWORD '$ZH_PG_PASSWORD';
CREATE SCHEMA $S AUTHORIZATION $APP;
GRANT CREATE ON DATABASE zetl TO $APP;      -- CREATE PUBLICATION needs it
SET ROLE $APP;
CREATE TABLE $S.items (id int PRIMARY KEY, v int);
INSERT INTO $S.items SELECT g, g FROM generate_series(1, 30000) g;
CREATE TABLE $S.notes (id int PRIMARY KEY, t text);
INSERT INTO $S.notes SELECT g, 'n' || g FROM generate_series(1, 50) g;
GRANT USAGE ON SCHEMA $S TO $REPL;
GRANT SELECT ON ALL TABLES IN SCHEMA $S TO $REPL;
CREATE PUBLICATION zetl_pgrec FOR TABLE $S.items, $S.notes;
RESET ROLE;
SQL
t_eq $T "the owner's publication exists before zetl starts" "$APP" \
    "$(zh_psql_src -c "SELECT pg_get_userbyid(pubowner) FROM pg_publication WHERE pubname = 'zetl_pgrec'")"
e2e_pg_config pgrec $S
sed -i "s/user: $ZH_PG_USER\$/user: $REPL/" "$E2E_DIR/zetl.yaml"
SDB=$E2E_DIR/state/zetl.db
state() { e2e_status_field '.integrations[0].state'; }
slots() { zh_psql_src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'zetl_pgrec'"; }
copies() { grep -c "initial copy of" "$E2E_DIR/run.log"; }
resnaps() { grep -c "re-snapshot asked by" "$E2E_DIR/run.log"; }
as_app() { zh_psql_src -c "SET ROLE $APP; $1" >/dev/null; }
writer() {  # $1: first id; 100 transactions, about 7 s
    local i
    for i in $(seq "$1" $(($1 + 99))); do
        as_app "INSERT INTO $S.items VALUES ($i, $i); UPDATE $S.items SET v = v + 1 WHERE id = $((i % 30000 + 1));
                DELETE FROM $S.items WHERE id = $((i - 3))" 2>/dev/null
        sleep 0.05
    done
}

e2e_run_start
if e2e_wait_match 90; then t_pass $T "initial copy as a least-privilege user: exact match"
else t_fail $T "initial match" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "the user is no superuser" "f" "$(zh_psql_src -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$REPL'")"

# (a) The slot lost while zetl was stopped.
e2e_run_stop
as_app "INSERT INTO $S.items VALUES (40000, 1)"
zh_psql_src -c "SELECT pg_drop_replication_slot('zetl_pgrec')" >/dev/null
e2e_run_start
failed() { [ "$(state)" = failed ]; }
t_wait $T "(a) with its slot gone the integration fails" 30 failed
t_match $T "(a) the reason says the slot is gone" "slot zetl_pgrec no longer exists" "$(e2e_status_field '.integrations[0].reason')"
t_eq $T "(a) every table is resync_required" "resync_required" "$(e2e_status_field '[.integrations[0].tables[].state] | unique | join(",")')"
writer 50000 & WPID=$!
out=$("$CMD" "$SDB" pgrec resync "$S.items" 2>&1)
t_match $T "(a) R answers that it re-snapshots the whole integration" \
    "no longer has the checkpoint position.*re-snapshotting all 2 tables of pgrec" "$out"
wait $WPID
as_app "INSERT INTO $S.items VALUES (60000, 6); DELETE FROM $S.items WHERE id = 10; UPDATE $S.notes SET t = 'after' WHERE id = 1"
if e2e_wait_match 90; then t_pass $T "(a) re-snapshot with writes during and after it: exact match (zetl verify)"
else t_fail $T "(a) exact match after the re-snapshot" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "(a) the row written while the slot was gone and the later ones are there" "1|1|0|after" \
    "$(zh_psql_tgt -c "SELECT (SELECT count(*) FROM $S.items WHERE id = 40000)::text || '|' || (SELECT count(*) FROM $S.items WHERE id = 60000)::text || '|' || (SELECT count(*) FROM $S.items WHERE id = 10)::text || '|' || (SELECT t FROM $S.notes WHERE id = 1)")"
t_eq $T "(a) active" "active" "$(state)"
sleep 8
t_eq $T "(a) and stays active (no loop back to failed)" "active" "$(state)"
t_eq $T "(a) one re-snapshot, two copies in all" "1|2" "$(resnaps)|$(copies)"
t_eq $T "(a) a fresh slot streams" "1" "$(slots)"

# (b) Delete: the slot is ours to drop, the publication is the owner's.
t_ok $T "(b) delete taken" "$CMD" "$SDB" pgrec delete
deleted() { [ "$(state)" = deleted ]; }
t_wait $T "(b) the integration ends deleted" 30 deleted
reason=$(e2e_status_field '.integrations[0].reason')
t_match $T "(b) the reason names the publication, its owner, and the statement to run" \
    "publication zetl_pgrec is left on the source .*must be owner.*its owner \"$APP\" or a superuser: DROP PUBLICATION \"zetl_pgrec\";" "$reason"
t_match $T "(b) the reason says the slot was dropped and target data kept" "^slot zetl_pgrec dropped.*target data kept" "$reason"
t_eq $T "(b) the slot is gone" "0" "$(slots)"
t_eq $T "(b) the publication is still there (not ours to drop)" "1" \
    "$(zh_psql_src -c "SELECT count(*) FROM pg_publication WHERE pubname = 'zetl_pgrec'")"
for _ in $(seq 1 100); do kill -0 "$E2E_PID" 2>/dev/null || break; sleep 0.2; done
running=0; kill -0 "$E2E_PID" 2>/dev/null && running=1
rc=0; e2e_run_stop || rc=$?
t_eq $T "(b) zetl run ends, exit 3: its only integration is deleted" "0:3" "$running:$rc"
before=$(zh_psql_tgt -c "SELECT count(*) FROM $S.items")
as_app "INSERT INTO $S.items VALUES (70000, 7)"
: >"$E2E_DIR/run.log"
rc=0; timeout 20 "$ZETL" run -c "$E2E_DIR/zetl.yaml" 2>"$E2E_DIR/run.log" || rc=$?
t_eq $T "(b) zetl run of the deleted integration: exit 3" "3" "$rc"
t_eq $T "(b) one line" "1" "$(grep -c . "$E2E_DIR/run.log")"
t_match $T "(b) it names the integration, what is left, and what to do" \
    "integration pgrec was deleted .*DROP PUBLICATION \"zetl_pgrec\";.*remove it from the config" "$(cat "$E2E_DIR/run.log")"
sleep 1
t_eq $T "(b) nothing streams after the delete" "$before|0" \
    "$(zh_psql_tgt -c "SELECT count(*) FROM $S.items")|$(zh_psql_tgt -c "SELECT count(*) FROM $S.items WHERE id = 70000")"
t_eq $T "(b) still no slot" "0" "$(slots)"
t_eq $T "(b) still deleted" "deleted" "$(state)"

# (c) As the line says: under a new name it replicates afresh (naming the
# owner's publication the delete left). Then a delete cut short (the process
# gone mid-delete: state deleting in the log) is finished at the next start,
# never streamed from.
e2e_pg_config pgrec2 $S
sed -i "s/user: $ZH_PG_USER\$/user: $REPL/; s/^      database: zetl\$/      database: zetl\n      publication: zetl_pgrec/" "$E2E_DIR/zetl.yaml"
state2() { e2e_status_field '.integrations[] | select(.name == "pgrec2") | .state'; }
slots2() { zh_psql_src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'zetl_pgrec2'"; }
e2e_run_start
if e2e_wait_match 90; then t_pass $T "(c) under a new name it copies afresh: exact match"
else t_fail $T "(c) match under a new name" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "(c) its slot exists" "1" "$(slots2)"
e2e_run_stop
sqlite3 "$SDB" "UPDATE integrations SET state = 'deleting', reason = NULL WHERE name = 'pgrec2'"
as_app "INSERT INTO $S.items VALUES (80000, 8)"
: >"$E2E_DIR/run.log"
rc=0; timeout 30 "$ZETL" run -c "$E2E_DIR/zetl.yaml" 2>"$E2E_DIR/run.log" || rc=$?
t_eq $T "(c) a delete cut short is finished at the next start, and zetl run exits 3" "3" "$rc"
t_match $T "(c) the log says so" "a delete was under way when zetl last stopped: finishing it" "$(cat "$E2E_DIR/run.log")"
t_eq $T "(c) deleted" "deleted" "$(state2)"
t_eq $T "(c) its slot is dropped" "0" "$(slots2)"
t_eq $T "(c) nothing streamed" "0" "$(zh_psql_tgt -c "SELECT count(*) FROM $S.items WHERE id = 80000")"
t_done
