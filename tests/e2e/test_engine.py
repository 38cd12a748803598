"""test_engine.py: from event to alert to incident (core/engine.c): dedupe
(a_new, a_update, identical events dropped, Ok recovers), grouping (n, p, i
on i_keys), storm warnings, automatic recovery (i_rslv without a person),
manually closed incidents, restarts; and the domain event log (the events
table) holding the right i_*/a_* sequence with full objects.

State is read from the store after tocsin has stopped (t.db_query), and
through /incident/info where that shows the engine's work. Since migration
007 alerts and incidents are rows of columns, the timelines are rows of
`events` named by feed_ref (since 011 but for their first entry, which is
in the object's row), and an event's body is stored only when some
integration subscribes to it: every test starts tocsin with keeping_bodies
(disabled webhooks subscribed to everything, see keep_every_body)."""
import json

from tocsin_test import keeping_bodies, run, validate_response

ALERT_ALWAYS = ["alert_id", "data_source_id", "data_source_name", "data_source_type",
                "channel_id", "channel_name", "title", "alert_key", "alert_severity",
                "alert_status", "progress", "created_at", "updated_at", "start_time",
                "last_time"]
INCIDENT_ALWAYS = ["incident_id", "title", "incident_severity", "incident_status", "progress",
                   "created_at", "updated_at", "start_time", "detail_url"]
# The columns of alerts and incidents that hold JSON text (migration 007).
JSON_COLUMNS = {"labels", "images", "responders", "fields", "pins", "storm_fired",
                "integration_ids", "integration_types", "assigned_to", "creator", "closer",
                "group_keys"}


class Store:
    """The stopped tocsin's store."""

    def __init__(self, t):
        self.t = t

    def rows(self, sql, args=()):
        return self.t.db_query(sql, args)

    def objects(self, sql, args=()):
        """Rows as {column: value}, the JSON columns parsed."""
        return [{n: (json.loads(v) if n in JSON_COLUMNS and v is not None else v)
                 for n, v in row.items()} for row in self.t.db_dicts(sql, args)]

    def events(self):
        """[(event_type, body)] in commit order (the rows with an event_id:
        timeline-only rows have none)."""
        return [(ty, json.loads(b)) for ty, b in
                self.rows("SELECT event_type, body FROM events WHERE event_id IS NOT NULL"
                          " ORDER BY seq")]

    def types(self):
        return [ty for ty, _ in self.events()]

    def alerts(self):
        return {a["alert_key"] + ("" if a["progress"] != "Closed" else "#" + a["alert_id"]): a
                for a in self.objects("SELECT * FROM alerts")}

    def alert(self, alert_id):
        return self.objects("SELECT * FROM alerts WHERE alert_id = ?", (alert_id,))[0]

    def open_alert(self, key):
        r = self.objects("SELECT * FROM alerts WHERE alert_key = ? AND progress <> 'Closed'",
                         (key,))
        return r[0] if r else None

    def incident(self, incident_id):
        return self.objects("SELECT * FROM incidents WHERE incident_id = ?", (incident_id,))[0]

    def incidents(self):
        return self.objects("SELECT * FROM incidents ORDER BY id")

    def feed(self, object_id):
        """An incident's or alert's timeline: [(type, person, detail)]. Its
        first entry (i_new, a_new) is kept in the object's row since
        migration 011, the rest are rows of `events` named by feed_ref."""
        first = self.rows(
            "SELECT 'i_new', creator_id, new_detail FROM incidents"
            " WHERE incident_id = ? AND new_detail IS NOT NULL"
            " UNION ALL SELECT 'a_new', 0, new_detail FROM alerts"
            " WHERE alert_id = ? AND new_detail IS NOT NULL", (object_id, object_id))
        return [(ty, c, json.loads(d)) for ty, c, d in first + self.rows(
            "SELECT event_type, person_id, detail FROM events WHERE feed_ref = ?"
            " ORDER BY seq", (object_id,))]

    def group_keys(self):
        """How many grouping keys the incidents hold (their buckets while open)."""
        return sum(len(i["group_keys"]) for i in self.incidents())

    def count(self, table):
        return self.rows("SELECT COUNT(*) FROM " + table)[0][0]


