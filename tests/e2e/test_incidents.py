"""test_incidents.py: the /incident/* paths: create, read, every progress
transition and edit, batches, lists, removal, merge, custom-action checks,
the stored domain events, restarts and snooze expiry."""
import time

from tocsin_test import (Tocsin, expect_error, keeping_bodies, run, validate, validate_response,
                         wait_until)

HEX = "0123456789abcdef"
MISSING = "aaaaaaaaaaaaaaaaaaaaaaaa"
# The webhook Incident object's always-present fields (reference/webhooks.md).
INCIDENT_ALWAYS = ("incident_id", "title", "incident_severity", "incident_status", "progress",
                   "created_at", "updated_at", "start_time", "detail_url")


# Helpers -----------------------------------------------------------------------
def create(t, title="db down", severity="Critical", **extra):
    body = {"incident_severity": severity, "title": title}
    body.update(extra)
    r = t.api("/incident/create", body)
    validate_response("/incident/create", r)
    assert r.data["title"] == title
    return r.data["incident_id"]


def info(t, iid, key=None):
    r = t.api("/incident/info", {"incident_id": iid}, key=key)
    validate_response("/incident/info", r)
    return r.data


def ok(t, path, body, key=None):
    r = t.api(path, body, key=key)
    validate_response(path, r)
    assert r.data == {}, r
    return r


def make_person(t, name):
    r = t.api("/member/invite", {"members": [{"member_name": name,
                                              "email": name + "@example.com"}]})
    pid = r.data["items"][0]["member_id"]
    key = t.api("/app-key/create", {"person_id": pid}).data["app_key"]
    return pid, key


def admin_id(t):
    return info(t, create(t, "whoami"))["creator_id"]


def window(t, span=3600):
    now = int(time.time())
    return {"start_time": now - span, "end_time": now + 60}


def list_incidents(t, **filters):
    body = window(t)
    body.update(filters)
    r = t.api("/incident/list", body)
    validate_response("/incident/list", r)
    return r.data


def feed_types(t, iid):
    r = t.api("/incident/feed", {"incident_id": iid, "limit": 100, "asc": True})
    return [i["type"] for i in r.data["items"]]


def stored_events(t, object_id=None):
    """The domain events, read from the store of a stopped tocsin. Since
    migration 007 a body is stored only for an event some integration
    subscribes to: the tests that read them start tocsin with keeping_bodies
    (disabled webhooks subscribed to everything, see keep_every_body). Rows
    without an event_id are timeline entries only, not events."""
    assert t.proc.poll() is not None, "stop tocsin before reading its store"
    rows = t.db_query("SELECT event_type, object_kind, object_id, person_id, body"
                      " FROM events WHERE event_id IS NOT NULL ORDER BY seq")
    import json
    out = [dict(type=r[0], kind=r[1], object_id=r[2], person_id=r[3], body=json.loads(r[4]))
           for r in rows]
    return [e for e in out if object_id is None or e["object_id"] == object_id]


def unchanged(t, iid, before):
    after = info(t, iid)
    assert after == before, (before, after)


# Create and read ------------------------------------------------------------------
def test_create_minimal_and_info():
    with Tocsin() as t:
        before = int(time.time())
        iid = create(t, "Database connection timeout on prod-db-01", "Warning")
        assert len(iid) == 24 and all(c in HEX for c in iid)
        d = info(t, iid)
        assert d["incident_id"] == iid and d["title"] == "Database connection timeout on prod-db-01"
        assert d["incident_severity"] == "Warning" and d["incident_status"] == "Warning"
        assert d["progress"] == "Triggered"
        assert d["start_time"] >= before and d["created_at"] >= before
        assert d["num"] == iid[-6:].upper()
        assert d["channel_id"] == 0 and d["channel_name"] == "" and d["labels"] == {}
        assert d["creator_id"] > 0 and d["creator"]["person_id"] == d["creator_id"]
        assert d["closer_id"] == 0 and "closer" not in d
        assert d["responders"] == [] and d["manual_overrides"] == [] and d["images"] == []
        assert d["alert_cnt"] == 0 and d["integration_ids"] == [] and d["account_id"] == 0
        assert d["detail_url"].endswith("/incidents/" + iid)
        # Upper-case ids are the same incident.
        assert info(t, iid.upper())["incident_id"] == iid


def test_create_full_with_channel_and_assignee():
    with Tocsin() as t:
        ch = t.make_channel("ops")
        pid, _ = make_person(t, "alice")
        body = {"incident_severity": "Critical", "title": "t" * 512, "description": "d" * 1024,
                "channel_id": ch, "assigned_to": {"person_ids": [pid, pid]}}
        r = t.api("/incident/create", body)
        validate_response("/incident/create", r)
        iid = r.data["incident_id"]
        d = info(t, iid)
        assert d["title"] == "t" * 512 and d["description"] == "d" * 1024
        assert d["channel_id"] == ch and d["channel_name"] == "ops"
        assert d["channel_status"] == "enabled"
        assert [x["person_id"] for x in d["responders"]] == [pid]
        rsp = d["responders"][0]
        assert rsp["person_name"] == "alice" and rsp["email"] == "alice@example.com"
        assert rsp["assigned_at"] > 0 and rsp["acknowledged_at"] == 0
        assert d["assigned_to"]["person_ids"] == [pid]
        assert feed_types(t, iid) == ["i_new", "i_assign"]
        # The spec's own example shape works (channel and person made to exist).
        t.api("/incident/create", {"incident_severity": "Critical",
                                   "title": "Database connection timeout on prod-db-01",
                                   "channel_id": ch, "assigned_to": {"person_ids": [pid]}})


def test_create_refuses_bad_input():
    with Tocsin() as t:
        ch = t.make_channel("gone")
        t.api("/channel/delete", {"channel_id": ch})
        cases = [
            ({"title": "x"}, "incident_severity"),
            ({"title": "x", "incident_severity": "Ok"}, "incident_severity"),
            ({"title": "x", "incident_severity": "critical"}, "incident_severity"),
            ({"incident_severity": "Info"}, "title"),
            ({"incident_severity": "Info", "title": "t" * 513}, "title"),
            ({"incident_severity": "Info", "title": 5}, "title"),
            ({"incident_severity": "Info", "title": "x", "description": "d" * 1025},
             "description"),
            ({"incident_severity": "Info", "title": "x", "channel_id": 987654}, "channel_id 987654"),
            ({"incident_severity": "Info", "title": "x", "channel_id": ch}, "channel_id"),
            ({"incident_severity": "Info", "title": "x", "channel_id": "1"}, "channel_id"),
            ({"incident_severity": "Info", "title": "x", "assigned_to": {"person_ids": [424242]}},
             "assigned_to.person_ids 424242 does not exist"),
            ({"incident_severity": "Info", "title": "x", "assigned_to": {"person_ids": []}},
             "assigned_to.person_ids"),
            ({"incident_severity": "Info", "title": "x",
              "assigned_to": {"escalate_rule_id": "a"}}, "assigned_to.escalate_rule_id"),
            ({"incident_severity": "Info", "title": "x", "assigned_to": {"person_ids": ["1"]}},
             "assigned_to.person_ids[0]"),
            ({"incident_severity": "Info", "title": "x", "assigned_to": []}, "assigned_to"),
        ]
        for body, mention in cases:
            expect_error(t.api("/incident/create", body, expect=None), 400, "InvalidParameter",
                         mention)
        # An unknown escalation rule (test_escalation.py has the rest).
        expect_error(t.api("/incident/create", {"incident_severity": "Info", "title": "x",
                                                "assigned_to": {"escalate_rule_id": "a" * 24}},
                           expect=None), 400, "ResourceNotFound", "assigned_to.escalate_rule_id")
        assert list_incidents(t)["total"] == 0, "a refused create leaves nothing behind"


