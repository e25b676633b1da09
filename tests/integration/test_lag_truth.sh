#!/usr/bin/env bash
# test_lag_truth.sh — lag is wall-clock truth (statelog.h "Lag"), shown the
# same by `zetl status --json`, the metrics file and the console, for a
# MariaDB → PostgreSQL integration:
#   a. a target table locked (ACCESS EXCLUSIVE in an open transaction) while
#      source changes arrive: the lag grows past 10 s, `stalled` appears
#      after alerts.stall_seconds (3 s here), the metrics file and the
#      attached console show both; after the release the lag is back near 0
#      and stalled clears;
#   b. paused with inserts at the source: the lag grows;
#   c. `zetl run` stopped (SIGTERM) with source changes pending: the lag grows;
#   d. a synced table's lag is a number (the integration's), not null;
#   e. MariaDB's whole-second timestamps are never shown to the millisecond.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_lag_truth
DB=lagt_db
NAME=lagt
CMD=${ZETL_BUILD:-build}/tools/zetl_command

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
LOCKER=
trap '[ -n "$LOCKER" ] && kill "$LOCKER" 2>/dev/null; tm_stop; e2e_cleanup; harness_stop' EXIT

e2e_my_table "$NAME" $DB 50
# A webhook nobody answers: alerts (and so stall_seconds) need one; deliveries just fail.
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
alerts: {webhook_url: "http://127.0.0.1:9/hook", stall_seconds: 3}
integrations:
  - name: $NAME
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "$ZH_MY_PASSWORD", databases: [$DB], server_id: 6363}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$DB.%"]}
    apply: {batch_ms: 100}
YAML
PROM=$E2E_DIR/zetl.prom
f() { e2e_status_field ".integrations[0]$1"; }
lag() { f .lag_ms; }
lag_ge() { local l; l=$(lag); [[ $l =~ ^[0-9]+$ ]] && ((l >= $1)); }
lag_lt() { local l; l=$(lag); [[ $l =~ ^[0-9]+$ ]] && ((l < $1)); }
is() { [[ $(f "$1") == "$2" ]]; }
caught_up() { [[ $(f .state) == active ]] && lag_lt 1000 && [[ $(f .stalled) == false ]]; }
next=1000
insert() { zh_mysql -e "INSERT INTO $DB.t VALUES ($next, 'x$next')"; next=$((next + 1)); }
metric() { awk -v k="$1" '$1 == k { print $2 }' "$PROM" 2>/dev/null; }
metric_ge() { local v; v=$(metric "$1"); [ -n "$v" ] && ((${v%.*} >= $2)); }

e2e_run_start --metrics-file "$PROM"
t_wait $T "zetl run copies the table and catches up" 40 caught_up

# d. A synced table's lag is the integration's: a number.
t_match $T "d: a synced table's lag_ms is a number, not null" '^[0-9]+$' "$(f '.tables[0].lag_ms')"

# e. A steady trickle (a row every 50 ms, so changes are often in flight when
# sampled): MariaDB's commit times are whole seconds, so no figure is finer.
( for i in $(seq 5000 5080); do zh_mysql -e "INSERT INTO $DB.t VALUES ($i, 'tr')"; sleep 0.05; done ) &
TRICKLE=$!
bad=0 seen_res=0 texts= vals=
for i in $(seq 1 15); do
    js=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" --json 2>/dev/null)
    l=$(jq -r '.integrations[0].lag_ms' <<<"$js"); r=$(jq -r '.integrations[0].lag_resolution_ms' <<<"$js")
    vals+="$l "
    [[ $r == 1000 ]] && seen_res=1
    [[ $l =~ ^[0-9]+$ ]] && ((l % 1000 != 0)) && bad=1
    texts+=$("$ZETL" status -c "$E2E_DIR/zetl.yaml" 2>/dev/null | head -1)$'\n'
    sleep 0.2
done
wait $TRICKLE
t_eq $T "e: the trickle's lag is measured from whole-second timestamps (lag_resolution_ms 1000)" 1 "$seen_res"
t_eq $T "e: status --json never gives it milliseconds (lag_ms a multiple of 1000: $vals)" 0 "$bad"
t_eq $T "e: status text never shows it in ms" "" "$(grep -E "lag [1-9][0-9]*ms" <<<"$texts" | head -2)"
t_wait $T "e: caught up again" 15 caught_up

