"""The read side of the tree, checked file by file against the engine's REST API."""
import errno
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest


REPO_FILES = ["_settings.json", "_defaults.json", "_cleanup", "_policy.json", "_policy"]  # _verify: not listed
LATEST = "_latest"  # listed once some snapshot succeeded


def make_snapshots(engine, repo, unique, count=2, spaced=False):
    """Indices and snapshots; spaced: a second apart, for distinct start times (kept in seconds)."""
    a = engine.make_index(unique("idx"))
    b = engine.make_index(unique("idx"))
    snaps = []
    for i in range(count):
        body = {"indices": a if i % 2 else f"{a},{b}", "include_global_state": False}
        name = f"snap-{i}"
        engine.snapshot(repo, name, body)
        snaps.append(name)
        if spaced:
            time.sleep(1.1)
    return snaps, (a, b)


def test_root_lists_every_repository(engine, repo, mount):
    m = mount()
    entries = set(os.listdir(m.path))
    repos = set(engine.ok("GET", "/_snapshot"))
    assert repo in repos
    assert entries == repos | {"_cluster", "_esfs", "_recovery", "_indices"}


def test_cluster_files_match_the_api(engine, mount):
    m = mount()
    health = engine.ok("GET", "/_cluster/health")["status"]
    assert m.read("_cluster", "health") == health + "\n"
    info = m.json("_cluster", "info.json")
    status, root = engine.api("GET", "/")
    if status == 200:
        assert info == root
    else:
        # Elasticsearch's integration-test build has no GET /: the node describes itself.
        node = next(iter(engine.ok("GET", "/_nodes/_local")["nodes"].values()))
        assert info["name"] == node["name"]
        assert info["version"]["number"] == node["version"]
        assert info["cluster_name"] == engine.ok("GET", "/_cluster/health")["cluster_name"]
    dist = info["version"].get("distribution", "elasticsearch")
    assert dist == engine.distribution
    assert sorted(os.listdir(m.p("_esfs"))) == ["errors", "flush", "metrics", "stats"], \
        "aws only when signing"


def test_settings_json_is_the_repository(engine, repo, mount):
    m = mount()
    assert m.json(repo, "_settings.json") == engine.ok("GET", "/_snapshot/" + repo)[repo]


def test_snapshot_files_match_the_api(engine, repo, mount, unique):
    snaps, _ = make_snapshots(engine, repo, unique, 2)
    m = mount()
    assert sorted(os.listdir(m.p(repo))) == sorted(snaps + REPO_FILES + [LATEST])
    for snap in snaps:
        info = engine.snapshot_info(repo, snap)
        assert m.read(repo, snap, "state") == info["state"] + "\n"
        assert m.json(repo, snap, "info.json") == info
        assert m.read(repo, snap, "indices").splitlines() == sorted(info["indices"])
        assert m.read(repo, snap, "failures") == ""
        assert m.json(repo, snap, "status.json") == engine.snapshot_status(repo, snap)
        assert sorted(os.listdir(m.p(repo, snap))) == sorted(
            ["state", "info.json", "status.json", "progress", "indices", "failures",
             "restore.json", "restore.plan", "clone.json", "size", "drill"])  # wait, drill-wait: not listed


def test_progress_of_a_finished_snapshot(engine, repo, mount, unique):
    snaps, _ = make_snapshots(engine, repo, unique, 1)
    m = mount()
    status = engine.snapshot_status(repo, snaps[0])
    total_bytes = status["stats"]["total"]["size_in_bytes"]
    shards = status["shards_stats"]
    assert m.read(repo, snaps[0], "progress") == (
        f"100.0% shards {shards['done']}/{shards['total']} bytes {total_bytes}/{total_bytes}\n")


def test_snapshot_mtime_is_its_start_time(engine, repo, mount, unique):
    snaps, _ = make_snapshots(engine, repo, unique, 3, spaced=True)
    m = mount()
    for snap in snaps:
        start_ms = engine.snapshot_info(repo, snap)["start_time_in_millis"]
        assert int(os.stat(m.p(repo, snap)).st_mtime) == start_ms // 1000
    # ls -t: newest first
    out = subprocess.run(["ls", "-t", m.p(repo)], capture_output=True, text=True, check=True)
    listed = [n for n in out.stdout.split() if not n.startswith("_")]
    assert listed == list(reversed(snaps))


def test_stat_size_equals_bytes_read(engine, repo, mount, unique):
    make_snapshots(engine, repo, unique, 1)
    m = mount()
    checked = 0
    for top in [m.p("_cluster"), m.p("_esfs"), m.p(repo)]:
        for dirpath, _, files in os.walk(top):
            for f in files:
                path = os.path.join(dirpath, f)
                if f in ("stats", "errors", "metrics"):
                    continue  # counters move with every request
                with open(path, "rb") as fh:
                    data = fh.read()
                assert os.stat(path).st_size == len(data), path
                checked += 1
    assert checked >= 9