# Progress ------------------------------------------------------------------------------
def test_ack_and_unack_by_two_people():
    with keeping_bodies() as t:
        a, akey = make_person(t, "alice")
        b, bkey = make_person(t, "bob")
        iid = create(t)
        ok(t, "/incident/ack", {"incident_ids": [iid]}, key=akey)
        d = info(t, iid)
        assert d["progress"] == "Processing" and d["ack_time"] > 0
        first_ack = d["ack_time"]
        (ra,) = d["responders"]
        assert ra["person_id"] == a and ra["acknowledged_at"] > 0 and ra["assigned_at"] > 0
        # A second acknowledger joins; ack_time stays the earliest. Times are
        # whole seconds (the contract's resolution), so "earlier" is only
        # visible once the clock is past first_ack's second: that is what
        # this waits for, the clock itself being the property.
        wait_until(lambda: time.time() >= first_ack + 1, timeout=5, what="the next second")
        ok(t, "/incident/ack", {"incident_ids": [iid]}, key=bkey)
        d = info(t, iid)
        assert d["ack_time"] == first_ack
        assert {r["person_id"]: r["acknowledged_at"] > 0 for r in d["responders"]} == {a: True,
                                                                                       b: True}
        assert {r["person_id"]: r["acknowledged_at"] for r in d["responders"]}[b] > first_ack
        # Progress goes back only when no acknowledger remains.
        ok(t, "/incident/unack", {"incident_ids": [iid]}, key=akey)
        d = info(t, iid)
        assert d["progress"] == "Processing"
        assert {r["person_id"]: r["acknowledged_at"] for r in d["responders"]}[a] == 0
        ok(t, "/incident/unack", {"incident_ids": [iid]}, key=bkey)
        d = info(t, iid)
        assert d["progress"] == "Triggered" and d["ack_time"] == first_ack
        assert feed_types(t, iid) == ["i_new", "i_ack", "i_ack", "i_unack", "i_unack"]
        t.stop()
        evs = [(e["type"], e["person_id"]) for e in stored_events(t, iid)]
        assert evs == [("i_new", admin_person(evs)), ("i_ack", a), ("i_ack", b),
                       ("i_unack", a), ("i_unack", b)], evs
        t.start()


def admin_person(evs):
    return evs[0][1]


def test_ack_unack_refusals():
    with Tocsin() as t:
        a, akey = make_person(t, "alice")
        iid = create(t)
        # unack of an incident nobody acknowledged
        expect_error(t.api("/incident/unack", {"incident_ids": [iid]}, expect=None), 400,
                     "InvalidParameter", "not acknowledged")
        ok(t, "/incident/ack", {"incident_ids": [iid]})
        before = info(t, iid)
        # the same person twice
        expect_error(t.api("/incident/ack", {"incident_ids": [iid]}, expect=None), 400,
                     "InvalidParameter", "already acknowledged by you")
        # someone who did not acknowledge cannot withdraw another's ack
        expect_error(t.api("/incident/unack", {"incident_ids": [iid]}, key=akey, expect=None),
                     400, "InvalidParameter", "only an acknowledger")
        unchanged(t, iid, before)
        ok(t, "/incident/resolve", {"incident_ids": [iid]})
        before = info(t, iid)
        expect_error(t.api("/incident/ack", {"incident_ids": [iid]}, key=akey, expect=None), 400,
                     "InvalidParameter", "is closed")
        expect_error(t.api("/incident/unack", {"incident_ids": [iid]}, expect=None), 400,
                     "InvalidParameter", "not acknowledged")
        unchanged(t, iid, before)
        assert feed_types(t, iid) == ["i_new", "i_ack", "i_rslv"]


def test_snooze_and_wake():
    with Tocsin() as t:
        iid = create(t)
        now = int(time.time())
        ok(t, "/incident/snooze", {"incident_ids": [iid], "minutes": 60})
        d = info(t, iid)
        assert now + 3600 - 2 <= d["snoozed_before"] <= now + 3600 + 2, d["snoozed_before"]
        assert d["progress"] == "Triggered"
        assert list_incidents(t, is_snoozed=True)["total"] == 1
        # snoozing again moves the deadline; an acked incident may be snoozed too
        ok(t, "/incident/ack", {"incident_ids": [iid]})
        ok(t, "/incident/snooze", {"incident_ids": [iid], "minutes": 1440})
        d = info(t, iid)
        assert d["snoozed_before"] >= now + 1440 * 60 - 2 and d["progress"] == "Processing"
        ok(t, "/incident/wake", {"incident_ids": [iid]})
        d = info(t, iid)
        assert d["snoozed_before"] == 0 and d["progress"] == "Triggered"
        assert all(r["acknowledged_at"] == 0 for r in d["responders"])
        assert list_incidents(t, is_snoozed=True)["total"] == 0
        # after waking, the same person can acknowledge again
        ok(t, "/incident/ack", {"incident_ids": [iid]})
        assert info(t, iid)["progress"] == "Processing"
        assert feed_types(t, iid) == ["i_new", "i_snooze", "i_ack", "i_snooze", "i_wake", "i_ack"]


def test_snooze_wake_refusals():
    with Tocsin() as t:
        iid = create(t)
        for minutes, mention in ((0, "minutes"), (1441, "minutes"), (-5, "minutes"),
                                 ("10", "minutes"), (1.5, "minutes"), (None, "minutes")):
            body = {"incident_ids": [iid]}
            if minutes is not None:
                body["minutes"] = minutes
            expect_error(t.api("/incident/snooze", body, expect=None), 400, "InvalidParameter",
                         mention)
        before = info(t, iid)
        expect_error(t.api("/incident/wake", {"incident_ids": [iid]}, expect=None), 400,
                     "InvalidParameter", "not snoozed")
        unchanged(t, iid, before)
        ok(t, "/incident/snooze", {"incident_ids": [iid], "minutes": 1})
        ok(t, "/incident/resolve", {"incident_ids": [iid]})
        d = info(t, iid)
        assert d["snoozed_before"] == 0, "closing ends the snooze"
        expect_error(t.api("/incident/snooze", {"incident_ids": [iid], "minutes": 5},
                           expect=None), 400, "InvalidParameter", "is closed")
        expect_error(t.api("/incident/wake", {"incident_ids": [iid]}, expect=None), 400,
                     "InvalidParameter", "not snoozed")
        unchanged(t, iid, d)


