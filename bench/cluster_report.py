"""bench/cluster_report.py: the Markdown section bench/cluster.sh appends to
bench/BENCHMARKS.md, from bench/cluster.py's results.

Usage: cluster_report.py RESULTS.json DATE COMMIT MACHINE COMMAND PG_VERSION
"""
import json
import statistics
import sys

res_file, date, commit, machine, command, pgv = sys.argv[1:7]
data = json.load(open(res_file))
rows = data["results"]


def name(r):
    return "SQLite, 1 node" if r["engine"] == "sqlite" else "PostgreSQL, %d node%s" % (
        r["nodes"], "" if r["nodes"] == 1 else "s")


def us(cpu, n):
    return 1e6 * cpu / max(n, 1)


def find(mode, engine, nodes):
    for r in rows:
        if r["mode"] == mode and r["engine"] == engine and r["nodes"] == nodes:
            return r
    return None


out = []
out.append("")
out.append("## Several nodes: %s (%s)" % (date, commit))
out.append("")
out.append("Machine: %s. PostgreSQL %s, a private server on this machine (fsync and" % (machine, pgv))
out.append("synchronous_commit on). Command: `%s` (release build; wrk with one" % command)
out.append("connection share per node, every node loaded at once; each configuration on")
out.append("a fresh store). Everything (the nodes, PostgreSQL, wrk, nginx) shares the same")
out.append("cores: more nodes here means the same 2 cores split more ways.")
out.append("")
out.append("**Ingest** (new alert and incident per request, no webhook)")
out.append("")
out.append("| | events/s | p99 (ms) | tocsin CPU µs/event | PostgreSQL CPU µs/event |")
out.append("|---|---|---|---|---|")
for r in rows:
    if r["mode"] != "ingest":
        continue
    out.append("| %s | %d | %.1f | %.0f | %s |" % (
        name(r), r["rps"], r["p99"], us(r["tocsin_cpu"], r["accepted"]),
        "%.0f" % us(r["pg_cpu"], r["accepted"]) if r["engine"] == "postgres" else "-"))
out.append("")
out.append("**Storm** (the same load, one incident webhook to nginx: one push per new alert)")
out.append("")
out.append("| | events/s | deliveries/s during the load | lag after it (s) | tocsin CPU µs/event | PostgreSQL CPU µs/event |")
out.append("|---|---|---|---|---|---|")
for r in rows:
    if r["mode"] != "storm":
        continue
    out.append("| %s | %d | %d | %.2f | %.0f | %s |" % (
        name(r), r["rps"], r["delivered_during"], r["lag"], us(r["tocsin_cpu"], r["accepted"]),
        "%.0f" % us(r["pg_cpu"], r["accepted"]) if r["engine"] == "postgres" else "-"))
sq = find("ingest", "sqlite", 1)
p1 = find("ingest", "postgres", 1)
if sq and p1:
    out.append("")
    out.append("One node on PostgreSQL / one node on SQLite, ingest: **%.2fx**." % (p1["rps"] / max(sq["rps"], 1)))
# The projection: per-event CPU from the 1-node PostgreSQL runs.
out.append("")
out.append("**Projection beyond this machine (one node).** From the one-node PostgreSQL rows:")
out.append("the node needs T µs of CPU per event and the server P µs (all its processes:")
out.append("the writer's backend, WAL writer, checkpoints, autovacuum). With the node on 2")
out.append("cores of its own and the server on C cores of its own, events/s is at most")
out.append("min(2 / T, C / P). That is a CPU bound only, and one more holds whatever C is:")
out.append("the writer's one backend runs each batch's statements one after another, so a")
out.append("single server core bounds one node.")
out.append("")
out.append("| | T (µs) | P (µs) | node-bound (2 cores) | server-bound, C = 2 / 4 / 8 |")
out.append("|---|---|---|---|---|")
for mode in ("ingest", "storm"):
    r = find(mode, "postgres", 1)
    if not r:
        continue
    t = us(r["tocsin_cpu"], r["accepted"])
    p = us(r["pg_cpu"], r["accepted"])
    out.append("| %s | %.0f | %.0f | %d | %d / %d / %d |" % (mode, t, p, 2e6 / t, 2e6 / p, 4e6 / p, 8e6 / p))
out.append("")
out.append("No such projection is made for several nodes: every batch of every node takes")
out.append("the cluster clock's row lock and, holding it, first reads back the rows the other")
out.append("nodes wrote since its last batch (docs/ARCHITECTURE.md, \"Several nodes\"). The")
out.append("rows above for 2 and 3 nodes measure that, not a CPU share: more nodes add")
out.append("availability, not throughput, until the change log carries compact records.")
fo = data.get("failover") or []
if fo:
    out.append("")
    out.append("**Failover** (3 nodes, 200 new incidents/s; kill -9 of one node, then the time")
    out.append("to the first delivery of a lane in a bucket the dead node held; lease TTL 6 s)")
    out.append("")
    out.append("kills: %d; p50 **%.2f s**, max **%.2f s**; each: %s." % (
        len(fo), statistics.median(fo), max(fo), ", ".join("%.2f" % x for x in fo)))
print("\n".join(out))
