#!/usr/bin/env bash
# test_init.sh — the setup walkthrough, driven in tmux at 80x24 against the
# harness servers, from nothing to a synced integration:
#   MariaDB → PostgreSQL with `zetl init -c FILE`: a closed port shows
#   "refused", a name that does not resolve "DNS", a wrong password the
#   server's "Access denied" and "authentication" (the password never on
#   screen); a slow password command shows the test running and Esc cancels
#   it; the checks show their PASS/WARN lines and r runs them again; Esc goes
#   back a step keeping every value; the target DSN's password is masked;
#   a pattern picks tables with a live preview; the review shows the YAML
#   with *** for secrets; the file is written with mode 0600, `zetl check`
#   passes on it, and Enter opens the console where the tables reach synced.
#   PostgreSQL → PostgreSQL through `zetl console -c MISSING`, which opens the
#   walkthrough: a failed check asks before going on, tables picked by
#   checkbox, the password as ${VAR} (not in the file), an existing file is
#   not replaced without asking, and the integration reaches synced.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_init
DB=con_init
SCH=initpg

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
cleanup_src() {
    zh_psql_src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'zetl_initpg'" >/dev/null 2>&1
    zh_psql_src -c "DROP PUBLICATION IF EXISTS zetl_initpg" >/dev/null 2>&1
}
trap 'tm_stop; cleanup_src; e2e_cleanup; harness_stop' EXIT

zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB;
USE $DB;
CREATE TABLE orders (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO orders SELECT seq, CONCAT('o', seq) FROM seq_1_to_300;
CREATE TABLE order_lines (id INT PRIMARY KEY, order_id INT, qty INT);
INSERT INTO order_lines SELECT seq, seq % 300 + 1, seq FROM seq_1_to_100;
CREATE TABLE audit_log (at DATETIME, msg VARCHAR(50));
INSERT INTO audit_log SELECT NOW(), CONCAT('m', seq) FROM seq_1_to_20;
-- The walkthrough's row estimates are InnoDB's statistics (TABLE_ROWS), which a
-- background thread updates some time after the inserts: settle them now.
ANALYZE TABLE orders, order_lines, audit_log;
SQL
cleanup_src
zh_psql_src -q >/dev/null 2>&1 <<SQL
DROP SCHEMA IF EXISTS $SCH CASCADE;
CREATE SCHEMA $SCH;
CREATE TABLE $SCH.items (id int PRIMARY KEY, name text);
INSERT INTO $SCH.items SELECT g, 'i' || g FROM generate_series(1, 200) g;
CREATE TABLE $SCH.notes (body text);
INSERT INTO $SCH.notes SELECT 'n' || g FROM generate_series(1, 10) g;
SQL
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DROP SCHEMA IF EXISTS $SCH CASCADE;
                DELETE FROM zetl.checkpoints WHERE integration IN ('coninit', 'initpg')" >/dev/null 2>&1
tgt() { zh_psql_tgt -c "$1" 2>/dev/null; }

# A port nobody listens on: bind one, note it, close it.
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
CFG=$E2E_DIR/zetl.yaml
PGCFG=$E2E_DIR/pg.yaml
printf '%s\n' "$ZH_MY_PASSWORD" >"$E2E_DIR/pw"
chmod 600 "$E2E_DIR/pw"
no_secret_on_screen() {   # the screen holds no password
    [[ $TM_SCREEN != *"$ZH_MY_PASSWORD"* && $TM_SCREEN != *"$ZH_PG_PASSWORD"* && $TM_SCREEN != *wrong-pass* ]]
}

tm_start 80 24 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "cd $E2E_DIR && $ZETL init -c $CFG; echo INIT-EXIT=\$?"
if tm_wait '\[1 Source\]' 10 && [[ $TM_SCREEN =~ "Source kind" && $TM_SCREEN =~ "Databases" ]]; then
    t_pass $T "step 1 asks for the source"
else t_fail $T "step 1" "Source kind ... Databases" "$TM_SCREEN"; fi

# ---- 1. Source: validation, unreachable, DNS, wrong password -------------------
tm_keys F5
if tm_wait '! the user is empty' 5 && [[ $TM_SCREEN =~ "! the list is empty" ]]; then
    t_pass $T "empty required fields are flagged where they are typed"
else t_fail $T "inline validation" "! the user is empty ... ! the list is empty" "$TM_SCREEN"; fi
tm_keys Up C-u                      # the first bad field (User) has the focus → Port
tm_type 70000
tm_keys Tab
if tm_wait '! the port is a whole number from 1 to 65535' 5; then t_pass $T "port 70000 is refused on leaving the field"
else t_fail $T "port validation" "! the port is a whole number from 1 to 65535" "$TM_SCREEN"; fi
tm_keys Up C-u
tm_type "$CLOSED"
tm_keys Tab
tm_type zetl
tm_keys Tab Tab
tm_type wrong-pass
tm_keys Tab
tm_type $DB
tm_keys F5
if tm_wait 'Likely cause: connection refused' 30 && [[ $TM_SCREEN =~ "Cannot connect to mysql://127.0.0.1:$CLOSED" ]]; then
    t_pass $T "a closed port: the client's message and 'connection refused'"
else t_fail $T "closed port" "Cannot connect ... Likely cause: connection refused" "$TM_SCREEN"; fi
tm_keys Up Up Up Up Up C-u         # Databases → Password → from → User → Port → Host
tm_type nonexistent.invalid
tm_keys F5
if tm_wait 'Likely cause: DNS' 30 && [[ $TM_SCREEN =~ nonexistent\.invalid ]]; then
    t_pass $T "a name that does not resolve: 'DNS'"
else t_fail $T "DNS" "Likely cause: DNS" "$TM_SCREEN"; fi
tm_keys C-u
tm_type 127.0.0.1
tm_keys Down C-u
tm_type "$ZH_MY_PORT"
tm_keys F5
if tm_wait 'Likely cause: authentication' 30 && [[ $TM_SCREEN =~ "Access denied for user" ]]; then
    t_pass $T "a wrong password: the server's 'Access denied' and 'authentication'"
else t_fail $T "wrong password" "Access denied ... Likely cause: authentication" "$TM_SCREEN"; fi
if no_secret_on_screen && [[ $TM_SCREEN =~ Password\ +\*{10} ]]; then t_pass $T "the typed password is masked"
else t_fail $T "masked password" "Password **********, no password text" "$TM_SCREEN"; fi

# A slow password command: the test runs off the UI thread, Esc cancels it.
tm_keys Down Down Right Right Down  # Port → User → Password from: command → Command
tm_type "sleep 3; cat $E2E_DIR/pw"
tm_keys F5
if tm_wait 'Connecting to mysql://127\.0\.0\.1:[0-9]+ as zetl \.\.\.' 5; then t_pass $T "a running test shows 'Connecting to ...' with its seconds"
else t_fail $T "progress line" "Connecting to mysql://... as zetl ... Ns" "$TM_SCREEN"; fi
tm_keys Escape
if tm_wait 'Test cancelled' 3; then t_pass $T "Esc cancels a running test at once (the screen never froze)"
else t_fail $T "cancel" "Test cancelled." "$TM_SCREEN"; fi
tm_keys Up Left Left Down C-u       # Command → Password from: type it → Password
tm_type "$ZH_MY_PASSWORD"
tm_keys F5

# ---- 2. Checks --------------------------------------------------------------------
if tm_wait '\[2 Checks\]' 30 && tm_wait 'PASS +binlog_format +ROW' 30; then t_pass $T "connected: step 2 shows the checks"
else t_fail $T "checks" "PASS binlog_format ROW" "$TM_SCREEN"; fi
if [[ $TM_SCREEN =~ PASS\ +binlog_row_image\ +FULL && $TM_SCREEN =~ WARN\ +key\ of\ con_init\.audit_log ]]; then
    t_pass $T "pass lines, and a warning for the table without a primary key"
else t_fail $T "check lines" "PASS binlog_row_image FULL, WARN key of con_init.audit_log" "$TM_SCREEN"; fi
if [[ $TM_SCREEN =~ "fix: ALTER TABLE \`con_init\`.\`audit_log\` ADD PRIMARY KEY" ]]; then
    t_pass $T "the first problem is selected, its fix shown"
else t_fail $T "fix shown" "fix: ALTER TABLE ... ADD PRIMARY KEY" "$TM_SCREEN"; fi
tm_keys r
if tm_wait 'Running the preflight checks' 5 && tm_wait 'No check failed' 30; then t_pass $T "r runs the checks again"
else t_fail $T "re-run" "Running the preflight checks, then the summary" "$TM_SCREEN"; fi
tm_keys Escape
if tm_wait '\[1 Source\]' 5 && [[ $TM_SCREEN =~ Port\ +$ZH_MY_PORT && $TM_SCREEN =~ Databases\ +$DB && $TM_SCREEN =~ User\ +zetl ]]; then
    t_pass $T "Esc goes back to the source with the values kept"
else t_fail $T "Esc keeps values" "Port $ZH_MY_PORT, Databases $DB" "$TM_SCREEN"; fi
tm_keys F5
tm_wait '\[2 Checks\]' 30 && tm_wait 'No check failed' 30 || t_fail $T "back to the checks" "No check failed" "$TM_SCREEN"
tm_keys Enter

# ---- 3. Target ------------------------------------------------------------------------
if tm_wait '\[3 Target\]' 5; then t_pass $T "Enter goes on to the target"
else t_fail $T "target step" "[3 Target]" "$TM_SCREEN"; fi
tm_keys Tab
tm_type "$ZH_PGTGT_DSN"
tm_wait 'DSN' 2
if no_secret_on_screen && [[ $TM_SCREEN =~ password=\*{8} ]]; then t_pass $T "the DSN's password is masked as it is typed"
else t_fail $T "DSN masked" "password=********" "$TM_SCREEN"; fi
tm_keys Enter

# ---- 4. Tables --------------------------------------------------------------------------
if tm_wait '\[4 Tables\]' 30 && tm_wait '3 of 3 tables selected by the pattern' 30; then
    t_pass $T "target tested: step 4 lists the tables"
else t_fail $T "tables step" "3 of 3 tables selected" "$TM_SCREEN"; fi
if [[ $TM_SCREEN =~ con_init\.audit_log\ +NONE && $TM_SCREEN =~ con_init\.orders\ +pk\ +300 ]]; then
    t_pass $T "key status and row estimates; the keyless table flagged"
else t_fail $T "table list" "audit_log NONE, orders pk 300" "$TM_SCREEN"; fi
tm_keys C-u
tm_type 'con_init.order%'
if tm_wait '2 of 3 tables selected by the pattern' 5 && [[ $TM_SCREEN =~ \[x\]\ con_init\.orders && $TM_SCREEN =~ \[\ \]\ con_init\.audit_log ]]; then
    t_pass $T "the pattern's live preview"
else t_fail $T "pattern preview" "2 of 3 ... [x] con_init.orders [ ] con_init.audit_log" "$TM_SCREEN"; fi
tm_keys Enter

# ---- 5. Review and write ----------------------------------------------------------------
if tm_wait '\[5 Review\]' 5 && [[ $TM_SCREEN =~ Integration\ name\ +con_init ]]; then t_pass $T "the review names the integration after the database"
else t_fail $T "review" "Integration name con_init" "$TM_SCREEN"; fi
tm_keys C-u
tm_type coninit
tm_keys Tab Tab C-u
tm_type "$E2E_DIR/state"
if tm_wait 'password: "\*\*\*"' 5 && [[ $TM_SCREEN =~ name:\ \"coninit\" ]] && no_secret_on_screen; then
    t_pass $T "the YAML to write is shown, secrets as ***"
else t_fail $T "YAML masked" "name: \"coninit\" ... password: \"***\"" "$TM_SCREEN"; fi
tm_keys NPage
if tm_wait "include: \[\"con_init\.order%\"\]" 5 && no_secret_on_screen; then
    t_pass $T "PgDn scrolls to the tables of the YAML"
else t_fail $T "YAML scroll" "include: [\"con_init.order%\"]" "$TM_SCREEN"; fi
tm_keys Enter
if tm_wait "Wrote $CFG \(mode 0600\)" 10; then t_pass $T "the config is written"
else t_fail $T "written" "Wrote $CFG (mode 0600)" "$TM_SCREEN"; fi
t_eq $T "the file's mode is 0600" "600" "$(stat -c %a "$CFG" 2>&1)"
t_ok $T "zetl check passes on the written config" "$ZETL" check -c "$CFG"
t_eq $T "the file holds the include pattern" "1" "$(grep -c 'include: \["con_init.order%"\]' "$CFG")"

# ---- 6. Start: the console on the new config ---------------------------------------------
tm_keys Enter
if tm_wait 'coninit' 15 && tm_wait 'Integrations' 5; then t_pass $T "Enter opens the console on the new integration"
else t_fail $T "console" "coninit in the console" "$TM_SCREEN"; fi
tm_keys Enter
if tm_wait "$DB\.orders +synced" 60 && tm_wait "$DB\.order_lines +synced" 30; then t_pass $T "the console shows the tables synced"
else t_fail $T "synced on screen" "$DB.orders synced" "$TM_SCREEN"; fi
both_synced() {
    [[ $(e2e_status_field '[.integrations[] | select(.name == "coninit") | .tables[] | select(.state == "synced") | .name] | sort | join(",")') == "$DB.order_lines,$DB.orders" ]]
}
t_wait $T "zetl status --json: both tables synced" 60 both_synced
t_eq $T "the copy reached the target" "300" "$(tgt "SELECT count(*) FROM $DB.orders")"
t_eq $T "the table left out by the pattern is not copied" "" "$(tgt "SELECT to_regclass('$DB.audit_log')")"
tm_keys q
tm_wait 'Stop replication and quit' 5 && tm_keys y
if tm_wait 'INIT-EXIT=0' 30; then t_pass $T "quitting the console ends zetl init with 0"
else t_fail $T "exit" "INIT-EXIT=0" "$TM_SCREEN"; fi

# ---- 7. PostgreSQL source through `zetl console` with no config -----------------------------
tm_run "clear; $ZETL console -c $PGCFG; echo CONSOLE-EXIT=\$?"
if tm_wait "No config at $PGCFG yet" 10; then t_pass $T "zetl console without a config opens the walkthrough"
else t_fail $T "console opens the walkthrough" "No config at $PGCFG yet" "$TM_SCREEN"; fi
tm_keys Right Tab Tab C-u           # PostgreSQL; Host; Port
tm_type "$ZH_PGSRC_PORT"
tm_wait 'Schemas +public' 5
if [[ $TM_SCREEN =~ Database && ! $TM_SCREEN =~ Server\ id ]]; then t_pass $T "PostgreSQL asks for database and schemas, not server_id"
else t_fail $T "postgres fields" "Database, no Server id" "$(tm_screen)"; fi
tm_keys Tab
tm_type zetl
tm_keys Tab Right Tab               # Password from: ${VARIABLE} → Password
tm_type "$ZH_PG_PASSWORD"
tm_keys Tab C-u
tm_type ZT_INIT_PG_PW
tm_keys Tab
tm_type zetl
tm_keys Tab C-u
tm_type $SCH
tm_keys F5
tm_wait '\[2 Checks\]' 30 && tm_wait 'check.? failed' 30
tm_keys End                        # the last item: initpg.notes
if tm_wait 'FAIL +table initpg\.notes' 5 && [[ $TM_SCREEN =~ "required: a primary key, or REPLICA IDENTITY FULL" ]]; then
    t_pass $T "PostgreSQL checks: the keyless table fails, with its fix"
else t_fail $T "pg checks" "FAIL table initpg.notes ... REPLICA IDENTITY FULL" "$TM_SCREEN"; fi
tm_keys Enter
if tm_wait 'Go on to the target anyway\?' 5; then t_pass $T "a failed check: Enter asks before going on"
else t_fail $T "ask on failure" "Go on to the target anyway?" "$TM_SCREEN"; fi
tm_keys y Tab
tm_type "$ZH_PGTGT_DSN"
tm_keys Enter
tm_wait '2 of 2 tables selected by the pattern' 30 || t_fail $T "pg tables" "2 of 2 tables" "$TM_SCREEN"
tm_keys Tab j Space
if tm_wait '1 of 2 tables selected \(picked by hand\)' 5 && [[ $TM_SCREEN =~ \[\ \]\ initpg\.notes ]]; then
    t_pass $T "Space drops a table: picking by hand"
else t_fail $T "checkbox" "1 of 2 tables selected (picked by hand)" "$TM_SCREEN"; fi
tm_keys Enter
tm_wait '\[5 Review\]' 5 || t_fail $T "pg review" "[5 Review]" "$TM_SCREEN"
tm_keys C-u
tm_type initpg
tm_keys Tab C-u                    # Config file: the existing one first
tm_type "$CFG"
tm_keys Tab C-u
tm_type "$E2E_DIR/state"
sum_before=$(sha256sum "$CFG")
tm_keys Enter
if tm_wait 'already exists\. Replace it' 5; then t_pass $T "an existing file is not replaced without asking"
else t_fail $T "overwrite prompt" "already exists. Replace it" "$TM_SCREEN"; fi
tm_keys n
t_eq $T "n keeps the existing file" "$sum_before" "$(sha256sum "$CFG")"
tm_keys Up C-u
tm_type "$PGCFG"
tm_keys F5
if tm_wait "Wrote $PGCFG \(mode 0600\)" 10 && [[ $TM_SCREEN =~ "The file refers to \${ZT_INIT_PG_PW}" ]]; then
    t_pass $T "written, and the walkthrough says which variable to set"
else t_fail $T "pg written" "Wrote $PGCFG ... refers to \${ZT_INIT_PG_PW}" "$TM_SCREEN"; fi
t_eq $T "the password is a \${VAR} reference in the file" "1" "$(grep -c 'password: "${ZT_INIT_PG_PW}"' "$PGCFG")"
t_eq $T "and the source password itself is not in it" "0" "$(grep -v 'dsn:' "$PGCFG" | grep -c -F "$ZH_PG_PASSWORD")"
t_eq $T "mode 0600" "600" "$(stat -c %a "$PGCFG" 2>&1)"
t_ok $T "zetl check passes with the variable set" env ZT_INIT_PG_PW="$ZH_PG_PASSWORD" "$ZETL" check -c "$PGCFG"
t_fails $T "and names it when it is not set" "$ZETL" check -c "$PGCFG"
tm_keys Enter
tm_wait 'initpg' 15 && tm_keys Enter
if tm_wait "$SCH\.items +synced" 60; then t_pass $T "the PostgreSQL integration reaches synced (the password from the walkthrough's environment)"
else t_fail $T "pg synced" "$SCH.items synced" "$TM_SCREEN"; fi
t_eq $T "200 rows in the target" "200" "$(tgt "SELECT count(*) FROM $SCH.items")"
tm_keys q
tm_wait 'Stop replication and quit' 5 && tm_keys y
if tm_wait 'CONSOLE-EXIT=0' 30; then t_pass $T "the console exits 0"
else t_fail $T "pg exit" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi

# ---- 8. LANG=C and NO_COLOR; F1 lists the keys; SIGTERM gives the terminal back ------------
tm_stop
TM_LANG=C TM_ENV="NO_COLOR=1" tm_start 80 24 || { t_fail $T "tmux (LANG=C)" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "sh -c '$ZETL init -c $E2E_DIR/never.yaml; echo INIT-EXIT=\$?; stty -a > $E2E_DIR/stty.txt'"
tm_wait '\[1 Source\]' 10
if [[ $TM_SCREEN =~ "Source kind" ]] && [[ $(LC_ALL=C grep -c '[^ -~]' <<<"$TM_SCREEN") == 0 ]]; then
    t_pass $T "LANG=C, NO_COLOR: the walkthrough draws in plain ASCII"
else t_fail $T "ASCII" "only printable ASCII" "$TM_SCREEN"; fi
tm_keys F1
if tm_wait 'Setup: a form' 5 && [[ $TM_SCREEN =~ "test the connection and go on, from any field" ]]; then
    t_pass $T "F1 lists the step's keys from its key table"
else t_fail $T "help" "Setup: a form ... test the connection" "$TM_SCREEN"; fi
tm_keys Escape
tm_wait_not 'Setup: a form' 5 || t_fail $T "help closes" "no help box" "$TM_SCREEN"
kill -TERM "$(pgrep -n -f "^$ZETL init -c $E2E_DIR/never.yaml")" 2>/dev/null
if tm_wait 'INIT-EXIT=143' 10; then t_pass $T "SIGTERM ends the walkthrough (128+15)"
else t_fail $T "SIGTERM" "INIT-EXIT=143" "$TM_SCREEN"; fi
for _ in $(seq 1 50); do [[ -s $E2E_DIR/stty.txt ]] && break; sleep 0.1; done
stty_out=$(cat "$E2E_DIR/stty.txt" 2>/dev/null)
if [[ $stty_out =~ (^|[[:space:]])icanon && $stty_out =~ (^|[[:space:]])echo([[:space:]]|$) && ! -e $E2E_DIR/never.yaml ]]; then
    t_pass $T "SIGTERM: the terminal is restored (icanon echo) and nothing is written"
else t_fail $T "tty restored" "icanon echo, no file" "$stty_out"; fi
t_done
