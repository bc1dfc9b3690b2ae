"""No leaks and no memory errors under valgrind for a mount, use and unmount cycle."""
import os
import re
import shutil
import signal
import subprocess

import pytest

from esfs_harness import ROOT, Mount


@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind is installed by scripts/test.sh")
def test_mount_use_unmount_under_valgrind(engine, repo, unique, tmp_path):
    engine.snapshot(repo, "one", {"indices": engine.make_index(unique("v")),
                                  "include_global_state": False})
    log = tmp_path / "valgrind.log"
    m = Mount(engine.url, ["cache_ttl=0", f"logfile={tmp_path / 'esfs.log'}"], binary=os.path.join(ROOT, "build", "esfs"))
    real_argv = m.argv
    m.argv = lambda: ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
                      "--show-leak-kinds=definite,indirect", "--error-exitcode=99",
                      f"--log-file={log}", *real_argv()]
    m.start(timeout=60)
    try:
        subprocess.run(["ls", "-lR", m.path], capture_output=True, check=True, timeout=120)
        subprocess.run(["find", m.path, "-type", "f", "-exec", "cat", "{}", "+"],
                       capture_output=True, check=True, timeout=120)
        with pytest.raises(FileNotFoundError):
            os.stat(m.p(repo, "missing"))
        # The write side too: a snapshot, a refused restore, invalid JSON, a delete.
        os.mkdir(m.p(repo, "two"))
        assert m.read(repo, "two", "wait") == "SUCCESS\n"
        with pytest.raises(FileExistsError):
            with open(m.p(repo, "two", "restore.json"), "w") as f:
                f.write('{"indices": "*"}')
        with pytest.raises(OSError):
            with open(m.p(repo, "two", "restore.json"), "w") as f:
                f.write("{bad")
        os.rmdir(m.p(repo, "two"))
        # A restore drill: refused, then run and waited for, its report read.
        with pytest.raises(OSError):
            with open(m.p(repo, "one", "drill"), "w") as f:
                f.write('{"indices": 1}')
        with open(m.p(repo, "one", "drill"), "w") as f:
            f.write("{}")
        assert m.json(repo, "one", "drill-wait")["state"] == "passed"
        # A policy: refused, kept, planned, run (it takes today's snapshot), removed.
        with pytest.raises(OSError):
            with open(m.p(repo, "_policy.json"), "w") as f:
                f.write('{"name": "d-%Y", "every": "1d", "keep": {"daily": 1}}')
        with open(m.p(repo, "_policy.json"), "w") as f:
            f.write('{"name": "d-%Y.%m.%d", "every": "1d", "max_age": "1d", "min_count": 0}')
        assert "take\t" in m.read(repo, "_policy", "plan")
        with open(m.p(repo, "_policy", "run"), "w") as f:
            f.write("run\n")
        assert m.json(repo, "_policy", "last")["result"] == "done"
        os.unlink(m.p(repo, "_policy.json"))
        # A flush by the file and by SIGHUP (its thread, joined at unmount), into a log file.
        with open(m.p("_esfs", "flush"), "w") as f:
            f.write("1\n")
        m.proc.send_signal(signal.SIGHUP)
        m.read("_esfs", "metrics")
    finally:
        rc = m.stop()
    report = log.read_text()
    assert rc == 0, report[-4000:]
    assert re.search(r"ERROR SUMMARY: 0 errors", report), report[-4000:]
    assert "definitely lost" not in report or re.search(r"definitely lost: 0 bytes", report)
