"""test_self_alerts.py: tocsin tells its owners when a webhook endpoint
stops taking pushes (issue 13, item 4; core/self_alerts.h).

With --self-alerts-channel-id, an integration disabled by a 410 opens an
incident in that channel, made by tocsin's own pipeline: the channel's
other webhook receives its i_new. Enabling the integration and delivering
again recovers it (i_rslv). An integration whose oldest pending push is
older than --self-alerts-lag opens a "late" incident, which recovers once
its pushes flow. Both engines: nothing here is about the SQLite file.
"""
import json
import time

from receiver import Receiver
from tocsin_test import Tocsin, run, validate_response, wait_until

FAST_RETRY = {"max_attempts": 20, "schedule_s": [1]}
# 20 attempts 2 s apart: the push is still pending (not given up) for about
# 40 s, past the lag of 10 s and the fix of the endpoint that follows.
SLOW_RETRY = {"max_attempts": 20, "schedule_s": [2]}


def make_webhook(t, endpoint, channel_id, name, **extra):
    body = {"type": "webhook_incident", "name": name, "endpoint": endpoint,
            "channel_ids": [channel_id]}
    body.update(extra)
    return t.api("/integration/create", body).data["integration_id"]


def incidents_in(t, channel_id):
    now = int(time.time())
    r = t.api("/incident/list", {"start_time": now - 3600, "end_time": now + 60, "limit": 100})
    validate_response("/incident/list", r)
    return [i for i in r.data["items"] if i["channel_id"] == channel_id]


def self_alert(t, channel_id, integration_id, condition):
    """The channel's incident whose alert has the condition's key, or None."""
    key = "tocsin/integration/%d/%s" % (integration_id, condition)
    for inc in incidents_in(t, channel_id):
        alerts = t.api("/incident/alert/list", {"incident_id": inc["incident_id"]}).data["items"]
        if any(a["alert_key"] == key for a in alerts):
            return inc, alerts[0]
    return None


def bodies(rx, prefix):
    return [json.loads(r["body"]) for r in rx.records(prefix)]


def start_with_channel(rx, lag=None):
    """A tocsin whose self-alerts go to a channel made on its first start."""
    t = Tocsin(args=["--allow-private-targets"])
    ops = t.make_channel("tocsin-ops")
    t.args += ["--self-alerts-channel-id", str(ops)]
    if lag:
        t.args += ["--self-alerts-lag", str(lag)]
    t.restart()
    return t, ops


def test_gone_disables_then_recovers():
    with Receiver() as rx:
        t, ops = start_with_channel(rx)
        with t:
            pager = make_webhook(t, rx.url("ok/pager"), ops, "pager")
            app = t.make_channel("payments")
            _, key = t.make_source(app)
            gone = make_webhook(t, rx.url("gone/shop"), app, "shop-hook", retry=FAST_RETRY)
            t.push(key, {"title_rule": "card declines", "event_status": "Critical",
                         "alert_key": "declines"})
            found = wait_until(lambda: self_alert(t, ops, gone, "disabled"), timeout=30,
                               what="the self-alert incident of the disabled integration")
            inc, alert = found
            assert inc["title"] == "tocsin: webhook integration shop-hook is disabled", inc
            assert inc["incident_severity"] == "Critical", inc
            assert inc["progress"] != "Closed", inc
            assert alert["labels"]["integration_id"] == str(gone), alert
            assert alert["labels"]["integration_name"] == "shop-hook", alert
            assert "410" in alert["labels"]["reason"], alert
            info = t.api("/integration/info", {"integration_id": gone}).data
            assert info["status"] == "disabled", info
            # The channel's healthy webhook carries it, as any incident.
            got = wait_until(lambda: [b for b in bodies(rx, "/ok/pager")
                                      if b["event_type"] == "i_new"
                                      and b["incident"]["incident_id"] == inc["incident_id"]],
                             timeout=30, what="the pager's i_new of the self-alert")
            assert got[0]["incident"]["title"] == inc["title"]
            # Fixed and enabled: the kept push is delivered, and that recovers it.
            t.api("/integration/update", {"integration_id": gone, "endpoint": rx.url("ok/shop")})
            t.api("/integration/enable", {"integration_id": gone})
            rx.wait_for(1, prefix="/ok/shop", timeout=30)
            wait_until(lambda: any(b["event_type"] == "i_rslv"
                                   and b["incident"]["incident_id"] == inc["incident_id"]
                                   for b in bodies(rx, "/ok/pager")),
                       timeout=30, what="the self-alert recovered (i_rslv at the pager)")
            closed = t.api("/incident/info", {"incident_id": inc["incident_id"]}).data
            assert closed["progress"] == "Closed", closed
            # One incident for the whole episode.
            assert len(incidents_in(t, ops)) == 1, incidents_in(t, ops)


