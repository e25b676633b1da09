#!/usr/bin/env bash
# test_ddl.sh — source schema changes while streaming from MariaDB: DROP
# COLUMN, RENAME COLUMN, a widening type change, CREATE TABLE matching the
# include pattern, RENAME TABLE, TRUNCATE are applied to the target and
# `zetl verify` matches after each; a lossy type change moves the table
# to resync_required with the reason; DROP TABLE marks it dropped_source and
# keeps the target data.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_ddl
DB=e2e_ddl

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'e2e_cleanup; harness_stop' EXIT
zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; USE $DB;
             CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(10), c TEXT);
             INSERT INTO t VALUES (1, 1, 'one', 'x'), (2, 2, 'two', 'y')"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'ddl'" >/dev/null 2>&1
e2e_my_config ddl $DB 8181
target_cols() {   # $1 table: its columns in the target, in order
    zh_psql_tgt -c "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position)
                    FROM information_schema.columns WHERE table_schema = '$DB' AND table_name = '$1'"
}
step() {   # $1 what, $2 SQL on the source
    zh_mysql -e "USE $DB; $2"
    if e2e_wait_match 60; then t_pass $T "$1: exact match"
    else t_fail $T "$1" "zetl verify: match" "$E2E_VERIFY"; fi
}
table_state() { e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.$1\") | .state"; }

e2e_run_start
e2e_wait_match 60 || t_fail $T "initial copy" "match" "$E2E_VERIFY"

step "DROP COLUMN" "ALTER TABLE t DROP COLUMN c; INSERT INTO t VALUES (3, 3, 'three')"
t_eq $T "DROP COLUMN: the target column is gone" "id:integer,a:integer,b:character varying" "$(target_cols t)"

step "RENAME COLUMN" "ALTER TABLE t RENAME COLUMN b TO bb; UPDATE t SET bb = 'uno' WHERE id = 1"
t_eq $T "RENAME COLUMN: renamed in the target, values kept" "id:integer,a:integer,bb:character varying|uno,two,three" \
    "$(target_cols t)|$(zh_psql_tgt -c "SELECT string_agg(bb, ',' ORDER BY id) FROM $DB.t")"

step "widening INT to BIGINT" "ALTER TABLE t MODIFY a BIGINT; INSERT INTO t VALUES (4, 1000000000000, 'four')"
t_eq $T "widening: the target column is bigint" "id:integer,a:bigint,bb:character varying" "$(target_cols t)"

step "CREATE TABLE matching the include" "CREATE TABLE t2 (k INT PRIMARY KEY, v VARCHAR(5)); INSERT INTO t2 VALUES (1, 'a'), (2, 'b')"
t_eq $T "CREATE TABLE: streamed into a new target table" "2" "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.t2")"

step "RENAME TABLE" "RENAME TABLE t2 TO t3; INSERT INTO t3 VALUES (3, 'c')"
t_eq $T "RENAME TABLE: the target table is renamed and holds every row" "3" "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.t3")"

step "TRUNCATE" "TRUNCATE TABLE t3; INSERT INTO t3 VALUES (9, 'z')"
t_eq $T "TRUNCATE: only the row after it" "9" "$(zh_psql_tgt -c "SELECT string_agg(k::text, ',') FROM $DB.t3")"

# BIGINT to DOUBLE succeeds on the source but loses integers above 2^53.
zh_mysql -e "USE $DB; ALTER TABLE t MODIFY a DOUBLE"
narrowed() { [ "$(table_state t)" = resync_required ]; }
t_wait $T "a lossy type change (BIGINT to DOUBLE): resync_required" 30 narrowed
t_match $T "the reason names the column and says to resync" "column a .*resync" \
    "$(e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.t\") | .reason")"
attention() { [ "$(e2e_status_field '.integrations[0].state')" = needs_attention ]; }
t_wait $T "a table out of sync: the integration needs_attention" 30 attention
t_match $T "its reason names the table and the fix" "table $DB.t is resync_required; resync it" \
    "$(e2e_status_field '.integrations[0].reason')"

rows_before=$(zh_psql_tgt -c "SELECT count(*) FROM $DB.t3")
zh_mysql -e "USE $DB; DROP TABLE t3"
dropped() { [ "$(table_state t3)" = dropped_source ]; }
t_wait $T "DROP TABLE: dropped_source" 30 dropped
t_eq $T "DROP TABLE: the target keeps its data" "$rows_before" "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.t3")"
t_eq $T "a dropped source table needs no attention: still needs_attention for t only" \
    "needs_attention|table $DB.t is resync_required; resync it (R in the console)" \
    "$(e2e_status_field '.integrations[0].state + "|" + .integrations[0].reason')"

# the operator resyncs t: the integration is active again, the copy exact
out=$("${ZETL_BUILD:-build}/tools/zetl_command" "$E2E_DIR/state/zetl.db" ddl resync "$DB.t")
t_eq $T "resync acknowledged" "ok" "$out"
active() { [ "$(e2e_status_field '.integrations[0].state')" = active ]; }
t_wait $T "after the resync the integration is active again" 60 active
if e2e_wait_match 60; then t_pass $T "resynced after the lossy change: exact match"
else t_fail $T "resync" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "the transitions are in the log: -> needs_attention, then -> active" "needs_attention,active" \
    "$(sqlite3 "$E2E_DIR/state/zetl.db" "SELECT group_concat(s) FROM (SELECT substr(message, instr(message, '-> ') + 3,
        CASE WHEN instr(message, ':') > 0 THEN instr(message, ':') - instr(message, '-> ') - 3 ELSE 99 END) AS s
        FROM events WHERE integration = 'ddl' AND tbl IS NULL AND kind = 'transition'
        AND id >= (SELECT min(id) FROM events WHERE kind = 'transition' AND message LIKE '%-> needs_attention%')
        ORDER BY id)")"
e2e_run_stop
t_done
