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
#        BIN=path bench/profile-ingest.sh   another build of tocsin
#        CONNS=64 bench/profile-ingest.sh   wrk's connections (default 16)
#        KEEP_OUT=FILE bench/profile-ingest.sh   also keeps callgrind's output in FILE
#        (for callgrind_annotate: per function, callers, and so on)
#        LIST_INDEXES=0 bench/profile-ingest.sh   a what-if, not a way to run
#        tocsin: the indexes that only list queries and the start-up read use
#        are dropped first, to size what keeping them off the hot path would
#        save (issue 10's closing note)
#        LIST_INDEXES=deferred bench/profile-ingest.sh   the what-if of keeping
#        them off the hot path and catching up later: the ten become partial
#        indexes over rows marked listed (new rows are not), and after the
#        run sqlite3, also under callgrind, prices the two ways to catch up,
#        per event: marking the rows listed, and filling index tables
#        (WITHOUT ROWID) of the same keys; 1,024 events per transaction
#
# It also prints the writer's commands per commit: much of a commit's cost
# is per batch, not per event, so two runs compare per event only at about
# the same batch size.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
scripts/install-deps.sh test >/dev/null
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }
BIN=${BIN:-./build/tocsin}
[ "$BIN" != ./build/tocsin ] || make -s build >/dev/null
KEY=bench-admin-key-0123456789abcdef
DATA=$(mktemp -d /tmp/tocsin-prof-XXXXXX)
OUT=$(mktemp /tmp/tocsin-callgrind-XXXXXX)
trap 'rm -rf "$DATA"; [ -n "${KEEP_OUT:-}" ] && cp "$OUT" "$KEEP_OUT"; rm -f "$OUT"' EXIT
. bench/lib.sh
PORT=$(free_port)
LISTS=${LIST_INDEXES:-1}
INDEXES="alerts_start alerts_updated alerts_channel alerts_open incidents_start incidents_channel
    incidents_open alert_events_alert alert_events_time events_feed"
if [ "$LISTS" != 1 ]; then
    # A first start makes the schema; the indexes go while nothing runs.
    TOCSIN_ADMIN_APP_KEY=$KEY "$BIN" serve --listen 127.0.0.1:$PORT --data "$DATA" \
        --log-level warn >/dev/null 2>&1 &
    PID=$!
    wait_http "http://127.0.0.1:$PORT/healthz"
    kill -INT $PID; wait $PID || true
    for ix in $INDEXES; do sqlite3 "$DATA/tocsin.db" "DROP INDEX $ix"; done
fi
if [ "$LISTS" = deferred ]; then
    sqlite3 "$DATA/tocsin.db" <<'SQL'
ALTER TABLE alerts ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_events ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX alerts_start ON alerts(start_time) WHERE listed = 1;
CREATE INDEX alerts_updated ON alerts(updated_at) WHERE listed = 1;
CREATE INDEX alerts_channel ON alerts(channel_id, start_time) WHERE listed = 1;
CREATE INDEX alerts_open ON alerts(id) WHERE listed = 1 AND progress <> 'Closed';
CREATE INDEX incidents_start ON incidents(start_time) WHERE listed = 1;
CREATE INDEX incidents_channel ON incidents(channel_id, start_time) WHERE listed = 1;
CREATE INDEX incidents_open ON incidents(id) WHERE listed = 1 AND progress <> 'Closed' AND deleted_at = 0;
CREATE INDEX alert_events_alert ON alert_events(alert_id, event_time, seq) WHERE listed = 1;
CREATE INDEX alert_events_time ON alert_events(event_time, seq) WHERE listed = 1;
CREATE INDEX events_feed ON events(feed_ref, seq) WHERE listed = 1 AND feed_ref <> '';
SQL
fi
TOCSIN_ADMIN_APP_KEY=$KEY valgrind --tool=callgrind --callgrind-out-file="$OUT" \
    "$BIN" serve --listen 127.0.0.1:$PORT --data "$DATA" --log-level warn \
    --rate-limit-event 0 --rate-limit-api 0 >/dev/null 2>&1 &
PID=$!
# Not wait_http: under valgrind tocsin needs up to 30 s to answer.
for _ in $(seq 1 150); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
CH=$(api /channel/create '{"channel_name":"bench","team_id":0}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["channel_id"])')
IKEY=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"bench\",\"channel_id\":$CH}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')
wrk -t1 -c${CONNS:-16} -d${DURATION}s -s bench/ingest.lua \
    "http://127.0.0.1:$PORT/event/push/alert/standard?integration_key=$IKEY" >/dev/null
