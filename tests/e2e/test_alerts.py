"""test_alerts.py: the alert paths of the Open API.

/alert/info, /alert/list, /alert/list-by-ids, /alert/event/list, /alert/feed,
/alert-event/list (reads) and /alert/merge, /alert/close (changes), against
alerts made the real way: pushed through the Event API into channels.
Changes are checked in the responses, in the domain event log (the outbox,
read from the store), and after a restart.
"""
import time

from tocsin_test import (Tocsin, expect_error, run, validate_feed_response,
                         validate_response)

DAY = 86400
GROUP_BY_SERVICE = {"method": "p", "equals": [["service"]], "time_window": 0}


def now():
    return int(time.time())


def push(t, key, alert_key, status="Critical", **extra):
    body = {"title_rule": "%s on $host" % alert_key, "event_status": status,
            "alert_key": alert_key, "labels": {"host": "web-01"}}
    body.update(extra)
    return t.push(key, body)


def rfc3339(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def prom(t, key, alert_key, severity, at, resolved=False):
    """An Alertmanager alert: its startsAt / endsAt set the event's time."""
    alert = {"status": "resolved" if resolved else "firing",
             "labels": {"alertname": alert_key, "severity": severity, "host": "web-01"},
             "annotations": {"summary": "%s on web-01" % alert_key},
             "startsAt": rfc3339(at if not resolved else at - 60),
             "endsAt": rfc3339(at) if resolved else "0001-01-01T00:00:00Z",
             "fingerprint": alert_key}
    return t.push(key, {"version": "4", "status": alert["status"], "receiver": "tocsin",
                        "groupLabels": {}, "commonLabels": {}, "externalURL": "",
                        "alerts": [alert]}, kind="prometheus")


def window(**body):
    body.setdefault("start_time", now() - 10 * DAY)
    body.setdefault("end_time", now() + 3600)
    return body


def alerts(t, **body):
    r = t.api("/alert/list", window(**body))
    validate_response("/alert/list", r)
    return r.data


def info(t, alert_id):
    r = t.api("/alert/info", {"alert_id": alert_id})
    validate_response("/alert/info", r)
    return r.data


def open_alert(t, alert_key):
    items = alerts(t, alert_keys=[alert_key], is_active=True)["items"]
    assert len(items) == 1, items
    return items[0]


def incident(t, incident_id):
    r = t.api("/incident/info", {"incident_id": incident_id})
    return r.data


def events_of(t, object_id):
    """The domain events (outbox rows) of an object, oldest first."""
    return t.db_query("SELECT event_type, person_id FROM events WHERE object_id = ?"
                      " ORDER BY seq", (object_id,))


def admin_id(t):
    r = t.api("/member/list", {})
    return [m for m in r.data["items"]][0]["member_id"]


# --- reads -------------------------------------------------------------------------


def test_info_renders_alert_item():
    with Tocsin() as t:
        ch = t.make_channel("Production")
        sid, key = t.make_source(ch, name="Prom prod")
        push(t, key, "cpu", "Warning", description="load 5",
             images=[{"src": "https://img.example/1.png", "alt": "graph"}])
        push(t, key, "cpu", "Critical", description="load 9")
        a = open_alert(t, "cpu")
        d = info(t, a["alert_id"])
        assert d == a, (d, a)
        assert d["integration_id"] == sid and d["data_source_id"] == sid
        assert d["integration_name"] == "Prom prod" and d["integration_type"] == "standard"
        assert d["data_source_name"] == "Prom prod" and d["data_source_type"] == "standard"
        assert d["channel_id"] == ch and d["channel_name"] == "Production"
        assert d["channel_status"] == "enabled"
        assert d["title"] == "cpu on web-01" and d["title_rule"] == "cpu on $host"
        assert d["description"] == "load 9" and d["labels"] == {"host": "web-01"}
        assert d["alert_severity"] == "Critical" and d["alert_status"] == "Critical"
        assert d["event_cnt"] == 2 and d["end_time"] == 0 and d["ever_muted"] is False
        assert [i["src"] for i in d["images"]] == ["https://img.example/1.png"], d["images"]
        assert d["images"][0]["alt"] == "graph"
        assert d["start_time"] <= d["last_time"] and d["created_at"] > 1600000000
        inc = d["incident"]
        assert inc["progress"] == "Triggered" and inc["title"] == "cpu on web-01"
        assert d["responder_name"] == "" and d["responder_email"] == ""
        assert "events" not in d

        # What the alert points at is read when asked: renamed channel, its
        # status, the incident's progress and first responder.
        pid, ann_key = t.make_member("Ann Oncall", email="ann@example.com")
        t.api("/incident/assign", {"incident_id": inc["incident_id"],
                                   "assigned_to": {"person_ids": [pid], "type": "assign"}})
        t.api("/incident/ack", {"incident_ids": [inc["incident_id"]]}, key=ann_key)
        t.api("/channel/update", {"channel_id": ch, "channel_name": "Prod (renamed)"})
        t.api("/channel/disable", {"channel_id": ch})
        d = info(t, a["alert_id"])
        assert d["responder_name"] == "Ann Oncall" and d["responder_email"] == "ann@example.com"
        assert d["channel_name"] == "Prod (renamed)" and d["channel_status"] == "disabled"
        assert d["incident"]["progress"] == "Processing"
        # A restart keeps it all.
        t.restart()
        assert info(t, a["alert_id"]) == d


def test_info_bad_input():
    with Tocsin() as t:
        expect_error(t.api("/alert/info", {}, expect=None), 400, "InvalidParameter",
                     "alert_id is required")
        expect_error(t.api("/alert/info", {"alert_id": "xyz"}, expect=None), 400,
                     "InvalidParameter", "alert_id must be a 24-character hex id")
        expect_error(t.api("/alert/info", {"alert_id": 5}, expect=None), 400,
                     "InvalidParameter", "alert_id")
        expect_error(t.api("/alert/info", {"alert_id": "663a1b2c3d4e5f6789abcdef"}, expect=None),
                     400, "InvalidParameter", "alert_id 663a1b2c3d4e5f6789abcdef does not exist")
        expect_error(t.request("POST", "/alert/info", {"alert_id": "663a1b2c3d4e5f6789abcdef"}),
                     401, "Unauthorized")


def seed_alerts(t):
    """Two channels, three sources; alerts whose start times are spread by
    Alertmanager's startsAt:
      k1  A prom  Critical  n-5000  open
      k2  A prom  Warning   n-4000  open
      k3  A std   Info      now     recovered (Ok)
      k4  B prom  Critical  n-2000  open
      k5  B prom  Warning   n-1000  resolved at n-500
      old B prom  Info      n-40d   open (outside any window reaching now)"""
    a = t.make_channel("A")
    b = t.make_channel("B")
    pa, ka = t.make_source(a, kind="alert_prometheus", name="prom A")
    sa, ksa = t.make_source(a, name="std A")
    pb, kb = t.make_source(b, kind="alert_prometheus", name="prom B")
    n = now()
    prom(t, ka, "k1", "critical", n - 5000)
    prom(t, ka, "k2", "warning", n - 4000)
    push(t, ksa, "k3", "Info")
    push(t, ksa, "k3", "Ok")
    prom(t, kb, "k4", "critical", n - 2000)
    prom(t, kb, "k5", "warning", n - 1000)
    prom(t, kb, "k5", "warning", n - 500, resolved=True)
    prom(t, kb, "old", "info", n - 40 * DAY)
    return {"A": a, "B": b, "pa": pa, "sa": sa, "pb": pb, "n": n}


def keys(data):
    return [i["alert_key"] for i in data["items"]]


def test_list_filters():
    with Tocsin() as t:
        s = seed_alerts(t)
        d = alerts(t)
        # Newest start first by default.
        assert keys(d) == ["k3", "k5", "k4", "k2", "k1"], keys(d)
        assert d["total"] == 5 and d["has_next_page"] is False and d["search_after_ctx"] == ""
        assert keys(alerts(t, asc=True)) == ["k1", "k2", "k4", "k5", "k3"]
        assert keys(alerts(t, is_active=True)) == ["k4", "k2", "k1"]
        assert keys(alerts(t, is_active=False)) == ["k3", "k5"]
        assert keys(alerts(t, alert_severity="Critical, Warning")) == ["k5", "k4", "k2", "k1"]
        assert keys(alerts(t, alert_severity="Info")) == ["k3"]
        assert keys(alerts(t, channel_ids=[s["A"]])) == ["k3", "k2", "k1"]
        assert keys(alerts(t, channel_ids=[s["A"], s["B"]]))[:2] == ["k3", "k5"]
        assert keys(alerts(t, integration_ids=[s["sa"], s["pb"]])) == ["k3", "k5", "k4"]
        assert keys(alerts(t, alert_keys=["k2", "k4", "nope"])) == ["k4", "k2"]
        k1 = alerts(t, alert_keys=["k1"])["items"][0]
        assert k1["integration_type"] == "prometheus" and k1["integration_name"] == "prom A"
        assert keys(alerts(t, alert_ids=[k1["alert_id"]])) == ["k1"]
        assert keys(alerts(t, alert_ids=[k1["alert_id"].upper()])) == ["k1"], "either case"
        # tocsin never silences alerts: none was ever muted.
        assert alerts(t, ever_muted=True)["total"] == 0
        assert alerts(t, ever_muted=False)["total"] == 5
        # Filters combine.
        d = alerts(t, channel_ids=[s["A"]], is_active=True, alert_severity="Warning")
        assert keys(d) == ["k2"] and d["total"] == 1
        # The window: on start_time, or on updated_at with by_updated_at.
        n = s["n"]
        assert keys(alerts(t, start_time=n - 4500, end_time=n - 1500)) == ["k4", "k2"]
        assert keys(alerts(t, start_time=n - 5000, end_time=n - 4000)) == ["k2", "k1"]
        assert keys(alerts(t, start_time=n - 41 * DAY, end_time=n - 39 * DAY)) == ["old"]
        assert alerts(t, start_time=n - 41 * DAY, end_time=n - 39 * DAY,
                      by_updated_at=True)["total"] == 0
        assert alerts(t, start_time=n - 60, end_time=n + 3600, by_updated_at=True)["total"] == 6
        # orderby created_at / updated_at sort by those.
        d = alerts(t, orderby="updated_at", asc=True)
        assert [i["updated_at"] for i in d["items"]] == sorted(i["updated_at"] for i in d["items"])
        assert d["total"] == 5
        d = alerts(t, orderby="created_at")
        assert [i["created_at"] for i in d["items"]] == sorted(
            (i["created_at"] for i in d["items"]), reverse=True)
        # The spec's example body.
        r = t.api("/alert/list", {"start_time": n - DAY, "end_time": n + 60, "limit": 20,
                                  "is_active": True})
        validate_response("/alert/list", r)
        assert keys(r.data) == ["k4", "k2", "k1"] and r.data["total"] == 3


def test_list_paging():
    with Tocsin() as t:
        seed_alerts(t)
        every = keys(alerts(t))
        for asc in (False, True):
            want = every if not asc else list(reversed(every))
            # Cursor paging.
            got, cursor, pages = [], "", 0
            while True:
                body = {"limit": 2, "asc": asc}
                if cursor:
                    body["search_after_ctx"] = cursor
                d = alerts(t, **body)
                assert d["total"] == 5
                got += keys(d)
                pages += 1
                assert d["has_next_page"] == bool(d["search_after_ctx"])
                cursor = d["search_after_ctx"]
                if not cursor:
                    break
                assert pages < 10
            assert got == want and pages == 3, (got, pages)
            # Page numbers.
            got = []
            for p in (1, 2, 3):
                d = alerts(t, limit=2, p=p, asc=asc)
                assert d["has_next_page"] == (p < 3)
                got += keys(d)
            assert got == want
        assert alerts(t, limit=2, p=4)["items"] == []
        d = alerts(t, limit=5)
        assert len(d["items"]) == 5 and d["has_next_page"] is False
        # Default page size is 20; the largest is 100.
        assert len(alerts(t, limit=100)["items"]) == 5


def test_list_bad_input():
    with Tocsin() as t:
        seed_alerts(t)
        n = now()
        ok = {"start_time": n - DAY, "end_time": n + 60}
        cases = [
            ({"end_time": n}, "start_time is required"),
            ({"start_time": n}, "end_time is required"),
            (dict(ok, start_time="x"), "start_time"),
            (dict(ok, start_time=-1), "start_time"),
            (dict(ok, end_time=ok["start_time"]), "end_time must be greater than start_time"),
            (dict(ok, start_time=n - 31 * DAY - 61), "at most 31 days"),
            (dict(ok, limit=101), "limit"),
            (dict(ok, limit=-1), "limit"),
            (dict(ok, p=-1), "p must be"),
            (dict(ok, is_active="yes"), "is_active must be true or false"),
            (dict(ok, ever_muted=1), "ever_muted"),
            (dict(ok, alert_severity="critical"), "alert_severity"),
            (dict(ok, alert_severity="Critical,Bad"), "alert_severity"),
            (dict(ok, alert_severity=["Critical"]), "alert_severity must be a string"),
            (dict(ok, channel_ids=5), "channel_ids must be an array"),
            (dict(ok, channel_ids=["a"]), "channel_ids[0]"),
            (dict(ok, channel_ids=list(range(101))), "channel_ids must have at most 100"),
            (dict(ok, integration_ids=[1, "2"]), "integration_ids[1]"),
            (dict(ok, alert_ids=["zz"]), "alert_ids[0]"),
            (dict(ok, alert_keys=[1]), "alert_keys[0]"),
            (dict(ok, orderby="title"), "orderby must be one of: created_at, updated_at"),
            (dict(ok, asc="no"), "asc"),
            (dict(ok, by_updated_at="no"), "by_updated_at"),
            (dict(ok, search_after_ctx="garbage"), "search_after_ctx"),
            (dict(ok, search_after_ctx=3), "search_after_ctx"),
        ]
        for body, mention in cases:
            expect_error(t.api("/alert/list", body, expect=None), 400, "InvalidParameter",
                         mention)
        # The widest window allowed is 31 days.
        alerts(t, start_time=n - 31 * DAY + 60, end_time=n + 60)
        assert alerts(t)["total"] == 5


def test_list_by_ids():
    with Tocsin() as t:
        seed_alerts(t)
        ids = {i["alert_key"]: i["alert_id"] for i in alerts(t)["items"]}
        r = t.api("/alert/list-by-ids", {"alert_ids": [ids["k2"], ids["k5"], ids["k2"],
                                                       ids["k1"].upper()]})
        validate_response("/alert/list-by-ids", r)
        assert keys(r.data) == ["k2", "k5", "k1"] and r.data["total"] == 3
        assert r.data["has_next_page"] is False
        assert r.data["items"][0] == info(t, ids["k2"])
        missing = "663a1b2c3d4e5f6789abcdef"
        for body, mention in [
            ({}, "alert_ids is required"),
            ({"alert_ids": []}, "alert_ids must have at least 1 item"),
            ({"alert_ids": "x"}, "alert_ids must be an array"),
            ({"alert_ids": [ids["k1"], "nothex"]}, "alert_ids[1]"),
            ({"alert_ids": [ids["k1"]] * 101}, "alert_ids must have at most 100"),
            ({"alert_ids": [ids["k1"], missing]}, "alert_ids[1] %s does not exist" % missing),
        ]:
            expect_error(t.api("/alert/list-by-ids", body, expect=None), 400,
                         "InvalidParameter", mention)
        # The spec's example shape.
        r = t.api("/alert/list-by-ids", {"alert_ids": [ids["k4"]]})
        validate_response("/alert/list-by-ids", r)


def test_alert_events():
    with Tocsin() as t:
        s = seed_alerts(t)
        n = s["n"]
        k5 = alerts(t, alert_keys=["k5"])["items"][0]
        r = t.api("/alert/event/list", {"alert_id": k5["alert_id"]})
        validate_response("/alert/event/list", r)
        evs = r.data["items"]
        # Oldest first, each with the time Alertmanager gave it.
        assert [(e["event_status"], e["event_time"]) for e in evs] == [
            ("Warning", n - 1000), ("Ok", n - 500)], evs
        for e in evs:
            assert e["alert_id"] == k5["alert_id"] and e["integration_id"] == s["pb"]
            assert e["channel_id"] == s["B"] and e["alert_key"] == "k5"
            assert e["integration_type"] == "prometheus" and e["labels"]["host"] == "web-01"
        assert len({e["event_id"] for e in evs}) == 2
        k3 = alerts(t, alert_keys=["k3"])["items"][0]
        r = t.api("/alert/event/list", {"alert_id": k3["alert_id"]})
        validate_response("/alert/event/list", r)
        assert [e["event_status"] for e in r.data["items"]] == ["Info", "Ok"]
        assert r.data["items"][0]["integration_type"] == "standard"
        expect_error(t.api("/alert/event/list", {"alert_id": "663a1b2c3d4e5f6789abcdef"},
                           expect=None), 400, "InvalidParameter",
                     "alert_id 663a1b2c3d4e5f6789abcdef does not exist")
        expect_error(t.api("/alert/event/list", {}, expect=None), 400, "InvalidParameter",
                     "alert_id is required")

        def global_list(**body):
            r = t.api("/alert-event/list", body)
            validate_response("/alert-event/list", r)
            return r.data

        # No window given: the last day. 8 events were stored, one 40 days back.
        d = global_list()
        assert d["total"] == 7 and len(d["items"]) == 7, d["total"]
        times = [e["event_time"] for e in d["items"]]
        assert times == sorted(times, reverse=True)
        assert global_list(asc=True, orderby="event_time")["items"] == list(reversed(d["items"]))
        assert global_list(start_time=n - 41 * DAY, end_time=n - 39 * DAY)["total"] == 1
        assert global_list(severities="Ok")["total"] == 2
        assert global_list(severities="Critical,Warning")["total"] == 4
        assert global_list(channel_ids=[s["B"]])["total"] == 3
        assert global_list(integration_ids=[s["sa"]])["total"] == 2
        assert global_list(integration_types=["standard"])["total"] == 2
        assert global_list(integration_types=["alert_standard"])["total"] == 2
        assert global_list(integration_types=["prometheus", "standard"])["total"] == 7
        assert global_list(integration_types=["datadog"])["total"] == 0
        assert global_list(channel_ids=[s["A"]], severities="Critical")["total"] == 1
        assert global_list(start_time=n - 4500, end_time=n - 1500)["total"] == 2
        # Paging by cursor and by page number give the same rows.
        got, cursor = [], ""
        while True:
            body = {"limit": 4}
            if cursor:
                body["search_after_ctx"] = cursor
            page = global_list(**body)
            got += page["items"]
            assert page["has_next_page"] == bool(page["search_after_ctx"])
            cursor = page["search_after_ctx"]
            if not cursor:
                break
        assert got == d["items"]
        assert global_list(limit=4, p=2)["items"] == d["items"][4:]
        # The spec's example body.
        r = t.api("/alert-event/list", {"start_time": n - DAY, "end_time": n + 60, "limit": 20,
                                        "severities": "Critical"})
        validate_response("/alert-event/list", r)
        assert r.data["total"] == 2
        for body, mention in [
            ({"start_time": n, "end_time": n - 1}, "end_time must be greater than start_time"),
            ({"start_time": n - 32 * DAY, "end_time": n}, "at most 31 days"),
            ({"start_time": "x"}, "start_time"),
            ({"severities": "Fatal"}, "severities"),
            ({"channel_ids": ["1"]}, "channel_ids[0]"),
            ({"integration_ids": [True]}, "integration_ids[0]"),
            ({"integration_types": [1]}, "integration_types[0]"),
            ({"orderby": "start_time"}, "orderby must be one of: event_time"),
            ({"limit": 500}, "limit"),
            ({"search_after_ctx": "x_y"}, "search_after_ctx"),
        ]:
            expect_error(t.api("/alert-event/list", body, expect=None), 400,
                         "InvalidParameter", mention)


def test_feed():
    with Tocsin() as t:
        ch = t.make_channel("F")
        _, key = t.make_source(ch)
        push(t, key, "f1", "Warning")
        a = open_alert(t, "f1")["alert_id"]
        t.api("/alert/close", {"alert_ids": [a]})
        me = admin_id(t)

        def feed(**body):
            body["alert_id"] = a
            r = t.api("/alert/feed", body)
            validate_feed_response("/alert/feed", r)
            return r.data

        d = feed()
        assert [i["type"] for i in d["items"]] == ["a_close", "a_new"]
        close, new = d["items"]
        assert close["detail"] == {} and close["creator_id"] == me and close["ref_id"] == a
        assert new["detail"] == {"severity": "Warning", "status": "Warning"}
        assert new["creator_id"] == 0
        # created_at is in milliseconds.
        assert close["created_at"] >= new["created_at"] > 10 ** 12
        assert close["updated_at"] == close["created_at"]
        assert d["has_next_page"] is False
        assert [i["type"] for i in feed(asc=True)["items"]] == ["a_new", "a_close"]
        assert [i["type"] for i in feed(types=["a_close"])["items"]] == ["a_close"]
        assert feed(types=["a_comm"])["items"] == []
        d = feed(limit=1)
        assert [i["type"] for i in d["items"]] == ["a_close"] and d["has_next_page"] is True
        d = feed(limit=1, p=2)
        assert [i["type"] for i in d["items"]] == ["a_new"] and d["has_next_page"] is False
        # The spec's example body.
        r = t.api("/alert/feed", {"alert_id": a, "limit": 20, "asc": False})
        validate_feed_response("/alert/feed", r)
        for body, mention in [
            ({}, "alert_id is required"),
            ({"alert_id": "663a1b2c3d4e5f6789abcdef"}, "does not exist"),
            ({"alert_id": a, "types": ["a_update"]}, "types[0] must be one of"),
            ({"alert_id": a, "types": "a_new"}, "types must be an array"),
            ({"alert_id": a, "limit": 101}, "limit"),
            ({"alert_id": a, "asc": 1}, "asc"),
        ]:
            expect_error(t.api("/alert/feed", body, expect=None), 400, "InvalidParameter",
                         mention)


# --- changes -----------------------------------------------------------------------


def test_close():
    with Tocsin() as t:
        ch = t.make_channel("Close", group=GROUP_BY_SERVICE)
        _, key = t.make_source(ch)
        push(t, key, "c1", "Critical", labels={"service": "api", "host": "a"})
        push(t, key, "c2", "Warning", labels={"service": "api", "host": "b"})
        c1, c2 = open_alert(t, "c1"), open_alert(t, "c2")
        inc_id = c1["incident"]["incident_id"]
        assert c2["incident"]["incident_id"] == inc_id
        me = admin_id(t)

        r = t.api("/alert/close", {"alert_ids": [c1["alert_id"]]})
        assert r.data == {}  # tocsin's own path: an empty data object
        d = info(t, c1["alert_id"])
        # Closed by hand is no recovery (webhooks.md: end_time is the recovery
        # time, 0 until then): status and end_time stay as they were.
        assert d["progress"] == "Closed" and d["alert_status"] == "Critical"
        assert d["alert_severity"] == "Critical"
        assert d["end_time"] == 0 and d["close_time"] >= c1["start_time"]
        assert events_of(t, c1["alert_id"])[-1] == ("a_close", me)
        # Its incident stays open on the other alert; its status follows it.
        inc = incident(t, inc_id)
        assert inc["progress"] == "Triggered" and inc["incident_status"] == "Warning", inc
        assert inc["active_alert_cnt"] == 1 and inc["alert_cnt"] == 2

        # Refused: already closed, unknown id, malformed; in a batch, nothing
        # of the batch is kept.
        missing = "663a1b2c3d4e5f6789abcdef"
        for body, mention in [
            ({"alert_ids": [c1["alert_id"]]}, "alert_ids[0] %s is already closed"
             % c1["alert_id"]),
            ({"alert_ids": [c2["alert_id"], c1["alert_id"]]}, "alert_ids[1]"),
            ({"alert_ids": [c2["alert_id"], missing]}, "alert_ids[1] %s does not exist"
             % missing),
            ({"alert_ids": []}, "alert_ids must have at least 1 item"),
            ({}, "alert_ids is required"),
            ({"alert_ids": ["x"]}, "alert_ids[0]"),
            ({"alert_ids": [c2["alert_id"]] * 101}, "alert_ids must have at most 100"),
        ]:
            expect_error(t.api("/alert/close", body, expect=None), 400, "InvalidParameter",
                         mention)
        assert info(t, c2["alert_id"])["progress"] == "Triggered"
        assert events_of(t, c2["alert_id"])[-1][0] != "a_close"

        # Closing the last open alert closes the incident by itself.
        t.api("/alert/close", {"alert_ids": [c2["alert_id"], c2["alert_id"]]})
        # Its alerts were closed, not recovered: the incident keeps its status
        # and has no end_time.
        inc = incident(t, inc_id)
        assert inc["progress"] == "Closed" and inc["incident_status"] == "Warning", inc
        assert inc["end_time"] == 0 and inc["close_time"] > 0, inc
        assert events_of(t, inc_id)[-1] == ("i_rslv", 0)
        assert [e for e in events_of(t, c2["alert_id"]) if e[0] == "a_close"] == [("a_close", me)]

        # A new event for a closed alert's key starts a new alert.
        push(t, key, "c1", "Critical", labels={"service": "api", "host": "a"})
        fresh = open_alert(t, "c1")
        assert fresh["alert_id"] != c1["alert_id"]
        assert fresh["incident"]["incident_id"] != inc_id
        t.restart()
        assert info(t, c1["alert_id"])["progress"] == "Closed"
        assert incident(t, inc_id)["progress"] == "Closed"


def test_merge():
    with Tocsin() as t:
        ch = t.make_channel("Merge", group=GROUP_BY_SERVICE)
        _, key = t.make_source(ch)
        push(t, key, "m1", "Info", labels={"service": "one"})
        push(t, key, "m2", "Warning", labels={"service": "two"})
        push(t, key, "m3", "Critical", labels={"service": "three"})
        push(t, key, "m4", "Info", labels={"service": "three"})
        m = {k: open_alert(t, k) for k in ("m1", "m2", "m3", "m4")}
        inc = {k: a["incident"]["incident_id"] for k, a in m.items()}
        assert inc["m3"] == inc["m4"] and len({inc["m1"], inc["m2"], inc["m3"]}) == 3
        me = admin_id(t)
        target = inc["m2"]

        # The spec's example shape.
        r = t.api("/alert/merge", {"alert_ids": [m["m1"]["alert_id"], m["m3"]["alert_id"]],
                                   "incident_id": target})
        validate_response("/alert/merge", r)
        assert r.data == {}
        for k in ("m1", "m3"):
            d = info(t, m[k]["alert_id"])
            assert d["incident"]["incident_id"] == target, d["incident"]
            # A move by hand names its person (webhooks.md: person is present
            # when a person acted); the engine's own joins name nobody.
            assert events_of(t, m[k]["alert_id"])[-1] == ("a_merge", me)
            # The engine's a_new, the first entry of the alert's timeline, is
            # kept in the alert's row (migration 011), not in the event log.
            first = t.api("/alert/feed", {"alert_id": m[k]["alert_id"], "asc": True}).data
            assert first["items"][0]["type"] == "a_new", first
            assert first["items"][0]["creator_id"] == 0, first
        t2 = incident(t, target)
        assert t2["alert_cnt"] == 3 and t2["incident_status"] == "Critical", t2
        assert t2["progress"] == "Triggered"
        # The incident left empty is closed by the person who merged.
        i1 = incident(t, inc["m1"])
        assert i1["progress"] == "Closed" and i1["alert_cnt"] == 0, i1
        assert events_of(t, inc["m1"])[-1] == ("i_rslv", me)
        # The one that keeps an alert stays open, recounted.
        i3 = incident(t, inc["m3"])
        assert i3["progress"] == "Triggered" and i3["alert_cnt"] == 1
        assert i3["incident_status"] == "Info", i3

        # Already in the target: nothing changes.
        before = len(events_of(t, m["m1"]["alert_id"]))
        t.api("/alert/merge", {"alert_ids": [m["m1"]["alert_id"]], "incident_id": target})
        assert len(events_of(t, m["m1"]["alert_id"])) == before

        # title, comment and owner_id act on the target.
        pid, _ = t.make_member("Owner Person", email="owner@example.com")
        t.api("/alert/merge", {"alert_ids": [m["m4"]["alert_id"]], "incident_id": target,
                               "title": "Everything is down", "comment": "same root cause",
                               "owner_id": pid})
        t2 = incident(t, target)
        assert t2["title"] == "Everything is down" and t2["alert_cnt"] == 4
        assert [r["person_id"] for r in t2["responders"]] == [pid]
        assert incident(t, inc["m3"])["progress"] == "Closed"
        types = [e[0] for e in events_of(t, target)]
        assert "i_r_title" in types and "i_assign" in types and "i_comm" in types, types
        d = info(t, m["m4"]["alert_id"])
        assert d["responder_name"] == "Owner Person" and d["incident"]["title"] == t2["title"]

        # Refused, and nothing of the request kept.
        push(t, key, "m5", "Warning", labels={"service": "five"})
        m5 = open_alert(t, "m5")
        own = m5["incident"]["incident_id"]
        missing = "663a1b2c3d4e5f6789abcdef"
        for body, mention in [
            ({"alert_ids": [m5["alert_id"]], "incident_id": missing},
             "incident_id %s does not exist" % missing),
            ({"alert_ids": [m5["alert_id"]], "incident_id": inc["m1"]},
             "incident_id %s is closed" % inc["m1"]),
            ({"alert_ids": [m5["alert_id"], missing], "incident_id": target},
             "alert_ids[1] %s does not exist" % missing),
            ({"alert_ids": [m5["alert_id"]], "incident_id": target, "owner_id": 999999},
             "owner_id 999999 does not exist"),
            ({"alert_ids": [m5["alert_id"]], "incident_id": target, "title": "x" * 513},
             "title must be at most 512"),
            ({"alert_ids": [m5["alert_id"]], "incident_id": target, "comment": "x" * 1025},
             "comment must be at most 1024"),
            ({"alert_ids": [m5["alert_id"]], "incident_id": target, "owner_id": "1"},
             "owner_id must be an integer"),
            ({"alert_ids": [], "incident_id": target}, "alert_ids must have at least 1 item"),
            ({"alert_ids": [m5["alert_id"]] * 101, "incident_id": target},
             "alert_ids must have at most 100"),
            ({"alert_ids": [m5["alert_id"]]}, "incident_id is required"),
            ({"incident_id": target}, "alert_ids is required"),
            ({"alert_ids": [m5["alert_id"]], "incident_id": "nothex"}, "incident_id"),
        ]:
            expect_error(t.api("/alert/merge", body, expect=None), 400, "InvalidParameter",
                         mention)
        assert info(t, m5["alert_id"])["incident"]["incident_id"] == own
        assert incident(t, own)["progress"] == "Triggered"
        assert incident(t, target)["alert_cnt"] == 4
        t.restart()
        assert info(t, m["m3"]["alert_id"])["incident"]["incident_id"] == target
        assert incident(t, target)["alert_cnt"] == 4


if __name__ == "__main__":
    run([test_info_renders_alert_item, test_info_bad_input, test_list_filters, test_list_paging,
         test_list_bad_input, test_list_by_ids, test_alert_events, test_feed, test_close,
         test_merge])
