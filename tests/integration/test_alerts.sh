#!/usr/bin/env bash
# test_alerts.sh — webhook alerts from a real `zetl run` (PostgreSQL →
# PostgreSQL) to a real HTTP receiver on loopback (build/tools/http_sink):
#   A. target down → the integration fails: ONE firing alert while it lasts
#      (through several retries), ONE resolved when it is back
#   B. a stuck applier (a target table locked) → ONE lag alert, ONE resolved
#   C. the receiver answers 500, then 200 → the alert is retried and arrives
#   D. the receiver is down → a failed delivery is an event in the SQLite
#      log with the URL redacted; the receiver back → a later retry delivers
# and the webhook URL's secret path never appears on stderr, in the SQLite
# log (sqlite3 .dump) or in `zetl status`.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_alerts
S=alerts_t
SINK_BIN=${ZETL_BUILD:-build}/tools/http_sink

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
SINK=$E2E_DIR/sink
sink_pid=
lock_pid=
cleanup() {
    [ -n "$lock_pid" ] && kill "$lock_pid" 2>/dev/null
    zh_psql_tgt -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'zetl_test_lock'" >/dev/null 2>&1
    [ -n "$sink_pid" ] && { kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; }
    e2e_cleanup
    zh_start_pg tgt >/dev/null 2>&1         # in case a check failed while it was down
    e2e_pg_drop al $S
}
trap 'cleanup; harness_stop' EXIT