def test_resolve_and_reopen():
    with Tocsin() as t:
        a, akey = make_person(t, "alice")
        iid = create(t)
        ok(t, "/incident/ack", {"incident_ids": [iid]})
        ok(t, "/incident/resolve", {"incident_ids": [iid], "root_cause": "leak",
                                    "resolution": "hotfix v2.3.1"}, key=akey)
        d = info(t, iid)
        # A hand resolve is no recovery: end_time (the recovery time) stays 0
        # and the status as it was.
        assert d["progress"] == "Closed" and d["close_time"] > 0 and d["end_time"] == 0
        assert d["incident_status"] == "Critical"
        assert d["closer_id"] == a and d["closer"]["person_id"] == a
        assert d["closer"]["person_name"] == "alice"
        assert d["root_cause"] == "leak" and d["resolution"] == "hotfix v2.3.1"
        assert list_incidents(t, closer_ids=[a])["total"] == 1
        ok(t, "/incident/reopen", {"incident_ids": [iid], "reason": "it came back"})
        d = info(t, iid)
        assert d["progress"] == "Triggered" and d["close_time"] == 0 and d["end_time"] == 0
        assert d["closer_id"] == 0 and "closer" not in d
        assert all(r["acknowledged_at"] == 0 for r in d["responders"])
        assert d["root_cause"] == "leak", "notes stay"
        # Reopened, it can be acknowledged and resolved again.
        ok(t, "/incident/ack", {"incident_ids": [iid]})
        ok(t, "/incident/resolve", {"incident_ids": [iid]})
        assert feed_types(t, iid) == ["i_new", "i_ack", "i_rslv", "i_reopen", "i_ack", "i_rslv"]


def test_resolve_reopen_refusals():
    with Tocsin() as t:
        iid = create(t)
        before = info(t, iid)
        expect_error(t.api("/incident/reopen", {"incident_ids": [iid], "reason": "x"},
                           expect=None), 400, "InvalidParameter", "is not closed")
        expect_error(t.api("/incident/resolve", {"incident_ids": [iid], "root_cause": "r" * 1025},
                           expect=None), 400, "InvalidParameter", "root_cause")
        expect_error(t.api("/incident/resolve", {"incident_ids": [iid], "resolution": "r" * 1025},
                           expect=None), 400, "InvalidParameter", "resolution")
        unchanged(t, iid, before)
        ok(t, "/incident/resolve", {"incident_ids": [iid]})
        before = info(t, iid)
        expect_error(t.api("/incident/resolve", {"incident_ids": [iid]}, expect=None), 400,
                     "InvalidParameter", "already closed")
        # tocsin requires a reason to reopen, although the schema has it optional
        for body in ({"incident_ids": [iid]}, {"incident_ids": [iid], "reason": ""},
                     {"incident_ids": [iid], "reason": "r" * 1025},
                     {"incident_ids": [iid], "reason": 7}):
            expect_error(t.api("/incident/reopen", body, expect=None), 400, "InvalidParameter",
                         "reason")
        unchanged(t, iid, before)


def test_batch_is_all_or_nothing():
    with keeping_bodies() as t:
        open1, open2, closed = create(t, "a"), create(t, "b"), create(t, "c")
        ok(t, "/incident/resolve", {"incident_ids": [closed]})
        states = {i: info(t, i) for i in (open1, open2, closed)}
        # One refused transition fails the whole call and changes nothing.
        r = t.api("/incident/ack", {"incident_ids": [open1, closed, open2]}, expect=None)
        expect_error(r, 400, "InvalidParameter", closed)
        # An unknown id fails the call before anything is tried.
        r = t.api("/incident/resolve", {"incident_ids": [open1, MISSING]}, expect=None)
        expect_error(r, 400, "InvalidParameter", "incident_ids %s does not exist" % MISSING)
        for i, before in states.items():
            unchanged(t, i, before)
        assert feed_types(t, open1) == ["i_new"]
        # A good batch changes every incident, repeats counted once.
        ok(t, "/incident/ack", {"incident_ids": [open1, open2, open1.upper()]})
        assert info(t, open1)["progress"] == info(t, open2)["progress"] == "Processing"
        assert feed_types(t, open1) == ["i_new", "i_ack"]
        t.stop()
        types = [e["type"] for e in stored_events(t, open1)]
        assert types == ["i_new", "i_ack"], types
        t.start()


def test_batch_limits():
    with Tocsin() as t:
        iid = create(t)
        for path in ("/incident/ack", "/incident/unack", "/incident/wake", "/incident/resolve",
                     "/incident/reopen", "/incident/remove", "/incident/comment",
                     "/incident/snooze"):
            extra = {"minutes": 5, "reason": "r", "comment": "c"}
            for ids, mention in (([], "incident_ids"), (None, "incident_ids"),
                                 ([iid] * 101, "at most 100"), (["xyz"], "incident_ids[0]"),
                                 ("abc", "incident_ids")):
                body = dict(extra)
                if ids is not None:
                    body["incident_ids"] = ids
                expect_error(t.api(path, body, expect=None), 400, "InvalidParameter", mention)
        # 100 is allowed
        ids = [create(t, "n%d" % i) for i in range(99)] + [iid]
        ok(t, "/incident/ack", {"incident_ids": ids})
        assert list_incidents(t, progress="Processing", limit=1)["total"] == 100


