#!/usr/bin/python3
"""A credential_process command for the tests: prints a new set of temporary
credentials in the process format (Version 1) and adds it to --accepted, the
file tests/aws/gateway.py --credentials-file reads, beside the sets there that
have not expired.

    process.py --accepted issued.json [--lifetime 20] [--fail-if FILE] [--count FILE]

--fail-if: while FILE exists, writes its text on stderr and exits 1 instead.
--count: appends a line to FILE at each run, for tests to count the runs.
Standard library only.
"""
import argparse
import datetime
import fcntl
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metadata  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accepted", required=True)
    p.add_argument("--lifetime", type=int, default=20)
    p.add_argument("--fail-if")
    p.add_argument("--count")
    a = p.parse_args()
    if a.count:
        with open(a.count, "a") as f:
            f.write("run\n")
    if a.fail_if and os.path.exists(a.fail_if):
        with open(a.fail_if) as f:
            sys.stderr.write(f.read())
        return 1
    with open(a.accepted + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        issuer = metadata.Issuer(a.accepted, a.lifetime)
        now = metadata.utcnow()
        try:
            with open(a.accepted) as f:
                kept = json.load(f)["credentials"]
        except FileNotFoundError:
            kept = []
        for c in kept:
            c["expiration"] = datetime.datetime.fromisoformat(c["expiration"].replace("Z", "+00:00"))
        issuer.issued = [c for c in kept if c["expiration"] > now]
        cred = issuer.issue()
    json.dump({"Version": 1, "AccessKeyId": cred["AccessKeyId"],
               "SecretAccessKey": cred["SecretAccessKey"], "SessionToken": cred["Token"],
               "Expiration": cred["Expiration"]}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
