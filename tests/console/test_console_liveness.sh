#!/usr/bin/env bash
# test_console_liveness.sh — a console attached to a `zetl run` tells the
# truth when that daemon stops (issue 18, point 2): the integration shows
# `stopped` (not the `active` the daemon wrote last), the detail says since
# when and who ran it last, and `p` is refused on the spot with a one-line
# message, queueing nothing. A console that runs the integration itself
# (embedded runtime, no `zetl run`) still pauses and resumes it with `p`.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_liveness
DB=con_live

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'tm_stop; e2e_cleanup; harness_stop' EXIT

e2e_my_table conlive $DB 50
e2e_my_config conlive $DB 6363
STATE_DB=$E2E_DIR/state/zetl.db
tgt() { zh_psql_tgt -c "$1" 2>/dev/null; }
row_in_target() { [[ $(tgt "SELECT v FROM $DB.t WHERE id = $1") == "$2" ]]; }
ncommands() { sqlite3 "$STATE_DB" "SELECT count(*) FROM commands WHERE integration = 'conlive'" 2>/dev/null; }

e2e_run_start
run_pid=$E2E_PID
t_wait $T "zetl run copies the table" 60 row_in_target 50 r50

TM_ENV="E2E_MY_PASSWORD=$ZH_MY_PASSWORD" tm_start 120 30 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
if tm_wait "attached to .zetl run" 10 && tm_wait "conlive +active" 15; then
    t_pass $T "attached: the daemon's integration is active"
else t_fail $T "attached" "attached to zetl run, conlive active" "$TM_SCREEN"; fi
if tm_wait "running: zetl run by [^ ]+ \\(pid $run_pid\\) since" 10; then t_pass $T "attached: the detail says who runs it (runner, pid, since)"
else t_fail $T "who runs it" "running: zetl run by USER (pid $run_pid) since ..." "$TM_SCREEN"; fi

# The daemon stops (SIGTERM): the console must stop saying active.
e2e_run_stop
if tm_wait "conlive +stopped" 15; then t_pass $T "after SIGTERM of zetl run the row shows stopped"
else t_fail $T "stopped on screen" "conlive stopped" "$TM_SCREEN"; fi
t_match $T "the detail says since when, who ran it last and the last state" \
    "state stopped: not running since [0-9T:-]+Z; last run by zetl run by [^ ]+ \\(pid $run_pid\\); last state active" \
    "$(tm_screen | tr -s ' \n' ' ')"
if [[ $TM_SCREEN =~ conlive\ +active ]]; then t_fail $T "no stale active" "no 'active' on conlive's row" "$TM_SCREEN"
else t_pass $T "the row no longer says active"; fi

# p while nobody runs it: refused at once, nothing queued.
before=$(ncommands)
tm_keys p
if tm_wait "conlive is not running: start .zetl run." 10; then t_pass $T "p is refused with a one-line message"
else t_fail $T "p refused" "conlive is not running: start \`zetl run\` ..." "$TM_SCREEN"; fi
sleep 1
t_eq $T "the refused pause was not queued" "$before" "$(ncommands)"

tm_keys q
if tm_wait 'CONSOLE-EXIT=0' 10; then t_pass $T "q quits the attached console"
else t_fail $T "q quits" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi

# No zetl run: the console runs the integration itself, and p works.
tm_run "clear; $ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
if tm_wait "conlive +active" 30 && tm_wait "running: zetl console by [^ ]+ \\(pid [0-9]+\\)" 10 &&
   [[ ! $TM_SCREEN =~ "attached to" ]]; then
    t_pass $T "embedded: the console runs the integration (active, not attached)"
else t_fail $T "embedded runtime" "conlive active, not attached" "$TM_SCREEN"; fi
tm_keys p
if tm_wait "pause conlive: ok" 10 && tm_wait "conlive +paused" 5; then t_pass $T "embedded: p pauses"
else t_fail $T "embedded pause" "pause conlive: ok, paused" "$TM_SCREEN"; fi
tm_keys p
if tm_wait "resume conlive: ok" 10 && tm_wait "conlive +active" 10; then t_pass $T "embedded: p resumes"
else t_fail $T "embedded resume" "resume conlive: ok, active" "$TM_SCREEN"; fi
zh_mysql -e "INSERT INTO $DB.t VALUES (51, 'embedded')"
t_wait $T "embedded: the console's runtime replicates" 20 row_in_target 51 embedded
tm_keys q; tm_wait 'Stop replication' 5; tm_keys y
if tm_wait 'CONSOLE-EXIT=0' 20; then t_pass $T "q + y stops the embedded runtime"
else t_fail $T "q + y" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi
t_done
