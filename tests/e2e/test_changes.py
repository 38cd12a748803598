"""test_changes.py: change events (reference/rules.md, "Change events", and
tocsin's decisions there): the change_standard integration, its push
(POST /event/push/change/standard) with the Event API's envelope, keys and
limits, the merge of events by change_key, /change/list and
/incident/change/list. Changes open no alert or incident.

What was stored is read back through the API, and counted in the store."""
import time

from tocsin_test import Tocsin, expect_error, run

CHANGE_PATH = "/event/push/change/standard"


def change_source(t, name="chg", channel_id=None):
    cid = channel_id or t.make_channel(name)
    iid, key = t.make_source(cid, kind="change_standard")
    return cid, iid, key


def push_change(t, key, body, expect=200):
    r = t.request("POST", "%s?integration_key=%s" % (CHANGE_PATH, key), body)
    if expect is not None and r.status != expect:
        raise AssertionError("change push -> %d, expected %d: %s" % (r.status, expect, r.raw[:800]))
    return r


def changes(t, **body):
    return t.api("/change/list", body).data


def count(t, table):
    return t.db_value("SELECT COUNT(*) FROM %s" % table)


def test_integration_and_push_url():
    with Tocsin() as t:
        cid = t.make_channel("deploys")
        r = t.api("/integration/create", {"type": "change_standard", "name": "ci",
                                           "channel_id": cid})
        assert r.data["push_url"].endswith(CHANGE_PATH + "?integration_key=" +
                                           r.data["integration_key"]), r.data
        info = t.api("/integration/info", {"integration_id": r.data["integration_id"]}).data
        assert info["type"] == "change_standard" and info["channel_id"] == cid, info
        # Created like alert_standard, but the channel may be left out: its
        # changes then belong to no channel and show beside no incident.
        expect_error(t.api("/integration/create", {"type": "change_standard", "name": "x",
                                                   "channel_id": 99}, expect=None),
                     400, "InvalidParameter", "channel")
        loose = t.api("/integration/create", {"type": "change_standard", "name": "loose"}).data
        assert t.api("/integration/info", {"integration_id": loose["integration_id"]}).data[
            "channel_id"] == 0
        push_change(t, loose["integration_key"], {"change_key": "L-1", "title": "t",
                                                  "change_status": "Done"})
        # A bad body to it names the field (its key is good).
        expect_error(push_change(t, loose["integration_key"], {"change_key": "L-1"},
                                 expect=None), 400, "InvalidParameter", "change_status")
        c = changes(t)["items"][0]
        assert (c["channel_id"], c["channel_name"], c["integration_name"]) == (0, "", "loose"), c
        assert changes(t, channel_ids=[cid])["total"] == 0
        listed = t.api("/integration/list", {"type": "change_standard"}).data
        assert [i["integration_id"] for i in listed["items"]] == [
            r.data["integration_id"], loose["integration_id"]]
        # Its channel cannot be deleted from under it.
        expect_error(t.api("/channel/delete", {"channel_id": cid}, expect=None), 400,
                     "InvalidParameter", "integration")


def test_pushes_are_counted_in_metrics():
    """tocsin_events_ingested_total{source="change"}: one per push, by outcome,
    as for alert events."""
    with Tocsin() as t:
        _, _, key = change_source(t)
        _, alert_key = t.make_source(t.make_channel("alerts"))
        for i in range(2):
            push_change(t, key, {"change_key": "M-%d" % i, "change_status": "Done", "title": "t"})
        push_change(t, key, {"change_key": "M-9"}, expect=400)  # no change_status
        push_change(t, alert_key, {"change_key": "M-8", "change_status": "Done", "title": "t"},
                    expect=401)  # an alert source's key
        text = t.get("/metrics").raw.decode()
        got = {o: None for o in ("accepted", "refused", "unauthorized", "error")}
        for line in text.splitlines():
            for o in got:
                if line.startswith('tocsin_events_ingested_total{source="change",outcome="%s"}' % o):
                    got[o] = float(line.split()[-1])
        assert got == {"accepted": 2, "refused": 1, "unauthorized": 1, "error": 0}, got


