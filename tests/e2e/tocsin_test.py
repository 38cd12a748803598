"""tocsin_test.py: the e2e harness: a real tocsin on loopback, real HTTP.

Each test script starts its own tocsin (`Tocsin()`), on a free 127.0.0.1 port
with a fresh data folder, talks to it with urllib, and stops it with SIGTERM
(which must exit 0; under ASan a leak or error makes it exit non-zero, and
the harness fails the test then). `validate(schema_name, data)` checks a
response's `data` against the 200 schema of reference/oncall-openapi.subset.json.

Run a script alone:  TOCSIN_BIN=build-asan/tocsin /usr/bin/python3 tests/e2e/test_x.py
(build-asan/, from `make test`, has tests/: the receiver and the sign tool;
the run build, build/, does not.)

The store: TOCSIN_TEST_STORE picks the engine, `sqlite` (the default: the
data folder's tocsin.db) or `postgres`. On postgres each Tocsin also gets a
database of its own, tocsin_<16 hex> (named after its data folder, so that a
Tocsin on the same folder finds the same one), made on the server whose
base URL is in TOCSIN_TEST_PG_URL, or in the file TOCSIN_TEST_PG_URL_FILE
names (ctest's pg.start writes it: tests/support/pg_server.sh). tocsin gets
`--store URL-of-that-database` beside `--data` (the folder still holds the
admin key file and the logs); cleanup() drops the database with the folder.
Alone:  tests/support/pg_server.sh start /tmp/pg && TOCSIN_TEST_STORE=postgres
        TOCSIN_TEST_PG_URL_FILE=/tmp/pg/url TOCSIN_BIN=... python3 tests/e2e/test_x.py
        (and tests/support/pg_server.sh stop /tmp/pg after).
Several nodes on one database (postgres only): Tocsin(database=NAME,
node_id=ID) starts a Tocsin on the existing database NAME (made by
pg_new_database(), dropped by the test with pg_drop_database) with a data
folder of its own and `--node-id ID`; its cleanup leaves the database alone.
Tests read and change the store through t.db_query, t.db_value, t.db_dicts,
t.db_exec, t.db_execmany and t.db() (one transaction): SQL with `?`
placeholders, rows as tuples, on either engine. A test about the SQLite
file itself calls sqlite_only(why) first: elsewhere it is skipped, saying
why, and a skipped test does not fail the script.
"""
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("TOCSIN_BIN", os.path.join(ROOT, "build", "tocsin"))
REFERENCE = os.environ.get("TOCSIN_REFERENCE", os.path.join(ROOT, "..", "shared", "reference"))
ADMIN_KEY = "e2e-admin-key-0123456789abcdef"


ENGINE = os.environ.get("TOCSIN_TEST_STORE") or "sqlite"
if ENGINE not in ("sqlite", "postgres"):
    sys.exit("TOCSIN_TEST_STORE is %r: sqlite or postgres" % ENGINE)


# Skipping: a test that does not apply to this run ---------------------------------
class Skip(Exception):
    """Raised by skip(): the test does not apply here; the message says why."""


def skip(reason):
    raise Skip(reason)


def sqlite_only(why):
    """Skips the calling test unless the store is SQLite. why: what the test
    is about that only the SQLite engine has (its file, WAL, migrations)."""
    if ENGINE != "sqlite":
        skip("%s: SQLite only, and this run's store is %s" % (why, ENGINE))


# The PostgreSQL server (TOCSIN_TEST_STORE=postgres) --------------------------------
PG_TIMEOUTS = "-c statement_timeout=300000 -c lock_timeout=60000"  # ms: bounded waits


def pg_base_url():
    """The server's base URL, postgres://USER@HOST:PORT/ (query kept)."""
    url = os.environ.get("TOCSIN_TEST_PG_URL")
    if url:
        return url
    path = os.environ.get("TOCSIN_TEST_PG_URL_FILE")
    if not path:
        raise AssertionError(
            "TOCSIN_TEST_STORE=postgres needs a server: set TOCSIN_TEST_PG_URL to its URL"
            " (postgres://USER@HOST:PORT/) or TOCSIN_TEST_PG_URL_FILE to a file holding it"
            " (tests/support/pg_server.sh start DIR writes DIR/url)")
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as e:
        raise AssertionError("no PostgreSQL server: cannot read its URL from %s (%s); ctest's"
                             " pg.start writes it (tests/support/pg_server.sh)" % (path, e))


