#!/usr/bin/env bash
# test_chunked_initial.sh — the initial copy in chunks while the stream runs
# (runtime/integ/copy.c, copy_by_chunks; apply: copy_chunk_rows: 2000), for a
# MariaDB and a PostgreSQL source (CI_CASES, default "mysql postgres"):
#   1. zetl starts on a source under a workload (inserts, updates, deletes,
#      keys moved up and down) on a big table (BIGINT key), a composite-key
#      table, a table without a primary key but with a unique key of NOT
#      NULL integers (uk: it goes in chunks by that key) and a table without
#      any key (in one read). At once the checkpoint is written with
#      every table marked, and the stream runs during the copy: the
#      integration is snapshotting, the tables waiting their turn pending with
#      the reason; the first table copied (a, small) is synced while big is
#      still copying, and a row inserted into it then reaches the target
#      before big's copy is done.
#   2. kill -9 once big has committed >= 5 chunks: the checkpoint and its
#      progress survive, and after the restart big's copy resumes after the
#      committed key (not from row zero); then three kill -9 at random moments
#      (0.5-3 s) with restarts.
#   3. after the workload: `zetl verify` matches, the keyed tables are equal
#      value by value, every table synced, the integration active, and no
#      copy_progress row, resync mark or spool file is left.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/chunked.sh
T=test_chunked_initial

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
KIND= KP= DB= NAME=
load_pid=
# The pace: each write of big's copy progress (a chunk's hand-off) sleeps
# 0.15 s, so its 60 chunks last past the checks and the kill below however
# fast the machine (the worker runs at most 4 chunks ahead of the hand-offs).
has_progress_table() { [ "$(zh_psql_tgt -c "SELECT to_regclass('zetl.copy_progress') IS NOT NULL")" = t ]; }
pace_big() {
    t_eq $T "${KP}the pace trigger is on zetl.copy_progress" "" "$(zh_psql_tgt 2>&1 <<SQL
SET client_min_messages = warning;
CREATE OR REPLACE FUNCTION zetl.ci_test_pace() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_sleep(0.15); RETURN NEW; END \$\$;
DROP TRIGGER IF EXISTS ci_test_pace ON zetl.copy_progress;
CREATE TRIGGER ci_test_pace BEFORE INSERT OR UPDATE ON zetl.copy_progress FOR EACH ROW
    WHEN (NEW.integration = '$NAME' AND NEW.source_table = '$DB.big') EXECUTE FUNCTION zetl.ci_test_pace();
SQL
)"
}
unpace() {
    zh_psql_tgt -c "DROP TRIGGER IF EXISTS ci_test_pace ON zetl.copy_progress; DROP FUNCTION IF EXISTS zetl.ci_test_pace()" >/dev/null 2>&1
}
end_case() { chunked_end_case unpace; }
trap 'end_case; e2e_cleanup; harness_stop' EXIT
DBFILE=$E2E_DIR/state/zetl.db

st() { e2e_status_field ".integrations[] | select(.name == \"$NAME\") | $1"; }
table_state() { st ".tables[] | select(.name == \"$DB.$1\") | .state"; }
table_reason() { st ".tables[] | select(.name == \"$DB.$1\") | .reason // \"\""; }
checkpoint() { zh_psql_tgt -c "SELECT position FROM zetl.checkpoints WHERE integration = '$NAME'" 2>&1; }
marks() { zh_psql_tgt -c "SELECT count(*) FROM zetl.resyncs WHERE integration = '$NAME'" 2>&1; }
zetl_sessions_gone() {
    [ "$(zh_psql_tgt -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'zetl%'")" = 0 ]
}
big_chunks5() { local p; p=$(progress big); [ "${p##*|}" -ge 5 ] 2>/dev/null || { echo "big: '$p'"; return 1; }; }
a_synced() { local s; s=$(table_state a); echo "a: $s"; [ "$s" = synced ]; }
in_target() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.a WHERE id = $1" 2>&1)" = 1 ]; }
src() { if [ "$KIND" = mysql ]; then zh_mysql $DB -e "$1"; else zh_psql_src -c "SET search_path = $DB" -c "$1"; fi; }


