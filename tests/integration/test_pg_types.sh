#!/usr/bin/env bash
# test_pg_types.sh — every PostgreSQL type zetl claims, with edge values,
# through the initial copy AND through the stream, compared value by value:
# each row's text form in the source against the target (PostgreSQL →
# PostgreSQL keeps declared types; enums arrive as text with the same label,
# domains as their base type). Independent of `zetl verify`, which reads the
# source through the same copy code.
#
# The initial copy of PostgreSQL→PostgreSQL goes in binary COPY format where
# that carries every value unchanged (copy.c, target_load_binary_ok): table
# tb holds every built-in type of t and must go in binary; t (an enum and a
# domain) and tm (whose target column was made bigint beforehand, where the
# source has int) must go in text — binary int4 into bigint is refused by
# the server, so tm also proves the check.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_pg_types
S=e2e_types

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'e2e_cleanup; zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '"'zetl_types'"'; DROP PUBLICATION IF EXISTS zetl_types" >/dev/null 2>&1; harness_stop' EXIT

ROWS="
(1, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', 'NaN', true, '', '', 'a', '\\\\x', '4713-01-01 BC', '00:00:00', '00:00:00+14', '-infinity', '-infinity', '-178000000 years', '00000000-0000-0000-0000-000000000000', '{}', '{}', '{}', '{}', 'sad', 1, '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00', B'000', B''),
(2, 32767, 2147483647, 9223372036854775807, 'Infinity', 'Infinity', 'Infinity', false, E'tab\\there\\nnewline \\\\ back é 漢字 😀', 'x\"q''s', 'abc', '\\\\x00ff00', '5874897-12-31', '24:00:00', '23:59:59.999999-12', 'infinity', 'infinity', '178000000 years 11 mons 30 days 23:59:59.999999', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '{\"a\": [1, 2.50, null], \"b\": {\"c\": \"\\\\u00e9\"}}', '{\"z\": 1, \"a\": [true, false]}', '{1,NULL,-3}', '{\"with space\",\"q\\\"uote\",NULL,\"\"}', 'happy', 2147483647, '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', B'111', B'1010101'),
(3, 0, 0, 0, '-Infinity', '-Infinity', '-Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, 1, 1, 1, '12345678901234567890.123456789012345678901234567890', '1.401298e-45', '4.9406564584124654e-324', true, repeat('long ', 3000), 'abcde', 'xy ', decode(repeat('ab', 2000), 'hex'), '2024-02-29', '12:34:56.789', '12:34:56+05:30', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456+00', '-1 days +02:03:04', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '[]', 'null', '{{1,2},{3,4}}', '{a,b}', 'ok', -5, '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'010', B'0')"

zh_psql_src <<SQL 2>&1 | grep -v "^NOTICE\|^$" >&2
DROP PUBLICATION IF EXISTS zetl_types;
DROP SCHEMA IF EXISTS $S CASCADE;
DROP TYPE IF EXISTS mood; DROP DOMAIN IF EXISTS posint;
CREATE SCHEMA $S;
CREATE TYPE $S.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN $S.pint AS integer;
CREATE TABLE $S.t (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, n numeric, f4 float4, f8 float8,
  b bool, tx text, vc varchar(10), ch char(3), by bytea, d date, tm time, ttz timetz, ts timestamp,
  tstz timestamptz, iv interval, u uuid, j json, jb jsonb, ai int[], at text[], m $S.mood, dm $S.pint,
  ip inet, ci cidr, mac macaddr, bt bit(3), vb varbit);
ALTER TABLE $S.t REPLICA IDENTITY FULL;
INSERT INTO $S.t VALUES $ROWS;
CREATE TABLE $S.tb AS SELECT id, i2, i4, i8, n, f4, f8, b, tx, vc, ch, by, d, tm, ttz, ts, tstz, iv, u, j, jb, ai, at,
  ip, ci, mac, bt, vb FROM $S.t;
ALTER TABLE $S.tb ADD PRIMARY KEY (id);
CREATE TABLE $S.tm (id int PRIMARY KEY, v int, s text);
INSERT INTO $S.tm SELECT g, g * 7 - 2147483000, 'row ' || g FROM generate_series(1, 50) g;
SQL
t_eq $T "source rows inserted" "4" "$(zh_psql_src -c "SELECT count(*) FROM $S.t")"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $S CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'types'" >/dev/null 2>&1
zh_psql_tgt -c "CREATE SCHEMA $S; CREATE TABLE $S.tm (id int PRIMARY KEY, v bigint, s text)" >/dev/null
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: types
    source: {kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $ZH_PG_USER,
             password: "$ZH_PG_PASSWORD", database: zetl, schemas: [$S]}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$S.%"]}
    apply: {batch_ms: 100}
YAML
rows_text() {   # $1: src|tgt, $2: id range, $3: table (t) — every row as text, one per line
    "zh_psql_$1" -c "SET TimeZone = 'UTC'; SET extra_float_digits = 3;
                     SELECT x::text FROM $S.${3:-t} x WHERE id BETWEEN $2 ORDER BY id" 2>&1
}
compare() {   # $1 what, $2 id range, $3 table (t)
    local a b
    a=$(rows_text src "$2" "${3:-t}"); b=$(rows_text tgt "$2" "${3:-t}")
    if [ "$a" = "$b" ] && [ -n "$a" ]; then t_pass $T "$1: every value equal, source and target"
    else t_fail $T "$1: every value equal" "$(diff <(echo "$a") <(echo "$b") | head -5)" "(diff above; empty = no rows)"; fi
}

e2e_run_start
synced() { [ "$(e2e_status_field '.integrations[0].state')" = active ]; }
t_wait $T "copied and active" 60 synced
compare "initial copy" "1 AND 4"
compare "initial copy in binary COPY format" "1 AND 4" tb
compare "initial copy in text, target column bigint where the source has int" "1 AND 50" tm
binary_for() { sqlite3 "$E2E_DIR/state/zetl.db" "SELECT count(*) FROM events WHERE integration = 'types' AND
                 tbl = '$S.$1' AND message LIKE 'copying in binary COPY format%'" 2>&1; }
t_eq $T "tb (built-in types only) copied in binary" "1" "$(binary_for tb)"
t_eq $T "t (an enum and a domain) copied in text" "0" "$(binary_for t)"
t_eq $T "tm (target type differs) copied in text" "0" "$(binary_for tm)"

# The same values through the stream: insert them again under new ids, then update and delete.
zh_psql_src -c "INSERT INTO $S.t SELECT id + 100, i2, i4, i8, n, f4, f8, b, tx, vc, ch, by, d, tm, ttz, ts, tstz, iv, u, j, jb, ai, at, m, dm, ip, ci, mac, bt, vb FROM $S.t WHERE id <= 4" >/dev/null
arrived() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $S.t WHERE id > 100")" = 4 ]; }
t_wait $T "streamed rows arrive" 30 arrived
compare "stream (insert)" "101 AND 104"
zh_psql_src -c "UPDATE $S.t SET (i2, tx, jb, tstz) = (i2 / 2, tx || '!', '{\"u\": 1}', '2000-01-01 00:00:00+00') WHERE id > 100; DELETE FROM $S.t WHERE id = 103" >/dev/null
updated() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $S.t WHERE id > 100 AND jb = '{\"u\": 1}'")" = 3 ]; }
t_wait $T "streamed updates and a delete arrive" 30 updated
compare "stream (update, delete)" "101 AND 104"
e2e_run_stop
t_done
