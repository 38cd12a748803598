"""test_incident_feed.py: /incident/feed: one entry per change, with who and
when (ms), its `detail` shaped as the spec's FeedDetail* schema for its type;
order, paging and type filters; kept across restarts."""
import time

from test_incidents import create, make_person, ok
from tocsin_test import Tocsin, expect_error, run, validate, validate_feed_response

MISSING = "aaaaaaaaaaaaaaaaaaaaaaaa"
DETAIL_SCHEMA = {
    "i_new": "FeedDetailIncidentNew", "i_assign": "FeedDetailIncidentAssign",
    "i_a_rspd": "FeedDetailIncidentAddRspd", "i_snooze": "FeedDetailIncidentSnooze",
    "i_wake": "FeedDetailIncidentWake", "i_ack": "FeedDetailIncidentAck",
    "i_unack": "FeedDetailIncidentUnack", "i_comm": "FeedDetailIncidentComment",
    "i_rslv": "FeedDetailIncidentResolve", "i_reopen": "FeedDetailIncidentReopen",
    "i_merge": "FeedDetailIncidentMerge", "i_r_title": "FeedDetailIncidentResetTitle",
    "i_r_desc": "FeedDetailIncidentResetDescription",
    "i_r_impact": "FeedDetailIncidentResetImpact", "i_r_rc": "FeedDetailIncidentResetRootCause",
    "i_r_rsltn": "FeedDetailIncidentResetResolution",
    "i_r_severity": "FeedDetailIncidentResetSeverity",
    "i_r_field": "FeedDetailIncidentResetField",
}


def feed(t, iid, **extra):
    body = {"incident_id": iid}
    body.update(extra)
    r = t.api("/incident/feed", body)
    validate_feed_response("/incident/feed", r)
    return r.data


def test_every_manual_change_has_its_detail():
    with Tocsin() as t:
        a, akey = make_person(t, "alice")
        b, _ = make_person(t, "bob")
        c, _ = make_person(t, "carol")
        start_ms = int(time.time() * 1000)
        iid = create(t, "first title", "Warning", assigned_to={"person_ids": [b]})
        other = create(t, "merged away")
        steps = [
            ("/incident/ack", {"incident_ids": [iid]}),
            ("/incident/unack", {"incident_ids": [iid]}),
            ("/incident/snooze", {"incident_ids": [iid], "minutes": 30}),
            ("/incident/wake", {"incident_ids": [iid]}),
            ("/incident/responder/add", {"incident_id": iid, "person_ids": [a, c]}),
            ("/incident/comment", {"incident_ids": [iid], "comment": "looking", "mute_reply": True}),
            ("/incident/reset", {"incident_id": iid, "title": "second title",
                                 "description": "ddd", "impact": "iii", "root_cause": "rrr",
                                 "resolution": "sss", "incident_severity": "Critical"}),
            ("/incident/field/reset", {"incident_id": iid, "field_name": "service",
                                       "field_value": {"name": "payments"}}),
            ("/incident/merge", {"source_incident_ids": [other], "target_incident_id": iid,
                                 "comment": "same outage"}),
            ("/incident/resolve", {"incident_ids": [iid]}),
            ("/incident/reopen", {"incident_ids": [iid], "reason": "recurred after the fix"}),
        ]
        for path, body in steps:
            ok(t, path, body, key=akey)
        end_ms = int(time.time() * 1000)
        data = feed(t, iid, asc=True, limit=100)
        assert data["has_next_page"] is False
        items = data["items"]
        for it in items:
            assert it["ref_id"] == iid and it["account_id"] == 0
            assert start_ms - 1000 <= it["created_at"] <= end_ms + 1000, "milliseconds"
            assert it["updated_at"] == it["created_at"]
            validate(DETAIL_SCHEMA[it["type"]], it["detail"])
        got = [(it["type"], it["detail"]) for it in items]
        creators = [it["creator_id"] for it in items]
        snooze_deadline = next(d for ty, d in got if ty == "i_wake")["snoozedBefore"]
        assert snooze_deadline > start_ms // 1000
        assign = got[1][1]
        assert assign["to"] == [b] and assign["person_ids"] == [b] and assign["type"] == "assign"
        assert assign["assigned_at"] >= start_ms // 1000 - 1
        merge = next(d for ty, d in got if ty == "i_merge")
        assert merge["comment"] == "same outage" and merge["remove_source_incidents"] is False
        assert merge["source_incidents"] == [{"incident_id": other, "title": "merged away",
                                              "progress": "Closed"}]
        assert merge["target_incident"]["incident_id"] == iid
        assert merge["title"] == "second title" and merge["source_responders"] == []
        expected = [
            ("i_new", {"severity": "Warning", "title": "first title"}),
            ("i_assign", assign),
            ("i_ack", {}),
            ("i_unack", {}),
            ("i_snooze", {"minutes": 30}),
            ("i_wake", {"snoozedBefore": snooze_deadline}),
            ("i_a_rspd", {"to": [c]}),  # alice responds already: she acked
            ("i_comm", {"comment": "looking", "mute_reply": True}),
            ("i_r_title", {"from": "first title", "to": "second title"}),
            ("i_r_desc", {}),
            ("i_r_impact", {}),
            ("i_r_rc", {}),
            ("i_r_rsltn", {}),
            ("i_r_severity", {"from": "Warning", "to": "Critical"}),
            ("i_r_field", {"field_name": "service", "to": {"name": "payments"}}),
            ("i_merge", merge),
            ("i_rslv", {"from": "console"}),
            ("i_reopen", {"reason": "recurred after the fix"}),
        ]
        assert got == expected, got
        me = creators[0]
        assert creators == [me, me] + [a] * (len(expected) - 2)
        # the merged source's timeline says where it went
        src = [(it["type"], it["detail"]) for it in feed(t, other, asc=True)["items"]]
        assert [ty for ty, _ in src] == ["i_new", "i_rslv", "i_merge"]
        assert src[2][1]["target_incident"]["incident_id"] == iid


