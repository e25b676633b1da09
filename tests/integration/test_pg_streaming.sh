#!/usr/bin/env bash
# test_pg_streaming.sh — PostgreSQL transactions streamed while they run
# (pgoutput protocol 2, streaming 'on'; runtime/pg/streamed.h), with the
# source's logical_decoding_work_mem at its 64 kB floor so that every
# transaction here is streamed:
#   1. a 1,000,000-row transaction (inserts, then updates and deletes of
#      its own rows): zetl holds it in a spool in its state directory while
#      it runs (the spool grows, the target has none of it, status shows the
#      wait "held" with its size, cleared once it landed), is killed -9
#      in the middle, the transaction goes on and commits, zetl is killed -9
#      again just after the commit, and the target ends exact value by
#      value; the source slot spilled nothing (pg_stat_replication_slots:
#      spill_bytes unchanged, stream_txns up) and no spool is left;
#   2. a streamed transaction rolled back leaves no trace;
#   3. ROLLBACK TO SAVEPOINT inside a streamed transaction: the rows of the
#      rolled-back subtransaction (and one nested in it) never land, those of
#      a released one do;
#   4. two streamed transactions interleaved, committed in the other order,
#      the later one updating rows the earlier one inserted: each is applied
#      whole, in commit order;
#   5. ALTER TABLE … ADD COLUMN in the middle of a streamed transaction: the
#      rows before and after it land with their columns;
#   6. the state directory (an 8 MB tmpfs) fills while a transaction is held:
#      the integration fails naming the directory and the fix, and with room
#      again lands the transaction exactly.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_pg_streaming
S=pgst
NAME=pgst
ROWS=${ZETL_STREAMED_ROWS:-1000000}

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
SESS=()
cleanup() {
    local p
    if [ -n "${MNT:-}" ]; then
        [ -n "${E2E_PID:-}" ] && kill -9 "$E2E_PID" 2>/dev/null
        umount "$MNT" 2>/dev/null
    fi
    for p in "${SESS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    zh_psql_src -c "ALTER SYSTEM RESET logical_decoding_work_mem" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
    e2e_cleanup
    # Its slot and publication go too: the lane's later tests share the source.
    zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'zetl_$NAME'" \
        -c "DROP PUBLICATION IF EXISTS zetl_$NAME" >/dev/null 2>&1
    harness_stop
}
trap cleanup EXIT

