"""test_channel_rules.py: a channel's drop, silence and inhibit rules
(reference/rules.md, "tocsin's decisions"), end to end on the real server.

Bad input: every limit of the three kinds' create and update is refused with
the right code and a message naming the field, and changes nothing (the
channel_rules rows and the lists are compared before and after).

Effects, on what is stored and on what reaches the receiver:
- a dropped event leaves nothing (no alert, no raw event, no webhook) and
  /metrics counts it per rule; a disabled rule is skipped;
- a silenced alert is kept (ever_muted, a_m_silence on its timeline) but
  opens no incident and fires nothing; its next event after the window opens
  the incident; is_directly_discard leaves no trace;
- an inhibited alert is kept while its source is active and not after;
- recurring windows are read in --time-zone;
- quick silences: one rule per incident, deleted once expired;
- rules survive a restart.
"""
import subprocess
import tempfile
import time

from tocsin_test import (BIN, ENGINE, Tocsin, expect_error, pg_drop_database, pg_new_database, run,
                         skip, validate_response, wait_until)
from receiver import Receiver

FAR = 4102444800  # 2100-01-01: a one-off window still to come


def webhooks(t, rx):
    """An incident and an alert webhook, each subscribed to everything."""
    for kind in ("webhook_incident", "webhook_alert"):
        t.api("/integration/create", {"type": kind, "name": kind,
                                      "endpoint": rx.url("/ok/" + kind)})


def push(t, key, alert_key, status="Critical", **labels):
    r = t.push(key, {"title_rule": "%s on $host" % alert_key, "event_status": status,
                     "alert_key": alert_key, "labels": dict({"host": "db1"}, **labels)})
    assert r.json["data"]["alert_key"] == alert_key, r
    return r


def alerts(t, **filters):
    now = int(time.time())
    body = dict({"start_time": now - 3600, "end_time": now + 60, "limit": 100}, **filters)
    r = t.api("/alert/list", body)
    validate_response("/alert/list", r)
    return {a["alert_key"]: a for a in r.data["items"]}


def raw_events(t):
    now = int(time.time())
    r = t.api("/alert-event/list", {"start_time": now - 3600, "end_time": now + 60})
    return [e["alert_key"] for e in r.data["items"]]


def setup(t):
    chan = t.make_channel("rules")
    source_id, key = t.make_source(chan)
    return chan, source_id, key


def cond(key, vals, oper="IN"):
    return [[{"key": key, "oper": oper, "vals": vals}]]


def create(t, kind, chan, **fields):
    body = dict({"channel_id": chan, "rule_name": "r-%d" % time.time_ns()}, **fields)
    r = t.api("/channel/%s/rule/create" % kind, body)
    validate_response("/channel/%s/rule/create" % kind, r)
    return r.data["rule_id"]


def rules(t, kind, chan, validate=True):
    r = t.api("/channel/%s/rule/list" % kind, {"channel_id": chan})
    if validate:
        validate_response("/channel/%s/rule/list" % kind, r)
    return r.data["items"]


def receiver_saw(rx, needle):
    return [r for r in rx.records() if needle in r["body"]]