def ev(status, key, title="$host down", **extra):
    body = {"title_rule": title, "event_status": status, "alert_key": key}
    body.update(extra)
    return body


def setup(t, group=None, name="ops"):
    cid = t.make_channel(name, group=group)
    iid, key = t.make_source(cid)
    return cid, iid, key


def test_alert_lifecycle_and_event_log():
    with keeping_bodies() as t:
        cid, iid, key = setup(t)
        labels = {"host": "h1", "dc": "eu"}
        t.push(key, ev("Critical", "k1", labels=labels, description="cpu"))
        t.push(key, ev("Critical", "k1", labels=labels, description="cpu"))  # identical: dropped
        t.push(key, ev("Warning", "k1", labels=labels, description="cpu"))
        t.push(key, ev("Warning", "k1", labels=labels, description="cpu 2"))
        t.push(key, ev("Ok", "k1"))  # recovers (keeps labels and description)
        t.push(key, ev("Ok", "k1"))  # nothing open any more: dropped
        t.push(key, ev("Ok", "never-seen"))  # nothing to recover: dropped
        t.push(key, ev("Critical", "k1", labels=labels))  # a closed alert's key: a new alert
        t.stop()
        s = Store(t)
        assert s.types() == ["a_new", "i_new", "a_merge", "a_update", "a_update", "a_update",
                             "i_rslv", "a_new", "i_new", "a_merge"], s.types()
        events = s.events()
        for ty, body in events:
            assert body["event_type"] == ty and len(body["event_id"]) == 24
            assert body["event_time"] > 10 ** 12, "event_time is in milliseconds"
            assert "person" not in body, "automatic changes carry no person"
            obj = body["alert"] if ty.startswith("a_") else body["incident"]
            for f in (ALERT_ALWAYS if ty.startswith("a_") else INCIDENT_ALWAYS):
                assert f in obj, (ty, f, obj)
        a_new = events[0][1]["alert"]
        assert a_new["title"] == "h1 down" and a_new["alert_severity"] == "Critical"
        assert a_new["data_source_id"] == iid and a_new["channel_id"] == cid
        assert a_new["data_source_type"] == "standard" and a_new["channel_name"] == "ops"
        assert a_new["labels"] == labels and a_new["event_cnt"] == 1
        i_new = events[1][1]["incident"]
        assert a_new["incident"]["incident_id"] == i_new["incident_id"]
        assert i_new["title"] == "h1 down" and i_new["labels"] == labels
        assert i_new["incident_severity"] == "Critical" and i_new["progress"] == "Triggered"
        assert i_new["alert_cnt"] == 1 and i_new["group_method"] == "n"
        assert i_new["channel_id"] == cid and i_new["detail_url"].endswith(i_new["incident_id"])
        assert events[2][1]["alert"]["incident"]["incident_id"] == i_new["incident_id"]
        upd = [b["alert"] for ty, b in events if ty == "a_update"]
        assert [u["alert_status"] for u in upd] == ["Warning", "Warning", "Ok"]
        assert upd[1]["description"] == "cpu 2"
        ok = upd[2]
        assert ok["progress"] == "Closed" and ok["end_time"] > 0 and ok["close_time"] > 0
        assert ok["alert_severity"] == "Warning" and ok["event_cnt"] == 4
        assert ok["labels"] == labels and ok["title"] == "h1 down"
        rslv = events[6][1]["incident"]
        assert rslv["progress"] == "Closed" and rslv["incident_status"] == "Ok"
        assert rslv["end_time"] > 0 and rslv["close_time"] > 0
        assert rslv["incident_severity"] == "Critical", "severity keeps the highest seen"
        feed = s.feed(i_new["incident_id"])
        assert feed == [("i_new", 0, {"severity": "Critical", "title": "h1 down"}),
                        ("i_rslv", 0, {"from": "event"})], feed
        first_id = a_new["alert_id"]
        assert s.feed(first_id) == [("a_new", 0, {"severity": "Critical", "status": "Critical"})]
        # Four events stored for the first alert, one for the second; drops stored nothing.
        assert s.rows("SELECT event_status FROM alert_events WHERE alert_id = ? ORDER BY seq",
                      (first_id,)) == [("Critical",), ("Warning",), ("Warning",), ("Ok",)]
        assert s.count("alert_events") == 5
        second = events[7][1]["alert"]
        assert second["alert_id"] != first_id and second["event_cnt"] == 1
        assert events[8][1]["incident"]["incident_id"] != i_new["incident_id"]
        # The incident's bookkeeping.
        inc = s.incident(i_new["incident_id"])
        assert inc["integration_ids"] == [iid] and inc["integration_types"] == ["standard"]
        assert inc["active_alert_cnt"] == 0 and inc["alert_event_cnt"] == 4
        assert inc["last_time"] > 0
        # The first raw event, an AlertEventItem: no longer a stored document
        # but a row of columns without integration_type, so it is read as
        # /alert/event/list renders it from that row.
        first_event = s.rows("SELECT event_id FROM alert_events WHERE alert_id = ? ORDER BY seq",
                             (first_id,))[0][0]
        t.start()
        items = t.api("/alert/event/list", {"alert_id": first_id}).data["items"]
        (item,) = [i for i in items if i["event_id"] == first_event]
        for f, want in (("alert_id", first_id), ("channel_id", cid), ("integration_id", iid),
                        ("integration_type", "standard"), ("title", "h1 down"),
                        ("title_rule", "$host down"), ("description", "cpu"), ("alert_key", "k1"),
                        ("event_severity", "Critical"), ("event_status", "Critical"),
                        ("labels", labels), ("images", [])):
            assert item[f] == want, (f, item)
        assert len(item["event_id"]) == 24 and 10 ** 9 < item["event_time"] < 10 ** 11


