"""test_logs.py: one logfmt line per request and per push attempt, with
request_id / event_id, level set by --log-level, and no key or secret ever
written (issue 4, item 7)."""
import json
import os
import re

from receiver import Receiver
from tocsin_test import Tocsin, run, wait_until

LINE = re.compile(r'^ts=\S+ level=(debug|info|warn|error) msg=')


def log_lines(t):
    with open(os.path.join(t.data_dir, "tocsin.log")) as f:
        return f.read().splitlines()


def test_requests_and_attempts_logged_without_secrets():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        ch = t.make_channel("logs")
        _, ikey = t.make_source(ch)
        hook = t.api("/integration/create", {
            "type": "webhook_incident", "name": "logged", "endpoint": rx.url("ok/log"),
            "headers": {"Authorization": "Bearer hdr-secret-4242"}}).data
        _, member_key = t.make_member("logger", email="logger@example.com")
        pushed = t.push(ikey, {"title_rule": "log me", "event_status": "Warning",
                               "alert_key": "log-1"})
        refused = t.request("POST", "/member/list?app_key=not-a-real-key-9999", {})
        t.api("/member/list", key=member_key)
        [got] = rx.wait_for(1, prefix="/ok/log", timeout=10)
        event_id = json.loads(got["body"])["event_id"]
        lines = wait_until(lambda: (lambda ls: ls if any("msg=attempt" in l for l in ls)
                                    else None)(log_lines(t)), timeout=10, what="attempt line")
        assert all(LINE.match(l) for l in lines), [l for l in lines if not LINE.match(l)][:3]
        req = [l for l in lines if "request_id=%s" % pushed.json["request_id"] in l]
        assert len(req) == 1 and "path=/event/push/alert/standard" in req[0] \
            and "status=200" in req[0] and "duration_ms=" in req[0], req
        bad = [l for l in lines if "request_id=%s" % refused.json["request_id"] in l]
        assert len(bad) == 1 and "status=401" in bad[0] and "code=Unauthorized" in bad[0], bad
        att = [l for l in lines if "msg=attempt" in l and "event_id=%s" % event_id in l]
        assert len(att) == 1 and "outcome=delivered" in att[0] and "status=200" in att[0] \
            and "integration_id=%d" % hook["integration_id"] in att[0], att
        t.stop()
        text = "\n".join(log_lines(t))
        for secret in (t.admin_key, ikey, hook["signing_secret"], member_key,
                       "not-a-real-key-9999", "hdr-secret-4242"):
            assert secret not in text, "a secret reached the log"
        t.start()


def test_log_level_warn_is_quiet():
    with Tocsin(args=["--log-level", "warn"]) as t:
        t.api("/member/list")
        t.request("POST", "/member/list?app_key=wrong", {})
        # A stopped tocsin has written all it ever will: the log is whole.
        t.stop()
        assert not [l for l in log_lines(t) if "msg=request" in l], log_lines(t)[-3:]


if __name__ == "__main__":
    run([test_requests_and_attempts_logged_without_secrets, test_log_level_warn_is_quiet])
