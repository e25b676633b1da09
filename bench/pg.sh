# shellcheck shell=bash
# bench/pg.sh — the PostgreSQL-source scenarios of bench/run.sh (sourced by it,
# after the harness servers are up; uses its helpers: log, note, record,
# timed, db_cpu_s, zetl_stop, ...):
#
#   full_load_pg_pg  initial copy of a pgbench -i -s N database: `zetl run`
#                    (apply.copy_workers: each of PGPG_WORKERS) vs `pgcopydb clone`
#                    vs CREATE SUBSCRIPTION (copy_data) vs the baseline pipe
#                    psql COPY TO STDOUT | psql COPY FROM STDIN, per table
#   catchup_pg       a backlog made while zetl is stopped and the native
#                    subscription disabled, then drained: one big transaction,
#                    and many 10-row ones
#
# Also the helpers the streaming scenario (bench/stream.sh) shares: psql per
# database, the password file, native subscriptions.
#
# Every tool under test (zetl, pgcopydb, the subscription, the baseline's psql
# pair) reaches the servers over TCP on 127.0.0.1, with the password from a
# 0600 password file (PGPASSFILE; the subscription's connection names it with
# passfile=) or, for zetl, ${BENCH_PG_PASSWORD}: no password is on a command
# line or in a log. Set-up and the instruments (rowgen, lagwatch) use the
# harness's trusted unix sockets.

PGPASSFILE=$W/pgpass
printf '127.0.0.1:*:*:%s:%s\n' "$ZH_PG_USER" "$ZH_PG_PASSWORD" >"$PGPASSFILE"
chmod 600 "$PGPASSFILE"
# the target server reads it for a subscription's connection (as root, the
# harness runs PostgreSQL as the postgres user)
[[ $EUID -eq 0 ]] && chown postgres "$PGPASSFILE"
export PGPASSFILE

# psql_db src|tgt DB [psql args]: unaligned, tuples only, stop on error (socket)
psql_db() {
    local dir=$ZH_PGSRC_SOCKDIR port=$ZH_PGSRC_PORT
    [[ $1 == tgt ]] && { dir=$ZH_PGTGT_SOCKDIR; port=$ZH_PGTGT_PORT; }
    "$ZH_PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 "host=$dir port=$port user=$ZH_PG_USER dbname=$2" "${@:3}"
}
# tcp_conninfo src|tgt DB: what clients (and subscriptions) connect with
tcp_conninfo() {
    local port=$ZH_PGSRC_PORT
    [[ $1 == tgt ]] && port=$ZH_PGTGT_PORT
    echo "host=127.0.0.1 port=$port user=$ZH_PG_USER dbname=$2"
}
# socket_conninfo src|tgt DB: for rowgen and lagwatch (no password needed)
socket_conninfo() {
    if [[ $1 == tgt ]]; then echo "host=$ZH_PGTGT_SOCKDIR port=$ZH_PGTGT_PORT user=$ZH_PG_USER dbname=$2"
    else echo "host=$ZH_PGSRC_SOCKDIR port=$ZH_PGSRC_PORT user=$ZH_PG_USER dbname=$2"; fi
}
# fresh_db src|tgt DB: drop (disconnecting anyone) and create again
fresh_db() {
    psql_db "$1" postgres -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null 2>>"$W/psql.err" &&
        psql_db "$1" postgres -c "CREATE DATABASE $2" >/dev/null 2>>"$W/psql.err"
}
# pg_drop_zetl DB NAME: the slot and publication zetl made on the source for
# integration NAME (zetl_NAME), once zetl has stopped
pg_drop_zetl() {
    psql_db src "$1" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'zetl_$2'" >/dev/null 2>&1
    psql_db src "$1" -c "DROP PUBLICATION IF EXISTS zetl_$2" >/dev/null 2>&1
}

# zetl_pg_config FILE NAME SRCDB SCHEMA TGTDB COPY_WORKERS [INCLUDE [APPLY]]
# (INCLUDE: the tables pattern; default SCHEMA.%; APPLY: more apply settings)
zetl_pg_config() {
    zetl_yaml "$1" "$2" "kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER,
             password: \"\${BENCH_PG_PASSWORD}\", database: $3, schemas: [$4]" \
        "$5" "${7:-$4.%}" "memory_mb: 256, copy_workers: $6${8:+, $8}"
}
# zetl_all_synced CONFIG N: the integration is active and N tables are synced
zetl_all_synced() {
    local out
    out=$("$ZETL" status -c "$1" --json 2>/dev/null) || return 1
    jq -e --argjson n "$2" '.integrations[0].state == "active" and
        ([.integrations[0].tables[] | select(.state == "synced")] | length == $n)' <<<"$out" >/dev/null 2>&1
}

