#!/usr/bin/env bash
# The restore drill: proves that a dump taken by infra/backup/backup.sh while the site takes votes
# restores (infra/backup/restore.sh) to an exact ledger, and that the restored site serves the
# totals it served before the backup.
#
#   1. a fresh MariaDB database (random name) and a database user with an awkward password (the
#      URL carries it percent-encoded, as the app takes it): migrate, generate questions and votes;
#   2. server A: a few hundred votes through the JSON API (new voters, some changing their vote,
#      most on one hot question); read the totals the site serves (results of a sample, the top
#      list); stop A; check them against the ledger;
#   3. server B takes votes on the hot question and 3 others (4 client threads) while backup.sh
#      dumps; every acknowledged vote is logged with its time; the load stops after the backup;
#   4. drop the database, create it empty, restore.sh; check with SQL: counters = ledger rows for
#      every question and choice, every question without online votes has exactly its ballots and
#      ledger rows of before, tables that votes do not touch are identical, and each question of
#      the online load holds at least its ballots acknowledged before the dump began and at most
#      those of the end of the load (a consistent snapshot in between);
#   5. server R on the restored database serves the same totals as read in 2 (the online
#      questions: between the totals before the backup and after the load);
#   6. with BEEBETA_TEST_S3_ENDPOINT (an S3-compatible server, e.g. moto; AWS_ACCESS_KEY_ID,
#      AWS_SECRET_ACCESS_KEY, AWS_REGION): backup to s3://<new bucket>/drill/<name>.sql.gz, restore
#      into another fresh database, check it equals its source table by table; else `# skip`;
#   7. failures are refused: a restore into a database with tables (without --force), a truncated
#      dump, a dump of a missing database, a dump program that fails half-way or stops early
#      (no file may appear); and restore --force.
# Everything it starts is stopped by PID; its databases, user and bucket are dropped at the end,
# also on failure. Loopback only. Takes about a minute; bounded to 170 s by a watchdog.
#
#   tests/backup/run.sh                 (needs MariaDB on 127.0.0.1:3306, the MariaDB client, curl, python3)
#   BEEBETA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test  (default; an admin account)
#   BEEBETA_BIN=target/release/beebeta  (default; built with --features mysql if unset)
#   DRILL_QUESTIONS=400 DRILL_VOTES=40000 (the generated data set)
set -euo pipefail
cd "$(dirname "$0")/../.."

