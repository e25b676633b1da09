#!/usr/bin/env bash
# test_transforms.sh — column transforms (tables.hash_columns, mask_columns,
# null_columns) through the real binary, from both source kinds into
# PostgreSQL:
#   - the initial copy in chunks, killed with SIGKILL half way and resumed,
#     then streamed inserts, updates and deletes, killed again mid-stream:
#     zetl verify matches exactly (it reads the source through the same
#     projection and transforms), and value by value every hashed column is
#     HMAC-SHA-256 of the source value's text under the key (computed here by
#     pgcrypto), every masked one keeps its last 4 characters, every nulled
#     one is NULL;
#   - the target types follow (varchar(64) for a hash, nullable for null);
#   - a transform on a key column, or a hash of a float column, refuses that
#     table alone with the reason and the fix (zetl check says so too);
#   - changing a table's transforms makes it resync_required, saying so, and
#     its resync writes the new shape;
#   - an http target's change events carry the transformed values too;
#   - no source value of a transformed column and never the hash key reaches
#     the target, the change events, the run log or the state log.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/shaped.sh
T=test_transforms
MY=xf_my
PG=xf_pg
CMD=${ZETL_BUILD:-build}/tools/zetl_command
SINK_BIN=${ZETL_BUILD:-build}/tools/http_sink
KEY="k3y-for-the-transforms-test-0123456789"
N=3000

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
drop_objects() {
    zh_mysql -e "DROP DATABASE IF EXISTS $MY" >/dev/null 2>&1
    e2e_pg_drop xfpg $PG
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $MY CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'xfmy';
                    DELETE FROM zetl.table_shapes WHERE integration IN ('xfmy', 'xfpg')" >/dev/null 2>&1
}
SINK_PID=
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; e2e_cleanup; drop_objects; harness_stop' EXIT
drop_objects
mkdir -p "$E2E_DIR/sink"
"$SINK_BIN" --dir "$E2E_DIR/sink" 2>>"$E2E_DIR/sink.log" &
SINK_PID=$!
for _ in $(seq 1 100); do [ -s "$E2E_DIR/sink/port" ] && break; sleep 0.1; done
SINK_PORT=$(cat "$E2E_DIR/sink/port" 2>/dev/null)
zh_psql_tgt -c "CREATE EXTENSION IF NOT EXISTS pgcrypto" >/dev/null 2>&1

# people: a hashed VARCHAR, DATE, DECIMAL and INT, a masked VARCHAR and TEXT
# (multi-byte characters too), a nulled CHAR; keyhash and floaty are refused.
zh_mysql <<SQL || { t_fail $T "MariaDB tables" "created" "mariadb failed"; t_done; }
CREATE DATABASE $MY;
USE $MY;
CREATE TABLE people (id INT PRIMARY KEY, email VARCHAR(80), born DATE, score DECIMAL(8,2), age INT NOT NULL,
                     phone VARCHAR(20), ssn CHAR(11) NOT NULL, name VARCHAR(40));
INSERT INTO people SELECT seq, CONCAT('person', seq, '@secret.example'), DATE_ADD('1960-01-01', INTERVAL seq DAY),
       seq / 7, seq % 90, CONCAT('555-', LPAD(seq, 7, '0')), CONCAT('SSN', LPAD(seq, 8, '0')), CONCAT('name ', seq)
  FROM seq_1_to_$N;
INSERT INTO people VALUES (900001, NULL, NULL, NULL, 1, 'ñandú-12', 'SSN-UTF8', 'multi-byte'),
                          (900002, 'x@secret.example', '2024-02-29', -12.3, 42, '12', 'SSN-SHORT', 'short');
CREATE TABLE keyhash (id INT PRIMARY KEY, v INT);
INSERT INTO keyhash VALUES (1, 1);
CREATE TABLE floaty (id INT PRIMARY KEY, f DOUBLE);
INSERT INTO floaty VALUES (1, 1.5);
SQL
zh_psql_src -c "CREATE SCHEMA $PG;
    CREATE TABLE $PG.people (id int PRIMARY KEY, email varchar(80), born date, score numeric(8,2), age int NOT NULL,
                             phone varchar(20), ssn char(11) NOT NULL, name varchar(40));
    INSERT INTO $PG.people SELECT g, 'person' || g || '@secret.example', date '1960-01-01' + g,
           round(g / 7.0, 2), g % 90, '555-' || lpad(g::text, 7, '0'), 'SSN' || lpad(g::text, 8, '0'), 'name ' || g
      FROM generate_series(1, $N) g;
    INSERT INTO $PG.people VALUES (900001, NULL, NULL, NULL, 1, 'ñandú-12', 'SSN-UTF8', 'multi-byte'),
                                  (900002, 'x@secret.example', '2024-02-29', -12.3, 42, '12', 'SSN-SHORT', 'short');
    CREATE TABLE $PG.keyhash (id int PRIMARY KEY, v int);
    INSERT INTO $PG.keyhash VALUES (1, 1);
    CREATE TABLE $PG.floaty (id int PRIMARY KEY, f float8);
    INSERT INTO $PG.floaty VALUES (1, 1.5)" >/dev/null || { t_fail $T "PostgreSQL tables" "created" "psql failed"; t_done; }

