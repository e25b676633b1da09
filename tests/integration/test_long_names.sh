#!/usr/bin/env bash
# test_long_names.sh — names longer than the target keeps, and two source
# objects that would land in one target object (README "Target names"):
# real MariaDB source, real PostgreSQL target, the real `zetl run`.
#   1. two 64-character table names differing only in the last character
#      become two target tables, each named by the documented rule (first 54
#      bytes, "_", 8 hex digits of FNV-1a 32 of the whole name); `zetl verify`
#      matches exactly
#   2. a 64-character column in the initial copy, and another added by ALTER
#      TABLE while streaming (same first 63 characters): both streamed under
#      their own target names, no ADD COLUMN retry loop; a third one left out
#      by exclude_columns, which matches its source name; a resync of that
#      table while streaming
#   3. a rename rule that sends one table onto another's target name: `zetl
#      check` fails naming both and the fix; at start both tables are failed
#      with that reason (one line), nothing is written to that target table,
#      and the integration's other table syncs and streams
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
T=test_long_names
DB=e2e_longn
DBC=e2e_longc

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
drop_all() {
    zh_mysql -e "DROP DATABASE IF EXISTS $DB; DROP DATABASE IF EXISTS $DBC" >/dev/null 2>&1
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DROP SCHEMA IF EXISTS $DBC CASCADE;
                    DELETE FROM zetl.checkpoints WHERE integration IN ('longn', 'longc')" >/dev/null 2>&1
}
trap 'e2e_cleanup; drop_all; harness_stop' EXIT

