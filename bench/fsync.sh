#!/usr/bin/env bash
# bench/fsync.sh: what one fdatasync costs on the disk the benchmarks use
# (their data folders are under /tmp). Each of N rounds appends a 4 KB page
# to a file, as a WAL commit does, and makes it durable with fdatasync; the
# time of the fdatasync alone is kept. This is the floor under every
# synchronous=FULL commit, and so under ingest's round trip.
#
# Usage: bench/fsync.sh [N]   (default 2000)
set -euo pipefail
N=${1:-2000}
DIR=$(mktemp -d /tmp/tocsin-fsync-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
/usr/bin/python3 - "$DIR/wal" "$N" <<'PY'
import os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
page = b"x" * 4096
took = []
for _ in range(n):
    os.write(fd, page)
    t0 = time.perf_counter()
    os.fdatasync(fd)
    took.append((time.perf_counter() - t0) * 1000)
os.close(fd)
took.sort()
q = lambda p: took[min(len(took) - 1, int(p * len(took)))]
print("fdatasync of a 4 KB append, %d rounds: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, mean %.3f ms"
      % (n, q(0.50), q(0.90), q(0.99), sum(took) / len(took)))
PY