def test_shell_tools_work(engine, repo, mount, unique):
    snaps, _ = make_snapshots(engine, repo, unique, 2)
    m = mount()
    found = subprocess.run(["find", m.p(repo), "-name", "state"], capture_output=True,
                           text=True, check=True).stdout.split()
    assert sorted(found) == sorted(m.p(repo, s, "state") for s in snaps)
    grep = subprocess.run(["grep", "-l", "SUCCESS", *found], capture_output=True, text=True)
    assert grep.returncode == 0 and len(grep.stdout.split()) == 2
    ls = subprocess.run(["ls", "-l", m.p(repo, snaps[0])], capture_output=True, text=True, check=True)
    assert "info.json" in ls.stdout and ls.stdout.startswith("total")
    stat = subprocess.run(["stat", "-c", "%F %s", m.p(repo, snaps[0], "state")],
                          capture_output=True, text=True, check=True)
    assert stat.stdout == "regular file 8\n"
    jq = subprocess.run(["python3", "-m", "json.tool", m.p(repo, snaps[0], "info.json")],
                        capture_output=True, text=True)
    assert jq.returncode == 0


@pytest.mark.parametrize("path", [
    "nope", "{repo}/nope", "{repo}/nope/state", "{repo}/{snap}/nope", "_cluster/nope",
    "_esfs/nope", "_nope", "{repo}/_nope", "{repo}/{snap}/state/x", "a/b/c/d",
])
def test_missing_paths_are_enoent(engine, repo, mount, unique, path):
    snaps, _ = make_snapshots(engine, repo, unique, 1)
    m = mount()
    with pytest.raises(FileNotFoundError if "state/x" not in path else NotADirectoryError):
        os.stat(m.p(path.format(repo=repo, snap=snaps[0])))
    assert m.errors() == [], "a mistyped path is not an engine failure"


def test_files_are_read_only(engine, repo, mount, unique):
    snaps, _ = make_snapshots(engine, repo, unique, 1)
    m = mount()
    with pytest.raises(PermissionError):
        open(m.p(repo, snaps[0], "state"), "w")


def test_odd_repository_names_are_encoded(engine, mount, unique):
    """A name with %, uppercase or an escape must reach the engine as that one repository."""
    base = unique("odd")
    names = [base + "%2fx", base + "%3fq", "Up-" + base, base + "%25"]
    index = engine.make_index(unique("idx"))
    for name in names:
        engine.make_repo(name)
        engine.snapshot(name, "only", {"indices": index, "include_global_state": False})
    try:
        m = mount()
        for name in names:
            assert name in os.listdir(m.path)
            assert sorted(os.listdir(m.p(name))) == sorted(REPO_FILES + [LATEST, "only"])
            assert m.read(name, "only", "indices") == index + "\n"
            assert m.json(name, "only", "info.json")["snapshot"] == "only"
    finally:
        for name in names:
            engine.delete_repo(name)


@pytest.fixture
def repo_of_200(engine):
    """A repository of 200 snapshots. They are taken once per engine; later tests register
    the same folder again, and the engine finds them there."""
    name = "many-200"
    engine.make_repo(name)
    have = {s["snapshot"] for s in engine.ok("GET", f"/_snapshot/{name}/_all")["snapshots"]}
    missing = [f"s-{i:03d}" for i in range(200) if f"s-{i:03d}" not in have]
    if missing:
        index = engine.make_index("tiny-200", docs=1)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda n: engine.snapshot(name, n, {
                "indices": index, "include_global_state": False}), missing))
    return name


def test_listing_200_snapshots_costs_three_requests(engine, repo_of_200, mount):
    repo = repo_of_200
    m = mount()
    before = m.stats()["requests"]
    out = subprocess.run(["ls", "-l", m.p(repo)], capture_output=True, text=True, check=True)
    after = m.stats()["requests"]
    assert len([l for l in out.stdout.splitlines() if l.startswith("d") and " s-" in l]) == 200
    # The repositories, the listing, and the start times of all 200 in one batch.
    assert after - before <= 3, f"ls -l sent {after - before} requests"
    # And again once the cache has expired: the start times are known, so only the listing.
    time.sleep(2.5)
    before = m.stats()["requests"]
    subprocess.run(["ls", "-lt", m.p(repo)], capture_output=True, check=True)
    assert m.stats()["requests"] - before <= 2


