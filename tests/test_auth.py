"""Credentials and TLS against a real secured engine.

The engine is scripts/engine.sh's elasticsearch-secure kind: Elasticsearch
with x-pack security, HTTPS with its own CA (<instance>/ca.pem), and the
file-realm users esfs-admin (superuser) and esfs-reader (monitor and
monitor_snapshot only), whose passwords and an API key of esfs-admin are in
<instance>/users.env. Nothing here imitates the engine: every refusal is the
engine's own 401 or 403.

ESFS_SECURE_PORT picks its HTTP port (default 9231).
"""
import base64
import errno
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from esfs_harness import Engine, Mount, quote

SECURE_PORT = int(os.environ.get("ESFS_SECURE_PORT", "9231"))


class SecureEngine(Engine):
    """Engine over https, verified with the instance's CA, as esfs-admin."""

    def start(self):
        super().start()
        self.url = self.script("url").stdout.strip()
        inst = self.script("dir").stdout.strip()
        self.cacert = os.path.join(inst, "ca.pem")
        with open(os.path.join(inst, "users.env")) as f:
            self.users = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        self.auth = "Basic " + base64.b64encode(
            f"esfs-admin:{self.users['ESFS_ADMIN_PASSWORD']}".encode()).decode()
        return self

    def api(self, method, path, body=None, timeout=60):
        data = None
        headers = {"Accept": "application/json", "Authorization": self.auth}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        ctx = ssl.create_default_context(cafile=self.cacert)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")


@pytest.fixture(scope="module")
def secure():
    engine = SecureEngine("elasticsearch-secure", SECURE_PORT).start()
    yield engine
    if not os.environ.get("ESFS_KEEP_ENGINES"):
        engine.stop()


@pytest.fixture
def secure_repo(secure, unique):
    name = secure.make_repo(unique("auth"))
    yield name
    secure.delete_repo(name)


def clean_env(**env):
    """The test runner's environment without any ESFS_ credentials, plus env."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("ESFS_USER", "ESFS_PASSWORD", "ESFS_API_KEY")}
    base.update(env)
    return base


@pytest.fixture
def smount(secure, esfs_bin):
    """mount(options..., env=...) on the secure engine; unmounted after the test."""
    mounts = []

    def make(*options, env=None, urls=None):
        m = Mount(urls or secure.url, options, binary=esfs_bin)
        m.env = dict(clean_env(**(env or {})), ASAN_OPTIONS=m.env["ASAN_OPTIONS"],
                     UBSAN_OPTIONS=m.env["UBSAN_OPTIONS"])
        m.start()
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        assert m.stop() == 0, m.output()


def admin_env(secure):
    return {"ESFS_USER": "esfs-admin", "ESFS_PASSWORD": secure.users["ESFS_ADMIN_PASSWORD"]}


def refused_start(esfs_bin, url, *options, env=None):
    """Runs esfs expecting it to refuse to start; returns (exit status, output)."""
    mnt = tempfile.mkdtemp(prefix="esfs-mnt-")
    argv = [esfs_bin, "-f"]
    for o in options:
        argv += ["-o", o]
    proc = subprocess.Popen(argv + [url, mnt], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=clean_env(**(env or {})))
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
        out, _ = proc.communicate(timeout=30)
        pytest.fail(f"esfs started although it should have refused: {out}")
    finally:
        if os.path.ismount(mnt):
            subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
        os.rmdir(mnt)
    return proc.returncode, out


def shows(secret, text):
    """Whether secret is in text (str or bytes); a bool, so that pytest never prints the secret."""
    return (secret.encode() if isinstance(text, bytes) else secret) in text


def proc_file(pid, name):
    with open(f"/proc/{pid}/{name}", "rb") as f:
        return f.read()


def health(secure):
    return secure.ok("GET", "/_cluster/health")["status"]


# ---------------------------------------------------------------- basic auth

def test_admin_password_lists_and_reads_health(secure, secure_repo, smount):
    m = smount("cacert=" + secure.cacert, env=admin_env(secure))
    assert secure_repo in os.listdir(m.path)
    assert m.read("_cluster", "health") == health(secure) + "\n"
    assert m.json(secure_repo, "_settings.json")["type"] == "fs"


def test_wrong_password_is_eacces_and_never_shown(secure, secure_repo, smount, unique):
    wrong = "Wr0ng-" + unique("pw")
    m = smount("cacert=" + secure.cacert, "debug",
               env={"ESFS_USER": "esfs-admin", "ESFS_PASSWORD": wrong})
    with pytest.raises(PermissionError):
        os.listdir(m.path)
    last = m.errors()[-1]
    assert "\tEACCES\t" in last, last
    assert "security_exception" in last, last
    assert "unable to authenticate user [esfs-admin]" in last, last
    assert not shows(wrong, m.read("_esfs", "errors"))
    assert not shows(wrong, m.output()), "the password is in esfs's log"
    assert not shows(wrong, proc_file(m.proc.pid, "cmdline"))


def test_secrets_are_not_left_in_proc_environ(secure, secure_repo, smount):
    """esfs unsets ESFS_PASSWORD and ESFS_API_KEY; their text must go from the
    process's environment block too, which /proc/<pid>/environ and `ps e` show."""
    left = []
    for name, env, secret in (
            ("ESFS_PASSWORD", admin_env(secure), secure.users["ESFS_ADMIN_PASSWORD"]),
            ("ESFS_API_KEY", {"ESFS_API_KEY": secure.users["ESFS_ADMIN_API_KEY"]},
             secure.users["ESFS_ADMIN_API_KEY"])):
        m = smount("cacert=" + secure.cacert, env=env)
        assert secure_repo in os.listdir(m.path)
        if shows(secret, proc_file(m.proc.pid, "environ")):
            left.append(name)
    assert not left, f"still in /proc/<esfs pid>/environ after esfs read them: {left}"


