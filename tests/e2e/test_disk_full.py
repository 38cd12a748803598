"""test_disk_full.py: a store error (the disk is full) answers 500
InternalError, stores nothing half-way, and tocsin recovers by itself when
space comes back (issue 4, item 3).

tocsin runs with its data folder on a small tmpfs of its own; a filler file
takes the rest of the space. While the disk is full, every push either
commits whole (SQLite can still write into WAL space it already has) or is
refused with 500 and leaves no trace; once the filler is deleted, pushes
are taken again without a restart, every accepted event's webhook arrives,
history records it, and the database passes SQLite's integrity check.

Mounting needs root (CAP_SYS_ADMIN); where that is refused, the same test
runs with the file-size limit (RLIMIT_FSIZE) lowered on the running tocsin
instead, which SQLite sees as an I/O error rather than a full disk.

The delivery recorder's retry is tested apart, with a trigger that makes
the store refuse history rows until the test lifts it: a full disk cannot
be aimed at one writer command.

The full disk and the file-size limit are about the SQLite file in the data
folder: on another store (TOCSIN_TEST_STORE=postgres) those two tests skip.
The recorder's test runs on every store, with that store's trigger."""
import os
import resource
import sqlite3
import subprocess
import tempfile
import time

from receiver import Receiver
from tocsin_test import Tocsin, expect_error, run, sqlite_only, wait_until

MiB = 1024 * 1024


