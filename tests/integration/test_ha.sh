#!/usr/bin/env bash
# test_ha.sh — issue 24: active/standby zetl, fenced by the target. Two
# `zetl run` (members hostA and hostB: one config, a state directory each,
# the target reached through a tcpproxy each) run the same two integrations:
# hamy (MariaDB database ha_my) and hapg (PostgreSQL schema ha_pg), both into
# the harness target. A mixed workload (inserts, counter updates, deletes on
# two keyed tables per source, a few hundred rows/s) runs the whole time.
#   (1) hostA started first is active; hostB started next is `standby` naming
#       hostA and holds no source connection (one Binlog Dump thread, one
#       walsender on the slot: hostA's);
#   (2) kill -9 hostA: hostB takes over within 30 s with epoch + 1, and applies;
#   (3) hostA comes back as standby; SIGSTOP hostB: hostA takes over within
#       30 s; SIGCONT: hostB says it lost the lease within 10 s, is standby,
#       committed nothing after the takeover and lets the sources go;
#   (4) hostA's target link blackholed: hostB takes over within 30 s; healed,
#       hostA says it lost the lease, is standby and committed nothing more;
#   (5) workload stopped: `zetl verify` (as the holder) is an exact match and
#       every table is equal value by value (md5 of the ordered rows), and
#       every write the target committed was the lease holder's at its commit;
#   (6) SIGTERM: each process exits within 2 s.
# Alerts (on: [failover], to tests/tools/http_sink): each takeover sends one
# failover message per integration, from the member that took it over,
# naming the member before it.
# Who committed what: each member's target dsn sets zt.member (options -c);
# deferred constraint triggers (they run at COMMIT) on zetl.checkpoints and
# the four target tables record, for every committed row, that member and
# the holder zetl.leases names at that moment (test schema zt_ha).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/proxy.sh
T=test_ha
MYDB=ha_my                      # MariaDB database, and its target schema (integration hamy)
PGS=ha_pg                       # PostgreSQL source schema, and its target schema (integration hapg)
INTEGS=(hamy hapg)
TAKEOVER=8                      # ha.takeover_seconds
BUDGET=200                      # seconds: a failover step that would start later is not run

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
CFG=$E2E_DIR/zetl.yaml
declare -A PID=([A]='' [B]='') EPOCH=()
LOAD_MY='' LOAD_PG=''
PROXY_A_PID='' PROXY_B_PID=''   # proxy_stop in the clean-up reads them
BROKEN=

# ---- helpers -------------------------------------------------------------------------------
now_ms() { _zh_now_ms; }
note() { echo "# $*" >&2; }
alive() { [ -n "${PID[$1]}" ] && _zh_alive "${PID[$1]}"; }
log_tail() { tail -n 4 "$E2E_DIR/run$1.log" 2>/dev/null; }
log_lines() { if [ -f "$E2E_DIR/run$1.log" ]; then wc -l <"$E2E_DIR/run$1.log"; else echo 0; fi; }

# as_member M CMD...: CMD with member M's environment (state dir, name, target dsn).
as_member() {
    local m=$1 dsn=DSN_$1; shift
    ZETL_TEST_STATE=$E2E_DIR/st$m ZETL_TEST_MEMBER=host$m ZETL_TEST_TGT_DSN=${!dsn} "$@"
}
zstart() {
    local m=$1 dsn=DSN_$1
    ZETL_TEST_STATE=$E2E_DIR/st$m ZETL_TEST_MEMBER=host$m ZETL_TEST_TGT_DSN=${!dsn} \
        "$ZETL" run -c "$CFG" 2>>"$E2E_DIR/run$m.log" &
    PID[$m]=$!
}
zkill() {
    local p=${PID[$1]}
    [ -n "$p" ] || return 0
    kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null
    PID[$1]=
}
# zterm M: SIGTERM; TOOK the ms until it exited (kill -9 after 15 s), TERM_RC its status.
zterm() {
    local p=${PID[$1]} t0 i
    TOOK=0 TERM_RC=none
    [ -n "$p" ] || return 0
    t0=$(now_ms)
    kill -TERM "$p" 2>/dev/null
    for i in $(seq 1 300); do _zh_alive "$p" || break; sleep 0.05; done
    TOOK=$(( $(now_ms) - t0 ))
    _zh_alive "$p" && kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null; TERM_RC=$?
    PID[$1]=
}