def pg_url(dbname):
    """The server's URL with dbname as its database."""
    u = urllib.parse.urlsplit(pg_base_url())
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, ""))


def pg_connect(dbname, autocommit=True, readonly=False):
    """A psycopg2 connection to dbname. JSON columns come back as the text
    the server has, as SQLite's do; every wait is bounded."""
    import psycopg2
    import psycopg2.extras
    con = psycopg2.connect(pg_url(dbname), connect_timeout=10, options=PG_TIMEOUTS)
    con.set_session(readonly=readonly, autocommit=autocommit)
    psycopg2.extras.register_default_json(con, loads=lambda text: text)
    psycopg2.extras.register_default_jsonb(con, loads=lambda text: text)
    return con


def pg_database_for(data_dir):
    """The database name of a data folder: the same folder, the same one."""
    return "tocsin_" + hashlib.sha1(os.path.realpath(data_dir).encode()).hexdigest()[:16]


def pg_create_database(name):
    """Creates database `name` unless it exists (a Tocsin again on the same
    folder), then checks that it answers. Returns True if it was made."""
    import psycopg2.errors
    made = True
    with contextlib.closing(pg_connect("postgres")) as con:
        try:
            con.cursor().execute('CREATE DATABASE "%s"' % name)
        except psycopg2.errors.DuplicateDatabase:
            made = False
    with contextlib.closing(pg_connect(name)) as con:
        cur = con.cursor()
        cur.execute("SELECT current_database()")
        assert cur.fetchone()[0] == name
    return made


def pg_drop_database(name):
    """Drops database `name` (closing what is still connected to it); best
    effort: a failure is printed, not raised."""
    try:
        with contextlib.closing(pg_connect("postgres")) as con:
            con.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
    except Exception as e:  # noqa: BLE001 - cleanup must not hide the test's outcome
        print("could not drop database %s: %s" % (name, e))


def pg_new_database(prefix="tocsin_shared_"):
    """Makes a fresh database for several Tocsins to share (Tocsin(database=
    NAME)); returns its name. The caller drops it (pg_drop_database)."""
    name = prefix + os.urandom(8).hex()
    pg_create_database(name)
    return name


def pg_placeholders(sql):
    """SQLite's `?` placeholders as psycopg2's %s (outside quoted text), and
    every literal % doubled, as psycopg2 wants it with parameters."""
    out, quote = [], None
    for ch in sql:
        if ch == "%":
            out.append("%%")
        elif quote:
            out.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        else:
            out.append("%s" if ch == "?" else ch)
    return "".join(out)


