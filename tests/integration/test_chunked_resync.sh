#!/usr/bin/env bash
# test_chunked_resync.sh — a table resync copies a table whose key is made of
# integer columns in chunks, in key order, with its progress in
# zetl.copy_progress (apply: copy_chunk_rows: 2000), under a workload that
# inserts above the max and below the min, updates, deletes and moves keys
# across the copy's frontier in both directions; for a MariaDB and a
# PostgreSQL source (CR_CASES, default "mysql postgres", picks them).
# MariaDB (each chunk in a fresh consistent read at its binlog position):
#   1. big (BIGINT key, 300000 rows): kill -9 after >= 20 chunks, restart: the
#      copy resumes after the key it had committed (not from row zero); then a
#      second kill -9 at a random moment and a restart;
#   2. pair (composite INT key, 40000 rows): a clean stop (SIGTERM) after its
#      first chunk, restart: it resumes after the committed key;
#   3. ubig (BIGINT UNSIGNED key, ids on both sides of 2^63, its first chunk
#      ending above 2^63): kill -9 after that chunk, restart: resumes after it;
#   4. after the workload: `zetl verify` matches, every row of the tables is
#      equal value by value, every table synced, and no copy_progress row,
#      resync mark or spool file is left.
# For 2 and 3 the test holds the copy after its first chunk with a "gate": a
# trigger on zetl.copy_progress makes the write of chunk 2's progress wait on
# an advisory lock the test holds, so the stop comes mid-copy every time.
# PostgreSQL (each chunk in a temporary slot's exported snapshot, at the
# slot's consistent point):
#   5. big (bigint key, 200000 rows and the keys at both ends of bigint):
#      kill -9 after >= 20 chunks, restart: it resumes after the committed key;
#   6. pair (composite int key, 40000 rows) and empty (no row) resync under
#      the workload;
#   7. as 4, and no replication slot of the integration's is left but its own
#      (every chunk's temporary slot is gone).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/chunked.sh
T=test_chunked_resync
CMD=${ZETL_BUILD:-build}/tools/zetl_command

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
KIND= KP= DB= NAME=              # the case: source kind, its prefix for messages, database/schema, integration
load_pid=
gate_pid=
GATE_LOCK=727274
end_gate_session() {
    zh_psql_tgt -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'zetl_test_gate'" >/dev/null 2>&1
}
# Let the held write go on, then remove the trigger (its DROP waits for that write's transaction).
release_gate() {
    end_gate_session
    [ -n "$gate_pid" ] && wait "$gate_pid" 2>/dev/null
    gate_pid=
    zh_psql_tgt -c "DROP TRIGGER IF EXISTS cr_test_gate ON zetl.copy_progress; DROP FUNCTION IF EXISTS zetl.cr_test_gate()" >/dev/null 2>&1
}
# Ends the case under way: the workload, the gate, zetl, and what it made.
end_case() { chunked_end_case release_gate; }
cleanup() {
    end_case
    e2e_cleanup
}
trap 'cleanup; harness_stop' EXIT
DBFILE=$E2E_DIR/state/zetl.db


table_state() { e2e_status_field ".integrations[] | select(.name == \"$NAME\") | .tables[] | select(.name == \"$DB.$1\") | .state"; }
marked() { zh_psql_tgt -c "SELECT count(*) FROM zetl.resyncs WHERE integration = '$NAME' AND source_table = '$DB.$1'"; }
copy_done_after() {
    [ "$(sl "SELECT count(*) FROM events WHERE integration = '$NAME' AND tbl = '$DB.$1' AND kind = 'resync'
             AND id > $2 AND message LIKE 'copy done;%'")" -ge 1 ]
}
# The killed or stopped zetl's target sessions are gone (a session blocked on
# the gate ends only after the gate is released), so copy_progress is final.
zetl_sessions_gone() {
    [ "$(zh_psql_tgt -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'zetl%'
                         AND application_name <> 'zetl_test_gate'")" = 0 ]
}
resync() { "$CMD" "$DBFILE" "$NAME" resync "$DB.$1" 2>&1; }
resyncing() { [ "$(table_state big)" = resyncing ]; }
chunks20() { local p; p=$(progress big); [ "${p##*|}" -ge 20 ] 2>/dev/null || { echo "$p"; return 1; }; }
mark_survives() { t_eq $T "${KP}big: the resync mark survives the kill" "1" "$(marked big)"; }
synced_big() { [ "$(table_state big)" = synced ]; }