# ---------------------------------------------------------------- credentials file

def test_credentials_file_0600(secure, secure_repo, smount, tmp_path):
    path = tmp_path / "creds"
    path.write_text(f"user=esfs-admin\npassword={secure.users['ESFS_ADMIN_PASSWORD']}\n")
    path.chmod(0o600)
    m = smount("cacert=" + secure.cacert, f"credentials={path}")
    assert secure_repo in os.listdir(m.path)
    assert m.read("_cluster", "health") == health(secure) + "\n"
    assert not shows(secure.users["ESFS_ADMIN_PASSWORD"], proc_file(m.proc.pid, "cmdline"))


def test_credentials_file_readable_by_others_is_refused(secure, esfs_bin, tmp_path):
    path = tmp_path / "creds"
    path.write_text(f"user=esfs-admin\npassword={secure.users['ESFS_ADMIN_PASSWORD']}\n")
    path.chmod(0o644)
    rc, out = refused_start(esfs_bin, secure.url, "cacert=" + secure.cacert, f"credentials={path}")
    assert not shows(secure.users["ESFS_ADMIN_PASSWORD"], out)
    assert rc != 0, out
    assert "chmod 600" in out, out


# ---------------------------------------------------------------- API key

def test_api_key(secure, secure_repo, smount):
    key = secure.users["ESFS_ADMIN_API_KEY"]
    m = smount("cacert=" + secure.cacert, env={"ESFS_API_KEY": key})
    assert secure_repo in os.listdir(m.path)
    assert m.read("_cluster", "health") == health(secure) + "\n"
    assert not shows(key, m.output())


# ---------------------------------------------------------------- a user that may only look

def test_reader_lists_but_cannot_take_a_snapshot(secure, secure_repo, smount, unique):
    secure.snapshot(secure_repo, "by-admin")
    m = smount("cacert=" + secure.cacert,
               env={"ESFS_USER": "esfs-reader", "ESFS_PASSWORD": secure.users["ESFS_READER_PASSWORD"]})
    assert secure_repo in os.listdir(m.path)
    assert "by-admin" in os.listdir(m.p(secure_repo))
    assert m.read(secure_repo, "by-admin", "state") == "SUCCESS\n"
    name = unique("by-reader")
    with pytest.raises(PermissionError) as e:
        os.mkdir(m.p(secure_repo, name))
    assert e.value.errno == errno.EACCES
    last = m.errors()[-1]
    assert "\tEACCES\t" in last and "security_exception" in last, last
    assert "cluster:admin/snapshot/create" in last, last
    time.sleep(1)
    names = [s["snapshot"] for s in
             secure.ok("GET", f"/_snapshot/{quote(secure_repo)}/_all")["snapshots"]]
    assert names == ["by-admin"]


# ---------------------------------------------------------------- TLS

def test_untrusted_ca_is_eproto(secure, secure_repo, smount):
    m = smount(env=admin_env(secure))
    with pytest.raises(OSError) as e:
        os.listdir(m.path)
    assert e.value.errno == errno.EPROTO, e.value
    assert e.value.strerror == "Protocol error"
    assert "\tEPROTO\t" in m.errors()[-1]


def test_insecure_skips_verification(secure, secure_repo, smount):
    m = smount("insecure", env=admin_env(secure))
    assert secure_repo in os.listdir(m.path)
    assert m.read("_cluster", "health") == health(secure) + "\n"


def test_localhost_name_verifies_too(secure, secure_repo, smount):
    m = smount("cacert=" + secure.cacert, env=admin_env(secure),
               urls=secure.url.replace("127.0.0.1", "localhost"))
    assert secure_repo in os.listdir(m.path)


def test_relative_cacert_works_once_esfs_runs_in_the_background(secure, secure_repo, esfs_bin,
                                                                tmp_path):
    """In the background esfs's working directory is /: a relative cacert= is made absolute
    when the options are read, so that every request after the start verifies too."""
    shutil.copy(secure.cacert, tmp_path / "ca.pem")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = clean_env(**admin_env(secure))
    # Never the real default state folder (/var/lib/esfs for root).
    proc = subprocess.run([esfs_bin, "-o", "cacert=ca.pem", "-o", f"state_dir={tmp_path / 'state'}",
                           secure.url, str(mnt)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    try:
        assert secure_repo in os.listdir(mnt)
        assert (mnt / "_cluster" / "health").read_text() == health(secure) + "\n"
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)


# ---------------------------------------------------------------- URL

def test_url_with_credentials_is_refused(secure, esfs_bin):
    pw = secure.users["ESFS_ADMIN_PASSWORD"]
    url = secure.url.replace("https://", f"https://esfs-admin:{pw}@")
    rc, out = refused_start(esfs_bin, url, "cacert=" + secure.cacert)
    assert not shows(pw, out), "esfs repeated the URL with its password"
    assert rc != 0, out
    assert "credentials do not belong in the URL" in out, out
