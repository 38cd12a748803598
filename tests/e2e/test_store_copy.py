"""test_store_copy.py: `tocsin store copy` moves a running SQLite install
into PostgreSQL, and tocsin carries on there (src/store/copy.c).

A tocsin on SQLite has people, app keys, channels, alert sources, two
webhooks whose endpoint is down (nothing listens on its port yet), incidents
and alerts acknowledged, commented and resolved: every push waits in the
outbox. Pushes keep coming while `tocsin store copy` copies the live install
into an empty database. Then the SQLite tocsin stops, and tocsin starts on
the copy with the endpoint up: every object, key and person is there, every
pending delivery arrives with the event id and tocsin-sequence it was given
on SQLite, in each lane's order, and new pushes get ids above the copied
ones. A second copy into the same database is refused and changes nothing;
a copy of the stopped install matches it row for row; a source with a table
the copy does not know is refused.

The test needs both engines: it runs on the PostgreSQL run (e2e_pg) and
skips on the SQLite one.
"""
import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

from receiver import Receiver
from tocsin_test import (BIN, ENGINE, Tocsin, free_port, pg_connect, pg_create_database,
                         pg_database_for, pg_drop_database, pg_url, run, skip, wait_until)

TABLES = ["persons", "app_keys", "channels", "integrations", "subscriptions", "incidents",
          "alerts", "alert_events", "events", "deliveries", "channel_rules", "webhook_history",
          "replays", "replay_items", "changes", "change_events", "escalate_rules",
          "incident_escalations"]
# Long enough that nothing gives up while the endpoint is down, short
# enough that the copy's pending pushes go out soon after the start on it.
RETRY = {"max_attempts": 20, "schedule_s": [1, 5]}


def needs_postgres():
    if ENGINE != "postgres":
        skip("copies into PostgreSQL: needs the server of the e2e_pg run (this run's store is %s)"
             % ENGINE)


def store_copy(source, url, timeout=300):
    return subprocess.run([BIN, "store", "copy", "--from", source, "--to", url],
                          capture_output=True, text=True, timeout=timeout)


def pg_query(dbname, sql, params=()):
    with contextlib.closing(pg_connect(dbname)) as con:
        cur = con.cursor()
        cur.execute(sql, params)
        return [tuple(r) for r in cur.fetchall()]


def pg_counts(dbname):
    return {t: pg_query(dbname, 'SELECT COUNT(*) FROM "%s"' % t)[0][0] for t in TABLES}


def sqlite_query(path, sql, params=()):
    with contextlib.closing(sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)) as c:
        return [tuple(r) for r in c.execute(sql, params).fetchall()]


def columns(path, table):
    return [r[1] for r in sqlite_query(path, "SELECT * FROM pragma_table_info(?)", (table,))]


def rows_sorted(rows):
    return sorted(rows, key=lambda r: tuple((v is None, 0 if v is None else v) for v in r))


def make_webhook(t, kind, endpoint):
    r = t.api("/integration/create", {"type": kind, "name": "%s-%d" % (kind, time.time_ns()),
                                      "endpoint": endpoint, "retry": RETRY})
    return r.data["integration_id"]


def push(t, key, alert_key, status="Critical"):
    t.push(key, {"title_rule": "copy %s" % alert_key, "event_status": status,
                 "alert_key": alert_key, "labels": {"host": alert_key}})


def window():
    now = int(time.time())
    return {"start_time": now - 3600, "end_time": now + 3600}


def list_all(t, path, body=None, key=None):
    """Every item of a paged list call."""
    items, p = [], 1
    while True:
        b = dict(body or {})
        b.update({"p": p, "limit": 100})
        d = t.api(path, b, key=key).data
        items += d["items"]
        if not d.get("has_next_page") or not d["items"]:
            return items
        p += 1


def incident_of(t, alert_key):
    for a in list_all(t, "/alert/list", window()):
        if a["alert_key"] == alert_key:
            return a["incident"]["incident_id"]
    raise AssertionError("no alert %s" % alert_key)


