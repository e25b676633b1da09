#!/usr/bin/env bash
# test_target_pg.sh — the warehouse target driver against a REAL PostgreSQL
# target (tests/lib/harness.sh pgtgt), through tests/tools/target_apply:
# exact-case quoted names, tricky values compared value by value, insert /
# update / delete / key change / TOAST partial updates / truncate, keyless
# tables with duplicates, the checkpoint written in the same transaction
# (kill -9 before COMMIT), read after reconnect, DDL helpers, table diffs,
# and the Redshift dialect's DML run for real on PostgreSQL.
set -uo pipefail
T=test_target_pg
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${ZETL_BUILD:-$ROOT/build}
TOOL=$BUILD/tools/target_apply
fails=0

pass() { echo "PASS $T: $1"; }
fail() { echo "FAIL $T: $1 — expected $2, saw $3"; fails=$((fails + 1)); }

if [[ ! -x $TOOL ]]; then
    fail "target_apply built" "$TOOL" "missing (make $TOOL)"
    exit 1
fi
# shellcheck source=../lib/harness.sh
source "$ROOT/tests/lib/harness.sh"
if ! harness_start pgtgt; then
    fail "harness starts the PostgreSQL target" "pgtgt running" "start failure"
    exit 1
fi

# Our own database, so reruns and parallel tests never see each other.
DB=zt_target_$$
zh_psql_tgt -c "CREATE DATABASE $DB" || { fail "create test database" "$DB" "error"; exit 1; }
cleanup_db() { zh_psql_tgt -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; }
DSN="host=$ZH_HOST port=$ZH_PGTGT_PORT dbname=$DB user=$ZH_PG_USER password=$ZH_PG_PASSWORD"
export TARGET_DSN=$DSN
work=$(mktemp -d)
bgpid=
finish() {
    [[ -n $bgpid ]] && kill -9 "$bgpid" 2>/dev/null
    cleanup_db
    rm -rf "$work"
    harness_stop
}
trap finish EXIT

q() { psql "$DSN" -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }

# run WHAT [tool args…] <<script: runs the tool; output in $out, rc checked.
run() {
    local what=$1; shift
    out=$("$TOOL" "$@" 2>"$work/err"); local rc=$?
    if [[ $rc -eq 0 ]]; then pass "$what"; else fail "$what" "exit 0" "exit $rc: $(head -c 400 "$work/err")"; fi
}
# expect WHAT SQL WANT: the query's output equals WANT.
expect() {
    local got
    got=$(q -c "$2" 2>&1)
    if [[ $got == "$3" ]]; then pass "$1"; else fail "$1" "'$3'" "'$got'"; fi
}

# ---------------------------------------------------------------- values
# Columns with names that need quoting; a table name with a quote and mixed case.
QT='"Sales"."Order""Items"'
run "create a mixed-case table whose name needs quotes" it <<'EOF'
table Sales.Order"Items id:int64:pk Mixed"Col:text:null data:bytes:null amount:decimal(12,3):null f:float64:null r:float32:null big:uint64:null ok:bool:null ts:timestamptz(6):null doc:json:null d:date:null u:uuid:null dur:time(6):null v:varchar(10):null
ensure Sales.Order"Items
EOF
[[ $out == created ]] && pass "ensure reports the table as created" || fail "ensure output" "created" "$out"
expect "table exists with its exact-case name" \
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'Sales' AND c.relname = 'Order\"Items'" 1
expect "MySQL mapping: uint64 → numeric(20,0), TIME → interval, JSON → jsonb" \
    "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '$QT'::regclass AND attname IN ('big','dur','doc')" \
    "numeric(20,0),jsonb,interval"
expect "primary key created" \
    "SELECT count(*) FROM pg_constraint WHERE conrelid = '$QT'::regclass AND contype = 'p'" 1

