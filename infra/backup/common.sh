# shellcheck shell=bash
# Shared by backup.sh, restore.sh, ledger-check.sh and tests/backup/run.sh (sourced, not run).
#
# - bb_parse_url URL: the app's database URL (mysql:// or mariadb://user:pass@host:port/db?params)
#   into BB_USER, BB_PASS, BB_HOST, BB_PORT, BB_DB and the option-file lines for TLS / socket;
# - bb_connect URL: parses it and writes a client option file (mode 0600, in BB_WORK) so that the
#   password never appears on a command line; then bb_sql / bb_client / bb_dump use it;
# - bb_s3 put|get|mb|rm|rb|size: S3 through the AWS CLI, else Python's boto3 (s3_tool.py);
# - bb_ledger_check: counters = ledger rows for every question (one SQL statement);
# - bb_row_counts: exact row counts of every table.
#
# Callers set `set -euo pipefail` and BB_WORK (a private temporary folder) before bb_connect.

BB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

bb_die() { echo "${BB_PROG:-backup}: $*" >&2; exit 1; }
bb_log() { echo "${BB_PROG:-backup}: $*" >&2; }
bb_now() { date +%s.%N; }
bb_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
bb_human() { awk -v n="$1" 'BEGIN { split("B KiB MiB GiB TiB", u); i = 1; while (n >= 1024 && i < 5) { n /= 1024; i++ } printf (i == 1 ? "%d %s" : "%.1f %s"), n, u[i] }'; }

# Percent-decoding into the variable named $1 (printf -v: no command substitution, so nothing is
# stripped). Literal backslashes are escaped first so that only %XX sequences are interpreted.
bb_pct_decode() {
  local s=$2
  s=${s//\\/\\\\}
  s=${s//%/\\x}
  printf -v "$1" '%b' "$s"
}

# A value for a MariaDB option file: double-quoted, with \, " and newlines escaped.
bb_opt_quote() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  printf '"%s"' "$s"
}

# Parses the app's database URL as the app (Diesel, the `url` crate) reads it: the authority ends
# at the first '/', user and password are split at the last '@' and the first ':', and are
# percent-decoded; the port defaults to 3306. Query parameters the app's driver knows are mapped
# to client options: ssl_mode, ssl_ca, ssl_cert, ssl_key, unix_socket.
bb_parse_url() {
  local url=$1 rest authority userinfo="" hostport query="" path param key value
  case "$url" in
    mysql://* | mariadb://*) ;;
    *) bb_die "not a MySQL URL (mysql://user:password@host:port/database): ${url%%://*}://..." ;;
  esac
  rest=${url#*://}
  rest=${rest%%#*}
  if [[ $rest == *\?* ]]; then
    query=${rest#*\?}
    rest=${rest%%\?*}
  fi
  [[ $rest == */* ]] || bb_die "the URL names no database (mysql://user:password@host:port/database)"
  authority=${rest%%/*}
  path=${rest#*/}
  path=${path%/}
  [ -n "$path" ] || bb_die "the URL names no database (mysql://user:password@host:port/database)"
  bb_pct_decode BB_DB "$path"
  if [[ $authority == *@* ]]; then
    userinfo=${authority%@*}
    hostport=${authority##*@}
  else
    hostport=$authority
  fi
  BB_USER="" BB_PASS="" BB_HAS_PASS=no
  if [ -n "$userinfo" ]; then
    if [[ $userinfo == *:* ]]; then
      bb_pct_decode BB_USER "${userinfo%%:*}"
      bb_pct_decode BB_PASS "${userinfo#*:}"
      BB_HAS_PASS=yes
    else
      bb_pct_decode BB_USER "$userinfo"
    fi
  fi
  BB_PORT=3306
  if [[ $hostport == \[* ]]; then
    BB_HOST=${hostport%%]*}
    BB_HOST=${BB_HOST#[}
    hostport=${hostport#*]}
    [[ $hostport == :* ]] && BB_PORT=${hostport#:}
  elif [[ $hostport == *:* ]]; then
    BB_HOST=${hostport%%:*}
    BB_PORT=${hostport#*:}
  else
    BB_HOST=$hostport
  fi
  [ -n "$BB_PORT" ] || BB_PORT=3306
  [[ $BB_PORT =~ ^[0-9]+$ ]] || bb_die "bad port in the URL: $BB_PORT"
  [ -n "$BB_HOST" ] || BB_HOST=localhost
  BB_OPTS=()
  if [ -n "$query" ]; then
    local params=()
    IFS='&' read -r -a params <<< "$query"
    for param in "${params[@]}"; do
      key=${param%%=*}
      bb_pct_decode value "${param#*=}"
      case "$key" in
        ssl_mode)
          case "${value,,}" in
            disabled) BB_OPTS+=("skip-ssl") ;;
            preferred) ;;
            required) BB_OPTS+=("ssl") ;;
            verify_ca | verify_identity) BB_OPTS+=("ssl" "ssl-verify-server-cert") ;;
            *) bb_die "unknown ssl_mode in the URL: $value" ;;
          esac
          ;;
        ssl_ca) BB_OPTS+=("ssl-ca=$(bb_opt_quote "$value")") ;;
        ssl_cert) BB_OPTS+=("ssl-cert=$(bb_opt_quote "$value")") ;;
        ssl_key) BB_OPTS+=("ssl-key=$(bb_opt_quote "$value")") ;;
        unix_socket) BB_OPTS+=("socket=$(bb_opt_quote "$value")") ;;
        "") ;;
        *) bb_log "warning: ignoring the URL parameter $key" ;;
      esac
    done
  fi
  # The URL without its password, for messages and the dump's header.
  local shown_host=$BB_HOST
  [[ $shown_host == *:* ]] && shown_host="[$shown_host]"
  BB_SAFE_URL="${url%%://*}://${BB_USER:+$BB_USER@}$shown_host:$BB_PORT/$BB_DB"
}

