#!/usr/bin/env bash
# test_console_mysql.sh — the console running the runtime itself (embedded),
# MariaDB → PostgreSQL, driven in tmux at 80x24: it shows the tables reach
# `synced`; `p` pauses (a new source row does not reach the target, the
# screen says paused) and `p` resumes (the row arrives); `r` + `y` resyncs a
# table whose target copy was damaged and the missing row comes back; `/`
# filters, `s` sorts, `?` shows the help generated from the key table, Tab
# walks the views; `q` asks whether to stop replication (n stays, y quits and
# the shell prompt is back). Every action is in the state log with its actor.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_mysql
DB=con_my

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'tm_stop; e2e_cleanup; harness_stop' EXIT

zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB;
USE $DB;
CREATE TABLE $DB.orders (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO $DB.orders SELECT seq, CONCAT('o', seq) FROM seq_1_to_500;
CREATE TABLE $DB.users (id INT PRIMARY KEY, name VARCHAR(20));
INSERT INTO $DB.users SELECT seq, CONCAT('u', seq) FROM seq_1_to_50;
SQL
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'conmy'" >/dev/null 2>&1
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: conmy
    source:
      kind: mysql
      host: 127.0.0.1
      port: $ZH_MY_PORT
      user: $ZH_MY_USER
      password: $ZH_MY_PASSWORD
      databases: [$DB]
      server_id: 6161
    target:
      kind: postgres
      dsn: "$ZH_PGTGT_DSN"
    tables:
      include: ["$DB.%"]
    apply:
      batch_ms: 100
YAML
tgt() { zh_psql_tgt -c "$1" 2>/dev/null; }
row_in_target() { [[ $(tgt "SELECT v FROM $DB.orders WHERE id = $1") == "$2" ]]; }

tm_start 80 24 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
t_eq $T "the pane is 80x24" "80x24" "$(tm_size)"
tm_run "cd $E2E_DIR && $ZETL console -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"

# 1. Home view, then the tables reach synced.
if tm_wait 'conmy' 15 && tm_wait 'active' 30; then t_pass $T "home view lists the integration, active"
else t_fail $T "home view shows conmy active" "conmy ... active" "$TM_SCREEN"; fi
tm_keys Enter
if tm_wait "$DB\.orders +synced" 30 && tm_wait "$DB\.users +synced" 10; then t_pass $T "Tables view: both tables synced"
else t_fail $T "Tables view shows synced" "$DB.orders synced" "$TM_SCREEN"; fi
t_match $T "tables header at 80 columns" "TABLE +STATE" "$TM_SCREEN"
t_eq $T "the copy reached the target" "500" "$(tgt "SELECT count(*) FROM $DB.orders")"

# 2. p pauses: the screen says paused and a new row does not arrive.
tm_keys p
if tm_wait 'paused' 10; then t_pass $T "p: the console shows paused"
else t_fail $T "p shows paused" "paused" "$TM_SCREEN"; fi
zh_mysql -e "INSERT INTO $DB.orders VALUES (1001, 'while-paused')"
sleep 3   # the runtime acts within 250 ms; 3 s without the row is the point of the check
t_eq $T "paused: the row does not reach the target" "" "$(tgt "SELECT v FROM $DB.orders WHERE id = 1001")"
tm_keys p
t_wait $T "p again resumes: the row arrives" 20 row_in_target 1001 while-paused
if tm_wait_not 'paused' 10; then t_pass $T "resumed: paused is gone from the screen"
else t_fail $T "resumed on screen" "no paused" "$TM_SCREEN"; fi

# 3. r + y resyncs a damaged table back to synced.
tgt "DELETE FROM $DB.orders WHERE id = 7" >/dev/null
t_eq $T "the target lost row 7" "" "$(tgt "SELECT v FROM $DB.orders WHERE id = 7")"
# sort by name puts orders first
tm_keys s; tm_wait 'sort: name' 5
tm_keys Home
tm_keys r
if tm_wait "Resync $DB\.orders of integration conmy\?" 5; then t_pass $T "r asks y/N for the selected table"
else t_fail $T "r asks" "Resync $DB.orders ...?" "$TM_SCREEN"; fi
tm_keys y
t_wait $T "resync restores the deleted row" 30 row_in_target 7 o7
if tm_wait "$DB\.orders +synced" 30; then t_pass $T "the resynced table is synced again"
else t_fail $T "resync back to synced" "synced" "$TM_SCREEN"; fi

# 4. Filter, sort, help, views.
tm_keys /
tm_wait 'Filter' 5
tm_type users; tm_keys Enter
if tm_wait '1 of 2 tables' 5 && [[ ! $TM_SCREEN =~ $DB\.orders\ +synced ]]; then t_pass $T "/ filters the tables"
else t_fail $T "/ filters" "1 of 2 tables, no orders row" "$TM_SCREEN"; fi
tm_keys / C-u Enter
tm_wait '2 of 2 tables' 5 || t_fail $T "empty filter shows all" "2 of 2" "$TM_SCREEN"
tm_keys s
if tm_wait 'sort: lag' 5; then t_pass $T "s cycles the sort"; else t_fail $T "s sorts" "sort: lag" "$TM_SCREEN"; fi
tm_keys '?'
if tm_wait 'resync the selected table' 5 && [[ $TM_SCREEN =~ "sort by state, name, lag or changes" ]]; then
    t_pass $T "? shows the Tables keys from the key table"
else t_fail $T "help" "the Tables key help" "$TM_SCREEN"; fi
tm_keys Escape
tm_wait 'sort: lag' 5 || t_fail $T "Esc leaves help" "Tables view" "$TM_SCREEN"
tm_keys Tab
if tm_wait 'Activity of conmy' 5 && tm_wait 'POSITION RANGE|TXNS' 2; then t_pass $T "Tab: Activity view with batches"
else t_fail $T "Activity view" "Activity of conmy" "$TM_SCREEN"; fi
tm_keys Tab
if tm_wait 'Lag of conmy, last 15 min' 5 && [[ $TM_SCREEN =~ p50.*p99 ]]; then t_pass $T "Tab: Lag view with p50/p99"
else t_fail $T "Lag view" "Lag of conmy ... p50 p99" "$TM_SCREEN"; fi
tm_keys Tab
if tm_wait 'Events of conmy' 5 && tm_wait 'paused' 2; then t_pass $T "Tab: Events view shows the pause transition"
else t_fail $T "Events view" "Events ... paused" "$TM_SCREEN"; fi
tm_keys l
if tm_wait 'level: warnings and errors' 5; then t_pass $T "l filters events by level"
else t_fail $T "level filter" "level: warnings and errors" "$TM_SCREEN"; fi
tm_keys l l
tm_wait 'level: all' 5 || t_fail $T "l cycles back to all" "level: all" "$TM_SCREEN"
tm_keys Tab
tm_wait 'INTEGRATION +' 5 || t_fail $T "Tab wraps to Integrations" "INTEGRATION header" "$TM_SCREEN"

# 5. c runs the preflight checks in the background and shows the report.
tm_keys c
if tm_wait 'Preflight checks: conmy' 5 && tm_wait 'binlog_format' 20; then t_pass $T "c shows the preflight report"
else t_fail $T "c report" "Preflight checks: conmy ... binlog_format" "$TM_SCREEN"; fi
tm_keys Escape
tm_wait_not 'Preflight checks' 5 || t_fail $T "Esc closes the report" "no report" "$TM_SCREEN"

# 6. Every action is in the state log with its actor.
actions=$(sqlite3 "$E2E_DIR/state/zetl.db" "SELECT command || ' by ' || actor FROM commands WHERE integration = 'conmy' ORDER BY id" 2>/dev/null | tr '\n' ';')
t_match $T "pause, resume and resync recorded with the console's actor" "pause by console by [^;]+;resume by console by [^;]+;resync by console by" "$actions"

# 7. q asks; n stays; q + y stops replication and restores the shell.
tm_keys q
if tm_wait 'Stop replication and quit\?' 5 && [[ $TM_SCREEN =~ "zetl run" ]]; then t_pass $T "q asks whether to stop replication, naming zetl run"
else t_fail $T "q asks" "Stop replication and quit? ... zetl run" "$TM_SCREEN"; fi
tm_keys n
tm_wait_not 'Stop replication and quit' 5 || t_fail $T "n keeps the console" "no prompt" "$TM_SCREEN"
tm_keys q; tm_wait 'Stop replication' 5; tm_keys y
if tm_wait 'CONSOLE-EXIT=0' 20; then t_pass $T "q + y: replication stopped, console exited 0"
else t_fail $T "q + y exits" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi
t_eq $T "no lock held after exit" "0" "$("$ZETL" status -c "$E2E_DIR/zetl.yaml" >/dev/null 2>&1; flock -n "$E2E_DIR/state/conmy.lock" true && echo 0 || echo 1)"
t_done