def test_merge_by_key():
    with Tocsin() as t:
        cid, iid, key = change_source(t)
        t0 = int(time.time()) - 600
        r = push_change(t, key, {"change_key": "CHG-1", "change_status": "Planned",
                                 "title": "deploy v1", "event_time": t0,
                                 "description": "plan", "link": "https://ci/1",
                                 "labels": {"service": "api"}})
        assert r.data["change_key"] == "CHG-1" and len(r.data["change_id"]) == 24, r
        assert r.headers.get("Flashcat-Request-Id") == r.json["request_id"]
        change_id = r.data["change_id"]
        items = changes(t)["items"]
        assert len(items) == 1, items
        c = items[0]
        assert c["change_status"] == "Planned" and c["start_time"] == t0, c
        assert c["last_time"] == t0 and c["end_time"] == 0, c
        assert c["integration_id"] == iid and c["channel_id"] == cid, c
        assert c["channel_name"] == "chg" and c["integration_name"], c
        assert c["labels"] == {"service": "api"} and c["link"] == "https://ci/1", c
        assert "events" not in c, c
        # Ready, then Processing: start_time becomes the first Processing.
        push_change(t, key, {"change_key": "CHG-1", "change_status": "Ready",
                             "title": "deploy v1 ready", "event_time": t0 + 60})
        r = push_change(t, key, {"change_key": "CHG-1", "change_status": "Processing",
                                 "title": "deploy v1 running", "event_time": t0 + 120,
                                 "labels": {"service": "api", "stage": "2"}})
        assert r.data["change_id"] == change_id, r
        push_change(t, key, {"change_key": "CHG-1", "change_status": "Processing",
                             "title": "deploy v1 still running", "event_time": t0 + 180})
        c = changes(t)["items"][0]
        assert c["change_status"] == "Processing" and c["start_time"] == t0 + 120, c
        assert c["title"] == "deploy v1 still running" and c["end_time"] == 0, c
        # Newest event's fields: description, link and labels follow it too.
        assert c["description"] == "" and c["link"] == "" and c["labels"] == {}, c
        # Done ends it; a later Canceled does not move end_time, the status follows.
        push_change(t, key, {"change_key": "CHG-1", "change_status": "Done",
                             "title": "deploy v1 done", "event_time": t0 + 300})
        push_change(t, key, {"change_key": "CHG-1", "change_status": "Canceled",
                             "title": "deploy v1 rolled back", "event_time": t0 + 400})
        c = changes(t, include_events=True)["items"][0]
        assert c["change_id"] == change_id and c["change_status"] == "Canceled", c
        assert (c["start_time"], c["last_time"], c["end_time"]) == (t0 + 120, t0 + 400,
                                                                   t0 + 300), c
        assert c["title"] == "deploy v1 rolled back", c
        ev = c["events"]
        assert [e["change_status"] for e in ev] == [
            "Canceled", "Done", "Processing", "Processing", "Ready", "Planned"], ev
        first = ev[-1]
        assert first["title"] == "deploy v1" and first["event_time"] == t0, first
        assert first["description"] == "plan" and first["labels"] == {"service": "api"}, first
        assert first["link"] == "https://ci/1" and first["change_key"] == "CHG-1", first
        assert first["integration_id"] == iid and len(first["event_id"]) == 24, first
        # A change that never was Processing starts at its first event; event_time
        # defaults to now.
        before = int(time.time())
        push_change(t, key, {"change_key": "CHG-2", "change_status": "Canceled",
                             "title": "never ran"})
        c2 = [c for c in changes(t)["items"] if c["change_key"] == "CHG-2"][0]
        assert before - 1 <= c2["start_time"] <= int(time.time()) + 1, c2
        assert c2["end_time"] == c2["start_time"], c2
        # The same key from another integration is another change.
        _, _, key2 = change_source(t, channel_id=cid)
        r = push_change(t, key2, {"change_key": "CHG-1", "change_status": "Processing",
                                  "title": "other"})
        assert r.data["change_id"] != change_id, r
        assert changes(t)["total"] == 3
        # No alert, no incident, no webhook event.
        t.stop()
        assert count(t, "alerts") == 0 and count(t, "incidents") == 0
        assert count(t, "events") == 0
        assert count(t, "changes") == 3 and count(t, "change_events") == 8


