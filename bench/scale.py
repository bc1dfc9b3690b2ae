#!/usr/bin/env python3
"""A big repository through esfs, next to the REST calls it replaces, in one run.

    /usr/bin/python3 bench/scale.py [--engine opensearch] [--snapshots 10000] [--runs 5]
                                    [--port P] [--binary build/esfs] [--check]

Fills an fs repository with N snapshots of one small index (8 at a time; kept
between runs, so a second run starts at once), mounts esfs, and measures, as
medians over the runs:

- `ls -l <repo>` right after the mount, after the cache expired, and cached;
- `cat <repo>/*/indices` (every snapshot's index list) after the cache expired;
- `curl` of `_cat/snapshots/<repo>`, `_snapshot/<repo>/_all` and
  `_snapshot/<repo>/_all?verbose=false`, a fresh curl process per call as in
  the guides;
- the snapshot blobs (snap-*.dat) the engine opened for each, with inotify on
  the repository (tests/blobwatch.py): on S3 each is a billed GET;
- cached `stat` and cached open+read+close of one file per second, one thread;
- esfs's peak RSS;
- the floor under `ls -l` and `cat */indices`: the same folders and files copied
  to a tmpfs folder, listed and read there with no FUSE at all, and through
  libfuse's own passthrough_ll example (Debian's libfuse3-dev, built here with
  cc) with the kernel caching all it can
  (`-o cache=always`): what any FUSE filesystem pays per file, with no engine;
  and through that example changed to answer open with ENOSYS, which makes the
  kernel send no open and no release for any file of the mount again: the
  one way under that floor. esfs cannot take it: no_open holds for every file
  of a mount, and esfs keeps per open what it must (the one answer all reads
  of an open see, the body of a write until its close).

Every esfs time is also given as a ratio to the verbose=false curl of the
same run. --check exits 1 when a bound of issue 9 is not met (those that
apply at this N).
"""
import argparse
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from blobwatch import BlobWatch  # noqa: E402
from esfs_harness import ENGINE_PORTS, Engine, Mount  # noqa: E402

TTL = 2.0


def take(engine, repo, name, index):
    """One snapshot; a busy engine (429: its circuit breaker) is given a moment and asked again."""
    body = {"indices": index, "include_global_state": False}
    for _ in range(30):
        status, answer = engine.api("PUT", f"/_snapshot/{repo}/{name}?wait_for_completion=true", body)
        if status != 429:
            assert 200 <= status < 300 or status == 400 and "already" in str(answer), answer
            return
        time.sleep(2)
    raise RuntimeError(f"{name}: the engine stayed busy")


def fill(engine, repo, n):
    index = engine.make_index("scale-tiny", docs=1)
    have = {s["snapshot"] for s in engine.ok("GET", f"/_snapshot/{repo}/_all?verbose=false")["snapshots"]}
    missing = [f"s-{i:06d}" for i in range(n) if f"s-{i:06d}" not in have]
    started = time.time()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: take(engine, repo, name, index), missing))
    if missing:
        print(f"took {len(missing)} snapshots in {time.time() - started:.0f} s", flush=True)


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


class Row:
    def __init__(self, label, floor=False, scale=1.0):
        self.label, self.times, self.requests, self.blobs = label, [], [], []
        self.floor = floor      # not esfs, nor the engine: requests and blobs do not apply
        self.scale = scale      # measured on fewer files than snapshots: times scaled up

    def median_ms(self):
        return statistics.median(self.times) * 1000 * self.scale


