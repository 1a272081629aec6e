#!/bin/bash
# The fault matrix of docs/RELIABILITY.md and its tests agree: every row of the table is a case
# (`fault ID STATUS TITLE`) of the test file its family's heading names, with the same exit
# status, and every case of tests/t/08*-faults-*.t is a row; no id twice; at least 40 rows; the
# rows named by "Found and fixed" and the known limitations exist.
. "${EDU_ROOT:-.}/tests/lib.sh"

doc=$EDU_ROOT/docs/RELIABILITY.md
# The table: "ID FILE STATUS" per row, FILE from the heading of the row's family.
awk '/^## / { in_matrix = ($0 == "## Fault matrix") }
	in_matrix && /^### / { file = ""; if (match($0, /`tests\/t\/[^`]*`/)) file = substr($0, RSTART + 9, RLENGTH - 10) }
	in_matrix && file != "" && /^\| [A-Z][0-9][0-9] \|/ { n = split($0, f, " \\| ")
		gsub(/^\| /, "", f[1]); print f[1], file, f[4] }' "$doc" >"$T/doc"
# The tests: "ID FILE STATUS" per case.
for t in "$EDU_ROOT"/tests/t/08*-faults-*.t; do
	awk -v file="$(basename "$t")" '/^fault [A-Z][0-9][0-9] [0-9]+ / { print $2, file, $3 }' "$t"
done >"$T/tests"

rows=$(wc -l <"$T/doc")
ok "$([ "$rows" -ge 40 ]; echo $?)" "the matrix has at least 40 rows ($rows)"
is "$(cut -d' ' -f1 "$T/doc" | sort | uniq -d | tr '\n' ' ')" "" "no id twice in the table"
is "$(cut -d' ' -f1 "$T/tests" | sort | uniq -d | tr '\n' ' ')" "" "no id twice in the tests"
while read -r id file st; do
	is "$(awk -v id="$id" '$1 == id { print $2, $3 }' "$T/tests")" "$file $st" \
		"$id: a case of $file, exit $st"
done <"$T/doc"
is "$(awk 'NR == FNR { row[$1] = 1; next } !($1 in row) { print $1 }' "$T/doc" "$T/tests" | tr '\n' ' ')" "" \
	"every case of the tests is a row of the table"
# The ids named anywhere in the section (fixed bugs, limitations, issue 10's points) are rows.
named=$(sed -n '/^## Fault matrix/,$p' "$doc" | grep -oE '\b[HDBPCS][0-9]{2}\b' | sort -u)
is "$(for id in $named; do grep -q "^$id " "$T/doc" || printf '%s ' "$id"; done)" "" \
	"the ids named outside the table are rows"
