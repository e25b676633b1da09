#!/usr/bin/env bash
# test_copy_progress.sh — a table's copy progress in `zetl status --json` and
# the metrics file (statelog.h "Copy progress"), for a MariaDB table of
# 200,000 rows resynced in chunks of 2,000 (apply: copy_chunk_rows: 2000):
#   1. during the copy, `copy` is an object whose rows and chunks grow, with
#      the server's estimate (> 0), rows/s (> 0) and an ETA (a number), the
#      rows agreeing with the chunks (chunks × 2000 <= rows <= (chunks + 2)
#      × 2000: one chunk may be committing while the next is read), and the
#      metrics file has the table's copy gauges;
#   2. kill -9 mid-copy: with nobody running the integration, the copy is
#      still shown but rows_per_s and eta_s are null; after a restart the
#      copy goes on from the rows and chunks its hand-offs committed
#      (zetl.copy_progress), with a later started_at;
#   3. after the copy, `copy` is null, the table synced and equal to the
#      source (zetl verify);
#   4. a PostgreSQL source: the estimate is the table's pg_class.reltuples,
#      in the chunked resync's `copy` (and the initial copy's, when a status
#      catches it).
# The initial copy goes in chunks too: while it runs (when a status catches
# it), chunks is a number. The resync is paced so it lasts past a metrics write (every
# 10 s): a trigger on zetl.copy_progress makes each chunk's hand-off sleep
# PACE seconds (the worker runs at most 4 chunks ahead of the hand-offs).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_copy_progress
CMD=${ZETL_BUILD:-build}/tools/zetl_command
CHUNK=2000
PACE=0.2

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
DB=cp_my
NAME=cp_my
PG=cp_pg        # the PostgreSQL case's integration and schema
unpace() {
    zh_psql_tgt -c "DROP TRIGGER IF EXISTS cp_test_pace ON zetl.copy_progress; DROP FUNCTION IF EXISTS zetl.cp_test_pace()" \
        >/dev/null 2>&1
}
target_clean() {
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $1 CASCADE" >/dev/null 2>&1
    local t
    for t in checkpoints resyncs copy_progress; do
        zh_psql_tgt -c "DELETE FROM zetl.$t WHERE integration = '$1'" >/dev/null 2>&1
    done
}
pg_clean() {
    zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                    WHERE slot_name LIKE 'zetl_$PG%' AND NOT active" >/dev/null 2>&1
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_$PG; DROP SCHEMA IF EXISTS $PG CASCADE" >/dev/null 2>&1
    target_clean $PG
}
cleanup() {
    e2e_cleanup
    unpace
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    target_clean $DB
    pg_clean
}
trap 'cleanup; harness_stop' EXIT
DBFILE=$E2E_DIR/state/zetl.db
PROM=$E2E_DIR/zetl.prom