# People, comments, edits ------------------------------------------------------------------
def test_assign_and_responder_add():
    with keeping_bodies() as t:
        a, _ = make_person(t, "alice")
        b, _ = make_person(t, "bob")
        c, _ = make_person(t, "carol")
        i1, i2 = create(t, "one"), create(t, "two")
        ok(t, "/incident/assign", {"incident_id": i1,
                                   "assigned_to": {"person_ids": [a], "type": "assign"}})
        d = info(t, i1)
        assert [r["person_id"] for r in d["responders"]] == [a]
        # A direct assignment is `reassign` (reference/rules.md, tocsin's decisions).
        assert d["assigned_to"]["person_ids"] == [a] and d["assigned_to"]["type"] == "reassign"
        # incident_ids (batch) wins over incident_id
        ok(t, "/incident/assign", {"incident_id": i1, "incident_ids": [i2],
                                   "assigned_to": {"person_ids": [b], "type": "reassign"}})
        assert [r["person_id"] for r in info(t, i2)["responders"]] == [b]
        assert [r["person_id"] for r in info(t, i1)["responders"]] == [a]
        ok(t, "/incident/responder/add", {"incident_id": i1, "person_ids": [b, c, a],
                                          "notify": {"follow_preference": True}})
        d = info(t, i1)
        assert [r["person_id"] for r in d["responders"]] == [a, b, c]
        assert [r["person_name"] for r in d["responders"]] == ["alice", "bob", "carol"]
        assert list_incidents(t, responder_ids=[c])["total"] == 1
        assert list_incidents(t, responder_ids=[b])["total"] == 2
        # adding people who already respond changes nothing
        ok(t, "/incident/responder/add", {"incident_id": i1, "person_ids": [a]})
        assert feed_types(t, i1) == ["i_new", "i_assign", "i_a_rspd"]
        t.stop()
        evs = stored_events(t, i1)
        assert [e["type"] for e in evs] == ["i_new", "i_assign", "i_a_rspd"]
        rs = evs[-1]["body"]["incident"]["responders"]
        assert [(r["person_id"], r["person_name"], r["email"]) for r in rs] == [
            (a, "alice", "alice@example.com"), (b, "bob", "bob@example.com"),
            (c, "carol", "carol@example.com")]
        t.start()


def test_assign_refusals():
    with Tocsin() as t:
        a, _ = make_person(t, "alice")
        iid = create(t)
        before = info(t, iid)
        cases = [
            ({"assigned_to": {"person_ids": [a]}}, "incident_id or incident_ids"),
            ({"incident_id": iid}, "assigned_to"),
            ({"incident_id": iid, "assigned_to": {"person_ids": [a, 999]}},
             "assigned_to.person_ids 999 does not exist"),
            ({"incident_id": iid, "assigned_to": {"person_ids": [a], "type": "dance"}},
             "assigned_to.type"),
            ({"incident_id": iid, "assigned_to": {}}, "assigned_to.person_ids"),
            ({"incident_id": iid, "assigned_to": {"escalate_rule_id": "b" * 24, "layer_idx": -1}},
             "assigned_to.layer_idx"),
            ({"incident_id": MISSING, "assigned_to": {"person_ids": [a]}},
             "incident_id %s does not exist" % MISSING),
            ({"incident_id": "nothex", "assigned_to": {"person_ids": [a]}}, "incident_id"),
        ]
        for body, mention in cases:
            expect_error(t.api("/incident/assign", body, expect=None), 400, "InvalidParameter",
                         mention)
        for body, mention in (({"incident_id": iid}, "person_ids"),
                              ({"incident_id": iid, "person_ids": []}, "person_ids"),
                              ({"incident_id": iid, "person_ids": [777]}, "person_ids 777"),
                              ({"person_ids": [a]}, "incident_id")):
            expect_error(t.api("/incident/responder/add", body, expect=None), 400,
                         "InvalidParameter", mention)
        unchanged(t, iid, before)


def test_comment():
    with Tocsin() as t:
        i1, i2 = create(t, "one"), create(t, "two")
        ok(t, "/incident/comment", {"incident_ids": [i1, i2], "comment": "Rolling back now."})
        ok(t, "/incident/resolve", {"incident_ids": [i2]})
        ok(t, "/incident/comment", {"incident_ids": [i2], "comment": "post-mortem Friday",
                                    "mute_reply": True})
        assert feed_types(t, i1) == ["i_new", "i_comm"]
        assert feed_types(t, i2) == ["i_new", "i_comm", "i_rslv", "i_comm"]
        for body, mention in (({"incident_ids": [i1]}, "comment"),
                              ({"incident_ids": [i1], "comment": ""}, "comment"),
                              ({"incident_ids": [i1], "comment": "c" * 1025}, "comment"),
                              ({"incident_ids": [i1], "comment": "c", "mute_reply": "yes"},
                               "mute_reply")):
            expect_error(t.api("/incident/comment", body, expect=None), 400, "InvalidParameter",
                         mention)
        assert feed_types(t, i1) == ["i_new", "i_comm"]


def test_reset_fields_and_pins():
    with keeping_bodies() as t:
        iid = create(t, "old title", "Warning")
        ok(t, "/incident/reset", {"incident_id": iid,
                                  "title": "Database connection timeout - prod-db-01 primary",
                                  "incident_severity": "Critical"})
        d = info(t, iid)
        assert d["title"] == "Database connection timeout - prod-db-01 primary"
        assert d["incident_severity"] == "Critical" and d["incident_status"] == "Critical"
        assert sorted(d["manual_overrides"]) == ["incident_severity", "title"]
        ok(t, "/incident/reset", {"incident_id": iid, "description": "ddd", "impact": "iii",
                                  "root_cause": "rrr", "resolution": "sss"})
        d = info(t, iid)
        assert (d["description"], d["impact"], d["root_cause"], d["resolution"]) == (
            "ddd", "iii", "rrr", "sss")
        assert sorted(d["manual_overrides"]) == ["description", "incident_severity", "title"]
        assert feed_types(t, iid) == ["i_new", "i_r_title", "i_r_severity", "i_r_desc",
                                      "i_r_impact", "i_r_rc", "i_r_rsltn"]
        t.stop()
        evs = stored_events(t, iid)
        assert [e["type"] for e in evs][1:] == ["i_r_title", "i_r_severity", "i_r_desc",
                                                "i_r_impact", "i_r_rc", "i_r_rsltn"]
        # each event carries the incident as it was after its own change
        assert evs[1]["body"]["incident"]["incident_severity"] == "Warning"
        assert evs[2]["body"]["incident"]["incident_severity"] == "Critical"
        assert evs[-1]["body"]["incident"]["resolution"] == "sss"
        t.start()


def test_reset_refusals():
    with Tocsin() as t:
        iid = create(t)
        before = info(t, iid)
        cases = [
            ({"incident_id": iid}, "at least one of"),
            ({"incident_id": iid, "title": "ab"}, "title must be at least 3"),
            ({"incident_id": iid, "title": "t" * 201}, "title must be at most 200"),
            ({"incident_id": iid, "description": "d" * 6145}, "description"),
            ({"incident_id": iid, "impact": "x"}, "impact"),
            ({"incident_id": iid, "root_cause": "x"}, "root_cause"),
            ({"incident_id": iid, "resolution": 3}, "resolution"),
            ({"incident_id": iid, "incident_severity": "Ok"}, "incident_severity"),
            # one bad field refuses the whole call
            ({"incident_id": iid, "title": "good title", "impact": "x"}, "impact"),
            ({"incident_id": MISSING, "title": "good title"}, "does not exist"),
            ({"title": "good title"}, "incident_id"),
        ]
        for body, mention in cases:
            expect_error(t.api("/incident/reset", body, expect=None), 400, "InvalidParameter",
                         mention)
        unchanged(t, iid, before)


