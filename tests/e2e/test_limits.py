"""test_limits.py: connection limits that protect the service (issue 4,
item 3): a slow or idle sender is cut off after --read-timeout, and
connections past --max-connections are closed at once while the others
are served, and an endpoint that never answers holds at most
--max-inflight-per-endpoint (default 32) push attempts while another
webhook is delivered to."""
import socket
import subprocess
import time

from receiver import Receiver
from tocsin_test import BIN, Tocsin, run, wait_until


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


def hang_and_count(t, rx, incidents, limit):
    """A webhook whose endpoint never answers (10 s timeout), `incidents`
    lanes queued to it (one new incident each), and a second, healthy
    webhook. Returns how many requests the dead endpoint holds a moment
    after reaching `limit`, and how many pushes the healthy one got."""
    ch = t.make_channel("inflight")
    _, key = t.make_source(ch)
    t.api("/integration/create", {"type": "webhook_incident", "name": "dead",
                                  "endpoint": rx.url("hang/dead"), "timeout_ms": 10000,
                                  "event_types": ["i_new"]})
    alive_id = t.api("/integration/create", {
        "type": "webhook_incident", "name": "alive", "endpoint": rx.url("ok/alive"),
        "event_types": ["i_new"]}).data["integration_id"]
    for i in range(incidents):
        t.push(key, {"event_status": "Critical", "title_rule": "down %d" % i,
                     "alert_key": "k%d" % i, "labels": {"host": "h%d" % i}})
    wait_until(lambda: len(rx.records("/hang/dead")) >= limit, timeout=30,
               what="the dead endpoint to hold its limit")
    # The healthy webhook gets everything while the dead one holds its
    # connections; the dead one never gets more than its limit (its
    # attempts time out only after 10 s).
    alive = wait_until(lambda: len(rx.records("/ok/alive")) >= incidents and
                       rx.records("/ok/alive"), timeout=30, what="the healthy webhook")
    # Every healthy delivery is over (settled in the store). Each dead lane
    # is due with its healthy twin, so the dispatcher has taken up every
    # one of them by now: started, or held back at the limit.
    wait_until(lambda: t.scrape().hook("tocsin_delivery_pending", alive_id) == 0,
               timeout=30, what="the healthy deliveries settled")
    # Left is a short quiet period, and the quiet is the property: the
    # dead attempts hang until their 10 s timeout, and no event says that
    # none past the limit started meanwhile. 1 s gives one that did time to
    # reach the receiver.
    time.sleep(1.0)
    return len(rx.records("/hang/dead")), len(alive)


def test_in_flight_pushes_per_endpoint_default():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        held, alive = hang_and_count(t, rx, 40, 32)
        assert held == 32, held
        assert alive == 40


def test_in_flight_pushes_per_endpoint_flag():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets",
                                        "--max-inflight-per-endpoint", "4"]) as t:
        held, alive = hang_and_count(t, rx, 12, 4)
        assert held == 4, held
        assert alive == 12
    for bad in ["0", "1025", "x"]:
        out = subprocess.run([BIN, "serve", "--max-inflight-per-endpoint", bad],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode != 0 and "--max-inflight-per-endpoint" in out.stderr, out.stderr


if __name__ == "__main__":
    run([test_slow_sender_is_cut_off, test_connections_past_the_limit_are_closed,
         test_in_flight_pushes_per_endpoint_default, test_in_flight_pushes_per_endpoint_flag])
