"""Snapshot policies as files: /<repo>/_policy.json, its plan and its runs, checked against
the engine's API and against restic's own retention (restic forget --keep-*), an
implementation of grandfather-father-son rules that is not esfs's."""
import datetime
import errno
import json
import os
import shlex
import subprocess
import tempfile
import time

import pytest

from esfs_harness import quote, sh, snapshot_names

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "dist", "esfs-policy.in")
PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")


@pytest.fixture
def index(engine, unique):
    return engine.make_index(unique("data"), docs=5)


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def ago(days):
    return today() - datetime.timedelta(days=days)


def day_name(day):
    return "auto-" + day.strftime("%Y.%m.%d")


def policy(index, **rules):
    body = {"name": "auto-%Y.%m.%d", "every": "1d",
            "snapshot": {"indices": index, "include_global_state": False}}
    body.update(rules)
    return body


def write_policy(m, repo, body):
    with open(m.p(repo, "_policy.json"), "w") as f:
        json.dump(body, f)


def plan_of(m, repo):
    """{snapshot: (action, state, reason)} from the plan's tab-separated lines."""
    rows = [line.split("\t") for line in m.read(repo, "_policy", "plan").splitlines()
            if not line.startswith("#")]
    return {name: (action, state, reason) for action, name, state, _, reason in rows}


def acting(plan, action):
    return {name for name, (a, _, _) in plan.items() if a == action}


def run(m, repo):
    return sh(f"echo run > {shlex.quote(m.p(repo, '_policy', 'run'))}")


def take_dated(engine, repo, index, days):
    """Snapshots through the API, named for days in the past, as if a policy had taken them."""
    for d in days:
        engine.snapshot(repo, day_name(ago(d)), {"indices": index, "include_global_state": False})


def same_day(day):
    """A test that straddles midnight UTC would compare two days' plans."""
    if today() != day:
        pytest.skip("the UTC day changed during the test")


_restic_answers = {}


