#!/usr/bin/env bash
# test_console_pg_delete.sh — PostgreSQL → PostgreSQL in the console
# (embedded runtime): the tables reach synced; `D` explains that target data
# is kept and the slot and publication are dropped, and insists on the exact
# name (a wrong name cancels); typing the name deletes: the screen shows
# deleted, the slot and publication are gone from the source, the target
# rows are still there, and the state log names the operator. A console
# started again shows it deleted with what was dropped, says why nothing runs
# (Events) and answers p/D with what to do.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_pg_delete
S=con_pg

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
cleanup() {
    tm_stop
    e2e_cleanup
    zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'zetl_conpg'" >/dev/null 2>&1
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_conpg; DROP SCHEMA IF EXISTS $S CASCADE" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT

zh_psql_src <<SQL >/dev/null
DROP PUBLICATION IF EXISTS zetl_conpg;
DROP SCHEMA IF EXISTS $S CASCADE;
CREATE SCHEMA $S;
CREATE TABLE $S.items (id int PRIMARY KEY, v text);
INSERT INTO $S.items SELECT g, 'i' || g FROM generate_series(1, 300) g;
CREATE TABLE $S.notes (id int PRIMARY KEY, t text);
INSERT INTO $S.notes SELECT g, 'n' || g FROM generate_series(1, 20) g;
SQL
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $S CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'conpg'" >/dev/null 2>&1
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: conpg
    source:
      kind: postgres
      host: 127.0.0.1
      port: $ZH_PGSRC_PORT
      user: $ZH_PG_USER
      password: $ZH_PG_PASSWORD
      database: zetl
      schemas: [$S]
    target:
      kind: postgres
      dsn: "$ZH_PGTGT_DSN"
    tables:
      include: ["$S.%"]
    apply:
      batch_ms: 100
YAML
slots() { zh_psql_src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'zetl_conpg'" 2>/dev/null; }
pubs() { zh_psql_src -c "SELECT count(*) FROM pg_publication WHERE pubname = 'zetl_conpg'" 2>/dev/null; }

tm_start 200 60 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL console -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait 'conpg' 15
tm_keys Enter
if tm_wait "$S\.items +synced" 40 && tm_wait "$S\.notes +synced" 10; then t_pass $T "both tables synced"
else t_fail $T "tables synced" "$S.items synced" "$TM_SCREEN"; fi
t_eq $T "the slot exists while replicating" "1" "$(slots)"
zh_psql_src -c "INSERT INTO $S.items VALUES (1000, 'streamed')" >/dev/null
t_wait $T "a streamed row reaches the target" 20 \
    bash -c "[[ \$(PGPASSWORD=$ZH_PG_PASSWORD psql -X -A -t -h 127.0.0.1 -p $ZH_PGTGT_PORT -U zetl zetl -c \"SELECT v FROM $S.items WHERE id = 1000\") == streamed ]]"

# Pause, resume and a resync at 200x60, with a PostgreSQL source.
tgt_v() { PGPASSWORD=$ZH_PG_PASSWORD psql -X -A -t -h 127.0.0.1 -p "$ZH_PGTGT_PORT" -U zetl zetl -c "SELECT v FROM $S.items WHERE id = $1" 2>/dev/null; }
row_in_target() { [[ $(tgt_v "$1") == "$2" ]]; }
tm_keys p
if tm_wait 'conpg \(paused\)' 10; then t_pass $T "p: paused on screen (200x60)"
else t_fail $T "p paused" "conpg (paused)" "$TM_SCREEN"; fi
zh_psql_src -c "INSERT INTO $S.items VALUES (1001, 'while-paused')" >/dev/null
sleep 3   # the runtime acts on commands within 250 ms; 3 s without the row is the check
t_eq $T "paused: the row does not reach the target" "" "$(tgt_v 1001)"
tm_keys p
t_wait $T "p again resumes: the row arrives" 20 row_in_target 1001 while-paused
tm_wait 'conpg \(active\)' 10 || t_fail $T "active again on screen" "conpg (active)" "$TM_SCREEN"
zh_psql_tgt -c "DELETE FROM $S.items WHERE id = 5" >/dev/null
tm_keys s; tm_wait 'sort: name' 5; tm_keys Home r
tm_wait "Resync $S\.items of integration conpg" 5 || t_fail $T "r prompt" "Resync $S.items" "$TM_SCREEN"
tm_keys y
t_wait $T "r + y: the resync brings back the deleted target row" 30 row_in_target 5 i5
if tm_wait "$S\.items +$S\.items +synced" 30; then t_pass $T "the table is synced again after the resync"
else t_fail $T "synced after resync" "$S.items synced" "$TM_SCREEN"; fi

# A wrong name cancels.
tm_keys D
if tm_wait 'Delete integration conpg\?' 5 && [[ $TM_SCREEN =~ "Target data is kept" && $TM_SCREEN =~ "replication slot and the publication are dropped" ]]; then
    t_pass $T "D explains: target data kept, slot and publication dropped"
else t_fail $T "D prompt" "target data kept / slot and publication dropped" "$TM_SCREEN"; fi
tm_type conp; tm_keys Enter
if tm_wait 'delete cancelled' 5; then t_pass $T "a wrong name cancels the delete"
else t_fail $T "wrong name cancels" "delete cancelled" "$TM_SCREEN"; fi
t_eq $T "the slot is still there after the cancel" "1" "$(slots)"

# The exact name deletes.
tm_keys D; tm_wait 'Type the integration' 5
tm_type conpg; tm_keys Enter
if tm_wait 'conpg \(deleted\)|state deleted|deleted' 20; then t_pass $T "the console shows deleted"
else t_fail $T "deleted on screen" "deleted" "$TM_SCREEN"; fi
t_wait $T "the replication slot is dropped" 20 bash -c "[[ \$(PGHOST=$ZH_PGSRC_SOCKDIR psql -X -A -t -p $ZH_PGSRC_PORT -U zetl zetl -c \"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'zetl_conpg'\") == 0 ]]"
t_eq $T "the publication is dropped" "0" "$(pubs)"
t_eq $T "target data is kept" "302" "$(zh_psql_tgt -c "SELECT count(*) FROM $S.items" 2>/dev/null)"
actor=$(sqlite3 "$E2E_DIR/state/zetl.db" "SELECT actor FROM commands WHERE integration = 'conpg' AND command = 'delete'" 2>/dev/null)
t_match $T "the delete is recorded with the operator" "^console by " "$actor"

tm_keys q; tm_wait 'Stop replication' 5; tm_keys y
if tm_wait 'CONSOLE-EXIT=0' 20; then t_pass $T "the console exits 0"
else t_fail $T "console exit" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi

# Started again, the deleted integration does nothing and says why; keys
# that would send it a command say what to do instead.
tm_keys C-l; tm_run "clear; $ZETL console -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT2=\$?"
if tm_wait 'state deleted: slot zetl_conpg and publication zetl_conpg dropped; target data kept' 20; then
    t_pass $T "started again: deleted, with what the delete dropped"
else t_fail $T "deleted on screen after a restart" "state deleted: slot zetl_conpg and publication zetl_conpg dropped" "$TM_SCREEN"; fi
tm_keys p
if tm_wait 'conpg is deleted, so nothing runs it: remove it from the config, or add it under a new name' 5; then
    t_pass $T "p on the deleted integration says why nothing happens and what to do"
else t_fail $T "p on deleted" "conpg is deleted, so nothing runs it: ..." "$TM_SCREEN"; fi
tm_keys D
sleep 0.5
if [[ ! $(tm_screen) =~ "Type the integration" ]]; then t_pass $T "D on the deleted integration asks nothing"
else t_fail $T "D on deleted" "no delete prompt" "$(tm_screen)"; fi
tm_keys Tab Tab Tab Tab
if tm_wait 'warning +deleted +integration conpg was deleted' 10; then
    t_pass $T "the Events view shows why it does not run"
else t_fail $T "Events: was deleted" "warning deleted integration conpg was deleted" "$TM_SCREEN"; fi
ev=$(sqlite3 "$E2E_DIR/state/zetl.db" "SELECT message FROM events WHERE integration = 'conpg' AND kind = 'deleted' ORDER BY id DESC LIMIT 1" 2>/dev/null)
t_match $T "the event says what to do" "was deleted .*so it does not run: remove it from the config .*add it under a new name" "$ev"
tm_keys q; tm_wait 'Stop replication' 5; tm_keys y
if tm_wait 'CONSOLE-EXIT2=0' 20; then t_pass $T "the second console exits 0"
else t_fail $T "second console exit" "CONSOLE-EXIT2=0" "$TM_SCREEN"; fi
t_done