def test_field_reset():
    with Tocsin() as t:
        iid = create(t)
        ok(t, "/incident/field/reset", {"incident_id": iid, "field_name": "affected_service",
                                        "field_value": "payment-service"})
        ok(t, "/incident/field/reset", {"incident_id": iid, "field_name": "hosts",
                                        "field_value": ["a", "b"]})
        assert info(t, iid)["fields"] == {"affected_service": "payment-service",
                                          "hosts": ["a", "b"]}
        ok(t, "/incident/field/reset", {"incident_id": iid, "field_name": "hosts"})
        assert info(t, iid)["fields"] == {"affected_service": "payment-service"}
        assert feed_types(t, iid) == ["i_new", "i_r_field", "i_r_field", "i_r_field"]
        for body, mention in (({"incident_id": iid}, "field_name"),
                              ({"incident_id": iid, "field_name": ""}, "field_name"),
                              ({"incident_id": iid, "field_name": "f" * 129}, "field_name"),
                              ({"incident_id": MISSING, "field_name": "x"}, "does not exist")):
            expect_error(t.api("/incident/field/reset", body, expect=None), 400,
                         "InvalidParameter", mention)


# Remove, lists ------------------------------------------------------------------------------
def test_remove():
    with Tocsin() as t:
        keep, gone = create(t, "keep"), create(t, "gone")
        ok(t, "/incident/remove", {"incident_ids": [gone]})
        for path, body in (("/incident/info", {"incident_id": gone}),
                           ("/incident/feed", {"incident_id": gone}),
                           ("/incident/alert/list", {"incident_id": gone}),
                           ("/incident/ack", {"incident_ids": [gone]}),
                           ("/incident/remove", {"incident_ids": [gone]})):
            expect_error(t.api(path, body, expect=None), 400, "InvalidParameter",
                         "%s does not exist" % gone)
        data = list_incidents(t)
        assert [i["incident_id"] for i in data["items"]] == [keep] and data["total"] == 1
        r = t.api("/incident/list-by-ids", {"incident_ids": [keep, gone]})
        assert [i["incident_id"] for i in r.data["items"]] == [keep]
        t.restart()
        expect_error(t.api("/incident/info", {"incident_id": gone}, expect=None), 400,
                     "InvalidParameter", "does not exist")


def test_list_filters():
    with Tocsin() as t:
        a, akey = make_person(t, "alice")
        ch = t.make_channel("ops")
        i_crit = create(t, "Disk full on web-1", "Critical", channel_id=ch)
        i_warn = create(t, "CPU high on web-2", "Warning")
        i_info = create(t, "Deploy finished", "Info", channel_id=ch)
        i_acked = create(t, "Memory leak in api", "Critical")
        ok(t, "/incident/ack", {"incident_ids": [i_acked]}, key=akey)
        ok(t, "/incident/resolve", {"incident_ids": [i_info]})
        ok(t, "/incident/snooze", {"incident_ids": [i_warn], "minutes": 10})
        me = info(t, i_crit)["creator_id"]

        def ids(**f):
            data = list_incidents(t, **f)
            assert data["total"] == len(data["items"]) and data["has_next_page"] is False
            return set(i["incident_id"] for i in data["items"])

        everything = {i_crit, i_warn, i_info, i_acked}
        assert ids() == everything
        assert ids(progress="Triggered,Processing") == {i_crit, i_warn, i_acked}
        assert ids(progress="Closed") == {i_info}
        assert ids(incident_severity="Critical") == {i_crit, i_acked}
        assert ids(incident_severity="Warning, Info") == {i_warn, i_info}
        assert ids(channel_ids=[ch]) == {i_crit, i_info}
        assert ids(channel_ids=[0]) == {i_warn, i_acked}
        assert ids(is_snoozed=True) == {i_warn}
        assert ids(acker_ids=[a]) == {i_acked}
        assert ids(responder_ids=[a]) == {i_acked}
        assert ids(creator_ids=[me]) == everything
        assert ids(creator_ids=[0]) == set()
        assert ids(closer_ids=[me]) == {i_info}
        assert ids(incident_ids=[i_crit, i_warn.upper()]) == {i_crit, i_warn}
        assert ids(nums=[i_warn[-6:].lower()]) == {i_warn}
        assert ids(query="web") == {i_crit, i_warn}
        assert ids(query="LEAK") == {i_acked}
        assert ids(query="web", incident_severity="Warning") == {i_warn}
        assert ids(ever_muted=True) == set()
        # accepted though tocsin has no teams
        assert ids(team_ids=[1], is_my_team=False, is_my_channel=False) == everything
        # the window: incidents that started before it are not in it
        now = int(time.time())
        assert ids(start_time=now + 10, end_time=now + 100) == set()


def test_list_paging_and_cursor():
    with Tocsin() as t:
        made = [create(t, "inc %02d" % i) for i in range(7)]
        # same second: order is (start_time, incident_id), descending unless asc
        d1 = list_incidents(t, limit=3)
        d2 = list_incidents(t, limit=3, p=2)
        d3 = list_incidents(t, limit=3, p=3)
        assert (d1["total"], d2["total"], d3["total"]) == (7, 7, 7)
        assert d1["has_next_page"] and d2["has_next_page"] and not d3["has_next_page"]
        pages = [i["incident_id"] for d in (d1, d2, d3) for i in d["items"]]
        assert sorted(pages) == sorted(made) and len(pages) == 7
        expect = sorted(made, key=lambda i: (info(t, i)["start_time"], i), reverse=True)
        assert pages == expect
        asc = [i["incident_id"] for i in list_incidents(t, asc=True, limit=100)["items"]]
        assert asc == list(reversed(expect))
        # the cursor walks the same order, unaffected by incidents made meanwhile
        seen = []
        cursor = None
        while True:
            body = {"limit": 2}
            if cursor:
                body["search_after_ctx"] = cursor
            d = list_incidents(t, **body)
            seen += [i["incident_id"] for i in d["items"]]
            if not d["has_next_page"]:
                assert "search_after_ctx" not in d or not d.get("search_after_ctx")
                break
            cursor = d["search_after_ctx"]
            if len(seen) == 2:
                create(t, "made meanwhile")
        # nothing skipped or repeated; one made meanwhile in the same second
        # may sort after the cursor (ids break ties), a later one never does
        assert len(seen) == len(set(seen))
        assert [i for i in seen if i in made] == expect
        assert list_incidents(t, limit=3, p=9)["items"] == []
        # limit 0 and p 0 mean the defaults
        assert len(list_incidents(t, limit=0, p=0)["items"]) == 8


