"""The restore drill: a write to <snapshot>/drill restores the snapshot's indices under a
prefix of their own, counts their documents and deletes them again; drill-wait blocks until
it has ended. Checked against the engine: the counts are the snapshot's, no drill index is
left, and no live index changes."""
import errno
import json
import os
import subprocess
import sys

import pytest

from esfs_harness import count, quote, sh, wait_until

PREFIX = "esfs-drill-"

# Writes argv[2] to argv[1] in one write and prints the errno (0: the write and close passed).
WRITER = """
import os, sys
try:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, sys.argv[2].encode())
    finally:
        os.close(fd)
    print(0)
except OSError as e:
    print(e.errno)
"""


def make_index(engine, name, docs):
    bulk = "".join('{"index":{"_id":"%d"}}\n{"n":%d}\n' % (i, i) for i in range(docs))
    engine.ok("PUT", f"/{name}", {"settings": {"number_of_shards": 2, "number_of_replicas": 0}})
    engine.ok("POST", f"/{name}/_bulk?refresh=true", bulk.encode())
    return name


def drill_indices(engine):
    rows = engine.ok("GET", "/_cat/indices?format=json&h=index&expand_wildcards=all")
    return sorted(r["index"] for r in rows if r["index"].startswith(PREFIX))


def live_state(engine, names):
    """Each live index's UUID and document count: what a drill must leave as it was."""
    return {n: (engine.ok("GET", f"/{n}/_settings")[n]["settings"]["index"]["uuid"], count(engine, n))
            for n in names}


def start(m, repo, snap, body="{}"):
    """The errno of one write of body to the snapshot's drill (0: started)."""
    proc = subprocess.run([sys.executable, "-c", WRITER, m.p(repo, snap, "drill"), body],
                          capture_output=True, text=True, timeout=60)
    return int(proc.stdout.strip())


def wait_for(m, repo, snap):
    """cat drill-wait: its exit status and the report it gives."""
    proc = sh(f"cat {m.p(repo, snap, 'drill-wait')}")
    return proc.returncode, json.loads(proc.stdout or "null")


def drill(m, repo, snap, body="{}"):
    """A whole drill, as cron would run it: 0 when it passed, else the write's errno or 1."""
    rc = start(m, repo, snap, body)
    return rc or wait_for(m, repo, snap)[0]


@pytest.fixture
def three(engine, repo, unique):
    """Three indices of 3, 5 and 7 documents in the snapshot "nightly", changed since."""
    names = [make_index(engine, unique(p), docs) for p, docs in (("a", 3), ("b", 5), ("c", 7))]
    engine.snapshot(repo, "nightly", {"indices": ",".join(names), "include_global_state": False})
    engine.ok("POST", f"/{names[0]}/_doc?refresh=true", {"n": 100})
    engine.ok("DELETE", f"/{names[1]}/_doc/0?refresh=true")
    return names


def test_a_drill_counts_what_the_snapshot_holds_and_leaves_nothing_behind(engine, repo, three, mount):
    before = live_state(engine, three)
    m = mount()
    assert m.json(repo, "nightly", "drill") == {}
    latest = m.p(repo, "_latest")  # the newest good snapshot: nightly
    proc = sh(f"echo '{{}}' > {latest}/drill && cat {latest}/drill-wait")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert m.json(repo, "nightly", "drill") == report
    assert report["state"] == "passed" and report["prefix"].startswith(PREFIX)
    rows = {r["index"]: r for r in report["indices"]}
    assert {name: rows[name]["docs"] for name in three} == dict(zip(three, (3, 5, 7)))
    for name, row in rows.items():
        assert row["drill_index"] == report["prefix"] + name
        assert row["verdict"] == "passed" and row["shards"] == 2
        assert row["bytes"] > 0 and row["restore_seconds"] >= 0
    assert sorted(report["deleted"]) == sorted(r["drill_index"] for r in rows.values())
    assert drill_indices(engine) == []
    assert live_state(engine, three) == before, "no live index changed"


def test_a_drill_body_selects_indices_and_runs_under_nodelete(engine, repo, three, mount):
    m = mount("nodelete")
    assert drill(m, repo, "nightly", json.dumps({"indices": three[2], "wait": "5m"})) == 0
    report = m.json(repo, "nightly", "drill")
    assert [(r["index"], r["docs"]) for r in report["indices"]] == [(three[2], 7)]
    assert drill_indices(engine) == []