# a. A locked target table: the apply blocks while changes arrive.
tm_start 100 30 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "$ZETL -c $E2E_DIR/zetl.yaml"
tm_wait "attached to .zetl run" 10 && tm_keys Enter
tm_keys BTab                    # one integration opens on its tables: back to the list
zh_psql_tgt -c "BEGIN; LOCK TABLE \"$DB\".\"t\" IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(22); COMMIT;" >/dev/null 2>&1 &
LOCKER=$!
sleep 0.5
for i in 1 2 3; do insert; done
t_wait $T "a: locked: stalled appears after stall_seconds (3 s)" 8 is .stalled true
t_match $T "a: ... with when it began" '^20[0-9-]+T[0-9:]+Z$' "$(f .stalled_since)"
if tm_wait "stalled" 5 && tm_wait "STALLED for" 5; then t_pass $T "a: the console shows the integration stalled"
else t_fail $T "a: console stalled" "stalled in the list and detail" "$TM_SCREEN"; fi
s1=$(tm_screen | grep -m1 -oE "$NAME .* stalled +[0-9.]+s" | grep -oE '[0-9.]+s$')
t_wait $T "a: locked: the lag grows past 10 s (not frozen at its last sample)" 12 lag_ge 10000
s2=$(tm_screen | grep -m1 -oE "$NAME .* stalled +[0-9.]+s" | grep -oE '[0-9.]+s$')
[[ -n $s1 && -n $s2 && ${s2%%[.s]*} -gt ${s1%%[.s]*} ]] && t_pass $T "a: the console's lag grows while stuck ($s1 → $s2)" \
    || t_fail $T "a: console lag grows" "a growing lag on the integration's row" "$s1 then $s2: $(tm_screen)"
t_match $T "a: the table's lag grows too" '^[0-9]{5,}$' "$(f '.tables[0].lag_ms')"
t_wait $T "a: the metrics file shows the lag past 8 s and stalled" 12 \
    bash -c "awk '\$1 == \"zetl_lag_seconds{integration=\\\"$NAME\\\"}\" && \$2 >= 8 { a=1 }
                  \$1 == \"zetl_stalled{integration=\\\"$NAME\\\"}\" && \$2 == 1 { b=1 } END { exit !(a && b) }' '$PROM'"
wait "$LOCKER"; LOCKER=
t_wait $T "a: released: the lag is back near 0 and stalled clears" 15 caught_up
tm_stop

# b. Paused with inserts at the source: the lag grows.
"$CMD" "$E2E_DIR/state/zetl.db" $NAME pause >/dev/null
t_wait $T "b: paused" 10 is .state paused
insert; insert
t_wait $T "b: paused: the lag grows past 4 s" 10 lag_ge 4000
l1=$(lag); sleep 1.5; l2=$(lag)
[[ $l1 =~ ^[0-9]+$ && $l2 =~ ^[0-9]+$ ]] && ((l2 > l1)) && t_pass $T "b: ... and keeps growing ($l1 → $l2)" \
    || t_fail $T "b: keeps growing" "a later reading larger" "$l1 then $l2"
t_eq $T "b: paused is not stalled" false "$(f .stalled)"
"$CMD" "$E2E_DIR/state/zetl.db" $NAME resume >/dev/null
t_wait $T "b: resumed: caught up" 20 caught_up

# c. zetl run stopped with changes pending at the source: the lag grows.
e2e_run_stop
insert; insert
t_wait $T "c: stopped: the lag grows past 4 s" 10 lag_ge 4000
l1=$(lag); sleep 1.5; l2=$(lag)
[[ $l1 =~ ^[0-9]+$ && $l2 =~ ^[0-9]+$ ]] && ((l2 > l1)) && t_pass $T "c: ... and keeps growing ($l1 → $l2)" \
    || t_fail $T "c: keeps growing" "a later reading larger" "$l1 then $l2"
e2e_run_start
t_wait $T "c: restarted: caught up" 30 caught_up
e2e_run_stop
t_done
