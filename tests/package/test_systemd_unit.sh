#!/usr/bin/env bash
# test_systemd_unit.sh — zetl.service under a real systemd, from the .deb
# (`make deb-check`; not part of `make test`: it needs the network and a few minutes).
#
#   tests/package/test_systemd_unit.sh [DEB]     (default: the newest build/deb/zetl_*.deb)
#
# As root: a fresh bookworm root with systemd (debootstrap), the package installed in it by
# apt-get, is booted with systemd-nspawn (systemd as its PID 1, the host's network, so it
# reaches this test's MariaDB and PostgreSQL target on loopback). Inside, a one-shot unit
# drives zetl.service step by step while this script changes the source and checks the
# target between the steps:
#  1. `systemctl start zetl` runs `zetl run` as the user zetl (not root), with the
#     passwords from /etc/zetl/zetl.env and the state in /var/lib/zetl (StateDirectory=,
#     zetl:zetl 0700, found through $STATE_DIRECTORY: the config sets no state_dir); the
#     source's rows reach the target;
#  2. `systemctl stop zetl` (SIGTERM) returns within 3 s, the run exits 0 (Result=success)
#     after "stopping: finishing the current batches", and the journal holds no password;
#  3. `systemctl reload zetl` is refused (no ExecReload=: the README's restart story);
#  4. rows inserted while it was stopped arrive after `systemctl start zetl` — exactly
#     once: the target equals the source row for row.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/assert.sh
T=test_systemd_unit
. tests/package/lib.sh
pkg_enter_namespace "$0" "$@"
command -v systemd-nspawn >/dev/null ||
    { t_fail $T "systemd-nspawn is installed" "systemd-nspawn (package systemd-container; make deps)" "missing"; t_done; }
pkg_deb "${1:-}"

W=$(mktemp -d /var/tmp/zetl-unit-check.XXXXXX)
R=$W/root
OUT=$R/root/out
nspawn_pid=
cleanup() {
    [[ -n $nspawn_pid ]] && kill -9 "$nspawn_pid" 2>/dev/null
    harness_stop
    rm -rf "$W"
}
. tests/lib/harness.sh
trap cleanup EXIT
harness_start mariadb pgtgt || { t_fail $T "harness" "MariaDB and a PostgreSQL target" "start failed"; t_done; }

# The source: 1,000 rows.
zh_mysql <<'SQL' || { t_fail $T "the source table" "created" "failed"; t_done; }
DROP DATABASE IF EXISTS unitdb; CREATE DATABASE unitdb; USE unitdb;
CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40));
INSERT INTO t SELECT seq, CONCAT('r', seq) FROM seq_1_to_1000;
SQL
zh_psql_tgt -c 'DROP SCHEMA IF EXISTS unitdb CASCADE' >/dev/null 2>&1
zh_psql_tgt -c "DELETE FROM zetl.checkpoints WHERE integration = 'unit'" >/dev/null 2>&1

mkdir -p "$R"
pkg_root "$R" systemd,systemd-sysv,dbus
pkg_install "$R" --no-install-recommends

# The operator's part, as the README says: the config (no state_dir), the secrets.
cat >"$R/etc/zetl/zetl.yaml" <<YAML
integrations:
  - name: unit
    source: {kind: mysql, host: 127.0.0.1, port: $ZH_MY_PORT, user: $ZH_MY_USER,
             password: "\${UNIT_MY_PASSWORD}", databases: [unitdb], server_id: 4711}
    target: {kind: postgres, dsn: "host=127.0.0.1 port=$ZH_PGTGT_PORT dbname=zetl user=zetl password=\${UNIT_PG_PASSWORD}"}
    tables: {include: ["unitdb.%"]}
    apply: {batch_ms: 100}
YAML
printf 'UNIT_MY_PASSWORD=%s\nUNIT_PG_PASSWORD=%s\n' "$ZH_MY_PASSWORD" "$ZH_PG_PASSWORD" >"$R/etc/zetl/zetl.env"
chmod 0600 "$R/etc/zetl/zetl.env"
pkg_in_root "$R" chgrp zetl /etc/zetl/zetl.yaml && chmod 0640 "$R/etc/zetl/zetl.yaml"

# The driver inside: each step waits for this script's go-N file, writes what it saw.
mkdir -p "$OUT"
cat >"$R/root/drive.sh" <<'EOF'
#!/bin/bash
out=/root/out
say() { printf '%s\n' "$*" >>"$out/seen"; }
step() { touch "$out/step-$1"; for _ in $(seq 600); do [[ -e $out/go-$1 ]] && return; sleep 0.2; done; say "timeout waiting for go-$1"; }
systemctl start zetl.service; say "start1_rc=$?"
sleep 1
pid=$(systemctl show -p MainPID --value zetl.service)
say "active1=$(systemctl show -p ActiveState --value zetl.service)"
say "user=$(stat -c %U /proc/$pid 2>/dev/null)"
say "state_dir=$(stat -c '%U:%G %a' /var/lib/zetl 2>/dev/null)"
step 1
t0=$(date +%s%N); systemctl stop zetl.service; rc=$?; t1=$(date +%s%N)
say "stop_rc=$rc"; say "stop_ms=$(( (t1 - t0) / 1000000 ))"
say "result=$(systemctl show -p Result --value zetl.service)"
say "exit_status=$(systemctl show -p ExecMainStatus --value zetl.service)"
say "db=$(test -s /var/lib/zetl/zetl.db && echo present)"
systemctl reload zetl.service >/dev/null 2>&1; say "reload_rc=$?"
step 2
systemctl start zetl.service; say "start2_rc=$?"
step 3
systemctl stop zetl.service
journalctl -u zetl.service --no-pager -o cat >"$out/journal" 2>&1
say done
systemctl poweroff
EOF
chmod 0755 "$R/root/drive.sh"
cat >"$R/etc/systemd/system/zetl-drive.service" <<'EOF'
[Unit]
Description=drive zetl.service for tests/package/test_systemd_unit.sh
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/root/drive.sh
[Install]
WantedBy=default.target
EOF
ln -s /etc/systemd/system/zetl-drive.service "$R/etc/systemd/system/multi-user.target.wants/zetl-drive.service"
rm -f "$R/usr/sbin/policy-rc.d"

