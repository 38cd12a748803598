"""test_channels.py: /channel/* : create, read, update, status, the group rules."""
from tocsin_test import Tocsin, expect_error, run, validate, validate_response

SPEC_EXAMPLE = {"team_id": 3521074710131, "channel_name": "Production Alerts",
                "description": "Handles all production environment alerts",
                "group": {"method": "p", "time_window": 10, "window_type": "tumbling"},
                "auto_resolve_timeout": 86400, "auto_resolve_mode": "trigger"}

DEFAULT_GROUP = {"method": "n", "equals": [], "all_equals_required": False, "time_window": 0,
                 "window_type": "tumbling", "storm_threshold": 0, "storm_thresholds": [],
                 "i_keys": [], "cases": []}


def listing(t, body=None):
    r = t.api("/channel/list", body or {})
    validate_response("/channel/list", r)
    return r.data


def test_create_info_list():
    with Tocsin() as t:
        r = t.api("/channel/create", SPEC_EXAMPLE)
        validate_response("/channel/create", r)
        cid = r.data["channel_id"]
        assert r.data["channel_name"] == "Production Alerts"
        r = t.api("/channel/info", {"channel_id": cid})
        validate_response("/channel/info", r)
        ch = r.data
        assert ch["channel_id"] == cid and ch["status"] == "enabled"
        assert ch["team_id"] == 3521074710131 and ch["creator_id"] == 1
        assert ch["description"] == SPEC_EXAMPLE["description"]
        assert ch["auto_resolve_timeout"] == 86400 and ch["auto_resolve_mode"] == "trigger"
        assert ch["created_at"] > 1600000000 and ch["updated_at"] == ch["created_at"]
        assert ch["deleted_at"] == 0
        # The group is stored normalized: every field present, defaults filled in.
        assert ch["group"] == dict(DEFAULT_GROUP, method="p", time_window=10), ch["group"]
        assert ch["progress_to_incident_cnts"] == {"Triggered": 0, "Processing": 0}
        # Without a group: method n with defaults.
        cid2 = t.make_channel("plain")
        assert t.api("/channel/info", {"channel_id": cid2}).data["group"] == DEFAULT_GROUP
        expect_error(t.api("/channel/info", {"channel_id": 999}, expect=None), 400,
                     "InvalidParameter", "channel_id 999 does not exist")
        expect_error(t.api("/channel/info", {"channel_id": "1"}, expect=None), 400,
                     "InvalidParameter", "channel_id must be an integer")
        data = listing(t)
        assert data["total"] == 2 and not data["has_next_page"]
        assert sorted(c["channel_id"] for c in data["items"]) == sorted([cid, cid2])
        r = t.api("/channel/infos", {"channel_ids": [cid2, 999, cid, cid2]})
        validate_response("/channel/infos", r)
        assert r.data["items"] == [
            {"channel_id": cid2, "channel_name": "plain", "status": "enabled"},
            {"channel_id": cid, "channel_name": "Production Alerts", "status": "enabled"}]


def test_group_normalized():
    with Tocsin() as t:
        group = {"method": "p", "equals": [["host", "check"], ["service"]],
                 "all_equals_required": True, "time_window": 43200, "window_type": "sliding",
                 "storm_threshold": 10000, "storm_thresholds": [50, 10, 50, 100],
                 "i_keys": ["host"], "i_score_threshold": 0.8, "cases": [{"if": []}],
                 "unknown": "dropped"}
        cid = t.make_channel("g", group=group)
        g = t.api("/channel/info", {"channel_id": cid}).data["group"]
        assert g == {"method": "p", "equals": [["host", "check"], ["service"]],
                     "all_equals_required": True, "time_window": 43200,
                     "window_type": "sliding", "storm_threshold": 10000,
                     "storm_thresholds": [10, 50, 100], "i_keys": ["host"],
                     "i_score_threshold": 0.8, "cases": [{"if": []}]}, g
        validate("Group", g)


