"""Views across snapshots: /_indices/<index>/ (a link per snapshot that holds the index),
/<repo>/_latest and <snapshot>/size, each checked against the REST API, and what building
them costs in requests."""
import os
import shlex
import time

import pytest

from esfs_harness import quote, sh, snapshot_names, wait_until

INDICES = [f"idx-{i}" for i in range(6)]


def api_snapshots(engine, repo):
    return engine.ok("GET", f"/_snapshot/{quote(repo)}/_all")["snapshots"]


def api_view(engine, repos):
    """{index: {"<repo>,<snapshot>"}} as the API says."""
    view = {}
    for repo in repos:
        for s in api_snapshots(engine, repo):
            for index in s["indices"]:
                view.setdefault(index, set()).add(f"{repo},{s['snapshot']}")
    return view


@pytest.fixture
def three_repos(engine, unique):
    """3 repositories x 20 snapshots of overlapping sets of 6 indices."""
    for index in INDICES:
        engine.make_index(index, docs=2)
    repos = [engine.make_repo(unique(f"r{r}")) for r in range(3)]
    for r, repo in enumerate(repos):
        for j in range(20):
            chosen = sorted({INDICES[j % 6], INDICES[(j + r) % 6], INDICES[(2 * j + r) % 6]})
            engine.snapshot(repo, f"s-{j:02d}", {"indices": ",".join(chosen), "include_global_state": False})
    return repos


def requests(m):
    return m.stats()["requests"]


def test_indices_view_is_what_the_api_says_and_costs_no_request_per_snapshot(engine, three_repos, mount):
    m = mount("cache_ttl=300")
    want = api_view(engine, three_repos)
    before = requests(m)
    assert sorted(os.listdir(m.p("_indices"))) == sorted(want)
    for index, links in want.items():
        assert set(os.listdir(m.p("_indices", index))) == links, index
    # The repository list and one listing per repository, whatever the number of snapshots.
    assert requests(m) - before <= 1 + len(three_repos)

    # Each entry is a link to its snapshot's folder; ls -t puts the newest first.
    before = requests(m)
    for index, links in want.items():
        for link in links:
            repo, snap = link.split(",")
            path = m.p("_indices", index, link)
            assert os.readlink(path) == f"../../{repo}/{snap}"
            assert os.path.realpath(path) == os.path.realpath(m.p(repo, snap))
            assert os.lstat(path).st_size == len(os.readlink(path))
        newest = sh(f"ls -t {shlex.quote(m.p('_indices', index))} | head -1").stdout.strip()
        starts = {f"{r},{s['snapshot']}": s["start_time_in_millis"]
                  for r in three_repos for s in api_snapshots(engine, r) if index in s["indices"]}
        assert starts[newest] // 1000 == max(starts.values()) // 1000, index
    # Start times come in batches (one request for many snapshots), never one each.
    assert requests(m) - before <= 2 * len(three_repos)

    with pytest.raises(FileNotFoundError):
        os.stat(m.p("_indices", "no-such-index"))
    with pytest.raises(FileNotFoundError):
        os.lstat(m.p("_indices", "idx-0", f"{three_repos[0]},no-such-snapshot"))
    with pytest.raises(FileNotFoundError):
        os.lstat(m.p("_indices", "idx-0", "no-comma-here"))


def test_indices_view_follows_snapshots_taken_and_deleted(engine, repo, mount):
    engine.make_index("idx-a", docs=1)
    engine.make_index("idx-b", docs=1)
    engine.snapshot(repo, "one", {"indices": "idx-a", "include_global_state": False})
    m = mount()
    assert os.listdir(m.p("_indices")) == ["idx-a"]
    with open(m.p(repo, "_defaults.json"), "w") as f:
        f.write('{"indices": "idx-a,idx-b", "include_global_state": false}')
    os.mkdir(m.p(repo, "two"))
    assert m.read(repo, "two", "wait") == "SUCCESS\n"
    assert sorted(os.listdir(m.p("_indices"))) == ["idx-a", "idx-b"]
    assert sorted(os.listdir(m.p("_indices", "idx-a"))) == [f"{repo},one", f"{repo},two"]
    os.rmdir(m.p(repo, "two"))
    assert os.listdir(m.p("_indices")) == ["idx-a"]
    assert os.listdir(m.p("_indices", "idx-a")) == [f"{repo},one"]


