#!/usr/bin/env bash
# Database faults: how a release build answers while its database stalls, is down, or (SQLite) is
# write-locked, and whether every acknowledged vote is kept. Starts a private MariaDB instance
# (its own datadir and free port, never the machine's 3306) and the app on a free loopback port,
# then runs three scenarios, each printing a figures line per class of request (count of each
# status, median and max seconds) and TAP-like checks:
#   1. stall:   LOCK TABLES ... WRITE on every app table for LOCK_SECS (12) from another session
#               while cold reads (never read before), warm reads (read just before), the home page,
#               the API and votes arrive all at once;
#   2. stopped: mariadbd stopped (SIGTERM): the same requests, then the time from its restart to
#               /readyz 200 and to the first acknowledged vote;
#   3. sqlite:  the app on a SQLite file whose write lock another process holds (BEGIN IMMEDIATE)
#               for SQLITE_LOCK_SECS (8): reads go on, votes answer 503 within the write timeout.
# After 1, 2 and 3 the ledger check: the ballots added on the voted questions equal the votes
# acknowledged (2xx), and every counter equals its ledger rows.
#
#   BEEBETA_BIN=target/release/beebeta bench/faults.sh   # that binary (built with --features mysql)
#   bench/faults.sh                                      # builds it first (cargo build --release --features mysql)
#   KEEP_WORK=1 bench/faults.sh                          # keep the work directory (logs, results)
#
# Expected of the app (defaults: BEEBETA_DB_READ_TIMEOUT_MS=2000, BEEBETA_DB_WRITE_TIMEOUT_MS=5000,
# BEEBETA_STALE_IF_ERROR_SECS=600): no 500 ever; a read of data not cached answers 503 with
# Retry-After within READ_MAX (3.0 s), and within FAST_MAX (0.2 s) once the breaker is open; a
# read of data read before answers 200 (a saved copy: an Age header, pages carry data-saved-copy;
# or, while another request rebuilds it, the cache's stale entry within its normal window); a vote answers 503 within WRITE_MAX (6.0 s) and is not counted; /healthz stays
# 200 within HEALTHZ_MAX (0.5 s); /readyz is 503 while the database is down.
# Bounded: every wait has a timeout (each request 15 s). Everything started is stopped by PID and
# the work directory removed, also on failure or Ctrl-C. No network beyond 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

QUESTIONS=${QUESTIONS:-200}
VOTES=${VOTES:-2000}
LOCK_SECS=${LOCK_SECS:-12}
SQLITE_LOCK_SECS=${SQLITE_LOCK_SECS:-8}
READ_MAX=${READ_MAX:-3.0}
WRITE_MAX=${WRITE_MAX:-6.0}
FAST_MAX=${FAST_MAX:-0.2}
VOTE_FAST_MAX=${VOTE_FAST_MAX:-0.5}
# The write breaker's one probe after its cooldown may wait the pool's acquire time (1 s).
PROBE_MAX=${PROBE_MAX:-1.5}
HEALTHZ_MAX=${HEALTHZ_MAX:-0.5}
RECOVER_MAX=${RECOVER_MAX:-10}
WARM_WAIT=${WARM_WAIT:-3}

T_BEGIN=$(date +%s)
if [ -n "${BEEBETA_BIN:-}" ]; then
  BIN=$BEEBETA_BIN
  echo "# using $BIN (BEEBETA_BIN; not rebuilt)"
else
  echo "# building the release binary (--features mysql)"
  cargo build --release --features mysql -q
  BIN=target/release/beebeta
fi
[ -x "$BIN" ] || { echo "Bail out! no executable $BIN"; exit 1; }
BIN=$(realpath "$BIN")
for tool in mariadbd mariadb-install-db mysql curl python3; do
  command -v "$tool" > /dev/null || { echo "Bail out! $tool is not installed"; exit 1; }
done

WORK=$(mktemp -d /tmp/beebeta-faults.XXXXXX)
mkdir -p "$WORK/tmp"
APP="" MYSQLD="" LOCKER="" HOLDER=""
pass=0
fail=0

