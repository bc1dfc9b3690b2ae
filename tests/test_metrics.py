"""/_esfs/metrics: the Prometheus text format, checked by promtool, with counts that agree
with what a proxy in front of the real engine saw esfs send and receive."""
import errno
import os
import re
import shlex
import shutil
import socket
import subprocess
import time

import pytest

from esfs_harness import sh
from faultproxy import FaultProxy, reset
from test_tree import REPO_FILES


class CountingProxy(FaultProxy):
    """FaultProxy that also reads each answer, so that the test counts on its own the requests
    by method and status class, and the connections esfs opened. A request broken on command
    (break_next) reaches the engine and gets no answer: counted with status None."""

    def __init__(self, upstream_port):
        super().__init__(upstream_port)
        self.answers = []       # (method, status or None) of every request forwarded
        self.connections = 0
        self.method_to_break = None
        self.path_to_hold = None

    def hold_next(self, path):
        """The next request for path is never forwarded nor answered: esfs waits out its timeout."""
        with self.lock:
            self.path_to_hold = path

    def break_next_of(self, method):
        """As break_next, for the next request of that method: the reads before it go through."""
        with self.lock:
            self.method_to_break = method

    def counts(self):
        """{(method, "2xx" | ... | "none"): n}"""
        out = {}
        with self.lock:
            for method, status in self.answers:
                key = (method, f"{status // 100}xx" if status else "none")
                out[key] = out.get(key, 0) + 1
        return out

    def _serve(self, client):
        with self.lock:
            self.connections += 1
        upstream = socket.create_connection(self.upstream)
        reader, answers = client.makefile("rb"), upstream.makefile("rb")
        try:
            while True:
                head = self._read_head(reader)
                if head is None:
                    break
                method, path, headers, raw = head
                body = reader.read(int(headers.get("content-length", "0")))
                with self.lock:
                    held = path == self.path_to_hold
                    if held:
                        self.path_to_hold = None
                        self.requests.append((method, path, headers))
                        self.answers.append((method, None))
                if held:
                    client.recv(1)      # until esfs gives up and closes the connection
                    break
                with self.lock:
                    self.requests.append((method, path, headers))
                    broken = self.to_break > 0 or method == self.method_to_break
                    self.to_break -= self.to_break > 0
                    if method == self.method_to_break:
                        self.method_to_break = None
                upstream.sendall(raw + body)
                status, answer = read_answer(answers, method)
                with self.lock:
                    self.answers.append((method, None if broken else status))
                if broken:
                    break
                client.sendall(answer)
        except OSError:
            pass
        finally:
            reset(client)
            reset(upstream)


def read_answer(f, method):
    """(status, raw bytes) of one HTTP/1.1 answer: its head, then its body as the head frames it."""
    lines = [f.readline(65536)]
    while lines[-1] not in (b"\r\n", b"\n", b""):
        lines.append(f.readline(65536))
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:-1]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    raw = b"".join(lines)
    if method == "HEAD" or status in (204, 304) or status < 200:
        return status, raw
    if "chunked" in headers.get("transfer-encoding", ""):
        while True:
            size_line = f.readline(65536)
            raw += size_line
            size = int(size_line.split(b";")[0], 16)
            raw += f.read(size + 2)
            if size == 0:
                if not raw.endswith(b"\r\n\r\n"):     # trailers, then the empty line
                    while True:
                        line = f.readline(65536)
                        raw += line
                        if line in (b"\r\n", b"\n", b""):
                            break
                return status, raw
    return status, raw + f.read(int(headers.get("content-length", "0")))


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
