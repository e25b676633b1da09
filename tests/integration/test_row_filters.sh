#!/usr/bin/env bash
# test_row_filters.sh — tables.filters through the real binary, from both
# source kinds into PostgreSQL, one evaluator (SQLite) for the copy, the
# stream, resyncs and zetl verify:
#   - the initial copy in chunks, killed with SIGKILL half way and resumed,
#     loads exactly the rows the filter selects (a DECIMAL compared as a
#     number, a text column, json_extract over a JSON column);
#   - streamed inserts in and out of the filter, updates moving rows into it
#     (inserted) and out of it (deleted), within it, key moves and deletes,
#     with a kill -9 in a burst of them: the target is exactly the source's
#     rows that meet the filter, value by value, and zetl verify matches;
#   - a resync keeps the filter;
#   - an http target gets change events of the filter's rows only: no copy
#     or insert event of a row outside it, a delete event for an update
#     that moves a row out;
#   - a filter that does not compile refuses its table alone, naming the
#     position in the expression (zetl check too);
#   - a changed filter makes the table resync_required, saying so.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/shaped.sh
T=test_row_filters
MY=rf_my
PG=rf_pg
CMD=${ZETL_BUILD:-build}/tools/zetl_command
SINK_BIN=${ZETL_BUILD:-build}/tools/http_sink
N=3000
WHERE="status <> 'test' AND amount > 10"
JWHERE="json_extract(meta, '\$.region') = 'eu'"

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
drop_objects() {
    zh_mysql -e "DROP DATABASE IF EXISTS $MY" >/dev/null 2>&1
    e2e_pg_drop rfpg $PG
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $MY CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'rfmy';
                    DELETE FROM zetl.table_shapes WHERE integration IN ('rfmy', 'rfpg')" >/dev/null 2>&1
}
SINK_PID=
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; e2e_cleanup; drop_objects; harness_stop' EXIT
drop_objects
mkdir -p "$E2E_DIR/sink"
"$SINK_BIN" --dir "$E2E_DIR/sink" 2>>"$E2E_DIR/sink.log" &
SINK_PID=$!
for _ in $(seq 1 100); do [ -s "$E2E_DIR/sink/port" ] && break; sleep 0.1; done
SINK_PORT=$(cat "$E2E_DIR/sink/port" 2>/dev/null)

# status cycles paid/test/open; amount 0.00 .. 29.99
zh_mysql <<SQL || { t_fail $T "MariaDB tables" "created" "mariadb failed"; t_done; }
CREATE DATABASE $MY;
USE $MY;
CREATE TABLE orders (id INT PRIMARY KEY, status VARCHAR(20) NOT NULL, amount DECIMAL(10,2), note TEXT);
INSERT INTO orders SELECT seq, ELT(seq % 3 + 1, 'paid', 'test', 'open'), (seq * 7 % 3000) / 100, CONCAT('n', seq)
  FROM seq_1_to_$N;
CREATE TABLE events (id INT PRIMARY KEY, meta JSON);
INSERT INTO events SELECT seq, JSON_OBJECT('region', ELT(seq % 2 + 1, 'eu', 'us'), 'n', seq) FROM seq_1_to_200;
CREATE TABLE badf (id INT PRIMARY KEY, v INT);
INSERT INTO badf VALUES (1, 1);
CREATE TABLE jbad (id INT PRIMARY KEY, doc TEXT);
INSERT INTO jbad VALUES (1, '{"a": 1}'), (2, 'not json');
SQL
zh_psql_src -c "CREATE SCHEMA $PG;
    CREATE TABLE $PG.orders (id int PRIMARY KEY, status varchar(20) NOT NULL, amount numeric(10,2), note text);
    INSERT INTO $PG.orders SELECT g, (ARRAY['paid', 'test', 'open'])[g % 3 + 1], (g * 7 % 3000) / 100.0, 'n' || g
      FROM generate_series(1, $N) g;
    CREATE TABLE $PG.events (id int PRIMARY KEY, meta jsonb);
    INSERT INTO $PG.events SELECT g, jsonb_build_object('region', (ARRAY['eu', 'us'])[g % 2 + 1], 'n', g)
      FROM generate_series(1, 200) g;
    CREATE TABLE $PG.badf (id int PRIMARY KEY, v int);
    INSERT INTO $PG.badf VALUES (1, 1);
    CREATE TABLE $PG.jbad (id int PRIMARY KEY, doc text);
    INSERT INTO $PG.jbad VALUES (1, '{\"a\": 1}'), (2, 'not json')" >/dev/null || { t_fail $T "PostgreSQL tables" "created" "psql failed"; t_done; }

