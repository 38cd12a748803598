"""test_migration_007.py: an install made before migrations 006 and 007
(documents) upgrades to compact rows with nothing lost (issue 10).

fixtures/pre007.sql is the database of a real tocsin at commit 5a7d3d3 after
a small history pushed through its APIs (fixtures/make_pre007.py says how);
fixtures/pre007.json is what that tocsin answered to every read call on it.
Here a new tocsin starts on that database (migration 007 runs at start) and
must answer the same, field for field; then the upgraded install must go
on where the old one stopped: an identical event is still dropped, a
changed one updates the same alert, a new alert still groups into the old
open incident, and each lane's tocsin-sequence continues.

Both tests upgrade a SQLite file: on another store they skip.
"""
import json
import os
import sqlite3
import tempfile
import time

from receiver import Receiver
from tocsin_test import Tocsin, run, sqlite_only, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")


def snapshot(t, at):
    """Every read answer of the fixture's objects (at: a time inside it)."""
    out = {}
    incs = t.api("/incident/list", {"start_time": at - 3600, "end_time": at + 3600,
                                    "limit": 100, "asc": True}).data
    out["incident_list"] = incs
    for i in incs["items"]:
        iid = i["incident_id"]
        out["incident_info " + iid] = t.api("/incident/info", {"incident_id": iid}).data
        out["incident_feed " + iid] = t.api("/incident/feed", {
            "incident_id": iid, "asc": True, "limit": 100}).data
        out["incident_alerts " + iid] = t.api("/incident/alert/list", {
            "incident_id": iid, "include_events": True}).data
    als = t.api("/alert/list", {"start_time": at - 3600, "end_time": at + 3600, "limit": 100,
                                "asc": True}).data
    out["alert_list"] = als
    for a in als["items"]:
        aid = a["alert_id"]
        out["alert_info " + aid] = t.api("/alert/info", {"alert_id": aid}).data
        out["alert_feed " + aid] = t.api("/alert/feed", {"alert_id": aid, "asc": True,
                                                         "limit": 100}).data
        out["alert_events " + aid] = t.api("/alert/event/list", {"alert_id": aid}).data
    return out


def normalize(v):
    """detail_url carries the base URL, whose port differs from run to run.
    Raw events of the same second came out in the order of their random ids
    before 007 (ids were time and random bytes); they come newest first now.
    So a list of raw events is compared in one order, (event_time, event_id)."""
    if isinstance(v, dict):
        return {k: (x.split("/#/", 1)[1] if k == "detail_url" and isinstance(x, str) else
                    normalize(x)) for k, x in v.items()}
    if isinstance(v, list):
        items = [normalize(x) for x in v]
        if items and all(isinstance(x, dict) and "event_time" in x and "event_id" in x and
                         "event_status" in x for x in items):
            items.sort(key=lambda x: (x["event_time"], x["event_id"]))
        return items
    return v


def load_fixture(folder):
    con = sqlite3.connect(os.path.join(folder, "tocsin.db"))
    with open(os.path.join(FIXTURES, "pre007.sql")) as f:
        con.executescript(f.read())
    at = con.execute("SELECT MAX(created_at) FROM incidents").fetchone()[0]
    con.close()
    return at


# Fields answers gained after the fixture was made (additive: the upgrade
# must keep every old one): responder_ids (escalation, issue 12) and
# data_source_id (the incident's source, Flashduty's sample fields, issue 12).
ADDED_SINCE = {"responder_ids", "data_source_id"}

# Fields whose meaning a later issue changed on purpose, so the old answer
# is not the reference: an incident's dedup_key and equals_md5 were always ""
# and are now its grouping key and that key's MD5 (docs/ARCHITECTURE.md,
# "Bodies: the sample-only fields").
CHANGED_SINCE = {"dedup_key", "equals_md5"}


