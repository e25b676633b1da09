#!/usr/bin/env bash
# test_console_ha.sh — with ha (issue 24), the console and `zetl status` say
# which member runs each integration and who stands by. This host's member is
# hostB: it stands by for `shop` (hostA holds its lease, epoch 4) and holds
# `tick` (epoch 7). The console attaches to a stand-in for `zetl run` (a
# process holding both locks) and only reads the log, which is filled with
# sqlite3 as the runtime writes it (runtime/integ/ha.c). No servers needed.
#   Before any ha field is written: no HOLDER column, no ha line, none in
#   `zetl status` (nothing changes without ha).
#   100x30: HOLDER shows `hostA` for shop and `hostB (this)` for tick; the
#   standby state is dim (theme: healthy, another member runs it), not the
#   cyan of an unknown state; the line below the list names the holder, its
#   pid and the epoch, this process's part and the standbys; a change of the
#   standbys alone is redrawn with no key pressed; `d` shows Lease, This
#   process and Standbys, and on a table the one ha line.
#   80x24: HOLDER still shows, no line overflows, and the ha line is whole.
#   `zetl status`: one `ha:` line per integration.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_ha

e2e_init $T
holder=
trap 'tm_stop; [ -n "$holder" ] && kill "$holder" 2>/dev/null; e2e_cleanup' EXIT
ST=$E2E_DIR/state
mkdir -m 700 -p "$ST"
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $ST
ha:
  enabled: true
  member: hostB
  takeover_seconds: 8
integrations:
  - name: shop
    source: {kind: mysql, host: 127.0.0.1, port: 1, user: zetl, databases: [shop]}
    target: {kind: postgres, dsn: "host=127.0.0.1 port=1 dbname=wh"}
    tables: {include: ["shop.%"]}
  - name: tick
    source: {kind: mysql, host: 127.0.0.1, port: 1, user: zetl, databases: [tick], server_id: 7702}
    target: {kind: postgres, dsn: "host=127.0.0.1 port=1 dbname=wh"}
    tables: {include: ["tick.%"]}
YAML
# the stand-in daemon: holds both flocks, the files say who
( exec 8>"$ST/shop.lock" 9>"$ST/tick.lock"; flock -n 8 && flock -n 9 || exit 1
  echo "$BASHPID zetl run" >&8; echo "$BASHPID zetl run" >&9; exec sleep 300 ) &
holder=$!
sq() { sqlite3 "$ST/zetl.db" "PRAGMA busy_timeout = 5000; $1" >/dev/null; }
row() { grep -m1 -E "^$1 " <<<"$TM_SCREEN"; }
# poll until the screen, its rows joined by one space, holds TEXT (0) or SECS pass (1); $FLAT: the last
wait_flat() {
    local deadline=$((SECONDS + $2))
    while :; do
        FLAT=$(tm_screen | tr -s ' \n' '  ')
        [[ $FLAT == *"$1"* ]] && return 0
        ((SECONDS >= deadline)) && return 1
        sleep 0.2
    done
}
REASON='hostA (pid 4242) runs it (lease epoch 4); this process takes over if its heartbeat stops for 8 s'
SHOP_HA='ha: hostA (pid 4242) holds the lease (epoch 4) and runs it; this process (hostB) stands by; standbys: hostB, hostC'
TICK_HA="ha: this process (hostB, pid $holder) holds the lease (epoch 7) and runs it; standbys: hostA"

tm_start 100 30 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait 'zetl' 10
for i in $(seq 1 50); do [[ $(sqlite3 "$ST/zetl.db" 'PRAGMA user_version' 2>/dev/null) -ge 9 ]] && break; sleep 0.1; done
sq "BEGIN;
INSERT INTO integrations (name, state, reason, source, target, position, lag_ms, bytes_behind, updated_at)
     VALUES ('shop', 'active', NULL, 'mysql://127.0.0.1:1', 'postgres://127.0.0.1:1/wh', 'binlog.000001:4', 5, 0,
             CAST(strftime('%s','now') AS INTEGER) * 1000),
            ('tick', 'active', NULL, 'mysql://127.0.0.1:1', 'postgres://127.0.0.1:1/wh', 'binlog.000001:4', 5, 0,
             CAST(strftime('%s','now') AS INTEGER) * 1000);