run "insert tricky values and commit" it <<'EOF'
table Sales.Order"Items id:int64:pk Mixed"Col:text:null data:bytes:null amount:decimal(12,3):null f:float64:null r:float32:null big:uint64:null ok:bool:null ts:timestamptz(6):null doc:json:null d:date:null u:uuid:null dur:time(6):null v:varchar(10):null
insert Sales.Order"Items 1 'tab\there' x'00ff0a5c0d09' '12.340' -0.1 0.1 18446744073709551615 1 '2024-02-29 10:00:00.5+00' '{"a": [1, "x\\ty"]}' '2024-02-29' 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' '-838:59:59' 'ten chars!'
insert Sales.Order"Items 2 'nl\nline' x'' '0.000' 1e308 -3.5 0 0 '1970-01-01 00:00:00+00' 'null' '0001-01-01' null '838:59:59.000001' ''
insert Sales.Order"Items 3 'cr\rx' null null null null null null null null null null null null
insert Sales.Order"Items 4 'back\\slash \\N \\. end' x'5c4e' null null null null null null null null null null null
insert Sales.Order"Items 5 'quote\'s "dq" ;--' null null null null null null null null null null null null
insert Sales.Order"Items 6 'ünïcødé ✓ 日本 🎉' null null null null null null null null null null null null
insert Sales.Order"Items 7 '' null null null null null null null null null null null null
insert Sales.Order"Items 8 null null null null null null null null null null null null null
insert Sales.Order"Items 9 '\\N' null null null null null null null null null null null null
insert Sales.Order"Items 10 '\\.' null null null null null null null null null null null null
commit binlog.000001:100 1700000000123456
EOF
C='"Mixed""Col"'
expect "tab survives" "SELECT $C = E'tab\\there' FROM $QT WHERE id = 1" t
expect "newline survives" "SELECT $C = E'nl\\nline' FROM $QT WHERE id = 2" t
expect "carriage return survives" "SELECT $C = E'cr\\rx' FROM $QT WHERE id = 3" t
expect "backslashes, \\N and \\. inside text survive" "SELECT $C = E'back\\\\slash \\\\N \\\\. end' FROM $QT WHERE id = 4" t
expect "quotes and SQL punctuation survive" "SELECT $C = 'quote''s \"dq\" ;--' FROM $QT WHERE id = 5" t
expect "unicode survives" "SELECT $C = 'ünïcødé ✓ 日本 🎉' FROM $QT WHERE id = 6" t
expect "empty string stays empty (not NULL)" "SELECT $C = '' AND $C IS NOT NULL FROM $QT WHERE id = 7" t
expect "NULL stays NULL" "SELECT $C IS NULL FROM $QT WHERE id = 8" t
expect "the text \\N is not NULL" "SELECT $C = E'\\\\N' FROM $QT WHERE id = 9" t
expect "the text \\. (COPY end marker) survives" "SELECT $C = E'\\\\.' FROM $QT WHERE id = 10" t
expect "bytea with NUL, LF, CR, tab, backslash" "SELECT encode(data, 'hex') FROM $QT WHERE id = 1" "00ff0a5c0d09"
expect "empty bytea is empty, not NULL" "SELECT data IS NOT NULL AND length(data) = 0 FROM $QT WHERE id = 2" t
expect "decimal keeps its scale" "SELECT amount::text FROM $QT WHERE id = 1" "12.340"
expect "float64 round-trips" "SELECT f = -0.1::float8, (SELECT f = 1e308::float8 FROM $QT WHERE id = 2) FROM $QT WHERE id = 1" "t|t"
expect "float32 round-trips" "SELECT r = 0.1::float4 FROM $QT WHERE id = 1" t
expect "uint64 max" "SELECT big::text FROM $QT WHERE id = 1" "18446744073709551615"
expect "bool from an integer" "SELECT ok::text FROM $QT WHERE id = 1" "true"
expect "timestamptz with fraction" "SELECT ts = '2024-02-29 10:00:00.5+00'::timestamptz FROM $QT WHERE id = 1" t
expect "json" "SELECT doc = '{\"a\": [1, \"x\\ty\"]}'::jsonb FROM $QT WHERE id = 1" t
expect "json null is a JSON value, not SQL NULL" "SELECT doc IS NOT NULL AND doc = 'null'::jsonb FROM $QT WHERE id = 2" t
expect "MySQL TIME -838:59:59 fits" "SELECT dur = '-838:59:59'::interval FROM $QT WHERE id = 1" t
expect "uuid" "SELECT u::text FROM $QT WHERE id = 1" "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
expect "all 10 rows" "SELECT count(*) FROM $QT" 10
expect "checkpoint written with the rows" "SELECT position, commit_time = to_timestamp(1700000000.123456) FROM zetl.checkpoints WHERE integration = 'it'" "binlog.000001:100|t"

