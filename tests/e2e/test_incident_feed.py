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


if __name__ == "__main__":
    run([test_every_manual_change_has_its_detail, test_order_paging_and_types,
         test_feed_refusals, test_feed_survives_restart])
