"""test_delivery.py: webhooks reach a real receiver: body, signature,
order, retries, the outcome table, isolation, the address guard, TLS and
restart (reference/webhooks.md, integrations.md; issue 3).

tocsin runs with --allow-private-targets (the receiver is on 127.0.0.1),
except in the guard test. Retry schedules are set to 1 s so that retries
happen within the test; assertions are on counts and order, never timing.
"""
import base64
import hashlib
import hmac
import json
import time

from receiver import Receiver, make_self_signed_cert
from tocsin_test import Tocsin, expect_error, run, validate_response, wait_until

FAST_RETRY = {"max_attempts": 3, "schedule_s": [1, 1, 1]}


def start(args=("--allow-private-targets",)):
    return Tocsin(args=list(args))


def setup_source(t, name="payments"):
    ch = t.make_channel(name)
    _, key = t.make_source(ch)
    return ch, key


def make_webhook(t, endpoint, kind="webhook_incident", **extra):
    body = {"type": kind, "name": "hook-%d" % time.time_ns(), "endpoint": endpoint}
    body.update(extra)
    data = t.api("/integration/create", body).data
    return data["integration_id"], data.get("signing_secret")


def push(t, key, alert_key, status="Critical", title="disk full on $host", host="db1"):
    t.push(key, {"title_rule": title, "event_status": status, "alert_key": alert_key,
                 "labels": {"host": host}})


def incident_of(t, alert_key):
    now = int(time.time())
    items = t.api("/alert/list", {"start_time": now - 3600, "end_time": now + 60,
                                  "limit": 100}).data["items"]
    for a in items:
        if a["alert_key"] == alert_key:
            return a["incident"]["incident_id"]
    raise AssertionError("no alert %s" % alert_key)


def verify_signature(secret, headers, body):
    key = base64.b64decode(secret[len("whsec_"):])
    signed = "%s.%s.%s" % (headers["webhook-id"], headers["webhook-timestamp"], body)
    expected = base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha256).digest()).decode()
    sigs = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ")]
    return expected in sigs


def history(t, integration_id, **filters):
    now = int(time.time() * 1000)
    body = {"start_time": now - 3600 * 1000, "end_time": now + 60000, "limit": 100,
            "integration_id": integration_id, "asc": True}
    body.update(filters)
    return t.api("/webhook/history/list", body).data["items"]


def test_body_headers_signature_sequence():
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        hook, secret = make_webhook(t, rx.url("ok/hook?token=abc&x=1"),
                                    headers={"X-Team": "sre", "Authorization": "Bearer s3cret"})
        assert secret and secret.startswith("whsec_")
        push(t, key, "disk-1")
        inc = incident_of(t, "disk-1")
        t.api("/incident/ack", {"incident_ids": [inc]})
        got = rx.wait_for(2, timeout=15)
        types = [json.loads(r["body"])["event_type"] for r in got]
        assert types == ["i_new", "i_ack"], types
        for n, r in enumerate(got, 1):
            h, body = r["headers"], r["body"]
            doc = json.loads(body)
            assert r["method"] == "POST" and r["path"] == "/ok/hook?token=abc&x=1", r["path"]
            assert h["content-type"] == "application/json"
            assert h["x-team"] == "sre" and h["authorization"] == "Bearer s3cret"
            assert h["webhook-id"] == doc["event_id"]
            assert abs(int(h["webhook-timestamp"]) - time.time()) < 300
            assert verify_signature(secret, h, body), "signature does not verify"
            assert h["tocsin-sequence"] == str(n)
            assert doc["incident"]["incident_id"] == inc
            assert isinstance(doc["event_time"], int) and doc["event_time"] > 10 ** 12
        assert "person" not in json.loads(got[0]["body"])
        assert json.loads(got[1]["body"])["person"]["person_id"] == 1
        # The body is exactly the stored event (what was committed is what is sent).
        t.stop()
        stored = dict(t.db_query("SELECT event_id, body FROM events"))
        for r in got:
            assert stored[r["headers"]["webhook-id"]] == r["body"]
        t.start()
        items = history(t, hook)
        assert len(items) == 2 and all(i["status"] == "success" for i in items), items
        detail = t.api("/webhook/history/detail",
                       {"event_id": items[0]["event_id"], "integration_id": hook}).data
        assert "Bearer s3cret" not in detail["request_headers"], "secrets never in history"
        assert "***" in detail["request_headers"]