def test_list_refusals():
    with Tocsin() as t:
        now = int(time.time())
        cases = [
            ({"end_time": now}, "start_time"),
            ({"start_time": now}, "end_time"),
            ({"start_time": now, "end_time": now}, "end_time must be greater than start_time"),
            ({"start_time": now, "end_time": now - 5}, "end_time must be greater"),
            ({"start_time": now - 31 * 86400 - 1, "end_time": now}, "31 days"),
            ({"start_time": "x", "end_time": now}, "start_time"),
            ({"start_time": now - 60, "end_time": now, "limit": 101}, "limit"),
            ({"start_time": now - 60, "end_time": now, "progress": "Open"}, "progress"),
            ({"start_time": now - 60, "end_time": now, "incident_severity": "High"},
             "incident_severity"),
            ({"start_time": now - 60, "end_time": now, "channel_ids": ["a"]}, "channel_ids[0]"),
            ({"start_time": now - 60, "end_time": now, "search_after_ctx": "garbage"},
             "search_after_ctx"),
            ({"start_time": now - 60, "end_time": now, "asc": "yes"}, "asc"),
        ]
        for body, mention in cases:
            expect_error(t.api("/incident/list", body, expect=None), 400, "InvalidParameter",
                         mention)
        # exactly 31 days is allowed
        t.api("/incident/list", {"start_time": now - 31 * 86400, "end_time": now})


def test_list_by_ids():
    with Tocsin() as t:
        i1, i2 = create(t, "one"), create(t, "two")
        r = t.api("/incident/list-by-ids", {"incident_ids": [i2, MISSING, i1]})
        validate_response("/incident/list-by-ids", r)
        assert [i["incident_id"] for i in r.data["items"]] == [i2, i1]
        assert r.data["total"] == 2 and r.data["has_next_page"] is False
        for body, mention in (({}, "incident_ids"), ({"incident_ids": ["x"]}, "incident_ids[0]"),
                              ({"incident_ids": [i1] * 101}, "at most 100")):
            expect_error(t.api("/incident/list-by-ids", body, expect=None), 400,
                         "InvalidParameter", mention)


def test_info_refusals():
    with Tocsin() as t:
        for body, mention in (({}, "incident_id"), ({"incident_id": "abc"}, "incident_id"),
                              ({"incident_id": MISSING}, "incident_id %s does not exist" %
                               MISSING)):
            expect_error(t.api("/incident/info", body, expect=None), 400, "InvalidParameter",
                         mention)


def test_alert_list_of_a_manual_incident():
    with Tocsin() as t:
        iid = create(t)
        r = t.api("/incident/alert/list", {"incident_id": iid, "is_active": True, "limit": 100,
                                           "p": 1})
        validate_response("/incident/alert/list", r)
        assert r.data == {"items": [], "total": 0}
        for body, mention in (({}, "incident_id"),
                              ({"incident_id": iid, "limit": 1001}, "limit"),
                              ({"incident_id": iid, "is_active": 1}, "is_active"),
                              ({"incident_id": MISSING}, "does not exist")):
            expect_error(t.api("/incident/alert/list", body, expect=None), 400,
                         "InvalidParameter", mention)


def test_custom_action_checks():
    with Tocsin() as t:
        ch = t.make_channel("ops")
        iid = create(t, channel_id=ch)
        src, _ = t.make_source(ch)
        cases = [
            ({"integration_id": src}, "incident_id"),
            ({"incident_id": iid}, "integration_id"),
            ({"incident_id": MISSING, "integration_id": src}, "does not exist"),
            ({"incident_id": iid, "integration_id": 123456789}, "integration_id 123456789 does "
                                                                "not exist"),
            ({"incident_id": iid, "integration_id": src}, "is not a custom action"),
        ]
        for body, mention in cases:
            expect_error(t.api("/incident/custom-action/do", body, expect=None), 400,
                         "InvalidParameter", mention)
        # The rest of the checks, on real custom actions (their sending is
        # tested in test_delivery.py).
        other = t.make_channel("other")

        def action(name, channels):
            return t.api("/integration/create", {
                "type": "custom_action", "name": name, "endpoint": "http://127.0.0.1:1/x",
                "channel_ids": channels}).data["integration_id"]
        disabled = action("act-disabled", [ch])
        t.api("/integration/disable", {"integration_id": disabled})
        elsewhere = action("act-other", [other])
        deleted = action("act-deleted", [ch])
        t.api("/integration/delete", {"integration_id": deleted})
        for integration_id, mention in ((disabled, "is disabled"),
                                        (elsewhere, "not a custom action of the incident's channel"),
                                        (deleted, "does not exist")):
            expect_error(t.api("/incident/custom-action/do", {"incident_id": iid,
                                                              "integration_id": integration_id},
                               expect=None), 400, "InvalidParameter", mention)
        assert feed_types(t, iid) == ["i_new"]


# Events, restart, snooze expiry -------------------------------------------------------------
def test_events_carry_type_person_and_incident():
    with keeping_bodies() as t:
        a, akey = make_person(t, "alice")
        iid = create(t, "stored", "Info")
        ok(t, "/incident/ack", {"incident_ids": [iid]}, key=akey)
        ok(t, "/incident/snooze", {"incident_ids": [iid], "minutes": 5}, key=akey)
        ok(t, "/incident/wake", {"incident_ids": [iid]}, key=akey)
        ok(t, "/incident/comment", {"incident_ids": [iid], "comment": "hi"}, key=akey)
        ok(t, "/incident/resolve", {"incident_ids": [iid]}, key=akey)
        ok(t, "/incident/reopen", {"incident_ids": [iid], "reason": "again"}, key=akey)
        final = info(t, iid)
        t.stop()
        evs = stored_events(t, iid)
        assert [e["type"] for e in evs] == ["i_new", "i_ack", "i_snooze", "i_wake", "i_comm",
                                            "i_rslv", "i_reopen"]
        ids = set()
        for e in evs:
            b = e["body"]
            assert e["kind"] == "incident" and b["event_type"] == e["type"]
            assert isinstance(b["event_time"], int) and b["event_time"] > 10 ** 12, "ms"
            assert len(b["event_id"]) == 24
            ids.add(b["event_id"])
            inc = b["incident"]
            for f in INCIDENT_ALWAYS:
                assert f in inc, (e["type"], f)
            assert inc["incident_id"] == iid
        assert len(ids) == len(evs)
        assert evs[0]["body"]["person"]["person_id"] == final["creator_id"]
        for e in evs[1:]:
            assert e["person_id"] == a
            assert e["body"]["person"] == {"person_id": a, "person_name": "alice",
                                           "email": "alice@example.com"}
        by = {e["type"]: e["body"]["incident"] for e in evs}
        assert by["i_ack"]["progress"] == "Processing" and by["i_ack"]["ack_time"] > 0
        assert by["i_snooze"]["snoozed_before"] > 0 and by["i_wake"]["snoozed_before"] == 0
        assert by["i_rslv"]["progress"] == "Closed" and by["i_rslv"]["closer"]["person_id"] == a
        assert by["i_reopen"]["progress"] == "Triggered" and "closer" not in by["i_reopen"]
        assert "labels" not in by["i_new"], "a manual incident has no labels"
        assert by["i_new"]["creator"]["person_id"] == final["creator_id"]
        t.start()


