#!/bin/sh
# Runs the test suite against the binaries in bin/: the C unit tests, then every tests/t/*.t
# (TAP, bash), with one throwaway PostgreSQL cluster for the whole run. Prints each failing
# test's output and ends with the line "N passed, N failed"; exits non-zero on any failure.
#   sh tests/run.sh [tests/t/NNNN-name.t ...]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 71
PATH=$root/bin:$PATH
EDU_ROOT=$root
export PATH EDU_ROOT
mkdir -p tests/tmp
EDU_TESTTMP=$(mktemp -d "$root/tests/tmp/run.XXXXXX")
# Temporary files and the production job's default lock live in the run's own directory, so two
# checkouts can run their tests at once.
TMPDIR=$EDU_TESTTMP
export EDU_TESTTMP TMPDIR

# make check SANITIZE=1: a sanitizer report anywhere fails the run, also one from a stage whose
# exit status no test looks at: ASan and UBSan write them into the run's directory, and a process
# that reported exits non-zero at once. LeakSanitizer's check at exit is off here: the tools leave
# what they hold to exit(3) on every fatal path (and some on success), which it counts as leaks;
# leaks are checked per input by the fuzzers and at exit by tests/t/0810-memory.t.
if [ "${EDU_SANITIZE:-}" = 1 ]; then
	mkdir -p "$EDU_TESTTMP/sanitizer"
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=0:log_path=$EDU_TESTTMP/sanitizer/asan
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$EDU_TESTTMP/sanitizer/ubsan
	export ASAN_OPTIONS UBSAN_OPTIONS
fi

sh tests/pg.sh start "$EDU_TESTTMP/pg" fast || { echo "run: cannot start PostgreSQL" >&2; exit 71; }
eval "$(sh tests/pg.sh env "$EDU_TESTTMP/pg")"
cleanup() {
	if [ -n "${EDU_KEEP:-}" ]; then
		sh tests/pg.sh stop "$EDU_TESTTMP/pg"
	else
		sh tests/pg.sh remove "$EDU_TESTTMP/pg"
		rm -rf "$EDU_TESTTMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ $# -eq 0 ]; then
	set -- tests/unit/test-lib tests/t/*.t
fi
passed=0
failed=0
for t in "$@"; do
	log=$EDU_TESTTMP/$(basename "$t").log
	case $t in
	*.t) bash "$t" >"$log" 2>&1 ;;
	*) "./$t" >"$log" 2>&1 ;;
	esac
	status=$?
	p=$(grep -c '^ok' "$log")
	f=$(grep -c '^not ok' "$log")
	plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	if [ "$status" -ne 0 ] || [ -z "$plan" ] || [ "$plan" -ne $((p + f)) ]; then
		# A script that died or ran a different number of tests than planned is a failure.
		[ "$f" -eq 0 ] && f=1
		echo "# $t: exit $status, plan ${plan:-missing}, ran $((p + f))"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if grep -q '^not ok' "$log" || [ "$status" -ne 0 ]; then
		echo "FAIL $t"
		sed 's/^/    /' "$log"
	else
		echo "ok   $t ($p)"
	fi
done
if [ -n "$(ls -A "$EDU_TESTTMP/sanitizer" 2>/dev/null)" ]; then
	echo "FAIL sanitizer reports (make check SANITIZE=1):"
	for f in "$EDU_TESTTMP"/sanitizer/*; do
		sed 's/^/    /' "$f"
	done
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
