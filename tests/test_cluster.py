"""esfs on a three-node cluster that loses the node esfs is talking to.

Three real nodes of one engine on loopback (scripts/engine.sh with ESFS_ENGINE_PEERS), esfs
given all three URLs. A node is killed with SIGKILL while esfs uses it: reads go on on the
next node and no error reaches the shell; a write whose answer died with its node is not sent
again, fails with a line in /_esfs/errors saying its outcome is unknown, and the tree then
shows what the cluster did. The killed node is started again after each test, so each test
finds the cluster whole.
"""
import errno
import json
import os
import signal
import threading
import time

import pytest

from engines import MAIN_ENGINES, engine_kinds
from esfs_harness import Engine, quote, snapshot_names, wait_until

_OFFSET = int(os.environ.get("ESFS_TEST_PORT_OFFSET", "0"))
# Three HTTP ports per kind, clear of the single nodes' (9201-9204) and the secure one (9231).
CLUSTER_PORTS = {"opensearch": (9241, 9242, 9243), "elasticsearch": (9244, 9245, 9246)}
# A three-node cluster of each kind costs its start-up and two minutes: CI runs OpenSearch's,
# ESFS_TEST_CLUSTER_ENGINES=opensearch,elasticsearch adds Elasticsearch's.
KINDS = [k for k in os.environ.get("ESFS_TEST_CLUSTER_ENGINES", "opensearch").split(",")
         if k in MAIN_ENGINES and k in engine_kinds()]
WRITE_TIMEOUT = 10


class ClusterNode(Engine):
    """One member: engine.sh with the list of its peers."""

    def __init__(self, kind, port, peers):
        super().__init__(kind, port)
        self.peers = peers

    def script(self, *args, check=True, env=None):
        return super().script(*args, check=check, env={**(env or {}), "ESFS_ENGINE_PEERS": self.peers})

    def pid(self):
        """The node's pid, or None once it is gone."""
        out = self.script("pid", check=False).stdout.strip()
        return int(out) if out.isdigit() else None

    def alive(self):
        pid = self.pid()
        try:
            return pid is not None and os.kill(pid, 0) is None
        except OSError:
            return False