# A process started by this script is alive until it exits (a zombie awaiting `wait` is not).
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)" != Z ]; }
stop_pid() { # pid seconds: SIGTERM, up to that long to exit, then SIGKILL; reaps it
  local pid=$1 secs=${2:-15} i
  [ -n "$pid" ] || return 0
  if kill "$pid" 2> /dev/null; then
    for i in $(seq 1 $((secs * 10))); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      echo "# PID $pid did not stop within $secs s: SIGKILL"
      kill -9 "$pid" 2> /dev/null || true
    fi
  fi
  wait "$pid" 2> /dev/null || true
}
cleanup() {
  set +e
  stop_pid "$HOLDER" 5
  stop_pid "$LOCKER" 5
  stop_pid "$APP" 15
  stop_pid "$MYSQLD" 60
  if [ -n "${KEEP_WORK:-}" ]; then echo "# work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
bail() {
  echo "Bail out! $1"
  [ -f "$WORK/app.log" ] && tail -20 "$WORK/app.log"
  [ -f "$WORK/mysqld.err" ] && tail -5 "$WORK/mysqld.err"
  exit 1
}
figure() { echo "  $1"; echo "$1" >> "$WORK/figures"; }
# Runs bench/faults.py and turns its lines (ok / not ok / fig / info, tab-separated) into output.
py() {
  local line kind text
  if ! python3 bench/faults.py "$@" > "$WORK/py.out" 2> "$WORK/py.err"; then
    not_ok "faults.py $1 failed: $(tail -1 "$WORK/py.err")"
  fi
  while IFS= read -r line; do
    kind=${line%%$'\t'*}
    text=${line#*$'\t'}
    case "$kind" in
      ok) ok "$text" ;;
      "not ok") not_ok "$text" ;;
      fig) figure "$text" ;;
      info) echo "# $text" ;;
      *) echo "$line" ;;
    esac
  done < "$WORK/py.out"
}
wait_for() { # file text seconds: 0 when the file contains the text in time
  local i
  for i in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2> /dev/null && return 0; sleep 0.1; done
  return 1
}
now() { date +%s.%N; }
since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$1"; }
between() { python3 -c "import sys; print(f'{float(sys.argv[2] or 0) - float(sys.argv[1] or 0):.2f}')" "$1" "${2:-}"; }

# ---------------------------------------------------------------- the private MariaDB instance
MY_PORT=$(free_port)
MYSQL=(mysql --no-defaults --protocol=tcp -h127.0.0.1 -P"$MY_PORT" -uroot)
DBSPEC="mysql:$MY_PORT:beebeta"
start_mysqld() {
  mariadbd --no-defaults --datadir="$WORK/data" --port="$MY_PORT" --bind-address=127.0.0.1 \
    --socket="$WORK/mysqld.sock" --pid-file="$WORK/mysqld.pid" --log-error="$WORK/mysqld.err" \
    --tmpdir="$WORK/tmp" --user=root --skip-name-resolve --skip-log-bin --performance-schema=OFF \
    --innodb-buffer-pool-size=64M > /dev/null 2>&1 &
  MYSQLD=$!
}
wait_mysqld() { # seconds: 0 when the server answers a query in time
  local i
  for i in $(seq 1 $(($1 * 10))); do
    timeout 5 "${MYSQL[@]}" -e 'SELECT 1' > /dev/null 2>&1 && return 0
    alive "$MYSQLD" || return 1
    sleep 0.1
  done
  return 1
}
timeout 120 mariadb-install-db --no-defaults --datadir="$WORK/data" --user=root \
  --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve > "$WORK/install.log" 2>&1 \
  || { tail -20 "$WORK/install.log"; bail "mariadb-install-db failed"; }
start_mysqld
wait_mysqld 60 || bail "the private mariadbd did not start on port $MY_PORT"
timeout 30 "${MYSQL[@]}" -e "CREATE DATABASE beebeta CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
echo "# private MariaDB $(timeout 30 "${MYSQL[@]}" -N -e 'SELECT VERSION()') on 127.0.0.1:$MY_PORT (PID $MYSQLD, datadir $WORK/data)"

