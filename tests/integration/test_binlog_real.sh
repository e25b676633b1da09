#!/usr/bin/env bash
# test_binlog_real.sh — the binlog decoder against a real MariaDB.
#
# A table with every MariaDB column type gets edge rows (minimum, maximum,
# NULL, empty/zero, unicode and NUL bytes, cp1252 latin1), then updates in a
# new binlog file (FLUSH BINARY LOGS) and deletes. binlog_dump decodes the
# server's binlog files from its datadir, one line per value, and every value
# is compared with what SELECT returns through the mariadb client, converted
# to the same text form in SQL. Then a 1,000,000-row transaction is decoded
# with bounded memory (max RSS), and its decode speed is reported.
set -uo pipefail
cd "$(dirname "$0")/../.."
T=test_binlog_real
BUILD=${ZETL_BUILD:-build}
DUMP=$BUILD/tools/binlog_dump
. tests/lib/assert.sh
. tests/lib/harness.sh

if [[ ! -x $DUMP ]]; then
    make -s "$DUMP" >/dev/null 2>&1 || { t_fail $T "build binlog_dump" "$DUMP" "make failed"; t_done; }
fi
harness_start mariadb || { t_fail $T "start MariaDB" "harness_start mariadb to succeed" "it failed"; t_done; }

work=$(mktemp -d)
trap 'rm -rf "$work"; harness_stop' EXIT
DB=zbl_$$
my() { zh_mysql --default-character-set=utf8mb4 "$@"; }

# ---- the table: name | type | how SQL renders it like binlog_dump does -------------
# kinds: int (number), dec (quoted decimal text), str (quoted text, escaped),
# hex (x'..' bytes), tmp (quoted temporal; zero dates are NULL), ts (UTC "+00"),
# bitN (N binary digits), year, geo (WKB)
cols=(
  "id|INT PRIMARY KEY|int"
  "c_tinyint|TINYINT|int" "c_utinyint|TINYINT UNSIGNED|int"
  "c_smallint|SMALLINT|int" "c_usmallint|SMALLINT UNSIGNED|int"
  "c_mediumint|MEDIUMINT|int" "c_umediumint|MEDIUMINT UNSIGNED|int"
  "c_int|INT|int" "c_uint|INT UNSIGNED|int"
  "c_bigint|BIGINT|int" "c_ubigint|BIGINT UNSIGNED|int"
  "c_bool|BOOLEAN|int"
  "c_float|FLOAT|int" "c_double|DOUBLE|int"
  "c_dec|DECIMAL(65,30)|dec" "c_dec2|DECIMAL(10,2)|dec" "c_dec0|DECIMAL(18,0)|dec" "c_dec38|DECIMAL(38,38)|dec"
  "c_udec|DECIMAL(12,4) UNSIGNED|dec"
  "c_bit1|BIT(1)|bit1" "c_bit10|BIT(10)|bit10" "c_bit64|BIT(64)|bit64"
  "c_year|YEAR|year"
  "c_date|DATE|tmp" "c_time|TIME|tmp" "c_time1|TIME(1)|tmp" "c_time3|TIME(3)|tmp" "c_time6|TIME(6)|tmp"
  "c_dt|DATETIME|tmp" "c_dt2|DATETIME(2)|tmp" "c_dt4|DATETIME(4)|tmp" "c_dt6|DATETIME(6)|tmp"
  "c_ts|TIMESTAMP NULL DEFAULT NULL|ts" "c_ts3|TIMESTAMP(3) NULL DEFAULT NULL|ts" "c_ts6|TIMESTAMP(6) NULL DEFAULT NULL|ts"
  "c_char|CHAR(10)|str" "c_varchar|VARCHAR(300)|str" "c_mb3|VARCHAR(20) CHARACTER SET utf8mb3|str"
  "c_latin1|VARCHAR(20) CHARACTER SET latin1|str" "c_clatin1|CHAR(5) CHARACTER SET latin1|str"
  "c_ascii|VARCHAR(10) CHARACTER SET ascii|str" "c_cp1251|VARCHAR(10) CHARACTER SET cp1251|str"
  "c_utf16|VARCHAR(10) CHARACTER SET utf16|str"
  "c_tinytext|TINYTEXT|str" "c_text|TEXT|str" "c_mediumtext|MEDIUMTEXT|str" "c_longtext|LONGTEXT|str"
  "c_ltext|TEXT CHARACTER SET latin1|str"
  "c_binary|BINARY(4)|hex" "c_varbinary|VARBINARY(20)|hex" "c_tinyblob|TINYBLOB|hex" "c_blob|BLOB|hex"
  "c_mediumblob|MEDIUMBLOB|hex" "c_longblob|LONGBLOB|hex"
  "c_enum|ENUM('a','b','c d','é')|str" "c_set|SET('x','y','z','ü')|str"
  "c_json|JSON|str" "c_geom|GEOMETRY|geo" "c_point|POINT|geo"
  "c_inet6|INET6|hex" "c_uuid|UUID|hex"
)

