#!/usr/bin/env bash
# test_console_describe.sh — the describe pane (`d`) on a stuck integration,
# in a real terminal (tmux), attached to a `zetl run`:
#   - a target table locked from another psql session while changes arrive:
#     the pane shows the wait as a lock with the holder's pid, user and query;
#     the source's own position (binlog file:pos) ahead of the applied one,
#     the bytes between them (not 0), and the binlog retention horizon (the
#     server's binlog_expire_logs_seconds, set to 2 days by the test: the
#     checkpoint's file can be purged from about a time, a lower bound);
#   - the target gone (its relay stopped): the pane shows the whole reason,
#     wrapped over several rows (every word of the status reason, in order),
#     and the retry with its next try; `n` (retry now) starts the next
#     attempt within 2 s (its event names the operator) and the status line
#     gives the runtime's answer;
#   - the help screen lists the pane's keys.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/proxy.sh
. tests/lib/tmux.sh
T=test_console_describe
DB=con_desc
NAME=condesc
COLS=100

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
hold_pid= load_pid=
OLD_EXPIRE=$(zh_mysql -N -e "SELECT @@GLOBAL.binlog_expire_logs_seconds")
cleanup() {
    [ -n "$OLD_EXPIRE" ] && zh_mysql -e "SET GLOBAL binlog_expire_logs_seconds = $OLD_EXPIRE" >/dev/null 2>&1
    rm -f "$E2E_DIR/go"
    [ -n "$load_pid" ] && { kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; }
    exec 7>&- 2>/dev/null
    [ -n "$hold_pid" ] && { kill "$hold_pid" 2>/dev/null; wait "$hold_pid" 2>/dev/null; }
    tm_stop
    proxy_stop tgt
    e2e_cleanup
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
proxy_start tgt "$ZH_PGTGT_PORT" || { t_fail $T "proxy" "started" "not started"; t_done; }
PORT=$PROXY_tgt_PORT
DBFILE=$E2E_DIR/state/zetl.db

zh_mysql -e "SET GLOBAL binlog_expire_logs_seconds = 172800"
zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; CREATE TABLE $DB.ev (id INT PRIMARY KEY, n INT NOT NULL)"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null 2>&1
E2E_TARGET_DSN="host=127.0.0.1 port=$PORT dbname=zetl user=$ZH_PG_USER password=$ZH_PG_PASSWORD connect_timeout=3" e2e_my_config "$NAME" "$DB" 6565
st() { e2e_status_field ".integrations[0]$1"; }
ev_target() { zh_psql_tgt -c "SELECT count(*) FROM $DB.ev" 2>/dev/null || echo 0; }
start_load() {
    touch "$E2E_DIR/go"
    (
        i=1
        while [ -e "$E2E_DIR/go" ]; do echo "INSERT INTO ev VALUES ($i, $i);"; i=$((i + 1)); sleep 0.1; done
    ) | zh_mysql "$DB" &
    load_pid=$!
}
stop_load() { rm -f "$E2E_DIR/go"; wait "$load_pid" 2>/dev/null; load_pid=; }

start_load
e2e_run_start
ev_moves() { local a; a=$(ev_target); sleep 1; [ "$(ev_target)" -gt "$a" ]; }
t_wait $T "streaming: inserts arrive in the target" 60 ev_moves

TM_ENV="E2E_MY_PASSWORD=$ZH_MY_PASSWORD"
tm_start $COLS 40 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait "$NAME" 10 || t_fail $T "console up" "$NAME on screen" "$TM_SCREEN"
tm_keys Enter        # the attach notice

# ---- a lock held by another target session ------------------------------------------------
mkfifo "$E2E_DIR/hold"
zh_psql_tgt <"$E2E_DIR/hold" >"$E2E_DIR/hold.out" 2>&1 &
hold_pid=$!
exec 7>"$E2E_DIR/hold"
echo "SELECT 'pid=' || pg_backend_pid();" >&7
echo "BEGIN; LOCK TABLE $DB.ev IN ACCESS EXCLUSIVE MODE;" >&7
echo '\echo locked' >&7
got_lock() { grep -q '^locked' "$E2E_DIR/hold.out"; }
t_wait $T "the holder session has the lock" 10 got_lock
HOLDER=$(sed -n 's/^pid=//p' "$E2E_DIR/hold.out" | head -n1)
tm_keys Escape
tm_type d
if tm_wait "Integration $NAME" 5; then t_pass $T "d opens the describe pane"
else t_fail $T "d opens the describe pane" "Integration $NAME" "$TM_SCREEN"; fi
if tm_wait "holder +pid $HOLDER, user $ZH_PG_USER, idle in transaction" 10; then t_pass $T "the pane names the lock holder's pid and user"
else t_fail $T "the pane names the lock holder's pid and user" "holder pid $HOLDER, user $ZH_PG_USER" "$TM_SCREEN"; fi
t_match $T "the pane shows the wait is a lock" "Waiting on +lock, for" "$TM_SCREEN"
t_match $T "the pane shows the holder's query" "its query +LOCK TABLE $DB.ev IN ACCESS EXCLUSIVE MODE" "$TM_SCREEN"
if tm_wait "Between +[1-9][0-9.]*[kMG]?B of source log between them" 8; then t_pass $T "the pane shows the bytes between the source and the applied position"
else t_fail $T "the pane shows the bytes between the source and the applied position" "Between N B of source log between them" "$TM_SCREEN"; fi
t_match $T "the pane shows the source's own position" "Source at +binlog\.[0-9]+:[0-9]+ \(seen " "$TM_SCREEN"
t_match $T "... and the applied one" "Applied +binlog\.[0-9]+:[0-9]+" "$TM_SCREEN"
src=$(sed -n 's/^ *Source at *\(binlog\.[0-9]*:[0-9]*\).*/\1/p' <<<"$TM_SCREEN")
app=$(sed -n 's/^ *Applied *\(binlog\.[0-9]*:[0-9]*\).*/\1/p' <<<"$TM_SCREEN")
t_ok $T "locked: the source position ($src) is ahead of the applied one ($app)" [ "${src##*:}" -gt "${app##*:}" ]
t_match $T "the pane shows the retention horizon" "Retention +binlog retention 2 d: the checkpoint's file binlog\.[0-9]+ can" "$TM_SCREEN"
t_match $T "... when the file can be purged, in how long, a lower bound" "purged from about 20[0-9-]+ [0-9:]+ \(in [0-9]+h[0-9]+m\).*lower bound" "$(tr -s ' \n' '  ' <<<"$TM_SCREEN")"
echo "COMMIT;" >&7
exec 7>&-
wait "$hold_pid" 2>/dev/null; hold_pid=
if tm_wait "Waiting on +nothing" 8; then t_pass $T "released: the pane says it waits on nothing"
else t_fail $T "released: the pane says it waits on nothing" "Waiting on nothing" "$TM_SCREEN"; fi
stop_load

# ---- the target gone: the whole reason, the retry, retry now ------------------------------------
proxy_stop tgt
far_retry() { [ "$(st .state)" = failed ] && [ "$(st .retry.next_in_ms)" -ge 3000 ] 2>/dev/null; }
t_wait $T "target gone: failed with a retry at least 3 s away" 40 far_retry
REASON=$(st .reason | tr -s ' ' ' ')     # a wrap takes the blanks at a row's end: compare words
N=$(st .retry.attempt)
tm_wait "Retry +attempt $N at" 5
t_match $T "the pane shows the retry attempt and the next try" "Retry +attempt $N at [0-9:]+ \\(in [0-9]+s\\); n: retry now" "$TM_SCREEN"
# The reason's rows: from the "Reason" label to the next label, value column only.
shown=$(awk -v c=14 '/^ Reason /{on=1} on && /^ [A-Z][a-z]/ && !/^ Reason /{exit} on {print substr($0, c + 1)}' <<<"$TM_SCREEN" |
        tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//')
rows=$(awk '/^ Reason /{on=1} on && /^ [A-Z][a-z]/ && !/^ Reason /{exit} on {n++} END {print n + 0}' <<<"$TM_SCREEN")
t_eq $T "the pane shows the whole reason, wrapped" "$REASON" "$shown"
if ((${#REASON} > COLS - 14)) && ((rows > 1)); then t_pass $T "the reason is longer than a row and wraps over $rows rows"
else t_fail $T "the reason wraps" "a reason over $((COLS - 14)) chars on several rows" "${#REASON} chars on $rows rows"; fi
t0=$(date +%s%3N)
tm_type n
started() { sqlite3 "$DBFILE" "SELECT message FROM events WHERE integration = '$NAME' AND kind = 'retry'" | grep -q "attempt $N starts now: retry asked by"; }
t_wait $T "n: the next attempt starts within 2 s (its event)" 2 started
echo "# retry now: attempt $N started within $(( $(date +%s%3N) - t0 )) ms" >&2
if tm_wait "retry $NAME: ok" 5; then t_pass $T "n: the status line gives the runtime's answer"
else t_fail $T "n: the status line gives the runtime's answer" "retry $NAME: ok" "$TM_SCREEN"; fi
tm_type '?'
if tm_wait "retry now: start the next attempt" 5; then t_pass $T "help lists the pane's retry-now key"
else t_fail $T "help lists the pane's retry-now key" "n retry now" "$TM_SCREEN"; fi
tm_keys Escape
tm_keys Escape
if tm_wait "describe the selected integration" 1 || { tm_type '?'; tm_wait "describe the selected integration" 5; }; then
    t_pass $T "help lists d (describe) on the integrations view"
else t_fail $T "help lists d" "describe the selected integration" "$TM_SCREEN"; fi
tm_keys Escape
tm_type q
t_done
