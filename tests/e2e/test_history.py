"""test_history.py: /webhook/history/list and /webhook/history/detail.

Delivery writes webhook_history (one row per attempt); until it exists, these
tests write rows into the store of a stopped tocsin (t.db_execmany), start
it again, and read them back through the API: the real store and the real
binary, no mock.
"""
import time

from tocsin_test import Tocsin, expect_error, run, validate_response

DAY = 24 * 3600 * 1000
# A fixed base time (2026-04-12T05:31:11.357Z) keeps the rows independent of
# the clock; history reads never compare with "now".
T0 = 1775971871357

COLUMNS = ("integration_id", "event_id", "webhook_type", "event_type", "channel_id", "ref_id",
           "endpoint", "attempt", "duration_ms", "status", "status_code", "error_message",
           "request_headers", "request_body", "response_headers", "response_body",
           "event_time", "created_at")


def row(integration_id, event_id, event_type, ref_id, event_time, status="success",
        attempt=1, channel_id=0, webhook_type=None, status_code=None, error=""):
    if webhook_type is None:
        webhook_type = "alert" if event_type.startswith("a_") else "incident"
    if status_code is None:
        status_code = 200 if status == "success" else 500
    return {
        "integration_id": integration_id, "event_id": event_id, "webhook_type": webhook_type,
        "event_type": event_type, "channel_id": channel_id, "ref_id": ref_id,
        "endpoint": "https://receiver.example/hook?i=%d" % integration_id,
        "attempt": attempt, "duration_ms": 10 + attempt, "status": status,
        "status_code": status_code, "error_message": error,
        "request_headers": '{"Content-Type":"application/json"}',
        "request_body": '{"event_type":"%s","event_id":"%s"}' % (event_type, event_id),
        "response_headers": '{"Content-Type":"text/plain"}',
        "response_body": "ok" if status == "success" else "boom",
        # created_at is when the row was written: now, or the writer's timer
        # would prune these rows (history is kept 7 days) while the test runs.
        "event_time": event_time, "created_at": int(time.time() * 1000) + 5 * attempt,
    }


def seed(t, rows):
    """Stops t, inserts rows into its database, starts it again."""
    t.stop()
    t.db_execmany("INSERT INTO webhook_history(%s) VALUES(%s)" % (
        ",".join(COLUMNS), ",".join("?" * len(COLUMNS))),
        [tuple(r[c] for c in COLUMNS) for r in rows])
    t.start()


def ids(resp):
    return [(i["event_id"], i["attempt"]) for i in resp.data["items"]]


def hist(t, **body):
    body.setdefault("start_time", T0 - DAY)
    body.setdefault("end_time", T0 + DAY)
    body.setdefault("limit", 100)
    r = t.api("/webhook/history/list", body)
    validate_response("/webhook/history/list", r)
    return r


INC = "aaaaaaaaaaaaaaaaaaaaaaaa"
ALR = "bbbbbbbbbbbbbbbbbbbbbbbb"


def standard_rows():
    """12 rows at T0 + k minutes: two integrations, incident and alert events,
    a retried event, a failure; plus one row 3 days old and one 9 days old."""
    m = 60 * 1000
    return [
        row(11, "e01", "i_new", INC, T0 + 1 * m),
        row(11, "e02", "i_ack", INC, T0 + 2 * m),
        row(11, "e03", "i_rslv", INC, T0 + 3 * m, status="failed", error="connect refused",
            status_code=0),
        row(11, "e03", "i_rslv", INC, T0 + 3 * m, status="failed", attempt=2, status_code=503),
        row(11, "e03", "i_rslv", INC, T0 + 3 * m, attempt=3),
        row(12, "e04", "a_new", ALR, T0 + 4 * m),
        row(12, "e05", "a_update", ALR, T0 + 5 * m),
        row(12, "e06", "a_close", ALR, T0 + 6 * m, status="failed", status_code=404),
        row(11, "e07", "i_new", "cccccccccccccccccccccccc", T0 + 7 * m),
        row(11, "e08", "i_comm", "cccccccccccccccccccccccc", T0 + 8 * m),
        row(12, "e09", "a_new", "dddddddddddddddddddddddd", T0 + 9 * m),
        row(12, "e10", "a_merge", "dddddddddddddddddddddddd", T0 + 10 * m),
        row(11, "old3", "i_new", INC, T0 - 3 * DAY),
        row(11, "old9", "i_new", INC, T0 - 9 * DAY),
    ]


