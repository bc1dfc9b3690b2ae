"""esfs -o aws_sigv4 end to end: esfs signs, tests/aws/gateway.py checks every
signature with botocore and forwards to a real engine; tests/aws/metadata.py
serves rotating short-lived credentials for the container and IMDSv2 sources.

Every test runs on each engine of the suite (ESFS_TEST_ENGINES) and with each
build; what esfs changed is checked through the engine's own REST API, never
through the gateway. Every esfs started here has instance metadata disabled or
pointed at the stand-in, so nothing leaves loopback.
"""
import errno
import json
import os
import shlex
import subprocess
import sys
import time

import pytest

from esfs_harness import Mount, count, quote, sh, snapshot_names, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "aws"))
import standins  # noqa: E402
from standins import NO_AWS_ENV, wait_for  # noqa: E402

from standins import KEY_ID, REGION, SECRET  # noqa: E402

TOKEN = "FwoGZXIvYXdzEsfsTestSessionToken//////////"


def run_esfs(esfs_bin, url, env, *options, timeout=20):
    """esfs expected to refuse before mounting: (exit status, output)."""
    folder = os.path.join("/tmp", f"esfs-aws-refused-{os.getpid()}")
    os.makedirs(folder, exist_ok=True)
    args = [esfs_bin, "-f"]
    for o in options:
        args += ["-o", o]
    try:
        proc = subprocess.run(args + [url, folder], env={**os.environ, **NO_AWS_ENV, **env},
                              capture_output=True, text=True, timeout=timeout)
    finally:
        if os.path.ismount(folder):
            subprocess.run(["fusermount3", "-u", folder])
        os.rmdir(folder)
    return proc.returncode, proc.stdout + proc.stderr


def requests_seen(gw):
    return [line for line in gw.log().splitlines() if line.startswith("gateway: ")]


def read_health(m):
    return m.read("_cluster", "health").strip()


def test_environment_credentials(fixed_gateway, aws_mount):
    m = aws_mount(fixed_gateway.url, {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})
    assert "_cluster" in os.listdir(m.path)
    assert read_health(m) in ("green", "yellow")
    m.json("_cluster", "info.json")
    # Every request signed and let through (Elasticsearch answers GET / with 405).
    seen = requests_seen(fixed_gateway)
    assert seen and all(line.endswith(f"({KEY_ID})") for line in seen), seen
    assert sum(" -> 200 " in line for line in seen) >= 3, seen
    assert "AWS credentials from environment (access key AKIDESFSTEST)" in m.output()
    assert SECRET not in m.output()
    # /_esfs/aws says which credentials sign, never the secret.
    shown = dict(line.split(" ", 1) for line in m.read("_esfs", "aws").splitlines())
    assert shown["source"] == "environment" and shown["access_key_id"] == KEY_ID
    assert shown["region"] == "us-east-1" and shown["service"] == "es"
    assert SECRET not in m.read("_esfs", "aws")


