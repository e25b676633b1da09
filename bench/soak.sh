#!/usr/bin/env bash
# bench/soak.sh — zetl's soak run (issue 8, item 5), behind `make soak MINUTES=N`.
#
#   bench/soak.sh [--minutes N]        (default: $MINUTES, else 10)
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
# Prints progress lines, then the counts of kills, target restarts, link
# faults, source transactions and rows compared. Exit status: 0 exact match; 1 a mismatch,
# no match within 300 s, or zetl exiting on its own; 2 usage or set-up failure.
# ZETL_BIN: the binary to run (default ./zetl, built by make soak); it is
# copied first, so a rebuild during the run does not change it.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

MIN=${MINUTES:-10}
while (($#)); do
    case $1 in
    --minutes) MIN=${2:-}; shift 2 ;;
    *) echo "usage: bench/soak.sh [--minutes N]" >&2; exit 2 ;;
    esac
done
[[ $MIN =~ ^[0-9]+$ ]] && ((MIN >= 1)) || { echo "soak: MINUTES must be a whole number of minutes >= 1, not '$MIN'" >&2; exit 2; }

T0=$SECONDS
say() { printf '[soak %s +%ds] %s\n' "$(date -u +%H:%M:%S)" $((SECONDS - T0)) "$*"; }
die() { say "error: $*"; exit 2; }

W=$(mktemp -d /tmp/zetl-soak.XXXXXX) || die "mktemp"
chmod 755 "$W"
ZPID=
WL_PIDS=()
soak_cleanup() {
    rm -f "$W/go"
    local p
    for p in "${WL_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [[ -n $ZPID ]]; then kill -9 "$ZPID" 2>/dev/null; wait "$ZPID" 2>/dev/null; fi
    [[ -z ${SOAK_KEEP:-} ]] && rm -rf "$W"
}
trap soak_cleanup EXIT

cp "${ZETL_BIN:-./zetl}" "$W/zetl" || die "no zetl binary at ${ZETL_BIN:-./zetl} (run make)"
ZETL=$W/zetl

. tests/lib/harness.sh
. tests/lib/proxy.sh
say "starting MariaDB, the PostgreSQL source and the PostgreSQL target"
harness_start mariadb pgsrc pgtgt 2>"$W/harness.log" || { cat "$W/harness.log"; die "harness start failed"; }
trap 'soak_cleanup; proxy_stop my; proxy_stop src; proxy_stop tgt; harness_stop' EXIT
E2E_DIR=$W
[[ -x ${ZETL_BUILD:-./build}/tools/tcpproxy ]] || make -s "${ZETL_BUILD:-build}/tools/tcpproxy" || die "cannot build the fault relay"
proxy_start my "$ZH_MY_PORT" && proxy_start src "$ZH_PGSRC_PORT" && proxy_start tgt "$ZH_PGTGT_PORT" ||
    die "fault relays did not start"
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
        find "$W/state" -name '*.spool' -printf '%f\n' 2>/dev/null >>"$W/spools"
        sleep 0.2
    done
}

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
