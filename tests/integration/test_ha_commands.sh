#!/usr/bin/env bash
# test_ha_commands.sh — issue 24: operator commands with two members (ha:),
# one MariaDB integration into the harness target.
#   (a) resync, resnapshot and delete sent to the standby are refused, naming
#       the holder; the holder's data and lease are untouched;
#   (b) pause on the holder keeps the lease: the standby stays standby while
#       the paused holder beats, nothing is applied; resume applies again;
#   (c) a clean stop (SIGTERM) of the holder hands the lease over at once
#       (well under takeover_seconds);
#   (p) a paused holder cut off from the target: the standby takes over;
#       healed, the paused one says it lost the lease and takes a resume;
#   (d) delete on the holder: the other member stops with `deleted`, naming
#       the member that deleted it, and does not take the integration up.
#   (k) zetl check reads the lease without taking it: nobody holds it yet,
#       then held by hostA with its epoch;
#   (e) two members with one name, each pid 1 in a pid namespace of its own
#       (two containers: hostname and pid alike): the holder frozen, the
#       other still tells itself apart and takes over.
# First, hostA alone, its target link through a relay:
#   (r) the link reset (RST: every session of hostA's ends, its lock with
#       the lease session): hostA takes the lock again on a new session at
#       the same epoch, since nobody raised it, and applies on: no "lost the
#       lease", no new epoch.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/proxy.sh
T=test_ha_commands
DB=hacmd
NAME=hacmd
CMD=${ZETL_BUILD:-build}/tools/zetl_command
TAKEOVER=20                     # long: a takeover within the test is the lease handed over, not taken

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
declare -A PID=([A]='' [B]='')
forget() {
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    local q
    for q in "DROP SCHEMA IF EXISTS $DB CASCADE" "DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" \
             "DELETE FROM zetl.copy_progress WHERE integration = '$NAME'" \
             "DELETE FROM zetl.leases WHERE integration = '$NAME'" \
             "DELETE FROM zetl.lease_members WHERE integration = '$NAME'"; do
        zh_psql_tgt -c "SET client_min_messages = warning; $q" >/dev/null 2>&1
    done
}
cleanup() {
    local m
    for m in A B; do [ -n "${PID[$m]}" ] && { kill -9 "${PID[$m]}" 2>/dev/null; wait "${PID[$m]}" 2>/dev/null; }; done
    proxy_stop A; proxy_stop B
    forget
    e2e_cleanup
}
trap 'cleanup; harness_stop' EXIT

forget
e2e_my_table "$NAME" "$DB" 100
export E2E_MY_PASSWORD=$ZH_MY_PASSWORD
CFG=$E2E_DIR/zetl.yaml
cat >"$CFG" <<YAML
state_dir: \${ZT_STATE}
ha:
  enabled: true
  member: \${ZT_MEMBER}
  takeover_seconds: $TAKEOVER
integrations:
  - name: $NAME
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [$DB], server_id: 4343}
    target: {kind: postgres, dsn: "\${ZT_DSN}"}
    tables: {include: ["$DB.%"]}
    apply: {batch_ms: 100}
YAML
proxy_start A "$ZH_PGTGT_PORT" && proxy_start B "$ZH_PGTGT_PORT" || { t_fail $T "setup" "relays" "did not start"; t_done; }
DSN_A=${ZH_PGTGT_DSN/port=$ZH_PGTGT_PORT/port=$PROXY_A_PORT}
DSN_B=${ZH_PGTGT_DSN/port=$ZH_PGTGT_PORT/port=$PROXY_B_PORT}
zstart() {
    local d=DSN_$1
    ZT_STATE=$E2E_DIR/st$1 ZT_MEMBER=host$1 ZT_DSN=${!d} "$ZETL" run -c "$CFG" \
        --metrics-file "$E2E_DIR/metrics$1.prom" 2>>"$E2E_DIR/run$1.log" &
    PID[$1]=$!
}
# field M JQ: jq over member M's status of the integration
field() { ZT_STATE=$E2E_DIR/st$1 ZT_MEMBER=x ZT_DSN=x "$ZETL" status -c "$CFG" --json 2>/dev/null | jq -r ".integrations[0] | $2" 2>/dev/null; }
# wait_field M JQ WANT SECS
wait_field() {
    local i
    for ((i = 0; i < $4 * 5; i++)); do [ "$(field "$1" "$2")" = "$3" ] && return 0; sleep 0.2; done
    return 1
}
cmd() { "$CMD" "$E2E_DIR/st$1/zetl.db" "$NAME" "$2" ${3:+"$3"} 2>&1; }
tgt_count() { zh_psql_tgt -c "SELECT count(*) FROM $DB.t" 2>&1; }

