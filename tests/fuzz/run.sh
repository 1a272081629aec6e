#!/bin/sh
# Runs libFuzzer harnesses one after the other (make fuzz): each replays its kept crashes, then
# fuzzes for SECONDS on tests/fuzz/corpus/NAME (grown here, not committed) seeded from
# tests/fuzz/seeds/NAME, and fails on the first crash, hang (10 s), leak or sanitizer report,
# whose input libFuzzer leaves in tests/fuzz/artifacts/. One job at a time: the machines this runs
# on are shared. Prints each harness's final numbers, for docs/RELIABILITY.md.
#   sh tests/fuzz/run.sh SECONDS NAME...
set -u
cd "$(dirname "$0")/../.." || exit 71
secs=$1
shift
status=0
for name in "$@"; do
	bin=tests/fuzz/build/libfuzzer/fuzz-$name
	case $name in
	rules) max=256 ;;
	map) max=4096 ;;
	*) max=16384 ;;
	esac
	dict=
	[ -f "tests/fuzz/$name.dict" ] && dict=-dict=tests/fuzz/$name.dict
	mkdir -p "tests/fuzz/corpus/$name" tests/fuzz/artifacts
	if [ -d "tests/fuzz/regressions/$name" ]; then
		"$bin" -runs=0 "tests/fuzz/regressions/$name" >/dev/null 2>&1 || {
			echo "fuzz: $name: a kept crash in tests/fuzz/regressions/$name fails again" >&2
			status=1
			continue
		}
	fi
	echo "fuzz: $name for ${secs}s ($(date -u '+%Y-%m-%d %H:%M') UTC, $(git rev-parse --short HEAD 2>/dev/null))"
	log=tests/fuzz/artifacts/$name.log
	# shellcheck disable=SC2086 # $dict is one word or none
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$max" $dict \
		-print_final_stats=1 -artifact_prefix="tests/fuzz/artifacts/$name-" \
		"tests/fuzz/corpus/$name" "tests/fuzz/seeds/$name" >"$log" 2>&1
	st=$?
	# The edges instrumented, then the final line: executions, edges covered (cov), features
	# (ft), corpus kept in memory (corp), executions per second, peak memory.
	sed -n 's/^INFO: Loaded 1 modules *(\([0-9]*\) inline 8-bit counters).*/\1 edges instrumented/p' \
		"$log" | sed "s/^/fuzz: $name: /"
	grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed "s/^/fuzz: $name: /"
	if [ "$st" -ne 0 ]; then
		echo "fuzz: $name FAILED (exit $st); the report is in $log:" >&2
		grep -E -A25 'ERROR|broken promise|SUMMARY|Test unit written' "$log" | head -60 >&2
		status=1
	fi
done
exit "$status"
