#!/usr/bin/env bash
# Headless-browser end-to-end tests for Beebeta.
# Needs: Node 20+, npm, Debian's chromium at /usr/bin/chromium, and a built server
# (`cargo build` in the repo root, or point BEEBETA_BIN at a binary).
set -euo pipefail
cd "$(dirname "$0")"

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "e2e: Chromium not found at $CHROMIUM_PATH." >&2
  echo "e2e: install Debian's browser with 'apt-get install -y chromium' (no browser download is done here)." >&2
  exit 1
fi

export BEEBETA_BIN="${BEEBETA_BIN:-../../target/debug/beebeta}"
if [ ! -x "$BEEBETA_BIN" ]; then
  echo "e2e: server binary not found at $BEEBETA_BIN; run 'cargo build' in the repo root or set BEEBETA_BIN." >&2
  exit 1
fi

# Install (again) when a package of package-lock.json is missing, e.g. axe-core after an update.
if [ ! -d node_modules ] || ! npm ls --all >/dev/null 2>&1; then
  npm ci --no-audit --no-fund
fi

export CHROMIUM_PATH
# The files run one after the other (each starts its own server); screenshots go to out/.
exec node --test --test-concurrency=1 vote.test.mjs layout.test.mjs embed.test.mjs rank.test.mjs
