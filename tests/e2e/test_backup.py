"""test_backup.py: `tocsin backup` copies a running SQLite install during a
burst of pushes, and a second tocsin started on the copy carries on
(issue 13, item 3).

The burst runs in a thread; the backup starts in its middle. The copy must
pass integrity_check, hold every push answered before the backup began,
and its pending deliveries must go out: the webhook's endpoint is down
while the original runs (nothing listens on its port), so every i_new is
pending in the snapshot; a receiver then starts on that port, and the
tocsin started on the copy delivers them.

Bad input: a missing --to, an existing file, a folder that cannot be
written, a data folder without a database, a PostgreSQL install; each a
clear message and a non-zero exit, with nothing written.

The backup copies a SQLite file: on another store the tests skip.
"""
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

from receiver import Receiver
from tocsin_test import BIN, Tocsin, free_port, run, sqlite_only, wait_until

RETRY = {"max_attempts": 20, "schedule_s": [2] * 16}


def backup(*args, env=None):
    e = dict(os.environ)
    e.pop("TOCSIN_STORE", None)
    e.update(env or {})
    return subprocess.run([BIN, "backup"] + list(args), capture_output=True, text=True,
                          env=e, timeout=120)


class Burst(threading.Thread):
    """Pushes new alerts one after another until stopped; records when each
    was answered (time.monotonic())."""

    def __init__(self, t, key):
        super().__init__(daemon=True)
        self.t, self.key = t, key
        self.answered = []  # (alert_key, answered_at)
        self.stopping = threading.Event()
        self.error = None

    def run(self):
        try:
            n = 0
            while not self.stopping.is_set():
                ak = "burst-%d" % n
                self.t.push(self.key, {"title_rule": "disk full", "event_status": "Critical",
                                       "alert_key": ak, "labels": {"n": str(n)}})
                self.answered.append((ak, time.monotonic()))
                n += 1
        except Exception as e:  # reported by the test, not lost in the thread
            self.error = e


