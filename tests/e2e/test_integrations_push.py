"""test_integrations_push.py: /integration/* for the pushing kinds
(webhook_incident, webhook_alert, custom_action; reference/integrations.md):
every validation rule, the normalized config the dispatcher reads, signing
secrets and their rotation, who sees what, the 3-custom-actions-per-channel
limit (also under concurrent creates), the `subscriptions` rows the outbox
fan-out matches on, and what a restart keeps.

Stored state is read from the store of a stopped tocsin."""
import base64
import json
import threading
import time

from tocsin_test import Tocsin, expect_error, run

ENDPOINT = "https://hooks.example.com/in/tocsin?team=ops&token=q1"
DEFAULT_RETRY = {"max_attempts": 8, "schedule_s": [1, 5, 30, 120, 600, 1800, 3600]}
INCIDENT_TYPES = ["i_new", "i_assign", "i_a_rspd", "i_snooze", "i_wake", "i_ack", "i_unack",
                  "i_storm", "i_custom", "i_rslv", "i_reopen", "i_merge", "i_comm", "i_r_title",
                  "i_r_desc", "i_r_impact", "i_r_rc", "i_r_rsltn", "i_r_severity", "i_r_field"]
ALERT_TYPES = ["a_new", "a_update", "a_merge", "a_close"]
SHOWN = {"integration_id", "type", "name", "description", "status", "disabled_reason",
         "endpoint", "headers", "tls_verify", "timeout_ms", "channel_ids", "event_types",
         "body_template", "retry", "ordered", "signing", "created_at", "updated_at"}


def create(t, kind="webhook_incident", key=None, expect=200, **fields):
    body = {"type": kind, "name": "%s-%d" % (kind, time.time_ns()), "endpoint": ENDPOINT}
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not None}
    return t.api("/integration/create", body, key=key, expect=expect)


def info(t, iid, key=None):
    return t.api("/integration/info", {"integration_id": iid}, key=key).data


def listing(t, body=None, key=None):
    return t.api("/integration/list", body or {}, key=key).data


def stored(t, sql, args=()):
    """Rows of a query against the database of the stopped tocsin (restarted after)."""
    t.stop()
    try:
        return t.db_query(sql, args)
    finally:
        t.start()


def subscriptions(t):
    return stored(t, "SELECT integration_id, kind, channel_id, event_type FROM subscriptions"
                     " ORDER BY integration_id, kind, channel_id, event_type")


def is_secret(s):
    assert isinstance(s, str) and s.startswith("whsec_"), s
    assert len(base64.b64decode(s[len("whsec_"):], validate=True)) == 32, s
    return True


