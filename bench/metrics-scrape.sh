#!/usr/bin/env bash
# bench/metrics-scrape.sh: what one GET /metrics costs with a large backlog
# of pending deliveries (a dead endpoint), with and without the covering
# index of migration 005 (deliveries_pending_integration).
#
# The backlog is written straight into the SQLite file (a disabled webhook's
# pending rows, which the dispatcher leaves alone), then three scrapes are
# timed with curl; the index is dropped and the scrapes timed again.
# Usage: bench/metrics-scrape.sh [PENDING_ROWS]     (default 1000000). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
scripts/install-deps.sh test >/dev/null
make -s build >/dev/null
. bench/lib.sh
KEY=bench-admin-key-0123456789abcdef
DATA=$(mktemp -d /tmp/tocsin-scrape-XXXXXX)
TPID=
cleanup() { [ -n "$TPID" ] && kill "$TPID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
start() {
    PORT=$(free_port)
    TOCSIN_ADMIN_APP_KEY=$KEY ./build/tocsin serve --listen 127.0.0.1:$PORT --data "$DATA" \
        --log-level warn --allow-private-targets >/dev/null 2>&1 &
    TPID=$!
    wait_http "http://127.0.0.1:$PORT/healthz"
}
stop() { kill -TERM "$TPID"; wait "$TPID" || true; TPID=; }
scrapes() { # three timed scrapes, seconds each
    for _ in 1 2 3; do
        curl -fsS -o /dev/null -w '%{time_total} ' "http://127.0.0.1:$PORT/metrics"
    done
}

start
HOOK=$(api /integration/create '{"type":"webhook_incident","name":"dead","endpoint":"http://127.0.0.1:9/"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_id"])')
api /integration/disable "{\"integration_id\":$HOOK}" >/dev/null
stop
sqlite3 "$DATA/tocsin.db" "
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO deliveries(integration_id, event_seq, lane, sequence, status, attempts, next_at,
                       created_at, updated_at)
SELECT $HOOK, i, printf('%024x', i % 1000), i, 'pending', i % 3, 0, 1790000000000 + i,
       1790000000000 + i FROM n;"
start
WITH=$(scrapes)
stop
sqlite3 "$DATA/tocsin.db" "DROP INDEX deliveries_pending_integration;"
start
WITHOUT=$(scrapes)
stop
echo "pending rows: $ROWS"
echo "scrape seconds with the index:    $WITH"
echo "scrape seconds without the index: $WITHOUT"
