#!/usr/bin/env bash
# test_exclude_columns.sh — tables.exclude_columns, through the real binary,
# from both source kinds into PostgreSQL:
#   - the initial copy (MariaDB: COPY text the copier encodes; PostgreSQL: the
#     source's own COPY text, read with the kept columns only) creates the
#     target table without the excluded column and loads every row;
#   - streamed inserts, updates (of the excluded column too) and deletes
#     apply to the kept columns;
#   - zetl verify matches exactly (it compares the kept columns), and no
#     value of the excluded column reaches the target, the run log or the
#     state log.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_exclude_columns
MY=exc_my
PG=exc_pg

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
drop_objects() {
    zh_mysql -e "DROP DATABASE IF EXISTS $MY" >/dev/null 2>&1
    e2e_pg_drop expg $PG
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $MY CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'exmy'" >/dev/null 2>&1
}
trap 'e2e_cleanup; drop_objects; harness_stop' EXIT
drop_objects

zh_mysql <<SQL || { t_fail $T "MariaDB table" "created" "mariadb failed"; t_done; }
CREATE DATABASE $MY;
USE $MY;
CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, password_hash CHAR(60), age INT);
INSERT INTO users SELECT seq, CONCAT('user ', seq), CONCAT('copied-secret-', LPAD(seq, 46, '0')), seq % 90
  FROM seq_1_to_3000;
SQL
zh_psql_src -c "CREATE SCHEMA $PG;
    CREATE TABLE $PG.users (id int PRIMARY KEY, name varchar(40) NOT NULL, password_hash char(60), age int);
    INSERT INTO $PG.users SELECT g, 'user ' || g, 'copied-secret-' || lpad(g::text, 46, '0'), g % 90
      FROM generate_series(1, 3000) g" >/dev/null || { t_fail $T "PostgreSQL table" "created" "psql failed"; t_done; }

export E2E_MY_PASSWORD=$ZH_MY_PASSWORD E2E_PG_PASSWORD=$ZH_PG_PASSWORD
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: exmy
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$MY], server_id: 5454}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$MY.%"], exclude_columns: ["$MY.users.password_hash"]}
    apply: {batch_ms: 100}
  - name: expg
    source: {kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER,
             password: "\${E2E_PG_PASSWORD}", database: zetl, schemas: [$PG]}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$PG.%"], exclude_columns: ["$PG.users.password_hash"]}
    apply: {batch_ms: 100}
YAML

target_cols() {   # $1 schema: the target users table's columns, in order
    zh_psql_tgt -c "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
                    FROM information_schema.columns WHERE table_schema = '$1' AND table_name = 'users'"
}
secrets_in_target() {   # $1 schema: rows whose text form holds a hash value
    zh_psql_tgt -c "SELECT count(*) FROM $1.users u WHERE u::text LIKE '%secret%'"
}

e2e_run_start
if e2e_wait_match 90; then t_pass $T "initial copy from both sources: zetl verify matches"
else t_fail $T "initial copy matches" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    t_eq $T "$s: the target table has the kept columns only" "id,name,age" "$(target_cols $s)"
    t_eq $T "$s: every row copied" "3000" "$(zh_psql_tgt -c "SELECT count(*) FROM $s.users")"
done

zh_mysql -e "USE $MY;
    UPDATE users SET password_hash = 'streamed-secret-1', age = age + 1 WHERE id <= 100;
    UPDATE users SET password_hash = 'streamed-secret-2' WHERE id BETWEEN 101 AND 150;
    INSERT INTO users VALUES (5001, 'new one', 'streamed-secret-3', 33), (5002, 'new two', NULL, 34);
    DELETE FROM users WHERE id BETWEEN 2901 AND 3000;"
zh_psql_src -c "UPDATE $PG.users SET password_hash = 'streamed-secret-1', age = age + 1 WHERE id <= 100;
    UPDATE $PG.users SET password_hash = 'streamed-secret-2' WHERE id BETWEEN 101 AND 150;
    INSERT INTO $PG.users VALUES (5001, 'new one', 'streamed-secret-3', 33), (5002, 'new two', NULL, 34);
    DELETE FROM $PG.users WHERE id BETWEEN 2901 AND 3000" >/dev/null
if e2e_wait_match 60; then t_pass $T "streamed changes from both sources: zetl verify matches"
else t_fail $T "streamed changes match" "zetl verify: match" "$E2E_VERIFY"; fi
t_match $T "verify names both integrations' tables" "$MY\\.users.*$PG\\.users|$PG\\.users.*$MY\\.users" \
    "$(tr '\n' ' ' <<<"$E2E_VERIFY")"
for s in $MY $PG; do
    t_eq $T "$s: the streamed rows applied to the kept columns" "2902|1|34" \
        "$(zh_psql_tgt -c "SELECT count(*) || '|' || (SELECT age FROM $s.users WHERE id = 90) ||
                                  '|' || (SELECT age FROM $s.users WHERE id = 5002) FROM $s.users")"
    t_eq $T "$s: still no excluded column" "id,name,age" "$(target_cols $s)"
    t_eq $T "$s: no hash value in the target" "0" "$(secrets_in_target $s)"
done
e2e_run_stop; rc=$?
t_eq $T "SIGTERM: zetl run exits 0" 0 "$rc"
if grep -q "secret" "$E2E_DIR/run.log"; then t_fail $T "no hash value in the run log" "none" "$(grep -m1 secret "$E2E_DIR/run.log")"
else t_pass $T "no hash value in the run log"; fi
if sqlite3 "$E2E_DIR/state/zetl.db" .dump | grep -q "secret"; then t_fail $T "no hash value in the state log" "none" "found"
else t_pass $T "no hash value in the state log"; fi
t_done