BAD_GROUPS = [
    ("x", "group must be an object"),
    ({}, "group.method is required"),
    ({"method": "x"}, "group.method"),
    ({"method": "p", "equals": "host"}, "group.equals must be an array"),
    ({"method": "p", "equals": [["a"]] * 6}, "group.equals must have at most 5"),
    ({"method": "p", "equals": [[]]}, "group.equals[0]"),
    ({"method": "p", "equals": ["host"]}, "group.equals[0]"),
    ({"method": "p", "equals": [["a"], ["b", ""]]}, "group.equals[1][1]"),
    ({"method": "p", "equals": [["a", 3]]}, "group.equals[0][1]"),
    ({"method": "p", "equals": [["k" * 129]]}, "group.equals[0][0]"),
    ({"method": "p", "all_equals_required": "yes"}, "group.all_equals_required"),
    ({"method": "p", "time_window": -1}, "group.time_window"),
    ({"method": "p", "time_window": 43201}, "group.time_window"),
    ({"method": "p", "time_window": 1.5}, "group.time_window"),
    ({"method": "p", "window_type": "hopping"}, "group.window_type"),
    ({"method": "p", "storm_threshold": 10001}, "group.storm_threshold"),
    ({"method": "p", "storm_thresholds": [1, 2, 3, 4, 5, 6]}, "group.storm_thresholds"),
    ({"method": "p", "storm_thresholds": [5, 0]}, "group.storm_thresholds[1]"),
    ({"method": "p", "storm_thresholds": ["5"]}, "group.storm_thresholds[0]"),
    ({"method": "i", "i_keys": ["k"] * 11}, "group.i_keys"),
    ({"method": "i", "i_keys": [""]}, "group.i_keys[0]"),
    ({"method": "i", "i_score_threshold": 0.2}, "group.i_score_threshold"),
    ({"method": "p", "cases": [{}] * 101}, "group.cases"),
    ({"method": "p", "cases": [1]}, "group.cases[0]"),
]


def test_group_rejected():
    with Tocsin() as t:
        cid = t.make_channel("keep", group={"method": "p", "equals": [["host"]]})
        before = t.api("/channel/info", {"channel_id": cid}).data
        for group, mention in BAD_GROUPS:
            r = t.api("/channel/create", {"team_id": 0, "channel_name": "bad", "group": group},
                      expect=None)
            expect_error(r, 400, "InvalidParameter", mention)
            r = t.api("/channel/update", {"channel_id": cid, "group": group}, expect=None)
            expect_error(r, 400, "InvalidParameter", mention)
        assert listing(t)["total"] == 1
        assert t.api("/channel/info", {"channel_id": cid}).data == before


def test_fields_rejected():
    with Tocsin() as t:
        cases = [
            ({"team_id": 0}, "channel_name is required"),
            ({"channel_name": "a"}, "team_id is required"),
            ({"team_id": 0, "channel_name": ""}, "channel_name"),
            ({"team_id": 0, "channel_name": "x" * 60}, "channel_name must be at most 59"),
            ({"team_id": 0, "channel_name": 5}, "channel_name must be a string"),
            ({"team_id": "1", "channel_name": "a"}, "team_id"),
            ({"team_id": 0, "channel_name": "a", "description": "d" * 501}, "description"),
            ({"team_id": 0, "channel_name": "a", "managing_team_ids": [1, 2, 3, 4]},
             "managing_team_ids"),
            ({"team_id": 0, "channel_name": "a", "auto_resolve_timeout": 2592001},
             "auto_resolve_timeout"),
            ({"team_id": 0, "channel_name": "a", "auto_resolve_mode": "never"},
             "auto_resolve_mode"),
            ({"team_id": 0, "channel_name": "a", "is_private": 1}, "is_private"),
            ({"team_id": 0, "channel_name": "a", "flapping": {"max_changes": 1}},
             "flapping.max_changes"),
            ({"team_id": 0, "channel_name": "a", "escalate_rule": []}, "escalate_rule"),
        ]
        for body, mention in cases:
            expect_error(t.api("/channel/create", body, expect=None), 400, "InvalidParameter",
                         mention)
        assert listing(t)["total"] == 0
        # The limits themselves are accepted (characters, not bytes).
        cid = t.make_channel("é" * 59, description="d" * 500)
        assert t.api("/channel/info", {"channel_id": cid}).data["channel_name"] == "é" * 59


