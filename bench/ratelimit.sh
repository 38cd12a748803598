#!/usr/bin/env bash
# bench/ratelimit.sh: what the per-key rate limits cost, and what they buy.
#
# 1. Cost: the same wrk ingest load (bench/ingest.lua, one standard event
#    per request, distinct keys) with the limits off, and on at a rate so
#    high that no request is refused (every request still takes a token);
#    ROUNDS alternating rounds (default 3), since one pair is within this
#    machine's run-to-run noise.
# 2. Protection: one integration key floods (wrk, 64 connections) while a
#    second key sends 50 events/s from Python and records each latency;
#    once with the limits off and once with --rate-limit-event 1000:2000.
#    Reported: the quiet key's p50/p99/max and its non-200 count, the
#    flooding key's 200s and 429s.
#
# Usage: bench/ratelimit.sh [DURATION_S]      (default 15). Loopback only.
# Writes a dated section into bench/BENCHMARKS.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
ROUNDS=${ROUNDS:-3}
CONNS=64
OUT=bench/out
mkdir -p "$OUT"
scripts/install-deps.sh test >/dev/null
make -s build >/dev/null

KEY=bench-admin-key-0123456789abcdef
PIDS=()
DIRS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "${DIRS[@]}"; }
trap cleanup EXIT

. bench/lib.sh

start_tocsin() { # extra serve flags...; sets PORT TPID IKEY IKEY2
    local data; data=$(mktemp -d /tmp/tocsin-rl-XXXXXX); DIRS+=("$data")
    PORT=$(free_port)
    TOCSIN_ADMIN_APP_KEY=$KEY ./build/tocsin serve --listen 127.0.0.1:$PORT --data "$data" \
        --log-level warn "$@" >"$OUT/rl-tocsin.out" 2>"$OUT/rl-tocsin.log" &
    TPID=$!; PIDS+=("$TPID")
    wait_http "http://127.0.0.1:$PORT/healthz"
    local ch; ch=$(api /channel/create '{"channel_name":"bench","team_id":0}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["channel_id"])')
    IKEY=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"flood\",\"channel_id\":$ch}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')
    IKEY2=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"quiet\",\"channel_id\":$ch}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')
}
stop_tocsin() { kill -TERM "$TPID"; wait "$TPID" || true; }

flood() { # file
    wrk -t2 -c$CONNS -d${DURATION}s --latency -s bench/ingest.lua \
        "http://127.0.0.1:$PORT/event/push/alert/standard?integration_key=$IKEY" >"$1"
}

quiet() { # prints "p50 p99 max non200 sent" of a 50/s sender on IKEY2
    python3 - "$PORT" "$IKEY2" "$DURATION" <<'PY'
import http.client, json, sys, time
port, key, dur = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
lat, bad, i = [], 0, 0
start = time.monotonic()
while time.monotonic() - start < dur:
    due = start + i / 50.0
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    body = json.dumps({"title_rule": "quiet %d" % i, "event_status": "Critical",
                       "alert_key": "quiet-%d" % i, "labels": {"service": "db"}})
    t0 = time.monotonic()
    c.request("POST", "/event/push/alert/standard?integration_key=" + key, body,
              {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    lat.append((time.monotonic() - t0) * 1000)
    bad += r.status != 200
    i += 1
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print("%.1f %.1f %.1f %d %d" % (pick(0.5), pick(0.99), lat[-1], bad, len(lat)))
PY
}

echo "1. cost: wrk -t2 -c$CONNS -d${DURATION}s, limits off, then on (never refusing), $ROUNDS rounds"
COST_ROWS=""
OFF_SUM=0; ON_SUM=0
for r in $(seq 1 "$ROUNDS"); do
    start_tocsin --rate-limit-event 0 --rate-limit-api 0
    flood "$OUT/rl-off.txt"; stop_tocsin
    start_tocsin --rate-limit-event 1000000:1000000
    flood "$OUT/rl-on.txt"; stop_tocsin
    OFF_RPS=$(wrk_rps "$OUT/rl-off.txt"); ON_RPS=$(wrk_rps "$OUT/rl-on.txt")
    OFF_SUM=$((OFF_SUM + OFF_RPS)); ON_SUM=$((ON_SUM + ON_RPS))
    COST_ROWS+="| $r | $OFF_RPS / $(wrk_field "$OUT/rl-off.txt" 99%) | $ON_RPS / $(wrk_field "$OUT/rl-on.txt" 99%) |"$'\n'
done
COST_ROWS+="| mean | $((OFF_SUM / ROUNDS)) | $((ON_SUM / ROUNDS)) |"

echo "2. protection: one key floods, another sends 50/s"
start_tocsin --rate-limit-event 0 --rate-limit-api 0
flood "$OUT/rl-flood-off.txt" & WPID=$!
read -r Q0_P50 Q0_P99 Q0_MAX Q0_BAD Q0_N < <(quiet); wait $WPID; stop_tocsin
start_tocsin --rate-limit-event 1000:2000
flood "$OUT/rl-flood-on.txt" & WPID=$!
read -r Q1_P50 Q1_P99 Q1_MAX Q1_BAD Q1_N < <(quiet); wait $WPID; stop_tocsin
F0_TOTAL=$(wrk_total "$OUT/rl-flood-off.txt"); F0_BAD=$(wrk_non2xx "$OUT/rl-flood-off.txt")
F1_TOTAL=$(wrk_total "$OUT/rl-flood-on.txt"); F1_BAD=$(wrk_non2xx "$OUT/rl-flood-on.txt")

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
SECTION=$(cat <<MD

## Rate limits: $(date -u +%Y-%m-%d) ($(git rev-parse --short HEAD))

Machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM; load before: $(cut -d' ' -f1-3 /proc/loadavg).
Command: \`bench/ratelimit.sh $DURATION\` (release build, SQLite synchronous=FULL).

| cost: wrk -c$CONNS, one key; round | limits off: events/s / p99 ms | limit on, never refusing (every request takes a token): events/s / p99 ms |
|---|---|---|
$COST_ROWS

| protection: one key floods (wrk -c$CONNS), another sends 50/s | quiet key p50 / p99 / max (ms) | quiet key non-200 | flooding key: requests / non-2xx |
|---|---|---|---|
| limits off | $Q0_P50 / $Q0_P99 / $Q0_MAX | $Q0_BAD of $Q0_N | $F0_TOTAL / $F0_BAD |
| --rate-limit-event 1000:2000 | $Q1_P50 / $Q1_P99 / $Q1_MAX | $Q1_BAD of $Q1_N | $F1_TOTAL / $F1_BAD (429) |
MD
)
echo "$SECTION"
echo "$SECTION" >> bench/BENCHMARKS.md