# The client programs: MariaDB's names first, MySQL's otherwise.
bb_tools() {
  BB_CLIENT=$(command -v mariadb || command -v mysql || true)
  BB_DUMP=$(command -v mariadb-dump || command -v mysqldump || true)
  [ -n "$BB_CLIENT" ] || bb_die "neither mariadb nor mysql (the client) is installed (apt-get install mariadb-client)"
}

# Writes the option file for URL into BB_WORK. The clients read it with --defaults-extra-file
# (after the system's option files, so socket paths and the like still come from there); HOME
# points at BB_WORK for them so that a ~/.my.cnf cannot override the URL's user or password: the
# URL is the whole connection, as for the app.
bb_connect() {
  local url=$1
  # "@env": the URL from BEEBETA_DATABASE_URL, so that it is not in the script's own argv either.
  if [ "$url" = @env ]; then
    url=${BEEBETA_DATABASE_URL:-}
    [ -n "$url" ] || bb_die "@env given but BEEBETA_DATABASE_URL is not set"
  fi
  bb_parse_url "$url"
  bb_tools
  [ -n "${BB_WORK:-}" ] && [ -d "$BB_WORK" ] || bb_die "internal: BB_WORK is not set"
  BB_CNF="$BB_WORK/client.cnf"
  (
    umask 077
    {
      echo "[client]"
      [ -n "$BB_USER" ] && echo "user=$(bb_opt_quote "$BB_USER")"
      [ "$BB_HAS_PASS" = yes ] && echo "password=$(bb_opt_quote "$BB_PASS")"
      echo "host=$(bb_opt_quote "$BB_HOST")"
      echo "port=$BB_PORT"
      echo "default-character-set=utf8mb4"
      local o
      for o in "${BB_OPTS[@]}"; do echo "$o"; done
    } > "$BB_CNF"
  )
  chmod 600 "$BB_CNF"
}

# A client on the URL's database: bb_client [options] (reads SQL from stdin).
bb_client() { HOME="$BB_WORK" "$BB_CLIENT" --defaults-extra-file="$BB_CNF" "$@" "$BB_DB"; }
# One query, tab-separated rows without headers: bb_sql "SELECT ...".
bb_sql() { HOME="$BB_WORK" "$BB_CLIENT" --defaults-extra-file="$BB_CNF" --batch --skip-column-names -e "$1" "$BB_DB"; }
# A query without a default database (to see whether it exists).
bb_sql_nodb() { HOME="$BB_WORK" "$BB_CLIENT" --defaults-extra-file="$BB_CNF" --batch --skip-column-names -e "$1"; }