sqlexpr() {     # sqlexpr COLUMN KIND → SQL rendering the value as binlog_dump prints it
    local c=$1 k=$2
    case $k in
    int)  echo "IFNULL(CAST($c AS CHAR),'NULL')" ;;
    dec)  echo "IFNULL(CONCAT('\"',CAST($c AS CHAR),'\"'),'NULL')" ;;
    str)  echo "IFNULL(CONCAT('\"',REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(CONVERT($c USING utf8mb4),'\\\\','\\\\\\\\'),'\"','\\\\\"'),'\\n','\\\\n'),'\\r','\\\\r'),'\\t','\\\\t'),CHAR(0 USING utf8mb4),'\\\\x00'),'\"'),'NULL')" ;;
    hex)  echo "IFNULL(CONCAT('x''',LOWER(HEX(CAST($c AS BINARY))),''''),'NULL')" ;;
    tmp)  echo "IF($c IS NULL OR CAST($c AS CHAR) LIKE '0000-00-00%','NULL',CONCAT('\"',CAST($c AS CHAR),'\"'))" ;;
    ts)   echo "IF($c IS NULL OR CAST($c AS CHAR) LIKE '0000-00-00%','NULL',CONCAT('\"',CAST($c AS CHAR),'+00\"'))" ;;
    bit*) echo "IFNULL(CONCAT('\"',LPAD(BIN($c),${k#bit},'0'),'\"'),'NULL')" ;;
    year) echo "IFNULL(CAST($c+0 AS CHAR),'NULL')" ;;
    geo)  echo "IFNULL(CONCAT('x''',LOWER(HEX(ST_AsWKB($c))),''''),'NULL')" ;;
    esac
}

ddl="CREATE TABLE $DB.alltypes ("
sel=""
for spec in "${cols[@]}"; do
    IFS='|' read -r name type kind <<<"$spec"
    ddl+="$name $type,"
    part="SELECT CONCAT('@OP@ $DB.alltypes ', id, ' $name ', $(sqlexpr "$name" "$kind")) FROM $DB.alltypes @WHERE@"
    sel+="${sel:+ UNION ALL }$part"
done
ddl="${ddl%,}) DEFAULT CHARSET=utf8mb4"

