"""test_replay.py: bulk replay, POST /webhook/history/replay (issue 4 item 8).

A real tocsin (--allow-private-targets) pushes to a real receiver: incidents
with several events each are delivered first to an endpoint answering 400
(failed for good at once), then, after the webhook is pointed elsewhere, to
one answering 200, so the history holds both outcomes. The replays are then
checked against the store (events.seq is the original order) and against
what the receiver got: the same event_ids again, each lane in its original
order with its tocsin-sequence going on, exactly the matching events, paced
(with a small --replay-rate, progress is seen part-way and a live push gets
through before the replay ends), and a kill -9 in the middle loses and
doubles nothing. Assertions are on counts and orders, never on durations.
"""
import json
import time

from receiver import Receiver
from tocsin_test import Tocsin, expect_error, run, wait_until

HOUR = 3600 * 1000
DAY = 24 * HOUR


def start(*extra):
    return Tocsin(args=["--allow-private-targets"] + list(extra))


def window(**extra):
    now = int(time.time() * 1000)
    body = {"start_time": now - HOUR, "end_time": now + 60000}
    body.update(extra)
    return body


def make_webhook(t, endpoint):
    data = t.api("/integration/create", {"type": "webhook_incident",
                                         "name": "hook-%d" % time.time_ns(),
                                         "endpoint": endpoint}).data
    return data["integration_id"]


def new_incident(t, key, alert_key):
    t.push(key, {"title_rule": "disk full", "event_status": "Critical", "alert_key": alert_key})
    now = int(time.time())
    items = t.api("/alert/list", {"start_time": now - 3600, "end_time": now + 60,
                                  "limit": 100}).data["items"]
    return next(a["incident"]["incident_id"] for a in items if a["alert_key"] == alert_key)


def db_rows(t, sql, *args):
    return t.db_query(sql, args)


def events_in_order(t):
    """[(event_id, event_type, incident_id)] of every incident event, by events.seq."""
    return db_rows(t, "SELECT event_id, event_type, object_id FROM events"
                      " WHERE object_kind = 'incident' ORDER BY seq")


def history_rows(t, hook):
    return t.api("/webhook/history/list", window(limit=100, integration_id=hook,
                                                 asc=True)).data["items"]


def wait_history(t, hook, n):
    return wait_until(lambda: (lambda h: h if len(h) >= n else None)(history_rows(t, hook)),
                      timeout=30, what="%d history rows" % n)


def seen(rx, prefix):
    """[(event_id, incident_id, tocsin-sequence, event_type)] in arrival order."""
    out = []
    for r in rx.records(prefix):
        doc = json.loads(r["body"])
        out.append((doc["event_id"], doc["incident"]["incident_id"],
                    int(r["headers"]["tocsin-sequence"]), doc["event_type"]))
    return out


def replay(t, hook, **extra):
    body = window(integration_id=hook, dry_run=False)
    body.update(extra)
    return t.api("/webhook/history/replay", body).data


def info(t, replay_id):
    return t.api("/webhook/history/replay/info", {"replay_id": replay_id}).data


def wait_done(t, replay_id, timeout=60):
    return wait_until(lambda: (lambda j: j if j["status"] != "running" else None)(
        info(t, replay_id)), timeout=timeout, what="replay %s to finish" % replay_id)


def build(t, rx):
    """Incidents a and b (i_new, i_ack) delivered to /bad/ (failed); then the
    webhook moves to /ok/ and a gets i_comm, i_rslv and c is made (i_new,
    i_ack), all delivered. Returns (hook, events in order, failed ids)."""
    ch = t.make_channel("payments")
    _, key = t.make_source(ch)
    hook = make_webhook(t, rx.url("bad/phase1"))
    inc = {}
    for k in ("a", "b"):
        inc[k] = new_incident(t, key, "replay-" + k)
        t.api("/incident/ack", {"incident_ids": [inc[k]]})
    wait_history(t, hook, 4)
    t.api("/integration/update", {"integration_id": hook, "endpoint": rx.url("ok/live")})
    t.api("/incident/comment", {"incident_ids": [inc["a"]], "comment": "looking"})
    t.api("/incident/resolve", {"incident_ids": [inc["a"]]})
    inc["c"] = new_incident(t, key, "replay-c")
    t.api("/incident/ack", {"incident_ids": [inc["c"]]})
    events = events_in_order(t)
    hist = wait_history(t, hook, len(events))
    assert len(hist) == len(events) == 8, (hist, events)
    failed = [h["event_id"] for h in hist if h["status"] == "failed"]
    assert len(failed) == 4, hist
    rx.wait_for(4, prefix="/ok/live", timeout=15)
    return hook, events, failed