zcheck() { ZT_STATE=$E2E_DIR/st$1 ZT_MEMBER=host$1 ZT_DSN=$DSN_B "$ZETL" check -c "$CFG" 2>&1; }
out=$(zcheck A)
if grep -q "PASS  ha lease .*member hostA, takeover after $TAKEOVER s; nobody holds it yet" <<<"$out"; then
    t_pass $T "(k) zetl check: the lease, nobody holds it yet"
else t_fail $T "(k) zetl check before any run" "PASS ha lease … nobody holds it yet" "$(grep -i "lease\|FAIL" <<<"$out" | head -3)"; fi
rows=$(zh_psql_tgt -c "SELECT count(*) FROM zetl.leases WHERE integration = '$NAME'" 2>/dev/null || echo 0)
t_eq $T "(k) zetl check took nothing (no advisory lock, no lease row)" "0 0" \
    "$(zh_psql_tgt -c "SELECT count(*) FROM pg_locks k JOIN pg_stat_activity a USING (pid) WHERE k.locktype = 'advisory' AND a.application_name LIKE 'zetl-lease:$NAME'") $rows"
zstart A
wait_field A .state active 30 || t_fail $T "setup" "hostA active" "$(field A .state): $(tail -3 "$E2E_DIR/runA.log")"
out=$(zcheck B)
if grep -q "PASS  ha lease .*member hostB; held by hostA (pid ${PID[A]}, epoch 1, heartbeat [0-9]* s ago)" <<<"$out"; then
    t_pass $T "(k) zetl check names the holder, its pid and epoch"
else t_fail $T "(k) zetl check with a holder" "held by hostA (pid ${PID[A]}, epoch 1 …)" "$(grep -i "lease\|FAIL" <<<"$out" | head -3)"; fi

# (r) hostA alone: its target link reset
lines=$(wc -l <"$E2E_DIR/runA.log")
proxy_reset A
proxy_heal A
zh_mysql -e "INSERT INTO $DB.t VALUES (1000, 'after the reset')"
for i in $(seq 1 100); do [ "$(tgt_count)" = 101 ] && break; sleep 0.2; done
t_eq $T "(r) after its target link was reset, hostA applies" "101" "$(tgt_count)"
sleep $((TAKEOVER / 2))
t_eq $T "(r) hostA keeps the lease at epoch 1 (taken again on a new session)" "active|hostA|1" \
    "$(field A .ha.role)|$(zh_psql_tgt -c "SELECT holder || '|' || epoch FROM zetl.leases WHERE integration = '$NAME'")"
if tail -n +"$((lines + 1))" "$E2E_DIR/runA.log" | grep -q "lost the lease"; then
    t_fail $T "(r) no lost lease after a reset link" "no 'lost the lease'" "$(grep "lost the lease" "$E2E_DIR/runA.log" | tail -1)"
else
    t_pass $T "(r) no lost lease after a reset link"
fi
zstart B
if wait_field B .state standby 20; then t_pass $T "hostB stands by"
else t_fail $T "hostB stands by" "standby" "$(field B .state) $(field B .reason)"; fi

# The metrics file says which process runs it (written every 10 s)
metric() { grep -h "^zetl_ha_active{integration=\"$NAME\"}" "$E2E_DIR/metrics$1.prom" 2>/dev/null | awk '{print $2}'; }
for i in $(seq 1 60); do [ "$(metric A)|$(metric B)" = "1|0" ] && break; sleep 0.25; done
t_eq $T "metrics: zetl_ha_active is 1 in the holder's file, 0 in the standby's" "1|0" "$(metric A)|$(metric B)"
grep -q "^zetl_integration_state{integration=\"$NAME\",state=\"standby\"} 1" "$E2E_DIR/metricsB.prom" 2>/dev/null &&
    t_pass $T "metrics: the standby's state is standby" ||
    t_fail $T "metrics: the standby's state" "state=standby 1" "$(grep zetl_integration_state "$E2E_DIR/metricsB.prom" | grep ' 1$')"

# (a) commands that act on the target, sent to the standby
for c in resync resnapshot delete; do
    tb=; [ $c = resync ] && tb=$DB.t
    out=$(cmd B $c $tb); rc=$?
    if [ $rc -ne 0 ] && [[ $out == *"refused: this process (hostB) is a standby of $NAME; hostA runs it"* ]]; then
        t_pass $T "(a) $c sent to the standby is refused, naming the holder"
    else
        t_fail $T "(a) $c sent to the standby is refused" "refused … hostA runs it" "rc $rc: $out"
    fi
done
t_eq $T "(a) hostB is still standby" "standby" "$(field B .state)"
t_eq $T "(a) hostA still holds the lease, epoch 1" "hostA|1" \
    "$(zh_psql_tgt -c "SELECT holder || '|' || epoch FROM zetl.leases WHERE integration = '$NAME'")"
