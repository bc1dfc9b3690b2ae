"""/_esfs/metrics: the Prometheus text format, checked by promtool, with counts that agree
with what a proxy in front of the real engine saw esfs send and receive."""
import errno
import os
import re
import shlex
import shutil
import subprocess
import time

import pytest

from esfs_harness import sh
from faultproxy import FaultProxy
from test_tree import REPO_FILES


class CountingProxy(FaultProxy):
    """FaultProxy, whose record of the answers (proxy.answers) and of the connections esfs
    opened lets the test count on its own the requests by method and status class. A request
    broken on command (break_next) reaches the engine and gets no answer: status None."""

    def hold_next(self, path):
        """The next request for path is never forwarded nor answered: esfs waits out its timeout."""
        self.fault("hold", path=path)

    def break_next_of(self, method):
        """As break_next, for the next request of that method: the reads before it go through."""
        self.fault("lost", method=method)

    def counts(self):
        """{(method, "2xx" | ... | "none"): n}"""
        out = {}
        with self.lock:
            for method, status in self.answers:
                key = (method, f"{status // 100}xx" if status else "none")
                out[key] = out.get(key, 0) + 1
        return out


def parse_metrics(text):
    """{(name, ((label, value), ...)): float} of every sample."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-z_]+)(?:\{(.*)\})? (\S+)', line)
        assert m, line
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def sample(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def promtool_check(text):
    """promtool's verdict on the exposition: the format, and its lint of names, units and help."""
    proc = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def proxy(engine):
    p = CountingProxy(engine.port).start()
    yield p
    p.stop()


def test_promtool_itself_fails_a_bad_exposition():
    """The check below can fail: promtool refuses a counter without HELP or _total."""
    assert shutil.which("promtool"), "scripts/install-deps.sh installs prometheus (promtool)"
    rc, out = promtool_check("# TYPE requests counter\nrequests 1\n")
    assert rc != 0 and out


def test_metrics_after_a_mixed_workload_agree_with_the_requests_the_engine_got(engine, repo, mount,
                                                                                 proxy, unique):
    index = engine.make_index(unique("idx"))
    snap = unique("snap")
    engine.snapshot(repo, snap)
    started = time.time()
    m = mount("cache_ttl=0", urls=proxy.url)
    mounted = time.time()

    # Listing and reads.
    assert snap in os.listdir(m.p(repo))
    assert m.read(repo, snap, "state") == "SUCCESS\n"
    m.json(repo, snap, "info.json")
    m.read("_cluster", "health")
    # A snapshot taken with mkdir.
    made = unique("made")
    os.mkdir(m.p(repo, made))
    # A write refused by esfs before it sends the body: not JSON.
    sent = len(proxy.answers)
    bad = sh(f"echo 'not json' > {shlex.quote(m.p(repo, snap, 'restore.json'))}")
    assert bad.returncode != 0
    assert {method for method, _ in proxy.answers[sent:]} <= {"GET"}, "only the lookups were sent"
    # An error answer from the engine: a restore onto an open index of the same name.
    with pytest.raises(OSError) as refused:
        with open(m.p(repo, snap, "restore.json"), "w") as f:
            f.write('{"indices": "%s"}' % index)
    # A request that gets no answer at all: the connection is lost after it was sent. (A write:
    # libcurl sends a read again on its own when a reused connection died, which esfs never sees.)
    proxy.break_next_of("PUT")
    with pytest.raises(OSError) as lost:
        os.mkdir(m.p(repo, unique("lost")))
    assert lost.value.errno == errno.ECONNRESET

    text = m.read("_esfs", "metrics")
    rc, verdict = promtool_check(text)
    assert rc == 0 and verdict == "", verdict
    got = parse_metrics(text)

    # Requests by method and status class, as the proxy saw them answered.
    counted = proxy.counts()
    assert any(c in ("4xx", "5xx") for _, c in counted), f"no error answer in {counted}"
    assert counted.get(("PUT", "2xx"), 0) >= 1 and counted.get(("PUT", "none")) == 1
    for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        for cls in ("2xx", "3xx", "4xx", "5xx", "none"):
            assert sample(got, "esfs_http_requests_total", method=method, code=cls) == \
                counted.get((method, cls), 0), (method, cls, counted)
    total = len(proxy.answers)
    # Every request is in the latency histogram once; its buckets only grow.
    assert sample(got, "esfs_http_request_duration_seconds_count") == total
    assert sample(got, "esfs_http_request_duration_seconds_bucket", le="+Inf") == total
    assert sample(got, "esfs_http_request_duration_seconds_sum") > 0
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in got.items()
                     if k[0] == "esfs_http_request_duration_seconds_bucket")
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    # One new connection for each the proxy accepted.
    assert sample(got, "esfs_http_connections_opened_total") == proxy.connections
    assert sample(got, "esfs_http_transport_errors_total") == 1
    # Errors by errno: the shell's own errno for each failure the test caused.
    assert sample(got, "esfs_errors_total", errno="EINVAL") >= 1
    assert sample(got, "esfs_errors_total", errno=errno.errorcode[refused.value.errno]) >= 1
    assert sum(v for k, v in got.items() if k[0] == "esfs_errors_total") == len(m.errors())
    # esfs's own start, by the test's clock.
    assert started - 1 <= sample(got, "esfs_start_time_seconds") <= mounted + 1
    assert 0 <= sample(got, "esfs_uptime_seconds") <= time.time() - started + 1
    # /_esfs/stats is still there, with the same counts.
    assert m.stats()["requests"] == total
    # Reading the metrics sent nothing.
    m.read("_esfs", "metrics")
    assert len(proxy.answers) == total


