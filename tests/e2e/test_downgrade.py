"""test_downgrade.py: a tocsin older than its database refuses to start.

Migrations run at start, forward only. A binary that finds a schema version
newer than the last migration it carries (a downgrade after an upgrade)
does not know the newer tables' invariants, so it must not write to them:
it exits before listening, naming both versions and the way back (README,
"Run it in production"), and the database is left exactly as it was. Once
the versions agree again it starts and finds its data. Both engines.
"""
import subprocess

from tocsin_test import Tocsin, run


def test_newer_schema_is_refused():
    with Tocsin() as t:
        chan = t.make_channel("kept")
        t.stop()
        latest = t.db_value("SELECT MAX(version) FROM schema_migrations")
        t.db_exec("INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)",
                  (latest + 1, "%03d_from_the_future.sql" % (latest + 1), 0))
        before = t.db_query("SELECT version, name FROM schema_migrations ORDER BY version")
        tables = t.db_tables()
        out = subprocess.run(t.command(), capture_output=True, text=True, timeout=60, env=t.env)
        assert out.returncode != 0, out
        want = "schema version %d, newer than this tocsin's %d" % (latest + 1, latest)
        assert want in out.stderr, out.stderr
        assert "restore the backup taken before the upgrade" in out.stderr, out.stderr
        assert t.db_query("SELECT version, name FROM schema_migrations ORDER BY version") == before
        assert t.db_tables() == tables
        # The right binary for the database starts on it and finds its data.
        t.db_exec("DELETE FROM schema_migrations WHERE version = ?", (latest + 1,))
        t.start()
        r = t.api("/channel/info", {"channel_id": chan})
        assert r.data["channel_name"] == "kept", r


if __name__ == "__main__":
    run([test_newer_schema_is_refused])
