"""test_metrics.py: GET /metrics (issue 4 item 5): the Prometheus text
format, checked by `promtool check metrics`, with exact counter values for
known traffic: Event API events by source and outcome, Open API requests by
path and code, per-integration delivery attempts, deliveries and latency
(compared with what the receiver got and what the store recorded), the
outbox gauges while an endpoint fails and after it drains, and the enabled
gauge around /integration/disable.

promtool comes from Debian's `prometheus` package (scripts/install-deps.sh).
Assertions are on counts and states, never on timing.
"""
import shutil
import subprocess
import time

from receiver import Receiver
from tocsin_test import Scrape, Tocsin, expect_error, run, wait_until

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def start():
    return Tocsin(args=["--allow-private-targets"])


def scrape(t):
    r = t.get("/metrics")
    assert r.status == 200, r
    assert r.headers.get("Content-Type") == CONTENT_TYPE, r.headers
    return Scrape(r.raw.decode())


def promtool_check(text):
    """promtool check metrics on text: exit 0 and no lint problem reported."""
    tool = shutil.which("promtool")
    assert tool, "promtool is missing (Debian package prometheus, scripts/install-deps.sh)"
    out = subprocess.run([tool, "check", "metrics"], input=text.encode(), capture_output=True)
    problems = (out.stdout + out.stderr).decode()
    assert out.returncode == 0 and not problems.strip(), "promtool: %s\n%s" % (problems, text)


def make_webhook(t, endpoint, name=None, **extra):
    body = {"type": "webhook_incident", "name": name or "hook-%d" % time.time_ns(),
            "endpoint": endpoint}
    body.update(extra)
    return t.api("/integration/create", body).data["integration_id"]


def event(alert_key, status="Critical"):
    return {"title_rule": "disk full on $host", "event_status": status, "alert_key": alert_key,
            "labels": {"host": "db1"}}


