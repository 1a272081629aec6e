#!/bin/bash
# The fuzzers' findings kept as tests. Each harness of tests/fuzz/ (built by `make check` with
# its replay main, and with ASan and UBSan under SANITIZE=1) runs once on every committed seed and
# every kept crash (tests/fuzz/regressions/NAME).
. "${EDU_ROOT:-.}/tests/lib.sh"

FUZZ=$EDU_ROOT/tests/fuzz
for h in csv2tsv tsv map rules; do
	for dir in seeds regressions; do
		[ -d "$FUZZ/$dir/$h" ] || continue
		run "$FUZZ/build/replay/fuzz-$h" "$FUZZ/$dir/$h"
		is_status 0 "fuzz-$h replays tests/fuzz/$dir/$h"
		is "$(cat "$OUT")" "$(find "$FUZZ/$dir/$h" -type f | wc -l)" "fuzz-$h ran every input of $dir/$h"
	done
done
