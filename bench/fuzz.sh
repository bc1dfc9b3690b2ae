#!/usr/bin/env bash
# fuzz.sh - runs every libFuzzer harness of tests/fuzz for RUNS executions
# (default 1,000,000) from its corpus, JOBS at a time (default: the CPUs),
# and prints per harness: executions, seconds, new corpus entries, crashes.
# Exits 1 when a harness crashed, leaked or hit a sanitizer. New entries and
# crash inputs stay in OUT (default: a fresh folder under /tmp, printed);
# add those worth keeping to tests/fuzz/corpus/<harness>/ by hand.
#
#     bench/fuzz.sh [RUNS [HARNESS...]]   e.g. bench/fuzz.sh 100000 fuzz_render
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-1000000}
jobs=${JOBS:-$(nproc)}
out=${OUT:-$(mktemp -d /tmp/esfs-fuzz-XXXXXX)}
scripts/build.sh --fuzz

harnesses=("${@:2}")
if [ "${#harnesses[@]}" -eq 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do
		harnesses+=("$(basename "$src" .c)")
	done
fi

# One harness: its log, its new entries and its artifacts (crash-*, leak-*, timeout-*, oom-*) in out/NAME/.
run_one() {
	local name=$1 dir=$out/$1 rc=0
	mkdir -p "$dir/new"
	build-fuzz/tests/fuzz/"$name" -runs="$runs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$dir/" "$dir/new" "tests/fuzz/corpus/$name" >"$dir/log" 2>&1 || rc=$?
	echo "$rc" >"$dir/rc"
}

for name in "${harnesses[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	run_one "$name" &
done
wait

# libFuzzer's final stats: "stat::number_of_executed_units: N" and "Done N runs in S second(s)".
failed=0
printf '%-20s %12s %8s %6s %8s\n' harness executions seconds new crashes
for name in "${harnesses[@]}"; do
	dir=$out/$name
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$dir/log" | tail -1)
	new=$(find "$dir/new" -type f | wc -l)
	crashes=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | wc -l)
	if [ "$(cat "$dir/rc")" != 0 ] || [ "$crashes" != 0 ] ||
		grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|invariant broken' "$dir/log"; then
		failed=1
		[ "$crashes" != 0 ] || crashes=1
	fi
	printf '%-20s %12s %8s %6s %8s\n' "$name" "${execs:--}" "${secs:--}" "$new" "$crashes"
done
echo "logs, new entries and crash inputs: $out"
exit "$failed"
