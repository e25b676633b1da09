#!/usr/bin/env bash
# test_console_notice.sh — a server NOTICE never writes over the console:
# the PostgreSQL source raises one on every DDL zetl runs there (an event
# trigger fires on its CREATE PUBLICATION), which libpq's default notice
# processor would print on stderr, i.e. over the curses screen. The
# integration reaches synced and the screen holds no NOTICE text.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_notice
SCH=connotice

harness_start pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
cleanup() {
    zh_psql_src -c "DROP EVENT TRIGGER IF EXISTS zetl_test_notice; DROP FUNCTION IF EXISTS zetl_test_notice()" >/dev/null 2>&1
    e2e_pg_drop connotice $SCH
}
trap 'tm_stop; cleanup; e2e_cleanup; harness_stop' EXIT
cleanup
zh_psql_src -q >/dev/null 2>&1 <<SQL
CREATE SCHEMA $SCH;
CREATE TABLE $SCH.items (id int PRIMARY KEY, v int);
INSERT INTO $SCH.items SELECT g, g FROM generate_series(1, 50) g;
CREATE FUNCTION zetl_test_notice() RETURNS event_trigger LANGUAGE plpgsql AS
  \$\$ BEGIN RAISE NOTICE 'ZETL-TEST-NOTICE % ran', tg_tag; END \$\$;
CREATE EVENT TRIGGER zetl_test_notice ON ddl_command_end EXECUTE FUNCTION zetl_test_notice();
SQL
e2e_pg_config connotice $SCH
# the trigger really raises a NOTICE to a client (psql prints it)
probe=$(zh_psql_src -c "CREATE TABLE $SCH.probe (id int); DROP TABLE $SCH.probe" 2>&1)
t_match $T "the source raises a NOTICE on DDL" "ZETL-TEST-NOTICE" "$probe"

TM_ENV="E2E_PG_PASSWORD=$ZH_PG_PASSWORD" tm_start 80 24 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait 'connotice' 15
tm_keys Enter
if tm_wait "$SCH\.items +synced" 30; then t_pass $T "the integration reaches synced"
else t_fail $T "synced" "$SCH.items synced" "$TM_SCREEN"; fi
t_eq $T "zetl created the publication (the trigger fired)" "1" \
    "$(zh_psql_src -Atc "SELECT count(*) FROM pg_publication WHERE pubname = 'zetl_connotice'" 2>/dev/null)"
if [[ $TM_SCREEN =~ NOTICE || $TM_SCREEN =~ ZETL-TEST ]]; then
    t_fail $T "no NOTICE on screen" "no NOTICE text" "$TM_SCREEN"
else t_pass $T "no NOTICE text on the screen"; fi
tm_keys q; tm_wait 'Stop replication' 5; tm_keys y
tm_wait 'CONSOLE-EXIT=[0-9]' 20
if [[ $TM_SCREEN =~ ZETL-TEST ]]; then t_fail $T "no NOTICE at exit" "no NOTICE text" "$TM_SCREEN"
else t_pass $T "no NOTICE text after the console either"; fi
t_done
