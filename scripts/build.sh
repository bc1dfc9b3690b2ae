#!/usr/bin/env bash
# build.sh - build esfs: build/ (release, -Werror) and, with --asan, build-asan/
# (AddressSanitizer + UndefinedBehaviorSanitizer, for the test suite); with
# --fuzz, build-fuzz/: the libFuzzer harnesses of tests/fuzz, compiled by clang.
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
case "${1:-}" in
--asan)
	setup build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
	;;
--fuzz)
	# CC counts only when the folder is first set up; meson keeps the compiler after that.
	CC=clang setup build-fuzz -Dfuzz=true
	;;
esac
