#!/usr/bin/env bash
# bench/storm.sh: an alert storm, tocsin vs Alertmanager 0.25 in the same run.
#
# For DURATION seconds, wrk pushes new alerts as fast as it can (one alert
# per request, distinct keys, CONNS keep-alive connections). tocsin has an
# incident webhook and an alert webhook, both to a local nginx answering
# 200: every accepted alert makes three pushes (i_new to the incident
# webhook, a_new and a_merge to the alert webhook). Alertmanager gets the
# same load on /api/v2/alerts and notifies a webhook on the same nginx for
# every alert (group_by its own key, group_wait 0s). Arrivals are counted
# from nginx's access log ($msec per request) for both, the same way.
#
# Reported for each: alerts accepted/s (wrk), deliveries/s during the storm
# (arrivals up to the moment wrk stops, over its duration), and the lag from
# the last accepted push to the last delivery. Also the CPU each process
# used during the storm (tocsin, wrk, nginx: % of one core), since all of
# them share this machine's cores.
#
# Usage: bench/storm.sh [DURATION_S] [CONNS]    (defaults 10 64)
#        BIN=<other build>/tocsin bench/storm.sh   measures that build instead
# Writes a dated section into bench/BENCHMARKS.md and prints it. Every wait
# is bounded; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-64}
THREADS=2
OUT=bench/out/storm
PY=/usr/bin/python3
mkdir -p "$OUT"
scripts/install-deps.sh test >/dev/null
# BIN=path bench/storm.sh measures another build (say, an older commit).
BIN=${BIN:-./build/tocsin}
[ "$BIN" != ./build/tocsin ] || make -s build >/dev/null
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ulimit -n 65536 2>/dev/null || true

KEY=bench-admin-key-0123456789abcdef
. bench/lib.sh
bench_tmp storm
now_ms() { date +%s%3N; }
# CPU seconds (user+system) a process has used so far, threads included.
cpu_s() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# --- nginx: one server, an access log with the arrival time -------------
NGX=$(free_port)
bench_nginx "log_format arrival '\$msec \$request_uri';" \
    "access_log $TMP/nginx/access.log arrival buffer=256k flush=100ms;" \
    "server { listen 127.0.0.1:$NGX; location / { return 200 \"ok\"; } }"
wait_http "http://127.0.0.1:$NGX/ready"
NWORKER=$(pgrep -P "$NPID" | head -1) # the worker serves; the master only waits

# arrivals PREFIX EXPECTED END_MS TIMEOUT_S: waits (bounded) until EXPECTED
# requests under PREFIX have arrived; prints "during last_ms total".
arrivals() {
    $PY - "$TMP/nginx/access.log" "$1" "$2" "$3" "$4" <<'PY'
import sys, time
log, prefix, expected, end_ms, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
deadline = time.time() + timeout
while True:
    during = total = last = 0
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or not parts[1].startswith(prefix):
                continue
            t = int(float(parts[0]) * 1000)
            total += 1
            last = max(last, t)
            during += t <= end_ms
    if total >= expected or time.time() > deadline:
        print(during, last, total)
        break
    time.sleep(0.2)
PY
}

# run_wrk NAME URL LUA PID: the storm; prints "start_ms end_ms accepted rps".
run_wrk() {
    local name=$1 url=$2 lua=$3 pid=$4 t0 t1 c0 c1 n0 n1 w
    c0=$(cpu_s "$pid"); n0=$(cpu_s "$NWORKER")
    t0=$(now_ms)
    wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s "$lua" "$url" >"$OUT/wrk-$name.txt" &
    w=$!
    local wc=0
    # wrk's own CPU, sampled just before it exits.
    while kill -0 "$w" 2>/dev/null; do wc=$(cpu_s "$w"); sleep 0.5; done
    wait "$w"
    t1=$(now_ms)
    c1=$(cpu_s "$pid"); n1=$(cpu_s "$NWORKER")
    local total bad
    total=$(wrk_total "$OUT/wrk-$name.txt"); bad=$(wrk_non2xx "$OUT/wrk-$name.txt")
    $PY -c "
secs = ($t1 - $t0) / 1000
print($t0, $t1, $total - $bad, round(($total - $bad) / secs),
      round(100 * ($c1 - $c0) / secs), round(100 * $wc / secs), round(100 * ($n1 - $n0) / secs))"
}

# --- tocsin -----------------------------------------------------------------
DATA=$(mktemp -d "$TMP/tocsin-XXXXXX")
PORT=$(free_port)
TOCSIN_ADMIN_APP_KEY=$KEY "$BIN" serve --listen 127.0.0.1:$PORT --data "$DATA" \
    --log-level warn --allow-private-targets --rate-limit-event 0 --rate-limit-api 0 \
    >"$OUT/tocsin.out" 2>"$OUT/tocsin.log" &
