#!/usr/bin/env bash
# test_source_position.sh — `zetl status --json` says where the source is
# against the applied position, and the MySQL/MariaDB retention horizon
# (issue 18 point 4), against real servers (MariaDB → PostgreSQL):
#   - binlog_expire_seconds is the server's @@binlog_expire_logs_seconds
#     (set to a known value by the test, restored after), and
#     binlog_purge_not_before is the checkpoint's commit time + that;
#   - idle, the source position and the applied one meet (bytes_between 0);
#   - a target table locked from a held psql session (BEGIN; LOCK TABLE …
#     ACCESS EXCLUSIVE) while the source moves on: source_position is
#     SHOW MASTER STATUS's file:pos, ahead of the applied position, and
#     bytes_between > 0 is exactly the server's pos − the checkpoint's pos
#     (zetl.checkpoints in the target);
#   - released, they meet again (bytes_between 0) within a few seconds;
#   - a PostgreSQL source, its target table locked the same way: the
#     source position is an LSN ahead of the applied one, bytes_between is
#     their difference, > 0 and at most pg_current_wal_lsn − the slot's
#     confirmed_flush_lsn; released, the applied position passes it.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_source_position
DB=srcpos
NAME=srcpos
PGNAME=srcpg
PGS=srcpg
EXPIRE=777777

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
hold_pid=
OLD_EXPIRE=$(zh_mysql -N -e "SELECT @@GLOBAL.binlog_expire_logs_seconds")
cleanup() {
    exec 7>&- 2>/dev/null
    [ -n "$hold_pid" ] && { kill "$hold_pid" 2>/dev/null; wait "$hold_pid" 2>/dev/null; }
    e2e_cleanup
    [ -n "$OLD_EXPIRE" ] && zh_mysql -e "SET GLOBAL binlog_expire_logs_seconds = $OLD_EXPIRE" >/dev/null 2>&1
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null 2>&1
    e2e_pg_drop "$PGNAME" "$PGS"
}
trap 'cleanup; harness_stop' EXIT

zh_mysql -e "SET GLOBAL binlog_expire_logs_seconds = $EXPIRE"
e2e_my_table "$NAME" "$DB" 10
e2e_my_config "$NAME" "$DB" 6565
e2e_run_start

st() { e2e_status_field ".integrations[0]$1"; }
rows() { zh_psql_tgt -c "SELECT count(*) FROM $DB.t" 2>/dev/null || echo 0; }
master() { zh_mysql -N -e "SHOW MASTER STATUS" | awk '{print $1 ":" $2}'; }
ckpt() { zh_psql_tgt -c "SELECT position FROM zetl.checkpoints WHERE integration = '$NAME'" | sed 's/ .*//'; }
offset() { echo "${1##*:}"; }

copied() { [ "$(rows)" = 10 ] && [ "$(st .state)" = active ]; }
t_wait $T "the copy is done and the integration streams" 60 copied
zh_mysql -e "INSERT INTO $DB.t VALUES (11, 'r11')"
arrived() { [ "$(rows)" = 11 ]; }
t_wait $T "a change arrives" 20 arrived

expire_read() { [ "$(st .binlog_expire_seconds)" = "$EXPIRE" ]; }
t_wait $T "binlog_expire_seconds is the server's @@binlog_expire_logs_seconds" 10 expire_read
commit_at=$(st .checkpoint_commit_at)
purge=$(st .binlog_purge_not_before)
if [ "$commit_at" != null ] && [ "$purge" != null ]; then
    d=$(( $(date -ud "$purge" +%s) - $(date -ud "$commit_at" +%s) ))
    t_eq $T "the purge horizon is the checkpoint's commit time + the expiry" "$EXPIRE" "$d"
else
    t_fail $T "the purge horizon is the checkpoint's commit time + the expiry" "two times" "$commit_at / $purge"
fi

met() { [ "$(st .bytes_between)" = 0 ] && [ "$(st .source_position)" = "$(master)" ]; }
t_wait $T "idle: the source position is SHOW MASTER STATUS's, bytes_between 0" 15 met

