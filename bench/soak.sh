#!/usr/bin/env bash
# bench/soak.sh — zetl's soak run (issue 8, item 5), behind `make soak MINUTES=N`.
#
#   bench/soak.sh [--minutes N] [--ha]  (minutes default: $MINUTES, else 10)
#
# On the test harness's real servers (tests/lib/harness.sh), one config with
# two integrations — MariaDB → PostgreSQL (soak_my) and PostgreSQL →
# PostgreSQL (soak_pg) — runs under `zetl run` for N minutes while:
#   - a mixed workload writes to both sources without pause: transactions of
#     1–5 random inserts, updates, deletes, primary-key changes and upserts
#     over keyed, composite-key and (PostgreSQL) keyless tables, and now and
#     then (every 25th batch of 40) transactions updating every row of the
#     keyed table and of a table of 12,000 1 KB rows (~12–24 MB of changes:
#     with apply.memory_mb 16 they spill to the spool; the summary counts
#     the spool files seen);
#   - zetl is killed with SIGKILL after a random 3–25 s and started again;
#   - the initial copies go in chunks of 2,000 rows (copy_chunk_rows), and
#     about one interruption in ten asks for a resync of a keyed table (of
#     either integration) and kills zetl 0.5–3 s later, in the middle of its
#     chunked copy, then starts it again: the copy resumes from its
#     committed chunks (counted: "kills during a chunked copy");
#   - about one interruption in four restarts the target server instead
#     (zh_stop_pg tgt, down 1–5 s, zh_start_pg tgt) while zetl keeps running;
#   - every link zetl has (to MariaDB, to the PostgreSQL source, to the target)
#     goes through a fault relay (tests/tools/tcpproxy): about one interruption
#     in five blackholes one link (half-open: no FIN, no RST) for 5–45 s and
#     then heals it, and one in ten resets one (RST). While a link is frozen,
#     zetl is stopped with SIGTERM half of the time and must exit within 2 s
#     (a slower stop is counted and fails the soak).
# Then the workload stops, zetl runs until `zetl verify` reports an exact
# match for every table of both integrations (or 300 s pass).
#
# --ha (make soak HA=1): two `zetl run` processes, members soakA and soakB,
# run the same config with `ha:` (takeover_seconds 8), each with its own
# state directory and its own fault relays for each of its three links; one
# holds each integration's lease, the other stands by. The workload and the
# chunked copies are the same; every 3–15 s one fault, aimed alternately at
# a lease holder and at a standby (so at both members in turn), each kind
# once in a shuffled order first, then at random: SIGKILL and a restart
# 0–3 s later; SIGTERM (must exit within 2 s) and a restart; SIGSTOP for
# 3–20 s, then SIGCONT (over takeover_seconds, the other takes over and the
# frozen one says it lost the lease); one of its links blackholed for
# 5–30 s (the target link half the time: the other takes over), with a
# SIGTERM while frozen half the time, or reset (the first freeze and the
# first cut, of the target link, are a holder's, long enough for a
# takeover); a resync asked
# of a holder, killed 0.5–3 s later mid-copy (the other resumes the copy);
# target restarts; and, one time in twenty, both killed at once and started
# together (the only moment no process runs). Each member's target
# connections set zt.member, and a deferred trigger on zetl.checkpoints
# records, at every commit, the member and the holder zetl.leases names
# then (schema zt_soak). At the end, besides the exact verify: each
# integration has one holder, named by zetl.leases with its live pid, whose
# status is active while the other's is standby naming it; one Binlog Dump
# thread and one walsender on the sources; no checkpoint committed by a
# member that was not the holder; each process exits within 2 s of SIGTERM.
# It counts failovers (lease epoch raises, and holder changes seen by
# sampling zetl.leases every 0.5 s), "lost the lease" messages, and the
# faults per member.
#
# Prints progress lines, then the counts of kills, target restarts, link
# faults, source transactions and rows compared. Exit status: 0 exact match; 1 a mismatch,
# no match within 300 s, or zetl exiting on its own (--ha: or a check above
# failing); 2 usage or set-up failure. A failed run keeps its work directory
# (logs: run.log, or runA.log and runB.log; leases.log) and says where.
# ZETL_BIN: the binary to run (default ./zetl, built by make soak); it is
# copied first, so a rebuild during the run does not change it.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

MIN=${MINUTES:-10}
HA=0
while (($#)); do
    case $1 in
    --minutes) MIN=${2:-}; shift 2 ;;
    --ha) HA=1; shift ;;
    *) echo "usage: bench/soak.sh [--minutes N] [--ha]" >&2; exit 2 ;;
    esac
done
[[ $MIN =~ ^[0-9]+$ ]] && ((MIN >= 1)) || { echo "soak: MINUTES must be a whole number of minutes >= 1, not '$MIN'" >&2; exit 2; }

T0=$SECONDS
say() { printf '[soak %s +%ds] %s\n' "$(date -u +%H:%M:%S)" $((SECONDS - T0)) "$*"; }
die() { say "error: $*"; exit 2; }

W=$(mktemp -d /tmp/zetl-soak.XXXXXX) || die "mktemp"
chmod 755 "$W"
ZPID=
declare -A ZP=([A]='' [B]='')   # --ha: the two members' zetl run
WL_PIDS=()
soak_cleanup() {
    local rc=$? p
    rm -f "$W/go" "$W/watch"
    for p in "${WL_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for p in "$ZPID" "${ZP[A]}" "${ZP[B]}"; do
        [[ -n $p ]] || continue
        kill -9 "$p" 2>/dev/null; kill -CONT "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    if ((rc != 0)) && [[ -d $W ]]; then echo "soak: the work directory is kept: $W" >&2
    elif [[ -z ${SOAK_KEEP:-} ]]; then rm -rf "$W"; fi
}
trap soak_cleanup EXIT

cp "${ZETL_BIN:-./zetl}" "$W/zetl" || die "no zetl binary at ${ZETL_BIN:-./zetl} (run make)"
ZETL=$W/zetl

