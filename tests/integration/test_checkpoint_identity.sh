#!/usr/bin/env bash
# test_checkpoint_identity.sh — a checkpoint row belongs to one source.
# An integration name reused with another source (a new config, a fresh state
# directory, the same target) must not resume from the old source's
# checkpoint (skipping the initial copy: 0 of 1,001 rows, reported synced):
#  (a) the PostgreSQL source under the name a MariaDB checkpoint holds: failed,
#      the reason names both identities and the fix; the fix (deleting the
#      row) then copies every row;
#  (b) another database of the same MariaDB server (none of its tables in the
#      target): failed, with the fix;
#  (c) a row written by an earlier zetl (no identity) resumes and adopts the
#      identity (info event); a table added to the selection still streams;
#  (d) the row naming another MariaDB server: resumed when this server holds
#      the checkpoint's GTIDs (a failover), refused when it does not.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_checkpoint_identity
N=ident
A=ident_a     # MariaDB database, replicated first
B=ident_b     # PostgreSQL schema: the other source
C=ident_c     # another MariaDB database of the same server

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
cleanup() {
    e2e_cleanup
    e2e_pg_drop $N $B
    zh_mysql -e "DROP DATABASE IF EXISTS $A; DROP DATABASE IF EXISTS $C" 2>/dev/null
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $A CASCADE; DROP SCHEMA IF EXISTS $C CASCADE" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
cleanup 2>/dev/null; e2e_init $T

zh_mysql -e "DROP DATABASE IF EXISTS $A; CREATE DATABASE $A; CREATE TABLE $A.t (id INT PRIMARY KEY, v INT);
             INSERT INTO $A.t SELECT seq, seq FROM $A.seq_1_to_1001;
             DROP DATABASE IF EXISTS $C; CREATE DATABASE $C; CREATE TABLE $C.other (id INT PRIMARY KEY);
             INSERT INTO $C.other VALUES (1), (2)"
zh_psql_src -c "DROP SCHEMA IF EXISTS $B CASCADE; CREATE SCHEMA $B; CREATE TABLE $B.t (id int PRIMARY KEY, v int);
                INSERT INTO $B.t SELECT g, g FROM generate_series(1, 1001) g" >/dev/null

my_config() {     # $1 database; a fresh state directory each time
    rm -rf "$E2E_DIR/state"
    e2e_my_config $N "$1" 7272
}
pg_config() {
    rm -rf "$E2E_DIR/state"
    e2e_pg_config $N $B
}
state() { e2e_status_field '.integrations[0].state'; }
reason() { e2e_status_field '.integrations[0].reason'; }
is_failed() { local s; s=$(state); echo "state $s"; [ "$s" = failed ]; }
is_running() { local s; s=$(state); echo "state $s"; [ "$s" = active ] || [ "$s" = needs_attention ]; }
logged() { tail -n +"$((before + 1))" "$E2E_DIR/run.log" | grep -q -- "$1"; }
row() { zh_psql_tgt -c "SELECT $1 FROM zetl.checkpoints WHERE integration = '$N'"; }

# Source A replicated: its checkpoint records MariaDB's identity.
my_config $A
e2e_run_start
e2e_wait_match 60 || t_fail $T "source A copied" "match" "$E2E_VERIFY"
t_eq $T "source A: 1001 rows in the target" "1001" "$(zh_psql_tgt -c "SELECT count(*) FROM $A.t")"
t_match $T "the checkpoint row records MariaDB's identity" "^mysql\|MariaDB server_id=1 hostname=.*:$ZH_MY_PORT gtid_domain_id=0\|1:[0-9a-f]{16}$" \
    "$(row "source_kind || '|' || source_id || '|' || source_tables")"
e2e_run_stop

# (a) the same name, a fresh state directory, the PostgreSQL source.
pg_config
e2e_run_start
t_wait $T "(a) another source under the name: failed" 30 is_failed
r=$(reason)
t_match $T "(a) the reason names the checkpoint's source" "written for mysql MariaDB server_id=1 hostname=" "$r"
t_match $T "(a) the reason names this source" "this config's source is postgres system_identifier=[0-9]+ database=zetl" "$r"
t_match $T "(a) the reason gives the fix" "DELETE FROM zetl.checkpoints WHERE integration = '$N'.*another name" "$r"
t_eq $T "(a) nothing was created for the other source" "" \
    "$(zh_psql_tgt -c "SELECT 1 FROM information_schema.tables WHERE table_schema = '$B'")"
t_match $T "(a) the old checkpoint is untouched" "^binlog|^[a-z-]+\.[0-9]+:" "$(row position)"
# The fix from the reason: the next retry copies the new source.
zh_psql_tgt -c "DELETE FROM zetl.checkpoints WHERE integration = '$N'" >/dev/null
t_wait $T "(a) after the fix the new source is copied" 90 is_running
e2e_wait_match 60 || t_fail $T "(a) new source copied exactly" "match" "$E2E_VERIFY"
t_eq $T "(a) the new source's 1001 rows are in the target" "1001" "$(zh_psql_tgt -c "SELECT count(*) FROM $B.t")"
t_match $T "(a) the new checkpoint records PostgreSQL's identity" "^postgres\|system_identifier=[0-9]+ database=zetl$" \
    "$(row "source_kind || '|' || source_id")"
e2e_run_stop
e2e_pg_drop $N $B

# Source A again (the fix for (a) replaced its checkpoint: copy it again).
my_config $A
e2e_run_start
e2e_wait_match 60 || t_fail $T "source A copied again" "match" "$E2E_VERIFY"
# The copy commits before the checkpoint does: a stop in between leaves no
# checkpoint, and (b) would then copy its database as a first run.
has_checkpoint() { local p; p=$(row position); echo "position '$p'"; [ -n "$p" ]; }
t_wait $T "source A again: its checkpoint is written" 30 has_checkpoint
e2e_run_stop

# (b) another database of the same server: none of its tables in the target.
my_config $C
e2e_run_start
t_wait $T "(b) another database under the name: failed" 30 is_failed
r=$(reason)
t_match $T "(b) the reason says the checkpoint was for other tables" "written for other tables of this source.*none of the 1 selected tables is in the target" "$r"
t_match $T "(b) the reason gives the fix" "DELETE FROM zetl.checkpoints WHERE integration = '$N'" "$r"
t_eq $T "(b) no table was created for it" "" \
    "$(zh_psql_tgt -c "SELECT 1 FROM information_schema.tables WHERE table_schema = '$C'")"
e2e_run_stop

# (c) a checkpoints table and row an earlier zetl wrote (no identity
# columns at all): the columns are added, the row resumes and adopts it.
zh_psql_tgt -c "ALTER TABLE zetl.checkpoints DROP COLUMN source_kind, DROP COLUMN source_id, DROP COLUMN source_tables" >/dev/null
before=$(wc -l <"$E2E_DIR/run.log")
my_config $A
zh_mysql -e "INSERT INTO $A.t VALUES (5000, 5000); CREATE TABLE $A.added (id INT PRIMARY KEY); INSERT INTO $A.added VALUES (1)"
e2e_run_start
t_wait $T "(c) an old row without identity resumes" 30 is_running
e2e_wait_match 60 && t_pass $T "(c) resumed from the old row: exact match (new rows and an added table streamed)" \
    || t_fail $T "(c) resumed exactly" "match" "$E2E_VERIFY"
t_match $T "(c) the old row adopts this source's identity" "^mysql\|MariaDB server_id=1 " "$(row "source_kind || '|' || source_id")"
t_match $T "(c) an info event says so" "info $N: the checkpoint was written by an earlier zetl, without the source it belongs to; it now records mysql MariaDB" \
    "$(tail -n +"$((before + 1))" "$E2E_DIR/run.log")"
e2e_run_stop
# The added table changed the selection: recorded, with an info event.
before=$(wc -l <"$E2E_DIR/run.log")
zh_psql_tgt -c "UPDATE zetl.checkpoints SET source_tables = '1:0000000000000000' WHERE integration = '$N'" >/dev/null
e2e_run_start
t_wait $T "(c) the changed selection is an info event" 30 logged "info $N: the selected tables changed since the checkpoint was written (digest 1:0000000000000000, now 2:"
zh_mysql -e "INSERT INTO $A.added VALUES (2)"
e2e_wait_match 60 && t_pass $T "(c) a changed table selection still resumes: exact match" \
    || t_fail $T "(c) resumed after the selection changed" "match" "$E2E_VERIFY"
e2e_run_stop

# (d) the row names another MariaDB server. This one holds the checkpoint's
# GTIDs: a failover, resumed. With a GTID this server never had: refused.
real_id=$(row source_id)
zh_psql_tgt -c "UPDATE zetl.checkpoints SET source_id = 'MariaDB server_id=9 hostname=old:3306 gtid_domain_id=0' WHERE integration = '$N'" >/dev/null
before=$(wc -l <"$E2E_DIR/run.log")
e2e_run_start
t_wait $T "(d) another server holding the checkpoint's GTIDs: taken as a failover" 30 logged "resuming there (a failover)"
zh_mysql -e "INSERT INTO $A.t VALUES (5001, 5001)"
e2e_wait_match 60 && t_pass $T "(d) resumed after the failover: exact match" || t_fail $T "(d) resumed" "match" "$E2E_VERIFY"
t_match $T "(d) the warning names both servers" "warning $N: the source server changed from MariaDB server_id=9 hostname=old:3306 gtid_domain_id=0 to MariaDB server_id=1 .*: resuming there \(a failover\)" \
    "$(tail -n +"$((before + 1))" "$E2E_DIR/run.log")"
t_eq $T "(d) the row now names this server" "$real_id" "$(row source_id)"
e2e_run_stop
pos=$(row position)
zh_psql_tgt -c "UPDATE zetl.checkpoints SET source_id = 'MariaDB server_id=9 hostname=old:3306 gtid_domain_id=0',
                position = regexp_replace(position, 'gtid=.*', 'gtid=0-9-999999') WHERE integration = '$N'" >/dev/null
e2e_run_start
t_wait $T "(d) another server without the checkpoint's GTIDs: failed" 30 is_failed
t_match $T "(d) the reason names both servers" "written for mysql MariaDB server_id=9 hostname=old:3306 gtid_domain_id=0, and this config's source is mysql MariaDB server_id=1 " "$(reason)"
e2e_run_stop
zh_psql_tgt -c "UPDATE zetl.checkpoints SET source_id = '$real_id', position = '$pos' WHERE integration = '$N'" >/dev/null
t_done