# ---- the applier held by a lock while the source moves on ----------------------------------
mkfifo "$E2E_DIR/hold"
zh_psql_tgt <"$E2E_DIR/hold" >"$E2E_DIR/hold.out" 2>&1 &
hold_pid=$!
exec 7>"$E2E_DIR/hold"
echo "BEGIN; LOCK TABLE $DB.t IN ACCESS EXCLUSIVE MODE;" >&7
echo '\echo locked' >&7
locked() { grep -q '^locked' "$E2E_DIR/hold.out"; }
t_wait $T "the holder session has the lock" 10 locked
for i in 12 13 14 15 16; do
    zh_mysql -e "INSERT INTO $DB.t VALUES ($i, REPEAT('x', 20))"
done
M=$(master)
ahead() { [ "$(st .source_position)" = "$M" ]; }
t_wait $T "locked: the source position is SHOW MASTER STATUS's ($M)" 10 ahead
C=$(ckpt)
want=$(( $(offset "$M") - $(offset "$C") ))
t_ok $T "locked: the checkpoint ($C) is behind the server ($M)" [ "$want" -gt 0 ]
t_eq $T "locked: bytes_between is the server's pos − the checkpoint's" "$want" "$(st .bytes_between)"
t_eq $T "locked: the status's applied position is the checkpoint's" "$C" "$(st .position | sed 's/ .*//')"
t_eq $T "locked: the same binlog file, no files between" 0 "$(st .files_between)"

echo "COMMIT;" >&7
exec 7>&-
wait "$hold_pid" 2>/dev/null; hold_pid=
t0=$SECONDS
t_wait $T "released: source and applied positions meet (bytes_between 0)" 10 met
echo "# met $((SECONDS - t0)) s after the release" >&2
t_eq $T "released: the changes arrived" 16 "$(rows)"
e2e_run_stop

# ---- a PostgreSQL source -----------------------------------------------------------------------
rm -rf "$E2E_DIR/state"
e2e_pg_drop "$PGNAME" "$PGS"
zh_psql_src -c "CREATE SCHEMA $PGS; CREATE TABLE $PGS.t (id int PRIMARY KEY, v text); INSERT INTO $PGS.t VALUES (1, 'a')" >/dev/null
e2e_pg_config "$PGNAME" "$PGS"
e2e_run_start
lsn() { zh_psql_src -c "SELECT ('$1'::pg_lsn - '0/0')::bigint"; }
pgrows() { zh_psql_tgt -c "SELECT count(*) FROM $PGS.t" 2>/dev/null || echo 0; }
pg_streams() { [ "$(pgrows)" = 1 ] && [ "$(st .state)" = active ] && [ "$(st .source_position)" != null ]; }
t_wait $T "pg: the copy is done, streaming, a source position seen" 60 pg_streams
t_eq $T "pg: no binlog expiry for a PostgreSQL source" null "$(st .binlog_expire_seconds)"
exec 8> >(zh_psql_tgt >"$E2E_DIR/hold2.out" 2>&1)
echo "BEGIN; LOCK TABLE $PGS.t IN ACCESS EXCLUSIVE MODE;" >&8
echo '\echo locked' >&8
locked2() { grep -q '^locked' "$E2E_DIR/hold2.out"; }
t_wait $T "pg: the holder session has the lock" 10 locked2
for i in 2 3 4 5; do zh_psql_src -c "INSERT INTO $PGS.t VALUES ($i, repeat('y', 200))" >/dev/null; done
pg_ahead() { [ "$(st .bytes_between)" -gt 0 ] 2>/dev/null && [ "$(st .wait.kind)" = lock ]; }
t_wait $T "pg locked: bytes_between > 0 while the applier waits on the lock" 15 pg_ahead
S=$(st .source_position) A=$(st .position) B=$(st .bytes_between)
t_eq $T "pg locked: bytes_between is source_position ($S) − position ($A)" "$(( $(lsn "$S") - $(lsn "$A") ))" "$B"
slot=$(zh_psql_src -c "SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = 'zetl_$PGNAME'")
t_ok $T "pg locked: ... at most what the slot holds (pg_current_wal_lsn − confirmed_flush_lsn = $slot)" [ "$B" -le "$slot" ]
echo "COMMIT;" >&8
exec 8>&-
passed() { [ "$(lsn "$(st .position)")" -ge "$(lsn "$S")" ] && [ "$(pgrows)" = 5 ]; }
t_wait $T "pg released: the applied position reaches the source position seen while locked" 15 passed
e2e_run_stop
t_done
