#!/usr/bin/env bash
# test_e2e_pg.sh — PostgreSQL → PostgreSQL end to end through the real binary:
# copy in the slot's exported snapshot (3 tables by 3 parallel workers), a
# randomized workload, kill -9 at
# random moments, unchanged TOAST values, pause/resume, a resync of one table
# while the others stream, an idle source whose slot still advances, and
# delete (slot and publication dropped, target data kept). `zetl verify`
# proves every step.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_e2e_pg
S=e2e_pg
CMD=${ZETL_BUILD:-build}/tools/zetl_command

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
workload_pid=
cleanup() {
    rm -f "$E2E_DIR/go"
    [ -n "$workload_pid" ] && wait "$workload_pid" 2>/dev/null
    e2e_cleanup
    zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'zetl_pg'" >/dev/null 2>&1
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_pg; DROP SCHEMA IF EXISTS $S CASCADE" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT

gen_workload() {   # $1 transactions, $2 id base
    local n=$1 base=$2 i j k r id
    for ((i = 0; i < n; i++)); do
        echo "BEGIN;"
        k=$((RANDOM % 4 + 1))
        for ((j = 0; j < k; j++)); do
            r=$((RANDOM % 9)); id=$((RANDOM % 3000 + 1))
            case $r in
            0|1|2) echo "INSERT INTO $S.t_keyed (id, v, s, doc, arr, ts) VALUES ($((base + i * 10 + j)), $RANDOM, E's\\t$RANDOM é', '{\"k\": $RANDOM}', '{1,$RANDOM}', now()) ON CONFLICT DO NOTHING;" ;;
            3|4) echo "UPDATE $S.t_keyed SET v = v + 1, s = s || 'x' WHERE id = $id;" ;;
            5) echo "DELETE FROM $S.t_keyed WHERE id = $id;" ;;
            6) echo "UPDATE $S.t_keyed SET id = id + 700000 WHERE id = $id AND NOT EXISTS (SELECT 1 FROM $S.t_keyed WHERE id = $id + 700000);" ;;
            7) echo "INSERT INTO $S.t_loose VALUES ($((RANDOM % 50)), 'y$((RANDOM % 5))');" ;;
            8) echo "INSERT INTO $S.t_comp VALUES ($((RANDOM % 100)), 'b$((RANDOM % 100))', $RANDOM) ON CONFLICT (a, b) DO UPDATE SET n = $S.t_comp.n + 1;" ;;
            esac
        done
        echo "COMMIT;"
    done
}
workload_start() {
    touch "$E2E_DIR/go"
    ( base=1000000; while [ -f "$E2E_DIR/go" ]; do gen_workload 40 $base | zh_psql_src >/dev/null; base=$((base + 1000)); done ) &
    workload_pid=$!
}
workload_stop() { rm -f "$E2E_DIR/go"; [ -n "$workload_pid" ] && wait "$workload_pid"; workload_pid=; }

zh_psql_src <<SQL >/dev/null 2>&1
DROP PUBLICATION IF EXISTS zetl_pg;
DROP SCHEMA IF EXISTS $S CASCADE;
CREATE SCHEMA $S;
CREATE TABLE $S.t_keyed (id int PRIMARY KEY, v int, s text, doc jsonb, arr int[], ts timestamptz, big text);
INSERT INTO $S.t_keyed SELECT g, g % 97, 'row ' || g, jsonb_build_object('g', g), ARRAY[g, -g], '2024-01-01', NULL
  FROM generate_series(1, 60000) g;
CREATE TABLE $S.t_loose (x int, y text);
ALTER TABLE $S.t_loose REPLICA IDENTITY FULL;
INSERT INTO $S.t_loose SELECT g % 50, 'y0' FROM generate_series(1, 200) g;
CREATE TABLE $S.t_comp (a int, b text, n bigint, PRIMARY KEY (a, b));
SQL
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $S CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'pg'" >/dev/null 2>&1

cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: pg
    source:
      kind: postgres
      host: 127.0.0.1
      port: $ZH_PGSRC_PORT
      user: $ZH_PG_USER
      password: \${E2E_PG_PASSWORD}
      database: zetl
      schemas: [$S]
    target:
      kind: postgres
      dsn: "$ZH_PGTGT_DSN"
    tables:
      include: ["$S.%"]
    apply:
      batch_ms: 100
      copy_workers: 3
YAML
export E2E_PG_PASSWORD=$ZH_PG_PASSWORD
DBFILE=$E2E_DIR/state/zetl.db

# 1. kill -9 during the copy and the stream, under load.
e2e_run_start
sleep 0.5
e2e_run_kill9
workload_start
for i in $(seq 1 10); do
    e2e_run_start
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.4 + (r % 250) / 100 }')"
    e2e_run_kill9