class Pusher(threading.Thread):
    """Pushes new alerts into a running tocsin until stopped."""

    def __init__(self, t, key):
        super().__init__(daemon=True)
        self.t, self.key = t, key
        self.n = 0
        self.error = None
        self.halt = threading.Event()

    def run(self):
        try:
            while not self.halt.is_set():
                push(self.t, self.key, "live-%d" % self.n)
                self.n += 1
                time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported by stop()
            self.error = e

    def stop(self):
        self.halt.set()
        self.join(timeout=60)
        assert not self.is_alive(), "the pusher did not stop"
        assert self.error is None, "pushing failed: %r" % self.error


def without_urls(doc):
    """An object as the API shows it, without its detail_url (which names
    the serving tocsin's address)."""
    return {k: v for k, v in doc.items() if k != "detail_url"}


def snapshot_api(t, incidents):
    """What the API says of the objects made before the copy."""
    return {
        "incidents": {i: without_urls(t.api("/incident/info", {"incident_id": i}).data)
                      for i in incidents},
        "feeds": {i: t.api("/incident/feed", {"incident_id": i, "limit": 100,
                                              "asc": True}).data["items"] for i in incidents},
        "channels": sorted((c["channel_id"], c["channel_name"])
                           for c in list_all(t, "/channel/list")),
        "integrations": sorted((i["integration_id"], i["type"], i["name"])
                               for i in list_all(t, "/integration/list")),
        "members": sorted((m["member_id"], m["member_name"], m["email"])
                          for m in list_all(t, "/member/list")),
        "changes": t.api("/change/list", {"start_time": int(time.time()) - 86400,
                                          "end_time": int(time.time()) + 60,
                                          "include_events": True}).data["items"],
    }


def push_change(t, key, change_key, status):
    r = t.request("POST", "/event/push/change/standard?integration_key=%s" % key,
                  {"change_key": change_key, "change_status": status, "title": change_key})
    assert r.status == 200, r


