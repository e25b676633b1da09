# shellcheck shell=bash
#
# harness.sh — real MariaDB and PostgreSQL servers for zetl's tests, benchmarks
# and `zetl demo`, on free loopback ports in one temporary directory.
#
#   source tests/lib/harness.sh
#   harness_start [mariadb] [pgsrc] [pgtgt]    # default: all three, in parallel
#   ... zh_mysql -e 'SELECT 1'; zh_psql_src -c 'SELECT 1' ...
#   harness_stop                               # also runs on EXIT/INT/TERM/HUP
#
# What it starts (all on 127.0.0.1, sockets inside $ZH_DIR):
#   mariadb  mariadbd (Debian's mariadb-server) with log_bin, binlog_format=ROW,
#            binlog_row_image=FULL, binlog_row_metadata=FULL, binlog_checksum=CRC32,
#            server_id=1, gtid_strict_mode; the binlog is reset after set-up, so it
#            starts clean. root has no password and is reachable only through the
#            socket; zetl@% / zetl@127.0.0.1 / zetl@localhost have ZH_MY_PASSWORD and
#            ALL PRIVILEGES ON *.* WITH GRANT OPTION (SET GLOBAL, REPLICATION …).
#   pgsrc    PostgreSQL 15 source cluster: wal_level=logical, 20 slots/senders.
#   pgtgt    PostgreSQL 15 target cluster (wal_level default), a separate cluster.
#            In both: superuser zetl (ZH_PG_PASSWORD, scram-sha-256 over TCP,
#            `host replication` allowed from 127.0.0.1/32), database zetl owned by
#            zetl; unix-socket connections are trusted (the socket is mode 0700).
#
# Environment exported by harness_start:
#   ZH_DIR            the temporary directory (removed by harness_stop unless ZH_KEEP=1)
#   ZH_HOST           127.0.0.1
#   ZH_MY_PORT ZH_MY_SOCKET ZH_MY_DATADIR ZH_MY_USER(=zetl) ZH_MY_PASSWORD ZH_MY_LOG
#   ZH_PGSRC_PORT ZH_PGSRC_DATADIR ZH_PGSRC_SOCKDIR ZH_PGSRC_DSN ZH_PGSRC_LOG
#   ZH_PGTGT_PORT ZH_PGTGT_DATADIR ZH_PGTGT_SOCKDIR ZH_PGTGT_DSN ZH_PGTGT_LOG
#   ZH_PG_USER(=zetl) ZH_PG_PASSWORD
#   ZH_PG_BINDIR      PostgreSQL server binaries (default: newest /usr/lib/postgresql/*/bin)
#   ZH_COMPONENTS     which servers run, e.g. "mariadb pgsrc pgtgt"
#   ZH_OWNER_PID      the shell that owns (and will stop) the servers
#   ZH_*_DSN are libpq key=value strings: host port dbname=zetl user password.
#   $ZH_DIR/env holds the same as `export` lines, for a debugging shell.
#
# Reuse: when ZH_DIR etc. are already exported by a live parent (tests/run.sh
# starts the servers once), harness_start reuses them and harness_stop leaves them
# running; tests isolate themselves with their own databases/schemas.
#
# Helpers (usable in an owning or a reusing shell):
#   zh_mysql [args]          mariadb client as root via the socket, -N -B; SQL on stdin ok
#   zh_mysql_zetl [args]     mariadb client as zetl over TCP (password auth)
#   zh_psql_src [args] / zh_psql_tgt [args]
#                            psql -X -q -A -t -v ON_ERROR_STOP=1 as zetl to db zetl (socket)
#   zh_restart_mariadb       stop (if running) and start again on the same port
#   zh_stop_mariadb / zh_start_mariadb / zh_mariadb_kill9
#   zh_stop_pg src|tgt / zh_start_pg src|tgt / zh_pg_kill9 src|tgt
#                            outage tests: the server comes back on the same port
#   zh_unset_env             forget an inherited harness (a subshell can then start its own)
#
# Knobs: ZH_KEEP=1 keep the directory (servers are still stopped);
#        ZH_TIMEOUT start-up deadline per server in seconds (default 60);
#        ZH_STOP_TIMEOUT fast-shutdown deadline before SIGKILL (default 15);
#        ZH_QUIET=1 no progress lines on stderr; ZH_PASSWORD fixes both passwords;
#        ZH_MY_EXTRA_CNF lines appended to the [mariadbd] section (benchmarks:
#        "innodb_buffer_pool_size = 1G"); ZH_PG_EXTRA_CONF lines appended to both
#        PostgreSQL clusters' settings ("shared_buffers = 512MB").
#
# As root, the servers run as the system users mysql and postgres (PostgreSQL
# refuses root); as anyone else they run as that user. A watchdog stops the
# servers if the owning shell dies without running its traps (e.g. SIGKILL).
# The library sets no shell options; it works under `set -euo pipefail`.
# harness_start owns the EXIT/INT/TERM/HUP traps of the starting shell. An EXIT
# trap the script set *before* harness_start is kept and run after the stop; one
# set after it replaces the harness's (then call harness_stop from it yourself).

