"""test_events.py: the Event API (POST /event/push/alert/standard): every field
rule of reference/event-api.md (refused with InvalidParameter naming the
field, and nothing stored), cuts, derived keys, $label titles, key checks.

Alerts, raw events and incidents are read as the API shows them; what was
stored, counted in the store of the stopped tocsin."""
import json
import time

from tocsin_test import Tocsin, expect_error, run


def db_rows(t, sql, args=()):
    """Rows of a query on the stopped tocsin's store."""
    return t.db_query(sql, args)


def window():
    now = int(time.time())
    return {"start_time": now - 3600, "end_time": now + 60, "limit": 100}


def alert_docs(t):
    """Every alert, as /alert/list shows it, oldest first."""
    r = t.api("/alert/list", dict(window(), asc=True))
    assert not r.data["has_next_page"], r
    return r.data["items"]


def raw_events(t, alert_id):
    """An alert's raw events (AlertEventItem), as /alert/event/list shows them."""
    return t.api("/alert/event/list", {"alert_id": alert_id}).data["items"]


def incident_docs(t):
    """Every incident, as /incident/list shows it."""
    r = t.api("/incident/list", window())
    assert not r.data["has_next_page"], r
    return r.data["items"]


def source(t, kind="alert_standard", group=None, name="c"):
    cid = t.make_channel(name, group=group)
    iid, key = t.make_source(cid, kind=kind)
    return cid, iid, key


def test_accepts_and_returns_key():
    with Tocsin() as t:
        _, _, key = source(t)
        r = t.push(key, {"title_rule": "disk full", "event_status": "Warning",
                         "alert_key": "disk/h1"})
        assert r.data == {"alert_key": "disk/h1"}, r
        assert r.headers.get("Flashcat-Request-Id") == r.json["request_id"]
        # The spec's example shape, every field given.
        r = t.push(key, {"title_rule": "$service::$cluster", "event_status": "Critical",
                         "alert_key": "k2", "description": "cpu high",
                         "labels": {"service": "api", "cluster": "eu"},
                         "images": [{"alt": "graph", "src": "https://img/1.png",
                                     "href": "https://grafana/d/1"}]})
        assert r.data["alert_key"] == "k2"


def test_derived_keys_dedupe():
    with Tocsin() as t:
        _, _, key = source(t)
        body = {"title_rule": "$host down", "event_status": "Critical",
                "labels": {"host": "h1", "dc": "eu"}}
        k1 = t.push(key, body).data["alert_key"]
        assert len(k1) == 64 and all(c in "0123456789abcdef" for c in k1), k1
        # Same rule and labels in another order: same key, same alert.
        k2 = t.push(key, {"labels": {"dc": "eu", "host": "h1"}, "event_status": "Warning",
                          "title_rule": "$host down"}).data["alert_key"]
        assert k2 == k1
        k3 = t.push(key, dict(body, labels={"host": "h2", "dc": "eu"})).data["alert_key"]
        assert k3 != k1
        k4 = t.push(key, dict(body, title_rule="other")).data["alert_key"]
        assert k4 not in (k1, k3)
        # An empty alert_key counts as absent.
        assert t.push(key, dict(body, alert_key="")).data["alert_key"] == k1
        docs = alert_docs(t)
        assert sorted(d["alert_key"] for d in docs) == sorted([k1, k3, k4]), docs
        first = [d for d in docs if d["alert_key"] == k1][0]
        # Critical, Warning, Critical again (the third is not identical to the second).
        assert first["event_cnt"] == 3 and first["alert_severity"] == "Critical", first