def check_replayed(got, expected_ids, events, before):
    """got: the replayed records. They are exactly expected_ids, each once;
    each lane in the original order, numbered on from where it was."""
    order = [e for e, _, _ in events]
    assert sorted(e for e, _, _, _ in got) == sorted(expected_ids), (got, expected_ids)
    lanes = {}
    for e, inc, seq, _ in got:
        lanes.setdefault(inc, []).append((e, seq))
    for inc, items in lanes.items():
        ids = [e for e, _ in items]
        assert ids == sorted(ids, key=order.index), (inc, items)
        last = max(s for _, i, s, _ in before if i == inc)
        assert [s for _, s in items] == list(range(last + 1, last + 1 + len(items))), (
            inc, items, last)


def test_dry_run_and_filters():
    with Receiver() as rx, start() as t:
        hook, events, failed = build(t, rx)
        order = [e for e, _, _ in events]
        deliveries = db_rows(t, "SELECT COUNT(*) FROM deliveries")[0][0]
        r = t.api("/webhook/history/replay", window(integration_id=hook, dry_run=True)).data
        assert r == {"count": 8, "event_ids": order}, (r, order)
        r = t.api("/webhook/history/replay", window(integration_id=hook, dry_run=True,
                                                    status="failed")).data
        assert r == {"count": 4, "event_ids": [e for e in order if e in failed]}, r
        r = t.api("/webhook/history/replay", window(integration_id=hook, dry_run=True,
                                                    status="success")).data
        assert r == {"count": 4, "event_ids": [e for e in order if e not in failed]}, r
        acks = [e for e, typ, _ in events if typ == "i_ack"]
        r = t.api("/webhook/history/replay", window(integration_id=hook, dry_run=True,
                                                    event_types=["i_ack"])).data
        assert r == {"count": 3, "event_ids": acks}, r
        r = t.api("/webhook/history/replay", window(integration_id=hook, dry_run=True,
                                                    event_types=["i_ack", "i_rslv"],
                                                    status="success")).data
        assert r["count"] == 2 and [events[order.index(e)][1] for e in r["event_ids"]] == [
            "i_rslv", "i_ack"], r
        # A window that holds none of them.
        now = int(time.time() * 1000)
        r = t.api("/webhook/history/replay", {"integration_id": hook, "dry_run": True,
                                              "start_time": now - 3 * DAY,
                                              "end_time": now - 2 * DAY}).data
        assert r == {"count": 0, "event_ids": []}, r
        # A dry run changes nothing: no job, no delivery, nothing sent. The
        # dispatcher sends only deliveries and the timer queues them only
        # from jobs: with neither new and every delivery settled, the
        # receiver's records are final.
        assert db_rows(t, "SELECT COUNT(*) FROM replays")[0][0] == 0
        assert db_rows(t, "SELECT COUNT(*) FROM deliveries")[0][0] == deliveries
        s = t.wait_settled()
        assert len(rx.records()) == 8
        assert s.attempts(hook) == {"delivered": 4, "retry": 0, "gone": 0, "failed": 4}


