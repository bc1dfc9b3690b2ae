"""clone.json clones a snapshot and _cleanup cleans a repository up, each checked against the
REST API; reading or listing either starts nothing."""
import errno
import json
import os

import pytest

from esfs_harness import quote, sh, snapshot_names


@pytest.fixture
def two_indices(engine, unique):
    return engine.make_index(unique("a"), docs=3), engine.make_index(unique("b"), docs=2)


def write(m, *parts, text):
    with open(m.p(*parts), "w") as f:
        f.write(text)


def test_clone_json_clones_the_snapshot_or_some_of_its_indices(engine, repo, two_indices, mount):
    a, b = two_indices
    engine.snapshot(repo, "source", {"indices": f"{a},{b}", "include_global_state": False})
    m = mount()
    assert m.read(repo, "source", "clone.json") == ""
    write(m, repo, "source", "clone.json", text=json.dumps({"target": "whole"}))
    write(m, repo, "source", "clone.json", text=json.dumps({"target": "only-a", "indices": a}))
    assert snapshot_names(engine, repo) == ["only-a", "source", "whole"]
    assert sorted(engine.snapshot_info(repo, "whole")["indices"]) == sorted([a, b])
    assert engine.snapshot_info(repo, "only-a")["indices"] == [a]
    assert "only-a" in os.listdir(m.p(repo))
    assert m.read(repo, "only-a", "indices") == a + "\n"
    record = m.json(repo, "source", "clone.json")
    assert record["request"] == {"target": "only-a", "indices": a} and record["status"] == 200


@pytest.mark.parametrize("body,code,why", [
    ({"indices": "*"}, errno.EINVAL, "no target"),
    ({"target": "Upper"}, errno.EINVAL, "must be lowercase"),
    ({"target": "source"}, errno.EEXIST, "a snapshot of the target's name exists"),
], ids=["no-target", "bad-name", "taken-name"])
def test_clone_refusals_send_nothing(engine, repo, two_indices, mount, body, code, why):
    engine.snapshot(repo, "source", {"indices": two_indices[0], "include_global_state": False})
    m = mount()
    os.listdir(m.p(repo))
    sent = m.stats()
    with pytest.raises(OSError) as e:
        write(m, repo, "source", "clone.json", text=json.dumps(body))
    assert e.value.errno == code
    assert any("clone.json" in line and why in line for line in m.errors())
    assert m.stats()["requests_put"] == sent["requests_put"], "nothing was sent"
    assert snapshot_names(engine, repo) == ["source"]


def test_clone_into_a_read_only_repository_is_erofs(engine, repo, two_indices, mount, unique):
    engine.snapshot(repo, "source", {"indices": two_indices[0], "include_global_state": False})
    location = engine.ok("GET", f"/_snapshot/{quote(repo)}")[repo]["settings"]["location"]
    ro = unique("ro")
    engine.ok("PUT", f"/_snapshot/{ro}", {"type": "fs", "settings": {"location": location, "readonly": True}})
    m = mount()
    with pytest.raises(OSError) as e:
        write(m, ro, "source", "clone.json", text=json.dumps({"target": "copy"}))
    assert e.value.errno == errno.EROFS
    assert snapshot_names(engine, repo) == ["source"]


def test_cleanup_runs_on_a_write_and_shows_the_last_result(engine, repo, two_indices, mount):
    engine.snapshot(repo, "one", {"indices": two_indices[0], "include_global_state": False})
    location = engine.ok("GET", f"/_snapshot/{quote(repo)}")[repo]["settings"]["location"]
    # Blobs no snapshot refers to, as a crashed snapshot leaves behind, owned as the engine's are.
    owner = os.stat(location)
    stray = [os.path.join(location, "snap-strayStrayStray0000.dat"),
             os.path.join(location, "indices", "strayStrayStrayIndex00", "blob")]
    for path in stray:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(b"x" * 1000)
        for p in (path, os.path.dirname(path)):
            os.chown(p, owner.st_uid, owner.st_gid)
    m = mount()
    assert m.json(repo, "_cleanup") == {}
    sent = m.stats()
    proc = sh(f"cat {m.p(repo, '_cleanup')} && ls -l {m.p(repo)}")
    assert proc.returncode == 0
    assert m.stats()["requests_post"] == sent["requests_post"], "a read starts no cleanup"
    with pytest.raises(OSError) as e:
        write(m, repo, "_cleanup", text="yes\n")
    assert e.value.errno == errno.EINVAL
    write(m, repo, "_cleanup", text="run\n")
    record = m.json(repo, "_cleanup")
    assert record["status"] == 200
    results = record["answer"]["results"]
    assert results["deleted_blobs"] >= 1 and results["deleted_bytes"] >= 1000
    assert not all(os.path.exists(path) for path in stray)
    assert snapshot_names(engine, repo) == ["one"]


def test_cleanup_is_refused_under_nodelete(engine, repo, mount):
    m = mount("nodelete")
    sent = m.stats()
    with pytest.raises(OSError) as e:
        write(m, repo, "_cleanup", text="run\n")
    assert e.value.errno == errno.EPERM
    assert m.stats()["requests_post"] == sent["requests_post"]
