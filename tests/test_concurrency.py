"""Many writers on one mount at once (tests/workload.py): eight threads, 100 operations each,
mkdir, rmdir, restores and settings writes meeting in two shared repositories. Afterwards
the tree is the API: the snapshots, their states and indices, the repositories' settings,
the restored indices. No snapshot is lost or taken twice, no write is sent twice, and every
failure is one the engine explains.

And the guard that makes this hold on OpenSearch 2 (client/repoguard.c): a repository change
while a snapshot operation of the mount runs in that repository, or the other way round,
would leave the operation retried by the engine forever; esfs refuses it with EBUSY.
"""
import errno
import json
import os
import threading
import time

import pytest

import workload
from esfs_harness import quote, snapshot_names
from faultproxy import FaultProxy

CACHE_TTL = 2


def repositories(engine, unique, count=2):
    """count repositories, each with a one-shard source index its snapshots take."""
    repos, sources = [], []
    for i in range(count):
        repo = engine.make_repo(unique("conc"))
        source = f"src-{i}"
        engine.ok("PUT", f"/{source}", {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
        engine.make_index(source, docs=3)
        repos.append(repo)
        sources.append(source)
    return repos, sources


def set_defaults(m, repos, sources):
    for repo, source in zip(repos, sources):
        with open(m.p(repo, "_defaults.json"), "w") as f:
            json.dump({"indices": source, "include_global_state": False}, f)


def test_eight_writers_end_with_the_tree_equal_to_the_api(engine, mount, unique):
    repos, sources = repositories(engine, unique)
    m = mount(f"cache_ttl={CACHE_TTL}")
    set_defaults(m, repos, sources)
    before = m.stats()
    w = workload.Workload(m, engine, repos, sources, threads=8).run(ops=100)
    sent = {k: v - before[k] for k, v in m.stats().items()}
    attempts = dict(w.done)
    for f in w.failures:
        attempts[f.op] = attempts.get(f.op, 0) + 1
    summary = workload.failure_summary(w, m.output())

    # Each kind of write was done, many times, by threads at once. (A settings write under
    # way refuses the snapshot operations of its repository on OpenSearch 2: fewer succeed.)
    assert sum(attempts.values()) == 800
    assert w.done[workload.MKDIR] >= 40 and w.done[workload.RMDIR] >= 20, summary
    assert w.done[workload.RESTORE] >= 5 and w.done[workload.SETTINGS] >= 5, summary

    assert workload.explain(w, m.output()) == [], summary
    assert workload.settled(engine), "a snapshot or restore still runs two minutes after the writers"
    time.sleep(CACHE_TTL + 0.5)
    assert workload.tree_differences(m, engine, repos) == []

    # Every mkdir that succeeded took one snapshot, every rmdir deleted one, nothing else.
    api = {(repo, name) for repo in repos for name in snapshot_names(engine, repo)}
    assert api == w.taken - w.deleted
    # No write was sent twice: at most one request for each attempt.
    assert sent["requests_put"] <= attempts.get(workload.MKDIR, 0) + attempts.get(workload.SETTINGS, 0)
    assert sent["requests_delete"] <= attempts.get(workload.RMDIR, 0)
    assert sent["requests_post"] <= attempts.get(workload.RESTORE, 0)


# ---------------------------------------------------------------- the guard

@pytest.fixture
def proxy(engine):
    p = FaultProxy(engine.port).start()
    yield p
    p.stop()


def guarded(engine):
    """Whether esfs keeps this engine's repository changes and snapshot operations apart."""
    status, root = engine.api("GET", "/")
    major = int(root["version"]["number"].split(".")[0]) if status == 200 else None
    return engine.distribution == "opensearch" and major is not None and major < 3


def settings_write(m, repo):
    """A write of the repository's settings, opened now and written when called.

    Opened first because mkdir holds the repository folder's lock in the kernel, and the
    lookup of a name in it waits for that: a file opened before (or a name the kernel still
    caches) is how two programs meet in esfs."""
    with open(m.p(repo, "_settings.json")) as f:
        current = json.load(f)
    body = json.dumps({"type": current["type"],
                       "settings": dict(current["settings"], max_restore_bytes_per_sec="42mb")})
    f = open(m.p(repo, "_settings.json"), "w")

    def write():
        try:
            f.write(body)
        finally:
            f.close()
    return write


def snapshot_mkdir(m, repo):
    return lambda: os.mkdir(m.p(repo, "held"))


# (what is held under way, what comes while it is, the request of each)
CASES = {
    "settings-during-mkdir": (snapshot_mkdir, settings_write, "/_snapshot/{}/held", "/_snapshot/{}"),
    "mkdir-during-settings": (settings_write, snapshot_mkdir, "/_snapshot/{}", "/_snapshot/{}/held"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_repository_change_and_a_snapshot_operation_never_overlap(engine, mount, unique, proxy,
                                                                    case):
    make_held, make_coming, held_path, coming_path = CASES[case]
    repos, sources = repositories(engine, unique, count=1)
    repo = repos[0]
    m = mount("cache_ttl=0", urls=proxy.url)
    set_defaults(m, repos, sources)
    first_method, first_path = "PUT", held_path.format(quote(repo))
    method, path = "PUT", coming_path.format(quote(repo))
    held, coming = make_held(m, repo), make_coming(m, repo)
    proxy.fault("delay", method=first_method, path=first_path, seconds=3)
    outcome = {}

    def hold():
        try:
            held()
            outcome["held"] = None
        except OSError as e:
            outcome["held"] = e.errno

    t = threading.Thread(target=hold)
    t.start()
    deadline = time.time() + 2
    while proxy.sent(first_method, first_path) == 0 and time.time() < deadline:
        time.sleep(0.02)
    assert proxy.sent(first_method, first_path) == 1, "the first request is under way"
    sent_before = proxy.sent(method, path)
    try:
        coming()
        err = None
    except OSError as e:
        err = e.errno
    t.join()
    assert outcome["held"] is None, "what was under way succeeded"

    if guarded(engine):
        assert err == errno.EBUSY
        assert proxy.sent(method, path) == sent_before, "the refused request was never sent"
        line = [e for e in m.errors() if "repository_in_use" in e]
        assert len(line) == 1 and repo in line[0], m.errors()
        # Once nothing is under way, the same write goes through.
        make_coming(m, repo)()
    else:
        assert proxy.sent(method, path) == sent_before + 1, "the engine decides, not esfs"
    assert "held" in snapshot_names(engine, repo)


# ---------------------------------------------------------------- a reader meets a writer

def test_a_file_open_while_its_snapshot_is_deleted_still_reads(engine, repo, mount):
    """A reader holds a snapshot's file while another program deletes the snapshot. Its read
    to the end makes the kernel ask for the file's size with the open file and no name, and
    libfuse gives esfs no path for it: the soak found esfs crashing there."""
    engine.snapshot(repo, "gone", {"indices": "-*", "include_global_state": False})
    m = mount("cache_ttl=0")
    with open(m.p(repo, "gone", "state")) as f:
        os.rmdir(m.p(repo, "gone"))
        assert f.read() == "SUCCESS\n"
        assert f.read() == ""
    assert "gone" not in os.listdir(m.p(repo))
    assert "gone" not in snapshot_names(engine, repo)
