# shellcheck shell=bash
#
# proxy.sh — a link that a test can break: tests/tools/tcpproxy between zetl
# and a server (see tcpproxy.c for the faults).
#
#   proxy_start NAME UPSTREAM_PORT   start a relay; sets PROXY_<NAME>_PORT and _PID
#   proxy_blackhole NAME             freeze every link (half-open: no FIN, no RST)
#   proxy_reset NAME                 close every link with an RST
#   proxy_heal NAME                  relay new connections again
#   proxy_stop NAME                  end the relay (also at the test's exit: it
#                                    dies with the shell that started it)
# Needs $ZETL_BUILD (tests/run.sh exports it; default ./build).

proxy_start() {
    local name=$1 up=$2 out port i
    out=$(mktemp)
    "${ZETL_BUILD:-./build}/tools/tcpproxy" "$up" >"$out" 2>>"${E2E_DIR:-/tmp}/proxy-$name.log" &
    local pid=$!
    for i in $(seq 1 50); do
        port=$(head -n1 "$out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    rm -f "$out"
    [ -n "$port" ] || { echo "proxy_start: $name did not start" >&2; return 1; }
    printf -v "PROXY_${name}_PORT" '%s' "$port"
    printf -v "PROXY_${name}_PID" '%s' "$pid"
}

_proxy_pid() { local v="PROXY_${1}_PID"; echo "${!v}"; }
proxy_blackhole() { kill -USR1 "$(_proxy_pid "$1")"; sleep 0.2; }
proxy_reset()     { kill -USR2 "$(_proxy_pid "$1")"; sleep 0.2; }
proxy_heal()      { kill -HUP "$(_proxy_pid "$1")"; sleep 0.2; }
proxy_stop() {
    local pid
    pid=$(_proxy_pid "$1")
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    printf -v "PROXY_${1}_PID" '%s' ""
}
