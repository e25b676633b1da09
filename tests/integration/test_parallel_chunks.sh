#!/usr/bin/env bash
# test_parallel_chunks.sh — with apply.copy_workers > 1 the chunks of ONE
# table are read at once by that many readers (runtime/integ/copy.c, ranges
# cut in key order, their reads' snapshots taken in that order), on a
# MariaDB and a PostgreSQL source (PC_CASES, default "mysql postgres"):
#   1. a single table (300000 rows of ~200 bytes, a composite integer key)
#      copied in chunks of 20000 rows with copy_workers 2 while a workload inserts, updates,
#      deletes and moves keys across the whole key space;
#   2. the source's own session list, sampled during the copy, shows two of
#      zetl's chunk reads of that table at the same moment, on two sessions
#      (one reader never has more than one);
#   3. the copy ends exact: `zetl verify` matches and every row is equal
#      value by value, the table synced with its chunk count logged.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_parallel_chunks
KIND= KP= DB= NAME=
load_pid=
sampler_pid=

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
. tests/lib/chunked.sh
stop_sampler() {
    [ -n "$sampler_pid" ] || return 0
    if [ "$KIND" = mysql ]; then zh_mysql -e "DELETE FROM pc_probe.go" >/dev/null 2>&1
    else zh_psql_src -c "DELETE FROM pc_probe.go" >/dev/null 2>&1; fi
    wait "$sampler_pid" 2>/dev/null
    sampler_pid=
}
end_hook() { stop_sampler; e2e_unpace_target; }
end_case() { chunked_end_case end_hook; }
trap 'end_case; e2e_cleanup; harness_stop' EXIT

st() { e2e_status_field ".integrations[] | select(.name == \"$NAME\") | .tables[] | select(.name == \"$DB.par\") | .state"; }
src() { if [ "$KIND" = mysql ]; then zh_mysql "$DB" -e "$1"; else zh_psql_src -c "SET search_path = $DB" -c "$1"; fi; }
# zetl's chunk reads of par under way now, "count sessions": a chunk's read
# is a transaction of its own from its snapshot until its last row is read
# (MariaDB: a consistent-snapshot InnoDB transaction, the only ones zetl
# opens; PostgreSQL: a REPEATABLE READ one that imported a slot's snapshot,
# seen by its SELECT over par; the ranges' bound queries, LIMIT 1 OFFSET n,
# are left out).
#
# The sampler runs inside the source server, one session looping into
# pc_probe.samples until pc_probe.go is emptied: a client started per sample
# took ~50 ms each and, under a loaded machine, once saw too few samples of
# the copy to catch the overlap. MariaDB's INNODB_TRX is a cache refreshed
# only after 100 ms without a reader, so that loop samples every 110 ms (the
# paced copy below lasts seconds); PostgreSQL's every 5 ms, each sample
# committed on its own, because a transaction holding an xid would hold up
# the creation of the copy's logical slots.
sampler_setup() {
    if [ "$KIND" = mysql ]; then
        zh_mysql <<'SQL'
DROP DATABASE IF EXISTS pc_probe; CREATE DATABASE pc_probe; USE pc_probe;
CREATE TABLE samples (n INT, pids TEXT);
CREATE TABLE go (x INT); INSERT INTO go VALUES (1);
DELIMITER //
CREATE PROCEDURE sample()
BEGIN
    DECLARE i INT DEFAULT 0;
    WHILE i < 3000 AND EXISTS (SELECT 1 FROM go) DO
        INSERT INTO samples
            SELECT COUNT(*), IFNULL(GROUP_CONCAT(t.trx_mysql_thread_id), '') FROM information_schema.INNODB_TRX t
              JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
             WHERE p.USER = 'zetl';
        DO SLEEP(0.11);
        SET i = i + 1;
    END WHILE;
END//
DELIMITER ;
SQL
    else
        zh_psql_src <<'SQL' >/dev/null
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS pc_probe CASCADE; CREATE SCHEMA pc_probe;
CREATE TABLE pc_probe.samples (n int, pids text);
CREATE TABLE pc_probe.go (x int); INSERT INTO pc_probe.go VALUES (1);
CREATE PROCEDURE pc_probe.sample(db text) LANGUAGE plpgsql AS $$
DECLARE i int := 0;
BEGIN
    WHILE i < 60000 AND EXISTS (SELECT 1 FROM pc_probe.go) LOOP
        INSERT INTO pc_probe.samples
            SELECT count(*), coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity
             WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND backend_type = 'client backend'
               AND query LIKE '%"' || db || '"."par"%' AND query NOT LIKE '%OFFSET%';
        COMMIT;
        PERFORM pg_sleep(0.005);
        i := i + 1;
    END LOOP;
END $$;
SQL
    fi
}
sampler() {
    if [ "$KIND" = mysql ]; then
        zh_mysql -e "CALL pc_probe.sample()" >/dev/null 2>"$E2E_DIR/sampler.err"
    else
        zh_psql_src -c "CALL pc_probe.sample('$DB')" >/dev/null 2>"$E2E_DIR/sampler.err"
    fi
}
samples_out() {
    if [ "$KIND" = mysql ]; then zh_mysql -N -e "SELECT n, pids FROM pc_probe.samples" 2>/dev/null | tr '\t' ' '
    else zh_psql_src -c "SELECT n || ' ' || pids FROM pc_probe.samples" 2>/dev/null; fi
}
workload() {
    local i=0 r1 r2 r3
    while [ -f "$E2E_DIR/go" ]; do
        i=$((i + 1))
        r1=$((RANDOM % 1500)); r2=$((RANDOM % 200)); r3=$((RANDOM % 1500))
        echo "BEGIN;
              INSERT INTO par VALUES ($((RANDOM % 1500)), $((1000 + i)), $i, 'w'), (-$i, 0, $i, NULL);
              UPDATE par SET v = v + 1 WHERE a = $r1 AND b = $r2;
              DELETE FROM par WHERE a = $r3 AND b = $((RANDOM % 200));
              UPDATE par SET a = a + 5000 WHERE a = $((RANDOM % 1500)) AND b = $((RANDOM % 200));
              COMMIT;"
        sleep 0.01
    done | if [ "$KIND" = mysql ]; then zh_mysql "$DB"; else zh_psql_src -c "SET search_path = $DB" -f -; fi \
        >/dev/null 2>"$E2E_DIR/workload.err"
}

