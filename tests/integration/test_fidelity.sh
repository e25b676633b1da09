#!/usr/bin/env bash
# test_fidelity.sh — schemas others write, through the real binary, value by
# value (SELECT output of source and target compared, not only zetl verify):
#   - PostgreSQL STORED generated columns: the target column is the same
#     generated column (the target computes it), exact after the copy AND
#     after streamed inserts/updates (pgoutput before PostgreSQL 18 does not
#     send them); an expression calling a function the target lacks fails
#     `zetl check` naming the column and the fix (exclude_columns);
#   - MariaDB generated columns, VIRTUAL and PERSISTENT: copy and stream agree
#     with the source;
#   - PRIMARY KEY (a) INCLUDE (b): the target key is (a) alone, b a nullable
#     payload column (rows with b NULL copy and stream);
#   - a PostgreSQL table with no columns, and one whose every column is in
#     exclude_columns: `zetl check` names them (WARN, excluded), `zetl run`
#     replicates the others and shows them `excluded` with the reason.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_fidelity
MY=fid_my
PG=fid_pg

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
drop_objects() {
    zh_mysql -e "DROP DATABASE IF EXISTS $MY" >/dev/null 2>&1
    e2e_pg_drop fidpg $PG
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $MY CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'fidmy'" >/dev/null 2>&1
}
trap 'e2e_cleanup; drop_objects; harness_stop' EXIT
drop_objects

zh_mysql <<SQL || { t_fail $T "MariaDB tables" "created" "mariadb failed"; t_done; }
CREATE DATABASE $MY;
USE $MY;
CREATE TABLE gen (id INT PRIMARY KEY, price DECIMAL(10,2) NOT NULL, qty INT,
                  total DECIMAL(20,2) AS (price * qty) VIRTUAL,
                  label VARCHAR(20) AS (CONCAT('#', id, '/', qty)) PERSISTENT);
INSERT INTO gen (id, price, qty) SELECT seq, seq / 4, IF(seq % 7 = 0, NULL, seq % 5) FROM seq_1_to_200;
SQL
zh_psql_src <<SQL >/dev/null || { t_fail $T "PostgreSQL tables" "created" "psql failed"; t_done; }
CREATE SCHEMA $PG;
CREATE TABLE $PG.gen (id int PRIMARY KEY, price numeric(10,2) NOT NULL, qty int,
                      total numeric GENERATED ALWAYS AS (price * qty) STORED,
                      label text GENERATED ALWAYS AS ('#' || id || '/' || coalesce(qty::text, '-')) STORED);
INSERT INTO $PG.gen (id, price, qty) SELECT g, g / 4.0, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 5 END
  FROM generate_series(1, 200) g;
CREATE TABLE $PG.incl (a int, b text, c int, PRIMARY KEY (a) INCLUDE (b));
INSERT INTO $PG.incl SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'b' || g END, g FROM generate_series(1, 50) g;
CREATE TABLE $PG.empty ();
INSERT INTO $PG.empty DEFAULT VALUES;
CREATE TABLE $PG.allexcl (x int);
INSERT INTO $PG.allexcl VALUES (1);
CREATE FUNCTION $PG.dbl(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT \$1 * 2';
CREATE TABLE $PG.uf (id int PRIMARY KEY, v int, w int GENERATED ALWAYS AS ($PG.dbl(v)) STORED);
INSERT INTO $PG.uf (id, v) SELECT g, g FROM generate_series(1, 10) g;
SQL

export E2E_MY_PASSWORD=$ZH_MY_PASSWORD E2E_PG_PASSWORD=$ZH_PG_PASSWORD
write_config() {   # $1 file, $2 the PostgreSQL integration's exclude_columns list
    cat >"$1" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: fidmy
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$MY], server_id: 5656}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$MY.%"]}
    apply: {batch_ms: 100}
  - name: fidpg
    source: {kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER,
             password: "\${E2E_PG_PASSWORD}", database: zetl, schemas: [$PG]}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$PG.%"], exclude_columns: [$2]}
    apply: {batch_ms: 100}
YAML
}

# ---- zetl check -----------------------------------------------------------------------
write_config "$E2E_DIR/bad.yaml" "\"$PG.allexcl.x\""
rc=0; out=$("$ZETL" check -c "$E2E_DIR/bad.yaml" 2>&1) || rc=$?
t_eq $T "check: a generated column the target cannot compute fails the check" 1 "$rc"
t_match $T "check: the failure names the column and the fix (exclude_columns)" \
    "FAIL +column $PG\\.uf\\.w .*$PG\\.dbl.* fix: add \"$PG\\.uf\\.w\" to tables\\.exclude_columns" "$(tr '\n' ' ' <<<"$out")"

