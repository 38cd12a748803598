"""test_escalation.py: escalation rules (issue 12 item 2; reference/rules.md,
"Escalation rules" and "tocsin's decisions").

A rule of a channel picks a new incident; after its delay window
(aggr_window, s) layer 0's people are assigned and i_assign fires, then
each later layer escalate_window minutes after the one before unless the
incident was acknowledged (force_escalate false) or closed. The steps are
stored (incident_escalations.next_at), so a kill -9 in between does not
lose them. Every assignment is an i_assign at the receiver carrying
incident.assigned_to, responders and responder_ids.

Windows: aggr_window is in seconds, escalate_window in minutes (0 = at
once), so the only slow case is the acknowledgement one: one minute,
waited for with a bounded timeout on the stored state, never a sleep.
"""
import json
import time

from receiver import Receiver
from tocsin_test import (ENGINE, Tocsin, expect_error, pg_drop_database, pg_new_database, run,
                         skip, wait_until)

TEMPLATE = "6321aad26c12104586a88916"


def setup(t, rx, name):
    ch = t.make_channel(name)
    _, key = t.make_source(ch)
    t.api("/integration/create", {
        "type": "webhook_incident", "name": "hook-" + name, "endpoint": rx.url("ok/" + name),
        "event_types": ["i_assign"], "channel_ids": [ch]})
    return ch, key


def rule(t, ch, layers, aggr_window=0, name="escalate", **extra):
    body = {"channel_id": ch, "rule_name": name, "template_id": TEMPLATE,
            "aggr_window": aggr_window, "layers": layers}
    body.update(extra)
    return t.api("/channel/escalate/rule/create", body).data["rule_id"]


def layer(person_ids=(), emails=(), window=0, force=False):
    target = {"by": {"follow_preference": True}}
    if person_ids:
        target["person_ids"] = list(person_ids)
    if emails:
        target["emails"] = list(emails)
    return {"target": target, "escalate_window": window, "force_escalate": force}


def push(t, key, alert_key, **labels):
    t.push(key, {"title_rule": "disk full " + alert_key, "event_status": "Critical",
                 "alert_key": alert_key, "labels": labels})


def incidents(t, ch):
    now = int(time.time())
    return t.api("/incident/list", {"channel_ids": [ch], "start_time": now - 3600,
                                    "end_time": now + 60}).data["items"]


def incident_of(t, ch):
    items = incidents(t, ch)
    return items[0]["incident_id"] if items else None


def info(t, iid):
    return t.api("/incident/info", {"incident_id": iid}).data


def assigns(rx, name, n, timeout=30):
    recs = rx.wait_for(n, timeout=timeout, prefix="/ok/" + name)
    return [json.loads(r["body"]) for r in recs]


def state_is(t, iid, state):
    return (info(t, iid).get("escalation") or {}).get("state") == state


def check_assign(body, rule_id, layer_idx, type_, responder_ids, by=None):
    assert body["event_type"] == "i_assign", body["event_type"]
    inc = body["incident"]
    at = inc["assigned_to"]
    assert at["type"] == type_, at
    assert at["escalate_rule_id"] == rule_id and at["layer_idx"] == layer_idx, at
    assert at["escalate_rule_name"] and len(at["id"]) == 24 and at["assigned_at"] > 0, at
    assert inc["responder_ids"] == responder_ids, inc["responder_ids"]
    assert [r["person_id"] for r in inc["responders"]] == responder_ids, inc["responders"]
    for r in inc["responders"]:
        assert set(r) == {"person_id", "person_name", "email", "assigned_at",
                          "acknowledged_at"}, r
    if by is None:
        assert "person" not in body, "an automatic assignment names nobody"
    else:
        assert body["person"]["person_id"] == by, body.get("person")