def test_list_filters_and_order():
    with Tocsin() as t:
        seed(t, standard_rows())
        r = hist(t)
        # Newest first by default; attempts of one event newest first too.
        assert ids(r) == [("e10", 1), ("e09", 1), ("e08", 1), ("e07", 1), ("e06", 1),
                          ("e05", 1), ("e04", 1), ("e03", 3), ("e03", 2), ("e03", 1),
                          ("e02", 1), ("e01", 1)], ids(r)
        assert r.data["total"] == 12 and r.data["search_after_ctx"] == ""
        item = r.data["items"][0]
        assert item["integration_id"] == 12 and item["webhook_type"] == "alert"
        assert item["event_type"] == "a_merge" and item["ref_id"] == "d" * 24
        assert item["endpoint"] == "https://receiver.example/hook?i=12"
        assert item["duration"] == 11 and item["status_code"] == 200
        assert item["event_time"] == "2026-04-12T05:41:11.357Z", item["event_time"]
        # The list does not carry the bodies; the detail does.
        assert "request_body" not in item and "response_body" not in item

        r = hist(t, asc=True, orderby="event_time")
        assert ids(r)[0] == ("e01", 1) and ids(r)[-1] == ("e10", 1)
        assert ids(r)[2:5] == [("e03", 1), ("e03", 2), ("e03", 3)]

        r = hist(t, ref_id=INC)
        assert {e for e, _ in ids(r)} == {"e01", "e02", "e03"} and r.data["total"] == 5

        r = hist(t, integration_id=12)
        assert [e for e, _ in ids(r)] == ["e10", "e09", "e06", "e05", "e04"]
        assert all(i["integration_id"] == 12 for i in r.data["items"])

        r = hist(t, status="failed")
        assert ids(r) == [("e06", 1), ("e03", 2), ("e03", 1)], ids(r)
        assert r.data["items"][2]["error_message"] == "connect refused"
        assert r.data["items"][2]["status_code"] == 0

        r = hist(t, event_types=["i_new", "a_new"])
        assert [e for e, _ in ids(r)] == ["e09", "e07", "e04", "e01"]

        r = hist(t, event_types=["i_new"], integration_id=11, ref_id=INC, status="success")
        assert ids(r) == [("e01", 1)] and r.data["total"] == 1

        # integration_id 0 means "any", as an absent one.
        assert hist(t, integration_id=0).data["total"] == 12
        # Nothing matches: an empty page, not an error.
        r = hist(t, ref_id="nope")
        assert r.data == {"items": [], "total": 0, "search_after_ctx": ""}

        # The window selects on event time, both ends included.
        m = 60 * 1000
        r = hist(t, start_time=T0 + 2 * m, end_time=T0 + 4 * m)
        assert [e for e, _ in ids(r)] == ["e04", "e03", "e03", "e03", "e02"]
        # A full 7-day window reaches the 3-day-old row, never the 9-day-old one.
        r = hist(t, start_time=T0 + 11 * m - 7 * DAY, end_time=T0 + 11 * m)
        assert r.data["total"] == 13 and ("old3", 1) in ids(r) and ("old9", 1) not in ids(r)
        r = hist(t, start_time=T0 - 10 * DAY, end_time=T0 - 8 * DAY)
        assert ids(r) == [("old9", 1)]


