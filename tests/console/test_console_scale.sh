#!/usr/bin/env bash
# test_console_scale.sh — an integration with 2,000 tables: the Tables view
# filters (`/`), sorts (`s`) and jumps (End/Home) without visible delay (each
# answered on screen well within a second), the selection stays on its table
# when the list refreshes, the banner counts the tables needing attention,
# and `R` + `y` queues one resync per failed table in the state log's command
# queue, with the operator as actor. The integration is "held" by a stand-in
# for `zetl run` (a process holding its lock), so the console attaches and
# only reads the log; the log is filled with sqlite3. No servers needed.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_scale

e2e_init $T
holder=
trap 'tm_stop; [ -n "$holder" ] && kill "$holder" 2>/dev/null; e2e_cleanup' EXIT
ST=$E2E_DIR/state
mkdir -m 700 -p "$ST"
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $ST
integrations:
  - name: big
    source: {kind: mysql, host: 127.0.0.1, port: 1, user: zetl, databases: [shop]}
    target: {kind: postgres, dsn: "host=127.0.0.1 port=1 dbname=wh"}
    tables: {include: ["shop.%"]}
YAML
# the stand-in daemon: holds the flock, the file says who
( exec 9>"$ST/big.lock"; flock -n 9 || exit 1; echo "$BASHPID zetl run" >&9; exec sleep 300 ) &
holder=$!

now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#${t:0:-3})); }
# ms until the screen matches REGEX (or 99999)
time_to() {
    local re=$1 t0; t0=$(now_ms)
    local deadline=$((t0 + 5000))
    while (( $(now_ms) < deadline )); do
        TM_SCREEN=$(tm_screen)
        if [[ $TM_SCREEN =~ $re ]]; then echo $(( $(now_ms) - t0 )); return; fi
        sleep 0.03
    done
    printf '%s\n' "$TM_SCREEN" >"$E2E_DIR/last-screen"
    echo 99999
}

tm_start 120 40 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait 'zetl' 10
for i in $(seq 1 50); do [[ $(sqlite3 "$ST/zetl.db" 'PRAGMA user_version' 2>/dev/null) -ge 1 ]] && break; sleep 0.1; done
sqlite3 "$ST/zetl.db" <<'SQL'
PRAGMA busy_timeout = 5000;
BEGIN;
INSERT INTO integrations (name, state, reason, source, target, position, lag_ms, bytes_behind, updated_at)
     VALUES ('big', 'active', NULL, 'mysql://127.0.0.1:1', 'postgres://127.0.0.1:1/wh',
                                 'binlog.000001:4', 5, 0, CAST(strftime('%s','now') AS INTEGER) * 1000);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO tables (integration, name, target, state, reason, rows_copied, rows_estimated, inserts,
                    updates, deletes, last_applied_at, lag_ms, updated_at)
SELECT 'big', printf('shop.t%04d', i), printf('shop.t%04d', i),
       CASE WHEN i % 500 = 0 THEN 'failed' WHEN i % 7 = 0 THEN 'snapshotting' ELSE 'synced' END,
       CASE WHEN i % 500 = 0 THEN 'duplicate key value violates unique constraint' END,
       i * 10, i * 20, i, i % 13, i % 5, CAST(strftime('%s','now') AS INTEGER) * 1000, i,
       CAST(strftime('%s','now') AS INTEGER) * 1000
  FROM n;
COMMIT;
SQL
if tm_wait 'big +active' 10 && [[ $TM_SCREEN =~ "attached to \`zetl run\`" ]]; then t_pass $T "attached to the stand-in daemon"
else t_fail $T "attach" "big active, attached" "$TM_SCREEN"; fi
t_match $T "the banner counts the failed tables" "big: 4 tables need attention" "$TM_SCREEN"
t_match $T "home: 1711/2000 tables synced" "1711/2000" "$TM_SCREEN"

tm_keys Enter
ms=$(time_to 'big \(active\): 2000 of 2000 tables')
TM_SCREEN=$(tm_screen)
if (( ms < 1000 )); then t_pass $T "Enter: 2,000 tables shown in ${ms} ms"; else t_fail $T "open 2,000 tables" "< 1000 ms" "$ms ms: $TM_SCREEN"; fi
t_match $T "sorted by state: failed first" "shop\.t0500 +failed" "$TM_SCREEN"
t_match $T "snapshot progress as a bar and %" "snapshotting +[#█].* 50%" "$TM_SCREEN"

tm_keys /; tm_wait 'Filter' 5; tm_type t1999
tm_keys Enter
ms=$(time_to '1 of 2000 tables')
TM_SCREEN=$(tm_screen)
if (( ms < 1000 )); then t_pass $T "/ filter over 2,000 tables in ${ms} ms"; else t_fail $T "filter" "< 1000 ms" "$ms ms"; fi
t_match $T "the filtered table is shown" "shop\.t1999" "$TM_SCREEN"
tm_keys / C-u Enter
tm_wait '2000 of 2000' 5

tm_keys s
ms=$(time_to 'sort: name')
TM_SCREEN=$(tm_screen)
if (( ms < 1000 )); then t_pass $T "s: sort 2,000 tables by name in ${ms} ms"; else t_fail $T "sort" "< 1000 ms" "$ms ms"; fi
tm_keys End
ms=$(time_to 'shop\.t2000 +failed')
TM_SCREEN=$(tm_screen)
if (( ms < 1000 )); then t_pass $T "End: the last of 2,000 in ${ms} ms"; else t_fail $T "End" "< 1000 ms" "$ms ms: $(cat "$E2E_DIR/last-screen")"; fi
tm_keys Home
tm_wait 'shop\.t0001 +synced' 5
tm_keys Down Down Down
tm_wait 'shop\.t0004 .*copied' 5 || t_fail $T "selection detail" "shop.t0004 in the detail line" "$TM_SCREEN"
# A refresh (new counts) keeps the cursor on shop.t0004.
sqlite3 "$ST/zetl.db" "PRAGMA busy_timeout=5000; UPDATE tables SET inserts = inserts + 1000, updated_at = updated_at + 1 WHERE integration = 'big'"
sleep 1.2
TM_SCREEN=$(tm_screen)
t_match $T "after a refresh the selection is still shop.t0004" "shop\.t0004 .* ins 1004" "$TM_SCREEN"

tm_keys R
if tm_wait 'Resync the 4 tables of big' 5; then t_pass $T "R asks to resync the 4 failed tables"
else t_fail $T "R prompt" "Resync the 4 tables of big" "$TM_SCREEN"; fi
tm_keys y
t_wait $T "R + y queued 4 resync commands with the operator as actor" 10 \
    bash -c "[[ \$(sqlite3 '$ST/zetl.db' \"SELECT count(*) FROM commands WHERE command = 'resync' AND actor LIKE 'console by %'\") == 4 ]]"
tm_keys q
if tm_wait 'CONSOLE-EXIT=0' 10; then t_pass $T "q quits at once in attach mode"
else t_fail $T "q" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi
t_done