expected() {    # expected OP WHERE-CLAUSE → sorted value lines from SELECT
    local q=${sel//@OP@/$1}
    q=${q//@WHERE@/$2}
    my --raw -e "SET time_zone='+00:00'; $q" | LC_ALL=C sort      # --raw: no batch-mode escaping
}

out=$(my -e "CREATE DATABASE $DB; $ddl" 2>&1)
t_eq $T "create a table with every MariaDB type" "" "$out"
start_file=$(my -e "SHOW MASTER STATUS" | cut -f1)

out=$(my 2>&1 <<SQL
SET time_zone='+00:00';
SET sql_mode='NO_ENGINE_SUBSTITUTION';
INSERT INTO $DB.alltypes VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0,
  -0.375, -1234567.5,
  '-99999999999999999999999999999999999.999999999999999999999999999999', -99999999.99, -999999999999999999, -0.99999999999999999999999999999999999999,
  0,
  b'0', b'0000000000', b'0000000000000000000000000000000000000000000000000000000000000000',
  1901, '1000-01-01', '-838:59:59', '-838:59:59.0', '-00:00:00.001', '-838:59:59.000000',
  '1000-01-01 00:00:00', '1000-01-01 00:00:00.00', '1000-01-01 00:00:00.0001', '1000-01-01 00:00:00.000000',
  '1970-01-01 00:00:01', '1970-01-01 00:00:01.000', '1970-01-01 00:00:01.000001',
  'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm',
  x'00000000', x'00', x'00', x'00', x'00', x'00',
  'a', 'x', '[]', ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-1.5 2.25)'), '::1', '00000000-0000-0000-0000-000000000000'),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, 1,
  1.5, 1234567.5,
  '99999999999999999999999999999999999.999999999999999999999999999999', 99999999.99, 999999999999999999, 0.99999999999999999999999999999999999999,
  99999999.9999,
  b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111',
  2155, '9999-12-31', '838:59:59', '838:59:59.9', '838:59:59.999', '838:59:59.999999',
  '9999-12-31 23:59:59', '9999-12-31 23:59:59.99', '9999-12-31 23:59:59.9999', '9999-12-31 23:59:59.999999',
  '2038-01-19 03:14:07', '2038-01-19 03:14:07.999', '2038-01-19 03:14:07.999999',
  REPEAT('z', 10), REPEAT('é', 300), REPEAT('€', 20), REPEAT(_latin1 x'ff', 20), _latin1 x'8081', REPEAT('~', 10),
  'Жизнь', '😀😀😀', REPEAT('t', 255), REPEAT('😀', 1000), REPEAT('m', 70000), REPEAT('L', 100000), REPEAT(_latin1 x'e9', 500),
  x'ffffffff', REPEAT(x'ff', 20), REPEAT(x'ab', 255), REPEAT(x'cd', 65535), REPEAT(x'ef', 70000), REPEAT(x'01', 100000),
  'é', 'x,y,z,ü', '{"k": [1, 2.5, "s", null, true], "o": {"n": -1}}',
  ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))'), ST_GeomFromText('POINT(1e300 -1e-300)'), '2001:db8::1', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL),
 (4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0', b'0', 0,
  '0000-00-00', '00:00:00', '00:00:00.0', '00:00:00.000', '00:00:00.000000',
  '0000-00-00 00:00:00', '0000-00-00 00:00:00.00', '0000-00-00 00:00:00.0000', '0000-00-00 00:00:00.000000',
  '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '0000-00-00 00:00:00.000000',
  '', '', '', '', '', '', '', '', '', '', '', '', '',
  '', '', '', '', '', '',
  '', '', '{}', NULL, NULL, '::', '123e4567-e89b-12d3-a456-426655440000'),
 (5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 1, 0.125, 3.25,
  '0.000000000000000000000000000001', 0.01, 1, 0.00000000000000000000000000000000000001, 0.0001,
  b'1', b'0101010101', b'1000000000000000000000000000000000000000000000000000000000000001', 2000,
  '2024-02-29', '100:00:00', '-12:34:56.7', '01:02:03.004', '-00:00:01.000001',
  '2024-02-29 12:00:00', '2024-02-29 12:00:00.5', '2024-02-29 12:00:00.0005', '2024-02-29 12:00:00.000005',
  '2024-02-29 12:00:00', '2024-02-29 12:00:00.1', '2024-02-29 12:00:00.000009',
  'quo"te', 'back\\\\slash\ttab\nnl\rcr', 'ÿ', _latin1 x'80e99f', 'nul', 'ascii', 'Привет', 'ñ€',
  CONCAT('with', CHAR(0), 'nul'), 'text "q"', 'mid', 'long', _latin1 x'a9',
  x'00010000', x'0000ff00', x'00', CONCAT('blob', CHAR(0), 'nul'), x'6d00', x'00',
  'c d', 'ü', '"just a string"', ST_GeomFromText('LINESTRING(0 0, 1 1, 2 3)'),
  ST_GeomFromText('POINT(3 4)'), 'ffff::1', UUID());