# A psql session fed through a FIFO: statements run as they are written, and
# `sess_sync N` waits until N has run everything written to it so far.
sess_open() {   # N
    mkfifo "$E2E_DIR/sess$1"
    zh_psql_src -v ON_ERROR_STOP=1 <"$E2E_DIR/sess$1" >"$E2E_DIR/sess$1.out" 2>&1 &
    SESS+=($!)
    eval "exec {SESS_FD$1}>\"$E2E_DIR/sess$1\""
}
sess() {        # N SQL
    local fd="SESS_FD$1"
    printf '%s\n' "$2" >&"${!fd}"
}
sess_sync() {   # N [SECONDS]
    local f="$E2E_DIR/sess$1.sync.$RANDOM$RANDOM" end=$((SECONDS + ${2:-120}))
    sess "$1" "\\! touch $f"
    while [ ! -f "$f" ]; do
        ((SECONDS < end)) || return 1
        sleep 0.05
    done
}
sess_close() {  # N
    local fd="SESS_FD$1"
    eval "exec ${!fd}>&-"
}
src() { zh_psql_src -c "$1"; }
tgt() { zh_psql_tgt -c "$1"; }
rows_of() {     # TABLE: every row, ordered, one line each
    echo "SELECT concat_ws('|', id, grp, coalesce(v, '<null>'), coalesce(n::text, '<null>')) FROM $S.$1 ORDER BY id"
}
same_rows() {   # TABLE
    [ "$(src "$(rows_of "$1")" | md5sum)" = "$(tgt "$(rows_of "$1")" | md5sum)" ]
}
slot_stat() {   # COLUMN of pg_stat_replication_slots for zetl's slot
    src "SELECT coalesce((SELECT $1 FROM pg_stat_replication_slots WHERE slot_name = 'zetl_$NAME'), 0)"
}
spool_bytes() { find "$E2E_DIR/state" -name "$NAME.streamed-*.spool" -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
spools() { find "$E2E_DIR/state" -name "$NAME.streamed-*.spool" 2>/dev/null | wc -l; }
marker() {      # N: a small committed transaction, and wait for it in the target
    src "INSERT INTO $S.mark VALUES ($1)" >/dev/null
    seen() { [ "$(tgt "SELECT count(*) FROM $S.mark WHERE id = $1" 2>/dev/null)" = 1 ]; }
    t_wait $T "marker $1 reaches the target" 120 seen "$1"
}

src "ALTER SYSTEM SET logical_decoding_work_mem = '64kB'" >/dev/null
src "SELECT pg_reload_conf()" >/dev/null
zh_psql_src >/dev/null <<SQL
SET client_min_messages = warning;
DROP PUBLICATION IF EXISTS zetl_$NAME; DROP SCHEMA IF EXISTS $S CASCADE; CREATE SCHEMA $S;
CREATE TABLE $S.big (id int PRIMARY KEY, grp int, v text, n numeric(12,2));
CREATE TABLE $S.mark (id int PRIMARY KEY);
INSERT INTO $S.big SELECT g, g % 10, 'seed ' || g, g / 4.0 FROM generate_series(1, 1000) g;
SQL
e2e_pg_config $NAME $S
e2e_run_start
synced() { [ "$(e2e_status_field "[.integrations[0].tables[] | .state] | join(\",\")")" = "synced,synced" ]; }
t_wait $T "both tables synced before the streamed transactions" 90 synced
marker 1

# ---- 1. a million rows while they run, two kills -------------------------------------
spill0=$(slot_stat spill_bytes)
stream0=$(slot_stat stream_txns)
half=$((ROWS / 2))
sess_open 1
sess 1 "BEGIN;"
sess 1 "INSERT INTO $S.big SELECT g, g % 10, 'streamed ' || g, g / 8.0 FROM generate_series(100001, $((100000 + half))) g;"
sess_sync 1 || t_fail $T "1: the first half inserted" "done" "timeout"
growing() { [ "$(spool_bytes)" -gt 1000000 ]; }
t_wait $T "1: zetl receives the open transaction into a spool while it runs" 60 growing
t_eq $T "1: the target has none of it before the commit" 0 "$(tgt "SELECT count(*) FROM $S.big WHERE id > 100000")"
held_wait() { e2e_status_field '.integrations[0].wait | select(.kind == "held") | "\(.kind) \(.since != null) \(.detail)"'; }
held_shown() {
    [[ $(held_wait) =~ ^held\ true\ 1\ source\ transaction\ streaming\ in.*\ ([0-9.]+)\ MB\ held && ${BASH_REMATCH[1]%.*} -ge 1 ]]
}
t_wait $T "1: status says what it waits on: one source transaction held, its MB" 15 held_shown
t_match $T "1: ... and that it lands at its COMMIT" "applied at its COMMIT" "$(held_wait)"
e2e_run_kill9            # the transaction open, half of it held
e2e_run_start
sess 1 "INSERT INTO $S.big SELECT g, g % 10, 'streamed ' || g, g / 8.0 FROM generate_series($((100001 + half)), $((100000 + ROWS))) g;"
sess 1 "UPDATE $S.big SET n = n + 1, v = v || ' upd' WHERE id % 7 = 0;"
sess 1 "DELETE FROM $S.big WHERE id % 11 = 0 AND id > 100000;"
sess_sync 1 300 || t_fail $T "1: the rest of the transaction run" "done" "timeout"
regrown() { [ "$(spool_bytes)" -gt 1000000 ]; }
t_wait $T "1: after the restart the server sends the open transaction again, from its start" 120 regrown
sess 1 "COMMIT;"
sess_sync 1 || t_fail $T "1: COMMIT" "done" "timeout"
sleep 0.5
e2e_run_kill9            # just after the COMMIT, while it is handed on
e2e_run_start
all_in() { same_rows big; }
t_wait $T "1: every row equal value by value after the commit ($(src "SELECT count(*) FROM $S.big") rows)" 300 all_in
held_gone() { [ "$(e2e_status_field '.integrations[0].wait.kind // "none"')" != held ]; }
t_wait $T "1: once it landed, nothing is shown held" 15 held_gone
t_eq $T "1: the source slot spilled nothing to the server's disk (spill_bytes before, after)" \
    "$spill0" "$(slot_stat spill_bytes)"
t_match $T "1: the transaction came streamed (stream_txns grew from $stream0)" "^[0-9]+$" "$(slot_stat stream_txns)"
[ "$(slot_stat stream_txns)" -gt "$stream0" ] && t_pass $T "1: stream_txns $stream0 → $(slot_stat stream_txns)" ||
    t_fail $T "1: stream_txns grew" "> $stream0" "$(slot_stat stream_txns)"
t_eq $T "1: no spool left once it is applied" 0 "$(spools)"

# ---- 2. rolled back: no trace -----------------------------------------------------------
sess 1 "BEGIN;"
sess 1 "INSERT INTO $S.big SELECT g, 2, 'aborted', 0 FROM generate_series(2000001, 2100000) g;"
sess 1 "UPDATE $S.big SET v = 'aborted' WHERE id <= 1000;"
sess_sync 1 || t_fail $T "2: the doomed transaction run" "done" "timeout"
t_wait $T "2: held while it runs" 60 growing
sess 1 "ROLLBACK;"
marker 2
t_eq $T "2: a rolled-back streamed transaction leaves no row" 0 "$(tgt "SELECT count(*) FROM $S.big WHERE id > 2000000 OR v = 'aborted'")"
t_ok $T "2: the target still equals the source" same_rows big
t_eq $T "2: and no spool" 0 "$(spools)"

# ---- 3. subtransactions ----------------------------------------------------------------------
sess 1 "BEGIN;"
sess 1 "INSERT INTO $S.big SELECT g, 30, 'kept a', 1 FROM generate_series(3000001, 3040000) g;"
sess 1 "SAVEPOINT s1;"
sess 1 "INSERT INTO $S.big SELECT g, 30, 'rolled back b', 1 FROM generate_series(3040001, 3080000) g;"
sess 1 "SAVEPOINT s1n;"
sess 1 "UPDATE $S.big SET v = 'rolled back nested' WHERE id BETWEEN 3000001 AND 3020000;"
sess 1 "RELEASE SAVEPOINT s1n;"
sess 1 "ROLLBACK TO SAVEPOINT s1;"
sess 1 "SAVEPOINT s2;"
sess 1 "INSERT INTO $S.big SELECT g, 30, 'kept c', 1 FROM generate_series(3080001, 3120000) g;"
sess 1 "RELEASE SAVEPOINT s2;"
sess 1 "UPDATE $S.big SET n = n + 5 WHERE id BETWEEN 3000001 AND 3010000;"
sess 1 "COMMIT;"
sess_sync 1 || t_fail $T "3: the transaction with savepoints run" "done" "timeout"
marker 3
t_eq $T "3: the released subtransaction's rows landed, the rolled-back ones' did not (kept a, kept c)" \
    "kept a:40000,kept c:40000" "$(tgt "SELECT string_agg(v || ':' || c, ',' ORDER BY v) FROM
                                        (SELECT v, count(*) c FROM $S.big WHERE grp = 30 GROUP BY v) x")"
t_ok $T "3: every row equal value by value" same_rows big

# ---- 4. two interleaved, committed in the other order ----------------------------------------
sess_open 2
sess 1 "BEGIN;"
sess 2 "BEGIN;"
for i in 0 1 2 3; do
    sess 1 "INSERT INTO $S.big SELECT g, 41, 'one', $i FROM generate_series($((4000001 + i * 20000)), $((4020000 + i * 20000))) g;"
    sess_sync 1
    sess 2 "INSERT INTO $S.big SELECT g, 42, 'two', $i FROM generate_series($((5000001 + i * 20000)), $((5020000 + i * 20000))) g;"
    sess_sync 2
done
sess 2 "COMMIT;"
sess_sync 2
sess 1 "UPDATE $S.big SET v = 'two, then one', n = n + 100 WHERE grp = 42 AND id % 3 = 0;"
sess 1 "COMMIT;"
sess_sync 1
marker 4
agg4="SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT grp || ':' || (v = 'two, then one') || ':' || count(*) k
                                                  FROM $S.big WHERE grp IN (41, 42) GROUP BY grp, v = 'two, then one') x"
t_match $T "4: the source holds both, and the later commit's updates of the earlier's rows" \
    '^41:false:80000,42:false:5[0-9]{4},42:true:2[0-9]{4}$' "$(src "$agg4")"
t_eq $T "4: the target the same: each whole, in commit order" "$(src "$agg4")" "$(tgt "$agg4")"
t_ok $T "4: every row equal value by value" same_rows big
t_eq $T "4: no spool left" 0 "$(spools)"
# ---- 5. a column added inside a streamed transaction ----------------------------------------
sess 1 "BEGIN;"
sess 1 "INSERT INTO $S.big SELECT g, 50, 'before', 5 FROM generate_series(6000001, 6050000) g;"
sess 1 "ALTER TABLE $S.big ADD COLUMN extra text;"
sess 1 "INSERT INTO $S.big SELECT g, 51, 'after', 5, 'extra ' || g FROM generate_series(6050001, 6100000) g;"
sess 1 "UPDATE $S.big SET extra = 'set' WHERE grp = 50 AND id % 2 = 0;"
sess 1 "COMMIT;"
sess_sync 1 || t_fail $T "5: the transaction with ALTER TABLE run" "done" "timeout"
marker 5
rows5="SELECT concat_ws('|', id, grp, v, n, coalesce(extra, '<null>')) FROM $S.big WHERE id > 6000000 ORDER BY id"
t_eq $T "5: the column is in the target, its values row by row as in the source ($(src "SELECT count(*) FROM $S.big WHERE id > 6000000") rows)" \
    "$(src "$rows5" | md5sum)" "$(tgt "$rows5" 2>&1 | md5sum)"
t_eq $T "5: the table still streams (synced)" "synced" \
    "$(e2e_status_field ".integrations[0].tables[] | select(.name == \"$S.big\") | .state")"

# ---- 6. the state directory fills while a transaction is held ------------------------------
e2e_run_stop
t_eq $T "zetl run stops cleanly" 0 "$?"
# zetl stopped, its state directory becomes an 8 MB tmpfs (the checkpoint is
# in the target; the state log starts afresh); a streamed transaction of
# ~50 MB fills it: the integration fails saying where and what to do, and
# once there is room it retries and the server sends the transaction again.
MNT=
if mkdir -p "$E2E_DIR/state.tmpfs" && mount -t tmpfs -o size=8m,mode=0700 tmpfs "$E2E_DIR/state.tmpfs" 2>/dev/null; then
    MNT=$E2E_DIR/state.tmpfs
    sed -i "s|^state_dir: .*|state_dir: $MNT|" "$E2E_DIR/zetl.yaml"
    e2e_run_start
    t_wait $T "6: active on the small state directory" 60 synced
    sess 1 "BEGIN;"
    sess 1 "INSERT INTO $S.big SELECT g, 60, repeat('x', 100), 6 FROM generate_series(7000001, 7400000) g;"
    sess_sync 1 || t_fail $T "6: the big transaction run" "done" "timeout"
    full() { e2e_status_field '.integrations[0].reason' | grep -q 'No space left on device.*holding streamed transaction [0-9]*: free space in '; }
    t_wait $T "6: a full state directory fails the integration, naming it and the fix" 60 full
    echo "# 6: $(e2e_status_field '.integrations[0].reason')"
    t_match $T "6: … whose state is failed" '^(failed|retrying)' "$(e2e_status_field '.integrations[0].state')"
    mount -o remount,size=400m "$MNT"
    sess 1 "COMMIT;"
    sess_sync 1
    marker 6
    t_ok $T "6: with room again it retries and lands the transaction exactly" same_rows big
    t_eq $T "6: no spool left" 0 "$(find "$MNT" -name '*.spool' | wc -l)"
    e2e_run_stop
    umount "$MNT"
else
    echo "SKIP $T: 6: a full state directory (mounting a tmpfs needs root)"
fi

sess_close 1
sess_close 2
t_eq $T "no psql session failed" "" "$(grep -h ERROR "$E2E_DIR"/sess*.out 2>/dev/null | head -n 3)"

t_done
