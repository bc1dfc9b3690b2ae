"""Self-checks of the AWS stand-ins (tests/aws/gateway.py, tests/aws/metadata.py)
with botocore-signed requests and plain curl, against a tiny upstream that
echoes what it got. No engine and no esfs needed:

    /usr/bin/python3 -m pytest tests/test_aws_standins.py
"""
import datetime
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "aws"))
import standins  # noqa: E402
from standins import message, send, sign, signed_send  # noqa: E402

KEY = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None)
TOKEN_KEY = ("ASIAEXAMPLE", "temporary/secret+key", "FwoGZXIvYXdzEJr//////////token")
SIGNATURE_MISMATCH = "The request signature we calculated does not match"


class Echo(http.server.BaseHTTPRequestHandler):
    """The engine's place: answers with what reached it."""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        data = json.dumps({"method": self.command, "path": self.path, "body": body.decode(),
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer


@pytest.fixture(scope="module")
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gw(upstream):
    g = standins.gateway(upstream, "--access-key-id", KEY[0], "--secret-access-key", KEY[1])
    yield g
    g.stop()


@pytest.fixture
def token_gw(upstream):
    g = standins.gateway(upstream, "--access-key-id", TOKEN_KEY[0], "--secret-access-key",
                         TOKEN_KEY[1], "--session-token", TOKEN_KEY[2])
    yield g
    g.stop()


@pytest.fixture
def accepted(tmp_path):
    return tmp_path / "accepted.json"


@pytest.fixture
def file_gw(upstream, accepted):
    g = standins.gateway(upstream, "--credentials-file", str(accepted))
    yield g
    g.stop()


def write_accepted(path, *creds):
    doc = {"credentials": [{"access_key_id": c[0], "secret_access_key": c[1],
                            "session_token": c[2], "expiration": c[3] if len(c) > 3 else None}
                           for c in creds]}
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


# ---- the gateway: what passes ----

def test_signed_get_is_relayed(gw):
    status, body, _ = signed_send(gw, "GET", "/_cluster/health?pretty=true&level=indices", key=KEY)
    assert status == 200, body
    echo = json.loads(body)
    assert echo["method"] == "GET"
    assert echo["path"] == "/_cluster/health?pretty=true&level=indices"
    # The signature stays at the gateway, as it does at AWS.
    assert "authorization" not in echo["headers"]
    assert "x-amz-date" not in echo["headers"]


def test_signed_put_body_is_relayed(gw):
    body = json.dumps({"type": "fs", "settings": {"location": "/tmp/x"}}).encode()
    status, answer, _ = signed_send(gw, "PUT", "/_snapshot/r%C3%A9po", body, key=KEY,
                                    headers={"Content-Type": "application/json"})
    assert status == 200, answer
    echo = json.loads(answer)
    assert echo["body"] == body.decode()
    assert echo["path"] == "/_snapshot/r%C3%A9po"
    assert echo["headers"]["content-type"] == "application/json"


@pytest.mark.parametrize("method", ["POST", "DELETE", "HEAD", "PUT"])
def test_every_method(gw, method):
    body = b'{"indices":"a"}' if method in ("POST", "PUT") else b""
    status, answer, headers = signed_send(gw, method, "/_snapshot/r/s", body, key=KEY)
    assert status == 200, answer
    if method == "HEAD":
        assert answer == b"" and int(headers["Content-Length"]) > 0
    else:
        assert json.loads(answer)["method"] == method


def test_keep_alive_connection_reused(gw):
    conn = standins.http.client.HTTPConnection(gw.host, gw.port, timeout=10)
    try:
        sockets = set()
        for i in range(4):
            status, _, _ = signed_send(gw, "GET", f"/n{i}", conn=conn, key=KEY)
            assert status == 200
            sockets.add(id(conn.sock))
        # A refusal keeps the connection too.
        status, _, _ = send(gw, "GET", "/unsigned", conn=conn)
        assert status == 403
        status, _, _ = signed_send(gw, "GET", "/after", conn=conn, key=KEY)
        assert status == 200
        sockets.add(id(conn.sock))
        assert len(sockets) == 1
    finally:
        conn.close()


def test_unsigned_content_type_may_differ(gw):
    """Content-Type is not signed by esfs: the gateway must judge only the signed headers."""
    headers = sign("PUT", gw.url + "/x", b"{}", key=KEY, headers={})
    headers["Content-Type"] = "application/json"
    status, body, _ = send(gw, "PUT", "/x", b"{}", headers)
    assert status == 200, body


def test_curl_aws_sigv4(gw):
    """An independent signer (curl's --aws-sigv4) passes too."""
    proc = subprocess.run(
        ["curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:es", "--user", f"{KEY[0]}:{KEY[1]}",
         "-X", "PUT", "-H", "Content-Type: application/json", "--data-binary", '{"a":1}',
         gw.url + "/idx/_doc/1?refresh=true"], capture_output=True, text=True, timeout=30)
    echo = json.loads(proc.stdout)
    assert echo["method"] == "PUT" and echo["body"] == '{"a":1}', proc.stdout + proc.stderr


# ---- the gateway: what is refused ----

def check_refused(result, text):
    status, body, headers = result
    assert status == 403, body
    assert headers["Content-Type"] == "application/json"
    assert text in message(body), message(body)


def test_plain_curl_refused_in_aws_shape(gw):
    proc = subprocess.run(["curl", "-sS", "-v", gw.url + "/", gw.url + "/_cat/indices"],
                          capture_output=True, text=True, timeout=30)
    answers = [json.loads(line) for line in proc.stdout.replace("}{", "}\n{").splitlines()]
    assert answers == [{"message": "Missing Authentication Token"}] * 2
    assert "< HTTP/1.1 403" in proc.stderr
    assert "Re-using existing connection" in proc.stderr or "Reusing existing" in proc.stderr


def test_wrong_secret(gw):
    check_refused(signed_send(gw, "GET", "/", key=(KEY[0], "not-the-secret", None)),
                  SIGNATURE_MISMATCH)


def test_unknown_key(gw):
    check_refused(signed_send(gw, "GET", "/", key=("AKIDUNKNOWN", KEY[1], None)),
                  "The security token included in the request is invalid.")


def test_altered_body(gw):
    headers = sign("PUT", gw.url + "/i/_doc/1", b'{"n":1}', key=KEY)
    check_refused(send(gw, "PUT", "/i/_doc/1", b'{"n":2}', headers), SIGNATURE_MISMATCH)


def test_altered_path(gw):
    headers = sign("GET", gw.url + "/_snapshot/a", key=KEY)
    check_refused(send(gw, "GET", "/_snapshot/b", headers=headers), SIGNATURE_MISMATCH)


def test_altered_query(gw):
    headers = sign("DELETE", gw.url + "/_snapshot/r/s?master_timeout=30s", key=KEY)
    check_refused(send(gw, "DELETE", "/_snapshot/r/s?master_timeout=31s", headers=headers),
                  SIGNATURE_MISMATCH)


def test_altered_method(gw):
    headers = sign("GET", gw.url + "/_snapshot/r/s", key=KEY)
    check_refused(send(gw, "DELETE", "/_snapshot/r/s", headers=headers), SIGNATURE_MISMATCH)


def test_stale_date(gw):
    then = datetime.datetime.utcnow() - datetime.timedelta(minutes=6)
    check_refused(signed_send(gw, "GET", "/", key=KEY, when=then), "Signature expired")


def test_date_within_five_minutes_passes(gw):
    then = datetime.datetime.utcnow() - datetime.timedelta(minutes=4)
    status, body, _ = signed_send(gw, "GET", "/", key=KEY, when=then)
    assert status == 200, body


def test_wrong_region_scope(gw):
    check_refused(signed_send(gw, "GET", "/", key=KEY, region="eu-west-1"),
                  "Credential should be scoped to a valid region")


def test_wrong_service_scope(gw):
    check_refused(signed_send(gw, "GET", "/", key=KEY, service="aoss"),
                  "Credential should be scoped to correct service: 'es'")


def test_content_sha256_must_match_body(gw):
    wrong = hashlib.sha256(b"something else").hexdigest()
    headers = sign("PUT", gw.url + "/x", b"{}", key=KEY, headers={"X-Amz-Content-Sha256": wrong})
    check_refused(send(gw, "PUT", "/x", b"{}", headers), "x-amz-content-sha256")


def test_content_sha256_matching_passes(gw):
    good = hashlib.sha256(b"{}").hexdigest()
    headers = sign("PUT", gw.url + "/x", b"{}", key=KEY, headers={"X-Amz-Content-Sha256": good})
    status, body, _ = send(gw, "PUT", "/x", b"{}", headers)
    assert status == 200, body


def test_unsigned_amz_header_refused(gw):
    headers = sign("GET", gw.url + "/", key=KEY)
    headers["X-Amz-Target"] = "sneaky"
    check_refused(send(gw, "GET", "/", headers=headers), "must be signed")


def test_session_token_required(token_gw):
    status, body, _ = signed_send(token_gw, "GET", "/", key=TOKEN_KEY)
    assert status == 200, body
    check_refused(signed_send(token_gw, "GET", "/", key=TOKEN_KEY[:2] + (None,)),
                  "The security token included in the request is invalid.")
    check_refused(signed_send(token_gw, "GET", "/", key=TOKEN_KEY[:2] + ("other-token",)),
                  "The security token included in the request is invalid.")


def test_credentials_file_is_reread(file_gw, accepted):
    a = ("ASIAAAAA", "secret-a", "token-a")
    b = ("ASIABBBB", "secret-b", "token-b")
    check_refused(signed_send(file_gw, "GET", "/", key=a), "invalid")
    write_accepted(accepted, a)
    assert signed_send(file_gw, "GET", "/", key=a)[0] == 200
    write_accepted(accepted, a, b)
    assert signed_send(file_gw, "GET", "/", key=b)[0] == 200
    write_accepted(accepted, b)
    check_refused(signed_send(file_gw, "GET", "/", key=a), "invalid")
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1))
    write_accepted(accepted, b + (past.strftime("%Y-%m-%dT%H:%M:%SZ"),))
    check_refused(signed_send(file_gw, "GET", "/", key=b), "expired")


