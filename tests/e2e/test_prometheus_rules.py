"""test_prometheus_rules.py: the example alerting rules for tocsin itself
(contrib/prometheus/tocsin-alerts.yml, quoted by the README's "Run it in
production") are valid, fire on the series they should, and name only
metrics a running tocsin exposes.

promtool (Debian's `prometheus`) checks the file and runs its unit tests
(contrib/prometheus/tocsin-alerts.test.yml). Then a real tocsin with one
webhook integration is scraped: every tocsin_* metric the rules read must
be a family on its /metrics (the cluster ones only where several nodes can
share the store, i.e. on PostgreSQL), so a renamed metric cannot leave a
rule that silently never fires.
"""
import os
import re
import shutil
import subprocess

from tocsin_test import ENGINE, Tocsin, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES_DIR = os.path.join(ROOT, "contrib", "prometheus")
RULES = os.path.join(RULES_DIR, "tocsin-alerts.yml")
RULES_TEST = os.path.join(RULES_DIR, "tocsin-alerts.test.yml")

# Families that only a node on a shared (PostgreSQL) store renders.
CLUSTER_ONLY = {"tocsin_cluster_buckets_held", "tocsin_cluster_leases"}


def promtool(*args):
    tool = shutil.which("promtool")
    assert tool, "promtool is missing (Debian package prometheus, scripts/install-deps.sh)"
    return subprocess.run([tool, *args], capture_output=True, text=True, cwd=RULES_DIR,
                          timeout=120)


def rule_metrics():
    """The tocsin_* families the rules read (histogram series by family)."""
    with open(RULES) as f:
        text = f.read()
    names = set(re.findall(r"\btocsin_[a-z_]+", text))
    return {re.sub(r"_(bucket|sum|count)$", "", n) if n.endswith(
        ("_seconds_bucket", "_seconds_sum", "_seconds_count")) else n for n in names}


def test_rules_are_valid():
    out = promtool("check", "rules", RULES)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 9 rules found" in out.stdout, out.stdout


def test_rules_fire_as_tested():
    out = promtool("test", "rules", RULES_TEST)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout, out.stdout


def test_rules_name_real_metrics():
    names = rule_metrics()
    assert "tocsin_outbox_oldest_pending_age_seconds" in names, names
    with Tocsin(args=["--allow-private-targets"]) as t:
        t.api("/integration/create", {"type": "webhook_incident", "name": "rules-check",
                                      "endpoint": "http://127.0.0.1:9/hook"})
        r = t.get("/metrics")
        assert r.status == 200, r
        families = set(re.findall(r"^# TYPE (\S+) ", r.raw.decode(), re.M))
    expected = names if ENGINE == "postgres" else names - CLUSTER_ONLY
    missing = expected - families
    assert not missing, "rules read metrics tocsin does not expose: %s" % sorted(missing)
    if ENGINE != "postgres":
        assert not (CLUSTER_ONLY & families), families


if __name__ == "__main__":
    run([test_rules_are_valid, test_rules_fire_as_tested, test_rules_name_real_metrics])
