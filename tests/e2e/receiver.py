"""receiver.py: the recording endpoint of the delivery e2e tests, from Python.

`Receiver()` starts tests/receiver/receiver.c (tocsin-test-receiver) on a
free 127.0.0.1 port with a fresh record file; the first segment of a URL path
chooses the answer, so one receiver plays many endpoints at once:

    with Receiver() as rx:
        url = rx.url("/fail/team-a")          # http://127.0.0.1:PORT/fail/team-a
        ...                                    # point a webhook at it
        recs = rx.wait_for(3, timeout=10)      # the first 3 requests, in order

Paths: /ok/ 200, /fail/ 500, /gone/ 410, /bad/ 400, /throttle/S/ 429 with
Retry-After: S, /unavailable/S/ 503 with Retry-After: S, /slow/MS/ 200 after
MS ms, /reset/ connection reset, /hang/ never answers, /redirect/X 302 to
/ok/X, /flaky/N/ 500 for the first N requests to that path then 200,
/status/CODE/ CODE, anything else 404. Each request becomes a record:
{"t_ms", "n", "method", "path" (with query), "headers" (lowercased names),
"body", "mode", "status" (0 for reset/hang)}.

`Receiver(tls=True)` serves HTTPS with a self-signed certificate for
127.0.0.1/localhost (rx.cert_path; trust it with rx.ssl_context()).
The binary: $TOCSIN_RECEIVER (set by ctest), else next to $TOCSIN_BIN.
"""
import json
import os
import select
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def receiver_bin():
    env = os.environ.get("TOCSIN_RECEIVER")
    if env:
        return env
    tocsin = os.environ.get("TOCSIN_BIN", os.path.join(ROOT, "build", "tocsin"))
    return os.path.join(os.path.dirname(os.path.abspath(tocsin)), "tests",
                        "tocsin-test-receiver")


def make_self_signed_cert(directory):
    """Writes a self-signed RSA certificate for 127.0.0.1 and localhost into
    directory; returns (cert_path, key_path)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    out = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", key, "-out", cert],
        capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError("openssl req failed:\n" + out.stderr)
    return cert, key


class Receiver:
    """A running tocsin-test-receiver. Use as a context manager or call stop()."""

    def __init__(self, tls=False, cert=None, key=None, start_timeout=30, port=0):
        self.tls = tls
        self.dir = tempfile.mkdtemp(prefix="tocsin-rx-")
        self.record_path = os.path.join(self.dir, "records.jsonl")
        self.log_path = os.path.join(self.dir, "receiver.log")
        self.cert_path = self.key_path = None
        # port 0: a free one; a given port lets an endpoint be down (nothing
        # listening) until the receiver starts on it.
        args = [receiver_bin(), "--listen", "127.0.0.1:%d" % port, "--record", self.record_path]
        if tls:
            if cert is None:
                cert, key = make_self_signed_cert(self.dir)
            self.cert_path, self.key_path = cert, key
            args += ["--tls-cert", cert, "--tls-key", key]
        self.port = None
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log)
        try:
            self.port = self._read_port(start_timeout)
        except BaseException:
            self._kill()
            raise

    def _read_port(self, timeout):
        """Reads the "listening PORT" line, bounded by timeout."""
        deadline = time.time() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("receiver did not start:\n" + self.read_log())
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 256)
            if not chunk:
                self.proc.wait()
                raise AssertionError("receiver exited at start (%s):\n%s" % (
                    self.proc.returncode, self.read_log()))
            line += chunk
        words = line.decode().split()
        if len(words) != 2 or words[0] != "listening":
            raise AssertionError("unexpected receiver banner: %r" % line)
        return int(words[1])

    # Addresses ------------------------------------------------------------
    @property
    def base(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def url(self, path):
        """The full URL of path on this receiver (path may start with '/')."""
        return "%s/%s" % (self.base, path.lstrip("/"))

    def ssl_context(self):
        """A client SSL context that trusts this receiver's certificate."""
        return ssl.create_default_context(cafile=self.cert_path)

    # Records --------------------------------------------------------------
    def records(self, prefix=None):
        """Every recorded request so far, in arrival order; only those whose
        path starts with prefix when given."""
        try:
            with open(self.record_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        out = []
        for line in data.split(b"\n"):
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line still being written
            if prefix is None or rec["path"].startswith(prefix):
                out.append(rec)
        return out

    def stats(self):
        """GET /_stats: {"received": n} (this call is not recorded)."""
        ctx = self.ssl_context() if self.tls else None
        with urllib.request.urlopen(self.url("/_stats"), timeout=10, context=ctx) as r:
            return json.loads(r.read())

    def wait_for(self, n, timeout=10, prefix=None):
        """Waits until at least n requests (matching prefix) are recorded;
        returns them all. Raises AssertionError with what came on timeout."""
        deadline = time.time() + timeout
        while True:
            recs = self.records(prefix)
            if len(recs) >= n:
                return recs
            if time.time() >= deadline:
                raise AssertionError("receiver: %d of %d requests%s after %ss: %s" % (
                    len(recs), n, " under " + prefix if prefix else "", timeout,
                    [(r["n"], r["method"], r["path"], r["status"]) for r in recs]))
            time.sleep(0.02)

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-5000:]

    # Lifetime -------------------------------------------------------------
    def stop(self, expect_clean=True):
        """SIGTERM; the receiver must exit 0 (under ASan: no leak, no error)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._kill()
                raise AssertionError("receiver did not stop on SIGTERM")
        self._close()
        if expect_clean and self.proc.returncode != 0:
            raise AssertionError("receiver exited with %s:\n%s" % (self.proc.returncode,
                                                                  self.read_log()))

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self.log.closed:
            self.log.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.stop(expect_clean=exc_type is None)
        finally:
            if exc_type is None:
                self.cleanup()
            else:
                print("receiver folder kept: %s" % self.dir)
        return False
