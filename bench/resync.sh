# shellcheck shell=bash
# bench/resync.sh — the resync scenario of bench/run.sh (sourced by it after
# bench/stream.sh; uses its helpers: log, note, record, zetl_yaml, zetl_start,
# zetl_stop, tgt, tgt_forget, db_cpu_s, proc_cpu_s, ...):
#
#   resync_chunked_mysql  a resync (build/tools/zetl_command STATE_DB NAME resync
#                         bench_resync.t) of a MariaDB table of RESYNC_ROWS rows
#                         (BIGINT key, 4 more columns, ~100 bytes a row as text)
#                         that is already copied and streaming (issue 20, points 7 and 2)
#
# Cases (results.json "case"):
#   one_read        apply.copy_chunk_rows 0: the table in one consistent read
#   chunked         apply.copy_chunk_rows RESYNC_CHUNK (100000, copy_chunk_mb 0):
#                   chunks in key order, each in its own short consistent read
#                   and its own target transaction
#   chunked_kill9   chunked, and `kill -9` of zetl once zetl.copy_progress.rows_copied
#                   (the target) reaches half the rows; zetl is started again at once
#                   and the copy resumes after the last chunk handed off
#   chunked_stream  chunked, while build/tools/rowgen inserts STREAM rows/s into
#                   another table of the same integration (bench_resync.s) and
#                   build/tools/lagwatch measures their end-to-end lag (as stream_mysql)
# one_read, chunked and chunked_kill9 run once per round, RESYNC_REPS rounds,
# the order rotating each round; then chunked_stream once (skipped with
# BENCH_SKIP="resync_stream"). zetl is started afresh before
# every resync (its peak RSS is the case's own) and the request is sent once
# `zetl status --json` shows the integration running and both tables synced.
#
# seconds = from just before the resync command until zetl's state log has the
# table's transition `resyncing -> synced` after it (polled every 0.1 s): the
# copy, the hand-offs or the replay, and the mark's removal. For chunked_kill9
# that includes the kill, the restart and the resumed copy.
#
# While each resync runs, a sampler queries MariaDB every 0.5 s:
#   information_schema.innodb_trx joined with processlist, USER = 'zetl'
# (zetl connects as zetl over TCP; the bench's own clients connect as root over
# the socket) and keeps the age of the oldest such transaction, NOW() -
# trx_started in whole seconds (trx_started has no fraction). trx_age_max_s = the
# largest age sampled during the resync (a long-lived transaction holds back
# InnoDB's purge for its whole life).
#
# After every resync `zetl verify` must report an exact match (retried for
# up to 30 s, since nothing writes to the table meanwhile a mismatch that
# lasts is real); otherwise the scenario fails loudly: a note, an error line,
# the report says FAILED, and bench/run.sh exits 1 after writing its files.

RS_DB=bench_resync
RS_TABLE=bench_resync.t
RS_STREAM_TABLE=bench_resync.s
RS_NAME=brs
RS_CHUNK=100000              # apply.copy_chunk_rows of the chunked cases (more hand-offs than
                             # the default 1,000,000 rows / 64 MB; copy_chunk_mb 0 here)
RS_STREAM_RATE=5000          # rows/s into bench_resync.s during chunked_stream
RS_FAILED=0                  # 1 when a zetl verify did not match, or a resync never finished
RS_MB=
RS_INITIAL_S=
RS_SPID=