def test_list_filters_paging_order_query():
    with Tocsin() as t:
        ca, ia, ka = change_source(t, "a")
        cb, ib, kb = change_source(t, "b")
        now = int(time.time())
        # a1..a4 on channel a, b1 on channel b, old one out of the default hour.
        for i in range(1, 5):
            push_change(t, ka, {"change_key": "a%d" % i, "change_status": "Processing",
                                "title": "deploy api #%d" % i, "event_time": now - 3000 + i * 100,
                                "description": "rollout of %s" % ("web" if i == 2 else "api")})
        push_change(t, ka, {"change_key": "a1", "change_status": "Done", "title": "deploy api #1",
                            "event_time": now - 100})
        push_change(t, kb, {"change_key": "b1", "change_status": "Processing",
                            "title": "db migration", "event_time": now - 500})
        push_change(t, kb, {"change_key": "old", "change_status": "Done", "title": "old",
                            "event_time": now - 7300})
        d = changes(t)
        assert d["total"] == 5 and not d["has_next_page"], d
        # Default order: start_time, newest first.
        assert [c["change_key"] for c in d["items"]] == ["b1", "a4", "a3", "a2", "a1"], d
        d = changes(t, asc=True)
        assert [c["change_key"] for c in d["items"]] == ["a1", "a2", "a3", "a4", "b1"], d
        d = changes(t, orderby="last_time")
        assert [c["change_key"] for c in d["items"]][:2] == ["a1", "b1"], d
        # Paging.
        d = changes(t, limit=2, p=1)
        assert [c["change_key"] for c in d["items"]] == ["b1", "a4"] and d["has_next_page"], d
        d = changes(t, limit=2, p=3)
        assert [c["change_key"] for c in d["items"]] == ["a1"] and not d["has_next_page"], d
        assert d["total"] == 5, d
        # Filters.
        d = changes(t, integration_ids=[ib])
        assert [c["change_key"] for c in d["items"]] == ["b1"], d
        d = changes(t, channel_ids=[ca])
        assert d["total"] == 4, d
        d = changes(t, start_time=now - 8000, end_time=now)
        assert d["total"] == 6, d
        d = changes(t, start_time=now - 8000, end_time=now - 7000)
        assert [c["change_key"] for c in d["items"]] == ["old"], d
        # query: a regex over title, description and change_key.
        d = changes(t, query="^db ")
        assert [c["change_key"] for c in d["items"]] == ["b1"], d
        d = changes(t, query="web")
        assert [c["change_key"] for c in d["items"]] == ["a2"], d
        d = changes(t, query="^a[13]$")
        assert sorted(c["change_key"] for c in d["items"]) == ["a1", "a3"], d
        assert d["total"] == 2
        # Any valid app key reads; a bad one does not.
        _, member_key = t.make_member("Reader")
        assert t.api("/change/list", {}, key=member_key).data["total"] == 5
        expect_error(t.api("/change/list", {}, key="nope", expect=None), 401, "Unauthorized")
        # Bad list arguments, each naming its field.
        for body, field in [({"query": "("}, "query"), ({"query": "a" * 257}, "query"),
                            ({"query": 5}, "query"),
                            ({"integration_ids": list(range(1, 102))}, "integration_ids"),
                            ({"orderby": "title"}, "orderby"),
                            ({"limit": 101}, "limit"), ({"p": -1}, "p"),
                            ({"asc": "yes"}, "asc"), ({"include_events": 1}, "include_events"),
                            ({"integration_ids": ["x"]}, "integration_ids"),
                            ({"channel_ids": 3}, "channel_ids"),
                            ({"start_time": "1"}, "start_time"),
                            ({"start_time": now, "end_time": now - 10}, "end_time"),
                            ({"start_time": now - 40 * 86400, "end_time": now}, "31 days")]:
            r = t.api("/change/list", body, expect=None)
            assert r.status == 400, (body, r)
            expect_error(r, 400, "InvalidParameter", field)


