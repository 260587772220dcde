#!/usr/bin/env bash
# Two app servers are one site: starts two release-build servers on free loopback ports, sharing a
# fresh MariaDB database and a memcached started for the test, and checks that
#   1. a vote cast through one is counted by the other,
#   2. a voter cookie and a login session issued by one are valid on the other,
#   3. the live results stream of one reports a vote cast on the other.
# Everything it starts is stopped by PID and the database is dropped, also on failure.
#
#   tests/two-servers/run.sh            (needs MariaDB on 127.0.0.1:3306, memcached, curl)
#   BEEBETA_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test  (default)
#   BEEBETA_BIN=target/release/beebeta  (default; built with --features mysql if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."

MYSQL_URL=${BEEBETA_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
BIN=${BEEBETA_BIN:-target/release/beebeta}
if [ ! -x "$BIN" ] || [ -z "${BEEBETA_BIN:-}" ]; then
  cargo build --release --features mysql -q
fi

WORK=$(mktemp -d)
DB="beebeta_two_$(date +%s)_$$"
PIDS=()
pass=0
fail=0
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  mysql --protocol=tcp -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS \`$DB\`" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $1"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }

mysql --protocol=tcp -h127.0.0.1 -uroot -e "CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
BASE=${MYSQL_URL%/*}
MC_PORT=$(free_port)
memcached -u nobody -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 32 &
PIDS+=($!)

export BEEBETA_DATABASE_URL="$BASE/$DB"
export BEEBETA_SECRET_KEY
BEEBETA_SECRET_KEY=$(head -c 64 /dev/urandom | base64 -w0)
# No mail server here: emails (links included) go to the log, chosen explicitly.
export BEEBETA_SMTP_URL=log
export BEEBETA_CACHE="memcache://127.0.0.1:$MC_PORT"
export BEEBETA_CACHE_PREFIX="two$$"
export BEEBETA_LIMITS=off BEEBETA_LOG_FILTER=warn,beebeta::mail=info BEEBETA_SEED_DEMO=true
PORT_A=$(free_port)
PORT_B=$(free_port)
A="http://127.0.0.1:$PORT_A"
B="http://127.0.0.1:$PORT_B"
# Both servers use the same public URL (the balancer's), so forms posted to either are same-origin.
export BEEBETA_PUBLIC_URL="http://127.0.0.1:$PORT_A"
BEEBETA_PORT=$PORT_A "$BIN" serve > "$WORK/a.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "$A/healthz" > /dev/null && break; sleep 0.2; done
# The second starts once the first has migrated and seeded.
BEEBETA_PORT=$PORT_B BEEBETA_MIGRATE_ON_START=false "$BIN" serve > "$WORK/b.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "$B/healthz" > /dev/null && break; sleep 0.2; done
curl -sf "$A/healthz" > /dev/null && curl -sf "$B/healthz" > /dev/null || { cat "$WORK"/*.log; echo "servers did not start"; exit 1; }

QID=$(curl -sf "$A/api/v1/questions?sort=new" | json 'd["items"][0]["id"]')
CHOICE=$(curl -sf "$A/api/v1/questions/$QID" | json 'd["choices"][0]["id"]')
before=$(curl -sf "$B/api/v1/questions/$QID" | json 'd["total_votes"]')

# 3 (set up first): a live stream on B.
curl -sN "$B/q/$QID/live" > "$WORK/live.txt" &
LIVE=$!
PIDS+=("$LIVE")
sleep 1.5

# 1 and 2: vote on A with a cookie jar; B sees the vote and the same voter.
JAR="$WORK/voter.jar"
code=$(curl -s -o "$WORK/vote.json" -w '%{http_code}' -c "$JAR" -b "$JAR" -X PUT \
  -H 'Content-Type: application/json' -d "{\"choices\":[$CHOICE]}" "$A/api/v1/questions/$QID/vote")
check "a vote through server A is accepted" '[ "$code" = 200 ]'
mine=$(curl -sf -b "$JAR" "$B/api/v1/questions/$QID" | json 'd["ballot"]["choices"] if d["ballot"] else None')
check "server B knows the voter cookie issued by A (its ballot: $mine)" '[ "$mine" = "[$CHOICE]" ]'
seen=""
for _ in $(seq 1 50); do
  seen=$(curl -sf "$B/api/v1/questions/$QID" | json 'd["total_votes"]')
  [ "$seen" = "$((before + 1))" ] && break
  sleep 0.1
done
check "server B counts the vote cast on A ($before -> $seen)" '[ "$seen" = "$((before + 1))" ]'
for _ in $(seq 1 50); do
  grep -q "\"total\":$((before + 1))," "$WORK/live.txt" && break
  sleep 0.1
done
check "the live stream on B reports the vote cast on A" 'grep -q "\"total\":$((before + 1))," "$WORK/live.txt"'

# 2: a session from a sign-up on A is valid on B; logging out on B ends it on A.
SJAR="$WORK/session.jar"
token=$(curl -sf -c "$SJAR" -b "$SJAR" "$A/signup" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$SJAR" -b "$SJAR" -H "Origin: $A" \
  --data-urlencode "csrf_token=$token" --data-urlencode "username=twoservers" \
  --data-urlencode "email=two@example.com" --data-urlencode "password=correct horse battery staple" "$A/signup")
check "sign-up form on A" '[ "$code" = 303 ]'
# The link went to the address (here: A's log); following it makes the account and logs in.
link=""
for _ in $(seq 1 50); do
  link=$(grep -o '/signup/confirm?token=[A-Za-z0-9_-]*' "$WORK/a.log" | tail -1)
  [ -n "$link" ] && break
  sleep 0.1
done
token=$(curl -sf -c "$SJAR" -b "$SJAR" "$A$link" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$SJAR" -b "$SJAR" -H "Origin: $A" \
  --data-urlencode "csrf_token=$token" --data-urlencode "token=${link#*token=}" "$A/signup/confirm")
check "sign-up on A" '[ "$code" = 303 ]'
code=$(curl -s -o "$WORK/settings.html" -w '%{http_code}' -b "$SJAR" "$B/settings")
check "the session from A is valid on B" '[ "$code" = 200 ] && grep -q "@twoservers" "$WORK/settings.html"'
logout=$(grep -o 'action="/logout"[^>]*>[^<]*<input type="hidden" name="csrf_token" value="[^"]*"' "$WORK/settings.html" | sed 's/.*value="//; s/"$//' | head -1)
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$SJAR" -b "$SJAR" -H "Origin: $A" --data-urlencode "csrf_token=$logout" "$B/logout")
check "logout on B" '[ "$code" = 303 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$SJAR" "$A/settings")
check "the session is gone on A too" '[ "$code" = 303 ]'

echo "1..$((pass + fail))"
echo "# pass $pass"
echo "# fail $fail"
if [ "$fail" -gt 0 ]; then
  tail -20 "$WORK/a.log" "$WORK/b.log"
  exit 1
fi