def test_replay_sends_matching_events_in_order():
    with Receiver() as rx, start() as t:
        hook, events, failed = build(t, rx)
        order = [e for e, _, _ in events]
        failed = [e for e in order if e in failed]
        before = seen(rx, "/")
        assert len(before) == 8

        # Only the failed ones, to the endpoint now configured.
        r = replay(t, hook, status="failed")
        assert r["count"] == 4 and r["event_ids"] == failed, r
        assert len(r["replay_id"]) == 24
        job = wait_done(t, r["replay_id"])
        assert (job["status"], job["total"], job["queued"]) == ("done", 4, 4), job
        assert job["integration_id"] == hook and job["filter_status"] == "failed", job
        got = wait_until(lambda: (lambda s: s if len(s) >= 8 else None)(seen(rx, "/ok/live")),
                         timeout=20, what="the 4 replayed events")
        check_replayed(got[4:], failed, events, before)
        # The replayed bodies are the stored events, byte for byte.
        bodies = dict(db_rows(t, "SELECT event_id, body FROM events"))
        for rec in rx.records("/ok/live")[4:]:
            assert bodies[rec["headers"]["webhook-id"]] == rec["body"]

        # Everything in the window: all 8 again, once each, in order.
        before = seen(rx, "/")
        r = replay(t, hook)
        assert r["count"] == 8 and r["event_ids"] == order, r
        wait_done(t, r["replay_id"])
        got = wait_until(lambda: (lambda s: s if len(s) >= 16 else None)(seen(rx, "/ok/live")),
                         timeout=20, what="the 8 replayed events")
        check_replayed(got[8:], order, events, before)
        # The job is done (it queues nothing more) and every delivery is
        # settled: anything more than asked for would be here by now.
        s = t.wait_settled()
        assert len(seen(rx, "/ok/live")) == 16
        assert s.attempts(hook) == {"delivered": 16, "retry": 0, "gone": 0, "failed": 4}
        # History has the new attempts: 3 of each once failed, 2 of the others.
        counts = {}
        for h in history_rows(t, hook):
            counts[h["event_id"]] = counts.get(h["event_id"], 0) + 1
        assert counts == {e: (3 if e in failed else 2) for e in order}, counts
        # Its latest attempt succeeded: a failed-only replay now finds none.
        r = t.api("/webhook/history/replay", window(integration_id=hook, dry_run=True,
                                                    status="failed")).data
        assert r == {"count": 0, "event_ids": []}, r


