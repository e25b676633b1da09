#!/usr/bin/env bash
# test_proxy.sh — the fault relay itself (tests/tools/tcpproxy) against a real
# PostgreSQL: it relays, a blackhole freezes a live link without closing it,
# a reset breaks it at once, and heal lets new connections through again.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/assert.sh
. tests/lib/proxy.sh
T=test_proxy

harness_start pgtgt || { t_fail $T "harness" "servers up" "start failed"; t_done; }
trap 'proxy_stop tgt; harness_stop' EXIT
proxy_start tgt "$ZH_PGTGT_PORT" || { t_fail $T "proxy" "started" "not started"; t_done; }
DSN="host=127.0.0.1 port=$PROXY_tgt_PORT dbname=zetl user=$ZH_PG_USER password=$ZH_PG_PASSWORD connect_timeout=3"
q() { timeout "${2:-5}" psql -X -q -A -t "$DSN" -c "$1" 2>&1; }

t_eq $T "relays a query" "42" "$(q 'SELECT 42')"

# A live session, then the blackhole: its next query gets no answer (psql is
# still waiting when timeout kills it), and no error either (no FIN, no RST).
coproc SESS { psql -X -q -A -t "$DSN" 2>&1; }
sess=$SESS_PID
echo "SELECT 'before';" >&"${SESS[1]}"
read -r -t 5 line <&"${SESS[0]}"
t_eq $T "session answers before the blackhole" "before" "$line"
proxy_blackhole tgt
echo "SELECT 'after';" >&"${SESS[1]}"
if read -r -t 3 line <&"${SESS[0]}"; then t_fail $T "blackholed session" "no answer" "\"$line\""
else t_pass $T "a blackholed session gets no answer and no error"; fi
t_eq $T "a new connection during the blackhole hangs (timeout 124)" "124" "$(q 'SELECT 1' 3 >/dev/null; echo $?)"
kill "$sess" 2>/dev/null; wait "$sess" 2>/dev/null

proxy_heal tgt
t_eq $T "heal: new connections relay again" "7" "$(q 'SELECT 7')"

coproc SESS2 { psql -X -q -A -t "$DSN" 2>&1; }
sess2=$SESS2_PID
echo "SELECT 'live';" >&"${SESS2[1]}"
read -r -t 5 line <&"${SESS2[0]}"
proxy_reset tgt
echo "SELECT 'gone';" >&"${SESS2[1]}"
out=$(timeout 5 cat <&"${SESS2[0]}")
# psql says so, or (its message lost with the pipe it was writing to) it
# ended with a failure status within those 5 s; a hang is neither.
rc=0; kill -0 "$sess2" 2>/dev/null && rc=running
[ "$rc" = running ] || { wait "$sess2" 2>/dev/null; rc=$?; }
if [[ $out =~ terminated|closed|lost|reset ]]; then
    t_pass $T "reset: the live session sees the link broken at once ($out)"
elif [ "$rc" != running ] && [ "$rc" != 0 ]; then
    t_pass $T "reset: the live session sees the link broken at once (psql ended, status $rc)"
else
    t_fail $T "reset: the live session sees the link broken at once" "a broken-link message or psql ending with a failure" \
        "output \"$out\", psql ${rc/running/still running}"
fi
[ "$rc" = running ] && { kill "$sess2" 2>/dev/null; wait "$sess2" 2>/dev/null; }
t_eq $T "after a reset new connections relay" "9" "$(q 'SELECT 9')"
t_done
