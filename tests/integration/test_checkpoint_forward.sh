#!/usr/bin/env bash
# test_checkpoint_forward.sh — the checkpoint in the target only moves
# forward, whatever the source's heartbeats say (runtime/integ/apply.c).
#
# A walsender started at zetl's checkpoint K reports its slot's
# confirmed_flush in its first keepalives (sentPtr starts there), then the
# records it decodes from the slot's restart_lsn on its way up to K: all
# below K. zetl checkpoints at every heartbeat while a resync runs (a chunk's
# hand-off waits for the checkpoint to pass its position), and wrote such a
# heartbeat's position: the checkpoint went back, and the next restart
# streamed again transactions the target held. A table with a key absorbs
# that; one without gets those rows twice (CI saw it: 22 rows of a keyless
# table twice after kill -9 during a chunked initial copy).
#
# The test makes the walsender's way up to K long: before each kill -9 a
# big transaction on a table outside the integration (decoded, not
# published) sits between the slot's restart_lsn and K, so the restarted
# walsender answers zetl's keepalive requests from below K for a while,
# with big's chunked resync running (its hand-offs paced, so it runs across
# the restarts). A keyless table takes inserts all along. Asserted:
#   1. no write of zetl.checkpoints ever moved it back (a trigger on the
#      table records any NEW.position below OLD.position);
#   2. after the last restart and the workload, `zetl verify` matches: the
#      keyless table has each row once.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_checkpoint_forward
CMD=${ZETL_BUILD:-build}/tools/zetl_command
DB=ckf NAME=ckf
load_pid=

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
DBFILE=$E2E_DIR/state/zetl.db
undo_target() {
    zh_psql_tgt -c "DROP TRIGGER IF EXISTS ckf_test_back ON zetl.checkpoints;
                    DROP TRIGGER IF EXISTS ckf_test_pace ON zetl.copy_progress;
                    DROP FUNCTION IF EXISTS zetl.ckf_test_back(); DROP FUNCTION IF EXISTS zetl.ckf_test_pace();
                    DROP TABLE IF EXISTS zetl.ckf_test_moved_back" >/dev/null 2>&1
}
cleanup() {
    rm -f "$E2E_DIR/go"
    [ -n "$load_pid" ] && wait "$load_pid" 2>/dev/null
    e2e_cleanup
    undo_target
    e2e_pg_drop "$NAME" "$DB" "${DB}_fill"  # other tests count the slots on this server
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT

zh_psql_src <<SQL >/dev/null
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS $DB CASCADE; DROP SCHEMA IF EXISTS ${DB}_fill CASCADE;
CREATE SCHEMA $DB; CREATE SCHEMA ${DB}_fill;
CREATE TABLE $DB.big (id bigint PRIMARY KEY, v int);
INSERT INTO $DB.big SELECT g, g FROM generate_series(1, 60000) g;
CREATE TABLE $DB.loose (x int, y text);
ALTER TABLE $DB.loose REPLICA IDENTITY FULL;
INSERT INTO $DB.loose SELECT g, 'y' FROM generate_series(1, 100) g;
CREATE TABLE ${DB}_fill.filler (id int, s text);
SQL
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null 2>&1
e2e_pg_config "$NAME" "$DB"
sed -i 's/^      batch_ms: 100$/&\n      copy_chunk_rows: 2000/' "$E2E_DIR/zetl.yaml"
# match SECS: `zetl verify` matches within SECS; else its last output.
match() { e2e_wait_match "$1" || { echo "$E2E_VERIFY"; return 1; }; }
e2e_run_start
t_ok $T "the initial copy matches (zetl verify)" match 120

st() { e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.$1\") | .state"; }
checkpoint() { zh_psql_tgt -c "SELECT position FROM zetl.checkpoints WHERE integration = '$NAME'"; }
# 0 when the target's checkpoint is at or past LSN $1.
ckpt_past() { [ "$(zh_psql_tgt -c "SELECT position::pg_lsn >= '$1'::pg_lsn FROM zetl.checkpoints
                                   WHERE integration = '$NAME'")" = t ]; }
moved_back() { zh_psql_tgt -c "SELECT count(*) FROM zetl.ckf_test_moved_back"; }

# Any write that moves the checkpoint back is recorded; big's hand-offs are
# paced (0.3 s each) so its resync runs across the restarts below.
t_eq $T "the target records any checkpoint that moves back, and paces big's hand-offs" "" "$(zh_psql_tgt 2>&1 <<SQL
SET client_min_messages = warning;
CREATE TABLE zetl.ckf_test_moved_back (old_pos text, new_pos text, at timestamptz DEFAULT now());
CREATE FUNCTION zetl.ckf_test_back() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    IF NEW.position::pg_lsn < OLD.position::pg_lsn THEN
        INSERT INTO zetl.ckf_test_moved_back (old_pos, new_pos) VALUES (OLD.position, NEW.position);
    END IF;
    RETURN NEW;
END \$\$;
CREATE TRIGGER ckf_test_back BEFORE UPDATE ON zetl.checkpoints FOR EACH ROW
    WHEN (NEW.integration = '$NAME') EXECUTE FUNCTION zetl.ckf_test_back();
CREATE FUNCTION zetl.ckf_test_pace() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END \$\$;
CREATE TRIGGER ckf_test_pace BEFORE INSERT OR UPDATE ON zetl.copy_progress FOR EACH ROW
    WHEN (NEW.integration = '$NAME' AND NEW.source_table = '$DB.big') EXECUTE FUNCTION zetl.ckf_test_pace();
SQL
)"