# A SQL string literal.
bb_sql_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\'/\\\'}
  printf "'%s'" "$s"
}

bb_db_exists() {
  local n
  n=$(bb_sql_nodb "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = $(bb_sql_str "$BB_DB")") ||
    bb_die "cannot connect to $BB_SAFE_URL (the client's error is above)"
  [ "$n" = 1 ]
}
bb_table_count() {
  bb_sql_nodb "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = $(bb_sql_str "$BB_DB")"
}

# Compression by the file's name: .zst -> zstd, .gz -> gzip, anything else: zstd if installed.
bb_compressor_for() {
  case "$1" in
    *.zst | *.zstd) command -v zstd > /dev/null || bb_die "$1 asks for zstd, which is not installed"; echo zstd ;;
    *.gz) echo gzip ;;
    *) if command -v zstd > /dev/null; then echo zstd; else echo gzip; fi ;;
  esac
}
bb_compress() {
  case "$1" in
    zstd) zstd -q -9 -c ;;
    gzip) gzip -6 -c ;;
  esac
}
# The format of a dump file from its first bytes: gzip, zstd or plain.
bb_format_of() {
  local magic
  magic=$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    1f8b*) echo gzip ;;
    28b52ffd) command -v zstd > /dev/null || bb_die "$1 is zstd-compressed and zstd is not installed"; echo zstd ;;
    *) echo plain ;;
  esac
}
bb_decompress() {
  case "$1" in
    zstd) zstd -q -d -c -- "$2" ;;
    gzip) gzip -d -c -- "$2" ;;
    plain) cat -- "$2" ;;
  esac
}

# --- S3 -------------------------------------------------------------------------------------
# The endpoint of an S3-compatible server, if any (the AWS CLI's variables first, then the app's).
bb_s3_endpoint() { echo "${AWS_ENDPOINT_URL_S3:-${AWS_ENDPOINT_URL:-${BEEBETA_S3_ENDPOINT:-}}}"; }

# Picks the client once: the AWS CLI when present, else python3 with boto3, else a venv with
# boto3 under the cache folder. BEEBETA_BACKUP_S3_CLIENT=aws|boto3 forces one.
bb_s3_setup() {
  [ -n "${BB_S3_CLIENT:-}" ] && return 0
  local want=${BEEBETA_BACKUP_S3_CLIENT:-auto} venv
  if [ -n "${AWS_REGION:-}" ] && [ -z "${AWS_DEFAULT_REGION:-}" ]; then export AWS_DEFAULT_REGION=$AWS_REGION; fi
  if [ "$want" != boto3 ] && command -v aws > /dev/null && aws --version > /dev/null 2>&1; then
    BB_S3_CLIENT=aws
    return 0
  fi
  [ "$want" = aws ] && bb_die "BEEBETA_BACKUP_S3_CLIENT=aws but the AWS CLI is not installed"
  if command -v python3 > /dev/null && python3 -c 'import boto3' 2> /dev/null; then
    BB_S3_CLIENT=boto3 BB_S3_PY=python3
    return 0
  fi
  command -v python3 > /dev/null || bb_die "S3 needs the AWS CLI or python3 (for boto3); neither is installed"
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/beebeta-backup-venv"
  if ! "$venv/bin/python" -c 'import boto3' 2> /dev/null; then
    bb_log "installing boto3 into $venv"
    python3 -m venv "$venv" > /dev/null || bb_die "cannot create a venv at $venv (apt-get install python3-venv)"
    "$venv/bin/pip" install -q boto3 > /dev/null || bb_die "pip install boto3 failed"
  fi
  BB_S3_CLIENT=boto3 BB_S3_PY="$venv/bin/python"
}

