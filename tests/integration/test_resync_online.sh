#!/usr/bin/env bash
# test_resync_online.sh — a table is copied again while the other tables of
# its integration keep streaming (DESIGN.md "Resync without locks"), for a
# MariaDB and a PostgreSQL source:
#   1. while the copy waits (the test holds a lock on the target table, so the
#      copy's TRUNCATE blocks), another table's changes still arrive, and the
#      resyncing table's changes wait in the spool;
#   2. kill -9 during that resync, more changes while zetl is down, restart:
#      the resync mark in the target makes it copy the table again, and
#      `zetl verify` matches exactly (without the mark, the changes diverted
#      to the lost spool would be missing: the checkpoint moved past them);
#   3. a resync under a steady workload, then an exact match and the mark gone;
#      and, on both sources, a table without a primary key (PostgreSQL:
#      REPLICA IDENTITY FULL) resynced under inserts, updates and deletes,
#      with its copy held back by a lock on the target table while many
#      transactions commit: those are in the spool AND in the copy, so
#      replaying them would duplicate rows (zetl verify's counts and checksum
#      catch that). The copy's exact position (MariaDB: the binlog snapshot
#      position; PostgreSQL: the temporary slot's consistent point, compared
#      with each transaction's commit LSN) makes the replay skip exactly them;
#      the log says how many it skipped.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_resync_online
CMD=${ZETL_BUILD:-build}/tools/zetl_command

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
S=rs_online
load_pid=
release_lock() {
    zh_psql_tgt -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'zetl_test_lock'" >/dev/null 2>&1
}
cleanup() {
    rm -f "$E2E_DIR/go"
    [ -n "$load_pid" ] && wait "$load_pid" 2>/dev/null
    release_lock
    e2e_cleanup
    zh_mysql -e "DROP DATABASE IF EXISTS $S" >/dev/null 2>&1
    zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'zetl_rs_pg%'" >/dev/null 2>&1
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_rs_pg; DROP SCHEMA IF EXISTS $S CASCADE" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
export E2E_MY_PASSWORD=$ZH_MY_PASSWORD E2E_PG_PASSWORD=$ZH_PG_PASSWORD
DBFILE=$E2E_DIR/state/zetl.db

src_sql() { if [ "$KIND" = mysql ]; then zh_mysql "$S"; else zh_psql_src; fi; }
tgt_count() { zh_psql_tgt -c "SELECT count(*) FROM $S.$1 WHERE $2"; }
table_state() { e2e_status_field ".integrations[] | select(.name == \"$NAME\") | .tables[] | select(.name == \"$S.$1\") | .state"; }

write_config() {
    if [ "$KIND" = mysql ]; then
        src="{kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER, password: \"\${E2E_MY_PASSWORD}\", databases: [$S], server_id: 5252}"
    else
        src="{kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER, password: \"\${E2E_PG_PASSWORD}\", database: zetl, schemas: [$S]}"
    fi
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: $NAME
    source: $src
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$S.%"]}
    apply: {batch_ms: 100}
YAML
}

# Hold a lock on the target table that the copy's TRUNCATE must wait for.
hold_lock() {
    ( zh_psql_tgt -c "SET application_name = 'zetl_test_lock'; BEGIN; LOCK TABLE $S.$1 IN ACCESS SHARE MODE; SELECT pg_sleep(300)" >/dev/null 2>&1 & )
    LOCKED=$1
    lock_held() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'zetl_test_lock' AND l.relation = '$S.$LOCKED'::regclass AND l.granted")" = 1 ]; }
    t_wait $T "$KIND: the test holds a lock on the target table $1" 20 lock_held
}

workload() {   # steady changes to every table until $E2E_DIR/go disappears
    local i=0
    while [ -f "$E2E_DIR/go" ]; do
        i=$((i + 1))
        if [ "$KIND" = mysql ]; then
            echo "BEGIN; INSERT INTO big (id, v, s) VALUES ($((500000 + i)), $i, 'w$i');
                  UPDATE big SET v = v + 1 WHERE id = $((RANDOM % 20000 + 1));
                  DELETE FROM big WHERE id = $((RANDOM % 20000 + 1));
                  INSERT INTO small VALUES ($((500000 + i)), $i);
                  INSERT INTO loose VALUES ($((RANDOM % 30)), 'w');
                  DELETE FROM loose WHERE x = $((RANDOM % 30)) LIMIT 1; COMMIT;"
        else
            echo "BEGIN; INSERT INTO $S.big (id, v, s) VALUES ($((500000 + i)), $i, 'w$i');
                  UPDATE $S.big SET v = v + 1 WHERE id = $((RANDOM % 20000 + 1));
                  DELETE FROM $S.big WHERE id = $((RANDOM % 20000 + 1));
                  INSERT INTO $S.small VALUES ($((500000 + i)), $i);
                  INSERT INTO $S.loose VALUES ($((RANDOM % 30)), 'w');
                  UPDATE $S.loose SET y = 'u$i' WHERE ctid = (SELECT ctid FROM $S.loose WHERE x = $((RANDOM % 30)) LIMIT 1);
                  DELETE FROM $S.loose WHERE ctid = (SELECT ctid FROM $S.loose WHERE x = $((RANDOM % 30)) LIMIT 1); COMMIT;"
        fi
    done | src_sql >/dev/null 2>&1
}

