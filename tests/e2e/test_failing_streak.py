"""test_failing_streak.py: "an endpoint whose every attempt has failed for
24 hours is disabled" (reference/integrations.md) holds across restarts
(issue 9).

The start of the failing streak used to live only in the dispatcher's
memory, so a restart (or a crash loop) started the 24 hours again and an
endpoint dead for days was never disabled. It is stored now
(integrations.failing_since, ms): written when the first attempt of a
streak fails, cleared by a success and by enabling the integration again.

Waiting 24 hours is replaced by moving the stored start 25 hours back while
tocsin is stopped: that is exactly the state an endpoint failing since
yesterday leaves in the store, whatever restarts happened meanwhile.
"""
from receiver import Receiver
from tocsin_test import Tocsin, run, wait_until

RETRY_EVERY_SECOND = {"max_attempts": 20, "schedule_s": [1]}
DAY_AND_AN_HOUR_MS = 25 * 3600 * 1000


def scalar(t, sql, *args):
    return t.db_value(sql, args)


def failing_since(t, hook):
    return scalar(t, "SELECT failing_since FROM integrations WHERE integration_id = ?", hook)


def attempts(t, hook):
    return scalar(t, "SELECT COUNT(*) FROM webhook_history WHERE integration_id = ?", hook)


def setup(t, rx, path):
    ch = t.make_channel("streak")
    _, key = t.make_source(ch)
    hook = t.api("/integration/create", {
        "type": "webhook_incident", "name": "dead-endpoint", "endpoint": rx.url(path),
        "event_types": ["i_new"], "retry": RETRY_EVERY_SECOND}).data["integration_id"]
    t.push(key, {"title_rule": "streak", "event_status": "Critical", "alert_key": "s-1"})
    return hook


def info(t, hook):
    return t.api("/integration/info", {"integration_id": hook}).data


def test_streak_survives_restarts_and_disables():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        hook = setup(t, rx, "fail/dead")
        start = wait_until(lambda: failing_since(t, hook), timeout=30,
                           what="the first failure to start a stored streak")

        # A restart keeps the streak's start: later failures do not move it.
        t.restart()
        seen = attempts(t, hook)
        wait_until(lambda: attempts(t, hook) >= seen + 2, timeout=30,
                   what="failed attempts after the restart")
        assert failing_since(t, hook) == start, (failing_since(t, hook), start)
        assert info(t, hook)["status"] == "enabled"

        # The streak began more than 24 hours ago (across restarts): the next
        # failure after this start disables the endpoint.
        t.stop()
        t.db_exec("UPDATE integrations SET failing_since = failing_since - ?"
                  " WHERE integration_id = ?", (DAY_AND_AN_HOUR_MS, hook))
        t.start()
        got = wait_until(lambda: (lambda i: i if i["status"] == "disabled" else None)(
            info(t, hook)), timeout=30, what="24 hours of failures to disable the endpoint")
        assert "24 hours" in got["disabled_reason"], got
        # Nothing is dropped: the push waits for the endpoint.
        assert scalar(t, "SELECT COUNT(*) FROM deliveries WHERE integration_id = ?"
                      " AND status = 'pending'", hook) == 1

        # Enabled again by a person: a fresh streak, not an instant disable.
        t.api("/integration/enable", {"integration_id": hook})
        assert failing_since(t, hook) == 0
        seen = attempts(t, hook)
        wait_until(lambda: attempts(t, hook) >= seen + 2, timeout=30,
                   what="failed attempts after enabling")
        assert info(t, hook)["status"] == "enabled", info(t, hook)
        assert failing_since(t, hook) > start


def test_success_ends_the_streak():
    with Receiver() as rx, Tocsin(args=["--allow-private-targets"]) as t:
        # 500 twice, then 200.
        hook = setup(t, rx, "flaky/2/streak")
        wait_until(lambda: failing_since(t, hook), timeout=30, what="a stored streak")
        rx.wait_for(3, timeout=30)
        wait_until(lambda: scalar(t, "SELECT COUNT(*) FROM deliveries WHERE integration_id = ?"
                                  " AND status = 'delivered'", hook) == 1,
                   timeout=30, what="the delivery recorded")
        assert failing_since(t, hook) == 0


if __name__ == "__main__":
    run([test_streak_survives_restarts_and_disables, test_success_ends_the_streak])
