"""Backup software crawls the mount: rsync, tar, restic and find read every entry that readdir
lists, while a throttled snapshot runs. Each finishes quickly, the snapshot is still running
afterwards, and esfs sent nothing but GET requests: no read waits for a snapshot, and no read
runs a repository verification (which writes test blobs into the store)."""
import os
import subprocess
import time

import pytest

from esfs_harness import quote, sh

CRAWL_LIMIT = 10  # seconds, for the whole walk of each tool


@pytest.fixture
def running_snapshot(engine, unique):
    """A repository throttled to a crawl, with a snapshot of a 200 kB index running in it, and
    a second repository with a finished snapshot: two repositories whose _verify a crawl
    must not run."""
    index = unique("big")
    # 20 shards of small files: the snapshot runs for most of a minute and aborts at once.
    engine.ok("PUT", f"/{index}", {"settings": {"number_of_shards": 20, "number_of_replicas": 0}})
    bulk = "".join('{"index":{}}\n{"text":"%s"}\n' % ("x" * 500) for _ in range(400))
    engine.ok("POST", f"/{index}/_bulk?refresh=true", bulk.encode())
    slow = engine.make_repo(unique("slow"), max_snapshot_bytes_per_sec="2kb")
    done = engine.make_repo(unique("done"))
    engine.snapshot(done, "finished", {"indices": index})
    engine.snapshot(slow, "running", {"indices": index, "include_global_state": False}, wait=False)
    yield slow, done
    for repo in (slow, done):
        engine.delete_repo(repo)


def state_of(engine, repo, snap):
    return engine.ok("GET", f"/_snapshot/{quote(repo)}/{quote(snap)}")["snapshots"][0]["state"]


def restic(repo_dir, *args):
    env = dict(os.environ, RESTIC_PASSWORD="esfs-test", RESTIC_REPOSITORY=str(repo_dir))
    return subprocess.run(["restic", "--no-cache", "-q", *args], env=env, capture_output=True,
                          text=True, timeout=CRAWL_LIMIT)


def changes(before, after):
    """The requests sent between two readings of /_esfs/stats, by method."""
    return {m: after[f"requests_{m}"] - before[f"requests_{m}"]
            for m in ("get", "head", "put", "post", "delete")}


def with_restic(m, out):
    """restic backup of the mount, restored into out to see what it took."""
    repo = out.parent / "restic"
    for args in (["init"], ["backup", m.path], ["restore", "latest", "--target", str(out)]):
        proc = restic(repo, *args)
        if proc.returncode != 0:
            break
    return proc


CRAWLERS = {
    "rsync": lambda m, out: sh(f"rsync -a {m.path}/ {out}/"),
    "tar": lambda m, out: sh(f"tar -cf {out}.tar -C {m.path} . && tar -xf {out}.tar --one-top-level={out}"),
    "restic": with_restic,
    "find-cat": lambda m, out: sh(f"mkdir -p {out} && find {m.path} -type f -exec cat {{}} + > {out}/all"),
}


def crawled_file(out, m, *parts):
    """Where a tool put the copy of a file of the mount."""
    for candidate in (out.joinpath(*parts), out.joinpath(m.path.lstrip("/"), *parts)):
        if candidate.exists():
            return candidate.read_text()
    return None


@pytest.mark.parametrize("tool", sorted(CRAWLERS))
def test_a_crawl_during_a_snapshot_is_quick_and_sends_only_gets(engine, running_snapshot, mount,
                                                                tmp_path, tool):
    slow, done = running_snapshot
    m = mount()
    assert m.read(slow, "running", "state") == "IN_PROGRESS\n"
    before = m.stats()
    start = time.monotonic()
    proc = CRAWLERS[tool](m, tmp_path / "copy")
    took = time.monotonic() - start
    after = m.stats()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert took < CRAWL_LIMIT
    assert state_of(engine, slow, "running") == "IN_PROGRESS", "the crawl waited for the snapshot"
    sent = changes(before, after)
    assert sent["get"] > 0
    assert sent == {"get": sent["get"], "head": sent["head"], "put": 0, "post": 0, "delete": 0}
    assert after["requests"] - before["requests"] == sent["get"] + sent["head"]
    if tool == "find-cat":
        text = (tmp_path / "copy" / "all").read_text()
        assert "IN_PROGRESS\n" in text and '"snapshot"' in text
    else:
        # The copy has the running snapshot's files, and the finished one's.
        assert crawled_file(tmp_path / "copy", m, slow, "running", "state") == "IN_PROGRESS\n"
        assert crawled_file(tmp_path / "copy", m, done, "finished", "state") == "SUCCESS\n"
        assert crawled_file(tmp_path / "copy", m, slow, "running", "wait") is None
        assert crawled_file(tmp_path / "copy", m, done, "_verify") is None


def test_the_acting_entries_are_there_for_whoever_names_them(engine, running_snapshot, mount):
    """wait and _verify are not listed, but a person or script that names them gets them."""
    slow, done = running_snapshot
    m = mount()
    assert "wait" not in os.listdir(m.p(slow, "running"))
    assert "_verify" not in os.listdir(m.p(done))
    assert os.path.isfile(m.p(slow, "running", "wait"))
    assert os.path.isfile(m.p(done, "_verify"))
    assert m.read(done, "finished", "wait") == "SUCCESS\n"
    proc = subprocess.Popen(["cat", m.p(slow, "running", "wait")], stdout=subprocess.PIPE)
    time.sleep(1.5)
    assert proc.poll() is None, "wait still blocks while the snapshot runs"
    proc.kill()
    proc.wait(timeout=10)
    # Verification waits for the engine's snapshot thread, which the throttled snapshot holds
    # (one thread on a 2-core machine): it is aborted first.
    engine.ok("DELETE", f"/_snapshot/{slow}/running")
    before = m.stats()
    assert m.json(done, "_verify")["nodes"]
    assert changes(before, m.stats())["post"] == 1