def alertmanager(n, broken=False):
    alerts = [{"status": "firing", "labels": {"alertname": "CPU%d" % i, "severity": "critical"},
               "annotations": {"summary": "cpu %d hot" % i},
               "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
               "fingerprint": "fp%d-%d" % (i, time.time_ns())} for i in range(n)]
    if broken:
        alerts[-1]["labels"] = "not an object"
    return {"version": "4", "status": "firing", "receiver": "tocsin", "alerts": alerts,
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am"}


def store_rows(t, sql, *args):
    return t.db_query(sql, args)


# Tests -------------------------------------------------------------------------
def test_scrape_is_open_valid_and_bounded():
    """No key needed; every family has HELP and TYPE and promtool is happy on
    a fresh instance; POST is refused; unknown paths all count as "other"."""
    with start() as t:
        first = scrape(t)
        promtool_check(first.text)
        for name in ("tocsin_events_ingested_total", "tocsin_http_requests_total",
                     "tocsin_outbox_pending", "tocsin_outbox_oldest_pending_age_seconds",
                     "tocsin_integration_enabled", "tocsin_delivery_attempts_total",
                     "tocsin_deliveries_total", "tocsin_delivery_latency_seconds",
                     "tocsin_delivery_retries_pending", "tocsin_http_request_duration_seconds"):
            assert name in first.types, name
            assert "# HELP %s " % name in first.text, name
        assert first.get("tocsin_outbox_pending") == 0
        assert first.get("tocsin_outbox_oldest_pending_age_seconds") == 0
        expect_error(t.request("POST", "/metrics", {}), 400, "MethodNotAllowed", "GET")
        for i in range(5):
            assert t.get("/random/%d" % i).status == 404
        s = scrape(t)
        assert s.get("tocsin_http_requests_total", path="other", code=404) == 5
        assert s.get("tocsin_http_requests_total", path="/metrics", code=400) == 1
        # This scrape counts the one before it (it is counted as it is answered).
        assert s.get("tocsin_http_requests_total", path="/metrics", code=200) == 1
        assert {d["path"] for d in s.series("tocsin_http_requests_total")} == {
            "/healthz", "/metrics", "other"}
        assert s.get("tocsin_http_request_duration_seconds_count") == sum(
            v for k, v in s.samples.items() if k[0] == "tocsin_http_requests_total")


def test_event_and_open_api_counters():
    with start() as t:
        ch = t.make_channel("metrics")
        _, std_key = t.make_source(ch)
        _, prom_key = t.make_source(ch, kind="alert_prometheus")
        for i in range(4):
            t.push(std_key, event("ok-%d" % i))
        for _ in range(3):  # no event_status: refused
            t.push(std_key, {"title_rule": "x"}, expect=400)
        t.push("no-such-key", event("k"), expect=401)
        t.push(prom_key, alertmanager(3), kind="prometheus")
        t.push(prom_key, alertmanager(2, broken=True), kind="prometheus", expect=400)
        t.push(std_key, alertmanager(1), kind="prometheus", expect=401)  # wrong kind of key
        t.api("/channel/list", {})
        t.api("/channel/list", {})
        t.api("/channel/info", {"channel_id": 987654}, expect=400)
        expect_error(t.request("GET", "/channel/list"), 400, "MethodNotAllowed")
        t.request("POST", "/channel/list?app_key=wrong-key-0123456789", {})
        s = scrape(t)
        promtool_check(s.text)
        ingested = {(d["source"], d["outcome"]): s.get("tocsin_events_ingested_total", **d)
                    for d in s.series("tocsin_events_ingested_total")}
        assert ingested == {
            ("standard", "accepted"): 4, ("standard", "refused"): 3,
            ("standard", "unauthorized"): 1, ("standard", "error"): 0,
            ("prometheus", "accepted"): 3, ("prometheus", "refused"): 2,
            ("prometheus", "unauthorized"): 1, ("prometheus", "error"): 0,
            ("change", "accepted"): 0, ("change", "refused"): 0,
            ("change", "unauthorized"): 0, ("change", "error"): 0}, ingested
        req = lambda path, code: s.get("tocsin_http_requests_total", path=path, code=code)
        assert req("/channel/list", 200) == 2
        assert req("/channel/list", 400) == 1
        assert req("/channel/list", 401) == 1
        assert req("/channel/info", 400) == 1
        assert req("/channel/create", 200) == 1
        assert req("/integration/create", 200) == 2
        assert req("/event/push/alert/standard", 200) == 4
        assert req("/event/push/alert/standard", 400) == 3
        assert req("/event/push/alert/standard", 401) == 1
        assert req("/event/push/alert/prometheus", 200) == 1
        assert req("/event/push/alert/prometheus", 400) == 1
        assert req("/event/push/alert/prometheus", 401) == 1
        # The writer's group commit: every change above is a command in some
        # committed batch (the timer's runs add their own, so at least).
        batches = s.get("tocsin_writer_batches_total")
        commands = s.get("tocsin_writer_commands_total")
        assert commands >= 1 + 2 + 4 + 1, commands
        assert 1 <= batches <= commands, (batches, commands)
        # Counters live in memory: a restart starts them again from zero.
        t.restart()
        s = scrape(t)
        assert s.get("tocsin_events_ingested_total", source="standard", outcome="accepted") == 0


def test_delivery_metrics_match_the_receiver_and_the_store():
    with Receiver() as rx, start() as t:
        ch = t.make_channel("deliver")
        _, key = t.make_source(ch)
        ok = make_webhook(t, rx.url("ok/a"), name='ops "blue" \\ team')
        fail = make_webhook(t, rx.url("fail/b"), event_types=["i_new"],
                            retry={"max_attempts": 2, "schedule_s": [1]})
        for i in range(3):
            t.push(key, event("d-%d" % i))
        total = lambda hook: store_rows(
            t, "SELECT count(*) FROM deliveries WHERE integration_id=?", hook)[0][0]
        settled = lambda hook: store_rows(
            t, "SELECT count(*) FROM deliveries WHERE integration_id=? AND status<>'pending'",
            hook)[0][0]
        n_ok, n_fail = total(ok), total(fail)
        assert n_ok >= 3 and n_fail >= 1, (n_ok, n_fail)
        wait_until(lambda: settled(ok) == n_ok and settled(fail) == n_fail, timeout=30,
                   what="every delivery settled")
        s = scrape(t)
        promtool_check(s.text)
        # The name label carries quotes and a backslash, escaped and read back.
        assert s.hook("tocsin_deliveries_total", ok, name='ops "blue" \\ team',
                      type="webhook_incident") == n_ok
        assert s.hook("tocsin_delivery_attempts_total", ok, outcome="delivered") == n_ok
        assert s.hook("tocsin_delivery_attempts_total", ok, outcome="retry") == 0
        assert s.hook("tocsin_delivery_latency_seconds_count", ok) == n_ok
        assert s.hook("tocsin_delivery_latency_seconds_bucket", ok, le="+Inf") == n_ok
        assert len(rx.records("/ok/a")) == n_ok
        # 500, retried once, then given up: two retry attempts per delivery.
        assert s.hook("tocsin_delivery_attempts_total", fail, outcome="retry") == 2 * n_fail
        assert s.hook("tocsin_delivery_attempts_total", fail, outcome="delivered") == 0
        assert s.hook("tocsin_deliveries_total", fail) == 0
        assert s.hook("tocsin_deliveries_failed_total", fail) == n_fail
        assert s.hook("tocsin_delivery_latency_seconds_count", fail) == 0
        assert len(rx.records("/fail/b")) == 2 * n_fail
        stored = store_rows(t, "SELECT status, count(*), sum(attempts) FROM deliveries"
                               " WHERE integration_id=? GROUP BY status", fail)
        assert stored == [("failed", n_fail, 2 * n_fail)], stored
        assert s.get("tocsin_outbox_pending") == 0
        assert s.get("tocsin_outbox_oldest_pending_age_seconds") == 0
        assert s.hook("tocsin_delivery_retries_pending", fail) == 0
        # The enabled gauge follows /integration/disable and /enable at once.
        assert s.hook("tocsin_integration_enabled", ok) == 1
        t.api("/integration/disable", {"integration_id": ok})
        assert scrape(t).hook("tocsin_integration_enabled", ok) == 0
        t.api("/integration/enable", {"integration_id": ok})
        assert scrape(t).hook("tocsin_integration_enabled", ok) == 1


def test_outbox_pending_while_failing_then_drained():
    """A 410 disables the integration and keeps its delivery pending: the
    outbox gauges show it until the endpoint is fixed and the integration
    enabled again, then they drain to zero."""
    with Receiver() as rx, start() as t:
        ch = t.make_channel("gone")
        _, key = t.make_source(ch)
        hook = make_webhook(t, rx.url("gone/c"), event_types=["i_new"], channel_ids=[ch])
        t.push(key, event("g-1"))
        rx.wait_for(1, prefix="/gone/c", timeout=15)
        s = wait_until(lambda: (lambda s: s if s.hook("tocsin_integration_enabled", hook) == 0
                                else None)(scrape(t)), timeout=15, what="410 recorded")
        promtool_check(s.text)
        assert s.hook("tocsin_delivery_attempts_total", hook, outcome="gone") == 1
        assert s.hook("tocsin_delivery_pending", hook) == 1
        assert s.hook("tocsin_delivery_retries_pending", hook) == 1
        assert s.get("tocsin_outbox_pending") == 1
        assert s.get("tocsin_outbox_oldest_pending_age_seconds") >= 0
        # Still pending across a restart (the gauges come from the store).
        t.restart()
        s = scrape(t)
        assert s.get("tocsin_outbox_pending") == 1
        assert s.hook("tocsin_integration_enabled", hook) == 0
        t.api("/integration/update", {"integration_id": hook, "endpoint": rx.url("ok/c")})
        t.api("/integration/enable", {"integration_id": hook})
        rx.wait_for(1, prefix="/ok/c", timeout=15)
        s = wait_until(lambda: (lambda s: s if s.get("tocsin_outbox_pending") == 0 else None)(
            scrape(t)), timeout=15, what="the outbox drained")
        assert s.get("tocsin_outbox_oldest_pending_age_seconds") == 0
        assert s.hook("tocsin_delivery_pending", hook) == 0
        assert s.hook("tocsin_delivery_retries_pending", hook) == 0
        assert s.hook("tocsin_deliveries_total", hook) == 1
        assert s.hook("tocsin_delivery_latency_seconds_count", hook) == 1
        assert s.hook("tocsin_integration_enabled", hook) == 1
        promtool_check(s.text)


if __name__ == "__main__":
    run([
        test_scrape_is_open_valid_and_bounded,
        test_event_and_open_api_counters,
        test_delivery_metrics_match_the_receiver_and_the_store,
        test_outbox_pending_while_failing_then_drained,
    ])
