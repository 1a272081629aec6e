#!/bin/bash
# Memory checks that mean something at exit (make check; alone: make check-valgrind). The C unit
# tests and the two streaming filters on real fixtures run under valgrind: no invalid access, no
# use of uninitialised memory, nothing lost. The unit tests' main process and the filters free
# all they hold; a child of the unit tests that ends in edu_die leaves the rest to exit(3), which
# valgrind sees as still reachable. Under SANITIZE=1 (binaries that valgrind cannot run) the same
# commands run with LeakSanitizer's check at exit, which the rest of the suite leaves off.
. "${EDU_ROOT:-.}/tests/lib.sh"

ANN=$FIX/annuaire-education/fr-en-annuaire-education_dept35_2023-06.csv
edu-csv2tsv "$ANN" >"$T/annuaire.tsv" || exit 70

# checked NAME CMD...: runs CMD under the memory checker; exit 0, nothing reported.
if [ "${EDU_SANITIZE:-}" = 1 ]; then
	checked() {
		local name=$1
		shift
		rm -f "$T"/lsan.*
		ASAN_OPTIONS=detect_leaks=1:log_path=$T/lsan run "$@"
		is_status 0 "$name (ASan, LSan at exit)"
		if ls "$T"/lsan.* >/dev/null 2>&1; then
			ok 1 "$name: no sanitizer report"
			sed 's/^/# /' "$T"/lsan.* | head -n 40
		else
			ok 0 "$name: no sanitizer report"
		fi
	}
elif command -v valgrind >/dev/null 2>&1; then
	# Every process: no error, nothing definitely, indirectly or possibly lost; the first
	# process (Parent PID: this script) nothing left at all.
	checked() {
		local name=$1 main
		shift
		rm -f "$T"/vg.*
		run valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
			--log-file="$T/vg.%p" "$@"
		is_status 0 "$name (valgrind)"
		# A process killed by a signal (the tests of signals) writes no summary: look for
		# the errors themselves too.
		if grep -Eq 'ERROR SUMMARY: [1-9]|Invalid (read|write|free)|uninitialised|Mismatched|overlap|lost in loss record' \
			"$T"/vg.*; then
			ok 1 "$name: no error in any process"
			grep -h '^==' "$T"/vg.* | head -n 60 | sed 's/^/# /'
		else
			ok 0 "$name: no error in any process"
		fi
		main=$(grep -l "Parent PID: $$\$" "$T"/vg.*)
		if grep -q 'All heap blocks were freed' "$main"; then
			ok 0 "$name: everything freed"
		else
			ok 1 "$name: everything freed"
			grep -h '^==' "$main" | head -n 60 | sed 's/^/# /'
		fi
	}
else
	skip 1 "valgrind is not installed (make deps installs it)"
	exit 0
fi

checked "unit tests" tests/unit/test-lib
is "$(grep -c '^ok' "$OUT")" "$(sed -n 's/^1\.\.//p' "$OUT")" "unit tests: all passed"
checked "edu-csv2tsv on the annuaire" edu-csv2tsv "$ANN"
checked "edu-csv2tsv, quoted records with CR LF" edu-csv2tsv -E "$FIX/edge/quoted-crlf.csv"
checked "edu-csv2tsv -e windows-1252" edu-csv2tsv -e windows-1252 "$FIX/edge/cp1252.csv"
checked "edu-normalize with rejects" edu-normalize -M "$EDU_ROOT/pipelines/annuaire.map" \
	-r "$T/rejects.tsv" "$T/annuaire.tsv"
checked "edu-normalize, the fixture map" edu-normalize -M "$FIX/normalize/schools.map" \
	-r "$T/rejects2.tsv" "$FIX/normalize/schools-bad.tsv"
