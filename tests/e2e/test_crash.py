"""test_crash.py: kill -9 in the middle of a burst loses nothing (issue 4).

A burst of standard events with distinct alert keys goes to tocsin from
several keep-alive pushers while a recording receiver takes the webhooks of
one incident webhook and one alert webhook. tocsin is killed with SIGKILL at
evenly spaced points of the burst (by default after 30% and 70% of the
answered pushes, deliveries flowing all the while), restarted on the same
data folder each time, and, when the burst is over and deliveries are still
pending, killed once more during the drain. Then the outbox is drained and
everything is compared:

  lost       an answered push without its alert; a stored event (the
             outbox) without its deliveries row per subscribed webhook; a
             deliveries row not delivered; a delivery the receiver never
             saw. Must be 0.
  partial    an alert whose a_new/a_merge, or whose incident's i_new, is
             missing: a push that was not answered (kill -9 in flight) must
             leave all of it or none. Must be 0.
  phantom    a webhook whose event_id is not in the outbox, or whose object,
             sequence or body disagrees with it; an alert for a push that
             was never sent. Must be 0.
  duplicated receiver records whose (webhook, event_id) came before:
             allowed (at-least-once: an attempt in flight at a kill is
             sent again), counted.
  reordered  per (webhook, lane) in arrival order, a tocsin-sequence below
             the highest seen that is not a repeat of an (event_id,
             sequence) already received. Must be 0.
  history    every (webhook, event_id) the receiver got has a success row in
             webhook_history, and no success row claims more arrivals than
             the receiver recorded. Mismatches must be 0.

Prints one line: crash: events=N answered=A unknown=U lost=0 duplicated=D
reordered=0 deliveries=X kills=K.

Alone:   TOCSIN_BIN=build-asan/tocsin /usr/bin/python3 tests/e2e/test_crash.py
             [--events N] [--kills K] [--pushers P] [--no-drain-kill]
In ctest the burst is TOCSIN_CRASH_EVENTS (default 8000) events and
TOCSIN_CRASH_KILLS (default 2) kills; bench/crash.sh runs 100,000.
"""
import argparse
import hashlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time

from receiver import Receiver
from tocsin_test import BIN, Tocsin, free_port, run

HOST = "127.0.0.1"
PREFIX = "crash"
INC_PATH = "/ok/crash-incident"
ALERT_PATH = "/ok/crash-alert"


def options(argv):
    p = argparse.ArgumentParser(description="tocsin crash test")
    p.add_argument("--events", type=int,
                   default=int(os.environ.get("TOCSIN_CRASH_EVENTS", "8000")))
    p.add_argument("--kills", type=int,
                   default=int(os.environ.get("TOCSIN_CRASH_KILLS", "2")),
                   help="kills during the burst (one more during the drain unless "
                        "--no-drain-kill)")
    p.add_argument("--pushers", type=int, default=16)
    p.add_argument("--no-drain-kill", action="store_true")
    p.add_argument("--drain-timeout", type=float, default=0,
                   help="seconds to wait for the outbox to drain (0: from the size)")
    return p.parse_args(argv)


OPTS = None  # parsed in main; read only


# ---- the burst ----------------------------------------------------------


class Server:
    """Where tocsin listens now, and whether it is up. The controller takes
    it down (kill -9) and up (restart on a new port); pushers wait while it
    is down, so a push fails only when it was in flight at a kill."""

    def __init__(self, port):
        self.lock = threading.Lock()
        self.port = port
        self.gen = 0
        self.up = threading.Event()
        self.up.set()

    def current(self):
        self.up.wait()
        with self.lock:
            return self.port, self.gen

    def down(self):
        """Called before the kill, so any failure it causes sees it."""
        self.up.clear()

    def killed_since(self, gen):
        with self.lock:
            return not self.up.is_set() or self.gen != gen

    def restarted(self, port):
        with self.lock:
            self.port = port
            self.gen += 1
        self.up.set()


