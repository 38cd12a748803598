"""test_config.py: the config file (issue 13, item 1) and --version.

`tocsin serve --config FILE` takes every setting from FILE (keys = the
flags without --), the flags given beside it win, and a bad file is refused
with FILE:LINE: KEY: REASON before anything is created or started.
`tocsin check-config FILE` lists every problem with its line. `tocsin
--version` prints the version of CMakeLists.txt's project() and the commit."""
import os
import re
import shutil
import subprocess
import tempfile

from tocsin_test import BIN, ROOT, Tocsin, free_port, pg_url, run


class ConfigTocsin(Tocsin):
    """A Tocsin started as `tocsin serve --config FILE [cli...]`, where FILE
    holds this instance's listen, data and (on PostgreSQL) store settings
    and then `lines`."""

    def __init__(self, lines, cli=(), section=False, file_port=None):
        self.lines = list(lines)
        self.cli = list(cli)
        self.section = section
        self.file_port = file_port  # the file's listen port, if not this one's
        super().__init__()

    def command(self):
        path = os.path.join(self.data_dir, "tocsin.conf")
        head = ["# written by test_config.py", "[serve]" if self.section else "",
                "listen = 127.0.0.1:%d" % (self.file_port or self.port),
                "data = %s" % self.data_dir]
        if self.database:
            head.append("store = %s" % pg_url(self.database))
        with open(path, "w") as f:
            f.write("\n".join(head + self.lines) + "\n")
        os.chmod(path, 0o600)
        cli = self.cli
        if self.file_port:  # the flag names the port tocsin must answer on
            cli = cli + ["--listen", "127.0.0.1:%d" % self.port]
        return [BIN, "serve", "--config", path] + cli


def push_url(t):
    channel = t.make_channel("config")
    r = t.api("/integration/create", {"type": "alert_standard", "name": "config",
                                      "channel_id": channel})
    return r.data["push_url"]


def test_file_sets_values():
    """listen, data, base-url, log-level and the rate limits come from the
    file (tocsin answers on the file's port, push URLs carry its base-url,
    and at level warn the info line "listening" is not logged); comments
    with # and ;, and the optional [serve] section, are read as documented."""
    lines = ["; the public address", "base-url = https://tocsin.example/hub/",
             "log-level = warn  ; quiet", "rate-limit-event = 0", "rate-limit-api = 0",
             "allow-private-targets = false", "allow-cidr = 10.0.0.0/8",
             "allow-cidr = fd00::/8", "sync = normal", "max-connections = 64"]
    for section in (False, True):
        with ConfigTocsin(lines, section=section) as t:
            url = push_url(t)
            assert url.startswith("https://tocsin.example/hub/"), url
            assert "msg=listening" not in t.read_log(), t.read_log()
            if t.engine == "sqlite":
                assert os.path.exists(os.path.join(t.data_dir, "tocsin.db"))


def test_flags_override_file():
    """The flags given beside --config win over the file's keys: tocsin
    answers on --listen's port (not the file's), push URLs carry --base-url,
    and --log-level info logs what the file's warn would not."""
    other = free_port()  # the file's port: nothing listens there
    with ConfigTocsin(["base-url = https://file.example", "log-level = warn"],
                      cli=["--base-url", "https://flag.example", "--log-level", "info"],
                      file_port=other) as t:
        url = push_url(t)
        assert url.startswith("https://flag.example/"), url
        assert "msg=listening" in t.read_log(), t.read_log()
        assert "address=127.0.0.1:%d " % t.port in t.read_log(), t.read_log()