def test_restart_keeps_incidents():
    with Tocsin() as t:
        a, akey = make_person(t, "alice")
        i1 = create(t, "survives", "Warning")
        ok(t, "/incident/ack", {"incident_ids": [i1]}, key=akey)
        ok(t, "/incident/reset", {"incident_id": i1, "title": "renamed"})
        before = info(t, i1)
        feed_before = t.api("/incident/feed", {"incident_id": i1, "limit": 100}).data
        t.restart()
        assert info(t, i1) == before
        assert t.api("/incident/feed", {"incident_id": i1, "limit": 100}).data == feed_before
        ok(t, "/incident/unack", {"incident_ids": [i1]}, key=akey)
        assert info(t, i1)["progress"] == "Triggered"


def test_snooze_expiry():
    with keeping_bodies() as t:
        early, due = create(t, "early"), create(t, "due")
        before = int(time.time())
        ok(t, "/incident/snooze", {"incident_ids": [early, due], "minutes": 1})
        after = int(time.time())
        ok(t, "/incident/ack", {"incident_ids": [due]})
        # A minute's snooze ends a minute (in whole seconds) after it began.
        # The timer (every 250 ms) wakes an incident by that deadline alone;
        # that it leaves one that is not due is seen below, on the tick that
        # wakes `due` after the restart.
        snoozed = info(t, early)["snoozed_before"]
        assert before + 60 <= snoozed <= after + 60, (before, snoozed, after)
        t.stop()
        # Move `due`'s deadline into the past in the stopped store (its
        # snoozed_before column, all there is of it since migration 007),
        # then start again.
        past = int(time.time()) - 5
        assert t.db_exec("UPDATE incidents SET snoozed_before = ? WHERE incident_id = ?",
                         (past, due)) == 1
        t.start()
        wait_until(lambda: info(t, due)["snoozed_before"] == 0, timeout=20, what="i_wake")
        d = info(t, due)
        assert d["progress"] == "Triggered"
        assert info(t, early)["snoozed_before"] == snoozed, "only the due one wakes"
        assert feed_types(t, due)[-1] == "i_wake"
        t.stop()
        wake = [e for e in stored_events(t, due) if e["type"] == "i_wake"]
        assert len(wake) == 1 and wake[0]["person_id"] == 0 and "person" not in wake[0]["body"]
        assert wake[0]["body"]["incident"]["snoozed_before"] == 0
        t.start()

# With alerts pushed through the Event API ------------------------------------------------------
def push_incident(t, key, alert_key, status="Critical", **labels):
    t.push(key, {"title_rule": "alert " + alert_key, "event_status": status,
                 "alert_key": alert_key, "labels": labels or {"host": alert_key}})
    items = list_incidents(t, limit=100, asc=False)["items"]
    for it in items:
        alerts = t.api("/incident/alert/list", {"incident_id": it["incident_id"]}).data["items"]
        if any(a["alert_key"] == alert_key for a in alerts):
            return it["incident_id"]
    raise AssertionError("no incident has alert " + alert_key)


def alert_keys(t, iid, **extra):
    body = {"incident_id": iid}
    body.update(extra)
    r = t.api("/incident/alert/list", body)
    validate_response("/incident/alert/list", r)
    return [a["alert_key"] for a in r.data["items"]], r.data["total"]


def test_merge_moves_alerts_and_closes_sources():
    with keeping_bodies() as t:
        a, akey = make_person(t, "alice")
        b, _ = make_person(t, "bob")
        ch = t.make_channel("ops")
        _, key = t.make_source(ch)
        target = push_incident(t, key, "k1", "Warning")
        src1 = push_incident(t, key, "k2", "Critical")
        src2 = push_incident(t, key, "k3", "Info")
        ok(t, "/incident/assign", {"incident_id": src2, "assigned_to": {"person_ids": [b]}})
        # a hand-set severity stays whatever merges in
        ok(t, "/incident/reset", {"incident_id": target, "incident_severity": "Info"})
        ok(t, "/incident/merge", {"source_incident_ids": [src1, src2, target],
                                  "target_incident_id": target, "comment": "one outage",
                                  "title": "Checkout is down", "owner_id": a}, key=akey)
        d = info(t, target)
        assert d["alert_cnt"] == 3 and d["active_alert_cnt"] == 3 and d["alert_event_cnt"] == 3
        assert d["title"] == "Checkout is down" and "title" in d["manual_overrides"]
        assert d["incident_severity"] == "Info", "pinned"
        assert d["incident_status"] == "Critical", "status follows the open alerts"
        assert d["owner_id"] == a and d["progress"] == "Triggered"
        assert [r["person_id"] for r in d["responders"]] == [b]
        keys, total = alert_keys(t, target)
        assert sorted(keys) == ["k1", "k2", "k3"] and total == 3
        r = t.api("/incident/alert/list", {"incident_id": target})
        assert all(x["incident"]["incident_id"] == target for x in r.data["items"])
        for s in (src1, src2):
            sd = info(t, s)
            assert sd["progress"] == "Closed" and sd["closer_id"] == a and sd["alert_cnt"] == 0
            assert alert_keys(t, s) == ([], 0)
        # the sources' alerts now feed the target: a repeat event lands there
        t.push(key, {"title_rule": "alert k2", "event_status": "Warning", "alert_key": "k2",
                     "labels": {"host": "k2"}})
        assert info(t, target)["alert_event_cnt"] == 4
        t.stop()
        types = [(e["type"], e["person_id"]) for e in stored_events(t)
                 if e["object_id"] in (target, src1) and e["type"] in ("i_rslv", "i_merge")]
        assert types == [("i_rslv", a), ("i_merge", a)], types
        # each alert joined its own incident when pushed (3), then moved (2)
        merges = [e for e in stored_events(t) if e["type"] == "a_merge"][3:]
        assert sorted(e["body"]["alert"]["alert_key"] for e in merges) == ["k2", "k3"]
        assert all(e["body"]["alert"]["incident"]["incident_id"] == target for e in merges)
        assert all(e["person_id"] == a and e["body"]["person"]["person_id"] == a
                   for e in merges), "a merge by hand names its person"
        t.start()


