#!/usr/bin/env bash
# bench/multirow.sh: instructions per row of single-row and multi-row
# INSERTs into the table and indexes of `events` (bench/multirow.c), under
# callgrind, at batches of 8 and 32 rows per transaction: what writing a
# batch's rows in one statement would save the writer.
#
# Usage: bench/multirow.sh [N]   (default 4096 rows per run)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-4096}
scripts/install-deps.sh test >/dev/null
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null; }
DIR=$(mktemp -d /tmp/tocsin-multirow-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
cc -O2 -std=c17 -Wall -Wextra -Werror bench/multirow.c -lsqlite3 -o "$DIR/multirow"
for batch in 8 32; do
    for mode in single multi; do
        valgrind --tool=callgrind --toggle-collect=run_inserts \
            --callgrind-out-file="$DIR/cg.$mode.$batch" \
            "$DIR/multirow" "$DIR/$mode.$batch.db" "$mode" "$N" "$batch" >/dev/null 2>&1
        total=$(awk '/^summary:/ {print $2}' "$DIR/cg.$mode.$batch")
        printf "%-6s rows, %2d per transaction: %6d instructions per row\n" \
            "$mode" "$batch" $((total / N))
    done
done