# bb_s3 put LOCAL s3://bucket/key | get s3://bucket/key LOCAL | mb BUCKET | rm s3://bucket/key |
#       rb BUCKET (with its objects) | size s3://bucket/key
bb_s3() {
  bb_s3_setup
  local op=$1
  shift
  local endpoint
  endpoint=$(bb_s3_endpoint)
  if [ "$BB_S3_CLIENT" = boto3 ]; then
    "$BB_S3_PY" "$BB_LIB_DIR/s3_tool.py" "$op" "$@"
    return
  fi
  local ep=()
  [ -n "$endpoint" ] && ep=(--endpoint-url "$endpoint")
  case "$op" in
    put) aws "${ep[@]}" s3 cp --only-show-errors --no-progress "$1" "$2" ;;
    get) aws "${ep[@]}" s3 cp --only-show-errors --no-progress "$1" "$2" ;;
    mb) aws "${ep[@]}" s3 mb "s3://$1" > /dev/null ;;
    rm) aws "${ep[@]}" s3 rm --only-show-errors "$1" ;;
    rb) aws "${ep[@]}" s3 rb --force "s3://$1" > /dev/null ;;
    size)
      local b=${1#s3://}
      aws "${ep[@]}" s3api head-object --bucket "${b%%/*}" --key "${b#*/}" --query ContentLength --output text
      ;;
    *) bb_die "internal: unknown S3 operation $op" ;;
  esac
}

# --- checks on a restored (or live) database ------------------------------------------------
# The ledger rule in one statement (one consistent snapshot on InnoDB, also on a live database):
# for every question, the ballot counter (choice_id = 0, summed over slots) equals its number of
# ballots, and for every choice the counter equals its rows in `votes`; and every vote row belongs
# to a ballot of the same question and to a choice of that question.
# Prints a summary (and up to 20 differences); returns 1 when the rule does not hold.
BB_LEDGER_DIFF_SQL="SELECT q, c, SUM(counter) AS counter, SUM(ledger) AS ledger FROM (
    SELECT question_id AS q, choice_id AS c, SUM(votes) AS counter, 0 AS ledger FROM vote_counts GROUP BY question_id, choice_id
    UNION ALL SELECT question_id, 0, 0, COUNT(*) FROM ballots GROUP BY question_id
    UNION ALL SELECT question_id, choice_id, 0, COUNT(*) FROM votes GROUP BY question_id, choice_id
  ) AS t GROUP BY q, c HAVING SUM(counter) <> SUM(ledger)"
bb_ledger_check() {
  local out mismatches questions ballots votes counters orphans
  out=$(bb_sql "SELECT
      (SELECT COUNT(*) FROM ($BB_LEDGER_DIFF_SQL) AS d),
      (SELECT COUNT(*) FROM questions),
      (SELECT COUNT(*) FROM ballots),
      (SELECT COUNT(*) FROM votes),
      (SELECT COALESCE(SUM(votes), 0) FROM vote_counts WHERE choice_id = 0),
      (SELECT COUNT(*) FROM votes v LEFT JOIN ballots b ON b.id = v.ballot_id LEFT JOIN choices ch ON ch.id = v.choice_id
        WHERE b.id IS NULL OR ch.id IS NULL OR b.question_id <> v.question_id OR ch.question_id <> v.question_id)") ||
    { echo "ledger check: the query failed (is this a Beebeta database?)"; return 1; }
  read -r mismatches questions ballots votes counters orphans <<< "$out"
  echo "ledger check: $questions questions, $ballots ballots, $votes vote rows, ballot counters sum to $counters; $mismatches counter(s) differ from the ledger, $orphans vote row(s) without a matching ballot or choice"
  if [ "$mismatches" != 0 ] || [ "$orphans" != 0 ]; then
    if [ "$mismatches" != 0 ]; then
      echo "first differences (question, choice (0 = ballots), counter, ledger rows):"
      bb_sql "$BB_LEDGER_DIFF_SQL ORDER BY q, c LIMIT 20" | sed 's/^/  /'
    fi
    echo "ledger check: FAILED"
    return 1
  fi
  echo "ledger check: OK (counters = ledger rows for every question and choice)"
}

# Exact row counts of every base table: "table<TAB>rows" lines, sorted by name.
bb_row_counts() {
  local tables sql="" t
  tables=$(bb_sql "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")
  [ -n "$tables" ] || return 0
  while read -r t; do
    [ -n "$sql" ] && sql+=" UNION ALL "
    sql+="SELECT $(bb_sql_str "$t"), COUNT(*) FROM \`${t//\`/\`\`}\`"
  done <<< "$tables"
  bb_sql "$sql"
}
