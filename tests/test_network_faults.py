"""esfs behind a network that misbehaves: a TCP proxy (tests/faultproxy.py) between esfs and
a real engine delays, resets, truncates, garbles, refuses (429, 503) or trickles the answers
to one operation of each kind. Every operation ends within its timeout with the errno of
README's table and a line in /_esfs/errors; a busy read is asked again within its timeout;
a write reaches the engine at most once, and the tree afterwards says what the engine did.

Mounted with timeout=2 and write_timeout=2, so a fault that holds an answer costs 2 s."""
import errno
import json
import os
import time

import pytest

from esfs_harness import quote, snapshot_names, wait_until
from faultproxy import FaultProxy
from test_tree import LATEST, REPO_FILES

TIMEOUT = 2.0
SLACK = 1.5     # process start, the kernel's round trips, a loaded machine
OPTIONS = (f"timeout={TIMEOUT:g}", f"write_timeout={TIMEOUT:g}", "connect_timeout=1", "cache_ttl=0")


@pytest.fixture
def proxy(engine):
    p = FaultProxy(engine.port).start()
    yield p
    p.stop()


@pytest.fixture
def setup(engine, repo, mount, proxy):
    """A repository with one snapshot, mounted through the proxy."""
    engine.snapshot(repo, "one", {"indices": "-*", "include_global_state": False})
    m = mount(*OPTIONS, urls=proxy.url)
    assert "one" in os.listdir(m.p(repo))
    return m


# ---------------------------------------------------------------- the operations

def do_listing(m, repo):
    return os.listdir(m.p(repo))


def do_detail(m, repo):
    return m.json(repo, "one", "status.json")


def do_mkdir(m, repo):
    os.mkdir(m.p(repo, "two"))


def do_rmdir(m, repo):
    os.rmdir(m.p(repo, "one"))


def new_settings(engine, repo):
    settings = engine.ok("GET", f"/_snapshot/{quote(repo)}")[repo]["settings"]
    return {"type": "fs", "settings": {**settings, "max_snapshot_bytes_per_sec": "7mb"}}


def do_settings(m, repo, engine):
    with open(m.p(repo, "_settings.json"), "w") as f:
        f.write(json.dumps(new_settings(engine, repo)))


class Op:
    def __init__(self, name, method, path, run, write):
        self.name, self.method, self.path, self.run, self.write = name, method, path, run, write

    def target(self, repo):
        """The request of this operation the fault is for."""
        return self.path.format(repo=quote(repo))

    def __call__(self, m, repo, engine):
        return self.run(m, repo, engine) if self.name == "settings" else self.run(m, repo)


LISTING = Op("listing", "GET", "/_snapshot/{repo}/_all", do_listing, False)
DETAIL = Op("detail", "GET", "/_snapshot/{repo}/one/_status", do_detail, False)
MKDIR = Op("mkdir", "PUT", "/_snapshot/{repo}/two", do_mkdir, True)
RMDIR = Op("rmdir", "DELETE", "/_snapshot/{repo}/one", do_rmdir, True)
SETTINGS = Op("settings", "PUT", "/_snapshot/{repo}", do_settings, True)
READS = [LISTING, DETAIL]
WRITES = [MKDIR, RMDIR, SETTINGS]


def run_timed(op, m, repo, engine):
    """(the OSError the operation raised or None, seconds it took)."""
    start = time.monotonic()
    try:
        op(m, repo, engine)
        return None, time.monotonic() - start
    except OSError as e:
        return e, time.monotonic() - start


def tree_agrees_with_api(m, engine, repo):
    listed = sorted(n for n in os.listdir(m.p(repo)) if n not in REPO_FILES + [LATEST])
    api = engine.ok("GET", f"/_snapshot/{quote(repo)}")[repo]["settings"]
    shown = m.json(repo, "_settings.json")["settings"]
    return listed == snapshot_names(engine, repo) and \
        shown.get("max_snapshot_bytes_per_sec") == api.get("max_snapshot_bytes_per_sec")


def still_answers(m, repo):
    """The same mount answers again (after the one second a node that timed out rests)."""
    assert wait_until(lambda: m.read("_cluster", "health") and os.listdir(m.p(repo)), limit=5)


# ---------------------------------------------------------------- faults that fail the operation

# (fault, its parameters, the errno the shell sees)
FAILING = [
    ("delay", {"seconds": TIMEOUT + 2}, errno.ETIMEDOUT),
    ("trickle", {"interval": 0.5}, errno.ETIMEDOUT),
    ("reset_mid", {}, errno.ECONNRESET),
    ("truncate", {}, errno.EPROTO),
    ("garbage", {}, errno.EPROTO),
]


