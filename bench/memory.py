#!/usr/bin/env python3
"""esfs's peak memory while a program reads status.json of every snapshot of a big repository.

    /usr/bin/python3 bench/memory.py [--engine opensearch] [--snapshots 1000] [--indices 40]
                                     [--bound-mb 128] [--binary build/esfs]

Fills a repository with N snapshots of M indices each (so each _status answer is large),
mounts esfs with a long cache_ttl, so that nothing expires while it reads, and cats every
<snapshot>/status.json. Reports the bytes the engine sent, esfs's peak RSS (VmHWM) and its
RSS at the end; exits 1 when the peak is over --bound-mb. Before the cache had a byte budget,
every answer and its parsed tree stayed until 2,048 of them were held.
"""
import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from esfs_harness import ENGINE_PORTS, Engine, Mount  # noqa: E402


def memory_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="opensearch", choices=sorted(ENGINE_PORTS))
    ap.add_argument("--snapshots", type=int, default=1000)
    ap.add_argument("--indices", type=int, default=40)
    ap.add_argument("--bound-mb", type=int, default=128)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "esfs"))
    args = ap.parse_args()

    engine = Engine(args.engine, ENGINE_PORTS[args.engine]).start()
    repo = engine.make_repo(f"memory-{args.snapshots}-{args.indices}")
    indices = [f"mem-{i:03d}" for i in range(args.indices)]
    for index in indices:
        if engine.api("HEAD", f"/{index}")[0] != 200:
            engine.ok("PUT", f"/{index}", {"settings": {"number_of_replicas": 0}})
            engine.make_index(index, docs=1)
    have = {s["snapshot"] for s in engine.ok("GET", f"/_snapshot/{repo}/_all?verbose=false")["snapshots"]}
    missing = [f"s-{i:04d}" for i in range(args.snapshots) if f"s-{i:04d}" not in have]
    body = {"indices": ",".join(indices), "include_global_state": False}
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda n: engine.snapshot(repo, n, body), missing))

    m = Mount(engine.url, ["cache_ttl=3600"], binary=args.binary).start()
    try:
        snaps = sorted(n for n in os.listdir(m.p(repo)) if not n.startswith("_"))
        before = m.stats().get("bytes_received", 0)
        shown = 0
        for snap in snaps:
            with open(m.p(repo, snap, "status.json"), "rb") as f:
                shown += len(f.read())
        received = m.stats()["bytes_received"] - before
        peak = memory_kb(m.proc.pid, "VmHWM") / 1024
        now = memory_kb(m.proc.pid, "VmRSS") / 1024
    finally:
        m.stop()
    print(f"{engine.kind}: {len(snaps)} snapshots of {args.indices} indices, every status.json read once")
    print(f"answers received: {received / 2**20:.1f} MiB on the wire (gzip), "
          f"{shown / 2**20:.1f} MiB of status.json shown")
    print(f"esfs peak RSS: {peak:.1f} MiB (bound {args.bound_mb} MiB), at the end: {now:.1f} MiB")
    return 0 if peak <= args.bound_mb else 1


if __name__ == "__main__":
    sys.exit(main())
