#!/usr/bin/env bash
# test_soft_delete.sh — tables.soft_delete through the real binary, from both
# source kinds into PostgreSQL:
#   - the initial copy gives every row _zetl_is_deleted false;
#   - a delete marks the row (true, the source transaction's time) instead of
#     removing it; an insert of the key again revives it; a TRUNCATE marks
#     every live row; a table not in soft_delete loses its deleted rows;
#   - under a burst of deletes and re-inserts with a kill -9 in the middle,
#     no mark is lost or doubled: the target is the source's rows live plus
#     exactly the deleted keys marked, and zetl verify (live rows) matches;
#   - a keyless table in soft_delete is refused alone, with the fix;
#   - putting a synced table in soft_delete makes it resync_required, saying
#     so, and its resync adds the columns.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/shaped.sh
T=test_soft_delete
MY=sd_my
PG=sd_pg
CMD=${ZETL_BUILD:-build}/tools/zetl_command
N=2000

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
drop_objects() {
    zh_mysql -e "DROP DATABASE IF EXISTS $MY" >/dev/null 2>&1
    e2e_pg_drop sdpg $PG
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $MY CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'sdmy';
                    DELETE FROM zetl.table_shapes WHERE integration IN ('sdmy', 'sdpg')" >/dev/null 2>&1
}
trap 'e2e_cleanup; drop_objects; harness_stop' EXIT
drop_objects

zh_mysql <<SQL || { t_fail $T "MariaDB tables" "created" "mariadb failed"; t_done; }
CREATE DATABASE $MY;
USE $MY;
CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(40), qty INT);
INSERT INTO orders SELECT seq, CONCAT('item ', seq), seq % 10 FROM seq_1_to_$N;
CREATE TABLE plain (id INT PRIMARY KEY, v INT);
INSERT INTO plain SELECT seq, seq FROM seq_1_to_100;
CREATE TABLE wiped (id INT PRIMARY KEY, v INT);
INSERT INTO wiped SELECT seq, seq FROM seq_1_to_50;
CREATE TABLE nokey (v INT);
INSERT INTO nokey VALUES (1);
SQL
zh_psql_src -c "CREATE SCHEMA $PG;
    CREATE TABLE $PG.orders (id int PRIMARY KEY, item varchar(40), qty int);
    INSERT INTO $PG.orders SELECT g, 'item ' || g, g % 10 FROM generate_series(1, $N) g;
    CREATE TABLE $PG.plain (id int PRIMARY KEY, v int);
    INSERT INTO $PG.plain SELECT g, g FROM generate_series(1, 100) g;
    CREATE TABLE $PG.wiped (id int PRIMARY KEY, v int);
    INSERT INTO $PG.wiped SELECT g, g FROM generate_series(1, 50) g;
    CREATE TABLE $PG.nokey (v int);
    ALTER TABLE $PG.nokey REPLICA IDENTITY FULL;
    INSERT INTO $PG.nokey VALUES (1)" >/dev/null || { t_fail $T "PostgreSQL tables" "created" "psql failed"; t_done; }

export E2E_MY_PASSWORD=$ZH_MY_PASSWORD E2E_PG_PASSWORD=$ZH_PG_PASSWORD
write_config() {   # $1: the soft_delete patterns, %S for the schema
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: sdmy
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$MY], server_id: 5456}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$MY.%"], soft_delete: [$(sed "s/%S/$MY/g" <<<"$1")]}
    apply: {batch_ms: 100, copy_chunk_rows: 500, copy_chunk_mb: 0}
  - name: sdpg
    source: {kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER,
             password: "\${E2E_PG_PASSWORD}", database: zetl, schemas: [$PG]}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$PG.%"], soft_delete: [$(sed "s/%S/$PG/g" <<<"$1")]}
    apply: {batch_ms: 100, copy_chunk_rows: 500, copy_chunk_mb: 0}
YAML
}
write_config '"%S.orders", "%S.wiped", "%S.nokey"'

# verify lists the refused keyless tables as REFUSED: the others must match.
wait_match_but_nokey() {   # $1 seconds
    local end=$((SECONDS + $1))
    while ((SECONDS < end)); do
        E2E_VERIFY=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" 2>&1)
        if [ "$(grep -c '^  match ' <<<"$E2E_VERIFY")" = 6 ] && ! grep -q MISMATCH <<<"$E2E_VERIFY" &&
           [ "$(grep -c '^  REFUSED  *sd_\(my\|pg\)\.nokey' <<<"$E2E_VERIFY")" = 2 ]; then
            return 0
        fi
        sleep 1
    done
    return 1
}
tq() { zh_psql_tgt -c "$1" 2>&1; }
both() {   # $1: SQL for both sources, with %S for the schema
    zh_mysql -e "USE $MY; $(sed "s/%S\\.//g" <<<"$1")" || echo "mariadb failed: $1"
    zh_psql_src -c "$(sed "s/%S/$PG/g" <<<"$1")" >/dev/null || echo "psql failed: $1"
}

e2e_run_start
if wait_match_but_nokey 90; then t_pass $T "initial copy from both sources: zetl verify matches"
else t_fail $T "initial copy matches" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    t_eq $T "$s: every copied row live" "$N|0" \
        "$(tq "SELECT count(*) || '|' || count(*) FILTER (WHERE _zetl_is_deleted OR _zetl_deleted_at IS NOT NULL) FROM $s.orders")"