export E2E_MY_PASSWORD=$ZH_MY_PASSWORD E2E_PG_PASSWORD=$ZH_PG_PASSWORD
write_config() {   # $1: the orders filter
    local w=${1//\"/\\\"} jw=${JWHERE//\"/\\\"}
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: rfmy
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$MY], server_id: 5458}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables:
      include: ["$MY.%"]
      filters:
        - {table: "$MY.orders", where: "$w"}
        - {table: "$MY.events", where: "$jw"}
        - {table: "$MY.badf", where: "v >"}
        - {table: "$MY.jbad", where: "json_extract(doc, '\$.a') = 1"}
    apply: {batch_ms: 100, copy_chunk_rows: 300, copy_chunk_mb: 0}
  - name: rfpg
    source: {kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER,
             password: "\${E2E_PG_PASSWORD}", database: zetl, schemas: [$PG]}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables:
      include: ["$PG.%"]
      filters:
        - {table: "$PG.orders", where: "$w"}
        - {table: "$PG.events", where: "$jw"}
        - {table: "$PG.badf", where: "v >"}
        - {table: "$PG.jbad", where: "json_extract(doc, '\$.a') = 1"}
    apply: {batch_ms: 100, copy_chunk_rows: 300, copy_chunk_mb: 0}
  - name: rfweb
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$MY], server_id: 5460}
    target: {kind: http, url: "http://127.0.0.1:$SINK_PORT/in"}
    tables:
      include: ["$MY.orders"]
      filters: [{table: "$MY.orders", where: "$w"}]
YAML
}
write_config "$WHERE"

out=$("$ZETL" check -c "$E2E_DIR/zetl.yaml" 2>&1)
t_match $T "check: a filter that does not compile fails its table, with the position" \
    "filter of table rf_my\\.badf \\(config line [0-9]+\\): near .*character 4 of the expression" \
    "$(tr '\n' ' ' <<<"$out")"
t_match $T "check: the fix is named" "correct the where expression" "$(tr '\n' ' ' <<<"$out")"
t_match $T "check: each filter tried on the table's rows" \
    "filter of rf_pg\\.orders +compiles; of the first 500 rows, [0-9]+ meet it" "$(tr '\n' ' ' <<<"$out")"
t_match $T "check: a filter that fails on a row fails, naming the row and SQLite's message" \
    "filter of rf_my\\.jbad +fails on row 2 of the table: row filter: malformed JSON" "$(tr '\n' ' ' <<<"$out")"

