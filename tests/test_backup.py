"""Backup and recovery through the tree, each step checked against the REST API."""
import errno
import os
import re
import signal
import subprocess
import time

import pytest

from esfs_harness import count, quote, sh, snapshot_names, wait_until
from test_tree import LATEST, REPO_FILES


@pytest.fixture
def index(engine, unique):
    return engine.make_index(unique("data"), docs=5)


@pytest.fixture
def big_index(engine, unique):
    """An index whose snapshot at 2 kB/s runs for most of a minute, and stops at once when
    aborted: the engine checks for an abort between files, and each of its 20 shards has
    only small ones. (One shard of it all ran 8 s, less than a slow run of a test takes,
    and an abort waited for its one big file.)"""
    name = unique("big")
    engine.ok("PUT", f"/{name}", {"settings": {"number_of_shards": 20, "number_of_replicas": 0}})
    bulk = "".join('{"index":{}}\n{"text":"%s"}\n' % ("x" * 500) for _ in range(400))
    engine.ok("POST", f"/{name}/_bulk?refresh=true", bulk.encode())
    return name


@pytest.fixture
def slow_repo(engine, unique, big_index):
    """A repository throttled to a crawl, so that snapshots and restores of big_index stay
    running for a while; its snapshots through esfs take big_index alone."""
    name = engine.make_repo(unique("slow"), max_snapshot_bytes_per_sec="2kb",
                            max_restore_bytes_per_sec="2kb")
    return name


def snapshot_only(m, repo, index):
    with open(m.p(repo, "_defaults.json"), "w") as f:
        f.write('{"indices": "%s", "include_global_state": false}' % index)


# ---------------------------------------------------------------- snapshots

def test_mkdir_takes_a_snapshot(engine, repo, index, mount):
    m = mount()
    os.mkdir(m.p(repo, "first"))
    assert "first" in snapshot_names(engine, repo)
    assert m.read(repo, "first", "state") in ("IN_PROGRESS\n", "SUCCESS\n")
    assert m.read(repo, "first", "wait") == "SUCCESS\n"
    info = engine.snapshot_info(repo, "first")
    assert info["state"] == "SUCCESS" and index in info["indices"]
    assert m.read(repo, "first", "state") == "SUCCESS\n"


def test_defaults_json_is_the_snapshot_body(engine, repo, index, mount, unique):
    other = engine.make_index(unique("other"))
    m = mount()
    assert m.json(repo, "_defaults.json") == {}
    body = {"indices": index, "include_global_state": False, "metadata": {"taken_by": "esfs"}}
    with open(m.p(repo, "_defaults.json"), "w") as f:
        f.write(__import__("json").dumps(body))
    assert m.json(repo, "_defaults.json") == body
    os.mkdir(m.p(repo, "only-one"))
    assert m.read(repo, "only-one", "wait") == "SUCCESS\n"
    info = engine.snapshot_info(repo, "only-one")
    assert info["indices"] == [index] and other not in info["indices"]
    assert info["metadata"] == {"taken_by": "esfs"}
    assert info["include_global_state"] is False
    # Invalid JSON is refused and the defaults stay.
    bad = sh(f"echo '{{\"indices\": ' > {m.p(repo, '_defaults.json')}")
    assert bad.returncode == 0 or "Invalid argument" in bad.stderr
    assert sh(f"echo '{{nope' > {m.p(repo, '_defaults.json')}").returncode != 0
    assert m.json(repo, "_defaults.json") == body


def test_rmdir_deletes_the_snapshot(engine, repo, index, mount):
    engine.snapshot(repo, "keep", {"indices": index})
    engine.snapshot(repo, "drop", {"indices": index})
    m = mount()
    os.rmdir(m.p(repo, "drop"))
    assert snapshot_names(engine, repo) == ["keep"]
    assert sorted(os.listdir(m.p(repo))) == sorted(REPO_FILES + [LATEST, "keep"])


def test_rm_r_deletes_exactly_that_snapshot(engine, repo, index, mount):
    for name in ("a-1", "a-2", "a-10"):
        engine.snapshot(repo, name, {"indices": index})
    m = mount()
    proc = sh(f"rm -r {m.p(repo, 'a-1')}")
    assert proc.returncode == 0, proc.stderr
    assert snapshot_names(engine, repo) == ["a-10", "a-2"]


