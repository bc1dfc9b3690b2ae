#!/usr/bin/env bash
# test.sh - the whole esfs test suite on a fresh Debian 12 machine, as root:
# installs what it needs, builds esfs twice (release and ASan + UBSan), fetches
# and starts real OpenSearch and Elasticsearch nodes on 127.0.0.1, runs the
# unit and mount tests with both builds, stops the engines, and ends with a
# line "N passed, N failed". Extra arguments go to pytest (e.g. -k tree).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh --asan
# Every engine the selected tests may start is fetched now: inside the
# namespace below nothing can be, and engine.sh says so (ESFS_ENGINE_OFFLINE).
# An engine whose JDK this machine lacks is fetched all the same; its tests
# skip, saying which JDK is missing.
for kind in $(/usr/bin/python3 tests/engines.py); do
	scripts/engine.sh fetch "$kind" >/dev/null
	scripts/engine.sh jdk "$kind" >/dev/null ||
		echo "test.sh: no JDK for $kind on this machine: its tests will be skipped" >&2
done

mkdir -p build/test-results
# The tests run in a network namespace of their own that has only loopback, so
# no test, and no default of esfs, can send a packet anywhere else. The engines
# start inside it. ESFS_TEST_SHARED_NET=1 runs in the machine's namespace, to
# use engines already running there.
# shellcheck disable=SC2016 # "$0" and "$@" are the inner shell's
isolate=(unshare --net -- sh -c 'ip link set lo up && exec "$0" "$@"')
if [ -n "${ESFS_TEST_SHARED_NET:-}" ]; then
	isolate=()
else
	export ESFS_TEST_ISOLATED=1
fi
export ESFS_ENGINE_OFFLINE=1
rc=0
# --durations: the slowest tests, printed before the count: CI must end within 45 minutes.
"${isolate[@]}" /usr/bin/python3 -m pytest tests -p no:cacheprovider -q -rfE --durations=30 \
	--junitxml=build/test-results/pytest.xml "$@" || rc=$?

/usr/bin/python3 - build/test-results/pytest.xml <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{total - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
# pytest exits 5 when it collected nothing: that is a failure here too.
exit "$rc"
