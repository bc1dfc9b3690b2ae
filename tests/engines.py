"""Which engines the suite runs on, in one place: conftest.py starts them, and
scripts/test.sh fetches them (python3 tests/engines.py) before it cuts the
network off.

ESFS_TEST_ENGINES picks the engines (default: all four below). Every test runs
on the main engines; the tree, backup and outage tests also run on the extra
majors, with the release build. tests/test_auth.py adds elasticsearch-secure,
which is the elasticsearch distribution with security on.
"""
import os
import sys

MAIN_ENGINES = ["opensearch", "elasticsearch"]
EXTRA_ENGINES = ["opensearch3", "elasticsearch7"]
SECURE_ENGINE = "elasticsearch-secure"


def engine_kinds():
    wanted = os.environ.get("ESFS_TEST_ENGINES", ",".join(MAIN_ENGINES + EXTRA_ENGINES))
    return [k for k in wanted.split(",") if k]


def kinds_to_fetch():
    """Every kind a run of the suite may start: the selected ones, and the secure one."""
    return engine_kinds() + [SECURE_ENGINE]


if __name__ == "__main__":
    print(" ".join(kinds_to_fetch()))
    sys.exit(0)