def test_create_info_defaults():
    with Tocsin() as t:
        a = t.make_channel("a")
        r = create(t, name="Tickets")
        iid = r.data["integration_id"]
        assert set(r.data) == {"integration_id", "signing_secret"}, r.data
        assert is_secret(r.data["signing_secret"])
        got = info(t, iid)
        assert set(got) == SHOWN | {"signing_secret"}, got
        assert got["signing_secret"] == r.data["signing_secret"]
        assert got["type"] == "webhook_incident" and got["name"] == "Tickets"
        assert got["status"] == "enabled" and got["disabled_reason"] == ""
        assert got["endpoint"] == ENDPOINT, "the query string is kept as given"
        assert (got["headers"], got["tls_verify"], got["timeout_ms"]) == ({}, True, 1000)
        assert (got["channel_ids"], got["event_types"], got["body_template"]) == ([], [], "")
        assert (got["retry"], got["ordered"], got["signing"]) == (DEFAULT_RETRY, True, True)
        assert got["created_at"] > 1600000000 and got["updated_at"] >= got["created_at"]
        # Every field given, and the secret-looking header values masked.
        full = {"description": "to the ticket system",
                "headers": {"Authorization": "Bearer abc", "X-Api-Key": "k1", "X-Team": "ops",
                            "Cookie": "s=1", "X-Auth-Token": "t", "X-Password": "p",
                            "X-Client-Secret": "s"},
                "tls_verify": False, "timeout_ms": 10000, "channel_ids": [a],
                "event_types": ["i_new", "i_rslv"], "body_template": '{"id": "{{incident.'
                "incident_id}}\", \"text\": \"{{incident.title}} is {{incident.progress}}\"}",
                "retry": {"max_attempts": 20, "schedule_s": [2, 86400]},
                "ordered": False, "signing": False}
        r = create(t, name="Full", **full)
        got = info(t, r.data["integration_id"])
        assert got["headers"] == {"Authorization": "***", "X-Api-Key": "***", "X-Team": "ops",
                                  "Cookie": "***", "X-Auth-Token": "***", "X-Password": "***",
                                  "X-Client-Secret": "***"}, got["headers"]
        for field, value in full.items():
            if field != "headers":
                assert got[field] == value, (field, got[field])
        # The stored config is the normalized document the dispatcher reads.
        config = json.loads(stored(t, "SELECT config FROM integrations WHERE integration_id=?",
                                   (r.data["integration_id"],))[0][0])
        assert config == {"endpoint": ENDPOINT, "headers": full["headers"],
                          "tls_verify": False, "timeout_ms": 10000, "channel_ids": [a],
                          "event_types": ["i_new", "i_rslv"],
                          "body_template": full["body_template"], "retry": full["retry"],
                          "ordered": False, "signing": False}, config
        # The alert webhook and the custom action.
        w = create(t, "webhook_alert", name="Alerts", event_types=["a_new", "a_close"]).data
        c = create(t, "custom_action", name="Restart", channel_ids=[a],
                   endpoint="http://heal.example.com:8080/restart").data
        assert is_secret(w["signing_secret"]) and is_secret(c["signing_secret"])
        assert len({w["signing_secret"], c["signing_secret"], r.data["signing_secret"]}) == 3
        got = info(t, c["integration_id"])
        assert got["type"] == "custom_action" and got["channel_ids"] == [a]
        assert got["event_types"] == ["i_custom"] and got["body_template"] == ""
        assert got["endpoint"] == "http://heal.example.com:8080/restart"
        assert info(t, w["integration_id"])["event_types"] == ["a_new", "a_close"]
        # A custom action may name its one type.
        create(t, "custom_action", channel_ids=[a], event_types=["i_custom"])
        data = listing(t)
        assert data["total"] == 5 and [i["name"] for i in data["items"][:4]] == [
            "Tickets", "Full", "Alerts", "Restart"]
        assert set(data["items"][0]) == SHOWN | {"signing_secret"}
        assert [i["integration_id"] for i in listing(t, {"type": "webhook_alert"})["items"]] \
            == [w["integration_id"]]
        # The limits themselves are accepted.
        create(t, endpoint="http://h.example.com/" + "p" * (2048 - 21), timeout_ms=1,
               retry={"max_attempts": 1, "schedule_s": [1] * 16},
               headers={"X-" + "h" * 254: "v" * 4096}, name="é" * 128,
               description="d" * 500, event_types=INCIDENT_TYPES)


