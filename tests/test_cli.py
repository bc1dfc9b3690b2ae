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
                   "log_level=L", "logfile=FILE", "compression=C",
                   "wait_for_cluster=S", "state_dir=DIR", "/var/lib/esfs", "~/.local/state/esfs",
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
    (("-o", "wait_for_cluster=0", "http://127.0.0.1:9", "/nonexistent"), "wait_for_cluster=0: expected a number of seconds from 1"),
    (("-o", "wait_for_cluster=soon", "http://127.0.0.1:9", "/nonexistent"), "wait_for_cluster=soon"),
    (("-o", "state_dir=", "http://127.0.0.1:9", "/nonexistent"), "state_dir= needs a directory"),
    (("-o", "cacert=no-such-ca.pem", "http://127.0.0.1:9", "/nonexistent"), "cacert=no-such-ca.pem: No such file"),
    (("ftp://127.0.0.1", "/tmp"), "expected an http:// or https:// URL"),
    (("-o", "credentials=/nonexistent", "http://127.0.0.1:9", "/tmp"), "/nonexistent"),
    (("-o", "aws_region=us-east-1", "http://127.0.0.1:9", "/tmp"), "aws_sigv4"),
    (("-o", "log_level=loud", "http://127.0.0.1:9", "/nonexistent"),
     "log_level=loud: expected error, warn, info or debug"),
    (("-o", "compression=brotli", "http://127.0.0.1:9", "/nonexistent"),
     "compression=brotli: expected auto, gzip or none"),
    (("-o", "logfile=/nonexistent/esfs.log", "http://127.0.0.1:9", "/nonexistent"),
     "logfile=/nonexistent/esfs.log: No such file or directory"),
])
def test_bad_arguments_are_refused_before_mounting(args, message):
    proc = esfs("build", *args)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr



def test_a_client_that_cannot_be_made_fails_the_start_and_leaves_no_mount(tmp_path):
    """esfs made its HTTP client inside FUSE's init and called exit(1) there when it could not:
    the mount stayed behind, dead ("Transport endpoint is not connected"). The client is made
    before mounting now, so the failure is the exit status and nothing is mounted."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = dict(os.environ, LD_PRELOAD=os.path.join(ROOT, "build", "tests", "unit", "libfailinit.so"))
    try:
        proc = subprocess.run([os.path.join(ROOT, "build", "esfs"), "-f", "http://127.0.0.1:9", str(mnt)],
                              env=env, capture_output=True, text=True, timeout=20)
        with open("/proc/mounts") as f:
            mounted = any(line.split()[1] == str(mnt) for line in f)
    finally:
        subprocess.run(["fusermount3", "-uz", str(mnt)], capture_output=True)
    assert proc.returncode != 0
    assert "cannot set up the HTTP client" in proc.stderr
    assert not mounted
