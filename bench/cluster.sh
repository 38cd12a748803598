#!/usr/bin/env bash
# bench/cluster.sh: tocsin on PostgreSQL with 1, 2 and 3 nodes beside
# SQLite on one node, in the same run, and failover times (issue 11).
#
# A private PostgreSQL server (tests/support/pg_server.sh: initdb in a
# temporary folder, fsync and synchronous_commit on) serves every PostgreSQL
# configuration; each configuration gets a fresh database and fresh nodes.
#   ingest  wrk pushes new alerts (one event per request, distinct keys) to
#           every node at once, CONNS keep-alive connections split evenly,
#           for DURATION s; no webhook. Reported: accepted events/s, p99, and
#           CPU per event of the tocsin nodes and of the PostgreSQL server.
#   storm   the same load with an incident webhook to a local nginx
#           answering 200: every new alert makes an incident and one push.
#           Reported: deliveries/s while the load runs (nginx's access log),
#           lag from the end of the load to the last delivery, CPU per event.
#   failover  three nodes, a steady 200 new incidents/s round-robin over the
#           live nodes, a recording receiver; KILLS times one node is killed
#           with SIGKILL, and the time from the kill to the first delivery
#           of a lane in a bucket the dead node held (cluster_leases, read
#           just before the kill) is the failover time; the node is started
#           again and the next kill waits until the three share the buckets.
# Everything shares this machine's cores, so the scaling beyond it is a
# projection from the per-event CPU costs: the report says how.
#
# Usage: bench/cluster.sh [DURATION_S] [CONNS] [KILLS]   (defaults 10 64 10)
# Writes a dated section into bench/BENCHMARKS.md and prints it. Loopback
# only; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNS=${2:-64}
KILLS=${3:-10}
OUT=bench/out/cluster
PY=/usr/bin/python3
mkdir -p "$OUT"
: >"$OUT/tocsin.log"
scripts/install-deps.sh test >/dev/null
BUILD=${BUILD:-build}
# The run build plus tests/ (for the recording receiver).
make -s build BUILD_DIR="$BUILD" CMAKE_ARGS=-DTOCSIN_TESTS=ON >/dev/null
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ulimit -n 65536 2>/dev/null || true

TMP=$(mktemp -d /tmp/tocsin-cluster-XXXXXX)
chmod 755 "$TMP"
NPID=""
cleanup() {
    [ -z "$NPID" ] || { kill "$NPID" 2>/dev/null || true; wait "$NPID" 2>/dev/null || true; }
    tests/support/pg_server.sh stop "$TMP/pg" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
. bench/lib.sh

tests/support/pg_server.sh start "$TMP/pg" >/dev/null
PG_URL=$(cat "$TMP/pg/url")

NGX=$(free_port)
bench_nginx "log_format arrival '\$msec \$request_uri';" \
    "access_log $TMP/nginx/access.log arrival buffer=256k flush=100ms;" \
    "server { listen 127.0.0.1:$NGX; location / { return 200 \"ok\"; } }"
wait_http "http://127.0.0.1:$NGX/ready"
NWORKER=$(pgrep -P "$NPID" | head -1)

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
PG_STATE="$TMP/pg" $PY bench/cluster.py --bin "$BUILD/tocsin" \
    --receiver "$BUILD/tests/tocsin-test-receiver" --pg-url "$PG_URL" \
    --nginx-port "$NGX" --nginx-log "$TMP/nginx/access.log" --nginx-worker "$NWORKER" \
    --duration "$DURATION" --conns "$CONNS" --kills "$KILLS" \
    --tmp "$TMP" --out "$OUT" >"$OUT/results.json"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
PGV=$(ls /usr/lib/postgresql | sort -V | tail -1)

REPORT=$($PY bench/cluster_report.py "$OUT/results.json" \
    "$(date -u +%Y-%m-%d)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), $(free -g | awk '/Mem:/ {print $2}') GiB RAM; load average $LOAD_BEFORE before, $LOAD_AFTER after" \
    "bench/cluster.sh $DURATION $CONNS $KILLS" "$PGV")
echo "$REPORT"
echo "$REPORT" >>bench/BENCHMARKS.md