class Cluster:
    def __init__(self, kind):
        ports = [p + _OFFSET for p in CLUSTER_PORTS[kind]]
        peers = ",".join(map(str, ports))
        self.nodes = [ClusterNode(kind, p, peers) for p in ports]
        self.urls = ",".join(n.url for n in self.nodes)

    def start(self):
        """All three side by side: none is yellow before a majority of them is up."""
        failures = []

        def start(node):
            try:
                node.start()
            except Exception as e:  # noqa: BLE001 - said below, in the test's thread
                failures.append(repr(e))

        threads = [threading.Thread(target=start, args=(n,)) for n in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise RuntimeError("\n".join(failures))
        self.wait_whole()
        return self

    def live(self):
        return next(n for n in self.nodes if n.alive())

    def wait_whole(self):
        status, health = self.live().api(
            "GET", "/_cluster/health?wait_for_nodes=3&wait_for_status=green&timeout=120s", timeout=130)
        assert status == 200 and health["number_of_nodes"] == 3, health

    def kill(self, node):
        os.kill(node.pid(), signal.SIGKILL)
        assert wait_until(lambda: not node.alive(), limit=30)

    def freeze(self, node):
        """The node stops answering but keeps its sockets: requests reach it and wait."""
        os.kill(node.pid(), signal.SIGSTOP)

    def revive(self, node):
        if node.alive():
            os.kill(node.pid(), signal.SIGCONT)
        else:
            node.start()
        self.wait_whole()

    def reset(self):
        """No repository, no index: what a test made goes."""
        engine = self.live()
        indices = [i["index"] for i in engine.ok("GET", "/_cat/indices?format=json&h=index")
                   if not i["index"].startswith(".")]
        if indices:
            engine.api("DELETE", "/" + ",".join(quote(i) for i in indices))
        for repo in engine.ok("GET", "/_snapshot"):
            engine.delete_repo(repo)

    def stop(self):
        for n in self.nodes:
            if n.alive():
                os.kill(n.pid(), signal.SIGCONT)
            n.stop()


@pytest.fixture(scope="module", params=KINDS)
def cluster(request):
    c = Cluster(request.param).start()
    c.reset()
    yield c
    if not os.environ.get("ESFS_KEEP_ENGINES"):
        c.stop()


@pytest.fixture
def ground(cluster, unique):
    """A repository on the members' shared path.repo and an index of two shards with a replica,
    so that every shard survives the loss of any one node."""
    node = cluster.live()
    repo = node.make_repo(unique("repo"))
    index = unique("idx")
    node.ok("PUT", f"/{index}", {"settings": {"number_of_shards": 2, "number_of_replicas": 1}})
    node.make_index(index, docs=5)
    cluster.wait_whole()
    yield repo, index
    for n in cluster.nodes:
        cluster.revive(n)
    cluster.reset()


@pytest.fixture
def cluster_mount(cluster, mount):
    """esfs on the three URLs; a write to a frozen node would wait write_timeout."""
    def make(*options):
        m = mount(f"write_timeout={WRITE_TIMEOUT}", *options, urls=cluster.urls)
        assert m.read("_cluster", "health")  # the first node answers: it is the one in use
        return m
    return make


def in_use(cluster, m):
    """The node esfs sends to now: the first URL answered, and esfs stays on it."""
    return cluster.nodes[0]


def test_reads_go_on_when_the_node_in_use_is_killed(cluster, ground, cluster_mount):
    repo, index = ground
    node = cluster.live()
    for name in ("one", "two"):
        node.snapshot(repo, name, {"indices": index, "include_global_state": False})
    m = cluster_mount("cache_ttl=0")  # every read a request: none is answered from memory
    errors, rounds, stop = [], [0], threading.Event()

    def read_loop():
        while not stop.is_set():
            try:
                assert sorted(os.listdir(m.p(repo))) == sorted(
                    ["_settings.json", "_defaults.json", "_cleanup", "_policy.json", "_policy",
                     "_latest", "one", "two"])
                for name in ("one", "two"):
                    assert m.read(repo, name, "state") == "SUCCESS\n"
                    assert m.read(repo, name, "indices") == index + "\n"
                    assert m.json(repo, name, "info.json")["snapshot"] == name
                m.read("_cluster", "health")
                rounds[0] += 1
            except (OSError, AssertionError) as e:
                errors.append(repr(e))

    readers = [threading.Thread(target=read_loop, daemon=True) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        assert wait_until(lambda: rounds[0] >= 10, limit=60)
        cluster.kill(in_use(cluster, m))
        done, killed = rounds[0], time.time()
        assert wait_until(lambda: (rounds[0] >= done + 30 and time.time() > killed + 5) or errors,
                          limit=120)
    finally:
        stop.set()
        for t in readers:
            t.join(30)
    assert errors == []
    assert m.stats()["node_failovers"] >= 1
    assert m.errors() == []


@pytest.mark.parametrize("action", ["mkdir", "rmdir", "restore"])
def test_a_write_whose_node_dies_is_not_sent_again_and_the_tree_tells_the_truth(
        cluster, ground, cluster_mount, action):
    repo, index = ground
    node = cluster.live()
    node.snapshot(repo, "there", {"indices": index, "include_global_state": False})
    # What the write looks up first is in the cache: the write itself is what meets the node.
    m = cluster_mount("cache_ttl=60")
    m.read(repo, "_defaults.json")
    os.listdir(m.p(repo))
    os.listdir(m.p(repo, "there"))
    m.read(repo, "there", "restore.json")
    before = m.stats()
    victim = in_use(cluster, m)
    # Frozen, the node takes the request into its socket and never answers; killed, it is gone.
    cluster.freeze(victim)
    outcome = {}

    def act():
        t0 = time.time()
        try:
            if action == "mkdir":
                os.mkdir(m.p(repo, "during"))
            elif action == "rmdir":
                os.rmdir(m.p(repo, "there"))
            else:
                with open(m.p(repo, "there", "restore.json"), "w") as f:
                    f.write(json.dumps({"indices": index, "rename_pattern": "(.+)",
                                        "rename_replacement": "back-$1"}))
            outcome["errno"] = 0
        except OSError as e:
            outcome["errno"] = e.errno
        outcome["took"] = time.time() - t0

    writer = threading.Thread(target=act)
    writer.start()
    time.sleep(1.5)
    cluster.kill(victim)
    writer.join(30)
    assert not writer.is_alive(), "the write came back within its timeout"
    assert outcome["errno"] in (errno.ECONNRESET, errno.ETIMEDOUT), (outcome, m.errors())
    assert outcome["took"] < WRITE_TIMEOUT + 2, (outcome, m.errors())
    method = {"mkdir": "requests_put", "rmdir": "requests_delete", "restore": "requests_post"}[action]
    assert m.stats()[method] == before[method] + 1, "sent once, never again to another node"
    assert any("outcome is unknown" in line or "whether the cluster did it is unknown" in line
               for line in m.errors()), m.errors()
    # The frozen node never read the request: the cluster did nothing, and the tree says so.
    other = cluster.live()
    assert snapshot_names(other, repo) == ["there"]
    assert other.api("GET", f"/back-{index}")[0] == 404
    assert wait_until(lambda: sorted(e for e in os.listdir(m.p(repo)) if not e.startswith("_"))
                      == ["there"], limit=10)
    assert m.read(repo, "there", "state") == "SUCCESS\n"
