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
