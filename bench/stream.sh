# shellcheck shell=bash
# bench/stream.sh — the streaming scenarios of bench/run.sh (sourced by it
# after bench/pg.sh; uses its helpers):
#
#   stream_mysql  MariaDB → PostgreSQL through `zetl run`
#   stream_pg     PostgreSQL → PostgreSQL through `zetl run`, and through a
#                 native subscription on the same machine for comparison
#
# At fixed rates (STREAM_RATES rows/s, STREAM_SECS seconds each,
# STREAM_REPS runs per rate and tool, tools alternating), then a search for
# the highest rate zetl sustains: when it sustained every fixed rate, doubling
# from 2 × the largest while sustained; then bisecting between the highest
# rate sustained and the first one missed.
#
# A run: build/tools/rowgen inserts RATE × SECS rows into the source table
# (id, k, c, ts_us), what is due every 5 ms in one transaction, ts_us the source
# server's clock at insert; build/tools/lagwatch polls the target every 10 ms
# and takes, per row, (clock when first seen) − ts_us. Same machine, same
# clock. A rate counts as sustained when the generator reached 95% of it,
# every row arrived, and the p99 lag stayed under 1 s.
#
# Each tool has its own source table (zetl: t_zetl, the subscription: t_sub,
# MariaDB: t), so neither replays the other's rows; before every run the
# tool is started (zetl run / ALTER SUBSCRIPTION ENABLE) and a marker row
# must arrive, after it, zetl is stopped and the subscription disabled (for
# PostgreSQL: a running one would decode the other's WAL meanwhile).

declare -A STREAM_NEXT=()        # next free id per source table

# stream_target TOOL: the target database's conninfo (socket) for TOOL
stream_target() {
    if [[ $1 == subscription ]]; then socket_conninfo tgt bench_sub; else socket_conninfo tgt zetl; fi
}
# stream_ids TABLE N: take the table's next N ids: FIRST .. LAST
stream_ids() {
    FIRST=${STREAM_NEXT[$1]:-1}; LAST=$((FIRST + $2 - 1)); STREAM_NEXT[$1]=$((LAST + 1))
}
# stream_insert KIND TABLE FIRST N RATE: rows FIRST.. at RATE rows/s (0 = in one
# transaction); prints rowgen's line
stream_insert() {
    local conn=$ZH_MY_SOCKET
    [[ $1 == pg ]] && conn=$(socket_conninfo src zetl)
    "$TOOLS/rowgen" "$1" "$conn" "$2" --start "$3" --rows "$4" --rate "$5" ${STREAM_MIX:+--mix} 2>>"$W/rowgen.err" && return 0
    note "stream_$1: rowgen failed: $(tail -1 "$W/rowgen.err")"
    return 1
}

# stream_on KIND TOOL TABLE: start the tool and wait until a marker row arrives
stream_on() {
    local kind=$1 tool=$2 table=$3
    if [[ $tool == subscription ]]; then
        sub_enable bench_sub bench_stream_sub || { note "stream_pg: ENABLE failed: $(tail -1 "$W/psql.err")"; return 1; }
    elif [[ -z $ZPID ]] || ! kill -0 "$ZPID" 2>/dev/null; then
        if [[ -n $ZPID ]]; then
            note "stream_$kind: zetl had exited; started again (log: $(tail -2 "$W/zetl-stream-$kind.log" | tr '\n' ' '))"
            wait "$ZPID" 2>/dev/null
        fi
        zetl_start "$W/stream-$kind.yaml" "$W/zetl-stream-$kind.log"
    fi
    stream_ids "$table" 1
    stream_insert "$kind" "$table" "$FIRST" 1 0 >/dev/null || return 1
    wait_row "$(stream_target "$tool")" "$table" "$LAST" 300 && return 0
    note "stream_$kind: $tool did not pass a marker row within 300 s$([[ $tool == zetl ]] && echo ": $(zetl_state "$W/stream-$kind.yaml")")"
    return 1
}
stream_off() {
    local kind=$1 tool=$2
    [[ $kind == pg ]] || return 0
    if [[ $tool == subscription ]]; then sub_disable bench_sub bench_stream_sub; else zetl_stop; fi
}

