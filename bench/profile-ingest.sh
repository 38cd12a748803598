#!/usr/bin/env bash
# bench/profile-ingest.sh: where the writer's time goes, per ingested event.
#
# Runs tocsin under callgrind (instruction counts: repeatable, unlike wall
# time on a shared machine), pushes standard events with distinct keys for
# DURATION_S seconds, and prints instructions per event for the writer
# thread and for the library calls that dominate it. Exported symbols of
# libsqlite3 and libjansson are visible without debug packages.
#
# Usage: bench/profile-ingest.sh [DURATION_S]   (default 15)
#        KEEP_OUT=FILE bench/profile-ingest.sh   also keeps callgrind's output in FILE
#        (for callgrind_annotate: per function, callers, and so on)
#        LIST_INDEXES=0 bench/profile-ingest.sh   a what-if, not a way to run
#        tocsin: the indexes that only list queries and the start-up read use
#        are dropped first, to size what keeping them off the hot path would
#        save (issue 10's closing note)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
scripts/install-deps.sh test >/dev/null
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }
make -s build >/dev/null
KEY=bench-admin-key-0123456789abcdef
DATA=$(mktemp -d /tmp/tocsin-prof-XXXXXX)
OUT=$(mktemp /tmp/tocsin-callgrind-XXXXXX)
trap 'rm -rf "$DATA"; [ -n "${KEEP_OUT:-}" ] && cp "$OUT" "$KEEP_OUT"; rm -f "$OUT"' EXIT
. bench/lib.sh
PORT=$(free_port)
if [ "${LIST_INDEXES:-1}" = 0 ]; then
    # A first start makes the schema; the indexes go while nothing runs.
    TOCSIN_ADMIN_APP_KEY=$KEY ./build/tocsin serve --listen 127.0.0.1:$PORT --data "$DATA" \
        --log-level warn >/dev/null 2>&1 &
    PID=$!
    wait_http "http://127.0.0.1:$PORT/healthz"
    kill -INT $PID; wait $PID || true
    for ix in alerts_start alerts_updated alerts_channel alerts_open incidents_start \
        incidents_channel incidents_open alert_events_alert alert_events_time events_feed; do
        sqlite3 "$DATA/tocsin.db" "DROP INDEX $ix"
    done
fi
TOCSIN_ADMIN_APP_KEY=$KEY valgrind --tool=callgrind --callgrind-out-file="$OUT" \
    ./build/tocsin serve --listen 127.0.0.1:$PORT --data "$DATA" --log-level warn \
    --rate-limit-event 0 --rate-limit-api 0 >/dev/null 2>&1 &
PID=$!
# Not wait_http: under valgrind tocsin needs up to 30 s to answer.
for _ in $(seq 1 150); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
CH=$(api /channel/create '{"channel_name":"bench","team_id":0}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["channel_id"])')
IKEY=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"bench\",\"channel_id\":$CH}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')
wrk -t1 -c16 -d${DURATION}s -s bench/ingest.lua \
    "http://127.0.0.1:$PORT/event/push/alert/standard?integration_key=$IKEY" >/dev/null
kill -INT $PID; wait $PID || true
N=$(sqlite3 "$DATA/tocsin.db" "SELECT COUNT(*) FROM alert_events")
echo "events ingested under callgrind: $N"
echo "instructions per event (inclusive):"
callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null |
    grep -E 'writer.c:writer_main \[|engine_ingest_many \[|engine_event_prepare \[|outbox_[a-z_]* \[|\?\?\?:sqlite3_step \[|\?\?\?:json_dumps \[|\?\?\?:json_pack \[|\?\?\?:json_loads \[|store_commit \[|\?\?\?:sqlite3_prepare_v3 \[' |
    sed -E 's/^ *([0-9,]+) *\([ 0-9.]+%\) *([^ ]+).*/\1 \2/' |
    awk -v n="$N" '{gsub(",","",$1); printf "  %9d  %s\n", $1/n, $2}' | sort -k1 -n -r