def test_late_pushes_then_recovers():
    with Receiver() as rx:
        t, ops = start_with_channel(rx, lag=10)
        with t:
            pager = make_webhook(t, rx.url("ok/pager"), ops, "pager")
            app = t.make_channel("payments")
            _, key = t.make_source(app)
            late = make_webhook(t, rx.url("fail/late"), app, "slow-hook", retry=SLOW_RETRY)
            t.push(key, {"title_rule": "card declines", "event_status": "Critical",
                         "alert_key": "declines"})
            inc, alert = wait_until(lambda: self_alert(t, ops, late, "lag"), timeout=60,
                                    what="the self-alert of late pushes")
            assert inc["title"] == "tocsin: pushes to webhook integration slow-hook are late", inc
            assert alert["labels"]["integration_name"] == "slow-hook", alert
            assert "limit is 10 s" in alert["labels"]["reason"], alert
            assert t.api("/integration/info", {"integration_id": late}).data["status"] == "enabled"
            wait_until(lambda: any(b["event_type"] == "i_new" and
                                   b["incident"]["incident_id"] == inc["incident_id"]
                                   for b in bodies(rx, "/ok/pager")),
                       timeout=30, what="the pager's i_new of the late self-alert")
            # The endpoint is fixed: the retried push goes through, nothing is late.
            t.api("/integration/update", {"integration_id": late, "endpoint": rx.url("ok/late")})
            rx.wait_for(1, prefix="/ok/late", timeout=30)
            wait_until(lambda: t.api("/incident/info", {"incident_id": inc["incident_id"]})
                       .data["progress"] == "Closed", timeout=30,
                       what="the late self-alert recovered")


def test_deleted_integration_recovers():
    """Nothing will deliver for a deleted integration: its open self-alert
    recovers when it is deleted, instead of staying open for ever."""
    with Receiver() as rx:
        t, ops = start_with_channel(rx)
        with t:
            app = t.make_channel("payments")
            _, key = t.make_source(app)
            gone = make_webhook(t, rx.url("gone/old"), app, "old-hook")
            t.push(key, {"title_rule": "card declines", "event_status": "Critical",
                         "alert_key": "declines"})
            inc, _ = wait_until(lambda: self_alert(t, ops, gone, "disabled"), timeout=30,
                                what="the self-alert of the disabled integration")
            t.api("/integration/delete", {"integration_id": gone})
            got = t.api("/incident/info", {"incident_id": inc["incident_id"]}).data
            assert got["progress"] == "Closed", got


def test_flags_refused():
    """Out of range or not a number: tocsin does not start, and says why."""
    for args, mention in (
            (["--self-alerts-lag", "9"], "--self-alerts-lag: must be a whole number from 10 to 86400"),
            (["--self-alerts-lag", "86401"], "--self-alerts-lag: must be"),
            (["--self-alerts-lag", "5m"], "--self-alerts-lag: must be"),
            (["--self-alerts-channel-id", "-1"], "--self-alerts-channel-id: must be a channel id"),
            (["--self-alerts-channel-id", "x"], "--self-alerts-channel-id: must be")):
        try:
            Tocsin(args=args)
        except AssertionError as e:
            assert "tocsin exited at start (2)" in str(e) and mention in str(e), e
        else:
            raise AssertionError("%s was taken" % args)


if __name__ == "__main__":
    run([test_gone_disables_then_recovers, test_late_pushes_then_recovers,
         test_deleted_integration_recovers, test_flags_refused])