class Burst:
    """N events pushed by P threads; the outcome of every push by index:
    "ok" (answered 200), "unknown" (no answer: in flight at a kill) or
    "rejected <status>" (answered otherwise; 429 is retried instead)."""

    def __init__(self, server, integration_key, n, pushers):
        self.server = server
        self.ikey = integration_key
        self.n = n
        self.pushers = pushers
        self.lock = threading.Lock()
        self.next = 0
        self.outcome = {}
        self.answered = 0
        self.throttled = 0
        self.errors = []
        self.threads = []

    def key(self, i):
        return "%s-%d" % (PREFIX, i)

    def body(self, i):
        return json.dumps({"title_rule": "crash test $host %d" % i, "event_status": "Critical",
                           "alert_key": self.key(i), "description": "kill -9 mid-burst",
                           "labels": {"host": "h%d" % (i % 97), "service": "api"}})

    def take(self):
        with self.lock:
            if self.next >= self.n:
                return None
            i = self.next
            self.next += 1
            return i

    def settle(self, i, outcome):
        with self.lock:
            self.outcome[i] = outcome
            if outcome == "ok":
                self.answered += 1

    def push_one(self, conn_box, i):
        """Pushes event i until it has an outcome; conn_box holds this
        pusher's (port, gen, connection)."""
        path = "/event/push/alert/standard?integration_key=%s" % self.ikey
        body = self.body(i)
        for _ in range(200):  # 429s only; bounded
            port, gen = self.server.current()
            if conn_box[0] is None or conn_box[0][1] != gen:
                if conn_box[0] is not None:
                    conn_box[0][2].close()
                conn_box[0] = (port, gen, http.client.HTTPConnection(HOST, port, timeout=120))
            conn = conn_box[0][2]
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn_box[0] = None
                if not self.server.killed_since(gen):
                    # tocsin was not being killed: a real failure.
                    self.settle(i, "rejected: %r" % e)
                    return
                # In flight at a kill (or refused just after it): it may or
                # may not have been committed. Wait for the next tocsin.
                self.settle(i, "unknown")
                while self.server.current()[1] == gen:
                    time.sleep(0.01)
                return
            if r.status == 200:
                self.settle(i, "ok")
                return
            if r.status == 429:
                with self.lock:
                    self.throttled += 1
                time.sleep(min(int(r.getheader("Retry-After", "1") or 1), 5) * 0.2)
                continue
            self.settle(i, "rejected %d %s" % (r.status, data[:200]))
            return
        self.settle(i, "rejected: throttled 200 times")

    def pusher(self):
        conn_box = [None]
        try:
            while True:
                i = self.take()
                if i is None:
                    break
                self.push_one(conn_box, i)
        except Exception as e:  # reported by join()
            with self.lock:
                self.errors.append(repr(e))
        finally:
            if conn_box[0] is not None:
                conn_box[0][2].close()

    def start(self):
        self.threads = [threading.Thread(target=self.pusher, daemon=True)
                        for _ in range(self.pushers)]
        for t in self.threads:
            t.start()

    def alive(self):
        return any(t.is_alive() for t in self.threads)

    def join(self, timeout):
        deadline = time.time() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.time()))
        assert not self.alive(), "pushers still running after %ss" % timeout
        assert not self.errors, self.errors

    def count(self, what):
        with self.lock:
            return sum(1 for o in self.outcome.values() if o == what)


# ---- reading the store --------------------------------------------------


def db_open(t):
    """The store read-only (tocsin may be running, or lie killed)."""
    return t.db(readonly=True)


def db_pending(t):
    return t.db_value("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")


def digest(text):
    return hashlib.sha1(text.encode() if isinstance(text, str) else text).digest()


def load_store(t):
    """What tocsin kept, compactly (a full-size run has ~300,000 events):
    alerts by key, the outbox by seq with each body's digest, deliveries,
    and history rows."""
    db = db_open(t)
    try:
        alerts = {k: (a, inc) for a, k, inc in db.query(
            "SELECT alert_id, alert_key, incident_id FROM alerts")}
        events = {}
        for seq, eid, etype, kind, obj, body in db.query(
                "SELECT seq, event_id, event_type, object_kind, object_id, body FROM events"):
            events[seq] = {"event_id": eid, "type": etype, "kind": kind, "object": obj,
                           "digest": digest(body)}
        deliveries = [dict(zip(("integration", "seq", "lane", "sequence", "status"), row))
                      for row in db.query("SELECT integration_id, event_seq, lane, sequence, "
                                          "status FROM deliveries")]
        history = db.query("SELECT integration_id, event_id, status FROM webhook_history")
    finally:
        db.close()
    return {"alerts": alerts, "events": events, "deliveries": deliveries, "history": history}


