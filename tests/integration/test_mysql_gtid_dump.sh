#!/usr/bin/env bash
# test_mysql_gtid_dump.sh — starting a binlog stream from a MySQL-form GTID set
# (COM_BINLOG_DUMP_GTID). There is no MySQL 8 server on this machine, only
# MariaDB, so the MySQL half is proven on the bytes and the MariaDB half live:
#  (a) bytes on the wire: mysql_capture, a loopback listener that speaks the
#      handshake as a MySQL 8 would and records the packet, gets the command
#      from gtid_dump twice — from mysql_dump_gtid_start alone, and from zetl's
#      replica (mysql_replica_run) resuming after a checkpoint whose file is
#      gone — and both times it equals the packet written out by hand below
#      from MySQL's protocol documentation; the listener's ERR 1236 comes back
#      as zetl's "position lost, resync" result, no hang;
#      the binlog position is read with the statement each MySQL version has
#      (SHOW MASTER STATUS on 8.0, SHOW BINARY LOG STATUS on 8.4);
#  (b) a real MariaDB answers the same command with an error (it has no such
#      command): a clear message, an ERR read as the answer (no hang), no crash;
#  (c) a real MariaDB stream started through db_command (what the MySQL start
#      uses instead of mariadb_rpl_open) is read by mariadb_rpl_fetch: events up
#      to a row change just written;
#  (d) zetl run on MariaDB, the checkpoint's file gone and its GTID set in MySQL
#      form: the integration fails with one line saying MariaDB uses
#      "domain-server-seq" and to resync, every table resync_required, and zetl
#      keeps running. (test_position_lost.sh proves MariaDB's own GTID resume.)
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_mysql_gtid_dump
BUILD=${ZETL_BUILD:-build}
DUMP=$BUILD/tools/gtid_dump
CAPTURE=$BUILD/tools/mysql_capture
DB=e2e_gtiddump
U62=3E11FA47-71CA-11E1-9E33-C80AA9429562

for tool in "$DUMP" "$CAPTURE"; do
    if [[ ! -x $tool ]]; then
        make -s "$tool" >/dev/null 2>&1 || { t_fail $T "build $tool" "$tool" "make failed"; t_done; }
    fi
done
harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
CAP_PID=
stop_capture() { if [ -n "$CAP_PID" ]; then kill "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; fi; CAP_PID=; }
trap 'stop_capture; e2e_cleanup; harness_stop' EXIT

# ---- (a) the packet on the wire ---------------------------------------------------
# Written out field by field (MySQL protocol documentation, COM_BINLOG_DUMP_GTID;
# the GTID set's binary form as in Gtid_set::encode), integers little-endian,
# for set U62:1-5:7 and server_id 4242:
fields=(
  570000 00                         # packet header: payload 87 bytes, sequence 0
  1e                                # COM_BINLOG_DUMP_GTID
  0400                              # flags: BINLOG_THROUGH_GTID
  92100000                          # server_id 4242
  00000000                          # binlog_name_info_size 0: no name, the server chooses by GTID
  0400000000000000                  # binlog_pos 4
  40000000                          # data_size 64
  0100000000000000                  # data: n_sids 1
  3e11fa4771ca11e19e33c80aa9429562  #   sid
  0200000000000000                  #   n_intervals 2
  0100000000000000 0600000000000000 #   [1, 6): 1-5, end exclusive
  0700000000000000 0800000000000000 #   [7, 8): 7
)
want=$(printf '%s' "${fields[@]}")
# capture NAME [VERSION]: a fresh listener (a MySQL of that version), and
# $E2E_DIR/NAME.yaml pointing the source at it.
capture() {
    rm -f "$E2E_DIR/$1.port" "$E2E_DIR/$1.out"
    "$CAPTURE" "$E2E_DIR/$1.port" "$E2E_DIR/$1.out" ${2:+"$2"} 2>"$E2E_DIR/$1.err" &
    CAP_PID=$!
    t_wait $T "$1: the capture listener is up" 30 test -s "$E2E_DIR/$1.port"
    cat >"$E2E_DIR/$1.yaml" <<YAML
state_dir: $E2E_DIR/capstate
integrations:
  - name: cap
    source: {kind: mysql, host: 127.0.0.1, port: $(cat "$E2E_DIR/$1.port"), user: repl,
             password: "not-checked", databases: [d], server_id: 4242, tls: disable}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["d.%"]}
YAML
}
capture_done() {       # capture_done NAME: the listener exited 0, its packet is the documented one
    local rc
    wait "$CAP_PID"; rc=$?; CAP_PID=
    t_eq $T "$1: the listener recorded a dump command and exited 0" 0 "$rc"
    t_eq $T "$1: the packet on the wire equals the documented bytes" "$want" \
        "$(sed -n 's/^PACKET //p' "$E2E_DIR/$1.out")"
    t_eq $T "$1: its fields decode back to the set sent" \
        "DUMP_GTID flags=0x0004 server_id=4242 file='' pos=4 gtid=${U62,,}:1-5:7" \
        "$(grep '^DUMP_GTID' "$E2E_DIR/$1.out")"
}

