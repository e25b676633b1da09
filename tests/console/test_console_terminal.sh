#!/usr/bin/env bash
# test_console_terminal.sh — the console in different terminals, against a
# real MariaDB → PostgreSQL integration: at 200x60 every table column shows;
# at 80x24 the empty and low-priority columns give way and nothing overlaps; a live
# resize (80x24 → 200x60) re-lays out; with LANG=C and TERM=vt100 (and
# NO_COLOR) it falls back to ASCII and still shows synced; an idle console
# thread uses under 2% CPU and writes (almost) nothing to the terminal.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_terminal
DB=con_term

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'tm_stop; e2e_cleanup; harness_stop' EXIT

zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB;
USE $DB;
CREATE TABLE $DB.accounts (id INT PRIMARY KEY, v INT);
INSERT INTO $DB.accounts SELECT seq, seq FROM seq_1_to_100;
SQL
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'conterm'" >/dev/null 2>&1
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: conterm
    source:
      kind: mysql
      host: 127.0.0.1
      port: $ZH_MY_PORT
      user: $ZH_MY_USER
      password: $ZH_MY_PASSWORD
      databases: [$DB]
      server_id: 6363
    target:
      kind: postgres
      dsn: "$ZH_PGTGT_DSN"
    tables:
      include: ["$DB.%"]
YAML

# Ends the console in the pane (q, y) and waits for the shell.
quit_console() {
    tm_keys q; tm_wait 'Stop replication' 5; tm_keys y
    tm_wait 'CONSOLE-EXIT=[0-9]' 20
}

# 1. 200x60: every column of the Tables view.
tm_start 200 60 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
t_eq $T "the pane is 200x60" "200x60" "$(tm_size)"
tm_run "$ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait 'conterm' 15
if tm_wait 'SOURCE -> TARGET +STATE' 5 && [[ $TM_SCREEN =~ "LAST ERROR" && $TM_SCREEN =~ "RUN BY" ]]; then
    t_pass $T "200x60: the home view shows every column"
else t_fail $T "200x60 home columns" "SOURCE -> TARGET ... LAST ERROR ... RUN BY" "$TM_SCREEN"; fi
tm_keys Enter
if tm_wait "$DB\.accounts +$DB\.accounts +synced" 30 && [[ $TM_SCREEN =~ TARGET.*STATE.*PROGRESS.*INS.*UPD.*DEL.*COPIED.*APPLIED.*LAG.*REASON ]]; then
    t_pass $T "200x60: every Tables column, the table synced"
else t_fail $T "200x60 tables columns" "TARGET STATE PROGRESS INS UPD DEL COPIED APPLIED LAG REASON" "$TM_SCREEN"; fi
# no line longer than the pane
long=$(tm_screen | awk 'length($0) > 200' | wc -l)
t_eq $T "200x60: no line overflows" "0" "$long"

# 2. Live resize to 80x24: columns give way, nothing overlaps.
tmux -L "$TM_SOCK" resize-window -t t -x 80 -y 24
# the columns with nothing to show (REASON, PROGRESS: synced, no reason) give way first
if tm_wait 'TABLE +STATE' 5 && [[ ! $TM_SCREEN =~ REASON && ! $TM_SCREEN =~ PROGRESS && $TM_SCREEN =~ INS ]]; then
    t_pass $T "resize to 80x24: empty columns give way, INS stays"
else t_fail $T "resize to 80x24" "TABLE STATE INS without REASON and PROGRESS" "$TM_SCREEN"; fi
t_match $T "80x24: the table is still shown synced" "$DB\.accounts +synced" "$TM_SCREEN"
long=$(tm_screen | awk 'length($0) > 80' | wc -l)
t_eq $T "80x24: no line overflows" "0" "$long"
t_match $T "80x24: the key hints are on the last line" "r resync +R resync failed" "$(tm_screen | tail -n 1)"
tmux -L "$TM_SOCK" resize-window -t t -x 200 -y 60
if tm_wait 'REASON' 5; then t_pass $T "resize back to 200x60: the columns return"
else t_fail $T "resize back" "COPIED column" "$TM_SCREEN"; fi