def bad_create_cases(a, gone):
    """(type, fields laid over a valid body, what the message must mention)."""
    wi, wa, ca = "webhook_incident", "webhook_alert", "custom_action"
    return [
        # endpoint
        (wi, {"endpoint": None}, "endpoint is required"),
        (wi, {"endpoint": ""}, "endpoint must not be empty"),
        (wi, {"endpoint": 7}, "endpoint must be a string"),
        (wi, {"endpoint": "ftp://files.example.com/x"},
         "endpoint must start with http:// or https://"),
        (wi, {"endpoint": "hooks.example.com/x"}, "endpoint must start with http:// or https://"),
        (wi, {"endpoint": "javascript:alert(1)"}, "endpoint must start with http:// or https://"),
        (wi, {"endpoint": "http://h.example.com/" + "p" * (2048 - 20)},
         "endpoint must be at most 2048 characters"),
        (wi, {"endpoint": "http://"}, "endpoint is not a valid URL"),
        (wi, {"endpoint": "https://:443/x"}, "endpoint is not a valid URL"),
        (wi, {"endpoint": "https://[::1/x"}, "endpoint is not a valid URL"),
        (wi, {"endpoint": "http://h.example.com:99999/"}, "endpoint is not a valid URL"),
        (wi, {"endpoint": "https://exa mple.com/x"}, "endpoint must not contain spaces"),
        (wi, {"endpoint": "https://example.com/x\r\nHost: evil"},
         "endpoint must not contain spaces or control characters"),
        # headers
        (wi, {"headers": ["X-A", "1"]}, "headers must be an object"),
        (wi, {"headers": {"X-Foo": 1}}, "headers.X-Foo must be a string"),
        (wi, {"headers": {"X-Foo": "a\r\nX-Evil: 1"}}, "headers.X-Foo must not contain CR or LF"),
        (wi, {"headers": {"X-Foo": "a\nb"}}, "headers.X-Foo must not contain CR or LF"),
        (wi, {"headers": {"X-Foo": "a\rb"}}, "headers.X-Foo must not contain CR or LF"),
        (wi, {"headers": {"X-Foo": "a\x01b"}}, "headers.X-Foo must not contain control"),
        (wi, {"headers": {"X-\r\nFoo": "a"}}, "must not contain CR or LF"),
        (wi, {"headers": {"X-\nFoo": "a"}}, "headers.X-\\x0aFoo must not contain CR or LF"),
        (wi, {"headers": {"X Foo": "a"}}, "headers.X Foo is not a valid header name"),
        (wi, {"headers": {"X-Foo:": "a"}}, "headers.X-Foo: is not a valid header name"),
        (wi, {"headers": {"": "a"}}, "headers must not have an empty name"),
        (wi, {"headers": {"X-Tag": "1", "x-tag": "2"}}, "headers.x-tag appears twice"),
        (wi, {"headers": {"X-" + "h" * 255: "v"}}, "headers: a header name must be at most 256"),
        (wi, {"headers": {"X-Big": "v" * 4097}}, "headers.X-Big must be at most 4096"),
        (wi, {"headers": {"X-%d" % i: "v" for i in range(51)}}, "headers must have at most 50"),
        (wi, {"headers": {"Content-Type": "text/plain"}}, "headers.Content-Type may not be set"),
        (wi, {"headers": {"content-length": "9"}}, "headers.content-length may not be set"),
        (wi, {"headers": {"HOST": "evil"}}, "headers.HOST may not be set"),
        (wi, {"headers": {"Webhook-Id": "x"}}, "headers.Webhook-Id may not be set"),
        (wi, {"headers": {"webhook-timestamp": "1"}}, "headers.webhook-timestamp may not be set"),
        (wa, {"headers": {"WEBHOOK-SIGNATURE": "v1,x"}},
         "headers.WEBHOOK-SIGNATURE may not be set"),
        (ca, {"headers": {"Tocsin-Sequence": "1"}}, "headers.Tocsin-Sequence may not be set"),
        # tls_verify, timeout_ms, ordered, signing
        (wi, {"tls_verify": "no"}, "tls_verify must be true or false"),
        (wi, {"tls_verify": 0}, "tls_verify must be true or false"),
        (wi, {"timeout_ms": 0}, "timeout_ms must be between 1 and 10000"),
        (wi, {"timeout_ms": 10001}, "timeout_ms must be between 1 and 10000"),
        (wi, {"timeout_ms": "1000"}, "timeout_ms must be an integer"),
        (wi, {"timeout_ms": 1.5}, "timeout_ms must be an integer"),
        (wi, {"ordered": "true"}, "ordered must be true or false"),
        (ca, {"signing": 1}, "signing must be true or false"),
        # channel_ids
        (wi, {"channel_ids": a}, "channel_ids must be an array"),
        (wi, {"channel_ids": [str(a)]}, "channel_ids[0] must be an integer"),
        (wi, {"channel_ids": [0]}, "channel_ids[0] must be a channel id"),
        (wi, {"channel_ids": [a, a]}, "channel_ids[1] repeats channel %d" % a),
        (wi, {"channel_ids": [a, 999]}, "channel_ids[1]: channel_id 999 does not exist"),
        (wa, {"channel_ids": [gone]}, "channel_ids[0]: channel_id %d is deleted" % gone),
        (ca, {"channel_ids": None}, "channel_ids is required"),
        (ca, {"channel_ids": []}, "channel_ids must have at least 1 item"),
        (ca, {"channel_ids": [999]}, "channel_ids[0]: channel_id 999 does not exist"),
        (wi, {"channel_id": a}, "channel_id is for alert sources"),
        # event_types
        (wi, {"event_types": "i_new"}, "event_types must be an array"),
        (wi, {"event_types": [1]}, "event_types[0] must be a string"),
        (wi, {"event_types": ["i_new", "a_new"]},
         "event_types[1] 'a_new' is not one of webhook_incident"),
        (wi, {"event_types": ["i_notify"]}, "event_types[0] 'i_notify' is not one of"),
        (wi, {"event_types": ["i_new", "i_new"]}, "event_types[1] repeats i_new"),
        (wa, {"event_types": ["i_new"]}, "event_types[0] 'i_new' is not one of webhook_alert"),
        (wa, {"event_types": ["A_NEW"]}, "event_types[0] 'A_NEW' is not one of webhook_alert"),
        (ca, {"event_types": ["i_new"]}, "event_types: a custom_action always sends i_custom"),
        # body_template
        (wi, {"body_template": "not json"}, "body_template is not valid JSON"),
        (wa, {"body_template": '{"a": "{{alert.title"}'}, "body_template"),
        (wi, {"body_template": 5}, "body_template must be a string"),
        (ca, {"body_template": "{}"}, "body_template is for webhooks only"),
        # retry
        (wi, {"retry": 3}, "retry must be an object"),
        (wi, {"retry": {"max_attempts": 0}}, "retry.max_attempts must be between 1 and 20"),
        (wi, {"retry": {"max_attempts": 21}}, "retry.max_attempts must be between 1 and 20"),
        (wi, {"retry": {"max_attempts": "3"}}, "retry.max_attempts must be an integer"),
        (wi, {"retry": {"schedule_s": []}}, "retry.schedule_s must have at least 1 item"),
        (wi, {"retry": {"schedule_s": [1] * 17}}, "retry.schedule_s must have at most 16"),
        (wi, {"retry": {"schedule_s": [1, 0]}}, "retry.schedule_s[1] must be between 1 and 86400"),
        (wa, {"retry": {"schedule_s": [86401]}},
         "retry.schedule_s[0] must be between 1 and 86400"),
        (wi, {"retry": {"schedule_s": ["5"]}}, "retry.schedule_s[0] must be an integer"),
        (wi, {"retry": {"schedule_s": 5}}, "retry.schedule_s must be an array"),
        # name, description
        (wi, {"name": None}, "name is required"),
        (wi, {"name": ""}, "name must not be empty"),
        (wi, {"name": "x" * 129}, "name must be at most 128 characters"),
        (wi, {"name": "TAKEN"}, "name 'TAKEN' is already used"),
        (wi, {"description": "d" * 501}, "description must be at most 500 characters"),
    ]