# sub_create TGTDB NAME SRCDB PUBLICATION COPY_DATA ENABLED: a native subscription
sub_create() {
    psql_db tgt "$1" -c "CREATE SUBSCRIPTION $2 CONNECTION '$(tcp_conninfo src "$3") passfile=$PGPASSFILE'
        PUBLICATION $4 WITH (copy_data = $5, enabled = $6)" >/dev/null 2>>"$W/psql.err"
}
sub_drop() { psql_db tgt "$1" -c "DROP SUBSCRIPTION IF EXISTS $2" >/dev/null 2>>"$W/psql.err"; }
sub_enable() { psql_db tgt "$1" -c "ALTER SUBSCRIPTION $2 ENABLE" >/dev/null 2>>"$W/psql.err"; }
# sub_disable TGTDB NAME: and wait until its apply worker is gone
sub_disable() {
    local i
    psql_db tgt "$1" -c "ALTER SUBSCRIPTION $2 DISABLE" >/dev/null 2>>"$W/psql.err" || return 1
    for ((i = 0; i < 100; i++)); do
        [[ $(psql_db tgt "$1" -c "SELECT count(*) FROM pg_stat_subscription WHERE subname = '$2' AND pid IS NOT NULL") == 0 ]] && return 0
        sleep 0.1
    done
    note "subscription $2: its worker still runs 10 s after DISABLE"
}
# sub_all_ready TGTDB: every table of the database's subscriptions has finished its copy
sub_all_ready() {
    [[ $(psql_db tgt "$1" -c "SELECT count(*) > 0 AND bool_and(srsubstate = 'r') FROM pg_subscription_rel" 2>/dev/null) == t ]]
}

# wait_row TGT_CONNINFO TABLE ID SECONDS: until row ID is visible in the target
wait_row() {
    "$TOOLS/lagwatch" "$1" "$2" --from "$3" --to "$3" --timeout "$4" >/dev/null 2>>"$W/lagwatch.err"
}

# ------------------------------------------------------------------ full_load_pg_pg
PGPG_TABLES=(pgbench_accounts pgbench_branches pgbench_history pgbench_tellers)
PGPG_TOOLS=()

scenario_full_load_pg_pg() {
    local r i tool rc secs cpu rss dbc order=()
    log "full_load_pg_pg: pgbench -i -s $PGPG_SCALE on the source"
    fresh_db src bench_pgbench || die "creating bench_pgbench"
    pgbench -i -q -s "$PGPG_SCALE" -h "$ZH_PGSRC_SOCKDIR" -p "$ZH_PGSRC_PORT" -U "$ZH_PG_USER" bench_pgbench \
        >"$W/pgbench-init.log" 2>&1 || die "pgbench -i failed: $(tail -3 "$W/pgbench-init.log")"
    psql_db src bench_pgbench -c 'ANALYZE' -c 'CREATE PUBLICATION bench_pub FOR ALL TABLES' >/dev/null || die "bench_pub"
    "$ZH_PG_BINDIR/pg_dump" -s -O -x "$(tcp_conninfo src bench_pgbench)" >"$W/pgbench-schema.sql" 2>>"$W/psql.err" ||
        die "pg_dump -s bench_pgbench"
    PGPG_ROWS=0; PGPG_BYTES=0
    for t in "${PGPG_TABLES[@]}"; do
        PGPG_ROWS=$((PGPG_ROWS + $(psql_db src bench_pgbench -c "SELECT count(*) FROM public.$t")))
        PGPG_BYTES=$((PGPG_BYTES + $(psql_db src bench_pgbench -c "COPY public.$t TO STDOUT" | wc -c)))
    done
    PGPG_MB=$(awk -v b="$PGPG_BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')

    PGPG_TOOLS=()
    for i in $PGPG_WORKERS; do PGPG_TOOLS+=("zetl:$i"); done
    PGPG_TOOLS+=(zetl_one_read)     # copy_workers 1, copy_chunk_rows 0: one read, as before chunks
    if command -v pgcopydb >/dev/null && ! skipped pgcopydb; then PGPG_TOOLS+=(pgcopydb)
    else note "pgcopydb not installed or skipped: not measured"; fi
    PGPG_TOOLS+=(subscription baseline)
    log "  $PGPG_ROWS rows, $PGPG_MB MB as COPY text; tools: ${PGPG_TOOLS[*]}; x$REPS, alternating"
    for ((r = 1; r <= REPS; r++)); do
        order=()
        for ((i = 0; i < ${#PGPG_TOOLS[@]}; i++)); do order+=("${PGPG_TOOLS[(i + r - 1) % ${#PGPG_TOOLS[@]}]}"); done
        for tool in "${order[@]}"; do
            pgpg_reset
            LAST=; PGPG_TRX=; dbc=$(db_cpu_s); rc=0
            case $tool in
            zetl:*) pgpg_zetl "${tool#zetl:}" || rc=$? ;;
            zetl_one_read) pgpg_zetl 1 "copy_chunk_rows: 0" || rc=$? ;;
            pgcopydb) pgpg_pgcopydb || rc=$? ;;
            subscription) pgpg_subscription || rc=$? ;;
            baseline) pgpg_baseline || rc=$? ;;
            esac
            if ((rc)); then log "  round $r $tool: FAILED"; continue; fi
            read -r secs cpu rss <<<"$LAST"
            dbc=$(fsub "$DBC_END" "$dbc")
            log "  round $r $tool: $secs s, CPU $cpu s (servers $dbc s), peak RSS $rss MB"
            local name=$tool casej=null
            [[ $tool == zetl:* ]] && { name=zetl; casej="\"copy_workers=${tool#zetl:}\""; }
            [[ $tool == zetl_one_read ]] && { name=zetl; casej='"copy_workers=1, one read"'; }
            record full_load_pg_pg "$name" null "$PGPG_ROWS" "$secs" "$(fdiv "$PGPG_ROWS" "$secs")" \
                "$cpu" "$rss" "$(fdiv "$PGPG_MB" "$secs")" \
                "{\"case\": $casej, \"db_cpu_s\": $dbc${PGPG_TRX:+, $PGPG_TRX}}"
        done
    done
    pgpg_reset
    psql_db tgt postgres -c "DROP DATABASE IF EXISTS bench_pp WITH (FORCE)" >/dev/null 2>&1
    fresh_db src bench_pgbench >/dev/null 2>&1
    psql_db src postgres -c "DROP DATABASE IF EXISTS bench_pgbench WITH (FORCE)" >/dev/null 2>&1
}