export E2E_MY_PASSWORD=$ZH_MY_PASSWORD E2E_PG_PASSWORD=$ZH_PG_PASSWORD ZETL_T_HASH_KEY=$KEY
write_config() {   # $1: the people columns to mask (a YAML list's items)
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: xfmy
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$MY], server_id: 5455}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables:
      include: ["$MY.%"]
      hash_columns: ["$MY.people.email", "$MY.people.born", "$MY.people.score", "$MY.people.age",
                     "$MY.keyhash.id", "$MY.floaty.f"]
      mask_columns: [$(sed "s/%S/$MY/g" <<<"$1")]
      null_columns: ["$MY.people.ssn"]
      hash_key: "\${ZETL_T_HASH_KEY}"
    apply: {batch_ms: 100, copy_chunk_rows: 400, copy_chunk_mb: 0}
  - name: xfpg
    source: {kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER,
             password: "\${E2E_PG_PASSWORD}", database: zetl, schemas: [$PG]}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables:
      include: ["$PG.%"]
      hash_columns: ["$PG.people.email", "$PG.people.born", "$PG.people.score", "$PG.people.age",
                     "$PG.keyhash.id", "$PG.floaty.f"]
      mask_columns: [$(sed "s/%S/$PG/g" <<<"$1")]
      null_columns: ["$PG.people.ssn"]
      hash_key: "\${ZETL_T_HASH_KEY}"
    apply: {batch_ms: 100, copy_chunk_rows: 400, copy_chunk_mb: 0}
  - name: xfweb
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$MY], server_id: 5457}
    target: {kind: http, url: "http://127.0.0.1:$SINK_PORT/in"}
    tables:
      include: ["$MY.people"]
      hash_columns: ["$MY.people.email", "$MY.people.born", "$MY.people.score", "$MY.people.age"]
      mask_columns: [$(sed "s/%S/$MY/g" <<<"$1")]
      null_columns: ["$MY.people.ssn"]
      hash_key: "\${ZETL_T_HASH_KEY}"
YAML
}
write_config '"%S.people.phone"'

# zetl check names the refused tables with the reason and the fix.
out=$("$ZETL" check -c "$E2E_DIR/zetl.yaml" 2>&1)
t_match $T "check: a hashed key column is refused, with the fix" \
    "keyhash\\.id is part of the primary key.*leave it out of the transform lists" "$(tr '\n' ' ' <<<"$out")"
t_match $T "check: a hashed float column is refused, with the fix" \
    "floaty\\.f is a floating-point column.*null it instead" "$(tr '\n' ' ' <<<"$out")"

# zetl verify lists the refused tables as REFUSED (a mismatch, exit 1): the
# people tables must match and nothing else differ.
wait_people_match() {   # $1 seconds
    local end=$((SECONDS + $1))
    while ((SECONDS < end)); do
        E2E_VERIFY=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" 2>&1)
        if [ "$(grep -c '^  match  *xf_\(my\|pg\)\.people ' <<<"$E2E_VERIFY")" = 2 ] &&
           ! grep -q MISMATCH <<<"$E2E_VERIFY" && [ "$(grep -c '^  REFUSED' <<<"$E2E_VERIFY")" = 4 ]; then
            return 0
        fi
        sleep 1
    done
    return 1
}
kill_mid_initial_copy people xfmy xfpg -- $MY $PG
t_eq $T "the chunked copy is under way before the kill" 0 "$?"
if wait_people_match 120; then t_pass $T "initial copy, killed half way and resumed: zetl verify matches on both sources"
else t_fail $T "initial copy matches" "zetl verify: match" "$E2E_VERIFY"; fi

# Streamed changes, with a kill -9 while they flow.
zh_mysql -e "USE $MY;
    UPDATE people SET email = CONCAT('changed', id, '@secret.example'), phone = '999-0000000', age = age + 1 WHERE id <= 200;
    INSERT INTO people VALUES (5001, 'new@secret.example', '2001-01-01', 1.25, 7, '555-7777777', 'SSN77777777', 'new');
    DELETE FROM people WHERE id BETWEEN 2901 AND 3000;"
