"""test_server.py: the HTTP front: envelope, health, limits, keys, start/stop."""
import os
import stat
import subprocess

from tocsin_test import (BIN, Tocsin, expect_error, run)


def test_health_and_envelope():
    with Tocsin() as t:
        r = t.get("/healthz")
        assert r.status == 200 and r.data["status"] == "ok", r
        assert r.headers.get("Flashcat-Request-Id") == r.json["request_id"]


def test_unknown_route_and_method():
    with Tocsin() as t:
        expect_error(t.request("POST", "/nope?app_key=x", {}), 404, "RouteNotFound", "/nope")
        expect_error(t.request("GET", "/incident/list?app_key=" + t.admin_key), 400,
                     "MethodNotAllowed", "POST")


def test_keys():
    with Tocsin() as t:
        expect_error(t.request("POST", "/member/list", {}), 401, "Unauthorized", "app_key")
        expect_error(t.request("POST", "/member/list?app_key=wrong", {}), 401, "Unauthorized")
        expect_error(t.request("POST", "/event/push/alert/standard", {}), 401, "Unauthorized",
                     "integration_key")


def test_body_checks():
    with Tocsin() as t:
        key = "?app_key=" + t.admin_key
        expect_error(t.request("POST", "/member/list" + key, raw=b"{}",
                               headers={"Content-Type": "text/plain"}),
                     400, "InvalidContentType", "application/json")
        expect_error(t.request("POST", "/member/list" + key, raw=b"{broken"), 400,
                     "InvalidParameter", "JSON")
        expect_error(t.request("POST", "/member/list" + key, raw=b"[1,2]"), 400,
                     "InvalidParameter", "object")
        big = b'{"x":"' + b"a" * (1024 * 1024) + b'"}'
        expect_error(t.request("POST", "/member/list" + key, raw=big), 413, "InvalidParameter",
                     "1 MiB")


def test_first_start_random_key_file():
    with Tocsin(admin_key=None) as t:
        path = os.path.join(t.data_dir, "admin-app-key")
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o600, oct(mode)
        key = open(path).read().strip()
        assert len(key) >= 32
        assert key in t.read_stdout(), "the banner prints the key"
        assert "curl" in t.read_stdout()
        # The console the banner names is really there.
        console = "http://127.0.0.1:%d/" % t.port
        assert "console:  " + console in t.read_stdout(), t.read_stdout()
        r = t.get("/")
        assert r.status == 200 and b"<html" in r.raw.lower(), r.status
        t.api("/member/list", key=key)
        if t.engine == "sqlite":  # the database file (on PostgreSQL there is none here)
            db_mode = stat.S_IMODE(os.stat(os.path.join(t.data_dir, "tocsin.db")).st_mode)
            assert db_mode == 0o600, oct(db_mode)
        # A restart keeps the same key and does not make another admin.
        t.restart()
        assert open(path).read().strip() == key
        t.api("/member/list", key=key)


def test_help():
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "serve" in out.stdout
    out = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True)
    for flag in ("--listen", "--data", "--base-url", "--log-level"):
        assert flag in out.stdout, flag
    out = subprocess.run([BIN, "serve", "--listen", "nope"], capture_output=True, text=True)
    assert out.returncode == 2 and "--listen" in out.stderr


def test_oversized_bodies():
    """Up to 16 MiB the rest of an oversized body is read and dropped, so the
    client reads its 413 and the kept-alive connection goes on; an announced
    larger body is answered at once, before it is sent."""
    import http.client
    import socket
    with Tocsin() as t:
        conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=30)
        big = b'{"x":"' + b"a" * (2 * 1024 * 1024) + b'"}'
        path = "/member/list?app_key=" + t.admin_key
        conn.request("POST", path, big, {"Content-Type": "application/json"})
        r = conn.getresponse()
        body = r.read()
        assert r.status == 413 and b"InvalidParameter" in body, (r.status, body[:200])
        conn.request("POST", path, b"{}", {"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 200, (r.status, r.read()[:200])
        r.read()
        conn.close()
        s = socket.create_connection(("127.0.0.1", t.port), timeout=30)
        s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n")
        head = s.recv(4096)
        s.close()
        assert head.startswith(b"HTTP/1.1 413"), head[:200]


if __name__ == "__main__":
    run([test_health_and_envelope, test_unknown_route_and_method, test_keys, test_body_checks,
         test_first_start_random_key_file, test_help, test_oversized_bodies])
