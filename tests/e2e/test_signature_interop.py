"""test_signature_interop.py: tocsin's webhook signatures are accepted by the
reference Standard Webhooks library (npm `standardwebhooks`), and a tampered
push is not.

tocsin's side is tests/tools/sign_tool.c (`tocsin_sign`, built with the tests;
it calls delivery/signature.c); the receiver's side is
tests/tools/verify_standardwebhooks.js, which runs `new Webhook(secret).verify`
on the headers tocsin sends. The npm package is installed on first use into
<build>/node-standardwebhooks (never into the source tree). node and npm come
from scripts/install-deps.sh test.
"""
import json
import os
import shutil
import subprocess
import time

from tocsin_test import BIN, HERE, run

BUILD = os.path.dirname(os.path.abspath(BIN))
SIGN_TOOL = os.environ.get("TOCSIN_SIGN_TOOL", os.path.join(BUILD, "tests", "tocsin_sign"))
NODE_DIR = os.path.join(BUILD, "node-standardwebhooks")
VERIFY_JS = os.path.join(HERE, "..", "tools", "verify_standardwebhooks.js")

# The example secret of the Standard Webhooks specification (24 bytes).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def ensure_library():
    for tool in ("node", "npm"):
        assert shutil.which(tool), "%s is missing: run scripts/install-deps.sh test" % tool
    pkg = os.path.join(NODE_DIR, "node_modules", "standardwebhooks", "package.json")
    if not os.path.exists(pkg):
        os.makedirs(NODE_DIR, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", NODE_DIR, "--no-audit", "--no-fund",
                        "--loglevel=error", "standardwebhooks"], check=True, timeout=300)
    assert os.path.exists(pkg), "npm install did not produce " + pkg


def tocsin_new_secret():
    out = subprocess.run([SIGN_TOOL, "new"], check=True, capture_output=True, timeout=30)
    return out.stdout.decode().strip()


def tocsin_sign(secret, msg_id, timestamp, body):
    out = subprocess.run([SIGN_TOOL, "sign", secret, msg_id, str(timestamp)],
                         input=body.encode(), check=True, capture_output=True, timeout=30)
    return out.stdout.decode().strip()


def library_check(cases):
    """Runs Webhook.verify and Webhook.sign on each case; returns the results."""
    ensure_library()
    out = subprocess.run(["node", VERIFY_JS, NODE_DIR], input=json.dumps(cases).encode(),
                         check=True, capture_output=True, timeout=60)
    results = json.loads(out.stdout)
    assert len(results) == len(cases), results
    return results


def incident_body(title):
    return json.dumps({
        "event_time": int(time.time() * 1000), "event_type": "i_new",
        "event_id": "65a1b2c3d4e5f60718293a4b",
        "incident": {"incident_id": "65a1b2c3d4e5f60718293a4c", "title": title,
                     "labels": {"host": "db1"}, "responders": []},
    }, ensure_ascii=False, separators=(",", ":"))


def test_tocsin_signatures_verify():
    now = int(time.time())
    fresh = tocsin_new_secret()
    assert fresh.startswith("whsec_") and len(fresh) == 50, fresh
    cases = []
    for secret in (SPEC_SECRET, fresh):
        for body in (incident_body("CPU hot"), incident_body("d\u00e9j\u00e0 vu \u2603 \"q\""),
                     "", "{}"):
            cases.append({"secret": secret, "id": "65a1b2c3d4e5f60718293a4b",
                          "timestamp": now, "body": body,
                          "signature": tocsin_sign(secret, "65a1b2c3d4e5f60718293a4b", now,
                                                   body)})
    for c, r in zip(cases, library_check(cases)):
        assert r["verified"], (c, r)
        assert r["library_signature"] == c["signature"], (c, r)


def test_spec_example_matches_library():
    # A timestamp far in the past: verify() refuses it as too old, but the
    # library's own signature must equal tocsin's byte for byte.
    body = '{"test": 2432232314}'
    sig = tocsin_sign(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sig
    [r] = library_check([{"secret": SPEC_SECRET, "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
                          "timestamp": 1614265330, "body": body, "signature": sig}])
    assert r["library_signature"] == sig, r
    assert not r["verified"] and "timestamp" in r["error"].lower(), r


def test_tampering_is_rejected():
    now = int(time.time())
    secret = tocsin_new_secret()
    other = tocsin_new_secret()
    body = incident_body("CPU hot")
    msg_id = "65a1b2c3d4e5f60718293a4b"
    sig = tocsin_sign(secret, msg_id, now, body)
    tampered_body = body.replace("CPU hot", "CPU cold")
    cases = [
        # the body changed on the way
        {"secret": secret, "id": msg_id, "timestamp": now, "body": tampered_body,
         "signature": sig},
        # another event id
        {"secret": secret, "id": "65a1b2c3d4e5f60718293a4f", "timestamp": now, "body": body,
         "signature": sig},
        # another timestamp
        {"secret": secret, "id": msg_id, "timestamp": now - 1, "body": body, "signature": sig},
        # the receiver holds another secret
        {"secret": other, "id": msg_id, "timestamp": now, "body": body, "signature": sig},
    ]
    for c, r in zip(cases, library_check(cases)):
        assert not r["verified"], (c, r)
        assert r["error"], r


def test_two_signatures_during_rotation():
    # During the 24 h after a rotation tocsin sends both signatures,
    # space-separated: a receiver holding either secret accepts the push.
    now = int(time.time())
    old, new = tocsin_new_secret(), tocsin_new_secret()
    body = incident_body("rotated")
    msg_id = "65a1b2c3d4e5f60718293a4b"
    both = tocsin_sign(new, msg_id, now, body) + " " + tocsin_sign(old, msg_id, now, body)
    stranger = tocsin_new_secret()
    cases = [{"secret": s, "id": msg_id, "timestamp": now, "body": body, "signature": both}
             for s in (old, new, stranger)]
    results = library_check(cases)
    assert results[0]["verified"] and results[1]["verified"], results
    assert not results[2]["verified"], results


if __name__ == "__main__":
    run([test_tocsin_signatures_verify, test_spec_example_matches_library,
         test_tampering_is_rejected, test_two_signatures_during_rotation])