def test_gateway_logs_each_request(gw):
    signed_send(gw, "GET", "/_logged_path", key=KEY)
    assert standins.wait_for(lambda: "GET /_logged_path -> 200 (AKIDEXAMPLE)" in gw.log(), 5)


# ---- the metadata stand-in ----

@pytest.fixture
def md(accepted):
    m = standins.metadata("--accepted", str(accepted), "--lifetime", "20",
                          "--container-token", "Bearer container-secret")
    yield m
    m.stop()


def imds_token(md):
    status, token = md.call("PUT", "/latest/api/token",
                            headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    assert status == 200
    return token


def imds_credentials(md):
    token = imds_token(md)
    headers = {"X-aws-ec2-metadata-token": token}
    status, role = md.call("GET", "/latest/meta-data/iam/security-credentials/", headers=headers)
    assert (status, role) == (200, "esfs-test-role")
    status, body = md.call("GET", f"/latest/meta-data/iam/security-credentials/{role}",
                           headers=headers)
    assert status == 200, body
    return json.loads(body)


def test_imds_requires_token(md):
    assert md.call("GET", "/latest/meta-data/iam/security-credentials/")[0] == 401
    assert md.call("GET", "/latest/meta-data/iam/security-credentials/",
                   headers={"X-aws-ec2-metadata-token": "made-up"})[0] == 401
    assert md.call("PUT", "/latest/api/token")[0] == 400


def test_imds_credentials_shape_and_expiry(md):
    creds = imds_credentials(md)
    assert creds["Code"] == "Success"
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SecretAccessKey"] and creds["Token"]
    expiry = datetime.datetime.fromisoformat(creds["Expiration"].replace("Z", "+00:00"))
    left = (expiry - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 15 < left <= 20


def test_credentials_rotate_and_stay_valid_until_expiry(md, accepted):
    first, second = imds_credentials(md), imds_credentials(md)
    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert first["SecretAccessKey"] != second["SecretAccessKey"]
    assert first["Token"] != second["Token"]
    published = {c["access_key_id"] for c in json.load(open(accepted))["credentials"]}
    assert {first["AccessKeyId"], second["AccessKeyId"]} <= published


def test_container_endpoint_wants_its_token(md):
    status, body = md.call("GET", "/v2/credentials/esfs")
    assert status == 403 and json.loads(body)["message"]
    status, body = md.call("GET", "/v2/credentials/esfs",
                           headers={"Authorization": "Bearer container-secret"})
    assert status == 200
    assert set(json.loads(body)) >= {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}


def test_metadata_credentials_pass_the_gateway_until_they_expire(md, file_gw):
    md.call("POST", "/_control", body=json.dumps({"lifetime": 2}))
    creds = imds_credentials(md)
    key = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"])
    status, body, _ = signed_send(file_gw, "GET", "/_cat/indices", key=key)
    assert status == 200, body
    check_refused(signed_send(file_gw, "GET", "/", key=key[:2] + (None,)), "invalid")
    time.sleep(2.5)
    check_refused(signed_send(file_gw, "GET", "/", key=key), "expired")


def test_control_makes_credentials_fail(md):
    md.call("POST", "/_control", body=json.dumps({"fail": True}))
    token = imds_token(md)
    status, _ = md.call("GET", "/latest/meta-data/iam/security-credentials/esfs-test-role",
                        headers={"X-aws-ec2-metadata-token": token})
    assert status == 500
    md.call("POST", "/_control", body=json.dumps({"fail": False}))
    assert imds_credentials(md)["AccessKeyId"]
    stats = json.loads(md.call("GET", "/_stats")[1])
    assert stats["failed"] == 1 and stats["imds_credentials"] == 1
