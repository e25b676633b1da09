#!/usr/bin/env bash
# test_console_copy.sh — a table's copy in the console's Tables view, the
# console attached to a `zetl run` that resyncs a MariaDB table of 200,000
# rows in chunks of 2,000 (paced: a trigger on zetl.copy_progress makes each
# hand-off sleep, so the copy lasts): at 200x50 the table's row has the whole
# progress (percentage, rows of the estimate, chunk, rows/s, ETA) with a bar;
# resized to 80x24 the row keeps a bar, how far and how long ("45% 9.8k/s, ETA 14s")
# and the selected table's line below the list still has the chunk; once the
# copy is done the row shows synced and no progress.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_copy
DB=con_cp
NAME=concp
CMD=${ZETL_BUILD:-build}/tools/zetl_command

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
unpace() {
    zh_psql_tgt -c "DROP TRIGGER IF EXISTS cc_test_pace ON zetl.copy_progress; DROP FUNCTION IF EXISTS zetl.cc_test_pace()" \
        >/dev/null 2>&1
}
target_clean() {
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE" >/dev/null 2>&1
    local t
    for t in checkpoints resyncs copy_progress; do
        zh_psql_tgt -c "DELETE FROM zetl.$t WHERE integration = '$NAME'" >/dev/null 2>&1
    done
}
cleanup() {
    tm_stop
    e2e_cleanup
    unpace
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    target_clean
}
trap 'cleanup; harness_stop' EXIT

zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; USE $DB;
CREATE TABLE big (id BIGINT PRIMARY KEY, v INT);
INSERT INTO big SELECT seq, seq % 97 FROM seq_1_to_200000;
CREATE TABLE small (id INT PRIMARY KEY, v INT);
INSERT INTO small SELECT seq, seq FROM seq_1_to_10;
ANALYZE TABLE big;
SQL
target_clean
e2e_my_config "$NAME" "$DB" 7676 "batch_ms: 100, copy_chunk_rows: 2000"
table_state() { [ "$(e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.$1\") | .state")" = "$2" ]; }

e2e_run_start
t_wait $T "zetl run copies the tables" 60 table_state big synced
out=$(zh_psql_tgt 2>&1 <<SQL
SET client_min_messages = warning;
CREATE OR REPLACE FUNCTION zetl.cc_test_pace() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END \$\$;
DROP TRIGGER IF EXISTS cc_test_pace ON zetl.copy_progress;
CREATE TRIGGER cc_test_pace BEFORE INSERT OR UPDATE ON zetl.copy_progress FOR EACH ROW
    WHEN (NEW.integration = '$NAME') EXECUTE FUNCTION zetl.cc_test_pace();
SQL
)
t_eq $T "the pace trigger is on zetl.copy_progress" "" "$out"

tm_start 200 50 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "E2E_MY_PASSWORD='$E2E_MY_PASSWORD' $ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait "$NAME" 15 || t_fail $T "home view" "$NAME" "$TM_SCREEN"
tm_keys Enter
if tm_wait "$DB\.big +$DB\.big +synced" 15; then t_pass $T "Tables view: big synced"
else t_fail $T "Tables view" "$DB.big synced" "$TM_SCREEN"; fi
t_eq $T "resync acknowledged" "ok" "$("$CMD" "$E2E_DIR/state/zetl.db" "$NAME" resync "$DB.big" 2>&1)"

# 200 columns: the whole progress, with a bar before it.
full="$DB\.big +$DB\.big +resyncing +.*[0-9]+% [0-9.]+k?/[0-9.]+k rows, chunk [0-9]+, [0-9.]+k? rows/s, ETA [0-9]+(s|m[0-9]{2}s)"
if tm_wait "$full" 30; then t_pass $T "200 columns: percentage, rows of the estimate, chunk, rows/s, ETA"
else t_fail $T "200 columns: the whole progress" "/$full/" "$(grep "$DB.big" <<<"$TM_SCREEN")"; fi
row=$(grep -m1 "$DB\.big .*resyncing" <<<"$TM_SCREEN")
t_match $T "200 columns: a bar before the text" "resyncing +(█|░|#|\\.)+ [0-9]+% " "$row"

# 80x24: how far and how long in the row; the chunk in the line below the list.
tmux -L "$TM_SOCK" resize-window -t t -x 80 -y 24
# The selection follows its table, which was small when the list was first
# drawn (big still in its initial copy): the first row (worst first) is big.
tm_keys g
narrow="$DB\.big +resyncing +(█|░|#|\.)+ [0-9]+% [0-9.]+k?/s, ETA [0-9]+"
if tm_wait "$narrow" 15; then t_pass $T "80 columns: the row keeps a bar, the percentage, rows/s and ETA"
else t_fail $T "80 columns: the row" "/$narrow/" "$TM_SCREEN"; fi
long=$(awk 'length > 80' <<<"$TM_SCREEN")
t_eq $T "80 columns: no line is wider than the terminal" "" "$long"
sel="$DB\.big → $DB\.big +resyncing.*copied +[0-9]+% +[^ ]+ +rows, +chunk +[0-9]+"
if tm_wait "$sel" 10; then t_pass $T "80 columns: the selected table's line has the whole progress"
else t_fail $T "80 columns: the selected table's line" "/$sel/" "$(tail -n 5 <<<"$TM_SCREEN")"; fi

# Done: synced, no progress.
if tm_wait "$DB\.big +synced" 120; then t_pass $T "the copy done: big synced"
else t_fail $T "the copy done" "$DB.big synced" "$TM_SCREEN"; fi
row=$(grep -m1 "$DB\.big " <<<"$TM_SCREEN")
if [[ -n $row && ! $row =~ %|ETA|chunk ]]; then t_pass $T "synced: no progress in the row"
else t_fail $T "synced: no progress" "no %, ETA or chunk" "$row"; fi
tm_keys q
tm_wait 'CONSOLE-EXIT=0' 10 || t_fail $T "q quits the attached console" "CONSOLE-EXIT=0" "$TM_SCREEN"
e2e_run_stop; t_eq $T "zetl run stops cleanly" "0" "$?"
t_done
