#!/usr/bin/python3
"""A loopback stand-in for Amazon OpenSearch Service's front door.

Checks every request's SigV4 signature the way the service does, recomputing
it with botocore from what actually arrived (method, path, query, the headers
named in SignedHeaders, the body), and answers 403 in AWS's shape
{"message": "..."} on any mismatch. A request that passes is forwarded to the
real engine at --upstream and its answer relayed.

    gateway.py --listen 127.0.0.1:PORT --upstream http://127.0.0.1:9250 \\
        --region us-east-1 [--service es] \\
        [--access-key-id K --secret-access-key S [--session-token T]] \\
        [--credentials-file accepted.json]

The credentials file, read again whenever it changes, holds the sets that are
valid now (tests/aws/metadata.py writes it as it rotates credentials):

    {"credentials": [{"access_key_id": "...", "secret_access_key": "...",
                      "session_token": "..." or null,
                      "expiration": "2026-01-01T00:00:00Z" or null}]}

Prints "READY http://HOST:PORT" on stdout once listening (PORT 0 picks a free
port) and one line per request on stderr. Debian's /usr/bin/python3 with
python3-botocore; standard library otherwise.
"""

import argparse
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import sys
import threading
import urllib.parse
import uuid

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MAX_SKEW = datetime.timedelta(minutes=5)
MAX_BODY = 64 << 20
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailers", "transfer-encoding", "upgrade", "content-length", "host",
}

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$")

MSG_MISSING = "Missing Authentication Token"
MSG_INVALID_TOKEN = "The security token included in the request is invalid."
MSG_EXPIRED_TOKEN = "The security token included in the request is expired"
MSG_SIGNATURE = ("The request signature we calculated does not match the signature you "
                 "provided. Check your AWS Secret Access Key and signing method. Consult "
                 "the service documentation for details.")


class Refused(Exception):
    """A request the service would turn away: 403 with AWS's message."""


def parse_time(text):
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class Keyring:
    """The credentials the gateway accepts: fixed ones plus the file's, reloaded on change."""

    def __init__(self, fixed, path):
        self.fixed = fixed
        self.path = path
        self.lock = threading.Lock()
        self.stamp = None
        self.loaded = []

    def _reload(self):
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.loaded, self.stamp = [], None
            return
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self.stamp:
            return
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        self.loaded = [{
            "access_key_id": c["access_key_id"],
            "secret_access_key": c["secret_access_key"],
            "session_token": c.get("session_token"),
            "expiration": parse_time(c.get("expiration")),
        } for c in data.get("credentials", [])]
        self.stamp = stamp

    def find(self, access_key_id):
        with self.lock:
            if self.path:
                self._reload()
            for c in self.fixed + self.loaded:
                if c["access_key_id"] == access_key_id:
                    return c
        return None


def canonical_params(query):
    """The query as the service reads it: decoded pairs that botocore encodes again."""
    pairs = []
    for piece in query.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            pairs.append((urllib.parse.unquote(key), urllib.parse.unquote(value)))
    return pairs