def test_order_paging_and_types():
    with Tocsin() as t:
        iid = create(t)
        for i in range(5):
            ok(t, "/incident/comment", {"incident_ids": [iid], "comment": "c%d" % i})
        ok(t, "/incident/ack", {"incident_ids": [iid]})
        newest = feed(t, iid)
        assert [it["type"] for it in newest["items"]] == ["i_ack"] + ["i_comm"] * 5 + ["i_new"]
        assert [it["detail"].get("comment") for it in newest["items"][1:6]] == [
            "c4", "c3", "c2", "c1", "c0"]
        p1 = feed(t, iid, limit=3, asc=True)
        p2 = feed(t, iid, limit=3, p=2, asc=True)
        p3 = feed(t, iid, limit=3, p=3, asc=True)
        assert p1["has_next_page"] and p2["has_next_page"] and not p3["has_next_page"]
        walked = [it["type"] for d in (p1, p2, p3) for it in d["items"]]
        assert walked == ["i_new"] + ["i_comm"] * 5 + ["i_ack"]
        assert feed(t, iid, p=4, limit=3)["items"] == []
        only = feed(t, iid, types=["i_ack", "i_new"], asc=True)
        assert [it["type"] for it in only["items"]] == ["i_new", "i_ack"]
        assert feed(t, iid, types=["i_storm"])["items"] == []
        created = [it["created_at"] for it in feed(t, iid, asc=True, limit=100)["items"]]
        assert created == sorted(created)


def test_feed_refusals():
    with Tocsin() as t:
        iid = create(t)
        cases = [
            ({}, "incident_id"),
            ({"incident_id": "zz"}, "incident_id"),
            ({"incident_id": MISSING}, "incident_id %s does not exist" % MISSING),
            ({"incident_id": iid, "limit": 101}, "limit"),
            ({"incident_id": iid, "p": -1}, "p"),
            ({"incident_id": iid, "types": ["i_nope"]}, "types[0]"),
            ({"incident_id": iid, "types": "i_new"}, "types"),
            ({"incident_id": iid, "asc": 1}, "asc"),
        ]
        for body, mention in cases:
            expect_error(t.api("/incident/feed", body, expect=None), 400, "InvalidParameter",
                         mention)


