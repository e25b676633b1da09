#!/usr/bin/env bash
# test_copy_load.sh — the initial copy's load writer (runtime/integ/copy.c): while
# the reader fills one 4 MB load from MariaDB, a writer thread COPYs the
# previous one into PostgreSQL. Through the real binary:
#   - a 100,000-row table (about 20 MB, so several loads go through the
#     writer) and a second table copy exactly: zetl verify matches, and the
#     target holds each row once;
#   - the target refuses a row in a load the writer took (a CHECK constraint
#     on the target table): that table alone is failed with a reason naming
#     the table and the constraint (badtable.c), left empty; the other table
#     is copied, the checkpoint written and the integration streams
#     (needs_attention); once the constraint is gone, a resync copies it all.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_copy_load
DB=zt_load

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'e2e_cleanup; zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1; harness_stop' EXIT

N=100000
BAD=50000          # in the third load: one the writer thread applies
zh_mysql <<SQL || { t_fail $T "source tables" "created" "mariadb failed"; t_done; }
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB;
USE $DB;
CREATE TABLE $DB.t (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL);
INSERT INTO $DB.t SELECT seq, seq % 1000, REPEAT(CHAR(97 + seq % 26), 119), REPEAT('p', 59) FROM seq_1_to_$N;
UPDATE $DB.t SET k = -1 WHERE id = $BAD;
CREATE TABLE $DB.u (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO $DB.u SELECT seq, CONCAT('u', seq) FROM seq_1_to_500;
SQL

e2e_my_config load $DB 5353 "memory_mb: 16"

# The target table exists already, with a constraint the source row $BAD breaks.
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'load'" >/dev/null 2>&1
zh_psql_tgt -c "CREATE SCHEMA $DB; CREATE TABLE $DB.t (id integer PRIMARY KEY, k integer NOT NULL,
                c character(120) NOT NULL, pad character(60) NOT NULL, CONSTRAINT k_not_negative CHECK (k >= 0))" >/dev/null ||
    { t_fail $T "target table" "created" "psql failed"; t_done; }

table_state() { e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.$1\") | .$2"; }
t_failed() { [ "$(table_state t state)" = failed ]; }
e2e_run_start
t_wait $T "a refused row in a writer's load: that table is failed" 60 t_failed
reason=$(table_state t reason)
t_match $T "the reason names the table being loaded" "loading $DB\\.t" "$reason"
t_match $T "the reason carries the server's message (the constraint)" "k_not_negative" "$reason"
u_synced() { [ "$(table_state u state)" = synced ]; }
t_wait $T "the other table is copied: synced" 60 u_synced
t_eq $T "the checkpoint is written: the others stream" "1" \
    "$(zh_psql_tgt -c "SELECT count(*) FROM zetl.checkpoints WHERE integration = 'load'" 2>/dev/null || echo 0)"
t_eq $T "the failed table is empty, the other holds its rows" "0|500" \
    "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.t")|$(zh_psql_tgt -c "SELECT count(*) FROM $DB.u")"
t_eq $T "the integration is needs_attention, not failed" "needs_attention" "$(e2e_status_field '.integrations[0].state')"
t_match $T "the failure is in the run log, one line" "failed.*loading $DB\\.t.*k_not_negative" \
    "$(grep -m1 'k_not_negative' "$E2E_DIR/run.log")"

zh_psql_tgt -c "ALTER TABLE $DB.t DROP CONSTRAINT k_not_negative" >/dev/null
t_eq $T "resync of the failed table acknowledged" "ok" \
    "$("${ZETL_BUILD:-build}/tools/zetl_command" "$E2E_DIR/state/zetl.db" load resync "$DB.t")"
if e2e_wait_match 90; then t_pass $T "after the fix the resync copies it exactly (zetl verify)"
else t_fail $T "exact match after the resync" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "every row once, the refused one included" "$N|$N|1|500" \
    "$(zh_psql_tgt -c "SELECT count(*) || '|' || count(DISTINCT id) || '|' || count(*) FILTER (WHERE k = -1) FROM $DB.t")|$(zh_psql_tgt -c "SELECT count(*) FROM $DB.u")"
t_eq $T "integration active" "active" "$(e2e_status_field '.integrations[0].state')"
e2e_run_stop; rc=$?
t_eq $T "SIGTERM: zetl run exits 0" 0 "$rc"
t_done