MYSQL_URL=${BEEBETA_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
BIN=${BEEBETA_BIN:-target/release/beebeta}
if [ ! -x "$BIN" ] || [ -z "${BEEBETA_BIN:-}" ]; then
  cargo build --release --features mysql -q
fi
QUESTIONS=${DRILL_QUESTIONS:-400}
VOTES=${DRILL_VOTES:-40000}
CLIENT="python3 tests/backup/client.py"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/beebeta-drill.XXXXXX")
SFX="$(date +%s)_$$_$((RANDOM % 1000))"
DB="bb_drill_$SFX"
DB_S3="${DB}_s3"
DB_NEG="${DB}_neg"
DUSER="bbdrill_$SFX"
BUCKET="bb-drill-${SFX//_/-}"
PIDS=()
USER_MADE=no
BUCKET_MADE=no
pass=0
fail=0
skip=0

# The admin connection (creates and drops the drill's databases and user) through the backup
# scripts' own helpers: bb_sql_nodb, and sql_on DB "SQL".
# shellcheck source=../../infra/backup/common.sh
. infra/backup/common.sh
BB_PROG=drill
BB_WORK="$WORK/admin"
mkdir -p "$BB_WORK"
bb_connect "${MYSQL_URL%/*}/mysql"
HOST=$BB_HOST
PORT=$BB_PORT
ADMIN_BASE="${MYSQL_URL%/*}"
sql_on() {
  local BB_DB=$1
  bb_sql "$2"
}
ledger_on() {
  local BB_DB=$1
  bb_ledger_check
}

stop_pid() {
  local p=$1 i
  kill -TERM "$p" 2> /dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$p" 2> /dev/null || break
    sleep 0.1
  done
  kill -KILL "$p" 2> /dev/null || true
  wait "$p" 2> /dev/null || true
  local keep=() q
  for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  PIDS=("${keep[@]}")
}
cleanup() {
  set +e
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2> /dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null; done
  for d in "$DB" "$DB_S3" "$DB_NEG"; do bb_sql_nodb "DROP DATABASE IF EXISTS \`$d\`" 2> /dev/null; done
  [ "$USER_MADE" = yes ] && bb_sql_nodb "DROP USER IF EXISTS '$DUSER'@'%'" 2> /dev/null
  [ "$BUCKET_MADE" = yes ] && bb_s3 rb "$BUCKET" 2> /dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'not_ok "interrupted (or over the time limit)"; echo "Bail out! interrupted"; summary; exit 1' INT TERM

# The watchdog: the whole drill is bounded in time.
MAIN=$$
(
  trap 'kill $s 2> /dev/null; exit 0' TERM
  sleep 170 &
  s=$!
  wait $s
  echo "Bail out! the drill took over 170 s" >&2
  kill -TERM $MAIN
) &
PIDS+=($!)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
summary() {
  echo "1..$((pass + fail))"
  echo "# pass $pass"
  echo "# fail $fail"
  [ "$skip" = 0 ] || echo "# skipped $skip"
}
bail() {
  not_ok "$1"
  echo "Bail out! $1"
  local f
  for f in "$WORK"/*.log "$WORK"/*.out; do [ -f "$f" ] && { echo "# --- $f"; tail -15 "$f" | sed 's/^/#   /'; }; done
  summary
  exit 1
}
# json FILE EXPR: a Python expression over d (the file's JSON).
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {'d': d}))" "$1" "$2"; }
indent() { sed 's/^/#   /'; }

export BEEBETA_SECRET_KEY
BEEBETA_SECRET_KEY=$(head -c 64 /dev/urandom | base64 -w0)
# No mail server here: emails (links included) go to the log, chosen explicitly.
export BEEBETA_SMTP_URL=log
export BEEBETA_SEED_DEMO=false BEEBETA_LIMITS=off BEEBETA_LOG_FILTER=warn BEEBETA_MEDIA=memory:// \
  BEEBETA_CACHE=memory BEEBETA_HOT_REFRESH_SECS=0 BEEBETA_REPORT_REFRESH_SECS=0 ROCKET_ADDRESS=127.0.0.1
unset BEEBETA_DATABASE_URL

SERVER_PID=""
start_server() { # NAME PORT
  ROCKET_PORT=$2 BEEBETA_DATABASE_URL=$URL "$BIN" serve > "$WORK/server-$1.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  local i
  for i in $(seq 1 150); do
    curl -sf -m 2 -o /dev/null "http://127.0.0.1:$2/readyz" && return 0
    kill -0 "$SERVER_PID" 2> /dev/null || break
    sleep 0.2
  done
  bail "server $1 did not start on port $2"
}

T_START=$(bb_now)
echo "# backup drill: database $DB, user $DUSER, $QUESTIONS questions and $VOTES votes generated"

# --- 1. a database with data, reached as the app reaches it ---------------------------------
for d in "$DB" "$DB_NEG"; do
  bb_sql_nodb "CREATE DATABASE \`$d\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
done
# A password with every character a URL or an option file could get wrong.
IFS=$'\t' read -r PW_SQL PW_ENC < <(python3 -c '
import secrets, urllib.parse
pw = "b@ck up:/?#[]%25\"'"'"'\\;=&+" + secrets.token_hex(4)
print(pw.replace("\\", "\\\\").replace("'"'"'", "\\'"'"'"), urllib.parse.quote(pw, safe=""), sep="\t")')
# (through stdin, as the scripts pass theirs: never on a command line)
if bb_client --batch <<< "CREATE USER '$DUSER'@'%' IDENTIFIED BY '$PW_SQL'" 2> "$WORK/user.out"; then
  USER_MADE=yes
  for d in "$DB" "$DB_S3" "$DB_NEG"; do
    bb_sql_nodb "GRANT ALL PRIVILEGES ON \`${d//_/\\_}\`.* TO '$DUSER'@'%'"
  done
  URL="mysql://$DUSER:$PW_ENC@$HOST:$PORT/$DB"
  ok "a database user whose password needs percent-encoding in the URL"
else
  URL="$ADMIN_BASE/$DB"
  echo "# note: cannot create a database user ($(head -1 "$WORK/user.out")); using $ADMIN_BASE"
fi
url_of() { echo "${URL%/*}/$1"; }
tables_in() { bb_sql_nodb "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = $(bb_sql_str "$1")"; }

T=$(bb_now)
BEEBETA_DATABASE_URL=$URL "$BIN" migrate > "$WORK/migrate.log" 2>&1 || bail "beebeta migrate"
BEEBETA_DATABASE_URL=$URL "$BIN" generate --questions "$QUESTIONS" --votes "$VOTES" --seed 42 > "$WORK/generate.log" 2>&1 ||
  bail "beebeta generate"
GEN_SECS=$(bb_secs "$T" "$(bb_now)")
ok "migrated and generated $QUESTIONS questions and $VOTES votes in $GEN_SECS s"

# --- 2. votes through the API, and the totals the site serves -------------------------------
PORT_A=$(free_port)
start_server a "$PORT_A"
A="http://127.0.0.1:$PORT_A"
$CLIENT pick "$A" "$QUESTIONS" > "$WORK/pick.json" 2> "$WORK/pick.out" || bail "picking questions through the API"
HOT=$(json "$WORK/pick.json" 'd["hot"]')
ONLINE_IDS=$(json "$WORK/pick.json" '",".join(str(q) for q in [d["hot"]] + d["online"])')
IDS=$(json "$WORK/pick.json" '",".join(str(q) for q in [d["hot"]] + d["online"] + d["voted"] + d["sample"])')
python3 - "$WORK/pick.json" > "$WORK/plan.json" << 'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ch = {int(k): v for k, v in d["choices"].items()}
plan = []
for i in range(150):   # the hot question: 150 new voters, 30 of whom change their vote
    c = ch[d["hot"]]
    plan.append({"q": d["hot"], "choice": c[i % len(c)], "change_to": c[(i + 1) % len(c)] if i < 30 else None})
for q in d["voted"]:   # 12 new voters on each of 10 other questions
    for i in range(12):
        plan.append({"q": q, "choice": ch[q][i % len(ch[q])], "change_to": None})
print(json.dumps(plan))
EOF
T=$(bb_now)
$CLIENT vote "$A" "$WORK/plan.json" > "$WORK/vote.json" 2> "$WORK/vote.out" || bail "voting through the API"
API_SECS=$(bb_secs "$T" "$(bb_now)")
API_BALLOTS=$(json "$WORK/vote.json" 'sum(d["ballots"].values())')
API_CHANGES=$(json "$WORK/vote.json" 'd["changes"]')
API_FAILED=$(json "$WORK/vote.json" 'd["failed"]')
check "$((API_BALLOTS + API_CHANGES)) votes through the API in $API_SECS s: $API_BALLOTS new voters (150 on hot question $HOT, 120 on 10 others), $API_CHANGES changed votes; $API_FAILED failed" \
  '[ "$API_FAILED" = 0 ] && [ "$API_BALLOTS" = 270 ] && [ "$API_CHANGES" = 30 ]'
[ "$API_FAILED" = 0 ] || json "$WORK/vote.json" 'd["errors"]' | indent

$CLIENT totals "$A" "$IDS" 4 > "$WORK/before.json" || bail "reading totals from server A"
check "server A's totals are steady (two reads agree, list = results)" '[ "$(json "$WORK/before.json" "d[\"stable\"]")" = True ]'
stop_pid "$SERVER_PID"

# What the site served is the ledger: results = ballots, list totals = questions.vote_count.
sql_on "$DB" "SELECT q.id, COUNT(b.id) FROM questions q LEFT JOIN ballots b ON b.question_id = q.id GROUP BY q.id" > "$WORK/ballots-before.tsv"
sql_on "$DB" "SELECT id, vote_count FROM questions" > "$WORK/vote-count-before.tsv"
python3 - "$WORK/before.json" "$WORK/ballots-before.tsv" "$WORK/vote-count-before.tsv" > "$WORK/served.out" << 'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ballots = dict(l.split() for l in open(sys.argv[2]))
vc = dict(l.split() for l in open(sys.argv[3]))
bad = [k for k, v in d["results"].items() if int(ballots[k]) != v]
bad += [f"list {i}" for i, t in d["top"] if int(vc[str(i)]) != t]
print(len(d["results"]), len(d["top"]), " ".join(bad) or "none")
EOF
read -r N_RESULTS N_TOP SERVED_BAD < "$WORK/served.out"
check "before the backup the site served the ledger: $N_RESULTS questions' results = their ballots, $N_TOP top-list totals = vote_count (differing: $SERVED_BAD)" \
  '[ "$SERVED_BAD" = none ]'

# Fingerprints of what the online load will not touch.
fingerprint() { # DB: count and CRC sum of every ballot and vote row of the questions off the load
  sql_on "$1" "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', b.id, b.question_id, b.voter, b.trust,
      b.created_at, b.updated_at, v.choice_id, v.created_at))), 0)
    FROM ballots b LEFT JOIN votes v ON v.ballot_id = b.id WHERE b.question_id NOT IN ($ONLINE_IDS)"
}
untouched() { # DB: CHECKSUM TABLE of the tables a vote does not write
  sql_on "$1" "CHECKSUM TABLE choices, tags, question_tags, users, media, __diesel_schema_migrations" |
    awk '{ printf "%s%s=%s", sep, $1, $2; sep = " " }'
}
FP_BEFORE=$(fingerprint "$DB")
UNTOUCHED_BEFORE=$(untouched "$DB" | sed "s/$DB\.//g")

# --- 3. backup while server B takes votes ----------------------------------------------------
PORT_B=$(free_port)
start_server b "$PORT_B"
B="http://127.0.0.1:$PORT_B"
TARGETS=$(json "$WORK/pick.json" '" ".join("%d:%d" % (q, d["choices"][str(q)][0]) for q in [d["hot"]] + d["online"])')
# shellcheck disable=SC2086
$CLIENT online "$B" "$WORK/acks.log" $TARGETS > "$WORK/online.json" 2> "$WORK/online.out" &
LOAD_PID=$!
PIDS+=("$LOAD_PID")
touch "$WORK/acks.log"
for _ in $(seq 1 150); do
  [ "$(wc -l < "$WORK/acks.log")" -ge 100 ] && break
  kill -0 "$LOAD_PID" 2> /dev/null || break
  sleep 0.1
done
[ "$(wc -l < "$WORK/acks.log")" -ge 100 ] || bail "the online load did not get going (server B)"
mkdir -p "$WORK/dumps"
DUMP="$WORK/dumps/$DB.sql.gz"
TB0=$(bb_now)
brc=0
infra/backup/backup.sh "$URL" "$DUMP" > "$WORK/backup.out" 2>&1 || brc=$?
TB1=$(bb_now)
sleep 0.3
stop_pid "$LOAD_PID"
stop_pid "$SERVER_PID"
indent < "$WORK/backup.out"
check "backup.sh exits 0 while server B takes votes" '[ "$brc" = 0 ] && [ -s "$DUMP" ]'
[ "$brc" = 0 ] || bail "backup.sh failed"
BACKUP_SECS=$(bb_secs "$TB0" "$TB1")
DUMP_SIZE=$(stat -c %s "$DUMP")
DUMP_LINE=$(grep '^backup: wrote' "$WORK/backup.out" || true)
DUMP_ONLY=$(sed -n 's/.*, dump \([0-9.]*\) s.*/\1/p' <<< "$DUMP_LINE")
ONLINE_FAILED=$(json "$WORK/online.json" 'd["failed"]')
# Acknowledged votes per question: before the dump began, during it, in all.
python3 - "$WORK/acks.log" "$TB0" "$TB1" > "$WORK/acks.json" << 'EOF'
import json, sys
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
out = {"before": {}, "total": {}, "during": 0, "all": 0}
for line in open(sys.argv[1]):
    t, q = line.split()
    t = float(t)
    out["total"][q] = out["total"].get(q, 0) + 1
    out["all"] += 1
    if t < t0:
        out["before"][q] = out["before"].get(q, 0) + 1
    elif t <= t1:
        out["during"] += 1
print(json.dumps(out))
EOF
ACKED=$(json "$WORK/acks.json" 'd["all"]')
DURING=$(json "$WORK/acks.json" 'd["during"]')
check "the dump ran online: $DURING votes acknowledged by server B during the $BACKUP_SECS s of backup.sh ($ACKED in all, $ONLINE_FAILED failed)" \
  '[ "$DURING" -gt 0 ]'
sql_on "$DB" "SELECT q.id, COUNT(b.id) FROM questions q LEFT JOIN ballots b ON b.question_id = q.id WHERE q.id IN ($ONLINE_IDS) GROUP BY q.id" > "$WORK/ballots-after.tsv"
python3 - "$WORK/ballots-before.tsv" "$WORK/ballots-after.tsv" "$WORK/acks.json" "$ONLINE_FAILED" > "$WORK/live.out" << 'EOF'
import json, sys
before = dict(l.split() for l in open(sys.argv[1]))
after = dict(l.split() for l in open(sys.argv[2]))
acks = json.load(open(sys.argv[3]))
failed = int(sys.argv[4])
bad = []
for q, n in after.items():
    want = int(before[q]) + acks["total"].get(q, 0)
    if int(n) < want or (failed == 0 and int(n) != want):
        bad.append(f"{q}:{before[q]}+{acks['total'].get(q, 0)}->{n}")
print(" ".join(bad) or "none")
EOF
check "every vote acknowledged during the load is in the live database (ballots = before + acknowledged; off: $(cat "$WORK/live.out"))" \
  '[ "$(cat "$WORK/live.out")" = none ]'

# --- 4. drop, recreate empty, restore --------------------------------------------------------
bb_sql_nodb "DROP DATABASE \`$DB\`"
bb_sql_nodb "CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
TR0=$(bb_now)
rrc=0
infra/backup/restore.sh "$URL" "$DUMP" > "$WORK/restore.out" 2>&1 || rrc=$?
RESTORE_SECS=$(bb_secs "$TR0" "$(bb_now)")
indent < "$WORK/restore.out"
check "restore.sh into the dropped and recreated database exits 0 (its own ledger check passed)" '[ "$rrc" = 0 ]'
[ "$rrc" = 0 ] || bail "restore.sh failed"
RESTORED_LINE=$(grep '^restore: restored' "$WORK/restore.out" || true)
ROWS=$(sed -n 's/.* tables, \([0-9]*\) rows .*/\1/p' <<< "$RESTORED_LINE")
IMPORT_SECS=$(sed -n 's/.*; import \([0-9.]*\) s.*/\1/p' <<< "$RESTORED_LINE")

ledger_on "$DB" > "$WORK/ledger.out" 2>&1 && lrc=0 || lrc=$?
indent < "$WORK/ledger.out"
LEDGER_LINE=$(head -1 "$WORK/ledger.out")
check "restored: counters = ledger rows for every question and choice (the drill's SQL)" '[ "$lrc" = 0 ]'

sql_on "$DB" "SELECT q.id, COUNT(b.id) FROM questions q LEFT JOIN ballots b ON b.question_id = q.id GROUP BY q.id" > "$WORK/ballots-restored.tsv"
python3 - "$WORK/ballots-before.tsv" "$WORK/ballots-restored.tsv" "$ONLINE_IDS" > "$WORK/same.out" << 'EOF'
import sys
before = dict(l.split() for l in open(sys.argv[1]))
restored = dict(l.split() for l in open(sys.argv[2]))
online = set(sys.argv[3].split(","))
quiet = [q for q in before if q not in online]
bad = [q for q in quiet if restored.get(q) != before[q]]
print(len(quiet), " ".join(bad[:10]) or "none")
EOF
read -r N_QUIET SAME_BAD < "$WORK/same.out"
check "restored: all $N_QUIET questions without online votes have their ballots of before the backup (differing: $SAME_BAD)" \
  '[ "$SAME_BAD" = none ] && [ "$(wc -l < "$WORK/ballots-restored.tsv")" = "$QUESTIONS" ]'
FP_AFTER=$(fingerprint "$DB")
check "restored: their ballot and vote rows are identical ($(cut -f1 <<< "$FP_BEFORE") rows, fingerprint $(cut -f2 <<< "$FP_BEFORE"))" \
  '[ "$FP_AFTER" = "$FP_BEFORE" ]'
UNTOUCHED_AFTER=$(untouched "$DB" | sed "s/$DB\.//g")
check "restored: the tables votes do not write are identical (CHECKSUM TABLE: $UNTOUCHED_AFTER)" \
  '[ "$UNTOUCHED_AFTER" = "$UNTOUCHED_BEFORE" ]'
sql_on "$DB" "SELECT q.id, COUNT(b.id) FROM questions q LEFT JOIN ballots b ON b.question_id = q.id WHERE q.id IN ($ONLINE_IDS) GROUP BY q.id" > "$WORK/ballots-online-restored.tsv"
python3 - "$WORK/ballots-before.tsv" "$WORK/acks.json" "$WORK/ballots-online-restored.tsv" "$WORK/ballots-after.tsv" > "$WORK/bounds.out" << 'EOF'
import json, sys
before = dict(l.split() for l in open(sys.argv[1]))
acks = json.load(open(sys.argv[2]))
restored = dict(l.split() for l in open(sys.argv[3]))
after = dict(l.split() for l in open(sys.argv[4]))
parts, bad = [], []
for q in after:
    lo = int(before[q]) + acks["before"].get(q, 0)
    n, hi = int(restored[q]), int(after[q])
    parts.append(f"{q}:{lo}<={n}<={hi}")
    if not lo <= n <= hi:
        bad.append(q)
print(" ".join(bad) or "none", " ".join(parts))
EOF
read -r BOUNDS_BAD BOUNDS < "$WORK/bounds.out"
check "restored: each online question holds every vote acknowledged before the dump began and none after the load ($BOUNDS)" \
  '[ "$BOUNDS_BAD" = none ]'
BEEBETA_DATABASE_URL=$URL "$BIN" migrate > "$WORK/migrate-restored.log" 2>&1 || true
check "restored: the migrations came along (beebeta migrate: $(tail -1 "$WORK/migrate-restored.log"))" \
  'grep -q "applied 0 migration" "$WORK/migrate-restored.log"'

# --- 5. the restored site serves the same totals ---------------------------------------------
PORT_R=$(free_port)
start_server r "$PORT_R"
$CLIENT totals "http://127.0.0.1:$PORT_R" "$IDS" 4 > "$WORK/restored.json" || bail "reading totals from the restored server"
stop_pid "$SERVER_PID"
python3 - "$WORK/before.json" "$WORK/restored.json" "$ONLINE_IDS" "$HOT" "$WORK/acks.json" "$WORK/ballots-after.tsv" > "$WORK/site.out" << 'EOF'
import json, sys
before = json.load(open(sys.argv[1]))
restored = json.load(open(sys.argv[2]))
online = set(sys.argv[3].split(","))
hot = sys.argv[4]
acks = json.load(open(sys.argv[5]))
after = dict(l.split() for l in open(sys.argv[6]))
quiet = [q for q in before["results"] if q not in online]
bad = [q for q in quiet if restored["results"][q] != before["results"][q]]
lo, n, hi = before["results"][hot] + acks["before"].get(hot, 0), restored["results"][hot], int(after[hot])
fb = [t for t in before["top"] if str(t[0]) not in online]
fr = [t for t in restored["top"] if str(t[0]) not in online]
k = len(fb) - len(online)
top_ok = fb[:k] == fr[:k]
print(len(quiet), " ".join(bad) or "none", "yes" if lo <= n <= hi else "no", f"{before['results'][hot]}(+{acks['before'].get(hot, 0)})<={n}<={hi}", k, "yes" if top_ok else "no")
EOF
read -r N_SAMPLE SITE_BAD HOT_OK HOT_BOUNDS N_TOPCMP TOP_OK < "$WORK/site.out"
check "the restored site serves the totals served before the backup for the $N_SAMPLE sampled questions without online votes (differing: $SITE_BAD)" \
  '[ "$SITE_BAD" = none ]'
check "the restored site's total for hot question $HOT lies between before the backup (+ acknowledged before the dump) and after the load: $HOT_BOUNDS" \
  '[ "$HOT_OK" = yes ]'
check "the restored site's top list has the same totals in the same order ($N_TOPCMP questions without online votes)" '[ "$TOP_OK" = yes ]'

# --- 6. through S3 ---------------------------------------------------------------------------
S3_FIGURES="skipped (BEEBETA_TEST_S3_ENDPOINT unset)"
if [ -n "${BEEBETA_TEST_S3_ENDPOINT:-}" ]; then
  export AWS_ENDPOINT_URL=$BEEBETA_TEST_S3_ENDPOINT BEEBETA_S3_ENDPOINT=$BEEBETA_TEST_S3_ENDPOINT
  unset AWS_ENDPOINT_URL_S3
  bb_s3 mb "$BUCKET" > "$WORK/s3.out" 2>&1 && BUCKET_MADE=yes
  check "created the bucket $BUCKET on $BEEBETA_TEST_S3_ENDPOINT ($BB_S3_CLIENT)" '[ "$BUCKET_MADE" = yes ]'
  KEY="s3://$BUCKET/drill/$DB.sql.gz"
  T=$(bb_now)
  src=0
  infra/backup/backup.sh "$URL" "$KEY" > "$WORK/backup-s3.out" 2>&1 || src=$?
  S3_BACKUP_SECS=$(bb_secs "$T" "$(bb_now)")
  indent < "$WORK/backup-s3.out"
  check "backup.sh to $KEY exits 0" '[ "$src" = 0 ]'
  # The restore downloads with the other client when both are there (both code paths run).
  OTHER=()
  if [ "$BB_S3_CLIENT" = aws ] && python3 -c 'import boto3' 2> /dev/null; then OTHER=(env BEEBETA_BACKUP_S3_CLIENT=boto3); fi
  bb_sql_nodb "CREATE DATABASE \`$DB_S3\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
  T=$(bb_now)
  s3rc=0
  "${OTHER[@]}" infra/backup/restore.sh "$(url_of "$DB_S3")" "$KEY" > "$WORK/restore-s3.out" 2>&1 || s3rc=$?
  S3_RESTORE_SECS=$(bb_secs "$T" "$(bb_now)")
  indent < "$WORK/restore-s3.out"
  check "restore.sh from $KEY into a fresh database exits 0 (downloaded with ${OTHER[*]:-the same client})" '[ "$s3rc" = 0 ]'
  ledger_on "$DB_S3" > "$WORK/ledger-s3.out" 2>&1 && l3=0 || l3=$?
  check "S3 copy: counters = ledger rows for every question and choice" '[ "$l3" = 0 ]'
  ALL_TABLES=$(sql_on "$DB" "SELECT GROUP_CONCAT(CONCAT('\`', TABLE_NAME, '\`') ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")
  SUMS_SRC=$(sql_on "$DB" "CHECKSUM TABLE $ALL_TABLES" | sed "s/^$DB\.//")
  SUMS_S3=$(sql_on "$DB_S3" "CHECKSUM TABLE $ALL_TABLES" | sed "s/^$DB_S3\.//")
  check "S3 copy: every one of its $(wc -l <<< "$SUMS_SRC") tables equals its source (CHECKSUM TABLE)" '[ "$SUMS_SRC" = "$SUMS_S3" ] && [ -n "$SUMS_SRC" ]'
  S3_SIZE=$(bb_s3 size "$KEY" 2> /dev/null || echo "?")
  S3_FIGURES="$S3_SIZE bytes, backup.sh $S3_BACKUP_SECS s, restore.sh $S3_RESTORE_SECS s"
else
  skip=$((skip + 1))
  echo "# skip S3: BEEBETA_TEST_S3_ENDPOINT is not set (CI starts moto and sets it)"
fi

# --- 7. what must be refused -----------------------------------------------------------------
BALLOTS_NOW=$(sql_on "$DB" "SELECT COUNT(*) FROM ballots")
nrc=0
infra/backup/restore.sh "$URL" "$DUMP" > "$WORK/refuse.out" 2>&1 || nrc=$?
check "restore.sh refuses a database that has tables, without --force (exit $nrc: $(tail -1 "$WORK/refuse.out" | cut -c1-90)...)" \
  '[ "$nrc" != 0 ] && [ "$(sql_on "$DB" "SELECT COUNT(*) FROM ballots")" = "$BALLOTS_NOW" ] && grep -q refusing "$WORK/refuse.out"'

head -c "$((DUMP_SIZE / 2))" "$DUMP" > "$WORK/dumps/truncated.sql.gz"
gzip -dc "$DUMP" | head -n -1 | gzip -c > "$WORK/dumps/unfinished.sql.gz"
trc=0
infra/backup/restore.sh "$(url_of "$DB_NEG")" "$WORK/dumps/truncated.sql.gz" > "$WORK/truncated.out" 2>&1 || trc=$?
urc=0
infra/backup/restore.sh "$(url_of "$DB_NEG")" "$WORK/dumps/unfinished.sql.gz" > "$WORK/unfinished.out" 2>&1 || urc=$?
check "restore.sh refuses a truncated dump and one without its 'Dump completed' line, and restores nothing of them" \
  '[ "$trc" != 0 ] && [ "$urc" != 0 ] && [ "$(tables_in "$DB_NEG")" = 0 ]'

mrc=0
infra/backup/backup.sh "$ADMIN_BASE/${DB}_missing" "$WORK/out/missing.sql.gz" > "$WORK/missing.out" 2>&1 || mrc=$?
check "backup.sh of a missing database fails and writes nothing" '[ "$mrc" != 0 ] && [ -z "$(ls -A "$WORK/out" 2> /dev/null)" ]'

# A dump program that fails half-way (pipefail), and one that stops early with status 0.
REAL_DUMP=$(command -v mariadb-dump || command -v mysqldump)
mkdir -p "$WORK/stub"
for name in mariadb-dump mysqldump; do
  cat > "$WORK/stub/$name" << EOF
#!/usr/bin/env bash
"$REAL_DUMP" "\$@" | head -c 300000
exit \${STUB_EXIT:-0}
EOF
  chmod +x "$WORK/stub/$name"
done
frc=0
STUB_EXIT=2 PATH="$WORK/stub:$PATH" infra/backup/backup.sh "$URL" "$WORK/out/failed.sql.gz" > "$WORK/failed.out" 2>&1 || frc=$?
erc=0
STUB_EXIT=0 PATH="$WORK/stub:$PATH" infra/backup/backup.sh "$URL" "$WORK/out/early.sql.gz" > "$WORK/early.out" 2>&1 || erc=$?
check "backup.sh fails and leaves no file when the dump program fails half-way (exit $frc) or stops early (exit $erc)" \
  '[ "$frc" != 0 ] && [ "$erc" != 0 ] && [ -z "$(ls -A "$WORK/out" 2> /dev/null)" ]'

# The URL is the whole connection: a ~/.my.cnf with other credentials does not override it.
mkdir -p "$WORK/home"
printf '[client]\nuser=nobody\npassword=wrong\n[mysqldump]\nuser=nobody\npassword=wrong\n' > "$WORK/home/.my.cnf"
hrc=0
HOME="$WORK/home" BEEBETA_DATABASE_URL=$URL infra/backup/backup.sh @env "$WORK/home/dump.sql" > "$WORK/home.out" 2>&1 || hrc=$?
check "a ~/.my.cnf with other credentials does not override the URL's (given as @env; a file named .sql: $(bb_format_of "$WORK/home/dump.sql" 2> /dev/null || echo none))" \
  '[ "$hrc" = 0 ] && [ -s "$WORK/home/dump.sql" ]'

T=$(bb_now)
forc=0
infra/backup/restore.sh "$URL" "$DUMP" --force > "$WORK/force.out" 2>&1 || forc=$?
check "restore.sh --force over the restored database exits 0 with the ledger intact ($(bb_secs "$T" "$(bb_now)") s)" \
  '[ "$forc" = 0 ] && grep -q "ledger check: OK" "$WORK/force.out"'

TOTAL_SECS=$(bb_secs "$T_START" "$(bb_now)")
echo "# figures: generated $QUESTIONS questions / $VOTES votes in $GEN_SECS s; $((API_BALLOTS + API_CHANGES)) API votes in $API_SECS s"
echo "# figures: dump $DUMP_SIZE bytes ($(bb_human "$DUMP_SIZE"), gzip); mariadb-dump $DUMP_ONLY s, backup.sh $BACKUP_SECS s, with $DURING of $ACKED online votes acknowledged during it"
echo "# figures: restore.sh $RESTORE_SECS s (import $IMPORT_SECS s): ${ROWS:-?} rows restored; $LEDGER_LINE"
echo "# figures: S3: $S3_FIGURES"
echo "# figures: the drill took $TOTAL_SECS s"
summary
[ "$fail" = 0 ]
