"""test_rate_limits.py: per-key rate limits (issue 4, item 3) and integration
keys found by hash (item 4).

A key that sends faster than its limit gets 429 RequestTooFrequently with a
Retry-After header and a message naming the key parameter, and the refused
request changes nothing; other keys keep being served; the bucket refills.
The limits here are set far below any real rate (0.01 per second), so the
outcome does not depend on how fast the machine runs the requests. The
refill check (1 per second, burst 2) sends volleys past the burst until one
is refused, then waits the Retry-After it was given, a real second: that
the key is served again after it is the property checked.

Migration 003's test rebuilds a SQLite file from before it: on another
store it skips."""
import itertools
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

from tocsin_test import Tocsin, expect_error, run, sqlite_only, wait_until


def event(key):
    return {"event_status": "Critical", "title_rule": "disk full on %s" % key,
            "alert_key": key, "labels": {"host": key}}


def alert_count(t):
    r = t.api("/alert/list", {"p": 1, "limit": 100,
                              "start_time": int(time.time()) - 3600,
                              "end_time": int(time.time()) + 3600})
    return r.data["total"]


def test_event_api_limit():
    with Tocsin(args=["--rate-limit-event", "0.01:3"]) as t:
        ch = t.make_channel("rl-events")
        _, key = t.make_source(ch)
        _, other = t.make_source(ch)
        for i in range(3):
            t.push(key, event("a%d" % i))
        r = t.push(key, event("refused"), expect=429)
        expect_error(r, 429, "RequestTooFrequently", "integration_key")
        assert "0.01 per second" in r.json["error"]["message"], r.json
        retry = int(r.headers["Retry-After"])
        assert 1 <= retry <= 100, r.headers
        assert r.headers.get("Flashcat-Request-Id")
        # The refused event changed nothing.
        assert alert_count(t) == 3
        # Another key has its own bucket.
        t.push(other, event("b0"))
        assert alert_count(t) == 4
        # An Alertmanager push counts as one request on the same limiter.
        am = {"version": "4", "status": "firing", "receiver": "tocsin", "groupKey": "g",
              "alerts": [{"status": "firing", "labels": {"alertname": "x", "instance": "i"},
                          "annotations": {}, "startsAt": "2026-11-22T08:00:00Z",
                          "fingerprint": "f1"}]}
        _, prom = t.make_source(ch, kind="alert_prometheus")
        for i in range(3):
            t.push(prom, am, kind="prometheus")
        expect_error(t.push(prom, am, kind="prometheus", expect=429), 429,
                     "RequestTooFrequently", "integration_key")
        # The Open API is not limited by the event limiter.
        for _ in range(10):
            t.api("/channel/list", {})


def test_open_api_limit():
    with Tocsin(args=["--rate-limit-api", "0.01:5"]) as t:
        _, member_key = t.make_member("Rate Member")  # 2 admin calls
        t.api("/channel/list", {})
        t.api("/channel/list", {})
        t.api("/channel/create", {"channel_name": "made", "team_id": 0})
        r = t.api("/channel/create", {"channel_name": "refused", "team_id": 0}, expect=429)
        expect_error(r, 429, "RequestTooFrequently", "app_key")
        assert "burst 5" in r.json["error"]["message"], r.json
        assert int(r.headers["Retry-After"]) >= 1
        # Nothing was created by the refused call; the member's key is served.
        names = [c["channel_name"] for c in
                 t.api("/channel/list", {}, key=member_key).data["items"]]
        assert "made" in names and "refused" not in names, names
        # Health and unknown paths are not rate limited.
        for _ in range(10):
            assert t.get("/healthz").status == 200
        # A wrong key is refused as before, even past the limit of another key.
        expect_error(t.api("/channel/list", {}, key="nope-not-a-key-xxxx", expect=401),
                     401, "Unauthorized")