# The documented rule, computed here independently of zetl.
fnv32() {
    local s=$1 h=2166136261 i c
    for ((i = 0; i < ${#s}; i++)); do
        printf -v c '%d' "'${s:i:1}"
        h=$(( ((h ^ c) * 16777619) & 0xFFFFFFFF ))
    done
    printf '%08x' "$h"
}
fit63() { if ((${#1} <= 63)); then echo "$1"; else echo "${1:0:54}_$(fnv32 "$1")"; fi; }

P=$(printf 'x%.0s' {1..61})
L1="t_${P}a"                    # 64 characters
L2="t_${P}b"
C1="c_${P}1"                    # 64-character columns: the same first 63 characters
C2="c_${P}2"
C3="s_${P}3"                    # left out by exclude_columns, matched by its source name
t_eq $T "the names are 64 characters" "64 64 64 64 64" "${#L1} ${#L2} ${#C1} ${#C2} ${#C3}"

drop_all
zh_mysql -e "CREATE DATABASE $DB; CREATE DATABASE $DBC;
  CREATE TABLE $DB.\`$L1\` (id INT PRIMARY KEY, v VARCHAR(10));
  CREATE TABLE $DB.\`$L2\` (id INT PRIMARY KEY, v VARCHAR(10));
  INSERT INTO $DB.\`$L1\` VALUES (1, 'a1'), (2, 'a2');
  INSERT INTO $DB.\`$L2\` VALUES (1, 'b1'), (2, 'b2'), (3, 'b3');
  CREATE TABLE $DB.wide (id INT PRIMARY KEY, \`$C1\` INT, \`$C3\` INT);
  INSERT INTO $DB.wide VALUES (1, 10, -1), (2, 20, -2);
  CREATE TABLE $DBC.src_a (id INT PRIMARY KEY, v INT);
  CREATE TABLE $DBC.src_b (id INT PRIMARY KEY, v INT);
  CREATE TABLE $DBC.ok (id INT PRIMARY KEY, v INT);
  INSERT INTO $DBC.src_a VALUES (1, 1), (2, 2);
  INSERT INTO $DBC.src_b VALUES (5, 5);
  INSERT INTO $DBC.ok VALUES (1, 100)"

export E2E_MY_PASSWORD=$ZH_MY_PASSWORD
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: longn
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$DB], server_id: 7301}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$DB.%"], exclude_columns: ["$DB.wide.$C3"]}
    apply: {batch_ms: 100}
  - name: longc
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$DBC], server_id: 7302}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables:
      include: ["$DBC.%"]
      rename: [{from: "$DBC.src_a", to: "$DBC.src_b"}]
    apply: {batch_ms: 100}
YAML

# ---- 3a. zetl check refuses the clash, names both and the fix ----------------------
rc=0
out=$("$ZETL" check -c "$E2E_DIR/zetl.yaml" 2>&1) || rc=$?
t_eq $T "zetl check exits 1 on the clash" "1" "$rc"
line=$(grep -E 'FAIL +target names' <<<"$out")
t_match $T "check: one FAIL line names both source tables and the target" \
    "tables $DBC\\.src_a and $DBC\\.src_b both become target table $DBC\\.src_b" "$line"
t_match $T "check: the fix is a rename rule" "fix: .*tables\\.rename" "$out"
t_match $T "check: the long names pass, 3 tables shortened" \
    "PASS +target names +3 tables, each with target names of its own; 3 with a name shortened" "$out"

# ---- 1. two 64-character tables: two target tables, exact ---------------------------
e2e_run_start
deadline=$((SECONDS + 90)); vout=
while :; do
    vout=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" -i longn 2>&1) && break
    [ $SECONDS -ge $deadline ] && break
    sleep 1
done
t_match $T "verify: $L1 matches with its 2 rows" "match +$DB\\.$L1 +2 rows" "$vout"
t_match $T "verify: $L2 matches with its 3 rows" "match +$DB\\.$L2 +3 rows" "$vout"
want=$(printf '%s\n' "$(fit63 "$L1")" "$(fit63 "$L2")" wide | sort | tr '\n' ' ')
got=$(zh_psql_tgt -c "SELECT table_name FROM information_schema.tables WHERE table_schema = '$DB' ORDER BY 1" | sort | tr '\n' ' ')
t_eq $T "two target tables, named by the documented rule" "$want" "$got"
t_eq $T "the first table's rows in its own target table" "1:a1 2:a2" \
    "$(zh_psql_tgt -c "SELECT string_agg(id || ':' || v, ' ' ORDER BY id) FROM $DB.\"$(fit63 "$L1")\"")"

# ---- 2. a 64-character column: copied, then another added while streaming ----------
t_eq $T "the copied 64-character column has its target name; the excluded one is left out" "id $(fit63 "$C1")" \
    "$(zh_psql_tgt -c "SELECT string_agg(column_name, ' ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '$DB' AND table_name = 'wide'")"
zh_mysql -e "ALTER TABLE $DB.wide ADD COLUMN \`$C2\` INT;
             INSERT INTO $DB.wide (id, \`$C1\`, \`$C2\`) VALUES (3, 30, 300);
             UPDATE $DB.wide SET \`$C2\` = 200, \`$C1\` = 21 WHERE id = 2;
             INSERT INTO $DB.\`$L1\` VALUES (3, 'a3'); DELETE FROM $DB.\`$L2\` WHERE id = 1"
wide_rows() { zh_psql_tgt -c "SELECT string_agg(id || ':' || coalesce(\"$(fit63 "$C1")\"::text, '-') || ':' || coalesce(\"$(fit63 "$C2")\"::text, '-'), ' ' ORDER BY id) FROM $DB.wide" 2>/dev/null; }
wide_ok() { [ "$(wide_rows)" = "1:10:- 2:21:200 3:30:300" ]; }
t_wait $T "the added 64-character column streams under its own target name" 60 wide_ok
t_eq $T "wide in the target" "1:10:- 2:21:200 3:30:300" "$(wide_rows)"
deadline=$((SECONDS + 60))
while :; do
    vout=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" -i longn 2>&1) && break
    [ $SECONDS -ge $deadline ] && break
    sleep 1
done
t_match $T "verify after the ALTER: every table of longn matches" "match +$DB\\.wide +3 rows" "$vout"
t_eq $T "verify after the ALTER: no mismatch" "" "$(grep -E 'MISMATCH|REFUSED' <<<"$vout")"
t_eq $T "no ADD COLUMN retry: nothing 'already exists' in the log" "0" "$(grep -c 'already exists' "$E2E_DIR/run.log")"
t_match $T "the log says which column was added under which name" \
    "added column $C2 as $(fit63 "$C2")" "$(cat "$E2E_DIR/run.log") $("$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>&1)"
t_eq $T "longn is active" "active" "$(e2e_status_field '.integrations[] | select(.name == "longn") | .state')"

# ---- 2b. a resync of the table with long columns, changes during it -----------------
out=$("${ZETL_BUILD:-build}/tools/zetl_command" "$E2E_DIR/state/zetl.db" longn resync "$DB.wide" 2>&1)
t_eq $T "resync of wide acknowledged" "ok" "$out"
zh_mysql -e "INSERT INTO $DB.wide (id, \`$C1\`, \`$C2\`) VALUES (4, 40, 400); UPDATE $DB.wide SET \`$C2\` = 100 WHERE id = 1"
wide_ok2() { [ "$(wide_rows)" = "1:10:100 2:21:200 3:30:300 4:40:400" ]; }
t_wait $T "after the resync, wide holds every change under the target names" 60 wide_ok2
wide_synced() { [ "$(e2e_status_field ".integrations[] | select(.name == \"longn\") | .tables[] | select(.name == \"$DB.wide\") | .state")" = synced ]; }
t_wait $T "wide is synced after its resync" 60 wide_synced
vout=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" -i longn -t "$DB.wide" 2>&1)
t_match $T "verify after the resync: wide matches" "match +$DB\\.wide +4 rows" "$vout"

# ---- 3b. the clash at start: both failed with the reason, the other table runs -------
st() { e2e_status_field ".integrations[] | select(.name == \"longc\") | .tables[] | select(.name == \"$1\") | $2"; }
t_eq $T "src_a is failed" "failed" "$(st "$DBC.src_a" .state)"
t_eq $T "src_b is failed" "failed" "$(st "$DBC.src_b" .state)"
t_match $T "src_a's reason names both and the fix" \
    "^tables $DBC\\.src_a and $DBC\\.src_b both become target table $DBC\\.src_b; .*tables\\.rename" "$(st "$DBC.src_a" .reason)"
t_eq $T "the reason is one line" "1" "$(st "$DBC.src_a" .reason | wc -l)"
t_eq $T "stderr says it once per table at start" "2" \
    "$(grep -c "table $DBC\\.src_[ab] -> failed: tables $DBC.src_a and $DBC.src_b both become" "$E2E_DIR/run.log")"
t_eq $T "nothing written to the shared target table" "0" \
    "$(zh_psql_tgt -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = '$DBC' AND table_name = 'src_b'")"
zh_mysql -e "INSERT INTO $DBC.ok VALUES (2, 200); INSERT INTO $DBC.src_a VALUES (3, 3)"
ok_rows() { [ "$(zh_psql_tgt -c "SELECT string_agg(id || ':' || v, ' ' ORDER BY id) FROM $DBC.ok" 2>/dev/null)" = "1:100 2:200" ]; }
t_wait $T "the other table of longc copies and streams" 60 ok_rows
t_match $T "longc needs attention, saying why" "refused" \
    "$(e2e_status_field '.integrations[] | select(.name == "longc") | .state + ": " + (.reason // "")')"
rc=0
vout=$("$ZETL" verify -c "$E2E_DIR/zetl.yaml" -i longc 2>&1) || rc=$?
t_eq $T "verify longc exits 1 (refused tables)" "1" "$rc"
t_match $T "verify lists src_a as REFUSED with the reason" "REFUSED +$DBC\\.src_a +tables $DBC\\.src_a and $DBC\\.src_b" "$vout"
t_match $T "verify: ok matches" "match +$DBC\\.ok +2 rows" "$vout"
e2e_run_stop
t_eq $T "SIGTERM stops zetl cleanly" "0" "$?"
t_done