INSERT INTO tables (integration, name, target, state, rows_copied, inserts, updates, deletes, lag_ms, updated_at)
     VALUES ('shop', 'shop.orders', 'shop.orders', 'synced', 10, 1, 0, 0, 5, CAST(strftime('%s','now') AS INTEGER) * 1000),
            ('tick', 'tick.sales', 'tick.sales', 'synced', 10, 1, 0, 0, 5, CAST(strftime('%s','now') AS INTEGER) * 1000);
COMMIT;"

# ---- no ha field written yet: the list is as without ha -----------------------------
if tm_wait 'tick +active' 10 && [[ $TM_SCREEN =~ "attached to \`zetl run\`" ]]; then t_pass $T "attached to the stand-in daemon"
else t_fail $T "attach" "tick active, attached" "$TM_SCREEN"; fi
header=$(grep -m1 'INTEGRATION' <<<"$TM_SCREEN")
if [[ $header != *HOLDER* && $TM_SCREEN != *"ha: "* ]]; then t_pass $T "no ha in the log: no HOLDER column, no ha line"
else t_fail $T "nothing without ha" "no HOLDER, no 'ha: '" "$TM_SCREEN"; fi
t_eq $T "no ha in the log: zetl status has no ha line" "0" "$("$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>&1 | grep -c '^  ha: ')"

# ---- the runtime's ha fields, as a standby of shop and the holder of tick ------------
sq "BEGIN;
UPDATE integrations SET state = 'standby', reason = '$REASON', ha_role = 'standby', ha_member = 'hostB',
       ha_holder = 'hostA', ha_holder_pid = 4242, ha_epoch = 4, ha_standbys = 'hostB, hostC' WHERE name = 'shop';
UPDATE integrations SET ha_role = 'active', ha_member = 'hostB', ha_holder = 'hostB', ha_holder_pid = $holder,
       ha_epoch = 7, ha_standbys = 'hostA' WHERE name = 'tick';
COMMIT;"
if tm_wait 'shop +standby +hostA ' 10; then t_pass $T "100 columns: shop is standby, HOLDER hostA"
else t_fail $T "standby row" "shop standby hostA" "$TM_SCREEN"; fi
t_match $T "HOLDER comes after STATE in the header" "STATE +HOLDER" "$(grep -m1 'INTEGRATION' <<<"$TM_SCREEN")"
t_match $T "tick is held by this process: 'hostB (this)'" "^tick +active +hostB \(this\) " "$(row tick)"
if wait_flat "$SHOP_HA" 5; then t_pass $T "the line below the list: holder, pid, epoch, this process, standbys"
else t_fail $T "ha line of shop" "$SHOP_HA" "$FLAT"; fi
t_match $T "the line below the list: the standby reason" "state standby: hostA \(pid 4242\) runs it \(lease epoch 4\)" "$FLAT"

