#!/usr/bin/env bash
# Several tocsin nodes on this machine: `make cluster`.
#
# Usage: scripts/cluster.sh [--check] [--free-ports]
#   --check       start everything, check it (every node healthy and reached
#                 through nginx, the app key good on each), print the banner,
#                 then stop it all and exit 0 (ctest's cluster.script)
#   --free-ports  nginx and the nodes on free ports instead of the defaults
#
# It starts, all on 127.0.0.1 and all private to this run:
#   - a PostgreSQL server (tests/support/pg_server.sh: a fresh cluster in a
#     folder under /tmp, removed when it stops) and its database `tocsin`;
#   - three tocsin nodes on that database (--store, --node-id node-N, data
#     folders STATE/node-N for their logs), sharing one administrator app
#     key (TOCSIN_ADMIN_APP_KEY, random unless set);
#   - nginx in front of them (STATE/nginx: its generated nginx.conf, pid,
#     logs and temp folders), round-robin over the nodes;
# prints the URL, the app key and a curl command, and waits. Ctrl-C (or
# TERM) stops the nodes, then nginx, then PostgreSQL: the data goes with it
# (this is a cluster to try things on, not to keep).
#
# Environment (make cluster passes its variables of the same names):
#   TOCSIN_BIN           the tocsin binary (default build/tocsin: make build)
#   CLUSTER_STATE        the state folder (default .cluster in the repository)
#   CLUSTER_LISTEN       nginx's address (default 127.0.0.1:8080)
#   CLUSTER_NODE_PORTS   the nodes' ports on 127.0.0.1 (default "8081 8082 8083")
#   CLUSTER_NODE_ARGS    more flags for every node (e.g. --allow-private-targets)
#   TOCSIN_ADMIN_APP_KEY the administrator's app key (16-256 characters)
# Every wait is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
check=false
free=false
for a in "$@"; do
    case $a in
    --check) check=true ;;
    --free-ports) free=true ;;
    *)
        echo "usage: $0 [--check] [--free-ports]" >&2
        exit 2
        ;;
    esac
done

