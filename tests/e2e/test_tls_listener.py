"""test_tls_listener.py: --tls-cert/--tls-key serve HTTPS (issue 4, item 6),
tried with curl and Python against a self-signed certificate."""
import os
import socket
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request

from receiver import make_self_signed_cert
from tocsin_test import BIN, Tocsin, free_port, run


def test_https_with_self_signed_certificate():
    d = tempfile.mkdtemp(prefix="tocsin-tls-")
    cert, key = make_self_signed_cert(d)
    with Tocsin(args=["--tls-cert", cert, "--tls-key", key]) as t:
        assert t.base.startswith("https://")
        assert t.get("/healthz").status == 200
        t.api("/member/list")
        out = subprocess.run(["curl", "-s", "--cacert", cert, "-X", "POST",
                              t.base + "/channel/list?app_key=" + t.admin_key,
                              "-H", "Content-Type: application/json", "-d", "{}"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and '"data"' in out.stdout, (out.returncode, out.stdout,
                                                                out.stderr)
        # Without trusting the certificate, a client refuses it.
        out = subprocess.run(["curl", "-s", t.base + "/healthz"], capture_output=True, timeout=30)
        assert out.returncode == 60, out.returncode  # CURLE_PEER_FAILED_VERIFICATION
        try:
            urllib.request.urlopen(t.base + "/healthz", timeout=10,
                                   context=ssl.create_default_context())
            raise AssertionError("an untrusted certificate was accepted")
        except urllib.error.URLError as e:
            assert isinstance(e.reason, ssl.SSLCertVerificationError), e
        # Plain HTTP to the HTTPS port gets no HTTP answer.
        s = socket.create_connection(("127.0.0.1", t.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            head = s.recv(64)
        except OSError:
            head = b""
        s.close()
        assert not head.startswith(b"HTTP/1.1 200"), head
        # Links in pushed objects use the https URL.
        ch = t.make_channel("tls")
        iid = t.api("/incident/create", {"incident_severity": "Info", "title": "tls",
                                         "channel_id": ch}).data["incident_id"]
        info = t.api("/incident/info", {"incident_id": iid}).data
        assert info["detail_url"].startswith("https://127.0.0.1:%d/" % t.port), info["detail_url"]
        assert "https://" in t.read_stdout()


def test_bad_tls_arguments():
    d = tempfile.mkdtemp(prefix="tocsin-tls-")
    cert, key = make_self_signed_cert(d)
    data = tempfile.mkdtemp(prefix="tocsin-tls-data-")
    port = "127.0.0.1:%d" % free_port()
    cases = [
        (["--tls-cert", cert], 2, "--tls-cert and --tls-key go together"),
        (["--tls-cert", os.path.join(d, "missing.pem"), "--tls-key", key], 1,
         "--tls-cert: cannot read"),
        (["--tls-cert", cert, "--tls-key", os.path.join(d, "missing.pem")], 1,
         "--tls-key: cannot read"),
        (["--tls-cert", "/etc/hostname", "--tls-key", key], 1, "is not a PEM file"),
    ]
    for args, code, message in cases:
        out = subprocess.run([BIN, "serve", "--listen", port, "--data", data] + args,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == code and message in out.stderr, (args, out.returncode,
                                                                  out.stderr[-500:])


if __name__ == "__main__":
    run([test_https_with_self_signed_certificate, test_bad_tls_arguments])