rs_statedb() { echo "$W/state-$RS_NAME/zetl.db"; }
rs_sql() { sqlite3 -cmd ".timeout 5000" "$(rs_statedb)" "$1" 2>>"$W/rs-sqlite.err"; }
rs_ev_max() { rs_sql "SELECT coalesce(max(id), 0) FROM events"; }
# rs_synced_since EV: the table's `resyncing -> synced` transition is in the log after event EV
rs_synced_since() {
    [[ $(rs_sql "SELECT count(*) FROM events WHERE id > $1 AND integration = '$RS_NAME' AND tbl = '$RS_TABLE'
                 AND kind = 'transition' AND message LIKE 'resyncing -> synced%'") -ge 1 ]] 2>/dev/null
}
# rs_zetl_copy_s EV: zetl's own figure, ms timestamps of its log: the table's
# first transition to resyncing after EV → its `resyncing -> synced`
rs_zetl_copy_s() {
    rs_sql "SELECT (SELECT min(at) FROM events WHERE id > $1 AND tbl = '$RS_TABLE' AND kind = 'transition'
                    AND message LIKE 'resyncing -> synced%')
                 - (SELECT min(at) FROM events WHERE id > $1 AND tbl = '$RS_TABLE' AND kind = 'transition'
                    AND message LIKE '% -> resyncing%')" | awk 'NF && $1 != "" { printf "%.3f", $1 / 1000; ok = 1 } END { if (!ok) print "null" }'
}
# rs_event_msg EV PATTERN: the first resync message of the table after EV matching PATTERN
rs_event_msg() {
    rs_sql "SELECT message FROM events WHERE id > $1 AND tbl = '$RS_TABLE' AND kind = 'resync'
            AND message LIKE '$2' ORDER BY id LIMIT 1"
}
rs_progress_rows() {
    tgt "SELECT coalesce(max(rows_copied), 0) FROM zetl.copy_progress
         WHERE integration = '$RS_NAME' AND source_table = '$RS_TABLE'"
}

# rs_config FILE CHUNK_ROWS: one integration, bench_resync.% into the target database zetl
rs_config() {
    zetl_yaml "$1" "$RS_NAME" "kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: \"\${BENCH_MY_PASSWORD}\", databases: [$RS_DB], server_id: $RS_SERVER_ID" \
        zetl "$RS_DB.%" "memory_mb: 256, copy_chunk_rows: $2, copy_chunk_mb: 0"
}
# rs_ready CONFIG: running (its lock held: a command is taken) and both tables synced
rs_ready() {
    local out
    out=$("$ZETL" status -c "$1" --json 2>/dev/null) || return 1
    jq -e --arg t "$RS_TABLE" --arg s "$RS_STREAM_TABLE" '.integrations[0] | .running == true and .state == "active" and
        ([.tables[] | select((.name == $t or .name == $s) and .state == "synced")] | length == 2)' <<<"$out" >/dev/null 2>&1
}
# rs_restart CONFIG LOG: a fresh `zetl run`, until rs_ready (300 s at most)
rs_restart() {
    local deadline=$((SECONDS + 300))
    zetl_stop
    zetl_start "$1" "$2"
    until rs_ready "$1"; do
        if ! kill -0 "$ZPID" 2>/dev/null || ((SECONDS > deadline)); then
            note "resync_chunked_mysql: zetl did not get ready: $(zetl_state "$1"); log: $(tail -2 "$2" | tr '\n' ' ')"
            zetl_stop; return 1
        fi
        sleep 0.2
    done
}

# RS_TRX_Q, rs_sampler_start/stop and rs_trx_figures live in bench/run.sh (the
# full loads sample the same way).

# rs_verify CONFIG CASE: zetl verify reports an exact match (retried for 30 s); else FAILED, loudly
rs_verify() {
    local out deadline=$((SECONDS + 30))
    while :; do
        out=$("$ZETL" verify -c "$1" 2>&1) && { RS_VERIFIED=true; return 0; }
        ((SECONDS > deadline)) && break
        sleep 2
    done
    RS_VERIFIED=false; RS_FAILED=1
    log "error: resync_chunked_mysql $2: zetl verify did NOT report an exact match"
    note "**resync_chunked_mysql $2: zetl verify did NOT report an exact match (scenario FAILED)**: $(tr '\n' ' ' <<<"$out" | cut -c1-600)"
    return 1
}

# rs_run CASE CONFIG: one measured resync; records a row
rs_run() {
    local kase=$1 cfg=$2 logf=$W/zetl-resync.log ev0 t0 t1 out deadline dbc cpu0 cpu cpu_killed=0 rss rss_killed=0
    local age samples with zcopy killed_rows=null resumed_rows=null killed_s=null kill_t=null resume_s=null msg first last lpid gpid gen lag
    local grows gsecs grps behind seen total p50=null p95=null p99=null pmax=null rate=null secs
    local tr=$SECONDS tv
    rs_restart "$cfg" "$logf" || return 1
    tr=$((SECONDS - tr))
    if [[ $kase == chunked_stream ]]; then
        # a stream window covering the resync: from ~2 s before until a few s after (the chunked median + 30%)
        secs=$(jq -rs '[.[] | select(.scenario == "resync_chunked_mysql" and .case == "chunked") | .seconds] | sort |
            if length == 0 then 60 else .[length / 2 | floor] end | . * 1.3 + 6 | ceil' "$RUNS")
        first=$RS_STREAM_NEXT; last=$((first + RS_STREAM_RATE * secs - 1)); RS_STREAM_NEXT=$((last + 1)); rate=$RS_STREAM_RATE
        "$TOOLS/lagwatch" "$(socket_conninfo tgt zetl)" "$RS_STREAM_TABLE" --from "$first" --to "$last" \
            --timeout $((secs + STREAM_DRAIN)) >"$W/rs-lag.out" 2>>"$W/lagwatch.err" &
        lpid=$!
        "$TOOLS/rowgen" mysql "$ZH_MY_SOCKET" "$RS_STREAM_TABLE" --start "$first" --rows $((last - first + 1)) \
            --rate "$RS_STREAM_RATE" >"$W/rs-gen.out" 2>>"$W/rowgen.err" &
        gpid=$!
        sleep 2
    fi
    ev0=$(rs_ev_max)
    dbc=$(db_cpu_s); cpu0=$(proc_cpu_s "$ZPID")
    rs_sampler_start "$W/rs-trx.$kase"
    t0=$(now)
    out=$("$TOOLS/zetl_command" "$(rs_statedb)" "$RS_NAME" resync "$RS_TABLE" 2>&1)
    if [[ $out != ok ]]; then
        rs_sampler_stop
        note "resync_chunked_mysql $kase: the resync request was not taken: $out"
        RS_FAILED=1; return 1
    fi
    deadline=$((SECONDS + 3600))
    if [[ $kase == chunked_kill9 ]]; then
        # kill -9 at half the rows (as the target's zetl.copy_progress has them), start again at once
        until (($(rs_progress_rows || echo 0) * 2 >= RS_ROWS)); do
            if rs_synced_since "$ev0"; then       # too fast to catch: not a failure of zetl's
                rs_sampler_stop
                note "resync_chunked_mysql chunked_kill9: the copy was done before copy_progress showed half the rows: not measured"
                rs_verify "$cfg" chunked_kill9
                return 1
            fi
            if ! kill -0 "$ZPID" 2>/dev/null || ((SECONDS > deadline)); then
                rs_sampler_stop
                note "resync_chunked_mysql chunked_kill9: zetl exited, or the copy did not reach half the rows in an hour: $(zetl_state "$cfg")"
                zetl_stop; RS_FAILED=1; return 1
            fi
            sleep 0.1
        done
        cpu_killed=$(fsub "$(proc_cpu_s "$ZPID")" "$cpu0"); cpu0=0
        rss_killed=$(proc_hwm_kb "$ZPID")
        kill -9 "$ZPID" 2>/dev/null; wait "$ZPID" 2>/dev/null; ZPID=
        kill_t=$(now); killed_s=$(fsub "$kill_t" "$t0")
        zetl_start "$cfg" "$logf"
        killed_rows=$(rs_progress_rows)
        log "  chunked_kill9: killed zetl -9 at $killed_s s, copy_progress.rows_copied $killed_rows of $RS_ROWS; started again"
    fi
    until rs_synced_since "$ev0"; do
        if ! kill -0 "$ZPID" 2>/dev/null || ((SECONDS > deadline)); then
            rs_sampler_stop
            note "resync_chunked_mysql $kase: the table did not get synced again: $(zetl_state "$cfg"); log: $(tail -2 "$logf" | tr '\n' ' ')"
            zetl_stop; RS_FAILED=1; return 1
        fi
        sleep 0.1
    done
    t1=$(now)
    rs_sampler_stop
    dbc=$(fsub "$(db_cpu_s)" "$dbc")
    cpu=$(awk -v a="$(proc_cpu_s "$ZPID")" -v b="$cpu0" -v k="$cpu_killed" 'BEGIN { printf "%.2f", a - b + k }')
    rss=$(proc_hwm_kb "$ZPID"); ((rss_killed > rss)) && rss=$rss_killed
    rss=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
    secs=$(fsub "$t1" "$t0")
    zcopy=$(rs_zetl_copy_s "$ev0")
    read -r age samples with <<<"$(rs_trx_figures "$W/rs-trx.$kase")"
    if [[ $kase == chunked_kill9 ]]; then
        msg=$(rs_event_msg "$ev0" 'chunked copy resuming after key %')
        resumed_rows=$(sed -n 's/.*(\([0-9]*\) rows in [0-9]* chunks copied before).*/\1/p' <<<"$msg")
        resume_s=$(rs_sql "SELECT at FROM events WHERE id > $ev0 AND tbl = '$RS_TABLE' AND kind = 'resync'
                           AND message LIKE 'chunked copy resuming after key %' ORDER BY id LIMIT 1" |
                   awk -v k="$kill_t" 'NF { printf "%.3f", $1 / 1000 - k; ok = 1 } END { if (!ok) print "null" }')
        log "  chunked_kill9: the restarted zetl logged 'chunked copy resuming after key …' $resume_s s after the kill"
        if [[ -z $resumed_rows ]]; then
            resumed_rows=null
            note "**resync_chunked_mysql chunked_kill9: no 'chunked copy resuming after key' event after the restart: the copy started over?**"
        fi
        # the killed process's chunks count from the sampler's start; zetl's own copy_s spans both processes
    fi
    if [[ $kase == chunked_stream ]]; then
        wait "$gpid"; wait "$lpid"
        gen=$(cat "$W/rs-gen.out"); lag=$(cat "$W/rs-lag.out")
        read -r _ grows _ _ _ gsecs _ grps _ behind <<<"$gen"
        read -r _ seen _ total _ _ _ p50 _ p95 _ p99 _ pmax <<<"$lag"
        if [[ -z $seen || -z $grows ]]; then
            note "resync_chunked_mysql chunked_stream: no stream figures (rowgen: '$gen', lagwatch: '$lag')"
            p50=null p95=null p99=null pmax=null
        else
            [[ $seen == "$total" ]] || note "resync_chunked_mysql chunked_stream: only $seen of $total stream rows arrived within ${STREAM_DRAIN} s"
            log "  stream during the resync: sent $grps rows/s for $gsecs s (behind by up to $behind ms), seen $seen/$total, lag p50 $p50 p95 $p95 p99 $p99 max $pmax ms"
            RS_STREAM_INFO="rowgen sent $grows rows at $grps rows/s over $gsecs s (starting 2 s before the resync command; the resync took $secs s), $seen of $total seen"
        fi
    fi
    tv=$SECONDS; rs_verify "$cfg" "$kase"; tv=$((SECONDS - tv))
    log "  $kase: $secs s ($(fdiv "$RS_ROWS" "$secs") rows/s; zetl's own log: $zcopy s), oldest zetl InnoDB transaction ${age} s (in $with of $samples samples), CPU $cpu s (servers $dbc s), peak RSS $rss MB; zetl verify: $RS_VERIFIED (${tv} s; restart and ready before: ${tr} s)"
    record resync_chunked_mysql zetl "$rate" "$RS_ROWS" "$secs" "$(fdiv "$RS_ROWS" "$secs")" "$cpu" "$rss" "$(fdiv "$RS_MB" "$secs")" \
        "{\"case\": \"$kase\", \"trx_age_max_s\": $age, \"trx_samples\": $samples, \"trx_samples_zetl\": $with,
          \"zetl_copy_s\": $zcopy, \"db_cpu_s\": $dbc, \"verified\": $RS_VERIFIED, \"killed_at_s\": $killed_s,
          \"killed_at_rows\": ${killed_rows:-null}, \"resumed_after_rows\": $resumed_rows, \"resume_after_kill_s\": $resume_s,
          \"lag_p50_ms\": $p50, \"lag_p95_ms\": $p95, \"lag_p99_ms\": $p99, \"lag_max_ms\": $pmax}"
}

scenario_resync_chunked_mysql() {
    local lo hi t0 r order kase one=$W/resync-one.yaml chunk=$W/resync-chunk.yaml
    command -v sqlite3 >/dev/null || { note "resync_chunked_mysql: needs sqlite3 (zetl's state log): not run"; return 0; }
    log "resync_chunked_mysql: generating $RS_ROWS rows (BIGINT key, ~100 bytes a row)"
    RS_SERVER_ID=7$((RANDOM % 1000)); RS_STREAM_NEXT=1; RS_STREAM_INFO=
    tgt "DROP SCHEMA IF EXISTS $RS_DB CASCADE" >/dev/null 2>&1; tgt_forget $RS_NAME
    tgt "DELETE FROM zetl.resyncs WHERE integration = '$RS_NAME'" >/dev/null 2>&1
    tgt "DELETE FROM zetl.copy_progress WHERE integration = '$RS_NAME'" >/dev/null 2>&1
    rm -rf "$W/state-$RS_NAME"
    t0=$(now)
    zh_mysql -e "DROP DATABASE IF EXISTS $RS_DB; CREATE DATABASE $RS_DB; CREATE TABLE $RS_TABLE (
        id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, amount DECIMAL(12,2) NOT NULL,
        created DATETIME NOT NULL, c VARCHAR(64) NOT NULL)" || die "resync_chunked_mysql: source table"
    for ((lo = 1; lo <= RS_ROWS; lo += 100000)); do
        hi=$((lo + 99999)); ((hi > RS_ROWS)) && hi=$RS_ROWS
        zh_mysql "$RS_DB" -e "INSERT INTO $RS_TABLE SELECT seq, FLOOR(RAND() * 1000000), ROUND(RAND() * 100000, 2),
            TIMESTAMPADD(SECOND, seq, '2024-01-01'), CONCAT(MD5(seq), LEFT(MD5(seq + 1), 28))
            FROM seq_${lo}_to_${hi}" || die "resync_chunked_mysql: filling the table"
    done
    "$TOOLS/rowgen" mysql "$ZH_MY_SOCKET" "$RS_STREAM_TABLE" --create >/dev/null || die "resync_chunked_mysql: stream table"
    zh_mysql -e "ANALYZE TABLE $RS_TABLE" >/dev/null
    RS_MB=$(zh_mysql -e "SELECT ROUND(SUM(LENGTH(id) + LENGTH(k) + LENGTH(amount) + LENGTH(created) + LENGTH(c) + 5) / 1e6, 1)
                         FROM $RS_TABLE")   # text bytes as COPY carries them
    log "  generated in $(fsub "$(now)" "$t0") s, ~$RS_MB MB as text; initial copy"
    rs_config "$one" 0
    rs_config "$chunk" "$RS_CHUNK"
    t0=$(now)
    rs_restart "$chunk" "$W/zetl-resync.log" || { RS_FAILED=1; return 1; }
    RS_INITIAL_S=$(fsub "$(now)" "$t0")
    rs_verify "$chunk" initial_copy
    local cases=(one_read chunked chunked_kill9) i
    if ((RS_ROWS < 2 * RS_CHUNK)); then     # a kill at half needs a chunk handed off before the last
        cases=(one_read chunked)
        note "resync_chunked_mysql: chunked_kill9 not run: $RS_ROWS rows are fewer than two chunks of $RS_CHUNK"
    fi
    log "  initial copy (one read, not measured as a case) and ready in $RS_INITIAL_S s; resyncs: ${cases[*]} x$RESYNC_REPS, rotating$(skipped resync_stream || echo ", then chunked_stream x1 at $RS_STREAM_RATE rows/s")"

    for ((r = 1; r <= RESYNC_REPS; r++)); do
        # the order rotates each round, so no case always runs first or last
        order=()
        for ((i = 0; i < ${#cases[@]}; i++)); do order+=("${cases[(i + r - 1) % ${#cases[@]}]}"); done
        for kase in "${order[@]}"; do
            if [[ $kase == one_read ]]; then rs_run one_read "$one"; else rs_run "$kase" "$chunk"; fi ||
                log "  round $r $kase: FAILED"
        done
    done
    if skipped resync_stream; then
        note "resync_chunked_mysql: chunked_stream skipped (BENCH_SKIP)"
    else
        rs_run chunked_stream "$chunk" || log "  chunked_stream: FAILED"
    fi
    zetl_stop
    if [[ $(tgt "SELECT count(*) FROM zetl.copy_progress WHERE integration = '$RS_NAME'") != 0 ||
          $(tgt "SELECT count(*) FROM zetl.resyncs WHERE integration = '$RS_NAME'") != 0 ]]; then
        note "**resync_chunked_mysql: a copy_progress row or a resync mark was left behind**"; RS_FAILED=1
    fi
    tgt "DROP SCHEMA IF EXISTS $RS_DB CASCADE" >/dev/null 2>&1; tgt_forget $RS_NAME
    zh_mysql -e "DROP DATABASE IF EXISTS $RS_DB" 2>/dev/null
}

# ------------------------------------------------------------------ report part
report_resync() {
    local one ch k9 sp tr kr age_ch age_one p99
    echo "## resync_chunked_mysql — resync of a streaming MariaDB table: one read, chunked, chunked with kill -9"
    echo
    if ! jq -e '[.[] | select(.scenario == "resync_chunked_mysql")] | length > 0' <<<"$AGG" >/dev/null; then
        echo "Not run."; echo
        ((RS_FAILED)) && echo "**FAILED** (see the notes)." && echo
        return
    fi
    ((RS_FAILED)) && echo "**FAILED: a \`zetl verify\` did not match, or a resync did not finish (see the notes).**" && echo
    echo "bench_resync.t: $RS_ROWS rows (id BIGINT PRIMARY KEY, k INT, amount DECIMAL(12,2), created DATETIME, c VARCHAR(64) of 60"
    echo "characters; ~$RS_MB MB as text, ~100 bytes a row), plus bench_resync.s (rowgen's stream table), one integration, copied first"
    echo "(initial copy and ready: $RS_INITIAL_S s) and streaming. Each case starts a fresh \`zetl run\` (apply.memory_mb 256), waits until"
    echo "\`zetl status --json\` shows it running with both tables synced, then sends \`build/tools/zetl_command STATE_DB brs resync bench_resync.t\`."
    echo "**seconds** = from just before that command until the state log has the table's \`resyncing -> synced\` (polled every 0.1 s);"
    echo "*zetl's own* = the same between its two log entries (ms timestamps). Cases: **one_read** (copy_chunk_rows 0), **chunked**"
    echo "(copy_chunk_rows $RS_CHUNK, the default) and **chunked_kill9**, one each per round, $RESYNC_REPS round(s), the order rotating; **chunked_kill9**: \`kill -9\` of zetl once the target's"
    echo "zetl.copy_progress.rows_copied reaches half the rows (polled every 0.1 s), started again at once, seconds until synced;"
    echo "**chunked_stream**: chunked while rowgen inserts $RS_STREAM_RATE rows/s into bench_resync.s (lagwatch: lag from the source's"
    echo "clock at insert to the row's first sight in the target, over the stream window, which begins 2 s before the resync command and"
    echo "ends a few seconds after it; rows/s in that row are the resync's). After every resync \`zetl verify\` must report an exact match."
    echo
    echo "$HDR"; fmt_rows resync_chunked_mysql
    echo
    echo "| case | runs | oldest InnoDB transaction of zetl's connections, s: median of the runs' largest (worst) | zetl's own seconds, median | stream lag p50 / p95 / p99 / max ms | zetl verify |"
    echo "| --- | --- | --- | --- | --- | --- |"
    jq -rs '[.[] | select(.scenario == "resync_chunked_mysql")] | group_by(.case) | .[] |
        def med: map(select(. != null)) | sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                 else (.[length / 2 - 1] + .[length / 2]) / 2 end;
        def n: if . == null then "—" else tostring end;
        "| \(.[0].case) | \(length) | \(map(.trx_age_max_s) | med | n) (\(map(.trx_age_max_s) | max | n)) | \(map(.zetl_copy_s) | med | if . == null then null else (. * 1000 | round) / 1000 end | n) | " +
        (if .[0].lag_p99_ms == null then "—" else "\(.[0].lag_p50_ms) / \(.[0].lag_p95_ms) / \(.[0].lag_p99_ms) / \(.[0].lag_max_ms)" end) +
        " | \(map(if .verified then "match" else "**MISMATCH**" end) | unique | join(", ")) |"' "$RUNS"
    echo
    one=$(get resync_chunked_mysql zetl seconds one_read); ch=$(get resync_chunked_mysql zetl seconds chunked)
    k9=$(get resync_chunked_mysql zetl seconds chunked_kill9)
    sp=null; tr=null; kr=null
    [[ $one != null && $ch != null ]] && { sp=$(awk -v a="$one" -v b="$ch" 'BEGIN { printf "%.2f", a / b }'); tr=$(awk -v a="$one" -v b="$ch" 'BEGIN { printf "%.2f", b / a }'); }
    [[ $k9 != null && $ch != null ]] && kr=$(awk -v a="$k9" -v b="$ch" 'BEGIN { printf "%.2f", a / b }')
    age_ch=$(jq -rs '[.[] | select(.scenario == "resync_chunked_mysql" and (.case == "chunked" or .case == "chunked_kill9" or .case == "chunked_stream")) | .trx_age_max_s] | max // "null"' "$RUNS")
    age_one=$(jq -rs '[.[] | select(.scenario == "resync_chunked_mysql" and .case == "one_read") | .trx_age_max_s] | max // "null"' "$RUNS")
    p99=$(get resync_chunked_mysql zetl lag_p99_ms chunked_stream)
    echo "| goal (issue 20) | measured | status |"
    echo "| --- | --- | --- |"
    echo "| chunked resync ≥ 0.95× the speed of the one-read resync | one_read ÷ chunked seconds (medians) = $sp (chunked takes $tr× the time; the goal allows ≤ 1.05) | $(goal "$sp" ">=" 0.95) |"
    echo "| chunked with \`kill -9\` at half ≤ 1.15× the uninterrupted chunked resync | chunked_kill9 ÷ chunked seconds (medians) = $kr | $( [[ $kr == null ]] && echo 'not measured' || awk -v v="$kr" 'BEGIN { print (v <= 1.15 ? "**met**" : "**NOT met**") }') |"
    echo "| no zetl source transaction older than 10 s during a chunked resync | largest age sampled in any chunked case: $age_ch s (one_read, for contrast: $age_one s) | $(goal "$age_ch" "<" 10) |"
    echo "| streaming into another table during a chunked resync: p99 lag < 1 s | p99 $p99 ms at $RS_STREAM_RATE rows/s | $( [[ $p99 == null ]] && echo 'not measured' || goal "$p99" "<" 1000) |"
    echo
    jq -rs '[.[] | select(.scenario == "resync_chunked_mysql" and .case == "chunked_kill9")] | .[] |
        "chunked_kill9 run: killed at \(.killed_at_s) s with copy_progress.rows_copied \(.killed_at_rows); the restarted zetl logged that it resumes after \(.resumed_after_rows // "— (no resume event)") rows \(.resume_after_kill_s // "?") s after the kill; synced at \(.seconds) s."' "$RUNS"
    [[ -n ${RS_STREAM_INFO:-} ]] && echo "Stream during chunked_stream: $RS_STREAM_INFO."
    echo
    echo "The transaction ages are whole seconds (innodb_trx.trx_started has no fraction), sampled every ~0.5 s; zetl's connections"
    echo "are told by their user (zetl, over TCP), the bench's own clients connect as root. With one read the age grows with the copy;"
    echo "chunked, each chunk ends its read (COMMIT) and the next starts a new one, so the age stays about one chunk's read."
    echo
}