# The workload, the same SQL for both sources: every transaction changes big
# and pair on both sides of any frontier, moves keys up and down, adds to the
# keyless table, and changes uk (no primary key; a unique key of NOT NULL
# integers, which its chunks go by) the same ways.
workload() {
    local i=0 r1 r2 r3 r4 ra rb rc
    while [ -f "$E2E_DIR/go" ]; do
        i=$((i + 1))
        r1=$(((RANDOM << 15 | RANDOM) % 120000 + 1)); r2=$(((RANDOM << 15 | RANDOM) % 120000 + 1))
        r3=$(((RANDOM << 15 | RANDOM) % 60000 + 1)); r4=$(((RANDOM << 15 | RANDOM) % 60000 + 60001))
        ra=$((RANDOM % 100)); rb=$((RANDOM % 200 - 100)); rc=$((RANDOM % 200 - 100))
        echo "BEGIN;
              INSERT INTO big VALUES ($((2000000 + i)), $i, 'w$i'), (-$i, -$i, NULL);
              UPDATE big SET v = v + 1, s = 'u$i' WHERE id = $r1;
              DELETE FROM big WHERE id = $r2;
              UPDATE big SET id = id + 1000000 WHERE id = $r3;
              UPDATE big SET id = -(1000000 + $i) WHERE id = $r4;
              INSERT INTO pair VALUES ($((1000 + i)), $((i % 7 - 3)), $i), (-$i, 5, NULL);
              UPDATE pair SET v = v + 1 WHERE a = $((RANDOM % 201)) AND b = $rb;
              DELETE FROM pair WHERE a = $((RANDOM % 201)) AND b = $rc;
              UPDATE pair SET a = a + 100000 WHERE a = $ra AND b = $rb;
              INSERT INTO loose VALUES ($i, 'w$i');
              INSERT INTO uk VALUES ($((500000 + i)), $i);
              UPDATE uk SET v = v + 1 WHERE u = $((RANDOM % 8000 + 1));
              DELETE FROM uk WHERE u = $((RANDOM % 8000 + 1));
              UPDATE uk SET u = u + 1000000 WHERE u = $((RANDOM % 8000 + 1));
              DELETE FROM loose WHERE x = $((RANDOM % 3000));
              COMMIT;"
        sleep 0.01
    done | if [ "$KIND" = mysql ]; then zh_mysql $DB; else zh_psql_src -c "SET search_path = $DB" -f -; fi \
        >/dev/null 2>"$E2E_DIR/workload.err"
}

