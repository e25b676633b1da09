#!/usr/bin/env bash
# test_console_layout.sh — the console uses the terminal and follows and
# filters its lists, against a real MariaDB → PostgreSQL integration whose
# state_dir's parents do not exist yet (they are created before the lock):
#   80x24: the target reads postgres://host:port/db (no password anywhere on
#   screen); Tables keeps INS/UPD/DEL/APPLIED; `/` narrows the list as it is
#   typed (before Enter) and Esc drops it; `s`/`S` sort by name and reverse,
#   the title saying so; the Activity position range shows its end; Events
#   follows new events without a key (the newest is selected) and, scrolled
#   down, counts "N new"; `a` shows every integration's events; a long
#   reason (a second integration whose target port is closed) wraps to its
#   end; Ctrl-L repaints over bytes written behind curses' back.
#   200x60: SOURCE -> TARGET shows whole in the row, and BY whole actors.
#   The runtime's own transitions carry the actor "zetl", not the operator.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_layout
DB=con_lay

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'tm_stop; e2e_cleanup; harness_stop' EXIT

zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB;
USE $DB;
CREATE TABLE alpha (id INT PRIMARY KEY, v INT);
CREATE TABLE gamma (id INT PRIMARY KEY, v INT);
CREATE TABLE mid (id INT PRIMARY KEY, v INT);
INSERT INTO alpha SELECT seq, seq FROM seq_1_to_50;
INSERT INTO gamma SELECT seq, seq FROM seq_1_to_50;
INSERT INTO mid SELECT seq, seq FROM seq_1_to_50;
SQL
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration IN ('conlay', 'conbad')" >/dev/null 2>&1
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
ST=$E2E_DIR/not/yet/there/state
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $ST
integrations:
  - name: conlay
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "$ZH_MY_PASSWORD", databases: [$DB], server_id: 6464}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$DB.%"]}
    apply: {batch_ms: 100}
  - name: conbad
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "$ZH_MY_PASSWORD", databases: [$DB], server_id: 6465}
    target: {kind: postgres, dsn: "host=127.0.0.1 port=$CLOSED dbname=nowhere user=zetl password=hunter2-tgt connect_timeout=2"}
    tables: {include: ["$DB.alpha"]}
YAML
sq() { sqlite3 "$ST/zetl.db" "$1" 2>/dev/null; }
no_secret() { [[ $TM_SCREEN != *"$ZH_PG_PASSWORD"* && $TM_SCREEN != *hunter2* && $TM_SCREEN != *password* ]]; }

TM_ENV="SSH_CLIENT='10.0.0.7 51234 22'" tm_start 80 24 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"

# ---- state_dir with missing parents: replication starts --------------------------
if tm_wait 'conlay +active' 30; then t_pass $T "a state_dir whose parents do not exist: replication starts"
else t_fail $T "missing parents" "conlay active" "$TM_SCREEN"; fi
t_eq $T "the lock sits in the created state_dir" "yes" "$([ -f "$ST/conlay.lock" ] && echo yes || echo no)"

# ---- the target as the sources are shown, no password ------------------------------
# the selected integration's detail line names its target (whichever reported first)
if tm_wait "mysql://127\.0\.0\.1:$ZH_MY_PORT (→|->) postgres://127\.0\.0\.1:($CLOSED/nowhere|$ZH_PGTGT_PORT/zetl)" 10 && no_secret; then
    t_pass $T "the target reads postgres://127.0.0.1:PORT/db, no password on screen"
else t_fail $T "target shown" "postgres://127.0.0.1:PORT/db and no password" "$TM_SCREEN"; fi
t_eq $T "the state log holds the target as a URL" "postgres://127.0.0.1:$CLOSED/nowhere" \
    "$(sq "SELECT target FROM integrations WHERE name = 'conbad'")"

# ---- filter as you type on the home view -------------------------------------------
tm_keys /; tm_type conl
if tm_wait 'Filter: conl' 5 && [[ $TM_SCREEN =~ $'\n'conlay\  && ! $TM_SCREEN =~ $'\n'conbad\  ]]; then
    t_pass $T "Integrations: / narrows the list as it is typed (before Enter)"
else t_fail $T "integrations filter as you type" "conlay without conbad, no Enter" "$TM_SCREEN"; fi
tm_keys Enter