echo "booting the root with systemd-nspawn"
timeout 600 systemd-nspawn -q -D "$R" --boot --register=no --keep-unit --machine zetl-unit-test \
    >"$W/boot.log" 2>&1 </dev/null &
nspawn_pid=$!

# wait_for FILE SECS
wait_for() { local i; for ((i = 0; i < $2 * 5; i++)); do [[ -e $1 ]] && return 0; sleep 0.2; done; return 1; }
seen() { sed -n "s/^$1=//p" "$OUT/seen" 2>/dev/null | tail -n1; }
tgt_rows() { zh_psql_tgt -c 'SELECT count(*) FROM unitdb.t' 2>/dev/null || echo none; }
wait_rows() { local i; for ((i = 0; i < $2 * 5; i++)); do [[ $(tgt_rows) == "$1" ]] && return 0; sleep 0.2; done; return 1; }

# 1. Started.
if ! wait_for "$OUT/step-1" 180; then
    t_fail $T "the booted root starts zetl.service" "step 1 reached" "$(tail -15 "$W/boot.log")"; t_done
fi
t_eq $T "systemctl start zetl: exit 0" "0" "$(seen start1_rc)"
t_eq $T "the unit is active" "active" "$(seen active1)"
t_eq $T "zetl run runs as the user zetl" "zetl" "$(seen user)"
t_eq $T "StateDirectory= made /var/lib/zetl, zetl:zetl 0700" "zetl:zetl 700" "$(seen state_dir)"
if wait_rows 1000 60; then t_pass $T "the 1,000 source rows reached the target"
else t_fail $T "the source rows reach the target" "1000" "$(tgt_rows); boot log: $(tail -5 "$W/boot.log")"; fi
touch "$OUT/go-1"

# 2. Stopped.
wait_for "$OUT/step-2" 60 || t_fail $T "the stop step ends" "step 2 reached" "$(tail -5 "$OUT/seen")"
t_eq $T "systemctl stop zetl: exit 0" "0" "$(seen stop_rc)"
t_ok $T "systemctl stop returned within 3 s (saw $(seen stop_ms) ms)" test "$(seen stop_ms)" -lt 3000
t_eq $T "the run ended with Result=success" "success" "$(seen result)"
t_eq $T "the run exited 0" "0" "$(seen exit_status)"
t_eq $T "the state log is in the state directory" "present" "$(seen db)"
t_ne $T "systemctl reload is refused (no ExecReload=; restart is the reload)" "0" "$(seen reload_rc)"

# 3. Rows while it is stopped; then started again.
zh_mysql -e "USE unitdb; INSERT INTO unitdb.t SELECT seq, CONCAT('s', seq) FROM seq_1001_to_1500;
             UPDATE unitdb.t SET v = 'u' WHERE id <= 10; DELETE FROM unitdb.t WHERE id BETWEEN 11 AND 20"
touch "$OUT/go-2"
wait_for "$OUT/step-3" 60 || t_fail $T "the restart step ends" "step 3 reached" "$(tail -5 "$OUT/seen")"
t_eq $T "systemctl start zetl again: exit 0" "0" "$(seen start2_rc)"
if wait_rows 1490 60; then t_pass $T "after the restart the rows written while stopped arrive (1,490)"
else t_fail $T "the rows written while stopped arrive" "1490" "$(tgt_rows)"; fi
src=$(zh_mysql -e "SELECT GROUP_CONCAT(CONCAT(id, ':', v) ORDER BY id SEPARATOR ',') FROM unitdb.t" | md5sum)
tgt=$(zh_psql_tgt -c "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM unitdb.t" | md5sum)
t_eq $T "the target equals the source row for row (nothing lost or applied twice)" "$src" "$tgt"
touch "$OUT/go-3"

wait_for "$OUT/journal" 60
t_match $T "the journal has the run's stop line" "zetl run: stopping: finishing the current batches" \
    "$(cat "$OUT/journal" 2>/dev/null)"
t_eq $T "no password in the journal" "0" "$(grep -c -F -e "$ZH_MY_PASSWORD" -e "$ZH_PG_PASSWORD" "$OUT/journal")"
wait "$nspawn_pid" 2>/dev/null; nspawn_pid=
t_eq $T "the driver finished and the container powered off" "done" "$(tail -n1 "$OUT/seen")"
t_done