def test_cache_counters_follow_a_known_sequence(engine, repo, mount, proxy):
    """Hits, misses, invalidations and flushes, against the GETs the engine got."""
    m = mount("cache_ttl=600", urls=proxy.url)

    def now():
        got = parse_metrics(m.read("_esfs", "metrics"))
        return {k: sample(got, "esfs_cache_" + k + "_total")
                for k in ("hits", "misses", "invalidations", "flushes")}, len(proxy.answers)

    m.read(repo, "_settings.json")
    before, sent = now()
    for _ in range(5):
        m.read(repo, "_settings.json")
    after, sent_after = now()
    assert sent_after == sent, "answers kept for cache_ttl"
    assert after["hits"] - before["hits"] >= 5
    assert after["misses"] == before["misses"]
    assert sh(f"echo 1 > {shlex.quote(m.p('_esfs', 'flush'))}").returncode == 0
    m.read(repo, "_settings.json")
    flushed, sent_flushed = now()
    assert flushed["flushes"] == before["flushes"] + 1
    assert flushed["invalidations"] >= before["invalidations"] + 1
    assert flushed["misses"] - after["misses"] == sent_flushed - sent_after >= 1


def test_failovers_are_counted_as_the_proxies_saw_them(engine, repo, mount, proxy):
    """A first node whose connections all break after the request reached it: each read then
    moves on to the next node."""
    broken = CountingProxy(engine.port).start()
    try:
        broken.break_next(10 ** 6)
        m = mount("cache_ttl=0", urls=f"{broken.url},{proxy.url}")
        assert sorted(os.listdir(m.p(repo))) == sorted(REPO_FILES)
        m.read("_cluster", "health")
        text = m.read("_esfs", "metrics")
    finally:
        broken.stop()
    rc, verdict = promtool_check(text)
    assert rc == 0, verdict
    got = parse_metrics(text)
    lost, counted = broken.counts(), proxy.counts()
    assert set(lost) == {("GET", "none")} and lost[("GET", "none")] >= 1
    assert ("GET", "none") not in counted and {method for method, _ in counted} == {"GET"}
    assert sample(got, "esfs_node_failovers_total") == lost[("GET", "none")]
    assert sample(got, "esfs_http_requests_total", method="GET", code="none") == lost[("GET", "none")]
    for cls in ("2xx", "3xx", "4xx", "5xx"):   # Elasticsearch's test build answers GET / with 4xx
        assert sample(got, "esfs_http_requests_total", method="GET", code=cls) == counted.get(("GET", cls), 0)
    assert sample(got, "esfs_http_connections_opened_total") == broken.connections + proxy.connections
    assert sample(got, "esfs_http_timeouts_total") == 0


def test_a_timeout_is_counted(engine, mount, proxy):
    """A request the engine's proxy never answers: esfs gives up after timeout=1."""
    m = mount("cache_ttl=0", "timeout=1", urls=proxy.url)
    m.read("_cluster", "health")
    proxy.hold_next("/_cluster/health")
    with pytest.raises(OSError) as timed_out:
        m.read("_cluster", "health")
    assert timed_out.value.errno == errno.ETIMEDOUT
    text = m.read("_esfs", "metrics")
    rc, verdict = promtool_check(text)
    assert rc == 0, verdict
    got = parse_metrics(text)
    counted = proxy.counts()
    assert counted[("GET", "none")] == 1
    assert sample(got, "esfs_http_requests_total", method="GET", code="none") == 1
    assert sample(got, "esfs_http_timeouts_total") == 1
    assert sample(got, "esfs_errors_total", errno="ETIMEDOUT") >= 1
    # The request that timed out took a second at least: it is not in the buckets below.
    total = sample(got, "esfs_http_request_duration_seconds_count")
    assert total == len(proxy.answers)
    assert sample(got, "esfs_http_request_duration_seconds_bucket", le="0.5") <= total - 1
    assert sample(got, "esfs_http_request_duration_seconds_sum") >= 1


def test_the_readme_textfile_collector_line_makes_a_valid_prom_file(engine, mount, tmp_path):
    """README's cron line, run as cron would (sh -c), with the mount and directory of the test."""
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")) as f:
        line = next(l for l in f if l.startswith("* * * * * root  cp /mnt/esfs/_esfs/metrics "))
    m = mount()
    command = line.split("root  ", 1)[1].strip()
    command = command.replace("/mnt/esfs", m.path).replace("/var/lib/prometheus/node-exporter", str(tmp_path))
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["esfs.prom"], "no temporary file left"
    text = (tmp_path / "esfs.prom").read_text()
    assert promtool_check(text) == (0, "")
    assert "esfs_http_requests_total{" in text
