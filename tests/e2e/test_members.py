"""test_members.py: /member/*, /person/infos and /app-key/create: people and their keys."""

from tocsin_test import Tocsin, expect_error, run, validate_response

SPEC_INVITE = {"members": [{"member_name": "Charlie", "email": "charlie@example.com",
                            "locale": "en-US", "time_zone": "Asia/Shanghai", "role_ids": [6]}]}


def members(t, body=None, key=None):
    r = t.api("/member/list", body or {}, key=key)
    validate_response("/member/list", r)
    return r.data


def test_invite_list_info():
    with Tocsin() as t:
        r = t.api("/member/invite", SPEC_INVITE)
        validate_response("/member/invite", r)
        [item] = r.data["items"]
        assert item["member_name"] == "Charlie" and item["member_id"] > 1
        cid = item["member_id"]
        r = t.api("/member/invite", {"members": [
            {"member_name": "Dora", "phone": "+86 13800001234", "country_code": "86"},
            {"member_name": "Eve Admin", "email": "EVE@Example.com", "role_ids": [1]}]})
        dora, eve = [m["member_id"] for m in r.data["items"]]
        data = members(t, {"orderby": "created_at", "asc": True})
        assert data["total"] == 4 and data["p"] == 1
        names = [m["member_name"] for m in data["items"]]
        assert names == ["admin", "Charlie", "Dora", "Eve Admin"], names
        by_id = {m["member_id"]: m for m in data["items"]}
        assert by_id[cid]["email"] == "charlie@example.com"
        assert by_id[cid]["locale"] == "en-US" and by_id[cid]["time_zone"] == "Asia/Shanghai"
        assert by_id[cid]["status"] == "enabled" and by_id[cid]["account_role_ids"] == []
        assert by_id[eve]["email"] == "eve@example.com", "addresses are kept in lower case"
        assert by_id[eve]["account_role_ids"] == [1]
        assert by_id[1]["account_role_ids"] == [1] and by_id[1]["member_name"] == "admin"
        phone = by_id[dora]["phone"]
        assert phone.startswith("+86") and phone.endswith("1234") and "*" in phone, phone
        r = t.api("/member/info")
        validate_response("/member/info", r)
        assert r.data["member_id"] == 1 and r.data["member_name"] == "admin"
        r = t.api("/person/infos", {"person_ids": [cid, 1, 404, cid]})
        validate_response("/person/infos", r)
        assert [(p["person_id"], p["person_name"]) for p in r.data["items"]] == \
            [(cid, "Charlie"), (1, "admin")]
        assert r.data["items"][0]["email"] == "charlie@example.com"


def test_invite_rejected():
    with Tocsin() as t:
        t.api("/member/invite", {"members": [{"member_name": "Taken",
                                              "email": "taken@example.com"}]})
        ok = {"member_name": "Fine", "email": "fine@example.com"}
        cases = [
            ({}, "members is required"),
            ({"members": []}, "members must have at least 1"),
            ({"members": "x"}, "members must be an array"),
            ({"members": [dict(ok, email="m%d@example.com" % i) for i in range(21)]},
             "members must have at most 20"),
            ({"members": [ok, 5]}, "members[1] must be an object"),
            ({"members": [{"email": "a@example.com"}]}, "members[0].member_name is required"),
            ({"members": [{"member_name": "A", "email": "a@example.com"}]},
             "members[0].member_name must be at least 2"),
            ({"members": [{"member_name": "x" * 40, "email": "a@example.com"}]},
             "members[0].member_name must be at most 39"),
            ({"members": [ok, {"member_name": "Nobody"}]}, "members[1].email or phone"),
            ({"members": [{"member_name": "Bad", "email": "not-an-address"}]},
             "not-an-address"),
            ({"members": [{"member_name": "Bad", "phone": "call me"}]}, "members[0].phone"),
            ({"members": [{"member_name": "Bad", "email": "b@example.com", "locale": "fr"}]},
             "members[0].locale"),
            ({"members": [ok, dict(ok, member_name="Twin")]}, "fine@example.com"),
            # A taken address refuses the whole invitation, the valid ones too.
            ({"members": [ok, {"member_name": "Again", "email": "TAKEN@example.com"}]},
             "taken@example.com"),
        ]
        for body, mention in cases:
            expect_error(t.api("/member/invite", body, expect=None), 400, "InvalidParameter",
                         mention)
        data = members(t)
        assert data["total"] == 2, data
        assert sorted(m["member_name"] for m in data["items"]) == ["Taken", "admin"]


