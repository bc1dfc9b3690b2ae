#!/usr/bin/env bash
# install-deps.sh - install what esfs needs to build, mount and test on Debian 12.
# scdoc builds the manual page; man-db and groff-base render it in the tests;
# build-essential (which dpkg-buildpackage checks for), dpkg-dev and debhelper
# build the Debian package (debian/), and systemd-analyze (systemd) checks its
# units; clang builds the libFuzzer harnesses (scripts/build.sh --fuzz).
# Idempotent; needs root. The engines themselves come later, from Maven Central
# (scripts/engine.sh fetch).
set -euo pipefail

PACKAGES=(
	gcc clang meson ninja-build pkg-config
	libfuse3-dev fuse3 libcurl4-openssl-dev libcjson-dev libssl-dev
	curl unzip maven iproute2 util-linux
	python3 python3-pytest python3-botocore python3-yaml python3-venv
	shellcheck valgrind jq
	rsync restic tar
	scdoc man-db groff-base build-essential dpkg-dev debhelper systemd
	prometheus
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps.sh: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

# A JDK for the engines: any 17 or newer will do; the machine usually has one.
if ! ls /usr/lib/jvm/*/bin/java >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >&2
fi

# Some containers have FUSE in the kernel but no device node.
if [ ! -e /dev/fuse ]; then
	mknod /dev/fuse c 10 229
	chmod 0666 /dev/fuse
fi

# From PyPI into a venv of their own: cfn-lint, for the AWS kit's template
# check, and moto's server, behind the STS stand-in (tests/aws/sts.py).
: "${ESFS_VENV:=/var/tmp/esfs-venv}"
if [ ! -x "$ESFS_VENV/bin/python3" ]; then
	/usr/bin/python3 -m venv "$ESFS_VENV" >&2
fi
if [ ! -x "$ESFS_VENV/bin/cfn-lint" ]; then
	"$ESFS_VENV/bin/pip" install -q cfn-lint >&2
fi
if ! "$ESFS_VENV/bin/python3" -c 'import moto.server, flask' 2>/dev/null; then
	"$ESFS_VENV/bin/pip" install -q "moto[server]" >&2
fi