def load_arrivals(rx):
    """The receiver's records for the two webhooks, in arrival order, as
    (n, path, event_id, sequence, body digest), read line by line."""
    out = []
    if not os.path.exists(rx.record_path):
        raise AssertionError("the receiver's record file %s is gone (removed from outside "
                             "the test?)" % rx.record_path)
    with open(rx.record_path, "rb") as f:
        for line in f:
            r = json.loads(line)
            if r["path"] not in (INC_PATH, ALERT_PATH):
                continue
            h = r["headers"]
            body = r["body"]
            if r.get("body_encoding") == "latin1":
                body = body.encode("latin-1")
            out.append((r["n"], r["path"], h.get("webhook-id"),
                        int(h.get("tocsin-sequence", "0")), digest(body)))
    out.sort()
    return out


# ---- the check ------------------------------------------------------------


def check(burst, hooks, arrivals, store):
    """Compares what was answered, what tocsin stored, what the receiver got
    and what history says. Returns the counts and a few examples."""
    alerts, events = store["alerts"], store["events"]
    deliveries, history = store["deliveries"], store["history"]
    c = dict.fromkeys(("lost", "partial", "phantom", "duplicated", "reordered",
                       "history_mismatch"), 0)
    bad = []

    def fault(kind, what):
        c[kind] += 1
        if len(bad) < 20:
            bad.append("%s: %s" % (kind, what))

    by_id = {e["event_id"]: seq for seq, e in events.items()}
    kind_of_hook = {hooks["incident"]: "incident", hooks["alert"]: "alert"}
    hook_of_path = {INC_PATH: hooks["incident"], ALERT_PATH: hooks["alert"]}

    # Every answered push has its alert; no alert for a push never sent or
    # refused.
    for i in range(burst.n):
        o = burst.outcome.get(i)
        present = burst.key(i) in alerts
        if o == "ok" and not present:
            fault("lost", "push %d answered 200, no alert" % i)
        if o not in ("ok", "unknown") and present:
            fault("phantom", "push %d (%s) has an alert" % (i, o))

    # Every alert has all of what its push makes, or it would not exist.
    by_object = {}
    for e in events.values():
        by_object.setdefault(e["object"], set()).add(e["type"])
    for key, (alert_id, incident_id) in alerts.items():
        have = by_object.get(alert_id, set())
        if not {"a_new", "a_merge"} <= have or "i_new" not in by_object.get(incident_id, set()):
            fault("partial", "alert %s (%s): %s / incident %s: %s" % (
                key, alert_id, sorted(have), incident_id,
                sorted(by_object.get(incident_id, set()))))

    # The outbox: every event fanned out to the webhook of its kind, and
    # every delivery delivered.
    fanned = {}
    for d in deliveries:
        fanned[(d["integration"], d["seq"])] = d
        if d["status"] != "delivered":
            fault("lost", "delivery %s is %s" % (d, d["status"]))
    for seq, e in events.items():
        for hook, kind in kind_of_hook.items():
            if e["kind"] == kind and (hook, seq) not in fanned:
                fault("lost", "event %s (%s) has no delivery to webhook %d" % (
                    e["event_id"], e["type"], hook))

    # The receiver against the outbox (the body, byte for byte, so also the
    # object: the lane), then duplicates and order per lane.
    got = {}        # (hook, event_id) -> arrivals
    seen = set()    # (hook, event_id, sequence)
    top = {}        # (hook, lane) -> highest sequence seen
    for n, path, eid, sequence, body_digest in arrivals:
        hook = hook_of_path[path]
        seq = by_id.get(eid)
        d = fanned.get((hook, seq))
        if d is None or d["sequence"] != sequence or events[seq]["digest"] != body_digest:
            fault("phantom", "request %d to %s: event %s sequence %d disagrees with %s" % (
                n, path, eid, sequence, d))
            continue
        lane = d["lane"]
        got[(hook, eid)] = got.get((hook, eid), 0) + 1
        if got[(hook, eid)] > 1:
            c["duplicated"] += 1
        if sequence < top.get((hook, lane), 0) and (hook, eid, sequence) not in seen:
            fault("reordered", "request %d: lane %s sequence %d after %d" % (
                n, lane, sequence, top[(hook, lane)]))
        seen.add((hook, eid, sequence))
        top[(hook, lane)] = max(top.get((hook, lane), 0), sequence)
    for d in deliveries:
        eid = events[d["seq"]]["event_id"]
        if (d["integration"], eid) not in got:
            fault("lost", "event %s never reached webhook %d" % (eid, d["integration"]))

    # History agrees with the receiver.
    ok_rows = {}
    for hook, eid, status in history:
        if status == "success":
            ok_rows[(hook, eid)] = ok_rows.get((hook, eid), 0) + 1
    for pair in got:
        if pair not in ok_rows:
            fault("history_mismatch", "received %s, no success row in history" % (pair,))
    for pair, n in ok_rows.items():
        if n > got.get(pair, 0):
            fault("history_mismatch", "%d success rows for %s, receiver saw %d" % (
                n, pair, got.get(pair, 0)))
    c["deliveries"] = len(arrivals)
    c["history_rows"] = len(history)
    c["history_failed"] = sum(1 for _, _, st in history if st != "success")
    return c, bad