. tests/lib/harness.sh
. tests/lib/proxy.sh
say "starting MariaDB, the PostgreSQL source and the PostgreSQL target"
harness_start mariadb pgsrc pgtgt 2>"$W/harness.log" || { cat "$W/harness.log"; die "harness start failed"; }
if ((HA)); then PROXIES=(myA srcA tgtA myB srcB tgtB); else PROXIES=(my src tgt); fi
trap 'soak_cleanup; for p in "${PROXIES[@]}"; do proxy_stop "$p"; done; harness_stop' EXIT
E2E_DIR=$W
[[ -x ${ZETL_BUILD:-./build}/tools/tcpproxy ]] || make -s "${ZETL_BUILD:-build}/tools/tcpproxy" || die "cannot build the fault relay"
if ((HA)); then
    for m in A B; do
        proxy_start "my$m" "$ZH_MY_PORT" && proxy_start "src$m" "$ZH_PGSRC_PORT" && proxy_start "tgt$m" "$ZH_PGTGT_PORT" ||
            die "fault relays did not start"
    done
else
    proxy_start my "$ZH_MY_PORT" && proxy_start src "$ZH_PGSRC_PORT" && proxy_start tgt "$ZH_PGTGT_PORT" ||
        die "fault relays did not start"
fi
export SOAK_MY_PASSWORD=$ZH_MY_PASSWORD SOAK_PG_PASSWORD=$ZH_PG_PASSWORD

# ------------------------------------------------------------------ schema and data
zh_mysql <<'SQL' || die "MariaDB set-up"
CREATE DATABASE soak_my;
USE soak_my;
CREATE TABLE soak_my.t_keyed (id INT PRIMARY KEY, v INT, s VARCHAR(64), d DECIMAL(12,2), ts DATETIME(6), doc JSON);
CREATE TABLE soak_my.t_comp (a INT, b VARCHAR(20), n BIGINT, PRIMARY KEY (a, b));
CREATE TABLE soak_my.t_wide (id INT PRIMARY KEY, n INT, pad VARCHAR(1100));
INSERT INTO soak_my.t_wide SELECT seq, 0, REPEAT(MD5(seq), 32) FROM seq_1_to_12000;
INSERT INTO soak_my.t_keyed SELECT seq, seq % 97, CONCAT('row ', seq), seq / 7, '2025-01-01', JSON_OBJECT('g', seq)
  FROM seq_1_to_30000;
SQL
zh_psql_src <<'SQL' >/dev/null || die "PostgreSQL set-up"
CREATE SCHEMA soak_pg;
CREATE TABLE soak_pg.t_keyed (id int PRIMARY KEY, v int, s text, doc jsonb, arr int[], ts timestamptz);
CREATE TABLE soak_pg.t_comp (a int, b text, n bigint, PRIMARY KEY (a, b));
CREATE TABLE soak_pg.t_loose (x int, y text);
CREATE TABLE soak_pg.t_wide (id int PRIMARY KEY, n int, pad text);
INSERT INTO soak_pg.t_wide SELECT g, 0, repeat(md5(g::text), 32) FROM generate_series(1, 12000) g;
ALTER TABLE soak_pg.t_loose REPLICA IDENTITY FULL;
INSERT INTO soak_pg.t_keyed SELECT g, g % 97, 'row ' || g, jsonb_build_object('g', g), ARRAY[g, -g], '2025-01-01'
  FROM generate_series(1, 30000) g;
INSERT INTO soak_pg.t_loose SELECT g % 50, 'y0' FROM generate_series(1, 500) g;
SQL

if ((HA)); then
# Block style: a flow mapping cannot hold a bare ${VAR}. Each member's
# environment (member_env) names its state directory, its relays and its
# target dsn (with zt.member, for the audit).
cat >"$W/zetl.yaml" <<YAML
state_dir: \${SOAK_STATE}
ha:
  enabled: true
  member: \${SOAK_MEMBER}
  takeover_seconds: 8
integrations:
  - name: soak_my
    source:
      kind: mysql
      host: 127.0.0.1
      port: \${SOAK_MY_PORT}
      user: $ZH_MY_USER
      password: \${SOAK_MY_PASSWORD}
      databases: [soak_my]
      server_id: 7077
    target:
      kind: postgres
      dsn: \${SOAK_TGT_DSN}
    tables: {include: ["soak_my.%"]}
    apply: {memory_mb: 16, batch_ms: 100, copy_chunk_rows: 2000}
  - name: soak_pg
    source:
      kind: postgres
      host: 127.0.0.1
      port: \${SOAK_SRC_PORT}
      user: $ZH_PG_USER
      password: \${SOAK_PG_PASSWORD}
      database: zetl
      schemas: [soak_pg]
    target:
      kind: postgres
      dsn: \${SOAK_TGT_DSN}
    tables: {include: ["soak_pg.%"]}
    apply: {memory_mb: 16, batch_ms: 100, copy_workers: 2, copy_chunk_rows: 2000}
YAML
else
cat >"$W/zetl.yaml" <<YAML
state_dir: $W/state
integrations:
  - name: soak_my
    source: {kind: mysql, host: 127.0.0.1, port: $PROXY_my_PORT, user: $ZH_MY_USER,
             password: "\${SOAK_MY_PASSWORD}", databases: [soak_my], server_id: 7077}
    target: {kind: postgres, dsn: "host=127.0.0.1 port=$PROXY_tgt_PORT dbname=zetl user=$ZH_PG_USER password=\${SOAK_PG_PASSWORD}"}
    tables: {include: ["soak_my.%"]}
    apply: {memory_mb: 16, batch_ms: 100, copy_chunk_rows: 2000}
  - name: soak_pg
    source: {kind: postgres, host: 127.0.0.1, port: $PROXY_src_PORT, user: $ZH_PG_USER,
             password: "\${SOAK_PG_PASSWORD}", database: zetl, schemas: [soak_pg]}
    target: {kind: postgres, dsn: "host=127.0.0.1 port=$PROXY_tgt_PORT dbname=zetl user=$ZH_PG_USER password=\${SOAK_PG_PASSWORD}"}
    tables: {include: ["soak_pg.%"]}
    apply: {memory_mb: 16, batch_ms: 100, copy_workers: 2, copy_chunk_rows: 2000}
YAML
fi