# The newest installed PostgreSQL server (15 on Debian 12).
_zh_default_pg_bindir() {
    local d best=
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb ]] || continue
        if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n1) == "$d" ]]; then
            best=$d
        fi
    done
    echo "${best:-/usr/lib/postgresql/15/bin}"
}
ZH_PG_BINDIR=${ZH_PG_BINDIR:-$(_zh_default_pg_bindir)}
_ZH_LIB=${BASH_SOURCE[0]}
case $_ZH_LIB in /*) ;; *) _ZH_LIB=$PWD/$_ZH_LIB ;; esac

_zh_say() { [[ ${ZH_QUIET:-0} == 1 ]] || printf 'harness: %s\n' "$*" >&2; }
_zh_err() { printf 'harness: error: %s\n' "$*" >&2; }

# Millisecond clock (bash 5 has EPOCHREALTIME).
_zh_now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#${t:0:-3})); }

# _zh_alive PID: true when PID exists and is not a zombie.
_zh_alive() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# _zh_wait_reaped PID SECS: wait until a dead PID is gone from the process
# table. A zombie's pid still answers kill -0, which PostgreSQL's lock-file
# check takes for a live postmaster; some container inits reap slowly.
_zh_wait_reaped() {
    local pid=$1 end=$(($(_zh_now_ms) + $2 * 1000))
    while kill -0 "$pid" 2>/dev/null; do
        _zh_alive "$pid" && return 1
        (($(_zh_now_ms) < end)) || return 1
        sleep 0.05
    done
}

# _zh_as_server KIND CMD...: run CMD as the account that owns server KIND.
_zh_as_server() {
    local kind=$1; shift
    if [[ $EUID -ne 0 ]]; then "$@"; return; fi
    local u=postgres; [[ $kind == mariadb ]] && u=mysql
    if command -v setpriv >/dev/null 2>&1; then
        HOME=$ZH_DIR setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
    else
        HOME=$ZH_DIR runuser -u "$u" -- "$@"
    fi
}

# ---------------------------------------------------------------- ports

_zh_port_busy() {
    local p=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -Htan "( sport = :$p )" 2>/dev/null) ]] && return 0
        return 1
    fi
    # No ss: a successful connect means someone listens.
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
}

# _zh_pick_port [EXCLUDE...]: a free port below the ephemeral range.
_zh_pick_port() {
    local lo=20000 hi=60000 eph_lo _ p i
    if read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null \
       && ((eph_lo > lo + 2000)); then
        hi=$((eph_lo - 1))
    fi
    for ((i = 0; i < 200; i++)); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
        [[ " $* " == *" $p "* ]] && continue
        _zh_port_busy "$p" || { echo "$p"; return 0; }
    done
    _zh_err "no free port found in $lo-$hi"
    return 1
}

# ---------------------------------------------------------------- mariadb

_zh_my_cnf() {
    local d=$ZH_DIR/my port=$1
    cat >"$d/my.cnf" <<EOF
[mariadbd]
datadir                        = $d/data
socket                         = $d/mysql.sock
port                           = $port
bind-address                   = 127.0.0.1
pid-file                       = $d/mariadbd.pid
log-error                      = $d/error.log
tmpdir                         = $d/tmp
secure-file-priv               = $d/tmp
log-bin                        = binlog
binlog_format                  = ROW
binlog_row_image               = FULL
binlog_row_metadata            = FULL
binlog_checksum                = CRC32
server_id                      = 1
gtid_strict_mode               = ON
skip-name-resolve
skip-external-locking
character_set_server           = utf8mb4
max_connections                = 200
max_allowed_packet             = 64M
performance_schema             = OFF
innodb_buffer_pool_size        = 64M
innodb_log_file_size           = 48M
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite             = 0
innodb_use_native_aio          = 0
sync_binlog                    = 0
EOF
    if [[ -n ${ZH_MY_EXTRA_CNF:-} ]]; then
        printf '# ZH_MY_EXTRA_CNF\n%s\n' "$ZH_MY_EXTRA_CNF" >>"$d/my.cnf"
    fi
}

# _zh_my_launch: start mariadbd detached (its own session, so a terminal's
# Ctrl-C reaches our traps first) and wait until it answers or dies.
_zh_my_launch() {
    local d=$ZH_DIR/my deadline pid='' ping_ok=0
    local -a userarg=()
    [[ $EUID -eq 0 ]] && userarg=(--user=mysql)
    rm -f "$d/launch.pid"
    : >>"$d/error.log"
    local mark; mark=$(wc -c <"$d/error.log")
    # shellcheck disable=SC2016  # $$ and $1 belong to the inner sh
    (cd "$d" && setsid -f sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$d/launch.pid" \
        mariadbd --defaults-file="$d/my.cnf" "${userarg[@]}" \
        </dev/null >>"$d/error.log" 2>&1)
    deadline=$(($(_zh_now_ms) + ${ZH_TIMEOUT:-60} * 1000))
    while (($(_zh_now_ms) < deadline)); do
        [[ -z $pid && -s $d/launch.pid ]] && pid=$(cat "$d/launch.pid")
        if mariadb-admin --no-defaults -S "$d/mysql.sock" -uroot --connect-timeout=2 \
             ping >/dev/null 2>&1; then
            ping_ok=1; break
        fi
        if [[ -n $pid ]] && ! _zh_alive "$pid"; then break; fi
        sleep 0.1
    done
    if ((ping_ok)); then return 0; fi
    if tail -c +"$((mark + 1))" "$d/error.log" | grep -qiE 'address already in use|already another server running'; then
        return 2                            # port taken: caller retries elsewhere
    fi
    [[ -n $pid ]] && _zh_alive "$pid" && kill -9 "$pid" 2>/dev/null
    _zh_err "mariadbd did not become ready within ${ZH_TIMEOUT:-60}s; last lines of $d/error.log:"
    tail -n 30 "$d/error.log" >&2
    return 1
}

_zh_start_mariadb() {
    local d=$ZH_DIR/my port=$1 attempt rc
    mkdir -p "$d/data" "$d/tmp"
    chmod 0750 "$d"
    [[ $EUID -eq 0 ]] && chown -R mysql:mysql "$d"
    _zh_my_cnf "$port"
    local -a userarg=()
    [[ $EUID -eq 0 ]] && userarg=(--user=mysql)
    if ! (cd "$d" && mariadb-install-db --defaults-file="$d/my.cnf" "${userarg[@]}" \
            --auth-root-authentication-method=normal --skip-test-db \
            --skip-name-resolve </dev/null >"$d/install.log" 2>&1); then
        _zh_err "mariadb-install-db failed; last lines of $d/install.log:"
        tail -n 30 "$d/install.log" >&2
        return 1
    fi
    for attempt in 1 2 3 4 5; do
        rc=0; _zh_my_launch || rc=$?
        [[ $rc -eq 0 ]] && break
        [[ $rc -eq 2 && $attempt -lt 5 ]] || return 1
        port=$(_zh_pick_port "$port") || return 1
        _zh_say "mariadb: port taken, retrying on $port"
        _zh_my_cnf "$port"
    done
    if ! mariadb --no-defaults -S "$d/mysql.sock" -uroot -N -B >"$d/setup.log" 2>&1 <<EOF
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE USER 'zetl'@'%'         IDENTIFIED BY '$ZH_MY_PASSWORD';
CREATE USER 'zetl'@'127.0.0.1' IDENTIFIED BY '$ZH_MY_PASSWORD';
CREATE USER 'zetl'@'localhost' IDENTIFIED BY '$ZH_MY_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'zetl'@'%'         WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'zetl'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'zetl'@'localhost' WITH GRANT OPTION;
RESET MASTER;
EOF
    then
        _zh_err "mariadb set-up SQL failed:"; cat "$d/setup.log" >&2
        return 1
    fi
    echo "$port" >"$d/port"
}

# ---------------------------------------------------------------- postgresql

# _zh_pg_conf WHICH PORT: (re)write the harness's settings file for one cluster.
_zh_pg_conf() {
    local which=$1 port=$2 d=$ZH_DIR/pg$1
    {
        echo "port = $port"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$d'"
        echo "unix_socket_permissions = 0700"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        echo "shared_buffers = 32MB"
        echo "max_connections = 100"
        echo "password_encryption = scram-sha-256"
        echo "logging_collector = off"
        echo "log_line_prefix = '%m [%p] %q%u@%d '"
        echo "max_wal_size = 256MB"
        echo "dynamic_shared_memory_type = posix"
        if [[ $which == src ]]; then
            echo "wal_level = logical"
            echo "max_replication_slots = 20"
            echo "max_wal_senders = 20"
        fi
        if [[ -n ${ZH_PG_EXTRA_CONF:-} ]]; then
            printf '# ZH_PG_EXTRA_CONF\n%s\n' "$ZH_PG_EXTRA_CONF"
        fi
    } >"$d/data/zetl_harness.conf"
}

# _zh_pg_launch WHICH: pg_ctl start (waits for readiness), then pg_isready.
_zh_pg_launch() {
    local which=$1 d=$ZH_DIR/pg$1 port mark rc=0 deadline oldpid=
    port=$(sed -n 's/^port = //p' "$d/data/zetl_harness.conf")
    # A crashed or stopped postmaster that is still a zombie: its lock file would
    # block the start; once it is surely dead, the lock file is stale.
    if [[ -s $d/data/postmaster.pid ]]; then
        read -r oldpid <"$d/data/postmaster.pid" || true
        if [[ $oldpid =~ ^[0-9]+$ ]] && ! _zh_alive "$oldpid"; then
            _zh_wait_reaped "$oldpid" 5 || rm -f "$d/data/postmaster.pid"
        fi
    fi
    : >>"$d/postgres.log"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$d/postgres.log"
    mark=$(wc -c <"$d/postgres.log")
    (cd "$d" && _zh_as_server pg "$ZH_PG_BINDIR/pg_ctl" -D "$d/data" -l "$d/postgres.log" \
        -w -t "${ZH_TIMEOUT:-60}" start </dev/null >"$d/pg_ctl.log" 2>&1) || rc=$?
    if [[ $rc -eq 0 ]]; then
        deadline=$(($(_zh_now_ms) + ${ZH_TIMEOUT:-60} * 1000))
        while (($(_zh_now_ms) < deadline)); do
            "$ZH_PG_BINDIR/pg_isready" -q -h "$d" -p "$port" -U zetl -d zetl -t 2 && return 0
            sleep 0.1
        done
    fi
    if tail -c +"$((mark + 1))" "$d/postgres.log" | grep -qiE 'could not bind|address already in use'; then
        return 2
    fi
    _zh_err "PostgreSQL ($which) did not become ready within ${ZH_TIMEOUT:-60}s; last lines of $d/postgres.log:"
    cat "$d/pg_ctl.log" >&2
    tail -n 30 "$d/postgres.log" >&2
    return 1
}

_zh_start_pg() {
    local which=$1 port=$2 d=$ZH_DIR/pg$1 attempt rc
    mkdir -p "$d"
    chmod 0750 "$d"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$d"
    printf '%s\n' "$ZH_PG_PASSWORD" >"$d/pwfile"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$d/pwfile"
    chmod 0600 "$d/pwfile"
    if ! (cd "$d" && _zh_as_server pg "$ZH_PG_BINDIR/initdb" -D "$d/data" -U zetl \
            --pwfile="$d/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
            -E UTF8 --locale=C.UTF-8 --no-sync </dev/null >"$d/initdb.log" 2>&1); then
        _zh_err "initdb ($which) failed; last lines of $d/initdb.log:"
        tail -n 30 "$d/initdb.log" >&2
        rm -f "$d/pwfile"
        return 1
    fi
    rm -f "$d/pwfile"
    cat >"$d/data/pg_hba.conf" <<'EOF'
# zetl test harness: trusted unix socket (mode 0700), passwords over TCP.
local   all           all                       trust
local   replication   all                       trust
host    all           all       127.0.0.1/32    scram-sha-256
host    replication   all       127.0.0.1/32    scram-sha-256
EOF
    echo "include = 'zetl_harness.conf'" >>"$d/data/postgresql.conf"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$d/data/pg_hba.conf" "$d/data/postgresql.conf"
    for attempt in 1 2 3 4 5; do
        _zh_pg_conf "$which" "$port"
        [[ $EUID -eq 0 ]] && chown postgres:postgres "$d/data/zetl_harness.conf"
        rc=0; _zh_pg_launch "$which" || rc=$?
        [[ $rc -eq 0 ]] && break
        [[ $rc -eq 2 && $attempt -lt 5 ]] || return 1
        port=$(_zh_pick_port "$port") || return 1
        _zh_say "pg$which: port taken, retrying on $port"
    done
    if ! "$ZH_PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$d" -p "$port" -U zetl -d postgres \
            -c "CREATE DATABASE zetl OWNER zetl" >"$d/setup.log" 2>&1; then
        _zh_err "PostgreSQL ($which) set-up failed:"; cat "$d/setup.log" >&2
        return 1
    fi
    echo "$port" >"$d/port"
}

# ---------------------------------------------------------------- teardown

# _zh_server_pids DIR: "pid" lines of every server living in DIR.
_zh_server_pids() {
    local dir=$1 f pid
    for f in "$dir/my/launch.pid" "$dir/my/mariadbd.pid" "$dir"/pg*/data/postmaster.pid; do
        [[ -s $f ]] || continue
        read -r pid <"$f" || true
        _zh_alive "$pid" && echo "$pid"
    done | sort -u
}