zh_psql_src -c "UPDATE $PG.people SET email = 'changed' || id || '@secret.example', phone = '999-0000000', age = age + 1 WHERE id <= 200;
    INSERT INTO $PG.people VALUES (5001, 'new@secret.example', '2001-01-01', 1.25, 7, '555-7777777', 'SSN77777777', 'new');
    DELETE FROM $PG.people WHERE id BETWEEN 2901 AND 3000" >/dev/null
( for i in $(seq 1 40); do
      zh_mysql -e "UPDATE $MY.people SET score = score + 1, name = 'loop $i' WHERE id BETWEEN $((i * 10)) AND $((i * 10 + 30))" 2>/dev/null
      zh_psql_src -c "UPDATE $PG.people SET score = score + 1, name = 'loop $i' WHERE id BETWEEN $((i * 10)) AND $((i * 10 + 30))" >/dev/null 2>&1
      sleep 0.05
  done ) &
LOOP=$!
sleep 1
e2e_run_kill9
e2e_run_start
wait $LOOP
if wait_people_match 90; then t_pass $T "streamed changes with a kill -9 among them: zetl verify matches on both sources"
else t_fail $T "streamed changes match" "zetl verify: match" "$E2E_VERIFY"; fi

# The http target's events: every row image shaped as in the warehouse.
events() {
    jq -c 'select(.method == "POST") | .body | split("\n")[] | select(length > 0) | fromjson
           | select(.source.table == "people")' "$E2E_DIR/sink/requests.jsonl" 2>/dev/null
}
for _ in $(seq 1 100); do
    [ "$(events | jq -s 'map(select(.op == "u")) | length')" -ge 200 ] && break
    sleep 0.3
done
t_eq $T "http: the copy and the updates arrived as events" "ok" \
    "$(events | jq -rs 'if (map(select(.op == "r")) | length) >= '$((N + 2))' and (map(select(.op == "u")) | length) >= 200
                       then "ok" else "r \(map(select(.op == "r")) | length) u \(map(select(.op == "u")) | length)" end')"
t_eq $T "http: every image's email and age hashed, phone masked, ssn null" 0 \
    "$(events | jq -s '[.[] | (.after, .before) | select(. != null)
                        | select(((.email == null) or (.email | test("^[0-9a-f]{64}$"))) and (.age | test("^[0-9a-f]{64}$"))
                                 and ((.phone == null) or (.phone | test("^[*]+.{1,4}$"))) and .ssn == null | not)] | length')"
t_eq $T "http: the same hash as the warehouse's" \
    "$(zh_psql_tgt -c "SELECT email FROM $MY.people WHERE id = 900002")" \
    "$(events | jq -rs 'map(select(.after.id == 900002))[0].after.email')"