def test_refusals_name_the_field_and_store_nothing():
    long = "x" * 256
    labels51 = {"k%d" % i: "v" for i in range(51)}
    cases = [
        ({"event_status": "Critical"}, "title_rule"),
        ({"title_rule": 5, "event_status": "Critical"}, "title_rule"),
        ({"title_rule": "", "event_status": "Critical"}, "title_rule"),
        ({"title_rule": "t"}, "event_status"),
        ({"title_rule": "t", "event_status": "critical"}, "event_status"),
        ({"title_rule": "t", "event_status": "Error"}, "event_status"),
        ({"title_rule": "t", "event_status": 1}, "event_status"),
        ({"title_rule": "t", "event_status": "Critical", "alert_key": long}, "alert_key"),
        ({"title_rule": "t", "event_status": "Critical", "alert_key": 7}, "alert_key"),
        ({"title_rule": "t", "event_status": "Ok"}, "alert_key"),
        ({"title_rule": "t", "event_status": "Ok", "alert_key": ""}, "alert_key"),
        ({"title_rule": "t", "event_status": "Critical", "description": ["x"]}, "description"),
        ({"title_rule": "t", "event_status": "Critical", "labels": labels51}, "labels"),
        ({"title_rule": "t", "event_status": "Critical", "labels": ["a"]}, "labels"),
        ({"title_rule": "t", "event_status": "Critical", "labels": {"k" * 129: "v"}}, "labels"),
        ({"title_rule": "t", "event_status": "Critical", "labels": {"n": 5}}, "labels"),
        ({"title_rule": "t", "event_status": "Critical", "labels": {"n": None}}, "labels"),
        ({"title_rule": "t", "event_status": "Critical", "labels": {"": "v"}}, "labels"),
        ({"title_rule": "t", "event_status": "Critical", "images": {"src": "x"}}, "images"),
        ({"title_rule": "t", "event_status": "Critical", "images": ["x"]}, "images[0]"),
        ({"title_rule": "t", "event_status": "Critical", "images": [{"alt": "a"}]},
         "images[0].src"),
        ({"title_rule": "t", "event_status": "Critical",
          "images": [{"src": "s"}, {"src": "s", "href": 3}]}, "images[1].href"),
    ]
    with Tocsin() as t:
        _, _, key = source(t)
        for body, field in cases:
            r = t.push(key, body, expect=None)
            try:
                expect_error(r, 400, "InvalidParameter", field)
            except AssertionError as e:
                raise AssertionError("%s: %s" % (json.dumps(body)[:200], e))
        # Limits that are "at most": exactly at the limit is fine.
        t.push(key, {"title_rule": "t", "event_status": "Info", "alert_key": "k" * 255,
                     "labels": {"k" * 128: "v", **{"x%d" % i: "v" for i in range(49)}}})
        assert len(alert_docs(t)) == 1
        t.stop()
        assert db_rows(t, "SELECT COUNT(*) FROM alert_events")[0][0] == 1
        assert db_rows(t, "SELECT COUNT(*) FROM incidents")[0][0] == 1


def test_cuts():
    with Tocsin() as t:
        _, _, key = source(t)
        t.push(key, {"title_rule": "é" * 600, "event_status": "Critical", "alert_key": "cut",
                     "description": "d" * 3000, "labels": {"v": "w" * 3000},
                     "images": [{"src": "s" * 257}, {"src": "img_1", "alt": "a" * 200,
                                                     "href": "h" * 257},
                                {"src": "https://i/2.png", "alt": "two", "href": "https://h"}]})
        doc = alert_docs(t)[0]
        assert doc["title_rule"] == "é" * 512 and doc["title"] == "é" * 512
        assert doc["description"] == "d" * 2048
        assert doc["labels"] == {"v": "w" * 2048}
        # An href over 256 characters is cut, not dropped.
        assert doc["images"] == [{"src": "img_1", "alt": "a" * 128, "href": "h" * 256},
                                 {"src": "https://i/2.png", "alt": "two", "href": "https://h"}]
        (ev,) = raw_events(t, doc["alert_id"])
        assert ev["description"] == "d" * 2048 and ev["images"] == doc["images"]


def test_images_with_one_alt_are_all_kept():
    with Tocsin() as t:
        _, _, key = source(t)
        images = [{"src": "https://i/1.png", "alt": "graph"},
                  {"src": "https://i/2.png", "alt": "graph", "href": "https://d/2"},
                  {"src": "https://i/3.png", "alt": "graph"}]
        t.push(key, {"title_rule": "t", "event_status": "Critical", "alert_key": "img",
                     "images": images})
        doc = alert_docs(t)[0]
        assert doc["images"] == images, doc["images"]
        (ev,) = raw_events(t, doc["alert_id"])
        assert ev["images"] == images