done
workload_stop
e2e_run_start
if e2e_wait_match 90; then t_pass $T "exact match after 11 kill -9 (copy and stream, under load)"
else t_fail $T "exact match after 11 kill -9" "zetl verify: match" "$E2E_VERIFY"; fi
# Zetl's slots for this integration (an earlier test of the lane may have left its own).
t_eq $T "one slot, named after the integration" "zetl_pg" \
    "$(zh_psql_src -c "SELECT string_agg(slot_name, ',') FROM pg_replication_slots
                       WHERE slot_name = 'zetl_pg' OR slot_name LIKE 'zetl\\_pg\\_%'")"

# 2. Unchanged TOAST: a large out-of-line value, then an update of another column.
# id 9000007 is outside the workload's random ids, so nothing else touches it.
zh_psql_src -c "INSERT INTO $S.t_keyed (id, v, big) SELECT 9000007, 1, string_agg(md5(g::text || random()::text), '') FROM generate_series(1, 4000) g" >/dev/null
e2e_wait_match 60 >/dev/null
zh_psql_src -c "UPDATE $S.t_keyed SET v = -7 WHERE id = 9000007" >/dev/null
if e2e_wait_match 60; then t_pass $T "TOAST value kept when another column changes"
else t_fail $T "TOAST value kept" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "target still holds the 128,000-character value" "128000|-7" \
    "$(zh_psql_tgt -c "SELECT length(big) || '|' || v FROM $S.t_keyed WHERE id = 9000007")"

# 3. Pause and resume.
out=$("$CMD" "$DBFILE" pg pause); t_eq $T "pause acknowledged" "ok" "$out"
zh_psql_src -c "INSERT INTO $S.t_comp VALUES (-1, 'paused', 1)" >/dev/null
sleep 3
t_eq $T "paused: the change is not applied" "0" "$(zh_psql_tgt -c "SELECT count(*) FROM $S.t_comp WHERE a = -1")"
t_eq $T "paused: status says so" "paused" "$(e2e_status_field '.integrations[0].state')"
zh_psql_src -c "CREATE TABLE IF NOT EXISTS public.paused_noise (x int); INSERT INTO public.paused_noise SELECT generate_series(1, 50000)" >/dev/null
retained_reported() { [ "$(e2e_status_field '.integrations[0].bytes_behind')" -gt 1000000 ] 2>/dev/null; }
t_wait $T "paused: the WAL the slot retains is reported as bytes behind (over 1 MB)" 20 retained_reported
out=$("$CMD" "$DBFILE" pg resume); t_eq $T "resume acknowledged" "ok" "$out"
arrived() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $S.t_comp WHERE a = -1")" = 1 ]; }
t_wait $T "resumed: the change arrives" 30 arrived

# 4. Resync one table while another keeps streaming.
zh_psql_tgt -c "DELETE FROM $S.t_comp WHERE a < 50" >/dev/null
gen_workload 30 4000000 | zh_psql_src >/dev/null &
load=$!
out=$("$CMD" "$DBFILE" pg resync "$S.t_comp"); t_eq $T "resync acknowledged" "ok" "$out"
wait "$load"
if e2e_wait_match 90; then t_pass $T "resynced table matches, and the others kept up"
else t_fail $T "resync" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "resynced table is synced again" "synced" \
    "$(e2e_status_field ".integrations[0].tables[] | select(.name == \"$S.t_comp\") | .state")"

# 5. An idle source: lag 0, and the slot keeps advancing with WAL from elsewhere.
sleep 4
t_eq $T "idle: lag reads 0" "0" "$(e2e_status_field '.integrations[0].lag_ms')"
zh_psql_src -c "CREATE TABLE IF NOT EXISTS public.noise (x int); INSERT INTO public.noise SELECT generate_series(1, 20000)" >/dev/null
mark=$(zh_psql_src -c "SELECT pg_current_wal_lsn()")
slot_past_mark() {
    [ "$(zh_psql_src -c "SELECT confirmed_flush_lsn >= '$mark'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'zetl_pg'")" = t ]
}
t_wait $T "idle: the slot confirms past WAL written for other tables" 40 slot_past_mark

# 6. Delete: slot and publication dropped, target data kept.
rows_before=$(zh_psql_tgt -c "SELECT count(*) FROM $S.t_keyed")
out=$("$CMD" "$DBFILE" pg delete); t_eq $T "delete acknowledged" "deleting" "$out"
is_deleted() { [ "$(e2e_status_field '.integrations[0].state')" = deleted ]; }
t_wait $T "integration deleted" 30 is_deleted
t_eq $T "slot dropped" "0" "$(zh_psql_src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'zetl_pg'")"
t_eq $T "publication dropped" "0" "$(zh_psql_src -c "SELECT count(*) FROM pg_publication WHERE pubname = 'zetl_pg'")"
t_eq $T "target data kept" "$rows_before" "$(zh_psql_tgt -c "SELECT count(*) FROM $S.t_keyed")"
e2e_run_stop; t_eq $T "zetl run exits 3 after the delete (nothing left to run: README, Operations)" 3 "$?"
t_done
