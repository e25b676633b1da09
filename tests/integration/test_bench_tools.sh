#!/usr/bin/env bash
# test_bench_tools.sh — the benchmark's load generator and lag probe
# (tests/tools/rowgen.c, tests/tools/lagwatch.c) against the real servers, so
# bench/run.sh's streaming and catch-up figures rest on tools that are known to
# count, pace and time correctly: rows and ids as asked, a rate kept, the
# server clock stamped, every row seen once with a plausible lag, errors and
# timeouts reported rather than hidden.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
T=test_bench_tools
TOOLS=${ZETL_BUILD:-build}/tools
GEN=$TOOLS/rowgen
WATCH=$TOOLS/lagwatch

harness_start mariadb pgsrc || { t_fail $T "harness" "servers up" "start failed"; t_done; }
cleanup() {
    zh_psql_src -c "DROP SCHEMA IF EXISTS bench_tools CASCADE" >/dev/null 2>&1
    zh_mysql -e "DROP DATABASE IF EXISTS bench_tools" 2>/dev/null
}
trap 'cleanup; harness_stop' EXIT
cleanup
PG="host=$ZH_PGSRC_SOCKDIR port=$ZH_PGSRC_PORT user=$ZH_PG_USER dbname=zetl"

# field LINE NAME: the value after NAME in a "name value name value" line
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$1"; }

# 1. PostgreSQL: paced rows, exact ids, the server clock, seen by lagwatch.
out=$("$GEN" pg "$PG" bench_tools.t --create --rows 0 2>&1); rc=$?
t_eq $T "rowgen --create --rows 0 exits 0" "0" "$rc"
t_eq $T "rowgen --create made the table" "id,k,c,ts_us" \
    "$(zh_psql_src -c "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'bench_tools' AND table_name = 't'")"
"$WATCH" "$PG" bench_tools.t --from 1 --to 6000 --timeout 60 >"/tmp/$T.$$" 2>&1 &
wpid=$!
gen=$("$GEN" pg "$PG" bench_tools.t --rows 6000 --rate 2000 2>&1); rc=$?
wait "$wpid"; wrc=$?
watch=$(cat "/tmp/$T.$$"); rm -f "/tmp/$T.$$"
t_eq $T "rowgen pg at 2000 rows/s exits 0" "0" "$rc"
t_eq $T "rowgen reports the rows it wrote" "6000" "$(field "$gen" rows)"
secs=$(field "$gen" seconds)
if awk -v s="$secs" 'BEGIN { exit !(s >= 2.9 && s < 6) }'; then t_pass $T "6000 rows at 2000 rows/s take about 3 s ($secs s)"
else t_fail $T "paced at 2000 rows/s" "2.9–6 s" "$secs s ($gen)"; fi
if (($(field "$gen" txns) > 100)); then t_pass $T "paced in many small transactions ($(field "$gen" txns))"
else t_fail $T "paced in many small transactions" "more than 100" "$gen"; fi
t_eq $T "ids 1..6000, each once" "6000|1|6000|6000" \
    "$(zh_psql_src -c "SELECT count(*) || '|' || min(id) || '|' || max(id) || '|' || count(DISTINCT id) FROM bench_tools.t")"
skew=$(zh_psql_src -c "SELECT round(abs(extract(epoch FROM clock_timestamp()) * 1e6 - max(ts_us)) / 1e6) FROM bench_tools.t")
if ((skew < 60)); then t_pass $T "ts_us is the server's clock in µs since the epoch"
else t_fail $T "ts_us is the server's clock" "within 60 s of now" "$skew s off"; fi
t_eq $T "lagwatch exits 0 when every row was seen" "0" "$wrc"
t_eq $T "lagwatch saw all 6000 rows" "6000 of 6000" "$(field "$watch" seen) of $(field "$watch" of)"
p99=$(field "$watch" lag_p99_ms)
if awk -v p="$p99" 'BEGIN { exit !(p >= 0 && p < 5000) }'; then t_pass $T "lag of rows read on the source itself is small and not negative (p99 $p99 ms)"
else t_fail $T "lag on the source itself" "0 ≤ p99 < 5000 ms" "$watch"; fi

# 2. One big transaction and 10-row transactions, unpaced.
gen=$("$GEN" pg "$PG" bench_tools.t --rows 50000 --start 10001 2>&1)
t_eq $T "without a rate or --txn-rows: one transaction" "1" "$(field "$gen" txns)"
gen=$("$GEN" pg "$PG" bench_tools.t --rows 500 --start 70001 --txn-rows 10 2>&1)
t_eq $T "--txn-rows 10: 50 transactions for 500 rows" "50" "$(field "$gen" txns)"

# 3. Errors and timeouts are reported, not hidden.
out=$("$GEN" pg "$PG" bench_tools.t --rows 5 --start 1 2>&1); rc=$?
t_eq $T "rowgen on existing ids exits 1" "1" "$rc"
t_match $T "rowgen names the table and the database error" "bench_tools\.t: INSERT of ids 1\.\.5: .*duplicate key" "$out"
out=$("$WATCH" "$PG" bench_tools.t --from 900001 --to 900010 --timeout 1 2>&1); rc=$?
t_eq $T "lagwatch exits 1 when rows never arrive" "1" "$rc"
t_match $T "lagwatch says how many it saw" "^seen 0 of 10 " "$out"
out=$("$WATCH" "$PG" bench_tools.nope --from 1 --to 1 --timeout 1 2>&1); rc=$?
t_eq $T "lagwatch on a missing table exits 1" "1" "$rc"
t_match $T "lagwatch reports the last error for a missing table" "does not exist" "$out"
out=$("$GEN" pg "$PG" notqualified --rows 1 2>&1); rc=$?
t_eq $T "rowgen rejects a table name without a schema (usage)" "2" "$rc"

# 4. MariaDB: the same shape, chunks of 1000/100/10/1 add up exactly.
gen=$("$GEN" mysql "$ZH_MY_SOCKET" bench_tools.t --create --rows 1234 --start 5 2>&1); rc=$?
t_eq $T "rowgen mysql exits 0" "0" "$rc"
t_eq $T "rowgen mysql: ids 5..1238, each once, one transaction" "1234	5	1238	1234" \
    "$(zh_mysql -e "SELECT count(*), min(id), max(id), count(DISTINCT id) FROM bench_tools.t")"
t_eq $T "rowgen mysql reports one transaction" "1" "$(field "$gen" txns)"
skew=$(zh_mysql -e "SELECT ROUND(ABS(UNIX_TIMESTAMP(NOW(6)) * 1000000 - MAX(ts_us)) / 1000000) FROM bench_tools.t")
if ((skew < 60)); then t_pass $T "MariaDB ts_us is the server's clock in µs since the epoch"
else t_fail $T "MariaDB ts_us" "within 60 s of now" "$skew s off"; fi
gen=$("$GEN" mysql "$ZH_MY_SOCKET" bench_tools.t --rows 3000 --start 2001 --rate 3000 2>&1)
secs=$(field "$gen" seconds)
if awk -v s="$secs" 'BEGIN { exit !(s >= 0.9 && s < 4) }'; then t_pass $T "MariaDB: 3000 rows at 3000 rows/s take about 1 s ($secs s)"
else t_fail $T "MariaDB paced at 3000 rows/s" "0.9–4 s" "$secs s ($gen)"; fi
t_done
