#!/usr/bin/env bash
# Page and vote throughput of a release build, measured with wrk on loopback.
#
#   bench/run.sh                      # SQLite (embedded defaults), small generated data set
#   bench/run.sh --mysql              # MariaDB on 127.0.0.1:3306 (database beebeta_bench, recreated)
#   bench/run.sh --mysql --memcached  # ... with a memcached started for the run; adds (h): memcached stopped
#   bench/run.sh --mysql --memcached --scale large   # 1M questions, 10M votes
#   bench/run.sh --mysql --memcached --votes-only   # only (a), (f), (g), (k) and the counting check
#   bench/run.sh --mysql --memcached --search-only  # only (a), the searches (i), (j) and the LIKE scan
#   bench/run.sh ... --limits         # rate limits on (quotas too high to refuse): their cost
#   BENCH_BIN=target/release/beebeta bench/run.sh ...  # reuse a release binary (no cargo build)
#   DURATION=20 CONNECTIONS=64 QUESTIONS=1000 VOTES=10000 bench/run.sh
#   SEARCH_CONNECTIONS=4              # connections of the search targets (i) and (j)
#   BENCH_BUFFER_POOL_MB=2048         # MariaDB's buffer pool during the run (restored after)
#
# Each target runs ROUNDS times (default 3); the median run's requests/s, p50/p99 latency and
# errors are reported with the ratio against (a): a bare route of the same server returning a fixed
# body of the question page's size (enabled only by BEEBETA_BENCH_BARE_BYTES). At the end it checks
# that every counter equals its ledger rows and that the votes acknowledged in (g) equal the
# ballots added. (k) votes random rankings on the demo's ranked question (`seed-demo` adds it);
# its counters of distinct rankings are checked against the ledger's rankings too, and the
# instant-runoff count of 10 choices × 100,000 ballots is timed (a release build of the domain
# crate's `runoff_at_scale`). Everything it starts is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND=sqlite
MEMCACHED=no
LIMITS=off
SCALE=small
VOTES_ONLY=no
SEARCH_ONLY=no
while [ $# -gt 0 ]; do
  case "$1" in
    --mysql) BACKEND=mysql ;;
    --memcached) MEMCACHED=yes ;;
    --votes-only) VOTES_ONLY=yes ;;
    --search-only) SEARCH_ONLY=yes ;;
    --limits) LIMITS=on ;;
    --scale) SCALE="${2:?--scale needs small or large}"; shift ;;
    --scale=*) SCALE="${1#--scale=}" ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$SCALE" in
  small) ;;
  # The large data set: 1M questions, 10M votes (bulk-loaded by `beebeta generate`).
  large) QUESTIONS="${QUESTIONS:-1000000}"; VOTES="${VOTES:-10000000}" ;;
  *) echo "unknown scale $SCALE: small or large" >&2; exit 2 ;;
esac
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
SEARCH_CONNECTIONS="${SEARCH_CONNECTIONS:-4}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
PORT="${PORT:-18080}"
QUESTIONS="${QUESTIONS:-1000}"
VOTES="${VOTES:-10000}"
OUT=bench/out
mkdir -p "$OUT"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

FEATURES=()
POOL_BEFORE=""
if [ "$BACKEND" = mysql ]; then
  FEATURES=(--features mysql)
  # BENCH_BUFFER_POOL_MB: InnoDB's buffer pool for the run (restored at exit). The large data set
  # is 1.7 GB with the search index; on the default 128 MB every search reads from disk.
  if [ -n "${BENCH_BUFFER_POOL_MB:-}" ]; then
    POOL_BEFORE=$(mysql -h127.0.0.1 -uroot -N -e "SELECT @@innodb_buffer_pool_size")
    mysql -h127.0.0.1 -uroot -e "SET GLOBAL innodb_buffer_pool_size = $((BENCH_BUFFER_POOL_MB * 1024 * 1024))"
  fi
  mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS beebeta_bench; CREATE DATABASE beebeta_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
  export BEEBETA_DATABASE_URL=mysql://root@127.0.0.1:3306/beebeta_bench