# 3. Idle: the console thread sleeps. Wait for the stream to settle first.
sleep 2
zpid=$(pgrep -n -x zetl -P "$(tm_pane_pid)")
ticks() { awk '{print $14 + $15}' "/proc/$zpid/task/$zpid/stat" 2>/dev/null; }
hz=$(getconf CLK_TCK)
tmux -L "$TM_SOCK" pipe-pane -t t "cat >> $E2E_DIR/pane.out"
t0=$(ticks)
sleep 5
t1=$(ticks)
bytes=$(stat -c %s "$E2E_DIR/pane.out" 2>/dev/null || echo 0)
tm_keys Tab; tm_wait 'Activity of conterm' 5; tm_keys S-Tab; tm_wait 'TABLE +STATE' 5
sleep 0.3
tmux -L "$TM_SOCK" pipe-pane -t t
after=$(stat -c %s "$E2E_DIR/pane.out" 2>/dev/null || echo 0)
if (( after > bytes )); then t_pass $T "the terminal output is captured (a key redraws: $((after - bytes)) bytes)"
else t_fail $T "output capture works" "bytes after a key press" "$bytes -> $after"; fi
cpu_pct=$(( (t1 - t0) * 100 * 100 / (hz * 5) ))   # hundredths of a percent
if [[ -n $t0 && -n $t1 ]] && (( cpu_pct < 200 )); then t_pass $T "idle console thread under 2% CPU ($((cpu_pct / 100)).$((cpu_pct % 100))%)"
else t_fail $T "idle CPU" "under 2%" "$((cpu_pct / 100)).$((cpu_pct % 100))% (ticks $t0 -> $t1)"; fi
if (( bytes < 20000 )); then t_pass $T "idle: $bytes bytes to the terminal in 5 s"
else t_fail $T "idle output" "under 20000 bytes in 5 s" "$bytes"; fi
quit_console
t_match $T "the console exits 0" "CONSOLE-EXIT=0" "$TM_SCREEN"

# 4. LANG=C, TERM=vt100, NO_COLOR: ASCII, and still usable.
tm_stop
tm_start 80 24
tm_run "clear; LANG=C LC_ALL=C TERM=vt100 NO_COLOR=1 $ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
if tm_wait 'conterm' 15 && tm_wait 'mysql://127\.0\.0\.1:[0-9]+ -> ' 10; then t_pass $T "LANG=C TERM=vt100: ASCII arrow"
else t_fail $T "ASCII arrow" "mysql://... -> ..." "$TM_SCREEN"; fi
t_eq $T "LANG=C: no UTF-8 glyph on screen" "0" "$(tm_screen | grep -c $'\xe2\x86\x92\|\xe2\x96')"
tm_keys Enter
if tm_wait "$DB\.accounts +synced" 15; then t_pass $T "vt100: the Tables view shows synced"
else t_fail $T "vt100 tables" "synced" "$TM_SCREEN"; fi
tm_keys '?'
if tm_wait 'Everywhere' 5; then t_pass $T "vt100: the help view"
else t_fail $T "vt100 help" "Everywhere" "$TM_SCREEN"; fi
tm_keys Escape
quit_console
t_match $T "vt100: the console exits 0" "CONSOLE-EXIT=0" "$TM_SCREEN"

# 4b. Every terminal type an SSH session is likely to bring (all in ncurses-base).
for term in xterm xterm-256color screen tmux linux; do
    tm_run "clear; TERM=$term $ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
    if tm_wait 'conterm' 15 && { tm_keys Enter; tm_wait "$DB\.accounts +synced" 15; }; then
        t_pass $T "TERM=$term: home view and the Tables view with synced"
    else
        t_fail $T "TERM=$term: usable" "the Tables view with synced" "$TM_SCREEN"
    fi
    quit_console
    t_match $T "TERM=$term: the console exits 0" "CONSOLE-EXIT=0" "$TM_SCREEN"
done

# 5. NO_COLOR on a colour terminal: no colour sequences; without it, colours.
colour_run() {   # $1: extra env; prints how many colour SGR sequences were written
    rm -f "$E2E_DIR/raw.out"
    tm_run "clear"
    tmux -L "$TM_SOCK" pipe-pane -t t "cat >> $E2E_DIR/raw.out"
    tm_run "$1 TERM=xterm-256color $ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
    tm_wait 'conterm +active' 15 >/dev/null
    tm_keys Enter; tm_wait "$DB\.accounts +synced" 10 >/dev/null
    quit_console >/dev/null
    tmux -L "$TM_SOCK" pipe-pane -t t
    grep -aoE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5;[0-9]+|48;5;[0-9]+)(;[0-9;]*)?m' "$E2E_DIR/raw.out" | wc -l
}
n=$(colour_run "NO_COLOR=1")
t_eq $T "NO_COLOR=1 on xterm-256color: no colour sequences" "0" "$n"
n=$(colour_run "")
if (( n > 0 )); then t_pass $T "without NO_COLOR: colours are used ($n sequences)"
else t_fail $T "colours without NO_COLOR" "colour sequences" "none"; fi
t_done