def test_layers_assign_then_escalate():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch, key = setup(t, rx, "layers")
        a, _ = t.make_member("alice")
        b_email = "bob-esc@example.com"
        b, _ = t.make_member("bob", email=b_email)
        rid = rule(t, ch, [layer([a]), layer(emails=[b_email])], aggr_window=1)
        push(t, key, "l-1")
        got = assigns(rx, "layers", 2)
        check_assign(got[0], rid, 0, "assign", [a])
        check_assign(got[1], rid, 1, "escalate", [a, b])
        iid = got[0]["incident"]["incident_id"]
        d = info(t, iid)
        assert d["assigned_to"]["layer_idx"] == 1 and d["responder_ids"] == [a, b], d
        assert d["escalation"]["state"] == "done" and d["escalation"]["next_at"] == 0, d
        feed = t.api("/incident/feed", {"incident_id": iid}).data["items"]
        kinds = [f["type"] for f in feed if f["type"] == "i_assign"]
        assert len(kinds) == 2, feed
        # After the last layer nothing more comes; a second incident of a
        # channel without matching rule is not assigned.
        assert len(rx.records("/ok/layers")) == 2


def test_close_inside_delay_window_notifies_nobody():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch, key = setup(t, rx, "closed")
        a, _ = t.make_member("alice")
        rule(t, ch, [layer([a])], aggr_window=2)
        push(t, key, "c-1")
        iid = wait_until(lambda: incident_of(t, ch), what="the incident")
        assert info(t, iid)["escalation"]["state"] == "pending"
        t.api("/incident/resolve", {"incident_ids": [iid]})
        wait_until(lambda: state_is(t, iid, "stopped"), timeout=30,
                   what="the due step to find the incident closed")
        assert rx.records("/ok/closed") == []
        assert info(t, iid)["responders"] == []


def test_snooze_pauses_wake_restarts():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch, key = setup(t, rx, "snooze")
        a, _ = t.make_member("alice")
        rid = rule(t, ch, [layer([a])], aggr_window=2)
        push(t, key, "z-1")
        iid = wait_until(lambda: incident_of(t, ch), what="the incident")
        t.api("/incident/snooze", {"incident_ids": [iid], "minutes": 30})
        wait_until(lambda: state_is(t, iid, "paused"), timeout=30,
                   what="the due step to find the incident snoozed")
        assert rx.records("/ok/snooze") == []
        t.api("/incident/wake", {"incident_ids": [iid]})
        check_assign(assigns(rx, "snooze", 1)[0], rid, 0, "assign", [a])


def test_ack_stops_unless_forced():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        a, akey = t.make_member("alice")
        b, _ = t.make_member("bob")
        ch1, key1 = setup(t, rx, "ackstop")
        ch2, key2 = setup(t, rx, "ackforce")
        r1 = rule(t, ch1, [layer([a], window=1), layer([b])])
        r2 = rule(t, ch2, [layer([a], window=1, force=True), layer([b])])
        push(t, key1, "a-1")
        push(t, key2, "a-2")
        i1 = assigns(rx, "ackstop", 1)[0]["incident"]["incident_id"]
        i2 = assigns(rx, "ackforce", 1)[0]["incident"]["incident_id"]
        t.api("/incident/ack", {"incident_ids": [i1, i2]}, key=akey)
        # One minute after layer 0: the forced rule escalates, the other stops.
        got = assigns(rx, "ackforce", 2, timeout=90)
        check_assign(got[1], r2, 1, "escalate", [a, b])
        wait_until(lambda: state_is(t, i1, "stopped"), timeout=90,
                   what="the acknowledged incident's escalation to stop")
        assert len(rx.records("/ok/ackstop")) == 1
        assert info(t, i1)["responder_ids"] == [a]
        assert r1


def test_survives_kill_9():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch, key = setup(t, rx, "crash")
        a, _ = t.make_member("alice")
        b, _ = t.make_member("bob")
        rid = rule(t, ch, [layer([a]), layer([b])], aggr_window=3)
        push(t, key, "k-1")
        # The push was answered, so the incident and its schedule are durable.
        t.kill()
        assert rx.records("/ok/crash") == []
        t.start()
        got = assigns(rx, "crash", 2)
        check_assign(got[0], rid, 0, "assign", [a])
        check_assign(got[1], rid, 1, "escalate", [a, b])