@pytest.mark.parametrize("how", ["rmdir", "deleted-behind-its-back"])
def test_the_kernel_drops_the_link_of_a_deleted_snapshot(engine, repo, mount, how):
    """The kernel keeps every name it was given for entry_timeout, and then until memory runs
    short: the links of /_indices to deleted snapshots would pile up for the mount's life (the
    soak's memory grew so), and with a long entry_timeout a deleted one still answers lstat.
    Once a snapshot went, esfs has the kernel drop the view: the link is gone at once."""
    body = {"indices": "idx-k", "include_global_state": False}
    engine.make_index("idx-k", docs=1)
    engine.snapshot(repo, "stays", body)
    engine.snapshot(repo, "goes", body)
    m = mount("cache_ttl=2", "entry_timeout=600", "attr_timeout=600")
    view = m.p("_indices", "idx-k")
    gone, stays = os.path.join(view, f"{repo},goes"), os.path.join(view, f"{repo},stays")
    assert sorted(os.listdir(view)) == [f"{repo},goes", f"{repo},stays"]
    assert os.readlink(gone) == f"../../{repo}/goes"
    # A readlink leaves the link's atime stale, so the next lstat would ask esfs: this one does.
    os.lstat(gone)
    before = m.stats()
    os.lstat(gone)
    assert m.stats()["fuse_getattr"] == before["fuse_getattr"], "the kernel answers lstat itself"
    dropped = before["kernel_views_dropped"]

    if how == "rmdir":
        os.rmdir(m.p(repo, "goes"))
    else:
        engine.ok("DELETE", f"/_snapshot/{quote(repo)}/goes")
        time.sleep(2.5)                         # cache_ttl
        assert "goes" not in os.listdir(m.p(repo))     # a newer listing, without it
    # Without the drop, lstat is the kernel's own answer from its cache for 600 s.
    assert wait_until(lambda: not os.path.lexists(gone), limit=10), "the kernel still has the link"
    assert m.stats()["kernel_views_dropped"] > dropped
    assert os.listdir(view) == [f"{repo},stays"]
    assert os.readlink(stays) == f"../../{repo}/stays"
    assert m.errors() == []


def test_latest_is_the_newest_success_through_adds_and_removes(engine, repo, mount, unique):
    index = engine.make_index(unique("data"), docs=1)
    m = mount("cache_ttl=300")
    assert "_latest" not in os.listdir(m.p(repo)), "no snapshot, no _latest"
    with pytest.raises(FileNotFoundError):
        os.readlink(m.p(repo, "_latest"))
    body = {"indices": index, "include_global_state": False}
    engine.snapshot(repo, "b-first", body)
    # The engines' clock for start times moves in steps (OpenSearch: 200 ms): one apart.
    time.sleep(1.1)
    engine.snapshot(repo, "a-second", body)     # newer, though it sorts first by name
    with open(m.p("_esfs", "flush"), "w") as f:
        f.write("1\n")
    assert "_latest" in os.listdir(m.p(repo))
    assert os.readlink(m.p(repo, "_latest")) == "a-second"
    assert os.path.realpath(m.p(repo, "_latest")) == os.path.realpath(m.p(repo, "a-second"))
    assert m.read(repo, "_latest", "state") == "SUCCESS\n"

    # Taken through esfs: the link follows at once.
    with open(m.p(repo, "_defaults.json"), "w") as f:
        f.write('{"indices": "%s", "include_global_state": false}' % index)
    time.sleep(1.1)
    os.mkdir(m.p(repo, "c-third"))
    assert m.read(repo, "c-third", "wait") == "SUCCESS\n"
    assert os.readlink(m.p(repo, "_latest")) == "c-third"
    # A newer snapshot that is only partial is not the latest good one.
    red = engine.make_red_index(unique("red"))
    engine.snapshot(repo, "d-partial", {"indices": f"{index},{red}", "partial": True,
                                        "include_global_state": False})
    assert engine.snapshot_info(repo, "d-partial")["state"] == "PARTIAL"
    os.rmdir(m.p(repo, "c-third"))
    assert os.readlink(m.p(repo, "_latest")) == "a-second"
    # Deleted behind esfs's back: right once the cache is flushed (or cache_ttl passed).
    engine.ok("DELETE", f"/_snapshot/{quote(repo)}/a-second")
    with open(m.p("_esfs", "flush"), "w") as f:
        f.write("1\n")
    assert os.readlink(m.p(repo, "_latest")) == "b-first"
    engine.ok("DELETE", f"/_snapshot/{quote(repo)}/b-first")
    with open(m.p("_esfs", "flush"), "w") as f:
        f.write("1\n")
    assert "_latest" not in os.listdir(m.p(repo)), "only a partial one is left"
    assert snapshot_names(engine, repo) == ["d-partial"]


def test_size_is_what_status_says(engine, repo, mount, unique):
    index = engine.make_index(unique("data"), docs=20)
    engine.snapshot(repo, "one", {"indices": index, "include_global_state": False})
    engine.make_index(index, docs=5)
    engine.snapshot(repo, "two", {"indices": index, "include_global_state": False})
    m = mount()
    for snap in ("one", "two"):
        stats = engine.ok("GET", f"/_snapshot/{quote(repo)}/{snap}/_status")["snapshots"][0]["stats"]
        want = (f"total_bytes {stats['total']['size_in_bytes']}\n"
                f"total_files {stats['total']['file_count']}\n"
                f"incremental_bytes {stats['incremental']['size_in_bytes']}\n"
                f"incremental_files {stats['incremental']['file_count']}\n")
        assert m.read(repo, snap, "size") == want
        assert os.stat(m.p(repo, snap, "size")).st_size == len(want)
    assert "size" in os.listdir(m.p(repo, "one"))
