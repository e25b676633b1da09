#!/usr/bin/env bash
# test_http_names.sh — the http target names each event's source table by the
# schema and table the runtime carries, never by re-splitting a joined
# "schema.table" or reversing a rename rule:
#   1. a table whose name holds a dot (`a.b`): its copy's op t and op r events
#      and its streamed changes say schema http_nm, table a.b
#   2. a rename rule whose source table does not exist (from http_nm.gone to
#      http_nm.kept) next to a real table kept: kept's op t names kept, not gone
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_http_names
DB=http_nm
SINK_BIN=${ZETL_BUILD:-build}/tools/http_sink

harness_start mariadb || { t_fail $T "harness" "servers up" "start failed"; t_done; }
[ -x "$SINK_BIN" ] || { t_fail $T "http_sink" "$SINK_BIN built (make unit-bins)" "missing"; t_done; }
e2e_init $T
SINK=$E2E_DIR/sink
mkdir -p "$SINK"
SINK_PID=
sink_stop() { [ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null; SINK_PID=; }
trap 'sink_stop; e2e_cleanup; zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1; harness_stop' EXIT

"$SINK_BIN" --dir "$SINK" 2>>"$E2E_DIR/sink.log" &
SINK_PID=$!
for ((i = 0; i < 100; i++)); do [ -s "$SINK/port" ] && break; sleep 0.1; done
PORT=$(cat "$SINK/port" 2>/dev/null)
[ -n "$PORT" ] && t_pass $T "http_sink listens" || { t_fail $T "http_sink starts" "a port file" "none"; t_done; }

events() {
    jq -c 'select(.method == "POST") | .body | split("\n")[] | select(length > 0) | fromjson' \
        "$SINK/requests.jsonl" 2>/dev/null
}
n_events() { events | jq -s "map(select($1)) | length"; }
wait_n() {   # SECONDS JQ-FILTER N
    local end=$((SECONDS + $1))
    while [ "$(n_events "$2")" -lt "$3" ]; do [ $SECONDS -ge $end ] && return 1; sleep 0.3; done
}

zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB;
  CREATE TABLE $DB.\`a.b\` (id INT PRIMARY KEY, v VARCHAR(10));
  CREATE TABLE $DB.kept (id INT PRIMARY KEY);
  INSERT INTO $DB.\`a.b\` VALUES (1, 'one'); INSERT INTO $DB.kept VALUES (7)"
export HN_MY_PASSWORD=$ZH_MY_PASSWORD
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: hn
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${HN_MY_PASSWORD}", databases: [$DB], server_id: 7311}
    target: {kind: http, url: "http://127.0.0.1:$PORT/in"}
    tables:
      include: ["$DB.%"]
      rename: [{from: "$DB.gone", to: "$DB.kept"}]
    apply: {batch_ms: 100}
YAML

e2e_run_start
if wait_n 60 '.op == "r"' 2; then t_pass $T "the copy's rows arrive"
else t_fail $T "the copy's rows arrive" "2 op r" "$(n_events '.op == "r"') (run.log: $(tail -3 "$E2E_DIR/run.log"))"; fi
ev=$(events)
t_eq $T "a.b: op t names schema $DB, table a.b, target $DB.a.b" "$DB|a.b|$DB.a.b" \
    "$(jq -r 'select(.op == "t" and .target == "'$DB'.a.b") | "\(.source.schema)|\(.source.table)|\(.target)"' <<<"$ev")"
t_eq $T "a.b: op r names schema $DB, table a.b" "$DB|a.b|one" \
    "$(jq -r 'select(.op == "r" and .target == "'$DB'.a.b") | "\(.source.schema)|\(.source.table)|\(.after.v)"' <<<"$ev")"
t_eq $T "kept: op t names kept (not the rename rule's absent source gone)" "$DB|kept|$DB.kept" \
    "$(jq -r 'select(.op == "t" and .target == "'$DB'.kept") | "\(.source.schema)|\(.source.table)|\(.target)"' <<<"$ev")"
t_eq $T "kept: op r names kept" "$DB|kept|7" \
    "$(jq -r 'select(.op == "r" and .target == "'$DB'.kept") | "\(.source.schema)|\(.source.table)|\(.after.id)"' <<<"$ev")"

zh_mysql -e "INSERT INTO $DB.\`a.b\` VALUES (2, 'two'); UPDATE $DB.\`a.b\` SET v = 'ONE' WHERE id = 1"
if wait_n 30 '.source.snapshot == false' 2; then t_pass $T "a.b: the stream's changes arrive"
else t_fail $T "a.b: the stream's changes arrive" "2" "$(n_events '.source.snapshot == false')"; fi
t_eq $T "a.b: streamed changes name schema $DB, table a.b" "c|$DB|a.b|2 u|$DB|a.b|1" \
    "$(events | jq -rs 'map(select(.source.snapshot == false)) | map("\(.op)|\(.source.schema)|\(.source.table)|\(.after.id)") | join(" ")')"
e2e_run_stop
t_eq $T "SIGTERM stops zetl cleanly" "0" "$?"
t_done
