#!/usr/bin/env bash
# test_mysql_snapshot.sh — table definitions (runtime/mysql/schema) and the
# consistent snapshot (runtime/mysql/snapshot) against a real MariaDB.
#
# Starts (or reuses) the harness's mariadb, works in its own databases, and
# drives build/tools/mysql_snapshot_dump:
#   - the schema: every type, lengths, precision/scale, fsp, unsigned, JSON
#     detected on MariaDB, composite primary-key order, an excluded column
#     absent, excluding a key column refused;
#   - every value of an all-types table with edge values, compared column by
#     column with what the mariadb client returns for the same rows (rendered
#     in the tool's text form by SQL; floats through %.17g);
#   - the same rows through the binlog decoder (build/tools/binlog_dump):
#     identical text, row for row;
#   - keyset chunking over a 3-column key (INT, latin1 VARCHAR, DECIMAL) and
#     over TIME/DATETIME/TIMESTAMP keys with a chunk of 7: every row exactly
#     once, same as one chunk; a table without a key streamed in one pass;
#   - the position: rows committed in another session after the snapshot
#     started are not in the copy, and the position lies between SHOW MASTER
#     STATUS before the snapshot and after those rows (GTID too);
#   - 300,000 rows copied with VmHWM bounded; the stop flag answered at once;
#   - the resync path (one table in its own read).
#
# Prints PASS/FAIL lines; exits non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${ZETL_BUILD:-$ROOT/build}
DUMP=$BUILD/tools/mysql_snapshot_dump
BLDUMP=$BUILD/tools/binlog_dump
T=test_mysql_snapshot

# shellcheck source=../lib/assert.sh
source "$ROOT/tests/lib/assert.sh"

for tool in mysql_snapshot_dump binlog_dump; do
    if [[ ! -x $BUILD/tools/$tool ]]; then
        (cd "$ROOT" && make -s "${BUILD#"$ROOT"/}/tools/$tool" >/dev/null 2>&1) ||
            { t_fail "$T" "build $tool" "a binary at $BUILD/tools/$tool" "make failed"; t_done; }
    fi
done

# shellcheck source=../lib/harness.sh
source "$ROOT/tests/lib/harness.sh"
harness_start mariadb || { t_fail "$T" "harness_start mariadb" "a running server" "start failed"; t_done; }

DB=zt_snap_$$
BG=zt_snapbig_$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mysql_snap.XXXXXX")
BGPID=
cleanup() {
    [[ -n $BGPID ]] && kill "$BGPID" 2>/dev/null && wait "$BGPID" 2>/dev/null
    zh_mysql -e "DROP DATABASE IF EXISTS $DB; DROP DATABASE IF EXISTS $BG" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap 'cleanup; harness_stop' EXIT

my() { zh_mysql --default-character-set=utf8mb4 -r "$@"; }
dump() { "$DUMP" "$@" 2>"$WORK/dump.err"; }

my <<SQL || { t_fail "$T" "create the test databases" "exit 0" "mariadb failed"; t_done; }
CREATE DATABASE $DB;
CREATE DATABASE $BG;
USE $DB;
CREATE TABLE ty (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  f FLOAT, d DOUBLE, dec1 DECIMAL(65,30), dec2 DECIMAL(10,2),
  b1 BIT(1), b10 BIT(10), b64 BIT(64),
  y YEAR, dt DATE, tm TIME, tm6 TIME(6), dtm DATETIME, dtm3 DATETIME(3), ts TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL,
  c CHAR(5), vc VARCHAR(20), lat VARCHAR(10) CHARACTER SET latin1, vb VARBINARY(10), bn BINARY(4),
  vcb VARCHAR(10) CHARACTER SET binary,
  tx TEXT, bl BLOB, e ENUM('a','b','c d'), s SET('x','y','z'), j JSON, g GEOMETRY, p POINT
);
CREATE TABLE ck (a INT, b VARCHAR(10) CHARACTER SET latin1, d DECIMAL(30,10), v INT, PRIMARY KEY (a, b, d));
CREATE TABLE tk (t TIME(6), dt DATETIME(6), ts TIMESTAMP(3), v INT, PRIMARY KEY (t, dt, ts));
CREATE TABLE nk (a VARCHAR(20), b INT);
CREATE TABLE pk2 (a INT, b VARCHAR(5), secret VARCHAR(20), PRIMARY KEY (b, a));
CREATE TABLE pos (id INT PRIMARY KEY, note VARCHAR(20));
CREATE TABLE gone (id INT PRIMARY KEY);
CREATE TABLE Mixed (a INT PRIMARY KEY);
CREATE TABLE mixed (x INT, y INT, PRIMARY KEY (y));
CREATE VIEW vw AS SELECT id FROM pos;
CREATE FUNCTION zr_text(s LONGTEXT CHARACTER SET utf8mb4) RETURNS LONGTEXT CHARACTER SET utf8mb4 DETERMINISTIC NO SQL
  RETURN IF(s IS NULL, 'NULL', CONCAT('"', REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(s, '\\\\', '\\\\\\\\'),
         '"', '\\\\"'), '\\n', '\\\\n'), '\\r', '\\\\r'), '\\t', '\\\\t'), '"'));
