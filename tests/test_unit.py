"""The C unit tests (tests/unit/), one pytest case per unit case and build
(the release build and, when present, the ASan + UBSan build)."""
import glob
import os
import subprocess

import pytest

from conftest import builds
from esfs_harness import ROOT


def unit_cases():
    for build in builds():
        pattern = os.path.join(ROOT, build, "tests", "unit", "test_*")
        binaries = sorted(p for p in glob.glob(pattern) if os.path.isfile(p) and os.access(p, os.X_OK))
        if not binaries:
            raise RuntimeError(f"no unit test binaries under {build}: build first")
        for binary in binaries:
            names = subprocess.run([binary, "--list"], capture_output=True, text=True,
                                   check=True).stdout.split()
            for name in names:
                yield pytest.param(binary, name, id=f"{build}::{os.path.basename(binary)}::{name}")


@pytest.mark.parametrize("binary,case", list(unit_cases()))
def test_unit(binary, case):
    env = dict(os.environ, ESFS_TEST_DATA=os.path.join(ROOT, "tests", "data"),
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    proc = subprocess.run([binary, case], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"PASS {case}" in proc.stdout