def test_list_query_and_pages():
    with Tocsin() as t:
        t.api("/member/invite", {"members": [
            {"member_name": "Member %02d" % i, "email": "m%02d@corp.example" % i}
            for i in range(12)] + [{"member_name": "100%_sure", "email": "pct@x.example"}]})
        data = members(t, {"p": 2, "limit": 5, "orderby": "created_at", "asc": True})
        assert [m["member_name"] for m in data["items"]] == \
            ["Member %02d" % i for i in range(4, 9)]
        assert data["total"] == 14 and data["limit"] == 5 and data["p"] == 2
        assert members(t, {"query": "member 1"})["total"] == 2  # 10, 11
        assert members(t, {"query": "m03@"})["items"][0]["member_name"] == "Member 03"
        assert members(t, {"query": "0%_"})["items"][0]["member_name"] == "100%_sure"
        assert members(t, {"query": "%"})["total"] == 1, "LIKE wildcards are literal"
        assert [m["member_id"] for m in members(t, {"role_id": 1})["items"]] == [1]
        newest = members(t, {"limit": 1})["items"][0]
        assert newest["member_name"] == "100%_sure", "newest first by default"
        for body, mention in (({"limit": 0.5}, "limit"), ({"orderby": "name"}, "orderby"),
                              ({"query": 3}, "query"), ({"limit": 101}, "limit")):
            expect_error(t.api("/member/list", body, expect=None), 400, "InvalidParameter",
                         mention)


def test_app_keys():
    with Tocsin() as t:
        pid, key = t.make_member("Kim")
        other, other_key = t.make_member("Lee")
        assert len(key) == 32 and key != other_key
        assert t.api("/member/info", key=key).data["member_id"] == pid
        # A member may make keys for themselves, not for others.
        r = t.api("/app-key/create", {"name": "laptop"}, key=key)
        assert r.data["person_id"] == pid
        assert t.api("/member/info", key=r.data["app_key"]).data["member_id"] == pid
        expect_error(t.api("/app-key/create", {"person_id": other}, key=key, expect=None), 403,
                     "AccessDenied", "administrator")
        expect_error(t.api("/app-key/create", {"person_id": 999}, expect=None), 400,
                     "InvalidParameter", "person_id 999 does not exist")
        expect_error(t.api("/app-key/create", {"name": "n" * 65}, expect=None), 400,
                     "InvalidParameter", "name must be at most 64")
        expect_error(t.api("/app-key/create", {"person_id": "2"}, expect=None), 400,
                     "InvalidParameter", "person_id")
        # Keys are stored only as hashes.
        rows = t.db_query("SELECT key_hash, person_id FROM app_keys")
        assert len(rows) == 4, rows
        assert all(len(h) == 64 and h not in (key, other_key) for h, _ in rows)


def test_delete():
    with Tocsin() as t:
        a, akey = t.make_member("Ann", email="ann@example.com")
        b, _ = t.make_member("Bob", email="bob@example.com")
        c, _ = t.make_member("Cat", email="cat@example.com")
        for body, mention in (({}, "one of member_id"),
                              ({"member_id": 404}, "member_id 404 does not exist"),
                              ({"email": "nobody@example.com"}, "nobody@example.com"),
                              ({"member_id": "x"}, "member_id")):
            expect_error(t.api("/member/delete", body, expect=None), 400, "InvalidParameter",
                         mention)
        expect_error(t.api("/member/delete", {"member_id": b}, key=akey, expect=None), 403,
                     "AccessDenied")
        expect_error(t.api("/member/invite", {"members": [{"member_name": "Zed",
                                                          "email": "zed@example.com"}]},
                           key=akey, expect=None), 403, "AccessDenied")
        assert members(t)["total"] == 4
        r = t.api("/member/delete", {"member_id": a})
        validate_response("/member/delete", r)
        t.api("/member/delete", {"email": "BOB@example.com"})
        t.api("/member/delete", {"member_name": "Cat"})
        assert [m["member_id"] for m in members(t)["items"]] == [1]
        # A deleted member's keys stop working; the record stays for history.
        expect_error(t.api("/member/info", key=akey, expect=None), 401, "Unauthorized")
        r = t.api("/person/infos", {"person_ids": [a]})
        assert r.data["items"][0]["status"] == "deleted"
        expect_error(t.api("/member/delete", {"member_id": a}, expect=None), 400,
                     "InvalidParameter", "already deleted")
        expect_error(t.api("/app-key/create", {"person_id": a}, expect=None), 400,
                     "InvalidParameter", "deleted")
        # The address is free again.
        t.api("/member/invite", {"members": [{"member_name": "Ann 2",
                                              "email": "ann@example.com"}]})
        # The last administrator cannot be deleted.
        expect_error(t.api("/member/delete", {"member_id": 1}, expect=None), 400,
                     "InvalidParameter", "last administrator")
        second, _ = t.make_member("Root Two", admin=True)
        t.api("/member/delete", {"member_id": 1})
        expect_error(t.api("/member/info", expect=None), 401, "Unauthorized")


def test_restart_keeps_members():
    with Tocsin() as t:
        pid, key = t.make_member("Persistent", email="p@example.com")
        gone, gone_key = t.make_member("Gone")
        t.api("/member/delete", {"member_id": gone})
        before = members(t)
        t.restart()
        assert members(t) == before
        assert t.api("/member/info", key=key).data["member_id"] == pid
        expect_error(t.api("/member/info", key=gone_key, expect=None), 401, "Unauthorized")
        expect_error(t.api("/member/invite", {"members": [{"member_name": "Dup",
                                                          "email": "p@example.com"}]},
                           expect=None), 400, "InvalidParameter", "p@example.com")


if __name__ == "__main__":
    run([test_invite_list_info, test_invite_rejected, test_list_query_and_pages, test_app_keys,
         test_delete, test_restart_keeps_members])
