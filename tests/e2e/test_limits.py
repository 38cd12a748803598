"""test_limits.py: connection limits that protect the service (issue 4,
item 3): a slow or idle sender is cut off after --read-timeout, and
connections past --max-connections are closed at once while the others
are served."""
import socket
import time

from tocsin_test import Tocsin, run, wait_until


def read_all(s, timeout):
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data, True  # closed by the server
            data += chunk
    except socket.timeout:
        return data, False
    except ConnectionResetError:
        return data, True


def http_ok(s):
    """Reads one complete 200 answer to /healthz from a kept-alive socket."""
    s.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        try:
            chunk = s.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data.startswith(b"HTTP/1.1 200")


def healthy(t):
    try:
        return t.get("/healthz").status == 200
    except OSError:
        return False


def test_slow_sender_is_cut_off():
    with Tocsin(args=["--read-timeout", "1"]) as t:
        s = socket.create_connection(("127.0.0.1", t.port), timeout=10)
        s.sendall(b"POST /member/list HTTP/1.1\r\nHost: x\r\n")  # never finishes
        data, closed = read_all(s, 30)
        s.close()
        assert closed, "a request that never completes is closed after --read-timeout"
        assert t.get("/healthz").status == 200, "and the service goes on"


def test_connections_past_the_limit_are_closed():
    with Tocsin(args=["--max-connections", "2"]) as t:
        # Two connections, each proven accepted by a full request. Closed
        # connections (the harness's readiness checks) count until
        # libmicrohttpd has cleaned them up, so a slot may take a moment to
        # free: retry, bounded, until both are held.
        held = []
        deadline = time.time() + 20
        while len(held) < 2 and time.time() < deadline:
            s = socket.create_connection(("127.0.0.1", t.port), timeout=10)
            try:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                ok = http_ok(s)
            except OSError:
                ok = False
            if ok:
                held.append(s)
            else:
                s.close()
                time.sleep(0.1)
        assert len(held) == 2, "two connections inside the limit are served"
        extra = socket.create_connection(("127.0.0.1", t.port), timeout=10)
        try:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        except OSError:
            pass
        data, closed = read_all(extra, 5)
        extra.close()
        assert closed and not data.startswith(b"HTTP/1.1 200"), data[:80]
        # The connections inside the limit are still served.
        held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert http_ok(held[0]), "still served after the extra one was refused"
        for s in held:
            s.close()
        wait_until(lambda: healthy(t), timeout=20, what="a freed slot to serve again")


if __name__ == "__main__":
    run([test_slow_sender_is_cut_off, test_connections_past_the_limit_are_closed])
