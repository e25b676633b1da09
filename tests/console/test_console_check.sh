#!/usr/bin/env bash
# test_console_check.sh — the console's `c` runs the same checks as
# `zetl check` (one routine): with a real MariaDB source and a target on a
# port where nothing listens, the report shows the target's failure named by
# host:port (never the password) and the same totals `zetl check` prints,
# which exits 1.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_check
DB=con_chk

harness_start mariadb || { t_fail $T "harness" "servers up" "start failed"; t_done; }
e2e_init $T
trap 'tm_stop; e2e_cleanup; harness_stop' EXIT

zh_mysql <<SQL
DROP DATABASE IF EXISTS $DB;
CREATE DATABASE $DB;
CREATE TABLE $DB.accounts (id INT PRIMARY KEY, v INT);
SQL
# A port nothing listens on, from the kernel's table of sockets, left closed.
dead=$(comm -23 <(seq 42000 42100 | sort) <(ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u) | head -1)
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: conchk
    source:
      kind: mysql
      host: 127.0.0.1
      port: $ZH_MY_PORT
      user: $ZH_MY_USER
      password: $ZH_MY_PASSWORD
      databases: [$DB]
      server_id: 6262
    target:
      kind: postgres
      dsn: "host=127.0.0.1 port=$dead dbname=warehouse user=zetl password=tgt-secret-77"
    tables:
      include: ["$DB.%"]
YAML

# zetl check: the dead target fails the run.
out=$("$ZETL" check -c "$E2E_DIR/zetl.yaml" 2>&1); rc=$?
t_eq $T "zetl check exits 1 on a dead target" 1 "$rc"
total=$(grep -E '^integration conchk: [0-9]+ failed' <<<"$out")
t_match $T "zetl check: the target fails, named by host:port" "target conchk: postgres://127.0.0.1:$dead/warehouse" "$out"

tm_start 110 50 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }
tm_run "cd $E2E_DIR && $ZETL console -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?"
tm_wait 'conchk' 15 || t_fail $T "home view" "conchk" "$TM_SCREEN"
tm_keys c
if tm_wait 'Preflight checks: conchk' 5 && tm_wait 'integration conchk: [0-9]+ failed' 30; then
    t_pass $T "c runs the checks to the end"
else t_fail $T "c report" "Preflight checks: conchk ... integration conchk: N failed" "$TM_SCREEN"; fi
tm_keys G
tm_wait "target conchk: postgres://127.0.0.1:$dead/warehouse" 5
t_match $T "c: the target is checked, named by host:port" "target conchk: postgres://127.0.0.1:$dead/warehouse" "$TM_SCREEN"
t_match $T "c: the connection failure and its cause" "FAIL +connect +connection refused" "$TM_SCREEN"
t_match $T "c: the same totals as zetl check (${total:-none})" "${total:-no total from zetl check}" "$TM_SCREEN"
t_eq $T "c: the target password is not on screen" 0 "$(grep -c 'tgt-secret-77' <<<"$TM_SCREEN")"
tm_keys Escape
tm_wait_not 'Preflight checks' 5 || t_fail $T "Esc closes the report" "no report" "$TM_SCREEN"
tm_keys q; tm_wait 'Stop replication' 5 && tm_keys y
tm_wait 'CONSOLE-EXIT=' 20 || t_fail $T "the console exits" "CONSOLE-EXIT=" "$TM_SCREEN"
t_done