def test_feed_survives_restart():
    with Tocsin() as t:
        iid = create(t)
        ok(t, "/incident/comment", {"incident_ids": [iid], "comment": "kept"})
        ok(t, "/incident/resolve", {"incident_ids": [iid]})
        before = feed(t, iid, limit=100)
        t.restart()
        assert feed(t, iid, limit=100) == before
        assert [it["type"] for it in before["items"]] == ["i_rslv", "i_comm", "i_new"]


def test_first_entries_live_in_their_rows():
    """i_new and a_new, the first entries of the engine's timelines, are
    kept in the incident's and the alert's rows (migration 011): no row of
    the event log when nobody subscribes to them, one (with the webhook
    body, off the timeline) when somebody does; the feeds show them first,
    once, across pages, type filters and a restart."""
    with Tocsin() as t:
        ch = t.make_channel("First")
        _, key = t.make_source(ch)
        t.push(key, {"title_rule": "disk full", "event_status": "Warning", "alert_key": "d1"})
        alert = t.api("/alert/list", {"start_time": int(time.time()) - 60,
                                      "end_time": int(time.time()) + 60}).data["items"][0]
        aid, iid = alert["alert_id"], alert["incident"]["incident_id"]
        ok(t, "/incident/comment", {"incident_ids": [iid], "comment": "looking"})
        asc = feed(t, iid, asc=True)["items"]
        assert [(i["type"], i["creator_id"]) for i in asc] == [("i_new", 0), ("i_comm", 1)], asc
        assert asc[0]["detail"] == {"severity": "Warning", "title": "disk full"}, asc[0]
        assert 10 ** 12 < asc[0]["created_at"] <= asc[1]["created_at"], asc
        assert [i["type"] for i in feed(t, iid)["items"]] == ["i_comm", "i_new"]
        p1, p2 = feed(t, iid, asc=True, limit=1), feed(t, iid, asc=True, limit=1, p=2)
        assert [i["type"] for i in p1["items"] + p2["items"]] == ["i_new", "i_comm"]
        assert p1["has_next_page"] and not p2["has_next_page"]
        assert [i["type"] for i in feed(t, iid, types=["i_new"])["items"]] == ["i_new"]
        assert feed(t, iid, types=["i_ack"])["items"] == []
        a_feed = t.api("/alert/feed", {"alert_id": aid}).data["items"]
        assert [(i["type"], i["creator_id"], i["detail"]) for i in a_feed] == [
            ("a_new", 0, {"severity": "Warning", "status": "Warning"})], a_feed
        # Nobody subscribes: nothing of them in the event log.
        assert t.db_query("SELECT event_type FROM events WHERE object_id IN (?, ?)"
                          " AND event_type IN ('i_new', 'a_new')", (iid, aid)) == []

        # A webhook subscribed to them: their pushes are stored, off the timelines.
        t.api("/integration/create", {"type": "webhook_incident", "name": "hook",
                                      "endpoint": "http://127.0.0.1:9/hook"})
        t.push(key, {"title_rule": "cpu hot", "event_status": "Critical", "alert_key": "c1"})
        alert = [a for a in t.api("/alert/list", {
            "start_time": int(time.time()) - 60, "end_time": int(time.time()) + 60,
            "alert_keys": ["c1"]}).data["items"]][0]
        iid2 = alert["incident"]["incident_id"]
        assert t.db_query("SELECT feed_ref FROM events WHERE object_id = ? AND event_type"
                          " = 'i_new' AND body IS NOT NULL", (iid2,)) == [("",)]
        assert [i["type"] for i in feed(t, iid2)["items"]] == ["i_new"]

        before = (feed(t, iid, limit=100), feed(t, iid2, limit=100))
        t.restart()
        assert (feed(t, iid, limit=100), feed(t, iid2, limit=100)) == before


if __name__ == "__main__":
    run([test_every_manual_change_has_its_detail, test_order_paging_and_types,
         test_feed_refusals, test_feed_survives_restart, test_first_entries_live_in_their_rows])