sink_start() {      # [PORT]
    rm -f "$SINK/port"
    "$SINK_BIN" --dir "$SINK" ${1:+--port "$1"} 2>>"$E2E_DIR/sink.log" &
    sink_pid=$!
    local end=$((SECONDS + 20))
    while [ ! -s "$SINK/port" ] && [ $SECONDS -lt $end ]; do sleep 0.1; done
    [ -s "$SINK/port" ]
}
sink_stop() { kill -TERM "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; sink_pid=; }

mkdir -p "$SINK"
sink_start || { t_fail $T "http_sink" "listening" "$(cat "$E2E_DIR/sink.log")"; t_done; }
PORT=$(cat "$SINK/port")
SECRET="SECRETTOKEN$RANDOM$RANDOM"
export ALERT_HOOK="http://127.0.0.1:$PORT/services/T000/B000/$SECRET"
REDACTED="http://127.0.0.1:$PORT/***"

e2e_pg_drop al $S
zh_psql_src <<SQL >/dev/null 2>&1
CREATE SCHEMA $S;
CREATE TABLE $S.items (id int PRIMARY KEY, v text);
INSERT INTO $S.items SELECT g, 'row ' || g FROM generate_series(1, 50) g;
SQL

# config ON: the alerts this phase watches. A target outage of a few seconds
# also shows as lag right after it (no proof of being current meanwhile),
# so the outage phases watch `failed` only and the lag phase has no outage.
config() {
    e2e_pg_config al $S "alerts:
  webhook_url: \${ALERT_HOOK}
  on: $1
  lag_seconds: 5
  resolve_seconds: 3
  timeout_seconds: 3"
}
DB=$E2E_DIR/state/zetl.db

# ---- reading what the receiver got --------------------------------------------
# A phase sees only what came after its mark: requests after line $MARK of
# requests.jsonl, events after id $EV_MARK of the state log.
MARK=0 EV_MARK=0
mark() {
    MARK=$( [ -f "$SINK/requests.jsonl" ] && wc -l <"$SINK/requests.jsonl" || echo 0)
    EV_MARK=$(max_event)
}
bodies() {
    [ -f "$SINK/requests.jsonl" ] || return 0
    tail -n +"$((MARK + 1))" "$SINK/requests.jsonl" | jq -c '.body | fromjson'
}
# requests KIND STATUS: POSTs of that alert since the mark (a retry is one more)
requests() { bodies | jq -c "select(.kind == \"$1\" and .status == \"$2\")" | wc -l; }
# alerts KIND STATUS: distinct alerts since the mark (a retried alert is the same body)
alerts() { bodies | jq -c "select(.kind == \"$1\" and .status == \"$2\")" | sort -u | wc -l; }
has_alert() { [ "$(alerts "$1" "$2")" -ge 1 ]; }
# events LIKE: alert events since the mark whose message matches the SQL LIKE pattern
events() { sqlite3 "$DB" "SELECT count(*) FROM events WHERE kind = 'alert' AND id > $EV_MARK AND message LIKE '$1'" 2>/dev/null; }
has_event() { [ "$(events "$1")" -ge 1 ]; }
retries() { sqlite3 "$DB" "SELECT count(*) FROM events WHERE kind = 'retry' AND id > ${1:-0}" 2>/dev/null; }
max_event() { sqlite3 "$DB" "SELECT coalesce(max(id), 0) FROM events" 2>/dev/null; }
active() { [ "$(e2e_status_field '.integrations[0].state')" = active ]; }

# ---- A. the integration fails: one alert per incident, one resolved ----------------
config "[failed]"
e2e_run_start
t_wait $T "A: integration active" 120 active
mark
zh_stop_pg tgt
t_wait $T "A: target down → a firing 'failed' alert arrives" 60 has_alert failed firing
at_least_3_retries() { [ "$(retries "$EV_MARK")" -ge 3 ]; }
t_wait $T "A: the integration keeps failing (3 retries seen in the log)" 60 at_least_3_retries
t_eq $T "A: still exactly one firing alert for the incident" 1 "$(requests failed firing)"
t_eq $T "A: nothing resolved while it lasts" 0 "$(requests failed resolved)"
first=$(bodies | jq -c 'select(.kind == "failed" and .status == "firing")' | head -n 1)
t_eq $T "A: fields: integration, table, state" "al null failed" \
    "$(jq -r '"\(.integration) \(.table) \(.state)"' <<<"$first")"
t_match $T "A: the reason names the target" '.+' "$(jq -r '.reason // empty' <<<"$first")"
t_match $T "A: time is ISO 8601 UTC" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
    "$(jq -r '.time' <<<"$first")"
t_match $T "A: Slack text" '^\[FIRING\] zetl .*integration al is failed' "$(jq -r '.text' <<<"$first")"
req=$(tail -n +"$((MARK + 1))" "$SINK/requests.jsonl" | head -n 1)
t_eq $T "A: POST to the webhook's path, as JSON" "POST /services/T000/B000/$SECRET application/json" \
    "$(jq -r '"\(.method) \(.path) \(.headers["content-type"])"' <<<"$req")"
zh_start_pg tgt
t_wait $T "A: target back → a resolved 'failed' alert arrives" 120 has_alert failed resolved
t_eq $T "A: one firing and one resolved in all" "1 1" "$(requests failed firing) $(requests failed resolved)"
t_eq $T "A: resolved after firing" "firing resolved" \
    "$(bodies | jq -r 'select(.kind == "failed") | .status' | tr '\n' ' ' | sed 's/ $//')"

e2e_run_stop; t_eq $T "zetl run exits 0" 0 "$?"

# ---- B. a stuck applier: one lag alert, one resolved --------------------------------
config "[failed, lag]"
e2e_run_start
t_wait $T "B: active" 120 active
caught_up() { [ "$(e2e_status_field '.integrations[0].lag_ms')" = 0 ]; }
t_wait $T "B: caught up (lag 0)" 60 caught_up
mark
PGAPPNAME=zetl_test_lock zh_psql_tgt -c "BEGIN; LOCK TABLE $S.items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300); COMMIT;" \
    >/dev/null 2>&1 &
lock_pid=$!
locked() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'zetl_test_lock' AND query LIKE '%pg_sleep%' AND state = 'active'")" = 1 ]; }
t_wait $T "B: a target table is locked" 30 locked
zh_psql_src -c "INSERT INTO $S.items SELECT g, 'late ' || g FROM generate_series(1001, 1010) g" >/dev/null
t_wait $T "B: the applier is stuck → a firing 'lag' alert (over 5 s)" 90 has_alert lag firing
sleep 5                     # an observation window: the monitor reads the log every second
t_eq $T "B: exactly one lag alert while it lasts" 1 "$(requests lag firing)"
t_match $T "B: it says how far behind" 'integration al is .* behind its source \(lag alert: over 5s\)' \
    "$(bodies | jq -r 'select(.kind == "lag") | .text' | head -n 1)"
