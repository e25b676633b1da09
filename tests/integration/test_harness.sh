#!/usr/bin/env bash
#
# test_harness.sh — proves tests/lib/harness.sh: three distinct, correctly
# configured servers; password logins over TCP; a replication connection; the
# outage helpers; and that a private harness is torn down on normal exit, on a
# failure under set -e, and on SIGINT. Runs standalone or under tests/run.sh
# (then it reuses the runner's servers for the first part).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lib=$here/../lib
# shellcheck source=SCRIPTDIR/../lib/harness.sh
source "$lib/harness.sh"
# shellcheck source=SCRIPTDIR/../lib/assert.sh
source "$lib/assert.sh"

T=harness
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT          # set before harness_start, which chains it
harness_start
PSQL=$ZH_PG_BINDIR/psql

# ---------------------------------------------------------------- distinct servers
t_ne "$T" "source and target PostgreSQL listen on different ports" "$ZH_PGSRC_PORT" "$ZH_PGTGT_PORT"
t_ne "$T" "MariaDB and source PostgreSQL listen on different ports" "$ZH_MY_PORT" "$ZH_PGSRC_PORT"
t_ne "$T" "MariaDB and target PostgreSQL listen on different ports" "$ZH_MY_PORT" "$ZH_PGTGT_PORT"
src_dd=$(zh_psql_src -c 'SHOW data_directory')
tgt_dd=$(zh_psql_tgt -c 'SHOW data_directory')
t_eq "$T" "source PostgreSQL runs from ZH_PGSRC_DATADIR" "$ZH_PGSRC_DATADIR" "$src_dd"
t_eq "$T" "target PostgreSQL runs from ZH_PGTGT_DATADIR" "$ZH_PGTGT_DATADIR" "$tgt_dd"
src_id=$(zh_psql_src -c 'SELECT system_identifier FROM pg_control_system()')
tgt_id=$(zh_psql_tgt -c 'SELECT system_identifier FROM pg_control_system()')
t_ne "$T" "source and target are different clusters (system identifier)" "$src_id" "$tgt_id"
t_eq "$T" "MariaDB runs from ZH_MY_DATADIR" "$ZH_MY_DATADIR/" "$(zh_mysql -e 'SELECT @@datadir')"

# ---------------------------------------------------------------- MariaDB settings
my_vars=$(zh_mysql -e "SELECT CONCAT_WS(' ', @@log_bin, @@binlog_format, @@binlog_row_image,
                        @@binlog_row_metadata, @@binlog_checksum, @@port, @@bind_address)")
t_eq "$T" "MariaDB log_bin binlog_format binlog_row_image binlog_row_metadata binlog_checksum port bind_address" \
    "ON ROW FULL FULL CRC32 $ZH_MY_PORT 127.0.0.1" "$my_vars"
server_id=$(zh_mysql -e 'SELECT @@server_id')
t_match "$T" "MariaDB server_id is set (non-zero)" '^[1-9][0-9]*$' "$server_id"
t_match "$T" "MariaDB is 10.5 or newer (binlog_row_metadata exists)" '^(10\.([5-9]|1[0-9])|1[1-9])\.' \
    "$(zh_mysql -e 'SELECT @@version')"

# ---------------------------------------------------------------- PostgreSQL settings
t_eq "$T" "source PostgreSQL wal_level" logical "$(zh_psql_src -c 'SHOW wal_level')"
t_eq "$T" "source PostgreSQL max_replication_slots" 20 "$(zh_psql_src -c 'SHOW max_replication_slots')"
t_eq "$T" "source PostgreSQL max_wal_senders" 20 "$(zh_psql_src -c 'SHOW max_wal_senders')"
t_eq "$T" "target PostgreSQL keeps the default wal_level" replica "$(zh_psql_tgt -c 'SHOW wal_level')"
t_eq "$T" "source PostgreSQL listens on 127.0.0.1 only" 127.0.0.1 "$(zh_psql_src -c 'SHOW listen_addresses')"
t_eq "$T" "database zetl is owned by zetl (source)" zetl \
    "$(zh_psql_src -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'zetl'")"
t_eq "$T" "zetl is a superuser (target)" t "$(zh_psql_tgt -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'zetl'")"

# ---------------------------------------------------------------- logins over TCP
my_tcp() { MYSQL_PWD=$1 mariadb --no-defaults -h 127.0.0.1 -P "$ZH_MY_PORT" -u zetl -N -B -e "$2"; }
pg_tcp() {
    PGPASSWORD=$2 PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -A -t -w -v ON_ERROR_STOP=1 \
        "host=127.0.0.1 port=$1 dbname=zetl user=zetl" -c "$3"
}
t_eq "$T" "MariaDB: zetl logs in over TCP with its password" "zetl@127.0.0.1" \
    "$(my_tcp "$ZH_MY_PASSWORD" 'SELECT CURRENT_USER()' 2>&1)"