def refuse(text, mode=0o600, cli=()):
    """Starts `tocsin serve --config FILE` on a file holding text: it must
    exit 2 at once, without making its data folder. Returns (path, stderr)."""
    d = tempfile.mkdtemp(prefix="tocsin-config-")
    try:
        path = os.path.join(d, "tocsin.conf")
        data = os.path.join(d, "data")
        port = free_port()
        with open(path, "w") as f:
            f.write("listen = 127.0.0.1:%d\ndata = %s\n" % (port, data) + text)
        os.chmod(path, mode)
        out = subprocess.run([BIN, "serve", "--config", path] + list(cli),
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 2, (text, out.returncode, out.stderr)
        assert not os.path.exists(data), "data folder made for a refused file: %r" % text
        assert "is running" not in out.stdout, out.stdout
        assert "not started" in out.stderr, out.stderr
        return path, out.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_bad_input():
    """Each bad file is refused with FILE:LINE: KEY: REASON (lines 1 and 2
    are listen and data), nothing is started and no data folder is made."""
    cases = [
        # a malformed line
        ("# fine\nthis line has no equals sign\n", ":4: malformed line"),
        ("[serve\n", ":3: malformed line"),
        # an unknown key
        ("colour = blue\n", ":3: colour: unknown key"),
        ("max_connections = 5\n", ":3: max_connections: unknown key: did you mean "
         "max-connections?"),
        ("config = /etc/other.conf\n", ":3: config: unknown key"),
        # a wrong type
        ("max-connections = lots\n", ":3: max-connections: must be a whole number from 1 "
         "to 100000, not 'lots'"),
        ("read-timeout = 12abc\n", ":3: read-timeout: must be a whole number"),
        ("listen = 8080\n", ":3: listen: is given twice (first on line 1)"),
        ("sync = sometimes\n", ":3: sync: must be full or normal, not 'sometimes'"),
        ("allow-cidr = 10.0.0.0/33\n", ":3: allow-cidr: must be an IPv4 or IPv6 address"),
        ("store = mysql://db\n", ":3: store: must be a postgres:// or postgresql:// URL"),
        # a value out of range
        ("max-connections = 0\n", ":3: max-connections: must be a whole number from 1 to "
         "100000, not '0'"),
        ("replay-rate = 10001\n", ":3: replay-rate: must be a whole number from 1 to 10000"),
        ("max-inflight-per-endpoint = 1025\n",
         ":3: max-inflight-per-endpoint: must be a whole number from 1 to 1024"),
        ("rate-limit-api = -1\n", ":3: rate-limit-api: must be RATE or RATE:BURST"),
        # a key whose kind disagrees with its flag's: a switch given a number,
        # a value flag given nothing
        ("allow-private-targets = 1\n", ":3: allow-private-targets: is a switch (a flag "
         "without a value): it takes true or false, not '1'"),
        ("base-url =\n", ":3: base-url: needs a value"),
        # the section is [serve] or none
        ("[server]\nnode-id = a\n", ":4: node-id: is in section [server]"),
        # an indented line would continue the value above it
        ("node-id = a\n  log-level = warn\n", ":4: node-id: an indented line continues"),
        # inih's line limit
        ("base-url = https://example.com/%s\n" % ("x" * 300), ":3: line is longer than"),
    ]
    for text, expect in cases:
        path, err = refuse(text)
        assert path + expect in err, (text, err)
    # The flags cannot save a bad file: it is refused all the same.
    path, err = refuse("max-connections = 0\n", cli=["--max-connections", "5"])
    assert path + ":3: max-connections:" in err, err


def test_missing_file():
    d = tempfile.mkdtemp(prefix="tocsin-config-")
    try:
        path = os.path.join(d, "nope.conf")
        out = subprocess.run([BIN, "serve", "--config", path, "--data", os.path.join(d, "data"),
                              "--listen", "127.0.0.1:%d" % free_port()],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 2, out
        assert path + ": cannot read the config file: No such file or directory" in out.stderr
        assert not os.path.exists(os.path.join(d, "data"))
        out = subprocess.run([BIN, "serve", "--config", d], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 2 and d + ": is not a regular file" in out.stderr, out.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_world_readable_secret():
    """A file naming a secret (the TLS key, a store URL with a password) must
    not be readable by everyone; the message says how to fix it, and never
    repeats the password. Without a secret, 0644 is fine."""
    for text, key in [("tls-cert = /etc/tocsin/cert.pem\ntls-key = /etc/tocsin/key.pem\n",
                       ":4: tls-key"),
                      ("store = postgres://tocsin:S3cretPw@127.0.0.1:1/tocsin\n", ":3: store"),
                      ("store = postgres://127.0.0.1:1/tocsin?password=S3cretPw\n",
                       ":3: store")]:
        path, err = refuse(text, mode=0o644)
        assert path + key + ": holds a secret, and " + path + " can be read by every user" \
            in err, err
        assert "chmod 640 " + path in err, err
        assert "S3cretPw" not in err, err
        # Made private, the same file passes check-config.
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write(text)
        try:
            os.chmod(f.name, 0o640)
            out = subprocess.run([BIN, "check-config", f.name], capture_output=True, text=True)
            assert out.returncode == 0 and out.stdout.strip() == f.name + ": ok", out
            os.chmod(f.name, 0o604)
            out = subprocess.run([BIN, "check-config", f.name], capture_output=True, text=True)
            assert out.returncode == 1 and "chmod 640" in out.stderr, out
        finally:
            os.unlink(f.name)
    # A store URL without a password is no secret.
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("store = postgres://tocsin@127.0.0.1:1/tocsin\n")
    try:
        os.chmod(f.name, 0o644)
        out = subprocess.run([BIN, "check-config", f.name], capture_output=True, text=True)
        assert out.returncode == 0, out
    finally:
        os.unlink(f.name)


def test_check_config():
    """Every problem, each with its line, in line order; exit 1. A sound file:
    FILE: ok and exit 0. No file argument: usage, exit 2."""
    d = tempfile.mkdtemp(prefix="tocsin-config-")
    try:
        bad = os.path.join(d, "bad.conf")
        with open(bad, "w") as f:
            f.write("listen = 127.0.0.1:8080\n"    # 1
                    "colour = blue\n"              # 2
                    "not a setting\n"              # 3
                    "# a comment\n"                # 4
                    "read-timeout = 0\n"           # 5
                    "also not a setting\n"         # 6
                    "allow-private-targets = yes\n"  # 7
                    "tls-cert = /etc/tocsin/cert.pem\n")  # 8
        out = subprocess.run([BIN, "check-config", bad], capture_output=True, text=True)
        assert out.returncode == 1, out
        lines = out.stderr.strip().splitlines()
        want = [bad + ":2: colour: unknown key", bad + ":3: malformed line",
                bad + ":5: read-timeout: must be a whole number from 1 to 3600 seconds",
                bad + ":6: malformed line", bad + ":7: allow-private-targets: is a switch",
                bad + ": --tls-cert and --tls-key go together", bad + ": 6 problems"]
        assert len(lines) == len(want), lines
        for line, w in zip(lines, want):
            assert line.startswith(w), (line, w)
        good = os.path.join(d, "good.conf")
        with open(good, "w") as f:
            f.write("# tocsin\n[serve]\nlisten = 0.0.0.0:8080\ndata = /var/lib/tocsin\n"
                    "allow-private-targets = true\nallow-cidr = 10.0.0.0/8\n"
                    "allow-cidr = 192.168.0.0/16\n; done\n")
        out = subprocess.run([BIN, "check-config", good], capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout == good + ": ok\n", out
        out = subprocess.run([BIN, "check-config", os.path.join(d, "missing.conf")],
                             capture_output=True, text=True)
        assert out.returncode == 1 and "No such file or directory" in out.stderr, out
        out = subprocess.run([BIN, "check-config"], capture_output=True, text=True)
        assert out.returncode == 2 and "Usage: tocsin check-config FILE" in out.stderr, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_readme_example():
    """The README's example file is one tocsin takes."""
    with open(os.path.join(ROOT, "README.md")) as f:
        m = re.search(r"^## Config file\n.*?^```ini\n(.*?)^```", f.read(), re.M | re.S)
    assert m, "no ```ini example in README.md's Config file section"
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write(m.group(1))
    try:
        out = subprocess.run([BIN, "check-config", f.name], capture_output=True, text=True)
        assert out.returncode == 0, out
    finally:
        os.unlink(f.name)


def test_help_mentions_config():
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--config FILE" in out.stdout and \
        "check-config FILE" in out.stdout, out.stdout
    out = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--config FILE" in out.stdout, out.stdout


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"^project\(tocsin VERSION (\S+)", f.read(), re.M)
    assert m, "no project(tocsin VERSION ...) in CMakeLists.txt"
    return m.group(1)


def test_version():
    """tocsin --version: the version of CMakeLists.txt and the commit built
    from, a real commit of this repository (or "unknown" outside git)."""
    out = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    assert out.returncode == 0, out
    m = re.fullmatch(r"tocsin (\S+) \(commit ([0-9a-f]{4,40}|unknown)\)\n", out.stdout)
    assert m, out.stdout
    assert m.group(1) == project_version(), (m.group(1), project_version())
    git = shutil.which("git")
    if m.group(2) != "unknown" and git:
        check = subprocess.run([git, "-C", ROOT, "cat-file", "-e", m.group(2) + "^{commit}"],
                               capture_output=True)
        assert check.returncode == 0, "commit %s is not in %s" % (m.group(2), ROOT)


def test_version_outside_git():
    """cmake/version.cmake says "unknown" for a tree that is not a git
    checkout of its own (a tarball, even one unpacked inside another
    checkout), and the short HEAD in this checkout."""
    d = tempfile.mkdtemp(prefix="tocsin-version-")
    try:
        def commit_of(src):
            out = os.path.join(d, "version.h")
            r = subprocess.run(["cmake", "-DSRC=" + src, "-DOUT=" + out, "-DVERSION=9.9.9",
                                "-P", os.path.join(ROOT, "cmake", "version.cmake")],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            text = open(out).read()
            assert '#define TOCSIN_VERSION "9.9.9"' in text, text
            return re.search(r'TOCSIN_COMMIT "([^"]*)"', text).group(1)
        assert commit_of(d) == "unknown"
        if shutil.which("git") and os.path.exists(os.path.join(ROOT, ".git")):
            head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                  capture_output=True, text=True).stdout.strip()
            assert commit_of(ROOT) == head
            assert commit_of(os.path.join(ROOT, "src")) == "unknown"
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    run([test_file_sets_values, test_flags_override_file, test_bad_input, test_missing_file,
         test_world_readable_secret, test_check_config, test_readme_example,
         test_help_mentions_config, test_version,
         test_version_outside_git])