def test_manual_assign_leaves_rule_and_jump():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch, key = setup(t, rx, "manual")
        a, _ = t.make_member("alice")
        b, _ = t.make_member("bob")
        c, _ = t.make_member("carol")
        rid = rule(t, ch, [layer([a], window=60), layer([b])])
        push(t, key, "m-1")
        iid = assigns(rx, "manual", 1)[0]["incident"]["incident_id"]
        assert info(t, iid)["escalation"]["state"] == "escalate"
        # A direct assignment takes the incident off its rule.
        t.api("/incident/assign", {"incident_id": iid, "assigned_to": {"person_ids": [c]}})
        got = assigns(rx, "manual", 2)[1]
        assert got["incident"]["assigned_to"]["type"] == "reassign"
        assert "escalate_rule_id" not in got["incident"]["assigned_to"]
        assert got["incident"]["responder_ids"] == [a, c]
        assert info(t, iid)["escalation"]["state"] == "off"
        # A jump to a layer the rule lacks, or to an unknown rule, is refused
        # naming the field, and nothing is assigned.
        for at, code, field in (({"escalate_rule_id": rid, "layer_idx": 2}, "InvalidParameter",
                                 "assigned_to.layer_idx"),
                                ({"escalate_rule_id": "c" * 24, "layer_idx": 0},
                                 "ResourceNotFound", "assigned_to.escalate_rule_id")):
            expect_error(t.api("/incident/assign", {"incident_id": iid, "assigned_to": at},
                               expect=None), 400, code, field)
        assert info(t, iid)["escalation"]["state"] == "off"
        assert len(rx.records("/ok/manual")) == 2
        # Jump to layer 1 of the rule.
        t.api("/incident/assign", {"incident_id": iid,
                                   "assigned_to": {"escalate_rule_id": rid, "layer_idx": 1}})
        got = assigns(rx, "manual", 3)[2]
        check_assign(got, rid, 1, "reassign", [a, c, b], by=1)
        assert info(t, iid)["escalation"]["state"] == "done"
        # Reopen restarts at layer 0 (type reopen).
        t.api("/incident/resolve", {"incident_ids": [iid]})
        t.api("/incident/reopen", {"incident_ids": [iid], "reason": "again"})
        got = assigns(rx, "manual", 4)[3]
        assert got["incident"]["assigned_to"]["type"] == "reopen"
        assert got["incident"]["assigned_to"]["layer_idx"] == 0
        # Snooze holds the step; wake restarts at layer 0.
        t.api("/incident/snooze", {"incident_ids": [iid], "minutes": 10})
        t.api("/incident/wake", {"incident_ids": [iid]})
        got = assigns(rx, "manual", 5)[4]
        assert got["incident"]["assigned_to"]["type"] == "assign"
        # /incident/create in the channel starts the rule the same way, or
        # jumps where assigned_to says.
        made = t.api("/incident/create", {"incident_severity": "Warning", "title": "by hand",
                                          "channel_id": ch,
                                          "assigned_to": {"escalate_rule_id": rid,
                                                          "layer_idx": 1}}).data["incident_id"]
        got = assigns(rx, "manual", 6)[5]
        assert got["incident"]["incident_id"] == made
        check_assign(got, rid, 1, "escalate", [b], by=1)


