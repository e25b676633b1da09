#!/usr/bin/env bash
# test_bad_table.sh — one bad table never stops the others (MariaDB source):
#   1. a zero date in a NOT NULL DATE/DATETIME column: the table copies (the
#      target column is NULLable, the value NULL) and the initial copy of the
#      other tables is not held up;
#   2. a NUL byte in a TEXT value while two other tables stream: that table
#      goes failed with a reason naming table, column, key and binlog
#      position; its later changes are not applied; the others keep
#      replicating and checkpointing with an exact verify; `zetl verify`
#      reports the table without erroring; fixing the row and a resync bring
#      it back to synced and an exact match;
#   3. a change the target refuses (a CHECK constraint in the target): that
#      table alone goes failed with the server's message, the others go on;
#   4. a row bigger than apply.memory_mb allows (memory_mb / 4): that table
#      fails naming the row's size and the limit, the others go on, and the
#      process's peak RSS stays under 2 × memory_mb + 100 MB;
#   5. the initial copy: a NUL byte in one table, a load the target refuses in
#      another (a CHECK constraint): each fails alone, the third is copied and
#      streams.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_bad_table
DB=e2e_bad
CMD=${ZETL_BUILD:-build}/tools/zetl_command
MEM_MB=64                     # row limit 16 MB
BIG_MB=40

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
cleanup() {
    e2e_cleanup
    zh_mysql -e "DROP DATABASE IF EXISTS e2e_bad; DROP DATABASE IF EXISTS e2e_bad2" >/dev/null 2>&1
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS e2e_bad CASCADE; DROP SCHEMA IF EXISTS e2e_bad2 CASCADE;
                    DELETE FROM zetl.checkpoints WHERE integration IN ('bad', 'bad2')" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
zh_mysql -e "SET GLOBAL max_allowed_packet = 1073741824"
zh_mysql <<SQL
SET SESSION sql_mode = '';
DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB;
CREATE TABLE $DB.good1 (id INT PRIMARY KEY, v INT);
CREATE TABLE $DB.good2 (id INT PRIMARY KEY, v VARCHAR(20));
CREATE TABLE $DB.notes (id INT PRIMARY KEY, note TEXT);
CREATE TABLE $DB.chk (id INT PRIMARY KEY, v INT);
CREATE TABLE $DB.big (id INT PRIMARY KEY, body LONGTEXT);
CREATE TABLE $DB.dates (id INT PRIMARY KEY, d DATE NOT NULL, dt DATETIME NOT NULL);
INSERT INTO $DB.good1 VALUES (1, 1), (2, 2);
INSERT INTO $DB.good2 VALUES (1, 'a'), (2, 'b');
INSERT INTO $DB.notes VALUES (1, 'fine');
INSERT INTO $DB.chk VALUES (1, 1);
INSERT INTO $DB.big VALUES (1, 'small');
INSERT INTO $DB.dates VALUES (1, '2024-02-29', '2024-02-29 10:00:00'), (2, '0000-00-00', '2024-00-15 00:00:00');
SQL
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'bad'" >/dev/null 2>&1
e2e_my_config bad $DB 7272 "batch_ms: 100, memory_mb: $MEM_MB"
DBFILE=$E2E_DIR/state/zetl.db

INTEG=bad
integ() { echo ".integrations[] | select(.name == \"$INTEG\")"; }
state_of() { e2e_status_field "$(integ) | .tables[] | select(.name == \"$DB.$1\") | .state"; }
reason_of() { e2e_status_field "$(integ) | .tables[] | select(.name == \"$DB.$1\") | .reason"; }
verify_t() { "$ZETL" verify -c "$E2E_DIR/zetl.yaml" -t "$DB.$1" 2>&1; }
match_t() { verify_t "$1" | grep -q "^  match "; }
tgt() { zh_psql_tgt -c "$1" 2>&1; }
checkpoint() { tgt "SELECT position FROM zetl.checkpoints WHERE integration = 'bad'"; }

# ---- 1. zero dates in NOT NULL columns: the copy of every table completes ------------
e2e_run_start
copied() { [ "$(e2e_status_field '[.integrations[0].tables[].state] | unique | join(",")')" = synced ]; }
t_wait $T "the initial copy completes: every table synced (a zero date in a NOT NULL column)" 60 copied
t_eq $T "the zero-date row is in the target, its dates NULL" "2||" "$(tgt "SELECT id, d, dt FROM $DB.dates WHERE id = 2")"
t_eq $T "the target's date columns are NULLable" "YES,YES" \
    "$(tgt "SELECT string_agg(is_nullable, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_schema = '$DB' AND table_name = 'dates' AND column_name IN ('d', 'dt')")"
zh_mysql -e "SET SESSION sql_mode = ''; INSERT INTO $DB.dates VALUES (3, '0000-00-00', '0000-00-00 00:00:00')"
t_wait $T "a zero date streamed into a NOT NULL column is applied (as NULL)" 30 match_t dates

# ---- 2. a NUL byte in one table while two others stream ---------------------------------
(
    for i in $(seq 10 59); do
        zh_mysql -e "INSERT INTO $DB.good1 VALUES ($i, $i); INSERT INTO $DB.good2 VALUES ($i, 'x$i')"
        sleep 0.05
    done
) &
load=$!
sleep 0.5
zh_mysql -e "INSERT INTO $DB.notes VALUES (2, CONCAT('a', CHAR(0), 'b'))"
wait $load
failed() { [ "$(state_of "$1")" = failed ]; }
t_wait $T "the table with a NUL byte goes failed" 30 failed notes
r=$(reason_of notes)
t_match $T "its reason names the table, the binlog position, the column, the key and the fix" \
    "^table $DB\.notes, in the source transaction after [^ ]+\.[0-9]+:[0-9]+.*: column note holds a NUL byte \(0x00\) \(key \(id\)=\(2\)\).*then resync the table$" "$r"
t_eq $T "the other tables stay synced" "synced synced" "$(state_of good1) $(state_of good2)"
zh_mysql -e "INSERT INTO $DB.notes VALUES (3, 'later'); INSERT INTO $DB.good1 VALUES (100, 100); UPDATE $DB.good2 SET v = 'z' WHERE id = 1"
cp1=$(checkpoint)
t_wait $T "good1 keeps replicating: exact verify" 30 match_t good1
t_wait $T "good2 keeps replicating: exact verify" 30 match_t good2
moved() { [ "$(checkpoint)" != "$cp1" ]; }
zh_mysql -e "INSERT INTO $DB.good1 VALUES (101, 101)"
t_wait $T "the checkpoint keeps moving" 30 moved
t_eq $T "the failed table's later change is not applied" "0" "$(tgt "SELECT count(*) FROM $DB.notes WHERE id = 3")"
out=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" 2>"$E2E_DIR/verify.err"); vrc=$?
t_eq $T "zetl verify exits 1 (a table differs), not on an error" "1" "$vrc"
t_match $T "zetl verify reports the table's trouble on its line" "ERROR +$DB\.notes +reading the source: a source row cannot be stored in the target: column note holds a NUL byte" "$out"
t_match $T "zetl verify says the table is failed and why" "the table is failed: table $DB\.notes, in the source transaction after .*: column note" "$out"
t_match $T "zetl verify still compares the other tables" "match +$DB\.good1 .*match +$DB\.good2 " "$(tr '\n' ' ' <<<"$out")"
t_eq $T "zetl verify prints no error for the run" "" "$(grep -v 'tables\? differ' "$E2E_DIR/verify.err")"
t_match $T "the event log has the table's error" "notes.*failed, its changes are no longer applied" "$(sqlite3 "$DBFILE" "SELECT tbl || ' ' || message FROM events WHERE level = 'error'" 2>&1)"

# Fixed at the source, resynced: synced and exact again.
zh_mysql -e "UPDATE $DB.notes SET note = REPLACE(note, CHAR(0), '') WHERE id = 2"
t_eq $T "resync acknowledged" "ok" "$("$CMD" "$DBFILE" bad resync "$DB.notes")"
synced() { [ "$(state_of "$1")" = synced ]; }
t_wait $T "after the fix, the resync brings the table back to synced" 60 synced notes
zh_mysql -e "INSERT INTO $DB.notes VALUES (4, 'after')"
t_wait $T "the resynced table streams again: exact verify" 30 match_t notes

# ---- 3. a change the target refuses: that table alone fails --------------------------------
tgt "ALTER TABLE $DB.chk ADD CONSTRAINT small CHECK (v < 1000)" >/dev/null
zh_mysql -e "INSERT INTO $DB.chk VALUES (2, 5000); INSERT INTO $DB.good1 VALUES (200, 200)"
t_wait $T "the table whose change the target refuses goes failed" 30 failed chk
t_match $T "its reason names the table, the position and the server's message" \
    "^table $DB\.chk: the target refused its changes after [^ ]+:[0-9]+.*: .*violates check constraint \"small\".*then resync the table$" "$(reason_of chk)"
zh_mysql -e "INSERT INTO $DB.good1 VALUES (201, 201); INSERT INTO $DB.good2 VALUES (201, 'y')"
t_wait $T "the others go on after the refused change: good1 exact" 30 match_t good1
t_wait $T "the others go on after the refused change: good2 exact" 30 match_t good2
t_eq $T "the integration is not failed (needs_attention: a table failed)" "needs_attention" "$(e2e_status_field "$(integ) | .state")"

# ---- 4. a row over the memory bound -------------------------------------------------------
zh_mysql -e "INSERT INTO $DB.big VALUES (2, REPEAT('x', $BIG_MB * 1024 * 1024))"
t_wait $T "a row over memory_mb / 4 fails its table" 60 failed big
t_match $T "its reason names the row's size, the limit and the fix" \
    "^table $DB\.big, in the source transaction after [^ ]+:[0-9]+.*: a row of 40\.0 MB \(key \(id\)=\(2\)\) is over the largest row apply.memory_mb allows \(16 MB.*raise apply.memory_mb" "$(reason_of big)"
zh_mysql -e "INSERT INTO $DB.good1 VALUES (300, 300)"
t_wait $T "the others go on after the big row: good1 exact" 30 match_t good1
peak=$(e2e_rss_peak_kb)
if [[ $ZETL == *asan* ]]; then
    # AddressSanitizer's shadow memory and quarantine make RSS meaningless (as test_big_txn).
    echo "SKIP $T: peak RSS under 2 x memory_mb + 100 MB (sanitized build: RSS is not the program's)"
else
    t_ok $T "peak RSS ${peak} kB is under 2 x memory_mb + 100 MB" test "$peak" -lt $(((2 * MEM_MB + 100) * 1024))
fi
e2e_run_stop

# ---- 5. the initial copy: a NUL byte and a load the target refuses fail only their tables --
DB=e2e_bad2 INTEG=bad2
zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB;
CREATE TABLE $DB.nul (id INT PRIMARY KEY, note TEXT);
CREATE TABLE $DB.ok (id INT PRIMARY KEY, v INT);
CREATE TABLE $DB.refuse (id INT PRIMARY KEY, v INT);
INSERT INTO $DB.nul VALUES (1, 'fine'), (2, CONCAT('x', CHAR(0))), (3, 'fine too');
INSERT INTO $DB.ok VALUES (1, 1), (2, 2);
INSERT INTO $DB.refuse VALUES (1, 1), (2, 5000);
SQL
tgt "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'bad2';
     CREATE SCHEMA $DB; CREATE TABLE $DB.refuse (id integer PRIMARY KEY, v integer CHECK (v < 1000))" >/dev/null
e2e_my_config bad2 $DB 7274 "batch_ms: 100, memory_mb: $MEM_MB"
e2e_run_start
t_wait $T "initial copy: the other table is copied and synced" 60 synced ok
t_wait $T "initial copy: the table with a NUL byte goes failed" 30 failed nul
t_match $T "initial copy: its reason names the table, the column and the key" \
    "^initial copy of $DB\.nul: table $DB\.nul: column note holds a NUL byte \(0x00\) \(key \(id\)=\(2\)\).*then resync the table$" "$(reason_of nul)"
t_eq $T "initial copy: the failed table keeps none of its rows" "0" "$(tgt "SELECT count(*) FROM $DB.nul")"
t_wait $T "initial copy: the table whose load the target refuses goes failed" 30 failed refuse
t_match $T "initial copy: its reason has the server's message" \
    "^initial copy of $DB\.refuse: .*violates check constraint.*; fix the data or the target table, then resync the table$" "$(reason_of refuse)"
t_eq $T "initial copy: the good table holds its rows" "2" "$(tgt "SELECT count(*) FROM $DB.ok")"
zh_mysql -e "INSERT INTO $DB.ok VALUES (3, 3)"
t_wait $T "initial copy: the good table streams on, exact" 30 match_t ok
zh_mysql -e "DROP DATABASE IF EXISTS $DB"
tgt "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'bad2'" >/dev/null
e2e_run_stop
t_done