# The keyless table loose, resynced under the workload: its copy waits on a
# lock until enough transactions committed after the divert began (each
# touches loose), then reads. Those transactions are in the spool and in the
# copy: the replay must skip them, not apply them a second time.
keyless_resync() {
    zh_psql_tgt -c "INSERT INTO $S.loose VALUES (99, 'junk')" >/dev/null
    hold_lock loose
    out=$("$CMD" "$DBFILE" "$NAME" resync "$S.loose"); t_eq $T "$KIND: keyless resync acknowledged" "ok" "$out"
    loose_resyncing() { [ "$(table_state loose)" = resyncing ]; }
    t_wait $T "$KIND: loose is resyncing (after big's resync)" 60 loose_resyncing
    copy_waits() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM pg_locks WHERE relation = '$S.loose'::regclass AND NOT granted")" -ge 1 ]; }
    t_wait $T "$KIND: the copy of loose waits on the lock, so it reads only later" 30 copy_waits
    local base
    base=$(tgt_count small true)
    more_txns() { [ "$(tgt_count small true)" -ge $((base + 50)) ]; }
    t_wait $T "$KIND: 50 more workload transactions commit (and stream) while loose's copy waits" 60 more_txns
    release_lock
}

# The resync of loose logged how many spooled changes its copy already held.
skipped_count() {
    sqlite3 "$DBFILE" "SELECT message FROM events WHERE integration = '$NAME' AND tbl = '$S.loose' AND kind = 'resync'
                       AND message LIKE 'copy done;%' ORDER BY id DESC LIMIT 1" 2>/dev/null |
        sed -n 's/.* replayed, \([0-9]*\) skipped.*/\1/p'
}

