"""esfs as a system service: systemd's readiness protocol (READY=1 on $NOTIFY_SOCKET only once the
mount answers), -o wait_for_cluster (no node within the time: exit non-zero, nothing mounted), and
the state kept in -o state_dir between mounts, one folder per cluster UUID."""
import json
import os
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

import conftest
from engines import MAIN_ENGINES, engine_kinds
from esfs_harness import Mount, sh, wait_until
from faultproxy import FaultProxy


# ---------------------------------------------------------------- helpers

class Listener:
    """The receiving end of $NOTIFY_SOCKET, as systemd holds it: a unix datagram socket."""

    def __init__(self, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.name = f"@esfs-test-{uuid.uuid4().hex}"
            self.sock.bind("\0" + self.name[1:])
        else:
            self.dir = tmp = tempfile.mkdtemp(prefix="esfs-ntf-")
            self.name = os.path.join(tmp, "notify")
            self.sock.bind(self.name)

    def next(self, limit):
        """The next datagram as {VAR: value}, or None when none came within limit seconds."""
        self.sock.settimeout(limit)
        try:
            data = self.sock.recv(65536).decode()
        except socket.timeout:
            return None
        return dict(line.split("=", 1) for line in data.split("\n") if line)

    def all(self):
        messages = []
        while (m := self.next(0.2)) is not None:
            messages.append(m)
        return messages

    def close(self):
        self.sock.close()
        if not self.name.startswith("@"):
            os.unlink(self.name)
            os.rmdir(self.dir)


@pytest.fixture
def listener():
    made = []

    def make(abstract=False):
        made.append(Listener(abstract))
        return made[-1]

    yield make
    for one in made:
        one.close()


def spawn(m):
    """Starts the Mount's esfs without waiting for the mount: what comes first is the test's business."""
    m.log = open(m.log_path, "w+")
    m.proc = subprocess.Popen(m.argv(), stdout=m.log, stderr=subprocess.STDOUT, env=m.env)
    return m


def closed_port():
    """A port on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mounted_in_proc(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == str(path) for line in f)


def cluster_uuid(engine):
    answer = engine.ok("GET", "/_cluster/state/metadata?filter_path=metadata.cluster_uuid")
    return answer["metadata"]["cluster_uuid"]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def preload_env(esfs_bin, library):
    """LD_PRELOAD of one of tests/unit's shims, for either build (ASan wants to come first)."""
    build = os.path.dirname(esfs_bin)
    return {"LD_PRELOAD": os.path.join(build, "tests", "unit", library),
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:verify_asan_link_order=0"}


# ---------------------------------------------------------------- readiness

def test_ready_comes_once_the_mount_answers_and_stopping_at_unmount(engine, esfs_bin, listener):
    """mount(2) is made to take a second (tests/unit/slowmount.c): a READY=1 sent before the mount
    was in place would arrive while the mount point is still an empty folder."""
    notify = listener()
    env = dict(preload_env(esfs_bin, "libslowmount.so"), NOTIFY_SOCKET=notify.name)
    m = spawn(Mount(engine.url, env=env, binary=esfs_bin))
    try:
        message = notify.next(30)
        # At the moment READY arrives, the tree answers.
        is_mount = os.path.ismount(m.path)
        names = os.listdir(m.path)
        assert message is not None, m.output()
        assert message.get("READY") == "1", message
        assert is_mount and "_cluster" in names, names
        assert message["MAINPID"] == str(m.proc.pid)
        assert message["STATUS"].startswith(f"node {engine.url}; requests "), message
        assert "failed operations 0" in message["STATUS"]
        assert os.listdir(m.state_dir) == [], "a mount that keeps nothing writes nothing"
    finally:
        assert m.stop() == 0
    assert notify.next(10) == {"STOPPING": "1"}


def test_a_mount_on_an_absent_cluster_is_ready_and_says_so_in_the_tree(esfs_bin, listener):
    """Without -o wait_for_cluster (today's behaviour, for nofail at boot): the mount is in place
    and ready, and the tree reports the cluster's absence. Abstract sockets ('@') work too."""
    notify = listener(abstract=True)
    m = Mount(f"http://127.0.0.1:{closed_port()}", env={"NOTIFY_SOCKET": notify.name},
              binary=esfs_bin).start()
    try:
        message = notify.next(30)
        assert message is not None and message.get("READY") == "1", m.output()
        assert "stats" in os.listdir(m.p("_esfs"))
        with pytest.raises(ConnectionRefusedError):
            m.read("_cluster", "health")
    finally:
        assert m.stop() == 0


# ---------------------------------------------------------------- wait_for_cluster

def run_esfs(esfs_bin, args, mnt, env=None, limit=60):
    """(CompletedProcess, seconds, whether anything was mounted on mnt), the mount undone if any."""
    start = time.monotonic()
    try:
        proc = subprocess.run([esfs_bin, *args, str(mnt)], capture_output=True, text=True,
                              timeout=limit, env=dict(os.environ, **(env or {})))
        elapsed = time.monotonic() - start
        mounted = mounted_in_proc(mnt) or os.path.ismount(mnt)
    finally:
        subprocess.run(["fusermount3", "-uz", str(mnt)], capture_output=True)
    return proc, elapsed, mounted


@pytest.mark.parametrize("foreground", [True, False], ids=["foreground", "background"])
def test_wait_for_cluster_fails_the_start_and_mounts_nothing(esfs_bin, tmp_path, listener, foreground):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    state = tmp_path / "state"
    notify = listener()
    args = (["-f"] if foreground else []) + [
        "-o", "wait_for_cluster=3", "-o", f"state_dir={state}", f"http://127.0.0.1:{closed_port()}"]
    proc, elapsed, mounted = run_esfs(esfs_bin, args, mnt, env={"NOTIFY_SOCKET": notify.name})
    assert proc.returncode != 0
    assert not mounted
    assert 2.5 <= elapsed <= 3 + 2, f"gave up after {elapsed:.1f}s"
    assert "no node answered within 3 seconds: ECONNREFUSED" in proc.stderr
    assert "nothing is mounted" in proc.stderr
    messages = notify.all()
    assert not any("READY" in m for m in messages), messages
    assert any(m.get("STATUS", "").startswith("no node answered within 3 seconds") for m in messages)
    assert not state.exists(), "nothing is written for a cluster that never answered"


def test_wait_for_cluster_bounds_a_node_that_never_answers(esfs_bin, tmp_path):
    """A node that takes the connection and never answers: each request is cut to the time left,
    whatever -o timeout says, so the start fails within the wait and a small margin."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    silent = socket.create_server(("127.0.0.1", 0), backlog=64)   # never accepts, never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        proc, elapsed, mounted = run_esfs(esfs_bin, [
            "-f", "-o", "wait_for_cluster=2", "-o", "timeout=30", "-o", "connect_timeout=20",
            "-o", f"state_dir={tmp_path / 'state'}", url], mnt)
    finally:
        silent.close()
    assert proc.returncode != 0
    assert not mounted
    assert elapsed <= 2 + 1.5, f"gave up after {elapsed:.1f}s"
    assert "ETIMEDOUT" in proc.stderr


def test_wait_for_cluster_mounts_once_a_node_answers(engine, esfs_bin):
    """The cluster comes up 2 s into the wait: the mount follows, and works."""
    port = closed_port()
    proxies = []
    # Made only then: a proxy listens from the moment it is made.
    timer = threading.Timer(2, lambda: proxies.append(FaultProxy(engine.port, port=port).start()))
    m = Mount(f"http://127.0.0.1:{port}", ["wait_for_cluster=20"], binary=esfs_bin)
    start = time.monotonic()
    timer.start()
    try:
        m.start(timeout=30)
        assert time.monotonic() - start >= 1.5
        assert m.read("_cluster", "health") in ("green\n", "yellow\n")
    finally:
        timer.join()
        assert m.stop() == 0
        for proxy in proxies:
            proxy.stop()


# ---------------------------------------------------------------- state between mounts

RESTORE = '{"indices": "%s", "rename_pattern": "(.+)", "rename_replacement": "again-$1"}'


def test_defaults_pending_repository_and_restore_record_survive_a_remount(engine, repo, esfs_bin,
                                                                           unique, tmp_path):
    state = str(tmp_path / "state")
    index = engine.make_index(unique("data"))
    engine.snapshot(repo, "s", {"indices": index})
    pending = unique("pend")
    defaults = {"indices": index, "include_global_state": False}
    with Mount(engine.url, binary=esfs_bin, state_dir=state) as m:
        write(m.p(repo, "_defaults.json"), json.dumps(defaults))
        os.mkdir(m.p(pending))
        proc = sh(f"echo '{RESTORE % index}' > {m.p(repo, 's', 'restore.json')}")
        assert proc.returncode == 0, proc.stderr
        record = m.json(repo, "s", "restore.json")
        assert record["status"] == 200
    with Mount(engine.url, binary=esfs_bin, state_dir=state) as m:
        assert m.json(repo, "_defaults.json") == defaults
        assert pending in os.listdir(m.path)
        assert os.listdir(m.p(pending)) == ["_settings.json"]
        assert m.json(repo, "s", "restore.json") == record
        # The next snapshot takes the kept body: the index alone.
        os.mkdir(m.p(repo, "after"))
        assert m.read(repo, "after", "wait") == "SUCCESS\n"
        assert engine.snapshot_info(repo, "after")["indices"] == [index]
        # Registering the pending repository ends its pending state, for the next mount too.
        location = os.path.join(engine.repo_root, pending)
        write(m.p(pending, "_settings.json"), json.dumps({"type": "fs", "settings": {"location": location}}))
    with Mount(engine.url, binary=esfs_bin, state_dir=state) as m:
        os.rmdir(m.p(pending))
        assert pending not in os.listdir(m.path)
    # One folder, the cluster's UUID, that only its owner reads; no credential anywhere in it.
    key = cluster_uuid(engine)
    assert os.listdir(state) == [key]
    folder = os.path.join(state, key)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    # The mount's state, and the start times of the repository's finished snapshots.
    files = os.listdir(folder)
    assert "mount.json" in files
    assert all(f == "mount.json" or f.startswith("starts-") for f in files), files
    for f in files:
        assert stat.S_IMODE(os.stat(os.path.join(folder, f)).st_mode) == 0o600


def test_another_cluster_does_not_see_the_state(engine, esfs_bin, unique, tmp_path):
    others = [k for k in MAIN_ENGINES if k != engine.kind and k in engine_kinds()]
    if not others:
        pytest.skip("needs a second engine kind: another cluster")
    other = conftest._engine(others[0])
    state = str(tmp_path / "state")
    name, pending = unique("shared"), unique("pend")
    engine.make_repo(name)
    other.make_repo(name)       # the same repository name on both clusters
    defaults = {"indices": "only-here", "include_global_state": False}
    with Mount(engine.url, binary=esfs_bin, state_dir=state) as m:
        write(m.p(name, "_defaults.json"), json.dumps(defaults))
        os.mkdir(m.p(pending))
    with Mount(other.url, binary=esfs_bin, state_dir=state) as m:
        assert m.json(name, "_defaults.json") == {}
        assert pending not in os.listdir(m.path)
        write(m.p(name, "_defaults.json"), '{"indices": "only-there"}')
    with Mount(engine.url, binary=esfs_bin, state_dir=state) as m:
        assert m.json(name, "_defaults.json") == defaults
        assert pending in os.listdir(m.path)
    assert sorted(os.listdir(state)) == sorted([cluster_uuid(engine), cluster_uuid(other)])


@pytest.mark.parametrize("content", ['{"version": 1, "pending": ["a"', "\x00\xff not json at all",
                                     '{"version": 1, "pending": ["../up"], "texts": {}}'],
                         ids=["cut", "binary", "bad-name"])
def test_a_corrupted_state_file_leaves_a_working_mount_and_a_log_line(engine, repo, esfs_bin,
                                                                       tmp_path, content):
    state = tmp_path / "state"
    folder = state / cluster_uuid(engine)
    folder.mkdir(parents=True, mode=0o700)
    (folder / "mount.json").write_text(content)
    defaults = {"indices": "x", "include_global_state": False}
    with Mount(engine.url, binary=esfs_bin, state_dir=str(state)) as m:
        assert m.json(repo, "_defaults.json") == {}
        write(m.p(repo, "_defaults.json"), json.dumps(defaults))
        assert m.json(repo, "_defaults.json") == defaults
        assert "cannot use the saved state" in m.output()
        fields = m.errors()[-1].split("\t")
        assert fields[1:3] == ["state", f"{folder}/mount.json"], fields
    # The unusable file is kept as it was, beside the new one; the next mount finds the new state.
    aside = [f for f in os.listdir(folder) if f.startswith("mount.json.bad-")]
    assert len(aside) == 1
    assert (folder / aside[0]).read_text() == content
    with Mount(engine.url, binary=esfs_bin, state_dir=str(state)) as m:
        assert m.json(repo, "_defaults.json") == defaults


def test_state_is_found_once_an_absent_cluster_answers(engine, repo, esfs_bin, tmp_path):
    """Mounted while no node answered: the cluster's UUID is not known, so neither is its state
    folder; the first access after the cluster is back finds it."""
    state = str(tmp_path / "state")
    defaults = {"indices": "kept", "include_global_state": False}
    with Mount(engine.url, binary=esfs_bin, state_dir=state) as m:
        write(m.p(repo, "_defaults.json"), json.dumps(defaults))
    port = closed_port()
    m = Mount(f"http://127.0.0.1:{port}", binary=esfs_bin, state_dir=state).start()
    proxy = None
    try:
        with pytest.raises(ConnectionRefusedError):
            os.listdir(m.path)
        proxy = FaultProxy(engine.port, port=port).start()
        assert wait_until(lambda: m.json(repo, "_defaults.json") == defaults, limit=15), m.output()
    finally:
        assert m.stop() == 0
        if proxy:
            proxy.stop()


def test_an_unusable_state_dir_leaves_a_working_mount(engine, repo, esfs_bin, tmp_path):
    """state_dir names a file: nothing can be kept, which the log says; the mount works as before."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with Mount(engine.url, binary=esfs_bin, state_dir=str(blocker)) as m:
        write(m.p(repo, "_defaults.json"), '{"indices": "x"}')
        assert m.json(repo, "_defaults.json") == {"indices": "x"}
        assert "keeps its state in memory only" in m.output()


def test_sigterm_unmounts_and_exits_0(engine, esfs_bin, listener):
    """systemctl stop sends SIGTERM to the main process: the mount goes, esfs says STOPPING=1 and
    exits 0 (libfuse's fuse_main returns 8 for a loop ended by a signal, which left the unit
    failed)."""
    notify = listener()
    m = spawn(Mount(engine.url, env={"NOTIFY_SOCKET": notify.name}, binary=esfs_bin))
    message = notify.next(30)
    assert message is not None and message.get("READY") == "1", m.output()
    m.proc.send_signal(signal.SIGTERM)
    rc = m.proc.wait(timeout=30)
    assert notify.next(10) == {"STOPPING": "1"}
    assert not mounted_in_proc(m.path)
    assert m.stop() == 0      # nothing left to unmount; the sanitizer reports are checked
    assert rc == 0, m.output()