def test_create_rejected():
    with Tocsin() as t:
        a = t.make_channel("a")
        gone = t.make_channel("gone")
        t.api("/channel/delete", {"channel_id": gone})
        taken = create(t, name="Taken").data["integration_id"]
        before = info(t, taken)
        for kind, fields, mention in bad_create_cases(a, gone):
            body = {"type": kind, "name": "n", "endpoint": ENDPOINT}
            if kind == "custom_action":
                body["channel_ids"] = [a]
            body.update(fields)
            body = {k: v for k, v in body.items() if v is not None}
            expect_error(t.api("/integration/create", body, expect=None), 400,
                         "InvalidParameter", mention)
        # NUL cannot even be parsed: refused before any field is read.
        for raw in ('{"type":"webhook_incident","name":"n","endpoint":"%s",'
                    '"headers":{"X-A":"a\\u0000b"}}' % ENDPOINT,
                    '{"type":"webhook_incident","name":"n","endpoint":"%s",'
                    '"headers":{"X-\\u0000A":"b"}}' % ENDPOINT):
            expect_error(t.request("POST", "/integration/create?app_key=" + t.admin_key,
                                   raw=raw.encode()), 400, "InvalidParameter", "u0000")
        # Nothing changed: one integration, its subscription row, one secret.
        assert listing(t, {"status": "deleted"})["total"] == 0
        assert [i["integration_id"] for i in listing(t)["items"]] == [taken]
        assert info(t, taken) == before
        assert subscriptions(t) == [(taken, "incident", 0, "")]
        assert stored(t, "SELECT COUNT(*) FROM integrations")[0][0] == 1
        # The same name is fine for another type.
        create(t, "webhook_alert", name="taken")