# Value by value, against the source, with the hash computed by pgcrypto.
src_my() { zh_mysql -r -e "SELECT id, COALESCE(email, '\\\\N'), COALESCE(born, '\\\\N'), COALESCE(score, '\\\\N'), age, phone
                              FROM $MY.people ORDER BY id"; }
src_pg() { zh_psql_src -c "COPY (SELECT id, email, born, score, age, phone FROM $PG.people ORDER BY id) TO STDOUT"; }
for s in $MY $PG; do
    zh_psql_tgt -c "DROP TABLE IF EXISTS public.xf_src; CREATE TABLE public.xf_src (id int, email text, born text, score text, age text, phone text)" >/dev/null
    if [ $s = $MY ]; then src_my; else src_pg; fi | zh_psql_tgt -c "COPY public.xf_src FROM STDIN" >/dev/null
    n=$(zh_psql_tgt -c "SELECT count(*) FROM public.xf_src")
    t_eq $T "$s: the source has its rows" $((N + 2 - 100 + 1)) "$n"
    h() { echo "CASE WHEN s.$1 IS NULL THEN NULL ELSE encode(hmac(s.$1, '$KEY', 'sha256'), 'hex') END"; }
    bad=$(zh_psql_tgt -c "SELECT count(*) FROM public.xf_src s FULL JOIN $s.people g USING (id)
        WHERE g.id IS NULL OR s.id IS NULL
           OR g.email IS DISTINCT FROM $(h email) OR g.born IS DISTINCT FROM $(h born)
           OR g.score IS DISTINCT FROM $(h score) OR g.age IS DISTINCT FROM $(h age)
           OR g.phone IS DISTINCT FROM CASE WHEN char_length(s.phone) <= 4 THEN repeat('*', char_length(s.phone))
                ELSE repeat('*', char_length(s.phone) - 4) || right(s.phone, 4) END
           OR g.ssn IS NOT NULL")
    t_eq $T "$s: every row's hashes are HMAC-SHA-256 of the source text, masks keep 4, ssn NULL" 0 "$bad"
    t_eq $T "$s: a multi-byte value masked by characters" "****ú-12" \
        "$(zh_psql_tgt -c "SELECT phone FROM $s.people WHERE id = 900001")"
    t_eq $T "$s: an int hashed as its decimal text" \
        "$(zh_psql_tgt -c "SELECT encode(hmac('42', '$KEY', 'sha256'), 'hex')")" \
        "$(zh_psql_tgt -c "SELECT age FROM $s.people WHERE id = 900002")"
    t_match $T "$s: target types follow the transforms" \
        "^email:character varying\\(64\\):YES,born:character varying\\(64\\):YES,age:character varying\\(64\\):NO,phone:character varying\\(20\\):YES,ssn:(character|character varying)\\(11\\):YES$" \
        "$(zh_psql_tgt -c "SELECT string_agg(column_name || ':' || format_type(a.atttypid, a.atttypmod) || ':' || is_nullable, ','
              ORDER BY ordinal_position) FROM information_schema.columns c
              JOIN pg_attribute a ON a.attrelid = '$s.people'::regclass AND a.attname = c.column_name
              WHERE table_schema = '$s' AND table_name = 'people' AND column_name IN ('email', 'born', 'age', 'phone', 'ssn')")"
    t_eq $T "$s: the refused tables were not created" "" \
        "$(zh_psql_tgt -c "SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_schema = '$s' AND table_name IN ('keyhash', 'floaty')")"
done
st=$("$ZETL" status --json -c "$E2E_DIR/zetl.yaml" 2>/dev/null)
t_match $T "status: the refused tables are failed with the reason" \
    "failed.*primary key.*never transformed|never transformed.*failed" \
    "$(jq -c '[.integrations[].tables[] | select(.name | test("keyhash")) | .state, .reason]' <<<"$st")"
t_eq $T "status: people stays synced on both" "synced,synced" \
    "$(jq -r '[.integrations[] | select(.name != "xfweb") | .tables[] | select(.name | test("people")) | .state] | join(",")' <<<"$st")"

# A change of transforms: the table goes resync_required, saying so; its resync writes the new shape.
e2e_run_stop >/dev/null
write_config '"%S.people.phone", "%S.people.name"'
e2e_run_start
wait_table_states 'select(.name != "xfweb") | .tables[] | select(.name | test("people"))' \
    resync_required,resync_required 20
t_eq $T "new transforms: people is resync_required on both" 0 "$?"
st=$SHAPED_STATUS
t_match $T "the reason names the shapes and the fix" \
    "column transforms changed: the target's rows carry .*phone=mask.*the config asks .*name=mask.*resync the table" \
    "$(jq -r '[.integrations[] | select(.name != "xfweb") | .tables[] | select(.name | test("people")) | .reason][0]' <<<"$st")"
DB=$E2E_DIR/state/zetl.db
"$CMD" "$DB" xfmy resync "$MY.people" >/dev/null
"$CMD" "$DB" xfpg resync "$PG.people" >/dev/null
if wait_people_match 90; then t_pass $T "after the resync: zetl verify matches with the new transforms"
else t_fail $T "resync with new transforms" "zetl verify: match" "$E2E_VERIFY"; fi
for s in $MY $PG; do
    t_eq $T "$s: name masked after the resync" "**me 1" "$(zh_psql_tgt -c "SELECT name FROM $s.people WHERE id = 1")"
done
t_match $T "the new shape is recorded" "name=mask" \
    "$(zh_psql_tgt -c "SELECT shape FROM zetl.table_shapes WHERE integration = 'xfpg' AND source_table = '$PG.people'")"
e2e_run_stop; rc=$?
t_eq $T "SIGTERM: zetl run exits 0" 0 "$rc"

# No source value of a transformed column, and never the key, anywhere zetl writes.
for s in $MY $PG; do
    t_eq $T "$s: no source email, phone or ssn in the target" 0 \
        "$(zh_psql_tgt -c "SELECT count(*) FROM $s.people u WHERE u::text ~ '(secret\\.example|555-|999-|SSN)'")"
done
leak() { grep -E -c "secret\\.example|555-0|SSN0|$KEY" "$1" 2>/dev/null || true; }
t_eq $T "no transformed value or key in the change events" 0 "$(leak "$E2E_DIR/sink/requests.jsonl")"
t_eq $T "no transformed value or key in the run log" 0 "$(leak "$E2E_DIR/run.log")"
sqlite3 "$DB" .dump >"$E2E_DIR/dump.sql" 2>/dev/null
t_eq $T "no transformed value or key in the state log" 0 "$(leak "$E2E_DIR/dump.sql")"
t_done
