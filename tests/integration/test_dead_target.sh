#!/usr/bin/env bash
# test_dead_target.sh — the PostgreSQL target behind a relay that breaks its
# links (tests/tools/tcpproxy): a half-open link (blackhole: no FIN, no RST,
# the relay's kernel still ACKs) must not hang zetl.
#   (b) blackhole during the initial copy: `failed` naming the target within
#       30 s; healed, the copy runs again and completes;
#   (a) blackhole while streaming under continuous inserts and counter
#       updates: `failed` naming the target within 30 s; healed, it recovers
#       by itself (no restart);
#   (c) blackhole during a table's resync: `failed` within 30 s; healed, the
#       resync runs again and the table is synced;
#   (d) reset (RST): recovers by itself;
#   (e) SIGTERM while a call is stuck on the dead link: the process exits
#       within 2 s; restarted and healed it streams again; blackholed again,
#       a pause command is taken within 2 s;
#   (f) a pause during an initial copy whose writer is stuck: taken within
#       2 s; then healed, restarted and resumed: an exact `zetl verify`
#       (nothing lost, nothing twice) and the counts match;
#   (g) `zetl verify` whose link dies under it fails, naming the target.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/proxy.sh
T=test_dead_target
DB=dead_tgt
NAME=deadtgt
CMD=${ZETL_BUILD:-build}/tools/zetl_command
BIG_ROWS=${DEAD_TGT_BIG_ROWS:-700000}