TPID=$!; PIDS+=("$TPID")
wait_http "http://127.0.0.1:$PORT/healthz"
CH=$(api /channel/create '{"channel_name":"storm","team_id":0}' | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["channel_id"])')
IKEY=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"storm\",\"channel_id\":$CH}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')
api /integration/create "{\"type\":\"webhook_incident\",\"name\":\"inc\",\"endpoint\":\"http://127.0.0.1:$NGX/t/inc\"}" >/dev/null
api /integration/create "{\"type\":\"webhook_alert\",\"name\":\"alert\",\"endpoint\":\"http://127.0.0.1:$NGX/t/alert\"}" >/dev/null
sync; sleep 2
echo "tocsin: ${DURATION}s storm, $CONNS connections..." >&2
read -r T_T0 T_T1 T_ACC T_RPS T_CPU T_WRKCPU T_NGXCPU < <(run_wrk tocsin \
    "http://127.0.0.1:$PORT/event/push/alert/standard?integration_key=$IKEY" bench/ingest.lua "$TPID")
read -r T_DURING T_LAST T_TOTAL < <(arrivals /t/ $((3 * T_ACC)) "$T_T1" 300)
T_RSS_KB=$(awk '/VmHWM/ {print $2}' /proc/$TPID/status)
kill -TERM "$TPID"; wait "$TPID" || true

# --- Alertmanager 0.25 ----------------------------------------------------
AMDIR=$(mktemp -d "$TMP/am-XXXXXX")
AMPORT=$(free_port)
cat >"$AMDIR/am.yml" <<YML
route:
  receiver: hook
  group_by: ['key']
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 24h
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:$NGX/a/hook
    send_resolved: false
YML
prometheus-alertmanager --config.file="$AMDIR/am.yml" --storage.path="$AMDIR/data" \
    --web.listen-address=127.0.0.1:$AMPORT --cluster.listen-address= \
    --log.level=warn >"$OUT/am.log" 2>&1 &
APID=$!; PIDS+=("$APID")
wait_http "http://127.0.0.1:$AMPORT/-/ready"
sync; sleep 2
echo "alertmanager: the same storm..." >&2
read -r A_T0 A_T1 A_ACC A_RPS A_CPU A_WRKCPU A_NGXCPU < <(run_wrk am \
    "http://127.0.0.1:$AMPORT/api/v2/alerts" bench/alertmanager.lua "$APID")
read -r A_DURING A_LAST A_TOTAL < <(arrivals /a/ "$A_ACC" "$A_T1" 300)
kill "$APID"; wait "$APID" 2>/dev/null || true

# --- the report -------------------------------------------------------------
export T_T0 T_T1 T_ACC T_RPS T_CPU T_WRKCPU T_NGXCPU T_DURING T_LAST T_TOTAL T_RSS_KB
export A_T0 A_T1 A_ACC A_RPS A_CPU A_WRKCPU A_NGXCPU A_DURING A_LAST A_TOTAL
export DURATION CONNS THREADS
# Another build (BIN=) is named by its own --version, not by this checkout.
export BUILD_NOTE=$(build_note)
export DATE=$(date -u +%Y-%m-%d) NPROC=$(nproc) COMMIT=$(git rev-parse --short HEAD)
export CPU_MODEL=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
REPORT=$($PY - <<'PY'
import os
e = {k: os.environ[k] for k in os.environ}
n = lambda k: float(e[k])
t_secs = (n("T_T1") - n("T_T0")) / 1000
a_secs = (n("A_T1") - n("A_T0")) / 1000
t_dps = n("T_DURING") / t_secs
a_dps = n("A_DURING") / a_secs
t_lag = max(n("T_LAST") - n("T_T1"), 0) / 1000
a_lag = max(n("A_LAST") - n("A_T1"), 0) / 1000
print(f"""
## Storm: {e['DATE']} ({e['COMMIT']})

Machine: {e['NPROC']} cores ({e['CPU_MODEL']}). Command: `bench/storm.sh {e['DURATION']} {e['CONNS']}`{e['BUILD_NOTE']}
(wrk -t{e['THREADS']} -c{e['CONNS']} -d{e['DURATION']}s, one new alert per request, distinct keys;
tocsin on SQLite, synchronous=FULL, an incident webhook and an alert webhook to nginx: three
pushes per alert; Alertmanager 0.25 notifying once per alert, group_wait 0s, to the same nginx).

| | tocsin | Alertmanager 0.25 | tocsin / AM |
|---|---|---|---|
| alerts accepted/s | {e['T_RPS']} | {e['A_RPS']} | {n('T_RPS') / max(n('A_RPS'), 1):.2f}x |
| deliveries/s during the storm | {t_dps:.0f} | {a_dps:.0f} | {t_dps / max(a_dps, 1):.2f}x |
| deliveries during the storm / in all (expected) | {e['T_DURING']} / {e['T_TOTAL']} ({3 * int(e['T_ACC'])}) | {e['A_DURING']} / {e['A_TOTAL']} ({e['A_ACC']}) | |
| lag, last accepted push to last delivery (s) | {t_lag:.2f} | {a_lag:.2f} | |
| CPU during the storm, % of one core: server / wrk / nginx | {e['T_CPU']} / {e['T_WRKCPU']} / {e['T_NGXCPU']} | {e['A_CPU']} / {e['A_WRKCPU']} / {e['A_NGXCPU']} | |

tocsin's peak RSS: {int(n('T_RSS_KB')) // 1024} MB.""")
PY
)
echo "$REPORT"
echo "$REPORT" >>bench/BENCHMARKS.md