def restic_forget(days, keep):
    """What restic's forget --keep-* removes of snapshots taken at midnight (UTC) of days, and
    the rules that keep each one it keeps: ({removed day}, {kept day: {period}})."""
    key = (tuple(days), tuple(sorted(keep.items())))
    if key in _restic_answers:
        return _restic_answers[key]
    with tempfile.TemporaryDirectory(prefix="esfs-restic-") as tmp:
        env = dict(os.environ, RESTIC_PASSWORD="esfs-test", TZ="UTC", RESTIC_CACHE_DIR=tmp + "/cache")
        repo, data = os.path.join(tmp, "repo"), os.path.join(tmp, "data")
        os.mkdir(data)
        with open(os.path.join(data, "file"), "w") as f:
            f.write("x\n")

        def restic(*args):
            proc = subprocess.run(["restic", "--no-cache", "-q", "-r", repo, *args], env=env,
                                  capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0, proc.stderr
            return proc.stdout

        restic("init")
        for day in days:
            restic("backup", "--host", "esfs", "--time", f"{day.isoformat()} 00:00:00", data)
        rules = [arg for period, n in keep.items() for arg in (f"--keep-{period}", str(n))]
        groups = json.loads(restic("forget", "--dry-run", "--json", *rules))
    assert len(groups) == 1
    removed = {datetime.date.fromisoformat(s["time"][:10]) for s in groups[0]["remove"] or []}
    kept = {datetime.date.fromisoformat(r["snapshot"]["time"][:10]): {m.split()[0] for m in r["matches"]}
            for r in groups[0]["reasons"]}
    _restic_answers[key] = removed, kept
    return removed, kept


def periods_in(reason):
    return {part.split()[0] for part in reason.split(", ") if part.split()[0] in PERIODS}


# ---------------------------------------------------------------- plan and run

DAYS = [1, 2, 3, 4, 5, 6, 8, 9, 13, 15, 20, 22, 29, 31, 35, 45, 60, 62, 90, 120, 200, 370, 400, 800]
KEEP = {"daily": 5, "weekly": 4, "monthly": 6, "yearly": 2}


def test_the_plan_condemns_what_restic_forget_does_and_a_run_does_exactly_that(engine, repo, index, mount):
    day = today()
    take_dated(engine, repo, index, DAYS)
    # Not the policy's: a hand-made one, and one whose date does not exist.
    for other in ("manual-before-upgrade", "auto-2026.02.30"):
        engine.snapshot(repo, other, {"indices": index, "include_global_state": False})
    before = set(snapshot_names(engine, repo))
    m = mount()
    write_policy(m, repo, policy(index, keep=KEEP))
    removed, kept = restic_forget([day] + [ago(d) for d in DAYS], KEEP)
    condemned = {day_name(d) for d in removed}
    assert len(condemned) >= 5, "the scenario condemns enough to mean something"

    plan = plan_of(m, repo)
    assert acting(plan, "take") == {day_name(day)}
    assert acting(plan, "delete") == condemned
    for name in acting(plan, "keep") | acting(plan, "take"):
        if name.startswith("auto-2"):
            day_kept = datetime.date.fromisoformat(name[5:].replace(".", "-"))
            assert periods_in(plan[name][2]) == kept[day_kept], name
    assert all(plan[n][2] == "no rule keeps it" for n in condemned)
    assert acting(plan, "ignore") == {"manual-before-upgrade", "auto-2026.02.30"}

    sent = m.stats()
    proc = run(m, repo)
    assert proc.returncode == 0, proc.stderr
    # One PUT for the snapshot and one DELETE for all the condemned: one repository update, not one each.
    assert m.stats()["requests_put"] - sent["requests_put"] == 1
    assert m.stats()["requests_delete"] - sent["requests_delete"] == 1
    after = set(snapshot_names(engine, repo))
    assert after == (before - condemned) | {day_name(day)}
    taken = engine.snapshot_info(repo, day_name(day))
    assert taken["state"] == "SUCCESS" and taken["indices"] == [index]
    last = m.json(repo, "_policy", "last")
    assert last["result"] == "done" and last["took"] == day_name(day)
    assert sorted(last["deleted"]) == sorted(condemned)
    assert set(os.listdir(m.p(repo))) >= after

    # A second run right after: nothing is due, nothing condemned, nothing changes.
    proc = run(m, repo)
    assert proc.returncode == 0, proc.stderr
    assert set(snapshot_names(engine, repo)) == after
    last = m.json(repo, "_policy", "last")
    assert "took" not in last and last["deleted"] == []
    plan = plan_of(m, repo)
    assert not acting(plan, "take") and not acting(plan, "delete")
    same_day(day)


def test_partial_snapshots_never_count_and_the_newest_success_and_min_count_stay(engine, repo, index,
                                                                              mount, unique):
    day, red = today(), engine.make_red_index(unique("red"))
    for d in (0, 1):
        engine.snapshot(repo, day_name(ago(d)), {"indices": f"{index},{red}", "partial": True,
                                                  "include_global_state": False})
    assert engine.snapshot_info(repo, day_name(day))["state"] == "PARTIAL"
    take_dated(engine, repo, index, [2, 3, 4, 40])
    t = {d: day_name(ago(d)) for d in (0, 1, 2, 3, 4, 40)}
    m = mount()

    # Daily 2: the partial ones fill no day, so the two newest successes are kept.
    write_policy(m, repo, policy(index, keep={"daily": 2}, max_age="30d"))
    plan = plan_of(m, repo)
    assert not acting(plan, "take"), "today's snapshot is there: partial, but there"
    assert plan[t[0]] == ("keep", "PARTIAL", "PARTIAL: never counts; kept until a newer snapshot succeeds")
    assert plan[t[1]][0] == "keep" and "never counts" in plan[t[1]][2]
    assert plan[t[2]] == ("keep", "SUCCESS", "newest success, min_count 1, daily 1")
    assert plan[t[3]] == ("keep", "SUCCESS", "daily 2")
    assert plan[t[4]] == ("delete", "SUCCESS", "no rule keeps it")
    assert plan[t[40]] == ("delete", "SUCCESS", "older than max_age 30d")

    # min_count keeps what no rule does.
    write_policy(m, repo, policy(index, keep={"daily": 2}, max_age="30d", min_count=3))
    plan = plan_of(m, repo)
    assert plan[t[4]] == ("keep", "SUCCESS", "min_count 3")
    assert acting(plan, "delete") == {t[40]}

    # The newest success stays whatever max_age says.
    write_policy(m, repo, policy(index, max_age="1d", min_count=0))
    plan = plan_of(m, repo)
    assert plan[t[2]] == ("keep", "SUCCESS", "newest success")
    assert acting(plan, "delete") == {t[3], t[4], t[40]}

    write_policy(m, repo, policy(index, keep={"daily": 2}, max_age="30d"))
    proc = run(m, repo)
    assert proc.returncode == 0, proc.stderr
    assert set(snapshot_names(engine, repo)) == {t[0], t[1], t[2], t[3]}
    same_day(day)


@pytest.fixture
def big_index(engine, unique):
    """Twenty shards of small files: at 2 kB/s a snapshot of it runs for most of a minute."""
    name = unique("big")
    engine.ok("PUT", f"/{name}", {"settings": {"number_of_shards": 20, "number_of_replicas": 0}})
    bulk = "".join('{"index":{}}\n{"text":"%s"}\n' % ("x" * 500) for _ in range(400))
    engine.ok("POST", f"/{name}/_bulk?refresh=true", bulk.encode())
    return name


def test_a_running_snapshot_is_never_deleted(engine, index, big_index, mount, unique):
    day = today()
    slow = engine.make_repo(unique("slow"), max_snapshot_bytes_per_sec="2kb")
    take_dated(engine, slow, index, [0])
    running = day_name(ago(2))
    engine.snapshot(slow, running, {"indices": big_index, "include_global_state": False}, wait=False)
    m = mount()
    # Were it finished, max_age would condemn it.
    write_policy(m, slow, policy(index, max_age="1d", min_count=0))
    plan = plan_of(m, slow)
    assert plan[running] == ("keep", "IN_PROGRESS", "IN_PROGRESS: running, never deleted")
    assert plan[day_name(day)][0] == "keep"
    proc = run(m, slow)
    assert proc.returncode == 0, proc.stderr
    assert m.json(slow, "_policy", "last")["deleted"] == []
    assert engine.snapshot_info(slow, running)["state"] == "IN_PROGRESS"
    engine.ok("DELETE", f"/_snapshot/{quote(slow)}/{quote(running)}")
    same_day(day)


def test_a_run_waits_at_most_the_policys_wait_and_then_deletes_nothing(engine, index, big_index, mount,
                                                                       unique):
    slow = engine.make_repo(unique("slow"), max_snapshot_bytes_per_sec="2kb")
    take_dated(engine, slow, index, [3, 4])
    # Today's snapshot is running (another runner took it): a run waits for it, within bounds.
    engine.snapshot(slow, day_name(today()), {"indices": big_index, "include_global_state": False}, wait=False)
    m = mount()
    write_policy(m, slow, policy(index, max_age="1d", min_count=0, wait="2s"))
    assert acting(plan_of(m, slow), "delete") == {day_name(ago(4))}   # ago(3): the newest success
    start = time.monotonic()
    proc = run(m, slow)
    assert proc.returncode != 0 and "timed out" in proc.stderr
    assert time.monotonic() - start < 10
    last = m.json(slow, "_policy", "last")
    assert last["errno"] == "ETIMEDOUT" and "still running" in last["error"] and "deleted" not in last
    assert snapshot_names(engine, slow) == sorted([day_name(ago(4)), day_name(ago(3)), day_name(today())])
    engine.ok("DELETE", f"/_snapshot/{quote(slow)}/{quote(day_name(today()))}")


def test_nodelete_blocks_deletions_and_the_plan_says_so(engine, repo, index, mount):
    day = today()
    take_dated(engine, repo, index, [1, 2, 3])
    m = mount("nodelete")
    write_policy(m, repo, policy(index, keep={"daily": 1}))
    plan = plan_of(m, repo)
    assert acting(plan, "blocked") == {day_name(ago(d)) for d in (1, 2, 3)}
    assert all(r.endswith("; not deleted: mounted with -o nodelete") for a, _, r in plan.values() if a == "blocked")
    proc = run(m, repo)
    assert proc.returncode == 0, proc.stderr
    last = m.json(repo, "_policy", "last")
    assert last["took"] == day_name(day) and last["deleted"] == []
    assert sorted(last["blocked"]) == sorted(day_name(ago(d)) for d in (1, 2, 3))
    assert set(snapshot_names(engine, repo)) == {day_name(ago(d)) for d in (0, 1, 2, 3)}
    same_day(day)


def test_a_read_only_repository_is_never_changed(engine, repo, index, mount, unique):
    take_dated(engine, repo, index, [1, 2, 3])
    location = engine.ok("GET", f"/_snapshot/{quote(repo)}")[repo]["settings"]["location"]
    ro = unique("ro")
    engine.ok("PUT", f"/_snapshot/{ro}", {"type": "fs", "settings": {"location": location, "readonly": True}})
    m = mount()
    write_policy(m, ro, policy(index, keep={"daily": 1}))
    plan = plan_of(m, ro)
    assert acting(plan, "take") == {day_name(today())}
    assert {n for n, (_, _, r) in plan.items() if r.endswith("not deleted: the repository is read-only")} == \
        {day_name(ago(d)) for d in (1, 2, 3)}
    proc = run(m, ro)
    assert proc.returncode != 0 and "Read-only file system" in proc.stderr
    assert any("_policy/run" in line and "EROFS" in line for line in m.errors())
    assert m.json(ro, "_policy", "last")["errno"] == "EROFS"
    assert set(snapshot_names(engine, repo)) == {day_name(ago(d)) for d in (1, 2, 3)}


# ---------------------------------------------------------------- the file itself

def test_a_policy_is_checked_when_written_kept_across_a_remount_and_removed_by_rm(engine, repo, index,
                                                                                 mount, tmp_path):
    state = str(tmp_path / "state")
    m = mount(state_dir=state)
    assert m.read(repo, "_policy.json") == ""
    assert m.read(repo, "_policy", "plan").startswith("# no policy")
    good = policy(index, keep={"daily": 7, "weekly": 4}, max_age="90d")
    write_policy(m, repo, good)
    refusals = [({**good, "keep": {"dayly": 7}}, "keep.dayly: no such field"),
                ({**good, "name": "Auto-%Y.%m.%d"}, "the engine would refuse its snapshots"),
                ({**good, "every": "1h"}, "two periods would get one name"),
                ({**good, "max_age": "90 days"}, "max_age: a duration"),
                ({k: v for k, v in good.items() if k not in ("keep", "max_age")}, "give keep")]
    for bad, why in refusals:
        with pytest.raises(OSError) as e:
            write_policy(m, repo, bad)
        assert e.value.errno == errno.EINVAL, why
        assert any(f"/{repo}/_policy.json\tEINVAL" in line and why in line for line in m.errors()), why
        assert json.loads(m.read(repo, "_policy.json")) == good, "a refused policy leaves the one before"
    m.stop()

    m = mount(state_dir=state)
    assert json.loads(m.read(repo, "_policy.json")) == good
    os.unlink(m.p(repo, "_policy.json"))
    assert m.read(repo, "_policy.json") == ""
    proc = run(m, repo)
    assert proc.returncode != 0 and "No such file or directory" in proc.stderr
    assert any("has no policy" in line for line in m.errors())
    assert snapshot_names(engine, repo) == []


def test_reading_every_file_of_the_policy_changes_nothing(engine, repo, index, mount):
    take_dated(engine, repo, index, [1, 2, 3])
    m = mount()
    write_policy(m, repo, policy(index, keep={"daily": 1}))
    proc = sh(f"cd {shlex.quote(m.p(repo))} && ls -lR . >/dev/null && cat _policy.json _policy/* >/dev/null")
    assert proc.returncode == 0, proc.stderr
    assert set(snapshot_names(engine, repo)) == {day_name(ago(d)) for d in (1, 2, 3)}
    assert m.json(repo, "_policy", "last") == {}


def test_the_policy_runner_runs_each_policy_of_the_mount(engine, repo, index, mount, unique):
    broken, plain = engine.make_repo(unique("broken")), engine.make_repo(unique("plain"))
    m = mount()
    write_policy(m, repo, policy(index, keep={"daily": 7}))
    write_policy(m, broken, policy("no-such-index", keep={"daily": 7}))
    proc = subprocess.run(["sh", RUNNER, m.path], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"esfs-policy: {repo}: done" in proc.stdout
    assert f"esfs-policy: {broken}: the run failed" in proc.stderr
    assert plain not in proc.stdout + proc.stderr
    assert snapshot_names(engine, repo) == [day_name(today())]
    assert snapshot_names(engine, broken) == [] and snapshot_names(engine, plain) == []
    assert m.json(broken, "_policy", "last")["result"] == "failed"
    # Run again: the first policy has nothing to do, and says it is done.
    write_policy(m, broken, policy(index, keep={"daily": 7}))
    proc = subprocess.run(["sh", RUNNER, m.path], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert snapshot_names(engine, repo) == [day_name(today())]
    assert snapshot_names(engine, broken) == [day_name(today())]