def test_connections_are_reused(engine, repo, mount, unique):
    snaps, _ = make_snapshots(engine, repo, unique, 1)
    m = mount("cache_ttl=0")
    start = m.stats()
    for _ in range(40):
        m.read(repo, snaps[0], "info.json")
    end = m.stats()
    assert end["requests"] - start["requests"] >= 40
    assert end["connections_opened"] - start["connections_opened"] <= 2


def test_cache_serves_repeated_reads(engine, repo, mount, unique):
    snaps, _ = make_snapshots(engine, repo, unique, 1)
    m = mount("cache_ttl=30")
    m.read(repo, snaps[0], "info.json")
    before = m.stats()
    for _ in range(20):
        m.read(repo, snaps[0], "info.json")
    after = m.stats()
    assert after["requests"] == before["requests"]
    assert after["cache_hits"] > before["cache_hits"]


def test_a_dead_node_is_skipped(engine, repo, mount, unique):
    snaps, _ = make_snapshots(engine, repo, unique, 1)
    m = mount("connect_timeout=1", urls=f"http://127.0.0.1:9,{engine.url}")
    assert m.read(repo, snaps[0], "state") == "SUCCESS\n"
    assert m.stats()["node_failovers"] >= 1


def test_engine_error_reaches_errors_file(engine, mount, unique):
    """A repository the engine cannot open: its refusal is listed with type and reason."""
    name = unique("broken")
    blocker = os.path.join(engine.repo_root, name)
    subprocess.run(["runuser", "-u", "esfs-engine", "--", "touch", blocker], check=True)
    engine.ok("PUT", f"/_snapshot/{name}?verify=false",
              {"type": "fs", "settings": {"location": blocker + "/sub"}})
    try:
        m = mount()
        with pytest.raises(OSError) as e:
            os.listdir(m.p(name))
        assert e.value.errno == errno.EIO
        fields = m.errors()[-1].split("\t")
        assert fields[1:5] == ["readdir", "/" + name, "EIO", "repository_exception"]
        assert "Not a directory" in fields[5], "the cause is kept"
        assert "repository_exception" in m.output(), "and logged"
    finally:
        engine.delete_repo(name)
        os.unlink(blocker)


# ---------------------------------------------------------------- the kernel's caches

def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_kernel_answers_repeated_stat_and_read_of_an_ended_snapshot(engine, repo, mount, unique):
    snaps, _ = make_snapshots(engine, repo, unique, 1)
    m = mount("cache_ttl=30")
    info = m.p(repo, snaps[0], "info.json")
    first = read_bytes(info)
    before = m.stats()
    for _ in range(100):
        assert os.stat(info).st_size == len(first)
        assert read_bytes(info) == first
    after = m.stats()
    # What reached esfs is reading /_esfs/stats itself (a getattr, a read and the EOF read).
    assert after["fuse_getattr"] - before["fuse_getattr"] <= 1
    assert after["fuse_read"] - before["fuse_read"] <= 2
    assert after["page_cache_kept"] - before["page_cache_kept"] >= 99
    # Health changes under the kernel's feet: every read reaches esfs.
    health = m.p("_cluster", "health")
    before = m.stats()
    for _ in range(10):
        read_bytes(health)
    assert m.stats()["fuse_read"] - before["fuse_read"] >= 10


def test_name_taken_again_behind_esfs_shows_the_new_snapshot(engine, repo, mount, unique):
    """The hard case for the page cache: the same name, taken again within the same second
    with the same body, so that size and mtime match and only the bytes differ. (OpenSearch
    gets there in a few tries; Elasticsearch's delete takes longer than a second, so there
    it is the plain case of a name taken again.)"""
    a = engine.make_index(unique("idx"))
    body = {"indices": a, "include_global_state": False}
    engine.snapshot(repo, "again", body)
    m = mount("cache_ttl=1")
    info = m.p(repo, "again", "info.json")
    first = old = json.loads(read_bytes(info))
    for _ in range(10):
        assert read_bytes(info) == read_bytes(info)        # in the page cache
        engine.ok("DELETE", f"/_snapshot/{repo}/again")
        engine.snapshot(repo, "again", body)
        new = engine.snapshot_info(repo, "again")
        time.sleep(1.5)
        for name in ("info.json", "indices", "status.json"):
            data = read_bytes(m.p(repo, "again", name))
            assert os.stat(m.p(repo, "again", name)).st_size == len(data), name
        assert json.loads(read_bytes(info))["uuid"] == new["uuid"] != old["uuid"]
        if new["start_time_in_millis"] // 1000 == old["start_time_in_millis"] // 1000:
            break
        old = new
    assert new["uuid"] != first["uuid"]