run_case() {
    local ev0 ev1 pre post k i ms
    # 1. Streaming from the start.
    touch "$E2E_DIR/go"
    workload & load_pid=$!
    ev0=$(ev_max 2>/dev/null || echo 0)
    has_progress_table && pace_big
    e2e_run_start
    if ! has_progress_table; then            # a fresh target: zetl makes its tables first
        wait_up "${KP}zetl made zetl.copy_progress" 30 has_progress_table || t_done
        pace_big
    fi
    wait_up "${KP}big's copy has committed >= 5 chunks" 90 big_chunks5 || t_done
    # How many tables copied at once so far, from the state log's transitions
    # in order: into snapshotting +1, out of it -1.
    local most
    most=$(sl "SELECT message FROM events WHERE integration = '$NAME' AND kind = 'transition'
               AND tbl IS NOT NULL AND id > $ev0 ORDER BY id" |
           awk '/-> snapshotting/ { n++ } /^snapshotting -> / { n-- } n > m { m = n } END { print m + 0 }')
    t_eq $T "${KP}copy_workers: 2 tables copy at once, never more" "2" "$most"
    t_match $T "${KP}the checkpoint is written at once, with the copy under way" '.' "$(checkpoint)"
    t_eq $T "${KP}the integration is snapshotting while the tables copy" "snapshotting" "$(st .state)"
    t_eq $T "${KP}big is snapshotting" "snapshotting" "$(table_state big)"
    t_match $T "${KP}a table waiting its turn was pending, and said so" "waiting for its turn in the initial copy" \
        "$(sl "SELECT group_concat(message, ' / ') FROM events WHERE integration = '$NAME' AND tbl = '$DB.pair' AND id > $ev0")"
    t_match $T "${KP}big's progress has a key" '^-?[0-9]+\|[0-9]+$' "$(progress big)"
    t_match $T "${KP}status --json shows big's copy (rows, chunks)" '^[0-9]+ [0-9]+$' \
        "$(st '.tables[] | select(.name == "'"$DB"'.big") | "\(.copy.rows) \(.copy.chunks)"')"
    t_eq $T "${KP}a, copied first, is synced while big copies" "synced" "$(table_state a)"
    src "INSERT INTO a VALUES (777777, 1)" >/dev/null
    wait_up "${KP}a row inserted into a reaches the target during big's copy" 20 in_target 777777
    t_eq $T "${KP}big is still copying then" "snapshotting" "$(table_state big)"

    # 2. kill -9 mid-copy: resumes after the committed key.
    kill_mid_copy big "${KP}big:"
    t_match $T "${KP}and the checkpoint is there" '.' "$(checkpoint)"
    for i in 1 2 3; do
        ms=$((RANDOM % 2500 + 500))
        sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
        e2e_run_kill9
        e2e_run_start
    done
    t_pass $T "${KP}three more kill -9 at random moments, each restarted"

    # 3. The end state.
    rm -f "$E2E_DIR/go"
    wait "$load_pid" 2>/dev/null
    load_pid=
    t_eq $T "${KP}the workload ran without errors" "" "$(grep -v '^SET$' "$E2E_DIR/workload.err" | head -n 3)"
    wait_up "${KP}exact match (zetl verify) after the chunked initial copy under kills" 180 verify_ok
    same_rows big "id v s" id
    same_rows pair "a b v" "a, b"
    same_rows a "id v" id
    same_rows uk "u v" u
    t_match $T "${KP}uk, without a primary key, went in chunks by its unique key of NOT NULL integers" \
        'copy done; [0-9]+ rows in ([2-9]|[1-9][0-9]+) chunks' \
        "$(sl "SELECT group_concat(message, ' / ') FROM events WHERE integration = '$NAME' AND tbl = '$DB.uk' AND id > $ev0")"
    t_match $T "${KP}loose, without any key, went in one read" 'copying the table again; its changes wait in' \
        "$(sl "SELECT group_concat(message, ' / ') FROM events WHERE integration = '$NAME' AND tbl = '$DB.loose' AND id > $ev0")"
    all_synced() { [ "$(st '[.tables[].state] | unique | join(",")')" = synced ]; }
    wait_up "${KP}every table synced" 30 all_synced
    t_eq $T "${KP}the integration is active" "active" "$(st .state)"
    t_eq $T "${KP}no copy_progress row left" "0" \
        "$(zh_psql_tgt -c "SELECT count(*) FROM zetl.copy_progress WHERE integration = '$NAME'" 2>&1)"
    t_eq $T "${KP}no resync mark left" "0" "$(marks)"
    e2e_run_stop; t_eq $T "${KP}zetl run stops cleanly" "0" "$?"
    # The stop cuts zetl's own links (a read blocked on a frozen one ends):
    # what that does to the call under way is no warning for the operator.
    t_eq $T "${KP}a clean stop logs no warning" "" \
        "$(sl "SELECT group_concat(message, ' / ') FROM events WHERE integration = '$NAME' AND kind = 'stop'
               AND level <> 'info' AND id > $ev0")"
    t_eq $T "${KP}no spool file left" "0" "$(find "$E2E_DIR/state" -name '*.spool' | wc -l)"
    t_match $T "${KP}the event log says how the copy went" "initial copy of 5 tables while streaming from" \
        "$(sl "SELECT message FROM events WHERE integration = '$NAME' AND kind = 'snapshot' AND id > $ev0")"
}

mysql_case() {
    KIND=mysql KP= DB=ci_my NAME=ci_my
    zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; USE $DB;
CREATE TABLE a (id INT PRIMARY KEY, v INT);
CREATE TABLE big (id BIGINT PRIMARY KEY, v INT, s VARCHAR(64));
CREATE TABLE pair (a INT, b INT, v INT, PRIMARY KEY (a, b));
CREATE TABLE loose (x INT, y VARCHAR(10));
CREATE TABLE uk (u BIGINT NOT NULL, v INT, UNIQUE KEY (u));
INSERT INTO uk SELECT seq, seq FROM seq_1_to_8000;
INSERT INTO a SELECT seq, seq FROM seq_1_to_300;
INSERT INTO big SELECT seq, IF(seq % 11 = 0, NULL, seq % 97), IF(seq % 13 = 0, NULL, CONCAT('row ', seq)) FROM seq_1_to_120000;
INSERT INTO pair SELECT seq DIV 200, CAST(seq AS SIGNED) % 200 - 100, seq FROM seq_1_to_20000;
INSERT INTO loose SELECT seq, 'y' FROM seq_1_to_3000;
SQL
    target_reset
    rm -rf "$E2E_DIR/state"
    e2e_my_config "$NAME" "$DB" 5411 "batch_ms: 100, copy_chunk_rows: 2000, copy_workers: 2"
    run_case
    end_case
}