def test_grouping_n_gives_each_alert_its_incident():
    with keeping_bodies() as t:
        _, _, key = setup(t, group={"method": "n"})
        for k in ("a", "b", "c"):
            t.push(key, ev("Info", k, labels={"host": "same"}))
        t.stop()
        s = Store(t)
        incs = s.incidents()
        assert len(incs) == 3 and all(i["alert_cnt"] == 1 for i in incs)
        assert all(i["group_method"] == "n" for i in incs)
        assert s.types() == ["a_new", "i_new", "a_merge"] * 3
        assert s.group_keys() == 0


def test_grouping_p():
    group = {"method": "p", "equals": [["service"], ["host", "dc"]], "time_window": 10}
    with keeping_bodies() as t:
        cid, _, key = setup(t, group=group)
        t.push(key, ev("Warning", "A", title="$service slow", labels={"service": "api",
                                                                       "host": "h9"}))
        t.push(key, ev("Critical", "B", labels={"service": "api", "host": "h8"}))
        t.push(key, ev("Info", "C", labels={"service": "db", "host": "h1", "dc": "eu"}))
        t.push(key, ev("Info", "D", labels={"service": "mq", "host": "h1", "dc": "eu"}))
        t.push(key, ev("Info", "E", title="bare"))  # no labels: service "" and host/dc ""
        t.push(key, ev("Info", "F", title="bare too"))
        t.stop()
        s = Store(t)
        al = s.alerts()
        inc = {k: al[k]["incident_id"] for k in "ABCDEF"}
        assert inc["A"] == inc["B"] and inc["C"] == inc["D"] and inc["E"] == inc["F"], inc
        assert len({inc["A"], inc["C"], inc["E"]}) == 3, inc
        doc = s.incident(inc["A"])
        assert doc["title"] == "api slow" and doc["labels"] == {"service": "api", "host": "h9"}
        assert doc["alert_cnt"] == 2 and doc["group_method"] == "p"
        assert doc["incident_severity"] == "Critical" and doc["incident_status"] == "Critical"
        assert doc["active_alert_cnt"] == 2
        feed = s.feed(inc["A"])
        assert [f[0] for f in feed] == ["i_new", "a_merge"], feed
        assert feed[1][2]["alert_id"] == al["B"]["alert_id"]
        # Grouping keys: one per applicable list of each incident's first alert.
        assert s.group_keys() == 6
        assert s.types() == (["a_new", "i_new", "a_merge", "a_new", "a_merge"] * 3)

        # Recovery of one alert lowers the status, not the severity; the last
        # closes the incident and frees its bucket.
        t.start()
        t.push(key, ev("Ok", "B"))
        t.stop()
        doc = Store(t).incident(inc["A"])
        assert doc["incident_status"] == "Warning" and doc["incident_severity"] == "Critical"
        assert doc["progress"] == "Triggered" and doc["active_alert_cnt"] == 1
        t.start()
        r = t.api("/incident/info", {"incident_id": inc["A"]})
        validate_response("/incident/info", r)
        assert r.data["alert_cnt"] == 2 and r.data["group_method"] == "p"
        t.push(key, ev("Ok", "A"))
        # A's incident is closed now: a new one, with buckets of its own.
        t.push(key, ev("Info", "G", labels={"service": "api", "host": "h7", "dc": "us"}))
        t.stop()
        s = Store(t)
        doc = s.incident(inc["A"])
        assert doc["progress"] == "Closed" and doc["incident_status"] == "Ok"
        assert s.feed(inc["A"])[-1] == ("i_rslv", 0, {"from": "event"})
        g = s.open_alert("G")["incident_id"]
        assert g != inc["A"]
        assert doc["group_keys"] == []
        # G's buckets (two keys) are in its channel.
        gi = s.incident(g)
        assert len(gi["group_keys"]) == 2 and gi["channel_id"] == cid


