#!/usr/bin/env bash
# Admin report timing on MariaDB with large rollup tables (issue 6: a report renders in < 100 ms
# of app time at 10M votes).
#
#   bench/reports.sh                 # debug build (cheap to build next to the tests)
#   PROFILE=release bench/reports.sh # release build
#   QUESTIONS=100000 DAYS=30 HOURLY_QUESTIONS=20000 bench/reports.sh
#
# Loads, with one INSERT .. SELECT each (MariaDB's seq_* sequence tables): QUESTIONS questions,
# 500 tags, DAYS days x QUESTIONS rows of rollup_question_daily (every question active every
# day: the worst case for the top-20 GROUP BY), 24 h x HOURLY_QUESTIONS of rollup_question_hourly,
# DAYS x 500 of rollup_tag_daily and DAYS x 24 of rollup_site_hourly. Then it serves the app, logs
# in an admin and times each report with curl, twice:
# - as deployed: once the background refresher has built the standard windows, the first request
#   for each (and for a custom 30-day range, which nobody has built: its first answer is the
#   "being prepared" page after report_wait_ms), when it is shown, and the next 5 requests;
# - with BEEBETA_REPORT_CACHE_SECS=0: each report built inside the request (the build cost).
set -euo pipefail
cd "$(dirname "$0")/.."

QUESTIONS=${QUESTIONS:-100000}
DAYS=${DAYS:-30}
HOURLY_QUESTIONS=${HOURLY_QUESTIONS:-20000}
PROFILE=${PROFILE:-debug}
DB=beebeta_reports_bench
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
OUT=$(mktemp -d)
SQL() { mysql -h127.0.0.1 -uroot "$DB" -e "$1"; }

mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
export BEEBETA_DATABASE_URL="mysql://root@127.0.0.1:3306/$DB"
export BEEBETA_SECRET_KEY="$(head -c 64 /dev/urandom | base64 -w0)"
# No mail server here: emails (links included) go to the log, chosen explicitly.
export BEEBETA_SMTP_URL=log
export BEEBETA_SEED_DEMO=false BEEBETA_LOG_FILTER=warn,beebeta::services::reports=info BEEBETA_LIMITS=off ROCKET_PORT="$PORT" ROCKET_ADDRESS=127.0.0.1
export BEEBETA_DB_STATEMENT_TIMEOUT_MS=120000

if [ "$PROFILE" = release ]; then cargo build --release --features mysql -q; else cargo build --features mysql -q; fi
BIN=target/$PROFILE/beebeta
"$BIN" migrate

echo "loading rollups: $QUESTIONS questions x $DAYS days"
t0=$(date +%s)
SQL "INSERT INTO questions (title, slug, kind, min_choices, max_choices, results_visibility, protection, vote_count, hot_rank, created_at, updated_at)
     SELECT CONCAT('Benchmark question number ', seq, '?'), CONCAT('benchmark-question-', seq), 'single', 1, 1, 'always', 'browser', 0, 0, NOW(6), NOW(6)
     FROM seq_1_to_${QUESTIONS}"
SQL "INSERT INTO tags (name, question_count) SELECT CONCAT('tag', seq), 0 FROM seq_1_to_500"
SQL "INSERT INTO rollup_question_daily (day, question_id, views, votes)
     SELECT DATE(UTC_TIMESTAMP()) - INTERVAL d.seq DAY, q.seq, (q.seq * 7 + d.seq * 13) % 1000, (q.seq * 11 + d.seq * 3) % 100
     FROM seq_0_to_$((DAYS - 1)) d JOIN seq_1_to_${QUESTIONS} q"
SQL "INSERT INTO rollup_question_hourly (hour, question_id, views, votes)
     SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:00:00') - INTERVAL h.seq HOUR, q.seq, (q.seq * 7 + h.seq) % 50, (q.seq * 3 + h.seq) % 10
     FROM seq_0_to_23 h JOIN seq_1_to_${HOURLY_QUESTIONS} q"
SQL "INSERT INTO rollup_tag_daily (day, tag_id, views, votes)
     SELECT DATE(UTC_TIMESTAMP()) - INTERVAL d.seq DAY, t.seq, t.seq * 100 + d.seq, t.seq * 10 + d.seq
     FROM seq_0_to_$((DAYS - 1)) d JOIN seq_1_to_500 t"
SQL "INSERT INTO rollup_site_hourly (hour, page_views, votes, vote_changes, vote_withdrawals, signups, logins, questions_asked)
     SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:00:00') - INTERVAL h.seq HOUR, 10000 + h.seq % 24 * 500, 3000 + h.seq % 24 * 100, 50, 20, h.seq % 7, 100, h.seq % 13
     FROM seq_0_to_$((DAYS * 24 - 1)) h"