def sample(row, action, watch, m=None, before_each=None):
    if before_each:
        before_each()
    watch.snapshot_blobs()
    requests = m.stats()["requests"] if m else 0
    row.times.append(timed(action))
    time.sleep(0.2)         # inotify events of the last reads
    row.blobs.append(watch.snapshot_blobs())
    row.requests.append(m.stats()["requests"] - requests if m else 1)


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Past this many snapshots "cat */indices" is refused by exec (E2BIG: the names
# outgrow ARG_MAX), and a user types the same through xargs.
MOST_NAMES_FOR_ONE_CAT = 30000


def cat_indices(folder, snapshots=0):
    """The command that reads every <snapshot>/indices under folder, as a user would type it."""
    if snapshots > MOST_NAMES_FOR_ONE_CAT:
        return ["sh", "-c", f"printf '%s\\0' {folder}/*/indices | xargs -0 cat"]
    return ["sh", "-c", f"cat {folder}/*/indices"]


def per_second(action, seconds=2.0):
    n, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(100):
            action()
        n += 100
    return n / (time.perf_counter() - start)


def read_file(path):
    with open(path, "rb") as f:
        f.read()


PASSTHROUGH_SRC = "/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c"

# The same example, changed to answer every open with ENOSYS: the kernel then
# sends no open and no release for any file of the mount again (its no_open,
# for the whole connection) and keeps their pages cached. Its reads, which
# come with no file handle, open the file by its inode for the read.
NO_OPEN_PATCHES = [
    ("\tstruct lo_data *lo = lo_data(req);\n\n\tif (lo_debug(req))\n"
     "\t\tfuse_log(FUSE_LOG_DEBUG, \"lo_open(",
     "\tstruct lo_data *lo = lo_data(req);\n\n\treturn (void) fuse_reply_err(req, ENOSYS);\n"
     "\tif (lo_debug(req))\n\t\tfuse_log(FUSE_LOG_DEBUG, \"lo_open("),
    ("\tbuf.buf[0].fd = fi->fh;\n\tbuf.buf[0].pos = offset;\n\n"
     "\tfuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);\n",
     "\tchar by_inode[64];\n\tsprintf(by_inode, \"/proc/self/fd/%i\", lo_fd(req, ino));\n"
     "\tint fd = open(by_inode, O_RDONLY);\n"
     "\tbuf.buf[0].fd = fd;\n\tbuf.buf[0].pos = offset;\n\n"
     "\tfuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);\n\tclose(fd);\n"),
]


def passthrough_ll(no_open=False):
    """libfuse's passthrough_ll example (or its no-open variant), built once into the temporary folder."""
    out = os.path.join(tempfile.gettempdir(), "esfs-bench-passthrough_ll" + ("-no-open" if no_open else ""))
    if os.path.exists(out):
        return out
    with open(PASSTHROUGH_SRC) as f:
        source = f.read()
    for old, new in NO_OPEN_PATCHES if no_open else ():
        if old not in source:
            raise OSError(f"{PASSTHROUGH_SRC} is not the one this bench knows")
        source = source.replace(old, new)
    src = out + ".c"
    with open(src, "w") as f:
        f.write(source)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "fuse3"], check=True,
                           capture_output=True, text=True).stdout.split()
    subprocess.run(["cc", "-O2", "-I", os.path.dirname(PASSTHROUGH_SRC), "-o", out, src, *flags],
                   check=True)
    return out


# passthrough_ll holds a descriptor per directory and per file it looked up, and the hard
# limit here is 20,000: the floor is measured on this many snapshots and scaled to N.
FLOOR_FILES = 9000


def copy_indices(repo_dir, dest, most):
    """The first `most` <snapshot>/indices of the mount, copied to dest (a tmpfs folder)."""
    for name in sorted(n for n in os.listdir(repo_dir) if not n.startswith("_"))[:most]:
        os.mkdir(os.path.join(dest, name))
        with open(os.path.join(repo_dir, name, "indices"), "rb") as f, \
                open(os.path.join(dest, name, "indices"), "wb") as out:
            out.write(f.read())