SQL
)
t_eq $T "insert edge rows (min, max, NULL, zero/empty, unicode, NUL bytes)" "" "$(tail -c 300 <<<"$out")"
expected INSERT "" >"$work/exp_insert"

# rotation between the inserts and the updates
my -e "FLUSH BINARY LOGS"
out=$(my 2>&1 <<SQL
SET time_zone='+00:00';
UPDATE $DB.alltypes SET c_varchar = CONCAT('upd ', IFNULL(c_varchar, '')), c_int = IFNULL(c_int, 0) + 1,
       c_dt6 = '2025-01-02 03:04:05.060708', c_blob = x'00ff' WHERE id IN (1, 3, 5);
SQL
)
t_eq $T "update rows in the new binlog file" "" "$out"
expected UPDATE "WHERE id IN (1, 3, 5)" >"$work/exp_update"
expected DELETE "WHERE id IN (2, 4)" >"$work/exp_delete"
my -e "DELETE FROM $DB.alltypes WHERE id IN (2, 4)"
end_status=$(my -e "SHOW MASTER STATUS")
end_file=$(cut -f1 <<<"$end_status"); end_pos=$(cut -f2 <<<"$end_status")

files=()
while read -r f _; do files+=("$ZH_MY_DATADIR/$f"); done < <(my -e "SHOW BINARY LOGS" | awk -v s="$start_file" '$1 >= s')
t_ok $T "binlog files readable in the datadir (${#files[@]} files from $start_file)" test -r "${files[0]}"

"$DUMP" -v "${files[@]}" >"$work/values" 2>"$work/err"
rc=$?
t_eq $T "binlog_dump decodes every file (exit 0)" "0" "$rc$(head -c 300 "$work/err")"
sed -i 's/ $//' "$work/values"

compare() {     # compare OP FILE: value by value
    local op=$1 exp=$2
    grep "^$op $DB.alltypes " "$work/values" | LC_ALL=C sort >"$work/act_$op"
    local nexp nact
    nexp=$(wc -l <"$exp"); nact=$(wc -l <"$work/act_$op")
    t_eq $T "$op: as many decoded values as SELECT returns" "$nexp" "$nact"
    awk -v T=$T -v OP="$op" '
        # key: OP db.t KEY COLUMN; value: the rest
        { k = $1 " " $2 " " $3 " " $4; v = substr($0, length(k) + 2) }
        FNR == NR { want[k] = v; order[++n] = k; next }
        { got[k] = v }
        END {
            bad = 0
            for (i = 1; i <= n; i++) {
                k = order[i]; split(k, p, " ")
                col = p[4]; cols[col]++
                if (!(k in got)) { printf "FAIL %s: %s %s id=%s — expected %.200s, saw no value\n", T, OP, col, p[3], want[k]; badc[col]++; bad++ }
                else if (got[k] != want[k]) { printf "FAIL %s: %s %s id=%s — expected %.200s, saw %.200s\n", T, OP, col, p[3], want[k], got[k]; badc[col]++; bad++ }
            }
            for (c in cols) if (!(c in badc)) printf "PASS %s: %s %s matches SELECT in all %d rows\n", T, OP, c, cols[c]
        }' "$exp" "$work/act_$op" | LC_ALL=C sort
}
compare INSERT "$work/exp_insert" | tee "$work/cmp_insert"
compare UPDATE "$work/exp_update" | tee "$work/cmp_update"
compare DELETE "$work/exp_delete" | tee "$work/cmp_delete"
for f in insert update delete; do
    T_PASSED=$((T_PASSED + $(grep -c '^PASS' "$work/cmp_$f")))
    T_FAILED=$((T_FAILED + $(grep -c '^FAIL' "$work/cmp_$f")))
done

