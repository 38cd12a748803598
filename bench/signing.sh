#!/usr/bin/env bash
# bench/signing.sh: the cost of signing one push (bench/signing.c) with the
# secret keyed per call and keyed once, against the run build's library.
#
# Usage: bench/signing.sh [N] [BODY_BYTES]   (defaults 100000 1500)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build >/dev/null
OUT=$(mktemp /tmp/tocsin-signing-XXXXXX)
trap 'rm -f "$OUT"' EXIT
cc -O2 -std=c17 -Wall -Wextra -Werror -I src bench/signing.c build/libtocsin_core.a -lcrypto -o "$OUT"
"$OUT" "${1:-100000}" "${2:-1500}"