# The command alone (mysql_dump_gtid_start, read with mariadb_rpl_fetch).
capture cmd
out=$(timeout 60 "$DUMP" -c "$E2E_DIR/cmd.yaml" -g "$U62:1-5:7" 2>&1); rc=$?
# Exit 3 is an ERR packet read as the answer; a hang would end in the 10 s read
# timeout (error 2013, exit 1) or in `timeout` (124).
t_eq $T "cmd: the listener's ERR 1236 ends gtid_dump (exit 3), no hang" 3 "$rc"
capture_done cmd
t_match $T "cmd: ERR 1236 is worded as a lost position with the fix" \
    "REFUSED lost=1 source cap: the server cannot stream what follows GTID set ${U62,,}:1-5:7: .*\(error 1236\).*resynced" "$out"

# zetl's replica itself (mysql_replica_run) from a checkpoint whose file the
# "server" does not list: it must pick COM_BINLOG_DUMP_GTID for a MySQL server.
capture replica
out=$(timeout 60 "$DUMP" -c "$E2E_DIR/replica.yaml" -r "$U62:1-5:7" 2>&1); rc=$?
t_eq $T "replica: ends on the listener's ERR (exit 3), no hang" 3 "$rc"
capture_done replica
t_match $T "replica: it logs that it resumes by GTID" \
    "WARN binlog file gone-bin.000999 is gone from the server; resuming by GTID ${U62,,}:1-5:7" "$out"
t_match $T "replica: asked for the binlog list and the GTID history, and set up its session before the dump" \
    $'QUERY SHOW BINARY LOGS\nQUERY SELECT @@GLOBAL.gtid_executed\nQUERY SET @master_heartbeat_period' "$(cat "$E2E_DIR/replica.out")"
t_match $T "replica: ERR 1236 returns MYSQL_REPLICA_POSITION_LOST (-2) with the resync message" \
    "REPLICA rc=-2 source cap: the server cannot stream what follows GTID set .*\(error 1236\).*every table must be resynced" "$out"

# The server's binlog position (bytes behind, and a MySQL snapshot's start):
# MySQL 8.4 removed SHOW MASTER STATUS, 8.2 added SHOW BINARY LOG STATUS.
# The listener refuses the statement its version lacks, as that MySQL would.
for v in 8.0.36 8.4.3; do
    capture "status$v" "$v-zetl-capture"
    out=$(timeout 60 "$DUMP" -c "$E2E_DIR/status$v.yaml" -s 2>&1); rc=$?
    wait "$CAP_PID"; crc=$?; CAP_PID=
    t_eq $T "MySQL $v: the position is read (gtid_dump -s exit 0, listener exit 0)" "0 0" "$rc $crc"
    t_match $T "MySQL $v: it is the status row's file and offset" "POSITION binlog.000042:1234" "$out"
    want_stmt="SHOW MASTER STATUS"; [[ $v == 8.4.* ]] && want_stmt="SHOW BINARY LOG STATUS"
    t_eq $T "MySQL $v: the one statement sent is $want_stmt" "QUERY $want_stmt" \
        "$(grep '^QUERY SHOW' "$E2E_DIR/status$v.out")"