def group_digest(algo, **labels):
    """The grouping key of core/grouping.c for one list of label keys:
    "grp1\\0" then each key and value, sorted by key, NUL-terminated."""
    h = hashlib.new(algo)
    h.update(b"grp1\0")
    for k in sorted(labels):
        h.update(k.encode() + b"\0" + labels[k].encode() + b"\0")
    return h.hexdigest()


def bodies(rx, n, prefix):
    return [json.loads(r["body"]) for r in rx.wait_for(n, timeout=15, prefix=prefix)]


def test_sample_fields_and_current_incident_title():
    """Fields of Flashduty's sample bodies that webhooks.md's tables leave
    out, with true values and types; alert.incident.title follows a retitle;
    a hand close is no recovery (issue 12)."""
    with Receiver() as rx, start() as t:
        ch = t.make_channel("sample", group={"method": "p", "equals": [["service"]],
                                             "time_window": 60})
        src, key = t.make_source(ch)
        make_webhook(t, rx.url("ok/inc"))
        make_webhook(t, rx.url("ok/alert"), kind="webhook_alert")
        t.push(key, {"title_rule": "api slow on $host", "event_status": "Warning",
                     "alert_key": "s-1", "labels": {"service": "api", "host": "h1"}})
        inc = bodies(rx, 1, "/ok/inc")[0]["incident"]
        iid = inc["incident_id"]
        assert inc["num"] == iid[-6:].upper() and isinstance(inc["num"], str)
        assert inc["creator_id"] == 0 and inc["data_source_id"] == src
        assert inc["dedup_key"] == group_digest("sha256", service="api"), inc
        assert inc["equals_md5"] == group_digest("md5", service="api"), inc
        assert inc["account_id"] == 0 and inc["account_name"] == "tocsin"
        # The Open API tells the same (IncidentInfo).
        d = t.api("/incident/info", {"incident_id": iid}).data
        for k in ("num", "creator_id", "data_source_id", "dedup_key", "equals_md5",
                  "account_id", "account_name"):
            assert d[k] == inc[k], (k, d[k], inc[k])
        a_new, a_merge = bodies(rx, 2, "/ok/alert")
        assert [a_new["event_type"], a_merge["event_type"]] == ["a_new", "a_merge"]
        for b in (a_new, a_merge):
            al = b["alert"]
            assert al["dedup_key"] == "s-1" == al["alert_key"]
            assert al["data_source_ref_id"] == "" and al["data_source_id"] == src
            assert al["incident"] == {"incident_id": iid, "title": "api slow on h1"}
        aid = a_new["alert"]["alert_id"]

        # Retitled, the incident's alerts carry the new title.
        t.api("/incident/reset", {"incident_id": iid, "title": "API latency"})
        t.push(key, {"title_rule": "api slow on $host", "event_status": "Critical",
                     "alert_key": "s-1", "labels": {"service": "api", "host": "h1"}})
        upd = bodies(rx, 3, "/ok/alert")[2]
        assert upd["event_type"] == "a_update"
        assert upd["alert"]["incident"]["title"] == "API latency", upd
        assert t.api("/alert/info", {"alert_id": aid}).data["incident"]["title"] == "API latency"
        # A change of the labels only: a_update with them, no new event counted.
        t.push(key, {"title_rule": "api slow on $host", "event_status": "Critical",
                     "alert_key": "s-1", "labels": {"service": "api", "host": "h2"}})
        relabel = bodies(rx, 4, "/ok/alert")[3]
        assert relabel["event_type"] == "a_update", relabel
        assert relabel["alert"]["labels"] == {"service": "api", "host": "h2"}
        assert relabel["alert"]["title"] == "api slow on h2"
        assert relabel["alert"]["event_cnt"] == upd["alert"]["event_cnt"] == 2, relabel

        # A hand close: a_close keeps the status, end_time stays 0.
        t.api("/alert/close", {"alert_ids": [aid]})
        closed = bodies(rx, 5, "/ok/alert")[4]
        assert closed["event_type"] == "a_close" and closed["person"]["person_id"] == 1
        al = closed["alert"]
        assert al["progress"] == "Closed" and al["alert_status"] == "Critical", al
        assert al["end_time"] == 0 and al["close_time"] > 0, al
        assert al["incident"]["title"] == "API latency"
        rslv = bodies(rx, 3, "/ok/inc")[-1]
        assert rslv["event_type"] == "i_rslv" and "person" not in rslv, rslv
        assert rslv["incident"]["end_time"] == 0, rslv
        assert rslv["incident"]["incident_status"] == "Critical", rslv

        # An incident resolved by hand, retitled: the Ok event that comes
        # later closes its alert (nobody's a_close), which names the incident
        # by its current title and does not recover.
        t.push(key, {"title_rule": "db slow", "event_status": "Warning", "alert_key": "s-2",
                     "labels": {"service": "db"}})
        db = bodies(rx, 7, "/ok/alert")[-1]["alert"]
        assert db["incident"]["incident_id"] != iid
        t.api("/incident/reset", {"incident_id": db["incident"]["incident_id"], "title": "DB down"})
        t.api("/incident/resolve", {"incident_ids": [db["incident"]["incident_id"]]})
        t.push(key, {"title_rule": "db slow", "event_status": "Ok", "alert_key": "s-2"})
        retired = bodies(rx, 8, "/ok/alert")[-1]
        assert retired["event_type"] == "a_close" and "person" not in retired, retired
        assert retired["alert"]["incident"]["title"] == "DB down", retired
        assert retired["alert"]["end_time"] == 0, retired
        assert retired["alert"]["alert_status"] == "Warning", retired

        # A hand-made incident: its creator, no source, nothing grouped on.
        r = t.api("/incident/create", {"title": "by hand", "incident_severity": "Info",
                                       "channel_id": ch})
        made = [b for b in bodies(rx, 7, "/ok/inc")
                if b["incident"]["incident_id"] == r.data["incident_id"]][0]["incident"]
        assert made["creator_id"] == 1 and made["data_source_id"] == 0
        assert made["dedup_key"] == "" and made["equals_md5"] == ""
        assert made["num"] == made["incident_id"][-6:].upper()