t_fails "$T" "MariaDB: a wrong password is refused" my_tcp "wrong-$ZH_MY_PASSWORD" 'SELECT 1'
t_eq "$T" "source PostgreSQL: zetl logs in over TCP with its password" "zetl" \
    "$(pg_tcp "$ZH_PGSRC_PORT" "$ZH_PG_PASSWORD" 'SELECT current_user' 2>&1)"
t_fails "$T" "source PostgreSQL: a wrong password is refused" pg_tcp "$ZH_PGSRC_PORT" "wrong" 'SELECT 1'
t_eq "$T" "target PostgreSQL: zetl logs in over TCP with its password" "zetl" \
    "$(pg_tcp "$ZH_PGTGT_PORT" "$ZH_PG_PASSWORD" 'SELECT current_user' 2>&1)"
t_fails "$T" "target PostgreSQL: a wrong password is refused" pg_tcp "$ZH_PGTGT_PORT" "wrong" 'SELECT 1'
t_eq "$T" "ZH_PGTGT_DSN connects" "1" "$("$PSQL" -X -A -t -w "$ZH_PGTGT_DSN" -c 'SELECT 1' 2>&1)"
t_eq "$T" "zh_mysql_zetl connects as zetl" "zetl@127.0.0.1" "$(zh_mysql_zetl -e 'SELECT CURRENT_USER()' 2>&1)"

# ---------------------------------------------------------------- replication rights
ident=$(PGPASSWORD=$ZH_PG_PASSWORD "$PSQL" -X -A -t -w \
    "host=127.0.0.1 port=$ZH_PGSRC_PORT dbname=zetl user=zetl replication=database" \
    -c 'IDENTIFY_SYSTEM' 2>&1 || true)
t_match "$T" "source PostgreSQL accepts a replication connection over TCP (IDENTIFY_SYSTEM)" \
    "^${src_id}\|1\|[0-9A-F]+/[0-9A-F]+\|zetl$" "$ident"
grants=$(zh_mysql_zetl -e 'SHOW GRANTS' 2>&1 | head -n1)
t_match "$T" "MariaDB: zetl has ALL PRIVILEGES ON *.* WITH GRANT OPTION" \
    "GRANT ALL PRIVILEGES ON \*\.\* TO .zetl.@.127\.0\.0\.1.*WITH GRANT OPTION" "$grants"
t_match "$T" "MariaDB: zetl can read the binlog position (SHOW MASTER STATUS)" \
    '^binlog\.[0-9]{6}[[:space:]]+[0-9]+' "$(zh_mysql_zetl -e 'SHOW MASTER STATUS' 2>&1)"
t_ok "$T" "MariaDB: zetl may SET GLOBAL (binlog_row_image, restored)" \
    zh_mysql_zetl -e "SET GLOBAL binlog_row_image = 'MINIMAL'; SET GLOBAL binlog_row_image = 'FULL'"
t_eq "$T" "MariaDB: binlog_row_image back to FULL" FULL "$(zh_mysql -e 'SELECT @@GLOBAL.binlog_row_image')"

# ---------------------------------------------------------------- outage helpers
zh_stop_pg tgt
t_fails "$T" "zh_stop_pg tgt: the target refuses connections" \
    "$ZH_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$ZH_PGTGT_PORT" -t 2
zh_start_pg tgt
t_eq "$T" "zh_start_pg tgt: the target is back on the same port with its data" "$tgt_id" \
    "$(pg_tcp "$ZH_PGTGT_PORT" "$ZH_PG_PASSWORD" 'SELECT system_identifier FROM pg_control_system()' 2>&1)"
zh_pg_kill9 src
t_fails "$T" "zh_pg_kill9 src: the source is down" \
    "$ZH_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$ZH_PGSRC_PORT" -t 2
zh_start_pg src
t_eq "$T" "zh_start_pg src after a crash: the source recovers on the same port" logical \
    "$(pg_tcp "$ZH_PGSRC_PORT" "$ZH_PG_PASSWORD" 'SHOW wal_level' 2>&1)"
zh_mysql -e 'CREATE DATABASE IF NOT EXISTS zh_selftest; CREATE TABLE IF NOT EXISTS zh_selftest.t (id int primary key);
             REPLACE INTO zh_selftest.t VALUES (1)'