# the standby's colour: its row not selected, STATE is dim (SGR 2), not cyan (SGR 36, busy)
tm_keys Down
wait_flat "$TICK_HA" 5
shop_sgr=$(tmux -L "$TM_SOCK" capture-pane -e -p -t t | grep -m1 'shop.*standby' | cat -v)
if [[ $shop_sgr =~ \^\[\[([0-9]+\;)*2(\;[0-9]+)*mstandby && ! $shop_sgr =~ \^\[\[([0-9]+\;)*36(\;[0-9]+)*mstandby ]]; then
    t_pass $T "standby is drawn dim (healthy; another member runs it)"
else t_fail $T "standby attribute" "ESC[2m before standby, not ESC[36m" "$shop_sgr"; fi
if wait_flat "$TICK_HA" 1; then t_pass $T "tick's line: this process holds the lease (epoch 7); standbys: hostA"
else t_fail $T "ha line of tick" "$TICK_HA" "$FLAT"; fi

# a member leaving the standbys changes nothing but ha_standbys: redrawn all the same
tm_keys Up
wait_flat "$SHOP_HA" 5
sq "UPDATE integrations SET ha_standbys = 'hostB' WHERE name = 'shop'"
if wait_flat "${SHOP_HA%, hostC} position " 5 && [[ $FLAT != *hostC* ]]; then
    t_pass $T "the standbys changed alone: the screen follows with no key pressed"
else t_fail $T "redraw on ha change" "standbys: hostB without hostC" "$FLAT"; fi

# ---- the describe pane ------------------------------------------------------------
tm_keys d
if tm_wait 'Integration shop' 5; then
    flat=$(tm_screen | tr -s ' \n' '  ')
    t_match $T "describe: Lease names the holder, its pid and the epoch" \
        "Lease hostA \(pid 4242\) holds the lease \(epoch 4\) and runs it" "$flat"
    t_match $T "describe: This process is hostB, a standby" "This process hostB, a standby: it holds no source connection" "$flat"
    t_match $T "describe: Standbys" "Standbys hostB " "$flat"
    t_match $T "describe: the state is standby" "State standby " "$flat"
else t_fail $T "describe" "Integration shop" "$TM_SCREEN"; fi
tm_keys Escape
tm_wait 'ROWS/S' 5
tm_keys Enter                                       # shop's tables, then describe shop.orders
tm_wait 'shop \(standby\): 1 of 1 tables' 5
tm_keys d
if wait_flat "Table shop.orders of shop" 5; then
    t_match $T "describe a table: its integration's ha line" \
        "HA hostA \(pid 4242\) holds the lease \(epoch 4\) and runs it; this process \(hostB\) stands by; standbys: hostB " "$FLAT"
else t_fail $T "describe a table" "Table shop.orders of shop" "$FLAT"; fi
tm_keys Escape
tm_wait 'TABLE ' 5
tm_keys Escape
tm_wait 'ROWS/S' 5

# ---- 80x24 ----------------------------------------------------------------------------
tmux -L "$TM_SOCK" resize-window -t t -x 80 -y 24
tm_wait_not 'LAG 10 MIN' 5                         # the sparkline gives way at 80
t_match $T "80 columns: HOLDER stays" "STATE +HOLDER" "$(grep -m1 'INTEGRATION' <<<"$TM_SCREEN")"
t_match $T "80 columns: shop standby hostA" "^shop +standby +hostA " "$(row shop)"
t_eq $T "80 columns: no line overflows" "0" "$(tm_screen | awk 'length($0) > 80' | wc -l)"
flat=$(tm_screen | tr -s ' \n' '  ')
if [[ $flat == *"ha: hostA (pid 4242) holds the lease (epoch 4) and runs it; this process (hostB) stands by; standbys: hostB"* ]]
then t_pass $T "80 columns: the ha line wraps whole below the list"
else t_fail $T "ha line at 80" "the whole ha line" "$(tm_screen | tail -n 9)"; fi
t_match $T "80 columns: the position line is still there" "position binlog\.000001:4" "$flat"

# ---- zetl status, text -------------------------------------------------------------
status=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>&1)
t_match $T "status: shop is standby" "shop  standby \(hostA \(pid 4242\) runs it" "$status"
t_eq $T "status: shop's ha line" \
    "  ha: hostA (pid 4242) holds the lease (epoch 4) and runs it; this process (hostB) stands by; standbys: hostB" \
    "$(grep -m1 '^  ha: hostA' <<<"$status")"
t_eq $T "status: tick's ha line" "  $TICK_HA" "$(grep -m1 '^  ha: this process' <<<"$status")"
t_eq $T "status: one ha line per integration" "2" "$(grep -c '^  ha: ' <<<"$status")"

tm_keys q
if tm_wait 'CONSOLE-EXIT=0' 10; then t_pass $T "q quits at once in attach mode"
else t_fail $T "q" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi
t_done