else
  rm -f "$OUT"/bench.db*
  export BEEBETA_DATABASE_URL="sqlite://$OUT/bench.db"
fi
export BEEBETA_SECRET_KEY="$(head -c 64 /dev/urandom | base64 -w0)"
# No mail server here: emails (links included) go to the log, chosen explicitly.
export BEEBETA_SMTP_URL=log
export BEEBETA_SEED_DEMO=false BEEBETA_LOG_FILTER=warn BEEBETA_LIMITS=$LIMITS ROCKET_PORT="$PORT" ROCKET_ADDRESS=127.0.0.1
# With --limits: every check runs (in the shared cache with --memcached) but none refuses.
export BEEBETA_LIMITS_VOTE=100000000/second BEEBETA_LIMITS_SEARCH=100000000/second BEEBETA_LIMITS_SUGGEST=100000000/second
# Searches are not served from the cache here: (i) and (j) measure the database's full-text index.
export BEEBETA_CACHE_SEARCH_SECS=0
export BEEBETA_DB_POOL_SIZE="${BEEBETA_DB_POOL_SIZE:-32}"

PIDS=()
SERVER=""
MC=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$POOL_BEFORE" ]; then
    mysql -h127.0.0.1 -uroot -e "SET GLOBAL innodb_buffer_pool_size = $POOL_BEFORE" || true
  fi
}
trap cleanup EXIT
if [ "$MEMCACHED" = yes ]; then
  command -v memcached >/dev/null || { apt-get update -qq && apt-get install -y -qq memcached >/dev/null; }
  MC_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  memcached -u nobody -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 64 &
  MC=$!
  PIDS+=("$MC")
  export BEEBETA_CACHE="memcache://127.0.0.1:$MC_PORT" BEEBETA_CACHE_PREFIX="bench$$"
fi

if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
  echo "using $BIN (BENCH_BIN; not rebuilt)"
else
  echo "building release binary (${FEATURES[*]:-default features})"
  cargo build --release "${FEATURES[@]}" -q
  BIN=target/release/beebeta
fi
"$BIN" generate --questions "$QUESTIONS" --votes "$VOTES" --seed 1
# The demo content adds ranked questions for (k).
"$BIN" seed-demo --force > /dev/null

start_server() { # sets SERVER and COLD_MS (exec to first healthy answer)
  local t0
  t0=$(date +%s%N)
  "$BIN" serve > "$OUT/server.log" 2>&1 &
  SERVER=$!
  PIDS+=("$SERVER")
  for _ in $(seq 1 500); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.01; done
  COLD_MS=$((($(date +%s%N) - t0) / 1000000))
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }

BASE="http://127.0.0.1:$PORT"
start_server
QPATH=$(curl -fs "$BASE/api/v1/questions?sort=top" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["url"])')
PAGE_BYTES=$(curl -fs "$BASE$QPATH" | wc -c)
stop_server
export BEEBETA_BENCH_BARE_BYTES="$PAGE_BYTES"
start_server

