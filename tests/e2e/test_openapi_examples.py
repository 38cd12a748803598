"""test_openapi_examples.py: the Open API reference's own examples, run as
outside clients would run them.

A client written against reference/oncall-openapi.subset.json (and the
channel rules' oncall-openapi.rules.json beside it) starts from
the request example of each path. For every path of the spec (all POST),
this test takes that example body, replaces only the ids in it with real
ones made in the test (incidents, alerts, channels, persons, integrations),
keeps every other field exactly as written, posts it with the admin app key
and checks HTTP 200 and that the whole response validates against the
path's 200 schema. The calls run in an order that makes every state
transition legal (ack before unack, resolve before reopen, ...).
/webhook/history/detail needs a delivery attempt, which only delivery
writes: the test seeds one into the store of the stopped tocsin first. One
path cannot succeed by design today and must give its documented error
instead (see EXPECTED_ERRORS).

For every path it also checks the request schema is enforced as the
reference says: each `required` field removed from the example gives 400
InvalidParameter naming that field, and each field of the schema (in the
example or not, and one level down in objects) given a value of the wrong
JSON type gives InvalidParameter naming it, and none of these changes the
store. They run on the same real-id body just before the example is
posted, so nothing but the one broken field is wrong.
"""
import contextlib
import copy
import time

from tocsin_test import (Tocsin, expect_error, run, spec, validate_feed_response,
                         validate_response)

FEED_PATHS = ("/incident/feed", "/alert/feed")

# The keys whose example values are ids of things the test must create
# first. Every one found anywhere in an example must be replaced by a real
# id (substitute() checks); team_id and role_ids name things tocsin does
# not have and stay as written.
ID_KEYS = {"incident_id", "incident_ids", "source_incident_ids", "target_incident_id",
           "alert_id", "alert_ids", "channel_id", "channel_ids", "person_ids", "member_id",
           "integration_id", "rule_id"}

# Paths whose example cannot succeed by design in tocsin today: the error
# they must give instead, and the field its message must name.
EXPECTED_ERRORS = {
    # Only a custom_action integration bound to the incident's channel can be
    # run, and none can exist until delivery does (/integration/create
    # refuses the pushing kinds). The real integration we pass is an alert
    # source, which the call must refuse by naming integration_id.
    "/incident/custom-action/do": ("InvalidParameter", "integration_id"),
    # The inhibit update example leaves out source_filters and target_filters,
    # but an update replaces the whole rule and empty filters are refused
    # (reference/rules.md, tocsin's decisions); test_channel_rules.py updates
    # inhibit rules with every field.
    "/channel/inhibit/rule/update": ("InvalidParameter", "source_filters"),
}

# Fields the reference requires that tocsin's decisions make optional
# (reference/rules.md, "tocsin's decisions"): removing them is no error.
OPTIONAL_BY_DECISION = {
    ("/channel/escalate/rule/create", "template_id"),
    ("/channel/escalate/rule/update", "template_id"),
}

# The webhook_history columns, as tests/e2e/test_history.py writes them.
HISTORY_COLUMNS = ("integration_id", "event_id", "webhook_type", "event_type", "channel_id",
                   "ref_id", "endpoint", "attempt", "duration_ms", "status", "status_code",
                   "error_message", "request_headers", "request_body", "response_headers",
                   "response_body", "event_time", "created_at")


# The spec -----------------------------------------------------------------------
def resolve(schema):
    """A property schema with $ref and single-entry allOf followed."""
    comps = spec()["components"]["schemas"]
    while isinstance(schema, dict):
        if "$ref" in schema:
            schema = comps[schema["$ref"].rsplit("/", 1)[1]]
        elif len(schema.get("allOf", ())) == 1 and "type" not in schema:
            schema = schema["allOf"][0]
        else:
            break
    return schema or {}