done

# ---- (b) the MySQL command to a real MariaDB ---------------------------------------
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: gd
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${ZH_MY_PASSWORD}", databases: [$DB], server_id: 7272}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$DB.%"]}
    apply: {batch_ms: 100}
YAML
out=$(timeout 60 "$DUMP" -c "$E2E_DIR/zetl.yaml" -g "$U62:1-5" 2>&1); rc=$?
t_eq $T "MariaDB refuses COM_BINLOG_DUMP_GTID: gtid_dump exit 3 (no crash, no hang)" 3 "$rc"
t_match $T "the message says the server lacks the command and MariaDB's GTID form" \
    'REFUSED lost=0 source gd: the server does not know COM_BINLOG_DUMP_GTID \(.*error 1047\).*"domain-server-seq"' "$out"
if [[ $out == *"$ZH_MY_PASSWORD"* ]]; then t_fail $T "no password in the output" "no password" "$out"
else t_pass $T "no password in the output"; fi

# ---- (c) a stream started by db_command, read without mariadb_rpl_open -------------
zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; CREATE TABLE $DB.t (id INT PRIMARY KEY, v INT)"
zh_mysql -e "FLUSH BINARY LOGS"
file=$(zh_mysql -e "SHOW MASTER STATUS" | cut -f1)
zh_mysql -e "INSERT INTO $DB.t VALUES (1, 1)"
out=$(timeout 60 "$DUMP" -c "$E2E_DIR/zetl.yaml" -b "$file:4" -u XID 2>&1); rc=$?
t_eq $T "COM_BINLOG_DUMP through db_command streams (exit 0)" 0 "$rc"
t_match $T "the stream opens with ROTATE and FORMAT_DESCRIPTION" $'EVENT ROTATE\nEVENT FORMAT_DESCRIPTION' "$out"
t_match $T "and reaches the row just written, through its XID" "EVENT TABLE_MAP"$'\n'"EVENT WRITE_ROWS[_A-Z0-9]*"$'\n'"EVENT XID" "$out"
out=$(timeout 60 "$DUMP" -c "$E2E_DIR/zetl.yaml" -s 2>&1)
t_eq $T "MariaDB: the position read for bytes behind is SHOW MASTER STATUS's" \
    "POSITION $(zh_mysql -e "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' ':')" "$(grep '^POSITION' <<<"$out")"

# ---- (d) zetl run: a MySQL-form GTID checkpoint on MariaDB --------------------------
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'gd'" >/dev/null 2>&1
e2e_run_start
e2e_wait_match 90 || t_fail $T "initial copy" "zetl verify: match" "$E2E_VERIFY"
e2e_run_stop
t_match $T "a checkpoint was written" ":[0-9]+" \
    "$(zh_psql_tgt -c "SELECT position FROM zetl.checkpoints WHERE integration = 'gd'")"
zh_psql_tgt -c "UPDATE zetl.checkpoints SET position = 'gone-bin.000999:4 gtid=$U62:1-5' WHERE integration = 'gd'" >/dev/null
e2e_run_start
failed() { [ "$(e2e_status_field '.integrations[0].state')" = failed ]; }
t_wait $T "the integration fails" 60 failed
reason=$(e2e_status_field '.integrations[0].reason')
t_match $T "the reason: MySQL form, MariaDB uses domain-server-seq, resync" \
    'gone-bin.000999:4 no longer exists.*GTID set .* is in MySQL form.*MariaDB GTIDs are "domain-server-seq".*resynced' "$reason"
t_eq $T "the reason is one line" 1 "$(printf '%s\n' "$reason" | wc -l)"
t_eq $T "every table is resync_required" "resync_required" \
    "$(e2e_status_field '[.integrations[0].tables[].state] | unique | join(",")')"
t_ok $T "zetl is still running (no crash)" kill -0 "$E2E_PID"
e2e_run_stop
t_eq $T "zetl run stops cleanly afterwards" 0 "$?"
zh_mysql -e "DROP DATABASE IF EXISTS $DB"
t_done