QID=$(echo "$QPATH" | cut -d/ -f3)
CHOICE=$(curl -fs "$BASE/api/v1/questions/$QID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["id"])')
TAG=$(curl -fs "$BASE/api/v1/tags" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["name"])')
cat > "$OUT/vote.lua" <<LUA
wrk.method = "PUT"
wrk.body = '{"choices":[$CHOICE]}'
wrk.headers["Content-Type"] = "application/json"
LUA
# (k): random rankings (1 to all choices, in random order) of the demo's ranked question, each
# request a new voter.
RQID=$(curl -fs "$BASE/api/v1/questions?q=pizza+toppings" | python3 -c 'import json,sys; print([i for i in json.load(sys.stdin)["items"] if i["title"].startswith("Rank these pizza")][0]["id"])')
RCHOICES=$(curl -fs "$BASE/api/v1/questions/$RQID" | python3 -c 'import json,sys; print(",".join(str(c["id"]) for c in json.load(sys.stdin)["choices"]))')
cat > "$OUT/rank.lua" <<LUA
local ids = {$RCHOICES}
math.randomseed(os.time())
request = function()
  local t = {}
  for i = 1, #ids do t[i] = ids[i] end
  for i = #t, 2, -1 do local j = math.random(i); t[i], t[j] = t[j], t[i] end
  local n = math.random(#t)
  local parts = {}
  for i = 1, n do parts[i] = t[i] end
  return wrk.format("PUT", "/api/v1/questions/$RQID/vote", {["Content-Type"] = "application/json"},
    '{"ranking":[' .. table.concat(parts, ",") .. ']}')
end
LUA
# (f): a random open (question, first choice) pair per request; no cookies, so every request is a new voter.
# Among the 250 newest questions (the demo's after `seed-demo`, then generated ones).
python3 - "$BASE" > "$OUT/spread.lua" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
pairs = []
for page in range(1, 6):
    items = json.load(urllib.request.urlopen(f"{base}/api/v1/questions?sort=new&page={page}"))["items"]
    for it in items:
        q = json.load(urllib.request.urlopen(f"{base}/api/v1/questions/{it['id']}"))
        # Not account (needs a login) nor network (one address: refused past the daily limit),
        # nor ranked (votes are rankings: (k)).
        if (q["status"] == "open" and q.get("kind") != "ranked"
                and q.get("protection", q.get("duplicate_protection")) not in ("account", "network")):
            pairs.append((q["id"], q["choices"][0]["id"]))
print("local pairs = {" + ",".join("{%d,%d}" % p for p in pairs) + "}")
print("math.randomseed(os.time())")
print("request = function()")
print("  local p = pairs[math.random(#pairs)]")
print("  return wrk.format(\"PUT\", \"/api/v1/questions/\" .. p[1] .. \"/vote\",")
print("    {[\"Content-Type\"] = \"application/json\"}, '{\"choices\":[' .. p[2] .. ']}')")
print("end")
PY

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v}'; }
ACKED=0
measure() { # url [script] -> "rps p50_ms p99_ms errors" of the median run; adds 2xx answers to $OUT/acked
  local url=$1 script=${2:-} rows=()
  : > "$OUT/acked"
  for _ in $(seq 1 "$ROUNDS"); do
    local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency)
    [ -n "$script" ] && args+=(-s "$script")
    local outp rps p50 p99 errs reqs
    outp=$(wrk "${args[@]}" "$url")
    rps=$(echo "$outp" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$outp" | awk '$1=="50%" {print $2}' | to_ms)
    p99=$(echo "$outp" | awk '$1=="99%" {print $2}' | to_ms)
    errs=$(echo "$outp" | awk '/Non-2xx/ {n+=$NF} /Socket errors/ {gsub(",",""); n+=$4+$6+$8+$10} END {print n+0}')
    reqs=$(echo "$outp" | awk '/requests in/ {print $1}')
    echo $((reqs - errs)) >> "$OUT/acked"
    rows+=("$rps $p50 $p99 $errs")
  done
  printf '%s\n' "${rows[@]}" | sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'
}
ballots() { # [question id, default $QID]
  curl -fs "$BASE/api/v1/questions/${1:-$QID}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_votes"])'
}