def test_list_paging():
    with Tocsin() as t:
        seed(t, standard_rows())
        for asc in (False, True):
            everything = ids(hist(t, asc=asc))
            got, cursor, pages = [], "", 0
            while True:
                body = {"limit": 5, "asc": asc}
                if cursor:
                    body["search_after_ctx"] = cursor
                r = hist(t, **body)
                assert r.data["total"] == 12, r.data
                assert len(r.data["items"]) <= 5
                got += ids(r)
                pages += 1
                cursor = r.data["search_after_ctx"]
                if not cursor:
                    break
                assert pages < 10, "paging does not end"
            assert got == everything, (asc, got)
            assert pages == 3
        # A page that ends exactly at the last row has no cursor.
        r = hist(t, limit=12)
        assert len(r.data["items"]) == 12 and r.data["search_after_ctx"] == ""
        r = hist(t, limit=11)
        assert r.data["search_after_ctx"] != ""
        r = hist(t, limit=11, search_after_ctx=r.data["search_after_ctx"])
        assert ids(r) == [("e01", 1)] and r.data["search_after_ctx"] == ""
        # Filters apply on every page.
        r = hist(t, limit=2, integration_id=12)
        first = ids(r)
        r = hist(t, limit=2, integration_id=12, search_after_ctx=r.data["search_after_ctx"])
        assert first + ids(r) == [("e10", 1), ("e09", 1), ("e06", 1), ("e05", 1)]


def test_detail():
    with Tocsin() as t:
        ch = t.make_channel("History ch")
        inc = t.api("/incident/create", {"title": "Disk full on db-1",
                                         "incident_severity": "Critical",
                                         "channel_id": ch}).data["incident_id"]
        rows = standard_rows()
        rows.append(row(13, "e20", "i_new", inc, T0 + 20 * 60 * 1000, channel_id=ch))
        seed(t, rows)

        r = t.api("/webhook/history/detail", {"event_id": "e20", "integration_id": 13})
        validate_response("/webhook/history/detail", r)
        d = r.data
        assert d["ref_id"] == inc and d["ref_title"] == "Disk full on db-1", d
        assert d["channel_id"] == ch and d["channel_name"] == "History ch", d
        assert d["request_body"] == '{"event_type":"i_new","event_id":"e20"}'
        assert d["request_headers"] == '{"Content-Type":"application/json"}'
        assert d["response_body"] == "ok" and d["response_headers"] == '{"Content-Type":"text/plain"}'
        assert d["status"] == "success" and d["status_code"] == 200 and d["attempt"] == 1
        assert d["event_time"] == "2026-04-12T05:51:11.357Z"

        # Of several attempts, the detail shows the newest.
        r = t.api("/webhook/history/detail", {"event_id": "e03", "integration_id": 11})
        validate_response("/webhook/history/detail", r)
        assert r.data["attempt"] == 3 and r.data["status"] == "success"
        # An object that no longer exists (or never did) has an empty title.
        assert r.data["ref_title"] == "" and r.data["channel_name"] == ""

        r = t.api("/webhook/history/detail", {"event_id": "e06", "integration_id": 12})
        validate_response("/webhook/history/detail", r)
        assert r.data["status"] == "failed" and r.data["status_code"] == 404
        assert r.data["response_body"] == "boom" and r.data["webhook_type"] == "alert"

        # The event exists, but not for this integration.
        expect_error(t.api("/webhook/history/detail", {"event_id": "e03", "integration_id": 12},
                           expect=None), 400, "InvalidParameter", "event_id e03 does not exist")
        expect_error(t.api("/webhook/history/detail", {"event_id": "zz", "integration_id": 11},
                           expect=None), 400, "InvalidParameter", "event_id zz")