# ---- Tables at 80: the useful columns, sort, filter -------------------------------
tm_keys Enter
if tm_wait "$DB\.mid +synced" 30 && tm_wait "$DB\.alpha +synced" 10 && tm_wait "$DB\.gamma +synced" 10; then
    t_pass $T "the three tables are synced"
else t_fail $T "synced" "three synced tables" "$TM_SCREEN"; fi
zh_mysql -e "USE $DB; INSERT INTO $DB.mid SELECT seq, seq FROM seq_1001_to_1020; UPDATE $DB.gamma SET v = v + 1 WHERE id <= 5;"
tm_wait "$DB\.mid +synced +20 " 10
header=$(tm_screen | grep -m1 'TABLE ')
if [[ $header =~ INS && $header =~ UPD && $header =~ DEL && $header =~ APPLIED ]]; then
    t_pass $T "80 columns: INS, UPD, DEL and APPLIED are shown"
else t_fail $T "80 columns useful" "INS UPD DEL APPLIED in the header" "$header"; fi
long=$(tm_screen | awk 'length($0) > 80' | wc -l)
t_eq $T "80 columns: no line overflows" "0" "$long"
tm_keys s                                               # state → name
if tm_wait 'sort: name a-z' 5; then t_pass $T "s sorts by name; the title says 'name a-z'"
else t_fail $T "sort name" "sort: name a-z" "$TM_SCREEN"; fi
order=$(tm_screen | awk '$1 ~ /^'$DB'\./ && $2 != "→" && $2 != "->" {printf "%s ", $1}')
t_eq $T "name a-z: alpha, gamma, mid" "$DB.alpha $DB.gamma $DB.mid " "$order"
tm_keys S
if tm_wait 'sort: name z-a' 5; then t_pass $T "S reverses; the title says 'name z-a'"
else t_fail $T "reverse sort" "sort: name z-a" "$TM_SCREEN"; fi
order=$(tm_screen | awk '$1 ~ /^'$DB'\./ && $2 != "→" && $2 != "->" {printf "%s ", $1}')
t_eq $T "name z-a: mid, gamma, alpha" "$DB.mid $DB.gamma $DB.alpha " "$order"
t_match $T "the sorted column's header carries the direction" "TABLE[▼v]" "$(tm_screen | grep -m1 'STATE')"
tm_keys /; tm_type gam
if tm_wait '1 of 3 tables' 5 && [[ $TM_SCREEN =~ $DB\.gamma && ! $TM_SCREEN =~ $DB\.alpha ]]; then
    t_pass $T "Tables: / narrows to gamma as it is typed (before Enter)"
else t_fail $T "tables filter as you type" "1 of 3 tables, gamma only" "$TM_SCREEN"; fi
tm_keys Escape
if tm_wait '3 of 3 tables' 5; then t_pass $T "Esc drops the filter being typed"
else t_fail $T "Esc drops filter" "3 of 3 tables" "$TM_SCREEN"; fi

# ---- Ctrl-L repaints -------------------------------------------------------------
tty=$(tmux -L "$TM_SOCK" display-message -p -t t '#{pane_tty}')
printf '\033[12;5HGARBAGE-ZX-GARBAGE' >"$tty"
if tm_wait 'GARBAGE-ZX' 3; then t_pass $T "bytes written behind curses' back show"
else t_fail $T "garbage shows" "GARBAGE-ZX on screen" "$TM_SCREEN"; fi
tm_keys C-l
if tm_wait_not 'GARBAGE-ZX' 3 && [[ $TM_SCREEN =~ $DB\.gamma ]]; then t_pass $T "Ctrl-L repaints the whole screen"
else t_fail $T "Ctrl-L" "no GARBAGE-ZX, the tables again" "$TM_SCREEN"; fi

