#!/usr/bin/env bash
# test_console_shape.sh — a table's mode in the console (tmux), attached to a
# `zetl run`: the Tables view's MODE column says "soft delete, hash 1, mask 1"
# for a soft-delete table with a hashed and a masked column, and nothing for
# a plain one; the describe pane (`d`) says how deletes land and names each
# transformed column; `zetl status --json` carries the same shape. The hash
# key is never on the screen.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_shape
DB=con_shape
NAME=conshape
KEY="console-shape-hash-key-0123456789"

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
cleanup() {
    tm_stop
    e2e_cleanup
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME';
                    DELETE FROM zetl.table_shapes WHERE integration = '$NAME'" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB;
    CREATE TABLE $DB.people (id INT PRIMARY KEY, email VARCHAR(80), phone VARCHAR(20));
    INSERT INTO $DB.people VALUES (1, 'a@example.com', '555-1234567');
    CREATE TABLE $DB.plainer (id INT PRIMARY KEY, v INT); INSERT INTO $DB.plainer VALUES (1, 1)"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null 2>&1
export E2E_MY_PASSWORD=$ZH_MY_PASSWORD ZETL_T_KEY=$KEY
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: $NAME
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$DB], server_id: 6567}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$DB.%"], hash_columns: ["$DB.people.email"], mask_columns: ["$DB.people.phone"],
             hash_key: "\${ZETL_T_KEY}", soft_delete: ["$DB.people"]}
    apply: {batch_ms: 100}
YAML
e2e_run_start
if e2e_wait_match 60; then t_pass $T "copied: zetl verify matches"
else t_fail $T "copied" "zetl verify: match" "$E2E_VERIFY"; fi
t_match $T "status --json: the table's shape" "^email=hash:[0-9a-f]{8},phone=mask,soft_delete$" \
    "$(e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.people\") | .shape")"
t_eq $T "status --json: a plain table's shape is null" "null" \
    "$(e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.plainer\") | .shape")"

TM_ENV="E2E_MY_PASSWORD=$ZH_MY_PASSWORD ZETL_T_KEY=$KEY"
tm_start 200 40 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait "$NAME" 15 || t_fail $T "console up" "$NAME on screen" "$TM_SCREEN"
tm_keys Enter        # the attach notice, or into the Tables view
tm_wait "MODE" 3 || tm_keys Enter
if tm_wait "MODE" 10 && tm_wait "$DB\.people .*synced.*soft delete, hash 1, mask 1" 10; then
    t_pass $T "Tables view: MODE says soft delete, hash 1, mask 1"
else t_fail $T "Tables view MODE" "soft delete, hash 1, mask 1" "$TM_SCREEN"; fi
plain=$(grep -m1 "$DB\.plainer " <<<"$TM_SCREEN")
if [[ -n $plain && $plain != *hash* && $plain != *soft* ]]; then t_pass $T "Tables view: the plain table has no mode"
else t_fail $T "plain table's MODE" "empty" "$plain"; fi
# people is selected: the first row (both synced, then by name).
tm_keys d
if tm_wait "Deletes +soft: marked \(_zetl_is_deleted, _zetl_deleted_at\), not removed" 10; then
    t_pass $T "describe: deletes are soft"
else t_fail $T "describe: Deletes" "soft: marked" "$TM_SCREEN"; fi
if tm_wait "Transforms +email hash, phone mask" 5; then t_pass $T "describe: the transformed columns named"
else t_fail $T "describe: Transforms" "email hash, phone mask" "$TM_SCREEN"; fi
if grep -q "$KEY" <<<"$TM_SCREEN"; then t_fail $T "the hash key is not on the screen" "absent" "present"
else t_pass $T "the hash key is not on the screen"; fi
tm_keys Escape
tm_keys q
tm_wait 'CONSOLE-EXIT=0' 10 || t_fail $T "q quits the attached console" "CONSOLE-EXIT=0" "$TM_SCREEN"
e2e_run_stop >/dev/null
t_done
