#!/usr/bin/python3
"""delivery_load.py: the load side of bench/delivery.sh (Python 3 stdlib only).

Every request goes to 127.0.0.1 over keep-alive connections (http.client),
and every mode stops by itself.

  push-burst PORT IKEY N PREFIX [THREADS]
      N standard events to tocsin, each with its own alert key PREFIX-i (so
      each opens a new incident: one i_new per webhook), from THREADS (16)
      threads as fast as tocsin answers. Prints {"n", "seconds", "per_s"}.
  push-paced PORT IKEY RATE SECONDS PREFIX OUT
      RATE events/s for SECONDS, paced on a fixed schedule (open loop: a late
      answer does not delay the next send). The title carries the key so the
      webhook body names it. OUT gets one JSON line per push:
      {"key", "send_ms", "done_ms", "lag_ms"} (wall clock, ms with fractions;
      lag_ms: how late the send was against its schedule).
  am-burst PORT N PREFIX [BATCH] [THREADS]
      N alerts with distinct labels (key=PREFIX-i) to Alertmanager's
      /api/v2/alerts in batches of BATCH (500) from THREADS (4) threads.
      Prints {"n", "start_ms", "end_ms"}.
  am-paced PORT RATE SECONDS PREFIX OUT
      One alert per POST at RATE/s for SECONDS, paced as push-paced.
"""
import http.client
import json
import sys
import threading
import time

HOST = "127.0.0.1"


def now_ms():
    return time.time() * 1000.0


def standard_event(key):
    return json.dumps({"title_rule": "bench %s" % key, "event_status": "Critical",
                       "alert_key": key, "description": "delivery bench",
                       "labels": {"service": "api", "host": "h1", "region": "eu"}})


def am_alert(key):
    return {"labels": {"alertname": "bench", "key": key, "service": "api", "host": "h1",
                       "region": "eu", "severity": "critical"},
            "annotations": {"description": "delivery bench"}}


class Client:
    """One keep-alive connection; reconnects once if the server closed it."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def post(self, path, body):
        for attempt in (1, 2):
            try:
                self.conn.request("POST", path, body, {"Content-Type": "application/json"})
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt == 2:
                    raise


def run_threads(n_threads, target):
    errors = []

    def wrap(w):
        try:
            target(w)
        except Exception as e:  # reported after join
            errors.append(repr(e))

    ts = [threading.Thread(target=wrap, args=(w,)) for w in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit("load failed: %s" % errors[:3])


def push_burst(port, ikey, n, prefix, threads=16):
    path = "/event/push/alert/standard?integration_key=" + ikey

    def worker(w):
        c = Client(port)
        for i in range(w, n, threads):
            status, data = c.post(path, standard_event("%s-%d" % (prefix, i)))
            if status != 200:
                raise RuntimeError("push %d -> %d %s" % (i, status, data[:200]))

    t0 = time.time()
    run_threads(threads, worker)
    dt = time.time() - t0
    print(json.dumps({"n": n, "seconds": round(dt, 3), "per_s": round(n / dt, 1)}))


def paced(port, rate, seconds, out, send_one, threads=32):
    """Calls send_one(client, i) for i in 0..rate*seconds-1, each at
    start + i/rate; writes {"key", "send_ms", "done_ms"} lines to out."""
    total = int(rate * seconds)
    lock = threading.Lock()
    nxt = [0]
    rows = []
    start = time.time() + 0.2

    def worker(w):
        c = Client(port)
        while True:
            with lock:
                i = nxt[0]
                if i >= total:
                    return
                nxt[0] += 1
            delay = start + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            t_send = now_ms()
            key = send_one(c, i)
            t_done = now_ms()
            with lock:
                rows.append({"key": key, "send_ms": t_send, "done_ms": t_done,
                             "lag_ms": t_send - (start + i / rate) * 1000.0})

    run_threads(threads, worker)
    with open(out, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    # How far the sends kept to the schedule (a load generator that falls
    # behind would hide latency).
    late = sum(1 for r in rows if r["lag_ms"] > 5)
    print(json.dumps({"n": len(rows), "seconds": seconds, "rate": rate,
                      "sent_late_over_5ms": late}))


def push_paced(port, ikey, rate, seconds, prefix, out):
    path = "/event/push/alert/standard?integration_key=" + ikey

    def send(c, i):
        key = "%s-%d" % (prefix, i)
        status, data = c.post(path, standard_event(key))
        if status != 200:
            raise RuntimeError("push %s -> %d %s" % (key, status, data[:200]))
        return key

    paced(port, rate, seconds, out, send)


def am_burst(port, n, prefix, batch=500, threads=4):
    batches = [list(range(s, min(n, s + batch))) for s in range(0, n, batch)]

    def worker(w):
        c = Client(port)
        for b in batches[w::threads]:
            body = json.dumps([am_alert("%s-%d" % (prefix, i)) for i in b])
            status, data = c.post("/api/v2/alerts", body)
            if status != 200:
                raise RuntimeError("alertmanager -> %d %s" % (status, data[:200]))

    t0 = now_ms()
    run_threads(threads, worker)
    print(json.dumps({"n": n, "start_ms": t0, "end_ms": now_ms()}))


def am_paced(port, rate, seconds, prefix, out):
    def send(c, i):
        key = "%s-%d" % (prefix, i)
        status, data = c.post("/api/v2/alerts", json.dumps([am_alert(key)]))
        if status != 200:
            raise RuntimeError("alertmanager %s -> %d %s" % (key, status, data[:200]))
        return key

    paced(port, rate, seconds, out, send)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    mode, a = argv[1], argv[2:]
    if mode == "push-burst":
        push_burst(int(a[0]), a[1], int(a[2]), a[3], *(int(x) for x in a[4:5]))
    elif mode == "push-paced":
        push_paced(int(a[0]), a[1], float(a[2]), float(a[3]), a[4], a[5])
    elif mode == "am-burst":
        am_burst(int(a[0]), int(a[1]), a[2], *(int(x) for x in a[3:5]))
    elif mode == "am-paced":
        am_paced(int(a[0]), float(a[1]), float(a[2]), a[3], a[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
