"""tocsin_test.py: the e2e harness: a real tocsin on loopback, real HTTP.

Each test script starts its own tocsin (`Tocsin()`), on a free 127.0.0.1 port
with a fresh data folder, talks to it with urllib, and stops it with SIGTERM
(which must exit 0; under ASan a leak or error makes it exit non-zero, and
the harness fails the test then). `validate(schema_name, data)` checks a
response's `data` against the 200 schema of reference/oncall-openapi.subset.json.

Run a script alone:  TOCSIN_BIN=build-asan/tocsin /usr/bin/python3 tests/e2e/test_x.py
(build-asan/, from `make test`, has tests/: the receiver and the sign tool;
the run build, build/, does not.)
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("TOCSIN_BIN", os.path.join(ROOT, "build", "tocsin"))
REFERENCE = os.environ.get("TOCSIN_REFERENCE", os.path.join(ROOT, "..", "shared", "reference"))
ADMIN_KEY = "e2e-admin-key-0123456789abcdef"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def data(self):
        return (self.json or {}).get("data")

    @property
    def error(self):
        return (self.json or {}).get("error")

    def __repr__(self):
        return "Response(%d, %s)" % (self.status, self.raw[:500])


class Tocsin:
    """A running tocsin. Use as a context manager or call stop()."""

    def __init__(self, data_dir=None, env=None, args=(), admin_key=ADMIN_KEY):
        self.port = free_port()
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="tocsin-e2e-")
        self.admin_key = admin_key
        self.args = list(args)
        # Tests fire requests as fast as they can: the per-key rate limits
        # are off unless a test sets them (test_rate_limits.py does).
        for flag in ("--rate-limit-event", "--rate-limit-api"):
            if flag not in self.args:
                self.args += [flag, "0"]
        self.env = dict(os.environ)
        if admin_key:
            self.env["TOCSIN_ADMIN_APP_KEY"] = admin_key
        else:
            self.env.pop("TOCSIN_ADMIN_APP_KEY", None)
        self.env.update(env or {})
        self.proc = None
        # HTTPS when started with a certificate: trust exactly that one.
        self.ssl_ctx = None
        if "--tls-cert" in self.args:
            import ssl
            self.ssl_ctx = ssl.create_default_context(
                cafile=self.args[self.args.index("--tls-cert") + 1])
        self.start()

    @property
    def base(self):
        return "%s://127.0.0.1:%d" % ("https" if self.ssl_ctx else "http", self.port)

    def start(self):
        self.log = open(os.path.join(self.data_dir, "tocsin.log"), "ab")
        self.out = open(os.path.join(self.data_dir, "tocsin.out"), "ab")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:%d" % self.port, "--data", self.data_dir]
            + self.args,
            stdout=self.out, stderr=self.log, env=self.env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("tocsin exited at start (%s):\n%s" % (
                    self.proc.returncode, self.read_log()))
            try:
                r = self.get("/healthz")
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("tocsin did not become healthy:\n" + self.read_log())

    def read_log(self):
        with open(os.path.join(self.data_dir, "tocsin.log"), "rb") as f:
            return f.read().decode(errors="replace")[-5000:]

    def read_stdout(self):
        with open(os.path.join(self.data_dir, "tocsin.out"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, expect_clean=True):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("tocsin did not stop on SIGTERM")
        self.log.close()
        self.out.close()
        if expect_clean and self.proc.returncode != 0:
            raise AssertionError("tocsin exited with %s:\n%s" % (self.proc.returncode,
                                                               self.read_log()))

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.out.close()

    def restart(self):
        self.stop()
        self.start()

    def cleanup(self):
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.stop(expect_clean=exc_type is None)
        finally:
            if exc_type is None:
                self.cleanup()
            else:
                print("data folder kept: %s" % self.data_dir)
        return False

    # HTTP ---------------------------------------------------------------
    def request(self, method, path, body=None, raw=None, headers=None, timeout=30):
        url = self.base + path
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        if raw is None and body is not None:
            raw = json.dumps(body).encode()
        req = urllib.request.Request(url, data=raw, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_ctx) as resp:
                return Response(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, dict(e.headers), e.read())

    def get(self, path):
        return self.request("GET", path)

    def api(self, path, body=None, key=None, expect=200):
        """POST an Open API call with the admin key; assert the HTTP status."""
        sep = "&" if "?" in path else "?"
        r = self.request("POST", "%s%sapp_key=%s" % (path, sep, key or self.admin_key),
                         body if body is not None else {})
        if expect is not None and r.status != expect:
            raise AssertionError("%s -> %d, expected %d: %s" % (path, r.status, expect, r.raw[:800]))
        return r

    def push(self, key, body, kind="standard", expect=200):
        r = self.request("POST", "/event/push/alert/%s?integration_key=%s" % (kind, key), body)
        if expect is not None and r.status != expect:
            raise AssertionError("push -> %d, expected %d: %s" % (r.status, expect, r.raw[:800]))
        return r

    # Fixtures -------------------------------------------------------------
    def make_channel(self, name, group=None, **extra):
        body = {"channel_name": name, "team_id": 0}
        if group is not None:
            body["group"] = group
        body.update(extra)
        return self.api("/channel/create", body).data["channel_id"]

    def make_source(self, channel_id, kind="alert_standard", name=None):
        r = self.api("/integration/create", {
            "type": kind, "name": name or "src-%d-%s" % (channel_id, time.time_ns()),
            "channel_id": channel_id})
        return r.data["integration_id"], r.data["integration_key"]

    def make_member(self, name, email=None, admin=False):
        """Invite a person and make them an app key; returns (person_id, app_key)."""
        item = {"member_name": name, "email": email or "%s-%d@example.com" % (
            name.lower().replace(" ", "."), time.time_ns())}
        if admin:
            item["role_ids"] = [1]
        pid = self.api("/member/invite", {"members": [item]}).data["items"][0]["member_id"]
        key = self.api("/app-key/create", {"person_id": pid}).data["app_key"]
        return pid, key

    # Metrics: what tocsin has done, to wait on --------------------------------
    def scrape(self):
        """GET /metrics, read back (a Scrape)."""
        r = self.get("/metrics")
        if r.status != 200:
            raise AssertionError("/metrics -> %r" % r)
        return Scrape(r.raw.decode())

    def wait_settled(self, timeout=30):
        """Waits until no delivery is pending (tocsin_outbox_pending is 0:
        every delivery queued so far was delivered or failed, and no retry
        waits) and returns that scrape. A change writes its deliveries in the
        same commit, before its call is answered, so every call answered
        before this one is covered; and the receiver records a request before
        it answers it, so whatever tocsin sent for them is in the receiver's
        records by then. Pending rows of an integration that is disabled
        never settle: use this only where every integration may send."""
        deadline = time.time() + timeout
        while True:
            s = self.scrape()
            pending = s.get("tocsin_outbox_pending")
            if pending == 0:
                return s
            if time.time() >= deadline:
                raise AssertionError("the outbox did not settle in %ss: %d pending" % (
                    timeout, pending))
            time.sleep(0.05)


def keep_every_body(t):
    """Makes tocsin store the webhook body of every event from now on.

    Since migration 007, events.body holds an event's webhook body only when
    some integration subscribes to the event (NULL otherwise: bodies are
    rendered only for subscribers). A test that reads every event's body
    from the store calls this first: it makes an incident webhook and an
    alert webhook subscribed to everything (no channel_ids, no event_types)
    and disables them at once. A disabled integration keeps its
    subscriptions, so every event gets its body and a queued delivery, and
    nothing is sent (the deliveries wait for an enabling that never comes,
    so wait_settled cannot be used). The endpoint is on 127.0.0.1: tocsin
    must run with --allow-private-targets. Returns the two integration ids."""
    ids = []
    for kind in ("webhook_incident", "webhook_alert"):
        r = t.api("/integration/create", {"type": kind, "name": "every body (%s)" % kind,
                                          "endpoint": "http://127.0.0.1:9/never-sent"})
        ids.append(r.data["integration_id"])
        t.api("/integration/disable", {"integration_id": ids[-1]})
    return ids


def keeping_bodies(args=()):
    """A started Tocsin (with --allow-private-targets and args) on which
    keep_every_body was called; stopped again if that fails."""
    t = Tocsin(args=["--allow-private-targets"] + list(args))
    try:
        keep_every_body(t)
    except BaseException:
        t.stop(expect_clean=False)
        raise
    return t


def expect_error(resp, status, code, mentions=None):
    assert resp.status == status, "expected HTTP %d, got %r" % (status, resp)
    err = resp.error
    assert err and err.get("code") == code, "expected %s, got %r" % (code, resp)
    assert resp.json.get("request_id"), resp
    assert resp.headers.get("Flashcat-Request-Id") == resp.json["request_id"], resp.headers
    if mentions:
        assert mentions in err.get("message", ""), "message %r does not mention %r" % (
            err.get("message"), mentions)


# The Prometheus text format of /metrics, read back -------------------------------
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")


def parse_labels(text):
    """a="x",b="y\\"z" -> {"a": "x", "b": 'y"z'}, undoing the format's escapes."""
    labels, i = {}, 0
    while i < len(text):
        eq = text.index("=", i)
        name = text[i:eq]
        assert text[eq + 1] == '"', text
        j, value = eq + 2, []
        while text[j] != '"':
            if text[j] == "\\":
                value.append({"\\": "\\", '"': '"', "n": "\n"}[text[j + 1]])
                j += 2
            else:
                value.append(text[j])
                j += 1
        labels[name] = "".join(value)
        i = j + 1
        if i < len(text):
            assert text[i] == ",", text
            i += 1
    return labels


class Scrape:
    def __init__(self, text):
        self.text = text
        self.samples = {}
        self.types = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ")
                self.types[name] = kind
                continue
            if line.startswith("#") or not line:
                continue
            m = SAMPLE.match(line)
            assert m, "not a sample line: %r" % line
            labels = parse_labels(m.group(2) or "")
            key = (m.group(1), frozenset(labels.items()))
            assert key not in self.samples, "duplicate series: %r" % line
            self.samples[key] = float(m.group(3))

    def get(self, name, **labels):
        key = (name, frozenset((k, str(v)) for k, v in labels.items()))
        assert key in self.samples, "no series %s%r in:\n%s" % (name, labels, self.text)
        return self.samples[key]

    def series(self, name):
        return [dict(k[1]) for k in self.samples if k[0] == name]

    def hook(self, metric, hook, **labels):
        """A per-integration series, found by integration_id (and labels)."""
        for key, value in self.samples.items():
            d = dict(key[1])
            if key[0] == metric and d.get("integration_id") == str(hook) and all(
                    d.get(k) == str(v) for k, v in labels.items()):
                return value
        raise AssertionError("no series %s for integration %s %r" % (metric, hook, labels))

    def attempts(self, hook):
        """{outcome: n} of one integration's tocsin_delivery_attempts_total."""
        return {o: int(self.hook("tocsin_delivery_attempts_total", hook, outcome=o))
                for o in ("delivered", "retry", "gone", "failed")}


