#!/usr/bin/env python3
"""bench/lag-probe.py: what the self-alerts' lag check costs per integration
with a big backlog (issue 13; store_deliveries_oldest_pending).

Builds a SQLite deliveries table with tocsin's schema and indexes (002 and
005 migrations) holding N pending rows (default 1,000,000; 90% of them of
integration 1, attempts 0 to 8), then times the check's skip-scan (one
probe for the next attempts value, one for its min created_at) against a
plain min(created_at) over the integration's pending rows.

    python3 bench/lag-probe.py [N]
"""
import os
import random
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = os.path.join(HERE, "..", "src", "store", "migrations")


def schema(con):
    """The deliveries table and its indexes, as the migrations leave them."""
    con.executescript("""
    CREATE TABLE deliveries (delivery_id INTEGER PRIMARY KEY, integration_id INTEGER NOT NULL,
      event_seq INTEGER NOT NULL, lane TEXT NOT NULL, sequence INTEGER NOT NULL,
      status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
      first_failed_at INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
      created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    CREATE INDEX deliveries_pending ON deliveries(delivery_id) WHERE status = 'pending';
    CREATE INDEX deliveries_lane ON deliveries(integration_id, lane, sequence);
    """)
    with open(os.path.join(MIGRATIONS, "005_metrics.sql")) as f:
        con.executescript(f.read())


def skip_scan(con, iid):
    """store_deliveries_oldest_pending's queries: (oldest, probes)."""
    attempts, oldest, probes = -1, 0, 0
    while True:
        probes += 1
        attempts = con.execute(
            "SELECT min(attempts) FROM deliveries WHERE status = 'pending'"
            " AND integration_id = ? AND attempts > ?", (iid, attempts)).fetchone()[0]
        if attempts is None:
            return oldest, probes
        probes += 1
        m = con.execute(
            "SELECT min(created_at) FROM deliveries WHERE status = 'pending'"
            " AND integration_id = ? AND attempts = ?", (iid, attempts)).fetchone()[0]
        if not oldest or m < oldest:
            oldest = m


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    with tempfile.TemporaryDirectory() as d:
        con = sqlite3.connect(os.path.join(d, "probe.db"))
        schema(con)
        rng = random.Random(1)
        con.executemany(
            "INSERT INTO deliveries VALUES(?,?,?,?,?,'pending',?,0,0,'',?,0)",
            ((i, 1 if i % 10 else 2, i, "l%d" % (i % 5000), i, rng.randint(0, 8), 10**6 + i)
             for i in range(1, n + 1)))
        con.commit()
        skip_scan(con, 1)  # warm the page cache
        runs = 100
        t = time.perf_counter()
        for _ in range(runs):
            oldest, probes = skip_scan(con, 1)
        per = (time.perf_counter() - t) / runs
        t = time.perf_counter()
        plain = con.execute("SELECT min(created_at) FROM deliveries WHERE status = 'pending'"
                            " AND integration_id = 1").fetchone()[0]
        scan = time.perf_counter() - t
        assert plain == oldest
        print("pending rows: %d (integration 1: %d)" % (n, n - n // 10))
        print("skip-scan: %.3f ms, %d probes" % (per * 1000, probes))
        print("min() over the integration's pending rows: %.1f ms" % (scan * 1000))
        con.close()


if __name__ == "__main__":
    main()