zh_restart_mariadb
t_eq "$T" "zh_restart_mariadb: back on the same port with its data" 1 \
    "$(my_tcp "$ZH_MY_PASSWORD" 'SELECT COUNT(*) FROM zh_selftest.t' 2>&1)"
zh_mariadb_kill9
t_fails "$T" "zh_mariadb_kill9: MariaDB is down" my_tcp "$ZH_MY_PASSWORD" 'SELECT 1'
zh_start_mariadb
# (Two queries: MariaDB 10.11 reports @@log_bin as 0 next to an aggregate.)
t_eq "$T" "zh_start_mariadb after a crash: recovered with its data and log_bin" "1 1" \
    "$(my_tcp "$ZH_MY_PASSWORD" 'SELECT COUNT(*) FROM zh_selftest.t' 2>&1) $(my_tcp "$ZH_MY_PASSWORD" 'SELECT @@log_bin' 2>&1)"
zh_mysql -e 'DROP DATABASE zh_selftest'

# ---------------------------------------------------------------- reuse by a child
child=$(bash -c 'source "$1"; harness_start; echo "$ZH_DIR $ZH_MY_PORT"; harness_stop' _ "$lib/harness.sh" 2>&1)
t_eq "$T" "a child shell reuses the exported servers" "$ZH_DIR $ZH_MY_PORT" "$child"
t_ok "$T" "servers still run after the reusing child's harness_stop" \
    "$ZH_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$ZH_PGSRC_PORT" -t 2

# ---------------------------------------------------------------- teardown of a private harness

# leftovers DIR: processes and listening ports that still belong to a torn-down harness.
leftovers() {
    local dir=$1 out=
    [[ -e $dir ]] && out+="dir exists; "
    local procs; procs=$(pgrep -f -- "$dir" | tr '\n' ' ' || true)
    [[ -n $procs ]] && out+="pids $procs; "
    local p
    local -a ports=()
    read -r -a ports <"$scratch/ports" 2>/dev/null || true
    for p in "${ports[@]}"; do
        [[ -n $(ss -Htln "( sport = :$p )" 2>/dev/null) ]] && out+="port $p listening; "
    done
    printf '%s' "${out:-none}"
}

# private_start [SERVERS]: in a subshell, forget the inherited harness, start a
# private one, record its directory and ports.
private_start() {
    zh_unset_env
    ZH_QUIET=1 harness_start "$@"
    echo "$ZH_DIR" >"$scratch/dir"
    echo "${ZH_MY_PORT:-} ${ZH_PGSRC_PORT:-} ${ZH_PGTGT_PORT:-}" >"$scratch/ports"
}

# (a) normal exit
# set -e is void inside `( ) || …`, so run each subshell as a plain command.
set +e
( set -euo pipefail; private_start; exit 0 ); rc=$?
set -e
d=$(cat "$scratch/dir")
t_eq "$T" "teardown on normal exit: the subshell exits 0" 0 "$rc"
t_ne "$T" "teardown on normal exit: the private harness had its own directory" "$ZH_DIR" "$d"
t_eq "$T" "teardown on normal exit: directory removed, no server process or port left" none "$(leftovers "$d")"

# (b) failure under set -e
rm -f "$scratch/dir"
set +e
( set -euo pipefail; private_start mariadb pgtgt; false; echo unreachable ); rc=$?
set -e
d=$(cat "$scratch/dir")
t_eq "$T" "teardown on failure: the subshell exits 1 from 'false' under set -e" 1 "$rc"
t_eq "$T" "teardown on failure: directory removed, no server process or port left" none "$(leftovers "$d")"

# (c) SIGINT, as a terminal's Ctrl-C delivers it: to the job's whole process group.
rm -f "$scratch/dir"; rc=0
set -m
( set -euo pipefail; private_start; touch "$scratch/ready"; while :; do sleep 0.2; done ) &
job=$!
set +m
for _ in $(seq 1 300); do [[ -e $scratch/ready ]] && break; sleep 0.1; done
if [[ -e $scratch/ready ]]; then
    kill -INT -- "-$job"
    wait "$job" || rc=$?
    d=$(cat "$scratch/dir")
    t_eq "$T" "teardown on SIGINT: the subshell exits 130" 130 "$rc"
    t_eq "$T" "teardown on SIGINT: directory removed, no server process or port left" none "$(leftovers "$d")"
else
    kill -TERM -- "-$job" 2>/dev/null || true
    wait "$job" || true
    t_fail "$T" "teardown on SIGINT: the private harness started" "ready within 30s" "no ready file"
fi

# The shared servers survived all of it.
t_ok "$T" "the first harness is untouched by the private ones" zh_mysql -e 'SELECT 1'

t_done
