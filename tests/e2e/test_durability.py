"""test_durability.py: what tocsin promises about keeping data.

- A restart keeps every alert, incident, feed entry and event: a rich state is
  built through the public APIs only, read back whole through the Open API and
  from the raw store (every row of every table), and must read back
  identical after a restart.
- A clean stop (SIGTERM) lets requests in flight finish and commits the last
  batch: every push answered 200 while many pushers run is stored with all of
  its domain events, and no change is stored half-written.
- A crash (kill -9) loses nothing that was answered 200: after the store's
  recovery (SQLite's WAL) on the next start every answered push is there,
  with its events, and the service serves again.
- The database and the admin key file stay private (0600) across restarts,
  and each schema migration is recorded once however often tocsin starts.

On PostgreSQL (TOCSIN_TEST_STORE=postgres) the same, but for what only the
SQLite file has: its integrity check, its files' modes (the data folder
then holds the admin key file, private, and no tocsin.db), and the list of
migrations, which is src/store/migrations/ for SQLite alone.

Everything talks to 127.0.0.1 only; loops and waits are bounded; nothing
asserts on timing (the bursts stop on the first refused connection)."""
import datetime
import http.client
import json
import os
import signal
import stat
import threading
import time

from tocsin_test import keeping_bodies, ROOT, Tocsin, run, spec, validate_feed_response, validate_response

# Helpers ------------------------------------------------------------------------
MAX_PAGES = 100
# One list window for the whole run, so that both snapshots ask the same.
_NOW = int(time.time())
WINDOW = {"start_time": _NOW - 6 * 3600, "end_time": _NOW + 6 * 3600}


def envelope(resp):
    """A response's whole envelope but its request_id (the one field a
    restart may change)."""
    assert resp.status == 200, resp
    body = dict(resp.json)
    assert body.pop("request_id"), resp
    return body


def all_pages(t, path, body, limit=100):
    """Every page of a paged list, each as its envelope; and all items."""
    pages, items = [], []
    for p in range(1, MAX_PAGES + 1):
        req = dict(body, p=p, limit=limit)
        r = t.api(path, req)
        if path in ("/incident/feed", "/alert/feed"):
            validate_feed_response(path, r)
        elif path in spec()["paths"]:  # /integration/* is tocsin's own
            validate_response(path, r)
        pages.append(envelope(r))
        got = r.data.get("items") or []
        items.extend(got)
        if "has_next_page" in r.data:
            if not r.data["has_next_page"]:
                break
        elif len(got) < limit:
            break
    else:
        raise AssertionError("%s: more than %d pages" % (path, MAX_PAGES))
    return pages, items