# Bad input -------------------------------------------------------------------------
def test_bad_input_changes_nothing():
    with Tocsin() as t:
        chan, _, _ = setup(t)
        ok_filters = cond("severity", ["Critical"])
        drop_id = create(t, "unsubscribe", chan, filters=ok_filters)
        sil_id = create(t, "silence", chan, filters=ok_filters,
                        time_filter={"start_time": FAR, "end_time": FAR + 60})
        inh_id = create(t, "inhibit", chan, equals=["labels.host"], source_filters=ok_filters,
                        target_filters=cond("severity", ["Info"]))
        drop = {"channel_id": chan, "rule_name": "d", "filters": ok_filters}
        silence = {"channel_id": chan, "rule_name": "s", "filters": ok_filters,
                   "time_filter": {"start_time": FAR, "end_time": FAR + 60}}
        inhibit = {"channel_id": chan, "rule_name": "i", "equals": ["labels.host"],
                   "source_filters": ok_filters, "target_filters": ok_filters}
        long_regex = "/(unclosed/"
        cases = [
            # (kind, body changes, field named)
            ("unsubscribe", {"rule_name": ""}, "rule_name"),
            ("unsubscribe", {"rule_name": "x" * 40}, "rule_name"),
            ("unsubscribe", {"rule_name": 7}, "rule_name"),
            ("unsubscribe", {"description": "x" * 501}, "description"),
            ("unsubscribe", {"priority": "1"}, "priority"),
            ("unsubscribe", {"filters": []}, "filters"),
            ("unsubscribe", {"filters": None}, "filters"),
            ("unsubscribe", {"filters": [[]]}, "filters[0]"),
            ("unsubscribe", {"filters": "x"}, "filters"),
            ("unsubscribe", {"filters": [["x"]]}, "filters[0][0]"),
            ("unsubscribe", {"filters": cond("severity", ["Info"], oper="LIKE")},
             "filters[0][0].oper"),
            ("unsubscribe", {"filters": cond("nope", ["Info"])}, "filters[0][0].key"),
            ("unsubscribe", {"filters": cond("severity", [])}, "filters[0][0].vals"),
            ("unsubscribe", {"filters": cond("severity", [3])}, "filters[0][0].vals[0]"),
            ("unsubscribe", {"filters": cond("title", ["ok", long_regex])},
             "filters[0][0].vals[1] is not a valid regular expression: missing closing"),
            ("unsubscribe", {"filters": cond("labels.ip", ["cidr:10.0.0.0/33"])},
             "filters[0][0].vals[0] must be cidr"),
            ("unsubscribe", {"filters": cond("labels.ip", ["cidr:not-an-ip"])},
             "filters[0][0].vals[0] must be cidr"),
            ("unsubscribe", {"filters": cond("labels.n", ["num:eq:3"])},
             "filters[0][0].vals[0] must be num"),
            ("unsubscribe", {"filters": cond("labels.n", ["num:gt:x"])},
             "filters[0][0].vals[0] must be num"),
            ("silence", {"time_filter": {"start_time": FAR, "end_time": FAR - 1}},
             "time_filter.end_time must be after"),
            ("silence", {"time_filter": {"start_time": 0, "end_time": FAR}},
             "time_filter.start_time"),
            ("silence", {"time_filter": None}, "time_filter or time_filters is required"),
            ("silence", {"time_filters": [{"start": "01:00", "end": "02:00"}]},
             "time_filters exclude each other"),
            ("silence", {"time_filter": None,
                         "time_filters": [{"start": "01:00", "end": "02:00", "cal_id": "c1"}]},
             "time_filters[0].cal_id"),
            ("silence", {"time_filter": None, "time_filters": [{"start": "25:00", "end": "02:00"}]},
             "time_filters[0].start"),
            ("silence", {"time_filter": None,
                         "time_filters": [{"start": "01:00", "end": "02:00", "repeat": [7]}]},
             "time_filters[0].repeat[0]"),
            ("silence", {"is_directly_discard": "yes"}, "is_directly_discard"),
            ("silence", {"from_incident_id": "abc"}, "from_incident_id"),
            ("silence", {"filters": []}, "filters"),
            ("inhibit", {"equals": []}, "equals"),
            ("inhibit", {"equals": ["labels.a", "labels.b", "labels.c", "labels.d", "labels.e",
                                    "labels.f"]}, "equals"),
            ("inhibit", {"equals": ["bogus"]}, "equals[0]"),
            ("inhibit", {"source_filters": []}, "source_filters"),
            ("inhibit", {"target_filters": None}, "target_filters"),
            ("inhibit", {"target_filters": cond("title", ["/a(/"])}, "target_filters[0][0]"),
        ]
        bases = {"unsubscribe": drop, "silence": silence, "inhibit": inhibit}
        ids = {"unsubscribe": drop_id, "silence": sil_id, "inhibit": inh_id}

        def snapshot():
            return (t.db_query("SELECT * FROM channel_rules ORDER BY rule_id"),
                    [rules(t, k, chan) for k in bases])

        before = snapshot()
        for kind, change, field in cases:
            for op in ("create", "update"):
                body = dict(bases[kind], **change)
                body = {k: v for k, v in body.items() if v is not None}
                if op == "update":
                    body["rule_id"] = ids[kind]
                r = t.api("/channel/%s/rule/%s" % (kind, op), body, expect=None)
                try:
                    expect_error(r, 400, "InvalidParameter", field)
                except AssertionError as e:
                    raise AssertionError("%s %s %r: %s" % (kind, op, change, e))
        # Unknown ids: ResourceNotFound (HTTP 400), naming the id.
        for kind in bases:
            for op in ("create", "update", "delete", "enable", "disable", "list"):
                body = dict(bases[kind], channel_id=999999, rule_id=ids[kind])
                r = t.api("/channel/%s/rule/%s" % (kind, op), body, expect=None)
                expect_error(r, 400, "ResourceNotFound", "channel_id 999999")
            for op in ("update", "delete", "enable", "disable"):
                body = dict(bases[kind], rule_id="0123456789abcdef01234567")
                r = t.api("/channel/%s/rule/%s" % (kind, op), body, expect=None)
                expect_error(r, 400, "ResourceNotFound", "rule_id 0123456789abcdef01234567")
            # A rule of one kind is unknown on another kind's paths.
            other = ids["silence" if kind != "silence" else "inhibit"]
            r = t.api("/channel/%s/rule/delete" % kind, {"channel_id": chan, "rule_id": other},
                      expect=None)
            expect_error(r, 400, "ResourceNotFound", "rule_id " + other)
        r = t.api("/channel/silence/rule/create",
                  dict(silence, from_incident_id="0123456789abcdef01234567"), expect=None)
        expect_error(r, 400, "ResourceNotFound", "from_incident_id")
        assert snapshot() == before

        # Writes but drop rules' need an administrator; lists do not.
        _, member_key = t.make_member("Erin")
        for kind in ("silence", "inhibit"):
            r = t.api("/channel/%s/rule/create" % kind, bases[kind], key=member_key,
                      expect=None)
            assert r.status == 403 and r.error["code"] == "AccessDenied", r
        rules_member = t.api("/channel/silence/rule/list", {"channel_id": chan},
                             key=member_key).data["items"]
        assert [x["rule_id"] for x in rules_member] == [sil_id]
        assert snapshot() == before