# Fresh inserts go straight into the table (no staging); one that meets a row
# already there (a target written by someone else) falls back to delete and
# insert for the whole segment, in the same transaction, without an error.
run "an insert of a key the target already holds: applied, no error" it <<'EOF'
table Sales.Order"Items id:int64:pk Mixed"Col:text:null data:bytes:null amount:decimal(12,3):null f:float64:null r:float32:null big:uint64:null ok:bool:null ts:timestamptz(6):null doc:json:null d:date:null u:uuid:null dur:time(6):null v:varchar(10):null
insert Sales.Order"Items 11 'fresh' null null null null null null null null null null null null
insert Sales.Order"Items 3 'replaced' null null null null null null null null null null null null
commit binlog.000001:150 1700000000123999
EOF
expect "the existing row now holds the inserted image" "SELECT $C FROM $QT WHERE id = 3" "replaced"
expect "the fresh row of the same batch is there once" "SELECT count(*) || ':' || min($C) FROM $QT WHERE id = 11" "1:fresh"
expect "the checkpoint moved with that batch" "SELECT position FROM zetl.checkpoints WHERE integration = 'it'" "binlog.000001:150"

# ---------------------------------------------------------------- updates, deletes, keys, TOAST
DEF='table s.Kv id:int32:pk Name:varchar(20):null doc:text:null'
run "updates, deletes and key changes in one batch" it <<EOF
$DEF
ensure s.Kv
insert s.Kv 1 'one' 'doc1'
insert s.Kv 2 'two' 'doc2'
insert s.Kv 3 'three' 'doc3'
insert s.Kv 4 'four' 'doc4'
commit binlog.000001:200
update s.Kv 1 'one' 'doc1' -> 1 'uno' 'doc1'
update s.Kv 1 'uno' 'doc1' -> 1 'eins' 'doc1'
deletek s.Kv 2
update s.Kv 3 'three' 'doc3' -> 30 'thirty' 'doc3'
insert s.Kv 5 'five' 'doc5'
deletek s.Kv 5
deletek s.Kv 4
insert s.Kv 4 'four again' 'doc4b'
stats s.Kv
commit binlog.000001:300
EOF
[[ $(grep ^stats <<<"$out") == "stats 2 3 3 0" ]] && pass "batch counts source inserts/updates/deletes" || fail "batch stats" "stats 2 3 3 0" "$out"
expect "final rows after update/delete/key change/re-insert" \
    "SELECT string_agg(id || ':' || \"Name\", ',' ORDER BY id) FROM s.\"Kv\"" "1:eins,4:four again,30:thirty"

run "partial (TOAST) updates keep the target's value" it <<EOF
$DEF
update s.Kv 1 'eins' ~ -> 1 'ONE' ~
updatek s.Kv 30 -> 31 'moved' ~
commit binlog.000001:400
EOF
expect "UNCHANGED column kept on update" "SELECT \"Name\" || '/' || doc FROM s.\"Kv\" WHERE id = 1" "ONE/doc1"
expect "UNCHANGED column kept when the key moves" "SELECT \"Name\" || '/' || doc FROM s.\"Kv\" WHERE id = 31" "moved/doc3"
expect "old key gone after the move" "SELECT count(*) FROM s.\"Kv\" WHERE id = 30" 0

run "partial updates of two shapes, set-based" it <<EOF
$DEF
insert s.Kv 101 'n101' 'd101'
insert s.Kv 102 'n102' 'd102'
insert s.Kv 103 'n103' 'd103'
commit binlog.000001:450
EOF
run "…applied in the next batch (no earlier image)" it <<EOF
$DEF
update s.Kv 101 ~ ~ -> 101 'N101' ~
update s.Kv 102 ~ ~ -> 102 ~ 'D102'
update s.Kv 103 ~ ~ -> 103 'N103' ~
commit binlog.000001:460
EOF
expect "each partial row changed only its known column" \
    "SELECT string_agg(id || ':' || \"Name\" || ':' || doc, ',' ORDER BY id) FROM s.\"Kv\" WHERE id > 100" \
    "101:N101:d101,102:n102:D102,103:N103:d103"
