"""A repository of 1,000 snapshots: what a listing and a bulk read cost, counted at the engine.

Counted twice: the requests esfs sends (/_esfs/stats) and the snapshot blobs
(snap-*.dat) the engine opens in the fs repository (tests/blobwatch.py), each
of which would be a billed GET on S3. bench/scale.py measures the same at
10,000 and 100,000, with times.
"""
import math
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from blobwatch import BlobWatch
from esfs_harness import quote

N = 1000
TTL = 2.0          # esfs's default cache_ttl
BATCH = 400        # start times asked per request, at least, for names like s-0000


@pytest.fixture
def repo_of_1000(engine):
    """Taken once per engine (8 at a time); later tests register the same folder again."""
    name = "many-1000"
    engine.make_repo(name)
    listed = engine.ok("GET", f"/_snapshot/{name}/_all?verbose=false")["snapshots"]
    have = {s["snapshot"] for s in listed}
    missing = [f"s-{i:04d}" for i in range(N) if f"s-{i:04d}" not in have]
    index = engine.make_index("tiny-1000", docs=1)    # indices go after each test
    if missing:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: engine.snapshot(name, n, {
                "indices": index, "include_global_state": False}), missing))
    for leftover in have - {f"s-{i:04d}" for i in range(N)}:   # of a test that failed
        engine.api("DELETE", f"/_snapshot/{name}/{quote(leftover)}")
    location = engine.ok("GET", f"/_snapshot/{name}")[name]["settings"]["location"]
    return name, location


def requests(m):
    return m.stats()["requests"]


def ls_l(path):
    """The snapshot folders' lines of ls -l (not _latest's, a link that names one)."""
    out = subprocess.run(["ls", "-l", path], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith("d") and " s-" in line]


def test_listing_1000_snapshots_reads_no_snapshot_blob_once_known(engine, repo_of_1000, mount):
    repo, location = repo_of_1000
    m = mount()
    with BlobWatch(location) as watch:
        before = requests(m)
        assert len(ls_l(m.p(repo))) == N
        # The repositories, the listing, and the start times in a few batches.
        assert requests(m) - before <= 2 + math.ceil(N / BATCH)
        assert watch.snapshot_blobs() <= N
        time.sleep(TTL + 0.5)
        before = m.stats()
        assert len(ls_l(m.p(repo))) == N
        after = m.stats()
        assert after["requests"] - before["requests"] <= 2
        assert watch.snapshot_blobs() == 0
        # The attributes came with the names (READDIRPLUS): no getattr per snapshot.
        assert after["fuse_getattr"] - before["fuse_getattr"] <= 10
    # The times shown are the engine's (this GET itself opens every blob: it comes last).
    starts = {s["snapshot"]: s["start_time_in_millis"] // 1000
              for s in engine.ok("GET", f"/_snapshot/{repo}/_all")["snapshots"]}
    for name in ("s-0000", "s-0500", "s-0999"):
        assert int(os.stat(m.p(repo, name)).st_mtime) == starts[name]


def expiries_since(started):
    """The requests a read of every snapshot may add once it outlives the cache (a loaded
    machine, the ASan build): the repositories and the listing again per cache_ttl, never
    a request per snapshot."""
    return 2 * int((time.monotonic() - started) / TTL)


def test_indices_of_1000_snapshots_in_three_requests(engine, repo_of_1000, mount):
    """cat */indices: the kernel stats each snapshot folder on the way, so a fresh mount
    asks for the start times too (once, for all); after that only the listing."""
    repo, location = repo_of_1000
    m = mount()
    listed = engine.ok("GET", f"/_snapshot/{repo}/_all?verbose=false")["snapshots"]
    with BlobWatch(location) as watch:
        before, started = requests(m), time.monotonic()
        got = {s["snapshot"]: m.read(repo, s["snapshot"], "indices") for s in listed}
        assert requests(m) - before <= 3 + expiries_since(started)
        assert watch.snapshot_blobs() <= N
        time.sleep(TTL + 0.5)
        before, started = requests(m), time.monotonic()
        again = {s["snapshot"]: m.read(repo, s["snapshot"], "indices") for s in listed}
        states = {s["snapshot"]: m.read(repo, s["snapshot"], "state") for s in listed}
        assert requests(m) - before <= 2 + expiries_since(started)
        assert watch.snapshot_blobs() == 0
    assert again == got
    for s in listed:
        assert got[s["snapshot"]] == "".join(i + "\n" for i in sorted(s["indices"]))
        assert states[s["snapshot"]] == s["state"] + "\n"


