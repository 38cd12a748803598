"""test_quiet_week.py: no id is handed out twice where something keeps a
cursor on it (issue 9; docs/ARCHITECTURE.md, "Ids and cursors").

The dispatcher loads new deliveries with `delivery_id > last loaded`. With a
plain INTEGER PRIMARY KEY, SQLite gives max(id) + 1, so once pruning (7 days)
had removed every finished delivery, the next pushes got ids the dispatcher
had already passed and were never sent until a restart. Here: deliver,
age every finished row past the retention so the writer's timer prunes them
all, push again: everything arrives, and every id keeps growing. The same
again after a restart, and once more without one.

Ageing rows (moving their times 8 days back in the store) stands in
for waiting a week; pruning itself is tocsin's own timer, observed by the
rows disappearing (all but each table's newest, which it keeps: that is
what keeps SQLite's max(rowid) + 1 from going back).
"""
import json
import os
import time

from receiver import Receiver
from tocsin_test import Tocsin, run, wait_until

WEEK_AND_A_DAY_MS = 8 * 86400 * 1000

# Every table whose id is a cursor or an order, with its id column.
ID_COLUMNS = {
    "deliveries": "delivery_id",
    "webhook_history": "attempt_id",
    "events": "seq",
    "alert_events": "seq",
    "alerts": "id",
    "incidents": "id",
}


def scalar(t, sql, *args):
    return t.db_value(sql, args)


def max_ids(t):
    return {table: scalar(t, "SELECT COALESCE(MAX(%s), 0) FROM %s" % (col, table))
            for table, col in ID_COLUMNS.items()}


def all_finished(t, n, kept=0):
    """n new deliveries (beside `kept` left by pruning), every one delivered
    and recorded in history."""
    return (scalar(t, "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'") == n + kept and
            scalar(t, "SELECT COUNT(*) FROM deliveries") == n + kept and
            scalar(t, "SELECT COUNT(*) FROM webhook_history WHERE status = 'success'") == n + kept)


def age_and_prune(t):
    """Moves every finished delivery and history row past the 7 days kept,
    then waits for the writer's timer to delete them all but each table's
    newest row, which pruning keeps so that ids are never handed out twice."""
    with t.db() as db:
        db.execute("UPDATE deliveries SET updated_at = updated_at - ? WHERE status <> 'pending'",
                   (WEEK_AND_A_DAY_MS,))
        db.execute("UPDATE webhook_history SET created_at = created_at - ?",
                   (WEEK_AND_A_DAY_MS,))
    wait_until(lambda: scalar(t, "SELECT COUNT(*) FROM deliveries") == 1 and
               scalar(t, "SELECT COUNT(*) FROM webhook_history") == 1,
               timeout=30, what="pruning to remove every finished row but the newest")


def push_new_incidents(t, key, prefix, n=3):
    for i in range(n):
        t.push(key, {"title_rule": "quiet week %s-%d" % (prefix, i), "event_status": "Critical",
                     "alert_key": "%s-%d" % (prefix, i)})


def assert_grew(before, after, what):
    for table in ID_COLUMNS:
        assert after[table] > before[table], (
            "%s: the newest id %d is not above %d, the newest before %s" %
            (table, after[table], before[table], what))


def test_pruned_week_then_pushes_arrive():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch = t.make_channel("quiet")
        _, key = t.make_source(ch)
        t.api("/integration/create", {"type": "webhook_incident", "name": "tickets",
                                      "endpoint": rx.url("ok/tickets"),
                                      "event_types": ["i_new"]})
        push_new_incidents(t, key, "first")
        rx.wait_for(3, timeout=30)
        wait_until(lambda: all_finished(t, 3), timeout=30, what="3 recorded deliveries")
        first = max_ids(t)

        age_and_prune(t)
        push_new_incidents(t, key, "after-prune")
        got = rx.wait_for(6, timeout=30)
        titles = sorted(json.loads(r["body"])["incident"]["title"] for r in got[3:])
        assert titles == ["quiet week after-prune-%d" % i for i in range(3)], titles
        wait_until(lambda: all_finished(t, 3, kept=1), timeout=30,
                   what="3 more recorded deliveries")
        second = max_ids(t)
        assert_grew(first, second, "pruning")

        # Pruned empty again, then restarted: the highest id given survives
        # in the file, not in memory.
        age_and_prune(t)
        t.restart()
        push_new_incidents(t, key, "after-restart")
        got = rx.wait_for(9, timeout=30)
        titles = sorted(json.loads(r["body"])["incident"]["title"] for r in got[6:])
        assert titles == ["quiet week after-restart-%d" % i for i in range(3)], titles
        wait_until(lambda: all_finished(t, 3, kept=1), timeout=30,
                   what="recorded after the restart")
        third = max_ids(t)
        assert_grew(second, third, "the restart")
        assert len(rx.records()) == 9, "a push arrived twice: %s" % [
            (r["n"], r["path"]) for r in rx.records()]


def test_no_cursor_table_loses_its_newest_row():
    """The rule the ids rely on, checked in the source: SQLite gives
    max(rowid) + 1, so a table whose id is a cursor or an order either never
    deletes rows, or never deletes its newest one (pruning keeps it)."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
    never = ["events", "alerts", "incidents", "alert_events", "persons", "channels",
             "integrations"]
    kept_newest = {"deliveries": "delivery_id", "webhook_history": "attempt_id"}
    for folder, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".c"):
                continue
            text = open(os.path.join(folder, name)).read()
            for table in never:
                assert "DELETE FROM %s " % table not in text, (
                    "%s deletes rows of %s: its ids could be handed out twice" % (name, table))
            for table, col in kept_newest.items():
                at = text.find("DELETE FROM %s " % table)
                if at >= 0:
                    stmt = text[at:text.find(";", at)]
                    assert "%s < (SELECT MAX(%s) FROM %s)" % (col, col, table) in stmt, (
                        "%s prunes %s without keeping its newest row" % (name, table))


if __name__ == "__main__":
    run([test_pruned_week_then_pushes_arrive, test_no_cursor_table_loses_its_newest_row])