# Drop ----------------------------------------------------------------------------
def test_drop_leaves_nothing():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        chan, _, key = setup(t)
        webhooks(t, rx)
        rid = create(t, "unsubscribe", chan, filters=cond("labels.env", ["test", "/^dev-\\d+$/"]))
        push(t, key, "dropped-1", env="test")
        push(t, key, "dropped-2", env="dev-42")
        push(t, key, "kept", env="prod")
        rx.wait_for(1, prefix="/ok/webhook_incident")
        assert set(alerts(t)) == {"kept"}
        assert raw_events(t) == ["kept"]
        t.wait_settled()
        assert not receiver_saw(rx, "dropped-"), "a dropped event reached a webhook"
        assert t.scrape().get("tocsin_rule_drops_total", channel_id=chan, rule_id=rid) == 2
        # A disabled rule is skipped; enabled again, it drops again.
        t.api("/channel/unsubscribe/rule/disable", {"channel_id": chan, "rule_id": rid})
        push(t, key, "passes", env="test")
        assert "passes" in alerts(t)
        t.api("/channel/unsubscribe/rule/enable", {"channel_id": chan, "rule_id": rid})
        push(t, key, "dropped-3", env="test")
        assert "dropped-3" not in alerts(t)
        # An Ok event passes through drop rules too.
        push(t, key, "passes", status="Ok", env="test")
        assert alerts(t)["passes"]["progress"] == "Triggered"
        assert t.scrape().get("tocsin_rule_drops_total", channel_id=chan, rule_id=rid) == 4


