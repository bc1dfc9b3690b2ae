#!/usr/bin/env python3
"""A loopback stand-in for the IAM Identity Center portal's GetRoleCredentials
(moto has no "sso" service, only "sso-admin").

    sso.py --listen 127.0.0.1:PORT --accepted issued.json --access-token TOKEN \\
        [--account-id 123456789012] [--role-name esfs-reader] [--lifetime 20]

Where the request goes and what it carries is read from botocore's model of
sso: the operation is the one whose http method and requestUri match, and its
input members are taken from the query string and headers their "location"
names, then checked (required members, lengths, patterns) by
tests/aws/model.py. The bearer token must be --access-token, the account and
role the ones given. Each answer issues a new set valid for --lifetime
seconds and publishes it, with the ones still valid, to --accepted (the file
tests/aws/gateway.py --credentials-file reads), as tests/aws/metadata.py does.

  GET /_stats   counters

Prints "READY http://HOST:PORT". Needs botocore.
"""
import argparse
import json
import os
import sys
import threading
import http.server
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gateway  # noqa: E402
import metadata  # noqa: E402
import model  # noqa: E402

SSO = model.service("sso")


def find_operation(method, path):
    for name in SSO.operation_names:
        op = SSO.operation_model(name)
        if op.http["method"] == method and op.http["requestUri"].split("?")[0] == path:
            return op
    return None


def request_params(op, query, headers):
    """The operation's members as the request carries them, by their wire names."""
    params = {}
    for name, shape in op.input_shape.members.items():
        where, wire = shape.serialization.get("location"), shape.serialization.get("name", name)
        if where == "querystring" and wire in query:
            params[wire] = query.pop(wire)
        elif where == "header" and headers.get(wire) is not None:
            params[wire] = headers.get(wire)
    params.update(query)  # whatever is left is not a member: check_input says so
    return params


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, doc, error_type=None):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        print(f"sso: {self.command} {self.path.split('?')[0]} -> {status}", file=sys.stderr,
              flush=True)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/_stats":
            with self.server.issuer.lock:
                return self._send(200, dict(self.server.issuer.stats))
        op = find_operation("GET", path)
        if op is None or op.name != "GetRoleCredentials":
            return self._send(404, {"message": f"no operation at GET {path}"}, "NotFoundException")
        params = request_params(op, dict(urllib.parse.parse_qsl(query, keep_blank_values=True)),
                                self.headers)
        problems = model.check_input(op, params)
        if problems:
            return self._send(400, {"message": "; ".join(problems)}, "InvalidRequestException")
        token = op.input_shape.members["accessToken"].serialization["name"]
        if params[token] != self.server.access_token:
            self.server.issuer.count("refused")
            return self._send(401, {"message": "Session token not found or invalid"},
                              "UnauthorizedException")
        if (params["account_id"], params["role_name"]) != (self.server.account, self.server.role):
            self.server.issuer.count("refused")
            return self._send(403, {"message": "No access"}, "ForbiddenException")
        cred = self.server.issuer.issue()
        expiration = gateway.parse_time(cred["Expiration"])
        self.server.issuer.count("portal")
        self._send(200, {"roleCredentials": {
            "accessKeyId": cred["AccessKeyId"], "secretAccessKey": cred["SecretAccessKey"],
            "sessionToken": cred["Token"], "expiration": int(expiration.timestamp() * 1000)}})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", required=True, type=gateway.host_port)
    p.add_argument("--accepted")
    p.add_argument("--access-token", required=True)
    p.add_argument("--account-id", default="123456789012")
    p.add_argument("--role-name", default="esfs-reader")
    p.add_argument("--lifetime", type=int, default=20)
    a = p.parse_args(argv)
    server = Server(a.listen, Handler)
    server.issuer = metadata.Issuer(a.accepted, a.lifetime)
    server.issuer.stats["portal"] = 0
    server.access_token = a.access_token
    server.account, server.role = a.account_id, a.role_name
    return gateway.serve(server)


if __name__ == "__main__":
    sys.exit(main())