def many_descriptors():
    """passthrough_ll keeps a descriptor per inode it has looked up: two per snapshot here."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))     # root may
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def floor_rows(copy, runs, files, n):
    """ls -l and cat */indices of the copy: on tmpfs, then through passthrough_ll and its
    no-open variant, each first after its mount and cached; times scaled from the copy's
    files to n."""
    scale = f" ({files:,} files, times x {n / files:.2f})" if files != n else ""

    def row(label):
        r = Row("floor: " + label + scale, floor=True, scale=n / files)
        r.base = "floor: " + label      # without the scale, for the ratios to the floor
        return r
    tmpfs_ls = row("ls -l of a copy on tmpfs, no FUSE")
    tmpfs = row("cat */indices of a copy on tmpfs, no FUSE")
    fuse_ls = row("ls -l of the copy through passthrough_ll, cached (-o cache=always)")
    variants = [(passthrough_ll(), row("the copy through libfuse's passthrough_ll, first after its mount"),
                 row("the copy through passthrough_ll, cached (-o cache=always)"), fuse_ls),
                (passthrough_ll(no_open=True), row("passthrough_ll answering open with ENOSYS, first"),
                 row("passthrough_ll answering open with ENOSYS, cached"), None)]
    for _ in range(runs):
        tmpfs_ls.times.append(timed(lambda: run(["ls", "-l", copy])))
        tmpfs.times.append(timed(lambda: run(cat_indices(copy))))
        for binary, cold, warm, ls in variants:
            time_through_fuse(binary, copy, cold, warm, ls)
    return [tmpfs_ls, fuse_ls, tmpfs] + [r for _, cold, warm, _ in variants for r in (cold, warm)]


@contextlib.contextmanager
def passthrough_mount(binary, copy):
    """A passthrough_ll build over the copy, caching all it can; yields its mount point."""
    mnt = tempfile.mkdtemp(prefix="esfs-bench-floor-")
    proc = subprocess.Popen([binary, "-f", "-o", f"source={copy}", "-o", "cache=always", mnt],
                            preexec_fn=many_descriptors, stderr=subprocess.DEVNULL)
    while not os.path.ismount(mnt):
        time.sleep(0.05)
    try:
        yield mnt
    finally:
        subprocess.run(["fusermount3", "-u", mnt], check=True)
        proc.wait()
        os.rmdir(mnt)


def time_through_fuse(binary, copy, cold, warm, ls=None):
    """One mount of a passthrough_ll build over the copy: cat */indices twice, then ls -l."""
    with passthrough_mount(binary, copy) as mnt:
        cold.times.append(timed(lambda: run(cat_indices(mnt))))
        warm.times.append(timed(lambda: run(cat_indices(mnt))))
        if ls:
            run(["ls", "-l", mnt])
            ls.times.append(timed(lambda: run(["ls", "-l", mnt])))


def floor_cats_per_second(copy):
    """Cached open+read+close of one file per second through passthrough_ll, and its no-open variant."""
    one = sorted(n for n in os.listdir(copy))[0] + "/indices"
    rates = {}
    for label, binary in (("passthrough_ll", passthrough_ll()),
                          ("passthrough_ll answering open with ENOSYS", passthrough_ll(no_open=True))):
        with passthrough_mount(binary, copy) as mnt:
            read_file(os.path.join(mnt, one))
            rates[label] = per_second(lambda: read_file(os.path.join(mnt, one)))
    return rates


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="opensearch", choices=sorted(ENGINE_PORTS))
    ap.add_argument("--port", type=int, help="an engine already started with scripts/engine.sh")
    ap.add_argument("--snapshots", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "esfs"))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("-o", dest="options", action="append", default=[],
                    help="a mount option of esfs for every mount (compression=gzip, say)")
    args = ap.parse_args()

    engine = Engine(args.engine, args.port or ENGINE_PORTS[args.engine]).start()
    repo = engine.make_repo(f"scale-{args.snapshots}")
    fill(engine, repo, args.snapshots)
    location = engine.ok("GET", f"/_snapshot/{repo}")[repo]["settings"]["location"]
    url = f"{engine.url}/_snapshot/{repo}"
    curls = [("curl _cat/snapshots/<repo>", ["curl", "-sf", "-o", "/dev/null",
                                            f"{engine.url}/_cat/snapshots/{repo}?format=json"]),
             ("curl _snapshot/<repo>/_all", ["curl", "-sf", "-o", "/dev/null", f"{url}/_all"]),
             ("curl _snapshot/<repo>/_all?verbose=false",
              ["curl", "-sf", "-o", "/dev/null", f"{url}/_all?verbose=false"])]
    rows = {}
    with BlobWatch(location) as watch:
        for label, cmd in curls:
            rows[label] = Row(label)
            for _ in range(args.runs):
                sample(rows[label], lambda: run(cmd), watch)
        first, expired, cached, indices = (Row("ls -l <repo>, first after mount"),
                                           Row("ls -l <repo>, cache expired"),
                                           Row("ls -l <repo>, cached"),
                                           Row("cat <repo>/*/indices, cache expired"))
        indices_cached = Row("cat <repo>/*/indices, cached")
        peak = 0.0
        for _ in range(args.runs):
            with Mount(engine.url, args.options, binary=args.binary) as m:
                path = m.p(repo)
                ls = ["ls", "-l", path]
                sample(first, lambda: run(ls), watch, m)
                sample(expired, lambda: run(ls), watch, m, lambda: time.sleep(TTL + 0.2))
                sample(cached, lambda: run(ls), watch, m)
                cat = cat_indices(path, args.snapshots)
                sample(indices, lambda: run(cat), watch, m, lambda: time.sleep(TTL + 0.2))
                sample(indices_cached, lambda: run(cat), watch, m)
                peak = max(peak, peak_rss_mb(m.proc.pid))
        rows.update({r.label: r for r in (first, expired, cached, indices, indices_cached)})
        # Start times kept in a state directory: the first mount asks for them, the next do not.
        kept = Row("ls -l <repo>, first after a remount, start times kept")
        state = tempfile.mkdtemp(prefix="esfs-bench-state-")
        with Mount(engine.url, args.options, binary=args.binary, state_dir=state) as m:
            run(["ls", "-l", m.p(repo)])
        for _ in range(args.runs):
            with Mount(engine.url, args.options, binary=args.binary, state_dir=state) as m:
                sample(kept, lambda: run(["ls", "-l", m.p(repo)]), watch, m)
        shutil.rmtree(state, ignore_errors=True)
        rows[kept.label] = kept

    copy = tempfile.mkdtemp(prefix="esfs-bench-indices-", dir="/dev/shm")
    with Mount(engine.url, ("cache_ttl=3600",), binary=args.binary) as m:
        copy_indices(m.p(repo), copy, FLOOR_FILES)
    files = min(args.snapshots, FLOOR_FILES)
    floor_cats = {}
    try:
        rows.update({r.label: r for r in floor_rows(copy, args.runs, files, args.snapshots)})
        floor_cats = floor_cats_per_second(copy)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"no floor rows: {e}")
    shutil.rmtree(copy, ignore_errors=True)

    with Mount(engine.url, ("cache_ttl=3600",), binary=args.binary) as m:
        one = m.p(repo, "s-000000", "state")
        read_file(one)
        stats = per_second(lambda: os.stat(one))
        cats = per_second(lambda: read_file(one))
        peak = max(peak, peak_rss_mb(m.proc.pid))

    base = rows["curl _snapshot/<repo>/_all?verbose=false"].median_ms()
    nodes = engine.ok("GET", "/_nodes/_local?filter_path=nodes.*.version")["nodes"]
    version = next(iter(nodes.values()))["version"]
    print(f"\n{args.engine} {version}, {args.snapshots} snapshots, fs repository, "
          f"medians of {args.runs}{''.join(' -o ' + o for o in args.options)}\n")
    print(f"| | ms | x verbose=false curl | requests | snap-*.dat opened |\n|---|---|---|---|---|")
    for r in rows.values():
        counts = ("-", "-") if r.floor else (f"{statistics.median(r.requests):.0f}",
                                              f"{statistics.median(r.blobs):.0f}")
        print(f"| {r.label} | {r.median_ms():.1f} | {r.median_ms() / base:.2f} | "
              f"{counts[0]} | {counts[1]} |")
    floors = {r.base: r for r in rows.values() if r.floor}
    for mine, floor in ((cached, "floor: ls -l of a copy on tmpfs, no FUSE"),
                        (indices_cached, "floor: the copy through passthrough_ll, cached (-o cache=always)")):
        if floor in floors:
            print(f"\n{mine.label}: {mine.median_ms() / floors[floor].median_ms():.2f} x {floor[7:]}", end="")
    print(f"\n\ncached stat: {stats:,.0f}/s, cached open+read+close: {cats:,.0f}/s (one thread)")
    for label, rate in floor_cats.items():
        print(f"floor: cached open+read+close through {label}: {rate:,.0f}/s")
    print(f"esfs peak RSS: {peak:.1f} MiB")

    if not args.check:
        return 0
    failed = []

    def bound(ok, what):
        if not ok:
            failed.append(what)
    bound(statistics.median(expired.blobs) == 0, "ls -l after expiry opens no snapshot blob")
    bound(statistics.median(first.blobs) <= args.snapshots, "first ls -l opens each blob at most once")
    bound(statistics.median(kept.blobs) == 0, "first ls -l after a remount opens no blob (times kept)")
    bound(expired.median_ms() <= 2 * base, "ls -l after expiry within 2x verbose=false")
    bound(cached.median_ms() <= base, "cached ls -l within 1x verbose=false")
    bound(statistics.median(indices.requests) <= 3, "cat */indices in at most 3 requests")
    bound(indices.median_ms() <= 3 * base, "cat */indices within 3x verbose=false")
    bound(stats >= 50000, "cached stat >= 50,000/s")
    bound(cats >= 20000, "cached cat >= 20,000/s")
    limit = 64 if args.snapshots <= 10000 else 256
    bound(peak <= limit, f"peak RSS <= {limit} MiB")
    for what in failed:
        print("NOT MET:", what)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