# Schema validation ------------------------------------------------------------
_spec = None


def spec():
    global _spec
    if _spec is None:
        with open(os.path.join(REFERENCE, "oncall-openapi.subset.json")) as f:
            _spec = json.load(f)
    return _spec


def validate(schema_name, data):
    """Validate `data` against components.schemas[schema_name], refs resolved."""
    import jsonschema
    s = spec()
    schema = {"$ref": "#/components/schemas/" + schema_name, "components": s["components"]}
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator,
                        format_checker=None)


def validate_response(path, resp):
    """Validate a whole success envelope against the path's 200 schema."""
    import jsonschema
    s = spec()
    op = s["paths"][path]["post"]
    schema = dict(op["responses"]["200"]["content"]["application/json"]["schema"])
    schema["components"] = s["components"]
    jsonschema.validate(resp.json, schema, cls=jsonschema.Draft202012Validator)


def _discriminated_components():
    """The spec's components with OpenAPI discriminators made JSON Schema.

    Feed items (IncidentFeedItem, FeedItem) type `detail` as a oneOf keyed by
    the item's own `type` (an OpenAPI discriminator). JSON Schema validators
    ignore discriminators, and the bare oneOf cannot pass: most FeedDetail*
    schemas accept {} and so match together. Here each such property becomes
    an object checked, through if/then on the parent, against exactly the
    schema its `type` maps to (a type without a mapping: any object)."""
    comps = json.loads(json.dumps(spec()["components"]))
    for sch in comps["schemas"].values():
        props = sch.get("properties") or {}
        for name, prop in list(props.items()):
            disc = prop.get("discriminator")
            if not (disc and "oneOf" in prop and disc.get("propertyName") in props):
                continue
            key = disc["propertyName"]
            props[name] = {"type": "object"}
            sch.setdefault("allOf", []).extend(
                {"if": {"properties": {key: {"const": value}}, "required": [key]},
                 "then": {"properties": {name: {"$ref": ref}}}}
                for value, ref in disc["mapping"].items())
    return comps


def validate_feed_response(path, resp):
    """validate_response for paths whose items carry a discriminated `detail`
    (/incident/feed, /alert/feed): see _discriminated_components."""
    import jsonschema
    op = spec()["paths"][path]["post"]
    schema = dict(op["responses"]["200"]["content"]["application/json"]["schema"])
    schema["components"] = _discriminated_components()
    jsonschema.validate(resp.json, schema, cls=jsonschema.Draft202012Validator)


# Runner -----------------------------------------------------------------------
def run(tests):
    """Run test functions in order; print 'N passed, N failed'; exit 1 on failure."""
    passed = failed = 0
    for t in tests:
        start = time.time()
        try:
            t()
            passed += 1
            print("ok   %s (%.1fs)" % (t.__name__, time.time() - start), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def wait_until(fn, timeout=10, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)
