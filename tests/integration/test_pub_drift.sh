#!/usr/bin/env bash
# test_pub_drift.sh — the PostgreSQL publication changed behind zetl's back.
#   pub     ALTER PUBLICATION … DROP TABLE while streaming, rows inserted into
#           that table (lost from the stream): it goes resync_required with the
#           reason, the table is back in the publication, the other table keeps
#           streaming, and a resync command makes it exact.
#   publim  the same when zetl's user may not alter the publication: marked,
#           with why and the statement to run; the publication is left alone.
# PUB_PARTS picks parts (default: both).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_pub_drift
CMD=${ZETL_BUILD:-build}/tools/zetl_command
PARTS=${PUB_PARTS:-pub publim}
want() { [[ " $PARTS " == *" $1 "* ]]; }

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
DBFILE=$E2E_DIR/state/zetl.db
cleanup() {
    e2e_cleanup
    e2e_pg_drop drift drift
    e2e_pg_drop dead_lim dead_lim
    zh_psql_src -c "DROP OWNED BY dead_lim; DROP ROLE dead_lim" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
export E2E_PG_PASSWORD=$ZH_PG_PASSWORD
tbl_field() { e2e_status_field ".integrations[] | select(.name == \"$1\") | .tables[] | select(.name == \"$2\") | $3"; }

if want pub; then
    S=drift
    e2e_pg_drop $S $S
    zh_psql_src -c "CREATE SCHEMA $S; CREATE TABLE $S.t (id serial PRIMARY KEY, v text);
                    CREATE TABLE $S.u (id serial PRIMARY KEY, v text);
                    INSERT INTO $S.t (v) SELECT 'seed' FROM generate_series(1, 100);
                    INSERT INTO $S.u (v) SELECT 'seed' FROM generate_series(1, 100)" >/dev/null
    e2e_pg_config $S $S
    e2e_run_start
    if e2e_wait_match 90; then t_pass $T "pub: initial copy matches"
    else t_fail $T "pub: initial copy" "zetl verify: match" "$E2E_VERIFY"; fi
    zh_psql_src -c "ALTER PUBLICATION zetl_$S DROP TABLE $S.u" >/dev/null
    sleep 1
    zh_psql_src -c "INSERT INTO $S.u (v) SELECT 'lost' FROM generate_series(1, 244)" >/dev/null
    zh_psql_src -c "INSERT INTO $S.t (v) VALUES ('after-drift')" >/dev/null
    u_state() { [ "$(tbl_field $S $S.u .state)" = resync_required ]; }
    t_wait $T "pub: u is resync_required" 45 u_state
    t_match $T "pub: the reason says it left the publication and changes are lost" \
        "removed from publication zetl_$S.*lost.*added it back" "$(tbl_field $S $S.u .reason)"
    t_eq $T "pub: the publication holds u again" "1" \
        "$(zh_psql_src -c "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'zetl_$S' AND tablename = 'u'")"
    t_eq $T "pub: t kept its state" "synced" "$(tbl_field $S $S.t .state)"
    t_eq $T "pub: t kept streaming meanwhile" "1" "$(zh_psql_tgt -c "SELECT count(*) FROM $S.t WHERE v = 'after-drift'")"
    zh_psql_src -c "INSERT INTO $S.t (v) VALUES ('after-drift-2')" >/dev/null
    t_arrived() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $S.t WHERE v = 'after-drift-2'")" = 1 ]; }
    t_wait $T "pub: t still streams after the repair" 20 t_arrived
    out=$("$CMD" "$DBFILE" $S resync "$S.u"); t_eq $T "pub: resync acknowledged" "ok" "$out"
    if e2e_wait_match 90; then t_pass $T "pub: after the resync the table is exact (the 244 lost rows are back)"
    else t_fail $T "pub: resync" "zetl verify: match" "$E2E_VERIFY"; fi
    u_synced() { [ "$(tbl_field $S $S.u .state)" = synced ]; }
    t_wait $T "pub: u is synced again" 30 u_synced
    e2e_run_stop
fi

# ---- publim: the drift cannot be repaired (zetl's user may not alter the publication) -----------
if want publim; then
    L=dead_lim
    e2e_pg_drop $L $L
    zh_psql_src -c "DROP ROLE IF EXISTS $L" >/dev/null 2>&1
    zh_psql_src -c "CREATE ROLE $L LOGIN REPLICATION PASSWORD 'lim-pw';
                    CREATE SCHEMA $L; CREATE TABLE $L.t (id serial PRIMARY KEY, v text);
                    CREATE TABLE $L.u (id serial PRIMARY KEY, v text);
                    INSERT INTO $L.u (v) SELECT 'seed' FROM generate_series(1, 10);
                    GRANT USAGE ON SCHEMA $L TO $L; GRANT SELECT ON ALL TABLES IN SCHEMA $L TO $L;
                    CREATE PUBLICATION zetl_$L FOR TABLE $L.t, $L.u" >/dev/null
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: $L
    source: {kind: postgres, host: 127.0.0.1, port: $ZH_PGSRC_PORT, user: $L,
             password: "lim-pw", database: zetl, schemas: [$L]}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$L.%"]}
    apply: {batch_ms: 100}
YAML
    e2e_run_start
    if e2e_wait_match 90; then t_pass $T "publim: initial copy as a user who does not own the publication"
    else t_fail $T "publim: initial copy" "zetl verify: match" "$E2E_VERIFY"; fi
    zh_psql_src -c "ALTER PUBLICATION zetl_$L DROP TABLE $L.u; INSERT INTO $L.u (v) VALUES ('lost')" >/dev/null
    lim_state() { [ "$(tbl_field $L $L.u .state)" = resync_required ]; }
    t_wait $T "publim: u is resync_required" 45 lim_state
    t_match $T "publim: the reason says the repair failed, why, and the statement to run" \
        "adding it back failed.*must be owner.*run: ALTER PUBLICATION \"?zetl_$L\"? ADD TABLE \"?$L\"?\.\"?u\"?" \
        "$(tbl_field $L $L.u .reason)"
    t_eq $T "publim: the publication was left as it was" "0" \
        "$(zh_psql_src -c "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'zetl_$L' AND tablename = 'u'")"
    zh_psql_src -c "INSERT INTO $L.t (v) VALUES ('still')" >/dev/null
    lim_t() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM $L.t WHERE v = 'still'")" = 1 ]; }
    t_wait $T "publim: t keeps streaming" 20 lim_t
    e2e_run_stop
    e2e_pg_drop $L $L
    zh_psql_src -c "DROP OWNED BY $L; DROP ROLE $L" >/dev/null 2>&1
fi
t_done