# gate TABLE: from now on the write of TABLE's progress for chunk 2 or later
# waits until release_gate (a trigger on zetl.copy_progress takes the advisory
# lock a background session holds); chunk 1's progress commits.
gate() {
    local out
    out=$(zh_psql_tgt 2>&1 <<SQL
SET client_min_messages = warning;
CREATE OR REPLACE FUNCTION zetl.cr_test_gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_advisory_xact_lock_shared($GATE_LOCK); RETURN NEW; END \$\$;
DROP TRIGGER IF EXISTS cr_test_gate ON zetl.copy_progress;
CREATE TRIGGER cr_test_gate BEFORE INSERT OR UPDATE ON zetl.copy_progress FOR EACH ROW
    WHEN (NEW.integration = '$NAME' AND NEW.source_table = '$DB.$1' AND NEW.chunks >= 2)
    EXECUTE FUNCTION zetl.cr_test_gate();
SQL
)
    t_eq $T "$1: the gate trigger is on zetl.copy_progress" "" "$out"
    zh_psql_tgt -c "SET application_name = 'zetl_test_gate'" -c "SELECT pg_advisory_lock($GATE_LOCK)" \
        -c "SELECT pg_sleep(600)" >/dev/null 2>"$E2E_DIR/gate.err" &
    gate_pid=$!
    wait_up "$1: the gate session holds the advisory lock" 10 gate_up || t_done
}
gate_dead() { kill -0 "$gate_pid" 2>/dev/null && return 1; echo "the gate session ended: $(cat "$E2E_DIR/gate.err")"; }
gate_up() {
    gate_dead && return 2
    [ "$(zh_psql_tgt -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                         WHERE a.application_name = 'zetl_test_gate' AND l.locktype = 'advisory' AND l.granted")" = 1 ]
}
gate_blocks() {
    gate_dead && return 2
    [ "$(zh_psql_tgt -c "SELECT count(*) FROM pg_stat_activity a WHERE
            (SELECT pid FROM pg_stat_activity WHERE application_name = 'zetl_test_gate') = ANY (pg_blocking_pids(a.pid))")" -ge 1 ]
}


