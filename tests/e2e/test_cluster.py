"""test_cluster.py: three tocsin nodes on one PostgreSQL database, two of
them killed with SIGKILL, one in the middle of a burst of pushes and one
while deliveries are still going out.

Every node takes every request: the pushes go round-robin to the three
nodes from concurrent threads, and the same group key (label `service`)
and the same alert_key reach different nodes at the same instant (threads
meeting at a barrier). A request that fails (the node is dead, or died
under it) is sent again to the next node; only pushes answered 200 count
as accepted. An incident webhook and an alert webhook point at a receiver
that answers slowly, so that a backlog of pushes exists when a node dies.

What must hold:
  - nothing lost: every accepted push's alert exists, and every push queued
    in the outbox reaches the receiver (at least once);
  - one incident per group key, one alert per alert_key;
  - per lane (integration, incident or alert) the receiver sees
    tocsin-sequence strictly increasing, exact repeats aside;
  - a repeat (same event_id, same tocsin-sequence) only where a killed node
    had sent the push and its outcome died with it: on a lane of a bucket
    that node held, first before the kill and again after it. Attempts in
    flight at a kill: at most the in-flight slots of the killed nodes
    (--max-inflight-per-endpoint per integration per node); and as outcomes
    are recorded in batches after the lane moved on (dispatcher.h), an
    answered attempt whose outcome was not yet committed is sent again too:
    at most one more per slot;
  - the history (webhook_history) agrees with the receiver.
The failover time (SIGKILL to the first delivery, by its new owner, of a
lane in a bucket the dead node held) is printed; the only timing asserted
is a loose bound on it (the design's 6 s lease TTL; 30 s here, under ASan).

Several nodes need PostgreSQL: on SQLite every test here skips.
"""
import http.client
import json
import threading
import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor

from receiver import Receiver
from tocsin_test import (ENGINE, Tocsin, pg_drop_database, pg_new_database, run, skip,
                         wait_until)

NODES = 3
GROUPS = 36           # group keys; each gets ALERTS alert_keys
ALERTS = 3
SLOW_MS = 400         # the receiver answers each push after this
MAX_INFLIGHT = 2      # --max-inflight-per-endpoint on every node
BUCKETS = 64          # core/cluster.h CLUSTER_BUCKETS
FAILOVER_BOUND_S = 30  # loose: the lease TTL is 6 s


def bucket_of(integration_id, lane):
    """core/cluster.c cluster_bucket_of: FNV-1a 64 over the integration id's
    8 bytes (little end first) and the lane, modulo the buckets."""
    h = 1469598103934665603
    for i in range(8):
        h ^= (integration_id >> (8 * i)) & 0xff
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    for ch in lane.encode():
        h ^= ch
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % BUCKETS


class Cluster:
    """The nodes, which of them are alive, and sending with failover."""

    def __init__(self, nodes):
        self.nodes = nodes
        self.alive = [True] * len(nodes)
        self.lock = threading.Lock()
        self.retries = 0  # requests sent again on another node
        self.served = [0] * len(nodes)  # 200s answered, per node

    def send(self, first, path, body, timeout=60):
        """POSTs to node `first`, and on failure (connection refused or cut,
        5xx) to the next one, until one answers; returns (node, Response).
        A 4xx is the answer (not retried)."""
        deadline = time.time() + timeout
        i = first
        while True:
            t = self.nodes[i % len(self.nodes)]
            try:
                r = t.request("POST", path, body, timeout=20)
                if r.status < 500:
                    if r.status == 200:
                        with self.lock:
                            self.served[i % len(self.nodes)] += 1
                    return i % len(self.nodes), r
                why = "HTTP %d" % r.status
            except (OSError, http.client.HTTPException, urllib.error.URLError) as e:
                why = repr(e)
            with self.lock:
                self.retries += 1
            if time.time() >= deadline:
                raise AssertionError("no node answered %s: %s" % (path, why))
            i += 1
            time.sleep(0.02)

    def api(self, first, path, body):
        sep = "&" if "?" in path else "?"
        _, r = self.send(first, "%s%sapp_key=%s" % (path, sep, self.nodes[0].admin_key), body)
        assert r.status == 200, "%s -> %r" % (path, r)
        return r.data

    def live(self):
        return [t for t, a in zip(self.nodes, self.alive) if a]

    def kill(self, i):
        self.alive[i] = False
        self.nodes[i].kill()


