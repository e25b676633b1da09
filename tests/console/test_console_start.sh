#!/usr/bin/env bash
# test_console_start.sh — replication that cannot start is said in the body
# of the screen, not in a passing note: a state_dir under a regular file
# (mkdir fails) shows "Replication did not start" with the cause and the
# T key; quitting then exits 1. With the cause removed, T starts it and the
# integration reaches active; quitting after that exits 0.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_start
DB=con_start

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'tm_stop; e2e_cleanup; harness_stop' EXIT

zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; CREATE TABLE $DB.t (id INT PRIMARY KEY); INSERT INTO $DB.t VALUES (1), (2);"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'constart'" >/dev/null 2>&1
: >"$E2E_DIR/blocker"                       # a file where a directory must go
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/blocker/state
integrations:
  - name: constart
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "$ZH_MY_PASSWORD", databases: [$DB], server_id: 6565}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$DB.%"]}
YAML

tm_start 80 24 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }

# 1. It cannot start: the body says so, and q exits 1.
tm_run "$ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
if tm_wait 'Replication did not start' 10 && [[ $TM_SCREEN =~ "Not a directory" && $TM_SCREEN =~ "T: try to start again" ]]; then
    t_pass $T "the start failure is in the body, with its cause and the T key"
else t_fail $T "start failure shown" "Replication did not start ... Not a directory ... T: try to start again" "$TM_SCREEN"; fi
sleep 1.5                                   # a later status must not replace it
if [[ $(tm_screen) =~ 'Replication did not start' ]]; then t_pass $T "the failure stays on screen"
else t_fail $T "failure stays" "Replication did not start" "$(tm_screen)"; fi
tm_keys q
tm_wait 'CONSOLE-EXIT=[0-9]+' 10
t_match $T "quitting without replication having started exits 1" "CONSOLE-EXIT=1" "$TM_SCREEN"
t_match $T "the reason is said again after the screen is gone" "replication did not start: .*Not a directory" "$TM_SCREEN"

# 2. The cause removed, T starts it.
tm_run "clear; $ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait 'Replication did not start' 10
rm -f "$E2E_DIR/blocker"
tm_keys T
if tm_wait 'constart +active' 30 && [[ ! $TM_SCREEN =~ 'Replication did not start' ]]; then
    t_pass $T "T starts replication once the cause is fixed; the failure is gone"
else t_fail $T "retry" "constart active, no failure text" "$TM_SCREEN"; fi
tm_keys q; tm_wait 'Stop replication' 5; tm_keys y
tm_wait 'CONSOLE-EXIT=[0-9]+' 20
t_match $T "after a successful retry the console exits 0" "CONSOLE-EXIT=0" "$TM_SCREEN"
t_done
