#!/usr/bin/env python3
"""A long run of mixed reads and writes from 8 threads on one mount, with esfs's memory and
descriptors sampled all along.

    /usr/bin/python3 bench/soak.py [--engine opensearch] [--minutes 30] [--threads 8]
                                   [--warmup 5] [--every 15] [--binary build/esfs]

The threads of tests/workload.py share two repositories: each op is a read (ls -l of a
repository, cat of a snapshot's files, /_recovery, _settings.json, /_indices, /_esfs/stats)
six times in ten, else a write (mkdir, rmdir, a restore, a settings write); each thread keeps
at most 6 snapshots, so the cluster's size stays the same all run long. Every --every seconds
the RSS (VmRSS) and the count of open descriptors (/proc/PID/fd) of esfs are sampled, with
the kernel's FUSE inodes (/proc/slabinfo: the names the kernel holds, each a node in libfuse);
each sample is also printed to stderr as it is taken.

At the end: the curve (one row a minute), each failure kind with its count, and the checks,
each of which makes the exit status 1 when it fails:
- after --warmup minutes, every RSS and descriptor sample within 10 % of their median then;
- 0 failures that the engine does not explain (tests/workload.py, explain());
- once the engine is idle and cache_ttl has passed, the tree equals the API.
"""
import argparse
import os
import statistics
import sys
import threading
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))
import workload  # noqa: E402
from esfs_harness import ENGINE_PORTS, Engine, Mount  # noqa: E402

CACHE_TTL = 2


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def kernel_fuse_inodes():
    """The kernel's FUSE inodes, machine-wide (/proc/slabinfo, root only; -1 without it): one
    per name the kernel holds of this mount, each with a node in esfs's libfuse."""
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                if line.startswith("fuse_inode "):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


class Sampler(threading.Thread):
    """(seconds since start, RSS in kB, open descriptors, kernel FUSE inodes) every `every` s."""

    def __init__(self, pid, every):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples = pid, every, []
        self.stop_event, self.start_time = threading.Event(), time.time()

    def run(self):
        while True:
            self.samples.append((time.time() - self.start_time, rss_kb(self.pid), descriptors(self.pid),
                                 kernel_fuse_inodes()))
            print("sample %.0f s: RSS %d kB, %d fds, %d kernel FUSE inodes" % self.samples[-1],
                  file=sys.stderr, flush=True)
            if self.stop_event.wait(self.every):
                return


def within(values, share):
    """Whether every value is within share of their median; (ok, median, low, high)."""
    mid = statistics.median(values)
    return all(abs(v - mid) <= share * mid for v in values), mid, min(values), max(values)


def setup(engine, threads):
    suffix = f"{int(time.time())}"
    repos, sources = [], []
    for i in range(2):
        repo = engine.make_repo(f"soak-{suffix}-{i}")
        source = f"soak-src-{i}"
        if engine.api("HEAD", f"/{source}")[0] != 200:
            engine.ok("PUT", f"/{source}", {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
            engine.make_index(source, docs=20)
        repos.append(repo)
        sources.append(source)
    return repos, sources


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="opensearch", choices=sorted(ENGINE_PORTS))
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--warmup", type=float, default=5, help="minutes before the curve must be flat")
    ap.add_argument("--every", type=float, default=15, help="seconds between samples")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "esfs"))
    args = ap.parse_args()

    engine = Engine(args.engine, ENGINE_PORTS[args.engine]).start()
    repos, sources = setup(engine, args.threads)
    m = Mount(engine.url, [f"cache_ttl={CACHE_TTL}"], binary=args.binary).start()
    ok = True
    try:
        for repo, source in zip(repos, sources):
            with open(m.p(repo, "_defaults.json"), "w") as f:
                f.write('{"indices": "%s", "include_global_state": false}' % source)
        before = m.stats()
        sampler = Sampler(m.proc.pid, args.every)
        sampler.start()
        w = workload.Workload(m, engine, repos, sources, threads=args.threads, reads=True)
        w.run(seconds=args.minutes * 60)
        sampler.stop_event.set()
        sampler.join()
        after = m.stats()
        log = m.output()
        settled = workload.settled(engine)
        time.sleep(CACHE_TTL + 0.5)
        diffs = workload.tree_differences(m, engine, repos)
        unexplained = workload.explain(w, log)
    finally:
        m.stop()

    print(f"{engine.kind}: {args.threads} threads for {args.minutes:g} min, esfs {args.binary}")
    print(f"operations done: {sum(w.done.values())} ({', '.join(f'{k} {v}' for k, v in sorted(w.done.items()))})")
    print(f"requests: {after['requests'] - before['requests']} "
          f"(GET {after['requests_get'] - before['requests_get']}, PUT {after['requests_put'] - before['requests_put']}, "
          f"POST {after['requests_post'] - before['requests_post']}, DELETE {after['requests_delete'] - before['requests_delete']})")
    print(f"the kernel told to drop /_indices: {after.get('kernel_views_dropped', 0) - before.get('kernel_views_dropped', 0)} times")
    print("\n| minute | RSS MiB | open fds | kernel FUSE inodes |\n|---|---|---|---|")
    shown = -1
    for t, rss, fds, inodes in sampler.samples:
        if int(t // 60) != shown:
            shown = int(t // 60)
            print(f"| {t / 60:.1f} | {rss / 1024:.1f} | {fds} | {inodes} |")
    t, rss, fds, inodes = sampler.samples[-1]
    print(f"| {t / 60:.1f} (last) | {rss / 1024:.1f} | {fds} | {inodes} |")

    after_warmup = [s for s in sampler.samples if s[0] >= args.warmup * 60]
    if len(after_warmup) < 2:
        print("too short a run for the flatness check (--minutes past --warmup)")
        ok = False
    else:
        for name, col, unit, scale in (("RSS", 1, "MiB", 1024), ("open fds", 2, "", 1)):
            flat, mid, low, high = within([s[col] for s in after_warmup], 0.10)
            print(f"{name} after {args.warmup:g} min: median {mid / scale:.1f}{unit}, "
                  f"{low / scale:.1f} to {high / scale:.1f} ({'within' if flat else 'NOT within'} 10 %)")
            ok &= flat
    print("\nfailures by kind (operation, errno, error type logged):")
    for (op, err, types), n in sorted(workload.failure_summary(w, log).items()):
        print(f"  {n:6d}  {op} {err} {types or '(no line)'}")
    print(f"failures the engine does not explain: {len(unexplained)}")
    for f, types in unexplained[:20]:
        print(f"  {f} {types}")
    print(f"engine idle at the end: {settled}; tree equal to the API: {not diffs}")
    for d in diffs[:20]:
        print("  " + d)
    ok &= not unexplained and settled and not diffs
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