# Silence ------------------------------------------------------------------------------
def test_silence_mutes_then_lets_through():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        chan, _, key = setup(t)
        webhooks(t, rx)
        now = int(time.time())
        end = now + 3
        rid = create(t, "silence", chan, filters=cond("labels.service", ["db*"]),
                     time_filter={"start_time": now - 60, "end_time": end})
        gone = create(t, "silence", chan, filters=cond("labels.service", ["cache"]),
                      time_filter={"start_time": now - 60, "end_time": FAR},
                      is_directly_discard=True)
        assert [r["is_effective"] for r in rules(t, "silence", chan)] == [True, True]
        push(t, key, "muted", service="db-main")
        push(t, key, "discarded", service="cache")
        push(t, key, "loud", service="web")
        rx.wait_for(1, prefix="/ok/webhook_incident")
        got = alerts(t)
        assert set(got) == {"muted", "loud"}, got
        muted = got["muted"]
        assert muted["ever_muted"] is True and "incident" not in muted, muted
        assert got["loud"]["ever_muted"] is False and got["loud"]["incident"]
        assert set(alerts(t, ever_muted=True)) == {"muted"}
        assert "discarded" not in raw_events(t)
        feed = t.api("/alert/feed", {"alert_id": muted["alert_id"]}).data["items"]
        assert [i["type"] for i in feed] == ["a_m_silence"], feed
        assert feed[0]["detail"]["rule_id"] == rid
        # A second event inside the window is counted, still muted.
        push(t, key, "muted", status="Warning", service="db-main")
        assert alerts(t)["muted"]["event_cnt"] == 2
        t.wait_settled()
        assert not receiver_saw(rx, '"muted'), "a silenced alert fired a webhook"
        # The window ends (the list says so); the next event opens the incident.
        wait_until(lambda: not rules(t, "silence", chan)[0]["is_effective"], timeout=10,
                   what="the silence window to end")
        push(t, key, "muted", status="Critical", service="db-main")
        a = alerts(t)["muted"]
        assert a["incident"]["incident_id"] and a["ever_muted"] is True, a
        assert a["event_cnt"] == 3
        wait_until(lambda: receiver_saw(rx, a["incident"]["incident_id"]), timeout=10,
                   what="the incident's webhook")
        assert [r["rule_id"] for r in rules(t, "silence", chan)] == [rid, gone]
        # Its a_new came when it joined the incident, after its two muted events.
        feed = t.api("/alert/feed", {"alert_id": a["alert_id"], "asc": True}).data["items"]
        assert [i["type"] for i in feed] == ["a_m_silence"] * 2 + ["a_new"], feed


def test_recurring_window_in_time_zone():
    # Asia/Tokyo has no daylight saving: now there is UTC + 9 h.
    with Tocsin(args=["--time-zone", "Asia/Tokyo"]) as t:
        chan, _, key = setup(t)
        tokyo = time.gmtime(time.time() + 9 * 3600)
        minute = tokyo.tm_hour * 60 + tokyo.tm_min
        wday = (tokyo.tm_wday + 1) % 7  # Python: Monday 0; rules: Sunday 0

        def hhmm(m):
            m %= 1440
            return "%02d:%02d" % (m // 60, m % 60)
        # Around now (wrapping past midnight when now is near it), on today.
        start, end = minute - 5, minute + 5
        if start < 0 or end > 1439:
            days = [wday, (wday + 6) % 7]
        else:
            days = [wday]
        now_rule = create(t, "silence", chan, filters=cond("severity", ["Critical"]),
                          time_filters=[{"start": hhmm(start), "end": hhmm(end), "repeat": days}])
        later = create(t, "silence", chan, filters=cond("severity", ["Info"]),
                       time_filters=[{"start": hhmm(minute + 120), "end": hhmm(minute + 180)},
                                     {"start": "00:00", "end": "24:00",
                                      "repeat": [(wday + 3) % 7]}])
        # A recurring rule has no one-off time_filter, which SilenceRuleItem
        # lists as required (a zero window would break its exclusiveMinimum):
        # these items are not validated.
        eff = {r["rule_id"]: r["is_effective"] for r in rules(t, "silence", chan, False)}
        assert eff == {now_rule: True, later: False}, eff
        push(t, key, "night", service="x")
        assert alerts(t)["night"]["ever_muted"] is True
        push(t, key, "info", status="Info")
        assert alerts(t)["info"]["ever_muted"] is False


def test_unknown_time_zone_refused():
    with tempfile.TemporaryDirectory() as data:
        for zone in ("Mars/Olympus", "../../etc/passwd"):
            out = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--data", data,
                                  "--time-zone", zone], capture_output=True, text=True,
                                 timeout=30)
            assert out.returncode == 2 and "--time-zone: must be an IANA zone name" in out.stderr, \
                (zone, out.returncode, out.stderr)
    out = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True)
    assert "--time-zone" in out.stdout


