#!/usr/bin/env bash
# bench/crash.sh: the crash test at full size (issue 4).
#
# Builds the release binary and the recording receiver, then runs
# tests/e2e/test_crash.py: EVENTS standard events with distinct alert keys
# from 32 keep-alive pushers, tocsin killed with SIGKILL KILLS times during
# the burst (evenly between 30% and 70% of the answered pushes) and once
# more during the drain if deliveries are still pending, restarted on the
# same data folder each time; then the outbox is drained and every answered
# push, stored event, delivery, arrival at the receiver and history row is
# compared (see the test's docstring). Prints the counts and appends a dated
# section to bench/BENCHMARKS.md. Exits non-zero if anything was lost,
# reordered, partial or phantom.
#
# Usage: bench/crash.sh [EVENTS] [KILLS]     (defaults 100000 2)
#   BUILD=/tmp/build-rel bench/crash.sh      build and run from another
#                                            build folder than ./build
#   STORE=postgres bench/crash.sh            the same on PostgreSQL: a private
#                                            server (tests/support/pg_server.sh,
#                                            fsync and synchronous_commit on)
#                                            for the run, stopped at its end
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-100000}
KILLS=${2:-2}
PUSHERS=32
PY=/usr/bin/python3
OUT=bench/out/crash
mkdir -p "$OUT"
scripts/install-deps.sh test >/dev/null
BUILD=${BUILD:-build}
# The run build plus tests/ (for the receiver): tocsin and $BUILD/tests/tocsin-test-receiver
make -s build BUILD_DIR="$BUILD" CMAKE_ARGS=-DTOCSIN_TESTS=ON >/dev/null
export TOCSIN_BIN="$BUILD/tocsin"
export TOCSIN_RECEIVER="$BUILD/tests/tocsin-test-receiver"
[ -x "$TOCSIN_RECEIVER" ] || { echo "missing $TOCSIN_RECEIVER" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true
STORE=${STORE:-sqlite}
STORE_NOTE="SQLite synchronous=FULL"
if [ "$STORE" = postgres ]; then
    PGSTATE=$(mktemp -d /tmp/tocsin-crash-pg-XXXXXX)
    trap 'tests/support/pg_server.sh stop "$PGSTATE" >/dev/null 2>&1 || true; rm -rf "$PGSTATE"' EXIT
    tests/support/pg_server.sh start "$PGSTATE" >/dev/null
    export TOCSIN_TEST_STORE=postgres TOCSIN_TEST_PG_URL_FILE="$PGSTATE/url"
    STORE_NOTE="PostgreSQL $(ls /usr/lib/postgresql | sort -V | tail -1), a private server, fsync and synchronous_commit on"
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
set +e
$PY tests/e2e/test_crash.py --events "$EVENTS" --kills "$KILLS" --pushers "$PUSHERS" 2>&1 |
    tee "$OUT/run.txt"
RC=${PIPESTATUS[0]}
set -e
WALL=$(($(date +%s) - T0))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
RESULT=$([ "$RC" = 0 ] && echo "passed" || echo "**FAILED** (exit $RC)")
SECTION=$(cat <<MD

## Crash test ($STORE): $(date -u +%Y-%m-%d) ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))

Machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM;
load average $LOAD_BEFORE before the run, $LOAD_AFTER after.
Command: \`$([ "$STORE" = sqlite ] || echo "STORE=$STORE ")bench/crash.sh $EVENTS $KILLS\` (release build, $PUSHERS keep-alive pushers,
tocsin defaults plus --allow-private-targets, $STORE_NOTE; one incident
webhook and one alert webhook to tests/receiver). Wall time $WALL s (build excluded), $RESULT.

\`\`\`
$(grep -E '^(kill |crash: |  )' "$OUT/run.txt")
\`\`\`

answered: pushes answered 200; unknown: pushes in flight at a kill (no answer),
unknown_committed of them turned out stored (all of their webhooks went out, checked
like the rest); lost: an answered push without its alert, or a stored event without
its delivery at the receiver; duplicated: arrivals of an event_id the receiver already
had (attempts in flight at a kill, sent again with the same event_id and
tocsin-sequence); reordered: a lane's tocsin-sequence going backwards other than by
such a repeat; deliveries: requests the receiver recorded.
MD
)
echo "$SECTION"
echo "$SECTION" >>bench/BENCHMARKS.md
exit "$RC"