q -c 'DELETE FROM s."Kv" WHERE id > 100'

run "truncate in the middle of a batch" it <<EOF
$DEF
insert s.Kv 50 'before' 'x'
truncate s.Kv
insert s.Kv 60 'after' 'y'
update s.Kv 60 'after' 'y' -> 60 'after2' ~
commit binlog.000001:500
EOF
expect "only rows after the truncate remain" "SELECT string_agg(id || ':' || \"Name\" || ':' || doc, ',') FROM s.\"Kv\"" "60:after2:y"

# ---------------------------------------------------------------- keyless tables
KL='table s.Nokey a:int32:null b:text:null'
run "keyless table with duplicates" it <<EOF
$KL
ensure s.Nokey
insert s.Nokey 1 'x'
insert s.Nokey 1 'x'
insert s.Nokey 1 'x'
insert s.Nokey 2 null
insert s.Nokey 2 ''
commit binlog.000001:600
EOF
expect "three duplicate rows stored" "SELECT count(*) FROM s.\"Nokey\" WHERE a = 1" 3
run "keyless delete removes one copy per source delete" it <<EOF
$KL
delete s.Nokey 1 'x'
delete s.Nokey 2 null
update s.Nokey 1 'x' -> 1 'y'
commit binlog.000001:700
EOF
expect "one of three duplicates deleted, one updated, one left" \
    "SELECT string_agg(a || ':' || coalesce(b, 'NULL'), ',' ORDER BY a, b) FROM s.\"Nokey\"" "1:x,1:y,2:"
expect "NULL and '' are different full-row keys" "SELECT count(*) FROM s.\"Nokey\" WHERE a = 2 AND b = ''" 1

# ---------------------------------------------------------------- atomicity of the checkpoint
run "checkpoint before the crash" it <<<"checkpoint"
before_cp=$out
TOOL_SCRIPT="$KL
insert s.Nokey 99 'crash'
apply
sleep 60
commit binlog.000009:999"
"$TOOL" it <<<"$TOOL_SCRIPT" >"$work/crash.out" 2>&1 &
bgpid=$!
staged=0
for _ in $(seq 1 100); do
    n=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND state = 'idle in transaction'")
    [[ $n -ge 1 ]] && { staged=1; break; }
    sleep 0.1
done
[[ $staged == 1 ]] && pass "the tool applied its batch and waits before COMMIT" || fail "tool paused in its transaction" "idle in transaction" "none"
kill -9 "$bgpid" 2>/dev/null; wait "$bgpid" 2>/dev/null; bgpid=
for _ in $(seq 1 50); do
    n=$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND state = 'idle in transaction'")
    [[ $n == 0 ]] && break
    sleep 0.1
done
expect "kill -9 before COMMIT: the rows did not arrive" "SELECT count(*) FROM s.\"Nokey\" WHERE a = 99" 0
run "read the checkpoint after reconnecting" it <<<"checkpoint"
[[ $out == "$before_cp" ]] && pass "kill -9 before COMMIT: the checkpoint did not move" || fail "checkpoint after the crash" "$before_cp" "$out"
[[ $out == "checkpoint binlog.000001:700 0" ]] && pass "checkpoint read back after reconnect" || fail "checkpoint value" "checkpoint binlog.000001:700 0" "$out"
run "a normal run commits rows and checkpoint" it <<<"${TOOL_SCRIPT/sleep 60/}"
expect "rows arrived" "SELECT count(*) FROM s.\"Nokey\" WHERE a = 99" 1
run "checkpoint advanced" it <<<"checkpoint"
[[ $out == "checkpoint binlog.000009:999 0" ]] && pass "the checkpoint advanced with the rows" || fail "checkpoint advanced" "checkpoint binlog.000009:999 0" "$out"
run "GTID and LSN positions round-trip" gt <<'EOF'
commit 'binlog.000002:4 gtid=0-1-42,1-2-7' 1700000000000001
checkpoint
EOF
[[ $out == "checkpoint binlog.000002:4 gtid=0-1-42,1-2-7 1700000000000001" ]] && pass "GTID position read back" || fail "GTID position" "binlog.000002:4 gtid=0-1-42,1-2-7" "$out"
run "rollback leaves nothing" it <<EOF
$KL
insert s.Nokey 77 'rolled back'
apply
rollback
checkpoint
EOF
expect "rolled-back rows absent" "SELECT count(*) FROM s.\"Nokey\" WHERE a = 77" 0

