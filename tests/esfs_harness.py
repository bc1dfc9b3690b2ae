"""Helpers for the esfs integration tests: real engines, REST calls, mounts.

The engines are real OpenSearch and Elasticsearch nodes started by
scripts/engine.sh; nothing here imitates them.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENGINE_SH = os.path.join(ROOT, "scripts", "engine.sh")

# Each engine kind the suite knows, with the port its test node listens on;
# ESFS_TEST_PORT_OFFSET moves them all, so that two suites can run side by side.
_OFFSET = int(os.environ.get("ESFS_TEST_PORT_OFFSET", "0"))
ENGINE_PORTS = {kind: port + _OFFSET for kind, port in
                {"opensearch": 9201, "elasticsearch": 9202, "opensearch3": 9203,
                 "elasticsearch7": 9204}.items()}


def esfs_binary():
    return os.environ.get("ESFS_BIN", os.path.join(ROOT, "build", "esfs"))


class Engine:
    """One real engine node on 127.0.0.1, driven through its REST API."""

    def __init__(self, kind, port):
        self.kind = kind
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.repo_root = None
        self.started_here = False

    def script(self, *args, check=True, env=None):
        return subprocess.run(["bash", ENGINE_SH, *args, self.kind, str(self.port)],
                              check=check, capture_output=True, text=True,
                              env=dict(os.environ, **env) if env else None)

    def start(self, wait_status="yellow"):
        """wait_status="red": back once it answers with a master, whatever its indices."""
        proc = self.script("start", check=False, env={"ESFS_ENGINE_WAIT_STATUS": wait_status})
        if proc.returncode != 0:
            raise RuntimeError(f"cannot start {self.kind}: {proc.stderr[-3000:]}")
        self.started_here = self.started_here or "already running" not in proc.stderr
        self.repo_root = self.script("repo").stdout.strip()
        return self

    def stop(self):
        self.script("stop", check=False)

    def pid(self):
        return int(self.script("pid").stdout.strip())

    def api(self, method, path, body=None, timeout=60):
        """(status, parsed JSON or text) for one REST call; never raises on HTTP errors."""
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def ok(self, method, path, body=None):
        status, answer = self.api(method, path, body)
        assert 200 <= status < 300, f"{method} {path}: {status} {answer}"
        return answer

    @property
    def distribution(self):
        return "opensearch" if self.kind.startswith("opensearch") else "elasticsearch"

    def make_repo(self, name, **settings):
        location = os.path.join(self.repo_root, "t-" + name.lower().replace("%", "pct"))
        body = {"type": "fs", "settings": {"location": location, **settings}}
        self.ok("PUT", "/_snapshot/" + quote(name), body)
        return name

    def make_index(self, name, docs=3):
        for i in range(docs):
            self.ok("POST", f"/{name}/_doc?refresh=true", {"n": i, "msg": f"doc {i}"})
        return name

    def make_red_index(self, name):
        """An index whose only shard can be nowhere: a snapshot of it with partial=true is PARTIAL."""
        self.ok("PUT", f"/{name}?wait_for_active_shards=0", {"settings": {
            "number_of_shards": 1, "number_of_replicas": 0,
            "index.routing.allocation.require._name": "no-such-node"}})
        return name

    def snapshot(self, repo, snap, body=None, wait=True):
        q = "?wait_for_completion=true" if wait else ""
        return self.ok("PUT", f"/_snapshot/{quote(repo)}/{quote(snap)}{q}", body or {})

    def snapshot_info(self, repo, snap):
        return self.ok("GET", f"/_snapshot/{quote(repo)}/{quote(snap)}")["snapshots"][0]

    def snapshot_status(self, repo, snap):
        return self.ok("GET", f"/_snapshot/{quote(repo)}/{quote(snap)}/_status")["snapshots"][0]

    def delete_repo(self, name):
        self.api("DELETE", "/_snapshot/" + quote(name))

    def reset(self):
        """Leaves the engine as a test found it: no running snapshot, no index, no repository.

        Snapshots stay in their folders; indices and repositories piling up over hundreds
        of tests would slow every listing and snapshot that follows.
        """
        for s in self.ok("GET", "/_snapshot/_status")["snapshots"]:
            self.api("DELETE", f"/_snapshot/{quote(s['repository'])}/{quote(s['snapshot'])}")
        indices = [i["index"] for i in self.ok("GET", "/_cat/indices?format=json&h=index")
                   if not i["index"].startswith(".")]
        for start in range(0, len(indices), 50):
            self.api("DELETE", "/" + ",".join(quote(i) for i in indices[start:start + 50]))
        for repo in self.ok("GET", "/_snapshot"):
            self.delete_repo(repo)


def quote(name):
    return urllib.request.quote(name, safe="")


def sh(command, **kw):
    """Runs a shell command line as an operator would; returns the CompletedProcess."""
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120, **kw)


def snapshot_names(engine, repo):
    return sorted(s["snapshot"] for s in engine.ok("GET", f"/_snapshot/{quote(repo)}/_all")["snapshots"])


def count(engine, index):
    engine.ok("POST", f"/{index}/_refresh")
    return engine.ok("GET", f"/{index}/_count")["count"]


def wait_until(predicate, limit=60, step=0.2):
    """Whether predicate came true in time; a file not there yet (OSError) is a no."""
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(step)
    return False


class Mount:
    """esfs mounted in the foreground on a temporary folder.

    Its state (-o state_dir) goes to a temporary folder of its own, removed at stop, so that
    no test writes to the real default (/var/lib/esfs for root) or sees another test's state;
    state_dir= names one to share between mounts (kept), as does a state_dir= option."""

    def __init__(self, urls, options=(), env=None, binary=None, state_dir=None):
        self.path = tempfile.mkdtemp(prefix="esfs-mnt-")
        self.log_path = self.path + ".log"
        self.urls = urls
        self.options = list(options)
        named = any(o.startswith("state_dir=") for o in self.options)
        self.own_state = state_dir is None and not named
        self.state_dir = tempfile.mkdtemp(prefix="esfs-state-") if self.own_state else state_dir
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.binary = binary or esfs_binary()
        self.proc = None

    def argv(self):
        args = [self.binary, "-f"]
        if self.state_dir:
            args += ["-o", f"state_dir={self.state_dir}"]
        for o in self.options:
            args += ["-o", o]
        return args + [self.urls, self.path]

    def start(self, timeout=10):
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        deadline = time.time() + timeout
        while not os.path.ismount(self.path):
            if self.proc.poll() is not None:
                raise RuntimeError(f"esfs exited {self.proc.returncode}: {self.output()}")
            if time.time() > deadline:
                raise RuntimeError(f"esfs did not mount: {self.output()}")
            time.sleep(0.05)
        return self

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        """Unmounts; returns esfs's exit status. Sanitizer reports fail the caller's test."""
        if self.proc is None:
            return 0
        subprocess.run(["fusermount3", "-u", self.path], capture_output=True)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            subprocess.run(["fusermount3", "-uz", self.path], capture_output=True)
            rc = self.proc.wait()
        self.proc = None
        out = self.output()
        self.log.close()
        os.rmdir(self.path)
        if self.own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in out, f"sanitizer report from esfs:\n{out[-6000:]}"
        return rc

    def p(self, *parts):
        return os.path.join(self.path, *parts)

    def read(self, *parts):
        with open(self.p(*parts)) as f:
            return f.read()

    def json(self, *parts):
        return json.loads(self.read(*parts))

    def stats(self):
        return {k: int(v) for k, v in (line.split() for line in self.read("_esfs", "stats").splitlines())}

    def errors(self):
        return self.read("_esfs", "errors").splitlines()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        rc = self.stop()
        if exc[0] is None:
            assert rc == 0, f"esfs exited {rc}"