write_config "$E2E_DIR/zetl.yaml" "\"$PG.allexcl.x\", \"$PG.uf.w\""
rc=0; out=$("$ZETL" check -c "$E2E_DIR/zetl.yaml" 2>&1) || rc=$?
t_eq $T "check: passes once the column is in exclude_columns" 0 "$rc"
t_match $T "check: the zero-column table is named: excluded" \
    "WARN +table $PG\\.empty +no columns: excluded, not replicated" "$out"
t_match $T "check: the table whose every column is excluded is named: excluded" \
    "WARN +table $PG\\.allexcl +no columns \\(after exclude_columns\\): excluded, not replicated" "$out"
t_match $T "check: the generated columns are named as computed by the target" \
    "PASS +column $PG\\.gen\\.label +GENERATED ALWAYS AS .* STORED: computed by the target" "$out"

# ---- copy ---------------------------------------------------------------------------------
src_pg() { zh_psql_src -P null=NULL -c "$1"; }
tgt() { zh_psql_tgt -P null=NULL -c "$1" 2>&1; }
src_my() { zh_mysql -e "$1" | sed 's/\t/|/g'; }
Q_GEN="SELECT id, price, qty, total, label FROM %s.gen ORDER BY id"
Q_INCL="SELECT a, b, c FROM $PG.incl ORDER BY a"
compare_all() {   # $1 phase
    local s t
    s=$(src_pg "$(printf "$Q_GEN" $PG)"); t=$(tgt "$(printf "$Q_GEN" $PG)")
    if [[ -n $s && $s == "$t" ]]; then t_pass $T "$1: $PG.gen: every value, generated ones too, equal in the target"
    else t_fail $T "$1: $PG.gen equal" "$(head -c 300 <<<"$s")" "$(diff <(echo "$s") <(echo "$t") | head -5 | tr '\n' ' ')"; fi
    s=$(src_my "$(printf "$Q_GEN" $MY)"); t=$(tgt "$(printf "$Q_GEN" $MY)")
    if [[ -n $s && $s == "$t" ]]; then t_pass $T "$1: $MY.gen: every value, VIRTUAL and PERSISTENT ones too, equal in the target"
    else t_fail $T "$1: $MY.gen equal" "$(head -c 300 <<<"$s")" "$(diff <(echo "$s") <(echo "$t") | head -5 | tr '\n' ' ')"; fi
    s=$(src_pg "$Q_INCL"); t=$(tgt "$Q_INCL")
    if [[ -n $s && $s == "$t" ]]; then t_pass $T "$1: $PG.incl: every value equal (b NULL included)"
    else t_fail $T "$1: $PG.incl equal" "$(head -c 300 <<<"$s")" "$(diff <(echo "$s") <(echo "$t") | head -5 | tr '\n' ' ')"; fi
}
wait_rows() {   # $1 table, $2 count: until the target holds it (60 s)
    local end=$((SECONDS + 60))
    while [[ $(tgt "SELECT count(*) FROM $1" 2>/dev/null) != "$2" ]] && ((SECONDS < end)); do sleep 0.5; done
}

e2e_run_start
if e2e_wait_match 90; then t_pass $T "initial copy: zetl verify matches"
else t_fail $T "initial copy matches" "zetl verify: match" "$E2E_VERIFY"; fi
wait_rows $PG.gen 200
compare_all "copy"

t_eq $T "target $PG.gen.total and .label are generated columns" "label:ALWAYS,total:ALWAYS" \
    "$(tgt "SELECT string_agg(column_name || ':' || is_generated, ',' ORDER BY column_name) FROM information_schema.columns
            WHERE table_schema = '$PG' AND table_name = 'gen' AND column_name IN ('total', 'label')")"
t_eq $T "target $PG.incl: the primary key is (a) alone" "a" \
    "$(tgt "SELECT string_agg(a.attname, ',') FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = '$PG.incl'::regclass AND i.indisprimary")"
t_eq $T "target $PG.incl: b is a nullable payload column" "YES" \
    "$(tgt "SELECT is_nullable FROM information_schema.columns WHERE table_schema = '$PG' AND table_name = 'incl' AND column_name = 'b'")"
t_eq $T "the other tables replicate: $PG.uf without the excluded column" "10|id,v" \
    "$(tgt "SELECT count(*) || '|' || (SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns
            WHERE table_schema = '$PG' AND table_name = 'uf') FROM $PG.uf")"
