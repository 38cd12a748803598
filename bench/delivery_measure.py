#!/usr/bin/python3
"""delivery_measure.py: the measuring side of bench/delivery.sh (Python 3
stdlib only). Reads tocsin's SQLite file read-only, nginx's access log and
the recording receiver's records; every wait is bounded.

  pending DB INTEGRATION N TIMEOUT_S
      Waits until INTEGRATION has N pending deliveries. Prints the count.
  drain DB INTEGRATION N T0_MS TIMEOUT_S
      Waits until INTEGRATION's N deliveries are all delivered, with their
      attempts in webhook_history (the recorder writes both in the same
      transaction), then prints JSON: the drain's end (the last delivered
      row's updated_at, the writer's clock of the batch that recorded it)
      and seconds from T0_MS, deliveries/s, history rows and their statuses,
      and what was left if the wait timed out.
      Polls every 100 ms, counting only history rows added since the last
      poll (a range of the index on integration_id), so the poll costs next
      to nothing beside the run it measures; the end time comes from the
      rows themselves, not from when the poll saw them.
  arrivals LOG MATCH N T0_MS TIMEOUT_S
      Waits until nginx's access log (format '$msec $connection $request_uri')
      has N lines whose URI contains MATCH; prints JSON: first and last arrival, seconds from T0_MS,
      distinct connections.
  threads PID [BEFORE_JSON SECONDS]
      CPU time of each thread of PID (by thread name, from /proc). With a
      snapshot taken earlier and the seconds between, prints each thread's
      share of one core over that span ("share", %) and its CPU seconds
      ("cpu_s") instead.
  latency SENT RECORDS PREFIX KIND
      Joins the pusher's send times (SENT, from delivery_load.py *-paced)
      with the receiver's records under PREFIX (KIND tocsin: the key is in
      the incident's title; am: in the alert's labels). Prints JSON with
      p50/p99/max of arrival - send start, and for tocsin also of arrival -
      push answered and arrival - event_time (the event's commit clock).
"""
import json
import sqlite3
import sys
import time


def connect(db):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    c.execute("PRAGMA query_only=1")
    return c


def one(c, sql, *args):
    return c.execute(sql, args).fetchone()[0]


def wait_pending(db, integration, n, timeout):
    c = connect(db)
    deadline = time.time() + timeout
    while True:
        got = one(c, "SELECT COUNT(*) FROM deliveries WHERE integration_id=? AND status='pending'",
                  integration)
        if got >= n or time.time() > deadline:
            print(got)
            return 0 if got >= n else 1
        time.sleep(0.2)


def drain(db, integration, n, t0_ms, timeout):
    c = connect(db)
    deadline = time.time() + timeout
    timed_out = False
    hist, last_id = 0, 0
    while True:
        # Reads only the rows added since the last poll (a rowid range;
        # "+" keeps SQLite off the integration index), so a poll costs what
        # is new, not what is there.
        got, top, mine = c.execute(
            "SELECT COUNT(*), MAX(attempt_id), SUM(+integration_id=?) FROM webhook_history"
            " WHERE attempt_id>?", (integration, last_id)).fetchone()
        if got:
            hist, last_id = hist + mine, top
        if hist >= n:
            done = one(c, "SELECT COUNT(*) FROM deliveries WHERE integration_id=?"
                          " AND status='delivered'", integration)
            if done >= n:
                break
        if time.time() > deadline:
            timed_out = True
            break
        time.sleep(0.1)
    seen_ms = time.time() * 1000
    status = dict(c.execute("SELECT status, COUNT(*) FROM deliveries WHERE integration_id=?"
                            " GROUP BY status", (integration,)).fetchall())
    hstat = dict(c.execute("SELECT status, COUNT(*) FROM webhook_history WHERE integration_id=?"
                           " GROUP BY status", (integration,)).fetchall())
    first_ms, last_ms = c.execute(
        "SELECT MIN(updated_at), MAX(updated_at) FROM deliveries WHERE integration_id=?"
        " AND status='delivered'", (integration,)).fetchone()
    hfirst, hlast, avg_ms, max_ms, attempts = c.execute(
        "SELECT MIN(created_at), MAX(created_at), AVG(duration_ms), MAX(duration_ms),"
        " MAX(attempt) FROM webhook_history WHERE integration_id=?", (integration,)).fetchone()
    delivered = status.get("delivered", 0)
    secs = (last_ms - t0_ms) / 1000.0 if last_ms else None
    out = {
        "n": n, "delivered": delivered, "deliveries_by_status": status,
        "history_rows": sum(hstat.values()), "history_by_status": hstat,
        "max_attempt": attempts, "timed_out": timed_out,
        "first_recorded_s": (first_ms - t0_ms) / 1000.0 if first_ms else None,
        "seconds": secs,
        "per_s": round(delivered / secs) if secs else 0,
        "attempt_ms_avg": round(avg_ms, 2) if avg_ms is not None else None,
        "attempt_ms_max": max_ms,
        "first_attempt_s": (hfirst - t0_ms) / 1000.0 if hfirst else None,
        "last_attempt_s": (hlast - t0_ms) / 1000.0 if hlast else None,
        "poll_saw_end_s": (seen_ms - t0_ms) / 1000.0,
    }
    print(json.dumps(out))
    return 1 if timed_out else 0


