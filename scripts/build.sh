#!/usr/bin/env bash
# build.sh - build esfs: build/ (release, -Werror) and, with --asan, build-asan/
# (AddressSanitizer + UndefinedBehaviorSanitizer, for the test suite).
set -euo pipefail
cd "$(dirname "$0")/.."

setup() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir" >&2
}

setup build
if [ "${1:-}" = "--asan" ]; then
	setup build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
fi