t_eq $T "status: the zero-column tables are excluded, with the reason" \
    "$PG.allexcl excluded no columns (after exclude_columns): not replicated;$PG.empty excluded no columns: not replicated;" \
    "$(e2e_status_field '[.integrations[] | select(.name == "fidpg") | .tables[] | select(.state == "excluded") | "\(.name) \(.state) \(.reason)"] | sort | map(. + ";") | add')"
t_eq $T "status: the other PostgreSQL tables are synced" "$PG.gen synced;$PG.incl synced;$PG.uf synced;" \
    "$(e2e_status_field '[.integrations[] | select(.name == "fidpg") | .tables[] | select(.state != "excluded") | "\(.name) \(.state)"] | sort | map(. + ";") | add')"
t_eq $T "the state log holds a warning event naming the zero-column table" 1 \
    "$(sqlite3 "$E2E_DIR/state/zetl.db" "SELECT count(*) FROM events WHERE level = 'warning' AND message LIKE '%$PG.empty%no columns%' LIMIT 1" 2>&1)"

# ---- stream -------------------------------------------------------------------------------
zh_psql_src >/dev/null <<SQL
INSERT INTO $PG.gen (id, price, qty) VALUES (1001, 9.99, 3), (1002, 1.50, NULL);
UPDATE $PG.gen SET price = price + 1 WHERE id <= 20;
UPDATE $PG.gen SET qty = NULL WHERE id BETWEEN 21 AND 25;
UPDATE $PG.gen SET qty = 9 WHERE id = 7;
DELETE FROM $PG.gen WHERE id = 30;
INSERT INTO $PG.incl VALUES (1001, NULL, 1), (1002, 'two', 2);
UPDATE $PG.incl SET b = NULL WHERE a = 1;
UPDATE $PG.incl SET b = 'now set', c = c + 1 WHERE a = 3;
SQL
zh_mysql -e "USE $MY;
    INSERT INTO gen (id, price, qty) VALUES (1001, 9.99, 3), (1002, 1.50, NULL);
    UPDATE gen SET price = price + 1 WHERE id <= 20;
    UPDATE gen SET qty = NULL WHERE id BETWEEN 21 AND 25;
    UPDATE gen SET qty = 9 WHERE id = 7;
    DELETE FROM gen WHERE id = 30;"
if e2e_wait_match 60; then t_pass $T "streamed changes: zetl verify matches"
else t_fail $T "streamed changes match" "zetl verify: match" "$E2E_VERIFY"; fi
wait_rows $PG.incl 52
compare_all "stream"

# ---- schema changes: a new plain column keeps the generated ones; a new generated
# column (pgoutput sends nothing for it) is added at the next start, computed for every row
zh_psql_src -c "ALTER TABLE $PG.gen ADD COLUMN note text;
    INSERT INTO $PG.gen (id, price, qty, note) VALUES (1003, 2.00, 4, 'after ddl');
    UPDATE $PG.gen SET qty = 1, note = 'upd' WHERE id = 40" >/dev/null
wait_rows $PG.gen 202
Q_NOTE="SELECT id, total, label, note FROM $PG.gen WHERE id IN (40, 1003) ORDER BY id"
t_eq $T "ADD COLUMN on the source: the new column streams, the generated ones stay exact" \
    "$(src_pg "$Q_NOTE")" "$(tgt "$Q_NOTE")"
e2e_run_stop; rc=$?
t_eq $T "SIGTERM: zetl run exits 0" 0 "$rc"
zh_psql_src -c "ALTER TABLE $PG.gen ADD COLUMN twice numeric GENERATED ALWAYS AS (price * 2) STORED" >/dev/null
e2e_run_start
zh_psql_src -c "INSERT INTO $PG.gen (id, price, qty) VALUES (1004, 3.00, 2); UPDATE $PG.gen SET price = 7 WHERE id = 41" >/dev/null
wait_rows $PG.gen 203
Q_TWICE="SELECT id, total, twice FROM $PG.gen ORDER BY id"
s=$(src_pg "$Q_TWICE"); t=$(tgt "$Q_TWICE")
if [[ -n $s && $s == "$t" ]]; then t_pass $T "a generated column added on the source: in the target after a restart, every value equal"
else t_fail $T "a generated column added on the source" "$(head -c 200 <<<"$s")" "$(diff <(echo "$s") <(echo "$t") | head -5 | tr '\n' ' ')"; fi
compare_all "after restart"
e2e_run_stop; rc=$?
t_eq $T "SIGTERM: zetl run exits 0 (second run)" 0 "$rc"
t_done