# A fresh, empty target database for every run; zetl's slot, publication and
# state from the run before are gone.
pgpg_reset() {
    sub_drop bench_pp bench_sub 2>/dev/null
    fresh_db tgt bench_pp || die "creating the target database bench_pp"
    pg_drop_zetl bench_pgbench bpg
    rm -rf "$W/state-bpg" "$W/pgcopydb"
    psql_db src postgres -c CHECKPOINT >/dev/null 2>&1
    psql_db tgt postgres -c CHECKPOINT >/dev/null 2>&1
}
# pgpg_check TOOL: every table has the source's row count in the target
pgpg_check() {
    local t n m
    for t in "${PGPG_TABLES[@]}"; do
        n=$(psql_db tgt bench_pp -c "SELECT count(*) FROM public.$t" 2>&1)
        m=$(psql_db src bench_pgbench -c "SELECT count(*) FROM public.$t")
        [[ $n == "$m" ]] || { note "$1: target public.$t has '$n' rows, expected $m"; return 1; }
    done
}
pgpg_schema() { psql_db tgt bench_pp -f "$W/pgbench-schema.sql" >/dev/null 2>>"$W/psql.err"; }

# pgpg_zetl COPY_WORKERS [APPLY]: sets PGPG_TRX (the oldest transaction of
# zetl's on the source meanwhile, as JSON fields)
pgpg_zetl() {
    local age xmin samples
    PGPG_TRX=
    zetl_pg_config "$W/pgpg.yaml" bpg bench_pgbench public bench_pp "$1" "public.%" "${2:-}"
    pg_sampler_start "$W/pgpg-trx"
    zetl_load "$W/pgpg.yaml" "$W/zetl-pgpg.log" "zetl PG full load (copy_workers $1${2:+, $2})" \
        zetl_all_synced "$W/pgpg.yaml" "${#PGPG_TABLES[@]}" || { rs_sampler_stop; return 1; }
    rs_sampler_stop
    read -r age xmin samples <<<"$(pg_trx_figures "$W/pgpg-trx")"
    PGPG_TRX="\"xact_age_max_s\": $age, \"xmin_age_max_xids\": $xmin, \"trx_samples\": $samples"
    pgpg_check "zetl" || return 1
    LAST="$LOAD_SECS $LOAD_CPU $LOAD_RSS"
}