# stream_run KIND TOOL TABLE RATE SECS CASE: one measured run; RUN_OK=1 when
# the rate was sustained
stream_run() {
    local kind=$1 tool=$2 table=$3 rate=$4 secs=$5 kase=$6 rows lpid gen lag dbc cpu0=null cpu=null rss=null
    local seen total lsecs p50 p95 p99 pmax grows gsecs grps behind complete=false casej=null
    RUN_OK=0
    rows=$((rate * secs))
    dbc=$(db_cpu_s)
    [[ $tool == zetl ]] && cpu0=$(proc_cpu_s "$ZPID")
    stream_ids "$table" "$rows"
    "$TOOLS/lagwatch" "$(stream_target "$tool")" "$table" --from "$FIRST" --to "$LAST" \
        --timeout $((secs + STREAM_DRAIN)) >"$W/lag.out" 2>>"$W/lagwatch.err" &
    lpid=$!
    gen=$(stream_insert "$kind" "$table" "$FIRST" "$rows" "$rate") || { kill "$lpid" 2>/dev/null; wait "$lpid"; return 1; }
    wait "$lpid"
    lag=$(cat "$W/lag.out")
    read -r _ grows _ _ _ gsecs _ grps _ behind <<<"$gen"
    read -r _ seen _ total _ lsecs _ p50 _ p95 _ p99 _ pmax <<<"$lag"
    [[ -n $seen && -n $grows ]] || { note "stream_$kind $tool $rate: no figures (rowgen: '$gen', lagwatch: '$lag')"; return 1; }
    if [[ $tool == zetl ]]; then
        cpu=$(fsub "$(proc_cpu_s "$ZPID")" "$cpu0")
        rss=$(awk -v k="$(proc_hwm_kb "$ZPID")" 'BEGIN { printf "%.1f", k / 1024 }')
    fi
    dbc=$(fsub "$(db_cpu_s)" "$dbc")
    [[ $seen == "$total" ]] && complete=true
    [[ $kase != null ]] && casej="\"$kase\""
    if [[ $complete == true ]] && awk -v a="$grps" -v r="$rate" -v p="$p99" 'BEGIN { exit !(a >= 0.95 * r && p < 1000) }'; then
        RUN_OK=1
    fi
    if [[ -n ${STREAM_MIX:-} ]]; then   # rates in changes: each inserted row came with an update and half a delete
        rate=$((rate * 5 / 2)); grows=$((grows * 5 / 2)); grps=$(awk -v a="$grps" 'BEGIN { printf "%.0f", a * 2.5 }')
    fi
    log "  $tool $rate rows/s ($kase): sent $grps rows/s (fell behind by up to $behind ms), seen $seen/$total, lag p50 $p50 p95 $p95 p99 $p99 max $pmax ms; CPU $cpu s (servers $dbc s)$( ((RUN_OK)) || echo '; NOT sustained')"
    record "stream_$kind" "$tool" "$rate" "$grows" "$gsecs" "$grps" "$cpu" "$rss" null \
        "{\"case\": $casej, \"lag_p50_ms\": $p50, \"lag_p95_ms\": $p95, \"lag_p99_ms\": $p99, \"lag_max_ms\": $pmax,
          \"db_cpu_s\": $dbc, \"seen\": $seen, \"complete\": $complete, \"sustained\": $( ((RUN_OK)) && echo true || echo false),
          \"behind_max_ms\": $behind}"
}

# stream_turn KIND TOOL TABLE RATE SECS CASE: on, run, off
stream_turn() {
    stream_on "$1" "$2" "$3" || { stream_off "$1" "$2"; RUN_OK=0; return 1; }
    stream_run "$@"; local rc=$?
    stream_off "$1" "$2"
    return $rc
}