def test_subscriptions_filter_channels_and_types():
    with Receiver() as rx, start() as t:
        ch1, key1 = setup_source(t, "one")
        ch2, key2 = setup_source(t, "two")
        one, _ = make_webhook(t, rx.url("ok/only-one-acks"), channel_ids=[ch1],
                              event_types=["i_ack"])
        alerts_hook, _ = make_webhook(t, rx.url("ok/alerts"), kind="webhook_alert",
                                      event_types=["a_new"])
        push(t, key1, "k1")
        push(t, key2, "k2")
        t.api("/incident/ack", {"incident_ids": [incident_of(t, "k1"), incident_of(t, "k2")]})
        rx.wait_for(1, prefix="/ok/only-one-acks", timeout=15)
        rx.wait_for(2, prefix="/ok/alerts", timeout=15)
        # Every delivery these calls made is settled: anything sent for them,
        # wrong or right, is in the records now, and nothing more will come.
        s = t.wait_settled()
        acks = [json.loads(r["body"]) for r in rx.records("/ok/only-one-acks")]
        assert [(a["event_type"], a["incident"]["channel_id"]) for a in acks] == [("i_ack", ch1)]
        alerts = [json.loads(r["body"]) for r in rx.records("/ok/alerts")]
        assert sorted(a["event_type"] for a in alerts) == ["a_new", "a_new"]
        assert all("alert" in a and "incident" not in a for a in alerts)
        assert s.attempts(one) == {"delivered": 1, "retry": 0, "gone": 0, "failed": 0}
        assert s.attempts(alerts_hook) == {"delivered": 2, "retry": 0, "gone": 0, "failed": 0}


def test_per_lane_order_under_load():
    """Many incidents, several events each, pushed concurrently: for every
    incident the receiver sees tocsin-sequence 1, 2, 3 ... in order."""
    import threading
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        make_webhook(t, rx.url("ok/order"))
        keys = ["ord-%d" % i for i in range(40)]

        def work(k):
            push(t, key, k)
            inc = incident_of(t, k)
            t.api("/incident/ack", {"incident_ids": [inc]})
            t.api("/incident/comment", {"incident_ids": [inc], "comment": "look"})
            t.api("/incident/resolve", {"incident_ids": [inc]})
        threads = [threading.Thread(target=work, args=(k,)) for k in keys]
        [th.start() for th in threads]
        [th.join(60) for th in threads]
        got = rx.wait_for(40 * 4, prefix="/ok/order", timeout=60)
        lanes = {}
        for r in got:
            doc = json.loads(r["body"])
            lanes.setdefault(doc["incident"]["incident_id"], []).append(
                (int(r["headers"]["tocsin-sequence"]), doc["event_type"]))
        assert len(lanes) == 40
        for inc, seen in lanes.items():
            assert seen == [(1, "i_new"), (2, "i_ack"), (3, "i_comm"), (4, "i_rslv")], (inc, seen)


