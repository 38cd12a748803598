"""test_receiver.py: the recording receiver the delivery tests rely on.

Drives tests/receiver/receiver.c with plain http.client, urllib and raw
sockets: every answering mode, the record file's contents and order, resets
seen as connection errors, hangs seen as client timeouts that hold up no
other connection, HTTPS with a self-signed certificate, and clean stops.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from receiver import Receiver, make_self_signed_cert, receiver_bin
from tocsin_test import run, wait_until


def connect(rx, timeout=10, context=None):
    if rx.tls:
        return http.client.HTTPSConnection("127.0.0.1", rx.port, timeout=timeout,
                                           context=context or rx.ssl_context())
    return http.client.HTTPConnection("127.0.0.1", rx.port, timeout=timeout)


def call(rx, path, method="GET", body=None, headers=None, timeout=10, conn=None,
         context=None):
    """One request; returns (status, headers dict, body bytes)."""
    own = conn is None
    conn = conn or connect(rx, timeout, context)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        if own:
            conn.close()


def raw_request(rx, path, timeout=10):
    """A raw socket that has sent GET path and waits for the answer."""
    s = socket.create_connection(("127.0.0.1", rx.port), timeout=timeout)
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
    return s


def thread_count(proc):
    return len(os.listdir("/proc/%d/task" % proc.pid))


def test_answers_by_path():
    with Receiver() as rx:
        cases = [
            ("/ok/a", 200, None),
            ("/fail/a", 500, None),
            ("/gone/a", 410, None),
            ("/bad/a", 400, None),
            ("/throttle/7/a", 429, ("Retry-After", "7")),
            ("/unavailable/3/a", 503, ("Retry-After", "3")),
            ("/status/418/a", 418, None),
            ("/status/204/a", 204, None),
            ("/redirect/x/y", 302, ("Location", "/ok/x/y")),
            ("/nothing/here", 404, None),
            ("/", 404, None),
            ("/ok", 200, None),
        ]
        conn = connect(rx)  # one kept-alive connection for all of them
        for path, status, header in cases:
            got, headers, body = call(rx, path, conn=conn)
            assert got == status, (path, got, body)
            if header:
                assert headers.get(header[0]) == header[1], (path, headers)
            if status == 200:
                assert body == b"ok", (path, body)
            if status == 204:
                assert body == b"", body
        conn.close()
        recs = rx.records()
        assert [r["path"] for r in recs] == [c[0] for c in cases], recs
        assert [r["status"] for r in recs] == [c[1] for c in cases], recs
        assert [r["n"] for r in recs] == list(range(1, len(cases) + 1)), recs
        assert [r["mode"] for r in recs] == [
            "ok", "fail", "gone", "bad", "throttle", "unavailable", "status", "status",
            "redirect", "unknown", "unknown", "ok"], recs
        # urllib does not follow the redirect into an error: it lands on /ok/.
        with urllib.request.urlopen(rx.url("/redirect/z"), timeout=10) as r:
            assert r.status == 200 and r.read() == b"ok"
        assert [r["path"] for r in rx.records()[-2:]] == ["/redirect/z", "/ok/z"]


def test_record_contents():
    with Receiver() as rx:
        body = json.dumps({"event_type": "i_new", "title": "disk \u00e9t\u00e9 full"})
        before = int(time.time() * 1000)
        status, _, _ = call(rx, "/ok/hook?a=1&b=%20x", method="POST", body=body.encode(),
                            headers={"Content-Type": "application/json",
                                     "X-Tocsin-Test": "Value With Case",
                                     "Webhook-Id": "abc"})
        after = int(time.time() * 1000)
        assert status == 200
        (rec,) = rx.records()
        assert rec["method"] == "POST"
        assert rec["path"] == "/ok/hook?a=1&b=%20x", rec
        assert rec["body"] == body, rec
        assert "body_encoding" not in rec
        assert rec["headers"]["content-type"] == "application/json", rec
        assert rec["headers"]["x-tocsin-test"] == "Value With Case", rec
        assert rec["headers"]["webhook-id"] == "abc", rec
        assert rec["headers"]["content-length"] == str(len(body.encode()))
        assert all(k == k.lower() for k in rec["headers"]), rec["headers"]
        assert before <= rec["t_ms"] <= after, (before, rec["t_ms"], after)
        assert rec["mode"] == "ok" and rec["status"] == 200 and rec["n"] == 1

        # Bytes that are not UTF-8 are kept one code point per byte.
        call(rx, "/fail/bin", method="PUT", body=b"caf\xe9\x00\xff")
        rec = rx.records()[-1]
        assert rec["body_encoding"] == "latin1", rec
        assert rec["body"].encode("latin-1") == b"caf\xe9\x00\xff", rec
        assert rec["method"] == "PUT" and rec["status"] == 500

        # A large body arrives whole; a repeated header is joined.
        big = ("x" * 1000 + "\n") * 3000
        s = socket.create_connection(("127.0.0.1", rx.port), timeout=10)
        s.sendall(("POST /ok/big HTTP/1.1\r\nHost: h\r\nX-Dup: one\r\nX-Dup: two\r\n"
                   "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(big)).encode()
                  + big.encode())
        answer = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        s.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        rec = rx.records()[-1]
        assert rec["path"] == "/ok/big" and rec["body"] == big
        assert rec["headers"]["x-dup"] == "one, two", rec["headers"]

        # /_stats counts what was recorded and is not recorded itself.
        assert rx.stats() == {"received": 3}
        assert rx.stats() == {"received": 3}
        assert len(rx.records()) == 3


def test_concurrent_requests_are_all_recorded_in_order():
    with Receiver() as rx:
        errors = []

        def worker(i):
            try:
                conn = connect(rx)
                for j in range(25):
                    status, _, _ = call(rx, "/ok/w%d/%d" % (i, j), method="POST",
                                        body=b'{"i":%d,"j":%d}' % (i, j), conn=conn)
                    assert status == 200
                conn.close()
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        recs = rx.wait_for(200, timeout=10)
        assert len(recs) == 200
        assert [r["n"] for r in recs] == list(range(1, 201))
        assert sorted(r["path"] for r in recs) == sorted(
            "/ok/w%d/%d" % (i, j) for i in range(8) for j in range(25))
        for r in recs:  # each connection's requests keep their order
            i, j = json.loads(r["body"])["i"], json.loads(r["body"])["j"]
            assert r["path"] == "/ok/w%d/%d" % (i, j)
        for i in range(8):
            mine = [r["path"] for r in recs if r["path"].startswith("/ok/w%d/" % i)]
            assert mine == ["/ok/w%d/%d" % (i, j) for j in range(25)], mine
        assert rx.stats() == {"received": 200}
        assert len(rx.wait_for(3, prefix="/ok/w1/")) == 25


def test_flaky():
    with Receiver() as rx:
        got = [call(rx, "/flaky/2/a")[0] for _ in range(4)]
        assert got == [500, 500, 200, 200], got
        assert call(rx, "/flaky/2/b")[0] == 500, "each path counts alone"
        # The query string is not part of the counted path.
        assert call(rx, "/flaky/1/c?x=1")[0] == 500
        assert call(rx, "/flaky/1/c?x=2")[0] == 200
        assert call(rx, "/flaky/0/d")[0] == 200
        recs = rx.records()
        assert [r["status"] for r in recs] == [500, 500, 200, 200, 500, 500, 200, 200]
        assert all(r["mode"] == "flaky" for r in recs)


def test_slow():
    with Receiver() as rx:
        start = time.monotonic()
        status, _, body = call(rx, "/slow/300/a", timeout=30)
        assert status == 200 and body == b"ok"
        assert time.monotonic() - start >= 0.3, "answered before its delay"
        # A client with a shorter timeout than the delay times out.
        try:
            call(rx, "/slow/20000/b", timeout=0.3)
            raise AssertionError("a 20 s slow answer came within 0.3 s")
        except socket.timeout:
            pass
        recs = rx.wait_for(2)
        assert [(r["mode"], r["status"], r["path"]) for r in recs] == [
            ("slow", 200, "/slow/300/a"), ("slow", 200, "/slow/20000/b")], recs
        # The receiver stops at once although /slow/20000 had not answered.


def test_reset():
    with Receiver() as rx:
        try:
            call(rx, "/reset/a")
            raise AssertionError("/reset answered")
        except ConnectionError:
            pass
        # At the socket level it is an RST, not an orderly close.
        s = raw_request(rx, "/reset/b")
        try:
            data = s.recv(4096)
            raise AssertionError("expected a reset, read %r" % data)
        except ConnectionResetError:
            pass
        finally:
            s.close()
        recs = rx.records()
        assert [(r["path"], r["mode"], r["status"]) for r in recs] == [
            ("/reset/a", "reset", 0), ("/reset/b", "reset", 0)], recs
        assert call(rx, "/ok/after")[0] == 200, "the receiver goes on after a reset"


def test_hang():
    with Receiver() as rx:
        try:
            call(rx, "/hang/a", timeout=0.5)
            raise AssertionError("/hang answered")
        except socket.timeout:
            pass
        # A hung connection holds up no other: several hang at once while
        # other connections are answered.
        hung = [raw_request(rx, "/hang/b%d" % i) for i in range(5)]
        rx.wait_for(5, prefix="/hang/b")
        assert call(rx, "/ok/meanwhile", timeout=10)[0] == 200
        assert call(rx, "/slow/50/meanwhile", timeout=10)[0] == 200
        # Threads of connections whose client gave up are let go.
        busy = thread_count(rx.proc)
        for s in hung:
            s.close()
        wait_until(lambda: thread_count(rx.proc) <= busy - 5, timeout=10,
                   what="hung connections' threads to end after their clients left")
        # A hang still open when the receiver stops is dropped unanswered,
        # and the receiver exits cleanly (Receiver.stop asserts exit 0).
        s = raw_request(rx, "/hang/at-stop")
        rx.wait_for(1, prefix="/hang/at-stop")
        rx.stop()
        try:
            assert s.recv(4096) == b"", "a hung request got an answer"
        except ConnectionResetError:
            pass
        s.close()
        recs = rx.records(prefix="/hang/")
        assert len(recs) == 7 and all(r["mode"] == "hang" and r["status"] == 0 for r in recs)


def test_tls_modes():
    with Receiver(tls=True) as rx:
        status, _, body = call(rx, "/ok/trusted", method="POST", body=b'{"a":1}',
                               headers={"Content-Type": "application/json"})
        assert status == 200 and body == b"ok"
        try:
            urllib.request.urlopen(rx.url("/throttle/9/u"), timeout=10,
                                   context=rx.ssl_context())
            raise AssertionError("429 expected")
        except urllib.error.HTTPError as e:
            assert e.code == 429 and e.headers["Retry-After"] == "9"
        # Not trusted by a verifying client with the system's CAs...
        try:
            call(rx, "/ok/untrusted", context=ssl.create_default_context())
            raise AssertionError("a self-signed certificate was accepted")
        except ssl.SSLCertVerificationError:
            pass
        # ...and answered when verification is off.
        off = ssl.create_default_context()
        off.check_hostname = False
        off.verify_mode = ssl.CERT_NONE
        assert call(rx, "/ok/unverified", context=off)[0] == 200
        try:
            call(rx, "/reset/tls")
            raise AssertionError("/reset answered over TLS")
        except (ConnectionError, ssl.SSLError):
            pass
        try:
            call(rx, "/hang/tls", timeout=0.5)
            raise AssertionError("/hang answered over TLS")
        except socket.timeout:
            pass
        assert call(rx, "/slow/100/tls")[0] == 200
        recs = rx.wait_for(6)
        assert [(r["path"], r["status"]) for r in recs] == [
            ("/ok/trusted", 200), ("/throttle/9/u", 429), ("/ok/unverified", 200),
            ("/reset/tls", 0), ("/hang/tls", 0), ("/slow/100/tls", 200)], recs
        assert recs[0]["body"] == '{"a":1}'
        assert rx.stats() == {"received": 6}


def test_own_certificate_and_signals():
    d = tempfile.mkdtemp(prefix="tocsin-rx-cert-")
    try:
        cert, key = make_self_signed_cert(d)
        assert "BEGIN CERTIFICATE" in open(cert).read()
        with Receiver(tls=True, cert=cert, key=key) as rx:
            assert rx.cert_path == cert
            assert call(rx, "/ok/given-cert")[0] == 200
            assert rx.records()[0]["path"] == "/ok/given-cert"
    finally:
        shutil.rmtree(d, ignore_errors=True)
    # SIGINT stops it cleanly too.
    with Receiver() as rx:
        assert call(rx, "/ok/x")[0] == 200
        rx.proc.send_signal(signal.SIGINT)
        assert rx.proc.wait(timeout=30) == 0, rx.read_log()


def test_command_line():
    exe = receiver_bin()
    out = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--record" in out.stdout
    out = subprocess.run([exe, "--listen", "127.0.0.1:0"], capture_output=True, text=True)
    assert out.returncode == 2 and "--record" in out.stderr, out
    out = subprocess.run([exe, "--listen", "nope", "--record", "/dev/null"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "--listen" in out.stderr, out
    out = subprocess.run([exe, "--record", "/dev/null", "--tls-cert", "c.pem"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "--tls-key" in out.stderr, out
    out = subprocess.run([exe, "--record", "/nonexistent/dir/r.jsonl"],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "/nonexistent/dir/r.jsonl" in out.stderr, out


if __name__ == "__main__":
    run([test_answers_by_path, test_record_contents,
         test_concurrent_requests_are_all_recorded_in_order, test_flaky, test_slow, test_reset,
         test_hang, test_tls_modes, test_own_certificate_and_signals, test_command_line])