def test_update():
    with Tocsin() as t:
        a, b, c = (t.make_channel(n) for n in "abc")
        r = create(t, name="first", headers={"Authorization": "Bearer one", "X-Team": "ops"},
                   channel_ids=[a], event_types=["i_new"])
        iid, secret = r.data["integration_id"], r.data["signing_secret"]
        create(t, name="second")
        before = info(t, iid)
        got = t.api("/integration/update", {
            "integration_id": iid, "type": "webhook_incident", "name": "renamed",
            "endpoint": "http://other.example.com/x?a=b", "channel_ids": [b, c],
            "event_types": ["i_ack", "i_rslv"], "timeout_ms": 2500,
            "retry": {"max_attempts": 3}}).data
        assert set(got) == SHOWN | {"signing_secret"}, got
        assert got == info(t, iid)
        assert got["name"] == "renamed" and got["endpoint"] == "http://other.example.com/x?a=b"
        assert got["channel_ids"] == [b, c] and got["event_types"] == ["i_ack", "i_rslv"]
        assert got["timeout_ms"] == 2500
        assert got["retry"] == {"max_attempts": 3, "schedule_s": DEFAULT_RETRY["schedule_s"]}, \
            "a partial retry keeps the other sub-field"
        # Fields not given are kept; so is the secret.
        for field in ("headers", "tls_verify", "body_template", "ordered", "signing",
                      "description", "created_at"):
            assert got[field] == before[field], field
        assert got["signing_secret"] == secret
        # Sending back the masked value keeps the stored one; a new value replaces it.
        t.api("/integration/update", {"integration_id": iid,
                                      "headers": dict(got["headers"], **{"X-More": "1"})})
        config = json.loads(stored(t, "SELECT config FROM integrations WHERE integration_id=?",
                                   (iid,))[0][0])
        assert config["headers"] == {"Authorization": "Bearer one", "X-Team": "ops",
                                     "X-More": "1"}, config
        t.api("/integration/update", {"integration_id": iid, "headers": {
            "authorization": "***", "X-Token": "***"}, "channel_ids": [], "event_types": [],
            "retry": {"schedule_s": [7]}})
        config = json.loads(stored(t, "SELECT config FROM integrations WHERE integration_id=?",
                                   (iid,))[0][0])
        assert config["headers"] == {"authorization": "Bearer one", "X-Token": "***"}, config
        assert config["retry"] == {"max_attempts": 3, "schedule_s": [7]}
        assert subscriptions(t)[0] == (iid, "incident", 0, "")
        # Every validation rule holds on update too, and changes nothing.
        before = info(t, iid)
        t.api("/channel/delete", {"channel_id": c})
        cases = [
            ({"endpoint": "ftp://x.example.com"}, "endpoint must start with http:// or https://"),
            ({"endpoint": ""}, "endpoint must not be empty"),
            ({"headers": {"X-A": "1\r\n"}}, "headers.X-A must not contain CR or LF"),
            ({"headers": {"Host": "x"}}, "headers.Host may not be set"),
            ({"headers": {"X-A": "1", "X-a": "2"}}, "headers.X-a appears twice"),
            ({"timeout_ms": 10001}, "timeout_ms must be between 1 and 10000"),
            ({"tls_verify": None, "ordered": 1}, "ordered must be true or false"),
            ({"channel_ids": [999]}, "channel_ids[0]: channel_id 999 does not exist"),
            ({"channel_ids": [c]}, "channel_ids[0]: channel_id %d is deleted" % c),
            ({"event_types": ["a_new"]}, "event_types[0] 'a_new' is not one of"),
            ({"body_template": "{"}, "body_template"),
            ({"retry": {"schedule_s": [0]}}, "retry.schedule_s[0] must be between 1 and 86400"),
            ({"name": "SECOND"}, "name 'SECOND' is already used"),
            ({"name": ""}, "name must not be empty"),
            ({"type": "webhook_alert"}, "type cannot be changed"),
            ({"channel_id": a}, "channel_id is for alert sources"),
        ]
        for fields, mention in cases:
            body = dict({"integration_id": iid}, **fields)
            body = {k: v for k, v in body.items() if v is not None}
            expect_error(t.api("/integration/update", body, expect=None), 400,
                         "InvalidParameter", mention)
        assert info(t, iid) == before
        # A channel deleted after it was chosen does not block other updates.
        t.api("/integration/update", {"integration_id": iid, "channel_ids": [a, b]})
        t.api("/channel/delete", {"channel_id": b})
        got = t.api("/integration/update", {"integration_id": iid, "name": "again"}).data
        assert got["channel_ids"] == [a, b] and got["name"] == "again"
        # A custom action keeps at least one channel and takes no template.
        act = create(t, "custom_action", channel_ids=[a]).data["integration_id"]
        for fields, mention in (({"channel_ids": []}, "channel_ids must have at least 1 item"),
                                ({"body_template": "{}"}, "body_template is for webhooks only"),
                                ({"event_types": ["i_ack"]}, "a custom_action always sends")):
            expect_error(t.api("/integration/update", dict({"integration_id": act}, **fields),
                               expect=None), 400, "InvalidParameter", mention)
        assert info(t, act)["channel_ids"] == [a]