BIN=${TOCSIN_BIN:-$ROOT/build/tocsin}
STATE=${CLUSTER_STATE:-$ROOT/.cluster}
LISTEN=${CLUSTER_LISTEN:-127.0.0.1:8080}
read -r -a PORTS <<<"${CLUSTER_NODE_PORTS:-8081 8082 8083}"
read -r -a NODE_ARGS <<<"${CLUSTER_NODE_ARGS:-}"
KEY=${TOCSIN_ADMIN_APP_KEY:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
START_TRIES=240 # x 0.25 s: a node (under ASan, on a busy machine) or nginx coming up

say() { echo "cluster: $*"; }
die() {
    echo "cluster: $*" >&2
    exit 1
}

[ -x "$BIN" ] || die "no tocsin at $BIN (make build makes it)"
[ ${#PORTS[@]} -eq 3 ] || die "CLUSTER_NODE_PORTS must name three ports"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "no nginx (scripts/install-deps.sh cluster installs it)"
command -v curl >/dev/null || die "no curl (scripts/install-deps.sh cluster installs it)"
PSQL=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql
[ -x "$PSQL" ] || PSQL=$(command -v psql) || die "no psql (scripts/install-deps.sh cluster)"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
if $free; then
    LISTEN=127.0.0.1:$(free_port)
    PORTS=("$(free_port)" "$(free_port)" "$(free_port)")
fi
URL=http://$LISTEN

mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)

# ---- stopping: nodes first (they give their leases back), nginx, PostgreSQL --
node_pids=()
nginx_pid=""
pg_started=false
failed_stop=false

alive() { # the process runs (a zombie, exited but not yet reaped, does not)
    local s
    s=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${s#Z}" = "$s" ]
}

stop_pid() { # stop_pid PID NAME SIGNAL SECONDS: signal it, wait, then SIGKILL
    local pid=$1 name=$2 sig=$3 secs=$4 i rc=0
    alive "$pid" || {
        wait "$pid" 2>/dev/null || rc=$?
        [ "$rc" -eq 0 ] || { say "$name had exited with $rc"; failed_stop=true; }
        return 0
    }
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        say "$name did not stop in ${secs}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        failed_stop=true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    if [ "$rc" -ne 0 ]; then
        say "$name exited with $rc (its log: below)"
        failed_stop=true
    fi
    return 0
}

teardown() {
    local rc=$? i
    case $rc in 130 | 143) rc=0 ;; esac # stopped by Ctrl-C or TERM, as asked
    trap - EXIT INT TERM
    set +e
    echo
    say "stopping"
    for i in "${!node_pids[@]}"; do
        stop_pid "${node_pids[$i]}" "node-$((i + 1))" TERM 60
    done
    [ -n "$nginx_pid" ] && stop_pid "$nginx_pid" nginx QUIT 15
    $pg_started && "$ROOT/tests/support/pg_server.sh" stop "$STATE/pg" >/dev/null
    if $failed_stop || [ "$rc" -ne 0 ]; then
        for i in 1 2 3; do
            [ -f "$STATE/node-$i/tocsin.log" ] && {
                echo "--- node-$i: $STATE/node-$i/tocsin.log (last lines)"
                tail -n 15 "$STATE/node-$i/tocsin.log"
            }
        done
        [ -f "$STATE/nginx/error.log" ] && {
            echo "--- nginx: $STATE/nginx/error.log (last lines)"
            tail -n 15 "$STATE/nginx/error.log"
        }
    fi
    $failed_stop && [ "$rc" -eq 0 ] && rc=1
    say "stopped (exit $rc)"
    exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Children run in sessions of their own: Ctrl-C reaches this script alone,
# which stops them in order.

# ---- PostgreSQL -------------------------------------------------------------
say "starting PostgreSQL"
pg_started=true
setsid -w "$ROOT/tests/support/pg_server.sh" start "$STATE/pg" >"$STATE/pg.out" ||
    die "PostgreSQL did not start: $(cat "$STATE/pg.out")"
pg_url=$(cat "$STATE/pg/url")
"$PSQL" -X -q -v ON_ERROR_STOP=1 "${pg_url}postgres" -c 'CREATE DATABASE tocsin' ||
    die "cannot create the database tocsin"
STORE=${pg_url}tocsin

# ---- the nodes ----------------------------------------------------------------
health() { curl -fsS --max-time 2 "$1/healthz" 2>/dev/null; }

wait_healthy() { # wait_healthy URL PID NAME
    local i
    for ((i = 0; i < START_TRIES; i++)); do
        health "$1" >/dev/null && return 0
        alive "$2" || die "$3 exited at start"
        sleep 0.25
    done
    die "$3 did not answer $1/healthz"
}

for i in 1 2 3; do
    dir=$STATE/node-$i
    rm -rf "$dir"
    mkdir -p "$dir"
    port=${PORTS[$((i - 1))]}
    say "starting node-$i on 127.0.0.1:$port"
    # The first node makes the schema and the administrator; the others
    # start on what it made, one at a time.
    TOCSIN_ADMIN_APP_KEY=$KEY setsid "$BIN" serve --listen "127.0.0.1:$port" --data "$dir" \
        --store "$STORE" --node-id "node-$i" "${NODE_ARGS[@]}" \
        >"$dir/tocsin.out" 2>"$dir/tocsin.log" &
    node_pids+=($!)
    wait_healthy "http://127.0.0.1:$port" "$!" "node-$i"
done

# ---- nginx ----------------------------------------------------------------------
ng=$STATE/nginx
rm -rf "$ng"
mkdir -p "$ng/tmp"
{
    echo "# Generated by scripts/cluster.sh: nginx in front of the three nodes."
    echo "daemon off;"
    echo "pid $ng/nginx.pid;"
    echo "error_log $ng/error.log warn;"
    echo "worker_processes 1;"
    echo "events { worker_connections 1024; }"
    echo "http {"
    echo "    access_log $ng/access.log;"
    for t in client_body proxy fastcgi uwsgi scgi; do
        echo "    ${t}_temp_path $ng/tmp/$t;"
    done
    echo "    client_max_body_size 16m;"
    echo "    upstream tocsin {"
    for p in "${PORTS[@]}"; do
        echo "        server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"
    done
    echo "        keepalive 32;"
    echo "    }"
    echo "    server {"
    echo "        listen $LISTEN;"
    echo "        location / {"
    echo "            proxy_pass http://tocsin;"
    echo "            proxy_http_version 1.1;"
    echo "            proxy_set_header Connection \"\";"
    echo "            proxy_set_header Host \$http_host;"
    echo "            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
    echo "            # A node that is down (or answers 502/503) is skipped;"
    echo "            # a request is sent again only if nothing was sent yet."
    echo "            proxy_next_upstream error timeout http_502 http_503;"
    echo "            proxy_connect_timeout 2s;"
    echo "        }"
    echo "    }"
    echo "}"
} >"$ng/nginx.conf"
"$NGINX" -t -q -p "$ng/" -c "$ng/nginx.conf" -e "$ng/error.log" ||
    die "nginx refused its configuration ($ng/nginx.conf)"
say "starting nginx on $LISTEN"
setsid "$NGINX" -p "$ng/" -c "$ng/nginx.conf" -e "$ng/error.log" &
nginx_pid=$!

# ---- checks: every node reached through nginx, the buckets spread ----------
seen=""
for ((i = 0; i < START_TRIES; i++)); do
    alive "$nginx_pid" || die "nginx exited at start"
    id=$(health "$URL" | grep -o '"node_id": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/') || true
    [ -n "$id" ] && case " $seen " in *" $id "*) ;; *) seen="$seen $id" ;; esac
    [ "$(wc -w <<<"$seen")" -eq 3 ] && break
    sleep 0.25
done
[ "$(wc -w <<<"$seen")" -eq 3 ] || die "through nginx only these nodes answered:$seen"
spread=""
for ((i = 0; i < START_TRIES; i++)); do
    spread="" total=0
    for p in "${PORTS[@]}"; do
        n=$(health "http://127.0.0.1:$p" | grep -o '"buckets": *[0-9]*' | grep -o '[0-9]*$') ||
            n=0
        spread="$spread ${n:-0}"
        total=$((total + ${n:-0}))
    done
    # Every bucket held, and by every node some (the first node starts
    # with all of them and lets go of the others' shares).
    [ "$total" -eq 64 ] && ! grep -qw 0 <<<"$spread" && break
    sleep 0.25
done
[ "$total" -eq 64 ] && ! grep -qw 0 <<<"$spread" ||
    die "the nodes hold$spread of the 64 buckets"
if $check; then
    for p in "${PORTS[@]}" "${LISTEN##*:}"; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
            "http://127.0.0.1:$p/channel/list?app_key=$KEY" -H 'Content-Type: application/json' \
            -d '{}')
        [ "$code" = 200 ] || die "POST /channel/list with the app key on port $p: HTTP $code"
    done
