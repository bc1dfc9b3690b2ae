"""The AWS credential chain's ways beyond keys, end to end: web identity and
assumed roles (moto's STS behind tests/aws/sts.py, which checks the Query
parameters against botocore's model and AssumeRole's SigV4 signature with
botocore), IAM Identity Center (tests/aws/sso.py, checked against botocore's
model of sso) and credential_process (tests/aws/process.py). Each mount signs
with what that source issued, and tests/aws/gateway.py checks every signature
with botocore against the sets the stand-in published before forwarding to the
real engine. Everything stays on loopback: every endpoint is overridden.
"""
import datetime
import errno
import hashlib
import json
import os
import sys
import time

import pytest

from standins import KEY_ID, REGION, SECRET, wait_for
from test_aws_mount import keep_reading, keys_used, read_health, requests_seen, run_esfs

import standins

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE_ARN = "arn:aws:iam::123456789012:role/esfs-reader"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.esfs-web-identity-token.c2lnbmF0dXJl"
SSO_TOKEN = "aoaAAAAAGesfsTestSsoAccessToken0123456789"
START_URL = "https://esfs-test.awsapps.com/start"


@pytest.fixture
def stand_in():
    """Starts stand-ins by kind (standins.sts, standins.sso...), stopped after the test."""
    started = []

    def make(kind, *args):
        s = getattr(standins, kind)(*args)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def sts_stats(sts):
    return json.loads(sts.call("GET", "/_stats")[1])


def issued_secrets(path):
    """Every secret the stand-ins issued: none may reach esfs's output or /_esfs/."""
    doc = json.loads(path.read_text())
    return [s for c in doc["credentials"] for s in (c["secret_access_key"], c["session_token"]) if s]


def assert_no_secret(m, *secrets):
    shown = m.output() + m.read("_esfs", "aws") + "\n".join(m.errors())
    for secret in secrets:
        assert secret not in shown, "a secret reached the output or /_esfs/"


def aws_shown(m):
    return dict(line.split(" ", 1) for line in m.read("_esfs", "aws").splitlines())


def only_issued_keys_signed(gw):
    """The gateway takes only the sets the stand-in published (--credentials-file): every
    request let through was signed with one of them, and none was turned away."""
    seen = requests_seen(gw)
    return bool(seen) and all(" -> 403 " not in line for line in seen) and KEY_ID not in keys_used(gw)


def refused_with(m, text):
    """True once a read is EACCES and /_esfs/errors has a line with text."""
    try:
        read_health(m)
        return False
    except PermissionError as e:
        assert e.errno == errno.EACCES
    return any("EACCES" in line and "aws_credentials" in line and text in line for line in m.errors())


def write_config(tmp_path, text, credentials=""):
    config = tmp_path / "config"
    config.write_text(text)
    cred = tmp_path / "credentials"
    cred.write_text(credentials)
    return {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(cred)}


# ---------------------------------------------------------------- web identity

def web_identity_setup(stand_in, gateway, tmp_path, lifetime=8):
    token = tmp_path / "token"
    token.write_text(WEB_TOKEN + "\n")
    issued = tmp_path / "issued.json"
    sts = stand_in("sts", "--accepted", str(issued), "--web-identity-token-file", str(token),
                   "--lifetime", str(lifetime))
    return token, issued, sts, gateway("--credentials-file", str(issued))