SQL "ANALYZE TABLE rollup_question_daily, rollup_question_hourly, rollup_tag_daily, rollup_site_hourly" >/dev/null
echo "loaded in $(( $(date +%s) - t0 )) s: $(mysql -h127.0.0.1 -uroot -N "$DB" -e 'SELECT COUNT(*) FROM rollup_question_daily') daily question rows"
# The admin logs in with two-factor authentication: one of the recovery codes create-admin
# prints per login (a code works once; a TOTP code would be refused again within its 30 s).
mapfile -t RECOVERY < <(printf '%s\n' "bench admin passphrase" \
  | "$BIN" create-admin --username benchadmin --email bench@example.com \
  | sed -n 's/^  \([a-z0-9]\{5\}-[a-z0-9]\{5\}\)$/\1/p')
[ "${#RECOVERY[@]}" -ge 2 ] || { echo "create-admin printed no recovery codes" >&2; exit 1; }
LOGINS=0

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$OUT"; }
trap cleanup EXIT
BASE="http://127.0.0.1:$PORT"

serve() {
  "$BIN" serve > "$OUT/server.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 500); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.02; done
  rm -f "$OUT/jar"
  local token
  token=$(curl -fs -c "$OUT/jar" -b "$OUT/jar" "$BASE/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  curl -fs -o /dev/null -c "$OUT/jar" -b "$OUT/jar" --data-urlencode "csrf_token=$token" \
    --data-urlencode "username=benchadmin" --data-urlencode "password=bench admin passphrase" "$BASE/login"
  token=$(curl -fs -c "$OUT/jar" -b "$OUT/jar" "$BASE/login/2fa" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  curl -fs -o /dev/null -c "$OUT/jar" -b "$OUT/jar" --data-urlencode "csrf_token=$token" \
    --data-urlencode "code=${RECOVERY[$LOGINS]}" "$BASE/login/2fa"
  LOGINS=$((LOGINS + 1))
}
stop() { kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; }
timed() { curl -fs -o /dev/null -b "$OUT/jar" -w '%{time_total}' "$BASE$1" | awk '{printf "%.1f", $1 * 1000}'; }
# "report" or "preparing" (the report was not built within report_wait_ms)
answer() { if curl -fs -b "$OUT/jar" "$BASE$1" | grep -q 'being prepared'; then echo preparing; else echo report; fi; }
ms_now() { date +%s%3N; }

report_rows() {
  for q in "window=day" "window=week" "window=month" "from=$(date -u -d '-29 days' +%F)&to=$(date -u +%F)"; do
    local path="/admin/reports?$q" first kind ready_ms t0 rest=()
    t0=$(ms_now)
    first=$(curl -fs -b "$OUT/jar" -w '\n%{time_total}' "$BASE$path" > "$OUT/first")
    first=$(tail -1 "$OUT/first" | awk '{printf "%.1f", $1 * 1000}')
    if grep -q 'being prepared' "$OUT/first"; then kind=preparing; else kind=report; fi
    # Until the report is shown (it goes on being built after a "preparing" answer).
    while [ "$(answer "$path")" = preparing ]; do sleep 0.1; done
    ready_ms=$(( $(ms_now) - t0 ))
    for _ in 1 2 3 4 5; do rest+=("$(timed "$path")"); done
    local median
    median=$(printf '%s\n' "${rest[@]}" | sort -n | sed -n 3p)
    echo "| $1 | $q | $first | $kind | $ready_ms | $median |"
  done
}

echo
echo "| mode | report | first request ms | first answer | shown after ms | median of next 5 ms |"
echo "|---|---|---:|---|---:|---:|"
# As deployed: the standard windows are kept warm by the background refresher; give it one
# round (its first runs at start-up) before asking.
export BEEBETA_REPORT_CACHE_SECS=120 BEEBETA_REPORT_REFRESH_SECS=60 BEEBETA_REPORT_WAIT_MS=1500
serve
for _ in $(seq 1 600); do grep -q 'report built.*window:month' "$OUT/server.log" && break; sleep 0.1; done
report_rows "warm (refresher)"
grep 'report built' "$OUT/server.log" | sed 's/^.*report=/  built: /' || true
stop
# Every report built in the request, waited for (the cost the refresher takes off requests).
export BEEBETA_REPORT_CACHE_SECS=0
serve
report_rows "built per request"
echo
echo "dashboard: $(timed /admin) ms; profile $PROFILE; curl total time on 127.0.0.1 (≈ app time)"
stop
