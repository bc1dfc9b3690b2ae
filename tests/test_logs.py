"""The log: -o log_level= picks what is said, -o logfile= where (reopened on SIGHUP, as
logrotate needs), and no secret is ever in it, at any level."""
import base64
import os
import re
import shlex
import signal
import subprocess

import pytest

from esfs_harness import sh, wait_until
from faultproxy import FaultProxy

# A request line, as esfs logs one: "GET /_snapshot -> 200 (2 bytes)".
REQUEST_LINE = re.compile(r"\b(GET|HEAD|PUT|POST|DELETE) /\S* -> ")


def read(path):
    with open(path) as f:
        return f.read()


def snapshot_with_index(engine, repo, unique):
    """A snapshot of one index that is still open: restoring it is refused by the engine."""
    index = engine.make_index(unique("idx"))
    snap = unique("snap")
    engine.snapshot(repo, snap, {"indices": index})
    return snap, index


def workload(m, repo, snap, index, unique):
    """Listing, reads, a snapshot taken with mkdir, a bad write and an error from the engine."""
    os.listdir(m.p(repo))
    m.read(repo, snap, "info.json")
    m.read("_cluster", "health")
    os.mkdir(m.p(repo, unique("made")))
    assert sh(f"echo 'not json' > {shlex.quote(m.p(repo, snap, 'restore.json'))}").returncode != 0
    # The engine refuses: an open index of that name exists.
    body = '{"indices": "%s"}' % index
    assert sh(f"echo {shlex.quote(body)} > {shlex.quote(m.p(repo, snap, 'restore.json'))}").returncode != 0


def test_log_level_error_logs_no_request_lines_and_debug_does(engine, repo, mount, unique, tmp_path):
    snap, index = snapshot_with_index(engine, repo, unique)
    logs = {}
    for level in ("error", "info", "debug"):
        logs[level] = str(tmp_path / f"{level}.log")
        m = mount("cache_ttl=0", f"log_level={level}", f"logfile={logs[level]}")
        workload(m, repo, snap, index, unique)
        m.stop()
    error, info, debug = (read(logs[k]) for k in ("error", "info", "debug"))
    # Every level says the failures, each line with its time, pid and level.
    for text in (error, info, debug):
        assert re.search(r"^\S+Z esfs\[\d+\] error: write /\S+/restore.json: EINVAL", text, re.M), text
    assert not REQUEST_LINE.search(error) and not REQUEST_LINE.search(info)
    assert " info: " not in error and " debug: " not in info
    methods = {m.group(1) for m in REQUEST_LINE.finditer(debug)}
    assert {"GET", "PUT", "POST"} <= methods, debug


def test_default_is_info_and_d_is_debug(engine, repo, mount):
    quiet = mount("cache_ttl=0")
    os.listdir(quiet.p(repo))
    loud = mount("cache_ttl=0", "debug")   # -o debug is -d
    os.listdir(loud.p(repo))
    assert " at http://" in quiet.output()  # the engine found, an info line
    assert not REQUEST_LINE.search(quiet.output())
    assert REQUEST_LINE.search(loud.output())


def test_logfile_is_reopened_on_sighup_after_logrotate_renamed_it(engine, repo, mount, tmp_path):
    log = tmp_path / "esfs.log"
    m = mount("cache_ttl=0", "log_level=debug", f"logfile={log}")
    os.listdir(m.p(repo))
    assert f"GET /_snapshot/{repo}" in read(log)
    os.rename(log, tmp_path / "esfs.log.1")
    os.listdir(m.p(repo))   # before the signal: still the renamed file
    m.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "cache flushed (SIGHUP)" in read(log), limit=10)
    os.listdir(m.p(repo))
    assert f"GET /_snapshot/{repo}" in read(log)
    old = read(tmp_path / "esfs.log.1")
    assert old.count(f"GET /_snapshot/{repo}/") >= 2 and "SIGHUP" not in old  # both listings
    # SIGHUP did not unmount: libfuse's own handler would have ended the session.
    assert os.path.ismount(m.path) and m.proc.poll() is None
    assert os.listdir(m.p(repo))


def test_a_daemon_logs_to_its_file_and_survives_sighup(engine, repo, esfs_bin, tmp_path):
    """In the background (no -f) esfs forks after mounting: its SIGHUP thread must live in the
    daemon, not in the parent that exited."""
    log, mnt = tmp_path / "daemon.log", tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run([esfs_bin, "-o", f"cache_ttl=0,log_level=debug,logfile={log}", engine.url, str(mnt)],
                          capture_output=True, text=True, timeout=30)
    try:
        assert proc.returncode == 0, proc.stderr
        assert wait_until(lambda: os.path.ismount(mnt), limit=10)
        assert repo in os.listdir(mnt)
        # The daemon's pid: that of the line of the listing just made.
        pids = re.findall(r"esfs\[(\d+)\] debug: GET /_snapshot", read(log))
        assert pids, read(log)
        os.kill(int(pids[-1]), signal.SIGHUP)
        assert wait_until(lambda: "cache flushed (SIGHUP)" in read(log), limit=10)
        assert os.path.ismount(mnt) and repo in os.listdir(mnt)
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)


def test_no_secret_in_the_debug_log(engine, repo, mount, unique, tmp_path):
    """Basic auth from a credentials file; the engine (security off) ignores it, esfs sends it
    on every request all the same. Neither the password nor the Authorization header's value
    is in the debug log or in libfuse's debug output."""
    password = "pw-" + unique("secret")
    credentials = tmp_path / "credentials"
    credentials.write_text(f"user=esfs-reader\npassword={password}\n")
    credentials.chmod(0o600)
    log = tmp_path / "esfs.log"
    snap, index = snapshot_with_index(engine, repo, unique)
    proxy = FaultProxy(engine.port).start()
    try:
        m = mount("debug", "cache_ttl=0", f"credentials={credentials}", f"logfile={log}", urls=proxy.url)
        workload(m, repo, snap, index, unique)
    finally:
        proxy.stop()
    header = base64.b64encode(f"esfs-reader:{password}".encode()).decode()
    # The secret was in play: every request carried it.
    assert {r[2].get("authorization") for r in proxy.requests} == {"Basic " + header}
    everything = read(log) + m.output() + m.read("_esfs", "errors") + m.read("_esfs", "metrics")
    assert REQUEST_LINE.search(read(log)), "the debug log has the request lines"
    assert password not in everything and header not in everything