scenario_stream() {
    local kind=$1 rate r i tool tools=(zetl) order=() table=bench_stream.t name=bsmy
    [[ $kind == pg ]] && name=bspg
    log "stream_$kind: rates ${STREAM_RATES// /, } rows/s, $STREAM_SECS s each, x$STREAM_REPS; then the highest sustained rate"
    STREAM_NEXT=()
    if [[ $kind == mysql ]]; then
        zh_mysql -e 'DROP DATABASE IF EXISTS bench_stream' 2>/dev/null
        tgt "DROP SCHEMA IF EXISTS bench_stream CASCADE" >/dev/null 2>&1; tgt_forget $name
        "$TOOLS/rowgen" mysql "$ZH_MY_SOCKET" $table --create >/dev/null || die "stream_mysql: source table"
        zetl_config "$W/stream-mysql.yaml" $name bench_stream 256
    else
        table=bench_stream.t_zetl
        psql_db src zetl -c "DROP SCHEMA IF EXISTS bench_stream CASCADE" >/dev/null 2>&1
        tgt "DROP SCHEMA IF EXISTS bench_stream CASCADE" >/dev/null 2>&1; tgt_forget $name
        "$TOOLS/rowgen" pg "$(socket_conninfo src zetl)" bench_stream.t_zetl --create >/dev/null &&
            "$TOOLS/rowgen" pg "$(socket_conninfo src zetl)" bench_stream.t_sub --create >/dev/null || die "stream_pg: source tables"
        psql_db src zetl -c "CREATE PUBLICATION bench_stream_pub FOR TABLE bench_stream.t_sub" >/dev/null || die "stream_pg: publication"
        zetl_pg_config "$W/stream-pg.yaml" $name zetl bench_stream zetl 1 bench_stream.t_zetl
        psql_db tgt postgres -c "CREATE DATABASE bench_sub" >/dev/null 2>&1
        "$TOOLS/rowgen" pg "$(socket_conninfo tgt bench_sub)" bench_stream.t_sub --create >/dev/null || die "stream_pg: subscriber table"
        sub_create bench_sub bench_stream_sub zetl bench_stream_pub false false || die "stream_pg: CREATE SUBSCRIPTION: $(tail -1 "$W/psql.err")"
        tools+=(subscription)
    fi

    local -A zfail=() sfail=()
    local mixed=${BENCH_STREAM_MIXED_RATE:-20000}
    for rate in $STREAM_RATES; do
        for ((r = 1; r <= STREAM_REPS; r++)); do
            order=()
            for ((i = 0; i < ${#tools[@]}; i++)); do order+=("${tools[(i + r - 1) % ${#tools[@]}]}"); done
            for tool in "${order[@]}"; do
                local tb=$table; [[ $tool == subscription ]] && tb=bench_stream.t_sub
                stream_turn "$kind" "$tool" "$tb" "$rate" "$STREAM_SECS" null
                ((!RUN_OK)) && if [[ $tool == zetl ]]; then zfail[$rate]=1; else sfail[$rate]=1; fi
            done
        done
    done

    # Updates and deletes too: MIXED changes/s (rowgen --mix: per inserted
    # row an update and half a delete, in the same transactions); the lag
    # is the inserted rows'.
    if [[ $kind == pg ]]; then
        for ((r = 1; r <= STREAM_REPS; r++)); do
            for tool in zetl subscription; do
                local tb=$table; [[ $tool == subscription ]] && tb=bench_stream.t_sub
                STREAM_MIX=1 stream_turn pg "$tool" "$tb" $((mixed * 2 / 5)) "$STREAM_SECS" mixed
            done
        done
    fi

    if ! skipped stream_search; then
        stream_search "$kind" zetl "$table" zfail
        [[ $kind == pg ]] && stream_search pg subscription bench_stream.t_sub sfail
    fi

    zetl_stop
    if [[ $kind == mysql ]]; then
        zh_mysql -e 'DROP DATABASE IF EXISTS bench_stream' 2>/dev/null
    else
        sub_drop bench_sub bench_stream_sub
        pg_drop_zetl zetl $name
        psql_db src zetl -c "DROP PUBLICATION IF EXISTS bench_stream_pub" -c "DROP SCHEMA IF EXISTS bench_stream CASCADE" >/dev/null 2>&1
        psql_db tgt bench_sub -c "DROP SCHEMA IF EXISTS bench_stream CASCADE" >/dev/null 2>&1
    fi
    tgt "DROP SCHEMA IF EXISTS bench_stream CASCADE" >/dev/null 2>&1
    tgt_forget "$name"
}
declare -A STREAM_BEST=() STREAM_FAIL=() STREAM_GEN_LIMIT=()

# stream_search KIND TOOL TABLE FAILS: the highest rate TOOL sustains, the same
# way for zetl and the native subscription: the fixed rates sustained in every
# run up to the first one missed (FAILS: the name of an associative array of
# the rates missed in some run); when none was missed, double from the
# largest while sustained; then bisect between the best and the first missed.
# Results in STREAM_BEST / STREAM_FAIL / STREAM_GEN_LIMIT under KIND for zetl,
# KIND/TOOL for another tool.
stream_search() {
    local kind=$1 tool=$2 table=$3 rate best=0 fail=0 lo hi step line key=$1
    local -n fails=$4
    [[ $tool == zetl ]] || key=$kind/$tool
    for rate in $STREAM_RATES; do
        ((fail)) && break
        if [[ -n ${fails[$rate]:-} ]]; then fail=$rate; else best=$rate; fi
    done
    if ((!fail)); then
        rate=$((best * 2))
        for ((step = 0; step < STREAM_MAX_STEPS; step++)); do
            stream_turn "$kind" "$tool" "$table" "$rate" "$STREAM_MAX_SECS" search || break
            if ((RUN_OK)); then best=$rate; rate=$((rate * 2)); continue; fi
            fail=$rate
            # the generator itself could not keep the rate: say so in the report
            awk -v a="$(jq -rs 'last | .rows_per_s' "$RUNS")" -v r="$rate" 'BEGIN { exit !(a < 0.95 * r) }' &&
                STREAM_GEN_LIMIT[$key]=$rate
            break
        done
    fi
    if ((fail)); then
        lo=$best; hi=$fail
        for ((step = 0; step < STREAM_BISECT; step++)); do
            rate=$(((lo + hi) / 2 / 500 * 500))
            ((rate > lo && rate < hi)) || break
            stream_turn "$kind" "$tool" "$table" "$rate" "$STREAM_MAX_SECS" search || break
            if ((RUN_OK)); then lo=$rate; best=$rate; else hi=$rate; fail=$rate; fi
        done
    fi
    STREAM_BEST[$key]=$best
    STREAM_FAIL[$key]=$fail
    if ((best)); then   # the run that showed it once more, as the scenario's answer
        line=$(jq -c --argjson r "$best" --arg t "$tool" 'select(.scenario == "stream_'"$kind"'" and .tool == $t and .rate == $r and .sustained
            and (.case == null or .case == "search")) | .case = "max_sustained"' "$RUNS" | tail -1)
        [[ -n $line ]] && echo "$line" >>"$RUNS"
    fi
    log "  highest rate sustained by $tool: ${best} rows/s$( ((fail)) && echo "; missed at $fail rows/s")"
}

# ------------------------------------------------------------------ report parts
# stream_goal_row KIND: the goal table's line for "20k rows/s with p99 < 1 s"
stream_goal_row() {
    local kind=$1 label=MySQL→PG line
    [[ $kind == pg ]] && label=PG→PG
    line=$(jq -r --arg s "stream_$kind" '[.[] | select(.scenario == $s and .tool == "zetl" and .rate == 20000 and .case == null)][0] |
        if . == null then "— | not measured" else
        "zetl at 20,000 rows/s: sent \(.rows_per_s) rows/s, lag p99 \(.lag_p99_ms) ms (median of \(.runs); worst \(.p99_max)); \(.sustained_runs) of \(.runs) runs sustained | " +
        (if .sustained_runs == .runs then "**met**" else "**NOT met**" end) end' <<<"$AGG")
    echo "| streaming $label 20k rows/s with p99 lag < 1 s | $line |"
}

report_stream() {
    local kind=$1 title="MariaDB → PostgreSQL" best
    [[ $kind == pg ]] && title="PostgreSQL → PostgreSQL, zetl and a native subscription"
    echo "## stream_$kind — streaming $title"
    echo
    if ! jq -e --arg s "stream_$kind" '[.[] | select(.scenario == $s)] | length > 0' <<<"$AGG" >/dev/null; then echo "Not run."; echo; return; fi
    echo "build/tools/rowgen inserts RATE × $STREAM_SECS s rows into the source table (id bigint PK, k int, c varchar(120), ts_us bigint)"
    echo "over one connection, committing what is due every 5 ms (at 20,000 rows/s: transactions of ~100 rows), paced by the"
    echo "monotonic clock; ts_us = the source server's clock at the insert ($([[ $kind == pg ]] && echo 'clock_timestamp()' || echo 'NOW(6)'), µs since the epoch)."
    echo "build/tools/lagwatch polls the target every 10 ms and takes, per row, the clock when it was first seen − ts_us:"
    echo "end-to-end lag on one clock (source and target servers on this machine), late by at most one poll. zetl runs"
    echo "with its defaults (batch_ms 200, memory_mb 256)$([[ $kind == pg ]] && echo '; the subscription has its own source table and target database, and each tool runs alone: zetl is stopped and the subscription disabled while the other runs (a marker row must arrive before each run)')."
    echo "**sustained** = the generator reached 95% of the rate, every row arrived (within $STREAM_DRAIN s after the last insert) and the"
    echo "p99 lag stayed under 1 s. sent rows/s = what the generator achieved. $STREAM_REPS run(s) per rate and tool."
    echo
    echo "| tool | target rows/s | runs | sent rows/s, median | lag p50 ms | lag p95 ms | lag p99 ms, median (min–max) | lag max ms, median (worst) | sustained runs | CPU s of the tool | CPU s of the servers | peak RSS MB |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    jq -r --arg s "stream_$kind" '[.[] | select(.scenario == $s)] | sort_by((if .case == null then 0 elif .case == "search" then 1 else 2 end), .rate, (if .tool == "zetl" then 0 else 1 end)) | .[] |
        def n: if . == null then "—" else tostring end;
        "| \(.tool)\(if .case then " (\(.case))" else "" end) | \(.rate) | \(.runs) | \(.rows_per_s) | \(.lag_p50_ms) | \(.lag_p95_ms) | \(.lag_p99_ms) (\(.p99_min)–\(.p99_max)) | \(.lag_max_ms) (\(.lagmax_hi)) | \(.sustained_runs) of \(.runs) | \(.cpu_s | n) | \(.db_cpu_s | n) | \(.peak_rss_mb | n) |"' <<<"$AGG"
    echo
    best=${STREAM_BEST[$kind]:-0}
    echo "The search for the highest rate (rows marked *search*, $STREAM_MAX_SECS s each): when the tool sustained every fixed rate, double from"
    echo "the largest while sustained, then bisect between the highest rate sustained and the lowest one missed (to 500 rows/s)."
    if ((best)); then
        echo "**Highest rate zetl sustained: $best rows/s**$( ((${STREAM_FAIL[$kind]:-0})) && echo "; the lowest rate missed: ${STREAM_FAIL[$kind]} rows/s" )."
    else
        echo "**zetl sustained none of the rates tried** (lowest missed: ${STREAM_FAIL[$kind]:-?} rows/s)."
    fi
    [[ -n ${STREAM_GEN_LIMIT[$kind]:-} ]] &&
        echo "At ${STREAM_GEN_LIMIT[$kind]} rows/s the generator itself fell short of the rate (one connection on this machine): the limit found may be the source's, not zetl's."
    if [[ $kind == pg ]]; then
        local sb=${STREAM_BEST[pg/subscription]:-0}
        echo "The native subscription, searched the same way: **highest rate sustained $sb rows/s**$( ((${STREAM_FAIL[pg/subscription]:-0})) && echo "; the lowest rate missed: ${STREAM_FAIL[pg/subscription]} rows/s" )."
        [[ -n ${STREAM_GEN_LIMIT[pg/subscription]:-} ]] &&
            echo "At ${STREAM_GEN_LIMIT[pg/subscription]} rows/s the generator fell short for the subscription's run: its limit may be higher."
        ((best && sb)) && echo "zetl ÷ subscription: **$(awk -v a="$best" -v b="$sb" 'BEGIN { printf "%.2f", a / b }')×** (goal ≥ 1.5×: $(awk -v a="$best" -v b="$sb" 'BEGIN { print (a >= 1.5 * b) ? "met" : "NOT met" }'))."
    fi
    if [[ $kind == pg ]]; then
        jq -r '[.[] | select(.scenario == "stream_pg" and (.case == null or .case == "mixed"))] | group_by(.case, .rate) | .[] |
            ([.[] | select(.tool == "zetl")][0]) as $z | ([.[] | select(.tool == "subscription")][0]) as $s |
            select($z != null and $s != null and $s.lag_p99_ms != null and $z.lag_p99_ms != null) |
            "At \($z.rate) \(if $z.case == "mixed" then "changes/s of inserts, updates and deletes" else "rows/s" end): lag p99 zetl \($z.lag_p99_ms) ms, subscription \($s.lag_p99_ms) ms" +
            (if $s.lag_p99_ms < $z.lag_p99_ms then " — **the native subscription has the lower lag**." else "." end)' <<<"$AGG"
        echo
        echo "How they apply: zetl groups transactions into batches (apply.batch_ms, default 200 ms, is the longest wait to fill one)"
        echo "and applies a batch as COPY into a temporary stage table, then DELETE … USING the stage and INSERT … SELECT"
        echo "(runtime/target/pg_apply.c); the subscription's apply worker applies each transaction as it arrives, row by row."
    fi
    echo
}
