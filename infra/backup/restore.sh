#!/usr/bin/env bash
# Restores a dump written by backup.sh into an existing, empty database, then checks the ledger.
#
#   infra/backup/restore.sh DATABASE_URL FILE [--force]
#
#   DATABASE_URL  the target, as the app takes it: mysql://user:password@host:port/db (the database
#                 must exist: CREATE DATABASE db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci),
#                 or @env to read it from BEEBETA_DATABASE_URL
#   FILE          a dump from backup.sh (gzip, zstd or plain SQL), or s3://bucket/key
#   --force       restore even though the database has tables: the dump's tables replace theirs
#                 (DROP TABLE IF EXISTS); tables the dump does not have are left as they are
#
# Before touching the database the whole dump is decompressed once to check that it is intact and
# complete; after the import it checks that every table arrived and the ledger rule (counters =
# ballots / vote rows for every question and choice), prints the row counts, and exits non-zero
# if anything is off.
set -euo pipefail
BB_PROG=restore
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

if [ $# -lt 2 ] || [ $# -gt 3 ] || { [ $# -eq 3 ] && [ "$3" != --force ]; }; then
  echo "usage: $0 DATABASE_URL FILE [--force]   (FILE: a path, or s3://bucket/key)" >&2
  exit 2
fi
URL=$1
FILE=$2
FORCE=no
[ $# -eq 3 ] && FORCE=yes

BB_WORK=$(mktemp -d "${TMPDIR:-/tmp}/beebeta-restore.XXXXXX")
trap 'rm -rf -- "$BB_WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bb_connect "$URL"
T0=$(bb_now)
bb_db_exists ||
  bb_die "the database $BB_DB does not exist on $BB_HOST:$BB_PORT; create it empty first: CREATE DATABASE \`$BB_DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
EXISTING=$(bb_table_count)
if [ "$EXISTING" != 0 ]; then
  if [ "$FORCE" = no ]; then
    bb_die "refusing to restore into $BB_SAFE_URL: it has $EXISTING tables (restore into an empty database, or add --force to replace them)"
  fi
  bb_log "--force: $BB_SAFE_URL has $EXISTING tables; the dump's tables replace theirs"
fi

case "$FILE" in
  s3://*)
    [[ $FILE =~ ^s3://[^/]+/.+ ]] || bb_die "not an s3://bucket/key: $FILE"
    TD=$(bb_now)
    bb_s3 get "$FILE" "$BB_WORK/dump" || bb_die "the download of $FILE failed"
    bb_log "downloaded $FILE ($(bb_human "$(stat -c %s "$BB_WORK/dump")")) in $(bb_secs "$TD" "$(bb_now)") s"
    SRC="$BB_WORK/dump"
    ;;
  *)
    [ -f "$FILE" ] && [ -r "$FILE" ] || bb_die "cannot read $FILE"
    SRC=$FILE
    ;;
esac
FORMAT=$(bb_format_of "$SRC")
SIZE=$(stat -c %s -- "$SRC")

# Check the whole dump before importing any of it: it decompresses, it ran to its end, and which
# tables it holds. The header lines (backup.sh's) say where and when it was taken.
bb_decompress "$FORMAT" "$SRC" |
  awk -v meta="$BB_WORK/meta" -v tables="$BB_WORK/tables" '
    /^-- beebeta-backup: / { if (NR <= 20) print substr($0, 20) > meta }
    /^CREATE TABLE `/ { n = $3; gsub(/`/, "", n); print n > tables }
    { last = $0 }
    END { print (last ~ /^-- Dump completed/ ? "complete" : "incomplete") > (meta ".end") }' ||
  bb_die "$FILE does not decompress ($FORMAT): corrupt or truncated; nothing restored"
[ "$(cat "$BB_WORK/meta.end")" = complete ] ||
  bb_die "$FILE is incomplete (no 'Dump completed' line at its end: a truncated or failed dump); nothing restored"
touch "$BB_WORK/tables" "$BB_WORK/meta"
DUMPED=$(wc -l < "$BB_WORK/tables")
[ "$DUMPED" -gt 0 ] || bb_die "$FILE holds no table; nothing restored"
if [ -s "$BB_WORK/meta" ]; then
  sed 's/^/restore: dump /' "$BB_WORK/meta" | grep -v '^restore: dump tool ' || true
fi

TI=$(bb_now)
bb_decompress "$FORMAT" "$SRC" | bb_client --batch ||
  bb_die "the import into $BB_SAFE_URL failed (the database may be partly restored: drop and recreate it before retrying)"
IMPORT_SECS=$(bb_secs "$TI" "$(bb_now)")

# Every table of the dump is there.
missing=0
while read -r t; do
  [ "$(bb_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = $(bb_sql_str "$t")")" = 1 ] ||
    { bb_log "table $t of the dump is missing after the import"; missing=$((missing + 1)); }
done < "$BB_WORK/tables"

TC=$(bb_now)
status=0
bb_ledger_check || status=1
[ "$missing" = 0 ] || status=1
COUNTS=$(bb_row_counts)
ROWS=$(awk -F'\t' '{ s += $2 } END { print s + 0 }' <<< "$COUNTS")
main=$(awk -F'\t' '$1 ~ /^(questions|choices|ballots|votes|vote_counts|users|tags|question_tags|media)$/ { printf "%s%s=%s", sep, $1, $2; sep = " " }' <<< "$COUNTS")
echo "restore: rows per table:"
awk -F'\t' '{ printf "  %-28s %10d\n", $1, $2 }' <<< "$COUNTS"
echo "restore: restored $FILE ($SIZE bytes, $FORMAT) into $BB_SAFE_URL: $DUMPED tables, $ROWS rows ($main); import $IMPORT_SECS s, checks $(bb_secs "$TC" "$(bb_now)") s, total $(bb_secs "$T0" "$(bb_now)") s"
if [ "$status" != 0 ]; then
  echo "restore: FAILED: the restored database does not pass the checks above" >&2
  exit 1
fi
