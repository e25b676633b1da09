#!/usr/bin/env bash
# test_console_attach.sh — the console attaches to a running `zetl run`
# (which holds the integration's lock): it shows the daemon's state, `p`
# pauses the daemon through the state log's command queue (a new row stops
# arriving) and `p` resumes it, `q` quits at once without asking and leaves
# the daemon running and replicating. Actions carry the operator and the
# SSH client address (SSH_CLIENT).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_attach
DB=con_at

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'tm_stop; e2e_cleanup; harness_stop' EXIT

e2e_my_table conat $DB 200
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: conat
    source:
      kind: mysql
      host: 127.0.0.1
      port: $ZH_MY_PORT
      user: $ZH_MY_USER
      password: $ZH_MY_PASSWORD
      databases: [$DB]
      server_id: 6262
    target:
      kind: postgres
      dsn: "$ZH_PGTGT_DSN"
    tables:
      include: ["$DB.%"]
    apply:
      batch_ms: 100
YAML
tgt() { zh_psql_tgt -c "$1" 2>/dev/null; }
row_in_target() { [[ $(tgt "SELECT v FROM $DB.t WHERE id = $1") == "$2" ]]; }
daemon_state() { [[ $(e2e_status_field '.integrations[0].state') == "$1" ]]; }

e2e_run_start
t_wait $T "zetl run copies the table" 30 row_in_target 200 r200

tm_start 80 24 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "SSH_CLIENT='10.0.0.7 51234 22' $ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
if tm_wait "attached to .zetl run" 10 && tm_wait "run pid $E2E_PID|active" 5; then t_pass $T "the console attaches and says so"
else t_fail $T "attach notice" "attached to \`zetl run\`" "$TM_SCREEN"; fi
tm_keys Enter
if tm_wait "$DB\.t +synced" 15; then t_pass $T "the daemon's table shows synced"
else t_fail $T "synced" "$DB.t synced" "$TM_SCREEN"; fi
t_eq $T "the console did not take the lock" "1" "$(flock -n "$E2E_DIR/state/conat.lock" true 2>/dev/null && echo 0 || echo 1)"

tm_keys p
t_wait $T "p from the console pauses the daemon" 10 daemon_state paused
tm_wait 'conat \(paused\)' 5 || t_fail $T "paused on screen" "conat (paused)" "$TM_SCREEN"
zh_mysql -e "INSERT INTO $DB.t VALUES (500, 'during-pause')"
sleep 3   # the daemon answers commands within a second; 3 s without the row is the check
t_eq $T "paused daemon: the row does not arrive" "" "$(tgt "SELECT v FROM $DB.t WHERE id = 500")"
tm_keys p
t_wait $T "p again resumes the daemon: the row arrives" 20 row_in_target 500 during-pause
if tm_wait 'pause conat: ok|resume conat: ok' 10; then t_pass $T "the command's outcome is shown"
else t_fail $T "outcome shown" "resume conat: ok" "$TM_SCREEN"; fi

actors=$(sqlite3 "$E2E_DIR/state/zetl.db" "SELECT DISTINCT actor FROM commands WHERE integration = 'conat'" 2>/dev/null)
t_match $T "commands carry the operator and the SSH client address" "^console by [^ ]+ from 10\.0\.0\.7$" "$actors"
ev=$(sqlite3 "$E2E_DIR/state/zetl.db" "SELECT count(*) FROM events WHERE integration = 'conat' AND actor LIKE '% from 10.0.0.7' AND message LIKE '%paused%'" 2>/dev/null)
t_ne $T "the pause transition in the events names the operator" "0" "$ev"

# q quits at once (no stop prompt) and the daemon keeps running.
tm_keys q
if tm_wait 'CONSOLE-EXIT=0' 10 && [[ ! $TM_SCREEN =~ "Stop replication" ]]; then t_pass $T "q quits without asking"
else t_fail $T "q in attach mode" "CONSOLE-EXIT=0, no prompt" "$TM_SCREEN"; fi
t_ok $T "the daemon is still running" kill -0 "$E2E_PID"
zh_mysql -e "INSERT INTO $DB.t VALUES (501, 'after-console')"
t_wait $T "the daemon still replicates after the console quit" 20 row_in_target 501 after-console
e2e_run_stop; rc=$?
t_eq $T "zetl run stops cleanly afterwards" "0" "$rc"
t_done
