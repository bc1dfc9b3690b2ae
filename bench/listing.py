#!/usr/bin/env python3
"""Measures what a listing costs through esfs: requests, connections and wall time.

    /usr/bin/python3 bench/listing.py [--engine opensearch] [--snapshots 200] [--runs 5]

Starts (or reuses) a real engine with scripts/engine.sh, fills a repository
with N snapshots, mounts build/esfs and reports, for each operation, the
median wall time over the runs and the requests and new connections esfs's
own counters (/_esfs/stats) saw. The REST baseline is the one request
`GET _snapshot/<repo>/_all` an operator would send with curl.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from esfs_harness import ENGINE_PORTS, Engine, Mount  # noqa: E402


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(m, label, action, runs, settle=0.0):
    times, requests, connections = [], [], []
    for _ in range(runs):
        if settle:
            time.sleep(settle)
        before = m.stats()
        times.append(timed(action))
        after = m.stats()
        requests.append(after["requests"] - before["requests"])
        connections.append(after["connections_opened"] - before["connections_opened"])
    print(f"{label:<44} {statistics.median(times) * 1000:9.1f} ms {statistics.median(requests):8.0f}"
          f" {statistics.median(connections):8.0f}")


def run(cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="opensearch", choices=sorted(ENGINE_PORTS))
    ap.add_argument("--snapshots", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    engine = Engine(args.engine, ENGINE_PORTS[args.engine]).start()
    repo = engine.make_repo(f"bench-{args.snapshots}")
    index = engine.make_index("bench-tiny", docs=1)
    have = {s["snapshot"] for s in engine.ok("GET", f"/_snapshot/{repo}/_all")["snapshots"]}
    missing = [f"s-{i:04d}" for i in range(args.snapshots) if f"s-{i:04d}" not in have]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: engine.snapshot(repo, n, {"indices": index,
                                                          "include_global_state": False}), missing))
    print(f"{engine.kind}, {args.snapshots} snapshots in one repository, median of {args.runs} runs\n")
    print(f"{'operation':<44} {'time':>12} {'requests':>8} {'new conns':>8}")

    rest = []
    for _ in range(args.runs):
        rest.append(timed(lambda: engine.ok("GET", f"/_snapshot/{repo}/_all")))
    print(f"{'REST: GET _snapshot/<repo>/_all (urllib)':<44} {statistics.median(rest) * 1000:9.1f} ms"
          f" {1:8d} {1:8d}")

    m = Mount(engine.url, ["cache_ttl=1"]).start()
    try:
        path = m.p(repo)
        measure(m, "ls -l <repo>, cache expired", lambda: run(["ls", "-l", path]), args.runs, settle=1.2)
        measure(m, "ls -l <repo>, cached (within cache_ttl)", lambda: run(["ls", "-l", path]), args.runs)
        measure(m, "ls -lt <repo>, cache expired", lambda: run(["ls", "-lt", path]), args.runs, settle=1.2)
        measure(m, "cat */state (every snapshot), expired",
                lambda: run(["sh", "-c", f"cat {path}/*/state"]), args.runs, settle=1.2)
        measure(m, "cat one info.json, expired",
                lambda: run(["cat", m.p(repo, "s-0000", "info.json")]), args.runs, settle=1.2)
    finally:
        m.stop()
    m = Mount(engine.url, ["cache_ttl=0"]).start()
    try:
        measure(m, "50 x cat info.json, no cache (reuse)",
                lambda: [m.read(repo, "s-0000", "info.json") for _ in range(50)], args.runs)
    finally:
        m.stop()


if __name__ == "__main__":
    main()
