#!/usr/bin/env bash
# test_binlog_hostile.sh — what the source server does behind zetl's back:
#  (a) RESET MASTER while zetl is stopped: the checkpoint's GTIDs are ahead of
#      the server's and its file:offset is past the end of the re-created file;
#      the integration fails saying so and every table is resync_required
#      (the same path as a purged binlog, test_position_lost.sh);
#  (b) RESET MASTER while zetl streams: the same, whether the server's dump
#      thread goes silent on the deleted file or moves on to a new one;
#  (c) DDL in a database zetl does not replicate costs no table work: 500
#      CREATE TABLEs there, while 60 tables stream, open no source connection
#      and run no catalog query (MariaDB's own Connections and
#      Com_stmt_execute counters, read before and after).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_binlog_hostile
DB=e2e_hostile
NOISE=e2e_hostile_noise
NTABLES=60
NCREATE=500

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'e2e_cleanup; harness_stop' EXIT

failed() { [ "$(e2e_status_field '.integrations[0].state')" = failed ]; }
all_tables() { e2e_status_field '[.integrations[0].tables[].state] | unique | join(",")'; }
fresh_start() {         # a new integration state: no checkpoint, no target tables
    e2e_run_stop
    rm -rf "$E2E_DIR/state"
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'hostile'" >/dev/null 2>&1
}

zh_mysql -e "DROP DATABASE IF EXISTS $DB; DROP DATABASE IF EXISTS $NOISE; CREATE DATABASE $DB; CREATE DATABASE $NOISE;
             CREATE TABLE $DB.t (id INT PRIMARY KEY, v INT); INSERT INTO $DB.t VALUES (1, 1), (2, 2)"
fresh_start
e2e_my_config hostile $DB 7272

# ---- (a) RESET MASTER while stopped --------------------------------------------------------
e2e_run_start
e2e_wait_match 60 || t_fail $T "(a) initial match" "match" "$E2E_VERIFY"
for i in $(seq 3 40); do echo "INSERT INTO $DB.t VALUES ($i, $i);"; done | zh_mysql
e2e_wait_match 60 || t_fail $T "(a) match before the reset" "match" "$E2E_VERIFY"
sleep 3                                 # a checkpoint at the end of the binlog
e2e_run_stop
zh_mysql -e "RESET MASTER"
zh_mysql -e "INSERT INTO $DB.t VALUES (100, 100)"
e2e_run_start
t_wait $T "(a) after RESET MASTER the integration fails" 30 failed
reason=$(e2e_status_field '.integrations[0].reason')
t_match $T "(a) the reason says the binlog was reset and to resync" "RESET MASTER.*every table must be resynced" "$reason"
t_match $T "(a) and names the checkpoint's position and GTIDs" "binlog position binlog\.[0-9]+:[0-9]+, GTIDs 0-1-[0-9]+" "$reason"
t_eq $T "(a) every table is resync_required" "resync_required" "$(all_tables)"
t_ne $T "(a) not the server's raw error 1236" "1236" "$(grep -o 1236 "$E2E_DIR/run.log" | head -1)"

# ---- (a') no GTIDs in the checkpoint: its offset is past the end of the re-created file -----
fresh_start
e2e_run_start
e2e_wait_match 60 || t_fail $T "(a') initial match" "match" "$E2E_VERIFY"
for i in $(seq 200 240); do echo "INSERT INTO $DB.t VALUES ($i, $i);"; done | zh_mysql
e2e_wait_match 60 || t_fail $T "(a') match before the reset" "match" "$E2E_VERIFY"
sleep 3
e2e_run_stop
zh_psql_tgt -c "UPDATE zetl.checkpoints SET position = regexp_replace(position, ' gtid=.*$', '') WHERE integration = 'hostile'" >/dev/null
pos=$(zh_psql_tgt -c "SELECT position FROM zetl.checkpoints WHERE integration = 'hostile'")
zh_mysql -e "RESET MASTER"
t_eq $T "(a') the server re-created the checkpoint's file" "${pos%%:*}" "$(zh_mysql -e "SHOW BINARY LOGS" | cut -f1 | grep -x "${pos%%:*}")"
e2e_run_start
t_wait $T "(a') a checkpoint past the end of the re-created file fails" 30 failed
t_match $T "(a') the reason says the position is beyond the file's end" "binlog position $pos is beyond the end of ${pos%%:*} on the server.*RESET MASTER.*every table must be resynced" \
        "$(e2e_status_field '.integrations[0].reason')"