# Where the CPU of a vote goes (the machine's two cores are shared by wrk, the app and the
# database): jiffies of each process and of the whole machine, before and after (f).
jiffies() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_sample() { # machine_busy machine_iowait app db memcached
  local db_pid mc=0
  db_pid=$(pgrep -o -x mariadbd || pgrep -o -x mysqld || true)
  [ -n "$MC" ] && mc=$(jiffies "$MC")
  echo "$(awk '/^cpu / {print $2+$3+$4+$7+$8, $6}' /proc/stat) $(jiffies "$SERVER") $( [ -n "$db_pid" ] && jiffies "$db_pid" || echo 0) $mc"
}
fsyncs() {
  [ "$BACKEND" = mysql ] || { echo 0; return; }
  mysql -h127.0.0.1 -uroot -N -e "SHOW GLOBAL STATUS LIKE 'Innodb_data_fsyncs'" | awk '{print $2+0} END {if (NR == 0) print 0}'
}
# MariaDB's statement counters (all sessions; the app is the only busy one during a target).
STMT_VARS="Com_stmt_prepare Com_stmt_execute Com_stmt_close Com_stmt_reset Com_begin Com_commit Com_rollback Com_set_option Com_select Com_insert Com_insert_select Com_update Questions"
stmts() {
  [ "$BACKEND" = mysql ] || { echo ""; return; }
  local names
  names=$(echo "$STMT_VARS" | sed "s/[^ ]*/'&'/g; s/ /,/g")
  mysql -h127.0.0.1 -uroot -N -e "SHOW GLOBAL STATUS WHERE Variable_name IN ($names)" | awk '{printf "%s=%s ", $1, $2}'
}
# CPU per answered request of one target, by process (for the capacity model, infra/CAPACITY.md).
cpu_line() { # label cpu0 cpu1
  local n
  n=$(awk '{n+=$1} END {print n+0}' "$OUT/acked")
  python3 - "$1" "$2" "$3" "$n" "$(getconf CLK_TCK)" <<'PY'
import sys
label, a, b, n, tck = sys.argv[1], *[list(map(int, x.split())) for x in sys.argv[2:4]], int(sys.argv[4]), int(sys.argv[5])
busy, _, app, db, mc = [y - x for x, y in zip(a, b)]
us = lambda j: j * 1e6 / tck / max(n, 1)
print(f"    {label} CPU per request over {n}: app {us(app):.1f} us, database {us(db):.1f} us, "
      f"memcached {us(mc):.1f} us, rest {us(busy - app - db - mc):.1f} us")
PY
}
paged() { # label url [script]: measures a page target and prints its row and its CPU per request
  local c0 c1 r p50 p99 e
  c0=$(cpu_sample)
  read -r r p50 p99 e <<< "$(measure "$2" "${3:-}")"
  c1=$(cpu_sample)
  row "$1" "$r" "$p50" "$p99" "$e"
  cpu_line "$(echo "$1" | cut -d' ' -f1)" "$c0" "$c1"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "backend=$BACKEND cache=${BEEBETA_CACHE:-memory} questions=$QUESTIONS votes=$VOTES duration=${DURATION}s connections=$CONNECTIONS rounds=$ROUNDS page=${PAGE_BYTES}B cold_start=${COLD_MS}ms"
printf '%-40s %10s %9s %9s %7s %9s\n' target req/s p50_ms p99_ms errors "% of (a)"
read -r base bp50 bp99 berr <<< "$(measure "$BASE/bench/bare")"
printf '%-40s %10s %9s %9s %7s %9s\n' "(a) bare route, ${PAGE_BYTES} B" "$base" "$bp50" "$bp99" "$berr" "100.0"
row() { # label rps p50 p99 errors
  printf '%-40s %10s %9s %9s %7s %9s\n' "$1" "$2" "$3" "$4" "$5" "$(echo "$2 $base" | awk '{printf "%.1f", 100*$1/$2}')"
}
# What request ids, the request log, request metrics and error reports cost: the bare route of a
# second server of the same binary without them (the first one idle meanwhile).
PLAIN_PORT=$((PORT + 1))
BEEBETA_BENCH_WITHOUT_TELEMETRY=true ROCKET_PORT=$PLAIN_PORT "$BIN" serve > "$OUT/plain.log" 2>&1 &
PLAIN=$!
PIDS+=("$PLAIN")
for _ in $(seq 1 500); do curl -fs "http://127.0.0.1:$PLAIN_PORT/healthz" >/dev/null && break; sleep 0.01; done
read -r plain pp50 pp99 perr <<< "$(measure "http://127.0.0.1:$PLAIN_PORT/bench/bare")"
kill "$PLAIN" 2>/dev/null || true; wait "$PLAIN" 2>/dev/null || true
row "    (a) without ids, log, metrics, reports" "$plain" "$pp50" "$pp99" "$perr"
echo "$base $plain $(nproc)" | awk '{printf "per-request telemetry on the bare route: %.1f us of machine CPU per request (%.1f %% of the route without it)\n", $3*1e6/$1 - $3*1e6/$2, 100*($2/$1 - 1)}'
if [ "$VOTES_ONLY" = no ] && [ "$SEARCH_ONLY" = no ]; then
  read -r r p50 p99 e <<< "$(measure "$BASE/healthz")"; row "    /healthz" "$r" "$p50" "$p99" "$e"
  paged "(b) hot question page" "$BASE$QPATH"
  paged "(c) home page" "$BASE/"
  paged "(d) tag page /t/$TAG" "$BASE/t/$TAG"
  paged "(e) JSON results" "$BASE/api/v1/questions/$QID/results"
fi
if [ "$VOTES_ONLY" = no ]; then
  # (i) searches of one or two real words drawn from 400 random generated titles, (j) the search
  # box's suggestions for their first 3 to 6 letters; not cached (BEEBETA_CACHE_SEARCH_SECS=0).
  # Then the same words through the LIKE scan the index replaced, and the index's size.
  python3 bench/search.py queries "$BACKEND" "$BEEBETA_DATABASE_URL" "$OUT"
  # Latency at a moderate load (SEARCH_CONNECTIONS, default 4): with 32 connections on two cores
  # a search's p99 would be the queue's length, not the search's.
  CONNECTIONS=$SEARCH_CONNECTIONS paged "(i) search, 1-2 words (API, uncached, -c$SEARCH_CONNECTIONS)" "$BASE/api/v1/questions" "$OUT/search.lua"
  CONNECTIONS=$SEARCH_CONNECTIONS paged "(j) search box suggestions (uncached, -c$SEARCH_CONNECTIONS)" "$BASE/api/v1/search/suggest" "$OUT/suggest.lua"
  python3 bench/search.py compare "$BACKEND" "$BEEBETA_DATABASE_URL" "$OUT"
fi
if [ "$SEARCH_ONLY" = yes ]; then
  exit 0
fi
cpu0=$(cpu_sample); fs0=$(fsyncs); st0=$(stmts)
read -r r p50 p99 e <<< "$(measure "$BASE/api/v1/questions/$QID" "$OUT/spread.lua")"; row "(f) votes over many questions" "$r" "$p50" "$p99" "$e"
cpu1=$(cpu_sample); fs1=$(fsyncs); st1=$(stmts)
FRATE=$r
f_votes=$(awk '{n+=$1} END {print n+0}' "$OUT/acked")
python3 - "$cpu0" "$cpu1" "$f_votes" "$fs0" "$fs1" "$(getconf CLK_TCK)" "$(nproc)" <<'PY'
import sys
a, b = [list(map(int, x.split())) for x in sys.argv[1:3]]
votes, fs0, fs1, tck, cores = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
d = [y - x for x, y in zip(a, b)]
busy, iowait, app, db, mc = d
us = lambda j: j * 1e6 / tck / max(votes, 1)
other = busy - app - db - mc
total = us(busy)
print(f"(f) CPU per vote over {votes} votes: app {us(app):.0f} us, database {us(db):.0f} us, "
      f"memcached {us(mc):.0f} us, rest (wrk, kernel) {us(other):.0f} us = {total:.0f} us; "
      f"{cores} cores fully busy would allow {cores * 1e6 / max(total, 1):.0f} votes/s; "
      f"iowait {us(iowait):.0f} us/vote; InnoDB fsyncs per vote {(fs1 - fs0) / max(votes, 1):.3f}")
PY
if [ -n "$st0" ]; then
  python3 - "$st0" "$st1" "$f_votes" <<'PY'
import sys
parse = lambda s: {k: int(v) for k, v in (kv.split("=") for kv in s.split())}
a, b, votes = parse(sys.argv[1]), parse(sys.argv[2]), max(int(sys.argv[3]), 1)
short = lambda k: k.replace("Com_stmt_", "").replace("Com_", "").lower()
print("(f) MariaDB statements per vote: " + ", ".join(
    f"{short(k)} {(b[k] - a.get(k, 0)) / votes:.2f}" for k in b))
PY
fi
sleep 2
before=$(ballots)
read -r r p50 p99 e <<< "$(measure "$BASE/api/v1/questions/$QID/vote" "$OUT/vote.lua")"; row "(g) votes on one question" "$r" "$p50" "$p99" "$e"
echo "(g) / (f): $(echo "$r $FRATE" | awk '{printf "%.1f", 100*$1/$2}') %"
acked=$(awk '{n+=$1} END {print n+0}' "$OUT/acked")
sleep 2
rbefore=$(ballots "$RQID")
read -r r p50 p99 e <<< "$(measure "$BASE/api/v1/questions/$RQID/vote" "$OUT/rank.lua")"; row "(k) ranked votes on one question" "$r" "$p50" "$p99" "$e"
racked=$(awk '{n+=$1} END {print n+0}' "$OUT/acked")
if [ -n "$MC" ] && [ "$VOTES_ONLY" = no ]; then
  kill "$MC"; wait "$MC" 2>/dev/null || true
  read -r r p50 p99 e <<< "$(measure "$BASE$QPATH")"; row "(h) question page, memcached stopped" "$r" "$p50" "$p99" "$e"
  read -r r p50 p99 e <<< "$(measure "$BASE/")"; row "(h) home page, memcached stopped" "$r" "$p50" "$p99" "$e"
fi
RSS_KB=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
echo "app RSS after load: $((RSS_KB / 1024)) MB; cold start: ${COLD_MS} ms"
sleep 2
added=$(( $(ballots) - before ))
radded=$(( $(ballots "$RQID") - rbefore ))
echo "(g) acknowledged votes: $acked; ballots added: $added"
echo "(k) acknowledged rankings: $racked; ballots added: $radded; rounds: $(curl -fs "$BASE/api/v1/questions/$RQID/results" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r["rounds"]), "winner", r["winner"])')"

# Exactness: every counter (per question, choice or ballots, and trust level) equals its ledger
# rows, and no ledger rows lack their counter.
# wrk does not count the requests still in flight when a run ends, but the server commits them: up
# to one per connection per round may be added without being counted as acknowledged.
python3 - "$BACKEND" "$BEEBETA_DATABASE_URL" "$acked" "$added" "$((CONNECTIONS * ROUNDS))" "$racked" "$radded" <<'PY'
import subprocess, sys
backend, url, acked, added, in_flight = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
racked, radded = int(sys.argv[6]), int(sys.argv[7])
q = """SELECT COUNT(*) FROM (
  SELECT c.question_id, c.choice_id, c.trust, c.n, COALESCE(l.n, 0) AS ledger FROM
    (SELECT question_id, choice_id, trust, SUM(votes) AS n FROM vote_counts
     GROUP BY question_id, choice_id, trust) c
    LEFT JOIN ledger l
    ON l.question_id = c.question_id AND l.choice_id = c.choice_id AND l.trust = c.trust
  WHERE c.n <> COALESCE(l.n, 0)
  UNION ALL
  SELECT l.question_id, l.choice_id, l.trust, 0, l.n FROM ledger l
    LEFT JOIN (SELECT DISTINCT question_id, choice_id, trust FROM vote_counts) c
    ON l.question_id = c.question_id AND l.choice_id = c.choice_id AND l.trust = c.trust
  WHERE c.question_id IS NULL) bad"""
# The ledger per question, choice (0: ballots) and trust level (as vote_counts codes them).
CODE = "CASE {} WHEN 'cookie' THEN 0 WHEN 'network' THEN 1 WHEN 'account' THEN 2 ELSE 3 END"
LEDGER = f"""(SELECT v.question_id, v.choice_id, {CODE.format('b.trust')} AS trust, COUNT(*) AS n
    FROM votes v JOIN ballots b ON b.id = v.ballot_id GROUP BY v.question_id, v.choice_id, trust
  UNION ALL SELECT question_id, 0, {CODE.format('trust')} AS trust, COUNT(*) FROM ballots
    GROUP BY question_id, trust)"""
q = q.replace("ledger l", LEDGER + " l")
levels = "SELECT trust, SUM(votes) FROM vote_counts WHERE choice_id = 0 GROUP BY trust ORDER BY trust"
# Ranked questions: the counters of distinct rankings per trust level against the ledger's
# rankings, both ways.
RLEDGER = f"""(SELECT r.question_id, r.ranking, {CODE.format('b.trust')} AS trust, COUNT(*) AS n
    FROM rankings r JOIN ballots b ON b.id = r.ballot_id GROUP BY r.question_id, r.ranking, trust)"""
rq = f"""SELECT COUNT(*) FROM (
  SELECT c.question_id FROM
    (SELECT question_id, ranking, trust, SUM(votes) AS n FROM ranking_counts
     GROUP BY question_id, ranking, trust) c
    LEFT JOIN {RLEDGER} l
    ON l.question_id = c.question_id AND l.ranking = c.ranking AND l.trust = c.trust
  WHERE c.n <> COALESCE(l.n, 0)
  UNION ALL
  SELECT l.question_id FROM {RLEDGER} l
    LEFT JOIN (SELECT DISTINCT question_id, ranking, trust FROM ranking_counts) c
    ON l.question_id = c.question_id AND l.ranking = c.ranking AND l.trust = c.trust
  WHERE c.question_id IS NULL) bad"""
if backend == "mysql":
    run = lambda sql: subprocess.check_output(["mysql", "-h127.0.0.1", "-uroot", "-N", "beebeta_bench", "-e", sql]).decode().strip()
    out = run(q)
    rout = run(rq)
    per_level = [line.split("\t") for line in run(levels).splitlines()]
else:
    import sqlite3
    db = sqlite3.connect(url.removeprefix("sqlite://"))
    out = str(db.execute(q).fetchone()[0])
    rout = str(db.execute(rq).fetchone()[0])
    per_level = db.execute(levels).fetchall()
names = {0: "browser", 1: "network", 2: "account", 3: "verified"}
print("ballots per trust level: " + ", ".join(f"{names.get(int(t), t)} {int(n)}" for t, n in per_level))
ok_acks = acked <= added <= acked + in_flight and racked <= radded <= racked + in_flight
ok = out == "0" and rout == "0" and ok_acks
print(f"counting errors (counters per trust level that differ from the ledger): {out}; "
      f"ranking counters that differ from the ledger's rankings: {rout}; "
      f"ballots added - acknowledged: (g) {added - acked}, (k) {radded - racked} "
      f"(allowed 0..{in_flight}, in flight at the end) -> {'OK' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
PY

# The instant-runoff count at scale: 10 choices, 100,000 ballots (release build, pure count).
cargo test -q -p beebeta-domain --release --lib runoff_at_scale -- --ignored --nocapture 2>&1 | grep -o 'runoff: .*' || true
