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
        t.api("/member/list", key=key)
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


if __name__ == "__main__":
    run([test_health_and_envelope, test_unknown_route_and_method, test_keys, test_body_checks,
         test_first_start_random_key_file, test_help])
