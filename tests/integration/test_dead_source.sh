#!/usr/bin/env bash
# test_dead_source.sh — a source link that dies without a FIN or an RST (the
# tcpproxy blackhole: the relay's kernel still ACKs, so only an application
# deadline notices).
#
#   stream   PostgreSQL source through the relay, streaming under continuous
#            inserts: blackhole → the integration is `failed` within 30 s with
#            a reason naming the relay's host:port (no password); heal → it
#            recovers by itself (supervisor backoff; the walsender left on the
#            dead link is ended) and the target matches exactly.
#   sigterm  while blackholed: `zetl run` answers SIGTERM within 2 s, both
#            mid-stream (the link just froze) and while reconnecting.
#   copy     initial copy whose COPY waits on a lock held at the source for
#            longer than the silence deadline: not cut short (the probe finds
#            our backend waiting), exact. Then a pause while a COPY waits on a
#            lock: answered within 2 s. Resumed, the copy blackholed while it
#            waits: `failed` within 30 s naming the source, heal → recovers, exact.
#   mysql    MariaDB through the relay, its snapshot read waiting on a table
#            lock: a pause is answered within 2 s (the sentry cuts the read);
#            resumed, then blackholed while it waits: `failed` within 30 s
#            (the read deadline), heal → recovers, exact. Then the stream's
#            link frozen: pause and resume answered within 2 s, SIGTERM while
#            reconnecting within 2 s with exit 0, restart exact.
# DEAD_PARTS picks parts (default: all), e.g. DEAD_PARTS="copy mysql".
# The publication drift check is tests/integration/test_pub_drift.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/proxy.sh
T=test_dead_source
CMD=${ZETL_BUILD:-build}/tools/zetl_command
PARTS=${DEAD_PARTS:-stream sigterm copy mysql}
want() { [[ " $PARTS " == *" $1 "* ]]; }

harness_start mariadb pgsrc pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
DBFILE=$E2E_DIR/state/zetl.db
ins_pid=
lock_pid=
cleanup() {
    rm -f "$E2E_DIR/go"
    [ -n "$ins_pid" ] && wait "$ins_pid" 2>/dev/null
    [ -n "$lock_pid" ] && kill "$lock_pid" 2>/dev/null
    e2e_cleanup
    proxy_stop pg
    proxy_stop my
    for n in dead_stream dead_copy dead_copy2; do e2e_pg_drop $n $n; done
    zh_mysql -e "DROP DATABASE IF EXISTS dead_my" >/dev/null 2>&1
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS dead_my CASCADE" >/dev/null 2>&1
}
trap 'cleanup; harness_stop' EXIT
export E2E_PG_PASSWORD=$ZH_PG_PASSWORD E2E_MY_PASSWORD=$ZH_MY_PASSWORD
proxy_start pg "$ZH_PGSRC_PORT" || { t_fail $T "proxy" "started" "not started"; t_done; }
proxy_start my "$ZH_MY_PORT" || { t_fail $T "proxy" "started" "not started"; t_done; }

now_ms() { date +%s%3N; }
WAIT_T0=0
ig_field() { e2e_status_field ".integrations[] | select(.name == \"$1\") | $2"; }
tbl_field() { e2e_status_field ".integrations[] | select(.name == \"$1\") | .tables[] | select(.name == \"$2\") | $3"; }

# pg_config NAME: integration NAME reads schema NAME through the relay.
pg_config() {
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: $1
    source: {kind: postgres, host: 127.0.0.1, port: $PROXY_pg_PORT, user: $ZH_PG_USER,
             password: "\${E2E_PG_PASSWORD}", database: zetl, schemas: [$1]}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["$1.%"]}
    apply: {batch_ms: 100}
YAML
}

# wait_state NAME STATE SECS: poll the integration's state; sets WAITED_MS
# (from WAIT_T0) and LAST_STATE. 0 when reached.
wait_state() {
    local end=$((SECONDS + $3))
    while :; do
        LAST_STATE=$(ig_field "$1" .state)
        WAITED_MS=$(($(now_ms) - WAIT_T0))
        [ "$LAST_STATE" = "$2" ] && return 0
        [ $SECONDS -ge $end ] && return 1
        sleep 0.5
    done
}