zh_psql_tgt -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'zetl_test_lock'" >/dev/null
wait "$lock_pid" 2>/dev/null; lock_pid=
t_wait $T "B: unlocked → a resolved 'lag' alert" 90 has_alert lag resolved
t_eq $T "B: one firing and one resolved lag alert" "1 1" "$(requests lag firing) $(requests lag resolved)"
t_eq $T "B: no failed alert meanwhile" 0 "$(requests failed firing)"
e2e_run_stop; t_eq $T "zetl run exits 0" 0 "$?"

# ---- C. the receiver answers 500, then 200: retried, delivered ----------------------
config "[failed]"
e2e_run_start               # a fresh process: the supervisor's backoff starts again at 1 s
t_wait $T "C: active" 120 active
mark
echo 500 >"$SINK/respond"
zh_stop_pg tgt
got_one() { [ "$(requests failed firing)" -ge 1 ]; }
t_wait $T "C: the firing alert is POSTed (answered 500)" 60 got_one
rm -f "$SINK/respond"
got_two() { [ "$(requests failed firing)" -ge 2 ]; }
t_wait $T "C: it is POSTed again (retried) and answered 200" 60 got_two
t_eq $T "C: the retry is the same alert" 1 "$(alerts failed firing)"
t_wait $T "C: the failed attempt is logged with the URL redacted" 20 \
    has_event "alert delivery to $REDACTED failed (attempt 1 of 6): HTTP 500%"
t_wait $T "C: the delivery is logged" 20 has_event "alert sent to $REDACTED: al: failed firing"
zh_start_pg tgt
t_wait $T "C: resolved" 120 has_alert failed resolved
e2e_run_stop

# ---- D. the receiver is down: an event in the log; back → delivered -----------------
e2e_run_start
t_wait $T "D: active" 120 active
sink_stop
mark
zh_stop_pg tgt
t_wait $T "D: receiver down → a failed delivery in the SQLite log, URL redacted" 60 \
    has_event "alert delivery to $REDACTED failed (attempt 1 of 6): %"
t_match $T "D: ... saying why" "[Cc]onnect|refused" \
    "$(sqlite3 "$DB" "SELECT message FROM events WHERE kind = 'alert' AND id > $EV_MARK ORDER BY id LIMIT 1")"
sink_start "$PORT" || t_fail $T "D: http_sink restarts on port $PORT" "listening" "$(tail -n 3 "$E2E_DIR/sink.log")"
t_wait $T "D: receiver back → a later attempt delivers the alert" 60 has_alert failed firing
t_eq $T "D: delivered once" 1 "$(requests failed firing)"
zh_start_pg tgt
t_wait $T "D: resolved" 120 has_alert failed resolved
e2e_run_stop

# ---- the secret ------------------------------------------------------------------------
t_eq $T "the receiver saw the secret path (the URL was used)" yes \
    "$(grep -q "$SECRET" "$SINK/requests.jsonl" && echo yes || echo no)"
t_eq $T "stderr never shows the webhook's secret" 0 "$(grep -c "$SECRET" "$E2E_DIR/run.log")"
t_ne $T "stderr shows the redacted URL" 0 "$(grep -cF "$REDACTED" "$E2E_DIR/run.log")"
dump=$(sqlite3 "$DB" .dump)
t_eq $T "the SQLite log never holds the secret" 0 "$(grep -c "$SECRET" <<<"$dump")"
t_ne $T "the SQLite log holds the redacted URL" 0 "$(grep -cF "$REDACTED" <<<"$dump")"
st=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>&1; "$ZETL" status -c "$E2E_DIR/zetl.yaml" --json 2>&1)
t_eq $T "zetl status never shows it" 0 "$(grep -c "$SECRET" <<<"$st")"
t_done