# _zh_kill_wait SIG PIDS...: signal, then wait up to ZH_STOP_TIMEOUT; SIGKILL what is left.
_zh_kill_wait() {
    local sig=$1; shift
    local -a pids=("$@") kids=() left
    local p deadline
    ((${#pids[@]})) || return 0
    for p in "${pids[@]}"; do
        # PostgreSQL backends outlive a SIGKILLed postmaster for a moment.
        mapfile -t -O "${#kids[@]}" kids < <(pgrep -P "$p" 2>/dev/null || true)
        kill "-$sig" "$p" 2>/dev/null || true
    done
    deadline=$(($(_zh_now_ms) + ${ZH_STOP_TIMEOUT:-15} * 1000))
    while :; do
        left=()
        for p in "${pids[@]}"; do _zh_alive "$p" && left+=("$p"); done
        ((${#left[@]})) || break
        if (($(_zh_now_ms) >= deadline)); then
            _zh_err "server pid(s) ${left[*]} ignored SIG$sig for ${ZH_STOP_TIMEOUT:-15}s; sending SIGKILL"
            kill -9 "${left[@]}" "${kids[@]}" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
    # Orphaned backends: give them a moment, then make sure.
    for p in "${kids[@]}"; do _zh_alive "$p" && kill -9 "$p" 2>/dev/null; done
    return 0
}

# _zh_teardown_dir DIR: stop every server in DIR (fast shutdown: SIGTERM for
# mariadbd, SIGINT for the postmaster), then remove DIR unless ZH_KEEP=1.
_zh_teardown_dir() {
    local dir=$1 f pid
    local -a my=() pg=()
    [[ -n $dir && -d $dir ]] || return 0
    for f in "$dir/my/launch.pid" "$dir/my/mariadbd.pid"; do
        [[ -s $f ]] || continue
        read -r pid <"$f" || true
        _zh_alive "$pid" && my+=("$pid")
    done
    for f in "$dir"/pg*/data/postmaster.pid; do
        [[ -s $f ]] || continue
        read -r pid <"$f" || true
        _zh_alive "$pid" && pg+=("$pid")
    done
    ((${#my[@]})) && kill -TERM "${my[@]}" 2>/dev/null
    _zh_kill_wait INT "${pg[@]}"
    _zh_kill_wait TERM "${my[@]}"
    if [[ ${ZH_KEEP:-0} == 1 ]]; then
        printf 'harness: kept %s (ZH_KEEP=1)\n' "$dir" >&2
    else
        rm -rf "$dir"
    fi
}

# The watchdog: a detached shell that tears DIR down when the owner dies
# without running its traps (SIGKILL, OOM). harness_stop kills it first.
_zh_watchdog_start() {
    local owner=$1
    # shellcheck disable=SC2016  # expanded by the watchdog shell
    setsid -f bash -c '
        echo $$ >"$3/watchdog.pid"
        source "$1"; owner=$2; dir=$3
        trap "" INT HUP
        while [[ -d $dir ]] && _zh_alive "$owner"; do sleep 1; done
        [[ -d $dir ]] && _zh_teardown_dir "$dir"
        exit 0' zh-watchdog "$_ZH_LIB" "$owner" "$ZH_DIR" </dev/null >/dev/null 2>&1
}

_zh_watchdog_stop() {
    local pid=
    [[ -s $ZH_DIR/watchdog.pid ]] && read -r pid <"$ZH_DIR/watchdog.pid"
    [[ -n $pid ]] && _zh_alive "$pid" && kill "$pid" 2>/dev/null
    rm -f "$ZH_DIR/watchdog.pid"
    return 0
}

# ---------------------------------------------------------------- public API

_ZH_EXPORTS=(ZH_DIR ZH_HOST ZH_COMPONENTS ZH_OWNER_PID ZH_PG_BINDIR
    ZH_MY_PORT ZH_MY_SOCKET ZH_MY_DATADIR ZH_MY_USER ZH_MY_PASSWORD ZH_MY_LOG
    ZH_PGSRC_PORT ZH_PGSRC_DATADIR ZH_PGSRC_SOCKDIR ZH_PGSRC_DSN ZH_PGSRC_LOG
    ZH_PGTGT_PORT ZH_PGTGT_DATADIR ZH_PGTGT_SOCKDIR ZH_PGTGT_DSN ZH_PGTGT_LOG
    ZH_PG_USER ZH_PG_PASSWORD)

zh_unset_env() {
    local bindir=${ZH_PG_BINDIR:-$(_zh_default_pg_bindir)}
    unset "${_ZH_EXPORTS[@]}" _ZH_OWNER _ZH_PREV_EXIT_TRAP _ZH_START_JOBS
    ZH_PG_BINDIR=$bindir
}

# _zh_export_component C: set and export the variables of component C from ZH_DIR.
_zh_export_component() {
    case $1 in
    mariadb)
        export ZH_MY_PORT; ZH_MY_PORT=$(cat "$ZH_DIR/my/port")
        export ZH_MY_SOCKET=$ZH_DIR/my/mysql.sock ZH_MY_DATADIR=$ZH_DIR/my/data
        export ZH_MY_LOG=$ZH_DIR/my/error.log ZH_MY_USER=zetl ;;
    pgsrc|pgtgt)
        local up=PGSRC port; [[ $1 == pgtgt ]] && up=PGTGT
        port=$(cat "$ZH_DIR/$1/port")
        printf -v "ZH_${up}_PORT" '%s' "$port"
        printf -v "ZH_${up}_DATADIR" '%s' "$ZH_DIR/$1/data"
        printf -v "ZH_${up}_SOCKDIR" '%s' "$ZH_DIR/$1"
        printf -v "ZH_${up}_LOG" '%s' "$ZH_DIR/$1/postgres.log"
        printf -v "ZH_${up}_DSN" '%s' "host=127.0.0.1 port=$port dbname=zetl user=zetl password=$ZH_PG_PASSWORD"
        export "ZH_${up}_PORT" "ZH_${up}_DATADIR" "ZH_${up}_SOCKDIR" "ZH_${up}_LOG" "ZH_${up}_DSN"
        export ZH_PG_USER=zetl ;;
    esac
}

_zh_write_env() {
    local v
    for v in "${_ZH_EXPORTS[@]}"; do
        [[ -n ${!v:-} ]] && printf 'export %s=%q\n' "$v" "${!v}"
    done >"$ZH_DIR/env"
    chmod 0600 "$ZH_DIR/env"                # it holds the passwords
}

_zh_on_exit() {
    local rc=$? prev=${_ZH_PREV_EXIT_TRAP:-}
    harness_stop
    if [[ -n $prev ]]; then eval "$prev"; fi
    return "$rc"
}

_zh_on_signal() {
    local sig=$1 code=$2
    trap - "$sig"
    harness_stop
    exit "$code"
}

# shellcheck disable=SC2120  # `set --` below parses the old trap, not arguments
_zh_install_traps() {
    local prev
    prev=$(trap -p EXIT)
    # In a subshell `trap -p` shows the parent's trap, which does not run here.
    if [[ $BASHPID == "$$" && -n $prev && $prev != *_zh_on_exit* ]]; then
        eval "set -- ${prev#trap -- }"
        _ZH_PREV_EXIT_TRAP=$1
    fi
    trap _zh_on_exit EXIT
    trap '_zh_on_signal INT 130' INT
    trap '_zh_on_signal TERM 143' TERM
    trap '_zh_on_signal HUP 129' HUP
}

# harness_start [mariadb] [pgsrc] [pgtgt]
# shellcheck disable=SC2120  # no arguments means all three servers
harness_start() {
    local -a want=("$@") todo=() jobs_=() names=()
    local c i rc=0 t0 base
    ((${#want[@]})) || want=(mariadb pgsrc pgtgt)
    for c in "${want[@]}"; do
        case $c in mariadb|pgsrc|pgtgt) ;; *) _zh_err "unknown server '$c' (mariadb, pgsrc, pgtgt)"; return 1 ;; esac
    done

    # Servers exported by a live parent: reuse them.
    if [[ -n ${ZH_DIR:-} && ${ZH_OWNER_PID:-} != "$BASHPID" && -z ${_ZH_OWNER:-} ]]; then
        local missing=0
        for c in "${want[@]}"; do [[ " ${ZH_COMPONENTS:-} " == *" $c "* ]] || missing=1; done
        if [[ -d $ZH_DIR ]] && kill -0 "${ZH_OWNER_PID:-0}" 2>/dev/null && ((missing == 0)); then
            return 0
        fi
        _zh_say "inherited harness ${ZH_DIR} is gone or lacks a server; starting a private one"
        zh_unset_env
    fi

    t0=$(_zh_now_ms)
    if [[ -z ${_ZH_OWNER:-} ]]; then
        zh_unset_env
        for c in mariadb-install-db mariadbd mariadb mariadb-admin setsid pgrep; do
            command -v "$c" >/dev/null 2>&1 || { _zh_err "$c not found (run: make deps)"; return 1; }
        done
        [[ -x $ZH_PG_BINDIR/initdb ]] || { _zh_err "$ZH_PG_BINDIR/initdb not found (run: make deps)"; return 1; }
        base=${TMPDIR:-/tmp}
        # Unix socket paths are limited to 107 bytes.
        ((${#base} <= 60)) && [[ -d $base && -w $base ]] || base=/tmp
        ZH_DIR=$(mktemp -d "$base/zh.XXXXXX") || return 1
        chmod 0755 "$ZH_DIR"
        _ZH_OWNER=$BASHPID
        export ZH_DIR ZH_OWNER_PID=$BASHPID ZH_HOST=127.0.0.1 ZH_COMPONENTS='' ZH_PG_BINDIR
        if [[ -n ${ZH_PASSWORD:-} ]]; then
            ZH_MY_PASSWORD=$ZH_PASSWORD; ZH_PG_PASSWORD=$ZH_PASSWORD
        else
            ZH_MY_PASSWORD=zetl-my-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
            ZH_PG_PASSWORD=zetl-pg-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
        fi
        export ZH_MY_PASSWORD ZH_PG_PASSWORD
        # shellcheck disable=SC2119
        _zh_install_traps
        _zh_watchdog_start "$BASHPID"
    elif [[ $_ZH_OWNER != "$BASHPID" ]]; then
        _zh_err "harness_start: this harness belongs to shell $_ZH_OWNER, not this subshell"
        return 1
    fi

    for c in "${want[@]}"; do
        [[ " $ZH_COMPONENTS " == *" $c "* ]] || todo+=("$c")
    done
    ((${#todo[@]})) || return 0

    # Distinct ports up front, then start every server in parallel.
    local -a ports=()
    for c in "${todo[@]}"; do
        ports+=("$(_zh_pick_port "${ports[@]}")") || { harness_stop; return 1; }
    done
    for i in "${!todo[@]}"; do
        c=${todo[$i]}
        case $c in
        mariadb) _zh_start_mariadb "${ports[$i]}" & ;;
        pgsrc)   _zh_start_pg src "${ports[$i]}" & ;;
        pgtgt)   _zh_start_pg tgt "${ports[$i]}" & ;;
        esac
        jobs_+=($!); names+=("$c")
    done
    _ZH_START_JOBS=${jobs_[*]}
    for i in "${!jobs_[@]}"; do
        if wait "${jobs_[$i]}"; then
            ZH_COMPONENTS=${ZH_COMPONENTS:+$ZH_COMPONENTS }${names[$i]}
            _zh_export_component "${names[$i]}"
        else
            rc=1; _zh_err "${names[$i]} failed to start"
        fi
    done
    _ZH_START_JOBS=
    export ZH_COMPONENTS
    if ((rc)); then
        harness_stop
        return 1
    fi
    _zh_write_env
    _zh_say "started ${todo[*]} in $(( $(_zh_now_ms) - t0 )) ms (dir $ZH_DIR)"
}

# harness_stop: stop and remove what this shell started; a no-op for a shell
# that reuses a parent's servers, and when nothing runs. Idempotent.
harness_stop() {
    [[ -n ${_ZH_OWNER:-} && $_ZH_OWNER == "$BASHPID" && -n ${ZH_DIR:-} ]] || return 0
    local dir=$ZH_DIR
    _zh_watchdog_stop
    # A start-up still running in the background (signal during harness_start).
    local p prev=${_ZH_PREV_EXIT_TRAP:-}
    for p in ${_ZH_START_JOBS:-}; do kill "$p" 2>/dev/null || true; done
    _zh_teardown_dir "$dir"
    zh_unset_env
    trap - INT TERM HUP
    if [[ -n $prev ]]; then trap -- "$prev" EXIT; else trap - EXIT; fi
    return 0
}

# ---------------------------------------------------------------- helpers

zh_mysql() {
    mariadb --no-defaults -S "$ZH_MY_SOCKET" -uroot -N -B "$@"
}

zh_mysql_zetl() {
    MYSQL_PWD=$ZH_MY_PASSWORD mariadb --no-defaults -h 127.0.0.1 -P "$ZH_MY_PORT" \
        -u zetl -N -B "$@"
}

zh_psql_src() {
    "$ZH_PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$ZH_PGSRC_SOCKDIR" \
        -p "$ZH_PGSRC_PORT" -U zetl -d zetl "$@"
}

zh_psql_tgt() {
    "$ZH_PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$ZH_PGTGT_SOCKDIR" \
        -p "$ZH_PGTGT_PORT" -U zetl -d zetl "$@"
}

_zh_my_pid() {
    local f pid
    for f in "$ZH_DIR/my/launch.pid" "$ZH_DIR/my/mariadbd.pid"; do
        [[ -s $f ]] || continue
        read -r pid <"$f" || true
        _zh_alive "$pid" && { echo "$pid"; return 0; }
    done
    return 1
}

zh_stop_mariadb() {
    local pid
    pid=$(_zh_my_pid) || return 0
    _zh_kill_wait TERM "$pid"
}

zh_start_mariadb() {
    local rc=0
    _zh_my_pid >/dev/null && return 0
    _zh_my_launch || rc=$?
    ((rc == 0)) || { _zh_err "mariadb did not start again on port $ZH_MY_PORT"; return 1; }
}

zh_restart_mariadb() {
    zh_stop_mariadb && zh_start_mariadb
}

# zh_mariadb_kill9: crash the server (no shutdown at all); zh_start_mariadb brings it back.
zh_mariadb_kill9() {
    local pid
    pid=$(_zh_my_pid) || return 0
    kill -9 "$pid" 2>/dev/null || true
    while _zh_alive "$pid"; do sleep 0.02; done
}

_zh_pg_which() {
    case ${1:-} in
    src|pgsrc) echo src ;;
    tgt|pgtgt) echo tgt ;;
    *) _zh_err "expected src or tgt, got '${1:-}'"; return 1 ;;
    esac
}

_zh_pg_pid() {
    local f=$ZH_DIR/pg$1/data/postmaster.pid pid
    [[ -s $f ]] || return 1
    read -r pid <"$f" || true
    _zh_alive "$pid" && echo "$pid"
}

# zh_stop_pg src|tgt: fast shutdown, waits until the postmaster is gone.
zh_stop_pg() {
    local w pid
    w=$(_zh_pg_which "${1:-}") || return 1
    pid=$(_zh_pg_pid "$w") || return 0
    _zh_kill_wait INT "$pid"
}

# zh_start_pg src|tgt: start again on the same port, wait until it accepts connections.
zh_start_pg() {
    local w
    w=$(_zh_pg_which "${1:-}") || return 1
    _zh_pg_pid "$w" >/dev/null && return 0
    _zh_pg_launch "$w" || { _zh_err "PostgreSQL ($w) did not start again"; return 1; }
}

# zh_pg_kill9 src|tgt: SIGKILL the postmaster (crash); zh_start_pg recovers it.
zh_pg_kill9() {
    local w pid
    w=$(_zh_pg_which "${1:-}") || return 1
    pid=$(_zh_pg_pid "$w") || return 0
    local -a kids=()
    mapfile -t kids < <(pgrep -P "$pid" 2>/dev/null || true)
    kill -9 "$pid" "${kids[@]}" 2>/dev/null || true
    while _zh_alive "$pid"; do sleep 0.02; done
}