# ha_view M: member M's `zetl status --json`, one line per integration:
# name, state, ha.role, ha.holder, ha.epoch, reason, ha.standbys (tab-separated).
ha_view() {
    as_member "$1" "$ZETL" status -c "$CFG" --json 2>>"$E2E_DIR/status.err" |
        jq -r '.integrations[] | [.name, .state, (.ha.role // "-"), (.ha.holder // "-"),
               ((.ha.epoch // "-") | tostring), (.reason // "" | gsub("[\t\n]"; " ")),
               (.ha.standbys // [] | if type == "array" then join(",") else tostring end)] | @tsv' \
        2>>"$E2E_DIR/status.err"
}
VIEW=
# vfield INTEG COL: column COL (1 name … 7 standbys) of INTEG's line in $VIEW
vfield() { awk -F'\t' -v i="$1" -v c="$2" '$1 == i { print $c; exit }' <<<"$VIEW"; }
# view_ok M ROLE HOLDER STATES: in M's status every integration has ha.role ROLE,
# ha.holder HOLDER, a numeric epoch and a state matching the regex STATES.
view_ok() {
    local m=$1 role=$2 holder=$3 states=$4 i
    VIEW=$(ha_view "$m")
    for i in "${INTEGS[@]}"; do
        [[ $(vfield "$i" 2) =~ ^($states)$ ]] || return 1
        [[ $(vfield "$i" 3) == "$role" && $(vfield "$i" 4) == "$holder" ]] || return 1
        [[ $(vfield "$i" 5) =~ ^[0-9]+$ ]] || return 1
    done
}
# wait_view M SECS ROLE HOLDER STATES: 0 once view_ok; 1 timeout, 2 M's process is gone
# (WHY says what was seen last).
wait_view() {
    local m=$1 end=$(( $(now_ms) + $2 * 1000 )); shift 2
    while :; do
        view_ok "$m" "$@" && return 0
        if ! alive "$m"; then WHY="zetl run (host$m) is not running: $(log_tail "$m")"; return 2; fi
        if (( $(now_ms) >= end )); then WHY="host$m status: ${VIEW:-none} $(tail -c 300 "$E2E_DIR/status.err" 2>/dev/null)"; return 1; fi
        sleep 0.2
    done
}
# poll SECS CMD...: run CMD every 0.25 s until it succeeds; 1 at the deadline
poll() {
    local end=$(( $(now_ms) + $1 * 1000 )); shift
    while :; do
        "$@" && return 0
        (( $(now_ms) >= end )) && return 1
        sleep 0.25
    done
}

# Who holds the sources. conn_ports PID PORT: the local ports of PID's TCP links to PORT.
conn_ports() {
    [ -n "$1" ] || return 0
    ss -Htnp state established "( dport = :$2 )" 2>/dev/null |
        awk -v p="pid=$1," 'index($0, p) { n = split($3, a, ":"); print a[n] }'
}
src_conns() { { conn_ports "${PID[$1]}" "$ZH_MY_PORT"; conn_ports "${PID[$1]}" "$ZH_PGSRC_PORT"; } | grep -c .; }
# owners SERVER_PORT: the client ports on stdin named by the member that holds them
# (hostA, hostB, other), sorted, comma-joined
owners() {
    local a b p
    a=" $(conn_ports "${PID[A]}" "$1" | tr '\n' ' ') "
    b=" $(conn_ports "${PID[B]}" "$1" | tr '\n' ' ') "
    while read -r p; do
        [ -n "$p" ] || continue
        if [[ $a == *" $p "* ]]; then echo hostA; elif [[ $b == *" $p "* ]]; then echo hostB; else echo other; fi
    done | sort | paste -sd, -
}
dump_owners() {
    zh_mysql -e "SELECT SUBSTRING_INDEX(HOST, ':', -1) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'" | owners "$ZH_MY_PORT"
}
slot_owner() {
    zh_psql_src -c "SELECT a.client_port FROM pg_replication_slots s JOIN pg_stat_activity a ON a.pid = s.active_pid
                    WHERE s.slot_name = 'zetl_hapg'" | owners "$ZH_PGSRC_PORT"
}
our_walsenders() {
    zh_psql_src -c "SELECT client_port FROM pg_stat_activity WHERE backend_type = 'walsender'" |
        owners "$ZH_PGSRC_PORT" | tr , '\n' | grep -v '^other$' | paste -sd, -
}
no_src() { alive "$1" && [ "$(src_conns "$1")" = 0 ]; }
# src_free_for M SECS: M runs and holds no source connection at every sample over SECS s
src_free_for() {
    local end=$(( $(now_ms) + $2 * 1000 )) n
    while :; do
        alive "$1" || { WHY="zetl run (host$1) is not running: $(log_tail "$1")"; return 1; }
        n=$(src_conns "$1")
        [ "$n" = 0 ] || { WHY="$n link(s) to the sources: $(ss -Htnp state established 2>/dev/null | grep "pid=${PID[$1]}," | awk '{print $3 "->" $4}' | paste -sd' ' -)"; return 1; }
        (( $(now_ms) >= end )) && return 0
        sleep 0.25
    done
}
# holds_sources M: the holder's source links are what ss shows: binlog dump and slot are M's
holds_sources() {
    [ "$(dump_owners)" = "host$1" ] && [ "$(slot_owner)" = "host$1" ] && [ "$(our_walsenders)" = "host$1" ]
}
sources_say() { echo "binlog dump threads: '$(dump_owners)', slot zetl_hapg: '$(slot_owner)', our walsenders: '$(our_walsenders)'"; }

# The audit of committed writes (zt_ha.writes).
audit_mark() { zh_psql_tgt -c "SELECT coalesce(max(id), 0) FROM zt_ha.writes" 2>/dev/null || echo 0; }
writes() {   # M INTEG SINCE_ID: rows hostM committed for INTEG after SINCE_ID
    zh_psql_tgt -c "SELECT count(*) FROM zt_ha.writes WHERE member = 'host$1' AND integration = '$2' AND id > $3" 2>&1
}
# applies M SINCE_ID: M runs both integrations (state active) and committed rows of each after SINCE_ID
applies() {
    local i
    view_ok "$1" active "host$1" active || return 1
    for i in "${INTEGS[@]}"; do [ "$(writes "$1" "$i" "$2")" -gt 0 ] 2>/dev/null || return 1; done
}
lease_row() { zh_psql_tgt -c "SELECT holder || '|' || pid || '|' || epoch FROM zetl.leases WHERE integration = '$1'" 2>&1; }
# sqlite M SQL: on member M's state log
sqlite() { sqlite3 -cmd '.timeout 3000' "$E2E_DIR/st$1/zetl.db" "$2" 2>&1; }
# lost_said M LINE MS: for each integration, "lost the lease" on M's stderr after line LINE,
# or in its state log's events since MS
lost_said() {
    local i
    for i in "${INTEGS[@]}"; do
        tail -n +"$(($2 + 1))" "$E2E_DIR/run$1.log" 2>/dev/null | grep -q "$i: .*lost the lease" && continue
        [ "$(sqlite "$1" "SELECT count(*) FROM events WHERE integration = '$i' AND message LIKE '%lost the lease%' AND at >= $3")" -gt 0 ] 2>/dev/null && continue
        return 1
    done
}
# batches_since M MS: batches M's state log records applied at or after MS
batches_since() {
    sqlite "$1" "SELECT count(*) FROM activity WHERE integration IN ('hamy', 'hapg') AND at >= $2
                 AND transactions + inserted + updated + deleted > 0"
}

# gate WHAT: false (with one failure saying why) when an earlier step broke this one's
# premise, or the time budget is spent.
gate() {
    if [ -n "$BROKEN" ]; then t_fail $T "$1" "run" "not run: $BROKEN"; return 1; fi
    if ((SECONDS > BUDGET)); then t_fail $T "$1" "run within the test's time budget" "not run: ${SECONDS}s elapsed"; return 1; fi
}

# takeover CTX NEW T_FAULT: NEW (the standby) holds the lease within 30 s of T_FAULT,
# with the epoch one above the last; zetl.leases says so. Sets EPOCH; false when no takeover.
takeover() {
    local ctx=$1 m=$2 t0=$3 took i rc=0
    wait_view "$m" 30 active "host$m" '.*' || rc=$?
    took=$(( $(now_ms) - t0 ))
    if ((rc != 0)); then
        t_fail $T "$ctx: host$m takes the lease within 30 s" "ha.role active, holder host$m" "$WHY"
        BROKEN="$ctx: host$m did not take over"
        return 1
    fi
    if ((took < 30000)); then t_pass $T "$ctx: host$m took the lease of both integrations in ${took} ms (< 30 s)"
    else t_fail $T "$ctx: host$m takes the lease within 30 s" "< 30000 ms" "${took} ms"; fi
    note "$ctx: takeover by host$m after $took ms"
    for i in "${INTEGS[@]}"; do
        t_eq $T "$ctx: $i's epoch grew by one" "$((EPOCH[$i] + 1))" "$(vfield "$i" 5)"
        EPOCH[$i]=$(vfield "$i" 5)
        t_eq $T "$ctx: zetl.leases names host$m, its pid and the epoch for $i" \
            "host$m|${PID[$m]}|${EPOCH[$i]}" "$(lease_row "$i")"
    done
}

# ---- the workload -----------------------------------------------------------------------------
# gen_load SCHEMA: one transaction about every 40 ms until $E2E_DIR/go goes: 3 inserts
# (new ids from 100000), 7 counter updates (old and new rows, a hot row), 2 deletes.
gen_load() {
    local s=$1 i=0 id r
    while [ -e "$E2E_DIR/go" ]; do
        i=$((i + 1)); id=$((100000 + 2 * i)); r=$((RANDOM % 2000 + 1))
        echo "BEGIN;
INSERT INTO $s.a (id, n, s) VALUES ($id, 0, 'a$id'), ($((id + 1)), 0, 'a$((id + 1))');
INSERT INTO $s.b (id, n, s) VALUES ($id, 0, 'b$id');
UPDATE $s.a SET n = n + 1 WHERE id = $((RANDOM % 2000 + 1));
UPDATE $s.a SET n = n + 1 WHERE id = $((id - 2 * (RANDOM % 50)));
UPDATE $s.b SET n = n + 1 WHERE id BETWEEN $r AND $((r + 3));
UPDATE $s.b SET n = n + 1 WHERE id = 1;
DELETE FROM $s.a WHERE id = $((RANDOM % 2000 + 2));
DELETE FROM $s.b WHERE id = $((100000 + 2 * (RANDOM % i + 1)));
COMMIT;"
        sleep 0.04
    done
}
workload_start() {
    touch "$E2E_DIR/go"
    gen_load "$MYDB" | zh_mysql "$MYDB" >>"$E2E_DIR/load-my.log" 2>&1 &
    LOAD_MY=$!
    gen_load "$PGS" | zh_psql_src >>"$E2E_DIR/load-pg.log" 2>&1 &
    LOAD_PG=$!
}
workload_stop() {
    rm -f "$E2E_DIR/go"
    [ -n "$LOAD_MY" ] && wait "$LOAD_MY" 2>/dev/null
    [ -n "$LOAD_PG" ] && wait "$LOAD_PG" 2>/dev/null
    LOAD_MY='' LOAD_PG=''
}

# ---- set-up and clean-up ---------------------------------------------------------------------
TGT_FORGET=(
    "DROP TRIGGER IF EXISTS zt_ha_audit ON zetl.checkpoints"
    "DROP SCHEMA IF EXISTS zt_ha CASCADE"
    "DROP SCHEMA IF EXISTS $MYDB CASCADE"
    "DROP SCHEMA IF EXISTS $PGS CASCADE")
for tb in checkpoints resyncs copy_progress table_shapes leases lease_members; do
    TGT_FORGET+=("DELETE FROM zetl.$tb WHERE integration IN ('hamy', 'hapg')")
done
# forget_all: what the test made, on the three servers (each statement alone: a missing
# table of zetl's fails only its own)
forget_all() {
    local q
    zh_mysql -e "DROP DATABASE IF EXISTS $MYDB" >/dev/null 2>&1
    e2e_pg_drop hapg "$PGS"
    for q in "${TGT_FORGET[@]}"; do zh_psql_tgt -c "SET client_min_messages = warning; $q" >/dev/null 2>&1; done
}
cleanup() {
    local p
    rm -f "$E2E_DIR/go"
    for p in "$LOAD_MY" "$LOAD_PG"; do [ -n "$p" ] && { kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; }; done
    LOAD_MY='' LOAD_PG=''
    zkill A; zkill B
    [ -n "${SINK_PID:-}" ] && { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
    proxy_stop A; proxy_stop B
    forget_all
    e2e_cleanup
}
trap 'cleanup; harness_stop' EXIT

forget_all
zh_mysql -e "CREATE DATABASE $MYDB;
  CREATE TABLE $MYDB.a (id INT PRIMARY KEY, n BIGINT NOT NULL, s VARCHAR(40) NOT NULL);
  CREATE TABLE $MYDB.b (id INT PRIMARY KEY, n BIGINT NOT NULL, s VARCHAR(40) NOT NULL);
  INSERT INTO $MYDB.a SELECT seq, 0, CONCAT('a', seq) FROM $MYDB.seq_1_to_2000;
  INSERT INTO $MYDB.b SELECT seq, 0, CONCAT('b', seq) FROM $MYDB.seq_1_to_2000" ||
    { t_fail $T "set-up" "MariaDB tables" "failed"; t_done; }
zh_psql_src >/dev/null <<SQL || { t_fail $T "set-up" "PostgreSQL tables" "failed"; t_done; }
CREATE SCHEMA $PGS;
CREATE TABLE $PGS.a (id int PRIMARY KEY, n bigint NOT NULL, s varchar(40) NOT NULL);
CREATE TABLE $PGS.b (id int PRIMARY KEY, n bigint NOT NULL, s varchar(40) NOT NULL);
INSERT INTO $PGS.a SELECT g, 0, 'a' || g FROM generate_series(1, 2000) g;
INSERT INTO $PGS.b SELECT g, 0, 'b' || g FROM generate_series(1, 2000) g;
SQL
# The audit: a deferred constraint trigger runs at COMMIT, so a row of zt_ha.writes exists
# only for what committed, with the holder zetl.leases named then. Only sessions that set
# zt.member (this test's zetl) are recorded; a failure to read zetl.leases never fails
# zetl's transaction.
zh_psql_tgt >/dev/null <<'SQL' || { t_fail $T "set-up" "audit schema zt_ha" "failed"; t_done; }
SET client_min_messages = warning;
CREATE SCHEMA zt_ha;
CREATE TABLE zt_ha.writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(),
    integration text, member text NOT NULL, holder text, epoch bigint, tbl text, op text);
CREATE FUNCTION zt_ha.audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE m text := current_setting('zt.member', true); ig text := TG_ARGV[0]; h text; e bigint;
BEGIN
    IF coalesce(m, '') = '' THEN RETURN NULL; END IF;
    IF TG_TABLE_NAME = 'checkpoints' THEN ig := NEW.integration; END IF;
    IF ig IS NULL OR ig NOT IN ('hamy', 'hapg') THEN RETURN NULL; END IF;
    BEGIN
        SELECT l.holder, l.epoch INTO h, e FROM zetl.leases l WHERE l.integration = ig;
    EXCEPTION WHEN OTHERS THEN h := NULL; e := NULL;
    END;
    INSERT INTO zt_ha.writes (integration, member, holder, epoch, tbl, op)
        VALUES (ig, m, h, e, TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP);
    RETURN NULL;
END $$;
SQL
# audit_on: the triggers, once hostA made the target tables
audit_on() {
    local t s
    zh_psql_tgt >/dev/null 2>>"$E2E_DIR/audit.err" <<'SQL' || return 1
CREATE CONSTRAINT TRIGGER zt_ha_audit AFTER INSERT OR UPDATE ON zetl.checkpoints
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION zt_ha.audit();
ALTER TABLE zetl.checkpoints ENABLE ALWAYS TRIGGER zt_ha_audit;
SQL
    for s in "$MYDB:hamy" "$PGS:hapg"; do
        for t in a b; do
            zh_psql_tgt >/dev/null 2>>"$E2E_DIR/audit.err" <<SQL || return 1
CREATE CONSTRAINT TRIGGER zt_ha_audit AFTER INSERT OR UPDATE OR DELETE ON ${s%%:*}.$t
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION zt_ha.audit('${s#*:}');
ALTER TABLE ${s%%:*}.$t ENABLE ALWAYS TRIGGER zt_ha_audit;
SQL
        done
    done
}

SINK=$E2E_DIR/sink
mkdir -p "$SINK"
"${ZETL_BUILD:-build}/tools/http_sink" --dir "$SINK" 2>>"$E2E_DIR/sink.log" &
SINK_PID=$!
for i in $(seq 1 50); do [ -s "$SINK/port" ] && break; sleep 0.1; done
[ -s "$SINK/port" ] || { t_fail $T "http_sink" "listening" "$(cat "$E2E_DIR/sink.log")"; t_done; }
# failover_alerts FROM TO: the failover messages received, one line each
failover_alerts() {
    [ -f "$SINK/requests.jsonl" ] || return 0
    jq -r '.body | fromjson | select(.kind == "failover") | "\(.integration) \(.status) \(.text)"' \
        "$SINK/requests.jsonl" 2>/dev/null
}
# alerted N WHO_FROM: at least N failover messages, and the last two (one per integration)
# say this member took it over from WHO_FROM
alerted() {
    local a; a=$(failover_alerts)
    [ "$(grep -c . <<<"$a")" -ge "$1" ] &&
        [ "$(tail -n 2 <<<"$a" | grep -c "took it over from $2 ")" = 2 ] &&
        [ "$(tail -n 2 <<<"$a" | awk '{print $1}' | sort | paste -sd, -)" = "hamy,hapg" ]
}
proxy_start A "$ZH_PGTGT_PORT" && proxy_start B "$ZH_PGTGT_PORT" ||
    { t_fail $T "proxies" "started" "not started"; t_done; }
DSN_A="host=127.0.0.1 port=$PROXY_A_PORT dbname=zetl user=$ZH_PG_USER password=$ZH_PG_PASSWORD connect_timeout=3 options='-c zt.member=hostA'"
DSN_B="host=127.0.0.1 port=$PROXY_B_PORT dbname=zetl user=$ZH_PG_USER password=$ZH_PG_PASSWORD connect_timeout=3 options='-c zt.member=hostB'"
export E2E_MY_PASSWORD=$ZH_MY_PASSWORD E2E_PG_PASSWORD=$ZH_PG_PASSWORD
cat >"$CFG" <<YAML
state_dir: \${ZETL_TEST_STATE}
ha:
  enabled: true
  member: \${ZETL_TEST_MEMBER}
  takeover_seconds: $TAKEOVER
alerts:
  webhook_url: http://127.0.0.1:$(cat "$SINK/port")/hook
  on: [failover]
integrations:
  - name: hamy
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$MYDB], server_id: 2424}
    target: {kind: postgres, dsn: "\${ZETL_TEST_TGT_DSN}"}
    tables: {include: ["$MYDB.%"]}
    apply: {batch_ms: 100}
  - name: hapg
    source:
      kind: postgres
      host: 127.0.0.1
      port: $ZH_PGSRC_PORT
      user: $ZH_PG_USER
      password: \${E2E_PG_PASSWORD}
      database: zetl
      schemas: [$PGS]
    target:
      kind: postgres
      dsn: "\${ZETL_TEST_TGT_DSN}"
    tables:
      include: ["$PGS.%"]
    apply:
      batch_ms: 100
YAML

workload_start

# ---- (1) A active, B standby without a source connection ---------------------------------------
zstart A
rc=0; wait_view A 45 active hostA active || rc=$?
if ((rc == 0)); then
    t_pass $T "(1) hostA, started first, runs both integrations: state active, ha.role active, holder hostA"
    for i in "${INTEGS[@]}"; do EPOCH[$i]=$(vfield "$i" 5); done
else
    t_fail $T "(1) hostA started first becomes active within 45 s" "state active, ha.role active, holder hostA" "$WHY"
    BROKEN="hostA never became active"
fi
if [ -z "$BROKEN" ]; then
    for i in "${INTEGS[@]}"; do
        t_eq $T "(1) zetl.leases names hostA, its pid and epoch ${EPOCH[$i]} for $i" \
            "hostA|${PID[A]}|${EPOCH[$i]}" "$(lease_row "$i")"
    done
    if audit_on; then t_pass $T "(1) audit triggers on zetl.checkpoints and the four target tables"
    else t_fail $T "(1) audit triggers installed" "created" "$(cat "$E2E_DIR/audit.err")"; fi
    # ss sees the holder's own source links: a standby's zero below means something.
    if poll 15 holds_sources A; then t_pass $T "(1) hostA holds the binlog dump and the slot's walsender (as ss maps them)"
    else t_fail $T "(1) hostA holds the sources (as ss maps them)" "hostA, hostA, hostA" "$(sources_say)"; fi
    zstart B
    rc=0; wait_view B 30 standby hostA standby || rc=$?
    if ((rc == 0)); then
        t_pass $T "(1) hostB, started next, is standby for both integrations (ha.role standby, holder hostA)"
        for i in "${INTEGS[@]}"; do
            t_match $T "(1) hostB's reason for $i names the holder" "hostA" "$(vfield "$i" 6)"
            t_eq $T "(1) hostB's status shows the holder's epoch for $i" "${EPOCH[$i]}" "$(vfield "$i" 5)"
        done
    else
        t_fail $T "(1) hostB started second is standby within 30 s" "state standby, ha.role standby, holder hostA" "$WHY"
        BROKEN="hostB never became standby"
    fi
    if src_free_for B 4; then t_pass $T "(1) standby hostB holds no source connection (sampled for 4 s)"
    else t_fail $T "(1) standby hostB holds no source connection" "no TCP link to MariaDB or the PostgreSQL source" "$WHY"; fi
    if poll 10 holds_sources A; then t_pass $T "(1) exactly one Binlog Dump thread and one walsender on zetl_hapg, both hostA's"
    else t_fail $T "(1) exactly one binlog dump and one walsender, hostA's" "hostA, hostA, hostA" "$(sources_say)"; fi
    standbys_ok() { view_ok A active hostA active && [[ $(vfield hamy 7) == *hostB* && $(vfield hapg 7) == *hostB* ]]; }
    if poll 15 standbys_ok; then t_pass $T "(1) hostA's status lists hostB among the standbys"
    else t_fail $T "(1) hostA's ha.standbys" "[\"hostB\"]" "${VIEW:-none}"; fi
    t_eq $T "(1) standby hostB committed nothing in the target" "0|0" \
        "$(writes B hamy 0)|$(writes B hapg 0)"
fi

# ---- (2) kill -9 the active: the standby takes over ---------------------------------------------
if gate "(2) kill -9 of the active"; then
    mark=$(audit_mark); t0=$(now_ms)
    zkill A
    if takeover "(2) hostA killed (-9)" B "$t0"; then
        if poll 30 applies B "$mark"; then t_pass $T "(2) hostB applies both integrations (active, commits in the target)"
        else t_fail $T "(2) hostB applies after the takeover" "active, new commits of hamy and hapg" "${VIEW:-none}; commits: $(writes B hamy "$mark")/$(writes B hapg "$mark")"; fi
        if poll 10 alerted 2 hostA; then t_pass $T "(2) a failover alert per integration: hostB took it over from hostA"
        else t_fail $T "(2) failover alerts" "2 messages (hamy, hapg) 'took it over from hostA'" "$(failover_alerts | tail -n 3)"; fi
    fi
fi

# ---- (3) SIGSTOP the active: the other takes over; SIGCONT: it lost the lease ----------------------
if gate "(3) SIGSTOP of the active"; then
    zstart A
    rc=0; wait_view A 30 standby hostB standby || rc=$?
    if ((rc == 0)); then t_pass $T "(3) hostA, restarted, is standby naming hostB"
    else t_fail $T "(3) hostA restarted is standby" "ha.role standby, holder hostB" "$WHY"; BROKEN="hostA did not come back as standby"; fi
    if src_free_for A 2; then t_pass $T "(3) restarted hostA holds no source connection"
    else t_fail $T "(3) restarted hostA holds no source connection" "none" "$WHY"; fi
fi
if gate "(3) SIGSTOP of the active (takeover)"; then
    t0=$(now_ms)
    kill -STOP "${PID[B]}"
    if takeover "(3) hostB frozen (SIGSTOP)" A "$t0"; then
        mark=$(audit_mark)               # hostA's epoch is committed: nothing of hostB's may follow
        # While hostB stays frozen (a host powered off): its walsender still holds the
        # PostgreSQL slot and its binlog dump thread still runs; hostA must stream anyway.
        left=$(( 30 - ($(now_ms) - t0) / 1000 )); ((left < 1)) && left=1
        if poll "$left" applies A "$mark"; then
            t_pass $T "(3) hostA applies both integrations within 30 s of the freeze, hostB still frozen ($(( $(now_ms) - t0 )) ms)"
        else
            t_fail $T "(3) hostA applies within 30 s of the freeze, hostB still frozen" "active, new commits of hamy and hapg" \
                "${VIEW:-none}; commits: $(writes A hamy "$mark")/$(writes A hapg "$mark"); $(sources_say); $(log_tail A)"
        fi
        if poll 10 alerted 4 hostB; then t_pass $T "(3) a failover alert per integration: hostA took it over from hostB"
        else t_fail $T "(3) failover alerts" "4 messages in all, the last two 'took it over from hostB'" "$(failover_alerts | tail -n 3)"; fi
        ln=$(log_lines B); tc=$(now_ms)
        kill -CONT "${PID[B]}"
        if poll 12 lost_said B "$ln" "$tc"; then t_pass $T "(3) resumed (SIGCONT), hostB says it lost the lease within 10 s, for both integrations"
        else t_fail $T "(3) hostB says it lost the lease" "\"lost the lease\" (stderr or state log) for hamy and hapg" "$(tail -n +"$((ln + 1))" "$E2E_DIR/runB.log" | tail -n 4)"; fi
        rc=0; wait_view B 15 standby hostA standby || rc=$?
        if ((rc == 0)); then t_pass $T "(3) hostB is standby again, naming hostA"
        else t_fail $T "(3) hostB is standby after SIGCONT" "ha.role standby, holder hostA" "$WHY"; fi
        if poll 15 no_src B; then t_pass $T "(3) demoted hostB lets the sources go"
        else t_fail $T "(3) demoted hostB holds no source connection" "none" "$(src_conns B) link(s)"; fi
        if poll 30 applies A "$mark"; then t_pass $T "(3) hostA applies both integrations"
        else t_fail $T "(3) hostA applies after the takeover" "active, new commits of hamy and hapg" "${VIEW:-none}; commits: $(writes A hamy "$mark")/$(writes A hapg "$mark"); $(sources_say)"; fi
        t_eq $T "(3) hostB committed nothing in the target after hostA took over (hamy|hapg)" "0|0" \
            "$(writes B hamy "$mark")|$(writes B hapg "$mark")"
        t_eq $T "(3) hostB's state log records no batch applied after it resumed" "0" "$(batches_since B $((tc + 500)))"
        n=$(batches_since A $((tc + 500)))
        if [ "$n" -gt 0 ] 2>/dev/null; then t_pass $T "(3) (control) hostA's state log does record batches applied since then ($n)"
        else t_fail $T "(3) (control) hostA's state log records batches" "> 0" "$n"; fi
    fi
fi

# ---- (4) the active's target link cut: the other takes over; healed, it lost the lease ---------------
if gate "(4) network cut of the active"; then
    ln=$(log_lines A); t0=$(now_ms)
    proxy_blackhole A
    if takeover "(4) hostA's target link blackholed" B "$t0"; then
        mark=$(audit_mark)
        proxy_heal A
        if poll 45 lost_said A "$ln" "$t0"; then t_pass $T "(4) hostA says it lost the lease, for both integrations"
        else t_fail $T "(4) hostA says it lost the lease" "\"lost the lease\" (stderr or state log) for hamy and hapg" "$(tail -n +"$((ln + 1))" "$E2E_DIR/runA.log" | tail -n 4)"; fi
        rc=0; wait_view A 45 standby hostB standby || rc=$?
        if ((rc == 0)); then t_pass $T "(4) healed: hostA is standby, naming hostB"
        else t_fail $T "(4) healed hostA is standby" "ha.role standby, holder hostB" "$WHY"; fi
        if poll 15 no_src A; then t_pass $T "(4) demoted hostA lets the sources go"
        else t_fail $T "(4) demoted hostA holds no source connection" "none" "$(src_conns A) link(s)"; fi
        if poll 30 applies B "$mark"; then t_pass $T "(4) hostB applies both integrations"
        else t_fail $T "(4) hostB applies after the takeover" "active, new commits of hamy and hapg" "${VIEW:-none}; commits: $(writes B hamy "$mark")/$(writes B hapg "$mark"); $(sources_say)"; fi
        if poll 10 alerted 6 hostA; then t_pass $T "(4) a failover alert per integration: hostB took it over from hostA"
        else t_fail $T "(4) failover alerts" "6 messages in all, the last two 'took it over from hostA'" "$(failover_alerts | tail -n 3)"; fi
        t_eq $T "(4) hostA committed nothing in the target after hostB took over (hamy|hapg)" "0|0" \
            "$(writes A hamy "$mark")|$(writes A hapg "$mark")"
        t_eq $T "(4) hostA's state log records no batch applied after the cut" "0" "$(batches_since A $((t0 + 500)))"
        n=$(batches_since B $((t0 + 500)))
        if [ "$n" -gt 0 ] 2>/dev/null; then t_pass $T "(4) (control) hostB's state log does record batches applied since then ($n)"
        else t_fail $T "(4) (control) hostB's state log records batches" "> 0" "$n"; fi
    else
        proxy_heal A
    fi
fi

# ---- (5) the end state: exact -----------------------------------------------------------------
# The holder is whoever the steps left active (hostB when all ran); otherwise any live member.
holder=
for m in B A; do view_ok "$m" active "host$m" active && { holder=$m; break; }; done
[ -z "$holder" ] && for m in B A; do alive "$m" && { holder=$m; break; }; done
note "holder at the end: ${holder:-none}; ${SECONDS}s elapsed"
workload_ok=yes
_zh_alive "$LOAD_MY" || workload_ok="MariaDB client gone: $(tail -c 300 "$E2E_DIR/load-my.log")"
_zh_alive "$LOAD_PG" || workload_ok="psql gone: $(tail -c 300 "$E2E_DIR/load-pg.log")"
t_eq $T "(5) the workload ran through every step" "yes" "$workload_ok"
workload_stop
VERIFY=
wait_match() {   # M SECS: `zetl verify` as member M until it reports an exact match
    local end=$(( $(now_ms) + $2 * 1000 ))
    while :; do
        VERIFY=$(as_member "$1" "$ZETL" verify -c "$CFG" 2>&1) && return 0
        (( $(now_ms) >= end )) && return 1
        alive "$1" || return 1
        sleep 1
    done
}
if [ -n "$holder" ] && wait_match "$holder" 90; then t_pass $T "(5) zetl verify (as host$holder) reports an exact match for both integrations"
else t_fail $T "(5) zetl verify reports an exact match" "zetl verify: match" "${holder:-no holder}: $VERIFY"; fi
my_md5() { zh_mysql -e "SET SESSION group_concat_max_len = 1073741824;
    SELECT CONCAT(COUNT(*), ' ', MD5(COALESCE(GROUP_CONCAT(CONCAT_WS('|', id, n, s) ORDER BY id SEPARATOR ','), ''))) FROM $MYDB.$1" 2>&1; }
pg_md5() { "$1" -c "SELECT count(*) || ' ' || md5(coalesce(string_agg(concat_ws('|', id, n, s), ',' ORDER BY id), '')) FROM $2.$3" 2>&1; }
for t in a b; do
    t_eq $T "(5) $MYDB.$t: rows and md5 of every value equal in source and target" "$(my_md5 $t)" "$(pg_md5 zh_psql_tgt $MYDB $t)"
    t_eq $T "(5) $PGS.$t: rows and md5 of every value equal in source and target" "$(pg_md5 zh_psql_src $PGS $t)" "$(pg_md5 zh_psql_tgt $PGS $t)"
done
note "rows: $MYDB.a $(my_md5 a | cut -d' ' -f1), $PGS.a $(pg_md5 zh_psql_src $PGS a | cut -d' ' -f1)"
audited=$(zh_psql_tgt -c "SELECT count(*) FROM zt_ha.writes" 2>&1)
stray=$(zh_psql_tgt -c "SELECT coalesce(string_agg(DISTINCT member || ' under ' || coalesce(holder, 'no lease') || ' (' || integration || ')', ', '), '')
                        FROM zt_ha.writes WHERE holder IS DISTINCT FROM member" 2>&1)
if [ "$audited" -gt 0 ] 2>/dev/null && [ -z "$stray" ]; then
    t_pass $T "(5) each of the $audited rows the target committed was written by the lease holder of that moment"
else t_fail $T "(5) only the lease holder committed" "audited rows > 0, none by a non-holder" "$audited rows; by a non-holder: $stray"; fi
if [ -n "$holder" ] && poll 10 holds_sources "$holder"; then t_pass $T "(5) at the end exactly one binlog dump and one walsender, the holder's (host$holder)"
else t_fail $T "(5) at the end the holder alone holds the sources" "host${holder:-?} for all" "$(sources_say)"; fi

# ---- (6) SIGTERM: each exits within 2 s --------------------------------------------------------
for m in $holder A B; do
    [ -n "${PID[$m]}" ] || continue
    if ! alive "$m"; then t_fail $T "(6) host$m still runs at the end" "running" "exited: $(log_tail "$m")"; zkill "$m"; continue; fi
    zterm "$m"
    if ((TOOK <= 2500)); then t_pass $T "(6) SIGTERM: host$m exited within 2 s (${TOOK} ms, exit $TERM_RC)"
    else t_fail $T "(6) SIGTERM answered in time (host$m)" "<= 2000 ms (+500 ms for the machine)" "${TOOK} ms"; fi
done

# Alerts: one failover message per takeover and integration (the three planned ones, and
# any a loaded machine added: each raises the epoch), none twice, none from a member about
# itself, none "resolved".
if [ -z "$BROKEN" ]; then
    al=$(failover_alerts)
    n=$(grep -c . <<<"$al")
    raises=$(zh_psql_tgt -c "SELECT coalesce(sum(epoch - 1), 0) FROM zetl.leases WHERE integration IN ('hamy', 'hapg')" 2>&1)
    # "INTEG firing … this process (S) took it over from F (lease epoch E)" -> "INTEG S F E"
    parsed=$(sed -nE 's/^([a-z]+) firing .*this process \(([^)]*)\) took it over from ([^ ]+) \(lease epoch ([0-9]+)\).*/\1 \2 \3 \4/p' <<<"$al")
    if ((n >= 6)) && [ "$(grep -c . <<<"$parsed")" = "$n" ] && ((n <= raises)) &&
        [ -z "$(awk '$2 == $3' <<<"$parsed")" ] && [ -z "$(awk '{print $1, $4}' <<<"$parsed" | sort | uniq -d)" ]; then
        t_pass $T "failover alerts: $n (the 6 planned ones at least, at most the $raises epoch raises), all firing, none twice, none about the sender itself"
    else
        t_fail $T "failover alerts: one per takeover" ">= 6, <= $raises epoch raises, distinct (integration, epoch), sender != previous holder" \
            "$n: $(tr '\n' '|' <<<"$al" | cut -c1-900)"
    fi
fi

# ---- nothing left behind ---------------------------------------------------------------------------
cleanup
leftover=$(zh_psql_src -c "SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'zetl_hapg' OR slot_name LIKE 'zetl\_hapg\_%')
                            + (SELECT count(*) FROM pg_publication WHERE pubname = 'zetl_hapg')
                            + (SELECT count(*) FROM pg_namespace WHERE nspname = '$PGS')" 2>&1)
leftover+=" $(zh_psql_tgt -c "SELECT count(*) FROM pg_namespace WHERE nspname IN ('$MYDB', '$PGS', 'zt_ha')" 2>&1)"
leftover+=" $(zh_psql_tgt -c "SELECT count(*) FROM zetl.checkpoints WHERE integration IN ('hamy', 'hapg')" 2>/dev/null || echo 0)"
leftover+=" $(zh_psql_tgt -c "SELECT count(*) FROM pg_trigger WHERE tgname = 'zt_ha_audit'" 2>&1)"
leftover+=" $(zh_psql_tgt -c "SELECT count(*) FROM zetl.leases WHERE integration IN ('hamy', 'hapg')" 2>/dev/null || echo 0)"
leftover+=" $(zh_mysql -e "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$MYDB'" 2>&1)"
t_eq $T "clean-up leaves nothing (source slot/publication/schema, target schemas, checkpoints, triggers, leases, MariaDB database)" \
    "0 0 0 0 0 0" "$leftover"
t_done