# ---- Activity at 80: the range shows its end ----------------------------------------
tm_keys Tab
tm_wait 'Activity of conlay' 5
sleep 1
end=$(sq "SELECT pos_to FROM activity WHERE integration = 'conlay' ORDER BY id DESC LIMIT 1")
end_tail=${end##*:}
row=$(tm_screen | grep -m1 -A1 'POSITION RANGE' | tail -n 1)
if [[ -n $end_tail && $row == *"$end_tail"* ]]; then t_pass $T "80 columns: the newest range shows its end ($end_tail)"
else t_fail $T "range end" "the newest row ends with $end_tail ($end)" "$row"; fi

# ---- Events: tail, N new, all integrations, a long reason wraps ---------------------
tm_keys Tab Tab
tm_wait 'Events of conlay' 5
cmd() { sq "INSERT INTO commands (integration, command, actor, created_at) VALUES ('conlay', '$1', 'ops-script', strftime('%s','now') * 1000)"; }
cmd pause
if tm_wait 'paused' 10; then t_pass $T "a new event appears without a key pressed"
else t_fail $T "events tail" "paused event" "$TM_SCREEN"; fi
detail=$(tm_screen | tail -n 6)
t_match $T "the newest event is selected (the line below the list is it)" "pause" "$detail"
tm_keys j j
sleep 0.5
cmd resume
if tm_wait '[0-9]+ new' 10; then t_pass $T "scrolled down, new events are counted ('N new')"
else t_fail $T "N new" "N new in the title" "$TM_SCREEN"; fi
tm_keys g
tm_wait_not '[0-9]+ new' 5 && t_pass $T "g goes back to the newest and follows" || t_fail $T "g follows" "no N new" "$TM_SCREEN"
tm_keys a
if tm_wait 'Events of all integrations' 5 && tm_wait 'conbad' 20; then t_pass $T "a: every integration's events in one feed"
else t_fail $T "global feed" "Events of all integrations with conbad" "$TM_SCREEN"; fi
tm_keys l l                                       # errors only: conbad's target failure
tm_wait 'level: errors' 5
if tm_wait 'pg_hba|password|refused|connect' 30; then
    reason=$(sq "SELECT message FROM events WHERE integration = 'conbad' AND level = 'error' ORDER BY id DESC LIMIT 1")
    last_words=$(tr -s ' ' <<<"$reason" | awk '{print $(NF-1), $NF}')
    flat=$(tm_screen | tail -n 7 | tr -s ' \n' '  ')
    if (( ${#reason} > 80 )) && [[ $flat == *"$last_words"* ]]; then
        t_pass $T "a long reason (${#reason} chars) wraps below the list: its end ('$last_words') is visible"
    else t_fail $T "long reason wraps" "the end '$last_words' of a ${#reason}-char reason" "$flat"; fi
else t_fail $T "error event" "conbad's error event" "$TM_SCREEN"; fi
tm_keys l

# ---- 200x60: SOURCE -> TARGET and BY whole ----------------------------------------
tmux -L "$TM_SOCK" resize-window -t t -x 200 -y 60
tm_keys Tab                                        # Events → Integrations
tm_wait 'LAST ERROR' 5
if [[ $TM_SCREEN =~ conlay\ +mysql://127\.0\.0\.1:$ZH_MY_PORT\ (→|->)\ postgres://127\.0\.0\.1:$ZH_PGTGT_PORT/zetl\ +[a-z] ]]; then
    t_pass $T "200 columns: SOURCE -> TARGET is whole in the row"
else t_fail $T "route at 200" "conlay mysql://... -> postgres://127.0.0.1:$ZH_PGTGT_PORT/zetl STATE" "$TM_SCREEN"; fi
tm_keys /; tm_type conlay; tm_keys Enter          # conlay selected
tm_keys p
tm_wait 'conlay +paused' 10
tm_keys p
tm_wait 'conlay +active' 10
tm_keys Tab Tab Tab Tab                            # → Events
tm_wait 'Events of all integrations' 5
if tm_wait 'console by [a-z0-9_]+ from 10\.0\.0\.7' 10; then t_pass $T "200 columns: BY shows the whole actor with its address"
else t_fail $T "BY at 200" "console by USER from 10.0.0.7" "$(tm_screen | grep -E 'pause|resum' | head -5)"; fi

# ---- actors ------------------------------------------------------------------------
runtime_actors=$(sq "SELECT DISTINCT actor FROM events WHERE integration = 'conlay' AND kind = 'transition' AND message NOT LIKE '%paused%' AND message NOT LIKE '%resumed%'")
t_eq $T "the runtime's own transitions are by zetl, not the operator" "zetl" "$runtime_actors"
t_match $T "a key pressed is by the operator" "console by .* from 10\.0\.0\.7" \
    "$(sq "SELECT actor FROM events WHERE integration = 'conlay' AND message LIKE '%paused%' ORDER BY id DESC LIMIT 1")"

tm_keys q; tm_wait 'Stop replication' 5; tm_keys y
tm_wait 'CONSOLE-EXIT=[0-9]' 20
t_match $T "the console exits 0" "CONSOLE-EXIT=0" "$TM_SCREEN"
t_done