def test_bad_input():
    with Tocsin() as t:
        seed(t, standard_rows())
        ok = {"start_time": T0 - DAY, "end_time": T0 + DAY, "limit": 10}
        cases = [
            ({"end_time": T0, "limit": 10}, "start_time is required"),
            ({"start_time": T0, "limit": 10}, "end_time is required"),
            ({"start_time": T0, "end_time": T0 + 1}, "limit is required"),
            (dict(ok, limit=0), "limit"),
            (dict(ok, limit=101), "limit"),
            (dict(ok, limit="10"), "limit"),
            (dict(ok, start_time=T0 // 1000), "start_time"),  # seconds, not ms
            (dict(ok, end_time=10 ** 13), "end_time"),
            (dict(ok, start_time="x"), "start_time"),
            (dict(ok, end_time=T0 - DAY), "end_time must be greater than start_time"),
            (dict(ok, end_time=T0 - DAY - 1), "end_time must be greater than start_time"),
            (dict(ok, start_time=T0 - 4 * DAY, end_time=T0 + 3 * DAY + 1),
             "start_time and end_time must be at most 7 days apart"),
            (dict(ok, status="ok"), "status must be one of: success, failed"),
            (dict(ok, orderby="created_at"), "orderby"),
            (dict(ok, asc="yes"), "asc"),
            (dict(ok, ref_id="x" * 129), "ref_id must be at most 128"),
            (dict(ok, ref_id=5), "ref_id"),
            (dict(ok, integration_id=-1), "integration_id"),
            (dict(ok, event_types="i_new"), "event_types must be an array"),
            (dict(ok, event_types=["i_new", 3]), "event_types[1]"),
            (dict(ok, event_types=["i_new"] * 51), "event_types must have at most 50"),
            (dict(ok, search_after_ctx="garbage"), "search_after_ctx"),
            (dict(ok, search_after_ctx="123_abc"), "search_after_ctx"),
            (dict(ok, search_after_ctx=7), "search_after_ctx"),
        ]
        for body, mention in cases:
            expect_error(t.api("/webhook/history/list", body, expect=None), 400,
                         "InvalidParameter", mention)
        # The longest window allowed is exactly 7 days.
        hist(t, start_time=T0 - 4 * DAY, end_time=T0 + 3 * DAY)

        detail_cases = [
            ({"integration_id": 11}, "event_id is required"),
            ({"event_id": "e01"}, "integration_id is required"),
            ({"event_id": "", "integration_id": 11}, "event_id"),
            ({"event_id": 5, "integration_id": 11}, "event_id"),
            ({"event_id": "e01", "integration_id": 0}, "integration_id"),
            ({"event_id": "e01", "integration_id": "11"}, "integration_id"),
        ]
        for body, mention in detail_cases:
            expect_error(t.api("/webhook/history/detail", body, expect=None), 400,
                         "InvalidParameter", mention)
        # Reads change nothing: the history is as seeded.
        assert hist(t).data["total"] == 12
        expect_error(t.request("POST", "/webhook/history/list", ok), 401, "Unauthorized")


def test_example_request_shapes():
    """The spec's example bodies (times swapped to the seeded window)."""
    with Tocsin() as t:
        seed(t, [row(6113996590131, "20260412Xatt9hrXsgmFkBR78WF655", "a_update", ALR, T0,
                     channel_id=2551105804131)])
        r = t.api("/webhook/history/list", {"limit": 20, "start_time": T0 - DAY,
                                            "end_time": T0 + 1, "integration_id": 6113996590131,
                                            "status": "success"})
        validate_response("/webhook/history/list", r)
        assert r.data["total"] == 1
        r = t.api("/webhook/history/detail", {"event_id": "20260412Xatt9hrXsgmFkBR78WF655",
                                              "integration_id": 6113996590131})
        validate_response("/webhook/history/detail", r)
        assert r.data["event_type"] == "a_update" and r.data["channel_name"] == ""


if __name__ == "__main__":
    run([test_list_filters_and_order, test_list_paging, test_detail, test_bad_input,
         test_example_request_shapes])
