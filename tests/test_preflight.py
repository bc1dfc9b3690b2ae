"""<snapshot>/restore.plan checks a restore body against the live cluster and restores nothing.

Each refusal is checked twice: the plan's errno and reason, with no request that changes
anything, and then the engine itself refusing the very same body through its REST API, so
the plan is right and not merely strict. A body the plan accepts then restores for real.
"""
import errno
import json
import os

import pytest

from esfs_harness import quote


def write(m, *parts, text):
    with open(m.p(*parts), "w") as f:
        f.write(text)


def plan_rows(m, repo, snap):
    """verdict, index, target, bytes, reason of each line of the plan."""
    return [line.split("\t") for line in m.read(repo, snap, "restore.plan").splitlines()
            if not line.startswith("#")]


def changing_requests(stats):
    return {k: v for k, v in stats.items()
            if k in ("requests_put", "requests_post", "requests_delete")}


@pytest.fixture
def snapped(engine, repo, unique):
    """Three indices (one of two shards), snapshotted; then one of them is live and open."""
    a, b, c = unique("pa"), unique("pb"), unique("pc")
    engine.make_index(a, docs=2)
    engine.ok("PUT", f"/{b}", {"settings": {"number_of_shards": 2, "number_of_replicas": 0}})
    engine.make_index(b, docs=3)
    engine.make_index(c, docs=1)
    engine.snapshot(repo, "snap", {"indices": f"{a},{b},{c}", "include_global_state": False})
    return a, b, c


def engine_restore(engine, repo, body):
    return engine.api("POST", f"/_snapshot/{quote(repo)}/snap/_restore?wait_for_completion=true", body)


def test_an_unread_plan_says_how_to_use_it_and_asks_nothing(engine, repo, snapped, mount):
    m = mount()
    os.listdir(m.p(repo, "snap"))
    assert "restore.plan" in os.listdir(m.p(repo, "snap"))
    before = m.stats()
    assert "write a restore body here" in m.read(repo, "snap", "restore.plan")
    assert m.stats()["requests"] == before["requests"], "reading it asks the cluster nothing"


def test_an_accepted_plan_lists_each_index_its_new_name_and_size_and_then_restores(
        engine, repo, snapped, mount):
    a, b, c = snapped
    body = {"indices": f"{a},{b}", "rename_pattern": "(.+)", "rename_replacement": "restored-$1"}
    m = mount()
    sent = changing_requests(m.stats())
    write(m, repo, "snap", "restore.plan", text=json.dumps(body))
    assert changing_requests(m.stats()) == sent, "a plan changes nothing"
    text = m.read(repo, "snap", "restore.plan")
    assert text.startswith("# accepted")
    status = engine.snapshot_status(repo, "snap")["indices"]
    assert plan_rows(m, repo, "snap") == [
        ["restore", a, "restored-" + a, str(status[a]["stats"]["total"]["size_in_bytes"]), ""],
        ["restore", b, "restored-" + b, str(status[b]["stats"]["total"]["size_in_bytes"]), ""]]
    assert engine.api("GET", f"/restored-{a}")[0] == 404, "nothing was restored"
    code, answer = engine_restore(engine, repo, body)
    assert code == 200, answer
    assert sorted(answer["snapshot"]["indices"]) == sorted(["restored-" + a, "restored-" + b])