def test_wrong_secret_is_permission_denied(fixed_gateway, aws_mount):
    m = aws_mount(fixed_gateway.url, {"AWS_ACCESS_KEY_ID": KEY_ID,
                                      "AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    with pytest.raises(PermissionError) as e:
        os.listdir(m.path)
    assert e.value.errno == errno.EACCES
    errors = m.errors()
    assert any("EACCES" in line and "The request signature we calculated does not match" in line
               for line in errors), errors


def test_session_token_from_environment(gateway, aws_mount):
    gw = gateway("--access-key-id", KEY_ID, "--secret-access-key", SECRET, "--session-token", TOKEN)
    m = aws_mount(gw.url, {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                           "AWS_SESSION_TOKEN": TOKEN})
    assert read_health(m) in ("green", "yellow")
    m2 = aws_mount(gw.url, {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})
    with pytest.raises(PermissionError):
        os.listdir(m2.path)
    assert any("security token included in the request is invalid" in line for line in m2.errors())


def test_shared_credentials_file_profile(fixed_gateway, aws_mount, tmp_path):
    cred = tmp_path / "credentials"
    cred.write_text(f"[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = x\n\n"
                    f"[esfs]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    config = tmp_path / "config"
    config.write_text("[profile esfs]\nregion = us-east-1\n")
    m = aws_mount(fixed_gateway.url, {"AWS_SHARED_CREDENTIALS_FILE": str(cred),
                                      "AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "esfs"})
    assert read_health(m) in ("green", "yellow")
    assert "from shared-file:esfs" in m.output()


def rotation_setup(gateway, tmp_path, lifetime):
    accepted = tmp_path / "accepted.json"
    md = standins.metadata("--accepted", str(accepted), "--lifetime", str(lifetime),
                           "--container-token", "Bearer esfs-container-token")
    gw = gateway("--credentials-file", str(accepted))
    return md, gw


def md_stats(md):
    return json.loads(md.call("GET", "/_stats")[1])


def keys_used(gw):
    return {line.rsplit("(", 1)[1].rstrip(")") for line in requests_seen(gw) if "-> 200" in line}


def keep_reading(m, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert read_health(m) in ("green", "yellow"), m.errors()
        time.sleep(0.5)


def test_container_credentials_rotate_while_mounted(gateway, aws_mount, tmp_path):
    md, gw = rotation_setup(gateway, tmp_path, lifetime=8)
    try:
        m = aws_mount(gw.url, {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/esfs",
                               "ESFS_AWS_CONTAINER_ENDPOINT": md.url,
                               "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer esfs-container-token",
                               "ESFS_AWS_REFRESH_MARGIN": "3"})
        keep_reading(m, 18)
        assert md_stats(md)["container"] >= 3
        assert len(keys_used(gw)) >= 3
        assert "esfs-container-token" not in m.output()
    finally:
        md.stop()


def test_instance_metadata_credentials_rotate_while_mounted(gateway, aws_mount, tmp_path):
    md, gw = rotation_setup(gateway, tmp_path, lifetime=8)
    try:
        m = aws_mount(gw.url, {"AWS_EC2_METADATA_DISABLED": "",
                               "AWS_EC2_METADATA_SERVICE_ENDPOINT": md.url,
                               "ESFS_AWS_REFRESH_MARGIN": "3"})
        keep_reading(m, 18)
        stats = md_stats(md)
        assert stats["imds_credentials"] >= 3 and stats["imds_tokens"] >= 3
        assert stats["refused"] == 0
        assert len(keys_used(gw)) >= 3
    finally:
        md.stop()


def test_failed_refresh_keeps_credentials_until_they_expire(gateway, aws_mount, tmp_path):
    md, gw = rotation_setup(gateway, tmp_path, lifetime=10)
    try:
        m = aws_mount(gw.url, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": md.url + "/v2/credentials/esfs",
                               "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer esfs-container-token",
                               "ESFS_AWS_REFRESH_MARGIN": "6"})
        fetched_at = time.time()
        md.call("POST", "/_control", body=json.dumps({"fail": True}))
        # Inside the margin the refresh fails, yet the current set serves until it expires.
        while time.time() < fetched_at + 8:
            assert read_health(m) in ("green", "yellow"), m.errors()
            time.sleep(0.5)

        def refused():
            try:
                read_health(m)
                return False
            except PermissionError:
                return True
        # A read signed just before the expiry may reach the gateway just after it and be
        # refused there ("token expired"); the ones after are refused by esfs, naming the cause.
        def refused_by_esfs():
            return refused() and any("aws_credentials" in line and "HTTP 500" in line
                                     for line in m.errors())
        assert wait_for(refused_by_esfs, 6), m.errors()
        md.call("POST", "/_control", body=json.dumps({"fail": False}))
        assert wait_for(lambda: not refused(), 10)
    finally:
        md.stop()


def test_basic_auth_refused_with_sigv4(fixed_gateway, esfs_bin):
    rc, out = run_esfs(esfs_bin, fixed_gateway.url,
                       {"ESFS_USER": "admin", "ESFS_PASSWORD": "pw", "AWS_ACCESS_KEY_ID": KEY_ID,
                        "AWS_SECRET_ACCESS_KEY": SECRET}, "aws_sigv4", f"aws_region={REGION}")
    assert rc != 0 and "aws_sigv4 signs with AWS credentials" in out, out


def test_no_credentials_refused(fixed_gateway, esfs_bin):
    rc, out = run_esfs(esfs_bin, fixed_gateway.url, {}, "aws_sigv4", f"aws_region={REGION}")
    assert rc != 0 and "no AWS credentials found" in out, out
    assert "instance-metadata: AWS_EC2_METADATA_DISABLED is true" in out


def test_region_needed_for_a_plain_host(fixed_gateway, esfs_bin):
    rc, out = run_esfs(esfs_bin, fixed_gateway.url,
                       {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}, "aws_sigv4")
    assert rc != 0 and "aws_region=REGION" in out, out


def test_region_option_without_sigv4_refused(fixed_gateway, esfs_bin):
    rc, out = run_esfs(esfs_bin, fixed_gateway.url, {}, f"aws_region={REGION}")
    assert rc != 0 and "go with -o aws_sigv4" in out, out


# ---------------------------------------------------------------- the write side

SOURCES = ["environment", "shared-file", "container", "instance-metadata"]
CONTAINER_TOKEN = "Bearer esfs-container-token"
WRONG_SECRET = "not-the-secret"
BIG_BULK = "".join('{"index":{}}\n{"text":"%s"}\n' % ("x" * 500) for _ in range(400)).encode()




def echo_into(path, doc):
    """`echo 'DOC' > PATH` as an operator types it: the shell's CompletedProcess."""
    return sh(f"echo {shlex.quote(json.dumps(doc))} > {shlex.quote(path)}")








def engine_view(engine):
    """Everything esfs could change, as the engine's REST API tells it."""
    repos = engine.ok("GET", "/_snapshot")
    return {
        "repositories": repos,
        "snapshots": {r: snapshot_names(engine, r) for r in repos},
        "indices": {i["index"]: i["docs.count"] for i in engine.ok("GET", "/_cat/indices?format=json&h=index,docs.count")
                    if not i["index"].startswith(".")},
    }


def requests_answered(gw):
    """(method, path without query, status) of each request the gateway saw."""
    out = []
    for line in requests_seen(gw):
        fields = line.split()
        out.append((fields[2], fields[3].split("?")[0], int(fields[5])))
    return out


class Source:
    """The environment that gives esfs credentials from one source, and the gateway
    that checks what esfs signs with them."""

    def __init__(self, kind, gw, env, md=None, issued=None, accepted=None):
        self.kind, self.gw, self.env, self.md = kind, gw, env, md
        self.issued, self.accepted = issued, accepted

    def spoil(self):
        """Temporary credentials: the gateway knows the key IDs and tokens issued so far,
        each with another secret."""
        if self.md is None:
            return
        assert wait_for(self.issued.exists, 10)
        doc = json.loads(self.issued.read_text())
        for c in doc["credentials"]:
            c["secret_access_key"] = WRONG_SECRET
        tmp = self.accepted.with_name("spoiled.tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self.accepted)

    def rotate(self, m):
        """Temporary credentials: reads until a key not seen before signs, so that the
        steps after it are signed with freshly fetched credentials."""
        if self.md is None:
            return
        before = keys_used(self.gw)

        def fresh():
            assert read_health(m) in ("green", "yellow"), m.errors()
            return keys_used(self.gw) - before
        assert wait_for(fresh, 15, step=0.3), (before, m.errors())


@pytest.fixture
def credentials_source(gateway, tmp_path):
    started = []

    def make(kind, good=True, lifetime=6, margin=3):
        secret = SECRET if good else WRONG_SECRET
        if kind in ("environment", "shared-file"):
            gw = gateway("--access-key-id", KEY_ID, "--secret-access-key", SECRET)
            if kind == "environment":
                return Source(kind, gw, {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": secret})
            cred = tmp_path / "credentials"
            cred.write_text(f"[esfs]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {secret}\n")
            return Source(kind, gw, {"AWS_SHARED_CREDENTIALS_FILE": str(cred), "AWS_PROFILE": "esfs"})
        issued = tmp_path / "issued.json"
        accepted = issued if good else tmp_path / "accepted.json"
        # Bad temporary credentials live long: no fresh set comes to replace the spoiled one.
        md = standins.metadata("--accepted", str(issued), "--lifetime", str(lifetime if good else 600),
                               "--container-token", CONTAINER_TOKEN)
        started.append(md)
        gw = gateway("--credentials-file", str(accepted))
        env = {"ESFS_AWS_REFRESH_MARGIN": str(margin if good else 1)}
        if kind == "container":
            env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": md.url + "/v2/credentials/esfs",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_TOKEN})
        else:
            env.update({"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": md.url})
        return Source(kind, gw, env, md, issued, accepted)

    yield make
    for md in started:
        md.stop()


@pytest.mark.parametrize("source", SOURCES)
def test_every_write_works_through_the_gateway(engine, credentials_source, aws_mount, unique, source):
    src = credentials_source(source)
    # esfs's default cache: every request through the gateway costs tens of milliseconds.
    m = aws_mount(src.gw.url, src.env, cache_ttl=2)
    data = engine.make_index(unique("data"), docs=5)
    big = unique("big")
    engine.ok("POST", f"/{big}/_bulk?refresh=true", BIG_BULK)
    name = unique("reg")
    settings = {"location": os.path.join(engine.repo_root, name)}

    def write(path, doc):
        proc = echo_into(path, doc)
        assert proc.returncode == 0, (path, proc.stderr, m.errors())

    # Register a repository: mkdir, then its settings.
    os.mkdir(m.p(name))
    assert os.listdir(m.p(name)) == ["_settings.json"]
    assert engine.api("GET", f"/_snapshot/{name}")[0] == 404
    write(m.p(name, "_settings.json"), {"type": "fs", "settings": settings})
    assert engine.ok("GET", f"/_snapshot/{name}")[name]["settings"] == settings
    src.rotate(m)

    # Update it, verify it.
    settings["chunk_size"] = "10mb"
    write(m.p(name, "_settings.json"), {"type": "fs", "settings": settings})
    registered = engine.ok("GET", f"/_snapshot/{name}")[name]
    assert registered["settings"] == settings
    assert m.json(name, "_settings.json") == registered
    proc = sh(f"cat {m.p(name, '_verify')}")
    assert proc.returncode == 0, (proc.stderr, m.errors())
    assert set(json.loads(proc.stdout)["nodes"]) == set(engine.ok("GET", "/_nodes/_local")["nodes"])

    # Snapshot with the repository's defaults, and read it back.
    defaults = {"indices": f"{data},{big}", "include_global_state": False, "metadata": {"source": source}}
    write(m.p(name, "_defaults.json"), defaults)
    assert m.json(name, "_defaults.json") == defaults
    os.mkdir(m.p(name, "snap-1"))
    assert snapshot_names(engine, name) == ["snap-1"]
    assert m.read(name, "snap-1", "wait") == "SUCCESS\n"
    info = engine.snapshot_info(name, "snap-1")
    assert info["state"] == "SUCCESS" and sorted(info["indices"]) == sorted([data, big])
    assert info["metadata"] == {"source": source} and info["include_global_state"] is False
    assert m.read(name, "snap-1", "state") == "SUCCESS\n"
    assert m.json(name, "snap-1", "info.json") == info
    assert m.read(name, "snap-1", "indices").splitlines() == sorted(info["indices"])
    assert m.read(name, "snap-1", "failures") == ""
    status = engine.snapshot_status(name, "snap-1")
    assert m.json(name, "snap-1", "status.json") == status
    size, shards = status["stats"]["total"]["size_in_bytes"], status["shards_stats"]
    assert m.read(name, "snap-1", "progress") == (
        f"100.0% shards {shards['done']}/{shards['total']} bytes {size}/{size}\n")
    src.rotate(m)

    # Restore under a new name; the restored index shows in /_recovery.
    write(m.p(name, "snap-1", "restore.json"),
          {"indices": data, "rename_pattern": "(.+)", "rename_replacement": "restored-$1"})
    target = "restored-" + data
    assert wait_until(lambda: engine.api(
        "GET", f"/_cluster/health/{target}?wait_for_status=yellow&timeout=1s")[0] == 200)
    assert count(engine, target) == count(engine, data) == 5
    record = m.json(name, "snap-1", "restore.json")
    assert record["status"] == 200 and record["answer"].get("accepted") is True
    assert wait_until(lambda: m.read("_recovery", target).startswith("DONE"))
    assert f"snapshot {name}/snap-1" in m.read("_recovery", target)
    assert m.json("_recovery", target + ".json") == engine.ok("GET", f"/{target}/_recovery")[target]

    # Delete the snapshot. (First: after a restore is cancelled, the engines hold any
    # snapshot deletion in the repository until the throttled reads end, seconds later.)
    os.rmdir(m.p(name, "snap-1"))
    assert snapshot_names(engine, name) == []
    assert "snap-1" not in os.listdir(m.p(name))
    src.rotate(m)

    # Throttle the repository's restores, restore from a new snapshot and cancel with rm.
    settings["max_restore_bytes_per_sec"] = "2kb"
    write(m.p(name, "_settings.json"), {"type": "fs", "settings": settings})
    assert engine.ok("GET", f"/_snapshot/{name}")[name]["settings"] == settings
    os.mkdir(m.p(name, "snap-2"))
    assert m.read(name, "snap-2", "wait") == "SUCCESS\n"
    assert snapshot_names(engine, name) == ["snap-2"]
    write(m.p(name, "snap-2", "restore.json"),
          {"indices": big, "rename_pattern": "(.+)", "rename_replacement": "cancel-$1"})
    slow = "cancel-" + big
    assert wait_until(lambda: slow in os.listdir(m.p("_recovery")))
    assert not m.read("_recovery", slow).startswith("DONE")
    # The index shows in _cat/recovery a moment before its shards do in <index>/_recovery,
    # which esfs asks before it deletes anything: wait for a shard coming from the snapshot.
    assert wait_until(lambda: any(
        s["type"] == "SNAPSHOT" and s["stage"] != "DONE"
        for s in engine.ok("GET", f"/{slow}/_recovery").get(slow, {}).get("shards", [])))
    os.unlink(m.p("_recovery", slow))
    assert engine.api("GET", f"/{slow}")[0] == 404

    # Unregister the repository.
    os.rmdir(m.p(name))
    assert engine.api("GET", f"/_snapshot/{name}")[0] == 404
    assert name not in os.listdir(m.path)

    # Each change went through the gateway, signed and accepted; nothing failed.
    answered = requests_answered(src.gw)
    assert all(status != 403 for _, _, status in answered), requests_seen(src.gw)
    changes = {(method, path) for method, path, status in answered if method != "GET" and status < 300}
    assert changes >= {("PUT", f"/_snapshot/{name}"), ("POST", f"/_snapshot/{name}/_verify"),
                       ("PUT", f"/_snapshot/{name}/snap-1"), ("PUT", f"/_snapshot/{name}/snap-2"),
                       ("POST", f"/_snapshot/{name}/snap-1/_restore"),
                       ("POST", f"/_snapshot/{name}/snap-2/_restore"), ("DELETE", f"/{slow}"),
                       ("DELETE", f"/_snapshot/{name}/snap-1"), ("DELETE", f"/_snapshot/{name}")}, changes
    assert m.errors() == []
    if src.md:
        assert len(keys_used(src.gw)) >= 4
        stats = md_stats(src.md)
        assert stats["container" if source == "container" else "imds_credentials"] >= 4


@pytest.mark.parametrize("source", SOURCES)
def test_every_operation_is_eacces_with_a_wrong_secret(engine, credentials_source, aws_mount,
                                                       unique, source):
    repo = engine.make_repo(unique("repo"))
    data = engine.make_index(unique("data"), docs=5)
    engine.snapshot(repo, "s", {"indices": data, "include_global_state": False})
    engine.ok("POST", f"/_snapshot/{repo}/s/_restore?wait_for_completion=true",
              {"indices": data, "rename_pattern": "(.+)", "rename_replacement": "restored-$1"})
    restored = "restored-" + data
    before = engine_view(engine)
    src = credentials_source(source, good=False)
    m = aws_mount(src.gw.url, src.env)
    src.spoil()
    new = unique("new")
    settings = {"type": "fs", "settings": {"location": os.path.join(engine.repo_root, new)}}

    calls = {
        "ls /": lambda: os.listdir(m.path),
        "ls repo": lambda: os.listdir(m.p(repo)),
        "mkdir repo": lambda: os.mkdir(m.p(new)),
        "mkdir snapshot": lambda: os.mkdir(m.p(repo, "s2")),
        "rmdir snapshot": lambda: os.rmdir(m.p(repo, "s")),
        "rmdir repo": lambda: os.rmdir(m.p(repo)),
        "rm recovery": lambda: os.unlink(m.p("_recovery", restored)),
        "ls recovery": lambda: os.listdir(m.p("_recovery")),
        "read _verify": lambda: m.read(repo, "_verify"),
        "read state": lambda: m.read(repo, "s", "state"),
        "read health": lambda: read_health(m),
    }
    for what, call in calls.items():
        with pytest.raises(PermissionError) as e:
            call()
        assert e.value.errno == errno.EACCES, what
    shell = {
        "settings of a new repo": echo_into(m.p(new, "_settings.json"), settings),
        "settings": echo_into(m.p(repo, "_settings.json"), dict(settings, settings={
            "location": os.path.join(engine.repo_root, "t-" + repo), "chunk_size": "10mb"})),
        "defaults": echo_into(m.p(repo, "_defaults.json"), {"indices": data}),
        "restore": echo_into(m.p(repo, "s", "restore.json"),
                             {"indices": data, "rename_pattern": "(.+)", "rename_replacement": "again-$1"}),
        "cat _verify": sh(f"cat {m.p(repo, '_verify')}"),
        "ls": sh(f"ls {m.p(repo)}"),
        "rm -r": sh(f"rm -r {m.p(repo, 's')}"),
    }
    for what, proc in shell.items():
        assert proc.returncode != 0 and "Permission denied" in proc.stderr, (what, proc.stderr)

    assert engine_view(engine) == before
    assert all(status == 403 for _, _, status in requests_answered(src.gw)), requests_seen(src.gw)
    errors = m.errors()
    assert any("\tEACCES\t" in line and "The request signature we calculated does not match" in line
               for line in errors), errors
    assert WRONG_SECRET not in m.output()


def test_writes_signed_with_a_revoked_secret_are_eacces(engine, gateway, aws_mount, tmp_path, unique):
    """Each change reaches the gateway itself and is refused there: before each one the
    gateway still takes the secret and esfs caches what the change's lookups need; then
    the gateway takes another secret for the same key."""
    accepted = tmp_path / "accepted.json"

    def accept(secret):
        tmp = tmp_path / "accepted.tmp"
        tmp.write_text(json.dumps({"credentials": [{"access_key_id": KEY_ID, "secret_access_key": secret}]}))
        os.replace(tmp, accepted)

    accept(SECRET)
    gw = gateway("--credentials-file", str(accepted))
    repo = engine.make_repo(unique("repo"))
    data = engine.make_index(unique("data"), docs=5)
    engine.snapshot(repo, "s", {"indices": data, "include_global_state": False})
    m = aws_mount(gw.url, {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET},
                  cache_ttl=600)
    new = unique("new")
    os.mkdir(m.p(new))      # pending: nothing is sent until its settings are written
    before = engine_view(engine)

    def shell(proc):
        assert proc.returncode != 0, proc.stdout
        assert "Permission denied" in proc.stderr, proc.stderr

    def call(action):
        with pytest.raises(PermissionError) as e:
            action()
        assert e.value.errno == errno.EACCES

    location = os.path.join(engine.repo_root, "t-" + repo)
    changes = [
        (lambda: shell(echo_into(m.p(new, "_settings.json"), {"type": "fs", "settings": {
            "location": os.path.join(engine.repo_root, new)}})), "PUT", f"/_snapshot/{new}"),
        (lambda: shell(echo_into(m.p(repo, "_settings.json"), {"type": "fs", "settings": {
            "location": location, "chunk_size": "10mb"}})), "PUT", f"/_snapshot/{repo}"),
        (lambda: shell(sh(f"cat {m.p(repo, '_verify')}")), "POST", f"/_snapshot/{repo}/_verify"),
        (lambda: call(lambda: os.mkdir(m.p(repo, "s2"))), "PUT", f"/_snapshot/{repo}/s2"),
        (lambda: shell(echo_into(m.p(repo, "s", "restore.json"), {
            "indices": data, "rename_pattern": "(.+)", "rename_replacement": "r-$1"})),
         "POST", f"/_snapshot/{repo}/s/_restore"),
        (lambda: call(lambda: os.rmdir(m.p(repo, "s"))), "DELETE", f"/_snapshot/{repo}/s"),
        (lambda: call(lambda: os.rmdir(m.p(repo))), "DELETE", f"/_snapshot/{repo}"),
    ]
    for change, method, path in changes:
        accept(SECRET)
        assert new in os.listdir(m.path) and "s" in os.listdir(m.p(repo))
        assert m.read(repo, "s", "state") == "SUCCESS\n"
        m.read(repo, "_settings.json")
        seen = len(requests_seen(gw))
        accept("a-secret-esfs-does-not-have")
        change()
        answered = requests_answered(gw)[seen:]
        assert (method, path, 403) in answered, (method, path, requests_seen(gw)[seen:])
        assert all(status == 403 for _, _, status in answered), requests_seen(gw)[seen:]
        last = m.errors()[-1]
        assert "\tEACCES\t" in last and "The request signature we calculated does not match" in last, last
        assert engine_view(engine) == before, (method, path)