def test_all_equals_required_and_method_i():
    with keeping_bodies() as t:
        _, _, key = setup(t, group={"method": "p", "equals": [["service", "env"]],
                                    "all_equals_required": True})
        _, _, ikey = setup(t, group={"method": "i", "i_keys": ["host"]}, name="intel")
        t.push(key, ev("Info", "1", labels={"service": "api"}))
        t.push(key, ev("Info", "2", labels={"service": "api"}))
        t.push(key, ev("Info", "3", labels={"service": "api", "env": "prod"}))
        t.push(key, ev("Info", "4", labels={"service": "api", "env": "prod", "x": "y"}))
        t.push(ikey, ev("Info", "i1", labels={"host": "h1", "a": "1"}))
        t.push(ikey, ev("Info", "i2", labels={"host": "h1", "a": "2"}))
        t.stop()
        al = Store(t).alerts()
        inc = {k: al[k]["incident_id"] for k in al}
        assert inc["1"] != inc["2"], "a missing required key groups nothing"
        assert inc["3"] == inc["4"] and inc["3"] not in (inc["1"], inc["2"])
        assert inc["i1"] == inc["i2"]
        doc = Store(t).incident(inc["i1"])
        assert doc["group_method"] == "i" and doc["alert_cnt"] == 2


def test_storm_fires_once_per_threshold():
    group = {"method": "p", "equals": [["svc"]], "storm_threshold": 2,
             "storm_thresholds": [3, 5]}
    with keeping_bodies() as t:
        _, _, key = setup(t, group=group)
        for i in range(7):
            t.push(key, ev("Warning", "s%d" % i, labels={"svc": "api"}))
        t.stop()
        s = Store(t)
        storms = [b["incident"]["alert_cnt"] for ty, b in s.events() if ty == "i_storm"]
        assert storms == [2, 3, 5], storms
        iid = s.incidents()[0]["incident_id"]
        assert [d for ty, _, d in s.feed(iid) if ty == "i_storm"] == \
            [{"threshold": 2}, {"threshold": 3}, {"threshold": 5}]
        assert sorted(s.incident(iid)["storm_fired"]) == [2, 3, 5]
        # The warning follows the a_merge of the alert that reached it.
        types = s.types()
        at = types.index("i_storm")
        assert types[at - 1] == "a_merge" and types[at - 2] == "a_new"