pgpg_pgcopydb() {
    local t0 t1
    t0=$(now)
    if ! PATH=$ZH_PG_BINDIR:$PATH timed "$W/time" pgcopydb clone --dir "$W/pgcopydb" --no-owner --no-acl \
            --source "postgres://$ZH_PG_USER@127.0.0.1:$ZH_PGSRC_PORT/bench_pgbench" \
            --target "postgres://$ZH_PG_USER@127.0.0.1:$ZH_PGTGT_PORT/bench_pp" >"$W/pgcopydb.log" 2>&1; then
        note "pgcopydb clone failed: $(grep -m3 -E 'ERROR|FATAL' "$W/pgcopydb.log" | cut -c1-300 | tr '\n' ' ')"
        return 1
    fi
    t1=$(now); DBC_END=$(db_cpu_s)
    pgpg_check pgcopydb || return 1
    LAST="$(fsub "$t1" "$t0") $(cpu_of "$W/time") $(rss_mb_of "$W/time")"
}

# The subscriber's work happens in the target server's workers and the
# source's walsenders: no tool process (CPU is in the servers' column).
pgpg_subscription() {
    local t0 t1 deadline=$((SECONDS + 1200))
    pgpg_schema || { note "subscription: restoring the schema failed"; return 1; }
    t0=$(now)
    sub_create bench_pp bench_sub bench_pgbench bench_pub true true ||
        { note "CREATE SUBSCRIPTION failed: $(tail -2 "$W/psql.err" | tr '\n' ' ')"; return 1; }
    until sub_all_ready bench_pp; do
        ((SECONDS > deadline)) && { note "subscription: copy not ready after 1200 s"; sub_drop bench_pp bench_sub; return 1; }
        sleep 0.1
    done
    t1=$(now); DBC_END=$(db_cpu_s)
    sub_drop bench_pp bench_sub
    pgpg_check subscription || return 1
    LAST="$(fsub "$t1" "$t0") null null"
}

# One table after the other, both clients over TCP; CPU is the sum over every
# client process, peak RSS the largest pair.
pgpg_baseline() {
    local t0 t1 t cpu=0 rss=0 pair
    pgpg_schema || { note "baseline: restoring the schema failed"; return 1; }
    t0=$(now)
    for t in "${PGPG_TABLES[@]}"; do
        timed "$W/time.src" psql -X -q "$(tcp_conninfo src bench_pgbench)" -c "COPY public.$t TO STDOUT" 2>>"$W/baseline.err" |
            timed "$W/time.tgt" psql -X -q "$(tcp_conninfo tgt bench_pp)" -c "COPY public.$t FROM STDIN" 2>>"$W/baseline.err" ||
            { note "baseline pipe for $t failed: $(tail -2 "$W/baseline.err" | tr '\n' ' ')"; return 1; }
        pair=$(awk '{ c += $2 + $3; m += $4 } END { printf "%.2f %.1f", c, m / 1024 }' "$W/time.src" "$W/time.tgt")
        read -r cpu rss <<<"$(awk -v c="$cpu" -v r="$rss" -v p="$pair" 'BEGIN { split(p, a, " ");
            printf "%.2f %.1f", c + a[1], (a[2] > r ? a[2] : r) }')"
    done
    t1=$(now); DBC_END=$(db_cpu_s)
    pgpg_check baseline || return 1
    LAST="$(fsub "$t1" "$t0") $cpu $rss"
}

# ------------------------------------------------------------------ catchup_pg
# One source table bench_catch.t replicated by both: zetl into the target
# database zetl, the subscription into bench_sub (same schema and table name).
CATCH_NEXT=1

