"""Starting tests/aws/gateway.py and tests/aws/metadata.py from pytest, and
signing requests with botocore the way an AWS client would."""
import datetime
import http.client
import json
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from unittest import mock

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"     # Debian's, which has python3-botocore

# The fixed key the gateway takes, and the region every AWS test signs for.
KEY_ID = "AKIDESFSTEST"
SECRET = "esfs/test+secret/key"
REGION = "us-east-1"

# Environment that keeps esfs (and anything else) away from the real metadata
# addresses and from the caller's own AWS settings. Empty means unset to esfs.
NO_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
    "AWS_SECURITY_TOKEN": "", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/esfs-test-credentials",
    "AWS_CONFIG_FILE": "/nonexistent/esfs-test-config",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "",
    "ESFS_AWS_CONTAINER_ENDPOINT": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "",
    "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
    "ESFS_AWS_REFRESH_MARGIN": "", "ESFS_USER": "", "ESFS_PASSWORD": "", "ESFS_API_KEY": "",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_ROLE_SESSION_NAME": "",
    "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_STS": "", "AWS_ENDPOINT_URL_SSO": "",
}


class Standin:
    """One of the stand-in servers, run as its own process on a free loopback port."""

    def __init__(self, script, *args, python=PYTHON):
        self.log_file = tempfile.NamedTemporaryFile("w+", prefix=f"esfs-{script}-", suffix=".log",
                                                    delete=False)
        self.proc = subprocess.Popen(
            [python, os.path.join(HERE, script), "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=self.log_file, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            self.stop()
            raise RuntimeError(f"{script} did not start: {self.log()}")
        self.url = line[1]
        parts = urllib.parse.urlsplit(self.url)
        self.host, self.port = parts.hostname, parts.port

    def log(self):
        self.log_file.flush()
        with open(self.log_file.name) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log_file.close()
        os.unlink(self.log_file.name)

    def call(self, method, path, body=None, headers=None):
        """(status, text) of one unsigned request."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()


def gateway(upstream, *args, region="us-east-1", service="es"):
    return Standin("gateway.py", "--upstream", upstream, "--region", region, "--service", service,
                   *args)


def metadata(*args):
    return Standin("metadata.py", *args)


@functools.lru_cache(maxsize=None)
def python_with(module):
    """A python3 that can import module: the suite's own, the project's venv
    (scripts/install-deps.sh puts moto there), the one on PATH, or Debian's."""
    venv = os.path.join(os.environ.get("ESFS_VENV", "/var/tmp/esfs-venv"), "bin", "python3")
    for python in (sys.executable, venv, shutil.which("python3"), PYTHON):
        if python and subprocess.run([python, "-c", f"import {module}"],
                                     capture_output=True).returncode == 0:
            return python
    raise RuntimeError(f"no python3 here can import {module}: tests/aws/sts.py needs it")


def sts(*args):
    """moto's STS behind botocore's checks; moto may live in another python3 than botocore's."""
    return Standin("sts.py", *args, python=python_with("moto"))


def sso(*args):
    return Standin("sso.py", *args)


class _FixedClock:
    """Stands in for the datetime module inside botocore.auth, to sign as of another time."""

    def __init__(self, when):
        outer = self

        class _DateTime(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return outer.when

        self.when = when
        self.datetime = _DateTime


def sign(method, url, body=b"", key=("AKIDEXAMPLE", "secret", None), region="us-east-1",
         service="es", headers=None, when=None):
    """The headers botocore's SigV4Auth adds for this request, as a dict."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = SigV4Auth(Credentials(*key), service, region)
    if when is None:
        signer.add_auth(request)
    elif hasattr(botocore.auth, "get_current_datetime"):
        # botocore >= 1.35 reads the clock through this function, not datetime.utcnow.
        with mock.patch.object(botocore.auth, "get_current_datetime", lambda: when):
            signer.add_auth(request)
    else:
        with mock.patch.object(botocore.auth, "datetime", _FixedClock(when)):
            signer.add_auth(request)
    return dict(request.headers.items())


def send(server, method, target, body=b"", headers=None, conn=None):
    """(status, body bytes, headers) of one request sent exactly as given."""
    own = conn is None
    conn = conn or http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request(method, target, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        if own:
            conn.close()


def signed_send(server, method, target, body=b"", conn=None, **sign_args):
    headers = sign(method, server.url + target, body, **sign_args)
    return send(server, method, target, body, headers, conn)


def message(raw):
    return json.loads(raw)["message"]


def wait_for(predicate, timeout, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


if __name__ == "__main__":
    sys.exit("a helper module for the tests, not a program")