def test_snapshot_taken_and_deleted_behind_esfs_shows_within_ttl(engine, repo_of_1000, mount):
    repo, location = repo_of_1000
    m = mount()
    assert len(ls_l(m.p(repo))) == N
    engine.snapshot(repo, "behind-1", {"indices": "tiny-1000", "include_global_state": False})
    with BlobWatch(location) as watch:
        time.sleep(TTL + 0.5)
        before = requests(m)
        names = [line.split()[-1] for line in ls_l(m.p(repo))] + os.listdir(m.p(repo))
        assert "behind-1" in names
        # The new one costs one batch of start times (one blob), not a re-read of all.
        assert requests(m) - before <= 3
        assert watch.snapshot_blobs() <= 1
    start = engine.snapshot_info(repo, "behind-1")["start_time_in_millis"] // 1000
    assert int(os.stat(m.p(repo, "behind-1")).st_mtime) == start
    engine.ok("DELETE", f"/_snapshot/{quote(repo)}/behind-1")
    time.sleep(TTL + 0.5)
    assert "behind-1" not in os.listdir(m.p(repo))
    assert not os.path.exists(m.p(repo, "behind-1"))


def test_snapshot_taken_and_deleted_through_esfs_shows_at_once(engine, repo_of_1000, mount):
    """Even with a long cache_ttl: esfs forgets what its own change made stale."""
    repo, _ = repo_of_1000
    m = mount("cache_ttl=60")
    assert len(ls_l(m.p(repo))) == N
    with open(m.p(repo, "_defaults.json"), "w") as f:
        f.write('{"indices": "tiny-1000", "include_global_state": false}')
    os.mkdir(m.p(repo, "mine-1"))
    assert "mine-1" in os.listdir(m.p(repo))
    assert m.read(repo, "mine-1", "state") in ("IN_PROGRESS\n", "SUCCESS\n")
    assert m.read(repo, "mine-1", "indices") == "tiny-1000\n"
    start = engine.snapshot_info(repo, "mine-1")["start_time_in_millis"] // 1000
    assert int(os.stat(m.p(repo, "mine-1")).st_mtime) == start
    os.rmdir(m.p(repo, "mine-1"))
    assert "mine-1" not in os.listdir(m.p(repo))
    assert len(ls_l(m.p(repo))) == N


def test_start_times_kept_between_mounts_spare_the_next_mount_every_blob(engine, repo_of_1000, mount,
                                                                          tmp_path):
    """The first listing after a mount asks the engine for every start time, which opens one
    blob per snapshot; kept in the state directory, they spare the next mount all of them."""
    repo, location = repo_of_1000
    state = str(tmp_path / "state")
    first = mount(state_dir=state)
    shown = ls_l(first.p(repo))
    assert len(shown) == N
    assert first.stop() == 0
    again = mount(state_dir=state)
    with BlobWatch(location) as watch:
        before = requests(again)
        assert ls_l(again.p(repo)) == shown
        # The repositories and the listing; no start time asked for.
        assert requests(again) - before <= 2
        assert watch.snapshot_blobs() == 0
    # A snapshot taken since is the one asked for, and kept in its turn.
    engine.snapshot(repo, "since-1", {"indices": "tiny-1000", "include_global_state": False})
    time.sleep(TTL + 0.5)
    with BlobWatch(location) as watch:
        assert len(ls_l(again.p(repo))) == N
        assert "since-1" in os.listdir(again.p(repo))
        assert watch.snapshot_blobs() <= 1
    start = engine.snapshot_info(repo, "since-1")["start_time_in_millis"] // 1000
    assert int(os.stat(again.p(repo, "since-1")).st_mtime) == start
    engine.ok("DELETE", f"/_snapshot/{quote(repo)}/since-1")
