#!/usr/bin/env bash
# test_history.sh — tables.history through the real binary, from both source
# kinds into PostgreSQL:
#   - the initial copy in chunks, killed with SIGKILL half way and resumed,
#     gives each row one active version created at the copy's time;
#   - every source transaction that changes a key closes its active version
#     at the transaction's time and adds one (a delete only closes; two
#     updates in one transaction make one version; a key change closes the
#     old key and opens the new one); a TRUNCATE closes every active version;
#   - 40 transactions over 100 rows with a kill -9 among them: exactly 40 new
#     versions of each row, never two active versions of a key, each closed
#     version's end the next one's start; zetl verify (active versions)
#     matches;
#   - a synced table put in history goes resync_required, saying so, and
#     its resync makes it a history table (no primary key any more);
#   - a PostgreSQL update that leaves a TOASTed value unsent cannot make a
#     version: that table fails alone, with the fix, and the others stream.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/shaped.sh
T=test_history
MY=hs_my
PG=hs_pg
CMD=${ZETL_BUILD:-build}/tools/zetl_command
N=1500

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
drop_objects() {
    zh_mysql -e "DROP DATABASE IF EXISTS $MY" >/dev/null 2>&1
    e2e_pg_drop hspg $PG
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $MY CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'hsmy';
                    DELETE FROM zetl.table_shapes WHERE integration IN ('hsmy', 'hspg')" >/dev/null 2>&1
}
trap 'e2e_cleanup; drop_objects; harness_stop' EXIT
drop_objects

zh_mysql <<SQL || { t_fail $T "MariaDB tables" "created" "mariadb failed"; t_done; }
CREATE DATABASE $MY;
USE $MY;
CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL, owner VARCHAR(40));
INSERT INTO accounts SELECT seq, seq * 10, CONCAT('owner ', seq) FROM seq_1_to_$N;
CREATE TABLE plain (id INT PRIMARY KEY, v INT);
INSERT INTO plain SELECT seq, seq FROM seq_1_to_20;
CREATE TABLE wiped (id INT PRIMARY KEY, v INT);
INSERT INTO wiped SELECT seq, seq FROM seq_1_to_10;
SQL
zh_psql_src -c "CREATE SCHEMA $PG;
    CREATE TABLE $PG.accounts (id int PRIMARY KEY, balance int NOT NULL, owner varchar(40));
    INSERT INTO $PG.accounts SELECT g, g * 10, 'owner ' || g FROM generate_series(1, $N) g;
    CREATE TABLE $PG.plain (id int PRIMARY KEY, v int);
    INSERT INTO $PG.plain SELECT g, g FROM generate_series(1, 20) g;
    CREATE TABLE $PG.wiped (id int PRIMARY KEY, v int);
    INSERT INTO $PG.wiped SELECT g, g FROM generate_series(1, 10) g;
    CREATE TABLE $PG.docs (id int PRIMARY KEY, flag int, body text);
    INSERT INTO $PG.docs SELECT 1, 0, string_agg(md5(g::text), '') FROM generate_series(1, 300) g" >/dev/null || { t_fail $T "PostgreSQL tables" "created" "psql failed"; t_done; }

export E2E_MY_PASSWORD=$ZH_MY_PASSWORD E2E_PG_PASSWORD=$ZH_PG_PASSWORD
write_config() {   # $1: the history patterns, %S for the schema
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: hsmy
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$MY], server_id: 5459}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$MY.%"], history: [$(sed "s/%S/$MY/g" <<<"$1")]}
    apply: {batch_ms: 100, copy_chunk_rows: 200, copy_chunk_mb: 0}
  - name: hspg
    source: {kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER,
             password: "\${E2E_PG_PASSWORD}", database: zetl, schemas: [$PG]}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$PG.%"], history: [$(sed "s/%S/$PG/g" <<<"$1")]}
    apply: {batch_ms: 100, copy_chunk_rows: 200, copy_chunk_mb: 0}
