#!/usr/bin/env bash
# bench/profile-delivery.sh: instructions per delivery in the dispatcher
# thread, and in the writer recording the outcomes.
#
# Runs tocsin under callgrind (instruction counts: repeatable, unlike wall
# time on a shared machine) with one thread per output file, collecting
# only inside dispatcher_main (the dispatcher thread) and record_cmd (the
# writer recording outcomes). Pushes N standard events with distinct keys
# while HOOKS incident webhooks to a local nginx are disabled, enables them,
# waits until every push is recorded as delivered, and prints the counts
# divided by the number of deliveries. Loopback only.
#
# Usage: bench/profile-delivery.sh [N] [HOOKS]   (defaults 2000 1)
#        BIN=path bench/profile-delivery.sh   another build of tocsin
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
HOOKS=${2:-1}
PY=/usr/bin/python3
scripts/install-deps.sh test >/dev/null
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }
BIN=${BIN:-./build/tocsin}
[ "$BIN" != ./build/tocsin ] || make -s build >/dev/null
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
KEY=bench-admin-key-0123456789abcdef
. bench/lib.sh
bench_tmp profdel

NGX=$(free_port)
bench_nginx "access_log off;" \
    "server { listen 127.0.0.1:$NGX; location / { return 200 \"ok\"; } }"
wait_http "http://127.0.0.1:$NGX/"

PORT=$(free_port)
TOCSIN_ADMIN_APP_KEY=$KEY valgrind --tool=callgrind --separate-threads=yes \
    --toggle-collect=dispatcher_main --toggle-collect=record_cmd \
    --callgrind-out-file="$TMP/cg.out" "$BIN" serve --listen 127.0.0.1:$PORT --data "$TMP" \
    --log-level warn --allow-private-targets --rate-limit-event 0 --rate-limit-api 0 \
    >/dev/null 2>&1 &
TPID=$!
# Not wait_http: under valgrind tocsin needs up to 30 s to answer.
for _ in $(seq 1 150); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
id_of() { $PY -c "import json,sys; print(json.load(sys.stdin)['data']['$1'])"; }
CH=$(api /channel/create '{"channel_name":"bench","team_id":0}' | id_of channel_id)
IKEY=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"bench\",\"channel_id\":$CH}" |
    id_of integration_key)
HIDS=()
for k in $(seq 1 "$HOOKS"); do
    hid=$(api /integration/create "{\"type\":\"webhook_incident\",\"name\":\"h$k\",
          \"endpoint\":\"http://127.0.0.1:$NGX/h$k\"}" | id_of integration_id)
    api /integration/disable "{\"integration_id\":$hid}" >/dev/null
    HIDS+=("$hid")
done
$PY bench/delivery_load.py push-burst "$PORT" "$IKEY" "$N" profile 4 >/dev/null
for hid in "${HIDS[@]}"; do $PY bench/delivery_measure.py pending "$TMP/tocsin.db" "$hid" "$N" 600 >/dev/null; done
for hid in "${HIDS[@]}"; do api /integration/enable "{\"integration_id\":$hid}" >/dev/null; done
for hid in "${HIDS[@]}"; do $PY bench/delivery_measure.py drain "$TMP/tocsin.db" "$hid" "$N" 0 900 >/dev/null; done
kill -INT $TPID
wait $TPID || true

# One file per thread; the dispatcher's and the writer's are the ones whose
# collected calls include dispatcher_main and record_cmd.
DELIVERIES=$((N * HOOKS))
dispatcher=0 recording=0
for f in "$TMP"/cg.out-*; do
    total=$(awk '/^summary:/ {print $2; exit}' "$f")
    callgrind_annotate --inclusive=yes "$f" >"$f.txt" 2>/dev/null || true
    if grep -q 'dispatcher.c:dispatcher_main' "$f.txt" && [ "$total" -gt "$dispatcher" ]; then
        dispatcher=$total
    fi
    if grep -q 'dispatcher.c:record_cmd' "$f.txt"; then recording=$total; fi
done
echo "deliveries: $DELIVERIES ($N pushes x $HOOKS webhooks)"
echo "instructions per delivery: dispatcher thread $((dispatcher / DELIVERIES)), writer recording $((recording / DELIVERIES))"