# Inhibit -------------------------------------------------------------------------------
def test_inhibit_while_source_active():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        chan, _, key = setup(t)
        webhooks(t, rx)
        rid = create(t, "inhibit", chan, equals=["labels.cluster"],
                     source_filters=cond("severity", ["Critical"]),
                     target_filters=cond("severity", ["Info", "Warning"]))
        push(t, key, "root", status="Critical", cluster="a")
        push(t, key, "symptom", status="Info", cluster="a")
        push(t, key, "elsewhere", status="Info", cluster="b")
        push(t, key, "nocluster", status="Info")
        got = alerts(t)
        assert got["root"]["incident"] and got["elsewhere"]["incident"], got
        assert "incident" not in got["symptom"] and got["symptom"]["ever_muted"] is True
        # An absent label equals only an absent one: no source lacks cluster.
        assert got["nocluster"]["incident"], got["nocluster"]
        feed = t.api("/alert/feed", {"alert_id": got["symptom"]["alert_id"]}).data["items"]
        assert [(i["type"], i["detail"]["rule_id"]) for i in feed] == [("a_m_inhibit", rid)]
        t.wait_settled()
        assert not receiver_saw(rx, '"symptom'), "an inhibited alert fired a webhook"
        # The source recovers: the next event of the symptom goes through.
        push(t, key, "root", status="Ok", cluster="a")
        push(t, key, "symptom", status="Warning", cluster="a")
        a = alerts(t)["symptom"]
        assert a["incident"]["incident_id"], a
        wait_until(lambda: receiver_saw(rx, a["incident"]["incident_id"]), timeout=10,
                   what="the symptom's incident webhook")
        # Update replaces the whole rule: a discarding rule leaves no trace.
        t.api("/channel/inhibit/rule/update", {
            "channel_id": chan, "rule_id": rid, "rule_name": "discard", "equals": ["labels.cluster"],
            "source_filters": cond("severity", ["Critical"]),
            "target_filters": cond("labels.kind", ["noise"]), "is_directly_discard": True})
        push(t, key, "root2", status="Critical", cluster="c")
        push(t, key, "noise", status="Info", cluster="c", kind="noise")
        assert "noise" not in alerts(t) and "noise" not in raw_events(t)
        item = rules(t, "inhibit", chan)[0]
        assert item["rule_name"] == "discard" and item["is_directly_discard"] is True


