# shellcheck shell=bash
#
# e2e.sh — running the real zetl binary against the harness servers.
#
#   e2e_init NAME                 work dir $E2E_DIR (removed on exit), $ZETL, log files
#   e2e_run_start [ARGS...]       `zetl run -c $E2E_DIR/zetl.yaml` in the background ($E2E_PID)
#   e2e_run_stop                  SIGTERM, wait; returns its exit status
#   e2e_run_kill9                 SIGKILL, wait
#   e2e_wait_match SECONDS        poll `zetl verify` until it reports an exact match;
#                                 0 on match, 1 on timeout ($E2E_VERIFY holds the last output)
#   e2e_status_field JQ           jq over `zetl status --json`
#   e2e_wait_running SECONDS      poll `zetl status --json` until every integration is
#                                 running (its lock held: a command to it is then taken,
#                                 not refused); 0 when so, 1 on timeout
#   e2e_rss_peak_kb               VmHWM of the running zetl (kB)
#   e2e_pg_config NAME SCHEMA [YAML]  write $E2E_DIR/zetl.yaml: integration NAME reads
#                                 SCHEMA.% of the harness PostgreSQL source into its target
#                                 (password from $E2E_PG_PASSWORD, batch_ms 100); YAML: top-level
#                                 lines put before `integrations:` (e.g. an alerts: block)
#   e2e_my_config NAME DB SERVER_ID [APPLY]  write $E2E_DIR/zetl.yaml: integration NAME
#                                 reads DB.% of the harness MariaDB into its target (password
#                                 from $E2E_MY_PASSWORD); APPLY: the apply mapping's keys
#                                 (default "batch_ms: 100")
#   e2e_pg_drop NAME SCHEMA...    drop what such an integration leaves: slots, publication, schemas
#                                 zetl_NAME, SCHEMA in source and target, its checkpoint row
#   e2e_pace_target EVERY SECS SCHEMA.TABLE...  slow the writes into those target tables,
#                                 from their first row: a row trigger sleeps SECS on one row in
#                                 EVERY (at random), put on each table now if it exists and, by
#                                 an event trigger, the moment zetl creates it
#   e2e_unpace_target             remove every such trigger and the event trigger
#
# Every run's stderr is appended to $E2E_DIR/run.log. Needs tests/lib/harness.sh
# and tests/lib/assert.sh sourced first.

e2e_init() {
    E2E_NAME=$1
    ZETL=${ZETL_BIN:-$PWD/zetl}
    E2E_DIR=$(mktemp -d "/tmp/zetl-$1.XXXXXX")
    chmod 755 "$E2E_DIR"
    E2E_PID=
}

e2e_cleanup() {
    if [ -n "${E2E_PID:-}" ]; then kill -9 "$E2E_PID" 2>/dev/null; wait "$E2E_PID" 2>/dev/null; fi
    E2E_PID=
    [ -n "${E2E_DIR:-}" ] && [ -z "${ZH_KEEP:-}" ] && rm -rf "$E2E_DIR"
}

e2e_pace_target() {
    local every=$1 secs=$2 t
    shift 2
    zh_psql_tgt >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS zt_pace;
CREATE TABLE IF NOT EXISTS zt_pace.tables (tbl text PRIMARY KEY, every int, secs float8);
CREATE OR REPLACE FUNCTION zt_pace.row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF random() * TG_ARGV[0]::int < 1 THEN PERFORM pg_sleep(TG_ARGV[1]::float8); END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION zt_pace.put(tbl text, every int, secs float8) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass(tbl) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_trigger
            WHERE tgname = 'zt_pace' AND tgrelid = to_regclass(tbl)) THEN
        EXECUTE format('CREATE TRIGGER zt_pace BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION zt_pace.row(%L, %L)',
                       tbl, every, secs);
    END IF;
END $$;
CREATE OR REPLACE FUNCTION zt_pace.on_create() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.object_identity, p.every, p.secs FROM pg_event_trigger_ddl_commands() c
             JOIN zt_pace.tables p ON p.tbl = c.object_identity WHERE c.command_tag = 'CREATE TABLE' LOOP
        PERFORM zt_pace.put(r.object_identity, r.every, r.secs);
    END LOOP;
END $$;
DROP EVENT TRIGGER IF EXISTS zt_pace;
CREATE EVENT TRIGGER zt_pace ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION zt_pace.on_create();
SQL
    for t in "$@"; do
        zh_psql_tgt -v t="$t" -v e="$every" -v s="$secs" >/dev/null <<'SQL'
INSERT INTO zt_pace.tables VALUES (:'t', :'e', :'s') ON CONFLICT (tbl) DO UPDATE SET every = EXCLUDED.every, secs = EXCLUDED.secs;
SELECT zt_pace.put(:'t', :'e', :'s');
SQL
    done
}

