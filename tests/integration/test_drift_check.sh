#!/usr/bin/env bash
# test_drift_check.sh — someone else's TRUNCATE of a target table, invisible
# to the stream, is found by the periodic row-count check
# (apply.drift_check_seconds): the table goes resync_required with the counts
# in its reason, the other table keeps streaming, and a busy table that is
# whole is never flagged (changes in flight are not drift). A resync makes the
# table whole again, and the check leaves it alone afterwards.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_drift_check
DB=drift_db
N=drift
CMD=${ZETL_BUILD:-build}/tools/zetl_command

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
load_pid=
cleanup() {
    rm -f "$E2E_DIR/go"
    [ -n "$load_pid" ] && wait "$load_pid" 2>/dev/null
    e2e_cleanup
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" 2>/dev/null
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$N'" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$N'" >/dev/null 2>&1
zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB;
             CREATE TABLE $DB.victim (id INT PRIMARY KEY, v INT);
             CREATE TABLE $DB.busy (id INT PRIMARY KEY AUTO_INCREMENT, v INT);
             INSERT INTO $DB.victim SELECT seq, seq FROM $DB.seq_1_to_500;
             INSERT INTO $DB.busy (v) SELECT seq FROM $DB.seq_1_to_300"
e2e_my_config $N $DB 7373 "batch_ms: 100, drift_check_seconds: 2"
DBFILE=$E2E_DIR/state/zetl.db

tstate() { e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.$1\") | .$2"; }
victim_flagged() { local s; s=$(tstate victim state); echo "victim $s"; [ "$s" = resync_required ]; }
victim_synced() { local s; s=$(tstate victim state); echo "victim $s"; [ "$s" = synced ]; }
tgt_count() { zh_psql_tgt -c "SELECT count(*) FROM $DB.$1"; }
src_count() { zh_mysql -e "SELECT count(*) FROM $DB.$1"; }
victim_has() { local n; n=$(tgt_count victim 2>/dev/null); echo "victim has $n rows"; [ "$n" = "$1" ]; }
busy_caught_up() { local s t; s=$(src_count busy); t=$(tgt_count busy); echo "busy source $s target $t"; [ "$s" = "$t" ]; }

# A steady workload on busy for the whole test: in flight at every check.
touch "$E2E_DIR/go"
( while [ -f "$E2E_DIR/go" ]; do
      zh_mysql -e "INSERT INTO $DB.busy (v) VALUES (1); DELETE FROM $DB.busy ORDER BY id LIMIT 1; INSERT INTO $DB.busy (v) VALUES (2)"
      sleep 0.1
  done ) &
load_pid=$!

e2e_run_start
t_wait $T "the initial copy: 500 victim rows in the target" 60 victim_has 500
# Several 2-second sweeps over a table that changes all the time: no alarm.
sleep 15
t_eq $T "a busy, whole table is not flagged by the checks" "synced" "$(tstate busy state)"
t_eq $T "nor is the quiet, whole one" "synced" "$(tstate victim state)"
sweeps=$(grep -cE "info $N: drift check: [0-9]+ tables whole, [0-9]+ changing while counted \(counted again next time\), 0 flagged, 0 skipped$" "$E2E_DIR/run.log")
t_match $T "the checks ran, every few seconds, and flagged nothing" "^([2-9]|[1-9][0-9]+)$" "$sweeps"
t_match $T "a sweep found both tables whole, the busy one included" "drift check: 2 tables whole, 0 changing" "$(cat "$E2E_DIR/run.log")"
t_eq $T "no drift warning so far" "" "$(grep -i 'drift check skipped\|someone changed' "$E2E_DIR/run.log")"

# Someone truncates the victim in the target.
zh_psql_tgt -c "TRUNCATE $DB.victim" >/dev/null
t_wait $T "the truncated table goes resync_required" 60 victim_flagged
t_match $T "its reason has both counts and the cause" "^target has 0 rows, source 500 \(counted twice, caught up\); someone changed the target table \(TRUNCATE or DELETE outside zetl\?\): resync it$" \
    "$(tstate victim reason)"
attention() { local r; r=$(e2e_status_field '.integrations[0].reason'); echo "$r"; [[ $r == *"table $DB.victim is resync_required"* ]]; }
t_wait $T "the integration needs attention, naming the table" 10 attention
t_match $T "a warning event on stderr" "$N $DB.victim: target has 0 rows, source 500" "$(cat "$E2E_DIR/run.log")"
zh_mysql -e "INSERT INTO $DB.busy (v) VALUES (42)"
t_wait $T "the other table keeps streaming" 30 busy_caught_up
t_eq $T "the other table stays synced" "synced" "$(tstate busy state)"

# The fix: a resync; the table is whole again and stays synced. The
# workload goes on: under a steady stream of tiny transactions the applier's
# command poll used to fall inside a source transaction nearly every time,
# and the resync did not start while it lasted.
out=$("$CMD" "$DBFILE" $N resync "$DB.victim")
t_eq $T "resync acknowledged" "ok" "$out"
t_wait $T "the resynced table is synced again (under the steady workload)" 30 victim_synced
t_wait $T "its 500 rows are back" 30 victim_has 500
rm -f "$E2E_DIR/go"; wait "$load_pid"; load_pid=
sleep 8
t_eq $T "a whole table after its resync is not flagged again" "synced" "$(tstate victim state)"
e2e_wait_match 60 && t_pass $T "source and target match exactly at the end" || t_fail $T "final verify" "match" "$E2E_VERIFY"
e2e_run_stop
t_done