def first_difference(a, b, where="$"):
    """The path of the first place two JSON values differ, or None."""
    if type(a) is not type(b):
        return "%s: %r != %r" % (where, a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s: only in %s" % (where, k, "before" if k in a else "after")
            d = first_difference(a[k], b[k], "%s.%s" % (where, k))
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return "%s: %d items != %d items" % (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (where, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r != %r" % (where, a, b)


def assert_same(before, after, what):
    d = first_difference(before, after)
    assert d is None, "%s changed across the restart: %s" % (what, d)


def open_db(t, readonly=False):
    return t.db(readonly=readonly)


def dump_db(t):
    """Every row of every table of a stopped tocsin's database: on SQLite in
    rowid order; on PostgreSQL (no rowid) in the order of the rows' text."""
    assert t.proc.poll() is not None, "stop tocsin before reading its store"
    db = open_db(t)
    try:
        out = {}
        for name in t.db_data_tables():
            if t.engine == "sqlite":
                out[name] = db.query('SELECT * FROM "%s" ORDER BY rowid' % name)
            else:
                out[name] = db.query('SELECT * FROM "%s" AS r ORDER BY r::text' % name)
        return out
    finally:
        db.close()


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def am_body(status, alerts):
    """An Alertmanager webhook body (version 4), as Alertmanager sends it."""
    return {"version": "4", "groupKey": '{}:{alertname="Durability"}', "truncatedAlerts": 0,
            "status": status, "receiver": "tocsin", "groupLabels": {"alertname": "Durability"},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
            "alerts": alerts}


def am_alert(fp, status, labels, summary, description=""):
    now = int(time.time())
    return {"status": status, "labels": dict(labels, alertname="Durability"),
            "annotations": {"summary": summary, "description": description},
            "startsAt": iso(now - 30), "endsAt": iso(now) if status == "resolved" else
            "0001-01-01T00:00:00Z", "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": fp}


def std(title, status, key=None, **extra):
    body = {"title_rule": title, "event_status": status}
    if key is not None:
        body["alert_key"] = key
    body.update(extra)
    return body


# 1. A restart keeps everything -----------------------------------------------------
def build_rich_state(t):
    """Channels, sources of both kinds, pushed events with updates and
    recoveries, manual incidents and every kind of hand change. Returns the
    ids the test checks by name."""
    alice, akey = t.make_member("Alice Durable")
    bob, bkey = t.make_member("Bob Durable")
    carol, _ = t.make_member("Carol Leaving")
    t.api("/member/delete", {"member_id": carol})

    pay = t.make_channel("payments")
    infra = t.make_channel("infra", group={"method": "p", "equals": [["service"], ["host", "dc"]],
                                           "time_window": 60})
    quiet = t.make_channel("quiet")
    t.api("/channel/update", {"channel_id": quiet, "description": "nothing pages here"})
    t.api("/channel/disable", {"channel_id": quiet})
    _, pay_std = t.make_source(pay, name="pay-std")
    _, infra_std = t.make_source(infra, name="infra-std")
    _, infra_prom = t.make_source(infra, kind="alert_prometheus", name="infra-prom")
    pay_prom_id, pay_prom = t.make_source(pay, kind="alert_prometheus", name="pay-prom")

    # Standard events: new, update, a repeat (dropped), recovery, derived key.
    t.push(pay_std, std("$service latency high", "Critical", "pay-1",
                        labels={"service": "checkout", "env": "prod"},
                        description="p99 above 2s",
                        images=[{"alt": "graph", "src": "https://img.example/1.png",
                                 "href": "https://dash.example/1"}]))
    t.push(pay_std, std("$service latency high", "Warning", "pay-1",
                        labels={"service": "checkout", "env": "prod"}, description="p99 1.5s"))
    t.push(pay_std, std("$service latency high", "Warning", "pay-1",
                        labels={"service": "checkout", "env": "prod"}, description="p99 1.5s"))
    t.push(pay_std, std("refund queue", "Info", "pay-2", labels={"service": "refunds"}))
    t.push(pay_std, std("refund queue", "Ok", "pay-2", labels={"service": "refunds"}))
    t.push(pay_std, std("card gateway down", "Critical", "pay-3"))
    derived = t.push(pay_std, std("no key given", "Warning")).data["alert_key"]
    assert derived

    # Rule-based grouping: service, or host+dc, joins the first alert's incident.
    t.push(infra_std, std("db slow", "Critical", "db-h1",
                          labels={"service": "db", "host": "h1", "dc": "eu"}))
    t.push(infra_std, std("db slow", "Warning", "db-h2",
                          labels={"service": "db", "host": "h2", "dc": "eu"}))
    t.push(infra_std, std("web 5xx", "Warning", "web-h3",
                          labels={"service": "web", "host": "h3", "dc": "us"}))
    t.push(infra_std, std("disk full", "Info", "disk-h3",
                          labels={"service": "disk", "host": "h3", "dc": "us"}))

    # Alertmanager-shaped events: firing, update, resolved.
    t.push(infra_prom, am_body("firing", [
        am_alert("fp-a", "firing", {"service": "db", "severity": "critical"}, "db replica lag"),
        am_alert("fp-b", "firing", {"service": "cache", "severity": "warning"}, "cache misses")]),
        kind="prometheus")
    t.push(infra_prom, am_body("resolved", [
        am_alert("fp-b", "resolved", {"service": "cache", "severity": "warning"},
                 "cache misses")]), kind="prometheus")
    t.push(infra_prom, am_body("firing", [
        am_alert("fp-a", "firing", {"service": "db", "severity": "critical"}, "db replica lag",
                 "lag 40s")]), kind="prometheus")
    t.push(pay_prom, am_body("firing", [
        am_alert("fp-c", "firing", {"service": "ledger", "severity": "info"}, "ledger drift")]),
        kind="prometheus")
    t.api("/integration/disable", {"integration_id": pay_prom_id})

    def alert_of(key):
        r = t.api("/alert/list", dict(WINDOW, alert_keys=[key], limit=100))
        assert r.data["total"] == 1, (key, r.data)
        item = r.data["items"][0]
        return dict(item, incident_id=item["incident"]["incident_id"])

    pay1, pay2, pay3, db1, web3, fpb = (alert_of(k) for k in (
        "pay-1", "pay-2", "pay-3", "db-h1", "web-h3", "fp-b"))

    # Manual incidents and every hand change.
    m1 = t.api("/incident/create", {"incident_severity": "Warning", "title": "manual one",
                                    "description": "by hand", "channel_id": pay,
                                    "assigned_to": {"person_ids": [alice]}}).data["incident_id"]
    m2 = t.api("/incident/create", {"incident_severity": "Info",
                                    "title": "no channel"}).data["incident_id"]
    m3 = t.api("/incident/create", {"incident_severity": "Critical",
                                    "title": "merged away"}).data["incident_id"]
    steps = [
        ("/incident/ack", {"incident_ids": [m1]}, akey),
        ("/incident/comment", {"incident_ids": [m1], "comment": "on it"}, bkey),
        ("/incident/reset", {"incident_id": m1, "title": "manual one, renamed",
                             "incident_severity": "Critical", "impact": "checkout slow"}, None),
        ("/incident/snooze", {"incident_ids": [m1], "minutes": 30}, None),
        ("/incident/wake", {"incident_ids": [m1]}, None),
        ("/incident/responder/add", {"incident_id": m1, "person_ids": [bob]}, None),
        ("/incident/merge", {"source_incident_ids": [m3], "target_incident_id": m1,
                             "comment": "same outage"}, None),
        ("/incident/resolve", {"incident_ids": [m1], "root_cause": "bad deploy",
                               "resolution": "rolled back"}, akey),
        ("/incident/reopen", {"incident_ids": [m1], "reason": "came back"}, bkey),
        ("/incident/resolve", {"incident_ids": [m2]}, None),
        ("/incident/ack", {"incident_ids": [db1["incident_id"]]}, akey),
        ("/incident/unack", {"incident_ids": [db1["incident_id"]]}, akey),
        ("/incident/assign", {"incident_id": web3["incident_id"],
                              "assigned_to": {"person_ids": [bob]}}, None),
        ("/incident/snooze", {"incident_ids": [web3["incident_id"]], "minutes": 120}, None),
        ("/incident/ack", {"incident_ids": [pay1["incident_id"]]}, bkey),
        ("/incident/comment", {"incident_ids": [pay1["incident_id"]],
                               "comment": "paging payments"}, None),
        ("/incident/reset", {"incident_id": pay1["incident_id"],
                             "description": "edited by hand"}, None),
        ("/alert/close", {"alert_ids": [pay3["alert_id"]]}, None),
    ]
    for path, body, key in steps:
        t.api(path, body, key=key)
    return {"m1": m1, "m2": m2, "db1": db1["alert_id"], "pay1": pay1["alert_id"],
            "pay2": pay2["alert_id"], "pay3": pay3["alert_id"], "web3": web3["alert_id"],
            "fpb": fpb["alert_id"]}


def snapshot(t):
    """Everything the Open API tells about the state, request ids aside."""
    snap = {}
    snap["incident/list"], incidents = all_pages(t, "/incident/list", dict(WINDOW, asc=True))
    for inc in incidents:
        iid = inc["incident_id"]
        r = t.api("/incident/info", {"incident_id": iid})
        validate_response("/incident/info", r)
        snap["incident/info " + iid] = envelope(r)
        snap["incident/feed " + iid], _ = all_pages(t, "/incident/feed",
                                                    {"incident_id": iid, "asc": True})
        snap["incident/alert/list " + iid], _ = all_pages(
            t, "/incident/alert/list", {"incident_id": iid, "include_events": True}, limit=1000)
    snap["incident/list-by-ids"] = envelope(t.api("/incident/list-by-ids", {
        "incident_ids": [i["incident_id"] for i in incidents]}))
    snap["alert/list"], alerts = all_pages(t, "/alert/list", dict(WINDOW, asc=True))
    for al in alerts:
        aid = al["alert_id"]
        r = t.api("/alert/info", {"alert_id": aid})
        validate_response("/alert/info", r)
        snap["alert/info " + aid] = envelope(r)
        snap["alert/feed " + aid], _ = all_pages(t, "/alert/feed", {"alert_id": aid, "asc": True})
        snap["alert/event/list " + aid] = envelope(t.api("/alert/event/list", {"alert_id": aid}))
    snap["alert-event/list"], events = all_pages(t, "/alert-event/list", dict(WINDOW, asc=True))
    snap["channel/list"], channels = all_pages(t, "/channel/list", {"asc": True})
    for ch in channels:
        snap["channel/info %d" % ch["channel_id"]] = envelope(
            t.api("/channel/info", {"channel_id": ch["channel_id"]}))
    snap["member/list"], members = all_pages(t, "/member/list", {"asc": True})
    snap["person/infos"] = envelope(t.api("/person/infos", {
        "person_ids": [m["member_id"] for m in members]}))
    snap["integration/list"], _ = all_pages(t, "/integration/list", {})
    snap["integration/list disabled"], _ = all_pages(t, "/integration/list", {"status": "disabled"})
    counts = {"incidents": len(incidents), "alerts": len(alerts), "alert events": len(events),
              "channels": len(channels), "members": len(members)}
    return snap, counts


def test_restart_keeps_everything():
    with Tocsin() as t:
        ids = build_rich_state(t)
        before, counts = snapshot(t)
        # The state really is rich: grouping joined alerts, every progress
        # value and each kind of change is there to be kept.
        assert counts["incidents"] >= 10 and counts["alerts"] >= 11, counts
        assert counts["alert events"] > counts["alerts"], counts
        assert counts["channels"] == 3 and counts["members"] >= 3, counts
        progress = {v["data"]["progress"] for k, v in before.items()
                    if k.startswith("incident/info ")}
        assert progress == {"Triggered", "Processing", "Closed"}, progress
        alert = {name: before["alert/info " + ids[name]]["data"]
                 for name in ("db1", "pay1", "pay2", "pay3", "web3", "fpb")}
        incident = {name: before["incident/info " + a["incident"]["incident_id"]]["data"]
                    for name, a in alert.items()}
        assert incident["db1"]["alert_cnt"] == 3, incident["db1"]  # db-h1, db-h2, fp-a
        assert incident["web3"]["alert_cnt"] == 2, incident["web3"]  # web-h3, disk-h3
        assert incident["web3"]["snoozed_before"] > time.time(), incident["web3"]
        assert alert["pay1"]["event_cnt"] == 2, alert["pay1"]  # the repeat was dropped
        for name in ("pay2", "pay3", "fpb"):  # two recoveries, one closed by hand
            assert alert[name]["progress"] == "Closed", alert[name]
        m1_feed = [i["type"] for page in before["incident/feed " + ids["m1"]]
                   for i in page["data"]["items"]]
        for kind in ("i_new", "i_ack", "i_comm", "i_snooze", "i_wake", "i_rslv", "i_reopen"):
            assert kind in m1_feed, (kind, m1_feed)
        t.stop()
        raw_before = dump_db(t)
        # The event log and the timelines' first entries, which since
        # migration 011 are kept in their alerts' and incidents' rows.
        first_entries = sum(t.db_value("SELECT COUNT(*) FROM %s WHERE new_detail IS NOT NULL"
                                       % table) for table in ("alerts", "incidents"))
        assert len(raw_before["events"]) + first_entries >= 40, (
            len(raw_before["events"]), first_entries)

        t.start()
        after, _ = snapshot(t)
        assert sorted(before) == sorted(after), "different objects after the restart"
        for key in sorted(before):
            assert_same(before[key], after[key], key)
        t.stop()
        raw_after = dump_db(t)
        assert_same(raw_before["events"], raw_after["events"], "the events table")
        for table in sorted(raw_before):
            assert_same(raw_before[table], raw_after[table], "table " + table)

        # And the kept state goes on changing normally.
        t.start()
        t.api("/incident/comment", {"incident_ids": [ids["m1"]], "comment": "after restart"})
        feed = t.api("/incident/feed", {"incident_id": ids["m1"], "asc": True,
                                        "limit": 100}).data["items"]
        assert feed[-1]["type"] == "i_comm" and len(feed) == sum(
            len(p["data"]["items"]) for p in before["incident/feed " + ids["m1"]]) + 1
        print("     kept across restart: %s, %d events rows" % (
            ", ".join("%d %s" % (v, k) for k, v in counts.items()), len(raw_before["events"])))


# 2 and 3. Bursts of concurrent pushes ------------------------------------------
class Burst:
    """`threads` pushers, each on one keep-alive connection, each pushing up
    to `per_thread` events with keys of its own. A pusher stops at the first
    push not answered 200 (refused, cut off, or an error answer). `fire()`
    waits until `after` pushes were answered, then calls stop_fn (the signal),
    and records that it did so."""

    def __init__(self, port, key, prefix, threads=32, per_thread=60):
        self.port, self.key, self.prefix = port, key, prefix
        self.threads, self.per_thread = threads, per_thread
        self.lock = threading.Lock()
        self.answered = []      # alert keys answered 200
        self.early_failures = []  # pushes not answered 200 before the signal
        self.late_failures = 0
        self.signalled = False
        self.workers = []

    def push_all(self, n):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            for i in range(self.per_thread):
                key = "%s-t%d-%d" % (self.prefix, n, i)
                body = json.dumps(std("burst %s" % key, "Critical", key,
                                      labels={"thread": str(n), "i": str(i)}))
                try:
                    conn.request("POST", "/event/push/alert/standard?integration_key=" + self.key,
                                 body, {"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    raw = resp.read()
                    status = resp.status
                except (OSError, http.client.HTTPException) as e:
                    status, raw = None, repr(e).encode()
                with self.lock:
                    if status == 200:
                        got = json.loads(raw)["data"]["alert_key"]
                        assert got == key, (got, key)
                        self.answered.append(key)
                        continue
                    if self.signalled:
                        self.late_failures += 1
                    else:
                        self.early_failures.append((key, status, raw[:300]))
                return
        finally:
            conn.close()

    def start(self):
        for n in range(self.threads):
            th = threading.Thread(target=self.push_all, args=(n,), daemon=True)
            th.start()
            self.workers.append(th)

    def fire(self, after, stop_fn):
        deadline = time.time() + 60
        while time.time() < deadline:
            with self.lock:
                if len(self.answered) >= after or not any(w.is_alive() for w in self.workers):
                    self.signalled = True
                    break
            time.sleep(0.005)
        else:
            raise AssertionError("the burst did not get %d answers in 60 s" % after)
        stop_fn()

    def join(self):
        for w in self.workers:
            w.join(timeout=60)
            assert not w.is_alive(), "a pusher hung"
        assert not self.early_failures, "pushes failed before the signal: %r" % (
            self.early_failures[:5],)


def check_whole(db):
    """No change is stored half-written: every alert has its incident, its one
    alert event and its a_new and a_merge events; every incident its i_new;
    and every event's object exists. Returns {alert_key: alert_id}."""
    events = {}
    for etype, oid in db.query("SELECT event_type, object_id FROM events"):
        events[(etype, oid)] = events.get((etype, oid), 0) + 1
    alert_events = dict(db.query("SELECT alert_id, COUNT(*) FROM alert_events GROUP BY alert_id"))
    incidents = {r[0] for r in db.query("SELECT incident_id FROM incidents")}
    alerts, by_key = set(), {}
    for aid, key, iid in db.query("SELECT alert_id, alert_key, incident_id FROM alerts"):
        assert key not in by_key, "two alerts for key %s" % key
        by_key[key] = aid
        alerts.add(aid)
        assert iid and iid in incidents, "alert %s (%s) has no incident" % (aid, key)
        for etype in ("a_new", "a_merge"):
            assert events.get((etype, aid)) == 1, "alert %s (%s): %d %s events" % (
                aid, key, events.get((etype, aid), 0), etype)
        assert alert_events.get(aid) == 1, "alert %s (%s) has %r alert events" % (
            aid, key, alert_events.get(aid))
    for iid in incidents:
        assert events.get(("i_new", iid)) == 1, "incident %s: %d i_new events" % (
            iid, events.get(("i_new", iid), 0))
    for kind, oid in db.query("SELECT object_kind, object_id FROM events"
                                " WHERE event_id IS NOT NULL"):
        assert oid in (alerts if kind == "alert" else incidents), \
            "event for %s %s, which is not stored" % (kind, oid)
    return by_key


def check_stored(db, answered, prefix):
    """Every push answered 200 is stored (whole); returns how many alerts of
    the burst `prefix` the store holds (answered or cut off)."""
    by_key = check_whole(db)
    missing = [k for k in answered if k not in by_key]
    assert not missing, "%d pushes answered 200 are not stored, e.g. %r" % (
        len(missing), missing[:5])
    return sum(1 for k in by_key if k.startswith(prefix + "-"))


def burst_source(t, name):
    cid = t.make_channel(name)
    return t.make_source(cid, name=name + "-src")[1]


def test_sigterm_finishes_in_flight_and_commits_last_batch():
    # Every event kept (keeping_bodies): check_whole counts each alert's
    # a_merge, which is written only when something can read it.
    with keeping_bodies() as t:
        key = burst_source(t, "burst")
        burst = Burst(t.port, key, "term")
        burst.start()
        burst.fire(after=200, stop_fn=lambda: t.proc.send_signal(signal.SIGTERM))
        burst.join()
        # Exit 0 (under ASan: no leak, no error) within the harness's bound.
        t.stop()
        db = open_db(t)
        try:
            stored = check_stored(db, burst.answered, "term")
        finally:
            db.close()
        assert burst.answered, "no push was answered"
        print("     SIGTERM: answered %d, stored %d (%d of them unanswered), cut off %d,"
              " missing 0" % (len(burst.answered), stored, stored - len(burst.answered),
                              burst.late_failures))
        # A clean stop answers every request it committed (http_server_stop
        # drains them before closing connections): a change stored without
        # its answer would be applied twice by a client that retries it.
        assert stored == len(burst.answered), (
            "%d pushes were stored but never answered" % (stored - len(burst.answered)))
        # The stopped service starts again on the same folder and serves.
        t.start()
        r = t.api("/alert/list", dict(WINDOW, alert_keys=burst.answered[:50], limit=100))
        assert r.data["total"] == min(50, len(burst.answered)), r.data["total"]


def test_kill_9_loses_nothing_answered():
    with keeping_bodies() as t:
        key = burst_source(t, "crash")
        answered = {}
        for rnd in range(3):
            prefix = "crash%d" % rnd
            burst = Burst(t.port, key, prefix)
            burst.start()
            burst.fire(after=150, stop_fn=lambda: t.proc.send_signal(signal.SIGKILL))
            burst.join()
            t.kill()
            assert t.proc.returncode == -signal.SIGKILL, t.proc.returncode
            answered[prefix] = list(burst.answered)
            assert answered[prefix], "no push was answered in round %d" % rnd
            # The next start recovers the WAL; then the service serves.
            t.start()
            r = t.push(key, std("after crash %d" % rnd, "Warning", "after-%d" % rnd))
            assert r.data["alert_key"] == "after-%d" % rnd
            r = t.api("/alert/list", dict(WINDOW, alert_keys=["after-%d" % rnd], limit=10))
            assert r.data["total"] == 1, r
            aid = r.data["items"][0]["alert_id"]
            assert t.api("/alert/info", {"alert_id": aid}).data["progress"] == "Triggered"
            db = open_db(t, readonly=True)
            try:
                stored = check_stored(db, answered[prefix], prefix)
            finally:
                db.close()
            print("     kill -9 round %d: answered %d, stored %d, missing 0" % (
                rnd, len(answered[prefix]), stored))
        # After a clean stop, every round's answered pushes are still there.
        t.stop()
        db = open_db(t)
        try:
            for prefix, keys in answered.items():
                check_stored(db, keys, prefix)
            if t.engine == "sqlite":
                assert db.query("PRAGMA integrity_check")[0][0] == "ok"
        finally:
            db.close()


# 4. Private files and migrations ---------------------------------------------------
def private_modes(t):
    modes = {}
    for name in ("tocsin.db", "tocsin.db-wal", "tocsin.db-shm", "admin-app-key"):
        path = os.path.join(t.data_dir, name)
        if os.path.exists(path):
            modes[name] = stat.S_IMODE(os.stat(path).st_mode)
    return modes


def with_umask_0(fn):
    """fn() with umask 0, which a tocsin started by fn inherits: its files
    must be private by its own doing, not thanks to the caller's umask."""
    old = os.umask(0)
    try:
        return fn()
    finally:
        os.umask(old)


def test_files_stay_private_and_migrations_apply_once():
    migrations = sorted(f for f in os.listdir(os.path.join(ROOT, "src", "store", "migrations"))
                        if f.endswith(".sql"))
    assert migrations
    with with_umask_0(lambda: Tocsin(admin_key=None)) as t:
        key_path = os.path.join(t.data_dir, "admin-app-key")
        key = open(key_path).read().strip()
        assert len(key) >= 32
        t.admin_key = key
        t.api("/channel/create", {"channel_name": "private", "team_id": 0})
        # On another store the data folder holds no SQLite file at all.
        db_mode = 0o600 if t.engine == "sqlite" else None
        for rnd in range(4):
            modes = private_modes(t)
            assert modes.get("tocsin.db") == db_mode and modes.get("admin-app-key") == 0o600, {
                k: oct(v) for k, v in modes.items()}
            assert all(m == 0o600 for m in modes.values()), {k: oct(v) for k, v in modes.items()}
            assert open(key_path).read().strip() == key, "the key file changed"
            if rnd == 2:
                t.kill()
            else:
                t.stop()
            with_umask_0(t.start)
            # The same key still works, and no second administrator appeared.
            members = t.api("/member/list", {}).data
            assert members["total"] == 1, members
        t.stop()
        modes = private_modes(t)
        assert all(m == 0o600 for m in modes.values()), {k: oct(v) for k, v in modes.items()}
        db = open_db(t)
        try:
            rows = db.query("SELECT version, name FROM schema_migrations ORDER BY version")
            channels = db.query("SELECT channel_name FROM channels")
        finally:
            db.close()
        if t.engine == "sqlite":
            assert [name for _, name in rows] == migrations, rows
            assert [v for v, _ in rows] == [int(m.split("_")[0]) for m in migrations], rows
        else:
            # That engine's migrations are its own: each is recorded once.
            versions = [v for v, _ in rows]
            assert versions and versions == sorted(set(versions)), rows
        assert channels == [("private",)], channels


if __name__ == "__main__":
    run([test_restart_keeps_everything, test_sigterm_finishes_in_flight_and_commits_last_batch,
         test_kill_9_loses_nothing_answered, test_files_stay_private_and_migrations_apply_once])