done
st=$("$ZETL" status --json -c "$E2E_DIR/zetl.yaml" 2>/dev/null)
t_match $T "the keyless table is refused alone, with the fix" \
    "failed.*soft_delete but has no primary key.*add a primary key on the source, or leave the table out of soft_delete" \
    "$(jq -c '[.integrations[].tables[] | select(.name | test("nokey")) | .state, .reason]' <<<"$st")"

# Deletes, then re-inserts of some of them, and a truncate.
t0=$(date +%s)
both "DELETE FROM %S.orders WHERE id BETWEEN 1 AND 100; DELETE FROM %S.plain WHERE id <= 10"
sleep 1.2
both "INSERT INTO %S.orders VALUES (5, 'five again', 55), (6, 'six again', 66); UPDATE %S.orders SET qty = 999 WHERE id = 200"
both "TRUNCATE %S.wiped"
both "INSERT INTO %S.wiped VALUES (1000, 1)"
t1=$(date +%s)
if wait_match_but_nokey 60; then t_pass $T "deletes, revivals, a truncate: zetl verify (live rows) matches"
else t_fail $T "streamed deletes match" "zetl verify: match" "$E2E_VERIFY"; fi
t_match $T "verify says it compared the live rows" \
    "match +sd_my\\.orders +1902 rows \\(the target's live rows: those marked deleted are not compared\\)" "$E2E_VERIFY"
for s in $MY $PG; do
    t_eq $T "$s: 98 rows marked deleted, none removed; 5 and 6 revived with their new values" \
        "$N|98|five again:false:-|six again:false:-|999" \
        "$(tq "SELECT count(*) || '|' || count(*) FILTER (WHERE _zetl_is_deleted) || '|' ||
                 (SELECT item || ':' || _zetl_is_deleted || ':' || coalesce(_zetl_deleted_at::text, '-') FROM $s.orders WHERE id = 5) || '|' ||
                 (SELECT item || ':' || _zetl_is_deleted || ':' || coalesce(_zetl_deleted_at::text, '-') FROM $s.orders WHERE id = 6) || '|' ||
                 (SELECT qty FROM $s.orders WHERE id = 200) FROM $s.orders")"
    t_eq $T "$s: the marks carry the source transaction's time" 98 \
        "$(tq "SELECT count(*) FROM $s.orders WHERE _zetl_is_deleted AND _zetl_deleted_at
                 BETWEEN to_timestamp($t0 - 1) AND to_timestamp($t1 + 1)")"
    t_eq $T "$s: a table not in soft_delete loses its deleted rows" 90 "$(tq "SELECT count(*) FROM $s.plain")"
    t_eq $T "$s: the truncate marked every row; the row after it is live" "51|50|1000" \
        "$(tq "SELECT count(*) || '|' || count(*) FILTER (WHERE _zetl_is_deleted) || '|' ||
                 (SELECT id FROM $s.wiped WHERE NOT _zetl_is_deleted) FROM $s.wiped")"
done

# A burst of deletes and re-inserts, with a kill -9 while it flows.
( for i in $(seq 0 39); do
      lo=$((300 + i * 20)); hi=$((lo + 9))
      both "DELETE FROM %S.orders WHERE id BETWEEN $lo AND $hi; INSERT INTO %S.orders VALUES ($((lo + 1)), 'back', 1)" >/dev/null
      sleep 0.03
  done ) &
LOOP=$!
sleep 0.8
e2e_run_kill9
e2e_run_start
wait $LOOP
if wait_match_but_nokey 90; then t_pass $T "a burst of deletes and revivals with a kill -9 in it: zetl verify matches"
else t_fail $T "burst with kill -9 matches" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    # 98 + 40 ranges of 10 deleted, one of each revived: 98 + 360 marked; every key once.
    t_eq $T "$s: no mark lost or doubled: $N rows, 458 marked, 40 revived" "$N|458|40" \
        "$(tq "SELECT count(DISTINCT id) || '|' || count(*) FILTER (WHERE _zetl_is_deleted) || '|' ||
                 count(*) FILTER (WHERE item = 'back' AND NOT _zetl_is_deleted) FROM $s.orders")"
done

# plain into soft_delete: resync_required, saying so; the resync adds the columns.
e2e_run_stop >/dev/null
write_config '"%S.orders", "%S.wiped", "%S.nokey", "%S.plain"'
e2e_run_start
wait_table_states '.tables[] | select(.name | test("plain"))' resync_required,resync_required 20
t_eq $T "plain put in soft_delete: resync_required on both" 0 "$?"
st=$SHAPED_STATUS
t_match $T "the reason says the shape changed and how to fix it" \
    "the target's rows carry none, the config asks \"soft_delete\"; resync the table" \
    "$(jq -r '[.integrations[].tables[] | select(.name | test("plain")) | .reason][0]' <<<"$st")"
DB=$E2E_DIR/state/zetl.db
"$CMD" "$DB" sdmy resync "$MY.plain" >/dev/null
"$CMD" "$DB" sdpg resync "$PG.plain" >/dev/null
if wait_match_but_nokey 90; then t_pass $T "after the resync: zetl verify matches"
else t_fail $T "resync into soft delete" "zetl verify: match" "$E2E_VERIFY"; fi
both "DELETE FROM %S.plain WHERE id = 50"
if wait_match_but_nokey 60; then t_pass $T "a delete after the resync: verify matches"
else t_fail $T "delete after resync" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    t_eq $T "$s: plain now marks its deletes" "90|1" \
        "$(tq "SELECT count(*) || '|' || count(*) FILTER (WHERE _zetl_is_deleted) FROM $s.plain")"
done
e2e_run_stop; rc=$?
t_eq $T "SIGTERM: zetl run exits 0" 0 "$rc"
t_done