def failing_cases():
    # A trickle ends at the same total timeout as a delay (libcurl's, not a low-speed limit):
    # one read and one write show it, and save 2 s a case.
    cases = [pytest.param(kind, params, err, op, id=f"{kind}-{op.name}")
             for kind, params, err in FAILING for op in READS + WRITES
             if kind != "trickle" or op in (LISTING, MKDIR)]
    # A write's answer body is not read: a 2xx says it was done.
    return cases + [pytest.param("garbage_body", {}, errno.EPROTO, op, id=f"garbage_body-{op.name}")
                    for op in READS]


@pytest.mark.parametrize("kind,params,err,op", failing_cases())
def test_a_broken_answer_fails_the_operation_in_time(engine, repo, setup, proxy, kind, params, err, op):
    m = setup
    target = op.target(repo)
    sent_before = proxy.sent(op.method, target)
    # Twice: the kernel looks a name up again when a lookup failed, and the second meets it too.
    proxy.fault(kind, count=1 if op.write else 2, method=op.method, path=target, **params)
    e, elapsed = run_timed(op, m, repo, engine)
    proxy.clear()
    assert e is not None, f"{kind} on {op.name} succeeded"
    assert e.errno == err, f"{kind} on {op.name}: {os.strerror(e.errno)}"
    assert elapsed <= TIMEOUT + SLACK, f"{kind} on {op.name} took {elapsed:.1f} s"
    assert f"\t{errno.errorcode[err]}\t" in m.errors()[-1]
    if op.write:
        assert proxy.sent(op.method, target) - sent_before == 1, "the write was sent once"
        # The engine got it; esfs does not know what came of it, the tree shows it.
        assert wait_until(lambda: tree_agrees_with_api(m, engine, repo), limit=5)
    still_answers(m, repo)


# ---------------------------------------------------------------- 429 and 503

@pytest.mark.parametrize("code,retry_after", [(429, 1), (503, None)], ids=["429-retry_after", "503"])
@pytest.mark.parametrize("op", READS, ids=lambda op: op.name)
def test_a_busy_read_is_asked_again_within_its_timeout(engine, repo, setup, proxy, code, retry_after, op):
    m = setup
    retries = m.stats()["retries"]
    errors = m.errors()
    proxy.fault("status", count=2 if retry_after is None else 1, method=op.method,
                path=op.target(repo), code=code, retry_after=retry_after)
    e, elapsed = run_timed(op, m, repo, engine)
    assert e is None, f"{code} on {op.name}: {e}"
    assert proxy.pending() == 0
    assert m.stats()["retries"] - retries == (2 if retry_after is None else 1)
    assert elapsed <= TIMEOUT + SLACK
    if retry_after:
        assert elapsed >= retry_after, "Retry-After was honoured"
    assert m.errors() == errors


@pytest.mark.parametrize("op", READS, ids=lambda op: op.name)
def test_a_read_busy_for_good_gives_eagain_within_its_timeout(engine, repo, setup, proxy, op):
    m = setup
    retries = m.stats()["retries"]
    proxy.fault("status", count=100, method=op.method, path=op.target(repo), code=503)
    e, elapsed = run_timed(op, m, repo, engine)
    proxy.clear()
    assert e is not None and e.errno == errno.EAGAIN
    assert elapsed <= TIMEOUT + SLACK
    # 3 retries at most per request (one request, or two when the kernel looks up again).
    assert 1 <= m.stats()["retries"] - retries <= 6
    assert 2 <= len(proxy.refused) <= 8
    assert "\tEAGAIN\t" in m.errors()[-1]
    still_answers(m, repo)


@pytest.mark.parametrize("code,forward", [(429, False), (503, True)],
                         ids=["429-never_reached", "503-answer_lost"])
@pytest.mark.parametrize("op", WRITES, ids=lambda op: op.name)
def test_a_busy_answer_to_a_write_is_eagain_and_never_sent_again(engine, repo, setup, proxy,
                                                                 op, code, forward):
    """A 429 or 503 on a write is not sent again: a 429 says the engine refused it (here the
    proxy answers it, the request never reaching the engine); a 503 from a proxy may come
    after the engine did it (here the proxy replaces the engine's answer)."""
    m = setup
    target = op.target(repo)
    before = proxy.sent(op.method, target)
    proxy.fault("status", count=5, method=op.method, path=target, code=code, retry_after=0,
                forward=forward)
    e, elapsed = run_timed(op, m, repo, engine)
    proxy.clear()
    assert e is not None and e.errno == errno.EAGAIN
    assert elapsed <= TIMEOUT + SLACK
    assert proxy.sent(op.method, target) - before == (1 if forward else 0)
    assert len(proxy.refused) == (0 if forward else 1), "asked once, not again"
    assert m.stats()["retries"] == 0
    assert "\tEAGAIN\t" in m.errors()[-1]
    if not forward:  # nothing changed
        assert "one" in snapshot_names(engine, repo) and "two" not in snapshot_names(engine, repo)
    assert wait_until(lambda: tree_agrees_with_api(m, engine, repo), limit=5)
    still_answers(m, repo)
