#!/usr/bin/env bash
# bench/ingest.sh: ingest throughput and latency of tocsin vs Alertmanager
# 0.25 and vs the loopback ceiling, memory with 100,000 and 1,000,000 open
# alerts, and database size per alert.
#
# All three servers get the same wrk load: keep-alive connections, one
# event per request, distinct alert keys, over 127.0.0.1 only, at 16 and
# at 64 connections. The ceiling is nginx answering `return 200` to the
# same POST with the same wrk settings: what this machine's loopback, wrk
# and an HTTP server that does nothing can reach together. tocsin runs with
# its defaults: SQLite, synchronous=FULL (every batch durable before any
# request of it is answered); a fresh tocsin per connection count.
# The CPU each process used during each run is reported (% of one core):
# all of them share this machine's cores.
#
# Then one tocsin is filled to 100,000 and to 1,000,000 open alerts
# (Alertmanager-format bodies of 500 alerts each, to fill fast) and its
# peak RSS and its database's bytes per alert are read at each step.
#
# Usage: bench/ingest.sh [DURATION_S] [CONNS...]   (defaults 20 16 64)
#        FILL=0 bench/ingest.sh   skip the 1,000,000-alert fill
#        RULES=20 bench/ingest.sh  the channel first gets 20 drop, silence and
#                 inhibit rules (mixed, in turn) that every event is tested
#                 against and none matches (regex, wildcard, exact values on
#                 labels the events carry), so their whole cost is measured
#        ONLY_TOCSIN=1 bench/ingest.sh  tocsin's load runs only (no ceiling,
#                 no Alertmanager, no fill): to compare RULES=0 and RULES=20
# Writes a dated section into bench/BENCHMARKS.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
shift || true
CONN_LIST=("$@")
[ ${#CONN_LIST[@]} -gt 0 ] || CONN_LIST=(16 64)
FILL=${FILL:-1}
RULES=${RULES:-0}
ONLY_TOCSIN=${ONLY_TOCSIN:-0}
THREADS=2
OUT=bench/out/ingest
PY=/usr/bin/python3
mkdir -p "$OUT"
scripts/install-deps.sh test >/dev/null
BIN=${BIN:-./build/tocsin}
[ "$BIN" != ./build/tocsin ] || make -s build >/dev/null
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ulimit -n 65536 2>/dev/null || true

KEY=bench-admin-key-0123456789abcdef
. bench/lib.sh
bench_tmp ingest
cpu_s() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# load NAME URL LUA PID: wrk at $CONNS; writes $OUT/wrk-NAME.txt and prints
# "rps p50 p99 non2xx total server_cpu% wrk_cpu%".
load() {
    local name=$1 url=$2 lua=$3 pid=$4 c0 c1 w wc=0 t0 t1
    c0=$(cpu_s "$pid"); t0=$(date +%s%3N)
    wrk -t$THREADS -c"$CONNS" -d"${DURATION}"s --latency -s "$lua" "$url" >"$OUT/wrk-$name.txt" &
    w=$!
    while kill -0 "$w" 2>/dev/null; do wc=$(cpu_s "$w"); sleep 0.5; done
    wait "$w"
    c1=$(cpu_s "$pid"); t1=$(date +%s%3N)
    local f="$OUT/wrk-$name.txt" secs
    secs=$($PY -c "print(($t1 - $t0) / 1000)")
    echo "$(wrk_rps "$f") $(wrk_field "$f" 50%) $(wrk_field "$f" 99%) $(wrk_non2xx "$f")" \
         "$(wrk_total "$f") $($PY -c "print(round(100 * ($c1 - $c0) / $secs))")" \
         "$($PY -c "print(round(100 * $wc / $secs))")"
}

# --- the ceiling: nginx answering 200 to the same POST --------------------
NGX=$(free_port)
bench_nginx "access_log off;" \
    "server { listen 127.0.0.1:$NGX; location / { return 200 '{\"data\":{}}'; } }"
wait_http "http://127.0.0.1:$NGX/"
NWORKER=$(pgrep -P "$NPID" | head -1)

# --- tocsin ---------------------------------------------------------------------
PORT=""; TPID=""; DATA=""; IKEY=""
start_tocsin() {
    DATA=$(mktemp -d "$TMP/tocsin-XXXXXX"); PORT=$(free_port)
    TOCSIN_ADMIN_APP_KEY=$KEY "$BIN" serve --listen 127.0.0.1:$PORT --data "$DATA" \
        --log-level warn --rate-limit-event 0 --rate-limit-api 0 \
        >>"$OUT/tocsin.out" 2>>"$OUT/tocsin.log" &
    TPID=$!; PIDS+=("$TPID")
    wait_http "http://127.0.0.1:$PORT/healthz"
    local ch
    ch=$(api /channel/create '{"channel_name":"bench","team_id":0}' | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["channel_id"])')
    IKEY=$(api /integration/create "{\"type\":\"alert_prometheus\",\"name\":\"fill\",\"channel_id\":$ch}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')
    echo "$IKEY" >"$TMP/fill-key"
    add_rules "$ch"
    IKEY=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"bench\",\"channel_id\":$ch}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')
}

# add_rules CHANNEL: $RULES rules no bench event matches, the kinds in turn.
add_rules() {
    local i
    for ((i = 0; i < RULES; i++)); do
        case $((i % 3)) in
        0) api /channel/unsubscribe/rule/create "{\"channel_id\":$1,\"rule_name\":\"drop $i\",
             \"filters\":[[{\"key\":\"labels.host\",\"oper\":\"IN\",\"vals\":[\"/^never-$i-\\\\d+$/\",\"x$i\"]}]]}" ;;
        1) api /channel/silence/rule/create "{\"channel_id\":$1,\"rule_name\":\"silence $i\",
             \"time_filters\":[{\"start\":\"00:00\",\"end\":\"24:00\"}],
             \"filters\":[[{\"key\":\"labels.service\",\"oper\":\"IN\",\"vals\":[\"db-*-$i\"]},
                           {\"key\":\"severity\",\"oper\":\"IN\",\"vals\":[\"Critical\"]}]]}" ;;
        *) api /channel/inhibit/rule/create "{\"channel_id\":$1,\"rule_name\":\"inhibit $i\",
             \"equals\":[\"labels.region\"],
             \"source_filters\":[[{\"key\":\"severity\",\"oper\":\"IN\",\"vals\":[\"Critical\"]}]],
             \"target_filters\":[[{\"key\":\"labels.region\",\"oper\":\"IN\",\"vals\":[\"us-$i\"]}]]}" ;;
        esac | grep -q '"rule_id"' || { echo "ingest.sh: rule $i was refused" >&2; exit 1; }
    done
}

# --- Alertmanager 0.25 --------------------------------------------------------------
AMPORT=""; APID=""
start_am() {
    local dir; dir=$(mktemp -d "$TMP/am-XXXXXX"); AMPORT=$(free_port)
    cat >"$dir/am.yml" <<YML
route: {receiver: none, group_wait: 30s, group_interval: 5m}
receivers: [{name: none}]
YML
    prometheus-alertmanager --config.file="$dir/am.yml" --storage.path="$dir/data" \
        --web.listen-address=127.0.0.1:$AMPORT --cluster.listen-address= \
        --log.level=warn >>"$OUT/am.log" 2>&1 &
    APID=$!; PIDS+=("$APID")
    wait_http "http://127.0.0.1:$AMPORT/-/ready"
}

declare -A R
if [ "$ONLY_TOCSIN" = 1 ]; then
    for CONNS in "${CONN_LIST[@]}"; do
        echo "tocsin ($RULES rules): wrk -c$CONNS..." >&2
        start_tocsin
        R[t$CONNS]=$(load "tocsin-$CONNS" \
            "http://127.0.0.1:$PORT/event/push/alert/standard?integration_key=$IKEY" bench/ingest.lua "$TPID")
        read -r WC WB WPER <<<"$(writer_batch)"
        kill -TERM "$TPID"; wait "$TPID" || true
        rm -rf "$DATA"
        read -r TR TP50 TP99 TBAD TTOT TCPU TWRK <<<"${R[t$CONNS]}"
        echo "RULES=$RULES c=$CONNS: $TR events/s, p50 $TP50 ms, p99 $TP99 ms, non-2xx $TBAD of $TTOT, server CPU $TCPU%, wrk CPU $TWRK%, $WPER commands per commit"
        sync; sleep 2
    done
    exit 0
fi
for CONNS in "${CONN_LIST[@]}"; do
    echo "ceiling: nginx, wrk -c$CONNS..." >&2
    R[ngx$CONNS]=$(load "ngx-$CONNS" "http://127.0.0.1:$NGX/event/push/alert/standard?integration_key=x" \
        bench/ingest.lua "$NWORKER")
    sync; sleep 2
    echo "tocsin: wrk -c$CONNS..." >&2
    start_tocsin
    R[t$CONNS]=$(load "tocsin-$CONNS" \
        "http://127.0.0.1:$PORT/event/push/alert/standard?integration_key=$IKEY" bench/ingest.lua "$TPID")
    R[wb$CONNS]=$(writer_batch)
    kill -TERM "$TPID"; wait "$TPID" || true
    rm -rf "$DATA"
    sync; sleep 2
    echo "alertmanager: wrk -c$CONNS..." >&2
    start_am
    R[a$CONNS]=$(load "am-$CONNS" "http://127.0.0.1:$AMPORT/api/v2/alerts" bench/alertmanager.lua "$APID")
    R[arss$CONNS]=$(awk '/VmHWM/ {print $2}' /proc/$APID/status)
    kill "$APID"; wait "$APID" 2>/dev/null || true
done

# --- memory and disk with many open alerts ---------------------------------------
# fill N: pushes Alertmanager bodies of 500 new alerts each until the store
# holds N open alerts; prints "rss_kb db_bytes open_alerts".
fill() {
    $PY - "$PORT" "$(cat "$TMP/fill-key")" "$1" <<'PY'
import http.client, json, sys, threading
port, key, target = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
per_body, workers = 500, 4
state = {"next": 0}
lock = threading.Lock()
def worker():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while True:
        with lock:
            start = state["next"]
            if start >= target:
                return
            state["next"] = start + per_body
        alerts = [{"status": "firing", "fingerprint": "fill-%d" % i,
                   "labels": {"alertname": "fill %d" % i, "service": "api", "host": "h%d" % (i % 100),
                              "severity": "warning"},
                   "annotations": {"summary": "fill %d" % i}} for i in range(start, min(start + per_body, target))]
        c.request("POST", "/event/push/alert/prometheus?integration_key=" + key,
                  json.dumps({"version": "4", "status": "firing", "alerts": alerts}),
                  {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        assert r.status == 200, r.status
ts = [threading.Thread(target=worker) for _ in range(workers)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
}
start_tocsin
declare -A MEM
STEPS=(100000)
[ "$FILL" = 0 ] || STEPS+=(1000000)
for n in "${STEPS[@]}"; do
    echo "tocsin: filling to $n open alerts..." >&2
    fill "$n"
    MEM[rss$n]=$(awk '/VmHWM/ {print $2}' /proc/$TPID/status)
    # The database's size once the WAL is checkpointed into it.
    MEM[db$n]=$(sqlite3 "$DATA/tocsin.db" "PRAGMA wal_checkpoint(TRUNCATE); SELECT page_count * page_size FROM pragma_page_count, pragma_page_size" | tail -1)
    MEM[open$n]=$(sqlite3 "$DATA/tocsin.db" "SELECT COUNT(*) FROM alerts WHERE progress <> 'Closed'")
done
kill -TERM "$TPID"; wait "$TPID" || true

# --- the report -------------------------------------------------------------------
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
REPORT="
## Ingest: $(date -u +%Y-%m-%d) ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))

Machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM.
Command: \`bench/ingest.sh $DURATION ${CONN_LIST[*]}\`$(build_note) (wrk -t$THREADS -d${DURATION}s, keep-alive,
one event per request, distinct alert keys; tocsin on SQLite, synchronous=FULL; the ceiling is
nginx answering 200 to the same POST with the same wrk settings).
"
for CONNS in "${CONN_LIST[@]}"; do
    read -r TR TP50 TP99 TBAD TTOT TCPU TWRK <<<"${R[t$CONNS]}"
    read -r AR AP50 AP99 ABAD ATOT ACPU AWRK <<<"${R[a$CONNS]}"
    read -r NR NP50 NP99 NBAD NTOT NCPU NWRK <<<"${R[ngx$CONNS]}"
    read -r WC WB WPER <<<"${R[wb$CONNS]}"
    REPORT+="
**$CONNS connections**

| | tocsin | Alertmanager 0.25 | ceiling (nginx) |
|---|---|---|---|
| accepted events/s | $TR | $AR | $NR |
| p50 / p99 latency (ms) | $TP50 / $TP99 | $AP50 / $AP99 | $NP50 / $NP99 |
| non-2xx answers | $TBAD of $TTOT | $ABAD of $ATOT | $NBAD of $NTOT |
| CPU, % of one core: server / wrk | $TCPU / $TWRK | $ACPU / $AWRK | $NCPU / $NWRK |

tocsin / Alertmanager: **$($PY -c "print('%.1f' % ($TR / max($AR, 1)))")x**; tocsin / ceiling:
**$($PY -c "print('%.0f%%' % (100 * $TR / max($NR, 1)))")**. Alertmanager's peak RSS: $((R[arss$CONNS] / 1024)) MB.
tocsin's writer (its /metrics): $WC commands in $WB commits, **$WPER per commit** (group commit).
"
done
REPORT+="
**Memory and disk** (one tocsin, filled with Alertmanager bodies of 500 new alerts each: one
alert, one raw event, one incident and the events a_new, i_new, a_merge per alert)

| open alerts | peak RSS | database | bytes per alert |
|---|---|---|---|
"
for n in "${STEPS[@]}"; do
    REPORT+="| ${MEM[open$n]} | $((MEM[rss$n] / 1024)) MB | $((MEM[db$n] / 1024 / 1024)) MB | $((MEM[db$n] / MEM[open$n])) |
"
done
echo "$REPORT"
echo "$REPORT" >>bench/BENCHMARKS.md
