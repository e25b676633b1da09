# chunked.sh — helpers of the chunked-copy tests (test_chunked_resync,
# test_chunked_initial). They read the case's variables: T (the test), KIND
# (mysql or postgres), KP (its prefix for messages), DB (database/schema),
# NAME (integration), DBFILE (its state log), and e2e.sh's E2E_DIR, E2E_PID.

# wait_up WHAT SECS CMD...: t_wait that gives up at once when zetl run has
# exited or CMD returns 2 (hopeless), so a broken build fails fast.
wait_up() {
    local what=$1 secs=$2 out rc end; shift 2
    end=$((SECONDS + secs))
    while :; do
        rc=0; out=$("$@" 2>&1) || rc=$?
        if ((rc == 0)); then t_pass $T "$what"; return 0; fi
        if [ -n "$E2E_PID" ] && ! kill -0 "$E2E_PID" 2>/dev/null; then
            t_fail $T "$what" "success while zetl runs" "zetl run exited; run.log: $(tail -n 3 "$E2E_DIR/run.log")"
            return 1
        fi
        if ((rc == 2 || SECONDS >= end)); then t_fail $T "$what" "success within ${secs}s" "exit $rc: $out"; return 1; fi
        sleep 0.1
    done
}
# verify_ok: `zetl verify` reports an exact match (its output in $E2E_VERIFY).
verify_ok() { E2E_VERIFY=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" 2>&1) || { echo "$E2E_VERIFY"; return 1; }; }

sl() { sqlite3 -cmd ".timeout 5000" "$DBFILE" "$1" 2>/dev/null; }
ev_max() { sl "SELECT coalesce(max(id), 0) FROM events"; }
# "COPIED_TO|CHUNKS" of TABLE's copy_progress row (COPIED_TO "<null>"), or "" when none.
progress() {
    zh_psql_tgt -c "SELECT coalesce(copied_to, '<null>') || '|' || chunks FROM zetl.copy_progress
                    WHERE integration = '$NAME' AND source_table = '$DB.$1'" 2>&1
}
# The key of the first 'resuming after key K' event of TABLE after event id SINCE.
resume_key() {
    sl "SELECT message FROM events WHERE integration = '$NAME' AND tbl = '$DB.$1' AND kind = 'resync'
        AND id > $2 AND message LIKE '%resuming after key %' ORDER BY id LIMIT 1" |
        sed -n 's/.*resuming after key \(-\{0,1\}[0-9][-0-9,]*\).*/\1/p'
}
has_resume() { [ -n "$(resume_key "$1" "$2")" ]; }

# same_rows TABLE COLUMNS ORDER: the rows as 'c1|c2|…' ('<null>' for NULL) in both.
same_rows() {
    local q_my="CONCAT_WS('|'" q_pg="concat_ws('|'" c
    for c in $2; do q_my+=", IFNULL($c, '<null>')"; q_pg+=", coalesce($c::text, '<null>')"; done
    if [ "$KIND" = mysql ]; then
        zh_mysql $DB -e "SELECT $q_my) FROM $1 ORDER BY $3" >"$E2E_DIR/src.$1" 2>&1
    else
        zh_psql_src -c "SELECT $q_pg) FROM $DB.$1 ORDER BY $3" >"$E2E_DIR/src.$1" 2>&1
    fi
    zh_psql_tgt -c "SELECT $q_pg) FROM $DB.$1 ORDER BY $3" >"$E2E_DIR/tgt.$1" 2>&1
    local n a b
    n=$(wc -l <"$E2E_DIR/src.$1")
    a=$(md5sum <"$E2E_DIR/src.$1"); b=$(md5sum <"$E2E_DIR/tgt.$1")
    if [ "$a" = "$b" ] && [ "$n" -gt 0 ]; then
        t_pass $T "$KP$1: all $n rows equal value by value in source and target"
    else
        t_fail $T "$KP$1: rows value by value" "identical dumps ($n source rows)" \
            "$(wc -l <"$E2E_DIR/tgt.$1") target rows; first differences: $(diff "$E2E_DIR/src.$1" "$E2E_DIR/tgt.$1" | head -n 6)"
    fi
}

# target_reset: the case's target schema and its rows in zetl's tables gone.
target_reset() {
    local t
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE" >/dev/null 2>&1
    for t in checkpoints resyncs copy_progress; do
        zh_psql_tgt -c "DELETE FROM zetl.$t WHERE integration = '$NAME'" >/dev/null 2>&1
    done
}
# chunked_end_case [HOOK...]: ends the case under way: the workload (the file
# $E2E_DIR/go it runs while, its pid in load_pid), then HOOK (the test's own
# undoing), zetl, and what the case made on the source and in the target.
chunked_end_case() {
    rm -f "$E2E_DIR/go"
    [ -n "${load_pid:-}" ] && wait "$load_pid" 2>/dev/null
    load_pid=
    (($#)) && "$@"
    if [ -n "${E2E_PID:-}" ]; then kill -9 "$E2E_PID" 2>/dev/null; wait "$E2E_PID" 2>/dev/null; fi
    E2E_PID=
    [ -n "$DB" ] || return 0
    if [ "$KIND" = mysql ]; then
        zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    else
        e2e_pg_drop "$NAME" "$DB"
    fi
    target_reset
}

# kill_mid_copy TABLE WHAT [HOOK...]: kill -9 while TABLE's chunked copy is
# under way, wait until the dead zetl's target sessions are gone
# (zetl_sessions_gone, the test's), run HOOK (more checks while nobody runs
# it), restart it, and check that the copy resumes after the key its
# progress committed before the kill, not from row zero. Sets KILL_PRE and
# KILL_POST ("COPIED_TO|CHUNKS" before and after the kill) and KILL_EV (the
# last event id before the restart). WHAT prefixes the messages.
kill_mid_copy() {
    local k pre_key
    KILL_PRE=$(progress "$1")
    e2e_run_kill9
    pre_key=${KILL_PRE%|*}
    wait_up "$2 the killed zetl's target sessions are gone" 20 zetl_sessions_gone
    (($# > 2)) && "${@:3}"
    KILL_POST=$(progress "$1")
    t_match $T "$2 after the kill its progress holds the frontier (\"$KILL_POST\")" '^-?[0-9,-]+\|[0-9]+$' "$KILL_POST"
    KILL_EV=$(ev_max)
    e2e_run_start
    wait_up "$2 a 'resuming after key' event after the restart" 30 has_resume "$1" "$KILL_EV"
    k=$(resume_key "$1" "$KILL_EV")
    t_eq $T "$2 resumes after the key committed before the kill" "${KILL_POST%|*}" "$k"
    if [[ $k =~ ^-?[0-9]+$ && $pre_key =~ ^-?[0-9]+$ ]] && ((k >= pre_key)); then
        t_pass $T "$2 resumed after key $k >= $pre_key read before the kill (not from row zero)"
    else
        t_fail $T "$2 resumed not from row zero" "a key >= $pre_key" "\"$k\""
    fi
}
