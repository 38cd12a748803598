"""test_console.py: the web console (issue 5).

1. The embedded static files: served at / with their content types and the
   security headers (CSP without inline script, nosniff, no-cache + ETag
   with 304), HEAD works, unknown files and API paths keep the API's
   envelopes.
2. POST /integration/health: counts, rate, last error, pending and lag,
   refused for alert sources and unknown ids.
3. The browser test (tests/console/console.test.mjs, playwright-core with
   Debian's chromium): log in, see the incident of a pushed event, create
   a webhook with a header and a template, press custom actions, acknowledge
   and resolve, see the deliveries in history and open one, errors in words,
   channels, members, alerts, phone width, paging of the incident and alert
   lists (keyboard, filters kept, live refresh keeps the page), and a
   member without the administrator role: sees and acknowledges incidents,
   sees no keys or secrets, is refused admin-only actions in words. Then,
   here: the receiver really got the pushes with the header and the
   templated body, and the console's template preview (web/js/template.js,
   run in node) renders the very bytes the server sent, from the default
   body another webhook got for the same event.

playwright-core is installed on first use into tests/console/node_modules
(npm ci, from the pinned package-lock.json). TOCSIN_SCREENSHOTS=<dir> makes
the browser test write the README's screenshots there.
"""
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

from receiver import Receiver
from tocsin_test import ROOT, Tocsin, expect_error, run, wait_until

CONSOLE_DIR = os.path.join(ROOT, "tests", "console")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TITLE = "Checkout latency high on web-3"
EDGE = ('{"{{incident.progress}}": 1, "r": [0.1, 1e2, -0.0, 1.5e-7, 123456789012345678],'
        ' "u": "\\u001f\\u00e9 \u2603", "l": "x{{incident.labels}}y",'
        ' "i": "{{incident.responders.0.person_id}}", "m": "{{incident.responders.00}}",'
        ' " {{ incident.alert_cnt }} ": "{{incident.alert_cnt}}", "z": [], "o": {}}')


def ensure_playwright():
    for tool in ("node", "npm"):
        assert shutil.which(tool), "%s is missing: run scripts/install-deps.sh test" % tool
    assert os.path.exists(CHROMIUM), "chromium is missing: run scripts/install-deps.sh test"
    pkg = os.path.join(CONSOLE_DIR, "node_modules", "playwright-core", "package.json")
    if not os.path.exists(pkg):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=CONSOLE_DIR, check=True, timeout=600)
    assert os.path.exists(pkg), "npm ci did not install playwright-core"