def test_retry_then_delivered_in_order():
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        hook, _ = make_webhook(t, rx.url("flaky/2/retry"), retry=FAST_RETRY)
        push(t, key, "r1")
        t.api("/incident/ack", {"incident_ids": [incident_of(t, "r1")]})
        got = rx.wait_for(4, timeout=30)
        seq = [(r["headers"]["tocsin-sequence"], r["headers"]["webhook-id"]) for r in got]
        # i_new fails twice (500), then succeeds; only then i_ack goes out.
        assert [s for s, _ in seq] == ["1", "1", "1", "2"], seq
        assert len({e for _, e in seq[:3]}) == 1, "a retry repeats the same event_id"
        items = wait_until(lambda: (lambda h: h if len(h) == 4 else None)(history(t, hook)),
                           timeout=10, what="4 history rows")
        assert [(i["attempt"], i["status"], i["status_code"]) for i in items] == [
            (1, "failed", 500), (2, "failed", 500), (3, "success", 200), (1, "success", 200)]


def test_gives_up_after_max_attempts_and_lane_goes_on():
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        hook, _ = make_webhook(t, rx.url("fail/x"), retry={"max_attempts": 2, "schedule_s": [1]})
        push(t, key, "g1")
        rx.wait_for(2, timeout=20)
        items = wait_until(lambda: (lambda h: h if len(h) == 2 else None)(history(t, hook)),
                           timeout=10, what="2 attempts")
        assert [i["status"] for i in items] == ["failed", "failed"]
        assert "gave up after 2 attempts" in items[1].get("error_message", ""), items[1]


def test_outcome_table():
    """4xx and redirects fail for good at once (the lane goes on); 410
    disables the integration and keeps its pushes; enabling sends them."""
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        bad, _ = make_webhook(t, rx.url("bad/x"), retry=FAST_RETRY)
        redirect, _ = make_webhook(t, rx.url("redirect/x"), retry=FAST_RETRY)
        gone, _ = make_webhook(t, rx.url("gone/x"), retry=FAST_RETRY)
        push(t, key, "o1")
        t.api("/incident/ack", {"incident_ids": [incident_of(t, "o1")]})
        rx.wait_for(2, prefix="/bad/", timeout=15)
        rx.wait_for(2, prefix="/redirect/", timeout=15)
        assert len(rx.records("/ok/")) == 0, "a redirect is not followed"
        rx.wait_for(1, prefix="/gone/", timeout=15)
        info = wait_until(lambda: (lambda d: d if d["status"] == "disabled" else None)(
            t.api("/integration/info", {"integration_id": gone}).data), timeout=10,
            what="410 disables the integration")
        assert "410" in info["disabled_reason"], info
        # The 410 is recorded: one attempt, counted gone; i_new (answered
        # 410) and i_ack behind it in its lane both kept pending for an
        # enable. The 4xx and 3xx hooks are settled.
        s = wait_until(lambda: (lambda s: s if s.hook("tocsin_delivery_retries_pending", gone) == 1
                                and s.hook("tocsin_delivery_pending", bad) == 0
                                and s.hook("tocsin_delivery_pending", redirect) == 0
                                else None)(t.scrape()), timeout=10, what="the 410 recorded")
        assert s.attempts(gone) == {"delivered": 0, "retry": 0, "gone": 1, "failed": 0}
        assert s.hook("tocsin_delivery_pending", gone) == 2
        # The redirects' attempts are over now: a followed one would show.
        assert len(rx.records("/ok/")) == 0, "a redirect is not followed"
        # What is left to check is a quiet period, and the quiet is the
        # property: a disabled integration is simply not sent to, which has
        # no event of its own to wait for. 1.5 s covers the 1 s retry (+-10%)
        # that a 410 taken for a retry would get.
        time.sleep(1.5)
        assert len(rx.records("/gone/")) == 1, "nothing more goes to a disabled integration"
        assert t.scrape().attempts(gone) == s.attempts(gone)
        for hook in (bad, redirect):
            items = history(t, hook)
            assert [i["status"] for i in items] == ["failed", "failed"], items
            assert all(i["attempt"] == 1 for i in items), "4xx/3xx are not retried"


