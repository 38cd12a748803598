#!/usr/bin/env bash
# A private PostgreSQL server for one test run: the e2e suite's second
# engine (ctest's fixture tests pg.start and pg.stop, tests/CMakeLists.txt).
#
# Usage: tests/support/pg_server.sh start STATE   start a server, print its URL
#        tests/support/pg_server.sh stop STATE    stop it, remove its folder
#        tests/support/pg_server.sh url STATE     print the URL of the running one
#
# STATE is a folder of the caller's (ctest: build-asan/tests/pg) where the
# server is recorded: STATE/url holds the base URL the tests use,
# postgres://tocsin@127.0.0.1:PORT/ (a superuser, no password), STATE/dir
# the server's own folder, and after a stop STATE/server.log its last log.
#
# The server lives in a fresh folder mktemp makes under /tmp: its cluster
# (initdb), its unix socket and its log. It listens on 127.0.0.1 on a free
# port and on that socket, trusts local and 127.0.0.1 connections only, and
# keeps PostgreSQL's durability (fsync, synchronous_commit on). The binaries
# are Debian's (/usr/lib/postgresql/VERSION/bin, the highest version); the
# system cluster the package makes is never used. PostgreSQL refuses to run
# as root: as root the server runs as the package's `postgres` user (or, if
# there is none, a system user tocsin-pg made for it), and its folder is
# theirs. Every wait is bounded.
set -euo pipefail

ROLE=tocsin
TIMEOUT=60 # seconds, for pg_ctl's start and stop

die() {
    echo "pg_server: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start|stop|url STATE" >&2
    exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)

pg_bin() { # the highest installed version's bin folder
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
    [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] ||
        die "no PostgreSQL server under /usr/lib/postgresql/*/bin" \
            "(scripts/install-deps.sh test installs Debian's postgresql)"
    echo "$d"
}

server_user() { # who runs the server; empty: the caller itself (not root)
    [ "$(id -u)" -eq 0 ] || return 0
    if id -u postgres >/dev/null 2>&1; then
        echo postgres
        return
    fi
    id -u tocsin-pg >/dev/null 2>&1 ||
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
            tocsin-pg
    echo tocsin-pg
}

as_user() { # runs a command as the server's user, in its folder
    if [ -n "$user" ]; then
        (cd "$dir" && runuser -u "$user" -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

free_port() { # a port nothing listens on now (bound and released by the kernel's choice)
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

log_tail() {
    [ -f "$dir/server.log" ] && tail -n 30 "$dir/server.log" >&2 || true
}

stop_server() { # stops the server of $state, if any, and removes its folder
    if [ ! -f "$state/dir" ]; then
        echo "no server recorded in $state: nothing to stop"
        return 0
    fi
    dir=$(cat "$state/dir")
    case $dir in
    /tmp/tocsin-pg.*) ;;
    *) die "$state/dir names '$dir', not a folder of this script's; left alone" ;;
    esac
    if [ -d "$dir" ]; then
        local bin owner
        bin=$(pg_bin)
        owner=$(stat -c %U "$dir")
        user=""
        [ "$(id -u)" -eq 0 ] && [ "$owner" != root ] && user=$owner
        if [ -f "$dir/data/postmaster.pid" ]; then
            if ! as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w -t "$TIMEOUT" stop >/dev/null; then
                # Still running after the fast stop's bound: kill the postmaster
                # recorded in its own pid file (the first line), and only it.
                local pid
                pid=$(head -n 1 "$dir/data/postmaster.pid")
                echo "pg_server: the server did not stop in ${TIMEOUT}s; killing $pid" >&2
                [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
                log_tail
            fi
        fi
        cp "$dir/server.log" "$state/server.log" 2>/dev/null || true
        rm -rf "$dir"
    fi
    rm -f "$state/dir" "$state/url"
    echo "stopped; removed $dir (its log: $state/server.log)"
}

start_server() {
    local bin port url attempt
    bin=$(pg_bin)
    # A server an interrupted run left (its pg.stop never ran) goes first.
    stop_server >/dev/null
    user=$(server_user)
    dir=$(mktemp -d /tmp/tocsin-pg.XXXXXX)
    echo "$dir" >"$state/dir"
    # From here on, a failure leaves nothing running and no folder behind.
    started=false
    trap '$started || { log_tail; stop_server >/dev/null; }' EXIT
    chmod 700 "$dir"
    [ -z "$user" ] || chown "$user:" "$dir"

    as_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        false
    }
    as_user tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# tests/support/pg_server.sh: a private server for one test run.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 128MB
fsync = on
synchronous_commit = on
full_page_writes = on
log_line_prefix = '%m [%p] %q%u@%d '
include 'port.conf'
EOF
    as_user tee "$dir/data/pg_hba.conf" >/dev/null <<EOF
# tests/support/pg_server.sh: this machine only, no password.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF

    # A free port can be taken before the server binds it: then another one.
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        rm -f "$dir/server.log"
        echo "port = $port" | as_user tee "$dir/data/port.conf" >/dev/null
        if as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$TIMEOUT" \
            start >/dev/null; then
            break
        fi
        grep -q 'could not bind' "$dir/server.log" && [ "$attempt" -lt 5 ] ||
            die "the server did not start (its log: below, and kept in $state/server.log)"
        echo "pg_server: port $port was taken; trying another" >&2
    done

    for attempt in $(seq 1 60); do
        "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 1 && break
        [ "$attempt" -lt 60 ] || die "pg_isready: no answer on 127.0.0.1:$port in 60 tries"
        sleep 0.5
    done
    "$bin/pg_isready" -q -h "$dir" -p "$port" -U postgres -d postgres -t 5 ||
        die "pg_isready: no answer on the unix socket in $dir"

    # The tests' superuser, made over TCP the way the tests will connect.
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE $ROLE SUPERUSER LOGIN" >/dev/null
    url="postgres://$ROLE@127.0.0.1:$port/"
    "$bin/psql" -X -q -At -v ON_ERROR_STOP=1 "${url}postgres" -c "SELECT 1" >/dev/null
    echo "$url" >"$state/url.tmp"
    mv "$state/url.tmp" "$state/url"
    started=true
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port and" \
        "$dir/.s.PGSQL.$port, run by ${user:-$(id -un)}, in $dir"
    echo "$url"
}

user=""
dir=""
case $cmd in
start) start_server ;;
stop) stop_server ;;
url)
    [ -f "$state/url" ] || die "no server recorded in $state (start one: $0 start $state)"
    cat "$state/url"
    ;;
*) usage ;;
esac
