"""test_integrations.py: /integration/* for the alert sources (alert_standard,
alert_prometheus): keys, push URLs, names, status, and what the push side sees."""
import re

from tocsin_test import Tocsin, expect_error, run

EVENT = {"title_rule": "disk full", "event_status": "Warning", "alert_key": "disk"}
PROM = {"version": "4", "status": "firing", "alerts": [
    {"status": "firing", "labels": {"alertname": "Down", "severity": "critical"},
     "annotations": {}, "startsAt": "2024-01-01T00:00:00Z", "fingerprint": "abc"}]}
FIELDS = {"integration_id", "type", "name", "description", "status", "channel_id",
          "created_at", "updated_at", "disabled_reason"}


def listing(t, body=None, key=None):
    data = t.api("/integration/list", body or {}, key=key).data
    assert set(data) == {"items", "total", "has_next_page"}, data
    return data


def info(t, iid, key=None):
    return t.api("/integration/info", {"integration_id": iid}, key=key).data


def test_create_info_push():
    with Tocsin() as t:
        cid = t.make_channel("ops")
        r = t.api("/integration/create", {"type": "alert_standard", "name": "Zabbix",
                                          "description": "main zabbix", "channel_id": cid})
        iid, key = r.data["integration_id"], r.data["integration_key"]
        assert re.fullmatch(r"[0-9a-f]{32}", key), key
        assert r.data["push_url"] == "%s/event/push/alert/standard?integration_key=%s" % (
            t.base, key)
        got = info(t, iid)
        assert FIELDS | {"integration_key", "push_url"} == set(got), got
        assert got["type"] == "alert_standard" and got["name"] == "Zabbix"
        assert got["description"] == "main zabbix" and got["status"] == "enabled"
        assert got["channel_id"] == cid and got["integration_key"] == key
        assert got["disabled_reason"] == "" and got["created_at"] > 1600000000
        r = t.api("/integration/create", {"type": "alert_prometheus", "name": "Prom",
                                          "channel_id": cid})
        pid, pkey = r.data["integration_id"], r.data["integration_key"]
        assert pkey != key
        assert info(t, pid)["push_url"].endswith("/event/push/alert/prometheus?integration_key="
                                                 + pkey)
        # The keys work at the push side, each for its own kind.
        t.push(key, EVENT)
        t.push(pkey, PROM, kind="prometheus")
        data = listing(t)
        assert [i["integration_id"] for i in data["items"]] == [iid, pid]
        assert data["total"] == 2 and not data["has_next_page"]


def test_create_rejected():
    with Tocsin() as t:
        cid = t.make_channel("ops")
        gone = t.make_channel("gone")
        t.api("/channel/delete", {"channel_id": gone})
        t.make_source(cid, name="Taken")
        ok = {"type": "alert_standard", "name": "n", "channel_id": cid}
        cases = [
            ({"name": "n", "channel_id": cid}, "type is required"),
            (dict(ok, type="email"),
             "alert_standard, alert_prometheus, webhook_incident, webhook_alert, custom_action"),
            # The pushing kinds take channel_ids and an endpoint, not one channel_id
            # (test_integrations_push.py covers them).
            (dict(ok, type="webhook_incident"), "channel_id is for alert sources"),
            (dict(ok, type="webhook_alert"), "channel_id is for alert sources"),
            ({"type": "custom_action", "name": "n"}, "endpoint is required"),
            ({"type": "alert_standard", "channel_id": cid}, "name is required"),
            (dict(ok, name=""), "name"),
            (dict(ok, name="x" * 129), "name must be at most 128"),
            (dict(ok, name=7), "name must be a string"),
            (dict(ok, description="d" * 501), "description"),
            ({"type": "alert_standard", "name": "n"}, "channel_id is required"),
            (dict(ok, channel_id="1"), "channel_id"),
            (dict(ok, channel_id=999), "channel_id 999 does not exist"),
            (dict(ok, channel_id=gone), "channel_id %d is deleted" % gone),
            (dict(ok, name="TAKEN"), "name 'TAKEN' is already used"),
        ]
        for body, mention in cases:
            expect_error(t.api("/integration/create", body, expect=None), 400,
                         "InvalidParameter", mention)
        assert listing(t)["total"] == 1
        # Names are unique per type: the same name as another type is fine.
        t.make_source(cid, kind="alert_prometheus", name="taken")
        # The limit itself is accepted.
        t.make_source(cid, name="é" * 128)
        assert listing(t)["total"] == 3


