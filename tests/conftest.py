"""pytest fixtures: the real engines of the test ground, and esfs mounts on them.

ESFS_TEST_ENGINES picks the engines (see engines.py).
ESFS_BUILDS picks the builds whose esfs is mounted (default "build" and, when
it exists, "build-asan", the ASan + UBSan build): every mount test runs once
with each.
"""
import os
import signal
import sys
import uuid

import pytest

from engines import EXTRA_ENGINES, engine_kinds
from esfs_harness import ENGINE_PORTS, ROOT, Engine, Mount

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "aws"))
import standins  # noqa: E402


# The other majors run the tests that tell the engines apart, with the release build.
EXTRA_MODULES = {"test_tree", "test_backup", "test_outage"}
# Engine restarts, a three-node cluster, the fault matrix and eight writers at once cost a
# minute or more a run: one build runs them, the last of builds() (the ASan one when it is
# built), where failover, error paths and threads meet the sanitizers.
ONE_BUILD_MODULES = {"test_restart", "test_cluster", "test_network_faults", "test_concurrency"}
# The first engine only: the AWS credential sources do not depend on the engine behind the
# gateway, and the cluster tests start clusters of their own (ESFS_TEST_CLUSTER_ENGINES).
ONE_ENGINE_MODULES = {"test_aws_chain", "test_cluster"}


def _runs_here(module, params):
    engine, build = params.get("engine"), params.get("esfs_bin")
    if engine in EXTRA_ENGINES and (module not in EXTRA_MODULES or build != "build"):
        return False
    if module in ONE_BUILD_MODULES and build is not None and build != builds()[-1]:
        return False
    return not (module in ONE_ENGINE_MODULES and engine is not None and engine != engine_kinds()[0])


def pytest_collection_modifyitems(config, items):
    """Keeps the runs on the extra engines to what tells the engines apart, and runs once
    what one engine or one build shows as well as all."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        (keep if _runs_here(item.module.__name__, params) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# A suite started in the background by a shell without job control (nohup cmd &, cron with
# "&") inherits SIGINT ignored, and so would every program a test sends Ctrl-C: such a
# program, unlike a user's, would never stop. Caught here, it is the default again in them.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

_engines = {}


def _engine(kind):
    if kind not in _engines:
        engine = Engine(kind, ENGINE_PORTS[kind]).start()
        engine.reset()  # whatever an earlier run left in its data folder
        _engines[kind] = engine
    return _engines[kind]


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("ESFS_KEEP_ENGINES"):
        return
    for engine in _engines.values():
        if engine.started_here:  # an engine that was running before the suite stays
            engine.stop()


@pytest.fixture(scope="session", params=engine_kinds())
def engine(request):
    try:
        return _engine(request.param)
    except RuntimeError as e:
        # The newer majors need a newer JDK than Debian's 17; a machine without one skips them.
        if request.param in EXTRA_ENGINES and "no JDK" in str(e):
            pytest.skip(f"{request.param}: {str(e).strip().splitlines()[-1]}")
        raise


@pytest.fixture(autouse=True)
def clean_engines():
    """Every test starts from an empty engine, whatever the one before it left."""
    yield
    for engine in _engines.values():
        if engine.kind in ENGINE_PORTS:
            engine.reset()


@pytest.fixture
def unique():
    """A fresh lowercase name, so tests never see each other's repositories."""
    return lambda prefix="t": f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def repo(engine, unique):
    name = engine.make_repo(unique("repo"))
    yield name
    engine.delete_repo(name)


def builds():
    wanted = os.environ.get("ESFS_BUILDS")
    names = wanted.split(",") if wanted else ["build", "build-asan"]
    found = [n for n in names if os.path.exists(os.path.join(ROOT, n, "esfs"))]
    if not found:
        raise RuntimeError(f"no esfs binary in {names}: build first")
    return found


@pytest.fixture(scope="session", params=builds())
def esfs_bin(request):
    return os.path.join(ROOT, request.param, "esfs")


@pytest.fixture
def mount(engine, esfs_bin):
    """A mount factory: mount(options...) mounts esfs on the engine; unmounted after the test."""
    mounts = []

    def make(*options, urls=None, env=None, state_dir=None):
        m = Mount(urls or engine.url, options, env=env, binary=esfs_bin, state_dir=state_dir).start()
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        assert m.stop() == 0, m.output()


# ---- the AWS stand-ins (tests/aws/), for test_aws_mount.py and test_aws_chain.py

@pytest.fixture
def gateway(engine):
    started = []

    def make(*args):
        g = standins.gateway(engine.url, *args, region=standins.REGION)
        started.append(g)
        return g

    yield make
    for g in started:
        g.stop()


@pytest.fixture
def fixed_gateway(gateway):
    return gateway("--access-key-id", standins.KEY_ID, "--secret-access-key", standins.SECRET)


@pytest.fixture
def aws_mount(esfs_bin):
    mounts = []

    def make(url, env, *options, cache_ttl=0):
        m = Mount(url, ("aws_sigv4", f"aws_region={standins.REGION}",
                        f"cache_ttl={cache_ttl}") + options,
                  env={**standins.NO_AWS_ENV, **env}, binary=esfs_bin).start()
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        assert m.stop() == 0, m.output()
