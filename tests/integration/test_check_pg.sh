#!/usr/bin/env bash
# test_check_pg.sh — `zetl check` against a real PostgreSQL source whose
# tables belong to another role: zetl's user has REPLICATION and CREATE on
# the database but owns no table, so it cannot CREATE PUBLICATION … FOR
# TABLE; the check fails naming the tables, their owner and the statement
# the owner runs. Once the owner has created the publication, the check
# passes and warns that zetl cannot ALTER or DROP it. A superuser passes.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
ZETL=${ZETL_BIN:-./zetl}
T=test_check_pg

harness_start pgsrc pgtgt || { t_fail $T "harness" "PostgreSQL up" "start failed"; t_done; }
work=
SCHEMA=chk_app
cleanup() {
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_chkpg; DROP SCHEMA IF EXISTS $SCHEMA CASCADE;
                    REVOKE ALL ON DATABASE zetl FROM chk_owner, chk_repl;
                    DROP ROLE IF EXISTS chk_repl; DROP ROLE IF EXISTS chk_owner" >/dev/null 2>&1
    rm -rf "$work"
}
trap 'cleanup; harness_stop' EXIT
cleanup; work=$(mktemp -d)

zh_psql_src -q >/dev/null <<SQL
CREATE ROLE chk_owner;
CREATE ROLE chk_repl LOGIN REPLICATION PASSWORD '$ZH_PG_PASSWORD';
GRANT CREATE ON DATABASE zetl TO chk_repl, chk_owner;
CREATE SCHEMA $SCHEMA AUTHORIZATION chk_owner;
CREATE TABLE $SCHEMA.accounts (id int PRIMARY KEY, v text);
CREATE TABLE $SCHEMA.orders (id int PRIMARY KEY, v text);
ALTER TABLE $SCHEMA.accounts OWNER TO chk_owner;
ALTER TABLE $SCHEMA.orders OWNER TO chk_owner;
GRANT USAGE ON SCHEMA $SCHEMA TO chk_repl;
GRANT SELECT ON ALL TABLES IN SCHEMA $SCHEMA TO chk_repl;
SQL

export CHK_PW=$ZH_PG_PASSWORD
write_config() {   # $1: source user
    cat >"$work/zetl.yaml" <<YAML
state_dir: $work/state
integrations:
  - name: chkpg
    source:
      kind: postgres
      host: 127.0.0.1
      port: $ZH_PGSRC_PORT
      user: $1
      password: \${CHK_PW}
      database: zetl
      schemas: [$SCHEMA]
      tls: disable
    target:
      kind: postgres
      dsn: "host=127.0.0.1 port=$ZH_PGTGT_PORT dbname=zetl user=zetl password=\${CHK_PW}"
    tables:
      include: ["$SCHEMA.%"]
YAML
}
run_check() { out=$("$ZETL" check -c "$work/zetl.yaml" 2>&1); rc=$?; }

# 1. The tables belong to chk_owner: chk_repl cannot create the publication.
write_config chk_repl
run_check
t_eq $T "tables owned by another role: check fails (exit 1)" 1 "$rc"
t_match $T "the publication check fails, naming the tables and their owner" \
    'FAIL  create publication +"zetl_chkpg" does not exist and chk_repl cannot create it: it does not own 2 of the selected tables \(owner chk_owner\): "chk_app"."accounts", "chk_app"."orders"' "$out"
t_match $T "the fix is the statement the owner runs" \
    'fix: as the tables.? owner \(chk_owner\) or a superuser, run: CREATE PUBLICATION "zetl_chkpg" FOR TABLE "chk_app"."accounts", "chk_app"."orders";' "$out"
t_eq $T "no password in the output" 0 "$(grep -c -- "$ZH_PG_PASSWORD" <<<"$out")"

# 2. The owner runs that statement: zetl uses the publication, and warns it cannot ALTER or DROP it.
zh_psql_src -q -c "SET ROLE chk_owner; CREATE PUBLICATION zetl_chkpg FOR TABLE $SCHEMA.accounts, $SCHEMA.orders" >/dev/null
run_check
t_eq $T "with the owner's publication: check passes (exit 0)" 0 "$rc"
t_match $T "the publication is used" 'PASS  publication zetl_chkpg +publishes insert update delete truncate' "$out"
t_match $T "its owner is named: zetl cannot ALTER or DROP it" \
    'WARN  publication owner +chk_owner, not chk_repl: zetl streams from it but cannot ALTER or DROP it' "$out"