def test_status_and_subscriptions():
    with Tocsin() as t:
        a, b = t.make_channel("a"), t.make_channel("b")
        every = create(t, name="every").data["integration_id"]
        some = create(t, name="some", channel_ids=[a, b],
                      event_types=["i_new", "i_ack"]).data["integration_id"]
        alerts = create(t, "webhook_alert", channel_ids=[b]).data["integration_id"]
        typed = create(t, "webhook_alert", event_types=["a_new", "a_close"]).data[
            "integration_id"]
        act = create(t, "custom_action", channel_ids=[a]).data["integration_id"]
        src, _ = t.make_source(a)
        want = sorted([(every, "incident", 0, ""),
                       (some, "incident", a, "i_ack"), (some, "incident", a, "i_new"),
                       (some, "incident", b, "i_ack"), (some, "incident", b, "i_new"),
                       (alerts, "alert", b, ""),
                       (typed, "alert", 0, "a_close"), (typed, "alert", 0, "a_new")])
        assert subscriptions(t) == want, subscriptions(t)
        assert not any(row[0] in (act, src) for row in subscriptions(t))
        # An update rewrites the rows.
        t.api("/integration/update", {"integration_id": some, "channel_ids": [b],
                                      "event_types": ["i_rslv"]})
        want = sorted([r for r in want if r[0] != some] + [(some, "incident", b, "i_rslv")])
        assert subscriptions(t) == want
        # Disabled: kept (its events keep queueing), and shown disabled.
        for iid in (some, act):
            t.api("/integration/disable", {"integration_id": iid})
            got = info(t, iid)
            assert got["status"] == "disabled" and "admin" in got["disabled_reason"], got
        assert subscriptions(t) == want
        assert [i["integration_id"] for i in listing(t, {"status": "disabled"})["items"]] == \
            [some, act]
        expect_error(t.api("/integration/disable", {"integration_id": 999}, expect=None), 400,
                     "InvalidParameter", "integration_id 999 does not exist")
        t.api("/integration/enable", {"integration_id": some})
        got = info(t, some)
        assert got["status"] == "enabled" and got["disabled_reason"] == ""
        assert subscriptions(t) == want
        # Deleted: no rows; refused for every change; the name is free again.
        name = info(t, some)["name"]
        t.api("/integration/delete", {"integration_id": some})
        t.api("/integration/delete", {"integration_id": act})
        want = [r for r in want if r[0] != some]
        assert subscriptions(t) == want
        assert info(t, some)["status"] == "deleted"
        for path in ("/integration/enable", "/integration/disable", "/integration/delete",
                     "/integration/update", "/integration/rotate-secret"):
            expect_error(t.api(path, {"integration_id": some, "name": "x"}, expect=None), 400,
                         "InvalidParameter", "integration_id %d is deleted" % some)
        assert [i["integration_id"] for i in listing(t, {"status": "deleted"})["items"]] == \
            [some, act]
        again = create(t, name=name.upper()).data["integration_id"]
        assert subscriptions(t) == sorted(want + [(again, "incident", 0, "")])


def test_list_by_channel():
    with Tocsin() as t:
        a, b = t.make_channel("a"), t.make_channel("b")
        every = create(t).data["integration_id"]
        in_b = create(t, "webhook_alert", channel_ids=[b]).data["integration_id"]
        act_a = create(t, "custom_action", channel_ids=[a, b]).data["integration_id"]
        src_a, _ = t.make_source(a)
        ids = lambda body: [i["integration_id"] for i in listing(t, body)["items"]]  # noqa
        assert ids({"channel_id": a}) == [every, act_a, src_a]
        assert ids({"channel_id": b}) == [every, in_b, act_a]
        assert ids({"channel_id": b, "type": "custom_action"}) == [act_a]
        data = listing(t, {"channel_id": b, "p": 2, "limit": 2})
        assert [i["integration_id"] for i in data["items"]] == [act_a]
        assert data["total"] == 3 and not data["has_next_page"]
        data = listing(t, {"p": 1, "limit": 3})
        assert data["total"] == 4 and data["has_next_page"]