# The keyless table takes an insert every ~20 ms throughout.
touch "$E2E_DIR/go"
( i=0
  while [ -f "$E2E_DIR/go" ]; do
      i=$((i + 1))
      echo "INSERT INTO $DB.loose VALUES ($((1000 + i)), 'w$i');"
      sleep 0.02
  done | zh_psql_src >/dev/null 2>"$E2E_DIR/workload.err" ) & load_pid=$!

t_eq $T "big: resync acknowledged" "ok" "$("$CMD" "$DBFILE" "$NAME" resync "$DB.big" 2>&1)"
resyncing() { [ "$(st big)" = resyncing ]; }
t_wait $T "big is resyncing (in chunks, paced)" 20 resyncing

for round in 1 2; do
    # A big transaction outside the integration, streamed past, then kill -9
    # before the slot's restart_lsn can pass it: the restarted walsender
    # decodes it again on its way up to the checkpoint.
    zh_psql_src -c "INSERT INTO ${DB}_fill.filler SELECT g, 'f' || g FROM generate_series(1, 400000) g" >/dev/null
    lsn=$(zh_psql_src -c "SELECT pg_current_wal_lsn()")
    t_wait $T "round $round: zetl streamed past the filler transaction (its checkpoint at or past $lsn)" 60 \
        ckpt_past "$lsn"
    t_eq $T "round $round: big is still resyncing at the kill" "resyncing" "$(st big)"
    e2e_run_kill9
    e2e_run_start
    sleep 2
    zh_psql_src -c "TRUNCATE ${DB}_fill.filler" >/dev/null
done
t_eq $T "no write moved the checkpoint back (a heartbeat below it is not a checkpoint)" "0" "$(moved_back)"
t_eq $T "and no round refused a checkpoint behind the one it had" "0" \
    "$(grep -c 'the checkpoint would move back' "$E2E_DIR/run.log")"

# One more restart from whatever checkpoint is there, then the end state.
e2e_run_kill9
e2e_run_start
rm -f "$E2E_DIR/go"
wait "$load_pid" 2>/dev/null
load_pid=
t_eq $T "the workload ran without errors" "" "$(head -n 3 "$E2E_DIR/workload.err")"
synced() { [ "$(st big)" = synced ]; }
t_wait $T "big's resync finished" 120 synced
t_ok $T "exact match (zetl verify): the keyless table has each row once" match 60
t_match $T "the keyless table's rows, counted" '^[0-9]+ [0-9]+$' \
    "$(zh_psql_src -c "SELECT count(*) FROM $DB.loose") $(zh_psql_tgt -c "SELECT count(*) FROM $DB.loose")"
t_eq $T "the keyless table: as many rows in the target as in the source" \
    "$(zh_psql_src -c "SELECT count(*) FROM $DB.loose")" "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.loose")"
e2e_run_stop
t_eq $T "zetl run stops cleanly" "0" "$?"
cleanup
t_eq $T "its slot is gone from the source (other tests count theirs)" "0" \
    "$(zh_psql_src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'zetl_$NAME'")"
t_done