# inserter SQL_TABLE: one row every 0.1 s straight into the source (not
# through the relay) until $E2E_DIR/go is removed.
start_inserter() {
    touch "$E2E_DIR/go"
    (while [ -e "$E2E_DIR/go" ]; do echo "INSERT INTO $1 (v) VALUES ('r');"; sleep 0.1; done | zh_psql_src >/dev/null) &
    ins_pid=$!
}
stop_inserter() { rm -f "$E2E_DIR/go"; wait "$ins_pid" 2>/dev/null; ins_pid=; }

# sigterm_within LABEL: SIGTERM the running zetl, assert it exits within 2 s,
# with status 0 and without the last-resort exit (every thread stopped).
sigterm_within() {
    local t0 waited rc lines
    lines=$(wc -l <"$E2E_DIR/run.log")
    t0=$(now_ms)
    kill -TERM "$E2E_PID"
    while kill -0 "$E2E_PID" 2>/dev/null && [ $(($(now_ms) - t0)) -lt 10000 ]; do sleep 0.05; done
    waited=$(($(now_ms) - t0))
    if kill -0 "$E2E_PID" 2>/dev/null; then
        t_fail $T "$1: SIGTERM answered" "exit within 2000 ms" "still running after 10 s"
        e2e_run_kill9
        return
    fi
    wait "$E2E_PID" 2>/dev/null
    rc=$?
    E2E_PID=
    if [ "$waited" -le 2000 ]; then t_pass $T "$1: SIGTERM answered in $waited ms (≤ 2000)"
    else t_fail $T "$1: SIGTERM answered" "≤ 2000 ms" "$waited ms"; fi
    t_eq $T "$1: a clean stop (exit 0, no thread left stuck)" "0" "$rc"
    t_eq $T "$1: no last-resort exit" "" "$(tail -n +"$((lines + 1))" "$E2E_DIR/run.log" | grep 'did not stop')"
}

# answered_within LABEL NAME COMMAND: send an operator command as the console
# does; assert the runtime answers "ok" within 2 s.
answered_within() {
    local t0 out rc waited
    t0=$(now_ms)
    out=$("$CMD" "$DBFILE" "$2" "$3" 2>&1)
    rc=$?
    waited=$(($(now_ms) - t0))
    if [ "$rc" = 0 ] && [ "$waited" -le 2000 ]; then t_pass $T "$1: $3 answered in $waited ms (≤ 2000)"
    else t_fail $T "$1: $3 answered" "ok within 2000 ms" "rc $rc ($out) after $waited ms"; fi
}

# pause_blocked_copy LABEL NAME: once NAME's copy waits on a source lock (its
# read blocked, no row to poll commands between), a pause is answered within
# 2 s (the sentry sees it wait and cuts the read, runtime/integ/sentry.h); then
# resume, and return once the copy waits on the lock again.
pause_blocked_copy() {
    wait_state "$2" snapshotting 30 >/dev/null
    sleep 2
    answered_within "$1" "$2" pause
    WAIT_T0=$(now_ms)
    wait_state "$2" paused 5 >/dev/null
    t_eq $T "$1: paused" "paused" "$LAST_STATE"
    "$CMD" "$DBFILE" "$2" resume >/dev/null
    wait_state "$2" snapshotting 30 >/dev/null
    sleep 2
}

# ---- stream: blackhole while streaming, heal, recover ----------------------------------
if want stream || want sigterm; then
    S=dead_stream
    e2e_pg_drop $S $S
    zh_psql_src -c "CREATE SCHEMA $S; CREATE TABLE $S.t (id serial PRIMARY KEY, v text);
                    CREATE TABLE $S.u (id serial PRIMARY KEY, v text);
                    INSERT INTO $S.t (v) SELECT 'seed' FROM generate_series(1, 100);
                    INSERT INTO $S.u (v) SELECT 'seed' FROM generate_series(1, 100)" >/dev/null
    pg_config $S
    e2e_run_start
    if e2e_wait_match 90; then t_pass $T "stream: initial copy through the relay matches"
    else t_fail $T "stream: initial copy" "zetl verify: match" "$E2E_VERIFY"; fi
fi

