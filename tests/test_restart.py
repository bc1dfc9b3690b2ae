"""The engine restarted under a running snapshot and a running restore: once it is back,
every file of the same mount (no remount) agrees with the REST API again within cache_ttl.

scripts/engine.sh stop keeps the instance's data folder (path.data) and start reuses it, so
the repository, its snapshots and the indices outlive the restart, as on a real cluster. What
the engine makes of the operation under way is its own business (a single node forgets a
running snapshot, and recovers the restored shards it has not finished as empty ones): esfs
must show that, not what it knew before.

A restart costs 15 to 30 s, so each test restarts once, with one build (the sanitizer one
when it is there: it checks more)."""
import os

import pytest

from esfs_harness import quote, snapshot_names, wait_until
from test_backup import big_index, from_snapshot, restore_body  # noqa: F401 (a fixture)
from test_tree import LATEST, REPO_FILES

CACHE_TTL = 1
OPTIONS = ("cache_ttl=1", "timeout=5", "connect_timeout=1")


def restart(engine):
    """Stops and starts the engine; back once it answers (a restore it lost may leave red)."""
    engine.stop()
    engine.start(wait_status="red")


def kept(engine, index, docs=400):
    """Whether the index outlived the restart whole: else the test would show nothing."""
    engine.ok("GET", f"/_cluster/health/{quote(index)}?wait_for_status=yellow&timeout=60s")
    return engine.ok("GET", f"/{quote(index)}/_count")["count"] == docs


def snapshots_agree(m, engine, repo):
    """The repository's listing and each snapshot's state are the API's."""
    names = snapshot_names(engine, repo)
    listed = sorted(n for n in os.listdir(m.p(repo)) if n not in REPO_FILES + [LATEST])
    if listed != names:
        return False
    return all(m.read(repo, s, "state").strip() == engine.snapshot_info(repo, s)["state"]
               for s in names)


def restored_indices(engine):
    rows = engine.ok("GET", "/_cat/recovery?format=json&active_only=false&h=index,type")
    return sorted({r["index"] for r in rows if r["type"] == "snapshot"})


def recovery_agrees(m, engine, index):
    """/_recovery lists what the API shows restored, and the index's file is its answer."""
    listed = sorted(n for n in os.listdir(m.p("_recovery")) if not n.endswith(".json"))
    if listed != restored_indices(engine):
        return False
    status, answer = engine.api("GET", f"/{quote(index)}/_recovery")
    if status != 200:
        return index not in listed
    return index not in listed or m.json("_recovery", index + ".json") == answer[index]


def test_a_restart_during_a_snapshot(engine, unique, big_index, mount):  # noqa: F811
    repo = engine.make_repo(unique("slow"))
    engine.snapshot(repo, "before", {"indices": big_index, "include_global_state": False})
    engine.make_repo(repo, max_snapshot_bytes_per_sec="2kb")  # from now on, at a crawl
    m = mount(*OPTIONS)
    with open(m.p(repo, "_defaults.json"), "w") as f:
        f.write('{"indices": "%s", "include_global_state": false}' % big_index)
    os.mkdir(m.p(repo, "during"))
    assert m.read(repo, "during", "state") == "IN_PROGRESS\n"
    restart(engine)
    assert kept(engine, big_index)
    assert "before" in snapshot_names(engine, repo)
    assert wait_until(lambda: snapshots_agree(m, engine, repo), limit=CACHE_TTL + 10), \
        (os.listdir(m.p(repo)), snapshot_names(engine, repo))
    assert m.read("_cluster", "health").strip() in ("green", "yellow")
    engine.delete_repo(repo)


def test_a_restart_during_a_restore(engine, unique, big_index, mount):  # noqa: F811
    # Taken at full speed, restored at a crawl.
    repo = engine.make_repo(unique("rslow"), max_restore_bytes_per_sec="2kb")
    engine.snapshot(repo, "s", {"indices": big_index, "include_global_state": False})
    m = mount(*OPTIONS)
    with open(m.p(repo, "s", "restore.json"), "w") as f:
        f.write(restore_body(big_index, "during-"))
    target = "during-" + big_index
    assert wait_until(lambda: target in os.listdir(m.p("_recovery")))
    assert wait_until(lambda: from_snapshot(engine, target))
    assert not m.read("_recovery", target).startswith("DONE")
    restart(engine)
    assert kept(engine, big_index)
    assert wait_until(lambda: recovery_agrees(m, engine, target), limit=CACHE_TTL + 20), \
        (os.listdir(m.p("_recovery")), restored_indices(engine))
    assert snapshot_names(engine, repo) == ["s"]
    assert os.listdir(m.p(repo, "s"))
    engine.delete_repo(repo)
