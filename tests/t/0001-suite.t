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

# make install honours PREFIX and DESTDIR: binaries and pages land under DESTDIR/PREFIX only.
run make -s -C "$EDU_ROOT" install DESTDIR="$T/root" PREFIX=/opt/edu
is_status 0 "make install DESTDIR=... PREFIX=/opt/edu"
for tool in "$EDU_ROOT"/bin/edu-*; do
	name=$(basename "$tool")
	[ -x "$T/root/opt/edu/bin/$name" ]
	ok $? "installed bin/$name"
	[ -f "$T/root/opt/edu/share/man/man1/$name.1" ]
	ok $? "installed man1/$name.1"
done
[ -f "$T/root/opt/edu/share/man/man7/edu.7" ]
ok $? "installed man7/edu.7"
run "$T/root/opt/edu/bin/edu-csv2tsv" --version
is_status 0 "an installed tool runs"
run make -s -C "$EDU_ROOT" uninstall DESTDIR="$T/root" PREFIX=/opt/edu
is_status 0 "make uninstall"
is "$(find "$T/root" -type f | wc -l)" 0 "uninstall removes every installed file"