def test_copy_a_live_install_then_serve_on_postgres():
    needs_postgres()
    rx_port = free_port()  # the endpoint: down until the receiver starts on it
    pg_dir = tempfile.mkdtemp(prefix="tocsin-e2e-pg-")
    target = pg_database_for(pg_dir)
    check_db = target + "_check"
    keep = False
    src = Tocsin(engine="sqlite", args=["--allow-private-targets"])
    src_db = os.path.join(src.data_dir, "tocsin.db")
    try:
        # ---- a SQLite install with a bit of everything ------------------------
        payments = src.make_channel("payments")
        search = src.make_channel("search")
        live = src.make_channel("live")
        _, key = src.make_source(payments)
        _, key2 = src.make_source(search)
        _, key_live = src.make_source(live)
        member_id, member_key = src.make_member("Ada Copy")
        _, chg_key = src.make_source(payments, kind="change_standard")
        push_change(src, chg_key, "CHG-1", "Processing")
        push_change(src, chg_key, "CHG-1", "Done")
        # An escalation rule whose delay outlasts the test: the search
        # incidents carry a pending step into the copy.
        src.api("/channel/escalate/rule/create", {
            "channel_id": search, "rule_name": "copy", "aggr_window": 3600,
            "layers": [{"target": {"person_ids": [member_id]}}]})
        inc_hook = make_webhook(src, "webhook_incident", "http://127.0.0.1:%d/ok/inc" % rx_port)
        alert_hook = make_webhook(src, "webhook_alert", "http://127.0.0.1:%d/ok/alert" % rx_port)
        # Channel rules (one deleted: its row is copied too), none matching a push.
        src.api("/channel/unsubscribe/rule/create", {
            "channel_id": payments, "rule_name": "drop test",
            "filters": [[{"key": "labels.env", "oper": "IN", "vals": ["test"]}]]})
        gone = src.api("/channel/silence/rule/create", {
            "channel_id": search, "rule_name": "maintenance",
            "filters": [[{"key": "labels.host", "oper": "IN", "vals": ["/^never/"]}]],
            "time_filters": [{"start": "22:00", "end": "02:00", "repeat": [0, 6]}]}).data["rule_id"]
        src.api("/channel/silence/rule/delete", {"channel_id": search, "rule_id": gone})
        for i in range(6):
            push(src, key, "a-%d" % i)
        for i in range(3):
            push(src, key2, "s-%d" % i)
        push(src, key2, "s-0", status="Ok")
        incs = [incident_of(src, "a-%d" % i) for i in range(6)]
        src.api("/incident/ack", {"incident_ids": incs[:2]}, key=member_key)
        src.api("/incident/comment", {"incident_ids": [incs[0]], "comment": "moving house"})
        src.api("/incident/resolve", {"incident_ids": [incs[3]]})
        # The endpoint is down: every push waits in the outbox, retried.
        wait_until(lambda: src.db_value("SELECT COUNT(*) FROM deliveries WHERE attempts > 0") > 0,
                   timeout=30, what="the first failed attempts")
        before = snapshot_api(src, incs)

        # ---- copy it while it runs ---------------------------------------------
        assert pg_create_database(target)
        pusher = Pusher(src, key_live)
        pusher.start()
        try:
            wait_until(lambda: pusher.n >= 5 or pusher.error, timeout=30, what="live pushes")
            copy = store_copy("sqlite:" + src_db, pg_url(target))
            at_copy = pusher.n
            wait_until(lambda: pusher.n >= at_copy + 5 or pusher.error, timeout=30,
                       what="pushes after the copy")
        finally:
            pusher.stop()
        assert copy.returncode == 0, "store copy failed (%d):\n%s\n%s" % (
            copy.returncode, copy.stdout, copy.stderr)
        print(copy.stdout, end="")
        reported = {m.group(1): int(m.group(2))
                    for m in re.finditer(r"^\s+(\w+)\s+(\d+) rows", copy.stdout, re.M)}
        assert sorted(reported) == sorted(TABLES), copy.stdout
        assert re.search(r"^copied \d+ rows of 18 tables", copy.stdout, re.M), copy.stdout
        src.stop()

        # ---- the copy is one consistent snapshot ---------------------------------
        counts = pg_counts(target)
        assert counts == reported, (counts, reported)
        src_counts = {t: sqlite_query(src_db, 'SELECT COUNT(*) FROM "%s"' % t)[0][0]
                      for t in TABLES}
        assert counts["events"] < src_counts["events"], "pushes after the copy are not in it"
        assert counts["persons"] == 2 and counts["app_keys"] == 2 and counts["channels"] == 3
        assert counts["integrations"] == 6 and counts["alerts"] >= 14
        for sql in ("SELECT COUNT(*) FROM deliveries d WHERE NOT EXISTS"
                    " (SELECT 1 FROM events e WHERE e.seq = d.event_seq)",
                    "SELECT COUNT(*) FROM alerts a WHERE a.incident_id <> '' AND NOT EXISTS"
                    " (SELECT 1 FROM incidents i WHERE i.incident_id = a.incident_id)",
                    "SELECT COUNT(*) FROM alert_events e WHERE NOT EXISTS"
                    " (SELECT 1 FROM alerts a WHERE a.alert_id = e.alert_id)"):
            assert pg_query(target, sql)[0][0] == 0, "torn snapshot: " + sql
        # The event log, never changed once written, is exactly SQLite's up to the snapshot.
        cols = ", ".join('"%s"' % c for c in columns(src_db, "events"))
        top = pg_query(target, "SELECT MAX(seq) FROM events")[0][0]
        assert pg_query(target, "SELECT %s FROM events ORDER BY seq" % cols) == sqlite_query(
            src_db, "SELECT %s FROM events WHERE seq <= ? ORDER BY seq" % cols, (top,))

        # ---- a second copy into it is refused, and changes nothing ----------------
        again = store_copy("sqlite:" + src_db, pg_url(target))
        assert again.returncode != 0, again.stdout
        assert "target database is not empty: table persons has rows" in again.stderr, \
            again.stderr
        assert pg_counts(target) == counts

        # ---- a copy of the stopped install is the install, row for row --------------
        assert pg_create_database(check_db)
        full = store_copy(src.data_dir, pg_url(check_db))  # a data folder works too
        assert full.returncode == 0, full.stderr
        for table in TABLES:
            cols = ", ".join('"%s"' % c for c in columns(src_db, table))
            want = rows_sorted(sqlite_query(src_db, 'SELECT %s FROM "%s"' % (cols, table)))
            got = rows_sorted(pg_query(check_db, 'SELECT %s FROM "%s"' % (cols, table)))
            assert got == want, "table %s differs after the copy" % table
        pg_drop_database(check_db)

        # ---- a table the copy does not know stops it ------------------------------------
        odd_dir = tempfile.mkdtemp(prefix="tocsin-e2e-odd-")
        try:
            odd = os.path.join(odd_dir, "tocsin.db")
            shutil.copy(src_db, odd)
            with contextlib.closing(sqlite3.connect(odd)) as c:
                c.execute("CREATE TABLE mystery (x INTEGER)")
                c.commit()
            assert pg_create_database(check_db)
            r = store_copy("sqlite:" + odd, pg_url(check_db))
            assert r.returncode != 0 and "mystery" in r.stderr, r.stderr
            # Refused before the target was touched at all.
            assert pg_query(check_db, "SELECT COUNT(*) FROM pg_tables"
                            " WHERE schemaname = current_schema()")[0][0] == 0
        finally:
            shutil.rmtree(odd_dir, ignore_errors=True)
            pg_drop_database(check_db)

        # What waits in the copy's outbox, and the highest ids it holds.
        pending = pg_query(
            target,
            "SELECT d.integration_id, d.lane, d.sequence, e.event_id, e.body FROM deliveries d"
            " JOIN events e ON e.seq = d.event_seq WHERE d.status = 'pending'"
            " ORDER BY d.delivery_id")
        assert len(pending) == counts["deliveries"], "nothing was delivered while down"
        assert {p[0] for p in pending} == {inc_hook, alert_hook}
        assert any(p[2] > 1 for p in pending), "lanes with several pushes waiting"
        top_ids = {
            "alerts": "id", "incidents": "id", "events": "seq", "deliveries": "delivery_id",
            "alert_events": "seq", "webhook_history": "attempt_id", "persons": "person_id",
            "channels": "channel_id", "integrations": "integration_id", "changes": "id",
            "change_events": "seq"}
        top_ids = {t: pg_query(target, 'SELECT MAX("%s") FROM "%s"' % (c, t))[0][0]
                   for t, c in top_ids.items()}
        assert top_ids["webhook_history"], "failed attempts were recorded while down"

        # ---- tocsin on the copy, with the endpoint up -----------------------------------
        with Receiver(port=rx_port) as rx, \
                Tocsin(data_dir=pg_dir, engine="postgres",
                       args=["--allow-private-targets"]) as t:
            paths = {inc_hook: "/ok/inc", alert_hook: "/ok/alert"}
            expected = {}  # (path, event_id) -> (lane, sequence, body)
            for hook, lane, seq, event_id, body in pending:
                expected[(paths[hook], event_id)] = (lane, seq, body)

            def arrived():
                got = {(r["path"], r["headers"]["webhook-id"]) for r in rx.records()}
                return set(expected) <= got
            wait_until(arrived, timeout=60, interval=0.2, what="every copied pending push")
            t.wait_settled(timeout=60)
            lanes = {}
            for r in rx.records():
                k = (r["path"], r["headers"]["webhook-id"])
                assert k in expected, "a push that was not pending in the copy: %r" % (k,)
                lane, seq, body = expected[k]
                assert r["headers"]["tocsin-sequence"] == str(seq), (k, r["headers"], seq)
                assert r["body"] == body
                lanes.setdefault((r["path"], lane), []).append(seq)
            assert len(rx.records()) == len(expected), "each pending push once"
            for lane, seqs in lanes.items():
                assert seqs == sorted(seqs), "lane %r out of order: %r" % (lane, seqs)
            assert t.db_value("SELECT COUNT(*) FROM deliveries WHERE status <> 'delivered'") == 0

            # Every object, key and person is there.
            after = snapshot_api(t, incs)
            for part in before:
                assert after[part] == before[part], "%s differ after the copy:\n%r\n%r" % (
                    part, before[part], after[part])
            assert t.api("/incident/list", window(), key=member_key).status == 200
            n_inc = t.api("/incident/list", dict(window(), limit=1)).data["total"]
            n_alerts = t.api("/alert/list", dict(window(), limit=1)).data["total"]
            assert (n_inc, n_alerts) == (counts["incidents"], counts["alerts"])
            acked = t.api("/incident/info", {"incident_id": incs[0]}).data
            assert acked["progress"] == "Processing" and acked["ack_time"] > 0

            # New pushes: fresh ids above the copied ones, lanes continued.
            lane_top = max(p[2] for p in pending if p[0] == inc_hook and p[1] == incs[2])
            n_before = len(rx.records())
            t.api("/incident/ack", {"incident_ids": [incs[2]]})
            push(t, key, "after-copy")
            push_change(t, chg_key, "CHG-2", "Planned")
            t.make_channel("after copy")
            t.make_member("Grace After")
            t.wait_settled(timeout=60)
            new = rx.records()[n_before:]
            acks = [r for r in new if r["path"] == "/ok/inc"
                    and json.loads(r["body"])["event_type"] == "i_ack"]
            assert len(acks) == 1 and acks[0]["headers"]["tocsin-sequence"] == str(lane_top + 1)
            fresh = incident_of(t, "after-copy")
            news = [r for r in new if r["path"] == "/ok/inc"
                    and json.loads(r["body"])["incident"]["incident_id"] == fresh]
            assert [r["headers"]["tocsin-sequence"] for r in news] == ["1"], news
            assert any(r["path"] == "/ok/alert" for r in new), "the new alert was pushed"
            for table, col in (("alerts", "id"), ("incidents", "id"), ("events", "seq"),
                               ("deliveries", "delivery_id"), ("alert_events", "seq"),
                               ("webhook_history", "attempt_id"), ("persons", "person_id"),
                               ("channels", "channel_id"), ("changes", "id"),
                               ("change_events", "seq")):
                top = t.db_value('SELECT MAX("%s") FROM "%s"' % (col, table))
                assert top > top_ids[table], "%s: no new id above the copied %d" % (
                    table, top_ids[table])
            newest_history = t.db_query(
                "SELECT attempt_id FROM webhook_history WHERE status = 'success'")
            assert min(r[0] for r in newest_history) > top_ids["webhook_history"]
            assert t.db_value("SELECT MAX(id) FROM incidents") == t.db_value(
                "SELECT id FROM incidents WHERE incident_id = ?", (fresh,))
            clock = t.db_query("SELECT next_alert, next_incident, next_event, next_delivery"
                               " FROM cluster_clock")[0]
            assert clock[0] > t.db_value("SELECT MAX(id) FROM alerts")
            assert clock[3] > t.db_value("SELECT MAX(delivery_id) FROM deliveries")
    except BaseException:
        keep = True
        raise
    finally:
        if src.proc and src.proc.poll() is None:
            src.stop(expect_clean=False)
        if keep:
            print("kept: %s, %s, database %s" % (src.data_dir, pg_dir, pg_url(target)))
        else:
            src.cleanup()
            shutil.rmtree(pg_dir, ignore_errors=True)
            pg_drop_database(target)


if __name__ == "__main__":
    run([test_copy_a_live_install_then_serve_on_postgres])