if want stream; then
    start_inserter "$S.t"
    sleep 3
    WAIT_T0=$(now_ms)
    proxy_blackhole pg
    wait_state $S failed 60
    t_eq $T "stream: blackholed link → integration failed" "failed" "$LAST_STATE"
    if [ "$WAITED_MS" -le 30000 ]; then t_pass $T "stream: the dead link was noticed in $WAITED_MS ms (≤ 30000)"
    else t_fail $T "stream: noticed in time" "≤ 30000 ms" "$WAITED_MS ms: $(ig_field $S .reason)"; fi
    reason=$(ig_field $S .reason)
    t_match $T "stream: the reason names the source host:port" "127\.0\.0\.1:$PROXY_pg_PORT" "$reason"
    t_match $T "stream: the reason says no answer" "no answer" "$reason"
    if [[ $reason == *"$ZH_PG_PASSWORD"* ]]; then t_fail $T "stream: no password in the reason" "absent" "present"
    else t_pass $T "stream: no password in the reason"; fi
    sleep 5                                   # a retry or two against the dead link
    proxy_heal pg
    WAIT_T0=$(now_ms)
    if wait_state $S active 150; then t_pass $T "stream: healed: active again by itself after $WAITED_MS ms"
    else t_fail $T "stream: recovery" "active" "$LAST_STATE: $(ig_field $S .reason)"; fi
    stop_inserter
    if e2e_wait_match 90; then t_pass $T "stream: exact after the fault, inserts continuing across it"
    else t_fail $T "stream: exact after the fault" "zetl verify: match" "$E2E_VERIFY"; fi
    t_eq $T "stream: every inserted row arrived once" \
        "$(zh_psql_src -c "SELECT count(*), max(id) FROM $S.t")" \
        "$(zh_psql_tgt -c "SELECT count(*), max(id) FROM $S.t")"
fi

# ---- sigterm: while the link is dead ------------------------------------------------------
if want sigterm; then
    [ -n "$E2E_PID" ] || e2e_run_start
    wait_state $S active 60 >/dev/null
    proxy_blackhole pg
    sleep 4                                     # mid-stream, the reader waiting on silence
    sigterm_within "sigterm mid-stream"
    e2e_run_start                               # restarts against the dead relay
    sleep 3                                     # connecting: the relay accepts, never answers
    sigterm_within "sigterm while connecting"
    proxy_heal pg
    e2e_run_start
    if e2e_wait_match 120; then t_pass $T "sigterm: restarted after heal: exact"
    else t_fail $T "sigterm: restart after heal" "zetl verify: match" "$E2E_VERIFY"; fi
fi
[ -n "$E2E_PID" ] && e2e_run_stop

# ---- copy: a long legit COPY start, then a copy blackholed ------------------------------------
# hold_lock SCHEMA SECS: ACCESS EXCLUSIVE on SCHEMA.big for SECS (no xid: slot creation goes on).
hold_lock() {
    (echo "BEGIN; LOCK TABLE $1.big IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($2); COMMIT;" |
        zh_psql_src >/dev/null 2>&1) &
    lock_pid=$!
    sleep 1
}
copy_setup() {
    e2e_pg_drop "$1" "$1"
    zh_psql_src -c "CREATE SCHEMA $1; CREATE TABLE $1.big (id serial PRIMARY KEY, v text);
                    INSERT INTO $1.big (v) SELECT md5(g::text) FROM generate_series(1, 20000) g;
                    CREATE PUBLICATION zetl_$1 FOR TABLE $1.big" >/dev/null
    pg_config "$1"
}
if want copy; then
    copy_setup dead_copy
    hold_lock dead_copy 25
    WAIT_T0=$(now_ms)
    e2e_run_start
    saw_failed=no
    state=
    while kill -0 "$lock_pid" 2>/dev/null; do
        state=$(ig_field dead_copy .state)
        [ "$state" = failed ] && saw_failed="yes: $(ig_field dead_copy .reason)"
        sleep 1
    done
    lock_pid=
    t_eq $T "copy: a COPY waiting 25 s on a lock is not given up on" "no" "$saw_failed"
    t_eq $T "copy: still copying when the lock went (it waited past the 15 s silence deadline)" \
        "snapshotting" "$state"
    if e2e_wait_match 90; then t_pass $T "copy: the slow copy completes exactly"
    else t_fail $T "copy: slow copy" "zetl verify: match" "$E2E_VERIFY"; fi
    e2e_run_stop

    copy_setup dead_copy2
    hold_lock dead_copy2 16
    e2e_run_start
    pause_blocked_copy "copy: COPY blocked" dead_copy2
    WAIT_T0=$(now_ms)
    proxy_blackhole pg
    wait_state dead_copy2 failed 60
    t_eq $T "copy: blackholed copy → integration failed" "failed" "$LAST_STATE"
    if [ "$WAITED_MS" -le 30000 ]; then t_pass $T "copy: the dead link was noticed in $WAITED_MS ms (≤ 30000)"
    else t_fail $T "copy: noticed in time" "≤ 30000 ms" "$WAITED_MS ms"; fi
    t_match $T "copy: the reason names the source host:port" "127\.0\.0\.1:$PROXY_pg_PORT" "$(ig_field dead_copy2 .reason)"
    wait "$lock_pid" 2>/dev/null; lock_pid=
    proxy_heal pg
    WAIT_T0=$(now_ms)
    if wait_state dead_copy2 active 150; then t_pass $T "copy: healed: the copy is redone by itself ($WAITED_MS ms)"
    else t_fail $T "copy: recovery" "active" "$LAST_STATE: $(ig_field dead_copy2 .reason)"; fi
    if e2e_wait_match 60; then t_pass $T "copy: exact after the fault"
    else t_fail $T "copy: exact after the fault" "zetl verify: match" "$E2E_VERIFY"; fi
    e2e_run_stop