wait_match() {   # $1 seconds: orders and events match on both, badf refused on both
    local end=$((SECONDS + $1))
    while ((SECONDS < end)); do
        E2E_VERIFY=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" 2>&1)
        if [ "$(grep -c '^  match ' <<<"$E2E_VERIFY")" = 4 ] && ! grep -q MISMATCH <<<"$E2E_VERIFY" &&
           [ "$(grep -c '^  REFUSED' <<<"$E2E_VERIFY")" = 2 ]; then
            return 0
        fi
        sleep 1
    done
    return 1
}
both() {   # $1: SQL for both sources, %S. before table names
    zh_mysql -e "USE $MY; $(sed "s/%S\\.//g" <<<"$1")" || echo "mariadb failed: $1"
    zh_psql_src -c "$(sed "s/%S/$PG/g" <<<"$1")" >/dev/null || echo "psql failed: $1"
}
# The rows that should land, from the source, and the target's: id|status|amount|note, md5 of all.
src_rows() {
    if [ "$1" = $MY ]; then
        zh_mysql -e "SELECT MD5(COALESCE(GROUP_CONCAT(CONCAT_WS('|', id, status, amount, note) ORDER BY id SEPARATOR ','), ''))
                     FROM $MY.orders WHERE $WHERE"
    else
        zh_psql_src -c "SELECT md5(coalesce(string_agg(concat_ws('|', id, status, amount, note), ',' ORDER BY id), ''))
                        FROM $PG.orders WHERE $WHERE"
    fi
}
tgt_rows() {
    zh_psql_tgt -c "SELECT md5(coalesce(string_agg(concat_ws('|', id, status, amount, note), ',' ORDER BY id), ''))
                    FROM $1.orders"
}

kill_mid_initial_copy orders rfmy rfpg -- $MY $PG
t_eq $T "the chunked copy is under way before the kill" 0 "$?"
if wait_match 120; then t_pass $T "initial copy, killed and resumed: zetl verify matches (filtered)"
else t_fail $T "initial copy matches" "zetl verify: match" "$E2E_VERIFY"; fi
st=$("$ZETL" status --json -c "$E2E_DIR/zetl.yaml" 2>/dev/null)
t_match $T "a filter failing on a row fails that table alone, with SQLite's message" \
    "failed.*row filter: malformed JSON.*failed.*row filter: malformed JSON" \
    "$(jq -c '[.integrations[].tables[] | select(.name | test("jbad")) | .state, .reason]' <<<"$st")"
t_match $T "verify says which rows it compared" "match +rf_pg\\.orders +[0-9]+ rows \\(the rows its filter selects\\)" \
    "$E2E_VERIFY"
for s in $MY $PG; do
    t_eq $T "$s: the copy holds exactly the rows the filter selects" "$(src_rows $s)" "$(tgt_rows $s)"
    t_eq $T "$s: no test order and none of 10 or less" 0 \
        "$(zh_psql_tgt -c "SELECT count(*) FROM $s.orders WHERE status = 'test' OR amount <= 10")"
    t_eq $T "$s: json_extract selected the eu events only" "100|0" \
        "$(zh_psql_tgt -c "SELECT count(*) || '|' || count(*) FILTER (WHERE meta::text NOT LIKE '%eu%') FROM $s.events")"
done

# The stream: into, out of, within the filter; key moves; deletes; a burst with a kill -9.
both "INSERT INTO %S.orders VALUES (5001, 'paid', 50.00, 'in'), (5002, 'test', 50.00, 'out'), (5003, 'paid', 1.00, 'small');
      UPDATE %S.orders SET status = 'paid' WHERE id BETWEEN 1 AND 60;
      UPDATE %S.orders SET amount = 5 WHERE id BETWEEN 61 AND 120;
      UPDATE %S.orders SET note = 'within' WHERE id BETWEEN 121 AND 180;
      UPDATE %S.orders SET id = id + 10000 WHERE id BETWEEN 181 AND 200;
      DELETE FROM %S.orders WHERE id BETWEEN 201 AND 260"
zh_mysql -e "UPDATE $MY.events SET meta = JSON_OBJECT('region', 'eu') WHERE id <= 20"
zh_psql_src -c "UPDATE $PG.events SET meta = jsonb_build_object('region', 'eu') WHERE id <= 20" >/dev/null
( for i in $(seq 0 39); do
      lo=$((400 + i * 25)); hi=$((lo + 24))
      both "UPDATE %S.orders SET status = CASE status WHEN 'test' THEN 'paid' WHEN 'paid' THEN 'test' ELSE status END,
                                amount = amount + 3 WHERE id BETWEEN $lo AND $hi" >/dev/null
      sleep 0.03
  done ) &
