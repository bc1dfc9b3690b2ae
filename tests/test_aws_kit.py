"""Offline tests of the AWS deploy kit in scripts/aws/.

Run with Debian's interpreter: /usr/bin/python3 -m pytest tests/test_aws_kit.py
(needs python3-pytest and python3-yaml).

Nothing here reaches AWS. Every script runs with a PATH holding only a fake
`aws` (and a fake `awscurl`) ahead of /usr/bin:/bin:
  - in --dry-run tests the fakes record any call and the test fails if they
    were called at all;
  - in the "offline run" tests the fake `aws` answers from canned data, to
    exercise the non-dry-run branches (stack exists / does not, versioned
    bucket emptying, ...) without a network.

cfn-lint comes from $ESFS_CFN_LINT (default /var/tmp/esfs-venv/bin/cfn-lint);
cfn-lint and shellcheck tests skip when the tool is missing, except when CI
is set: there they fail.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "scripts" / "aws"
TEMPLATE = KIT / "esfs-domain.yaml"
DEPLOY = KIT / "deploy.sh"
RESTORE = KIT / "restore-test.sh"
TEARDOWN = KIT / "teardown.sh"
SCRIPTS = sorted(KIT.glob("*.sh"))
ENTRY_SCRIPTS = [DEPLOY, RESTORE, TEARDOWN]

REGION = "eu-west-1"
OPERATOR = "arn:aws:iam::123456789012:role/esfs-operator"
IN_CI = bool(os.environ.get("CI"))


def require_tool(path, what):
    if path and os.access(path, os.X_OK):
        return path
    if IN_CI:
        pytest.fail(f"{what} not found ({path}) and CI is set: it must run in CI")
    pytest.skip(f"{what} not found ({path})")


# --------------------------------------------------------------------------
# Linters


def test_cfn_lint_template_is_clean():
    cfn_lint = require_tool(
        os.environ.get("ESFS_CFN_LINT", "/var/tmp/esfs-venv/bin/cfn-lint"), "cfn-lint"
    )
    version = subprocess.run([cfn_lint, "--version"], capture_output=True, text=True)
    assert version.returncode == 0, version.stderr
    # Errors and warnings (the default) plus informational checks.
    r = subprocess.run(
        [cfn_lint, "--include-checks", "I", "--", str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0 and r.stdout.strip() == "", (
        f"cfn-lint ({version.stdout.strip()}) rc={r.returncode}\n{r.stdout}\n{r.stderr}"
    )


def test_shellcheck_scripts_are_clean():
    shellcheck = require_tool(shutil.which("shellcheck"), "shellcheck")
    assert SCRIPTS, "no scripts/aws/*.sh"
    r = subprocess.run(
        [shellcheck, "--external-sources", "--severity=style", *map(str, SCRIPTS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_scripts_are_strict_executable_bash():
    for script in ENTRY_SCRIPTS:
        text = script.read_text()
        assert text.startswith("#!/usr/bin/env bash\n"), script
        assert "set -euo pipefail" in text, script
        assert os.access(script, os.X_OK), f"{script} is not executable"
    for script in SCRIPTS:
        text = script.read_text()
        # Every AWS CLI call goes through run_aws: no bare "aws ..." command.
        for n, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0].strip()
            if script.name == "common.sh" and code == 'aws "$@"':
                continue  # inside run_aws
            assert not re.match(r"^(\$\(\s*)?aws\s", code), f"{script}:{n}: bare aws call: {line}"
        assert len(re.findall(r'^\s*aws "\$@"', text, re.M)) == (script.name == "common.sh")


# --------------------------------------------------------------------------
# Template


@pytest.fixture(scope="module")
def template():
    # Long-form intrinsics (Ref:, Fn::Sub:, Fn::GetAtt:) keep plain
    # yaml.safe_load working: no CloudFormation short tags.
    return yaml.safe_load(TEMPLATE.read_text())


def resources_of_type(template, rtype):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


def one_resource(template, rtype):
    found = resources_of_type(template, rtype)
    assert len(found) == 1, f"expected one {rtype}, found {list(found)}"
    return next(iter(found.items()))


def as_list(x):
    return x if isinstance(x, list) else [x]


def statements(doc):
    """(statement, conditional) pairs; Fn::If entries yield both branches."""
    for st in doc["Statement"]:
        if isinstance(st, dict) and "Fn::If" in st:
            for branch in st["Fn::If"][1:]:
                if branch != {"Ref": "AWS::NoValue"}:
                    yield branch, True
        else:
            yield st, False


def test_template_parameters(template):
    params = template["Parameters"]
    for name in (
        "EngineVersion",
        "DataInstanceType",
        "DataInstanceCount",
        "MasterInstanceType",
        "MasterInstanceCount",
        "AvailabilityZoneCount",
        "VolumeSize",
        "VolumeIops",
        "VolumeThroughput",
        "OperatorPrincipalArn",
        "SubnetIds",
        "SecurityGroupId",
        "SnapshotTransitionDays",
    ):
        assert name in params, name
    pattern = re.compile(params["EngineVersion"]["AllowedPattern"])
    assert params["EngineVersion"]["Default"] == "OpenSearch_2.19"
    for ok in ("OpenSearch_2.19", "Elasticsearch_7.10", "OpenSearch_1.3"):
        assert pattern.fullmatch(ok), ok
    for bad in ("opensearch_2.19", "OpenSearch-2.19", "Solr_9.0"):
        assert not pattern.fullmatch(bad), bad
    assert params["MasterInstanceCount"]["Default"] == 3
    assert sorted(params["AvailabilityZoneCount"]["AllowedValues"]) == [2, 3]
    # Optional parameters default to "off".
    assert params["SubnetIds"]["Default"] == ""
    assert params["SecurityGroupId"]["Default"] == ""
    assert params["SnapshotTransitionDays"]["Default"] == 0
    assert params["OperatorPrincipalArn"]["Default"] == ""


def test_template_domain_is_production_shaped(template):
    _, domain = one_resource(template, "AWS::OpenSearchService::Domain")
    p = domain["Properties"]
    assert p["EngineVersion"] == {"Ref": "EngineVersion"}
    cc = p["ClusterConfig"]
    assert cc["InstanceType"] == {"Ref": "DataInstanceType"}
    assert cc["InstanceCount"] == {"Ref": "DataInstanceCount"}
    assert cc["DedicatedMasterEnabled"] is True
    assert cc["DedicatedMasterType"] == {"Ref": "MasterInstanceType"}
    assert cc["DedicatedMasterCount"] == {"Ref": "MasterInstanceCount"}
    assert cc["ZoneAwarenessEnabled"] is True
    assert cc["ZoneAwarenessConfig"] == {"AvailabilityZoneCount": {"Ref": "AvailabilityZoneCount"}}
    ebs = p["EBSOptions"]
    assert ebs["EBSEnabled"] is True and ebs["VolumeType"] == "gp3"
    assert ebs["VolumeSize"] == {"Ref": "VolumeSize"}
    assert ebs["Iops"] == {"Ref": "VolumeIops"}
    assert ebs["Throughput"] == {"Ref": "VolumeThroughput"}
    assert p["EncryptionAtRestOptions"] == {"Enabled": True}
    assert p["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert p["DomainEndpointOptions"] == {
        "EnforceHTTPS": True,
        "TLSSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10",
    }
    # Optional VPC placement behind a condition.
    vpc = p["VPCOptions"]["Fn::If"]
    assert vpc[0] == "InVpc" and vpc[2] == {"Ref": "AWS::NoValue"}
    assert vpc[1]["SubnetIds"] == {"Ref": "SubnetIds"}
    assert "InVpc" in template["Conditions"] and "HasSecurityGroup" in template["Conditions"]
    # Access policy: the operator principal, es:ESHttp*, this domain only.
    (st,) = p["AccessPolicies"]["Statement"]
    assert st["Effect"] == "Allow" and st["Action"] == "es:ESHttp*"
    principal = st["Principal"]["AWS"]["Fn::If"]
    assert principal[0] == "HasOperatorPrincipal"
    assert principal[1] == {"Ref": "OperatorPrincipalArn"}
    assert st["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:es:${AWS::Region}:${AWS::AccountId}:domain/${DomainName}/*"
    }


def test_template_snapshot_bucket(template):
    name, bucket = one_resource(template, "AWS::S3::Bucket")
    p = bucket["Properties"]
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (sse,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    cond, kms, s3 = sse["Fn::If"]
    assert kms["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert s3["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    transition = [
        r["Fn::If"] for r in p["LifecycleConfiguration"]["Rules"] if "Fn::If" in r and r["Fn::If"][0] == "HasTransition"
    ]
    assert transition and transition[0][1]["Transitions"][0]["TransitionInDays"] == {
        "Ref": "SnapshotTransitionDays"
    }
    # TLS-only bucket policy.
    _, policy = one_resource(template, "AWS::S3::BucketPolicy")
    assert policy["Properties"]["Bucket"] == {"Ref": name}
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [
        {"Fn::GetAtt": [name, "Arn"]},
        {"Fn::Sub": "${%s.Arn}/*" % name},
    ]


def test_template_snapshot_role_grants_exactly_the_s3_actions(template):
    bucket_name, _ = one_resource(template, "AWS::S3::Bucket")
    roles = resources_of_type(template, "AWS::IAM::Role")
    (role_name,) = [
        n
        for n, r in roles.items()
        if any(
            s["Principal"] == {"Service": "es.amazonaws.com"}
            for s in r["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        )
    ]
    role = roles[role_name]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert "ManagedPolicyArns" not in role

    bucket_arn = {"Fn::GetAtt": [bucket_name, "Arn"]}
    objects_arn = {"Fn::Sub": "${%s.Arn}/*" % bucket_name}
    grants = set()
    for policy in role["Policies"]:
        for st, conditional in statements(policy["PolicyDocument"]):
            assert st["Effect"] == "Allow"
            assert "NotAction" not in st and "NotResource" not in st
            actions = as_list(st["Action"])
            if conditional:
                # Only the optional KMS statement is conditional.
                assert all(a.startswith("kms:") for a in actions), st
                continue
            for a in actions:
                assert "*" not in a, st
                for res in as_list(st["Resource"]):
                    grants.add((a, json.dumps(res, sort_keys=True)))
    assert grants == {
        ("s3:ListBucket", json.dumps(bucket_arn, sort_keys=True)),
        ("s3:GetObject", json.dumps(objects_arn, sort_keys=True)),
        ("s3:PutObject", json.dumps(objects_arn, sort_keys=True)),
        ("s3:DeleteObject", json.dumps(objects_arn, sort_keys=True)),
    }


def test_template_operator_policy(template):
    role_name, _ = one_resource(template, "AWS::IAM::Role")
    domain_name, _ = one_resource(template, "AWS::OpenSearchService::Domain")
    _, policy = one_resource(template, "AWS::IAM::ManagedPolicy")
    sts = [s for s, _ in statements(policy["Properties"]["PolicyDocument"])]
    (passrole,) = [s for s in sts if "iam:PassRole" in as_list(s["Action"])]
    assert as_list(passrole["Action"]) == ["iam:PassRole"]
    assert passrole["Resource"] == {"Fn::GetAtt": [role_name, "Arn"]}
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "es.amazonaws.com"}}
    (http,) = [s for s in sts if "es:ESHttp*" in as_list(s["Action"])]
    assert as_list(http["Action"]) == ["es:ESHttp*"]
    assert http["Resource"] == [
        {"Fn::GetAtt": [domain_name, "Arn"]},
        {"Fn::Sub": "${%s.Arn}/*" % domain_name},
    ]
    assert len(sts) == 2


def test_template_outputs_match_what_the_scripts_read(template):
    outputs = set(template["Outputs"])
    assert outputs == {
        "DomainEndpoint",
        "DomainArn",
        "SnapshotBucketName",
        "SnapshotRoleArn",
        "OperatorPolicyArn",
        "Region",
    }
    common = (KIT / "common.sh").read_text()
    m = re.search(r'^STACK_OUTPUT_KEYS="([^"]*)"', common, re.M)
    assert m and set(m.group(1).split()) == outputs


# --------------------------------------------------------------------------
# Scripts: a sandbox PATH with fake aws/awscurl


FAIL_FAKE = """#!/bin/sh
# Must never run in a --dry-run test.
printf '%s\\n' "$0 $*" >> "{log}"
echo "fake $0 called: $*" >&2
exit 97
"""


class Sandbox:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.called = tmp_path / "fake-called.log"
        (tmp_path / "home").mkdir()
        self.env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(tmp_path / "home"),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp_path),
            # Anything that would reach a real account if a fake were bypassed.
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        for name in ("aws", "awscurl"):
            self.fake(name, FAIL_FAKE.format(log=self.called))

    def fake(self, name, text):
        path = self.bin / name
        path.write_text(text)
        path.chmod(0o755)
        return path

    def run(self, script, *args, env=None, check_fakes_unused=True, timeout=60):
        r = subprocess.run(
            [str(script), *args],
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            cwd=self.tmp,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
        if check_fakes_unused:
            assert not self.called.exists(), "a real aws/awscurl would have run:\n" + self.called.read_text()
        return r


@pytest.fixture
def sandbox(tmp_path):
    return Sandbox(tmp_path)


def calls(stdout, prefix):
    """The printed commands starting with prefix ("aws ", "awscurl ", "esfs: ")."""
    out = []
    for line in stdout.splitlines():
        if line.startswith(prefix):
            out.append(shlex.split(line[len(prefix) :] if prefix == "esfs: " else line))
    return out


def flag(argv, name):
    assert argv.count(name) == 1, f"{name} not exactly once in {argv}"
    return argv[argv.index(name) + 1]


def values_after(argv, name):
    """Values of a multi-value flag (until the next --flag)."""
    i = argv.index(name) + 1
    vals = []
    while i < len(argv) and not argv[i].startswith("--"):
        vals.append(argv[i])
        i += 1
    return vals


def check_region_everywhere(aws_calls):
    for c in aws_calls:
        assert flag(c, "--region") == REGION, c


@pytest.mark.parametrize("script", ENTRY_SCRIPTS, ids=lambda p: p.name)
def test_help(sandbox, script):
    r = sandbox.run(script, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Usage: " + script.name)
    assert "--dry-run" in r.stdout
    r = sandbox.run(script, "-h")
    assert r.returncode == 0


@pytest.mark.parametrize("script", ENTRY_SCRIPTS, ids=lambda p: p.name)
def test_bad_usage_exits_2(sandbox, script):
    r = sandbox.run(script, "--dry-run")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "required" in r.stderr
    r = sandbox.run(script, "--no-such-option", "--dry-run")
    assert r.returncode == 2
    assert r.stdout == ""


def test_deploy_dry_run(sandbox):
    mnt = sandbox.tmp / "mnt"
    r = sandbox.run(
        DEPLOY,
        "--stack", "EsfsProd",
        "--region", REGION,
        "--engine-version", "Elasticsearch_7.10",
        "--operator-arn", OPERATOR,
        "--parameter", "DataInstanceCount=6",
        "--mount", str(mnt),
        "--repo", "s3-snaps",
        "--dry-run",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    aws = calls(r.stdout, "aws ")
    assert [c[1:3] for c in aws] == [
        ["cloudformation", "describe-stacks"],
        ["cloudformation", "deploy"],
        ["cloudformation", "wait"],
        ["cloudformation", "describe-stacks"],
    ]
    check_region_everywhere(aws)
    for c in aws:
        assert flag(c, "--stack-name") == "EsfsProd"
    deploy = aws[1]
    assert flag(deploy, "--template-file") == str(TEMPLATE)
    assert flag(deploy, "--capabilities") == "CAPABILITY_NAMED_IAM"
    assert "--no-fail-on-empty-changeset" in deploy
    assert values_after(deploy, "--parameter-overrides") == [
        "DomainName=esfsprod",
        "EngineVersion=Elasticsearch_7.10",
        f"OperatorPrincipalArn={OPERATOR}",
        "DataInstanceCount=6",
    ]
    assert aws[2][3] == "stack-create-complete"
    assert flag(aws[3], "--query") == "Stacks[0].Outputs[].[OutputKey,OutputValue]"
    assert "endpoint: https://<DomainEndpoint>" in r.stdout

    esfs = calls(r.stdout, "esfs: ")
    assert esfs[0] == ["mkdir", "-p", str(mnt)]
    # Mount: SigV4 and region as options, credentials from the AWS chain.
    assert esfs[1] == [
        str(ROOT / "build" / "esfs"),
        "-o",
        f"aws_sigv4,aws_region={REGION}",
        "https://<DomainEndpoint>",
        str(mnt),
    ]
    assert esfs[2] == ["mkdir", str(mnt / "s3-snaps")]
    printf, fmt, body, pipe, cat, redirect, target = esfs[3]
    assert (printf, fmt, pipe, cat, redirect) == ("printf", "%s\\n", "|", "cat", ">")
    assert target == str(mnt / "s3-snaps" / "_settings.json")
    assert json.loads(body) == {
        "type": "s3",
        "settings": {
            "bucket": "<SnapshotBucketName>",
            "region": REGION,
            "role_arn": "<SnapshotRoleArn>",
            "base_path": "esfs",
        },
    }
    mkdir_snap, cat_state = esfs[4], esfs[5]
    assert mkdir_snap[0] == "mkdir"
    snap = Path(mkdir_snap[1])
    assert snap.parent == mnt / "s3-snaps" and re.fullmatch(r"first-\d{8}-\d{6}", snap.name)
    assert cat_state == ["cat", str(snap / "state")]
    assert len(esfs) == 6
    assert not mnt.exists(), "dry run created the mount point"


def test_deploy_dry_run_minimal_stops_after_outputs(sandbox):
    r = sandbox.run(DEPLOY, "--stack", "esfs-test", "--region", REGION, "--dry-run")
    assert r.returncode == 0, r.stderr
    aws = calls(r.stdout, "aws ")
    assert [c[1:3] for c in aws] == [
        ["cloudformation", "describe-stacks"],
        ["cloudformation", "deploy"],
        ["cloudformation", "wait"],
        ["cloudformation", "describe-stacks"],
    ]
    # Only the domain name (derived from the stack) on create; the
    # template's defaults do the rest.
    assert values_after(aws[1], "--parameter-overrides") == ["DomainName=esfs-test"]
    assert calls(r.stdout, "esfs: ") == []
    assert "Next steps" in r.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--stack", "s", "--region", "nowhere"],
        ["--stack", "1bad", "--region", REGION],
        ["--stack", "esfs", "--region", REGION, "--engine-version", "Solr_9"],
        ["--stack", "esfs", "--region", REGION, "--operator-arn", "AKIAIOSFODNN7EXAMPLE"],
        ["--stack", "esfs", "--region", REGION, "--repo", "cs-automated-enc"],
        ["--stack", "esfs", "--region", REGION, "--parameter", "novalue"],
    ],
)
def test_deploy_rejects_bad_arguments(sandbox, args):
    r = sandbox.run(DEPLOY, *args, "--dry-run")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert calls(r.stdout, "aws ") == []


def test_teardown_dry_run(sandbox):
    r = sandbox.run(TEARDOWN, "--stack", "esfs", "--region", REGION, "--dry-run")
    assert r.returncode == 0, r.stderr
    aws = calls(r.stdout, "aws ")
    assert [c[1:3] for c in aws] == [
        ["cloudformation", "describe-stacks"],
        ["cloudformation", "describe-stacks"],
        ["s3", "rm"],
        ["s3api", "list-object-versions"],
        ["s3api", "delete-objects"],
        ["cloudformation", "delete-stack"],
        ["cloudformation", "wait"],
        ["s3api", "delete-bucket"],
    ]
    check_region_everywhere(aws)
    assert flag(aws[1], "--query") == "Stacks[0].EnableTerminationProtection"
    assert aws[2][3:5] == ["s3://<SnapshotBucketName>", "--recursive"]
    for c in aws[3:5] + aws[7:]:
        assert flag(c, "--bucket") == "<SnapshotBucketName>"
    assert "--no-paginate" in aws[3]
    assert flag(aws[3], "--query") == "[Versions, DeleteMarkers][].{Key: Key, VersionId: VersionId}"
    assert flag(aws[4], "--delete").startswith("file://")
    assert flag(aws[5], "--stack-name") == "esfs"
    assert aws[6][3] == "stack-delete-complete" and flag(aws[6], "--stack-name") == "esfs"


def test_teardown_dry_run_keep_bucket(sandbox):
    mnt = sandbox.tmp / "not-mounted"
    mnt.mkdir()
    r = sandbox.run(
        TEARDOWN, "--stack", "esfs", "--region", REGION, "--keep-bucket", "--mount", str(mnt), "--dry-run"
    )
    assert r.returncode == 0, r.stderr
    aws = calls(r.stdout, "aws ")
    assert [c[1:4] for c in aws] == [
        ["cloudformation", "describe-stacks", "--stack-name"],
        ["cloudformation", "describe-stacks", "--stack-name"],
        ["cloudformation", "delete-stack", "--stack-name"],
        ["cloudformation", "wait", "stack-delete-complete"],
    ]
    check_region_everywhere(aws)
    assert calls(r.stdout, "esfs: ") == []  # nothing mounted there


RESTORE_JSON = {
    "indices": "*,-.*",
    "rename_pattern": "(.+)",
    "rename_replacement": "restored-$1",
    "include_global_state": False,
}


def test_restore_test_dry_run(sandbox):
    mnt = "/mnt/esfs"
    r = sandbox.run(
        RESTORE,
        "--mount", mnt,
        "--repo", "s3-snapshots",
        "--snapshot", "first-20250101-000000",
        "--endpoint", "search-esfs.eu-west-1.es.amazonaws.com",
        "--region", REGION,
        "--dry-run",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert calls(r.stdout, "aws ") == []
    snapdir = f"{mnt}/s3-snapshots/first-20250101-000000"
    esfs = calls(r.stdout, "esfs: ")
    assert esfs[0] == ["cat", f"{snapdir}/indices"]
    assert esfs[1][-1] == f"{snapdir}/restore.json"
    assert json.loads(esfs[1][2]) == RESTORE_JSON
    assert esfs[2] == ["ls", f"{mnt}/_recovery/"]
    assert esfs[3] == ["grep", "DONE", f"{mnt}/_recovery/restored-<index>"]
    curl = calls(r.stdout, "awscurl ")
    base = "https://search-esfs.eu-west-1.es.amazonaws.com"
    assert curl == [
        ["awscurl", "--service", "es", "--region", REGION, "-X", "GET", f"{base}/_cat/count/<index>?h=count"],
        ["awscurl", "--service", "es", "--region", REGION, "-X", "GET", f"{base}/_cat/count/restored-<index>?h=count"],
        ["awscurl", "--service", "es", "--region", REGION, "-X", "DELETE", f"{base}/restored-<index>"],
    ]


def test_restore_test_refuses_automated_repo_names_only_by_syntax(sandbox):
    r = sandbox.run(RESTORE, "--mount", "/m", "--repo", "Bad Name", "--snapshot", "s", "--dry-run")
    assert r.returncode == 2


# --------------------------------------------------------------------------
# Offline runs (not --dry-run) against a fake aws that answers from canned data

FAKE_AWS = r'''#!/usr/bin/python3
import json, os, sys
args = sys.argv[1:]
state = os.environ["FAKE_STATE"]
with open(os.path.join(state, "calls.jsonl"), "a") as f:
    f.write(json.dumps(args) + "\n")
def opt(name):
    return args[args.index(name) + 1] if name in args else None
cmd = args[:2]
if cmd == ["cloudformation", "describe-stacks"]:
    if opt("--query") == "Stacks[0].StackStatus":
        status = os.environ.get("FAKE_STACK_STATUS", "")
        if not status:
            sys.stderr.write("An error occurred (ValidationError) when calling the DescribeStacks "
                             "operation: Stack with id %s does not exist\n" % opt("--stack-name"))
            sys.exit(254)
        print(status)
    elif opt("--query") == "Stacks[0].EnableTerminationProtection":
        print(os.environ.get("FAKE_PROTECTED", "False"))
    else:
        print("DomainEndpoint\tsearch-esfs-abc.eu-west-1.es.amazonaws.com")
        print("DomainArn\tarn:aws:es:eu-west-1:123456789012:domain/esfs")
        print("SnapshotBucketName\tesfs-snapshotbucket-1a2b3c")
        print("SnapshotRoleArn\tarn:aws:iam::123456789012:role/esfs-SnapshotRole-XYZ")
        print("OperatorPolicyArn\tarn:aws:iam::123456789012:policy/esfs-OperatorPolicy-XYZ")
        print("Region\teu-west-1")
elif cmd == ["cloudformation", "deploy"]:
    print(os.environ.get("FAKE_DEPLOY_OUTPUT", "Successfully created/updated stack"))
elif cmd == ["s3api", "list-object-versions"]:
    n_file = os.path.join(state, "listed")
    n = int(open(n_file).read()) if os.path.exists(n_file) else 0
    open(n_file, "w").write(str(n + 1))
    if n < int(os.environ.get("FAKE_VERSION_BATCHES", "0")):
        print(json.dumps([{"Key": "esfs/index-%d" % n, "VersionId": "v%d" % n},
                          {"Key": "esfs/meta-%d.dat" % n, "VersionId": "m%d" % n}], indent=4))
    else:
        print("[]")
elif cmd == ["s3api", "delete-objects"]:
    path = opt("--delete")[len("file://"):]
    with open(os.path.join(state, "deleted.jsonl"), "a") as f:
        f.write(json.dumps(json.load(open(path))) + "\n")
'''


class FakeAws:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.state = sandbox.tmp / "fake-state"
        self.state.mkdir()
        sandbox.fake("aws", FAKE_AWS)

    def run(self, script, *args, **env):
        return self.sandbox.run(
            script, *args, env={"FAKE_STATE": str(self.state), **env}, check_fakes_unused=False
        )

    def calls(self):
        path = self.state / "calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def fake_aws(sandbox):
    return FakeAws(sandbox)


def test_offline_deploy_creates_a_new_stack(fake_aws):
    r = fake_aws.run(DEPLOY, "--stack", "esfs", "--region", REGION)
    assert r.returncode == 0, r.stderr
    got = fake_aws.calls()
    assert [c[:3] for c in got] == [
        ["cloudformation", "describe-stacks", "--stack-name"],
        ["cloudformation", "deploy", "--stack-name"],
        ["cloudformation", "wait", "stack-create-complete"],
        ["cloudformation", "describe-stacks", "--stack-name"],
    ]
    assert values_after(got[1], "--parameter-overrides") == ["DomainName=esfs"]
    assert "endpoint: https://search-esfs-abc.eu-west-1.es.amazonaws.com" in r.stdout
    assert '"role_arn":"arn:aws:iam::123456789012:role/esfs-SnapshotRole-XYZ"' in r.stdout


def test_offline_deploy_update_without_changes_does_not_wait(fake_aws):
    r = fake_aws.run(
        DEPLOY, "--stack", "esfs", "--region", REGION,
        FAKE_STACK_STATUS="UPDATE_COMPLETE",
        FAKE_DEPLOY_OUTPUT="\nNo changes to deploy. Stack esfs is up to date",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = fake_aws.calls()
    assert [c[:2] for c in got] == [
        ["cloudformation", "describe-stacks"],
        ["cloudformation", "deploy"],
        ["cloudformation", "describe-stacks"],
    ]
    # On update nothing is overridden that was not asked for: no DomainName
    # (a new one would replace the domain).
    assert "--parameter-overrides" not in got[1]


def test_offline_deploy_update_waits_for_update(fake_aws):
    r = fake_aws.run(
        DEPLOY, "--stack", "esfs", "--region", REGION, "--engine-version", "OpenSearch_2.19",
        FAKE_STACK_STATUS="CREATE_COMPLETE",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = fake_aws.calls()
    assert got[2][:3] == ["cloudformation", "wait", "stack-update-complete"]
    assert values_after(got[1], "--parameter-overrides") == ["EngineVersion=OpenSearch_2.19"]


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "UPDATE_IN_PROGRESS"])
def test_offline_deploy_refuses_broken_or_busy_stack(fake_aws, status):
    r = fake_aws.run(DEPLOY, "--stack", "esfs", "--region", REGION, FAKE_STACK_STATUS=status)
    assert r.returncode == 1
    assert status in r.stderr
    assert [c[:2] for c in fake_aws.calls()] == [["cloudformation", "describe-stacks"]]


def test_offline_teardown_empties_every_version(fake_aws):
    r = fake_aws.run(TEARDOWN, "--stack", "esfs", "--region", REGION, "--yes", FAKE_VERSION_BATCHES="2")
    assert r.returncode == 0, r.stderr
    got = fake_aws.calls()
    assert [c[:2] for c in got] == [
        ["cloudformation", "describe-stacks"],
        ["cloudformation", "describe-stacks"],
        ["s3", "rm"],
        ["s3api", "list-object-versions"],
        ["s3api", "delete-objects"],
        ["s3api", "list-object-versions"],
        ["s3api", "delete-objects"],
        ["s3api", "list-object-versions"],
        ["cloudformation", "delete-stack"],
        ["cloudformation", "wait"],
        ["s3api", "delete-bucket"],
    ]
    assert got[2][2] == "s3://esfs-snapshotbucket-1a2b3c"
    assert flag(got[-1], "--bucket") == "esfs-snapshotbucket-1a2b3c"
    deleted = [json.loads(line) for line in (fake_aws.state / "deleted.jsonl").read_text().splitlines()]
    assert deleted == [
        {
            "Quiet": True,
            "Objects": [
                {"Key": f"esfs/index-{n}", "VersionId": f"v{n}"},
                {"Key": f"esfs/meta-{n}.dat", "VersionId": f"m{n}"},
            ],
        }
        for n in range(2)
    ]


def test_offline_teardown_stops_on_termination_protection(fake_aws):
    r = fake_aws.run(TEARDOWN, "--stack", "esfs", "--region", REGION, "--yes", FAKE_PROTECTED="True")
    assert r.returncode == 1
    assert "termination protection" in r.stderr
    # Nothing deleted, the bucket untouched.
    assert [c[:2] for c in fake_aws.calls()] == [["cloudformation", "describe-stacks"]] * 2


FAKE_AWSCURL = r'''#!/usr/bin/python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_AWSCURL_LOG"], "a") as f:
    f.write(json.dumps(args) + "\n")
url = args[-1]
if "/_cat/count/" in url:
    index = url.split("/_cat/count/")[1].split("?")[0]
    counts = json.loads(os.environ["FAKE_COUNTS"])
    print(counts[index])
else:
    print('{"acknowledged":true}')
'''


def fake_mount(tmp_path, indices):
    mnt = tmp_path / "mnt"
    snap = mnt / "s3-snapshots" / "snap-1"
    snap.mkdir(parents=True)
    (mnt / "_recovery").mkdir()
    (snap / "state").write_text("SUCCESS\n")
    (snap / "indices").write_text("".join(i + "\n" for i in indices))
    return mnt, snap


def recover_when_restore_starts(mnt, snap, names):
    """Plays the cluster: once restore.json is written, show the recoveries."""

    def play():
        deadline = time.time() + 20
        while not (snap / "restore.json").exists() and time.time() < deadline:
            time.sleep(0.05)
        for name in names:
            (mnt / "_recovery" / name).write_text("shard 0 stage INDEX\n")
        time.sleep(0.3)
        for name in names:
            (mnt / "_recovery" / name).write_text("shard 0 stage DONE 100.0%\n")

    t = threading.Thread(target=play, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("restored_count,rc", [(42, 0), (41, 1)])
def test_offline_restore_test(sandbox, restored_count, rc):
    mnt, snap = fake_mount(sandbox.tmp, ["logs", ".kibana_1", "metrics"])
    log = sandbox.tmp / "awscurl.jsonl"
    sandbox.fake("awscurl", FAKE_AWSCURL)
    t = recover_when_restore_starts(mnt, snap, ["restored-logs", "restored-metrics"])
    counts = {"logs": 42, "restored-logs": restored_count, "metrics": 7, "restored-metrics": 7}
    r = sandbox.run(
        RESTORE,
        "--mount", str(mnt), "--repo", "s3-snapshots", "--snapshot", "snap-1",
        "--endpoint", "https://search-esfs.eu-west-1.es.amazonaws.com", "--region", REGION,
        env={"ESFS_POLL_INTERVAL": "0.1", "FAKE_AWSCURL_LOG": str(log), "FAKE_COUNTS": json.dumps(counts)},
        check_fakes_unused=False,
    )  # fmt: skip
    t.join()
    assert r.returncode == rc, r.stderr
    assert json.loads((snap / "restore.json").read_text()) == RESTORE_JSON
    got = [json.loads(line) for line in log.read_text().splitlines()]
    base = "https://search-esfs.eu-west-1.es.amazonaws.com"
    assert [(c[c.index("-X") + 1], c[-1]) for c in got] == [
        ("GET", f"{base}/_cat/count/logs?h=count"),
        ("GET", f"{base}/_cat/count/restored-logs?h=count"),
        ("GET", f"{base}/_cat/count/metrics?h=count"),
        ("GET", f"{base}/_cat/count/restored-metrics?h=count"),
        ("DELETE", f"{base}/restored-logs"),
        ("DELETE", f"{base}/restored-metrics"),
    ]
    assert ("MISMATCH" in r.stdout) == (rc == 1)
    assert not (sandbox.tmp / "fake-called.log").exists()  # no aws call at all


def test_offline_restore_test_without_awscurl_is_honest(sandbox):
    mnt, snap = fake_mount(sandbox.tmp, ["logs"])
    (sandbox.bin / "awscurl").unlink()
    t = recover_when_restore_starts(mnt, snap, ["restored-logs"])
    r = sandbox.run(
        RESTORE, "--mount", str(mnt), "--repo", "s3-snapshots", "--snapshot", "snap-1",
        env={"ESFS_POLL_INTERVAL": "0.1"},
    )  # fmt: skip
    t.join()
    assert r.returncode == 0, r.stderr
    assert "document counts NOT compared: needs awscurl" in r.stdout
    assert "restored copies NOT deleted" in r.stdout
    assert "-X DELETE '<endpoint>/restored-logs'" in r.stdout or "-X DELETE <endpoint>/restored-logs" in r.stdout