def test_name_unique():
    with Tocsin() as t:
        a = t.make_channel("alpha")
        b = t.make_channel("beta")
        expect_error(t.api("/channel/create", {"team_id": 0, "channel_name": "alpha"},
                           expect=None), 400, "InvalidParameter", "channel_name 'alpha'")
        expect_error(t.api("/channel/update", {"channel_id": b, "channel_name": "alpha"},
                           expect=None), 400, "InvalidParameter", "channel_name 'alpha'")
        assert t.api("/channel/info", {"channel_id": b}).data["channel_name"] == "beta"
        # Renaming to its own name is fine; a deleted channel's name is free again.
        t.api("/channel/update", {"channel_id": a, "channel_name": "alpha"})
        t.api("/channel/delete", {"channel_id": a})
        c = t.make_channel("alpha")
        assert c != a
        assert listing(t)["total"] == 2


def test_update():
    with Tocsin() as t:
        cid = t.make_channel("u", group={"method": "p", "equals": [["host"]]},
                             description="first", managing_team_ids=[7])
        before = t.api("/channel/info", {"channel_id": cid}).data
        r = t.api("/channel/update", {"channel_id": cid,
                                      "channel_name": "Production Alerts (v2)",
                                      "description": "Updated description"})
        validate_response("/channel/update", r)
        after = t.api("/channel/info", {"channel_id": cid}).data
        assert after["channel_name"] == "Production Alerts (v2)"
        assert after["description"] == "Updated description"
        # Fields not passed stay as they were.
        assert after["group"] == before["group"] and after["managing_team_ids"] == [7]
        assert after["created_at"] == before["created_at"]
        t.api("/channel/update", {"channel_id": cid, "group": {"method": "n"},
                                  "is_private": True, "flapping": {"is_disabled": False}})
        after = t.api("/channel/info", {"channel_id": cid}).data
        assert after["group"] == DEFAULT_GROUP and after["is_private"] is True
        assert after["flapping"]["is_disabled"] is False
        expect_error(t.api("/channel/update", {"channel_id": 999, "description": "x"},
                           expect=None), 400, "InvalidParameter", "channel_id 999 does not exist")
        expect_error(t.api("/channel/update", {"description": "x"}, expect=None), 400,
                     "InvalidParameter", "channel_id is required")


def test_status_and_delete():
    with Tocsin() as t:
        cid = t.make_channel("s")
        other = t.make_channel("other")
        for path in ("/channel/disable", "/channel/enable", "/channel/delete"):
            expect_error(t.api(path, {"channel_id": 4242}, expect=None), 400,
                         "InvalidParameter", "channel_id 4242 does not exist")
            expect_error(t.api(path, {}, expect=None), 400, "InvalidParameter", "channel_id")
        r = t.api("/channel/disable", {"channel_id": cid})
        validate_response("/channel/disable", r)
        assert t.api("/channel/info", {"channel_id": cid}).data["status"] == "disabled"
        assert t.api("/channel/infos", {"channel_ids": [cid]}).data["items"][0]["status"] == \
            "disabled"
        validate_response("/channel/enable", t.api("/channel/enable", {"channel_id": cid}))
        assert t.api("/channel/info", {"channel_id": cid}).data["status"] == "enabled"
        r = t.api("/channel/delete", {"channel_id": cid})
        validate_response("/channel/delete", r)
        r = t.api("/channel/info", {"channel_id": cid})
        validate_response("/channel/info", r)
        info = r.data
        assert info["status"] == "deleted" and info["deleted_at"] > 0
        assert [c["channel_id"] for c in listing(t)["items"]] == [other]
        assert t.api("/channel/infos", {"channel_ids": [cid]}).data["items"] == []
        for path, body in (("/channel/enable", {}), ("/channel/disable", {}),
                           ("/channel/delete", {}), ("/channel/update", {"description": "x"})):
            body = dict(body, channel_id=cid)
            expect_error(t.api(path, body, expect=None), 400, "InvalidParameter",
                         "channel_id %d is deleted" % cid)
        assert t.api("/channel/info", {"channel_id": cid}).data == info