# ---------------------------------------------------------------- PostgreSQL → PostgreSQL keeps declared types
PGT='table pgs.Typed id:int32:pk@integer ts:timestamptz:null@timestamp(3)_with_time_zone n:decimal(10,2):null@numeric(10,2) tags:text:null@text[] ints:int32:null@integer[] m:enum:null@mood r:other:null@int4range'
run "PG→PG: declared built-in types kept, custom types as text" --pg-source pgsrc <<<"$PGT
ensure pgs.Typed
insert pgs.Typed 1 '2024-01-01 00:00:00.123+00' '3.14' '{a,\"b c\"}' '{1,2}' 'happy' '[1,5)'
commit 0/1000"
expect "PG→PG column types" \
    "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'pgs.\"Typed\"'::regclass AND attnum > 0" \
    "integer,timestamp(3) with time zone,numeric(10,2),text[],integer[],text,int4range"
expect "PG→PG values (arrays, ranges, enum label)" \
    "SELECT tags[2], ints[2], m, r::text FROM pgs.\"Typed\"" 'b c|2|happy|[1,5)'

# ---------------------------------------------------------------- two batches of one table in one transaction
run "two applies of the same table in one transaction (staging reused)" it <<<"$KL
insert s.Nokey 500 'first'
apply
insert s.Nokey 501 'second'
delete s.Nokey 500 'first'
apply
commit binlog.000009:1000"
expect "both batches applied in order" "SELECT string_agg(a::text, ',') FROM s.\"Nokey\" WHERE a >= 500" "501"

# ---------------------------------------------------------------- a larger batch (COPY chunks)
{
    echo 'table s.Big id:int64:pk payload:text:null'
    echo 'ensure s.Big'
    for i in $(seq 1 60000); do echo "insert s.Big $i 'payload $i with a tab\there and some more text to fill'"; done
    echo 'commit binlog.000010:1'
} >"$work/big.txt"
start=$(date +%s%N)
run "60,000 rows in one batch" big <"$work/big.txt"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect "60,000 rows arrived (in ${ms} ms, parse included)" "SELECT count(*), sum(id) FROM s.\"Big\"" "60000|1800030000"

# ---------------------------------------------------------------- table diffs and DDL helpers
run "same definition ⇒ no differences" it <<<"$DEF
ensure s.Kv"
[[ $out == same ]] && pass "ensure on an identical table reports nothing" || fail "ensure identical" "same" "$out"
q -c 'ALTER TABLE s."Kv" ADD COLUMN extra int, ALTER COLUMN "Name" TYPE varchar(50)'
run "changed target ⇒ differences reported" it <<<"table s.Kv id:int32:pk Name:varchar(20):null doc:text:null newcol:int64:null
ensure s.Kv"
diffs=$(sort <<<"$out" | tr '\n' ';')
want="diff extra extra - integer;diff missing newcol bigint -;diff type Name character varying(20) character varying(50);"
[[ $diffs == "$want" ]] && pass "missing, extra and type differences" || fail "table diff" "$want" "$diffs"
run "DDL helpers" it <<EOF
table s.Kv id:int32:pk Name:varchar(20):null doc:text:null
addcol s.Kv New"Col:decimal(10,2)
widen s.Kv Name:varchar(40)
renamecol s.Kv doc Doc
dropcol s.Kv extra
renametable s.Kv Kv2
EOF
expect "columns after add/widen/rename/drop" \
    "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 's.\"Kv2\"'::regclass AND attnum > 0 AND NOT attisdropped" \
    'id integer,Name character varying(40),Doc text,New"Col numeric(10,2)'