e2e_unpace_target() {
    zh_psql_tgt >/dev/null 2>&1 <<'SQL'
SET client_min_messages = warning;
DROP EVENT TRIGGER IF EXISTS zt_pace;
DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT tgrelid::regclass AS t FROM pg_trigger WHERE tgname = 'zt_pace' LOOP
        EXECUTE format('DROP TRIGGER zt_pace ON %s', r.t);
    END LOOP; END $$;
DROP SCHEMA IF EXISTS zt_pace CASCADE;
SQL
}

e2e_run_start() {
    "$ZETL" run -c "$E2E_DIR/zetl.yaml" "$@" 2>>"$E2E_DIR/run.log" &
    E2E_PID=$!
}

e2e_run_stop() {
    local rc=0
    [ -n "$E2E_PID" ] || return 0
    kill -TERM "$E2E_PID" 2>/dev/null
    wait "$E2E_PID" || rc=$?
    E2E_PID=
    return $rc
}

e2e_run_kill9() {
    [ -n "$E2E_PID" ] || return 0
    kill -9 "$E2E_PID" 2>/dev/null
    wait "$E2E_PID" 2>/dev/null
    E2E_PID=
}

e2e_wait_match() {
    local deadline=$((SECONDS + $1))
    while :; do
        E2E_VERIFY=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" 2>&1) && return 0
        [ $SECONDS -ge $deadline ] && return 1
        sleep 1
    done
}

e2e_status_field() {
    local out
    if ! out=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" --json 2>"$E2E_DIR/status.err"); then
        echo "e2e: zetl status failed: $(cat "$E2E_DIR/status.err")" >&2
        return 1
    fi
    jq -r "$1" <<<"$out" 2>>"$E2E_DIR/status.err" || echo "e2e: status output not JSON: ${out:0:300}" >&2
}

e2e_wait_running() {
    local deadline=$((SECONDS + $1))
    while :; do
        [ "$(e2e_status_field '[.integrations[].running] | length > 0 and all' 2>/dev/null)" = true ] && return 0
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

e2e_rss_peak_kb() {
    awk '/VmHWM/ {print $2}' "/proc/$E2E_PID/status" 2>/dev/null || echo 0
}

e2e_pg_config() {
    export E2E_PG_PASSWORD=$ZH_PG_PASSWORD
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
${3:-}
integrations:
  - name: $1
    source:
      kind: postgres
      host: 127.0.0.1
      port: $ZH_PGSRC_PORT
      user: $ZH_PG_USER
      password: \${E2E_PG_PASSWORD}
      database: zetl
      schemas: [$2]
    target:
      kind: postgres
      dsn: "$ZH_PGTGT_DSN"
    tables:
      include: ["$2.%"]
    apply:
      batch_ms: 100
YAML
}

# e2e_my_config NAME DB SERVER_ID [APPLY]: integration NAME from MariaDB
# database DB to the harness target, or to $E2E_TARGET_DSN when set (e.g. a
# target reached through tests/lib/proxy.sh).
e2e_my_config() {
    export E2E_MY_PASSWORD=$ZH_MY_PASSWORD
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: $1
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$2], server_id: $3}
    target: {kind: postgres, dsn: "${E2E_TARGET_DSN:-$ZH_PGTGT_DSN}"}
    tables: {include: ["$2.%"]}
    apply: {${4:-batch_ms: 100}}
YAML
}

# e2e_my_table NAME DB ROWS: a fresh MariaDB database DB with one table
# DB.t (id INT PRIMARY KEY, v VARCHAR(20)) of ROWS rows (v = 'rN'), and
# integration NAME's target schema and checkpoint gone.
e2e_my_table() {
    zh_mysql <<SQL
DROP DATABASE IF EXISTS $2;
CREATE DATABASE $2;
USE $2;
CREATE TABLE $2.t (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO $2.t SELECT seq, CONCAT('r', seq) FROM seq_1_to_$3;
SQL
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $2 CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$1'" >/dev/null 2>&1
}

# e2e_pg_drop NAME SCHEMA...: integration NAME's replication slots (zetl_NAME
# and its temporary ones; with no zetl of the test running, each once its
# walsender is gone: up to 5 s) and publication go from the source, the
# SCHEMAs from both servers, and its checkpoint: other tests count the
# slots on the shared source.
e2e_pg_drop() {
    local name=$1 i s tries=10; shift
    [ -n "${E2E_PID:-}" ] && kill -0 "$E2E_PID" 2>/dev/null && tries=1
    for ((i = 0; i < tries; i++)); do
        [ "$(zh_psql_src -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'zetl_$name' OR slot_name LIKE 'zetl\_$name\_rs\_%'")" = 0 ] && break
        zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                        WHERE (slot_name = 'zetl_$name' OR slot_name LIKE 'zetl\_$name\_rs\_%') AND NOT active" >/dev/null 2>&1
        ((i + 1 < tries)) && sleep 0.5
    done
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_$name" >/dev/null 2>&1
    for s in "$@"; do
        zh_psql_src -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1
        zh_psql_tgt -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1
    done
    zh_psql_tgt -c "DELETE FROM zetl.checkpoints WHERE integration = '$name'" >/dev/null 2>&1
}