def test_429_retry_after_and_timeout():
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        thr, _ = make_webhook(t, rx.url("throttle/1/x"),
                              retry={"max_attempts": 2, "schedule_s": [1]})
        slow, _ = make_webhook(t, rx.url("slow/3000/x"), timeout_ms=300,
                               retry={"max_attempts": 1, "schedule_s": [1]})
        push(t, key, "t1")
        rx.wait_for(2, prefix="/throttle/", timeout=20)
        items = wait_until(lambda: (lambda h: h if len(h) == 2 else None)(history(t, thr)),
                           timeout=10, what="429 retried")
        assert [i["status_code"] for i in items] == [429, 429]
        items = wait_until(lambda: (lambda h: h if len(h) == 1 else None)(history(t, slow)),
                           timeout=10, what="the slow attempt")
        assert items[0]["status"] == "failed"
        assert "timed out" in items[0].get("error_message", "").lower(), items[0]


def test_dead_endpoint_does_not_delay_others():
    """An endpoint that never answers holds only its own lanes: every push
    to a healthy endpoint is delivered (and recorded) before the dead one's
    first attempt has even timed out. An ordering, not a stopwatch."""
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        dead, _ = make_webhook(t, rx.url("hang/x"), timeout_ms=10000)
        healthy, _ = make_webhook(t, rx.url("ok/healthy"))
        for i in range(60):
            push(t, key, "d%d" % i)
        rx.wait_for(60, prefix="/ok/healthy", timeout=60)
        first_dead = wait_until(lambda: history(t, dead), timeout=60,
                                what="the dead endpoint's first timed-out attempt")[0]
        ok = wait_until(lambda: (lambda h: h if len(h) == 60 else None)(history(t, healthy)),
                        timeout=30, what="60 healthy deliveries recorded")
        assert all(i["status"] == "success" for i in ok)
        dead_rows = [i for i in history(t, dead)]
        assert all(i["status"] == "failed" for i in dead_rows)
        last_ok = t.db_value("SELECT MAX(created_at) FROM webhook_history WHERE"
                             " integration_id = ?", (healthy,))
        first_fail = t.db_value("SELECT MIN(created_at) FROM webhook_history WHERE"
                                " integration_id = ?", (dead,))
        assert first_dead["status"] == "failed"
        assert last_ok < first_fail, "a healthy delivery waited for the dead endpoint"


def test_address_guard():
    with Receiver() as rx:
        with start(args=()) as t:
            ch, key = setup_source(t)
            hook, _ = make_webhook(t, rx.url("ok/guarded"), retry=FAST_RETRY)
            push(t, key, "sec1")
            items = wait_until(lambda: history(t, hook), timeout=10, what="a refused attempt")
            assert items[0]["status"] == "failed" and items[0]["status_code"] == 0
            assert "guard" in items[0]["error_message"] and "127.0.0.1" in items[0]["error_message"]
            # The refusal ended the delivery (no retry waits) and its attempt
            # is over: had it connected, the receiver would have recorded it.
            s = t.wait_settled()
            assert s.attempts(hook) == {"delivered": 0, "retry": 0, "gone": 0, "failed": 1}
            assert rx.records("/ok/guarded") == [], "a refused push never connects"
        with start(args=("--allow-cidr", "127.0.0.0/8")) as t:
            ch, key = setup_source(t)
            make_webhook(t, rx.url("ok/allowed"))
            push(t, key, "sec2")
            rx.wait_for(1, prefix="/ok/allowed", timeout=10)


