#!/usr/bin/env bash
# test_statelog_heal.sh — the SQLite state log heals, with the real binary:
#  (a) zetl.db truncated to 5000 bytes: `zetl status` says so in one stderr
#      line, moves it aside (kept), answers from a fresh log, and stays working;
#  (b) garbage written into the middle of zetl.db: `zetl run` says so, moves it
#      aside, and replication resumes from the target's checkpoint: the rows
#      written while zetl was stopped arrive, `zetl verify` is exact;
#  (c) zetl.db deleted while `zetl run` runs: noticed, a fresh log at the path,
#      `zetl status` shows the integration again, replication goes on;
#  (d) garbage again; `zetl console` (in tmux): it heals at start, keeps the
#      notice off the screen while it runs, prints it on stderr when it exits.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_statelog_heal
DB=e2e_heal

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'tm_stop; e2e_cleanup; harness_stop' EXIT
zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; CREATE TABLE $DB.t (id INT PRIMARY KEY, v VARCHAR(40));
             USE $DB; INSERT INTO t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_200"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'heal'" >/dev/null 2>&1
e2e_my_config heal $DB 7272
LOG=$E2E_DIR/state/zetl.db
asides() { ls "$LOG".corrupt-* 2>/dev/null | grep -v -- '-wal$\|-shm$' | wc -l; }
quick_check() { sqlite3 "$1" 'PRAGMA quick_check' 2>&1 | head -1; }
ins=201
# Many small transactions: a state log of many pages (activity rows, events).
write_rows() {
    local i
    for i in $(seq 1 "$1"); do
        zh_mysql -e "INSERT INTO $DB.t VALUES ($ins, 'row $ins')"
        ins=$((ins + 1))
    done
}

e2e_run_start
e2e_wait_match 60 || t_fail $T "initial match" "match" "$E2E_VERIFY"
write_rows 60
e2e_wait_match 60 || t_fail $T "match after the small transactions" "match" "$E2E_VERIFY"
e2e_run_stop

# (a) truncated; zetl status.
size=$(stat -c %s "$LOG")
truncate -s 5000 "$LOG"
t_ne $T "(a) precondition: the truncated file fails SQLite's quick_check (was $size bytes)" "ok" "$(quick_check "$LOG")"
out=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" --json 2>"$E2E_DIR/st.err"); rc=$?
err=$(cat "$E2E_DIR/st.err")
t_eq $T "(a) zetl status exits 0 on a truncated log" "0" "$rc"
t_eq $T "(a) one line on stderr" "1" "$(wc -l <<<"$err")"
aside=$(ls "$LOG".corrupt-* 2>/dev/null | grep -v -- '-wal$\|-shm$' | head -1)
t_match $T "(a) it names the file, where it went, and that the checkpoint is in the target" \
    "state log $LOG is corrupt .*moved it to $aside for inspection and started a fresh log.*checkpoint of record is in the target" "$err"
t_eq $T "(a) the truncated file is kept aside as it was" "5000" "$(stat -c %s "$aside" 2>/dev/null)"
t_eq $T "(a) status answers from the fresh log" '{"integrations": []}' "$out"
t_eq $T "(a) the fresh log is mode 0600" "600" "$(stat -c %a "$LOG")"
t_eq $T "(a) the fresh log is in WAL mode" "wal" "$(sqlite3 "$LOG" 'PRAGMA journal_mode')"
want_v=$(sed -n 's/^#define STATELOG_SCHEMA_VERSION *\([0-9]*\).*/\1/p' runtime/log/statelog.h)
t_eq $T "(a) the fresh log has the current schema version ($want_v)" "$want_v" "$(sqlite3 "$LOG" 'PRAGMA user_version')"
out=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>&1); rc=$?
t_eq $T "(a) the next status works and says nothing about corruption" "0:no integration has run yet (state log $LOG)" "$rc:$out"

# (b) garbage in the middle; zetl run. Rows written while zetl is stopped
# must arrive from the target's checkpoint.
e2e_run_start
e2e_wait_match 60 || t_fail $T "(b) match before" "match" "$E2E_VERIFY"
write_rows 60
e2e_wait_match 60 || t_fail $T "(b) match after more small transactions" "match" "$E2E_VERIFY"
e2e_run_stop
size=$(stat -c %s "$LOG")
head -c 16384 /dev/urandom | dd of="$LOG" bs=1 seek=$((size / 2)) conv=notrunc status=none
t_ne $T "(b) precondition: the garbled file fails SQLite's quick_check ($size bytes)" "ok" "$(quick_check "$LOG")"
zh_mysql -e "UPDATE $DB.t SET v = 'changed while stopped' WHERE id <= 50; DELETE FROM $DB.t WHERE id BETWEEN 51 AND 60"
write_rows 5
: >"$E2E_DIR/run.log"
e2e_run_start
# zetl run heals the file when it opens it; `zetl verify` opens it too, so it
# waits for that (else verify may heal it first, and say so in its own output).
run_started() { grep -q "started (" "$E2E_DIR/run.log"; }
t_wait $T "(b) zetl run starts on the garbled log" 30 run_started
if e2e_wait_match 60; then t_pass $T "(b) replication resumed from the target's checkpoint: zetl verify exact"
else t_fail $T "(b) resume after the heal" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "(b) the changes made while stopped are in the target" "50" \
    "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.t WHERE v = 'changed while stopped'")"