def test_bad_requests_change_nothing():
    with Receiver() as rx, start() as t:
        ch = t.make_channel("bad")
        _, key = t.make_source(ch)
        hook = make_webhook(t, rx.url("ok/x"))
        new_incident(t, key, "bad-1")
        wait_history(t, hook, 1)
        custom = t.api("/integration/create", {"type": "custom_action", "name": "act",
                                               "endpoint": rx.url("ok/act"),
                                               "channel_ids": [ch]}).data
        src, _ = t.make_source(ch)
        gone = make_webhook(t, rx.url("ok/gone"))
        t.api("/integration/delete", {"integration_id": gone})
        now = int(time.time() * 1000)
        ok = {"integration_id": hook, "start_time": now - HOUR, "end_time": now + 60000,
              "dry_run": False}
        cases = [
            (dict(ok, end_time=now - HOUR), "end_time must be greater than start_time"),
            (dict(ok, end_time=now - 2 * HOUR), "end_time must be greater than start_time"),
            (dict(ok, start_time=now - 7 * DAY - 1, end_time=now),
             "start_time and end_time must be at most 7 days apart"),
            (dict(ok, start_time=now // 1000), "start_time"),
            (dict(ok, start_time="x"), "start_time"),
            ({k: v for k, v in ok.items() if k != "end_time"}, "end_time is required"),
            ({k: v for k, v in ok.items() if k != "integration_id"},
             "integration_id is required"),
            ({k: v for k, v in ok.items() if k != "dry_run"}, "dry_run is required"),
            (dict(ok, dry_run="no"), "dry_run must be true or false"),
            (dict(ok, integration_id="1"), "integration_id must be an integer"),
            (dict(ok, integration_id=0), "integration_id"),
            (dict(ok, integration_id=999), "integration_id 999 does not exist"),
            (dict(ok, integration_id=gone), "integration_id %d does not exist" % gone),
            (dict(ok, integration_id=custom["integration_id"]), "custom action"),
            (dict(ok, integration_id=src), "alert source"),
            (dict(ok, status="ok"), "status must be one of: success, failed"),
            (dict(ok, event_types="i_new"), "event_types must be an array"),
            (dict(ok, event_types=["i_new", 3]), "event_types[1]"),
            (dict(ok, event_types=["i_new"] * 51), "event_types must have at most 50"),
        ]
        for body, mention in cases:
            variants = [body]
            if isinstance(body.get("dry_run"), bool):
                variants.append(dict(body, dry_run=True))
            for b in variants:
                expect_error(t.api("/webhook/history/replay", b, expect=None), 400,
                             "InvalidParameter", mention)
        _, member_key = t.make_member("viewer", email="viewer@example.com")
        expect_error(t.api("/webhook/history/replay", ok, key=member_key, expect=None), 403,
                     "AccessDenied")
        expect_error(t.api("/webhook/history/replay", dict(ok, dry_run=True), key=member_key,
                           expect=None), 403, "AccessDenied")
        expect_error(t.api("/webhook/history/replay/info", {"replay_id": "0" * 24},
                           expect=None), 400, "InvalidParameter", "replay_id 000")
        expect_error(t.api("/webhook/history/replay/info", {"replay_id": "x"}, expect=None),
                     400, "InvalidParameter", "replay_id")
        expect_error(t.api("/webhook/history/replay/info", {}, expect=None), 400,
                     "InvalidParameter", "replay_id is required")
        # Nothing of any of them was kept (no job, no item: nothing for the
        # timer to queue), and with every delivery settled, nothing more
        # was sent.
        assert db_rows(t, "SELECT COUNT(*) FROM replays")[0][0] == 0
        assert db_rows(t, "SELECT COUNT(*) FROM replay_items")[0][0] == 0
        s = t.wait_settled()
        assert len(rx.records("/ok/x")) == 1
        assert s.attempts(hook) == {"delivered": 1, "retry": 0, "gone": 0, "failed": 0}
        # The longest window is exactly 7 days; the same body then works.
        r = replay(t, hook, start_time=now - 7 * DAY, end_time=now)
        assert r["count"] == 1, r
        wait_done(t, r["replay_id"])
        rx.wait_for(2, prefix="/ok/x", timeout=15)


def many_events(t, rx, n_incidents=6):
    """n incidents with i_new and i_ack each, all delivered to /ok/live."""
    ch = t.make_channel("pace")
    _, key = t.make_source(ch)
    hook = make_webhook(t, rx.url("ok/live"))
    for i in range(n_incidents):
        inc = new_incident(t, key, "pace-%d" % i)
        t.api("/incident/ack", {"incident_ids": [inc]})
    rx.wait_for(2 * n_incidents, prefix="/ok/live", timeout=30)
    wait_history(t, hook, 2 * n_incidents)
    return hook, key, events_in_order(t)


def test_paced_and_live_traffic_goes_first():
    """At 2 events a second, 12 events take several ticks: the job is seen
    part-way, and an event pushed meanwhile arrives before the replay's
    last one."""
    with Receiver() as rx, start("--replay-rate", "2") as t:
        hook, key, events = many_events(t, rx)
        order = [e for e, _, _ in events]
        base = seen(rx, "/ok/live")
        r = replay(t, hook)
        assert r["count"] == 12, r
        first = info(t, r["replay_id"])
        assert first["status"] == "running" and first["total"] == 12, first
        assert first["queued"] < 12, first
        progress = set()
        wait_until(lambda: progress.add(info(t, r["replay_id"])["queued"]) or
                   0 < max(progress) < 12, timeout=30, what="a part-way replay")
        live = new_incident(t, key, "live-during-replay")
        job = wait_done(t, r["replay_id"])
        assert (job["status"], job["queued"]) == ("done", 12), job
        got = wait_until(lambda: (lambda s: s if len(s) >= 25 else None)(seen(rx, "/ok/live")),
                         timeout=30, what="12 replayed and 1 live")
        after = got[len(base):]
        live_at = [i for i, x in enumerate(after) if x[1] == live]
        assert len(live_at) == 1, after
        assert live_at[0] < len(after) - 1, "the live event waited for the whole replay"
        check_replayed([x for x in after if x[1] != live], order, events, base)


def test_kill_9_mid_replay_loses_and_doubles_nothing():
    with Receiver() as rx, start("--replay-rate", "2") as t:
        hook, key, events = many_events(t, rx)
        order = [e for e, _, _ in events]
        base = seen(rx, "/ok/live")
        r = replay(t, hook)
        rx.wait_for(len(base) + 3, prefix="/ok/live", timeout=30)
        mid = info(t, r["replay_id"])
        t.kill()
        assert mid["status"] == "running" and mid["queued"] < 12, mid
        t.start()
        job = wait_done(t, r["replay_id"])
        assert (job["status"], job["queued"], job["total"]) == ("done", 12, 12), job
        got = wait_until(lambda: (lambda s: s if len({(e, q) for e, _, q, _ in s}) >= 24
                                  else None)(seen(rx, "/ok/live")),
                         timeout=30, what="every replayed event")
        # A delivery in flight at the crash may be sent again with its
        # sequence (at-least-once); as deliveries, each event went exactly twice.
        pairs = {(e, q) for e, _, q, _ in got}
        per_event = {}
        for e, q in pairs:
            per_event.setdefault(e, set()).add(q)
        assert {e: len(qs) for e, qs in per_event.items()} == {e: 2 for e in order}, per_event
        replayed, kept = [], set()
        for x in got[len(base):]:
            if (x[0], x[2]) not in kept:
                kept.add((x[0], x[2]))
                replayed.append(x)
        check_replayed(replayed, order, events, base)
        assert db_rows(t, "SELECT COUNT(*) FROM replay_items")[0][0] == 0


def test_disabled_integration_pauses_and_deleted_cancels():
    with Receiver() as rx, start("--replay-rate", "1") as t:
        marker = make_webhook(t, rx.url("ok/marker"))
        hook, key, events = many_events(t, rx, n_incidents=3)
        wait_history(t, marker, 6)
        t.api("/integration/disable", {"integration_id": hook})
        r = replay(t, hook)
        assert r["count"] == 6, r
        # A marker: a later job at the same rate, on an enabled webhook. The
        # timer takes jobs oldest first (paused ones left out), so by the
        # time the marker has queued two, the paused job has been due for
        # at least as many: several ticks, each of which would have queued.
        m = replay(t, marker, event_types=["i_new"])
        assert m["count"] == 3, m
        wait_until(lambda: info(t, m["replay_id"])["queued"] >= 2, timeout=30,
                   what="the marker replay to queue two")
        job = info(t, r["replay_id"])
        assert (job["status"], job["queued"]) == ("running", 0), job
        assert db_rows(t, "SELECT COUNT(*) FROM replay_items WHERE replay_id = ?",
                       r["replay_id"])[0][0] == 6
        t.api("/integration/enable", {"integration_id": hook})
        wait_until(lambda: info(t, r["replay_id"])["queued"] >= 1, timeout=15,
                   what="the replay to resume")
        t.api("/integration/delete", {"integration_id": hook})
        job = wait_done(t, r["replay_id"])
        assert job["status"] == "cancelled" and "deleted" in job["reason"], job
        assert 1 <= job["queued"] < 6, job
        assert wait_done(t, m["replay_id"])["status"] == "done"
        assert db_rows(t, "SELECT COUNT(*) FROM replay_items")[0][0] == 0


if __name__ == "__main__":
    run([test_dry_run_and_filters, test_replay_sends_matching_events_in_order,
         test_bad_requests_change_nothing, test_paced_and_live_traffic_goes_first,
         test_kill_9_mid_replay_loses_and_doubles_nothing,
         test_disabled_integration_pauses_and_deleted_cancels])