# ------------------------------------------------------------------ workload
# gen_sql my|pg SEED N: N random transactions of 1–5 statements as SQL text
# for MariaDB (database soak_my) or PostgreSQL. Ids are random in 1..60000
# (half of them exist), so updates, deletes and inserts all hit; every 25th
# batch ends with the transactions that update every row.
gen_sql() {
    awk -v kind="$1" -v seed="$2" -v n="$3" -v q="'" '
    function my_op(r, id) {
        if (r <= 1) printf "INSERT IGNORE INTO t_keyed VALUES (%d, %d, \"ins %d\", %d.25, NOW(6), JSON_OBJECT(\"k\", %d));\n", id, int(rand() * 1000), id, int(rand() * 9999), int(rand() * 99)
        else if (r <= 3) printf "UPDATE t_keyed SET v = v + 1, s = LEFT(CONCAT(\"u\", s), 60), ts = NOW(6) WHERE id = %d;\n", id
        else if (r == 4) printf "DELETE FROM t_keyed WHERE id = %d;\n", id
        else if (r == 5) printf "UPDATE IGNORE t_keyed SET id = id + 100000 WHERE id = %d;\n", id
        else printf "INSERT INTO t_comp VALUES (%d, \"b%d\", 1) ON DUPLICATE KEY UPDATE n = n + 1;\n", int(rand() * 300), int(rand() * 50)
    }
    function pg_op(r, id) {
        if (r <= 1) printf "INSERT INTO soak_pg.t_keyed VALUES (%d, %d, E%sins\\t%d%s, %s{\"k\": %d}%s, %s{1,%d}%s, now()) ON CONFLICT DO NOTHING;\n", id, int(rand() * 1000), q, id, q, q, int(rand() * 99), q, q, id, q
        else if (r <= 3) printf "UPDATE soak_pg.t_keyed SET v = v + 1, s = left(%su%s || s, 60), ts = now() WHERE id = %d;\n", q, q, id
        else if (r == 4) printf "DELETE FROM soak_pg.t_keyed WHERE id = %d;\n", id
        else if (r == 5) printf "UPDATE soak_pg.t_keyed SET id = id + 100000 WHERE id = %d AND NOT EXISTS (SELECT 1 FROM soak_pg.t_keyed WHERE id = %d);\n", id, id + 100000
        else if (r == 6) printf "INSERT INTO soak_pg.t_loose VALUES (%d, %sy%d%s);\n", int(rand() * 50), q, int(rand() * 5), q
        else if (r == 7) printf "DELETE FROM soak_pg.t_loose WHERE ctid = (SELECT ctid FROM soak_pg.t_loose WHERE x = %d LIMIT 1);\n", int(rand() * 50)
        else printf "INSERT INTO soak_pg.t_comp VALUES (%d, %sb%d%s, 1) ON CONFLICT (a, b) DO UPDATE SET n = soak_pg.t_comp.n + 1;\n", int(rand() * 300), q, int(rand() * 50), q
    }
    BEGIN { srand(seed)
        for (i = 0; i < n; i++) {
            print (kind == "my") ? "START TRANSACTION;" : "BEGIN;"
            k = 1 + int(rand() * 5)
            for (j = 0; j < k; j++) {
                id = 1 + int(rand() * 60000)
                if (kind == "my") my_op(int(rand() * 8), id); else pg_op(int(rand() * 9), id)
            }
            print "COMMIT;"
        }
        if (seed % 25 == 0 && kind == "my") print "UPDATE t_keyed SET v = v + 1; UPDATE t_wide SET n = n + 1;"
        if (seed % 25 == 0 && kind == "pg") print "BEGIN; UPDATE soak_pg.t_keyed SET v = v + 1; UPDATE soak_pg.t_wide SET n = n + 1; COMMIT;"
    }'
}
# workload KIND: batches of 40 transactions until $W/go disappears; counts them
workload() {
    local kind=$1 seed=1 n=0
    while [[ -f $W/go ]]; do
        if [[ $kind == my ]]; then gen_sql my "$seed" 40 | zh_mysql soak_my 2>>"$W/workload-my.err"
        else gen_sql pg "$seed" 40 | zh_psql_src >/dev/null 2>>"$W/workload-pg.err"; fi
        n=$((n + 40)); seed=$((seed + 1))
        echo "$n" >"$W/txns-$kind"
    done
}

zetl_start() { "$ZETL" run -c "$W/zetl.yaml" 2>>"$W/run.log" & ZPID=$!; }
# spool_watch: the names of the spool files seen in the state directory (a
# transaction bigger than the queue's memory spilled), every 0.2 s
spool_watch() {
    while [[ -f $W/go ]]; do
        find "$W"/state* -name '*.spool' -printf '%p\n' 2>/dev/null >>"$W/spools"
        sleep 0.2
    done
}

