#!/usr/bin/python3
"""A loopback stand-in for the ECS container credentials endpoint and EC2
instance metadata (IMDSv2), serving short-lived credentials that rotate.

    metadata.py --listen 127.0.0.1:PORT --accepted accepted.json \\
        [--lifetime 20] [--role esfs-test-role] \\
        [--container-path /v2/credentials/esfs] [--container-token TOKEN]

Every credentials answer issues a new set (new key ID, secret and session
token) valid for --lifetime seconds, and rewrites --accepted, the file
tests/aws/gateway.py --credentials-file reads, with every set issued that has
not expired yet: the previous set stays valid until its own expiry, as with
real temporary credentials.

Endpoints:
  GET  <container-path>                    container credentials (Authorization
                                           must equal --container-token when given)
  PUT  /latest/api/token                   IMDSv2 session token; needs
                                           X-aws-ec2-metadata-token-ttl-seconds
  GET  /latest/meta-data/iam/security-credentials/[ROLE]
                                           needs X-aws-ec2-metadata-token, else 401
  GET  /_stats                             counters, for tests
  POST /_control  {"fail": true|false, "lifetime": S}
                                           makes credential answers fail (500), to
                                           test that esfs keeps what it has

Prints "READY http://HOST:PORT" on stdout once listening (PORT 0 picks a free
port) and one line per request on stderr. Standard library only.
"""

import argparse
import datetime
import json
import os
import secrets
import string
import sys
import tempfile
import threading
import http.server

TOKEN_HEADER = "X-aws-ec2-metadata-token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
CREDS_PREFIX = "/latest/meta-data/iam/security-credentials/"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_text(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


class Issuer:
    """Hands out rotating temporary credentials and publishes the valid ones."""

    def __init__(self, accepted_path, lifetime):
        self.accepted_path = accepted_path
        self.lifetime = lifetime
        self.lock = threading.Lock()
        self.issued = []
        self.fail = False
        self.stats = {"issued": 0, "container": 0, "imds_tokens": 0, "imds_credentials": 0,
                      "refused": 0, "failed": 0}

    def issue(self):
        now = utcnow()
        cred = {
            "access_key_id": "ASIA" + random_text(string.ascii_uppercase + string.digits, 16),
            "secret_access_key": random_text(string.ascii_letters + string.digits + "/+", 40),
            "session_token": secrets.token_urlsafe(96),
            "expiration": now + datetime.timedelta(seconds=self.lifetime),
        }
        with self.lock:
            self.issued = [c for c in self.issued if c["expiration"] > now] + [cred]
            self.stats["issued"] += 1
            self._publish()
        return {
            "Code": "Success",
            "LastUpdated": iso(now),
            "Type": "AWS-HMAC",
            "AccessKeyId": cred["access_key_id"],
            "SecretAccessKey": cred["secret_access_key"],
            "Token": cred["session_token"],
            "Expiration": iso(cred["expiration"]),
            "RoleArn": "arn:aws:iam::123456789012:role/esfs-test-role",
        }

    def _publish(self):
        if not self.accepted_path:
            return
        doc = {"credentials": [dict(c, expiration=iso(c["expiration"])) for c in self.issued]}
        folder = os.path.dirname(os.path.abspath(self.accepted_path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".accepted-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.replace(tmp, self.accepted_path)

    def count(self, name):
        with self.lock:
            self.stats[name] += 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle's algorithm and the
    # client's delayed ACK hold every answer back ~40 ms on a kept-alive connection.
    disable_nagle_algorithm = True
    server_version = "esfs-aws-metadata"

    def log_message(self, fmt, *args):
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, body, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        print(f"metadata: {self.command} {self.path} -> {status}", file=sys.stderr, flush=True)

    def _credentials(self, counter):
        issuer = self.server.issuer
        if issuer.fail:
            issuer.count("failed")
            self._send(500, {"code": "InternalError", "message": "credentials unavailable"})
            return
        issuer.count(counter)
        self._send(200, issuer.issue())

    # ---- IMDSv2 ----

    def _imds_token_ok(self):
        token = self.headers.get(TOKEN_HEADER)
        with self.server.lock:
            expiry = self.server.imds_tokens.get(token or "")
        return expiry is not None and expiry > utcnow()

    def do_PUT(self):
        self._body()
        if self.path != "/latest/api/token":
            self._send(404, "Not Found", "text/plain")
            return
        try:
            ttl = int(self.headers.get(TTL_HEADER, ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            self._send(400, "Bad Request", "text/plain")
            return
        token = secrets.token_urlsafe(32)
        with self.server.lock:
            self.server.imds_tokens[token] = utcnow() + datetime.timedelta(seconds=ttl)
        self.server.issuer.count("imds_tokens")
        self._send(200, token, "text/plain")

    def _imds_get(self):
        if not self._imds_token_ok():
            self.server.issuer.count("refused")
            self._send(401, "Unauthorized", "text/plain")
            return
        role = self.path[len(CREDS_PREFIX):]
        if role == "":
            self._send(200, self.server.role, "text/plain")
        elif role == self.server.role:
            self._credentials("imds_credentials")
        else:
            self._send(404, "Not Found", "text/plain")

    # ---- container ----

    def _container_get(self):
        want = self.server.container_token
        if want and self.headers.get("Authorization") != want:
            self.server.issuer.count("refused")
            self._send(403, {"code": "AccessDenied",
                             "message": "Authorization token is missing or invalid"})
            return
        self._credentials("container")

    def do_GET(self):
        if self.path.startswith(CREDS_PREFIX):
            self._imds_get()
        elif self.path == self.server.container_path:
            self._container_get()
        elif self.path == "/_stats":
            with self.server.issuer.lock:
                stats = dict(self.server.issuer.stats)
            self._send(200, stats)
        else:
            self._send(404, "Not Found", "text/plain")

    def do_POST(self):
        if self.path != "/_control":
            self._body()
            self._send(404, "Not Found", "text/plain")
            return
        change = json.loads(self._body() or b"{}")
        issuer = self.server.issuer
        if "fail" in change:
            issuer.fail = bool(change["fail"])
        if "lifetime" in change:
            issuer.lifetime = int(change["lifetime"])
        self._send(200, {"fail": issuer.fail, "lifetime": issuer.lifetime})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def host_port(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", required=True, type=host_port, help="HOST:PORT (0: any free port)")
    p.add_argument("--accepted", help="the gateway's --credentials-file, rewritten at each issue")
    p.add_argument("--lifetime", type=int, default=20, help="seconds each set is valid")
    p.add_argument("--role", default="esfs-test-role")
    p.add_argument("--container-path", default="/v2/credentials/esfs")
    p.add_argument("--container-token", help="Authorization value the container endpoint wants")
    a = p.parse_args(argv)
    server = Server(a.listen, Handler)
    server.issuer = Issuer(a.accepted, a.lifetime)
    server.lock = threading.Lock()
    server.imds_tokens = {}
    server.role = a.role
    server.container_path = a.container_path
    server.container_token = a.container_token
    host, port = server.server_address[:2]
    print(f"READY http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
