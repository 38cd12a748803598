"""test_fuzz_findings.py: every input that ever crashed a fuzz target
(fuzz/corpus/<name>/crash-*), sent to the real server over HTTP.

The fuzz targets call tocsin's functions directly; this checks the whole
request path for the same bytes: each one must now get a proper refusal, a
400 InvalidParameter envelope whose message names the problem, and change
nothing. Before the fixes, some of them overflowed a stack buffer and the
others made the server close the connection without any answer (a message
that is not UTF-8 cannot go into the JSON envelope).
"""
import glob
import os
import time

from tocsin_test import Tocsin, expect_error, run

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fuzz", "corpus")

# fuzz_openapi: the first byte picks the route (fuzz/fuzz_openapi.c,
# route_order); only the routes of its crash files are needed here.
OPENAPI_ROUTES = {43: "/integration/create"}

# What each refusal's message must mention.
MENTIONS = {
    "event_standard/crash-json-error-utf8": "not valid JSON",
    "event_standard/crash-label-key-excerpt": "labels",
    "openapi/crash-header-name-utf8": "headers",
    "openapi/crash-event-type-utf8": "event_types",
    "template/crash-json-error-utf8": "body_template",
    "template/crash-unclosed-excerpt-utf8": "body_template",
}


def crash_files(target):
    return sorted(glob.glob(os.path.join(CORPUS, target, "crash-*")))


def name_of(path):
    return "%s/%s" % (os.path.basename(os.path.dirname(path)), os.path.basename(path))


def integration_count(t):
    return t.api("/integration/list", {"limit": 100}).data["total"]


def refused(resp, path):
    """A 400 InvalidParameter envelope that names the problem."""
    expect_error(resp, 400, "InvalidParameter", MENTIONS[name_of(path)])


def test_event_standard_crashers():
    files = crash_files("event_standard")
    assert files, "no crash files in fuzz/corpus/event_standard"
    with Tocsin() as t:
        _, key = t.make_source(t.make_channel("fuzz"))
        for path in files:
            raw = open(path, "rb").read()
            r = t.request("POST", "/event/push/alert/standard?integration_key=" + key, raw=raw)
            refused(r, path)
        now = int(time.time())
        alerts = t.api("/alert/list", {"start_time": now - 3600, "end_time": now + 60,
                                       "limit": 100}).data
        assert alerts["total"] == 0, alerts


def test_openapi_crashers():
    files = crash_files("openapi")
    assert files, "no crash files in fuzz/corpus/openapi"
    with Tocsin() as t:
        before = integration_count(t)
        for path in files:
            raw = open(path, "rb").read()
            route = OPENAPI_ROUTES[raw[0] & 0x7F]
            assert b"$" not in raw[1:], "placeholders are not expanded here: %s" % path
            r = t.request("POST", "%s?app_key=%s" % (route, t.admin_key), raw=raw[1:])
            refused(r, path)
        assert integration_count(t) == before


def test_template_crashers():
    """The template (the first line) as a webhook's body_template."""
    files = crash_files("template")
    assert files, "no crash files in fuzz/corpus/template"
    with Tocsin() as t:
        before = integration_count(t)
        for path in files:
            tmpl = open(path, "rb").read().split(b"\n")[0].decode()
            body = {"type": "webhook_incident", "name": "fuzz", "body_template": tmpl,
                    "endpoint": "https://example.com/hook"}
            refused(t.api("/integration/create", body, expect=None), path)
        assert integration_count(t) == before


if __name__ == "__main__":
    run([test_event_standard_crashers, test_openapi_crashers, test_template_crashers])
