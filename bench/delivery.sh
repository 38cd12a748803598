#!/usr/bin/env bash
# bench/delivery.sh: webhook delivery of tocsin vs Alertmanager 0.25.
#
# Measures, in one run, over 127.0.0.1 only:
#   1. deliveries/s to a local nginx answering 200, for a backlog of N_SMALL
#      and N_LARGE new incidents, every attempt recorded (deliveries row +
#      webhook_history row committed);
#   2. new incident -> arrival latency p50/p99 at RATE pushes/s for SECS s,
#      at the recording receiver (tests/receiver, build/tests/tocsin-test-receiver);
#   3. the same for Alertmanager 0.25 (webhook_configs to the same nginx /
#      the same receiver), and the ratios;
#   4. isolation: the N_LARGE drain again with a second webhook whose
#      endpoint never answers (the receiver's /hang/), subscribed to the
#      same events: the healthy webhook's deliveries/s as a % of (1).
#
# Method for tocsin's throughput (delivery apart from ingest, which is
# measured by bench/ingest.sh): a fresh tocsin per scenario; create the
# webhook, disable it, push N standard events with distinct alert keys (each
# opens an incident: one i_new per webhook), wait for N pending deliveries,
# enable it, and time from just before the enable call until the last
# delivery is recorded as delivered (its row's updated_at, the writer's
# clock of the batch that recorded it; the webhook_history row is written in
# the same transaction, and the run checks there are N of them).
#
# Usage: bench/delivery.sh [N_SMALL] [N_LARGE] [RATE] [SECS]   (defaults 5000 50000 200 10)
#   ISO_N=20000 bench/delivery.sh     isolation with a smaller backlog (and a
#                                     baseline of the same size, measured too)
#   DELIVERY_PERF=1 bench/delivery.sh adds one more N_LARGE drain under
#                                     perf record (call graphs; not used for any
#                                     figure): bench/out/delivery/perf.txt
#   BIN=<other build>/tocsin bench/delivery.sh   measures that build instead
# Writes a dated section into bench/BENCHMARKS.md and prints it. Every wait
# is bounded; the whole run stops by itself (about 3 minutes here).
set -euo pipefail
cd "$(dirname "$0")/.."
N_SMALL=${1:-5000}
N_LARGE=${2:-50000}
RATE=${3:-200}
SECS=${4:-10}
ISO_N=${ISO_N:-$N_LARGE}
PUSH_THREADS=32
OUT=bench/out/delivery
PY=/usr/bin/python3
LOAD="$PY bench/delivery_load.py"
MEASURE="$PY bench/delivery_measure.py"
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/perf.txt "$OUT"/*.log "$OUT"/*.out
scripts/install-deps.sh test >/dev/null
# The run build plus tests/ (for the receiver): tocsin and build/tests/tocsin-test-receiver
make -s build CMAKE_ARGS=-DTOCSIN_TESTS=ON >/dev/null
BIN=${BIN:-./build/tocsin}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
RECEIVER=build/tests/tocsin-test-receiver
[ -x "$RECEIVER" ] || { echo "missing $RECEIVER (make build CMAKE_ARGS=-DTOCSIN_TESTS=ON)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true

KEY=bench-admin-key-0123456789abcdef
. bench/lib.sh
bench_tmp dbench
now_ms() { date +%s%3N; }
# jget FILE KEY[.KEY...]: one value from a JSON file.
jget() { $PY -c 'import json,sys
v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# Each scenario starts on a quiet disk: the previous one leaves GBs of WAL
# being written back, which would stretch this one's fsyncs.
settle_disk() { sync; sleep 2; }

# --- nginx: two servers answering 200 "ok" --------------------------------
# NGX_T (tocsin's target): access_log off. NGX_A (Alertmanager's target): a
# buffered access log with the arrival time, the only way to count
# Alertmanager's notifications (it records nothing itself).
NGX_T=$(free_port); NGX_A=$(free_port)
bench_nginx "access_log off;" \
    "log_format arrival '\$msec \$connection \$request_uri';" \
    "server { listen 127.0.0.1:$NGX_T; location / { return 200 \"ok\"; } }" \
    "server { listen 127.0.0.1:$NGX_A; location / { return 200 \"ok\"; }" \
    "    access_log $TMP/nginx/am-access.log arrival buffer=64k flush=100ms; }"
wait_http "http://127.0.0.1:$NGX_T/"
wait_http "http://127.0.0.1:$NGX_A/ready"

# --- the recording receiver (latency, and the dead endpoint) ------------
RX_RECORDS="$TMP/rx.jsonl"
"$RECEIVER" --listen 127.0.0.1:0 --record "$RX_RECORDS" >"$TMP/rx.out" 2>"$TMP/rx.log" &
PIDS+=("$!")
for _ in $(seq 1 100); do grep -q '^listening' "$TMP/rx.out" 2>/dev/null && break; sleep 0.05; done
RX=$(awk '/^listening/ {print $2}' "$TMP/rx.out")
[ -n "$RX" ] || { echo "receiver did not start" >&2; exit 1; }

# --- tocsin helpers ---------------------------------------------------------
PORT=""; TPID=""; DB=""; IKEY=""
start_tocsin() { # a fresh tocsin with a channel and a standard alert source
    local data; data=$(mktemp -d "$TMP/tocsin-XXXXXX")
    PORT=$(free_port); DB="$data/tocsin.db"
    TOCSIN_ADMIN_APP_KEY=$KEY "$BIN" serve --listen 127.0.0.1:$PORT --data "$data" \
        --log-level warn --allow-private-targets --rate-limit-event 0 --rate-limit-api 0 \
        >>"$OUT/tocsin.out" 2>>"$OUT/tocsin.log" &
    TPID=$!; PIDS+=("$TPID")
    wait_http "http://127.0.0.1:$PORT/healthz"
    local ch
    ch=$(api /channel/create '{"channel_name":"bench","team_id":0}' | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["channel_id"])')
    IKEY=$(api /integration/create "{\"type\":\"alert_standard\",\"name\":\"bench\",\"channel_id\":$ch}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_key"])')
}
stop_tocsin() { stop_pid "$TPID"; rm -rf "$(dirname "$DB")"; }
make_hook() { # name endpoint -> integration_id
    api /integration/create "{\"type\":\"webhook_incident\",\"name\":\"$1\",\"endpoint\":\"$2\"}" |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["integration_id"])'; }
hook() { api "/integration/$1" "{\"integration_id\":$2}" >/dev/null; } # enable|disable id

# prepare LABEL N NAME...: a fresh tocsin with one webhook per NAME, all
# disabled (NAME "dead" points at the receiver's /hang/, the others at
# nginx); N events pushed; N pending deliveries awaited for each webhook.
declare -A HOOKS
prepare() {
    local label=$1 n=$2 name url; shift 2
    settle_disk
    start_tocsin
    HOOKS=()
    for name in "$@"; do
        url="http://127.0.0.1:$NGX_T/$label/$name"
        [ "$name" != dead ] || url="http://127.0.0.1:$RX/hang/$label"
        HOOKS[$name]=$(make_hook "$name" "$url")
        hook disable "${HOOKS[$name]}"
    done
    echo "tocsin $label: pushing $n new incidents ($# webhooks, disabled)..." >&2
    $LOAD push-burst "$PORT" "$IKEY" "$n" "$label" $PUSH_THREADS >"$OUT/push-$label.json"
    for name in "$@"; do $MEASURE pending "$DB" "${HOOKS[$name]}" "$n" 120 >/dev/null; done
}

# timed_drain LABEL NAME N [with-dead]: enables webhook NAME and times its
# drain of N deliveries; writes $OUT/drain-LABEL.json and threads-LABEL.json.
# with-dead: the "dead" webhook is enabled just before the clock starts and
# disabled again after the drain.
timed_drain() {
    local label=$1 name=$2 n=$3 with_dead=${4:-} hid=${HOOKS[$2]} before t0 t1 secs
    # The first write after a burst of writes restarts SQLite's WAL and
    # truncates it to journal_size_limit, which stalls the writer (see the
    # report): pay that before the clock starts, the same way for every
    # drain, and record how big the WAL was and how long that write took.
    sleep 1
    local wal_before s0 stall_ms
    wal_before=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
    s0=$(now_ms)
    api /channel/create "{\"channel_name\":\"settle-$label\",\"team_id\":0}" >/dev/null
    stall_ms=$(( $(now_ms) - s0 ))
    local dead_on=""
    if [ -n "$with_dead" ]; then
        dead_on=$(now_ms)
        hook enable "${HOOKS[dead]}"
    fi
    before=$($MEASURE threads "$TPID")
    local perf_pid=""
    if [ "$label" = "perf" ]; then # not a figure: perf slows what it watches
        perf record -F 999 --call-graph dwarf,16384 -p "$TPID" -o "$TMP/perf.data" \
            -- sleep "${PERF_SECS:-4}" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 1 # let perf attach before the clock starts
    fi
    echo "tocsin $label: enabling, timing the drain..." >&2
    t0=$(now_ms)
    hook enable "$hid"
    $MEASURE drain "$DB" "$hid" "$n" "$t0" 300 >"$OUT/drain-$label.json" || true
    t1=$(now_ms)
    secs=$($PY -c "print(max(($t1 - $t0) / 1000, 0.001))")
    $MEASURE threads "$TPID" "$before" "$secs" >"$OUT/threads-$label.json"
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid" || true
        { echo "# self time by thread and library"
          perf report -i "$TMP/perf.data" --no-children --sort comm,dso -q -g none 2>/dev/null | head -25
          echo "# the dispatcher thread, inclusive (children), by function"
          perf report -i "$TMP/perf.data" --children --comm tocsin-deliver --sort sym -q -g none \
              2>/dev/null | head -60
          echo "# the writer thread, inclusive, by function"
          perf report -i "$TMP/perf.data" --children --comm tocsin-writer --sort sym -q -g none \
              2>/dev/null | head -40
        } >"$OUT/perf.txt" || true
    fi
    # Connections tocsin holds to nginx (kept alive) and closed ones.
    local est tw wal dead_json="{}"
    est=$(ss -Htn state established "( dport = :$NGX_T )" | wc -l)
    tw=$(ss -Htn state time-wait "( dport = :$NGX_T )" | wc -l)
    wal=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
    if [ -n "$with_dead" ]; then
        # What the dead webhook did meanwhile: its attempts recorded since it
        # was enabled (each ends after its 1 s timeout).
        dead_json=$(sqlite3 "file:$DB?mode=ro" "SELECT json_object('attempts', COUNT(*),
            'failed', SUM(status='failed'), 'timed_out', SUM(error_message LIKE '%timed out%'),
            'pending_left', (SELECT COUNT(*) FROM deliveries WHERE integration_id=${HOOKS[dead]}
                             AND status='pending'))
            FROM webhook_history WHERE integration_id=${HOOKS[dead]} AND created_at >= $dead_on")
        hook disable "${HOOKS[dead]}"
        sleep 1.2 # its attempts in flight run out their 1 s timeout
    fi
    $PY - "$OUT/drain-$label.json" "$est" "$tw" "$wal" "$dead_json" "$wal_before" "$stall_ms" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d.update({"conns_established": int(sys.argv[2]), "conns_time_wait": int(sys.argv[3]),
          "wal_bytes": int(sys.argv[4]), "dead": json.loads(sys.argv[5]),
          "wal_after_ingest_bytes": int(sys.argv[6]), "first_write_ms": int(sys.argv[7])})
json.dump(d, open(p, "w"))
PY
}

tocsin_latency() {
    settle_disk
    start_tocsin
    make_hook "receiver" "http://127.0.0.1:$RX/ok/tocsin" >/dev/null
    echo "tocsin latency: $RATE pushes/s for ${SECS}s..." >&2
    $LOAD push-paced "$PORT" "$IKEY" "$RATE" "$SECS" tl "$TMP/sent-tocsin.jsonl" >"$OUT/paced-tocsin.json"
    $MEASURE latency "$TMP/sent-tocsin.jsonl" "$RX_RECORDS" /ok/tocsin tocsin >"$OUT/latency-tocsin.json" || true
    stop_tocsin
}

# --- Alertmanager helpers -----------------------------------------------------
# Each alert has its own `key` label and the route groups by it, so every
# alert is its own group and its own notification; group_wait 0s (the
# smallest it accepts) sends a new group at once; send_resolved false and a
# 24 h repeat_interval keep anything else from going out. No cluster (so no
# peer wait before notifying).
AMPORT=""; APID=""
start_am() { # webhook url
    local dir; dir=$(mktemp -d "$TMP/am-XXXXXX")
    AMPORT=$(free_port)
    cat >"$dir/am.yml" <<YML
route:
  receiver: hook
  group_by: ['key']
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 24h
receivers:
- name: hook
  webhook_configs:
  - url: $1
    send_resolved: false
YML
    cp "$dir/am.yml" "$OUT/am.yml"
    prometheus-alertmanager --config.file="$dir/am.yml" --storage.path="$dir/data" \
        --web.listen-address=127.0.0.1:$AMPORT --cluster.listen-address= \
        --log.level=warn >>"$OUT/am.log" 2>&1 &
    APID=$!; PIDS+=("$APID")
    wait_http "http://127.0.0.1:$AMPORT/-/ready"
}

am_drain() { # label n
    local label=$1 n=$2
    settle_disk
    start_am "http://127.0.0.1:$NGX_A/am/$label"
    echo "alertmanager $label: posting $n alerts..." >&2
    $LOAD am-burst "$AMPORT" "$n" "$label" 500 4 >"$OUT/am-post-$label.json"
    local t0; t0=$(jget "$OUT/am-post-$label.json" start_ms)
    $MEASURE arrivals "$TMP/nginx/am-access.log" "/am/$label" "$n" "$t0" 300 >"$OUT/am-drain-$label.json" || true
    stop_pid "$APID"
}

am_latency() {
    settle_disk
    start_am "http://127.0.0.1:$RX/ok/am"
    echo "alertmanager latency: $RATE alerts/s for ${SECS}s..." >&2
    $LOAD am-paced "$AMPORT" "$RATE" "$SECS" al "$TMP/sent-am.jsonl" >"$OUT/paced-am.json"
    $MEASURE latency "$TMP/sent-am.jsonl" "$RX_RECORDS" /ok/am am >"$OUT/latency-am.json" || true
    stop_pid "$APID"
}

# --- the runs -------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
prepare small "$N_SMALL" ok
timed_drain small ok "$N_SMALL"
stop_tocsin
prepare large "$N_LARGE" ok
timed_drain large ok "$N_LARGE"
stop_tocsin
# Isolation: one tocsin, four healthy webhooks and the dead one, all fed the
# same ISO_N events; drains without (A) and with the dead webhook (B) in the
# order A1 B1 B2 A2, so that a drift from one drain to the next (the
# database and its WAL grow with every drain) weighs the same on both sides.
prepare iso "$ISO_N" A1 B1 B2 A2 dead
timed_drain isoA1 A1 "$ISO_N"
timed_drain isoB1 B1 "$ISO_N" with-dead
timed_drain isoB2 B2 "$ISO_N" with-dead
timed_drain isoA2 A2 "$ISO_N"
stop_tocsin
if [ "${DELIVERY_PERF:-0}" = 1 ]; then
    prepare perf "$N_LARGE" ok
    timed_drain perf ok "$N_LARGE"
    stop_tocsin
fi
tocsin_latency
am_drain small "$N_SMALL"
am_drain large "$N_LARGE"
am_latency
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report -------------------------------------------------------------
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
DISK=$(df -h "$TMP" 2>/dev/null | awk 'NR==2 {print $1}')
REPORT=$($PY - "$OUT" "$N_SMALL" "$N_LARGE" "$ISO_N" "$RATE" "$SECS" <<'PY'
import json, os, sys
out, n_small, n_large, iso_n, rate, secs = sys.argv[1:7]
def j(name):
    try:
        return json.load(open(os.path.join(out, name)))
    except (OSError, ValueError):
        return {}
def num(v, fmt="{:,.0f}"):
    return fmt.format(v) if isinstance(v, (int, float)) else "n/a"
def ok(good):
    return "yes" if good else "**no**"
ds, dl = j("drain-small.json"), j("drain-large.json")
iso_a = [j("drain-isoA1.json"), j("drain-isoA2.json")]
iso_b = [j("drain-isoB1.json"), j("drain-isoB2.json")]
as_, al = j("am-drain-small.json"), j("am-drain-large.json")
lt, la = j("latency-tocsin.json"), j("latency-am.json")
ts, tl_ = j("threads-small.json"), j("threads-large.json")
def rate_(d): return d.get("per_s") or 0
def am_rate(d): return d.get("per_s_first_to_last") or 0
def ratio(a, b): return a / b if b else 0
r_s, r_l = ratio(rate_(ds), am_rate(as_)), ratio(rate_(dl), am_rate(al))
def mean(xs): return sum(xs) / len(xs) if xs else 0
iso_without = mean([rate_(d) for d in iso_a])
iso_with = mean([rate_(d) for d in iso_b])
iso_pct = 100.0 * ratio(iso_with, iso_without)
tp50, tp99 = lt.get("from_send", {}).get("p50"), lt.get("from_send", {}).get("p99")
ap50, ap99 = la.get("from_send", {}).get("p50"), la.get("from_send", {}).get("p99")
rows = []
rows.append("| | tocsin | Alertmanager 0.25 | tocsin / AM | target | met |")
rows.append("|---|---|---|---|---|---|")
for lbl, d, a, r in (("deliveries/s, %s backlog" % num(int(n_small)), ds, as_, r_s),
                     ("deliveries/s, %s backlog" % num(int(n_large)), dl, al, r_l)):
    rows.append("| %s | %s | %s | %.1fx | >= 20,000/s, >= 5x AM | %s, %s |" % (
        lbl, num(rate_(d)), num(am_rate(a)), r, ok(rate_(d) >= 20000), ok(r >= 5)))
rows.append("| latency p50, new incident -> arrival (ms) | %s | %s | | <= 2 | %s |" % (
    num(tp50, "{:.1f}"), num(ap50, "{:.1f}"), ok(tp50 is not None and tp50 <= 2)))
rows.append("| latency p99 (ms) | %s | %s | | <= 10 | %s |" % (
    num(tp99, "{:.1f}"), num(ap99, "{:.1f}"), ok(tp99 is not None and tp99 <= 10)))
rows.append("| isolation: a healthy webhook's rate beside a dead one (%s backlog) | %s/s vs %s/s alone = %.0f%% | | | >= 95%% | %s |" % (
    num(int(iso_n)), num(iso_with), num(iso_without), iso_pct, ok(iso_pct >= 95)))
print("\n".join(rows))
print()
print("Every tocsin drain, checked (an attempt is counted once its deliveries row and its webhook_history row are committed):")
print()
print("| drain | N | delivered | history rows | max attempt | first recorded (s) | drain (s) | attempt ms avg/max | thread CPU % of a core during the drain | CPU µs per delivery: dispatcher / writer / recorder | connections to nginx after (open / TIME-WAIT) | WAL after ingest / first write after it | WAL at end |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for lbl in ("small", "large", "isoA1", "isoB1", "isoB2", "isoA2", "perf"):
    d = j("drain-%s.json" % lbl)
    if not d:
        continue
    th = j("threads-%s.json" % lbl)
    thr = ", ".join("%s %s" % (k.replace("tocsin-", ""), v)
                    for k, v in th.get("share", {}).items() if k != "tocsin")
    cpu = th.get("cpu_s", {})
    per = " / ".join("%.0f" % (1e6 * cpu.get(t, 0) / max(d.get("delivered") or 1, 1))
                     for t in ("tocsin-deliver", "tocsin-writer", "tocsin-record"))
    print("| %s | %s | %s | %s (%s) | %s | %s | %s | %s / %s | %s | %s | %s / %s | %s MB / %s ms | %s MB |" % (
        lbl, num(d.get("n")), num(d.get("delivered")), num(d.get("history_rows")),
        ", ".join("%s %s" % kv for kv in d.get("history_by_status", {}).items()),
        d.get("max_attempt"), d.get("first_recorded_s"), d.get("seconds"),
        d.get("attempt_ms_avg"), d.get("attempt_ms_max"), thr, per,
        d.get("conns_established"), d.get("conns_time_wait"),
        (d.get("wal_after_ingest_bytes") or 0) // (1 << 20), d.get("first_write_ms"),
        (d.get("wal_bytes") or 0) // (1 << 20)))
print()
print("Isolation drains, healthy webhook alone (A) and beside the dead one (B): %s." % ", ".join(
    "%s %s/s" % (l, num(rate_(d))) for l, d in zip(("A1", "B1", "B2", "A2"), (iso_a[0], iso_b[0], iso_b[1], iso_a[1]))))
for l, d in zip(("B1", "B2"), iso_b):
    dd = d.get("dead") or {}
    if dd:
        print("Dead webhook during %s: %s attempts recorded by the drain's end (%s failed, %s timed out); %s of its deliveries still pending (retrying)." % (
            l, dd.get("attempts"), dd.get("failed"), dd.get("timed_out"), dd.get("pending_left")))
print()
for lbl, a, p in (("small", as_, j("am-post-small.json")), ("large", al, j("am-post-large.json"))):
    if a:
        print("Alertmanager %s: %s of %s notifications arrived; first %.3f s, last %.3f s after the first POST; "
              "posting took %.2f s; %s/s first to last arrival (the figure above), %s/s from the first POST; %s connections." % (
            lbl, num(a.get("arrived")), num(a.get("n")), a.get("first_s", 0), a.get("last_s", 0),
            (p.get("end_ms", 0) - p.get("start_ms", 0)) / 1000, num(a.get("per_s_first_to_last")),
            num(a.get("per_s_from_post_start")), num(a.get("connections"))))
print()
def lat(d):
    return "p50 %s / p99 %s / max %s ms" % (d.get("p50"), d.get("p99"), d.get("max"))
pt, pa = j("paced-tocsin.json"), j("paced-am.json")
if lt:
    print("tocsin latency (%s pushes at %s/s, %s sent over 5 ms late, %s arrived): arrival - push sent %s; the push's own answer (ingest, fsync'ed) %s; "
          "arrival - push answered %s; arrival - event_time (the batch's clock, before its commit) %s." % (
        lt.get("sent"), rate, pt.get("sent_late_over_5ms"), lt.get("arrived"), lat(lt.get("from_send", {})), lat(lt.get("push_answer", {})),
        lat(lt.get("from_answer", {})), lat(lt.get("from_event_time", {}))))
if la:
    print("Alertmanager latency (%s alerts at %s/s, %s sent over 5 ms late, %s arrived): arrival - POST sent %s; the POST's answer %s." % (
        la.get("sent"), rate, pa.get("sent_late_over_5ms"), la.get("arrived"), lat(la.get("from_send", {})), lat(la.get("push_answer", {}))))
PY
)

SECTION=$(cat <<MD

## Delivery: $(date -u +%Y-%m-%d) ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))

Machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, data on $DISK;
load average $LOAD_BEFORE before the run, $LOAD_AFTER after.
Command: \`bench/delivery.sh $N_SMALL $N_LARGE $RATE $SECS\`$([ "$ISO_N" = "$N_LARGE" ] || echo " with ISO_N=$ISO_N")$(build_note).

How: nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') (1 worker, keep-alive, \`return 200 "ok"\`) is the endpoint for
throughput; tocsin-test-receiver (records arrival t_ms, whole ms) for latency and as the dead endpoint (/hang/).
tocsin: defaults (SQLite, synchronous=FULL) plus --allow-private-targets; one webhook_incident per
scenario with default policy (timeout 1 s, ordered, signed); a fresh tocsin per scenario. Throughput:
webhook disabled, N events pushed (distinct keys, one i_new each), N pending rows awaited, one
settling write (the first write after the ingest truncates SQLite's WAL; timed separately below),
then timed from the enable call to the last delivery committed as delivered with its history row. Latency: webhook
to the receiver, $RATE pushes/s for ${SECS}s paced open-loop from 32 keep-alive connections; latency =
arrival - push sent (includes the push's own fsync'ed commit). Isolation: one tocsin with four
healthy webhooks and one to /hang/ (never answers; timeout 1 s, default retries), all subscribed to
the same events; drains alternate alone / beside the dead one (enabled just before the clock
starts), in the order A1 B1 B2 A2 so that drift from drain to drain cancels; the figure is
mean(B) / mean(A). Every scenario starts after \`sync\` and 2 s of quiet.
Alertmanager 0.25: group_by [key] (each alert its own notification), group_wait 0s, group_interval 1m,
repeat_interval 24h, send_resolved false, no cluster, webhook_configs to the same nginx (a second
server block that logs \$msec per request, buffered, to count arrivals); alerts POSTed to
/api/v2/alerts in batches of 500 from 4 connections (it ingests and notifies at the same time; its
rate is counted from the first to the last arrival, which favours it); latency: one alert per POST,
same pacing, arrival at the same receiver - POST sent. Alertmanager stores no per-attempt record;
tocsin's figure includes writing one per attempt.

$REPORT
MD
)
echo "$SECTION"
[ -f bench/BENCHMARKS.md ] || printf '# Benchmarks\n\nEvery figure here comes from a script in bench/ that anyone can run; each\nsection names its command, machine and commit.\n' > bench/BENCHMARKS.md
echo "$SECTION" >> bench/BENCHMARKS.md
