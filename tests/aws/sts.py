#!/usr/bin/env python3
"""A loopback stand-in for AWS STS: moto's STS (moto.server) behind checks
that moto leaves out.

    sts.py --listen 127.0.0.1:PORT --accepted issued.json \\
        [--access-key-id K --secret-access-key S] [--region us-east-1] \\
        [--web-identity-token-file FILE] [--credentials-file source.json] [--lifetime S]

Every request is a Query API POST; its parameters are checked against
botocore's model of sts (required members, lengths, patterns, ranges) and its
Version against the model's. AssumeRole must be SigV4-signed for service sts
and the region; the signature is recomputed with botocore (tests/aws/gateway.py's
Verifier) for the fixed key or any set this stand-in issued (chained roles).
AssumeRoleWithWebIdentity must be unsigned and carry the token the file holds
at that moment. What passes goes to moto, whose answer is relayed; the
credentials in it are added to --accepted, the file tests/aws/gateway.py
--credentials-file reads. --credentials-file names more source keys (in that
file's format, reread on change); --lifetime shortens the Expiration moto
gives (STS's own minimum is 900 s) so that refreshes can be seen in seconds.

  GET  /_stats     counters and the requests seen (parameters without secrets)
  POST /_control   {"refuse": "AccessDenied" | null}: answer every call with that error

Prints "READY http://HOST:PORT". Needs moto and botocore (the suite's python3).
"""
import argparse
import datetime
import re
import json
import os
import socket
import sys
import tempfile
import threading
import http.server
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import ThreadedMotoServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway  # noqa: E402
import model  # noqa: E402

NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
STS = model.service("sts")


def error_xml(code, message, kind="Sender"):
    return (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            f"<Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>esfs-sts-standin</RequestId></ErrorResponse>")