def test_tls_verification():
    import tempfile
    d = tempfile.mkdtemp(prefix="tocsin-tls-")
    cert, keyf = make_self_signed_cert(d)
    with Receiver(tls=True, cert=cert, key=keyf) as rx, start() as t:
        ch, key = setup_source(t)
        strict, _ = make_webhook(t, rx.url("ok/strict"), retry={"max_attempts": 1,
                                                                "schedule_s": [1]})
        make_webhook(t, rx.url("ok/lax"), tls_verify=False)
        push(t, key, "tls1")
        rx.wait_for(1, prefix="/ok/lax", timeout=15)
        items = wait_until(lambda: history(t, strict), timeout=10, what="the strict attempt")
        assert items[0]["status"] == "failed", items
        assert rx.records("/ok/strict") == []


def test_restart_sends_pending_with_same_ids():
    """Pushes still pending when tocsin stops (the endpoint keeps failing)
    are loaded back at the next start and arrive afterwards, in order, with
    their event_id and sequence."""
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        make_webhook(t, rx.url("flaky/4/later"), retry={"max_attempts": 20, "schedule_s": [1]})
        push(t, key, "p1")
        t.api("/incident/ack", {"incident_ids": [incident_of(t, "p1")]})
        rx.wait_for(2, timeout=15)  # at least two failed attempts before the stop
        t.stop()
        pending = [row[0] for row in t.db_query(
            "SELECT e.event_id FROM deliveries d JOIN events e ON e.seq = d.event_seq"
            " WHERE d.status = 'pending' ORDER BY d.sequence")]
        assert len(pending) == 2, pending
        t.start()
        wait_until(lambda: [r for r in rx.records() if r["status"] == 200 and
                            r["headers"]["tocsin-sequence"] == "2"], timeout=20,
                   what="the second event delivered after the restart")
        got = rx.records()
        assert {r["headers"]["webhook-id"] for r in got
                if r["headers"]["tocsin-sequence"] == "1"} == {pending[0]}
        delivered = [(r["headers"]["tocsin-sequence"], r["headers"]["webhook-id"])
                     for r in got if r["status"] == 200]
        assert delivered == [("1", pending[0]), ("2", pending[1])], delivered
        first_ok = next(i for i, r in enumerate(got) if r["status"] == 200)
        assert all(r["headers"]["tocsin-sequence"] == "1" for r in got[:first_ok + 1]), \
            "the second event waits until the first is delivered"


def test_custom_action():
    """The button: the incident with its alerts goes to the action's
    endpoint at once; the caller gets the outcome; the timeline and the
    history say what happened; incident webhooks get i_custom too."""
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        push(t, key, "ca1")
        inc = incident_of(t, "ca1")
        action, secret = make_webhook(t, rx.url("ok/action"), kind="custom_action",
                                      channel_ids=[ch])
        make_webhook(t, rx.url("ok/hook"), event_types=["i_custom"])
        r = t.api("/incident/custom-action/do", {"incident_id": inc, "integration_id": action})
        validate_response("/incident/custom-action/do", r)
        assert r.data == {}, r.data
        [sent] = rx.records("/ok/action")
        doc = json.loads(sent["body"])
        assert doc["event_type"] == "i_custom" and doc["person"]["person_id"] == 1
        assert doc["incident"]["incident_id"] == inc
        assert [a["alert_key"] for a in doc["incident"]["alerts"]] == ["ca1"]
        assert verify_signature(secret, sent["headers"], sent["body"])
        assert sent["headers"]["tocsin-sequence"] == "1"
        [hooked] = rx.wait_for(1, prefix="/ok/hook", timeout=10)
        assert hooked["headers"]["webhook-id"] == sent["headers"]["webhook-id"], \
            "the webhook's i_custom is the same event"
        feed = t.api("/incident/feed", {"incident_id": inc, "asc": True}).data["items"]
        custom = [f for f in feed if f["type"] == "i_custom"]
        assert len(custom) == 1 and custom[0]["detail"]["integration_id"] == action
        assert custom[0]["detail"]["status"] == "success", custom[0]
        assert [i["status"] for i in history(t, action)] == ["success"]

        failing, _ = make_webhook(t, rx.url("fail/action"), kind="custom_action",
                                  channel_ids=[ch])
        r = t.api("/incident/custom-action/do", {"incident_id": inc, "integration_id": failing})
        assert "500" in r.data["message"], r.data
        feed = t.api("/incident/feed", {"incident_id": inc, "asc": True}).data["items"]
        assert feed[-1]["type"] == "i_custom" and feed[-1]["detail"]["status"] == "failed"

        unreachable, _ = make_webhook(t, "http://127.0.0.1:1/nothing", kind="custom_action",
                                      channel_ids=[ch])
        r = t.api("/incident/custom-action/do", {"incident_id": inc,
                                                 "integration_id": unreachable})
        assert r.data["message"], r.data
        assert len(history(t, unreachable)) == 2, \
            "one retry when the connection failed before anything was sent"

        # An endpoint that reads the request and never answers may have acted
        # on it: the button is pressed once, so it gets exactly one POST.
        t.api("/integration/delete", {"integration_id": failing})  # at most 3 per channel
        hanging, _ = make_webhook(t, rx.url("hang/action"), kind="custom_action",
                                  channel_ids=[ch], timeout_ms=500)
        r = t.api("/incident/custom-action/do", {"incident_id": inc, "integration_id": hanging})
        assert "timed out" in r.data["message"].lower() or "timeout" in r.data["message"].lower(), \
            r.data
        assert len(rx.records("/hang/action")) == 1, rx.records("/hang/action")
        assert [h["status"] for h in history(t, hanging)] == ["failed"], history(t, hanging)

        expect_error(t.api("/incident/custom-action/do", {"incident_id": inc,
                                                          "integration_id": 999}, expect=None),
                     400, "InvalidParameter", "integration_id")


