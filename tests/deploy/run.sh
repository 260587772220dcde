#!/usr/bin/env bash
# The deployment, run for real on loopback: Debian's nginx with the shipped configuration
# (infra/nginx/render.sh) in front of two release app servers on MariaDB and memcached. Through
# nginx it checks pages and votes, the live stream across servers, static files served by nginx
# itself, that a client's X-Forwarded-For / X-Real-IP never reach the app, then a rolling restart
# under load (every answer 2xx or a 503 with Retry-After; acknowledged votes = ledger rows =
# counters) and a SIGKILL under load (no acknowledged vote lost; traffic goes to the other server).
# The servers run from a folder with nothing but the binary beside them (one self-contained
# binary), and the schema is applied by `beebeta migrate` given only the database URL.
# Everything it starts is stopped by PID and the database is dropped, also on failure.
#
#   tests/deploy/run.sh     (needs MariaDB on 127.0.0.1:3306, memcached, nginx, wrk, curl)
#   BEEBETA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test  (default)
#   BEEBETA_BIN=target/release/beebeta  (default; built with --features mysql if missing)
#   LOAD_SECONDS=16 (the rolling restart's load; at least 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

MYSQL_URL=${BEEBETA_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
BIN=${BEEBETA_BIN:-target/release/beebeta}
if [ ! -x "$BIN" ]; then
  cargo build --release --features mysql -q
fi
BIN=$(realpath "$BIN")
LOAD_SECONDS=${LOAD_SECONDS:-16}
CONNECTIONS=${CONNECTIONS:-16}
for tool in nginx wrk curl memcached mysql python3; do
  command -v "$tool" > /dev/null || { echo "tests/deploy/run.sh needs $tool"; exit 1; }
done

WORK=$(mktemp -d)
# nginx's workers (a different user when the master runs as root) read the exported assets.
chmod 755 "$WORK"
DB="beebeta_deploy_$(date +%s)_$$"
PIDS=()
A_PID=""
B_PID=""
NGINX_PID=""
pass=0
fail=0
cleanup() {
  for p in $A_PID $B_PID $NGINX_PID "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in $A_PID $B_PID $NGINX_PID "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  mysql --protocol=tcp -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS \`$DB\`" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }
sql() { mysql --protocol=tcp -h127.0.0.1 -uroot -N -B "$DB" -e "$1"; }
now_ms() { date +%s%3N; }

mysql --protocol=tcp -h127.0.0.1 -uroot -e "CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
DB_URL="${MYSQL_URL%/*}/$DB"

# Nothing beside the binary: not the repository's templates, static files or migrations.
RUN="$WORK/run"
mkdir -p "$RUN"
cp "$BIN" "$RUN/beebeta"
cd "$RUN"

# The migration job needs only the database URL (no secret key, no other setting).
if env -i PATH="$PATH" HOME="$WORK" BEEBETA_DATABASE_URL="$DB_URL" ./beebeta migrate > "$WORK/migrate.log" 2>&1; then
  ok "beebeta migrate with only BEEBETA_DATABASE_URL exits 0 ($(tail -1 "$WORK/migrate.log"))"
else
  not_ok "beebeta migrate with only BEEBETA_DATABASE_URL exits 0"; cat "$WORK/migrate.log"
fi
BEEBETA_DATABASE_URL="$DB_URL" ./beebeta generate --questions 300 --votes 3000 --seed 7 > /dev/null
./beebeta assets export "$WORK/static" > "$WORK/export.log"
ok "static assets exported ($(cat "$WORK/export.log"))"
# One question protected by the network window (at most 5 new ballots per network per day).
NETQ=$(sql "SELECT MIN(id) FROM questions WHERE closes_at IS NULL AND protection <> 'account'")
sql "UPDATE questions SET protection = 'network' WHERE id = $NETQ"

MC_PORT=$(free_port)
memcached -u nobody -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 32 &
PIDS+=($!)
PORT_A=$(free_port)
PORT_B=$(free_port)
PORT_N=$(free_port)
SITE="http://127.0.0.1:$PORT_N"
export BEEBETA_DATABASE_URL="$DB_URL"
export BEEBETA_SECRET_KEY
BEEBETA_SECRET_KEY=$(head -c 64 /dev/urandom | base64 -w0)
# Sign-up and reset links never land in a production log unasked: on MySQL, no BEEBETA_SMTP_URL
# is no server.
if env -i PATH="$PATH" HOME="$WORK" BEEBETA_DATABASE_URL="$DB_URL" BEEBETA_SECRET_KEY="$BEEBETA_SECRET_KEY" \
    ROCKET_PORT="$(free_port)" timeout 20 ./beebeta serve > "$WORK/nosmtp.log" 2>&1; then
  not_ok "a server on MySQL without BEEBETA_SMTP_URL refuses to start"
elif grep -q "BEEBETA_SMTP_URL" "$WORK/nosmtp.log"; then
  ok "a server on MySQL without BEEBETA_SMTP_URL refuses to start, naming the setting"
else
  not_ok "a server on MySQL without BEEBETA_SMTP_URL refuses to start, naming the setting"; tail -3 "$WORK/nosmtp.log"
fi
# No mail server here: emails (links included) go to the log, chosen explicitly.
export BEEBETA_SMTP_URL=log
export BEEBETA_CACHE="memcache://127.0.0.1:$MC_PORT" BEEBETA_CACHE_PREFIX="deploy$$"
export BEEBETA_PUBLIC_URL="$SITE" BEEBETA_LIMITS=off BEEBETA_LOG_FILTER=warn BEEBETA_SEED_DEMO=false
export BEEBETA_MIGRATE_ON_START=false BEEBETA_HOT_REFRESH_SECS=0 BEEBETA_REPORT_REFRESH_SECS=0
export BEEBETA_MEDIA=memory:// BEEBETA_COMPRESS=false

start() { # A|B: starts that server and waits until it is ready; STARTED_MS: exec to ready
  local name=$1 port t0
  port=$([ "$name" = A ] && echo "$PORT_A" || echo "$PORT_B")
  t0=$(now_ms)
  ROCKET_PORT=$port ROCKET_ADDRESS=127.0.0.1 ./beebeta serve >> "$WORK/$name.log" 2>&1 &
  if [ "$name" = A ]; then A_PID=$!; else B_PID=$!; fi
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break; sleep 0.02; done
  STARTED_MS=$(($(now_ms) - t0))
}
stop() { # A|B [signal]: stops that server and waits for it; STOPPED_MS: signal to exit
  local pid t0
  pid=$([ "$1" = A ] && echo "$A_PID" || echo "$B_PID")
  t0=$(now_ms)
  kill "-${2:-TERM}" "$pid"
  wait "$pid" 2>/dev/null || true
  if [ "$1" = A ]; then A_PID=""; else B_PID=""; fi
  STOPPED_MS=$(($(now_ms) - t0))
}
start A
start B
curl -sf "http://127.0.0.1:$PORT_A/readyz" > /dev/null && curl -sf "http://127.0.0.1:$PORT_B/readyz" > /dev/null \
  || { tail -20 "$WORK"/A.log "$WORK"/B.log; echo "app servers did not start"; exit 1; }

mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
LISTEN="127.0.0.1:$PORT_N" UPSTREAMS="127.0.0.1:$PORT_A 127.0.0.1:$PORT_B" STATIC_ROOT="$WORK/static" \
  PREFIX="$WORK/nginx" WORKERS=1 API_RATE=100000r/s "$ROOT/infra/nginx/render.sh" > "$WORK/nginx/nginx.conf"
nginx -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/error.log" -g 'daemon off;' &
NGINX_PID=$!
for _ in $(seq 1 100); do curl -sf "$SITE/healthz" > /dev/null && break; sleep 0.05; done

# --- Pages and a vote through nginx ---
code=$(curl -s -o "$WORK/home.html" -w '%{http_code}' "$SITE/")
check "the home page through nginx" '[ "$code" = 200 ] && grep -q "Hot questions" "$WORK/home.html"'
QID=$(curl -sf "$SITE/api/v1/questions?sort=new" | json 'next(i["id"] for i in d["items"] if i["status"] == "open" and i["id"] != '"$NETQ"')')
QPATH=$(curl -sf "$SITE/api/v1/questions/$QID" | json 'd["url"]')
CHOICE=$(curl -sf "$SITE/api/v1/questions/$QID" | json 'd["choices"][0]["id"]')
JAR="$WORK/voter.jar"
code=$(curl -s -o "$WORK/page.html" -w '%{http_code}' -c "$JAR" -b "$JAR" "$SITE$QPATH")
check "a question page through nginx" '[ "$code" = 200 ]'
token=$(grep -o 'name="csrf_token" value="[^"]*"' "$WORK/page.html" | head -1 | sed 's/.*value="//; s/"$//')
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$JAR" -b "$JAR" -H "Origin: $SITE" \
  --data-urlencode "csrf_token=$token" --data-urlencode "choice=$CHOICE" "$SITE/q/$QID/vote")
check "a form vote through nginx (303)" '[ "$code" = 303 ]'
code=$(curl -s -o "$WORK/vote.json" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  -d "{\"choices\":[$CHOICE]}" "$SITE/api/v1/questions/$QID/vote")
check "an API vote through nginx (200)" '[ "$code" = 200 ]'

# --- Static files come from nginx: hashed name, immutable, never the app ---
CSS=$(grep -o '/static/css/site\.[0-9a-f]*\.css' "$WORK/home.html" | head -1)
curl -s -D "$WORK/css.h" -o "$WORK/css.body" -H 'X-Request-Id: css-probe' "$SITE$CSS" > /dev/null
curl -s -D "$WORK/cssgz.h" -o /dev/null -H 'Accept-Encoding: gzip' "$SITE$CSS" > /dev/null
sleep 0.2
css_log=$(grep '"uri":"'"$CSS"'"' "$WORK/nginx/logs/access.log" | head -1)
static_ok() {
  grep -q " 200" "$WORK/css.h" && grep -qi "cache-control: public, max-age=31536000, immutable" "$WORK/css.h" \
    && grep -qi "content-encoding: gzip" "$WORK/cssgz.h" && echo "$css_log" | grep -q '"upstream":""' \
    || { sed 's/^/# /' "$WORK/css.h" "$WORK/cssgz.h"; echo "# log: $css_log"; false; }
}
check "static $CSS from nginx: 200, immutable, gzip variant, no upstream" 'static_ok'

# --- The client address: a client's forwarded headers never reach the app ---
codes=""
for i in 1 2 3 4 5 6 7 8; do
  c=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    -H "X-Forwarded-For: 198.51.100.$i" -H "X-Real-IP: 203.0.113.$i" \
    -d "{\"choices\":[$(curl -sf "$SITE/api/v1/questions/$NETQ" | json 'd["choices"][0]["id"]')]}" \
    "$SITE/api/v1/questions/$NETQ/vote")
  codes="$codes $c"
done
nets=$(sql "SELECT COUNT(DISTINCT ip_hash) FROM ballots WHERE question_id = $NETQ AND created_at > NOW() - INTERVAL 1 HOUR")
check "a network-protected question is not stuffed by rotating X-Forwarded-For / X-Real-IP (answers:$codes; networks seen: $nets)" \
  '[ "$codes" = " 200 200 200 200 200 429 429 429" ] && [ "$nets" = 1 ]'

# --- The live stream (through nginx) reports votes cast on either server within 2 s ---
LQ=$(curl -sf "$SITE/api/v1/questions?sort=new" | json '[i["id"] for i in d["items"] if i["status"] == "open" and i["id"] not in ('"$NETQ"','"$QID"')][0]')
LC=$(curl -sf "$SITE/api/v1/questions/$LQ" | json 'd["choices"][0]["id"]')
total=$(curl -sf "$SITE/api/v1/questions/$LQ/results" | json 'd["total"]')
curl -sN "$SITE/q/$LQ/live" > "$WORK/live.txt" &
LIVE=$!
PIDS+=("$LIVE")
sleep 1.2
live_ms=()
for port in "$PORT_A" "$PORT_B"; do
  total=$((total + 1))
  t0=$(now_ms)
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' -d "{\"choices\":[$LC]}" \
    "http://127.0.0.1:$port/api/v1/questions/$LQ/vote"
  got=""
  for _ in $(seq 1 40); do
    grep -q "\"total\":$total," "$WORK/live.txt" && { got=$(($(now_ms) - t0)); break; }
    sleep 0.05
  done
  live_ms+=("${got:-none}")
done
check "the live stream delivers a vote made on each server within 2 s (A: ${live_ms[0]} ms, B: ${live_ms[1]} ms)" \
  '[ "${live_ms[0]}" != none ] && [ "${live_ms[1]}" != none ] && [ "${live_ms[0]}" -le 2000 ] && [ "${live_ms[1]}" -le 2000 ]'
kill "$LIVE" 2>/dev/null || true

# --- Load: PUT votes by new voters over many questions, counting every answer ---
python3 - "$SITE" > "$WORK/votes.lua" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
pairs = []
for page in range(1, 4):
    items = json.load(urllib.request.urlopen(f"{base}/api/v1/questions?sort=new&page={page}"))["items"]
    for it in items:
        q = json.load(urllib.request.urlopen(f"{base}/api/v1/questions/{it['id']}"))
        if q["status"] == "open" and q["protection"] == "browser":
            pairs.append((q["id"], q["choices"][0]["id"]))
print("local vote_pairs = {" + ",".join("{%d,%d}" % p for p in pairs) + "}")
print("""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; busy = 0; bare = 0; other = 0; math.randomseed(os.time() + math.random(1000)) end
function request()
  local p = vote_pairs[math.random(#vote_pairs)]
  return wrk.format("PUT", "/api/v1/questions/" .. p[1] .. "/vote",
    {["Content-Type"] = "application/json"}, '{"choices":[' .. p[2] .. ']}')
end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1
  elseif status == 503 and (headers["Retry-After"] or headers["retry-after"]) then busy = busy + 1
  elseif status == 503 then bare = bare + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local t = {ok = 0, busy = 0, bare = 0, other = 0}
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
  end
  local e = summary.errors
  io.write(string.format("RESULT ok=%d busy=%d bare=%d other=%d socket=%d\\n",
    t.ok, t.busy, t.bare, t.other, e.connect + e.read + e.write + e.timeout))
end
""")
PY
ballots() { sql "SELECT COUNT(*) FROM ballots"; }
ledger_ok() { # every question's counters equal its ledger rows
  local bad
  bad=$(sql "
    SELECT COUNT(*) FROM (
      SELECT q.id,
        (SELECT COALESCE(SUM(votes), 0) FROM vote_counts c WHERE c.question_id = q.id AND c.choice_id = 0) AS counted,
        (SELECT COUNT(*) FROM ballots b WHERE b.question_id = q.id) AS ledger
      FROM questions q) t WHERE counted <> ledger;
    SELECT COUNT(*) FROM (
      SELECT ch.id,
        (SELECT COALESCE(SUM(votes), 0) FROM vote_counts c WHERE c.choice_id = ch.id) AS counted,
        (SELECT COUNT(*) FROM votes v WHERE v.choice_id = ch.id) AS ledger
      FROM choices ch) t WHERE counted <> ledger;" | awk '{n += $1} END {print n + 0}')
  [ "$bad" = 0 ]
}
result() { grep -o "RESULT.*" "$1" | sed "s/RESULT //" || { sed "s/^/# wrk: /" "$1" >&2; true; }; }
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

# CPU time (jiffies) of nginx's master and workers, for its cost per proxied request.
nginx_jiffies() {
  local pids
  pids="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"
  for p in $pids; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{n += $1} END {print n + 0}'
}

# --- Rolling restart under load: A is stopped and started again, then B ---
before=$(ballots)
nginx0=$(nginx_jiffies)
wrk -t1 -c"$CONNECTIONS" -d"${LOAD_SECONDS}s" -s "$WORK/votes.lua" "$SITE" > "$WORK/rolling.txt" 2>&1 &
WRK=$!
PIDS+=("$WRK")
sleep 3
stop A TERM; a_stop=$STOPPED_MS; start A; a_start=$STARTED_MS
sleep 2
stop B TERM; b_stop=$STOPPED_MS; start B; b_start=$STARTED_MS
wait "$WRK" || true
sleep 1
r=$(result "$WORK/rolling.txt")
after=$(ballots)
added=$((after - before))
acked=$(field "$r" ok)
nginx_us=$(python3 -c "import sys; j, n, t = map(int, sys.argv[1:]); print(round(j * 1e6 / t / max(n, 1), 1))" \
  "$(($(nginx_jiffies) - nginx0))" "$acked" "$(getconf CLK_TCK)")
echo "# rolling restart: $r; ballots added $added, acknowledged $acked; A stopped in ${a_stop} ms, ready again in ${a_start} ms; B ${b_stop} ms / ${b_start} ms; nginx CPU per proxied vote ${nginx_us} us"
check "rolling restart under load: every answer is 2xx or 503 with Retry-After ($r)" \
  '[ -n "$r" ] && [ "$(field "$r" bare)" = 0 ] && [ "$(field "$r" other)" = 0 ] && [ "$(field "$r" socket)" = 0 ] && [ "$acked" -gt 0 ]'
check "rolling restart: acknowledged votes ($acked) = ledger rows added ($added), ± $CONNECTIONS in flight" \
  '[ "$added" -ge "$acked" ] && [ $((added - acked)) -le "$CONNECTIONS" ]'
check "rolling restart: counters = ledger rows" 'ledger_ok'

# --- SIGKILL of one server under load ---
before=$(ballots)
wrk -t1 -c"$CONNECTIONS" -d10s -s "$WORK/votes.lua" "$SITE" > "$WORK/kill.txt" 2>&1 &
WRK=$!
PIDS+=("$WRK")
sleep 3
killed_at=$(now_ms)
stop A KILL
# A probe of the site right after the kill: how long until an answer, and how many failures.
first_ok=""; probe_fail=0
for _ in $(seq 1 100); do
  if curl -sf -o /dev/null -m 1 "$SITE/readyz"; then
    [ -z "$first_ok" ] && first_ok=$(($(now_ms) - killed_at))
  else
    probe_fail=$((probe_fail + 1))
  fi
  sleep 0.02
done
wait "$WRK" || true
sleep 1
r=$(result "$WORK/kill.txt")
after=$(ballots)
added=$((after - before))
acked=$(field "$r" ok)
echo "# SIGKILL: $r; ballots added $added, acknowledged $acked; first answer through nginx ${first_ok:-none} ms after the kill, $probe_fail of 100 probes failed"
check "SIGKILL under load: no acknowledged vote lost (acknowledged $acked <= ledger rows added $added)" \
  '[ -n "$acked" ] && [ "$acked" -gt 0 ] && [ "$added" -ge "$acked" ]'
check "SIGKILL: counters = ledger rows" 'ledger_ok'
check "SIGKILL: nginx answers from the other server within 1 s (${first_ok:-none} ms, $probe_fail probes failed)" \
  '[ -n "$first_ok" ] && [ "$first_ok" -le 1000 ] && [ "$probe_fail" = 0 ]'
start A

echo "1..$((pass + fail))"
echo "# pass $pass"
echo "# fail $fail"
if [ "$fail" -gt 0 ]; then
  tail -20 "$WORK/A.log" "$WORK/B.log" "$WORK/nginx/logs/error.log"
  exit 1
fi