t_eq $T "(a') every table is resync_required" "resync_required" "$(all_tables)"

# ---- (b) RESET MASTER while streaming -------------------------------------------------------
# (b1) the dump thread is left reading the deleted file: silence with heartbeats, noticed by
#      the stream's periodic check of the server's history (every 10 s);
# (b2) the server moves on to a new file: its GTID_LIST is behind what the stream read.
for variant in b1 b2; do
    fresh_start
    base=$([ $variant = b1 ] && echo 10000 || echo 20000)
    for i in $(seq 1 30); do echo "INSERT INTO $DB.t VALUES ($base + $i, $i);"; done | zh_mysql
    e2e_run_start
    e2e_wait_match 60 || t_fail $T "($variant) initial match" "match" "$E2E_VERIFY"
    if [ $variant = b1 ]; then
        zh_mysql -e "RESET MASTER; INSERT INTO $DB.t VALUES ($base + 100, 1); INSERT INTO $DB.t VALUES ($base + 101, 1)"
    else
        zh_mysql -e "RESET MASTER; INSERT INTO $DB.t VALUES ($base + 100, 1); FLUSH BINARY LOGS; INSERT INTO $DB.t VALUES ($base + 101, 1)"
    fi
    t_eq $T "($variant) the rows after the reset are in the source" 2 \
         "$(zh_mysql -e "SELECT count(*) FROM $DB.t WHERE id IN ($base + 100, $base + 101)")"
    t_wait $T "($variant) RESET MASTER while streaming: the integration fails" 60 failed
    t_match $T "($variant) the reason says the binlog was reset" "RESET MASTER.*every table must be resynced" \
            "$(e2e_status_field '.integrations[0].reason')"
    t_eq $T "($variant) every table is resync_required" "resync_required" "$(all_tables)"
    t_eq $T "($variant) no row after the reset was applied past a gap" "0" \
         "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.t WHERE id = $base + 101")"
done

# ---- (c) DDL elsewhere costs nothing --------------------------------------------------------
fresh_start
{
    for i in $(seq 1 $NTABLES); do echo "CREATE TABLE $DB.m$i (id INT PRIMARY KEY, v VARCHAR(20));"; done
    echo "INSERT INTO $DB.m1 VALUES (1, 'a');"
} | zh_mysql
e2e_run_start
e2e_wait_match 120 || t_fail $T "(c) initial match of $((NTABLES + 1)) tables" "match" "$E2E_VERIFY"
sleep 2
counters() { zh_mysql -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('Connections', 'Com_stmt_execute')" | sort | awk '{printf "%s ", $2}'; }
read -r exec0 conn0 <<<"$(counters)"
{
    for i in $(seq 1 $NCREATE); do echo "CREATE TABLE $NOISE.n$i (id INT PRIMARY KEY, v INT);"; done
    echo "INSERT INTO $DB.m1 VALUES (2, 'marker');"
} | zh_mysql
arrived() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.m1 WHERE v = 'marker'")" = 1 ]; }
t_wait $T "(c) a row written after $NCREATE CREATE TABLEs elsewhere arrives" 120 arrived
read -r exec1 conn1 <<<"$(counters)"
# The test's own sessions between the two readings: the CREATE batch and the second reading.
t_eq $T "(c) zetl opened no source connection for them" 2 "$((conn1 - conn0))"
t_eq $T "(c) and ran no catalog query" 0 "$((exec1 - exec0))"
zh_mysql -e "CREATE TABLE $DB.fresh (id INT PRIMARY KEY); INSERT INTO $DB.fresh VALUES (7)"
fresh_arrived() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.fresh WHERE id = 7" 2>/dev/null)" = 1 ]; }
t_wait $T "(c) a CREATE TABLE in the replicated database still creates and streams it" 60 fresh_arrived
e2e_run_stop
zh_mysql -e "DROP DATABASE $NOISE; DROP DATABASE $DB"
t_done