BATCH=$(writer_batch | awk '{print $3}')
kill -INT $PID; wait $PID || true
N=$(sqlite3 "$DATA/tocsin.db" "SELECT COUNT(*) FROM alert_events")
echo "events ingested under callgrind: $N, $BATCH writer commands per commit"
echo "instructions per event (inclusive):"
callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null |
    grep -E 'writer.c:writer_main \[|engine_ingest_many \[|engine_event_prepare \[|outbox_[a-z_]* \[|\?\?\?:sqlite3_step \[|\?\?\?:json_dumps \[|\?\?\?:json_pack \[|\?\?\?:json_loads \[|store_commit \[|\?\?\?:sqlite3_prepare_v3 \[' |
    sed -E 's/^ *([0-9,]+) *\([ 0-9.]+%\) *([^ ]+).*/\1 \2/' |
    awk -v n="$N" '{gsub(",","",$1); printf "  %9d  %s\n", $1/n, $2}' | sort -k1 -n -r
[ "$LISTS" = deferred ] || exit 0

# The catch-up, priced in sqlite3 under callgrind on copies of the database
# (less an empty transaction's run, sqlite3's own start), per event.
catch_up_cost() { # NAME SQL_FILE
    cp "$DATA/tocsin.db" "$DATA/$1.db"
    valgrind --tool=callgrind --callgrind-out-file="$DATA/$1.cg" sqlite3 "$DATA/$1.db" <"$2" \
        >/dev/null 2>&1
    awk '/^summary:/ {print $2}' "$DATA/$1.cg"
}
PRAGMAS="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;"
echo "$PRAGMAS BEGIN; COMMIT;" >"$DATA/none.sql"
# One transaction per 1,024 events; an event is one alert, one incident,
# one raw event and two timeline entries here (distinct keys).
{
    echo "$PRAGMAS"
    for ((lo = 0; lo < N; lo += 1024)); do
        hi=$((lo + 1024))
        echo "BEGIN;"
        echo "UPDATE alerts SET listed = 1 WHERE id > $lo AND id <= $hi;"
        echo "UPDATE incidents SET listed = 1 WHERE id > $lo AND id <= $hi;"
        echo "UPDATE alert_events SET listed = 1 WHERE seq > $lo AND seq <= $hi;"
        echo "UPDATE events SET listed = 1 WHERE seq > $((2 * lo)) AND seq <= $((2 * hi));"
        echo "COMMIT;"
    done
} >"$DATA/mark.sql"
KEYS="alerts:id:start_time alerts:id:updated_at alerts:id:channel_id,start_time
    alerts:id:progress incidents:id:start_time incidents:id:channel_id,start_time
    incidents:id:progress alert_events:seq:alert_id,event_time alert_events:seq:event_time
    events:seq:feed_ref"
{
    echo "$PRAGMAS BEGIN;"
    i=0
    for k in $KEYS; do
        IFS=: read -r _ key cols <<<"$k"
        echo "CREATE TABLE x$i($cols, $key, PRIMARY KEY($cols, $key)) WITHOUT ROWID;"
        i=$((i + 1))
    done
    echo "COMMIT;"
    for ((lo = 0; lo < N; lo += 1024)); do
        echo "BEGIN;"
        i=0
        for k in $KEYS; do
            IFS=: read -r table key cols <<<"$k"
            m=1
            [ "$table" = events ] && m=2
            echo "INSERT INTO x$i SELECT $cols, $key FROM $table WHERE $key > $((m * lo))" \
                "AND $key <= $((m * (lo + 1024)));"
            i=$((i + 1))
        done
        echo "COMMIT;"
    done
} >"$DATA/fill.sql"
base=$(catch_up_cost none "$DATA/none.sql")
mark=$(catch_up_cost mark "$DATA/mark.sql")
fill=$(catch_up_cost fill "$DATA/fill.sql")
echo "catching up later, instructions per event:"
printf "  %9d  marking the rows listed (UPDATE ... SET listed = 1)\n" $(((mark - base) / N))
printf "  %9d  filling index tables of the same keys\n" $(((fill - base) / N))