def request_schema(path):
    content = spec()["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return resolve(content["schema"])


def example(path):
    """A deep copy of the path's request example (example, or the first of examples)."""
    content = spec()["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    if "example" in content:
        return copy.deepcopy(content["example"])
    first = next(iter(content["examples"].values()))
    return copy.deepcopy(first.get("value", first))


def substitute(path, subs):
    """The path's example with the ids replaced: subs maps a key, or a dotted
    key for a nested one ("assigned_to.person_ids"), to its real value. Only
    keys the example has may be replaced, and every id key it has must be."""
    body = example(path)
    for dotted, value in subs.items():
        parent, keys = body, dotted.split(".")
        for k in keys[:-1]:
            parent = parent[k]
        assert keys[-1] in parent, "%s: the example has no %s" % (path, dotted)
        parent[keys[-1]] = value

    def check(node, prefix):
        for k, v in node.items():
            name = prefix + k
            if k in ID_KEYS:
                assert name in subs, "%s: example id %s=%r was not replaced" % (path, name, v)
            elif isinstance(v, dict):
                check(v, name + ".")
    check(body, "")
    return body


# Rejections -----------------------------------------------------------------------
def wrong_value(schema, value):
    """A value of the wrong JSON type for schema (None when it takes any type)."""
    kind = schema.get("type")
    if kind == "integer" or kind == "number":
        return str(value) if value is not None else "1"
    if kind == "string":
        return 12345
    if kind == "boolean":
        return "true"
    if kind == "array":
        return "not-an-array"
    if kind == "object":
        return ["not-an-object"]
    return None


def wrong_element(schema):
    """An array of one element of the wrong type for the array's items."""
    items = resolve(schema.get("items") or {})
    if items.get("type") in ("integer", "number"):
        return ["1"]
    if items.get("type") == "string":
        return [12345]
    if items.get("type") == "object":
        return ["not-an-object"]
    return None


def broken_bodies(path, body):
    """(description, body, field the message must name) for the request
    schema's fields: each required one of the example removed; each one of
    the example given a value of the wrong type, and each array an element
    of the wrong type; each one the example leaves out added with the wrong
    type (tocsin accepts fields of features it lacks, but only well-typed).
    The same one level down, inside the objects of the example and the
    optional objects it leaves out."""
    out = []

    def add(label, field, where, value):
        broken = copy.deepcopy(body)
        where(broken)[field] = value
        out.append(("%s%s=%r" % (label, field, value), broken, field))

    def walk(node, schema, where, label, deep):
        props = schema.get("properties") or {}
        for field in schema.get("required") or ():
            if field in node and (path, field) not in OPTIONAL_BY_DECISION:
                broken = copy.deepcopy(body)
                del where(broken)[field]
                out.append(("%s%s removed" % (label, field), broken, field))
        for field, fs in props.items():
            fs = resolve(fs)
            value = node.get(field)
            bad = wrong_value(fs, value)
            if bad is not None:
                add(label, field, where, bad)
            if fs.get("type") == "array" and isinstance(value, list) and value:
                bad = wrong_element(fs)
                if bad is not None:
                    add(label, field, where, bad)
            if not deep:
                continue
            if fs.get("type") == "object" and isinstance(value, dict):
                walk(value, fs, lambda b, f=field: where(b)[f], label + field + ".", False)
            elif fs.get("type") == "object" and value is None and not fs.get("required"):
                # An object the example leaves out, holding one bad field.
                for sub, ss in (fs.get("properties") or {}).items():
                    bad = wrong_value(resolve(ss), None)
                    if bad is not None:
                        broken = copy.deepcopy(body)
                        where(broken)[field] = {sub: bad}
                        out.append(("%s%s.%s=%r" % (label, field, sub, bad), broken, sub))
            elif (fs.get("type") == "array" and isinstance(value, list) and value
                  and isinstance(value[0], dict)):
                walk(value[0], resolve(fs.get("items") or {}),
                     lambda b, f=field: where(b)[f][0], label + field + "[0].", False)

    walk(body, request_schema(path), lambda b: b, "", True)
    return out


def store_dump(t):
    """Every row of the running tocsin's store, read through a read-only
    connection (SQLite: its dump, WAL lets it see each committed state;
    PostgreSQL: each table's rows as text lines, in their text's order)."""
    with contextlib.closing(t.db(readonly=True)) as db:
        if t.engine == "sqlite":
            return list(db.con.iterdump())
        return ["%s %r" % (name, row) for name in t.db_data_tables()
                for row in db.query('SELECT * FROM "%s" AS r ORDER BY r::text' % name)]


def check_rejections(t, path, body):
    """Every broken variant of body gives 400 InvalidParameter naming the
    field, and changes nothing in the store."""
    before = store_dump(t)
    for what, broken, field in broken_bodies(path, body):
        r = t.api(path, broken, expect=None)
        try:
            expect_error(r, 400, "InvalidParameter", field)
        except AssertionError as e:
            raise AssertionError("%s with %s: %s" % (path, what, e))
    after = store_dump(t)
    assert after == before, "%s: a rejected call changed the store: %s" % (
        path, sorted(set(after) ^ set(before))[:5])


# The run ---------------------------------------------------------------------------
class Conformance:
    """One tocsin and the record of which paths were exercised."""

    def __init__(self, t):
        self.t = t
        self.done = set()

    def call(self, path, subs=None):
        """Post the path's example with subs; check rejections first."""
        body = substitute(path, subs or {})
        check_rejections(self.t, path, body)
        assert path not in self.done, path
        self.done.add(path)
        if path in EXPECTED_ERRORS:
            code, field = EXPECTED_ERRORS[path]
            r = self.t.api(path, body, expect=None)
            expect_error(r, 400, code, field)
            return r
        r = self.t.api(path, body)
        assert r.headers.get("Flashcat-Request-Id") == r.json["request_id"], r.headers
        if path in FEED_PATHS:
            validate_feed_response(path, r)
        else:
            validate_response(path, r)
        return r


def push(t, key, alert_key, status="Critical"):
    t.push(key, {"title_rule": "%s on $host" % alert_key, "event_status": status,
                 "alert_key": alert_key, "labels": {"host": "db-01", "service": "db"}})


def alert_of(t, alert_key):
    now = int(time.time())
    r = t.api("/alert/list", {"start_time": now - 3600, "end_time": now + 3600,
                              "alert_keys": [alert_key]})
    assert r.data["total"] == 1, r
    return r.data["items"][0]


def incident_info(t, iid):
    return t.api("/incident/info", {"incident_id": iid}).data


def feed_detail(t, iid, kind):
    """The detail of the newest `kind` item on the incident's timeline."""
    r = t.api("/incident/feed", {"incident_id": iid, "limit": 100})
    found = [i["detail"] for i in r.data["items"] if i["type"] == kind]
    assert found, "no %s on the timeline of %s: %r" % (kind, iid, r)
    return found[0]


def seed_history(t, rows):
    """Stops t, writes webhook_history rows into its store, starts it
    again (delivery, which writes them, does not exist yet)."""
    t.stop()
    t.db_execmany("INSERT INTO webhook_history(%s) VALUES(%s)" % (
        ",".join(HISTORY_COLUMNS), ",".join("?" * len(HISTORY_COLUMNS))),
        [tuple(r[c] for c in HISTORY_COLUMNS) for r in rows])
    t.start()


def exercise_channel_rules(c, t, chan):
    """The 18 drop, silence and inhibit rule paths, each kind's life in a
    legal order: create, list, update, disable, enable, delete."""
    for kind in ("unsubscribe", "silence", "inhibit"):
        base = "/channel/%s/rule/" % kind
        r = c.call(base + "create", {"channel_id": chan})
        rid = r.data["rule_id"]
        assert len(rid) == 24 and r.data["rule_name"] == example(base + "create")["rule_name"]
        r = c.call(base + "list", {"channel_id": chan})
        assert [(i["rule_id"], i["status"]) for i in r.data["items"]] == [(rid, "enabled")], r
        c.call(base + "update", {"channel_id": chan, "rule_id": rid})
        items = t.api(base + "list", {"channel_id": chan}).data["items"]
        if kind != "inhibit":  # refused by design: see EXPECTED_ERRORS
            assert items[0]["rule_name"] == example(base + "update")["rule_name"], items
        c.call(base + "disable", {"channel_id": chan, "rule_id": rid})
        assert t.api(base + "list", {"channel_id": chan}).data["items"][0]["status"] == "disabled"
        c.call(base + "enable", {"channel_id": chan, "rule_id": rid})
        assert t.api(base + "list", {"channel_id": chan}).data["items"][0]["status"] == "enabled"
        c.call(base + "delete", {"channel_id": chan, "rule_id": rid})
        assert t.api(base + "list", {"channel_id": chan}).data["items"] == []


def test_every_example_works():
    with Tocsin() as t:
        c = Conformance(t)

        # Members: who we are, a new member, the list, persons by id.
        me = c.call("/member/info").data
        admin = me["member_id"]
        r = c.call("/member/invite")
        charlie = r.data["items"][0]["member_id"]
        assert r.data["items"][0]["member_name"] == "Charlie"
        r = c.call("/member/list")
        assert r.data["total"] == 2 and r.data["limit"] == 5, r
        r = c.call("/person/infos", {"person_ids": [admin, charlie]})
        assert sorted(p["person_id"] for p in r.data["items"]) == sorted([admin, charlie])
        # The invite example's profile fields were kept.
        person = [p for p in r.data["items"] if p["person_id"] == charlie][0]
        assert (person["email"], person["locale"], person["time_zone"]) == \
            ("charlie@example.com", "en-US", "Asia/Shanghai"), person

        # Channels: the example channel, a second one, reads and edits.
        r = c.call("/channel/create")
        chan = r.data["channel_id"]
        assert r.data["channel_name"] == "Production Alerts"
        other = t.make_channel("Staging Alerts")
        r = c.call("/channel/info", {"channel_id": chan})
        # The create example's settings were kept.
        assert r.data["description"] == "Handles all production environment alerts"
        assert r.data["team_id"] == 3521074710131 and r.data["auto_resolve_timeout"] == 86400
        assert r.data["auto_resolve_mode"] == "trigger"
        assert (r.data["group"]["method"], r.data["group"]["time_window"],
                r.data["group"]["window_type"]) == ("p", 10, "tumbling"), r.data["group"]
        r = c.call("/channel/infos", {"channel_ids": [chan, other]})
        assert sorted(ch["channel_id"] for ch in r.data["items"]) == sorted([chan, other])
        # orderby created_at, asc false: newest first.
        r = c.call("/channel/list")
        assert [ch["channel_id"] for ch in r.data["items"]] == [other, chan], r
        c.call("/channel/update", {"channel_id": chan})
        r = t.api("/channel/info", {"channel_id": chan})
        assert (r.data["channel_name"], r.data["description"]) == \
            ("Production Alerts (v2)", "Updated description"), r
        c.call("/channel/disable", {"channel_id": other})
        assert t.api("/channel/info", {"channel_id": other}).data["status"] == "disabled"
        c.call("/channel/enable", {"channel_id": other})
        assert t.api("/channel/info", {"channel_id": other}).data["status"] == "enabled"

        # The channel's drop, silence and inhibit rules.
        exercise_channel_rules(c, t, chan)

        # An alert pushed into the channel makes an incident.
        source_id, key = t.make_source(chan)
        push(t, key, "db-timeout")
        alert = alert_of(t, "db-timeout")
        pushed = alert["incident"]["incident_id"]

        # Incidents made by hand: the example one (in the channel, assigned
        # to Charlie), and two more to merge into it later.
        r = c.call("/incident/create", {"channel_id": chan, "assigned_to.person_ids": [charlie]})
        inc = r.data["incident_id"]
        assert r.data["title"] == "Database connection timeout on prod-db-01"
        assert incident_info(t, inc)["assigned_to"]["person_ids"] == [charlie]
        merge_a = t.api("/incident/create", {"incident_severity": "Warning", "title": "a",
                                             "channel_id": chan}).data["incident_id"]
        merge_b = t.api("/incident/create", {"incident_severity": "Info", "title": "b",
                                             "channel_id": chan}).data["incident_id"]

        # Incident reads.
        r = c.call("/incident/info", {"incident_id": inc})
        assert r.data["channel_id"] == chan and r.data["progress"] == "Triggered"
        r = c.call("/incident/list-by-ids", {"incident_ids": [inc, pushed]})
        assert sorted(i["incident_id"] for i in r.data["items"]) == sorted([inc, pushed])
        # The example's window is in 2024: a valid query that finds nothing.
        r = c.call("/incident/list", {"channel_ids": [chan]})
        assert r.data["items"] == []
        r = c.call("/incident/alert/list", {"incident_id": pushed})
        assert [a["alert_id"] for a in r.data["items"]] == [alert["alert_id"]], r
        # Every progress change, in a legal order.
        c.call("/incident/ack", {"incident_ids": [inc]})
        assert incident_info(t, inc)["progress"] == "Processing"
        c.call("/incident/unack", {"incident_ids": [inc]})
        assert incident_info(t, inc)["progress"] == "Triggered"
        c.call("/incident/snooze", {"incident_ids": [inc]})
        assert incident_info(t, inc)["snoozed_before"] > 0
        assert feed_detail(t, inc, "i_snooze")["minutes"] == 60
        c.call("/incident/wake", {"incident_ids": [inc]})
        assert incident_info(t, inc)["snoozed_before"] == 0
        c.call("/incident/comment", {"incident_ids": [inc]})
        assert feed_detail(t, inc, "i_comm")["comment"] == \
            "Identified the root cause. Rolling back the deployment now."
        c.call("/incident/reset", {"incident_id": inc})
        info = incident_info(t, inc)
        assert info["title"] == "Database connection timeout - prod-db-01 primary"
        c.call("/incident/field/reset", {"incident_id": inc})
        assert incident_info(t, inc)["fields"]["affected_service"] == "payment-service"
        c.call("/incident/assign", {"incident_id": inc, "assigned_to.person_ids": [admin]})
        c.call("/incident/responder/add", {"incident_id": inc, "person_ids": [admin, charlie]})
        responders = {p["person_id"] for p in incident_info(t, inc)["responders"]}
        assert {admin, charlie} <= responders, responders
        c.call("/incident/resolve", {"incident_ids": [inc]})
        info = incident_info(t, inc)
        assert info["progress"] == "Closed"
        assert info["root_cause"].startswith("Memory leak"), info["root_cause"]
        assert info["resolution"].startswith("Deployed hotfix v2.3.1"), info["resolution"]
        c.call("/incident/reopen", {"incident_ids": [inc]})
        assert incident_info(t, inc)["progress"] == "Triggered"
        assert feed_detail(t, inc, "i_reopen")["reason"] == \
            "Monitoring detected the issue recurred after the initial fix."
        c.call("/incident/merge", {"source_incident_ids": [merge_a, merge_b],
                                   "target_incident_id": inc})
        r = t.api("/incident/list-by-ids", {"incident_ids": [merge_a, merge_b]})
        assert all(i["progress"] == "Closed" for i in r.data["items"]), r
        assert feed_detail(t, inc, "i_merge")["comment"] == \
            "Merging related database connectivity incidents into one."
        # The timeline now holds an item of every change above; the feed
        # example must return them all in valid shape.
        r = c.call("/incident/feed", {"incident_id": inc})
        kinds = [i["type"] for i in r.data["items"]]
        for kind in ("i_new", "i_ack", "i_unack", "i_snooze", "i_wake", "i_comm", "i_assign",
                     "i_rslv", "i_reopen", "i_merge"):
            assert kind in kinds, (kind, kinds)
        c.call("/incident/custom-action/do", {"incident_id": inc,
                                              "integration_id": source_id})

        # Alerts: reads, then the example merge of one into the hand-made
        # incident.
        aid = alert["alert_id"]
        r = c.call("/alert/info", {"alert_id": aid})
        assert r.data["alert_key"] == "db-timeout"
        r = c.call("/alert/list-by-ids", {"alert_ids": [aid]})
        assert [a["alert_id"] for a in r.data["items"]] == [aid]
        r = c.call("/alert/event/list", {"alert_id": aid})
        assert len(r.data["items"]) == 1
        # The examples' windows are in 2024: valid queries that find nothing.
        assert c.call("/alert/list").data["items"] == []
        assert c.call("/alert-event/list").data["items"] == []
        c.call("/alert/merge", {"alert_ids": [aid], "incident_id": inc})
        assert t.api("/alert/info", {"alert_id": aid}).data["incident"]["incident_id"] == inc
        # A merge is not an alert feed type (AlertFeedType: a_new, a_comm,
        # a_close): the timeline holds the trigger only.
        r = c.call("/alert/feed", {"alert_id": aid})
        assert [i["type"] for i in r.data["items"]] == ["a_new"], r

        # Webhook history: delivery does not write it yet, so seed one
        # attempt of the example's event (inside the list example's window)
        # for a real integration, channel and incident; both examples must
        # then find it.
        when = example("/webhook/history/list")["start_time"] + 3600 * 1000
        event_id = example("/webhook/history/detail")["event_id"]
        seed_history(t, [{
            "integration_id": source_id, "event_id": event_id, "webhook_type": "incident",
            "event_type": "i_new", "channel_id": chan, "ref_id": inc,
            "endpoint": "https://receiver.example/hook", "attempt": 1, "duration_ms": 12,
            "status": "success", "status_code": 200, "error_message": "",
            "request_headers": '{"Content-Type":"application/json"}',
            "request_body": '{"event_type":"i_new"}', "response_headers": "{}",
            "response_body": "ok", "event_time": when,
            # Written now: an old created_at is pruned by the writer's timer
            # (history keeps 7 days) while the rejection checks compare dumps.
            "created_at": int(time.time() * 1000)}])
        r = c.call("/webhook/history/list", {"integration_id": source_id})
        assert [i["event_id"] for i in r.data["items"]] == [event_id], r
        r = c.call("/webhook/history/detail", {"integration_id": source_id})
        assert r.data["ref_title"] == "Database connection timeout - prod-db-01 primary"
        assert r.data["channel_name"] == "Production Alerts (v2)"

        # Escalation rules: the examples, on the example channel, with
        # the examples' layers naming a real person.
        def layers_of(path):
            layers = example(path)["layers"]
            layers[0]["target"]["person_ids"] = [charlie]
            return layers
        r = c.call("/channel/escalate/rule/create",
                   {"channel_id": chan, "layers": layers_of("/channel/escalate/rule/create")})
        rule_id = r.data["rule_id"]
        assert r.data["rule_name"] == "On-call escalation"
        r = c.call("/channel/escalate/rule/list", {"channel_id": chan})
        assert [x["rule_id"] for x in r.data["items"]] == [rule_id]
        assert r.data["items"][0]["layers"][0]["max_times"] == 3
        c.call("/channel/escalate/rule/update",
               {"channel_id": chan, "rule_id": rule_id,
                "layers": layers_of("/channel/escalate/rule/update")})
        r = c.call("/channel/escalate/rule/info", {"channel_id": chan, "rule_id": rule_id})
        assert r.data["rule_name"] == "Default escalation"
        assert r.data["layers"][0]["target"]["by"] == {"critical": ["voice"],
                                                       "warning": ["sms"]}, r.data
        c.call("/channel/escalate/rule/disable", {"channel_id": chan, "rule_id": rule_id})
        assert t.api("/channel/escalate/rule/info", {"channel_id": chan, "rule_id": rule_id}
                     ).data["status"] == "disabled"
        c.call("/channel/escalate/rule/enable", {"channel_id": chan, "rule_id": rule_id})
        c.call("/channel/escalate/rule/delete", {"channel_id": chan, "rule_id": rule_id})
        assert t.api("/channel/escalate/rule/list", {"channel_id": chan}).data["items"] == []

        # Removals last.
        c.call("/incident/remove", {"incident_ids": [pushed]})
        r = t.api("/incident/info", {"incident_id": pushed}, expect=None)
        expect_error(r, 400, "InvalidParameter", "incident_id")
        c.call("/channel/delete", {"channel_id": other})
        assert t.api("/channel/info", {"channel_id": other}).data["status"] == "deleted"
        c.call("/member/delete", {"member_id": charlie})
        members = t.api("/member/list", {"limit": 100}).data["items"]
        assert charlie not in [m["member_id"] for m in members], members
        r = t.api("/member/delete", {"member_id": charlie}, expect=None)
        expect_error(r, 400, "InvalidParameter", "already deleted")

        # Every path of both reference files was exercised, no more and no
        # less: the subset's 42 and the 25 channel rule paths.
        paths = set(spec()["paths"])
        assert c.done == paths, sorted(paths ^ c.done)
        assert len(c.done) == 42 + 25


def test_examples_survive_restart():
    """The state the examples made is stored: after a restart the reads of
    the same examples still validate and find it."""
    with Tocsin() as t:
        chan = t.api("/channel/create", substitute("/channel/create", {})).data["channel_id"]
        pid = t.api("/member/invite", substitute("/member/invite", {})).data["items"][0][
            "member_id"]
        inc = t.api("/incident/create", substitute(
            "/incident/create", {"channel_id": chan, "assigned_to.person_ids": [pid]})).data[
            "incident_id"]
        t.api("/incident/ack", substitute("/incident/ack", {"incident_ids": [inc]}))
        t.restart()
        for path, subs in (("/incident/info", {"incident_id": inc}),
                           ("/channel/info", {"channel_id": chan}),
                           ("/person/infos", {"person_ids": [pid, pid]})):
            r = t.api(path, substitute(path, subs))
            validate_response(path, r)
        r = t.api("/incident/info", substitute("/incident/info", {"incident_id": inc}))
        assert r.data["progress"] == "Processing" and r.data["channel_id"] == chan
        r = t.api("/incident/feed", substitute("/incident/feed", {"incident_id": inc}))
        validate_feed_response("/incident/feed", r)


def test_lacking_features_accepted_when_well_typed():
    """Fields of features tocsin lacks (notifications, escalation rules,
    teams, channel owners, invitation sources) are accepted with the
    reference's types and change nothing; the rejections above show they are
    refused with other types."""
    with Tocsin() as t:
        chan = t.make_channel("ops")
        pid = t.api("/member/invite", {"members": [{"member_name": "Dana",
                                                    "email": "dana@example.com"}],
                                       "from": "console"}).data["items"][0]["member_id"]
        notify = {"follow_preference": False, "personal_channels": ["email"],
                  "template_id": "a" * 24}
        r = t.api("/incident/create", {
            "incident_severity": "Warning", "title": "disk full", "channel_id": chan,
            "assigned_to": {"person_ids": [pid], "layer_idx": 0, "emails": ["x@example.com"],
                            "notify": notify}})
        inc = r.data["incident_id"]
        t.api("/incident/assign", {"incident_id": inc, "assigned_to": {
            "person_ids": [pid], "type": "reassign", "escalate_rule_id": "b" * 24,
            "escalate_rule_name": "", "assigned_at": 0, "id": "", "emails": ["x@example.com"]}})
        t.api("/incident/responder/add", {"incident_id": inc, "person_ids": [pid],
                                          "notify": notify})
        info = t.api("/incident/info", {"incident_id": inc}).data
        assert info["assigned_to"]["person_ids"] == [pid]
        assert info["assigned_to"]["type"] == "reassign"
        assert [p["person_id"] for p in info["responders"]] == [pid]

        now = int(time.time())
        window = {"start_time": now - 3600, "end_time": now + 60}
        for flag in ("is_my_team", "is_my_channel"):
            # tocsin has no teams nor channel owners: "mine" matches nothing.
            r = t.api("/incident/list", dict(window, **{flag: True}))
            validate_response("/incident/list", r)
            assert r.data["items"] == [] and r.data["total"] == 0, (flag, r)
            r = t.api("/incident/list", dict(window, **{flag: False}))
            assert [i["incident_id"] for i in r.data["items"]] == [inc], (flag, r)

        # A lookup field beside member_id is checked, then member_id wins.
        t.api("/member/delete", {"member_id": pid, "email": "someone-else@example.com"})
        members = t.api("/member/list", {}).data["items"]
        assert pid not in [m["member_id"] for m in members]


if __name__ == "__main__":
    run([test_every_example_works, test_examples_survive_restart,
         test_lacking_features_accepted_when_well_typed])