class FullDisk:
    """A data folder that can be made full and then freed."""

    def __init__(self, tmpfs):
        self.dir = tempfile.mkdtemp(prefix="tocsin-full-")
        self.tmpfs = tmpfs and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", self.dir],
            capture_output=True, text=True).returncode == 0
        self.filler = os.path.join(self.dir, "filler")
        self.pid = None

    def fill(self, pid):
        self.pid = pid
        if not self.tmpfs:
            # Every file may grow at most to what the biggest one has now.
            limit = max(os.path.getsize(os.path.join(self.dir, f))
                        for f in os.listdir(self.dir))
            # Only the soft limit: raising it back needs no privilege.
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
            return
        # Unbuffered: a buffered file would raise ENOSPC again at close.
        with open(self.filler, "wb", buffering=0) as f:
            for size in (MiB, 4096, 1):
                chunk = b"\0" * size
                try:
                    while True:
                        f.write(chunk)
                except OSError:
                    pass
        st = os.statvfs(self.dir)
        assert st.f_bavail == 0, "the tmpfs still has %d blocks free" % st.f_bavail

    def free(self):
        if self.tmpfs:
            os.remove(self.filler)
        else:
            resource.prlimit(self.pid, resource.RLIMIT_FSIZE,
                             (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    def close(self):
        if self.tmpfs:
            subprocess.run(["umount", "-l", self.dir])
        if not os.listdir(self.dir):
            os.rmdir(self.dir)


def event(key):
    return {"event_status": "Critical", "title_rule": "disk full on %s" % key,
            "alert_key": key, "labels": {"host": key}}


def alert_keys(t):
    now = int(time.time())
    keys, p = set(), 1
    while True:
        r = t.api("/alert/list", {"p": p, "limit": 100, "start_time": now - 3600,
                                  "end_time": now + 3600}).data
        keys |= {a["alert_key"] for a in r["items"]}
        if not r["has_next_page"]:
            return keys
        p += 1


def delivered_ids(t, hook):
    now = int(time.time() * 1000)
    ids, cursor = set(), None
    while True:
        body = {"start_time": now - 3600 * 1000, "end_time": now + 60000, "limit": 100,
                "integration_id": hook, "asc": True, "status": "success"}
        if cursor:
            body["search_after_ctx"] = cursor
        d = t.api("/webhook/history/list", body).data
        ids |= {h["event_id"] for h in d["items"]}
        cursor = d.get("search_after_ctx")
        if not d["items"] or not d.get("has_next_page"):
            return ids


def check_full_and_recover(disk):
    try:
        with Receiver() as rx, Tocsin(data_dir=disk.dir, args=["--allow-private-targets"]) as t:
            ch = t.make_channel("full")
            _, key = t.make_source(ch)
            # Slow answers: the first deliveries finish while the disk is
            # full, so recording their outcomes fails until space is back.
            hook = t.api("/integration/create", {
                "type": "webhook_alert", "name": "full-hook",
                "endpoint": rx.url("slow/2500/full"), "timeout_ms": 8000}).data["integration_id"]
            accepted = []
            for i in range(5):
                t.push(key, event("before-%d" % i))
                accepted.append("before-%d" % i)

            disk.fill(t.proc.pid)
            refused = []
            for i in range(3000):
                k = "during-%d" % i
                r = t.push(key, event(k), expect=None)
                if r.status == 200:
                    accepted.append(k)
                    continue
                expect_error(r, 500, "InternalError", "could not be stored")
                refused.append(k)
                if len(refused) >= 5:
                    break
            assert len(refused) >= 5, "the full disk refused nothing (%d accepted)" % len(accepted)
            # Smaller changes fit in what is left of the WAL a while longer:
            # use it up, so that no transaction at all can be stored.
            for i in range(500):
                r = t.api("/channel/update", {"channel_id": ch, "channel_name": "full-%d" % i},
                          expect=None)
                if r.status != 200:
                    expect_error(r, 500, "InternalError", "could not be stored")
                    break
            else:
                raise AssertionError("500 channel renames were all stored on a full disk")
            # The deliveries in flight end now (the receiver answers after
            # 2.5 s). Their outcomes may or may not fit: once a checkpoint
            # completes SQLite reuses its WAL file from the start, which
            # needs no new space. When recording fails, the recorder keeps
            # the outcomes and retries (checked below). Wait until every
            # request the receiver has got by now has its outcome: the
            # attempt counter counts it in memory, stored or not.
            in_flight = len(rx.wait_for(1, timeout=30))
            wait_until(lambda: sum(t.scrape().attempts(hook).values()) >= in_flight,
                       timeout=30, what="the deliveries in flight to end on the full disk")
            # Still serving: health, reads, and a change that fails cleanly.
            assert t.get("/healthz").status == 200
            assert alert_keys(t) == set(accepted)
            r = t.api("/channel/create", {"channel_name": "nope", "team_id": 0}, expect=None)
            if r.status != 200:
                expect_error(r, 500, "InternalError", "could not be stored")

            disk.free()
            # Recovers by itself: the next pushes are taken.
            for i in range(5):
                t.push(key, event("after-%d" % i))
                accepted.append("after-%d" % i)
            keys = alert_keys(t)
            assert keys == set(accepted), (sorted(set(accepted) - keys),
                                           sorted(keys - set(accepted)))
            assert not keys & set(refused)

            # Every accepted event's webhook arrives, and history has it.
            def all_delivered():
                got = {rec["headers"].get("webhook-id") for rec in rx.records()}
                return len(got) >= len(accepted) and got
            got = wait_until(all_delivered, timeout=120, what="every a_new delivered")
            wait_until(lambda: delivered_ids(t, hook) >= got, timeout=60,
                       what="history records every delivery")
            log = t.read_log()
            if "cannot record delivery outcomes; retrying" in log:
                assert "delivery outcomes recorded again" in log
                print("the recorder met the full disk and retried")

            t.stop()
            db = sqlite3.connect(os.path.join(disk.dir, "tocsin.db"))
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            db.close()
            t.start()
            assert alert_keys(t) == set(accepted)
            print("disk-full: %s, accepted=%d refused=%d" % (
                "tmpfs" if disk.tmpfs else "RLIMIT_FSIZE", len(accepted), len(refused)))
    finally:
        disk.close()


def test_disk_full():
    """ENOSPC on a full tmpfs (skipped, and said so, where mounting is refused)."""
    sqlite_only("a full disk under the SQLite file")
    disk = FullDisk(tmpfs=True)
    if not disk.tmpfs:
        disk.close()
        print("cannot mount a tmpfs here: the file-size limit test stands in for it")
        return
    check_full_and_recover(disk)


def test_file_size_limit():
    """EFBIG from RLIMIT_FSIZE: an I/O error rather than a full disk."""
    sqlite_only("the file-size limit on the SQLite file")
    check_full_and_recover(FullDisk(tmpfs=False))


# A flag table and a trigger that refuses webhook_history rows while the flag
# is 1, in each store's dialect.
REFUSE_HISTORY = {
    "sqlite": [
        "CREATE TABLE test_refuse(on_ INTEGER NOT NULL)",
        "INSERT INTO test_refuse VALUES(1)",
        "CREATE TRIGGER test_refuse_history BEFORE INSERT ON webhook_history"
        " WHEN (SELECT on_ FROM test_refuse) = 1"
        " BEGIN SELECT RAISE(FAIL, 'refused by the test'); END",
    ],
    "postgres": [
        "CREATE TABLE test_refuse(on_ INTEGER NOT NULL)",
        "INSERT INTO test_refuse VALUES(1)",
        "CREATE FUNCTION test_refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN IF (SELECT on_ FROM test_refuse) = 1 THEN"
        " RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER test_refuse_history BEFORE INSERT ON webhook_history"
        " FOR EACH ROW EXECUTE FUNCTION test_refuse_history()",
    ],
}


def test_recorder_retries_until_the_store_takes_it():
    """The delivery recorder keeps outcomes the store refuses and retries
    them. A full disk cannot be aimed at the recorder alone (SQLite reuses
    its WAL once a checkpoint completes), so a trigger makes the store
    refuse webhook_history rows while a flag row says so."""
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch = t.make_channel("recorder")
        _, key = t.make_source(ch)
        hook = t.api("/integration/create", {
            "type": "webhook_alert", "name": "rec-hook",
            "endpoint": rx.url("ok/rec")}).data["integration_id"]
        t.stop()
        with t.db() as db:
            for sql in REFUSE_HISTORY[t.engine]:
                db.execute(sql)
        t.start()
        for i in range(3):
            t.push(key, event("rec-%d" % i))
        # Each alert makes a_new and a_merge (it joins its incident).
        rx.wait_for(6, timeout=30)
        wait_until(lambda: t.read_log().count("cannot record delivery outcomes; retrying") >= 2,
                   timeout=30, what="the recorder to retry")
        assert delivered_ids(t, hook) == set()
        pending = t.db_value("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
                             " AND integration_id = ?", (hook,))
        assert pending == 6, pending
        t.db_exec("UPDATE test_refuse SET on_ = 0")
        got = {r["headers"].get("webhook-id") for r in rx.records()}
        wait_until(lambda: delivered_ids(t, hook) == got, timeout=60,
                   what="the kept outcomes to be recorded")
        assert "delivery outcomes recorded again" in t.read_log()
        # Recorded means settled: a restart sends nothing again. The
        # dispatcher sends only pending rows: none is left after the
        # restart, and the new process (its counters start at zero) has made
        # no attempt. A row left pending would show in one or the other.
        t.restart()
        s = t.scrape()
        assert s.get("tocsin_outbox_pending") == 0, s.get("tocsin_outbox_pending")
        assert s.attempts(hook) == {"delivered": 0, "retry": 0, "gone": 0, "failed": 0}
        assert len(rx.records()) == 6, len(rx.records())


if __name__ == "__main__":
    run([test_disk_full, test_file_size_limit, test_recorder_retries_until_the_store_takes_it])
