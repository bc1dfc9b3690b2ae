"""esfs -o aws_sigv4 end to end: esfs signs, tests/aws/gateway.py checks every
signature with botocore and forwards to a real engine; tests/aws/metadata.py
serves rotating short-lived credentials for the container and IMDSv2 sources.

The engine is ESFS_AWS_UPSTREAM when set (e.g. http://127.0.0.1:9250), else
the suite's first engine (ESFS_TEST_ENGINES). Every esfs started here has
instance metadata disabled or pointed at the stand-in, so nothing leaves
loopback.
"""
import errno
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import _engine, engine_kinds
from esfs_harness import Mount

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "aws"))
import standins  # noqa: E402
from standins import NO_AWS_ENV, wait_for  # noqa: E402

KEY_ID = "AKIDESFSTEST"
SECRET = "esfs/test+secret/key"
TOKEN = "FwoGZXIvYXdzEsfsTestSessionToken//////////"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def upstream():
    return os.environ.get("ESFS_AWS_UPSTREAM") or _engine(engine_kinds()[0]).url


@pytest.fixture
def gateway(upstream):
    started = []

    def make(*args):
        g = standins.gateway(upstream, *args, region=REGION)
        started.append(g)
        return g

    yield make
    for g in started:
        g.stop()


@pytest.fixture
def fixed_gateway(gateway):
    return gateway("--access-key-id", KEY_ID, "--secret-access-key", SECRET)


@pytest.fixture
def aws_mount(esfs_bin):
    mounts = []

    def make(url, env, *options):
        m = Mount(url, ("aws_sigv4", f"aws_region={REGION}", "cache_ttl=0") + options,
                  env={**NO_AWS_ENV, **env}, binary=esfs_bin).start()
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        assert m.stop() == 0, m.output()


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
    seen = requests_seen(fixed_gateway)
    assert seen and all(line.endswith(f"-> 200 ({KEY_ID})") for line in seen), seen
    assert "AWS credentials from environment (access key AKIDESFSTEST)" in m.output()
    assert SECRET not in m.output()


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
        assert wait_for(refused, 6)
        assert any("aws_credentials" in line and "HTTP 500" in line for line in m.errors())
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