def test_rmdir_aborts_a_running_snapshot(engine, slow_repo, big_index, mount):
    m = mount()
    snapshot_only(m, slow_repo, big_index)
    os.mkdir(m.p(slow_repo, "running"))
    assert m.read(slow_repo, "running", "state") == "IN_PROGRESS\n"
    os.rmdir(m.p(slow_repo, "running"))
    assert wait_until(lambda: "running" not in snapshot_names(engine, slow_repo))


def test_wait_blocks_and_ctrl_c_interrupts_it(engine, slow_repo, big_index, mount):
    m = mount()
    snapshot_only(m, slow_repo, big_index)
    os.mkdir(m.p(slow_repo, "long"))
    proc = subprocess.Popen(["cat", m.p(slow_repo, "long", "wait")], stdout=subprocess.PIPE)
    time.sleep(1.5)
    assert proc.poll() is None, "wait blocks while the snapshot runs"
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    assert time.monotonic() - start < 2
    assert proc.returncode != 0
    os.rmdir(m.p(slow_repo, "long"))


def test_wait_sees_the_end_within_seconds_whatever_the_cache_ttl(engine, slow_repo, big_index, mount):
    """wait asks the engine anew each second: with cache_ttl=60 the cached listing would say
    IN_PROGRESS for a minute after the snapshot ended (here: deleted behind esfs's back)."""
    m = mount("cache_ttl=60")
    snapshot_only(m, slow_repo, big_index)
    os.mkdir(m.p(slow_repo, "long"))
    proc = subprocess.Popen(["cat", m.p(slow_repo, "long", "wait")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(1.5)
    assert proc.poll() is None, "wait blocks while the snapshot runs"
    engine.ok("DELETE", f"/_snapshot/{slow_repo}/long")
    start = time.monotonic()
    proc.wait(timeout=30)
    assert time.monotonic() - start < 5
    # Elasticsearch aborts the snapshot before it deletes it: a poll in between sees it ended
    # (FAILED), one after sees it gone. Either is the end; IN_PROGRESS never is.
    out, errors = proc.stdout.read(), proc.stderr.read()
    if proc.returncode == 0:
        assert out in (b"FAILED\n", b"PARTIAL\n", b"SUCCESS\n"), out
    else:
        assert b"No such file" in errors, errors


@pytest.mark.parametrize("readers", [10, 50])
def test_many_readers_of_wait_leave_the_mount_answering(engine, slow_repo, big_index, mount, readers):
    """Each blocked reader of wait holds a FUSE worker. A bounded number may block (the rest get
    EAGAIN at once), so stat and the kernel's interrupts always find a free worker: the mount
    answers within a second, and Ctrl-C ends each blocked cat within a second."""
    m = mount()
    snapshot_only(m, slow_repo, big_index)
    os.mkdir(m.p(slow_repo, "long"))
    procs = [subprocess.Popen(["cat", m.p(slow_repo, "long", "wait")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(readers)]
    time.sleep(2)
    start = time.monotonic()
    os.stat(m.p("_esfs", "stats"))
    assert m.read(slow_repo, "long", "state") == "IN_PROGRESS\n"
    assert time.monotonic() - start < 1
    blocked = [p for p in procs if p.poll() is None]
    refused = [p for p in procs if p.poll() is not None]
    assert 1 <= len(blocked) <= 8
    for p in refused:
        assert p.returncode != 0 and b"Resource temporarily unavailable" in p.stderr.read()
    assert len(blocked) + len(refused) == readers
    for p in blocked:
        start = time.monotonic()
        p.send_signal(signal.SIGINT)
        p.wait(timeout=5)
        assert time.monotonic() - start < 1
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    os.rmdir(m.p(slow_repo, "long"))


def test_state_files_follow_a_running_snapshot(engine, slow_repo, big_index, mount):
    m = mount("cache_ttl=0")
    snapshot_only(m, slow_repo, big_index)
    os.mkdir(m.p(slow_repo, "watched"))
    progress = m.read(slow_repo, "watched", "progress")
    assert progress.endswith("\n") and re.search(r"% shards \d+/20 bytes \d+/\d+$", progress), progress
    status = m.json(slow_repo, "watched", "status.json")
    assert status["state"] in ("STARTED", "IN_PROGRESS")
    assert os.stat(m.p(slow_repo, "watched", "wait")).st_size == 0
    os.rmdir(m.p(slow_repo, "watched"))


# ---------------------------------------------------------------- errors a shell sees

def test_taken_name_is_eexist(engine, repo, index, mount):
    engine.snapshot(repo, "taken", {"indices": index})
    m = mount()
    with pytest.raises(FileExistsError):
        os.mkdir(m.p(repo, "taken"))


@pytest.mark.parametrize("name", ["Upper", "_under", "a b", "a?b", "a#b", "a*b", "a,b", 'a"b',
                                  "a<b", "a>b", "a|b", "a\\b"])
def test_names_the_engine_refuses_are_einval_without_a_request(engine, repo, mount, name):
    m = mount("cache_ttl=60")
    os.listdir(m.p(repo))  # what a lookup needs is cached now
    before = m.stats()["requests"]
    with pytest.raises(OSError) as e:
        os.mkdir(m.p(repo, name))
    assert e.value.errno == errno.EINVAL
    assert m.stats()["requests"] == before, "nothing is sent for a name esfs refuses itself"
    assert snapshot_names(engine, repo) == []
    assert "EINVAL" in m.errors()[-1] and "EINVAL" in m.output()


def test_escapes_in_names_are_sent_as_they_are(engine, repo, index, mount):
    """%2f, %3f and % are legal in snapshot names: each is its own snapshot, never a path."""
    m = mount()
    with open(m.p(repo, "_defaults.json"), "w") as f:
        f.write('{"indices": "%s"}' % index)
    names = ["a%2fb", "c%3fd", "100%", "%2e%2e"]
    for name in names:
        os.mkdir(m.p(repo, name))
    assert snapshot_names(engine, repo) == sorted(names)
    for name in names:
        assert m.read(repo, name, "wait") == "SUCCESS\n"
        assert m.json(repo, name, "info.json")["snapshot"] == name
    os.rmdir(m.p(repo, "a%2fb"))
    assert snapshot_names(engine, repo) == sorted(names[1:])


def test_too_long_name_is_refused(engine, repo, mount):
    m = mount()
    with pytest.raises(OSError) as e:
        os.mkdir(m.p(repo, "x" * 256))
    assert e.value.errno == errno.ENAMETOOLONG


def test_concurrency_refused_by_the_engine_is_ebusy(engine, slow_repo, big_index, index, mount):
    engine.ok("PUT", "/_cluster/settings", {"transient": {"snapshot.max_concurrent_operations": 1}})
    m = mount()
    snapshot_only(m, slow_repo, big_index)
    try:
        os.mkdir(m.p(slow_repo, "one"))
        with pytest.raises(OSError) as e:
            os.mkdir(m.p(slow_repo, "two"))
        assert e.value.errno == errno.EBUSY
        assert "concurrent_snapshot_execution_exception" in m.errors()[-1]
    finally:
        engine.ok("PUT", "/_cluster/settings",
                  {"transient": {"snapshot.max_concurrent_operations": None}})
    os.rmdir(m.p(slow_repo, "one"))
    assert snapshot_names(engine, slow_repo) == []


def test_unknown_repository_is_enoent(engine, mount):
    m = mount()
    with pytest.raises(FileNotFoundError):
        os.mkdir(m.p("no-such-repo", "snap"))


def test_read_only_repository_is_erofs(engine, repo, index, mount, unique):
    engine.snapshot(repo, "old", {"indices": index})
    location = engine.ok("GET", "/_snapshot/" + repo)[repo]["settings"]["location"]
    ro = unique("ro")
    engine.ok("PUT", f"/_snapshot/{ro}", {"type": "fs", "settings": {"location": location, "readonly": True}})
    try:
        m = mount("cache_ttl=60")
        m.read(ro, "old", "state")
        before = m.stats()["requests"]
        with pytest.raises(OSError) as e:
            os.mkdir(m.p(ro, "new"))
        assert e.value.errno == errno.EROFS
        with pytest.raises(OSError) as e:
            os.rmdir(m.p(ro, "old"))
        assert e.value.errno == errno.EROFS
        assert m.stats()["requests"] == before
        assert snapshot_names(engine, repo) == ["old"]
    finally:
        engine.delete_repo(ro)


def test_a_long_url_cannot_push_out_default_permissions(engine, mount):
    """With allow_other the kernel must check the modes esfs shows: another user may not make
    a repository in / (0755, the mounting user's). A 2,000-byte URL once truncated the option
    string that carried default_permissions. ("/." segments: curl drops them.)"""
    m = mount("allow_other", urls=engine.url + "/." * 1000)
    assert m.read("_cluster", "health") in ("green\n", "yellow\n")
    with open("/proc/mounts") as f:
        options = next(line for line in f if f" {m.path} " in line).split()[3].split(",")
    assert "default_permissions" in options
    proc = sh(f"runuser -u nobody -- mkdir {m.p('someone-elses')}")
    assert proc.returncode != 0 and "Permission denied" in proc.stderr
    assert "someone-elses" not in os.listdir(m.path)


def test_verify_under_ro_is_erofs_and_sends_nothing(engine, repo, mount):
    """A verification writes test blobs into the repository's store: -o ro refuses it."""
    m = mount("ro", "cache_ttl=60")
    os.listdir(m.p(repo))
    before = m.stats()
    with pytest.raises(OSError) as e:
        m.read(repo, "_verify")
    assert e.value.errno == errno.EROFS
    assert m.stats()["requests"] == before["requests"]
    assert "EROFS" in m.errors()[-1]


def test_read_only_mount_is_erofs(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount("ro")
    for action in (lambda: os.mkdir(m.p(repo, "new")), lambda: os.rmdir(m.p(repo, "s")),
                   lambda: open(m.p(repo, "s", "restore.json"), "w")):
        with pytest.raises(OSError) as e:
            action()
        assert e.value.errno == errno.EROFS
    assert snapshot_names(engine, repo) == ["s"]


# ---------------------------------------------------------------- restore

def restore_body(index, prefix="restored-"):
    return '{"indices": "%s", "rename_pattern": "(.+)", "rename_replacement": "%s$1"}' % (index, prefix)


def test_restore_json_restores_under_new_names(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount()
    proc = sh(f"echo '{restore_body(index)}' > {m.p(repo, 's', 'restore.json')}")
    assert proc.returncode == 0, proc.stderr
    target = "restored-" + index
    assert wait_until(lambda: engine.api("GET", f"/_cluster/health/{target}?wait_for_status=yellow&timeout=1s")[0] == 200)
    assert count(engine, target) == count(engine, index) == 5
    record = m.json(repo, "s", "restore.json")
    assert record["request"]["rename_replacement"] == "restored-$1"
    assert record["status"] == 200 and record["answer"].get("accepted") is True


def test_refused_restore_fails_the_writing_shell(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount()
    # The index exists and is open: the engine refuses, and echo must say so.
    proc = sh(f"echo '{{\"indices\": \"{index}\"}}' > {m.p(repo, 's', 'restore.json')}")
    assert proc.returncode != 0
    assert "File exists" in proc.stderr
    assert "snapshot_restore_exception" in m.errors()[-1]
    record = m.json(repo, "s", "restore.json")
    assert record["status"] >= 400
    assert count(engine, index) == 5


def test_invalid_json_fails_and_sends_nothing(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount("cache_ttl=60")
    m.read(repo, "s", "state")
    for shell in ("sh", "bash"):
        before = m.stats()["requests"]
        proc = subprocess.run([shell, "-c", f"echo '{{bad' > {m.p(repo, 's', 'restore.json')}"],
                              capture_output=True, text=True)
        assert proc.returncode != 0, shell
        if shell == "bash":  # dash says only "I/O error"
            assert "Invalid argument" in proc.stderr
        assert m.stats()["requests"] == before
    assert "invalid JSON" in m.errors()[-1]
    assert [i for i in engine.ok("GET", "/_cat/indices?format=json") if i["index"].startswith("restored-")] == []


def test_a_body_written_in_pieces_is_sent_once_complete(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount()
    body = restore_body(index, "pieces-").encode()
    fd = os.open(m.p(repo, "s", "restore.json"), os.O_WRONLY | os.O_TRUNC)
    try:
        before = m.stats()["requests"]
        for i in range(0, len(body), 7):
            os.write(fd, body[i:i + 7])
            if i + 7 < len(body):
                assert m.stats()["requests"] == before, "nothing sent before the document is complete"
        os.write(fd, b"\n")
    finally:
        os.close(fd)
    assert wait_until(lambda: engine.api("GET", f"/pieces-{index}/_count")[0] == 200)


def test_a_child_closing_the_file_does_not_end_the_body(engine, repo, index, mount):
    """/bin/echo inherits the descriptor and closes it when it exits, in the middle of the
    body: only the opener's close ends a body."""
    engine.snapshot(repo, "s", {"indices": index})
    m = mount()
    target = m.p(repo, "s", "restore.json")
    proc = sh(f"""{{ printf '{{"indices": '; /bin/echo -n '"{index}"'; """
              f"""printf ', "rename_pattern": "(.+)", "rename_replacement": "child-$1"}}\n'; }} > {target}""")
    assert proc.returncode == 0, proc.stderr
    assert wait_until(lambda: engine.api("GET", f"/child-{index}/_count")[0] == 200)


def test_a_write_out_of_order_is_espipe_and_sends_nothing(engine, repo, index, mount):
    """A body is the bytes written in order: a pwrite (or seek) back into it is refused."""
    engine.snapshot(repo, "s", {"indices": index})
    m = mount("cache_ttl=60")
    m.read(repo, "s", "state")
    before = m.stats()["requests"]
    fd = os.open(m.p(repo, "s", "restore.json"), os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, b'{"indices": "nomatch-')
        with pytest.raises(OSError) as e:
            os.pwrite(fd, b'{"indices": "' + index.encode() + b'"}', 0)
        assert e.value.errno == errno.ESPIPE
        with pytest.raises(OSError) as e:
            os.write(fd, index.encode() + b'"}')  # the rest of a refused body is refused too
        assert e.value.errno == errno.ESPIPE
    finally:
        os.close(fd)
    assert m.stats()["requests"] == before
    assert "ESPIPE" in m.errors()[-1]


def test_an_unfinished_body_fails_at_close(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount()
    fd = os.open(m.p(repo, "s", "restore.json"), os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b'{"indices": ')
    with pytest.raises(OSError) as e:
        os.close(fd)
    assert e.value.errno == errno.EINVAL


def test_huge_write_is_efbig_and_sends_nothing(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount("cache_ttl=60")
    m.read(repo, "s", "state")
    before = m.stats()["requests"]
    with pytest.raises(OSError) as e:
        with open(m.p(repo, "s", "restore.json"), "w") as f:
            f.write('{"indices": "' + "x" * (2 << 20) + '"}')
    assert e.value.errno == errno.EFBIG
    assert m.stats()["requests"] == before


def test_a_deleted_snapshots_restore_record_goes_with_it(engine, repo, index, mount):
    """A snapshot deleted and taken again under its name shows no restore of the old one, and
    a long-lived mount's state does not keep the records of every snapshot it ever deleted."""
    engine.snapshot(repo, "s", {"indices": index})
    m = mount()
    sh(f"echo '{{\"indices\": \"{index}\"}}' > {m.p(repo, 's', 'restore.json')}")  # refused: kept
    assert m.json(repo, "s", "restore.json")["status"] >= 400
    os.rmdir(m.p(repo, "s"))
    engine.snapshot(repo, "s", {"indices": index})
    assert m.read(repo, "s", "restore.json") == ""
    kept = [f for d, _, fs in os.walk(m.state_dir) for f in (os.path.join(d, n) for n in fs)]
    assert kept and not any(f"restore/{repo}/s" in open(f).read() for f in kept)


def test_restore_from_a_snapshot_with_an_escaped_name(engine, repo, index, mount):
    engine.snapshot(repo, "x%3fy", {"indices": index})
    m = mount()
    proc = sh(f"echo '{restore_body(index, 'esc-')}' > '{m.p(repo, 'x%3fy', 'restore.json')}'")
    assert proc.returncode == 0, proc.stderr
    assert wait_until(lambda: engine.api("GET", f"/esc-{index}/_count")[0] == 200)


# ---------------------------------------------------------------- recovery

def test_recovery_lists_restored_indices(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount("cache_ttl=0")
    assert sh(f"echo '{restore_body(index, 'rec-')}' > {m.p(repo, 's', 'restore.json')}").returncode == 0
    target = "rec-" + index
    assert wait_until(lambda: m.read("_recovery", target).startswith("DONE"), limit=60)
    line = m.read("_recovery", target)
    assert line.startswith("DONE files 100.0% ") and f"snapshot {repo}/s" in line
    raw = m.json("_recovery", target + ".json")
    assert raw == engine.ok("GET", f"/{target}/_recovery")[target]
    assert raw["shards"][0]["type"] == "SNAPSHOT"
    assert index not in os.listdir(m.p("_recovery")), "an index not restored is not listed"


def test_rm_recovery_of_a_live_index_is_eperm(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount("cache_ttl=0")
    assert sh(f"echo '{restore_body(index, 'live-')}' > {m.p(repo, 's', 'restore.json')}").returncode == 0
    target = "live-" + index
    assert wait_until(lambda: m.read("_recovery", target).startswith("DONE"))
    with pytest.raises(PermissionError):
        os.unlink(m.p("_recovery", target))
    assert count(engine, target) == 5
    assert "esfs deletes no live index" in m.errors()[-1]


def from_snapshot(engine, index):
    """Whether the engine shows a shard of index coming from a snapshot, as esfs checks
    before it deletes (the index shows in _cat/recovery a moment before)."""
    status, answer = engine.api("GET", f"/{quote(index)}/_recovery")
    shards = answer.get(index, {}).get("shards", []) if status == 200 else []
    return any(s.get("type") == "SNAPSHOT" for s in shards)


def test_rm_recovery_cancels_a_running_restore(engine, unique, big_index, mount):
    # Taken at full speed, restored at a crawl.
    repo = engine.make_repo(unique("rslow"), max_restore_bytes_per_sec="2kb")
    engine.snapshot(repo, "s", {"indices": big_index})
    m = mount("cache_ttl=0")
    assert sh(f"echo '{restore_body(big_index, 'cancel-')}' > {m.p(repo, 's', 'restore.json')}").returncode == 0
    target = "cancel-" + big_index
    assert wait_until(lambda: target in os.listdir(m.p("_recovery")))
    assert wait_until(lambda: from_snapshot(engine, target))
    assert not m.read("_recovery", target).startswith("DONE")
    os.unlink(m.p("_recovery", target))
    assert engine.api("GET", f"/{target}")[0] == 404
    engine.delete_repo(repo)


# ---------------------------------------------------------------- repositories

def test_repositories_are_registered_updated_verified_and_removed(engine, mount, unique):
    m = mount()
    name = unique("reg")
    location = os.path.join(engine.repo_root, name)
    os.mkdir(m.p(name))
    assert os.listdir(m.p(name)) == ["_settings.json"]
    assert engine.api("GET", f"/_snapshot/{name}")[0] == 404, "pending until its settings are written"
    proc = sh(f"""echo '{{"type": "fs", "settings": {{"location": "{location}"}}}}' > {m.p(name, '_settings.json')}""")
    assert proc.returncode == 0, proc.stderr
    assert engine.ok("GET", f"/_snapshot/{name}")[name]["settings"]["location"] == location
    proc = sh(f"""echo '{{"type": "fs", "settings": {{"location": "{location}", "chunk_size": "10mb"}}}}' > {m.p(name, '_settings.json')}""")
    assert proc.returncode == 0, proc.stderr
    assert engine.ok("GET", f"/_snapshot/{name}")[name]["settings"]["chunk_size"] == "10mb"
    assert m.json(name, "_settings.json")["settings"]["chunk_size"] == "10mb"
    verified = m.json(name, "_verify")
    assert len(verified["nodes"]) == 1
    os.mkdir(m.p(name, "kept"))
    assert m.read(name, "kept", "wait") == "SUCCESS\n"
    os.rmdir(m.p(name))
    assert engine.api("GET", f"/_snapshot/{name}")[0] == 404
    assert any(f.startswith("index-") for f in os.listdir(location)), "the data stays in the store"


def test_refused_registration_reaches_the_shell(engine, mount, unique):
    m = mount()
    name = unique("bad")
    os.mkdir(m.p(name))
    proc = sh(f"""echo '{{"type": "no-such-type", "settings": {{}}}}' > {m.p(name, '_settings.json')}""")
    assert proc.returncode != 0
    assert "repository type" in m.errors()[-1]
    assert engine.api("GET", f"/_snapshot/{name}")[0] == 404


def test_failed_verification_fails_cat(engine, mount, unique):
    name = unique("gone")
    blocker = os.path.join(engine.repo_root, name)
    subprocess.run(["runuser", "-u", "esfs-engine", "--", "touch", blocker], check=True)
    engine.ok("PUT", f"/_snapshot/{name}?verify=false", {"type": "fs", "settings": {"location": blocker + "/x"}})
    try:
        m = mount()
        proc = sh(f"cat {m.p(name, '_verify')}")
        assert proc.returncode != 0
        assert "exception" in proc.stdout
        fields = m.errors()[-1].split("\t")
        assert fields[1:4] == ["open", f"/{name}/_verify", "EIO"]
    finally:
        engine.delete_repo(name)
        os.unlink(blocker)


def test_pending_repository_lives_in_the_mounts_state_not_on_the_cluster(engine, mount, unique, esfs_bin):
    """A pending repository is kept in the state folder (tests/test_service.py: the same folder
    finds it again after a remount); a mount with another state folder (each Mount has its own)
    does not see it, and the engine never heard of it."""
    from esfs_harness import Mount
    name = unique("pend")
    m = Mount(engine.url, binary=esfs_bin).start()
    os.mkdir(m.p(name))
    assert name in os.listdir(m.path)
    assert m.stop() == 0
    m = mount()
    assert name not in os.listdir(m.path)
    assert engine.api("GET", f"/_snapshot/{name}")[0] == 404


def test_rm_r_on_a_repository_deletes_its_snapshots_then_unregisters(engine, repo, index, mount):
    for name in ("one", "two"):
        engine.snapshot(repo, name, {"indices": index})
    m = mount()
    proc = sh(f"rm -r {m.p(repo)}")
    assert proc.returncode == 0, proc.stderr
    assert engine.api("GET", f"/_snapshot/{repo}")[0] == 404
    engine.make_repo(repo)  # same location: the snapshots are gone from the store too
    assert snapshot_names(engine, repo) == []


# ---------------------------------------------------------------- nodelete

def test_nodelete_refuses_every_delete(engine, repo, index, mount):
    engine.snapshot(repo, "s", {"indices": index})
    m = mount("nodelete", "cache_ttl=0")
    assert sh(f"echo '{restore_body(index, 'nd-')}' > {m.p(repo, 's', 'restore.json')}").returncode == 0
    assert wait_until(lambda: "nd-" + index in os.listdir(m.p("_recovery")))
    for action in (lambda: os.rmdir(m.p(repo, "s")), lambda: os.rmdir(m.p(repo)),
                   lambda: os.unlink(m.p("_recovery", "nd-" + index)),
                   lambda: os.unlink(m.p(repo, "s", "state"))):
        with pytest.raises(PermissionError):
            action()
    assert sh(f"rm -r {m.p(repo, 's')}").returncode != 0
    assert snapshot_names(engine, repo) == ["s"]
    assert engine.api("GET", f"/_snapshot/{repo}")[0] == 200
    assert count(engine, "nd-" + index) == 5


@pytest.mark.parametrize("name", ["a?b", "a#b", "a b", "Upper", "%2e%2e%2fx", "..%2f"])
def test_odd_names_never_become_other_requests(engine, repo, index, mount, name):
    """rmdir and restore.json on a name that is no snapshot: ENOENT, and nothing is sent."""
    engine.snapshot(repo, "real", {"indices": index})
    m = mount("cache_ttl=60")
    os.listdir(m.p(repo))
    before = m.stats()["requests"]
    with pytest.raises(FileNotFoundError):
        os.rmdir(m.p(repo, name))
    proc = sh(f"echo '{restore_body(index)}' > '{m.p(repo, name, 'restore.json')}'")
    assert proc.returncode != 0
    assert m.stats()["requests"] == before
    assert snapshot_names(engine, repo) == ["real"]


NOT_UTF8 = {"invalid-byte": b"zz\xff", "lone-continuation": b"a\x80b", "cut-short": b"caf\xc3",
            "overlong-slash": b"a\xc0\xafb", "surrogate": b"x\xed\xa0\x80"}


def not_utf8_refused(m, operation, path):
    """The operation on a path with a name that is not UTF-8: EINVAL, said in /_esfs/errors."""
    with pytest.raises(OSError) as e:
        operation(path)
    assert e.value.errno == errno.EINVAL
    line = m.errors()[-1]
    assert "EINVAL" in line and "not valid UTF-8" in line
    line.encode("utf-8")  # the error line itself is valid UTF-8: the bad bytes are shown as \xNN


@pytest.mark.parametrize("name", list(NOT_UTF8.values()), ids=list(NOT_UTF8))
def test_names_that_are_not_utf8_are_einval_and_send_nothing(engine, repo, index, mount, name):
    """The engine would store U+FFFD in place of each bad sequence: another snapshot than asked
    for. mkdir (snapshot and repository), rmdir and rm refuse such names before any request."""
    engine.snapshot(repo, "real", {"indices": index})
    m = mount("cache_ttl=60")
    for folder in (m.path, m.p(repo), m.p("_recovery")):
        os.listdir(folder)  # what the lookups of the parent folders need is in the cache now
    in_repo = m.p(repo).encode() + b"/" + name
    before = m.stats()["requests"]
    not_utf8_refused(m, os.mkdir, in_repo)
    not_utf8_refused(m, os.mkdir, m.path.encode() + b"/" + name)
    not_utf8_refused(m, os.rmdir, in_repo)
    not_utf8_refused(m, os.rmdir, m.path.encode() + b"/" + name)
    not_utf8_refused(m, os.unlink, m.p("_recovery").encode() + b"/" + name)
    assert m.stats()["requests"] == before, "nothing is sent for a name esfs refuses itself"
    assert snapshot_names(engine, repo) == ["real"]
    assert sorted(engine.ok("GET", "/_snapshot")) == [repo]


def test_a_path_with_a_newline_is_one_line_in_the_errors(engine, repo, mount):
    """/_esfs/errors and the log have one failure per line: control characters in a path
    are shown as \\xNN, never written raw."""
    m = mount()
    with pytest.raises(OSError) as e:
        os.mkdir(m.p(repo, "two\nlines"))
    assert e.value.errno == errno.EINVAL
    lines = m.errors()
    assert len(lines) == 1
    assert f"/{repo}/two\\x0alines" in lines[0] and "control character 0x0a" in lines[0]
    assert f"/{repo}/two\\x0alines" in m.output()


def test_a_body_that_is_not_utf8_is_einval_and_sends_nothing(engine, repo, index, mount):
    """JSON is UTF-8: a restore naming an index in Latin-1 would restore another name."""
    engine.snapshot(repo, "s", {"indices": index})
    m = mount("cache_ttl=60")
    m.read(repo, "s", "state")
    before = m.stats()["requests"]
    with pytest.raises(OSError) as e:
        with open(m.p(repo, "s", "restore.json"), "wb") as f:
            f.write(b'{"indices": "caf\xe9", "rename_pattern": "(.+)", "rename_replacement": "r-$1"}')
    assert e.value.errno == errno.EINVAL
    assert m.stats()["requests"] == before
    assert "not UTF-8 at byte 16" in m.errors()[-1]
    with pytest.raises(OSError):
        with open(m.p(repo, "_defaults.json"), "wb") as f:
            f.write(b'{"indices": "\xff"}')
    assert m.json(repo, "_defaults.json") == {}


def test_amazon_automated_repository_is_read_only(engine, index, mount, unique):
    """cs-automated (and -enc) hold the snapshots Amazon OpenSearch Service takes itself:
    esfs changes nothing there, but restores from them."""
    engine.make_repo("cs-automated")
    auto = unique("auto")  # the folder outlives the repository: a name of its own each run
    engine.snapshot("cs-automated", auto, {"indices": index})
    m = mount("cache_ttl=60")
    m.read("cs-automated", auto, "state")
    before = m.stats()["requests"]
    for action in (lambda: os.mkdir(m.p("cs-automated", "mine")),
                   lambda: os.rmdir(m.p("cs-automated", auto))):
        with pytest.raises(OSError) as e:
            action()
        assert e.value.errno == errno.EROFS
    proc = sh(f"""echo '{{"type": "fs", "settings": {{"location": "/x"}}}}' > {m.p('cs-automated', '_settings.json')}""")
    assert proc.returncode != 0 and "Read-only file system" in proc.stderr
    assert m.stats()["requests"] == before, "refused without a request"
    proc = sh(f"echo '{restore_body(index, 'from-auto-')}' > {m.p('cs-automated', auto, 'restore.json')}")
    assert proc.returncode == 0, proc.stderr
    assert wait_until(lambda: engine.api("GET", f"/from-auto-{index}/_count")[0] == 200)