# positions: commits after the rotation name the new file; the last one ends
# where SHOW MASTER STATUS says the binlog ends.
"$DUMP" -t "${files[@]}" >"$work/trace" 2>&1
last_commit=$(grep '^COMMIT' "$work/trace" | tail -1 | awk '{print $2}')
# (SHOW MASTER STATUS may be later: MariaDB appends a BINLOG_CHECKPOINT event
# once the previous file's transactions are durable)
last_xid_end=$(my -e "SHOW BINLOG EVENTS IN '$end_file'" | awk -F'\t' '$3 == "Xid" { p = $5 } END { print p }')
t_eq $T "last commit position = End_log_pos of the last Xid event (SHOW BINLOG EVENTS)" "$end_file:$last_xid_end" "$last_commit"
t_ok $T "last commit position within SHOW MASTER STATUS ($end_file:$end_pos)" test "${last_xid_end:-0}" -le "$end_pos"
# (this test's UPDATE: another program's writes may share the server's binlog)
upd_commit=$(grep -A1 "^UPDATE $DB\\.alltypes" "$work/trace" | grep '^COMMIT' | head -1 | awk '{print $2}')
t_match $T "UPDATE committed in the file after FLUSH BINARY LOGS" "^$end_file:[0-9]+$" "${upd_commit:-none}"
gtid_now=$(my -e "SELECT @@gtid_binlog_pos")
t_match $T "GTID state of the last commit = @@gtid_binlog_pos" "gtid=$gtid_now( |$)" "$(grep '^COMMIT' "$work/trace" | tail -1)"
ddl_line=$(grep -m1 "^DDL CREATE_TABLE: CREATE TABLE $DB.alltypes" "$work/trace")
t_ne $T "CREATE TABLE reported as a schema change" "" "$ddl_line"
zero_warn=$(grep -c '^WARN .*zero' "$work/trace")
t_ne $T "zero dates warned about" "0" "$zero_warn"

# the same bytes as a stream, cut into 64 KiB reads, decode identically
"$DUMP" -v "${files[0]}" >"$work/v_file" 2>&1
"$DUMP" -v -s <"${files[0]}" >"$work/v_stream" 2>&1
t_ok $T "stream decoding (64 KiB reads) = file decoding" cmp -s "$work/v_file" "$work/v_stream"

# ---- a 1,000,000-row transaction with bounded memory -------------------------------------
my -e "FLUSH BINARY LOGS"
big_file=$(my -e "SHOW MASTER STATUS" | cut -f1)
out=$(my 2>&1 <<SQL
USE $DB;
CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40), d DECIMAL(12,2), t DATETIME(6));
INSERT INTO big SELECT seq, CONCAT('row ', seq), seq / 100, '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_1000000;
SQL
)
t_eq $T "insert 1,000,000 rows in one transaction" "" "$(tail -c 300 <<<"$out")"
my -e "FLUSH BINARY LOGS"
size=$(stat -c %s "$ZH_MY_DATADIR/$big_file")
stats=$("$DUMP" -q "$ZH_MY_DATADIR/$big_file" 2>&1)
rows=$(awk '{for (i = 1; i < NF; i++) if ($i == "rows") print $(i + 1)}' <<<"$stats")
txns=$(awk '{for (i = 1; i < NF; i++) if ($i == "txns") print $(i + 1)}' <<<"$stats")
rss=$(awk '{for (i = 1; i < NF; i++) if ($i == "maxrss_kb") print $(i + 1)}' <<<"$stats")
secs=$(awk '{for (i = 1; i < NF; i++) if ($i == "seconds") print $(i + 1)}' <<<"$stats")
t_eq $T "1,000,000 rows decoded from one transaction" "1000000" "$rows"
t_eq $T "two transactions (CREATE TABLE, INSERT)" "2" "$txns"
if [[ -n $rss ]] && ((rss < 32768)); then
    t_pass $T "memory bounded: max RSS ${rss} KiB for a $((size / 1048576)) MiB binlog (limit 32 MiB)"
else
    t_fail $T "memory bounded while decoding a $((size / 1048576)) MiB transaction" "max RSS < 32768 KiB" "${rss:-?} KiB ($stats)"
fi
mbs=$(awk -v b="$size" -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f", b / 1048576 / s; else print "inf" }')
t_pass $T "decode speed: $((size / 1048576)) MiB in ${secs}s = ${mbs} MiB/s (one core, values decoded, no output)"

my -e "DROP DATABASE $DB"
t_done