def test_admin_only():
    with Tocsin() as t:
        cid = t.make_channel("ops")
        iid, key = t.make_source(cid)
        _, member = t.make_member("Member")
        for path, body in (
                ("/integration/create", {"type": "alert_standard", "name": "m",
                                         "channel_id": cid}),
                ("/integration/update", {"integration_id": iid, "name": "m"}),
                ("/integration/disable", {"integration_id": iid}),
                ("/integration/enable", {"integration_id": iid}),
                ("/integration/delete", {"integration_id": iid})):
            expect_error(t.api(path, body, key=member, expect=None), 403, "AccessDenied",
                         "administrator")
        # Members may read, but never see the key.
        got = info(t, iid, key=member)
        assert set(got) == FIELDS and got["status"] == "enabled", got
        assert "integration_key" not in listing(t, key=member)["items"][0]
        assert info(t, iid)["integration_key"] == key


def test_update():
    with Tocsin() as t:
        a = t.make_channel("a")
        b = t.make_channel("b")
        iid, key = t.make_source(a, name="first")
        other, _ = t.make_source(a, name="second")
        r = t.api("/integration/update", {"integration_id": iid, "name": "renamed",
                                          "description": "now in b", "channel_id": b})
        assert r.data["name"] == "renamed" and r.data["channel_id"] == b
        got = info(t, iid)
        assert (got["name"], got["description"], got["channel_id"]) == ("renamed", "now in b", b)
        assert got["integration_key"] == key, "an update keeps the key"
        t.api("/integration/update", {"integration_id": iid, "type": "alert_standard",
                                      "description": ""})
        assert info(t, iid)["name"] == "renamed" and info(t, iid)["description"] == ""
        before = info(t, iid)
        cases = [
            ({"name": "x"}, "integration_id is required"),
            ({"integration_id": 999, "name": "x"}, "integration_id 999 does not exist"),
            ({"integration_id": iid, "name": "SECOND"}, "name 'SECOND' is already used"),
            ({"integration_id": iid, "type": "alert_prometheus"}, "type cannot be changed"),
            ({"integration_id": iid, "type": "webhook_incident"}, "type cannot be changed"),
            ({"integration_id": iid, "type": "sms"}, "type must be one of"),
            ({"integration_id": iid, "channel_id": 999}, "channel_id 999 does not exist"),
            ({"integration_id": iid, "name": ""}, "name"),
            ({"integration_id": iid, "name": "x" * 129}, "name must be at most 128"),
        ]
        for body, mention in cases:
            expect_error(t.api("/integration/update", body, expect=None), 400,
                         "InvalidParameter", mention)
        assert info(t, iid) == before
        assert info(t, other)["name"] == "second"