LOOP=$!
sleep 0.8
e2e_run_kill9
e2e_run_start
wait $LOOP
if wait_match 90; then t_pass $T "streamed moves in and out, a kill -9 among them: zetl verify matches"
else t_fail $T "stream matches" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    t_eq $T "$s: the target is exactly the source's rows that meet the filter" "$(src_rows $s)" "$(tgt_rows $s)"
    t_eq $T "$s: events: updates moved rows into the filter" 110 "$(zh_psql_tgt -c "SELECT count(*) FROM $s.events")"
done

# The http target: events of the filter's rows only.
events() {
    jq -c 'select(.method == "POST") | .body | split("\n")[] | select(length > 0) | fromjson
           | select(.source.table == "orders")' "$E2E_DIR/sink/requests.jsonl" 2>/dev/null
}
for _ in $(seq 1 100); do
    [ "$(events | jq -s 'map(select(.op == "d")) | length')" -ge 60 ] && break
    sleep 0.3
done
t_eq $T "http: no copy, insert or update event of a row outside the filter" 0 \
    "$(events | jq -s '[.[] | select(.op == "r" or .op == "c" or .op == "u")
                        | select((.after.status == "test") or ((.after.amount | tonumber) <= 10))] | length')"
t_eq $T "http: the copy sent exactly the filter's rows (once each, or again after the kill)" \
    "$(zh_mysql -D $MY -e "SELECT COUNT(*) FROM seq_201_to_$N WHERE ELT(seq % 3 + 1, 'paid', 'test', 'open') <> 'test'
                    AND (seq * 7 % 3000) / 100 > 10" 2>/dev/null | head -1)" \
    "$(events | jq -s '[.[] | select(.op == "r" and .after.id > 200 and .after.id <= '$N') | .after.id] | unique | length')"
t_match $T "http: updates moving rows out arrive as deletes (61..120 had amount set to 5)" "^[1-9][0-9]*$" \
    "$(events | jq -s '[.[] | select(.op == "d" and .before.id >= 61 and .before.id <= 120)] | length')"
t_eq $T "http: a row inserted outside the filter sent nothing" 0 \
    "$(events | jq -s '[.[] | select((.after.id // .before.id) == 5002 or (.after.id // .before.id) == 5003)] | length')"

# A resync keeps the filter.
DB=$E2E_DIR/state/zetl.db
"$CMD" "$DB" rfmy resync "$MY.orders" >/dev/null
"$CMD" "$DB" rfpg resync "$PG.orders" >/dev/null
sleep 1
if wait_match 90; then t_pass $T "after a resync: zetl verify matches"
else t_fail $T "resync matches" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    t_eq $T "$s: the resync copied only the filter's rows" "$(src_rows $s)" "$(tgt_rows $s)"
done

# Another filter: resync_required, saying so.
e2e_run_stop >/dev/null
write_config "status = 'paid'"
e2e_run_start
wait_table_states 'select(.name != "rfweb") | .tables[] | select(.name | test("orders"))' \
    resync_required,resync_required 20
t_eq $T "a changed filter: orders resync_required on both" 0 "$?"
st=$SHAPED_STATUS
t_match $T "the reason says the rows carry another filter" "rows carry \"filter:[0-9a-f]{8}\", the config asks \"filter:[0-9a-f]{8}\"" \
    "$(jq -r '[.integrations[] | select(.name != "rfweb") | .tables[] | select(.name | test("orders")) | .reason][0]' <<<"$st")"
t_match $T "the refused table's reason names the position" "badf.*syntax error at its end \\(character 4 of the expression" \
    "$(jq -c '[.integrations[].tables[] | select(.name | test("badf")) | .reason]' <<<"$st")"
e2e_run_stop; rc=$?
t_eq $T "SIGTERM: zetl run exits 0" 0 "$rc"
t_done
