"""Dropping esfs's cache at once: a write of 1 to /_esfs/flush, or SIGHUP. With a long
cache_ttl, a change made behind esfs's back (through the REST API) shows at once after a
flush, and not before; reading the flush file (as a crawler does) flushes nothing."""
import errno
import os
import shlex
import signal
import stat

from esfs_harness import sh, wait_until


def flush(m):
    return sh(f"echo 1 > {shlex.quote(m.p('_esfs', 'flush'))}")


def flushes(m):
    line = [l for l in m.read("_esfs", "metrics").splitlines() if l.startswith("esfs_cache_flushes_total ")]
    return int(line[0].split()[1])


def test_a_flush_shows_a_snapshot_taken_behind_esfs(engine, repo, mount, unique):
    first, second, third = unique("a"), unique("b"), unique("c")
    engine.snapshot(repo, first)
    m = mount("cache_ttl=3600")
    assert first in os.listdir(m.p(repo))
    engine.snapshot(repo, second)
    assert second not in os.listdir(m.p(repo)), "the listing is kept for cache_ttl"
    proc = flush(m)
    assert proc.returncode == 0, proc.stderr
    assert second in os.listdir(m.p(repo))
    # SIGHUP does the same (in a thread of its own: soon after the signal) and does not unmount.
    engine.snapshot(repo, third)
    assert third not in os.listdir(m.p(repo))
    m.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: third in os.listdir(m.p(repo)), limit=10)
    assert os.path.ismount(m.path) and m.proc.poll() is None
    assert flushes(m) == 2
    assert "cache flushed (/_esfs/flush)" in m.output() and "cache flushed (SIGHUP)" in m.output()


def test_a_flush_reaches_what_the_kernel_keeps(engine, repo, mount, unique):
    """The kernel keeps attributes for attr_timeout (cache_ttl here): after a flush, a
    snapshot deleted behind esfs's back is gone for stat too, not an hour later."""
    snap = unique("gone")
    engine.snapshot(repo, snap)
    m = mount("cache_ttl=3600")
    state = m.p(repo, snap, "state")
    assert os.stat(state).st_size == len("SUCCESS\n")
    engine.ok("DELETE", f"/_snapshot/{repo}/{snap}")
    assert os.stat(state).st_size == len("SUCCESS\n"), "kept by the kernel"
    assert flush(m).returncode == 0
    for path in (state, m.p(repo, snap)):
        assert not os.path.exists(path), path
    assert snap not in os.listdir(m.p(repo))


def test_reading_the_flush_file_flushes_nothing_and_bad_writes_are_refused(engine, repo, mount, unique):
    engine.snapshot(repo, unique("a"))
    m = mount("cache_ttl=3600")
    listed = sorted(os.listdir(m.p(repo)))
    later = unique("b")
    engine.snapshot(repo, later)
    path = m.p("_esfs", "flush")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o200, "write-only"
    assert "flush" in os.listdir(m.p("_esfs"))
    # What a backup crawl does: read every file.
    assert sh(f"find {shlex.quote(m.p('_esfs'))} -type f -exec cat {{}} + >/dev/null").returncode == 0
    assert m.read("_esfs", "flush") == ""
    assert flushes(m) == 0
    assert sorted(os.listdir(m.p(repo))) == listed
    # Anything but 1 is refused, said in /_esfs/errors, and drops nothing.
    sent = m.stats()["requests"]
    for text in ("2", "yes", "flush"):
        proc = sh(f"echo {text} > {shlex.quote(path)}")
        assert proc.returncode != 0 and "Invalid argument" in proc.stderr
        assert m.errors()[-1].split("\t")[1:4] == ["write", "/_esfs/flush", "EINVAL"]
    fd = os.open(path, os.O_WRONLY)
    try:
        try:
            os.write(fd, b"0")
            raise AssertionError("0 was taken")
        except OSError as e:
            assert e.errno == errno.EINVAL
    finally:
        os.close(fd)
    assert flushes(m) == 0 and m.stats()["requests"] == sent
    assert later not in os.listdir(m.p(repo))
    assert "write 1 to flush the cache" in m.output()