def test_backup_during_burst_then_restore():
    sqlite_only("the backup copies the SQLite file")
    dead_port = free_port()  # nothing listens here until the copy runs
    work = tempfile.mkdtemp(prefix="tocsin-backup-")
    copy_file = os.path.join(work, "tocsin-backup.db")
    try:
        with Tocsin(args=["--allow-private-targets"]) as t:
            ch = t.make_channel("backed-up")
            _, key = t.make_source(ch)
            t.api("/integration/create", {
                "type": "webhook_incident", "name": "down-while-backed-up",
                "endpoint": "http://127.0.0.1:%d/ok/pending" % dead_port, "retry": RETRY})
            burst = Burst(t, key)
            burst.start()
            wait_until(lambda: len(burst.answered) >= 50 or burst.error, timeout=60,
                       what="50 pushes answered")
            began = time.monotonic()
            before = [ak for ak, at in burst.answered if at < began]
            r = backup("--data", t.data_dir, "--to", copy_file)
            ended = time.monotonic()
            # The burst goes on after the backup: pushes and backup overlapped.
            wait_until(lambda: any(at > ended for _, at in burst.answered) or burst.error,
                       timeout=30, what="a push answered after the backup")
            burst.stopping.set()
            burst.join(timeout=60)
            assert burst.error is None, burst.error
            assert r.returncode == 0, r.stderr
            assert "integrity_check ok" in r.stdout, r.stdout
            assert "steps of up to 1024 pages" in r.stdout, r.stdout
            assert not os.path.exists(copy_file + ".tmp")
            assert os.stat(copy_file).st_mode & 0o077 == 0, "the copy holds secrets: 0600"
        # Checked before any tocsin opens it: the copy as written.
        con = sqlite3.connect(copy_file)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        keys = {row[0] for row in con.execute("SELECT alert_key FROM alerts")}
        pending = {row[0] for row in con.execute(
            "SELECT e.event_id FROM deliveries d JOIN events e ON e.seq = d.event_seq"
            " WHERE d.status = 'pending'")}
        con.close()
        missing = [ak for ak in before if ak not in keys]
        assert not missing, "answered before the backup began, not in the copy: %s" % missing[:5]
        assert len(pending) >= len(before), (len(pending), len(before))
        # Restore: the copy is the tocsin.db of a fresh data folder.
        restored = tempfile.mkdtemp(prefix="tocsin-restored-")
        shutil.copy(copy_file, os.path.join(restored, "tocsin.db"))
        with Receiver(port=dead_port) as rx:
            with Tocsin(data_dir=restored, args=["--allow-private-targets"]) as t2:
                t2.own_dir = True  # removed with the instance
                got = lambda: {rec["headers"].get("webhook-id") for rec in rx.records()}
                wait_until(lambda: pending <= got(), timeout=60,
                           what="every pending delivery of the copy at the receiver")
                assert t2.db_value("SELECT COUNT(*) FROM alerts") == len(keys)
                # The copy takes new pushes too.
                t2.push(key, {"title_rule": "after restore", "event_status": "Critical",
                              "alert_key": "after-restore"})
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_bad_input():
    sqlite_only("the backup copies the SQLite file")
    work = tempfile.mkdtemp(prefix="tocsin-backup-bad-")
    try:
        with Tocsin() as t:
            t.make_channel("c")
            r = backup("--data", t.data_dir)
            assert r.returncode == 2 and "needs --to" in r.stderr, r
            r = backup("--to", os.path.join(work, "x.db"))
            assert r.returncode == 2 and "needs --data (or --config)" in r.stderr, r
            existing = os.path.join(work, "existing.db")
            with open(existing, "w") as f:
                f.write("keep me")
            r = backup("--data", t.data_dir, "--to", existing)
            assert r.returncode == 1 and "exists" in r.stderr and "--force" in r.stderr, r
            with open(existing) as f:
                assert f.read() == "keep me"
            r = backup("--data", t.data_dir, "--to", existing, "--force")
            assert r.returncode == 0, r.stderr
            con = sqlite3.connect(existing)
            assert con.execute("SELECT COUNT(*) FROM channels").fetchone()[0] == 1
            con.close()
            # Root may write anywhere, so "cannot write" is a missing folder.
            r = backup("--data", t.data_dir, "--to", os.path.join(work, "no-such", "x.db"))
            assert r.returncode == 1 and "--to: cannot write" in r.stderr, r
            live = os.path.join(t.data_dir, "tocsin.db")
            r = backup("--data", t.data_dir, "--to", live, "--force")
            assert r.returncode == 1 and "is the database being backed up" in r.stderr, r
            r = backup("--data", t.data_dir, "--to", work)
            assert r.returncode == 1 and "is a folder" in r.stderr, r
            empty = os.path.join(work, "empty")
            os.mkdir(empty)
            r = backup("--data", empty, "--to", os.path.join(work, "y.db"))
            assert r.returncode == 1 and "holds no tocsin.db" in r.stderr, r
            r = backup("--data", os.path.join(work, "absent"), "--to", os.path.join(work, "y.db"))
            assert r.returncode == 1 and "--data: no such folder" in r.stderr, r
            r = backup("--data", t.data_dir, "--to", os.path.join(work, "y.db"),
                       env={"TOCSIN_STORE": "postgres://u@127.0.0.1/db"})
            assert r.returncode == 2 and "pg_dump" in r.stderr, r
            # The config file `tocsin serve --config` reads says where the
            # install is; a store key in it means PostgreSQL: refused.
            conf = os.path.join(work, "tocsin.conf")
            with open(conf, "w") as f:
                f.write("data = %s\n" % t.data_dir)
            r = backup("--config", conf, "--to", os.path.join(work, "from-config.db"))
            assert r.returncode == 0, r.stderr
            with open(conf, "w") as f:
                f.write("data = %s\nstore = postgres://u@127.0.0.1/db\n" % t.data_dir)
            r = backup("--config", conf, "--to", os.path.join(work, "z.db"))
            assert r.returncode == 2 and "pg_dump" in r.stderr, r
            with open(conf, "w") as f:
                f.write("data = %s\nno-such-key = 1\n" % t.data_dir)
            r = backup("--config", conf, "--to", os.path.join(work, "z.db"))
            assert r.returncode == 2 and "no-such-key" in r.stderr, r
            os.unlink(conf)
            assert sorted(os.listdir(work)) == ["empty", "existing.db", "from-config.db"], \
                os.listdir(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    run([test_backup_during_burst_then_restore, test_bad_input])