def test_integration_test_and_resend():
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        hook, secret = make_webhook(t, rx.url("ok/t"))
        r = t.api("/integration/test", {"integration_id": hook})
        assert r.data["success"] is True and r.data["status_code"] == 200, r.data
        [sent] = rx.records("/ok/t")
        doc = json.loads(sent["body"])
        assert doc["event_type"] == "i_new" and doc["incident"]["labels"]["tocsin_test"] == "true"
        assert doc["event_id"] == r.data["event_id"]
        sample = doc["incident"]  # the sample-only fields, as real pushes carry them
        assert sample["num"] == sample["incident_id"][-6:].upper()
        assert sample["creator_id"] == sample["data_source_id"] == sample["account_id"] == 0
        assert sample["dedup_key"] == sample["equals_md5"] == ""
        assert sample["account_name"] == "tocsin"
        assert verify_signature(secret, sent["headers"], sent["body"])
        expect_error(t.api("/integration/test", {"integration_id": hook, "event_type": "a_new"},
                           expect=None), 400, "InvalidParameter", "event_type")
        _, member_key = t.make_member("viewer", email="viewer@example.com")
        expect_error(t.api("/integration/test", {"integration_id": hook}, key=member_key,
                           expect=None), 403, "AccessDenied")

        push(t, key, "rs1")
        [first] = rx.wait_for(2, prefix="/ok/t", timeout=10)[1:]
        event_id = first["headers"]["webhook-id"]
        t.api("/webhook/history/resend", {"event_id": event_id, "integration_id": hook})
        again = rx.wait_for(3, prefix="/ok/t", timeout=10)[2]
        assert again["headers"]["webhook-id"] == event_id, "a resend repeats the event_id"
        assert again["body"] == first["body"]
        assert again["headers"]["tocsin-sequence"] == "2"
        expect_error(t.api("/webhook/history/resend", {"event_id": "0" * 24,
                                                       "integration_id": hook}, expect=None),
                     400, "InvalidParameter", "event_id")


def test_deleted_integration_ends_its_pending_deliveries():
    """Deleting an integration ends its waiting deliveries as failed (they
    are not kept pending for ever), whether they wait for a retry or behind
    a disabled integration."""
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        retrying, _ = make_webhook(t, rx.url("fail/x"),
                                   retry={"max_attempts": 20, "schedule_s": [1]})
        waiting, _ = make_webhook(t, rx.url("ok/later"))
        t.api("/integration/disable", {"integration_id": waiting})
        push(t, key, "del1")
        rx.wait_for(1, prefix="/fail/", timeout=10)
        for hook in (retrying, waiting):
            t.api("/integration/delete", {"integration_id": hook})
        # The rows of a deleted integration count in tocsin_outbox_pending
        # until the dispatcher ends them.
        t.wait_settled()
        t.stop()
        rows = t.db_query("SELECT integration_id, status, last_error FROM deliveries"
                          " ORDER BY integration_id")
        assert [(r[0], r[1]) for r in rows] == [(retrying, "failed"), (waiting, "failed")], rows
        assert all("deleted" in r[2] for r in rows), rows
        assert rx.records("/ok/later") == []