class Db:
    """One connection to a Tocsin's store, on either engine: SQL with `?`
    placeholders, rows as tuples. readonly: reads only, each statement on
    its own (SQLite: a read-only connection, which never disturbs the
    running or killed tocsin's files). As a context manager: one
    transaction, committed at the end (rolled back on an exception), then
    the connection is closed."""

    def __init__(self, t, readonly=False):
        self.engine = t.engine
        if self.engine == "sqlite":
            path = os.path.join(t.data_dir, "tocsin.db")
            if readonly:
                self.con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
            else:
                self.con = sqlite3.connect(path, timeout=30)
        else:
            self.con = pg_connect(t.database, autocommit=readonly, readonly=readonly)

    def _run(self, sql, params):
        if self.engine == "sqlite":
            return self.con.execute(sql, tuple(params))
        cur = self.con.cursor()
        cur.execute(pg_placeholders(sql), tuple(params))
        return cur

    def query(self, sql, params=()):
        """Every row, as tuples."""
        return [tuple(r) for r in self._run(sql, params).fetchall()]

    def dicts(self, sql, params=()):
        """Every row, as {column: value}."""
        cur = self._run(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def execute(self, sql, params=()):
        """Runs one statement; returns how many rows it changed."""
        return self._run(sql, params).rowcount

    def executemany(self, sql, rows):
        if self.engine == "sqlite":
            self.con.executemany(sql, rows)
        else:
            self.con.cursor().executemany(pg_placeholders(sql), [tuple(r) for r in rows])

    def commit(self):
        self.con.commit()

    def close(self):
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.con.commit()
            else:
                self.con.rollback()
        finally:
            self.con.close()
        return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.raw = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def data(self):
        return (self.json or {}).get("data")

    @property
    def error(self):
        return (self.json or {}).get("error")

    def __repr__(self):
        return "Response(%d, %s)" % (self.status, self.raw[:500])


class Tocsin:
    """A running tocsin. Use as a context manager or call stop()."""

    def __init__(self, data_dir=None, env=None, args=(), admin_key=ADMIN_KEY, engine=None,
                 database=None, node_id=None):
        self.port = free_port()
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="tocsin-e2e-")
        # engine: this run's (ENGINE) unless a test needs a given one (a
        # SQLite install to copy from, on the PostgreSQL run).
        self.engine = engine or ENGINE
        self.database = None  # on postgres: this instance's database
        # database: a shared one (several nodes), the test's to drop.
        self.own_database = database is None
        if database is not None and self.engine != "postgres":
            raise AssertionError("Tocsin(database=...): several nodes need PostgreSQL")
        if self.engine == "postgres":
            self.database = database or pg_database_for(self.data_dir)
            try:
                pg_create_database(self.database)
            except Exception as e:
                raise AssertionError("cannot make database %s on %s: %s" % (
                    self.database, pg_base_url(), e))
        self.admin_key = admin_key
        self.args = list(args)
        self.node_id = node_id
        if node_id is not None:
            self.args += ["--node-id", node_id]
        # Tests fire requests as fast as they can: the per-key rate limits
        # are off unless a test sets them (test_rate_limits.py does).
        for flag in ("--rate-limit-event", "--rate-limit-api"):
            if flag not in self.args:
                self.args += [flag, "0"]
        self.env = dict(os.environ)
        # The store is the one this run tests, whatever the caller's shell says.
        self.env.pop("TOCSIN_STORE", None)
        if admin_key:
            self.env["TOCSIN_ADMIN_APP_KEY"] = admin_key
        else:
            self.env.pop("TOCSIN_ADMIN_APP_KEY", None)
        self.env.update(env or {})
        self.proc = None
        # HTTPS when started with a certificate: trust exactly that one.
        self.ssl_ctx = None
        if "--tls-cert" in self.args:
            import ssl
            self.ssl_ctx = ssl.create_default_context(
                cafile=self.args[self.args.index("--tls-cert") + 1])
        try:
            self.start()
        except BaseException:
            # No `with` block will clean up after a failed first start: its
            # error carries tocsin's log, and the folder has nothing else.
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for f in (getattr(self, "log", None), getattr(self, "out", None)):
                if f:
                    f.close()
            self.cleanup()
            raise

    @property
    def base(self):
        return "%s://127.0.0.1:%d" % ("https" if self.ssl_ctx else "http", self.port)

    def store_args(self):
        """The flags that choose the store: --data always (the admin key
        file lives there, and on SQLite the database), --store on postgres."""
        args = ["--data", self.data_dir]
        if self.engine == "postgres":
            args += ["--store", pg_url(self.database)]
        return args

    def start(self):
        self.log = open(os.path.join(self.data_dir, "tocsin.log"), "ab")
        self.out = open(os.path.join(self.data_dir, "tocsin.out"), "ab")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:%d" % self.port] + self.store_args()
            + self.args,
            stdout=self.out, stderr=self.log, env=self.env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                where = ""
                if self.engine == "postgres":
                    where = (" on PostgreSQL: its database %s is made and answers queries,"
                             " and tocsin was started with --store %s" % (
                                 self.database, pg_url(self.database)))
                raise AssertionError("tocsin exited at start (%s)%s:\n%s" % (
                    self.proc.returncode, where, self.read_log()))
            try:
                r = self.get("/healthz")
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("tocsin did not become healthy:\n" + self.read_log())

    def read_log(self):
        with open(os.path.join(self.data_dir, "tocsin.log"), "rb") as f:
            return f.read().decode(errors="replace")[-5000:]

    def read_stdout(self):
        with open(os.path.join(self.data_dir, "tocsin.out"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, expect_clean=True):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("tocsin did not stop on SIGTERM")
        self.log.close()
        self.out.close()
        if expect_clean and self.proc.returncode != 0:
            raise AssertionError("tocsin exited with %s:\n%s" % (self.proc.returncode,
                                                               self.read_log()))

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.out.close()

    def restart(self):
        self.stop()
        self.start()

    def cleanup(self):
        """Removes the data folder this Tocsin made (and on postgres its
        database with it); a folder the test gave is the test's."""
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            if self.database and self.own_database:
                pg_drop_database(self.database)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        ok = exc_type is None or issubclass(exc_type, Skip)
        try:
            self.stop(expect_clean=ok)
        finally:
            if ok:
                self.cleanup()
            else:
                print("data folder kept: %s" % self.data_dir)
                if self.database:
                    print("database kept (until the server stops): %s" % pg_url(self.database))
        return False

    # The store, on either engine (see Db) ----------------------------------
    def db(self, readonly=False):
        """A connection to the store: `with t.db() as db:` is one transaction."""
        return Db(self, readonly=readonly)

    def db_query(self, sql, params=()):
        """Every row of a query, as tuples (tocsin may be running, stopped or killed)."""
        with contextlib.closing(Db(self, readonly=True)) as db:
            return db.query(sql, params)

    def db_value(self, sql, params=()):
        """The first column of a query's first row."""
        rows = self.db_query(sql, params)
        assert rows, "no row: %s %r" % (sql, params)
        return rows[0][0]

    def db_dicts(self, sql, params=()):
        """Every row of a query, as {column: value}."""
        with contextlib.closing(Db(self, readonly=True)) as db:
            return db.dicts(sql, params)

    def db_exec(self, sql, params=()):
        """Runs one statement in a transaction of its own; returns how many
        rows it changed."""
        with Db(self) as db:
            return db.execute(sql, params)

    def db_execmany(self, sql, rows):
        """Runs one statement for each row of parameters, in one transaction."""
        with Db(self) as db:
            db.executemany(sql, rows)

    def db_tables(self):
        """The names of the store's tables, sorted (the engine's own aside;
        on PostgreSQL those of the schema tocsin works in, current_schema())."""
        if self.engine == "sqlite":
            sql = ("SELECT name FROM sqlite_master WHERE type = 'table'"
                   " AND name NOT LIKE 'sqlite_%' ORDER BY name")
        else:
            sql = ("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                   " ORDER BY tablename")
        return [r[0] for r in self.db_query(sql)]

    def db_data_tables(self):
        """db_tables() without PostgreSQL's cluster_* tables: the nodes' clock,
        change log and leases, which a running node moves on by itself (lease
        renewals every second, timer batches), whatever the requests do."""
        return [n for n in self.db_tables() if not n.startswith("cluster_")]

    # HTTP ---------------------------------------------------------------
    def request(self, method, path, body=None, raw=None, headers=None, timeout=30):
        url = self.base + path
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        if raw is None and body is not None:
            raw = json.dumps(body).encode()
        req = urllib.request.Request(url, data=raw, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_ctx) as resp:
                return Response(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, dict(e.headers), e.read())

    def get(self, path):
        return self.request("GET", path)

    def api(self, path, body=None, key=None, expect=200):
        """POST an Open API call with the admin key; assert the HTTP status."""
        sep = "&" if "?" in path else "?"
        r = self.request("POST", "%s%sapp_key=%s" % (path, sep, key or self.admin_key),
                         body if body is not None else {})
        if expect is not None and r.status != expect:
            raise AssertionError("%s -> %d, expected %d: %s" % (path, r.status, expect, r.raw[:800]))
        return r

    def push(self, key, body, kind="standard", expect=200):
        r = self.request("POST", "/event/push/alert/%s?integration_key=%s" % (kind, key), body)
        if expect is not None and r.status != expect:
            raise AssertionError("push -> %d, expected %d: %s" % (r.status, expect, r.raw[:800]))
        return r

    # Fixtures -------------------------------------------------------------
    def make_channel(self, name, group=None, **extra):
        body = {"channel_name": name, "team_id": 0}
        if group is not None:
            body["group"] = group
        body.update(extra)
        return self.api("/channel/create", body).data["channel_id"]

    def make_source(self, channel_id, kind="alert_standard", name=None):
        r = self.api("/integration/create", {
            "type": kind, "name": name or "src-%d-%s" % (channel_id, time.time_ns()),
            "channel_id": channel_id})
        return r.data["integration_id"], r.data["integration_key"]

    def make_member(self, name, email=None, admin=False):
        """Invite a person and make them an app key; returns (person_id, app_key)."""
        item = {"member_name": name, "email": email or "%s-%d@example.com" % (
            name.lower().replace(" ", "."), time.time_ns())}
        if admin:
            item["role_ids"] = [1]
        pid = self.api("/member/invite", {"members": [item]}).data["items"][0]["member_id"]
        key = self.api("/app-key/create", {"person_id": pid}).data["app_key"]
        return pid, key

    # Metrics: what tocsin has done, to wait on --------------------------------
    def scrape(self):
        """GET /metrics, read back (a Scrape)."""
        r = self.get("/metrics")
        if r.status != 200:
            raise AssertionError("/metrics -> %r" % r)
        return Scrape(r.raw.decode())

    def wait_settled(self, timeout=30):
        """Waits until no delivery is pending (tocsin_outbox_pending is 0:
        every delivery queued so far was delivered or failed, and no retry
        waits) and returns that scrape. A change writes its deliveries in the
        same commit, before its call is answered, so every call answered
        before this one is covered; and the receiver records a request before
        it answers it, so whatever tocsin sent for them is in the receiver's
        records by then. Pending rows of an integration that is disabled
        never settle: use this only where every integration may send."""
        deadline = time.time() + timeout
        while True:
            s = self.scrape()
            pending = s.get("tocsin_outbox_pending")
            if pending == 0:
                return s
            if time.time() >= deadline:
                raise AssertionError("the outbox did not settle in %ss: %d pending" % (
                    timeout, pending))
            time.sleep(0.05)


def keep_every_body(t):
    """Makes tocsin store the webhook body of every event from now on.

    Since migration 007, events.body holds an event's webhook body only when
    some integration subscribes to the event (NULL otherwise: bodies are
    rendered only for subscribers). A test that reads every event's body
    from the store calls this first: it makes an incident webhook and an
    alert webhook subscribed to everything (no channel_ids, no event_types)
    and disables them at once. A disabled integration keeps its
    subscriptions, so every event gets its body and a queued delivery, and
    nothing is sent (the deliveries wait for an enabling that never comes,
    so wait_settled cannot be used). The endpoint is on 127.0.0.1: tocsin
    must run with --allow-private-targets. Returns the two integration ids."""
    ids = []
    for kind in ("webhook_incident", "webhook_alert"):
        r = t.api("/integration/create", {"type": kind, "name": "every body (%s)" % kind,
                                          "endpoint": "http://127.0.0.1:9/never-sent"})
        ids.append(r.data["integration_id"])
        t.api("/integration/disable", {"integration_id": ids[-1]})
    return ids


def keeping_bodies(args=()):
    """A started Tocsin (with --allow-private-targets and args) on which
    keep_every_body was called; stopped again if that fails."""
    t = Tocsin(args=["--allow-private-targets"] + list(args))
    try:
        keep_every_body(t)
    except BaseException:
        t.stop(expect_clean=False)
        raise
    return t


def expect_error(resp, status, code, mentions=None):
    assert resp.status == status, "expected HTTP %d, got %r" % (status, resp)
    err = resp.error
    assert err and err.get("code") == code, "expected %s, got %r" % (code, resp)
    assert resp.json.get("request_id"), resp
    assert resp.headers.get("Flashcat-Request-Id") == resp.json["request_id"], resp.headers
    if mentions:
        assert mentions in err.get("message", ""), "message %r does not mention %r" % (
            err.get("message"), mentions)


# The Prometheus text format of /metrics, read back -------------------------------
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")


def parse_labels(text):
    """a="x",b="y\\"z" -> {"a": "x", "b": 'y"z'}, undoing the format's escapes."""
    labels, i = {}, 0
    while i < len(text):
        eq = text.index("=", i)
        name = text[i:eq]
        assert text[eq + 1] == '"', text
        j, value = eq + 2, []
        while text[j] != '"':
            if text[j] == "\\":
                value.append({"\\": "\\", '"': '"', "n": "\n"}[text[j + 1]])
                j += 2
            else:
                value.append(text[j])
                j += 1
        labels[name] = "".join(value)
        i = j + 1
        if i < len(text):
            assert text[i] == ",", text
            i += 1
    return labels


class Scrape:
    def __init__(self, text):
        self.text = text
        self.samples = {}
        self.types = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ")
                self.types[name] = kind
                continue
            if line.startswith("#") or not line:
                continue
            m = SAMPLE.match(line)
            assert m, "not a sample line: %r" % line
            labels = parse_labels(m.group(2) or "")
            key = (m.group(1), frozenset(labels.items()))
            assert key not in self.samples, "duplicate series: %r" % line
            self.samples[key] = float(m.group(3))

    def get(self, name, **labels):
        key = (name, frozenset((k, str(v)) for k, v in labels.items()))
        assert key in self.samples, "no series %s%r in:\n%s" % (name, labels, self.text)
        return self.samples[key]

    def series(self, name):
        return [dict(k[1]) for k in self.samples if k[0] == name]

    def hook(self, metric, hook, **labels):
        """A per-integration series, found by integration_id (and labels)."""
        for key, value in self.samples.items():
            d = dict(key[1])
            if key[0] == metric and d.get("integration_id") == str(hook) and all(
                    d.get(k) == str(v) for k, v in labels.items()):
                return value
        raise AssertionError("no series %s for integration %s %r" % (metric, hook, labels))

    def attempts(self, hook):
        """{outcome: n} of one integration's tocsin_delivery_attempts_total."""
        return {o: int(self.hook("tocsin_delivery_attempts_total", hook, outcome=o))
                for o in ("delivered", "retry", "gone", "failed")}


# Schema validation ------------------------------------------------------------
_spec = None


# The Open API reference: the subset, and the channel rules' paths beside it
# (oncall-openapi.rules.json), merged into one document.
SPEC_FILES = ("oncall-openapi.subset.json", "oncall-openapi.rules.json")


def spec():
    global _spec
    if _spec is None:
        merged = None
        for name in SPEC_FILES:
            with open(os.path.join(REFERENCE, name)) as f:
                doc = json.load(f)
            if merged is None:
                merged = doc
                continue
            merged["paths"].update(doc["paths"])
            for section, items in doc.get("components", {}).items():
                merged["components"].setdefault(section, {})
                for k, v in items.items():
                    merged["components"][section].setdefault(k, v)
        _spec = merged
    return _spec


def validate(schema_name, data):
    """Validate `data` against components.schemas[schema_name], refs resolved."""
    import jsonschema
    s = spec()
    schema = {"$ref": "#/components/schemas/" + schema_name, "components": s["components"]}
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator,
                        format_checker=None)


def validate_response(path, resp):
    """Validate a whole success envelope against the path's 200 schema."""
    import jsonschema
    s = spec()
    op = s["paths"][path]["post"]
    schema = dict(op["responses"]["200"]["content"]["application/json"]["schema"])
    schema["components"] = s["components"]
    jsonschema.validate(resp.json, schema, cls=jsonschema.Draft202012Validator)


def _discriminated_components():
    """The spec's components with OpenAPI discriminators made JSON Schema.

    Feed items (IncidentFeedItem, FeedItem) type `detail` as a oneOf keyed by
    the item's own `type` (an OpenAPI discriminator). JSON Schema validators
    ignore discriminators, and the bare oneOf cannot pass: most FeedDetail*
    schemas accept {} and so match together. Here each such property becomes
    an object checked, through if/then on the parent, against exactly the
    schema its `type` maps to (a type without a mapping: any object)."""
    comps = json.loads(json.dumps(spec()["components"]))
    for sch in comps["schemas"].values():
        props = sch.get("properties") or {}
        for name, prop in list(props.items()):
            disc = prop.get("discriminator")
            if not (disc and "oneOf" in prop and disc.get("propertyName") in props):
                continue
            key = disc["propertyName"]
            props[name] = {"type": "object"}
            sch.setdefault("allOf", []).extend(
                {"if": {"properties": {key: {"const": value}}, "required": [key]},
                 "then": {"properties": {name: {"$ref": ref}}}}
                for value, ref in disc["mapping"].items())
    return comps


def validate_feed_response(path, resp):
    """validate_response for paths whose items carry a discriminated `detail`
    (/incident/feed, /alert/feed): see _discriminated_components."""
    import jsonschema
    op = spec()["paths"][path]["post"]
    schema = dict(op["responses"]["200"]["content"]["application/json"]["schema"])
    schema["components"] = _discriminated_components()
    jsonschema.validate(resp.json, schema, cls=jsonschema.Draft202012Validator)


# Runner -----------------------------------------------------------------------
def run(tests):
    """Run test functions in order; print 'N passed, N failed' (and how many
    skipped, if any: skip() says why); exit 1 on failure."""
    passed = failed = skipped = 0
    for t in tests:
        start = time.time()
        try:
            t()
            passed += 1
            print("ok   %s (%.1fs)" % (t.__name__, time.time() - start), flush=True)
        except Skip as e:
            skipped += 1
            print("skip %s: %s" % (t.__name__, e), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__, flush=True)
            traceback.print_exc()
    if skipped:
        print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
        if not passed and not failed:
            # tests/CMakeLists.txt: ctest reports the script as skipped.
            print("every test of this file skipped (store: %s)" % ENGINE)
    else:
        print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def wait_until(fn, timeout=10, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)