fi

# ---- mysql: a snapshot read blackholed -------------------------------------------------------
if want mysql; then
    zh_mysql -e "DROP DATABASE IF EXISTS dead_my; CREATE DATABASE dead_my;
                 CREATE TABLE dead_my.big (id INT PRIMARY KEY, v VARCHAR(40));
                 USE dead_my; INSERT INTO dead_my.big SELECT seq, md5(seq) FROM seq_1_to_20000"
    zh_psql_tgt -c "DROP SCHEMA IF EXISTS dead_my CASCADE; DELETE FROM zetl.checkpoints WHERE integration = 'dead_my'" >/dev/null 2>&1
    cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: dead_my
    source: {kind: mysql, host: 127.0.0.1, port: $PROXY_my_PORT, user: $ZH_MY_USER,
             password: "\${E2E_MY_PASSWORD}", databases: [dead_my], server_id: 6161}
    target: {kind: postgres, dsn: "$ZH_PGTGT_DSN"}
    tables: {include: ["dead_my.%"]}
    apply: {batch_ms: 100}
YAML
    (zh_mysql -e "LOCK TABLES dead_my.big WRITE; SELECT SLEEP(16); UNLOCK TABLES" >/dev/null 2>&1) &
    lock_pid=$!
    sleep 1
    e2e_run_start
    pause_blocked_copy "mysql: copy blocked" dead_my
    WAIT_T0=$(now_ms)
    proxy_blackhole my
    wait_state dead_my failed 90
    t_eq $T "mysql: blackholed snapshot read → integration failed" "failed" "$LAST_STATE"
    if [ "$WAITED_MS" -le 30000 ]; then t_pass $T "mysql: the dead link was noticed in $WAITED_MS ms (≤ 30000)"
    else t_fail $T "mysql: noticed in time" "≤ 30000 ms" "$WAITED_MS ms"; fi
    t_match $T "mysql: the reason names the source" "dead_my" "$(ig_field dead_my .reason)"
    wait "$lock_pid" 2>/dev/null; lock_pid=
    proxy_heal my
    WAIT_T0=$(now_ms)
    if wait_state dead_my active 150; then t_pass $T "mysql: healed: the copy is redone by itself ($WAITED_MS ms)"
    else t_fail $T "mysql: recovery" "active" "$LAST_STATE: $(ig_field dead_my .reason)"; fi
    if e2e_wait_match 60; then t_pass $T "mysql: exact after the fault"
    else t_fail $T "mysql: exact after the fault" "zetl verify: match" "$E2E_VERIFY"; fi
    # Streaming, the binlog link freezes: the reader sits in a read with a
    # 10 s deadline. A pause must not wait for it (stop_reader cuts the
    # link), so the resume after it is answered at once; then SIGTERM while
    # the new round connects through the dead link.
    proxy_blackhole my
    sleep 2
    answered_within "mysql: stream frozen" dead_my pause
    answered_within "mysql: stream frozen" dead_my resume
    sleep 2                                     # the new round connects: the relay never answers
    sigterm_within "mysql: stream frozen"
    proxy_heal my
    zh_mysql -e "INSERT INTO dead_my.big VALUES (900001, 'after the freeze')"
    e2e_run_start
    if e2e_wait_match 90; then t_pass $T "mysql: restarted after heal: exact"
    else t_fail $T "mysql: restart after heal" "zetl verify: match" "$E2E_VERIFY"; fi
    e2e_run_stop
fi
t_done