# ---------------------------------------------------------------- the app
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
export BEEBETA_DATABASE_URL="mysql://root@127.0.0.1:$MY_PORT/beebeta"
export BEEBETA_SECRET_KEY
BEEBETA_SECRET_KEY=$(head -c 64 /dev/urandom | base64 -w0)
# No mail server here: emails (links included) go to the log, chosen explicitly.
export BEEBETA_SMTP_URL=log BEEBETA_SEED_DEMO=false BEEBETA_LIMITS=off BEEBETA_LOG_FILTER=warn
export BEEBETA_MEDIA="file://$WORK/media" ROCKET_PORT="$PORT" ROCKET_ADDRESS=127.0.0.1
unset BEEBETA_CACHE BEEBETA_CONFIG
# The app runs in the work directory (no Beebeta.toml, files it writes stay there).
start_app() {
  (cd "$WORK" && TMPDIR="$WORK/tmp" exec "$BIN" serve >> "$WORK/app.log" 2>&1) &
  APP=$!
  local i
  for i in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/readyz")" = 200 ] && return 0
    alive "$APP" || break
    sleep 0.1
  done
  bail "the app did not become ready on $BASE"
}
generate() {
  (cd "$WORK" && TMPDIR="$WORK/tmp" exec timeout 300 "$BIN" generate --questions "$QUESTIONS" --votes "$VOTES" --seed 1) \
    > "$WORK/generate.log" 2>&1 || { tail -5 "$WORK/generate.log"; bail "generate failed"; }
  echo "# $(grep -o 'generated .*' "$WORK/generate.log" | tail -1)"
}
generate
start_app
echo "# app $BIN on $BASE (PID $APP); read/write timeouts and stale-if-error: app defaults" \
  "(${BEEBETA_DB_READ_TIMEOUT_MS:-2000} ms, ${BEEBETA_DB_WRITE_TIMEOUT_MS:-5000} ms, ${BEEBETA_STALE_IF_ERROR_SECS:-600} s)"
Q="$WORK/questions.json"
py questions --base "$BASE" --db "$DBSPEC" --out "$Q"
[ -s "$Q" ] || bail "no questions"
# Votes go to the first 10 warm questions (generated ones are open, single choice or at least one
# choice allowed, protected by the browser cookie only: every cookie-less vote is a new ballot).
VQIDS=$(python3 -c 'import json,sys; print(",".join(str(q["id"]) for q in json.load(open(sys.argv[1]))["warm"][:10]))' "$Q")
NCOLD=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["cold"]))' "$Q")
[ "$NCOLD" -ge 180 ] || bail "need at least 180 cold questions, have $NCOLD (QUESTIONS=$QUESTIONS)"

