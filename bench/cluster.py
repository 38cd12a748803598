"""bench/cluster.py: tocsin on PostgreSQL with 1, 2 and 3 nodes, SQLite on one
node in the same run, and failover times. Run by bench/cluster.sh, which
builds, starts a private PostgreSQL (tests/support/pg_server.sh) and passes
its URL; see that script for what is measured and how.

Every process runs on this machine and shares its cores: the nodes, the
PostgreSQL server, wrk and nginx. CPU is read from /proc (utime + stime) of
each tocsin node and of every process of the PostgreSQL server (the
postmaster, its live backends and what its exited children left in its
cutime/cstime), so each figure comes with its cost per event.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KEY = "bench-admin-key-0123456789abcdef"
CLK = os.sysconf("SC_CLK_TCK")
BUCKETS = 64


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    raise SystemExit("no answer from %s" % url)


def cpu_s(pid, children=False):
    """utime + stime of pid in seconds (with its waited-for children's when
    children is set); 0 when the process is gone."""
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    t = int(f[11]) + int(f[12])
    if children:
        t += int(f[13]) + int(f[14])
    return t / CLK


def pg_cpu_s(postmaster):
    """The PostgreSQL server's CPU so far: the postmaster with its exited
    children, plus every live child (backends, walwriter, checkpointer)."""
    total = cpu_s(postmaster, children=True)
    try:
        kids = open("/proc/%d/task/%d/children" % (postmaster, postmaster)).read().split()
    except OSError:
        kids = []
    return total + sum(cpu_s(int(k)) for k in kids)


def bucket_of(integration_id, lane):
    """src/core/cluster.c's cluster_bucket_of: FNV-1a over the integration's
    eight bytes (little end first) and the lane."""
    h = 1469598103934665603
    for i in range(8):
        h ^= (integration_id >> (8 * i)) & 0xFF
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    for ch in lane.encode():
        h ^= ch
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % BUCKETS


class Pg:
    def __init__(self, url):
        self.url = url.rstrip("/") + "/"
        d = open(os.path.join(os.environ["PG_STATE"], "dir")).read().strip()
        self.postmaster = int(open(os.path.join(d, "data", "postmaster.pid")).readline())
        self.n = 0

    def psql(self, db, sql):
        out = subprocess.run(["psql", "-qAt", self.url + db, "-c", sql], check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()

    def new_db(self):
        self.n += 1
        name = "bench_%d_%d" % (os.getpid(), self.n)
        self.psql("postgres", "CREATE DATABASE " + name)
        return name


class Node:
    def __init__(self, bin_, tmp, store_url, node_id, log):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(dir=tmp, prefix="node-")
        self.node_id = node_id
        self.args = [bin_, "serve", "--listen", "127.0.0.1:%d" % self.port, "--data", self.dir,
                     "--log-level", "warn", "--allow-private-targets",
                     "--rate-limit-event", "0", "--rate-limit-api", "0"]
        if store_url:
            self.args += ["--store", store_url, "--node-id", node_id]
        self.log = log
        self.start()

    def start(self):
        env = dict(os.environ, TOCSIN_ADMIN_APP_KEY=KEY)
        self.proc = subprocess.Popen(self.args, env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "a"))
        wait_http("http://127.0.0.1:%d/healthz" % self.port)

    def cpu(self):
        return cpu_s(self.proc.pid)

    def api(self, path, body):
        req = urllib.request.Request("http://127.0.0.1:%d%s?app_key=%s" % (self.port, path, KEY),
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        out = json.load(urllib.request.urlopen(req, timeout=30))
        if out.get("error"):
            raise SystemExit("%s: %s" % (path, out["error"]))
        return out["data"]

    def health(self):
        return json.load(urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port, timeout=5))

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(60)


def setup_feed(node, webhook=None):
    """A channel, a standard alert integration and, with webhook, an incident
    webhook to that URL; returns (integration_key, webhook integration id)."""
    ch = node.api("/channel/create", {"channel_name": "bench", "team_id": 0})["channel_id"]
    ikey = node.api("/integration/create", {"type": "alert_standard", "name": "bench",
                                            "channel_id": ch})["integration_key"]
    wid = None
    if webhook:
        wid = node.api("/integration/create", {"type": "webhook_incident", "name": "hook",
                                               "endpoint": webhook})["integration_id"]
    return ikey, wid


def run_wrk(nodes, ikey, conns, duration, tag):
    """wrk against every node at once, conns split evenly; returns the
    answered-2xx total and each wrk's text."""
    per = max(1, conns // len(nodes))
    procs = []
    for i, n in enumerate(nodes):
        url = "http://127.0.0.1:%d/event/push/alert/standard?integration_key=%s" % (n.port, ikey)
        procs.append(subprocess.Popen(
            ["wrk", "-t1" if len(nodes) > 1 else "-t2", "-c%d" % per, "-d%ds" % duration, "--latency",
             "-s", os.path.join(HERE, "ingest.lua"), url, "--", "%s%d-" % (tag, i)],
            stdout=subprocess.PIPE, text=True))
    outs = [p.communicate()[0] for p in procs]
    ok = 0
    for o in outs:
        total = int(re.search(r"(\d+) requests in", o).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", o)
        ok += total - (int(bad.group(1)) if bad else 0)
    return ok, outs


def p99_ms(outs):
    vals = []
    for o in outs:
        m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)$", o, re.M)
        if m:
            v = float(m.group(1))
            vals.append(v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v)
    return max(vals) if vals else 0.0


def nginx_arrivals(log, prefix, end_ms):
    during = total = last = 0
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or not parts[1].startswith(prefix):
                continue
            t = int(float(parts[0]) * 1000)
            total += 1
            last = max(last, t)
            during += t <= end_ms
    return during, total, last


def measure(a, pg, engine, nnodes, mode, nginx):
    """One configuration: fresh store, nnodes nodes, wrk for a.duration s.
    mode 'ingest' (no webhook) or 'storm' (an incident webhook to nginx per
    new incident). Returns a dict of figures."""
    store_url = None
    if engine == "postgres":
        store_url = pg.url + pg.new_db()
    tag = "%s%d%s" % (engine[0], nnodes, mode[0])
    nodes = [Node(a.bin, a.tmp, store_url, "node%d" % (i + 1), os.path.join(a.out, "tocsin.log"))
             for i in range(nnodes)]
    try:
        hook = "http://127.0.0.1:%d/%s/" % (nginx["port"], tag) if mode == "storm" else None
        ikey, _ = setup_feed(nodes[0], hook)
        if nnodes > 1:  # every node serves its share of the lanes before the load
            deadline = time.time() + 30
            while time.time() < deadline and not all(
                    n.health()["data"]["leases"]["buckets"] >= BUCKETS // nnodes for n in nodes):
                time.sleep(0.2)
        subprocess.run(["sync"])
        c0 = [n.cpu() for n in nodes]
        p0 = pg_cpu_s(pg.postmaster) if engine == "postgres" else 0
        w0 = cpu_s(nginx["worker"])
        t0 = time.time()
        ok, outs = run_wrk(nodes, ikey, a.conns, a.duration, tag)
        t1 = time.time()
        secs = t1 - t0
        r = {"engine": engine, "nodes": nnodes, "mode": mode, "accepted": ok,
             "rps": ok / secs, "p99": p99_ms(outs),
             "tocsin_cpu": sum(n.cpu() - c for n, c in zip(nodes, c0)),
             "pg_cpu": (pg_cpu_s(pg.postmaster) - p0) if engine == "postgres" else 0.0,
             "secs": secs}
        if mode == "storm":
            end_ms = int(t1 * 1000)
            deadline = time.time() + 300
            while True:
                during, total, last = nginx_arrivals(nginx["log"], "/" + tag + "/", end_ms)
                if total >= ok or time.time() > deadline:
                    break
                time.sleep(0.2)
            r.update(delivered_during=during / secs, delivered=total,
                     lag=max(0, last - end_ms) / 1000.0)
            r["tocsin_cpu"] = sum(n.cpu() - c for n, c in zip(nodes, c0))
            if engine == "postgres":
                r["pg_cpu"] = pg_cpu_s(pg.postmaster) - p0
            r["nginx_cpu"] = cpu_s(nginx["worker"]) - w0
        return r
    finally:
        for n in nodes:
            n.stop()
        for n in nodes:
            shutil.rmtree(n.dir, ignore_errors=True)


# ---- failover ----------------------------------------------------------------

class Trickle(threading.Thread):
    """New incidents at a steady rate, round-robin over the live nodes."""

    def __init__(self, nodes, ikey, rate):
        super().__init__(daemon=True)
        self.nodes, self.ikey, self.rate = nodes, ikey, rate
        self.stop_flag = threading.Event()
        self.sent = 0

    def run(self):
        i = 0
        conns = {}
        next_t = time.time()
        while not self.stop_flag.is_set():
            live = [n for n in self.nodes if n.proc.poll() is None]
            n = live[i % len(live)]
            i += 1
            body = json.dumps({"event_status": "Critical", "alert_key": "fo-%d" % i,
                               "title_rule": "failover %d" % i, "description": "d"})
            try:
                c = conns.get(n.port) or http.client.HTTPConnection("127.0.0.1", n.port, timeout=5)
                conns[n.port] = c
                c.request("POST", "/event/push/alert/standard?integration_key=" + self.ikey, body,
                          {"Content-Type": "application/json"})
                c.getresponse().read()
                self.sent += 1
            except Exception:
                conns.pop(n.port, None)
            next_t += 1.0 / self.rate
            time.sleep(max(0, next_t - time.time()))


def held_buckets(pg, db, node_id):
    rows = pg.psql(db, "SELECT name FROM cluster_leases WHERE node_id = '%s' AND name LIKE 'bucket:%%'"
                   " AND expires_at > CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
                   % node_id)
    return {int(x.split(":")[1]) for x in rows.split()}


def failover(a, pg):
    """a.kills times: kill -9 one of three nodes, time until the first
    delivery of a lane in a bucket the dead node held, restart it, and wait
    until the three share the buckets again."""
    db = pg.new_db()
    rec = os.path.join(a.tmp, "failover.jsonl")
    open(rec, "w").close()
    rx = subprocess.Popen([a.receiver, "--listen", "127.0.0.1:0", "--record", rec],
                          stdout=subprocess.PIPE, text=True)
    rport = int(rx.stdout.readline().split()[1])
    nodes = [Node(a.bin, a.tmp, pg.url + db, "node%d" % (i + 1), os.path.join(a.out, "tocsin.log"))
             for i in range(3)]
    times = []
    try:
        ikey, wid = setup_feed(nodes[0], "http://127.0.0.1:%d/ok/fo" % rport)
        trickle = Trickle(nodes, ikey, a.rate)
        trickle.start()
        for k in range(a.kills):
            deadline = time.time() + 60
            while time.time() < deadline and not all(
                    n.health()["data"]["leases"]["buckets"] >= BUCKETS // 3 - 1 for n in nodes):
                time.sleep(0.2)
            victim = nodes[k % 3]
            time.sleep(1.0)
            held = held_buckets(pg, db, victim.node_id)
            kill_ms = int(time.time() * 1000)
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait(10)
            first = None
            deadline = time.time() + 60
            while first is None and time.time() < deadline:
                time.sleep(0.1)
                with open(rec) as f:
                    for line in f:
                        r = json.loads(line)
                        if r["t_ms"] <= kill_ms:
                            continue
                        body = json.loads(r["body"])
                        lane = str(body["incident"]["incident_id"])
                        if bucket_of(wid, lane) in held:
                            first = r["t_ms"]
                            break
            if first is None:
                raise SystemExit("failover %d: no delivery in the dead node's buckets within 60 s" % k)
            times.append((first - kill_ms) / 1000.0)
            print("kill %d: %s held %d buckets; first delivery by the new owner after %.2f s"
                  % (k + 1, victim.node_id, len(held), times[-1]), file=sys.stderr)
            victim.start()
        trickle.stop_flag.set()
        trickle.join(10)
    finally:
        for n in nodes:
            n.stop()
        rx.send_signal(signal.SIGTERM)
        rx.wait(10)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--receiver", required=True)
    ap.add_argument("--pg-url", required=True)
    ap.add_argument("--nginx-port", type=int, required=True)
    ap.add_argument("--nginx-log", required=True)
    ap.add_argument("--nginx-worker", type=int, required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    pg = Pg(a.pg_url)
    nginx = {"port": a.nginx_port, "log": a.nginx_log, "worker": a.nginx_worker}
    results = []
    for mode in ("ingest", "storm"):
        for engine, n in (("sqlite", 1), ("postgres", 1), ("postgres", 2), ("postgres", 3)):
            print("%s: %s, %d node(s), %d s at %d connections..." % (mode, engine, n, a.duration, a.conns),
                  file=sys.stderr)
            results.append(measure(a, pg, engine, n, mode, nginx))
            print("  " + json.dumps(results[-1]), file=sys.stderr)
    times = failover(a, pg) if a.kills else []
    json.dump({"results": results, "failover": times}, sys.stdout)


if __name__ == "__main__":
    main()