zh_psql_src -q -c "DROP PUBLICATION zetl_chkpg" >/dev/null

# 3. A superuser may create it. A table keyed by text is named: its copy
# cannot go in chunks; the integer-keyed ones are not. Of two tables
# without a primary key (REPLICA IDENTITY FULL), the one with a unique key
# of NOT NULL integers goes in chunks by it, the other (its unique column
# nullable) in one read.
zh_psql_src -q -c "CREATE TABLE $SCHEMA.codes (code text PRIMARY KEY, v int);
                   CREATE TABLE $SCHEMA.pairs (a int, b bigint, v int, PRIMARY KEY (a, b));
                   CREATE TABLE $SCHEMA.uniq (u bigint NOT NULL UNIQUE, v text);
                   ALTER TABLE $SCHEMA.uniq REPLICA IDENTITY FULL;
                   CREATE TABLE $SCHEMA.nuniq (u bigint UNIQUE, v text);
                   ALTER TABLE $SCHEMA.nuniq REPLICA IDENTITY FULL;
                   CREATE TABLE $SCHEMA.ridx (u bigint NOT NULL, v text);
                   CREATE UNIQUE INDEX ridx_u ON $SCHEMA.ridx (u);
                   ALTER TABLE $SCHEMA.ridx REPLICA IDENTITY USING INDEX ridx_u" >/dev/null
write_config "$ZH_PG_USER"
run_check
t_eq $T "a superuser: check passes (exit 0)" 0 "$rc"
t_match $T "a superuser: zetl creates the publication" 'PASS  create publication +"zetl_chkpg" does not exist yet; zetl creates it' "$out"
t_match $T "a text-keyed table: copied in one read, said so" \
    'PASS  copy of chk_app.codes +copied in one read: its primary key is not all integers, so its initial copy and a resync cannot go in chunks' "$out"
t_eq $T "integer-keyed tables (one column, composite) are not named as one read" "" \
    "$(grep -E 'copy of chk_app\.(accounts|orders|pairs)' <<<"$out")"
t_match $T "no primary key, a unique key of NOT NULL integers: keyed and copied in chunks by it" \
    'WARN  table chk_app.uniq +no primary key \(REPLICA IDENTITY FULL\): its unique key of NOT NULL integers is the key; that key lets its initial copy and a resync go in chunks' "$out"
t_match $T "no primary key, a nullable unique column: copied in one read" \
    'WARN  table chk_app.nuniq +no primary key \(REPLICA IDENTITY FULL\): the full row is the key; its initial copy and a resync copy it in one read' "$out"
t_match $T "no primary key, REPLICA IDENTITY USING an index of NOT NULL integers: keyed by it" \
    'WARN  table chk_app.ridx +no primary key \(REPLICA IDENTITY INDEX\): its unique key of NOT NULL integers is the key' "$out"

# 4. REPLICA IDENTITY USING an index on text (no primary key): the old rows
# carry only that column, too little for zetl: a failure, with the fix.
zh_psql_src -q -c "CREATE TABLE $SCHEMA.tidx (code text NOT NULL, v int);
                   CREATE UNIQUE INDEX tidx_code ON $SCHEMA.tidx (code);
                   ALTER TABLE $SCHEMA.tidx REPLICA IDENTITY USING INDEX tidx_code" >/dev/null
run_check
t_eq $T "a text replica identity index without a primary key: check fails (exit 1)" 1 "$rc"
t_match $T "and says why, with the fix" \
    'FAIL  table chk_app.tidx +no primary key and REPLICA IDENTITY USING INDEX on columns that are not all NOT NULL integers.*fix: ALTER TABLE "?chk_app"?\."?tidx"? REPLICA IDENTITY FULL' "$out"
zh_psql_src -q -c "DROP TABLE $SCHEMA.tidx" >/dev/null
t_done