run "apply after DDL (staging table follows the new columns)" it <<EOF
table s.Kv2 id:int32:pk Name:varchar(40):null Doc:text:null New"Col:decimal(10,2):null
insert s.Kv2 70 'a name longer than twenty chars!' 'd' '1.50'
commit binlog.000011:1
truncatetable s.Kv2
EOF
expect "truncate helper emptied the table" "SELECT count(*) FROM s.\"Kv2\"" 0
run "drop table helper" it <<<"table s.Kv2 id:int32:pk
droptable s.Kv2"
expect "table dropped" "SELECT count(*) FROM pg_class WHERE relname = 'Kv2'" 0

# ---------------------------------------------------------------- the Redshift dialect's DML, for real
# PostgreSQL lacks Redshift's FROM_HEX and JSON_PARSE: stand-ins with the same meaning.
q -c "CREATE FUNCTION public.from_hex(text) RETURNS bytea LANGUAGE sql IMMUTABLE AS \$\$SELECT decode(\$1, 'hex')\$\$" \
  -c "CREATE FUNCTION public.json_parse(text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS \$\$SELECT \$1::jsonb\$\$"
RS='table rs.Mixed id:int32:pk k2:varchar(5):pk txt:text:null b:bytes:null j:json:null n:decimal(10,2):null f:float64:null'
# Redshift DDL (VARBYTE, SUPER) cannot run here: the tables come from the postgres dialect.
run "create tables for the redshift DML test" rs <<<"$RS
ensure rs.Mixed
table rs.Nokey a:int32:null b:text:null
ensure rs.Nokey"
run "redshift dialect: inserts, updates, deletes, key change, partial, keyless" --redshift rs <<EOF
$RS
table rs.Nokey a:int32:null b:text:null
check-redshift
insert rs.Mixed 1 'a' 'tab\there\nnl \\ back' x'00ff' '{"k": "v"}' '1.25' -0.1
insert rs.Mixed 2 'b' '' x'' 'null' null null
insert rs.Mixed 3 'c' null null null null null
insert rs.Mixed 4 'd' 'four' null null null null
insert rs.Nokey 1 'x'
insert rs.Nokey 1 'x'
insert rs.Nokey 1 'x'
insert rs.Nokey 2 null
commit 0/16B3748 1700000000000000
update rs.Mixed 4 'd' ~ ~ ~ ~ ~ -> 4 'd' 'FOUR' ~ ~ ~ ~
updatek rs.Mixed 3 'c' -> 30 'c' 'moved' ~ ~ ~ ~
deletek rs.Mixed 2 'b'
update rs.Mixed 1 'a' 'x' null null null null -> 1 'a' 'ünï ✓' x'5c00' '[1,2]' '2.50' 1e-300
delete rs.Nokey 1 'x'
delete rs.Nokey 2 null
commit 0/16B3800
checkpoint
EOF
grep -q '^check-redshift error: .*enable_case_sensitive_identifier' <<<"$out" \
    && pass "check-redshift reports a server without the setting" || fail "check-redshift on PostgreSQL" "an error naming the setting" "$out"
grep -q '^checkpoint 0/16B3800 0$' <<<"$out" && pass "redshift dialect checkpoint (delete+insert)" || fail "redshift checkpoint" "0/16B3800" "$out"
expect "redshift: text with tab/newline/backslash + unicode" \
    "SELECT txt = 'ünï ✓', encode(b, 'hex'), j = '[1,2]'::jsonb, n::text, f = 1e-300::float8 FROM rs.\"Mixed\" WHERE id = 1" "t|5c00|t|2.50|t"
expect "redshift: deleted key gone, moved key kept its TOAST-less columns" \
    "SELECT string_agg(id || ':' || coalesce(txt, 'NULL'), ',' ORDER BY id) FROM rs.\"Mixed\"" "1:ünï ✓,4:FOUR,30:moved"
expect "redshift: keyless delete removes one of three duplicates, NULL row matched" \
    "SELECT count(*) FILTER (WHERE a = 1), count(*) FILTER (WHERE a = 2) FROM rs.\"Nokey\"" "2|0"