def raw_get(t, path, method="GET", headers=None):
    req = urllib.request.Request(t.base + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_static_files():
    with Tocsin() as t:
        status, headers, body = raw_get(t, "/")
        assert status == 200, status
        assert headers["Content-Type"] == "text/html; charset=utf-8", headers
        assert b'<script type="module" src="/js/app.js">' in body, body[:300]
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp, csp
        assert "unsafe-inline" not in csp, csp
        assert headers["X-Content-Type-Options"] == "nosniff", headers
        assert headers["Cache-Control"] == "no-cache", headers
        etag = headers["ETag"]
        # No inline script anywhere: every <script> names a file.
        assert b"<script>" not in body and b"onclick=" not in body
        status, _, _ = raw_get(t, "/", headers={"If-None-Match": etag})
        assert status == 304, status
        status, headers2, body2 = raw_get(t, "/index.html")
        assert status == 200 and body2 == body and headers2["ETag"] == etag
        status, headers, body = raw_get(t, "/js/app.js")
        assert status == 200 and headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert b"import" in body
        status, headers, _ = raw_get(t, "/css/app.css")
        assert status == 200 and headers["Content-Type"] == "text/css; charset=utf-8"
        status, headers, body = raw_get(t, "/js/app.js", method="HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000, headers
        # Unknown files and API paths keep the API's envelopes.
        status, headers, body = raw_get(t, "/js/nope.js")
        assert status == 404 and json.loads(body)["error"]["code"] == "RouteNotFound", body
        status, _, body = raw_get(t, "/incident/list")
        assert status == 400 and json.loads(body)["error"]["code"] == "MethodNotAllowed", body
        r = t.request("POST", "/index.html", raw=b"{}")
        expect_error(r, 404, "RouteNotFound")
        status, _, _ = raw_get(t, "/../../etc/passwd")
        assert status == 404, status


def push_event(t, key, title, alert_key, status="Critical"):
    return t.push(key, {"title_rule": title, "event_status": status, "alert_key": alert_key,
                        "description": "p99 above 2 s", "labels": {"host": "web-3",
                                                                   "service": "checkout"}})


def test_integration_health():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch = t.make_channel("Payments")
        src_id, key = t.make_source(ch)
        ok_id = t.api("/integration/create", {"type": "webhook_incident", "name": "ok hook",
                                              "endpoint": rx.url("/ok/h")}).data["integration_id"]
        bad_id = t.api("/integration/create", {
            "type": "webhook_incident", "name": "bad hook", "endpoint": rx.url("/bad/h"),
            "retry": {"max_attempts": 1}}).data["integration_id"]
        fresh = t.api("/integration/health", {"integration_id": ok_id}).data
        assert fresh["attempts"] == 0 and fresh["success_rate"] == 1 and fresh["pending"] == 0
        assert fresh["last_error"] == "" and fresh["enabled"] is True, fresh
        push_event(t, key, "health check", "h1")
        wait_until(lambda: t.api("/integration/health", {"integration_id": bad_id}).data[
            "failures"] >= 1, what="the failed attempt")
        wait_until(lambda: t.api("/integration/health", {"integration_id": ok_id}).data[
            "attempts"] >= 1, what="the delivered attempt")
        ok = t.api("/integration/health", {"integration_id": ok_id}).data
        assert ok["failures"] == 0 and ok["success_rate"] == 1.0 and ok["last_success_at"] > 0
        assert ok["window_ms"] == 86400000 and ok["lag_ms"] == 0, ok
        bad = t.api("/integration/health", {"integration_id": bad_id}).data
        assert bad["success_rate"] == 0 and bad["attempts"] == bad["failures"] >= 1, bad
        assert "400" in bad["last_error"] and bad["last_error_at"] > 0, bad
        # Disabled: its events wait (pending) and the lag grows.
        t.api("/integration/disable", {"integration_id": ok_id})
        push_event(t, key, "while disabled", "h2")
        # lag_ms counts milliseconds since the event was queued: wait until
        # the clock shows one, then until a later reading shows more.
        health = lambda: t.api("/integration/health", {"integration_id": ok_id}).data
        off = wait_until(lambda: (lambda d: d if d["pending"] >= 1 and d["lag_ms"] > 0 else None)(
            health()), what="pending, with a lag")
        assert off["enabled"] is False and off["status"] == "disabled" and off["lag_ms"] > 0, off
        wait_until(lambda: health()["lag_ms"] > off["lag_ms"], what="the lag to grow")
        expect_error(t.api("/integration/health", {"integration_id": src_id}, expect=None), 400,
                     "InvalidParameter", "alert source")
        expect_error(t.api("/integration/health", {"integration_id": 999}, expect=None), 400,
                     "InvalidParameter", "integration_id 999 does not exist")
        expect_error(t.api("/integration/health", {}, expect=None), 400, "InvalidParameter",
                     "integration_id")
        expect_error(t.api("/integration/health", {"integration_id": ok_id}, key="nope",
                           expect=None), 401, "Unauthorized")


def node_render(template, default_body):
    """The console's template.js, run in node, on one default body."""
    script = ("import('%s').then((m) => { const r = m.render(process.argv[1], process.argv[2]);"
              " process.stdout.write(JSON.stringify(r)); })"
              % os.path.join(ROOT, "web", "js", "template.js"))
    out = subprocess.run(["node", "--input-type=module", "-e", script, template, default_body],
                         check=True, capture_output=True, timeout=60)
    return json.loads(out.stdout)


def test_browser():
    ensure_playwright()
    shots = os.environ.get("TOCSIN_SCREENSHOTS", "")
    if shots:
        # node runs in tests/console: a relative folder means from here.
        shots = os.path.abspath(shots)
        os.makedirs(shots, exist_ok=True)
    artifacts = tempfile.mkdtemp(prefix="tocsin-console-")
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch = t.make_channel("Payments")
        t.api("/integration/create", {"type": "alert_standard", "name": "console-source",
                                      "channel_id": ch})
        key = [i for i in t.api("/integration/list", {}).data["items"]
               if i["name"] == "console-source"][0]["integration_key"]
        t.api("/integration/create", {"type": "custom_action", "name": "Restart service",
                                      "endpoint": rx.url("/ok/action"), "channel_ids": [ch]})
        t.api("/integration/create", {"type": "custom_action", "name": "Page the DBA",
                                      "endpoint": rx.url("/fail/dba"), "channel_ids": [ch]})
        # The default body of every incident event, to check the preview with.
        t.api("/integration/create", {"type": "webhook_incident", "name": "Raw copy",
                                      "endpoint": rx.url("/ok/raw")})
        # Jansson's printing, where a hand-made renderer would drift.
        t.api("/integration/create", {"type": "webhook_incident", "name": "Edge cases",
                                      "endpoint": rx.url("/ok/edge"), "body_template": EDGE})
        push_event(t, key, TITLE, "lat-web-3")
        # A few more, so that the list looks like a working day.
        for title, status in [("Disk almost full on db-2", "Warning"),
                              ("TLS certificate of api.example.com expires in 7 days", "Info"),
                              ("5xx rate above 2% on the payments API", "Critical")]:
            push_event(t, key, title, title[:20], status)
        member_id, member_key = t.make_member("Linus Member")
        env = dict(os.environ, TOCSIN_URL=t.base, TOCSIN_ADMIN_KEY=t.admin_key,
                   MEMBER_KEY=member_key, MEMBER_ID=str(member_id),
                   RECEIVER_URL=rx.base, INCIDENT_TITLE=TITLE, CHROMIUM=CHROMIUM,
                   TOCSIN_SCREENSHOTS=shots, TOCSIN_ARTIFACTS=artifacts)
        proc = subprocess.run(["node", os.path.join(CONSOLE_DIR, "console.test.mjs")],
                              cwd=CONSOLE_DIR, env=env, capture_output=True, text=True,
                              timeout=600)
        print(proc.stdout, end="")
        assert proc.returncode == 0, "browser test failed (screenshot in %s):\n%s%s" % (
            artifacts, proc.stdout[-4000:], proc.stderr[-4000:])
        result = json.loads(proc.stdout.strip().splitlines()[-1][len("RESULT "):])
        inc_id, hook_id = result["incident_id"], result["webhook_id"]

        # The receiver really got the pushes, with the header and the template.
        recs = wait_until(lambda: [r for r in rx.records()
                                   if r["path"].startswith("/ok/console-hook")], what="pushes")
        raws = {r["headers"]["webhook-id"]: r["body"] for r in rx.records()
                if r["path"].startswith("/ok/raw")}
        checked = 0
        for r in recs:
            assert r["headers"].get("x-console") == "console-test", r["headers"]
            body = json.loads(r["body"])
            if "severity" not in body or body.get("title") != TITLE:
                continue  # the test event: a sample incident, not ours
            assert set(body) == {"title", "severity", "labels", "who", "first_responder", "kept",
                                 "n", "big"}, body
            assert body["labels"] == {"host": "web-3", "service": "checkout"}, body
            assert body["kept"] == "{{incident.nope}}" and body["n"] == 1.5, body
            # Byte for byte: the preview's renderer on the default body of the
            # same event gives what the server sent.
            raw = raws.get(r["headers"]["webhook-id"])
            if raw:
                rendered = node_render(result["template"], raw)
                assert rendered["ok"] and rendered["text"] == r["body"], (rendered, r["body"])
                checked += 1
        assert checked >= 3, "only %d pushes compared with the preview" % checked
        edges = rx.records("/ok/edge")
        assert len(edges) >= 3, edges
        for r in edges:
            rendered = node_render(EDGE, raws[r["headers"]["webhook-id"]])
            assert rendered["ok"] and rendered["text"] == r["body"], (rendered, r["body"])
        inc = t.api("/incident/info", {"incident_id": inc_id}).data
        assert inc["progress"] == "Closed" and inc["impact"] == "checkout slow for EU users"
        action = [r for r in rx.records() if r["path"].startswith("/ok/action")]
        assert len(action) == 1 and json.loads(action[0]["body"])["event_type"] == "i_custom"
        assert json.loads(action[0]["body"])["incident"]["incident_id"] == inc_id
        # The member's acknowledgement is theirs; their refused calls changed
        # nothing (no integration made, no test event sent by them).
        acked = t.api("/incident/info", {"incident_id": result["member_acked"]}).data
        assert acked["progress"] == "Processing" and acked["ack_time"] > 0, acked
        feed = t.api("/incident/feed", {"incident_id": result["member_acked"], "limit": 100}).data
        assert [f["creator_id"] for f in feed["items"] if f["type"] == "i_ack"] == [member_id], feed
        names = [i["name"] for i in t.api("/integration/list", {"limit": 100}).data["items"]]
        assert "Member hook" not in names, names
        health = t.api("/integration/health", {"integration_id": hook_id}).data
        assert health["attempts"] >= 3 and health["failures"] == 0, health
    shutil.rmtree(artifacts, ignore_errors=True)


def test_template_preview_edges():
    """template.js against the rules of src/delivery/template.c and jansson's
    printing ("%.17g" reals with ".0", key order kept, uppercase \\u escapes),
    on cases the browser test's byte-for-byte comparison does not reach."""
    default = json.dumps({"incident": {"title": "T", "labels": {"a": "1"}, "n": 3,
                                       "list": [{"x": "y"}], "f": 0.1, "nul": None}})
    cases = [
        ('"{{incident}}"', '{"title":"T","labels":{"a":"1"},"n":3,"list":[{"x":"y"}],'
         '"f":0.10000000000000001,"nul":null}'),
        ('{"{{incident.title}}": 1, "{{incident.n}}": 2}', '{"T":1,"3":2}'),
        ('["{{ incident.title }}", "x{{incident.labels}}y", "{{incident.list.0.x}}"]',
         '["T","x{\\"a\\":\\"1\\"}y","y"]'),
        ('"{{incident.list.00.x}} {{incident.missing}}"', '"{{incident.list.00.x}} {{incident.missing}}"'),
        ('{"f": "{{incident.f}}", "g": 1e2, "h": -0.0, "z": "{{incident.nul}}"}',
         '{"f":0.10000000000000001,"g":100.0,"h":-0.0,"z":null}'),
        ('{"b": 1, "c": 2, "1": 3}', '{"b":1,"c":2,"1":3}'),
        ('"\\u0001 {{incident.title}}"', '"\\u0001 T"'),
    ]
    for template, want in cases:
        got = node_render(template, default)
        assert got["ok"] and got["text"] == want, (template, got, want)
    for template, words in [('{"a": 1, "a": 2}', "duplicate"), ('"{{a..b}}"', "malformed variable"),
                            ('"{{}}"', "empty variable"), ('"{{a"', "without a closing"),
                            ("{", "not valid JSON"), ("99999999999999999999", "not valid JSON")]:
        got = node_render(template, default)
        assert not got["ok"] and words in got["error"], (template, got)


if __name__ == "__main__":
    run([test_static_files, test_integration_health, test_template_preview_edges, test_browser])
