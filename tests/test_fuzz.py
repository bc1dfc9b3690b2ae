"""The libFuzzer harnesses of tests/fuzz, one case each: every file of the
harness's corpus again (the inputs that once crashed are there), then a
short run of new inputs. No engine: they fuzz the parsers alone.

build-fuzz/ is built first (scripts/build.sh --fuzz, clang). bench/fuzz.sh
runs them for long."""
import glob
import os
import subprocess
import tempfile

import pytest

from esfs_harness import ROOT

FUZZ_DIR = os.path.join(ROOT, "tests", "fuzz")
BUILD_DIR = os.path.join(ROOT, "build-fuzz", "tests", "fuzz")
SHORT_RUN_SECONDS = 5
# What a sanitizer or libFuzzer prints when it finds something, whatever the exit status.
REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
           "ERROR: libFuzzer", "invariant broken", "SUMMARY: ")

HARNESSES = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(FUZZ_DIR, "fuzz_*.c")))


@pytest.fixture(scope="module")
def built():
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "build.sh"), "--fuzz"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    return BUILD_DIR


def run(binary, args, timeout):
    proc = subprocess.run([binary, *args], capture_output=True, text=True, errors="replace",
                          timeout=timeout)
    output = proc.stdout + proc.stderr
    found = [r for r in REPORTS if r in output]
    assert proc.returncode == 0 and not found, f"exit {proc.returncode}, {found}:\n{output[-6000:]}"
    return output


@pytest.mark.parametrize("harness", HARNESSES)
def test_fuzz(built, harness):
    binary = os.path.join(built, harness)
    corpus = os.path.join(FUZZ_DIR, "corpus", harness)
    inputs = sorted(os.path.join(corpus, f) for f in os.listdir(corpus))
    assert inputs, f"{corpus} is empty"
    # (a) The corpus, one input at a time: a crash names its file.
    run(binary, inputs, timeout=120)
    # (b) New inputs for a while; what they add and any crash go to a scratch folder, not the corpus.
    with tempfile.TemporaryDirectory(prefix=f"esfs-{harness}-") as scratch:
        new = os.path.join(scratch, "new")
        os.mkdir(new)
        out = run(binary, [f"-max_total_time={SHORT_RUN_SECONDS}", "-timeout=10",
                           f"-artifact_prefix={scratch}/", new, corpus],
                  timeout=SHORT_RUN_SECONDS + 60)
        assert "Done" in out
