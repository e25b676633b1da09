#!/usr/bin/env bash
# test_check_mysql.sh — `zetl check` against a real MariaDB and a real
# PostgreSQL target: a good server passes; binlog_row_image=MINIMAL and
# binlog_format=STATEMENT fail with the fix; a keyless table is flagged;
# wrong password, unreachable host and a clashing server_id fail with their
# causes; a least-privilege user (SELECT on the database + REPLICATION
# SLAVE/CLIENT) sees the keys as they are, and a missing grant's fix names
# the account the server matched ('user'@'127.0.0.1'); the target is checked
# too: a target on a dead port fails naming host:port; no password is ever
# printed.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
ZETL=${ZETL_BIN:-./zetl}
T=test_check_mysql
fails=0
pass() { echo "PASS $T: $1"; }
fail() { echo "FAIL $T: $1 — expected $2, saw $3"; fails=$((fails + 1)); }
has() { if grep -qF -- "$2" <<<"$out"; then pass "$1"; else fail "$1" "output containing '$2'" "${out:0:1500}"; fi; }
hasnt() { if grep -qF -- "$2" <<<"$out"; then fail "$1" "no '$2' in output" "${out:0:1500}"; else pass "$1"; fi; }
run_check() { out=$("$ZETL" check -c "$work/zetl.yaml" 2>&1); rc=$?; }

harness_start mariadb pgtgt || { echo "FAIL $T: harness — expected MariaDB and PostgreSQL to start, saw a failure"; exit 1; }
work=$(mktemp -d)
cleanup() {
    zh_mysql -e "SET GLOBAL binlog_row_image=FULL; SET GLOBAL binlog_format=ROW; DROP DATABASE IF EXISTS chk_db;
                 DROP USER IF EXISTS 'chk_lp'@'%', 'chk_lp'@'127.0.0.1'" >/dev/null 2>&1
    rm -rf "$work"
}
trap 'cleanup; harness_stop' EXIT

zh_mysql <<'SQL'
DROP DATABASE IF EXISTS chk_db;
CREATE DATABASE chk_db;
CREATE TABLE chk_db.keyed (id INT PRIMARY KEY, v TEXT);
CREATE TABLE chk_db.loose (a INT, b TEXT);
CREATE TABLE chk_db.named (code VARCHAR(8) PRIMARY KEY, v TEXT);
CREATE TABLE chk_db.uniq (u BIGINT NOT NULL, w INT, v TEXT, UNIQUE KEY (u), UNIQUE KEY (w));
SQL

# The closed port is asked of the kernel's table of sockets, then left closed.
free_port() { comm -23 <(seq "$1" "$(($1 + 100))" | sort) <(ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u) | head -1; }
export CHK_TGT_PW=$ZH_PG_PASSWORD
write_config() {   # $1: password line, $2: server_id, $3: port, $4: user, $5: target port
    cat >"$work/zetl.yaml" <<YAML
state_dir: $work/state
integrations:
  - name: chk
    source:
      kind: mysql
      host: 127.0.0.1
      port: ${3:-$ZH_MY_PORT}
      user: ${4:-$ZH_MY_USER}
      $1
      databases: [chk_db]
      server_id: ${2:-4242}
    target:
      kind: postgres
      dsn: "host=127.0.0.1 port=${5:-$ZH_PGTGT_PORT} dbname=zetl user=zetl password=\${CHK_TGT_PW}"
    tables:
      include: ["chk_db.%"]
YAML
}

export CHK_PW=$ZH_MY_PASSWORD
write_config 'password: ${CHK_PW}'
run_check
[ $rc -eq 0 ] && pass "a correctly set up MariaDB passes (exit 0)" || fail "a correctly set up MariaDB passes" "exit 0" "exit $rc: ${out:0:1500}"
has "names the server flavour" "MariaDB 10."
has "binlog_format checked" "PASS  binlog_format"
has "binlog_row_image checked" "PASS  binlog_row_image"
has "binlog_row_metadata checked" "PASS  binlog_row_metadata"
has "privileges checked" "PASS  replication privileges"
has "keyless table flagged" "WARN  key of chk_db.loose"
has "keyless table: what zetl does" "keys it by the full row"
has "selected tables counted" "4 selected, 2 of them without a primary key, 2 copied in one read"
has "a keyless table with a unique key of NOT NULL integers: keyed and in chunks by it" \
    "unique key of NOT NULL integers is the key zetl applies its updates and deletes by, and lets its initial copy and a resync go in chunks by it"
has "a keyless table without one: in one read" "its initial copy and a resync copy it in one read"
has "a string-keyed table: copied in one read, said so" "PASS  copy of chk_db.named"
has "what a one-read copy means for the initial copy and a resync" "its initial copy and a resync cannot go in chunks, and start again from the first row if cut short"
hasnt "an integer-keyed table is not named as one read" "copy of chk_db.keyed"
has "the target is checked: connected" "PASS  connect"
has "the target is checked: zetl may create its schemas" "PASS  create schema and table"
hasnt "password not printed" "$ZH_MY_PASSWORD"

zh_mysql -e "SET GLOBAL binlog_row_image=MINIMAL"
run_check
[ $rc -eq 1 ] && pass "binlog_row_image=MINIMAL fails check (exit 1)" || fail "binlog_row_image=MINIMAL fails check" "exit 1" "exit $rc"
has "MINIMAL shown as current value" "FAIL  binlog_row_image               MINIMAL"
has "fix for a self-managed MariaDB" "fix: SET GLOBAL binlog_row_image=FULL"
has "fix for RDS/Aurora with reboot" "RDS/Aurora: set binlog_row_image=FULL in the DB parameter group"
zh_mysql -e "SET GLOBAL binlog_row_image=FULL; SET GLOBAL binlog_format=STATEMENT"
run_check
[ $rc -eq 1 ] && pass "binlog_format=STATEMENT fails check (exit 1)" || fail "binlog_format=STATEMENT fails check" "exit 1" "exit $rc"
has "STATEMENT shown with the fix" "fix: SET GLOBAL binlog_format=ROW"
zh_mysql -e "SET GLOBAL binlog_format=ROW"