# ---- the run -----------------------------------------------------------------


def rate_limit_args():
    """No per-key limit on the pushers' key, when this tocsin has one: the
    test is about crashes, and 429s would only slow the burst."""
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    return ["--rate-limit-event", "0"] if "--rate-limit-event" in out.stdout + out.stderr else []


def kill_and_restart(t, server, burst, rx, why, kills):
    """kill -9, look at what the crash left (read-only), restart on the
    same data folder (a new port) and tell the pushers."""
    server.down()
    t.kill()
    pending = db_pending(t)
    line = "kill %d (%s): answered=%d receiver=%d pending deliveries=%d" % (
        len(kills) + 1, why, burst.answered, rx.stats()["received"], pending)
    print(line, flush=True)
    kills.append(line)
    t.port = free_port()
    t.start()
    server.restarted(t.port)
    return pending


def wait_drained(t, rx, timeout):
    """Until no delivery is pending and the receiver has stopped growing."""
    deadline = time.time() + timeout
    last, still = -1, 0
    while time.time() < deadline:
        n = rx.stats()["received"]
        if db_pending(t) == 0 and n == last:
            still += 1
            if still >= 3:
                return
        else:
            still = 0
        last = n
        time.sleep(0.5)
    raise AssertionError("outbox not drained after %ss: %d pending, receiver %d" % (
        timeout, db_pending(t), rx.stats()["received"]))


def crash_run(n, kills_wanted, pushers, drain_kill):
    t0 = time.time()
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"] + rate_limit_args()) as t:
        ch = t.make_channel("crash")
        _, ikey = t.make_source(ch)
        hooks = {}
        for kind, path in (("incident", INC_PATH), ("alert", ALERT_PATH)):
            hooks[kind] = t.api("/integration/create", {
                "type": "webhook_%s" % kind, "name": "crash-%s" % kind,
                "endpoint": rx.url(path)}).data["integration_id"]

        server = Server(t.port)
        burst = Burst(server, ikey, n, pushers)
        kills = []
        burst.start()
        points = [int(n * (0.3 + 0.4 * k / (kills_wanted - 1))) if kills_wanted > 1 else n // 2
                  for k in range(kills_wanted)]
        burst_timeout = 120 + n / 50.0
        deadline = time.time() + burst_timeout
        for at in points:
            while burst.answered < at and burst.alive():
                assert time.time() < deadline, "burst too slow: %d answered" % burst.answered
                time.sleep(0.005)
            if not burst.alive():
                break
            kill_and_restart(t, server, burst, rx, "after %d answered pushes" % at, kills)
        burst.join(max(10, deadline - time.time()))
        if drain_kill and db_pending(t) > 0:
            kill_and_restart(t, server, burst, rx, "during the drain", kills)
        wait_drained(t, rx, OPTS.drain_timeout or 120 + n / 100.0)

        # A read through the API too: history answers for the webhooks.
        now = int(time.time() * 1000)
        items = t.api("/webhook/history/list", {
            "start_time": now - 3600 * 1000, "end_time": now + 60000, "limit": 10,
            "integration_id": hooks["alert"]}).data["items"]
        assert items and all(i["status"] == "success" for i in items), items

        t.stop()  # clean: ASan would fail a leak or an error here
        store = load_store(t)
        c, bad = check(burst, hooks, load_arrivals(rx), store)
        answered, unknown = burst.count("ok"), burst.count("unknown")
        rejected = n - answered - unknown
        print("crash: events=%d answered=%d unknown=%d lost=%d duplicated=%d reordered=%d "
              "deliveries=%d kills=%d" % (n, answered, unknown, c["lost"], c["duplicated"],
                                          c["reordered"], c["deliveries"], len(kills)))
        unknown_stored = sum(1 for i, o in burst.outcome.items()
                             if o == "unknown" and burst.key(i) in store["alerts"])
        print("crash: partial=%d phantom=%d history_mismatch=%d rejected=%d throttled=%d "
              "unknown_committed=%d history_rows=%d (failed %d) outbox_events=%d wall=%.1fs" % (
                  c["partial"], c["phantom"], c["history_mismatch"], rejected, burst.throttled,
                  unknown_stored, c["history_rows"], c["history_failed"], len(store["events"]),
                  time.time() - t0), flush=True)
        for b in bad:
            print("  " + b)
        assert len(kills) >= kills_wanted, kills
        assert rejected == 0, [o for o in burst.outcome.values() if o not in ("ok", "unknown")][:5]
        assert answered > 0 and len(store["events"]) >= 3 * answered, "the burst did not happen"
        for k in ("lost", "partial", "phantom", "reordered", "history_mismatch"):
            assert c[k] == 0, "%s=%d: %s" % (k, c[k], bad)