def test_delete_with_sources():
    with Tocsin() as t:
        cid = t.make_channel("busy")
        iid, _ = t.make_source(cid)
        expect_error(t.api("/channel/delete", {"channel_id": cid}, expect=None), 400,
                     "InvalidParameter", "alert integration")
        assert t.api("/channel/info", {"channel_id": cid}).data["status"] == "enabled"
        t.api("/integration/disable", {"integration_id": iid})
        expect_error(t.api("/channel/delete", {"channel_id": cid}, expect=None), 400,
                     "InvalidParameter", "alert integration")
        t.api("/integration/delete", {"integration_id": iid})
        t.api("/channel/delete", {"channel_id": cid})
        assert t.api("/channel/info", {"channel_id": cid}).data["status"] == "deleted"


def test_list_filters_and_pages():
    with Tocsin() as t:
        ids = {}
        for i, name in enumerate(["delta", "alpha", "charlie", "bravo", "echo"]):
            ids[name] = t.make_channel(name, team_id=10 + i % 2,
                                       description="db team" if i % 2 else "web team")
        data = listing(t, {"orderby": "channel_name", "asc": True, "p": 1, "limit": 2})
        assert [c["channel_name"] for c in data["items"]] == ["alpha", "bravo"]
        assert data["total"] == 5 and data["has_next_page"]
        data = listing(t, {"orderby": "channel_name", "asc": True, "p": 3, "limit": 2})
        assert [c["channel_name"] for c in data["items"]] == ["echo"]
        assert not data["has_next_page"]
        data = listing(t, {"orderby": "created_at"})  # newest first by default
        assert data["items"][0]["channel_id"] == ids["echo"]
        assert listing(t, {"query": "DB"})["total"] == 2
        assert listing(t, {"query": "char"})["items"][0]["channel_id"] == ids["charlie"]
        assert [c["channel_id"] for c in listing(t, {"channel_name": "bravo"})["items"]] == \
            [ids["bravo"]]
        assert listing(t, {"team_ids": [11]})["total"] == 2
        assert listing(t, {"channel_ids": [ids["alpha"], ids["echo"], 99]})["total"] == 2
        brief = listing(t, {"is_brief": True, "limit": 1})["items"][0]
        assert set(brief) == {"channel_id", "channel_name", "description", "status"}
        assert listing(t, {"is_my_starred": True})["total"] == 0
        assert listing(t, {"is_my_managed": True})["total"] == 5
        for body, mention in (({"limit": 101}, "limit"), ({"p": -1}, "p"),
                              ({"orderby": "size"}, "orderby"),
                              ({"is_my_starred": True, "is_my_team": True}, "is_my_starred"),
                              ({"team_ids": ["a"]}, "team_ids[0]")):
            expect_error(t.api("/channel/list", body, expect=None), 400, "InvalidParameter",
                         mention)
        expect_error(t.api("/channel/infos", {"channel_ids": list(range(1001))}, expect=None),
                     400, "InvalidParameter", "channel_ids")
        expect_error(t.api("/channel/infos", {}, expect=None), 400, "InvalidParameter",
                     "channel_ids is required")


def test_members_read_admins_write():
    with Tocsin() as t:
        cid = t.make_channel("mine")
        _, key = t.make_member("Reader")
        for path, body in (("/channel/create", {"team_id": 0, "channel_name": "theirs"}),
                           ("/channel/update", {"channel_id": cid, "description": "x"}),
                           ("/channel/disable", {"channel_id": cid}),
                           ("/channel/enable", {"channel_id": cid}),
                           ("/channel/delete", {"channel_id": cid})):
            expect_error(t.api(path, body, key=key, expect=None), 403, "AccessDenied",
                         "administrator")
        info = t.api("/channel/info", {"channel_id": cid}, key=key).data
        assert info["status"] == "enabled" and info["description"] == ""
        assert t.api("/channel/list", {}, key=key).data["total"] == 1
        assert t.api("/channel/list", {"is_my_managed": True}, key=key).data["total"] == 0


