#!/usr/bin/env bash
# Image processing and image-page throughput of a release build.
#
#   bench/media.sh                    # defaults: REPEAT=5 runs per image, DURATION=5 s per page
#
# 1. Processes synthetic images into all renditions with `beebeta media process` (one process per
#    file, so its peak RSS is that image's): a 12-megapixel JPEG, a 4,000 px PNG photo, a 4,000 px
#    transparent PNG, and a decompression bomb (50,000 x 50,000 declared). Prints the median time,
#    the peak memory and the renditions' sizes.
# 2. Starts the server on the embedded defaults (SQLite, local media folder), asks one question with
#    images (question and every choice) and one without, and drives both pages with wrk in one run,
#    printing requests/s and the ratio. Everything it starts is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT="${REPEAT:-5}"
DURATION="${DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${PORT:-18090}"
OUT=bench/out/media
rm -rf "$OUT" && mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }

cargo build --release --quiet
BIN=target/release/beebeta

echo "== image processing (release; median of $REPEAT runs; peak RSS of the process)"
"$BIN" media sample photo --width 4000 --height 3000 "$OUT/photo-12mp.jpg" >/dev/null
"$BIN" media sample photo --width 4000 --height 3000 "$OUT/photo-4000px.png" >/dev/null
"$BIN" media sample graphic --width 4000 --height 4000 "$OUT/graphic-4000px.png" >/dev/null
"$BIN" media sample bomb --width 50000 --height 50000 "$OUT/bomb.png" >/dev/null
printf '%-20s %9s %-22s %10s %12s  %s\n' file bytes source median_ms peak_rss_MB renditions
for f in photo-12mp.jpg photo-4000px.png graphic-4000px.png bomb.png; do
  json=$(BEEBETA_LOG_FILTER=error "$BIN" media process "$OUT/$f" --repeat "$REPEAT" | tail -n1)
  python3 - "$f" "$json" <<'PY'
import json, sys
name, d = sys.argv[1], json.loads(sys.argv[2])
src = d.get("source") or ("refused: " + d.get("refused", "?"))
rend = ", ".join(f'{r["width"]}x{r["height"]} {r["type"].split("/")[1]} {r["bytes"] // 1024} KB'
                 for r in d.get("renditions", []))
print(f'{name:<20} {d["bytes"]:>9} {src:<22} {d["median_ms"]:>10} {d["peak_rss_kib"] / 1024:>12.1f}  {rend}')
PY
done

echo
echo "== question page with images vs without (wrk -t2 -c$CONNECTIONS -d${DURATION}s, same server)"
DIR=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
export BEEBETA_DATABASE_URL="sqlite://$DIR/bench.db" BEEBETA_SECRET_FILE="$DIR/secret" \
  BEEBETA_MEDIA="file://$DIR/media" BEEBETA_SEED_DEMO=false BEEBETA_LIMITS=off \
  BEEBETA_LOG_FILTER=warn,beebeta::mail=info ROCKET_PORT="$PORT" ROCKET_ADDRESS=127.0.0.1 \
  BEEBETA_PUBLIC_URL="http://127.0.0.1:$PORT"
"$BIN" serve > "$DIR/server.log" 2>&1 &
PIDS+=($!)
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -sf -o /dev/null "$BASE/healthz" && break; sleep 0.1; done
JAR="$DIR/cookies"
csrf() { grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//'; }
TOKEN=$(curl -s -c "$JAR" -b "$JAR" "$BASE/signup" | csrf)
curl -s -o /dev/null -c "$JAR" -b "$JAR" -H "Origin: $BASE" "$BASE/signup" \
  --data-urlencode "csrf_token=$TOKEN" --data-urlencode username=bencher \
  --data-urlencode email=bencher@example.com --data-urlencode "password=correct horse battery staple"
# The sign-up link went to the address (the log here); following it makes the account.
LINK=""
for _ in $(seq 1 50); do
  LINK=$(grep -o '/signup/confirm?token=[A-Za-z0-9_-]*' "$DIR/server.log" | tail -1)
  [ -n "$LINK" ] && break
  sleep 0.1
done
TOKEN=$(curl -s -c "$JAR" -b "$JAR" "$BASE$LINK" | csrf)
curl -s -o /dev/null -c "$JAR" -b "$JAR" -H "Origin: $BASE" "$BASE/signup/confirm" \
  --data-urlencode "csrf_token=$TOKEN" --data-urlencode "token=${LINK#*token=}"
TOKEN=$(curl -s -c "$JAR" -b "$JAR" "$BASE/ask" | csrf)
upload() {
  curl -sf -c "$JAR" -b "$JAR" -H "X-CSRF-Token: $TOKEN" -H "Origin: $BASE" -F "file=@$1" "$BASE/api/v1/uploads" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
"$BIN" media sample photo --width 1600 --height 1200 "$DIR/q.jpg" >/dev/null
Q=$(upload "$OUT/photo-12mp.jpg")
C=()
for i in 1 2 3 4; do
  "$BIN" media sample photo --width $((600 + i * 50)) --height 500 "$DIR/c$i.jpg" >/dev/null
  C+=("$(upload "$DIR/c$i.jpg")")
done
ask() {
  curl -sf -c "$JAR" -b "$JAR" -H 'Content-Type: application/json' "$BASE/api/v1/questions" -d "$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])'
}
WITH=$(ask "{\"title\":\"Which of these four views is the best?\",\"image\":\"$Q\",\"choices\":[{\"label\":\"North\",\"image\":\"${C[0]}\"},{\"label\":\"East\",\"image\":\"${C[1]}\"},{\"label\":\"South\",\"image\":\"${C[2]}\"},{\"label\":\"West\",\"image\":\"${C[3]}\"}]}")
WITHOUT=$(ask '{"title":"Which of these four words is the best?","choices":["North","East","South","West"]}')
run() {
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$BASE$1" | awk '/Requests\/sec/ {print $2} / 99%/ {p99=$2} END {print p99}'
}
curl -s -o /dev/null "$BASE$WITH"; curl -s -o /dev/null "$BASE$WITHOUT"
read -r RPS_WITHOUT P99_WITHOUT < <(run "$WITHOUT" | xargs)
read -r RPS_WITH P99_WITH < <(run "$WITH" | xargs)
BYTES_WITH=$(curl -s "$BASE$WITH" | wc -c)
BYTES_WITHOUT=$(curl -s "$BASE$WITHOUT" | wc -c)
printf '%-26s %10s %8s %8s\n' page requests/s p99 bytes
printf '%-26s %10s %8s %8s\n' "without images" "$RPS_WITHOUT" "$P99_WITHOUT" "$BYTES_WITHOUT"
printf '%-26s %10s %8s %8s\n' "with 5 images" "$RPS_WITH" "$P99_WITH" "$BYTES_WITH"
python3 -c "print(f'ratio with/without: {float(\"$RPS_WITH\") / float(\"$RPS_WITHOUT\"):.2f}')"
IMG=$(curl -s "$BASE$WITH" | grep -o '/media/img/[0-9a-f]*\.jpg' | head -1)
echo "a rendition: $(curl -s -o /dev/null -w '%{http_code} %{size_download} bytes' "$BASE$IMG"), $(curl -sI "$BASE$IMG" | grep -i '^cache-control' | tr -d '\r')"
