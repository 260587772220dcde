#!/usr/bin/env bash
# Checks the systemd units in this folder, from any working directory, without a running systemd:
#   1. `systemd-analyze verify` must print nothing (it exits 0 even on unknown keys, so any output fails);
#   2. `systemd-analyze security --offline=true` must rate each unit's exposure at most $MAX_EXPOSURE.
# Needs only systemd-analyze (Debian: the `systemd` package, installed here if missing and root;
# tested with systemd 252).
#
# verify checks that ExecStart= names an executable, and /usr/local/bin/beebeta does not exist on a CI
# machine. Rather than editing the units (a rewritten ExecStart would verify a file we do not ship),
# both commands run with --root on a throw-away file-system root that holds the units unchanged in
# /etc/systemd/system, an empty executable stub at /usr/local/bin/beebeta, and a copy of the host's
# system units (sysinit.target, network-online.target, ... which the units' dependencies pull in).
# (--image would need a disk image; --root is enough. systemd 252 honours --root for verify and
# for `security --offline=true`, which then resolves the units by name under that root.)
set -euo pipefail

MAX_EXPOSURE=2.0
UNITS=(beebeta.service beebeta-migrate.service)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat

if ! command -v systemd-analyze >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "installing systemd (for systemd-analyze)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
  else
    echo "check.sh: systemd-analyze not found (apt-get install systemd)" >&2
    exit 2
  fi
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/local/bin" "$root/usr/lib/systemd"
for dir in /usr/lib/systemd/system /lib/systemd/system; do
  if [ -f "$dir/sysinit.target" ]; then cp -a "$dir" "$root/usr/lib/systemd/"; break; fi
done
[ -f "$root/usr/lib/systemd/system/sysinit.target" ] || { echo "check.sh: no system units found to copy" >&2; exit 2; }
install -m 0755 /dev/null "$root/usr/local/bin/beebeta"
for unit in "${UNITS[@]}"; do
  install -m 0644 "$here/$unit" "$root/etc/systemd/system/$unit"
done

failed=0

# 1. verify (syntax, unknown keys, executables, dependency graph)
if out=$(systemd-analyze verify --root="$root" "${UNITS[@]}" 2>&1) && [ -z "$out" ]; then
  echo "verify: ${UNITS[*]}: clean"
else
  echo "verify: ${UNITS[*]}: FAILED"
  printf '%s\n' "$out" | sed "s#$root##g"
  failed=1
fi

# 2. security exposure (0 = fully sandboxed, 10 = none); --threshold is in tenths of a point.
threshold=$(awk -v m="$MAX_EXPOSURE" 'BEGIN { printf "%d", m * 10 }')
for unit in "${UNITS[@]}"; do
  rc=0
  out=$(systemd-analyze security --offline=true --root="$root" --threshold="$threshold" --no-pager "$unit" 2>"$root/stderr") || rc=$?
  score=$(printf '%s\n' "$out" | sed -nE 's/.*Overall exposure level for [^:]+: ([0-9]+\.[0-9]+).*/\1/p')
  open=$(printf '%s\n' "$out" | awk '/^✗/ { print $2 }' | paste -sd ' ' -)
  if [ -z "$score" ]; then
    echo "security: $unit: no score (exit $rc)"
    sed "s#$root##g" "$root/stderr"
    failed=1
  elif [ "$rc" -ne 0 ] || [ -s "$root/stderr" ] || awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s > m) }'; then
    echo "security: $unit: exposure $score, limit $MAX_EXPOSURE: FAILED"
    sed "s#$root##g" "$root/stderr"
    failed=1
  else
    echo "security: $unit: exposure $score (limit $MAX_EXPOSURE); still open: $open"
  fi
done

if [ "$failed" -ne 0 ]; then
  echo "systemd check: FAILED"
  exit 1
fi
echo "systemd check: OK"