def arrivals(log, match, n, t0_ms, timeout):
    deadline = time.time() + timeout
    match = match.encode()
    while True:
        with open(log, "rb") as f:
            lines = f.read().split(b"\n")
        lines = [ln for ln in lines if ln.strip() and match in ln]
        if len(lines) >= n or time.time() > deadline:
            break
        time.sleep(0.1)
    times = sorted(float(ln.split()[0]) * 1000 for ln in lines)
    conns = len({ln.split()[1] for ln in lines})
    if not times:
        print(json.dumps({"n": n, "arrived": 0, "timed_out": True}))
        return 1
    first, last = times[0], times[-1]
    out = {"n": n, "arrived": len(lines), "timed_out": len(lines) < n,
           "first_s": (first - t0_ms) / 1000.0, "last_s": (last - t0_ms) / 1000.0,
           "connections": conns,
           "per_s_from_post_start": round(len(lines) / ((last - t0_ms) / 1000.0)),
           "per_s_first_to_last": round(len(lines) / max((last - first) / 1000.0, 1e-3))}
    print(json.dumps(out))
    return 1 if out["timed_out"] else 0


def threads(pid, before=None, seconds=None):
    import glob
    import os
    hz = os.sysconf("SC_CLK_TCK")
    now = {}
    for stat in glob.glob("/proc/%d/task/*/stat" % pid):
        try:
            with open(stat) as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        now[name] = now.get(name, 0) + ticks / hz
    if before is None:
        print(json.dumps(now))
        return 0
    old = json.loads(before)
    used = {k: v - old.get(k, 0) for k, v in now.items()}
    share = {k: round(100.0 * v / seconds, 1) for k, v in used.items()}
    print(json.dumps({"share": {k: v for k, v in sorted(share.items(), key=lambda kv: -kv[1])
                                if v >= 1},
                      "cpu_s": {k: round(v, 3) for k, v in used.items() if v > 0}}))
    return 0


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return round(sorted_vals[i], 2)


def summary(vals):
    vals = sorted(vals)
    return {"p50": pct(vals, 50), "p99": pct(vals, 99), "max": round(vals[-1], 2) if vals else None}


def read_records(records_path, prefix):
    out = []
    with open(records_path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line still being written
            if rec["path"].startswith(prefix):
                out.append(rec)
    return out


def latency(sent_path, records_path, prefix, kind, timeout=30):
    sent = {}
    with open(sent_path) as f:
        for line in f:
            r = json.loads(line)
            sent[r["key"]] = r
    deadline = time.time() + timeout
    while True:
        recs = read_records(records_path, prefix)
        if len(recs) >= len(sent) or time.time() > deadline:
            break
        time.sleep(0.1)
    arrivals = {}
    dupes = 0
    for rec in recs:
        body = json.loads(rec["body"])
        if kind == "tocsin":
            key = body["incident"]["title"].split(" ", 1)[1]
            ev_ms = body.get("event_time")
        else:
            key = body["alerts"][0]["labels"]["key"]
            ev_ms = None
        if key in arrivals:
            dupes += 1
            continue
        arrivals[key] = (rec["t_ms"], ev_ms)
    from_send, from_done, from_event = [], [], []
    for key, s in sent.items():
        if key not in arrivals:
            continue
        t_ms, ev_ms = arrivals[key]
        from_send.append(t_ms - s["send_ms"])
        from_done.append(t_ms - s["done_ms"])
        if ev_ms:
            from_event.append(t_ms - ev_ms)
    answer = sorted(s["done_ms"] - s["send_ms"] for s in sent.values())
    out = {"sent": len(sent), "arrived": len(from_send), "duplicates": dupes,
           "from_send": summary(from_send), "push_answer": summary(answer)}
    if kind == "tocsin":
        out["from_answer"] = summary(from_done)
        out["from_event_time"] = summary(from_event)
    print(json.dumps(out))
    return 0 if len(from_send) == len(sent) else 1


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    mode, a = argv[1], argv[2:]
    if mode == "pending":
        return wait_pending(a[0], int(a[1]), int(a[2]), float(a[3]))
    if mode == "drain":
        return drain(a[0], int(a[1]), int(a[2]), float(a[3]), float(a[4]))
    if mode == "arrivals":
        return arrivals(a[0], a[1], int(a[2]), float(a[3]), float(a[4]))
    if mode == "threads":
        return threads(int(a[0]), *(a[1:2] + [float(x) for x in a[2:3]]))
    if mode == "latency":
        return latency(a[0], a[1], a[2], a[3])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