# ================================================================ 1. stall: tables locked
echo "# 1. stall: every app table locked (LOCK TABLES ... WRITE) for $LOCK_SECS s from another session"
# Each vote of a scenario carries its own voter cookie, so that its ballot can be read back.
py voters --base "$BASE" --questions "$Q" --count 10 --out "$WORK/voters1.json"
py warm --base "$BASE" --questions "$Q" --warm 0:20 --label "1 stall"
sleep "$WARM_WAIT"
BEFORE=$(python3 bench/faults.py count --db "$DBSPEC" --qids "$VQIDS") || bail "could not count the ballots"
LOCK_LIST=$(timeout 30 "${MYSQL[@]}" -N -B -e "SELECT table_name FROM information_schema.tables WHERE table_schema = 'beebeta'
  AND table_type = 'BASE TABLE' AND table_name <> '__diesel_schema_migrations' ORDER BY table_name" \
  | sed 's/.*/`&` WRITE/' | paste -sd, -)
echo "# locking $(echo "$LOCK_LIST" | tr ',' '\n' | wc -l) tables"
# The lock's start by the server's clock (the same machine's): the requests' offsets count from it.
timeout $((LOCK_SECS + 30)) "${MYSQL[@]}" -n -N -B beebeta -e "LOCK TABLES $LOCK_LIST; SELECT 'locked', UNIX_TIMESTAMP(NOW(6));
  SELECT SLEEP($LOCK_SECS); UNLOCK TABLES; SELECT 'released', UNIX_TIMESTAMP(NOW(6));" > "$WORK/lock.out" 2>&1 &
LOCKER=$!
if wait_for "$WORK/lock.out" locked 10; then
  T_LOCK=$(grep -m1 '^locked' "$WORK/lock.out" | cut -f2)
  ok "1 stall: the tables are locked (seen $(since "$T_LOCK") s after)"
else
  not_ok "1 stall: the tables were not locked within 10 s: $(tail -1 "$WORK/lock.out")"
  T_LOCK=$(now)
fi
# The lock blocks another session: a probe with a 0.2 s statement limit is cut off (and is most of the
# ~0.5 s between the lock and the requests).
code=0
timeout 10 "${MYSQL[@]}" beebeta -e "SET SESSION max_statement_time = 0.2; SELECT COUNT(*) FROM questions" > /dev/null 2>&1 || code=$?
check "1 stall: the lock blocks another session's read (a probe was cut off at its 0.2 s limit)" '[ "$code" != 0 ]'
py mix --base "$BASE" --questions "$Q" --out "$WORK/s1.jsonl" --label "1 stall" --t0 "$T_LOCK" --voters "$WORK/voters1.json" \
  cold=0:100 coldapi=100:110 warm=0:20 home=10 warmapi=0:20 vote=0:10 healthz=5 readyz=3
R="$WORK/s1.jsonl"
py check "$R" "1 stall" all not500 answered
py check "$R" "1 stall" all within="$LOCK_SECS"
py check "$R" "1 stall" cold status=503 header=Retry-After ctype=text/html max="$READ_MAX"
py check "$R" "1 stall" coldapi status=503 header=Retry-After json=unavailable max="$READ_MAX"
# Read before: 200 each. The first reader of an entry past its freshness gets the saved copy (Age,
# the note) once its rebuild fails; readers meanwhile get the entry as the cache serves any stale
# entry while one caller rebuilds it (no Age: within its normal stale window, 1 min at most).
py check "$R" "1 stall" warm,home status=200 marked some-saved max="$READ_MAX"
py check "$R" "1 stall" warmapi status=200 some-saved max="$READ_MAX"
py check "$R" "1 stall" vote status=503 header=Retry-After max="$WRITE_MAX"
py check "$R" "1 stall" healthz status=200 max="$HEALTHZ_MAX"
for _ in $(seq 1 $(((LOCK_SECS + 15) * 10))); do alive "$LOCKER" || break; sleep 0.1; done
stop_pid "$LOCKER" 1
LOCKER=""
T_FREE=$(grep -m1 '^released' "$WORK/lock.out" | cut -f2 || true)
check "1 stall: the lock was released after $(between "$T_LOCK" "$T_FREE") s" \
  '[ -n "$T_FREE" ]'
sleep 1
py ballots --base "$BASE" --voters "$WORK/voters1.json" --label "1 stall" "$WORK/s1.jsonl"
# The same votes again (same voters), each retried for up to 10 s while the app recovers.
py mix --base "$BASE" --questions "$Q" --out "$WORK/s1-after.jsonl" --label "1 stall, after" \
  --voters "$WORK/voters1.json" --concurrency 10 --retry-until 10 vote=0:10
py check "$WORK/s1-after.jsonl" "1 stall, after" vote final 2xx
py check "$WORK/s1-after.jsonl" "1 stall, after" vote not500
sleep 1
py ballots --base "$BASE" --voters "$WORK/voters1.json" --label "1 stall, after" "$WORK/s1.jsonl" "$WORK/s1-after.jsonl"
py ledger --db "$DBSPEC" --qids "$VQIDS" --before "$BEFORE" --label "1 stall" "$WORK/s1.jsonl" "$WORK/s1-after.jsonl"
py metrics --base "$BASE" --label "1 stall"

# ================================================================ 2. stopped: mariadbd down
echo "# 2. stopped: mariadbd stopped (SIGTERM), then restarted"
py voters --base "$BASE" --questions "$Q" --count 13 --out "$WORK/voters2.json"
py warm --base "$BASE" --questions "$Q" --warm 0:20 --label "2 stopped"
sleep "$WARM_WAIT"
BEFORE=$(python3 bench/faults.py count --db "$DBSPEC" --qids "$VQIDS") || bail "could not count the ballots"
T_STOP=$(now)
stop_pid "$MYSQLD" 60
check "2 stopped: mariadbd stopped in $(since "$T_STOP") s" '! alive "$MYSQLD"'
MYSQLD=""
# The first few, one at a time: they may take up to the timeouts while the breaker learns.
py mix --base "$BASE" --questions "$Q" --out "$WORK/s2-first.jsonl" --label "2 stopped, first" \
  --voters "$WORK/voters2.json" --concurrency 1 cold=110:115 vote=0:3
R="$WORK/s2-first.jsonl"
py check "$R" "2 stopped, first" all not500 answered
py check "$R" "2 stopped, first" cold status=503 header=Retry-After max="$READ_MAX"
py check "$R" "2 stopped, first" vote status=503 header=Retry-After max="$WRITE_MAX"
# Then the rest, 16 at a time: the breaker is open.
py mix --base "$BASE" --questions "$Q" --out "$WORK/s2.jsonl" --label "2 stopped" --concurrency 16 \
  --voters "$WORK/voters2.json" --voter-offset 3 \
  cold=115:170 coldapi=170:180 warm=0:20 home=10 warmapi=0:20 vote=0:10 healthz=5 readyz=3
R="$WORK/s2.jsonl"
py check "$R" "2 stopped" all not500 answered
py check "$R" "2 stopped" cold status=503 header=Retry-After ctype=text/html max="$FAST_MAX"
py check "$R" "2 stopped" coldapi status=503 header=Retry-After json=unavailable max="$FAST_MAX"
py check "$R" "2 stopped" warm,home status=200 header=Age saved
py check "$R" "2 stopped" warmapi status=200 header=Age
py check "$R" "2 stopped" vote status=503 header=Retry-After max-but-probe="$VOTE_FAST_MAX/$PROBE_MAX"
py check "$R" "2 stopped" healthz status=200 max="$HEALTHZ_MAX"
py check "$R" "2 stopped" readyz status=503
T_START=$(now)
start_mysqld
py recover --base "$BASE" --questions "$Q" --db "$DBSPEC" --t0 "$T_START" --out "$WORK/s2-recover.jsonl" \
  --label "2 stopped" --max "$RECOVER_MAX" --timeout 30
wait_mysqld 30 || bail "mariadbd did not restart"
sleep 1
py ballots --base "$BASE" --voters "$WORK/voters2.json" --label "2 stopped" "$WORK/s2-first.jsonl" "$WORK/s2.jsonl"
py ledger --db "$DBSPEC" --qids "$VQIDS" --before "$BEFORE" --label "2 stopped" \
  "$WORK/s2-first.jsonl" "$WORK/s2.jsonl" "$WORK/s2-recover.jsonl"
py metrics --base "$BASE" --label "2 stopped"

# ================================================================ 3. SQLite: write lock held
echo "# 3. sqlite: another process holds the write lock (BEGIN IMMEDIATE) for $SQLITE_LOCK_SECS s"
stop_pid "$APP" 15
APP=""
stop_pid "$MYSQLD" 60
MYSQLD=""
SQLITE="$WORK/faults.db"
DBSPEC="sqlite:$SQLITE"
export BEEBETA_DATABASE_URL="sqlite://$SQLITE"
generate
start_app
py questions --base "$BASE" --db "$DBSPEC" --out "$Q"
VQIDS=$(python3 -c 'import json,sys; print(",".join(str(q["id"]) for q in json.load(open(sys.argv[1]))["warm"][:10]))' "$Q")
check "3 sqlite: the database is in WAL mode" \
  '[ "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"PRAGMA journal_mode\").fetchone()[0])" "$SQLITE")" = wal ]'
py voters --base "$BASE" --questions "$Q" --count 5 --out "$WORK/voters3.json"
py warm --base "$BASE" --questions "$Q" --warm 0:20 --label "3 sqlite"
sleep "$WARM_WAIT"
BEFORE=$(python3 bench/faults.py count --db "$DBSPEC" --qids "$VQIDS") || bail "could not count the ballots"
python3 bench/faults.py hold-sqlite "$SQLITE" "$SQLITE_LOCK_SECS" > "$WORK/hold.out" 2>&1 &
HOLDER=$!
if wait_for "$WORK/hold.out" locked 15; then
  T_LOCK=$(grep -m1 '^locked' "$WORK/hold.out" | cut -f2)
  ok "3 sqlite: the write lock is held (seen $(since "$T_LOCK") s after)"
else
  not_ok "3 sqlite: the write lock was not taken within 15 s: $(tail -1 "$WORK/hold.out")"
  T_LOCK=$(now)
fi
sleep 0.5
py mix --base "$BASE" --questions "$Q" --out "$WORK/s3.jsonl" --label "3 sqlite" --t0 "$T_LOCK" --voters "$WORK/voters3.json" \
  cold=0:20 coldapi=20:30 warm=0:20 home=10 warmapi=0:20 vote=0:5 healthz=5 readyz=2
R="$WORK/s3.jsonl"
py check "$R" "3 sqlite" all not500 answered
py check "$R" "3 sqlite" all within="$SQLITE_LOCK_SECS"
py check "$R" "3 sqlite" cold,coldapi,warm,home,warmapi status=200 max="$READ_MAX"
py check "$R" "3 sqlite" vote status=503 header=Retry-After max="$WRITE_MAX"
py check "$R" "3 sqlite" healthz status=200 max="$HEALTHZ_MAX"
for _ in $(seq 1 $(((SQLITE_LOCK_SECS + 15) * 10))); do alive "$HOLDER" || break; sleep 0.1; done
stop_pid "$HOLDER" 1
HOLDER=""
T_FREE=$(grep -m1 '^released' "$WORK/hold.out" | cut -f2 || true)
check "3 sqlite: the write lock was released after $(between "$T_LOCK" "$T_FREE") s" \
  '[ -n "$T_FREE" ]'
sleep 1
py ballots --base "$BASE" --voters "$WORK/voters3.json" --label "3 sqlite" "$WORK/s3.jsonl"
py mix --base "$BASE" --questions "$Q" --out "$WORK/s3-after.jsonl" --label "3 sqlite, after" \
  --voters "$WORK/voters3.json" --concurrency 5 --retry-until 10 vote=0:5
py check "$WORK/s3-after.jsonl" "3 sqlite, after" vote final 2xx
sleep 1
py ballots --base "$BASE" --voters "$WORK/voters3.json" --label "3 sqlite, after" "$WORK/s3.jsonl" "$WORK/s3-after.jsonl"
py ledger --db "$DBSPEC" --qids "$VQIDS" --before "$BEFORE" --label "3 sqlite" "$WORK/s3.jsonl" "$WORK/s3-after.jsonl"
py metrics --base "$BASE" --label "3 sqlite"

# ================================================================ summary
stop_pid "$APP" 15
APP=""
echo "# figures (status:count, median and max seconds per request)"
sed 's/^/  /' "$WORK/figures"
echo "# run time $(($(date +%s) - T_BEGIN)) s"
echo "1..$((pass + fail))"
echo "# pass $pass"
echo "# fail $fail"
if [ "$fail" -gt 0 ]; then
  echo "# last lines of the app log:"
  grep -v '^\s*$' "$WORK/app.log" | tail -15 | sed 's/^/#   /'
  exit 1
fi