def diff(before, after, path=""):
    """The first difference between two answers, as text (None: same)."""
    if type(before) is not type(after):
        return "%s: %r became %r" % (path, before, after)
    if isinstance(before, dict):
        for k in sorted(set(before) | set(after)):
            if k not in after:
                return "%s.%s: missing after" % (path, k)
            if k not in before:
                if k in ADDED_SINCE:
                    continue
                return "%s.%s: new after (%r)" % (path, k, after[k])
            if k in CHANGED_SINCE:
                continue
            d = diff(before[k], after[k], path + "." + k)
            if d:
                return d
        return None
    if isinstance(before, list):
        if len(before) != len(after):
            return "%s: %d items became %d" % (path, len(before), len(after))
        for i, (b, a) in enumerate(zip(before, after)):
            d = diff(b, a, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if before == after else "%s: %r became %r" % (path, before, after)


def test_same_answers_after_upgrade():
    sqlite_only("migration 007 of a SQLite file (fixtures/pre007.sql)")
    folder = tempfile.mkdtemp(prefix="tocsin-e2e-")
    at = load_fixture(folder)
    with open(os.path.join(FIXTURES, "pre007.json")) as f:
        before = json.load(f)
    with Tocsin(data_dir=folder) as t:
        after = snapshot(t, at)
        assert sorted(after) == sorted(before), (sorted(set(before) ^ set(after)))
        for key in sorted(before):
            d = diff(normalize(before[key]), normalize(after[key]), key)
            assert d is None, d
        version = sqlite3.connect(os.path.join(folder, "tocsin.db")).execute(
            "SELECT MAX(version) FROM schema_migrations").fetchone()[0]
        assert version >= 7, version


def source_key(folder, channel_name):
    con = sqlite3.connect(os.path.join(folder, "tocsin.db"))
    try:
        return con.execute(
            "SELECT i.integration_key FROM integrations i JOIN channels c"
            " ON c.channel_id = i.channel_id WHERE c.channel_name = ?"
            " AND i.type = 'alert_standard'", (channel_name,)).fetchone()[0]
    finally:
        con.close()


def test_goes_on_where_it_stopped():
    sqlite_only("migration 007 of a SQLite file (fixtures/pre007.sql)")
    folder = tempfile.mkdtemp(prefix="tocsin-e2e-")
    at = load_fixture(folder)
    key = source_key(folder, "grouped")
    with Receiver() as rx, Tocsin(data_dir=folder, args=["--allow-private-targets"]) as t:
        old = snapshot(t, at)
        grouped = [i for i in old["incident_list"]["items"] if i["alert_cnt"] == 3][0]
        hooks = t.api("/integration/list", {"type": "webhook_incident"}).data["items"]
        hook = [h for h in hooks if h["name"] == "inc-hook"][0]["integration_id"]
        con = sqlite3.connect(os.path.join(folder, "tocsin.db"))
        sent = con.execute("SELECT MAX(sequence) FROM webhook_history WHERE ref_id = ?"
                           " AND integration_id = ?", (grouped["incident_id"], hook)).fetchone()[0]
        con.close()
        assert sent >= 2, sent
        t.api("/integration/update", {"integration_id": hook, "endpoint": rx.url("ok/inc")})
        # The identical repeat of db-1's last event is dropped (its hash was
        # carried over), a changed one updates the same alert.
        db1 = {"title_rule": "db slow on $host", "event_status": "Warning", "alert_key": "db-1",
               "labels": {"service": "db", "host": "h1"}, "description": "slow queries"}
        alerts_before = {a["alert_key"]: a["alert_id"] for a in old["alert_list"]["items"]}
        events_before = len(old["alert_events " + alerts_before["db-1"]]["items"])
        t.push(key, db1)
        db1["event_status"] = "Critical"
        t.push(key, db1)
        events = t.api("/alert/event/list", {"alert_id": alerts_before["db-1"]}).data["items"]
        assert len(events) == events_before + 1, (events_before, events)
        # A new alert of the same service joins the old open incident
        # (its grouping bucket was rebuilt from the stored keys).
        t.push(key, {"title_rule": "db slow on $host", "event_status": "Warning",
                     "alert_key": "db-new", "labels": {"service": "db", "host": "h9"}})
        info = t.api("/incident/info", {"incident_id": grouped["incident_id"]}).data
        assert info["alert_cnt"] == 4, info["alert_cnt"]
        # The incident's lane goes on from its last tocsin-sequence.
        t.api("/incident/comment", {"incident_ids": [grouped["incident_id"]],
                                    "comment": "after the upgrade"})
        got = wait_until(lambda: [r for r in rx.records()
                                  if json.loads(r["body"])["incident"]["incident_id"] ==
                                  grouped["incident_id"]], timeout=30,
                         what="a push of the old incident")
        assert json.loads(got[0]["body"])["event_type"] == "i_comm", got[0]["body"]
        assert int(got[0]["headers"]["tocsin-sequence"]) == sent + 1, (sent, got[0]["headers"])


if __name__ == "__main__":
    run([test_same_answers_after_upgrade, test_goes_on_where_it_stopped])
