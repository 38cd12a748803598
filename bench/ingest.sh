#!/usr/bin/env bash
# bench/ingest.sh: ingest throughput and latency of tocsin vs Alertmanager 0.25,
# peak RSS with 100,000 open alerts, and database size per alert.
#
# Loads both servers the same way with wrk: keep-alive connections, one event
# per request, distinct alert keys, over 127.0.0.1 only. tocsin runs with its
# defaults: SQLite, synchronous=FULL (every batch fsync'ed before any request
# of it is answered).
#
# Usage: bench/ingest.sh [DURATION_S] [CONNECTIONS]     (defaults 20 64)
# Writes a dated section into bench/BENCHMARKS.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
CONNS=${2:-64}
THREADS=2
OPEN_ALERTS=100000
OUT=bench/out
mkdir -p "$OUT"
scripts/install-deps.sh test >/dev/null
make -s build >/dev/null

KEY=bench-admin-key-0123456789abcdef
DATA=$(mktemp -d /tmp/tocsin-bench-XXXXXX)
AMDIR=$(mktemp -d /tmp/am-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DATA" "$AMDIR"; }
trap cleanup EXIT

. bench/lib.sh

# --- tocsin ---------------------------------------------------------------
PORT=$(free_port)
TOCSIN_ADMIN_APP_KEY=$KEY ./build/tocsin serve --listen 127.0.0.1:$PORT --data "$DATA" \
    --log-level warn --rate-limit-event 0 --rate-limit-api 0 >"$OUT/tocsin.out" 2>"$OUT/tocsin.log" &
TPID=$!; PIDS+=("$TPID")
wait_http "http://127.0.0.1:$PORT/healthz"
CH=$(api /channel/create '{"channel_name":"bench","team_id":0}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["channel_id"])')
IKEY=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"bench\",\"channel_id\":$CH}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')

echo "tocsin: wrk -t$THREADS -c$CONNS -d${DURATION}s (one standard event per request, distinct keys)"
wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s bench/ingest.lua \
    "http://127.0.0.1:$PORT/event/push/alert/standard?integration_key=$IKEY" >"$OUT/wrk-tocsin.txt"
T_RPS=$(wrk_rps "$OUT/wrk-tocsin.txt"); T_P50=$(wrk_field "$OUT/wrk-tocsin.txt" 50%)
T_P99=$(wrk_field "$OUT/wrk-tocsin.txt" 99%); T_BAD=$(wrk_non2xx "$OUT/wrk-tocsin.txt")
T_TOTAL=$(wrk_total "$OUT/wrk-tocsin.txt")

# Top up to OPEN_ALERTS open alerts (if the timed run made fewer), then read
# the peak RSS and the database size per alert.
ALERTS=$(sqlite3 "$DATA/tocsin.db" "SELECT COUNT(*) FROM alerts WHERE progress <> 'Closed'")
if [ "$ALERTS" -lt $OPEN_ALERTS ]; then
    NEED=$((OPEN_ALERTS - ALERTS))
    python3 - "$PORT" "$IKEY" "$NEED" <<'PY'
import http.client, json, sys, threading
port, key, need = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def worker(w, n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(n):
        body = json.dumps({"title_rule": "fill %d" % i, "event_status": "Warning",
                           "alert_key": "fill-%d-%d" % (w, i), "labels": {"service": "api"}})
        c.request("POST", "/event/push/alert/standard?integration_key=" + key, body,
                  {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        assert r.status == 200, r.status
ts = [threading.Thread(target=worker, args=(w, need // 16 + (1 if w < need % 16 else 0))) for w in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
fi
ALERTS=$(sqlite3 "$DATA/tocsin.db" "SELECT COUNT(*) FROM alerts WHERE progress <> 'Closed'")
RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$TPID/status)
kill -TERM "$TPID"; wait "$TPID" || true
STORED=$(sqlite3 "$DATA/tocsin.db" "SELECT COUNT(*) FROM alert_events")
DB_BYTES=$(stat -c %s "$DATA/tocsin.db")
PER_ALERT=$((DB_BYTES / (ALERTS > 0 ? ALERTS : 1)))

# --- Alertmanager 0.25 -----------------------------------------------------
AMPORT=$(free_port)
cat >"$AMDIR/am.yml" <<YML
route: {receiver: none, group_wait: 30s, group_interval: 5m}
receivers: [{name: none}]
YML
prometheus-alertmanager --config.file="$AMDIR/am.yml" --storage.path="$AMDIR/data" \
    --web.listen-address=127.0.0.1:$AMPORT --cluster.listen-address= \
    --log.level=warn >"$OUT/am.log" 2>&1 &
APID=$!; PIDS+=("$APID")
wait_http "http://127.0.0.1:$AMPORT/-/ready"
echo "alertmanager: same load on /api/v2/alerts"
wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s bench/alertmanager.lua \
    "http://127.0.0.1:$AMPORT/api/v2/alerts" >"$OUT/wrk-am.txt"
A_RPS=$(wrk_rps "$OUT/wrk-am.txt"); A_P50=$(wrk_field "$OUT/wrk-am.txt" 50%)
A_P99=$(wrk_field "$OUT/wrk-am.txt" 99%); A_BAD=$(wrk_non2xx "$OUT/wrk-am.txt")
A_RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$APID/status)
AM_ALERTS=$(curl -fs "http://127.0.0.1:$AMPORT/api/v2/alerts" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
kill "$APID"; wait "$APID" 2>/dev/null || true

RATIO=$(python3 -c "print('%.1f' % ($T_RPS / max($A_RPS, 1)))")
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
DISK=$(df -h "$DATA" 2>/dev/null | awk 'NR==2 {print $1}')
REPORT=$(cat <<MD

## Ingest: $(date -u +%Y-%m-%d) ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))

Machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, data on $DISK.
Command: \`bench/ingest.sh $DURATION $CONNS\` (wrk -t$THREADS -c$CONNS -d${DURATION}s, keep-alive,
one event per request, distinct alert keys; tocsin on SQLite, synchronous=FULL).

| | tocsin | Alertmanager 0.25 |
|---|---|---|
| accepted events/s | $T_RPS | $A_RPS |
| p50 latency (ms) | $T_P50 | $A_P50 |
| p99 latency (ms) | $T_P99 | $A_P99 |
| non-2xx answers | $T_BAD of $T_TOTAL | $A_BAD |
| peak RSS | $((RSS_KB / 1024)) MB with $ALERTS open alerts | $((A_RSS_KB / 1024)) MB with $AM_ALERTS alerts |

Ratio tocsin / Alertmanager: **${RATIO}x**. Stored raw events: $STORED; database
$((DB_BYTES / 1024 / 1024)) MB, **$PER_ALERT bytes per alert** (alert + raw event + incident +
domain events a_new, a_merge, i_new + feeds).
MD
)
echo "$REPORT"
[ -f bench/BENCHMARKS.md ] || printf '# Benchmarks\n\nEvery figure here comes from a script in bench/ that anyone can run; each\nsection names its command, machine and commit.\n' > bench/BENCHMARKS.md
echo "$REPORT" >> bench/BENCHMARKS.md