def test_filters_and_priority_choose_the_rule():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch, key = setup(t, rx, "choose")
        a, _ = t.make_member("alice")
        b, _ = t.make_member("bob")
        db = rule(t, ch, [layer([a])], name="db", priority=1,
                  filters=[[{"key": "labels.service", "oper": "IN", "vals": ["db*"]}]])
        # cidr: and num: values are the channel rules' (core/rule_filter),
        # not text compared as is.
        net = rule(t, ch, [layer([a])], name="net", priority=2,
                   filters=[[{"key": "labels.ip", "oper": "IN", "vals": ["cidr:10.0.0.0/8"]}]])
        many = rule(t, ch, [layer([a])], name="many", priority=3,
                    filters=[[{"key": "labels.count", "oper": "IN", "vals": ["num:gt:5"]}]])
        # A window over the whole of every day: always inside it.
        rest = rule(t, ch, [layer([b])], name="rest", priority=5,
                    time_filters=[{"start": "00:00", "end": "24:00", "repeat": []}])
        never = rule(t, ch, [layer([b])], name="never", priority=0,
                     filters=[[{"key": "severity", "oper": "NOTIN", "vals": ["*"]}]])
        push(t, key, "f-1", service="dbmain")
        push(t, key, "f-2", service="web")
        push(t, key, "f-3", service="web", ip="10.1.2.3")
        push(t, key, "f-4", service="web", count="7")
        push(t, key, "f-5", service="web", ip="192.168.1.1", count="3")
        got = assigns(rx, "choose", 5)
        by_title = {g["incident"]["title"]: g["incident"]["assigned_to"] for g in got}
        assert by_title["disk full f-1"]["escalate_rule_id"] == db, by_title
        assert by_title["disk full f-2"]["escalate_rule_id"] == rest, by_title
        assert by_title["disk full f-3"]["escalate_rule_id"] == net, by_title
        assert by_title["disk full f-4"]["escalate_rule_id"] == many, by_title
        assert by_title["disk full f-5"]["escalate_rule_id"] == rest, by_title
        # A disabled rule is skipped; a channel whose rules are all disabled
        # assigns nobody.
        for r in (db, net, many, rest, never):
            t.api("/channel/escalate/rule/disable", {"channel_id": ch, "rule_id": r})
        push(t, key, "f-6", service="dbmain")
        iid = wait_until(lambda: [i for i in incidents(t, ch) if i["title"] == "disk full f-6"],
                         what="the sixth incident")[0]["incident_id"]
        assert "escalation" not in info(t, iid)
        assert info(t, iid)["responders"] == []


def test_two_nodes_one_schedule():
    """Two nodes on one PostgreSQL database: a rule made on one node is
    known to the other's cache (its configuration change record), an
    incident opened there follows it, and each layer is assigned once
    cluster-wide (the steps are the timers lease holder's work)."""
    if ENGINE != "postgres":
        skip("several nodes share one PostgreSQL database, and this run's store is %s" % ENGINE)
    database = pg_new_database("tocsin_esc_")
    nodes, ok = [], False
    try:
        with Receiver() as rx:
            for i in range(2):
                nodes.append(Tocsin(database=database, node_id="esc-%d" % i,
                                    args=["--allow-private-targets"]))
            a, b = nodes
            ch, key = setup(a, rx, "cluster")
            alice, _ = a.make_member("alice")
            bob, _ = a.make_member("bob")
            rid = rule(a, ch, [layer([alice]), layer([bob])], aggr_window=1)
            # The other node learns of the rule at its next batch.
            b.api("/channel/escalate/rule/info", {"channel_id": ch, "rule_id": rid})
            push(b, key, "n-1")
            got = assigns(rx, "cluster", 2)
            check_assign(got[0], rid, 0, "assign", [alice])
            check_assign(got[1], rid, 1, "escalate", [alice, bob])
            iid = got[0]["incident"]["incident_id"]
            wait_until(lambda: state_is(a, iid, "done"), what="the schedule's end")
            # Nothing is assigned twice: one i_assign per layer in the feed.
            feed = b.api("/incident/feed", {"incident_id": iid}).data["items"]
            assert [f["type"] for f in feed].count("i_assign") == 2, feed
            ok = True
    finally:
        for t in nodes:
            t.stop(expect_clean=ok)
            t.cleanup()
        pg_drop_database(database)