def test_incident_change_list():
    with Tocsin() as t:
        cid, _, ckey = change_source(t, "svc")
        other, _, okey = change_source(t, "other")
        _, akey = t.make_source(cid)
        now = int(time.time())
        pushes = [
            (ckey, "before", "Done", now - 3600, now - 3000),      # inside the 2 h before
            (ckey, "too-old", "Done", now - 4 * 3600, now - 3 * 3600),  # ended before the window
            (ckey, "ongoing", "Processing", now - 5 * 3600, None),  # never ended: active
            (okey, "elsewhere", "Processing", now - 600, None),     # another channel
            (ckey, "planned-later", "Planned", now + 3 * 86400, None),  # starts after now
        ]
        for key, ck, status, start, end in pushes:
            push_change(t, key, {"change_key": ck, "change_status": "Processing"
                                 if end else status, "title": ck, "event_time": start})
            if end:
                push_change(t, key, {"change_key": ck, "change_status": status, "title": ck,
                                     "event_time": end})
        t.push(akey, {"title_rule": "api down", "event_status": "Critical", "alert_key": "x"})
        inc = t.api("/incident/list", {"start_time": now - 60, "end_time": now + 60}).data
        incident_id = inc["items"][0]["incident_id"]
        d = t.api("/incident/change/list", {"incident_id": incident_id}).data
        assert sorted(c["change_key"] for c in d["items"]) == ["before", "ongoing"], d
        assert d["total"] == 2 and not d["has_next_page"], d
        d = t.api("/incident/change/list", {"incident_id": incident_id,
                                            "include_events": True}).data
        assert all(len(c["events"]) >= 1 for c in d["items"]), d
        # The incident closes: its end bounds the window, a change after it is out.
        t.push(akey, {"title_rule": "api down", "event_status": "Ok", "alert_key": "x"})
        info = t.api("/incident/info", {"incident_id": incident_id}).data
        assert info["progress"] == "Closed", info
        push_change(t, ckey, {"change_key": "after", "change_status": "Processing",
                              "title": "after", "event_time": now + 3600})
        d = t.api("/incident/change/list", {"incident_id": incident_id}).data
        assert sorted(c["change_key"] for c in d["items"]) == ["before", "ongoing"], d
        # An incident made by hand in no channel shows none, not the changes of
        # a source routed to no channel.
        loose = t.api("/integration/create", {"type": "change_standard", "name": "loose"}).data
        push_change(t, loose["integration_key"], {"change_key": "L", "change_status": "Processing",
                                                  "title": "loose"})
        bare = t.api("/incident/create", {"title": "by hand", "incident_severity": "Info"}).data
        d = t.api("/incident/change/list", {"incident_id": bare["incident_id"]}).data
        assert d == {"items": [], "total": 0, "has_next_page": False}, d
        # Unknown incident: the error /incident/info gives.
        ghost = {"incident_id": "0" * 24}
        want = t.api("/incident/info", ghost, expect=None)
        got = t.api("/incident/change/list", ghost, expect=None)
        assert got.status == want.status and got.error["code"] == want.error["code"], (got, want)
        assert got.error["message"] == want.error["message"], (got, want)
        expect_error(t.api("/incident/change/list", {}, expect=None), 400, "InvalidParameter",
                     "incident_id")
        expect_error(t.api("/incident/change/list", {"incident_id": "zz"}, expect=None), 400,
                     "InvalidParameter", "incident_id")


def test_restart_keeps_changes():
    with Tocsin() as t:
        _, _, key = change_source(t)
        now = int(time.time())
        r = push_change(t, key, {"change_key": "R-1", "change_status": "Processing",
                                 "title": "migrate", "event_time": now - 60})
        before = changes(t, include_events=True)["items"]
        t.restart()
        assert changes(t, include_events=True)["items"] == before
        r2 = push_change(t, key, {"change_key": "R-1", "change_status": "Done",
                                  "title": "migrated", "event_time": now})
        assert r2.data["change_id"] == r.data["change_id"], (r, r2)
        c = changes(t)["items"][0]
        assert (c["start_time"], c["end_time"], c["title"]) == (now - 60, now, "migrated"), c


