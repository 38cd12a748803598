"""test_limits.py: connection limits that protect the service (issue 4,
item 3): a slow or idle sender is cut off after --read-timeout, and
connections past --max-connections are closed at once while the others
are served."""
import socket
import time

from tocsin_test import Tocsin, run


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


def test_slow_sender_is_cut_off():
    with Tocsin(args=["--read-timeout", "1"]) as t:
        s = socket.create_connection(("127.0.0.1", t.port), timeout=10)
        s.sendall(b"POST /member/list HTTP/1.1\r\nHost: x\r\n")  # never finishes
        data, closed = read_all(s, 8)
        s.close()
        assert closed, "a request that never completes is closed after --read-timeout"
        assert t.get("/healthz").status == 200, "and the service goes on"


def test_connections_past_the_limit_are_closed():
    with Tocsin(args=["--max-connections", "2"]) as t:
        held = [socket.create_connection(("127.0.0.1", t.port), timeout=10) for _ in range(2)]
        time.sleep(0.3)
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
        data, _ = read_all(held[0], 2)
        assert data.startswith(b"HTTP/1.1 200"), data[:80]
        for s in held:
            s.close()
        time.sleep(0.3)
        assert t.get("/healthz").status == 200, "a freed slot is usable again"


if __name__ == "__main__":
    run([test_slow_sender_is_cut_off, test_connections_past_the_limit_are_closed])