YAML
}
write_config '"%S.accounts", "%S.wiped", "%S.docs"'
both() {   # $1: SQL for both sources, %S. before table names
    zh_mysql -e "USE $MY; $(sed "s/%S\\.//g" <<<"$1")" || echo "mariadb failed: $1"
    zh_psql_src -c "$(sed "s/%S/$PG/g" <<<"$1")" >/dev/null || echo "psql failed: $1"
}
tq() { zh_psql_tgt -c "$1" 2>&1; }
# Versions of id $2 in schema $1: v:active, oldest first.
versions() { tq "SELECT string_agg(balance || ':' || _record_is_active, ',' ORDER BY _record_create_time, balance) FROM $1.accounts WHERE id = $2"; }

c0=$(date +%s)
kill_mid_initial_copy accounts hsmy hspg -- $MY $PG
t_eq $T "the chunked copy is under way before the kill" 0 "$?"
if e2e_wait_match 120; then t_pass $T "initial copy, killed and resumed: zetl verify (active versions) matches"
else t_fail $T "initial copy matches" "zetl verify: match" "$E2E_VERIFY"; fi
c1=$(date +%s)
t_match $T "verify says it compared the active versions" "match +hs_pg\\.accounts +$N rows \\(the target's active versions" "$E2E_VERIFY"
for s in $MY $PG; do
    t_eq $T "$s: one active version per copied row, created at the copy's time" "$N|$N|$N" \
        "$(tq "SELECT count(*) || '|' || count(*) FILTER (WHERE _record_is_active AND _record_delete_time IS NULL) || '|' ||
                 count(*) FILTER (WHERE _record_create_time BETWEEN to_timestamp($c0 - 1) AND to_timestamp($c1 + 1)) FROM $s.accounts")"
done

# Single changes, one transaction each (autocommit), and one with two updates of one row.
t0=$(date +%s)
both "UPDATE %S.accounts SET balance = balance + 1 WHERE id = 1"
sleep 1.1
both "UPDATE %S.accounts SET balance = balance + 1 WHERE id = 1"
both "DELETE FROM %S.accounts WHERE id = 2"
both "DELETE FROM %S.accounts WHERE id = 3"
sleep 1.1
both "INSERT INTO %S.accounts VALUES (3, 333, 'back')"
both "UPDATE %S.accounts SET id = 10004 WHERE id = 4"
both "BEGIN; UPDATE %S.accounts SET balance = 501 WHERE id = 5; UPDATE %S.accounts SET balance = 502 WHERE id = 5; COMMIT"
both "TRUNCATE %S.wiped"
both "INSERT INTO %S.wiped VALUES (100, 1)"
t1=$(date +%s)
if e2e_wait_match 60; then t_pass $T "single changes: zetl verify matches"
else t_fail $T "single changes match" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    t_eq $T "$s: two updates, two transactions: three versions, the last active" "10:false,11:false,12:true" "$(versions $s 1)"
    t_eq $T "$s: a delete closes the active version, none left active" "20:false" "$(versions $s 2)"
    t_eq $T "$s: deleted then inserted again: closed, then a new active version" "30:false,333:true" "$(versions $s 3)"
    t_eq $T "$s: a key change closes the old key and opens the new" "40:false|40:true" \
        "$(versions $s 4)|$(versions $s 10004)"
    t_eq $T "$s: two updates in one transaction make one version" "50:false,502:true" "$(versions $s 5)"
    t_eq $T "$s: the changes' versions carry their transactions' times" 0 \
        "$(tq "SELECT count(*) FROM $s.accounts WHERE id IN (1, 2, 3, 4, 5, 10004) AND _record_create_time > to_timestamp($c1 + 1)
                 AND NOT (_record_create_time BETWEEN to_timestamp($t0 - 1) AND to_timestamp($t1 + 1))")"
    t_eq $T "$s: a truncate closed every active version; the row after it is active" "11|1|100" \
        "$(tq "SELECT count(*) || '|' || count(*) FILTER (WHERE _record_is_active) || '|' ||
                 (SELECT id FROM $s.wiped WHERE _record_is_active) FROM $s.wiped")"
done

# 40 transactions over rows 100..199, a kill -9 among them.
( for i in $(seq 1 40); do
      both "UPDATE %S.accounts SET balance = balance + 1 WHERE id BETWEEN 100 AND 199" >/dev/null
      sleep 0.03
  done ) &
