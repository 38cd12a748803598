# bench/lib.sh: helpers the benchmark scripts share (sourced, not run).
# api() talks to the tocsin on $PORT with the admin key $KEY; wrk_* read
# the output file of `wrk --latency`. Loopback only.
free_port() { ${PY:-python3} -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }
api() { curl -fsS -X POST "http://127.0.0.1:$PORT$1?app_key=$KEY" -H 'Content-Type: application/json' -d "$2"; }
# wrk prints latency like 1.23ms / 456.00us / 1.20s: normalise to ms.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; printf "%.2f", v}'; }
wrk_field() { # file, label (50% or 99%)
    grep -E "^ +$2 " "$1" | awk '{print $2}' | to_ms; }
wrk_rps() { grep '^Requests/sec' "$1" | awk '{printf "%d", $2}'; }
wrk_non2xx() { (grep 'Non-2xx' "$1" || echo "x x x x 0") | awk '{print $NF}'; }
wrk_total() { grep 'requests in' "$1" | awk '{print $1}'; }

# bench_tmp NAME: TMP, a new folder /tmp/tocsin-NAME-XXXXXX, and PIDS, the
# processes the script starts (it appends to it). However the script ends,
# every one of them is stopped and waited for, and TMP is removed.
bench_tmp() {
    TMP=$(mktemp -d "/tmp/tocsin-$1-XXXXXX")
    PIDS=()
    trap bench_cleanup EXIT
}
bench_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}

# bench_nginx LINE...: starts nginx (one worker, keep-alive connections kept
# open, files in $TMP/nginx) with the given lines (servers, logs) at the end
# of its http block; its pid goes in NPID and PIDS. The caller waits for it.
bench_nginx() {
    mkdir -p "$TMP/nginx"
    {
        cat <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_temp_path $TMP/nginx/body;
CONF
        printf '    %s\n' "$@"
        echo "}"
    } >"$TMP/nginx/nginx.conf"
    "${NGINX:-nginx}" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/error.log" &
    NPID=$!
    PIDS+=("$NPID")
}

# build_note: " with BIN=path (version)" when $BIN is not the default build,
# else nothing; its status is 0 either way (a report's assignment under
# set -e takes the status of its last command substitution).
build_note() { [ "$BIN" = ./build/tocsin ] || echo " with BIN=$BIN ($("$BIN" --version 2>/dev/null | head -1))"; }

# writer_batch: "commands batches per-commit" from the /metrics of the
# tocsin on $PORT: how many requests each group commit carried (the setup's
# few calls included).
writer_batch() {
    curl -fsS "http://127.0.0.1:$PORT/metrics" | awk '
        /^tocsin_writer_commands_total / {c = $2} /^tocsin_writer_batches_total / {b = $2}
        END {printf "%d %d %.1f", c, b, (b > 0 ? c / b : 0)}'
}
