"""The command line, as FUSE filesystems have it: --help, --version, bad arguments."""
import os
import subprocess

import pytest

from conftest import builds
from esfs_harness import ROOT


def esfs(build, *args):
    return subprocess.run([os.path.join(ROOT, build, "esfs"), *args], capture_output=True,
                          text=True, timeout=20)


@pytest.mark.parametrize("build", builds())
def test_help_lists_esfs_and_fuse_options(build):
    proc = esfs(build, "--help")
    assert proc.returncode == 0
    out = proc.stdout + proc.stderr
    assert out.startswith("usage: ") and "URL[,URL...] MOUNTPOINT" in out
    for option in ("credentials=FILE", "cacert=FILE", "insecure", "connect_timeout=S", "timeout=S",
                   "write_timeout=S", "cache_ttl=S", "nodelete", "aws_sigv4", "aws_region=R",
                   "allow_other", "-f ", "-d "):
        assert option in out, option


@pytest.mark.parametrize("build", builds())
def test_version_names_the_libraries(build):
    proc = esfs(build, "--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("esfs ")
    for lib in ("libfuse", "libcurl", "cJSON"):
        assert lib in proc.stdout


@pytest.mark.parametrize("args,message", [
    ((), "usage:"),
    (("http://127.0.0.1:9",), "usage:"),
    (("-o", "timeout=soon", "http://127.0.0.1:9", "/tmp"), "timeout=soon: expected a number of seconds"),
    (("-o", "cache_ttl=-1", "http://127.0.0.1:9", "/tmp"), "cache_ttl=-1"),
    # curl takes a timeout of 0 as none at all; below a second every request fails. (A mount
    # point that does not exist: an esfs that took these would fail later, saying something else.)
    (("-o", "timeout=0", "http://127.0.0.1:9", "/nonexistent"), "timeout=0: expected a number of seconds from 1"),
    (("-o", "timeout=0.5", "http://127.0.0.1:9", "/nonexistent"), "timeout=0.5"),
    (("-o", "connect_timeout=0", "http://127.0.0.1:9", "/nonexistent"), "connect_timeout=0"),
    (("-o", "write_timeout=0", "http://127.0.0.1:9", "/nonexistent"), "write_timeout=0"),
    (("-o", "cacert=no-such-ca.pem", "http://127.0.0.1:9", "/nonexistent"), "cacert=no-such-ca.pem: No such file"),
    (("ftp://127.0.0.1", "/tmp"), "expected an http:// or https:// URL"),
    (("-o", "credentials=/nonexistent", "http://127.0.0.1:9", "/tmp"), "/nonexistent"),
    (("-o", "aws_region=us-east-1", "http://127.0.0.1:9", "/tmp"), "aws_sigv4"),
])
def test_bad_arguments_are_refused_before_mounting(args, message):
    proc = esfs("build", *args)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr

