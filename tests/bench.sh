#!/bin/sh
# make bench: runs every tests/bench-*.sh in name order against the binaries in bin/. Each one
# prints its own numbers; generated inputs live in .bench/ (ignored by git). A benchmark is not
# a test: a missed target is reported, and the exit status is non-zero only when one crashed.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 71
PATH=$root/bin:$PATH
export PATH
mkdir -p .bench
status=0
for b in tests/bench-*.sh; do
	[ -f "$b" ] || continue
	echo "== $b"
	sh "$b" || status=1
done
exit "$status"