run "redshift: truncate mid-batch is a DELETE inside the transaction" --redshift rs <<EOF
$RS
insert rs.Mixed 9 'z' null null null null null
truncate rs.Mixed
insert rs.Mixed 10 'y' 'after' null null null null
commit 0/16B3900
EOF
expect "redshift: only the row after the truncate" "SELECT string_agg(id::text, ',') FROM rs.\"Mixed\"" "10"
run "redshift: first values from the multi-row insert" --redshift rs <<<"$RS
insert rs.Mixed 11 'q' 'tab\tx' x'0a0d' '{}' '0.01' 0
commit 0/16B4000"
expect "redshift: escaped text and bytes as parameters" "SELECT txt = E'tab\\tx', encode(b, 'hex') FROM rs.\"Mixed\" WHERE id = 11" "t|0a0d"

# ---------------------------------------------------------------- soft deletes, both dialects
# A delete marks the row with its transaction's time; an insert of the key
# revives it; a truncate marks every live row; upserts, updates and the
# key-changing update (old key marked) as the plain table would do.
for dialect in postgres redshift; do
    flag=; [ $dialect = redshift ] && flag=--redshift
    SD="table sd_$dialect.Soft id:int32:pk v:text:null
soft sd_$dialect.Soft"
    run "soft delete ($dialect): the table gets its two columns" sd <<<"$SD
ensure sd_$dialect.Soft"
    expect "soft delete ($dialect): _zetl_is_deleted and _zetl_deleted_at" \
        "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'sd_$dialect'" \
        "id:integer,v:text,_zetl_is_deleted:boolean,_zetl_deleted_at:timestamp with time zone"
    run "soft delete ($dialect): deletes, a revival, a key change" $flag sd <<EOF
$SD
time 1700000000000000
insert sd_$dialect.Soft 1 'one'
insert sd_$dialect.Soft 2 'two'
insert sd_$dialect.Soft 3 'three'
insert sd_$dialect.Soft 4 'four'
commit 0/16C0000
time 1700000001123456
delete sd_$dialect.Soft 1 'one'
deletek sd_$dialect.Soft 2
updatek sd_$dialect.Soft 3 -> 30 'thirty'
commit 0/16C0100
time 1700000002000000
insert sd_$dialect.Soft 2 'two again'
update sd_$dialect.Soft 4 'four' -> 4 'FOUR'
commit 0/16C0200
EOF
    expect "soft delete ($dialect): marked with the transaction's time to the µs, revived, moved" \
        "SELECT string_agg(id || ':' || coalesce(v, '-') || ':' || _zetl_is_deleted || ':' || coalesce(to_char(_zetl_deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '-'), ',' ORDER BY id) FROM sd_$dialect.\"Soft\"" \
        "1:one:true:2023-11-14 22:13:21.123456,2:two again:false:-,3:three:true:2023-11-14 22:13:21.123456,4:FOUR:false:-,30:thirty:false:-"
    run "soft delete ($dialect): a truncate marks every live row" $flag sd <<EOF
$SD
time 1700000003000000
insert sd_$dialect.Soft 5 'five'
truncate sd_$dialect.Soft
insert sd_$dialect.Soft 6 'six'
commit 0/16C0300
EOF
    expect "soft delete ($dialect): truncated rows marked, the earlier marks kept, the row after it live" \
        "SELECT string_agg(id || ':' || _zetl_is_deleted || ':' || coalesce(to_char(_zetl_deleted_at AT TIME ZONE 'UTC', 'SS'), '-'), ',' ORDER BY id) FROM sd_$dialect.\"Soft\"" \
        "1:true:21,2:true:23,3:true:21,4:true:23,6:false:-,30:true:23"
done

# ---------------------------------------------------------------- history mode, both dialects
# Each source transaction that changes a key closes its active version and
# (unless it deleted the row) adds one, at the transaction's time; several
# transactions in one batch stay apart; two changes in one are one version;
# a truncate closes every active version.
for dialect in postgres redshift; do
    flag=; [ $dialect = redshift ] && flag=--redshift
    HS="table hs_$dialect.Hist id:int32:pk v:text:null
hist hs_$dialect.Hist"
    run "history ($dialect): the table gets its three columns" hs <<<"$HS