# ------------------------------------------------------------------ two processes (--ha)
INTEGS=(soak_my soak_pg)
declare -A NF=()                # NF[KIND:M]: faults of KIND aimed at member M; NF[KIND:held] at a holder
bump() { NF[$1]=$((${NF[$1]:-0} + 1)); }
nf() { echo "${NF[$1]:-0}"; }
other() { if [[ $1 == A ]]; then echo B; else echo A; fi; }
# member_env M [direct]: MENV, member M's environment: its state directory, its
# name, its relays and its target dsn (zt.member for the audit); direct: the
# servers themselves and no zt.member (zetl verify, zetl status)
member_env() {
    local m=$1 my=PROXY_my$1_PORT src=PROXY_src$1_PORT tgt=PROXY_tgt$1_PORT
    if [[ ${2:-} == direct ]]; then
        MENV=("SOAK_STATE=$W/state$m" "SOAK_MEMBER=soak$m" "SOAK_MY_PORT=$ZH_MY_PORT" "SOAK_SRC_PORT=$ZH_PGSRC_PORT"
              "SOAK_TGT_DSN=host=127.0.0.1 port=$ZH_PGTGT_PORT dbname=zetl user=$ZH_PG_USER password=$ZH_PG_PASSWORD")
    else
        MENV=("SOAK_STATE=$W/state$m" "SOAK_MEMBER=soak$m" "SOAK_MY_PORT=${!my}" "SOAK_SRC_PORT=${!src}"
              "SOAK_TGT_DSN=host=127.0.0.1 port=${!tgt} dbname=zetl user=$ZH_PG_USER password=$ZH_PG_PASSWORD options='-c zt.member=soak$m'")
    fi
}
# ha_start M: member M's zetl run (env execs it: $! is zetl's pid)
ha_start() {
    member_env "$1"
    env "${MENV[@]}" "$ZETL" run -c "$W/zetl.yaml" 2>>"$W/run$1.log" &
    ZP[$1]=$!
}
ha_alive() { [[ -n ${ZP[$1]} ]] && kill -0 "${ZP[$1]}" 2>/dev/null; }
# ha_revive: a member that exited on its own is counted (CRASHES, said) and started again
ha_revive() {
    local m rc
    for m in A B; do
        ha_alive "$m" && continue
        if [[ -n ${ZP[$m]} ]]; then
            wait "${ZP[$m]}"; rc=$?
            CRASHES=$((CRASHES + 1))
            say "soak$m exited on its own (status $rc): $(tail -2 "$W/run$m.log" | tr '\n' ' ')"
        fi
        ha_start "$m"
    done
}
ha_kill() {
    local p=${ZP[$1]}
    [[ -n $p ]] || return 0
    kill -9 "$p" 2>/dev/null; kill -CONT "$p" 2>/dev/null; wait "$p" 2>/dev/null
    ZP[$1]=
}
# ha_term M: SIGTERM; TOOK the ms until it exited; over 2 s is slow (killed after 5 s)
ha_term() {
    local m=$1 p=${ZP[$1]} t0=${EPOCHREALTIME/./} t1 i
    TOOK=0
    [[ -n $p ]] || return 0
    kill -TERM "$p" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    t1=${EPOCHREALTIME/./}
    TOOK=$(((10#$t1 - 10#$t0) / 1000))
    if kill -0 "$p" 2>/dev/null; then
        SLOW_TERMS=$((SLOW_TERMS + 1))
        say "SLOW STOP: soak$m still running ${TOOK} ms after SIGTERM; killing it"
        kill -9 "$p" 2>/dev/null; kill -CONT "$p" 2>/dev/null
    elif ((TOOK > 2000)); then
        SLOW_TERMS=$((SLOW_TERMS + 1))
        say "SLOW STOP: soak$m took ${TOOK} ms to exit after SIGTERM"
    fi
    wait "$p" 2>/dev/null
    ZP[$m]=
}
# lease_rows: "integration epoch holder pid" per integration, read on the target's socket
lease_rows() {
    zh_psql_tgt -F' ' -c "SELECT integration, epoch, holder, pid FROM zetl.leases
                          WHERE integration IN ('soak_my', 'soak_pg') ORDER BY 1" 2>/dev/null
}
# holder_of INTEG: A or B (the member zetl.leases names), else nothing
holder_of() { lease_rows | awk -v i="$1" '$1 == i && $3 ~ /^soak[AB]$/ { print substr($3, 5) }'; }
# role_of M: what zetl.leases says member M is now
role_of() {
    local h
    h=$(lease_rows | awk -v m="soak$1" '$3 == m { printf "%s%s", s, $1; s = ", " }')
    if [[ -n $h ]]; then echo "holder of $h"; else echo "standby"; fi
}
# lease_watch: zetl.leases every 0.5 s; each change of a row, one line of $W/leases.log
# (time integration epoch holder pid)
lease_watch() {
    declare -A last=()
    local i e h p
    while [[ -f $W/watch ]]; do
        while read -r i e h p; do
            [[ -n $i ]] || continue
            [[ ${last[$i]:-} == "$e $h $p" ]] && continue
            last[$i]="$e $h $p"
            echo "$(date -u +%H:%M:%S) $i $e $h $p" >>"$W/leases.log"
        done < <(lease_rows)
        sleep 0.5
    done
}
LEASE_SAID=0
# lease_news: a line for each change lease_watch saw since the last call
lease_news() {
    local t i e h p
    [[ -f $W/leases.log ]] || return 0
    while read -r t i e h p; do
        say "lease: $i held by $h (pid $p), epoch $e (seen at $t)"
        LEASE_SAID=$((LEASE_SAID + 1))
    done < <(tail -n +"$((LEASE_SAID + 1))" "$W/leases.log")
}
# The audit of commits: a deferred trigger on zetl.checkpoints records, at each
# COMMIT, the member (zt.member, set by the member's dsn) and the holder zetl.leases
# names at that moment. audit_schema before zetl runs; audit_on once zetl.checkpoints exists.
audit_schema() {
    zh_psql_tgt >/dev/null 2>>"$W/audit.err" <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA zt_soak;
CREATE TABLE zt_soak.commits (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(),
    integration text, member text NOT NULL, holder text, epoch bigint);
CREATE FUNCTION zt_soak.audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE m text := current_setting('zt.member', true); h text; e bigint;
BEGIN
    IF coalesce(m, '') = '' OR NEW.integration NOT IN ('soak_my', 'soak_pg') THEN RETURN NULL; END IF;
    BEGIN
        SELECT l.holder, l.epoch INTO h, e FROM zetl.leases l WHERE l.integration = NEW.integration;
    EXCEPTION WHEN OTHERS THEN h := NULL; e := NULL;
    END;
    INSERT INTO zt_soak.commits (integration, member, holder, epoch) VALUES (NEW.integration, m, h, e);
    RETURN NULL;
END $$;
SQL
}
AUDIT=0
audit_on() {
    ((AUDIT)) && return 0
    [[ $(zh_psql_tgt -c "SELECT to_regclass('zetl.checkpoints') IS NOT NULL" 2>/dev/null) == t ]] || return 1
    zh_psql_tgt >/dev/null 2>>"$W/audit.err" <<'SQL' || return 1
CREATE CONSTRAINT TRIGGER zt_soak_audit AFTER INSERT OR UPDATE ON zetl.checkpoints
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION zt_soak.audit();
ALTER TABLE zetl.checkpoints ENABLE ALWAYS TRIGGER zt_soak_audit;
SQL
    AUDIT=1
    say "audit: every commit of a checkpoint now records its member and the lease holder of that moment"
}
# ha_view M: member M's status, one line per integration: name state role holder epoch
ha_view() {
    member_env "$1" direct
    env "${MENV[@]}" "$ZETL" status -c "$W/zetl.yaml" --json 2>>"$W/status.err" |
        jq -r '.integrations[] | [.name, .state, (.ha.role // "-"), (.ha.holder // "-"), ((.ha.epoch // "-") | tostring)] | @tsv' \
        2>>"$W/status.err"
}
# holders_ok: for each integration, zetl.leases names a member with its live pid, whose
# status says active (role and state), while the other member's says standby naming it.
# HOLDERS says who holds what; WHY what was wrong.
holders_ok() {
    local rows va vb i e h p m o line
    rows=$(lease_rows); va=$(ha_view A); vb=$(ha_view B)
    HOLDERS='' WHY=''
    for i in "${INTEGS[@]}"; do
        read -r _ e h p <<<"$(awk -v i="$i" '$1 == i' <<<"$rows")"
        [[ $h =~ ^soak[AB]$ ]] || { WHY="$i: zetl.leases names '${h:-nobody}'"; return 1; }
        m=${h#soak}; o=$(other "$m")
        [[ $p == "${ZP[$m]}" ]] || { WHY="$i: zetl.leases names $h pid $p, but $h runs as pid ${ZP[$m]:-none}"; return 1; }
        if [[ $m == A ]]; then line=$(awk -F'\t' -v i="$i" '$1 == i' <<<"$va"); else line=$(awk -F'\t' -v i="$i" '$1 == i' <<<"$vb"); fi
        [[ $line == "$i"$'\t'active$'\t'active$'\t'"$h"$'\t'"$e" ]] ||
            { WHY="$i: the holder $h's status: '${line//$'\t'/ }' (want active active $h $e)"; return 1; }
        if [[ $o == A ]]; then line=$(awk -F'\t' -v i="$i" '$1 == i' <<<"$va"); else line=$(awk -F'\t' -v i="$i" '$1 == i' <<<"$vb"); fi
        [[ $line == "$i"$'\t'standby$'\t'standby$'\t'"$h"$'\t'* ]] ||
            { WHY="$i: the other member soak$o's status: '${line//$'\t'/ }' (want standby standby $h)"; return 1; }
        HOLDERS+="${HOLDERS:+, }$i by $h (epoch $e)"
    done
}
# sources_ok: one Binlog Dump thread on MariaDB and one walsender on the PostgreSQL
# source (the holders'; a standby holds no source connection). SOURCES says the counts.
sources_ok() {
    local d w
    d=$(zh_mysql -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'" 2>&1)
    w=$(zh_psql_src -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'" 2>&1)
    SOURCES="$d Binlog Dump thread(s), $w walsender(s)"
    [[ $d == 1 && $w == 1 ]]
}
# poll SECS CMD...: CMD every 0.5 s until it succeeds; 1 at the deadline
poll() {
    local end=$((SECONDS + $1)); shift
    while :; do
        "$@" && return 0
        ((SECONDS >= end)) && return 1
        sleep 0.5
    done
}
# restart_later M: start member M again after 0–3 s
restart_later() {
    local d=$((RANDOM % 4))
    ((d)) && sleep "$d"
    ha_start "$1"
}

ha_soak() {
say "$MIN minute(s), two processes (soakA, soakB; ha, takeover_seconds 8): workload on both sources; every 3–15 s a kill, a freeze or a cut link, aimed at a lease holder and at a standby in turn; the target restarted now and then"
KILLS=0; RESTARTS=0; CRASHES=0; BLACKHOLES=0; RESETS=0; TERMS=0; SLOW_TERMS=0; COPY_KILLS=0; FREEZES=0; BOTH_DOWN=0
CMD=${ZETL_BUILD:-./build}/tools/zetl_command
[[ -x $CMD ]] || make -s "${ZETL_BUILD:-build}/tools/zetl_command" || die "cannot build tools/zetl_command"
audit_schema || die "the audit schema zt_soak: $(cat "$W/audit.err")"
touch "$W/go" "$W/watch"
workload my & WL_PIDS+=($!)
workload pg & WL_PIDS+=($!)
spool_watch & WL_PIDS+=($!)
lease_watch & WL_PIDS+=($!)
ha_start A
ha_start B
local end=$((SECONDS + MIN * 60)) pick=0 wait_s kind m o rc role link frozen ms integ tbl h res d
local DECK=(cut reset copy freeze target both term kill) i j t first
local -A FIRST=()
for ((i = ${#DECK[@]} - 1; i > 0; i--)); do j=$((RANDOM % (i + 1))); t=${DECK[i]}; DECK[i]=${DECK[j]}; DECK[j]=$t; done
while ((SECONDS < end)); do
    wait_s=$((3 + RANDOM % 13))
    ((SECONDS + wait_s > end)) && wait_s=$((end - SECONDS))
    ((wait_s > 0)) && sleep "$wait_s"
    audit_on
    lease_news
    ha_revive
    ((SECONDS >= end)) && break
    # The kind: every kind once first, in a shuffled order (so that a short run
    # sees each), then at random by the weights of FAULT_WEIGHTS.
    if ((${#DECK[@]})); then kind=${DECK[0]}; DECK=("${DECK[@]:1}")
    else kind=${FAULT_WEIGHTS[RANDOM % ${#FAULT_WEIGHTS[@]}]}; fi
    # The victim: the holder of one integration, then a standby of one, in turn;
    # but the first cut and the first freeze are a holder's, long enough for a
    # takeover (the cut, of its target link).
    pick=$((pick + 1))
    integ=${INTEGS[RANDOM % 2]}
    h=$(holder_of "$integ")
    if [[ -z $h ]]; then m=$([[ $((pick % 2)) == 1 ]] && echo A || echo B)
    elif ((pick % 2)); then m=$h
    else m=$(other "$h"); fi
    first=0
    if [[ ($kind == cut || $kind == freeze) && -z ${FIRST[$kind]:-} ]]; then
        first=1; FIRST[$kind]=1
        [[ -n $h ]] && m=$h
    fi
    role=$(role_of "$m")
    if [[ $kind == cut ]]; then
        if ((first || RANDOM % 2)); then link=tgt; else link=${LINKS_SRC[RANDOM % 2]}; fi
        frozen=$((5 + RANDOM % 26)); ((first)) && frozen=$((12 + RANDOM % 19))
        BLACKHOLES=$((BLACKHOLES + 1)); bump "cut:$m"; [[ $role == holder* ]] && bump cut:held
        say "blackholing soak$m's $link link for ${frozen} s (soak$m: $role)"
        proxy_blackhole "$link$m"
        sleep "$((frozen / 2))"
        if ((RANDOM % 2)); then
            ha_term "$m"; TERMS=$((TERMS + 1)); bump "term:$m"; [[ $role == holder* ]] && bump term:held
            say "soak$m stopped with SIGTERM in ${TOOK} ms while its $link link was frozen"
        fi
        sleep "$((frozen - frozen / 2))"
        proxy_heal "$link$m"
        [[ -n ${ZP[$m]} ]] || ha_start "$m"
    elif [[ $kind == reset ]]; then
        link=${LINKS_ALL[RANDOM % 3]}
        RESETS=$((RESETS + 1)); bump "reset:$m"
        say "resetting soak$m's $link link (RST) (soak$m: $role)"
        proxy_reset "$link$m"
    elif [[ $kind == copy ]]; then
        # A resync asked of a holder, killed in the middle of its chunked copy: the
        # other member takes over and resumes it.
        if ((RANDOM % 2)); then integ=soak_my; tbl=soak_my.t_wide; else integ=soak_pg; tbl=soak_pg.t_keyed; fi
        h=$(holder_of "$integ"); [[ -n $h ]] || h=$m
        res=$("$CMD" "$W/state$h/zetl.db" "$integ" resync "$tbl" 2>&1 | tr '\n' ' ')
        echo "soak$h $integ resync $tbl: $res" >>"$W/commands.log"
        ms=$((500 + RANDOM % 2500))
        sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
        role=$(role_of "$h")
        ha_kill "$h"
        KILLS=$((KILLS + 1)); COPY_KILLS=$((COPY_KILLS + 1)); bump "kill:$h"; [[ $role == holder* ]] && bump kill:held
        say "soak$h killed with SIGKILL ${ms} ms after asking it for a resync of $tbl (answer: ${res% }) (#$KILLS; soak$h was $role); starting it again"
        restart_later "$h"
    elif [[ $kind == freeze ]]; then
        frozen=$((3 + RANDOM % 18)); ((first)) && frozen=$((11 + RANDOM % 10))
        FREEZES=$((FREEZES + 1)); bump "freeze:$m"; [[ $role == holder* ]] && bump freeze:held
        say "freezing soak$m (SIGSTOP) for ${frozen} s (soak$m: $role)"
        kill -STOP "${ZP[$m]}"
        sleep "$frozen"
        kill -CONT "${ZP[$m]}"
    elif [[ $kind == target ]]; then
        d=$((1 + RANDOM % 5))
        say "restarting the target (down ${d} s) while both run"
        zh_stop_pg tgt >>"$W/harness.log" 2>&1
        sleep "$d"
        zh_start_pg tgt >>"$W/harness.log" 2>&1 || die "the target did not start again: $(tail -3 "$W/harness.log")"
        RESTARTS=$((RESTARTS + 1))
    elif [[ $kind == both ]]; then
        d=$((1 + RANDOM % 3))
        ha_kill A; ha_kill B
        KILLS=$((KILLS + 2)); BOTH_DOWN=$((BOTH_DOWN + 1)); bump kill:A; bump kill:B; bump kill:held
        say "both processes killed with SIGKILL (#$KILLS); starting both again in ${d} s"
        sleep "$d"
        ha_start A; ha_start B
    elif [[ $kind == term ]]; then
        ha_term "$m"; TERMS=$((TERMS + 1)); bump "term:$m"; [[ $role == holder* ]] && bump term:held
        say "soak$m stopped with SIGTERM in ${TOOK} ms (soak$m was $role); starting it again"
        restart_later "$m"
    else
        ha_kill "$m"
        KILLS=$((KILLS + 1)); bump "kill:$m"; [[ $role == holder* ]] && bump kill:held
        say "soak$m killed with SIGKILL (#$KILLS; soak$m was $role); starting it again"
        restart_later "$m"
    fi
done
rm -f "$W/go"
local p
for p in "${WL_PIDS[@]:0:3}"; do wait "$p"; done
TX_MY=$(cat "$W/txns-my" 2>/dev/null || echo 0); TX_PG=$(cat "$W/txns-pg" 2>/dev/null || echo 0)
say "workload stopped: $TX_MY MariaDB and $TX_PG PostgreSQL transactions; waiting for zetl verify to match"
audit_on
lease_news
ha_revive
local deadline=$((SECONDS + 300)) matched=0
while ((SECONDS < deadline)); do
    h=$(holder_of soak_my); member_env "${h:-A}" direct
    if env "${MENV[@]}" "$ZETL" verify -c "$W/zetl.yaml" >"$W/verify.out" 2>&1; then matched=1; break; fi
    sleep 2
done
lease_news
local holders=0 sources=0 audited stray
if poll 30 holders_ok; then holders=1; else HOLDERS=$WHY; fi
say "holders: $HOLDERS"
if poll 15 sources_ok; then sources=1; fi
say "sources: $SOURCES"
audited=$(zh_psql_tgt -c "SELECT count(*) FROM zt_soak.commits" 2>&1)
stray=$(zh_psql_tgt -c "SELECT coalesce(string_agg(member || ' under ' || coalesce(holder, 'no lease') || ' (' || integration
                                                   || ', epoch ' || coalesce(epoch::text, '?') || '): ' || n, '; '), '')
                        FROM (SELECT member, holder, integration, epoch, count(*) n FROM zt_soak.commits
                              WHERE holder IS DISTINCT FROM member GROUP BY 1, 2, 3, 4) s" 2>&1)
# The failovers of the run: the epochs and the holders' changes before the final stops.
local epochs="" raises=0 first last changes lost_a lost_b fenced_a fenced_b
for integ in "${INTEGS[@]}"; do
    first=$(awk -v i="$integ" '$2 == i { print $3; exit }' "$W/leases.log" 2>/dev/null)
    last=$(lease_rows | awk -v i="$integ" '$1 == i { print $2 }')
    epochs+="${epochs:+, }$integ ${first:-?}→${last:-?}"
    [[ $first =~ ^[0-9]+$ && $last =~ ^[0-9]+$ ]] && raises=$((raises + last - first))
done
changes=$(awk '{ if (($2 in h) && h[$2] != $4) n++; h[$2] = $4 } END { print n + 0 }' "$W/leases.log" 2>/dev/null)
# Stopped last, each within 2 s: the holders first (the other takes over at once), then the other.
local order=() final=""
for m in A B; do [[ $(role_of "$m") == holder* ]] && order+=("$m"); done
for m in A B; do [[ " ${order[*]} " == *" $m "* ]] || order+=("$m"); done
for m in "${order[@]}"; do
    if ! ha_alive "$m"; then CRASHES=$((CRASHES + 1)); final+="${final:+, }soak$m had exited"; continue; fi
    role=$(role_of "$m")
    ha_term "$m"; TERMS=$((TERMS + 1)); bump "term:$m"
    final+="${final:+, }soak$m (${role%% of*}) in ${TOOK} ms"
    sleep 1
done
rm -f "$W/watch"
wait "${WL_PIDS[3]}" 2>/dev/null
WL_PIDS=()

ROWS=$(awk '$1 == "match" { n += $(NF - 1); t++ } END { printf "%d %d", n, t }' "$W/verify.out")
read -r ROWS TABLES <<<"$ROWS"
lost_a=$(grep -c 'lost the lease of' "$W/runA.log" 2>/dev/null); lost_b=$(grep -c 'lost the lease of' "$W/runB.log" 2>/dev/null)
fenced_a=$(grep -c 'lost the lease: another zetl' "$W/runA.log" 2>/dev/null); fenced_b=$(grep -c 'lost the lease: another zetl' "$W/runB.log" 2>/dev/null)
echo
SPOOLS=$(sort -u "$W/spools" 2>/dev/null | wc -l)
echo "soak: $MIN minute(s), two processes (ha): $KILLS zetl kills (SIGKILL: soakA $(nf kill:A), soakB $(nf kill:B); $(nf kill:held) of a lease holder, $COPY_KILLS during a chunked copy, $BOTH_DOWN both at once), $FREEZES freezes (SIGSTOP 3–20 s: soakA $(nf freeze:A), soakB $(nf freeze:B); $(nf freeze:held) of a holder), $BLACKHOLES links blackholed (soakA $(nf cut:A), soakB $(nf cut:B); $(nf cut:held) of a holder), $RESETS links reset, $RESTARTS target restarts"
echo "soak: $TX_MY MariaDB + $TX_PG PostgreSQL source transactions, $SPOOLS spool files seen"
echo "soak: failovers: $raises lease epoch raises ($epochs), $changes changes of holder seen (zetl.leases sampled every 0.5 s); \"lost the lease\": soakA $lost_a, soakB $lost_b; commits refused by the fence: soakA $fenced_a, soakB $fenced_b"
echo "soak: $TERMS stops with SIGTERM (soakA $(nf term:A), soakB $(nf term:B), the two final ones included; $(nf term:held) of a holder before the end), $SLOW_TERMS of them slower than 2 s; final stops: $final"
if ((holders)); then echo "soak: one holder each at the end: $HOLDERS; the other member standby"
else echo "soak: NOT one holder each at the end: $HOLDERS"; fi
if ((sources)); then echo "soak: sources at the end: $SOURCES (the holders' alone)"
else echo "soak: sources at the end: $SOURCES, not one each"; fi
if [[ $audited =~ ^[0-9]+$ ]] && ((audited > 0)) && [[ -z $stray ]]; then
    echo "soak: audit: $audited checkpoint commits, every one by the lease holder of its moment"
else
    echo "soak: audit: $audited checkpoint commits; by a member not holding the lease: ${stray:-none}"
fi
if ((matched)); then
    echo "soak: zetl verify: exact match, $TABLES tables, $ROWS rows compared (source against target)"
else
    echo "soak: zetl verify: NO exact match after 300 s; its last output:"
    sed 's/^/  /' "$W/verify.out"
fi
if ((CRASHES)); then
    echo "soak: a zetl exited on its own $CRASHES time(s); the end of their logs:"
    tail -5 "$W/runA.log" | sed 's/^/  soakA: /'
    tail -5 "$W/runB.log" | sed 's/^/  soakB: /'
fi
((matched && CRASHES == 0 && SLOW_TERMS == 0 && holders && sources)) || return 1
[[ $audited =~ ^[0-9]+$ ]] && ((audited > 0)) && [[ -z $stray ]] || return 1
return 0
}
LINKS_ALL=(my src tgt)
LINKS_SRC=(my src)
# --ha: the kinds of fault, each as often as it is listed (in twenty): a link blackholed 4,
# reset 2, a resync killed mid-copy 2, a freeze 3, a target restart 2, both down 1,
# SIGTERM 2, SIGKILL 4
FAULT_WEIGHTS=(cut cut cut cut reset reset copy copy freeze freeze freeze target target both term term kill kill kill kill)
if ((HA)); then ha_soak; exit $?; fi

# ------------------------------------------------------------------ the run
say "$MIN minute(s): workload on both sources, zetl killed with SIGKILL every 3–25 s, the target restarted and links blackholed or reset now and then"
touch "$W/go"
workload my & WL_PIDS+=($!)
workload pg & WL_PIDS+=($!)
spool_watch & WL_PIDS+=($!)
KILLS=0; RESTARTS=0; CRASHES=0; BLACKHOLES=0; RESETS=0; TERMS=0; SLOW_TERMS=0; COPY_KILLS=0
CMD=${ZETL_BUILD:-./build}/tools/zetl_command
[[ -x $CMD ]] || make -s "${ZETL_BUILD:-build}/tools/zetl_command" || die "cannot build tools/zetl_command"
LINKS=(my src tgt)
# stop_timed: SIGTERM, and the time (ms) until zetl exited; over 2 s counts as slow
stop_timed() {
    local t0=${EPOCHREALTIME/./} t1 i
    kill -TERM "$ZPID" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$ZPID" 2>/dev/null || break; sleep 0.05; done
    t1=${EPOCHREALTIME/./}
    local ms=$(((10#$t1 - 10#$t0) / 1000))
    if kill -0 "$ZPID" 2>/dev/null; then
        SLOW_TERMS=$((SLOW_TERMS + 1))
        say "SLOW STOP: zetl still running ${ms} ms after SIGTERM; killing it"
        kill -9 "$ZPID" 2>/dev/null
    elif ((ms > 2000)); then
        SLOW_TERMS=$((SLOW_TERMS + 1))
        say "SLOW STOP: zetl took ${ms} ms to exit after SIGTERM"
    fi
    wait "$ZPID" 2>/dev/null
    TERMS=$((TERMS + 1))
    ZPID=
}
END=$((SECONDS + MIN * 60))
zetl_start
while ((SECONDS < END)); do
    wait_s=$((3 + RANDOM % 23))
    ((SECONDS + wait_s > END)) && wait_s=$((END - SECONDS))
    ((wait_s > 0)) && sleep "$wait_s"
    if ! kill -0 "$ZPID" 2>/dev/null; then
        wait "$ZPID"; rc=$?
        CRASHES=$((CRASHES + 1))
        say "zetl exited on its own (status $rc): $(tail -2 "$W/run.log" | tr '\n' ' ')"
        zetl_start
        continue
    fi
    ((SECONDS >= END)) && break
    fault=$((RANDOM % 20))
    if ((fault < 4)); then
        link=${LINKS[RANDOM % 3]}
        frozen=$((5 + RANDOM % 41))
        BLACKHOLES=$((BLACKHOLES + 1))
        say "blackholing the $link link for ${frozen} s"
        proxy_blackhole "$link"
        sleep "$((frozen / 2))"
        if ((RANDOM % 2)); then stop_timed; say "zetl stopped with SIGTERM while the $link link was frozen"; fi
        sleep "$((frozen - frozen / 2))"
        proxy_heal "$link"
        [[ -n $ZPID ]] || zetl_start
    elif ((fault < 6)); then
        link=${LINKS[RANDOM % 3]}
        RESETS=$((RESETS + 1))
        say "resetting the $link link (RST)"
        proxy_reset "$link"
    elif ((fault < 8)); then
        # A resync in chunks, killed in the middle of its copy.
        if ((RANDOM % 2)); then integ=soak_my; tbl=soak_my.t_wide; else integ=soak_pg; tbl=soak_pg.t_keyed; fi
        "$CMD" "$W/state/zetl.db" "$integ" resync "$tbl" >>"$W/commands.log" 2>&1
        ms=$((500 + RANDOM % 2500))
        sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
        kill -9 "$ZPID" 2>/dev/null; wait "$ZPID" 2>/dev/null
        KILLS=$((KILLS + 1)); COPY_KILLS=$((COPY_KILLS + 1))
        say "zetl killed with SIGKILL ${ms} ms after asking for a resync of $tbl (#$KILLS); starting it again"
        zetl_start
    elif ((fault < 11)); then
        down=$((1 + RANDOM % 5))
        say "restarting the target (down ${down} s) while zetl runs"
        zh_stop_pg tgt >>"$W/harness.log" 2>&1
        sleep "$down"
        zh_start_pg tgt >>"$W/harness.log" 2>&1 || die "the target did not start again: $(tail -3 "$W/harness.log")"
        RESTARTS=$((RESTARTS + 1))
    else
        kill -9 "$ZPID" 2>/dev/null; wait "$ZPID" 2>/dev/null
        KILLS=$((KILLS + 1))
        say "zetl killed with SIGKILL (#$KILLS); starting it again"
        zetl_start
    fi
done
rm -f "$W/go"
for p in "${WL_PIDS[@]}"; do wait "$p"; done
WL_PIDS=()
TX_MY=$(cat "$W/txns-my" 2>/dev/null || echo 0); TX_PG=$(cat "$W/txns-pg" 2>/dev/null || echo 0)
say "workload stopped: $TX_MY MariaDB and $TX_PG PostgreSQL transactions; waiting for zetl verify to match"

kill -0 "$ZPID" 2>/dev/null || { wait "$ZPID"; CRASHES=$((CRASHES + 1)); zetl_start; }
deadline=$((SECONDS + 300)); matched=0
while ((SECONDS < deadline)); do
    if "$ZETL" verify -c "$W/zetl.yaml" >"$W/verify.out" 2>&1; then matched=1; break; fi
    sleep 2
done
kill -TERM "$ZPID" 2>/dev/null; wait "$ZPID" 2>/dev/null; ZPID=

ROWS=$(awk '$1 == "match" { n += $(NF - 1); t++ } END { printf "%d %d", n, t }' "$W/verify.out")
read -r ROWS TABLES <<<"$ROWS"
echo
SPOOLS=$(sort -u "$W/spools" 2>/dev/null | wc -l)
echo "soak: $MIN minute(s): $KILLS zetl kills (SIGKILL; $COPY_KILLS of them during a chunked copy), $RESTARTS target restarts, $BLACKHOLES links blackholed, $RESETS links reset, $TX_MY MariaDB + $TX_PG PostgreSQL source transactions, $SPOOLS spool files seen"
echo "soak: $TERMS stops with SIGTERM while a link was frozen, $SLOW_TERMS of them slower than 2 s"
if ((matched)); then
    echo "soak: zetl verify: exact match, $TABLES tables, $ROWS rows compared (source against target)"
else
    echo "soak: zetl verify: NO exact match after 300 s; its last output:"
    sed 's/^/  /' "$W/verify.out"
fi
if ((CRASHES)); then
    echo "soak: zetl exited on its own $CRASHES time(s); the end of its log:"
    tail -5 "$W/run.log" | sed 's/^/  /'
fi
((matched && CRASHES == 0 && SLOW_TERMS == 0)) || exit 1
exit 0