# finish_case: every table synced, nothing of the copies left, a clean stop.
finish_case() {
    all_synced() { [ "$(e2e_status_field "[.integrations[] | select(.name == \"$NAME\") | .tables[].state] | unique | join(\",\")")" = synced ]; }
    wait_up "${KP}every table synced" 30 all_synced
    t_eq $T "${KP}no copy_progress row left" "0" \
        "$(zh_psql_tgt -c "SELECT count(*) FROM zetl.copy_progress WHERE integration = '$NAME'" 2>&1)"
    t_eq $T "${KP}no resync mark left" "0" \
        "$(zh_psql_tgt -c "SELECT count(*) FROM zetl.resyncs WHERE integration = '$NAME'" 2>&1)"
    e2e_run_stop; t_eq $T "${KP}zetl run stops cleanly" "0" "$?"
    t_eq $T "${KP}no spool file left" "0" "$(find "$E2E_DIR/state" -name '*.spool' | wc -l)"
}

mysql_case() {
    KIND=mysql KP= DB=cr_my NAME=cr_my
    # 1. The source tables, and the initial copy.
    zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; USE $DB;
CREATE TABLE big (id BIGINT PRIMARY KEY, v INT, s VARCHAR(64));
CREATE TABLE pair (a INT, b INT, v INT, PRIMARY KEY (a, b));
CREATE TABLE ubig (id BIGINT UNSIGNED PRIMARY KEY, v INT);
CREATE TABLE small (id INT PRIMARY KEY, v INT);
INSERT INTO big SELECT seq, IF(seq % 11 = 0, NULL, seq % 97), IF(seq % 13 = 0, NULL, CONCAT('row ', seq)) FROM seq_1_to_300000;
INSERT INTO pair SELECT seq DIV 200, CAST(seq AS SIGNED) % 200 - 100, seq FROM seq_1_to_40000;
INSERT INTO ubig SELECT seq, seq FROM seq_1_to_100;
INSERT INTO ubig SELECT CAST(9223372036854775800 AS UNSIGNED) + seq, seq FROM seq_1_to_3000;
INSERT INTO ubig SELECT CAST(18446744073709000000 AS UNSIGNED) + seq, seq FROM seq_1_to_1900;
INSERT INTO small SELECT seq, seq FROM seq_1_to_100;
SQL
    t_eq $T "the source rows are in place (big, pair, ubig above 2^63, small)" "300000|40000|4893|100" \
        "$(zh_mysql $DB -e "SELECT CONCAT_WS('|', (SELECT count(*) FROM big), (SELECT count(*) FROM pair),
                            (SELECT count(*) FROM ubig WHERE id > 9223372036854775807), (SELECT count(*) FROM small))")"
    target_reset
    e2e_my_config "$NAME" "$DB" 5311 "batch_ms: 100, copy_chunk_rows: 2000"
    e2e_run_start
    wait_up "initial copy matches (zetl verify)" 120 verify_ok || t_done

    # 2. The workload: every transaction changes big, pair and ubig on both sides
    # of any frontier and moves keys low -> high and high -> low.
    my_workload() {
        local i=0 r1 r2 r3 r4 ra rb rc u_new u_up u_del u_mv_from u_mv_to u_high u_mid
        while [ -f "$E2E_DIR/go" ]; do
            i=$((i + 1))
            r1=$(((RANDOM << 15 | RANDOM) % 300000 + 1)); r2=$(((RANDOM << 15 | RANDOM) % 300000 + 1))
            r3=$(((RANDOM << 15 | RANDOM) % 150000 + 1)); r4=$(((RANDOM << 15 | RANDOM) % 150000 + 150001))
            ra=$((RANDOM % 100)); rb=$((RANDOM % 200 - 100)); rc=$((RANDOM % 200 - 100))
            # ubig: new ids above every id; changes around 2^63; moves from the
            # lowest ids to the top and from the top to the middle (never below 2^63)
            printf -v u_new '18446744073709%06d' $((100000 + i))
            printf -v u_up '92233720368547%05d' $((75800 + RANDOM % 3000 + 1))
            printf -v u_del '92233720368547%05d' $((75800 + RANDOM % 3000 + 1))
            u_mv_from=$((RANDOM % 100 + 1))
            printf -v u_mv_to '18446744073709%06d' $((200000 + u_mv_from))
            printf -v u_high '18446744073709%06d' $((RANDOM % 1900 + 1))
            printf -v u_mid '92233720368548%05d' "$i"
            echo "BEGIN;
                  INSERT INTO big VALUES ($((2000000 + i)), $i, 'w$i'), (-$i, -$i, NULL);
                  UPDATE big SET v = v + 1, s = IF(id % 7 = 0, NULL, 'u$i') WHERE id = $r1;
                  DELETE FROM big WHERE id = $r2;
                  UPDATE big SET id = id + 1000000 WHERE id = $r3;
                  UPDATE big SET id = -(1000000 + $i) WHERE id = $r4;
                  INSERT INTO pair VALUES ($((1000 + i)), $((i % 7 - 3)), $i), (-$i, 5, NULL);
                  UPDATE pair SET v = v + 1 WHERE a = $((RANDOM % 201)) AND b = $rb;
                  DELETE FROM pair WHERE a = $((RANDOM % 201)) AND b = $rc;
                  UPDATE pair SET a = a + 100000 WHERE a = $ra AND b = $rb;
                  UPDATE pair SET a = -(100000 + $i) WHERE a = $((100 + RANDOM % 100)) AND b = $rc;
                  INSERT INTO ubig VALUES ($u_new, $i);
                  UPDATE ubig SET v = v + 1 WHERE id = $u_up;
                  DELETE FROM ubig WHERE id = $u_del;
                  UPDATE ubig SET id = $u_mv_to WHERE id = $u_mv_from;
                  UPDATE ubig SET id = $u_mid WHERE id = $u_high;
                  INSERT INTO small VALUES ($((1000000 + i)), $i);
                  COMMIT;"
            sleep 0.01
        done | zh_mysql $DB >/dev/null 2>"$E2E_DIR/workload.err"
    }
    touch "$E2E_DIR/go"
    my_workload & load_pid=$!
    sleep 1

    # 3. big: kill -9 after >= 20 committed chunks; it resumes after its key.
    ev0=$(ev_max)
    t_eq $T "big: resync acknowledged" "ok" "$(resync big)"
    wait_up "big is resyncing" 20 resyncing || t_done
    wait_up "big: copy_progress shows >= 20 committed chunks" 60 chunks20 || t_done
    kill_mid_copy big "big:" mark_survives
    t_match $T "big: copied_to was a key before the kill (\"$KILL_PRE\")" '^-?[0-9]+$' "${KILL_PRE%|*}"

    # A second kill -9 at a random moment, and a restart.
    ms=$((RANDOM % 2500 + 500))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    e2e_run_kill9
    wait_up "big: the target sessions of the second killed zetl are gone (killed after ${ms} ms)" 20 zetl_sessions_gone
    post2=$(progress big)
    mark2=$(marked big)
    ev2=$(ev_max)
    e2e_run_start
    if [ -n "$post2" ]; then
        t_eq $T "big: killed again mid-copy (copy_progress $post2): its mark is there" "1" "$mark2"
        if [ "${post2%|*}" = "<null>" ]; then
            t_fail $T "big: a second kill after resuming" "a committed key in copy_progress" "\"$post2\""
        else
            wait_up "big: resumes again after the second restart" 30 has_resume big "$ev2"
            t_eq $T "big: the second resume is after the key committed before the second kill" "${post2%|*}" "$(resume_key big "$ev2")"
        fi
    else
        t_eq $T "big: the copy was done before the second kill: no mark without a progress row" "0" "$mark2"
    fi
    wait_up "big is synced after its chunked copy" 120 synced_big || t_done
    t_ok $T "big: a 'copy done;' event" copy_done_after big "$ev0"

    # 4. pair: a clean stop while the gate holds its copy after chunk 1; resume.
    e2e_wait_running 30
    gate pair
    ev3=$(ev_max)
    t_eq $T "pair: resync acknowledged" "ok" "$(resync pair)"
    wait_up "pair: its copy waits on the gate after chunk 1" 60 gate_blocks || t_done
    mid=$(progress pair)
    t_match $T "pair: copied_to is a composite key after chunk 1 (\"$mid\")" '^-?[0-9]+,-?[0-9]+\|1$' "$mid"
    # The gate is released 2 s after SIGTERM; a zetl still running 30 s later is killed (then rc is not 0).
    zpid=$E2E_PID
    ( sleep 2; end_gate_session
      for _ in $(seq 300); do kill -0 "$zpid" 2>/dev/null || exit 0; sleep 0.1; done; kill -9 "$zpid" 2>/dev/null ) &
    releaser=$!
    e2e_run_stop; rc=$?
    t_eq $T "pair: zetl run stops cleanly (SIGTERM) mid-copy" "0" "$rc"
    wait "$releaser"; release_gate
    wait_up "pair: the stopped zetl's target sessions are gone" 20 zetl_sessions_gone
    post=$(progress pair)
    t_match $T "pair: after the stop the copy is unfinished, its frontier kept" '^-?[0-9]+,-?[0-9]+\|[0-9]+$' "$post"
    t_eq $T "pair: the resync mark survives the stop" "1" "$(marked pair)"
    ev4=$(ev_max)
    e2e_run_start
    wait_up "pair: a 'resuming after key' event after the restart" 30 has_resume pair "$ev4"
    t_eq $T "pair: resumes after the key committed before the stop" "${post%|*}" "$(resume_key pair "$ev4")"
    synced_pair() { [ "$(table_state pair)" = synced ]; }
    wait_up "pair is synced after its chunked copy" 120 synced_pair || t_done
    t_ok $T "pair: a 'copy done;' event" copy_done_after pair "$ev3"

    # 5. ubig: kill -9 while the gate holds its copy after chunk 1 (which ends above 2^63); resume.
    e2e_wait_running 30
    gate ubig
    ev5=$(ev_max)
    t_eq $T "ubig: resync acknowledged" "ok" "$(resync ubig)"
    wait_up "ubig: its copy waits on the gate after chunk 1" 60 gate_blocks || t_done
    mid=$(progress ubig)
    t_match $T "ubig: copied_to is an unsigned decimal key after chunk 1 (\"$mid\")" '^[0-9]{19,20}\|1$' "$mid"
    t_eq $T "ubig: that key is above 2^63" "t" \
        "$(zh_psql_tgt -c "SELECT '${mid%|*}'::numeric > 9223372036854775807" 2>&1)"
    e2e_run_kill9
    release_gate
    wait_up "ubig: the killed zetl's target sessions are gone" 20 zetl_sessions_gone
    post=$(progress ubig)
    t_match $T "ubig: after the kill copy_progress still holds the frontier" '^[0-9]{19,20}\|[0-9]+$' "$post"
    ev6=$(ev_max)
    e2e_run_start
    wait_up "ubig: a 'resuming after key' event after the restart" 30 has_resume ubig "$ev6"
    t_eq $T "ubig: resumes after the unsigned key committed before the kill" "${post%|*}" "$(resume_key ubig "$ev6")"
    synced_ubig() { [ "$(table_state ubig)" = synced ]; }
    wait_up "ubig is synced after its chunked copy" 120 synced_ubig || t_done
    t_ok $T "ubig: a 'copy done;' event" copy_done_after ubig "$ev5"

    # 6. Stop the workload; exact match, then value by value.
    rm -f "$E2E_DIR/go"; wait "$load_pid"; rc=$?; load_pid=
    t_eq $T "the workload ran without an SQL error" "0|" "$rc|$(head -c 300 "$E2E_DIR/workload.err")"
    txns=$(zh_mysql $DB -e "SELECT count(*) FROM small WHERE id > 1000000")
    if [ "${txns:-0}" -ge 100 ]; then t_pass $T "the workload committed $txns transactions during the resyncs"
    else t_fail $T "the workload ran during the resyncs" ">= 100 transactions" "\"$txns\""; fi
    wait_up "after the workload: zetl verify matches exactly" 120 verify_ok

    same_rows big "id v s" id
    same_rows pair "a b v" "a, b"
    same_rows ubig "id v" id
    same_rows small "id v" id
    finish_case
    end_case
}

pg_case() {
    KIND=postgres KP="postgres: " DB=cr_pg NAME=cr_pg
    # The source tables (big's keys reach both ends of bigint), and the initial copy.
    zh_psql_src <<SQL >/dev/null
SET client_min_messages = warning;
DROP PUBLICATION IF EXISTS zetl_$NAME; DROP SCHEMA IF EXISTS $DB CASCADE; CREATE SCHEMA $DB;
CREATE TABLE $DB.big (id bigint PRIMARY KEY, v int, s text);
CREATE TABLE $DB.pair (a int, b int, v int, PRIMARY KEY (a, b));
CREATE TABLE $DB.empty (id bigint PRIMARY KEY, v int);
CREATE TABLE $DB.small (id int PRIMARY KEY, v int);
INSERT INTO $DB.big SELECT g, CASE WHEN g % 11 <> 0 THEN g % 97 END, CASE WHEN g % 13 <> 0 THEN 'row ' || g END
    FROM generate_series(1, 200000) g;
INSERT INTO $DB.big SELECT -9223372036854775808 + g, g, 'low' FROM generate_series(0, 2) g;
INSERT INTO $DB.big SELECT 9223372036854775807 - g, g, 'high' FROM generate_series(0, 2) g;
INSERT INTO $DB.pair SELECT g / 200, g % 200 - 100, g FROM generate_series(1, 40000) g;
INSERT INTO $DB.small SELECT g, g FROM generate_series(1, 100) g;
SQL
    t_eq $T "${KP}the source rows are in place (big with both ends of bigint, pair, empty, small)" \
        "200006|-9223372036854775808|9223372036854775807|40000|0|100" \
        "$(zh_psql_src -c "SELECT concat_ws('|', (SELECT count(*) FROM $DB.big), (SELECT min(id) FROM $DB.big),
                           (SELECT max(id) FROM $DB.big), (SELECT count(*) FROM $DB.pair),
                           (SELECT count(*) FROM $DB.empty), (SELECT count(*) FROM $DB.small))")"
    target_reset
    rm -rf "$E2E_DIR/state"
    e2e_pg_config "$NAME" "$DB"
    sed -i 's/^      batch_ms: 100$/&\n      copy_chunk_rows: 2000/' "$E2E_DIR/zetl.yaml"
    t_eq $T "${KP}the config copies in chunks of 2000 rows" "1" "$(grep -c '^      copy_chunk_rows: 2000$' "$E2E_DIR/zetl.yaml")"
    e2e_run_start
    wait_up "${KP}initial copy matches (zetl verify)" 120 verify_ok || t_done

    # The workload: as MariaDB's, every transaction changes big and pair on
    # both sides of any frontier and moves keys low -> high and high -> low.
    pg_workload() {
        local i=0 r1 r2 r3 r4 ra rb rc
        while [ -f "$E2E_DIR/go" ]; do
            i=$((i + 1))
            r1=$(((RANDOM << 15 | RANDOM) % 200000 + 1)); r2=$(((RANDOM << 15 | RANDOM) % 200000 + 1))
            r3=$(((RANDOM << 15 | RANDOM) % 100000 + 1)); r4=$(((RANDOM << 15 | RANDOM) % 100000 + 100001))
            ra=$((RANDOM % 100)); rb=$((RANDOM % 200 - 100)); rc=$((RANDOM % 200 - 100))
            echo "BEGIN;
                  INSERT INTO $DB.big VALUES ($((2000000 + i)), $i, 'w$i'), (-$i, -$i, NULL);
                  UPDATE $DB.big SET v = v + 1, s = CASE WHEN id % 7 = 0 THEN NULL ELSE 'u$i' END WHERE id = $r1;
                  DELETE FROM $DB.big WHERE id = $r2;
                  UPDATE $DB.big SET id = id + 1000000 WHERE id = $r3;
                  UPDATE $DB.big SET id = -(1000000 + $i) WHERE id = $r4;
                  INSERT INTO $DB.pair VALUES ($((1000 + i)), $((i % 7 - 3)), $i), (-$i, 5, NULL);
                  UPDATE $DB.pair SET v = v + 1 WHERE a = $((RANDOM % 201)) AND b = $rb;
                  DELETE FROM $DB.pair WHERE a = $((RANDOM % 201)) AND b = $rc;
                  UPDATE $DB.pair SET a = a + 100000 WHERE a = $ra AND b = $rb;
                  UPDATE $DB.pair SET a = -(100000 + $i) WHERE a = $((100 + RANDOM % 100)) AND b = $rc;
                  INSERT INTO $DB.small VALUES ($((1000000 + i)), $i);
                  COMMIT;"
            sleep 0.01
        done | zh_psql_src >/dev/null 2>"$E2E_DIR/workload.err"
    }
    touch "$E2E_DIR/go"
    pg_workload & load_pid=$!
    sleep 1

    # 5. big: kill -9 after >= 20 committed chunks; it resumes after its key.
    ev0=$(ev_max)
    t_eq $T "${KP}big: resync acknowledged" "ok" "$(resync big)"
    wait_up "${KP}big is resyncing" 20 resyncing || t_done
    wait_up "${KP}big: copy_progress shows >= 20 committed chunks" 60 chunks20 || t_done
    # Each chunk's slot is temporary: it goes with the killed zetl's connection.
    temp_slots() { zh_psql_src -c "SELECT coalesce(string_agg(slot_name, ','), '') FROM pg_replication_slots
                                   WHERE slot_name LIKE 'zetl_${NAME}_rs_%'"; }
    no_temp_slots() { [ -z "$(temp_slots)" ]; }
    killed_checks() {
        wait_up "${KP}big: no temporary slot of the killed zetl is left" 20 no_temp_slots
        mark_survives
    }
    kill_mid_copy big "${KP}big:" killed_checks
    t_match $T "${KP}big: copied_to was a key before the kill (\"$KILL_PRE\")" '^-?[0-9]+$' "${KILL_PRE%|*}"
    wait_up "${KP}big is synced after its chunked copy" 120 synced_big || t_done
    t_ok $T "${KP}big: a 'copy done;' event" copy_done_after big "$ev0"

    # 6. pair (composite key) and empty (no row): chunked resyncs under the workload.
    e2e_wait_running 30
    ev2=$(ev_max)
    t_eq $T "${KP}pair: resync acknowledged" "ok" "$(resync pair)"
    t_eq $T "${KP}empty: resync acknowledged" "ok" "$(resync empty)"
    wait_up "${KP}pair: a 'copy done;' event" 120 copy_done_after pair "$ev2" || t_done
    wait_up "${KP}empty: a 'copy done;' event" 60 copy_done_after empty "$ev2" || t_done
    for t in pair empty; do
        t_eq $T "${KP}$t: copied in chunks by key" "1" \
            "$(sl "SELECT count(*) FROM events WHERE integration = '$NAME' AND tbl = '$DB.$t' AND kind = 'resync'
                   AND id > $ev2 AND message LIKE 'copying the table again in chunks of 2000 rows by key;%'")"
    done

    # 7. Stop the workload; exact match, then value by value; no slot left but the integration's.
    rm -f "$E2E_DIR/go"; wait "$load_pid"; rc=$?; load_pid=
    t_eq $T "${KP}the workload ran without an SQL error" "0|" "$rc|$(head -c 300 "$E2E_DIR/workload.err")"
    txns=$(zh_psql_src -c "SELECT count(*) FROM $DB.small WHERE id > 1000000")
    if [ "${txns:-0}" -ge 100 ]; then t_pass $T "${KP}the workload committed $txns transactions during the resyncs"
    else t_fail $T "${KP}the workload ran during the resyncs" ">= 100 transactions" "\"$txns\""; fi
    wait_up "${KP}after the workload: zetl verify matches exactly" 120 verify_ok
    same_rows big "id v s" id
    same_rows pair "a b v" "a, b"
    same_rows small "id v" id
    t_eq $T "${KP}empty: no row in the target either" "0" "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.empty" 2>&1)"
    t_eq $T "${KP}while zetl runs, no slot of the integration's but its own (each chunk's is gone)" "zetl_$NAME" \
        "$(zh_psql_src -c "SELECT string_agg(slot_name, ',') FROM pg_replication_slots WHERE slot_name LIKE 'zetl_$NAME%'")"
    finish_case
    end_case
}

[[ ${CR_CASES:-mysql postgres} == *mysql* ]] && mysql_case
[[ ${CR_CASES:-mysql postgres} == *postgres* ]] && pg_case
t_done