CREATE FUNCTION zr_bytes(b LONGBLOB) RETURNS LONGTEXT DETERMINISTIC NO SQL
  RETURN IF(b IS NULL, 'NULL', CONCAT('x''', LOWER(HEX(b)), ''''));
INSERT INTO ck SELECT seq % 7, CONCAT(CHAR(65 + seq % 26), IF(seq % 3 = 0, 'é', 'e'), seq % 5),
       seq / 1000 + 0.0000000001 * seq, seq FROM seq_1_to_2000;
INSERT INTO tk SELECT SEC_TO_TIME(CAST(seq AS SIGNED) * 3600 - 400000) + INTERVAL (seq % 3) * 0.25 SECOND,
       TIMESTAMP('2024-01-01') + INTERVAL seq % 4 DAY, TIMESTAMP('2024-01-01 00:00:01') + INTERVAL seq % 2 SECOND,
       seq FROM seq_1_to_500;
INSERT INTO nk SELECT CONCAT('r', seq % 100), seq % 100 FROM seq_1_to_1000;
INSERT INTO pk2 VALUES (1, 'x', 's1'), (2, 'x', 's2'), (1, 'a', 's3');
INSERT INTO pos VALUES (1, 'before');
USE $BG;
CREATE TABLE big (id BIGINT PRIMARY KEY, a VARCHAR(200), b DOUBLE, c DATETIME);
INSERT INTO big SELECT seq, REPEAT(CHAR(97 + seq % 26), 200), seq / 7, TIMESTAMP('2020-01-01') + INTERVAL seq SECOND
  FROM seq_1_to_300000;
CREATE TABLE nopk (a VARCHAR(200), b INT);
CREATE TABLE ty (other INT);
INSERT INTO nopk SELECT REPEAT('y', 200), seq FROM seq_1_to_300000;
SQL

# ---- the all-types rows, written in a binlog file of their own -----------------------------------
BINLOG_FILE=$(my -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
my "$DB" <<'SQL'
SET SESSION sql_mode = '';
SET SESSION time_zone = '+00:00';
INSERT INTO ty VALUES
(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
 -3.40282e38, -1.7976931348623157e308, '-99999999999999999999999999999999999.999999999999999999999999999999', -12.34,
 b'0', b'0000000101', b'0', 1901, '1000-01-01', '-838:59:59', '-838:59:59.000000', '1000-01-01 00:00:00',
 '1000-01-01 00:00:00.000', '1970-01-01 00:00:01', '1970-01-01 00:00:01.000000',
 '', '', '', '', '', '', '', '', 'a', '', '{}', ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(-1.5 2.25)')),
(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
 3.40282e38, 1.7976931348623157e308, '99999999999999999999999999999999999.999999999999999999999999999999', 0.5,
 b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111', 2155, '9999-12-31',
 '838:59:59', '838:59:59.999999', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '2038-01-19 03:14:07',
 '2038-01-19 03:14:07.999999',
 'abc', 'héllo wörld 日本 🎉', '€é', x'00FF00', x'0001', x'41004200', 'line1\nline2\ttab "q" \\ \r', x'000102FF',
 'c d', 'x,z', '{"a": [1, 2.5, "x"], "b": null, "u": "é🎉"}', ST_GeomFromText('LINESTRING(0 0,1 1)'),
 ST_GeomFromText('POINT(0 0)')),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.1, 0, 0,
 b'0', b'0', b'0', 0, '0000-00-00', '00:00:00', '-00:00:00.5', '0000-00-00 00:00:00', '2024-00-10 00:00:00',
 '0000-00-00 00:00:00', '0000-00-00 00:00:00',
 'a', 'x', 'é', 'x', 'x', 'x', 'x', 'x', '', '', '[]', NULL, NULL),
(5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.17549e-38, 4.9e-324, 0.000000000000000000000000000001, -0.01,
 b'1', b'1', b'1', 2000, '2024-02-29', '123:04:05', '-1:02:03.000100', '2024-02-29 10:00:00',
 '2024-02-29 10:00:00.5', '2024-02-29 10:00:00', '2024-02-29 10:00:00.5',
 'ab ', 'a ', 'ÿ', 'ab', 'ab', 'a', REPEAT('x', 65535), REPEAT(x'00', 65535), 'b', 'y', '"str"', NULL, NULL);
SQL
my -e "FLUSH BINARY LOGS" >/dev/null

# ---- schema ------------------------------------------------------------------------------------------------
dump -d "$DB" -s -X "$DB.pk2.secret" >"$WORK/schema.txt"
t_eq "$T" "schema load exits 0" "0" "$?"
col() { grep -F "COL $DB.$1 " "$WORK/schema.txt" | sed 's/^COL [^ ]* //'; }
expect_col() { # table.column expected-attributes
    local saw; saw=$(col "$1")
    t_eq "$T" "schema: $1" "$2" "$saw"
}
expect_col ty.id "type=int32 length=-1 precision=0 scale=0 nullable=0 unsigned=0 pk=1 source_type=int(11)"
expect_col ty.ti "type=int16 length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=tinyint(4)"
expect_col ty.siu "type=int32 length=-1 precision=0 scale=0 nullable=1 unsigned=1 pk=0 source_type=smallint(5) unsigned"
expect_col ty.iu "type=int64 length=-1 precision=0 scale=0 nullable=1 unsigned=1 pk=0 source_type=int(10) unsigned"
expect_col ty.biu "type=uint64 length=-1 precision=0 scale=0 nullable=1 unsigned=1 pk=0 source_type=bigint(20) unsigned"
expect_col ty.f "type=float32 length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=float"
expect_col ty.d "type=float64 length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=double"
expect_col ty.dec1 "type=decimal length=-1 precision=65 scale=30 nullable=1 unsigned=0 pk=0 source_type=decimal(65,30)"
expect_col ty.b10 "type=bit length=10 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=bit(10)"
expect_col ty.y "type=year length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=year(4)"
expect_col ty.dt "type=date length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=date"
expect_col ty.tm6 "type=time length=-1 precision=0 scale=6 nullable=1 unsigned=0 pk=0 source_type=time(6)"
expect_col ty.dtm3 "type=timestamp length=-1 precision=0 scale=3 nullable=1 unsigned=0 pk=0 source_type=datetime(3)"
expect_col ty.ts6 "type=timestamptz length=-1 precision=0 scale=6 nullable=1 unsigned=0 pk=0 source_type=timestamp(6)"
expect_col ty.c "type=char length=5 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=char(5)"
expect_col ty.lat "type=varchar length=10 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=varchar(10)"
expect_col ty.vb "type=bytes length=10 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=varbinary(10)"
expect_col ty.bn "type=bytes length=4 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=binary(4)"
expect_col ty.vcb "type=bytes length=10 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=varbinary(10)"
expect_col ty.tx "type=text length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=text"
expect_col ty.bl "type=bytes length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=blob"
expect_col ty.e "type=enum length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=enum('a','b','c d')"
expect_col ty.s "type=set length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=set('x','y','z')"
expect_col ty.j "type=json length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=longtext"
expect_col ty.g "type=geometry length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=geometry"
expect_col ty.p "type=geometry length=-1 precision=0 scale=0 nullable=1 unsigned=0 pk=0 source_type=point"
t_eq "$T" "schema: ty has 39 columns in ordinal order" \
    "id ti tiu si siu mi miu i iu bi biu f d dec1 dec2 b1 b10 b64 y dt tm tm6 dtm dtm3 ts ts6 c vc lat vb bn vcb tx bl e s j g p" \
    "$(grep -F "COL $DB.ty." "$WORK/schema.txt" | sed "s/^COL $DB\.ty\.\([^ ]*\) .*/\1/" | tr '\n' ' ' | sed 's/ $//')"
t_eq "$T" "schema: composite key (b, a) of pk2 in key order" "a:2 b:1" \
    "$(grep -F "COL $DB.pk2." "$WORK/schema.txt" | sed "s/^COL $DB\.pk2\.\([^ ]*\) .* pk=\([0-9]*\) .*/\1:\2/" | tr '\n' ' ' | sed 's/ $//')"
t_match "$T" "schema: pk2 has npk=2 and the excluded column is absent" "TABLE $DB.pk2 npk=2 ncols=2" \
    "$(grep -F "TABLE $DB.pk2" "$WORK/schema.txt")"
t_eq "$T" "schema: the excluded column secret is not listed" "" "$(grep -F "pk2.secret" "$WORK/schema.txt")"
t_eq "$T" "schema: a table without a key has npk=0" "TABLE $DB.nk npk=0 ncols=2" "$(grep -F "TABLE $DB.nk " "$WORK/schema.txt")"
t_eq "$T" "schema: views are not tables" "" "$(grep -F "TABLE $DB.vw" "$WORK/schema.txt")"
t_eq "$T" "schema: Mixed and mixed are two tables (names compared exactly)" \
    "TABLE $DB.Mixed npk=1 ncols=1|TABLE $DB.mixed npk=1 ncols=2" \
    "$(grep -E "^TABLE $DB\.[Mm]ixed " "$WORK/schema.txt" | LC_ALL=C sort | tr '\n' '|' | sed 's/|$//')"
t_eq "$T" "schema: a same-named table of another, unselected database stays apart" \
    "TABLE $DB.ty npk=1 ncols=39" "$(dump -d "$BG" -d "$DB" -I "$DB.ty" -s | grep '^TABLE')"
t_eq "$T" "schema: include/exclude selection (-I ck only)" "TABLE $DB.ck npk=3 ncols=4" \
    "$(dump -d "$DB" -I "$DB.ck" -s | grep '^TABLE')"
out=$(dump -d "$DB" -s -X "$DB.pk2.b"; echo "rc=$?")
t_match "$T" "schema: excluding a key column is refused with the reason" \
    "part of the primary key.*narrow the pattern" "$(cat "$WORK/dump.err") ${out##*$'\n'}"

# ---- values against the mariadb client ------------------------------------------------------------------
dump -d "$DB" -I "$DB.ty" -T >"$WORK/ty.tool"
t_eq "$T" "snapshot of ty exits 0" "0" "$?"
grep '^TSV' "$WORK/ty.tool" >"$WORK/ty.tsv"
q_int() { echo "IFNULL(CAST(\`$1\` AS CHAR), 'NULL')"; }
q_yr() { echo "IFNULL(CAST(\`$1\` + 0 AS CHAR), 'NULL')"; }    # YEAR 0000 is 0, as the decoder says
q_dec() { echo "IF(\`$1\` IS NULL, 'NULL', CONCAT('\"', \`$1\`, '\"'))"; }
q_flt() { echo "IFNULL(CONCAT('F', CAST(\`$1\` AS DOUBLE)), 'NULL')"; }
q_bit() { echo "IF(\`$1\` IS NULL, 'NULL', CONCAT('\"', LPAD(BIN(\`$1\`), $2, '0'), '\"'))"; }
q_date() { echo "IF(\`$1\` IS NULL OR YEAR(\`$1\`) = 0 OR MONTH(\`$1\`) = 0 OR DAYOFMONTH(\`$1\`) = 0, 'NULL', CONCAT('\"', \`$1\`, '$2\"'))"; }
q_txt() { echo "zr_text(\`$1\`)"; }
q_byt() { echo "zr_bytes(\`$1\`)"; }
q_geo() { echo "zr_bytes(ST_AsBinary(\`$1\`))"; }
COLS=(id:int ti:int tiu:int si:int siu:int mi:int miu:int i:int iu:int bi:int biu:int f:flt d:flt dec1:dec dec2:dec
      b1:bit:1 b10:bit:10 b64:bit:64 y:yr dt:date tm:dec tm6:dec dtm:date dtm3:date ts:ts ts6:ts c:txt vc:txt lat:txt
      vb:byt bn:byt vcb:byt tx:txt bl:byt e:txt s:txt j:txt g:geo p:geo)
sel="'TSV $DB.ty'"
for spec in "${COLS[@]}"; do
    IFS=: read -r name kind arg <<<"$spec"
    case $kind in
    ts) e=$(q_date "$name" "+00") ;;
    date) e=$(q_date "$name" "") ;;
    *) e=$("q_$kind" "$name" "${arg:-}") ;;
    esac
    sel+=", $e"
done
my "$DB" -e "SET time_zone = '+00:00'; SELECT CONCAT_WS('\t', $sel) FROM ty ORDER BY id" |
    gawk -F'\t' 'BEGIN { OFS = "\t" } { for (i = 1; i <= NF; i++) if ($i ~ /^F/) $i = sprintf("%.17g", substr($i, 2) + 0); print }' \
    >"$WORK/ty.client"
t_eq "$T" "the tool and the client see 5 rows of ty" "5 5" "$(wc -l <"$WORK/ty.tsv") $(wc -l <"$WORK/ty.client")"
for k in "${!COLS[@]}"; do
    name=${COLS[$k]%%:*}
    f=$((k + 2))
    exp=$(cut -f"$f" "$WORK/ty.client" | tr '\n' '|')
    saw=$(cut -f"$f" "$WORK/ty.tsv" | tr '\n' '|')
    if [[ $exp == "$saw" ]]; then
        t_pass "$T" "values of ty.$name equal the mariadb client's (5 rows)"
    else
        t_fail "$T" "values of ty.$name equal the mariadb client's" "$exp" "$saw"
    fi
done
t_match "$T" "latin1 € and é arrive as UTF-8" '"€é"' "$(cut -f30 "$WORK/ty.tsv" | sed -n 2p)"
t_match "$T" "4-byte UTF-8 kept (utf8mb4)" '日本 🎉' "$(cut -f29 "$WORK/ty.tsv" | sed -n 2p)"
t_eq "$T" "NUL bytes kept in VARBINARY" "x'00ff00'" "$(cut -f31 "$WORK/ty.tsv" | sed -n 2p)"
t_eq "$T" "65,535 NUL bytes of a BLOB kept whole" "131074" "$(cut -f35 "$WORK/ty.tsv" | sed -n 5p | wc -c)"
t_eq "$T" "zero dates become NULL as in the binlog decoder" "NULL NULL NULL NULL NULL" \
    "$(sed -n 4p "$WORK/ty.tsv" | cut -f21,24,25,26,27 | tr '\t' ' ')"

# ---- the same rows through the binlog decoder ---------------------------------------------------------
if "$BLDUMP" "$ZH_MY_DATADIR/$BINLOG_FILE" >"$WORK/binlog.txt" 2>"$WORK/binlog.err"; then
    grep -F "INSERT $DB.ty " "$WORK/binlog.txt" | sed 's/^INSERT /ROW /' >"$WORK/ty.binlog"
    dump -d "$DB" -I "$DB.ty" | grep '^ROW' >"$WORK/ty.rows"
    t_eq "$T" "binlog decoder saw the 5 inserted rows" "5" "$(wc -l <"$WORK/ty.binlog")"
    if cmp -s "$WORK/ty.binlog" "$WORK/ty.rows"; then
        t_pass "$T" "snapshot and binlog decoder produce identical text for every value"
    else
        t_fail "$T" "snapshot and binlog decoder produce identical text" \
            "$(diff "$WORK/ty.binlog" "$WORK/ty.rows" | grep '^<' | head -1 | cut -c1-250)" \
            "$(diff "$WORK/ty.binlog" "$WORK/ty.rows" | grep '^>' | head -1 | cut -c1-250)"
    fi
else
    t_fail "$T" "binlog_dump decodes $BINLOG_FILE" "exit 0" "$(head -c 300 "$WORK/binlog.err")"
fi

# ---- keyset chunks ------------------------------------------------------------------------------------------
dump -d "$DB" -I "$DB.ck" -I "$DB.tk" -k 7 -P >"$WORK/k7.txt"
t_eq "$T" "chunked snapshot (chunk 7) exits 0" "0" "$?"
dump -d "$DB" -I "$DB.ck" -I "$DB.tk" -k 100000 >"$WORK/kall.txt"
t_eq "$T" "chunk 7 over (INT, latin1 VARCHAR, DECIMAL): 2000 rows" "2000" "$(grep -c "^ROW $DB.ck " "$WORK/k7.txt")"
t_eq "$T" "chunk 7 over (TIME, DATETIME, TIMESTAMP): 500 rows" "500" "$(grep -c "^ROW $DB.tk " "$WORK/k7.txt")"
t_eq "$T" "chunk 7: no row twice" "0" "$(grep '^ROW' "$WORK/k7.txt" | sort | uniq -d | wc -l)"
if cmp -s <(grep '^ROW' "$WORK/k7.txt") <(grep '^ROW' "$WORK/kall.txt"); then
    t_pass "$T" "chunk 7 yields the same rows in the same key order as one chunk"
else
    t_fail "$T" "chunk 7 equals one chunk" "identical ROW lines" "$(diff <(grep '^ROW' "$WORK/k7.txt") <(grep '^ROW' "$WORK/kall.txt") | head -2)"
fi
t_eq "$T" "every key of ck copied exactly once (vs the client)" \
    "$(my "$DB" -e "SELECT v FROM ck ORDER BY v")" \
    "$(grep "^ROW $DB.ck " "$WORK/k7.txt" | sed 's/.*, \([0-9]*\)\]$/\1/' | sort -n)"
t_eq "$T" "progress after each chunk, last one copied == estimated" "PROGRESS $DB.ck 2000 2000" \
    "$(grep "^PROGRESS $DB.ck " "$WORK/k7.txt" | tail -1)"
t_match "$T" "progress reported per chunk (≥ 285 lines for 2000 rows)" "^(28[5-9]|29[0-9]|[3-9][0-9][0-9])$" \
    "$(grep -c "^PROGRESS $DB.ck " "$WORK/k7.txt")"

dump -d "$DB" -I "$DB.nk" -k 7 >"$WORK/nk.txt"
t_eq "$T" "table without a key: every row once in one pass" \
    "$(my "$DB" -e "SELECT CONCAT('ROW $DB.nk [\"', a, '\", ', b, ']') FROM nk" | sort)" \
    "$(grep '^ROW' "$WORK/nk.txt" | sort)"

# ---- position: rows committed after the snapshot started are not in it ------------------------------------
before=$(my -e "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' ':')
gtid_before=$(my -e "SELECT @@gtid_binlog_pos")
rm -f "$WORK/go"
dump -d "$DB" -I "$DB.pos" -I "$DB.gone" -W "$WORK/go" >"$WORK/pos.txt" &
BGPID=$!
for _ in $(seq 100); do grep -q '^POSITION' "$WORK/pos.txt" 2>/dev/null && break; sleep 0.1; done
my "$DB" -e "INSERT INTO pos VALUES (2, 'after'); UPDATE pos SET note = 'changed' WHERE id = 1"
after=$(my -e "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' ':')
my "$DB" -e "DROP TABLE gone"
touch "$WORK/go"
wait "$BGPID"
t_eq "$T" "snapshot with concurrent writes exits 0" "0" "$?"
BGPID=
t_eq "$T" "rows committed after the snapshot started are not in the copy" "ROW $DB.pos [1, \"before\"]" \
    "$(grep '^ROW' "$WORK/pos.txt")"
pos=$(sed -n 's/^POSITION \([^ ]*\).*/\1/p' "$WORK/pos.txt")
t_eq "$T" "snapshot position is SHOW MASTER STATUS before the snapshot (no writes in between)" "$before" "$pos"
t_ne "$T" "the later writes moved the binlog past the snapshot position" "$pos" "$after"
if [[ ${pos%%:*} == "${after%%:*}" ]] && ((${pos##*:} < ${after##*:})); then
    t_pass "$T" "snapshot position $pos < position after the writes $after"
else
    t_fail "$T" "snapshot position before the writes" "< $after" "$pos"
fi
t_eq "$T" "a table dropped after the snapshot began is reported, and the rest is copied" "DROPPED $DB.gone" \
    "$(grep '^DROPPED' "$WORK/pos.txt")"
t_match "$T" "mode is exact on MariaDB, GTID from BINLOG_GTID_POS" "gtid=${gtid_before} mode=exact" "$(grep '^POSITION' "$WORK/pos.txt")"

# ---- 300,000 rows: memory bounded; stop answered ----------------------------------------------------------------
out=$(dump -d "$BG" -I "$BG.big" -q | tail -1)
t_match "$T" "300,000 rows copied in key-order chunks" "^DONE rows=300000 " "$out"
hwm=${out##*hwm_kb=}
if [[ $hwm =~ ^[0-9]+$ ]] && ((hwm < 40000)); then
    t_pass "$T" "memory bounded while copying 300,000 rows (VmHWM ${hwm} kB < 40000 kB; the data is ~70 MB)"
else
    t_fail "$T" "memory bounded while copying 300,000 rows" "VmHWM < 40000 kB" "$hwm"
fi
out=$(dump -d "$BG" -I "$BG.nopk" -q | tail -1)
hwm=${out##*hwm_kb=}
t_match "$T" "300,000 rows without a key streamed in one pass" "^DONE rows=300000 " "$out"
if [[ $hwm =~ ^[0-9]+$ ]] && ((hwm < 40000)); then
    t_pass "$T" "one-pass stream is not buffered (VmHWM ${hwm} kB < 40000 kB)"
else
    t_fail "$T" "one-pass stream is not buffered" "VmHWM < 40000 kB" "$hwm"
fi
for tb in big nopk; do
    out=$(dump -d "$BG" -I "$BG.$tb" -q -S 1000 | tail -1)
    ms=$(sed -n 's/^STOPPED rc=-2 ms=\([0-9]*\).*/\1/p' <<<"$out")
    if [[ -n $ms ]] && ((ms < 1000)); then
        t_pass "$T" "stop flag answered within a second while copying $tb (${ms} ms)"
    else
        t_fail "$T" "stop flag answered within a second while copying $tb" "STOPPED rc=-2 ms<1000" "$out"
    fi
done

# ---- resync path: one table in its own consistent read --------------------------------------------------------
out=$(dump -d "$DB" -t "$DB.ck" -q)
t_match "$T" "resync of one table: its rows and an exact position" \
    "POSITION [^ ]+:[0-9]+ .*mode=exact.*COPIED $DB.ck 2000" "$(tr '\n' ' ' <<<"$out")"
dump -d "$DB" -t "$DB.nothere" -q >/dev/null
t_eq "$T" "resync of a missing table fails" "1" "$?"

t_done