# (body, errno, reason in the plan, what the engine's refusal says); {a} {b} {c} are the indices.
REFUSALS = [
    ({"indices": "{a}"}, errno.EEXIST, "an open index of that name exists",
     "because an open index with same name already exists"),
    ({"indices": "{a},nosuchindex"}, errno.ENOENT, "no such index [nosuchindex]",
     "no such index [nosuchindex]"),
    ({"indices": "{a}", "rename_pattern": "(.+)", "rename_replacement": "UP$1"}, errno.EINVAL,
     "must be lowercase", "must be lowercase"),
    ({"indices": "{a}", "rename_pattern": "(.+)", "rename_replacement": "_$1"}, errno.EINVAL,
     "must not start with '_'", "must not start with '_'"),
    ({"indices": "{a}", "rename_pattern": "(.+)", "rename_replacement": "a b"}, errno.EINVAL,
     "must not contain ' '", "must not contain"),
    ({"indices": "{a}", "rename_pattern": "(.+)", "rename_replacement": "x-$2"}, errno.EINVAL,
     "refers to group 2", "No group 2"),
    ({"indices": "{a}", "rename_pattern": "(", "rename_replacement": "x"}, errno.EINVAL,
     "is not a valid pattern", "Unclosed group"),
    ({"indices": "{a},{c}", "rename_pattern": "p[ac]-.*", "rename_replacement": "same"},
     errno.EINVAL, "are renamed into the same index", "are renamed into the same index"),
    ({"indices": "{b}", "rename_pattern": "(.+)", "rename_replacement": "closed1-$1"}, errno.EEXIST,
     "the closed index of that name has 1 shards, the snapshot's index 2", "with [1] shards"),
    ({"indices": "{c}", "rename_pattern": "(.+)", "rename_replacement": "alias-$1"}, errno.EEXIST,
     "an alias of that name exists", "already exists as alias"),
]
IDS = ["open-index", "not-in-snapshot", "rename-uppercase", "rename-underscore", "rename-space",
       "rename-no-group", "bad-pattern", "two-onto-one", "closed-other-shards", "alias"]


def fill(body, a, b, c):
    return {k: v.format(a=a, b=b, c=c) if k == "indices" else v for k, v in body.items()}


@pytest.mark.parametrize("body,code,why,engine_says", REFUSALS, ids=IDS)
def test_each_refusal_has_its_errno_and_reason_and_the_engine_refuses_it_too(
        engine, repo, snapped, mount, body, code, why, engine_says):
    a, b, c = snapped
    body = fill(body, a, b, c)
    # What the cluster has in the way: a closed index of 1 shard, an alias.
    engine.ok("PUT", f"/closed1-{b}", {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    engine.ok("POST", f"/closed1-{b}/_close")
    engine.ok("POST", "/_aliases", {"actions": [{"add": {"index": a, "alias": f"alias-{c}"}}]})
    m = mount()
    sent = changing_requests(m.stats())
    with pytest.raises(OSError) as e:
        write(m, repo, "snap", "restore.plan", text=json.dumps(body))
    assert e.value.errno == code
    assert changing_requests(m.stats()) == sent, "a plan changes nothing"
    assert any("restore.plan" in line and why in line for line in m.errors())
    plan = m.read(repo, "snap", "restore.plan")
    assert plan.startswith("# refused: ") and why in plan.splitlines()[0]
    status, answer = engine_restore(engine, repo, body)
    assert status >= 400 and engine_says in json.dumps(answer), answer


def test_a_closed_index_with_the_same_shards_is_replaced_as_the_engine_does(engine, repo, snapped, mount):
    a, b, c = snapped
    engine.ok("POST", f"/{b}/_close")
    m = mount()
    write(m, repo, "snap", "restore.plan", text=json.dumps({"indices": b}))
    assert [r[0] for r in plan_rows(m, repo, "snap")] == ["replace"]
    code, answer = engine_restore(engine, repo, {"indices": b})
    assert code == 200, answer
    assert engine.ok("GET", f"/{b}/_count")["count"] == 3


def test_wildcards_and_exclusions_select_as_the_engine_selects(engine, repo, snapped, mount, unique):
    a, b, c = snapped
    body = {"indices": ["*", f"-{b}"], "rename_pattern": "(.+)", "rename_replacement": "w-$1"}
    m = mount()
    write(m, repo, "snap", "restore.plan", text=json.dumps(body))
    planned = sorted(r[2] for r in plan_rows(m, repo, "snap"))
    assert planned == sorted(["w-" + a, "w-" + c])
    code, answer = engine_restore(engine, repo, body)
    assert code == 200 and sorted(answer["snapshot"]["indices"]) == planned
    # A pattern that matches nothing selects nothing, and the engine takes that too.
    write(m, repo, "snap", "restore.plan", text=json.dumps({"indices": "nothing-*"}))
    assert plan_rows(m, repo, "snap") == []


def test_a_plan_for_a_missing_snapshot_is_enoent(engine, repo, snapped, mount):
    m = mount()
    with pytest.raises(OSError) as e:
        write(m, repo, "gone", "restore.plan", text="{}")
    assert e.value.errno == errno.ENOENT