run_case() {
    sampler_setup
    # The target paced (~0.05 ms a row): a reader hands its rows on in
    # loads and waits while the target takes them, so its read stays under
    # way for most of its chunk, as on a real warehouse slower than the source.
    e2e_pace_target 1000 0.05 "$DB.par"
    touch "$E2E_DIR/go"
    workload & load_pid=$!
    sampler & sampler_pid=$!
    e2e_run_start
    synced() { [ "$(st)" = synced ]; }
    t_wait $T "${KP}par's chunked copy ends synced" 180 synced
    rm -f "$E2E_DIR/go"
    wait "$load_pid" 2>/dev/null; load_pid=
    stop_sampler
    samples_out >"$E2E_DIR/samples"
    local most pids
    [ -n "${PC_SAMPLES_OUT:-}" ] && cp "$E2E_DIR/samples" "$PC_SAMPLES_OUT.$KIND"
    most=$(awk '{ if ($1 > m) m = $1 } END { print m + 0 }' "$E2E_DIR/samples" 2>/dev/null)
    pids=$(awk '{ n = split($2, p, ","); for (i = 1; i <= n; i++) if (p[i] != "") s[p[i]] = 1 }
                END { for (k in s) c++; print c + 0 }' "$E2E_DIR/samples" 2>/dev/null)
    t_eq $T "${KP}the sampler ran ($(wc -l <"$E2E_DIR/samples") samples)" "" "$(head -n 3 "$E2E_DIR/sampler.err")"
    t_eq $T "${KP}two chunk reads of the one table at the same moment (copy_workers 2; most seen at once)" "2" "$most"
    t_match $T "${KP}on more than one source session" '^([2-9]|[1-9][0-9]+)$' "$pids"
    t_eq $T "${KP}the workload ran without errors" "" "$(grep -v '^SET$' "$E2E_DIR/workload.err" | head -n 3)"
    match() { e2e_wait_match 60 || { echo "$E2E_VERIFY"; return 1; }; }
    t_ok $T "${KP}exact match (zetl verify)" match
    local q_my="CONCAT_WS('|', a, b, IFNULL(v, '<null>'), IFNULL(pad, '<null>'))"
    local q_pg="concat_ws('|', a, b, coalesce(v::text, '<null>'), coalesce(pad, '<null>'))"
    if [ "$KIND" = mysql ]; then zh_mysql "$DB" -e "SELECT $q_my FROM par ORDER BY a, b" >"$E2E_DIR/src.txt"
    else zh_psql_src -c "SELECT $q_pg FROM $DB.par ORDER BY a, b" >"$E2E_DIR/src.txt"; fi
    zh_psql_tgt -c "SELECT $q_pg FROM $DB.par ORDER BY a, b" >"$E2E_DIR/tgt.txt"
    t_eq $T "${KP}every row equal value by value ($(wc -l <"$E2E_DIR/src.txt") rows)" \
        "$(md5sum <"$E2E_DIR/src.txt")" "$(md5sum <"$E2E_DIR/tgt.txt")"
    t_match $T "${KP}the copy went in chunks" 'copy done; [0-9]+ rows in ([1-9][0-9]+) chunks' \
        "$(sqlite3 "$E2E_DIR/state/zetl.db" "SELECT group_concat(message, ' / ') FROM events WHERE tbl = '$DB.par'")"
    e2e_run_stop
    t_eq $T "${KP}zetl run stops cleanly" "0" "$?"
}

mysql_case() {
    KIND=mysql KP="mysql: " DB=pc_my NAME=pc_my
    zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; USE $DB;
CREATE TABLE par (a INT, b INT, v INT, pad VARCHAR(250), PRIMARY KEY (a, b));
INSERT INTO par SELECT seq DIV 200, seq % 200, seq, REPEAT('x', 200) FROM seq_0_to_299999;
SQL
    rm -rf "$E2E_DIR/state"
    e2e_my_config "$NAME" "$DB" 5431 "batch_ms: 100, memory_mb: 16, copy_chunk_rows: 20000, copy_workers: 2"
    run_case
    end_case
}

pg_case() {
    KIND=postgres KP="postgres: " DB=pc_pg NAME=pc_pg
    zh_psql_src <<SQL >/dev/null
SET client_min_messages = warning;
DROP PUBLICATION IF EXISTS zetl_$NAME; DROP SCHEMA IF EXISTS $DB CASCADE; CREATE SCHEMA $DB;
CREATE TABLE $DB.par (a int, b int, v int, pad text, PRIMARY KEY (a, b));
INSERT INTO $DB.par SELECT g / 200, g % 200, g, repeat('x', 200) FROM generate_series(0, 299999) g;
SQL
    rm -rf "$E2E_DIR/state"
    e2e_pg_config "$NAME" "$DB"
    sed -i 's/^      batch_ms: 100$/&\n      copy_chunk_rows: 20000\n      copy_workers: 2/' "$E2E_DIR/zetl.yaml"
    run_case
    end_case
}

for c in ${PC_CASES:-mysql postgres}; do
    case $c in
        mysql) mysql_case ;;
        postgres) pg_case ;;
    esac
done
t_done
