"""Nothing leaves loopback: the suite runs (in scripts/test.sh) in a network namespace
with only loopback, and esfs's AWS defaults are only used when nothing overrides them;
answers from a node on loopback are not asked for gzipped, where it costs the engine and pays
nothing."""
import errno
import os
import socket
import subprocess

import pytest

from esfs_harness import ROOT, snapshot_names
from faultproxy import FaultProxy

isolated = pytest.mark.skipif(not os.environ.get("ESFS_TEST_ISOLATED"),
                              reason="scripts/test.sh runs the suite with only loopback")


@isolated
def test_only_loopback_is_reachable():
    for address in (("169.254.169.254", 80), ("169.254.170.2", 80), ("10.0.0.1", 443)):
        s = socket.socket()
        s.settimeout(2)
        with pytest.raises(OSError) as e:
            s.connect(address)
        s.close()
        assert e.value.errno == errno.ENETUNREACH
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


@isolated
def test_esfs_with_no_credentials_tries_nothing_but_the_default_metadata_address(tmp_path):
    """No AWS credentials anywhere and instance metadata not disabled: esfs asks the default
    IMDS address (which here cannot be reached) and refuses to mount, quickly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_CONFIG_FILE=str(tmp_path / "none"))
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run([os.path.join(ROOT, "build", "esfs"), "-f", "-o", "aws_sigv4,aws_region=us-east-1",
                           "http://127.0.0.1:9", str(mnt)], env=env, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode != 0
    assert "credentials" in proc.stderr.lower()


@isolated
def test_engine_sh_refuses_to_download_inside_the_namespace(tmp_path):
    """An engine that was not fetched before the network was cut off is a one-line error that
    names it, and no download is tried (scripts/test.sh fetches every engine first)."""
    assert os.environ.get("ESFS_ENGINE_OFFLINE") == "1"
    env = dict(os.environ, ESFS_ENGINE_ROOT=str(tmp_path / "empty"))
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "engine.sh"), "fetch", "opensearch3"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "opensearch3" in lines[0] and "org.opensearch.distribution.integ-test-zip:opensearch:3." in lines[0]
    assert "was not fetched" in lines[0]
    assert not (tmp_path / "empty" / "downloads").exists()


def test_every_engine_of_the_suite_is_fetched_before_it_runs():
    """What scripts/test.sh fetched is what the engine fixtures start: each kind's
    distribution is in the engine cache when the tests begin."""
    from engines import kinds_to_fetch
    root = os.environ.get("ESFS_ENGINE_ROOT", "/var/tmp/esfs-engines")
    script = os.path.join(ROOT, "scripts", "engine.sh")
    for kind in kinds_to_fetch():
        env = dict(os.environ, ESFS_ENGINE_OFFLINE="1")
        proc = subprocess.run(["bash", script, "fetch", kind], env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, f"{kind} is not in {root}: {proc.stderr}"
        assert "already in" in proc.stderr


@pytest.mark.parametrize("options,gzipped", [((), False), (("compression=gzip",), True),
                                             (("compression=none",), False)],
                         ids=["auto-on-loopback", "gzip", "none"])
def test_answers_are_asked_for_gzipped_only_where_it_pays(engine, repo, mount, options, gzipped):
    engine.snapshot(repo, "one", {"indices": "-*", "include_global_state": False})
    proxy = FaultProxy(engine.port).start()
    try:
        m = mount(*options, urls=proxy.url)
        assert snapshot_names(engine, repo) == ["one"]
        assert "one" in os.listdir(m.p(repo))       # the listing, decoded when gzipped
        with open(m.p(repo, "one", "state")) as f:
            assert f.read().strip() == "SUCCESS"
        asked = {path: "gzip" in headers.get("accept-encoding", "") for _, path, headers in proxy.requests}
        assert any("/_all" in path for path in asked), asked
        assert set(asked.values()) == {gzipped}, asked
    finally:
        proxy.stop()
