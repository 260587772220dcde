#!/usr/bin/env bash
# Checks the ledger rule on any Beebeta MySQL/MariaDB database (a restored copy, a replica, or the
# live one: it is one read-only statement, so one consistent snapshot on InnoDB) and prints the
# row counts of every table. Exits 1 when a counter differs from its ledger rows.
#
#   infra/backup/ledger-check.sh DATABASE_URL      (or @env: BEEBETA_DATABASE_URL)
set -euo pipefail
BB_PROG=ledger-check
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
if [ $# -ne 1 ]; then
  echo "usage: $0 DATABASE_URL" >&2
  exit 2
fi
BB_WORK=$(mktemp -d "${TMPDIR:-/tmp}/beebeta-check.XXXXXX")
trap 'rm -rf -- "$BB_WORK"' EXIT
bb_connect "$1"
bb_db_exists || bb_die "the database $BB_DB does not exist on $BB_HOST:$BB_PORT"
status=0
bb_ledger_check || status=1
bb_row_counts | awk -F'\t' '{ printf "  %-28s %10d\n", $1, $2 }'
exit "$status"