write_config 'password: wrong-password-xyz'
run_check
[ $rc -eq 1 ] && pass "wrong password fails (exit 1)" || fail "wrong password fails" "exit 1" "exit $rc"
has "server's own message shown" "Access denied for user"
has "likely cause named" "authentication failed"
hasnt "wrong password not echoed" "wrong-password-xyz"

write_config "password_command: \"printf '%s\\\\n' '$ZH_MY_PASSWORD'\""
run_check
[ $rc -eq 0 ] && pass "password_command output is used" || fail "password_command output is used" "exit 0" "exit $rc: ${out:0:800}"
hasnt "password_command output never printed" "$ZH_MY_PASSWORD"

write_config 'password: ${CHK_PW}' 1
run_check
[ $rc -eq 1 ] && pass "server_id equal to the source's fails" || fail "server_id equal to the source's fails" "exit 1" "exit $rc"
has "server_id clash explained" "the same as zetl's source.server_id"

# A port where nothing listens (ask the kernel for a free one, then leave it closed).
closed=$(free_port 40000)
write_config 'password: ${CHK_PW}' 4242 "$closed"
run_check
[ $rc -eq 1 ] && pass "unreachable server fails (exit 1)" || fail "unreachable server fails" "exit 1" "exit $rc"
has "refused connection explained" "is the server running and listening"

# A least-privilege user: SELECT on the database and the replication grants,
# nothing else (MariaDB then hides information_schema.TABLE_CONSTRAINTS).
# chk_lp@% exists too, so the server's choice of chk_lp@127.0.0.1 shows.
zh_mysql <<SQL
CREATE USER 'chk_lp'@'%' IDENTIFIED BY 'lp-pw-other';
CREATE USER 'chk_lp'@'127.0.0.1' IDENTIFIED BY '$ZH_MY_PASSWORD';
GRANT SELECT ON chk_db.* TO 'chk_lp'@'127.0.0.1';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'chk_lp'@'127.0.0.1';
SQL
write_config 'password: ${CHK_PW}' 4242 "" chk_lp
run_check
[ $rc -eq 0 ] && pass "least-privilege user: check passes (exit 0)" || fail "least-privilege user passes" "exit 0" "exit $rc: ${out:0:1500}"
hasnt "least-privilege user: the keyed table is not flagged" "key of chk_db.keyed"
has "least-privilege user: the keyless table is still flagged" "WARN  key of chk_db.loose"
has "least-privilege user: two of four tables without a key" "4 selected, 2 of them without a primary key, 2 copied in one read"

# The copy agrees with the check: zetl run as the same user gives the target
# table a primary key exactly where check saw one (the loader reads the keys
# from the same catalog rows).
zh_psql_tgt -c "DROP SCHEMA IF EXISTS chk_db CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'chk'" >/dev/null 2>&1
"$ZETL" run -c "$work/zetl.yaml" >"$work/run.log" 2>&1 &
run_pid=$!
pk_of() { zh_psql_tgt -Atc "SELECT count(*) FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
                            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname = 'chk_db' AND c.relname = '$1' AND i.indisprimary" 2>/dev/null; }
copied() { [[ $(zh_psql_tgt -Atc "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'chk_db'" 2>/dev/null) == 4 ]]; }
for _ in $(seq 150); do copied && break; sleep 0.2; done
kill -TERM "$run_pid" 2>/dev/null; wait "$run_pid" 2>/dev/null
[[ $(pk_of keyed) == 1 ]] && pass "least-privilege copy: the keyed table has its primary key in the target" \
    || fail "least-privilege copy keeps the key" "a primary key on chk_db.keyed" "$(pk_of keyed); $(tail -3 "$work/run.log")"
[[ $(pk_of loose) == 0 ]] && pass "least-privilege copy: the keyless table has none, as check said" \
    || fail "least-privilege copy: keyless" "no primary key on chk_db.loose" "$(pk_of loose)"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS chk_db CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'chk'" >/dev/null 2>&1

# Without REPLICATION CLIENT the fix names the account the server matched.
zh_mysql -e "REVOKE REPLICATION CLIENT ON *.* FROM 'chk_lp'@'127.0.0.1'"
run_check
[ $rc -eq 1 ] && pass "missing REPLICATION CLIENT fails (exit 1)" || fail "missing REPLICATION CLIENT fails" "exit 1" "exit $rc"
has "the GRANT names the matched account" "fix: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'chk_lp'@'127.0.0.1'"
hasnt "the GRANT does not guess '%'" "TO 'chk_lp'@'%'"

# A target on a port where nothing listens fails, naming host:port, with exit 1.
dead=$(free_port 41000)
write_config 'password: ${CHK_PW}' 4242 "" "" "$dead"
run_check
[ $rc -eq 1 ] && pass "dead target fails check (exit 1)" || fail "dead target fails check" "exit 1" "exit $rc: ${out:0:1500}"
has "dead target named by host:port" "target chk: postgres://127.0.0.1:$dead/zetl"
has "dead target: the connection failure and its cause" "FAIL  connect                        connection refused"
has "dead target: counted in the integration's total" "integration chk: 1 failed"
hasnt "target password not printed" "$ZH_PG_PASSWORD"

exit $((fails > 0))