class Issued:
    """The sets moto issued through here, published for the gateway."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.sets = []

    def add(self, cred):
        now = datetime.datetime.now(datetime.timezone.utc)
        with self.lock:
            self.sets = [c for c in self.sets if gateway.parse_time(c["expiration"]) > now] + [cred]
            doc = {"credentials": list(self.sets)}
        if self.path:
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(self.path)),
                                       prefix=".issued-")
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f)
            os.replace(tmp, self.path)

    def find(self, key_id):
        with self.lock:
            for c in self.sets:
                if c["access_key_id"] == key_id:
                    return dict(c, expiration=gateway.parse_time(c["expiration"]))
        return None


class Keyring(gateway.Keyring):
    """The fixed source key plus every set issued here: a role may assume another."""

    def __init__(self, fixed, path, issued):
        super().__init__(fixed, path)
        self.issued = issued

    def find(self, access_key_id):
        return super().find(access_key_id) or self.issued.find(access_key_id)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, content_type="text/xml"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log(self, action, status, note):
        print(f"sts: {action} -> {status} ({note})", file=sys.stderr, flush=True)

    def do_GET(self):
        if self.path == "/_stats":
            with self.server.lock:
                self._send(200, json.dumps(self.server.stats), "application/json")
        else:
            self._send(404, error_xml("NotFound", "GET is not the Query API here"))

    def _control(self, body):
        change = json.loads(body or b"{}")
        self.server.refuse = change.get("refuse")
        self._send(200, json.dumps({"refuse": self.server.refuse}), "application/json")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_control":
            return self._control(body)
        params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True,
                                             strict_parsing=False))
        action = params.pop("Action", None)
        version = params.pop("Version", None)
        try:
            status, answer, note = self._call(action, version, params, body)
        except Exception as e:  # noqa: BLE001 - a stand-in answers, whatever went wrong
            status, answer, note = 500, error_xml("InternalFailure", str(e), "Receiver"), "error"
        with self.server.lock:
            self.server.stats["requests"].append({
                "action": action, "status": status, "signed_by": note,
                "params": {k: v for k, v in params.items() if k != "WebIdentityToken"}})
        self._log(action, status, note)
        self._send(status, answer)

    def _call(self, action, version, params, body):
        if version != STS.api_version:
            return 400, error_xml("InvalidAction", f"Version {version} is not {STS.api_version}"), "-"
        if action not in ("AssumeRole", "AssumeRoleWithWebIdentity"):
            return 400, error_xml("InvalidAction", f"Could not find operation {action}"), "-"
        problems = model.check_input(STS.operation_model(action), params)
        if problems:
            return 400, error_xml("ValidationError", "; ".join(problems)), "-"
        if self.server.refuse:
            return 403, error_xml(self.server.refuse, f"esfs test: {action} refused"), "refused"
        if action == "AssumeRole":
            try:
                note = self.server.verifier.check("POST", self.path, self.headers, body)
            except gateway.Refused as e:
                return 403, error_xml("SignatureDoesNotMatch", str(e)), "bad signature"
        else:
            if self.headers.get("Authorization"):
                return 400, error_xml("InvalidParameterValue", "AssumeRoleWithWebIdentity is unsigned"), "-"
            with open(self.server.token_file) as f:
                want = f.read().strip()
            if params["WebIdentityToken"] != want:
                return 400, error_xml("InvalidIdentityToken", "the token is not the current one"), "-"
            note = "web identity"
        return self._moto(body, action) + (note,)

    def _moto(self, body, action):
        # moto's server tells services apart by the signature's scope: signed for sts, with a
        # key of moto's own (the caller's signature was checked above; moto does not check).
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        signed = AWSRequest(method="POST", url=self.server.moto_url, data=body, headers=headers)
        SigV4Auth(Credentials("AKIDMOTOSTANDIN", "moto"), "sts", "us-east-1").add_auth(signed)
        req = urllib.request.Request(self.server.moto_url, data=body,
                                     headers=dict(signed.headers.items()))
        with urllib.request.urlopen(req, timeout=10) as resp:
            answer = resp.read().decode()
        if self.server.lifetime:
            until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
                seconds=self.server.lifetime)
            answer = re.sub(r"<Expiration>[^<]*</Expiration>",
                            f"<Expiration>{until.strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration>", answer)
        creds = ET.fromstring(answer).find(f"{NS}{action}Result/{NS}Credentials")
        self.server.issued.add({
            "access_key_id": creds.find(f"{NS}AccessKeyId").text,
            "secret_access_key": creds.find(f"{NS}SecretAccessKey").text,
            "session_token": creds.find(f"{NS}SessionToken").text,
            "expiration": creds.find(f"{NS}Expiration").text})
        with self.server.lock:
            self.server.stats["issued"] += 1
        return 200, answer


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", required=True, type=gateway.host_port)
    p.add_argument("--accepted", help="where the issued sets go, for gateway.py --credentials-file")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--access-key-id")
    p.add_argument("--secret-access-key")
    p.add_argument("--session-token")
    p.add_argument("--web-identity-token-file")
    p.add_argument("--credentials-file", help="more source keys, in gateway.py's format")
    p.add_argument("--lifetime", type=int, default=0, help="seconds the issued sets last")
    a = p.parse_args(argv)
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    fixed = []
    if a.access_key_id:
        fixed.append({"access_key_id": a.access_key_id, "secret_access_key": a.secret_access_key,
                      "session_token": a.session_token, "expiration": None})
    server = Server(a.listen, Handler)
    server.moto_url = f"http://127.0.0.1:{port}/"
    server.issued = Issued(a.accepted)
    server.verifier = gateway.Verifier(Keyring(fixed, a.credentials_file, server.issued), a.region, "sts")
    server.token_file = a.web_identity_token_file
    server.lifetime = a.lifetime
    server.refuse = None
    server.lock = threading.Lock()
    server.stats = {"issued": 0, "requests": []}
    try:
        return gateway.serve(server)
    finally:
        moto.stop()


if __name__ == "__main__":
    sys.exit(main())
