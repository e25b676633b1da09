#!/usr/bin/env bash
# test_pgoutput_real.sh — zetl's pgoutput decoder against a real PostgreSQL source.
#
# Starts (or reuses) the harness's pgsrc cluster, works in its own database,
# streams with build/tools/pg_stream_dump and compares every decoded value
# with what SELECT returns for the same row (same output settings: UTC,
# ISO dates, exact floats, hex bytea). Covers every mapped type with edge
# values, insert/update/delete, REPLICA IDENTITY FULL vs DEFAULT, an
# out-of-line TOAST value arriving as UNCHANGED, TRUNCATE, ALTER TABLE ADD
# COLUMN as a schema change, idle heartbeats, stop latency, and a restart
# from a confirmed LSN with no duplicate and no gap.
#
# Prints PASS/FAIL lines; exits non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${ZETL_BUILD:-$ROOT/build}
DUMP=$BUILD/tools/pg_stream_dump
T=test_pgoutput_real
FAILS=0
PASSES=0

pass() { PASSES=$((PASSES + 1)); printf 'PASS %s: %s\n' "$T" "$1"; }
fail() { FAILS=$((FAILS + 1)); printf 'FAIL %s: %s — expected %s, saw %s\n' "$T" "$1" "$2" "$3"; }
check_eq() { # what expected saw
    if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "$(printf '%q' "$2" | cut -c1-400)" "$(printf '%q' "$3" | cut -c1-400)"; fi
}

if [[ ! -x $DUMP ]]; then
    (cd "$ROOT" && make -s "${BUILD#"$ROOT"/}/tools/pg_stream_dump" >/dev/null 2>&1) ||
        { fail "build pg_stream_dump" "a binary at $DUMP" "make failed"; exit 1; }
fi

# shellcheck source=../lib/harness.sh
source "$ROOT/tests/lib/harness.sh"
harness_start pgsrc || { fail "harness_start pgsrc" "a running source" "start failed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgout_real.XXXXXX")
DB=zt_pgout_$$
SLOTS=(zt_pgout_main_$$ zt_pgout_rs_$$)
export PGOUT_DSN="$ZH_PGSRC_DSN dbname=$DB"
export PGOPTIONS="-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex"

psql_db() {
    "$ZH_PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$ZH_PGSRC_SOCKDIR" \
        -p "$ZH_PGSRC_PORT" -U zetl -d "$DB" "$@"
}

BGPID=
cleanup() {
    [[ -n $BGPID ]] && kill -TERM "$BGPID" 2>/dev/null && wait "$BGPID" 2>/dev/null
    for s in "${SLOTS[@]}"; do
        zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$s'" \
            >/dev/null 2>&1 || true
    done
    zh_psql_src -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    zh_psql_src -c "DROP ROLE IF EXISTS zt_pgout_norepl_$$" >/dev/null 2>&1 || true
    zh_psql_src -c "DROP ROLE IF EXISTS zt_pgout_repl_$$" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
# harness_start owns the EXIT trap; chain ours before its stop.
trap 'cleanup; harness_stop' EXIT

zh_psql_src -c "CREATE DATABASE $DB" >/dev/null || { fail "create database" "created" "error"; exit 1; }

dump() { "$DUMP" --dsn-env PGOUT_DSN "$@"; }

# values_of LINE PREFIX: the bracketed value list after PREFIX, one value per line.
split_values() {
    awk '{
        s = $0; n = length(s); v = ""; instr = 0; esc = 0; depth = 0
        for (i = 1; i <= n; i++) {
            c = substr(s, i, 1)
            if (instr) {
                v = v c
                if (esc) esc = 0
                else if (c == "\\") esc = 1
                else if (c == "\"") instr = 0
                continue
            }
            if (c == "\"") { instr = 1; v = v c; continue }
            if (c == "[") { depth++; if (depth == 1) continue }
            if (c == "]") { depth--; if (depth == 0) { print v; v = ""; exit } }
            if (depth == 1 && c == "," && substr(s, i + 1, 1) == " ") { print v; v = ""; i++; continue }
            v = v c
        }
    }'
}

