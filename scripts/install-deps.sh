#!/usr/bin/env bash
# Installs the Debian packages tocsin needs, and only those that are missing.
# Usage: scripts/install-deps.sh [run|test]
#        scripts/install-deps.sh list [run|test]   prints the list, one a line
#   run  (default): what building and running tocsin needs
#   test: also what the test suite and benchmarks need (Alertmanager, wrk, nginx, jsonschema...)
set -euo pipefail
list=false
[ "${1:-}" = list ] && { list=true; shift; }
what=${1:-run}
case $what in
run | test) ;;
*) echo "usage: $0 [list] [run|test]" >&2; exit 2 ;;
esac
want=(build-essential cmake pkg-config libmicrohttpd-dev libcurl4-openssl-dev
      libjansson-dev libsqlite3-dev libssl-dev libpq-dev curl)
if [ "$what" = test ]; then
    want+=(libcmocka-dev python3 python3-jsonschema prometheus-alertmanager wrk
           sqlite3 clang-format nginx openssl curl
           clang libclang-rt-14-dev # make fuzz: clang and its libFuzzer
           prometheus # promtool: tests/e2e/test_metrics.py checks /metrics with it
           chromium) # tests/e2e/test_console.py drives the web console in it
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
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
