#!/usr/bin/env bash
# test_http_target.sh — the http target end to end: a real MariaDB source,
# the real `zetl run`, and a real HTTP receiver on loopback (build/tools/http_sink).
#   1. the initial copy arrives as op t (per table) then op r events
#   2. inserts, updates, deletes and a truncate arrive in source order with
#      correct before/after/source fields; requests carry the configured
#      headers, application/x-ndjson and an Idempotency-Key
#   3. the receiver down for 20 s while changes are made, then back on the same
#      port: every change arrives; a change seen twice comes only from
#      repeats of one request (same Idempotency-Key, same body); status showed
#      `failed` while it was down and `active` after
#   4. a 503 is retried with the identical request until it is taken
#   5. a 400 fails the integration with the status and body in the reason
#      (an echoed token scrubbed); fixed, the change arrives
#   6. a 100,000-row transaction: every row arrives, each POST stays near 1 MB,
#      the process stays small
#   7. restart: resumes from the checkpoint file (0600), no second snapshot
#   8. while the receiver is down, pause and resume are answered, and SIGTERM
#      stops zetl within seconds
#   9. the secrets (a query token and a header value) never appear in stderr,
#      the SQLite log, `zetl status` or `zetl check`; check shows the endpoint
#  10. a PostgreSQL source: LSN positions, txid, the database name, PostgreSQL
#      types (boolean, numeric, jsonb, bytea, timestamptz, arrays)
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_http_target
DB=http_tgt
SINK_BIN=${ZETL_BUILD:-build}/tools/http_sink
CMD=${ZETL_BUILD:-build}/tools/zetl_command
QTOKEN=qtok-7d1f5e0c9a      # in the url's query string
HTOKEN=hdr-41b8e2f6aa       # in a header value