t_eq $T "(b) the garbled file is moved aside too (two kept)" "2" "$(asides)"
runlog=$(cat "$E2E_DIR/run.log")
t_eq $T "(b) zetl run says it once, in one line, on stderr" "1:1" \
    "$(grep -c 'is corrupt' <<<"$runlog"):$(grep -c 'is corrupt .*for inspection and started a fresh log' <<<"$runlog")"
t_match $T "(b) the line says where it went and that the checkpoint is in the target" \
    "state log $LOG is corrupt .*moved it to $LOG.corrupt-[0-9T]+(-[0-9]+)? for inspection.*checkpoint of record is in the target" "$runlog"
synced() { [ "$(e2e_status_field '.integrations[0].state + "/" + .integrations[0].tables[0].state')" = "active/synced" ]; }
t_wait $T "(b) zetl status shows the integration active and its table synced" 30 synced
t_eq $T "(b) the fresh log has a warning event saying what happened" "1" \
    "$(sqlite3 "$LOG" "SELECT count(*) FROM events WHERE kind = 'statelog' AND message LIKE '%is corrupt%'")"

# (c) deleted while zetl run runs.
rm -f "$LOG"
deleted_said() { grep -q "state log $LOG was deleted while in use; started a fresh log there" "$E2E_DIR/run.log"; }
t_wait $T "(c) zetl run notices the deletion and says so" 20 deleted_said
t_eq $T "(c) said once" "1" "$(grep -c 'was deleted while in use' "$E2E_DIR/run.log")"
t_eq $T "(c) a fresh log is at the path, mode 0600" "600" "$(stat -c %a "$LOG" 2>/dev/null)"
t_wait $T "(c) zetl status shows the integration again, active and synced" 30 synced
zh_mysql -e "UPDATE $DB.t SET v = 'after the deletion' WHERE id <= 10"
if e2e_wait_match 60; then t_pass $T "(c) replication goes on: zetl verify exact"
else t_fail $T "(c) replication after the deletion" "zetl verify: match" "$E2E_VERIFY"; fi
inserts() { [ "$(e2e_status_field '.integrations[0].tables[0].updates')" -ge 10 ] 2>/dev/null; }
t_wait $T "(c) the fresh log counts the changes applied since" 30 inserts
t_match $T "(c) the position is shown again" "binlog|[0-9]+-[0-9]+-[0-9]+" "$(e2e_status_field '.integrations[0].position')"
e2e_run_stop; rc=$?
t_eq $T "zetl run stops cleanly after the heals" "0" "$rc"
t_eq $T "every state log line on stderr is one of the three notices" "" "$(grep "state log" "$E2E_DIR/run.log" | grep -v "is corrupt .*for inspection\|was deleted while in use" | head -3)"

# (d) garbage again; zetl console heals at start.
size=$(stat -c %s "$LOG")
head -c 16384 /dev/urandom | dd of="$LOG" bs=1 seek=$((size / 2)) conv=notrunc status=none
t_ne $T "(d) precondition: the garbled file fails SQLite's quick_check" "ok" "$(quick_check "$LOG")"
zh_mysql -e "UPDATE $DB.t SET v = 'changed before the console' WHERE id <= 20"
TM_ENV="E2E_MY_PASSWORD=$ZH_MY_PASSWORD"   # tmux starts a clean environment
tm_start 100 30 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL console -c $E2E_DIR/zetl.yaml 2>$E2E_DIR/console.err; echo CONSOLE-EXIT=\$?"
if tm_wait "heal.*active" 30; then t_pass $T "(d) the console shows the integration active"
else t_fail $T "(d) console shows the integration" "heal ... active" "$TM_SCREEN"; fi
if e2e_wait_match 60; then t_pass $T "(d) the console's runtime resumed from the target's checkpoint: zetl verify exact"
else t_fail $T "(d) resume under the console" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "(d) the garbled file is moved aside (three kept)" "3" "$(asides)"
t_eq $T "(d) nothing on stderr while the console owns the terminal" "" "$(cat "$E2E_DIR/console.err")"
tm_keys q; tm_wait 'Stop replication' 5; tm_keys y
if tm_wait 'CONSOLE-EXIT=0' 30; then t_pass $T "(d) the console quits cleanly"
else t_fail $T "(d) console exit" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi
n=$(LC_ALL=C grep -a -c "state log $LOG is corrupt .*for inspection and started a fresh log.*checkpoint of record is in the target" "$E2E_DIR/console.err")
if [ "$n" = 1 ]; then t_pass $T "(d) after it exits, the notice is on stderr, once, in one line"
else t_fail $T "(d) the notice after the console" "the corrupt-log notice once" "$n times in: $(LC_ALL=C cat -v "$E2E_DIR/console.err" | head -5)"; fi
t_done
