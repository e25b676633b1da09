#!/usr/bin/env bash
# test_http_sink.sh — the tests' HTTP receiver (tests/tools/http_sink.c) keeps
# its interface: the port file, one JSON line per request (method, path,
# lower-case headers, the body escaped), Content-Length, chunked and
# Expect: 100-continue bodies, keep-alive, DIR/respond (a status, a body,
# "sleep SECONDS CODE"), a restart on the same port continuing seq, and exit 0
# on SIGTERM. Driven with curl, a client it was not written against.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
T=test_http_sink
SINK_BIN=${ZETL_BUILD:-build}/tools/http_sink
[ -x "$SINK_BIN" ] || { t_fail $T "http_sink" "$SINK_BIN built (make unit-bins)" "missing"; t_done; }
D=$(mktemp -d /tmp/zetl-http-sink.XXXXXX)
PID=
trap '[ -n "$PID" ] && { kill -TERM "$PID"; wait "$PID"; } 2>/dev/null; rm -rf "$D"' EXIT
start() {   # [PORT]
    "$SINK_BIN" --dir "$D" ${1:+--port "$1"} 2>>"$D/stderr" &
    PID=$!
    local i
    for ((i = 0; i < 100; i++)); do [ -s "$D/port" ] && break; sleep 0.1; done
    PORT=$(cat "$D/port" 2>/dev/null)
}
line() { sed -n "${1}p" "$D/requests.jsonl"; }
U() { echo "http://127.0.0.1:$PORT$1"; }

start
t_match $T "port file written once listening" '^[0-9]+$' "$PORT"
out=$(curl -s -H 'X-Token: a"b\c' --data-binary $'hello\n"world"\x01' "$(U '/hook?x=1')")
t_eq $T "default answer is 200 ok" "ok" "$out"
t_eq $T "one JSON line: seq, method, path" "1|POST|/hook?x=1" "$(line 1 | jq -r '"\(.seq)|\(.method)|\(.path)"')"
t_eq $T "headers lower-cased, values kept" 'a"b\c' "$(line 1 | jq -r '.headers["x-token"]')"
t_eq $T "body escaped and read back exactly" $'hello\n"world"\x01' "$(line 1 | jq -j .body)"

seq 1 20000 >"$D/chunked.txt"
curl -s -H 'Transfer-Encoding: chunked' --data-binary @"$D/chunked.txt" "$(U /chunked)" >/dev/null
t_eq $T "chunked body decoded" "$(cat "$D/chunked.txt")" "$(line 2 | jq -j .body)"

head -c 3000000 /dev/zero | tr '\0' 'z' >"$D/big.txt"
curl -s -H 'Expect: 100-continue' --data-binary @"$D/big.txt" "$(U /big)" >/dev/null
t_eq $T "Expect: 100-continue, a 3 MB body" "3000000|100-continue" \
    "$(line 3 | jq -r '"\(.body | length)|\(.headers.expect)"')"

out=$(curl -s -v -d a "$(U /k1)" -d b "$(U /k2)" 2>&1)
t_match $T "keep-alive: curl reuses the connection" "Re-using existing connection" "$out"

printf '418\nteapot says no\nsecond line\n' >"$D/respond"
out=$(curl -s -w '|%{http_code}' -d x "$(U /r)")
t_eq $T "DIR/respond: status and body" $'teapot says no\nsecond line\n|418' "$out"
printf 'sleep 2 200\nslow\n' >"$D/respond"
rc=0; curl -s -m 1 -d x "$(U /slow)" >/dev/null || rc=$?
t_eq $T "sleep SECONDS CODE: a client timeout" "28" "$rc"
t_eq $T "the slow request was still recorded" "/slow" "$(tail -1 "$D/requests.jsonl" | jq -r .path)"
printf 'bogus\n' >"$D/respond"
t_eq $T "a bad respond file answers 500" "500" "$(curl -s -o /dev/null -w '%{http_code}' -d x "$(U /bad)")"
rm -f "$D/respond"

n=$(wc -l <"$D/requests.jsonl")
kill -TERM "$PID"; rc=0; wait "$PID" || rc=$?; PID=
t_eq $T "SIGTERM: exit 0" "0" "$rc"
t_fails $T "the port file is gone after exit" test -e "$D/port"
old=$PORT
start "$old"
t_eq $T "restart on the same port" "$old" "$PORT"
curl -s -d again "$(U /again)" >/dev/null
t_eq $T "seq continues after a restart" "$((n + 1))" "$(tail -1 "$D/requests.jsonl" | jq -r .seq)"
t_eq $T "every line is valid JSON" "$((n + 1))" "$(jq -s length "$D/requests.jsonl")"
t_done
