#!/usr/bin/env bash
# test_pg_replica_index.sh — PostgreSQL tables without a primary key whose
# REPLICA IDENTITY is USING INDEX: their UPDATEs and DELETEs carry only the
# index's columns as the old row (runtime/target/batch.h, keyed).
#   1. ridx: the index is unique on a NOT NULL integer column: zetl keys the
#      table by it; updates, deletes and key moves (in the stream, and during
#      a chunked resync) apply exactly;
#   2. tidx: the index is on a text column: too little of the old row to find
#      it by; its first update fails that table alone, with the reason and
#      the fix, and the other tables go on streaming (before, the whole
#      integration failed and retried for ever);
#   3. `zetl verify` matches for ridx and the keyed table.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_pg_replica_index
S=pri NAME=pri
CMD=${ZETL_BUILD:-build}/tools/zetl_command

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
clean_db() {
    e2e_pg_drop "$NAME" "$S"
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $S CASCADE" >/dev/null 2>&1
    for t in checkpoints resyncs copy_progress; do
        zh_psql_tgt -c "DELETE FROM zetl.$t WHERE integration = '$NAME'" >/dev/null 2>&1
    done
}
trap 'e2e_cleanup; clean_db; harness_stop' EXIT
clean_db

zh_psql_src <<SQL >/dev/null
CREATE SCHEMA $S;
CREATE TABLE $S.ridx (u bigint NOT NULL, w int, v text);
CREATE UNIQUE INDEX ridx_u ON $S.ridx (u);
ALTER TABLE $S.ridx REPLICA IDENTITY USING INDEX ridx_u;
INSERT INTO $S.ridx SELECT g, g % 3, 'v' || g FROM generate_series(1, 5000) g;
CREATE TABLE $S.tidx (code text NOT NULL, v int);
CREATE UNIQUE INDEX tidx_code ON $S.tidx (code);
ALTER TABLE $S.tidx REPLICA IDENTITY USING INDEX tidx_code;
INSERT INTO $S.tidx SELECT 'c' || g, g FROM generate_series(1, 100) g;
CREATE TABLE $S.k (id int PRIMARY KEY, v int);
INSERT INTO $S.k SELECT g, g FROM generate_series(1, 100) g;
SQL
e2e_pg_config "$NAME" "$S"
sed -i 's/^      batch_ms: 100$/&\n      copy_chunk_rows: 1000/' "$E2E_DIR/zetl.yaml"
DBFILE=$E2E_DIR/state/zetl.db
st() { e2e_status_field ".integrations[0].tables[] | select(.name == \"$S.$1\") | .$2"; }
verify_tables() {
    local out
    out=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" 2>&1)
    for t in "$@"; do grep -qE "^  match +$S\.$t " <<<"$out" || { echo "$out"; return 1; }; done
}
e2e_run_start
t_wait $T "the initial copy matches (ridx, tidx, k)" 60 verify_tables ridx tidx k

# 1 and 2: updates, deletes and key moves on ridx; one update of tidx.
zh_psql_src <<SQL >/dev/null
UPDATE $S.ridx SET v = 'x' || u WHERE u % 7 = 0;
UPDATE $S.ridx SET u = u + 100000 WHERE u % 11 = 0;
DELETE FROM $S.ridx WHERE u % 13 = 0;
INSERT INTO $S.ridx SELECT g, 1, NULL FROM generate_series(6000, 6100) g;
UPDATE $S.tidx SET v = -v WHERE code = 'c5';
SQL
failed() { [ "$(st tidx state)" = failed ]; }
t_wait $T "tidx: its update fails that table" 30 failed
t_match $T "tidx: the reason says why, and the fix" \
    'needs the full old row for updates and deletes; on PostgreSQL set REPLICA IDENTITY FULL on the source table, then resync the table' \
    "$(st tidx reason)"
t_wait $T "ridx: updates, deletes and key moves apply exactly (verify)" 30 verify_tables ridx k
zh_psql_src -c "INSERT INTO $S.k VALUES (1001, 1)" >/dev/null
k_row() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $S.k WHERE id = 1001")" = 1 ]; }
t_wait $T "the other tables go on streaming (a row inserted into k arrives)" 30 k_row
t_eq $T "the integration is not failed as a whole" "needs_attention" "$(e2e_status_field '.integrations[0].state')"
t_eq $T "ridx is synced" "synced" "$(st ridx state)"

# ridx again, in chunks, with key moves and deletes during its copy.
t_eq $T "ridx: resync acknowledged" "ok" "$("$CMD" "$DBFILE" "$NAME" resync "$S.ridx" 2>&1)"
zh_psql_src -c "UPDATE $S.ridx SET u = u + 200000 WHERE u % 17 = 0; DELETE FROM $S.ridx WHERE u % 19 = 0;
                UPDATE $S.ridx SET w = -w WHERE u % 5 = 0" >/dev/null
synced() { [ "$(st ridx state)" = synced ]; }
t_wait $T "ridx: resynced" 60 synced
t_wait $T "ridx: exact after its chunked resync under key moves (verify)" 30 verify_tables ridx k
t_match $T "ridx went in chunks" 'copy done; [0-9]+ rows in ([2-9]|[1-9][0-9]+) chunks' \
    "$(sqlite3 "$DBFILE" "SELECT group_concat(message, ' / ') FROM events WHERE tbl = '$S.ridx'")"
e2e_run_stop
t_eq $T "zetl run stops cleanly" "0" "$?"
t_done
