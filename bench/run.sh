#!/usr/bin/env bash
# Page and vote throughput of a release build, measured with wrk on loopback.
#
#   bench/run.sh                 # SQLite (embedded defaults), small generated data set
#   bench/run.sh --mysql         # MariaDB on 127.0.0.1:3306 (database beebeta_bench, recreated)
#   DURATION=20 CONNECTIONS=64 bench/run.sh
#
# Each target runs ROUNDS times (default 3) and the median requests/s is reported, next to its
# ratio against the bare /healthz route of the same server in the same run. After the vote
# load it checks that the question's counter equals its ledger.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND=sqlite
[ "${1:-}" = "--mysql" ] && BACKEND=mysql
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
PORT="${PORT:-18080}"
QUESTIONS="${QUESTIONS:-1000}"
VOTES="${VOTES:-10000}"
OUT=bench/out
mkdir -p "$OUT"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

FEATURES=()
if [ "$BACKEND" = mysql ]; then
  FEATURES=(--features mysql)
  mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS beebeta_bench; CREATE DATABASE beebeta_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
  export BEEBETA_DATABASE_URL=mysql://root@127.0.0.1:3306/beebeta_bench
else
  rm -f "$OUT"/bench.db*
  export BEEBETA_DATABASE_URL="sqlite://$OUT/bench.db"
fi
export BEEBETA_SECRET_KEY="$(head -c 64 /dev/urandom | base64 -w0)"
export BEEBETA_SEED_DEMO=false BEEBETA_LOG_FILTER=warn BEEBETA_LIMITS=off ROCKET_PORT="$PORT" ROCKET_ADDRESS=127.0.0.1
export BEEBETA_DB_POOL_SIZE="${BEEBETA_DB_POOL_SIZE:-32}"

echo "building release binary (${FEATURES[*]:-default features})"
cargo build --release "${FEATURES[@]}" -q
BIN=target/release/beebeta
"$BIN" generate --questions "$QUESTIONS" --votes "$VOTES" --seed 1

"$BIN" serve > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

BASE="http://127.0.0.1:$PORT"
QPATH=$(curl -fs "$BASE/api/v1/questions?sort=top" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["url"])')
QID=$(echo "$QPATH" | cut -d/ -f3)
CHOICE=$(curl -fs "$BASE/api/v1/questions/$QID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["id"])')
cat > "$OUT/vote.lua" <<LUA
wrk.method = "PUT"
wrk.body = '{"choices":[$CHOICE]}'
wrk.headers["Content-Type"] = "application/json"
LUA

rps() { # url [script] -> median requests/s of ROUNDS runs
  local url=$1 script=${2:-} vals=()
  for _ in $(seq 1 "$ROUNDS"); do
    local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency)
    [ -n "$script" ] && args+=(-s "$script")
    local line
    line=$(wrk "${args[@]}" "$url" | awk '/Requests\/sec/ {print $2}')
    vals+=("$line")
  done
  printf '%s\n' "${vals[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

echo "backend=$BACKEND questions=$QUESTIONS votes=$VOTES duration=${DURATION}s connections=$CONNECTIONS rounds=$ROUNDS"
base=$(rps "$BASE/healthz")
printf '%-34s %10s req/s  (baseline)\n' "GET /healthz" "$base"
for target in "/" "/new" "/top?window=week" "$QPATH" "/api/v1/questions/$QID"; do
  r=$(rps "$BASE$target")
  printf '%-34s %10s req/s  %5.1f%% of baseline\n' "GET ${target:0:30}" "$r" "$(echo "$r $base" | awk '{print 100*$1/$2}')"
done
r=$(rps "$BASE/api/v1/questions/$QID/vote" "$OUT/vote.lua")
printf '%-34s %10s req/s  %5.1f%% of baseline (each request is a new voter)\n' "PUT vote" "$r" "$(echo "$r $base" | awk '{print 100*$1/$2}')"

curl -fs "$BASE/api/v1/questions/$QID" | python3 -c '
import json, sys
q = json.load(sys.stdin)
total, ledger = q["total_votes"], q["results"]["total"]
votes = sum(c["votes"] for c in q["results"]["choices"])
kind = q["kind"]
print(f"after load: counter={total} ledger ballots={ledger} vote rows={votes} ({kind} choice)")
ok = total == ledger and (votes == ledger if kind == "single" else votes >= ledger)
sys.exit(0 if ok else 1)'