harness_start mariadb pgsrc || { t_fail $T "harness" "servers up" "start failed"; t_done; }
[ -x "$SINK_BIN" ] || { t_fail $T "http_sink" "$SINK_BIN built (make unit-bins)" "missing"; t_done; }
e2e_init $T
SINK=$E2E_DIR/sink
mkdir -p "$SINK"
SINK_PID=
sink_start() {   # [PORT]
    rm -f "$SINK/port"
    "$SINK_BIN" --dir "$SINK" ${1:+--port "$1"} 2>>"$E2E_DIR/sink.log" &
    SINK_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do [ -s "$SINK/port" ] && break; sleep 0.1; done
    PORT=$(cat "$SINK/port" 2>/dev/null)
}
sink_stop() { [ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null; SINK_PID=; }
cleanup() {
    sink_stop
    e2e_cleanup
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'zetl_pgweb'" >/dev/null 2>&1
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_pgweb; DROP SCHEMA IF EXISTS $DB CASCADE" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT

# Every event received (in requests after EV_FROM), one JSON object per line,
# in arrival order, with its request: {k: Idempotency-Key, rq: request seq,
# h: body length} + the event.
EV_FROM=0
events() {
    jq -c --argjson from "$EV_FROM" 'select(.method == "POST" and .seq > $from)
           | .headers["idempotency-key"] as $k | .seq as $rq
           | (.body | length) as $h | .body | split("\n")[] | select(length > 0)
           | fromjson + {k: $k, rq: $rq, h: $h}' "$SINK/requests.jsonl" 2>/dev/null
}
count_events() { events | jq -s "map(select($1)) | length"; }
wait_events() {   # SECONDS JQ-FILTER N
    local end=$((SECONDS + $1)) n=0
    while :; do
        n=$(count_events "$2")
        [ "${n:-0}" -ge "$3" ] && return 0
        [ $SECONDS -ge $end ] && { echo "$n"; return 1; }
        sleep 0.3
    done
}
state() { e2e_status_field ".integrations[] | select(.name == \"web\") | .state"; }
reason() { e2e_status_field ".integrations[] | select(.name == \"web\") | .reason // \"\""; }
wait_state() {   # SECONDS STATE
    local end=$((SECONDS + $1))
    while [ "$(state)" != "$2" ]; do [ $SECONDS -ge $end ] && return 1; sleep 0.3; done
}
# A failing round shows `active` briefly between retries: poll for the reason.
wait_reason() {  # SECONDS REGEX; the last reason seen in $R
    local end=$((SECONDS + $1))
    while :; do
        R=$(reason)
        [[ $R =~ $2 ]] && return 0
        [ $SECONDS -ge $end ] && return 1
        sleep 0.3
    done
}

zh_mysql <<SQL >/dev/null
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB;
CREATE TABLE $DB.items (id INT PRIMARY KEY, name VARCHAR(40), price DECIMAL(10,2), doc JSON,
                        raw VARBINARY(16), at DATETIME(3), big BIGINT UNSIGNED, f DOUBLE);
CREATE TABLE $DB.notes (id INT PRIMARY KEY, body TEXT);
INSERT INTO $DB.items VALUES
  (1, 'apple', 12.50, '{"tags": ["red", "fruit"], "n": 1}', 0x00ff10, '2024-01-02 03:04:05.678', 18446744073709551615, 0.1),
  (2, 'Zoë "quoted"', -0.05, NULL, NULL, NULL, 7, NULL),
  (3, 'line\nbreak', 0, '[]', '', '1999-12-31 23:59:59.000', 0, -2.5);
INSERT INTO $DB.notes VALUES (1, 'first'), (2, 'second');
SQL

sink_start
[ -n "$PORT" ] && t_pass $T "http_sink listens (port $PORT)" || { t_fail $T "http_sink starts" "a port file" "none: $(cat "$E2E_DIR/sink.log")"; t_done; }

cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: web
    source:
      kind: mysql
      host: 127.0.0.1
      port: $ZH_MY_PORT
      user: $ZH_MY_USER
      password: \${HT_MY_PASSWORD}
      databases: [$DB]
      server_id: 4711
    target:
      kind: http
      url: "http://127.0.0.1:$PORT/ingest/v1?token=$QTOKEN&src=zetl"
      headers:
        Authorization: "Bearer $HTOKEN"
        X-Tenant: acme
    tables:
      include: ["$DB.%"]
    apply:
      batch_ms: 100
      memory_mb: 32
YAML
export HT_MY_PASSWORD=$ZH_MY_PASSWORD

# ---- 1. the initial copy ---------------------------------------------------------
e2e_run_start
if wait_events 60 '.op == "r"' 5 >/dev/null; then t_pass $T "snapshot: 5 rows arrive as op r"
else t_fail $T "snapshot rows" "5 op r events" "$(count_events '.op == "r"') (run.log: $(tail -3 "$E2E_DIR/run.log"))"; fi
ev=$(events)
t_eq $T "snapshot: one op t per table first, then the rows" "t t r r r r r" \
    "$(jq -rs 'map(select(.source.snapshot)) | map(.op) | join(" ")' <<<"$ev")"
t_eq $T "snapshot: source.pos null, snapshot true on every r" "true" \
    "$(jq -s 'map(select(.op == "r")) | all(.source.pos == null and .source.snapshot == true and .before == null)' <<<"$ev")"
r1=$(jq -c 'select(.op == "r" and .source.table == "items" and .after.id == 1) | .after' <<<"$ev")
t_eq $T "snapshot: values (DECIMAL string, JSON embedded, bytes base64, ISO time, big unsigned string, float)" \
    '{"id":1,"name":"apple","price":"12.50","doc":{"n":1,"tags":["red","fruit"]},"raw":"AP8Q","at":"2024-01-02T03:04:05.678","big":"18446744073709551615","f":0.1}' \
    "$(jq -cS . <<<"$r1" | jq -c '{id,name,price,doc,raw,at,big,f}')"
t_eq $T "snapshot: text escapes survive" $'Zoë "quoted"|line\nbreak' \
    "$(jq -rs 'map(select(.op == "r" and .source.table == "items")) | sort_by(.after.id) | "\(.[1].after.name)|\(.[2].after.name)"' <<<"$ev")"
t_eq $T "snapshot: source names the table and the target" "mysql|web|$DB|$DB|items|$DB.items" \
    "$(jq -r 'select(.op == "r" and .source.table == "items" and .after.id == 1) | "\(.source.connector)|\(.source.name)|\(.source.db)|\(.source.schema)|\(.source.table)|\(.target)"' <<<"$ev")"
req=$(jq -c 'select(.method == "POST")' "$SINK/requests.jsonl" | head -1)
t_eq $T "request: POST to the configured path and query" "/ingest/v1?token=$QTOKEN&src=zetl" "$(jq -r .path <<<"$req")"
t_eq $T "request: NDJSON content type" "application/x-ndjson" "$(jq -r '.headers["content-type"]' <<<"$req")"
t_eq $T "request: configured headers sent" "Bearer $HTOKEN|acme" \
    "$(jq -r '"\(.headers.authorization)|\(.headers["x-tenant"])"' <<<"$req")"
t_match $T "request: Idempotency-Key names the integration and the range" '^web:snapshot-[0-9]+#0\.\.snapshot-[0-9]+#[0-9]+$' \
    "$(jq -r '.headers["idempotency-key"]' <<<"$req")"
t_match $T "request: every body line is one event ending in a newline" '^true$' \
    "$(jq -s 'map(select(.method == "POST") | .body | endswith("\n")) | all' "$SINK/requests.jsonl")"

# ---- 2. changes in source order ------------------------------------------------------
wait_state 30 active || t_fail $T "active after the copy" "active" "$(state)"
zh_mysql <<SQL
BEGIN;
INSERT INTO $DB.items (id, name, price) VALUES (10, 'kiwi', 3.25);
UPDATE $DB.items SET name = 'APPLE', price = 13.00 WHERE id = 1;
DELETE FROM $DB.items WHERE id = 2;
COMMIT;
TRUNCATE TABLE $DB.notes;
INSERT INTO $DB.notes VALUES (5, 'after truncate');
SQL
if wait_events 30 '.source.snapshot == false' 5 >/dev/null; then t_pass $T "stream: 5 changes arrive"
else t_fail $T "stream: 5 changes arrive" 5 "$(count_events '.source.snapshot == false')"; fi
ev=$(events | jq -c 'select(.source.snapshot == false)')
t_eq $T "stream: ops in source order" "c:items:10 u:items:1 d:items:2 t:notes:- c:notes:5" \
    "$(jq -rs 'map("\(.op):\(.source.table):\((.after // .before // {}).id // "-")") | join(" ")' <<<"$ev")"
t_eq $T "stream: update before and after images" "apple|12.50|APPLE|13.00" \
    "$(jq -r 'select(.op == "u") | "\(.before.name)|\(.before.price)|\(.after.name)|\(.after.price)"' <<<"$ev")"
t_eq $T "stream: delete carries the old row, after null" "2|Zoë \"quoted\"|null" \
    "$(jq -r 'select(.op == "d") | "\(.before.id)|\(.before.name)|\(.after)"' <<<"$ev")"
t_eq $T "stream: truncate has no images" "null|null" "$(jq -r 'select(.op == "t") | "\(.before)|\(.after)"' <<<"$ev")"
t_eq $T "stream: one transaction shares pos, seq counts 0,1,2, ts_ms set" "1|0,1,2|true" \
    "$(jq -rs '.[0:3] | "\(map(.source.pos) | unique | length)|\(map(.source.seq) | map(tostring) | join(","))|\(all(.source.ts_ms > 1700000000000))"' <<<"$ev")"
t_match $T "stream: pos is a binlog position" '^[^ ]+:[0-9]+' "$(jq -r 'select(.op == "c") | .source.pos' <<<"$ev" | head -1)"
t_eq $T "stream: pos never decreases across transactions" "true" \
    "$(jq -rs 'map(.source.pos | capture(":(?<o>[0-9]+)").o | tonumber) as $p | [range(1; $p | length)] | all($p[.] >= $p[. - 1])' <<<"$ev")"

# ---- 3. the receiver down for 20 s ----------------------------------------------------
sink_stop
down_at=$SECONDS
for i in $(seq 100 129); do
    zh_mysql -e "INSERT INTO $DB.items (id, name) VALUES ($i, 'while down $i')"
    sleep 0.4
done
if wait_state 20 failed; then t_pass $T "receiver down: status shows failed"
else t_fail $T "receiver down: status shows failed" failed "$(state)"; fi
wait_reason 10 "connect.*retrying the same request"
t_match $T "receiver down: the reason says why and that it retries" "connect.*retrying the same request" "$R"
while [ $((SECONDS - down_at)) -lt 20 ]; do sleep 0.5; done
sink_start "$PORT"
[ -n "$PORT" ] && t_pass $T "receiver back on the same port" || t_fail $T "receiver back" "port $PORT" "none"
if wait_events 90 '.op == "c" and .after.id >= 100 and .after.id <= 129' 30 >/dev/null; then
    t_pass $T "receiver back: all 30 changes made while it was down arrive"
else t_fail $T "receiver back: 30 changes arrive" 30 "$(count_events '.op == "c" and .after.id >= 100 and .after.id <= 129')"; fi
ev=$(events)
t_eq $T "no change lost: ids 100..129 each present" "30" \
    "$(jq -s 'map(select(.op == "c" and .after.id >= 100 and .after.id <= 129) | .after.id) | unique | length' <<<"$ev")"
t_eq $T "duplicates only as whole repeated requests (same key, same body)" "0" \
    "$(jq -s 'map(select(.source.snapshot == false)) | group_by("\(.source.pos)#\(.source.seq)")
              | map(select(length > 1 and ((map(.k) | unique | length) > 1 or (map(.h) | unique | length) > 1))) | length' <<<"$ev")"
if wait_state 30 active; then t_pass $T "receiver back: status active again"; else t_fail $T "status active again" active "$(state)"; fi

# ---- 4. a 503 is retried with the identical request ----------------------------------
printf '503\nbusy, try later\n' >"$SINK/respond"
before=$(jq -s 'map(select(.method == "POST")) | length' "$SINK/requests.jsonl")
zh_mysql -e "INSERT INTO $DB.items (id, name) VALUES (200, 'retried')"
end=$((SECONDS + 30))
while [ "$(jq -s "map(select(.method == \"POST\")) | length - $before" "$SINK/requests.jsonl")" -lt 2 ] && [ $SECONDS -lt $end ]; do sleep 0.2; done
wait_reason 10 "answered 503: busy, try later"
t_match $T "503: status failed with the answer" "answered 503: busy, try later" "$R"
rm -f "$SINK/respond"
wait_events 60 '.op == "c" and .after.id == 200' 2 >/dev/null
t_eq $T "503: the attempts repeat one request (one key, one body)" "1|1" \
    "$(jq -rs "map(select(.method == \"POST\")) | .[$before:] | map(select(.body | contains(\"\\\"retried\\\"\"))) | \"\(map(.headers[\"idempotency-key\"]) | unique | length)|\(map(.body) | unique | length)\"" "$SINK/requests.jsonl")"
t_match $T "503: more than one attempt was made" "^[2-9]|^[1-9][0-9]" \
    "$(jq -s "map(select(.method == \"POST\")) | .[$before:] | map(select(.body | contains(\"\\\"retried\\\"\"))) | length" "$SINK/requests.jsonl")"
if wait_state 30 active; then t_pass $T "503: active again once taken"; else t_fail $T "503: active again" active "$(state)"; fi

# ---- 5. a 400 fails the integration with the body --------------------------------------
printf '400\n{"error": "field price rejected", "echo": "%s"}\n' "$QTOKEN" >"$SINK/respond"
zh_mysql -e "INSERT INTO $DB.items (id, name) VALUES (300, 'refused')"
if wait_reason 30 'answered 400: \{"error": "field price rejected", "echo": "\*\*\*"\}'; then
    t_pass $T "400: failed, the reason has the status and the body"
else t_fail $T "400: the reason has the status and the body" "answered 400: {...}" "$R"; fi
t_eq $T "400: the token the endpoint echoed is scrubbed from the reason" "" "$(grep -o "$QTOKEN" <<<"$R")"
rm -f "$SINK/respond"
if wait_events 90 '.op == "c" and .after.id == 300' 2 >/dev/null; then t_pass $T "400 fixed: the change arrives on the next round"
else t_fail $T "400 fixed: the change arrives" "id 300 delivered" "$(count_events '.op == "c" and .after.id == 300')"; fi
wait_state 30 active || t_fail $T "400 fixed: active again" active "$(state)"

# ---- 6. a 100,000-row transaction -------------------------------------------------------
nreq=$(jq -s 'length' "$SINK/requests.jsonl")
# one INSERT … SELECT: one transaction of 100,000 rows (MariaDB's sequence engine)
zh_mysql -e "INSERT INTO $DB.notes (id, body) SELECT seq, CONCAT('bulk row ', seq, ' ', REPEAT('x', 200)) FROM $DB.seq_1000_to_100999"
bulk() {
    jq -r --argjson from "$nreq" 'select(.seq > $from and .method == "POST") | .body' "$SINK/requests.jsonl" |
        grep -c '"bulk row '
}
end=$((SECONDS + 120)); n=0
while :; do n=$(bulk); [ "${n:-0}" -ge 100000 ] || [ $SECONDS -ge $end ] && break; sleep 1; done
t_eq $T "big transaction: all 100,000 rows arrive" "100000" "$n"
maxb=$(jq -s --argjson from "$nreq" 'map(select(.seq > $from and .method == "POST") | .body | utf8bytelength) | max' "$SINK/requests.jsonl")
npost=$(jq -s --argjson from "$nreq" 'map(select(.seq > $from and .method == "POST")) | length' "$SINK/requests.jsonl")
t_match $T "big transaction: split into many POSTs (saw $npost)" '^([2-9][0-9]|[1-9][0-9]{2,})$' "$npost"
t_ok $T "big transaction: no POST over 1 MB + one event (largest $maxb bytes)" test "$maxb" -le $((1048576 + 4096))
rss=$(e2e_rss_peak_kb)
t_ok $T "big transaction: peak RSS under 150 MB (saw ${rss} kB)" test "$rss" -lt 153600

# ---- 7. restart resumes from the checkpoint file ----------------------------------------
CK=$E2E_DIR/state/web.http-checkpoint
e2e_run_stop || true
t_eq $T "checkpoint file mode 0600" "600" "$(stat -c %a "$CK" 2>/dev/null)"
t_match $T "checkpoint file holds the position" '^position [^ ]+:[0-9]+' "$(grep '^position' "$CK")"
EV_FROM=$(jq -s 'length' "$SINK/requests.jsonl")     # only what comes after the restart
e2e_run_start
zh_mysql -e "UPDATE $DB.items SET name = 'after restart' WHERE id = 10"
if wait_events 60 '.op == "u" and .after.name == "after restart"' 1 >/dev/null; then t_pass $T "restart: streaming resumes"
else t_fail $T "restart: streaming resumes" "the update delivered" "nothing"; fi
t_eq $T "restart: no second snapshot" "0" "$(count_events '.op == "r" or .source.snapshot')"

# ---- 8. commands and SIGTERM while the receiver is down -----------------------------------
sink_stop
zh_mysql -e "INSERT INTO $DB.items (id, name) VALUES (400, 'pending at stop')"
wait_state 30 failed || t_fail $T "down again: failed" failed "$(state)"
t_ok $T "pause is answered while a delivery is retried" timeout 20 "$CMD" "$E2E_DIR/state/zetl.db" web pause
if wait_state 10 paused; then t_pass $T "paused while the receiver is down"; else t_fail $T "paused" paused "$(state)"; fi
t_ok $T "resume is answered" timeout 20 "$CMD" "$E2E_DIR/state/zetl.db" web resume
if wait_state 30 failed; then t_pass $T "resumed: retrying again (failed with the reason)"; else t_fail $T "resumed: retrying" failed "$(state)"; fi
t0=$SECONDS
kill -TERM "$E2E_PID"
( sleep 15; kill -9 "$E2E_PID" 2>/dev/null ) & guard=$!
wait "$E2E_PID"; E2E_PID=
kill "$guard" 2>/dev/null; wait "$guard" 2>/dev/null
t_ok $T "SIGTERM while retrying: zetl stops within 10 s (took $((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 10
sink_start "$PORT"
e2e_run_start
if wait_events 60 '.op == "c" and .after.id == 400' 1 >/dev/null; then t_pass $T "after the stop: the pending change arrives"
else t_fail $T "after the stop: the pending change arrives" "id 400" "nothing"; fi

# ---- 9. secrets and zetl check ----------------------------------------------------------------
out=$("$ZETL" check -c "$E2E_DIR/zetl.yaml" 2>&1)
t_match $T "check: the endpoint answers" "endpoint +HTTP [0-9]+ to a HEAD request" "$out"
t_match $T "check: the checkpoint is shown" "checkpoint +at [^ ]+:[0-9]+" "$out"
st=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>&1; "$ZETL" status -c "$E2E_DIR/zetl.yaml" --json 2>&1)
t_match $T "status: target shown with the query value hidden" "http://127.0.0.1:$PORT/ingest/v1\\?token=\\*\\*\\*&src=\\*\\*\\*" "$st"
e2e_run_stop || true
dump=$(sqlite3 "$E2E_DIR/state/zetl.db" .dump 2>&1)
t_match $T "the SQLite log recorded the failures" "answered 400" "$dump"
for s in "$QTOKEN" "$HTOKEN"; do
    t_eq $T "secret ${s:0:4}… not in stderr" "0" "$(grep -c -- "$s" "$E2E_DIR/run.log")"
    t_eq $T "secret ${s:0:4}… not in the SQLite log" "0" "$(grep -c -- "$s" <<<"$dump")"
    t_eq $T "secret ${s:0:4}… not in zetl status" "0" "$(grep -c -- "$s" <<<"$st")"
    t_eq $T "secret ${s:0:4}… not in zetl check" "0" "$(grep -c -- "$s" <<<"$out")"
done
out=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" 2>&1)
t_match $T "verify refuses an http target" "http target cannot be read back" "$out"

# ---- 10. a PostgreSQL source --------------------------------------------------------------
zh_psql_src <<SQL >/dev/null
SET client_min_messages = warning;
DROP PUBLICATION IF EXISTS zetl_pgweb;
DROP SCHEMA IF EXISTS $DB CASCADE;
CREATE SCHEMA $DB;
CREATE TABLE $DB.acct (id int PRIMARY KEY, ok boolean, amount numeric(12,3), doc jsonb, raw bytea,
                       at timestamptz, tags int[], note text);
INSERT INTO $DB.acct VALUES (1, true, 1234.500, '{"b": [1, 2], "a": null}', '\x00ff10',
                             '2024-01-02 03:04:05+00', '{1,2}', 'first');
SQL
EV_FROM=$(jq -s 'length' "$SINK/requests.jsonl")
sed -e '/^  - name: web/,$d' "$E2E_DIR/zetl.yaml" >"$E2E_DIR/pg.yaml"
cat >>"$E2E_DIR/pg.yaml" <<YAML
  - name: pgweb
    source:
      kind: postgres
      host: 127.0.0.1
      port: $ZH_PGSRC_PORT
      user: $ZH_PG_USER
      password: \${HT_PG_PASSWORD}
      database: zetl
      schemas: [$DB]
    target:
      kind: http
      url: "http://127.0.0.1:$PORT/pg?token=$QTOKEN"
    tables:
      include: ["$DB.%"]
    apply:
      batch_ms: 100
YAML
export HT_PG_PASSWORD=$ZH_PG_PASSWORD
"$ZETL" run -c "$E2E_DIR/pg.yaml" 2>>"$E2E_DIR/run.log" &
E2E_PID=$!
if wait_events 60 '.op == "r" and .source.connector == "postgresql"' 1 >/dev/null; then t_pass $T "pg: snapshot row arrives"
else t_fail $T "pg: snapshot row arrives" "1 op r" "none (run.log: $(tail -3 "$E2E_DIR/run.log"))"; fi
t_eq $T "pg: PostgreSQL values (boolean, numeric string, jsonb, bytea base64, array text)" \
    '{"amount":"1234.500","doc":{"a":null,"b":[1,2]},"id":1,"note":"first","ok":true,"raw":"AP8Q","tags":"{1,2}"}' \
    "$(events | jq -cS 'select(.op == "r") | .after | del(.at)')"
t_match $T "pg: timestamptz as ISO 8601" '^2024-01-0[12]T[0-9]{2}:[0-9]{2}:05(Z|[+-][0-9]{2}:[0-9]{2})$' \
    "$(events | jq -r 'select(.op == "r") | .after.at')"
zh_psql_src -c "BEGIN; INSERT INTO $DB.acct (id, note) VALUES (2, 'two'); DELETE FROM $DB.acct WHERE id = 1; COMMIT" >/dev/null
if wait_events 60 '.op == "d" and .source.connector == "postgresql"' 1 >/dev/null; then t_pass $T "pg: stream changes arrive"
else t_fail $T "pg: stream changes arrive" "c and d" "$(events | jq -c '{op}' | tr '\n' ' ')"; fi
ev=$(events | jq -c 'select(.source.snapshot == false)')
t_eq $T "pg: one transaction, in order, with pos (LSN), seq, txid and the database" "c:0 d:1|1|true|true|zetl|$DB" \
    "$(jq -rs '"\(map("\(.op):\(.source.seq)") | join(" "))|\(map(.source.pos) | unique | length)|\(all(.source.pos | test("^[0-9A-F]+/[0-9A-F]+$")))|\(all(.source.txid > 0))|\(.[0].source.db)|\(.[0].source.schema)"' <<<"$ev")"
t_eq $T "pg: delete carries the replica identity (the key)" '{"id":1}' "$(jq -c 'select(.op == "d") | .before' <<<"$ev")"
e2e_run_stop || true
t_eq $T "pg: secret not in stderr" "0" "$(grep -c -- "$QTOKEN" "$E2E_DIR/run.log")"

t_done
