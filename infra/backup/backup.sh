#!/usr/bin/env bash
# A consistent online dump of Beebeta's MySQL/MariaDB database, compressed, written atomically.
#
#   infra/backup/backup.sh DATABASE_URL FILE
#
#   DATABASE_URL  the app's URL: mysql://user:password@host:port/db (or mariadb://; user and
#                 password percent-encoded; port 3306 by default; ?ssl_mode=required&ssl_ca=...),
#                 or @env to read it from BEEBETA_DATABASE_URL (no password in this argv either)
#   FILE          a local path (its folder is created), or s3://bucket/key (uploaded with the AWS
#                 CLI, else boto3; endpoint from AWS_ENDPOINT_URL or BEEBETA_S3_ENDPOINT)
#
# The dump is one REPEATABLE READ transaction (--single-transaction): every InnoDB table as of one
# instant, without locking them, while the app keeps serving. Compression follows the name:
# .gz -> gzip, .zst -> zstd, anything else -> zstd if installed, else gzip. The file appears only
# when complete and verified (written to a temporary name beside it, then renamed; an S3 object
# is uploaded only after that); on any failure the script exits non-zero and leaves no FILE.
# The password reaches the client through a temporary option file (mode 0600), never argv.
set -euo pipefail
BB_PROG=backup
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

if [ $# -ne 2 ]; then
  echo "usage: $0 DATABASE_URL FILE   (FILE: a path, or s3://bucket/key)" >&2
  exit 2
fi
URL=$1
FILE=$2

BB_WORK=$(mktemp -d "${TMPDIR:-/tmp}/beebeta-backup.XXXXXX")
PARTIAL=""
cleanup() {
  [ -n "$PARTIAL" ] && rm -f -- "$PARTIAL"
  rm -rf -- "$BB_WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bb_connect "$URL"
[ -n "$BB_DUMP" ] || bb_die "neither mariadb-dump nor mysqldump is installed (apt-get install mariadb-client)"

T0=$(bb_now)
bb_db_exists || bb_die "the database $BB_DB does not exist on $BB_HOST:$BB_PORT (or $BB_USER may not see it)"
VERSION=$(bb_sql "SELECT VERSION()")
TABLES=$(bb_sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")
NOT_INNODB=$(bb_sql "SELECT GROUP_CONCAT(TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND ENGINE <> 'InnoDB'")
if [ -n "$NOT_INNODB" ] && [ "$NOT_INNODB" != NULL ]; then
  bb_log "warning: not InnoDB, so not covered by the consistent snapshot: $NOT_INNODB"
fi

DUMP_OPTS=(--single-transaction --skip-lock-tables --quick --routines --triggers --events --hex-blob
  --default-character-set=utf8mb4 --no-tablespaces)
# MySQL's mysqldump on a GTID server (RDS MySQL) would write SET @@GLOBAL.GTID_PURGED, which fails
# when restored anywhere else.
if HOME="$BB_WORK" "$BB_DUMP" --help 2> /dev/null | grep -q -- '--set-gtid-purged'; then
  DUMP_OPTS+=(--set-gtid-purged=OFF)
fi

case "$FILE" in
  s3://*)
    [[ $FILE =~ ^s3://[^/]+/.+ ]] || bb_die "not an s3://bucket/key: $FILE"
    COMP=$(bb_compressor_for "$FILE")
    OUT="$BB_WORK/dump"
    ;;
  *)
    [ -n "$FILE" ] || bb_die "FILE is empty"
    [ -d "$FILE" ] && bb_die "$FILE is a folder; name a file"
    COMP=$(bb_compressor_for "$FILE")
    DIR=$(dirname -- "$FILE")
    mkdir -p -- "$DIR"
    PARTIAL="$DIR/.$(basename -- "$FILE").partial.$$"
    OUT=$PARTIAL
    ;;
esac

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
TD=$(bb_now)
# pipefail: a dump that fails half-way fails the pipeline, and the partial file is removed.
{
  echo "-- beebeta-backup: format 1"
  echo "-- beebeta-backup: source $BB_SAFE_URL"
  echo "-- beebeta-backup: started $STARTED"
  echo "-- beebeta-backup: server $VERSION"
  echo "-- beebeta-backup: tables $TABLES"
  echo "-- beebeta-backup: tool $(basename "$BB_DUMP") ${DUMP_OPTS[*]}"
  HOME="$BB_WORK" "$BB_DUMP" --defaults-extra-file="$BB_CNF" "${DUMP_OPTS[@]}" "$BB_DB"
} | bb_compress "$COMP" > "$OUT" || bb_die "the dump failed (nothing written to $FILE)"
DUMP_SECS=$(bb_secs "$TD" "$(bb_now)")

# Verify before publishing: the compressed stream is intact, the dump ran to its end
# ("-- Dump completed", written only on success) and holds every table.
read -r DUMPED COMPLETE < <(bb_decompress "$COMP" "$OUT" |
  awk '/^CREATE TABLE /{ t++ } { last = $0 } END { print t + 0, (last ~ /^-- Dump completed/ ? "yes" : "no") }') ||
  bb_die "the written dump does not decompress (nothing written to $FILE)"
[ "${COMPLETE:-no}" = yes ] || bb_die "the dump is incomplete (no 'Dump completed' line; nothing written to $FILE)"
[ "$DUMPED" = "$TABLES" ] ||
  bb_die "the dump has $DUMPED tables, the database had $TABLES (was the schema changed during the dump?); nothing written to $FILE"
SIZE=$(stat -c %s -- "$OUT")

case "$FILE" in
  s3://*)
    TU=$(bb_now)
    bb_s3 put "$OUT" "$FILE" || bb_die "the upload to $FILE failed"
    UPLOAD=", upload $(bb_secs "$TU" "$(bb_now)") s"
    ;;
  *)
    sync -- "$OUT" 2> /dev/null || true
    mv -f -- "$OUT" "$FILE"
    PARTIAL=""
    sync -- "$DIR" 2> /dev/null || true
    UPLOAD=""
    ;;
esac

echo "backup: wrote $FILE: $SIZE bytes ($(bb_human "$SIZE"), $COMP), $DUMPED tables, dump $DUMP_SECS s$UPLOAD, total $(bb_secs "$T0" "$(bb_now)") s; from $BB_SAFE_URL (server $VERSION) at $STARTED"