pg_case() {
    KIND=postgres KP="postgres: " DB=ci_pg NAME=ci_pg
    zh_psql_src <<SQL >/dev/null
SET client_min_messages = warning;
DROP PUBLICATION IF EXISTS zetl_$NAME; DROP SCHEMA IF EXISTS $DB CASCADE; CREATE SCHEMA $DB;
CREATE TABLE $DB.a (id int PRIMARY KEY, v int);
CREATE TABLE $DB.big (id bigint PRIMARY KEY, v int, s text);
CREATE TABLE $DB.pair (a int, b int, v int, PRIMARY KEY (a, b));
CREATE TABLE $DB.loose (x int, y text);
ALTER TABLE $DB.loose REPLICA IDENTITY FULL;
CREATE TABLE $DB.uk (u bigint NOT NULL UNIQUE, v int);
ALTER TABLE $DB.uk REPLICA IDENTITY FULL;
INSERT INTO $DB.uk SELECT g, g FROM generate_series(1, 8000) g;
INSERT INTO $DB.a SELECT g, g FROM generate_series(1, 300) g;
INSERT INTO $DB.big SELECT g, CASE WHEN g % 11 <> 0 THEN g % 97 END, CASE WHEN g % 13 <> 0 THEN 'row ' || g END
    FROM generate_series(1, 120000) g;
INSERT INTO $DB.pair SELECT g / 200, g % 200 - 100, g FROM generate_series(1, 20000) g;
INSERT INTO $DB.loose SELECT g, 'y' FROM generate_series(1, 3000) g;
SQL
    target_reset
    rm -rf "$E2E_DIR/state"
    e2e_pg_config "$NAME" "$DB"
    sed -i 's/^      batch_ms: 100$/&\n      copy_chunk_rows: 2000\n      copy_workers: 2/' "$E2E_DIR/zetl.yaml"
    t_eq $T "${KP}the config copies in chunks of 2000 rows, 2 tables at once" "2" \
        "$(grep -c '^      copy_chunk_rows: 2000$\|^      copy_workers: 2$' "$E2E_DIR/zetl.yaml")"
    run_case
    t_eq $T "${KP}no replication slot of the integration's is left but its own" "zetl_$NAME" \
        "$(zh_psql_src -c "SELECT string_agg(slot_name, ',') FROM pg_replication_slots WHERE slot_name LIKE 'zetl_$NAME%'")"
    end_case
}

# Chunks bounded by bytes too: rows of ~2 KB, copy_chunk_rows 2000 and
# copy_chunk_mb 1: after the first chunk (2000 rows, ~4 MB) each holds about
# 500 rows, so 6000 rows take 9 or more chunks (rows alone: 4).
bytes_case() {
    KIND=mysql KP="bytes: " DB=ci_wide NAME=ci_wide
    zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; USE $DB;
CREATE TABLE wide (id INT PRIMARY KEY, pad VARCHAR(2100));
INSERT INTO wide SELECT seq, REPEAT(CHAR(65 + seq % 26), 2000) FROM seq_1_to_6000;
SQL
    target_reset
    rm -rf "$E2E_DIR/state"
    e2e_my_config "$NAME" "$DB" 5412 "batch_ms: 100, copy_chunk_rows: 2000, copy_chunk_mb: 1"
    local ev0=0
    e2e_run_start
    wide_synced() { [ "$(table_state wide)" = synced ]; }
    wait_up "${KP}the wide table is copied" 60 wide_synced || t_done
    local done_msg n
    done_msg=$(sl "SELECT message FROM events WHERE integration = '$NAME' AND tbl = '$DB.wide'
                   AND message LIKE 'copy done;%'")
    n=$(sed -n 's/^copy done; 6000 rows in \([0-9]*\) chunks.*/\1/p' <<<"$done_msg")
    if [[ $n =~ ^[0-9]+$ ]] && ((n >= 9)); then
        t_pass $T "${KP}6000 rows of ~2 KB in $n chunks: each after the first within copy_chunk_mb"
    else
        t_fail $T "${KP}chunks bounded by copy_chunk_mb" ">= 9 chunks for 6000 rows" "\"$done_msg\""
    fi
    wait_up "${KP}exact match (zetl verify)" 30 verify_ok
    same_rows wide "id pad" id
    e2e_run_stop
    end_case
}

[[ ${CI_CASES:-mysql postgres} == *mysql* ]] && bytes_case
[[ ${CI_CASES:-mysql postgres} == *mysql* ]] && mysql_case
[[ ${CI_CASES:-mysql postgres} == *postgres* ]] && pg_case
t_done