def test_egress_address():
    """--egress-address pins the source address of every push."""
    with Receiver() as rx, start(args=("--allow-private-targets",
                                       "--egress-address", "127.0.0.2")) as t:
        ch, key = setup_source(t)
        make_webhook(t, rx.url("ok/egress"))
        push(t, key, "eg1")
        [got] = rx.wait_for(1, prefix="/ok/egress", timeout=10)
        assert got["peer"] == "127.0.0.2", got["peer"]


def test_in_flight_at_a_crash_is_sent_again():
    """kill -9 while an attempt is in flight: after the restart the same
    event goes out again with the same event_id and sequence."""
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        make_webhook(t, rx.url("slow/3000/crash"), timeout_ms=5000)
        push(t, key, "crash1")
        [first] = rx.wait_for(1, prefix="/slow/", timeout=10)
        t.kill()
        t.start()
        again = rx.wait_for(2, prefix="/slow/", timeout=15)[1]
        for h in ("webhook-id", "tocsin-sequence"):
            assert again["headers"][h] == first["headers"][h], (h, first["headers"], again["headers"])
        assert again["body"] == first["body"]


def test_reset_and_no_answer_are_retried():
    """A reset connection and an endpoint that never answers are transport
    failures: retried on the schedule, each attempt in history with its
    error, then given up."""
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        policy = {"max_attempts": 2, "schedule_s": [1]}
        reset, _ = make_webhook(t, rx.url("reset/x"), retry=policy)
        hang, _ = make_webhook(t, rx.url("hang/x"), retry=policy, timeout_ms=500)
        push(t, key, "rh1")
        rx.wait_for(2, prefix="/reset/", timeout=15)
        rx.wait_for(2, prefix="/hang/", timeout=15)
        for hook, words in ((reset, ("reset", "recv", "empty", "connection")),
                            (hang, ("timed out", "timeout"))):
            items = wait_until(lambda: (lambda h: h if len(h) == 2 else None)(history(t, hook)),
                               timeout=10, what="two attempts")
            assert [(i["attempt"], i["status"], i["status_code"]) for i in items] == [
                (1, "failed", 0), (2, "failed", 0)], items
            msg = items[0].get("error_message", "").lower()
            assert any(w in msg for w in words), msg
            assert "gave up after 2 attempts" in items[1]["error_message"]


def test_answer_that_is_not_utf8():
    """A receiver may answer any bytes; history hands its answer out as JSON
    strings, so bytes that are not UTF-8 become '?' when recorded."""
    with Receiver() as rx, start() as t:
        ch, key = setup_source(t)
        hook, _ = make_webhook(t, rx.url("binary/bytes"))
        push(t, key, "bin-1")
        rx.wait_for(1, timeout=15)
        items = wait_until(lambda: history(t, hook), timeout=15, what="the attempt recorded")
        r = t.api("/webhook/history/list", {
            "start_time": int(time.time() * 1000) - 3600 * 1000,
            "end_time": int(time.time() * 1000) + 60000, "limit": 10, "integration_id": hook})
        validate_response("/webhook/history/list", r)
        item = items[0]
        assert item["status"] == "success", item
        d = t.api("/webhook/history/detail", {"event_id": item["event_id"],
                                               "integration_id": hook})
        validate_response("/webhook/history/detail", d)
        assert d.data["response_body"] == "ok ?? end ?? ???!", d.data
        assert "caf?" in json.dumps(d.data["response_headers"]), d.data


if __name__ == "__main__":
    run([test_body_headers_signature_sequence, test_subscriptions_filter_channels_and_types,
         test_per_lane_order_under_load, test_retry_then_delivered_in_order,
         test_gives_up_after_max_attempts_and_lane_goes_on, test_outcome_table,
         test_429_retry_after_and_timeout, test_dead_endpoint_does_not_delay_others,
         test_address_guard, test_tls_verification, test_restart_sends_pending_with_same_ids,
         test_custom_action, test_integration_test_and_resend,
         test_deleted_integration_ends_its_pending_deliveries, test_egress_address,
         test_answer_that_is_not_utf8,
         test_in_flight_at_a_crash_is_sent_again, test_reset_and_no_answer_are_retried,
         test_sample_fields_and_current_incident_title])
