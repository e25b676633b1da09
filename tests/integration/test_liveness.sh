#!/usr/bin/env bash
# test_liveness.sh — a stopped integration says so (issue 18, point 2):
# `zetl status` (JSON and text) shows who runs it (pid, runner) while
# `zetl run` holds its lock, and `stopped` with the last state, the last
# runner and since when once it is stopped by SIGTERM (an exact stop time) or
# killed with kill -9 (no stop record: "after" its last heartbeat). A command
# to an integration nobody runs is refused on the spot (zetl_command exits
# non-zero, nothing is queued); one that reached the queue anyway expires when
# the next `zetl run` starts, never applied (the integration is not paused).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_liveness
DB=liveness
CMD=${ZETL_BUILD:-build}/tools/zetl_command

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'e2e_cleanup; harness_stop' EXIT

e2e_my_table live $DB 50
e2e_my_config live $DB 7171
STATE_DB=$E2E_DIR/state/zetl.db

tgt() { zh_psql_tgt -c "$1" 2>/dev/null; }
row_in_target() { [[ $(tgt "SELECT v FROM $DB.t WHERE id = $1") == "$2" ]]; }
field() { e2e_status_field ".integrations[0].$1"; }
state_is() { [[ $(field state) == "$1" ]]; }
status_text() { "$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>&1; }
now_s() { date +%s; }
iso_s() { jq -rn --arg t "$1" '$t | fromdateiso8601' 2>/dev/null || echo 0; }

# ---- running: the holder is shown -------------------------------------------
e2e_run_start
pid1=$E2E_PID
t_wait $T "zetl run copies the table" 60 row_in_target 50 r50
t_wait $T "the integration is active" 15 state_is active
t_eq $T "running: running is true" "true" "$(field running)"
t_eq $T "running: runner_pid is the zetl run's pid" "$pid1" "$(field runner_pid)"
t_match $T "running: the runner is zetl run by its user" "^zetl run by [^ ]+" "$(field runner)"
t_eq $T "running: stopped_at is null" "null" "$(field stopped_at)"
t_match $T "running: the text form says who runs it" "running: zetl run by [^ ]+ \\(pid $pid1\\)" "$(status_text)"

# ---- SIGTERM: stopped, since exactly when, by whom ------------------------------
sleep 6   # past one heartbeat (RUNNER_HEARTBEAT_MS), so last_seen_at is the beat's
e2e_run_stop; rc=$?
t_eq $T "zetl run stops cleanly on SIGTERM" "0" "$rc"
stop_s=$(now_s)
t_eq $T "after SIGTERM: state is stopped" "stopped" "$(field state)"
t_eq $T "after SIGTERM: running is false" "false" "$(field running)"
t_eq $T "after SIGTERM: last_state keeps what the runtime wrote" "active" "$(field last_state)"
t_match $T "after SIGTERM: the last runner is named" "^zetl run by [^ ]+" "$(field runner)"
t_eq $T "after SIGTERM: the last runner's pid" "$pid1" "$(field runner_pid)"
at=$(iso_s "$(field stopped_at)")
t_ok $T "after SIGTERM: stopped_at is the stop (within 2 s)" test $((stop_s - at)) -le 2 -a $((at - stop_s)) -le 1
text=$(status_text)
t_match $T "after SIGTERM: the text form says stopped" "^live  stopped " "$text"
t_match $T "after SIGTERM: the text form says since when and who" \
    "not running since [0-9T:-]+Z; last run by zetl run by [^ ]+ \\(pid $pid1\\); last state active" "$text"

# ---- a command while nobody runs it: refused, nothing queued ----------------------
out=$("$CMD" "$STATE_DB" live pause 2>&1); rc=$?
t_ne $T "zetl_command pause while stopped exits non-zero" "0" "$rc"
t_match $T "zetl_command says the integration is not running" "^live is not running: start .zetl run." "$out"
t_eq $T "the refused command was not queued" "0" \
    "$(sqlite3 "$STATE_DB" "SELECT count(*) FROM commands WHERE integration = 'live'")"

# ---- kill -9: no stop record, a bound from the last heartbeat ---------------------
e2e_run_start
pid2=$E2E_PID
t_wait $T "a second zetl run runs it" 15 eval '[[ $(field runner_pid) == '"$pid2"' && $(field running) == true ]]'
sleep 7   # a heartbeat lands after the start's
seen_before=$(iso_s "$(field last_seen_at)")
e2e_run_kill9
kill_s=$(now_s)
t_eq $T "after kill -9: state is stopped" "stopped" "$(field state)"
t_eq $T "after kill -9: last_state" "active" "$(field last_state)"
t_eq $T "after kill -9: the last runner's pid" "$pid2" "$(field runner_pid)"
t_eq $T "after kill -9: no stop record (stopped_at null)" "null" "$(field stopped_at)"
seen=$(iso_s "$(field last_seen_at)")
t_ok $T "after kill -9: last_seen_at is a true bound (a heartbeat, at most 7 s before the kill)" \
    test "$seen" -le "$kill_s" -a $((kill_s - seen)) -le 7 -a "$seen" -ge "$seen_before"
t_match $T "after kill -9: the text form says not running, ended without a clean stop, after when" \
    "live  stopped .*"$'\n'"  not running: ended without a clean stop \\(killed\\?\\) after [0-9T:-]+Z; last run by zetl run by [^ ]+ \\(pid $pid2\\)" \
    "$(status_text)"

# ---- a command that reached the queue while nobody ran it expires ---------------
sqlite3 "$STATE_DB" "INSERT INTO commands (integration, command, actor, created_at)
    VALUES ('live', 'pause', 'test', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"
cmd_id=$(sqlite3 "$STATE_DB" "SELECT max(id) FROM commands WHERE integration = 'live'")
sleep 1
e2e_run_start
cmd_result() { sqlite3 "$STATE_DB" "SELECT coalesce(result, '') FROM commands WHERE id = $cmd_id"; }
t_wait $T "the stale command gets a result" 15 eval '[[ -n $(cmd_result) ]]'
t_eq $T "the stale command expired, not applied" "expired: nobody was running live when it was sent" "$(cmd_result)"
zh_mysql -e "INSERT INTO $DB.t VALUES (51, 'after-expiry')"
t_wait $T "the integration streams (not paused): the new row arrives" 20 row_in_target 51 after-expiry
t_eq $T "the integration is active, not paused" "active" "$(field state)"
t_eq $T "no pause transition was recorded after the start" "0" \
    "$(sqlite3 "$STATE_DB" "SELECT count(*) FROM events WHERE integration = 'live' AND kind = 'transition' AND message LIKE '%paused%'")"
ev=$(sqlite3 "$STATE_DB" "SELECT count(*) FROM events WHERE integration = 'live' AND kind = 'command' AND message LIKE 'command $cmd_id: pause: expired%'")
t_eq $T "the expiry is an event under the sender's name" "1" "$ev"

# ---- and a command while it runs still works ---------------------------------
out=$("$CMD" "$STATE_DB" live pause 2>&1); rc=$?
t_eq $T "zetl_command pause while running: ok" "0 ok" "$rc $out"
t_wait $T "paused" 10 state_is paused
out=$("$CMD" "$STATE_DB" live resume 2>&1); rc=$?
t_eq $T "zetl_command resume while running: ok" "0 ok" "$rc $out"
e2e_run_stop
t_done