def test_bad_input_changes_nothing():
    with Tocsin() as t:
        cid, _, key = change_source(t)
        _, akey = t.make_source(cid)
        ok = {"change_key": "K", "change_status": "Done", "title": "t"}
        bad = [
            ({"change_status": "Done", "title": "t"}, "change_key"),
            (dict(ok, change_key=""), "change_key"),
            (dict(ok, change_key=7), "change_key"),
            (dict(ok, change_key="k" * 256), "change_key"),
            ({"change_key": "K", "title": "t"}, "change_status"),
            (dict(ok, change_status="done"), "change_status"),
            (dict(ok, change_status="Rollback"), "change_status"),
            (dict(ok, change_status=1), "change_status"),
            ({"change_key": "K", "change_status": "Done"}, "title"),
            (dict(ok, title=""), "title"),
            (dict(ok, title=["t"]), "title"),
            (dict(ok, event_time="now"), "event_time"),
            (dict(ok, event_time=-5), "event_time"),
            (dict(ok, event_time=1.5), "event_time"),
            (dict(ok, event_time=int(time.time()) * 1000), "event_time"),
            (dict(ok, description=3), "description"),
            (dict(ok, link=True), "link"),
            (dict(ok, link="https://x/" + "a" * 2040), "link"),
            (dict(ok, labels=[]), "labels"),
            (dict(ok, labels={"a": 1}), "labels"),
            (dict(ok, labels={"k" * 129: "v"}), "labels"),
            (dict(ok, labels={"": "v"}), "labels"),
            (dict(ok, labels={"l%d" % i: "v" for i in range(51)}), "labels"),
        ]
        for body, field in bad:
            r = push_change(t, key, body, expect=None)
            expect_error(r, 400, "InvalidParameter", field)
        # Not JSON, not an object.
        r = t.request("POST", "%s?integration_key=%s" % (CHANGE_PATH, key), raw=b"[1]")
        assert r.status == 400, r
        # Keys: missing, unknown, an alert source's key on the change path and a
        # change source's key on the alert path (wrong kind: Unauthorized, as for
        # a Prometheus key on the standard path).
        r = t.request("POST", CHANGE_PATH, ok)
        expect_error(r, 401, "Unauthorized")
        expect_error(push_change(t, "f" * 32, ok, expect=None), 401, "Unauthorized",
                     "integration_key")
        expect_error(push_change(t, akey, ok, expect=None), 401, "Unauthorized",
                     "change_standard")
        expect_error(t.push(key, {"title_rule": "x", "event_status": "Critical"}, expect=None),
                     401, "Unauthorized", "alert_standard")
        # A bad key and a bad body: the key is reported.
        expect_error(push_change(t, akey, {"change_key": 1}, expect=None), 401, "Unauthorized")
        # Wrong method.
        r = t.request("GET", "%s?integration_key=%s" % (CHANGE_PATH, key))
        expect_error(r, 400, "MethodNotAllowed")
        # A disabled integration's key is refused, a disabled channel's gives AccessDenied.
        t.api("/channel/disable", {"channel_id": cid})
        expect_error(push_change(t, key, ok, expect=None), 403, "AccessDenied",
                     "takes no changes")
        t.api("/channel/enable", {"channel_id": cid})
        assert changes(t, start_time=0, end_time=10)["total"] == 0
        t.stop()
        assert count(t, "changes") == 0 and count(t, "change_events") == 0
        assert count(t, "alerts") == 0
        t.start()
        # Limits that cut instead: title 512, description 2048, label values 2048.
        push_change(t, key, dict(ok, title="t" * 600, description="d" * 3000,
                                 labels={"k" * 128: "v" * 3000}))
        c = changes(t, include_events=True)["items"][0]
        assert len(c["title"]) == 512 and len(c["description"]) == 2048, c
        assert c["labels"] == {"k" * 128: "v" * 2048}
        assert len(c["events"][0]["title"]) == 512


def test_rate_limit():
    """The change push shares the Event API's per-key limit."""
    with Tocsin(args=["--rate-limit-event", "0.01:3"]) as t:
        _, _, key = change_source(t)
        for i in range(3):
            push_change(t, key, {"change_key": "c%d" % i, "change_status": "Planned", "title": "t"})
        r = push_change(t, key, {"change_key": "refused", "change_status": "Planned",
                                 "title": "t"}, expect=429)
        expect_error(r, 429, "RequestTooFrequently", "integration_key")
        assert 1 <= int(r.headers["Retry-After"]) <= 100, r.headers
        assert changes(t)["total"] == 3


if __name__ == "__main__":
    run([test_integration_and_push_url, test_pushes_are_counted_in_metrics, test_merge_by_key, test_list_filters_paging_order_query,
         test_incident_change_list, test_restart_keeps_changes, test_bad_input_changes_nothing,
         test_rate_limit])