def test_manually_closed_incident_takes_no_events():
    with keeping_bodies() as t:
        _, _, key = setup(t)
        t.push(key, ev("Critical", "m", labels={"host": "h1"}))
        t.stop()
        first = Store(t).open_alert("m")
        inc1 = first["incident_id"]
        t.start()
        t.api("/incident/resolve", {"incident_ids": [inc1]})
        t.push(key, ev("Warning", "m", labels={"host": "h1"}))
        t.stop()
        s = Store(t)
        old = s.alert(first["alert_id"])
        assert old["progress"] == "Closed" and old["close_time"] > 0
        assert old["alert_status"] == "Critical" and old["end_time"] == 0, "closed, not recovered"
        new = s.open_alert("m")
        assert new["alert_id"] != first["alert_id"] and new["alert_severity"] == "Warning"
        assert new["incident_id"] != inc1
        types = s.types()
        assert types[-5:] == ["i_rslv", "a_close", "a_new", "i_new", "a_merge"], types
        closed_body = s.events()[-4][1]
        assert "person" not in closed_body
        assert [f[0] for f in s.feed(first["alert_id"])] == ["a_new", "a_close"]
        # The old incident stays closed, its event log untouched by the event.
        assert s.incident(inc1)["progress"] == "Closed"
        # An Ok for an alert of a hand-closed incident closes it and recovers nothing.
        inc2 = new["incident_id"]
        t.start()
        t.api("/incident/resolve", {"incident_ids": [inc2]})
        t.push(key, ev("Ok", "m"))
        t.stop()
        s = Store(t)
        assert s.open_alert("m") is None
        assert s.alert(new["alert_id"])["progress"] == "Closed"
        assert s.types()[-2:] == ["i_rslv", "a_close"]


def test_restart_keeps_alerts_incidents_events():
    with keeping_bodies() as t:
        _, _, key = setup(t, group={"method": "p", "equals": [["svc"]]})
        t.push(key, ev("Critical", "r1", labels={"svc": "a"}))
        t.push(key, ev("Critical", "r2", labels={"svc": "a"}))
        t.restart()
        t.push(key, ev("Critical", "r1", labels={"svc": "a"}))  # identical across a restart
        t.push(key, ev("Warning", "r1", labels={"svc": "a"}))
        t.push(key, ev("Info", "r3", labels={"svc": "a"}))  # still groups into the same
        t.restart()
        t.push(key, ev("Ok", "r1"))
        t.push(key, ev("Ok", "r2"))
        t.push(key, ev("Ok", "r3"))
        t.stop()
        s = Store(t)
        assert s.types() == ["a_new", "i_new", "a_merge", "a_new", "a_merge", "a_update",
                             "a_new", "a_merge", "a_update", "a_update", "a_update", "i_rslv"]
        incs = s.incidents()
        assert len(incs) == 1 and incs[0]["alert_cnt"] == 3 and incs[0]["progress"] == "Closed"
        assert s.count("alert_events") == 7


if __name__ == "__main__":
    run([test_alert_lifecycle_and_event_log, test_grouping_n_gives_each_alert_its_incident,
         test_grouping_p, test_all_equals_required_and_method_i,
         test_storm_fires_once_per_threshold, test_manually_closed_incident_takes_no_events,
         test_restart_keeps_alerts_incidents_events])
