"""Many threads using one esfs mount at once, as scripts and people do: the writes and reads
of tests/test_concurrency.py and bench/soak.py, and the checks that follow them.

Each writer thread owns its snapshot names (w<thread>-<n>), so that no two threads race for
one name: whatever fails, fails because of the engine or esfs, never because of the test.
Threads share repositories (thread k writes in repos[k % len(repos)]), so mkdir, rmdir,
restores and settings writes of several threads meet in one repository, as in production.
A thread keeps at most `keep` snapshots, deleting its oldest: a long run stays the same size.

Every failure is kept with its operation, path and errno. explain() then says which ones the
engine explains: its answer gave a reason (an error type of its own, in esfs's log line), or,
for ENOENT without one, the API shows that the snapshot named is gone.
"""
import collections
import errno
import json
import os
import random
import re
import threading
import time

from esfs_harness import quote

MKDIR, RMDIR, RESTORE, SETTINGS = "mkdir", "rmdir", "restore", "settings"
WRITES = (MKDIR, RMDIR, RESTORE, SETTINGS)
# How often each write is picked: a snapshot must exist before it is deleted or restored.
WRITE_WEIGHTS = {MKDIR: 5, RMDIR: 4, RESTORE: 1, SETTINGS: 1}
SKIPPED = object()   # what an operation returns when it found nothing to do
READS = ("ls_repo", "cat_snapshot", "recovery", "settings_read", "indices_view", "stats")


class Failure:
    def __init__(self, thread, op, path, err, seconds):
        self.thread, self.op, self.path, self.err, self.seconds = thread, op, path, err, seconds

    def __repr__(self):
        return (f"thread {self.thread} {self.op} {self.path}: "
                f"{errno.errorcode.get(self.err, self.err)} after {self.seconds:.1f} s")