def test_status():
    with Tocsin() as t:
        cid = t.make_channel("ops")
        iid, key = t.make_source(cid, name="src")
        pid, pkey = t.make_source(cid, kind="alert_prometheus")
        t.push(key, EVENT)
        t.api("/integration/disable", {"integration_id": iid})
        t.api("/integration/disable", {"integration_id": pid})
        got = info(t, iid)
        assert got["status"] == "disabled" and "admin" in got["disabled_reason"], got
        expect_error(t.push(key, EVENT, expect=None), 401, "Unauthorized")
        expect_error(t.push(pkey, PROM, kind="prometheus", expect=None), 401, "Unauthorized")
        assert [i["integration_id"] for i in listing(t, {"status": "disabled"})["items"]] == \
            [iid, pid]
        t.api("/integration/enable", {"integration_id": iid})
        got = info(t, iid)
        assert got["status"] == "enabled" and got["disabled_reason"] == ""
        t.push(key, EVENT)
        t.api("/integration/delete", {"integration_id": iid})
        got = info(t, iid)
        assert got["status"] == "deleted"
        expect_error(t.push(key, EVENT, expect=None), 401, "Unauthorized")
        assert [i["integration_id"] for i in listing(t)["items"]] == [pid]
        assert [i["integration_id"] for i in listing(t, {"status": "deleted"})["items"]] == [iid]
        for path in ("/integration/enable", "/integration/disable", "/integration/delete",
                     "/integration/update"):
            expect_error(t.api(path, {"integration_id": iid, "name": "x"}, expect=None), 400,
                         "InvalidParameter", "integration_id %d is deleted" % iid)
            expect_error(t.api(path, {"integration_id": 4040}, expect=None), 400,
                         "InvalidParameter", "integration_id 4040 does not exist")
        assert info(t, iid) == got
        # A deleted source's name is free again; the new one gets a new key.
        new_id, new_key = t.make_source(cid, name="SRC")
        assert new_key != key and new_id != iid
        t.push(new_key, EVENT)


def test_list_filters_and_pages():
    with Tocsin() as t:
        a = t.make_channel("a")
        b = t.make_channel("b")
        ids = [t.make_source(a, name="s%d" % i)[0] for i in range(3)]
        ids += [t.make_source(b, kind="alert_prometheus", name="p%d" % i)[0] for i in range(2)]
        data = listing(t, {"p": 2, "limit": 2})
        assert [i["integration_id"] for i in data["items"]] == ids[2:4]
        assert data["total"] == 5 and data["has_next_page"]
        assert not listing(t, {"p": 3, "limit": 2})["has_next_page"]
        assert [i["integration_id"] for i in listing(t, {"type": "alert_prometheus"})["items"]] \
            == ids[3:]
        assert listing(t, {"channel_id": a})["total"] == 3
        assert listing(t, {"channel_id": a, "type": "alert_prometheus"})["total"] == 0
        assert listing(t, {"status": "enabled"})["total"] == 5
        for body, mention in (({"type": "x"}, "type"), ({"status": "on"}, "status"),
                              ({"channel_id": "1"}, "channel_id"), ({"limit": 101}, "limit"),
                              ({"p": "2"}, "p")):
            expect_error(t.api("/integration/list", body, expect=None), 400,
                         "InvalidParameter", mention)
        expect_error(t.api("/integration/info", {}, expect=None), 400, "InvalidParameter",
                     "integration_id is required")
        expect_error(t.api("/integration/info", {"integration_id": 77}, expect=None), 400,
                     "InvalidParameter", "integration_id 77 does not exist")


def test_restart_keeps_integrations():
    with Tocsin() as t:
        cid = t.make_channel("ops")
        iid, key = t.make_source(cid, name="kept")
        off, off_key = t.make_source(cid, kind="alert_prometheus", name="off")
        t.api("/integration/disable", {"integration_id": off})
        before = listing(t, {"status": "enabled"})["items"] + [info(t, off)]
        t.restart()
        assert listing(t, {"status": "enabled"})["items"] + [info(t, off)] == before
        t.push(key, EVENT)
        expect_error(t.push(off_key, PROM, kind="prometheus", expect=None), 401, "Unauthorized")
        expect_error(t.api("/integration/create", {"type": "alert_standard", "name": "KEPT",
                                                   "channel_id": cid}, expect=None),
                     400, "InvalidParameter", "already used")


if __name__ == "__main__":
    run([test_create_info_push, test_create_rejected, test_admin_only, test_update, test_status,
         test_list_filters_and_pages, test_restart_keeps_integrations])