def test_rotate_secret():
    with Tocsin() as t:
        a = t.make_channel("a")
        iid, first = (lambda d: (d["integration_id"], d["signing_secret"]))(create(t).data)
        assert "prev_signing_secret" not in info(t, iid)
        r = t.api("/integration/rotate-secret", {"integration_id": iid})
        assert set(r.data) == {"signing_secret"} and is_secret(r.data["signing_secret"])
        second = r.data["signing_secret"]
        assert second != first
        got = info(t, iid)
        now = time.time()
        assert got["signing_secret"] == second and got["prev_signing_secret"] == first
        assert abs(got["prev_secret_expires_at"] - (now + 24 * 3600)) < 120, got
        row = stored(t, "SELECT signing_secret, prev_signing_secret, prev_secret_expires_at"
                        " FROM integrations WHERE integration_id=?", (iid,))[0]
        assert row == (second, first, got["prev_secret_expires_at"])
        # Rotating again replaces the previous one; disabled ones rotate too.
        t.api("/integration/disable", {"integration_id": iid})
        third = t.api("/integration/rotate-secret", {"integration_id": iid}).data[
            "signing_secret"]
        got = info(t, iid)
        assert len({first, second, third}) == 3
        assert (got["signing_secret"], got["prev_signing_secret"]) == (third, second)
        act = create(t, "custom_action", channel_ids=[a]).data
        new = t.api("/integration/rotate-secret", {"integration_id": act["integration_id"]})
        assert new.data["signing_secret"] != act["signing_secret"]
        # An expired previous secret is not shown (made expired in the file).
        t.stop()
        t.db_exec("UPDATE integrations SET prev_secret_expires_at=? WHERE integration_id=?",
                  (int(time.time()) - 1, iid))
        t.start()
        got = info(t, iid)
        assert "prev_signing_secret" not in got and "prev_secret_expires_at" not in got
        assert got["signing_secret"] == third
        # Only pushing kinds have secrets.
        src, _ = t.make_source(a)
        for body, mention in (({"integration_id": src}, "integration_id %d is alert_standard"
                                                        % src),
                              ({"integration_id": 999}, "integration_id 999 does not exist"),
                              ({}, "integration_id is required")):
            expect_error(t.api("/integration/rotate-secret", body, expect=None), 400,
                         "InvalidParameter", mention)


def test_admin_only():
    with Tocsin() as t:
        a = t.make_channel("a")
        iid = create(t, headers={"X-Api-Key": "k", "X-Team": "ops"}).data["integration_id"]
        t.api("/integration/rotate-secret", {"integration_id": iid})
        _, member = t.make_member("Member")
        before = info(t, iid)
        for path, body in (
                ("/integration/create", {"type": "webhook_incident", "name": "m",
                                         "endpoint": ENDPOINT}),
                ("/integration/create", {"type": "custom_action", "name": "m",
                                         "endpoint": ENDPOINT, "channel_ids": [a]}),
                ("/integration/update", {"integration_id": iid, "name": "m"}),
                ("/integration/disable", {"integration_id": iid}),
                ("/integration/enable", {"integration_id": iid}),
                ("/integration/rotate-secret", {"integration_id": iid}),
                ("/integration/delete", {"integration_id": iid})):
            r = t.api(path, body, key=member, expect=None)
            expect_error(r, 403, "AccessDenied", "administrator")
            assert "signing_secret" not in r.raw.decode()
        assert info(t, iid) == before
        # Members read everything but the secrets; masked headers stay masked.
        got = info(t, iid, key=member)
        assert set(got) == SHOWN, got
        assert got["headers"] == {"X-Api-Key": "***", "X-Team": "ops"}
        items = listing(t, key=member)["items"]
        assert set(items[0]) == SHOWN
        assert {"signing_secret", "prev_signing_secret", "prev_secret_expires_at"} <= set(
            info(t, iid))
        # An administrator made later sees them.
        _, admin2 = t.make_member("Boss", admin=True)
        assert info(t, iid, key=admin2)["signing_secret"] == before["signing_secret"]