class Workload:
    """threads writers (and, with reads=True, readers in between) on mount m of engine."""

    def __init__(self, m, engine, repos, sources, threads=8, keep=6, reads=False, seed=1,
                 weights=WRITE_WEIGHTS):
        self.m, self.engine, self.repos, self.sources = m, engine, repos, sources
        self.weights = weights
        self.threads, self.keep, self.reads, self.seed = threads, keep, reads, seed
        self.lock = threading.Lock()
        self.done = collections.Counter()   # operations that succeeded, by kind
        self.failures = []
        self.slowest = collections.defaultdict(float)   # seconds, by kind of operation
        self.taken = set()     # snapshots whose mkdir succeeded
        self.deleted = set()   # ... and whose rmdir succeeded
        self.dropped = set()   # indices deleted through the API (a restore's old copy)

    def repo_of(self, k):
        return self.repos[k % len(self.repos)]

    def source_of(self, repo):
        return self.sources[self.repos.index(repo)]

    def run(self, ops=None, seconds=None):
        """Each thread does ops operations, or goes on for seconds; returns self."""
        deadline = time.time() + seconds if seconds else None
        workers = [threading.Thread(target=self._thread, args=(k, ops, deadline))
                   for k in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return self

    def _thread(self, k, ops, deadline):
        rnd = random.Random(self.seed * 1000 + k)
        own, n = [], 0
        i = 0
        while (ops is None or i < ops) and (deadline is None or time.time() < deadline):
            i += 1
            if self.reads and rnd.random() < 0.6:
                op = rnd.choice(READS)
                self._attempt(k, op, getattr(self, "_" + op), rnd)
                continue
            op = self._pick_write(rnd, own)
            if op == MKDIR:
                name = f"w{k}-{n:05d}"
                n += 1
                if self._attempt(k, op, self._mkdir, k, name):
                    own.append(name)
            elif op == RMDIR:
                name = own[0]
                if self._attempt(k, op, self._rmdir, k, name):
                    own.pop(0)
            elif op == RESTORE:
                self._attempt(k, op, self._restore, k, own[-1] if rnd.random() < 0.5 else own[0])
            else:
                self._attempt(k, op, self._settings, k, rnd)

    def _pick_write(self, rnd, own):
        if len(own) >= self.keep:
            return RMDIR
        ops = [op for op in WRITES if self.weights.get(op) and (own or op in (MKDIR, SETTINGS))]
        return rnd.choices(ops, [self.weights[op] for op in ops])[0]

    def _attempt(self, k, op, fn, *args):
        start = time.monotonic()
        try:
            skipped = fn(*args) is SKIPPED
        except OSError as e:
            with self.lock:
                self.failures.append(Failure(k, op, e.filename or "", e.errno,
                                             time.monotonic() - start))
            return False
        with self.lock:
            self.done[op + " (skipped)" if skipped else op] += 1
            self.slowest[op] = max(self.slowest[op], time.monotonic() - start)
        return not skipped

    # ---- writes

    def _mkdir(self, k, name):
        repo = self.repo_of(k)
        os.mkdir(self.m.p(repo, name))
        with self.lock:
            self.taken.add((repo, name))

    def _rmdir(self, k, name):
        repo = self.repo_of(k)
        os.rmdir(self.m.p(repo, name))
        with self.lock:
            self.deleted.add((repo, name))

    def _restore(self, k, name):
        """Restores the repository's source index as r-<thread>, once the snapshot has ended.

        The thread's previous copy is deleted first through the REST API, as an operator's curl
        would: esfs deletes no live index, and the copies would pile up over a long run."""
        repo = self.repo_of(k)
        target = f"r-{k}"
        path = self.m.p(repo, name, "state")
        with open(path) as f:
            if f.read().strip() != "SUCCESS":
                return SKIPPED
        if self.engine.api("DELETE", f"/{target}")[0] == 200:
            with self.lock:
                self.dropped.add(target)
        body = {"indices": self.source_of(repo), "rename_pattern": ".+",
                "rename_replacement": target, "include_global_state": False}
        _write(self.m.p(repo, name, "restore.json"), json.dumps(body))

    def _settings(self, k, rnd):
        repo = self.repo_of(k)
        path = self.m.p(repo, "_settings.json")
        with open(path) as f:
            current = json.load(f)
        settings = dict(current["settings"])
        settings["max_restore_bytes_per_sec"] = f"{rnd.randint(10, 99)}mb"
        _write(path, json.dumps({"type": current["type"], "settings": settings}))

    # ---- reads

    def _ls_repo(self, rnd):
        repo = rnd.choice(self.repos)
        for name in os.listdir(self.m.p(repo)):
            _stat_if_there(self.m.p(repo, name))

    def _cat_snapshot(self, rnd):
        repo = rnd.choice(self.repos)
        names = [n for n in os.listdir(self.m.p(repo)) if not n.startswith("_")]
        if names:
            name = rnd.choice(names)
            for f in ("state", "indices", "progress", "info.json", "status.json", "size"):
                _read(self.m.p(repo, name, f))

    def _recovery(self, rnd):
        for name in os.listdir(self.m.p("_recovery")):
            _read(self.m.p("_recovery", name))

    def _settings_read(self, rnd):
        json.loads(_read(self.m.p(rnd.choice(self.repos), "_settings.json")))

    def _indices_view(self, rnd):
        for index in os.listdir(self.m.p("_indices")):
            os.listdir(self.m.p("_indices", index))

    def _stats(self, rnd):
        _read(self.m.p("_esfs", "stats"))


def _write(path, text):
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as e:  # a write or close fails without the file's name
        raise OSError(e.errno, e.strerror, path) from None


def _read(path):
    with open(path) as f:
        return f.read()


def _stat_if_there(path):
    try:
        os.stat(path)
    except FileNotFoundError:
        pass  # listed a moment ago, deleted by another thread since


# esfs's log line for a failure: "<op> <path>: <ERRNO> (<type>: <reason>)"
_LOG_LINE = re.compile(r"(?:^|esfs: )([a-z]+) (/.*): (E[A-Z0-9]+) \(([^:]*): (.*)\)$")


def failure_lines(log):
    """(path, errno name, error type) of each failure esfs logged."""
    found = []
    for line in log.splitlines():
        m = _LOG_LINE.search(line)
        if m:
            found.append((m.group(2), m.group(3), m.group(4)))
    return found


def failure_summary(w, log):
    """How many failures of each kind: {(operation, errno name, error types logged): count}."""
    lines = failure_lines(log)
    summary = collections.Counter()
    for f in w.failures:
        name = errno.errorcode.get(f.err, str(f.err))
        types = sorted({t for p, e, t in lines if e == name and f.path.endswith(p)})
        summary[(f.op, name, ",".join(types))] += 1
    return dict(summary)


def explain(w, log):
    """The failures of workload w that the engine does not explain (a list; empty is good).

    Explained: esfs logged the failure with an error type that ends in _exception, which is
    the engine's own (esfs's are transport_error, outcome_unknown, http_<status>, ...), or
    with repository_in_use, esfs's refusal to change a repository that one of its snapshot
    operations is using, the other way round too (client/repoguard.c says why); or ENOENT
    with no line, for a snapshot the API no longer has, or a restored index that the run
    deleted through the API (and may have restored again since)."""
    lines = failure_lines(log)
    unexplained = []
    for f in w.failures:
        name = errno.errorcode.get(f.err, str(f.err))
        typed = [t for p, e, t in lines if e == name and f.path.endswith(p)]
        if any(t.endswith("_exception") or t == "repository_in_use" for t in typed):
            continue
        if f.err == errno.ENOENT and not typed and _gone(w, f.path):
            continue
        unexplained.append((f, typed))
    return unexplained


def _gone(w, path):
    """Whether what path names was deleted: a snapshot the API no longer has, or an index
    the run deleted."""
    parts = os.path.relpath(path, w.m.path).split(os.sep)
    if len(parts) == 2 and parts[0] == "_recovery":
        return parts[1].removesuffix(".json") in w.dropped
    if len(parts) < 2 or parts[0] not in w.repos:
        return False
    status, _ = w.engine.api("GET", f"/_snapshot/{quote(parts[0])}/{quote(parts[1])}")
    return status == 404


def settled(engine, limit=120):
    """Waits until the engine runs no snapshot and no restore; whether it got there."""
    deadline = time.time() + limit
    while time.time() < deadline:
        running = engine.ok("GET", "/_snapshot/_status")["snapshots"]
        restoring = [i for i, r in engine.ok("GET", "/_recovery?active_only=true").items()
                     if any(s["type"] == "SNAPSHOT" for s in r["shards"])]
        if not running and not restoring:
            return True
        time.sleep(0.5)
    return False


def tree_differences(m, engine, repos):
    """Where the mounted tree and the API disagree: a list of lines, empty when they agree."""
    diffs = []
    for repo in repos:
        api = {s["snapshot"]: s for s in
               engine.ok("GET", f"/_snapshot/{quote(repo)}/_all")["snapshots"]}
        tree = sorted(n for n in os.listdir(m.p(repo)) if not n.startswith("_"))
        if tree != sorted(api):
            diffs.append(f"{repo}: tree {sorted(set(tree) - set(api))} not in the API, "
                         f"API {sorted(set(api) - set(tree))} not in the tree")
        for name in sorted(set(tree) & set(api)):
            state = _read(m.p(repo, name, "state")).strip()
            if state != api[name]["state"]:
                diffs.append(f"{repo}/{name}/state: tree {state}, API {api[name]['state']}")
            indices = _read(m.p(repo, name, "indices")).split()
            if sorted(indices) != sorted(api[name]["indices"]):
                diffs.append(f"{repo}/{name}/indices: tree {indices}, API {api[name]['indices']}")
        shown = json.loads(_read(m.p(repo, "_settings.json")))
        if shown != engine.ok("GET", f"/_snapshot/{quote(repo)}")[repo]:
            diffs.append(f"{repo}/_settings.json: tree {shown}, API "
                         f"{engine.ok('GET', f'/_snapshot/{quote(repo)}')}")
    restored = sorted(i for i, r in engine.ok("GET", "/_recovery").items()
                      if any(s["type"] == "SNAPSHOT" for s in r["shards"]))
    tree = sorted(n for n in os.listdir(m.p("_recovery")) if not n.endswith(".json"))
    if tree != restored:
        diffs.append(f"/_recovery: tree {tree}, API {restored}")
    return diffs