LOOP=$!
sleep 0.8
e2e_run_kill9
e2e_run_start
wait $LOOP
if e2e_wait_match 90; then t_pass $T "40 transactions with a kill -9 among them: zetl verify matches"
else t_fail $T "burst with kill -9 matches" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    t_eq $T "$s: exactly 41 versions of each of the 100 rows, one active" "100|100|100" \
        "$(tq "SELECT count(*) FILTER (WHERE n = 41) || '|' || count(*) FILTER (WHERE a = 1) || '|' ||
                 count(*) FILTER (WHERE top = (id * 10 + 40)) FROM (SELECT id, count(*) n,
                 count(*) FILTER (WHERE _record_is_active) a, max(balance) FILTER (WHERE _record_is_active) top
                 FROM $s.accounts WHERE id BETWEEN 100 AND 199 GROUP BY id) x")"
    t_eq $T "$s: each closed version of an updated row ends where the next begins" 0 \
        "$(tq "SELECT count(*) FROM (SELECT _record_delete_time d, lead(_record_create_time) OVER
                 (PARTITION BY id ORDER BY _record_create_time, _record_delete_time NULLS LAST) nxt FROM $s.accounts
                 WHERE id = 1 OR id BETWEEN 100 AND 199) x WHERE nxt IS NOT NULL AND d IS DISTINCT FROM nxt")"
    t_eq $T "$s: never two active versions of a key" 0 \
        "$(tq "SELECT count(*) FROM (SELECT id FROM $s.accounts WHERE _record_is_active GROUP BY id HAVING count(*) > 1) x")"
done

# plain put in history: resync_required, saying so; the resync makes it one.
e2e_run_stop >/dev/null
write_config '"%S.accounts", "%S.wiped", "%S.docs", "%S.plain"'
e2e_run_start
wait_table_states '.tables[] | select(.name | test("plain"))' resync_required,resync_required 20
t_eq $T "plain put in history: resync_required on both" 0 "$?"
st=$SHAPED_STATUS
t_match $T "the reason says so and names the fix" "rows carry none, the config asks \"history\"; resync the table" \
    "$(jq -r '[.integrations[].tables[] | select(.name | test("plain")) | .reason][0]' <<<"$st")"
DB=$E2E_DIR/state/zetl.db
"$CMD" "$DB" hsmy resync "$MY.plain" >/dev/null
"$CMD" "$DB" hspg resync "$PG.plain" >/dev/null
sleep 1
both "UPDATE %S.plain SET v = 99 WHERE id = 1"
if e2e_wait_match 90; then t_pass $T "after the resync and an update: zetl verify matches"
else t_fail $T "resync into history" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    t_eq $T "$s: plain keeps versions now, and has no primary key" "21|20|0" \
        "$(tq "SELECT count(*) || '|' || count(*) FILTER (WHERE _record_is_active) || '|' ||
                 (SELECT count(*) FROM pg_constraint WHERE conrelid = '$s.plain'::regclass AND contype = 'p') FROM $s.plain")"
done
# An update leaving the TOASTed body unsent (REPLICA IDENTITY DEFAULT): docs fails alone.
zh_psql_src -c "UPDATE $PG.docs SET flag = 1 WHERE id = 1" >/dev/null
both "UPDATE %S.accounts SET balance = 999999 WHERE id = 1000"
wait_table_states '.tables[] | select(.name == "hs_pg.docs")' failed 30
t_eq $T "a version without the unsent TOAST value: docs fails" 0 "$?"
t_match $T "its reason names the fix" "cannot make a full version; set REPLICA IDENTITY FULL on the source table" \
    "$(jq -r '.integrations[].tables[] | select(.name == "hs_pg.docs") | .reason' <<<"$SHAPED_STATUS")"
arrived() { [ "$(tq "SELECT count(*) FROM $PG.accounts WHERE id = 1000 AND balance = 999999 AND _record_is_active")" = 1 ]; }
t_wait $T "the other tables stream on: the accounts update arrives" 30 arrived
e2e_run_stop; rc=$?
t_eq $T "SIGTERM: zetl run exits 0" 0 "$rc"
t_done