def test_rule_calls_and_bad_input():
    with Tocsin() as t:
        ch = t.make_channel("rules")
        a, _ = t.make_member("alice", email="alice-rules@example.com")
        base = {"channel_id": ch, "rule_name": "On-call", "template_id": TEMPLATE,
                "description": "primary then secondary", "priority": 3, "aggr_window": 60,
                "layers": [{"target": {"person_ids": [a], "by": {"follow_preference": True}},
                            "max_times": 3, "notify_step": 10, "escalate_window": 30,
                            "force_escalate": False}],
                "time_filters": [{"start": "09:00", "end": "18:00", "repeat": [1, 2, 3, 4, 5]}],
                "filters": [[{"key": "severity", "oper": "IN", "vals": ["Critical"]}]]}
        r = t.api("/channel/escalate/rule/create", base).data
        assert r["rule_name"] == "On-call" and len(r["rule_id"]) == 24
        rid = r["rule_id"]
        item = t.api("/channel/escalate/rule/info", {"channel_id": ch, "rule_id": rid}).data
        for k in ("account_id", "channel_id", "priority", "aggr_window", "rule_name",
                  "description", "layers", "time_filters", "filters", "status", "template_id",
                  "rule_id", "updated_by", "created_at", "updated_at"):
            assert k in item, k
        assert item["status"] == "enabled" and item["updated_by"] == 1 and item["priority"] == 3
        assert item["layers"][0]["target"]["person_ids"] == [a]
        assert "deleted_at" not in item
        listed = t.api("/channel/escalate/rule/list", {"channel_id": ch}).data["items"]
        assert [x["rule_id"] for x in listed] == [rid]

        upd = dict(base, rule_id=rid, rule_name="Renamed", priority=7,
                   layers=[{"target": {"emails": ["alice-rules@example.com"]}}])
        t.api("/channel/escalate/rule/update", upd)
        item = t.api("/channel/escalate/rule/info", {"channel_id": ch, "rule_id": rid}).data
        assert item["rule_name"] == "Renamed" and item["priority"] == 7
        # Omitted layer fields take the defaults.
        assert item["layers"][0]["escalate_window"] == 30 and item["layers"][0]["max_times"] == 0
        t.api("/channel/escalate/rule/disable", {"channel_id": ch, "rule_id": rid})
        assert t.api("/channel/escalate/rule/info", {"channel_id": ch, "rule_id": rid}).data[
            "status"] == "disabled"
        t.api("/channel/escalate/rule/enable", {"channel_id": ch, "rule_id": rid})

        before = t.api("/channel/escalate/rule/list", {"channel_id": ch}).data

        def lay(**kw):
            base_layer = {"target": {"person_ids": [a]}}
            base_layer.update(kw)
            return dict(base, layers=[base_layer])

        bad = [
            (dict(base, rule_name=""), "rule_name"),
            (dict(base, rule_name="x" * 40), "rule_name"),
            (dict(base, rule_name=5), "rule_name"),
            (dict(base, description="d" * 501), "description"),
            (dict(base, priority=201), "priority"),
            (dict(base, priority=-1), "priority"),
            (dict(base, priority="1"), "priority"),
            (dict(base, aggr_window=3601), "aggr_window"),
            (dict(base, aggr_window=-1), "aggr_window"),
            (dict(base, template_id="nothex"), "template_id"),
            (dict(base, layers=[]), "layers"),
            (dict(base, layers="x"), "layers"),
            (dict(base, layers=["x"]), "layers[0]"),
            (lay(target={}), "layers[0].target"),
            (lay(target={"by": {"follow_preference": True}}), "layers[0].target"),
            (lay(target={"person_ids": [a], "team_ids": [1]}), "layers[0].target.team_ids"),
            (lay(target={"person_ids": [a], "schedule_to_role_ids": {"1": [2]}}),
             "layers[0].target.schedule_to_role_ids"),
            (lay(target={"person_ids": ["1"]}), "layers[0].target.person_ids"),
            (lay(target={"emails": ["not-an-email"]}), "layers[0].target.emails"),
            (lay(escalate_window=721), "layers[0].escalate_window"),
            (lay(escalate_window=-1), "layers[0].escalate_window"),
            (lay(max_times=7), "layers[0].max_times"),
            (lay(notify_step=0.25), "layers[0].notify_step"),
            (lay(notify_step=121), "layers[0].notify_step"),
            (lay(notify_step=1.3), "layers[0].notify_step"),
            (lay(force_escalate="yes"), "layers[0].force_escalate"),
            (dict(base, time_filters=[{"start": "24:00", "end": "18:00"}]),
             "time_filters[0].start"),
            (dict(base, time_filters=[{"start": "09:00", "end": "24:30"}]),
             "time_filters[0].end"),
            (dict(base, time_filters=[{"start": "09:00", "end": "09:00"}]),
             "time_filters[0].end"),
            (dict(base, time_filters="x"), "time_filters"),
            (dict(base, time_filters=[{"start": "09:00", "end": "18:00", "repeat": [7]}]),
             "time_filters[0].repeat"),
            (dict(base, time_filters=[{"start": "09:00", "end": "18:00", "cal_id": "c1"}]),
             "time_filters[0].cal_id"),
            (dict(base, filters=[[{"key": "title", "oper": "LIKE", "vals": ["x"]}]]),
             "filters[0][0].oper"),
            (dict(base, filters=[[{"key": "title", "oper": "IN", "vals": ["/(/"]}]]),
             "filters[0][0].vals[0]"),
            (dict(base, filters=[[{"key": "title", "oper": "IN", "vals": ["x", "/a(/"]}]]),
             "filters[0][0].vals[1] is not a valid regular expression: missing"),
            (dict(base, filters=[[{"key": "labels.ip", "oper": "IN",
                                   "vals": ["cidr:10.0.0.0/40"]}]]), "filters[0][0].vals[0]"),
            (dict(base, filters=[[{"key": "labels.n", "oper": "IN", "vals": ["num:gt:"]}]]),
             "filters[0][0].vals[0]"),
            (dict(base, filters=[[{"key": "", "oper": "IN", "vals": ["x"]}]]),
             "filters[0][0].key"),
            (dict(base, filters=[[{"key": "what", "oper": "IN", "vals": ["x"]}]]),
             "filters[0][0].key"),
            (dict(base, filters="x"), "filters"),
            (dict(base, filters=[[]]), "filters[0]"),
            (dict(base, channel_id="1"), "channel_id"),
        ]
        for body, field in bad:
            for path, extra in (("create", {}), ("update", {"rule_id": rid})):
                expect_error(t.api("/channel/escalate/rule/" + path, dict(body, **extra),
                                   expect=None), 400, "InvalidParameter", field)
        missing = "a" * 24
        not_found = [
            ("create", dict(base, channel_id=999999), "channel_id"),
            ("create", lay(target={"person_ids": [424242]}), "person_ids"),
            ("create", lay(target={"emails": ["nobody@example.com"]}), "emails"),
            ("update", dict(base, rule_id=missing), "rule_id"),
            ("info", {"channel_id": ch, "rule_id": missing}, "rule_id"),
            ("delete", {"channel_id": ch, "rule_id": missing}, "rule_id"),
            ("enable", {"channel_id": ch, "rule_id": missing}, "rule_id"),
            ("disable", {"channel_id": 999999, "rule_id": rid}, "channel_id"),
            ("list", {"channel_id": 999999}, "channel_id"),
        ]
        for path, body, field in not_found:
            expect_error(t.api("/channel/escalate/rule/" + path, body, expect=None), 400,
                         "ResourceNotFound", field)
        for path, body, field in (("info", {"channel_id": ch, "rule_id": "xyz"}, "rule_id"),
                                  ("list", {}, "channel_id"),
                                  ("delete", {"channel_id": ch}, "rule_id")):
            expect_error(t.api("/channel/escalate/rule/" + path, body, expect=None), 400,
                         "InvalidParameter", field)
        assert t.api("/channel/escalate/rule/list", {"channel_id": ch}).data == before, \
            "refused calls change nothing"

        t.api("/channel/escalate/rule/delete", {"channel_id": ch, "rule_id": rid})
        assert t.api("/channel/escalate/rule/list", {"channel_id": ch}).data["items"] == []
        expect_error(t.api("/channel/escalate/rule/info", {"channel_id": ch, "rule_id": rid},
                           expect=None), 400, "ResourceNotFound", "rule_id")


if __name__ == "__main__":
    run([test_rule_calls_and_bad_input, test_layers_assign_then_escalate,
         test_close_inside_delay_window_notifies_nobody, test_survives_kill_9,
         test_manual_assign_leaves_rule_and_jump, test_filters_and_priority_choose_the_rule,
         test_snooze_pauses_wake_restarts, test_two_nodes_one_schedule,
         test_ack_stops_unless_forced])