def test_web_identity_from_the_environment_signs_and_refreshes(stand_in, gateway, aws_mount,
                                                               tmp_path):
    token, issued, sts, gw = web_identity_setup(stand_in, gateway, tmp_path)
    m = aws_mount(gw.url, {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": ROLE_ARN,
                           "AWS_ROLE_SESSION_NAME": "esfs-irsa", "AWS_ENDPOINT_URL_STS": sts.url,
                           "ESFS_AWS_REFRESH_MARGIN": "3"})
    assert "_cluster" in os.listdir(m.path)
    assert read_health(m) in ("green", "yellow")
    assert aws_shown(m)["source"] == "web-identity"
    # The token file rotates (as Kubernetes does): the next fetch must send the new one.
    token.write_text(WEB_TOKEN + ".rotated\n")
    keep_reading(m, 12)
    assert len(keys_used(gw)) >= 2 and only_issued_keys_signed(gw), requests_seen(gw)
    calls = sts_stats(sts)["requests"]
    assert all(c["action"] == "AssumeRoleWithWebIdentity" and c["status"] == 200 for c in calls), calls
    assert {c["params"]["RoleSessionName"] for c in calls} == {"esfs-irsa"}
    assert {c["params"]["RoleArn"] for c in calls} == {ROLE_ARN}
    assert m.errors() == []
    assert_no_secret(m, WEB_TOKEN, *issued_secrets(issued))


def test_web_identity_from_a_profile(stand_in, gateway, aws_mount, tmp_path):
    token, issued, sts, gw = web_identity_setup(stand_in, gateway, tmp_path)
    env = write_config(tmp_path, f"[profile irsa]\nrole_arn = {ROLE_ARN}\n"
                                 f"web_identity_token_file = {token}\n")
    m = aws_mount(gw.url, {**env, "AWS_PROFILE": "irsa", "AWS_ENDPOINT_URL": sts.url})
    assert read_health(m) in ("green", "yellow")
    assert aws_shown(m)["source"] == "web-identity:irsa"
    assert only_issued_keys_signed(gw)
    # No session name given: esfs makes one that STS (botocore's pattern) takes.
    assert sts_stats(sts)["requests"][0]["params"]["RoleSessionName"].startswith("esfs-")


def test_web_identity_token_refused_by_sts(stand_in, gateway, esfs_bin, tmp_path):
    token, issued, sts, gw = web_identity_setup(stand_in, gateway, tmp_path)
    other = tmp_path / "other-token"
    other.write_text("not-the-token")
    rc, out = run_esfs(esfs_bin, gw.url, {"AWS_WEB_IDENTITY_TOKEN_FILE": str(other),
                                          "AWS_ROLE_ARN": ROLE_ARN, "AWS_ENDPOINT_URL_STS": sts.url},
                       "aws_sigv4", f"aws_region={REGION}")
    assert rc != 0, out
    assert "web-identity: STS AssumeRoleWithWebIdentity" in out and "InvalidIdentityToken" in out, out
    assert "not-the-token" not in out


# ---------------------------------------------------------------- assumed roles

def role_setup(stand_in, gateway, tmp_path, *sts_args, lifetime=8):
    issued = tmp_path / "issued.json"
    sts = stand_in("sts", "--accepted", str(issued), "--access-key-id", KEY_ID,
                   "--secret-access-key", SECRET, "--lifetime", str(lifetime), *sts_args)
    return issued, sts, gateway("--credentials-file", str(issued))


def test_assume_role_from_a_source_profile_signs_and_refreshes(stand_in, gateway, aws_mount,
                                                              tmp_path):
    issued, sts, gw = role_setup(stand_in, gateway, tmp_path)
    env = write_config(tmp_path,
                       f"[profile ops]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n"
                       "role_session_name = esfs-ops\nexternal_id = esfs-external-42\n"
                       "duration_seconds = 900\n",
                       f"[base]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    m = aws_mount(gw.url, {**env, "AWS_PROFILE": "ops", "AWS_ENDPOINT_URL_STS": sts.url,
                           "ESFS_AWS_REFRESH_MARGIN": "3"})
    assert read_health(m) in ("green", "yellow")
    assert aws_shown(m)["source"] == "assume-role:ops"
    keep_reading(m, 12)
    assert len(keys_used(gw)) >= 2 and only_issued_keys_signed(gw), requests_seen(gw)
    assert KEY_ID not in keys_used(gw)      # the engine never sees the source key
    calls = sts_stats(sts)["requests"]
    assert len(calls) >= 2
    for c in calls:
        # Signed with the base profile's key, and botocore's check of it passed.
        assert (c["action"], c["status"], c["signed_by"]) == ("AssumeRole", 200, KEY_ID), c
        assert c["params"] == {"RoleArn": ROLE_ARN, "RoleSessionName": "esfs-ops",
                               "ExternalId": "esfs-external-42", "DurationSeconds": "900"}, c
    assert m.errors() == []
    assert_no_secret(m, SECRET, *issued_secrets(issued))