run_case() {
    KIND=$1 NAME=$2
    if [ "$KIND" = mysql ]; then
        zh_mysql <<SQL
DROP DATABASE IF EXISTS $S; CREATE DATABASE $S; USE $S;
CREATE TABLE big (id INT PRIMARY KEY, v INT, s VARCHAR(64));
CREATE TABLE small (id INT PRIMARY KEY, v INT);
CREATE TABLE loose (x INT, y VARCHAR(8));
INSERT INTO big SELECT seq, seq % 97, CONCAT('row ', seq) FROM seq_1_to_20000;
INSERT INTO small SELECT seq, seq FROM seq_1_to_100;
INSERT INTO loose SELECT seq % 30, 'l' FROM seq_1_to_300;
SQL
    else
        zh_psql_src <<SQL >/dev/null
DROP PUBLICATION IF EXISTS zetl_$NAME; DROP SCHEMA IF EXISTS $S CASCADE; CREATE SCHEMA $S;
CREATE TABLE $S.big (id int PRIMARY KEY, v int, s text);
CREATE TABLE $S.small (id int PRIMARY KEY, v int);
CREATE TABLE $S.loose (x int, y text);
ALTER TABLE $S.loose REPLICA IDENTITY FULL;
INSERT INTO $S.big SELECT g, g % 97, 'row ' || g FROM generate_series(1, 20000) g;
INSERT INTO $S.small SELECT g, g FROM generate_series(1, 100) g;
INSERT INTO $S.loose SELECT g % 30, 'l' FROM generate_series(1, 300) g;
SQL
    fi
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $S CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null 2>&1
    zh_psql_tgt -c "DELETE FROM zetl.resyncs WHERE integration = '$NAME'" >/dev/null 2>&1
    rm -rf "$E2E_DIR/state"
    write_config
    e2e_run_start
    if e2e_wait_match 90; then t_pass $T "$KIND: initial copy matches"
    else t_fail $T "$KIND: initial copy" "zetl verify: match" "$E2E_VERIFY"; return; fi

    # 1. The copy waits on the lock; the other table streams meanwhile.
    hold_lock big
    out=$("$CMD" "$DBFILE" "$NAME" resync "$S.big"); t_eq $T "$KIND: resync acknowledged" "ok" "$out"
    resyncing() { [ "$(table_state big)" = resyncing ]; }
    t_wait $T "$KIND: big is resyncing" 20 resyncing
    echo "UPDATE ${S}.big SET v = -5 WHERE id = 5; INSERT INTO ${S}.big (id, v, s) VALUES (-2, -2, 'during');
          INSERT INTO ${S}.small VALUES (-1, -1);" | src_sql
    small_arrived() { [ "$(tgt_count small 'id = -1')" = 1 ]; }
    t_wait $T "$KIND: another table's change arrives while big is being copied" 30 small_arrived
    t_eq $T "$KIND: big is still resyncing then (its copy waits on the lock)" "resyncing" "$(table_state big)"
    # (The target table itself cannot be read now: a reader would queue behind the copy's TRUNCATE.)
    spooled() { [ -n "$(find "$E2E_DIR/state" -name "$NAME.resync-*.spool")" ]; }
    t_wait $T "$KIND: a spool file for the diverted changes is in the state directory" 10 spooled
    t_eq $T "$KIND: the resync is marked in the target" "1" \
        "$(zh_psql_tgt -c "SELECT count(*) FROM zetl.resyncs WHERE integration = '$NAME' AND source_table = '$S.big'")"

    # 2. kill -9 in the middle of it; more changes while down; restart.
    e2e_run_kill9
    echo "DELETE FROM ${S}.big WHERE id = 7; INSERT INTO ${S}.big (id, v, s) VALUES (-3, -3, 'down');" | src_sql
    release_lock
    e2e_run_start
    if e2e_wait_match 90; then t_pass $T "$KIND: after kill -9 mid-resync the table is copied again: exact match"
    else t_fail $T "$KIND: kill -9 mid-resync" "zetl verify: match" "$E2E_VERIFY"; fi
    synced() { [ "$(table_state big)" = synced ]; }
    t_wait $T "$KIND: big is synced again" 30 synced
    t_eq $T "$KIND: the changes made during the resync are in the target" "-5|1|0|1" \
        "$(zh_psql_tgt -c "SELECT (SELECT v FROM $S.big WHERE id = 5) || '|' || (SELECT count(*) FROM $S.big WHERE id = -2) || '|' || (SELECT count(*) FROM $S.big WHERE id = 7) || '|' || (SELECT count(*) FROM $S.big WHERE id = -3)")"

    # 3. Resyncs under a steady workload: exact match, and no mark left.
    zh_psql_tgt -c "DELETE FROM $S.big WHERE id < 100" >/dev/null
    touch "$E2E_DIR/go"
    workload & load_pid=$!
    sleep 1
    out=$("$CMD" "$DBFILE" "$NAME" resync "$S.big"); t_eq $T "$KIND: resync under load acknowledged" "ok" "$out"
    keyless_resync
    sleep 3
    rm -f "$E2E_DIR/go"; wait "$load_pid"; load_pid=
    if e2e_wait_match 90; then t_pass $T "$KIND: resync under a steady workload: exact match"
    else t_fail $T "$KIND: resync under load" "zetl verify: match" "$E2E_VERIFY"; fi
    all_synced() { [ "$(e2e_status_field "[.integrations[] | select(.name == \"$NAME\") | .tables[].state] | unique | join(\",\")")" = synced ]; }
    t_wait $T "$KIND: every table synced" 30 all_synced
    t_eq $T "$KIND: no resync mark left" "0" \
        "$(zh_psql_tgt -c "SELECT count(*) FROM zetl.resyncs WHERE integration = '$NAME'")"
    skipped=$(skipped_count)
    if [ "${skipped:-0}" -gt 0 ]; then t_pass $T "$KIND: the keyless resync skipped the $skipped spooled changes its copy held"
    else t_fail $T "$KIND: the keyless resync skips what its copy holds" "a 'copy done; … N skipped' event with N > 0" "\"${skipped}\""; fi
    e2e_run_stop; t_eq $T "$KIND: zetl run stops cleanly" "0" "$?"
    spools=$(find "$E2E_DIR/state" -name '*.spool' | wc -l)
    t_eq $T "$KIND: no spool file left" "0" "$spools"
}

[[ ${RS_CASES:-mysql postgres} == *mysql* ]] && run_case mysql rs_my
[[ ${RS_CASES:-mysql postgres} == *postgres* ]] && run_case postgres rs_pg
t_done
