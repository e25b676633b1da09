#!/usr/bin/env bash
# test_why_stuck.sh — when the applier waits, `zetl status --json` says on
# what (issue 18, "why is it stuck"), against real servers:
#   (a) a target table locked from another psql session (BEGIN; LOCK TABLE …
#       IN ACCESS EXCLUSIVE MODE; held) while changes arrive: within ~5 s the
#       wait is kind "lock", naming the holder's pid, user, state and query;
#       the detail says how to end it; no password anywhere; released, the
#       wait clears and the changes arrive;
#   (b) the target unreachable (its relay stopped: every round fails at
#       once): status shows the retry attempt and the next try's time, and
#       an event says so; `retry` (build/tools/zetl_command) starts the next
#       attempt within 2 s (its event, the attempt counter); healed and
#       retried, the integration is active with no retry shown; a retry
#       when none is waited for is answered so.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/proxy.sh
T=test_why_stuck
DB=why_stuck
NAME=whystuck
CMD=${ZETL_BUILD:-build}/tools/zetl_command
PROXY=${ZETL_BUILD:-build}/tools/tcpproxy

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
load_pid= hold_pid= relay_pid=
cleanup() {
    rm -f "$E2E_DIR/go"
    [ -n "$load_pid" ] && { kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; }
    exec 7>&- 2>/dev/null
    [ -n "$hold_pid" ] && { kill "$hold_pid" 2>/dev/null; wait "$hold_pid" 2>/dev/null; }
    [ -n "$relay_pid" ] && { kill "$relay_pid" 2>/dev/null; wait "$relay_pid" 2>/dev/null; }
    proxy_stop tgt
    e2e_cleanup
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
proxy_start tgt "$ZH_PGTGT_PORT" || { t_fail $T "proxy" "started" "not started"; t_done; }
PORT=$PROXY_tgt_PORT
DBFILE=$E2E_DIR/state/zetl.db

zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB;
  CREATE TABLE $DB.ev (id INT PRIMARY KEY, n INT NOT NULL)"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null 2>&1
E2E_TARGET_DSN="host=127.0.0.1 port=$PORT dbname=zetl user=$ZH_PG_USER password=$ZH_PG_PASSWORD connect_timeout=3" e2e_my_config "$NAME" "$DB" 6464

st() { e2e_status_field ".integrations[0]$1"; }
ev_target() { zh_psql_tgt -c "SELECT count(*) FROM $DB.ev" 2>/dev/null || echo 0; }
events() { sqlite3 "$DBFILE" "SELECT message FROM events WHERE integration = '$NAME' AND kind = 'retry' ORDER BY id" 2>/dev/null; }

start_load() {
    touch "$E2E_DIR/go"
    (
        i=$(( $(zh_mysql -e "SELECT coalesce(max(id), 0) FROM $DB.ev") + 1 ))
        while [ -e "$E2E_DIR/go" ]; do
            echo "INSERT INTO ev VALUES ($i, $i);"
            i=$((i + 1))
            sleep 0.1
        done
    ) | zh_mysql "$DB" &
    load_pid=$!
}
stop_load() { rm -f "$E2E_DIR/go"; wait "$load_pid" 2>/dev/null; load_pid=; }

start_load
e2e_run_start
is_active() { [ "$(st .state)" = active ]; }
ev_moves() { local a; a=$(ev_target); sleep 1; [ "$(ev_target)" -gt "$a" ]; }
t_wait $T "streaming: inserts arrive in the target" 60 ev_moves
t_eq $T "streaming: no wait shown while healthy" "null" "$(st .wait)"

# ---- (a) a lock held by another target session ------------------------------------------
mkfifo "$E2E_DIR/hold"
zh_psql_tgt <"$E2E_DIR/hold" >"$E2E_DIR/hold.out" 2>&1 &
hold_pid=$!
exec 7>"$E2E_DIR/hold"
before=$(ev_target)     # read before the lock: a read of ev waits for it too
echo "SELECT 'pid=' || pg_backend_pid();" >&7
echo "BEGIN; LOCK TABLE $DB.ev IN ACCESS EXCLUSIVE MODE;" >&7
echo '\echo locked' >&7
got_pid() { grep -q '^locked' "$E2E_DIR/hold.out"; }
t_wait $T "(a) the holder session has the lock" 10 got_pid
HOLDER=$(sed -n 's/^pid=//p' "$E2E_DIR/hold.out" | head -n1)
t0=$SECONDS
lock_shown() { [ "$(st .wait.kind)" = lock ]; }
t_wait $T "(a) within ~5 s the wait is a lock" 7 lock_shown
echo "# (a) lock shown after $((SECONDS - t0)) s" >&2
t_eq $T "(a) the wait names the holder's pid" "$HOLDER" "$(st .wait.holder.pid)"
t_eq $T "(a) ... its user" "$ZH_PG_USER" "$(st .wait.holder.user)"
t_eq $T "(a) ... its state" "idle in transaction" "$(st .wait.holder.state)"
t_match $T "(a) ... its query" "LOCK TABLE $DB.ev IN ACCESS EXCLUSIVE MODE" "$(st .wait.holder.query)"
t_match $T "(a) the detail names the holder and how to end it" "pid $HOLDER.*pg_terminate_backend\\($HOLDER\\)" "$(st .wait.detail)"
t_ne $T "(a) ... and our statement" "null" "$(st .wait.what)"
t_match $T "(a) the wait has a start and a duration" '^[0-9]+$' "$(st .wait.for_ms)"
out=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" --json 2>&1)
if [[ $out == *"$ZH_PG_PASSWORD"* ]]; then t_fail $T "(a) no password in the status" "no password" "$out"
else t_pass $T "(a) no password in the status"; fi
sleep 4          # the report is repeated while the wait lasts: still there, still the same holder
t_eq $T "(a) still shown while the lock is held" "$HOLDER" "$(st .wait.holder.pid)"
echo "COMMIT;" >&7
exec 7>&-
wait "$hold_pid" 2>/dev/null; hold_pid=
cleared() { [ "$(st .wait)" = null ]; }
t_wait $T "(a) released: the wait clears" 5 cleared
moved() { [ "$(ev_target)" -gt "$before" ]; }
t_wait $T "(a) released: the changes arrive" 10 moved
stop_load

# ---- (b) the retry backoff -------------------------------------------------------------------
proxy_stop tgt
failed_backoff() { [ "$(st .state)" = failed ] && [ "$(st .retry.next_in_ms)" -ge 3000 ] 2>/dev/null; }
t_wait $T "(b) target gone: failed, and a retry at least 3 s away" 30 failed_backoff
N=$(st .retry.attempt)
t_match $T "(b) status shows the attempt" '^[0-9]+$' "$N"
t_match $T "(b) ... and the next try's time" '^20[0-9-]+T[0-9:]+Z$' "$(st .retry.next_at)"
t_match $T "(b) an event says which attempt and when" "attempt $N in [0-9]+ ms" "$(events)"
t0=$(date +%s%3N)
res=$("$CMD" "$DBFILE" "$NAME" retry 2>&1)
t_eq $T "(b) retry is taken" "ok" "$res"
started() { events | grep -q "attempt $N starts now: retry asked by test"; }
t_wait $T "(b) retry: attempt $N starts (its event)" 2 started
next_attempt() { [ "$(st .retry.attempt)" -gt "$N" ] 2>/dev/null || [ "$(st .retry.under_way)" = true ]; }
t_wait $T "(b) retry: the attempt counter moves on within 2 s" 2 next_attempt
echo "# (b) retry: attempt $N started within $(( $(date +%s%3N) - t0 )) ms" >&2
# Healed: the relay listens on the same port again; retry now instead of the backoff.
"$PROXY" "$ZH_PGTGT_PORT" "$PORT" >/dev/null 2>>"$E2E_DIR/proxy-tgt2.log" &
relay_pid=$!
sleep 0.5
"$CMD" "$DBFILE" "$NAME" retry >/dev/null 2>&1
t_wait $T "(b) healed and retried: active again" 20 is_active
retry_gone() { [ "$(st .retry)" = null ]; }
t_wait $T "(b) ... and no retry is shown" 5 retry_gone
res=$("$CMD" "$DBFILE" "$NAME" retry 2>&1)
t_match $T "(b) retry when none waits: answered so" "^not waiting for a retry \\(active\\)" "$res"
t_done