def test_custom_action_limit():
    with Tocsin() as t:
        a, b, c = (t.make_channel(n) for n in "abc")
        acts = [create(t, "custom_action", channel_ids=[a]).data["integration_id"]
                for _ in range(3)]
        create(t, "custom_action", channel_ids=[b])
        r = create(t, "custom_action", channel_ids=[b, a], expect=None)
        expect_error(r, 400, "InvalidParameter",
                     "channel_ids[1]: channel %d already has 3 custom actions" % a)
        # Disabled ones count (they may be enabled again); webhooks do not.
        t.api("/integration/disable", {"integration_id": acts[0]})
        expect_error(create(t, "custom_action", channel_ids=[a], expect=None), 400,
                     "InvalidParameter", "at most 3 per channel")
        create(t, channel_ids=[a])
        t.api("/integration/enable", {"integration_id": acts[0]})
        # Moving another action into the full channel is refused; editing one inside is fine.
        other = create(t, "custom_action", channel_ids=[c]).data["integration_id"]
        expect_error(t.api("/integration/update", {"integration_id": other,
                                                   "channel_ids": [c, a]}, expect=None),
                     400, "InvalidParameter", "channel_ids[1]: channel %d already has 3" % a)
        assert info(t, other)["channel_ids"] == [c]
        t.api("/integration/update", {"integration_id": acts[1], "name": "renamed",
                                      "channel_ids": [a, c]})
        # A deleted one frees its place.
        t.api("/integration/delete", {"integration_id": acts[2]})
        create(t, "custom_action", channel_ids=[a])
        assert listing(t, {"channel_id": a, "type": "custom_action"})["total"] == 3
        # Concurrent creates: the count is taken in the writer, so exactly 3 pass.
        d = t.make_channel("d")
        results = []

        def make(i):
            results.append(create(t, "custom_action", name="race-%d" % i, channel_ids=[d],
                                  expect=None))
        threads = [threading.Thread(target=make, args=(i,)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(r.status for r in results) == [200] * 3 + [400] * 5, results
        for r in results:
            if r.status == 400:
                expect_error(r, 400, "InvalidParameter", "already has 3 custom actions")
        assert listing(t, {"channel_id": d, "type": "custom_action"})["total"] == 3


def test_restart_keeps_everything():
    with Tocsin() as t:
        a, b = t.make_channel("a"), t.make_channel("b")
        hook = create(t, name="hook", channel_ids=[a], event_types=["i_new", "i_comm"],
                      headers={"Authorization": "Bearer z"}, timeout_ms=300,
                      retry={"max_attempts": 2, "schedule_s": [3]}, ordered=False,
                      body_template='{"t": "{{incident.title}}"}').data["integration_id"]
        t.api("/integration/rotate-secret", {"integration_id": hook})
        off = create(t, "webhook_alert", channel_ids=[b]).data["integration_id"]
        t.api("/integration/disable", {"integration_id": off})
        act = create(t, "custom_action", channel_ids=[a, b], tls_verify=False).data[
            "integration_id"]
        gone = create(t).data["integration_id"]
        t.api("/integration/delete", {"integration_id": gone})
        ids = (hook, off, act, gone)
        before = [info(t, i) for i in ids]
        subs = subscriptions(t)
        t.restart()
        assert [info(t, i) for i in ids] == before
        assert subscriptions(t) == subs
        assert subs == sorted([(hook, "incident", a, "i_comm"), (hook, "incident", a, "i_new"),
                               (off, "alert", b, "")])
        expect_error(create(t, name="HOOK", expect=None), 400, "InvalidParameter",
                     "already used")
        for _ in range(2):
            create(t, "custom_action", channel_ids=[a])
        expect_error(create(t, "custom_action", channel_ids=[a], expect=None), 400,
                     "InvalidParameter", "already has 3 custom actions")


if __name__ == "__main__":
    run([test_create_info_defaults, test_create_rejected, test_update,
         test_status_and_subscriptions, test_list_by_channel, test_rotate_secret,
         test_admin_only, test_custom_action_limit, test_restart_keeps_everything])