def healthz(t):
    r = t.get("/healthz")
    return r.json["data"] if r.status == 200 else None


def buckets_of(db_node, node_id):
    """The buckets whose lease node_id holds now (cluster_leases)."""
    rows = db_node.db_query("SELECT name FROM cluster_leases WHERE node_id = ?"
                            " AND name LIKE 'bucket:%'", (node_id,))
    return {int(r[0].split(":")[1]) for r in rows}


def wait_spread(cl, timeout=60):
    """Waits until the live nodes hold every bucket between them, each some
    and none more than its fair share (ceil(64 / nodes): with three nodes
    22, 22 and 20); returns {node_id: buckets}."""
    def spread():
        held = {}
        for t in cl.live():
            h = healthz(t)
            if not h or not h["leases"]["healthy"]:
                return None
            held[h["node_id"]] = h["leases"]["buckets"]
        fair = -(-BUCKETS // len(held))
        if sum(held.values()) == BUCKETS and all(0 < v <= fair for v in held.values()):
            return held
        return None
    return wait_until(spread, timeout=timeout, interval=0.2,
                      what="the buckets spread over %d nodes" % len(cl.live()))


def test_three_nodes_two_killed():
    if ENGINE != "postgres":
        skip("several nodes share one PostgreSQL database, and this run's store is %s" % ENGINE)
    database = pg_new_database("tocsin_cluster_")
    nodes, rx, ok = [], None, False
    try:
        rx = Receiver()
        args = ["--allow-private-targets", "--max-inflight-per-endpoint", str(MAX_INFLIGHT)]
        # One at a time: the first makes the schema, the others find it.
        for i in range(NODES):
            nodes.append(Tocsin(database=database, node_id="node-%d" % (i + 1), args=args))
        cl = Cluster(nodes)
        run_scenario(cl, rx)
        ok = True
    finally:
        for i, t in enumerate(nodes):
            if cl_alive(nodes, i):
                t.stop(expect_clean=ok)
            if ok:
                t.cleanup()
            else:
                print("node %s: data folder kept: %s\n%s" % (t.node_id, t.data_dir,
                                                             t.read_log()[-1500:]))
        if rx:
            rx.stop(expect_clean=ok)
            if ok:
                rx.cleanup()
            else:
                print("receiver records kept: %s" % rx.record_path)
        if ok:
            pg_drop_database(database)
        else:
            print("database kept (until the server stops): %s" % database)


def cl_alive(nodes, i):
    p = nodes[i].proc
    return p is not None and p.poll() is None


def run_scenario(cl, rx):
    n1 = cl.nodes[0]
    print("nodes up: %s" % wait_spread(cl), flush=True)

    # The configuration, made on node 1 (the others see it through the store).
    ch = n1.make_channel("cluster", group={"method": "p", "equals": [["service"]],
                                           "time_window": 60})
    _, key = n1.make_source(ch)
    hooks = {}
    for kind, path in (("webhook_incident", "inc"), ("webhook_alert", "alert")):
        d = n1.api("/integration/create", {
            "type": kind, "name": "cluster-%s" % path,
            "endpoint": rx.url("/slow/%d/%s" % (SLOW_MS, path)), "timeout_ms": 5000,
            "retry": {"max_attempts": 10, "schedule_s": [1]}}).data
        hooks["/slow/%d/%s" % (SLOW_MS, path)] = d["integration_id"]
    hook_ids = sorted(hooks.values())

    accepted = {}  # alert_key -> group, pushes answered 200
    acc_lock = threading.Lock()

    def push(node, alert_key, group, status="Critical"):
        body = {"event_status": status, "alert_key": alert_key, "title_rule": "cluster $service",
                "description": "burst", "labels": {"service": group}}
        _, r = cl.send(node, "/event/push/alert/standard?integration_key=%s" % key, body)
        assert r.status == 200, "push %s -> %r" % (alert_key, r)
        with acc_lock:
            accepted[alert_key] = group

    def group_task(g):
        """The group's alerts at one instant on different nodes, and one
        alert_key twice at once on two nodes."""
        group = "svc-%02d" % g
        sends = [(g + j, "%s-a%d" % (group, j)) for j in range(ALERTS)]
        sends.append((g + 1, "%s-a0" % group))
        barrier = threading.Barrier(len(sends))

        def one(node, alert_key):
            barrier.wait(timeout=30)
            push(node, alert_key, group)
        threads = [threading.Thread(target=one, args=s) for s in sends]
        [th.start() for th in threads]
        [th.join(90) for th in threads]
        assert all(not th.is_alive() for th in threads)

    # Phase 1: the burst; node 2 is killed half-way through it.
    victims = []  # (node index, kill time ms, buckets it held)

    def kill(i):
        node_id = cl.nodes[i].node_id
        held = buckets_of(n1, node_id)
        at = time.time() * 1000
        cl.kill(i)
        victims.append((i, at, held))
        print("killed %s (SIGKILL) holding %d buckets" % (node_id, len(held)), flush=True)

    t0 = time.time()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(group_task, g) for g in range(GROUPS)]
        for n, f in enumerate(futures):
            f.result(timeout=120)
            if n == GROUPS // 2:
                kill(1)
    print("burst: %d alert_keys accepted in %.1fs; 200s per node %s; %d requests sent again"
          " on another node" % (len(accepted), time.time() - t0, cl.served, cl.retries),
          flush=True)
    assert len(accepted) == GROUPS * ALERTS

    # The survivors take the dead node's buckets over.
    print("after the first kill: %s" % wait_spread(cl), flush=True)

    # Phase 2: more events on every incident and on some alerts, spread over
    # the survivors; node 3 is killed while their pushes still go out.
    rows = n1.db_query("SELECT alert_key, incident_id FROM alerts")
    incident_of_group = {}
    for alert_key, inc in rows:
        incident_of_group.setdefault(alert_key.rsplit("-", 1)[0], set()).add(inc)
    live = [i for i in range(NODES) if cl.alive[i]]

    def follow_up(n, group):
        (inc,) = incident_of_group[group]
        cl.api(live[n % len(live)], "/incident/ack", {"incident_ids": [inc]})
        cl.api(live[(n + 1) % len(live)], "/incident/comment",
               {"incident_ids": [inc], "comment": "looking"})
        push(live[n % len(live)], "%s-a%d" % (group, ALERTS - 1), group, status="Ok")
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(follow_up, range(GROUPS), sorted(incident_of_group)))
    pending = n1.db_value("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
    print("backlog when node-3 is killed: %d pushes pending" % pending, flush=True)
    assert pending > 0, "no backlog: the second kill would not be during a drain"
    kill(2)
    print("after the second kill: %s" % wait_spread(cl), flush=True)

    # The drain: every queued push delivered (none failed for good).
    def drained():
        left = n1.db_value("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
        return left == 0
    wait_until(drained, timeout=120, interval=0.2, what="the outbox to drain")
    print("drained %.1fs after the burst began" % (time.time() - t0), flush=True)
    check(cl, rx, hooks, hook_ids, accepted, incident_of_group, victims)


def check(cl, rx, hooks, hook_ids, accepted, incident_of_group, victims):
    n1 = cl.nodes[0]
    # One alert per alert_key, one incident per group key, every accepted push there.
    dup_alerts = n1.db_query("SELECT alert_key, COUNT(*) FROM alerts GROUP BY alert_key"
                             " HAVING COUNT(*) > 1")
    assert not dup_alerts, "alert_keys with several alerts: %r" % dup_alerts
    keys = {r[0] for r in n1.db_query("SELECT alert_key FROM alerts")}
    assert set(accepted) <= keys, "accepted but lost: %r" % sorted(set(accepted) - keys)
    for group, incs in incident_of_group.items():
        assert len(incs) == 1, "group %s is in several incidents: %r" % (group, incs)
    n_incidents = n1.db_value("SELECT COUNT(*) FROM incidents")
    assert n_incidents == GROUPS, "%d incidents for %d group keys" % (n_incidents, GROUPS)

    # What the outbox queued: (integration, event_id) -> (lane, sequence).
    marks = ",".join("?" * len(hook_ids))
    queued = {}
    for hook, lane, seq, event_id, status in n1.db_query(
            "SELECT d.integration_id, d.lane, d.sequence, e.event_id, d.status FROM deliveries d"
            " JOIN events e ON e.seq = d.event_seq WHERE d.integration_id IN (%s)" % marks,
            hook_ids):
        assert status == "delivered", (hook, event_id, status)
        queued[(hook, event_id)] = (lane, seq)
    kinds = {r[0]: r[1] for r in n1.db_query(
        "SELECT e.event_type, COUNT(*) FROM deliveries d JOIN events e ON e.seq = d.event_seq"
        " GROUP BY e.event_type")}
    print("queued pushes: %d %r" % (len(queued), kinds), flush=True)
    assert kinds.get("i_new") == GROUPS and kinds.get("a_new") == GROUPS * ALERTS, kinds

    # What the receiver got, by lane.
    recs = wait_until(lambda: (lambda r: r if len(r) >= len(queued) else None)(rx.records()),
                      timeout=30, what="the receiver's records")
    arrivals = {}  # (hook, event_id) -> [record]
    lanes = {}     # (hook, lane) -> [(n, t_ms, event_id, seq)]
    for r in recs:
        hook = next(h for p, h in hooks.items() if r["path"].startswith(p))
        doc = json.loads(r["body"])
        event_id = r["headers"]["webhook-id"]
        assert doc["event_id"] == event_id, r
        seq = int(r["headers"]["tocsin-sequence"])
        assert (hook, event_id) in queued, "received but never queued: %r" % r
        lane, want = queued[(hook, event_id)]
        assert seq == want, "event %s: tocsin-sequence %d, stored %d" % (event_id, seq, want)
        arrivals.setdefault((hook, event_id), []).append(r)
        lanes.setdefault((hook, lane), []).append((r["n"], r["t_ms"], event_id, seq))
    lost = set(queued) - set(arrivals)
    assert not lost, "queued, never received: %r" % sorted(lost)[:20]

    # Order per lane, exact repeats aside; every repeat counted.
    repeats = []
    for (hook, lane), got in lanes.items():
        seen, last = set(), 0
        for n, t_ms, event_id, seq in sorted(got):
            if (event_id, seq) in seen:
                repeats.append((hook, lane, event_id, seq, t_ms))
                continue
            assert seq > last, "lane %s/%s: sequence %d after %d: %r" % (
                hook, lane, seq, last, sorted(got))
            seen.add((event_id, seq))
            last = seq
    # History: every received push has a success recorded; none recorded
    # that never arrived; attempts without a history row are outcomes that
    # died with a killed node.
    hist = {}
    for hook, event_id, status in n1.db_query(
            "SELECT integration_id, event_id, status FROM webhook_history"
            " WHERE integration_id IN (%s)" % marks, hook_ids):
        hist.setdefault((hook, event_id), []).append(status)
    no_success = [k for k in arrivals if "success" not in hist.get(k, [])]
    assert not no_success, "received, no success in history: %r" % no_success[:20]
    phantom = set(hist) - set(arrivals)
    assert not phantom, "history has attempts the receiver never saw: %r" % sorted(phantom)[:20]
    failed = sum(s.count("failed") for s in hist.values())
    unrecorded = {k: len(arrivals[k]) - len(hist.get(k, [])) for k in arrivals
                  if len(arrivals[k]) > len(hist.get(k, []))}
    repeated = {(hook, event_id) for hook, _, event_id, _, _ in repeats}
    assert set(unrecorded) <= repeated, "an outcome died and was never sent again: %r" % sorted(
        set(unrecorded) - repeated)[:20]

    # Every repeat is a push a killed node had sent (its lane in a bucket the
    # node held; first sent before the kill, again after it). Either it was
    # in flight (the receiver had not answered yet: at most one per slot), or
    # it had been answered but its outcome was still on its way to the store
    # (the recorder commits in batches, well within SLOW_MS: at most one more
    # per slot).
    in_flight = done_unrecorded = 0
    for hook, lane, event_id, seq, t_ms in repeats:
        first = min(a["t_ms"] for a in arrivals[(hook, event_id)])
        by = [at for _, at, held in victims
              if bucket_of(hook, lane) in held and first < at <= t_ms]
        assert by, "repeat of %s (lane %s/%s) not explained by a kill: first %d, again %d," \
            " kills %r" % (event_id, hook, lane, first, t_ms, [v[1] for v in victims])
        if first + SLOW_MS >= by[0]:
            in_flight += 1
        else:
            done_unrecorded += 1
    slots = len(victims) * len(hook_ids) * MAX_INFLIGHT
    print("arrivals %d for %d queued pushes; repeats %d (%d in flight at a kill, %d answered"
          " but not yet recorded); attempts with no history row %d; failed attempts %d;"
          " in-flight slots of the killed nodes %d" % (
              len(recs), len(queued), len(repeats), in_flight, done_unrecorded,
              sum(unrecorded.values()), failed, slots), flush=True)
    assert in_flight <= slots, "%d repeats in flight, %d slots: %r" % (in_flight, slots, repeats)
    assert len(repeats) <= 2 * slots + failed, "%d repeats: %r" % (len(repeats), repeats[:20])

    # Failover: SIGKILL to the first delivery of a lane in a bucket the dead
    # node held (by then only its new owner can send it).
    for i, at, held in victims:
        later = [t_ms for (hook, lane), got in lanes.items() if bucket_of(hook, lane) in held
                 for _, t_ms, _, _ in got if t_ms >= at]
        if not later:
            print("failover of node-%d: none of its lanes had anything left to send" % (i + 1))
            continue
        took = (min(later) - at) / 1000.0
        print("failover of node-%d: first delivery by a new owner %.2fs after SIGKILL" % (
            i + 1, took), flush=True)
        assert took < FAILOVER_BOUND_S, "node-%d's buckets taken over after %.1fs" % (i + 1, took)


def test_first_start_of_several_nodes_at_once():
    """Three nodes started at the same time on an empty database, without
    TOCSIN_ADMIN_APP_KEY: one of them makes the administrator, and only its
    key is written to its data folder and shown in its banner (a node that
    lost the race used to keep and show a random key that was never stored)."""
    if ENGINE != "postgres":
        skip("several nodes share one PostgreSQL database, and this run's store is %s" % ENGINE)
    import os
    database = pg_new_database("tocsin_cluster_")
    nodes, errors, ok = [None] * NODES, [], False

    def start(i):
        try:
            nodes[i] = Tocsin(database=database, node_id="first-%d" % i, admin_key=None)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    try:
        threads = [threading.Thread(target=start, args=(i,)) for i in range(NODES)]
        [th.start() for th in threads]
        [th.join(120) for th in threads]
        assert not errors, errors
        keys = {}
        for t in nodes:
            path = os.path.join(t.data_dir, "admin-app-key")
            if os.path.exists(path):
                with open(path) as f:
                    keys[t.node_id] = f.read().strip()
        assert len(keys) == 1, "admin-app-key written by %s" % sorted(keys)
        (key,) = keys.values()
        for t in nodes:
            out = t.read_stdout()
            shown = [line.split()[2] for line in out.splitlines() if "app key:" in line
                     and "not shown" not in line]
            assert shown in ([], [key]), "%s shows %r, the key is %s" % (t.node_id, shown, key)
            t.api("/channel/list", {}, key=key)
        assert n_persons(nodes[0]) == 1
        ok = True
    finally:
        for t in nodes:
            if t:
                t.stop(expect_clean=ok)
                t.cleanup()
        pg_drop_database(database)


def n_persons(t):
    return t.db_value("SELECT COUNT(*) FROM persons")


if __name__ == "__main__":
    run([test_three_nodes_two_killed, test_first_start_of_several_nodes_at_once])