def test_merge_removing_sources_and_refusals():
    with Tocsin() as t:
        ch = t.make_channel("ops")
        _, key = t.make_source(ch)
        target = push_incident(t, key, "k1")
        src = push_incident(t, key, "k2")
        closed = create(t, "closed one")
        ok(t, "/incident/resolve", {"incident_ids": [closed]})
        states = {i: info(t, i) for i in (target, src, closed)}
        cases = [
            ({"source_incident_ids": [src], "target_incident_id": closed}, "is closed"),
            ({"source_incident_ids": [src, MISSING], "target_incident_id": target},
             "source_incident_ids %s does not exist" % MISSING),
            ({"source_incident_ids": [src], "target_incident_id": MISSING},
             "target_incident_id %s does not exist" % MISSING),
            ({"source_incident_ids": [target], "target_incident_id": target},
             "other than target_incident_id"),
            ({"source_incident_ids": [], "target_incident_id": target}, "source_incident_ids"),
            ({"source_incident_ids": [src]}, "target_incident_id"),
            ({"source_incident_ids": [src], "target_incident_id": target, "title": "t" * 513},
             "title"),
            ({"source_incident_ids": [src], "target_incident_id": target, "comment": "c" * 1025},
             "comment"),
            ({"source_incident_ids": [src], "target_incident_id": target, "owner_id": 4242},
             "owner_id 4242 does not exist"),
            ({"source_incident_ids": [src], "target_incident_id": target,
              "remove_source_incidents": "yes"}, "remove_source_incidents"),
        ]
        for body, mention in cases:
            expect_error(t.api("/incident/merge", body, expect=None), 400, "InvalidParameter",
                         mention)
        for i, before in states.items():
            unchanged(t, i, before)
        # a closed source may be merged; removed sources disappear
        ok(t, "/incident/merge", {"source_incident_ids": [src, closed],
                                  "target_incident_id": target,
                                  "remove_source_incidents": True})
        for s in (src, closed):
            expect_error(t.api("/incident/info", {"incident_id": s}, expect=None), 400,
                         "InvalidParameter", "does not exist")
        assert sorted(alert_keys(t, target)[0]) == ["k1", "k2"]
        assert info(t, target)["alert_cnt"] == 2


def test_resolve_stops_grouping_into_the_incident():
    with Tocsin() as t:
        ch = t.make_channel("grouped", group={"method": "p", "equals": [["service"]],
                                              "time_window": 60})
        _, key = t.make_source(ch)
        first = push_incident(t, key, "k1", service="api")
        assert push_incident(t, key, "k2", service="api") == first, "grouped"
        assert info(t, first)["alert_cnt"] == 2
        ok(t, "/incident/resolve", {"incident_ids": [first]})
        second = push_incident(t, key, "k3", service="api")
        assert second != first, "a closed incident takes no new alerts"
        assert info(t, first)["alert_cnt"] == 2 and info(t, second)["alert_cnt"] == 1
        # reopening does not make it a grouping target again
        ok(t, "/incident/reopen", {"incident_ids": [first], "reason": "check"})
        assert info(t, first)["progress"] == "Triggered"


def test_hand_resolve_is_no_recovery():
    """webhooks.md: end_time is the recovery time, 0 until then. A hand
    resolve closes without recovering; the Ok event that comes later finds
    the incident closed: its alert is closed (a_close, nobody), not
    recovered, and the incident keeps end_time 0 and its status."""
    with Tocsin() as t:
        ch = t.make_channel("hand")
        _, key = t.make_source(ch)
        iid = push_incident(t, key, "r1", status="Warning")
        ok(t, "/incident/resolve", {"incident_ids": [iid]})
        d = info(t, iid)
        assert d["progress"] == "Closed" and d["end_time"] == 0, d
        assert d["incident_status"] == "Warning" and d["close_time"] > 0, d
        t.push(key, {"title_rule": "alert r1", "event_status": "Ok", "alert_key": "r1"})
        items = t.api("/incident/alert/list", {"incident_id": iid}).data["items"]
        assert len(items) == 1 and items[0]["progress"] == "Closed", items
        assert items[0]["end_time"] == 0 and items[0]["alert_status"] == "Warning", items
        # Closed alerts are not active, whatever their status.
        assert alert_keys(t, iid, is_active=True) == ([], 0)
        assert alert_keys(t, iid, is_active=False) == (["r1"], 1)
        d = info(t, iid)
        assert d["end_time"] == 0 and d["incident_status"] == "Warning", d
        listed = [i for i in list_incidents(t, limit=100)["items"] if i["incident_id"] == iid]
        assert listed and listed[0]["end_time"] == 0, listed


def test_alert_list_filters_and_pages():
    with Tocsin() as t:
        ch = t.make_channel("grouped", group={"method": "p", "equals": [["service"]],
                                              "time_window": 60})
        _, key = t.make_source(ch)
        iid = push_incident(t, key, "k1", service="db")
        for k in ("k2", "k3"):
            push_incident(t, key, k, service="db")
        t.push(key, {"title_rule": "alert k2", "event_status": "Ok", "alert_key": "k2"})
        # oldest first; alerts of the same second in id order
        keys, total = alert_keys(t, iid)
        assert sorted(keys) == ["k1", "k2", "k3"] and total == 3
        active, n = alert_keys(t, iid, is_active=True)
        assert sorted(active) == ["k1", "k3"] and n == 2
        assert alert_keys(t, iid, is_active=False) == (["k2"], 1)
        assert alert_keys(t, iid, limit=2, p=1) == (keys[:2], 3)
        assert alert_keys(t, iid, limit=2, p=2) == (keys[2:], 3)
        r = t.api("/incident/alert/list", {"incident_id": iid, "include_events": True})
        validate_response("/incident/alert/list", r)
        k2 = next(a for a in r.data["items"] if a["alert_key"] == "k2")
        assert sorted(e["event_status"] for e in k2["events"]) == ["Critical", "Ok"]
        assert all("events" not in a for a in
                   t.api("/incident/alert/list", {"incident_id": iid}).data["items"])
        d = info(t, iid)
        assert d["alert_cnt"] == 3 and d["active_alert_cnt"] == 2
        assert d["labels"] == {"service": "db"} and d["integration_types"] == ["standard"]


if __name__ == "__main__":
    run([test_create_minimal_and_info, test_create_full_with_channel_and_assignee,
         test_create_refuses_bad_input, test_ack_and_unack_by_two_people, test_ack_unack_refusals,
         test_snooze_and_wake, test_snooze_wake_refusals, test_resolve_and_reopen,
         test_resolve_reopen_refusals, test_batch_is_all_or_nothing, test_batch_limits,
         test_assign_and_responder_add, test_assign_refusals, test_comment,
         test_reset_fields_and_pins, test_reset_refusals, test_field_reset, test_remove,
         test_list_filters, test_list_paging_and_cursor, test_list_refusals, test_list_by_ids,
         test_info_refusals, test_alert_list_of_a_manual_incident, test_custom_action_checks,
         test_events_carry_type_person_and_incident, test_restart_keeps_incidents,
         test_snooze_expiry, test_merge_moves_alerts_and_closes_sources,
         test_merge_removing_sources_and_refusals, test_resolve_stops_grouping_into_the_incident,
         test_hand_resolve_is_no_recovery, test_alert_list_filters_and_pages])