# The big table's entry in `zetl status --json`, one line: "STATE RUNNING COPY-JSON".
big_status() {
    e2e_status_field ".integrations[] | select(.name == \"$NAME\") |
        (.running | tostring) as \$r | .tables[] | select(.name == \"$DB.big\") |
        \"\(.state) \(\$r) \(.copy | tojson)\""
}
# A copy object's field (jq's raw output: null when null).
field() { jq -r ".$2" <<<"$1"; }
verify_ok() { E2E_VERIFY=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" 2>&1) || { echo "$E2E_VERIFY"; return 1; }; }
state_is() { [ "$(big_status | cut -d' ' -f1)" = "$1" ]; }
resync() { "$CMD" "$DBFILE" "$NAME" resync "$DB.big" 2>&1; }
zetl_sessions_gone() {
    [ "$(zh_psql_tgt -c "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'zetl%'")" = 0 ]
}

zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB; USE $DB;
CREATE TABLE big (id BIGINT PRIMARY KEY, v INT, s VARCHAR(64));
INSERT INTO big SELECT seq, seq % 97, CONCAT('row ', seq) FROM seq_1_to_200000;
ANALYZE TABLE big;
SQL
t_eq $T "the source table has 200000 rows" "200000" "$(zh_mysql $DB -e "SELECT count(*) FROM big")"
est=$(zh_mysql -e "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$DB' AND TABLE_NAME = 'big'")
if [[ $est =~ ^[0-9]+$ ]] && ((est > 0)); then t_pass $T "the server has an estimate of its rows ($est)"
else t_fail $T "the server's estimate (information_schema.TABLES.TABLE_ROWS)" "a number > 0" "\"$est\""; fi
target_clean $DB
e2e_my_config "$NAME" "$DB" 7575 "batch_ms: 100, copy_chunk_rows: $CHUNK"

# 0. The initial copy, in chunks while the stream runs.
e2e_run_start --metrics-file "$PROM"
initial=
for _ in $(seq 600); do
    s=$(big_status 2>/dev/null)
    case $s in
        "snapshotting "*) [ -z "$initial" ] && [ "${s#* * }" != null ] && initial=${s#* * } ;;
        "synced "*) break ;;
    esac
    sleep 0.1
done
t_eq $T "the initial copy is done: the table is synced" "synced" "$(big_status | cut -d' ' -f1)"
if [ -n "$initial" ]; then
    t_eq $T "the initial copy goes in chunks ($initial)" "number" "$(field "$initial" chunks | sed "s/^[0-9][0-9]*$/number/")"
fi
t_eq $T "synced: copy is null" "null" "$(big_status | cut -d' ' -f3)"
t_ok $T "the initial copy matches (zetl verify)" verify_ok

# 1. A chunked resync, paced, sampled as it goes.
out=$(zh_psql_tgt 2>&1 <<SQL
SET client_min_messages = warning;
CREATE OR REPLACE FUNCTION zetl.cp_test_pace() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_sleep($PACE); RETURN NEW; END \$\$;
DROP TRIGGER IF EXISTS cp_test_pace ON zetl.copy_progress;
CREATE TRIGGER cp_test_pace BEFORE INSERT OR UPDATE ON zetl.copy_progress FOR EACH ROW
    WHEN (NEW.integration IN ('$NAME', '$PG')) EXECUTE FUNCTION zetl.cp_test_pace();
SQL
)
t_eq $T "the pace trigger is on zetl.copy_progress" "" "$out"
t_eq $T "resync acknowledged" "ok" "$(resync)"
t_wait $T "big is resyncing" 20 state_is resyncing
samples=()
metrics_seen=
for _ in $(seq 300); do
    s=$(big_status 2>/dev/null)
    [[ $s == "resyncing true {"* ]] || break
    # Asked for, not begun: nothing is known of the copy yet (rows 0, no start).
    if [ "$(field "${s#* * }" started_at)" = null ]; then
        [ -z "${due_seen:-}" ] && due_seen=1 && t_eq $T "a resync not begun shows no figures of the last copy" '0|null|null' \
            "$(field "${s#* * }" rows)|$(field "${s#* * }" chunks)|$(field "${s#* * }" estimated)"
        sleep 0.1; continue
    fi
    samples+=("${s#* * }")
    [ -z "$metrics_seen" ] && grep -q "^zetl_table_copy_chunks{integration=\"$NAME\",table=\"$DB.big\"} [1-9]" "$PROM" 2>/dev/null &&
        metrics_seen=$(grep "^zetl_table_copy_[a-z_]*{integration=\"$NAME\",table=\"$DB.big\"}" "$PROM")
    (( ${#samples[@]} >= 12 )) && c=$(field "${samples[-1]}" chunks) && ((c >= 30)) && [ -n "$metrics_seen" ] && break
    sleep 0.3
done
# 2. kill -9 mid-copy: nobody runs it, then it resumes from what was handed off.
s=$(big_status)
if [[ $s != "resyncing true {"* ]]; then
    t_fail $T "still copying before the kill" "resyncing" "$s (the copy ended too soon to test a resume)"
    t_done
fi
atkill=${s#* * }
plain=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>&1)
t_match $T "plain zetl status: the copy's line under the table" \
    "copy: [0-9]+% [0-9.]+k?/[0-9.]+k rows, chunk [0-9]+, [0-9.]+k? rows/s, ETA [0-9]+" "$plain"
e2e_run_kill9
dead=$(big_status)
plain=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>&1)
t_match $T "plain zetl status after kill -9: the copy's line has no rate and no ETA" \
    "copy: [0-9]+% [0-9.]+k?/[0-9.]+k rows, chunk [0-9]+"$'\n' "$plain"
t_match $T "after kill -9 nobody runs it; the copy is shown without a rate or an ETA" \
    '^resyncing false \{"rows":[0-9]+,.*"rows_per_s":null,"eta_s":null,' "$dead"
started1=$(field "$atkill" started_at)
t_wait $T "the killed zetl's target sessions are gone" 20 zetl_sessions_gone
# What the hand-offs committed before the kill: "ROWS|CHUNKS".
kept=$(zh_psql_tgt -c "SELECT rows_copied || '|' || chunks FROM zetl.copy_progress
                       WHERE integration = '$NAME' AND source_table = '$DB.big'" 2>&1)
t_match $T "zetl.copy_progress holds the chunks handed off ($kept; $(field "$atkill" chunks) loaded at the kill)" \
    '^[0-9]+\|[1-9][0-9]*$' "$kept"
sleep 1.2        # started_at has whole seconds: the resumed copy's is later
e2e_run_start --metrics-file "$PROM"
resumed=
for _ in $(seq 300); do
    s=$(big_status 2>/dev/null)
    if [[ $s == "resyncing true {"* ]] && [ "$(field "${s#* * }" started_at)" != "$started1" ]; then resumed=${s#* * }; break; fi
    [[ $s == "synced "* ]] && break
    sleep 0.1
done
if [ -n "$resumed" ]; then
    rr=$(field "$resumed" rows); rc=$(field "$resumed" chunks)
    if [[ $rr =~ ^[0-9]+$ && $rc =~ ^[0-9]+$ && $kept =~ ^[0-9]+\|[0-9]+$ ]] &&
        ((rc >= ${kept#*|} && rr >= ${kept%|*} && rc <= ${kept#*|} + 8 && rr <= (rc + 2) * CHUNK)); then
        t_pass $T "the resumed copy goes on from the committed $kept (rows|chunks): $rr rows, $rc chunks"
    else
        t_fail $T "the resumed copy goes on from the committed rows|chunks $kept" \
            "chunks >= ${kept#*|} (a few more at most), rows >= ${kept%|*}" "$resumed"
    fi
    if [[ $(field "$resumed" started_at) > $started1 ]]; then t_pass $T "the resumed copy's started_at is later"
    else t_fail $T "the resumed copy's started_at" "later than $started1" "$(field "$resumed" started_at)"; fi
else
    t_fail $T "the copy resumes after the restart" "resyncing with a new started_at" "$(big_status)"
fi

# 1b. What the samples of the copy before the kill showed.
n=${#samples[@]}
if ((n >= 4)); then t_pass $T "$n samples of the copy while it ran"
else t_fail $T "samples of the copy while it ran" ">= 4" "$n: ${samples[*]:-none}"; fi
first=${samples[0]:-"{}"}; last=${samples[n-1]:-"{}"}
r0=$(field "$first" rows); r1=$(field "$last" rows); c0=$(field "$first" chunks); c1=$(field "$last" chunks)
if [[ $r0 =~ ^[0-9]+$ && $r1 =~ ^[0-9]+$ ]] && ((r1 > r0)); then t_pass $T "copy.rows grows ($r0 -> $r1)"
else t_fail $T "copy.rows grows" "a larger count last" "$r0 -> $r1"; fi
if [[ $c0 =~ ^[0-9]+$ && $c1 =~ ^[0-9]+$ ]] && ((c1 > c0 && c1 > 0)); then t_pass $T "copy.chunks grows ($c0 -> $c1)"
else t_fail $T "copy.chunks grows" "a larger count last, > 0" "$c0 -> $c1"; fi
bad=; down=; prev_r=0; prev_c=0; rate=; eta=; estimated=
for s in "${samples[@]}"; do
    r=$(field "$s" rows); c=$(field "$s" chunks); e=$(field "$s" estimated)
    [[ $r =~ ^[0-9]+$ && $c =~ ^[0-9]+$ ]] || { bad="$s"; continue; }
    ((c * CHUNK <= r && r <= (c + 2) * CHUNK)) || bad="$s"
    ((r < prev_r || c < prev_c)) && down="$s"
    prev_r=$r; prev_c=$c
    [[ $e =~ ^[0-9]+$ ]] && ((e > 0)) && estimated=$e
    [[ $(field "$s" rows_per_s) =~ ^[0-9]+(\.[0-9]+)?$ ]] && [[ $(field "$s" rows_per_s) != 0 && $(field "$s" rows_per_s) != 0.0 ]] && rate=$(field "$s" rows_per_s)
    [[ $(field "$s" eta_s) =~ ^[0-9]+$ ]] && eta=$(field "$s" eta_s)
done
t_eq $T "every sample: chunks x $CHUNK <= rows <= (chunks + 2) x $CHUNK" "" "$bad"
t_eq $T "rows and chunks never go back" "" "$down"
if [ -n "$estimated" ]; then t_pass $T "copy.estimated is the server's estimate (> 0: $estimated)"
else t_fail $T "copy.estimated > 0" "a number > 0" "$last"; fi
if [ -n "$rate" ]; then t_pass $T "copy.rows_per_s > 0 ($rate)"
else t_fail $T "copy.rows_per_s > 0" "a number > 0 in a sample" "$last"; fi
if [ -n "$eta" ]; then t_pass $T "copy.eta_s is a number of seconds ($eta)"
else t_fail $T "copy.eta_s" "a number in a sample" "$last"; fi
t_match $T "copy.started_at is an ISO 8601 time" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' \
    "$(field "$last" started_at)"
if [ -n "$metrics_seen" ]; then
    t_match $T "the metrics file has the copy's gauges" \
        "zetl_table_copy_rows\\{[^}]*\\} [0-9]+.*zetl_table_copy_rows_estimated\\{[^}]*\\} [1-9].*zetl_table_copy_chunks\\{" \
        "$(tr '\n' ' ' <<<"$metrics_seen")"
else
    t_fail $T "the metrics file has the copy's gauges" "zetl_table_copy_chunks{…table=\"$DB.big\"} > 0" \
        "$(grep zetl_table_copy "$PROM" 2>&1 | head -n 8)"
fi

# 3. Done: copy null, synced, equal.
t_wait $T "big is synced after its chunked copy" 180 state_is synced
t_eq $T "synced: copy is null" "null" "$(big_status | cut -d' ' -f3)"
t_ok $T "after the resync: zetl verify matches exactly" verify_ok
e2e_run_stop; t_eq $T "zetl run stops cleanly" "0" "$?"

# 4. PostgreSQL: the estimate is pg_class.reltuples.
NAME=$PG DB=$PG
pg_clean
zh_psql_src <<SQL >/dev/null
SET client_min_messages = warning;
CREATE SCHEMA $PG;
CREATE TABLE $PG.big (id bigint PRIMARY KEY, v int);
INSERT INTO $PG.big SELECT g, g % 97 FROM generate_series(1, 60000) g;
ANALYZE $PG.big;
SQL
reltuples=$(zh_psql_src -c "SELECT reltuples::bigint FROM pg_class WHERE oid = '$PG.big'::regclass")
if [[ $reltuples =~ ^[0-9]+$ ]] && ((reltuples > 0)); then t_pass $T "postgres: the table's reltuples ($reltuples)"
else t_fail $T "postgres: the table's reltuples after ANALYZE" "a number > 0" "\"$reltuples\""; fi
rm -rf "$E2E_DIR/state"
e2e_pg_config "$PG" "$PG"
sed -i 's/^      batch_ms: 100$/&\n      copy_chunk_rows: 2000/' "$E2E_DIR/zetl.yaml"
DBFILE=$E2E_DIR/state/zetl.db
e2e_run_start
initial=
for _ in $(seq 600); do
    s=$(big_status 2>/dev/null)
    case $s in
        "snapshotting "*) [ -z "$initial" ] && [ "$(field "${s#* * }" estimated)" != null ] && initial=${s#* * } ;;
        "synced "*) break ;;
    esac
    sleep 0.1
done
t_eq $T "postgres: the initial copy is done" "synced" "$(big_status | cut -d' ' -f1)"
if [ -n "$initial" ]; then
    t_eq $T "postgres: the initial copy's estimate is reltuples, and it goes in chunks ($initial)" "$reltuples|number" \
        "$(field "$initial" estimated)|$(field "$initial" chunks | sed 's/^[0-9][0-9]*$/number/')"
fi
t_eq $T "postgres: resync acknowledged" "ok" "$(resync)"
seen=
for _ in $(seq 300); do
    s=$(big_status 2>/dev/null)
    [[ $s == "synced "* ]] && break
    [[ $s == "resyncing true {"* ]] || { sleep 0.1; continue; }
    c=$(field "${s#* * }" chunks)
    [[ $c =~ ^[0-9]+$ ]] && ((c > 0)) && { seen=${s#* * }; break; }
    sleep 0.1
done
if [ -n "$seen" ]; then
    t_eq $T "postgres: the chunked resync's estimate is reltuples ($seen)" "$reltuples" "$(field "$seen" estimated)"
else
    t_fail $T "postgres: the chunked resync seen with chunks" "resyncing, chunks > 0" "$(big_status)"
fi
t_wait $T "postgres: big is synced after its chunked copy" 120 state_is synced
t_eq $T "postgres: synced: copy is null" "null" "$(big_status | cut -d' ' -f3)"
e2e_run_stop; t_eq $T "postgres: zetl run stops cleanly" "0" "$?"
t_done