# compare_row WHAT EXPECTED_LINE SAW_LINE: whole line, then value by value on mismatch.
compare_row() {
    local what=$1 exp=$2 saw=$3
    if [[ "$exp" == "$saw" ]]; then
        local n
        n=$(printf '%s\n' "${exp#*\[}" | sed 's/^/[/' | split_values | wc -l)
        pass "$what: all $n values match SELECT"
        return
    fi
    if [[ -z $saw ]]; then fail "$what" "$(printf '%s' "$exp" | cut -c1-300)" "no such line in the stream"; return; fi
    local -a ev sv cols
    mapfile -t ev < <(printf '%s\n' "${exp#* [}" | sed 's/^/[/' | split_values)
    mapfile -t sv < <(printf '%s\n' "${saw#* [}" | sed 's/^/[/' | split_values)
    mapfile -t cols < <(psql_db -c "SELECT attname FROM pg_attribute WHERE attrelid = '$4'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")
    local i shown=0
    for ((i = 0; i < ${#ev[@]} || i < ${#sv[@]}; i++)); do
        if [[ "${ev[i]-<missing>}" != "${sv[i]-<missing>}" ]]; then
            fail "$what: column ${cols[i]-#$i}" "$(printf '%s' "${ev[i]-<missing>}" | cut -c1-200)" "$(printf '%s' "${sv[i]-<missing>}" | cut -c1-200)"
            shown=1
        fi
    done
    ((shown)) || fail "$what" "$exp" "$saw"
}

# expected_line OP TABLE WHERE [TAIL]: the line pg_stream_dump must print for that row, built by
# SELECT with each type's output function (format('%s'): bool "t", char(n) padded), as pgoutput does.
expected_line() {
    local op=$1 tbl=$2 where=$3 tail=${4:-}
    local exprs
    exprs=$(psql_db -c "
        SELECT string_agg(
                 CASE WHEN a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                        OR (t.typtype = 'd' AND t.typbasetype IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype))
                        THEN format('coalesce(%I::text, ''NULL'')', a.attname)
                      WHEN a.atttypid = 'bytea'::regtype
                        THEN format('coalesce(''x'''''' || encode(%I, ''hex'') || '''''''', ''NULL'')', a.attname)
                      ELSE format('CASE WHEN %I IS NULL THEN ''NULL'' ELSE to_json(format(''%%s'', %I))::text END',
                                  a.attname, a.attname) END,
                 ' || '', '' || ' ORDER BY a.attnum)
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = '$tbl'::regclass AND a.attnum > 0 AND NOT a.attisdropped")
    psql_db -c "SELECT '$op public.$tbl [' || $exprs || ']$tail' FROM $tbl WHERE $where"
}

# ---------------------------------------------------------------- schema

psql_db >/dev/null <<'SQL' || { fail "create schema" "created" "error"; exit 1; }
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE all_types (
    id int PRIMARY KEY,
    c_i2 smallint, c_i4 integer, c_i8 bigint,
    c_num numeric, c_num2 numeric(10,2),
    c_f4 real, c_f8 double precision,
    c_bool boolean,
    c_text text, c_vc varchar(10), c_bpc char(3),
    c_bytea bytea,
    c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz(3), c_iv interval,
    c_uuid uuid, c_json json, c_jsonb jsonb,
    c_iarr int[], c_tarr text[],
    c_mood mood, c_dom posint);
CREATE TABLE full_t (id int PRIMARY KEY, v text, n int);
ALTER TABLE full_t REPLICA IDENTITY FULL;
CREATE TABLE toast_t (id int PRIMARY KEY, big text, other int);
ALTER TABLE toast_t ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE seq_t (id int PRIMARY KEY, v text);
SQL

SLOT=${SLOTS[0]}
out=$(dump --slot "$SLOT" --publication zt_pub --table public.all_types --table public.full_t \
        --table public.toast_t --create-only 2>&1)
slot_line=$(grep -m1 '^SLOT ' <<<"$out")
if [[ $slot_line =~ ^SLOT\ $SLOT\ [0-9A-F]+/[0-9A-F]+\ [0-9A-F-]+$ ]]; then
    pass "slot created with a consistent point and an exported snapshot"
else
    fail "slot created" "SLOT $SLOT <lsn> <snapshot>" "$out"
fi
check_eq "publication created with quoted tables" "all_types full_t toast_t" \
    "$(psql_db -c "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'zt_pub'")"

# An existing publication that lacks a table is reported with its fix.
out=$(dump --slot "$SLOT" --publication zt_pub --table public.seq_t --create-only 2>&1)
if [[ $out == *'publication zt_pub exists but does not include "public"."seq_t"; run: ALTER PUBLICATION "zt_pub" ADD TABLE "public"."seq_t"'* ]]; then
    pass "adopting a publication that lacks a table fails with the fix"
else
    fail "adopting a publication that lacks a table" "an error naming the ALTER PUBLICATION fix" "$out"
fi
out=$(dump --slot 'Bad-Name' --publication zt_pub --table public.all_types --create-only 2>&1)
[[ $out == *'slot name "Bad-Name" is invalid'* ]] && pass "an invalid slot name is refused before reaching the server" ||
    fail "invalid slot name" "slot name \"Bad-Name\" is invalid" "$out"

# ---------------------------------------------------------------- workload

psql_db >/dev/null <<'SQL' || fail "insert all_types" "inserted" "error"
INSERT INTO all_types VALUES
 (1, 12, 123456, 1234567890123, 3.14159265358979323846264338327950288, 12345678.90, 1.5, 2.718281828459045,
  true, 'hello', 'varchar', 'ab', '\xdeadbeef', '2024-02-29', '13:45:59.123456', '13:45:59+05:30',
  '2024-02-29 10:00:00.5', '2024-02-29 10:00:00.5+02', '1 year 2 mons 3 days 04:05:06.789',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": {"c": null}}',
  '{1,2,3}', '{"x y","q\"uote",NULL}', 'happy', 42),
 (2, -32768, -2147483648, -9223372036854775808, 'NaN', -99999999.99, '-Infinity', 'NaN',
  false, '', '', '', '\x', '-infinity', '00:00:00', '00:00:00-15:59', '-infinity', '-infinity',
  '-178000000 years', '00000000-0000-0000-0000-000000000000', '[]', '{}', '{}', '{}', 'sad', 1),
 (3, 32767, 2147483647, 9223372036854775807, 'Infinity', 99999999.99, 'Infinity', '-Infinity',
  NULL, E'héllo wörld ✓ 日本語 😀 tab\there\nnewline \\ backslash "quote" \x01 ctl', 'ünïcödé✓', 'äöü',
  '\x00ff00', 'infinity', '24:00:00', '23:59:59.999999+15:59', 'infinity', 'infinity',
  '178000000 years', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '"str"', '[1, 2.5, "x", "ü"]',
  '{NULL}', '{"",NULL,"a,b"}', 'ok', 2147483647),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SQL
for id in 1 2 3 4; do expected_line INSERT all_types "id = $id" >"$WORK/exp_ins_$id"; done

psql_db -c "UPDATE all_types SET c_text = 'changed', c_f4 = 0.1 WHERE id = 1" >/dev/null
psql_db -c "UPDATE all_types SET id = 5 WHERE id = 4" >/dev/null
psql_db -c "DELETE FROM all_types WHERE id = 2" >/dev/null
expected_line UPDATE all_types "id = 1" >"$WORK/exp_upd_1"
key4="[4$(printf ', NULL%.0s' {1..25})]"
expected_line UPDATE all_types "id = 5" " KEY $key4" >"$WORK/exp_upd_5"

psql_db >/dev/null <<'SQL'
INSERT INTO full_t VALUES (1, 'a', 10);
UPDATE full_t SET v = 'b' WHERE id = 1;
DELETE FROM full_t WHERE id = 1;
INSERT INTO toast_t SELECT 1, string_agg(md5(g::text), '') || ' ✓', 1 FROM generate_series(1, 5000) g;
SQL
expected_line INSERT toast_t "id = 1" >"$WORK/exp_toast_ins"
toast_ext=$(psql_db -c "SELECT pg_column_size(big) < length(big) OR pg_relation_size(reltoastrelid) > 0 FROM toast_t, pg_class WHERE relname = 'toast_t'")
psql_db >/dev/null <<'SQL'
UPDATE toast_t SET other = 2 WHERE id = 1;
TRUNCATE toast_t;
ALTER TABLE full_t ADD COLUMN extra bigint;
INSERT INTO full_t VALUES (2, 'c', 20, 7);
SQL
NCOMMITS=11  # the ALTER TABLE transaction has no rows: pgoutput skips it

# ---------------------------------------------------------------- stream

start_ms=$(date +%s%3N)
dump --slot "$SLOT" --publication zt_pub --commits $NCOMMITS --seconds 30 --tables-info \
    >"$WORK/stream" 2>"$WORK/stream.err"
rc=$?
check_eq "stream of $NCOMMITS commits ends cleanly" "0" "$rc"
[[ $rc == 0 ]] || sed 's/^/    /' "$WORK/stream.err" | head -5
check_eq "commits streamed" "$NCOMMITS" "$(grep -c '^COMMIT ' "$WORK/stream")"

line_of() { grep -F -m1 -- "$1" "$WORK/stream" || true; }

# type mapping, from the TABLE line (catalog-resolved)
tl=$(grep -m1 '^TABLE public.all_types ' "$WORK/stream")
for want in 'id int32 "integer" key1 notnull' 'c_i2 int16 "smallint"' 'c_i8 int64 "bigint"' \
            'c_num decimal "numeric" p0 s0' 'c_num2 decimal "numeric(10,2)" p10 s2' 'c_f4 float32 "real"' \
            'c_f8 float64 "double precision"' 'c_bool bool "boolean"' 'c_text text "text"' \
            'c_vc varchar "character varying(10)" len10' 'c_bpc char "character(3)" len3' \
            'c_bytea bytes "bytea"' 'c_date date "date"' 'c_time time "time without time zone"' \
            'c_timetz timetz "time with time zone"' 'c_ts timestamp "timestamp without time zone"' \
            'c_tstz timestamptz "timestamp(3) with time zone"' 'c_iv interval "interval"' \
            'c_uuid uuid "uuid"' 'c_json json "json"' 'c_jsonb json "jsonb"' 'c_iarr int32[] "integer[]"' \
            'c_tarr text[] "text[]"' 'c_mood enum "public.mood"' 'c_dom int32 "integer"'; do
    if [[ $tl == *"$want"* ]]; then pass "type mapping: $want"; else fail "type mapping" "$want" "${tl:0:600}"; fi
done
tl=$(grep -m1 '^TABLE public.full_t ' "$WORK/stream")
[[ $tl == *'id int32 "integer" key1 notnull, v text "text", n int32 "integer"]'* ]] &&
    pass "REPLICA IDENTITY FULL table keeps its primary key from the catalog" ||
    fail "FULL table key" 'id ... key1 notnull, v text "text", n int32 "integer"' "$tl"

# inserts, value by value against SELECT
for id in 1 2 3 4; do
    exp=$(cat "$WORK/exp_ins_$id")
    compare_row "INSERT all_types id=$id" "$exp" "$(line_of "INSERT public.all_types [$id, ")" all_types
done
compare_row "UPDATE all_types id=1 (default identity, key unchanged: no old image)" "$(cat "$WORK/exp_upd_1")" \
    "$(line_of "UPDATE public.all_types [1, ")" all_types
compare_row "UPDATE all_types id 4→5 (key changed: old key image)" "$(cat "$WORK/exp_upd_5")" \
    "$(line_of "UPDATE public.all_types [5, ")" all_types
check_eq "DELETE all_types id=2 (default identity: key only)" "DELETE public.all_types KEY [2$(printf ', NULL%.0s' {1..25})]" \
    "$(line_of "DELETE public.all_types ")"

check_eq "INSERT full_t" 'INSERT public.full_t [1, "a", 10]' "$(line_of 'INSERT public.full_t [1,')"
check_eq "UPDATE full_t (REPLICA IDENTITY FULL: old row image)" 'UPDATE public.full_t [1, "b", 10] OLD [1, "a", 10]' \
    "$(line_of 'UPDATE public.full_t ')"
check_eq "DELETE full_t (REPLICA IDENTITY FULL: old row image)" 'DELETE public.full_t OLD [1, "b", 10]' \
    "$(line_of 'DELETE public.full_t ')"

if [[ $toast_ext == t ]]; then pass "TOAST value stored out of line"; else fail "TOAST value out of line" "t" "$toast_ext"; fi
compare_row "INSERT toast_t (160 kB value)" "$(cat "$WORK/exp_toast_ins")" "$(line_of 'INSERT public.toast_t [1,')" toast_t
check_eq "UPDATE toast_t: untouched TOAST column arrives UNCHANGED" 'UPDATE public.toast_t [1, UNCHANGED, 2]' \
    "$(line_of 'UPDATE public.toast_t ')"
check_eq "TRUNCATE toast_t" 'TRUNCATE public.toast_t' "$(line_of 'TRUNCATE ')"

sc=$(grep -n '^SCHEMA ' "$WORK/stream" | head -1)
if [[ $sc == *'SCHEMA ALTER public.full_t ['*'n int32 "integer"] -> public.full_t ['*'n int32 "integer", extra int64 "bigint"]' ]]; then
    pass "ALTER TABLE ADD COLUMN arrives as a schema change with old and new definitions"
else
    fail "ALTER TABLE ADD COLUMN schema change" "SCHEMA ALTER public.full_t [...] -> [... extra int64 \"bigint\"]" "${sc:0:400}"
fi
sc_line=${sc%%:*}
ins_line=$(grep -n -F 'INSERT public.full_t [2, "c", 20, 7]' "$WORK/stream" | cut -d: -f1)
if [[ -n $sc_line && -n $ins_line && $((ins_line - sc_line)) == 1 ]]; then
    pass "the schema change comes just before the next row, which has the new column"
else
    fail "schema change before the row" "SCHEMA on the line before INSERT [2, \"c\", 20, 7]" "schema at ${sc_line:-none}, insert at ${ins_line:-none}"
fi
check_eq "exactly one schema change" "1" "$(grep -c '^SCHEMA ' "$WORK/stream")"

# commit LSNs ascend and match the slot's confirmed position
last=$(grep '^COMMIT ' "$WORK/stream" | tail -1 | cut -d' ' -f2)
confirmed=$(zh_psql_src -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$SLOT'")
check_eq "the slot's confirmed_flush_lsn is the last applied commit's end" "$last" "$confirmed"
sorted=$(grep '^COMMIT ' "$WORK/stream" | cut -d' ' -f2 | while IFS=/ read -r hi lo; do printf '%08X%08X\n' $((16#$hi)) $((16#$lo)); done)
check_eq "commit LSNs strictly ascend" "$(sort -u <<<"$sorted")" "$sorted"

# idle: a keepalive proves the stream current; stop answers within a second
dump --slot "$SLOT" --publication zt_pub --heartbeats --seconds 3 >"$WORK/idle" 2>"$WORK/idle.err"
hb=$(grep -m1 '^HEARTBEAT ' "$WORK/idle" | cut -d' ' -f2)
if [[ -n $hb ]] && [[ $(grep -c -v '^HEARTBEAT ' "$WORK/idle") == 0 ]]; then
    pass "idle stream: heartbeat at $hb and no replayed changes"
else
    fail "idle stream heartbeat" "HEARTBEAT lines only" "$(head -3 "$WORK/idle" | tr '\n' '|')"
fi
"$DUMP" --dsn-env PGOUT_DSN --slot "$SLOT" --publication zt_pub --seconds 60 >/dev/null 2>&1 &
pid=$!
BGPID=$pid
sleep 1.5
t0=$(date +%s%3N)
kill -TERM "$pid"
wait "$pid"
rc=$?
t1=$(date +%s%3N)
BGPID=""
if [[ $rc == 0 ]] && ((t1 - t0 < 1500)); then pass "SIGTERM stops the stream cleanly in $((t1 - t0)) ms"; else
    fail "stop latency" "exit 0 within 1500 ms" "exit $rc after $((t1 - t0)) ms"; fi

# Keepalives that request a reply are answered at once: with wal_sender_timeout 2s
# and our periodic status updates pushed out to 60 s, only those replies keep the
# walsender from dropping us.
KROLE=zt_pgout_repl_$$
psql_db >/dev/null <<SQL
CREATE ROLE $KROLE LOGIN REPLICATION PASSWORD '$ZH_PG_PASSWORD';
ALTER ROLE $KROLE SET wal_sender_timeout = '2s';
SQL
PGOUT_DSN="$ZH_PGSRC_DSN dbname=$DB user=$KROLE" "$DUMP" --dsn-env PGOUT_DSN --slot "$SLOT" --publication zt_pub \
    --status-ms 60000 --heartbeats --seconds 6 >"$WORK/ka" 2>"$WORK/ka.err"
rc=$?
if [[ $rc == 0 ]] && grep -q 'stopped after 0 commits' "$WORK/ka.err"; then
    pass "6 s with wal_sender_timeout=2s and no periodic status: keepalive replies kept the stream alive"
else
    fail "keepalive replies" "a clean stop after 6 s" "exit $rc: $(tr '\n' ' ' <"$WORK/ka.err" | cut -c1-300)"
fi
check_eq "reply-requested keepalives arrived and were reported as heartbeats" "yes" \
    "$( (($(grep -c '^HEARTBEAT ' "$WORK/ka") >= 3)) && echo yes || echo "$(grep -c '^HEARTBEAT ' "$WORK/ka") heartbeats")"

# ---------------------------------------------------------------- restart from a confirmed LSN

RS=${SLOTS[1]}
psql_db -c "CREATE PUBLICATION zt_pub_rs FOR TABLE seq_t" >/dev/null
dump --slot "$RS" --publication zt_pub_rs --create-only >/dev/null 2>&1 || fail "restart slot" "created" "error"
for i in 1 2 3 4 5 6; do psql_db -c "INSERT INTO seq_t VALUES ($i, 'row $i')" >/dev/null; done
dump --slot "$RS" --publication zt_pub_rs --commits 6 --ack-commits 3 --seconds 20 >"$WORK/rs1" 2>/dev/null
check_eq "first run: 6 commits" "6" "$(grep -c '^COMMIT ' "$WORK/rs1")"
c3=$(grep '^COMMIT ' "$WORK/rs1" | sed -n 3p | cut -d' ' -f2)
check_eq "after acking 3 of 6, the slot is confirmed at commit 3" "$c3" \
    "$(zh_psql_src -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$RS'")"
dump --slot "$RS" --publication zt_pub_rs --commits 3 --seconds 20 >"$WORK/rs2" 2>/dev/null
check_eq "reconnect resumes at commit 4: commits 4-6 again, no duplicate, no gap" \
    "$(grep -A1000 -F 'INSERT public.seq_t [4,' "$WORK/rs1")" "$(cat "$WORK/rs2")"
psql_db -c "INSERT INTO seq_t VALUES (7, 'row 7')" >/dev/null
dump --slot "$RS" --publication zt_pub_rs --commits 1 --seconds 20 >"$WORK/rs3" 2>/dev/null
check_eq "after everything is acked, the next run starts at the next new transaction" \
    "INSERT public.seq_t [7, \"row 7\"]" "$(grep -v '^COMMIT ' "$WORK/rs3")"

# a streamed row count sanity check against the source: seq_t
check_eq "seq_t rows streamed across three runs equal the table" \
    "$(psql_db -c "SELECT string_agg(id::text, ' ' ORDER BY id) FROM seq_t")" \
    "$(cat "$WORK/rs1" "$WORK/rs3" | grep '^INSERT public.seq_t' | sed 's/.*\[\([0-9]*\),.*/\1/' | tr '\n' ' ' | sed 's/ $//')"

# ---------------------------------------------------------------- preflight (runtime/pg/preflight.c)

ROLE=zt_pgout_norepl_$$
write_cfg() { # user include...
    local user=$1; shift
    {
        printf 'integrations:\n  - name: pgt\n    source:\n      kind: postgres\n'
        printf '      host: 127.0.0.1\n      port: %s\n      user: %s\n' "$ZH_PGSRC_PORT" "$user"
        printf '      password: ${ZH_PG_PASSWORD}\n      database: %s\n      tls: disable\n' "$DB"
        printf '      slot: %s\n      publication: zt_pub\n' "$SLOT"
        printf '    target:\n      kind: postgres\n      dsn: "host=127.0.0.1 dbname=unused"\n'
        printf '    tables:\n      include: [%s]\n' "$(IFS=,; echo "$*")"
    } >"$WORK/cfg.yaml"
}
psql_db >/dev/null <<SQL
CREATE TABLE nokey_t (a int, b text);
CREATE ROLE $ROLE LOGIN PASSWORD '$ZH_PG_PASSWORD';
SQL
write_cfg zetl '"public.all_types"' '"public.full_t"' '"public.toast_t"'
"$DUMP" --preflight "$WORK/cfg.yaml" >"$WORK/pf1.raw" 2>&1
rc=$?
tr -s ' ' <"$WORK/pf1.raw" >"$WORK/pf1"   # compare with single spaces: column widths are layout
check_eq "preflight of a ready source exits 0" "0" "$rc"
for want in 'PASS wal_level logical' 'PASS replication connection IDENTIFY_SYSTEM answered' \
            "PASS slot $SLOT pgoutput" 'PASS publication zt_pub publishes insert update delete truncate' \
            'PASS table public.all_types primary key' 'PASS table public.full_t primary key, REPLICA IDENTITY FULL'; do
    grep -qF -- "$want" "$WORK/pf1" && pass "preflight: ${want#PASS }" || fail "preflight line" "$want" "$(tr '\n' '|' <"$WORK/pf1" | cut -c1-600)"
done
write_cfg "$ROLE" '"public.%"'
"$DUMP" --preflight "$WORK/cfg.yaml" >"$WORK/pf2.raw" 2>&1
rc=$?
tr -s ' ' <"$WORK/pf2.raw" >"$WORK/pf2"
check_eq "preflight with failures exits 1" "1" "$rc"
for want in "FAIL replication privilege $ROLE lacks REPLICATION" 'FAIL replication connection FATAL: must be superuser or replication role' \
            "fix: ALTER ROLE \"$ROLE\" WITH REPLICATION;" 'FAIL table public.nokey_t no primary key and REPLICA IDENTITY DEFAULT' \
            'fix: ALTER TABLE "public"."nokey_t" ADD PRIMARY KEY (...); or ALTER TABLE "public"."nokey_t" REPLICA IDENTITY FULL;' \
            'FAIL table public.seq_t not in publication zt_pub' 'fix: ALTER PUBLICATION "zt_pub" ADD TABLE "public"."seq_t";' \
            'WARN publication owner zetl, not'; do
    grep -qF -- "$want" "$WORK/pf2" && pass "preflight: ${want}" || fail "preflight line" "$want" "$(tr '\n' '|' <"$WORK/pf2" | cut -c1-800)"
done
if grep -qF -- "$ZH_PG_PASSWORD" "$WORK/pf1" "$WORK/pf2"; then fail "preflight output holds no password" "absent" "present"; else
    pass "preflight output holds no password"; fi

printf '%s: %d passed, %d failed\n' "$T" "$PASSES" "$FAILS" >&2
((FAILS == 0))