class Verifier:
    def __init__(self, keyring, region, service):
        self.keyring = keyring
        self.region = region
        self.service = service

    def check(self, method, target, headers, body):
        """Returns the access key ID that signed the request, or raises Refused."""
        auth = headers.get("Authorization")
        if not auth:
            raise Refused(MSG_MISSING)
        m = AUTH_RE.match(auth.strip())
        if not m:
            raise Refused("Authorization header requires 'Credential', 'SignedHeaders' and "
                          "'Signature' parameters.")
        parts = m.group("credential").split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            raise Refused("Credential should be scoped to a valid region.")
        key_id, day, region, service, _ = parts
        self._check_scope(region, service)
        amz_date = self._check_date(headers, day)
        cred = self._check_key(key_id, headers)
        signed = m.group("signed").split(";")
        self._check_signed_headers(signed, headers)
        self._check_payload_hash(headers, body)
        expected = self._signature(cred, method, target, headers, signed, body, amz_date)
        if not hmac.compare_digest(expected, m.group("signature")):
            raise Refused(MSG_SIGNATURE)
        return key_id

    def _check_scope(self, region, service):
        if region != self.region:
            raise Refused(f"Credential should be scoped to a valid region, not '{region}'.")
        if service != self.service:
            raise Refused(f"Credential should be scoped to correct service: '{self.service}'.")

    @staticmethod
    def _check_date(headers, day):
        amz_date = headers.get("X-Amz-Date")
        if not amz_date:
            raise Refused("Authorization header requires existence of either a 'X-Amz-Date' "
                          "or a 'Date' header.")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            raise Refused(f"Invalid X-Amz-Date: {amz_date}") from None
        now = utcnow()
        if abs(now - when) > MAX_SKEW:
            stamp = now.strftime("%Y%m%dT%H%M%SZ")
            raise Refused(f"Signature expired: {amz_date} is now earlier than "
                          f"{(now - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')} ({stamp} - 5 min.)")
        if amz_date[:8] != day:
            raise Refused("Credential should be scoped to a valid date.")
        return amz_date

    def _check_key(self, key_id, headers):
        cred = self.keyring.find(key_id)
        if not cred:
            raise Refused(MSG_INVALID_TOKEN)
        if cred["expiration"] and utcnow() >= cred["expiration"]:
            raise Refused(MSG_EXPIRED_TOKEN)
        token = headers.get("X-Amz-Security-Token")
        if (cred["session_token"] or None) != (token or None):
            raise Refused(MSG_INVALID_TOKEN)
        return cred

    @staticmethod
    def _check_signed_headers(signed, headers):
        if signed != sorted(set(signed)) or "host" not in signed:
            raise Refused("'Host' must be a signed header; SignedHeaders must be sorted.")
        for name in signed:
            if headers.get(name) is None:
                raise Refused(f"Signed header '{name}' is missing from the request.")
        for name in headers.keys():
            lname = name.lower()
            if lname.startswith("x-amz-") and lname not in signed:
                raise Refused(f"Header '{lname}' must be signed.")

    @staticmethod
    def _check_payload_hash(headers, body):
        claimed = headers.get("X-Amz-Content-Sha256")
        if claimed is not None and claimed != hashlib.sha256(body).hexdigest():
            raise Refused("The provided 'x-amz-content-sha256' header does not match what "
                          "was computed.")

    def _signature(self, cred, method, target, headers, signed, body, amz_date):
        path, _, query = target.partition("?")
        signed_headers = {}
        for name in signed:
            # Repeated headers are joined in order, as SigV4 canonicalizes them.
            signed_headers[name] = ",".join(v.strip() for v in headers.get_all(name))
        request = AWSRequest(method=method, url=f"http://{headers['Host']}{path}",
                             data=body, headers=signed_headers)
        request.params = canonical_params(query)
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(cred["access_key_id"], cred["secret_access_key"],
                                       cred["session_token"]), self.service, self.region)
        canonical = signer.canonical_request(request)
        return signer.signature(signer.string_to_sign(request, canonical), request)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle's algorithm and the
    # client's delayed ACK hold every answer back ~40 ms on a kept-alive connection.
    disable_nagle_algorithm = True
    server_version = "esfs-aws-gateway"

    def log_message(self, fmt, *args):
        pass

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _refuse(self, message):
        body = json.dumps({"message": message}).encode()
        self._send(403, [("Content-Type", "application/json"),
                         ("x-amzn-RequestId", str(uuid.uuid4()))], body)

    def _upstream(self):
        conn = getattr(self, "upstream_conn", None)
        if conn is None:
            up = self.server.upstream
            conn = http.client.HTTPConnection(up.hostname, up.port or 80, timeout=60)
            self.upstream_conn = conn
        return conn

    def _forward(self, body, key_id):
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP and k.lower() != "authorization"
                   and not k.lower().startswith("x-amz-")}
        prefix = self.server.upstream.path.rstrip("/")
        for attempt in range(2):
            conn = self._upstream()
            try:
                conn.request(self.command, prefix + self.path, body=body or None,
                             headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self.upstream_conn = None
                if attempt:
                    raise
        relayed = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        # Logged before the answer goes out: a test that has its answer sees its line.
        self._log(resp.status, key_id)
        if self.command == "HEAD":
            self.send_response(resp.status)
            for name, value in relayed:
                self.send_header(name, value)
            self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
            self.end_headers()
        else:
            self._send(resp.status, relayed, data)
        return resp.status

    def _handle(self):
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._refuse("Request body could not be read.")
            return
        try:
            key_id = self.server.verifier.check(self.command, self.path, self.headers, body)
        except Refused as e:
            self._log(403, str(e))
            self._refuse(str(e))
            return
        try:
            self._forward(body, key_id)
        except (http.client.HTTPException, OSError) as e:
            self._log(502, str(e))
            self._send(502, [("Content-Type", "application/json")],
                       json.dumps({"message": f"upstream: {e}"}).encode())

    def _log(self, status, note):
        print(f"gateway: {self.client_address[0]}:{self.client_address[1]} {self.command} "
              f"{self.path} -> {status} ({note})", file=sys.stderr, flush=True)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def host_port(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", required=True, type=host_port, help="HOST:PORT (0: any free port)")
    p.add_argument("--upstream", required=True, help="the engine, http://HOST:PORT")
    p.add_argument("--region", required=True)
    p.add_argument("--service", default="es")
    p.add_argument("--access-key-id")
    p.add_argument("--secret-access-key")
    p.add_argument("--session-token")
    p.add_argument("--credentials-file", help="JSON of accepted credentials, reread on change")
    a = p.parse_args(argv)
    if bool(a.access_key_id) != bool(a.secret_access_key):
        p.error("--access-key-id and --secret-access-key go together")
    if not a.access_key_id and not a.credentials_file:
        p.error("give --access-key-id/--secret-access-key or --credentials-file")
    fixed = []
    if a.access_key_id:
        fixed.append({"access_key_id": a.access_key_id, "secret_access_key": a.secret_access_key,
                      "session_token": a.session_token, "expiration": None})
    server = Server(a.listen, Handler)
    server.upstream = urllib.parse.urlsplit(a.upstream)
    server.verifier = Verifier(Keyring(fixed, a.credentials_file), a.region, a.service)
    return serve(server)


def serve(server):
    """Says where it listens (the READY line the tests wait for), then serves until interrupted."""
    host, port = server.server_address[:2]
    print(f"READY http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