# Quick silence, restart ------------------------------------------------------------------
def test_quick_silence_and_restart():
    with Tocsin() as t:
        chan, _, key = setup(t)
        push(t, key, "hot", status="Warning", env="prod")
        inc = alerts(t)["hot"]["incident"]["incident_id"]
        now = int(time.time())
        body = {"channel_id": chan, "rule_name": "Quick Silence - #1", "from_incident_id": inc,
                "filters": [[{"key": "severity", "oper": "IN", "vals": ["Warning"]},
                             {"key": "labels.env", "oper": "IN", "vals": ["prod"]}]],
                "time_filter": {"start_time": now, "end_time": now + 86400}}
        first = create(t, "silence", chan, **body)
        second = create(t, "silence", chan, **dict(body, rule_name="Quick Silence - #1 (2)"))
        assert first == second
        items = rules(t, "silence", chan)
        assert len(items) == 1 and items[0]["from_incident_id"] == inc
        assert items[0]["rule_name"] == "Quick Silence - #1 (2)"
        r = t.api("/channel/silence/rule/create", dict(body, time_filter=None, time_filters=[
            {"start": "01:00", "end": "02:00"}]), expect=None)
        expect_error(r, 400, "InvalidParameter", "from_incident_id")
        drop = create(t, "unsubscribe", chan, filters=cond("labels.env", ["test"]))
        t.restart()
        assert [r["rule_id"] for r in rules(t, "silence", chan)] == [first]
        assert [r["rule_id"] for r in rules(t, "unsubscribe", chan)] == [drop]
        push(t, key, "after-restart", env="test")
        assert "after-restart" not in alerts(t)
        push(t, key, "muted-after-restart", status="Warning", env="prod")
        assert alerts(t)["muted-after-restart"]["ever_muted"] is True
        # An expired quick silence is deleted by the writer's timer.
        t.api("/channel/silence/rule/update", dict(
            body, rule_id=first, time_filter={"start_time": now - 60, "end_time": now + 1}))
        wait_until(lambda: not rules(t, "silence", chan), timeout=15,
                   what="the expired quick silence to be deleted")


# Several nodes -------------------------------------------------------------------------
def test_rules_reach_other_nodes():
    """A rule written through one node acts on events another node ingests
    (the 'c' change record makes every node recompile its rules), and an
    inhibit source ingested by one node holds back a target on another."""
    if ENGINE != "postgres":
        skip("several nodes share one PostgreSQL database, and this run's store is %s" % ENGINE)
    database = pg_new_database("tocsin_rules_")
    nodes, ok = [], False
    try:
        for i in range(2):
            nodes.append(Tocsin(database=database, node_id="rules-%d" % (i + 1)))
        a, b = nodes
        chan, _, key = setup(a)
        rid = create(a, "unsubscribe", chan, filters=cond("labels.env", ["test"]))
        push(b, key, "dropped-on-b", env="test")
        assert "dropped-on-b" not in alerts(b)
        assert b.scrape().get("tocsin_rule_drops_total", channel_id=chan, rule_id=rid) == 1
        b.api("/channel/unsubscribe/rule/disable", {"channel_id": chan, "rule_id": rid})
        push(a, key, "passes-on-a", env="test")
        assert "passes-on-a" in alerts(a)
        create(b, "inhibit", chan, equals=["labels.cluster"],
               source_filters=cond("severity", ["Critical"]),
               target_filters=cond("severity", ["Info"]))
        push(a, key, "root-on-a", status="Critical", cluster="x")
        push(b, key, "symptom-on-b", status="Info", cluster="x")
        got = alerts(a)
        assert got["symptom-on-b"]["ever_muted"] is True and "incident" not in got["symptom-on-b"]
        push(b, key, "root-on-a", status="Ok", cluster="x")
        push(a, key, "symptom-on-b", status="Warning", cluster="x")
        assert alerts(b)["symptom-on-b"]["incident"]["incident_id"]
        ok = True
    finally:
        for t in nodes:
            t.stop(expect_clean=ok)
            if ok:
                t.cleanup()
            else:
                print("node %s: data folder kept: %s" % (t.node_id, t.data_dir))
        if ok:
            pg_drop_database(database)


if __name__ == "__main__":
    run([test_bad_input_changes_nothing, test_drop_leaves_nothing,
         test_silence_mutes_then_lets_through, test_recurring_window_in_time_zone,
         test_unknown_time_zone_refused,
         test_inhibit_while_source_active, test_quick_silence_and_restart,
         test_rules_reach_other_nodes])