def test_labels_only_change_is_no_new_event():
    """event-api.md: an event that changes only the labels updates the
    alert without counting as a new event: labels (and a title made from
    them) follow, event_cnt, last_time and the alert's events stay, and its
    incident's event count too. Any other change counts as usual."""
    with Tocsin() as t:
        _, _, key = source(t)
        base = {"title_rule": "disk on $host", "event_status": "Warning", "alert_key": "lo",
                "description": "d", "labels": {"host": "h1", "mount": "/"}}
        t.push(key, base)
        first = alert_docs(t)[0]
        t.push(key, dict(base, labels={"host": "h2", "mount": "/"}))
        doc = alert_docs(t)[0]
        assert doc["alert_id"] == first["alert_id"]
        assert doc["labels"] == {"host": "h2", "mount": "/"} and doc["title"] == "disk on h2"
        assert doc["event_cnt"] == 1 and doc["last_time"] == first["last_time"], doc
        assert len(raw_events(t, doc["alert_id"])) == 1
        # Without description (absent: unchanged) it is still only the labels.
        t.push(key, {k: v for k, v in dict(base, labels={"host": "h3"}).items()
                     if k != "description"})
        doc = alert_docs(t)[0]
        assert doc["labels"] == {"host": "h3"} and doc["event_cnt"] == 1, doc
        (inc,) = incident_docs(t)
        assert inc["alert_event_cnt"] == 1, inc
        # A status change (with the same labels) is a new event.
        t.push(key, dict(base, event_status="Critical", labels={"host": "h3"}))
        doc = alert_docs(t)[0]
        assert doc["event_cnt"] == 2 and doc["alert_status"] == "Critical", doc
        assert len(raw_events(t, doc["alert_id"])) == 2
        # So is a description change.
        t.push(key, dict(base, event_status="Critical", labels={"host": "h3"}, description="e"))
        assert alert_docs(t)[0]["event_cnt"] == 3
        t.stop()
        assert db_rows(t, "SELECT COUNT(*) FROM alert_events")[0][0] == 3
        assert db_rows(t, "SELECT alert_event_cnt FROM incidents")[0][0] == 3


def test_label_substitution():
    with Tocsin() as t:
        _, _, key = source(t)
        t.push(key, {"title_rule": "$service::$cluster", "event_status": "Critical",
                     "alert_key": "a", "labels": {"service": "api", "cluster": "eu"}})
        t.push(key, {"title_rule": "$service on $nope (${app.io/name})",
                     "event_status": "Critical", "alert_key": "b",
                     "labels": {"service": "db", "app.io/name": "pg"}})
        # An Ok event that names only its key keeps the alert's labels.
        t.push(key, {"title_rule": "$service::$cluster", "event_status": "Ok", "alert_key": "a"})
        docs = {d["alert_key"]: d for d in alert_docs(t)}
        assert docs["a"]["title"] == "api::eu" and docs["a"]["title_rule"] == "$service::$cluster"
        assert docs["a"]["alert_status"] == "Ok"
        assert docs["b"]["title"] == "db on $nope (pg)"
        incident_titles = sorted(d["title"] for d in incident_docs(t))
        assert incident_titles == ["api::eu", "db on $nope (pg)"]


def test_keys():
    with Tocsin() as t:
        cid, iid, key = source(t)
        _, pid, pkey = source(t, kind="alert_prometheus", name="p")
        ok = {"title_rule": "t", "event_status": "Critical"}
        expect_error(t.push("nope", ok, expect=None), 401, "Unauthorized", "integration_key")
        expect_error(t.push("", ok, expect=None), 401, "Unauthorized", "integration_key")
        # A key of another kind is refused on both push URLs.
        expect_error(t.push(pkey, ok, expect=None), 401, "Unauthorized", "integration_key")
        expect_error(t.push(key, {"alerts": []}, kind="prometheus", expect=None), 401,
                     "Unauthorized", "integration_key")
        # Key before body: a bad key with a bad body is Unauthorized.
        expect_error(t.push("nope", {"event_status": "x"}, expect=None), 401, "Unauthorized")
        expect_error(t.push("nope", {}, kind="prometheus", expect=None), 401, "Unauthorized")
        # Content-Type is checked by the server before the handler.
        expect_error(t.request("POST", "/event/push/alert/standard?integration_key=" + key,
                               raw=json.dumps(ok).encode(),
                               headers={"Content-Type": "text/plain"}),
                     400, "InvalidContentType")
        # A disabled channel takes no alerts.
        t.api("/channel/disable", {"channel_id": cid})
        expect_error(t.push(key, ok, expect=None), 403, "AccessDenied", "disabled")
        t.api("/channel/enable", {"channel_id": cid})
        t.push(key, ok)
        # A disabled, then deleted integration.
        t.api("/integration/disable", {"integration_id": iid})
        expect_error(t.push(key, ok, expect=None), 401, "Unauthorized", "integration_key")
        t.api("/integration/enable", {"integration_id": iid})
        t.push(key, dict(ok, event_status="Warning"))
        t.api("/integration/delete", {"integration_id": iid})
        expect_error(t.push(key, ok, expect=None), 401, "Unauthorized", "integration_key")
        t.stop()
        assert db_rows(t, "SELECT COUNT(*) FROM alert_events")[0][0] == 2


if __name__ == "__main__":
    run([test_accepts_and_returns_key, test_derived_keys_dedupe,
         test_images_with_one_alt_are_all_kept, test_labels_only_change_is_no_new_event,
         test_refusals_name_the_field_and_store_nothing, test_cuts, test_label_substitution,
         test_keys])
