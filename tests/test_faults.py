"""esfs and a connection that breaks: a TCP proxy (tests/faultproxy.py) between esfs and a
real engine passes every byte through, records each request, and resets the connection of
the next requests after they reached the engine, before any answer comes back."""
import errno
import os

import pytest

from faultproxy import FaultProxy
from esfs_harness import snapshot_names


@pytest.fixture
def proxy(engine):
    p = FaultProxy(engine.port).start()
    yield p
    p.stop()


def test_requests_name_esfs_and_bodiless_writes_say_content_length_0(engine, repo, mount, proxy):
    """Some proxies answer 411 to a POST without Content-Length (as _verify's is)."""
    m = mount(urls=proxy.url)
    assert m.json(repo, "_verify")["nodes"]
    posts = [r for r in proxy.requests if r[0] == "POST"]
    assert [r[1] for r in posts] == [f"/_snapshot/{repo}/_verify"]
    assert posts[0][2].get("content-length") == "0"
    assert {r[2].get("user-agent") for r in proxy.requests} == {"esfs/0.1.0"}


def test_a_read_that_loses_its_connection_goes_to_the_next_node(engine, repo, mount, proxy):
    engine.snapshot(repo, "one")
    m = mount(urls=f"{proxy.url},{engine.url}")
    assert m.read("_cluster", "health")  # the proxy's node answers; it is tried first from now on
    # Two: libcurl itself sends a read again once on a fresh connection when a reused one died.
    proxy.break_next(2)
    assert "one" in os.listdir(m.p(repo))
    assert m.stats()["node_failovers"] >= 1
    assert m.errors() == []


def test_a_lost_answer_does_not_rest_a_healthy_node(engine, repo, mount, proxy):
    """A connection that breaks says nothing against the node: the next request goes to it at
    once. (The kernel looks a name up again when a lookup fails, so the read still succeeds;
    with the node rested for a second, that second lookup failed unsent, and the read too.)"""
    m = mount("cache_ttl=0", urls=proxy.url)
    assert m.read("_cluster", "health")
    sent = len(proxy.requests)
    proxy.break_next(2)  # libcurl sends a read again once on a fresh connection
    assert m.read("_cluster", "health") in ("green\n", "yellow\n")
    assert "\tECONNRESET\t" in m.errors()[-1]
    assert len(proxy.requests) >= sent + 3, "the request after the lost one was sent"


def test_a_write_that_loses_its_answer_is_not_sent_again(engine, repo, mount, proxy):
    """The engine got the PUT; its answer was lost. Sending it again, to this node or the next,
    could do it twice: esfs reports the failure instead, and the tree shows what happened."""
    m = mount(urls=f"{proxy.url},{engine.url}")
    assert m.read("_cluster", "health")
    os.listdir(m.p(repo))
    proxy.break_next()
    with pytest.raises(OSError) as e:
        os.mkdir(m.p(repo, "once"))
    assert e.value.errno == errno.ECONNRESET
    assert proxy.methods().count("PUT") == 1
    assert m.stats()["requests_put"] == 1
    assert snapshot_names(engine, repo) == ["once"]
