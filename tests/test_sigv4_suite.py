"""build/sigv4-suite over the AWS SigV4 test suite, kept in tests/data/aws-sigv4."""
import os
import subprocess

import pytest

from conftest import builds
from esfs_harness import ROOT

SUITE = os.path.join(ROOT, "tests", "data", "aws-sigv4")


def suite_cases():
    return sorted(d for d in os.listdir(SUITE) if os.path.isdir(os.path.join(SUITE, d)))


@pytest.mark.parametrize("build", builds())
def test_every_case_of_the_aws_suite_passes(build):
    assert os.path.isdir(SUITE), f"the AWS SigV4 suite is expected at {SUITE}"
    proc = subprocess.run([os.path.join(ROOT, build, "sigv4-suite"), SUITE],
                          capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines == [f"PASS {case}" for case in suite_cases()]
    assert len(lines) >= 20


def test_a_broken_case_is_reported(tmp_path):
    """The runner can fail: a case whose expected signature was altered is a FAIL line."""
    case = suite_cases()[0]
    broken = tmp_path / case
    subprocess.run(["cp", "-r", os.path.join(SUITE, case), str(broken)], check=True)
    sig = broken / "header-signature.txt"
    text = sig.read_text()
    sig.write_text(("0" if text[0] != "0" else "1") + text[1:])
    proc = subprocess.run([os.path.join(ROOT, "build", "sigv4-suite"), str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert proc.stdout.startswith(f"FAIL {case}:")