ensure hs_$dialect.Hist"
    expect "history ($dialect): _record_is_active, _record_create_time, _record_delete_time; no primary key" \
        "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position) || '|' || (SELECT count(*) FROM pg_constraint WHERE conrelid = 'hs_$dialect.\"Hist\"'::regclass AND contype = 'p') || '|' || (SELECT count(*) FROM pg_index WHERE indrelid = 'hs_$dialect.\"Hist\"'::regclass AND indisunique AND indpred IS NOT NULL) FROM information_schema.columns WHERE table_schema = 'hs_$dialect'" \
        "id:integer,v:text,_record_is_active:boolean,_record_create_time:timestamp with time zone,_record_delete_time:timestamp with time zone|0|1"
    run "history ($dialect): versions per transaction" $flag hs <<EOF
$HS
time 1700000000000000
insert hs_$dialect.Hist 1 'a'
insert hs_$dialect.Hist 2 'b'
commit 0/16D0000
time 1700000001000000
update hs_$dialect.Hist 1 'a' -> 1 'A'
delete hs_$dialect.Hist 2 'b'
time 1700000002000000
insert hs_$dialect.Hist 2 'b2'
time 1700000003000000
update hs_$dialect.Hist 1 'A' -> 1 'x'
update hs_$dialect.Hist 1 'x' -> 1 'AA'
commit 0/16D0100
EOF
    expect "history ($dialect): every version, one active per key, times to the second" \
        "SELECT string_agg(id || ':' || v || ':' || _record_is_active || ':' || to_char(_record_create_time AT TIME ZONE 'UTC', 'SS') || ':' || coalesce(to_char(_record_delete_time AT TIME ZONE 'UTC', 'SS'), '-'), ',' ORDER BY id, _record_create_time) FROM hs_$dialect.\"Hist\"" \
        "1:a:false:20:21,1:A:false:21:23,1:AA:true:23:-,2:b:false:20:21,2:b2:true:22:-"
    run "history ($dialect): a truncate closes every active version" $flag hs <<EOF
$HS
time 1700000004000000
truncate hs_$dialect.Hist
commit 0/16D0200
EOF
    expect "history ($dialect): nothing active, every version kept" \
        "SELECT count(*) || '|' || count(*) FILTER (WHERE _record_is_active) || '|' || count(*) FILTER (WHERE to_char(_record_delete_time AT TIME ZONE 'UTC', 'SS') = '24') FROM hs_$dialect.\"Hist\"" \
        "5|0|2"
done

# ---------------------------------------------------------------- connection errors never show the password
BADDSN="host=$ZH_HOST port=$ZH_PGTGT_PORT dbname=$DB user=$ZH_PG_USER password=wrong-Secret-123"
out=$(TARGET_DSN=$BADDSN "$TOOL" it <<<"checkpoint" 2>&1)
rc=$?
[[ $rc -ne 0 ]] && pass "wrong password fails" || fail "wrong password" "non-zero exit" "exit 0"
grep -q "wrong-Secret-123" <<<"$out" && fail "password hidden" "no password in the message" "$out" || pass "the password is not in the message"
grep -q "host=$ZH_HOST port=$ZH_PGTGT_PORT dbname=$DB user=$ZH_PG_USER" <<<"$out" \
    && pass "the message names host, port, database and user" || fail "message names the target" "host=… dbname=$DB" "$out"
grep -q "password authentication failed" <<<"$out" && pass "the server's message is included" || fail "server message" "password authentication failed" "$out"
out=$(TARGET_DSN="host=$ZH_HOST port=1 dbname=nope user=x password=hunter2 connect_timeout=2" "$TOOL" it <<<"checkpoint" 2>&1)
grep -q hunter2 <<<"$out" && fail "password hidden (refused)" "no password" "$out" || pass "no password in a refused-connection message"
grep -q "port=1 dbname=nope" <<<"$out" && pass "refused connection names the target" || fail "refused connection message" "port=1 dbname=nope" "$out"

out=$(TARGET_DSN="host=$ZH_HOST password=hunter 2secret" "$TOOL" it <<<"checkpoint" 2>&1)
grep -q 2secret <<<"$out" && fail "malformed dsn hides the password" "no password fragment" "$out" \
    || pass "a malformed dsn is reported without echoing any of it"
grep -q "not a valid libpq connection string" <<<"$out" && pass "malformed dsn message says what is wrong" \
    || fail "malformed dsn message" "not a valid libpq connection string" "$out"

echo "$T: $fails failed"
[[ $fails -eq 0 ]]