scenario_catchup_pg() {
    local kase r i tool order=() tools=(zetl subscription) src tgt_z tgt_s
    src=$(socket_conninfo src zetl); tgt_z=$(socket_conninfo tgt zetl); tgt_s=$(socket_conninfo tgt bench_sub)
    log "catchup_pg: backlog of $CATCH_ROWS changes, as one transaction and as $((CATCH_ROWS / 10)) transactions of 10 rows"
    psql_db src zetl -c "DROP SCHEMA IF EXISTS bench_catch CASCADE" >/dev/null 2>&1
    tgt "DROP SCHEMA IF EXISTS bench_catch CASCADE" >/dev/null 2>&1; tgt_forget bcatch
    "$TOOLS/rowgen" pg "$src" bench_catch.t --create --rows 1 --start "$CATCH_NEXT" >/dev/null || die "catchup: source table"
    CATCH_NEXT=2
    psql_db src zetl -c "CREATE PUBLICATION bench_catch_pub FOR TABLE bench_catch.t" >/dev/null || die "catchup: publication"
    # zetl: copy the (one-row) table, then stop; the subscription: same table, no copy
    zetl_pg_config "$W/catch.yaml" bcatch zetl bench_catch zetl 1
    zetl_start "$W/catch.yaml" "$W/zetl-catch.log"
    wait_row "$tgt_z" bench_catch.t 1 120 || { note "catchup_pg: zetl did not copy the table: $(zetl_state "$W/catch.yaml")"; zetl_stop; return 1; }
    zetl_stop
    psql_db tgt postgres -c "CREATE DATABASE bench_sub" >/dev/null 2>&1
    "$TOOLS/rowgen" pg "$tgt_s" bench_catch.t --create >/dev/null || die "catchup: subscriber table"
    sub_create bench_sub bench_catch_sub zetl bench_catch_pub false false || die "catchup: CREATE SUBSCRIPTION: $(tail -1 "$W/psql.err")"

    for kase in one_txn small_txns; do
        for ((r = 1; r <= CATCH_REPS; r++)); do
            local first=$CATCH_NEXT last=$((CATCH_NEXT + CATCH_ROWS - 1)) txn=0 gen
            [[ $kase == small_txns ]] && txn=10
            gen=$("$TOOLS/rowgen" pg "$src" bench_catch.t --rows "$CATCH_ROWS" --start "$first" --txn-rows "$txn" 2>>"$W/rowgen.err") ||
                { note "catchup_pg: making the backlog failed: $(tail -1 "$W/rowgen.err")"; return 1; }
            CATCH_NEXT=$((last + 1))
            log "  $kase round $r: backlog made ($gen)"
            order=()
            for ((i = 0; i < ${#tools[@]}; i++)); do order+=("${tools[(i + r - 1) % ${#tools[@]}]}"); done
            for tool in "${order[@]}"; do
                catchup_drain "$tool" "$kase" "$first" "$last" || continue
            done
        done
    done
    sub_drop bench_sub bench_catch_sub
    pg_drop_zetl zetl bcatch
    psql_db src zetl -c "DROP PUBLICATION IF EXISTS bench_catch_pub" -c "DROP SCHEMA IF EXISTS bench_catch CASCADE" >/dev/null 2>&1
    tgt "DROP SCHEMA IF EXISTS bench_catch CASCADE" >/dev/null 2>&1; tgt_forget bcatch
    psql_db tgt bench_sub -c "DROP SCHEMA IF EXISTS bench_catch CASCADE" >/dev/null 2>&1
}

# catchup_drain TOOL CASE FIRST LAST: start the tool, time until row LAST is
# visible (commit order: the whole backlog is then applied), check the count.
catchup_drain() {
    local tool=$1 kase=$2 first=$3 last=$4 t0 t1 dbc cpu=null rss=null tconn n secs
    local rows=$((last - first + 1))
    tconn=$(socket_conninfo tgt zetl); [[ $tool == subscription ]] && tconn=$(socket_conninfo tgt bench_sub)
    dbc=$(db_cpu_s)
    t0=$(now)
    if [[ $tool == zetl ]]; then zetl_start "$W/catch.yaml" "$W/zetl-catch.log"
    else sub_enable bench_sub bench_catch_sub || { note "catchup_pg: ENABLE failed"; return 1; }; fi
    if ! wait_row "$tconn" bench_catch.t "$last" 1800; then
        note "catchup_pg $kase: $tool did not drain $rows changes within 1800 s$([[ $tool == zetl ]] && echo ": $(zetl_state "$W/catch.yaml")")"
        if [[ $tool == zetl ]]; then zetl_stop; else sub_disable bench_sub bench_catch_sub; fi
        return 1
    fi
    t1=$(now); DBC_END=$(db_cpu_s)
    if [[ $tool == zetl ]]; then
        cpu=$(proc_cpu_s "$ZPID"); rss=$(awk -v k="$(proc_hwm_kb "$ZPID")" 'BEGIN { printf "%.1f", k / 1024 }')
        zetl_stop
    else
        sub_disable bench_sub bench_catch_sub
    fi
    dbc=$(fsub "$DBC_END" "$dbc")
    n=$(psql_db tgt "${tconn##*dbname=}" -c "SELECT count(*) FROM bench_catch.t WHERE id BETWEEN $first AND $last")
    [[ $n == "$rows" ]] || { note "catchup_pg $kase: $tool target has $n of the $rows backlog rows"; return 1; }
    secs=$(fsub "$t1" "$t0")
    log "  $kase $tool: $rows changes drained in $secs s, CPU $cpu s (servers $dbc s), peak RSS $rss MB"
    record catchup_pg "$tool" null "$rows" "$secs" "$(fdiv "$rows" "$secs")" "$cpu" "$rss" null \
        "{\"case\": \"$kase\", \"db_cpu_s\": $dbc}"
}

# big_txn_pg: the big_txn scenario from a PostgreSQL source — a table of
# BIG_ROWS rows (sysbench-shaped) snapshotted, then one UPDATE of every row
# with apply.memory_mb BIG_BUDGET_MB; the seconds from its COMMIT until a
# sentinel row inserted after it is in the target, zetl's peak RSS, its
# streamed-transaction spool at its largest, and the source slot's
# spill_bytes and stream_txns before and after (pg_stat_replication_slots).
BIGPG_EXTRA=
scenario_big_txn_pg() {
    local cfg=$W/bigpg.yaml t0 t1 t2 ok=1 deadline hwm hwm_before cpu cpu_before dbc s spool_max=0
    local spill0 spill1 st0 st1 ssum tsum apply slotq
    slotq="SELECT coalesce((SELECT spill_bytes || ' ' || stream_txns FROM pg_stat_replication_slots WHERE slot_name = 'zetl_bigpg'), '0 0')"
    log "big_txn_pg: $BIG_ROWS-row PostgreSQL table, one UPDATE of every row, memory_mb $BIG_BUDGET_MB"
    psql_db src zetl -c "DROP SCHEMA IF EXISTS bench_bigpg CASCADE" >/dev/null 2>&1
    tgt "DROP SCHEMA IF EXISTS bench_bigpg CASCADE" >/dev/null 2>&1; tgt_forget bigpg
    psql_db src zetl -c "CREATE SCHEMA bench_bigpg" \
        -c "CREATE TABLE bench_bigpg.sbtest1 (id int PRIMARY KEY, k int NOT NULL, c char(120) NOT NULL, pad char(60) NOT NULL)" \
        -c "INSERT INTO bench_bigpg.sbtest1 SELECT g, ((g::bigint * 7919) % $BIG_ROWS)::int, repeat(md5(g::text), 4)::char(120),
                md5(g::text) || '-' || g FROM generate_series(1, $BIG_ROWS) g" \
        -c "CREATE TABLE bench_bigpg.sentinel (id int PRIMARY KEY)" -c "VACUUM ANALYZE bench_bigpg.sbtest1" \
        >/dev/null 2>>"$W/psql.err" || { note "big_txn_pg: making the table failed: $(tail -1 "$W/psql.err")"; return 1; }
    zetl_yaml "$cfg" bigpg "kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER,
             password: \"\${BENCH_PG_PASSWORD}\", database: zetl, schemas: [bench_bigpg]" zetl "bench_bigpg.%" "memory_mb: $BIG_BUDGET_MB"
    zetl_start "$cfg" "$W/zetl-bigpg.log"
    deadline=$((SECONDS + 1800))
    until zetl_all_synced "$cfg" 2; do
        if ! kill -0 "$ZPID" 2>/dev/null || ((SECONDS > deadline)); then ok=0; break; fi
        sleep 0.5
    done
    if ((!ok)); then
        note "big_txn_pg: zetl did not reach active/synced: $(zetl_state "$cfg"); log: $(tail -2 "$W/zetl-bigpg.log" | tr '\n' ' ')"
        zetl_stop; return 1
    fi
    hwm_before=$(proc_hwm_kb "$ZPID"); cpu_before=$(proc_cpu_s "$ZPID"); dbc=$(db_cpu_s)
    read -r spill0 st0 <<<"$(psql_db src zetl -c "$slotq")"
    log "  snapshot done (peak RSS so far $((hwm_before / 1024)) MB); UPDATE of $BIG_ROWS rows"
    t0=$(now)
    psql_db src zetl -c "UPDATE bench_bigpg.sbtest1 SET k = k + 1" >/dev/null 2>>"$W/psql.err" || { note "big_txn_pg: UPDATE failed"; zetl_stop; return 1; }
    t1=$(now)
    psql_db src zetl -c "INSERT INTO bench_bigpg.sentinel VALUES (1)" >/dev/null
    log "  source UPDATE committed in $(fsub "$t1" "$t0") s; waiting for the target"
    deadline=$((SECONDS + 3600))
    while [[ $(tgt 'SELECT count(*) FROM bench_bigpg.sentinel') != 1 ]]; do
        if ! kill -0 "$ZPID" 2>/dev/null || ((SECONDS > deadline)); then ok=0; break; fi
        s=$(find "$W/state-bigpg" -name '*.spool' -printf '%s\n' 2>/dev/null | awk '{ t += $1 } END { print t + 0 }')
        ((s > spool_max)) && spool_max=$s
        sleep 0.2
    done
    t2=$(now); dbc=$(fsub "$(db_cpu_s)" "$dbc")
    if ((!ok)); then
        note "big_txn_pg: the UPDATE did not reach the target: $(zetl_state "$cfg"); log: $(tail -2 "$W/zetl-bigpg.log" | tr '\n' ' ')"
        zetl_stop; return 1
    fi
    hwm=$(proc_hwm_kb "$ZPID"); cpu=$(proc_cpu_s "$ZPID")
    zetl_stop
    read -r spill1 st1 <<<"$(psql_db src zetl -c "$slotq")"
    ssum=$(psql_db src zetl -c 'SELECT sum(k) FROM bench_bigpg.sbtest1'); tsum=$(tgt 'SELECT sum(k) FROM bench_bigpg.sbtest1')
    [[ $ssum == "$tsum" ]] || note "big_txn_pg: target sum(k) $tsum differs from source $ssum"
    apply=$(fsub "$t2" "$t1")
    BIGPG_EXTRA="source UPDATE $(fsub "$t1" "$t0") s; zetl applied it $apply s after the source commit; peak RSS $((hwm / 1024)) MB (before the UPDATE: $((hwm_before / 1024)) MB), limit $((BIG_BUDGET_MB + 64)) MB; streamed-transaction and queue spools peaked at $(awk -v b="$spool_max" 'BEGIN { printf "%.1f", b / 1e6 }') MB; the source slot's spill_bytes $spill0 → $spill1, stream_txns $st0 → $st1; database servers' CPU $dbc s; sum(k) source $ssum, target $tsum ($([[ $ssum == "$tsum" ]] && echo match || echo MISMATCH))"
    log "  $BIGPG_EXTRA"
    record big_txn_pg zetl null "$BIG_ROWS" "$apply" "$(fdiv "$BIG_ROWS" "$apply")" \
        "$(fsub "$cpu" "$cpu_before")" "$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')" null \
        "{\"spool_mb\": $(awk -v b="$spool_max" 'BEGIN { printf "%.1f", b / 1e6 }'), \"spill_bytes\": $((spill1 - spill0)),
          \"stream_txns\": $((st1 - st0)), \"source_update_s\": $(fsub "$t1" "$t0"), \"db_cpu_s\": $dbc}"
    pg_drop_zetl zetl bigpg
    psql_db src zetl -c "DROP SCHEMA IF EXISTS bench_bigpg CASCADE" >/dev/null 2>&1
    tgt "DROP SCHEMA IF EXISTS bench_bigpg CASCADE" >/dev/null 2>&1; tgt_forget bigpg
}

# ------------------------------------------------------------------ report parts
report_full_load_pg_pg() {
    echo "## full_load_pg_pg — initial copy PostgreSQL → PostgreSQL"
    echo
    if [[ -z ${PGPG_ROWS:-} ]]; then echo "Not run."; echo; return; fi
    echo "\`pgbench -i -s $PGPG_SCALE\` on the source (database bench_pgbench: pgbench_accounts, _branches, _tellers, empty _history;"
    echo "$PGPG_ROWS rows, $PGPG_MB MB as COPY text), copied into a fresh, empty target database (bench_pp, dropped and created"
    echo "again before every run; both servers checkpointed). Tools alternate (the order rotates each round), $REPS rounds."
    echo "Every run ends with a row count per table against the source."
    echo
    echo "- **zetl**: \`zetl run\` (source database bench_pgbench, schemas [public]; apply.memory_mb 256, apply.copy_workers 1 and 4 —"
    echo "  4 = one worker per table); seconds from the start of the process until \`zetl status --json\` shows the integration"
    echo "  \`active\` and all 4 tables \`synced\` (polled every ~0.1 s). It creates the tables itself. Its slot, publication and"
    echo "  state are dropped between runs. Both servers are PostgreSQL 15 with the same encoding and the tables keep their"
    echo "  built-in types, so zetl copies in binary COPY format (the pipe, pgcopydb and the subscription copy in text)."
    echo "- **pgcopydb**: \`pgcopydb clone --no-owner --no-acl --source postgres://zetl@127.0.0.1:PORT/bench_pgbench --target …/bench_pp\`"
    echo "  with its defaults (4 table jobs, 4 index jobs; schema by pg_dump/pg_restore, indexes built after the copy, VACUUM ANALYZE)."
    echo "- **subscription**: the source's schema (\`pg_dump -s\`) restored into the target first (not timed), a publication"
    echo "  FOR ALL TABLES on the source, then \`CREATE SUBSCRIPTION … WITH (copy_data = true)\`; seconds until every table's"
    echo "  \`pg_subscription_rel.srsubstate\` is \`r\` (polled every ~0.1 s). Default max_sync_workers_per_subscription (2)."
    echo "- **baseline**: schema restored as for the subscription (not timed), then per table, one after the other,"
    echo "  \`psql -c 'COPY public.T TO STDOUT' | psql -c 'COPY public.T FROM STDIN'\` (both over TCP)."
    echo
    echo "Tables created before the copy (zetl, subscription, baseline) carry their primary key during the load; pgcopydb builds it afterwards."
    echo
    echo "$HDR"; fmt_rows full_load_pg_pg
    echo
    echo "zetl's faster setting here: **$PG_BEST**. zetl ($PG_BEST) ÷ baseline: **$R_PBL**; ÷ pgcopydb: **$R_PCD**; ÷ subscription: **$R_PSUB**."
    jq -r '[.[] | select(.scenario == "full_load_pg_pg" and .tool == "zetl")] |
        def rps(c): [.[] | select(.case == c)][0].rows_per_s;
        (if rps("copy_workers=4") and rps("copy_workers=1") then
        "copy_workers 4 ÷ copy_workers 1 (median rows/s): \(rps("copy_workers=4") / rps("copy_workers=1") * 100 | round / 100) (pgbench_accounts holds 100,000 of every 100,011 rows: one table does the work whatever the number of workers)." else empty end),
        (if rps("copy_workers=1") and rps("copy_workers=1, one read") then
        "Chunked ÷ one read (copy_workers 1, `copy_chunk_rows: 0`: the copy in one read of the slot'"'"'s exported snapshot, as before chunks; median rows/s; issue 20'"'"'s goal >= 0.95): **\(rps("copy_workers=1") / rps("copy_workers=1, one read") * 100 | round / 100)**." else empty end)' <<<"$AGG"
    jq -rs '[.[] | select(.scenario == "full_load_pg_pg" and .tool == "zetl" and .xact_age_max_s != null)] |
        if length == 0 then empty else
        "Oldest transaction of zetl'"'"'s on the source during the copy (pg_stat_activity of application_name zetl, sampled every ~0.5 s; goal < 10 s): chunked \([.[] | select(.case != "copy_workers=1, one read") | .xact_age_max_s] | max) s (backend_xmin at most \([.[] | select(.case != "copy_workers=1, one read") | .xmin_age_max_xids] | max) transactions old), one read \([.[] | select(.case == "copy_workers=1, one read") | .xact_age_max_s] | max) s." end' "$RUNS"
    faster_peers full_load_pg_pg "$PG_BEST"
    echo
}

report_catchup_pg() {
    echo "## catchup_pg — draining a backlog, PostgreSQL → PostgreSQL"
    echo
    if ! jq -e '[.[] | select(.scenario == "catchup_pg")] | length > 0' <<<"$AGG" >/dev/null; then echo "Not run."; echo; return; fi
    echo "One source table bench_catch.t (id bigint PK, k int, c varchar(120), ts_us bigint) is replicated by zetl (into the target"
    echo "database zetl; apply defaults, memory_mb 256) and by a native subscription (copy_data = false, into the target database"
    echo "bench_sub). With zetl stopped and the subscription disabled, build/tools/rowgen writes a backlog of $CATCH_ROWS inserted rows,"
    echo "either as **one_txn** (one INSERT … SELECT generate_series) or as **small_txns** ($((CATCH_ROWS / 10)) transactions of 10 rows)."
    echo "Then each tool in turn (the order rotates each round) is started (\`zetl run\` / \`ALTER SUBSCRIPTION … ENABLE\`);"
    echo "seconds = from that start until the backlog's last row is visible in its target (build/tools/lagwatch, 10 ms polls;"
    echo "commit order, so the whole backlog is applied by then; the row count is checked after). Both read the same WAL."
    echo "$CATCH_REPS rounds per case. zetl's seconds include its start-up; the subscription's, its apply worker's start."
    echo
    local k
    for k in one_txn small_txns; do
        echo "$HDR" | sed "1s/| tool |/| tool ($k) |/"
        jq -r --arg k "$k" 'map(select(.scenario == "catchup_pg" and .case == $k)) | sort_by(.tool) | reverse | .[] |
            def n: if . == null then "—" else tostring end;
            "| \(.tool) | \(.runs) | \(.rows) | \(.seconds) (\(.sec_min)–\(.sec_max)) | \(.rows_per_s) (\(.rps_min | round)–\(.rps_max | round)) | — | \(.cpu_s | n) | \(.db_cpu_s | n) | \(.peak_rss_mb | n) |"' <<<"$AGG"
        echo
    done
    echo "zetl ÷ subscription (median rows/s): one big transaction **$R_C1**, small transactions **$R_C2**."
    for k in one_txn small_txns; do
        jq -r --arg k "$k" '[.[] | select(.scenario == "catchup_pg" and .case == $k)] as $a |
            ([$a[] | select(.tool == "zetl")][0].rows_per_s) as $z | $a[] | select(.tool != "zetl" and $z != null and .rows_per_s > $z) |
            "**The \(.tool) is faster than zetl at draining \($k)**: \(.rows_per_s) against \($z) rows/s (medians)."' <<<"$AGG"
    done
    echo
}