def refused_then_served(t, call, param, path):
    """Drives one key past a limit of 1 per second, burst 2, with call(i)
    (one request on that key); checks the 429s, then that the key is served
    again once the Retry-After it was given has passed."""
    # 8 requests at once against a burst of 2 and 1 token a second: at
    # most 2 + (the seconds the volley takes) are served. Volleys go on
    # (bounded) until one is refused, which a slow machine only delays.
    refused, volleys = [], 0
    deadline = time.time() + 60
    while not refused and time.time() < deadline:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, range(8 * volleys, 8 * volleys + 8)))
        volleys += 1
        assert all(r.status in (200, 429) for r in answers), answers
        refused = [r for r in answers if r.status == 429]
    assert refused, "%d volleys of 8 past a burst of 2: none refused" % volleys
    for r in refused:
        expect_error(r, 429, "RequestTooFrequently", param)
        # Less than one token left, one more a second: one second to wait.
        assert r.headers["Retry-After"] == "1", r.headers
    # Refused now too (each request served meanwhile takes a token): the
    # Retry-After of this answer is the one to wait.
    more = itertools.count(8 * volleys)
    r = wait_until(lambda: (lambda r: r if r.status == 429 else None)(call(next(more))),
                   timeout=30, what="the key refused")
    expect_error(r, 429, "RequestTooFrequently", param)
    retry = int(r.headers["Retry-After"])
    assert retry == 1, r.headers
    # This wait is the property: after Retry-After seconds the key is
    # served again.
    time.sleep(retry)
    r = call(next(more))
    assert r.status == 200, r
    assert t.scrape().get("tocsin_http_requests_total", path=path,
                          code=429) == len(refused) + 1


def test_bucket_refills():
    with Tocsin(args=["--rate-limit-api", "1:2", "--rate-limit-event", "1:2"]) as t:
        _, key = t.make_source(t.make_channel("refill"))  # the app key's burst
        refused_then_served(t, lambda i: t.api("/channel/list", {}, expect=None), "app_key",
                            "/channel/list")
        refused_then_served(t, lambda i: t.push(key, event("r%d" % i), expect=None),
                            "integration_key", "/event/push/alert/standard")


def test_flags_are_checked():
    import subprocess
    from tocsin_test import BIN
    for bad in ["x", "-1", "5:0", "5:", "1e9", "5:abc"]:
        out = subprocess.run([BIN, "serve", "--rate-limit-event", bad, "--listen",
                              "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
        assert out.returncode != 0 and "--rate-limit-event" in out.stderr, (bad, out.stderr)
    out = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert "--rate-limit-api" in out.stdout and "2000:4000" in out.stdout


def test_integration_keys_are_found_by_hash():
    import hashlib
    with Tocsin() as t:
        ch = t.make_channel("hashed")
        iid, key = t.make_source(ch)
        t.push(key, event("h1"))
        # A key that differs in its last character, or is a prefix, is refused.
        for wrong in [key[:-1] + ("0" if key[-1] != "0" else "1"), key[:-1], key + "0"]:
            expect_error(t.push(wrong, event("h2"), expect=401), 401, "Unauthorized",
                         "integration_key")
        row = t.db_query("SELECT integration_key_hash FROM integrations WHERE integration_id=?",
                         (iid,))[0]
        assert row[0] == hashlib.sha256(key.encode()).hexdigest()


def test_migration_hashes_existing_keys():
    """Migration 003 on a database from before it (plain keys, no hash
    column): the key is hashed and its push URL keeps working. The older
    shape is rebuilt by undoing 003 by hand; 003's own SQL is then run with
    a Python sha256_hex standing in for the one tocsin registers, and the
    restarted tocsin must find the key by that hash."""
    sqlite_only("migration 003 of a SQLite file, with a Python sha256_hex")
    import hashlib
    sql = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
                            "store", "migrations", "003_integration_key_hash.sql")).read()
    with Tocsin() as t:
        ch = t.make_channel("old-db")
        _, key = t.make_source(ch)
        t.push(key, event("before"))
        t.stop()
        db = sqlite3.connect(os.path.join(t.data_dir, "tocsin.db"))
        db.executescript(
            "DROP INDEX integrations_key_hash;"
            "ALTER TABLE integrations DROP COLUMN integration_key_hash;"
            "CREATE UNIQUE INDEX integrations_key ON integrations(integration_key)"
            " WHERE integration_key IS NOT NULL;")
        db.create_function("sha256_hex", 1,
                           lambda v: None if v is None else hashlib.sha256(v.encode()).hexdigest(),
                           deterministic=True)
        db.executescript(sql)
        db.commit()
        db.close()
        t.start()
        t.push(key, event("after"))
        assert alert_count(t) == 2


if __name__ == "__main__":
    run([test_event_api_limit, test_open_api_limit, test_bucket_refills, test_flags_are_checked,
         test_integration_keys_are_found_by_hash, test_migration_hashes_existing_keys])
