#!/usr/bin/env bash
# test_console_signals.sh — an unreachable source shows `failed` with its
# reason on screen (banner and details), and the terminal is restored on
# every way out an SSH session knows: SIGTERM and SIGHUP to the console give
# the shell prompt back with a sane tty (stty: icanon echo), the console
# exits 0, and its lock is released; a crash (SIGSEGV) restores the tty too.
# Without a config the console opens the setup walkthrough on a terminal,
# and otherwise points at `zetl init` and exits 1.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/e2e.sh
. tests/lib/tmux.sh
T=test_console_signals

e2e_init $T
trap 'tm_stop; e2e_cleanup' EXIT

# A port nothing listens on: bind one, then let it go.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat >"$E2E_DIR/zetl.yaml" <<YAML
state_dir: $E2E_DIR/state
integrations:
  - name: down
    source:
      kind: mysql
      host: 127.0.0.1
      port: $port
      user: zetl
      password: nothing
      databases: [nowhere]
      server_id: 6464
    target:
      kind: postgres
      dsn: "host=127.0.0.1 port=$port dbname=nowhere user=zetl password=secret-xyz"
    tables:
      include: ["nowhere.%"]
YAML

# The console runs under a plain `sh -c` that records `stty -a` right after
# it exits: no interactive shell has had the chance to repair the tty.
run_console() {
    rm -f "$E2E_DIR/stty.txt"
    tm_run "sh -c '$ZETL console -c $E2E_DIR/zetl.yaml; echo CONSOLE-EXIT=\$?; stty -a > $E2E_DIR/stty.txt'"
}
tty_sane() {
    local i
    for i in $(seq 1 50); do [[ -s $E2E_DIR/stty.txt ]] && break; sleep 0.1; done
    local s; s=$(cat "$E2E_DIR/stty.txt" 2>/dev/null)
    [[ $s =~ (^|[[:space:]])icanon && $s =~ (^|[[:space:]])echo([[:space:]]|$) && $s =~ (^|[[:space:]])icrnl && $s =~ (^|[[:space:]])opost ]]
}
console_pid() { pgrep -n -f "^$ZETL console -c $E2E_DIR/zetl.yaml"; }

tm_start 80 24 || { t_fail $T "tmux" "a shell prompt" "$TM_SCREEN"; t_done; }

# 0. No config: on a terminal the setup walkthrough opens (tests/console/test_init.sh
#    walks it); leaving it writes nothing. Without a terminal: a pointer to zetl init, exit 1.
tm_run "$ZETL console -c $E2E_DIR/missing.yaml; echo CONSOLE-EXIT=\$?"
if tm_wait 'No config at .*missing\.yaml yet' 10; then t_pass $T "no config: the setup walkthrough opens"
else t_fail $T "no config" "the walkthrough (No config at ... yet)" "$TM_SCREEN"; fi
tm_keys F10
tm_wait 'Leave the walkthrough' 5 && tm_keys y
if tm_wait 'CONSOLE-EXIT=0' 10 && [[ $TM_SCREEN =~ "nothing written" && ! -e $E2E_DIR/missing.yaml ]]; then
    t_pass $T "leaving the walkthrough writes nothing, exit 0"
else t_fail $T "leave the walkthrough" "nothing written, CONSOLE-EXIT=0" "$TM_SCREEN"; fi
out=$("$ZETL" console -c "$E2E_DIR/missing.yaml" </dev/null 2>&1); rc=$?
if ((rc == 1)) && [[ $out =~ "zetl init" ]]; then t_pass $T "no config and no terminal: points at zetl init, exit 1"
else t_fail $T "no config, no terminal" "a message naming zetl init, exit 1" "exit $rc: $out"; fi
tm_run clear

# 1. Unreachable source: failed with the reason, on the home view.
run_console
if tm_wait 'down +failed' 30 && tm_wait 'state failed: .*(connect|refused)' 5; then
    t_pass $T "unreachable source: failed with its reason on screen"
else t_fail $T "failed with reason" "down failed ... state failed: ...connect..." "$TM_SCREEN"; fi
t_match $T "the attention banner names it" "! down failed" "$TM_SCREEN"
[[ $TM_SCREEN =~ secret-xyz ]] && t_fail $T "no password on screen" "no secret-xyz" "$TM_SCREEN" || t_pass $T "no password on screen"

# 2. SIGTERM: the shell prompt comes back, the tty is sane.
pid=$(console_pid)
kill -TERM "$pid"
if tm_wait 'CONSOLE-EXIT=0' 20; then t_pass $T "SIGTERM: the console exits 0 and the prompt is back"
else t_fail $T "SIGTERM exit" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi
t_ok $T "SIGTERM: stty -a is sane (icanon echo icrnl opost)" tty_sane
[[ $TM_SCREEN =~ INTEGRATION ]] && t_fail $T "SIGTERM: the console's screen is gone" "the shell's screen" "$TM_SCREEN" \
    || t_pass $T "SIGTERM: back from the alternate screen"
t_ok $T "SIGTERM: the lock is released" flock -n "$E2E_DIR/state/down.lock" true
tm_run clear

# 3. SIGHUP (the SSH session dropped).
run_console
tm_wait 'down +failed' 30
pid=$(console_pid)
kill -HUP "$pid"
if tm_wait 'CONSOLE-EXIT=0' 20; then t_pass $T "SIGHUP: the console exits 0 and the prompt is back"
else t_fail $T "SIGHUP exit" "CONSOLE-EXIT=0" "$TM_SCREEN"; fi
t_ok $T "SIGHUP: stty -a is sane" tty_sane
tm_run clear

# 4. A crash: the fatal-signal handler restores the terminal before dying.
run_console
tm_wait 'down +failed' 30
pid=$(console_pid)
kill -SEGV "$pid"
if tm_wait 'CONSOLE-EXIT=139|CONSOLE-EXIT=11' 20; then t_pass $T "SIGSEGV: dies of the signal, the prompt is back"
else t_fail $T "SIGSEGV exit" "CONSOLE-EXIT=139|CONSOLE-EXIT=11" "$TM_SCREEN"; fi
t_ok $T "SIGSEGV: stty -a is sane" tty_sane
t_done
