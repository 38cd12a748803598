"""test_alertmanager.py: the real Prometheus Alertmanager (Debian's 0.25
binary) posts its webhook, unchanged, to tocsin's prometheus push URL.

Alerts are posted to Alertmanager's /api/v2/alerts; Alertmanager groups them
and calls the webhook receiver (tocsin) after group_wait; when the alerts
end, it sends them again as resolved. tocsin must end up with one alert per
Alertmanager alert (key = fingerprint, title from the summary, severity from
the labels, description from the annotation), grouped, and then recovered
(alert Ok, incident closed by itself).

Alertmanager runs on loopback ports with its own storage folder, clustering
off (--cluster.listen-address=), and is killed at the end.

Alerts are read as /alert/list shows them (since migration 007 they are
rows of columns, and data_source_type is rendered, not stored); the event
log from the stopped tocsin's store."""
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

from tocsin_test import Tocsin, expect_error, free_port, keeping_bodies, run, wait_until

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


class Alertmanager:
    def __init__(self, webhook_url):
        self.dir = tempfile.mkdtemp(prefix="tocsin-am-")
        self.port = free_port()
        config = os.path.join(self.dir, "alertmanager.yml")
        with open(config, "w") as f:
            f.write("""
route:
  receiver: tocsin
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tocsin
    webhook_configs:
      - url: '%s'
        send_resolved: true
""" % webhook_url)
        self.log = open(os.path.join(self.dir, "alertmanager.log"), "wb")
        self.proc = subprocess.Popen(
            [ALERTMANAGER, "--config.file=" + config, "--storage.path=" + self.dir + "/data",
             "--web.listen-address=127.0.0.1:%d" % self.port, "--cluster.listen-address=",
             "--log.level=debug"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self.ready, timeout=30, what="alertmanager to be ready")

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("alertmanager exited:\n" + self.read_log())
        try:
            with urllib.request.urlopen(self.url("/-/ready"), timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def post_alerts(self, alerts):
        req = urllib.request.Request(self.url("/api/v2/alerts"), data=json.dumps(alerts).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200, r.status

    def read_log(self):
        with open(os.path.join(self.dir, "alertmanager.log"), "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def incidents(t):
    now = int(time.time())
    return t.api("/incident/list", {"start_time": now - 3600, "end_time": now + 3600,
                                    "limit": 100}).data["items"]


def all_alerts(t):
    """Every alert changed in the last hour, oldest first, as /alert/list
    shows it (windowed on updated_at: an alert starts at its startsAt,
    which may be long ago)."""
    now = int(time.time())
    r = t.api("/alert/list", {"start_time": now - 3600, "end_time": now + 60,
                              "by_updated_at": True, "limit": 100, "asc": True})
    assert not r.data["has_next_page"], r
    return r.data["items"]


def test_alertmanager_posts_to_tocsin():
    # Every event's body is read below: keeping_bodies gives each event a
    # subscriber (bodies are stored only for subscribed events).
    with keeping_bodies() as t:
        cid = t.make_channel("prom", group={"method": "p", "equals": [["alertname"]]})
        _, key = t.make_source(cid, kind="alert_prometheus")
        am = Alertmanager("%s/event/push/alert/prometheus?integration_key=%s" % (t.base, key))
        try:
            now = time.time()
            alerts = [
                {"labels": {"alertname": "HighLoad", "severity": "critical", "instance": "h1"},
                 "annotations": {"summary": "Load high on h1", "description": "load is 9"},
                 "startsAt": iso(now - 5), "endsAt": iso(now + 3600)},
                {"labels": {"alertname": "HighLoad", "severity": "warning", "instance": "h2"},
                 "annotations": {}, "startsAt": iso(now - 5), "endsAt": iso(now + 3600)},
            ]
            am.post_alerts(alerts)
            got = wait_until(lambda: [i for i in incidents(t) if i.get("alert_cnt") == 2],
                             timeout=30, what="tocsin to receive both alerts")
            inc = got[0]
            assert inc["progress"] == "Triggered" and inc["incident_severity"] == "Critical"
            assert inc["channel_id"] == cid

            # Ending them in Alertmanager sends them again as resolved.
            ended = time.time()
            for a in alerts:
                a["endsAt"] = iso(ended - 1)
            am.post_alerts(alerts)
            wait_until(lambda: [i for i in incidents(t) if i["progress"] == "Closed"],
                       timeout=30, what="the resolved notification")
        except Exception:
            print(am.read_log())
            raise
        finally:
            am.stop()
        docs = all_alerts(t)
        t.stop()
        bodies = [json.loads(b) for (b,) in t.db_query(
            "SELECT body FROM events WHERE event_id IS NOT NULL ORDER BY seq")]
        assert len(docs) == 2, docs
        by_host = {d["labels"]["instance"]: d for d in docs}
        h1, h2 = by_host["h1"], by_host["h2"]
        assert len(h1["alert_key"]) == 16 and h1["alert_key"] != h2["alert_key"], "fingerprints"
        assert h1["title"] == "Load high on h1" and h1["description"] == "load is 9"
        assert h2["title"] == "HighLoad" and h2["description"] == ""
        assert h1["alert_severity"] == "Critical" and h2["alert_severity"] == "Warning"
        assert h1["data_source_type"] == "prometheus"
        for d in docs:
            assert d["alert_status"] == "Ok" and d["progress"] == "Closed" and d["end_time"] > 0
            assert d["incident"]["incident_id"] == inc["incident_id"]
            assert d["labels"]["alertname"] == "HighLoad"
        assert abs(h1["start_time"] - int(now - 5)) <= 1, "startsAt is the alert's start"
        types = [b["event_type"] for b in bodies]
        assert types.count("a_new") == 2 and types.count("i_new") == 1, types
        assert types.count("a_update") == 2 and types[-1] == "i_rslv", types


def test_body_mapping_and_refusals():
    """An Alertmanager body posted directly: the mapping, one writer command
    for all its alerts, and refusals that name the alert and field."""
    body = {"version": "4", "status": "firing", "receiver": "tocsin", "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "groupKey": "{}:{}", "truncatedAlerts": 0,
            "alerts": [
                {"status": "firing", "labels": {"alertname": "A", "priority": "warn"},
                 "annotations": {}, "startsAt": "2024-05-01T10:00:00Z",
                 "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://p",
                 "fingerprint": "00000000000000aa"},
                {"status": "firing", "labels": {"alertname": "B", "level": "info", "x": "1"},
                 "annotations": {"summary": "B on $x"}, "startsAt": "2024-05-01T10:00:00Z",
                 "endsAt": "0001-01-01T00:00:00Z"},
            ]}
    with Tocsin() as t:
        cid = t.make_channel("direct")
        _, key = t.make_source(cid, kind="alert_prometheus")
        r = t.push(key, body, kind="prometheus")
        keys = r.data["alert_keys"]
        assert keys[0] == "00000000000000aa" and len(keys[1]) == 64, keys
        # The same body again: both identical, nothing new.
        assert t.push(key, body, kind="prometheus").data["alert_keys"] == keys
        bad = json.loads(json.dumps(body))
        bad["alerts"][1]["labels"]["n"] = 5
        expect_error(t.push(key, bad, kind="prometheus", expect=None), 400, "InvalidParameter",
                     "alerts[1].labels")
        bad["alerts"][1]["labels"] = {"k%d" % i: "v" for i in range(51)}
        expect_error(t.push(key, bad, kind="prometheus", expect=None), 400, "InvalidParameter",
                     "alerts[1].labels")
        bad["alerts"][1] = {"status": "pending"}
        expect_error(t.push(key, bad, kind="prometheus", expect=None), 400, "InvalidParameter",
                     "alerts[1].status")
        expect_error(t.push(key, {"version": "4"}, kind="prometheus", expect=None), 400,
                     "InvalidParameter", "alerts")
        docs = {d["alert_key"]: d for d in all_alerts(t)}
        t.stop()
        n_events = t.db_value("SELECT COUNT(*) FROM alert_events")
        assert n_events == 2, "refused bodies and identical repeats store nothing"
        a, b = docs[keys[0]], docs[keys[1]]
        assert a["title"] == "A" and a["alert_severity"] == "Warning"
        assert b["title"] == "B on 1" and b["alert_severity"] == "Info"
        assert a["start_time"] == 1714557600 and a["data_source_type"] == "prometheus"


if __name__ == "__main__":
    run([test_body_mapping_and_refusals, test_alertmanager_posts_to_tocsin])