def test_check_finds_each_fault():
    """The comparison itself: a clean record passes, and each kind of fault
    planted in it is counted (so a 0 above means something)."""
    burst = Burst(None, "k", 2, 1)
    burst.outcome = {0: "ok", 1: "unknown"}
    hooks = {"incident": 1, "alert": 2}
    ev = {1: ("e1", "a_new", "alert", "A0"), 2: ("e2", "i_new", "incident", "I0"),
          3: ("e3", "a_merge", "alert", "A0")}

    def world():
        store = {"alerts": {"crash-0": ("A0", "I0")},
                 "events": {seq: {"event_id": e, "type": ty, "kind": k, "object": o,
                                  "digest": digest(e)} for seq, (e, ty, k, o) in ev.items()},
                 "deliveries": [
                     {"integration": hook, "seq": seq, "lane": lane, "sequence": sequence,
                      "status": "delivered"}
                     for hook, seq, lane, sequence in ((2, 1, "A0", 1), (1, 2, "I0", 1),
                                                       (2, 3, "A0", 2))],
                 "history": [(2, "e1", "success"), (1, "e2", "success"), (2, "e3", "success")]}
        arrivals = [(1, ALERT_PATH, "e1", 1, digest("e1")), (2, INC_PATH, "e2", 1, digest("e2")),
                    (3, ALERT_PATH, "e3", 2, digest("e3"))]
        return store, arrivals

    def counts(mutate):
        store, arrivals = world()
        changed = mutate(store, arrivals)  # a new list of arrivals, or edits in place
        if isinstance(changed, list):
            arrivals = changed
        return check(burst, hooks, arrivals, store)[0]

    clean = counts(lambda s, a: None)
    assert all(clean[k] == 0 for k in ("lost", "partial", "phantom", "duplicated", "reordered",
                                       "history_mismatch")), clean
    assert counts(lambda s, a: a[:2])["lost"] == 1  # e3 never arrived
    assert counts(lambda s, a: s["alerts"].clear())["lost"] == 1  # answered, no alert
    assert counts(lambda s, a: s["deliveries"][0].update(status="pending"))["lost"] == 1
    assert counts(lambda s, a: s["deliveries"].pop())["lost"] >= 1  # no fan-out row
    assert counts(lambda s, a: s["events"].pop(2) and s["deliveries"].pop(1)
                  and a.pop(1))["partial"] == 1  # the incident's i_new missing
    assert counts(lambda s, a: [a[2], a[1], a[0]])["reordered"] == 1
    dup = counts(lambda s, a: a + [(4, ALERT_PATH, "e1", 1, digest("e1"))])
    assert dup["duplicated"] == 1 and dup["reordered"] == 0, dup
    assert counts(lambda s, a: a + [(4, ALERT_PATH, "zz", 3, digest("zz"))])["phantom"] == 1
    assert counts(lambda s, a: a[:2] + [(3, ALERT_PATH, "e3", 2, digest("x"))])["phantom"] == 1
    assert counts(lambda s, a: a[:2] + [(3, ALERT_PATH, "e3", 3, digest("e3"))])["phantom"] == 1
    assert counts(lambda s, a: s["history"].pop())["history_mismatch"] == 1
    assert counts(lambda s, a: s["history"].append((2, "e1", "success")))["history_mismatch"] == 1
    burst.outcome = {0: "ok", 1: "rejected 400"}
    assert counts(lambda s, a: s["alerts"].update({"crash-1": ("A1", "I0")}))["phantom"] == 1


def test_crash_mid_burst_loses_nothing():
    crash_run(OPTS.events, OPTS.kills, OPTS.pushers, not OPTS.no_drain_kill)


if __name__ == "__main__":
    OPTS = options(sys.argv[1:])
    run([test_check_finds_each_fault, test_crash_mid_burst_loses_nothing])