@pytest.mark.parametrize("body,why", [
    ('{"indices": "*", "rename_pattern": "x"}', 'not "rename_pattern"'),
    ('{"indices": 3}', '"indices" is a string'),
    ('{"wait": "soon"}', '"wait" is a duration'),
    ('[]', "invalid JSON"),  # the scanner takes objects only
    ('{"indices": "no-such-*"}', "no index of the snapshot is selected"),
], ids=["unknown-field", "indices-not-a-string", "bad-wait", "not-an-object", "nothing-selected"])
def test_bad_drill_bodies_are_einval_and_send_nothing(engine, repo, three, mount, body, why):
    m = mount()
    os.listdir(m.p(repo, "nightly"))
    sent = m.stats()
    assert start(m, repo, "nightly", body) == errno.EINVAL
    assert any("drill" in line and why in line for line in m.errors()), m.errors()
    after = m.stats()
    assert (after["requests_post"], after["requests_delete"]) == (sent["requests_post"], sent["requests_delete"])
    assert m.json(repo, "nightly", "drill") == {}


@pytest.fixture
def slow_snapshot(engine, unique):
    """A snapshot of a 200 kB index in a repository that restores at 2 kB/s: a drill of it
    runs for minutes unless cancelled."""
    index = unique("big")
    engine.ok("PUT", f"/{index}", {"settings": {"number_of_shards": 20, "number_of_replicas": 0}})
    bulk = "".join('{"index":{}}\n{"text":"%s"}\n' % ("x" * 500) for _ in range(400))
    engine.ok("POST", f"/{index}/_bulk?refresh=true", bulk.encode())
    repo = engine.make_repo(unique("rslow"), max_restore_bytes_per_sec="2kb")
    engine.snapshot(repo, "s", {"indices": index, "include_global_state": False})
    yield repo, index
    engine.delete_repo(repo)


@pytest.mark.parametrize("how", ["rm", "second-write"])
def test_a_running_drill_is_cancelled_and_cleans_up(engine, slow_snapshot, mount, how):
    repo, index = slow_snapshot
    before = live_state(engine, [index])
    m = mount()
    assert start(m, repo, "s") == 0
    assert wait_until(lambda: drill_indices(engine) != [])
    report = m.json(repo, "s", "drill")
    assert report["state"] == "running" and report["indices"][0]["verdict"] == "restoring"
    if how == "rm":
        os.unlink(m.p(repo, "s", "drill"))
    else:
        assert start(m, repo, "s") == errno.ECANCELED
    assert drill_indices(engine) == [], "cleaned up before rm or the write returned"
    report = m.json(repo, "s", "drill")
    assert report["state"] == "cancelled" and report["errno"] == "ECANCELED"
    assert report["deleted"] == [report["prefix"] + index]
    assert wait_for(m, repo, "s")[0] != 0, "drill-wait fails for a cancelled drill"
    assert live_state(engine, [index]) == before
    assert start(m, repo, "s", json.dumps({"wait": "1s"})) == 0
    code, report = wait_for(m, repo, "s")
    assert code != 0 and report["state"] == "failed" and report["errno"] == "ETIMEDOUT"
    assert drill_indices(engine) == []


def test_unmount_cancels_a_running_drill_and_cleans_up(engine, slow_snapshot, mount, tmp_path):
    repo, index = slow_snapshot
    m = mount(state_dir=str(tmp_path))
    assert start(m, repo, "s") == 0
    assert wait_until(lambda: drill_indices(engine) != [])
    assert m.stop() == 0
    assert drill_indices(engine) == []
    report = mount(state_dir=str(tmp_path)).json(repo, "s", "drill")
    assert report["state"] == "cancelled", "the report is kept with the mount's state"


def test_with_no_drill_rm_does_nothing_and_drill_wait_fails(engine, repo, three, mount):
    m = mount()
    os.unlink(m.p(repo, "nightly", "drill"))
    assert "drill" in os.listdir(m.p(repo, "nightly"))
    assert "drill-wait" not in os.listdir(m.p(repo, "nightly")), "unlisted, as wait is"
    assert wait_for(m, repo, "nightly") == (1, {})
    assert "no drill of this snapshot has run" in m.errors()[-1]


def test_a_drill_is_refused_under_ro(engine, repo, three, mount):
    m = mount("ro")
    assert start(m, repo, "nightly") == errno.EROFS
    assert drill_indices(engine) == []


def test_a_crawl_starts_no_drill(engine, repo, three, mount):
    m = mount()
    sent = m.stats()
    proc = sh(f"find {m.p()} -type f -exec cat {{}} + > /dev/null; ls -lR {m.p()} > /dev/null")
    assert proc.returncode in (0, 1), proc.stderr
    after = m.stats()
    assert (after["requests_post"], after["requests_delete"]) == (sent["requests_post"], sent["requests_delete"])
    assert drill_indices(engine) == []
    assert m.json(repo, "nightly", "drill") == {}