harness_start mariadb pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
load_pid=
cleanup() {
    rm -f "$E2E_DIR/go"
    [ -n "$load_pid" ] && { kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null; }
    proxy_stop tgt
    e2e_cleanup
    zh_mysql -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'; DELETE FROM zetl.resyncs WHERE integration = '$NAME'" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
proxy_start tgt "$ZH_PGTGT_PORT" || { t_fail $T "proxy" "started" "not started"; t_done; }
PORT=$PROXY_tgt_PORT
DBFILE=$E2E_DIR/state/zetl.db

zh_mysql -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB;
  CREATE TABLE $DB.ev (id INT PRIMARY KEY, n INT NOT NULL);
  CREATE TABLE $DB.ctr (id INT PRIMARY KEY, n INT NOT NULL);
  INSERT INTO $DB.ctr VALUES (1, 0);
  CREATE TABLE $DB.big (id INT PRIMARY KEY, pad VARCHAR(200) NOT NULL);
  INSERT INTO $DB.big SELECT seq, REPEAT(MD5(seq), 3) FROM $DB.seq_1_to_$BIG_ROWS"
zh_psql_tgt -c "DROP SCHEMA IF EXISTS $DB CASCADE; DELETE FROM zetl.checkpoints WHERE integration = '$NAME'; DELETE FROM zetl.resyncs WHERE integration = '$NAME'" >/dev/null 2>&1
# Chunks of 50,000 rows: big's copy (700,000 rows) lasts long enough, and shows
# its rows often enough, for (b) and (f) to catch it under way.
E2E_TARGET_DSN="host=127.0.0.1 port=$PORT dbname=zetl user=$ZH_PG_USER password=$ZH_PG_PASSWORD connect_timeout=3" \
    e2e_my_config "$NAME" "$DB" 6363 "batch_ms: 100, copy_chunk_rows: 50000"

state() { e2e_status_field '.integrations[0].state'; }
reason() { e2e_status_field '.integrations[0].reason'; }
tstate() { e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.$1\") | .state"; }
copied() { e2e_status_field ".integrations[0].tables[] | select(.name == \"$DB.$1\") | .rows_copied"; }
is_failed() { [ "$(state)" = failed ]; }
is_active() { [ "$(state)" = active ]; }
ev_target() { zh_psql_tgt -c "SELECT count(*) FROM $DB.ev" 2>/dev/null || echo 0; }
now_ms() { date +%s%3N; }

# Inserts into ev and increments of ctr, ~20 a second, through one client,
# until $E2E_DIR/go is removed.
start_load() {
    touch "$E2E_DIR/go"
    (
        i=$(( $(zh_mysql -e "SELECT coalesce(max(id), 0) FROM $DB.ev") + 1 ))
        while [ -e "$E2E_DIR/go" ]; do
            echo "INSERT INTO ev VALUES ($i, $i); UPDATE ctr SET n = n + 1 WHERE id = 1;"
            i=$((i + 1))
            sleep 0.05
        done
    ) | zh_mysql "$DB" &
    load_pid=$!
}
stop_load() { rm -f "$E2E_DIR/go"; wait "$load_pid" 2>/dev/null; load_pid=; }

# Blackhole; then `failed` within 30 s, naming the target, no password.
fails_naming_target() {
    local what=$1 t0 r
    t0=$SECONDS
    proxy_blackhole tgt
    t_wait $T "$what: blackholed, the integration is failed within 30 s" 30 is_failed
    r=$(reason)
    t_match $T "$what: the reason names the target ($PORT)" "127\\.0\\.0\\.1:$PORT|port=$PORT" "$r"
    t_match $T "$what: the reason says why" "unreachable|no answer|lost|timeout" "$r"
    if [[ $r == *"$ZH_PG_PASSWORD"* ]]; then t_fail $T "$what: no password in the reason" "no password" "$r"
    else t_pass $T "$what: no password in the reason"; fi
    echo "# $what: failed after $((SECONDS - t0)) s: $r" >&2
}

# SIGTERM to the running zetl: seconds (ms) until it exited; kill -9 after 15 s.
term_ms() {
    local t0 i
    t0=$(now_ms)
    kill -TERM "$E2E_PID" 2>/dev/null
    for i in $(seq 1 150); do
        kill -0 "$E2E_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$E2E_PID" 2>/dev/null; then kill -9 "$E2E_PID"; fi
    wait "$E2E_PID" 2>/dev/null
    E2E_PID=
    echo $(( $(now_ms) - t0 ))
}

# ---- (b) the initial copy ----------------------------------------------------------
start_load
e2e_run_start
copying() { [ "$(tstate big)" = snapshotting ] && [ "$(copied big)" -gt 20000 ] 2>/dev/null; }
t_wait $T "(b) the initial copy of big is under way" 60 copying
fails_naming_target "(b) initial copy"
t_ne $T "(b) the copy had not finished when the link died" "synced" "$(tstate big)"
proxy_heal tgt
big_synced() { [ "$(tstate big)" = synced ] && is_active; }
t_wait $T "(b) healed: the copy runs again and completes by itself" 150 big_synced
t_eq $T "(b) every row of big is in the target" "$BIG_ROWS" "$(zh_psql_tgt -c "SELECT count(*) FROM $DB.big")"

# ---- (a) streaming -------------------------------------------------------------------
ev_moves() { local a; a=$(ev_target); sleep 1.5; [ "$(ev_target)" -gt "$a" ]; }
t_wait $T "(a) inserts stream into the target" 30 ev_moves
# Only the main thread takes SIGTERM, SIGINT, SIGHUP, SIGPIPE: every other
# thread (supervisor, reader, copy writer, monitor…) has them blocked.
unblocked=
for st in /proc/$E2E_PID/task/*/status; do
    tid=$(awk '/^Pid:/ {print $2}' "$st"); blk=$(awk '/^SigBlk:/ {print $2}' "$st")
    [ "$tid" = "$E2E_PID" ] && continue
    (( (0x$blk & 0x5003) == 0x5003 )) || unblocked+=" $(cat "/proc/$E2E_PID/task/$tid/comm")"
done
nthreads=$(ls /proc/$E2E_PID/task | wc -l)
t_ne $T "(a) zetl runs threads besides main" "1" "$nthreads"
t_eq $T "(a) no runtime thread takes SIGTERM/SIGINT/SIGHUP/SIGPIPE" "" "$unblocked"
fails_naming_target "(a) streaming"
proxy_heal tgt
recovered() { is_active && ev_moves; }
t_wait $T "(a) healed: it recovers by itself and streams again" 90 recovered

# ---- (c) a resync ----------------------------------------------------------------------
out=$("$CMD" "$DBFILE" "$NAME" resync "$DB.big"); t_eq $T "(c) resync of big acknowledged" "ok" "$out"
resyncing() { [ "$(tstate big)" = resyncing ] && [ "$(copied big)" -gt 20000 ] 2>/dev/null; }
t_wait $T "(c) the resync's copy is under way" 60 resyncing
fails_naming_target "(c) resync"
proxy_heal tgt
t_wait $T "(c) healed: the resync runs again and big is synced" 150 big_synced
t_eq $T "(c) no resync mark is left" "0" "$(zh_psql_tgt -c "SELECT count(*) FROM zetl.resyncs WHERE integration = '$NAME'")"

# ---- (d) reset ---------------------------------------------------------------------------
proxy_reset tgt
t_wait $T "(d) after an RST it recovers by itself and streams again" 60 recovered

# ---- (e) SIGTERM, and a command, while blackholed --------------------------------------------
proxy_blackhole tgt
sleep 3                         # the applier's calls are now stuck on the dead link
took=$(term_ms)
if ((took <= 2500)); then t_pass $T "(e) SIGTERM while a call is stuck: exited within 2 s (${took} ms)"
else t_fail $T "(e) SIGTERM answered in time" "<= 2000 ms (+500 ms for the machine)" "${took} ms"; fi
proxy_heal tgt
e2e_run_start
t_wait $T "(e) restarted: it streams again (the dead link's sessions ended)" 90 recovered
proxy_blackhole tgt
sleep 2                         # stuck again
t0=$(now_ms)
out=$("$CMD" "$DBFILE" "$NAME" pause)
took=$(( $(now_ms) - t0 ))
t_eq $T "(e) pause while blackholed acknowledged" "ok" "$out"
if ((took <= 2500)); then t_pass $T "(e) the pause was taken within 2 s (${took} ms)"
else t_fail $T "(e) pause answered in time" "<= 2000 ms (+500 ms for the machine)" "${took} ms"; fi
t_eq $T "(e) the integration is paused" "paused" "$(state)"
took=$(term_ms)
if ((took <= 2500)); then t_pass $T "(e) SIGTERM while paused and blackholed: exited within 2 s (${took} ms)"
else t_fail $T "(e) SIGTERM answered in time (paused)" "<= 2000 ms (+500 ms for the machine)" "${took} ms"; fi
proxy_heal tgt
stop_load

# ---- (f) a command during the initial copy, its writer stuck on the dead link ------------------
# Without a checkpoint the next run copies every table again.
zh_psql_tgt -c "DELETE FROM zetl.checkpoints WHERE integration = '$NAME'" >/dev/null
e2e_run_start
e2e_wait_running 20 || t_fail $T "zetl run runs it" "running" "$(e2e_status_field .)"
"$CMD" "$DBFILE" "$NAME" resume >/dev/null     # refused while nobody runs it
t_wait $T "(f) the initial copy of big is under way again" 60 copying
proxy_blackhole tgt
sleep 2
t0=$(now_ms)
out=$("$CMD" "$DBFILE" "$NAME" pause)
took=$(( $(now_ms) - t0 ))
t_eq $T "(f) pause during the stuck copy acknowledged" "ok" "$out"
if ((took <= 2500)); then t_pass $T "(f) the pause was taken within 2 s (${took} ms)"
else t_fail $T "(f) pause answered in time" "<= 2000 ms (+500 ms for the machine)" "${took} ms"; fi
is_paused() { [ "$(state)" = paused ]; }
t_wait $T "(f) the integration is paused (the copy given up)" 5 is_paused
took=$(term_ms)
if ((took <= 2500)); then t_pass $T "(f) SIGTERM: exited within 2 s (${took} ms)"
else t_fail $T "(f) SIGTERM answered in time" "<= 2000 ms (+500 ms for the machine)" "${took} ms"; fi
proxy_heal tgt

e2e_run_start
e2e_wait_running 20 || t_fail $T "zetl run runs it" "running" "$(e2e_status_field .)"
"$CMD" "$DBFILE" "$NAME" resume >/dev/null     # refused while nobody runs it
if e2e_wait_match 120; then t_pass $T "(f) healed, restarted, resumed: zetl verify is an exact match"
else t_fail $T "(f) exact match after the faults" "zetl verify: match" "$E2E_VERIFY"; fi
t_eq $T "(f) every insert is in the target once" "$(zh_mysql -e "SELECT count(*) FROM $DB.ev")" "$(ev_target)"
t_eq $T "(f) the counter matches" "$(zh_mysql -e "SELECT n FROM $DB.ctr")" "$(zh_psql_tgt -c "SELECT n FROM $DB.ctr")"
t_eq $T "(f) no SIGTERM took the forced exit" "" "$(grep -i 'did not stop' "$E2E_DIR/run.log")"
e2e_run_stop

# ---- (g) zetl verify on a link that dies under it: fails, naming the target --------------------
"$ZETL" verify -c "$E2E_DIR/zetl.yaml" >"$E2E_DIR/verify.out" 2>&1 &
vpid=$!
# The link dies as soon as verify copies big (700,000 rows) into its scratch
# table: a fixed sleep let a fast machine finish the whole verify first.
verify_copying() { [ "$(zh_psql_tgt -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'zetl verify' AND state = 'active' AND query LIKE 'COPY%'")" -ge 1 ]; }
for i in $(seq 1 200); do verify_copying && break; kill -0 "$vpid" 2>/dev/null || break; sleep 0.05; done
running=no; kill -0 "$vpid" 2>/dev/null && running=yes
t_eq $T "(g) verify is still at work when the link dies" "yes" "$running"
proxy_blackhole tgt
t0=$SECONDS
for i in $(seq 1 450); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$vpid" 2>/dev/null; then kill -9 "$vpid"; fi
wait "$vpid"; vrc=$?
t_eq $T "(g) verify ends with an error, not a hang (exit 1 within 45 s)" "1" "$vrc"
t_match $T "(g) verify's error names the target" "127\.0\.0\.1:$PORT|port=$PORT" "$(cat "$E2E_DIR/verify.out")"
echo "# (g) verify ended $((SECONDS - t0)) s after the blackhole: $(tail -c 400 "$E2E_DIR/verify.out")" >&2
proxy_heal tgt
t_done
