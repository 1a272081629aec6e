#!/bin/bash
# The suite's own promises: the exit-code table in src/lib/edu.h equals the one in man/edu.7;
# every tool answers -h, --help and --version, refuses a bad option with exit 64, and its usage
# equals its man page's SYNOPSIS; every page has EXIT STATUS and EXAMPLES.
. "${EDU_ROOT:-.}/tests/lib.sh"

# The table as the code has it, and as edu.7 lists it (".It 64 Ta EDU_EX_USAGE Ta text").
"$EDU_ROOT/tests/unit/test-lib" --exit-table >"$T/code"
sed -n 's/^\.It \([0-9]*\) Ta Dv \(EDU_EX_[A-Z]*\) Ta \(.*\)$/\1\t\2\t\3/p' \
	"$EDU_ROOT/man/edu.7" >"$T/man"
same_file "$T/man" "$T/code" "exit-code table in edu.7 equals src/lib/edu.h"

synopsis() { # the SYNOPSIS of a man page, whitespace collapsed
	mandoc -Tascii -O width=400 "$1" | col -b |
		awk '/^SYNOPSIS/{f=1;next} /^[A-Z]/{f=0} f' | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

for tool in "$EDU_ROOT"/bin/edu-*; do
	[ -x "$tool" ] || continue
	name=$(basename "$tool")
	page=$EDU_ROOT/man/$name.1
	run "$tool" -h
	is_status 0 "$name -h"
	got=$(sed 's/^usage: //; s/^       //' "$OUT" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
	want=$(synopsis "$page")
	is "$got" "$want" "$name -h equals the SYNOPSIS of man/$name.1"
	run "$tool" --help
	is_status 0 "$name --help"
	run "$tool" --version
	is_status 0 "$name --version"
	is "$(cat "$OUT")" "$name 0.1.0" "$name --version prints name and version"
	run "$tool" -Z
	is_status 64 "$name refuses an unknown option"
	like_err "^usage: $name" "$name prints its usage on stderr for a bad option"
	for section in 'EXIT STATUS' EXAMPLES SYNOPSIS; do
		run grep -q "^\.Sh $section" "$page"
		is_status 0 "man/$name.1 has $section"
	done
done
for section in 'EXIT STATUS' EXAMPLES; do
	run grep -q "^\.Sh $section" "$EDU_ROOT/man/edu.7"
	is_status 0 "man/edu.7 has $section"
done
