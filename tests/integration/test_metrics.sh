#!/usr/bin/env bash
# test_metrics.sh — `zetl run --metrics-file` against the harness servers
# (PostgreSQL → PostgreSQL): the file appears, parses as Prometheus text
# (tests/tools/prom_check, strict), is replaced atomically (a new inode at
# every rewrite, and never seen half-written by a reader that reads it over
# and over while it is rewritten), counts the rows applied by operation
# exactly as they were changed, and shows a target outage as the failed
# state, an error and a reconnect. A path in a missing directory is refused
# before anything starts.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_metrics
S=metrics_t
CHECKER=${ZETL_BUILD:-build}/tools/prom_check

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
cleanup() {
    e2e_cleanup
    zh_start_pg tgt >/dev/null 2>&1         # in case a check failed while it was down
    e2e_pg_drop met $S
}
trap 'cleanup; harness_stop' EXIT

e2e_pg_drop met $S
zh_psql_src <<SQL >/dev/null 2>&1
CREATE SCHEMA $S;
CREATE TABLE $S.items (id int PRIMARY KEY, v text);
INSERT INTO $S.items SELECT g, 'row ' || g FROM generate_series(1, 100) g;
SQL
e2e_pg_config met $S
PROM_DIR=$E2E_DIR/prom
PROM=$PROM_DIR/zetl.prom
mkdir -p "$PROM_DIR"

# metric 'name{labels}': its value in the file, or nothing.
metric() { awk -v k="$1" '$1 == k { print $2 }' "$PROM" 2>/dev/null; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
metric_ge() { local v; v=$(metric "$1"); [ -n "$v" ] && [ "${v%.*}" -ge "$2" ]; }

# 1. A path zetl could never write is refused up front.
out=$("$ZETL" run -c "$E2E_DIR/zetl.yaml" --metrics-file "$E2E_DIR/missing/zetl.prom" 2>&1); rc=$?
t_eq $T "a metrics file in a missing directory: exit 1" 1 "$rc"
t_match $T "... naming the directory and the fix" "directory $E2E_DIR/missing does not exist; create it" "$out"
out=$("$ZETL" run -c "$E2E_DIR/zetl.yaml" --metrics-file "$PROM_DIR" 2>&1); rc=$?
t_eq $T "a directory as the metrics file: exit 1" 1 "$rc"
t_match $T "... saying to give a file name" "is a directory; give a file name" "$out"
out=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" --metrics-file "$PROM" 2>&1); rc=$?
t_eq $T "only zetl run takes --metrics-file (status: usage error)" 2 "$rc"

# 2. The file appears, parses, and shows the integration active.
e2e_run_start --metrics-file "$PROM"
t_wait $T "the metrics file appears" 60 test -s "$PROM"
t_wait $T "it shows the integration active" 120 \
    metric_is 'zetl_integration_state{integration="met",state="active"}' 1
t_ok $T "it parses as Prometheus text (strict checker)" "$CHECKER" "$PROM"
t_eq $T "the initial copy is counted as copied rows" 100 "$(metric 'zetl_rows_copied{integration="met"}')"
t_eq $T "one table, synced" 1 "$(metric 'zetl_tables{integration="met",state="synced"}')"
t_eq $T "no change applied yet" 0 "$(metric 'zetl_rows_applied_total{integration="met",op="insert"}')"
t_match $T "zetl_build_info names the version" '^zetl_build_info\{version="[0-9.]+"\} 1$' \
    "$(grep '^zetl_build_info' "$PROM")"

# 3. Rows applied by operation match the changes made: 30 inserts, 12 updates, 5 deletes.
zh_psql_src <<SQL >/dev/null
INSERT INTO $S.items SELECT g, 'new ' || g FROM generate_series(1001, 1030) g;
UPDATE $S.items SET v = v || ' changed' WHERE id BETWEEN 1 AND 12;
DELETE FROM $S.items WHERE id BETWEEN 50 AND 54;
SQL
counts() {
    metric_is 'zetl_rows_applied_total{integration="met",op="insert"}' 30 &&
    metric_is 'zetl_rows_applied_total{integration="met",op="update"}' 12 &&
    metric_is 'zetl_rows_applied_total{integration="met",op="delete"}' 5
}
t_wait $T "rows applied by op: insert 30, update 12, delete 5" 60 counts
t_eq $T "lag is a number of seconds" ok \
    "$(metric 'zetl_lag_seconds{integration="met"}' | awk '/^[0-9]+\.[0-9]{3}$/ { print "ok" }')"
t_ne $T "the last applied time is set" "" "$(metric 'zetl_last_applied_timestamp_seconds{integration="met"}')"

# 4. Atomic replacement: read the file over and over across two rewrites.
#    Every copy must parse whole, and each rewrite must be a new inode (rename).
inode0=$(stat -c %i "$PROM")
reads=0 bad=0 badout='' inodes=" $inode0 "
end=$((SECONDS + 60))
while [ $SECONDS -lt $end ]; do
    cp "$PROM" "$E2E_DIR/read.prom" 2>/dev/null || { bad=$((bad + 1)); badout="cp failed"; continue; }
    reads=$((reads + 1))
    if ! o=$("$CHECKER" "$E2E_DIR/read.prom" 2>&1); then bad=$((bad + 1)); badout=$o; fi
    i=$(stat -c %i "$PROM" 2>/dev/null) || { bad=$((bad + 1)); badout="the file was missing"; continue; }
    [[ $inodes == *" $i "* ]] || inodes+="$i "
    [ "$(wc -w <<<"$inodes")" -ge 3 ] && break       # the first inode and two rewrites
done
t_eq $T "rewritten twice while being read (3 inodes seen)" 3 "$(wc -w <<<"$inodes")"
t_eq $T "none of $reads reads saw a partial or invalid file" 0 "$bad${badout:+ ($badout)}"
t_eq $T "no PATH.tmp left next to it" "zetl.prom" "$(ls "$PROM_DIR" | tr '\n' ' ' | sed 's/ $//')"

# 5. A target outage: the failed state, an error and a reconnect are counted.
zh_stop_pg tgt
t_wait $T "target down: the file shows the integration failed" 60 \
    metric_is 'zetl_integration_state{integration="met",state="failed"}' 1
t_wait $T "... and counts a reconnect" 60 metric_ge 'zetl_reconnects_total{integration="met"}' 1
t_ok $T "... and an error" metric_ge 'zetl_errors_total{integration="met"}' 1
zh_start_pg tgt
t_wait $T "target back: active again" 90 \
    metric_is 'zetl_integration_state{integration="met",state="active"}' 1
t_ok $T "still valid Prometheus text" "$CHECKER" "$PROM"

# 6. SIGTERM: a clean exit, and the file is left whole.
e2e_run_stop; t_eq $T "zetl run exits 0 on SIGTERM" 0 "$?"
t_ok $T "the last file written parses" "$CHECKER" "$PROM"
t_eq $T "still no PATH.tmp" "zetl.prom" "$(ls "$PROM_DIR" | tr '\n' ' ' | sed 's/ $//')"
t_done