zh_mysql -e "INSERT INTO $DB.t VALUES (1001, 'after')"
for i in $(seq 1 50); do [ "$(tgt_count)" = 102 ] && break; sleep 0.2; done
t_eq $T "(a) the holder applies on" "102" "$(tgt_count)"

# (b) pause on the holder keeps the lease
out=$(cmd A pause); t_eq $T "(b) pause taken by the holder" "ok" "$out"
sleep $((TAKEOVER / 2 + 3))
t_eq $T "(b) hostA paused, still the holder" "paused|active" "$(field A .state)|$(field A .ha.role)"
t_eq $T "(b) hostB does not take a paused holder's lease" "standby|hostA" "$(field B .state)|$(field B .ha.holder)"
zh_mysql -e "INSERT INTO $DB.t VALUES (1002, 'paused')"
sleep 1
t_eq $T "(b) nothing applied while paused" "102" "$(tgt_count)"
out=$(cmd A resume); t_eq $T "(b) resume taken" "ok" "$out"
for i in $(seq 1 50); do [ "$(tgt_count)" = 103 ] && break; sleep 0.2; done
t_eq $T "(b) resumed: the change made while paused is applied" "103" "$(tgt_count)"

# (c) SIGTERM of the holder hands over at once
t0=$(_zh_now_ms)
kill -TERM "${PID[A]}"; wait "${PID[A]}"; PID[A]=
if wait_field B .ha.role active $((TAKEOVER / 2)); then
    took=$(( $(_zh_now_ms) - t0 ))
    t_pass $T "(c) a clean stop hands the lease to hostB in ${took} ms (takeover_seconds $TAKEOVER)"
else
    t_fail $T "(c) a clean stop hands the lease over at once" "hostB active within $((TAKEOVER / 2)) s" \
        "$(field B .state) $(field B .reason)"
fi
zh_mysql -e "INSERT INTO $DB.t VALUES (1003, 'on B')"
for i in $(seq 1 75); do [ "$(tgt_count)" = 104 ] && break; sleep 0.2; done
t_eq $T "(c) hostB applies" "104" "$(tgt_count)"

# (p) a paused holder (hostB) cut off from the target: hostA takes over; healed, hostB says
# it lost the lease and stays paused, and a resume sent to it is taken (it then stands by)
zstart A
wait_field A .state standby 20 || t_fail $T "(p) hostA stands by" "standby" "$(field A .state)"
out=$(cmd B pause); t_eq $T "(p) pause taken by the holder hostB" "ok" "$out"
lines=$(wc -l <"$E2E_DIR/runB.log")
proxy_blackhole B
if wait_field A .ha.role active $((TAKEOVER + 15)); then t_pass $T "(p) hostB paused and cut off: hostA takes over"
else t_fail $T "(p) hostA takes over from a paused, cut-off holder" "active" "$(field A .state) $(field A .reason)"; fi
proxy_heal B
for i in $(seq 1 100); do tail -n +"$((lines + 1))" "$E2E_DIR/runB.log" | grep -q "lost the lease" && break; sleep 0.2; done
if tail -n +"$((lines + 1))" "$E2E_DIR/runB.log" | grep -q "lost the lease"; then t_pass $T "(p) healed, the paused hostB says it lost the lease"
else t_fail $T "(p) the paused hostB says it lost the lease" "lost the lease" "$(tail -2 "$E2E_DIR/runB.log")"; fi
# (the holder it names: hostA when its last heartbeat saw the takeover, none when it
# let go first on its own silence; never itself)
hb=$(field B .ha.holder)
[[ $hb == hostA || $hb == null ]] && hb=ok
t_eq $T "(p) hostB is still paused, and knows it is not the holder" "paused|standby|ok" \
    "$(field B .state)|$(field B .ha.role)|$hb"
out=$(cmd B resume)
t_eq $T "(p) a resume sent to it is taken" "ok" "$out"
if wait_field B .state standby 15; then t_pass $T "(p) resumed, hostB stands by"
else t_fail $T "(p) resumed, hostB stands by" "standby" "$(field B .state) $(field B .reason)"; fi

# (d) delete on the holder (now hostA): hostB, the standby, stops
out=$(cmd A delete)
[[ $out == ok || $out == deleting* ]] && t_pass $T "(d) delete taken by the holder" ||
    t_fail $T "(d) delete taken by the holder" "ok" "$out"