def test_restart_keeps_channels():
    with Tocsin() as t:
        a = t.make_channel("kept", group={"method": "p", "equals": [["host"]],
                                          "time_window": 30})
        b = t.make_channel("gone")
        t.api("/channel/disable", {"channel_id": a})
        t.api("/channel/delete", {"channel_id": b})
        before = [t.api("/channel/info", {"channel_id": i}).data for i in (a, b)]
        t.restart()
        after = [t.api("/channel/info", {"channel_id": i}).data for i in (a, b)]
        assert after == before
        c = t.make_channel("new")
        assert c not in (a, b)


def test_escalate_rule_shape():
    """A create's escalate_rule is kept only in the reference's shape
    (template_id and target required, fields typed) and becomes the
    channel's escalation rule named "Default" (reference/rules.md), so its
    target must name people tocsin has."""
    with Tocsin() as t:
        good = {"template_id": "65a1b2c3d4e5f60718293a4b", "aggr_window": 60,
                "target": {"person_ids": [1], "by": {"critical": ["email"]},
                           "webhooks": [{"type": "custom", "settings": {"url": "x"}}]}}
        cid = t.make_channel("esc-ok", escalate_rule=good)
        info = t.api("/channel/info", {"channel_id": cid}).data
        assert info["channel_id"] == cid
        rules = t.api("/channel/escalate/rule/list", {"channel_id": cid}).data["items"]
        assert [(r["rule_name"], r["aggr_window"], r["template_id"], r["status"])
                for r in rules] == [("Default", 60, good["template_id"], "enabled")], rules
        assert rules[0]["layers"][0]["target"]["person_ids"] == [1]
        assert rules[0]["layers"][0]["escalate_window"] == 30
        assert t.api("/channel/escalate/rule/list", {"channel_id": t.make_channel("no-esc")}
                     ).data["items"] == []
        bad = [
            (dict(good, aggr_window="1"), "escalate_rule.aggr_window"),
            (dict(good, aggr_window=4000), "escalate_rule.aggr_window"),
            (dict(good, template_id=12345), "escalate_rule.template_id"),
            ({"target": good["target"]}, "escalate_rule.template_id"),
            (dict(good, target=["x"]), "escalate_rule.target"),
            (dict(good, target={"person_ids": ["a"]}), "escalate_rule.target.person_ids[0]"),
            (dict(good, target={"by": {"critical": "email"}}),
             "escalate_rule.target.by.critical"),
            (dict(good, target={"webhooks": [{"type": "custom"}]}),
             "escalate_rule.target.webhooks[0].settings"),
            (dict(good, target={"team_ids": [1]}), "escalate_rule.target.team_ids"),
            (dict(good, target={"by": {"follow_preference": True}}), "escalate_rule.target"),
        ]
        before = t.api("/channel/list", {}).data["total"]
        for rule, field in bad:
            expect_error(t.api("/channel/create", {"channel_name": "esc-bad", "team_id": 0,
                                                   "escalate_rule": rule}, expect=None),
                         400, "InvalidParameter", field)
        expect_error(t.api("/channel/create", {"channel_name": "esc-bad", "team_id": 0,
                                               "escalate_rule": dict(good, target={
                                                   "person_ids": [4242]})}, expect=None),
                     400, "ResourceNotFound", "escalate_rule.target.person_ids")
        assert t.api("/channel/list", {}).data["total"] == before, "a refused create changed nothing"


if __name__ == "__main__":
    run([test_create_info_list, test_group_normalized, test_group_rejected, test_fields_rejected,
         test_name_unique, test_update, test_status_and_delete, test_delete_with_sources,
         test_list_filters_and_pages, test_members_read_admins_write,
         test_restart_keeps_channels, test_escalate_rule_shape])
