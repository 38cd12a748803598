#!/usr/bin/env bash
# bench/backup.sh: what `tocsin backup` costs a running tocsin (issue 13).
#
# Fills an install with FILL_S seconds of pushes (wrk -c16, bench/ingest.lua:
# a new alert and incident each), then runs the same load at -c$CONNS for
# DURATION seconds twice: once alone (baseline), once with `tocsin backup`
# started a second in. Prints the database's size, the backup's own summary
# (steps of 1024 pages, the longest step, the total time) and the push
# latencies p50/p99/max and rate of both runs, so the writer's slowdown
# during a backup can be read off. Loopback only.
#
#   bench/backup.sh                  FILL_S=20 CONNS=4 DURATION=8
#   BIN=build-asan/tocsin bench/backup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FILL_S=${FILL_S:-20}
CONNS=${CONNS:-4}
DURATION=${DURATION:-8}
PY=/usr/bin/python3
BIN=${BIN:-./build/tocsin}
[ "$BIN" != ./build/tocsin ] || make -s build >/dev/null
KEY=bench-admin-key-0123456789abcdef
. bench/lib.sh
bench_tmp backup-bench

DATA="$TMP/data"; PORT=$(free_port)
TOCSIN_ADMIN_APP_KEY=$KEY "$BIN" serve --listen 127.0.0.1:$PORT --data "$DATA" \
    --log-level warn --rate-limit-event 0 --rate-limit-api 0 >"$TMP/tocsin.out" 2>"$TMP/tocsin.log" &
TPID=$!; PIDS+=("$TPID")
wait_http "http://127.0.0.1:$PORT/healthz"
CH=$(api /channel/create '{"channel_name":"bench","team_id":0}' | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["channel_id"])')
IKEY=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"bench\",\"channel_id\":$CH}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')
URL="http://127.0.0.1:$PORT/event/push/alert/standard?integration_key=$IKEY"

echo "filling for ${FILL_S}s..." >&2
wrk -t2 -c16 -d"${FILL_S}"s -s bench/ingest.lua "$URL" fill >"$TMP/wrk-fill.txt"
DB_BYTES=$(stat -c %s "$DATA/tocsin.db")

run_load() { # name, with_backup
    wrk -t2 -c"$CONNS" -d"${DURATION}"s --latency -s bench/ingest.lua "$URL" "$1" >"$TMP/wrk-$1.txt" &
    local w=$!
    if [ "$2" = 1 ]; then
        sleep 1
        "$BIN" backup --data "$DATA" --to "$TMP/copy.db" >"$TMP/backup.txt"
    fi
    wait "$w"
}
sleep 2
run_load base 0
sleep 2
run_load during 1

max_ms() { grep -E '^ +Latency +[0-9]' "$1" | awk '{print $4}' | to_ms; }
echo "database: $DB_BYTES bytes after ${FILL_S}s of pushes"
cat "$TMP/backup.txt"
printf '%-8s %8s %8s %8s %8s\n' run req/s p50_ms p99_ms max_ms
for r in base during; do
    f="$TMP/wrk-$r.txt"
    printf '%-8s %8s %8s %8s %8s\n' "$r" "$(wrk_rps "$f")" "$(wrk_field "$f" 50%)" \
        "$(wrk_field "$f" 99%)" "$(max_ms "$f")"
done
