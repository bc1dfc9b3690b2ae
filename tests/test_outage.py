"""A dead or hung cluster gives an error within the configured timeout, never a hung shell,
and the same mount works again once the engine is back."""
import errno
import os
import signal
import subprocess
import time

import pytest

from test_tree import REPO_FILES


def timed_ls(path, limit):
    start = time.monotonic()
    proc = subprocess.run(["ls", path], capture_output=True, text=True, timeout=limit)
    return proc, time.monotonic() - start


def wait_until_gone(pid, limit=30):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} still alive")


def test_hung_engine_times_out(engine, repo, mount):
    m = mount("timeout=2", "connect_timeout=1", "cache_ttl=0")
    assert os.listdir(m.p(repo)) == REPO_FILES
    pid = engine.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        proc, elapsed = timed_ls(m.p(repo), limit=20)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert proc.returncode != 0
    assert "timed out" in proc.stderr.lower()
    assert elapsed < 2 + 1.5, f"ls took {elapsed:.1f}s with timeout=2"
    assert "ETIMEDOUT" in m.errors()[-1]
    assert m.stats()["timeouts"] >= 1
    # The engine answers again: once esfs's one-second rest for the node is over, the same mount works.
    time.sleep(1.1)
    assert os.listdir(m.p(repo)) == REPO_FILES


def test_ctrl_c_abandons_a_request_to_a_hung_engine(engine, repo, mount):
    """The kernel waits for esfs's answer even after Ctrl-C: esfs must abandon the request
    then, not after its 30 s timeout."""
    m = mount("timeout=30", "cache_ttl=0")
    assert m.read("_cluster", "health")
    pid = engine.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        proc = subprocess.Popen(["cat", m.p("_cluster", "health")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        time.sleep(1.5)
        assert proc.poll() is None, "the request waits for the hung engine"
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        elapsed = time.monotonic() - start
        proc.stdout.close()
        proc.stderr.close()
    finally:
        os.kill(pid, signal.SIGCONT)
    assert elapsed < 1.5, f"cat took {elapsed:.1f}s to end after Ctrl-C"
    assert m.read("_cluster", "health") in ("green\n", "yellow\n")


def test_killed_engine_fails_fast_and_mount_recovers(engine, repo, mount):
    m = mount("timeout=3", "connect_timeout=1", "cache_ttl=0")
    assert os.listdir(m.p(repo)) == REPO_FILES
    pid = engine.pid()
    os.kill(pid, signal.SIGKILL)
    wait_until_gone(pid)
    try:
        proc, elapsed = timed_ls(m.p(repo), limit=20)
        assert proc.returncode != 0
        assert elapsed < 3 + 1.5
        with pytest.raises(OSError) as e:
            os.stat(m.p(repo))
        assert e.value.errno == errno.ECONNREFUSED
        assert "ECONNREFUSED" in m.errors()[-1]
    finally:
        engine.start()
    # Same mount, no remount: the engine's data is where it was.
    assert os.listdir(m.p(repo)) == REPO_FILES
    assert m.read("_cluster", "health").strip() in ("green", "yellow")