if wait_field B .state deleted 15; then t_pass $T "(d) the standby stops with deleted"
else t_fail $T "(d) the standby stops with deleted" "deleted" "$(field B .state) $(field B .reason)"; fi
if grep -q "was deleted by hostA" "$E2E_DIR/runB.log"; then t_pass $T "(d) it says who deleted it"
else t_fail $T "(d) it says who deleted it" "was deleted by hostA" "$(tail -3 "$E2E_DIR/runB.log")"; fi
sleep 1
if [ -n "${PID[B]}" ] && ! kill -0 "${PID[B]}" 2>/dev/null; then
    wait "${PID[B]}"; rc=$?; PID[B]=
    t_eq $T "(d) hostB's zetl run exits 3 (every integration deleted)" "3" "$rc"
else
    t_fail $T "(d) hostB's zetl run exits once its only integration is deleted" "exited" "still running"
fi
t_eq $T "(d) nobody runs it: the lease says deleted" "t" \
    "$(zh_psql_tgt -c "SELECT deleted_at IS NOT NULL FROM zetl.leases WHERE integration = '$NAME'")"
for m in A B; do [ -n "${PID[$m]}" ] && { kill -TERM "${PID[$m]}" 2>/dev/null; wait "${PID[$m]}" 2>/dev/null; PID[$m]=; }; done

# (e) one member name, pid 1 each (pid namespaces, as in two containers)
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
    t_fail $T "(e) pid namespaces (unshare --pid, as root)" "available" "unshare failed"
else
    N2=hacmd2
    zh_psql_tgt -c "DELETE FROM zetl.checkpoints WHERE integration = '$N2'; DELETE FROM zetl.leases WHERE integration = '$N2';
                    DELETE FROM zetl.lease_members WHERE integration = '$N2'; DELETE FROM zetl.copy_progress WHERE integration = '$N2'" >/dev/null 2>&1
    sed -e "s/name: $NAME\$/name: $N2/" -e "s/takeover_seconds: $TAKEOVER/takeover_seconds: 5/" \
        -e "s/server_id: 4343/server_id: 4344/" "$CFG" >"$E2E_DIR/same.yaml"
    e2e_my_table "$N2" "$DB" 50
    zsame() {   # M: "same" member, pid 1 in its own namespace; PID[M] is unshare's
        ZT_STATE=$E2E_DIR/s2$1 ZT_MEMBER=same ZT_DSN=$DSN_B unshare --pid --fork --mount-proc --kill-child=KILL \
            "$ZETL" run -c "$E2E_DIR/same.yaml" 2>>"$E2E_DIR/same$1.log" &
        PID[$1]=$!
    }
    sfield() { ZT_STATE=$E2E_DIR/s2$1 ZT_MEMBER=x ZT_DSN=x "$ZETL" status -c "$E2E_DIR/same.yaml" --json 2>/dev/null | jq -r ".integrations[0] | $2" 2>/dev/null; }
    swait() { local i; for ((i = 0; i < $4 * 5; i++)); do [ "$(sfield "$1" "$2")" = "$3" ] && return 0; sleep 0.2; done; return 1; }
    zsame A
    swait A .ha.role active 30 || t_fail $T "(e) the first 'same' holds the lease" "active" "$(sfield A .state) $(tail -2 "$E2E_DIR/sameA.log")"
    zsame B
    if swait B .state standby 20; then t_pass $T "(e) the second 'same' (pid 1 too) stands by"
    else t_fail $T "(e) the second 'same' stands by" "standby" "$(sfield B .state) $(sfield B .reason)"; fi
    t_eq $T "(e) both are pid 1 in their namespaces" "same|1" \
        "$(zh_psql_tgt -c "SELECT holder || '|' || pid FROM zetl.leases WHERE integration = '$N2'")"
    inner=$(pgrep -P "${PID[A]}" | head -1)
    t0=$(_zh_now_ms)
    kill -STOP "$inner"
    if swait B .ha.role active 25; then
        t_pass $T "(e) the holder frozen, the other 'same' takes over ($(( $(_zh_now_ms) - t0 )) ms; takeover_seconds 5)"
    else
        t_fail $T "(e) the other 'same' takes over" "active within 25 s" "$(sfield B .state) $(sfield B .reason)"
    fi
    kill -CONT "$inner"
    for m in A B; do        # the zetl inside (pid 1 there), then unshare, which exits with it
        kill -TERM "$(pgrep -P "${PID[$m]}" | head -1)" 2>/dev/null
        wait "${PID[$m]}" 2>/dev/null; PID[$m]=
    done
    zh_psql_tgt -c "DELETE FROM zetl.checkpoints WHERE integration = '$N2'; DELETE FROM zetl.leases WHERE integration = '$N2';
                    DELETE FROM zetl.lease_members WHERE integration = '$N2'; DELETE FROM zetl.copy_progress WHERE integration = '$N2'" >/dev/null 2>&1
fi
t_done
