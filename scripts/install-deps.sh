#!/usr/bin/env bash
# Installs the Debian packages tocsin needs, and only those that are missing.
# Usage: scripts/install-deps.sh [run|test|cluster]
#        scripts/install-deps.sh list [run|test|cluster]   prints the list, one a line
#   run  (default): what building and running tocsin needs
#   cluster: also what `make cluster` needs (scripts/cluster.sh: a private
#         PostgreSQL server, nginx in front of the nodes, python3 for a free port)
#   test: also what the test suite and benchmarks need (Alertmanager, wrk, nginx, jsonschema,
#         PostgreSQL for the e2e suite's second run, systemd-analyze for the package...)
set -euo pipefail
list=false
[ "${1:-}" = list ] && { list=true; shift; }
what=${1:-run}
case $what in
run | test | cluster) ;;
*) echo "usage: $0 [list] [run|test|cluster]" >&2; exit 2 ;;
esac
want=(build-essential cmake pkg-config libmicrohttpd-dev libcurl4-openssl-dev
      libjansson-dev libsqlite3-dev libssl-dev libpq-dev curl
      libpcre2-dev # channel rules' regular expressions (src/core/rule_filter.c)
      libinih-dev) # the config file's parser (src/core/config_file.c)
if [ "$what" = cluster ]; then
    want+=(postgresql nginx python3)
fi
if [ "$what" = test ]; then
    want+=(libcmocka-dev python3 python3-jsonschema prometheus-alertmanager wrk
           sqlite3 clang-format nginx openssl curl
           clang libclang-rt-14-dev # make fuzz: clang and its libFuzzer
           prometheus # promtool: tests/e2e/test_metrics.py checks /metrics with it
           chromium # tests/e2e/test_console.py drives the web console in it
           # tests/package/test_deb.sh: make deb's dpkg-shlibdeps (dpkg-dev;
           # build-essential brings it too) and systemd-analyze verify.
           dpkg-dev systemd
           # The e2e suite also runs on PostgreSQL: ctest starts a private
           # server from Debian's /usr/lib/postgresql/*/bin
           # (tests/support/pg_server.sh); the tests reach it with psycopg2.
           postgresql python3-psycopg2)
    # node and npm: tests/e2e/test_signature_interop.py checks signatures with
    # the npm package standardwebhooks. A node that already brings its own npm
    # (NodeSource's nodejs) is left alone: Debian's npm would conflict with it.
    command -v node >/dev/null && command -v npm >/dev/null || want+=(nodejs npm)
fi
if $list; then
    printf '%s\n' "${want[@]}" | awk '!seen[$0]++'
    exit 0
fi
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

# Debian's postgresql makes a system cluster and starts it from its postinst,
# and nginx starts a system server on port 80. The tests and make cluster
# never use those (they start private servers), and where nothing can start
# them (a container without systemd) the failed start would fail the whole
# install. While they are being installed, a policy-rc.d (see invoke-rc.d(8))
# that forbids starting them, and only them, stands in, unless the machine
# already has a policy of its own.
policy=/usr/sbin/policy-rc.d
if printf '%s\n' "${missing[@]}" | grep -Eq '^(postgresql|nginx)' && [ ! -e "$policy" ]; then
    trap '$SUDO rm -f "$policy"' EXIT
    $SUDO tee "$policy" >/dev/null <<'POLICY'
#!/bin/sh
# Written by tocsin's scripts/install-deps.sh while it installs postgresql,
# removed when it is done: the packages' system servers are not started.
for a in "$@"; do
    case $a in
    -*) ;;
    postgresql* | nginx*) exit 101 ;; # action forbidden
    *) exit 104 ;;           # allowed, as without a policy-rc.d
    esac
done
exit 104
POLICY
    $SUDO chmod 755 "$policy"
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