fi

read -r -a held <<<"$spread"
cat <<EOF

tocsin: 3 nodes on PostgreSQL behind nginx
  url:      $URL  (nginx, round-robin over the nodes)
  console:  $URL/  (log in with the app key)
  nodes:    node-1 http://127.0.0.1:${PORTS[0]} (${held[0]} buckets)
            node-2 http://127.0.0.1:${PORTS[1]} (${held[1]} buckets)
            node-3 http://127.0.0.1:${PORTS[2]} (${held[2]} buckets)
  store:    $STORE  (a private PostgreSQL, removed at stop)
  logs:     $STATE/node-N/tocsin.log, $ng/error.log
  app key:  $KEY$([ -n "${TOCSIN_ADMIN_APP_KEY:-}" ] && echo "  (from TOCSIN_ADMIN_APP_KEY)")

Try it:
  curl -s -X POST '$URL/channel/list?app_key=$KEY' \\
       -H 'Content-Type: application/json' -d '{}'
  curl -s $URL/healthz   # which node answered, and its leases

Stop with Ctrl-C (the nodes, nginx and PostgreSQL; the data goes with it).

EOF
if $check; then
    say "check passed: three nodes healthy, each reached through nginx, the app key good on each"
    exit 0
fi

# ---- running until stopped, or until something dies ------------------------------
set +e
wait -n "${node_pids[@]}" "$nginx_pid"
rc=$?
for i in "${!node_pids[@]}"; do
    alive "${node_pids[$i]}" || say "node-$((i + 1)) exited"
done
alive "$nginx_pid" || say "nginx exited"
exit $((rc == 0 ? 1 : rc))