def test_assume_role_chains_through_profiles(stand_in, gateway, aws_mount, tmp_path):
    issued, sts, gw = role_setup(stand_in, gateway, tmp_path, lifetime=600)
    admin_arn = "arn:aws:iam::123456789012:role/esfs-admin"
    env = write_config(tmp_path,
                       f"[profile ops]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n"
                       f"[profile admin]\nrole_arn = {admin_arn}\nsource_profile = ops\n",
                       f"[base]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    m = aws_mount(gw.url, {**env, "AWS_PROFILE": "admin", "AWS_ENDPOINT_URL_STS": sts.url})
    assert read_health(m) in ("green", "yellow")
    first, second = sts_stats(sts)["requests"]
    assert (first["params"]["RoleArn"], first["signed_by"]) == (ROLE_ARN, KEY_ID)
    # The second role is assumed with what the first call issued.
    assert second["params"]["RoleArn"] == admin_arn and second["signed_by"].startswith("ASIA")
    assert second["signed_by"] != KEY_ID and first["status"] == second["status"] == 200


def test_assume_role_with_the_container_as_credential_source(stand_in, gateway, aws_mount,
                                                            tmp_path):
    source = tmp_path / "container.json"
    md = stand_in("metadata", "--accepted", str(source), "--lifetime", "600")
    issued, sts, gw = role_setup(stand_in, gateway, tmp_path, "--credentials-file", str(source))
    env = write_config(tmp_path, f"[profile task]\nrole_arn = {ROLE_ARN}\n"
                                 "credential_source = EcsContainer\n")
    m = aws_mount(gw.url, {**env, "AWS_PROFILE": "task", "AWS_ENDPOINT_URL_STS": sts.url,
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI": md.url + "/v2/credentials/esfs"})
    assert read_health(m) in ("green", "yellow")
    container_key = json.loads(source.read_text())["credentials"][0]["access_key_id"]
    assert sts_stats(sts)["requests"][0]["signed_by"] == container_key
    assert only_issued_keys_signed(gw)


def test_source_profile_cycle_refused(stand_in, gateway, esfs_bin, tmp_path):
    issued, sts, gw = role_setup(stand_in, gateway, tmp_path)
    env = write_config(tmp_path, f"[profile a]\nrole_arn = {ROLE_ARN}\nsource_profile = b\n"
                                 f"[profile b]\nrole_arn = {ROLE_ARN}\nsource_profile = a\n")
    rc, out = run_esfs(esfs_bin, gw.url, {**env, "AWS_PROFILE": "a", "AWS_ENDPOINT_URL_STS": sts.url},
                       "aws_sigv4", f"aws_region={REGION}")
    assert rc != 0 and "source_profile cycle: a -> b -> a" in out, out
    assert sts_stats(sts)["requests"] == []


def test_assume_role_refused_by_sts_is_eacces(stand_in, gateway, aws_mount, tmp_path):
    issued, sts, gw = role_setup(stand_in, gateway, tmp_path, lifetime=6)
    env = write_config(tmp_path, f"[profile ops]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n",
                       f"[base]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    m = aws_mount(gw.url, {**env, "AWS_PROFILE": "ops", "AWS_ENDPOINT_URL_STS": sts.url,
                           "ESFS_AWS_REFRESH_MARGIN": "3"})
    assert read_health(m) in ("green", "yellow")
    sts.call("POST", "/_control", body=json.dumps({"refuse": "AccessDenied"}))
    assert wait_for(lambda: refused_with(m, "AccessDenied: esfs test: AssumeRole refused"), 15), \
        m.errors()
    line = next(l for l in m.errors() if "AccessDenied" in l)
    assert "assume-role: STS AssumeRole" in line and ROLE_ARN in line, line
    assert_no_secret(m, SECRET)


def test_assume_role_with_a_wrong_source_secret_refused(stand_in, gateway, esfs_bin, tmp_path):
    issued, sts, gw = role_setup(stand_in, gateway, tmp_path)
    env = write_config(tmp_path, f"[profile ops]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n",
                       f"[base]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = wrong\n")
    rc, out = run_esfs(esfs_bin, gw.url, {**env, "AWS_PROFILE": "ops", "AWS_ENDPOINT_URL_STS": sts.url},
                       "aws_sigv4", f"aws_region={REGION}")
    assert rc != 0 and "HTTP 403 SignatureDoesNotMatch" in out, out
    assert sts_stats(sts)["requests"][0]["signed_by"] == "bad signature"


# ---------------------------------------------------------------- credential_process

def process_setup(gateway, tmp_path, lifetime=8):
    issued = tmp_path / "issued.json"
    runs = tmp_path / "runs"
    fail = tmp_path / "fail"
    command = (f"{standins.PYTHON} {os.path.join(HERE, 'aws', 'process.py')} --accepted {issued} "
               f"--lifetime {lifetime} --fail-if {fail} --count {runs}")
    env = write_config(tmp_path, f"[profile proc]\ncredential_process = {command}\n")
    return issued, runs, fail, gateway("--credentials-file", str(issued)), {**env, "AWS_PROFILE": "proc"}


def test_credential_process_signs_and_refreshes(gateway, aws_mount, tmp_path):
    issued, runs, fail, gw, env = process_setup(gateway, tmp_path)
    m = aws_mount(gw.url, {**env, "ESFS_AWS_REFRESH_MARGIN": "3"})
    assert read_health(m) in ("green", "yellow")
    assert aws_shown(m)["source"] == "process:proc"
    keep_reading(m, 12)
    assert len(runs.read_text().splitlines()) >= 2
    assert len(keys_used(gw)) >= 2 and only_issued_keys_signed(gw), requests_seen(gw)
    assert m.errors() == []
    assert_no_secret(m, *issued_secrets(issued))


def test_credential_process_failure_is_eacces(gateway, aws_mount, tmp_path):
    issued, runs, fail, gw, env = process_setup(gateway, tmp_path, lifetime=6)
    m = aws_mount(gw.url, {**env, "ESFS_AWS_REFRESH_MARGIN": "3"})
    assert read_health(m) in ("green", "yellow")
    fail.write_text("esfs test: the session is gone\n")
    assert wait_for(lambda: refused_with(
        m, "credential_process exited with status 1: esfs test: the session is gone"), 15), m.errors()


@pytest.mark.parametrize("command,reason", [
    ("echo esfs-test-not-json", "its output is not a JSON object"),
    ("echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}'",
     "its output has no \"Version\": 1"),
    ("echo oops >&2; exit 3", "exited with status 3: oops"),
    ("exec sleep 30", "ran longer than 2000 ms and was killed"),
])
def test_credential_process_refusals(fixed_gateway, esfs_bin, tmp_path, command, reason):
    env = write_config(tmp_path, f"[profile proc]\ncredential_process = {command}\n")
    started = time.time()
    rc, out = run_esfs(esfs_bin, fixed_gateway.url, {**env, "AWS_PROFILE": "proc"},
                       "aws_sigv4", f"aws_region={REGION}", "timeout=2")
    assert rc != 0 and f"process: credential_process {reason}" in out, out
    assert time.time() - started < 15


def test_credentials_file_keys_come_before_credential_process(fixed_gateway, aws_mount, tmp_path):
    env = write_config(tmp_path, "[profile both]\ncredential_process = exit 1\n",
                       f"[both]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    m = aws_mount(fixed_gateway.url, {**env, "AWS_PROFILE": "both"})
    assert read_health(m) in ("green", "yellow")
    assert aws_shown(m)["source"] == "shared-file:both"


# ---------------------------------------------------------------- IAM Identity Center

def sso_cache(home, key, expires_in):
    """Writes the token aws sso login caches, named by the SHA-1 of key as the SDKs name it."""
    folder = home / ".aws" / "sso" / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in)
    path = folder / (hashlib.sha1(key.encode()).hexdigest() + ".json")
    path.write_text(json.dumps({"startUrl": START_URL, "region": REGION, "accessToken": SSO_TOKEN,
                                "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    return path


SSO_SESSION_CONFIG = (f"[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
                      f"sso_role_name = esfs-reader\nregion = {REGION}\n\n"
                      f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n")
SSO_LEGACY_CONFIG = (f"[profile dev]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n"
                     "sso_account_id = 123456789012\nsso_role_name = esfs-reader\n")


def sso_setup(stand_in, gateway, tmp_path, config, lifetime=8):
    issued = tmp_path / "issued.json"
    portal = stand_in("sso", "--accepted", str(issued), "--access-token", SSO_TOKEN,
                      "--lifetime", str(lifetime))
    env = write_config(tmp_path, config)
    env.update({"AWS_PROFILE": "dev", "HOME": str(tmp_path), "AWS_ENDPOINT_URL_SSO": portal.url})
    return issued, portal, gateway("--credentials-file", str(issued)), env


def portal_stats(portal):
    return json.loads(portal.call("GET", "/_stats")[1])


def test_sso_session_signs_and_refreshes(stand_in, gateway, aws_mount, tmp_path):
    issued, portal, gw, env = sso_setup(stand_in, gateway, tmp_path, SSO_SESSION_CONFIG)
    sso_cache(tmp_path, "corp", 3600)
    m = aws_mount(gw.url, {**env, "ESFS_AWS_REFRESH_MARGIN": "3"})
    assert read_health(m) in ("green", "yellow")
    assert aws_shown(m)["source"] == "sso:dev"
    keep_reading(m, 12)
    assert portal_stats(portal)["portal"] >= 2 and portal_stats(portal)["refused"] == 0
    assert len(keys_used(gw)) >= 2 and only_issued_keys_signed(gw), requests_seen(gw)
    assert m.errors() == []
    assert_no_secret(m, SSO_TOKEN, *issued_secrets(issued))


def test_sso_legacy_profile(stand_in, gateway, aws_mount, tmp_path):
    issued, portal, gw, env = sso_setup(stand_in, gateway, tmp_path, SSO_LEGACY_CONFIG)
    sso_cache(tmp_path, START_URL, 3600)
    m = aws_mount(gw.url, env)
    assert read_health(m) in ("green", "yellow")
    assert only_issued_keys_signed(gw)


def test_sso_expired_token_refused(stand_in, gateway, esfs_bin, tmp_path):
    issued, portal, gw, env = sso_setup(stand_in, gateway, tmp_path, SSO_SESSION_CONFIG)
    sso_cache(tmp_path, "corp", -60)
    rc, out = run_esfs(esfs_bin, gw.url, env, "aws_sigv4", f"aws_region={REGION}")
    assert rc != 0 and "sso: " in out and "run aws sso login" in out, out
    assert portal_stats(portal)["portal"] == 0 and SSO_TOKEN not in out


def test_sso_token_expiring_while_mounted_is_eacces(stand_in, gateway, aws_mount, tmp_path):
    issued, portal, gw, env = sso_setup(stand_in, gateway, tmp_path, SSO_SESSION_CONFIG, lifetime=6)
    cache = sso_cache(tmp_path, "corp", 3600)
    m = aws_mount(gw.url, {**env, "ESFS_AWS_REFRESH_MARGIN": "3"})
    assert read_health(m) in ("green", "yellow")
    sso_cache(tmp_path, "corp", -1)
    assert wait_for(lambda: refused_with(m, "run aws sso login"), 15), m.errors()
    assert any(str(cache) in line for line in m.errors())
    assert_no_secret(m, SSO_TOKEN)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
